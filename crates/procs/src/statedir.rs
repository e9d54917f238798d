//! State directories and the files an agent creates in them (pid files, status files),
//! never through a symlink someone else planted.
//!
//! A [`StateDir`] is an open directory: every directory on its path is opened with
//! `openat(O_DIRECTORY|O_NOFOLLOW)` (openat(2)), created `0755` when missing (mkdirat(2)),
//! and checked with fstat(2): owned by root (or this user) and not writable by group or
//! others. A file is then created relative to that descriptor with
//! `O_CREAT|O_EXCL|O_NOFOLLOW` after unlinking whatever was at its name (unlinkat(2)), so a
//! planted symlink or foreign file is removed, never written through. The shell equivalent
//! would be `install -d -m 0755` plus `rm -f` and a `set -C` redirection, without the races.

use crate::Error;
use crate::safe_file::{Owner, SmallFile, trust};
use nix::errno::Errno;
use nix::fcntl::{AT_FDCWD, OFlag, openat};
use nix::sys::stat::{FileStat, Mode, SFlag, fchmod, fstat, fstatat, mkdirat};
use nix::unistd::{UnlinkatFlags, unlinkat};
use std::ffi::OsStr;
use std::fs::File;
use std::os::fd::OwnedFd;
use std::path::{Component, Path, PathBuf};

/// An open, checked directory for state files.
#[derive(Debug)]
pub struct StateDir {
    fd: OwnedFd,
    path: PathBuf,
}

/// Who may own a state directory: root, or the user we run as (tests without root).
fn trusted_owner(st: &FileStat) -> bool {
    Owner::RootOrSelf.allows(st.st_uid)
}

fn writable_by_others(st: &FileStat) -> bool {
    st.st_mode & 0o022 != 0
}

fn sticky(st: &FileStat) -> bool {
    st.st_mode & 0o1000 != 0
}

impl StateDir {
    /// The absolute directory `path`, created (`0755`) where missing. A symlink on the way is
    /// followed only where nobody but root could have made it: in a root-owned directory
    /// that group and others cannot write (`/var/run -> /run`). Every directory on the way
    /// must be owned by root (or this user) and not writable by group or others, except that
    /// an ancestor may be a sticky directory (`/tmp`); the directory itself may not.
    pub fn open(path: &Path) -> Result<StateDir, Error> {
        if !path.is_absolute() {
            return Err(unsafe_dir(path, "not an absolute path"));
        }
        let root = open_dir(AT_FDCWD, Path::new("/"), false).map_err(|e| io(path, e))?;
        walk(root, PathBuf::from("/"), path, true, true)
    }

    /// `rel` below the directory `base`, which the caller trusts (a mount point the
    /// administrator configured; it is not checked). No symlink below `base` is followed;
    /// every directory below it is created `0755` where missing (with `create`; else a
    /// missing one is an error of kind NotFound) and must be owned by root (or this user)
    /// and not writable by group or others. An empty `rel` is `base` itself.
    pub fn open_below(base: &Path, rel: &Path, create: bool) -> Result<StateDir, Error> {
        let fd = open_dir(AT_FDCWD, base, true).map_err(|e| io(base, e))?;
        if rel.as_os_str().is_empty() {
            return Ok(StateDir {
                fd,
                path: base.to_owned(),
            });
        }
        walk(fd, base.to_owned(), rel, false, create)
    }

    /// The directory's path (for messages, and for daemons that want a path).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A new file `name` in this directory, open for reading and writing with `flags` added
    /// (`O_SYNC`, `O_DIRECT`), mode `mode` whatever the umask, owned by this user (root):
    /// whatever was at `name` (a stale file, a planted symlink, a FIFO) is unlinked first,
    /// and the file is created with `O_CREAT|O_EXCL|O_NOFOLLOW`, so it is never written
    /// through anything planted there.
    pub fn create_file(&self, name: &OsStr, mode: u32, flags: OFlag) -> Result<File, Error> {
        let path = self.path.join(name);
        self.remove(name)?;
        let fd = openat(
            &self.fd,
            name,
            OFlag::O_RDWR
                | OFlag::O_CREAT
                | OFlag::O_EXCL
                | OFlag::O_NOFOLLOW
                | OFlag::O_CLOEXEC
                | flags,
            Mode::from_bits_truncate(mode),
        )
        .map_err(|e| io(&path, e))?;
        fchmod(&fd, Mode::from_bits_truncate(mode)).map_err(|e| io(&path, e))?;
        Ok(File::from(fd))
    }

    /// Unlink `name` (a file or symlink, never followed); a missing one is fine.
    pub fn remove(&self, name: &OsStr) -> Result<(), Error> {
        match unlinkat(&self.fd, name, UnlinkatFlags::NoRemoveDir) {
            Ok(()) | Err(Errno::ENOENT) => Ok(()),
            Err(e) => Err(io(&self.path.join(name), e)),
        }
    }

