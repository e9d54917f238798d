//! The policy on a fake host: no root, no httpd, no network. The fake keeps a process
//! table, pid files and an HTTP server that behave as httpd and the kernel do (httpd forks
//! its server and the launcher exits; it refuses to start while its pid file names a live
//! process; WINCH ends it), and records what the policy asked of it. Each test asserts what
//! an administrator would check: the exit code, the reason, which processes run, what the
//! pid file says.

use super::*;
use crate::Agent;
use crate::conf::Listen;
use ocf::config::Resolution;
use ocf::{Action, testing};
use std::cell::{Cell, RefCell};
use std::os::unix::process::ExitStatusExt;

const HTTPD: &str = "/usr/sbin/apache2";
const CONFIG: &str = "/etc/web/httpd.conf";
const STATE: &str = "/run/resource-agents";
const OWN_PID: &str = "/run/resource-agents/apache2-test.pid";
const CONFIGURED_PID: &str = "/run/web/httpd.pid";
/// www-data's uid, as httpd's `User`.
const WWW_DATA: u32 = 33;
const STATUS_PAGE: &str = "<html><body>Apache Server Status</body></html>\n";

/// What the next launch of httpd does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Launch {
    /// Forks a server (main process and a worker) that writes its pid file and serves.
    Serves,
    /// Forks a server that dies at once, having logged only to its ErrorLog.
    DiesAfterFork,
    /// The launcher itself fails with this exit code and says nothing.
    FailsSilently(i32),
}

/// How the fake server answers a GET.
#[derive(Debug, Clone)]
enum Answer {
    Page(u16, &'static str),
    /// Accepts and never answers: the client's deadline ends it.
    Hangs,
}

#[derive(Debug, Clone)]
struct FakeProc {
    process: Process,
    cmdline: Vec<OsString>,
    exe: PathBuf,
    /// Ignores WINCH and TERM (a stuck server).
    stubborn: bool,
    /// Its real and effective uid.
    uid: u32,
    /// The state of each of its threads.
    threads: Vec<char>,
}

#[derive(Debug)]
struct Fake {
    files: RefCell<BTreeMap<PathBuf, String>>,
    config: RefCell<std::result::Result<Config, &'static str>>,
    /// Directories that fail the state-directory checks (a user can write them).
    unsafe_dirs: Vec<PathBuf>,
    procs: RefCell<BTreeMap<i32, FakeProc>>,
    next_pid: Cell<i32>,
    launch: Cell<Launch>,
    launches: RefCell<Vec<Vec<OsString>>>,
    answer: RefCell<Answer>,
    requests: RefCell<Vec<String>>,
    signals: RefCell<Vec<(i32, Signal)>>,
    stubborn: Cell<bool>,
}

/// A launcher: its exit status and stderr, known at once.
#[derive(Debug)]
struct FakeLauncher(Option<(ExitStatus, String)>);

impl Launched for FakeLauncher {
    fn wait_exit(
        &mut self,
        _end: Instant,
    ) -> std::result::Result<Option<(ExitStatus, String)>, procs::Error> {
        Ok(self.0.clone())
    }
}

fn process(pid: i32, parent: i32, session: i32, comm: &str) -> Process {
    Process {
        pid,
        ppid: parent,
        pgrp: session,
        session,
        comm: comm.to_owned(),
        state: 'S',
        flags: 0,
        start_time: 1000 + u64::try_from(pid).unwrap(),
    }
}

fn config() -> Config {
    Config {
        server_root: PathBuf::from("/etc/web"),
        listen: vec![Listen {
            address: "127.0.0.9:8080".into(),
            protocol: None,
        }],
        error_log: Some("/var/log/web/error.log".into()),
        status_location: Some("/server-status".into()),
        ..Config::default()
    }
}

impl Fake {
    fn new() -> Fake {
        Fake {
            files: RefCell::new(BTreeMap::new()),
            config: RefCell::new(Ok(config())),
            unsafe_dirs: Vec::new(),
            procs: RefCell::new(BTreeMap::new()),
            next_pid: Cell::new(5000),
            launch: Cell::new(Launch::Serves),
            launches: RefCell::new(Vec::new()),
            answer: RefCell::new(Answer::Page(200, STATUS_PAGE)),
            requests: RefCell::new(Vec::new()),
            signals: RefCell::new(Vec::new()),
            stubborn: Cell::new(false),
        }
    }

    fn with_pid_file(self, path: &str) -> Fake {
        if let Ok(c) = self.config.borrow_mut().as_mut() {
            c.pid_file = Some(PathBuf::from(path));
        }
        self
    }

    fn add(&self, p: FakeProc) {
        self.procs.borrow_mut().insert(p.process.pid, p);
    }

    fn pid(&self) -> i32 {
        let pid = self.next_pid.get();
        self.next_pid.set(pid + 1);
        pid
    }

    /// Live processes running `-f CONFIG`.
    fn ours(&self) -> Vec<i32> {
        self.procs
            .borrow()
            .values()
            .filter(|p| p.process.is_running() && p.cmdline.iter().any(|a| a == CONFIG))
            .map(|p| p.process.pid)
            .collect()
    }

