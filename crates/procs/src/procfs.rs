//! The one reader of `/proc` (proc(5)) in this project. Every walk of the process table and
//! every per-process file goes through a [`ProcFs`], whose root is `/proc` on a system and a
//! directory of plain files in tests (a fake tree: `<root>/<pid>/stat`, `comm`, `status`, an
//! `exe` symlink, `ns/mnt`, `mountinfo`, `maps`, `fdinfo/<fd>`).
//!
//! Nothing here touches a file *through* a process's links (cwd, root, fds): only the texts
//! the kernel formats and readlink(2), so that a walk cannot block on a dead filesystem.

use crate::process::{Process, parse_stat};
use crate::{Error, Identity};
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::io::Read;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};

/// The kernel keeps 15 bytes of a command name (TASK_COMM_LEN - 1).
pub const COMM_LEN: usize = 15;

/// A `/proc` tree: the real one ([`ProcFs::system`]) or a fake one for tests ([`ProcFs::at`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcFs {
    root: PathBuf,
}

impl Default for ProcFs {
    fn default() -> ProcFs {
        ProcFs::system()
    }
}

/// The real and effective user ids of a process (`Uid:` in `/proc/<pid>/status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Uids {
    pub real: u32,
    pub effective: u32,
}

impl ProcFs {
    /// The system's `/proc`.
    pub fn system() -> ProcFs {
        ProcFs {
            root: PathBuf::from("/proc"),
        }
    }

