//! The real binary in throw-away network namespaces joined by veth pairs (root only).
//! The kernel's view is read with `ip -j addr` and with our own netlink dump; announcements
//! are captured on the peer end of the veth.

// The helpers below are test code too: a failed setup step should panic with its cause.
#![allow(clippy::unwrap_used)]

use arp_announce::{ETH_P_ARP, ETH_P_IPV6, PacketSocket, packet};
use netlink_addr::{Family, Netlink};
use ocf::Status;
use ocf_testkit::{AgentCmd, Netns, require_root};
use std::net::IpAddr;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_ipaddr2");

/// A namespace `ns` with `v0` (192.0.2.1/24, 2001:db8::1/64) linked to `v0p` in `peer`.
struct Lab {
    ns: Netns,
    peer: Netns,
}

impl Lab {
    fn new(tag: &str) -> Lab {
        let ns = Netns::new(tag);
        let peer = Netns::new(&format!("{tag}p"));
        ns.veth_to("v0", &peer, "v0p");
        ns.ip(&["addr", "add", "192.0.2.1/24", "dev", "v0"]);
        ns.ip(&["addr", "add", "2001:db8::1/64", "dev", "v0", "nodad"]);
        Lab { ns, peer }
    }

    fn agent(&self, action: &str, params: &[(&str, &str)]) -> AgentCmd {
        let mut cmd = AgentCmd::new(BIN)
            .action(action)
            .param("network_namespace", self.ns.name())
            .env("HA_RSCTMP", &self.rsctmp());
        for (k, v) in params {
            cmd = cmd.param(k, v);
        }
        cmd
    }

    /// The pid-file directory of this lab's agent runs (HA_RSCTMP), removed on drop.
    fn rsctmp(&self) -> String {
        format!("/run/ipaddr2-test-{}", self.ns.name())
    }

    fn run(&self, action: &str, params: &[(&str, &str)]) -> ocf_testkit::AgentResult {
        self.agent(action, params).run()
    }

    /// `ip -j addr show` in the namespace.
    fn ip_json(&self) -> String {
        self.ns.ip(&["-j", "addr", "show"])
    }

    fn mac(&self, dev: &str) -> [u8; 6] {
        let out = self.ns.ip(&["-j", "link", "show", "dev", dev]);
        let at = out.find("\"address\":\"").unwrap() + 11;
        let mut mac = [0u8; 6];
        for (i, part) in out[at..at + 17].split(':').enumerate() {
            mac[i] = u8::from_str_radix(part, 16).unwrap();
        }
        mac
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(self.rsctmp());
    }
}

/// True when `ip -j addr` lists `ip/prefix` (on `dev`, when given).
fn listed(json: &str, ip: &str, prefix: u8, dev: Option<&str>) -> bool {
    json.split("{\"ifindex\"").any(|iface| {
        dev.is_none_or(|d| iface.contains(&format!("\"ifname\":\"{d}\"")))
            && iface.contains(&format!("\"local\":\"{ip}\",\"prefixlen\":{prefix}"))
    })
}

fn in_netns<T: Send + 'static>(
    name: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> JoinHandle<T> {
    let path = format!("/run/netns/{name}");
    std::thread::spawn(move || {
        let file = std::fs::File::open(path).unwrap();
        nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
        f()
    })
}

/// Our own netlink dump: (interface index, prefix, flags) of `ip` in namespace `name`.
fn dump(name: &str, ip: &str) -> Vec<(u32, u8, u32)> {
    let ip: IpAddr = ip.parse().unwrap();
    in_netns(name, move || {
        let mut nl = Netlink::open(Duration::from_secs(2)).unwrap();
        nl.addresses(Family::of(ip), None)
            .unwrap()
            .into_iter()
            .filter(|a| a.ip == ip)
            .map(|a| (a.index, a.prefix_len, a.flags.0))
            .collect()
    })
    .join()
    .unwrap()
}

