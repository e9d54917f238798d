//! The kernel conversation: resolve the "drbd" family, dump a resource's status, change
//! its role. Every wait is bounded by the caller's deadline (poll(2) on the socket).

use crate::api::{self, API_V9, API_V84, cmd};
use crate::decode::{self, Dumps9};
use crate::message::{self, DrbdMsg, Reply};
use crate::state::{ResourceStatus, StatusRow84};
use netlink_packet_core::{NetlinkMessage, NetlinkPayload};
use netlink_packet_generic::GenlMessage;
use netlink_packet_generic::ctrl::GenlCtrl;
use netlink_packet_generic::ctrl::nlas::GenlCtrlAttrs;
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_GENERIC};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use std::os::fd::AsFd;
use std::time::Instant;

/// Why a DRBD netlink request did not give an answer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{op}: {}", io_text(source))]
    Io {
        op: &'static str,
        source: std::io::Error,
    },
    /// The genl controller does not know "drbd": the module is not loaded.
    #[error("the drbd generic netlink family is not registered (drbd module not loaded)")]
    NoFamily,
    #[error("drbd generic netlink family version {0} is neither 8.4's (1) nor 9's (2)")]
    Unsupported(u32),
    #[error("{op}: cannot decode the kernel's answer: {detail}")]
    Decode { op: &'static str, detail: String },
    #[error("{op}: the kernel answered: {}", errno_text(*errno))]
    Kernel { op: &'static str, errno: i32 },
    #[error("{op}: no answer from the kernel before the deadline")]
    TimedOut { op: &'static str },
    /// The kernel refused a role change; `code` is its `enum drbd_state_rv` or
    /// `enum drbd_ret_code`, `text` drbdsetup's wording, `info` the kernel's own text.
    #[error("{op} {resource}: refused by the kernel ({code}: {text}{})", info.as_ref().map(|i| format!("; {i}")).unwrap_or_default())]
    Refused {
        op: &'static str,
        resource: String,
        code: i32,
        text: &'static str,
        info: Option<String>,
    },
}

impl Error {
    /// The kernel's refusal code, if this is a refusal.
    pub fn refusal_code(&self) -> Option<i32> {
        match self {
            Error::Refused { code, .. } => Some(*code),
            _ => None,
        }
    }
}

/// The C library's text for `errno` ("No such device"), without Rust's " (os error 19)":
/// an exit reason is read by administrators.
pub fn errno_text(errno: i32) -> &'static str {
    nix::errno::Errno::from_raw(errno).desc()
}

/// An I/O error's text for an exit reason: the C library's text of its errno when it has
/// one (see [`errno_text`]).
pub fn io_text(e: &std::io::Error) -> String {
    e.raw_os_error()
        .map_or_else(|| e.to_string(), |n| errno_text(n).to_owned())
}

const RECV_BUF: usize = 64 * 1024;

/// An open conversation with the DRBD module.
#[derive(Debug)]
pub struct Drbd {
    sock: Socket,
    family_id: u16,
    api: u32,
    seq: u32,
    /// [`CAPTURE_ENV`]: where to append every datagram, when set.
    capture: Option<std::path::PathBuf>,
}

/// When this environment variable names a file, every datagram sent to and received from the
/// kernel is appended to it as one line, `send HEX` or `recv HEX` (lower-case hex, no
/// separators): the lab records real DRBD 8.4 bytes with it for this crate's fixtures
/// (`strace -xx` would do the same where strace exists). Unset in production.
pub const CAPTURE_ENV: &str = "DRBD_GENL_CAPTURE";

/// Appends one captured datagram; a capture that cannot be written is ignored (it is a
/// developer's aid, never a reason to fail an action).
fn capture(path: Option<&std::path::Path>, dir: &str, bytes: &[u8]) {
    use std::fmt::Write as _;
    use std::io::Write as _;
    let Some(path) = path else { return };
    let mut line = String::with_capacity(bytes.len() * 2 + 6);
    line.push_str(dir);
    line.push(' ');
    for b in bytes {
        let _ = write!(line, "{b:02x}");
    }
    line.push('\n');
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = f.write_all(line.as_bytes());
    }
}

