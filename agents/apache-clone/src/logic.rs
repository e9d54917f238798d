//! The policy: what start, stop, monitor and validate-all do with one instance's httpd,
//! written against [`Host`] so that the same code runs on the system and, in the unit
//! tests, on a fake.
//!
//! A process is this instance's httpd when it executes the configured binary and its
//! command line holds `-f <configfile>` (every httpd this agent starts gets that argument).
//! A pid file is a hint checked against that rule, never trusted alone: a reused pid, a
//! zombie, or another instance's httpd in a shared pid file is not mistaken for ours.

use crate::conf::{ConfError, Config};
use crate::config::{Checks, Identity, Settings, compile_regex, matches_a_line};
use crate::envfile::ShellEnv;
use crate::host::{Host, Launched};
use crate::testconf;
use http_probe::Url;
use ocf::{Context, Deadline, Error, Policy, Result, ResultExt, Status};
use procs::{Identity as ProcessId, Process, Signal};
use regex_lite::Regex;
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::{Duration, Instant};

/// How often stop looks at /proc while waiting for httpd to exit, and start for it to come.
const EXIT_POLL: Duration = Duration::from_millis(5);
const START_POLL: Duration = Duration::from_millis(20);
/// How many consecutive looks (`START_POLL` apart) after the launcher exited may find no
/// httpd process at all before start gives up: httpd forks its server before the launcher
/// exits, so none means the server died.
const VANISHED_LOOKS: u32 = 5;
/// The share of stop's time that reading the configuration may take: stop needs it only to
/// find a configured pid file, and finds httpd through /proc without it.
const STOP_CONFIG_SHARE: f64 = 0.2;

/// What start, monitor and stop learn from the configuration and the envfiles.
#[derive(Debug, Clone)]
pub struct Setup {
    pub config: Config,
    /// httpd's environment.
    pub env: BTreeMap<String, String>,
}

/// The pid file httpd is told to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PidFile {
    /// The agent's own per-instance file, passed as `-c "PidFile ..."`.
    Own(PathBuf),
    /// The configuration's PidFile.
    Configured(PathBuf),
}

impl PidFile {
    pub fn path(&self) -> &Path {
        match self {
            PidFile::Own(p) | PidFile::Configured(p) => p,
        }
    }
}

/// One check's outcome.
#[derive(Debug)]
pub enum Probe {
    Matched,
    /// The server answered, but not as expected (reason).
    Mismatch(String),
    /// No answer (reason); `refused` when nothing listens.
    NoAnswer {
        reason: String,
        refused: bool,
    },
}

/// The level-10 test: the URL, what it must match, HTTP Basic credentials.
type Level10 = (String, Regex, Option<(String, String)>);

/// The agent's policy for one httpd over a host `H`.
#[derive(Debug)]
pub struct Logic<H: Host> {
    /// The identity and the settings (the agent's parameters; `conf::Config` is httpd's own).
    pub cfg: crate::config::Config,
    pub host: H,
    /// The per-instance pid file, used when the configuration names none, names one that
    /// another httpd holds, or names one in a directory a local user could tamper with.
    pub own_pid_file: PathBuf,
    /// The uid of the configuration's `User`, once this action has read the configuration
    /// (None inside: no `User`, or one this system does not know).
    pub run_uid: std::cell::OnceCell<Option<u32>>,
}

impl<H: Host> Logic<H> {
    // ---- the configuration -------------------------------------------------------------

    fn httpd(&self) -> &Path {
        &self.cfg.identity.httpd
    }

    fn checks(&self) -> &Checks {
        &self.cfg.settings.checks
    }

    /// The binary and the configuration file exist (else OCF_ERR_INSTALLED, as the anchor).
    fn check_installed(&self) -> Result<()> {
        if !self.host.is_executable(self.httpd()) {
            return Err(Error::installed(format!(
                "httpd {} not found or not executable",
                self.httpd().display()
            )));
        }
        if !self.host.is_file(&self.cfg.identity.configfile) {
            return Err(Error::installed(format!(
                "configfile {} not found",
                self.cfg.identity.configfile.display()
            )));
        }
        Ok(())
    }

