//! The seam between the policy ([`crate::logic`]) and the machine: everything ipaddr2 asks
//! of the kernel, and nothing more. [`System`] is the real one (rtnetlink through
//! `netlink-addr`, AF_PACKET through `arp-announce`, the background announcer of
//! [`crate::announce`]); the policy's unit tests use a fake that needs no root and no
//! network namespace.

use crate::announce::{self, Announced, Announcement, BackgroundError};
use netlink_addr::{AddRequest, Addr, Family, Link, Netlink, Route};
use ocf::{Error, Result};
use std::cell::RefCell;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// What ipaddr2 needs from the host. Netlink failures keep their typed error
/// (`netlink_addr::Error`: the operation, the kernel's errno and extended ack), so the
/// policy can tell "not there" (`is_not_found`) and "already there" (`is_exists`) apart.
pub trait Host {
    /// True when this process may change addresses (root).
    fn privileged(&self) -> bool;

    /// RTM_GETLINK by name (`ip link show NAME`).
    fn link_by_name(&self, name: &str) -> netlink_addr::Result<Link>;
    /// RTM_GETLINK by index.
    fn link_by_index(&self, index: u32) -> netlink_addr::Result<Link>;
    /// RTM_GETROUTE dump of the main table (`ip route show table main`).
    fn routes(&self, family: Family) -> netlink_addr::Result<Vec<Route>>;
    /// RTM_GETADDR dump, of one interface or all (`ip addr show [dev]`).
    fn addresses(&self, family: Family, index: Option<u32>) -> netlink_addr::Result<Vec<Addr>>;
    /// RTM_NEWADDR (`ip addr add`).
    fn add_address(&self, req: &AddRequest) -> netlink_addr::Result<()>;
    /// RTM_DELADDR (`ip addr del`).
    fn delete_address(
        &self,
        index: u32,
        ip: std::net::IpAddr,
        prefix_len: u8,
    ) -> netlink_addr::Result<()>;
    /// RTM_NEWLINK with IFF_UP (`ip link set up`).
    fn set_link_up(&self, index: u32) -> netlink_addr::Result<()>;
    /// `/proc/sys/net/ipv{4,6}/route/flush` (`ip route flush cache`).
    fn flush_route_cache(&self, family: Family) -> netlink_addr::Result<()>;

    /// RFC 5227 probing for `ip` on `link` (as `arping -D`): the MAC of another owner, if one
    /// answers before `until`.
    fn probe_for_conflict(
        &self,
        link: &Link,
        mac: [u8; 6],
        ip: Ipv4Addr,
        until: Instant,
    ) -> std::io::Result<Option<[u8; 6]>>;
    /// Send `count` announcements `interval` apart in this process, none past `until`;
    /// returns how many went out.
    fn announce(
        &self,
        a: &Announcement,
        count: u32,
        interval: Duration,
        until: Instant,
    ) -> std::io::Result<u32>;
    /// Send one announcement now and leave `count` more to a tracked background announcer
    /// (or send them here when it cannot be tracked).
    fn announce_in_background(
        &self,
        a: &Announcement,
        count: u32,
        interval: Duration,
        until: Instant,
    ) -> std::result::Result<Announced, BackgroundError>;
    /// End this address's background announcer, if one runs (waiting no later than
    /// `until`); never signals a process that is not ours.
    fn stop_announcer(&self, until: Instant);
    /// Where the background announcer's pid file is, for messages.
    fn announcer_pid_file(&self) -> PathBuf;
}

/// How long a netlink reply may take at most (the kernel answers at once).
const NETLINK_TIMEOUT: Duration = Duration::from_secs(5);
/// RFC 5227 probing as IPaddr2's `arping -D -c 2 -w 3`.
const ARPING_PROBES: u32 = 2;
const ARPING_WAIT: Duration = Duration::from_secs(3);

/// The real host: the network namespace this process is in (see [`enter_namespace`]).
pub struct System {
    /// Opened at the first request, with a reply timeout from the action's deadline.
    netlink: RefCell<Option<Netlink>>,
    timeout: Duration,
    pid_file: PathBuf,
}

impl std::fmt::Debug for System {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("System")
            .field("timeout", &self.timeout)
            .field("pid_file", &self.pid_file)
            .finish_non_exhaustive()
    }
}

impl System {
    /// The host for one action: replies waited for no longer than `deadline` allows (and
    /// never more than 5 s each), the announcer's pid file at `pid_file`.
    pub fn new(deadline: ocf::Deadline, pid_file: PathBuf) -> System {
        System {
            netlink: RefCell::new(None),
            timeout: deadline
                .remaining()
                .clamp(Duration::from_millis(100), NETLINK_TIMEOUT),
            pid_file,
        }
    }

