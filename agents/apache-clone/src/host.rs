//! The seam between the policy ([`crate::logic`]) and the machine: everything apache-clone
//! asks of the system, and nothing more. [`System`] is the real one (/proc through `procs`,
//! files read the safe way, httpd started as an argv vector in its own session, the status
//! page fetched by `http-probe`); the policy's unit tests use a fake that needs no root, no
//! httpd and no network.

use crate::conf::{self, ConfError, Config};
use procs::{Identity, Process, Signal};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::sync::OnceLock;
use std::time::Instant;

/// Largest envfile read (Debian's envvars is 2 KiB).
const MAX_ENVFILE: u64 = 256 * 1024;
/// Largest testconffile read.
const MAX_TESTCONF: u64 = 1024 * 1024;

/// What apache-clone needs from the host.
pub trait Host {
    /// A started httpd launcher (httpd forks its server and the launcher exits).
    type Launched: Launched;

    /// True when `path` (symlinks followed) is an executable regular file.
    fn is_executable(&self, path: &Path) -> bool;
    /// True when `path` (symlinks followed) is a regular file.
    fn is_file(&self, path: &Path) -> bool;
    /// The agent's own environment, which httpd inherits (changed by the envfiles).
    fn environment(&self) -> BTreeMap<String, String>;
    /// An envfile's text; `Ok(None)` when it does not exist. Read as a regular file (no FIFO
    /// blocks the agent), capped, never executed.
    fn read_envfile(&self, path: &Path) -> Result<Option<String>, ConfError>;
    /// The httpd configuration from `file` ([`conf::Config::read`]), reading nothing past
    /// `until`.
    fn read_config(
        &self,
        file: &Path,
        server_root: &Path,
        vars: &BTreeMap<String, String>,
        until: Instant,
    ) -> Result<Config, ConfError>;
    /// The level-10 test definitions file.
    fn read_testconf(&self, path: &Path) -> Result<Option<String>, ConfError>;

    /// The pid in a pid file ([`procs::read_pid_file`]: no symlink, no FIFO, root's, one
    /// link, small).
    fn read_pid_file(&self, path: &Path) -> Result<Option<i32>, procs::Error>;
    /// Check the directory `dir` as a state directory ([`procs::StateDir::open`]: root's,
    /// not writable by others, no symlink a user planted on its path), creating it `0755`
    /// where missing. A daemon that opens a pid file in a directory failing this can be
    /// made to write through a link a local user planted.
    fn check_pid_dir(&self, dir: &Path) -> Result<(), procs::Error>;
    /// Make way for httpd to write its pid file at `path` in a safe directory: anything
    /// planted at the name is removed ([`procs::prepare_pid_path`]).
    fn prepare_pid_file(&self, path: &Path) -> Result<(), procs::Error>;
    /// `mkdir -p`.
    fn create_dir(&self, dir: &Path) -> std::io::Result<()>;
    /// unlink(2).
    fn remove_file(&self, path: &Path) -> std::io::Result<()>;

    /// The pids of the processes whose command name is `comm` (cut to 15 bytes).
    fn pids_named(&self, comm: &str) -> Result<Vec<i32>, procs::Error>;
    /// The process `pid` as `/proc/<pid>/stat` shows it.
    fn process(&self, pid: i32) -> Option<Process>;
    /// The argument vector of `pid`.
    fn cmdline(&self, pid: i32) -> Vec<OsString>;
    /// Whether `p` executes `program`: None when its executable cannot be read.
    fn executes(&self, p: &Process, program: &Path) -> Option<bool>;
    /// Who the process `pid` runs as (`/proc/<pid>/status`), None when it is gone.
    fn uids(&self, pid: i32) -> Option<procs::Uids>;
    /// The uid of `user` as httpd's `User` writes it (a name, or `#uid`), None when unknown.
    fn user_id(&self, user: &str) -> Option<u32>;
    /// The running descendants of `pid`.
    fn descendants(&self, pid: i32) -> Vec<Process>;
    /// The state of each thread of `pid` (`R`, `S`, `D`, `T`, ...); empty when it is gone.
    fn thread_states(&self, pid: i32) -> Vec<char>;
    /// Send `signal` to the process `id` while it is that process ([`Identity::signal`]);
    /// `Ok(false)` when it is gone.
    fn signal(&self, id: Identity, signal: Signal) -> Result<bool, procs::Error>;
    /// True while the process `id` runs (not a zombie).
    fn is_alive(&self, id: Identity) -> bool;

    /// Start `program` with `args` and exactly the environment `env`, in its own session.
    fn launch(
        &self,
        program: &Path,
        args: &[OsString],
        env: &BTreeMap<String, String>,
    ) -> Result<Self::Launched, procs::Error>;

    /// One bounded GET ([`http_probe::Request::get`]).
    fn get(&self, request: &http_probe::Request)
    -> Result<http_probe::Response, http_probe::Error>;
}

