//! Wire-format tests. Every fixture below is DERIVED BY HAND from the kernel headers
//! (linux-headers-6.1 `drbd_genl.h`, `drbd_genl_api.h`, `genl_magic_struct.h`, `drbd.h`,
//! and the reply layout of `drivers/block/drbd/drbd_nl.c`), not captured from a kernel.
//! Bytes captured from the lab's real kernel are tested beside these, in `lab_fixtures.rs`.

use crate::api::{self, API_V9, API_V84, NO_MINOR, cmd, tla};
use crate::decode::{self, Dumps9};
use crate::message::{self, Attr, DrbdMsg, Reply, encode, parse_replies};
use crate::state::{
    ConnState, DiskState, Peer, PeerVolume, ReplState, ResourceStatus, Role, Volume,
};
use crate::testing;
use netlink_packet_core::{NLM_F_MULTIPART, NLM_F_REQUEST};

const FAMILY: u16 = 0x1d;

#[test]
fn primary_request_84_bytes() {
    let got = message::role_request(FAMILY, API_V84, 7, true, Some(1), "r0");
    #[rustfmt::skip]
    let want: [u8; 44] = [
        // nlmsghdr: len 44, type = family id 0x1d, flags NLM_F_REQUEST, seq 7, pid 0
        0x2c, 0, 0, 0,  0x1d, 0,  0x01, 0,  7, 0, 0, 0,  0, 0, 0, 0,
        // genlmsghdr: cmd DRBD_ADM_PRIMARY (14), version 1 (8.4's API_VERSION), reserved
        14, 1, 0, 0,
        // drbd_genlmsghdr: minor 1, flags 0
        1, 0, 0, 0,  0, 0, 0, 0,
        // DRBD_NLA_CFG_CONTEXT (2) | NLA_F_NESTED, len 12
        0x0c, 0, 0x02, 0x80,
        //   T_ctx_resource_name = 2 | DRBD_GENLA_F_MANDATORY, len 7, "r0\0" + 1 pad
        0x07, 0, 0x02, 0x40,  b'r', b'0', 0, 0,
        // DRBD_NLA_SET_ROLE_PARMS (6) | NLA_F_NESTED, empty: no --force
        0x04, 0, 0x06, 0x80,
    ];
    assert_eq!(got, want);
}

#[test]
fn secondary_request_9_bytes() {
    let got = message::role_request(FAMILY, API_V9, 8, false, None, "r0");
    #[rustfmt::skip]
    let want: [u8; 44] = [
        0x2c, 0, 0, 0,  0x1d, 0,  0x01, 0,  8, 0, 0, 0,  0, 0, 0, 0,
        // DRBD_ADM_SECONDARY (15), family version 2
        15, 2, 0, 0,
        // minor ~0: the resource is named in the cfg-context
        0xff, 0xff, 0xff, 0xff,  0, 0, 0, 0,
        0x0c, 0, 0x02, 0x80,
        // DRBD 9: ctx_resource_name without the mandatory flag
        0x07, 0, 0x02, 0x00,  b'r', b'0', 0, 0,
        0x04, 0, 0x06, 0x80,
    ];
    assert_eq!(got, want);
}

#[test]
fn get_status_dump_request_84_bytes() {
    let got = message::dump_request(FAMILY, API_V84, 3, cmd::GET_STATUS, "r0");
    #[rustfmt::skip]
    let want: [u8; 40] = [
        // flags NLM_F_REQUEST | NLM_F_DUMP (0x300)
        0x28, 0, 0, 0,  0x1d, 0,  0x01, 0x03,  3, 0, 0, 0,  0, 0, 0, 0,
        // DRBD_ADM_GET_STATUS (2), version 1
        2, 1, 0, 0,
        0xff, 0xff, 0xff, 0xff,  0, 0, 0, 0,
        0x0c, 0, 0x02, 0x80,
        0x07, 0, 0x02, 0x40,  b'r', b'0', 0, 0,
    ];
    assert_eq!(got, want);
}