/// Capture frames of `ethertype` arriving on `dev` in namespace `name` for `window`.
fn capture(
    name: &str,
    dev: &str,
    ethertype: u16,
    window: Duration,
) -> JoinHandle<Vec<(Instant, Vec<u8>)>> {
    let dev = dev.to_owned();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let handle = in_netns(name, move || {
        let index = nix::net::if_::if_nametoindex(dev.as_str()).unwrap();
        let socket = PacketSocket::open(index, ethertype).unwrap();
        ready_tx.send(()).unwrap();
        let end = Instant::now() + window;
        let mut frames = Vec::new();
        let mut buf = [0u8; 2048];
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            if let Some(n) = socket.recv(&mut buf, left).unwrap() {
                frames.push((Instant::now(), buf[..n].to_vec()));
            }
        }
        frames
    });
    ready_rx.recv().unwrap();
    handle
}

fn assert_spacing(times: &[Instant], at_least: Duration) {
    for pair in times.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            gap >= at_least,
            "announcements {gap:?} apart, expected >= {at_least:?}"
        );
    }
}

#[test]
fn ipv4_start_monitor_stop_and_gratuitous_arp() {
    if !require_root("ipv4_start_monitor_stop_and_gratuitous_arp") {
        return;
    }
    let lab = Lab::new("v4");
    let ip = "192.0.2.10";
    let p = [("ip", ip), ("arp_count", "3"), ("arp_interval", "150")];
    lab.run("monitor", &p).assert_status(Status::NotRunning);
    let arps = capture(
        lab.peer.name(),
        "v0p",
        ETH_P_ARP,
        Duration::from_millis(1200),
    );
    let started = lab.run("start", &p);
    started.assert_status(Status::Success);
    // Issue 16: start and stop name the interface.
    assert!(
        started.stderr().contains("added 192.0.2.10/24 to v0"),
        "{}",
        started.stderr()
    );
    assert!(
        listed(&lab.ip_json(), ip, 24, Some("v0")),
        "{}",
        lab.ip_json()
    );
    assert_eq!(dump(lab.ns.name(), ip).len(), 1);
    lab.agent("monitor", &p)
        .recurring()
        .run()
        .assert_status(Status::Success);
    lab.run("start", &p).assert_status(Status::Success);
    assert_eq!(
        dump(lab.ns.name(), ip).len(),
        1,
        "a second start adds nothing"
    );

    let mac = lab.mac("v0");
    let frames: Vec<(Instant, packet::Arp)> = arps
        .join()
        .unwrap()
        .into_iter()
        .filter_map(|(t, f)| packet::parse_arp(&f).map(|a| (t, a)))
        .filter(|(_, a)| a.spa.to_string() == ip)
        .collect();
    assert_eq!(frames.len(), 3, "arp_count=3 gratuitous ARPs: {frames:?}");
    for (_, a) in &frames {
        assert_eq!(a.op, 1, "requests");
        assert_eq!(a.sha, mac, "sender hardware address is v0's");
        assert_eq!(a.eth_src, mac);
        assert_eq!(a.eth_dst, [0xff; 6], "broadcast");
        assert_eq!(a.tpa, a.spa, "gratuitous: target IP = sender IP");
    }
    let times: Vec<Instant> = frames.iter().map(|(t, _)| *t).collect();
    assert_spacing(&times, Duration::from_millis(120));

    let stopped = lab.run("stop", &p);
    stopped.assert_status(Status::Success);
    assert!(
        stopped.stderr().contains("removed 192.0.2.10/24 from v0"),
        "{}",
        stopped.stderr()
    );
    assert!(!lab.ip_json().contains(ip));
    assert!(dump(lab.ns.name(), ip).is_empty());
    lab.run("stop", &p).assert_status(Status::Success);
    lab.run("monitor", &p).assert_status(Status::NotRunning);
    assert!(
        listed(&lab.ip_json(), "192.0.2.1", 24, Some("v0")),
        "stop left other addresses alone"
    );
}

