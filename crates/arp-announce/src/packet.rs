//! Frame builders and parsers, Ethernet header included, byte by byte.
//!
//! ARP: RFC 826 layout; an announcement (RFC 5227 2.3) has sender IP = target IP = the
//! address; a probe (RFC 5227 2.1.1) has sender IP 0.0.0.0. Neighbour advertisement:
//! RFC 4861 4.4 with the Override flag and the target link-layer address option, sent from
//! the address itself to ff02::1 with hop limit 255.

use std::net::{Ipv4Addr, Ipv6Addr};

pub const ETH_P_ARP: u16 = 0x0806;
pub const ETH_P_IPV6: u16 = 0x86dd;
const ETH_HEADER: usize = 14;
const BROADCAST_MAC: [u8; 6] = [0xff; 6];
/// 33:33 followed by the low 32 bits of ff02::1.
const ALL_NODES_MAC: [u8; 6] = [0x33, 0x33, 0, 0, 0, 1];
const ICMPV6: u8 = 58;
const NEIGHBOUR_ADVERT: u8 = 136;
/// The Override flag (RFC 4861 4.4): replace any cached link-layer address.
pub const NA_OVERRIDE: u32 = 0x2000_0000;
/// Length of an ARP frame, and of a neighbour advertisement frame.
pub const ARP_FRAME_LEN: usize = 42;
pub const NA_FRAME_LEN: usize = 86;

/// The ARP operation of an announcement. Most peers update their caches from either; some
/// switches only from replies (`arping -A`, IPaddr2's `send_arp_opts`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArpOp {
    Request = 1,
    Reply = 2,
}

fn ethernet(frame: &mut [u8], dst: [u8; 6], src: [u8; 6], ethertype: u16) {
    frame[0..6].copy_from_slice(&dst);
    frame[6..12].copy_from_slice(&src);
    frame[12..14].copy_from_slice(&ethertype.to_be_bytes());
}

fn arp(op: u16, sha: [u8; 6], spa: Ipv4Addr, tha: [u8; 6], tpa: Ipv4Addr) -> [u8; ARP_FRAME_LEN] {
    let mut f = [0u8; ARP_FRAME_LEN];
    ethernet(&mut f, BROADCAST_MAC, sha, ETH_P_ARP);
    f[14..16].copy_from_slice(&1u16.to_be_bytes()); // hardware type: Ethernet
    f[16..18].copy_from_slice(&0x0800u16.to_be_bytes()); // protocol type: IPv4
    f[18] = 6;
    f[19] = 4;
    f[20..22].copy_from_slice(&op.to_be_bytes());
    f[22..28].copy_from_slice(&sha);
    f[28..32].copy_from_slice(&spa.octets());
    f[32..38].copy_from_slice(&tha);
    f[38..42].copy_from_slice(&tpa.octets());
    f
}

/// A gratuitous ARP for `ip` owned by `mac`, broadcast.
pub fn arp_announcement(mac: [u8; 6], ip: Ipv4Addr, op: ArpOp) -> [u8; ARP_FRAME_LEN] {
    let tha = match op {
        ArpOp::Request => [0; 6],
        ArpOp::Reply => BROADCAST_MAC,
    };
    arp(op as u16, mac, ip, tha, ip)
}

/// An RFC 5227 probe: who has `ip`? (sender IP 0.0.0.0, so no cache learns from it).
pub fn arp_probe(mac: [u8; 6], ip: Ipv4Addr) -> [u8; ARP_FRAME_LEN] {
    arp(1, mac, Ipv4Addr::UNSPECIFIED, [0; 6], ip)
}

/// A decoded Ethernet ARP frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arp {
    pub eth_dst: [u8; 6],
    pub eth_src: [u8; 6],
    pub op: u16,
    pub sha: [u8; 6],
    pub spa: Ipv4Addr,
    pub tha: [u8; 6],
    pub tpa: Ipv4Addr,
}

fn mac_at(f: &[u8], at: usize) -> [u8; 6] {
    let mut m = [0; 6];
    m.copy_from_slice(&f[at..at + 6]);
    m
}

fn ipv4_at(f: &[u8], at: usize) -> Ipv4Addr {
    Ipv4Addr::new(f[at], f[at + 1], f[at + 2], f[at + 3])
}

fn ipv6_at(f: &[u8], at: usize) -> Ipv6Addr {
    let mut o = [0u8; 16];
    o.copy_from_slice(&f[at..at + 16]);
    Ipv6Addr::from(o)
}

/// Decode an Ethernet/IPv4 ARP frame; None for anything else.
pub fn parse_arp(f: &[u8]) -> Option<Arp> {
    if f.len() < ARP_FRAME_LEN
        || f[12..14] != ETH_P_ARP.to_be_bytes()
        || f[14..20] != [0, 1, 8, 0, 6, 4]
    {
        return None;
    }
    Some(Arp {
        eth_dst: mac_at(f, 0),
        eth_src: mac_at(f, 6),
        op: u16::from_be_bytes([f[20], f[21]]),
        sha: mac_at(f, 22),
        spa: ipv4_at(f, 28),
        tha: mac_at(f, 32),
        tpa: ipv4_at(f, 38),
    })
}

