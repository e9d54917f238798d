//! Device names as administrators write them (`/dev/drbd1`, `UUID=...`, `LABEL=...`,
//! `/dev/disk/by-*` links) resolved to a block device node, as `findfs` and `blkid -t` do.
//!
//! Resolution goes through udev's `/dev/disk/by-uuid` and `by-label` links first (no device
//! I/O). Only when those are missing (no udev, as in containers) does [`probe_by_superblock`]
//! read the superblocks of the block devices in `/sys/class/block`.

use nix::sys::stat::{SFlag, major, minor, stat};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// A device as the `device` parameter names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceSpec {
    /// An absolute path: a device node, a `/dev/disk/by-*` link, or a directory to bind.
    Path(PathBuf),
    Uuid(String),
    Label(String),
    /// Anything else: `server:/export`, `//server/share`, `none`, `tmpfs`.
    Other(String),
}

impl DeviceSpec {
    /// Parse the forms mount(8) accepts: `UUID=x`, `LABEL=x`, `-U x`, `-L x`, `--uuid=x`,
    /// `--label=x`, a path, or a remote spec.
    pub fn parse(s: &str) -> DeviceSpec {
        let tagged = |prefixes: &[&str]| {
            prefixes
                .iter()
                .find_map(|p| s.strip_prefix(p))
                .map(|v| v.trim().trim_matches('"').to_owned())
        };
        if let Some(u) = tagged(&["UUID=", "-U ", "--uuid=", "--uuid "]) {
            return DeviceSpec::Uuid(u);
        }
        if let Some(l) = tagged(&["LABEL=", "-L ", "--label=", "--label "]) {
            return DeviceSpec::Label(l);
        }
        if s.starts_with('/') && !s.starts_with("//") {
            return DeviceSpec::Path(PathBuf::from(s));
        }
        DeviceSpec::Other(s.to_owned())
    }

    /// True when this names a local block device (not a remote or virtual source).
    pub fn is_local(&self) -> bool {
        !matches!(self, DeviceSpec::Other(_))
    }

