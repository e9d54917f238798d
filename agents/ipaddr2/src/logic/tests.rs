//! The policy on a fake host: no root, no network namespace, no kernel. The fake keeps
//! links, routes and addresses as the kernel would and records what the policy asked of
//! it; each test asserts what an administrator would check (`ip addr`, the exit code,
//! what was announced).

use super::*;
use crate::Agent;
use crate::announce::{Announced, Announcement, BackgroundError};
use crate::findif::tests::route;
use netlink_addr::{AddrFlags, OperState, Route};
use ocf::config::Resolution;
use ocf::{Action, testing};
use std::cell::{Cell, RefCell};
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Instant;

const ETH0: u32 = 2;
const ETH1: u32 = 3;
const MAC: [u8; 6] = [2, 0, 0, 0, 0, 1];

/// A host with lo, eth0 (192.0.2.1/24, 2001:db8::1/64) and eth1 (198.51.100.1/24).
#[derive(Debug)]
struct Fake {
    privileged: bool,
    links: RefCell<Vec<Link>>,
    routes: Vec<Route>,
    addrs: RefCell<Vec<Addr>>,
    /// What a RFC 5227 probe finds.
    conflict: Option<[u8; 6]>,
    /// Announcements sent in the foreground (interface, count).
    sent: RefCell<Vec<(u32, u32)>>,
    /// A background announcer runs.
    announcer: Cell<bool>,
    flushed: Cell<bool>,
    /// IPv6 addresses stay tentative, then fail DAD.
    dad_fails: bool,
    /// Every link gains its carrier after this many more link lookups (a cable plugged in,
    /// autonegotiation done).
    carrier_after: Cell<Option<u32>>,
    /// The kernel refuses every address change with this errno.
    refuse: Cell<Option<i32>>,
}

fn link(index: u32, name: &str) -> Link {
    Link {
        index,
        name: name.to_owned(),
        hw_type: if index == LOOPBACK_INDEX {
            netlink_addr::ARPHRD_LOOPBACK
        } else {
            netlink_addr::ARPHRD_ETHER
        },
        up: true,
        carrier: true,
        loopback: index == LOOPBACK_INDEX,
        noarp: index == LOOPBACK_INDEX,
        oper_state: OperState::Up,
        mac: (index != LOOPBACK_INDEX).then(|| MAC.to_vec()),
    }
}

fn addr(index: u32, ip: &str, prefix_len: u8) -> Addr {
    Addr {
        index,
        ip: ip.parse().unwrap(),
        prefix_len,
        label: None,
        broadcast: None,
        flags: AddrFlags(0),
        scope: 0,
        preferred_lft: u32::MAX,
    }
}

/// `local 127.0.0.0/8 dev lo table local proto kernel scope host src 127.0.0.1`, the route
/// the kernel adds with lo's 127.0.0.1/8.
fn loopback_net() -> Route {
    let mut r = route("127.0.0.0", 8, LOOPBACK_INDEX, 0);
    r.kind = netlink_addr::RouteKind::Local;
    r.scope = 254;
    r.table = 255;
    r
}

fn kernel_error(op: &str, errno: i32) -> netlink_addr::Error {
    netlink_addr::Error::Kernel {
        op: op.to_owned(),
        errno,
        ext_ack: None,
    }
}

impl Fake {
    fn new() -> Fake {
        Fake {
            privileged: true,
            links: RefCell::new(vec![
                link(LOOPBACK_INDEX, "lo"),
                link(ETH0, "eth0"),
                link(ETH1, "eth1"),
            ]),
            routes: vec![
                route("192.0.2.0", 24, ETH0, 0),
                route("198.51.100.0", 24, ETH1, 0),
                route("2001:db8::", 64, ETH0, 0),
                loopback_net(),
            ],
            addrs: RefCell::new(vec![
                addr(LOOPBACK_INDEX, "127.0.0.1", 8),
                addr(ETH0, "192.0.2.1", 24),
                addr(ETH0, "2001:db8::1", 64),
                addr(ETH1, "198.51.100.1", 24),
            ]),
            conflict: None,
            sent: RefCell::new(Vec::new()),
            announcer: Cell::new(false),
            flushed: Cell::new(false),
            dad_fails: false,
            carrier_after: Cell::new(None),
            refuse: Cell::new(None),
        }
    }