#[test]
fn get_family_request_bytes() {
    let got = message::get_family_request(1);
    #[rustfmt::skip]
    let want: [u8; 32] = [
        // nlmsghdr: len 32, type GENL_ID_CTRL (0x10), NLM_F_REQUEST, seq 1
        0x20, 0, 0, 0,  0x10, 0,  0x01, 0,  1, 0, 0, 0,  0, 0, 0, 0,
        // CTRL_CMD_GETFAMILY (3), version 2
        3, 2, 0, 0,
        // CTRL_ATTR_FAMILY_NAME (2), len 9, "drbd\0" + 3 pad
        0x09, 0, 0x02, 0,  b'd', b'r', b'b', b'd',  0, 0, 0, 0,
    ];
    assert_eq!(got, want);
}

/// One 8.4 GET_STATUS dump answer (nla_put_status_info, drbd_nl.c) followed by NLMSG_DONE.
#[rustfmt::skip]
const STATUS_84: [u8; 112] = [
    // nlmsghdr: len 92, type 0x1d, NLM_F_MULTI, seq 3, pid 0x1234
    0x5c, 0, 0, 0,  0x1d, 0,  0x02, 0,  3, 0, 0, 0,  0x34, 0x12, 0, 0,
    // genlmsghdr: DRBD_ADM_GET_STATUS, version 1
    2, 1, 0, 0,
    // drbd_genlmsghdr: minor 1, ret_code NO_ERROR (101)
    1, 0, 0, 0,  101, 0, 0, 0,
    // CFG_CONTEXT (nla_nest_start_noflag), len 20
    0x14, 0, 0x02, 0,
    //   T_ctx_volume = 1 | mandatory: u32 0
    0x08, 0, 0x01, 0x40,  0, 0, 0, 0,
    //   T_ctx_resource_name = 2 | mandatory: "r0"
    0x07, 0, 0x02, 0x40,  b'r', b'0', 0, 0,
    // NET_CONF (5) | NLA_F_NESTED, len 12: two_primaries (24) = 1 (u8)
    0x0c, 0, 0x05, 0x80,
    0x05, 0, 0x18, 0,  1, 0, 0, 0,
    // STATE_INFO (8), len 32
    0x20, 0, 0x08, 0,
    //   T_sib_reason = 1 | mandatory: SIB_GET_STATUS_REPLY (1)
    0x08, 0, 0x01, 0x40,  1, 0, 0, 0,
    //   T_current_state = 2: role Primary, peer Primary, conn Connected (10),
    //   disk UpToDate (8), pdsk UpToDate (8) = 0x000110a5
    0x08, 0, 0x02, 0,  0xa5, 0x10, 0x01, 0,
    //   T_capacity = 3 | mandatory: u64 1048576 sectors
    0x0c, 0, 0x03, 0x40,  0, 0, 0x10, 0, 0, 0, 0, 0,
    // NLMSG_DONE: len 20, type 3, NLM_F_MULTI, seq 3, pid 0x1234, int 0
    0x14, 0, 0, 0,  0x03, 0,  0x02, 0,  3, 0, 0, 0,  0x34, 0x12, 0, 0,
    0, 0, 0, 0,
];

#[test]
fn get_status_reply_84_decodes() {
    let replies = parse_replies(&STATUS_84).unwrap();
    assert_eq!(replies.len(), 2);
    assert_eq!(replies[1], Reply::Done { seq: 3 });
    let Reply::Drbd { seq: 3, msg } = &replies[0] else {
        panic!("{replies:?}")
    };
    assert_eq!((msg.cmd, msg.version, msg.minor), (cmd::GET_STATUS, 1, 1));
    assert_eq!(msg.ret_code(), api::NO_ERROR);
    assert_eq!(decode::resource_name(msg).unwrap().as_deref(), Some("r0"));
    let net = msg.tla(tla::NET_CONF).unwrap().unwrap();
    assert!(
        message::find(&net, api::net_conf::TWO_PRIMARIES)
            .unwrap()
            .flag()
    );
    let row = decode::row_84(msg).unwrap().unwrap();
    assert_eq!((row.minor, row.volume, row.state), (1, 0, 0x0001_10a5));
    assert_eq!(decode::two_primaries(msg).unwrap(), Some(true));
    let st = crate::state::status_from_84("r0", &[row], Some(true));
    assert_eq!(
        st,
        ResourceStatus {
            two_primaries: Some(true),
            ..testing::connected(
                Role::Primary,
                DiskState::UpToDate,
                Role::Primary,
                DiskState::UpToDate
            )
        }
    );
}

