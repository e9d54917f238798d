//! Which processes hold a mount or a device: the `fuser -m` question, and the one it misses
//! (which other mount namespaces still have the filesystem mounted), answered by walking
//! `/proc` through crate procs' one reader ([`procs::ProcFs`]) without ever touching the
//! mounted filesystem, so that it cannot hang on a dead one.
//!
//! * open files: `/proc/<pid>/fdinfo/<fd>` names the mount ID (`mnt_id:`) of each
//!   descriptor; mount IDs are unique across namespaces;
//! * cwd, root, exe: readlink() of `/proc/<pid>/{cwd,root,exe}`, matched by path against the
//!   mount table of the process's own mount namespace (the longest mount point that
//!   prefixes the path);
//! * memory maps: `/proc/<pid>/maps` gives each mapping's device number;
//! * mounts in other namespaces: `/proc/<pid>/mountinfo`, read once per mount namespace
//!   (`/proc/<pid>/ns/mnt`).
//!
//! Every process found is [`procs::Captured`] (pid, start time, uids, executable), so that a
//! signal sent later reaches that process or nothing. Nothing here calls stat() on a path
//! under the mount. Reading `maps` takes the target's mmap lock (killably); callers that
//! must not wait run the scan on a worker thread ([`crate::bounded`]).

use crate::mountinfo::{Mount, MountTable};
use procs::{Captured, ProcFs};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// How a process holds the mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Use {
    Cwd,
    Root,
    Exe,
    OpenFile,
    Mmap,
}

/// A process that uses the mount or device, captured when it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub process: Captured,
    pub uses: Vec<Use>,
}

impl Holder {
    pub fn pid(&self) -> i32 {
        self.process.pid()
    }

    /// The command name, for the log.
    pub fn comm(&self) -> &str {
        &self.process.comm
    }
}

/// A device number (`st_dev`, `major:minor`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Device {
    pub major: u32,
    pub minor: u32,
}

impl Device {
    /// The device of the filesystem a mount shows.
    pub fn of(mount: &Mount) -> Device {
        Device {
            major: mount.major,
            minor: mount.minor,
        }
    }

    fn is(self, mount: &Mount) -> bool {
        Device::of(mount) == self
    }
}

impl std::fmt::Display for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.major, self.minor)
    }
}

/// A mount namespace other than the scanning process's that has the device mounted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespace {
    /// The namespace's inode (`/proc/<pid>/ns/mnt` reads `mnt:[<inode>]`).
    pub inode: u64,
    /// The device's mounts there, as that namespace's mountinfo shows them (paths relative
    /// to the root of the process it was read from), deepest first.
    pub mounts: Vec<Mount>,
    /// The mounts of other filesystems stacked below one of those (a tmpfs on a directory
    /// of the device), deepest first: they keep the device's mount busy there until they
    /// go first.
    pub below: Vec<Mount>,
    /// Every process (kernel threads aside) in that namespace.
    pub processes: Vec<Captured>,
}

impl Namespace {
    /// The namespace `inode` as `table` (its mountinfo) shows it, with no process yet;
    /// None when the device is not mounted there.
    fn of(inode: u64, table: &MountTable, device: Device) -> Option<Namespace> {
        let mut mounts: Vec<Mount> = table
            .mounts
            .iter()
            .filter(|m| device.is(m))
            .cloned()
            .collect();
        if mounts.is_empty() {
            return None;
        }
        let mut below: Vec<Mount> = table
            .mounts
            .iter()
            .filter(|m| {
                !device.is(m)
                    && mounts.iter().any(|d| {
                        m.mount_point != d.mount_point && m.mount_point.starts_with(&d.mount_point)
                    })
            })
            .cloned()
            .collect();
        let deepest_first = |m: &Mount| std::cmp::Reverse(m.mount_point.components().count());
        mounts.sort_by_key(deepest_first);
        below.sort_by_key(deepest_first);
        Some(Namespace {
            inode,
            mounts,
            below,
            processes: Vec::new(),
        })
    }

    /// Every mount to take away there for the device to be unmounted, in order: what is
    /// stacked below its mounts, then its mounts, each deepest first.
    pub fn unmount_order(&self) -> impl Iterator<Item = &Mount> {
        self.below.iter().chain(&self.mounts)
    }
}

/// Who uses a device, in every mount namespace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceUsers {
    /// The other mount namespaces that have it mounted, each with its processes: a
    /// filesystem stays mounted (and the device busy) while one of them lives.
    pub other_namespaces: Vec<Namespace>,
    /// The processes (in any namespace) that hold a file on it open, as cwd or root, or
    /// mapped.
    pub holders: Vec<Holder>,
}

/// The processes (other than this one, pid 1 and kernel threads) that use `target`, a mount
/// of `table` (this process's mount table). Processes that vanish during the walk are
/// skipped; a /proc that cannot be listed is an error, never "nobody".
pub fn find(target: &Mount, table: &MountTable) -> Result<Vec<Holder>, procs::Error> {
    find_in(&ProcFs::system(), target, table)
}

