//! The kernel DLM's own state: lockspaces in sysfs (`/sys/kernel/dlm/<name>/`, what
//! `ls /sys/kernel/dlm` shows) and the cluster configuration dlm_controld writes into configfs
//! (`/sys/kernel/config/dlm/cluster/comms/<nodeid>/addr_list`), plus whether configfs is
//! mounted (`/proc/self/mounts`, as `findmnt /sys/kernel/config` would tell).
//!
//! Every path hangs off an injectable root so that the decisions built on them are tested
//! against a fake tree.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

/// Where configfs is mounted (the kernel's and dlm_controld's fixed place).
pub const CONFIGFS_MOUNTPOINT: &str = "/sys/kernel/config";

/// One node's comms entry, written by dlm_controld when it configures the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comm {
    pub nodeid: String,
    /// The `local` attribute says 1 for this node.
    pub local: bool,
    /// Bytes in `addr_list` (the node's addresses as `sockaddr_storage` records).
    pub addr_list_len: usize,
}

/// The kernel DLM's files, under a root (`/` on a real system).
#[derive(Debug, Clone)]
pub struct Kernel {
    root: PathBuf,
}

impl Default for Kernel {
    fn default() -> Kernel {
        Kernel::system()
    }
}

impl Kernel {
    pub fn system() -> Kernel {
        Kernel::at("/")
    }

    /// A fake tree: `root/sys/kernel/dlm`, `root/sys/kernel/config`, `root/proc`.
    pub fn at(root: impl Into<PathBuf>) -> Kernel {
        Kernel { root: root.into() }
    }

    pub fn sysfs_dlm(&self) -> PathBuf {
        self.root.join("sys/kernel/dlm")
    }

    pub fn configfs(&self) -> PathBuf {
        self.root.join("sys/kernel/config")
    }

    /// `/sys/kernel/config/dlm`: exists once the dlm module is loaded (and configfs mounted).
    pub fn configfs_dlm(&self) -> PathBuf {
        self.configfs().join("dlm")
    }

    pub fn proc(&self) -> PathBuf {
        self.root.join("proc")
    }

    /// The kernel's lockspaces, sorted. None loaded (no `/sys/kernel/dlm`) is an empty list.
    pub fn lockspaces(&self) -> std::io::Result<Vec<String>> {
        let mut names = Vec::new();
        let entries = match std::fs::read_dir(self.sysfs_dlm()) {
            Ok(e) => e,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(names),
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            if entry.file_type()?.is_dir() {
                names.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
        names.sort();
        Ok(names)
    }

    /// The comms entries dlm_controld configured, sorted by node id text.
    pub fn comms(&self) -> std::io::Result<Vec<Comm>> {
        let dir = self.configfs_dlm().join("cluster/comms");
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut comms = Vec::new();
        for entry in entries {
            let entry = entry?;
            if !entry.file_type()?.is_dir() {
                continue;
            }
            let path = entry.path();
            comms.push(Comm {
                nodeid: entry.file_name().to_string_lossy().into_owned(),
                local: read_small(&path.join("local")).is_some_and(|b| b.trim_ascii() == b"1"),
                addr_list_len: read_small(&path.join("addr_list")).map_or(0, |b| b.len()),
            });
        }
        comms.sort_by(|a, b| a.nodeid.cmp(&b.nodeid));
        Ok(comms)
    }

    /// dlm_controld has configured the kernel's comms: some node has a non-empty
    /// `addr_list` (the readiness test of ocf:pacemaker:controld).
    pub fn comms_ready(&self) -> std::io::Result<bool> {
        Ok(self.comms()?.iter().any(|c| c.addr_list_len > 0))
    }

    /// configfs is mounted at /sys/kernel/config (from `proc/self/mounts`).
    pub fn configfs_mounted(&self) -> std::io::Result<bool> {
        let mounts = std::fs::read_to_string(self.proc().join("self/mounts"))?;
        Ok(mounts_have_configfs(&mounts))
    }

    /// The kernel knows the configfs file system (`proc/filesystems`), built in or loaded.
    pub fn configfs_known(&self) -> bool {
        std::fs::read_to_string(self.proc().join("filesystems")).is_ok_and(|t| {
            t.lines()
                .any(|l| l.split_whitespace().last() == Some("configfs"))
        })
    }
}

/// A `/proc/self/mounts` text has configfs at /sys/kernel/config.
pub fn mounts_have_configfs(mounts: &str) -> bool {
    mounts.lines().any(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        f.len() >= 3 && f[1] == CONFIGFS_MOUNTPOINT && f[2] == "configfs"
    })
}

fn read_small(path: &Path) -> Option<Vec<u8>> {
    std::fs::read(path).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn tree(tag: &str) -> PathBuf {
        let root = std::env::temp_dir().join(format!("dlm-kernel-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(&root).unwrap();
        root
    }

    #[test]
    fn lockspaces_are_the_directories_of_sysfs_dlm() {
        let root = tree("ls");
        let k = Kernel::at(&root);
        assert!(k.lockspaces().unwrap().is_empty(), "no dlm module: none");
        fs::create_dir_all(root.join("sys/kernel/dlm/web")).unwrap();
        fs::create_dir_all(root.join("sys/kernel/dlm/clvmd")).unwrap();
        fs::write(root.join("sys/kernel/dlm/not-a-lockspace"), "x").unwrap();
        assert_eq!(k.lockspaces().unwrap(), ["clvmd", "web"]);
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn comms_ready_needs_a_non_empty_addr_list() {
        let root = tree("comms");
        let k = Kernel::at(&root);
        assert!(!k.comms_ready().unwrap(), "no configfs dlm yet");
        let node1 = root.join("sys/kernel/config/dlm/cluster/comms/1");
        fs::create_dir_all(&node1).unwrap();
        fs::write(node1.join("addr_list"), b"").unwrap();
        fs::write(node1.join("local"), b"1\n").unwrap();
        assert!(!k.comms_ready().unwrap(), "entry made, addresses not yet");
        fs::write(node1.join("addr_list"), [2u8, 0, 0, 0, 10, 0, 0, 1]).unwrap();
        assert!(k.comms_ready().unwrap());
        let comms = k.comms().unwrap();
        assert_eq!(comms.len(), 1);
        assert!(comms[0].local);
        assert_eq!(comms[0].nodeid, "1");
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn configfs_mount_is_read_from_proc_mounts() {
        let root = tree("mounts");
        fs::create_dir_all(root.join("proc/self")).unwrap();
        let k = Kernel::at(&root);
        fs::write(
            root.join("proc/self/mounts"),
            "sysfs /sys sysfs rw 0 0\nnone /sys/kernel/configx configfs rw 0 0\n",
        )
        .unwrap();
        assert!(!k.configfs_mounted().unwrap());
        fs::write(
            root.join("proc/self/mounts"),
            "sysfs /sys sysfs rw 0 0\nconfigfs /sys/kernel/config configfs rw,relatime 0 0\n",
        )
        .unwrap();
        assert!(k.configfs_mounted().unwrap());
        assert!(!k.configfs_known());
        fs::write(
            root.join("proc/filesystems"),
            "nodev\tsysfs\nnodev\tconfigfs\n",
        )
        .unwrap();
        assert!(k.configfs_known());
        fs::remove_dir_all(&root).unwrap();
    }
}
