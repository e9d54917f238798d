//! mount(2) and umount2(2) through `nix::mount` (what mount(8) and umount(8) end in), and
//! umount2(2) in another process's mount namespace (setns(2), as `nsenter -m -t PID umount`).

use crate::options::{MountOptions, describe};
use nix::errno::Errno;
use nix::mount::{MntFlags, MsFlags};
use std::path::Path;

/// A failed mount or unmount, with its inputs. Its message is what an administrator reads:
/// the mount(8) command it amounts to and the kernel's reason in words.
#[derive(Debug, thiserror::Error)]
pub enum MountError {
    #[error(
        "mount -t {fstype} -o {} {device} {target}: {}{hint}",
        describe(*flags, data),
        errno.desc()
    )]
    Mount {
        device: String,
        target: String,
        fstype: String,
        flags: MsFlags,
        data: String,
        errno: Errno,
        hint: &'static str,
    },
    #[error("mount --make-{} {target}: {}", describe(*flags, ""), errno.desc())]
    Propagation {
        target: String,
        flags: MsFlags,
        errno: Errno,
    },
    #[error("umount {target}: {}", errno.desc())]
    Umount { target: String, errno: Errno },
    /// The mount namespace of process `pid` could not be entered (ESRCH: that process is
    /// gone, or its pid now names another one).
    #[error("entering the mount namespace of process {pid}: {}", errno.desc())]
    Namespace { pid: i32, errno: Errno },
}

impl MountError {
    /// The errno of the failed call.
    pub fn errno(&self) -> Errno {
        match self {
            MountError::Mount { errno, .. }
            | MountError::Propagation { errno, .. }
            | MountError::Umount { errno, .. }
            | MountError::Namespace { errno, .. } => *errno,
        }
    }
}

/// What mount(8) would add to a bare errno.
fn hint(errno: Errno) -> &'static str {
    match errno {
        Errno::EBUSY => " (the device is already mounted or in use)",
        Errno::ENODEV => " (the kernel does not know this filesystem type)",
        Errno::ENOTBLK => " (not a block device)",
        Errno::EINVAL => " (bad superblock, wrong filesystem type or bad option)",
        Errno::ENOENT => " (device or mount point missing)",
        _ => "",
    }
}

/// mount(2) `source` on `target` as `fstype` with `opts`, then apply any propagation flags.
pub fn mount(
    source: &str,
    target: &Path,
    fstype: &str,
    opts: &MountOptions,
) -> Result<(), MountError> {
    let fs = (!fstype.is_empty() && fstype != "none").then_some(fstype);
    let data = (!opts.data.is_empty()).then_some(opts.data.as_str());
    nix::mount::mount(Some(source), target, fs, opts.flags, data).map_err(|errno| {
        MountError::Mount {
            device: source.to_owned(),
            target: target.display().to_string(),
            fstype: fstype.to_owned(),
            flags: opts.flags,
            data: opts.data.clone(),
            errno,
            hint: hint(errno),
        }
    })?;
    if !opts.propagation.is_empty() {
        nix::mount::mount::<str, Path, str, str>(None, target, None, opts.propagation, None)
            .map_err(|errno| MountError::Propagation {
                target: target.display().to_string(),
                flags: opts.propagation,
                errno,
            })?;
    }
    Ok(())
}

/// umount2(2) `target`; `force` adds MNT_FORCE (for NFS and CIFS, as `umount -f`).
/// EBUSY means processes still use it.
pub fn umount(target: &Path, force: bool) -> Result<(), MountError> {
    let flags = if force {
        MntFlags::MNT_FORCE
    } else {
        MntFlags::empty()
    };
    nix::mount::umount2(target, flags).map_err(|errno| MountError::Umount {
        target: target.display().to_string(),
        errno,
    })
}

/// Enter the mount namespace of `process` (setns(2) on `/proc/<pid>/ns/mnt`, opened before
/// the process is checked to be still the one meant, so a pid reused meanwhile never
/// chooses the namespace), then [`umount`] `target` as that namespace sees it.
///
/// A mount namespace is entered only by a single-threaded process (setns(2) fails with
/// EINVAL otherwise), and it cannot be left again: call this in a helper process of its own
/// that does nothing else.
pub fn umount_in_namespace(
    process: procs::Identity,
    target: &Path,
    force: bool,
) -> Result<(), MountError> {
    let failed = |errno| MountError::Namespace {
        pid: process.pid,
        errno,
    };
    // No /proc/<pid> (ENOENT) is a process that is gone: ESRCH, as kill(2) says it.
    let ns = std::fs::File::open(format!("/proc/{}/ns/mnt", process.pid)).map_err(|e| {
        failed(match e.raw_os_error() {
            Some(libc::ENOENT) | None => Errno::ESRCH,
            Some(n) => Errno::from_raw(n),
        })
    })?;
    if !process.is_alive() {
        return Err(failed(Errno::ESRCH));
    }
    nix::sched::setns(&ns, nix::sched::CloneFlags::CLONE_NEWNS).map_err(failed)?;
    umount(target, force)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_as_mount_commands_without_rust_internals() {
        let e = MountError::Mount {
            device: "/dev/loop1".into(),
            target: "/srv/www".into(),
            fstype: "ext4".into(),
            flags: MsFlags::empty(),
            data: String::new(),
            errno: Errno::EBUSY,
            hint: hint(Errno::EBUSY),
        };
        assert_eq!(
            e.to_string(),
            "mount -t ext4 -o defaults /dev/loop1 /srv/www: Device or resource busy (the \
             device is already mounted or in use)"
        );
        let e = MountError::Umount {
            target: "/srv/www".into(),
            errno: Errno::EBUSY,
        };
        assert_eq!(e.to_string(), "umount /srv/www: Device or resource busy");
        let e = MountError::Namespace {
            pid: 42,
            errno: Errno::ESRCH,
        };
        assert_eq!(
            e.to_string(),
            "entering the mount namespace of process 42: No such process"
        );
    }

    #[test]
    fn a_namespace_of_a_process_that_is_gone_is_not_entered() {
        let gone = procs::Identity {
            pid: i32::MAX,
            start_time: 1,
        };
        let e = umount_in_namespace(gone, Path::new("/nonexistent"), false).unwrap_err();
        assert_eq!(e.errno(), Errno::ESRCH, "{e}");
        // This process, but with another start time: a pid reused since the scan.
        let me = procs::Identity::of(i32::try_from(std::process::id()).unwrap()).unwrap();
        let reused = procs::Identity {
            start_time: me.start_time + 1,
            ..me
        };
        let e = umount_in_namespace(reused, Path::new("/nonexistent"), false).unwrap_err();
        assert_eq!(e.errno(), Errno::ESRCH, "{e}");
    }
}
