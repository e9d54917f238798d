//! A filesystem type, and everything this agent knows about one, in one table: whether it
//! may be cloned, whether `run_fsck=auto` checks it, which `device` forms it takes, the
//! name the kernel shows it by, whether `umount -f` helps. (ocf:heartbeat:Filesystem keeps
//! a list of names per question; this is those lists, row by row.)

use std::fmt;

/// Whether several nodes may mount it at once (Filesystem's `CLUSTERSAFE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clones {
    /// A cluster, network or per-node virtual filesystem: cloning it is what it is for.
    Safe,
    /// Writes its journal or log even when mounted read-only (replaying it): never cloned,
    /// unless `force_clones`.
    Never,
    /// Not cluster-aware: cloned only read-only (with a warning) or with `force_clones`.
    ReadOnly,
}

/// The `device` forms a type takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A block device: a path, `UUID=`, `LABEL=`.
    Block,
    /// `host:/export` (`mon1,mon2:/path` for ceph, `node@tcp:/fs` for lustre).
    HostPath,
    /// `//host/share`.
    Share,
    /// No device: a name the mount table shows (`tmpfs`).
    Name,
    /// `none`: a bind mount of a directory.
    Bind,
}

/// One row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Traits {
    clones: Clones,
    /// `run_fsck=auto` leaves it alone (journalled, cluster, remote, virtual).
    fsck_auto_skips: bool,
    source: Source,
    /// The name `/proc/self/mountinfo` may show instead (ext3 through the ext4 driver, nfs
    /// as nfs4).
    shown_as: Option<&'static str>,
    /// MNT_FORCE helps an unmount (a server that went away), as `umount -f`.
    force_unmount: bool,
}

const fn row(clones: Clones, fsck_auto_skips: bool, source: Source) -> Traits {
    Traits {
        clones,
        fsck_auto_skips,
        source,
        shown_as: None,
        force_unmount: false,
    }
}

const fn shown_as(t: Traits, name: &'static str) -> Traits {
    Traits {
        shown_as: Some(name),
        ..t
    }
}

const fn forced(t: Traits) -> Traits {
    Traits {
        force_unmount: true,
        ..t
    }
}

use Clones::{Never, ReadOnly, Safe};
use Source::{Bind, Block, HostPath, Name, Share};

/// Every type this agent knows something about; any other is a block filesystem that is not
/// cluster-aware and gets fsck with `run_fsck=auto` (Filesystem's defaults).
const KNOWN: &[(&str, Traits)] = &[
    ("gfs2", row(Safe, true, Block)),
    ("ocfs2", row(Safe, true, Block)),
    ("cvfs", row(Safe, true, Block)),
    ("nfs", forced(shown_as(row(Safe, true, HostPath), "nfs4"))),
    ("nfs4", forced(row(Safe, true, HostPath))),
    ("efs", forced(shown_as(row(Safe, true, HostPath), "nfs4"))),
    ("glusterfs", row(Safe, true, HostPath)),
    ("ceph", row(Safe, true, HostPath)),
    ("lustre", row(Safe, true, HostPath)),
    ("cifs", forced(row(Safe, true, Share))),
    ("smbfs", forced(row(Safe, true, Share))),
    ("smb3", forced(shown_as(row(Safe, true, Share), "cifs"))),
    ("tmpfs", row(Safe, true, Name)),
    ("overlay", row(Safe, true, Name)),
    ("overlayfs", shown_as(row(Safe, true, Name), "overlay")),
    ("ramfs", row(ReadOnly, true, Name)),
    ("none", row(Safe, true, Bind)),
    ("ext4", row(Never, true, Block)),
    ("ext4dev", shown_as(row(Never, true, Block), "ext4")),
    ("ext3", shown_as(row(Never, true, Block), "ext4")),
    ("ext2", shown_as(row(ReadOnly, false, Block), "ext4")),
    ("xfs", row(Never, true, Block)),
    ("jfs", row(Never, true, Block)),
    ("reiserfs", row(Never, true, Block)),
    ("reiser4", row(Never, true, Block)),
    // Not in Filesystem's list: a read-only btrfs mount still replays its log tree
    // (btrfs(5), nologreplay).
    ("btrfs", row(Never, false, Block)),
    ("nss", row(ReadOnly, true, Block)),
    ("vfat", row(ReadOnly, true, Block)),
    ("fat", row(ReadOnly, true, Block)),
    ("zfs", row(ReadOnly, true, Block)),
    ("rozofs", row(ReadOnly, true, Block)),
];

