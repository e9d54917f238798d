//! A process as a scan found it ([`Captured`]: pid, start time, uids, executable), what a
//! process must be to count as ours ([`Expect`]), and signals sent only while the process
//! is still the one captured.
//!
//! This is how an agent acts on processes it did not start in this very call (a daemon found
//! by a probe, a holder of a mount found by a scan, an announcer named in a pid file): a
//! look-alike (same name, another binary or another user) never matches, and a pid that was
//! reused, or a process that ran execve(2) or changed user since the scan, is never
//! signalled.

use crate::process::{exe_is, signal_checked, strip_deleted};
use crate::procfs::{ProcFs, Uids};
use crate::{Error, Identity, Signal};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// A process captured at scan time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Captured {
    pub id: Identity,
    pub uids: Uids,
    /// The resolved executable (readlink of `/proc/<pid>/exe`), None when unreadable (a
    /// kernel thread, a process exiting).
    pub exe: Option<PathBuf>,
    /// The command name, for logs.
    pub comm: String,
}

impl Captured {
    pub fn pid(&self) -> i32 {
        self.id.pid
    }

    /// True when `now` is the same process as captured: same pid and start time, same
    /// uids, same executable (a binary replaced on disk since still counts).
    fn same_as(&self, now: &Captured) -> bool {
        self.id == now.id
            && self.uids == now.uids
            && self.exe.as_deref().map(strip_deleted) == now.exe.as_deref().map(strip_deleted)
    }

    /// True while the process with this pid in `procfs` is still the one captured.
    pub fn still_matches(&self, procfs: &ProcFs) -> bool {
        procfs
            .capture(self.id.pid)
            .ok()
            .flatten()
            .is_some_and(|now| self.same_as(&now))
    }

    /// Send `signal` if the process is still the one captured (system /proc): `Ok(false)`
    /// when it is gone or is not that process any more (nothing sent). Through a pidfd where
    /// the kernel has them, so no pid reuse can redirect it.
    pub fn signal(&self, signal: Signal) -> Result<bool, Error> {
        signal_checked(self.id.pid, signal, || {
            self.still_matches(&ProcFs::system())
        })
    }

    /// True while the captured process runs (not a zombie, same identity).
    pub fn is_alive(&self) -> bool {
        self.id.is_alive()
    }
}

/// What a process must be to count as ours: which program it executes, which user runs it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expect {
    program: Option<Program>,
    uid: Option<u32>,
}

/// A program, its symlinks resolved when the expectation was made, and the file it is.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Program {
    path: PathBuf,
    /// (st_dev, st_ino) of the program file, when it exists: a process of another mount
    /// namespace (a container) running its own copy at the same path is not ours.
    file: Option<(u64, u64)>,
}

impl Expect {
    /// Any process (narrow it with [`Expect::program`] and [`Expect::uid`]).
    pub fn any() -> Expect {
        Expect::default()
    }

    /// Processes executing `program` (its symlinks resolved now). A process whose binary
    /// was replaced on disk since it started (a package upgrade) still counts.
    #[must_use]
    pub fn program(mut self, program: &Path) -> Expect {
        let path = std::fs::canonicalize(program).unwrap_or_else(|_| program.to_owned());
        let file = std::fs::metadata(&path).ok().map(|m| (m.dev(), m.ino()));
        self.program = Some(Program { path, file });
        self
    }

    /// Processes whose real and effective uid are both `uid`.
    #[must_use]
    pub fn uid(mut self, uid: u32) -> Expect {
        self.uid = Some(uid);
        self
    }

    /// Processes run by the user this process runs as (root, for an agent under
    /// Pacemaker; the test's user in an unprivileged test).
    #[must_use]
    pub fn same_user(self) -> Expect {
        self.uid(nix::unistd::geteuid().as_raw())
    }

    /// True when `c`, found in `procfs`, is what is expected.
    pub fn matches(&self, c: &Captured, procfs: &ProcFs) -> bool {
        if let Some(uid) = self.uid
            && (c.uids.real != uid || c.uids.effective != uid)
        {
            return false;
        }
        match &self.program {
            None => true,
            Some(program) => c.exe.as_deref().is_some_and(|exe| {
                exe_is(exe, &program.path) && same_file(procfs, c.id.pid, exe, program)
            }),
        }
    }
}

/// True unless the executable is provably another file than the program (another mount
/// namespace's copy at the same path). Skipped for a replaced binary (its old inode differs
/// by design) and where the file cannot be looked at (a fake tree, a process gone).
fn same_file(procfs: &ProcFs, pid: i32, exe: &Path, program: &Program) -> bool {
    let Some(wanted) = program.file else {
        return true;
    };
    if strip_deleted(exe).len() != exe.as_os_str().len() {
        return true;
    }
    // stat(2) through the magic link: the file the process executes, not a path lookup.
    match std::fs::metadata(procfs.path(pid, "exe")) {
        Ok(m) => (m.dev(), m.ino()) == wanted,
        Err(_) => true,
    }
}

