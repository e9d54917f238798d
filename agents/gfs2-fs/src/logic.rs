//! The policy: what validate-all, start, monitor and stop do with the filesystem, written
//! against [`Host`] so that the same code runs on the kernel and, in the unit tests, on a
//! fake.
//!
//! The resource is the filesystem on `device`. For a local block device that is the
//! device's filesystem wherever it is mounted on this node: stop unmounts it from
//! `directory`, from anywhere else in this mount namespace and from every other mount
//! namespace (a container, a service with `PrivateTmp`), and reports stopped only when it
//! is mounted nowhere; a probe that finds it mounted anywhere but `directory` is an error,
//! never "not running". For a remote or virtual source (nfs, tmpfs) it is the mount on
//! `directory` and its copies in other namespaces; for a bind mount, the mount alone.

use crate::config::fstype::Clones;
use crate::config::{Config, ForceUnmount, Identity, RunFsck, Settings};
use crate::corosync;
use crate::host::{Host, StatusFile, Unmount};
use crate::isolated::CallError;
use mounts::holders::{Device, Holder, Use};
use mounts::{DeviceSpec, Mount, MountTable};
use nix::errno::Errno;
use nix::sys::signal::Signal;
use ocf::{Context, Deadline, Error, Policy, Result, Status};
use procs::{Captured, io_text};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The agent's policy for one filesystem over a host `H`.
#[derive(Debug)]
pub struct Logic<H: Host> {
    pub cfg: Config,
    pub host: H,
}

/// `fast_stop`: the whole stop gets this long (never for gfs2, whose unmount waits for DLM).
const FAST_STOP: Duration = Duration::from_secs(6);
/// The shortest wait between two tries of a busy unmount.
const MIN_RETRY: Duration = Duration::from_millis(10);

/// What this namespace's mount table says about the mount point.
#[derive(Debug)]
enum State {
    Unmounted,
    /// Our filesystem is mounted on the directory.
    Mounted(Mount),
    /// Something else is, and why it is not ours.
    Other(String),
}

/// One mount stop takes away.
#[derive(Debug)]
struct Step {
    mount: Mount,
    /// The process whose mount namespace it is in; None for ours.
    namespace: Option<Captured>,
}

impl Step {
    fn device(&self) -> Device {
        Device::of(&self.mount)
    }
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.mount.mount_point.display())?;
        if let Some(p) = &self.namespace {
            write!(
                f,
                " in the mount namespace of process {} ({})",
                p.pid(),
                p.comm
            )?;
        }
        Ok(())
    }
}

impl<H: Host> Logic<H> {
    fn dir(&self) -> &Path {
        &self.cfg.identity.directory
    }

    fn device_name(&self) -> &str {
        &self.cfg.identity.device
    }

    fn table(&self) -> Result<MountTable> {
        self.host
            .mount_table()
            .map_err(|e| Error::generic(format!("cannot read this node's mount table: {e}")))
    }

    fn state(&self, table: &MountTable) -> State {
        match table.at(self.dir()) {
            None => State::Unmounted,
            Some(m) => match self.mismatch(m) {
                None => State::Mounted(m.clone()),
                Some(why) => State::Other(why),
            },
        }
    }

    /// Why `m`, mounted on the directory, is not our filesystem; None when it is.
    fn mismatch(&self, m: &Mount) -> Option<String> {
        let s = &self.cfg.settings;
        if s.fstype_known && !self.cfg.is_bind() && !s.fstype.is_shown_as(&m.fstype) {
            return Some(format!(
                "{} is mounted on {} as {}, not {}",
                m.source,
                m.mount_point.display(),
                m.fstype,
                s.fstype
            ));
        }
        let ours = match &self.cfg.identity.spec {
            _ if self.cfg.is_bind() => true,
            DeviceSpec::Other(source) => source == &m.source,
            // Device links resolve without device I/O; a UUID or label without a udev link
            // cannot be checked here, and the type and directory have to do.
            spec => match self.host.device_by_link(spec) {
                Ok(Some(node)) => match self.host.device_number(&node) {
                    Some(number) => number == Device::of(m),
                    None => node.as_os_str() == m.source.as_str(),
                },
                _ => true,
            },
        };
        (!ours).then(|| {
            format!(
                "{} is mounted on {} instead of {}",
                m.source,
                m.mount_point.display(),
                self.device_name()
            )
        })
    }

