//! # dlm-controld-wrapper: the DLM daemon, a drop-in for ocf:pacemaker:controld
//!
//! Runs dlm_controld, the daemon of the kernel's Distributed Lock Manager that GFS2 needs on
//! every node, with the anchor's parameters. Every wait is bounded by the deadline, monitor
//! asks the daemon over its query socket instead of forking dlm_tool (and believes only the
//! daemon: SO_PEERCRED), processes are the daemon by their binary and user, not their name,
//! and stop refuses at once while lockspaces are in use. Like the anchor, it never turns the
//! daemon's own fencing off by itself: with fencing disabled (and allowed) a lost node freezes
//! GFS2 rather than letting two nodes write it; only the administrator's `args`
//! (`--enable_fencing 0`) trade that freeze for the risk, which start then logs.
//!
//! The shape every agent follows:
//! - [`config`]: the identity (`daemon`) and the settings (`args`, the fencing switch), each
//!   parsed once from `ocf::Params` ([`args`] reads the words as dlm_controld does);
//! - [`host`]: the [`host::Host`] trait, only what this agent asks of the machine, and
//!   [`host::System`], its real implementation;
//! - [`logic`]: the policy, [`logic::Logic<H: Host>`], unit-tested on a fake host without
//!   root ([`health`] holds its pure decisions);
//! - this file: [`Agent`], the policy over the real host, with its [`ocf::Agent`] impl;
//!   `main.rs` is one line.

pub mod args;
pub mod config;
pub mod fence_helper;
pub mod health;
pub mod host;
pub mod logic;

use config::{Config, Identity, Settings};
use host::System;
use logic::Logic;
use ocf::{Context, Params, Presence, Result};

/// The agent: its policy over the real host.
pub type Agent = Logic<System>;

impl ocf::Agent for Agent {
    const METADATA: &'static str = include_str!("../../../xml-metadata/dlm-controld-wrapper.xml");

    /// With `daemon` unusable, a daemon may still run: one of that file name or
    /// dlm_controld, run by root, or lockspaces in the kernel.
    fn presence_without_identity(params: &Params, _ctx: &Context) -> Result<Presence> {
        logic::presence(&System::new(), params.raw("daemon").unwrap_or_default())
    }

    fn new(identity: Identity, settings: Settings, _ctx: &Context) -> Result<Agent> {
        Ok(Logic {
            cfg: Config { identity, settings },
            host: System::new(),
        })
    }
}
