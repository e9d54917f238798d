//! Running the few helper programs an agent may not avoid (drbdadm, crm_attribute, modprobe,
//! fsck, ...): always an argv vector, never a shell; stdout and stderr collected; and bounded
//! by a deadline, so that the agent itself still has time to report before Pacemaker's own
//! timeout.
//!
//! A helper runs in a process group of its own (setpgid(2)), so that everything it starts
//! (drbdsetup under drbdadm, a modprobe install hook) can be killed with it: at the deadline
//! the whole group gets SIGKILL. Its output is read with poll(2) under the same deadline, so a
//! grandchild that keeps stdout open (and ignores SIGTERM) cannot hold the agent past it;
//! when the helper itself has exited, what is left of its group still holding its output
//! after [`STRAY_GRACE`] is killed too. The helper gets SIGKILL if the agent dies before it
//! (PR_SET_PDEATHSIG), since Pacemaker's kill of the agent's process group no longer reaches
//! it.
//!
//! Not for daemons that must outlive the agent (httpd, dlm_controld): those are spawned and
//! detached by the agents that own them (crate procs).

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{Signal, killpg};
use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid};
use nix::unistd::Pid;
use std::io::Read;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStderr, ChildStdout, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long the output may stay open after the helper exited, held by something it left
/// running in its process group, before that is killed.
pub const STRAY_GRACE: Duration = Duration::from_millis(200);

/// Most of each stream kept; a helper that writes more is not blocked, the rest is dropped.
const OUTPUT_CAP: usize = 16 * 1024 * 1024;

/// How long to wait for the helper to be reaped after SIGKILL at the deadline; one stuck in
/// the kernel (D state, on a dead device) is left for init to reap once the agent exits.
const REAP_AFTER_KILL: Duration = Duration::from_millis(50);

/// Why a helper program did not give an answer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot run {program}: {}", io_text(source))]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("{program} did not finish within {:.1} s and was killed", waited.as_secs_f64())]
    TimedOut { program: String, waited: Duration },
    #[error("waiting for {program}: {}", io_text(source))]
    Wait {
        program: String,
        source: std::io::Error,
    },
}

/// An I/O error as an administrator reads it in an exit reason: "no such program" for a
/// program that is not there, else the C library's text of the errno, without Rust's
/// " (os error N)".
fn io_text(e: &std::io::Error) -> String {
    match (e.kind(), e.raw_os_error()) {
        (std::io::ErrorKind::NotFound, _) => "no such program (is it installed?)".to_owned(),
        (_, Some(errno)) => nix::errno::Errno::from_raw(errno).desc().to_owned(),
        (_, None) => e.to_string(),
    }
}

/// A finished helper program.
#[derive(Debug, Clone)]
pub struct Output {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// The exit code, or None when a signal ended it.
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// stderr (or stdout when stderr is empty), trimmed: what to quote in an exit reason.
    pub fn message(&self) -> String {
        let text = if self.stderr.trim().is_empty() {
            &self.stdout
        } else {
            &self.stderr
        };
        text.trim().replace('\n', "; ")
    }
}

/// Run `program` with `args` and wait for it, but no later than `end`. Standard input is
/// /dev/null. A helper still running at `end` is killed with its whole process group, and
/// `TimedOut` returned.
pub fn run(program: &str, args: &[&str], end: Instant) -> Result<Output, Error> {
    run_with(Command::new(program).args(args), end)
}