impl ProcFs {
    /// Capture the process `pid`: `Ok(None)` when it is gone or a zombie. `stat` is read
    /// again after the uids and the executable, so that all of them belong to one process
    /// even if the pid was reused meanwhile (then `Ok(None)`).
    pub fn capture(&self, pid: i32) -> Result<Option<Captured>, Error> {
        let Some(p) = self.process(pid)?.filter(crate::Process::is_running) else {
            return Ok(None);
        };
        let Some(uids) = self.uids(pid) else {
            return Ok(None);
        };
        let exe = self.exe(pid);
        if self.identity(pid) != Some(p.identity()) {
            return Ok(None);
        }
        Ok(Some(Captured {
            id: p.identity(),
            uids,
            exe,
            comm: p.comm,
        }))
    }

    /// Every process that is what `expect` says, captured. With a program expected, only
    /// the executable link of each process is read until one matches.
    pub fn find(&self, expect: &Expect) -> Result<Vec<Captured>, Error> {
        let mut out = Vec::new();
        for pid in self.pids()? {
            if let Some(program) = &expect.program
                && !self.exe(pid).is_some_and(|exe| exe_is(&exe, &program.path))
            {
                continue;
            }
            if let Some(c) = self.capture(pid)?
                && expect.matches(&c, self)
            {
                out.push(c);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake::FakeProcess;
    use crate::test_support::scratch;
    use std::fs;
    use std::process::Command;

    fn add(root: &Path, pid: i32, comm: &str, state: char, uid: u32, exe: &str) {
        FakeProcess::new(pid, comm)
            .state(state)
            .uid(uid)
            .start_time(5000 + u64::try_from(pid).unwrap())
            .exe(exe)
            .write(root)
            .unwrap();
    }

    #[test]
    fn finds_the_daemon_by_executable_and_user_not_by_name() {
        let root = scratch("captured-fake");
        let daemon = "/usr/sbin/dlm_controld";
        add(&root, 100, "dlm_controld", 'S', 0, daemon);
        add(
            &root,
            150,
            "dlm_controld",
            'S',
            0,
            "/usr/sbin/dlm_controld (deleted)",
        );
        add(&root, 200, "dlm_controld", 'Z', 0, daemon);
        add(&root, 300, "dlm_controld", 'S', 65534, "/usr/bin/bash");
        add(&root, 400, "dlm_controld", 'S', 65534, daemon);
        add(&root, 500, "bash", 'S', 0, "/usr/bin/bash");
        let fake = ProcFs::at(&root);
        let expect = Expect::any().program(Path::new(daemon)).uid(0);
        let found: Vec<i32> = fake
            .find(&expect)
            .unwrap()
            .iter()
            .map(Captured::pid)
            .collect();
        assert_eq!(
            found,
            [100, 150],
            "the zombie, bash named dlm_controld and nobody's copy are not the daemon"
        );
        let nobodys: Vec<i32> = fake
            .find(&Expect::any().uid(65534))
            .unwrap()
            .iter()
            .map(Captured::pid)
            .collect();
        assert_eq!(nobodys, [300, 400]);
        let c = fake.capture(100).unwrap().unwrap();
        assert_eq!(c.id.start_time, 5100);
        assert_eq!(c.comm, "dlm_controld");
        assert!(c.still_matches(&fake));
        // The process runs another program now (execve keeps pid and start time).
        fs::remove_file(root.join("100/exe")).unwrap();
        std::os::unix::fs::symlink("/usr/bin/bash", root.join("100/exe")).unwrap();
        assert!(!c.still_matches(&fake));
        assert_eq!(fake.capture(200).unwrap(), None, "a zombie is not captured");
        assert_eq!(fake.capture(999).unwrap(), None);
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn signals_only_the_captured_process() {
        let sys = ProcFs::system();
        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        let pid = i32::try_from(child.id()).unwrap();
        let c = sys.capture(pid).unwrap().unwrap();
        let sleep = c.exe.clone().unwrap();
        assert!(Expect::any().program(&sleep).same_user().matches(&c, &sys));
        assert!(
            !Expect::any()
                .program(Path::new("/bin/sh"))
                .matches(&c, &sys)
        );
        assert!(
            !Expect::any()
                .uid(nix::unistd::geteuid().as_raw() + 1)
                .matches(&c, &sys)
        );
        assert!(
            sys.find(&Expect::any().program(&sleep).same_user())
                .unwrap()
                .iter()
                .any(|f| f.id == c.id)
        );
        // Another start time is another process: never signalled.
        let mut other = c.clone();
        other.id.start_time += 1;
        assert!(!other.signal(Signal::SIGKILL).unwrap());
        // Another user captured: never signalled.
        let mut other = c.clone();
        other.uids.real += 1;
        assert!(!other.signal(Signal::SIGKILL).unwrap());
        let soon = std::time::Instant::now() + std::time::Duration::from_millis(200);
        assert!(
            !crate::wait_gone(&[c.id], soon, std::time::Duration::from_millis(5)),
            "nothing was sent"
        );
        assert!(c.signal(Signal::SIGKILL).unwrap());
        child.wait().unwrap();
        assert!(!c.is_alive());
        assert!(!c.signal(Signal::SIGKILL).unwrap(), "gone: nothing sent");
    }
}
