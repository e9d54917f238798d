//! Finding, signalling and launching dlm_controld. Finding works under an injectable /proc
//! root; finding, signals, waits and the launch go through crate procs.
//!
//! A process is the daemon when it executes the daemon's binary (its resolved path, and the
//! very file where it can be looked at) and runs as root (the agent's user), and is not a
//! zombie. A process merely named `dlm_controld`, or running a copy of it as another user, is
//! not the daemon: it never changes an answer and is never signalled.

use ocf::Deadline;
use procs::{Captured, Expect, ProcFs};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What the daemon's processes must be: `daemon` resolved as start would run it (or, when it
/// is not installed any more, the path it had: a running daemon then reads as deleted), run
/// by this agent's user (root under Pacemaker).
pub fn expect(daemon: &str) -> Expect {
    let program = resolve(daemon).unwrap_or_else(|| {
        if daemon.contains('/') {
            PathBuf::from(daemon)
        } else {
            Path::new("/usr/sbin").join(daemon)
        }
    });
    Expect::any().program(&program).same_user()
}

/// Where dlm_controld 4.x writes its pid once it runs in the background (`RUNDIR "/"
/// RUN_FILE_NAME`; older builds say /var/run, which distributions link to /run).
pub const PID_FILES: [&str; 2] = [
    "/run/dlm_controld/dlm_controld.pid",
    "/var/run/dlm_controld/dlm_controld.pid",
];

/// The pid dlm_controld's own pid file names, read safely (procs::read_pid_file: root's,
/// regular, one link, small; a symlink or FIFO planted there is refused). None when there is
/// none or it cannot be trusted.
pub fn pid_from_pid_file() -> Option<i32> {
    PID_FILES
        .iter()
        .find_map(|p| procs::read_pid_file(Path::new(p)).ok().flatten())
}

/// Which listener of the query socket is the daemon: a process found as the daemon (its
/// binary, this agent's user), the one its pid file names when that is one of them (the
/// others are its helper process), else any of them.
pub fn trusted_listener(found: &[Captured], pid_file: Option<i32>) -> dlm_control::Trusted {
    let pids: Vec<i32> = found.iter().map(Captured::pid).collect();
    let pids = match pid_file {
        Some(pid) if pids.contains(&pid) => vec![pid],
        _ => pids,
    };
    dlm_control::Trusted {
        uid: nix::unistd::geteuid().as_raw(),
        pids,
    }
}

/// The running `daemon`'s processes, found under `proc_root`, in pid order. A /proc that
/// cannot be listed is an error: nothing can be said about the daemon then.
pub fn find(proc_root: &Path, daemon: &str) -> Result<Vec<Captured>, procs::Error> {
    ProcFs::at(proc_root).find(&expect(daemon))
}

/// Send SIGTERM to each of the daemon's processes found earlier, only while each is still
/// the process found (pid, start time, user, binary); wait until they are gone, no later than
/// `deadline`. False when some still run at the deadline.
pub fn terminate_and_wait(found: &[Captured], deadline: Deadline) -> Result<bool, procs::Error> {
    for process in found {
        process.signal(procs::Signal::SIGTERM)?;
    }
    let ids: Vec<procs::Identity> = found.iter().map(|c| c.id).collect();
    Ok(procs::wait_gone(
        &ids,
        deadline.end(),
        Duration::from_millis(200),
    ))
}

/// How launching the daemon went.
#[derive(Debug)]
pub enum Launch {
    /// The launcher exited 0: the daemon forked into the background.
    Detached,
    /// The launcher is still running (the administrator's args keep it in the foreground).
    Foreground(i32),
}

/// Why the daemon could not be launched.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error(transparent)]
    Procs(#[from] procs::Error),
    #[error("{program} exited with {status}: {message}")]
    Failed {
        program: String,
        status: std::process::ExitStatus,
        message: String,
    },
}

/// Run `program argv...` in its own session (crate procs: out of reach of Pacemaker's kill
/// of the agent's group) and wait up to `deadline` for the launcher to fork into the
/// background; a launcher that fails is reported with what it wrote to stderr.
pub fn launch(program: &Path, argv: &[String], deadline: Deadline) -> Result<Launch, LaunchError> {
    let mut launched = procs::Daemon::new(program).args(argv).spawn()?;
    match launched.wait_exit(deadline.end())? {
        Some((status, _)) if status.success() => Ok(Launch::Detached),
        Some((status, stderr)) => Err(LaunchError::Failed {
            program: program.display().to_string(),
            status,
            message: stderr.trim().replace('\n', "; "),
        }),
        None => Ok(Launch::Foreground(launched.pid())),
    }
}