    /// `eth0` loses its carrier (the cable pulled, the peer of a veth set down).
    fn pull_the_cable(&self) {
        self.set_link(ETH0, |l| {
            l.carrier = false;
            l.oper_state = OperState::LowerLayerDown;
        });
    }

    /// Count a link lookup towards `carrier_after`.
    fn tick(&self) {
        match self.carrier_after.get() {
            Some(0) => {
                self.carrier_after.set(None);
                for l in self.links.borrow_mut().iter_mut() {
                    l.carrier = true;
                    if l.up {
                        l.oper_state = OperState::Up;
                    }
                }
            }
            Some(n) => self.carrier_after.set(Some(n - 1)),
            None => {}
        }
    }

    /// Where `ip` is, as `ip -o addr` would list it: (interface, prefix).
    fn where_is(&self, ip: &str) -> Vec<(u32, u8)> {
        let ip: IpAddr = ip.parse().unwrap();
        self.addrs
            .borrow()
            .iter()
            .filter(|a| a.ip == ip)
            .map(|a| (a.index, a.prefix_len))
            .collect()
    }

    fn set_link(&self, index: u32, f: impl FnOnce(&mut Link)) {
        if let Some(l) = self
            .links
            .borrow_mut()
            .iter_mut()
            .find(|l| l.index == index)
        {
            f(l);
        }
    }
}

impl Host for Fake {
    fn privileged(&self) -> bool {
        self.privileged
    }

    fn link_by_name(&self, name: &str) -> netlink_addr::Result<Link> {
        self.tick();
        self.links
            .borrow()
            .iter()
            .find(|l| l.name == name)
            .cloned()
            .ok_or_else(|| kernel_error("RTM_GETLINK", nix::libc::ENODEV))
    }

    fn link_by_index(&self, index: u32) -> netlink_addr::Result<Link> {
        self.tick();
        self.links
            .borrow()
            .iter()
            .find(|l| l.index == index)
            .cloned()
            .ok_or_else(|| kernel_error("RTM_GETLINK", nix::libc::ENODEV))
    }

    fn routes(&self, family: Family) -> netlink_addr::Result<Vec<Route>> {
        Ok(self
            .routes
            .iter()
            .filter(|r| r.family == family)
            .cloned()
            .collect())
    }

    fn addresses(&self, family: Family, index: Option<u32>) -> netlink_addr::Result<Vec<Addr>> {
        Ok(self
            .addrs
            .borrow()
            .iter()
            .filter(|a| Family::of(a.ip) == family && index.is_none_or(|i| a.index == i))
            .cloned()
            .collect())
    }

    fn add_address(&self, req: &AddRequest) -> netlink_addr::Result<()> {
        if let Some(errno) = self.refuse.get() {
            return Err(kernel_error("adding an address (RTM_NEWADDR)", errno));
        }
        let mut addrs = self.addrs.borrow_mut();
        if addrs
            .iter()
            .any(|a| a.index == req.index && a.ip == req.ip && a.prefix_len == req.prefix_len)
        {
            return Err(kernel_error("RTM_NEWADDR", nix::libc::EEXIST));
        }
        let mut a = addr(req.index, &req.ip.to_string(), req.prefix_len);
        a.label.clone_from(&req.label);
        a.broadcast = req.broadcast;
        if req.ip.is_ipv6() && !req.nodad && self.dad_fails {
            a.flags = AddrFlags(AddrFlags::DADFAILED);
        }
        addrs.push(a);
        Ok(())
    }

    fn delete_address(&self, index: u32, ip: IpAddr, prefix_len: u8) -> netlink_addr::Result<()> {
        if let Some(errno) = self.refuse.get() {
            return Err(kernel_error("deleting an address (RTM_DELADDR)", errno));
        }
        let mut addrs = self.addrs.borrow_mut();
        let before = addrs.len();
        addrs.retain(|a| !(a.index == index && a.ip == ip && a.prefix_len == prefix_len));
        if addrs.len() == before {
            return Err(kernel_error("RTM_DELADDR", nix::libc::EADDRNOTAVAIL));
        }
        Ok(())
    }

    fn set_link_up(&self, index: u32) -> netlink_addr::Result<()> {
        self.set_link(index, |l| {
            l.up = true;
            l.oper_state = if l.carrier {
                OperState::Up
            } else {
                OperState::LowerLayerDown
            };
        });
        Ok(())
    }

