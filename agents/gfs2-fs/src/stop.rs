//! Stop: unmount, and when the mount is busy, signal the processes that use it (and only
//! those), all within the deadline.

use crate::config::{Config, ForceUnmount};
use mounts::{Mount, MountTable, bounded};
use nix::errno::Errno;
use nix::sys::signal::Signal;
use ocf::{Deadline, Error, Result, ResultExt, Status};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Unmount everything mounted below `cfg.identity.directory` (deepest first), then the directory.
pub fn unmount_all(cfg: &Config, deadline: Deadline) -> Result<()> {
    // Graceful signals get the first half of the time, forceful ones the rest.
    let graceful = deadline.share(0.5);
    let table = MountTable::read().or_generic(|| "reading the mount table")?;
    let mut targets: Vec<PathBuf> = table
        .below(&cfg.identity.directory)
        .iter()
        .map(|m| m.mount_point.clone())
        .collect();
    targets.push(cfg.identity.directory.clone());
    for t in targets {
        unmount_one(cfg, &t, graceful, deadline)?;
    }
    Ok(())
}

fn unmount_one(cfg: &Config, dir: &Path, graceful: Deadline, deadline: Deadline) -> Result<()> {
    let force = cfg.settings.fstype.starts_with("nfs")
        || matches!(cfg.settings.fstype.as_str(), "cifs" | "smbfs");
    loop {
        let table = MountTable::read().or_generic(|| "reading the mount table")?;
        let Some(target) = table.at(dir).cloned() else {
            return Ok(());
        };
        let path = dir.to_path_buf();
        let tried = bounded::run("umount2", deadline.end(), move || {
            mounts::syscalls::umount(&path, force).map_err(Box::new)
        });
        match tried {
            None => {
                return Err(Error::generic(format!(
                    "umount {} did not return before the stop timeout (storage hung?)",
                    dir.display()
                )));
            }
            Some(Ok(())) => {
                log::info!("unmounted {}", dir.display());
                continue; // a mount stacked below may now be visible
            }
            Some(Err(e)) if e.errno() == Errno::EINVAL => continue, // gone meanwhile
            Some(Err(e)) if e.errno() == Errno::EBUSY => {}
            Some(Err(e)) => return Err(Error::generic(e.to_string())),
        }
        let holders = scan(&target, &table, deadline)?;
        if cfg.settings.force_unmount == ForceUnmount::False {
            return Err(Error::generic(format!(
                "{} is busy ({}) and force_unmount=false: not killing",
                dir.display(),
                describe(&holders)
            )));
        }
        if deadline.expired() {
            return Err(Error::generic(format!(
                "could not unmount {} before the stop timeout: still used by {}",
                dir.display(),
                describe(&holders)
            )));
        }
        let signals = if graceful.expired() {
            &cfg.settings.kill_signals
        } else {
            &cfg.settings.term_signals
        };
        if holders.is_empty() {
            log::warn!(
                "{} is busy but no process uses it (a kernel user, another namespace?); retrying",
                dir.display()
            );
        }
        for h in &holders {
            for &sig in signals {
                send(h, sig);
            }
        }
        let delay = if graceful.expired() {
            cfg.settings.signal_delay
        } else {
            // Never let the graceful phase sleep into the forceful one's time.
            cfg.settings
                .signal_delay
                .min(graceful.remaining().max(Duration::from_millis(10)))
        };
        deadline.sleep(delay);
    }
}

/// The holders of `target`, found on a worker thread so that a stuck /proc read cannot
/// outlive the deadline.
fn scan(target: &Mount, table: &MountTable, deadline: Deadline) -> Result<Vec<mounts::Holder>> {
    let (t, tab) = (target.clone(), table.clone());
    bounded::run("holders", deadline.end(), move || {
        // Without /proc no holder can be found or signalled: the unmount is retried.
        mounts::holders::find(&t, &tab).unwrap_or_else(|e| {
            log::warn!("cannot look for the processes using the mount: {e}");
            Vec::new()
        })
    })
    .ok_or_else(|| {
        Error::new(
            Status::ErrGeneric,
            format!(
                "finding the processes using {} did not finish before the stop timeout",
                target.mount_point.display()
            ),
        )
    })
}

/// Signal a holder through the identity captured when it was found (pid, start time, user,
/// executable; a pidfd where the kernel has them): a process that exited and whose pid was
/// reused since the scan is never signalled.
fn send(h: &mounts::Holder, sig: Signal) {
    log::info!(
        "sending {} to pid {} ({}) using the mount through {:?}",
        sig.as_str(),
        h.pid(),
        h.comm(),
        h.uses
    );
    match h.process.signal(sig) {
        Ok(true) => {}
        Ok(false) => log::info!(
            "pid {} is gone or is not the process found using the mount any more: not signalled",
            h.pid()
        ),
        Err(e) => log::warn!("{e}"),
    }
}

fn describe(holders: &[mounts::Holder]) -> String {
    if holders.is_empty() {
        return "no process found".to_owned();
    }
    let list: Vec<String> = holders
        .iter()
        .take(10)
        .map(|h| format!("{} ({})", h.pid(), h.comm()))
        .collect();
    let more = holders.len().saturating_sub(10);
    if more > 0 {
        format!("pids {} and {more} more", list.join(", "))
    } else {
        format!("pids {}", list.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_holder_is_signalled_only_while_it_is_the_process_found() {
        // Issue 17: force_unmount signalled bare pids found earlier; a pid reused in between
        // got the signal. Here the "reused" pid is the same pid with another start time.
        let mut sleeper = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = i32::try_from(sleeper.id()).unwrap();
        let found = procs::ProcFs::system().capture(pid).unwrap().unwrap();
        let mut reused = found.clone();
        reused.id.start_time += 1;
        let stale = mounts::Holder {
            process: reused,
            uses: vec![mounts::holders::Use::Cwd],
        };
        send(&stale, Signal::SIGKILL);
        let soon = std::time::Instant::now() + Duration::from_millis(200);
        assert!(
            !procs::wait_gone(&[found.id], soon, Duration::from_millis(5)),
            "a process that is not the one found was signalled"
        );
        let holder = mounts::Holder {
            process: found.clone(),
            uses: vec![mounts::holders::Use::Cwd],
        };
        send(&holder, Signal::SIGKILL);
        sleeper.wait().unwrap();
        assert!(!found.is_alive());
    }
}
