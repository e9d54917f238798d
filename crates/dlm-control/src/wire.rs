//! The messages of dlm_controld's query socket, byte for byte.
//!
//! Facts from the dlm project (`dlm_controld/dlm_controld.h`, `libdlmcontrol.h`, `lib.c`,
//! `main.c` and `daemon_cpg.c` of dlm 4.x): every request is one `struct dlmc_header`
//! (eight 32-bit host-order integers, then the lockspace name in 64 bytes,
//! `DLM_LOCKSPACE_LEN`, without a terminating NUL when full). Replies to lockspace queries are
//! a header (its `data` the result, negative errno on failure; its `len` the header plus the
//! payload) followed by `struct dlmc_lockspace` records. The status dump has no header: the
//! daemon writes `struct dlmc_state` records, each followed by `str_len` bytes of
//! `key=value ` text and `bin_len` bytes of binary, and closes the connection.
//! Everything is in host byte order: the daemon and its clients share the machine.

use std::collections::BTreeMap;

/// The abstract socket name (`DLMC_QUERY_SOCK_PATH`).
pub const QUERY_SOCKET: &str = "dlmc_query_sock";
pub const MAGIC: u32 = 0xD13C_D13C;
/// `DLMC_VERSION`; the daemon checks only the upper 16 bits.
pub const VERSION: u32 = 0x0001_0001;
/// `DLM_LOCKSPACE_LEN`.
pub const NAME_LEN: usize = 64;
/// `sizeof(struct dlmc_header)`.
pub const HEADER_LEN: usize = 8 * 4 + NAME_LEN;
/// [`HEADER_LEN`] as the header's own `len` field.
const HEADER_LEN_U32: u32 = 96;
const _: () = assert!(HEADER_LEN_U32 as usize == HEADER_LEN);
/// `sizeof(struct dlmc_change)`.
pub const CHANGE_LEN: usize = 8 * 4;
/// `sizeof(struct dlmc_lockspace)`: two changes, flags, global_id, a 65-byte name, padded
/// to 4-byte alignment.
pub const LOCKSPACE_LEN: usize = 2 * CHANGE_LEN + 8 + 68;
/// `sizeof(struct dlmc_state)`.
pub const STATE_LEN: usize = 7 * 4;
/// `DLMC_STATE_MAXSTR` and `DLMC_STATE_MAXBIN`: the daemon never sends more per record.
pub const STATE_MAX_PAYLOAD: u32 = 4096;

/// `DLMC_CMD_*` query commands.
pub mod cmd {
    pub const DUMP_DEBUG: u32 = 1;
    pub const LOCKSPACE_INFO: u32 = 3;
    pub const NODE_INFO: u32 = 4;
    pub const LOCKSPACES: u32 = 5;
    pub const LOCKSPACE_NODES: u32 = 6;
    pub const DUMP_STATUS: u32 = 13;
    pub const DUMP_CONFIG: u32 = 14;
}

/// `DLMC_STATE_*` record types of the status dump.
pub mod state {
    pub const DAEMON: u32 = 1;
    pub const DAEMON_NODE: u32 = 2;
    pub const STARTUP_NODE: u32 = 3;
}

/// `DLMC_LS_WAIT_FENCING`: a lockspace change waits for a failed node to be fenced.
pub const LS_WAIT_FENCING: i32 = 3;

/// A message that does not have the shape the protocol promises.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("{what}: {got} bytes, expected {need}")]
    Short {
        what: &'static str,
        need: usize,
        got: usize,
    },
    #[error("bad magic {0:#010x} (expected {MAGIC:#010x})")]
    BadMagic(u32),
    #[error("protocol version {0:#010x} is not {VERSION:#010x}")]
    BadVersion(u32),
    #[error("lockspace name {0:?} is empty, longer than 64 bytes or holds a NUL")]
    BadName(String),
    #[error("{what} of {len} bytes is larger than the protocol allows")]
    TooLarge { what: &'static str, len: u64 },
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[at..at + 4]);
    u32::from_ne_bytes(w)
}

fn i32_at(b: &[u8], at: usize) -> i32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[at..at + 4]);
    i32::from_ne_bytes(w)
}

