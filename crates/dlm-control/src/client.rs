//! A client for dlm_controld's query socket: one connection per query, as libdlmcontrol
//! does, every read and write bounded by the caller's deadline, and no answer believed from a
//! listener that is not the daemon.
//!
//! The socket is abstract (`@dlmc_query_sock`): any local user can bind the name before the
//! daemon does and answer in its place. So each connection first asks the kernel who listens
//! (SO_PEERCRED, unix(7): the pid and uid of the process that called listen(2)) and sends
//! nothing unless that is the [`Trusted`] daemon.
//!
//! Equivalents: `dlm_tool status` ([`Client::status`]), `dlm_tool ls` ([`Client::lockspaces`],
//! [`Client::lockspace_info`]).

use crate::wire::{self, DaemonStatus, Header, LockspaceInfo, WireError};
use nix::sys::socket::{getsockopt, sockopt::PeerCredentials};
use std::fmt;
use std::io::{ErrorKind, Read, Write};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixStream};
use std::time::Instant;

/// The most lockspaces asked for at once (`dlm_tool` asks for 1024; a node has a handful).
const MAX_LOCKSPACES: i32 = 1024;
/// The most a status dump may be: far above what a 32-node cluster produces.
const MAX_STATUS_BYTES: usize = 1024 * 1024;

/// The process listening on the socket, as the kernel reports it (SO_PEERCRED).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer {
    pub pid: i32,
    pub uid: u32,
}

/// The listener whose answers are believed: the daemon's user and its process(es).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trusted {
    pub uid: u32,
    pub pids: Vec<i32>,
}

impl Trusted {
    /// True when `peer` is the daemon.
    pub fn admits(&self, peer: Peer) -> bool {
        peer.uid == self.uid && self.pids.contains(&peer.pid)
    }
}

impl fmt::Display for Trusted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pids: Vec<String> = self.pids.iter().map(i32::to_string).collect();
        match pids.len() {
            0 => write!(f, "no process of uid {}", self.uid),
            1 => write!(f, "pid {} of uid {}", pids[0], self.uid),
            _ => write!(f, "one of pids {} of uid {}", pids.join(", "), self.uid),
        }
    }
}

