//! The actions.

use crate::announce::{self, Announced, Announcement, BackgroundError};
use crate::config::Config;
use crate::findif;
use netlink_addr::{AddRequest, Addr, Family, Link, Netlink};
use ocf::{Action, Context, Error, Result, ResultExt, Status};
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
    fn is_parking(&self, a: &Addr) -> bool {
        // With lvs_support the address rests on lo while stopped; otherwise an address on
        // lo is not ours to judge unless nic says lo.
        a.index == LOOPBACK_INDEX && self.cfg.nic.as_deref() != Some("lo")
    }

    fn find<'a>(&self, addrs: &'a [Addr], index: Option<u32>, prefix: Option<u8>) -> Found<'a> {
        let ours: Vec<&Addr> = addrs
            .iter()
            .filter(|a| a.ip == self.cfg.ip && !self.is_parking(a))
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
        let nic_link = match &self.cfg.nic {
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
            .routes(family(self.cfg.ip))
            .or_generic(|| "reading the routing table")?;
        let choice = findif::find(
            &routes,
            self.cfg.ip,
            nic_link.as_ref().map(|l| l.index),
            self.cfg.prefix,
            self.cfg.proto,
        )
        .map_err(|_| {
            Error::installed(format!(
                "no interface for {}: no route in the main table covers it{}{}; set nic and \
                 cidr_netmask",
                self.cfg.ip,
                self.cfg
                    .nic
                    .as_ref()
                    .map(|n| format!(" via {n}"))
                    .unwrap_or_default(),
                self.cfg
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
                self.cfg.iflabel.as_deref().unwrap_or_default(),
                format!("{label} is longer than 15 characters"),
            ));
        }
        log::debug!("findif: {} on {}/{}", self.cfg.ip, link.name, choice.prefix);
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
                ip: self.cfg.ip,
                reply: self.cfg.arp_reply,
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
        announce::pid_file(self.cfg.ip, self.cfg.network_namespace.as_deref())
    }

    /// RFC 5227 probe before adding (run_arping).
    fn check_duplicate(&self, ctx: &Context, link: &Link) -> Result<()> {
        let (IpAddr::V4(ip), Some(a)) = (self.cfg.ip, self.announcement(link)) else {
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
            let a = addrs.iter().find(|a| a.ip == self.cfg.ip)?;
            if a.flags.dadfailed() {
                return Some(false);
            }
            (!a.flags.tentative()).then_some(true)
        });
        match done {
            Some(true) => Ok(()),
            Some(false) => {
                let _ = nl.delete_address(index, self.cfg.ip, target.prefix);
                Err(Error::generic(failure.unwrap_or_else(|| {
                    format!(
                        "duplicate address detection failed: another host on {} has {}; \
                         the address was removed",
                        target.link.name, self.cfg.ip
                    )
                })))
            }
            None => Err(Error::generic(format!(
                "duplicate address detection of {} on {} did not finish before the timeout \
                 (is the link up with a carrier?)",
                self.cfg.ip, target.link.name
            ))),
        }
    }

    fn announce(&self, ctx: &Context, link: &Link) -> Result<()> {
        let Some(a) = self.announcement(link) else {
            return Ok(());
        };
        let count = self.cfg.arp_count;
        let interval = self.cfg.arp_interval;
        let pid_path = self.pid_file();
        announce::stop_background(&pid_path, ctx.deadline.within(Duration::from_secs(1)).end());
        let mut background = self.cfg.arp_bg && count > 1;
        let sent = if background {
            let announced = a
                .send_then_background(count - 1, interval, &pid_path, ctx.deadline.end())
                .map_err(|e| match e {
                    BackgroundError::Send(e) => {
                        Error::generic(format!("announcing {} on {}: {e}", self.cfg.ip, link.name))
                    }
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
                .or_generic(|| format!("announcing {} on {}", self.cfg.ip, link.name))?
        };
        if !background && sent < count {
            log::warn!("sent {sent} of {count} announcements before the deadline");
        }
        log::info!(
            "announced {} on {} ({sent} sent now{})",
            self.cfg.ip,
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
            .addresses(family(self.cfg.ip), None)
            .or_generic(|| "reading addresses")?;
        delete_addresses(
            nl,
            addrs
                .iter()
                .filter(|a| a.ip == self.cfg.ip && !self.is_parking(a)),
        )
    }
}

impl ocf::Agent for IpAddr2 {
    const NAME: &'static str = "ipaddr2";
    const METADATA: &'static str = include_str!("../../../xml-metadata/ipaddr2.xml");

    fn from_context(ctx: &Context) -> Result<IpAddr2> {
        let cfg = Config::from_context(ctx)?;
        if let Some(ns) = &cfg.network_namespace {
            enter_namespace(ns)?;
        }
        Ok(IpAddr2 { cfg })
    }

    fn config_error(action: Action, ctx: &Context, err: Error) -> Result<Status> {
        if ctx.is_probe() {
            log::warn!("probe: {}; reporting not running", err.reason());
            return Ok(Status::NotRunning);
        }
        if action == Action::Stop {
            return stop_unconfigured(ctx, &err);
        }
        Err(err)
    }

    fn validate(&self, _ctx: &Context) -> Result<()> {
        let mut nl = Netlink::open(NETLINK_TIMEOUT).or_generic(|| "opening rtnetlink")?;
        self.target(&mut nl).map(drop)
    }

    fn start(&self, ctx: &Context) -> Result<Status> {
        require_root(ctx)?;
        let mut nl = netlink(ctx)?;
        let fam = family(self.cfg.ip);
        if self.cfg.lvs_support {
            // LVS-DR parks the address on lo while stopped; take it back.
            for a in nl
                .addresses(fam, Some(LOOPBACK_INDEX))
                .or_generic(|| "reading addresses of lo")?
                .iter()
                .filter(|a| a.ip == self.cfg.ip)
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
            .filter(|a| a.ip == self.cfg.ip && !self.is_parking(a))
        {
            if a.index != link.index {
                return Err(Error::generic(format!(
                    "{} is already configured on interface {} (expected {}); remove it there \
                     first",
                    self.cfg.ip,
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
        if present && (link.up || !self.cfg.check_link_status) {
            log::info!("{} is already on {}", self.cfg.ip, link.name);
            return Ok(Status::Success);
        }
        if !present {
            if self.cfg.run_arping {
                self.check_duplicate(ctx, link)?;
            }
            let broadcast = match self.cfg.ip {
                IpAddr::V4(ip) => {
                    findif::broadcast(self.cfg.broadcast, ip, target.prefix, link.index, &addrs)
                }
                IpAddr::V6(_) => None,
            };
            let req = AddRequest {
                index: link.index,
                ip: self.cfg.ip,
                prefix_len: target.prefix,
                broadcast,
                label,
                nodad: self.cfg.nodad,
                noprefixroute: self.cfg.noprefixroute,
                preferred_lft: self.cfg.preferred_lft,
            };
            match nl.add_address(&req) {
                Ok(()) => {}
                Err(e) if e.is_exists() => {}
                Err(e) => return Err(Error::generic(e.to_string())),
            }
            log::info!("added {}/{} to {}", self.cfg.ip, target.prefix, link.name);
        }
        if !link.up {
            nl.set_link_up(link.index)
                .or_generic(|| format!("setting {} up", link.name))?;
        }
        if self.cfg.ip.is_ipv6() && !self.cfg.nodad {
            self.wait_dad(ctx, &mut nl, &target)?;
        }
        self.announce(ctx, link)?;
        Ok(Status::Success)
    }

    fn stop(&self, ctx: &Context) -> Result<Status> {
        require_root(ctx)?;
        announce::stop_background(
            &self.pid_file(),
            ctx.deadline.within(Duration::from_secs(2)).end(),
        );
        let mut nl = netlink(ctx)?;
        self.remove_everywhere(&mut nl)?;
        if self.cfg.flush_routes {
            netlink_addr::flush_route_cache(family(self.cfg.ip)).or_generic(|| "flush_routes")?;
        }
        if self.cfg.lvs_support {
            let req = AddRequest {
                index: LOOPBACK_INDEX,
                ip: self.cfg.ip,
                prefix_len: 32,
                broadcast: None,
                label: None,
                nodad: false,
                noprefixroute: false,
                preferred_lft: None,
            };
            match nl.add_address(&req) {
                Ok(()) => log::info!("parked {}/32 on lo (lvs_support)", self.cfg.ip),
                Err(e) if e.is_exists() => {}
                Err(e) => return Err(Error::generic(e.to_string())),
            }
        }
        Ok(Status::Success)
    }

    fn monitor(&self, ctx: &Context) -> Result<Status> {
        let mut nl = netlink(ctx)?;
        let nic_link = match &self.cfg.nic {
            Some(nic) => match nl.link_by_name(nic) {
                Ok(l) => Some(l),
                Err(e) if e.is_not_found() => {
                    log::info!("nic={nic} does not exist: {} is not running", self.cfg.ip);
                    return Ok(Status::NotRunning);
                }
                Err(e) => return Err(Error::generic(e.to_string())),
            },
            None => None,
        };
        let addrs = nl
            .addresses(family(self.cfg.ip), None)
            .or_generic(|| "reading addresses")?;
        let a = match self.find(&addrs, nic_link.as_ref().map(|l| l.index), self.cfg.prefix) {
            Found::Here(a) => a,
            Found::Absent => return Ok(Status::NotRunning),
            Found::Elsewhere(a) => {
                return Err(Error::generic(format!(
                    "{} is configured as {}/{} on interface {}, not as /{} on {}",
                    self.cfg.ip,
                    a.ip,
                    a.prefix_len,
                    a.index,
                    self.cfg
                        .prefix
                        .map_or_else(|| "any".into(), |p| p.to_string()),
                    self.cfg
                        .nic
                        .as_deref()
                        .unwrap_or("the interface findif chooses")
                )));
            }
        };
        let needs_link = self.cfg.check_link_status
            || self.cfg.iflabel.is_some()
            || self.cfg.arp_count_refresh > 0;
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
                self.cfg.ip
            )));
        }
        if let Some(link) = &link {
            if self.cfg.check_link_status && link.is_down() {
                log::warn!(
                    "{} is on {}, whose link is {}",
                    self.cfg.ip,
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
                    self.cfg.ip,
                    link.name,
                    a.label.as_deref().unwrap_or("")
                )));
            }
            if self.cfg.arp_count_refresh > 0
                && let Some(ann) = self.announcement(link)
            {
                let until: Instant = ctx.deadline.end();
                if let Err(e) = ann.send(self.cfg.arp_count_refresh, self.cfg.arp_interval, until) {
                    log::warn!("arp_count_refresh: {e}");
                }
            }
        }
        Ok(Status::Success)
    }
}

/// stop with parameters that do not parse: remove the address if `ip` (and the namespace)
/// can still be read, so that a bad edit never leaves a live address behind a "stopped"
/// resource; otherwise nothing of ours can exist and stop succeeds.
fn stop_unconfigured(ctx: &Context, err: &Error) -> Result<Status> {
    log::warn!("stop with an invalid configuration: {}", err.reason());
    let raw = |name: &str| {
        ctx.env
            .params
            .get(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let Some(ip) = raw("ip").and_then(|v| v.parse::<IpAddr>().ok()) else {
        return Ok(Status::Success);
    };
    if let Some(ns) = raw("network_namespace")
        && (!crate::config::valid_netns(&ns) || enter_namespace(&ns).is_err())
    {
        return Ok(Status::Success);
    }
    require_root(ctx)?;
    let mut nl = netlink(ctx)?;
    let addrs = nl
        .addresses(family(ip), None)
        .or_generic(|| "reading addresses")?;
    delete_addresses(
        &mut nl,
        addrs
            .iter()
            .filter(|a| a.ip == ip && a.index != LOOPBACK_INDEX),
    )?;
    Ok(Status::Success)
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