    fn flush_route_cache(&self, _family: Family) -> netlink_addr::Result<()> {
        self.flushed.set(true);
        Ok(())
    }

    fn probe_for_conflict(
        &self,
        _link: &Link,
        _mac: [u8; 6],
        _ip: Ipv4Addr,
        _until: Instant,
    ) -> std::io::Result<Option<[u8; 6]>> {
        Ok(self.conflict)
    }

    fn announce(
        &self,
        a: &Announcement,
        count: u32,
        _interval: Duration,
        _until: Instant,
    ) -> std::io::Result<u32> {
        self.sent.borrow_mut().push((a.ifindex, count));
        Ok(count)
    }

    fn announce_in_background(
        &self,
        a: &Announcement,
        _count: u32,
        _interval: Duration,
        _until: Instant,
    ) -> std::result::Result<Announced, BackgroundError> {
        self.sent.borrow_mut().push((a.ifindex, 1));
        self.announcer.set(true);
        Ok(Announced::Background)
    }

    fn stop_announcer(&self, _until: Instant) {
        self.announcer.set(false);
    }

    fn announcer_pid_file(&self) -> PathBuf {
        PathBuf::from("/run/resource-agents/ipaddr2-announce-test.pid")
    }
}

/// The context of `action` (`CRM_meta_interval` set for a recurring monitor).
fn ctx(action: Action, params: &[(&str, &str)], recurring: bool) -> Context {
    let vars: &[(&str, &str)] = if recurring {
        &[("OCF_RESKEY_CRM_meta_interval", "10000")]
    } else {
        &[]
    };
    testing::context::<Agent>(action, params, vars)
}

/// The policy as `ocf::run` builds it for `ctx` (the bad-configuration rule applied) over
/// `host`; None when the rule ends the action itself.
fn logic_for(ctx: &Context, host: Fake) -> std::result::Result<Logic<Fake>, Result<Status>> {
    match testing::resolve::<Agent>(ctx) {
        Resolution::Run(identity, settings) => Ok(Logic {
            cfg: Config { identity, settings },
            host,
            namespace_error: None,
        }),
        Resolution::Finish(r) => Err(r),
    }
}

fn logic(action: Action, params: &[(&str, &str)], host: Fake) -> (Logic<Fake>, Context) {
    logic_in(ctx(action, params, false), host)
}

/// As [`logic`], for an action with Pacemaker's `timeout` of 2 s (a deadline of 1.5 s).
fn logic_2s(action: Action, params: &[(&str, &str)], host: Fake) -> (Logic<Fake>, Context) {
    let vars = [("OCF_RESKEY_CRM_meta_timeout", "2000")];
    logic_in(testing::context::<Agent>(action, params, &vars), host)
}

fn logic_in(c: Context, host: Fake) -> (Logic<Fake>, Context) {
    let action = c.action;
    match logic_for(&c, host) {
        Ok(l) => (l, c),
        Err(r) => panic!("{action} did not run: {r:?}"),
    }
}

const VIP: (&str, &str) = ("ip", "192.0.2.10");

#[test]
fn start_adds_the_address_where_findif_says_and_announces_it() {
    let (l, c) = logic(Action::Start, &[VIP], Fake::new());
    assert_eq!(l.start(&c), Ok(Status::Success));
    assert_eq!(l.host.where_is("192.0.2.10"), [(ETH0, 24)]);
    let added = l.host.addrs.borrow().last().cloned().unwrap();
    assert_eq!(added.broadcast, Some(Ipv4Addr::new(192, 0, 2, 255)));
    assert_eq!(*l.host.sent.borrow(), [(ETH0, 1)], "one frame now");
    assert!(
        l.host.announcer.get(),
        "the rest in the background (arp_bg)"
    );
}

#[test]
fn start_is_idempotent_and_monitor_follows() {
    let (l, c) = logic(Action::Start, &[VIP, ("cidr_netmask", "24")], Fake::new());
    let probe = ctx(Action::Monitor, &[VIP], false);
    assert_eq!(l.monitor(&probe), Ok(Status::NotRunning));
    assert_eq!(l.start(&c), Ok(Status::Success));
    assert_eq!(l.monitor(&probe), Ok(Status::Success));
    l.host.sent.borrow_mut().clear();
    assert_eq!(l.start(&c), Ok(Status::Success), "a second start");
    assert_eq!(l.host.where_is("192.0.2.10"), [(ETH0, 24)], "added once");
    assert!(l.host.sent.borrow().is_empty(), "nothing announced again");
}