fn need(what: &'static str, b: &[u8], len: usize) -> Result<(), WireError> {
    if b.len() < len {
        return Err(WireError::Short {
            what,
            need: len,
            got: b.len(),
        });
    }
    Ok(())
}

/// A C string in a fixed buffer: up to the first NUL or the end.
fn c_string(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

/// `struct dlmc_header`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub magic: u32,
    pub version: u32,
    pub command: u32,
    pub option: u32,
    /// The whole message: header plus payload.
    pub len: u32,
    /// Request argument, or the reply's result (negative errno on failure).
    pub data: i32,
    pub flags: i32,
    pub name: String,
}

impl Header {
    /// A request for `command`, about lockspace `name` when given, as libdlmcontrol's
    /// `init_header` builds it.
    pub fn request(command: u32, name: Option<&str>, data: i32) -> Result<Header, WireError> {
        if let Some(n) = name
            && (n.is_empty() || n.len() > NAME_LEN || n.contains('\0'))
        {
            return Err(WireError::BadName(n.to_owned()));
        }
        Ok(Header {
            magic: MAGIC,
            version: VERSION,
            command,
            option: 0,
            len: HEADER_LEN_U32,
            data,
            flags: 0,
            name: name.unwrap_or_default().to_owned(),
        })
    }

    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        let words = [
            self.magic,
            self.version,
            self.command,
            self.option,
            self.len,
            self.data.cast_unsigned(),
            self.flags.cast_unsigned(),
            0,
        ];
        for (i, w) in words.iter().enumerate() {
            b[i * 4..i * 4 + 4].copy_from_slice(&w.to_ne_bytes());
        }
        let name = self.name.as_bytes();
        let n = name.len().min(NAME_LEN);
        b[32..32 + n].copy_from_slice(&name[..n]);
        b
    }

    /// Decode and check magic and major version, as the daemon does.
    pub fn decode(b: &[u8]) -> Result<Header, WireError> {
        need("dlmc_header", b, HEADER_LEN)?;
        let h = Header {
            magic: u32_at(b, 0),
            version: u32_at(b, 4),
            command: u32_at(b, 8),
            option: u32_at(b, 12),
            len: u32_at(b, 16),
            data: i32_at(b, 20),
            flags: i32_at(b, 24),
            name: c_string(&b[32..HEADER_LEN]),
        };
        if h.magic != MAGIC {
            return Err(WireError::BadMagic(h.magic));
        }
        if h.version & 0xFFFF_0000 != VERSION & 0xFFFF_0000 {
            return Err(WireError::BadVersion(h.version));
        }
        Ok(h)
    }

    /// The payload length the header announces.
    pub fn payload_len(&self) -> Result<usize, WireError> {
        (self.len as usize)
            .checked_sub(HEADER_LEN)
            .ok_or(WireError::Short {
                what: "dlmc_header.len",
                need: HEADER_LEN,
                got: self.len as usize,
            })
    }
}

/// `struct dlmc_change`: a membership change of a lockspace.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Change {
    pub member_count: i32,
    pub joined_count: i32,
    pub remove_count: i32,
    pub failed_count: i32,
    /// `DLMC_LS_WAIT_*`, or the number of messages awaited when `wait_messages` is 1.
    pub wait_condition: i32,
    pub wait_messages: i32,
    pub seq: u32,
    pub combined_seq: u32,
}

impl Change {
    fn decode(b: &[u8]) -> Change {
        Change {
            member_count: i32_at(b, 0),
            joined_count: i32_at(b, 4),
            remove_count: i32_at(b, 8),
            failed_count: i32_at(b, 12),
            wait_condition: i32_at(b, 16),
            wait_messages: i32_at(b, 20),
            seq: u32_at(b, 24),
            combined_seq: u32_at(b, 28),
        }
    }
}

/// `struct dlmc_lockspace`: what `dlm_tool ls` shows of one lockspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockspaceInfo {
    /// The completed change.
    pub prev: Change,
    /// The change in progress (zero when none).
    pub next: Change,
    /// `DLMC_LF_*`.
    pub flags: u32,
    pub global_id: u32,
    pub name: String,
}

