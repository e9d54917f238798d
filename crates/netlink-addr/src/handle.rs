//! The operations: each names its `ip` equivalent and the rtnetlink message it sends.

use crate::model::{Addr, Family, Link, Route};
use crate::transport::Transport;
use crate::{Error, Result};
use netlink_packet_core::{NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REQUEST};
use netlink_packet_route::address::{
    AddressAttribute, AddressFlags, AddressMessage, AddressScope, CacheInfo,
};
use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkMessage};
use netlink_packet_route::route::RouteMessage;
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

/// What `ip addr add IP/PREFIX [brd B] dev IFACE [label L] [nodad] [noprefixroute]
/// [preferred_lft N]` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddRequest {
    pub index: u32,
    pub ip: IpAddr,
    pub prefix_len: u8,
    /// IPv4 only.
    pub broadcast: Option<Ipv4Addr>,
    /// IPv4 only; must start with the interface's name.
    pub label: Option<String>,
    pub nodad: bool,
    pub noprefixroute: bool,
    /// Seconds; None is forever.
    pub preferred_lft: Option<u32>,
}

fn family(f: Family) -> AddressFamily {
    match f {
        Family::V4 => AddressFamily::Inet,
        Family::V6 => AddressFamily::Inet6,
    }
}

impl AddRequest {
    /// The RTM_NEWADDR message.
    pub(crate) fn message(&self) -> AddressMessage {
        let mut msg = AddressMessage::default();
        msg.header.family = family(Family::of(self.ip));
        msg.header.prefix_len = self.prefix_len;
        msg.header.index = self.index;
        // `ip addr add` gives 127.0.0.0/8 host scope (iproute2's default_scope); the kernel
        // itself would make it global.
        if let IpAddr::V4(v4) = self.ip
            && v4.is_loopback()
        {
            msg.header.scope = AddressScope::Host;
        }
        msg.attributes.push(AddressAttribute::Local(self.ip));
        msg.attributes.push(AddressAttribute::Address(self.ip));
        if let (Some(b), IpAddr::V4(_)) = (self.broadcast, self.ip) {
            msg.attributes.push(AddressAttribute::Broadcast(b));
        }
        if let (Some(l), IpAddr::V4(_)) = (&self.label, self.ip) {
            msg.attributes.push(AddressAttribute::Label(l.clone()));
        }
        let mut flags = AddressFlags::empty();
        if self.nodad {
            flags |= AddressFlags::Nodad;
        }
        if self.noprefixroute {
            flags |= AddressFlags::Noprefixroute;
        }
        if !flags.is_empty() {
            msg.attributes.push(AddressAttribute::Flags(flags));
        }
        if let Some(preferred) = self.preferred_lft {
            let mut info = CacheInfo::default();
            info.ifa_preferred = preferred;
            info.ifa_valid = u32::MAX;
            msg.attributes.push(AddressAttribute::CacheInfo(info));
        }
        msg
    }
}

/// The RTM_DELADDR message for IP/PREFIX on interface `index`.
pub(crate) fn delete_message(index: u32, ip: IpAddr, prefix_len: u8) -> AddressMessage {
    let mut msg = AddressMessage::default();
    msg.header.family = family(Family::of(ip));
    msg.header.prefix_len = prefix_len;
    msg.header.index = index;
    msg.attributes.push(AddressAttribute::Local(ip));
    if ip.is_ipv6() {
        msg.attributes.push(AddressAttribute::Address(ip));
    }
    msg
}

/// A NETLINK_ROUTE connection in the calling thread's network namespace.
pub struct Netlink {
    transport: Transport,
}

impl Netlink {
    /// Open it; a reply is awaited at most `timeout`.
    pub fn open(timeout: Duration) -> Result<Netlink> {
        Ok(Netlink {
            transport: Transport::open(timeout)?,
        })
    }

