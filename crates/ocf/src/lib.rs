//! # ocf: the OCF 1.1 resource-agent contract
//!
//! The one place in this project that knows how Pacemaker calls an agent: the action in
//! `argv[1]`, everything else in the environment, the answer in the exit code and an
//! `ocf-exit-reason:` line on stderr. It knows nothing about addresses, mounts or daemons.
//!
//! ## What it owns, so that no agent repeats it
//! - Dispatch ([`run()`]): the action, `meta-data`, `usage` (only the actions the metadata
//!   lists), `--version` with the build stamp ([`version`]), a panic turned into
//!   OCF_ERR_GENERIC, an action the metadata does not list answered OCF_ERR_UNIMPLEMENTED,
//!   and an agent's own helper mode (`Agent::helper`, e.g. ipaddr2's `--announce`) run under
//!   the same logging and panic handling.
//! - The environment ([`Env`]): parameters, meta-attributes (both role vocabularies),
//!   notification data, the node's name ([`Env::node_name`], from `on_node`), the state
//!   directory ([`Env::state_dir`], from `HA_RSCTMP`), the instance as a file name
//!   ([`env::file_name`]: the one rule for every per-instance file).
//! - Typed parameters ([`Params`]) read against the metadata XML, the one list of parameters:
//!   defaults come only from the XML, one boolean parser ([`params::parse_bool`]), a bad
//!   value is [`Error::bad_param`] naming the parameter and the value.
//! - Configuration in two tiers and the bad-configuration rule ([`config`]): the identity
//!   (what finds the resource on this node) and the settings (everything else), each parsed
//!   once by the agent's own function; what validate-all, start, probe, monitor and stop do
//!   with a bad value is decided there, once, for every agent.
//! - Exit reasons and logging ([`log`]): `agent(instance)[pid]: LEVEL: msg` on stderr and
//!   syslog; every log line and exit reason passes through [`text::one_line`], so a value
//!   cannot forge a log line or a second exit reason.
//! - Deadlines ([`Deadline`]): every wait ends before Pacemaker's SIGKILL.
//! - Loading kernel modules ([`kernel`]).
//!
//! ## Writing an agent
//! 1. Write its metadata XML under `xml-metadata/`: parameters, defaults, actions.
//! 2. `config.rs`: the identity and the settings, two types implementing [`Identity`] and
//!    [`Settings`], each parsed from [`Params`]. The identity holds what finds the resource
//!    here (an address and its interface; a device and its mount point) and is all that stop
//!    needs; every required parameter is identity. Settings parse from their XML defaults
//!    alone.
//! 3. `host.rs`: `trait Host`, only what the agent asks of the kernel and the cluster, and
//!    `System`, its real implementation. `logic.rs`: the policy, `Logic<H: Host>`,
//!    implementing [`Policy`] for every host: `type Identity`, `type Settings`, then `start`,
//!    `stop`, `monitor` (and `promote`/`demote`/`notify` when it has roles), `validate` for
//!    validate-all's host checks. Every wait uses `ctx.deadline`. Its unit tests call these
//!    very methods over a fake `Host`.
//! 4. `lib.rs`: `pub type Agent = Logic<System>;`, the policy over the real host,
//!    implementing [`Agent`]: `METADATA` (the name is read from it), `new` (the `Logic` over
//!    the real host), `presence_without_identity` (could anything matching a partial identity
//!    be running here? see [`Presence`]), and a helper mode if the agent has one. `main.rs`
//!    is `fn main() -> std::process::ExitCode { ocf::run::<name::Agent>() }`.
//! 5. A unit test calls [`testing::assert_params_match_metadata`].
//!
//! Failures are [`Error`]s that carry their [`Status`]; `ResultExt::or_status` attaches one to
//! a library error at the call site.

pub mod action;
pub mod agent;
pub mod config;
pub mod deadline;
pub mod env;
pub mod error;
pub mod kernel;
pub mod log;
pub mod metadata;
pub mod params;
pub mod run;
pub mod status;
pub mod testing;
pub mod text;
pub mod version;

pub use action::Action;
pub use agent::{Agent, Context, Identity, Policy, Presence, Settings};
pub use deadline::Deadline;
pub use env::{Env, Meta, Notify, NotifyType, Peer, Role};
pub use error::{Error, Result, ResultExt};
pub use metadata::Metadata;
pub use params::Params;
pub use run::run;
pub use status::Status;
