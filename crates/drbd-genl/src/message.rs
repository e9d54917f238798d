//! DRBD genl messages: `nlmsghdr | genlmsghdr | drbd_genlmsghdr | nested attributes`.
//!
//! Framing comes from netlink-packet-core (`NetlinkMessage`) and netlink-packet-generic
//! (`GenlMessage`); the DRBD payload (its fixed header and its nested attributes, one
//! top-level attribute per kernel struct) is encoded here, because no crate knows it.

use crate::api::{self, F_MANDATORY, NO_MINOR, tla};
use netlink_packet_core::{
    DecodeError, Emitable, NLA_F_NESTED, NLM_F_DUMP, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage,
    NetlinkPayload, Nla, NlasIterator, ParseableParametrized,
};
use netlink_packet_generic::{GenlFamily, GenlHeader, GenlMessage};

/// One netlink attribute: its type (with flags when sent, masked when received) and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attr {
    pub kind: u16,
    pub value: Vec<u8>,
}

impl Attr {
    /// A NUL-terminated string (`nla_put_string`).
    pub fn string(kind: u16, s: &str) -> Attr {
        let mut value = s.as_bytes().to_vec();
        value.push(0);
        Attr { kind, value }
    }

    /// A nested attribute holding `children`, with `NLA_F_NESTED` set as drbdsetup's
    /// `nla_nest_start` does.
    pub fn nested(kind: u16, children: &[Attr]) -> Attr {
        let mut value = vec![0; children.buffer_len()];
        children.emit(&mut value);
        Attr {
            kind: kind | NLA_F_NESTED,
            value,
        }
    }

    /// The attributes nested in this one.
    pub fn children(&self) -> Result<Vec<Attr>, DecodeError> {
        parse_attrs(&self.value)
    }

    pub fn u32(&self) -> Option<u32> {
        Some(u32::from_ne_bytes(self.value.get(..4)?.try_into().ok()?))
    }

    /// A flag field (`__flg_field`, sent as a u8).
    pub fn flag(&self) -> bool {
        self.value.first().is_some_and(|b| *b != 0)
    }

    /// A string without its NUL terminator.
    pub fn str(&self) -> String {
        let end = self
            .value
            .iter()
            .position(|b| *b == 0)
            .unwrap_or(self.value.len());
        String::from_utf8_lossy(&self.value[..end]).into_owned()
    }
}

impl Nla for Attr {
    fn value_len(&self) -> usize {
        self.value.len()
    }
    fn kind(&self) -> u16 {
        self.kind
    }
    fn emit_value(&self, buffer: &mut [u8]) {
        buffer[..self.value.len()].copy_from_slice(&self.value);
    }
}

/// Parse a run of attributes; types are returned without the nested and mandatory flags
/// (`NlaBuffer::kind` masks both bits).
pub fn parse_attrs(buf: &[u8]) -> Result<Vec<Attr>, DecodeError> {
    NlasIterator::new(buf)
        .map(|nla| {
            nla.map(|nla| Attr {
                kind: nla.kind(),
                value: nla.value().to_vec(),
            })
        })
        .collect()
}

/// Find attribute `kind` in a list.
pub fn find(attrs: &[Attr], kind: u16) -> Option<&Attr> {
    attrs.iter().find(|a| a.kind == kind)
}

/// A DRBD genl payload: the command, the family version it speaks, the fixed header and the
/// top-level attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrbdMsg {
    pub cmd: u8,
    pub version: u8,
    pub minor: u32,
    /// `flags` in a request, `ret_code` in a reply.
    pub flags_or_ret: i32,
    pub attrs: Vec<Attr>,
}

impl DrbdMsg {
    pub fn ret_code(&self) -> i32 {
        self.flags_or_ret
    }

    /// The top-level attribute `kind`, decoded into its fields.
    pub fn tla(&self, kind: u16) -> Result<Option<Vec<Attr>>, DecodeError> {
        find(&self.attrs, kind).map(Attr::children).transpose()
    }

    /// The `info_text` of a `CFG_REPLY`, the kernel's human-readable reason.
    pub fn info_text(&self) -> Option<String> {
        let reply = self.tla(tla::CFG_REPLY).ok()??;
        find(&reply, api::cfg_reply::INFO_TEXT).map(Attr::str)
    }
}

impl GenlFamily for DrbdMsg {
    fn family_name() -> &'static str {
        api::FAMILY_NAME
    }
    fn command(&self) -> u8 {
        self.cmd
    }
    fn version(&self) -> u8 {
        self.version
    }
}

