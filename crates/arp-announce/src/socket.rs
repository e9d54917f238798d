//! An AF_PACKET SOCK_RAW socket bound to one interface and one ethertype (packet(7)); frames
//! are sent and received whole, Ethernet header included.
#![allow(unsafe_code)]

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::socket::{AddressFamily, MsgFlags, SockFlag, SockProtocol, SockType, socket};
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::time::Duration;

/// A packet socket on one interface.
#[derive(Debug)]
pub struct PacketSocket {
    fd: OwnedFd,
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
        let ifindex = i32::try_from(ifindex)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "interface index"))?;
        // SAFETY: sockaddr_ll is a plain C struct for which all-zero bytes are valid.
        let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        addr.sll_family = u16::try_from(libc::AF_PACKET).unwrap_or_default();
        addr.sll_protocol = ethertype.to_be();
        addr.sll_ifindex = ifindex;
        let len = libc::socklen_t::try_from(size_of::<libc::sockaddr_ll>())
            .unwrap_or(libc::socklen_t::MAX);
        // SAFETY: `fd` is an open socket we own; `addr` is a valid sockaddr_ll that lives
        // across the call and `len` is its exact size. bind(2) does not keep the pointer.
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&raw const addr).cast::<libc::sockaddr>(),
                len,
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(PacketSocket { fd })
    }

    /// Send one whole frame on the bound interface.
    pub fn send(&self, frame: &[u8]) -> io::Result<()> {
        let n = nix::sys::socket::send(self.fd.as_raw_fd(), frame, MsgFlags::empty())?;
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
