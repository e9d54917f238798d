//! The trait an agent implements, and the context each action runs in.

use crate::action::Action;
use crate::deadline::Deadline;
use crate::env::Env;
use crate::error::{Error, Result};
use crate::params::Params;
use crate::status::Status;

/// What one invocation knows besides its configuration: the action, the environment and the
/// deadline. The parameters are not here: they are parsed once, before the action, into the
/// agent's [`Policy::Identity`] and [`Policy::Settings`].
#[derive(Debug)]
pub struct Context {
    pub action: Action,
    pub env: Env,
    pub deadline: Deadline,
}

impl Context {
    /// A context for `action` in `env`, its deadline from `CRM_meta_timeout` starting now.
    pub fn new(action: Action, env: Env) -> Context {
        Context {
            action,
            deadline: Deadline::for_timeout(env.meta.timeout),
            env,
        }
    }

    /// True for a probe (a monitor with no interval).
    pub fn is_probe(&self) -> bool {
        self.action == Action::Monitor && self.env.is_probe()
    }
}

/// The answer of [`Agent::presence_without_identity`]: could anything the unusable identity
/// might name be running on this node?
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presence {
    /// Nothing matching can be running here, and why (logged): a probe answers 7, a stop 0.
    Absent(String),
    /// Something matching may be running here (what): probe and stop fail with the
    /// identity's error and this, since stopping it would need the identity.
    Possible(String),
}

/// The identity tier of an agent's configuration: the parameters that find the resource on
/// this node (an address and its interface, a device and its mount point, a configuration
/// file and its binary). Stop needs it and nothing else; every required parameter is in it.
pub trait Identity: Sized {
    /// The names of its parameters, as the XML spells them. Every other declared parameter
    /// is a setting.
    const PARAMS: &'static [&'static str];

    /// Read only [`Identity::PARAMS`], check them by their text (no system access beyond
    /// what telling a good value from a bad one needs), and turn a bad value into
    /// [`Error::bad_param`].
    fn parse(params: &Params, ctx: &Context) -> Result<Self>;
}

/// The settings tier: every parameter that is not identity, for identity `I`.
pub trait Settings<I>: Sized {
    /// Read only the settings. A bad value is [`Error::bad_param`] naming the parameter:
    /// `ocf::run` then tries again with the XML default in its place for the actions that
    /// must go on (see [`crate::config`]), so every setting must parse from its XML default
    /// alone (`testing::assert_params_match_metadata` checks it). Checks that depend on
    /// meta-attributes or the host belong in [`Policy::validate`], not here.
    fn parse(params: &Params, identity: &I, ctx: &Context) -> Result<Self>;
}

/// The actions of an agent over any host: what its `Logic<H: Host>` does for each, and the
/// two tiers of configuration it runs on. `ocf::run` calls these on the [`Agent`] (the same
/// `Logic` over the real host); unit tests call them on a fake host, so the code they drive
/// is the code Pacemaker runs.
///
/// The configuration comes in two tiers, each a type of the agent's `config.rs` parsed by its
/// own function from [`Params`]:
/// - the **identity** ([`Identity`]): what finds the resource on this node;
/// - the **settings** ([`Settings`]): every other parameter, how to start, check and stop it.
///
/// `ocf::run` parses both and applies the bad-configuration rule (module [`crate::config`])
/// before any action runs, so an action always runs on a usable identity and usable settings.
/// Returning `Ok(status)` exits with that status; returning `Err(e)` prints
/// `ocf-exit-reason:` with e's reason and exits with e's status. An action the agent does not
/// write answers OCF_ERR_UNIMPLEMENTED (and one its metadata does not list never gets here).
pub trait Policy {
    /// What finds the resource on this node, parsed by [`Identity::parse`].
    type Identity: Identity;
    /// Everything else the actions need, parsed by [`Settings::parse`].
    type Settings: Settings<Self::Identity>;

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

/// A resource agent: its [`Policy`] over the real host (`pub type Agent = Logic<System>;`),
/// with what `ocf::run` needs besides the actions: the metadata, how to build it, what to do
/// when its identity does not parse, and any helper mode. `ocf::run::<name::Agent>()` is all
/// its `main` needs.
pub trait Agent: Policy + Sized {
    /// The metadata XML, printed by `meta-data` and read for parameter types, defaults and
    /// the actions the agent implements (its `<actions>` list: usage shows those, and an
    /// action it does not list is OCF_ERR_UNIMPLEMENTED).
    const METADATA: &'static str;
    /// The agent's type name, as installed (`ipaddr2`): the metadata's
    /// `<resource-agent name=..>`, read at compile time.
    const NAME: &'static str = crate::metadata::agent_name(Self::METADATA);

    /// The identity did not parse, in a probe or a stop: could anything these parameters
    /// might name be running here? Look with what can still be read (e.g. the address of an
    /// `ip` that parsed although `nic` did not). [`Presence::Absent`] makes the probe 7 and
    /// the stop 0; [`Presence::Possible`] or an error fails them. An agent that cannot tell
    /// must say `Possible`: reporting stopped while something runs is the one wrong answer.
    fn presence_without_identity(params: &Params, ctx: &Context) -> Result<Presence>;

    /// The policy for this configuration over the real host.
    fn new(identity: Self::Identity, settings: Self::Settings, ctx: &Context) -> Result<Self>;

    /// A helper process the agent starts itself, never called by Pacemaker (ipaddr2's
    /// background announcer, `ipaddr2 --announce ...`): `ocf::run` calls this when `argv[1]` is
    /// no action, with `argv[1]` as `mode` and the rest as `args`; `None` means the agent has
    /// no such mode (then it is an unknown action, exit 3). The helper runs under the same
    /// logging (syslog, `agent(instance)[pid]`) and panic handling as an action; its result
    /// is its exit code.
    fn helper(mode: &str, args: &[String], env: &Env) -> Option<Result<Status>> {
        let _ = (mode, args, env);
        None
    }
}

fn unimplemented_action(ctx: &Context) -> Result<Status> {
    Err(Error::unimplemented(format!(
        "action {} is not implemented",
        ctx.action
    )))
}
