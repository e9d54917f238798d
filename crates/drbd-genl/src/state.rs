//! What a resource looks like to a monitor, the same for DRBD 8.4 and 9: the local role,
//! each volume's disk, and for each peer its connection, role and disks.
//!
//! The kernel's enums differ between generations (9 inserted `D_DETACHING` into the disk
//! states and split 8.4's `conn` into a connection state and a replication state), so every
//! number is decoded with the family version it came from.

use crate::api::{API_V84, state_bits};
use std::fmt::{self, Write as _};

/// `enum drbd_role`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Unknown,
    Primary,
    Secondary,
}

impl Role {
    pub fn from_raw(v: u32) -> Role {
        match v {
            1 => Role::Primary,
            2 => Role::Secondary,
            _ => Role::Unknown,
        }
    }
}

/// `enum drbd_disk_state`, with 9's `Detaching` (8.4 has no such state).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DiskState {
    Diskless,
    Attaching,
    Detaching,
    Failed,
    Negotiating,
    Inconsistent,
    Outdated,
    /// Only for a peer's disk: not known (no connection).
    DUnknown,
    Consistent,
    UpToDate,
}

impl DiskState {
    /// Decode `raw` as family version `api` numbers it.
    pub fn from_raw(api: u32, raw: u32) -> DiskState {
        // 8.4: D_DISKLESS, D_ATTACHING, D_FAILED, D_NEGOTIATING, D_INCONSISTENT, D_OUTDATED,
        //      D_UNKNOWN, D_CONSISTENT, D_UP_TO_DATE (0..=8).
        // 9:   the same with D_DETACHING inserted at 2 (0..=9).
        let raw = if api == API_V84 && raw >= 2 {
            raw + 1
        } else {
            raw
        };
        match raw {
            0 => DiskState::Diskless,
            1 => DiskState::Attaching,
            2 => DiskState::Detaching,
            3 => DiskState::Failed,
            4 => DiskState::Negotiating,
            5 => DiskState::Inconsistent,
            6 => DiskState::Outdated,
            8 => DiskState::Consistent,
            9 => DiskState::UpToDate,
            _ => DiskState::DUnknown,
        }
    }

    /// The name drbdsetup prints.
    pub fn name(self) -> &'static str {
        match self {
            DiskState::Diskless => "Diskless",
            DiskState::Attaching => "Attaching",
            DiskState::Detaching => "Detaching",
            DiskState::Failed => "Failed",
            DiskState::Negotiating => "Negotiating",
            DiskState::Inconsistent => "Inconsistent",
            DiskState::Outdated => "Outdated",
            DiskState::DUnknown => "DUnknown",
            DiskState::Consistent => "Consistent",
            DiskState::UpToDate => "UpToDate",
        }
    }
}

impl fmt::Display for DiskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Unknown => "Unknown",
            Role::Primary => "Primary",
            Role::Secondary => "Secondary",
        })
    }
}

/// The replication link (9's `enum drbd_conn_state`; 8.4's `conn` below `C_CONNECTED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnState {
    StandAlone,
    Disconnecting,
    Unconnected,
    Timeout,
    BrokenPipe,
    NetworkFailure,
    ProtocolError,
    TearDown,
    /// 9's `Connecting`, 8.4's `WFConnection` and `WFReportParams`.
    Connecting,
    Connected,
}

impl fmt::Display for ConnState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConnState::StandAlone => "StandAlone",
            ConnState::Disconnecting => "Disconnecting",
            ConnState::Unconnected => "Unconnected",
            ConnState::Timeout => "Timeout",
            ConnState::BrokenPipe => "BrokenPipe",
            ConnState::NetworkFailure => "NetworkFailure",
            ConnState::ProtocolError => "ProtocolError",
            ConnState::TearDown => "TearDown",
            ConnState::Connecting => "Connecting",
            ConnState::Connected => "Connected",
        })
    }
}

