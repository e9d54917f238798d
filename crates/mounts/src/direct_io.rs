//! Reads and writes that bypass the page cache (O_DIRECT), so that a check proves the
//! storage answers: `dd iflag=direct` and `dd oflag=direct,sync conv=fsync` without dd.
//! These block when the storage hangs: run them through [`crate::bounded`].

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// O_DIRECT wants buffers, offsets and sizes aligned to the logical block size; 4096
/// covers every device.
const BLOCK: usize = 4096;

/// A BLOCK-sized, BLOCK-aligned slice of `buf` (which must hold 2 * BLOCK bytes).
fn aligned(buf: &mut [u8]) -> &mut [u8] {
    let off = buf.as_ptr().align_offset(BLOCK);
    &mut buf[off..off + BLOCK]
}

/// Read the first 4 KiB of `dev` with O_DIRECT.
pub fn read_block(dev: &Path) -> std::io::Result<()> {
    let mut f = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECT)
        .open(dev)?;
    let mut buf = vec![0u8; 2 * BLOCK];
    let n = f.read(aligned(&mut buf))?;
    if n == 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "the device returned no data",
        ));
    }
    Ok(())
}

/// Write `content` (padded to 4 KiB) to `path` with O_DIRECT|O_SYNC and fsync, then read it
/// back with O_DIRECT and compare. Filesystems without O_DIRECT (EINVAL) get O_SYNC alone.
pub fn write_and_verify(path: &Path, content: &[u8]) -> std::io::Result<()> {
    let mut buf = vec![0u8; 2 * BLOCK];
    let block = aligned(&mut buf);
    let n = content.len().min(BLOCK);
    block[..n].copy_from_slice(&content[..n]);
    let open = |direct: bool| {
        let mut o = OpenOptions::new();
        o.write(true).create(true).truncate(true).mode(0o644);
        o.custom_flags(libc::O_SYNC | if direct { libc::O_DIRECT } else { 0 });
        o.open(path)
    };
    let (mut f, direct) = match open(true) {
        Ok(f) => (f, true),
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => (open(false)?, false),
        Err(e) => return Err(e),
    };
    f.write_all(block)?;
    f.sync_all()?;
    drop(f);
    let mut back_buf = vec![0u8; 2 * BLOCK];
    let back = aligned(&mut back_buf);
    let mut r = if direct {
        OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECT)
            .open(path)?
    } else {
        File::open(path)?
    };
    let got = r.read(back)?;
    if got < n || back[..n] != content[..n] {
        return Err(std::io::Error::other(format!(
            "read back {got} bytes that differ from what was written"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_then_verify_and_read() {
        let dir = std::env::temp_dir().join(format!("mounts-dio-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("status");
        write_and_verify(&f, b"web_node1\n").unwrap();
        let text = std::fs::read(&f).unwrap();
        assert_eq!(text.len(), BLOCK);
        assert!(text.starts_with(b"web_node1\n"));
        read_block(&f).unwrap();
        assert!(read_block(&dir.join("missing")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
