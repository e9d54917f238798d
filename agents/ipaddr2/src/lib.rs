//! # ipaddr2: a floating IP address, a drop-in for ocf:heartbeat:IPaddr2
//!
//! Adds, checks and removes one IPv4 or IPv6 address over rtnetlink (`netlink-addr`),
//! chooses the interface from the routing table as IPaddr2's findif does, and announces the
//! address with gratuitous ARP or unsolicited neighbour advertisements (`arp-announce`).
//! monitor, probe, validate-all and meta-data fork nothing: monitor is one address dump
//! (and one link lookup when the link state or a label must be checked).
//!
//! Out of scope: IPaddr2's load-sharing cluster IP (`clusterip_*`, `mac`,
//! `unique_clone_address`, globally-unique clones) and `lvs_ipv6_addrlabel`; they are
//! rejected with OCF_ERR_CONFIGURED.

mod agent;
pub mod announce;
pub mod config;
pub mod findif;

pub use agent::IpAddr2;

/// The binary's entry: the background announcer (`ipaddr2 --announce ...`, started by
/// `start` itself), or the OCF agent.
pub fn main() -> std::process::ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == announce::ANNOUNCE_ARG) {
        return announce::background_main(&args[2..]);
    }
    ocf::run::<IpAddr2>()
}
