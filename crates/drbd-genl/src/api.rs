//! The numbers of DRBD's generic netlink family, as the kernel headers define them.
//!
//! DRBD 8.4 (the in-tree module, `version: 8.4.11 (api:1/proto:86-101)`):
//! `include/linux/drbd_genl.h`, `drbd_genl_api.h`, `genl_magic_struct.h` and `drbd.h` of
//! linux-headers-6.1. DRBD 9: `linux/drbd_genl.h` and `linux/drbd.h` of LINBIT's
//! drbd-headers (family version 2). Where the two differ, the constant says so.

/// The family name both generations register with the genl controller.
pub const FAMILY_NAME: &str = "drbd";

/// `GENL_MAGIC_VERSION` of DRBD 8.4 (`API_VERSION` 1).
pub const API_V84: u32 = 1;
/// `GENL_MAGIC_VERSION` of DRBD 9.
pub const API_V9: u32 = 2;

/// `sizeof(struct drbd_genlmsghdr)`: `__u32 minor; union { __u32 flags; __s32 ret_code; }`.
pub const DRBD_HDR_LEN: usize = 8;

/// The minor that means "no minor: look at the cfg-context" (`~0`).
pub const NO_MINOR: u32 = u32::MAX;

/// `DRBD_GENLA_F_MANDATORY` (genl_magic_struct.h): set by DRBD 8.4 user space in the type of
/// fields declared mandatory; the kernel strips it. DRBD 9's current headers declare no
/// field mandatory. It is the same bit as `NLA_F_NET_BYTEORDER`, so decoding masks it.
pub const F_MANDATORY: u16 = 1 << 14;

/// Commands (`genlmsghdr.cmd`).
pub mod cmd {
    /// `DRBD_ADM_GET_STATUS` (8.4: `.doit` for one minor, `.dumpit` for a resource).
    pub const GET_STATUS: u8 = 2;
    /// `DRBD_ADM_PRIMARY`.
    pub const PRIMARY: u8 = 14;
    /// `DRBD_ADM_SECONDARY`.
    pub const SECONDARY: u8 = 15;
    /// `DRBD_ADM_DOWN`: demote, disconnect, detach and delete the resource (8.4 and 9).
    pub const DOWN: u8 = 27;
    /// `DRBD_ADM_GET_RESOURCES` (dump).
    pub const GET_RESOURCES: u8 = 30;
    /// `DRBD_ADM_GET_DEVICES` (dump).
    pub const GET_DEVICES: u8 = 31;
    /// `DRBD_ADM_GET_CONNECTIONS` (dump).
    pub const GET_CONNECTIONS: u8 = 32;
    /// `DRBD_ADM_GET_PEER_DEVICES` (dump).
    pub const GET_PEER_DEVICES: u8 = 33;
}

/// Top-level attributes (all nested: one per kernel struct).
pub mod tla {
    pub const CFG_REPLY: u16 = 1;
    pub const CFG_CONTEXT: u16 = 2;
    pub const NET_CONF: u16 = 5;
    pub const SET_ROLE_PARMS: u16 = 6;
    /// 8.4 only (`DRBD_NLA_STATE_INFO`, the GET_STATUS answer).
    pub const STATE_INFO: u16 = 8;
    pub const RESOURCE_INFO: u16 = 15;
    pub const DEVICE_INFO: u16 = 16;
    pub const CONNECTION_INFO: u16 = 17;
    pub const PEER_DEVICE_INFO: u16 = 18;
}

/// Fields of `drbd_cfg_reply`.
pub mod cfg_reply {
    pub const INFO_TEXT: u16 = 1;
}

/// Fields of `drbd_cfg_context`.
pub mod cfg_context {
    pub const VOLUME: u16 = 1;
    pub const RESOURCE_NAME: u16 = 2;
    /// DRBD 9 only.
    pub const CONN_NAME: u16 = 5;
    /// DRBD 9 only.
    pub const PEER_NODE_ID: u16 = 6;
}

/// Fields of `state_info` (8.4).
pub mod state_info {
    pub const SIB_REASON: u16 = 1;
    /// `union drbd_state` as a u32.
    pub const CURRENT_STATE: u16 = 2;
}

/// Fields of `net_conf`.
pub mod net_conf {
    /// `two_primaries`, a flag (u8): `allow-two-primaries`.
    pub const TWO_PRIMARIES: u16 = 24;
}

