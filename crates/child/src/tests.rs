use super::*;
use std::path::{Path, PathBuf};

fn soon(secs: u64) -> Instant {
    Instant::now() + Duration::from_secs(secs)
}

fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("child-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The pid a test's helper wrote into `file` (waiting up to 2 s for it to appear).
fn pid_in(file: &Path) -> i32 {
    let until = Instant::now() + Duration::from_secs(2);
    loop {
        if let Ok(text) = std::fs::read_to_string(file)
            && let Ok(pid) = text.trim().parse()
        {
            return pid;
        }
        assert!(Instant::now() < until, "no pid in {}", file.display());
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// True once `pid` is gone or a zombie (its parent, init, may not have reaped it yet),
/// waiting up to 2 s: a SIGKILLed process dies at once, but asynchronously.
fn died(pid: i32) -> bool {
    let until = Instant::now() + Duration::from_secs(2);
    loop {
        let running = std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
            stat.rsplit_once(')')
                .is_some_and(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X']))
        });
        if !running {
            return true;
        }
        if Instant::now() >= until {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn collects_output_and_status() {
    let out = run("sh", &["-c", "echo out; echo err >&2; exit 3"], soon(10)).unwrap();
    assert_eq!(out.code(), Some(3));
    assert_eq!(out.stdout, "out\n");
    assert_eq!(out.stderr, "err\n");
    assert_eq!(out.message(), "err");
}

#[test]
fn arguments_are_not_interpreted_by_a_shell() {
    let out = run("echo", &["$(id)", ";", "rm -rf /"], soon(10)).unwrap();
    assert_eq!(out.stdout, "$(id) ; rm -rf /\n");
}

#[test]
fn overrun_is_killed_at_the_deadline() {
    let dir = scratch("overrun");
    let pid_file = dir.join("pid");
    let script = format!("echo $$ > {}; exec sleep 30", pid_file.display());
    let start = Instant::now();
    let err = run("sh", &["-c", &script], start + Duration::from_millis(300)).unwrap_err();
    assert!(matches!(err, Error::TimedOut { .. }), "{err}");
    // Seconds with one decimal (0.3 or 0.4 on a busy machine), never Debug's "301.2ms".
    let text = err.to_string();
    let waited = text
        .strip_prefix("sh did not finish within ")
        .and_then(|t| t.strip_suffix(" s and was killed"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(matches!(waited, "0.3" | "0.4" | "0.5"), "{text}");
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
    let pid = pid_in(&pid_file);
    assert!(died(pid), "the helper {pid} still runs after the deadline");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_grandchild_holding_stdout_is_killed_at_the_deadline() {
    // drbdadm's drbdsetup, a modprobe install hook: the helper started something that keeps
    // stdout open and ignores SIGTERM, and the helper itself keeps waiting.
    let dir = scratch("grandchild");
    let pid_file = dir.join("pid");
    // `\$\$`: the grandchild's own pid, not expanded by the helper's shell.
    let grandchild = format!(
        "trap '' TERM; echo \\$\\$ > {}; while :; do sleep 1; done",
        pid_file.display()
    );
    let script = format!("sh -c \"{grandchild}\" & wait");
    let start = Instant::now();
    let err = run("sh", &["-c", &script], start + Duration::from_millis(500)).unwrap_err();
    assert!(matches!(err, Error::TimedOut { .. }), "{err}");
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "returned {:?} after the start, past the deadline",
        start.elapsed()
    );
    let pid = pid_in(&pid_file);
    assert!(died(pid), "the grandchild {pid} survived the deadline");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_helper_that_exits_leaving_a_grandchild_on_stdout_returns_at_once() {
    // The helper exits 0 at once, but left a grandchild (ignoring SIGTERM) holding stdout:
    // the call returns with the helper's status and output, not at the grandchild's end, and
    // the grandchild, still in the helper's process group, is killed.
    let dir = scratch("stray");
    let pid_file = dir.join("pid");
    // `\$\$`: the grandchild's own pid, not expanded by the helper's shell.
    let grandchild = format!(
        "trap '' TERM; echo \\$\\$ > {}; while :; do sleep 1; done",
        pid_file.display()
    );
    let script = format!("sh -c \"{grandchild}\" & echo started");
    let start = Instant::now();
    let out = run("sh", &["-c", &script], start + Duration::from_secs(20)).unwrap();
    assert!(out.success());
    assert_eq!(out.stdout, "started\n");
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "waited {:?} for the grandchild",
        start.elapsed()
    );
    let pid = pid_in(&pid_file);
    assert!(died(pid), "the grandchild {pid} survived");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn helpers_run_in_their_own_process_group() {
    // Field 5 of /proc/PID/stat is the process group (no `ps` needed).
    let script = "echo $$; read -r _ _ _ _ pgid _ < /proc/$$/stat; echo $pgid";
    let out = run("sh", &["-c", script], soon(10)).unwrap();
    let mut lines = out.stdout.lines().map(str::trim);
    let (helper, group) = (lines.next().unwrap(), lines.next().unwrap());
    assert_eq!(
        helper, group,
        "the helper leads its own group: {}",
        out.stdout
    );
    let ours = nix::unistd::getpgrp().as_raw().to_string();
    assert_ne!(group, ours);
}

#[test]
fn missing_program_is_a_spawn_error() {
    let err = run("/nonexistent/prog", &[], soon(5)).unwrap_err();
    assert!(matches!(err, Error::Spawn { .. }));
    assert_eq!(
        err.to_string(),
        "cannot run /nonexistent/prog: no such program (is it installed?)",
        "what an administrator reads, without Rust's (os error 2)"
    );
}

#[test]
fn large_output_does_not_deadlock() {
    let out = run(
        "sh",
        &[
            "-c",
            "head -c 1000000 /dev/zero; head -c 300000 /dev/zero >&2",
        ],
        soon(20),
    )
    .unwrap();
    assert_eq!(out.stdout.len(), 1_000_000);
    assert_eq!(out.stderr.len(), 300_000);
}

#[test]
fn a_timeout_reads_in_seconds() {
    let e = Error::TimedOut {
        program: "drbdadm".into(),
        waited: Duration::from_millis(2500),
    };
    assert_eq!(
        e.to_string(),
        "drbdadm did not finish within 2.5 s and was killed"
    );
}