    fn file(&self, path: &str) -> Option<String> {
        self.files.borrow().get(Path::new(path)).cloned()
    }

    fn write(&self, path: &str, text: &str) {
        self.files
            .borrow_mut()
            .insert(PathBuf::from(path), text.to_owned());
    }

    /// httpd as Apache 2.4 starts: the launcher checks the pid file (any live process there
    /// is "already running", exit 0), forks the server and exits 0; the server writes the
    /// pid file.
    fn start_httpd(&self, args: &[OsString]) -> (ExitStatus, String) {
        let pid_file = match args.iter().position(|a| a == "-c") {
            Some(i) => PathBuf::from(
                args[i + 1]
                    .to_str()
                    .unwrap()
                    .trim_start_matches("PidFile \"")
                    .trim_end_matches('"'),
            ),
            None => self
                .config
                .borrow()
                .as_ref()
                .ok()
                .and_then(|c| c.pid_file.clone())
                .unwrap_or_else(|| PathBuf::from("/etc/web/logs/httpd.pid")),
        };
        let ok = ExitStatus::from_raw(0);
        if let Some(text) = self.files.borrow().get(&pid_file)
            && let Ok(pid) = text.trim().parse::<i32>()
            && self.procs.borrow().contains_key(&pid)
        {
            return (ok, format!("httpd (pid {pid}) already running\n"));
        }
        match self.launch.get() {
            Launch::FailsSilently(code) => (ExitStatus::from_raw(code << 8), String::new()),
            Launch::DiesAfterFork => (ok, String::new()),
            Launch::Serves => {
                let main = self.pid();
                let mut cmdline = vec![OsString::from(HTTPD)];
                cmdline.extend(args.iter().cloned());
                // The main process stays root; its worker runs as www-data.
                for (pid, parent, uid) in [(main, 1, 0), (self.pid(), main, WWW_DATA)] {
                    self.add(FakeProc {
                        process: process(pid, parent, main, "apache2"),
                        cmdline: cmdline.clone(),
                        exe: PathBuf::from(HTTPD),
                        stubborn: self.stubborn.get(),
                        uid,
                        threads: vec!['S'],
                    });
                }
                self.files
                    .borrow_mut()
                    .insert(pid_file, format!("{main}\n"));
                (ok, String::new())
            }
        }
    }

    /// A signal as the kernel delivers it: the main process and its children end unless
    /// they ignore it.
    fn deliver(&self, pid: i32, signal: Signal) {
        let mut procs = self.procs.borrow_mut();
        let Some(p) = procs.get(&pid) else { return };
        if p.stubborn && signal != Signal::SIGKILL {
            return;
        }
        let family: Vec<i32> = procs
            .values()
            .filter(|c| c.process.pid == pid || c.process.ppid == pid)
            .map(|c| c.process.pid)
            .collect();
        for f in family {
            procs.remove(&f);
        }
    }
}

impl Host for Fake {
    type Launched = FakeLauncher;

    fn is_executable(&self, path: &Path) -> bool {
        path == Path::new(HTTPD)
    }

    fn is_file(&self, path: &Path) -> bool {
        path == Path::new(CONFIG)
    }

    fn environment(&self) -> BTreeMap<String, String> {
        BTreeMap::from([("PATH".into(), "/usr/bin".into())])
    }

    fn read_envfile(&self, path: &Path) -> std::result::Result<Option<String>, ConfError> {
        Ok(self.files.borrow().get(path).cloned())
    }

    fn read_config(
        &self,
        _file: &Path,
        _server_root: &Path,
        _vars: &BTreeMap<String, String>,
        _until: Instant,
    ) -> std::result::Result<Config, ConfError> {
        self.config
            .borrow()
            .clone()
            .map_err(|what| ConfError::NotRegular {
                path: PathBuf::from(what),
                kind: "FIFO",
            })
    }

    fn read_testconf(&self, path: &Path) -> std::result::Result<Option<String>, ConfError> {
        Ok(self.files.borrow().get(path).cloned())
    }

    fn read_pid_file(&self, path: &Path) -> std::result::Result<Option<i32>, procs::Error> {
        match self.files.borrow().get(path) {
            None => Ok(None),
            Some(text) => text
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| procs::Error::PidFileGarbage {
                    path: path.to_owned(),
                }),
        }
    }

    fn check_pid_dir(&self, dir: &Path) -> std::result::Result<(), procs::Error> {
        if self.unsafe_dirs.iter().any(|d| d == dir) {
            return Err(procs::Error::UnsafeStateDir {
                path: dir.to_owned(),
                why: "writable by group or others".into(),
            });
        }
        Ok(())
    }

    fn prepare_pid_file(&self, path: &Path) -> std::result::Result<(), procs::Error> {
        self.check_pid_dir(path.parent().unwrap())
    }

    fn create_dir(&self, _dir: &Path) -> std::io::Result<()> {
        Ok(())
    }

