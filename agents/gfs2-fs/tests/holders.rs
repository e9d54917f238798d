//! Root end-to-end tests of stop on a busy mount: every kind of holder is signalled, an
//! unrelated process survives, force_unmount=false kills nothing.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns panic on a failed setup step

mod common;

use common::{LoopFs, Proc, pid_alive, wait_for};
use ocf::Status;
use std::process::{Command, Stdio};

fn sleeper(cwd: &std::path::Path) -> Command {
    let mut c = Command::new("sleep");
    c.arg("300").current_dir(cwd).stdin(Stdio::null());
    c
}

#[test]
fn stop_signals_every_holder_and_only_them() {
    let Some(fs) = LoopFs::new("holders", "ext4") else {
        return;
    };
    if !ocf_testkit::require_program("holders", "python3") {
        return;
    }
    fs.agent("start").run().assert_status(Status::Success);
    let file = fs.mnt.join("data.bin");
    std::fs::write(&file, vec![7u8; 8192]).unwrap();
    let sub = fs.mnt.join("sub");
    std::fs::create_dir(&sub).unwrap();

    // cwd on the mount.
    let mut by_cwd = Proc::spawn(&mut sleeper(&sub));
    // An open file, cwd elsewhere.
    let mut by_fd = Proc::spawn(
        Command::new("sh")
            .args([
                "-c",
                "exec sleep 300 3<\"$1\"",
                "sh",
                file.to_str().unwrap(),
            ])
            .current_dir("/"),
    );
    // A memory map whose file descriptor is closed, cwd elsewhere.
    let mut by_mmap = Proc::spawn(
        Command::new("python3")
            .args([
                "-c",
                "import mmap,sys,time\nf=open(sys.argv[1],'rb')\nm=mmap.mmap(f.fileno(),0,prot=mmap.PROT_READ)\nf.close()\nprint('ready',flush=True)\ntime.sleep(300)",
                file.to_str().unwrap(),
            ])
            .current_dir("/")
            .stdout(Stdio::piped()),
    );
    {
        use std::io::BufRead;
        let mut line = String::new();
        std::io::BufReader::new(by_mmap.0.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready");
    }
    // A shell on the mount and its child, which holds the mount through its own cwd.
    let mut parent = Proc::spawn(
        Command::new("sh")
            .args(["-c", "sleep 300 & echo $!; wait"])
            .current_dir(&fs.mnt)
            .stdout(Stdio::piped()),
    );
    let grandchild: i32 = {
        use std::io::BufRead;
        let mut line = String::new();
        std::io::BufReader::new(parent.0.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        line.trim().parse().unwrap()
    };
    // Unrelated: same program, cwd in the temp dir next to (not on) the mount.
    let mut unrelated = Proc::spawn(&mut sleeper(&fs.dir));

    let busy = nix::mount::umount2(&fs.mnt, nix::mount::MntFlags::empty());
    assert_eq!(
        busy,
        Err(nix::errno::Errno::EBUSY),
        "the mount must be busy"
    );

    let r = fs.agent("stop").run();
    r.assert_status(Status::Success);
    assert!(!fs.is_mounted());
    for (what, p) in [
        ("cwd", &mut by_cwd),
        ("open file", &mut by_fd),
        ("mmap", &mut by_mmap),
        ("parent", &mut parent),
    ] {
        assert!(
            wait_for(5, || !p.alive()),
            "{what} holder {} survived",
            p.pid()
        );
    }
    assert!(
        wait_for(5, || !pid_alive(grandchild)),
        "child of a holder survived"
    );
    assert!(unrelated.alive(), "an unrelated process was killed");
    let log = r.stderr();
    let python = format!(
        "sending SIGTERM to process {} (python3), which uses the filesystem through ",
        by_mmap.pid()
    );
    assert!(
        log.lines()
            .any(|l| l.contains(&python) && l.ends_with("a mapped file")),
        "{log}"
    );
    assert!(
        log.contains("through an open file") && log.contains("through its working directory"),
        "{log}"
    );
}

#[test]
fn stop_escalates_to_kill_signals() {
    let Some(fs) = LoopFs::new("escalate", "xfs") else {
        return;
    };
    fs.agent("start").run().assert_status(Status::Success);
    // Ignores TERM; only KILL (the second half of the timeout) ends it.
    let mut stubborn = Proc::spawn(
        Command::new("sh")
            .args(["-c", "trap '' TERM; while :; do sleep 0.2; done"])
            .current_dir(&fs.mnt),
    );
    let started = std::time::Instant::now();
    fs.agent("stop")
        .meta("timeout", "6000")
        .param("signal_delay", "0.2")
        .run()
        .assert_status(Status::Success);
    let took = started.elapsed();
    assert!(!fs.is_mounted());
    assert!(wait_for(5, || !stubborn.alive()));
    assert!(took < std::time::Duration::from_secs(6), "{took:?}");
    assert!(
        took > std::time::Duration::from_secs(2),
        "KILL came before half the timeout: {took:?}"
    );
}

#[test]
fn force_unmount_false_kills_nothing() {
    let Some(fs) = LoopFs::new("nokill", "ext4") else {
        return;
    };
    fs.agent("start").run().assert_status(Status::Success);
    let mut holder = Proc::spawn(&mut sleeper(&fs.mnt));
    fs.stop_without_signals_fails_busy();
    assert!(holder.alive());
    assert!(fs.is_mounted());
    drop(holder);
    fs.agent("stop")
        .param("force_unmount", "safe")
        .run()
        .assert_status(Status::Success);
    assert!(!fs.is_mounted());
}

#[test]
fn safe_mode_unmounts_a_busy_mount_and_removes_submounts() {
    let Some(fs) = LoopFs::new("safe", "ext4") else {
        return;
    };
    fs.agent("start").run().assert_status(Status::Success);
    let inner = fs.mnt.join("inner");
    std::fs::create_dir(&inner).unwrap();
    ocf_testkit::sh("mount", &["-t", "tmpfs", "tmpfs", inner.to_str().unwrap()]);
    let mut in_sub = Proc::spawn(&mut sleeper(&inner));
    let mut unrelated = Proc::spawn(&mut sleeper(&fs.dir));
    fs.agent("stop")
        .param("force_unmount", "safe")
        .run()
        .assert_status(Status::Success);
    assert!(!fs.is_mounted());
    assert!(mounts::MountTable::read().unwrap().at(&inner).is_none());
    assert!(wait_for(5, || !in_sub.alive()));
    assert!(unrelated.alive());
}
