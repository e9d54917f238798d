//! The actions.

use crate::announce::{self, Announced, Announcement, BackgroundError};
use crate::config::{Config, Identity, Settings};
use crate::findif;
use netlink_addr::{AddRequest, Addr, Family, Link, Netlink};
use ocf::{Context, Error, Params, Presence, Result, ResultExt, Status};
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// The loopback device's index, fixed by the kernel (LOOPBACK_IFINDEX).
const LOOPBACK_INDEX: u32 = 1;
/// How long a netlink reply may take at most (the kernel answers at once).
const NETLINK_TIMEOUT: Duration = Duration::from_secs(5);
/// How often DAD progress is polled.
const DAD_POLL: Duration = Duration::from_millis(50);
/// RFC 5227 probing as IPaddr2's `arping -D -c 2 -w 3`.
const ARPING_PROBES: u32 = 2;
const ARPING_WAIT: Duration = Duration::from_secs(3);

/// The agent.
#[derive(Debug)]
pub struct IpAddr2 {
    cfg: Config,
    /// Entering `network_namespace` failed (it does not exist): nothing of ours can be
    /// there. Start and validate-all fail with this; probe and stop answer from it.
    namespace_error: Option<Error>,
    /// Where the announcer's pid file lives (`HA_RSCTMP`).
    state_dir: std::path::PathBuf,
}

fn netlink(ctx: &Context) -> Result<Netlink> {
    let timeout = ctx
        .deadline
        .remaining()
        .clamp(Duration::from_millis(100), NETLINK_TIMEOUT);
    Netlink::open(timeout).or_generic(|| "opening rtnetlink")
}

/// Enter network namespace `name` (`/run/netns/NAME`, as `ip netns` makes them) with
/// setns(2), for this thread and everything it starts.
fn enter_namespace(name: &str) -> Result<()> {
    let path = format!("/run/netns/{name}");
    let file = std::fs::File::open(&path).or_status(Status::ErrInstalled, || {
        format!("network_namespace={name}: cannot open {path}")
    })?;
    nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET)
        .or_status(Status::ErrPerm, || {
            format!("entering network namespace {name}")
        })?;
    log::debug!("entered network namespace {name}");
    Ok(())
}

fn require_root(ctx: &Context) -> Result<()> {
    if nix::unistd::geteuid().is_root() {
        Ok(())
    } else {
        Err(Error::perm(format!("{} needs root", ctx.action)))
    }
}

fn family(ip: IpAddr) -> Family {
    Family::of(ip)
}

/// Where the address belongs.
struct Target {
    link: Link,
    prefix: u8,
}

