//! The httpd server of one instance: which processes are its own, where its pid file is,
//! starting it and stopping it.
//!
//! A process is this instance's httpd when it executes the configured binary and its
//! command line holds `-f <configfile>` (every httpd this agent starts gets that argument).
//! The pid file is a hint checked against that rule, never trusted alone: a reused pid or
//! another instance's httpd in a shared pid file is not mistaken for ours.

use crate::conf::{ConfError, Config};
use crate::envfile::ShellEnv;
use ocf::{Context, Error, Result, ResultExt, Status};
use procs::{Daemon, Identity, Launched, Process, Signal};
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

/// How often stop looks at /proc while waiting for httpd to exit.
const EXIT_POLL: Duration = Duration::from_millis(5);

/// One instance's httpd.
#[derive(Debug, Clone)]
pub struct Server {
    configfile: PathBuf,
    httpd: PathBuf,
    options: Vec<String>,
    envfiles: Vec<PathBuf>,
    /// The per-instance pid file, used when the configuration names none or a shared one.
    own_pid_file: PathBuf,
    /// `httpd` with its symlinks resolved, computed at the first process that needs it.
    resolved_httpd: OnceLock<PathBuf>,
}

/// What start, monitor and stop learn from the configuration and the envfiles.
#[derive(Debug, Clone)]
pub struct Setup {
    pub config: Config,
    /// httpd's environment.
    pub env: BTreeMap<String, String>,
}

impl Server {
    pub fn new(
        configfile: PathBuf,
        httpd: PathBuf,
        options: Vec<String>,
        envfiles: Vec<PathBuf>,
        state_dir: &Path,
        instance: &str,
    ) -> Server {
        let base = httpd
            .file_name()
            .map_or_else(|| "httpd".to_owned(), |n| n.to_string_lossy().into_owned());
        Server {
            own_pid_file: state_dir.join(format!("{base}-{}.pid", ocf::env::file_name(instance))),
            configfile,
            httpd,
            options,
            envfiles,
            resolved_httpd: OnceLock::new(),
        }
    }

    pub fn httpd(&self) -> &Path {
        &self.httpd
    }

    pub fn envfiles(&self) -> &[PathBuf] {
        &self.envfiles
    }

    pub fn own_pid_file(&self) -> &Path {
        &self.own_pid_file
    }

    /// The binary and the configuration file exist (else OCF_ERR_INSTALLED, as the anchor).
    pub fn check_installed(&self) -> Result<()> {
        if !procs::is_executable(&self.httpd) {
            return Err(Error::installed(format!(
                "httpd {} not found or not executable",
                self.httpd.display()
            )));
        }
        if !self.configfile.is_file() {
            return Err(Error::installed(format!(
                "configfile {} not found",
                self.configfile.display()
            )));
        }
        Ok(())
    }

    /// httpd's environment: the agent's, changed by the envfiles.
    fn environment(&self) -> BTreeMap<String, String> {
        let mut env = ShellEnv::from_env(std::env::vars());
        for file in &self.envfiles {
            match std::fs::read_to_string(file) {
                Ok(text) => env.apply(&text),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => log::warn!("envfile {} skipped: {e}", file.display()),
            }
        }
        env.exported()
    }

