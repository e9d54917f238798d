//! # arp-announce: tell the link that an address has moved here
//!
//! What `send_arp`, `arping -U`/`-D` and `send_ua` do for IPaddr2, without forking them:
//! build the frames byte by byte ([`packet`]) and send them on an AF_PACKET socket on one
//! interface ([`PacketSocket`]: bound to receive, or a send-only socket that makes the kernel
//! wait for nothing until it is closed).
//! - IPv4: gratuitous ARP requests (or replies), `count` of them `interval` apart, and the
//!   RFC 5227 duplicate-address probe.
//! - IPv6: unsolicited neighbour advertisements (RFC 4861 7.2.6) to all-nodes.
//!
//! Not for: DAD itself (the kernel does it for IPv6), or anything routed.

pub mod packet;
mod socket;

pub use packet::{Arp, ArpOp, ETH_P_ARP, ETH_P_IPV6, NeighbourAdvert};
pub use socket::PacketSocket;

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

/// Send `frame` `count` times, `interval` apart, the first at once; never sleep past
/// `until`. Returns how many were sent (fewer than `count` only when `until` came first).
pub fn send_repeatedly(
    socket: &PacketSocket,
    frame: &[u8],
    count: u32,
    interval: Duration,
    until: Instant,
) -> std::io::Result<u32> {
    let mut sent = 0;
    while sent < count {
        if sent > 0 {
            let wake = Instant::now() + interval;
            if wake > until {
                break;
            }
            std::thread::sleep(interval);
        }
        socket.send(frame)?;
        sent += 1;
    }
    Ok(sent)
}

/// RFC 5227 2.1.1 probing, as `arping -D -c PROBES -w WAIT`: send `probes` ARP probes for
/// `ip` one second apart and listen until `wait` has passed (or `until`, if earlier).
/// Returns the hardware address of another host that claims `ip` (it answered, announced or
/// probed for the same address), or None.
pub fn probe_for_conflict(
    socket: &PacketSocket,
    mac: [u8; 6],
    ip: Ipv4Addr,
    probes: u32,
    wait: Duration,
    until: Instant,
) -> std::io::Result<Option<[u8; 6]>> {
    let start = Instant::now();
    let end = (start + wait).min(until);
    let probe = packet::arp_probe(mac, ip);
    let mut sent = 0;
    let mut next_probe = start;
    let mut buf = [0u8; 1600];
    loop {
        let now = Instant::now();
        if sent < probes && now >= next_probe {
            socket.send(&probe)?;
            sent += 1;
            next_probe = now + Duration::from_secs(1);
        }
        if now >= end {
            return Ok(None);
        }
        let mut listen = end - now;
        if sent < probes {
            listen = listen.min(next_probe.saturating_duration_since(now));
        }
        if let Some(n) = socket.recv(&mut buf, listen)?
            && let Some(arp) = packet::parse_arp(&buf[..n])
            && arp.sha != mac
            && (arp.spa == ip || (arp.op == 1 && arp.spa.is_unspecified() && arp.tpa == ip))
        {
            return Ok(Some(arp.sha));
        }
    }
}

/// A MAC address as `ip link` prints it.
pub fn format_mac(mac: &[u8]) -> String {
    mac.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}
