//! The dlm_controld control-socket decoders of crates/dlm-control: the reply header, the
//! lockspace records, the status dump and its key=value texts.
//!
//! Input: the first byte picks the decoder; the rest is the bytes the daemon sent.
#![no_main]

use dlm_control::client::decode_lockspaces;
use dlm_control::wire::{DaemonStatus, Header, LockspaceInfo, parse_kv};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    match pick % 5 {
        0 => {
            if let Ok(h) = Header::decode(bytes) {
                let _ = h.payload_len();
            }
        }
        1 => {
            if let Ok(ls) = LockspaceInfo::decode(bytes) {
                let _ = ls.waits_for_fencing();
            }
        }
        2 => {
            if let Ok(list) = decode_lockspaces(bytes) {
                for ls in list {
                    let _ = ls.waits_for_fencing();
                }
            }
        }
        3 => {
            if let Ok(s) = DaemonStatus::decode(bytes) {
                let _ = (
                    s.stateful_merge_wait(),
                    s.quorate(),
                    s.fencing_in_progress(),
                );
                let _ = (s.longest_fencing_wait(), s.nodes_needing_fencing());
                let _ = s.int("cluster_ringid");
            }
        }
        _ => drop(parse_kv(bytes)),
    }
});
