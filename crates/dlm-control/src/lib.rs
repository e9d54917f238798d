//! # dlm-control: what the DLM says about itself, without dlm_tool
//!
//! Two sources, both read without forking:
//! - [`client`]: dlm_controld's query socket, the protocol `dlm_tool status` and `dlm_tool ls`
//!   speak through libdlmcontrol ([`wire`] encodes and decodes its messages byte by byte),
//!   answers believed only from the listener the caller trusts (SO_PEERCRED);
//! - [`kernel`]: the kernel DLM's lockspaces under `/sys/kernel/dlm` and the cluster comms
//!   dlm_controld configures under `/sys/kernel/config/dlm`, with injectable roots for tests.
//!
//! Not for starting or stopping dlm_controld, nor for deciding what a state means to
//! Pacemaker: that is the agent's business.

pub mod client;
pub mod kernel;
pub mod wire;

pub use client::{Client, Error, Peer, Trusted};
pub use kernel::Kernel;
pub use wire::{DaemonStatus, LockspaceInfo, NodeState};