    fn remove_file(&self, path: &Path) -> std::io::Result<()> {
        self.files.borrow_mut().remove(path);
        Ok(())
    }

    fn pids_named(&self, comm: &str) -> std::result::Result<Vec<i32>, procs::Error> {
        Ok(self
            .procs
            .borrow()
            .values()
            .filter(|p| p.process.comm == comm)
            .map(|p| p.process.pid)
            .collect())
    }

    fn process(&self, pid: i32) -> Option<Process> {
        self.procs.borrow().get(&pid).map(|p| p.process.clone())
    }

    fn cmdline(&self, pid: i32) -> Vec<OsString> {
        self.procs
            .borrow()
            .get(&pid)
            .map(|p| p.cmdline.clone())
            .unwrap_or_default()
    }

    fn executes(&self, p: &Process, program: &Path) -> Option<bool> {
        self.procs.borrow().get(&p.pid).map(|f| f.exe == program)
    }

    fn uids(&self, pid: i32) -> Option<procs::Uids> {
        self.procs.borrow().get(&pid).map(|p| procs::Uids {
            real: p.uid,
            effective: p.uid,
        })
    }

    fn user_id(&self, user: &str) -> Option<u32> {
        (user == "www-data").then_some(WWW_DATA)
    }

    fn descendants(&self, pid: i32) -> Vec<Process> {
        self.procs
            .borrow()
            .values()
            .filter(|p| p.process.ppid == pid)
            .map(|p| p.process.clone())
            .collect()
    }

    fn thread_states(&self, pid: i32) -> Vec<char> {
        self.procs
            .borrow()
            .get(&pid)
            .map(|p| p.threads.clone())
            .unwrap_or_default()
    }

    fn signal(&self, id: ProcessId, signal: Signal) -> std::result::Result<bool, procs::Error> {
        if !self.is_alive(id) {
            return Ok(false);
        }
        self.signals.borrow_mut().push((id.pid, signal));
        self.deliver(id.pid, signal);
        Ok(true)
    }

    fn is_alive(&self, id: ProcessId) -> bool {
        self.procs
            .borrow()
            .get(&id.pid)
            .is_some_and(|p| p.process.is_running() && p.process.identity() == id)
    }

    fn launch(
        &self,
        program: &Path,
        args: &[OsString],
        env: &BTreeMap<String, String>,
    ) -> std::result::Result<FakeLauncher, procs::Error> {
        assert_eq!(program, Path::new(HTTPD));
        assert!(
            env.contains_key("PATH"),
            "httpd gets the agent's environment"
        );
        self.launches.borrow_mut().push(args.to_vec());
        Ok(FakeLauncher(Some(self.start_httpd(args))))
    }

    fn get(
        &self,
        request: &http_probe::Request,
    ) -> std::result::Result<http_probe::Response, http_probe::Error> {
        self.requests.borrow_mut().push(request.url.to_string());
        if self.ours().is_empty() {
            return Err(http_probe::Error::Connect {
                addr: "127.0.0.9:8080".parse().unwrap(),
                source: std::io::ErrorKind::ConnectionRefused.into(),
            });
        }
        match self.answer.borrow().clone() {
            Answer::Page(status, body) => Ok(http_probe::Response {
                url: request.url.clone(),
                head: http_probe::Head {
                    status,
                    reason: "OK".into(),
                    headers: Vec::new(),
                },
                body: body.as_bytes().to_vec(),
            }),
            Answer::Hangs => Err(http_probe::Error::TimedOut {
                url: request.url.to_string(),
                stage: "reading",
            }),
        }
    }
}

/// The parameters every test gives (the bench's and the lab's way: no envfiles).
const BASE: [(&str, &str); 3] = [("configfile", CONFIG), ("httpd", HTTPD), ("envfiles", "")];

fn ctx(action: Action, params: &[(&str, &str)], vars: &[(&str, &str)]) -> Context {
    let mut all = BASE.to_vec();
    all.extend_from_slice(params);
    let mut vars = vars.to_vec();
    vars.push(("HA_RSCTMP", STATE));
    vars.push(("OCF_RESKEY_CRM_meta_timeout", "4000"));
    testing::context::<Agent>(action, &all, &vars)
}

fn recurring(params: &[(&str, &str)]) -> Context {
    ctx(
        Action::Monitor,
        params,
        &[("OCF_RESKEY_CRM_meta_interval", "10000")],
    )
}

/// The agent's policy on `host` for `ctx`, configured as `ocf::run` would configure it
/// (the bad-configuration rule applied); Err when the rule answers the action itself.
fn logic(host: Fake, ctx: &Context) -> std::result::Result<Logic<Fake>, Result<Status>> {
    match testing::resolve::<Agent>(ctx) {
        Resolution::Run(identity, settings) => Ok(Logic {
            own_pid_file: crate::own_pid_file(&identity, ctx),
            cfg: crate::config::Config { identity, settings },
            host,
            run_uid: std::cell::OnceCell::new(),
        }),
        Resolution::Finish(r) => Err(r),
    }
}

