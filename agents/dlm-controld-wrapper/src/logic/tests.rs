//! The policy on a fake host: no root, no DLM, no Pacemaker. The fake keeps the daemon's
//! processes, who listens on its query socket and what it answers, the kernel's lockspaces
//! and the cluster's options, and records what the policy asked of it; each test asserts
//! what an administrator would check (the exit code and reason, `ps`, what was signalled,
//! what was fenced).

use super::*;
use crate::Agent;
use crate::health::Report;
use crate::host::LaunchError;
use dlm_control::{DaemonStatus, LockspaceInfo, Peer};
use ocf::config::Resolution;
use ocf::{Action, testing};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::time::Instant;

const PROGRAM: &str = "/usr/sbin/dlm_controld";
/// The pid the fake gives a daemon it starts; its helper process is the next one.
const DAEMON: i32 = 500;
const HELPER: i32 = 501;
const ROOT: u32 = 0;
const NOBODY: u32 = 65534;

/// `cibadmin --query --scope crm_config` with these options (pacemaker-cli's own tests parse
/// captures from Pacemaker 2.1 and 3).
fn crm_config(options: &[(&str, &str)]) -> String {
    let pairs: Vec<String> = options
        .iter()
        .map(|(name, value)| format!(r#"<nvpair id="o-{name}" name="{name}" value="{value}"/>"#))
        .collect();
    let pairs = pairs.concat();
    format!(
        r#"<crm_config><cluster_property_set id="o">{pairs}</cluster_property_set></crm_config>"#
    )
}

/// The tutorial's cluster (Pacemaker 2.1's name for the option).
fn pcmk_21_no_fencing() -> String {
    crm_config(&[("stonith-enabled", "false"), ("no-quorum-policy", "freeze")])
}

/// The option's name since Pacemaker 3.0.2 (earlier versions, Debian 13's 3.0.0 among them,
/// ignore it: pacemaker-cli reads it only where the DC's version says it counts).
fn pcmk_3_no_fencing() -> String {
    crm_config(&[("dc-version", "3.0.2-1"), ("fencing-enabled", "false")])
}

fn fencing_on() -> String {
    crm_config(&[("stonith-enabled", "true"), ("no-quorum-policy", "freeze")])
}

/// What a listener on the query socket answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Healthy,
    MergeWait,
    Silent,
}

/// What the daemon does once launched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OnLaunch {
    /// Forks into the background, binds its socket (unless taken) and configures comms.
    Runs,
    /// The launcher exits 0, the daemon is gone at once.
    ExitsAtOnce,
    /// The launcher fails with this message on stderr.
    Fails(&'static str),
}

#[derive(Debug)]
struct Fake {
    installed: bool,
    /// The daemon's processes (its binary, root's): what `daemon_processes` finds.
    procs: RefCell<Vec<Captured>>,
    /// Other root processes by executable file name (for `processes_running`).
    others: Vec<(&'static str, Captured)>,
    pid_file: Cell<Option<i32>>,
    /// Who listens on @dlmc_query_sock.
    listener: Cell<Option<Peer>>,
    answer: Cell<Answer>,
    lockspaces: RefCell<Vec<String>>,
    comms: Cell<bool>,
    configfs_mounted: Cell<bool>,
    dlm_loaded: Cell<bool>,
    modules: RefCell<Vec<String>>,
    options: RefCell<Result<String, &'static str>>,
    fenced: RefCell<Vec<String>>,
    on_launch: Cell<OnLaunch>,
    launches: RefCell<Vec<Vec<String>>>,
    ignores_term: Cell<bool>,
    signalled: RefCell<Vec<i32>>,
    proc_unreadable: Cell<bool>,
    /// dlm_stonith's bytes, when installed.
    helper: RefCell<Option<Vec<u8>>>,
    /// The shared libraries installed, by file name.
    libraries: RefCell<Vec<&'static str>>,
}

fn process(pid: i32, uid: u32, exe: &str) -> Captured {
    Captured {
        id: procs::Identity {
            pid,
            start_time: 1000 + u64::try_from(pid).unwrap(),
        },
        uids: procs::Uids {
            real: uid,
            effective: uid,
        },
        exe: Some(PathBuf::from(exe)),
        comm: "dlm_controld".into(),
    }
}

impl Fake {
    /// A node with dlm_controld installed and not running; the cluster fences.
    fn stopped() -> Fake {
        Fake {
            installed: true,
            procs: RefCell::new(Vec::new()),
            others: Vec::new(),
            pid_file: Cell::new(None),
            listener: Cell::new(None),
            answer: Cell::new(Answer::Healthy),
            lockspaces: RefCell::new(Vec::new()),
            comms: Cell::new(false),
            configfs_mounted: Cell::new(false),
            dlm_loaded: Cell::new(false),
            modules: RefCell::new(Vec::new()),
            options: RefCell::new(Ok(fencing_on())),
            fenced: RefCell::new(Vec::new()),
            on_launch: Cell::new(OnLaunch::Runs),
            launches: RefCell::new(Vec::new()),
            ignores_term: Cell::new(false),
            signalled: RefCell::new(Vec::new()),
            proc_unreadable: Cell::new(false),
            helper: RefCell::new(Some(b"\0libstonithd.so.56\0".to_vec())),
            libraries: RefCell::new(vec!["libstonithd.so.56"]),
        }
    }

    /// The same node with the daemon (and its helper) running and healthy.
    fn running() -> Fake {
        let f = Fake::stopped();
        f.daemon_runs();
        f
    }

    fn daemon_runs(&self) {
        *self.procs.borrow_mut() = vec![
            process(DAEMON, ROOT, PROGRAM),
            process(HELPER, ROOT, PROGRAM),
        ];
        self.pid_file.set(Some(DAEMON));
        if self.listener.get().is_none() {
            self.listener.set(Some(Peer {
                pid: DAEMON,
                uid: ROOT,
            }));
        }
        self.comms.set(true);
        self.configfs_mounted.set(true);
        self.dlm_loaded.set(true);
    }

    fn with_lockspaces(self, names: &[&str]) -> Fake {
        *self.lockspaces.borrow_mut() = names.iter().map(|s| (*s).to_owned()).collect();
        self
    }

    fn with_options(self, xml: String) -> Fake {
        *self.options.borrow_mut() = Ok(xml);
        self
    }

    fn pids(&self) -> Vec<i32> {
        self.procs.borrow().iter().map(Captured::pid).collect()
    }
}

fn status(merge: bool) -> DaemonStatus {
    let mut daemon = BTreeMap::new();
    daemon.insert("stateful_merge_wait".into(), u8::from(merge).to_string());
    daemon.insert("quorate".into(), "1".into());
    DaemonStatus {
        our_nodeid: 1,
        daemon,
        nodes: Vec::new(),
        startup_nodes: Vec::new(),
    }
}

fn lockspace_info(name: &str) -> LockspaceInfo {
    LockspaceInfo {
        prev: dlm_control::wire::Change::default(),
        next: dlm_control::wire::Change::default(),
        flags: 0,
        global_id: 1,
        name: name.to_owned(),
    }
}

impl Host for Fake {
    fn fence_helper(&self) -> Option<(PathBuf, Vec<u8>)> {
        self.helper
            .borrow()
            .clone()
            .map(|b| (PathBuf::from("/usr/sbin/dlm_stonith"), b))
    }

    fn library_installed(&self, name: &str) -> bool {
        self.libraries.borrow().contains(&name)
    }

    fn find_program(&self, daemon: &str) -> Option<PathBuf> {
        (self.installed && (daemon == "dlm_controld" || daemon == PROGRAM))
            .then(|| PathBuf::from(PROGRAM))
    }

    fn daemon_processes(&self, program: &Path) -> Result<Vec<Captured>, procs::Error> {
        if self.proc_unreadable.get() {
            return Err(procs::Error::Proc {
                path: PathBuf::from("/proc"),
                source: std::io::Error::from_raw_os_error(nix::libc::EACCES),
            });
        }
        assert_eq!(
            program,
            Path::new(PROGRAM),
            "the daemon is looked for by its binary"
        );
        Ok(self.procs.borrow().clone())
    }

    fn processes_running(&self, file_name: &str) -> Result<Vec<Captured>, procs::Error> {
        let mut found: Vec<Captured> = self
            .others
            .iter()
            .filter(|(n, _)| *n == file_name)
            .map(|(_, c)| c.clone())
            .collect();
        if file_name == "dlm_controld" {
            found.extend(self.procs.borrow().iter().cloned());
        }
        Ok(found)
    }

    fn pid_file(&self) -> Option<i32> {
        self.pid_file.get()
    }

    fn query(&self, trusted: &Trusted, _end: Instant) -> Result<Report, dlm_control::Error> {
        let socket = dlm_control::wire::QUERY_SOCKET.to_owned();
        let Some(peer) = self.listener.get() else {
            return Err(dlm_control::Error::Connect {
                socket,
                source: std::io::Error::from_raw_os_error(nix::libc::ECONNREFUSED),
            });
        };
        if !trusted.admits(peer) {
            return Err(dlm_control::Error::Untrusted {
                socket,
                peer,
                trusted: trusted.clone(),
            });
        }
        match self.answer.get() {
            Answer::Silent => Err(dlm_control::Error::TimedOut { op: "status" }),
            a => Ok(Report {
                status: status(a == Answer::MergeWait),
                lockspaces: self
                    .lockspaces
                    .borrow()
                    .iter()
                    .map(|n| lockspace_info(n))
                    .collect(),
            }),
        }
    }

    fn lockspaces(&self) -> std::io::Result<Vec<String>> {
        Ok(self.lockspaces.borrow().clone())
    }

    fn comms_ready(&self) -> std::io::Result<bool> {
        Ok(self.comms.get())
    }

    fn configfs_mounted(&self) -> std::io::Result<bool> {
        Ok(self.configfs_mounted.get())
    }

    fn configfs_known(&self) -> bool {
        true
    }

    fn mount_configfs(&self) -> nix::Result<()> {
        self.configfs_mounted.set(true);
        Ok(())
    }

    fn dlm_loaded(&self) -> bool {
        self.dlm_loaded.get()
    }

    fn load_module(&self, module: &str, _end: Instant) -> Result<()> {
        self.modules.borrow_mut().push(module.to_owned());
        if module == "dlm" {
            self.dlm_loaded.set(true);
        }
        Ok(())
    }

    fn cluster_options(&self, _end: Instant) -> Result<ClusterOptions, pacemaker_cli::Error> {
        match &*self.options.borrow() {
            Ok(xml) => ClusterOptions::parse(xml),
            Err(message) => Err(pacemaker_cli::Error::Failed {
                tool: "cibadmin",
                code: Some(1),
                message: (*message).to_owned(),
            }),
        }
    }

    fn fence_this_node(&self, _end: Instant) -> Result<String, pacemaker_cli::Error> {
        self.fenced.borrow_mut().push("node1".into());
        Ok("node1".into())
    }

    fn launch(
        &self,
        program: &Path,
        argv: &[String],
        _end: Instant,
    ) -> Result<Launch, LaunchError> {
        assert_eq!(program, Path::new(PROGRAM));
        self.launches.borrow_mut().push(argv.to_vec());
        match self.on_launch.get() {
            OnLaunch::Runs => {
                // dlm_controld exits when it cannot bind its query socket (setup_queries).
                if self.listener.get().is_none() {
                    self.daemon_runs();
                }
                Ok(Launch::Detached)
            }
            OnLaunch::ExitsAtOnce => Ok(Launch::Detached),
            OnLaunch::Fails(message) => Err(LaunchError::Failed {
                program: program.display().to_string(),
                status: std::os::unix::process::ExitStatusExt::from_raw(1 << 8),
                message: (*message).to_owned(),
            }),
        }
    }

    fn terminate(&self, processes: &[Captured]) -> Result<(), procs::Error> {
        self.signalled
            .borrow_mut()
            .extend(processes.iter().map(Captured::pid));
        if !self.ignores_term.get() {
            let gone: Vec<i32> = processes.iter().map(Captured::pid).collect();
            self.procs.borrow_mut().retain(|p| !gone.contains(&p.pid()));
            if self.listener.get().is_some_and(|l| gone.contains(&l.pid)) {
                self.listener.set(None);
            }
        }
        Ok(())
    }

    fn wait_gone(&self, processes: &[Captured], _end: Instant) -> bool {
        let left = self.procs.borrow();
        !processes.iter().any(|p| left.contains(p))
    }
}

fn ctx(action: Action, params: &[(&str, &str)], vars: &[(&str, &str)]) -> Context {
    testing::context::<Agent>(action, params, vars)
}

/// The policy for `params` (parsed strictly) over `host`.
fn logic(host: Fake, params: &[(&str, &str)]) -> Logic<Fake> {
    let (identity, settings) =
        testing::parse::<Agent>(&ctx(Action::ValidateAll, params, &[])).unwrap();
    Logic {
        cfg: Config { identity, settings },
        host,
    }
}

/// A probe's context (monitor, no interval) and a recurring monitor's.
fn probe() -> Context {
    ctx(Action::Monitor, &[], &[])
}

fn recurring() -> Context {
    ctx(
        Action::Monitor,
        &[],
        &[("OCF_RESKEY_CRM_meta_interval", "10000")],
    )
}

/// A start or stop with a short timeout (2 s; the agent's deadline is 1.5 s).
fn short(action: Action) -> Context {
    ctx(action, &[], &[("OCF_RESKEY_CRM_meta_timeout", "2000")])
}

fn assert_plain(e: &Error) {
    let r = e.reason();
    for internal in ["os error", "[", "Some(", "None"] {
        assert!(!r.contains(internal), "Rust internals in {r:?}");
    }
}

// --- start, stop, monitor and their idempotence ---------------------------------------

#[test]
fn start_mounts_configfs_loads_dlm_launches_and_waits_until_ready() {
    let l = logic(Fake::stopped(), &[]);
    assert_eq!(l.start(&ctx(Action::Start, &[], &[])), Ok(Status::Success));
    assert!(l.host.configfs_mounted.get());
    assert_eq!(*l.host.modules.borrow(), ["dlm"]);
    assert_eq!(*l.host.launches.borrow(), [["-s", "0"]]);
    assert_eq!(l.host.pids(), [DAEMON, HELPER]);
    assert_eq!(l.monitor(&recurring()), Ok(Status::Success));
}

#[test]
fn start_of_a_running_daemon_launches_nothing() {
    let l = logic(Fake::running(), &[]);
    for _ in 0..2 {
        assert_eq!(l.start(&ctx(Action::Start, &[], &[])), Ok(Status::Success));
    }
    assert!(l.host.launches.borrow().is_empty());
    assert!(l.host.modules.borrow().is_empty());
}

#[test]
fn stop_ends_the_daemon_and_a_second_stop_finds_nothing() {
    let l = logic(Fake::running(), &[]);
    assert_eq!(l.stop(&ctx(Action::Stop, &[], &[])), Ok(Status::Success));
    assert_eq!(*l.host.signalled.borrow(), [DAEMON, HELPER]);
    assert!(l.host.pids().is_empty());
    assert_eq!(l.stop(&ctx(Action::Stop, &[], &[])), Ok(Status::Success));
    assert_eq!(l.host.signalled.borrow().len(), 2, "nothing more signalled");
    assert_eq!(l.monitor(&probe()), Ok(Status::NotRunning));
}

#[test]
fn monitor_says_not_running_running_or_why_not_healthy() {
    assert_eq!(
        logic(Fake::stopped(), &[]).monitor(&probe()),
        Ok(Status::NotRunning)
    );
    assert_eq!(
        logic(Fake::running(), &[]).monitor(&recurring()),
        Ok(Status::Success)
    );
    let merge = logic(Fake::running(), &[]);
    merge.host.answer.set(Answer::MergeWait);
    let e = merge.monitor(&recurring()).unwrap_err();
    assert_eq!(e.status(), Status::ErrGeneric);
    assert!(e.reason().contains("stateful_merge_wait"), "{e}");
}

#[test]
fn stop_is_refused_while_lockspaces_are_in_use() {
    let l = logic(Fake::running().with_lockspaces(&["web"]), &[]);
    let e = l.stop(&ctx(Action::Stop, &[], &[])).unwrap_err();
    assert_eq!(e.status(), Status::ErrGeneric);
    assert!(
        e.reason().contains("lockspaces web") && e.reason().contains("GFS2"),
        "{e}"
    );
    assert!(l.host.signalled.borrow().is_empty());
    assert_eq!(l.host.pids(), [DAEMON, HELPER]);
}

// --- the fencing decision (issue 13) --------------------------------------------------

fn options(xml: &str) -> ClusterOptions {
    ClusterOptions::parse(xml).unwrap()
}

#[test]
fn fencing_off_and_not_allowed_is_refused_with_the_reason() {
    for args in ["-s 0", "-s 0 --enable_fencing 0"] {
        let l = logic(Fake::stopped(), &[("args", args)]);
        for xml in [pcmk_21_no_fencing(), pcmk_3_no_fencing()] {
            let e = l.plan(&options(&xml)).unwrap_err();
            assert_eq!(e.status(), Status::ErrConfigured);
            assert!(e.reason().contains("fencing is disabled"), "{e}");
            assert!(e.reason().contains("allow_fencing_disabled"), "{e}");
            // The lab found the switch's name cut off in `pcs status`: Pacemaker keeps only
            // 128 characters of an exit reason.
            assert!(
                e.reason().len() <= 128,
                "{} characters: {e}",
                e.reason().len()
            );
        }
    }
    // Start refuses before touching the kernel.
    let l = logic(Fake::stopped().with_options(pcmk_21_no_fencing()), &[]);
    let e = l.start(&ctx(Action::Start, &[], &[])).unwrap_err();
    assert_eq!(e.status(), Status::ErrConfigured);
    assert!(l.host.launches.borrow().is_empty());
    assert!(l.host.modules.borrow().is_empty() && !l.host.configfs_mounted.get());
}

/// Issue 13: allow_fencing_disabled only lets the daemon start. With the daemon's own
/// fencing left on, a partition freezes GFS2 instead of letting both sides write it.
#[test]
fn fencing_off_and_allowed_keeps_the_daemons_own_fencing() {
    for switch in ["allow_fencing_disabled", "allow_stonith_disabled"] {
        let l = logic(Fake::stopped(), &[(switch, "true")]);
        for xml in [pcmk_21_no_fencing(), pcmk_3_no_fencing()] {
            let plan = l.plan(&options(&xml)).unwrap();
            assert_eq!(
                plan.argv,
                ["-s", "0"],
                "{switch}: args as given, nothing added"
            );
            assert_eq!(args::enable_fencing(&plan.argv), None);
            assert!(
                plan.warnings.iter().any(|w| w == DAEMON_FENCING_KEPT),
                "the freeze to expect is logged: {:?}",
                plan.warnings
            );
        }
        let started = logic(
            Fake::stopped().with_options(pcmk_21_no_fencing()),
            &[(switch, "true")],
        );
        assert_eq!(
            started.start(&ctx(Action::Start, &[], &[])),
            Ok(Status::Success)
        );
        assert_eq!(*started.host.launches.borrow(), [["-s", "0"]]);
    }
}

/// Turning the daemon's fencing off is the administrator's choice, in args: passed on as
/// given, and logged at every start as the risk it is, whatever the cluster's setting.
#[test]
fn enable_fencing_0_in_args_is_passed_on_and_logged_as_a_risk() {
    for args in ["-s 0 --enable_fencing 0", "-s 0 -f0"] {
        let l = logic(
            Fake::stopped(),
            &[("allow_fencing_disabled", "true"), ("args", args)],
        );
        for xml in [pcmk_21_no_fencing(), fencing_on()] {
            let plan = l.plan(&options(&xml)).unwrap();
            assert_eq!(plan.argv, l.cfg.settings.args);
            assert!(
                plan.warnings.iter().any(|w| w == DAEMON_FENCING_OFF_RISK),
                "{args} with {xml}: {:?}",
                plan.warnings
            );
            assert!(!plan.warnings.iter().any(|w| w == DAEMON_FENCING_KEPT));
        }
    }
    let on = logic(
        Fake::stopped(),
        &[("allow_fencing_disabled", "true"), ("args", "-s 0 -f 1")],
    );
    let plan = on.plan(&options(&pcmk_21_no_fencing())).unwrap();
    assert_eq!(plan.argv, ["-s", "0", "-f", "1"]);
    assert!(!plan.warnings.iter().any(|w| w == DAEMON_FENCING_OFF_RISK));
}

#[test]
fn fencing_on_keeps_args_as_given() {
    let l = logic(Fake::stopped(), &[("allow_fencing_disabled", "true")]);
    let plan = l.plan(&options(&fencing_on())).unwrap();
    assert_eq!(plan.argv, ["-s", "0"]);
    assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
    let unset = logic(Fake::stopped(), &[]).plan(&options("<crm_config/>"));
    let plan = unset.unwrap();
    assert_eq!(
        plan.argv,
        ["-s", "0"],
        "unset means Pacemaker's default: on"
    );
    assert!(
        plan.warnings.iter().all(|w| w.contains("no-quorum-policy")),
        "{:?}",
        plan.warnings
    );
}

// --- faults ---------------------------------------------------------------------------

#[test]
fn a_daemon_that_exits_at_once_fails_start_with_where_to_look() {
    let f = Fake::stopped();
    f.on_launch.set(OnLaunch::ExitsAtOnce);
    let e = logic(f, &[]).start(&short(Action::Start)).unwrap_err();
    assert_eq!(e.status(), Status::ErrGeneric);
    assert!(e.reason().contains("exited right after starting"), "{e}");
    assert!(e.reason().contains("journalctl -t dlm_controld"), "{e}");
}

#[test]
fn a_launch_that_fails_says_what_the_daemon_said() {
    let f = Fake::stopped();
    f.on_launch.set(OnLaunch::Fails("unknown option -z"));
    let e = logic(f, &[]).start(&short(Action::Start)).unwrap_err();
    assert_eq!(e.status(), Status::ErrGeneric);
    assert!(e.reason().contains("unknown option -z"), "{e}");
    assert_plain(&e);
}

#[test]
fn a_daemon_that_ignores_sigterm_fails_stop_at_the_deadline() {
    let l = logic(Fake::running(), &[]);
    l.host.ignores_term.set(true);
    let e = l.stop(&short(Action::Stop)).unwrap_err();
    assert_eq!(e.status(), Status::ErrGeneric);
    assert_eq!(
        e.reason(),
        "dlm_controld (pids 500, 501) did not exit before the stop timeout"
    );
}

#[test]
fn a_silent_daemon_fails_monitor_without_fencing_the_node() {
    let l = logic(Fake::running().with_lockspaces(&["web"]), &[]);
    l.host.answer.set(Answer::Silent);
    let e = l.monitor(&recurring()).unwrap_err();
    assert_eq!(e.status(), Status::ErrGeneric);
    assert!(
        e.reason().contains("(pids 500, 501)") && e.reason().contains("did not answer"),
        "{e}"
    );
    assert!(l.host.fenced.borrow().is_empty());
    assert_plain(&e);
}

#[test]
fn lockspaces_without_a_daemon_fence_this_node_when_fencing_is_on() {
    let l = logic(Fake::stopped().with_lockspaces(&["web"]), &[]);
    let e = l.monitor(&recurring()).unwrap_err();
    assert!(
        e.reason()
            .contains("requested fencing of this node (node1)"),
        "{e}"
    );
    assert_eq!(*l.host.fenced.borrow(), ["node1"]);

    let off = logic(
        Fake::stopped()
            .with_lockspaces(&["web"])
            .with_options(pcmk_21_no_fencing()),
        &[],
    );
    let e = off.monitor(&recurring()).unwrap_err();
    assert!(
        e.reason().contains("unmount GFS2 or reboot this node"),
        "{e}"
    );
    assert!(off.host.fenced.borrow().is_empty());
}

#[test]
fn a_proc_that_cannot_be_read_is_an_error_never_not_running() {
    let l = logic(Fake::stopped(), &[]);
    l.host.proc_unreadable.set(true);
    for e in [
        l.monitor(&probe()).unwrap_err(),
        l.stop(&ctx(Action::Stop, &[], &[])).unwrap_err(),
    ] {
        assert_eq!(e.status(), Status::ErrGeneric);
        assert!(e.reason().contains("Permission denied"), "{e}");
        assert_plain(&e);
    }
}

#[test]
fn a_missing_daemon_is_not_installed_for_start_and_validate_only() {
    let mut f = Fake::stopped();
    f.installed = false;
    let l = logic(f, &[]);
    for e in [
        l.validate(&ctx(Action::ValidateAll, &[], &[])).unwrap_err(),
        l.start(&ctx(Action::Start, &[], &[])).unwrap_err(),
    ] {
        assert_eq!(e.status(), Status::ErrInstalled);
        assert!(e.reason().contains("install dlm-controld"), "{e}");
    }
    assert_eq!(l.monitor(&probe()), Ok(Status::NotRunning));
    assert_eq!(l.stop(&ctx(Action::Stop, &[], &[])), Ok(Status::Success));
}

#[test]
fn validate_refuses_a_globally_unique_clone() {
    let l = logic(Fake::stopped(), &[]);
    let unique = ctx(
        Action::ValidateAll,
        &[],
        &[("OCF_RESKEY_CRM_meta_globally_unique", "true")],
    );
    let e = l.validate(&unique).unwrap_err();
    assert_eq!(e.status(), Status::ErrConfigured);
    assert!(e.reason().contains("globally-unique"), "{e}");
    assert_eq!(l.validate(&ctx(Action::ValidateAll, &[], &[])), Ok(()));
}

// --- look-alikes on the query socket (issue 17) --------------------------------------

/// User nobody listens on @dlmc_query_sock and answers as a healthy daemon, while root's
/// daemon runs without a socket of its own: its answers change nothing.
#[test]
fn a_look_alike_on_the_query_socket_is_not_believed() {
    let l = logic(Fake::running(), &[]);
    l.host.listener.set(Some(Peer {
        pid: 4242,
        uid: NOBODY,
    }));
    let e = l.monitor(&recurring()).unwrap_err();
    assert_eq!(e.status(), Status::ErrGeneric);
    assert!(
        e.reason().contains("held by pid 4242 of uid 65534") && e.reason().contains("not believed"),
        "{e}"
    );
    let e = l.start(&ctx(Action::Start, &[], &[])).unwrap_err();
    assert!(e.reason().starts_with("cannot start: "), "{e}");
    assert!(l.host.launches.borrow().is_empty());
    assert_plain(&e);
}

/// The socket taken before the daemon starts: the daemon cannot bind it and exits; start
/// says who holds it.
#[test]
fn a_socket_taken_before_start_is_named_when_the_daemon_exits() {
    let f = Fake::stopped();
    f.listener.set(Some(Peer {
        pid: 4242,
        uid: NOBODY,
    }));
    let l = logic(f, &[]);
    let e = l.start(&short(Action::Start)).unwrap_err();
    assert!(e.reason().contains("exited right after starting"), "{e}");
    assert!(e.reason().contains("pid 4242 of uid 65534"), "{e}");
}

/// Only the process the daemon's pid file names is its listener; its helper (same binary,
/// root's) is not, and neither is anything when the pid file is stale.
#[test]
fn the_pid_file_picks_the_listener_among_the_daemons_processes() {
    let l = logic(Fake::running(), &[]);
    assert_eq!(l.monitor(&recurring()), Ok(Status::Success));
    l.host.listener.set(Some(Peer {
        pid: HELPER,
        uid: ROOT,
    }));
    assert!(
        l.monitor(&recurring()).is_err(),
        "the helper is not the daemon"
    );
    l.host.pid_file.set(Some(4242));
    assert_eq!(
        l.monitor(&recurring()),
        Ok(Status::Success),
        "a stale pid file: any of the daemon's processes"
    );
    let found = l.host.procs.borrow().clone();
    assert_eq!(trusted_listener(&found, Some(DAEMON)).pids, [DAEMON]);
    assert_eq!(trusted_listener(&found, None).pids, [DAEMON, HELPER]);
    assert_eq!(trusted_listener(&found, None).uid, ROOT);
    assert!(trusted_listener(&[], Some(DAEMON)).pids.is_empty());
}

// --- the bad-configuration rule (ocf::config) for every action -------------------------

/// What `ocf::run` decides, then the action on the fake when the rule lets it run.
fn run(action: &Context, host: Fake) -> (Result<Status>, Option<Logic<Fake>>) {
    match testing::resolve::<Agent>(action) {
        Resolution::Finish(result) => (result, None),
        Resolution::Run(identity, settings) => {
            let l = Logic {
                cfg: Config { identity, settings },
                host,
            };
            let result = match action.action {
                Action::Start => l.start(action),
                Action::Stop => l.stop(action),
                Action::ValidateAll => l.validate(action).map(|()| Status::Success),
                _ => l.monitor(action),
            };
            (result, Some(l))
        }
    }
}

#[test]
fn a_bad_setting_fails_validate_and_start_but_never_probe_monitor_or_stop() {
    for (name, value) in [("args", "-s '0"), ("allow_fencing_disabled", "maybe")] {
        let bad = [(name, value)];
        for action in [Action::ValidateAll, Action::Start] {
            let (result, ran) = run(&ctx(action, &bad, &[]), Fake::stopped());
            let e = result.unwrap_err();
            assert_eq!(e.status(), Status::ErrConfigured, "{action} {name}={value}");
            assert!(e.reason().contains(name), "{e}");
            assert!(ran.is_none(), "{action} refused before running");
        }
        let probe = ctx(Action::Monitor, &bad, &[]);
        assert_eq!(run(&probe, Fake::running()).0, Ok(Status::Success));
        assert_eq!(run(&probe, Fake::stopped()).0, Ok(Status::NotRunning));
        let monitor = ctx(
            Action::Monitor,
            &bad,
            &[("OCF_RESKEY_CRM_meta_interval", "10000")],
        );
        assert_eq!(run(&monitor, Fake::running()).0, Ok(Status::Success));
        let (stopped, l) = run(&ctx(Action::Stop, &bad, &[]), Fake::running());
        assert_eq!(
            stopped,
            Ok(Status::Success),
            "stop stops despite {name}={value}"
        );
        assert!(l.unwrap().host.pids().is_empty());
    }
}

#[test]
fn an_unusable_daemon_fails_validate_and_start() {
    for action in [Action::ValidateAll, Action::Start] {
        let (result, _) = run(
            &ctx(action, &[("daemon", "sbin/dlm_controld")], &[]),
            Fake::running(),
        );
        let e = result.unwrap_err();
        assert_eq!(e.status(), Status::ErrConfigured);
        assert!(e.reason().contains("daemon="), "{e}");
    }
}

/// With `daemon` unusable, probe 7 and stop 0 only when nothing this resource could have
/// started runs: what `presence_without_identity` answers.
#[test]
fn an_unusable_daemon_is_absent_only_when_nothing_of_the_dlm_runs() {
    let absent = presence(&Fake::stopped(), "sbin/dlm_controld").unwrap();
    assert!(matches!(absent, Presence::Absent(_)), "{absent:?}");
    let running = presence(&Fake::running(), "sbin/dlm_controld").unwrap();
    assert!(
        matches!(&running, Presence::Possible(w) if w.contains("pids 500, 501")),
        "{running:?}"
    );
    let held = presence(&Fake::stopped().with_lockspaces(&["web"]), "x/y").unwrap();
    assert!(
        matches!(&held, Presence::Possible(w) if w.contains("lockspaces web")),
        "{held:?}"
    );
    let mut other = Fake::stopped();
    other.others = vec![("my_dlm", process(777, ROOT, "/opt/bin/my_dlm"))];
    let named = presence(&other, "opt/bin/my_dlm").unwrap();
    assert!(
        matches!(&named, Presence::Possible(w) if w.contains("pid 777")),
        "{named:?}"
    );
    // And the rule turns those into the probe's and stop's answers.
    let probe = ctx(Action::Monitor, &[("daemon", "sbin/x")], &[]);
    assert!(matches!(
        testing::resolve::<Agent>(&probe),
        Resolution::Finish(_)
    ));
}

#[test]
fn a_fence_helper_that_loads_a_missing_libstonithd_is_named_at_start() {
    // Debian 13: dlm-controld 4.3.0's helper asks for .so.26, Pacemaker 3.0.0 has .so.56.
    let f = Fake::stopped();
    *f.helper.borrow_mut() = Some(b"\0libstonithd.so.26\0".to_vec());
    let l = logic(f, &[]);
    let warning = l.fence_helper_broken().expect("a warning");
    assert!(
        warning.contains("/usr/sbin/dlm_stonith loads libstonithd.so.26")
            && warning.contains("GFS2 stays frozen"),
        "{warning}"
    );
    // The start goes on: the freeze is safe, the administrator is told.
    assert_eq!(l.start(&ctx(Action::Start, &[], &[])), Ok(Status::Success));

    let fine = logic(Fake::stopped(), &[]);
    assert_eq!(fine.fence_helper_broken(), None);
    let absent = Fake::stopped();
    *absent.helper.borrow_mut() = None;
    assert_eq!(logic(absent, &[]).fence_helper_broken(), None);
}