    /// The device node through udev's links or the path itself, without reading any
    /// device. `Ok(None)` when a UUID or label has no link.
    pub fn resolve_by_link(&self) -> std::io::Result<Option<PathBuf>> {
        let link = match self {
            DeviceSpec::Path(p) => p.clone(),
            DeviceSpec::Uuid(u) => Path::new("/dev/disk/by-uuid").join(u.to_ascii_lowercase()),
            DeviceSpec::Label(l) => Path::new("/dev/disk/by-label").join(udev_escape(l)),
            DeviceSpec::Other(_) => return Ok(None),
        };
        match std::fs::canonicalize(&link) {
            Ok(p) => Ok(Some(p)),
            Err(e)
                if e.kind() == std::io::ErrorKind::NotFound
                    && !matches!(self, DeviceSpec::Path(_)) =>
            {
                // Some udev versions keep the UUID's original case.
                if let DeviceSpec::Uuid(u) = self
                    && let Ok(p) = std::fs::canonicalize(Path::new("/dev/disk/by-uuid").join(u))
                {
                    return Ok(Some(p));
                }
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// [`Self::resolve_by_link`], then [`probe_by_superblock`] for a UUID or label without a
    /// link. This reads devices: run it where a hung device cannot stall a monitor.
    pub fn resolve(&self) -> std::io::Result<Option<PathBuf>> {
        if let Some(p) = self.resolve_by_link()? {
            return Ok(Some(p));
        }
        Ok(match self {
            DeviceSpec::Uuid(_) | DeviceSpec::Label(_) => probe_by_superblock(self),
            _ => None,
        })
    }
}

/// udev's escaping of a label in `/dev/disk/by-label` (`/` and space become `\x2f`, `\x20`).
fn udev_escape(label: &str) -> String {
    label
        .chars()
        .map(|c| match c {
            '/' | ' ' | '\\' => format!("\\x{:02x}", u32::from(c)),
            c => c.to_string(),
        })
        .collect()
}

/// `major:minor` of a block device node (its `st_rdev`), or None when `path` is not one.
/// stat() of a node in devtmpfs touches no mounted filesystem.
pub fn block_device_number(path: &Path) -> Option<(u32, u32)> {
    let st = stat(path).ok()?;
    let kind = SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits());
    // Device numbers fit in 32 bits (major 12, minor 20).
    (kind == SFlag::S_IFBLK).then(|| {
        (
            u32::try_from(major(st.st_rdev)).unwrap_or(u32::MAX),
            u32::try_from(minor(st.st_rdev)).unwrap_or(u32::MAX),
        )
    })
}

/// What a superblock says about a filesystem, as `blkid` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FsIdentity {
    pub fstype: &'static str,
    pub uuid: String,
    pub label: String,
}

/// Read the identity of the filesystem on `dev`: ext2/3/4, xfs and gfs2 are recognised.
pub fn identify(dev: &Path) -> Option<FsIdentity> {
    let mut f = File::open(dev).ok()?;
    let mut head = [0u8; 2048];
    f.read_exact(&mut head).ok()?;
    // ext2/3/4: superblock at 1024, magic 0xEF53 at +0x38, UUID at +0x68, label at +0x78.
    let ext = &head[1024..];
    if ext[0x38..0x3a] == [0x53, 0xef] {
        return Some(FsIdentity {
            fstype: "ext4",
            uuid: fmt_uuid(&ext[0x68..0x78]),
            label: c_str(&ext[0x78..0x88]),
        });
    }
    // xfs: "XFSB" at 0, sb_uuid at 32, sb_fname (12 bytes) at 108.
    if &head[0..4] == b"XFSB" {
        return Some(FsIdentity {
            fstype: "xfs",
            uuid: fmt_uuid(&head[32..48]),
            label: c_str(&head[108..120]),
        });
    }
    f.seek(SeekFrom::Start(0)).ok()?;
    let sb = gfs2_superblock::Superblock::read(dev).ok()?;
    Some(FsIdentity {
        fstype: "gfs2",
        uuid: sb.uuid_string(),
        label: sb.lock_table,
    })
}

/// Find a UUID or label by reading the superblock of every block device the kernel lists
/// (`/sys/class/block`), as `blkid -t` does without a cache.
pub fn probe_by_superblock(spec: &DeviceSpec) -> Option<PathBuf> {
    let entries = std::fs::read_dir("/sys/class/block").ok()?;
    for e in entries.flatten() {
        let name = e.file_name();
        // Empty devices (unbound loop devices) have size 0.
        let size = std::fs::read_to_string(e.path().join("size")).unwrap_or_default();
        if size.trim() == "0" {
            continue;
        }
        let dev = Path::new("/dev").join(&name);
        let Some(id) = identify(&dev) else { continue };
        let hit = match spec {
            DeviceSpec::Uuid(u) => id.uuid.eq_ignore_ascii_case(u),
            DeviceSpec::Label(l) => !id.label.is_empty() && &id.label == l,
            _ => false,
        };
        if hit {
            return Some(dev);
        }
    }
    None
}

fn fmt_uuid(b: &[u8]) -> String {
    let mut a = [0u8; 16];
    a.copy_from_slice(&b[..16]);
    gfs2_superblock::format_uuid(&a)
}

fn c_str(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_spelling() {
        for s in ["UUID=ab-cd", "-U ab-cd", "--uuid=ab-cd", "UUID=\"ab-cd\""] {
            assert_eq!(
                DeviceSpec::parse(s),
                DeviceSpec::Uuid("ab-cd".into()),
                "{s}"
            );
        }
        for s in ["LABEL=web", "-L web", "--label=web"] {
            assert_eq!(DeviceSpec::parse(s), DeviceSpec::Label("web".into()), "{s}");
        }
        assert_eq!(
            DeviceSpec::parse("/dev/drbd1"),
            DeviceSpec::Path("/dev/drbd1".into())
        );
        for s in ["nfs:/export", "//server/share", "none", "tmpfs"] {
            let d = DeviceSpec::parse(s);
            assert!(!d.is_local(), "{s}");
        }
    }

    #[test]
    fn escapes_labels_as_udev() {
        assert_eq!(udev_escape("my web/x"), "my\\x20web\\x2fx");
    }

    #[test]
    fn missing_links_are_none() {
        let u = DeviceSpec::Uuid("00000000-dead-beef-0000-000000000000".into());
        assert_eq!(u.resolve_by_link().unwrap(), None);
        assert_eq!(
            DeviceSpec::Other("x:/y".into()).resolve_by_link().unwrap(),
            None
        );
        assert!(
            DeviceSpec::Path("/nonexistent/dev".into())
                .resolve_by_link()
                .is_err()
        );
    }

    #[test]
    fn device_numbers() {
        assert_eq!(
            block_device_number(Path::new("/dev/null")),
            None,
            "a char device"
        );
        assert_eq!(block_device_number(Path::new("/nonexistent")), None);
    }

    #[test]
    fn identifies_ext_and_xfs_images() {
        let mut img = vec![0u8; 2048];
        img[1024 + 0x38] = 0x53;
        img[1024 + 0x39] = 0xef;
        img[1024 + 0x68] = 0x12;
        img[1024 + 0x78..1024 + 0x7b].copy_from_slice(b"web");
        let dir = std::env::temp_dir().join(format!("mounts-id-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("ext.img");
        std::fs::write(&p, &img).unwrap();
        let id = identify(&p).unwrap();
        assert_eq!((id.fstype, id.label.as_str()), ("ext4", "web"));
        assert!(id.uuid.starts_with("12000000-"));
        let mut x = vec![0u8; 2048];
        x[0..4].copy_from_slice(b"XFSB");
        x[108..111].copy_from_slice(b"lbl");
        std::fs::write(&p, &x).unwrap();
        assert_eq!(identify(&p).unwrap().label, "lbl");
        std::fs::write(&p, vec![0u8; 2048]).unwrap();
        assert_eq!(identify(&p), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
