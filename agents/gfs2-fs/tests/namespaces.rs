//! Root end-to-end tests of a holder in another mount namespace (issue 13): a process
//! started with `unshare -m --propagation slave` (as systemd's PrivateTmp and containers
//! make them) keeps the filesystem mounted in its namespace through its working directory,
//! so the unmount in the agent's namespace does not propagate there. Stop must not report
//! stopped while that namespace still has it mounted.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns panic on a failed setup step

mod common;

use common::{LoopFs, pid_alive, wait_for};
use mounts::MountTable;
use ocf::Status;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};

/// A private mount namespace with two processes: a holder whose working directory is on
/// the filesystem, and a keeper (cwd outside it) that keeps the namespace alive so that its
/// mount table can still be read once the holder is gone.
struct PrivateNamespace {
    unshare: Child,
    holder: i32,
    keeper: i32,
}

impl PrivateNamespace {
    fn new(fs: &LoopFs) -> PrivateNamespace {
        let out = fs.dir.join("ns");
        std::fs::create_dir_all(&out).unwrap();
        let script = format!(
            "(cd {m} && exec sleep 300) & echo $! > {o}/holder; echo $$ > {o}/keeper; exec sleep 300",
            m = fs.mnt.display(),
            o = out.display()
        );
        let unshare = Command::new("unshare")
            .args(["-m", "--propagation", "slave", "sh", "-c", &script])
            .current_dir("/")
            .spawn()
            .unwrap();
        let read = |name: &str| -> i32 {
            let file = out.join(name);
            assert!(
                wait_for(10, || std::fs::read_to_string(&file)
                    .is_ok_and(|t| t.ends_with('\n'))),
                "{name} never written"
            );
            std::fs::read_to_string(&file)
                .unwrap()
                .trim()
                .parse()
                .unwrap()
        };
        let (holder, keeper) = (read("holder"), read("keeper"));
        let ns = PrivateNamespace {
            unshare,
            holder,
            keeper,
        };
        assert!(
            wait_for(5, || std::fs::read_link(format!("/proc/{holder}/cwd"))
                .is_ok_and(|cwd| cwd == fs.mnt)),
            "the holder never entered the mount"
        );
        ns
    }

    /// The namespace's mounts of the filesystem on `dev`, as its keeper sees them.
    fn mounts_of(&self, dev: &str) -> Vec<PathBuf> {
        let (major, minor) = mounts::device::block_device_number(Path::new(dev)).unwrap();
        MountTable::read_from(Path::new(&format!("/proc/{}/mountinfo", self.keeper)))
            .unwrap()
            .by_device(major, minor)
            .map(|m| m.mount_point.clone())
            .collect()
    }
}

impl Drop for PrivateNamespace {
    fn drop(&mut self) {
        for pid in [self.holder, self.keeper] {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        let _ = self.unshare.wait();
    }
}

fn prerequisites(test: &str) -> bool {
    ocf_testkit::require_program(test, "unshare")
}

#[test]
fn stop_kills_a_holder_in_another_mount_namespace_and_unmounts_it_there() {
    let Some(fs) = LoopFs::new("ns-holder", "ext4") else {
        return;
    };
    if !prerequisites("ns-holder") {
        return;
    }
    fs.agent("start").run().assert_status(Status::Success);
    let ns = PrivateNamespace::new(&fs);
    assert_eq!(
        ns.mounts_of(&fs.dev),
        std::slice::from_ref(&fs.mnt),
        "the namespace's copy"
    );
    let r = fs.agent("stop").param("signal_delay", "0.2").run();
    r.assert_status(Status::Success);
    assert!(!fs.is_mounted());
    assert!(
        wait_for(5, || !pid_alive(ns.holder)),
        "the holder in the other namespace survived: {}",
        r.stderr()
    );
    assert!(
        ns.mounts_of(&fs.dev).is_empty(),
        "still mounted in the other namespace: {}",
        r.stderr()
    );
    assert!(
        pid_alive(ns.keeper),
        "a process that does not use it is left alone"
    );
    assert!(
        r.stderr()
            .contains(&format!("in the mount namespace of process {}", ns.keeper))
            || r.stderr()
                .contains(&format!("in the mount namespace of process {}", ns.holder)),
        "{}",
        r.stderr()
    );
    fs.agent("monitor").run().assert_status(Status::NotRunning);
}

#[test]
fn force_unmount_false_fails_the_stop_while_another_namespace_has_it_busy() {
    let Some(fs) = LoopFs::new("ns-nokill", "ext4") else {
        return;
    };
    if !prerequisites("ns-nokill") {
        return;
    }
    fs.agent("start").run().assert_status(Status::Success);
    let ns = PrivateNamespace::new(&fs);
    fs.stop_without_signals_fails_busy()
        .assert_reason_contains("mount namespace of process");
    assert!(
        pid_alive(ns.holder),
        "force_unmount=false killed the holder"
    );
    assert_eq!(ns.mounts_of(&fs.dev), std::slice::from_ref(&fs.mnt));
    // Stopped here but mounted there: a probe must not say "not running".
    fs.agent("monitor")
        .run()
        .assert_status(Status::ErrGeneric)
        .assert_reason_contains("still mounted in another mount namespace");
    // Once the holder is gone, stop unmounts it there and succeeds.
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(ns.holder),
        nix::sys::signal::Signal::SIGKILL,
    );
    assert!(wait_for(5, || !pid_alive(ns.holder)));
    fs.agent("stop")
        .param("force_unmount", "false")
        .run()
        .assert_status(Status::Success);
    assert!(ns.mounts_of(&fs.dev).is_empty());
}

/// A private mount namespace that no process is in, kept by a bind mount of its nsfs file
/// (`unshare --mount=FILE`): no /proc walk can find it, and our unmount does not propagate
/// into it. The device stays in use, so stop must fail rather than report stopped.
#[test]
fn stop_fails_while_a_namespace_no_process_is_in_keeps_the_filesystem() {
    let test = "ns-pinned";
    let Some(fs) = LoopFs::new(test, "ext4") else {
        return;
    };
    if !prerequisites(test) {
        return;
    }
    fs.agent("start").run().assert_status(Status::Success);
    // unshare wants the file on a mount that does not propagate.
    let pins = fs.dir.join("pins");
    std::fs::create_dir_all(&pins).unwrap();
    ocf_testkit::sh("mount", &["-t", "tmpfs", "pins", pins.to_str().unwrap()]);
    ocf_testkit::sh("mount", &["--make-private", pins.to_str().unwrap()]);
    let pin = pins.join("mntns");
    std::fs::write(&pin, "").unwrap();
    let pin_arg = format!("--mount={}", pin.display());
    ocf_testkit::sh("unshare", &[&pin_arg, "--propagation", "private", "true"]);
    fs.agent("stop")
        .param("signal_delay", "0.2")
        .meta("timeout", "3000")
        .run()
        .assert_status(Status::ErrGeneric)
        .assert_reason_contains("still in use");
    assert!(!fs.is_mounted(), "what could be unmounted was");
    // Once the namespace goes, the filesystem goes with it and stop succeeds.
    ocf_testkit::sh("umount", &[pin.to_str().unwrap()]);
    fs.agent("stop").run().assert_status(Status::Success);
    fs.agent("monitor").run().assert_status(Status::NotRunning);
}
