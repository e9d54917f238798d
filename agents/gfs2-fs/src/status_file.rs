//! The depth-20 status file (`<directory>/<statusfile_prefix><instance>_<node>`), written
//! with O_DIRECT|O_SYNC and read back through the same descriptor.
//!
//! Whoever can write the mounted filesystem's root (a web application writing its document
//! root) could plant a symlink, a file or a directory of their own at the status directory
//! or the status file; the monitor runs as root. So nothing below the mount point is
//! followed, and nothing planted there is used or can stop the check
//! ([`procs::StateDir::claim_below`]): what is in the way of the prefix's directory is
//! renamed aside and the directory made anew, `0755`, root's; whatever is at the file's name
//! is unlinked (a directory renamed aside) and the file created
//! `O_CREAT|O_EXCL|O_NOFOLLOW`, mode 0644.

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
    let dir = procs::StateDir::claim_below(mount, dir).map_err(to_io)?;
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
        ocf_testkit::scratch_dir(&format!("gfs2-status-{tag}"))
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

    /// Issue 17: a user who can write the mount point's root planted the status directory;
    /// the check goes on in a directory of ours, nothing is followed, and stop does not
    /// follow it either.
    #[test]
    fn a_planted_status_directory_is_moved_aside_and_never_followed() {
        let mnt = scratch("dir");
        let (status, elsewhere) = (mnt.join(".Filesystem_status"), mnt.join("elsewhere"));
        std::fs::create_dir(&elsewhere).unwrap();
        std::os::unix::fs::symlink(&elsewhere, &status).unwrap();
        let rel = Path::new(".Filesystem_status/fs_node1");
        std::fs::write(elsewhere.join("fs_node1"), "keep\n").unwrap();
        assert!(remove(&mnt, rel).is_err(), "stop does not follow it");
        assert!(elsewhere.join("fs_node1").exists());
        write_and_verify(&mnt, rel, b"fs\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(elsewhere.join("fs_node1")).unwrap(),
            "keep\n"
        );
        let meta = std::fs::symlink_metadata(&status).unwrap();
        assert!(meta.is_dir() && meta.permissions().mode() & 0o777 == 0o755);
        assert!(std::fs::read(mnt.join(rel)).unwrap().starts_with(b"fs\n"));
        // A writable directory in its place: moved aside too.
        std::fs::remove_dir_all(&status).unwrap();
        std::fs::create_dir(&status).unwrap();
        std::fs::set_permissions(&status, std::fs::Permissions::from_mode(0o777)).unwrap();
        write_and_verify(&mnt, rel, b"fs\n").unwrap();
        assert_eq!(
            std::fs::metadata(&status).unwrap().permissions().mode() & 0o777,
            0o755
        );
        // No directory in the prefix: the file lies in the mount point itself.
        write_and_verify(&mnt, Path::new("status-fs_node1"), b"fs\n").unwrap();
        std::fs::remove_dir_all(&mnt).unwrap();
    }
}