/// `daemon` as an executable file: an absolute path as given, a name looked up on PATH and
/// then in /usr/sbin and /sbin (Pacemaker's PATH may lack the sbin directories).
pub fn resolve(daemon: &str) -> Option<PathBuf> {
    procs::find_program(daemon)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn fake_proc(tag: &str) -> PathBuf {
        let root = std::env::temp_dir().join(format!("dlm-proc-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(&root).unwrap();
        root
    }

    fn add(root: &Path, pid: i32, comm: &str, state: char, uid: u32, exe: &str) {
        procs::fake::FakeProcess::new(pid, comm)
            .state(state)
            .uid(uid)
            .exe(exe)
            .write(root)
            .unwrap();
    }

    fn pids(found: &[Captured]) -> Vec<i32> {
        found.iter().map(Captured::pid).collect()
    }

    #[test]
    fn finds_the_daemon_by_binary_and_user_and_skips_look_alikes() {
        // dlm_controld is not installed here: the daemon is looked for as
        // /usr/sbin/dlm_controld, the path it is installed at.
        let root = fake_proc("find");
        let me = nix::unistd::geteuid().as_raw();
        let other = me + 1;
        let daemon = "/usr/sbin/dlm_controld";
        add(&root, 100, "dlm_controld", 'S', me, daemon);
        add(
            &root,
            110,
            "dlm_controld",
            'S',
            me,
            "/usr/sbin/dlm_controld (deleted)",
        );
        add(&root, 200, "dlm_controld", 'Z', me, daemon);
        add(&root, 300, "dlm_controld", 'S', other, "/usr/bin/bash");
        add(&root, 310, "dlm_controld", 'S', other, daemon);
        add(&root, 320, "dlm_controld", 'S', me, "/tmp/x/dlm_controld");
        add(&root, 400, "bash", 'S', me, "/usr/bin/bash");
        fs::create_dir_all(root.join("self")).unwrap();
        assert_eq!(
            pids(&find(&root, "dlm_controld").unwrap()),
            [100, 110],
            "an upgraded daemon still counts; a zombie, another user's copy, bash named \
             dlm_controld and a copy elsewhere do not"
        );
        assert_eq!(
            pids(&find(&root, daemon).unwrap()),
            [100, 110],
            "a path names the binary"
        );
        assert!(find(&root, "gfs_controld").unwrap().is_empty());
        assert!(find(&root.join("nonexistent"), "dlm_controld").is_err());
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn the_real_proc_is_checked_by_exe() {
        // `sleep` found by its binary and user.
        let mut sleeper = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = i32::try_from(sleeper.id()).unwrap();
        let found = find(Path::new("/proc"), "sleep").unwrap();
        assert!(pids(&found).contains(&pid));
        let ours: Vec<Captured> = found.into_iter().filter(|c| c.pid() == pid).collect();
        // Reap it from a thread, as init would reap a daemon, so that it does not linger
        // as our zombie.
        let reaper = std::thread::spawn(move || sleeper.wait().unwrap());
        assert!(terminate_and_wait(&ours, Deadline::after(Duration::from_secs(5))).unwrap());
        reaper.join().unwrap();
        assert!(!pids(&find(Path::new("/proc"), "sleep").unwrap()).contains(&pid));
    }

    #[test]
    fn launch_reports_a_failing_daemon_with_its_message() {
        let sh = PathBuf::from("/bin/sh");
        let args = [
            "-c".to_owned(),
            "echo unknown option -z >&2; exit 1".to_owned(),
        ];
        let err = launch(&sh, &args, Deadline::after(Duration::from_secs(5))).unwrap_err();
        assert!(err.to_string().contains("unknown option -z"), "{err}");
        let ok = ["-c".to_owned(), "exit 0".to_owned()];
        assert!(matches!(
            launch(&sh, &ok, Deadline::after(Duration::from_secs(5))).unwrap(),
            Launch::Detached
        ));
    }

    #[test]
    fn the_pid_file_picks_the_listener_among_the_daemons_processes() {
        let root = fake_proc("trusted");
        let me = nix::unistd::geteuid().as_raw();
        add(
            &root,
            100,
            "dlm_controld",
            'S',
            me,
            "/usr/sbin/dlm_controld",
        );
        add(
            &root,
            101,
            "dlm_controld",
            'S',
            me,
            "/usr/sbin/dlm_controld",
        );
        let found = find(&root, "/usr/sbin/dlm_controld").unwrap();
        assert_eq!(trusted_listener(&found, Some(100)).pids, [100]);
        assert_eq!(
            trusted_listener(&found, Some(4242)).pids,
            [100, 101],
            "a stale pid file names none of them"
        );
        assert_eq!(trusted_listener(&found, None).pids, [100, 101]);
        assert!(trusted_listener(&[], Some(100)).pids.is_empty());
        assert_eq!(trusted_listener(&found, None).uid, me);
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn resolve_finds_programs_and_refuses_missing_ones() {
        assert!(resolve("sh").is_some());
        assert_eq!(resolve("/bin/sh"), Some(PathBuf::from("/bin/sh")));
        assert!(resolve("no-such-daemon-here").is_none());
    }
}