/// A launcher started by [`Host::launch`].
pub trait Launched {
    /// Its exit status and what it wrote on stderr, once it has exited; `Ok(None)` while it
    /// runs at `end`.
    fn wait_exit(&mut self, end: Instant) -> Result<Option<(ExitStatus, String)>, procs::Error>;
}

impl Launched for procs::Launched {
    fn wait_exit(&mut self, end: Instant) -> Result<Option<(ExitStatus, String)>, procs::Error> {
        procs::Launched::wait_exit(self, end)
    }
}

/// The real host.
#[derive(Debug, Default)]
pub struct System {
    /// The program asked about and its symlinks resolved, computed at the first process
    /// that needs it.
    resolved: OnceLock<(PathBuf, PathBuf)>,
}

impl Host for System {
    type Launched = procs::Launched;

    fn is_executable(&self, path: &Path) -> bool {
        procs::is_executable(path)
    }

    fn is_file(&self, path: &Path) -> bool {
        path.is_file()
    }

    fn environment(&self) -> BTreeMap<String, String> {
        std::env::vars().collect()
    }

    fn read_envfile(&self, path: &Path) -> Result<Option<String>, ConfError> {
        read_text(path, MAX_ENVFILE)
    }

    fn read_config(
        &self,
        file: &Path,
        server_root: &Path,
        vars: &BTreeMap<String, String>,
        until: Instant,
    ) -> Result<Config, ConfError> {
        Config::read(file, server_root, vars, until)
    }

    fn read_testconf(&self, path: &Path) -> Result<Option<String>, ConfError> {
        read_text(path, MAX_TESTCONF)
    }

    fn read_pid_file(&self, path: &Path) -> Result<Option<i32>, procs::Error> {
        procs::read_pid_file(path)
    }

    fn check_pid_dir(&self, dir: &Path) -> Result<(), procs::Error> {
        procs::StateDir::open(dir).map(drop)
    }

    fn prepare_pid_file(&self, path: &Path) -> Result<(), procs::Error> {
        procs::prepare_pid_path(path)
    }

    fn create_dir(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)
    }

    fn remove_file(&self, path: &Path) -> std::io::Result<()> {
        std::fs::remove_file(path)
    }

    fn pids_named(&self, comm: &str) -> Result<Vec<i32>, procs::Error> {
        procs::pids_named(comm)
    }

    fn process(&self, pid: i32) -> Option<Process> {
        Process::read(pid).ok().flatten()
    }

    fn cmdline(&self, pid: i32) -> Vec<OsString> {
        procs::cmdline_of(pid)
    }

    fn executes(&self, p: &Process, program: &Path) -> Option<bool> {
        let (path, resolved) = self.resolved.get_or_init(|| {
            let resolved = std::fs::canonicalize(program).unwrap_or_else(|_| program.to_owned());
            (program.to_owned(), resolved)
        });
        if path != program {
            return Some(p.runs(program));
        }
        p.runs_resolved(resolved)
    }

    fn uids(&self, pid: i32) -> Option<procs::Uids> {
        procs::ProcFs::system().uids(pid)
    }

    fn user_id(&self, user: &str) -> Option<u32> {
        match user.strip_prefix('#') {
            Some(number) => number.parse().ok(),
            None => nix::unistd::User::from_name(user)
                .ok()
                .flatten()
                .map(|u| u.uid.as_raw()),
        }
    }

    fn descendants(&self, pid: i32) -> Vec<Process> {
        procs::descendants(pid).unwrap_or_default()
    }

    fn thread_states(&self, pid: i32) -> Vec<char> {
        procs::thread_states(pid)
    }

    fn signal(&self, id: Identity, signal: Signal) -> Result<bool, procs::Error> {
        id.signal(signal)
    }

    fn is_alive(&self, id: Identity) -> bool {
        id.is_alive()
    }

    fn launch(
        &self,
        program: &Path,
        args: &[OsString],
        env: &BTreeMap<String, String>,
    ) -> Result<procs::Launched, procs::Error> {
        let mut daemon = procs::Daemon::new(program).args(args).clear_env();
        for (k, v) in env {
            daemon = daemon.env(k, v);
        }
        log::info!("starting {}", daemon.describe());
        daemon.spawn()
    }

    fn get(
        &self,
        request: &http_probe::Request,
    ) -> Result<http_probe::Response, http_probe::Error> {
        request.get()
    }
}

/// A text file of the administrator's, `Ok(None)` when it does not exist: a regular file
/// only (symlinks followed; a FIFO or device refused without blocking), at most `max_len`
/// bytes, invalid UTF-8 replaced.
fn read_text(path: &Path, max_len: u64) -> Result<Option<String>, ConfError> {
    match conf::read_regular(path, max_len) {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(ConfError::Read { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}