#[test]
fn ipv6_waits_for_dad_then_advertises() {
    if !require_root("ipv6_waits_for_dad_then_advertises") {
        return;
    }
    let lab = Lab::new("v6");
    let ip = "2001:db8::10";
    let p = [
        ("ip", ip),
        ("nic", "v0"),
        ("cidr_netmask", "64"),
        ("arp_count", "2"),
        ("arp_interval", "150"),
    ];
    let nas = capture(lab.peer.name(), "v0p", ETH_P_IPV6, Duration::from_secs(4));
    lab.run("start", &p).assert_status(Status::Success);
    let flags = dump(lab.ns.name(), ip);
    assert_eq!(flags.len(), 1);
    assert_eq!(flags[0].1, 64);
    assert_eq!(
        flags[0].2 & 0x48,
        0,
        "neither tentative nor dadfailed when start returns"
    );
    assert!(listed(&lab.ip_json(), ip, 64, Some("v0")));
    lab.agent("monitor", &p)
        .recurring()
        .run()
        .assert_status(Status::Success);

    let mac = lab.mac("v0");
    let ours: Vec<(Instant, packet::NeighbourAdvert)> = nas
        .join()
        .unwrap()
        .into_iter()
        .filter_map(|(t, f)| packet::parse_na(&f).map(|n| (t, n)))
        .filter(|(_, n)| n.target.to_string() == ip)
        .collect();
    assert_eq!(ours.len(), 2, "arp_count=2 advertisements: {ours:?}");
    for (_, n) in &ours {
        assert_eq!(n.src.to_string(), ip);
        assert_eq!(n.dst.to_string(), "ff02::1");
        assert_eq!(n.hop_limit, 255);
        assert_eq!(n.flags, packet::NA_OVERRIDE);
        assert_eq!(n.target_mac, Some(mac));
        assert_eq!(n.eth_src, mac);
        assert!(n.checksum_ok);
    }
    assert_spacing(
        &ours.iter().map(|(t, _)| *t).collect::<Vec<_>>(),
        Duration::from_millis(120),
    );
    lab.run("stop", &p).assert_status(Status::Success);
    assert!(dump(lab.ns.name(), ip).is_empty());
}

#[test]
fn ipv6_dadfailed_removes_the_address_and_fails() {
    if !require_root("ipv6_dadfailed_removes_the_address_and_fails") {
        return;
    }
    let lab = Lab::new("dad");
    lab.peer
        .ip(&["addr", "add", "2001:db8::20/64", "dev", "v0p", "nodad"]);
    let p = [
        ("ip", "2001:db8::20"),
        ("nic", "v0"),
        ("cidr_netmask", "64"),
    ];
    let r = lab.run("start", &p);
    r.assert_status(Status::ErrGeneric)
        .assert_reason_contains("duplicate address detection");
    assert!(
        dump(lab.ns.name(), "2001:db8::20").is_empty(),
        "a dadfailed address is removed"
    );
}

