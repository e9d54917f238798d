//! `native-agents-port`: move a running Pacemaker cluster's resources from the shell agents
//! (IPaddr2, apache, Filesystem, controld, linbit drbd) to native-agents, or back, without
//! stopping or restarting any of them. See [`port`] for the procedure and why it works.

pub mod agents;
pub mod cib;
pub mod cluster;
pub mod compare;
pub mod port;
pub mod rewrite;
pub mod state;
pub mod validate;

/// Where Pacemaker looks for OCF agents (its compiled-in OCF_ROOT on Debian and RHEL).
pub const OCF_ROOT: &str = "/usr/lib/ocf";

/// Why the port could not look at or change the cluster.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Pacemaker(#[from] pacemaker_cli::Error),
    #[error("{what} is not the XML expected: {detail}")]
    Xml { what: String, detail: String },
    #[error("the CIB changed under the port: {0}")]
    Changed(String),
    #[error("{0}")]
    Io(String),
}
