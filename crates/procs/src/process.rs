//! Processes as /proc describes them (proc(5): /proc/<pid>/stat), who a process is
//! ([`Identity`]: pid and start time), and signals that reach only the process meant.

use crate::pidfd::{self, Opened};
use crate::procfs::ProcFs;
use crate::{Error, Signal};
use std::ffi::OsString;
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
    /// The process group (setpgid(2)).
    pub pgrp: i32,
    /// The session id (setsid(2)); a daemon's main process usually leads its own session.
    pub session: i32,
    /// The command name (at most 15 bytes, as the kernel keeps it).
    pub comm: String,
    /// State letter: R, S, D, Z (zombie), T, X (dead), ...
    pub state: char,
    /// The kernel's PF_* flags (include/linux/sched.h).
    pub flags: u64,
    pub start_time: u64,
}

/// PF_EXITING: the task is in do_exit() and will never run user code again.
const PF_EXITING: u64 = 0x4;
/// PF_KTHREAD: a kernel thread.
const PF_KTHREAD: u64 = 0x0020_0000;

/// Parse the content of `/proc/<pid>/stat`. The command name is in parentheses and may hold
/// spaces and parentheses itself, so the fields are counted from the last `)`.
pub(crate) fn parse_stat(pid: i32, text: &str) -> Option<Process> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let comm = text.get(open + 1..close)?.to_owned();
    let fields: Vec<&str> = text.get(close + 1..)?.split_whitespace().collect();
    // fields[0] is field 3 (state); field 9 (flags) is fields[6]; field 22 (starttime) is
    // fields[19].
    Some(Process {
        pid,
        comm,
        state: fields.first()?.chars().next()?,
        ppid: fields.get(1)?.parse().ok()?,
        pgrp: fields.get(2)?.parse().ok()?,
        session: fields.get(3)?.parse().ok()?,
        flags: fields.get(6)?.parse().ok()?,
        start_time: fields.get(19)?.parse().ok()?,
    })
}

/// True when `exe` (a `/proc/<pid>/exe` link) is `resolved` (a program path with its
/// symlinks resolved), including a binary replaced on disk since the process started (the
/// kernel then appends " (deleted)").
pub(crate) fn exe_is(exe: &Path, resolved: &Path) -> bool {
    strip_deleted(exe) == resolved.as_os_str().as_encoded_bytes()
}

/// A readlink of `/proc/<pid>/exe` without the " (deleted)" the kernel appends.
pub(crate) fn strip_deleted(exe: &Path) -> &[u8] {
    let bytes = exe.as_os_str().as_encoded_bytes();
    bytes.strip_suffix(b" (deleted)").unwrap_or(bytes)
}

