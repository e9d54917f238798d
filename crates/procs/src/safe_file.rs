//! Reading a small file (a pid file, a state file) that may sit in a directory a local user
//! can write, without letting that user make the agent block, follow a link, or believe
//! content the user wrote.
//!
//! The file is opened `O_RDONLY|O_NOFOLLOW|O_NONBLOCK|O_CLOEXEC|O_NOCTTY`: a symlink at the
//! name is refused (ELOOP) and a FIFO planted there does not block open(2) waiting for a
//! writer. Then, on the open descriptor (fstat(2), so nothing can be swapped in between), it
//! must be a regular file, owned by root or by the expected user, not writable by others,
//! with one link (a hard link to someone else's file is not this file), and no larger than
//! the cap; at most the cap is read.

use crate::Error;
use nix::errno::Errno;
use nix::fcntl::{OFlag, openat};
use nix::sys::stat::{FileStat, Mode, SFlag, fstat};
use std::io::Read;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::Path;

/// Why a file was not trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Untrusted {
    #[error("it is a symbolic link")]
    Symlink,
    #[error("it is not a regular file (a {0})")]
    NotRegular(&'static str),
    #[error("it is owned by uid {0}, not root")]
    Owner(u32),
    #[error("it is writable by others")]
    WorldWritable,
    #[error("it has {0} hard links")]
    Links(u64),
    #[error("it is larger than {0} bytes")]
    TooLarge(u64),
}

/// Who may own a file that is trusted: root always, and this user (an agent runs as root;
/// an unprivileged test runs as itself) or one given uid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// Root or the user this process runs as.
    RootOrSelf,
    /// Root or this uid.
    RootOr(u32),
}

impl Owner {
    pub(crate) fn allows(self, uid: u32) -> bool {
        uid == 0
            || match self {
                Owner::RootOrSelf => uid == nix::unistd::geteuid().as_raw(),
                Owner::RootOr(other) => uid == other,
            }
    }
}

/// How a small file is read: who may own it and how large it may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmallFile {
    pub owner: Owner,
    pub max_len: u64,
}

impl SmallFile {
    /// Root's (or this user's) file of at most `max_len` bytes.
    pub fn new(max_len: u64) -> SmallFile {
        SmallFile {
            owner: Owner::RootOrSelf,
            max_len,
        }
    }

    #[must_use]
    pub fn owner(mut self, owner: Owner) -> SmallFile {
        self.owner = owner;
        self
    }

    /// The content of `path`, `Ok(None)` when nothing is there. A symlink as the last
    /// component is refused; directories above it are followed (the caller chose them; see
    /// [`crate::StateDir::read_file`] to follow nothing).
    pub fn read(&self, path: &Path) -> Result<Option<Vec<u8>>, Error> {
        self.read_at(nix::fcntl::AT_FDCWD, path, path)
    }

    /// The content of `name` in the directory `dir` (`path` names it in errors).
    pub(crate) fn read_at<Fd: AsFd>(
        &self,
        dir: Fd,
        name: &Path,
        path: &Path,
    ) -> Result<Option<Vec<u8>>, Error> {
        let io = |e: Errno| Error::ReadFile {
            path: path.to_owned(),
            source: std::io::Error::from(e),
        };
        let refused = |why| Error::Untrusted {
            path: path.to_owned(),
            why,
        };
        let fd = match openat(
            dir,
            name,
            OFlag::O_RDONLY
                | OFlag::O_NOFOLLOW
                | OFlag::O_NONBLOCK
                | OFlag::O_CLOEXEC
                | OFlag::O_NOCTTY,
            Mode::empty(),
        ) {
            Ok(fd) => fd,
            Err(Errno::ENOENT) => return Ok(None),
            Err(Errno::ELOOP) => return Err(refused(Untrusted::Symlink)),
            Err(e) => return Err(io(e)),
        };
        self.check(fd.as_fd()).map_err(refused)?;
        let mut content = Vec::new();
        std::fs::File::from(fd)
            .take(self.max_len + 1)
            .read_to_end(&mut content)
            .map_err(|source| Error::ReadFile {
                path: path.to_owned(),
                source,
            })?;
        if content.len() as u64 > self.max_len {
            return Err(refused(Untrusted::TooLarge(self.max_len)));
        }
        Ok(Some(content))
    }

    fn check(&self, fd: BorrowedFd<'_>) -> Result<(), Untrusted> {
        // fstat on an open descriptor fails only on EOVERFLOW or EIO: not a file to trust.
        let st = fstat(fd).map_err(|_| Untrusted::NotRegular("file that cannot be examined"))?;
        trust(&st, self.owner)?;
        if u64::try_from(st.st_size).unwrap_or(u64::MAX) > self.max_len {
            return Err(Untrusted::TooLarge(self.max_len));
        }
        Ok(())
    }
}