impl ConnState {
    fn from_low(raw: u32) -> ConnState {
        match raw {
            0 => ConnState::StandAlone,
            1 => ConnState::Disconnecting,
            2 => ConnState::Unconnected,
            3 => ConnState::Timeout,
            4 => ConnState::BrokenPipe,
            5 => ConnState::NetworkFailure,
            6 => ConnState::ProtocolError,
            7 => ConnState::TearDown,
            8 => ConnState::Connecting,
            _ => ConnState::Connected,
        }
    }

    /// DRBD 9's `enum drbd_conn_state` (C_CONNECTED = 9).
    pub fn from_raw_v9(raw: u32) -> ConnState {
        ConnState::from_low(raw)
    }

    pub fn is_connected(self) -> bool {
        self == ConnState::Connected
    }
}

/// 9's `enum drbd_repl_state` (`L_OFF` = 9 .. `L_BEHIND` = 23); 8.4's `conn` from
/// `C_CONNECTED` (10) up uses the same numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplState {
    Off,
    Established,
    StartingSyncS,
    StartingSyncT,
    WfBitmapS,
    WfBitmapT,
    WfSyncUuid,
    SyncSource,
    SyncTarget,
    VerifyS,
    VerifyT,
    PausedSyncS,
    PausedSyncT,
    Ahead,
    Behind,
}

impl ReplState {
    pub fn from_raw(raw: u32) -> ReplState {
        match raw {
            10 => ReplState::Established,
            11 => ReplState::StartingSyncS,
            12 => ReplState::StartingSyncT,
            13 => ReplState::WfBitmapS,
            14 => ReplState::WfBitmapT,
            15 => ReplState::WfSyncUuid,
            16 => ReplState::SyncSource,
            17 => ReplState::SyncTarget,
            18 => ReplState::VerifyS,
            19 => ReplState::VerifyT,
            20 => ReplState::PausedSyncS,
            21 => ReplState::PausedSyncT,
            22 => ReplState::Ahead,
            23 => ReplState::Behind,
            _ => ReplState::Off,
        }
    }
}

/// One local volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    pub volume: u32,
    pub minor: u32,
    /// Its role: 8.4 keeps one per minor; 9 one per resource, the same on every volume.
    pub role: Role,
    pub disk: DiskState,
    /// DRBD 9: configured without a disk on purpose (a diskless client).
    pub intentional_diskless: bool,
    /// DRBD 9: this volume has quorum (8.4 has no quorum: always true).
    pub has_quorum: bool,
}

impl Volume {
    /// A volume with a disk of its own and quorum (all an 8.4 volume can say).
    pub fn new(volume: u32, minor: u32, role: Role, disk: DiskState) -> Volume {
        Volume {
            volume,
            minor,
            role,
            disk,
            intentional_diskless: false,
            has_quorum: true,
        }
    }
}

/// One peer disk, as this node sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerVolume {
    pub volume: u32,
    pub disk: DiskState,
    pub repl: ReplState,
}

impl PeerVolume {
    pub fn new(volume: u32, disk: DiskState, repl: ReplState) -> PeerVolume {
        PeerVolume { volume, disk, repl }
    }
}

/// One peer (8.4 has exactly one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// DRBD 9's connection name (the peer's host name); empty on 8.4.
    pub name: String,
    pub conn: ConnState,
    pub role: Role,
    pub volumes: Vec<PeerVolume>,
}

impl Peer {
    /// A peer; `name` is empty on 8.4.
    pub fn new(name: &str, conn: ConnState, role: Role, volumes: Vec<PeerVolume>) -> Peer {
        Peer {
            name: name.to_owned(),
            conn,
            role,
            volumes,
        }
    }
}