impl LockspaceInfo {
    pub fn decode(b: &[u8]) -> Result<LockspaceInfo, WireError> {
        need("dlmc_lockspace", b, LOCKSPACE_LEN)?;
        Ok(LockspaceInfo {
            prev: Change::decode(&b[0..CHANGE_LEN]),
            next: Change::decode(&b[CHANGE_LEN..2 * CHANGE_LEN]),
            flags: u32_at(b, 2 * CHANGE_LEN),
            global_id: u32_at(b, 2 * CHANGE_LEN + 4),
            // name[DLM_LOCKSPACE_LEN + 1]
            name: c_string(&b[2 * CHANGE_LEN + 8..][..=NAME_LEN]),
        })
    }

    /// The change in progress waits for fencing (`dlm_tool ls`: "new status wait fencing").
    pub fn waits_for_fencing(&self) -> bool {
        self.next.wait_messages == 0 && self.next.wait_condition == LS_WAIT_FENCING
    }
}

/// The fixed part of one status record (`struct dlmc_state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateRecord {
    pub kind: u32,
    pub flags: u32,
    pub nodeid: i32,
    pub str_len: u32,
    pub bin_len: u32,
}

impl StateRecord {
    pub fn decode(b: &[u8]) -> Result<StateRecord, WireError> {
        need("dlmc_state", b, STATE_LEN)?;
        let r = StateRecord {
            kind: u32_at(b, 0),
            flags: u32_at(b, 4),
            nodeid: i32_at(b, 8),
            // data32 and data64 (offsets 12 and 16) are unused by the daemon.
            str_len: u32_at(b, 20),
            bin_len: u32_at(b, 24),
        };
        for (what, len) in [("str_len", r.str_len), ("bin_len", r.bin_len)] {
            if len > STATE_MAX_PAYLOAD {
                return Err(WireError::TooLarge {
                    what,
                    len: u64::from(len),
                });
            }
        }
        Ok(r)
    }
}

/// The `key=value key=value ` text of a status record, as a map.
pub fn parse_kv(text: &[u8]) -> BTreeMap<String, String> {
    c_string(text)
        .split_whitespace()
        .filter_map(|w| w.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn kv_int(map: &BTreeMap<String, String>, key: &str) -> Option<i64> {
    map.get(key).and_then(|v| v.parse().ok())
}

/// What dlm_controld says about one cluster node (`DLMC_STATE_DAEMON_NODE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeState {
    pub nodeid: i32,
    pub values: BTreeMap<String, String>,
}

impl NodeState {
    pub fn int(&self, key: &str) -> i64 {
        kv_int(&self.values, key).unwrap_or(0)
    }

    pub fn needs_fencing(&self) -> bool {
        self.int("need_fencing") != 0
    }

    /// A fencing of this node is under way: its fence agent runs, its result is awaited,
    /// or the daemon deliberately delays it (post_join_delay).
    pub fn fencing_in_progress(&self) -> bool {
        self.int("fence_pid") != 0
            || self.int("fence_pid_wait") != 0
            || self.int("fence_result_wait") != 0
            || self.int("delay_fencing") != 0
    }
}

/// The answer to `DLMC_CMD_DUMP_STATUS` (`dlm_tool status`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DaemonStatus {
    pub our_nodeid: i32,
    /// The daemon record: quorate, stateful_merge_wait, fence_pid, ...
    pub daemon: BTreeMap<String, String>,
    pub nodes: Vec<NodeState>,
    pub startup_nodes: Vec<i32>,
}