    /// httpd's compiled-in ServerRoot (Debian's apache2: /etc/apache2; RHEL's and SUSE's
    /// httpd: /etc/httpd, which their configurations override), or `-d` in options.
    fn server_root(&self) -> PathBuf {
        let options = &self.cfg.settings.options;
        if let Some(i) = options.iter().position(|o| o == "-d")
            && let Some(dir) = options.get(i + 1)
        {
            return PathBuf::from(dir);
        }
        if let Some(dir) = options.iter().find_map(|o| o.strip_prefix("-d"))
            && !dir.is_empty()
        {
            return PathBuf::from(dir);
        }
        let debian = self
            .httpd()
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("apache2"));
        PathBuf::from(if debian { "/etc/apache2" } else { "/etc/httpd" })
    }

    /// httpd's environment: the agent's, changed by the envfiles.
    fn environment(&self) -> BTreeMap<String, String> {
        let mut env = ShellEnv::from_env(self.host.environment());
        for file in &self.cfg.settings.envfiles {
            match self.host.read_envfile(file) {
                Ok(Some(text)) => env.apply(&text),
                Ok(None) => {}
                Err(e) => log::warn!("envfile skipped: {e}"),
            }
        }
        env.exported()
    }

    /// Read the envfiles and the configuration, no later than `until`.
    pub fn read_setup(&self, until: Instant) -> Result<Setup> {
        let env = self.environment();
        let configfile = &self.cfg.identity.configfile;
        let config = self
            .host
            .read_config(configfile, &self.server_root(), &env, until)
            .map_err(|e| match &e {
                ConfError::Read { path, source }
                    if path == configfile && source.kind() == std::io::ErrorKind::NotFound =>
                {
                    Error::installed(format!("configfile {} not found", path.display()))
                }
                e if e.is_configuration() => Error::configured(e.to_string()),
                e => Error::generic(e.to_string()),
            })?;
        let _ = self
            .run_uid
            .set(config.user.as_deref().and_then(|u| self.host.user_id(u)));
        Ok(Setup { config, env })
    }

    // ---- which processes are ours ------------------------------------------------------

    /// The kernel's name for a process executing httpd (the file name, 15 bytes of it).
    fn comm(&self) -> String {
        let base = self
            .httpd()
            .file_name()
            .unwrap_or_default()
            .as_encoded_bytes();
        String::from_utf8_lossy(&base[..base.len().min(procs::COMM_LEN)]).into_owned()
    }

    fn is_running_httpd(&self, p: &Process) -> bool {
        p.is_running() && p.comm == self.comm()
    }

    /// Without privileges another user's exe cannot be read; the command line decides.
    fn runs_httpd(&self, p: &Process) -> bool {
        self.host.executes(p, self.httpd()) != Some(false)
    }

    /// True when the command line of process `pid` holds `-f <configfile>`.
    fn names_config(&self, pid: i32) -> bool {
        self.host
            .cmdline(pid)
            .windows(2)
            .any(|w| w[0] == OsStr::new("-f") && Path::new(&w[1]) == self.cfg.identity.configfile)
    }

    /// True when `p` is this instance's httpd. The cheap tests come first: the name the
    /// kernel gives the process, then its command line (one read), and only then its
    /// executable and its user.
    pub fn is_ours(&self, p: &Process) -> bool {
        self.is_running_httpd(p)
            && self.names_config(p.pid)
            && self.runs_httpd(p)
            && self.started_by_root(p)
    }

    /// True when `p` is this instance's main httpd process: ours, and run by root (the agent
    /// starts it as root, and it stays root while its workers take the configured `User`).
    fn is_main(&self, p: &Process) -> bool {
        self.is_running_httpd(p)
            && self.names_config(p.pid)
            && self.runs_httpd(p)
            && self.run_by_root(p)
    }

    fn run_by_root(&self, p: &Process) -> bool {
        self.host
            .uids(p.pid)
            .is_some_and(|u| u.real == 0 && u.effective == 0)
    }

    /// True when `p`, a process executing httpd with this configuration, comes from a
    /// server root started, not from a local user who runs a copy of httpd with the same
    /// command line (issue 17: held alive, say under a debugger, such a copy made a probe
    /// of a stopped server answer 1, and stop killed it and then failed). Root's processes
    /// are; a worker is when its session is led by a root httpd of ours (httpd detaches
    /// with setsid(2), its workers stay in its session); a worker orphaned by a killed main
    /// process (its session's leader is gone) is when its parent is root's (it was adopted)
    /// and it runs as the configuration's `User`, or, where this action has not read the configuration or it names no user
    /// this system knows, it is given the benefit of the doubt, as before.
    fn started_by_root(&self, p: &Process) -> bool {
        let Some(uids) = self.host.uids(p.pid) else {
            return false;
        };
        if uids.real == 0 && uids.effective == 0 {
            return true;
        }
        if p.session == p.pid {
            return false;
        }
        match self.host.process(p.session) {
            Some(leader) => self.is_main(&leader),
            None => {
                self.adopted_by_root(p)
                    && match self.run_uid.get().copied().flatten() {
                        Some(uid) => uids.real == uid,
                        None => true,
                    }
            }
        }
    }

    /// True when `p`'s parent is root's or out of sight. A worker whose main process died
    /// is adopted by init or the subreaper above the main process, both root's (the main
    /// process was root's); a user's copy of httpd has its launcher (a shell, a debugger)
    /// for parent, which is the user's. A parent in another pid namespace shows as pid 0.
    fn adopted_by_root(&self, p: &Process) -> bool {
        p.ppid == 0 || self.host.uids(p.ppid).is_none_or(|u| u.real == 0)
    }

    /// Every running process of this instance's httpd, from one walk of /proc that reads
    /// only the name of a process not called like httpd, and only the command line of
    /// another instance's httpd.
    pub fn all_ours(&self) -> Vec<Process> {
        self.host
            .pids_named(&self.comm())
            .unwrap_or_default()
            .into_iter()
            .filter(|&pid| self.names_config(pid))
            .filter_map(|pid| self.host.process(pid))
            .filter(|p| self.is_running_httpd(p) && self.runs_httpd(p) && self.started_by_root(p))
            .collect()
    }

    /// Walk /proc once: the main process of ours (the one leading its session and run by
    /// root: httpd detaches with setsid(2), its workers stay in its session; orphaned
    /// workers of a killed main process are not a main process) and all of ours.
    pub fn scan(&self) -> (Option<Process>, Vec<Process>) {
        let ours = self.all_ours();
        let main = ours
            .iter()
            .find(|p| p.session == p.pid && self.run_by_root(p))
            .cloned();
        (main, ours)
    }

    /// The process a pid file names, when it is ours and run by root (a main process).
    fn main_from(&self, file: &Path) -> Option<Process> {
        match self.host.read_pid_file(file) {
            Ok(Some(pid)) => self.host.process(pid).filter(|p| self.is_main(p)),
            Ok(None) => None,
            Err(e) => {
                log::warn!("{e}");
                None
            }
        }
    }

    /// The main process from the pid files only (ours, then the configuration's).
    pub fn main_from_pid_files(&self, setup: Option<&Setup>) -> Option<Process> {
        let configured = setup.and_then(|s| s.config.pid_file.as_deref());
        std::iter::once(self.own_pid_file.as_path())
            .chain(configured)
            .find_map(|file| self.main_from(file))
    }

    /// The main process: from the pid files when they name one of ours, else from /proc.
    pub fn find_main(&self, setup: Option<&Setup>) -> Option<Process> {
        self.main_from_pid_files(setup).or_else(|| {
            let main = self.scan().0;
            if let Some(p) = &main {
                log::debug!("httpd pid {} found without a valid pid file", p.pid);
            }
            main
        })
    }

    /// True when `file` names a running httpd (same binary) that is not ours.
    fn held_by_another(&self, file: &Path) -> bool {
        let Ok(Some(pid)) = self.host.read_pid_file(file) else {
            return false;
        };
        self.host.process(pid).is_some_and(|p| {
            self.is_running_httpd(&p) && self.runs_httpd(&p) && !self.names_config(p.pid)
        })
    }

    /// Which pid file httpd writes: the configuration's, unless it names none, another
    /// httpd holds it, or its directory fails the state-directory checks (a directory
    /// another user can write lets that user plant a link that httpd, as root, follows
    /// when it writes the file); then the agent's own.
    pub fn pid_file(&self, setup: &Setup) -> PidFile {
        let Some(configured) = setup.config.pid_file.clone() else {
            return PidFile::Own(self.own_pid_file.clone());
        };
        let own = |why: String| {
            log::warn!(
                "PidFile {} {why}; using {}",
                configured.display(),
                self.own_pid_file.display()
            );
            PidFile::Own(self.own_pid_file.clone())
        };
        if let Some(dir) = configured.parent()
            && let Err(e) = self.host.check_pid_dir(dir)
        {
            return own(format!("is not in a safe directory ({e})"));
        }
        if self.held_by_another(&configured) {
            return own("belongs to another httpd".into());
        }
        PidFile::Configured(configured)
    }

    /// Remove a pid file that names no httpd of ours: a dead process, a zombie, or a pid
    /// reused by another process after a crash. httpd itself refuses to start ("already
    /// running", exit 0) while its pid file names any live process.
    fn remove_if_stale(&self, file: &Path) {
        match self.host.read_pid_file(file) {
            Ok(Some(pid)) if self.host.process(pid).is_some_and(|p| self.is_ours(&p)) => {}
            Ok(None) => {}
            Ok(Some(_)) | Err(procs::Error::PidFileGarbage { .. }) => {
                match self.host.remove_file(file) {
                    Ok(()) => log::info!("removed stale pid file {}", file.display()),
                    Err(e) => log::warn!(
                        "cannot remove stale pid file {}: {}",
                        file.display(),
                        crate::io_reason(&e)
                    ),
                }
            }
            Err(e) => log::warn!("{e}"),
        }
    }

    // ---- what monitor checks -----------------------------------------------------------

    /// The status URL: the parameter, or built from the configuration.
    pub fn status_url(&self, config: Option<&Config>) -> Url {
        if let Some(u) = &self.checks().statusurl {
            return u.clone();
        }
        let path = config
            .and_then(|c| c.status_location.clone())
            .unwrap_or_else(|| "/server-status".to_owned());
        let mut base = self.base_url(config);
        base.path = path;
        base
    }

    /// `http://<first Listen>/` (`https://` when that Listen serves TLS), the port
    /// parameter overriding the port.
    pub fn base_url(&self, config: Option<&Config>) -> Url {
        let listen = config.and_then(|c| c.listen.first());
        let (host, port) = listen
            .and_then(crate::conf::Listen::host_port)
            .unwrap_or_else(|| ("localhost".to_owned(), 80));
        Url {
            https: listen.is_some_and(crate::conf::Listen::is_https),
            host,
            port: self.checks().port.unwrap_or(port),
            path: "/".to_owned(),
        }
    }

    /// `localhost` as the loopback address of the family asked for.
    pub fn localize(&self, mut url: Url) -> Url {
        if url.host.eq_ignore_ascii_case("localhost") {
            let loopback = if self.checks().use_ipv6 {
                "::1"
            } else {
                "127.0.0.1"
            };
            loopback.clone_into(&mut url.host);
        }
        url
    }

    /// GET `url` and match `regex`, within `end`.
    fn probe(
        &self,
        url: Url,
        regex: &Regex,
        auth: Option<(String, String)>,
        end: Instant,
    ) -> Probe {
        let url = self.localize(url);
        let mut request = http_probe::Request::new(url.clone(), end);
        request.basic_auth = auth;
        match self.host.get(&request) {
            Ok(r) if matches_a_line(regex, &r.text()) => {
                if r.head.status >= 400 {
                    log::warn!("{url} answered HTTP {} (its body matches)", r.head.status);
                }
                Probe::Matched
            }
            Ok(r) => Probe::Mismatch(format!(
                "{url} answered HTTP {} {} and its body does not match {}",
                r.head.status,
                r.head.reason,
                ocf::error::printable(regex.as_str())
            )),
            Err(e) => Probe::NoAnswer {
                refused: e.is_refused(),
                reason: format!("{url}: {e}"),
            },
        }
    }

    /// The level-0 check: status URL and testregex (with the shell agent's fallback to any
    /// answer from the index page when nothing about monitoring is configured).
    fn check_status(&self, config: Option<&Config>, end: Instant) -> Result<Probe> {
        let regex = self.checks().testregex.regex()?;
        let result = self.probe(self.status_url(config), regex, None, end);
        if !matches!(result, Probe::Matched) && self.checks().defaults_only {
            let index = self.localize(self.base_url(config));
            if self
                .host
                .get(&http_probe::Request::new(index.clone(), end))
                .is_ok()
            {
                log::debug!("status page failed; {index} answers, which is enough by default");
                return Ok(Probe::Matched);
            }
        }
        Ok(result)
    }

    /// What the level-10 check fetches and matches: testconffile's test, or testurl and
    /// testregex10. None when they are not set (or were refused as bad settings): the
    /// monitor then falls back to level 0.
    fn level10_test(&self) -> Result<Option<Level10>> {
        let checks = self.checks();
        if let Some(file) = &checks.testconffile {
            let text = self
                .host
                .read_testconf(file)
                .map_err(|e| Error::installed(format!("testconffile: {e}")))?
                .ok_or_else(|| {
                    Error::installed(format!("testconffile {} not found", file.display()))
                })?;
            let def = testconf::find(&text, checks.testname.as_deref()).map_err(|why| {
                Error::bad_param("testconffile", &file.display().to_string(), why)
            })?;
            let regex = compile_regex("testconffile match", &def.regex)?;
            let auth = (!def.user.is_empty()).then(|| (def.user.clone(), def.password.clone()));
            return Ok(Some((def.url, regex, auth)));
        }
        let (Some(url), Some(pattern)) = (&checks.testurl, &checks.testregex10) else {
            return Ok(None);
        };
        Ok(pattern
            .regex_or_none()?
            .map(|r| (url.clone(), r.clone(), None)))
    }

    /// The level-10 check; None when it lacks its settings.
    fn check_level10(&self, config: Option<&Config>, end: Instant) -> Result<Option<Probe>> {
        let test = match self.level10_test() {
            Ok(Some(test)) => test,
            Ok(None) => return Ok(None),
            Err(e) => {
                log::error!(
                    "{}; the level-10 monitor falls back to level 0 (validate-all and start \
                     refuse it)",
                    e.reason()
                );
                return Ok(None);
            }
        };
        let (url, regex, auth) = test;
        let url = if url.contains("://") {
            url.parse::<Url>()
                .map_err(|e| Error::bad_param("testurl", &url, e))?
        } else {
            let mut base = self.base_url(config);
            base.path = url;
            base
        };
        Ok(Some(self.probe(url, &regex, auth, end)))
    }

    /// How many threads of httpd (`main` and its descendants) wait in uninterruptible
    /// sleep: in the kernel, for I/O or a lock that no signal interrupts.
    fn threads_in_kernel_wait(&self, main: &Process) -> usize {
        std::iter::once(main.pid)
            .chain(self.host.descendants(main.pid).iter().map(|p| p.pid))
            .map(|pid| {
                self.host
                    .thread_states(pid)
                    .iter()
                    .filter(|&&s| s == 'D')
                    .count()
            })
            .sum()
    }

    /// A check that got no answer, judged. When httpd accepted the request but threads of
    /// it wait in the kernel, its storage is frozen: a cluster filesystem under DocumentRoot
    /// waiting for a node's fencing or its journal's recovery (GFS2 blocks every lock
    /// request meanwhile, and httpd looks up each URL's path there, even the status
    /// page's). A restart cannot help then and its stop would wait on the same freeze: the
    /// answer is degraded (190), which Pacemaker shows but does not recover. Anything else
    /// (a stopped or looping httpd, nothing listening) is a failure.
    fn no_answer(&self, main: Option<&Process>, reason: &str, refused: bool) -> Error {
        let waiting = match main {
            Some(main) if !refused => self.threads_in_kernel_wait(main),
            _ => 0,
        };
        if waiting > 0 {
            return Error::new(
                Status::Degraded,
                format!(
                    "httpd cannot answer while its storage is frozen: {waiting} of its threads \
                     wait in the kernel (uninterruptible sleep); not restarted, a restart \
                     would wait on the same freeze ({reason})"
                ),
            );
        }
        Error::generic(format!("httpd runs but fails its check: {reason}"))
    }

    fn monitor_running(
        &self,
        ctx: &Context,
        config: Option<&Config>,
        main: Option<&Process>,
    ) -> Result<Status> {
        let end = ctx.deadline.end();
        let mut probe = None;
        if ctx.env.check_level >= 10 {
            probe = self.check_level10(config, end)?;
            if probe.is_none() {
                log::warn!(
                    "OCF_CHECK_LEVEL={} needs testurl and testregex10, or testconffile; \
                     checking the status page instead",
                    ctx.env.check_level
                );
            }
        }
        let probe = match probe {
            Some(p) => p,
            None => self.check_status(config, end)?,
        };
        match probe {
            Probe::Matched => Ok(Status::Success),
            Probe::Mismatch(reason) => Err(Error::generic(format!(
                "httpd runs but fails its check: {reason}"
            ))),
            Probe::NoAnswer { reason, refused } => Err(self.no_answer(main, &reason, refused)),
        }
    }

    // ---- the actions -------------------------------------------------------------------

    /// The reason for a launcher that failed: what it said, or where httpd logs.
    fn launch_failed(&self, setup: &Setup, status: ExitStatus, stderr: &str) -> String {
        format!(
            "{} failed ({}): {}",
            self.httpd().display(),
            exit_text(status),
            said_or_see_log(stderr, &setup.config)
        )
    }

    /// Start httpd: `httpd -DSTATUS OPTIONS -f CONFIGFILE [-c "PidFile OWN"]` in the
    /// envfiles' environment, in its own session. Returns the launcher (httpd forks and the
    /// launcher exits once the configuration is read).
    fn launch(&self, setup: &Setup, pid_file: &PidFile) -> Result<H::Launched> {
        let path = pid_file.path();
        // Debian's apache2ctl creates these before starting httpd; httpd refuses to start
        // without them.
        let dirs = path
            .parent()
            .map(Path::to_owned)
            .into_iter()
            .chain(setup.config.runtime_dir.clone())
            .chain(setup.config.mutex_dirs.iter().cloned());
        for dir in dirs {
            self.host.create_dir(&dir).map_err(|e| {
                Error::installed(format!(
                    "creating {}: {}",
                    dir.display(),
                    crate::io_reason(&e)
                ))
            })?;
        }
        // httpd writes the pid file itself, in a directory checked to be safe (ours is the
        // state directory, the configured one passed check_pid_dir): whatever was planted at
        // the name is removed, and a file naming no httpd of ours (left by a crash) too.
        self.host
            .prepare_pid_file(path)
            .or_status(Status::ErrPerm, || {
                format!("unsafe pid file location {}", path.display())
            })?;
        self.remove_if_stale(path);
        let mut args: Vec<OsString> = vec!["-DSTATUS".into()];
        args.extend(self.cfg.settings.options.iter().map(OsString::from));
        args.push("-f".into());
        args.push(self.cfg.identity.configfile.clone().into_os_string());
        if let PidFile::Own(own) = pid_file {
            args.push("-c".into());
            args.push(format!("PidFile \"{}\"", own.display()).into());
        }
        self.host
            .launch(self.httpd(), &args, &setup.env)
            .or_status(Status::ErrGeneric, || "starting httpd")
    }

    /// Poll until none of `ids` runs; false if some still run at the deadline.
    fn wait_gone(&self, ids: &[ProcessId], deadline: Deadline) -> bool {
        deadline
            .poll(EXIT_POLL, || {
                (!ids.iter().any(|id| self.host.is_alive(*id))).then_some(())
            })
            .is_some()
    }
}