    /// The device number of the block device, found without device I/O; None for other
    /// sources and for a UUID or label without a udev link.
    fn block_device(&self) -> Option<Device> {
        if !self.cfg.is_block() {
            return None;
        }
        let node = self
            .host
            .device_by_link(&self.cfg.identity.spec)
            .ok()
            .flatten()?;
        self.host.device_number(&node)
    }

    // ---- validate-all -----------------------------------------------------------------

    /// A clone of a filesystem that is not cluster-aware is refused unless `force_clones`;
    /// a read-only one only where a read-only mount writes nothing (not ext4 or xfs, which
    /// replay their journal), as Filesystem refuses it.
    fn clone_safety(&self, cloned: bool) -> Result<()> {
        let fstype = &self.cfg.settings.fstype;
        if !cloned || fstype.clones() == Clones::Safe {
            return Ok(());
        }
        if self.cfg.settings.force_clones {
            log::warn!("{fstype} is not cluster-aware; cloned because force_clones is set");
            return Ok(());
        }
        let read_only = self.cfg.settings.options.read_only();
        match fstype.clones() {
            Clones::ReadOnly if read_only => {
                log::warn!("{fstype} is not cluster-aware; cloned because it is mounted read-only");
                Ok(())
            }
            Clones::Never if read_only => Err(Error::configured(format!(
                "{fstype} on {} is not cluster-aware and must not be cloned, not even \
                 read-only: a read-only mount still replays its journal (set \
                 force_clones=true only if no two nodes ever mount it at once)",
                self.device_name()
            ))),
            _ => Err(Error::configured(format!(
                "{fstype} on {} is not cluster-aware and must not be cloned (set \
                 force_clones=true only if no two nodes ever write it)",
                self.device_name()
            ))),
        }
    }

    /// The superblock must name this cluster (and lock_dlm for a clone), DLM must run. A
    /// device that cannot be read now is this node's trouble (1); a superblock that does not
    /// fit the cluster is wrong on every node (6).
    fn check_gfs2(&self, ctx: &Context) -> Result<()> {
        let dev = self.local_device(ctx)?;
        let sb = match self.host.superblock(&dev, ctx.deadline.end()) {
            Ok(sb) => sb,
            Err(CallError::Refused(why)) => {
                return Err(Error::configured(format!(
                    "device={}: {why}",
                    self.device_name()
                )));
            }
            Err(e) => {
                return Err(Error::generic(format!(
                    "couldn't read the GFS2 superblock of {}: {e}",
                    self.device_name()
                )));
            }
        };
        let cluster = match self.host.cluster_name() {
            Ok(name) => name,
            Err(e) if sb.lock_proto == "lock_dlm" => {
                return Err(Error::installed(format!(
                    "{} uses lock_dlm but {} cannot be read: {}",
                    self.device_name(),
                    corosync::COROSYNC_CONF,
                    io_text(&e)
                )));
            }
            Err(_) => None,
        };
        check_superblock(
            &sb,
            cluster.as_deref(),
            ctx.env.meta.is_clone(),
            self.device_name(),
        )?;
        if sb.lock_proto == "lock_dlm" && !self.host.dlm_running() {
            return Err(Error::generic(format!(
                "{} needs DLM, but {} does not exist: start dlm (controld) before this \
                 filesystem",
                self.device_name(),
                crate::host::DLM_CLUSTER
            )));
        }
        Ok(())
    }

    /// validate-all's look for a local `device`: a path must exist; a UUID or a label is
    /// looked up through udev's links only, and one without a link is left to start, which
    /// reads the superblocks in its helper.
    fn device_present(&self) -> Result<()> {
        self.host
            .device_by_link(&self.cfg.identity.spec)
            .map(|_| ())
            .map_err(|e| {
                Error::installed(format!(
                    "couldn't find device {}: {}",
                    self.device_name(),
                    io_text(&e)
                ))
            })
    }