#[test]
fn stop_removes_the_address_and_the_announcer_and_is_idempotent() {
    let (l, c) = logic(Action::Start, &[VIP], Fake::new());
    l.start(&c).unwrap();
    let stop = ctx(Action::Stop, &[VIP], false);
    assert_eq!(l.stop(&stop), Ok(Status::Success));
    assert!(l.host.where_is("192.0.2.10").is_empty());
    assert!(!l.host.announcer.get(), "the announcer was ended");
    assert_eq!(
        l.stop(&stop),
        Ok(Status::Success),
        "stopping what is stopped"
    );
    assert_eq!(
        l.monitor(&ctx(Action::Monitor, &[VIP], true)),
        Ok(Status::NotRunning)
    );
}

#[test]
fn stop_removes_the_address_from_every_interface_but_not_from_lo() {
    let host = Fake::new();
    host.addrs.borrow_mut().extend([
        addr(ETH0, "192.0.2.10", 24),
        addr(ETH1, "192.0.2.10", 32),
        addr(LOOPBACK_INDEX, "192.0.2.10", 32),
    ]);
    let (l, c) = logic(Action::Stop, &[VIP], host);
    assert_eq!(l.stop(&c), Ok(Status::Success));
    assert_eq!(l.host.where_is("192.0.2.10"), [(LOOPBACK_INDEX, 32)]);
}

#[test]
fn lvs_support_parks_the_address_on_lo_and_takes_it_back() {
    let params = [VIP, ("lvs_support", "true")];
    let (l, c) = logic(Action::Start, &params, Fake::new());
    l.start(&c).unwrap();
    l.stop(&ctx(Action::Stop, &params, false)).unwrap();
    assert_eq!(l.host.where_is("192.0.2.10"), [(LOOPBACK_INDEX, 32)]);
    assert_eq!(
        l.monitor(&ctx(Action::Monitor, &params, false)),
        Ok(Status::NotRunning),
        "parked is stopped"
    );
    l.start(&c).unwrap();
    assert_eq!(l.host.where_is("192.0.2.10"), [(ETH0, 24)]);
}

#[test]
fn flush_routes_flushes_at_stop() {
    let params = [VIP, ("flush_routes", "true")];
    let (l, c) = logic(Action::Stop, &params, Fake::new());
    l.stop(&c).unwrap();
    assert!(l.host.flushed.get());
}

#[test]
fn start_refuses_an_address_configured_on_another_interface() {
    let host = Fake::new();
    host.addrs.borrow_mut().push(addr(ETH1, "192.0.2.10", 32));
    let (l, c) = logic(Action::Start, &[VIP], host);
    let e = l.start(&c).unwrap_err();
    assert_eq!(e.status(), Status::ErrGeneric);
    assert!(
        e.reason().contains("already configured on interface eth1"),
        "{e}"
    );
    assert_eq!(l.host.where_is("192.0.2.10"), [(ETH1, 32)], "not touched");
}

#[test]
fn start_replaces_the_address_with_a_wrong_prefix() {
    let host = Fake::new();
    host.addrs.borrow_mut().push(addr(ETH0, "192.0.2.10", 32));
    let (l, c) = logic(Action::Start, &[VIP], host);
    assert_eq!(l.start(&c), Ok(Status::Success));
    assert_eq!(l.host.where_is("192.0.2.10"), [(ETH0, 24)]);
}

#[test]
fn start_without_an_interface_for_the_address_is_5() {
    for params in [&[("ip", "203.0.113.5")][..], &[VIP, ("nic", "eth9")][..]] {
        let (l, c) = logic(Action::Start, params, Fake::new());
        let e = l.start(&c).unwrap_err();
        assert_eq!(e.status(), Status::ErrInstalled, "{params:?}: {e}");
        assert_eq!(l.validate(&c).unwrap_err().status(), Status::ErrInstalled);
    }
}

#[test]
fn start_as_a_user_is_4_and_changes_nothing() {
    let mut host = Fake::new();
    host.privileged = false;
    let (l, c) = logic(Action::Start, &[VIP], host);
    assert_eq!(l.start(&c).unwrap_err().status(), Status::ErrPerm);
    assert!(l.host.where_is("192.0.2.10").is_empty());
}

