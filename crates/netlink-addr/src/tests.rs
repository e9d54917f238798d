//! Wire-format tests: the bytes we send, and decoding of replies laid out as the kernel
//! sends them (struct nlmsghdr, ifaddrmsg, rtmsg, nlattr; native endian).

use crate::handle::{AddRequest, delete_message};
use crate::model::{
    ARPHRD_ETHER, ARPHRD_INFINIBAND, Addr, AddrFlags, Family, Link, OperState, Route, RouteKind,
};
use crate::transport::{Replies, encode, ext_ack_message};
use netlink_packet_core::{NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REQUEST};
use netlink_packet_route::RouteNetlinkMessage;
use std::net::{IpAddr, Ipv4Addr};

fn u16b(v: u16) -> [u8; 2] {
    v.to_ne_bytes()
}
fn u32b(v: u32) -> [u8; 4] {
    v.to_ne_bytes()
}

fn nlmsg(kind: u16, flags: u16, seq: u32, body: &[u8]) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend(u32b(u32::try_from(16 + body.len()).unwrap()));
    m.extend(u16b(kind));
    m.extend(u16b(flags));
    m.extend(u32b(seq));
    m.extend(u32b(0));
    m.extend(body);
    while m.len() % 4 != 0 {
        m.push(0);
    }
    m
}

fn nla(kind: u16, value: &[u8]) -> Vec<u8> {
    let mut a = Vec::new();
    a.extend(u16b(u16::try_from(4 + value.len()).unwrap()));
    a.extend(u16b(kind));
    a.extend(value);
    while a.len() % 4 != 0 {
        a.push(0);
    }
    a
}

#[test]
fn add_request_bytes() {
    let req = AddRequest {
        index: 7,
        ip: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10)),
        prefix_len: 24,
        broadcast: Some(Ipv4Addr::new(192, 0, 2, 255)),
        label: Some("eth0:vip".into()),
        nodad: false,
        noprefixroute: true,
        preferred_lft: None,
    };
    let flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
    let got = encode(RouteNetlinkMessage::NewAddress(req.message()), flags, 42);
    let mut body = vec![2, 24, 0, 0]; // AF_INET, /24, flags, scope universe
    body.extend(u32b(7)); // ifa_index
    body.extend(nla(2, &[192, 0, 2, 10])); // IFA_LOCAL
    body.extend(nla(1, &[192, 0, 2, 10])); // IFA_ADDRESS
    body.extend(nla(4, &[192, 0, 2, 255])); // IFA_BROADCAST
    body.extend(nla(3, b"eth0:vip\0")); // IFA_LABEL
    body.extend(nla(8, &u32b(0x200))); // IFA_FLAGS: IFA_F_NOPREFIXROUTE
    let expected = nlmsg(20, 0x605, 42, &body); // RTM_NEWADDR, REQUEST|ACK|EXCL|CREATE
    assert_eq!(got, expected);
}

#[test]
fn a_loopback_address_is_added_with_host_scope_as_ip_does() {
    // `ip addr add 127.0.0.3/8 dev lo` lists it as "scope host"; without the scope in the
    // request the kernel would make it global.
    let req = AddRequest {
        index: 1,
        ip: IpAddr::V4(Ipv4Addr::new(127, 0, 0, 3)),
        prefix_len: 8,
        broadcast: None,
        label: None,
        nodad: false,
        noprefixroute: false,
        preferred_lft: None,
    };
    let got = encode(RouteNetlinkMessage::NewAddress(req.message()), 1, 1);
    let mut body = vec![2, 8, 0, 254]; // AF_INET, /8, flags, RT_SCOPE_HOST
    body.extend(u32b(1));
    body.extend(nla(2, &[127, 0, 0, 3]));
    body.extend(nla(1, &[127, 0, 0, 3]));
    assert_eq!(got, nlmsg(20, 1, 1, &body));
}