impl<H: Host> Policy for Logic<H> {
    type Identity = Identity;
    type Settings = Settings;

    fn validate(&self, ctx: &Context) -> Result<()> {
        self.check_installed()?;
        if self.checks().testconffile.is_some() {
            self.level10_test()?;
        }
        let setup = self.read_setup(ctx.deadline.end())?;
        for w in &setup.config.warnings {
            log::warn!("{w}");
        }
        Ok(())
    }

    fn monitor(&self, ctx: &Context) -> Result<Status> {
        // Finding the process needs no configuration beyond its pid file; a missing or
        // unreadable configuration or binary then still reports a stopped server as
        // stopped.
        let setup = self.read_setup(ctx.deadline.share(0.5).end());
        let main = if let Some(main) = self.main_from_pid_files(setup.as_ref().ok()) {
            main
        } else {
            let (main, ours) = self.scan();
            if main.is_some() {
                log::warn!("httpd runs, but its pid file does not name it");
            }
            if ours.is_empty() {
                return Ok(Status::NotRunning);
            }
            main.ok_or_else(|| {
                Error::generic(format!(
                    "the main httpd process is gone but {} of its processes remain (pid {})",
                    ours.len(),
                    ours[0].pid
                ))
            })?
        };
        self.check_installed()?;
        let setup = setup?;
        self.monitor_running(ctx, Some(&setup.config), Some(&main))
    }