#[test]
fn findif_picks_most_specific_lowest_metric_route() {
    if !require_root("findif_picks_most_specific_lowest_metric_route") {
        return;
    }
    let lab = Lab::new("fi");
    lab.ns.veth_to("v1", &lab.peer, "v1p");
    let ns = &lab.ns;
    ns.ip(&["route", "add", "10.10.0.0/16", "dev", "v0", "metric", "100"]);
    ns.ip(&["route", "add", "10.10.0.0/16", "dev", "v1", "metric", "50"]);
    ns.ip(&[
        "route",
        "add",
        "10.10.5.0/24",
        "dev",
        "v0",
        "proto",
        "static",
    ]);
    ns.ip(&["route", "add", "default", "dev", "v0"]);
    ns.ip(&["route", "add", "blackhole", "10.20.0.0/16"]);
    ns.ip(&["route", "add", "unreachable", "10.30.0.0/16"]);

    let a = [("ip", "10.10.9.9")];
    lab.run("start", &a).assert_status(Status::Success);
    assert!(
        listed(&lab.ip_json(), "10.10.9.9", 16, Some("v1")),
        "{}",
        lab.ip_json()
    );
    lab.run("stop", &a).assert_status(Status::Success);

    let b = [("ip", "10.10.5.5")];
    lab.run("start", &b).assert_status(Status::Success);
    assert!(listed(&lab.ip_json(), "10.10.5.5", 24, Some("v0")));
    lab.run("stop", &b).assert_status(Status::Success);

    // proto narrows the choice: only the static /24 qualifies; `ip route add` makes
    // proto boot routes, and only 192.0.2.0/24 is proto kernel.
    let c = [("ip", "10.10.5.6"), ("proto", "static")];
    lab.run("start", &c).assert_status(Status::Success);
    assert!(listed(&lab.ip_json(), "10.10.5.6", 24, Some("v0")));
    lab.run("stop", &c).assert_status(Status::Success);
    lab.run("start", &[("ip", "10.10.9.8"), ("proto", "kernel")])
        .assert_status(Status::ErrInstalled);

    // Default, blackhole and unreachable routes never count: no usable interface is 5.
    for ip in ["10.20.1.1", "10.30.1.1", "198.51.100.1"] {
        lab.run("start", &[("ip", ip)])
            .assert_status(Status::ErrInstalled)
            .assert_reason_contains("no interface");
        lab.run("monitor", &[("ip", ip)])
            .assert_status(Status::NotRunning);
    }
    // nic and cidr_netmask together need no route.
    let d = [
        ("ip", "198.51.100.7"),
        ("nic", "v1"),
        ("cidr_netmask", "28"),
    ];
    lab.run("start", &d).assert_status(Status::Success);
    assert!(listed(&lab.ip_json(), "198.51.100.7", 28, Some("v1")));
    lab.run("stop", &d).assert_status(Status::Success);
    lab.run("start", &[("ip", "192.0.2.50"), ("nic", "nosuch0")])
        .assert_status(Status::ErrInstalled);
}

#[test]
fn link_down_is_not_running_and_start_brings_it_up() {
    if !require_root("link_down_is_not_running_and_start_brings_it_up") {
        return;
    }
    let lab = Lab::new("ld");
    let p = [("ip", "192.0.2.11"), ("nic", "v0")];
    lab.run("start", &p).assert_status(Status::Success);
    lab.peer.ip(&["link", "set", "v0p", "down"]); // v0 becomes LOWERLAYERDOWN
    lab.agent("monitor", &p)
        .recurring()
        .run()
        .assert_status(Status::NotRunning);
    lab.agent(
        "monitor",
        &[
            ("ip", "192.0.2.11"),
            ("nic", "v0"),
            ("check_link_status", "false"),
        ],
    )
    .recurring()
    .run()
    .assert_status(Status::Success);
    lab.peer.ip(&["link", "set", "v0p", "up"]);
    lab.run("stop", &p).assert_status(Status::Success);

    lab.ns.ip(&["link", "set", "v0", "down"]);
    let q = [("ip", "192.0.2.12"), ("nic", "v0"), ("cidr_netmask", "24")];
    lab.run("start", &q).assert_status(Status::Success);
    assert!(
        lab.ns
            .ip(&["-j", "link", "show", "dev", "v0"])
            .contains("\"UP\""),
        "start set v0 up"
    );
    lab.agent("monitor", &q)
        .recurring()
        .run()
        .assert_status(Status::Success);
    lab.run("stop", &q).assert_status(Status::Success);
}

