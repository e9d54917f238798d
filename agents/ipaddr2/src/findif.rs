//! Choosing the interface and prefix from the routing table, as IPaddr2's findif does
//! (`ip -o -f FAMILY route list match IP[/PREFIX] [scope link] [proto P]`).
//!
//! Candidates are unicast routes of the main table that contain the address, have an
//! output interface (not default, unreachable, blackhole or prohibit routes), are of link
//! scope for IPv4, and match `nic` and `proto` when given. The most specific wins, then the
//! lowest metric.

use crate::config::Broadcast;
use netlink_addr::{Addr, MAIN_TABLE, Route, RouteKind};
use std::net::{IpAddr, Ipv4Addr};

/// RT_SCOPE_LINK and RT_SCOPE_HOST.
const SCOPE_LINK: u8 = 253;
const SCOPE_HOST: u8 = 254;
/// RT_TABLE_LOCAL.
const LOCAL_TABLE: u32 = 255;
/// The prefix of the IPv4 loopback network (RFC 1122: 127.0.0.0/8).
const LOOPBACK_NET_PREFIX: u8 = 8;

/// What findif settled on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Choice {
    pub index: u32,
    pub prefix: u8,
}

/// Why no interface could be chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoChoice {
    /// No route fits; `nic` and `cidr_netmask` together would do without one.
    NoRoute,
}

/// Pick the route for `ip`. `nic` is the index of the named interface, `prefix` the
/// configured prefix (a route must be at most as specific as that, as `route list match`
/// requires), `proto` the RTPROT_* a route must have.
pub fn find(
    routes: &[Route],
    ip: IpAddr,
    nic: Option<u32>,
    prefix: Option<u8>,
    proto: Option<u8>,
) -> Result<Choice, NoChoice> {
    let best = routes
        .iter()
        .filter(|r| r.table == MAIN_TABLE && r.kind == RouteKind::Unicast)
        .filter(|r| r.dst.is_some() && r.dst_len > 0 && r.contains(ip))
        .filter(|r| ip.is_ipv6() || r.scope == SCOPE_LINK)
        .filter(|r| prefix.is_none_or(|p| r.dst_len <= p))
        .filter(|r| proto.is_none_or(|p| r.protocol == p))
        .filter_map(|r| r.oif.map(|oif| (r, oif)))
        .filter(|(_, oif)| nic.is_none_or(|n| n == *oif))
        .min_by_key(|(r, _)| (std::cmp::Reverse(r.dst_len), r.metric));
    match (best, nic, prefix) {
        (Some((r, oif)), _, _) => Ok(Choice {
            index: oif,
            prefix: prefix.unwrap_or(r.dst_len),
        }),
        (None, Some(index), Some(prefix)) => Ok(Choice { index, prefix }),
        (None, _, _) => Err(NoChoice::NoRoute),
    }
}

/// Where an address on the loopback interface goes when no route of the main table names
/// one (`lo` is the interface with index `lo`): IPaddr2's findif reads the local table for
/// `127.*` (`ip route list match IP table local scope host`: the kernel's
/// `local 127.0.0.0/8 dev lo`, so 127.0.0.3 becomes 127.0.0.3/8 on lo). Any other address
/// on lo (`nic=lo`, as an LVS direct-routing real server holds its virtual address) is a
/// host route (/32, /128): a wider prefix on lo would make the whole subnet local to this
/// node. A configured
/// prefix always wins. None when the address does not belong on lo.
pub fn loopback(
    routes: &[Route],
    ip: IpAddr,
    nic: Option<u32>,
    lo: u32,
    prefix: Option<u8>,
) -> Option<Choice> {
    let in_127 = matches!(ip, IpAddr::V4(v4) if v4.is_loopback());
    match nic {
        Some(n) if n != lo => return None,
        None if !in_127 => return None,
        _ => {}
    }
    let local_net = || {
        routes
            .iter()
            .filter(|r| r.table == LOCAL_TABLE && r.kind == RouteKind::Local)
            .filter(|r| r.scope == SCOPE_HOST && r.oif == Some(lo))
            .filter(|r| r.dst.is_some() && r.dst_len > 0 && r.dst_len < 32 && r.contains(ip))
            .map(|r| r.dst_len)
            .max()
    };
    let prefix = prefix
        .or_else(|| in_127.then(local_net).flatten())
        .unwrap_or(match ip {
            _ if in_127 => LOOPBACK_NET_PREFIX,
            IpAddr::V4(_) => 32,
            IpAddr::V6(_) => 128,
        });
    Some(Choice { index: lo, prefix })
}

fn network(ip: Ipv4Addr, prefix: u8) -> u32 {
    let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
    u32::from(ip) & mask
}

