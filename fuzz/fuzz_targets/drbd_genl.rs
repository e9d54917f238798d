//! The DRBD generic-netlink decoders of crates/drbd-genl: one `recv()` buffer split into
//! replies (`parse_replies`), then every decoder of a DRBD message (8.4 status rows, net
//! options, resource names, and the DRBD 9 dump join).
#![no_main]

use drbd_genl::decode::{Dumps9, resource_name, row_84, status_from_9, two_primaries};
use drbd_genl::message::{Reply, parse_replies};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(replies) = parse_replies(data) else {
        return;
    };
    let mut msgs = Vec::new();
    for reply in replies {
        let _ = reply.seq();
        if let Reply::Drbd { msg, .. } = reply {
            let _ = (msg.ret_code(), msg.info_text());
            let _ = row_84(&msg);
            let _ = two_primaries(&msg);
            let _ = resource_name(&msg);
            msgs.push(msg);
        }
    }
    // The same messages in each of the four dumps: every join path sees every message.
    let dumps = Dumps9 {
        resources: msgs.clone(),
        devices: msgs.clone(),
        connections: msgs.clone(),
        peer_devices: msgs,
    };
    if let Ok(Some(status)) = status_from_9("r0", &dumps) {
        let _ = (status.summary(), status.minors(), status.all_primary());
        let _ = (status.any_peer_primary(), status.any_peer_connected());
    }
});
