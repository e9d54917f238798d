//! # drbd-dualprimary: DRBD as a promotable clone, both nodes Primary when promoted-max=2
//!
//! A drop-in for `ocf:linbit:drbd` with its parameters. Role changes and the status monitor
//! reads go to the kernel over DRBD's generic netlink family (crate `drbd-genl`, DRBD 8.4
//! and 9); configuration (`up`, `adjust`, `down`) stays with drbdadm; the promotion score
//! goes through crm_attribute (crate `pacemaker-cli`) only when it changes.
//!
//! The shape every agent follows:
//! - [`config`]: the identity (`drbd_resource`) and the settings, each parsed once from
//!   `ocf::Params`;
//! - [`host`]: the [`host::Host`] trait, only what this agent asks of the kernel and the
//!   cluster, and [`host::System`], its real implementation;
//! - [`logic`]: the policy, [`logic::Logic<H: Host>`], unit-tested on a fake host without
//!   root or a DRBD module;
//! - this file: [`Agent`], the policy over the real host, with its [`ocf::Agent`] impl;
//!   `main.rs` is one line.
//!
//! Beside them: [`clone`] (the clone's meta-attributes) and [`score`] (the promotion score
//! a status deserves, and the cache that spares a monitor its crm_attribute).

pub mod clone;
pub mod config;
pub mod drbdconf;
pub mod host;
pub mod logic;
pub mod score;

use config::{Config, Identity, Settings};
use host::System;
use logic::Logic;
use ocf::{Context, Params, Presence, Result};
use score::ScoreCache;

/// Where the last written promotion scores are cached.
pub const CACHE_DIR: &str = "/run/drbd-dualprimary";

/// The agent: its policy over the real host.
pub type Agent = Logic<System>;

impl ocf::Agent for Agent {
    const METADATA: &'static str = include_str!("../../../xml-metadata/drbd-dualprimary.xml");

    /// A resource name DRBD cannot have is not up; any other is asked of the kernel.
    fn presence_without_identity(params: &Params, ctx: &Context) -> Result<Presence> {
        logic::presence(&System, params.raw("drbd_resource"), ctx.deadline.end())
    }

    fn new(identity: Identity, settings: Settings, _ctx: &Context) -> Result<Agent> {
        Ok(Logic {
            cfg: Config { identity, settings },
            host: System,
            cache: ScoreCache::new(CACHE_DIR),
            refused_promote_min: logic::REFUSED_PROMOTE_MIN,
        })
    }
}