    /// httpd's compiled-in ServerRoot (Debian's apache2: /etc/apache2), or `-d` in options.
    fn server_root(&self) -> PathBuf {
        if let Some(i) = self.options.iter().position(|o| o == "-d")
            && let Some(dir) = self.options.get(i + 1)
        {
            return PathBuf::from(dir);
        }
        if let Some(dir) = self.options.iter().find_map(|o| o.strip_prefix("-d"))
            && !dir.is_empty()
        {
            return PathBuf::from(dir);
        }
        let debian = self
            .httpd
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("apache2"));
        PathBuf::from(if debian { "/etc/apache2" } else { "/etc/httpd" })
    }

    /// Read the envfiles and the configuration.
    pub fn read_setup(&self) -> Result<Setup> {
        let env = self.environment();
        let config =
            Config::read(&self.configfile, &self.server_root(), &env).map_err(|e| match &e {
                ConfError::Read { path, source }
                    if path == &self.configfile
                        && source.kind() == std::io::ErrorKind::NotFound =>
                {
                    Error::installed(format!("configfile {} not found", path.display()))
                }
                ConfError::TooDeep(_) => Error::configured(e.to_string()),
                ConfError::Read { .. } => Error::generic(e.to_string()),
            })?;
        Ok(Setup { config, env })
    }

    /// The kernel's name for a process executing httpd (the file name, 15 bytes of it).
    fn comm(&self) -> &[u8] {
        let base = self
            .httpd
            .file_name()
            .unwrap_or_default()
            .as_encoded_bytes();
        &base[..base.len().min(15)]
    }

    /// True when `p` is this instance's httpd (see the module documentation). The cheap
    /// tests come first: the name the kernel gives the process, then its command line (one
    /// read), and only then its executable.
    pub fn is_ours(&self, p: &Process) -> bool {
        self.is_running_httpd(p) && self.names_config(p.pid) && self.runs_httpd(p)
    }

    fn is_running_httpd(&self, p: &Process) -> bool {
        p.is_running() && p.comm.as_bytes() == self.comm()
    }

    fn runs_httpd(&self, p: &Process) -> bool {
        // Without privileges another user's exe cannot be read; the command line decides.
        let resolved = self.resolved_httpd.get_or_init(|| {
            std::fs::canonicalize(&self.httpd).unwrap_or_else(|_| self.httpd.clone())
        });
        p.runs_resolved(resolved) != Some(false)
    }

    /// True when the command line of process `pid` holds `-f <configfile>`.
    fn names_config(&self, pid: i32) -> bool {
        procs::cmdline_of(pid)
            .windows(2)
            .any(|w| w[0] == OsStr::new("-f") && Path::new(&w[1]) == self.configfile)
    }

    /// Every running process of this instance's httpd, from one walk of /proc that reads
    /// only the name of a process not called like httpd, and only the command line of
    /// another instance's httpd.
    pub fn all_ours(&self) -> Vec<Process> {
        let comm = String::from_utf8_lossy(self.comm());
        procs::pids_named(&comm)
            .unwrap_or_default()
            .into_iter()
            .filter(|&pid| self.names_config(pid))
            .filter_map(|pid| Process::read(pid).ok().flatten())
            .filter(|p| self.is_running_httpd(p) && self.runs_httpd(p))
            .collect()
    }

    /// The main httpd process: from the pid files (ours, then the configuration's) when they
    /// name one of ours, else the one of ours that leads its session (httpd detaches with
    /// setsid(2), and so does the agent; its workers stay in its session). Orphaned workers
    /// of a killed main process are not a main process.
    pub fn find_main(&self, setup: Option<&Setup>) -> Option<Process> {
        if let Some(p) = self.main_from_pid_files(setup) {
            return Some(p);
        }
        self.scan().0
    }

    /// Walk /proc once: the main process of ours (the one leading its session) and all of
    /// ours.
    pub fn scan(&self) -> (Option<Process>, Vec<Process>) {
        let ours = self.all_ours();
        let main = ours.iter().find(|p| p.session == p.pid).cloned();
        if let Some(p) = &main {
            log::debug!("httpd pid {} found without a valid pid file", p.pid);
        }
        (main, ours)
    }

    /// The main process from the pid files only (no walk of /proc).
    pub fn main_from_pid_files(&self, setup: Option<&Setup>) -> Option<Process> {
        let config_pid = setup.and_then(|s| s.config.pid_file.as_deref());
        for file in std::iter::once(self.own_pid_file.as_path()).chain(config_pid) {
            match procs::read_pid_file(file) {
                Ok(Some(pid)) => {
                    if let Ok(Some(p)) = Process::read(pid)
                        && self.is_ours(&p)
                    {
                        return Some(p);
                    }
                }
                Ok(None) => {}
                Err(e) => log::warn!("{e}"),
            }
        }
        None
    }

    /// True when `file` names a running httpd (same binary) that is not ours.
    fn held_by_another(&self, file: &Path) -> bool {
        let Ok(Some(pid)) = procs::read_pid_file(file) else {
            return false;
        };
        Process::read(pid)
            .ok()
            .flatten()
            .is_some_and(|p| p.is_running() && p.runs(&self.httpd) && !self.is_ours(&p))
    }

    /// Start httpd: `httpd -DSTATUS OPTIONS -f CONFIGFILE [-c "PidFile OWN"]` in the
    /// envfiles' environment, in its own session. Returns the launcher (httpd forks and the
    /// launcher exits once the configuration is read).
    pub fn launch(&self, setup: &Setup, ctx: &Context) -> Result<Launched> {
        let _ = ctx;
        let own = match &setup.config.pid_file {
            None => true,
            Some(p) if self.held_by_another(p) => {
                log::warn!(
                    "PidFile {} belongs to another httpd; using {}",
                    p.display(),
                    self.own_pid_file.display()
                );
                true
            }
            Some(_) => false,
        };
        remove_if_stale(&self.own_pid_file);
        let pid_file = if own {
            self.own_pid_file.clone()
        } else {
            setup.config.pid_file.clone().unwrap_or_default()
        };
        // Debian's apache2ctl creates these before starting httpd; httpd refuses to start
        // without them.
        let dirs = pid_file
            .parent()
            .map(Path::to_owned)
            .into_iter()
            .chain(setup.config.runtime_dir.clone())
            .chain(setup.config.mutex_dirs.iter().cloned());
        for dir in dirs {
            std::fs::create_dir_all(&dir).or_status(Status::ErrInstalled, || {
                format!("creating {}", dir.display())
            })?;
        }
        // httpd writes the pid file itself. Our own per-instance file lives in a state
        // directory we vouch for: it must be root's, and whatever was planted at the name is
        // removed. The administrator's PidFile stays where the configuration puts it, but a
        // symlink there is removed rather than let httpd's write follow it.
        if own {
            procs::prepare_pid_path(&pid_file).or_status(Status::ErrPerm, || {
                format!("unsafe pid file location {}", pid_file.display())
            })?;
        } else if std::fs::symlink_metadata(&pid_file).is_ok_and(|m| m.file_type().is_symlink()) {
            log::warn!("removing the symlink at PidFile {}", pid_file.display());
            std::fs::remove_file(&pid_file).or_status(Status::ErrPerm, || {
                format!("removing the symlink at {}", pid_file.display())
            })?;
        }
        let mut daemon = Daemon::new(&self.httpd)
            .arg("-DSTATUS")
            .args(&self.options)
            .arg("-f")
            .arg(&self.configfile)
            .clear_env();
        if own {
            daemon = daemon
                .arg("-c")
                .arg(format!("PidFile \"{}\"", pid_file.display()));
        }
        for (k, v) in &setup.env {
            daemon = daemon.env(k, v);
        }
        log::info!("starting {}", daemon.describe());
        daemon
            .spawn()
            .or_status(Status::ErrGeneric, || "starting httpd")
    }

    /// Stop: WINCH (graceful stop) with half of the time left, TERM with most of the rest,
    /// then KILL; then any process of ours or started by httpd that survived is killed.
    /// Returns as soon as all are gone (polling /proc every few milliseconds).
    pub fn stop(&self, ctx: &Context) -> Result<Status> {
        let setup = self.read_setup().ok();
        let main = self.find_main(setup.as_ref());
        let mut family: BTreeSet<Identity> = BTreeSet::new();
        if let Some(main) = &main {
            let main_id = main.identity();
            family.extend(
                procs::descendants(main.pid)
                    .unwrap_or_default()
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
                match main_id.signal(signal) {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(e) => return Err(Error::generic(e.to_string())),
                }
                if procs::wait_gone(&[main_id], until.end(), EXIT_POLL) {
                    break;
                }
            }
        }
        // Workers, CGI programs, piped loggers, orphans of a killed main process: nothing
        // of this instance may survive.
        family.extend(self.all_ours().iter().map(Process::identity));
        let survivors: Vec<Identity> = family.into_iter().filter(Identity::is_alive).collect();
        for s in &survivors {
            log::info!("killing leftover httpd process {}", s.pid);
            let _ = s.signal(Signal::SIGKILL);
        }
        if !procs::wait_gone(&survivors, ctx.deadline.end(), EXIT_POLL) {
            let left: Vec<String> = survivors
                .iter()
                .filter(|s| s.is_alive())
                .map(|s| s.pid.to_string())
                .collect();
            return Err(Error::generic(format!(
                "httpd processes still running after KILL: {}",
                left.join(" ")
            )));
        }
        if main.is_none() && survivors.is_empty() {
            self.remove_stale_pid_files(setup.as_ref());
            log::info!("httpd is not running");
            return Ok(Status::Success);
        }
        self.remove_stale_pid_files(setup.as_ref());
        log::info!("httpd stopped");
        Ok(Status::Success)
    }

    fn remove_stale_pid_files(&self, setup: Option<&Setup>) {
        remove_if_stale(&self.own_pid_file);
        if let Some(p) = setup.and_then(|s| s.config.pid_file.as_deref()) {
            remove_if_stale(p);
        }
    }
}

/// Remove a pid file whose process no longer runs.
fn remove_if_stale(file: &Path) {
    if let Ok(Some(pid)) = procs::read_pid_file(file)
        && Identity::of(pid).is_none()
    {
        match std::fs::remove_file(file) {
            Ok(()) => log::info!("removed stale pid file {}", file.display()),
            Err(e) => log::warn!("cannot remove stale pid file {}: {e}", file.display()),
        }
    }
}