impl Process {
    /// The process with this pid (system /proc), or `Ok(None)` when there is none.
    pub fn read(pid: i32) -> Result<Option<Process>, Error> {
        ProcFs::system().process(pid)
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

    /// True once it has begun to exit (PF_EXITING): it may still hold resources for a few
    /// milliseconds in the kernel, but it can never run user code (send, write) again.
    pub fn is_exiting(&self) -> bool {
        self.flags & PF_EXITING != 0
    }

    /// True for a kernel thread (PF_KTHREAD): never a holder to signal, never a daemon.
    pub fn is_kernel_thread(&self) -> bool {
        self.flags & PF_KTHREAD != 0
    }

    /// The executable (`/proc/<pid>/exe`), None when unreadable (kernel threads, another
    /// user's process without privileges, or gone). After a package upgrade the kernel
    /// appends " (deleted)"; [`Process::runs`] allows for that.
    pub fn exe(&self) -> Option<PathBuf> {
        ProcFs::system().exe(self.pid)
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
        ProcFs::system().identity(pid)
    }

    /// True while this very process runs (same pid, same start time, not a zombie).
    pub fn is_alive(&self) -> bool {
        Identity::of(self.pid) == Some(*self)
    }

    /// Send `signal` to this very process, if it still runs: `Ok(false)` when it is gone
    /// (nothing sent). Through a pidfd where the kernel has them, opened before the check,
    /// so that a pid reused between the check and the signal is never signalled.
    pub fn signal(&self, signal: Signal) -> Result<bool, Error> {
        signal_checked(self.pid, signal, || self.is_alive())
    }
}

/// Send `signal` to the process `pid` is now if `still_ours()` says it is the one meant.
///
/// With a pidfd the check runs after pidfd_open: if the process checked is the one meant,
/// the pidfd (opened earlier on that pid, which the process held throughout) names it, and
/// a signal through it cannot reach a successor. Without pidfds (ENOSYS) it is check, then
/// kill(2): a pid is reused only after the old process was reaped and the pid space wrapped
/// around, which cannot happen in the microseconds between.
pub(crate) fn signal_checked(
    pid: i32,
    signal: Signal,
    still_ours: impl FnOnce() -> bool,
) -> Result<bool, Error> {
    let err = |source| Error::Signal {
        pid,
        signal,
        source,
    };
    match pidfd::open(pid).map_err(err)? {
        Opened::Gone => Ok(false),
        Opened::Fd(fd) => {
            if !still_ours() {
                return Ok(false);
            }
            fd.send(signal).map_err(err)
        }
        Opened::Unsupported => {
            if !still_ours() {
                return Ok(false);
            }
            match nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), signal) {
                Ok(()) => Ok(true),
                Err(nix::Error::ESRCH) => Ok(false),
                Err(source) => Err(err(source)),
            }
        }
    }
}

/// Every process in /proc now (processes that vanish during the walk are skipped).
pub fn all() -> Result<Vec<Process>, Error> {
    ProcFs::system().all()
}

/// The processes whose command name (`/proc/<pid>/comm`, at most 15 bytes) is `comm`,
/// truncated as the kernel truncates it ([`ProcFs::named`]).
pub fn named(comm: &str) -> Result<Vec<Process>, Error> {
    ProcFs::system().named(comm)
}

/// The pids of the processes whose command name is `comm` ([`ProcFs::pids_named`]).
pub fn pids_named(comm: &str) -> Result<Vec<i32>, Error> {
    ProcFs::system().pids_named(comm)
}

/// The argument vector of process `pid` ([`ProcFs::cmdline`]).
pub fn cmdline_of(pid: i32) -> Vec<OsString> {
    ProcFs::system().cmdline(pid)
}

/// The state of each thread of process `pid` ([`ProcFs::thread_states`]).
pub fn thread_states(pid: i32) -> Vec<char> {
    ProcFs::system().thread_states(pid)
}

/// The running children of `pid`.
pub fn children(pid: i32) -> Result<Vec<Process>, Error> {
    ProcFs::system().children(pid)
}

/// The running descendants of `pid` ([`ProcFs::descendants`]).
pub fn descendants(pid: i32) -> Result<Vec<Process>, Error> {
    ProcFs::system().descendants(pid)
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
        let line = "4242 (a) b (c)) S 1 4240 4242 0 -1 4194564 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10 ...";
        let p = parse_stat(4242, line).unwrap();
        assert_eq!(p.comm, "a) b (c)");
        assert_eq!((p.state, p.ppid, p.start_time), ('S', 1, 987_654));
        assert_eq!((p.pgrp, p.session), (4240, 4242));
        assert!(p.is_exiting() && !p.is_kernel_thread(), "flags 0x400004");
        let kthread = "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 3 0 0";
        assert!(parse_stat(2, kthread).unwrap().is_kernel_thread());
        assert!(parse_stat(1, "1 (x) S").is_none());
        assert!(parse_stat(1, "garbage").is_none());
    }

    #[test]
    fn knows_itself() {
        let me = Process::read(std::process::id().try_into().unwrap())
            .unwrap()
            .unwrap();
        assert!(me.is_running() && !me.is_exiting() && !me.is_kernel_thread());
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
    fn this_kernel_has_pidfds() {
        // Linux 5.3 and later: Identity::signal goes through a pidfd here. The fallback is
        // for older kernels and seccomp filters.
        assert!(pidfd::available());
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
