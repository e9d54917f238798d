//! # gfs2-superblock: what a GFS2 filesystem says about its cluster
//!
//! Reads the on-disk superblock (`struct gfs2_sb` in the kernel's
//! `include/uapi/linux/gfs2_ondisk.h`, 64 KiB into the device) and returns the fields an agent
//! checks before mounting: the lock protocol (`lock_dlm`, `lock_nolock`), the lock table
//! (`cluster:fsname`, the first part must be corosync's `cluster_name`) and the UUID. The
//! `tunegfs2 -l` equivalent, without a child process.
//!
//! Not for writing superblocks, nor for any other filesystem.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// Byte offset of the superblock: `GFS2_SB_ADDR` (128) basic blocks of 512 bytes.
pub const SB_OFFSET: u64 = 128 * 512;
/// `GFS2_MAGIC`, the first word of every metadata block.
pub const MAGIC: u32 = 0x0116_1970;
/// `GFS2_METATYPE_SB`.
const METATYPE_SB: u32 = 1;
/// `GFS2_LOCKNAME_LEN`.
const LOCKNAME_LEN: usize = 64;
// Field offsets inside struct gfs2_sb (after the 24-byte gfs2_meta_header).
const OFF_FS_FORMAT: usize = 24;
const OFF_BSIZE: usize = 36;
const OFF_LOCKPROTO: usize = 96;
const OFF_LOCKTABLE: usize = OFF_LOCKPROTO + LOCKNAME_LEN;
const OFF_UUID: usize = 256;
/// How much of the block we read: everything up to and including the UUID.
const SB_LEN: usize = OFF_UUID + 16;

/// Why a superblock could not be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("reading the GFS2 superblock of {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not GFS2: magic {found:#010x} at offset 65536, expected {MAGIC:#010x}")]
    NotGfs2 { path: String, found: u32 },
    #[error(
        "{path}: block at offset 65536 has GFS2 magic but metadata type {found}, not a superblock"
    )]
    NotSuperblock { path: String, found: u32 },
}

/// The fields of a GFS2 superblock an agent checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Superblock {
    /// `sb_fs_format` (1801 or 1802).
    pub fs_format: u32,
    /// `sb_bsize`, the filesystem block size.
    pub block_size: u32,
    /// `sb_lockproto`: `lock_dlm` for a clustered filesystem, `lock_nolock` for one node.
    pub lock_proto: String,
    /// `sb_locktable`: `clustername:fsname` (empty with lock_nolock).
    pub lock_table: String,
    /// `sb_uuid`, all zero on very old filesystems.
    pub uuid: [u8; 16],
}

impl Superblock {
    /// Read the superblock of the device or image file at `path`.
    pub fn read(path: &Path) -> Result<Superblock, Error> {
        let io = |source| Error::Io {
            path: path.display().to_string(),
            source,
        };
        let mut file = File::open(path).map_err(io)?;
        file.seek(SeekFrom::Start(SB_OFFSET)).map_err(io)?;
        let mut buf = [0u8; SB_LEN];
        file.read_exact(&mut buf).map_err(io)?;
        Superblock::parse(&buf).map_err(|e| e.at(path))
    }

    /// Parse the first bytes of the superblock block (at least 272).
    pub fn parse(block: &[u8]) -> Result<Superblock, Error> {
        if block.len() < SB_LEN {
            return Err(Error::Io {
                path: String::new(),
                source: std::io::ErrorKind::UnexpectedEof.into(),
            });
        }
        let magic = be32(block, 0);
        if magic != MAGIC {
            return Err(Error::NotGfs2 {
                path: String::new(),
                found: magic,
            });
        }
        let kind = be32(block, 4);
        if kind != METATYPE_SB {
            return Err(Error::NotSuperblock {
                path: String::new(),
                found: kind,
            });
        }
        let mut uuid = [0u8; 16];
        uuid.copy_from_slice(&block[OFF_UUID..OFF_UUID + 16]);
        Ok(Superblock {
            fs_format: be32(block, OFF_FS_FORMAT),
            block_size: be32(block, OFF_BSIZE),
            lock_proto: c_string(&block[OFF_LOCKPROTO..OFF_LOCKPROTO + LOCKNAME_LEN]),
            lock_table: c_string(&block[OFF_LOCKTABLE..OFF_LOCKTABLE + LOCKNAME_LEN]),
            uuid,
        })
    }

    /// The cluster part of the lock table (`mycluster` of `mycluster:web`).
    pub fn cluster_name(&self) -> Option<&str> {
        self.lock_table.split_once(':').map(|(c, _)| c)
    }

    /// The filesystem part of the lock table (`web` of `mycluster:web`).
    pub fn fs_name(&self) -> Option<&str> {
        self.lock_table.split_once(':').map(|(_, f)| f)
    }