/// Issue 13: on a link without carrier (a veth whose peer is down, as a pulled cable) start
/// answered 0 (the anchor too), monitor then 7, Pacemaker restarted it in place and the
/// address stayed on the node that cannot serve it. Start now waits briefly for the carrier,
/// then fails with 1 (a local failure, so the address moves), adding nothing.
#[test]
fn start_fails_on_a_link_without_carrier_until_the_carrier_comes() {
    if !require_root("start_fails_on_a_link_without_carrier_until_the_carrier_comes") {
        return;
    }
    let lab = Lab::new("nc");
    lab.peer.ip(&["link", "set", "v0p", "down"]); // v0: NO-CARRIER, LOWERLAYERDOWN
    let ip = "192.0.2.22";
    // With a netmask: a link set down loses its connected route, which findif reads.
    let p = [("ip", ip), ("nic", "v0"), ("cidr_netmask", "24")];
    let began = Instant::now();
    lab.agent("start", &p)
        .meta("timeout", "4000")
        .run()
        .assert_status(Status::ErrGeneric)
        .assert_reason_contains("no carrier");
    let took = began.elapsed();
    assert!(took < Duration::from_secs(4), "start took {took:?}");
    assert!(dump(lab.ns.name(), ip).is_empty(), "{}", lab.ip_json());
    lab.run("monitor", &p).assert_status(Status::NotRunning);

    // Administratively down as well: start still brings v0 up, then finds no carrier.
    lab.ns.ip(&["link", "set", "v0", "down"]);
    lab.agent("start", &p)
        .meta("timeout", "3000")
        .run()
        .assert_status(Status::ErrGeneric)
        .assert_reason_contains("no carrier");
    assert!(
        lab.ns
            .ip(&["-j", "link", "show", "dev", "v0"])
            .contains("\"UP\""),
        "start set v0 up"
    );
    assert!(dump(lab.ns.name(), ip).is_empty());

    // The carrier comes back while start waits: the address is added and announced.
    let peer = lab.peer.name().to_owned();
    let plug = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(700));
        let ok = std::process::Command::new("ip")
            .args(["-n", &peer, "link", "set", "v0p", "up"])
            .status()
            .unwrap();
        assert!(ok.success());
    });
    lab.run("start", &p).assert_status(Status::Success);
    plug.join().unwrap();
    assert!(
        listed(&lab.ip_json(), ip, 24, Some("v0")),
        "{}",
        lab.ip_json()
    );
    lab.agent("monitor", &p)
        .recurring()
        .run()
        .assert_status(Status::Success);
    lab.run("stop", &p).assert_status(Status::Success);
}

#[test]
fn wrong_prefix_is_replaced_and_foreign_owner_refused() {
    if !require_root("wrong_prefix_is_replaced_and_foreign_owner_refused") {
        return;
    }
    let lab = Lab::new("wp");
    lab.ns.ip(&["addr", "add", "192.0.2.13/25", "dev", "v0"]);
    let p = [
        ("ip", "192.0.2.13"),
        ("cidr_netmask", "24"),
        ("iflabel", "vip"),
    ];
    lab.agent("monitor", &p)
        .run()
        .assert_status(Status::ErrGeneric);
    lab.run("start", &p).assert_status(Status::Success);
    let json = lab.ip_json();
    assert!(listed(&json, "192.0.2.13", 24, Some("v0")), "{json}");
    assert!(
        !listed(&json, "192.0.2.13", 25, None),
        "the /25 is gone: {json}"
    );
    assert!(json.contains("\"label\":\"v0:vip\""), "{json}");
    lab.agent("monitor", &p)
        .recurring()
        .run()
        .assert_status(Status::Success);
    lab.run("stop", &p).assert_status(Status::Success);

    // An address on another interface is not taken over.
    lab.ns.veth_to("v1", &lab.peer, "v1p");
    lab.ns.ip(&["addr", "add", "192.0.2.14/24", "dev", "v1"]);
    let q = [("ip", "192.0.2.14"), ("nic", "v0")];
    lab.run("start", &q)
        .assert_status(Status::ErrGeneric)
        .assert_reason_contains("already configured on interface v1");
    assert!(listed(&lab.ip_json(), "192.0.2.14", 24, Some("v1")));
    assert!(!listed(&lab.ip_json(), "192.0.2.14", 24, Some("v0")));
}

#[test]
fn misconfigured_probe_is_7_and_start_is_6() {
    if !require_root("misconfigured_probe_is_7_and_start_is_6") {
        return;
    }
    let lab = Lab::new("mc");
    let bad = [("ip", "192.0.2.15"), ("cidr_netmask", "99")];
    lab.run("monitor", &bad).assert_status(Status::NotRunning);
    lab.run("start", &bad)
        .assert_status(Status::ErrConfigured)
        .assert_reason_contains("cidr_netmask=\"99\"");
    lab.run("validate-all", &bad)
        .assert_status(Status::ErrConfigured);
    lab.run(
        "start",
        &[("ip", "192.0.2.15"), ("mac", "01:00:5e:01:02:03")],
    )
    .assert_status(Status::ErrConfigured)
    .assert_reason_contains("out of scope");
    let missing_ns = AgentCmd::new(BIN)
        .action("start")
        .param("ip", "192.0.2.15")
        .param("network_namespace", "oa-no-such-ns");
    let r = missing_ns.clone().run();
    r.assert_status(Status::ErrInstalled)
        .assert_reason_contains("cannot open /run/netns/oa-no-such-ns: No such file or directory");
    // Issue 16: words for the administrator, not Rust's "(os error 2)".
    assert!(!r.stderr().contains("os error"), "{}", r.stderr());
    missing_ns
        .action("monitor")
        .run()
        .assert_status(Status::NotRunning);
}