/// The answer to a PRIMARY for a minor the kernel does not have (drbd_adm_prepare):
/// our cfg-context copied back, then CFG_REPLY with the reason.
#[rustfmt::skip]
const UNKNOWN_MINOR_84: [u8; 64] = [
    // nlmsghdr: len 64, type 0x1d, flags 0, seq 7
    0x40, 0, 0, 0,  0x1d, 0,  0, 0,  7, 0, 0, 0,  0x34, 0x12, 0, 0,
    14, 1, 0, 0,
    // minor 9, ret_code ERR_MINOR_INVALID (127)
    9, 0, 0, 0,  127, 0, 0, 0,
    // our CFG_CONTEXT, copied as sent (nla_put_nohdr)
    0x0c, 0, 0x02, 0x80,  0x07, 0, 0x02, 0x40,  b'r', b'0', 0, 0,
    // CFG_REPLY (1), len 24: T_info_text = 1 | mandatory, len 18, "unknown minor\0" + 2 pad
    0x18, 0, 0x01, 0,
    0x12, 0, 0x01, 0x40,
    b'u', b'n', b'k', b'n', b'o', b'w', b'n', b' ', b'm', b'i', b'n', b'o', b'r', 0, 0, 0,
];

#[test]
fn refusal_reply_carries_code_and_text() {
    let replies = parse_replies(&UNKNOWN_MINOR_84).unwrap();
    let [Reply::Drbd { seq: 7, msg }] = replies.as_slice() else {
        panic!("{replies:?}")
    };
    assert_eq!(msg.ret_code(), api::ERR_MINOR_INVALID);
    assert!(!api::state_rv_ok(msg.ret_code()));
    assert_eq!(msg.info_text().as_deref(), Some("unknown minor"));
    assert_eq!(crate::socket::refusal_text(msg.ret_code()), "unknown minor");
}

#[test]
fn state_change_results() {
    assert!(api::state_rv_ok(1) && api::state_rv_ok(2) && api::state_rv_ok(api::NO_ERROR));
    assert!(!api::state_rv_ok(-2));
    assert_eq!(api::state_rv_text(-2), "need access to UpToDate data");
    assert!(
        !api::state_rv_transient(-2),
        "no UpToDate data: retrying cannot help"
    );
    assert!(
        api::state_rv_transient(-19),
        "a concurrent change may pass next time"
    );
    assert_eq!(
        crate::socket::refusal_text(-12),
        "device is held open by someone"
    );
}

#[test]
fn errno_and_ack_messages() {
    #[rustfmt::skip]
    let buf: [u8; 56] = [
        // NLMSG_ERROR (2), seq 5, error -ENODEV (-19), then the request's 16-byte header
        0x24, 0, 0, 0,  0x02, 0,  0, 0,  5, 0, 0, 0,  0, 0, 0, 0,
        0xed, 0xff, 0xff, 0xff,
        0x28, 0, 0, 0,  0x1d, 0,  0x01, 0x03,  5, 0, 0, 0,  0, 0, 0, 0,
        // NLMSG_ERROR with 0: an ACK, seq 6
        0x14, 0, 0, 0,  0x02, 0,  0, 0,  6, 0, 0, 0,  0, 0, 0, 0,
        0, 0, 0, 0,
    ];
    let replies = parse_replies(&buf).unwrap();
    assert_eq!(
        replies,
        [Reply::Errno { seq: 5, errno: -19 }, Reply::Ack { seq: 6 }]
    );
    assert!(parse_replies(&buf[..30]).is_err(), "truncated");
}

fn row(cmd: u8, minor: u32, attrs: Vec<Attr>) -> DrbdMsg {
    DrbdMsg {
        cmd,
        version: 2,
        minor,
        flags_or_ret: api::NO_ERROR,
        attrs,
    }
}

fn u32_attr(kind: u16, v: u32) -> Attr {
    Attr {
        kind,
        value: v.to_ne_bytes().to_vec(),
    }
}

fn flag_attr(kind: u16, v: bool) -> Attr {
    Attr {
        kind,
        value: vec![u8::from(v)],
    }
}

