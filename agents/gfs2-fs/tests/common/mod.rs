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

    /// Stop with `force_unmount=false` and a 3 s timeout, expecting it to fail busy after
    /// retrying until its deadline (not at the first EBUSY).
    pub fn stop_without_signals_fails_busy(&self) -> ocf_testkit::AgentResult {
        let started = std::time::Instant::now();
        let r = self
            .agent("stop")
            .param("force_unmount", "false")
            .param("signal_delay", "0.2")
            .meta("timeout", "3000")
            .run();
        r.assert_status(ocf::Status::ErrGeneric)
            .assert_reason_contains("force_unmount=false");
        assert!(
            started.elapsed() > std::time::Duration::from_secs(2),
            "retried until the deadline, not given up at once: {:?}",
            started.elapsed()
        );
        r
    }

    /// The agent started as Pacemaker starts it, with this operation timeout (ms) and extra
    /// variables, its stderr piped: for tests that watch when it exits.
    pub fn spawn(&self, action: &str, timeout_ms: &str, vars: &[(&str, &str)]) -> Agent {
        let mut cmd = Command::new(BIN);
        cmd.arg(action)
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("OCF_ROOT", "/usr/lib/ocf")
            .env("OCF_RESOURCE_INSTANCE", "test")
            .env("HA_LOGFACILITY", "none")
            .env("OCF_RESKEY_device", &self.dev)
            .env("OCF_RESKEY_directory", &self.mnt)
            .env("OCF_RESKEY_fstype", &self.fstype)
            .env("OCF_RESKEY_CRM_meta_timeout", timeout_ms)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        for (k, v) in vars {
            cmd.env(k, v);
        }
        let started = std::time::Instant::now();
        let mut child = cmd.spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let reader = std::thread::spawn(move || {
            use std::io::Read;
            let mut text = String::new();
            let _ = std::io::BufReader::new(stderr).read_to_string(&mut text);
            text
        });
        Agent {
            child,
            started,
            reader: Some(reader),
        }
    }
}

/// An agent process a test watches.
pub struct Agent {
    child: std::process::Child,
    started: std::time::Instant,
    reader: Option<std::thread::JoinHandle<String>>,
}

impl Agent {
    /// Its exit code and stderr if it exits within `secs` of its start (a process that
    /// cannot exit, a thread of it stuck in the kernel, gives None).
    pub fn exited_within(&mut self, secs: f64) -> Option<(i32, String)> {
        let limit = std::time::Duration::from_secs_f64(secs);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let text = self
                    .reader
                    .take()
                    .map(|r| r.join().unwrap())
                    .unwrap_or_default();
                return Some((status.code().unwrap_or(-1), text));
            }
            if self.started.elapsed() > limit {
                return None;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

impl Drop for Agent {
    /// Killed but not waited for: one stuck in the kernel would hang the test.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.try_wait();
    }
}

/// A filesystem frozen (`fsfreeze -f`) while this lives: writes to it sleep
/// uninterruptibly in the kernel, as on storage that stopped answering.
pub struct Frozen(pub PathBuf);

impl Frozen {
    pub fn new(dir: &Path) -> Frozen {
        sh("fsfreeze", &["-f", dir.to_str().unwrap()]);
        Frozen(dir.to_owned())
    }
}

impl Drop for Frozen {
    fn drop(&mut self) {
        let _ = Command::new("fsfreeze").arg("-u").arg(&self.0).output();
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