/// The ICMPv6 checksum (RFC 4443 2.3) of `message` from `src` to `dst`, computed with the
/// checksum field as it is (zero when building; a correct message then sums to zero).
pub fn icmpv6_checksum(src: Ipv6Addr, dst: Ipv6Addr, message: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    let mut add = |bytes: &[u8]| {
        for pair in bytes.chunks(2) {
            let hi = u32::from(pair[0]) << 8;
            let lo = pair.get(1).copied().map_or(0, u32::from);
            sum += hi | lo;
        }
    };
    add(&src.octets());
    add(&dst.octets());
    let len = u32::try_from(message.len()).unwrap_or(u32::MAX);
    add(&len.to_be_bytes());
    add(&[0, 0, 0, ICMPV6]);
    add(message);
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    let folded = u16::try_from(sum).unwrap_or(u16::MAX);
    !folded
}

/// An unsolicited neighbour advertisement for `ip` owned by `mac`, to all nodes.
pub fn unsolicited_na(mac: [u8; 6], ip: Ipv6Addr) -> [u8; NA_FRAME_LEN] {
    let all_nodes = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
    let mut f = [0u8; NA_FRAME_LEN];
    ethernet(&mut f, ALL_NODES_MAC, mac, ETH_P_IPV6);
    let ip6 = &mut f[ETH_HEADER..];
    ip6[0] = 0x60; // version 6, traffic class 0, flow label 0
    ip6[4..6].copy_from_slice(&32u16.to_be_bytes()); // payload length
    ip6[6] = ICMPV6;
    ip6[7] = 255; // hop limit: receivers drop NDP with any other (RFC 4861 7.1.2)
    ip6[8..24].copy_from_slice(&ip.octets());
    ip6[24..40].copy_from_slice(&all_nodes.octets());
    let icmp = &mut ip6[40..72];
    icmp[0] = NEIGHBOUR_ADVERT;
    icmp[4..8].copy_from_slice(&NA_OVERRIDE.to_be_bytes());
    icmp[8..24].copy_from_slice(&ip.octets());
    icmp[24] = 2; // option: target link-layer address
    icmp[25] = 1; // length in units of 8 bytes
    icmp[26..32].copy_from_slice(&mac);
    let sum = icmpv6_checksum(ip, all_nodes, icmp);
    icmp[2..4].copy_from_slice(&sum.to_be_bytes());
    f
}

/// A decoded neighbour advertisement frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeighbourAdvert {
    pub eth_dst: [u8; 6],
    pub eth_src: [u8; 6],
    pub src: Ipv6Addr,
    pub dst: Ipv6Addr,
    pub hop_limit: u8,
    pub flags: u32,
    pub target: Ipv6Addr,
    /// The target link-layer address option.
    pub target_mac: Option<[u8; 6]>,
    pub checksum_ok: bool,
}

