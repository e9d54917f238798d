//! Is our filesystem mounted? Answered from /proc/self/mountinfo alone: no fork, no stat()
//! of the mount point, no device I/O.

use crate::config::Config;
use mounts::{DeviceSpec, Mount, MountTable};

/// What the mount table says about the resource.
#[derive(Debug)]
pub enum State {
    Unmounted,
    /// Our device is mounted on the directory.
    Mounted(Mount),
    /// Something else is mounted on the directory.
    Other(Mount, String),
}

/// The state of `cfg`'s mount in `table`.
pub fn state(cfg: &Config, table: &MountTable) -> State {
    let Some(m) = table.at(&cfg.identity.directory) else {
        return State::Unmounted;
    };
    match mismatch(cfg, m) {
        None => State::Mounted(m.clone()),
        Some(why) => State::Other(m.clone(), why),
    }
}

/// Why `m` is not our mount, or None when it is.
fn mismatch(cfg: &Config, m: &Mount) -> Option<String> {
    if cfg.settings.fstype_known && !same_fstype(&cfg.settings.fstype, &m.fstype) && !cfg.is_bind()
    {
        return Some(format!(
            "{} is mounted on {} as {}, not {}",
            m.source,
            m.mount_point.display(),
            m.fstype,
            cfg.settings.fstype
        ));
    }
    let ours = match &cfg.identity.spec {
        // Device links resolve without device I/O; a UUID or label without a udev link
        // cannot be checked here, and the type and directory have to do.
        DeviceSpec::Path(_) | DeviceSpec::Uuid(_) | DeviceSpec::Label(_) if !cfg.is_bind() => {
            match cfg.identity.spec.resolve_by_link() {
                Ok(Some(dev)) => match mounts::device::block_device_number(&dev) {
                    Some(num) => num == (m.major, m.minor),
                    None => dev.as_os_str() == m.source.as_str(),
                },
                _ => true,
            }
        }
        DeviceSpec::Other(s) => s == &m.source || cfg.is_bind(),
        _ => true,
    };
    (!ours).then(|| {
        format!(
            "{} is mounted on {} instead of {}",
            m.source,
            m.mount_point.display(),
            cfg.identity.device
        )
    })
}

/// The kernel reports some types under another name (nfs as nfs4, ext3 through ext4).
fn same_fstype(configured: &str, mounted: &str) -> bool {
    configured == mounted
        || (configured.starts_with("nfs") && mounted.starts_with("nfs"))
        || (matches!(configured, "ext2" | "ext3" | "ext4dev") && mounted == "ext4")
        || (configured == "overlayfs" && mounted == "overlay")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_aliases() {
        assert!(same_fstype("ext4", "ext4"));
        assert!(same_fstype("nfs", "nfs4"));
        assert!(same_fstype("ext3", "ext4"));
        assert!(!same_fstype("xfs", "ext4"));
        assert!(!same_fstype("gfs2", "ext4"));
    }
}
