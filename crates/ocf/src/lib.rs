//! # ocf: the OCF 1.1 resource-agent contract
//!
//! The one place in this project that knows how Pacemaker calls an agent: the action in
//! argv[1], everything else in the environment, the answer in the exit code and an
//! `ocf-exit-reason:` line on stderr. It knows nothing about addresses, mounts or daemons.
//!
//! Writing an agent:
//! 1. Write its metadata XML under `xml-metadata/`; it is the one list of parameters.
//! 2. Implement [`Agent`]: `from_context` reads every parameter through [`Params`] (typed,
//!    defaults from the XML, bad values are OCF_ERR_CONFIGURED naming parameter and value),
//!    then `start`, `stop`, `monitor` (and `promote`/`demote`/`notify` when it has roles).
//! 3. Every wait uses `ctx.deadline` ([`Deadline`]), which ends before Pacemaker's SIGKILL.
//! 4. `main` is `fn main() -> std::process::ExitCode { ocf::run::<MyAgent>() }`.
//! 5. A unit test calls [`testing::assert_params_match_metadata`].
//!
//! Failures are [`Error`]s that carry their [`Status`]; `ResultExt::or_status` attaches one to
//! a library error at the call site. A panic is caught, logged and reported as
//! OCF_ERR_GENERIC: never a silent abort.

pub mod action;
pub mod agent;
pub mod deadline;
pub mod env;
pub mod error;
pub mod log;
pub mod metadata;
pub mod params;
pub mod run;
pub mod status;
pub mod testing;
pub mod text;

pub use action::Action;
pub use agent::{Agent, Context};
pub use deadline::Deadline;
pub use env::{Env, Meta, Notify, NotifyType, Peer, Role};
pub use error::{Error, Result, ResultExt};
pub use metadata::Metadata;
pub use params::Params;
pub use run::run;
pub use status::Status;
