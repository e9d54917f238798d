//! # gfs2-fs: the shared filesystem mount (ocf:native:gfs2-fs)
//!
//! A drop-in for ocf:heartbeat:Filesystem with its parameters, over mount(2) and
//! umount2(2): GFS2 cloned on every node of the cluster (the lock table in the superblock must
//! name this cluster, DLM must be up), or a plain ext4/xfs filesystem on one node. Monitor
//! depth 0 reads /proc/self/mountinfo and forks nothing; depths 10 and 20 do their I/O on a
//! worker thread and give up at the deadline. Stop signals only the processes that use the
//! mount, found through /proc without touching the filesystem.

mod checks;
pub mod config;
pub mod corosync;
mod source;
mod start;
pub mod status;
mod status_file;
mod stop;

use config::{Config, ForceUnmount};
use mounts::{DeviceSpec, MountTable, bounded};
use ocf::{Context, Error, Result, ResultExt, Status};
use status::State;
use std::path::PathBuf;
use std::time::Duration;

/// The agent.
#[derive(Debug)]
pub struct Agent {
    cfg: Config,
}

impl ocf::Agent for Agent {
    const NAME: &'static str = "gfs2-fs";
    const METADATA: &'static str = include_str!("../../../xml-metadata/gfs2-fs.xml");

    fn from_context(ctx: &Context) -> Result<Agent> {
        Ok(Agent {
            cfg: Config::from_context(ctx)?,
        })
    }

    fn validate(&self, ctx: &Context) -> Result<()> {
        checks::validate(&self.cfg, ctx)
    }

    fn start(&self, ctx: &Context) -> Result<Status> {
        start::start(&self.cfg, ctx)
    }

    fn stop(&self, ctx: &Context) -> Result<Status> {
        let cfg = &self.cfg;
        let table = MountTable::read().or_generic(|| "reading the mount table")?;
        match status::state(cfg, &table) {
            State::Unmounted => return Ok(Status::Success),
            State::Other(_, why) => {
                log::warn!("not ours, leaving it mounted: {why}");
                return Ok(Status::Success);
            }
            State::Mounted(_) => {}
        }
        // fast_stop gives each unmount 6 s; never for gfs2, whose unmount waits for DLM.
        let deadline = if cfg.fast_stop && cfg.fstype != "gfs2" {
            ctx.deadline.within(Duration::from_secs(6))
        } else {
            ctx.deadline
        };
        if cfg.force_unmount == ForceUnmount::Safe {
            log::debug!("force_unmount=safe: leaving the status file in place");
        } else {
            remove_status_file(cfg.directory.clone(), self.status_file(ctx), deadline);
        }
        stop::unmount_all(cfg, deadline)?;
        Ok(Status::Success)
    }

    fn monitor(&self, ctx: &Context) -> Result<Status> {
        let cfg = &self.cfg;
        let table = MountTable::read().or_generic(|| "reading the mount table")?;
        match status::state(cfg, &table) {
            State::Unmounted => return Ok(Status::NotRunning),
            State::Other(_, why) if ctx.is_probe() => {
                log::info!("{why}");
                return Ok(Status::NotRunning);
            }
            State::Other(_, why) => return Err(Error::generic(why)),
            State::Mounted(_) => {}
        }
        // OCF: an unknown depth uses the next lower one the agent knows.
        let level = ctx.env.check_level;
        if level >= 10 {
            self.read_device(ctx)?;
        }
        if level >= 20 {
            self.write_status_file(ctx)?;
        }
        Ok(Status::Success)
    }
}