/// The same host under the configuration of `ctx`.
fn reconfigured(a: Logic<Fake>, ctx: &Context) -> Logic<Fake> {
    logic(a.host, ctx).map_err(|r| format!("{r:?}")).unwrap()
}

fn agent(host: Fake) -> Logic<Fake> {
    logic(host, &ctx(Action::Start, &[], &[])).unwrap()
}

fn code(r: &Result<Status>) -> i32 {
    match r {
        Ok(s) => *s as i32,
        Err(e) => e.status() as i32,
    }
}

fn reason(r: Result<Status>) -> String {
    match r {
        Ok(s) => panic!("expected a failure, got {s:?}"),
        Err(e) => e.reason().to_owned(),
    }
}

#[test]
fn start_monitor_stop_and_their_idempotence() {
    let a = agent(Fake::new());
    let probe = ctx(Action::Monitor, &[], &[]);
    assert_eq!(a.monitor(&probe), Ok(Status::NotRunning));
    assert_eq!(a.stop(&ctx(Action::Stop, &[], &[])), Ok(Status::Success));

    assert_eq!(a.start(&ctx(Action::Start, &[], &[])), Ok(Status::Success));
    let launch = a.host.launches.borrow()[0].clone();
    assert_eq!(launch[0], "-DSTATUS");
    assert!(
        launch.windows(2).any(|w| w[0] == "-f" && w[1] == CONFIG),
        "{launch:?}"
    );
    let main = a.host.ours()[0];
    assert_eq!(
        a.host.file(OWN_PID).as_deref(),
        Some(format!("{main}\n").as_str()),
        "no PidFile configured: httpd is given the agent's own"
    );
    assert_eq!(a.monitor(&recurring(&[])), Ok(Status::Success));
    assert_eq!(a.monitor(&probe), Ok(Status::Success));
    assert!(
        a.host
            .requests
            .borrow()
            .iter()
            .all(|u| u == "http://127.0.0.9:8080/server-status"),
        "{:?}",
        a.host.requests.borrow()
    );

    assert_eq!(a.start(&ctx(Action::Start, &[], &[])), Ok(Status::Success));
    assert_eq!(
        a.host.launches.borrow().len(),
        1,
        "a second start starts nothing"
    );

    assert_eq!(a.stop(&ctx(Action::Stop, &[], &[])), Ok(Status::Success));
    assert!(a.host.ours().is_empty(), "nothing of ours survives stop");
    assert_eq!(a.host.signals.borrow()[0], (main, Signal::SIGWINCH));
    assert_eq!(a.host.file(OWN_PID), None, "the pid file is removed");
    assert_eq!(a.monitor(&recurring(&[])), Ok(Status::NotRunning));
    assert_eq!(a.stop(&ctx(Action::Stop, &[], &[])), Ok(Status::Success));
}

/// Issue 13: after a crash the pid file names a pid that is now another process (or a
/// zombie, or nothing); httpd refuses to start while it names a live process ("already
/// running", exit 0), and the old start waited until its timeout and blamed httpd. Seen
/// failing before the fix: "httpd did not answer ... before the start timeout".
#[test]
fn start_after_a_crash_removes_a_stale_pid_file_and_waits_for_the_new_one() {
    for stale in [
        "another process",
        "a zombie of ours",
        "a dead process",
        "garbage",
    ] {
        let host = Fake::new().with_pid_file(CONFIGURED_PID);
        let reused = 4242;
        match stale {
            "another process" => host.add(FakeProc {
                process: process(reused, 1, reused, "bash"),
                cmdline: vec!["/bin/bash".into()],
                exe: PathBuf::from("/bin/bash"),
                stubborn: false,
                uid: 0,
                threads: vec!['S'],
            }),
            "a zombie of ours" => host.add(FakeProc {
                process: Process {
                    state: 'Z',
                    ..process(reused, 1, reused, "apache2")
                },
                cmdline: Vec::new(),
                exe: PathBuf::from(HTTPD),
                stubborn: false,
                uid: 0,
                threads: vec!['S'],
            }),
            _ => {}
        }
        host.write(
            CONFIGURED_PID,
            if stale == "garbage" { "x\n" } else { "4242\n" },
        );
        let a = agent(host);
        assert_eq!(
            a.monitor(&ctx(Action::Monitor, &[], &[])),
            Ok(Status::NotRunning)
        );
        assert_eq!(
            a.start(&ctx(Action::Start, &[], &[])),
            Ok(Status::Success),
            "{stale}"
        );
        let main = a.host.ours()[0];
        assert_eq!(
            a.host.file(CONFIGURED_PID),
            Some(format!("{main}\n")),
            "{stale}: the configured pid file names the new httpd"
        );
        assert!(
            a.host.process(reused).is_none() || stale != "a dead process",
            "nothing else was touched"
        );
        assert!(
            a.host.signals.borrow().is_empty(),
            "{stale}: nothing was signalled"
        );
        assert_eq!(a.monitor(&recurring(&[])), Ok(Status::Success));
    }
}

