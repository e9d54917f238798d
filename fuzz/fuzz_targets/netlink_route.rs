//! The rtnetlink decoding that crates/netlink-addr relies on: one kernel datagram split into
//! messages and each decoded by netlink-packet-route, as `Replies::feed` does, and the
//! decoded address, link and route messages walked attribute by attribute.
//!
//! netlink-addr's own conversions (`Addr`/`Link`/`Route::from_message`, `Replies::feed`) are
//! crate-private, so this target stops at the library boundary; see tests/matrix/FAULTS.md.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netlink_packet_core::{NetlinkMessage, NetlinkPayload};
use netlink_packet_route::RouteNetlinkMessage;

const HEADER_LEN: usize = 16;

fuzz_target!(|data: &[u8]| {
    let mut offset = 0;
    while offset + HEADER_LEN <= data.len() {
        let rest = &data[offset..];
        let len = u32::from_ne_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        if len < HEADER_LEN || len > rest.len() {
            return;
        }
        let Ok(message) = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&rest[..len]) else {
            return;
        };
        if let NetlinkPayload::InnerMessage(inner) = message.payload {
            match inner {
                RouteNetlinkMessage::NewAddress(m) | RouteNetlinkMessage::DelAddress(m) => {
                    let _ = format!("{:?}", m.attributes);
                }
                RouteNetlinkMessage::NewLink(m) | RouteNetlinkMessage::DelLink(m) => {
                    let _ = format!("{:?}", m.attributes);
                }
                RouteNetlinkMessage::NewRoute(m) | RouteNetlinkMessage::DelRoute(m) => {
                    let _ = format!("{:?}", m.attributes);
                }
                _ => {}
            }
        }
        offset += (len + 3) & !3;
    }
});
