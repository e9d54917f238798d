//! A filesystem mounted only in a private mount namespace (issue 13, "holders in other mount
//! namespaces"): `unshare -m --propagation slave` mounts a tmpfs the host never sees, one
//! process there keeps a file on it open and another has its cwd in it. The scan from the
//! host finds the namespace, its mount and its processes, and both holders. Needs root
//! (skipped without, a failure in CI).

// The helpers below are test code too: a failed setup step should panic with its cause.
#![allow(clippy::unwrap_used)]

use mounts::MountTable;
use mounts::holders::{Device, Use, device_users};
use procs::ProcFs;
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// Kills the namespace's processes when dropped: the namespace and its mount go with them.
struct Namespace(Child, Vec<i32>);

impl Drop for Namespace {
    fn drop(&mut self) {
        for pid in &self.1 {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(*pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for(file: &Path) -> String {
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(text) = std::fs::read_to_string(file)
            && text.ends_with('\n')
        {
            return text;
        }
        assert!(Instant::now() < until, "{} never written", file.display());
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_mount_in_a_private_namespace_and_its_holders_are_found() {
    let test = "a_mount_in_a_private_namespace_and_its_holders_are_found";
    if !ocf_testkit::require_root(test)
        || !ocf_testkit::require_program(test, "unshare")
        || !ocf_testkit::require_program(test, "mountpoint")
    {
        return;
    }
    let base = std::env::temp_dir().join(format!("mounts-ns-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let (mnt, out) = (base.join("mnt"), base.join("out"));
    std::fs::create_dir_all(&mnt).unwrap();
    std::fs::create_dir_all(&out).unwrap();
    // In the namespace: mount, say the device, start a process whose cwd is on the mount,
    // then keep a file on it open in the namespace's first process.
    let script = format!(
        "set -e; mount -t tmpfs crates-ns {m}; mountpoint -d {m} > {o}/dev; : > {m}/f; \
         (cd {m} && exec sleep 60) & echo $! > {o}/cwd_pid; exec 3< {m}/f; echo $$ > {o}/fd_pid; \
         wait",
        m = mnt.display(),
        o = out.display()
    );
    let child = Command::new("unshare")
        .args(["-m", "--propagation", "slave", "sh", "-c", &script])
        .spawn()
        .unwrap();
    let mut ns = Namespace(child, Vec::new());
    let dev = wait_for(&out.join("dev"));
    let fd_pid: i32 = wait_for(&out.join("fd_pid")).trim().parse().unwrap();
    let cwd_pid: i32 = wait_for(&out.join("cwd_pid")).trim().parse().unwrap();
    ns.1 = vec![fd_pid, cwd_pid];
    let (major, minor) = dev.trim().split_once(':').unwrap();
    let device = Device {
        major: major.parse().unwrap(),
        minor: minor.parse().unwrap(),
    };
    // The host does not see the mount.
    let host = MountTable::read().unwrap();
    assert_eq!(host.by_device(device.major, device.minor).count(), 0);
    // Give the backgrounded sleep time to enter its directory.
    let until = Instant::now() + Duration::from_secs(5);
    while std::fs::read_link(format!("/proc/{cwd_pid}/cwd"))
        .ok()
        .as_deref()
        != Some(&mnt)
        && Instant::now() < until
    {
        std::thread::sleep(Duration::from_millis(10));
    }

    let users = device_users(&ProcFs::system(), device).unwrap();
    assert_eq!(users.other_namespaces.len(), 1, "{users:?}");
    let found = &users.other_namespaces[0];
    assert_eq!(found.mounts.len(), 1);
    assert_eq!(found.mounts[0].mount_point, mnt);
    assert_eq!(found.mounts[0].fstype, "tmpfs");
    let pids: Vec<i32> = found.processes.iter().map(procs::Captured::pid).collect();
    assert!(
        pids.contains(&fd_pid) && pids.contains(&cwd_pid),
        "{pids:?}"
    );
    let uses_of = |pid: i32| {
        users
            .holders
            .iter()
            .find(|h| h.pid() == pid)
            .map(|h| h.uses.clone())
    };
    assert_eq!(uses_of(fd_pid), Some(vec![Use::OpenFile]), "{users:?}");
    assert_eq!(uses_of(cwd_pid), Some(vec![Use::Cwd]), "{users:?}");
    // What was captured can be signalled, and only while it is the same process.
    let sleeper = users.holders.iter().find(|h| h.pid() == cwd_pid).unwrap();
    assert!(sleeper.process.signal(procs::Signal::SIGKILL).unwrap());
    drop(ns);
    // With its processes gone, the namespace and its mount are gone.
    let until = Instant::now() + Duration::from_secs(5);
    while !device_users(&ProcFs::system(), device)
        .unwrap()
        .other_namespaces
        .is_empty()
    {
        assert!(
            Instant::now() < until,
            "the namespace outlived its processes"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::fs::remove_dir_all(&base).unwrap();
}