/// Issue 16: httpd that logs only to its ErrorLog left the reason ending in ": ". It now
/// points to the log; and a server that dies right after forking is reported at once,
/// not at the start timeout.
#[test]
fn a_silent_failure_points_to_the_error_log() {
    let host = Fake::new();
    host.launch.set(Launch::FailsSilently(1));
    let r = agent(host).start(&ctx(Action::Start, &[], &[]));
    let why = reason(r);
    assert!(why.contains("exit code 1"), "{why}");
    assert!(why.contains("/var/log/web/error.log"), "{why}");
    assert!(!why.trim_end().ends_with(':'), "{why}");

    let host = Fake::new();
    host.launch.set(Launch::DiesAfterFork);
    let started = Instant::now();
    let why = reason(agent(host).start(&ctx(Action::Start, &[], &[])));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "reported at once"
    );
    assert!(why.contains("exited right after starting"), "{why}");
    assert!(why.contains("/var/log/web/error.log"), "{why}");
}

/// Issue 17: a configured PidFile in a directory a local user can write (www-data's): httpd,
/// as root, would open whatever link the user plants there. httpd is given the agent's own
/// pid file instead, and the configured file is neither removed nor trusted.
#[test]
fn a_pid_file_in_an_unsafe_directory_is_replaced_by_the_agents_own() {
    let mut host = Fake::new().with_pid_file("/var/www/run/httpd.pid");
    host.unsafe_dirs.push(PathBuf::from("/var/www/run"));
    host.write("/var/www/run/httpd.pid", "1234\n");
    let a = agent(host);
    assert_eq!(a.start(&ctx(Action::Start, &[], &[])), Ok(Status::Success));
    let launch = a.host.launches.borrow()[0].clone();
    assert!(
        launch
            .windows(2)
            .any(|w| w[0] == "-c" && w[1] == format!("PidFile \"{OWN_PID}\"").as_str()),
        "{launch:?}"
    );
    assert_eq!(
        a.host.file(OWN_PID),
        Some(format!("{}\n", a.host.ours()[0]))
    );
    assert_eq!(a.monitor(&recurring(&[])), Ok(Status::Success));
    assert_eq!(a.stop(&ctx(Action::Stop, &[], &[])), Ok(Status::Success));
    assert_eq!(
        a.host.file("/var/www/run/httpd.pid").as_deref(),
        Some("1234\n"),
        "nothing is removed from a directory others can write"
    );
}

#[test]
fn a_pid_file_another_httpd_holds_is_left_to_it() {
    let host = Fake::new().with_pid_file(CONFIGURED_PID);
    host.add(FakeProc {
        process: process(77, 1, 77, "apache2"),
        cmdline: vec![HTTPD.into(), "-f".into(), "/etc/other/httpd.conf".into()],
        exe: PathBuf::from(HTTPD),
        stubborn: false,
        uid: 0,
        threads: vec!['S'],
    });
    host.write(CONFIGURED_PID, "77\n");
    let a = agent(host);
    assert_eq!(a.start(&ctx(Action::Start, &[], &[])), Ok(Status::Success));
    assert_eq!(a.host.file(CONFIGURED_PID).as_deref(), Some("77\n"));
    assert!(a.host.file(OWN_PID).is_some());
    assert_eq!(a.stop(&ctx(Action::Stop, &[], &[])), Ok(Status::Success));
    assert!(a.host.process(77).is_some(), "the other httpd lives");
}

/// Issue 13: the metadata advertised a depth-10 monitor that answered 6 without testurl
/// and testregex10, so a resource created with no `op` was banned a minute later. A deeper
/// check that lacks its settings falls back to the status page; never 6.
#[test]
fn a_level_10_monitor_without_its_settings_checks_the_status_page() {
    let host = Fake::new();
    let a = agent(host);
    a.start(&ctx(Action::Start, &[], &[])).unwrap();
    let deep = |params: &[(&str, &str)]| {
        ctx(
            Action::Monitor,
            params,
            &[
                ("OCF_RESKEY_CRM_meta_interval", "60000"),
                ("OCF_CHECK_LEVEL", "10"),
            ],
        )
    };
    for params in [
        &[][..],
        &[("testurl", "/index.html")][..],
        &[("testregex10", "works")][..],
        &[("testurl", "/index.html"), ("testregex10", "(unclosed")][..],
        &[("testconffile", "/etc/web/no-such-tests")][..],
    ] {
        let c = deep(params);
        let a = logic(Fake::new(), &c)
            .map_err(|r| format!("{r:?}"))
            .unwrap();
        a.host.add(FakeProc {
            process: process(900, 1, 900, "apache2"),
            cmdline: vec![HTTPD.into(), "-f".into(), CONFIG.into()],
            exe: PathBuf::from(HTTPD),
            stubborn: false,
            uid: 0,
            threads: vec!['S'],
        });
        a.host.write(OWN_PID, "900\n");
        assert_eq!(a.monitor(&c), Ok(Status::Success), "{params:?}");
        assert_eq!(
            a.host.requests.borrow().as_slice(),
            ["http://127.0.0.9:8080/server-status"],
            "{params:?}"
        );
    }
    // With its settings it runs, and fails as a check fails: 1, not 6.
    let c = deep(&[("testurl", "/index.html"), ("testregex10", "no such text")]);
    let a = reconfigured(a, &c);
    let r = a.monitor(&c);
    assert_eq!(code(&r), 1, "{r:?}");
    assert!(reason(r).contains("/index.html"));
    let meta = ocf::Metadata::parse(<Agent as ocf::Agent>::METADATA).unwrap();
    assert!(
        !<Agent as ocf::Agent>::METADATA.contains("depth=\"10\""),
        "only what is safe with default parameters is advertised ({meta:?})"
    );
}

