//! The seam between the policy ([`crate::logic`]) and the machine: everything gfs2-fs asks
//! of the kernel and the cluster, and nothing more. [`System`] is the real one (crates
//! mounts, procs, gfs2-superblock, child; what can hang on dead storage through
//! [`crate::isolated`]); the policy's unit tests use a fake that needs no root, no loop
//! device and no cluster.

use crate::corosync;
use crate::isolated::{self, Call, CallError};
use mounts::holders::{Device, DeviceUsers, Namespace};
use mounts::mountinfo::MountInfoError;
use mounts::{DeviceSpec, MountTable};
use nix::sys::signal::Signal;
use procs::{Captured, ProcFs};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The depth-20 status file: `rel` below the mount point `mount`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusFile {
    pub mount: PathBuf,
    pub rel: PathBuf,
}

impl StatusFile {
    /// Its full path, for messages.
    pub fn path(&self) -> PathBuf {
        self.mount.join(&self.rel)
    }
}

/// One unmount: `target` as the mount namespace it is in sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmount {
    pub target: PathBuf,
    /// MNT_FORCE (`umount -f`), for network filesystems.
    pub force: bool,
    /// In the mount namespace of this process (captured when it was found there); None for
    /// this agent's own namespace.
    pub namespace: Option<procs::Identity>,
    /// Remove this status file first (best effort, in the same helper process).
    pub remove_first: Option<StatusFile>,
    /// Once unmounted (in this agent's namespace), tell whether this block device is still
    /// in use ([`Host::in_use`]), in the same helper process.
    pub then_check: Option<PathBuf>,
}

/// What gfs2-fs needs from the host. The calls that can sleep uninterruptibly on dead
/// storage take the deadline and answer [`CallError::TimedOut`] at it, leaving the stuck
/// call behind.
pub trait Host {
    /// This process's mount table (`/proc/self/mountinfo`): no device I/O, no stat().
    fn mount_table(&self) -> Result<MountTable, MountInfoError>;
    /// The device node `spec` names, through the path or udev's links alone (no device
    /// I/O): `Ok(None)` for a UUID or label without a link.
    fn device_by_link(&self, spec: &DeviceSpec) -> std::io::Result<Option<PathBuf>>;
    /// A `UUID=`/`LABEL=` device found by reading the superblocks of the block devices
    /// (`blkid -t`), bounded: `Ok(None)` when no device has it.
    fn probe_device(&self, spec: &DeviceSpec, end: Instant) -> Result<Option<PathBuf>, CallError>;
    /// The device number of a block device node (stat of the node, never of a mount).
    fn device_number(&self, node: &Path) -> Option<Device>;
    /// The GFS2 superblock of `dev` (`tunegfs2 -l`), bounded: [`CallError::Refused`] when
    /// the device holds none.
    fn superblock(
        &self,
        dev: &Path,
        end: Instant,
    ) -> Result<gfs2_superblock::Superblock, CallError>;
    /// corosync's `totem.cluster_name` (corosync.conf).
    fn cluster_name(&self) -> std::io::Result<Option<String>>;
    /// True when DLM's configfs shows a cluster (dlm_controld runs).
    fn dlm_running(&self) -> bool;
    /// True when the kernel knows the filesystem type (`/proc/filesystems`).
    fn kernel_knows(&self, fstype: &str) -> bool;
    /// `modprobe <module>`, bounded.
    fn load_module(&self, module: &str, end: Instant) -> ocf::Result<()>;
    /// `fsck -t <fstype> -p <dev>`, bounded.
    fn fsck(&self, fstype: &str, dev: &str, end: Instant) -> Result<child::Output, child::Error>;
    /// `mkdir -p` the mount point.
    fn make_mount_point(&self, dir: &Path) -> std::io::Result<()>;
    /// mount(2) (`mount -t <fstype> -o <options> <source> <target>`), bounded.
    fn mount(
        &self,
        source: &str,
        target: &Path,
        fstype: &str,
        options: &str,
        end: Instant,
    ) -> Result<(), CallError>;
    /// umount2(2), here or in another mount namespace, bounded; with `then_check`, whether
    /// that device is still in use afterwards.
    fn unmount(&self, request: &Unmount, end: Instant) -> Result<Option<bool>, CallError>;
    /// Who uses `device`, in every mount namespace (`fuser -m`, and the other namespaces
    /// that have it mounted), bounded.
    fn users(&self, device: Device, end: Instant) -> Result<DeviceUsers, CallError>;
    /// The other mount namespaces that have `device` mounted (a cheap walk: no process's
    /// files are read).
    fn namespaces_with(&self, device: Device) -> Result<Vec<Namespace>, procs::Error>;
    /// Send `signal` to `process` if it is still the process captured (pid, start time,
    /// user, executable; through a pidfd): `Ok(false)` when it is gone or another.
    fn signal(&self, process: &Captured, signal: Signal) -> Result<bool, procs::Error>;
    /// True while anything holds the block device `node` (a mounted filesystem anywhere, a
    /// driver): an exclusive open is refused, bounded.
    fn in_use(&self, node: &Path, end: Instant) -> Result<bool, CallError>;
    /// Read the first block of `dev` with O_DIRECT (`dd iflag=direct`), bounded.
    fn read_block(&self, dev: &Path, end: Instant) -> Result<(), CallError>;
    /// Whether the kernel has withdrawn the GFS2 filesystem on `device`: a withdrawn GFS2
    /// (after an I/O or locking error) stays mounted and refuses all I/O. None when the kernel
    /// shows no GFS2 filesystem on that device.
    fn gfs2_withdrawn(&self, device: Device) -> std::io::Result<Option<bool>>;
    /// Write `content` to the status file with O_DIRECT|O_SYNC and read it back, never
    /// through anything planted below the mount point, bounded.
    fn write_status_file(
        &self,
        file: &StatusFile,
        content: &str,
        end: Instant,
    ) -> Result<(), CallError>;
}