fn ctx9(volume: Option<u32>, peer: Option<(u32, &str)>) -> Attr {
    use api::cfg_context as c;
    let mut f = Vec::new();
    if let Some(v) = volume {
        f.push(u32_attr(c::VOLUME, v));
    }
    f.push(Attr::string(c::RESOURCE_NAME, "r0"));
    if let Some((node, name)) = peer {
        f.push(u32_attr(c::PEER_NODE_ID, node));
        f.push(Attr::string(c::CONN_NAME, name));
    }
    Attr::nested(tla::CFG_CONTEXT, &f)
}

/// DRBD 9 dumps, built with the encoder and sent through the decoder (numbers from
/// drbd-headers' drbd.h: D_UP_TO_DATE = 9, D_INCONSISTENT = 5, C_CONNECTED = 9,
/// L_ESTABLISHED = 10, L_SYNC_TARGET = 17).
fn dumps9(peer_role: u32, conn: u32) -> Dumps9 {
    use api::{connection_info as ci, device_info as di, peer_device_info as pi};
    let through_wire = |m: DrbdMsg| {
        let bytes = encode(FAMILY, 4, NLM_F_REQUEST | NLM_F_MULTIPART, m);
        match parse_replies(&bytes).unwrap().remove(0) {
            Reply::Drbd { msg, .. } => msg,
            other => panic!("{other:?}"),
        }
    };
    Dumps9 {
        resources: vec![through_wire(row(
            cmd::GET_RESOURCES,
            NO_MINOR,
            vec![
                ctx9(None, None),
                Attr::nested(tla::RESOURCE_INFO, &[u32_attr(api::resource_info::ROLE, 2)]),
            ],
        ))],
        devices: vec![through_wire(row(
            cmd::GET_DEVICES,
            1,
            vec![
                ctx9(Some(0), None),
                Attr::nested(
                    tla::DEVICE_INFO,
                    &[
                        u32_attr(di::DISK_STATE, 5),
                        flag_attr(di::IS_INTENTIONAL_DISKLESS, false),
                        flag_attr(di::HAS_QUORUM, true),
                    ],
                ),
            ],
        ))],
        connections: vec![through_wire(row(
            cmd::GET_CONNECTIONS,
            NO_MINOR,
            vec![
                ctx9(None, Some((1, "node2"))),
                Attr::nested(
                    tla::CONNECTION_INFO,
                    &[
                        u32_attr(ci::CONNECTION_STATE, conn),
                        u32_attr(ci::ROLE, peer_role),
                    ],
                ),
            ],
        ))],
        peer_devices: vec![through_wire(row(
            cmd::GET_PEER_DEVICES,
            1,
            vec![
                ctx9(Some(0), Some((1, "node2"))),
                Attr::nested(
                    tla::PEER_DEVICE_INFO,
                    &[u32_attr(pi::REPL_STATE, 17), u32_attr(pi::DISK_STATE, 9)],
                ),
            ],
        ))],
    }
}

#[test]
fn drbd9_dumps_join_into_one_status() {
    let st = decode::status_from_9("r0", &dumps9(1, 9)).unwrap().unwrap();
    assert_eq!(
        st,
        ResourceStatus::new(
            "r0",
            API_V9,
            vec![Volume::new(0, 1, Role::Secondary, DiskState::Inconsistent)],
            vec![Peer::new(
                "node2",
                ConnState::Connected,
                Role::Primary,
                vec![PeerVolume::new(
                    0,
                    DiskState::UpToDate,
                    ReplState::SyncTarget
                )]
            )],
        )
    );
    let down = decode::status_from_9("r0", &dumps9(0, 8)).unwrap().unwrap();
    assert_eq!(down.peers[0].conn, ConnState::Connecting);
    assert_eq!(down.peers[0].role, Role::Unknown);
}

#[test]
fn drbd9_unknown_resource_is_none() {
    let mut d = dumps9(1, 9);
    d.resources[0].flags_or_ret = api::ERR_RES_NOT_KNOWN;
    assert_eq!(decode::status_from_9("r0", &d).unwrap(), None);
    assert_eq!(
        decode::status_from_9("r0", &Dumps9::default()).unwrap(),
        None
    );
}

