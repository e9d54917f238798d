//! The policy on a fake host: no root, no loop device, no cluster. The fake keeps a mount
//! table per mount namespace and the processes that use a filesystem, unmounts as the kernel
//! does (busy while a process uses the filesystem or something is mounted below; an unmount
//! propagates to another namespace's copy unless something uses it there), and records what
//! the policy asked; each test asserts what an administrator would check (the mount table
//! of every namespace, the exit code and reason, who was signalled).

use super::*;
use crate::Agent;
use crate::host::{Host, StatusFile, Unmount};
use mounts::holders::{DeviceUsers, Namespace};
use mounts::mountinfo::MountInfoError;
use ocf::config::Resolution;
use ocf::{Action, testing};
use procs::{Identity as ProcId, Uids};
use std::cell::{Cell, RefCell};
use std::time::Instant;

const DEV: &str = "/dev/drbd1";
const DIR: &str = "/srv/www";
const DRBD1: Device = Device {
    major: 147,
    minor: 1,
};
const ROOT_FS: Device = Device {
    major: 254,
    minor: 0,
};
/// Another mount namespace (a container, a service with PrivateTmp).
const CONTAINER: u64 = 4_026_532_900;

#[derive(Debug, Clone)]
struct FakeProc {
    pid: i32,
    comm: &'static str,
    /// The mount namespace it is in (None: the agent's).
    ns: Option<u64>,
    /// The filesystem it keeps busy, and how.
    holds: Option<(Device, Use)>,
    ignores_term: bool,
    alive: bool,
}

#[derive(Debug)]
struct Fake {
    /// The agent's mount namespace.
    table: RefCell<Vec<Mount>>,
    /// Other mount namespaces and their mounts.
    namespaces: RefCell<Vec<(u64, Vec<Mount>)>>,
    /// Mounts no mount table shows: in a private namespace no process is in (kept by a bind
    /// mount of its nsfs file), or unmounted lazily.
    unseen: RefCell<Vec<Mount>>,
    /// How many looks at the device in_use answers before one times out (None: all).
    in_use_answers_left: Cell<Option<u32>>,
    procs: RefCell<Vec<FakeProc>>,
    /// Block device nodes and their numbers.
    nodes: Vec<(&'static str, Device)>,
    superblock: RefCell<std::result::Result<gfs2_superblock::Superblock, CallError>>,
    cluster: Option<&'static str>,
    dlm: bool,
    known_types: Vec<&'static str>,
    mount_fails: Option<CallError>,
    unmount_hangs: bool,
    read_block: std::result::Result<(), CallError>,
    write_status: std::result::Result<(), CallError>,
    /// Devices whose GFS2 the kernel has withdrawn.
    withdrawn: RefCell<Vec<Device>>,
    /// What was asked, in order.
    mounted: RefCell<Vec<String>>,
    unmounts: RefCell<Vec<Unmount>>,
    signals: RefCell<Vec<(i32, Signal)>>,
    status_written: RefCell<Vec<StatusFile>>,
    blocks_read: Cell<u32>,
    next_id: Cell<u32>,
    /// The calls the real host makes in a helper process or a child (those bounded by a
    /// deadline), in order.
    forked: RefCell<Vec<&'static str>>,
}

fn mount(id: u32, device: Device, mount_point: &str, fstype: &str, source: &str) -> Mount {
    Mount {
        id,
        parent: 1,
        major: device.major,
        minor: device.minor,
        root: PathBuf::from("/"),
        mount_point: PathBuf::from(mount_point),
        options: "rw,relatime".into(),
        fstype: fstype.into(),
        source: source.into(),
        super_options: "rw".into(),
    }
}

fn gfs2_sb(table: &str) -> gfs2_superblock::Superblock {
    gfs2_superblock::Superblock {
        fs_format: 1802,
        block_size: 4096,
        lock_proto: "lock_dlm".into(),
        lock_table: table.into(),
        uuid: [0; 16],
    }
}

fn kernel(errno: Errno, message: &str) -> CallError {
    CallError::Kernel {
        errno,
        message: message.into(),
    }
}

fn captured(p: &FakeProc) -> Captured {
    Captured {
        id: ProcId {
            pid: p.pid,
            start_time: 1000 + u64::try_from(p.pid).unwrap(),
        },
        uids: Uids {
            real: 33,
            effective: 33,
        },
        exe: None,
        comm: p.comm.into(),
    }
}

impl Fake {
    /// A node with the root filesystem, /dev/drbd1 (GFS2 of cluster "web") not mounted, and
    /// DLM running.
    fn new() -> Fake {
        Fake {
            table: RefCell::new(vec![mount(1, ROOT_FS, "/", "ext4", "/dev/vda1")]),
            namespaces: RefCell::new(Vec::new()),
            unseen: RefCell::new(Vec::new()),
            in_use_answers_left: Cell::new(None),
            procs: RefCell::new(Vec::new()),
            nodes: vec![(DEV, DRBD1), ("/dev/vda1", ROOT_FS)],
            superblock: RefCell::new(Ok(gfs2_sb("web:www"))),
            cluster: Some("web"),
            dlm: true,
            known_types: vec!["ext4", "xfs", "gfs2", "tmpfs", "nfs4"],
            mount_fails: None,
            unmount_hangs: false,
            read_block: Ok(()),
            write_status: Ok(()),
            withdrawn: RefCell::new(Vec::new()),
            mounted: RefCell::new(Vec::new()),
            unmounts: RefCell::new(Vec::new()),
            signals: RefCell::new(Vec::new()),
            status_written: RefCell::new(Vec::new()),
            blocks_read: Cell::new(0),
            next_id: Cell::new(100),
            forked: RefCell::new(Vec::new()),
        }
    }

    /// The same node with `device` already mounted on `dir` in the agent's namespace.
    fn with_mounted(self, device: Device, dir: &str, fstype: &str) -> Fake {
        self.add_mount(device, dir, fstype);
        self
    }

    fn add_mount(&self, device: Device, dir: &str, fstype: &str) {
        let source = self
            .nodes
            .iter()
            .find(|(_, d)| *d == device)
            .map_or(fstype, |(n, _)| *n);
        self.add_mount_of(source, device, dir, fstype);
    }

    fn add_mount_of(&self, source: &str, device: Device, dir: &str, fstype: &str) {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        self.table
            .borrow_mut()
            .push(mount(id, device, dir, fstype, source));
    }