    /// Make `name` safe for a daemon that writes its own pid file there by path (httpd's
    /// PidFile): anything at `name` that is not a regular file owned by root (or this
    /// user) with one link, a planted symlink above all, is unlinked. A regular file of
    /// ours is left for the caller, who may still need the pid in it.
    pub fn clear_for_daemon(&self, name: &OsStr) -> Result<(), Error> {
        let st = match fstatat(&self.fd, name, nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW) {
            Ok(st) => st,
            Err(Errno::ENOENT) => return Ok(()),
            Err(e) => return Err(io(&self.path.join(name), e)),
        };
        match trust(&st, Owner::RootOrSelf) {
            Ok(()) => Ok(()),
            Err(why) => {
                log::warn!(
                    "removing {}: not a file of ours: {why}",
                    self.path.join(name).display()
                );
                self.remove(name)
            }
        }
    }

    /// The content of the file `name` in this directory, read as `how` says
    /// ([`SmallFile`]: no symlink, no FIFO, root's, one link, capped); `Ok(None)` when it
    /// does not exist.
    pub fn read_file(&self, name: &OsStr, how: SmallFile) -> Result<Option<Vec<u8>>, Error> {
        how.read_at(&self.fd, Path::new(name), &self.path.join(name))
    }
}

/// Open, checked, the directory a daemon will write its pid file `path` in, and clear the
/// way for it ([`StateDir::clear_for_daemon`]). The directory must be safe as
/// [`StateDir::open`] says, since the daemon opens the path itself.
pub fn prepare_pid_path(path: &Path) -> Result<(), Error> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(unsafe_dir(path, "not a file path"));
    };
    StateDir::open(dir)?.clear_for_daemon(name)
}

fn io(path: &Path, e: Errno) -> Error {
    Error::StateFile {
        path: path.to_owned(),
        source: std::io::Error::from(e),
    }
}

fn unsafe_dir(path: &Path, why: &str) -> Error {
    Error::UnsafeStateDir {
        path: path.to_owned(),
        why: why.to_owned(),
    }
}

fn open_dir<Fd: std::os::fd::AsFd>(dir: Fd, name: &Path, follow: bool) -> Result<OwnedFd, Errno> {
    let nofollow = if follow {
        OFlag::empty()
    } else {
        OFlag::O_NOFOLLOW
    };
    openat(
        dir,
        name,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC | nofollow,
        Mode::empty(),
    )
}

/// Walk `rel` from the open directory `fd` (at `at`), creating and checking each step.
/// `trust_root_links`: follow a symlink found in a directory only root can write.
fn walk(
    mut fd: OwnedFd,
    mut at: PathBuf,
    rel: &Path,
    trust_root_links: bool,
    create: bool,
) -> Result<StateDir, Error> {
    let names: Vec<&OsStr> = rel
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(Ok(n)),
            Component::RootDir | Component::CurDir => None,
            Component::ParentDir | Component::Prefix(_) => Some(Err(())),
        })
        .collect::<Result<_, ()>>()
        .map_err(|()| unsafe_dir(rel, "contains .."))?;
    let mut parent_st = fstat(&fd).map_err(|e| io(&at, e))?;
    for (i, name) in names.iter().enumerate() {
        let last = i + 1 == names.len();
        at.push(name);
        let next = match open_dir(&fd, Path::new(name), false) {
            Ok(next) => next,
            Err(Errno::ENOENT) if create => {
                match mkdirat(&fd, *name, Mode::from_bits_truncate(0o755)) {
                    Ok(()) | Err(Errno::EEXIST) => {}
                    Err(e) => return Err(io(&at, e)),
                }
                open_dir(&fd, Path::new(name), false).map_err(|e| io(&at, e))?
            }
            // ELOOP: a symlink (ENOTDIR: O_NOFOLLOW|O_DIRECTORY on some kernels).
            Err(Errno::ELOOP | Errno::ENOTDIR) if is_symlink(&fd, name) => {
                let root_made = parent_st.st_uid == 0 && !writable_by_others(&parent_st);
                if !(trust_root_links && root_made) {
                    return Err(unsafe_dir(
                        &at,
                        "is a symlink; refusing to follow it (remove it: the agent recreates \
                         the directory)",
                    ));
                }
                open_dir(&fd, Path::new(name), true).map_err(|e| io(&at, e))?
            }
            Err(e) => return Err(io(&at, e)),
        };
        let st = fstat(&next).map_err(|e| io(&at, e))?;
        if !trusted_owner(&st) {
            return Err(unsafe_dir(
                &at,
                &format!("is owned by uid {}, not root", st.st_uid),
            ));
        }
        if writable_by_others(&st) && (last || !sticky(&st)) {
            return Err(unsafe_dir(
                &at,
                &format!(
                    "is writable by group or others (mode {:o})",
                    st.st_mode & 0o7777
                ),
            ));
        }
        fd = next;
        parent_st = st;
    }
    Ok(StateDir { fd, path: at })
}