    /// The UUID in its usual text form, as `blkid` and /dev/disk/by-uuid spell it.
    pub fn uuid_string(&self) -> String {
        format_uuid(&self.uuid)
    }
}

impl Error {
    fn at(self, path: &Path) -> Error {
        let path = path.display().to_string();
        match self {
            Error::Io { source, .. } => Error::Io { path, source },
            Error::NotGfs2 { found, .. } => Error::NotGfs2 { path, found },
            Error::NotSuperblock { found, .. } => Error::NotSuperblock { path, found },
        }
    }
}

/// 16 bytes as `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
pub fn format_uuid(u: &[u8; 16]) -> String {
    use std::fmt::Write;
    let mut hex = String::with_capacity(32);
    for b in u {
        let _ = write!(hex, "{b:02x}");
    }
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn c_string(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    /// A scratch directory removed on drop.
    struct TempDir(std::path::PathBuf);
    impl TempDir {
        fn new(tag: &str) -> TempDir {
            let p = std::env::temp_dir().join(format!("gfs2sb-{tag}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&p);
            std::fs::create_dir_all(&p).unwrap();
            TempDir(p)
        }
    }
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// An image formatted by mkfs.gfs2, or None (skip) when gfs2-utils is missing.
    fn mkfs(dir: &TempDir, args: &[&str]) -> Option<std::path::PathBuf> {
        if !ocf_testkit::require_program("gfs2-superblock", "mkfs.gfs2") {
            return None;
        }
        let img = dir.0.join("gfs2.img");
        let f = File::create(&img).unwrap();
        f.set_len(300 << 20).unwrap(); // truncate -s 300M: sparse
        let out = Command::new("mkfs.gfs2")
            .args(["-O"])
            .args(args)
            .arg(&img)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "mkfs.gfs2: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Some(img)
    }

    #[test]
    fn reads_lock_dlm_image() {
        let dir = TempDir::new("dlm");
        let Some(img) = mkfs(&dir, &["-p", "lock_dlm", "-t", "mycluster:web", "-j", "2"]) else {
            return;
        };
        let sb = Superblock::read(&img).unwrap();
        assert_eq!(sb.lock_proto, "lock_dlm");
        assert_eq!(sb.lock_table, "mycluster:web");
        assert_eq!(sb.cluster_name(), Some("mycluster"));
        assert_eq!(sb.fs_name(), Some("web"));
        assert_eq!(sb.block_size, 4096);
        assert!(sb.fs_format >= 1801, "{}", sb.fs_format);
        // The UUID matches what gfs2-utils itself prints.
        let out = Command::new("tunegfs2").arg("-l").arg(&img).output();
        if let Ok(out) = out {
            let text = String::from_utf8_lossy(&out.stdout).to_lowercase();
            assert!(text.contains(&sb.uuid_string()), "{text}");
        }
    }

    #[test]
    fn reads_lock_nolock_image() {
        let dir = TempDir::new("nolock");
        let Some(img) = mkfs(&dir, &["-p", "lock_nolock", "-j", "1"]) else {
            return;
        };
        let sb = Superblock::read(&img).unwrap();
        assert_eq!(sb.lock_proto, "lock_nolock");
        assert_eq!(sb.cluster_name(), None);
    }

    #[test]
    fn other_data_is_not_gfs2() {
        let dir = TempDir::new("zero");
        let img = dir.0.join("zero.img");
        File::create(&img).unwrap().set_len(1 << 20).unwrap();
        let e = Superblock::read(&img).unwrap_err();
        assert!(matches!(e, Error::NotGfs2 { found: 0, .. }), "{e}");
        assert!(e.to_string().contains("zero.img"), "{e}");
        let short = dir.0.join("short.img");
        File::create(&short).unwrap().set_len(1000).unwrap();
        assert!(matches!(
            Superblock::read(&short).unwrap_err(),
            Error::Io { .. }
        ));
    }

    #[test]
    fn parse_by_hand() {
        let mut b = vec![0u8; SB_LEN];
        b[0..4].copy_from_slice(&MAGIC.to_be_bytes());
        b[4..8].copy_from_slice(&1u32.to_be_bytes());
        b[OFF_LOCKPROTO..OFF_LOCKPROTO + 8].copy_from_slice(b"lock_dlm");
        b[OFF_LOCKTABLE..OFF_LOCKTABLE + 5].copy_from_slice(b"c:fsx");
        b[OFF_UUID] = 0xab;
        let sb = Superblock::parse(&b).unwrap();
        assert_eq!(sb.lock_table, "c:fsx");
        assert!(sb.uuid_string().starts_with("ab000000-0000-"));
        b[4..8].copy_from_slice(&3u32.to_be_bytes());
        assert!(matches!(
            Superblock::parse(&b),
            Err(Error::NotSuperblock { found: 3, .. })
        ));
    }
}
