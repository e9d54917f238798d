//! An AF_PACKET SOCK_RAW socket on one interface (packet(7)); frames are sent and received
//! whole, Ethernet header included.
//!
//! Cost to know about: the kernel waits for an RCU grace period (`synchronize_net()`, several
//! milliseconds, more on a busy machine) when a packet socket is released, i.e. when its last
//! descriptor is closed, and again whenever `bind(2)` replaces a receive hook. A sender
//! ([`PacketSocket::sender`]) registers no hook, so opening it and sending are immediate; a
//! caller that must not wait can hand the descriptor to a longer-lived process
//! ([`PacketSocket::into_fd`], [`PacketSocket::sender_from_fd`]) so that the release happens
//! there.
#![allow(unsafe_code)]

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::socket::{
    AddressFamily, MsgFlags, SockFlag, SockProtocol, SockType, SockaddrLike, SockaddrStorage,
    getsockname, socket,
};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::time::Duration;

/// A packet socket on one interface.
#[derive(Debug)]
pub struct PacketSocket {
    fd: OwnedFd,
    /// Set for a sender: frames go to this interface with this ethertype (sendto(2)).
    /// None: the socket is bound, frames go where the binding says (send(2)).
    dest: Option<(i32, u16)>,
}

fn index(ifindex: u32) -> io::Result<i32> {
    i32::try_from(ifindex)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "interface index"))
}

/// A `sockaddr_ll` naming interface `ifindex` and protocol `ethertype`.
fn link_address(ifindex: i32, ethertype: u16) -> libc::sockaddr_ll {
    // SAFETY: sockaddr_ll is a plain C struct for which all-zero bytes are valid.
    let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    addr.sll_family = u16::try_from(libc::AF_PACKET).unwrap_or_default();
    addr.sll_protocol = ethertype.to_be();
    addr.sll_ifindex = ifindex;
    addr
}

fn link_address_len() -> libc::socklen_t {
    libc::socklen_t::try_from(size_of::<libc::sockaddr_ll>()).unwrap_or(libc::socklen_t::MAX)
}

impl PacketSocket {
    /// Open a socket that sends on, and receives `ethertype` frames from, interface `ifindex`
    /// (needs CAP_NET_RAW in the interface's network namespace).
    pub fn open(ifindex: u32, ethertype: u16) -> io::Result<PacketSocket> {
        let fd = socket(
            AddressFamily::Packet,
            SockType::Raw,
            SockFlag::SOCK_CLOEXEC,
            SockProtocol::EthAll,
        )?;
        let addr = link_address(index(ifindex)?, ethertype);
        // SAFETY: `fd` is an open socket we own; `addr` is a valid sockaddr_ll that lives
        // across the call and the length is its exact size. bind(2) does not keep the pointer.
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&raw const addr).cast::<libc::sockaddr>(),
                link_address_len(),
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(PacketSocket { fd, dest: None })
    }

    /// Open a socket that only sends `ethertype` frames on interface `ifindex`: protocol 0
    /// and no bind, so the kernel registers no receive hook and neither the open nor the send
    /// waits (`socket(AF_PACKET, SOCK_RAW, 0)` + `sendto` with a `sockaddr_ll`, as
    /// `arping`'s sender does). Needs CAP_NET_RAW.
    pub fn sender(ifindex: u32, ethertype: u16) -> io::Result<PacketSocket> {
        let dest = Some((index(ifindex)?, ethertype));
        let fd = socket(
            AddressFamily::Packet,
            SockType::Raw,
            SockFlag::SOCK_CLOEXEC,
            None,
        )?;
        Ok(PacketSocket { fd, dest })
    }

    /// A sender (as [`PacketSocket::sender`]) on a descriptor received from another process;
    /// an error when `fd` is not an AF_PACKET socket.
    pub fn sender_from_fd(fd: OwnedFd, ifindex: u32, ethertype: u16) -> io::Result<PacketSocket> {
        let local: SockaddrStorage = getsockname(fd.as_raw_fd())?;
        if local.family() != Some(AddressFamily::Packet) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not an AF_PACKET socket",
            ));
        }
        Ok(PacketSocket {
            fd,
            dest: Some((index(ifindex)?, ethertype)),
        })
    }

    /// The descriptor, e.g. to give it to a child process (whose exit then pays the release).
    pub fn into_fd(self) -> OwnedFd {
        self.fd
    }

    /// Send one whole frame on the interface.
    pub fn send(&self, frame: &[u8]) -> io::Result<()> {
        let n = match self.dest {
            None => nix::sys::socket::send(self.fd.as_raw_fd(), frame, MsgFlags::empty())?,
            Some((ifindex, ethertype)) => {
                let addr = link_address(ifindex, ethertype);
                // SAFETY: `fd` is an open socket we own; `frame` is a valid buffer of the
                // given length; `addr` is a valid sockaddr_ll that lives across the call and
                // the length is its exact size. sendto(2) keeps neither pointer.
                let rc = unsafe {
                    libc::sendto(
                        self.fd.as_raw_fd(),
                        frame.as_ptr().cast::<libc::c_void>(),
                        frame.len(),
                        0,
                        (&raw const addr).cast::<libc::sockaddr>(),
                        link_address_len(),
                    )
                };
                usize::try_from(rc).map_err(|_| io::Error::last_os_error())?
            }
        };
        if n == frame.len() {
            Ok(())
        } else {
            Err(io::Error::other(format!(
                "short send: {n} of {} bytes",
                frame.len()
            )))
        }
    }

    /// Receive one frame into `buf`, waiting at most `timeout`; None when none came.
    /// Only a socket from [`PacketSocket::open`] receives anything.
    pub fn recv(&self, buf: &mut [u8], timeout: Duration) -> io::Result<Option<usize>> {
        let millis = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
        let mut fds = [PollFd::new(self.fd.as_fd(), PollFlags::POLLIN)];
        let ready = match poll(
            &mut fds,
            PollTimeout::try_from(millis).unwrap_or(PollTimeout::MAX),
        ) {
            Ok(n) => n,
            Err(nix::errno::Errno::EINTR) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        if ready == 0 {
            return Ok(None);
        }
        let n = nix::sys::socket::recv(self.fd.as_raw_fd(), buf, MsgFlags::MSG_DONTWAIT)?;
        Ok(Some(n))
    }
}

impl AsFd for PacketSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for PacketSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_packet_socket_is_taken_as_a_sender() {
        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        let err = PacketSocket::sender_from_fd(a.into(), 1, crate::ETH_P_ARP).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }
}
