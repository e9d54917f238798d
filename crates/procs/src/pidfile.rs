//! Pid files: read without trusting them ([`SmallFile`]: no symlink, no FIFO, root's, one
//! link, small), and the agents' own pid files, which record the start time beside the pid
//! so that the process can be identified later ([`Identity`]).

use crate::safe_file::SmallFile;
use crate::{Error, Identity};
use std::path::Path;

/// Longest pid file read; a pid has at most 7 digits (pid_max <= 2^22), a start time 20.
const MAX_LEN: u64 = 128;

/// What a pid file says: a pid, and the start time where the agent that wrote it recorded
/// one (second line; [`Identity::pid_file_text`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PidRecord {
    pub pid: i32,
    pub start_time: Option<u64>,
}

impl PidRecord {
    /// The identity recorded, when the file holds a start time.
    pub fn identity(&self) -> Option<Identity> {
        Some(Identity {
            pid: self.pid,
            start_time: self.start_time?,
        })
    }
}

impl Identity {
    /// The text of a pid file for this process: its pid on the first line (what any tool
    /// reading pid files expects), its start time on the second.
    pub fn pid_file_text(&self) -> String {
        format!("{}\n{}\n", self.pid, self.start_time)
    }
}

/// The pid in `path` ([`read_pid_record`]).
pub fn read_pid_file(path: &Path) -> Result<Option<i32>, Error> {
    Ok(read_pid_record(path)?.map(|r| r.pid))
}

/// The pid file at `path`: `Ok(None)` when the file does not exist or is empty (a daemon
/// that has not written it yet). The file is read as [`SmallFile`] says (a symlink, a FIFO,
/// a device, another user's file or a hard link planted in its place is refused, never
/// followed or blocked on), at most 128 bytes; the first line must be one pid greater than 1
/// (pid 1 is init, never a daemon we manage); a second line, when it is a number, is the
/// start time. The content is never quoted in errors (it may be anything).
pub fn read_pid_record(path: &Path) -> Result<Option<PidRecord>, Error> {
    let Some(content) = SmallFile::new(MAX_LEN).read(path)? else {
        return Ok(None);
    };
    parse(&content).map_err(|()| Error::PidFileGarbage {
        path: path.to_owned(),
    })
}

fn parse(content: &[u8]) -> Result<Option<PidRecord>, ()> {
    let text = std::str::from_utf8(content).map_err(drop)?;
    let mut lines = text.lines();
    let first = lines.next().unwrap_or("").trim();
    if first.is_empty() {
        return Ok(None);
    }
    let pid = match first.parse::<i32>() {
        Ok(pid) if pid > 1 => pid,
        _ => return Err(()),
    };
    let start_time = lines.next().and_then(|l| l.trim().parse().ok());
    Ok(Some(PidRecord { pid, start_time }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::scratch;

    #[test]
    fn reads_good_and_tolerates_missing_or_empty() {
        let d = scratch("pidfile-good");
        let f = d.join("a.pid");
        assert_eq!(read_pid_file(&f).unwrap(), None);
        std::fs::write(&f, "").unwrap();
        assert_eq!(read_pid_file(&f).unwrap(), None);
        std::fs::write(&f, "1234\n").unwrap();
        assert_eq!(read_pid_file(&f).unwrap(), Some(1234));
        assert_eq!(read_pid_record(&f).unwrap().unwrap().identity(), None);
        std::fs::write(&f, "  77  \nextra\n").unwrap();
        assert_eq!(read_pid_file(&f).unwrap(), Some(77));
        let id = Identity {
            pid: 4242,
            start_time: 987_654,
        };
        std::fs::write(&f, id.pid_file_text()).unwrap();
        assert_eq!(read_pid_file(&f).unwrap(), Some(4242));
        assert_eq!(read_pid_record(&f).unwrap().unwrap().identity(), Some(id));
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn refuses_garbage_symlinks_and_non_files() {
        let d = scratch("pidfile-bad");
        let f = d.join("a.pid");
        for garbage in [
            "abc",
            "-5",
            "1",
            "0",
            "12 34",
            "99999999999",
            "\u{1}",
            "\u{ff}",
        ] {
            std::fs::write(&f, garbage).unwrap();
            let e = read_pid_file(&f).unwrap_err();
            assert!(matches!(e, Error::PidFileGarbage { .. }), "{garbage:?}");
            assert_eq!(
                e.to_string(),
                format!("pid file {} does not hold a pid", f.display()),
                "the content is never quoted"
            );
        }
        std::fs::write(&f, "123").unwrap();
        let link = d.join("link.pid");
        std::os::unix::fs::symlink(&f, &link).unwrap();
        assert!(matches!(read_pid_file(&link), Err(Error::Untrusted { .. })));
        assert!(matches!(read_pid_file(&d), Err(Error::Untrusted { .. })));
        std::fs::remove_dir_all(d).unwrap();
    }
}
