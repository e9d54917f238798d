//! Plain views of the kernel's address, link and route messages, decoupled from the wire
//! crate's types so that callers (and their tests) build them freely.

use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkMessage, State};
use netlink_packet_route::route::{RouteAddress, RouteAttribute, RouteMessage};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

/// An address family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    /// The family of `ip`.
    pub fn of(ip: IpAddr) -> Family {
        if ip.is_ipv4() { Family::V4 } else { Family::V6 }
    }

    /// The longest prefix of the family (32 or 128).
    pub fn max_prefix(self) -> u8 {
        match self {
            Family::V4 => 32,
            Family::V6 => 128,
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Family::V4 => "inet",
            Family::V6 => "inet6",
        })
    }
}

/// IFA_F_* flags of an address (`ip addr` shows them after the address).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AddrFlags(pub u32);

impl AddrFlags {
    pub const SECONDARY: u32 = 0x01;
    pub const NODAD: u32 = 0x02;
    pub const DADFAILED: u32 = 0x08;
    pub const DEPRECATED: u32 = 0x20;
    pub const TENTATIVE: u32 = 0x40;
    pub const PERMANENT: u32 = 0x80;
    pub const NOPREFIXROUTE: u32 = 0x200;

    pub fn has(self, flag: u32) -> bool {
        self.0 & flag != 0
    }
    /// IPv6 duplicate address detection has not finished.
    pub fn tentative(self) -> bool {
        self.has(Self::TENTATIVE)
    }
    /// IPv6 duplicate address detection found another owner.
    pub fn dadfailed(self) -> bool {
        self.has(Self::DADFAILED)
    }
}

/// One address, as `ip -o addr show` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addr {
    /// The interface's index.
    pub index: u32,
    /// The address itself (IFA_LOCAL for IPv4, IFA_ADDRESS for IPv6).
    pub ip: IpAddr,
    pub prefix_len: u8,
    /// IFA_LABEL (IPv4 only), e.g. `eth0:vip`.
    pub label: Option<String>,
    pub broadcast: Option<Ipv4Addr>,
    pub flags: AddrFlags,
    /// RT_SCOPE_* (0 global, 253 link, 254 host).
    pub scope: u8,
    /// Preferred lifetime in seconds (u32::MAX is forever).
    pub preferred_lft: u32,
}

impl Addr {
    pub(crate) fn from_message(msg: &AddressMessage) -> Option<Addr> {
        let mut local = None;
        let mut address = None;
        let mut addr = Addr {
            index: msg.header.index,
            ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            prefix_len: msg.header.prefix_len,
            label: None,
            broadcast: None,
            flags: AddrFlags(u32::from(msg.header.flags.bits())),
            scope: msg.header.scope.into(),
            preferred_lft: u32::MAX,
        };
        for attr in &msg.attributes {
            match attr {
                AddressAttribute::Local(ip) => local = Some(*ip),
                AddressAttribute::Address(ip) => address = Some(*ip),
                AddressAttribute::Label(l) => addr.label = Some(l.clone()),
                AddressAttribute::Broadcast(b) => addr.broadcast = Some(*b),
                // IFA_FLAGS carries all 32 bits; the header only the low 8.
                AddressAttribute::Flags(f) => addr.flags = AddrFlags(f.bits()),
                AddressAttribute::CacheInfo(c) => addr.preferred_lft = c.ifa_preferred,
                _ => {}
            }
        }
        addr.ip = local.or(address)?;
        Some(addr)
    }
}

/// RFC 2863 operational state (IFLA_OPERSTATE), as `ip link` prints after `state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperState {
    Unknown,
    NotPresent,
    Down,
    LowerLayerDown,
    Testing,
    Dormant,
    Up,
}

impl fmt::Display for OperState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OperState::Unknown => "UNKNOWN",
            OperState::NotPresent => "NOTPRESENT",
            OperState::Down => "DOWN",
            OperState::LowerLayerDown => "LOWERLAYERDOWN",
            OperState::Testing => "TESTING",
            OperState::Dormant => "DORMANT",
            OperState::Up => "UP",
        })
    }
}

/// ARPHRD_ETHER: Ethernet and everything that looks like it (veth, bridge, bond, VLAN).
pub const ARPHRD_ETHER: u16 = 1;
/// ARPHRD_INFINIBAND: IP over InfiniBand (20-byte hardware addresses).
pub const ARPHRD_INFINIBAND: u16 = 32;
/// ARPHRD_LOOPBACK.
pub const ARPHRD_LOOPBACK: u16 = 772;

/// One network interface, as `ip link show` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub index: u32,
    pub name: String,
    /// The hardware type (ifi_type, ARPHRD_*: `ip link` prints it as `link/ether`,
    /// `link/infiniband`, `link/loopback`).
    pub hw_type: u16,
    /// IFF_UP: administratively up.
    pub up: bool,
    /// IFF_LOWER_UP: the physical layer reports a carrier (`ip link` prints `NO-CARRIER`
    /// for an interface that is up without it: a pulled cable, a veth whose peer is down).
    pub carrier: bool,
    /// IFF_LOOPBACK.
    pub loopback: bool,
    /// IFF_NOARP.
    pub noarp: bool,
    pub oper_state: OperState,
    /// The hardware address (IFLA_ADDRESS), when it has one.
    pub mac: Option<Vec<u8>>,
}