/// What DLM's configfs shows once dlm_controld runs.
pub const DLM_CLUSTER: &str = "/sys/kernel/config/dlm/cluster";

/// One directory per mounted GFS2 filesystem, named after its lock table.
pub const GFS2_SYSFS: &str = "/sys/fs/gfs2";

/// The GFS2 filesystem on `device` under `sysfs` (GFS2_SYSFS): its entry's `id` is the
/// device's "major:minor", its `withdraw` reads 1 once the kernel withdrew it. Plain reads of
/// kernel memory: they do not wait on the storage.
pub fn gfs2_withdrawn_in(sysfs: &Path, device: Device) -> std::io::Result<Option<bool>> {
    let entries = match std::fs::read_dir(sysfs) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let wanted = format!("{}:{}", device.major, device.minor);
    for entry in entries {
        let dir = entry?.path();
        let Ok(id) = std::fs::read_to_string(dir.join("id")) else {
            continue;
        };
        if id.trim() == wanted {
            let withdraw = std::fs::read_to_string(dir.join("withdraw"))?;
            return Ok(Some(withdraw.trim() != "0"));
        }
    }
    Ok(None)
}

/// The real host.
#[derive(Debug, Default)]
pub struct System;

impl Host for System {
    fn mount_table(&self) -> Result<MountTable, MountInfoError> {
        MountTable::read()
    }

    fn device_by_link(&self, spec: &DeviceSpec) -> std::io::Result<Option<PathBuf>> {
        spec.resolve_by_link()
    }

    fn probe_device(&self, spec: &DeviceSpec, end: Instant) -> Result<Option<PathBuf>, CallError> {
        let text = match spec {
            DeviceSpec::Uuid(u) => format!("UUID={u}"),
            DeviceSpec::Label(l) => format!("LABEL={l}"),
            _ => return Ok(None),
        };
        isolated::run(&Call::FindDevice(text), end).map(|a| isolated::path_of(&a))
    }

    fn device_number(&self, node: &Path) -> Option<Device> {
        mounts::device::block_device_number(node).map(|(major, minor)| Device { major, minor })
    }

    fn superblock(
        &self,
        dev: &Path,
        end: Instant,
    ) -> Result<gfs2_superblock::Superblock, CallError> {
        let answer = isolated::run(&Call::Superblock(dev.to_owned()), end)?;
        isolated::superblock_of(&answer)
            .ok_or_else(|| CallError::Helper("the superblock reply is incomplete".into()))
    }

    fn cluster_name(&self) -> std::io::Result<Option<String>> {
        corosync::read_cluster_name(Path::new(corosync::COROSYNC_CONF))
    }

    fn dlm_running(&self) -> bool {
        Path::new(DLM_CLUSTER).exists()
    }

    fn gfs2_withdrawn(&self, device: Device) -> std::io::Result<Option<bool>> {
        gfs2_withdrawn_in(Path::new(GFS2_SYSFS), device)
    }

    fn kernel_knows(&self, fstype: &str) -> bool {
        std::fs::read_to_string("/proc/filesystems").is_ok_and(|t| {
            t.lines()
                .any(|l| l.split_whitespace().last() == Some(fstype))
        })
    }

    fn load_module(&self, module: &str, end: Instant) -> ocf::Result<()> {
        ocf::kernel::load_module(module, &[], end)
    }

