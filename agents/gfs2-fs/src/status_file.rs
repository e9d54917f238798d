//! The depth-20 status file (`<directory>/<statusfile_prefix><instance>_<node>`), written
//! with O_DIRECT|O_SYNC and read back through the same descriptor.
//!
//! Whoever can write the mounted filesystem could plant a symlink at the status file or its
//! directory; the monitor runs as root. So nothing below the mount point is followed
//! ([`procs::StateDir::open_below`]): a directory of the prefix is created `0755` and must
//! be root's and not writable by others, whatever is at the file's name is unlinked, and
//! the file is created `O_CREAT|O_EXCL|O_NOFOLLOW`, mode 0644.

use nix::fcntl::OFlag;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// O_DIRECT transfers are whole, aligned blocks.
const BLOCK: usize = 4096;

/// Split `rel` (prefix + name) into its directory below the mount point and its file name.
fn split(rel: &Path) -> io::Result<(&Path, &std::ffi::OsStr)> {
    match (rel.parent(), rel.file_name()) {
        (Some(dir), Some(name)) => Ok((dir, name)),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a file name", rel.display()),
        )),
    }
}

fn to_io(e: procs::Error) -> io::Error {
    match e {
        procs::Error::StateFile { source, .. } => source,
        other => io::Error::other(other.to_string()),
    }
}

/// Write `content` (padded to a block) to `mount/rel` and read it back.
pub fn write_and_verify(mount: &Path, rel: &Path, content: &[u8]) -> io::Result<()> {
    let (dir, name) = split(rel)?;
    let dir = procs::StateDir::open_below(mount, dir, true).map_err(to_io)?;
    let direct = OFlag::O_SYNC | OFlag::O_DIRECT;
    let file = match dir.create_file(name, 0o644, direct) {
        // No O_DIRECT on this filesystem (tmpfs): O_SYNC alone.
        Err(procs::Error::StateFile { source, .. })
            if source.raw_os_error() == Some(nix::libc::EINVAL) =>
        {
            dir.create_file(name, 0o644, OFlag::O_SYNC)
        }
        other => other,
    }
    .map_err(to_io)?;
    let mut out = vec![0u8; 2 * BLOCK];
    let block = aligned(&mut out);
    let n = content.len().min(BLOCK);
    block[..n].copy_from_slice(&content[..n]);
    file.write_all_at(block, 0)?;
    file.sync_all()?;
    let mut back_buf = vec![0u8; 2 * BLOCK];
    let back = aligned(&mut back_buf);
    let got = file.read_at(back, 0)?;
    if got < n || back[..n] != content[..n] {
        return Err(io::Error::other(format!(
            "read back {got} bytes that differ from what was written"
        )));
    }
    Ok(())
}

/// Remove `mount/rel`, without following anything below the mount point and without
/// creating anything; a missing file or directory is fine.
pub fn remove(mount: &Path, rel: &Path) -> io::Result<()> {
    let (dir, name) = split(rel)?;
    match procs::StateDir::open_below(mount, dir, false) {
        Ok(dir) => dir.remove(name).map_err(to_io),
        Err(e) => match to_io(e) {
            e if e.kind() == io::ErrorKind::NotFound => Ok(()),
            e => Err(e),
        },
    }
}

/// The block-aligned `BLOCK` bytes inside `buf` (which holds two blocks).
fn aligned(buf: &mut [u8]) -> &mut [u8] {
    let offset = buf.as_ptr().align_offset(BLOCK);
    &mut buf[offset..offset + BLOCK]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    use std::path::PathBuf;

    fn scratch(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("gfs2-status-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn status_file_is_written_and_a_planted_symlink_is_replaced_not_followed() {
        let mnt = scratch("link");
        let victim = mnt.join("victim");
        std::fs::write(&victim, "victim\n").unwrap();
        let rel = Path::new(".Filesystem_status/fs_node1");
        write_and_verify(&mnt, rel, b"fs\n").unwrap();
        let file = mnt.join(rel);
        assert!(std::fs::read(&file).unwrap().starts_with(b"fs\n"));
        std::fs::remove_file(&file).unwrap();
        std::os::unix::fs::symlink(&victim, &file).unwrap();
        write_and_verify(&mnt, rel, b"fs\n").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "victim\n");
        let meta = std::fs::symlink_metadata(&file).unwrap();
        assert!(meta.is_file());
        assert_eq!(meta.mode() & 0o777, 0o644);
        remove(&mnt, rel).unwrap();
        assert!(std::fs::symlink_metadata(&file).is_err());
        remove(&mnt, rel).unwrap();
        std::fs::remove_dir_all(&mnt).unwrap();
    }

    #[test]
    fn a_symlinked_or_writable_status_directory_is_refused() {
        let mnt = scratch("dir");
        let elsewhere = mnt.join("elsewhere");
        std::fs::create_dir(&elsewhere).unwrap();
        std::os::unix::fs::symlink(&elsewhere, mnt.join(".Filesystem_status")).unwrap();
        let rel = Path::new(".Filesystem_status/fs_node1");
        let e = write_and_verify(&mnt, rel, b"fs\n").unwrap_err();
        assert!(e.to_string().contains("symlink"), "{e}");
        assert!(!elsewhere.join("fs_node1").exists());
        std::fs::write(elsewhere.join("fs_node1"), "keep\n").unwrap();
        assert!(remove(&mnt, rel).is_err(), "stop does not follow it either");
        assert!(elsewhere.join("fs_node1").exists());
        std::fs::remove_file(mnt.join(".Filesystem_status")).unwrap();
        std::fs::create_dir(mnt.join(".Filesystem_status")).unwrap();
        std::fs::set_permissions(
            mnt.join(".Filesystem_status"),
            std::fs::Permissions::from_mode(0o777),
        )
        .unwrap();
        let e = write_and_verify(&mnt, rel, b"fs\n").unwrap_err();
        assert!(e.to_string().contains("writable"), "{e}");
        // No directory in the prefix: the file lies in the mount point itself.
        write_and_verify(&mnt, Path::new("status-fs_node1"), b"fs\n").unwrap();
        std::fs::remove_dir_all(&mnt).unwrap();
    }
}