#[test]
fn add_request_ipv6_nodad_preferred_lft_bytes() {
    let ip: IpAddr = "2001:db8::5".parse().unwrap();
    let req = AddRequest {
        index: 3,
        ip,
        prefix_len: 64,
        broadcast: Some(Ipv4Addr::BROADCAST), // ignored for IPv6
        label: Some("x".into()),              // ignored for IPv6
        nodad: true,
        noprefixroute: false,
        preferred_lft: Some(0),
    };
    let got = encode(RouteNetlinkMessage::NewAddress(req.message()), 1, 1);
    let IpAddr::V6(v6) = ip else { unreachable!() };
    let mut body = vec![10, 64, 0, 0];
    body.extend(u32b(3));
    body.extend(nla(2, &v6.octets()));
    body.extend(nla(1, &v6.octets()));
    body.extend(nla(8, &u32b(0x02))); // IFA_F_NODAD
    let mut cache = Vec::new();
    cache.extend(u32b(0)); // preferred
    cache.extend(u32b(u32::MAX)); // valid: forever
    cache.extend(u32b(0));
    cache.extend(u32b(0));
    body.extend(nla(6, &cache)); // IFA_CACHEINFO
    assert_eq!(got, nlmsg(20, 1, 1, &body));
}

#[test]
fn delete_request_bytes() {
    let msg = delete_message(9, IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 8);
    let got = encode(
        RouteNetlinkMessage::DelAddress(msg),
        NLM_F_REQUEST | NLM_F_ACK,
        5,
    );
    let mut body = vec![2, 8, 0, 0];
    body.extend(u32b(9));
    body.extend(nla(2, &[10, 0, 0, 1]));
    assert_eq!(got, nlmsg(21, 5, 5, &body)); // RTM_DELADDR
}

fn newaddr_v6_tentative(seq: u32) -> Vec<u8> {
    let ip: std::net::Ipv6Addr = "fd00::7".parse().unwrap();
    let mut body = vec![10, 64, 0x40, 0]; // tentative in the header byte too
    body.extend(u32b(4));
    body.extend(nla(1, &ip.octets())); // IPv6 has IFA_ADDRESS only
    body.extend(nla(8, &u32b(0x40 | 0x200))); // IFA_FLAGS: tentative, noprefixroute
    let mut cache = Vec::new();
    cache.extend(u32b(30));
    cache.extend(u32b(u32::MAX));
    cache.extend(u32b(1));
    cache.extend(u32b(1));
    body.extend(nla(6, &cache));
    nlmsg(20, 2, seq, &body) // NLM_F_MULTI
}