impl Drbd {
    /// Open a generic netlink socket and resolve the "drbd" family (genl controller
    /// `CTRL_CMD_GETFAMILY`, as `genl ctrl get name drbd`).
    pub fn open(end: Instant) -> Result<Drbd, Error> {
        let io = |op| move |source| Error::Io { op, source };
        let mut sock = Socket::new(NETLINK_GENERIC).map_err(io("socket(NETLINK_GENERIC)"))?;
        sock.bind_auto().map_err(io("bind"))?;
        sock.connect(&SocketAddr::new(0, 0))
            .map_err(io("connect"))?;
        let mut drbd = Drbd {
            sock,
            family_id: 0,
            api: 0,
            seq: 0,
            capture: std::env::var_os(CAPTURE_ENV)
                .filter(|v| !v.is_empty())
                .map(std::path::PathBuf::from),
        };
        let seq = drbd.next_seq();
        let buf = message::get_family_request(seq);
        drbd.send(&buf, "resolving the drbd family")?;
        let mut rx = Vec::with_capacity(RECV_BUF);
        loop {
            drbd.recv(&mut rx, end, "resolving the drbd family")?;
            let msg = NetlinkMessage::<GenlMessage<GenlCtrl>>::deserialize(&rx).map_err(|e| {
                Error::Decode {
                    op: "resolving the drbd family",
                    detail: e.to_string(),
                }
            })?;
            if msg.header.sequence_number != seq {
                continue;
            }
            match msg.payload {
                NetlinkPayload::InnerMessage(genl) => {
                    for nla in genl.payload.nlas {
                        match nla {
                            GenlCtrlAttrs::FamilyId(id) => drbd.family_id = id,
                            GenlCtrlAttrs::Version(v) => drbd.api = v,
                            _ => {}
                        }
                    }
                    break;
                }
                NetlinkPayload::Error(e) if e.code.is_some() => {
                    // ENOENT: no such family.
                    return Err(Error::NoFamily);
                }
                _ => {}
            }
        }
        if drbd.family_id == 0 {
            return Err(Error::NoFamily);
        }
        if drbd.api != API_V84 && drbd.api != API_V9 {
            return Err(Error::Unsupported(drbd.api));
        }
        Ok(drbd)
    }

