//! Processes as /proc describes them (proc(5): /proc/<pid>/stat, exe, cmdline), signals to
//! identified processes, and bounded waits for their exit.

use crate::{Error, Signal};
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A pid and the process's start time (clock ticks after boot, `stat` field 22): together
/// they name one process for the life of the system, where a pid alone may be reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Identity {
    pub pid: i32,
    pub start_time: u64,
}

/// One process, from `/proc/<pid>/stat`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    pub pid: i32,
    pub ppid: i32,
    /// The session id (setsid(2)); a daemon's main process usually leads its own session.
    pub session: i32,
    /// The command name (at most 15 bytes, as the kernel keeps it).
    pub comm: String,
    /// State letter: R, S, D, Z (zombie), T, X (dead), ...
    pub state: char,
    pub start_time: u64,
}

fn proc_path(pid: i32, file: &str) -> PathBuf {
    PathBuf::from(format!("/proc/{pid}/{file}"))
}

/// Parse the content of `/proc/<pid>/stat`. The command name is in parentheses and may hold
/// spaces and parentheses itself, so the fields are counted from the last `)`.
fn parse_stat(pid: i32, text: &str) -> Option<Process> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let comm = text.get(open + 1..close)?.to_owned();
    let fields: Vec<&str> = text.get(close + 1..)?.split_whitespace().collect();
    // fields[0] is field 3 (state); field 22 (starttime) is fields[19].
    Some(Process {
        pid,
        comm,
        state: fields.first()?.chars().next()?,
        ppid: fields.get(1)?.parse().ok()?,
        session: fields.get(3)?.parse().ok()?,
        start_time: fields.get(19)?.parse().ok()?,
    })
}

/// A /proc file read with one read(2) into a 1 KiB buffer: `read_to_string` would probe the
/// size and read in small steps, which adds up when walking every process. The files read
/// here (`stat`, `comm`) are single-record seq_files: the kernel formats the whole record and
/// copies as much as fits, so a read shorter than the buffer returned all of it and the
/// second read(2) that would only report end of file is skipped.
fn read_small(path: &Path) -> std::io::Result<String> {
    read_bytes(path).map(|buf| String::from_utf8_lossy(&buf).into_owned())
}

/// [`read_small`] without the text conversion. `cmdline` is not a seq_file, but the kernel
/// copies the whole argument area when the buffer is large enough, so the same shortcut holds.
fn read_bytes(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
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

/// True when `exe` (a `/proc/<pid>/exe` link) is `resolved` (a program path with its
/// symlinks resolved), including a binary replaced on disk since the process started (the
/// kernel then appends " (deleted)").
fn exe_is(exe: &Path, resolved: &Path) -> bool {
    if exe == resolved {
        return true;
    }
    let exe = exe.as_os_str().as_encoded_bytes();
    let resolved = resolved.as_os_str().as_encoded_bytes();
    exe.strip_prefix(resolved) == Some(b" (deleted)".as_slice())
}

impl Process {
    /// The process with this pid, or `Ok(None)` when there is none.
    pub fn read(pid: i32) -> Result<Option<Process>, Error> {
        let path = proc_path(pid, "stat");
        match read_small(&path) {
            Ok(text) => parse_stat(pid, &text)
                .map(Some)
                .ok_or(Error::ProcFormat { path }),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::InvalidInput
                ) || e.raw_os_error() == Some(libc::ESRCH) =>
            {
                Ok(None)
            }
            Err(source) => Err(Error::Proc { path, source }),
        }
    }

    /// Who it is, for later checks and signals.
    pub fn identity(&self) -> Identity {
        Identity {
            pid: self.pid,
            start_time: self.start_time,
        }
    }

    /// True unless it is a zombie (exited, not yet reaped) or dead.
    pub fn is_running(&self) -> bool {
        !matches!(self.state, 'Z' | 'X' | 'x')
    }

    /// The executable (`/proc/<pid>/exe`), None when unreadable (kernel threads, another
    /// user's process without privileges, or gone). After a package upgrade the kernel
    /// appends " (deleted)"; [`Process::runs`] allows for that.
    pub fn exe(&self) -> Option<PathBuf> {
        std::fs::read_link(proc_path(self.pid, "exe")).ok()
    }

    /// True when the process executes `program` (compared after resolving symlinks in
    /// `program`), including a binary replaced on disk since the process started.
    pub fn runs(&self, program: &Path) -> bool {
        let wanted = std::fs::canonicalize(program).unwrap_or_else(|_| program.to_owned());
        self.exe().is_some_and(|exe| exe_is(&exe, &wanted))
    }

    /// [`Process::runs`] for a caller that resolved `program`'s symlinks once
    /// (`std::fs::canonicalize`) to test many processes: `Some(true|false)`, or `None` when
    /// the executable cannot be read (kernel thread, another user's process without
    /// privileges, gone).
    pub fn runs_resolved(&self, resolved: &Path) -> Option<bool> {
        self.exe().map(|exe| exe_is(&exe, resolved))
    }

    /// The argument vector (`/proc/<pid>/cmdline`); empty for kernel threads and zombies.
    pub fn cmdline(&self) -> Vec<OsString> {
        cmdline_of(self.pid)
    }
}

