//! One agent invocation, run the way the local resource manager runs it (a clean environment,
//! argv[1] the action), measured two ways in two separate passes:
//! - timing pass: wall time from spawn to reaping, CPU time and peak RSS from wait4(2);
//! - counting pass: the same invocation under `strace -f`, whose log tells how many processes
//!   it created. strace slows every traced process down, so no timing comes from that pass.

use crate::sys;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// No single action in the bench may take longer than this (the anchors' slowest is ~5 s).
const LIMIT: Duration = Duration::from_secs(60);

/// One invocation: program, action, environment, and the exit code it must return.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub program: PathBuf,
    pub action: String,
    pub env: Vec<(String, String)>,
    pub expect: i32,
    /// Who and what, for messages and log file names: "IPaddr2-anchor-start".
    pub label: String,
}

/// What the timing pass measured.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub wall: Duration,
    pub cpu: Duration,
    pub maxrss_kib: u64,
    /// When the agent had exited (and was reaped).
    pub ended: Instant,
}

/// What the counting pass found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Census {
    /// Processes created by the invocation, itself included (threads are not processes).
    pub processes: u32,
    /// Successful execve(2) calls, its own included.
    pub execs: u32,
}

impl Invocation {
    fn command(&self, program: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.env_clear().envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd.stdin(Stdio::null());
        cmd
    }

    fn log_files(&self, logdir: &Path) -> Result<(PathBuf, File, File), String> {
        let name = self.label.replace(['/', ' '], "_");
        let err_path = logdir.join(format!("{name}.err"));
        let out = File::create(logdir.join(format!("{name}.out")))
            .map_err(|e| format!("{}: creating its log: {e}", self.label))?;
        let err = File::create(&err_path)
            .map_err(|e| format!("{}: creating its log: {e}", self.label))?;
        Ok((err_path, out, err))
    }

    fn check_code(&self, code: i32, err_path: &Path) -> Result<(), String> {
        if code == self.expect {
            return Ok(());
        }
        let stderr = std::fs::read_to_string(err_path).unwrap_or_default();
        let tail: Vec<&str> = stderr.lines().rev().take(15).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        Err(format!(
            "{} ({} {}) exited {code}, expected {}; its stderr ends with:\n{}",
            self.label,
            self.program.display(),
            self.action,
            self.expect,
            tail.join("\n")
        ))
    }

    /// Timing pass: run it once, reap it with wait4(2), check its exit code.
    pub fn time(&self, logdir: &Path) -> Result<Sample, String> {
        let (err_path, out, err) = self.log_files(logdir)?;
        let mut cmd = self.command(&self.program);
        cmd.arg(&self.action).stdout(out).stderr(err);
        sys::spawn_with_fork(&mut cmd);
        let (stop_watchdog, watchdog_rx) = mpsc::channel::<()>();
        let started = Instant::now();
        let child = cmd
            .spawn()
            .map_err(|e| format!("{}: spawning {}: {e}", self.label, self.program.display()))?;
        let pid = i32::try_from(child.id()).map_err(|_| "pid out of range".to_owned())?;
        let watchdog = std::thread::spawn(move || {
            if watchdog_rx.recv_timeout(LIMIT) == Err(mpsc::RecvTimeoutError::Timeout) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        });
        let reaped = sys::wait4(pid);
        let ended = Instant::now();
        let _ = stop_watchdog.send(());
        let _ = watchdog.join();
        drop(child);
        let reaped = reaped.map_err(|e| format!("{}: wait4: {e}", self.label))?;
        if ended - started >= LIMIT {
            return Err(format!("{}: killed after {LIMIT:?}", self.label));
        }
        self.check_code(reaped.code, &err_path)?;
        Ok(Sample {
            wall: ended - started,
            cpu: reaped.cpu,
            maxrss_kib: reaped.maxrss_kib,
            ended,
        })
    }