impl Agent {
    /// Depth 10: read the device with O_DIRECT (nothing to read for a remote or bind source).
    fn read_device(&self, ctx: &Context) -> Result<()> {
        let cfg = &self.cfg;
        if cfg.is_bind() || !cfg.spec.is_local() {
            log::debug!(
                "{} is not a block device: depth 10 has nothing to read",
                cfg.device
            );
            return Ok(());
        }
        let dev = match cfg.spec.resolve_by_link() {
            Ok(Some(d)) => d,
            // A UUID/label without udev link: the mounted source is the device.
            _ => match MountTable::read()
                .ok()
                .and_then(|t| t.at(&cfg.directory).map(|m| PathBuf::from(&m.source)))
            {
                Some(d) => d,
                None => {
                    return Err(Error::generic(format!(
                        "cannot find the device of {}",
                        cfg.device
                    )));
                }
            },
        };
        let shown = dev.display().to_string();
        match bounded::run("read device", ctx.deadline.end(), move || {
            mounts::direct_io::read_block(&dev)
        }) {
            Some(Ok(())) => Ok(()),
            Some(Err(e)) => Err(Error::generic(format!(
                "failed to read device {shown}: {e}"
            ))),
            None => Err(Error::generic(format!(
                "reading device {shown} did not finish before the monitor timeout"
            ))),
        }
    }

    /// Depth 20: write the status file with O_DIRECT|O_SYNC and read it back (nothing below
    /// the mount point followed, see `status_file`).
    fn write_status_file(&self, ctx: &Context) -> Result<()> {
        let rel = self.status_file(ctx);
        let mount = self.cfg.directory.clone();
        let shown = mount.join(&rel).display().to_string();
        let content = format!("{}\n", ctx.env.instance).into_bytes();
        let res = bounded::run("status file", ctx.deadline.end(), move || {
            status_file::write_and_verify(&mount, &rel, &content)
        });
        match res {
            Some(Ok(())) => Ok(()),
            Some(Err(e)) => Err(Error::generic(format!(
                "failed to write and read back status file {shown}: {e}"
            ))),
            None => Err(Error::generic(format!(
                "writing status file {shown} did not finish before the monitor timeout"
            ))),
        }
    }

    /// `<prefix><instance>[_<clone>]_<node>`, relative to the mount point, as Filesystem
    /// names it.
    fn status_file(&self, ctx: &Context) -> PathBuf {
        let mut name = ctx.env.instance.replace('/', "_");
        if let Some(n) = ctx.env.meta.clone {
            name = format!("{name}_{n}");
        }
        name.push('_');
        name.push_str(&node_name(ctx).replace('/', "_"));
        PathBuf::from(format!("{}{name}", self.cfg.statusfile_prefix))
    }
}

/// This node's name: Pacemaker's `on_node`, else the kernel's host name (`uname -n`).
fn node_name(ctx: &Context) -> String {
    ctx.env
        .meta
        .raw
        .get("on_node")
        .cloned()
        .or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|s| s.trim().to_owned())
        })
        .unwrap_or_else(|| "localhost".to_owned())
}

/// Remove the depth-20 status file (it would otherwise be left on shared storage), on a
/// worker thread with a short bound: a failure only warns.
fn remove_status_file(mount: PathBuf, rel: PathBuf, deadline: ocf::Deadline) {
    let bound = deadline.within(Duration::from_secs(2).max(deadline.remaining() / 10));
    let shown = mount.join(&rel).display().to_string();
    match bounded::run("remove status file", bound.end(), move || {
        status_file::remove(&mount, &rel)
    }) {
        Some(Ok(())) => log::debug!("removed {shown} (if it was there)"),
        Some(Err(e)) => log::warn!("could not remove status file {shown}: {e}"),
        None => log::warn!("removing status file {shown} hangs; unmounting anyway"),
    }
}

/// The device node for a local spec: a path must exist, a UUID or label must resolve.
pub(crate) fn local_device(
    spec: &DeviceSpec,
    device: &str,
    deadline: ocf::Deadline,
) -> Result<PathBuf> {
    let s = spec.clone();
    let found = bounded::run("resolve device", deadline.end(), move || s.resolve())
        .ok_or_else(|| Error::generic(format!("looking for device {device} took too long")))?;
    match found {
        Ok(Some(p)) => Ok(p),
        Ok(None) => Err(Error::installed(format!("couldn't find device {device}"))),
        Err(e) => Err(Error::installed(format!(
            "couldn't find device {device}: {e}"
        ))),
    }
}

#[cfg(test)]
mod tests;
