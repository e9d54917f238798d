//! One NETLINK_ROUTE socket: send a request, read every reply datagram until the kernel's
//! acknowledgement or the end of a dump (netlink(7), rtnetlink(7)).

use crate::{Error, Result};
use netlink_packet_core::{
    NLM_F_ACK_TLVS, NLM_F_CAPPED, NetlinkHeader, NetlinkMessage, NetlinkPayload,
};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_ROUTE};
use nix::sys::socket::{setsockopt, sockopt};
use nix::sys::time::TimeVal;
use std::time::Duration;

/// Large enough for any datagram the kernel sends to a default-sized dump (it sizes them to
/// the page size, at most 32 KiB), so nothing is truncated.
const RX_BUFFER: usize = 64 * 1024;
const HEADER_LEN: usize = 16;
/// NLMSGERR_ATTR_MSG: the extended-ack text.
const NLMSGERR_ATTR_MSG: u16 = 1;

pub(crate) struct Transport {
    socket: Socket,
    seq: u32,
    rx: Vec<u8>,
}

fn io(op: &str) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        op: op.to_owned(),
        source,
    }
}

impl Transport {
    /// A connected socket with extended acks and strict dump filtering; a receive waits at
    /// most `timeout` (the kernel answers rtnetlink requests synchronously, so this only
    /// bounds a kernel that misbehaves).
    pub(crate) fn open(timeout: Duration) -> Result<Transport> {
        let mut socket =
            Socket::new(NETLINK_ROUTE).map_err(io("opening a NETLINK_ROUTE socket"))?;
        socket
            .bind_auto()
            .map_err(io("binding the netlink socket"))?;
        socket
            .connect(&SocketAddr::new(0, 0))
            .map_err(io("connecting the netlink socket"))?;
        // Both are optional kernel features (4.12 and 4.20): without them we only lose the
        // kernel's explanation and must filter dumps ourselves, which we do anyway.
        let _ = socket.set_ext_ack(true);
        let _ = socket.set_cap_ack(true);
        let _ = socket.set_netlink_get_strict_chk(true);
        let micros = i64::try_from(timeout.as_micros())
            .unwrap_or(i64::MAX)
            .max(1000);
        setsockopt(
            &socket,
            sockopt::ReceiveTimeout,
            &TimeVal::new(micros / 1_000_000, micros % 1_000_000),
        )
        .map_err(|e| Error::Io {
            op: "setting the netlink receive timeout".into(),
            source: e.into(),
        })?;
        Ok(Transport {
            socket,
            seq: 0,
            rx: Vec::with_capacity(RX_BUFFER),
        })
    }

    /// Send `message` with `flags` and collect the replies (rows of a dump, or the answer to
    /// a get) until the acknowledgement or NLMSG_DONE.
    pub(crate) fn exchange(
        &mut self,
        op: &str,
        message: RouteNetlinkMessage,
        flags: u16,
    ) -> Result<Vec<RouteNetlinkMessage>> {
        self.seq = self.seq.wrapping_add(1);
        let request = encode(message, flags, self.seq);
        self.socket.send(&request, 0).map_err(io(op))?;
        let mut replies = Replies::new(op, self.seq);
        loop {
            self.rx.clear();
            let n = self.socket.recv(&mut self.rx, 0).map_err(io(op))?;
            let n = n.min(self.rx.len());
            if replies.feed(&self.rx[..n])? {
                return Ok(replies.messages);
            }
        }
    }
}

/// The bytes of one request.
pub(crate) fn encode(message: RouteNetlinkMessage, flags: u16, seq: u32) -> Vec<u8> {
    let mut request = NetlinkMessage::new(
        NetlinkHeader::default(),
        NetlinkPayload::InnerMessage(message),
    );
    request.header.flags = flags;
    request.header.sequence_number = seq;
    request.finalize();
    let mut buf = vec![0; request.buffer_len()];
    request.serialize(&mut buf);
    buf
}

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// The replies to one request, fed datagram by datagram.
pub(crate) struct Replies {
    op: String,
    seq: u32,
    pub(crate) messages: Vec<RouteNetlinkMessage>,
}

impl Replies {
    pub(crate) fn new(op: &str, seq: u32) -> Replies {
        Replies {
            op: op.to_owned(),
            seq,
            messages: Vec::new(),
        }
    }

    fn decode_error(&self, detail: impl Into<String>) -> Error {
        Error::Decode {
            op: self.op.clone(),
            detail: detail.into(),
        }
    }

    /// Decode one datagram; true once the exchange is complete.
    pub(crate) fn feed(&mut self, datagram: &[u8]) -> Result<bool> {
        let mut offset = 0;
        while offset + HEADER_LEN <= datagram.len() {
            let rest = &datagram[offset..];
            let len = u32::from_ne_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
            if len < HEADER_LEN || len > rest.len() {
                return Err(self.decode_error(format!(
                    "message length {len} at offset {offset} of a {}-byte datagram",
                    datagram.len()
                )));
            }
            let message = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&rest[..len])
                .map_err(|e| self.decode_error(e.to_string()))?;
            offset += align4(len);
            if message.header.sequence_number != self.seq {
                continue; // a late answer to an earlier request
            }
            match message.payload {
                NetlinkPayload::Done(done) if done.code < 0 => {
                    return Err(Error::Kernel {
                        op: self.op.clone(),
                        errno: -done.code,
                        ext_ack: ext_ack_in_tlvs(&done.extended_ack),
                    });
                }
                NetlinkPayload::Done(_) => return Ok(true),
                NetlinkPayload::Error(e) => match e.code {
                    None => return Ok(true),
                    Some(code) => {
                        return Err(Error::Kernel {
                            op: self.op.clone(),
                            errno: code.get().saturating_neg(),
                            ext_ack: ext_ack_message(message.header.flags, &e.header),
                        });
                    }
                },
                NetlinkPayload::InnerMessage(inner) => self.messages.push(inner),
                _ => {}
            }
        }
        Ok(false)
    }
}

/// The extended-ack text of an NLMSG_ERROR whose payload (after the errno) is `payload`:
/// the echoed request (only its header when NLM_F_CAPPED), then TLVs when NLM_F_ACK_TLVS.
pub(crate) fn ext_ack_message(flags: u16, payload: &[u8]) -> Option<String> {
    if flags & NLM_F_ACK_TLVS == 0 {
        return None;
    }
    let echoed = if flags & NLM_F_CAPPED != 0 {
        HEADER_LEN
    } else {
        u32::from_ne_bytes(payload.get(..4)?.try_into().ok()?) as usize
    };
    ext_ack_in_tlvs(payload.get(align4(echoed)..)?)
}

fn ext_ack_in_tlvs(mut tlvs: &[u8]) -> Option<String> {
    while tlvs.len() >= 4 {
        let len = usize::from(u16::from_ne_bytes([tlvs[0], tlvs[1]]));
        let kind = u16::from_ne_bytes([tlvs[2], tlvs[3]]) & 0x3fff;
        if len < 4 || len > tlvs.len() {
            return None;
        }
        if kind == NLMSGERR_ATTR_MSG {
            let text = &tlvs[4..len];
            let text = text.split(|b| *b == 0).next().unwrap_or(text);
            return Some(String::from_utf8_lossy(text).into_owned());
        }
        tlvs = tlvs.get(align4(len)..)?;
    }
    None
}