    fn start(&self, ctx: &Context) -> Result<Status> {
        self.check_installed()?;
        if let Some(main) = self.find_main(None) {
            log::info!("httpd already running (pid {})", main.pid);
            return Ok(Status::Success);
        }
        let setup = self.read_setup(ctx.deadline.end())?;
        let pid_file = self.pid_file(&setup);
        let mut launched = self.launch(&setup, &pid_file)?;
        let url = self.status_url(Some(&setup.config));
        let mut exited: Option<String> = None;
        let mut vanished = 0;
        let mut last = String::from("no answer yet");
        loop {
            if exited.is_none() {
                match launched.wait_exit(Instant::now()) {
                    Ok(Some((status, stderr))) if status.success() => exited = Some(stderr),
                    Ok(Some((status, stderr))) => {
                        return Err(Error::generic(self.launch_failed(&setup, status, &stderr)));
                    }
                    Ok(None) => {}
                    Err(e) => return Err(Error::generic(e.to_string())),
                }
            }
            // The new httpd names itself in the pid file chosen above; until then a stale
            // file may name another process (removed before the launch, but httpd may not
            // have written its own yet).
            let main = self
                .main_from(pid_file.path())
                .or_else(|| exited.as_ref().and_then(|_| self.scan().0));
            if main.is_some() {
                vanished = 0;
                match self.check_status(Some(&setup.config), ctx.deadline.end())? {
                    Probe::Matched => {
                        if self.main_from(pid_file.path()).is_none() {
                            log::warn!(
                                "httpd runs, but {} does not name it",
                                pid_file.path().display()
                            );
                        }
                        log::info!("httpd started; {url} answers");
                        return Ok(Status::Success);
                    }
                    Probe::Mismatch(reason) => {
                        let _ = self.stop(ctx);
                        return Err(Error::generic(format!(
                            "httpd started but fails its check (stopped again): {reason}"
                        )));
                    }
                    Probe::NoAnswer { reason, refused } => {
                        last = reason;
                        if !refused {
                            log::debug!("waiting for {url}: {last}");
                        }
                    }
                }
            } else if let Some(stderr) = &exited {
                if self.all_ours().is_empty() {
                    vanished += 1;
                    if vanished >= VANISHED_LOOKS {
                        return Err(Error::generic(format!(
                            "httpd exited right after starting: {}",
                            said_or_see_log(stderr, &setup.config)
                        )));
                    }
                } else {
                    vanished = 0;
                }
            }
            if !ctx.deadline.sleep(START_POLL) {
                return Err(Error::generic(format!(
                    "httpd did not answer at {url} before the start timeout: {last}"
                )));
            }
        }
    }

