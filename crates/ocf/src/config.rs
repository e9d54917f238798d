//! The bad-configuration rule: what every action does when a parameter is wrong. It lives
//! here, once, and `ocf::run` applies it before any action of any agent runs.
//!
//! A configuration has two tiers ([`Identity`], [`Settings`]): the identity, which finds the
//! resource on this node, and the settings, everything else. The rule, by action:
//!
//! | action | bad setting | unusable identity |
//! |---|---|---|
//! | validate-all, start, promote, reload, reload-agent, migrate_* | exit 6 with the first bad value as the reason (every one logged) | exit 6 with the reason |
//! | probe (monitor, interval 0) | runs with the XML default in place of each bad value, which is logged as an error: the probe reports the resource's real state | 7 when [`Agent::presence_without_identity`] says nothing matching can run here (reason logged); otherwise it fails with the reason |
//! | stop | as probe: stop never needs a bad setting to stop | 0 when nothing matching can run here (reason logged); otherwise it fails with the reason |
//! | recurring monitor, demote, notify | as probe | fails with the reason |
//!
//! Why: exit 6 bans the resource, for a clone on every node, and a failed stop fences the
//! node. A typo in a setting (`run_fsck=yes`) must cost neither while the resource runs; it
//! is refused where it would take effect (validate-all, start), and logged as an error on
//! every other action until it is fixed.
//!
//! How the action gets usable settings: [`Settings::parse`] names the parameter it refuses
//! ([`Error::bad_param`]); the rule parses again with that value rejected, so its XML default
//! stands in (the parser can tell with [`Params::is_rejected`] and choose not to judge by it),
//! and so on until the settings parse. An error that names no setting rejects every setting
//! the administrator gave at once. Every setting must therefore parse from its default alone,
//! which `testing::assert_params_match_metadata` checks for each agent.

use crate::action::Action;
use crate::agent::{Agent, Context, Identity, Presence, Settings};
use crate::error::{Error, Result};
use crate::params::Params;
use crate::status::Status;

/// True for the actions that refuse any bad value: those that put a configuration into
/// effect. The others observe, undo or inform, and go on with the XML default.
pub fn refuses_bad_settings(action: Action) -> bool {
    !matches!(
        action,
        Action::Monitor | Action::Stop | Action::Demote | Action::Notify
    )
}

/// What the rule decided for one invocation.
#[derive(Debug)]
pub enum Resolution<I, S> {
    /// Run the action with this identity and these settings.
    Run(I, S),
    /// The action ends here, with this result (the rule answered it, or refused).
    Finish(Result<Status>),
}

/// Apply the rule to `params` for `ctx.action`.
pub fn resolve<A: Agent>(ctx: &Context, params: &Params) -> Resolution<A::Identity, A::Settings> {
    let identity = match <A::Identity as Identity>::parse(params, ctx) {
        Ok(identity) => identity,
        Err(e) => return Resolution::Finish(unidentified::<A>(ctx, params, e)),
    };
    let (settings, errors) = settings_with_defaults::<A>(params, &identity, ctx);
    if refuses_bad_settings(ctx.action) {
        if let Some((first, rest)) = errors.split_first() {
            for e in rest {
                log::error!("{}", e.reason());
            }
            return Resolution::Finish(Err(first.clone()));
        }
    } else {
        for e in &errors {
            log::error!(
                "{}; {} goes on with the default of the parameter (validate-all and start \
                 refuse it)",
                e.reason(),
                ctx.action
            );
        }
    }
    match settings {
        Ok(settings) => Resolution::Run(identity, settings),
        Err(e) => Resolution::Finish(Err(e)),
    }
}

/// The names of `params` the administrator gave that are settings of `A`.
fn given_settings<A: Agent>(params: &Params) -> Vec<String> {
    params
        .given_names()
        .into_iter()
        .filter(|n| !<A::Identity as Identity>::PARAMS.contains(n))
        .map(str::to_owned)
        .collect()
}