#[test]
fn errors_read_as_administrators_know_them() {
    use crate::socket::Error;
    let io = Error::Io {
        op: "socket(NETLINK_GENERIC)",
        source: std::io::Error::from_raw_os_error(1),
    };
    assert_eq!(
        io.to_string(),
        "socket(NETLINK_GENERIC): Operation not permitted"
    );
    let kernel = Error::Kernel {
        op: "reading the DRBD status",
        errno: 19,
    };
    assert_eq!(
        kernel.to_string(),
        "reading the DRBD status: the kernel answered: No such device"
    );
    let refused = Error::Refused {
        op: "primary",
        resource: "r0".into(),
        code: -2,
        text: crate::socket::refusal_text(-2),
        info: None,
    };
    assert_eq!(
        refused.to_string(),
        "primary r0: refused by the kernel (-2: need access to UpToDate data)"
    );
    for e in [io, kernel, refused] {
        assert!(!e.to_string().contains("os error"), "{e}");
    }
}

#[test]
fn down_request_84_bytes() {
    let got = message::down_request(FAMILY, API_V84, 9, "r0");
    #[rustfmt::skip]
    let want: [u8; 40] = [
        // nlmsghdr: len 40, family 0x1d, NLM_F_REQUEST (a .doit: no NLM_F_DUMP), seq 9
        0x28, 0, 0, 0,  0x1d, 0,  0x01, 0,  9, 0, 0, 0,  0, 0, 0, 0,
        // DRBD_ADM_DOWN (27), version 1
        27, 1, 0, 0,
        // minor ~0: the resource is named in the cfg-context (DRBD_ADM_NEED_RESOURCE)
        0xff, 0xff, 0xff, 0xff,  0, 0, 0, 0,
        0x0c, 0, 0x02, 0x80,
        0x07, 0, 0x02, 0x40,  b'r', b'0', 0, 0,
    ];
    assert_eq!(got, want);
    // The lab-proven GET_STATUS dump request is the same message with another command and
    // NLM_F_DUMP: only those bytes differ.
    let dump = message::dump_request(FAMILY, API_V84, 9, cmd::GET_STATUS, "r0");
    let differ: Vec<usize> = (0..40).filter(|i| got[*i] != dump[*i]).collect();
    assert_eq!(differ, [7, 16], "flags' high byte and the command");
    let v9 = message::down_request(FAMILY, API_V9, 9, "r0");
    assert_eq!(
        (v9[16], v9[17], v9[35]),
        (27, 2, 0x00),
        "9: no mandatory flag"
    );
}

/// A DOWN reply (`drbd_adm_finish`): the header's ret_code, the reason in CFG_REPLY.
fn down_reply(code: i32, info: Option<&str>) -> DrbdMsg {
    let mut attrs = vec![message::cfg_context(API_V84, "r0")];
    if let Some(text) = info {
        attrs.push(Attr::nested(
            tla::CFG_REPLY,
            &[Attr::string(api::cfg_reply::INFO_TEXT, text)],
        ));
    }
    let bytes = encode(
        FAMILY,
        9,
        0,
        DrbdMsg {
            cmd: cmd::DOWN,
            version: 1,
            minor: NO_MINOR,
            flags_or_ret: code,
            attrs,
        },
    );
    match parse_replies(&bytes).unwrap().remove(0) {
        Reply::Drbd { msg, .. } => msg,
        other => panic!("{other:?}"),
    }
}

#[test]
fn down_is_done_refused_held_open_or_already_down() {
    use crate::socket::{Error, down_outcome};
    assert!(down_outcome("r0", &down_reply(api::NO_ERROR, None)).is_ok());
    assert!(
        down_outcome(
            "r0",
            &down_reply(api::ERR_RES_NOT_KNOWN, Some("unknown resource"))
        )
        .is_ok(),
        "a resource the kernel does not know is down"
    );
    let e = down_outcome("r0", &down_reply(-12, Some("failed to demote"))).unwrap_err();
    assert!(matches!(e, Error::Refused { code: -12, .. }), "{e:?}");
    assert_eq!(e.refusal_code(), Some(-12));
    assert_eq!(
        e.to_string(),
        "down r0: refused by the kernel (-12: device is held open by someone; failed to demote)"
    );
}