impl Identity {
    /// The identity of the process `pid` now, if it is running.
    pub fn of(pid: i32) -> Option<Identity> {
        Process::read(pid)
            .ok()
            .flatten()
            .filter(Process::is_running)
            .map(|p| p.identity())
    }

    /// True while this very process runs (same pid, same start time, not a zombie).
    pub fn is_alive(&self) -> bool {
        Identity::of(self.pid) == Some(*self)
    }

    /// Send `signal` if this very process still runs. `Ok(false)` when it is gone (nothing
    /// sent). The check and the kill(2) are two steps; a pid is reused only after the old
    /// process is reaped and the pid space wrapped, which cannot happen in between in practice.
    pub fn signal(&self, signal: Signal) -> Result<bool, Error> {
        if !self.is_alive() {
            return Ok(false);
        }
        match nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.pid), signal) {
            Ok(()) => Ok(true),
            Err(nix::Error::ESRCH) => Ok(false),
            Err(source) => Err(Error::Signal {
                pid: self.pid,
                signal,
                source,
            }),
        }
    }
}

/// The pids listed in /proc now (entries that are not numbers are skipped).
fn proc_pids() -> Result<impl Iterator<Item = i32>, Error> {
    let dir = Path::new("/proc");
    let entries = std::fs::read_dir(dir).map_err(|source| Error::Proc {
        path: dir.to_owned(),
        source,
    })?;
    Ok(entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok()))
}

/// Every process in /proc now (processes that vanish during the walk are skipped).
pub fn all() -> Result<Vec<Process>, Error> {
    Ok(proc_pids()?
        .filter_map(|pid| Process::read(pid).ok().flatten())
        .collect())
}

/// The processes whose command name (`/proc/<pid>/comm`, at most 15 bytes) is `comm`,
/// truncated as the kernel truncates it. Cheaper than [`all`] followed by a filter: only
/// `comm` is read for every process (the kernel formats `stat` at a far higher cost), and
/// `stat` only for the ones whose name matches.
pub fn named(comm: &str) -> Result<Vec<Process>, Error> {
    let wanted = &comm.as_bytes()[..comm.len().min(15)];
    Ok(pids_named(comm)?
        .into_iter()
        .filter_map(|pid| Process::read(pid).ok().flatten())
        .filter(|p| p.comm.as_bytes() == wanted)
        .collect())
}

/// The pids of the processes whose command name is `comm` (as [`named`]), for a caller that
/// tests something cheaper than `stat` (such as [`cmdline_of`]) before reading the process.
pub fn pids_named(comm: &str) -> Result<Vec<i32>, Error> {
    let wanted = &comm.as_bytes()[..comm.len().min(15)];
    Ok(proc_pids()?
        .filter(|&pid| {
            read_small(&proc_path(pid, "comm"))
                .is_ok_and(|name| name.strip_suffix('\n').unwrap_or(&name).as_bytes() == wanted)
        })
        .collect())
}

/// The argument vector of process `pid` (`/proc/<pid>/cmdline`); empty for kernel threads,
/// zombies and processes that are gone.
pub fn cmdline_of(pid: i32) -> Vec<OsString> {
    let Ok(raw) = read_bytes(&proc_path(pid, "cmdline")) else {
        return Vec::new();
    };
    raw.split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| OsString::from_vec(a.to_vec()))
        .collect()
}