impl DaemonStatus {
    /// Decode the whole stream the daemon wrote before closing. A trailing partial record is
    /// an error: the daemon writes whole records.
    pub fn decode(mut b: &[u8]) -> Result<DaemonStatus, WireError> {
        let mut status = DaemonStatus::default();
        let mut saw_daemon = false;
        while !b.is_empty() {
            let rec = StateRecord::decode(b)?;
            let str_len = rec.str_len as usize;
            let total = STATE_LEN + str_len + rec.bin_len as usize;
            need("dlmc_state record", b, total)?;
            let values = parse_kv(&b[STATE_LEN..STATE_LEN + str_len]);
            match rec.kind {
                state::DAEMON => {
                    saw_daemon = true;
                    status.our_nodeid = rec.nodeid;
                    status.daemon = values;
                }
                state::DAEMON_NODE => status.nodes.push(NodeState {
                    nodeid: rec.nodeid,
                    values,
                }),
                state::STARTUP_NODE => status.startup_nodes.push(rec.nodeid),
                _ => {}
            }
            b = &b[total..];
        }
        if !saw_daemon {
            return Err(WireError::Short {
                what: "status dump without the daemon record",
                need: STATE_LEN,
                got: 0,
            });
        }
        Ok(status)
    }

    pub fn int(&self, key: &str) -> i64 {
        kv_int(&self.daemon, key).unwrap_or(0)
    }

    /// The cluster merged after a partition and waits for an administrator
    /// (`stateful_merge_wait=1`).
    pub fn stateful_merge_wait(&self) -> bool {
        self.int("stateful_merge_wait") != 0
    }

    pub fn quorate(&self) -> bool {
        self.int("quorate") != 0
    }

    /// A node's fencing is under way, as far as the daemon knows (also while it does not yet
    /// know, at startup: `fence_in_progress_unknown`).
    pub fn fencing_in_progress(&self) -> bool {
        self.int("fence_pid") != 0
            || self.int("fence_in_progress_unknown") != 0
            || self
                .nodes
                .iter()
                .any(|n| n.needs_fencing() && n.fencing_in_progress())
    }

    /// Seconds since the oldest failure of a node that still needs fencing, on the daemon's
    /// own monotonic clock (`monotime` against the node's `fail_monotime`). Computed wide,
    /// so that no value in the answer can make it wrap: a failure "in the future" is 0, a
    /// difference beyond u64 is u64::MAX.
    pub fn longest_fencing_wait(&self) -> Option<u64> {
        let now = i128::from(self.int("monotime"));
        self.nodes
            .iter()
            .filter(|n| n.needs_fencing())
            .map(|n| {
                let waited = (now - i128::from(n.int("fail_monotime"))).max(0);
                u64::try_from(waited).unwrap_or(u64::MAX)
            })
            .max()
    }

    /// Nodes the daemon wants fenced.
    pub fn nodes_needing_fencing(&self) -> Vec<i32> {
        self.nodes
            .iter()
            .filter(|n| n.needs_fencing())
            .map(|n| n.nodeid)
            .collect()
    }
}

#[cfg(test)]
#[cfg(target_endian = "little")] // the fixtures are x86_64 and aarch64 byte order
mod tests {
    use super::*;

    /// `init_header(&h, DLMC_CMD_LOCKSPACE_INFO, "web", 0)` as libdlmcontrol lays it out on
    /// x86_64, written out by hand.
    fn lockspace_info_request_bytes() -> Vec<u8> {
        let mut b = vec![
            0x3C, 0xD1, 0x3C, 0xD1, // magic
            0x01, 0x00, 0x01, 0x00, // version
            0x03, 0x00, 0x00, 0x00, // command 3
            0x00, 0x00, 0x00, 0x00, // option
            0x60, 0x00, 0x00, 0x00, // len 96
            0x00, 0x00, 0x00, 0x00, // data
            0x00, 0x00, 0x00, 0x00, // flags
            0x00, 0x00, 0x00, 0x00, // unused
            b'w', b'e', b'b',
        ];
        b.resize(HEADER_LEN, 0);
        b
    }

    #[test]
    fn sizes_match_the_c_structs() {
        assert_eq!(HEADER_LEN, 96);
        assert_eq!(LOCKSPACE_LEN, 140);
        assert_eq!(STATE_LEN, 28);
    }

    #[test]
    fn request_encodes_byte_for_byte() {
        let h = Header::request(cmd::LOCKSPACE_INFO, Some("web"), 0).unwrap();
        assert_eq!(h.encode().to_vec(), lockspace_info_request_bytes());
        let status = Header::request(cmd::DUMP_STATUS, None, 0).unwrap().encode();
        assert_eq!(&status[8..12], &[13, 0, 0, 0]);
        assert!(status[32..].iter().all(|&c| c == 0));
        let lss = Header::request(cmd::LOCKSPACES, None, 256)
            .unwrap()
            .encode();
        assert_eq!(&lss[20..24], &[0x00, 0x01, 0, 0], "data carries max");
    }