/// A configured resource as the kernel reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceStatus {
    pub name: String,
    /// The family version it was read with (1: DRBD 8.4, 2: DRBD 9).
    pub api: u32,
    /// The resource's role: 9's own; on 8.4 the highest of its volumes' (Primary beats
    /// Secondary), as the kernel's `conn_highest_role`. Whether the whole resource is
    /// Primary is [`ResourceStatus::all_primary`].
    pub role: Role,
    pub volumes: Vec<Volume>,
    pub peers: Vec<Peer>,
    /// The running net options' `allow-two-primaries`, when the kernel reported a net
    /// configuration (8.4: in `GET_STATUS`; 9: not read here, None).
    pub two_primaries: Option<bool>,
}

impl ResourceStatus {
    /// A status read with family version `api`: its role is the highest of its volumes'
    /// roles, and no net options were reported.
    pub fn new(name: &str, api: u32, volumes: Vec<Volume>, peers: Vec<Peer>) -> ResourceStatus {
        ResourceStatus {
            name: name.to_owned(),
            api,
            role: volumes.iter().fold(Role::Unknown, |r, v| higher(r, v.role)),
            volumes,
            peers,
            two_primaries: None,
        }
    }

    /// Every volume Primary: the resource is promoted (a resource without volumes: its own
    /// role). One volume still Secondary means it is not.
    pub fn all_primary(&self) -> bool {
        if self.volumes.is_empty() {
            return self.role == Role::Primary;
        }
        self.volumes.iter().all(|v| v.role == Role::Primary)
    }

    /// Some volume Primary (or the resource itself): something is promoted, so the device
    /// may be open for writing here.
    pub fn any_primary(&self) -> bool {
        self.role == Role::Primary || self.volumes.iter().any(|v| v.role == Role::Primary)
    }

    /// The minors whose volumes are Primary, or not Primary: what is left to demote or
    /// promote.
    pub fn minors_where(&self, primary: bool) -> Vec<u32> {
        self.volumes
            .iter()
            .filter(|v| (v.role == Role::Primary) == primary)
            .map(|v| v.minor)
            .collect()
    }

    /// Each volume's role, for messages: `minor 1 Primary, minor 2 Secondary`.
    pub fn roles(&self) -> String {
        let roles: Vec<String> = self
            .volumes
            .iter()
            .map(|v| format!("minor {} {}", v.minor, v.role))
            .collect();
        roles.join(", ")
    }

    /// The minors of the resource's volumes (what 8.4's PRIMARY/SECONDARY address).
    pub fn minors(&self) -> Vec<u32> {
        self.volumes.iter().map(|v| v.minor).collect()
    }

    pub fn all_disks(&self, state: DiskState) -> bool {
        !self.volumes.is_empty() && self.volumes.iter().all(|v| v.disk == state)
    }

    pub fn any_peer_primary(&self) -> bool {
        self.peers.iter().any(|p| p.role == Role::Primary)
    }

    pub fn any_peer_connected(&self) -> bool {
        self.peers.iter().any(|p| p.conn.is_connected())
    }

    /// A one-line summary for logs: `r0 Primary UpToDate; peer Connected Primary UpToDate`.
    pub fn summary(&self) -> String {
        let disks: Vec<&str> = self.volumes.iter().map(|v| v.disk.name()).collect();
        let role = if self.all_primary() || !self.any_primary() {
            self.role.to_string()
        } else {
            // Not one role: say which volume has which.
            format!("Primary only in part ({})", self.roles())
        };
        let mut s = format!("{} {role} {}", self.name, disks.join(","));
        for p in &self.peers {
            let pd: Vec<&str> = p.volumes.iter().map(|v| v.disk.name()).collect();
            let _ = write!(
                s,
                "; peer{}{} {} {} {}",
                if p.name.is_empty() { "" } else { " " },
                p.name,
                p.conn,
                p.role,
                pd.join(",")
            );
        }
        s
    }
}

/// One row of an 8.4 `GET_STATUS` dump: a minor, its volume number and its state word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusRow84 {
    pub minor: u32,
    pub volume: u32,
    pub state: u32,
}

/// The parts of 8.4's `union drbd_state` a monitor needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct State84 {
    pub role: Role,
    pub peer: Role,
    pub conn: u32,
    pub disk: DiskState,
    pub pdsk: DiskState,
    pub susp: bool,
}

