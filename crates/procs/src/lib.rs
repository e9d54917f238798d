//! # procs: facts about processes from /proc, signals, and detached daemons
//!
//! What an agent that manages a daemon needs, without forking `ps`, `pgrep` or `kill`:
//! - [`read_pid_file`]: a daemon's pid file, read defensively (size-capped, no symlinks,
//!   regular files only, one positive number).
//! - [`Process`]: one process as `/proc/<pid>/stat` describes it (parent, state, start time),
//!   with its executable and command line on demand; [`Identity`] is pid plus start time, so a
//!   pid reused by another process after ours exited is never mistaken for ours (proc(5)).
//! - [`all`], [`named`] (and [`pids_named`], [`cmdline_of`]), [`children`], [`descendants`]:
//!   walks of the process table.
//! - [`Identity::signal`] and [`wait_gone`]: kill(2) only the process we identified, and poll
//!   /proc until processes are gone, bounded by a deadline.
//! - [`StateDir`]: a state directory (pid files, status files) opened without following
//!   planted symlinks, root-owned and not writable by others, and files created in it with
//!   `O_CREAT|O_EXCL|O_NOFOLLOW`; [`prepare_pid_path`] for a daemon that writes its own.
//! - [`Daemon`]: start a daemon from an argv vector and an environment, in its own session
//!   (setsid(2)), so Pacemaker's SIGKILL of the agent's process group does not reach it;
//!   the launcher's exit status and stderr are collected for daemons that fork themselves.
//!
//! Not for short-lived helper programs (use the `child` crate) and not a process supervisor.

mod daemon;
mod pidfile;
mod process;
mod statedir;

pub use daemon::{Daemon, Launched};
pub use pidfile::read_pid_file;
pub use process::{
    Identity, Process, all, children, cmdline_of, descendants, named, pids_named, wait_gone,
};
pub use statedir::{StateDir, prepare_pid_path};

pub use nix::sys::signal::Signal;

use std::path::PathBuf;

/// Why a process fact could not be read or an operation on a process failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("reading pid file {path}: {source}")]
    PidFileIo {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("pid file {path} is not a regular file")]
    PidFileNotRegular { path: PathBuf },
    #[error("pid file {path} does not hold a pid: {content:?}")]
    PidFileGarbage { path: PathBuf, content: String },
    #[error("state directory {path} is unsafe: {why}")]
    UnsafeStateDir { path: PathBuf, why: String },
    #[error("{path}: {source}")]
    StateFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("reading {path}: {source}")]
    Proc {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot parse {path}")]
    ProcFormat { path: PathBuf },
    #[error("sending {signal} to pid {pid}: {source}")]
    Signal {
        pid: i32,
        signal: Signal,
        source: nix::Error,
    },
    #[error("cannot start {program}: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("waiting for {program}: {source}")]
    Wait {
        program: String,
        source: std::io::Error,
    },
}