    #[test]
    fn full_length_name_has_no_terminator_and_longer_is_refused() {
        let name = "x".repeat(64);
        let b = Header::request(cmd::LOCKSPACE_INFO, Some(&name), 0)
            .unwrap()
            .encode();
        assert!(b[32..].iter().all(|&c| c == b'x'));
        assert_eq!(Header::decode(&b).unwrap().name, name);
        for bad in ["x".repeat(65), String::new(), "a\0b".into()] {
            assert!(Header::request(cmd::LOCKSPACE_INFO, Some(&bad), 0).is_err());
        }
    }

    #[test]
    fn reply_header_decodes_and_checks() {
        let mut b = lockspace_info_request_bytes();
        b[16] = 0x60 + 140; // len: header + one dlmc_lockspace
        b[20..24].copy_from_slice(&(-2i32).to_ne_bytes()); // -ENOENT
        let h = Header::decode(&b).unwrap();
        assert_eq!(h.command, cmd::LOCKSPACE_INFO);
        assert_eq!(h.data, -2);
        assert_eq!(h.name, "web");
        assert_eq!(h.payload_len().unwrap(), 140);
        let mut bad = b.clone();
        bad[0] = 0;
        assert!(matches!(Header::decode(&bad), Err(WireError::BadMagic(_))));
        let mut v2 = b.clone();
        v2[6] = 2; // major version 2
        assert!(matches!(Header::decode(&v2), Err(WireError::BadVersion(_))));
        let mut minor = b.clone();
        minor[4] = 7; // minor versions are compatible
        assert!(Header::decode(&minor).is_ok());
        assert!(Header::decode(&b[..95]).is_err());
    }

    /// A `struct dlmc_lockspace` for "web" whose in-progress change waits for fencing.
    fn lockspace_bytes(name: &str, wait_condition: i32, wait_messages: i32) -> Vec<u8> {
        let mut b = Vec::new();
        for v in [2i32, 0, 0, 0, 0, 0, 5, 5] {
            b.extend_from_slice(&v.to_le_bytes()); // cg_prev
        }
        for v in [1i32, 0, 1, 1, wait_condition, wait_messages, 6, 6] {
            b.extend_from_slice(&v.to_le_bytes()); // cg_next
        }
        b.extend_from_slice(&0x08u32.to_le_bytes()); // flags: FS_REGISTERED
        b.extend_from_slice(&0x1234_5678u32.to_le_bytes()); // global_id
        b.extend_from_slice(name.as_bytes());
        b.resize(LOCKSPACE_LEN, 0);
        b
    }

    #[test]
    fn lockspace_decodes_and_reports_a_fencing_wait() {
        let ls = LockspaceInfo::decode(&lockspace_bytes("web", 3, 0)).unwrap();
        assert_eq!(ls.name, "web");
        assert_eq!(ls.global_id, 0x1234_5678);
        assert_eq!(ls.flags, 0x08);
        assert_eq!(ls.prev.member_count, 2);
        assert_eq!(ls.next.failed_count, 1);
        assert_eq!(ls.next.seq, 6);
        assert!(ls.waits_for_fencing());
        let messages = LockspaceInfo::decode(&lockspace_bytes("web", 3, 1)).unwrap();
        assert!(!messages.waits_for_fencing(), "waiting for 3 messages");
        let quorum = LockspaceInfo::decode(&lockspace_bytes("web", 2, 0)).unwrap();
        assert!(!quorum.waits_for_fencing());
        assert!(LockspaceInfo::decode(&lockspace_bytes("web", 3, 0)[..139]).is_err());
    }

    fn record(kind: u32, nodeid: i32, text: &str) -> Vec<u8> {
        let mut payload = text.as_bytes().to_vec();
        payload.push(0); // the daemon sends strlen + 1
        let mut b = Vec::new();
        for v in [kind, 0, nodeid.cast_unsigned(), 0, 0] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        b.extend_from_slice(&u32::try_from(payload.len()).unwrap().to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&payload);
        b
    }