    /// The family version: 1 for DRBD 8.4, 2 for DRBD 9.
    pub fn api(&self) -> u32 {
        self.api
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1).max(1);
        self.seq
    }

    fn send(&self, buf: &[u8], op: &'static str) -> Result<(), Error> {
        capture(self.capture.as_deref(), "send", buf);
        self.sock
            .send(buf, 0)
            .map(drop)
            .map_err(|source| Error::Io { op, source })
    }

    /// Receive one datagram into `rx`, waiting no later than `end`.
    fn recv(&self, rx: &mut Vec<u8>, end: Instant, op: &'static str) -> Result<(), Error> {
        let left = end.saturating_duration_since(Instant::now());
        let ms = u16::try_from(left.as_millis()).unwrap_or(u16::MAX);
        let mut fds = [PollFd::new(self.sock.as_fd(), PollFlags::POLLIN)];
        let ready = poll(&mut fds, PollTimeout::from(ms)).map_err(|e| Error::Io {
            op,
            source: e.into(),
        })?;
        if ready == 0 {
            return Err(Error::TimedOut { op });
        }
        rx.clear();
        let n = self
            .sock
            .recv(rx, 0)
            .map_err(|source| Error::Io { op, source })?;
        if n > rx.len() {
            return Err(Error::Decode {
                op,
                detail: format!("message of {n} bytes truncated"),
            });
        }
        capture(self.capture.as_deref(), "recv", rx);
        Ok(())
    }

    /// Every DRBD message answering request `seq`, until the dump's `NLMSG_DONE`.
    fn dump(
        &mut self,
        cmd: u8,
        resource: &str,
        end: Instant,
        op: &'static str,
    ) -> Result<Option<Vec<DrbdMsg>>, Error> {
        let seq = self.next_seq();
        let req = message::dump_request(self.family_id, self.api, seq, cmd, resource);
        self.send(&req, op)?;
        let mut rows = Vec::new();
        let mut rx = Vec::with_capacity(RECV_BUF);
        loop {
            // A dump that never ends is bounded too: give up at the deadline.
            if Instant::now() >= end {
                return Err(Error::TimedOut { op });
            }
            self.recv(&mut rx, end, op)?;
            let replies = message::parse_replies(&rx).map_err(|e| Error::Decode {
                op,
                detail: e.to_string(),
            })?;
            for reply in replies.into_iter().filter(|r| r.seq() == seq) {
                match reply {
                    Reply::Drbd { msg, .. } => rows.push(msg),
                    Reply::Done { .. } => return Ok(Some(rows)),
                    // 8.4 answers a dump for an unknown resource with -ENODEV.
                    Reply::Errno { errno, .. } if errno == -libc_enodev() => return Ok(None),
                    Reply::Errno { errno, .. } => return Err(Error::Kernel { op, errno: -errno }),
                    Reply::Ack { .. } | Reply::Other { .. } => {}
                }
            }
        }
    }

    /// The status of `resource`, or None when the kernel does not know it (not up).
    pub fn status(
        &mut self,
        resource: &str,
        end: Instant,
    ) -> Result<Option<ResourceStatus>, Error> {
        if self.api == API_V84 {
            let op = "reading the DRBD status (get-status)";
            let Some(msgs) = self.dump(cmd::GET_STATUS, resource, end, op)? else {
                return Ok(None);
            };
            let mut rows: Vec<StatusRow84> = Vec::new();
            let mut two_primaries = None;
            for m in &msgs {
                let dec = |e: netlink_packet_core::DecodeError| Error::Decode {
                    op,
                    detail: e.to_string(),
                };
                two_primaries = two_primaries.or(decode::two_primaries(m).map_err(dec)?);
                if let Some(row) = decode::row_84(m).map_err(|e| Error::Decode {
                    op,
                    detail: e.to_string(),
                })? {
                    rows.push(row);
                }
            }
            if msgs.is_empty() {
                return Ok(None);
            }
            return Ok(Some(crate::state::status_from_84(
                resource,
                &rows,
                two_primaries,
            )));
        }
        let op = "reading the DRBD status (get-resources/devices/connections/peer-devices)";
        let mut dumps = Dumps9::default();
        for (command, into) in [
            (cmd::GET_RESOURCES, &mut dumps.resources),
            (cmd::GET_DEVICES, &mut dumps.devices),
            (cmd::GET_CONNECTIONS, &mut dumps.connections),
            (cmd::GET_PEER_DEVICES, &mut dumps.peer_devices),
        ] {
            *into = self.dump(command, resource, end, op)?.unwrap_or_default();
        }
        decode::status_from_9(resource, &dumps).map_err(|e| Error::Decode {
            op,
            detail: e.to_string(),
        })
    }

    /// Make `resource` Primary or Secondary (drbdsetup `primary`/`secondary`, without
    /// `--force`). DRBD 8.4 is asked minor by minor (`minors`, from [`Self::status`]);
    /// DRBD 9 once for the resource. A refusal carries the kernel's code and text.
    pub fn set_role(
        &mut self,
        resource: &str,
        primary: bool,
        minors: &[u32],
        end: Instant,
    ) -> Result<(), Error> {
        let op = if primary { "primary" } else { "secondary" };
        let targets: Vec<Option<u32>> = if self.api == API_V84 {
            minors.iter().copied().map(Some).collect()
        } else {
            vec![None]
        };
        for minor in targets {
            let seq = self.next_seq();
            let req =
                message::role_request(self.family_id, self.api, seq, primary, minor, resource);
            self.send(&req, op)?;
            let reply = self.answer(seq, end, op)?;
            outcome(op, resource, &reply)?;
        }
        Ok(())
    }

    /// Take `resource` down (drbdsetup `down`): the kernel demotes every volume,
    /// disconnects, detaches and deletes it. A resource the kernel does not know is down
    /// already. A refusal carries the kernel's code and text (`SS_DEVICE_IN_USE` while a
    /// device is open).
    pub fn down(&mut self, resource: &str, end: Instant) -> Result<(), Error> {
        let op = "down";
        let seq = self.next_seq();
        let req = message::down_request(self.family_id, self.api, seq, resource);
        self.send(&req, op)?;
        let reply = self.answer(seq, end, op)?;
        down_outcome(resource, &reply)
    }

    /// The DRBD message answering `seq` (a `.doit` reply).
    fn answer(&mut self, seq: u32, end: Instant, op: &'static str) -> Result<DrbdMsg, Error> {
        let mut rx = Vec::with_capacity(RECV_BUF);
        loop {
            self.recv(&mut rx, end, op)?;
            let replies = message::parse_replies(&rx).map_err(|e| Error::Decode {
                op,
                detail: e.to_string(),
            })?;
            for reply in replies.into_iter().filter(|r| r.seq() == seq) {
                match reply {
                    Reply::Drbd { msg, .. } => return Ok(msg),
                    Reply::Errno { errno, .. } => return Err(Error::Kernel { op, errno: -errno }),
                    _ => {}
                }
            }
        }
    }
}

/// What the kernel's answer to a role change says: done, or refused with its code, its
/// drbdsetup wording and the kernel's own text.
pub fn outcome(op: &'static str, resource: &str, reply: &DrbdMsg) -> Result<(), Error> {
    let code = reply.ret_code();
    if api::state_rv_ok(code) {
        return Ok(());
    }
    Err(Error::Refused {
        op,
        resource: resource.to_owned(),
        code,
        text: refusal_text(code),
        info: reply.info_text(),
    })
}

/// What the kernel's answer to `DOWN` says: a resource it does not know is down already.
pub fn down_outcome(resource: &str, reply: &DrbdMsg) -> Result<(), Error> {
    if reply.ret_code() == api::ERR_RES_NOT_KNOWN {
        return Ok(());
    }
    outcome("down", resource, reply)
}

/// drbdsetup's wording for a state-change result or a configuration error code.
pub fn refusal_text(code: i32) -> &'static str {
    match code {
        api::ERR_RES_NOT_KNOWN => "unknown resource",
        api::ERR_MINOR_INVALID => "unknown minor",
        162 => "invalid configuration request",
        126 => "mandatory attribute missing or unknown",
        c if c > api::NO_ERROR => "configuration error",
        c => api::state_rv_text(c),
    }
}

fn libc_enodev() -> i32 {
    nix::errno::Errno::ENODEV as i32
}