#[test]
fn run_arping_refuses_an_address_another_host_answers_for() {
    let mut host = Fake::new();
    host.conflict = Some([2, 0, 0, 0, 0, 0x99]);
    let (l, c) = logic(Action::Start, &[VIP, ("run_arping", "true")], host);
    let e = l.start(&c).unwrap_err();
    assert!(
        e.reason().contains("collision") && e.reason().contains("02:00:00:00:00:99"),
        "{e}"
    );
    assert!(l.host.where_is("192.0.2.10").is_empty());
}

#[test]
fn ipv6_duplicate_address_detection_failure_removes_the_address() {
    let mut host = Fake::new();
    host.dad_fails = true;
    let (l, c) = logic(Action::Start, &[("ip", "2001:db8::10")], host);
    let e = l.start(&c).unwrap_err();
    assert!(
        e.reason().contains("duplicate address detection failed"),
        "{e}"
    );
    assert!(l.host.where_is("2001:db8::10").is_empty(), "removed again");
}

#[test]
fn monitor_tells_down_links_missing_nics_labels_and_strangers_apart() {
    let host = Fake::new();
    host.addrs.borrow_mut().push(addr(ETH0, "192.0.2.10", 24));
    let (l, _) = logic(Action::Monitor, &[VIP, ("nic", "eth0")], host);
    let monitor = ctx(Action::Monitor, &[VIP], true);
    assert_eq!(l.monitor(&monitor), Ok(Status::Success));
    l.host
        .set_link(ETH0, |link| link.oper_state = OperState::LowerLayerDown);
    assert_eq!(l.monitor(&monitor), Ok(Status::NotRunning), "no carrier");
    l.host.links.borrow_mut().retain(|link| link.index != ETH0);
    assert_eq!(l.monitor(&monitor), Ok(Status::NotRunning), "nic gone");

    let host = Fake::new();
    host.addrs.borrow_mut().push(addr(ETH1, "192.0.2.10", 24));
    let (l, _) = logic(Action::Monitor, &[VIP, ("nic", "eth0")], host);
    let e = l.monitor(&monitor).unwrap_err();
    assert!(e.reason().contains("on interface eth1"), "{e}");

    let host = Fake::new();
    host.addrs.borrow_mut().push(addr(ETH0, "192.0.2.10", 24));
    let (l, _) = logic(Action::Monitor, &[VIP, ("iflabel", "vip")], host);
    let e = l.monitor(&monitor).unwrap_err();
    assert!(e.reason().contains("expected eth0:vip"), "{e}");
}

#[test]
fn a_missing_namespace_is_not_running_stopped_and_not_installed() {
    let (mut l, _) = logic(Action::Monitor, &[VIP], Fake::new());
    l.namespace_error = Some(Error::installed("network_namespace=blue: cannot open"));
    assert_eq!(
        l.monitor(&ctx(Action::Monitor, &[VIP], false)),
        Ok(Status::NotRunning)
    );
    assert_eq!(
        l.stop(&ctx(Action::Stop, &[VIP], false)),
        Ok(Status::Success)
    );
    for e in [
        l.monitor(&ctx(Action::Monitor, &[VIP], true)).unwrap_err(),
        l.start(&ctx(Action::Start, &[VIP], false)).unwrap_err(),
        l.validate(&ctx(Action::ValidateAll, &[VIP], false))
            .unwrap_err(),
    ] {
        assert_eq!(e.status(), Status::ErrInstalled);
    }
}

/// The bad-configuration rule end to end for ipaddr2: with a bad setting, a probe reports
/// the address as it really is, stop removes it, and start refuses with 6.
#[test]
fn a_bad_setting_never_hides_or_keeps_a_running_address() {
    let bad = [VIP, ("arp_count", "many"), ("lvs_support", "perhaps")];
    let host = Fake::new();
    host.addrs.borrow_mut().push(addr(ETH0, "192.0.2.10", 24));
    let probe = ctx(Action::Monitor, &bad, false);
    let l = logic_for(&probe, host).unwrap();
    assert_eq!(l.monitor(&probe), Ok(Status::Success), "running, as it is");
    let stop = ctx(Action::Stop, &bad, false);
    let l = logic_for(&stop, l.host).unwrap();
    assert_eq!(l.stop(&stop), Ok(Status::Success));
    assert!(
        l.host.where_is("192.0.2.10").is_empty(),
        "and stop removed it"
    );
    let e = logic_for(&ctx(Action::Start, &bad, false), Fake::new()).unwrap_err();
    assert_eq!(e.unwrap_err().status(), Status::ErrConfigured);
}