    const DAEMON: &str = "member_count=2 joined_count=0 remove_count=0 daemon_ringid=8 \
        cluster_ringid=8 quorate=1 fence_pid=0 fence_in_progress_unknown=0 zombie_count=0 \
        monotime=1234 stateful_merge_wait=0 ";

    fn node_text(need: u8, pid: u32) -> String {
        format!(
            "member=0 killed=0 left_reason=nodedown need_fencing={need} delay_fencing=0 \
             fence_pid={pid} fence_pid_wait=0 fence_result_wait=0 fence_actor_last=0 \
             fence_actor_done=0 add_time=10 rem_time=900 fail_walltime=1700000000 \
             fail_monotime=900 fence_walltime=0 fence_monotime=0 "
        )
    }

    #[test]
    fn status_dump_decodes() {
        let mut b = record(state::DAEMON, 1, DAEMON);
        b.extend(record(state::DAEMON_NODE, 1, &node_text(0, 0)));
        b.extend(record(state::DAEMON_NODE, 2, &node_text(1, 0)));
        b.extend(record(state::STARTUP_NODE, 2, &node_text(1, 0)));
        let s = DaemonStatus::decode(&b).unwrap();
        assert_eq!(s.our_nodeid, 1);
        assert!(s.quorate());
        assert!(!s.stateful_merge_wait());
        assert_eq!(s.nodes.len(), 2);
        assert_eq!(s.nodes_needing_fencing(), [2]);
        assert!(!s.fencing_in_progress(), "needs fencing, nobody fences");
        assert_eq!(s.startup_nodes, [2]);
        assert_eq!(s.nodes[1].values["left_reason"], "nodedown");
        assert_eq!(s.longest_fencing_wait(), Some(1234 - 900));

        let mut fencing = record(state::DAEMON, 1, DAEMON);
        fencing.extend(record(state::DAEMON_NODE, 2, &node_text(1, 4242)));
        assert!(
            DaemonStatus::decode(&fencing)
                .unwrap()
                .fencing_in_progress()
        );

        let merge = record(
            state::DAEMON,
            1,
            &DAEMON.replace("merge_wait=0", "merge_wait=1"),
        );
        assert!(DaemonStatus::decode(&merge).unwrap().stateful_merge_wait());
    }

    /// Issue 17: the clock values come from the daemon's answer; a reply with extreme values
    /// must not wrap (or, in a debug build, panic) when the wait is computed.
    #[test]
    fn extreme_clock_values_cannot_wrap_the_fencing_wait() {
        let wait = |now: i64, fail: i64| {
            let mut b = record(
                state::DAEMON,
                1,
                &DAEMON.replace("monotime=1234", &format!("monotime={now}")),
            );
            b.extend(record(
                state::DAEMON_NODE,
                2,
                &node_text(1, 0).replace("fail_monotime=900", &format!("fail_monotime={fail}")),
            ));
            DaemonStatus::decode(&b).unwrap().longest_fencing_wait()
        };
        assert_eq!(wait(i64::MIN, 1), Some(0), "failure in the future");
        assert_eq!(wait(i64::MIN, i64::MAX), Some(0));
        assert_eq!(wait(i64::MAX, -1), Some(1 << 63));
        assert_eq!(wait(i64::MAX, i64::MIN), Some(u64::MAX));
        assert_eq!(wait(1000, 400), Some(600));
    }

    #[test]
    fn status_dump_rejects_truncation_and_oversize() {
        let b = record(state::DAEMON, 1, DAEMON);
        assert!(DaemonStatus::decode(&b[..b.len() - 1]).is_err());
        assert!(DaemonStatus::decode(&b[..20]).is_err());
        assert!(DaemonStatus::decode(&[]).is_err(), "no daemon record");
        let mut huge = b.clone();
        huge[20..24].copy_from_slice(&5000u32.to_le_bytes());
        assert!(matches!(
            DaemonStatus::decode(&huge),
            Err(WireError::TooLarge { .. })
        ));
    }
}