/// What the kernel shows for our address.
enum Found<'a> {
    /// On the target interface with the right prefix.
    Here(&'a Addr),
    /// Only elsewhere, or with another prefix.
    Elsewhere(&'a Addr),
    Absent,
}

impl IpAddr2 {
    /// For the actions that put the address in place: the clone is one this agent serves,
    /// and the namespace exists.
    fn usable(&self, ctx: &Context) -> Result<()> {
        crate::config::check_meta(&ctx.env.meta)?;
        match &self.namespace_error {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    fn is_parking(&self, a: &Addr) -> bool {
        // With lvs_support the address rests on lo while stopped; otherwise an address on
        // lo is not ours to judge unless nic says lo.
        a.index == LOOPBACK_INDEX && self.cfg.identity.nic.as_deref() != Some("lo")
    }

    fn find<'a>(&self, addrs: &'a [Addr], index: Option<u32>, prefix: Option<u8>) -> Found<'a> {
        let ours: Vec<&Addr> = addrs
            .iter()
            .filter(|a| a.ip == self.cfg.identity.ip && !self.is_parking(a))
            .collect();
        let here = ours.iter().find(|a| {
            index.is_none_or(|i| a.index == i) && prefix.is_none_or(|p| a.prefix_len == p)
        });
        match (here, ours.first()) {
            (Some(a), _) => Found::Here(a),
            (None, Some(a)) => Found::Elsewhere(a),
            (None, None) => Found::Absent,
        }
    }

    /// findif: the interface and prefix the address belongs on.
    fn target(&self, nl: &mut Netlink) -> Result<Target> {
        let nic_link = match &self.cfg.identity.nic {
            Some(nic) => Some(nl.link_by_name(nic).map_err(|e| {
                if e.is_not_found() {
                    Error::installed(format!("nic={nic}: no such interface"))
                } else {
                    Error::generic(e.to_string())
                }
            })?),
            None => None,
        };
        let routes = nl
            .routes(family(self.cfg.identity.ip))
            .or_generic(|| "reading the routing table")?;
        let choice = findif::find(
            &routes,
            self.cfg.identity.ip,
            nic_link.as_ref().map(|l| l.index),
            self.cfg.settings.prefix,
            self.cfg.settings.proto,
        )
        .map_err(|_| {
            Error::installed(format!(
                "no interface for {}: no route in the main table covers it{}{}; set nic and \
                 cidr_netmask",
                self.cfg.identity.ip,
                self.cfg
                    .identity
                    .nic
                    .as_ref()
                    .map(|n| format!(" via {n}"))
                    .unwrap_or_default(),
                self.cfg
                    .settings
                    .proto
                    .map(|p| format!(" with proto {p}"))
                    .unwrap_or_default(),
            ))
        })?;
        let link = match nic_link {
            Some(l) => l,
            None => nl
                .link_by_index(choice.index)
                .or_generic(|| "looking up the chosen interface")?,
        };
        if let Some(label) = self.cfg.label(&link.name)
            && label.len() > crate::config::MAX_IFNAME
        {
            return Err(Error::bad_param(
                "iflabel",
                self.cfg.settings.iflabel.as_deref().unwrap_or_default(),
                format!("{label} is longer than 15 characters"),
            ));
        }
        log::debug!(
            "findif: {} on {}/{}",
            self.cfg.identity.ip,
            link.name,
            choice.prefix
        );
        Ok(Target {
            link,
            prefix: choice.prefix,
        })
    }

    fn announcement(&self, link: &Link) -> Option<Announcement> {
        let mac: Option<[u8; 6]> = link.mac.as_deref().and_then(|m| m.try_into().ok());
        match mac {
            Some(mac) if !link.noarp && !link.loopback && mac != [0; 6] => Some(Announcement {
                ifindex: link.index,
                mac,
                ip: self.cfg.identity.ip,
                reply: self.cfg.settings.arp_reply,
            }),
            _ => {
                log::info!(
                    "{}: no Ethernet address or NOARP, nothing to announce",
                    link.name
                );
                None
            }
        }
    }

    fn pid_file(&self) -> std::path::PathBuf {
        announce::pid_file(
            &self.state_dir,
            self.cfg.identity.ip,
            self.cfg.identity.network_namespace.as_deref(),
        )
    }

    /// RFC 5227 probe before adding (run_arping).
    fn check_duplicate(&self, ctx: &Context, link: &Link) -> Result<()> {
        let (IpAddr::V4(ip), Some(a)) = (self.cfg.identity.ip, self.announcement(link)) else {
            return Ok(());
        };
        let socket = arp_announce::PacketSocket::open(link.index, arp_announce::ETH_P_ARP)
            .or_generic(|| format!("opening a packet socket on {}", link.name))?;
        let until = ctx.deadline.end();
        match arp_announce::probe_for_conflict(
            &socket,
            a.mac,
            ip,
            ARPING_PROBES,
            ARPING_WAIT,
            until,
        )
        .or_generic(|| format!("probing for {ip} on {}", link.name))?
        {
            Some(other) => Err(Error::generic(format!(
                "IPv4 address collision: {ip} is in use by {} on {} (run_arping)",
                arp_announce::format_mac(&other),
                link.name
            ))),
            None => Ok(()),
        }
    }

    /// Wait for IPv6 duplicate address detection to finish, within the deadline.
    fn wait_dad(&self, ctx: &Context, nl: &mut Netlink, target: &Target) -> Result<()> {
        let index = target.link.index;
        let mut failure = None;
        let done = ctx.deadline.poll(DAD_POLL, || {
            let addrs = match nl.addresses(Family::V6, Some(index)) {
                Ok(a) => a,
                Err(e) => {
                    failure = Some(e.to_string());
                    return Some(false);
                }
            };
            let a = addrs.iter().find(|a| a.ip == self.cfg.identity.ip)?;
            if a.flags.dadfailed() {
                return Some(false);
            }
            (!a.flags.tentative()).then_some(true)
        });
        match done {
            Some(true) => Ok(()),
            Some(false) => {
                let _ = nl.delete_address(index, self.cfg.identity.ip, target.prefix);
                Err(Error::generic(failure.unwrap_or_else(|| {
                    format!(
                        "duplicate address detection failed: another host on {} has {}; \
                         the address was removed",
                        target.link.name, self.cfg.identity.ip
                    )
                })))
            }
            None => Err(Error::generic(format!(
                "duplicate address detection of {} on {} did not finish before the timeout \
                 (is the link up with a carrier?)",
                self.cfg.identity.ip, target.link.name
            ))),
        }
    }

    fn announce(&self, ctx: &Context, link: &Link) -> Result<()> {
        let Some(a) = self.announcement(link) else {
            return Ok(());
        };
        let count = self.cfg.settings.arp_count;
        let interval = self.cfg.settings.arp_interval;
        let pid_path = self.pid_file();
        announce::stop_background(&pid_path, ctx.deadline.within(Duration::from_secs(1)).end());
        let mut background = self.cfg.settings.arp_bg && count > 1;
        let sent = if background {
            let announced = a
                .send_then_background(count - 1, interval, &pid_path, ctx.deadline.end())
                .map_err(|e| match e {
                    BackgroundError::Send(e) => Error::generic(format!(
                        "announcing {} on {}: {e}",
                        self.cfg.identity.ip, link.name
                    )),
                    BackgroundError::Spawn(e) => Error::generic(format!(
                        "starting the background announcer ({}): {e}",
                        pid_path.display()
                    )),
                })?;
            match announced {
                Announced::Background => 1,
                Announced::Foreground { sent, why } => {
                    log::warn!(
                        "arp_bg: cannot track a background announcer ({why}); sent the \
                         announcements in the foreground instead"
                    );
                    background = false;
                    sent
                }
            }
        } else {
            a.send(count, interval, ctx.deadline.end())
                .or_generic(|| format!("announcing {} on {}", self.cfg.identity.ip, link.name))?
        };
        if !background && sent < count {
            log::warn!("sent {sent} of {count} announcements before the deadline");
        }
        log::info!(
            "announced {} on {} ({sent} sent now{})",
            self.cfg.identity.ip,
            link.name,
            if background {
                format!(", {} in the background", count - 1)
            } else {
                String::new()
            }
        );
        Ok(())
    }

    fn remove_everywhere(&self, nl: &mut Netlink) -> Result<()> {
        let addrs = nl
            .addresses(family(self.cfg.identity.ip), None)
            .or_generic(|| "reading addresses")?;
        delete_addresses(
            nl,
            addrs
                .iter()
                .filter(|a| a.ip == self.cfg.identity.ip && !self.is_parking(a)),
        )
    }
}

impl ocf::Agent for IpAddr2 {
    const NAME: &'static str = "ipaddr2";
    const METADATA: &'static str = include_str!("../../../xml-metadata/ipaddr2.xml");

    type Identity = Identity;
    type Settings = Settings;

    /// Without a usable identity, the address may still be read: if `ip` parses and lives
    /// on an interface (not lo, where lvs_support parks it) in the namespace, it may be
    /// ours.
    fn presence_without_identity(params: &Params, ctx: &Context) -> Result<Presence> {
        let raw_ip = params.raw("ip").unwrap_or_default();
        let Ok(ip) = raw_ip.trim().parse::<IpAddr>() else {
            return Ok(Presence::Absent(format!(
                "ip={} is no address, so no address of ours can exist",
                ocf::error::printable(raw_ip)
            )));
        };
        if let Some(ns) = params.raw("network_namespace") {
            if !crate::config::valid_netns(ns) {
                return Ok(Presence::Absent(format!(
                    "no network namespace can be called {}",
                    ocf::error::printable(ns)
                )));
            }
            if let Err(e) = enter_namespace(ns) {
                return Ok(Presence::Absent(e.reason().to_owned()));
            }
        }
        let mut nl = netlink(ctx)?;
        let addrs = nl
            .addresses(family(ip), None)
            .or_generic(|| "reading addresses")?;
        Ok(
            match addrs
                .iter()
                .find(|a| a.ip == ip && a.index != LOOPBACK_INDEX)
            {
                Some(a) => Presence::Possible(format!(
                    "{ip}/{} on interface {}",
                    a.prefix_len,
                    nl.link_by_index(a.index)
                        .map_or_else(|_| a.index.to_string(), |l| l.name)
                )),
                None => Presence::Absent(format!("{ip} is on no interface")),
            },
        )
    }

    fn new(identity: Identity, settings: Settings, ctx: &Context) -> Result<IpAddr2> {
        let namespace_error = identity
            .network_namespace
            .as_deref()
            .and_then(|ns| enter_namespace(ns).err());
        Ok(IpAddr2 {
            cfg: Config { identity, settings },
            namespace_error,
            state_dir: ctx.env.state_dir(),
        })
    }

    fn validate(&self, ctx: &Context) -> Result<()> {
        self.usable(ctx)?;
        let mut nl = Netlink::open(NETLINK_TIMEOUT).or_generic(|| "opening rtnetlink")?;
        self.target(&mut nl).map(drop)
    }

    fn start(&self, ctx: &Context) -> Result<Status> {
        self.usable(ctx)?;
        require_root(ctx)?;
        let mut nl = netlink(ctx)?;
        let fam = family(self.cfg.identity.ip);
        if self.cfg.settings.lvs_support {
            // LVS-DR parks the address on lo while stopped; take it back.
            for a in nl
                .addresses(fam, Some(LOOPBACK_INDEX))
                .or_generic(|| "reading addresses of lo")?
                .iter()
                .filter(|a| a.ip == self.cfg.identity.ip)
            {
                match nl.delete_address(LOOPBACK_INDEX, a.ip, a.prefix_len) {
                    Ok(()) => log::info!("removed {}/{} from lo (lvs_support)", a.ip, a.prefix_len),
                    Err(e) if e.is_not_found() => {}
                    Err(e) => return Err(Error::generic(e.to_string())),
                }
            }
        }
        let target = self.target(&mut nl)?;
        let link = &target.link;
        let label = self.cfg.label(&link.name);
        let addrs = nl.addresses(fam, None).or_generic(|| "reading addresses")?;
        let mut present = false;
        for a in addrs
            .iter()
            .filter(|a| a.ip == self.cfg.identity.ip && !self.is_parking(a))
        {
            if a.index != link.index {
                return Err(Error::generic(format!(
                    "{} is already configured on interface {} (expected {}); remove it there \
                     first",
                    self.cfg.identity.ip,
                    nl.link_by_index(a.index)
                        .map_or_else(|_| a.index.to_string(), |l| l.name),
                    link.name
                )));
            }
            let label_ok = label.is_none() || a.label == label;
            if a.prefix_len == target.prefix && label_ok && !a.flags.dadfailed() {
                present = true;
            } else {
                log::warn!(
                    "replacing {}/{} on {} (wanted /{}{})",
                    a.ip,
                    a.prefix_len,
                    link.name,
                    target.prefix,
                    label
                        .as_ref()
                        .map(|l| format!(" label {l}"))
                        .unwrap_or_default()
                );
                nl.delete_address(a.index, a.ip, a.prefix_len)
                    .or_generic(|| "removing the misconfigured address")?;
            }
        }
        if present && (link.up || !self.cfg.settings.check_link_status) {
            log::info!("{} is already on {}", self.cfg.identity.ip, link.name);
            return Ok(Status::Success);
        }
        if !present {
            if self.cfg.settings.run_arping {
                self.check_duplicate(ctx, link)?;
            }
            let broadcast = match self.cfg.identity.ip {
                IpAddr::V4(ip) => findif::broadcast(
                    self.cfg.settings.broadcast,
                    ip,
                    target.prefix,
                    link.index,
                    &addrs,
                ),
                IpAddr::V6(_) => None,
            };
            let req = AddRequest {
                index: link.index,
                ip: self.cfg.identity.ip,
                prefix_len: target.prefix,
                broadcast,
                label,
                nodad: self.cfg.settings.nodad,
                noprefixroute: self.cfg.settings.noprefixroute,
                preferred_lft: self.cfg.settings.preferred_lft,
            };
            match nl.add_address(&req) {
                Ok(()) => {}
                Err(e) if e.is_exists() => {}
                Err(e) => return Err(Error::generic(e.to_string())),
            }
            log::info!(
                "added {}/{} to {}",
                self.cfg.identity.ip,
                target.prefix,
                link.name
            );
        }
        if !link.up {
            nl.set_link_up(link.index)
                .or_generic(|| format!("setting {} up", link.name))?;
        }
        if self.cfg.identity.ip.is_ipv6() && !self.cfg.settings.nodad {
            self.wait_dad(ctx, &mut nl, &target)?;
        }
        self.announce(ctx, link)?;
        Ok(Status::Success)
    }

    fn stop(&self, ctx: &Context) -> Result<Status> {
        if let Some(e) = &self.namespace_error {
            log::info!("{}: nothing of ours can be there", e.reason());
            return Ok(Status::Success);
        }
        require_root(ctx)?;
        announce::stop_background(
            &self.pid_file(),
            ctx.deadline.within(Duration::from_secs(2)).end(),
        );
        let mut nl = netlink(ctx)?;
        self.remove_everywhere(&mut nl)?;
        if self.cfg.settings.flush_routes {
            netlink_addr::flush_route_cache(family(self.cfg.identity.ip))
                .or_generic(|| "flush_routes")?;
        }
        if self.cfg.settings.lvs_support {
            let req = AddRequest {
                index: LOOPBACK_INDEX,
                ip: self.cfg.identity.ip,
                prefix_len: 32,
                broadcast: None,
                label: None,
                nodad: false,
                noprefixroute: false,
                preferred_lft: None,
            };
            match nl.add_address(&req) {
                Ok(()) => log::info!("parked {}/32 on lo (lvs_support)", self.cfg.identity.ip),
                Err(e) if e.is_exists() => {}
                Err(e) => return Err(Error::generic(e.to_string())),
            }
        }
        Ok(Status::Success)
    }

    fn monitor(&self, ctx: &Context) -> Result<Status> {
        if let Some(e) = &self.namespace_error {
            if ctx.is_probe() {
                log::info!("{}: {} is not running", e.reason(), self.cfg.identity.ip);
                return Ok(Status::NotRunning);
            }
            return Err(e.clone());
        }
        let mut nl = netlink(ctx)?;
        let nic_link = match &self.cfg.identity.nic {
            Some(nic) => match nl.link_by_name(nic) {
                Ok(l) => Some(l),
                Err(e) if e.is_not_found() => {
                    log::info!(
                        "nic={nic} does not exist: {} is not running",
                        self.cfg.identity.ip
                    );
                    return Ok(Status::NotRunning);
                }
                Err(e) => return Err(Error::generic(e.to_string())),
            },
            None => None,
        };
        let addrs = nl
            .addresses(family(self.cfg.identity.ip), None)
            .or_generic(|| "reading addresses")?;
        let a = match self.find(
            &addrs,
            nic_link.as_ref().map(|l| l.index),
            self.cfg.settings.prefix,
        ) {
            Found::Here(a) => a,
            Found::Absent => return Ok(Status::NotRunning),
            Found::Elsewhere(a) => {
                return Err(Error::generic(format!(
                    "{} is configured as {}/{} on interface {}, not as /{} on {}",
                    self.cfg.identity.ip,
                    a.ip,
                    a.prefix_len,
                    a.index,
                    self.cfg
                        .settings
                        .prefix
                        .map_or_else(|| "any".into(), |p| p.to_string()),
                    self.cfg
                        .identity
                        .nic
                        .as_deref()
                        .unwrap_or("the interface findif chooses")
                )));
            }
        };
        let needs_link = self.cfg.settings.check_link_status
            || self.cfg.settings.iflabel.is_some()
            || self.cfg.settings.arp_count_refresh > 0;
        let link = match (nic_link, needs_link) {
            (Some(l), _) => Some(l),
            (None, true) => Some(
                nl.link_by_index(a.index)
                    .or_generic(|| "reading the link")?,
            ),
            (None, false) => None,
        };
        if a.flags.dadfailed() {
            return Err(Error::generic(format!(
                "{} failed duplicate address detection (dadfailed)",
                self.cfg.identity.ip
            )));
        }
        if let Some(link) = &link {
            if self.cfg.settings.check_link_status && link.is_down() {
                log::warn!(
                    "{} is on {}, whose link is {}",
                    self.cfg.identity.ip,
                    link.name,
                    link.oper_state
                );
                return Ok(Status::NotRunning);
            }
            if let Some(label) = self.cfg.label(&link.name)
                && a.label.as_deref() != Some(label.as_str())
            {
                return Err(Error::generic(format!(
                    "{} on {} has label {:?}, expected {label}",
                    self.cfg.identity.ip,
                    link.name,
                    a.label.as_deref().unwrap_or("")
                )));
            }
            if self.cfg.settings.arp_count_refresh > 0
                && let Some(ann) = self.announcement(link)
            {
                let until: Instant = ctx.deadline.end();
                if let Err(e) = ann.send(
                    self.cfg.settings.arp_count_refresh,
                    self.cfg.settings.arp_interval,
                    until,
                ) {
                    log::warn!("arp_count_refresh: {e}");
                }
            }
        }
        Ok(Status::Success)
    }
}

#[cfg(test)]
mod tests;

/// Delete each of `addrs` (RTM_DELADDR); one already gone counts as deleted.
fn delete_addresses<'a>(nl: &mut Netlink, addrs: impl Iterator<Item = &'a Addr>) -> Result<()> {
    for a in addrs {
        match nl.delete_address(a.index, a.ip, a.prefix_len) {
            Ok(()) => log::info!(
                "removed {}/{} from interface {}",
                a.ip,
                a.prefix_len,
                a.index
            ),
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(Error::generic(e.to_string())),
        }
    }
    Ok(())
}