/// Decode an Ethernet/IPv6/ICMPv6 neighbour advertisement; None for anything else
/// (extension headers included).
pub fn parse_na(f: &[u8]) -> Option<NeighbourAdvert> {
    if f.len() < ETH_HEADER + 40 + 24 || f[12..14] != ETH_P_IPV6.to_be_bytes() {
        return None;
    }
    let ip6 = &f[ETH_HEADER..];
    let payload_len = usize::from(u16::from_be_bytes([ip6[4], ip6[5]]));
    if ip6[0] >> 4 != 6 || ip6[6] != ICMPV6 || ip6.len() < 40 + payload_len || payload_len < 24 {
        return None;
    }
    let icmp = &ip6[40..40 + payload_len];
    if icmp[0] != NEIGHBOUR_ADVERT {
        return None;
    }
    let (src, dst) = (ipv6_at(ip6, 8), ipv6_at(ip6, 24));
    let mut target_mac = None;
    let mut options = &icmp[24..];
    while options.len() >= 8 {
        let len = usize::from(options[1]) * 8;
        if len == 0 || len > options.len() {
            break;
        }
        if options[0] == 2 {
            target_mac = Some(mac_at(options, 2));
        }
        options = &options[len..];
    }
    Some(NeighbourAdvert {
        eth_dst: mac_at(f, 0),
        eth_src: mac_at(f, 6),
        src,
        dst,
        hop_limit: ip6[7],
        flags: u32::from_be_bytes([icmp[4], icmp[5], icmp[6], icmp[7]]),
        target: ipv6_at(icmp, 8),
        target_mac,
        checksum_ok: icmpv6_checksum(src, dst, icmp) == 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: [u8; 6] = [0x02, 0x00, 0x5e, 0x10, 0x20, 0x30];

    #[test]
    fn gratuitous_arp_request_bytes() {
        let f = arp_announcement(MAC, Ipv4Addr::new(192, 0, 2, 10), ArpOp::Request);
        let expected: [u8; 42] = [
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // to everyone
            0x02, 0x00, 0x5e, 0x10, 0x20, 0x30, // from us
            0x08, 0x06, // ARP
            0x00, 0x01, 0x08, 0x00, 6, 4, // Ethernet, IPv4, lengths
            0x00, 0x01, // request
            0x02, 0x00, 0x5e, 0x10, 0x20, 0x30, 192, 0, 2, 10, // sender
            0, 0, 0, 0, 0, 0, 192, 0, 2, 10, // target: the same address
        ];
        assert_eq!(f, expected);
    }

    #[test]
    fn gratuitous_arp_reply_and_probe_bytes() {
        let ip = Ipv4Addr::new(10, 1, 2, 3);
        let reply = arp_announcement(MAC, ip, ArpOp::Reply);
        assert_eq!(reply[20..22], [0, 2]);
        assert_eq!(reply[32..38], [0xff; 6]);
        assert_eq!(reply[28..32], [10, 1, 2, 3]);
        assert_eq!(reply[38..42], [10, 1, 2, 3]);
        let probe = arp_probe(MAC, ip);
        assert_eq!(probe[20..22], [0, 1]);
        assert_eq!(probe[22..28], MAC);
        assert_eq!(
            probe[28..32],
            [0, 0, 0, 0],
            "a probe's sender IP is 0.0.0.0"
        );
        assert_eq!(probe[32..38], [0; 6]);
        assert_eq!(probe[38..42], [10, 1, 2, 3]);
    }

    #[test]
    fn arp_round_trip_and_rejects() {
        let ip = Ipv4Addr::new(198, 51, 100, 7);
        let a = parse_arp(&arp_announcement(MAC, ip, ArpOp::Request)).unwrap();
        assert_eq!((a.op, a.sha, a.spa, a.tpa), (1, MAC, ip, ip));
        assert_eq!(a.eth_dst, [0xff; 6]);
        let mut not_arp = arp_probe(MAC, ip);
        not_arp[13] = 0x00;
        assert!(parse_arp(&not_arp).is_none());
        assert!(parse_arp(&not_arp[..20]).is_none());
    }

    #[test]
    fn neighbour_advert_bytes() {
        let ip: Ipv6Addr = "2001:db8::10".parse().unwrap();
        let f = unsolicited_na(MAC, ip);
        assert_eq!(f[0..6], [0x33, 0x33, 0, 0, 0, 1]);
        assert_eq!(f[6..12], MAC);
        assert_eq!(f[12..14], [0x86, 0xdd]);
        assert_eq!(f[14..22], [0x60, 0, 0, 0, 0, 32, 58, 255]);
        assert_eq!(f[22..38], ip.octets());
        assert_eq!(
            f[38..54],
            [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]
        );
        assert_eq!(f[54], 136, "type: neighbour advertisement");
        assert_eq!(f[55], 0, "code");
        assert_eq!(
            f[58..62],
            [0x20, 0, 0, 0],
            "Override only: not solicited, not router"
        );
        assert_eq!(f[62..78], ip.octets());
        assert_eq!(
            f[78..80],
            [2, 1],
            "target link-layer address option, 8 bytes"
        );
        assert_eq!(f[80..86], MAC);
        // The checksum, worked by hand: the one's complement sum of the pseudo-header and
        // the message must come out as 0xffff, i.e. recomputing over it gives 0.
        assert_eq!(
            icmpv6_checksum(ip, "ff02::1".parse().unwrap(), &f[54..86]),
            0
        );
        assert_ne!(f[56..58], [0, 0]);
    }

    #[test]
    fn checksum_known_vector() {
        // An echo request "::1 -> ::1", id 0, seq 0, no data: type 128 code 0.
        // Sum = 1 + 1 (addresses) + 8 (length) + 58 + 0x8000 = 0x8044; checksum = !0x8044.
        let msg = [128, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(
            icmpv6_checksum(Ipv6Addr::LOCALHOST, Ipv6Addr::LOCALHOST, &msg),
            !0x8044u16
        );
    }

    #[test]
    fn neighbour_advert_round_trip() {
        let ip: Ipv6Addr = "fd00:1::5".parse().unwrap();
        let na = parse_na(&unsolicited_na(MAC, ip)).unwrap();
        assert_eq!(na.src, ip);
        assert_eq!(na.target, ip);
        assert_eq!(na.dst, "ff02::1".parse::<Ipv6Addr>().unwrap());
        assert_eq!(na.hop_limit, 255);
        assert_eq!(na.flags, NA_OVERRIDE);
        assert_eq!(na.target_mac, Some(MAC));
        assert!(na.checksum_ok);
        let mut bad = unsolicited_na(MAC, ip);
        bad[70] ^= 1;
        assert!(!parse_na(&bad).unwrap().checksum_ok);
    }
}