    /// `ip -f FAMILY addr show [dev INDEX]` (RTM_GETADDR dump).
    pub fn addresses(&mut self, fam: Family, index: Option<u32>) -> Result<Vec<Addr>> {
        let mut msg = AddressMessage::default();
        msg.header.family = family(fam);
        msg.header.index = index.unwrap_or(0);
        let replies = self.transport.exchange(
            "dumping addresses (RTM_GETADDR)",
            RouteNetlinkMessage::GetAddress(msg),
            NLM_F_REQUEST | NLM_F_DUMP,
        )?;
        Ok(replies
            .iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewAddress(a) => Addr::from_message(a),
                _ => None,
            })
            // Without strict checking (kernels before 4.20) the kernel ignores the filter.
            .filter(|a| Family::of(a.ip) == fam && index.is_none_or(|i| a.index == i))
            .collect())
    }

    /// `ip addr add ...` (RTM_NEWADDR with NLM_F_CREATE|NLM_F_EXCL: EEXIST when present).
    pub fn add_address(&mut self, req: &AddRequest) -> Result<()> {
        let op = format!(
            "adding {}/{} to interface {}",
            req.ip, req.prefix_len, req.index
        );
        self.transport
            .exchange(
                &op,
                RouteNetlinkMessage::NewAddress(req.message()),
                NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
            )
            .map(drop)
    }

    /// `ip addr del IP/PREFIX dev INDEX` (RTM_DELADDR: EADDRNOTAVAIL when absent).
    pub fn delete_address(&mut self, index: u32, ip: IpAddr, prefix_len: u8) -> Result<()> {
        let op = format!("deleting {ip}/{prefix_len} from interface {index}");
        self.transport
            .exchange(
                &op,
                RouteNetlinkMessage::DelAddress(delete_message(index, ip, prefix_len)),
                NLM_F_REQUEST | NLM_F_ACK,
            )
            .map(drop)
    }

    fn get_link(&mut self, op: &str, msg: LinkMessage) -> Result<Link> {
        let replies = self.transport.exchange(
            op,
            RouteNetlinkMessage::GetLink(msg),
            NLM_F_REQUEST | NLM_F_ACK,
        )?;
        replies
            .iter()
            .find_map(|m| match m {
                RouteNetlinkMessage::NewLink(l) => Some(Link::from_message(l)),
                _ => None,
            })
            .ok_or_else(|| Error::Decode {
                op: op.to_owned(),
                detail: "no RTM_NEWLINK in the reply".into(),
            })
    }

    /// `ip link show dev NAME` (RTM_GETLINK by IFLA_IFNAME): ENODEV when there is none.
    pub fn link_by_name(&mut self, name: &str) -> Result<Link> {
        let mut msg = LinkMessage::default();
        msg.attributes.push(LinkAttribute::IfName(name.to_owned()));
        self.get_link(&format!("looking up interface {name} (RTM_GETLINK)"), msg)
    }

    /// `ip link show` for one index (RTM_GETLINK).
    pub fn link_by_index(&mut self, index: u32) -> Result<Link> {
        let mut msg = LinkMessage::default();
        msg.header.index = index;
        self.get_link(&format!("looking up interface {index} (RTM_GETLINK)"), msg)
    }

    /// `ip link show` (RTM_GETLINK dump).
    pub fn links(&mut self) -> Result<Vec<Link>> {
        let replies = self.transport.exchange(
            "dumping links (RTM_GETLINK)",
            RouteNetlinkMessage::GetLink(LinkMessage::default()),
            NLM_F_REQUEST | NLM_F_DUMP,
        )?;
        Ok(replies
            .iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewLink(l) => Some(Link::from_message(l)),
                _ => None,
            })
            .collect())
    }

    /// `ip link set dev INDEX up` (RTM_SETLINK with IFF_UP in the change mask).
    pub fn set_link_up(&mut self, index: u32) -> Result<()> {
        let mut msg = LinkMessage::default();
        msg.header.index = index;
        msg.header.flags = LinkFlags::Up;
        msg.header.change_mask = LinkFlags::Up;
        self.transport
            .exchange(
                &format!("setting interface {index} up (RTM_SETLINK)"),
                RouteNetlinkMessage::SetLink(msg),
                NLM_F_REQUEST | NLM_F_ACK,
            )
            .map(drop)
    }

    /// `ip -f FAMILY route list table all` (RTM_GETROUTE dump).
    pub fn routes(&mut self, fam: Family) -> Result<Vec<Route>> {
        let mut msg = RouteMessage::default();
        msg.header.address_family = family(fam);
        let replies = self.transport.exchange(
            "dumping routes (RTM_GETROUTE)",
            RouteNetlinkMessage::GetRoute(msg),
            NLM_F_REQUEST | NLM_F_DUMP,
        )?;
        Ok(replies
            .iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewRoute(r) => Some(Route::from_message(r, fam)),
                _ => None,
            })
            .collect())
    }
}

/// `ip -f FAMILY route flush cache`: write to /proc/sys/net/ipv{4,6}/route/flush, which
/// belongs to the network namespace of the calling thread.
pub fn flush_route_cache(fam: Family) -> Result<()> {
    let path = match fam {
        Family::V4 => "/proc/sys/net/ipv4/route/flush",
        Family::V6 => "/proc/sys/net/ipv6/route/flush",
    };
    std::fs::write(path, b"-1\n").map_err(|source| Error::Io {
        op: format!("flushing the route cache ({path})"),
        source,
    })
}