    /// The device node of a local `device`: a path must exist, a UUID or label must be
    /// found (through udev's links, else by reading superblocks).
    fn local_device(&self, ctx: &Context) -> Result<PathBuf> {
        let spec = &self.cfg.identity.spec;
        let missing = |why: String| {
            Error::installed(format!("couldn't find device {}{why}", self.device_name()))
        };
        match self.host.device_by_link(spec) {
            Ok(Some(node)) => Ok(node),
            Ok(None) => match self.host.probe_device(spec, ctx.deadline.end()) {
                Ok(Some(node)) => Ok(node),
                Ok(None) => Err(missing(String::new())),
                Err(e @ CallError::TimedOut { .. }) => Err(Error::generic(format!(
                    "looking for device {}: {e}",
                    self.device_name()
                ))),
                Err(e) => Err(missing(format!(": {e}"))),
            },
            Err(e) => Err(missing(format!(": {}", io_text(&e)))),
        }
    }

    // ---- start ------------------------------------------------------------------------

    /// The mount source: the device node for local devices (missing is OCF_ERR_INSTALLED, as
    /// in Filesystem), the directory for bind mounts, the text for remote sources.
    fn source(&self, ctx: &Context, table: &MountTable) -> Result<String> {
        let spec = &self.cfg.identity.spec;
        if self.cfg.is_bind() {
            let DeviceSpec::Path(p) = spec else {
                return Err(Error::bad_param(
                    "device",
                    self.device_name(),
                    "a bind mount needs a path",
                ));
            };
            return match self.host.device_by_link(spec) {
                Ok(Some(_)) => Ok(p.display().to_string()),
                _ => Err(Error::installed(format!(
                    "bind source {} does not exist",
                    p.display()
                ))),
            };
        }
        if !spec.is_local() {
            return Ok(self.device_name().to_owned());
        }
        let dev = self.local_device(ctx)?;
        let Some(number) = self.host.device_number(&dev) else {
            return Err(Error::installed(format!(
                "{} ({}) is not a block device",
                self.device_name(),
                dev.display()
            )));
        };
        if let Some(m) = table.by_device(number.major, number.minor).next() {
            return Err(Error::generic(format!(
                "{} is already mounted on {}; a filesystem mounted twice is not what this \
                 resource manages",
                self.device_name(),
                m.mount_point.display()
            )));
        }
        Ok(dev.display().to_string())
    }

    /// The kernel must know the type (/proc/filesystems); if not, `modprobe` it once.
    fn ensure_fstype(&self, ctx: &Context) -> Result<()> {
        let name = self.cfg.settings.fstype.name();
        if self.cfg.settings.fstype.is_bind() || self.host.kernel_knows(name) {
            return Ok(());
        }
        let loaded = self.host.load_module(name, ctx.deadline.end());
        if self.host.kernel_knows(name) {
            return Ok(());
        }
        let why = loaded.err().map_or_else(
            || "loaded, but not registered".to_owned(),
            |e| e.reason().to_owned(),
        );
        Err(Error::installed(format!(
            "the kernel does not support filesystem {name} ({why})"
        )))
    }

    fn needs_fsck(&self) -> bool {
        if !self.cfg.is_block() {
            return false;
        }
        match self.cfg.settings.run_fsck {
            RunFsck::No => false,
            RunFsck::Force => true,
            RunFsck::Auto => self.cfg.settings.fstype.fsck_when_auto(),
        }
    }

    /// `fsck -t TYPE -p DEVICE`; exit 4 and above means errors left uncorrected.
    fn fsck(&self, dev: &str, ctx: &Context) -> Result<()> {
        let fstype = self.cfg.settings.fstype.name();
        log::info!("checking {dev} with fsck -t {fstype} -p");
        let out = self
            .host
            .fsck(fstype, dev, ctx.deadline.end())
            .map_err(|e| Error::generic(format!("fsck of {dev}: {e}")))?;
        match out.code() {
            Some(c) if c < 4 => Ok(()),
            _ => Err(Error::generic(format!(
                "fsck -p {dev} could not repair the filesystem ({}): {}",
                out.status,
                out.message()
            ))),
        }
    }

    // ---- monitor ----------------------------------------------------------------------

