//! Root end-to-end tests of issue 17 for gfs2-fs: a local unprivileged user (`nobody`, via
//! setpriv) who can write the mounted filesystem's root (a web application writing its
//! document root) plants something where the depth-20 monitor keeps its status file. Every
//! depth-20 monitor must still succeed, nothing planted may be followed or written through,
//! and what was planted is moved aside, not deleted.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns panic on a failed setup step

mod common;

use common::LoopFs;
use ocf::Status;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

/// Run `argv` as nobody; it must succeed.
fn as_nobody(argv: &[&str]) {
    let out = Command::new("setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
        .args(argv)
        .output()
        .unwrap();
    assert!(out.status.success(), "{argv:?} as nobody: {out:?}");
}

/// The depth-20 monitor as Pacemaker runs it on node `node1`, with `prefix`.
fn depth_20(fs: &LoopFs, prefix: &str) -> ocf_testkit::AgentResult {
    fs.agent("monitor")
        .recurring()
        .meta("on_node", "node1")
        .env("OCF_CHECK_LEVEL", "20")
        .param("statusfile_prefix", prefix)
        .run()
}

/// The entries of `dir` whose names start with `name.moved-aside-`, with their owners.
fn moved_aside(dir: &Path, name: &str) -> Vec<u32> {
    let start = format!("{name}.moved-aside-");
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(&start))
        .map(|e| std::fs::symlink_metadata(e.path()).unwrap().uid())
        .collect()
}

#[test]
fn what_a_user_plants_at_the_status_file_neither_fails_the_monitor_nor_is_followed() {
    let test = "local-user-status";
    let Some(fs) = LoopFs::new(test, "ext4") else {
        return;
    };
    if !ocf_testkit::require_program(test, "setpriv") {
        return;
    }
    fs.agent("start").run().assert_status(Status::Success);
    // The filesystem's root is writable by everyone, as a shared upload directory is.
    std::fs::set_permissions(&fs.mnt, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let victim = fs.dir.join("victim");
    std::fs::create_dir(&victim).unwrap();
    let status = fs.mnt.join(".Filesystem_status");
    let (s, v) = (status.to_str().unwrap(), victim.to_str().unwrap());
    let nobody = 65534;
    for (what, argv) in [
        ("a directory of its own", vec!["mkdir", s]),
        ("a symlink to a directory outside", vec!["ln", "-s", v, s]),
        ("a file", vec!["touch", s]),
    ] {
        as_nobody(&argv);
        let r = depth_20(&fs, ".Filesystem_status/");
        r.assert_status(Status::Success);
        let meta = std::fs::symlink_metadata(&status).unwrap();
        assert!(meta.is_dir(), "{what}");
        assert_eq!((meta.uid(), meta.mode() & 0o777), (0, 0o755), "{what}");
        assert!(
            std::fs::read(status.join("test_node1"))
                .unwrap()
                .starts_with(b"test\n"),
            "{what}"
        );
        assert!(
            std::fs::read_dir(&victim).unwrap().next().is_none(),
            "{what}: written through"
        );
        assert_eq!(
            moved_aside(&fs.mnt, ".Filesystem_status"),
            [nobody],
            "{what}"
        );
        assert!(r.stderr().contains("moved aside"), "{what}: {}", r.stderr());
        // Clean up, as root, for the next case.
        for entry in std::fs::read_dir(&fs.mnt).unwrap().flatten() {
            let p = entry.path();
            if p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(".Filesystem_status")
            {
                if std::fs::symlink_metadata(&p).unwrap().is_dir() {
                    std::fs::remove_dir_all(&p).unwrap();
                } else {
                    std::fs::remove_file(&p).unwrap();
                }
            }
        }
    }
    // No directory in the prefix: the file lies in the root itself, where the user makes
    // a directory of that name.
    let file = fs.mnt.join("status-test_node1");
    as_nobody(&["mkdir", file.to_str().unwrap()]);
    depth_20(&fs, "status-").assert_status(Status::Success);
    let meta = std::fs::symlink_metadata(&file).unwrap();
    assert!(meta.is_file() && meta.uid() == 0);
    assert_eq!(moved_aside(&fs.mnt, "status-test_node1"), [nobody]);
    fs.agent("stop").run().assert_status(Status::Success);
}
