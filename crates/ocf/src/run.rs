//! The entry point: `argv[1]` to an action, the environment to typed data, the parameters to
//! an identity and settings under the bad-configuration rule ([`crate::config`]), the action
//! to an exit code, and a panic to OCF_ERR_GENERIC with a logged reason.

use crate::action::Action;
use crate::agent::{Agent, Context};
use crate::config::{self, Resolution};
use crate::env::Env;
use crate::error::{Error, Result};
use crate::metadata::Metadata;
use crate::params::Params;
use crate::status::Status;
use crate::text::one_line;
use std::io::Write;
use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;

pub use crate::text::EXIT_REASON_PREFIX;

/// Run agent `A` as Pacemaker invokes it. Its `main` is `ocf::run::<A>()`.
pub fn run<A: Agent>() -> ExitCode {
    // Lossy: an argument that is not UTF-8 must not panic before the panic handler runs.
    let args: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let status = run_with::<A>(
        &args,
        Env::from_process,
        &mut std::io::stdout().lock(),
        &mut std::io::stderr(),
    );
    status.into()
}

/// The actions an agent with `metadata` implements: those it lists (`status` counts as
/// `monitor`), plus `meta-data`, which every agent answers.
pub fn implemented_actions(metadata: &Metadata) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let listed = metadata.actions.iter().map(|a| a.name.as_str());
    for name in listed.chain(["meta-data"]) {
        if !names.iter().any(|n| n == name) {
            names.push(name.to_owned());
        }
    }
    names
}

fn implements(metadata: &Metadata, action: Action) -> bool {
    implemented_actions(metadata)
        .iter()
        .any(|name| name.parse::<Action>().is_ok_and(|listed| listed == action))
}

fn usage<A: Agent>(out: &mut dyn Write) {
    let _ = writeln!(
        out,
        "{name} {stamp}\n\
         usage: {name} {{{actions}}}\n       {name} --version\n\
         Parameters come from OCF_RESKEY_* environment variables; see `{name} meta-data`.",
        name = A::NAME,
        stamp = crate::version::stamp(),
        actions = Metadata::parse(A::METADATA)
            .map(|m| implemented_actions(&m).join("|"))
            .unwrap_or_default(),
    );
}

/// Run with explicit arguments, environment and streams (for tests). `err` receives the usage
/// text and the exit reason; log records go to the process's stderr and syslog.
pub fn run_with<A: Agent>(
    args: &[String],
    env: impl FnOnce() -> Result<Env>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Status {
    let Some(word) = args.get(1) else {
        usage::<A>(err);
        return Status::ErrArgs;
    };
    let action = match word.parse::<Action>() {
        Ok(a) => a,
        Err(e) => {
            if let Some(status) = run_helper::<A>(word, &args[2..], env) {
                return status;
            }
            let _ = writeln!(err, "{}", one_line(&e.to_string()));
            usage::<A>(err);
            return Status::ErrUnimplemented;
        }
    };
    match action {
        // meta-data needs nothing from the environment and runs as any user.
        Action::MetaData => {
            return match out.write_all(A::METADATA.as_bytes()) {
                Ok(()) => Status::Success,
                Err(_) => Status::ErrGeneric,
            };
        }
        Action::Usage => {
            usage::<A>(out);
            return Status::Success;
        }
        Action::Version => {
            let _ = writeln!(out, "{} {}", A::NAME, crate::version::stamp());
            return Status::Success;
        }
        _ => {}
    }

    let outcome = catch_panics(|| {
        let env = env()?;
        crate::log::init(A::NAME, &env);
        dispatch::<A>(action, env)
    });
    match outcome {
        Ok(status) => status,
        Err(e) => {
            if matches!(e.status(), Status::Degraded | Status::DegradedPromoted) {
                // Running, and Pacemaker treats it as such: not a failure of the action.
                log::warn!("{action}: {}", e.reason());
            } else {
                log::error!("{} failed: {}", action, e.reason());
            }
            let _ = writeln!(err, "{EXIT_REASON_PREFIX}{}", one_line(e.reason()));
            e.status()
        }
    }
}

/// `argv[1]` is no action: one of the agent's helper modes ([`Agent::helper`]), under the same
/// logging and panic handling, or None.
fn run_helper<A: Agent>(
    mode: &str,
    args: &[String],
    env: impl FnOnce() -> Result<Env>,
) -> Option<Status> {
    if !mode.starts_with("--") {
        return None;
    }
    let env = env().ok()?;
    crate::log::init(A::NAME, &env);
    let mut known = true;
    let outcome = catch_panics(|| {
        A::helper(mode, args, &env).unwrap_or_else(|| {
            known = false;
            Ok(Status::ErrUnimplemented)
        })
    });
    if !known {
        return None;
    }
    Some(outcome.unwrap_or_else(|e| {
        log::error!("{mode} failed: {}", e.reason());
        e.status()
    }))
}

/// Run `f`, turning a panic into OCF_ERR_GENERIC with the panic's message as the reason. The
/// default hook's "thread 'main' panicked" text is replaced by a log record.
fn catch_panics(f: impl FnOnce() -> Result<Status>) -> Result<Status> {
    let previous = panic::take_hook();
    panic::set_hook(Box::new(|info| {
        log::error!("internal error: {info}");
    }));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    panic::set_hook(previous);
    result.unwrap_or_else(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_owned());
        Err(Error::generic(format!("internal error (panic): {what}")))
    })
}