/// Check 11 of the lab's fenced profile: the survivor's GFS2 froze for 80 s while the other
/// node was fenced (its fence delay and SBD's msgwait); httpd's lookup of /server-status
/// under DocumentRoot waited on the frozen filesystem, the monitor answered 1 ("no answer
/// before the deadline"), and Pacemaker restarted the only serving Apache once the freeze
/// ended: its start waited for the rejoining node's probes, 25 s without a web server and a
/// failed action left behind. A restart cannot help a frozen filesystem and its stop waits on
/// the same freeze; httpd's threads in uninterruptible sleep show it. Now: degraded (190),
/// no recovery. A stopped httpd (SIGSTOP, threads in T) is still a failure.
#[test]
fn an_httpd_waiting_on_frozen_storage_is_degraded_not_failed() {
    let a = agent(Fake::new());
    a.start(&ctx(Action::Start, &[], &[])).unwrap();
    *a.host.answer.borrow_mut() = Answer::Hangs;
    let worker = *a.host.ours().last().unwrap();
    let set_threads = |states: &[char]| {
        a.host.procs.borrow_mut().get_mut(&worker).unwrap().threads = states.to_vec();
    };
    set_threads(&['S', 'D', 'D', 'S']);
    let r = a.monitor(&recurring(&[]));
    assert_eq!(code(&r), 190, "{r:?}");
    let why = reason(r);
    assert!(
        why.contains("storage is frozen") && why.contains("2 of its threads"),
        "{why}"
    );
    assert!(
        why.contains("before the deadline"),
        "the probe's own words: {why}"
    );
    // Stopped by a signal: restarting helps, so it fails.
    set_threads(&['T', 'T', 'T', 'T']);
    let r = a.monitor(&recurring(&[]));
    assert_eq!(code(&r), 1, "{r:?}");
    assert!(reason(r).contains("fails its check"));
    // Thawed: running again.
    *a.host.answer.borrow_mut() = Answer::Page(200, STATUS_PAGE);
    assert_eq!(a.monitor(&recurring(&[])), Ok(Status::Success));
}

#[test]
fn monitor_reports_what_it_finds() {
    let a = agent(Fake::new());
    a.start(&ctx(Action::Start, &[], &[])).unwrap();
    *a.host.answer.borrow_mut() = Answer::Page(200, "<html>maintenance</html>");
    let c = recurring(&[("testregex", "Server Status")]);
    let a = reconfigured(a, &c);
    let r = a.monitor(&c);
    assert_eq!(code(&r), 1);
    assert!(reason(r).contains("does not match"));
    *a.host.answer.borrow_mut() = Answer::Hangs;
    let r = a.monitor(&recurring(&[]));
    assert_eq!(code(&r), 1);
    assert!(reason(r).contains("before the deadline"));
    // The main process killed, a worker left: not stopped, not running.
    let main = a.host.ours()[0];
    a.host.procs.borrow_mut().remove(&main);
    let r = a.monitor(&recurring(&[]));
    assert_eq!(code(&r), 1);
    assert!(reason(r).contains("main httpd process is gone"));
    assert_eq!(a.stop(&ctx(Action::Stop, &[], &[])), Ok(Status::Success));
    assert!(a.host.ours().is_empty(), "the orphaned worker is killed");
}

