//! Which processes hold a mount: the `fuser -m` question answered by walking `/proc`
//! without ever touching the mounted filesystem, so that it cannot hang on a dead one.
//!
//! * open files: `/proc/<pid>/fdinfo/<fd>` names the mount ID (`mnt_id:`) of each descriptor;
//! * cwd, root, exe: readlink() of `/proc/<pid>/{cwd,root,exe}`, matched by path against the
//!   mount table (the longest mount point that prefixes the path);
//! * memory maps: `/proc/<pid>/maps` gives each mapping's device number and path.
//!
//! Nothing here calls stat() on a path under the mount. Reading `maps` takes the target's
//! mmap lock (killably); callers that must not wait run the scan on a worker thread
//! ([`crate::bounded`]).

use crate::mountinfo::{Mount, MountTable};
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

/// How a process holds the mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Use {
    Cwd,
    Root,
    Exe,
    OpenFile,
    Mmap,
}

/// A process that uses the mount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub pid: i32,
    /// `/proc/<pid>/comm`, for the log.
    pub comm: String,
    pub uses: Vec<Use>,
}

/// `PF_KTHREAD` in the flags field of `/proc/<pid>/stat`.
const PF_KTHREAD: u64 = 0x0020_0000;

/// The processes (other than this one, pid 1 and kernel threads) that use `target`, a mount
/// of `table`. Processes that vanish during the walk are skipped.
pub fn find(target: &Mount, table: &MountTable) -> Vec<Holder> {
    find_in(Path::new("/proc"), target, table)
}

fn find_in(proc_root: &Path, target: &Mount, table: &MountTable) -> Vec<Holder> {
    let me = std::process::id();
    let my_ns = std::fs::read_link(proc_root.join("self/ns/mnt")).ok();
    let Ok(entries) = std::fs::read_dir(proc_root) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in entries.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        if pid <= 1 || u32::try_from(pid).is_ok_and(|p| p == me) {
            continue;
        }
        let dir = e.path();
        let same_ns = my_ns.is_some() && std::fs::read_link(dir.join("ns/mnt")).ok() == my_ns;
        let uses = uses_of(&dir, target, table, same_ns);
        if uses.is_empty() || is_kernel_thread(&dir) {
            continue;
        }
        let comm = std::fs::read_to_string(dir.join("comm"))
            .map(|s| s.trim_end().to_owned())
            .unwrap_or_default();
        out.push(Holder { pid, comm, uses });
    }
    out.sort_by_key(|h| h.pid);
    out
}

/// True when the pid still holds the mount (checked right before signalling it).
pub fn still_holds(pid: i32, target: &Mount, table: &MountTable) -> bool {
    let dir = Path::new("/proc").join(pid.to_string());
    let my_ns = std::fs::read_link("/proc/self/ns/mnt").ok();
    let same_ns = my_ns.is_some() && std::fs::read_link(dir.join("ns/mnt")).ok() == my_ns;
    !uses_of(&dir, target, table, same_ns).is_empty()
}

fn uses_of(dir: &Path, target: &Mount, table: &MountTable, same_ns: bool) -> Vec<Use> {
    let mut uses = Vec::new();
    // Paths are only meaningful in our own mount namespace; mount IDs are global.
    if same_ns {
        for (name, what) in [("cwd", Use::Cwd), ("root", Use::Root), ("exe", Use::Exe)] {
            if std::fs::read_link(dir.join(name)).is_ok_and(|p| on_mount(&p, target, table)) {
                uses.push(what);
            }
        }
    }
    if holds_open_file(dir, target) {
        uses.push(Use::OpenFile);
    }
    if same_ns && maps_mount(dir, target, table) {
        uses.push(Use::Mmap);
    }
    uses
}

/// True when `path` (from readlink, maybe with " (deleted)") lies on `target`.
fn on_mount(path: &Path, target: &Mount, table: &MountTable) -> bool {
    let path = strip_deleted(path);
    table.owning(&path).is_some_and(|m| m.id == target.id)
}

fn strip_deleted(path: &Path) -> PathBuf {
    let b = path.as_os_str().as_bytes();
    let b = b.strip_suffix(b" (deleted)").unwrap_or(b);
    PathBuf::from(OsString::from_vec(b.to_vec()))
}