/// The checks every file an agent trusts passes, on its fstat(2)/fstatat(2): a regular file,
/// owned by root (or `owner`), not writable by others, one link.
pub(crate) fn trust(st: &FileStat, owner: Owner) -> Result<(), Untrusted> {
    let kind = st.st_mode & SFlag::S_IFMT.bits();
    if kind != SFlag::S_IFREG.bits() {
        return Err(Untrusted::NotRegular(kind_name(kind)));
    }
    if !owner.allows(st.st_uid) {
        return Err(Untrusted::Owner(st.st_uid));
    }
    if st.st_mode & 0o002 != 0 {
        return Err(Untrusted::WorldWritable);
    }
    if st.st_nlink != 1 {
        return Err(Untrusted::Links(st.st_nlink));
    }
    Ok(())
}

fn kind_name(kind: u32) -> &'static str {
    match kind {
        k if k == SFlag::S_IFIFO.bits() => "FIFO",
        k if k == SFlag::S_IFSOCK.bits() => "socket",
        k if k == SFlag::S_IFCHR.bits() => "character device",
        k if k == SFlag::S_IFBLK.bits() => "block device",
        k if k == SFlag::S_IFDIR.bits() => "directory",
        k if k == SFlag::S_IFLNK.bits() => "symbolic link",
        _ => "file of unknown type",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::scratch;
    use std::os::unix::fs::PermissionsExt;
    use std::time::{Duration, Instant};

    fn small() -> SmallFile {
        SmallFile::new(64)
    }

    fn refusal(r: Result<Option<Vec<u8>>, Error>) -> Untrusted {
        match r {
            Err(Error::Untrusted { why, .. }) => why,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn reads_a_plain_file_and_tolerates_a_missing_one() {
        let d = scratch("safe-plain");
        let f = d.join("a.pid");
        assert_eq!(small().read(&f).unwrap(), None);
        std::fs::write(&f, "1234\n").unwrap();
        assert_eq!(small().read(&f).unwrap().unwrap(), b"1234\n");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_fifo_is_refused_at_once() {
        // The FIFO a local user plants at a pid file's name: open(2) without O_NONBLOCK
        // waits for a writer forever.
        let d = scratch("safe-fifo");
        let f = d.join("a.pid");
        nix::unistd::mkfifo(&f, Mode::from_bits_truncate(0o644)).unwrap();
        let start = Instant::now();
        assert_eq!(refusal(small().read(&f)), Untrusted::NotRegular("FIFO"));
        assert!(start.elapsed() < Duration::from_secs(1));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn symlinks_hard_links_directories_and_big_files_are_refused() {
        let d = scratch("safe-links");
        let target = d.join("target");
        std::fs::write(&target, "1234\n").unwrap();
        let link = d.join("sym.pid");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert_eq!(refusal(small().read(&link)), Untrusted::Symlink);
        let hard = d.join("hard.pid");
        std::fs::hard_link(&target, &hard).unwrap();
        assert_eq!(refusal(small().read(&hard)), Untrusted::Links(2));
        std::fs::remove_file(&hard).unwrap();
        assert!(small().read(&target).is_ok(), "one link again");
        assert_eq!(
            refusal(small().read(&d)),
            Untrusted::NotRegular("directory")
        );
        std::fs::write(&target, vec![b'1'; 65]).unwrap();
        assert_eq!(refusal(small().read(&target)), Untrusted::TooLarge(64));
        std::fs::write(&target, "1\n").unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o666)).unwrap();
        assert_eq!(refusal(small().read(&target)), Untrusted::WorldWritable);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn another_owner_is_refused() {
        // Without privileges the test cannot make a file of another user; it asks for a
        // third uid instead, which refuses this user's file unless it runs as root.
        let d = scratch("safe-owner");
        let f = d.join("a.pid");
        std::fs::write(&f, "1\n").unwrap();
        let me = nix::unistd::geteuid().as_raw();
        let strict = small().owner(Owner::RootOr(u32::MAX - 1));
        if me == 0 {
            assert!(strict.read(&f).is_ok(), "root's file");
        } else {
            assert_eq!(refusal(strict.read(&f)), Untrusted::Owner(me));
        }
        assert!(small().owner(Owner::RootOr(me)).read(&f).is_ok());
        std::fs::remove_dir_all(&d).unwrap();
    }
}