/// Like [`run`] for a prepared `Command` (extra environment, working directory).
pub fn run_with(cmd: &mut Command, end: Instant) -> Result<Output, Error> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let started = Instant::now();
    let parent = nix::unistd::getpid();
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    #[allow(unsafe_code)]
    // SAFETY: the closure runs in the forked child before exec and only calls prctl(2) and
    // getppid(2), which are async-signal-safe; it touches no memory shared with the parent.
    unsafe {
        cmd.pre_exec(move || {
            nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).map_err(std::io::Error::from)?;
            // The agent died between fork and prctl: do not run orphaned.
            if nix::unistd::getppid() != parent {
                return Err(std::io::Error::from(std::io::ErrorKind::Interrupted));
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().map_err(|source| Error::Spawn {
        program: program.clone(),
        source,
    })?;
    let group = Pid::from_raw(i32::try_from(child.id()).unwrap_or(0));
    let mut out = Stream::new(child.stdout.take().map(Pipe::Out));
    let mut err = Stream::new(child.stderr.take().map(Pipe::Err));
    let mut exited: Option<Instant> = None;
    let mut nap = Duration::from_millis(1);
    loop {
        out.drain();
        err.drain();
        let now = Instant::now();
        if exited.is_none()
            && has_exited(group).map_err(|source| Error::Wait {
                program: program.clone(),
                source,
            })?
        {
            exited = Some(now);
        }
        let limit = match exited {
            // Exited, output closed: done.
            Some(_) if out.closed() && err.closed() => break,
            Some(at) => end.min(at + STRAY_GRACE),
            None => end,
        };
        if now >= limit {
            // SIGKILL to the group: the helper and everything it started that stayed in it.
            let _ = killpg(group, Signal::SIGKILL);
            if exited.is_none() {
                reap_briefly(&mut child);
                return Err(Error::TimedOut {
                    program,
                    waited: started.elapsed(),
                });
            }
            break;
        }
        // Sleep until output arrives or closes, or for a while (the helper's exit is not a
        // descriptor event): 1 ms growing to 50 ms, never past the limit. Once both pipes
        // are closed the helper is exiting (it closes them at exit, or handed them on): its
        // exit is a matter of microseconds, so look again after 1 ms, not after the long nap
        // a slow helper has grown (which put up to 50 ms on every call).
        let this = if out.closed() && err.closed() {
            Duration::from_millis(1)
        } else {
            nap
        };
        wait_for_output(&[&out, &err], this.min(limit - now));
        nap = (nap * 2).min(Duration::from_millis(50));
    }
    // The helper has exited (seen with WNOWAIT, so its pid stayed reserved as the group's id
    // until the kill above): reap it.
    let status = child.wait().map_err(|source| Error::Wait {
        program: program.clone(),
        source,
    })?;
    Ok(Output {
        status,
        stdout: out.text(),
        stderr: err.text(),
    })
}

/// True once the helper has exited, without reaping it (waitid(2) with WNOWAIT): while it is
/// a zombie its pid, which is its process group's id, cannot be reused.
fn has_exited(pid: Pid) -> std::io::Result<bool> {
    let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
    match waitid(Id::Pid(pid), flags) {
        Ok(WaitStatus::StillAlive) => Ok(false),
        Ok(_) => Ok(true),
        Err(e) => Err(std::io::Error::from(e)),
    }
}

/// Reap a helper that was just sent SIGKILL, waiting no longer than [`REAP_AFTER_KILL`].
fn reap_briefly(child: &mut Child) {
    let until = Instant::now() + REAP_AFTER_KILL;
    while Instant::now() < until {
        if !matches!(child.try_wait(), Ok(None)) {
            return;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// poll(2) on the streams still open, for at most `timeout`.
fn wait_for_output(streams: &[&Stream], timeout: Duration) {
    let fds: Vec<_> = streams.iter().filter_map(|s| s.fd()).collect();
    let millis = u16::try_from(timeout.as_millis().max(1)).unwrap_or(u16::MAX);
    if fds.is_empty() {
        std::thread::sleep(timeout);
        return;
    }
    let mut polled: Vec<PollFd<'_>> = fds
        .iter()
        .map(|fd| PollFd::new(*fd, PollFlags::POLLIN))
        .collect();
    let _ = poll(&mut polled, PollTimeout::from(millis));
}

/// One of the helper's output pipes, read without blocking.
struct Stream {
    pipe: Option<Pipe>,
    buf: Vec<u8>,
}

enum Pipe {
    Out(ChildStdout),
    Err(ChildStderr),
}

impl Stream {
    fn new(pipe: Option<Pipe>) -> Stream {
        if let Some(p) = &pipe {
            set_nonblocking(p.as_fd());
        }
        Stream {
            pipe,
            buf: Vec::new(),
        }
    }

    fn fd(&self) -> Option<BorrowedFd<'_>> {
        self.pipe.as_ref().map(Pipe::as_fd)
    }

    fn closed(&self) -> bool {
        self.pipe.is_none()
    }

    /// Read what is there now; at end of file the pipe is closed.
    fn drain(&mut self) {
        let Some(pipe) = &mut self.pipe else {
            return;
        };
        let mut chunk = [0u8; 8192];
        loop {
            match pipe.read(&mut chunk) {
                Ok(0) => {
                    self.pipe = None;
                    return;
                }
                Ok(n) => {
                    let room = OUTPUT_CAP.saturating_sub(self.buf.len());
                    self.buf.extend_from_slice(&chunk[..n.min(room)]);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
                Err(_) => {
                    self.pipe = None;
                    return;
                }
            }
        }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.buf).into_owned()
    }
}

impl Pipe {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Pipe::Out(p) => p.as_fd(),
            Pipe::Err(p) => p.as_fd(),
        }
    }

    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Pipe::Out(p) => p.read(buf),
            Pipe::Err(p) => p.read(buf),
        }
    }
}

fn set_nonblocking(fd: BorrowedFd<'_>) {
    use nix::fcntl::{FcntlArg, OFlag, fcntl};
    let flags = fcntl(fd, FcntlArg::F_GETFL).map_or(OFlag::empty(), OFlag::from_bits_truncate);
    let _ = fcntl(fd, FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK));
}

#[cfg(test)]
mod tests;