    /// Counting pass: run it once under `strace -f` and count what it created before it
    /// exited. strace follows every descendant, a daemon the action starts (httpd) included,
    /// and would wait for all of them: once the agent itself has exited (its "+++ exited"
    /// line), strace gets `GRACE` for short-lived background helpers, then is terminated,
    /// which detaches it from whatever still runs.
    pub fn census(&self, logdir: &Path) -> Result<Census, String> {
        const GRACE: Duration = Duration::from_secs(3);
        let (err_path, out, err) = self.log_files(logdir)?;
        let trace = logdir.join(format!("{}.strace", self.label.replace(['/', ' '], "_")));
        let mut cmd = self.command(Path::new("strace"));
        cmd.args([
            "-f",
            "-q",
            "-I",
            "1",
            "-e",
            "trace=execve,clone,clone3,fork,vfork",
        ])
        .args(["-e", "signal=none", "-o"])
        .arg(&trace)
        .arg("--")
        .arg(&self.program)
        .arg(&self.action)
        .stdout(out)
        .stderr(err);
        let mut strace = cmd
            .spawn()
            .map_err(|e| format!("{}: running strace: {e}", self.label))?;
        let strace_pid = nix::unistd::Pid::from_raw(
            i32::try_from(strace.id()).map_err(|_| "pid out of range".to_owned())?,
        );
        let started = Instant::now();
        let mut agent_exit: Option<(Instant, i32)> = None;
        loop {
            if strace
                .try_wait()
                .map_err(|e| format!("strace: {e}"))?
                .is_some()
            {
                break;
            }
            if agent_exit.is_none() {
                let log = std::fs::read_to_string(&trace).unwrap_or_default();
                agent_exit = agent_exit_code(&log).map(|code| (Instant::now(), code));
            }
            let late = match agent_exit {
                Some((at, _)) => at.elapsed() > GRACE,
                None => started.elapsed() > LIMIT,
            };
            if late {
                // SIGTERM, not SIGINT: started in the background by a non-interactive shell
                // (nohup, `&`), strace inherits SIGINT ignored and keeps waiting for the daemon.
                // Should it still not go, SIGKILL: the kernel then detaches its tracees.
                let _ = nix::sys::signal::kill(strace_pid, nix::sys::signal::Signal::SIGTERM);
                let asked = Instant::now();
                while strace
                    .try_wait()
                    .map_err(|e| format!("strace: {e}"))?
                    .is_none()
                {
                    if asked.elapsed() > GRACE {
                        let _ = strace.kill();
                        strace.wait().map_err(|e| format!("strace: {e}"))?;
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let log = std::fs::read_to_string(&trace)
            .map_err(|e| format!("{}: reading {}: {e}", self.label, trace.display()))?;
        let code = agent_exit_code(&log).ok_or_else(|| {
            format!(
                "{}: under strace, did not exit within {LIMIT:?}",
                self.label
            )
        })?;
        self.check_code(code, &err_path)?;
        Ok(count(&log))
    }
}

/// The exit code of the first process in an `strace -f` log (the agent), once it has exited:
/// "PID +++ exited with N +++" (or minus the signal of "+++ killed by SIG... +++").
fn agent_exit_code(log: &str) -> Option<i32> {
    let pid = log.split_whitespace().next()?;
    log.lines().find_map(|line| {
        let rest = split_pid(line).filter(|(p, _)| *p == pid)?.1;
        if let Some(code) = rest.strip_prefix("+++ exited with ") {
            return code.trim_end_matches(" +++").parse().ok();
        }
        rest.starts_with("+++ killed by ").then_some(-1)
    })
}

/// "PID  rest" → (PID, rest).
fn split_pid(line: &str) -> Option<(&str, &str)> {
    let line = line.trim_start();
    let (pid, rest) = line.split_once(char::is_whitespace)?;
    Some((pid, rest.trim_start()))
}

/// Count processes and execs in an `strace -f` log (one line per call, "PID  call(...) = R",
/// split into "<unfinished ...>" and "<... call resumed>" halves when calls interleave).
/// A clone that shares the caller's thread group (CLONE_THREAD) makes a thread, not a process.
/// Only what happens until the agent (the first pid) exits counts: what a daemon it started
/// does afterwards is not the action's work.
pub fn count(log: &str) -> Census {
    let mut census = Census {
        processes: 1,
        execs: 0,
    };
    let agent = log.split_whitespace().next().unwrap_or("");
    for line in log.lines() {
        if split_pid(line).is_some_and(|(pid, rest)| pid == agent && rest.starts_with("+++ ")) {
            break;
        }
        let call = line
            .trim_start()
            .trim_start_matches(|c: char| c.is_ascii_digit())
            .trim_start();
        let failed = line.contains(") = -1 ") || line.ends_with("= -1");
        let name = call.split('(').next().unwrap_or("");
        match name {
            "clone" | "clone3" | "fork" | "vfork" if !failed && !call.contains("CLONE_THREAD") => {
                census.processes += 1;
            }
            "execve" if !failed => census.execs += 1,
            _ => {}
        }
    }
    census
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The census of an action that leaves a daemon behind ends once the action has exited,
    /// even when strace inherits SIGINT ignored (a run started in the background by a
    /// non-interactive shell, as `nohup ... &`): it hung there until the daemon exited.
    #[test]
    #[allow(unsafe_code)] // signal(2) has no safe wrapper; ignoring a signal is sound here
    fn the_census_ends_when_a_daemon_outlives_the_action_and_sigint_is_ignored() {
        use nix::sys::signal::{SigHandler, Signal, signal};
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("bench-census-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let daemon_pid = dir.join("daemon.pid");
        let agent = dir.join("agent");
        std::fs::write(
            &agent,
            format!(
                "#!/bin/sh\nsleep 40 </dev/null >/dev/null 2>&1 &\necho $! >{}\nexit 0\n",
                daemon_pid.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&agent, std::fs::Permissions::from_mode(0o755)).unwrap();
        // SAFETY: SIG_IGN installs no handler to run in signal context; strace inherits it.
        unsafe { signal(Signal::SIGINT, SigHandler::SigIgn) }.unwrap();
        let inv = Invocation {
            program: agent,
            action: "start".into(),
            env: vec![("PATH".into(), "/usr/sbin:/usr/bin:/sbin:/bin".into())],
            expect: 0,
            label: "daemon-start".into(),
        };
        let t = Instant::now();
        let census = inv.census(&dir);
        let took = t.elapsed();
        // SAFETY: SIG_DFL, the disposition the test process started with, installs no handler.
        unsafe { signal(Signal::SIGINT, SigHandler::SigDfl) }.unwrap();
        if let Some(pid) = std::fs::read_to_string(&daemon_pid)
            .ok()
            .and_then(|p| p.trim().parse::<i32>().ok())
        {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), Signal::SIGKILL);
        }
        let _ = std::fs::remove_dir_all(&dir);
        let census = census.unwrap();
        assert!(took < Duration::from_secs(20), "the census took {took:?}");
        // sh, and the sleep it forked and exec'd.
        assert_eq!(census.processes, 2);
    }

    #[test]
    fn counts_processes_not_threads_nor_failures() {
        let log = "\
100   execve(\"/bin/sh\", [\"sh\"], 0x7ffd /* 5 vars */) = 0
100   clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 101
101   execve(\"/usr/bin/ip\", [\"ip\"], 0x55 /* 5 vars */) = 0
100   clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM, exit_signal=0}, 88) = 102
100   clone3({flags=CLONE_VM|CLONE_VFORK, exit_signal=SIGCHLD, stack=0x7f}, 88 <unfinished ...>
103   execve(\"/nope\", [\"x\"], 0x55 /* 5 vars */) = -1 ENOENT (No such file or directory)
103   execve(\"/bin/true\", [\"true\"], 0x55 /* 5 vars */) = 0
100   <... clone3 resumed>) = 103
100   vfork() = -1 EAGAIN (Resource temporarily unavailable)
1000  clone(child_stack=NULL, flags=SIGCHLD) = 1001
103   +++ exited with 0 +++
100   +++ exited with 7 +++
1000  clone(child_stack=NULL, flags=SIGCHLD) = 1002
";
        assert_eq!(agent_exit_code(log), Some(7));
        assert_eq!(
            count(log),
            Census {
                processes: 4,
                execs: 3
            }
        );
    }

    #[test]
    fn no_exit_code_until_the_agent_exits() {
        let log = "10  execve(\"/x\", [\"x\"], 0x1 /* 1 var */) = 0\n100  +++ exited with 0 +++\n";
        assert_eq!(agent_exit_code(log), None);
        assert_eq!(agent_exit_code("10  +++ killed by SIGKILL +++\n"), Some(-1));
    }

    #[test]
    fn a_lone_process_is_one() {
        assert_eq!(
            count("42    execve(\"/x\", [\"x\"], 0x1 /* 1 var */) = 0\n"),
            Census {
                processes: 1,
                execs: 1
            }
        );
    }
}