/// Issue 17: a local user runs a copy of httpd with this resource's command line (the real
/// binary, `-f` the configuration) and keeps it alive (under a debugger). Before, it was
/// taken for the server: as its own session's leader, start said "already running" and
/// started nothing; otherwise a probe of the stopped server answered 1 ("the main httpd
/// process is gone"), and stop killed it. Now httpd's main process must be root's and a
/// worker must be in a root main's session, or, orphaned, run as the configuration's User.
#[test]
fn a_users_copy_of_httpd_is_neither_the_server_nor_its_leftovers() {
    const NOBODY: u32 = 65534;
    let copy = |pid: i32, session: i32, uid: u32| FakeProc {
        process: process(pid, session, session, "apache2"),
        cmdline: vec![HTTPD.into(), "-f".into(), CONFIG.into()],
        exe: PathBuf::from(HTTPD),
        stubborn: false,
        uid,
        threads: vec!['S'],
    };
    // The user's shell leads the session (alive), the copy leads its own, or the session's
    // leader is gone (the user's shell exited, or the session was begun outside this pid
    // namespace, as under a CI runner) while the copy's launcher, a debugger the user
    // runs, is alive: with the configuration's User the copy's own or none named.
    let cases = [
        (4000, 3999, NOBODY, Some("www-data")),
        (4000, 4000, NOBODY, Some("www-data")),
        (4000, 3000, NOBODY, Some("www-data")),
        (4000, 3000, WWW_DATA, Some("www-data")),
        (4000, 3000, NOBODY, None),
        (4000, 0, NOBODY, None),
    ];
    for (pid, session, uid, user) in cases {
        let host = Fake::new();
        host.add(FakeProc {
            process: process(3999, 1, 3999, "bash"),
            cmdline: vec!["-bash".into()],
            exe: PathBuf::from("/bin/bash"),
            stubborn: false,
            uid,
            threads: vec!['S'],
        });
        host.add(FakeProc {
            process: process(pid, 3999, session, "apache2"),
            ..copy(pid, session, uid)
        });
        *host.config.borrow_mut() = Ok(Config {
            user: user.map(str::to_owned),
            ..config()
        });
        let a = agent(host);
        let probe = ctx(Action::Monitor, &[], &[]);
        assert_eq!(
            a.monitor(&probe),
            Ok(Status::NotRunning),
            "session {session}"
        );
        assert_eq!(a.start(&ctx(Action::Start, &[], &[])), Ok(Status::Success));
        assert_eq!(
            a.host.launches.borrow().len(),
            1,
            "the real server is started"
        );
        assert_eq!(a.monitor(&recurring(&[])), Ok(Status::Success));
        assert_eq!(a.stop(&ctx(Action::Stop, &[], &[])), Ok(Status::Success));
        assert_eq!(
            a.monitor(&probe),
            Ok(Status::NotRunning),
            "session {session}"
        );
        assert!(
            a.host.signals.borrow().iter().all(|(p, _)| *p != pid),
            "the user's copy is never signalled: {:?}",
            a.host.signals.borrow()
        );
        assert!(a.host.procs.borrow().contains_key(&pid));
    }
    // A worker orphaned by a killed main process, run as the User, is still ours.
    let host = Fake::new();
    *host.config.borrow_mut() = Ok(Config {
        user: Some("www-data".into()),
        ..config()
    });
    host.add(copy(4001, 3000, WWW_DATA));
    let a = agent(host);
    let r = a.monitor(&ctx(Action::Monitor, &[], &[]));
    assert!(reason(r).contains("main httpd process is gone"));
    assert_eq!(a.stop(&ctx(Action::Stop, &[], &[])), Ok(Status::Success));
    assert!(
        !a.host.procs.borrow().contains_key(&4001),
        "the orphan is killed"
    );
}

/// Issue 17: stop must not depend on reading the configuration to its end (an Include of
/// a FIFO, a file past the caps): httpd is found through /proc and stopped.
#[test]
fn stop_without_a_readable_configuration_still_stops() {
    let host = Fake::new().with_pid_file(CONFIGURED_PID);
    let a = agent(host);
    a.start(&ctx(Action::Start, &[], &[])).unwrap();
    *a.host.config.borrow_mut() = Err("/etc/web/conf.d/evil.conf");
    let r = a.monitor(&recurring(&[]));
    assert_eq!(
        code(&r),
        6,
        "a running server with a configuration httpd refuses"
    );
    assert_eq!(a.stop(&ctx(Action::Stop, &[], &[])), Ok(Status::Success));
    assert!(a.host.ours().is_empty());
    assert_eq!(
        a.monitor(&ctx(Action::Monitor, &[], &[])),
        Ok(Status::NotRunning)
    );
}

#[test]
fn stop_escalates_to_kill_for_a_stuck_server() {
    let host = Fake::new();
    host.stubborn.set(true);
    let a = agent(host);
    a.start(&ctx(Action::Start, &[], &[])).unwrap();
    let stop = ctx(
        Action::Stop,
        &[],
        &[("OCF_RESKEY_CRM_meta_timeout", "1000")],
    );
    assert_eq!(a.stop(&stop), Ok(Status::Success));
    let sent: Vec<Signal> = a.host.signals.borrow().iter().map(|s| s.1).collect();
    assert_eq!(sent, [Signal::SIGWINCH, Signal::SIGTERM, Signal::SIGKILL]);
    assert!(a.host.ours().is_empty());
}