impl Emitable for DrbdMsg {
    fn buffer_len(&self) -> usize {
        api::DRBD_HDR_LEN + self.attrs.as_slice().buffer_len()
    }
    fn emit(&self, buffer: &mut [u8]) {
        buffer[0..4].copy_from_slice(&self.minor.to_ne_bytes());
        buffer[4..8].copy_from_slice(&self.flags_or_ret.to_ne_bytes());
        self.attrs.as_slice().emit(&mut buffer[api::DRBD_HDR_LEN..]);
    }
}

impl ParseableParametrized<[u8], GenlHeader> for DrbdMsg {
    fn parse_with_param(buf: &[u8], header: GenlHeader) -> Result<DrbdMsg, DecodeError> {
        if buf.len() < api::DRBD_HDR_LEN {
            return Err(DecodeError::from("DRBD reply shorter than drbd_genlmsghdr"));
        }
        let word = |at: usize| [buf[at], buf[at + 1], buf[at + 2], buf[at + 3]];
        Ok(DrbdMsg {
            cmd: header.cmd,
            version: header.version,
            minor: u32::from_ne_bytes(word(0)),
            flags_or_ret: i32::from_ne_bytes(word(4)),
            attrs: parse_attrs(&buf[api::DRBD_HDR_LEN..])?,
        })
    }
}

/// A whole DRBD netlink message.
pub type DrbdNetlink = NetlinkMessage<GenlMessage<DrbdMsg>>;

/// The cfg-context naming a resource. DRBD 8.4 user space marks the name mandatory
/// (`T_ctx_resource_name` = 2 | `DRBD_GENLA_F_MANDATORY`); DRBD 9's headers do not.
pub fn cfg_context(api_version: u32, resource: &str) -> Attr {
    let name_kind = if api_version == api::API_V84 {
        api::cfg_context::RESOURCE_NAME | F_MANDATORY
    } else {
        api::cfg_context::RESOURCE_NAME
    };
    Attr::nested(tla::CFG_CONTEXT, &[Attr::string(name_kind, resource)])
}

/// Serialize one request to the family `family_id`.
pub fn encode(family_id: u16, seq: u32, flags: u16, payload: DrbdMsg) -> Vec<u8> {
    let mut genl = GenlMessage::from_payload(payload);
    genl.set_resolved_family_id(family_id);
    let mut header = NetlinkHeader::default();
    header.flags = flags;
    header.sequence_number = seq;
    let mut msg = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(genl));
    msg.finalize();
    let mut buf = vec![0; msg.buffer_len()];
    msg.serialize(&mut buf);
    buf
}

/// A status dump of one resource: 8.4 `GET_STATUS`, or one of 9's `GET_RESOURCES`,
/// `GET_DEVICES`, `GET_CONNECTIONS`, `GET_PEER_DEVICES` (drbdsetup `sh-status` /
/// `events2 --now`). `NLM_F_DUMP` because the kernel answers with `.dumpit`; the minor is
/// `~0` and the cfg-context filters on the resource name.
pub fn dump_request(
    family_id: u16,
    api_version: u32,
    seq: u32,
    cmd: u8,
    resource: &str,
) -> Vec<u8> {
    encode(
        family_id,
        seq,
        NLM_F_REQUEST | NLM_F_DUMP,
        DrbdMsg {
            cmd,
            version: version_byte(api_version),
            minor: NO_MINOR,
            flags_or_ret: 0,
            attrs: vec![cfg_context(api_version, resource)],
        },
    )
}

/// `PRIMARY`/`SECONDARY` (drbdsetup `primary`/`secondary`). DRBD 8.4 changes the role of
/// one minor (`DRBD_ADM_NEED_MINOR`): `minor` is set and the cfg-context names the resource
/// as well, so the kernel refuses a minor of another resource ("minor exists in different
/// resource"). DRBD 9 changes the whole resource (`DRBD_ADM_NEED_RESOURCE`): minor `~0`.
/// The empty `SET_ROLE_PARMS` means no `--force`: never promote without UpToDate data.
/// No `NLM_F_ACK`: the kernel's reply message carries the result in `ret_code`.
pub fn role_request(
    family_id: u16,
    api_version: u32,
    seq: u32,
    primary: bool,
    minor: Option<u32>,
    resource: &str,
) -> Vec<u8> {
    encode(
        family_id,
        seq,
        NLM_F_REQUEST,
        DrbdMsg {
            cmd: if primary {
                api::cmd::PRIMARY
            } else {
                api::cmd::SECONDARY
            },
            version: version_byte(api_version),
            minor: minor.unwrap_or(NO_MINOR),
            flags_or_ret: 0,
            attrs: vec![
                cfg_context(api_version, resource),
                Attr::nested(tla::SET_ROLE_PARMS, &[]),
            ],
        },
    )
}