/// The running children of `pid`.
pub fn children(pid: i32) -> Result<Vec<Process>, Error> {
    Ok(all()?
        .into_iter()
        .filter(|p| p.ppid == pid && p.is_running())
        .collect())
}

/// The running descendants of `pid` (children, their children, ...), from one walk of /proc,
/// parents before their children.
pub fn descendants(pid: i32) -> Result<Vec<Process>, Error> {
    let mut by_parent: BTreeMap<i32, Vec<Process>> = BTreeMap::new();
    for p in all()?.into_iter().filter(Process::is_running) {
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

/// Poll /proc every `every` until none of `processes` runs; false if some still run at `end`.
pub fn wait_gone(processes: &[Identity], end: Instant, every: Duration) -> bool {
    loop {
        if !processes.iter().any(Identity::is_alive) {
            return true;
        }
        let now = Instant::now();
        if now >= end {
            return false;
        }
        std::thread::sleep(every.min(end - now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn parses_stat_with_awkward_names() {
        let line = "4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10 ...";
        let p = parse_stat(4242, line).unwrap();
        assert_eq!(p.comm, "a) b (c)");
        assert_eq!((p.state, p.ppid, p.start_time), ('S', 1, 987_654));
        assert_eq!(p.session, 4242);
        assert!(parse_stat(1, "1 (x) S").is_none());
        assert!(parse_stat(1, "garbage").is_none());
    }

    #[test]
    fn knows_itself() {
        let me = Process::read(std::process::id().try_into().unwrap())
            .unwrap()
            .unwrap();
        assert!(me.is_running());
        let exe = std::env::current_exe().unwrap();
        assert!(me.runs(&exe), "{:?} vs {exe:?}", me.exe());
        assert!(!me.runs(Path::new("/bin/true")));
        assert!(!me.cmdline().is_empty());
        assert!(me.identity().is_alive());
        let reused = Identity {
            pid: me.pid,
            start_time: me.start_time + 1,
        };
        assert!(!reused.is_alive(), "another start time is another process");
        assert_eq!(Process::read(i32::MAX).unwrap(), None);
        let mine = named(&me.comm).unwrap();
        assert!(mine.iter().any(|p| p.pid == me.pid), "{mine:?}");
        assert!(mine.iter().all(|p| p.comm == me.comm));
        assert_eq!(me.runs_resolved(&exe.canonicalize().unwrap()), Some(true));
        assert_eq!(me.runs_resolved(Path::new("/bin/true")), Some(false));
        let mut deleted = exe.canonicalize().unwrap().into_os_string();
        deleted.push(" (deleted)");
        assert!(exe_is(Path::new(&deleted), &exe.canonicalize().unwrap()));
        assert!(!exe_is(Path::new(&deleted), Path::new("/bin/tru")));
    }

    #[test]
    fn children_signal_and_wait() {
        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        let pid = i32::try_from(child.id()).unwrap();
        let me = i32::try_from(std::process::id()).unwrap();
        let kids = children(me).unwrap();
        let kid = kids
            .iter()
            .find(|p| p.pid == pid)
            .expect("sleep is a child");
        assert!(descendants(me).unwrap().iter().any(|p| p.pid == pid));
        let id = kid.identity();
        let stale = Identity {
            pid,
            start_time: id.start_time + 1,
        };
        assert!(
            !stale.signal(Signal::SIGTERM).unwrap(),
            "must not signal a reused pid"
        );
        assert!(id.is_alive());
        assert!(id.signal(Signal::SIGTERM).unwrap());
        // Until reaped the child is a zombie, which counts as gone.
        let start = Instant::now();
        assert!(wait_gone(
            &[id],
            start + Duration::from_secs(5),
            Duration::from_millis(5)
        ));
        assert!(start.elapsed() < Duration::from_secs(2));
        child.wait().unwrap();
        assert!(!id.signal(Signal::SIGTERM).unwrap());
    }

    #[test]
    fn wait_gone_gives_up_at_the_deadline() {
        let me = Identity::of(std::process::id().try_into().unwrap()).unwrap();
        let start = Instant::now();
        assert!(!wait_gone(
            &[me],
            start + Duration::from_millis(100),
            Duration::from_millis(30)
        ));
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(100) && took < Duration::from_secs(1));
    }
}