/// [`find`] over `procfs`.
pub fn find_in(
    procfs: &ProcFs,
    target: &Mount,
    table: &MountTable,
) -> Result<Vec<Holder>, procs::Error> {
    let scan = Scan::new(procfs);
    let mut out = Vec::new();
    for pid in scan.candidates()? {
        let same_ns = scan.in_our_namespace(pid);
        let mut uses = Vec::new();
        // Paths are only meaningful in our own mount namespace; mount IDs are global.
        if same_ns {
            uses.extend(path_uses(procfs, pid, table, Path::new("/"), |m| {
                m.id == target.id
            }));
        }
        if fd_mount_ids(procfs, pid).any(|id| id == u64::from(target.id)) {
            uses.push(Use::OpenFile);
        }
        if same_ns
            && maps(procfs, pid)
                .any(|(dev, path)| Device::of(target) == dev && owned_by(table, &path, target.id))
        {
            uses.push(Use::Mmap);
        }
        if let Some(h) = holder(procfs, pid, uses) {
            out.push(h);
        }
    }
    Ok(out)
}

/// Everything that keeps `device` in use, in every mount namespace: the other namespaces
/// that have it mounted (deduplicated by namespace inode, each namespace's mountinfo read
/// once) with their processes, and the processes that hold a file on it (fd, cwd, root,
/// exe, mapping) whichever namespace they are in. This process, pid 1 and kernel threads are
/// never holders. A /proc that cannot be listed is an error, never "nobody".
pub fn device_users(procfs: &ProcFs, device: Device) -> Result<DeviceUsers, procs::Error> {
    let mut scan = Scan::new(procfs);
    let mut found = DeviceUsers::default();
    let mut namespaces: BTreeMap<u64, Namespace> = BTreeMap::new();
    for pid in scan.candidates()? {
        let ns = procfs.mount_namespace(pid);
        // The process's root: its mountinfo is relative to it, and so, once it is taken off,
        // is the path readlink gives of its cwd (from our root where reachable, from its
        // namespace's root otherwise).
        let root = procfs
            .link(pid, "root")
            .unwrap_or_else(|| PathBuf::from("/"));
        let table = scan.table_of(pid, ns, &root);
        if ns != scan.ours {
            note_namespace(&mut namespaces, procfs, pid, ns, table.as_deref(), device);
        }
        let mut uses = Vec::new();
        if let Some(table) = &table {
            uses.extend(path_uses(procfs, pid, table, &root, |m| device.is(m)));
            if fd_mount_ids(procfs, pid).any(|id| {
                u32::try_from(id)
                    .ok()
                    .and_then(|id| table.by_id(id))
                    .is_some_and(|m| device.is(m))
            }) {
                uses.push(Use::OpenFile);
            }
        }
        if maps(procfs, pid).any(|(dev, _)| dev == device) {
            uses.push(Use::Mmap);
        }
        if let Some(h) = holder(procfs, pid, uses) {
            found.holders.push(h);
        }
    }
    found.other_namespaces = namespaces.into_values().collect();
    Ok(found)
}

/// The other mount namespaces that have `device` mounted, each with its processes: what
/// [`device_users`] finds of them, without looking at any process's files (one readlink
/// of `ns/mnt` per process, one mountinfo per other namespace), cheap enough for a probe.
/// A /proc that cannot be listed is an error, never "nowhere".
pub fn namespaces_with(procfs: &ProcFs, device: Device) -> Result<Vec<Namespace>, procs::Error> {
    let mut scan = Scan::new(procfs);
    let mut namespaces: BTreeMap<u64, Namespace> = BTreeMap::new();
    for pid in scan.candidates()? {
        let ns = procfs.mount_namespace(pid);
        if ns.is_none() || ns == scan.ours {
            continue;
        }
        let root = procfs
            .link(pid, "root")
            .unwrap_or_else(|| PathBuf::from("/"));
        let table = scan.table_of(pid, ns, &root);
        note_namespace(&mut namespaces, procfs, pid, ns, table.as_deref(), device);
    }
    Ok(namespaces.into_values().collect())
}

/// Count `pid` (in namespace `ns`, whose table it sees is `table`) among the processes of
/// that namespace when the device is mounted there.
fn note_namespace(
    namespaces: &mut BTreeMap<u64, Namespace>,
    procfs: &ProcFs,
    pid: i32,
    ns: Option<u64>,
    table: Option<&MountTable>,
    device: Device,
) {
    let (Some(ns), Some(table)) = (ns, table) else {
        return;
    };
    let entry = match namespaces.entry(ns) {
        std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
        std::collections::btree_map::Entry::Vacant(e) => match Namespace::of(ns, table, device) {
            Some(found) => e.insert(found),
            None => return,
        },
    };
    if let Some(c) = capture(procfs, pid) {
        entry.processes.push(c);
    }
}

/// What one walk of /proc knows: this process, its namespace, and each namespace's table.
struct Scan<'a> {
    procfs: &'a ProcFs,
    me: Option<i32>,
    ours: Option<u64>,
    tables: BTreeMap<u64, Rc<MountTable>>,
}

