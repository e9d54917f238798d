//! The calls that can sleep uninterruptibly in the kernel on dead storage (mount(2) under a
//! stalled DLM, umount2(2) syncing to a device that no longer answers, O_DIRECT reads,
//! writes and fsync of the depth-10 and depth-20 checks, superblock reads), each run in a
//! helper process: this agent re-executed (`/proc/self/exe --isolated <call> <args>`, an
//! argv vector, no shell) through crate `child`, which gives up at the deadline.
//!
//! Why a process and not a thread: a thread stuck in uninterruptible sleep keeps the whole
//! process alive (Pacemaker's wait for the agent returns only when every thread is gone), so
//! the operation would end in Pacemaker's timeout instead of the agent's reason. A helper
//! stuck in the kernel is sent SIGKILL (which it takes once the kernel lets go, having
//! PR_SET_PDEATHSIG too) and left behind; the agent reports and exits at its deadline.
//!
//! The helper prints one reply on stdout: `ok` and `key hex-value` lines, `kernel <errno>`
//! and a message line, or `refused` and a message line.

use crate::host::{StatusFile, Unmount};
use crate::status_file;
use mounts::MountOptions;
use nix::errno::Errno;
use ocf::{Error, Result, Status};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// `argv[1]` of the helper.
pub const MODE: &str = "--isolated";

/// Why an isolated call gave no result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// The kernel refused it: its errno, and what was done in words.
    #[error("{message}")]
    Kernel { errno: Errno, message: String },
    /// It was refused for another reason (not GFS2, a directory that is not safe to use).
    #[error("{0}")]
    Refused(String),
    /// No answer before the deadline: the helper is stuck in the kernel and left behind.
    #[error(
        "no answer after {:.1} s (stuck in the kernel: the storage does not answer; the helper \
         process was left behind)",
        waited.as_secs_f64()
    )]
    TimedOut { waited: Duration },
    /// The helper process could not run, or gave no reply that could be read.
    #[error("the helper process failed: {0}")]
    Helper(String),
}

impl CallError {
    /// The kernel's errno, when the kernel refused the call.
    pub fn errno(&self) -> Option<Errno> {
        match self {
            CallError::Kernel { errno, .. } => Some(*errno),
            _ => None,
        }
    }

    /// A failed I/O call in words: the errno as strerror(3) says it (no "(os error N)").
    pub fn io(what: &str, e: &std::io::Error) -> CallError {
        match e.raw_os_error() {
            Some(n) => CallError::Kernel {
                errno: Errno::from_raw(n),
                message: format!("{what}: {}", Errno::from_raw(n).desc()),
            },
            None => CallError::Refused(format!("{what}: {e}")),
        }
    }
}

/// One call, as the helper receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    Mount {
        source: String,
        target: PathBuf,
        fstype: String,
        options: String,
    },
    Unmount(Unmount),
    ReadBlock(PathBuf),
    WriteStatus {
        file: StatusFile,
        content: String,
    },
    Superblock(PathBuf),
    /// A `UUID=`/`LABEL=` device found by reading the superblocks of block devices.
    FindDevice(String),
    /// Whether anything holds the block device (a mounted filesystem does): an exclusive
    /// open (O_EXCL, as mount and mkfs take it) is refused with EBUSY.
    InUse(PathBuf),
}

/// What the helper answered: `key value` pairs.
pub type Answer = Vec<(String, String)>;