/// Why dlm_controld gave no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "cannot connect to dlm_controld's socket @{socket}: {}",
        io_text(source)
    )]
    Connect {
        socket: String,
        source: std::io::Error,
    },
    #[error(
        "@{socket} is held by pid {} of uid {}, not by dlm_controld ({trusted}): its answers are \
         not believed",
        peer.pid,
        peer.uid
    )]
    Untrusted {
        socket: String,
        peer: Peer,
        trusted: Trusted,
    },
    #[error("{op} on dlm_controld's socket: {}", io_text(source))]
    Io {
        op: &'static str,
        source: std::io::Error,
    },
    #[error("dlm_controld did not answer {op} in time")]
    TimedOut { op: &'static str },
    #[error("dlm_controld closed the connection before answering {op}")]
    Closed { op: &'static str },
    #[error("dlm_controld's answer to {op}: {source}")]
    Wire { op: &'static str, source: WireError },
    #[error("dlm_controld answered {op} with error {code} ({})", errno_text(code.saturating_neg()))]
    Daemon { op: &'static str, code: i32 },
}

/// An errno as strerror(3) words it, without std's " (os error N)": messages are read by
/// administrators.
fn errno_text(errno: i32) -> &'static str {
    nix::errno::Errno::from_raw(errno).desc()
}

fn io_text(e: &std::io::Error) -> String {
    e.raw_os_error()
        .map_or_else(|| e.to_string(), |n| errno_text(n).to_owned())
}

/// A client of one dlm_controld query socket, believing only the [`Trusted`] listener.
#[derive(Debug, Clone)]
pub struct Client {
    socket: String,
    trusted: Trusted,
}

impl Client {
    /// The daemon's socket, `@dlmc_query_sock`, answered by `trusted`.
    pub fn new(trusted: Trusted) -> Client {
        Client::with_socket(wire::QUERY_SOCKET, trusted)
    }

    /// Another abstract socket name (tests run a fake daemon).
    pub fn with_socket(name: &str, trusted: Trusted) -> Client {
        Client {
            socket: name.to_owned(),
            trusted,
        }
    }

    /// Connect, then ask the kernel who listens before anything is sent.
    fn connect(&self) -> Result<UnixStream, Error> {
        let connect_err = |source| Error::Connect {
            socket: self.socket.clone(),
            source,
        };
        let addr = SocketAddr::from_abstract_name(self.socket.as_bytes()).map_err(connect_err)?;
        // Connecting to a Unix socket does not wait for the peer to accept: it fails or
        // succeeds at once, so only reads and writes need the deadline.
        let stream = UnixStream::connect_addr(&addr).map_err(connect_err)?;
        let peer = self.peer(&stream)?;
        if !self.trusted.admits(peer) {
            return Err(Error::Untrusted {
                socket: self.socket.clone(),
                peer,
                trusted: self.trusted.clone(),
            });
        }
        Ok(stream)
    }

    /// SO_PEERCRED of a connected stream: the listener's pid and uid.
    fn peer(&self, stream: &UnixStream) -> Result<Peer, Error> {
        let cred = getsockopt(stream, PeerCredentials).map_err(|e| Error::Connect {
            socket: self.socket.clone(),
            source: e.into(),
        })?;
        Ok(Peer {
            pid: cred.pid(),
            uid: cred.uid(),
        })
    }

    fn send(&self, header: &Header, op: &'static str, end: Instant) -> Result<UnixStream, Error> {
        let mut s = self.connect()?;
        bound(&s, op, end)?;
        s.write_all(&header.encode()).map_err(|e| io_error(op, e))?;
        Ok(s)
    }

    /// `DLMC_CMD_DUMP_STATUS`: the daemon's and each node's state (`dlm_tool status`).
    pub fn status(&self, end: Instant) -> Result<DaemonStatus, Error> {
        const OP: &str = "status";
        let req = Header::request(wire::cmd::DUMP_STATUS, None, 0)
            .map_err(|source| Error::Wire { op: OP, source })?;
        let mut s = self.send(&req, OP, end)?;
        let mut buf = Vec::new();
        let mut chunk = [0u8; 8192];
        loop {
            bound(&s, OP, end)?;
            match s.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => {
                    buf.extend_from_slice(&chunk[..n]);
                    if buf.len() > MAX_STATUS_BYTES {
                        return Err(Error::Wire {
                            op: OP,
                            source: WireError::TooLarge {
                                what: "status dump",
                                len: buf.len() as u64,
                            },
                        });
                    }
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(io_error(OP, e)),
            }
        }
        if buf.is_empty() {
            return Err(Error::Closed { op: OP });
        }
        DaemonStatus::decode(&buf).map_err(|source| Error::Wire { op: OP, source })
    }

    /// `DLMC_CMD_LOCKSPACES`: every lockspace the daemon manages (`dlm_tool ls`).
    pub fn lockspaces(&self, end: Instant) -> Result<Vec<LockspaceInfo>, Error> {
        const OP: &str = "lockspaces";
        const E2BIG: i32 = 7;
        let req = Header::request(wire::cmd::LOCKSPACES, None, MAX_LOCKSPACES)
            .map_err(|source| Error::Wire { op: OP, source })?;
        let mut s = self.send(&req, OP, end)?;
        let (reply, payload) = read_reply(&mut s, OP, end)?;
        if reply.data < 0 && reply.data != -E2BIG {
            return Err(Error::Daemon {
                op: OP,
                code: reply.data,
            });
        }
        decode_lockspaces(&payload).map_err(|source| Error::Wire { op: OP, source })
    }

    /// `DLMC_CMD_LOCKSPACE_INFO` for lockspace `name`.
    pub fn lockspace_info(&self, name: &str, end: Instant) -> Result<LockspaceInfo, Error> {
        const OP: &str = "lockspace info";
        let req = Header::request(wire::cmd::LOCKSPACE_INFO, Some(name), 0)
            .map_err(|source| Error::Wire { op: OP, source })?;
        let mut s = self.send(&req, OP, end)?;
        let (reply, payload) = read_reply(&mut s, OP, end)?;
        if reply.data < 0 {
            return Err(Error::Daemon {
                op: OP,
                code: reply.data,
            });
        }
        LockspaceInfo::decode(&payload).map_err(|source| Error::Wire { op: OP, source })
    }
}

/// The lockspace records of a `DLMC_CMD_LOCKSPACES` reply payload.
pub fn decode_lockspaces(payload: &[u8]) -> Result<Vec<LockspaceInfo>, WireError> {
    if !payload.len().is_multiple_of(wire::LOCKSPACE_LEN) {
        return Err(WireError::Short {
            what: "dlmc_lockspace records",
            need: payload.len().next_multiple_of(wire::LOCKSPACE_LEN),
            got: payload.len(),
        });
    }
    payload
        .chunks_exact(wire::LOCKSPACE_LEN)
        .map(LockspaceInfo::decode)
        .collect()
}

fn read_reply(
    s: &mut UnixStream,
    op: &'static str,
    end: Instant,
) -> Result<(Header, Vec<u8>), Error> {
    let mut head = [0u8; wire::HEADER_LEN];
    read_full(s, &mut head, op, end)?;
    let reply = Header::decode(&head).map_err(|source| Error::Wire { op, source })?;
    let len = reply
        .payload_len()
        .map_err(|source| Error::Wire { op, source })?;
    if len > MAX_STATUS_BYTES {
        return Err(Error::Wire {
            op,
            source: WireError::TooLarge {
                what: "reply",
                len: len as u64,
            },
        });
    }
    let mut payload = vec![0u8; len];
    read_full(s, &mut payload, op, end)?;
    Ok((reply, payload))
}

fn read_full(
    s: &mut UnixStream,
    buf: &mut [u8],
    op: &'static str,
    end: Instant,
) -> Result<(), Error> {
    let mut off = 0;
    while off < buf.len() {
        bound(s, op, end)?;
        match s.read(&mut buf[off..]) {
            Ok(0) => return Err(Error::Closed { op }),
            Ok(n) => off += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(io_error(op, e)),
        }
    }
    Ok(())
}

/// Give the next read or write only the time left until `end`.
fn bound(s: &UnixStream, op: &'static str, end: Instant) -> Result<(), Error> {
    let left = end.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(Error::TimedOut { op });
    }
    s.set_read_timeout(Some(left))
        .and_then(|()| s.set_write_timeout(Some(left)))
        .map_err(|e| io_error(op, e))
}

fn io_error(op: &'static str, e: std::io::Error) -> Error {
    if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) {
        Error::TimedOut { op }
    } else {
        Error::Io { op, source: e }
    }
}