impl Link {
    /// DOWN or LOWERLAYERDOWN, the states IPaddr2's `check_link_status` treats as stopped.
    pub fn is_down(&self) -> bool {
        !self.up || matches!(self.oper_state, OperState::Down | OperState::LowerLayerDown)
    }

    /// Up, with a carrier, and not DOWN or LOWERLAYERDOWN: frames sent on it can reach
    /// another host.
    pub fn has_carrier(&self) -> bool {
        self.carrier && !self.is_down()
    }

    pub(crate) fn from_message(msg: &LinkMessage) -> Link {
        let flags = msg.header.flags;
        let mut link = Link {
            index: msg.header.index,
            name: String::new(),
            hw_type: msg.header.link_layer_type.into(),
            up: flags.contains(LinkFlags::Up),
            carrier: flags.contains(LinkFlags::LowerUp),
            loopback: flags.contains(LinkFlags::Loopback),
            noarp: flags.contains(LinkFlags::Noarp),
            oper_state: OperState::Unknown,
            mac: None,
        };
        for attr in &msg.attributes {
            match attr {
                LinkAttribute::IfName(n) => link.name.clone_from(n),
                LinkAttribute::Address(a) => link.mac = Some(a.clone()),
                LinkAttribute::OperState(s) => {
                    link.oper_state = match s {
                        State::NotPresent => OperState::NotPresent,
                        State::Down => OperState::Down,
                        State::LowerLayerDown => OperState::LowerLayerDown,
                        State::Testing => OperState::Testing,
                        State::Dormant => OperState::Dormant,
                        State::Up => OperState::Up,
                        _ => OperState::Unknown,
                    }
                }
                _ => {}
            }
        }
        link
    }
}

/// RTN_* route types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteKind {
    Unicast,
    Local,
    Broadcast,
    Anycast,
    Multicast,
    Blackhole,
    Unreachable,
    Prohibit,
    Throw,
    Other(u8),
}

impl RouteKind {
    pub fn from_u8(kind: u8) -> RouteKind {
        match kind {
            1 => RouteKind::Unicast,
            2 => RouteKind::Local,
            3 => RouteKind::Broadcast,
            4 => RouteKind::Anycast,
            5 => RouteKind::Multicast,
            6 => RouteKind::Blackhole,
            7 => RouteKind::Unreachable,
            8 => RouteKind::Prohibit,
            9 => RouteKind::Throw,
            n => RouteKind::Other(n),
        }
    }
}

/// One route, as `ip route list table all` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub family: Family,
    /// The destination prefix; None for a default route.
    pub dst: Option<IpAddr>,
    pub dst_len: u8,
    /// The output interface (absent for multipath and blackhole-type routes).
    pub oif: Option<u32>,
    pub gateway: Option<IpAddr>,
    /// The preferred source (`src`).
    pub prefsrc: Option<IpAddr>,
    /// The metric (RTA_PRIORITY).
    pub metric: u32,
    pub kind: RouteKind,
    /// RTPROT_* (2 kernel, 3 boot, 4 static, ...).
    pub protocol: u8,
    /// RT_SCOPE_* (0 universe, 253 link, 254 host).
    pub scope: u8,
    pub table: u32,
}

fn route_ip(a: &RouteAddress) -> Option<IpAddr> {
    match a {
        RouteAddress::Inet(ip) => Some(IpAddr::V4(*ip)),
        RouteAddress::Inet6(ip) => Some(IpAddr::V6(*ip)),
        _ => None,
    }
}

impl Route {
    pub(crate) fn from_message(msg: &RouteMessage, family: Family) -> Route {
        let h = &msg.header;
        let mut route = Route {
            family,
            dst: None,
            dst_len: h.destination_prefix_length,
            oif: None,
            gateway: None,
            prefsrc: None,
            metric: 0,
            kind: RouteKind::from_u8(h.kind.into()),
            protocol: h.protocol.into(),
            scope: h.scope.into(),
            table: u32::from(h.table),
        };
        for attr in &msg.attributes {
            match attr {
                RouteAttribute::Destination(a) => route.dst = route_ip(a),
                RouteAttribute::Gateway(a) => route.gateway = route_ip(a),
                RouteAttribute::PrefSource(a) => route.prefsrc = route_ip(a),
                RouteAttribute::Oif(i) => route.oif = Some(*i),
                RouteAttribute::Priority(m) => route.metric = *m,
                RouteAttribute::Table(t) => route.table = *t,
                _ => {}
            }
        }
        route
    }

    /// True when `ip` is inside this route's destination prefix (a default route contains
    /// every address of its family).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.dst, ip) {
            (None, _) => Family::of(ip) == self.family,
            (Some(IpAddr::V4(net)), IpAddr::V4(ip)) => {
                prefix_eq(&net.octets(), &ip.octets(), self.dst_len)
            }
            (Some(IpAddr::V6(net)), IpAddr::V6(ip)) => {
                prefix_eq(&net.octets(), &ip.octets(), self.dst_len)
            }
            _ => false,
        }
    }
}

/// True when the first `len` bits of `a` and `b` agree.
fn prefix_eq(a: &[u8], b: &[u8], len: u8) -> bool {
    let len = usize::from(len).min(a.len() * 8);
    let (bytes, bits) = (len / 8, len % 8);
    if a[..bytes] != b[..bytes] {
        return false;
    }
    if bits == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - bits);
    a[bytes] & mask == b[bytes] & mask
}