fn path_arg(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

impl Call {
    fn to_args(&self) -> Vec<String> {
        let mut args = vec![self.name().to_owned()];
        match self {
            Call::Mount {
                source,
                target,
                fstype,
                options,
            } => args.extend([
                source.clone(),
                path_arg(target),
                fstype.clone(),
                options.clone(),
            ]),
            Call::Unmount(u) => {
                args.push(path_arg(&u.target));
                args.push(if u.force { "force" } else { "-" }.to_owned());
                args.push(
                    u.namespace
                        .map_or_else(|| "-".to_owned(), |p| format!("{}:{}", p.pid, p.start_time)),
                );
                args.push(
                    u.then_check
                        .as_deref()
                        .map_or_else(|| "-".to_owned(), path_arg),
                );
                if let Some(f) = &u.remove_first {
                    args.extend([path_arg(&f.mount), path_arg(&f.rel)]);
                }
            }
            Call::ReadBlock(dev) | Call::Superblock(dev) | Call::InUse(dev) => {
                args.push(path_arg(dev));
            }
            Call::WriteStatus { file, content } => {
                args.extend([path_arg(&file.mount), path_arg(&file.rel), content.clone()]);
            }
            Call::FindDevice(spec) => args.push(spec.clone()),
        }
        args
    }

    fn name(&self) -> &'static str {
        match self {
            Call::Mount { .. } => "mount",
            Call::Unmount(_) => "umount",
            Call::ReadBlock(_) => "read-block",
            Call::WriteStatus { .. } => "write-status",
            Call::Superblock(_) => "superblock",
            Call::FindDevice(_) => "find-device",
            Call::InUse(_) => "in-use",
        }
    }

    fn from_args(args: &[String]) -> Option<Call> {
        let (name, rest) = args.split_first()?;
        let path = |i: usize| rest.get(i).map(PathBuf::from);
        Some(match (name.as_str(), rest.len()) {
            ("mount", 4) => Call::Mount {
                source: rest[0].clone(),
                target: path(1)?,
                fstype: rest[2].clone(),
                options: rest[3].clone(),
            },
            ("umount", 4 | 6) => Call::Unmount(Unmount {
                target: path(0)?,
                force: rest[1] == "force",
                namespace: match rest[2].as_str() {
                    "-" => None,
                    p => {
                        let (pid, start) = p.split_once(':')?;
                        Some(procs::Identity {
                            pid: pid.parse().ok()?,
                            start_time: start.parse().ok()?,
                        })
                    }
                },
                then_check: (rest[3] != "-").then(|| PathBuf::from(&rest[3])),
                remove_first: match (path(4), path(5)) {
                    (Some(mount), Some(rel)) => Some(StatusFile { mount, rel }),
                    _ => None,
                },
            }),
            ("read-block", 1) => Call::ReadBlock(path(0)?),
            ("superblock", 1) => Call::Superblock(path(0)?),
            ("write-status", 3) => Call::WriteStatus {
                file: StatusFile {
                    mount: path(0)?,
                    rel: path(1)?,
                },
                content: rest[2].clone(),
            },
            ("find-device", 1) => Call::FindDevice(rest[0].clone()),
            ("in-use", 1) => Call::InUse(path(0)?),
            _ => return None,
        })
    }

    /// Make the call, in this (helper) process.
    fn perform(&self) -> std::result::Result<Answer, CallError> {
        match self {
            Call::Mount {
                source,
                target,
                fstype,
                options,
            } => mounts::syscalls::mount(source, target, fstype, &MountOptions::parse(options))
                .map_err(|e| kernel(&e))
                .map(|()| Vec::new()),
            Call::Unmount(u) => {
                if let Some(f) = &u.remove_first {
                    match status_file::remove(&f.mount, &f.rel) {
                        Ok(()) => log::debug!("removed status file {}", f.path().display()),
                        Err(e) => log::warn!(
                            "could not remove status file {}: {}",
                            f.path().display(),
                            CallError::io("removing it", &e)
                        ),
                    }
                }
                match u.namespace {
                    None => mounts::syscalls::umount(&u.target, u.force),
                    Some(process) => {
                        mounts::syscalls::umount_in_namespace(process, &u.target, u.force)
                    }
                }
                .map_err(|e| kernel(&e))?;
                // The last reference to the superblock went with umount2(2) (its teardown
                // runs before the call returns to user space): the device is free now, or
                // something else holds it.
                match (&u.then_check, u.namespace) {
                    (Some(dev), None) => in_use(dev),
                    _ => Ok(Vec::new()),
                }
            }
            Call::ReadBlock(dev) => mounts::direct_io::read_block(dev)
                .map_err(|e| CallError::io(&format!("reading {}", dev.display()), &e))
                .map(|()| Vec::new()),
            Call::WriteStatus { file, content } => {
                status_file::write_and_verify(&file.mount, &file.rel, content.as_bytes())
                    .map_err(|e| {
                        CallError::io(
                            &format!("writing and reading back {}", file.path().display()),
                            &e,
                        )
                    })
                    .map(|()| Vec::new())
            }
            Call::Superblock(dev) => superblock(dev),
            Call::InUse(dev) => in_use(dev),
            Call::FindDevice(spec) => match mounts::DeviceSpec::parse(spec).resolve() {
                Ok(Some(p)) => Ok(vec![(
                    "path".to_owned(),
                    hex(p.as_os_str().as_encoded_bytes()),
                )]),
                Ok(None) => Ok(Vec::new()),
                Err(e) => Err(CallError::io(&format!("looking for {spec}"), &e)),
            },
        }
    }
}