#[test]
fn run_arping_detects_a_collision() {
    if !require_root("run_arping_detects_a_collision") {
        return;
    }
    let lab = Lab::new("ar");
    lab.peer.ip(&["addr", "add", "192.0.2.16/24", "dev", "v0p"]);
    let p = [("ip", "192.0.2.16"), ("run_arping", "true")];
    lab.run("start", &p)
        .assert_status(Status::ErrGeneric)
        .assert_reason_contains("collision");
    assert!(dump(lab.ns.name(), "192.0.2.16").is_empty());
    let q = [
        ("ip", "192.0.2.17"),
        ("run_arping", "true"),
        ("arp_bg", "false"),
        ("arp_count", "1"),
    ];
    lab.run("start", &q).assert_status(Status::Success);
    lab.run("stop", &q).assert_status(Status::Success);
}

#[test]
fn lvs_support_parks_on_lo() {
    if !require_root("lvs_support_parks_on_lo") {
        return;
    }
    let lab = Lab::new("lvs");
    let p = [("ip", "192.0.2.18"), ("lvs_support", "true")];
    lab.run("start", &p).assert_status(Status::Success);
    lab.run("stop", &p).assert_status(Status::Success);
    assert!(
        listed(&lab.ip_json(), "192.0.2.18", 32, Some("lo")),
        "{}",
        lab.ip_json()
    );
    assert!(!listed(&lab.ip_json(), "192.0.2.18", 24, Some("v0")));
    lab.run("monitor", &p).assert_status(Status::NotRunning);
    lab.run("start", &p).assert_status(Status::Success);
    assert!(
        !listed(&lab.ip_json(), "192.0.2.18", 32, Some("lo")),
        "taken back from lo"
    );
    assert!(listed(&lab.ip_json(), "192.0.2.18", 24, Some("v0")));
    lab.run("stop", &p).assert_status(Status::Success);
}