fn is_symlink(dir: &OwnedFd, name: &OsStr) -> bool {
    fstatat(dir, name, nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW)
        .is_ok_and(|st| st.st_mode & SFlag::S_IFMT.bits() == SFlag::S_IFLNK.bits())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Seek, Write};
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    fn scratch(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("procs-statedir-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
        d
    }

    #[test]
    fn creates_missing_directories_and_files_0644_replacing_a_planted_symlink() {
        let d = scratch("create");
        let victim = d.join("victim");
        std::fs::write(&victim, "victim\n").unwrap();
        let dir = StateDir::open(&d.join("a/b")).unwrap();
        assert_eq!(dir.path(), d.join("a/b"));
        let meta = std::fs::metadata(d.join("a/b")).unwrap();
        assert!(meta.is_dir());
        assert_eq!(meta.permissions().mode() & 0o7777, 0o755);
        std::os::unix::fs::symlink(&victim, d.join("a/b/x.pid")).unwrap();
        let mut f = dir
            .create_file(OsStr::new("x.pid"), 0o644, OFlag::empty())
            .unwrap();
        writeln!(f, "1234").unwrap();
        f.rewind().unwrap();
        let mut back = String::new();
        f.read_to_string(&mut back).unwrap();
        assert_eq!(back, "1234\n");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "victim\n");
        let meta = std::fs::symlink_metadata(d.join("a/b/x.pid")).unwrap();
        assert!(meta.file_type().is_file(), "the symlink was replaced");
        assert_eq!(meta.permissions().mode() & 0o7777, 0o644);
        assert_eq!(meta.uid(), nix::unistd::geteuid().as_raw());
        dir.remove(OsStr::new("x.pid")).unwrap();
        dir.remove(OsStr::new("x.pid")).unwrap();
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn refuses_symlinked_and_writable_directories() {
        let d = scratch("refuse");
        std::fs::create_dir(d.join("real")).unwrap();
        std::os::unix::fs::symlink(d.join("real"), d.join("link")).unwrap();
        // A symlink below a trusted base is never followed.
        let e = StateDir::open_below(&d, Path::new("link"), true).unwrap_err();
        assert!(e.to_string().contains("symlink"), "{e}");
        assert!(!d.join("real/x").exists());
        // A world-writable directory is refused, sticky or not.
        for mode in [0o777, 0o1777, 0o775] {
            let w = d.join(format!("w{mode:o}"));
            std::fs::create_dir(&w).unwrap();
            std::fs::set_permissions(&w, std::fs::Permissions::from_mode(mode)).unwrap();
            let e = StateDir::open(&w).unwrap_err();
            assert!(e.to_string().contains("writable by group or others"), "{e}");
        }
        // Below a sticky directory is fine (/tmp/x).
        let sticky = d.join("w1777");
        assert!(StateDir::open(&sticky.join("mine")).is_ok());
        // Below a world-writable, non-sticky one is not.
        assert!(StateDir::open(&d.join("w777/mine")).is_err());
        assert!(StateDir::open(Path::new("relative")).is_err());
        assert!(StateDir::open_below(&d, Path::new("../x"), true).is_err());
        let e = StateDir::open_below(&d, Path::new("missing"), false).unwrap_err();
        assert!(
            matches!(&e, Error::StateFile { source, .. } if source.kind() == std::io::ErrorKind::NotFound),
            "{e}"
        );
        assert!(!d.join("missing").exists());
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn a_symlink_in_a_root_only_directory_is_followed_with_open() {
        // /var/run -> /run on every Debian: made by root in a directory only root can write.
        let d = scratch("rootlink");
        std::fs::create_dir(d.join("real")).unwrap();
        std::os::unix::fs::symlink(d.join("real"), d.join("link")).unwrap();
        let parent_is_roots = std::fs::metadata(&d).unwrap().uid() == 0;
        let opened = StateDir::open(&d.join("link/state"));
        assert_eq!(opened.is_ok(), parent_is_roots, "{opened:?}");
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn clear_for_daemon_removes_symlinks_and_keeps_our_files() {
        let d = scratch("daemon");
        let victim = d.join("victim");
        std::fs::write(&victim, "victim\n").unwrap();
        let pid = d.join("run/httpd.pid");
        std::fs::create_dir(d.join("run")).unwrap();
        std::os::unix::fs::symlink(&victim, &pid).unwrap();
        prepare_pid_path(&pid).unwrap();
        assert!(std::fs::symlink_metadata(&pid).is_err(), "symlink removed");
        assert!(victim.exists());
        std::fs::write(&pid, "77\n").unwrap();
        prepare_pid_path(&pid).unwrap();
        assert_eq!(std::fs::read_to_string(&pid).unwrap(), "77\n", "ours kept");
        std::fs::hard_link(&victim, d.join("run/other.pid")).unwrap();
        prepare_pid_path(&d.join("run/other.pid")).unwrap();
        assert!(!d.join("run/other.pid").exists(), "a hard link is removed");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "victim\n");
        std::fs::remove_dir_all(d).unwrap();
    }
}
