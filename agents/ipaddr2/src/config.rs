//! The configuration, in the two tiers `ocf` asks for: the identity (`ip`, `nic` and
//! `network_namespace`: which address, where) and the settings (everything else). Each is
//! parsed once from `ocf::Params`: every bad value is OCF_ERR_CONFIGURED with a reason
//! naming the parameter and the value; defaults come from the metadata XML only.

use ocf::{Context, Error, Params, Result};
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

/// IFNAMSIZ - 1: the longest interface name, and the longest IPv4 label.
pub const MAX_IFNAME: usize = 15;

/// How the IPv4 broadcast address is chosen (`broadcast`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Broadcast {
    /// Empty: the broadcast of another address in the same subnet, else `+`.
    Auto,
    /// `+`: the host bits set.
    Plus,
    /// `-`: none.
    Minus,
    Addr(Ipv4Addr),
}

/// What finds the address on this node: the address, its interface when one is named,
/// and the network namespace it lives in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub ip: IpAddr,
    /// The base interface name (without `:label`).
    pub nic: Option<String>,
    /// The label of the deprecated `nic=<nic>:<label>` form (a setting, carried here
    /// because it is written in `nic`).
    pub nic_label: Option<String>,
    pub network_namespace: Option<String>,
}

/// Everything else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The label suffix: `nic:<iflabel>` becomes the IPv4 label (IPv4 only).
    pub iflabel: Option<String>,
    pub prefix: Option<u8>,
    pub broadcast: Broadcast,
    /// RTPROT_* a route must have to be chosen.
    pub proto: Option<u8>,
    pub lvs_support: bool,
    pub arp_count: u32,
    pub arp_interval: Duration,
    pub arp_count_refresh: u32,
    pub arp_bg: bool,
    /// Announce with ARP replies rather than requests (`send_arp_opts=-A`).
    pub arp_reply: bool,
    pub run_arping: bool,
    pub nodad: bool,
    pub noprefixroute: bool,
    /// Seconds; None is forever.
    pub preferred_lft: Option<u32>,
    pub flush_routes: bool,
    pub check_link_status: bool,
}

/// The configuration the actions work with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub identity: Identity,
    pub settings: Settings,
}

/// Parameters of IPaddr2's load-sharing cluster IP, which this agent does not implement.
const OUT_OF_SCOPE: &[&str] = &[
    "mac",
    "clusterip_hash",
    "clusterip_firewall",
    "clusterip_hash_seed",
    "clusterip_table",
    "clusterip_chain",
];

/// Route protocol names of iproute2's rt_protos table.
const PROTOCOLS: &[(&str, u8)] = &[
    ("unspec", 0),
    ("redirect", 1),
    ("kernel", 2),
    ("boot", 3),
    ("static", 4),
    ("gated", 8),
    ("ra", 9),
    ("mrt", 10),
    ("zebra", 11),
    ("bird", 12),
    ("dnrouted", 13),
    ("xorp", 14),
    ("ntk", 15),
    ("dhcp", 16),
    ("keepalived", 18),
    ("babel", 42),
    ("openr", 99),
    ("bgp", 186),
    ("isis", 187),
    ("ospf", 188),
    ("rip", 189),
    ("eigrp", 192),
];

/// The `arp_sender` values IPaddr2 knows for Ethernet; the native sender serves them all.
/// IPaddr2's fourth, `ipoibarping` (IP over InfiniBand), is refused: see [`IPOIB_REFUSED`].
const SENDERS: &[&str] = &["send_arp", "iputils_arping", "libnet_arping"];

/// Why IP-over-InfiniBand is refused, for `arp_sender=ipoibarping` and for an IPoIB
/// interface found at start.
pub const IPOIB_REFUSED: &str = "ipaddr2 announces addresses on Ethernet only; IP over \
     InfiniBand (20-byte hardware addresses) is not implemented, and an address moved there \
     unannounced stays unreachable until every peer's neighbour entry expires: use \
     ocf:heartbeat:IPaddr2 with arp_sender=ipoibarping";

fn out_of_scope(name: &str, value: &str) -> Error {
    Error::bad_param(
        name,
        value,
        "load-sharing cluster IPs (clusterip_*, mac, unique_clone_address, globally-unique \
         clones) and IPv6 LVS address labels are out of scope for ipaddr2; use \
         ocf:heartbeat:IPaddr2 for them",
    )
}

/// Reject the IPaddr2 parameters this agent does not implement. They are not in our
/// metadata, so they are read as undeclared parameters.
fn reject_out_of_scope(p: &Params) -> Result<()> {
    for name in OUT_OF_SCOPE {
        if let Some(v) = p.undeclared(name) {
            return Err(out_of_scope(name, v));
        }
    }
    for name in [
        "unique_clone_address",
        "clusterip_mac_mangle",
        "lvs_ipv6_addrlabel",
    ] {
        if let Some(v) = p.undeclared(name)
            && ocf::params::parse_bool(v) != Some(false)
        {
            return Err(out_of_scope(name, v));
        }
    }
    Ok(())
}