fn dispatch<A: Agent>(action: Action, env: Env) -> Result<Status> {
    let metadata = Metadata::parse(A::METADATA)?;
    if !implements(&metadata, action) {
        return Err(Error::unimplemented(format!(
            "action {action} is not implemented by {}",
            A::NAME
        )));
    }
    let params = Params::new(metadata, &env);
    let ctx = Context::new(action, env);
    for name in params.unknown() {
        log::warn!("ignoring parameter {name}: {} does not have it", A::NAME);
    }
    log::debug!(
        "{action} begins; deadline in {:?}",
        ctx.deadline.remaining()
    );
    let (identity, settings) = match config::resolve::<A>(&ctx, &params) {
        Resolution::Run(identity, settings) => (identity, settings),
        Resolution::Finish(result) => return result,
    };
    let agent = A::new(identity, settings, &ctx)?;
    let status = match action {
        Action::Start => agent.start(&ctx),
        Action::Stop => agent.stop(&ctx),
        Action::Monitor => agent.monitor(&ctx),
        Action::Promote => agent.promote(&ctx),
        Action::Demote => agent.demote(&ctx),
        Action::Notify => agent.notify(&ctx),
        Action::ReloadAgent => agent.reload_agent(&ctx),
        Action::Reload => agent.reload(&ctx),
        Action::MigrateTo => agent.migrate_to(&ctx),
        Action::MigrateFrom => agent.migrate_from(&ctx),
        Action::ValidateAll => agent.validate(&ctx).map(|()| Status::Success),
        Action::MetaData | Action::Usage | Action::Version => Ok(Status::Success),
    }?;
    log::debug!("{action} ends: {status}");
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::{Identity, Policy, Presence, Settings};

    const XML: &str = r#"<?xml version="1.0"?>
<resource-agent name="dummy"><version>1.1</version>
<parameters>
 <parameter name="state" required="1"><content type="string"/></parameter>
 <parameter name="fail"><content type="string" default=""/></parameter>
 <parameter name="why"><content type="string" default="asked to fail"/></parameter>
</parameters><actions>
<action name="start" timeout="20s"/>
<action name="stop" timeout="20s"/>
<action name="monitor" timeout="20s" interval="10s"/>
<action name="promote" timeout="20s"/>
<action name="validate-all" timeout="20s"/>
</actions></resource-agent>
"#;

    struct Dummy {
        fail: Option<String>,
        why: String,
    }

    struct State(#[allow(dead_code)] String);

    struct DummySettings {
        fail: Option<String>,
        why: String,
    }

    impl Identity for State {
        const PARAMS: &'static [&'static str] = &["state"];
        fn parse(params: &Params, _ctx: &Context) -> Result<State> {
            params.required("state").map(State)
        }
    }

    impl Settings<State> for DummySettings {
        fn parse(params: &Params, _: &State, _ctx: &Context) -> Result<DummySettings> {
            Ok(DummySettings {
                fail: params.string("fail"),
                why: params.string("why").unwrap_or_default(),
            })
        }
    }

    impl Agent for Dummy {
        const METADATA: &'static str = XML;

        fn presence_without_identity(_: &Params, _ctx: &Context) -> Result<Presence> {
            Ok(Presence::Absent("dummies leave nothing behind".into()))
        }
        fn new(_: State, s: DummySettings, _ctx: &Context) -> Result<Dummy> {
            Ok(Dummy {
                fail: s.fail,
                why: s.why,
            })
        }

        fn helper(mode: &str, args: &[String], _env: &Env) -> Option<Result<Status>> {
            (mode == "--helper").then(|| match args.first().map(String::as_str) {
                Some("panic") => panic!("helper boom"),
                Some(_) => Err(Error::args("bad helper arguments")),
                None => Ok(Status::Success),
            })
        }
    }

    impl Policy for Dummy {
        type Identity = State;
        type Settings = DummySettings;

        fn validate(&self, _ctx: &Context) -> Result<()> {
            match self.fail.as_deref() {
                Some("no-program") => Err(Error::installed("no /usr/sbin/dummyd")),
                _ => Ok(()),
            }
        }

        fn start(&self, ctx: &Context) -> Result<Status> {
            self.validate(ctx)?;
            match self.fail.as_deref() {
                Some("panic") => panic!("boom"),
                Some(code) => Err(Error::new(
                    Status::from_code(code.parse().unwrap()).unwrap(),
                    self.why.clone(),
                )),
                None => Ok(Status::Success),
            }
        }
        fn stop(&self, _ctx: &Context) -> Result<Status> {
            Ok(Status::Success)
        }
        fn monitor(&self, ctx: &Context) -> Result<Status> {
            Ok(if ctx.is_probe() {
                Status::NotRunning
            } else {
                Status::Success
            })
        }
    }

    fn run(args: &[&str], vars: &[(&str, &str)]) -> (Status, String, String) {
        let args: Vec<String> = std::iter::once("dummy")
            .chain(args.iter().copied())
            .map(str::to_owned)
            .collect();
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let status = run_with::<Dummy>(&args, || Env::from_vars(vars), &mut out, &mut err);
        (
            status,
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        )
    }

    #[test]
    fn missing_action_is_usage_and_2() {
        let (status, _, err) = run(&[], &[]);
        assert_eq!(status, Status::ErrArgs);
        assert!(err.contains("usage: dummy"));
    }

    #[test]
    fn unknown_action_is_3() {
        let (status, _, err) = run(&["explode"], &[]);
        assert_eq!(status, Status::ErrUnimplemented);
        assert!(err.contains("unknown action \"explode\""), "{err}");
    }

    #[test]
    fn a_helper_mode_runs_through_the_same_error_and_panic_handling() {
        assert_eq!(run(&["--helper"], &[]).0, Status::Success);
        assert_eq!(run(&["--helper", "x"], &[]).0, Status::ErrArgs);
        assert_eq!(run(&["--helper", "panic"], &[]).0, Status::ErrGeneric);
        let (status, _, err) = run(&["--other"], &[]);
        assert_eq!(status, Status::ErrUnimplemented, "not a mode of this agent");
        assert!(err.contains("unknown action"), "{err}");
    }

    #[test]
    fn meta_data_needs_no_environment() {
        let (status, out, _) = run(&["meta-data"], &[]);
        assert_eq!(status, Status::Success);
        assert_eq!(out, XML);
    }

    #[test]
    fn usage_lists_only_the_implemented_actions_and_the_version() {
        let (status, out, _) = run(&["usage"], &[]);
        assert_eq!(status, Status::Success);
        assert!(
            out.contains("usage: dummy {start|stop|monitor|promote|validate-all|meta-data}"),
            "{out}"
        );
        assert!(!out.contains("demote") && !out.contains("notify"), "{out}");
        assert!(
            out.starts_with(&format!("dummy {}", crate::version::VERSION)),
            "{out}"
        );
        assert!(out.contains("--version"), "{out}");
    }

    #[test]
    fn version_prints_the_build_stamp() {
        let (status, out, err) = run(&["--version"], &[]);
        assert_eq!(status, Status::Success);
        assert_eq!(out, format!("dummy {}\n", crate::version::stamp()));
        assert!(err.is_empty());
    }

    #[test]
    fn missing_required_parameter_is_6_with_reason() {
        let (status, _, err) = run(&["start"], &[]);
        assert_eq!(status, Status::ErrConfigured);
        assert!(
            err.contains("ocf-exit-reason:required parameter state is not set"),
            "{err}"
        );
        let (status, _, err) = run(&["validate-all"], &[]);
        assert_eq!(status, Status::ErrConfigured);
        assert!(err.contains("state"));
    }

    #[test]
    fn stop_and_probe_without_identity_follow_the_rule() {
        let (status, _, err) = run(&["stop"], &[]);
        assert_eq!(status, Status::Success);
        assert!(err.is_empty(), "{err}");
        assert_eq!(run(&["monitor"], &[]).0, Status::NotRunning);
    }

    #[test]
    fn a_missing_program_is_5_at_validate_all_and_start() {
        let vars = [("OCF_RESKEY_state", "x"), ("OCF_RESKEY_fail", "no-program")];
        for action in ["validate-all", "start"] {
            let (status, _, err) = run(&[action], &vars);
            assert_eq!(status, Status::ErrInstalled, "{action}");
            assert!(err.contains("dummyd"), "{err}");
        }
    }

    #[test]
    fn every_error_code_passes_through_with_one_line_reason() {
        for status in Status::ALL.into_iter().filter(|s| *s != Status::Success) {
            let code = status.code().to_string();
            let (got, _, err) = run(
                &["start"],
                &[
                    ("OCF_RESKEY_state", "x"),
                    ("OCF_RESKEY_fail", &code),
                    ("OCF_RESKEY_why", "asked\nto fail"),
                ],
            );
            assert_eq!(got, status);
            assert_eq!(err, "ocf-exit-reason:asked\\nto fail\n");
        }
    }

    #[test]
    fn success_and_probe() {
        let ok = [("OCF_RESKEY_state", "x")];
        assert_eq!(run(&["start"], &ok).0, Status::Success);
        assert_eq!(run(&["monitor"], &ok).0, Status::NotRunning);
        assert_eq!(run(&["status"], &ok).0, Status::NotRunning);
        let recurring = [
            ("OCF_RESKEY_state", "x"),
            ("OCF_RESKEY_CRM_meta_interval", "10000"),
        ];
        assert_eq!(run(&["monitor"], &recurring).0, Status::Success);
        assert_eq!(run(&["validate-all"], &ok).0, Status::Success);
    }

    #[test]
    fn actions_the_metadata_does_not_list_are_3() {
        let ok = [("OCF_RESKEY_state", "x")];
        for action in ["demote", "notify", "reload-agent", "migrate_to"] {
            let (status, _, err) = run(&[action], &ok);
            assert_eq!(status, Status::ErrUnimplemented, "{action}");
            assert!(err.contains("not implemented"), "{err}");
        }
        let (status, _, err) = run(&["promote"], &ok);
        assert_eq!(
            status,
            Status::ErrUnimplemented,
            "listed but not written: {err}"
        );
    }

    /// Issue 17 "Everyone": Pacemaker takes the LAST `ocf-exit-reason:` anywhere in stderr,
    /// so a value carrying `\rocf-exit-reason:` must not forge a second reason.
    #[test]
    fn a_value_cannot_forge_a_second_exit_reason() {
        let (status, _, err) = run(
            &["start"],
            &[
                ("OCF_RESKEY_state", "x"),
                ("OCF_RESKEY_fail", "1"),
                ("OCF_RESKEY_why", "eth0\rocf-exit-reason:all is well\n"),
            ],
        );
        assert_eq!(status, Status::ErrGeneric);
        assert_eq!(err.matches("ocf-exit-reason:").count(), 1, "{err:?}");
        assert_eq!(err.lines().count(), 1, "{err:?}");
        assert!(!err.contains('\r'), "{err:?}");
    }

    #[test]
    fn panic_becomes_generic_error_with_reason() {
        let (status, _, err) = run(
            &["start"],
            &[("OCF_RESKEY_state", "x"), ("OCF_RESKEY_fail", "panic")],
        );
        assert_eq!(status, Status::ErrGeneric);
        assert!(
            err.contains("ocf-exit-reason:internal error (panic): boom"),
            "{err}"
        );
    }

    #[test]
    fn bad_environment_is_reported() {
        let (status, _, err) = run(
            &["start"],
            &[
                ("OCF_RESKEY_state", "x"),
                ("OCF_RESKEY_CRM_meta_timeout", "never"),
            ],
        );
        assert_eq!(status, Status::ErrConfigured);
        assert!(err.contains("CRM_meta_timeout"), "{err}");
    }
}
