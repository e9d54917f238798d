//! The policy: what start, stop, monitor and validate-all do with the address, written
//! against [`Host`] so that the same code runs on the kernel and, in the unit tests, on a
//! fake.

use crate::announce::{Announced, Announcement, BackgroundError};
use crate::config::{self, Config, Identity, Settings};
use crate::findif;
use crate::host::{Host, because, io_text};
use netlink_addr::{AddRequest, Addr, Family, Link};
use ocf::{Context, Error, Policy, Result, Status};
use std::net::IpAddr;
use std::time::Duration;

/// The loopback device's index, fixed by the kernel (LOOPBACK_IFINDEX).
pub const LOOPBACK_INDEX: u32 = 1;
/// How often DAD progress is polled.
const DAD_POLL: Duration = Duration::from_millis(50);
/// The longest start waits for a carrier (a link just set up negotiates for a second or
/// two; a pulled cable never comes back in time), and how often it looks.
const CARRIER_WAIT: Duration = Duration::from_secs(5);
const CARRIER_POLL: Duration = Duration::from_millis(100);

/// The agent's policy for one address over a host `H`.
#[derive(Debug)]
pub struct Logic<H: Host> {
    pub cfg: Config,
    pub host: H,
    /// Entering `network_namespace` failed (it does not exist): nothing of ours can be
    /// there. Start and validate-all fail with this; a probe answers 7 and stop 0.
    pub namespace_error: Option<Error>,
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

impl<H: Host> Logic<H> {
    fn ip(&self) -> IpAddr {
        self.cfg.identity.ip
    }

    fn family(&self) -> Family {
        Family::of(self.ip())
    }

