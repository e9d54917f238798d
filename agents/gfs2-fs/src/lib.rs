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

use config::{Config, ForceUnmount, Identity, Settings};
use mounts::{DeviceSpec, MountTable, bounded};
use ocf::{Context, Error, Params, Presence, Result, ResultExt, Status};
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

    type Identity = Identity;
    type Settings = Settings;

    /// Without a usable identity, whatever is mounted on `directory` (when it is an absolute
    /// path, normalised as the identity would) may be the resource; nothing can be mounted
    /// on a `directory` that is no mount point at all.
    fn presence_without_identity(params: &Params, _ctx: &Context) -> Result<Presence> {
        let Some(raw) = params.raw("directory") else {
            return Ok(Presence::Absent("no directory is set".into()));
        };
        let Ok(directory) = config::mount_point(raw) else {
            return Ok(Presence::Absent(format!(
                "{} can be no mount point",
                ocf::error::printable(raw)
            )));
        };
        let table = MountTable::read().or_generic(|| "reading the mount table")?;
        Ok(match table.at(&directory) {
            None => Presence::Absent(format!("nothing is mounted on {}", directory.display())),
            Some(m) => {
                Presence::Possible(format!("{} mounted on {}", m.source, directory.display()))
            }
        })
    }

    fn new(identity: Identity, settings: Settings, _ctx: &Context) -> Result<Agent> {
        Ok(Agent {
            cfg: Config { identity, settings },
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
        let deadline = if cfg.settings.fast_stop && cfg.settings.fstype != "gfs2" {
            ctx.deadline.within(Duration::from_secs(6))
        } else {
            ctx.deadline
        };
        if cfg.settings.force_unmount == ForceUnmount::Safe {
            log::debug!("force_unmount=safe: leaving the status file in place");
        } else {
            remove_status_file(
                cfg.identity.directory.clone(),
                self.status_file(ctx),
                deadline,
            );
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
        if cfg.is_bind() || !cfg.identity.spec.is_local() {
            log::debug!(
                "{} is not a block device: depth 10 has nothing to read",
                cfg.identity.device
            );
            return Ok(());
        }
        let dev = match cfg.identity.spec.resolve_by_link() {
            Ok(Some(d)) => d,
            // A UUID/label without udev link: the mounted source is the device.
            _ => match MountTable::read().ok().and_then(|t| {
                t.at(&cfg.identity.directory)
                    .map(|m| PathBuf::from(&m.source))
            }) {
                Some(d) => d,
                None => {
                    return Err(Error::generic(format!(
                        "cannot find the device of {}",
                        cfg.identity.device
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
        let mount = self.cfg.identity.directory.clone();
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
    /// names it (instance and node made file names by ocf's one rule).
    fn status_file(&self, ctx: &Context) -> PathBuf {
        let mut name = ctx.env.instance_file_name();
        if let Some(n) = ctx.env.meta.clone {
            name = format!("{name}_{n}");
        }
        name.push('_');
        name.push_str(&ocf::env::file_name(&ctx.env.node_name()));
        PathBuf::from(format!("{}{name}", self.cfg.settings.statusfile_prefix))
    }
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