impl State84 {
    /// Decode a state word (little-endian bit-field layout, see [`state_bits`]).
    pub fn from_state_word(word: u32) -> State84 {
        use state_bits::{CONN, DISK, PDSK, PEER, ROLE, SUSP, field};
        State84 {
            role: Role::from_raw(field(word, ROLE)),
            peer: Role::from_raw(field(word, PEER)),
            conn: field(word, CONN),
            disk: DiskState::from_raw(API_V84, field(word, DISK)),
            pdsk: DiskState::from_raw(API_V84, field(word, PDSK)),
            susp: field(word, SUSP) == 1,
        }
    }

    /// 8.4's `conn` as a connection state: below `C_WF_REPORT_PARAMS` (9) there is no
    /// socket; 9 is a socket without a handshake yet; `C_CONNECTED` (10) and up are
    /// connected with a replication state.
    pub fn conn_state(self) -> ConnState {
        match self.conn {
            9 => ConnState::Connecting,
            c if c >= 10 => ConnState::Connected,
            c => ConnState::from_low(c),
        }
    }
}

/// Build a resource's status from its 8.4 `GET_STATUS` rows (one per volume). The
/// resource's role is the highest of its volumes' roles (Primary beats Secondary), as the
/// kernel's own `conn_highest_role` does.
pub fn status_from_84(
    name: &str,
    rows: &[StatusRow84],
    two_primaries: Option<bool>,
) -> ResourceStatus {
    let mut volumes = Vec::new();
    let mut peer_volumes = Vec::new();
    let mut peer_role = Role::Unknown;
    let mut conn = ConnState::StandAlone;
    for row in rows {
        let s = State84::from_state_word(row.state);
        peer_role = higher(peer_role, s.peer);
        conn = s.conn_state();
        volumes.push(Volume::new(row.volume, row.minor, s.role, s.disk));
        peer_volumes.push(PeerVolume::new(
            row.volume,
            s.pdsk,
            ReplState::from_raw(s.conn),
        ));
    }
    let peer = Peer::new("", conn, peer_role, peer_volumes);
    ResourceStatus {
        two_primaries,
        ..ResourceStatus::new(name, API_V84, volumes, vec![peer])
    }
}