fn kernel(e: &mounts::syscalls::MountError) -> CallError {
    CallError::Kernel {
        errno: e.errno(),
        message: e.to_string(),
    }
}

/// The GFS2 superblock: an I/O error is the kernel's; anything else (not GFS2, a device too
/// small to hold one) is a refusal, a fact of the device and not of this node.
fn superblock(dev: &Path) -> std::result::Result<Answer, CallError> {
    match gfs2_superblock::Superblock::read(dev) {
        Ok(sb) => Ok(vec![
            ("fs_format".to_owned(), sb.fs_format.to_string()),
            ("block_size".to_owned(), sb.block_size.to_string()),
            ("lock_proto".to_owned(), hex(sb.lock_proto.as_bytes())),
            ("lock_table".to_owned(), hex(sb.lock_table.as_bytes())),
            ("uuid".to_owned(), hex(&sb.uuid)),
        ]),
        Err(gfs2_superblock::Error::Io { source, .. }) if source.raw_os_error().is_some() => {
            Err(CallError::io(
                &format!("reading the GFS2 superblock of {}", dev.display()),
                &source,
            ))
        }
        Err(gfs2_superblock::Error::Io { source, .. }) => Err(CallError::Refused(format!(
            "{} is too small to hold a GFS2 superblock ({source})",
            dev.display()
        ))),
        Err(e) => Err(CallError::Refused(e.to_string())),
    }
}

/// open(2) `dev` with O_EXCL, closed at once: EBUSY while a mounted filesystem (in any
/// mount namespace, also one no process is in, or lazily unmounted but still open) or a
/// driver holds it.
fn in_use(dev: &Path) -> std::result::Result<Answer, CallError> {
    use std::os::unix::fs::OpenOptionsExt;
    let opened = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_EXCL | nix::libc::O_NONBLOCK)
        .open(dev);
    let busy = match opened {
        Ok(_) => false,
        Err(e) if e.raw_os_error() == Some(nix::libc::EBUSY) => true,
        Err(e) => return Err(CallError::io(&format!("opening {}", dev.display()), &e)),
    };
    Ok(vec![("in_use".to_owned(), u8::from(busy).to_string())])
}

/// The answer to [`Call::InUse`].
pub fn in_use_of(answer: &Answer) -> Option<bool> {
    match answer.iter().find(|(k, _)| k == "in_use")?.1.as_str() {
        "1" => Some(true),
        "0" => Some(false),
        _ => None,
    }
}

/// The superblock of an `Answer` to [`Call::Superblock`].
pub fn superblock_of(answer: &Answer) -> Option<gfs2_superblock::Superblock> {
    let get = |k: &str| answer.iter().find(|(key, _)| key == k).map(|(_, v)| v);
    let text = |k: &str| Some(String::from_utf8_lossy(&unhex(get(k)?)?).into_owned());
    Some(gfs2_superblock::Superblock {
        fs_format: get("fs_format")?.parse().ok()?,
        block_size: get("block_size")?.parse().ok()?,
        lock_proto: text("lock_proto")?,
        lock_table: text("lock_table")?,
        uuid: unhex(get("uuid")?)?.try_into().ok()?,
    })
}