/// Issue 13: an address on lo, as LVS direct-routing real servers use. resource-agents'
/// ocft case "Attachment to loopback interface" (`ip=127.0.0.3` alone: start, monitor and
/// stop answer 0; the anchor adds 127.0.0.3/8, scope host, to lo) and `nic=lo` with
/// `lvs_support` (a /32 on lo, removed by stop). Ours answered 5 to both starts.
#[test]
fn addresses_on_lo_as_the_anchor_and_lvs_real_servers_put_them() {
    if !require_root("addresses_on_lo_as_the_anchor_and_lvs_real_servers_put_them") {
        return;
    }
    let lab = Lab::new("lo");
    let arps = capture(
        lab.peer.name(),
        "v0p",
        ETH_P_ARP,
        Duration::from_millis(1500),
    );
    let p = [("ip", "127.0.0.3")];
    lab.run("monitor", &p).assert_status(Status::NotRunning);
    lab.run("start", &p).assert_status(Status::Success);
    let json = lab.ip_json();
    assert!(listed(&json, "127.0.0.3", 8, Some("lo")), "{json}");
    let on_lo = lab
        .ns
        .ip(&["-o", "addr", "show", "dev", "lo", "to", "127.0.0.3"]);
    assert!(on_lo.contains("scope host"), "{on_lo}");
    lab.run("start", &p).assert_status(Status::Success);
    assert_eq!(dump(lab.ns.name(), "127.0.0.3").len(), 1, "added once");
    lab.run("monitor", &p).assert_status(Status::Success);
    lab.agent("monitor", &p)
        .recurring()
        .run()
        .assert_status(Status::Success);
    lab.run("stop", &p).assert_status(Status::Success);
    assert!(dump(lab.ns.name(), "127.0.0.3").is_empty());
    lab.run("monitor", &p).assert_status(Status::NotRunning);
    assert!(
        listed(&lab.ip_json(), "127.0.0.1", 8, Some("lo")),
        "lo's own address untouched"
    );

    let lvs = [("ip", "192.0.2.50"), ("nic", "lo"), ("lvs_support", "true")];
    lab.run("start", &lvs).assert_status(Status::Success);
    assert!(
        listed(&lab.ip_json(), "192.0.2.50", 32, Some("lo")),
        "{}",
        lab.ip_json()
    );
    assert!(!listed(&lab.ip_json(), "192.0.2.50", 24, Some("v0")));
    lab.agent("monitor", &lvs)
        .recurring()
        .run()
        .assert_status(Status::Success);
    lab.run("stop", &lvs).assert_status(Status::Success);
    assert!(
        dump(lab.ns.name(), "192.0.2.50").is_empty(),
        "{}",
        lab.ip_json()
    );
    lab.run("monitor", &lvs).assert_status(Status::NotRunning);

    let heard: Vec<packet::Arp> = arps
        .join()
        .unwrap()
        .into_iter()
        .filter_map(|(_, f)| packet::parse_arp(&f))
        .filter(|a| ["127.0.0.3", "192.0.2.50"].contains(&a.spa.to_string().as_str()))
        .collect();
    assert!(heard.is_empty(), "nothing announced for lo: {heard:?}");
}

/// The internet checksum (RFC 1071).
fn inet_checksum(bytes: &[u8]) -> u16 {
    let mut sum: u32 = bytes
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !u16::try_from(sum).unwrap()
}

/// What a router on the path sends when a packet is too big: ICMP "fragmentation needed"
/// (mtu 1300) about an echo reply from 192.0.2.1 to `dst`, delivered to 192.0.2.1 in
/// namespace `name`. The kernel learns the path MTU as a cached route ("nexthop exception"),
/// which `ip route show cache` lists and a route cache flush drops.
fn learn_path_mtu(name: &str, dst: &'static str) {
    in_netns(name, move || {
        use nix::sys::socket::{
            AddressFamily, MsgFlags, SockFlag, SockProtocol, SockType, SockaddrIn, sendto, socket,
        };
        let src: std::net::Ipv4Addr = "192.0.2.1".parse().unwrap();
        let dst: std::net::Ipv4Addr = dst.parse().unwrap();
        let mut inner = vec![0x45, 0, 0, 28, 0, 0, 0x40, 0, 64, 1, 0, 0];
        inner.extend(src.octets());
        inner.extend(dst.octets());
        let sum = inet_checksum(&inner);
        inner[10..12].copy_from_slice(&sum.to_be_bytes());
        inner.extend([0, 0, 0, 0, 0, 1, 0, 1]); // the echo reply's first 8 bytes
        let mut icmp = vec![3, 4, 0, 0, 0, 0, 0x05, 0x14]; // unreachable, frag needed, 1300
        icmp.extend(inner);
        let sum = inet_checksum(&icmp);
        icmp[2..4].copy_from_slice(&sum.to_be_bytes());
        let fd = socket(
            AddressFamily::Inet,
            SockType::Raw,
            SockFlag::SOCK_CLOEXEC,
            SockProtocol::Icmp,
        )
        .unwrap();
        let to = SockaddrIn::from(std::net::SocketAddrV4::new(src, 0));
        sendto(
            std::os::fd::AsRawFd::as_raw_fd(&fd),
            &icmp,
            &to,
            MsgFlags::empty(),
        )
        .unwrap();
    })
    .join()
    .unwrap();
}

