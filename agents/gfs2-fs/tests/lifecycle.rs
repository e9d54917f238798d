//! Root end-to-end tests on loop devices: start/monitor/stop of ext4 and xfs, depths 10 and
//! 20, option mapping, refusals.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns panic on a failed setup step

mod common;

use common::LoopFs;
use ocf::Status;

fn cycle(fs: &LoopFs) {
    fs.agent("monitor").run().assert_status(Status::NotRunning);
    fs.agent("stop").run().assert_status(Status::Success);
    assert!(!fs.mnt.exists());
    fs.agent("start").run().assert_status(Status::Success);
    let m = fs.mountinfo().expect("mounted after start");
    assert_eq!(m.fstype, fs.fstype);
    assert_eq!(m.source, fs.dev);
    fs.agent("start").run().assert_status(Status::Success);
    assert_eq!(
        mounts::MountTable::read()
            .unwrap()
            .mounts
            .iter()
            .filter(|x| x.mount_point == fs.mnt)
            .count(),
        1,
        "a second start mounts nothing more"
    );
    fs.agent("monitor")
        .recurring()
        .run()
        .assert_status(Status::Success);
    fs.agent("monitor")
        .env("OCF_CHECK_LEVEL", "10")
        .run()
        .assert_status(Status::Success);
    fs.agent("monitor")
        .env("OCF_CHECK_LEVEL", "20")
        .run()
        .assert_status(Status::Success);
    let status = fs.mnt.join(".Filesystem_status");
    // Paths only: a DirEntry keeps the directory open, and this process would hold the mount.
    let files: Vec<_> = std::fs::read_dir(&status)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(files.len(), 1, "one status file");
    let name = files[0].file_name().unwrap().to_str().unwrap().to_owned();
    assert!(name.starts_with("test_"), "{name}");
    assert!(std::fs::read(&files[0]).unwrap().starts_with(b"test\n"));
    fs.agent("stop").run().assert_status(Status::Success);
    assert!(!fs.is_mounted());
    fs.agent("monitor").run().assert_status(Status::NotRunning);
    fs.agent("stop").run().assert_status(Status::Success);
}

#[test]
fn ext4_start_monitor_stop() {
    let Some(fs) = LoopFs::new("cycle-ext4", "ext4") else {
        return;
    };
    cycle(&fs);
}

#[test]
fn xfs_start_monitor_stop() {
    let Some(fs) = LoopFs::new("cycle-xfs", "xfs") else {
        return;
    };
    cycle(&fs);
}

#[test]
fn options_are_mapped_to_flags_and_data() {
    let Some(fs) = LoopFs::new("options", "ext4") else {
        return;
    };
    fs.agent("start")
        .param(
            "options",
            "noatime,nodev,nosuid,noexec,errors=remount-ro,_netdev",
        )
        .run()
        .assert_status(Status::Success);
    let m = fs.mountinfo().unwrap();
    for flag in ["rw", "noatime", "nodev", "nosuid", "noexec"] {
        assert!(m.has_option(flag), "{flag} missing in {}", m.options);
    }
    assert!(
        m.has_super_option("errors=remount-ro"),
        "{}",
        m.super_options
    );
    fs.agent("stop").run().assert_status(Status::Success);
    fs.agent("start")
        .param("options", "ro,sync,dirsync")
        .run()
        .assert_status(Status::Success);
    let m = fs.mountinfo().unwrap();
    // ro is per mount; sync and dirsync are superblock flags, shown in the super options.
    assert!(m.has_option("ro"), "{}", m.options);
    assert!(
        m.has_super_option("sync") && m.has_super_option("dirsync"),
        "{}",
        m.super_options
    );
    fs.agent("stop").run().assert_status(Status::Success);
    // Unknown data is the filesystem's to refuse: a start failure with the kernel's reason.
    let r = fs.agent("start").param("options", "bogus_option").run();
    r.assert_status(Status::ErrGeneric)
        .assert_reason_contains("couldn't mount");
    assert!(!fs.is_mounted());
}

