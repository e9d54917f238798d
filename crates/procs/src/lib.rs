//! # procs: processes from /proc, signals that reach only the process meant, pid and state
//! files read safely, and detached daemons
//!
//! What an agent that manages a daemon needs, without forking `ps`, `pgrep` or `kill`:
//! - [`ProcFs`]: the one reader of `/proc`, with a root that tests point at a fake tree:
//!   the process table, each process's `stat`, `comm`, `cmdline`, `status` uids, `exe`,
//!   mount namespace, `fdinfo` mount IDs and raw files (`maps`, `mountinfo`).
//! - [`Process`]: one process as `/proc/<pid>/stat` describes it; [`Identity`] is pid plus
//!   start time, so a pid reused by another process after ours exited is never mistaken for
//!   ours (proc(5)).
//! - [`Captured`] and [`Expect`]: a process as a scan found it (identity, uids, resolved
//!   executable) and what it must be to count as ours (a program, a user). Signals go
//!   through a pidfd (pidfd_open(2), pidfd_send_signal(2)) opened before the process is
//!   checked to be still the one captured, so no pid reuse, execve(2) or change of user in
//!   between redirects them; [`Identity::signal`] does the same for pid and start time.
//! - [`wait_gone`], [`all`], [`named`], [`children`], [`descendants`]: walks and bounded
//!   waits over the system's /proc.
//! - [`SmallFile`]: a small file (pid file, state file) in a directory a local user may
//!   control, read with O_NOFOLLOW|O_NONBLOCK and checked on its descriptor (regular, root's,
//!   one link, capped); [`read_pid_file`] and [`read_pid_record`] on top of it.
//! - [`StateDir`]: a state directory opened without following planted symlinks, root-owned
//!   and not writable by others; files created in it with `O_CREAT|O_EXCL|O_NOFOLLOW` and
//!   read through [`SmallFile`]; [`prepare_pid_path`] for a daemon that writes its own.
//! - [`Daemon`]: start a daemon from an argv vector and an environment, in its own session
//!   (setsid(2)), so Pacemaker's SIGKILL of the agent's process group does not reach it.
//! - [`words`]: a parameter holding arguments split into argv as sh(1) splits words, with no
//!   shell; [`find_program`] and [`is_executable`] for the program itself.
//! - [`fake`]: a fake /proc tree for tests of policy without a kernel.
//!
//! Not for short-lived helper programs (use the `child` crate) and not a process supervisor.

mod captured;
mod daemon;
pub mod fake;
mod pidfd;
mod pidfile;
mod process;
mod procfs;
mod program;
mod safe_file;
mod statedir;
pub mod words;

pub use captured::{Captured, Expect};
pub use daemon::{Daemon, Launched};
pub use pidfd::available as pidfd_available;
pub use pidfile::{PidRecord, read_pid_file, read_pid_record};
pub use process::{
    Identity, Process, all, children, cmdline_of, descendants, named, pids_named, thread_states,
    wait_gone,
};
pub use procfs::{COMM_LEN, ProcFs, Uids};
pub use program::{find_program, is_executable};
pub use safe_file::{Owner, SmallFile, Untrusted};
pub use statedir::{StateDir, prepare_pid_path};

pub use nix::sys::signal::Signal;

use std::path::PathBuf;

/// Why a process fact could not be read or an operation on a process or file failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("reading {path}: {}", io_text(source))]
    ReadFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("refusing {path}: {why}")]
    Untrusted { path: PathBuf, why: Untrusted },
    #[error("pid file {path} does not hold a pid")]
    PidFileGarbage { path: PathBuf },
    #[error("state directory {path} is unsafe: {why}")]
    UnsafeStateDir { path: PathBuf, why: String },
    #[error("{path}: {}", io_text(source))]
    StateFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("reading {path}: {}", io_text(source))]
    Proc {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot parse {path}")]
    ProcFormat { path: PathBuf },
    #[error("sending {signal} to pid {pid}: {}", source.desc())]
    Signal {
        pid: i32,
        signal: Signal,
        source: nix::Error,
    },
    #[error("cannot start {program}: {}", io_text(source))]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("waiting for {program}: {}", io_text(source))]
    Wait {
        program: String,
        source: std::io::Error,
    },
}

/// An I/O error as an administrator reads it in a log line or exit reason: the C
/// library's words for its errno, without Rust's " (os error N)". Public for the crates and
/// agents above this one (mounts, gfs2-fs), so that one rule words every I/O error.
pub fn io_text(e: &std::io::Error) -> String {
    e.raw_os_error().map_or_else(
        || e.to_string(),
        |errno| nix::errno::Errno::from_raw(errno).desc().to_owned(),
    )
}

#[cfg(test)]
mod error_text_tests {
    use super::*;

    #[test]
    fn errors_read_without_rust_internals() {
        let read = Error::ReadFile {
            path: "/run/x.pid".into(),
            source: std::io::Error::from_raw_os_error(13),
        };
        assert_eq!(read.to_string(), "reading /run/x.pid: Permission denied");
        let signal = Error::Signal {
            pid: 42,
            signal: Signal::SIGTERM,
            source: nix::Error::EPERM,
        };
        assert_eq!(
            signal.to_string(),
            "sending SIGTERM to pid 42: Operation not permitted"
        );
        let spawn = Error::Spawn {
            program: "/usr/sbin/x".into(),
            source: std::io::Error::from_raw_os_error(2),
        };
        assert!(!spawn.to_string().contains("os error"), "{spawn}");
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    /// A fresh directory `0755` under the temp directory, named for the test and process.
    pub fn scratch(tag: &str) -> std::path::PathBuf {
        ocf_testkit::scratch_dir(&format!("procs-{tag}"))
    }
}
