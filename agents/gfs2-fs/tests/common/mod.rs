//! A filesystem on a loop device in a temp dir, for the end-to-end tests; everything it made
//! (mounts under its own dir, the loop device, the image) goes away on drop.
#![allow(dead_code, clippy::unwrap_used)] // test fixtures: a failed setup step is a panic

use ocf_testkit::{AgentCmd, sh};
use std::path::{Path, PathBuf};
use std::process::Command;

pub const BIN: &str = env!("CARGO_BIN_EXE_gfs2-fs");

pub struct LoopFs {
    pub dir: PathBuf,
    pub dev: String,
    pub mnt: PathBuf,
    pub fstype: String,
}

impl LoopFs {
    /// A fresh `fstype` filesystem (ext4 or xfs) on a loop device; `None` (skip) without
    /// root or mkfs.
    pub fn new(tag: &str, fstype: &str) -> Option<LoopFs> {
        if !ocf_testkit::require_root(tag) || !ocf_testkit::require_program(tag, "losetup") {
            return None;
        }
        let mkfs = format!("mkfs.{fstype}");
        if !ocf_testkit::require_program(tag, &mkfs) {
            return None;
        }
        let dir = std::env::temp_dir().join(format!("gfs2fs-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let img = dir.join("fs.img");
        std::fs::File::create(&img)
            .unwrap()
            .set_len(320 << 20)
            .unwrap();
        let dev = sh("losetup", &["--find", "--show", img.to_str().unwrap()])
            .trim()
            .to_owned();
        let fs = LoopFs {
            mnt: dir.join("mnt"),
            dir,
            dev,
            fstype: fstype.to_owned(),
        };
        let quiet = if fstype == "xfs" { "-f" } else { "-F" };
        sh(&mkfs, &["-q", quiet, &fs.dev]);
        Some(fs)
    }

    /// The agent with device, directory and fstype set, a 20 s timeout.
    pub fn agent(&self, action: &str) -> AgentCmd {
        AgentCmd::new(BIN)
            .action(action)
            .param("device", &self.dev)
            .param("directory", self.mnt.to_str().unwrap())
            .param("fstype", &self.fstype)
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
    }

    /// Our mount point's line in /proc/self/mountinfo, if mounted.
    pub fn mountinfo(&self) -> Option<mounts::Mount> {
        mounts::MountTable::read().unwrap().at(&self.mnt).cloned()
    }

    pub fn is_mounted(&self) -> bool {
        self.mountinfo().is_some()
    }
}

impl Drop for LoopFs {
    fn drop(&mut self) {
        let _ = Command::new("fsfreeze").arg("-u").arg(&self.mnt).output();
        // Only mounts inside our own temp dir, deepest first.
        if let Ok(t) = mounts::MountTable::read() {
            let mut ours: Vec<&Path> = t
                .mounts
                .iter()
                .map(|m| m.mount_point.as_path())
                .filter(|p| p.starts_with(&self.dir))
                .collect();
            ours.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
            for p in ours {
                let _ = nix::mount::umount2(p, nix::mount::MntFlags::MNT_DETACH);
            }
        }
        let _ = Command::new("losetup").args(["-d", &self.dev]).output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A process we started, killed and reaped on drop if still there.
pub struct Proc(pub std::process::Child);

impl Proc {
    pub fn spawn(cmd: &mut Command) -> Proc {
        Proc(cmd.spawn().unwrap())
    }
    pub fn pid(&self) -> i32 {
        i32::try_from(self.0.id()).unwrap()
    }
    /// True while it runs (not exited, not a zombie).
    pub fn alive(&mut self) -> bool {
        matches!(self.0.try_wait(), Ok(None))
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// True while `pid` (not our child) exists and is not a zombie.
pub fn pid_alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X']))
    })
}

/// Wait up to `secs` for `cond`.
pub fn wait_for(secs: u64, mut cond: impl FnMut() -> bool) -> bool {
    let end = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while std::time::Instant::now() < end {
        if cond() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    cond()
}