    /// Not mounted on the directory. A probe also makes sure the block device's filesystem
    /// is mounted nowhere else on this node: "not running" would let the cluster mount it
    /// on another node while it is still in use here.
    fn not_running(&self, ctx: &Context, table: &MountTable) -> Result<Status> {
        if !ctx.is_probe() {
            return Ok(Status::NotRunning);
        }
        let Some(device) = self.block_device() else {
            return Ok(Status::NotRunning);
        };
        if let Some(m) = table.by_device(device.major, device.minor).next() {
            return Err(Error::generic(format!(
                "{} is mounted on {}, not on {}: stop unmounts it",
                self.device_name(),
                m.mount_point.display(),
                self.dir().display()
            )));
        }
        let elsewhere = self.host.namespaces_with(device).map_err(|e| {
            Error::generic(format!(
                "cannot tell whether {} is mounted in another mount namespace: {e}",
                self.device_name()
            ))
        })?;
        if let Some(ns) = elsewhere.first() {
            let seen_by = ns
                .processes
                .first()
                .map(|p| format!(" (seen by process {} ({}))", p.pid(), p.comm))
                .unwrap_or_default();
            return Err(Error::generic(format!(
                "{} is still mounted in another mount namespace, on {}{seen_by}: stop \
                 unmounts it there",
                self.device_name(),
                ns.mounts
                    .first()
                    .map_or_else(String::new, |m| m.mount_point.display().to_string()),
            )));
        }
        Ok(Status::NotRunning)
    }

    /// A withdrawn GFS2 is still mounted but serves nothing: every depth fails it (exit 1),
    /// so Pacemaker recovers it (stop, then start), or fences the node when the stop fails.
    /// What sysfs cannot tell is logged and left to the deeper checks.
    fn check_not_withdrawn(&self, mounted: &Mount) -> Result<()> {
        match self.host.gfs2_withdrawn(Device::of(mounted)) {
            Ok(Some(true)) => Err(Error::generic(format!(
                "GFS2 on {} at {} is withdrawn: the kernel stopped it after an I/O or locking \
                 error (see its log); it must be unmounted and mounted again",
                mounted.source,
                mounted.mount_point.display()
            ))),
            Ok(_) => Ok(()),
            Err(e) => {
                log::warn!("cannot read GFS2's withdraw state in sysfs: {e}");
                Ok(())
            }
        }
    }

    /// Depth 10: read the device with O_DIRECT.
    fn read_device(&self, ctx: &Context, mounted: &Mount) -> Result<()> {
        if !self.cfg.is_block() {
            log::warn!(
                "monitor depth 10 reads the device, and {} is not a block device: checked \
                 that it is mounted only",
                self.device_name()
            );
            return Ok(());
        }
        // A UUID or label without a udev link: the mounted source is the device.
        let dev = match self.host.device_by_link(&self.cfg.identity.spec) {
            Ok(Some(node)) => node,
            _ => PathBuf::from(&mounted.source),
        };
        match self.host.read_block(&dev, ctx.deadline.end()) {
            Ok(()) => Ok(()),
            Err(e @ CallError::TimedOut { .. }) => Err(Error::generic(format!(
                "reading device {} did not finish before the monitor timeout: {e}",
                dev.display()
            ))),
            Err(e) => Err(Error::generic(format!(
                "failed to read device {}: {e}",
                dev.display()
            ))),
        }
    }

    /// Depth 20: write the status file and read it back (nothing below the mount point is
    /// followed).
    fn check_status_file(&self, ctx: &Context, mounted: &Mount) -> Result<()> {
        let file = self.status_file(ctx);
        if mounted.has_option("ro") {
            log::warn!(
                "monitor depth 20 writes {}, and {} is mounted read-only: checked to depth 10",
                file.path().display(),
                self.dir().display()
            );
            return Ok(());
        }
        let content = format!("{}\n", ctx.env.instance);
        match self
            .host
            .write_status_file(&file, &content, ctx.deadline.end())
        {
            Ok(()) => Ok(()),
            Err(e @ CallError::TimedOut { .. }) => Err(Error::generic(format!(
                "writing status file {} did not finish before the monitor timeout: {e}",
                file.path().display()
            ))),
            Err(e) => Err(Error::generic(format!(
                "failed to write and read back status file {}: {e}",
                file.path().display()
            ))),
        }
    }

