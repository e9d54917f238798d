//! # apache-clone: Apache httpd on every node, a drop-in for ocf:heartbeat:apache
//!
//! Same parameters as the shell agent; the differences are in how it works: the httpd
//! configuration and the envfiles are read natively ([`conf`], [`envfile`]), processes are
//! identified through /proc (`procs`), the status page is fetched by a built-in client
//! bounded by the deadline (`http-probe`), and monitor, probe, validate-all and meta-data
//! start no process.
//!
//! The shape every agent follows:
//! - [`config`]: the identity (`configfile`, `httpd`) and the settings, each parsed once
//!   from `ocf::Params`;
//! - [`host`]: the [`host::Host`] trait, only what this agent asks of the system, and
//!   [`host::System`], its real implementation;
//! - [`logic`]: the policy, [`logic::Logic<H: Host>`], unit-tested on a fake host without
//!   root;
//! - this file: [`Agent`], the policy over the real host, with its [`ocf::Agent`] impl;
//!   `main.rs` is one line.

pub mod conf;
pub mod config;
pub mod envfile;
pub mod ere;
pub mod glob;
pub mod host;
pub mod logic;
pub mod testconf;

use config::{Config, Identity, Settings};
use host::System;
use logic::Logic;
use ocf::{Context, Params, Presence, Result, ResultExt};
use std::ffi::OsStr;

pub use config::matches_a_line;

/// The agent: its policy over the real host.
pub type Agent = Logic<System>;

impl ocf::Agent for Agent {
    const METADATA: &'static str = include_str!("../../../xml-metadata/apache-clone.xml");

    /// This agent starts every httpd with `-f <configfile>`: any process whose command line
    /// holds `-f` and the configured value may be the resource.
    fn presence_without_identity(params: &Params, _ctx: &Context) -> Result<Presence> {
        let configfile = params.raw("configfile").unwrap_or_default();
        let holders: Vec<i32> = procs::all()
            .or_generic(|| "listing processes")?
            .into_iter()
            .filter(|p| {
                p.cmdline()
                    .windows(2)
                    .any(|w| w[0] == OsStr::new("-f") && w[1] == OsStr::new(configfile))
            })
            .map(|p| p.pid)
            .collect();
        let configfile = ocf::error::printable(configfile);
        let pids: Vec<String> = holders.iter().map(i32::to_string).collect();
        Ok(if pids.is_empty() {
            Presence::Absent(format!("no process runs with -f {configfile}"))
        } else {
            Presence::Possible(format!(
                "the processes running with -f {configfile} (pid {})",
                pids.join(", ")
            ))
        })
    }

    fn new(identity: Identity, settings: Settings, ctx: &Context) -> Result<Agent> {
        Ok(Logic {
            own_pid_file: own_pid_file(&identity, ctx),
            cfg: Config { identity, settings },
            host: System::default(),
            run_uid: std::cell::OnceCell::new(),
        })
    }
}

/// The per-instance pid file in the state directory: `<httpd's name>-<instance>.pid`.
pub fn own_pid_file(identity: &Identity, ctx: &Context) -> std::path::PathBuf {
    let base = identity
        .httpd
        .file_name()
        .map_or_else(|| "httpd".to_owned(), |n| n.to_string_lossy().into_owned());
    ctx.env.state_dir().join(format!(
        "{base}-{}.pid",
        ocf::env::file_name(&ctx.env.instance)
    ))
}

/// An I/O error as an administrator reads it: the system's words, without Rust's
/// `(os error N)`.
pub fn io_reason(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => nix::errno::Errno::from_raw(code).desc().to_owned(),
        None => e.to_string(),
    }
}