    /// For the actions that put the address in place: a clone this agent serves, and a
    /// namespace that exists.
    fn usable(&self, ctx: &Context) -> Result<()> {
        config::check_meta(&ctx.env.meta)?;
        match &self.namespace_error {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    fn require_root(&self, ctx: &Context) -> Result<()> {
        if self.host.privileged() {
            Ok(())
        } else {
            Err(Error::perm(format!("{} needs root", ctx.action)))
        }
    }

    /// The address's own interface is lo: `nic=lo`, or no nic and an address of 127.0.0.0/8
    /// (findif puts it there, as IPaddr2's does). Known without reading the routing table,
    /// so monitor stays one address dump.
    fn belongs_on_lo(&self) -> bool {
        match (&self.cfg.identity.nic, self.ip()) {
            (Some(nic), _) => nic == "lo",
            (None, IpAddr::V4(v4)) => v4.is_loopback(),
            (None, IpAddr::V6(_)) => false,
        }
    }

    /// An address on lo that is not the resource's, when its interface is another: parked
    /// there by lvs_support while stopped, or put there by the administrator (an LVS real
    /// server's address); never ours to judge or remove.
    fn is_parking(&self, a: &Addr) -> bool {
        a.index == LOOPBACK_INDEX && !self.belongs_on_lo()
    }

    /// lvs_support parks the address on lo while stopped; an address whose own interface
    /// is lo has nowhere else to be parked, so it is simply added and removed there.
    fn parks_on_lo(&self) -> bool {
        self.cfg.settings.lvs_support && !self.belongs_on_lo()
    }

    fn find<'a>(&self, addrs: &'a [Addr], index: Option<u32>, prefix: Option<u8>) -> Found<'a> {
        let ours: Vec<&Addr> = addrs
            .iter()
            .filter(|a| a.ip == self.ip() && !self.is_parking(a))
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

    /// The name of interface `index`, or its number when it cannot be read.
    fn link_name(&self, index: u32) -> String {
        self.host
            .link_by_index(index)
            .map_or_else(|_| index.to_string(), |l| l.name)
    }

    /// findif: the interface and prefix the address belongs on.
    fn target(&self) -> Result<Target> {
        let nic_link = match &self.cfg.identity.nic {
            Some(nic) => Some(self.host.link_by_name(nic).map_err(|e| {
                if e.is_not_found() {
                    Error::installed(format!(
                        "nic={}: no such interface",
                        ocf::error::printable(nic)
                    ))
                } else {
                    because(format!("looking up nic={nic}"))(e)
                }
            })?),
            None => None,
        };
        let routes = self
            .host
            .routes(self.family())
            .map_err(because("reading the routing table"))?;
        let nic_index = nic_link.as_ref().map(|l| l.index);
        let prefix = self.cfg.settings.prefix;
        let choice = findif::find(
            &routes,
            self.ip(),
            nic_index,
            prefix,
            self.cfg.settings.proto,
        )
        .ok()
        .or_else(|| {
            let lo = nic_link
                .as_ref()
                .filter(|l| l.loopback)
                .map_or(LOOPBACK_INDEX, |l| l.index);
            findif::loopback(&routes, self.ip(), nic_index, lo, prefix)
        })
        .ok_or_else(|| {
            Error::installed(format!(
                "no interface for {}: no route in the main table covers it{}{}; set nic and \
                 cidr_netmask",
                self.ip(),
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
            None => self
                .host
                .link_by_index(choice.index)
                .map_err(because(format!("looking up interface {}", choice.index)))?,
        };
        if link.loopback && !self.belongs_on_lo() {
            // A main-table route through lo: monitor, which reads no routes, would never
            // find the address there.
            return Err(Error::installed(format!(
                "the routing table puts {} on {}; set nic={} to manage an address on the \
                 loopback interface",
                self.ip(),
                link.name,
                link.name
            )));
        }
        if let Some(label) = self.cfg.label(&link.name)
            && label.len() > config::MAX_IFNAME
        {
            return Err(Error::bad_param(
                "iflabel",
                self.cfg.settings.iflabel.as_deref().unwrap_or_default(),
                format!("{label} is longer than 15 characters"),
            ));
        }
        log::debug!("findif: {} on {}/{}", self.ip(), link.name, choice.prefix);
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
                ip: self.ip(),
                reply: self.cfg.settings.arp_reply,
            }),
            _ if link.loopback => {
                log::info!(
                    "{} is the loopback interface: nothing to announce",
                    link.name
                );
                None
            }
            _ => {
                log::info!(
                    "{}: no Ethernet address or NOARP, nothing to announce",
                    link.name
                );
                None
            }
        }
    }

    /// RFC 5227 probe before adding (run_arping).
    fn check_duplicate(&self, ctx: &Context, link: &Link) -> Result<()> {
        let (IpAddr::V4(ip), Some(a)) = (self.ip(), self.announcement(link)) else {
            return Ok(());
        };
        match self
            .host
            .probe_for_conflict(link, a.mac, ip, ctx.deadline.end())
            .map_err(|e| {
                Error::generic(format!(
                    "probing for {ip} on {}: {}",
                    link.name,
                    io_text(&e)
                ))
            })? {
            Some(other) => Err(Error::generic(format!(
                "IPv4 address collision: {ip} is in use by {} on {} (run_arping)",
                arp_announce::format_mac(&other),
                link.name
            ))),
            None => Ok(()),
        }
    }

    /// Wait until `link` has a carrier: at most [`CARRIER_WAIT`], and never more than half
    /// of what is left of the deadline (DAD and the first announcement come after). No
    /// carrier is a local failure (1): the address is not added here (one `present` already
    /// is left for stop), and Pacemaker moves it to a node that can serve it (the anchor
    /// starts anyway, and its monitor then fails in place forever).
    fn wait_for_carrier(&self, ctx: &Context, link: &Link, present: bool) -> Result<()> {
        if link.has_carrier() {
            return Ok(());
        }
        let began = std::time::Instant::now();
        let mut last = link.clone();
        let mut failure = None;
        let ready = ctx
            .deadline
            .share(0.5)
            .within(CARRIER_WAIT)
            .poll(CARRIER_POLL, || match self.host.link_by_index(link.index) {
                Ok(now) if now.has_carrier() => Some(()),
                Ok(now) => {
                    last = now;
                    None
                }
                Err(e) => {
                    failure = Some(e.cause());
                    None
                }
            });
        if ready.is_some() {
            log::info!(
                "{} has a carrier after {:.1} s",
                link.name,
                began.elapsed().as_secs_f64()
            );
            return Ok(());
        }
        Err(Error::generic(format!(
            "{} has no carrier (state {}{}) after {:.1} s: {} would reach nobody from here ({}; \
             cable, switch port or peer down? check_link_status=false starts without a \
             carrier)",
            link.name,
            last.oper_state,
            failure
                .map(|f| format!(", last look-up: {f}"))
                .unwrap_or_default(),
            began.elapsed().as_secs_f64(),
            self.ip(),
            if present {
                "left for stop to remove"
            } else {
                "not added"
            },
        )))
    }

    /// Wait for IPv6 duplicate address detection to finish, within the deadline.
    fn wait_dad(&self, ctx: &Context, target: &Target) -> Result<()> {
        let index = target.link.index;
        let mut failure = None;
        let done = ctx.deadline.poll(DAD_POLL, || {
            let addrs = match self.host.addresses(Family::V6, Some(index)) {
                Ok(a) => a,
                Err(e) => {
                    failure = Some(format!(
                        "reading addresses of {}: {}",
                        target.link.name,
                        e.cause()
                    ));
                    return Some(false);
                }
            };
            let a = addrs.iter().find(|a| a.ip == self.ip())?;
            if a.flags.dadfailed() {
                return Some(false);
            }
            (!a.flags.tentative()).then_some(true)
        });
        match done {
            Some(true) => Ok(()),
            Some(false) => {
                let _ = self.host.delete_address(index, self.ip(), target.prefix);
                Err(Error::generic(failure.unwrap_or_else(|| {
                    format!(
                        "duplicate address detection failed: another host on {} has {}; \
                         the address was removed",
                        target.link.name,
                        self.ip()
                    )
                })))
            }
            None => Err(Error::generic(format!(
                "duplicate address detection of {} on {} did not finish before the timeout \
                 (is the link up with a carrier?)",
                self.ip(),
                target.link.name
            ))),
        }
    }

    fn announce(&self, ctx: &Context, link: &Link) -> Result<()> {
        let Some(a) = self.announcement(link) else {
            return Ok(());
        };
        let count = self.cfg.settings.arp_count;
        let interval = self.cfg.settings.arp_interval;
        self.host
            .stop_announcer(ctx.deadline.within(Duration::from_secs(1)).end());
        let mut background = self.cfg.settings.arp_bg && count > 1;
        let sent = if background {
            let announced = self
                .host
                .announce_in_background(&a, count - 1, interval, ctx.deadline.end())
                .map_err(|e| match e {
                    BackgroundError::Send(e) => Error::generic(format!(
                        "announcing {} on {}: {}",
                        self.ip(),
                        link.name,
                        io_text(&e)
                    )),
                    BackgroundError::Spawn(e) => Error::generic(format!(
                        "starting the background announcer ({}): {}",
                        self.host.announcer_pid_file().display(),
                        io_text(&e)
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
            self.host
                .announce(&a, count, interval, ctx.deadline.end())
                .map_err(|e| {
                    Error::generic(format!(
                        "announcing {} on {}: {}",
                        self.ip(),
                        link.name,
                        io_text(&e)
                    ))
                })?
        };
        if !background && sent < count {
            log::warn!("sent {sent} of {count} announcements before the deadline");
        }
        log::info!(
            "announced {} on {} ({sent} sent now{})",
            self.ip(),
            link.name,
            if background {
                format!(", {} in the background", count - 1)
            } else {
                String::new()
            }
        );
        Ok(())
    }

    /// Delete each of `addrs` (RTM_DELADDR); one already gone counts as deleted.
    fn delete_addresses<'a>(&self, addrs: impl Iterator<Item = &'a Addr>) -> Result<()> {
        for a in addrs {
            match self.host.delete_address(a.index, a.ip, a.prefix_len) {
                Ok(()) => log::info!(
                    "removed {}/{} from {}",
                    a.ip,
                    a.prefix_len,
                    self.link_name(a.index)
                ),
                Err(e) if e.is_not_found() => {}
                Err(e) => {
                    return Err(because(format!(
                        "removing {}/{} from {}",
                        a.ip,
                        a.prefix_len,
                        self.link_name(a.index)
                    ))(e));
                }
            }
        }
        Ok(())
    }
}

impl<H: Host> Policy for Logic<H> {
    type Identity = Identity;
    type Settings = Settings;

    /// validate-all: the configuration can be put in place here (an interface for it).
    fn validate(&self, ctx: &Context) -> Result<()> {
        self.usable(ctx)?;
        check_announceable(&self.target()?.link)
    }

    fn start(&self, ctx: &Context) -> Result<Status> {
        self.usable(ctx)?;
        self.require_root(ctx)?;
        let fam = self.family();
        if self.cfg.settings.lvs_support && !self.parks_on_lo() {
            log::info!(
                "lvs_support: {} lives on lo itself, so it is added and removed there",
                self.ip()
            );
        }
        if self.parks_on_lo() {
            // LVS-DR parks the address on lo while stopped; take it back.
            for a in self
                .host
                .addresses(fam, Some(LOOPBACK_INDEX))
                .map_err(because("reading addresses of lo"))?
                .iter()
                .filter(|a| a.ip == self.ip())
            {
                match self.host.delete_address(LOOPBACK_INDEX, a.ip, a.prefix_len) {
                    Ok(()) => log::info!("removed {}/{} from lo (lvs_support)", a.ip, a.prefix_len),
                    Err(e) if e.is_not_found() => {}
                    Err(e) => {
                        return Err(because(format!(
                            "removing {}/{} from lo",
                            a.ip, a.prefix_len
                        ))(e));
                    }
                }
            }
        }
        let target = self.target()?;
        let link = &target.link;
        check_announceable(link)?;
        let label = self.cfg.label(&link.name);
        let addrs = self
            .host
            .addresses(fam, None)
            .map_err(because("reading addresses"))?;
        let mut present = false;
        for a in addrs
            .iter()
            .filter(|a| a.ip == self.ip() && !self.is_parking(a))
        {
            if a.index != link.index {
                return Err(Error::generic(format!(
                    "{} is already configured on interface {} (expected {}); remove it there \
                     first",
                    self.ip(),
                    self.link_name(a.index),
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
                self.host
                    .delete_address(a.index, a.ip, a.prefix_len)
                    .map_err(because(format!(
                        "removing {}/{} from {}",
                        a.ip, a.prefix_len, link.name
                    )))?;
            }
        }
        let check_link = self.cfg.settings.check_link_status;
        if present && (link.has_carrier() || !check_link) {
            log::info!("{} is already on {}", self.ip(), link.name);
            return Ok(Status::Success);
        }
        if !link.up {
            log::info!("setting {} up", link.name);
            self.host
                .set_link_up(link.index)
                .map_err(because(format!("setting {} up", link.name)))?;
        }
        if check_link {
            self.wait_for_carrier(ctx, link, present)?;
        }
        if !present {
            if self.cfg.settings.run_arping {
                self.check_duplicate(ctx, link)?;
            }
            let broadcast = match self.ip() {
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
                ip: self.ip(),
                prefix_len: target.prefix,
                broadcast,
                label,
                nodad: self.cfg.settings.nodad,
                noprefixroute: self.cfg.settings.noprefixroute,
                preferred_lft: self.cfg.settings.preferred_lft,
            };
            match self.host.add_address(&req) {
                Ok(()) => {}
                Err(e) if e.is_exists() => {}
                Err(e) => {
                    return Err(because(format!(
                        "adding {}/{} to {}",
                        self.ip(),
                        target.prefix,
                        link.name
                    ))(e));
                }
            }
            log::info!("added {}/{} to {}", self.ip(), target.prefix, link.name);
        }
        if self.ip().is_ipv6() && !self.cfg.settings.nodad {
            self.wait_dad(ctx, &target)?;
        }
        self.announce(ctx, link)?;
        Ok(Status::Success)
    }

    fn stop(&self, ctx: &Context) -> Result<Status> {
        if let Some(e) = &self.namespace_error {
            log::info!("{}: nothing of ours can be there", e.reason());
            return Ok(Status::Success);
        }
        self.require_root(ctx)?;
        self.host
            .stop_announcer(ctx.deadline.within(Duration::from_secs(2)).end());
        let addrs = self
            .host
            .addresses(self.family(), None)
            .map_err(because("reading addresses"))?;
        self.delete_addresses(
            addrs
                .iter()
                .filter(|a| a.ip == self.ip() && !self.is_parking(a)),
        )?;
        if self.cfg.settings.flush_routes {
            self.host
                .flush_route_cache(self.family())
                .map_err(because("flush_routes: flushing the route cache"))?;
        }
        if self.parks_on_lo() {
            let req = AddRequest {
                index: LOOPBACK_INDEX,
                ip: self.ip(),
                prefix_len: 32,
                broadcast: None,
                label: None,
                nodad: false,
                noprefixroute: false,
                preferred_lft: None,
            };
            match self.host.add_address(&req) {
                Ok(()) => log::info!("parked {}/32 on lo (lvs_support)", self.ip()),
                Err(e) if e.is_exists() => {}
                Err(e) => return Err(because(format!("parking {}/32 on lo", self.ip()))(e)),
            }
        }
        Ok(Status::Success)
    }

    fn monitor(&self, ctx: &Context) -> Result<Status> {
        if let Some(e) = &self.namespace_error {
            if ctx.is_probe() {
                log::info!("{}: {} is not running", e.reason(), self.ip());
                return Ok(Status::NotRunning);
            }
            return Err(e.clone());
        }
        let nic_link = match &self.cfg.identity.nic {
            Some(nic) => match self.host.link_by_name(nic) {
                Ok(l) => Some(l),
                Err(e) if e.is_not_found() => {
                    log::info!("nic={nic} does not exist: {} is not running", self.ip());
                    return Ok(Status::NotRunning);
                }
                Err(e) => return Err(because(format!("looking up nic={nic}"))(e)),
            },
            None => None,
        };
        let addrs = self
            .host
            .addresses(self.family(), None)
            .map_err(because("reading addresses"))?;
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
                    self.ip(),
                    a.ip,
                    a.prefix_len,
                    self.link_name(a.index),
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
                self.host
                    .link_by_index(a.index)
                    .map_err(because(format!("looking up interface {}", a.index)))?,
            ),
            (None, false) => None,
        };
        if a.flags.dadfailed() {
            return Err(Error::generic(format!(
                "{} failed duplicate address detection (dadfailed)",
                self.ip()
            )));
        }
        if let Some(link) = &link {
            if self.cfg.settings.check_link_status && !link.has_carrier() {
                log::warn!(
                    "{} is on {}, which has no carrier (state {}{})",
                    self.ip(),
                    link.name,
                    link.oper_state,
                    if link.up { "" } else { ", set down" }
                );
                return Ok(Status::NotRunning);
            }
            if let Some(label) = self.cfg.label(&link.name)
                && a.label.as_deref() != Some(label.as_str())
            {
                return Err(Error::generic(format!(
                    "{} on {} {}, expected {label}",
                    self.ip(),
                    link.name,
                    a.label
                        .as_deref()
                        .map_or_else(|| "has no label".to_owned(), |l| format!("has label {l}"))
                )));
            }
            if self.cfg.settings.arp_count_refresh > 0
                && let Some(ann) = self.announcement(link)
                && let Err(e) = self.host.announce(
                    &ann,
                    self.cfg.settings.arp_count_refresh,
                    self.cfg.settings.arp_interval,
                    ctx.deadline.end(),
                )
            {
                log::warn!(
                    "arp_count_refresh: announcing on {}: {}",
                    link.name,
                    io_text(&e)
                );
            }
        }
        Ok(Status::Success)
    }
}

/// The interface can carry the announcements a moved address needs: Ethernet, or no ARP
/// at all (lo, NOARP tunnels: nothing to announce there). Other hardware that uses ARP,
/// IP over InfiniBand first of all, is refused with 5: this node's interface cannot be
/// served (the resource may run on a node with Ethernet), rather than a start that says
/// 0 and announces nothing.
fn check_announceable(link: &Link) -> Result<()> {
    if link.loopback || link.noarp || link.hw_type == netlink_addr::ARPHRD_ETHER {
        return Ok(());
    }
    Err(Error::installed(match link.hw_type {
        netlink_addr::ARPHRD_INFINIBAND => format!(
            "{} is an IP-over-InfiniBand interface: {}",
            link.name,
            config::IPOIB_REFUSED
        ),
        other => format!(
            "{} is not an Ethernet interface (hardware type {other}) but uses ARP: \
             ipaddr2 announces addresses on Ethernet only",
            link.name
        ),
    }))
}

#[cfg(test)]
mod tests;
