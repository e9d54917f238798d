//! Reading a daemon's pid file without trusting it.

use crate::Error;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Longest pid file content read; a pid has at most 7 digits (pid_max <= 2^22).
const MAX_LEN: u64 = 128;

/// The pid in `path`: `Ok(None)` when the file does not exist or is empty (a daemon that has
/// not written it yet). The file is opened with O_NOFOLLOW and O_NONBLOCK (a symlink, a FIFO
/// or a device planted in its place is refused, not followed or blocked on), at most 128
/// bytes are read, and the first line must be one pid greater than 1 (pid 1 is init, never
/// a daemon we manage).
pub fn read_pid_file(path: &Path) -> Result<Option<i32>, Error> {
    let io = |source| Error::PidFileIo {
        path: path.to_owned(),
        source,
    };
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(Error::PidFileNotRegular {
                path: path.to_owned(),
            });
        }
        Err(e) => return Err(io(e)),
    };
    if !file.metadata().map_err(io)?.is_file() {
        return Err(Error::PidFileNotRegular {
            path: path.to_owned(),
        });
    }
    let mut content = String::new();
    file.take(MAX_LEN)
        .read_to_string(&mut content)
        .map_err(|_| Error::PidFileGarbage {
            path: path.to_owned(),
            content: String::new(),
        })?;
    let first = content.lines().next().unwrap_or("").trim();
    if first.is_empty() {
        return Ok(None);
    }
    match first.parse::<i32>() {
        Ok(pid) if pid > 1 => Ok(Some(pid)),
        _ => Err(Error::PidFileGarbage {
            path: path.to_owned(),
            content: first.chars().take(40).collect(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(tag: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("procs-pidfile-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn reads_good_and_tolerates_missing_or_empty() {
        let d = dir("good");
        let f = d.join("a.pid");
        assert_eq!(read_pid_file(&f).unwrap(), None);
        std::fs::write(&f, "").unwrap();
        assert_eq!(read_pid_file(&f).unwrap(), None);
        std::fs::write(&f, "1234\n").unwrap();
        assert_eq!(read_pid_file(&f).unwrap(), Some(1234));
        std::fs::write(&f, "  77  \nextra\n").unwrap();
        assert_eq!(read_pid_file(&f).unwrap(), Some(77));
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn refuses_garbage_symlinks_and_non_files() {
        let d = dir("bad");
        let f = d.join("a.pid");
        for garbage in ["abc", "-5", "1", "0", "12 34", "99999999999", "\u{1}"] {
            std::fs::write(&f, garbage).unwrap();
            assert!(
                matches!(read_pid_file(&f), Err(Error::PidFileGarbage { .. })),
                "{garbage:?}"
            );
        }
        std::fs::write(&f, "123").unwrap();
        let link = d.join("link.pid");
        std::os::unix::fs::symlink(&f, &link).unwrap();
        assert!(matches!(
            read_pid_file(&link),
            Err(Error::PidFileNotRegular { .. })
        ));
        assert!(matches!(
            read_pid_file(&d),
            Err(Error::PidFileNotRegular { .. } | Error::PidFileIo { .. })
        ));
        std::fs::remove_dir_all(d).unwrap();
    }
}