#[cfg(test)]
#[cfg(target_endian = "little")] // the fixtures are x86_64 and aarch64 byte order
mod tests {
    use super::*;
    use std::os::unix::net::UnixListener;
    use std::time::Duration;

    /// This process: the listener of every fake daemon below.
    fn me() -> Trusted {
        Trusted {
            uid: nix::unistd::geteuid().as_raw(),
            pids: vec![i32::try_from(std::process::id()).unwrap()],
        }
    }

    /// A fake dlm_controld on a private abstract socket answering one connection with
    /// `reply`, after checking the request it got.
    fn fake_daemon(
        tag: &str,
        expect_cmd: u32,
        reply: Vec<u8>,
    ) -> (Client, std::thread::JoinHandle<Header>) {
        let name = format!("dlm-control-test-{tag}-{}", std::process::id());
        let addr = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let listener = UnixListener::bind_addr(&addr).unwrap();
        let handle = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut head = [0u8; wire::HEADER_LEN];
            conn.read_exact(&mut head).unwrap();
            let h = Header::decode(&head).unwrap();
            assert_eq!(h.command, expect_cmd);
            conn.write_all(&reply).unwrap();
            h
        });
        (Client::with_socket(&name, me()), handle)
    }

    fn soon() -> Instant {
        Instant::now() + Duration::from_secs(5)
    }

    fn reply_header(cmd: u32, data: i32, payload: usize) -> Vec<u8> {
        let mut h = Header::request(cmd, None, data).unwrap();
        h.len = u32::try_from(wire::HEADER_LEN + payload).unwrap();
        h.encode().to_vec()
    }

    fn lockspace(name: &str, wait_condition: i32) -> Vec<u8> {
        let mut b = vec![0u8; wire::LOCKSPACE_LEN];
        b[32 + 16..32 + 20].copy_from_slice(&wait_condition.to_le_bytes());
        b[72..72 + name.len()].copy_from_slice(name.as_bytes());
        b
    }

    #[test]
    fn lockspaces_round_trip_through_a_socket() {
        let mut reply = reply_header(wire::cmd::LOCKSPACES, 2, 2 * wire::LOCKSPACE_LEN);
        reply.extend(lockspace("web", 3));
        reply.extend(lockspace("clvmd", 0));
        let (client, server) = fake_daemon("ls", wire::cmd::LOCKSPACES, reply);
        let lss = client.lockspaces(soon()).unwrap();
        let req = server.join().unwrap();
        assert_eq!(req.data, MAX_LOCKSPACES, "asks for up to MAX_LOCKSPACES");
        assert_eq!(lss.len(), 2);
        assert_eq!(lss[0].name, "web");
        assert!(lss[0].waits_for_fencing());
        assert_eq!(lss[1].name, "clvmd");
        assert!(!lss[1].waits_for_fencing());
    }

    #[test]
    fn lockspace_info_error_is_the_daemons_errno() {
        let reply = reply_header(wire::cmd::LOCKSPACE_INFO, -2, wire::LOCKSPACE_LEN);
        let mut full = reply;
        full.extend(vec![0u8; wire::LOCKSPACE_LEN]);
        let (client, server) = fake_daemon("info", wire::cmd::LOCKSPACE_INFO, full);
        let err = client.lockspace_info("nosuch", soon()).unwrap_err();
        assert_eq!(server.join().unwrap().name, "nosuch");
        assert!(matches!(err, Error::Daemon { code: -2, .. }), "{err}");
    }

    #[test]
    fn status_reads_until_the_daemon_closes() {
        let text = b"quorate=1 stateful_merge_wait=1 \0";
        let mut reply = Vec::new();
        for v in [1u32, 0, 3, 0, 0, u32::try_from(text.len()).unwrap(), 0] {
            reply.extend_from_slice(&v.to_le_bytes());
        }
        reply.extend_from_slice(text);
        let (client, server) = fake_daemon("status", wire::cmd::DUMP_STATUS, reply);
        let s = client.status(soon()).unwrap();
        server.join().unwrap();
        assert_eq!(s.our_nodeid, 3);
        assert!(s.stateful_merge_wait());
    }

    #[test]
    fn a_silent_daemon_times_out_at_the_deadline() {
        let name = format!("dlm-control-test-silent-{}", std::process::id());
        let addr = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let listener = UnixListener::bind_addr(&addr).unwrap();
        let started = Instant::now();
        let err = Client::with_socket(&name, me())
            .status(Instant::now() + Duration::from_millis(200))
            .unwrap_err();
        drop(listener);
        assert!(matches!(err, Error::TimedOut { .. }), "{err}");
        assert!(started.elapsed() < Duration::from_secs(3));
    }

    #[test]
    fn no_daemon_is_a_connect_error() {
        let err = Client::with_socket("dlm-control-test-nobody-listens", me())
            .status(soon())
            .unwrap_err();
        assert!(matches!(err, Error::Connect { .. }), "{err}");
        assert_eq!(
            err.to_string(),
            "cannot connect to dlm_controld's socket @dlm-control-test-nobody-listens: \
             Connection refused",
            "an administrator's message: no \"(os error N)\""
        );
    }

    /// Issue 17: a listener that is not the daemon (another user, or another process of
    /// the daemon's user) is asked nothing and believed in nothing.
    #[test]
    fn a_listener_that_is_not_the_daemon_is_never_asked() {
        let me = me();
        let impostors = [
            Trusted {
                uid: me.uid,
                pids: vec![me.pids[0] + 1],
            },
            Trusted {
                uid: me.uid + 1,
                pids: me.pids.clone(),
            },
            Trusted {
                uid: me.uid,
                pids: Vec::new(),
            },
        ];
        for (i, trusted) in impostors.into_iter().enumerate() {
            let name = format!("dlm-control-test-impostor-{i}-{}", std::process::id());
            let addr = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
            let listener = UnixListener::bind_addr(&addr).unwrap();
            let server = std::thread::spawn(move || {
                // What the client sent before giving up: nothing.
                let (mut conn, _) = listener.accept().unwrap();
                let mut got = Vec::new();
                conn.read_to_end(&mut got).unwrap();
                got
            });
            let client = Client::with_socket(&name, trusted.clone());
            let err = client.status(soon()).unwrap_err();
            let Error::Untrusted { peer, .. } = &err else {
                panic!("{err}")
            };
            assert_eq!(peer.pid, me.pids[0]);
            assert_eq!(peer.uid, me.uid);
            assert!(client.lockspaces(soon()).is_err());
            let text = err.to_string();
            assert!(
                text.contains(&format!("held by pid {} of uid {}", me.pids[0], me.uid))
                    && text.contains("not believed"),
                "{text}"
            );
            drop(client);
            // The second query's connection is never accepted; the first sent nothing.
            assert!(server.join().unwrap().is_empty(), "the impostor was asked");
        }
    }

    #[test]
    fn a_daemon_error_of_any_value_reads_plainly() {
        let text = |code| Error::Daemon { op: "ls", code }.to_string();
        assert_eq!(
            text(-2),
            "dlm_controld answered ls with error -2 (No such file or directory)"
        );
        assert!(text(i32::MIN).starts_with("dlm_controld answered ls with error -2147483648 ("));
        assert!(!text(-7).contains("os error"));
    }

    #[test]
    fn partial_records_are_refused() {
        assert!(decode_lockspaces(&[0u8; 141]).is_err());
        assert_eq!(decode_lockspaces(&[]).unwrap().len(), 0);
    }
}
