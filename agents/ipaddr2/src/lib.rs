//! # ipaddr2: a floating IP address, a drop-in for ocf:heartbeat:IPaddr2
//!
//! Adds, checks and removes one IPv4 or IPv6 address over rtnetlink (`netlink-addr`),
//! chooses the interface from the routing table as IPaddr2's findif does, and announces the
//! address with gratuitous ARP or unsolicited neighbour advertisements (`arp-announce`).
//! monitor, probe, validate-all and meta-data fork nothing: monitor is one address dump
//! (and one link lookup when the link state or a label must be checked).
//!
//! The shape every agent follows:
//! - [`config`]: the identity (`ip`, `nic`, `network_namespace`) and the settings, each
//!   parsed once from `ocf::Params`;
//! - [`host`]: the [`host::Host`] trait, only what this agent asks of the kernel, and
//!   [`host::System`], its real implementation;
//! - [`logic`]: the policy, [`logic::Logic<H: Host>`], unit-tested on a fake host without
//!   root;
//! - this file: [`Agent`], the policy over the real host, with its [`ocf::Agent`] impl;
//!   `main.rs` is one line.
//!
//! Out of scope: IPaddr2's load-sharing cluster IP (`clusterip_*`, `mac`,
//! `unique_clone_address`, globally-unique clones) and `lvs_ipv6_addrlabel`; they are
//! rejected with OCF_ERR_CONFIGURED.

pub mod announce;
pub mod config;
pub mod findif;
pub mod host;
pub mod logic;

use config::{Config, Identity, Settings};
use host::{Host, System};
use logic::{LOOPBACK_INDEX, Logic};
use netlink_addr::Family;
use ocf::{Context, Env, Params, Presence, Result, Status};
use std::net::IpAddr;

/// The agent: its policy over the real host.
pub type Agent = Logic<System>;

impl ocf::Agent for Agent {
    const METADATA: &'static str = include_str!("../../../xml-metadata/ipaddr2.xml");

    /// Without a usable identity, the address may still be read: if `ip` parses and lives
    /// on an interface in the namespace, it may be ours (on lo only for an address of
    /// 127.0.0.0/8 or with `nic=lo`: elsewhere lo holds what lvs_support parks there).
    fn presence_without_identity(params: &Params, ctx: &Context) -> Result<Presence> {
        let raw_ip = params.raw("ip").unwrap_or_default();
        let Ok(ip) = raw_ip.trim().parse::<IpAddr>() else {
            return Ok(Presence::Absent(format!(
                "ip={} is no address, so no address of ours can exist",
                ocf::error::printable(raw_ip)
            )));
        };
        if let Some(ns) = params.raw("network_namespace") {
            if !config::valid_netns(ns) {
                return Ok(Presence::Absent(format!(
                    "no network namespace can be called {}",
                    ocf::error::printable(ns)
                )));
            }
            if let Err(e) = host::enter_namespace(ns) {
                return Ok(Presence::Absent(e.reason().to_owned()));
            }
        }
        let on_lo = params.raw("nic").is_some_and(|n| n.trim() == "lo")
            || matches!(ip, IpAddr::V4(v4) if v4.is_loopback());
        let host = System::new(ctx.deadline, std::path::PathBuf::new());
        let addrs = host
            .addresses(Family::of(ip), None)
            .map_err(host::because("reading addresses"))?;
        Ok(
            match addrs
                .iter()
                .find(|a| a.ip == ip && (on_lo || a.index != LOOPBACK_INDEX))
            {
                Some(a) => Presence::Possible(format!(
                    "{ip}/{} on interface {}",
                    a.prefix_len,
                    host.link_by_index(a.index)
                        .map_or_else(|_| a.index.to_string(), |l| l.name)
                )),
                None => Presence::Absent(format!("{ip} is on no interface")),
            },
        )
    }

    /// The process enters `network_namespace` here, before any netlink or packet socket is
    /// opened, so that every later call of the host happens in it; the policy only learns
    /// whether that failed (each action decides what a missing namespace means).
    fn new(identity: Identity, settings: Settings, ctx: &Context) -> Result<Agent> {
        let namespace_error = identity
            .network_namespace
            .as_deref()
            .and_then(|ns| host::enter_namespace(ns).err());
        let pid_file = announce::pid_file(
            &ctx.env.state_dir(),
            identity.ip,
            identity.network_namespace.as_deref(),
        );
        Ok(Logic {
            cfg: Config { identity, settings },
            host: System::new(ctx.deadline, pid_file),
            namespace_error,
        })
    }

    /// `--announce`: the background announcer `start` leaves behind (see [`announce`]).
    fn helper(mode: &str, args: &[String], _env: &Env) -> Option<Result<Status>> {
        (mode == announce::ANNOUNCE_ARG).then(|| announce::background_main(args))
    }
}
