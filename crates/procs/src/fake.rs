//! A fake `/proc` tree for tests: the files [`crate::ProcFs`] reads, written as the kernel
//! formats them, under a directory the test owns (`ProcFs::at(dir)` reads it). For tests of
//! this crate, of the crates above it (mounts) and of the agents' policy without a kernel.

use std::path::{Path, PathBuf};

/// One fake process. [`FakeProcess::write`] puts it under a fake root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeProcess {
    pub pid: i32,
    pub ppid: i32,
    pub comm: String,
    /// State letter (`S`, `R`, `Z` ...).
    pub state: char,
    /// Real and effective uid.
    pub uid: u32,
    pub start_time: u64,
    /// Where `exe` links to (None: no link, as for a kernel thread).
    pub exe: Option<PathBuf>,
    /// The mount namespace inode (`ns/mnt` reads `mnt:[<inode>]`).
    pub mount_ns: Option<u64>,
    /// Further files below the process's directory (`mountinfo`, `maps`, `fdinfo/3`).
    pub files: Vec<(String, Vec<u8>)>,
    /// Further symlinks below the process's directory (`cwd`, `root`), name and target.
    pub links: Vec<(String, PathBuf)>,
}

impl FakeProcess {
    /// A sleeping process of this user, child of init, started at tick `1000 + pid`.
    pub fn new(pid: i32, comm: &str) -> FakeProcess {
        FakeProcess {
            pid,
            ppid: 1,
            comm: comm.to_owned(),
            state: 'S',
            uid: nix::unistd::geteuid().as_raw(),
            start_time: 1000 + u64::try_from(pid).unwrap_or(0),
            exe: None,
            mount_ns: None,
            files: Vec::new(),
            links: Vec::new(),
        }
    }

    #[must_use]
    pub fn state(mut self, state: char) -> FakeProcess {
        self.state = state;
        self
    }

    #[must_use]
    pub fn uid(mut self, uid: u32) -> FakeProcess {
        self.uid = uid;
        self
    }

    #[must_use]
    pub fn start_time(mut self, ticks: u64) -> FakeProcess {
        self.start_time = ticks;
        self
    }

    #[must_use]
    pub fn exe(mut self, exe: impl Into<PathBuf>) -> FakeProcess {
        self.exe = Some(exe.into());
        self
    }

    #[must_use]
    pub fn mount_ns(mut self, inode: u64) -> FakeProcess {
        self.mount_ns = Some(inode);
        self
    }

    #[must_use]
    pub fn file(mut self, name: &str, content: impl Into<Vec<u8>>) -> FakeProcess {
        self.files.push((name.to_owned(), content.into()));
        self
    }

    #[must_use]
    pub fn link(mut self, name: &str, target: impl Into<PathBuf>) -> FakeProcess {
        self.links.push((name.to_owned(), target.into()));
        self
    }

    /// The `stat` line, fields as proc(5) numbers them (flags 0, one thread).
    pub fn stat_line(&self) -> String {
        let (pid, parent, comm, state, start) =
            (self.pid, self.ppid, &self.comm, self.state, self.start_time);
        format!(
            "{pid} ({comm}) {state} {parent} {pid} {pid} 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 {start} 0 0"
        )
    }

    /// Write it under `root` (`<root>/<pid>/...`), replacing what was there.
    pub fn write(&self, root: &Path) -> std::io::Result<()> {
        let dir = root.join(self.pid.to_string());
        match std::fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("stat"), self.stat_line())?;
        std::fs::write(dir.join("comm"), format!("{}\n", self.comm))?;
        let uid = self.uid;
        std::fs::write(
            dir.join("status"),
            format!("Name:\t{}\nUid:\t{uid}\t{uid}\t{uid}\t{uid}\n", self.comm),
        )?;
        if let Some(exe) = &self.exe {
            std::os::unix::fs::symlink(exe, dir.join("exe"))?;
        }
        if let Some(ns) = self.mount_ns {
            std::fs::create_dir_all(dir.join("ns"))?;
            std::os::unix::fs::symlink(format!("mnt:[{ns}]"), dir.join("ns/mnt"))?;
        }
        for (name, content) in &self.files {
            let path = dir.join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(path, content)?;
        }
        for (name, target) in &self.links {
            std::os::unix::fs::symlink(target, dir.join(name))?;
        }
        Ok(())
    }
}
