//! Tests on bytes captured from the lab's real kernel (DRBD 8.4.11 in Linux 6.1), next to the
//! derived fixtures of `tests.rs`: our requests must equal what we sent there byte for byte,
//! and the kernel's answers must decode to what /proc/drbd showed at the time.
//! See fixtures/lab-drbd-8.4.11/README.md.

use crate::api::{self, API_V84, cmd};
use crate::decode;
use crate::message::{self, DrbdMsg, Reply, parse_replies};
use crate::state::{ConnState, DiskState, ResourceStatus, Role};
use netlink_packet_core::{NetlinkMessage, NetlinkPayload};
use netlink_packet_generic::GenlMessage;
use netlink_packet_generic::ctrl::GenlCtrl;
use netlink_packet_generic::ctrl::nlas::GenlCtrlAttrs;

const STATUS: &str = include_str!("../fixtures/lab-drbd-8.4.11/status-wwwdata.hex");
const PRIMARY: &str = include_str!("../fixtures/lab-drbd-8.4.11/primary.hex");
const SECONDARY: &str = include_str!("../fixtures/lab-drbd-8.4.11/secondary.hex");
const REFUSED: &str = include_str!("../fixtures/lab-drbd-8.4.11/refused-primary.hex");

/// (sent?, bytes) per captured datagram.
fn datagrams(text: &str) -> Vec<(bool, Vec<u8>)> {
    text.lines()
        .map(|l| {
            let (dir, hex) = l.split_once(' ').unwrap();
            let bytes = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect();
            (dir == "send", bytes)
        })
        .collect()
}

fn family_and_seq(req: &[u8]) -> (u16, u32) {
    (
        u16::from_ne_bytes([req[4], req[5]]),
        u32::from_ne_bytes([req[8], req[9], req[10], req[11]]),
    )
}