/// `ip route show cache DST` in the lab's namespace, polled briefly for the ICMP to land.
fn cached_route(lab: &Lab, dst: &str, want_listed: bool) -> String {
    let end = Instant::now() + Duration::from_secs(2);
    loop {
        let out = lab.ns.ip(&["-4", "route", "show", "cache", dst]);
        if out.contains("mtu 1300") == want_listed || Instant::now() > end {
            return out;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn flush_routes_empties_the_route_cache_at_stop() {
    if !require_root("flush_routes_empties_the_route_cache_at_stop") {
        return;
    }
    let lab = Lab::new("flush");
    learn_path_mtu(lab.ns.name(), "192.0.2.99");
    let cache = cached_route(&lab, "192.0.2.99", true);
    assert!(
        cache.contains("mtu 1300"),
        "the path MTU was learned: {cache:?}"
    );
    // Without flush_routes a start and stop leave the cached route alone: what the flush
    // below removes is not removed by the address going away.
    let keep = [("ip", "192.0.2.20")];
    lab.run("start", &keep).assert_status(Status::Success);
    lab.run("stop", &keep).assert_status(Status::Success);
    let cache = cached_route(&lab, "192.0.2.99", true);
    assert!(
        cache.contains("mtu 1300"),
        "kept without flush_routes: {cache:?}"
    );
    let flush = [("ip", "192.0.2.20"), ("flush_routes", "true")];
    lab.run("start", &flush).assert_status(Status::Success);
    let cache = cached_route(&lab, "192.0.2.99", true);
    assert!(
        cache.contains("mtu 1300"),
        "start does not flush: {cache:?}"
    );
    lab.run("stop", &flush).assert_status(Status::Success);
    let cache = cached_route(&lab, "192.0.2.99", false);
    assert!(
        !cache.contains("mtu 1300"),
        "stop with flush_routes=true flushed the route cache: {cache:?}"
    );
}

#[test]
fn stop_ends_the_background_announcer() {
    if !require_root("stop_ends_the_background_announcer") {
        return;
    }
    let lab = Lab::new("bg");
    let p = [
        ("ip", "192.0.2.19"),
        ("arp_count", "50"),
        ("arp_interval", "100"),
    ];
    let start = Instant::now();
    lab.run("start", &p).assert_status(Status::Success);
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "arp_bg: start does not wait for 50 ARPs"
    );
    let pid_file = format!(
        "{}/ipaddr2-announce-{}-192.0.2.19.pid",
        lab.rsctmp(),
        lab.ns.name()
    );
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .lines()
        .next()
        .unwrap_or_default()
        .parse()
        .unwrap();
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
    lab.run("stop", &p).assert_status(Status::Success);
    std::thread::sleep(Duration::from_millis(100));
    let alive =
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z "));
    assert!(!alive, "the announcer is gone after stop");
    assert!(!std::path::Path::new(&pid_file).exists());
}

#[test]
fn a_fifo_planted_by_a_user_at_the_pid_file_blocks_neither_start_nor_stop() {
    // Issue 17: HA_RSCTMP owned by nobody, who plants a FIFO at the announcer's pid file:
    // start blocked in open(2) until it was killed.
    if !require_root("a_fifo_planted_by_a_user_at_the_pid_file_blocks_neither_start_nor_stop") {
        return;
    }
    let lab = Lab::new("fifo");
    let rsctmp = lab.rsctmp();
    std::fs::create_dir_all(&rsctmp).unwrap();
    nix::unistd::chown(rsctmp.as_str(), Some(65534.into()), Some(65534.into())).unwrap();
    let pid_file = format!("{rsctmp}/ipaddr2-announce-{}-192.0.2.21.pid", lab.ns.name());
    let planted = std::process::Command::new("setpriv")
        .args([
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            "mkfifo",
        ])
        .arg(&pid_file)
        .status()
        .unwrap();
    assert!(planted.success());
    let p = [
        ("ip", "192.0.2.21"),
        ("arp_count", "3"),
        ("arp_interval", "100"),
    ];
    for action in ["start", "stop"] {
        let began = Instant::now();
        lab.agent(action, &p)
            .meta("timeout", "3000")
            .run()
            .assert_status(Status::Success);
        assert!(
            began.elapsed() < Duration::from_secs(3),
            "{action} took {:?}",
            began.elapsed()
        );
    }
}