    /// `<prefix><instance>[_<clone>]_<node>`, below the mount point, as Filesystem names
    /// it (instance and node made file names by ocf's one rule).
    pub fn status_file(&self, ctx: &Context) -> StatusFile {
        let mut name = ctx.env.instance_file_name();
        if let Some(n) = ctx.env.meta.clone {
            name = format!("{name}_{n}");
        }
        name.push('_');
        name.push_str(&ocf::env::file_name(&ctx.env.node_name()));
        StatusFile {
            mount: self.dir().to_owned(),
            rel: PathBuf::from(format!("{}{name}", self.cfg.settings.statusfile_prefix)),
        }
    }

    // ---- stop -------------------------------------------------------------------------

    /// Unmounted everywhere a mount table shows: a block device must now be free. Still held
    /// means the filesystem lives on where no mount table shows it (a mount namespace no
    /// process is in, a lazily unmounted copy still open, a frozen superblock), and
    /// reporting stopped would let another node mount it.
    fn wait_released(
        &self,
        deadline: Deadline,
        graceful: Deadline,
        said_busy: &mut bool,
    ) -> Result<()> {
        let Some(device) = self.block_device() else {
            return Ok(());
        };
        let Ok(Some(node)) = self.host.device_by_link(&self.cfg.identity.spec) else {
            return Ok(());
        };
        let what = format!(
            "{} (unmounted wherever a mount table shows it, but still in use: a mount \
             namespace no process is in, a lazily unmounted copy still open, or a frozen \
             filesystem)",
            self.device_name()
        );
        let mut seen_in_use = false;
        loop {
            match self.host.in_use(&node, deadline.end()) {
                Ok(false) => return Ok(()),
                Ok(true) => seen_in_use = true,
                // The device was in use at the last look and the deadline came during this
                // one (with what little time was left): the device in use is the reason, not
                // a look that had no time to answer.
                Err(CallError::TimedOut { .. }) if seen_in_use => {
                    return Err(Error::generic(format!(
                        "could not release {what} before the stop timeout"
                    )));
                }
                Err(e @ CallError::TimedOut { .. }) => {
                    return Err(Error::generic(format!(
                        "checking that {} is released did not finish before the stop \
                         timeout: {e}",
                        self.device_name()
                    )));
                }
                Err(e) => {
                    log::warn!(
                        "cannot tell whether {} is still in use: {e}",
                        self.device_name()
                    );
                    return Ok(());
                }
            }
            self.busy(&what, device, deadline, graceful, said_busy)?;
        }
    }

    /// The next mount to take away, or None when the filesystem is mounted nowhere.
    /// `released`: the block device was found free after the last unmount here, so no
    /// mount namespace can have it mounted and none is looked for.
    fn next_step(
        &self,
        table: &MountTable,
        device: Option<Device>,
        released: bool,
    ) -> Result<Option<Step>> {
        let here = |m: &Mount| Step {
            mount: table
                .below(&m.mount_point)
                .first()
                .map_or_else(|| m.clone(), |sub| (*sub).clone()),
            namespace: None,
        };
        // The mount point, after what is mounted below it.
        if let State::Mounted(m) = self.state(table) {
            return Ok(Some(here(&m)));
        }
        let Some(device) = device else {
            return Ok(None);
        };
        // A block device's filesystem mounted elsewhere here (a bind mount of it, another
        // mount point).
        if self.cfg.is_block()
            && let Some(m) = table.by_device(device.major, device.minor).next()
        {
            if table.at(&m.mount_point).is_some_and(|top| top.id != m.id) {
                return Err(Error::generic(format!(
                    "{} is mounted on {} under another mount: unmount that first",
                    self.device_name(),
                    m.mount_point.display()
                )));
            }
            return Ok(Some(here(m)));
        }
        if released {
            return Ok(None);
        }
        // Other mount namespaces; for a source that is no block device only the copies of
        // our mount (the same filesystem on the same mount point).
        let namespaces = self.host.namespaces_with(device).map_err(|e| {
            Error::generic(format!(
                "cannot tell whether {} is mounted in another mount namespace: {e}",
                self.device_name()
            ))
        })?;
        for ns in namespaces {
            if !self.cfg.is_block() && !ns.mounts.iter().any(|m| m.mount_point == self.dir()) {
                continue;
            }
            if let (Some(process), Some(m)) = (ns.processes.first(), ns.unmount_order().next()) {
                return Ok(Some(Step {
                    mount: m.clone(),
                    namespace: Some(process.clone()),
                }));
            }
        }
        Ok(None)
    }