impl<'a> Scan<'a> {
    fn new(procfs: &'a ProcFs) -> Scan<'a> {
        let me = procfs
            .is_system()
            .then(|| i32::try_from(std::process::id()).ok())
            .flatten();
        // Our namespace: the real one for the system's /proc, `self` in a fake tree.
        let ours = match me {
            Some(pid) => procfs.mount_namespace(pid),
            None => std::fs::read_link(procfs.root().join("self/ns/mnt"))
                .ok()
                .and_then(|l| {
                    l.to_str()?
                        .strip_prefix("mnt:[")?
                        .strip_suffix(']')?
                        .parse()
                        .ok()
                }),
        };
        Scan {
            procfs,
            me,
            ours,
            tables: BTreeMap::new(),
        }
    }

    /// The pids worth looking at: all but this process and init.
    fn candidates(&self) -> Result<Vec<i32>, procs::Error> {
        Ok(self
            .procfs
            .pids()?
            .into_iter()
            .filter(|&pid| pid > 1 && Some(pid) != self.me)
            .collect())
    }

    fn in_our_namespace(&self, pid: i32) -> bool {
        self.ours.is_some() && self.procfs.mount_namespace(pid) == self.ours
    }

    /// The mount table `pid` sees. Read once per namespace from a process whose root is
    /// the namespace's (`/`); a process with a root of its own (chroot) has its own view.
    fn table_of(&mut self, pid: i32, ns: Option<u64>, root: &Path) -> Option<Rc<MountTable>> {
        let read = || {
            let text = self.procfs.read(pid, "mountinfo").ok()?;
            MountTable::parse(&String::from_utf8_lossy(&text))
                .ok()
                .map(Rc::new)
        };
        let Some(ns) = ns.filter(|_| root == Path::new("/")) else {
            return read();
        };
        if let Some(t) = self.tables.get(&ns) {
            return Some(Rc::clone(t));
        }
        let table = read()?;
        self.tables.insert(ns, Rc::clone(&table));
        Some(table)
    }
}

/// The process, captured, as a holder when it has uses and is not a kernel thread.
fn holder(procfs: &ProcFs, pid: i32, uses: Vec<Use>) -> Option<Holder> {
    if uses.is_empty() {
        return None;
    }
    Some(Holder {
        process: capture(procfs, pid)?,
        uses,
    })
}

/// The process captured, unless it is gone, a zombie or a kernel thread.
fn capture(procfs: &ProcFs, pid: i32) -> Option<Captured> {
    let p = procfs.process(pid).ok().flatten()?;
    if p.is_kernel_thread() {
        return None;
    }
    procfs.capture(pid).ok().flatten()
}

/// cwd, root and exe of `pid` whose path (taken relative to `base`, the process's root as
/// its table sees it) lies on a mount of `table` that `wanted` accepts.
fn path_uses(
    procfs: &ProcFs,
    pid: i32,
    table: &MountTable,
    base: &Path,
    wanted: impl Fn(&Mount) -> bool,
) -> Vec<Use> {
    let mut uses = Vec::new();
    for (name, what) in [("cwd", Use::Cwd), ("root", Use::Root), ("exe", Use::Exe)] {
        let Some(link) = procfs.link(pid, name) else {
            continue;
        };
        let path = strip_deleted(&link);
        let relative = match path.strip_prefix(base) {
            Ok(rest) => Path::new("/").join(rest),
            Err(_) => path,
        };
        if table.owning(&relative).is_some_and(&wanted) {
            uses.push(what);
        }
    }
    uses
}

/// True when `path` lies on the mount with ID `id` of `table`.
fn owned_by(table: &MountTable, path: &Path, id: u32) -> bool {
    table
        .owning(&strip_deleted(path))
        .is_some_and(|m| m.id == id)
}

fn strip_deleted(path: &Path) -> PathBuf {
    let b = path.as_os_str().as_bytes();
    let b = b.strip_suffix(b" (deleted)").unwrap_or(b);
    PathBuf::from(OsString::from_vec(b.to_vec()))
}

/// The mount IDs of the process's open files.
fn fd_mount_ids(procfs: &ProcFs, pid: i32) -> impl Iterator<Item = u64> {
    procfs.fd_mounts(pid).into_iter().map(|(_, id)| id)
}

/// The device and path of each file mapping of the process.
fn maps(procfs: &ProcFs, pid: i32) -> impl Iterator<Item = (Device, PathBuf)> {
    let text = procfs.read(pid, "maps").unwrap_or_default();
    text.split(|&b| b == b'\n')
        .filter_map(map_line_device)
        .collect::<Vec<_>>()
        .into_iter()
}

/// `major:minor` (hex) and path of one maps line, for file mappings.
fn map_line_device(line: &[u8]) -> Option<(Device, PathBuf)> {
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
        Device {
            major: u32::from_str_radix(maj, 16).ok()?,
            minor: u32::from_str_radix(min, 16).ok()?,
        },
        PathBuf::from(OsString::from_vec(path.to_vec())),
    ))
}

#[cfg(test)]
mod tests;
