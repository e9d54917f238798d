//! # drbd-dualprimary: DRBD as a promotable clone, both nodes Primary when promoted-max=2
//!
//! A drop-in for `ocf:linbit:drbd` with its parameters. Role changes and the status monitor
//! reads go to the kernel over DRBD's generic netlink family (crate `drbd-genl`, DRBD 8.4
//! and 9); configuration (`up`, `adjust`, `down`, `dump`) stays with drbdadm; the
//! promotion score goes through crm_attribute (crate `pacemaker-cli`) only when it changes.
//! All host access sits behind [`ctl::DrbdCtl`], so the actions are tested against a fake.

pub mod checks;
pub mod config;
pub mod ctl;
pub mod logic;
pub mod score;

use config::{Identity, Settings};
use ctl::DrbdCtl;
use ocf::{Context, Error, Params, Presence, Result, Status};
use std::path::PathBuf;

pub use logic::Logic;

/// Where the last written promotion scores are cached.
pub const CACHE_DIR: &str = "/run/drbd-dualprimary";

/// The agent: its settings and the real host.
pub struct Agent {
    logic: Logic<ctl::System>,
}

impl ocf::Agent for Agent {
    const NAME: &'static str = "drbd-dualprimary";
    const METADATA: &'static str = include_str!("../../../xml-metadata/drbd-dualprimary.xml");

    type Identity = Identity;
    type Settings = Settings;

    /// A resource name DRBD cannot have is not up; any other is asked of the kernel.
    fn presence_without_identity(params: &Params, ctx: &Context) -> Result<Presence> {
        let Some(name) = params.raw("drbd_resource") else {
            return Ok(Presence::Absent("no drbd_resource is set".into()));
        };
        if name.len() > checks::MAX_RESOURCE_NAME || name.contains('\0') {
            return Ok(Presence::Absent(
                "the kernel takes no DRBD resource name like it".into(),
            ));
        }
        match ctl::System.status(name, ctx.deadline.end()) {
            Ok(None) => Ok(Presence::Absent(format!(
                "the kernel has no DRBD resource {name}"
            ))),
            Ok(Some(st)) => Ok(Presence::Possible(format!(
                "DRBD resource {name}, which is up here ({})",
                st.summary()
            ))),
            Err(e) => Err(Error::generic(e)),
        }
    }

    fn new(identity: Identity, settings: Settings, _ctx: &Context) -> Result<Agent> {
        Ok(Agent {
            logic: Logic {
                identity,
                settings,
                ctl: ctl::System,
                cache: score::ScoreCache::new(PathBuf::from(CACHE_DIR)),
                refused_promote_min: logic::REFUSED_PROMOTE_MIN,
            },
        })
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
