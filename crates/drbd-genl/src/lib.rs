//! # drbd-genl: DRBD's generic netlink family, spoken directly
//!
//! What a DRBD resource agent asks the kernel, without forking `drbdsetup`: the status of a
//! resource (role, disk states, connection state, peer role and peer disk states) and the
//! role changes `primary`/`secondary`. Both generations are spoken: DRBD 8.4 (the in-tree
//! module of Linux 6.1, family version 1: `GET_STATUS` dumps, role changes per minor) and
//! DRBD 9 (family version 2: `GET_RESOURCES`/`GET_DEVICES`/`GET_CONNECTIONS`/
//! `GET_PEER_DEVICES` dumps, role changes per resource). The generation is read from the
//! family version the genl controller reports.
//!
//! Not for configuration (`up`, `adjust`, `down`, net and disk options): that stays with
//! `drbdadm`, which owns the configuration language. Not for events (no multicast
//! subscription): a monitor asks once.
//!
//! Layers: [`api`] (the kernel's numbers), [`message`] (encoding and decoding, pure and
//! unit-tested byte by byte), [`decode`] and [`state`] (from dump rows to a
//! [`ResourceStatus`]), [`socket`] (the bounded conversation: [`Drbd`]); [`testing`] builds
//! statuses in one line for tests.
//!
//! For developers: with `DRBD_GENL_CAPTURE=<file>` in the environment every datagram is
//! appended to that file as hex ([`socket::CAPTURE_ENV`]); the lab records the real kernel's
//! bytes that way (fixtures/lab-drbd-8.4.11/).

pub mod api;
pub mod decode;
pub mod message;
pub mod socket;
pub mod state;
pub mod testing;

pub use socket::{Drbd, Error};
pub use state::{ConnState, DiskState, Peer, PeerVolume, ReplState, ResourceStatus, Role, Volume};

#[cfg(test)]
mod lab_fixtures;
#[cfg(test)]
mod tests;