/// The broadcast address to add with `ip/prefix` on interface `index`, given the addresses
/// already there: `+` computes it; auto takes another address's in the same subnet (as
/// findif does), else computes it. /31 and /32 have none.
pub fn broadcast(
    setting: Broadcast,
    ip: Ipv4Addr,
    prefix: u8,
    index: u32,
    existing: &[Addr],
) -> Option<Ipv4Addr> {
    let computed =
        || (prefix < 31).then(|| Ipv4Addr::from(network(ip, prefix) | (u32::MAX >> prefix)));
    match setting {
        Broadcast::Minus => None,
        Broadcast::Addr(b) => Some(b),
        Broadcast::Plus => computed(),
        Broadcast::Auto => existing
            .iter()
            .filter(|a| a.index == index && a.prefix_len == prefix)
            .find_map(|a| match a.ip {
                IpAddr::V4(other) if network(other, prefix) == network(ip, prefix) => a.broadcast,
                _ => None,
            })
            .or_else(computed),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use netlink_addr::{AddrFlags, Family};

    /// A unicast route of the main table, as the kernel lists a connected prefix.
    pub(crate) fn route(dst: &str, len: u8, oif: u32, metric: u32) -> Route {
        let dst: IpAddr = dst.parse().unwrap();
        Route {
            family: Family::of(dst),
            dst: Some(dst),
            dst_len: len,
            oif: Some(oif),
            gateway: None,
            prefsrc: None,
            metric,
            kind: RouteKind::Unicast,
            protocol: 2,
            scope: if dst.is_ipv4() { SCOPE_LINK } else { 0 },
            table: MAIN_TABLE,
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn most_specific_then_lowest_metric() {
        let routes = [
            route("10.0.0.0", 8, 2, 0),
            route("10.1.0.0", 16, 3, 100),
            route("10.1.0.0", 16, 4, 50),
            route("10.1.2.0", 24, 5, 0),
        ];
        let c = find(&routes, ip("10.1.9.9"), None, None, None).unwrap();
        assert_eq!(
            c,
            Choice {
                index: 4,
                prefix: 16
            }
        );
        let c = find(&routes, ip("10.1.2.9"), None, None, None).unwrap();
        assert_eq!(
            c,
            Choice {
                index: 5,
                prefix: 24
            }
        );
        let c = find(&routes, ip("10.200.0.1"), None, None, None).unwrap();
        assert_eq!(
            c,
            Choice {
                index: 2,
                prefix: 8
            }
        );
    }

    #[test]
    fn never_default_unreachable_blackhole_prohibit_or_gateway_routes() {
        let mut default = route("0.0.0.0", 0, 2, 0);
        default.dst = None;
        let mut unreachable = route("192.0.2.0", 24, 3, 0);
        unreachable.kind = RouteKind::Unreachable;
        let mut blackhole = route("192.0.2.0", 25, 3, 0);
        blackhole.kind = RouteKind::Blackhole;
        blackhole.oif = None;
        let mut prohibit = route("192.0.2.0", 26, 3, 0);
        prohibit.kind = RouteKind::Prohibit;
        let mut via = route("192.0.2.0", 27, 6, 0);
        via.scope = 0; // universe scope: a gateway route
        let mut local_table = route("192.0.2.0", 28, 7, 0);
        local_table.table = 255;
        let routes = [default, unreachable, blackhole, prohibit, via, local_table];
        assert_eq!(
            find(&routes, ip("192.0.2.1"), None, None, None),
            Err(NoChoice::NoRoute)
        );
        let with_link = [routes.to_vec(), vec![route("192.0.0.0", 16, 9, 0)]].concat();
        assert_eq!(
            find(&with_link, ip("192.0.2.1"), None, None, None)
                .unwrap()
                .index,
            9
        );
    }

    #[test]
    fn nic_prefix_and_proto_narrow_the_choice() {
        let mut boot = route("10.0.0.0", 24, 3, 0);
        boot.protocol = 3;
        let routes = [
            route("10.0.0.0", 24, 2, 0),
            boot,
            route("10.0.0.0", 16, 4, 0),
        ];
        let c = find(&routes, ip("10.0.0.5"), Some(4), None, None).unwrap();
        assert_eq!(
            c,
            Choice {
                index: 4,
                prefix: 16
            }
        );
        let c = find(&routes, ip("10.0.0.5"), None, None, Some(3)).unwrap();
        assert_eq!(c.index, 3);
        // A /20 request only matches routes at most as specific: the /16.
        let c = find(&routes, ip("10.0.0.5"), None, Some(20), None).unwrap();
        assert_eq!(
            c,
            Choice {
                index: 4,
                prefix: 20
            }
        );
        // nic and prefix together need no route.
        let c = find(&routes, ip("172.16.0.1"), Some(8), Some(12), None).unwrap();
        assert_eq!(
            c,
            Choice {
                index: 8,
                prefix: 12
            }
        );
        assert_eq!(
            find(&routes, ip("172.16.0.1"), Some(8), None, None),
            Err(NoChoice::NoRoute)
        );
        assert_eq!(
            find(&routes, ip("10.0.0.5"), None, None, Some(16)),
            Err(NoChoice::NoRoute)
        );
    }

    #[test]
    fn ipv6_routes_of_any_scope_and_128() {
        let routes = [
            route("2001:db8::", 64, 2, 256),
            route("2001:db8::", 64, 3, 1024),
            route("2001:db8::5", 128, 4, 0),
            route("fe80::", 64, 2, 256),
        ];
        assert_eq!(
            find(&routes, ip("2001:db8::9"), None, None, None).unwrap(),
            Choice {
                index: 2,
                prefix: 64
            }
        );
        assert_eq!(
            find(&routes, ip("2001:db8::5"), None, None, None).unwrap(),
            Choice {
                index: 4,
                prefix: 128
            }
        );
        assert!(find(&routes, ip("2001:db9::1"), None, None, None).is_err());
        assert!(find(&routes, ip("192.0.2.1"), None, None, None).is_err());
    }

    #[test]
    fn loopback_addresses_take_the_local_tables_prefix_or_a_host_route() {
        const LO: u32 = 1;
        let mut local_net = route("127.0.0.0", 8, LO, 0);
        local_net.kind = RouteKind::Local;
        local_net.scope = SCOPE_HOST;
        local_net.table = LOCAL_TABLE;
        let mut local_host = route("127.0.0.1", 32, LO, 0);
        local_host.kind = RouteKind::Local;
        local_host.scope = SCOPE_HOST;
        local_host.table = LOCAL_TABLE;
        let routes = [route("192.0.2.0", 24, 2, 0), local_host, local_net];
        let on_lo = |prefix| Some(Choice { index: LO, prefix });
        // ip=127.0.0.3: the main table has nothing, the local table's 127.0.0.0/8 does.
        assert_eq!(
            find(&routes, ip("127.0.0.3"), None, None, None),
            Err(NoChoice::NoRoute)
        );
        assert_eq!(loopback(&routes, ip("127.0.0.3"), None, LO, None), on_lo(8));
        assert_eq!(
            loopback(&routes, ip("127.0.0.3"), Some(LO), LO, None),
            on_lo(8)
        );
        assert_eq!(
            loopback(&routes, ip("127.0.0.3"), None, LO, Some(32)),
            on_lo(32)
        );
        // lo down in a fresh namespace: no local routes yet; 127/8 is /8 all the same.
        assert_eq!(loopback(&[], ip("127.9.0.1"), None, LO, None), on_lo(8));
        // nic=lo for another address: a /32 unless told otherwise.
        assert_eq!(
            loopback(&routes, ip("192.0.2.50"), Some(LO), LO, None),
            on_lo(32)
        );
        assert_eq!(
            loopback(&routes, ip("192.0.2.50"), Some(LO), LO, Some(24)),
            on_lo(24)
        );
        // Not for lo: another nic, or another address without a nic.
        assert_eq!(loopback(&routes, ip("127.0.0.3"), Some(2), LO, None), None);
        assert_eq!(loopback(&routes, ip("192.0.2.50"), None, LO, None), None);
        assert_eq!(loopback(&routes, ip("2001:db8::1"), None, LO, None), None);
        assert_eq!(
            loopback(&routes, ip("2001:db8::1"), Some(LO), LO, None),
            on_lo(128)
        );
    }

    fn addr(s: &str, len: u8, index: u32, brd: Option<&str>) -> Addr {
        Addr {
            index,
            ip: s.parse().unwrap(),
            prefix_len: len,
            label: None,
            broadcast: brd.map(|b| b.parse().unwrap()),
            flags: AddrFlags::default(),
            scope: 0,
            preferred_lft: u32::MAX,
        }
    }

    #[test]
    fn broadcast_choices() {
        let vip = Ipv4Addr::new(192, 0, 2, 10);
        let existing = [
            addr("192.0.2.1", 24, 2, Some("192.0.2.127")),
            addr("198.51.100.1", 24, 3, Some("198.51.100.255")),
        ];
        let b = |s, p, i| broadcast(s, vip, p, i, &existing);
        assert_eq!(
            b(Broadcast::Auto, 24, 2),
            Some(Ipv4Addr::new(192, 0, 2, 127))
        );
        assert_eq!(
            b(Broadcast::Auto, 24, 3),
            Some(Ipv4Addr::new(192, 0, 2, 255))
        );
        assert_eq!(
            b(Broadcast::Plus, 24, 2),
            Some(Ipv4Addr::new(192, 0, 2, 255))
        );
        assert_eq!(
            b(Broadcast::Plus, 30, 2),
            Some(Ipv4Addr::new(192, 0, 2, 11))
        );
        assert_eq!(b(Broadcast::Plus, 31, 2), None);
        assert_eq!(b(Broadcast::Auto, 32, 9), None);
        assert_eq!(b(Broadcast::Minus, 24, 2), None);
        let fixed = Ipv4Addr::new(1, 2, 3, 4);
        assert_eq!(b(Broadcast::Addr(fixed), 24, 2), Some(fixed));
    }
}
