//! Finding, signalling and launching dlm_controld. Finding works under an injectable /proc
//! root (crate procs reads only the real /proc); signals, waits and the launch go through
//! crate procs.
//!
//! A process is the daemon when its `/proc/<pid>/comm` is the daemon's name (cut to the
//! kernel's 15 characters), it is not a zombie, and its `exe` (when readable) has the
//! daemon's file name: `pgrep -x dlm_controld` with a check of the binary.

use ocf::Deadline;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The kernel keeps 15 characters of a command name (TASK_COMM_LEN - 1).
const COMM_LEN: usize = 15;

/// The pids of the running `daemon` (its file name), found under `proc_root`, sorted.
pub fn find(proc_root: &Path, daemon: &str) -> Vec<i32> {
    let Some(name) = Path::new(daemon).file_name().and_then(|n| n.to_str()) else {
        return Vec::new();
    };
    let comm: String = name.chars().take(COMM_LEN).collect();
    let own = std::process::id();
    let Ok(entries) = std::fs::read_dir(proc_root) else {
        return Vec::new();
    };
    let mut pids: Vec<i32> = entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| u32::try_from(pid).is_ok_and(|p| p != own))
        .filter(|&pid| is_daemon(&proc_root.join(pid.to_string()), &comm, name))
        .collect();
    pids.sort_unstable();
    pids
}

fn is_daemon(dir: &Path, comm: &str, name: &str) -> bool {
    let Ok(c) = std::fs::read_to_string(dir.join("comm")) else {
        return false;
    };
    if c.trim_end_matches('\n') != comm {
        return false;
    }
    // The state follows the command in parentheses, which may itself hold ") ".
    if let Ok(stat) = std::fs::read_to_string(dir.join("stat"))
        && let Some((_, rest)) = stat.rsplit_once(") ")
        && rest.starts_with(['Z', 'X'])
    {
        return false;
    }
    match std::fs::read_link(dir.join("exe")) {
        Ok(exe) => {
            let exe = exe.to_string_lossy();
            let exe = exe.strip_suffix(" (deleted)").unwrap_or(&exe);
            Path::new(exe).file_name().and_then(|n| n.to_str()) == Some(name)
        }
        // Kernel threads and fake trees have no readable exe: the name must do.
        Err(_) => true,
    }
}

/// Send SIGTERM to each of the daemon's processes, identified by pid and start time so that a
/// reused pid is never signalled; wait until they are gone, no later than `deadline`.
/// False when some still run at the deadline.
pub fn terminate_and_wait(pids: &[i32], deadline: Deadline) -> Result<bool, procs::Error> {
    let ids: Vec<procs::Identity> = pids
        .iter()
        .filter_map(|&p| procs::Identity::of(p))
        .collect();
    for id in &ids {
        id.signal(nix::sys::signal::Signal::SIGTERM)?;
    }
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
    if daemon.contains('/') {
        let p = PathBuf::from(daemon);
        return is_executable(&p).then_some(p);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from))
        .map(|dir| dir.join(daemon))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
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

    fn add(root: &Path, pid: i32, comm: &str, state: char) {
        let dir = root.join(pid.to_string());
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("comm"), format!("{comm}\n")).unwrap();
        fs::write(
            dir.join("stat"),
            format!("{pid} ({comm}) {state} 1 {pid} {pid} 0"),
        )
        .unwrap();
    }

    #[test]
    fn finds_the_daemon_by_name_and_skips_zombies_and_others() {
        let root = fake_proc("find");
        add(&root, 100, "dlm_controld", 'S');
        add(&root, 200, "dlm_controld", 'Z');
        add(&root, 300, "dlm_controld_x", 'S');
        add(&root, 400, "bash", 'S');
        fs::create_dir_all(root.join("self")).unwrap();
        assert_eq!(find(&root, "dlm_controld"), [100]);
        assert_eq!(
            find(&root, "/usr/sbin/dlm_controld"),
            [100],
            "a path names its file"
        );
        assert!(find(&root, "gfs_controld").is_empty());
        assert!(find(&root.join("nonexistent"), "dlm_controld").is_empty());
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn long_names_match_the_kernels_cut() {
        let root = fake_proc("long");
        add(&root, 10, "a_very_long_dae", 'S');
        assert_eq!(find(&root, "a_very_long_daemon_name"), [10]);
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn the_real_proc_is_checked_by_exe() {
        // This test binary's own comm is cut from its file name; it is never reported.
        let me = std::env::current_exe().unwrap();
        let name = me.file_name().unwrap().to_str().unwrap();
        assert!(find(Path::new("/proc"), name).is_empty());
        // `sleep` found by comm and exe.
        let mut sleeper = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = i32::try_from(sleeper.id()).unwrap();
        assert!(find(Path::new("/proc"), "sleep").contains(&pid));
        // Reap it from a thread, as init would reap a daemon, so that it does not linger
        // as our zombie.
        let reaper = std::thread::spawn(move || sleeper.wait().unwrap());
        assert!(terminate_and_wait(&[pid], Deadline::after(Duration::from_secs(5))).unwrap());
        reaper.join().unwrap();
        assert!(!find(Path::new("/proc"), "sleep").contains(&pid));
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
    fn resolve_finds_programs_and_refuses_missing_ones() {
        assert!(resolve("sh").is_some());
        assert_eq!(resolve("/bin/sh"), Some(PathBuf::from("/bin/sh")));
        assert!(resolve("no-such-daemon-here").is_none());
        let plain = std::env::temp_dir().join(format!("dlm-not-exec-{}", std::process::id()));
        fs::write(&plain, "#!/bin/sh\n").unwrap();
        assert!(resolve(plain.to_str().unwrap()).is_none(), "not executable");
        fs::remove_file(&plain).unwrap();
    }
}