    /// A tree rooted at `root` (tests).
    pub fn at(root: impl Into<PathBuf>) -> ProcFs {
        ProcFs { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// True for the system's `/proc`: signals and pidfds make sense only there.
    pub fn is_system(&self) -> bool {
        self.root == Path::new("/proc")
    }

    /// `<root>/<pid>/<name>`.
    pub fn path(&self, pid: i32, name: &str) -> PathBuf {
        let mut p = self.root.join(pid.to_string());
        if !name.is_empty() {
            p.push(name);
        }
        p
    }

    /// The pids listed now, ascending (entries that are not numbers are skipped). Only
    /// processes (thread group leaders) are listed in /proc, never their other threads.
    pub fn pids(&self) -> Result<Vec<i32>, Error> {
        let entries = std::fs::read_dir(&self.root).map_err(|source| Error::Proc {
            path: self.root.clone(),
            source,
        })?;
        let mut pids: Vec<i32> = entries
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
            .filter(|&pid| pid > 0)
            .collect();
        pids.sort_unstable();
        Ok(pids)
    }

    /// The process with this pid (`/proc/<pid>/stat`), or `Ok(None)` when there is none.
    pub fn process(&self, pid: i32) -> Result<Option<Process>, Error> {
        let path = self.path(pid, "stat");
        match read_small(&path) {
            Ok(text) => parse_stat(pid, &text)
                .map(Some)
                .ok_or(Error::ProcFormat { path }),
            Err(e) if gone(&e) => Ok(None),
            Err(source) => Err(Error::Proc { path, source }),
        }
    }

    /// The identity of the process `pid` now, if it runs (not a zombie).
    pub fn identity(&self, pid: i32) -> Option<Identity> {
        self.process(pid)
            .ok()
            .flatten()
            .filter(Process::is_running)
            .map(|p| p.identity())
    }

    /// Every process now (processes that vanish during the walk are skipped).
    pub fn all(&self) -> Result<Vec<Process>, Error> {
        Ok(self
            .pids()?
            .into_iter()
            .filter_map(|pid| self.process(pid).ok().flatten())
            .collect())
    }

    /// The pids of the processes whose command name (`comm`) is `comm` cut to the kernel's
    /// 15 bytes. Only `comm` is read for each process: the kernel formats `stat` at a far
    /// higher cost, so a caller reads `stat` only for the few that match.
    pub fn pids_named(&self, comm: &str) -> Result<Vec<i32>, Error> {
        let wanted = cut_comm(comm);
        Ok(self
            .pids()?
            .into_iter()
            .filter(|&pid| {
                read_small(&self.path(pid, "comm"))
                    .is_ok_and(|name| name.strip_suffix('\n').unwrap_or(&name).as_bytes() == wanted)
            })
            .collect())
    }

    /// The processes whose command name is `comm` (as [`ProcFs::pids_named`]).
    pub fn named(&self, comm: &str) -> Result<Vec<Process>, Error> {
        let wanted = cut_comm(comm);
        Ok(self
            .pids_named(comm)?
            .into_iter()
            .filter_map(|pid| self.process(pid).ok().flatten())
            .filter(|p| p.comm.as_bytes() == wanted)
            .collect())
    }

    /// The argument vector (`/proc/<pid>/cmdline`); empty for kernel threads, zombies and
    /// processes that are gone.
    pub fn cmdline(&self, pid: i32) -> Vec<OsString> {
        let Ok(raw) = read_bytes(&self.path(pid, "cmdline")) else {
            return Vec::new();
        };
        raw.split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| OsString::from_vec(a.to_vec()))
            .collect()
    }

    /// The executable (readlink of `/proc/<pid>/exe`): None for kernel threads, processes
    /// that are gone, and another user's process without privileges. A binary replaced on
    /// disk since the process started reads with " (deleted)" appended.
    pub fn exe(&self, pid: i32) -> Option<PathBuf> {
        std::fs::read_link(self.path(pid, "exe")).ok()
    }

    /// The state of each thread of process `pid` (the state field of
    /// `/proc/<pid>/task/<tid>/stat`: `R`, `S`, `D`, `T`, ...). The process's own stat shows
    /// its first thread only, and a multi-threaded server's work is done by the others.
    /// Empty when the process is gone.
    pub fn thread_states(&self, pid: i32) -> Vec<char> {
        let Ok(entries) = std::fs::read_dir(self.path(pid, "task")) else {
            return Vec::new();
        };
        entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let tid: i32 = e.file_name().to_str()?.parse().ok()?;
                let text = read_small(&e.path().join("stat")).ok()?;
                Some(parse_stat(tid, &text)?.state)
            })
            .collect()
    }

    /// The real and effective uids (`Uid:` of `/proc/<pid>/status`).
    pub fn uids(&self, pid: i32) -> Option<Uids> {
        let status = read_bytes(&self.path(pid, "status")).ok()?;
        parse_uids(&String::from_utf8_lossy(&status))
    }

    /// The inode of the process's mount namespace (readlink of `/proc/<pid>/ns/mnt`, which
    /// reads `mnt:[4026531841]`): two processes share a mount table when these are equal.
    pub fn mount_namespace(&self, pid: i32) -> Option<u64> {
        let link = std::fs::read_link(self.path(pid, "ns/mnt")).ok()?;
        parse_ns_link(link.to_str()?, "mnt")
    }

    /// The raw content of `/proc/<pid>/<name>` (`mountinfo`, `maps`, `fdinfo/3`, ...), read
    /// to its end: a seq_file of many records (maps, mountinfo) returns short reads at record
    /// boundaries long before its end.
    pub fn read(&self, pid: i32, name: &str) -> std::io::Result<Vec<u8>> {
        std::fs::read(self.path(pid, name))
    }

    /// readlink of `/proc/<pid>/<name>` (`cwd`, `root`, `fd/3`, ...): the path the kernel
    /// prints, never followed.
    pub fn link(&self, pid: i32, name: &str) -> Option<PathBuf> {
        std::fs::read_link(self.path(pid, name)).ok()
    }

    /// The mount IDs of the process's open files (`mnt_id:` of each `/proc/<pid>/fdinfo/<fd>`),
    /// as (fd, mount ID). Empty when the process is gone or its fds cannot be read.
    pub fn fd_mounts(&self, pid: i32) -> Vec<(u32, u64)> {
        let Ok(entries) = std::fs::read_dir(self.path(pid, "fdinfo")) else {
            return Vec::new();
        };
        let mut out: Vec<(u32, u64)> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let fd: u32 = e.file_name().to_str()?.parse().ok()?;
                let info = read_bytes(&e.path()).ok()?;
                Some((fd, parse_fdinfo_mnt_id(&String::from_utf8_lossy(&info))?))
            })
            .collect();
        out.sort_unstable();
        out
    }

    /// The running children of `pid`.
    pub fn children(&self, pid: i32) -> Result<Vec<Process>, Error> {
        Ok(self
            .all()?
            .into_iter()
            .filter(|p| p.ppid == pid && p.is_running())
            .collect())
    }

    /// The running descendants of `pid` (children, their children, ...), from one walk,
    /// parents before their children.
    pub fn descendants(&self, pid: i32) -> Result<Vec<Process>, Error> {
        let mut by_parent: BTreeMap<i32, Vec<Process>> = BTreeMap::new();
        for p in self.all()?.into_iter().filter(Process::is_running) {
            by_parent.entry(p.ppid).or_default().push(p);
        }
        let mut out = Vec::new();
        let mut seen = BTreeSet::from([pid]);
        let mut queue = vec![pid];
        while let Some(parent) = queue.pop() {
            for child in by_parent.remove(&parent).unwrap_or_default() {
                if seen.insert(child.pid) {
                    queue.push(child.pid);
                    out.push(child);
                }
            }
        }
        Ok(out)
    }
}