#[test]
fn dump_decodes_across_datagrams_and_skips_stale_replies() {
    let mut replies = Replies::new("dump", 3);
    // First datagram: a stale row of request 2, then our row.
    let mut first = newaddr_v6_tentative(2);
    let mut v4 = vec![2, 24, 0x80, 0];
    v4.extend(u32b(2));
    v4.extend(nla(1, &[192, 0, 2, 1]));
    v4.extend(nla(2, &[192, 0, 2, 1]));
    v4.extend(nla(3, b"veth0:vip\0"));
    v4.extend(nla(4, &[192, 0, 2, 255]));
    first.extend(nlmsg(20, 2, 3, &v4));
    assert!(!replies.feed(&first).unwrap(), "no NLMSG_DONE yet");
    let mut second = newaddr_v6_tentative(3);
    second.extend(nlmsg(3, 2, 3, &u32b(0))); // NLMSG_DONE
    assert!(replies.feed(&second).unwrap());
    let addrs: Vec<Addr> = replies
        .messages
        .iter()
        .filter_map(|m| match m {
            RouteNetlinkMessage::NewAddress(a) => Addr::from_message(a),
            _ => None,
        })
        .collect();
    assert_eq!(addrs.len(), 2, "{addrs:?}");
    assert_eq!(addrs[0].ip, IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
    assert_eq!(addrs[0].label.as_deref(), Some("veth0:vip"));
    assert_eq!(addrs[0].broadcast, Some(Ipv4Addr::new(192, 0, 2, 255)));
    assert_eq!(addrs[0].index, 2);
    assert_eq!(addrs[1].ip, "fd00::7".parse::<IpAddr>().unwrap());
    assert!(addrs[1].flags.tentative());
    assert!(
        addrs[1].flags.has(AddrFlags::NOPREFIXROUTE),
        "IFA_FLAGS wins over the header"
    );
    assert_eq!(addrs[1].preferred_lft, 30);
}

#[test]
fn kernel_error_carries_errno_and_extended_ack() {
    // NLMSG_ERROR with NLM_F_CAPPED|NLM_F_ACK_TLVS: errno, the request's header, then
    // NLMSGERR_ATTR_MSG.
    let mut body = Vec::new();
    body.extend((-17i32).to_ne_bytes()); // -EEXIST
    body.extend(nlmsg(20, 0x605, 8, &[])); // echoed header only
    body.extend(nla(1, b"Address already assigned\0"));
    let datagram = nlmsg(2, 0x100 | 0x200, 8, &body);
    let mut replies = Replies::new("adding 192.0.2.10/24", 8);
    let err = replies.feed(&datagram).unwrap_err();
    assert!(err.is_exists());
    assert_eq!(err.errno(), Some(17));
    let text = err.to_string();
    assert!(text.starts_with("adding 192.0.2.10/24: "), "{text}");
    assert!(text.contains("(Address already assigned)"), "{text}");
    assert_eq!(
        ext_ack_message(0, &body[4..]),
        None,
        "no TLVs without the flag"
    );
}

#[test]
fn ack_ends_a_request_and_truncation_is_an_error() {
    let mut ack_body = Vec::new();
    ack_body.extend(0i32.to_ne_bytes());
    ack_body.extend(nlmsg(21, 5, 4, &[]));
    assert!(
        Replies::new("x", 4)
            .feed(&nlmsg(2, 0x100, 4, &ack_body))
            .unwrap()
    );
    let mut short = nlmsg(2, 0x100, 4, &ack_body);
    short.truncate(20);
    short[0] = 60; // claims more bytes than the datagram holds
    assert!(matches!(
        Replies::new("x", 4).feed(&short),
        Err(crate::Error::Decode { .. })
    ));
}

#[test]
fn route_rows_decode() {
    let mut body = vec![2, 24, 0, 0, 254, 2, 253, 1]; // inet /24 main kernel link unicast
    body.extend(u32b(0));
    body.extend(nla(15, &u32b(254))); // RTA_TABLE
    body.extend(nla(1, &[192, 0, 2, 0])); // RTA_DST
    body.extend(nla(7, &[192, 0, 2, 1])); // RTA_PREFSRC
    body.extend(nla(4, &u32b(5))); // RTA_OIF
    body.extend(nla(6, &u32b(100))); // RTA_PRIORITY
    let mut replies = Replies::new("routes", 1);
    let mut d = nlmsg(24, 2, 1, &body);
    d.extend(nlmsg(24, 2, 1, &[2, 0, 0, 0, 254, 4, 0, 7, 0, 0, 0, 0])); // unreachable default
    d.extend(nlmsg(3, 2, 1, &u32b(0)));
    assert!(replies.feed(&d).unwrap());
    let routes: Vec<Route> = replies
        .messages
        .iter()
        .filter_map(|m| match m {
            RouteNetlinkMessage::NewRoute(r) => Some(Route::from_message(r, Family::V4)),
            _ => None,
        })
        .collect();
    assert_eq!(routes.len(), 2);
    let r = &routes[0];
    assert_eq!(r.dst, Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 0))));
    assert_eq!(
        (r.dst_len, r.oif, r.metric, r.protocol, r.scope),
        (24, Some(5), 100, 2, 253)
    );
    assert_eq!((r.kind, r.table), (RouteKind::Unicast, 254));
    assert_eq!(r.prefsrc, Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))));
    assert!(r.contains(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 200))));
    assert!(!r.contains(IpAddr::V4(Ipv4Addr::new(192, 0, 3, 1))));
    assert_eq!(routes[1].kind, RouteKind::Unreachable);
    assert_eq!(routes[1].dst, None);
    assert!(routes[1].contains(IpAddr::V4(Ipv4Addr::new(8, 8, 8, 8))));
}