    /// Another namespace that copied the agent's mounts of `device` (as `unshare -m
    /// --propagation slave` does).
    fn namespace_copy(&self, inode: u64, device: Device) {
        let copies: Vec<Mount> = self
            .table
            .borrow()
            .iter()
            .filter(|m| Device::of(m) == device)
            .map(|m| Mount {
                id: m.id + 1000,
                ..m.clone()
            })
            .collect();
        self.namespaces.borrow_mut().push((inode, copies));
    }

    fn process(&self, pid: i32, comm: &'static str, ns: Option<u64>, holds: Option<(Device, Use)>) {
        self.procs.borrow_mut().push(FakeProc {
            pid,
            comm,
            ns,
            holds,
            ignores_term: false,
            alive: true,
        });
    }

    fn alive(&self, pid: i32) -> bool {
        self.procs.borrow().iter().any(|p| p.pid == pid && p.alive)
    }

    /// Where `device` is mounted, as (namespace, mount point): what `findmnt` run in every
    /// namespace would list.
    fn where_mounted(&self, device: Device) -> Vec<(Option<u64>, PathBuf)> {
        let mut out: Vec<(Option<u64>, PathBuf)> = self
            .table
            .borrow()
            .iter()
            .filter(|m| Device::of(m) == device)
            .map(|m| (None, m.mount_point.clone()))
            .collect();
        for (ns, mounts) in self.namespaces.borrow().iter() {
            out.extend(
                mounts
                    .iter()
                    .filter(|m| Device::of(m) == device)
                    .map(|m| (Some(*ns), m.mount_point.clone())),
            );
        }
        out
    }

    /// True when a live process in namespace `ns` keeps `device` busy.
    fn busy_in(&self, ns: Option<u64>, device: Device) -> bool {
        self.procs
            .borrow()
            .iter()
            .any(|p| p.alive && p.ns == ns && p.holds.is_some_and(|(d, _)| d == device))
    }

    fn unmount_in(
        &self,
        mounts: &mut Vec<Mount>,
        ns: Option<u64>,
        target: &Path,
    ) -> std::result::Result<Device, CallError> {
        let Some(i) = mounts.iter().rposition(|m| m.mount_point == target) else {
            return Err(kernel(Errno::EINVAL, "umount: not mounted"));
        };
        let device = Device::of(&mounts[i]);
        let stacked = mounts
            .iter()
            .any(|m| m.mount_point != target && m.mount_point.starts_with(target));
        if stacked || self.busy_in(ns, device) {
            return Err(kernel(Errno::EBUSY, "umount: Device or resource busy"));
        }
        mounts.remove(i);
        Ok(device)
    }

    /// umount2(2) as the kernel answers it, in the namespace the request names.
    fn unmount_only(&self, request: &Unmount) -> std::result::Result<(), CallError> {
        self.unmounts.borrow_mut().push(request.clone());
        if self.unmount_hangs {
            return Err(CallError::TimedOut {
                waited: Duration::from_secs(2),
            });
        }
        let Some(process) = request.namespace else {
            let device = self.unmount_in(&mut self.table.borrow_mut(), None, &request.target)?;
            // Propagation: the copies in other namespaces go too, unless busy there.
            for (ns, mounts) in self.namespaces.borrow_mut().iter_mut() {
                if !self.busy_in(Some(*ns), device) {
                    mounts
                        .retain(|m| !(Device::of(m) == device && m.mount_point == request.target));
                }
            }
            return Ok(());
        };
        let ns = self
            .procs
            .borrow()
            .iter()
            .find(|p| p.pid == process.pid && p.alive)
            .and_then(|p| p.ns)
            .ok_or_else(|| kernel(Errno::ESRCH, "no such process"))?;
        let mut namespaces = self.namespaces.borrow_mut();
        let (_, mounts) = namespaces
            .iter_mut()
            .find(|(inode, _)| *inode == ns)
            .ok_or_else(|| kernel(Errno::ESRCH, "no such namespace"))?;
        self.unmount_in(mounts, Some(ns), &request.target).map(drop)
    }
}

impl Host for Fake {
    fn mount_table(&self) -> std::result::Result<MountTable, MountInfoError> {
        Ok(MountTable {
            mounts: self.table.borrow().clone(),
        })
    }

    fn device_by_link(&self, spec: &DeviceSpec) -> std::io::Result<Option<PathBuf>> {
        match spec {
            DeviceSpec::Path(p) if self.nodes.iter().any(|(n, _)| Path::new(n) == p) => {
                Ok(Some(p.clone()))
            }
            DeviceSpec::Path(_) => Err(std::io::Error::from_raw_os_error(nix::libc::ENOENT)),
            _ => Ok(None),
        }
    }

    fn probe_device(
        &self,
        _spec: &DeviceSpec,
        _end: Instant,
    ) -> std::result::Result<Option<PathBuf>, CallError> {
        self.forked.borrow_mut().push("probe_device");
        Ok(None)
    }

    fn device_number(&self, node: &Path) -> Option<Device> {
        self.nodes
            .iter()
            .find(|(n, _)| Path::new(n) == node)
            .map(|(_, d)| *d)
    }

    fn superblock(
        &self,
        _dev: &Path,
        _end: Instant,
    ) -> std::result::Result<gfs2_superblock::Superblock, CallError> {
        self.forked.borrow_mut().push("superblock");
        self.superblock.borrow().clone()
    }

    fn cluster_name(&self) -> std::io::Result<Option<String>> {
        Ok(self.cluster.map(str::to_owned))
    }

    fn dlm_running(&self) -> bool {
        self.dlm
    }

    fn gfs2_withdrawn(&self, device: Device) -> std::io::Result<Option<bool>> {
        let gfs2 = self
            .table
            .borrow()
            .iter()
            .any(|m| Device::of(m) == device && m.fstype == "gfs2");
        Ok(gfs2.then(|| self.withdrawn.borrow().contains(&device)))
    }

    fn kernel_knows(&self, fstype: &str) -> bool {
        self.known_types.contains(&fstype)
    }

    fn load_module(&self, module: &str, _end: Instant) -> Result<()> {
        self.forked.borrow_mut().push("load_module");
        Err(Error::installed(format!(
            "modprobe: FATAL: Module {module} not found"
        )))
    }

    fn fsck(
        &self,
        _fstype: &str,
        _dev: &str,
        _end: Instant,
    ) -> std::result::Result<child::Output, child::Error> {
        self.forked.borrow_mut().push("fsck");
        panic!("no test here needs fsck")
    }

    fn make_mount_point(&self, _dir: &Path) -> std::io::Result<()> {
        Ok(())
    }