fn holds_open_file(dir: &Path, target: &Mount) -> bool {
    let Ok(fds) = std::fs::read_dir(dir.join("fdinfo")) else {
        return false;
    };
    let want = format!("mnt_id:\t{}", target.id);
    fds.flatten().any(|fd| {
        std::fs::read_to_string(fd.path())
            .is_ok_and(|info| info.lines().any(|l| l.trim_end() == want))
    })
}

fn maps_mount(dir: &Path, target: &Mount, table: &MountTable) -> bool {
    let Ok(maps) = std::fs::read(dir.join("maps")) else {
        return false;
    };
    maps.split(|&b| b == b'\n').any(|line| {
        map_line_device(line).is_some_and(|(maj, min, path)| {
            maj == target.major && min == target.minor && on_mount(&path, target, table)
        })
    })
}

/// `major:minor` (hex) and path of one maps line, for file mappings.
fn map_line_device(line: &[u8]) -> Option<(u32, u32, PathBuf)> {
    // addr perms offset dev inode [path]; the path may contain spaces.
    let mut fields = line.splitn(6, |&b| b == b' ');
    let dev = fields.nth(3)?;
    let inode = fields.next()?;
    if inode == b"0" {
        return None;
    }
    let path = fields.next()?.trim_ascii_start();
    if !path.starts_with(b"/") {
        return None;
    }
    let dev = std::str::from_utf8(dev).ok()?;
    let (maj, min) = dev.split_once(':')?;
    Some((
        u32::from_str_radix(maj, 16).ok()?,
        u32::from_str_radix(min, 16).ok()?,
        PathBuf::from(OsString::from_vec(path.to_vec())),
    ))
}

fn is_kernel_thread(dir: &Path) -> bool {
    let Ok(stat) = std::fs::read_to_string(dir.join("stat")) else {
        return true; // gone: nothing to signal
    };
    // Fields after the last ')': state ppid pgrp session tty tpgid flags ...
    stat.rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().nth(6)?.parse::<u64>().ok())
        .is_some_and(|flags| flags & PF_KTHREAD != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_lines() {
        let l = b"7f00-7f01 r--s 00000000 07:00 12 /srv/web dir/data.bin";
        assert_eq!(
            map_line_device(l),
            Some((7, 0, PathBuf::from("/srv/web dir/data.bin")))
        );
        let l = b"7f00-7f01 r-xp 00000000 fd:01 99                         /usr/lib/libc.so.6";
        assert_eq!(map_line_device(l).unwrap().0, 0xfd);
        assert_eq!(
            map_line_device(b"7f00-7f01 rw-p 00000000 00:00 0 [heap]"),
            None
        );
        assert_eq!(map_line_device(b"7f00-7f01 rw-p 00000000 00:00 0"), None);
        assert_eq!(map_line_device(b""), None);
    }

    #[test]
    fn deleted_suffix() {
        assert_eq!(
            strip_deleted(Path::new("/m/f (deleted)")),
            Path::new("/m/f")
        );
        assert_eq!(strip_deleted(Path::new("/m/f")), Path::new("/m/f"));
    }

    #[test]
    fn our_own_cwd_is_never_a_holder() {
        // This process uses "/" through cwd and root, yet it is excluded, as is pid 1.
        let table = MountTable::read().unwrap();
        let root = table.owning(Path::new("/")).unwrap().clone();
        let holders = find(&root, &table);
        let me = i32::try_from(std::process::id()).unwrap();
        assert!(holders.iter().all(|h| h.pid != me && h.pid != 1));
    }

    #[test]
    fn finds_a_child_in_a_directory() {
        // A child whose cwd is in /proc/sys is found by cwd; this needs no privileges and
        // no mount of our own.
        let table = MountTable::read().unwrap();
        let proc_mount = table.owning(Path::new("/proc/sys")).unwrap().clone();
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .current_dir("/proc/sys")
            .spawn()
            .unwrap();
        let pid = i32::try_from(child.id()).unwrap();
        let found = find(&proc_mount, &table);
        let _ = child.kill();
        let _ = child.wait();
        let h = found.iter().find(|h| h.pid == pid).expect("child found");
        assert!(h.uses.contains(&Use::Cwd), "{h:?}");
        assert_eq!(h.comm, "sleep");
    }
}