    /// Stop: WINCH (graceful stop) with half of the time left, TERM with most of the rest,
    /// then KILL; then any process of ours or started by httpd that survived is killed.
    /// Returns as soon as all are gone (polling /proc every few milliseconds). The
    /// configuration is read only to find a configured pid file, within a fifth of the
    /// time: httpd is found through /proc without it.
    fn stop(&self, ctx: &Context) -> Result<Status> {
        let setup = match self.read_setup(ctx.deadline.share(STOP_CONFIG_SHARE).end()) {
            Ok(setup) => Some(setup),
            Err(e) => {
                log::warn!("{}; stopping without it", e.reason());
                None
            }
        };
        let main = self.find_main(setup.as_ref());
        let mut family: BTreeSet<ProcessId> = BTreeSet::new();
        if let Some(main) = &main {
            let main_id = main.identity();
            family.extend(
                self.host
                    .descendants(main.pid)
                    .iter()
                    .map(Process::identity),
            );
            family.insert(main_id);
            for (signal, share) in [
                (Signal::SIGWINCH, 0.5),
                (Signal::SIGTERM, 0.6),
                (Signal::SIGKILL, 1.0),
            ] {
                // Each phase's share is taken of the time left when it begins.
                let until = ctx.deadline.share(share);
                log::info!("sending {signal} to httpd pid {}", main.pid);
                match self.host.signal(main_id, signal) {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(e) => return Err(Error::generic(e.to_string())),
                }
                if self.wait_gone(&[main_id], until) {
                    break;
                }
            }
        }
        // Workers, CGI programs, piped loggers, orphans of a killed main process: nothing
        // of this instance may survive.
        family.extend(self.all_ours().iter().map(Process::identity));
        let survivors: Vec<ProcessId> = family
            .into_iter()
            .filter(|id| self.host.is_alive(*id))
            .collect();
        for s in &survivors {
            log::info!("killing leftover httpd process {}", s.pid);
            let _ = self.host.signal(*s, Signal::SIGKILL);
        }
        if !self.wait_gone(&survivors, ctx.deadline) {
            let left: Vec<String> = survivors
                .iter()
                .filter(|s| self.host.is_alive(**s))
                .map(|s| s.pid.to_string())
                .collect();
            return Err(Error::generic(format!(
                "httpd processes still running after KILL: {}",
                left.join(" ")
            )));
        }
        self.remove_if_stale(&self.own_pid_file);
        // A configured pid file is removed only from a safe directory: in one a local user
        // can write, the name may lead elsewhere by the time it is unlinked.
        if let Some(p) = setup.as_ref().and_then(|s| s.config.pid_file.as_deref())
            && p.parent()
                .is_some_and(|d| self.host.check_pid_dir(d).is_ok())
        {
            self.remove_if_stale(p);
        }
        if main.is_none() && survivors.is_empty() {
            log::info!("httpd is not running");
        } else {
            log::info!("httpd stopped");
        }
        Ok(Status::Success)
    }
}

/// What a launcher wrote, or, when it wrote nothing (httpd logs only to its ErrorLog once
/// that is open), where to look.
fn said_or_see_log(stderr: &str, config: &Config) -> String {
    // One line: httpd's continued lines ("Syntax error on line 3 of x:" + the error) with a
    // space, the others with "; ".
    let mut said = String::new();
    for line in stderr.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if !said.is_empty() {
            said.push_str(if said.ends_with(':') { " " } else { "; " });
        }
        said.push_str(line);
    }
    if said.is_empty() {
        format!(
            "it said nothing; see its error log, {}",
            config.error_log_hint()
        )
    } else {
        said
    }
}

/// `exit code 1`, `killed by signal 9`.
fn exit_text(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit code {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        _ => "ended".to_owned(),
    }
}

#[cfg(test)]
mod tests;