    /// Take every mount of the filesystem away, signalling what keeps one busy. Graceful
    /// signals get the time until `graceful`, forceful ones the rest. True when the last
    /// unmount (here) found the block device released, so nothing is left to check.
    fn unmount_all(
        &self,
        ctx: &Context,
        device: Option<Device>,
        deadline: Deadline,
        graceful: Deadline,
        said_busy: &mut bool,
    ) -> Result<bool> {
        let node = self.block_device().and_then(|_| {
            self.host
                .device_by_link(&self.cfg.identity.spec)
                .ok()
                .flatten()
        });
        let mut released = false;
        let mut status_file = match self.cfg.settings.force_unmount {
            ForceUnmount::Safe => {
                log::debug!("force_unmount=safe: leaving the status file in place");
                None
            }
            _ => Some(self.status_file(ctx)),
        };
        let mut vanished: Option<PathBuf> = None;
        loop {
            let table = self.table()?;
            let Some(step) = self.next_step(&table, device, released)? else {
                return Ok(released);
            };
            let at_mount_point = step.namespace.is_none() && step.mount.mount_point == self.dir();
            let request = Unmount {
                target: step.mount.mount_point.clone(),
                force: self.cfg.settings.fstype.force_unmount(),
                namespace: step.namespace.as_ref().map(|p| p.id),
                remove_first: if at_mount_point {
                    status_file.take()
                } else {
                    None
                },
                then_check: node.clone().filter(|_| step.namespace.is_none()),
            };
            match self.host.unmount(&request, deadline.end()) {
                Ok(in_use) => {
                    log::info!("unmounted {step}");
                    released = in_use == Some(false);
                    vanished = None;
                    continue;
                }
                // Not mounted there any more, or the namespace's process has left: look
                // again, but do not spin on a mount that stays listed.
                Err(e) if matches!(e.errno(), Some(Errno::EINVAL | Errno::ESRCH)) => {
                    if vanished.as_ref() == Some(&request.target)
                        && !deadline.sleep(self.cfg.settings.signal_delay.max(MIN_RETRY))
                    {
                        return Err(Error::generic(format!("couldn't unmount {step}: {e}")));
                    }
                    vanished = Some(request.target);
                    continue;
                }
                Err(e) if e.errno() == Some(Errno::EBUSY) => {}
                Err(e @ CallError::TimedOut { .. }) => {
                    return Err(Error::generic(format!(
                        "unmounting {step} did not finish before the stop timeout: {e}"
                    )));
                }
                Err(e) => return Err(Error::generic(format!("couldn't unmount {step}: {e}"))),
            }
            self.busy(
                &step.to_string(),
                step.device(),
                deadline,
                graceful,
                said_busy,
            )?;
        }
    }

    /// `step` (a mount, or the device itself), of filesystem `device`, is busy: signal what
    /// uses it as `force_unmount` allows, and wait before the next try; past the deadline,
    /// fail with who keeps it busy.
    fn busy(
        &self,
        step: &str,
        device: Device,
        deadline: Deadline,
        graceful: Deadline,
        said_busy: &mut bool,
    ) -> Result<()> {
        let s = &self.cfg.settings;
        let holders = match self.host.users(device, deadline.end()) {
            Ok(users) => users.holders,
            Err(e) => {
                log::warn!("cannot find the processes using {step}: {e}");
                Vec::new()
            }
        };
        let who = describe(&holders);
        let give_up = || {
            Error::generic(if s.force_unmount == ForceUnmount::False {
                format!("{step} is busy ({who}) and force_unmount=false: nothing was signalled")
            } else {
                format!("could not unmount {step} before the stop timeout: still used by {who}")
            })
        };
        if deadline.expired() {
            return Err(give_up());
        }
        let delay = if s.force_unmount == ForceUnmount::False {
            if !*said_busy {
                log::warn!(
                    "{step} is busy ({who}); force_unmount=false: signalling nothing, trying \
                     again until the stop timeout"
                );
                *said_busy = true;
            }
            s.signal_delay.max(MIN_RETRY)
        } else {
            if holders.is_empty() {
                log::warn!("{step} is busy but no process uses it (a kernel user?); trying again");
            }
            let signals = if graceful.expired() {
                &s.kill_signals
            } else {
                &s.term_signals
            };
            for h in &holders {
                for &signal in signals {
                    self.send(h, signal);
                }
            }
            if graceful.expired() {
                s.signal_delay
            } else {
                // Never let the graceful phase sleep into the forceful one's time.
                s.signal_delay.min(graceful.remaining().max(MIN_RETRY))
            }
        };
        if deadline.sleep(delay) {
            Ok(())
        } else {
            Err(give_up())
        }
    }