/// Fields of `resource_info`.
pub mod resource_info {
    pub const ROLE: u16 = 1;
}

/// Fields of `device_info`.
pub mod device_info {
    pub const DISK_STATE: u16 = 1;
    /// DRBD 9 only.
    pub const IS_INTENTIONAL_DISKLESS: u16 = 2;
    /// DRBD 9 only.
    pub const HAS_QUORUM: u16 = 3;
}

/// Fields of `connection_info`.
pub mod connection_info {
    pub const CONNECTION_STATE: u16 = 1;
    /// The peer's role.
    pub const ROLE: u16 = 2;
}

/// Fields of `peer_device_info`.
pub mod peer_device_info {
    pub const REPL_STATE: u16 = 1;
    pub const DISK_STATE: u16 = 2;
}

/// `enum drbd_ret_code`: `NO_ERROR`, the success of a configuration request.
pub const NO_ERROR: i32 = 101;
/// `ERR_RES_NOT_KNOWN`.
pub const ERR_RES_NOT_KNOWN: i32 = 158;
/// `ERR_MINOR_INVALID`.
pub const ERR_MINOR_INVALID: i32 = 127;

/// Bit layout of 8.4's `union drbd_state` on little-endian machines (`drbd.h`):
/// role:2, peer:2, conn:5, disk:4, pdsk:4, susp:1, aftr_isp:1, peer_isp:1, user_isp:1,
/// susp_nod:1, susp_fen:1. Big-endian machines mirror it; DRBD 8.4 is only run here on
/// little-endian ones, and `from_state_word` says so.
pub mod state_bits {
    pub const ROLE: (u32, u32) = (0, 2);
    pub const PEER: (u32, u32) = (2, 2);
    pub const CONN: (u32, u32) = (4, 5);
    pub const DISK: (u32, u32) = (9, 4);
    pub const PDSK: (u32, u32) = (13, 4);
    pub const SUSP: (u32, u32) = (17, 1);

    /// The field at `(shift, width)` of a state word.
    pub fn field(word: u32, (shift, width): (u32, u32)) -> u32 {
        (word >> shift) & ((1 << width) - 1)
    }
}

/// The text drbdsetup prints for a state-change refusal (`enum drbd_state_rv`), so the exit
/// reason reads as administrators know it from `drbdadm primary`.
pub fn state_rv_text(code: i32) -> &'static str {
    match code {
        1..=4 => "success",
        0 => "unknown error",
        -1 => "multiple primaries not allowed by config",
        -2 => "need access to UpToDate data",
        -4 => "can not resync a non-existent local disk",
        -5 => "refusing to be primary without a peer disk",
        -6 => "refusing to be outdated while connected",
        -7 => "refusing to be primary while peer is not outdated",
        -8 => "can not start or stop a resync while one is running",
        -9 => "can not disconnect a standalone device",
        -10 => "state change was refused by peer node",
        -11 => "device is diskless, the requested operation requires a disk",
        -12 => "device is held open by someone",
        -13 => "have no net/connection configuration",
        -14 => "need a verify algorithm to start online verify",
        -15 => "need a connection to start verify or resync",
        -16 => "disk state is lower than outdated",
        -17 => "peer does not support protocol",
        -18 => "in transient state, retry after next state change",
        -19 => "concurrent state changes detected and aborted",
        -20 => "another volume of the resource is primary on the peer",
        -21 => "interrupted state change (DRBD 9) or outdate without connection (8.4)",
        -22 => "primary nodes must be connected (DRBD 9)",
        -23 => "timeout in operation (DRBD 9)",
        -24 => "weakly connected (DRBD 9)",
        -25 => "no quorum (DRBD 9)",
        _ => "unknown state change result",
    }
}

/// True for the `enum drbd_state_rv` values that mean the change was made (or not needed).
pub fn state_rv_ok(code: i32) -> bool {
    (1..=4).contains(&code) || code == NO_ERROR
}

/// True for refusals that a later retry may overcome (a transient or concurrent state
/// change, a peer being slow to be seen dead), as opposed to a refusal on the data itself.
pub fn state_rv_transient(code: i32) -> bool {
    matches!(code, 0 | -1 | -7 | -10 | -18 | -19 | -21 | -23)
}