/// A globally-unique clone is IPaddr2's load-sharing cluster IP: out of scope (validate-all
/// and start refuse it).
pub fn check_meta(meta: &ocf::Meta) -> Result<()> {
    if meta.globally_unique == Some(true) && meta.clone_max.unwrap_or(1) > 1 {
        return Err(out_of_scope("globally-unique", "true").for_param("globally-unique"));
    }
    Ok(())
}

/// A valid interface name (netdevice(7): at most 15 bytes, no '/', ':' or whitespace).
pub fn valid_ifname(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_IFNAME
        && name != "."
        && name != ".."
        && !name
            .chars()
            .any(|c| c == '/' || c == ':' || c.is_whitespace() || c.is_control())
}

/// A label suffix (`eth0:<label>`): not empty, no white space or control characters, short
/// enough to leave room for an interface name.
fn valid_label(label: &str) -> bool {
    !label.is_empty()
        && !label.chars().any(|c| c.is_whitespace() || c.is_control())
        && label.len() < MAX_IFNAME
}

/// A prefix length, or for IPv4 a dotted-quad netmask.
pub fn parse_prefix(value: &str, ip: IpAddr) -> std::result::Result<u8, String> {
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let value = value.trim();
    if let Ok(n) = value.parse::<u8>() {
        return if (1..=max).contains(&n) {
            Ok(n)
        } else {
            Err(format!("a prefix length must be 1..={max}"))
        };
    }
    match (value.parse::<Ipv4Addr>(), ip) {
        (Ok(mask), IpAddr::V4(_)) => {
            let bits = u32::from(mask);
            let ones = bits.leading_ones();
            if bits.checked_shl(ones).unwrap_or(0) != 0 || ones == 0 {
                return Err("not a contiguous netmask".into());
            }
            log::warn!("cidr_netmask={value} is a dotted netmask; prefer /{ones}");
            Ok(u8::try_from(ones).unwrap_or(32))
        }
        _ => Err(format!("not a prefix length (1..={max})")),
    }
}

fn parse_proto(value: &str) -> Option<u8> {
    let value = value.trim();
    value.parse::<u8>().ok().or_else(|| {
        PROTOCOLS
            .iter()
            .find(|(name, _)| *name == value)
            .map(|(_, n)| *n)
    })
}

/// A name of /run/netns: one path component.
pub fn valid_netns(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name != "."
        && name != ".."
        && !name.contains('/')
        && !name.chars().any(char::is_control)
}

impl ocf::Identity for Identity {
    const PARAMS: &'static [&'static str] = &["ip", "nic", "network_namespace"];

    /// Read `ip`, `nic` and `network_namespace`.
    fn parse(p: &Params, _ctx: &Context) -> Result<Identity> {
        let ip_text = p.required("ip")?;
        let ip: IpAddr = ip_text
            .trim()
            .parse()
            .map_err(|_| Error::bad_param("ip", &ip_text, "not an IPv4 or IPv6 address"))?;
        if ip.is_unspecified() || ip.is_multicast() || ip == IpAddr::V4(Ipv4Addr::BROADCAST) {
            return Err(Error::bad_param("ip", &ip_text, "not a unicast address"));
        }
        let (nic, nic_label) = match p.string("nic") {
            None => (None, None),
            Some(nic) => {
                let (base, label) = match nic.split_once(':') {
                    Some((base, label)) => (base, Some(label)),
                    None => (nic.as_str(), None),
                };
                if !valid_ifname(base) {
                    return Err(Error::bad_param("nic", &nic, "not an interface name"));
                }
                if let Some(label) = label {
                    if !valid_label(label) || nic.len() > MAX_IFNAME {
                        return Err(Error::bad_param(
                            "nic",
                            &nic,
                            format!(
                                "not a valid interface:label (at most {MAX_IFNAME} characters)"
                            ),
                        ));
                    }
                    log::warn!(
                        "nic={nic}: a label in nic is deprecated; use nic={base} iflabel={label}"
                    );
                }
                (Some(base.to_owned()), label.map(str::to_owned))
            }
        };
        let network_namespace = p.string("network_namespace");
        if let Some(ns) = &network_namespace
            && !valid_netns(ns)
        {
            return Err(Error::bad_param(
                "network_namespace",
                ns,
                "not a name under /run/netns",
            ));
        }
        Ok(Identity {
            ip,
            nic,
            nic_label,
            network_namespace,
        })
    }
}