    fn mount(
        &self,
        source: &str,
        target: &Path,
        fstype: &str,
        options: &str,
        _end: Instant,
    ) -> std::result::Result<(), CallError> {
        self.forked.borrow_mut().push("mount");
        if let Some(e) = &self.mount_fails {
            return Err(e.clone());
        }
        self.mounted
            .borrow_mut()
            .push(format!("{source} {} {fstype} {options}", target.display()));
        let device = self.device_number(Path::new(source)).unwrap_or(Device {
            major: 0,
            minor: 77,
        });
        self.add_mount_of(source, device, &target.display().to_string(), fstype);
        if options.split(',').any(|o| o == "ro")
            && let Some(m) = self.table.borrow_mut().last_mut()
        {
            m.options = "ro,relatime".into();
        }
        Ok(())
    }

    fn unmount(
        &self,
        request: &Unmount,
        end: Instant,
    ) -> std::result::Result<Option<bool>, CallError> {
        self.forked.borrow_mut().push("unmount");
        self.unmount_only(request)?;
        match &request.then_check {
            Some(node) if request.namespace.is_none() => self.in_use(node, end).map(Some),
            _ => Ok(None),
        }
    }

    fn users(&self, device: Device, _end: Instant) -> std::result::Result<DeviceUsers, CallError> {
        self.forked.borrow_mut().push("users");
        let holders = self
            .procs
            .borrow()
            .iter()
            .filter(|p| p.alive)
            .filter_map(|p| {
                let (d, how) = p.holds?;
                (d == device).then(|| Holder {
                    process: captured(p),
                    uses: vec![how],
                })
            })
            .collect();
        Ok(DeviceUsers {
            other_namespaces: self.namespaces_with(device).unwrap(),
            holders,
        })
    }

    fn namespaces_with(&self, device: Device) -> std::result::Result<Vec<Namespace>, procs::Error> {
        let procs = self.procs.borrow();
        Ok(self
            .namespaces
            .borrow()
            .iter()
            .filter(|(_, mounts)| mounts.iter().any(|m| Device::of(m) == device))
            .filter_map(|(inode, mounts)| {
                let processes: Vec<Captured> = procs
                    .iter()
                    .filter(|p| p.alive && p.ns == Some(*inode))
                    .map(captured)
                    .collect();
                // A namespace lives as long as a process is in it.
                (!processes.is_empty()).then(|| Namespace {
                    inode: *inode,
                    mounts: mounts
                        .iter()
                        .filter(|m| Device::of(m) == device)
                        .cloned()
                        .collect(),
                    below: Vec::new(),
                    processes,
                })
            })
            .collect())
    }

    fn signal(
        &self,
        process: &Captured,
        signal: Signal,
    ) -> std::result::Result<bool, procs::Error> {
        let mut procs = self.procs.borrow_mut();
        let Some(p) = procs
            .iter_mut()
            .find(|p| p.alive && captured(p).id == process.id)
        else {
            return Ok(false);
        };
        self.signals.borrow_mut().push((p.pid, signal));
        if signal == Signal::SIGKILL || (signal == Signal::SIGTERM && !p.ignores_term) {
            p.alive = false;
        }
        Ok(true)
    }

    fn in_use(&self, node: &Path, end: Instant) -> std::result::Result<bool, CallError> {
        self.forked.borrow_mut().push("in_use");
        // The deadline comes during this look: the helper process gives no answer.
        if let Some(left) = self.in_use_answers_left.get() {
            if left == 0 {
                return Err(CallError::TimedOut {
                    waited: end.saturating_duration_since(Instant::now()),
                });
            }
            self.in_use_answers_left.set(Some(left - 1));
        }
        let device = self.device_number(node).unwrap();
        let mounted = !self.where_mounted(device).is_empty()
            || self.unseen.borrow().iter().any(|m| Device::of(m) == device);
        let open = self
            .procs
            .borrow()
            .iter()
            .any(|p| p.alive && p.holds.is_some_and(|(d, _)| d == device));
        Ok(mounted || open)
    }

    fn read_block(&self, _dev: &Path, _end: Instant) -> std::result::Result<(), CallError> {
        self.forked.borrow_mut().push("read_block");
        self.blocks_read.set(self.blocks_read.get() + 1);
        self.read_block.clone()
    }