/// The path of an `Answer` to [`Call::FindDevice`] (None: not found).
pub fn path_of(answer: &Answer) -> Option<PathBuf> {
    let (_, v) = answer.iter().find(|(k, _)| k == "path")?;
    let bytes = unhex(v)?;
    Some(PathBuf::from(std::ffi::OsStr::from_bytes(&bytes)))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The reply as the helper prints it.
fn encode(reply: &std::result::Result<Answer, CallError>) -> String {
    match reply {
        Ok(answer) => answer.iter().fold(String::from("ok\n"), |mut out, (k, v)| {
            out.push_str(k);
            out.push(' ');
            out.push_str(v);
            out.push('\n');
            out
        }),
        Err(CallError::Kernel { errno, message }) => {
            format!("kernel {}\n{}\n", *errno as i32, one_line(message))
        }
        Err(e) => format!("refused\n{}\n", one_line(&e.to_string())),
    }
}

fn one_line(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
}

/// The reply read back from the helper's stdout.
fn decode(text: &str) -> std::result::Result<Answer, CallError> {
    let mut lines = text.lines();
    let bad = || {
        CallError::Helper(format!(
            "unreadable reply {}",
            ocf::error::printable(text.trim())
        ))
    };
    let head = lines.next().ok_or_else(bad)?;
    if head == "ok" {
        return lines
            .map(|l| {
                l.split_once(' ')
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .ok_or_else(bad)
            })
            .collect();
    }
    let message = lines.next().unwrap_or_default().to_owned();
    if head == "refused" {
        return Err(CallError::Refused(message));
    }
    let errno = head
        .strip_prefix("kernel ")
        .and_then(|n| n.parse::<i32>().ok())
        .ok_or_else(bad)?;
    Err(CallError::Kernel {
        errno: Errno::from_raw(errno),
        message,
    })
}

/// Make `call` in a helper process, waiting no later than `end`.
pub fn run(call: &Call, end: Instant) -> std::result::Result<Answer, CallError> {
    let mut cmd = Command::new("/proc/self/exe");
    // The helper logs to its stderr only; its lines are logged again here, so that they
    // reach Pacemaker's log and syslog once, under the agent's own pid.
    cmd.arg0(<crate::Agent as ocf::Agent>::NAME)
        .arg(MODE)
        .args(call.to_args())
        .env("HA_LOGFACILITY", "none");
    match child::run_with(&mut cmd, end) {
        Ok(out) => {
            for line in out.stderr.lines() {
                relay(call.name(), line);
            }
            if !out.success() {
                return Err(CallError::Helper(format!(
                    "{} ended with {}: {}",
                    call.name(),
                    out.status,
                    out.message()
                )));
            }
            decode(&out.stdout)
        }
        Err(child::Error::TimedOut { waited, .. }) => Err(CallError::TimedOut { waited }),
        Err(e) => Err(CallError::Helper(e.to_string())),
    }
}

/// Log a line of the helper's stderr (`agent(instance)[pid]: LEVEL: message`) at its level.
fn relay(call: &str, line: &str) {
    let parsed = line.split_once("]: ").and_then(|(_, rest)| {
        let (word, message) = rest.split_once(": ")?;
        let level = match word {
            "ERROR" => log::Level::Error,
            "WARNING" => log::Level::Warn,
            "INFO" => log::Level::Info,
            "DEBUG" => log::Level::Debug,
            _ => return None,
        };
        Some((level, message))
    });
    match parsed {
        Some((level, message)) => log::log!(level, "{message}"),
        None => log::debug!("helper {call}: {line}"),
    }
}

/// The helper's side (`gfs2-fs --isolated <call> <args>`): make the call, print the reply.
pub fn serve(args: &[String]) -> Result<Status> {
    let call = Call::from_args(args).ok_or_else(|| {
        Error::args(format!(
            "{MODE}: not a call: {}",
            ocf::error::printable(&args.join(" "))
        ))
    })?;
    let reply = call.perform();
    std::io::stdout()
        .write_all(encode(&reply).as_bytes())
        .map_err(|e| Error::generic(format!("{MODE}: writing the reply: {e}")))?;
    Ok(Status::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_call_survives_its_argv() {
        for call in [
            Call::Mount {
                source: "/dev/drbd1".into(),
                target: "/var/www/my html".into(),
                fstype: "gfs2".into(),
                options: String::new(),
            },
            Call::Unmount(Unmount {
                target: "/srv".into(),
                force: true,
                namespace: None,
                remove_first: None,
                then_check: None,
            }),
            Call::Unmount(Unmount {
                target: "/srv".into(),
                force: false,
                namespace: Some(procs::Identity {
                    pid: 42,
                    start_time: 7,
                }),
                remove_first: Some(StatusFile {
                    mount: "/srv".into(),
                    rel: ".Filesystem_status/web_node1".into(),
                }),
                then_check: Some("/dev/drbd1".into()),
            }),
            Call::ReadBlock("/dev/loop0".into()),
            Call::Superblock("/dev/loop0".into()),
            Call::WriteStatus {
                file: StatusFile {
                    mount: "/srv".into(),
                    rel: "s".into(),
                },
                content: "web\n".into(),
            },
            Call::FindDevice("LABEL=web".into()),
            Call::InUse("/dev/drbd1".into()),
        ] {
            assert_eq!(
                Call::from_args(&call.to_args()),
                Some(call.clone()),
                "{call:?}"
            );
        }
        assert_eq!(Call::from_args(&["mount".into()]), None);
        assert_eq!(Call::from_args(&[]), None);
    }

    #[test]
    fn replies_survive_the_pipe() {
        let sb = gfs2_superblock::Superblock {
            fs_format: 1802,
            block_size: 4096,
            lock_proto: "lock_dlm".into(),
            lock_table: "my cluster:web".into(),
            uuid: [7; 16],
        };
        let answer = vec![
            ("fs_format".to_owned(), "1802".to_owned()),
            ("block_size".to_owned(), "4096".to_owned()),
            ("lock_proto".to_owned(), hex(b"lock_dlm")),
            ("lock_table".to_owned(), hex(b"my cluster:web")),
            ("uuid".to_owned(), hex(&[7; 16])),
        ];
        let back = decode(&encode(&Ok(answer))).unwrap();
        assert_eq!(superblock_of(&back), Some(sb));
        for err in [
            CallError::Kernel {
                errno: Errno::EBUSY,
                message: "umount /srv: Device or resource busy".into(),
            },
            CallError::Refused("/dev/x is not GFS2".into()),
        ] {
            assert_eq!(decode(&encode(&Err(err.clone()))), Err(err));
        }
        assert!(matches!(decode("garbage"), Err(CallError::Helper(_))));
        assert!(matches!(decode(""), Err(CallError::Helper(_))));
        let p = PathBuf::from("/dev/disk/by-label/a b");
        let answer = vec![("path".to_owned(), hex(p.as_os_str().as_encoded_bytes()))];
        assert_eq!(path_of(&answer), Some(p));
    }

    #[test]
    fn errors_read_without_rust_internals() {
        let e = CallError::io(
            "reading /dev/loop4",
            &std::io::Error::from_raw_os_error(nix::libc::EIO),
        );
        assert_eq!(e.to_string(), "reading /dev/loop4: I/O error");
        assert_eq!(e.errno(), Some(Errno::EIO));
        let e = CallError::TimedOut {
            waited: Duration::from_millis(2500),
        };
        assert!(e.to_string().starts_with("no answer after 2.5 s"), "{e}");
    }
}
