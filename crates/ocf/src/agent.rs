//! The trait an agent implements, and the context each action runs in.

use crate::action::Action;
use crate::deadline::Deadline;
use crate::env::Env;
use crate::error::{Error, Result};
use crate::params::Params;
use crate::status::Status;

/// What one invocation knows: the action, the environment, the parameters and the deadline.
#[derive(Debug)]
pub struct Context {
    pub action: Action,
    pub env: Env,
    pub params: Params,
    pub deadline: Deadline,
}

impl Context {
    /// True for a probe (a monitor with no interval).
    pub fn is_probe(&self) -> bool {
        self.action == Action::Monitor && self.env.is_probe()
    }
}

/// A resource agent. `ocf::run::<MyAgent>()` is all its `main` needs.
///
/// `from_context` reads and checks every parameter for every action (so that the XML and the
/// parser cannot drift and bad values fail fast); the action methods then do the work.
/// Returning `Ok(status)` exits with that status; returning `Err(e)` prints
/// `ocf-exit-reason:` with e's reason and exits with e's status.
pub trait Agent: Sized {
    /// The agent's type name, as installed (`ipaddr2`).
    const NAME: &'static str;
    /// The metadata XML, printed by `meta-data` and read for parameter types and defaults.
    const METADATA: &'static str;

    /// Read and check the parameters (no system access beyond what validation needs).
    fn from_context(ctx: &Context) -> Result<Self>;

    /// What a configuration error from `from_context` means for `action`. The default keeps
    /// it; agents follow their anchor here (e.g. a probe of a misconfigured resource is 7,
    /// a stop of one is 0).
    fn config_error(action: Action, ctx: &Context, err: Error) -> Result<Status> {
        let _ = (action, ctx);
        Err(err)
    }

    /// Checks for `validate-all` beyond parsing (binaries present, host facts).
    fn validate(&self, ctx: &Context) -> Result<()> {
        let _ = ctx;
        Ok(())
    }

    fn start(&self, ctx: &Context) -> Result<Status>;
    fn stop(&self, ctx: &Context) -> Result<Status>;
    fn monitor(&self, ctx: &Context) -> Result<Status>;

    fn promote(&self, ctx: &Context) -> Result<Status> {
        unimplemented_action(ctx)
    }
    fn demote(&self, ctx: &Context) -> Result<Status> {
        unimplemented_action(ctx)
    }
    fn notify(&self, ctx: &Context) -> Result<Status> {
        unimplemented_action(ctx)
    }
    fn reload_agent(&self, ctx: &Context) -> Result<Status> {
        unimplemented_action(ctx)
    }
    fn reload(&self, ctx: &Context) -> Result<Status> {
        unimplemented_action(ctx)
    }
    fn migrate_to(&self, ctx: &Context) -> Result<Status> {
        unimplemented_action(ctx)
    }
    fn migrate_from(&self, ctx: &Context) -> Result<Status> {
        unimplemented_action(ctx)
    }
}

fn unimplemented_action(ctx: &Context) -> Result<Status> {
    Err(Error::unimplemented(format!(
        "action {} is not implemented",
        ctx.action
    )))
}
