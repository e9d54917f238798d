//! From dump rows to a [`ResourceStatus`]: 8.4's `GET_STATUS` rows, or 9's four dumps
//! (resources, devices, connections, peer devices) joined on volume and peer node id.

use crate::api::{
    self, API_V9, NO_MINOR, cfg_context, connection_info, device_info, peer_device_info,
    resource_info, state_info, tla,
};
use crate::message::{Attr, DrbdMsg, find};
use crate::state::{
    ConnState, DiskState, Peer, PeerVolume, ReplState, ResourceStatus, Role, StatusRow84, Volume,
};
use netlink_packet_core::DecodeError;

fn missing(what: &str) -> DecodeError {
    DecodeError::from(format!("DRBD reply without {what}"))
}

fn field_u32(fields: &[Attr], kind: u16) -> Option<u32> {
    find(fields, kind).and_then(Attr::u32)
}

/// One 8.4 `GET_STATUS` dump message as a row; None for a resource without volumes
/// (minor `~0`, no state).
pub fn row_84(msg: &DrbdMsg) -> Result<Option<StatusRow84>, DecodeError> {
    if msg.minor == NO_MINOR {
        return Ok(None);
    }
    let ctx = msg.tla(tla::CFG_CONTEXT)?.unwrap_or_default();
    let info = msg
        .tla(tla::STATE_INFO)?
        .ok_or_else(|| missing("state_info"))?;
    let state =
        field_u32(&info, state_info::CURRENT_STATE).ok_or_else(|| missing("current_state"))?;
    Ok(Some(StatusRow84 {
        minor: msg.minor,
        volume: field_u32(&ctx, cfg_context::VOLUME).unwrap_or(0),
        state,
    }))
}

/// The `allow-two-primaries` flag of the net options in a message, if it carries them.
pub fn two_primaries(msg: &DrbdMsg) -> Result<Option<bool>, DecodeError> {
    Ok(msg
        .tla(tla::NET_CONF)?
        .and_then(|f| find(&f, api::net_conf::TWO_PRIMARIES).map(Attr::flag)))
}

/// The resource name in a message's cfg-context.
pub fn resource_name(msg: &DrbdMsg) -> Result<Option<String>, DecodeError> {
    let ctx = msg.tla(tla::CFG_CONTEXT)?.unwrap_or_default();
    Ok(find(&ctx, cfg_context::RESOURCE_NAME).map(Attr::str))
}

/// The four DRBD 9 dumps of one resource.
#[derive(Debug, Default, Clone)]
pub struct Dumps9 {
    pub resources: Vec<DrbdMsg>,
    pub devices: Vec<DrbdMsg>,
    pub connections: Vec<DrbdMsg>,
    pub peer_devices: Vec<DrbdMsg>,
}

/// Join DRBD 9's dumps into one status. None when the resource dump names no resource
/// (the kernel answered `ERR_RES_NOT_KNOWN`, or nothing).
pub fn status_from_9(name: &str, dumps: &Dumps9) -> Result<Option<ResourceStatus>, DecodeError> {
    let ok = |m: &&DrbdMsg| m.ret_code() == api::NO_ERROR;
    let Some(res) = dumps.resources.iter().find(ok) else {
        return Ok(None);
    };
    let info = res
        .tla(tla::RESOURCE_INFO)?
        .ok_or_else(|| missing("resource_info"))?;
    let role = Role::from_raw(field_u32(&info, resource_info::ROLE).unwrap_or(0));

    let mut volumes = Vec::new();
    for dev in dumps.devices.iter().filter(ok) {
        let ctx = dev.tla(tla::CFG_CONTEXT)?.unwrap_or_default();
        let info = dev
            .tla(tla::DEVICE_INFO)?
            .ok_or_else(|| missing("device_info"))?;
        // DRBD 9 has one role per resource: every volume has it.
        volumes.push(Volume {
            intentional_diskless: find(&info, device_info::IS_INTENTIONAL_DISKLESS)
                .is_some_and(Attr::flag),
            // Older DRBD 9 modules do not report quorum: no attribute means quorate.
            has_quorum: find(&info, device_info::HAS_QUORUM).is_none_or(Attr::flag),
            ..Volume::new(
                field_u32(&ctx, cfg_context::VOLUME).unwrap_or(0),
                dev.minor,
                role,
                DiskState::from_raw(
                    API_V9,
                    field_u32(&info, device_info::DISK_STATE).unwrap_or(0),
                ),
            )
        });
    }

    let mut peers = Vec::new();
    for conn in dumps.connections.iter().filter(ok) {
        let ctx = conn.tla(tla::CFG_CONTEXT)?.unwrap_or_default();
        let node = field_u32(&ctx, cfg_context::PEER_NODE_ID);
        let info = conn
            .tla(tla::CONNECTION_INFO)?
            .ok_or_else(|| missing("connection_info"))?;
        let mut peer = Peer {
            name: find(&ctx, cfg_context::CONN_NAME)
                .map(Attr::str)
                .unwrap_or_default(),
            conn: ConnState::from_raw_v9(
                field_u32(&info, connection_info::CONNECTION_STATE).unwrap_or(0),
            ),
            role: Role::from_raw(field_u32(&info, connection_info::ROLE).unwrap_or(0)),
            volumes: Vec::new(),
        };
        for pd in dumps.peer_devices.iter().filter(ok) {
            let pctx = pd.tla(tla::CFG_CONTEXT)?.unwrap_or_default();
            if field_u32(&pctx, cfg_context::PEER_NODE_ID) != node {
                continue;
            }
            let pinfo = pd
                .tla(tla::PEER_DEVICE_INFO)?
                .ok_or_else(|| missing("peer_device_info"))?;
            peer.volumes.push(PeerVolume {
                volume: field_u32(&pctx, cfg_context::VOLUME).unwrap_or(0),
                disk: DiskState::from_raw(
                    API_V9,
                    field_u32(&pinfo, peer_device_info::DISK_STATE).unwrap_or(7),
                ),
                repl: ReplState::from_raw(
                    field_u32(&pinfo, peer_device_info::REPL_STATE).unwrap_or(0),
                ),
            });
        }
        peers.push(peer);
    }
    Ok(Some(ResourceStatus {
        role,
        ..ResourceStatus::new(name, API_V9, volumes, peers)
    }))
}