/// `DOWN` (drbdsetup `down`, what `drbdadm down` runs): the kernel demotes every volume,
/// disconnects, detaches and deletes the resource, or refuses (a device still open is
/// `SS_DEVICE_IN_USE`). It needs the resource only (`DRBD_ADM_NEED_RESOURCE`): minor `~0`
/// and the cfg-context naming it, the shape of a dump request without `NLM_F_DUMP`.
pub fn down_request(family_id: u16, api_version: u32, seq: u32, resource: &str) -> Vec<u8> {
    encode(
        family_id,
        seq,
        NLM_F_REQUEST,
        DrbdMsg {
            cmd: api::cmd::DOWN,
            version: version_byte(api_version),
            minor: NO_MINOR,
            flags_or_ret: 0,
            attrs: vec![cfg_context(api_version, resource)],
        },
    )
}

fn version_byte(api_version: u32) -> u8 {
    u8::try_from(api_version).unwrap_or(u8::MAX)
}

/// What one received netlink message was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// A DRBD message (a dump row or a request's answer).
    Drbd { seq: u32, msg: DrbdMsg },
    /// `NLMSG_ERROR` with code 0.
    Ack { seq: u32 },
    /// `NLMSG_ERROR` with a negative errno.
    Errno { seq: u32, errno: i32 },
    /// `NLMSG_DONE`: end of a dump.
    Done { seq: u32 },
    /// Anything else (noop, overrun).
    Other { seq: u32 },
}

impl Reply {
    pub fn seq(&self) -> u32 {
        match self {
            Reply::Drbd { seq, .. }
            | Reply::Ack { seq }
            | Reply::Errno { seq, .. }
            | Reply::Done { seq }
            | Reply::Other { seq } => *seq,
        }
    }
}

/// Split one `recv()` buffer into its messages.
pub fn parse_replies(buf: &[u8]) -> Result<Vec<Reply>, DecodeError> {
    let mut out = Vec::new();
    let mut off = 0;
    while off + 16 <= buf.len() {
        let len = u32::from_ne_bytes([buf[off], buf[off + 1], buf[off + 2], buf[off + 3]]);
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        if len < 16 || off + len > buf.len() {
            return Err(DecodeError::from("truncated netlink message"));
        }
        let msg = DrbdNetlink::deserialize(&buf[off..off + len])?;
        let seq = msg.header.sequence_number;
        out.push(match msg.payload {
            NetlinkPayload::InnerMessage(genl) => Reply::Drbd {
                seq,
                msg: genl.payload,
            },
            NetlinkPayload::Error(e) => match e.code {
                None => Reply::Ack { seq },
                Some(code) => Reply::Errno {
                    seq,
                    errno: code.get(),
                },
            },
            NetlinkPayload::Done(_) => Reply::Done { seq },
            _ => Reply::Other { seq },
        });
        off += (len + 3) & !3;
    }
    Ok(out)
}

/// The genl controller request resolving the "drbd" family (`CTRL_CMD_GETFAMILY` with
/// `CTRL_ATTR_FAMILY_NAME`, as `genl ctrl get name drbd`).
pub fn get_family_request(seq: u32) -> Vec<u8> {
    use netlink_packet_generic::ctrl::nlas::GenlCtrlAttrs;
    use netlink_packet_generic::ctrl::{GenlCtrl, GenlCtrlCmd};
    let mut genl = GenlMessage::from_payload(GenlCtrl {
        cmd: GenlCtrlCmd::GetFamily,
        nlas: vec![GenlCtrlAttrs::FamilyName(api::FAMILY_NAME.to_owned())],
    });
    genl.finalize();
    let mut header = NetlinkHeader::default();
    header.flags = NLM_F_REQUEST;
    header.sequence_number = seq;
    let mut msg = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(genl));
    msg.finalize();
    let mut buf = vec![0; msg.buffer_len()];
    msg.serialize(&mut buf);
    buf
}