/// Issue 13: a start on a link without carrier succeeded (the anchor's too), monitor then
/// said 7, Pacemaker restarted it in place, and the address stayed on the node with the
/// pulled cable. Start fails with 1 (a local failure: the address moves to another node,
/// never 6, which would ban it everywhere), and adds nothing.
#[test]
fn start_on_a_link_without_carrier_fails_locally_and_adds_nothing() {
    let host = Fake::new();
    host.pull_the_cable();
    let (l, c) = logic_2s(Action::Start, &[VIP], host);
    let began = Instant::now();
    let e = l.start(&c).unwrap_err();
    assert_eq!(e.status(), Status::ErrGeneric, "{e}");
    assert!(
        e.reason().contains("eth0") && e.reason().contains("no carrier"),
        "{e}"
    );
    assert!(
        began.elapsed() >= Duration::from_millis(500),
        "a short wait for the carrier first"
    );
    assert!(
        c.deadline.remaining() > Duration::ZERO,
        "and an answer before the deadline"
    );
    assert!(l.host.where_is("192.0.2.10").is_empty(), "nothing added");
    assert!(l.host.sent.borrow().is_empty(), "nothing announced");
    assert!(!l.host.announcer.get());
}

#[test]
fn start_fails_on_a_present_address_whose_link_lost_its_carrier() {
    let host = Fake::new();
    host.addrs.borrow_mut().push(addr(ETH0, "192.0.2.10", 24));
    host.pull_the_cable();
    let (l, c) = logic_2s(Action::Start, &[VIP], host);
    assert_eq!(l.start(&c).unwrap_err().status(), Status::ErrGeneric);
}

/// The existing behaviour kept: an administratively down link is brought up; then start
/// waits for its carrier (autonegotiation takes a moment).
#[test]
fn start_brings_a_down_link_up_and_waits_for_its_carrier() {
    let host = Fake::new();
    host.set_link(ETH0, |l| {
        l.up = false;
        l.carrier = false;
        l.oper_state = OperState::Down;
    });
    host.carrier_after.set(Some(3));
    let (l, c) = logic_2s(Action::Start, &[VIP], host);
    assert_eq!(l.start(&c), Ok(Status::Success));
    let eth0 = l.host.link_by_index(ETH0).unwrap();
    assert!(eth0.up && eth0.has_carrier());
    assert_eq!(l.host.where_is("192.0.2.10"), [(ETH0, 24)]);
    assert_eq!(
        *l.host.sent.borrow(),
        [(ETH0, 1)],
        "announced once it can be heard"
    );
    assert_eq!(
        l.monitor(&ctx(Action::Monitor, &[VIP], true)),
        Ok(Status::Success)
    );
}

#[test]
fn start_brings_a_down_link_up_and_fails_when_no_carrier_comes() {
    let host = Fake::new();
    host.set_link(ETH0, |l| {
        l.up = false;
        l.carrier = false;
        l.oper_state = OperState::Down;
    });
    let (l, c) = logic_2s(Action::Start, &[VIP], host);
    let e = l.start(&c).unwrap_err();
    assert_eq!(e.status(), Status::ErrGeneric, "{e}");
    assert!(
        l.host.link_by_index(ETH0).unwrap().up,
        "brought up all the same"
    );
    assert!(l.host.where_is("192.0.2.10").is_empty());
}

/// check_link_status=false: the administrator says the link state does not matter (monitor
/// ignores it), so start does not wait for a carrier either, as the anchor.
#[test]
fn check_link_status_false_starts_without_carrier() {
    let host = Fake::new();
    host.pull_the_cable();
    let params = [VIP, ("check_link_status", "false")];
    let (l, c) = logic_2s(Action::Start, &params, host);
    assert_eq!(l.start(&c), Ok(Status::Success));
    assert_eq!(l.host.where_is("192.0.2.10"), [(ETH0, 24)]);
    assert_eq!(
        l.monitor(&ctx(Action::Monitor, &params, true)),
        Ok(Status::Success)
    );
}