    /// Signal a holder through what was captured when it was found.
    fn send(&self, h: &Holder, signal: Signal) {
        log::info!(
            "sending {} to process {} ({}), which uses the filesystem through {}",
            signal.as_str(),
            h.pid(),
            h.comm(),
            uses_text(&h.uses)
        );
        match self.host.signal(&h.process, signal) {
            Ok(true) => {}
            Ok(false) => log::info!(
                "process {} is gone or is not the process found using the filesystem any \
                 more: not signalled",
                h.pid()
            ),
            Err(e) => log::warn!("{e}"),
        }
    }
}

impl<H: Host> Policy for Logic<H> {
    type Identity = Identity;
    type Settings = Settings;

    /// validate-all's checks (start runs them too): clone safety, and for GFS2 the lock
    /// protocol, the lock table's cluster name and DLM.
    /// What the configuration says, checked without touching the device: a clone only of a
    /// filesystem that can be cloned, and for GFS2 a device path that exists. Like monitor
    /// and probe it forks nothing: what the device holds (the lock table naming this
    /// cluster, lock_dlm for a clone) and whether DLM runs are facts of this node and this
    /// moment, which start checks in its helper, bounded, right before it mounts (a read of
    /// a dead device can hang in the kernel; Filesystem reads no superblock at all).
    fn validate(&self, ctx: &Context) -> Result<()> {
        self.clone_safety(ctx.env.meta.is_clone())?;
        if self.cfg.settings.fstype.is_gfs2() && self.cfg.is_block() {
            self.device_present()?;
        }
        Ok(())
    }

    fn start(&self, ctx: &Context) -> Result<Status> {
        self.validate(ctx)?;
        if self.cfg.settings.fstype.is_gfs2() && self.cfg.is_block() {
            self.check_gfs2(ctx)?;
        }
        let table = self.table()?;
        match self.state(&table) {
            State::Mounted(_) => {
                log::info!("{} is already mounted", self.dir().display());
                return Ok(Status::Success);
            }
            State::Other(why) => return Err(Error::generic(why)),
            State::Unmounted => {}
        }
        // Something left mounted below the mount point on this node: a local fault.
        if let Some(sub) = table.below(self.dir()).first() {
            return Err(Error::generic(format!(
                "{} is mounted below {}: refusing to mount over it",
                sub.mount_point.display(),
                self.dir().display()
            )));
        }
        let source = self.source(ctx, &table)?;
        self.ensure_fstype(ctx)?;
        if self.needs_fsck() {
            self.fsck(&source, ctx)?;
        }
        self.host.make_mount_point(self.dir()).map_err(|e| {
            Error::installed(format!(
                "couldn't create mount point {}: {}",
                self.dir().display(),
                io_text(&e)
            ))
        })?;
        let s = &self.cfg.settings;
        match self.host.mount(
            &source,
            self.dir(),
            s.fstype.name(),
            &s.options_text,
            ctx.deadline.end(),
        ) {
            Ok(()) => {}
            Err(e @ CallError::TimedOut { .. }) => {
                return Err(Error::generic(format!(
                    "mounting {} on {} did not finish before the start timeout: {e}",
                    self.device_name(),
                    self.dir().display()
                )));
            }
            Err(e) => {
                return Err(Error::generic(format!(
                    "couldn't mount {}: {e}",
                    self.device_name()
                )));
            }
        }
        log::info!("mounted {source} on {}", self.dir().display());
        Ok(Status::Success)
    }