    fn write_status_file(
        &self,
        file: &StatusFile,
        _content: &str,
        _end: Instant,
    ) -> std::result::Result<(), CallError> {
        self.forked.borrow_mut().push("write_status_file");
        self.status_written.borrow_mut().push(file.clone());
        self.write_status.clone()
    }
}

/// The context of `action` with these parameters (device, directory and fstype=gfs2
/// unless given) and raw variables.
fn ctx(action: Action, params: &[(&str, &str)], vars: &[(&str, &str)]) -> Context {
    let mut all = vec![("device", DEV), ("directory", DIR), ("fstype", "gfs2")];
    all.retain(|(k, _)| !params.iter().any(|(p, _)| p == k));
    all.extend_from_slice(params);
    testing::context::<Agent>(action, &all, vars)
}

const RECURRING: (&str, &str) = ("OCF_RESKEY_CRM_meta_interval", "20000");
const CLONE: (&str, &str) = ("OCF_RESKEY_CRM_meta_clone_max", "2");
/// A short stop: the deadline comes after about a second.
const SHORT: (&str, &str) = ("OCF_RESKEY_CRM_meta_timeout", "1500");
const QUICK_SIGNALS: (&str, &str) = ("signal_delay", "0.02");

/// The policy as `ocf::run` builds it for `ctx` (the bad-configuration rule applied) over
/// `host`; Err when the rule ends the action itself.
fn logic_for(c: &Context, host: Fake) -> std::result::Result<Logic<Fake>, Result<Status>> {
    match testing::resolve::<Agent>(c) {
        Resolution::Run(identity, settings) => Ok(Logic {
            cfg: Config { identity, settings },
            host,
        }),
        Resolution::Finish(r) => Err(r),
    }
}

/// Run `action` on `host` as `ocf::run` would (the rule, then the action).
fn run(
    host: Fake,
    action: Action,
    params: &[(&str, &str)],
    vars: &[(&str, &str)],
) -> (Result<Status>, Fake) {
    let c = ctx(action, params, vars);
    let logic = match logic_for(&c, host) {
        Ok(l) => l,
        Err(r) => return (r, Fake::new()),
    };
    let r = match action {
        Action::Start => logic.start(&c),
        Action::Stop => logic.stop(&c),
        Action::Monitor => logic.monitor(&c),
        Action::ValidateAll => logic.validate(&c).map(|()| Status::Success),
        other => panic!("{other} is not an action of gfs2-fs"),
    };
    (r, logic.host)
}

fn reason(r: &Result<Status>) -> String {
    match r {
        Ok(s) => panic!("expected an error, got {s}"),
        Err(e) => e.reason().to_owned(),
    }
}

// ---- start, monitor, stop -------------------------------------------------------------

#[test]
fn start_mounts_once_and_monitor_and_probe_follow() {
    let (r, host) = run(Fake::new(), Action::Monitor, &[], &[]);
    assert_eq!(r, Ok(Status::NotRunning));
    let (r, host) = run(host, Action::Start, &[("options", "noatime")], &[]);
    assert_eq!(r, Ok(Status::Success));
    assert_eq!(
        *host.mounted.borrow(),
        [format!("{DEV} {DIR} gfs2 noatime")]
    );
    assert_eq!(host.where_mounted(DRBD1), [(None, PathBuf::from(DIR))]);
    let (r, host) = run(host, Action::Start, &[], &[]);
    assert_eq!(r, Ok(Status::Success), "a second start");
    assert_eq!(host.mounted.borrow().len(), 1, "mounted once");
    let (r, host) = run(host, Action::Monitor, &[], &[RECURRING]);
    assert_eq!(r, Ok(Status::Success));
    let (r, _) = run(host, Action::Monitor, &[], &[]);
    assert_eq!(r, Ok(Status::Success), "probe");
}

#[test]
fn stop_unmounts_what_is_below_first_and_is_idempotent() {
    let host = Fake::new().with_mounted(DRBD1, DIR, "gfs2");
    host.add_mount(
        Device {
            major: 0,
            minor: 50,
        },
        "/srv/www/cache",
        "tmpfs",
    );
    let (r, host) = run(host, Action::Stop, &[], &[]);
    assert_eq!(r, Ok(Status::Success));
    let targets: Vec<PathBuf> = host
        .unmounts
        .borrow()
        .iter()
        .map(|u| u.target.clone())
        .collect();
    assert_eq!(
        targets,
        [PathBuf::from("/srv/www/cache"), PathBuf::from(DIR)]
    );
    assert!(host.where_mounted(DRBD1).is_empty());
    let removed = host.unmounts.borrow()[1].remove_first.clone().unwrap();
    assert!(removed.rel.starts_with(".Filesystem_status"), "{removed:?}");
    assert!(host.unmounts.borrow()[0].remove_first.is_none());
    host.unmounts.borrow_mut().clear();
    let (r, host) = run(host, Action::Stop, &[], &[]);
    assert_eq!(r, Ok(Status::Success), "stopping what is stopped");
    assert!(host.unmounts.borrow().is_empty(), "nothing to unmount");
}

#[test]
fn force_unmount_safe_leaves_the_status_file_alone() {
    let host = Fake::new().with_mounted(DRBD1, DIR, "gfs2");
    let (r, host) = run(host, Action::Stop, &[("force_unmount", "safe")], &[]);
    assert_eq!(r, Ok(Status::Success));
    assert!(host.unmounts.borrow()[0].remove_first.is_none());
}

#[test]
fn network_filesystems_are_unmounted_with_force() {
    let host = Fake::new();
    let (r, host) = run(
        host,
        Action::Start,
        &[("device", "nfs1:/export"), ("fstype", "nfs4")],
        &[],
    );
    assert_eq!(r, Ok(Status::Success));
    let (r, host) = run(
        host,
        Action::Stop,
        &[("device", "nfs1:/export"), ("fstype", "nfs4")],
        &[],
    );
    assert_eq!(r, Ok(Status::Success));
    assert!(host.unmounts.borrow()[0].force);
    assert!(
        host.table
            .borrow()
            .iter()
            .all(|m| m.mount_point != Path::new(DIR))
    );
}

#[test]
fn something_else_on_the_mount_point_is_reported_and_left_alone() {
    let tmpfs = Device {
        major: 0,
        minor: 60,
    };
    let host = Fake::new().with_mounted(tmpfs, DIR, "tmpfs");
    let (r, host) = run(host, Action::Monitor, &[], &[]);
    assert_eq!(r, Ok(Status::NotRunning), "probe");
    let (r, host) = run(host, Action::Monitor, &[], &[RECURRING]);
    assert!(reason(&r).contains("as tmpfs, not gfs2"), "{r:?}");
    let (r, host) = run(host, Action::Start, &[], &[]);
    assert_eq!(r.unwrap_err().status(), Status::ErrGeneric);
    let (r, host) = run(host, Action::Stop, &[], &[]);
    assert_eq!(r, Ok(Status::Success));
    assert_eq!(host.where_mounted(tmpfs).len(), 1, "not ours: left mounted");
}

#[test]
fn a_missing_device_is_5_and_an_unknown_filesystem_type_is_5() {
    let (r, _) = run(
        Fake::new(),
        Action::Start,
        &[("device", "/dev/nonexistent"), ("fstype", "ext4")],
        &[],
    );
    let e = r.unwrap_err();
    assert_eq!(e.status(), Status::ErrInstalled);
    assert!(
        e.reason()
            .contains("couldn't find device /dev/nonexistent: No such file"),
        "{e}"
    );
    let (r, _) = run(Fake::new(), Action::Start, &[("fstype", "exotic")], &[]);
    let e = r.unwrap_err();
    assert_eq!(e.status(), Status::ErrInstalled);
    assert!(e.reason().contains("Module exotic not found"), "{e}");
}

#[test]
fn a_device_mounted_elsewhere_here_refuses_start_fails_the_probe_and_is_unmounted_by_stop() {
    let host = Fake::new().with_mounted(DRBD1, "/mnt/other", "gfs2");
    let (r, host) = run(host, Action::Start, &[], &[]);
    assert!(
        reason(&r).contains("already mounted on /mnt/other"),
        "{r:?}"
    );
    assert!(host.mounted.borrow().is_empty());
    // Not "not running": the cluster would mount it on another node while it is used here.
    let (r, host) = run(host, Action::Monitor, &[], &[]);
    assert!(
        reason(&r).contains("mounted on /mnt/other, not on /srv/www"),
        "{r:?}"
    );
    let (r, host) = run(host, Action::Monitor, &[], &[RECURRING]);
    assert_eq!(
        r,
        Ok(Status::NotRunning),
        "a recurring monitor only looks at the mount point"
    );
    let (r, host) = run(host, Action::Stop, &[], &[]);
    assert_eq!(r, Ok(Status::Success));
    assert!(host.where_mounted(DRBD1).is_empty());
}

#[test]
fn a_submount_left_below_the_mount_point_is_a_local_failure_not_6() {
    let host = Fake::new();
    host.add_mount(
        Device {
            major: 0,
            minor: 50,
        },
        "/srv/www/cache",
        "tmpfs",
    );
    let (r, _) = run(host, Action::Start, &[], &[]);
    let e = r.unwrap_err();
    let why = "/srv/www/cache is mounted below /srv/www";
    assert_eq!(
        (e.status(), e.reason().contains(why)),
        (Status::ErrGeneric, true),
        "{e}"
    );
}

// ---- busy mounts ----------------------------------------------------------------------

#[test]
fn stop_signals_the_holders_term_then_kill_and_only_them() {
    let host = Fake::new().with_mounted(DRBD1, DIR, "gfs2");
    host.process(10, "httpd", None, Some((DRBD1, Use::OpenFile)));
    host.process(11, "sh", None, Some((DRBD1, Use::Cwd)));
    host.procs.borrow_mut()[1].ignores_term = true;
    host.process(12, "bystander", None, Some((ROOT_FS, Use::Cwd)));
    let (r, host) = run(host, Action::Stop, &[QUICK_SIGNALS], &[SHORT]);
    assert_eq!(r, Ok(Status::Success));
    assert!(host.where_mounted(DRBD1).is_empty());
    let sent = host.signals.borrow().clone();
    assert!(sent.contains(&(10, Signal::SIGTERM)) && sent.contains(&(11, Signal::SIGTERM)));
    assert!(
        sent.contains(&(11, Signal::SIGKILL)),
        "KILL after TERM was ignored: {sent:?}"
    );
    assert!(
        !sent.contains(&(10, Signal::SIGKILL)),
        "gone after TERM: {sent:?}"
    );
    assert!(host.alive(12) && sent.iter().all(|(pid, _)| *pid != 12));
}

#[test]
fn force_unmount_false_signals_nothing_and_fails_busy_at_the_deadline() {
    let host = Fake::new().with_mounted(DRBD1, DIR, "gfs2");
    host.process(10, "httpd", None, Some((DRBD1, Use::Cwd)));
    let started = Instant::now();
    let (r, host) = run(
        host,
        Action::Stop,
        &[("force_unmount", "false"), QUICK_SIGNALS],
        &[SHORT],
    );
    let e = r.unwrap_err();
    assert_eq!(e.status(), Status::ErrGeneric);
    assert!(
        e.reason()
            .contains("busy (process 10 (httpd)) and force_unmount=false"),
        "{e}"
    );
    assert!(host.signals.borrow().is_empty() && host.alive(10));
    assert_eq!(host.where_mounted(DRBD1).len(), 1);
    assert!(
        host.unmounts.borrow().len() > 5,
        "retried until the deadline"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_holder_that_is_not_the_process_found_any_more_is_not_signalled() {
    // What the scan captured has since exited; the fake has no process by that identity.
    let host = Fake::new().with_mounted(DRBD1, DIR, "gfs2");
    host.process(10, "httpd", None, None);
    let stale = Holder {
        process: Captured {
            id: ProcId {
                pid: 10,
                start_time: 1,
            },
            ..captured(&host.procs.borrow()[0])
        },
        uses: vec![Use::Cwd],
    };
    let c = ctx(Action::Stop, &[], &[]);
    let logic = logic_for(&c, host).unwrap();
    logic.send(&stale, Signal::SIGKILL);
    assert!(logic.host.signals.borrow().is_empty());
    assert!(logic.host.alive(10));
}

// ---- other mount namespaces (issue 13) ------------------------------------------------

#[test]
fn stop_kills_a_holder_in_another_namespace_and_unmounts_its_copy() {
    let host = Fake::new().with_mounted(DRBD1, DIR, "gfs2");
    host.namespace_copy(CONTAINER, DRBD1);
    host.process(40, "sleep", Some(CONTAINER), Some((DRBD1, Use::Cwd)));
    host.process(41, "init", Some(CONTAINER), None);
    let (r, host) = run(host, Action::Stop, &[QUICK_SIGNALS], &[SHORT]);
    assert_eq!(r, Ok(Status::Success));
    assert!(
        host.where_mounted(DRBD1).is_empty(),
        "{:?}",
        host.where_mounted(DRBD1)
    );
    assert!(
        !host.alive(40) && host.alive(41),
        "only the holder was signalled"
    );
    let there: Vec<Unmount> = host
        .unmounts
        .borrow()
        .iter()
        .filter(|u| u.namespace.is_some())
        .cloned()
        .collect();
    assert!(!there.is_empty(), "unmounted in the other namespace");
    assert_eq!(there[0].target, PathBuf::from(DIR));
}

#[test]
fn force_unmount_false_fails_while_another_namespace_keeps_it() {
    let host = Fake::new().with_mounted(DRBD1, DIR, "gfs2");
    host.namespace_copy(CONTAINER, DRBD1);
    host.process(40, "sleep", Some(CONTAINER), Some((DRBD1, Use::Cwd)));
    let (r, host) = run(
        host,
        Action::Stop,
        &[("force_unmount", "false"), QUICK_SIGNALS],
        &[SHORT],
    );
    let e = r.unwrap_err();
    assert!(
        e.reason()
            .contains("in the mount namespace of process 40 (sleep)"),
        "{e}"
    );
    assert!(e.reason().contains("force_unmount=false"), "{e}");
    assert!(host.alive(40));
    assert_eq!(
        host.where_mounted(DRBD1),
        [(Some(CONTAINER), PathBuf::from(DIR))]
    );
}

#[test]
fn a_copy_left_in_another_namespace_fails_the_probe_and_stop_removes_it() {
    let host = Fake::new();
    host.namespaces
        .borrow_mut()
        .push((CONTAINER, vec![mount(900, DRBD1, DIR, "gfs2", DEV)]));
    host.process(40, "sleep", Some(CONTAINER), None);
    let (r, host) = run(host, Action::Monitor, &[], &[]);
    let why = reason(&r);
    assert!(
        why.contains(
            "still mounted in another mount namespace, on /srv/www (seen by process 40 (sleep))"
        ),
        "{why}"
    );
    let (r, host) = run(host, Action::Stop, &[], &[]);
    assert_eq!(r, Ok(Status::Success));
    assert!(host.where_mounted(DRBD1).is_empty());
    assert!(
        host.alive(40),
        "a process that does not use it is left alone"
    );
    let (r, _) = run(host, Action::Monitor, &[], &[]);
    assert_eq!(r, Ok(Status::NotRunning));
}

#[test]
fn a_namespace_copy_of_a_network_filesystem_elsewhere_is_not_ours() {
    let nfs = [("device", "nfs1:/export"), ("fstype", "nfs4")];
    let share = Device {
        major: 0,
        minor: 77,
    };
    let (_, host) = run(Fake::new(), Action::Start, &nfs, &[]);
    // The same export mounted in a container on another path: the container's own mount.
    host.namespaces.borrow_mut().push((
        CONTAINER,
        vec![mount(900, share, "/data", "nfs4", "nfs1:/export")],
    ));
    host.process(40, "app", Some(CONTAINER), Some((share, Use::Cwd)));
    let (r, host) = run(host, Action::Stop, &nfs, &[]);
    assert_eq!(r, Ok(Status::Success));
    assert_eq!(
        host.where_mounted(share),
        [(Some(CONTAINER), PathBuf::from("/data"))]
    );
    assert!(host.alive(40));
}

#[test]
fn stop_does_not_report_stopped_while_a_mount_no_table_shows_keeps_the_device() {
    // A private namespace no process is in still has it mounted: nothing to signal, and
    // the device stays in use. Stop fails at its deadline rather than report stopped.
    let host = Fake::new().with_mounted(DRBD1, DIR, "gfs2");
    host.unseen
        .borrow_mut()
        .push(mount(900, DRBD1, DIR, "gfs2", DEV));
    let (r, host) = run(host, Action::Stop, &[QUICK_SIGNALS], &[SHORT]);
    let why = reason(&r);
    assert!(
        why.contains("still in use: a mount namespace no process is in"),
        "{why}"
    );
    assert!(
        host.where_mounted(DRBD1).is_empty(),
        "what could be unmounted was"
    );
    host.unseen.borrow_mut().clear();
    let (r, _) = run(host, Action::Stop, &[QUICK_SIGNALS], &[SHORT]);
    assert_eq!(r, Ok(Status::Success));
    // The deadline comes during a look at the device (CI saw the last retry's look begin
    // with no time left): the reason is still that the device is in use. Three looks are
    // answered (the unmount step's, then two in the wait for release), the fourth times out.
    let host = Fake::new().with_mounted(DRBD1, DIR, "gfs2");
    host.in_use_answers_left.set(Some(3));
    host.unseen
        .borrow_mut()
        .push(mount(900, DRBD1, DIR, "gfs2", DEV));
    let (r, _) = run(host, Action::Stop, &[QUICK_SIGNALS], &[SHORT]);
    let why = reason(&r);
    assert!(
        why.contains("still in use: a mount namespace no process is in"),
        "{why}"
    );
    // Lazily unmounted, a file still open on it: its holder is signalled, then it is free.
    let host = Fake::new();
    host.process(10, "tail", None, Some((DRBD1, Use::OpenFile)));
    let (r, host) = run(host, Action::Stop, &[QUICK_SIGNALS], &[SHORT]);
    assert_eq!(r, Ok(Status::Success));
    assert!(!host.alive(10));
}

// ---- clones, GFS2 ---------------------------------------------------------------------

#[test]
fn clones_of_local_filesystems_are_refused_even_read_only_where_the_journal_replays() {
    for fstype in ["ext4", "xfs"] {
        for options in ["", "ro"] {
            let (r, _) = run(
                Fake::new(),
                Action::Start,
                &[("fstype", fstype), ("options", options)],
                &[CLONE],
            );
            let e = r.unwrap_err();
            assert_eq!(e.status(), Status::ErrConfigured, "{fstype} {options}: {e}");
            assert!(e.reason().contains("not cluster-aware"), "{e}");
            if options == "ro" {
                assert!(e.reason().contains("replays its journal"), "{e}");
            }
            let (r, _) = run(
                Fake::new(),
                Action::ValidateAll,
                &[("fstype", fstype), ("options", options)],
                &[CLONE],
            );
            assert_eq!(r.unwrap_err().status(), Status::ErrConfigured);
        }
        let (r, _) = run(
            Fake::new(),
            Action::Start,
            &[("fstype", fstype), ("force_clones", "true")],
            &[CLONE],
        );
        assert_eq!(r, Ok(Status::Success), "{fstype} with force_clones");
        let (r, _) = run(Fake::new(), Action::Start, &[("fstype", fstype)], &[]);
        assert_eq!(r, Ok(Status::Success), "{fstype} not cloned");
    }
    // A filesystem that writes nothing when read-only may be cloned read-only, as in
    // Filesystem.
    let mut host = Fake::new();
    host.known_types.push("vfat");
    let (r, _) = run(
        host,
        Action::Start,
        &[("fstype", "vfat"), ("options", "ro")],
        &[CLONE],
    );
    assert_eq!(r, Ok(Status::Success));
    let (r, _) = run(
        Fake::new(),
        Action::ValidateAll,
        &[("fstype", "vfat")],
        &[CLONE],
    );
    assert_eq!(r.unwrap_err().status(), Status::ErrConfigured);
    let (r, _) = run(Fake::new(), Action::Start, &[], &[CLONE]);
    assert_eq!(r, Ok(Status::Success), "gfs2 is what clones are for");
}

/// validate-all, the probe and the depth-0 monitor fork nothing (CONTRIBUTING.md): none of
/// them asks the host for anything it does in a helper process or a child, not even for a
/// cloned GFS2 whose device would fail or hang if read. What the device holds (the lock
/// table, lock_dlm) is start's to check, in its helper and bounded, before it mounts.
#[test]
fn validate_all_probe_and_monitor_fork_nothing_even_for_gfs2_on_a_dead_device() {
    for device in [
        DEV,
        "UUID=0f5e2d9c-2c4b-4e07-9a6c-1d2e3f405162",
        "LABEL=web",
    ] {
        let dead = || {
            let host = Fake::new();
            *host.superblock.borrow_mut() = Err(CallError::TimedOut {
                waited: Duration::from_secs(3),
            });
            host
        };
        let params = [("device", device)];
        let (r, host) = run(dead(), Action::ValidateAll, &params, &[CLONE]);
        assert_eq!(r, Ok(Status::Success), "validate-all of {device}");
        assert!(
            host.forked.borrow().is_empty(),
            "validate-all of {device}: {:?}",
            host.forked
        );
        let (r, host) = run(dead(), Action::Monitor, &params, &[CLONE]);
        assert_eq!(r, Ok(Status::NotRunning), "probe of {device}");
        assert!(
            host.forked.borrow().is_empty(),
            "probe of {device}: {:?}",
            host.forked
        );
        let mounted = dead().with_mounted(DRBD1, DIR, "gfs2");
        let (r, host) = run(mounted, Action::Monitor, &params, &[CLONE, RECURRING]);
        assert_eq!(r, Ok(Status::Success), "monitor of {device}");
        assert!(
            host.forked.borrow().is_empty(),
            "monitor of {device}: {:?}",
            host.forked
        );
    }
    // A path that names no device is still this node's missing device at validate-all.
    let (r, _) = run(
        Fake::new(),
        Action::ValidateAll,
        &[("device", "/dev/nope")],
        &[CLONE],
    );
    assert_eq!(r.unwrap_err().status(), Status::ErrInstalled);
}

#[test]
fn an_io_error_reading_the_superblock_is_1_and_a_mismatch_is_6() {
    let eio = kernel(
        Errno::EIO,
        "reading the GFS2 superblock of /dev/drbd1: I/O error",
    );
    let host = Fake::new();
    *host.superblock.borrow_mut() = Err(eio.clone());
    let (r, host) = run(host, Action::Start, &[], &[CLONE]);
    let e = r.unwrap_err();
    assert_eq!(e.status(), Status::ErrGeneric, "{e}");
    assert!(
        e.reason().contains("I/O error") && !e.reason().contains("os error"),
        "{e}"
    );
    assert!(host.mounted.borrow().is_empty());
    assert_eq!(
        *host.forked.borrow(),
        ["superblock"],
        "read before the mount"
    );
    let host = Fake::new();
    *host.superblock.borrow_mut() = Err(CallError::TimedOut {
        waited: Duration::from_secs(3),
    });
    let (r, _) = run(host, Action::Start, &[], &[CLONE]);
    assert_eq!(
        r.unwrap_err().status(),
        Status::ErrGeneric,
        "start: a hung read"
    );
    let host = Fake::new();
    *host.superblock.borrow_mut() = Err(CallError::Refused("/dev/drbd1 is not GFS2".into()));
    let (r, _) = run(host, Action::Start, &[], &[CLONE]);
    assert_eq!(r.unwrap_err().status(), Status::ErrConfigured);
    let host = Fake::new();
    *host.superblock.borrow_mut() = Ok(gfs2_sb("other:www"));
    let (r, _) = run(host, Action::Start, &[], &[CLONE]);
    let e = r.unwrap_err();
    assert_eq!(e.status(), Status::ErrConfigured);
    assert!(e.reason().contains("does not name this cluster web"), "{e}");
}

#[test]
fn gfs2_needs_dlm_and_a_clone_needs_lock_dlm() {
    let mut host = Fake::new();
    host.dlm = false;
    let (r, _) = run(host, Action::Start, &[], &[CLONE]);
    let e = r.unwrap_err();
    assert_eq!(e.status(), Status::ErrGeneric);
    assert!(e.reason().contains("needs DLM"), "{e}");
    let host = Fake::new();
    *host.superblock.borrow_mut() = Ok(gfs2_superblock::Superblock {
        lock_proto: "lock_nolock".into(),
        ..gfs2_sb("")
    });
    let (r, host) = run(host, Action::Start, &[], &[]);
    assert_eq!(r, Ok(Status::Success), "lock_nolock on one node");
    host.table
        .borrow_mut()
        .retain(|m| m.mount_point != Path::new(DIR));
    let (r, _) = run(host, Action::Start, &[], &[CLONE]);
    assert!(reason(&r).contains("a clone needs lock_dlm"), "{r:?}");
}

#[test]
fn gfs2_lock_table_rules() {
    let ok = gfs2_sb("mycluster:web");
    assert!(check_superblock(&ok, Some("mycluster"), true, DEV).is_ok());
    let e = check_superblock(&ok, Some("other"), true, DEV).unwrap_err();
    assert_eq!(e.status(), Status::ErrConfigured);
    assert!(
        e.reason().contains("mycluster:web") && e.reason().contains("other"),
        "{e}"
    );
    let e = check_superblock(&ok, None, false, DEV).unwrap_err();
    assert!(e.reason().contains("cluster_name"), "{e}");
}

// ---- monitor depths ---------------------------------------------------------------------

/// What the deeper checks did so far: (device reads, status file writes).
fn checks(host: &Fake) -> (u32, usize) {
    (host.blocks_read.get(), host.status_written.borrow().len())
}

#[test]
fn depth_10_reads_the_device_and_depth_20_writes_the_status_file() {
    let depth = |d: &'static str| [RECURRING, ("OCF_CHECK_LEVEL", d)];
    let host = Fake::new().with_mounted(DRBD1, DIR, "gfs2");
    let (r, host) = run(host, Action::Monitor, &[], &depth("10"));
    assert_eq!(r, Ok(Status::Success));
    assert_eq!(checks(&host), (1, 0));
    let (r, host) = run(host, Action::Monitor, &[], &depth("20"));
    assert_eq!(r, Ok(Status::Success));
    assert_eq!(checks(&host), (2, 1));
    let file = host.status_written.borrow()[0].clone();
    assert_eq!(file.mount, PathBuf::from(DIR));
    assert!(
        file.rel
            .to_str()
            .unwrap()
            .starts_with(".Filesystem_status/test_"),
        "{file:?}"
    );
    // An unknown depth uses the next lower one.
    let (r, host) = run(host, Action::Monitor, &[], &depth("15"));
    assert_eq!(r, Ok(Status::Success));
    assert_eq!(checks(&host), (3, 1));
}

/// Seen in the lab (2026-12-02, Debian 13, kernel 6.12): the peer fenced, a DLM request to it
/// failed, and the survivor's GFS2 withdrew; the depth-0 monitor said running for minutes
/// while every write on it failed with EIO.
#[test]
fn a_withdrawn_gfs2_fails_every_monitor_depth_and_the_probe() {
    let host = Fake::new().with_mounted(DRBD1, DIR, "gfs2");
    let (r, mut host) = run(host, Action::Monitor, &[], &[RECURRING]);
    assert_eq!(r, Ok(Status::Success));
    host.withdrawn.borrow_mut().push(DRBD1);
    for env in [
        &[RECURRING][..],
        &[RECURRING, ("OCF_CHECK_LEVEL", "20")][..],
        &[][..],
    ] {
        let (r, h) = run(host, Action::Monitor, &[], env);
        let e = r.expect_err("a withdrawn GFS2 is not a running resource");
        assert_eq!(e.status(), Status::ErrGeneric, "{env:?}");
        assert!(e.to_string().contains("is withdrawn"), "{e}");
        assert_eq!(checks(&h), (0, 0), "no I/O on a withdrawn filesystem");
        host = h;
    }
}

#[test]
fn a_depth_that_cannot_run_here_falls_back_to_the_one_below_never_6() {
    let deep = [RECURRING, ("OCF_CHECK_LEVEL", "20")];
    // Read-only: nothing to write, depth 10 only.
    let host = Fake::new();
    let (_, host) = run(host, Action::Start, &[("options", "ro")], &[]);
    let (r, host) = run(host, Action::Monitor, &[("options", "ro")], &deep);
    assert_eq!(r, Ok(Status::Success));
    assert_eq!(checks(&host), (1, 0));
    // No block device: nothing to read.
    let nfs = [("device", "nfs1:/export"), ("fstype", "nfs4")];
    let (_, host) = run(Fake::new(), Action::Start, &nfs, &[]);
    let (r, host) = run(host, Action::Monitor, &nfs, &deep);
    assert_eq!(r, Ok(Status::Success));
    assert_eq!(checks(&host), (0, 1));
}

#[test]
fn a_failing_or_hung_check_is_1_with_the_reason() {
    let deep = [RECURRING, ("OCF_CHECK_LEVEL", "20")];
    let mut host = Fake::new().with_mounted(DRBD1, DIR, "gfs2");
    host.read_block = Err(kernel(Errno::EIO, "reading /dev/drbd1: I/O error"));
    let (r, _) = run(host, Action::Monitor, &[], &deep);
    assert!(
        reason(&r).contains("failed to read device /dev/drbd1: reading /dev/drbd1: I/O error"),
        "{r:?}"
    );
    let mut host = Fake::new().with_mounted(DRBD1, DIR, "gfs2");
    host.write_status = Err(CallError::TimedOut {
        waited: Duration::from_secs(3),
    });
    let (r, _) = run(host, Action::Monitor, &[], &deep);
    let e = r.unwrap_err();
    assert_eq!(e.status(), Status::ErrGeneric);
    assert!(
        e.reason()
            .contains("did not finish before the monitor timeout"),
        "{e}"
    );
    assert!(e.reason().contains("left behind"), "{e}");
}

#[test]
fn a_hung_mount_or_unmount_is_reported_at_the_deadline() {
    let mut host = Fake::new();
    host.mount_fails = Some(CallError::TimedOut {
        waited: Duration::from_secs(50),
    });
    let (r, _) = run(host, Action::Start, &[], &[]);
    assert!(
        reason(&r).contains("did not finish before the start timeout"),
        "{r:?}"
    );
    let mut host = Fake::new().with_mounted(DRBD1, DIR, "gfs2");
    host.unmount_hangs = true;
    let (r, _) = run(host, Action::Stop, &[], &[]);
    assert!(
        reason(&r).contains("unmounting /srv/www did not finish before the stop timeout"),
        "{r:?}"
    );
}

// ---- the bad-configuration rule -------------------------------------------------------

/// Issue 13: a typo in a setting fails validate-all and start (6) but neither the probe nor
/// the stop of a mounted filesystem: they go on with the XML default.
#[test]
fn a_typo_in_a_setting_never_hides_or_keeps_a_mounted_filesystem() {
    for typo in [("run_fsck", "yes"), ("force_unmount", "perhaps")] {
        let host = Fake::new().with_mounted(DRBD1, DIR, "gfs2");
        host.process(10, "httpd", None, Some((DRBD1, Use::Cwd)));
        let (r, host) = run(host, Action::Monitor, &[typo], &[]);
        assert_eq!(r, Ok(Status::Success), "probe with {typo:?}");
        let (r, host) = run(host, Action::Monitor, &[typo], &[RECURRING]);
        assert_eq!(r, Ok(Status::Success), "monitor with {typo:?}");
        let (r, host) = run(host, Action::Stop, &[typo, QUICK_SIGNALS], &[SHORT]);
        assert_eq!(r, Ok(Status::Success), "stop with {typo:?}");
        assert!(
            host.where_mounted(DRBD1).is_empty(),
            "and stop unmounted it"
        );
        assert!(!host.alive(10), "force_unmount's default applies");
        for action in [Action::Start, Action::ValidateAll] {
            let (r, host) = run(Fake::new(), action, &[typo], &[]);
            let e = r.unwrap_err();
            assert_eq!(e.status(), Status::ErrConfigured, "{action}");
            assert!(
                e.reason().contains(&format!("{}=\"{}\"", typo.0, typo.1)),
                "{e}"
            );
            assert!(host.mounted.borrow().is_empty());
        }
    }
}

/// An unusable identity: the probe is 7 and the stop 0 only when nothing can be mounted on
/// such a directory; start and validate-all are 6.
#[test]
fn an_unusable_identity_is_not_running_stopped_and_refused() {
    for (name, value) in [("directory", "relative/www"), ("device", "$(reboot)")] {
        let (r, _) = run(Fake::new(), Action::Start, &[(name, value)], &[]);
        assert_eq!(r.unwrap_err().status(), Status::ErrConfigured, "{name}");
        let (r, _) = run(Fake::new(), Action::ValidateAll, &[(name, value)], &[]);
        assert_eq!(r.unwrap_err().status(), Status::ErrConfigured, "{name}");
    }
    let (r, _) = run(
        Fake::new(),
        Action::Monitor,
        &[("directory", "relative/www")],
        &[],
    );
    assert_eq!(r, Ok(Status::NotRunning));
    let (r, _) = run(
        Fake::new(),
        Action::Stop,
        &[("directory", "relative/www")],
        &[],
    );
    assert_eq!(r, Ok(Status::Success));
}

#[test]
fn messages_carry_no_rust_internals() {
    let host = Fake::new().with_mounted(DRBD1, DIR, "gfs2");
    host.process(22145, "sleep", None, Some((DRBD1, Use::Cwd)));
    let (r, _) = run(
        host,
        Action::Stop,
        &[("force_unmount", "false"), QUICK_SIGNALS],
        &[SHORT],
    );
    let why = reason(&r);
    for internal in ["[", "Cwd", "os error", "MsFlags", "Some(", "Errno"] {
        assert!(!why.contains(internal), "{internal} in {why}");
    }
    assert_eq!(
        uses_text(&[Use::Cwd, Use::Mmap]),
        "its working directory and a mapped file"
    );
}