/// An RTM_NEWLINK as the kernel sends it: ifinfomsg (family, pad, type, index, flags,
/// change), then IFLA_IFNAME, IFLA_OPERSTATE and IFLA_ADDRESS.
fn newlink(hw_type: u16, index: u32, flags: u32, name: &str, operstate: u8, mac: &[u8]) -> Link {
    let mut body = vec![0, 0];
    body.extend(u16b(hw_type));
    body.extend(u32b(index));
    body.extend(u32b(flags));
    body.extend(u32b(0));
    body.extend(nla(3, format!("{name}\0").as_bytes())); // IFLA_IFNAME
    body.extend(nla(16, &[operstate])); // IFLA_OPERSTATE
    body.extend(nla(1, mac)); // IFLA_ADDRESS
    let mut replies = Replies::new("link", 3);
    assert!(!replies.feed(&nlmsg(16, 0, 3, &body)).unwrap());
    match &replies.messages[..] {
        [RouteNetlinkMessage::NewLink(l)] => Link::from_message(l),
        other => panic!("{other:?}"),
    }
}

#[test]
fn link_rows_decode_carrier_and_hardware_type() {
    const IFF_UP: u32 = 0x1;
    const IFF_BROADCAST: u32 = 0x2;
    const IFF_MULTICAST: u32 = 0x1000;
    const IFF_LOWER_UP: u32 = 0x1_0000;
    let mac = [2, 0, 0, 0, 0, 1];
    // A veth whose peer is down: `<NO-CARRIER,BROADCAST,MULTICAST,UP> state LOWERLAYERDOWN`.
    let no_carrier = newlink(
        ARPHRD_ETHER,
        4,
        IFF_UP | IFF_BROADCAST | IFF_MULTICAST,
        "v0",
        3, // IF_OPER_LOWERLAYERDOWN
        &mac,
    );
    assert_eq!(no_carrier.name, "v0");
    assert!(no_carrier.up && !no_carrier.carrier);
    assert_eq!(no_carrier.oper_state, OperState::LowerLayerDown);
    assert!(!no_carrier.has_carrier());
    // The same with its peer up: `<BROADCAST,MULTICAST,UP,LOWER_UP> state UP`.
    let up = newlink(
        ARPHRD_ETHER,
        4,
        IFF_UP | IFF_BROADCAST | IFF_MULTICAST | IFF_LOWER_UP,
        "v0",
        6, // IF_OPER_UP
        &mac,
    );
    assert!(up.has_carrier());
    assert_eq!(up.mac.as_deref(), Some(&mac[..]));
    // Administratively down: no carrier either, whatever the flag says.
    let down = newlink(ARPHRD_ETHER, 4, IFF_LOWER_UP, "v0", 2, &mac); // IF_OPER_DOWN
    assert!(!down.has_carrier());
    // IPoIB: `link/infiniband` with a 20-byte hardware address.
    let ib = newlink(
        ARPHRD_INFINIBAND,
        5,
        IFF_UP | IFF_LOWER_UP,
        "ib0",
        6,
        &[
            0x80, 0, 2, 8, 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 2, 0xc9, 3, 0, 1, 2, 3,
        ],
    );
    assert_eq!(ib.hw_type, ARPHRD_INFINIBAND);
    assert_eq!(ib.mac.as_ref().map(Vec::len), Some(20));
}

#[test]
fn errors_read_as_ip_prints_them_without_rust_internals() {
    let refused = crate::Error::Kernel {
        op: "adding 192.0.2.10/24".into(),
        errno: 1,
        ext_ack: None,
    };
    assert_eq!(
        refused.to_string(),
        "adding 192.0.2.10/24: Operation not permitted"
    );
    assert_eq!(refused.cause(), "Operation not permitted");
    let timeout = crate::Error::Io {
        op: "dumping addresses".into(),
        source: std::io::Error::from_raw_os_error(11),
    };
    assert_eq!(
        timeout.to_string(),
        "dumping addresses: no answer from the kernel in time"
    );
    let io = crate::Error::Io {
        op: "opening a NETLINK_ROUTE socket".into(),
        source: std::io::Error::from_raw_os_error(24),
    };
    assert_eq!(io.cause(), "Too many open files");
    for e in [refused, timeout, io] {
        assert!(!e.to_string().contains("os error"), "{e}");
    }
}
