//! The two system calls the bench needs that neither std nor nix wraps: wait4(2), to get one
//! child's own resource usage (getrusage(RUSAGE_CHILDREN) accumulates over every child ever
//! reaped, so its ru_maxrss cannot be attributed to one invocation), and pidfd_open(2), to learn
//! the instant a process that is not our child (a daemonized httpd) exits.
#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

/// What wait4(2) reports about one reaped child.
#[derive(Debug, Clone, Copy)]
pub struct Reaped {
    /// Exit code, or minus the signal number when a signal killed it.
    pub code: i32,
    /// User plus system CPU time of the child and of the descendants it waited for.
    pub cpu: Duration,
    /// Peak resident set size in KiB of the largest single process among the child and its
    /// waited-for descendants (ru_maxrss).
    pub maxrss_kib: u64,
}

fn timeval(tv: libc::timeval) -> Duration {
    let secs = u64::try_from(tv.tv_sec).unwrap_or(0);
    let micros = u32::try_from(tv.tv_usec).unwrap_or(0);
    Duration::from_secs(secs) + Duration::from_micros(u64::from(micros))
}

/// Block until child `pid` exits and return its status and resource usage (wait4(2)).
pub fn wait4(pid: i32) -> io::Result<Reaped> {
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is a plain C struct of integers, for which all-zero is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: both pointers are to live, writable locals of the types wait4 expects; `pid`
        // is a child of this process that nothing else waits for.
        let got = unsafe { libc::wait4(pid, &raw mut status, 0, &raw mut usage) };
        if got == pid {
            break;
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -libc::WTERMSIG(status)
    };
    Ok(Reaped {
        code,
        cpu: timeval(usage.ru_utime) + timeval(usage.ru_stime),
        maxrss_kib: u64::try_from(usage.ru_maxrss).unwrap_or(0),
    })
}

/// A pidfd for `pid` (pidfd_open(2)): readable once the process has exited.
pub fn pidfd_open(pid: i32) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and a flags word and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    let fd = i32::try_from(fd).map_err(|_| io::Error::other("pidfd out of range"))?;
    // SAFETY: the kernel just returned this descriptor to us; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Wait (at most `limit`) for the process behind `pidfd` to exit; the instant it did.
pub fn wait_exit(pidfd: &OwnedFd, limit: Duration) -> io::Result<Option<Instant>> {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    let ms = i32::try_from(limit.as_millis()).unwrap_or(i32::MAX);
    let timeout = PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX);
    let mut fds = [PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)];
    loop {
        match poll(&mut fds, timeout) {
            Ok(0) => return Ok(None),
            Ok(_) => return Ok(Some(Instant::now())),
            Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// Make `cmd` spawn with fork(2) rather than posix_spawn's vfork: a vfork child shares this
/// process's memory until exec, and exec records that memory's high-water mark into the child's
/// ru_maxrss, so every child would report at least the bench's own RSS. A forked child starts
/// from a copy holding only our anonymous pages (file pages are not copied), a fraction of that;
/// the floor row shows what remains.
pub fn spawn_with_fork(cmd: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: the closure does nothing, so it is trivially async-signal-safe between fork and
    // exec; its only effect is that std takes the fork/exec path instead of posix_spawn.
    unsafe {
        cmd.pre_exec(|| Ok(()));
    }
}
