//! What a local unprivileged user can plant where an agent (root) reads or signals, done for
//! real: the test, as root, makes a directory owned by `nobody` (as a state directory an
//! administrator pointed at a user's directory, or one a user was given), and `nobody`
//! (through setpriv) plants a FIFO, a symlink, a hard link or a file of its own at a pid
//! file's name, or runs a look-alike of a daemon. Needs root (skipped without, a failure in
//! CI).

// The helpers below are test code too: a failed setup step should panic with its cause.
#![allow(clippy::unwrap_used)]

use procs::{Error, Expect, ProcFs, Signal, StateDir, Untrusted};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const NOBODY: u32 = 65534;

/// A directory `0755` owned by nobody, fresh for this test.
fn nobodys_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("procs-user-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
    nix::unistd::chown(&d, Some(NOBODY.into()), Some(NOBODY.into())).unwrap();
    d
}

/// Run `program args` as nobody and wait for it.
fn as_nobody(program: &str, args: &[&str]) -> std::process::ExitStatus {
    Command::new("setpriv")
        .args([
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            program,
        ])
        .args(args)
        .status()
        .unwrap()
}

/// `procs::read_pid_file(path)` on a thread, given at most 2 s: a reader that blocks fails
/// the test instead of hanging it.
fn read_bounded(path: &Path) -> Result<Option<i32>, Error> {
    let (tx, rx) = mpsc::channel();
    let p = path.to_owned();
    std::thread::spawn(move || {
        let _ = tx.send(procs::read_pid_file(&p));
    });
    rx.recv_timeout(Duration::from_secs(2))
        .expect("reading the pid file blocked (a FIFO opened without O_NONBLOCK)")
}

fn refusal(r: Result<Option<i32>, Error>) -> Untrusted {
    match r {
        Err(Error::Untrusted { why, .. }) => why,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn a_fifo_planted_by_a_user_neither_blocks_nor_is_read() {
    if !ocf_testkit::require_root("a_fifo_planted_by_a_user_neither_blocks_nor_is_read") {
        return;
    }
    let d = nobodys_dir("fifo");
    let pid = d.join("ipaddr2-announce-192.0.2.10.pid");
    assert!(as_nobody("mkfifo", &[pid.to_str().unwrap()]).success());
    let start = Instant::now();
    assert_eq!(refusal(read_bounded(&pid)), Untrusted::NotRegular("FIFO"));
    assert!(start.elapsed() < Duration::from_secs(1));
    // The directory itself is not a state directory the agent writes in.
    let e = StateDir::open(&d).unwrap_err();
    assert!(e.to_string().contains("owned by uid 65534"), "{e}");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn symlinks_hard_links_and_a_users_own_file_are_refused() {
    if !ocf_testkit::require_root("symlinks_hard_links_and_a_users_own_file_are_refused") {
        return;
    }
    let d = nobodys_dir("links");
    // A root-owned file elsewhere whose content would be believed.
    let root_dir = std::env::temp_dir().join(format!("procs-user-root-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root_dir);
    std::fs::create_dir_all(&root_dir).unwrap();
    std::fs::set_permissions(&root_dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let victim = root_dir.join("victim.pid");
    std::fs::write(&victim, "1234\n").unwrap();

    let sym = d.join("sym.pid");
    assert!(
        as_nobody(
            "ln",
            &["-s", victim.to_str().unwrap(), sym.to_str().unwrap()]
        )
        .success()
    );
    assert_eq!(refusal(read_bounded(&sym)), Untrusted::Symlink);

    // With fs.protected_hardlinks=1 (Debian's default) nobody cannot link root's file; where
    // it is 0 it can. The test makes the link as root to prove the reader's own check.
    let hard = d.join("hard.pid");
    if !as_nobody("ln", &[victim.to_str().unwrap(), hard.to_str().unwrap()]).success() {
        std::fs::hard_link(&victim, &hard).unwrap();
    }
    assert_eq!(refusal(read_bounded(&hard)), Untrusted::Links(2));
    std::fs::remove_file(&hard).unwrap();

    let own = d.join("own.pid");
    assert!(
        as_nobody(
            "sh",
            &["-c", &format!("echo 1234 > {}", own.to_str().unwrap())]
        )
        .success()
    );
    assert_eq!(refusal(read_bounded(&own)), Untrusted::Owner(NOBODY));
    assert_eq!(
        read_bounded(&victim).unwrap(),
        Some(1234),
        "root's own file is read"
    );
    std::fs::remove_dir_all(&d).unwrap();
    std::fs::remove_dir_all(&root_dir).unwrap();
}

/// Kills and reaps the child when dropped.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_look_alike_daemon_of_another_user_is_never_ours() {
    if !ocf_testkit::require_root("a_look_alike_daemon_of_another_user_is_never_ours") {
        return;
    }
    // The "daemon": a copy of sleep called dlm_controld, root's, executable by all. nobody
    // runs that very binary, and also a copy of its own under the same name.
    let d = nobodys_dir("lookalike");
    let bin = std::env::temp_dir().join(format!("procs-user-bin-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&bin);
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let daemon = bin.join("dlm_controld");
    std::fs::copy("/bin/sleep", &daemon).unwrap();
    let copy = d.join("dlm_controld");
    assert!(as_nobody("cp", &[daemon.to_str().unwrap(), copy.to_str().unwrap()]).success());
    let spawn_as_nobody = |program: &Path| {
        Reaped(
            Command::new("setpriv")
                .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
                .arg(program)
                .arg("30")
                .spawn()
                .unwrap(),
        )
    };
    let theirs_same_binary = spawn_as_nobody(&daemon);
    let theirs_copy = spawn_as_nobody(&copy);
    let ours = Reaped(Command::new(&daemon).arg("30").spawn().unwrap());
    let ours_pid = i32::try_from(ours.0.id()).unwrap();
    // setpriv execs the program: the pid is the look-alike's.
    let their_pids =
        [theirs_same_binary.0.id(), theirs_copy.0.id()].map(|p| i32::try_from(p).unwrap());
    let sys = ProcFs::system();
    let expect = Expect::any().program(&daemon).uid(0);
    let found = procs_found(&sys, &expect, &their_pids, ours_pid);
    assert_eq!(found, [ours_pid], "only root's process of that binary");
    for pid in their_pids {
        let them = sys.capture(pid).unwrap().expect("look-alike runs");
        assert_eq!(them.comm, "dlm_controld");
        assert!(!expect.matches(&them, &sys));
    }
    // Signalling what was found reaches only ours.
    for c in sys.find(&expect).unwrap() {
        assert!(c.signal(Signal::SIGKILL).unwrap());
    }
    for pid in their_pids {
        assert!(
            sys.identity(pid).is_some(),
            "nobody's {pid} was not signalled"
        );
    }
    drop((ours, theirs_same_binary, theirs_copy));
    std::fs::remove_dir_all(&d).unwrap();
    std::fs::remove_dir_all(&bin).unwrap();
}

/// Poll until the three processes have exec'd (setpriv replaces itself), then find.
fn procs_found(sys: &ProcFs, expect: &Expect, theirs: &[i32], ours: i32) -> Vec<i32> {
    let end = Instant::now() + Duration::from_secs(5);
    while Instant::now() < end {
        let all_execd = theirs.iter().chain([&ours]).all(|&p| {
            sys.process(p)
                .ok()
                .flatten()
                .is_some_and(|p| p.comm == "dlm_controld")
        });
        if all_execd {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    sys.find(expect)
        .unwrap()
        .iter()
        .map(procs::Captured::pid)
        .collect()
}
