//! Statuses in one line, for the tests of this crate and of the code that reads them (the
//! agent's policy tests): what the kernel would report for a resource whose volumes have
//! these roles and disks, with one peer as DRBD 8.4 has.

use crate::api::API_V84;
use crate::state::{
    ConnState, DiskState, Peer, PeerVolume, ReplState, ResourceStatus, Role, Volume,
};

/// Resource `name` as DRBD 8.4 reports it: one volume per `(minor, role, disk)` (volume
/// numbers 0, 1, ... in that order), and its one peer: `Some((connection, role, disk))`
/// with that disk on every volume (replicating when connected), or `None` for a peer never
/// seen (connecting, role unknown, disks DUnknown).
pub fn status(
    name: &str,
    volumes: &[(u32, Role, DiskState)],
    peer: Option<(ConnState, Role, DiskState)>,
) -> ResourceStatus {
    let (conn, peer_role, peer_disk) =
        peer.unwrap_or((ConnState::Connecting, Role::Unknown, DiskState::DUnknown));
    let repl = if conn.is_connected() {
        ReplState::Established
    } else {
        ReplState::Off
    };
    let mut local = Vec::new();
    let mut remote = Vec::new();
    for (volume, (minor, role, disk)) in (0..).zip(volumes) {
        local.push(Volume::new(volume, *minor, *role, *disk));
        remote.push(PeerVolume::new(volume, peer_disk, repl));
    }
    ResourceStatus::new(
        name,
        API_V84,
        local,
        vec![Peer::new("", conn, peer_role, remote)],
    )
}

/// Resource `r0` with one volume (minor 1) in `role` on `disk`, and its peer as
/// [`status`] says.
pub fn one_volume(
    role: Role,
    disk: DiskState,
    peer: Option<(ConnState, Role, DiskState)>,
) -> ResourceStatus {
    status("r0", &[(1, role, disk)], peer)
}

/// [`one_volume`] with the peer connected in `peer_role` on `peer_disk`.
pub fn connected(
    role: Role,
    disk: DiskState,
    peer_role: Role,
    peer_disk: DiskState,
) -> ResourceStatus {
    one_volume(
        role,
        disk,
        Some((ConnState::Connected, peer_role, peer_disk)),
    )
}
