//! # netlink-addr: synchronous rtnetlink for one host's addresses, links and routes
//!
//! What `ip addr`, `ip link` and `ip route list` do, over one NETLINK_ROUTE socket and
//! without forking or an async runtime: add, delete and dump IP addresses
//! (RTM_NEWADDR/RTM_DELADDR/RTM_GETADDR), get a link and set it up (RTM_GETLINK/RTM_SETLINK),
//! dump routes (RTM_GETROUTE) and flush the route cache. Every request waits for the kernel's
//! acknowledgement; a failure carries the kernel's errno and its extended-ack message.
//!
//! Not for: neighbours, rules, traffic control, or listening to events. ARP and neighbour
//! advertisements are not netlink; see the `arp-announce` crate.

mod error;
mod handle;
mod model;
mod transport;

#[cfg(test)]
mod tests;

pub use error::{Error, errno_text, io_text};
pub use handle::{AddRequest, Netlink, flush_route_cache};
pub use model::{
    ARPHRD_ETHER, ARPHRD_INFINIBAND, ARPHRD_LOOPBACK, Addr, AddrFlags, Family, Link, OperState,
    Route, RouteKind,
};

/// The result of a netlink operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `RT_TABLE_MAIN`, the table `ip route list` shows.
pub const MAIN_TABLE: u32 = 254;
