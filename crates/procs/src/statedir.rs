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
//!
//! Below a directory others can write (the root of a mounted filesystem a web application
//! writes to), refusing what a user planted would let that user stop the agent from working
//! for good; [`StateDir::claim_below`] takes the name back instead: whatever is in the way
//! (a symlink, a file, another user's or a writable directory) is renamed aside in its
//! parent (renameat2(2) with RENAME_NOREPLACE; never followed, never deleted) and made anew.

use crate::Error;
use crate::safe_file::{Owner, SmallFile, trust};
use nix::errno::Errno;
use nix::fcntl::{AT_FDCWD, OFlag, RenameFlags, openat, renameat2};
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
    /// Opened by [`StateDir::claim_below`]: a directory in the way of a file is moved aside.
    claim: bool,
}

/// How many times one name is taken back before giving up (someone renaming things back as
/// fast as they are moved).
const CLAIM_TRIES: u32 = 3;

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
        walk(root, PathBuf::from("/"), path, Walk::OPEN)
    }

    /// `rel` below the directory `base`, which the caller trusts (a mount point the
    /// administrator configured; it is not checked). No symlink below `base` is followed;
    /// every directory below it is created `0755` where missing (with `create`; else a
    /// missing one is an error of kind NotFound) and must be owned by root (or this user)
    /// and not writable by group or others. An empty `rel` is `base` itself.
    pub fn open_below(base: &Path, rel: &Path, create: bool) -> Result<StateDir, Error> {
        let how = Walk {
            create,
            ..Walk::BELOW
        };
        below(base, rel, how)
    }

    /// `rel` below `base` as [`StateDir::open_below`] with `create`, but taking each name
    /// back from whoever else can write there: what is in the way (a symlink, a file or FIFO,
    /// a directory of another user or writable by others) is renamed aside in its parent
    /// (`NAME.moved-aside-SECONDS-PID`, logged; never followed, never deleted) and the
    /// directory made anew. Files created in the result ([`StateDir::create_file`]) move a
    /// directory planted at their name aside the same way. For a state directory inside a
    /// filesystem that local users write, where refusing would let any of them stop the
    /// agent from working.
    pub fn claim_below(base: &Path, rel: &Path) -> Result<StateDir, Error> {
        below(base, rel, Walk::CLAIM)
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
        match self.remove(name) {
            Err(Error::StateFile { source, .. })
                if self.claim && source.raw_os_error() == Some(libc::EISDIR) =>
            {
                move_aside(
                    &self.fd,
                    name,
                    &path,
                    "a directory is in the way of the file",
                )?;
            }
            other => other?,
        }
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

/// How [`walk`] treats the directories on its way.
#[derive(Debug, Clone, Copy)]
struct Walk {
    /// Follow a symlink found in a directory only root can write (`/var/run -> /run`).
    trust_root_links: bool,
    /// Make a missing directory.
    create: bool,
    /// Move what is in the way aside and make the directory anew, rather than refuse.
    claim: bool,
}

impl Walk {
    const OPEN: Walk = Walk {
        trust_root_links: true,
        create: true,
        claim: false,
    };
    const BELOW: Walk = Walk {
        trust_root_links: false,
        create: true,
        claim: false,
    };
    const CLAIM: Walk = Walk {
        trust_root_links: false,
        create: true,
        claim: true,
    };
}

/// `rel` below the trusted directory `base`.
fn below(base: &Path, rel: &Path, how: Walk) -> Result<StateDir, Error> {
    let fd = open_dir(AT_FDCWD, base, true).map_err(|e| io(base, e))?;
    if rel.as_os_str().is_empty() {
        return Ok(StateDir {
            fd,
            path: base.to_owned(),
            claim: how.claim,
        });
    }
    walk(fd, base.to_owned(), rel, how)
}

/// Walk `rel` from the open directory `fd` (at `at`), creating and checking each step.
fn walk(mut fd: OwnedFd, mut at: PathBuf, rel: &Path, how: Walk) -> Result<StateDir, Error> {
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
        let mut tries = 0;
        let (next, st) = loop {
            match step(&fd, name, &at, &parent_st, last, how) {
                Err(Error::UnsafeStateDir { why, .. }) if how.claim && tries < CLAIM_TRIES => {
                    tries += 1;
                    move_aside(&fd, name, &at, &why)?;
                }
                other => break other?,
            }
        };
        fd = next;
        parent_st = st;
    }
    Ok(StateDir {
        fd,
        path: at,
        claim: how.claim,
    })
}