    /// Depth 0 reads the mount table only; depth 10 reads the device; depth 20 writes and
    /// reads back a status file. An unknown depth uses the next lower one (OCF 1.1); a depth
    /// that cannot run here (10 on a source that is no block device, 20 on a read-only
    /// mount) falls back to the one below with a warning, never to an error.
    fn monitor(&self, ctx: &Context) -> Result<Status> {
        let table = self.table()?;
        let mounted = match self.state(&table) {
            State::Mounted(m) => m,
            State::Unmounted => return self.not_running(ctx, &table),
            State::Other(why) if ctx.is_probe() => {
                log::info!("{why}");
                return self.not_running(ctx, &table);
            }
            State::Other(why) => return Err(Error::generic(why)),
        };
        if self.cfg.settings.fstype.is_gfs2() {
            self.check_not_withdrawn(&mounted)?;
        }
        let level = ctx.env.check_level;
        if level >= 10 {
            self.read_device(ctx, &mounted)?;
        }
        if level >= 20 {
            self.check_status_file(ctx, &mounted)?;
        }
        Ok(Status::Success)
    }

    /// Unmount the filesystem everywhere on this node (see the module documentation),
    /// signalling what keeps it busy as `force_unmount` allows, until the deadline.
    fn stop(&self, ctx: &Context) -> Result<Status> {
        let table = self.table()?;
        let device = match self.state(&table) {
            State::Mounted(m) if !self.cfg.is_bind() => Some(Device::of(&m)),
            State::Other(why) => {
                log::warn!("not ours, leaving it mounted: {why}");
                self.block_device()
            }
            _ => self.block_device(),
        };
        let s = &self.cfg.settings;
        let deadline = if s.fast_stop && !s.fstype.is_gfs2() {
            ctx.deadline.within(FAST_STOP)
        } else {
            ctx.deadline
        };
        let graceful = deadline.share(0.5);
        let mut said_busy = false;
        let released = self.unmount_all(ctx, device, deadline, graceful, &mut said_busy)?;
        if !released {
            self.wait_released(deadline, graceful, &mut said_busy)?;
        }
        Ok(Status::Success)
    }
}

/// The GFS2 rules: a clone needs lock_dlm; with lock_dlm, the lock table's cluster must be
/// corosync's `cluster_name` (the kernel refuses the mount otherwise, after a DLM timeout).
pub fn check_superblock(
    sb: &gfs2_superblock::Superblock,
    cluster: Option<&str>,
    cloned: bool,
    device: &str,
) -> Result<()> {
    if cloned && sb.lock_proto != "lock_dlm" {
        return Err(Error::configured(format!(
            "gfs2 on {device} has lock protocol {}; a clone needs lock_dlm \
             (tunegfs2 -o lockproto=lock_dlm)",
            sb.lock_proto
        )));
    }
    if sb.lock_proto != "lock_dlm" {
        return Ok(());
    }
    let Some(cluster) = cluster else {
        return Err(Error::configured(format!(
            "gfs2 on {device} uses lock_dlm but {} has no totem.cluster_name",
            corosync::COROSYNC_CONF
        )));
    };
    match sb.cluster_name() {
        Some(c) if c == cluster => Ok(()),
        _ => Err(Error::configured(format!(
            "gfs2 on {device} has lock table {}, which does not name this cluster {cluster} \
             (tunegfs2 -o locktable={cluster}:NAME)",
            sb.lock_table
        ))),
    }
}

/// How a holder uses the filesystem, in words.
fn uses_text(uses: &[Use]) -> String {
    let words: Vec<&str> = uses
        .iter()
        .map(|u| match u {
            Use::Cwd => "its working directory",
            Use::Root => "its root directory",
            Use::Exe => "its executable",
            Use::OpenFile => "an open file",
            Use::Mmap => "a mapped file",
        })
        .collect();
    words.join(" and ")
}

/// The holders, for a message: `process 12 (sleep), process 40 (httpd) and 3 more`.
fn describe(holders: &[Holder]) -> String {
    if holders.is_empty() {
        return "no process found".to_owned();
    }
    let listed: Vec<String> = holders
        .iter()
        .take(10)
        .map(|h| format!("process {} ({})", h.pid(), h.comm()))
        .collect();
    match holders.len().saturating_sub(10) {
        0 => listed.join(", "),
        more => format!("{} and {more} more", listed.join(", ")),
    }
}

#[cfg(test)]
mod tests;