/// Issue 13: an address on the loopback interface, as LVS direct-routing real servers use
/// and resource-agents' ocft case "Attachment to loopback interface" checks
/// (`ip=127.0.0.3`, nothing else): the anchor adds 127.0.0.3/8 to lo (the prefix of the
/// local table's 127.0.0.0/8) and start, monitor and stop answer 0; ours answered 5.
#[test]
fn an_address_in_127_8_lives_on_lo_as_the_anchor_puts_it() {
    let ip = ("ip", "127.0.0.3");
    let (l, c) = logic(Action::Start, &[ip], Fake::new());
    assert_eq!(l.validate(&c), Ok(()));
    assert_eq!(
        l.monitor(&ctx(Action::Monitor, &[ip], false)),
        Ok(Status::NotRunning)
    );
    assert_eq!(l.start(&c), Ok(Status::Success));
    assert_eq!(l.host.where_is("127.0.0.3"), [(LOOPBACK_INDEX, 8)]);
    assert!(l.host.sent.borrow().is_empty(), "no ARP on lo");
    assert!(!l.host.announcer.get());
    assert_eq!(l.start(&c), Ok(Status::Success), "idempotent");
    assert_eq!(l.host.where_is("127.0.0.3"), [(LOOPBACK_INDEX, 8)]);
    for recurring in [false, true] {
        assert_eq!(
            l.monitor(&ctx(Action::Monitor, &[ip], recurring)),
            Ok(Status::Success)
        );
    }
    assert_eq!(
        l.stop(&ctx(Action::Stop, &[ip], false)),
        Ok(Status::Success)
    );
    assert!(l.host.where_is("127.0.0.3").is_empty());
    assert_eq!(
        l.monitor(&ctx(Action::Monitor, &[ip], false)),
        Ok(Status::NotRunning)
    );
    assert_eq!(
        l.host.where_is("127.0.0.1"),
        [(LOOPBACK_INDEX, 8)],
        "lo's own address untouched"
    );
}

#[test]
fn a_netmask_or_nic_lo_for_a_127_address_is_honoured() {
    for (params, prefix) in [
        (&[("ip", "127.0.0.3"), ("cidr_netmask", "32")][..], 32),
        (&[("ip", "127.0.0.3"), ("nic", "lo")][..], 8),
    ] {
        let (l, c) = logic(Action::Start, params, Fake::new());
        assert_eq!(l.start(&c), Ok(Status::Success), "{params:?}");
        assert_eq!(l.host.where_is("127.0.0.3"), [(LOOPBACK_INDEX, prefix)]);
        assert_eq!(
            l.monitor(&ctx(Action::Monitor, params, true)),
            Ok(Status::Success)
        );
        l.stop(&ctx(Action::Stop, params, false)).unwrap();
        assert!(l.host.where_is("127.0.0.3").is_empty(), "{params:?}");
    }
}

/// `nic=lo` with `lvs_support`, the LVS-DR real server's address: it lives on lo (a /32
/// without cidr_netmask: a wider prefix on lo would make the whole subnet local), nothing
/// is announced, and stop removes it; with lo as its interface there is nowhere else to
/// park it (before: start 5 without cidr_netmask; with it, stop parked the address back on
/// lo and the next probe found it running).
#[test]
fn nic_lo_with_lvs_support_lives_on_lo_and_stop_removes_it() {
    let lvs = [("ip", "192.0.2.50"), ("nic", "lo"), ("lvs_support", "true")];
    let with_mask = [lvs[0], lvs[1], lvs[2], ("cidr_netmask", "32")];
    for params in [&lvs[..], &with_mask[..]] {
        let (l, c) = logic(Action::Start, params, Fake::new());
        assert_eq!(l.start(&c), Ok(Status::Success), "{params:?}");
        assert_eq!(l.host.where_is("192.0.2.50"), [(LOOPBACK_INDEX, 32)]);
        assert!(l.host.sent.borrow().is_empty(), "no ARP on lo");
        assert_eq!(
            l.monitor(&ctx(Action::Monitor, params, true)),
            Ok(Status::Success)
        );
        assert_eq!(
            l.stop(&ctx(Action::Stop, params, false)),
            Ok(Status::Success)
        );
        assert!(l.host.where_is("192.0.2.50").is_empty(), "{params:?}");
        assert_eq!(
            l.monitor(&ctx(Action::Monitor, params, false)),
            Ok(Status::NotRunning),
            "{params:?}"
        );
    }
}