const UNKNOWN: Traits = row(ReadOnly, false, Block);

/// A filesystem type as `fstype` names it (checked by its text in `config::source`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FsType {
    name: String,
    traits: Traits,
}

impl FsType {
    /// The type called `name`, known or not.
    pub fn new(name: &str) -> FsType {
        let traits = KNOWN
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(UNKNOWN, |(_, t)| *t);
        FsType {
            name: name.to_owned(),
            traits,
        }
    }

    /// The name as configured (what mount(2) gets).
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn is_gfs2(&self) -> bool {
        self.name == "gfs2"
    }

    /// `none`: a bind mount.
    pub fn is_bind(&self) -> bool {
        self.traits.source == Bind
    }

    pub fn clones(&self) -> Clones {
        self.traits.clones
    }

    /// The `device` forms it takes.
    pub fn source(&self) -> Source {
        self.traits.source
    }

    /// True when `run_fsck=auto` runs fsck on it.
    pub fn fsck_when_auto(&self) -> bool {
        !self.traits.fsck_auto_skips
    }

    /// True when the unmount should be forced (MNT_FORCE): network filesystems.
    pub fn force_unmount(&self) -> bool {
        self.traits.force_unmount
    }

    /// True when the kernel's name for a mount, `mounted` (mountinfo's type), is this type.
    pub fn is_shown_as(&self, mounted: &str) -> bool {
        mounted == self.name
            || self.traits.shown_as == Some(mounted)
            // nfs4 mounts show as nfs when mounted with vers=3.
            || (self.traits.source == HostPath && self.name.starts_with("nfs") && mounted == "nfs")
    }
}

/// The known types that take `source` (for messages).
pub fn names_taking(source: Source) -> Vec<&'static str> {
    KNOWN
        .iter()
        .filter(|(_, t)| t.source == source)
        .map(|(n, _)| *n)
        .collect()
}

impl fmt::Display for FsType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clone_safety_follows_filesystem_and_refuses_journal_replay_when_read_only() {
        for name in [
            "gfs2", "ocfs2", "nfs4", "nfs", "cifs", "tmpfs", "none", "ceph",
        ] {
            assert_eq!(FsType::new(name).clones(), Safe, "{name}");
        }
        for name in ["ext4", "ext3", "xfs", "jfs", "reiserfs", "btrfs"] {
            assert_eq!(FsType::new(name).clones(), Never, "{name}");
        }
        for name in ["vfat", "ext2", "squashfs", "whatever"] {
            assert_eq!(FsType::new(name).clones(), ReadOnly, "{name}");
        }
    }

    #[test]
    fn fsck_auto_only_where_filesystem_runs_it() {
        for name in ["ext4", "xfs", "gfs2", "nfs", "tmpfs", "vfat", "zfs"] {
            assert!(!FsType::new(name).fsck_when_auto(), "{name}");
        }
        for name in ["ext2", "btrfs", "minix", "whatever"] {
            assert!(FsType::new(name).fsck_when_auto(), "{name}");
        }
    }

    #[test]
    fn kernel_names_and_forced_unmounts() {
        assert!(FsType::new("ext3").is_shown_as("ext4"));
        assert!(FsType::new("ext3").is_shown_as("ext3"));
        assert!(FsType::new("nfs").is_shown_as("nfs4"));
        assert!(FsType::new("nfs4").is_shown_as("nfs"));
        assert!(FsType::new("overlayfs").is_shown_as("overlay"));
        assert!(!FsType::new("xfs").is_shown_as("ext4"));
        assert!(!FsType::new("gfs2").is_shown_as("ext4"));
        assert!(FsType::new("nfs4").force_unmount() && FsType::new("cifs").force_unmount());
        assert!(!FsType::new("gfs2").force_unmount());
        assert!(FsType::new("none").is_bind() && !FsType::new("ext4").is_bind());
        assert_eq!(FsType::new("ceph").source(), HostPath);
        assert_eq!(FsType::new("smb3").source(), Share);
        assert_eq!(FsType::new("ramfs").source(), Name);
        assert_eq!(FsType::new("gfs2").to_string(), "gfs2");
    }
}