#[test]
fn clone_of_ext4_is_refused() {
    let Some(fs) = LoopFs::new("clone", "ext4") else {
        return;
    };
    for action in ["start", "validate-all"] {
        fs.agent(action)
            .meta("clone_max", "2")
            .meta("clone", "0")
            .run()
            .assert_status(Status::ErrConfigured)
            .assert_reason_contains("not cluster-aware");
        // Read-only does not make it safe: mounting ext4 read-only replays its journal.
        fs.agent(action)
            .meta("clone_max", "2")
            .meta("clone", "0")
            .param("options", "ro")
            .run()
            .assert_status(Status::ErrConfigured)
            .assert_reason_contains("replays its journal");
    }
    assert!(!fs.is_mounted());
    fs.agent("start")
        .meta("clone_max", "2")
        .param("force_clones", "true")
        .run()
        .assert_status(Status::Success);
    fs.agent("stop").run().assert_status(Status::Success);
}

#[test]
fn device_mounted_elsewhere_is_an_error() {
    let Some(fs) = LoopFs::new("elsewhere", "ext4") else {
        return;
    };
    let other = fs.dir.join("other");
    std::fs::create_dir_all(&other).unwrap();
    ocf_testkit::sh("mount", &[&fs.dev, other.to_str().unwrap()]);
    let r = fs.agent("start").run();
    r.assert_status(Status::ErrGeneric)
        .assert_reason_contains("already mounted on");
    assert!(r.exit_reason().unwrap().contains(other.to_str().unwrap()));
    assert!(!fs.is_mounted());
    // The device's filesystem is in use on this node: a probe that said "not running" would
    // let the cluster mount it on another node. Stop unmounts it.
    fs.agent("monitor")
        .run()
        .assert_status(Status::ErrGeneric)
        .assert_reason_contains(&format!("is mounted on {}", other.display()));
    fs.agent("stop").run().assert_status(Status::Success);
    assert!(mounts::MountTable::read().unwrap().at(&other).is_none());
    fs.agent("monitor").run().assert_status(Status::NotRunning);
}

#[test]
fn something_else_on_the_mount_point() {
    let Some(fs) = LoopFs::new("other-on-dir", "ext4") else {
        return;
    };
    std::fs::create_dir_all(&fs.mnt).unwrap();
    ocf_testkit::sh("mount", &["-t", "tmpfs", "tmpfs", fs.mnt.to_str().unwrap()]);
    fs.agent("monitor").run().assert_status(Status::NotRunning);
    fs.agent("monitor")
        .recurring()
        .run()
        .assert_status(Status::ErrGeneric)
        .assert_reason_contains("tmpfs");
    fs.agent("stop").run().assert_status(Status::Success);
    assert!(fs.is_mounted(), "stop leaves a mount that is not ours");
}

#[test]
fn missing_device_is_5() {
    let Some(fs) = LoopFs::new("missing", "ext4") else {
        return;
    };
    for dev in [
        "/dev/nonexistent-gfs2fs",
        "UUID=00000000-1111-2222-3333-444444444444",
    ] {
        fs.agent("start")
            .param("device", dev)
            .run()
            .assert_status(Status::ErrInstalled)
            .assert_reason_contains("couldn't find device");
    }
}

#[test]
fn uuid_and_label_resolve() {
    let Some(fs) = LoopFs::new("uuid", "ext4") else {
        return;
    };
    ocf_testkit::sh("tune2fs", &["-L", "gfs2fstest", &fs.dev]);
    let uuid = ocf_testkit::sh("blkid", &["-s", "UUID", "-o", "value", &fs.dev]);
    for dev in [
        format!("UUID={}", uuid.trim()),
        "LABEL=gfs2fstest".to_owned(),
    ] {
        fs.agent("start")
            .param("device", &dev)
            .run()
            .assert_status(Status::Success);
        assert_eq!(fs.mountinfo().unwrap().source, fs.dev);
        fs.agent("monitor")
            .param("device", &dev)
            .env("OCF_CHECK_LEVEL", "10")
            .run()
            .assert_status(Status::Success);
        fs.agent("stop")
            .param("device", &dev)
            .run()
            .assert_status(Status::Success);
        assert!(!fs.is_mounted());
    }
}
