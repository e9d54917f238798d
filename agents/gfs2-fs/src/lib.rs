//! # gfs2-fs: the shared filesystem mount (ocf:native:gfs2-fs)
//!
//! A drop-in for ocf:heartbeat:Filesystem with its parameters, over mount(2) and
//! umount2(2): GFS2 cloned on every node of the cluster (the lock table in the superblock
//! must name this cluster, DLM must be up), or a plain ext4/xfs filesystem on one node.
//! Monitor depth 0 reads /proc/self/mountinfo and forks nothing. What can hang on dead
//! storage (mount, unmount, the depth-10 and depth-20 I/O, superblock reads) runs in a
//! helper process that is left behind at the deadline, so the agent always reports and
//! exits ([`isolated`]). Stop unmounts the filesystem in every mount namespace and signals
//! only the processes that use it, found through /proc without touching the filesystem.
//!
//! The shape every agent follows:
//! - [`config`]: the identity (`device`, `directory`) and the settings, each parsed once
//!   from `ocf::Params`, with one [`config::FsType`] that knows each filesystem type;
//! - [`host`]: the [`host::Host`] trait, only what this agent asks of the kernel and the
//!   cluster, and [`host::System`], its real implementation;
//! - [`logic`]: the policy, [`logic::Logic<H: Host>`], unit-tested on a fake host without
//!   root;
//! - this file: [`Agent`], the policy over the real host, with its [`ocf::Agent`] impl and
//!   the helper mode of [`isolated`]; `main.rs` is one line.

pub mod config;
pub mod corosync;
pub mod host;
pub mod isolated;
pub mod logic;
mod status_file;

use config::{Config, Identity, Settings};
use host::System;
use logic::Logic;
use mounts::MountTable;
use ocf::{Context, Env, Params, Presence, Result, Status};

/// The agent: its policy over the real host.
pub type Agent = Logic<System>;

impl ocf::Agent for Agent {
    const METADATA: &'static str = include_str!("../../../xml-metadata/gfs2-fs.xml");

    fn new(identity: Identity, settings: Settings, _ctx: &Context) -> Result<Agent> {
        Ok(Logic {
            cfg: Config { identity, settings },
            host: System,
        })
    }

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
        let table = MountTable::read().map_err(|e| {
            ocf::Error::generic(format!("cannot read this node's mount table: {e}"))
        })?;
        Ok(match table.at(&directory) {
            None => Presence::Absent(format!("nothing is mounted on {}", directory.display())),
            Some(m) => {
                Presence::Possible(format!("{} mounted on {}", m.source, directory.display()))
            }
        })
    }

    /// `--isolated <call> <args>`: one call that may hang on dead storage, made in a helper
    /// process of the agent's own (see [`isolated`]).
    fn helper(mode: &str, args: &[String], _env: &Env) -> Option<Result<Status>> {
        (mode == isolated::MODE).then(|| isolated::serve(args))
    }
}