/// The bad-configuration rule (crates/ocf) through this agent: a typo in a setting fails
/// validate-all and start, while probe, monitor and stop run on the identity with the XML
/// default and report the server's real state.
#[test]
fn the_bad_configuration_rule_for_every_action() {
    for typo in [
        ("testregex", "(unclosed"),
        ("port", "eighty"),
        ("options", "-c 'PidFile /x"),
        ("use_ipv6", "perhaps"),
        ("statusurl", "localhost/server-status"),
    ] {
        for action in [Action::ValidateAll, Action::Start] {
            let r = logic(Fake::new(), &ctx(action, &[typo], &[])).map(drop);
            let Err(Err(e)) = r else {
                panic!("{action} ran with {typo:?}")
            };
            assert_eq!(e.status(), Status::ErrConfigured, "{typo:?}");
            assert!(e.reason().contains(typo.0), "{e}");
        }
        let a = agent(Fake::new());
        a.start(&ctx(Action::Start, &[], &[])).unwrap();
        let host = a.host;
        let running = logic(host, &recurring(&[typo])).unwrap();
        assert_eq!(
            running.monitor(&recurring(&[typo])),
            Ok(Status::Success),
            "{typo:?}"
        );
        let stop = ctx(Action::Stop, &[typo], &[]);
        let stopping = logic(running.host, &stop).unwrap();
        assert_eq!(stopping.stop(&stop), Ok(Status::Success), "{typo:?}");
        assert!(stopping.host.ours().is_empty());
        let probe = ctx(Action::Monitor, &[typo], &[]);
        let probing = logic(stopping.host, &probe).unwrap();
        assert_eq!(probing.monitor(&probe), Ok(Status::NotRunning), "{typo:?}");
    }
    // An unusable identity: nothing runs with `-f` that value, so probe 7 and stop 0.
    for action in [Action::Monitor, Action::Stop] {
        let c = ctx(action, &[("configfile", "relative/httpd.conf")], &[]);
        let Err(r) = logic(Fake::new(), &c).map(drop) else {
            panic!("{action} ran")
        };
        let want = if action == Action::Stop { 0 } else { 7 };
        assert_eq!(code(&r), want, "{action}: {r:?}");
    }
    let c = ctx(Action::Start, &[("configfile", "relative/httpd.conf")], &[]);
    let Err(r) = logic(Fake::new(), &c).map(drop) else {
        panic!("start ran")
    };
    assert_eq!(code(&r), 6);
}

#[test]
fn a_missing_configuration_or_binary() {
    let host = Fake::new();
    *host.config.borrow_mut() = Ok(config());
    let a = logic(
        host,
        &ctx(Action::Start, &[("configfile", "/etc/web/none.conf")], &[]),
    )
    .unwrap();
    let r = a.start(&ctx(Action::Start, &[], &[]));
    assert_eq!(code(&r), 5);
    assert!(reason(r).contains("/etc/web/none.conf"));
    assert_eq!(
        a.monitor(&ctx(Action::Monitor, &[], &[])),
        Ok(Status::NotRunning)
    );
    assert_eq!(a.stop(&ctx(Action::Stop, &[], &[])), Ok(Status::Success));
    let a = logic(
        Fake::new(),
        &ctx(Action::Start, &[("httpd", "/usr/sbin/none")], &[]),
    )
    .unwrap();
    let r = a.validate(&ctx(Action::ValidateAll, &[], &[]));
    assert_eq!(r.unwrap_err().status(), Status::ErrInstalled);
}

#[test]
fn default_status_url_comes_from_the_configuration() {
    let a = agent(Fake::new());
    let mut config = Config {
        listen: vec![
            Listen {
                address: "127.0.0.7:8081".into(),
                protocol: None,
            },
            Listen {
                address: "90".into(),
                protocol: None,
            },
        ],
        status_location: Some("/st".into()),
        ..Config::default()
    };
    assert_eq!(
        a.status_url(Some(&config)).to_string(),
        "http://127.0.0.7:8081/st"
    );
    config.listen.remove(0);
    config.listen[0].address = "8082".into();
    config.status_location = None;
    assert_eq!(
        a.status_url(Some(&config)).to_string(),
        "http://localhost:8082/server-status"
    );
    assert_eq!(
        a.status_url(None).to_string(),
        "http://localhost/server-status"
    );
    let c = ctx(Action::Start, &[("port", "9000"), ("use_ipv6", "yes")], &[]);
    let a = logic(Fake::new(), &c).unwrap();
    let url = a.localize(a.status_url(Some(&config)));
    assert_eq!(url.to_string(), "http://[::1]:9000/server-status");
    config.listen[0] = Listen {
        address: "127.0.0.7:8443".into(),
        protocol: Some("https".into()),
    };
    assert_eq!(
        a.status_url(Some(&config)).to_string(),
        "https://127.0.0.7:9000/server-status",
        "a Listen with the https protocol"
    );
    let c = ctx(Action::Start, &[("statusurl", "http://127.0.0.3:1/x")], &[]);
    let a = logic(Fake::new(), &c).unwrap();
    assert_eq!(
        a.status_url(Some(&config)).to_string(),
        "http://127.0.0.3:1/x"
    );
}

#[test]
fn own_pid_file_is_per_instance() {
    let env = ocf::Env::from_vars([
        ("OCF_RESKEY_configfile", CONFIG),
        ("HA_RSCTMP", "/run/ra"),
        ("OCF_RESOURCE_INSTANCE", "web:1"),
    ])
    .unwrap();
    let c = Context::new(Action::Start, env);
    let (identity, _) = testing::parse::<Agent>(&c).unwrap();
    assert_eq!(
        crate::own_pid_file(&identity, &c),
        Path::new("/run/ra/apache2-web_1.pid")
    );
}