    /// Run `f` on the netlink socket, opening it first if needed.
    fn with_netlink<T>(
        &self,
        f: impl FnOnce(&mut Netlink) -> netlink_addr::Result<T>,
    ) -> netlink_addr::Result<T> {
        let mut slot = self.netlink.borrow_mut();
        let nl = match slot.take() {
            Some(nl) => nl,
            None => Netlink::open(self.timeout)?,
        };
        f(slot.insert(nl))
    }
}

impl Host for System {
    fn privileged(&self) -> bool {
        nix::unistd::geteuid().is_root()
    }

    fn link_by_name(&self, name: &str) -> netlink_addr::Result<Link> {
        self.with_netlink(|nl| nl.link_by_name(name))
    }

    fn link_by_index(&self, index: u32) -> netlink_addr::Result<Link> {
        self.with_netlink(|nl| nl.link_by_index(index))
    }

    fn routes(&self, family: Family) -> netlink_addr::Result<Vec<Route>> {
        self.with_netlink(|nl| nl.routes(family))
    }

    fn addresses(&self, family: Family, index: Option<u32>) -> netlink_addr::Result<Vec<Addr>> {
        self.with_netlink(|nl| nl.addresses(family, index))
    }

    fn add_address(&self, req: &AddRequest) -> netlink_addr::Result<()> {
        self.with_netlink(|nl| nl.add_address(req))
    }

    fn delete_address(
        &self,
        index: u32,
        ip: std::net::IpAddr,
        prefix_len: u8,
    ) -> netlink_addr::Result<()> {
        self.with_netlink(|nl| nl.delete_address(index, ip, prefix_len))
    }

    fn set_link_up(&self, index: u32) -> netlink_addr::Result<()> {
        self.with_netlink(|nl| nl.set_link_up(index))
    }

    fn flush_route_cache(&self, family: Family) -> netlink_addr::Result<()> {
        netlink_addr::flush_route_cache(family)
    }

    fn probe_for_conflict(
        &self,
        link: &Link,
        mac: [u8; 6],
        ip: Ipv4Addr,
        until: Instant,
    ) -> std::io::Result<Option<[u8; 6]>> {
        let socket = arp_announce::PacketSocket::open(link.index, arp_announce::ETH_P_ARP)?;
        arp_announce::probe_for_conflict(&socket, mac, ip, ARPING_PROBES, ARPING_WAIT, until)
    }

    fn announce(
        &self,
        a: &Announcement,
        count: u32,
        interval: Duration,
        until: Instant,
    ) -> std::io::Result<u32> {
        a.send(count, interval, until)
    }

    fn announce_in_background(
        &self,
        a: &Announcement,
        count: u32,
        interval: Duration,
        until: Instant,
    ) -> std::result::Result<Announced, BackgroundError> {
        a.send_then_background(count, interval, &self.pid_file, until)
    }

    fn stop_announcer(&self, until: Instant) {
        announce::stop_background(&self.pid_file, until);
    }

    fn announcer_pid_file(&self) -> PathBuf {
        self.pid_file.clone()
    }
}

/// Enter network namespace `name` (`/run/netns/NAME`, as `ip netns` makes them) with
/// setns(2), for this thread and everything it starts. A namespace that does not exist is
/// OCF_ERR_INSTALLED.
pub fn enter_namespace(name: &str) -> Result<()> {
    let path = format!("/run/netns/{name}");
    let file = std::fs::File::open(&path).map_err(|e| {
        Error::installed(format!(
            "network_namespace={}: cannot open {path}: {}",
            ocf::error::printable(name),
            io_text(&e)
        ))
    })?;
    nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET)
        .map_err(|e| Error::perm(format!("entering network namespace {name}: {}", e.desc())))?;
    log::debug!("entered network namespace {name}");
    Ok(())
}

/// A netlink failure as an action's error (1): `what` was being done, in the words of the
/// action (interfaces by name), then the kernel's reason as `ip` words it.
pub fn because(what: impl std::fmt::Display) -> impl FnOnce(netlink_addr::Error) -> Error {
    move |e| Error::generic(format!("{what}: {}", e.cause()))
}

/// An I/O failure (a packet socket, the announcer) in words: the C library's for an errno.
pub fn io_text(e: &std::io::Error) -> String {
    netlink_addr::io_text(e)
}
