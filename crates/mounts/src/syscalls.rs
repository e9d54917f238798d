//! mount(2) and umount2(2) through `nix::mount` (what mount(8) and umount(8) end in).

use crate::options::MountOptions;
use nix::errno::Errno;
use nix::mount::{MntFlags, MsFlags};
use std::path::Path;

/// A failed mount or unmount, with its inputs.
#[derive(Debug, thiserror::Error)]
pub enum MountError {
    #[error("mount -t {fstype} {device} {target} (flags {flags:?}, data {data:?}): {errno}{hint}")]
    Mount {
        device: String,
        target: String,
        fstype: String,
        flags: MsFlags,
        data: String,
        errno: Errno,
        hint: &'static str,
    },
    #[error("setting propagation {flags:?} on {target}: {errno}")]
    Propagation {
        target: String,
        flags: MsFlags,
        errno: Errno,
    },
    #[error("umount {target}: {errno}")]
    Umount { target: String, errno: Errno },
}

impl MountError {
    /// The errno of the failed call.
    pub fn errno(&self) -> Errno {
        match self {
            MountError::Mount { errno, .. }
            | MountError::Propagation { errno, .. }
            | MountError::Umount { errno, .. } => *errno,
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