    fn fsck(&self, fstype: &str, dev: &str, end: Instant) -> Result<child::Output, child::Error> {
        child::run("fsck", &["-t", fstype, "-p", dev], end)
    }

    fn make_mount_point(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)
    }

    fn mount(
        &self,
        source: &str,
        target: &Path,
        fstype: &str,
        options: &str,
        end: Instant,
    ) -> Result<(), CallError> {
        let call = Call::Mount {
            source: source.to_owned(),
            target: target.to_owned(),
            fstype: fstype.to_owned(),
            options: options.to_owned(),
        };
        isolated::run(&call, end).map(drop)
    }

    fn unmount(&self, request: &Unmount, end: Instant) -> Result<Option<bool>, CallError> {
        let answer = isolated::run(&Call::Unmount(request.clone()), end)?;
        Ok(isolated::in_use_of(&answer))
    }

    fn users(&self, device: Device, end: Instant) -> Result<DeviceUsers, CallError> {
        // Reading another process's maps waits for its mmap lock, killably: a thread will
        // do, the process can still exit at the deadline.
        mounts::bounded::run("holders", end, move || {
            mounts::holders::device_users(&ProcFs::system(), device)
        })
        .ok_or_else(|| CallError::Refused("the walk of /proc did not finish in time".into()))?
        .map_err(|e| CallError::Refused(e.to_string()))
    }

    fn namespaces_with(&self, device: Device) -> Result<Vec<Namespace>, procs::Error> {
        mounts::holders::namespaces_with(&ProcFs::system(), device)
    }

    fn signal(&self, process: &Captured, signal: Signal) -> Result<bool, procs::Error> {
        process.signal(signal)
    }

    fn in_use(&self, node: &Path, end: Instant) -> Result<bool, CallError> {
        let answer = isolated::run(&Call::InUse(node.to_owned()), end)?;
        isolated::in_use_of(&answer)
            .ok_or_else(|| CallError::Helper("the in-use reply is incomplete".into()))
    }

    fn read_block(&self, dev: &Path, end: Instant) -> Result<(), CallError> {
        isolated::run(&Call::ReadBlock(dev.to_owned()), end).map(drop)
    }

    fn write_status_file(
        &self,
        file: &StatusFile,
        content: &str,
        end: Instant,
    ) -> Result<(), CallError> {
        let call = Call::WriteStatus {
            file: file.clone(),
            content: content.to_owned(),
        };
        isolated::run(&call, end).map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// /sys/fs/gfs2 as kernel 6.12 lays it out (fs/gfs2/sys.c: a directory per filesystem
    /// named after its lock table, `id` "major:minor", `withdraw` "0" or "1").
    #[test]
    fn the_withdraw_state_is_read_from_the_entry_of_the_mounted_device() {
        let root = std::env::temp_dir().join(format!("gfs2-sysfs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for (table, id, withdraw) in [
            ("mycluster:web", "147:1\n", "1\n"),
            ("loop0", "7:0\n", "0\n"),
        ] {
            let dir = root.join(table);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("id"), id).unwrap();
            std::fs::write(dir.join("withdraw"), withdraw).unwrap();
        }
        let dev = |major, minor| Device { major, minor };
        assert_eq!(gfs2_withdrawn_in(&root, dev(147, 1)).unwrap(), Some(true));
        assert_eq!(gfs2_withdrawn_in(&root, dev(7, 0)).unwrap(), Some(false));
        assert_eq!(gfs2_withdrawn_in(&root, dev(147, 2)).unwrap(), None);
        assert_eq!(
            gfs2_withdrawn_in(&root.join("absent"), dev(147, 1)).unwrap(),
            None,
            "no GFS2 module loaded: no /sys/fs/gfs2"
        );
        std::fs::remove_dir_all(&root).unwrap();
    }

    /// Issue 17: force_unmount signalled bare pids found earlier; a pid reused in between got
    /// the signal. A holder is signalled through what was captured when it was found: here
    /// the "reused" pid is the same pid with another start time.
    #[test]
    fn a_holder_is_signalled_only_while_it_is_the_process_found() {
        let mut sleeper = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = i32::try_from(sleeper.id()).unwrap();
        let found = ProcFs::system().capture(pid).unwrap().unwrap();
        let mut reused = found.clone();
        reused.id.start_time += 1;
        assert!(!System.signal(&reused, Signal::SIGKILL).unwrap());
        let soon = Instant::now() + std::time::Duration::from_millis(200);
        assert!(
            !procs::wait_gone(&[found.id], soon, std::time::Duration::from_millis(5)),
            "a process that is not the one found was signalled"
        );
        assert!(System.signal(&found, Signal::SIGKILL).unwrap());
        sleeper.wait().unwrap();
        assert!(!found.is_alive());
    }
}