/// The sent request whose genl command is `cmd`, and every DRBD message answering it.
fn exchange(text: &str, command: u8) -> (Vec<u8>, Vec<DrbdMsg>, bool) {
    let grams = datagrams(text);
    let at = grams
        .iter()
        .position(|(sent, b)| *sent && b[16] == command)
        .unwrap();
    let req = grams[at].1.clone();
    let (_, seq) = family_and_seq(&req);
    let mut msgs = Vec::new();
    let mut done = false;
    for (_, b) in grams[at + 1..].iter().take_while(|(sent, _)| !sent) {
        for reply in parse_replies(b).unwrap() {
            assert_eq!(reply.seq(), seq);
            match reply {
                Reply::Drbd { msg, .. } => msgs.push(msg),
                Reply::Done { .. } => done = true,
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    (req, msgs, done)
}

#[test]
fn lab_family_answer_names_drbd_84() {
    let grams = datagrams(STATUS);
    assert!(grams[0].0 && !grams[1].0);
    let (_, seq) = family_and_seq(&grams[0].1);
    assert_eq!(grams[0].1, message::get_family_request(seq));
    let (family, _) = family_and_seq(&grams[2].1);
    let msg = NetlinkMessage::<GenlMessage<GenlCtrl>>::deserialize(&grams[1].1).unwrap();
    let NetlinkPayload::InnerMessage(genl) = msg.payload else {
        panic!("{:?}", msg.payload)
    };
    let id = genl.payload.nlas.iter().find_map(|n| match n {
        GenlCtrlAttrs::FamilyId(id) => Some(*id),
        _ => None,
    });
    let version = genl.payload.nlas.iter().find_map(|n| match n {
        GenlCtrlAttrs::Version(v) => Some(*v),
        _ => None,
    });
    assert_eq!(id, Some(family), "the id our later requests used");
    assert_eq!(version, Some(API_V84));
}

#[test]
fn lab_status_dump_of_a_dual_primary_resource() {
    let (req, msgs, done) = exchange(STATUS, cmd::GET_STATUS);
    let (family, seq) = family_and_seq(&req);
    assert_eq!(
        req,
        message::dump_request(family, API_V84, seq, cmd::GET_STATUS, "wwwdata")
    );
    assert!(done, "the dump ends with NLMSG_DONE");
    let [m] = msgs.as_slice() else {
        panic!("{msgs:?}")
    };
    assert_eq!((m.cmd, m.minor), (cmd::GET_STATUS, 1));
    assert_eq!(
        decode::resource_name(m).unwrap().as_deref(),
        Some("wwwdata")
    );
    let two = decode::two_primaries(m).unwrap();
    assert_eq!(two, Some(true), "wwwdata.res: allow-two-primaries yes");
    let row = decode::row_84(m).unwrap().unwrap();
    assert_eq!((row.minor, row.volume), (1, 0));
    // /proc/drbd at the time: cs:Connected ro:Primary/Primary ds:UpToDate/UpToDate
    let st = crate::state::status_from_84("wwwdata", &[row], two);
    let proc_drbd = crate::testing::status(
        "wwwdata",
        &[(1, Role::Primary, DiskState::UpToDate)],
        Some((ConnState::Connected, Role::Primary, DiskState::UpToDate)),
    );
    assert_eq!(
        st,
        ResourceStatus {
            two_primaries: Some(true),
            ..proc_drbd
        }
    );
}

#[test]
fn lab_status_dumps_of_labtest_before_and_after_the_refusal() {
    // Both dumps of refused-primary.hex: Secondary, Inconsistent, peer not connected.
    let grams = datagrams(REFUSED);
    let mut seen = 0;
    for (i, (sent, b)) in grams.iter().enumerate() {
        if !*sent || b[16] != cmd::GET_STATUS {
            continue;
        }
        let (family, seq) = family_and_seq(b);
        assert_eq!(
            *b,
            message::dump_request(family, API_V84, seq, cmd::GET_STATUS, "labtest")
        );
        let Reply::Drbd { msg, .. } = parse_replies(&grams[i + 1].1).unwrap().remove(0) else {
            panic!("no DRBD message after the dump request")
        };
        let row = decode::row_84(&msg).unwrap().unwrap();
        assert_eq!(row.minor, 2);
        let st = crate::state::status_from_84("labtest", &[row], None);
        // The peer never connected: waiting for it, its role and disk unknown.
        assert_eq!(
            st,
            crate::testing::status(
                "labtest",
                &[(2, Role::Secondary, DiskState::Inconsistent)],
                None
            )
        );
        seen += 1;
    }
    assert_eq!(seen, 2);
}

fn role_exchange(text: &str, primary: bool) -> DrbdMsg {
    let command = if primary {
        cmd::PRIMARY
    } else {
        cmd::SECONDARY
    };
    let (req, msgs, _) = exchange(text, command);
    let (family, seq) = family_and_seq(&req);
    assert_eq!(
        req,
        message::role_request(family, API_V84, seq, primary, Some(2), "labtest"),
        "our request, byte for byte"
    );
    let [m] = msgs.as_slice() else {
        panic!("{msgs:?}")
    };
    assert_eq!((m.cmd, m.minor), (command, 2));
    m.clone()
}

#[test]
fn lab_primary_and_secondary_accepted() {
    for (text, primary) in [(PRIMARY, true), (SECONDARY, false)] {
        let m = role_exchange(text, primary);
        assert!(api::state_rv_ok(m.ret_code()), "ret_code {}", m.ret_code());
        assert_eq!(m.info_text(), None);
    }
}

#[test]
fn lab_primary_refused_for_inconsistent_data() {
    let m = role_exchange(REFUSED, true);
    // SS_NO_UP_TO_DATE_DISK, no info text from 8.4.
    assert_eq!(m.ret_code(), -2);
    assert!(!api::state_rv_ok(m.ret_code()));
    assert!(!api::state_rv_transient(m.ret_code()));
    assert_eq!(
        crate::socket::refusal_text(m.ret_code()),
        "need access to UpToDate data"
    );
    assert_eq!(m.info_text(), None);
}
