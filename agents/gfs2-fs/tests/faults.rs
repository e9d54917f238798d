//! Root end-to-end tests of issue 13's faults that ban or fence: an I/O error reading the
//! GFS2 superblock is this node's failure (1), not a configuration wrong everywhere (6);
//! a typo in a setting fails neither the probe nor the stop of a mounted filesystem.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns panic on a failed setup step

mod common;

use common::{LoopFs, Proc, wait_for};
use ocf::Status;
use std::process::Command;

/// A loop device detached on drop.
struct LoopDev(String);

impl Drop for LoopDev {
    fn drop(&mut self) {
        let _ = Command::new("losetup").args(["-d", &self.0]).output();
    }
}

#[test]
fn an_io_error_reading_the_gfs2_superblock_is_1_not_6() {
    let test = "gfs2-eio";
    let Some(outer) = LoopFs::new(test, "xfs") else {
        return;
    };
    if !ocf_testkit::require_program(test, "mkfs.gfs2")
        || !ocf_testkit::require_program(test, "xfs_io")
    {
        return;
    }
    // A GFS2 image on an XFS filesystem, seen through a second loop device; shutting the XFS
    // down makes every read of that device fail with EIO, as a dying disk does.
    std::fs::create_dir_all(&outer.mnt).unwrap();
    ocf_testkit::sh("mount", &[&outer.dev, outer.mnt.to_str().unwrap()]);
    let image = outer.mnt.join("gfs2.img");
    std::fs::File::create(&image)
        .unwrap()
        .set_len(300 << 20)
        .unwrap();
    let mkfs = Command::new("mkfs.gfs2")
        .args(["-O", "-p", "lock_dlm", "-t", "web:www", "-j", "2"])
        .arg(&image)
        .output()
        .unwrap();
    assert!(mkfs.status.success(), "{mkfs:?}");
    let gfs2 = LoopDev(
        ocf_testkit::sh(
            "losetup",
            &[
                "--find",
                "--show",
                "--direct-io=on",
                image.to_str().unwrap(),
            ],
        )
        .trim()
        .to_owned(),
    );
    ocf_testkit::sh(
        "xfs_io",
        &["-x", "-c", "shutdown", outer.mnt.to_str().unwrap()],
    );
    let target = outer.dir.join("gfs2");
    let agent = |action: &str| {
        ocf_testkit::AgentCmd::new(common::BIN)
            .action(action)
            .param("device", &gfs2.0)
            .param("directory", target.to_str().unwrap())
            .param("fstype", "gfs2")
            .meta("clone_max", "2")
            .run()
    };
    // validate-all reads no device (it forks nothing); start reads the superblock before
    // it mounts.
    agent("validate-all").assert_status(Status::Success);
    let r = agent("start");
    r.assert_status(Status::ErrGeneric)
        .assert_reason_contains("couldn't read the GFS2 superblock")
        .assert_reason_contains("I/O error");
    assert!(
        !r.exit_reason().unwrap().contains("os error"),
        "{:?}",
        r.exit_reason()
    );
    assert!(!target.exists() || mounts::MountTable::read().unwrap().at(&target).is_none());
}

/// The bad-configuration rule on a real mount: the XML default stands in for the typo in
/// the probe, the monitor and the stop (which still kills the holder and unmounts), while
/// validate-all and start refuse it with 6 naming it.
#[test]
fn a_typo_in_a_setting_fails_neither_the_probe_nor_the_stop_of_a_mounted_filesystem() {
    let Some(fs) = LoopFs::new("typo", "ext4") else {
        return;
    };
    for (name, value) in [("run_fsck", "yes"), ("force_unmount", "perhaps")] {
        fs.agent("start").run().assert_status(Status::Success);
        let mut holder = Proc::spawn(Command::new("sleep").arg("300").current_dir(&fs.mnt));
        let probe = fs.agent("monitor").param(name, value).run();
        probe.assert_status(Status::Success);
        assert!(
            probe.stderr().contains(&format!("{name}=\"{value}\"")),
            "the typo is logged: {}",
            probe.stderr()
        );
        fs.agent("monitor")
            .param(name, value)
            .recurring()
            .run()
            .assert_status(Status::Success);
        for action in ["validate-all", "start"] {
            fs.agent(action)
                .param(name, value)
                .run()
                .assert_status(Status::ErrConfigured)
                .assert_reason_contains(&format!("{name}=\"{value}\""));
        }
        fs.agent("stop")
            .param(name, value)
            .param("signal_delay", "0.2")
            .run()
            .assert_status(Status::Success);
        assert!(!fs.is_mounted(), "{name}={value}");
        assert!(
            wait_for(5, || !holder.alive()),
            "force_unmount's default applies"
        );
        fs.agent("monitor")
            .param(name, value)
            .run()
            .assert_status(Status::NotRunning);
    }
}