impl ocf::Settings<Identity> for Settings {
    /// Read every other parameter, for the address `id` names.
    fn parse(p: &Params, id: &Identity, ctx: &Context) -> Result<Settings> {
        reject_out_of_scope(p)?;
        let ip = id.ip;
        let v4 = ip.is_ipv4();
        // The deprecated nic=<nic>:<label> wins, as in IPaddr2 (checked with the identity).
        let given = p.string("iflabel");
        if id.nic_label.is_none()
            && let Some(label) = &given
        {
            if !valid_label(label) {
                return Err(Error::bad_param("iflabel", label, "not a valid label"));
            }
            if let Some(nic) = &id.nic
                && nic.len() + 1 + label.len() > MAX_IFNAME
            {
                return Err(Error::bad_param(
                    "iflabel",
                    label,
                    format!("{nic}:{label} is longer than {MAX_IFNAME} characters"),
                ));
            }
        }
        let iflabel = id.nic_label.clone().or(given);
        if let Some(label) = iflabel.as_ref().filter(|_| !v4) {
            log::warn!("iflabel={label} is ignored: address labels are IPv4 only");
        }
        let iflabel = iflabel.filter(|_| v4);

        // `netmask` is IPaddr2's old name for cidr_netmask; cidr_netmask wins.
        let (mask_name, mask) = match p.string("cidr_netmask") {
            Some(m) => ("cidr_netmask", Some(m)),
            None => ("netmask", p.string("netmask")),
        };
        let prefix = mask
            .map(|m| parse_prefix(&m, ip).map_err(|why| Error::bad_param(mask_name, &m, why)))
            .transpose()?;

        let broadcast = match p.string("broadcast") {
            None => Broadcast::Auto,
            Some(b) if !v4 => {
                log::warn!("broadcast={b} is ignored for an IPv6 address");
                Broadcast::Auto
            }
            Some(b) => match b.trim() {
                "+" => Broadcast::Plus,
                "-" => Broadcast::Minus,
                other => Broadcast::Addr(other.parse().map_err(|_| {
                    Error::bad_param("broadcast", &b, "not +, - or an IPv4 address")
                })?),
            },
        };

        let proto = p
            .string("proto")
            .map(|v| {
                parse_proto(&v).ok_or_else(|| {
                    Error::bad_param("proto", &v, "not a route protocol name or number")
                })
            })
            .transpose()?;

        let lvs_support = p.bool("lvs_support")?;
        if lvs_support && !v4 {
            return Err(Error::bad_param(
                "lvs_support",
                "true",
                "LVS support is IPv4 only",
            ));
        }
        if lvs_support && ctx.env.meta.clone_max.unwrap_or(1) > 1 {
            return Err(Error::bad_param(
                "lvs_support",
                "true",
                "LVS support and a cloned (load-sharing) address do not go together",
            ));
        }

        let arp_count = p.int("arp_count", 1u32, 1000)?;
        let arp_interval = Duration::from_millis(p.int("arp_interval", 1u64, 60_000)?);
        let arp_count_refresh = p.int("arp_count_refresh", 0u32, 1000)?;
        // Unset, arp_bg follows IPaddr2: on for IPv4, off for IPv6 (the XML default is
        // empty for that reason).
        let arp_bg = match p.raw("arp_bg") {
            None => v4,
            Some(_) => p.bool("arp_bg")?,
        };
        if let Some(sender) = p.string("arp_sender") {
            if sender.trim() == "ipoibarping" {
                return Err(Error::bad_param("arp_sender", &sender, IPOIB_REFUSED));
            }
            if !SENDERS.contains(&sender.trim()) {
                return Err(Error::bad_param(
                    "arp_sender",
                    &sender,
                    format!("expected one of {}", SENDERS.join(", ")),
                ));
            }
            log::info!("arp_sender={sender}: ipaddr2 sends its own announcements (AF_PACKET)");
        }
        let mut arp_reply = false;
        if let Some(opts) = p.string("send_arp_opts") {
            for word in opts.split_whitespace() {
                match word {
                    "-A" => arp_reply = true,
                    "-U" => arp_reply = false,
                    other => log::info!(
                        "send_arp_opts: {other} is ignored; ipaddr2 sends its own announcements"
                    ),
                }
            }
        }

        let preferred_lft = match p.string("preferred_lft") {
            None => None,
            Some(v) if v.trim() == "forever" => None,
            Some(v) => Some(
                v.trim()
                    .parse::<u32>()
                    .ok()
                    .filter(|n| *n < u32::MAX)
                    .ok_or_else(|| {
                        Error::bad_param("preferred_lft", &v, "not forever or a number of seconds")
                    })?,
            ),
        };

        Ok(Settings {
            iflabel,
            prefix,
            broadcast,
            proto,
            lvs_support,
            arp_count,
            arp_interval,
            arp_count_refresh,
            arp_bg,
            arp_reply,
            run_arping: p.bool("run_arping")?,
            nodad: p.bool("nodad")?,
            noprefixroute: p.bool("noprefixroute")?,
            preferred_lft,
            flush_routes: p.bool("flush_routes")?,
            check_link_status: p.bool("check_link_status")?,
        })
    }
}

impl Config {
    /// The IPv4 label for interface `nic`, when `iflabel` is set.
    pub fn label(&self, nic: &str) -> Option<String> {
        self.settings.iflabel.as_ref().map(|l| format!("{nic}:{l}"))
    }
}

#[cfg(test)]
mod tests;