/// Open (or make) the directory `name` in `parent` and check it.
fn step(
    parent: &OwnedFd,
    name: &OsStr,
    at: &Path,
    parent_st: &FileStat,
    last: bool,
    how: Walk,
) -> Result<(OwnedFd, FileStat), Error> {
    let next = match open_dir(parent, Path::new(name), false) {
        Ok(next) => next,
        Err(Errno::ENOENT) if how.create => {
            match mkdirat(parent, name, Mode::from_bits_truncate(0o755)) {
                Ok(()) | Err(Errno::EEXIST) => {}
                Err(e) => return Err(io(at, e)),
            }
            open_dir(parent, Path::new(name), false).map_err(|e| io(at, e))?
        }
        // ELOOP: a symlink (ENOTDIR: O_NOFOLLOW|O_DIRECTORY on some kernels).
        Err(Errno::ELOOP | Errno::ENOTDIR) if is_symlink(parent, name) => {
            let root_made = parent_st.st_uid == 0 && !writable_by_others(parent_st);
            if !(how.trust_root_links && root_made) {
                return Err(unsafe_dir(
                    at,
                    "is a symlink; refusing to follow it (remove it: the agent recreates \
                     the directory)",
                ));
            }
            open_dir(parent, Path::new(name), true).map_err(|e| io(at, e))?
        }
        Err(Errno::ENOTDIR) => return Err(unsafe_dir(at, "is not a directory")),
        Err(e) => return Err(io(at, e)),
    };
    let st = fstat(&next).map_err(|e| io(at, e))?;
    if !trusted_owner(&st) {
        return Err(unsafe_dir(
            at,
            &format!("is owned by uid {}, not root", st.st_uid),
        ));
    }
    if writable_by_others(&st) && (last || !sticky(&st)) {
        return Err(unsafe_dir(
            at,
            &format!(
                "is writable by group or others (mode {:o})",
                st.st_mode & 0o7777
            ),
        ));
    }
    Ok((next, st))
}

/// Rename `name` in `dir` (at `path`) aside, to a name nothing has: it was in the way
/// because of `why`.
fn move_aside(dir: &OwnedFd, name: &OsStr, path: &Path, why: &str) -> Result<(), Error> {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    for n in 0..100 {
        let mut aside = name.to_owned();
        aside.push(format!(".moved-aside-{secs}-{}-{n}", std::process::id()));
        match renameat2(
            dir,
            name,
            dir,
            aside.as_os_str(),
            RenameFlags::RENAME_NOREPLACE,
        ) {
            Ok(()) => {
                log::warn!(
                    "{} {why}: moved aside to {}",
                    path.display(),
                    path.with_file_name(&aside).display()
                );
                return Ok(());
            }
            // Gone meanwhile: nothing is in the way any more.
            Err(Errno::ENOENT) => return Ok(()),
            Err(Errno::EEXIST) => {}
            Err(e) => return Err(io(path, e)),
        }
    }
    Err(io(path, Errno::EEXIST))
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
        crate::test_support::scratch(&format!("statedir-{tag}"))
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

    /// What a user who can write `base` may plant at a state directory's name, each moved
    /// aside by `claim_below` (never followed, never deleted) and replaced by a directory of
    /// ours, where `open_below` refuses it.
    #[test]
    fn claim_below_moves_whatever_is_in_the_way_aside() {
        let d = scratch("claim");
        let elsewhere = d.join("elsewhere");
        std::fs::create_dir(&elsewhere).unwrap();
        let status = d.join(".status");
        let plant: [(&str, &dyn Fn()); 4] = [
            ("a symlink", &|| {
                std::os::unix::fs::symlink(&elsewhere, &status).unwrap();
            }),
            ("a file", &|| std::fs::write(&status, "x").unwrap()),
            ("a FIFO", &|| {
                nix::unistd::mkfifo(&status, Mode::from_bits_truncate(0o666)).unwrap();
            }),
            ("a directory others can write", &|| {
                std::fs::create_dir(&status).unwrap();
                std::fs::set_permissions(&status, std::fs::Permissions::from_mode(0o777)).unwrap();
                std::fs::write(status.join("theirs"), "kept").unwrap();
            }),
        ];
        for (what, plant) in plant {
            plant();
            assert!(
                StateDir::open_below(&d, Path::new(".status"), true).is_err(),
                "open_below refuses {what}"
            );
            let dir = StateDir::claim_below(&d, Path::new(".status")).unwrap();
            let meta = std::fs::symlink_metadata(&status).unwrap();
            assert!(meta.is_dir(), "{what}");
            assert_eq!(meta.permissions().mode() & 0o7777, 0o755, "{what}");
            dir.create_file(OsStr::new("node1"), 0o644, OFlag::empty())
                .unwrap();
            assert!(status.join("node1").is_file(), "{what}");
            let aside: Vec<_> = std::fs::read_dir(&d)
                .unwrap()
                .flatten()
                .filter(|e| {
                    e.file_name()
                        .to_string_lossy()
                        .starts_with(".status.moved-aside-")
                })
                .map(|e| e.path())
                .collect();
            assert_eq!(aside.len(), 1, "{what}: {aside:?}");
            assert!(
                std::fs::read_dir(&elsewhere).unwrap().next().is_none(),
                "{what}: nothing written through it"
            );
            if what.starts_with("a directory") {
                assert_eq!(
                    std::fs::read_to_string(aside[0].join("theirs")).unwrap(),
                    "kept"
                );
            }
            for p in aside {
                if std::fs::symlink_metadata(&p).unwrap().is_dir() {
                    std::fs::remove_dir_all(&p).unwrap();
                } else {
                    std::fs::remove_file(&p).unwrap();
                }
            }
            std::fs::remove_dir_all(&status).unwrap();
        }
        // A directory planted at a file's name, in a directory claimed.
        let dir = StateDir::claim_below(&d, Path::new("")).unwrap();
        std::fs::create_dir(d.join("status-node1")).unwrap();
        let refused = StateDir::open_below(&d, Path::new(""), false)
            .unwrap()
            .create_file(OsStr::new("status-node1"), 0o644, OFlag::empty());
        assert!(refused.is_err(), "open_below's files do not move it");
        dir.create_file(OsStr::new("status-node1"), 0o644, OFlag::empty())
            .unwrap();
        assert!(d.join("status-node1").is_file());
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