fn higher(a: Role, b: Role) -> Role {
    match (a, b) {
        (Role::Primary, _) | (_, Role::Primary) => Role::Primary,
        (Role::Secondary, _) | (_, Role::Secondary) => Role::Secondary,
        _ => Role::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::API_V9;

    /// A state word built field by field (derived from drbd.h's bit-field order).
    pub(crate) fn word(role: u32, peer: u32, conn: u32, disk: u32, pdsk: u32) -> u32 {
        role | peer << 2 | conn << 4 | disk << 9 | pdsk << 13
    }

    #[test]
    fn state_word_fields() {
        // Primary/Primary, Connected (10), UpToDate (8.4: 8) / UpToDate.
        let w = word(1, 1, 10, 8, 8);
        assert_eq!(w, 0x0001_10a5);
        let s = State84::from_state_word(w);
        assert_eq!(s.role, Role::Primary);
        assert_eq!(s.peer, Role::Primary);
        assert_eq!(s.conn_state(), ConnState::Connected);
        assert_eq!(s.disk, DiskState::UpToDate);
        assert_eq!(s.pdsk, DiskState::UpToDate);
        assert!(!s.susp);
        // Secondary, peer unknown, WFConnection (8), Consistent (7) / DUnknown (6), suspended.
        let s = State84::from_state_word(word(2, 0, 8, 7, 6) | 1 << 17);
        assert_eq!(s.role, Role::Secondary);
        assert_eq!(s.peer, Role::Unknown);
        assert_eq!(s.conn_state(), ConnState::Connecting);
        assert_eq!(s.disk, DiskState::Consistent);
        assert_eq!(s.pdsk, DiskState::DUnknown);
        assert!(s.susp);
        // SyncTarget (17) is connected, Inconsistent (4).
        let s = State84::from_state_word(word(2, 2, 17, 4, 8));
        assert_eq!(s.conn_state(), ConnState::Connected);
        assert_eq!(ReplState::from_raw(s.conn), ReplState::SyncTarget);
        assert_eq!(s.disk, DiskState::Inconsistent);
        // StandAlone (0), Diskless (0).
        let s = State84::from_state_word(word(2, 0, 0, 0, 6));
        assert_eq!(s.conn_state(), ConnState::StandAlone);
        assert_eq!(s.disk, DiskState::Diskless);
    }

    #[test]
    fn disk_numbers_differ_between_generations() {
        let v84 = [
            DiskState::Diskless,
            DiskState::Attaching,
            DiskState::Failed,
            DiskState::Negotiating,
            DiskState::Inconsistent,
            DiskState::Outdated,
            DiskState::DUnknown,
            DiskState::Consistent,
            DiskState::UpToDate,
        ];
        for (raw, want) in v84.into_iter().enumerate() {
            assert_eq!(
                DiskState::from_raw(API_V84, u32::try_from(raw).unwrap()),
                want,
                "8.4 {raw}"
            );
        }
        let v9 = [
            DiskState::Diskless,
            DiskState::Attaching,
            DiskState::Detaching,
            DiskState::Failed,
            DiskState::Negotiating,
            DiskState::Inconsistent,
            DiskState::Outdated,
            DiskState::DUnknown,
            DiskState::Consistent,
            DiskState::UpToDate,
        ];
        for (raw, want) in v9.into_iter().enumerate() {
            assert_eq!(
                DiskState::from_raw(API_V9, u32::try_from(raw).unwrap()),
                want,
                "9 {raw}"
            );
        }
    }

    #[test]
    fn resource_role_is_the_highest_volume_role_but_primary_means_every_volume() {
        let rows = [
            StatusRow84 {
                minor: 1,
                volume: 0,
                state: word(2, 1, 10, 8, 8),
            },
            StatusRow84 {
                minor: 2,
                volume: 1,
                state: word(1, 1, 10, 8, 8),
            },
        ];
        let st = status_from_84("r0", &rows, None);
        let peer_volumes = |disk| {
            vec![
                PeerVolume::new(0, disk, ReplState::Established),
                PeerVolume::new(1, disk, ReplState::Established),
            ]
        };
        assert_eq!(
            st,
            ResourceStatus::new(
                "r0",
                API_V84,
                vec![
                    Volume::new(0, 1, Role::Secondary, DiskState::UpToDate),
                    Volume::new(1, 2, Role::Primary, DiskState::UpToDate),
                ],
                vec![Peer::new(
                    "",
                    ConnState::Connected,
                    Role::Primary,
                    peer_volumes(DiskState::UpToDate)
                )],
            )
        );
        assert_eq!(st.role, Role::Primary, "the kernel's highest role");
        assert!(st.any_primary());
        assert!(!st.all_primary(), "minor 1 is still Secondary");
        assert_eq!(st.minors(), [1, 2]);
        assert_eq!(st.minors_where(false), [1]);
        assert_eq!(st.minors_where(true), [2]);
        assert!(st.any_peer_primary());
        assert!(st.any_peer_connected());
        assert!(st.all_disks(DiskState::UpToDate));
        assert_eq!(
            st.summary(),
            "r0 Primary only in part (minor 1 Secondary, minor 2 Primary) UpToDate,UpToDate; \
             peer Connected Primary UpToDate,UpToDate"
        );
        let both = status_from_84(
            "r0",
            &[
                rows[1],
                StatusRow84 {
                    minor: 1,
                    ..rows[1]
                },
            ],
            None,
        );
        assert!(both.all_primary());
        assert_eq!(
            both.summary(),
            "r0 Primary UpToDate,UpToDate; peer Connected Primary UpToDate,UpToDate"
        );
    }
}