/// The first 15 bytes of `comm`, as the kernel keeps a command name.
fn cut_comm(comm: &str) -> &[u8] {
    &comm.as_bytes()[..comm.len().min(COMM_LEN)]
}

/// True for the errors a file of a process that has exited gives.
fn gone(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::NotFound | std::io::ErrorKind::InvalidInput
    ) || e.raw_os_error() == Some(libc::ESRCH)
}

/// `Uid:\t<real>\t<effective>\t<saved>\t<fs>` of a status text.
fn parse_uids(status: &str) -> Option<Uids> {
    let line = status.lines().find_map(|l| l.strip_prefix("Uid:"))?;
    let mut ids = line.split_whitespace().map(str::parse::<u32>);
    Some(Uids {
        real: ids.next()?.ok()?,
        effective: ids.next()?.ok()?,
    })
}

/// The inode of a namespace link text `<kind>:[<inode>]`.
fn parse_ns_link(text: &str, kind: &str) -> Option<u64> {
    text.strip_prefix(kind)?
        .strip_prefix(":[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// `mnt_id:\t<id>` of an fdinfo text.
fn parse_fdinfo_mnt_id(info: &str) -> Option<u64> {
    info.lines()
        .find_map(|l| l.strip_prefix("mnt_id:"))?
        .trim()
        .parse()
        .ok()
}

/// A /proc file read with one read(2) into a 1 KiB buffer: `read_to_string` would probe the
/// size and read in small steps, which adds up when walking every process. The files read
/// this way (`stat`, `comm`) are single-record seq_files: the kernel formats the whole
/// record and copies as much as fits, so a read shorter than the buffer returned all of it
/// and the second read(2) that would only report end of file is skipped.
pub(crate) fn read_small(path: &Path) -> std::io::Result<String> {
    read_bytes(path).map(|buf| String::from_utf8_lossy(&buf).into_owned())
}

/// [`read_small`] without the text conversion. Also for `status` and `fdinfo/<fd>` (single
/// records, continued by the next read when longer than the buffer) and `cmdline` (not a
/// seq_file, but a read returns all that is left when the buffer is large enough). Never
/// for files of many records (`maps`, `mountinfo`): see [`ProcFs::read`].
pub(crate) fn read_bytes(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut file = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 1024];
    let mut len = 0;
    loop {
        if len == buf.len() {
            buf.resize(len * 2, 0);
        }
        match file.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => {
                len += n;
                if len < buf.len() {
                    break;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(len);
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status_ns_links_and_fdinfo() {
        let status = "Name:\tx\nUmask:\t0022\nUid:\t1000\t0\t0\t0\nGid:\t1\t1\t1\t1\n";
        assert_eq!(
            parse_uids(status),
            Some(Uids {
                real: 1000,
                effective: 0
            })
        );
        assert_eq!(parse_uids("Uid:\tx\t0\n"), None);
        assert_eq!(parse_uids(""), None);
        assert_eq!(
            parse_ns_link("mnt:[4026531841]", "mnt"),
            Some(4_026_531_841)
        );
        assert_eq!(parse_ns_link("net:[4026531841]", "mnt"), None);
        assert_eq!(parse_ns_link("mnt:[x]", "mnt"), None);
        let info = "pos:\t0\nflags:\t02100002\nmnt_id:\t42\nino:\t7\n";
        assert_eq!(parse_fdinfo_mnt_id(info), Some(42));
        assert_eq!(parse_fdinfo_mnt_id("pos:\t0\n"), None);
    }

    #[test]
    fn reads_a_fake_tree() {
        let root = crate::test_support::scratch("procfs-fake");
        let fake = ProcFs::at(&root);
        assert!(!fake.is_system() && ProcFs::system().is_system());
        std::fs::create_dir_all(root.join("self")).unwrap();
        crate::fake::FakeProcess::new(42, "dlm_controld")
            .uid(0)
            .start_time(777)
            .exe("/usr/sbin/dlm_controld")
            .mount_ns(4_026_532_000)
            .file("cmdline", b"dlm_controld\0-s\x000\0".to_vec())
            .file("fdinfo/3", "pos:\t0\nmnt_id:\t99\n")
            .file("fdinfo/x", "mnt_id:\t1\n")
            .file(
                "task/42/stat",
                "42 (dlm_controld) S 1 42 42 0 -1 0 0 0 0 0 0 0 0 0 20 0 2 0 777 0 0",
            )
            .file(
                "task/43/stat",
                "43 (worker) D 1 42 42 0 -1 0 0 0 0 0 0 0 0 0 20 0 2 0 778 0 0",
            )
            .write(&root)
            .unwrap();

        assert_eq!(fake.pids().unwrap(), [42], "self is not a pid");
        let p = fake.process(42).unwrap().unwrap();
        assert_eq!((p.comm.as_str(), p.start_time), ("dlm_controld", 777));
        assert_eq!(fake.process(43).unwrap(), None);
        assert_eq!(fake.pids_named("dlm_controld").unwrap(), [42]);
        assert_eq!(fake.named("dlm_controld").unwrap().len(), 1);
        assert_eq!(fake.cmdline(42), ["dlm_controld", "-s", "0"]);
        assert_eq!(
            fake.exe(42).as_deref(),
            Some(Path::new("/usr/sbin/dlm_controld"))
        );
        assert_eq!(
            fake.uids(42),
            Some(Uids {
                real: 0,
                effective: 0
            })
        );
        assert_eq!(fake.mount_namespace(42), Some(4_026_532_000));
        assert_eq!(fake.fd_mounts(42), [(3, 99)]);
        let mut states = fake.thread_states(42);
        states.sort_unstable();
        assert_eq!(states, ['D', 'S'], "each thread's own state");
        assert!(fake.thread_states(43).is_empty(), "a thread is no process");
        assert!(ProcFs::at(root.join("missing")).pids().is_err());
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn reads_the_real_proc() {
        let sys = ProcFs::system();
        let me = i32::try_from(std::process::id()).unwrap();
        assert!(sys.pids().unwrap().contains(&me));
        let uids = sys.uids(me).unwrap();
        assert_eq!(uids.effective, nix::unistd::geteuid().as_raw());
        assert_eq!(uids.real, nix::unistd::getuid().as_raw());
        assert!(sys.mount_namespace(me).is_some());
        let f = std::fs::File::open("/proc/self/status").unwrap();
        let fd = std::os::fd::AsRawFd::as_raw_fd(&f);
        let fds = sys.fd_mounts(me);
        assert!(
            fds.iter().any(|(n, _)| i32::try_from(*n).unwrap() == fd),
            "{fds:?}"
        );
        // maps is many records: read to its end (the stack is mapped after the libraries).
        let maps = String::from_utf8(sys.read(me, "maps").unwrap()).unwrap();
        assert!(maps.len() > 1024 && maps.contains("[stack]"), "{maps}");
        assert!(sys.link(me, "cwd").is_some());
        // This thread reads them: at least one thread runs.
        assert!(sys.thread_states(me).contains(&'R'));
    }
}
