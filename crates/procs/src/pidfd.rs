//! pidfd_open(2) (Linux 5.3) and pidfd_send_signal(2) (Linux 5.1): a descriptor that names
//! one process for as long as it is open, so that a signal sent through it reaches that
//! process or nothing, never another one that took over its pid. Where the kernel lacks them
//! (ENOSYS), the caller falls back to a check followed by kill(2).
#![allow(unsafe_code)]

use nix::errno::Errno;
use nix::sys::signal::Signal;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// An open pidfd.
#[derive(Debug)]
pub(crate) struct PidFd(OwnedFd);

/// What pidfd_open(2) gave.
#[derive(Debug)]
pub(crate) enum Opened {
    Fd(PidFd),
    /// No such process (ESRCH), or `pid` is not a process (EINVAL: a thread's id, or <= 0).
    Gone,
    /// The kernel has no pidfd_open (ENOSYS, before 5.3; or a seccomp filter says so).
    Unsupported,
}

/// pidfd_open(pid, 0).
pub(crate) fn open(pid: i32) -> Result<Opened, Errno> {
    if pid <= 0 {
        return Ok(Opened::Gone);
    }
    // SAFETY: pidfd_open takes two integers and returns a new descriptor or -1 with errno;
    // no memory is shared with the kernel.
    let ret = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if ret < 0 {
        return match Errno::last() {
            Errno::ESRCH | Errno::EINVAL => Ok(Opened::Gone),
            Errno::ENOSYS => Ok(Opened::Unsupported),
            e => Err(e),
        };
    }
    let raw = i32::try_from(ret).map_err(|_| Errno::EBADF)?;
    // SAFETY: the kernel returned a new descriptor that nothing else owns.
    Ok(Opened::Fd(PidFd(unsafe { OwnedFd::from_raw_fd(raw) })))
}

impl PidFd {
    /// pidfd_send_signal(fd, signal, NULL, 0): `Ok(false)` when the process has exited
    /// (ESRCH; a zombie still receives it, and ignores it).
    pub(crate) fn send(&self, signal: Signal) -> Result<bool, Errno> {
        // SAFETY: the descriptor is open for the whole call; a null siginfo makes the kernel
        // fill it in as kill(2) does; flags are 0. Nothing else is passed.
        let ret = unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                self.0.as_raw_fd(),
                signal as libc::c_int,
                std::ptr::null::<libc::siginfo_t>(),
                0,
            )
        };
        if ret == 0 {
            return Ok(true);
        }
        match Errno::last() {
            Errno::ESRCH => Ok(false),
            e => Err(e),
        }
    }
}

/// True when this kernel has pidfds (for tests and the log).
pub fn available() -> bool {
    let me = i32::try_from(std::process::id()).unwrap_or(0);
    matches!(open(me), Ok(Opened::Fd(_)))
}
