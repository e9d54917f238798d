//! Starting a daemon that must outlive the agent.

use crate::Error;
use std::ffi::{OsStr, OsString};
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Most of the launcher's stderr kept for an exit reason.
const STDERR_CAP: usize = 16 * 1024;

/// A daemon to start: program, argument vector and environment, never a shell line.
#[derive(Debug, Clone)]
pub struct Daemon {
    program: PathBuf,
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    clear_env: bool,
    cwd: PathBuf,
}

impl Daemon {
    /// `program` with no arguments, the agent's environment, working directory `/`.
    pub fn new(program: impl Into<PathBuf>) -> Daemon {
        Daemon {
            program: program.into(),
            args: Vec::new(),
            env: Vec::new(),
            clear_env: false,
            cwd: PathBuf::from("/"),
        }
    }

    #[must_use]
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Daemon {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    #[must_use]
    pub fn args<I, S>(mut self, args: I) -> Daemon
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Set one environment variable (on top of the inherited or cleared environment).
    #[must_use]
    pub fn env(mut self, name: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Daemon {
        self.env
            .push((name.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    /// Start from an empty environment instead of the agent's.
    #[must_use]
    pub fn clear_env(mut self) -> Daemon {
        self.clear_env = true;
        self
    }

    #[must_use]
    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> Daemon {
        self.cwd = dir.into();
        self
    }

    /// The argument vector as it will be executed (for logs).
    pub fn describe(&self) -> String {
        std::iter::once(self.program.as_os_str())
            .chain(self.args.iter().map(OsString::as_os_str))
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Start it in a new session (setsid(2): no controlling terminal, its own process group,
    /// out of reach of a kill of the agent's group), stdin and stdout on /dev/null, stderr
    /// captured until the launcher exits. The child's signal mask and dispositions are reset
    /// by the standard library.
    pub fn spawn(&self) -> Result<Launched, Error> {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args)
            .current_dir(&self.cwd)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if self.clear_env {
            cmd.env_clear();
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        #[allow(unsafe_code)]
        // SAFETY: the closure runs in the forked child before exec and only calls setsid(2),
        // which is async-signal-safe; it touches no memory shared with the parent.
        unsafe {
            cmd.pre_exec(|| {
                nix::unistd::setsid()
                    .map(drop)
                    .map_err(std::io::Error::from)
            });
        }
        let program = self.program.display().to_string();
        let mut child = cmd.spawn().map_err(|source| Error::Spawn {
            program: program.clone(),
            source,
        })?;
        let stderr = Arc::new(Mutex::new((Vec::new(), false)));
        if let Some(mut pipe) = child.stderr.take() {
            let sink = Arc::clone(&stderr);
            // A daemon may keep the pipe open after the launcher exits; this thread then
            // lives until the agent exits, and nobody waits for it.
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                loop {
                    let n = pipe.read(&mut buf).unwrap_or(0);
                    let Ok(mut guard) = sink.lock() else { return };
                    if n == 0 {
                        guard.1 = true;
                        return;
                    }
                    let room = STDERR_CAP.saturating_sub(guard.0.len());
                    guard.0.extend_from_slice(&buf[..n.min(room)]);
                }
            });
        }
        Ok(Launched {
            program,
            child,
            stderr,
        })
    }
}

/// A started daemon (or its launcher, for daemons that fork and exit).
#[derive(Debug)]
pub struct Launched {
    program: String,
    child: Child,
    stderr: Arc<Mutex<(Vec<u8>, bool)>>,
}

impl Launched {
    /// The pid of the process started (the launcher, for self-daemonising programs).
    pub fn pid(&self) -> i32 {
        i32::try_from(self.child.id()).unwrap_or(0)
    }

    /// Wait until it exits, polling every few milliseconds, no later than `end` (an `end`
    /// already past just looks). `Ok(None)` when still running at `end` (a daemon that does
    /// not fork is then simply running). On exit, also returns what it wrote to stderr, for
    /// which up to 100 ms more may be spent.
    pub fn wait_exit(&mut self, end: Instant) -> Result<Option<(ExitStatus, String)>, Error> {
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return Ok(Some((status, self.stderr_text()))),
                Ok(None) if Instant::now() >= end => return Ok(None),
                Ok(None) => std::thread::sleep(Duration::from_millis(5)),
                Err(source) => {
                    return Err(Error::Wait {
                        program: self.program.clone(),
                        source,
                    });
                }
            }
        }
    }

    /// stderr so far; waits briefly (at most 100 ms, even when `wait_exit` was only asked
    /// to look) for the pipe's end, as the reader thread may not have caught up with the
    /// launcher's last write.
    fn stderr_text(&self) -> String {
        let until = Instant::now() + Duration::from_millis(100);
        loop {
            let (text, done) = match self.stderr.lock() {
                Ok(g) => (String::from_utf8_lossy(&g.0).into_owned(), g.1),
                Err(_) => return String::new(),
            };
            if done || Instant::now() >= until {
                return text;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Identity, Process};

    #[test]
    fn launcher_status_and_stderr_are_collected() {
        let mut l = Daemon::new("/bin/sh")
            .args(["-c", "echo \"$GREETING\" >&2; exit 3"])
            .env("GREETING", "hello from the launcher")
            .spawn()
            .unwrap();
        let (status, err) = l
            .wait_exit(Instant::now() + Duration::from_secs(5))
            .unwrap()
            .unwrap();
        assert_eq!(status.code(), Some(3));
        assert_eq!(err.trim(), "hello from the launcher");
    }

    #[test]
    fn daemon_runs_in_its_own_session_with_given_environment() {
        let mut l = Daemon::new("/bin/sleep")
            .arg("30")
            .clear_env()
            .env("ONLY", "this")
            .spawn()
            .unwrap();
        let pid = l.pid();
        assert!(
            l.wait_exit(Instant::now() + Duration::from_millis(50))
                .unwrap()
                .is_none()
        );
        let sid = nix::unistd::getsid(Some(nix::unistd::Pid::from_raw(pid))).unwrap();
        assert_eq!(sid.as_raw(), pid, "session leader");
        let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
        assert_eq!(environ, b"ONLY=this\0");
        let id = Process::read(pid).unwrap().unwrap().identity();
        assert!(id.signal(crate::Signal::SIGKILL).unwrap());
        let (status, _) = l
            .wait_exit(Instant::now() + Duration::from_secs(5))
            .unwrap()
            .unwrap();
        assert!(!status.success());
        assert!(!Identity { ..id }.is_alive());
    }

    #[test]
    fn missing_program_is_a_spawn_error() {
        let err = Daemon::new("/nonexistent/daemon").spawn().unwrap_err();
        assert!(matches!(err, Error::Spawn { .. }), "{err}");
        assert!(err.to_string().contains("/nonexistent/daemon"));
    }
}