const IB0: u32 = 4;

/// A host with ib0, an IP-over-InfiniBand interface (10.0.0.1/24, 20-byte hardware address).
fn with_ipoib() -> Fake {
    let mut host = Fake::new();
    let mut ib0 = link(IB0, "ib0");
    ib0.hw_type = netlink_addr::ARPHRD_INFINIBAND;
    ib0.mac = Some(vec![
        0x80, 0, 2, 8, 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 2, 0xc9, 3, 0, 1, 2, 3,
    ]);
    host.links.borrow_mut().push(ib0);
    host.routes.push(route("10.0.0.0", 24, IB0, 0));
    host.addrs.borrow_mut().push(addr(IB0, "10.0.0.1", 24));
    host
}

/// Issue 13: on IPoIB the address was added and nothing was announced (logged at info),
/// while start said 0. ipaddr2 sends Ethernet announcements only (IPoIB's 20-byte
/// addresses and ARPHRD_INFINIBAND frames are not implemented, and no IB hardware here
/// could prove them), so start and validate-all refuse an interface it cannot announce on,
/// with 5: this node's interface, not a configuration wrong everywhere. An address already
/// there is still seen by monitor and removed by stop.
#[test]
fn an_interface_without_ethernet_announcements_is_refused_at_start() {
    for params in [
        &[("ip", "10.0.0.10")][..],
        &[("ip", "10.0.0.10"), ("nic", "ib0"), ("cidr_netmask", "24")][..],
    ] {
        let (l, c) = logic(Action::Start, params, with_ipoib());
        let e = l.start(&c).unwrap_err();
        assert_eq!(e.status(), Status::ErrInstalled, "{params:?}: {e}");
        assert!(
            e.reason().contains("ib0") && e.reason().contains("InfiniBand"),
            "{e}"
        );
        assert!(l.host.where_is("10.0.0.10").is_empty(), "nothing added");
        assert!(l.host.sent.borrow().is_empty());
        let v = ctx(Action::ValidateAll, params, false);
        assert_eq!(l.validate(&v).unwrap_err().status(), Status::ErrInstalled);
    }
    let host = with_ipoib();
    host.addrs.borrow_mut().push(addr(IB0, "10.0.0.10", 24));
    let params = [("ip", "10.0.0.10")];
    let (l, _) = logic(Action::Monitor, &params, host);
    assert_eq!(
        l.monitor(&ctx(Action::Monitor, &params, true)),
        Ok(Status::Success)
    );
    assert_eq!(
        l.stop(&ctx(Action::Stop, &params, false)),
        Ok(Status::Success)
    );
    assert!(l.host.where_is("10.0.0.10").is_empty());
}

/// Issue 16: what an administrator reads names the interface (not "interface 3") and says
/// the kernel's reason in words, without Rust's "(os error 1)" or Debug text.
#[test]
fn failures_name_the_interface_in_plain_words() {
    let host = Fake::new();
    host.refuse.set(Some(nix::libc::EPERM));
    let (l, c) = logic(Action::Start, &[VIP], host);
    let start = l.start(&c).unwrap_err();
    assert_eq!(
        start.reason(),
        "adding 192.0.2.10/24 to eth0: Operation not permitted"
    );
    l.host.refuse.set(None);
    l.host.addrs.borrow_mut().push(addr(ETH0, "192.0.2.10", 24));
    l.host.refuse.set(Some(nix::libc::EPERM));
    let stop = l.stop(&ctx(Action::Stop, &[VIP], false)).unwrap_err();
    assert_eq!(
        stop.reason(),
        "removing 192.0.2.10/24 from eth0: Operation not permitted"
    );
    l.host.refuse.set(None); // the address is still there
    let labelled = [VIP, ("iflabel", "vip")];
    let (l, _) = logic(Action::Monitor, &labelled, l.host);
    let label = l
        .monitor(&ctx(Action::Monitor, &labelled, true))
        .unwrap_err();
    assert_eq!(
        label.reason(),
        "192.0.2.10 on eth0 has no label, expected eth0:vip"
    );
    for e in [start, stop, label] {
        for internal in ["os error", "interface 2", "Some(", "\"", "RTM_"] {
            assert!(!e.reason().contains(internal), "{internal}: {e}");
        }
    }
}
