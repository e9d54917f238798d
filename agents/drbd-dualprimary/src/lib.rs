//! # drbd-dualprimary: DRBD as a promotable clone, both nodes Primary when promoted-max=2
//!
//! A drop-in for `ocf:linbit:drbd` with its parameters. Role changes and the status monitor
//! reads go to the kernel over DRBD's generic netlink family (crate `drbd-genl`, DRBD 8.4
//! and 9); configuration (`up`, `adjust`, `down`, `dump`) stays with drbdadm; the
//! promotion score goes through crm_attribute (crate `pacemaker-cli`) only when it changes.
//! All host access sits behind [`ctl::DrbdCtl`], so the actions are tested against a fake.

pub mod checks;
pub mod ctl;
pub mod logic;
pub mod score;

use ocf::{Action, Context, Error, Result, Status};
use std::path::PathBuf;

pub use logic::{Logic, Settings};

/// Where the last written promotion scores are cached.
pub const CACHE_DIR: &str = "/run/drbd-dualprimary";

/// The agent: its settings and the real host.
pub struct Agent {
    logic: Logic<ctl::System>,
}

impl ocf::Agent for Agent {
    const NAME: &'static str = "drbd-dualprimary";
    const METADATA: &'static str = include_str!("../../../xml-metadata/drbd-dualprimary.xml");

    fn from_context(ctx: &Context) -> Result<Agent> {
        Ok(Agent {
            logic: Logic {
                settings: Settings::from_context(ctx)?,
                ctl: ctl::System,
                cache: score::ScoreCache::new(PathBuf::from(CACHE_DIR)),
                refused_promote_min: logic::REFUSED_PROMOTE_MIN,
            },
        })
    }

    /// A stop with bad parameters has nothing it could stop: 0, as LINBIT's agent.
    fn config_error(action: Action, _ctx: &Context, err: Error) -> Result<Status> {
        if action == Action::Stop {
            log::warn!("stop with invalid parameters, nothing to stop: {err}");
            return Ok(Status::Success);
        }
        Err(err)
    }

    fn validate(&self, ctx: &Context) -> Result<()> {
        self.logic.validate(ctx)
    }
    fn start(&self, ctx: &Context) -> Result<Status> {
        self.logic.start(ctx)
    }
    fn stop(&self, ctx: &Context) -> Result<Status> {
        self.logic.stop(ctx)
    }
    fn monitor(&self, ctx: &Context) -> Result<Status> {
        self.logic.monitor(ctx)
    }
    fn promote(&self, ctx: &Context) -> Result<Status> {
        self.logic.promote(ctx)
    }
    fn demote(&self, ctx: &Context) -> Result<Status> {
        self.logic.demote(ctx)
    }
    fn notify(&self, ctx: &Context) -> Result<Status> {
        self.logic.notify(ctx)
    }
    fn reload(&self, ctx: &Context) -> Result<Status> {
        self.logic.reload(ctx)
    }
}

#[cfg(test)]
mod tests;