/// Parse the settings, rejecting bad values one by one until they parse. Returns the
/// settings (or why even the defaults do not parse: a defect of the agent) and every error
/// met on the way.
pub fn settings_with_defaults<A: Agent>(
    params: &Params,
    identity: &A::Identity,
    ctx: &Context,
) -> (Result<A::Settings>, Vec<Error>) {
    let mut errors = Vec::new();
    let mut current = params.clone();
    loop {
        let err = match <A::Settings as Settings<A::Identity>>::parse(&current, identity, ctx) {
            Ok(settings) => return (Ok(settings), errors),
            Err(e) => e,
        };
        let given = given_settings::<A>(&current);
        let culprit = err
            .param()
            .filter(|p| given.iter().any(|g| g == p))
            .map(str::to_owned);
        errors.push(err);
        current = match culprit {
            Some(name) => current.rejecting([name.as_str()]),
            None if !given.is_empty() => current.rejecting(given.iter().map(String::as_str)),
            None => {
                let last = errors.last().map(|e| e.reason().to_owned());
                let defect = Error::generic(format!(
                    "internal error: the settings of {} do not parse from their defaults: {}",
                    A::NAME,
                    last.unwrap_or_default()
                ));
                return (Err(defect), errors);
            }
        };
    }
}

/// The identity did not parse: probe 7 and stop 0 when nothing matching can run here,
/// otherwise the identity's error (with what may be running).
fn unidentified<A: Agent>(ctx: &Context, params: &Params, err: Error) -> Result<Status> {
    let answer = match ctx.action {
        Action::Monitor if ctx.is_probe() => Status::NotRunning,
        Action::Stop => Status::Success,
        _ => return Err(err),
    };
    let action = if ctx.is_probe() { "probe" } else { "stop" };
    match A::presence_without_identity(params, ctx) {
        Ok(Presence::Absent(why)) => {
            log::error!(
                "{}; {action} answers {answer} because nothing it could name runs here: {why}",
                err.reason()
            );
            Ok(answer)
        }
        Ok(Presence::Possible(what)) => Err(Error::new(
            err.status(),
            format!("{}; {action} cannot tell it from {what}", err.reason()),
        )),
        Err(e) => Err(Error::new(
            err.status(),
            format!(
                "{}; {action} cannot tell whether anything it could name runs here: {}",
                err.reason(),
                e.reason()
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    //! One test per row of the rule (the table in the module documentation), for every
    //! action: the test names say which row they prove.
    use super::*;
    use crate::env::Env;
    use crate::metadata::Metadata;

    const XML: &str = r#"<?xml version="1.0"?>
<resource-agent name="dummy"><version>1.1</version>
<parameters>
 <parameter name="name" required="1"><content type="string"/></parameter>
 <parameter name="count"><content type="integer" default="5"/></parameter>
 <parameter name="mode"><content type="string" default="safe"/></parameter>
 <parameter name="strict"><content type="boolean" default="false"/></parameter>
</parameters><actions><action name="start" timeout="20s"/></actions></resource-agent>
"#;

    /// Identity: `name`, lower-case letters. Settings: `count` 0..=10, `mode` safe|fast,
    /// `strict` (when set, `count` above 3 is refused by an error that names no parameter).
    /// What may run is told by the variable `DUMMY_RUNNING` (`yes`, `no`, `error`).
    #[derive(Debug)]
    struct Dummy;

    #[derive(Debug, PartialEq)]
    struct Name(String);

    #[derive(Debug, PartialEq)]
    struct DummySettings {
        count: u32,
        mode: String,
        count_was_rejected: bool,
    }

    impl Identity for Name {
        const PARAMS: &'static [&'static str] = &["name"];

        fn parse(params: &Params, _ctx: &Context) -> Result<Name> {
            let name = params.required("name")?;
            if !name.chars().all(|c| c.is_ascii_lowercase()) {
                return Err(Error::bad_param("name", &name, "not lower-case letters"));
            }
            Ok(Name(name))
        }
    }

    impl Settings<Name> for DummySettings {
        fn parse(params: &Params, _identity: &Name, _ctx: &Context) -> Result<DummySettings> {
            let count = params.int("count", 0u32, 10)?;
            let mode = params
                .choice("mode", &["safe", "fast"])?
                .unwrap_or_default();
            if params.bool("strict")? && count > 3 {
                return Err(Error::configured("strict allows no count above 3"));
            }
            Ok(DummySettings {
                count,
                mode,
                count_was_rejected: params.is_rejected("count"),
            })
        }
    }

    impl Agent for Dummy {
        const METADATA: &'static str = XML;

        fn presence_without_identity(_params: &Params, ctx: &Context) -> Result<Presence> {
            match ctx.env.var("DUMMY_RUNNING") {
                Some("yes") => Ok(Presence::Possible("a dummy named like it".into())),
                Some("error") => Err(Error::generic("cannot list dummies")),
                _ => Ok(Presence::Absent("no dummy runs here".into())),
            }
        }

        fn new(_identity: Name, _settings: DummySettings, _ctx: &Context) -> Result<Dummy> {
            Ok(Dummy)
        }
    }

    impl crate::agent::Policy for Dummy {
        type Identity = Name;
        type Settings = DummySettings;

        fn start(&self, _ctx: &Context) -> Result<Status> {
            Ok(Status::Success)
        }
        fn stop(&self, _ctx: &Context) -> Result<Status> {
            Ok(Status::Success)
        }
        fn monitor(&self, _ctx: &Context) -> Result<Status> {
            Ok(Status::Success)
        }
    }

    type Outcome = Resolution<Name, DummySettings>;

    fn resolve_for(action: Action, vars: &[(&str, &str)]) -> Outcome {
        let env = Env::from_vars(vars.iter().map(|(k, v)| {
            let key = if k.starts_with("CRM_meta") || !k.starts_with("DUMMY") {
                format!("OCF_RESKEY_{k}")
            } else {
                (*k).to_owned()
            };
            (key, (*v).to_owned())
        }))
        .unwrap();
        let params = Params::new(Metadata::parse(XML).unwrap(), &env);
        resolve::<Dummy>(&Context::new(action, env), &params)
    }

    fn probe(vars: &[(&str, &str)]) -> Outcome {
        resolve_for(Action::Monitor, vars)
    }

    fn recurring_monitor(vars: &[(&str, &str)]) -> Outcome {
        let mut all = vars.to_vec();
        all.push(("CRM_meta_interval", "10000"));
        resolve_for(Action::Monitor, &all)
    }

    fn ran_with(outcome: Outcome) -> DummySettings {
        match outcome {
            Resolution::Run(_, settings) => settings,
            Resolution::Finish(r) => panic!("the action did not run: {r:?}"),
        }
    }

    fn finished(outcome: Outcome) -> Result<Status> {
        match outcome {
            Resolution::Finish(r) => r,
            Resolution::Run(i, s) => panic!("the action ran with {i:?} {s:?}"),
        }
    }

    const BAD_SETTING: [(&str, &str); 2] = [("name", "web"), ("count", "eleven")];
    const BAD_IDENTITY: [(&str, &str); 2] = [("name", "Web Site"), ("count", "2")];
    const NO_IDENTITY: [(&str, &str); 1] = [("count", "2")];

    const REFUSING: [Action; 7] = [
        Action::ValidateAll,
        Action::Start,
        Action::Promote,
        Action::Reload,
        Action::ReloadAgent,
        Action::MigrateTo,
        Action::MigrateFrom,
    ];

    #[test]
    fn a_good_configuration_runs_every_action() {
        for action in REFUSING.into_iter().chain([
            Action::Monitor,
            Action::Stop,
            Action::Demote,
            Action::Notify,
        ]) {
            let s = ran_with(resolve_for(action, &[("name", "web"), ("mode", "fast")]));
            assert_eq!((s.count, s.mode.as_str()), (5, "fast"), "{action}");
        }
    }

    #[test]
    fn rule_validate_all_start_promote_reload_migrate_refuse_a_bad_setting_with_6_naming_it() {
        for action in REFUSING {
            let e = finished(resolve_for(action, &BAD_SETTING)).unwrap_err();
            assert_eq!(e.status(), Status::ErrConfigured, "{action}");
            assert!(e.reason().contains("count=\"eleven\""), "{action}: {e}");
        }
    }

    #[test]
    fn rule_validate_all_and_start_report_the_first_of_several_bad_settings() {
        let e = finished(resolve_for(
            Action::Start,
            &[("name", "web"), ("count", "x"), ("mode", "loud")],
        ))
        .unwrap_err();
        assert_eq!(e.status(), Status::ErrConfigured);
        assert!(e.reason().contains("count"), "{e}");
    }

    #[test]
    fn rule_validate_all_start_promote_reload_migrate_refuse_an_unusable_identity_with_6() {
        for action in REFUSING {
            for vars in [&BAD_IDENTITY[..], &NO_IDENTITY[..]] {
                let e = finished(resolve_for(action, vars)).unwrap_err();
                assert_eq!(e.status(), Status::ErrConfigured, "{action}");
                assert!(e.reason().contains("name"), "{action}: {e}");
            }
        }
    }

    #[test]
    fn rule_probe_with_a_bad_setting_runs_on_the_identity_with_the_default() {
        let s = ran_with(probe(&BAD_SETTING));
        assert_eq!(s.count, 5, "the XML default stands in");
        assert!(s.count_was_rejected);
    }

    #[test]
    fn rule_recurring_monitor_with_a_bad_setting_runs_with_the_default() {
        assert_eq!(ran_with(recurring_monitor(&BAD_SETTING)).count, 5);
    }

    #[test]
    fn rule_stop_with_a_bad_setting_runs_with_the_default() {
        assert_eq!(ran_with(resolve_for(Action::Stop, &BAD_SETTING)).count, 5);
    }

    #[test]
    fn rule_demote_and_notify_with_a_bad_setting_run_with_the_default() {
        for action in [Action::Demote, Action::Notify] {
            assert_eq!(ran_with(resolve_for(action, &BAD_SETTING)).count, 5);
        }
    }

    #[test]
    fn rule_stop_with_several_bad_settings_keeps_every_good_one() {
        let s = ran_with(resolve_for(
            Action::Stop,
            &[
                ("name", "web"),
                ("count", "99"),
                ("mode", "loud"),
                ("strict", "no"),
            ],
        ));
        assert_eq!((s.count, s.mode.as_str()), (5, "safe"));
        let s = ran_with(resolve_for(
            Action::Stop,
            &[("name", "web"), ("count", "99"), ("mode", "fast")],
        ));
        assert_eq!((s.count, s.mode.as_str()), (5, "fast"), "mode is kept");
    }

    #[test]
    fn rule_stop_with_a_bad_setting_that_names_no_parameter_runs_on_all_defaults() {
        let vars = [
            ("name", "web"),
            ("count", "7"),
            ("strict", "yes"),
            ("mode", "fast"),
        ];
        let s = ran_with(resolve_for(Action::Stop, &vars));
        assert_eq!((s.count, s.mode.as_str()), (5, "safe"));
        let e = finished(resolve_for(Action::Start, &vars)).unwrap_err();
        assert!(e.reason().contains("strict allows"), "{e}");
    }

    #[test]
    fn rule_probe_with_an_unusable_identity_is_7_when_nothing_matching_can_run() {
        for vars in [&BAD_IDENTITY[..], &NO_IDENTITY[..]] {
            assert_eq!(finished(probe(vars)), Ok(Status::NotRunning));
        }
    }

    #[test]
    fn rule_probe_with_an_unusable_identity_fails_when_something_matching_may_run() {
        let mut vars = BAD_IDENTITY.to_vec();
        vars.push(("DUMMY_RUNNING", "yes"));
        let e = finished(probe(&vars)).unwrap_err();
        assert_eq!(e.status(), Status::ErrConfigured);
        assert!(
            e.reason().contains("name=") && e.reason().contains("a dummy named like it"),
            "{e}"
        );
        vars.pop();
        vars.push(("DUMMY_RUNNING", "error"));
        let e = finished(probe(&vars)).unwrap_err();
        assert!(e.reason().contains("cannot list dummies"), "{e}");
    }

    #[test]
    fn rule_stop_with_an_unusable_identity_is_0_when_nothing_matching_can_run() {
        for vars in [&BAD_IDENTITY[..], &NO_IDENTITY[..]] {
            assert_eq!(
                finished(resolve_for(Action::Stop, vars)),
                Ok(Status::Success)
            );
        }
    }

    #[test]
    fn rule_stop_with_an_unusable_identity_fails_when_something_matching_may_run() {
        for running in ["yes", "error"] {
            let mut vars = BAD_IDENTITY.to_vec();
            vars.push(("DUMMY_RUNNING", running));
            let e = finished(resolve_for(Action::Stop, &vars)).unwrap_err();
            assert_eq!(e.status(), Status::ErrConfigured, "{running}");
            assert!(e.reason().contains("name="), "{e}");
        }
    }

    #[test]
    fn rule_recurring_monitor_demote_notify_with_an_unusable_identity_fail_with_6() {
        let e = finished(recurring_monitor(&BAD_IDENTITY)).unwrap_err();
        assert_eq!(e.status(), Status::ErrConfigured);
        for action in [Action::Demote, Action::Notify] {
            let e = finished(resolve_for(action, &BAD_IDENTITY)).unwrap_err();
            assert_eq!(e.status(), Status::ErrConfigured, "{action}");
        }
    }

    #[test]
    fn only_the_observing_and_undoing_actions_go_on_with_defaults() {
        for action in REFUSING {
            assert!(refuses_bad_settings(action), "{action}");
        }
        for action in [
            Action::Monitor,
            Action::Stop,
            Action::Demote,
            Action::Notify,
        ] {
            assert!(!refuses_bad_settings(action), "{action}");
        }
    }
}
