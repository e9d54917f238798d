//! Errors of netlink operations, each naming the operation it belongs to. Their text is
//! what an administrator reads in an exit reason: the C library's words for an errno
//! (what `ip` prints after "RTNETLINK answers:"), never Rust's " (os error N)".

/// A failed netlink operation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The socket itself failed (open, send, receive, timeout).
    #[error("{op}: {}", socket_text(source))]
    Io {
        op: String,
        #[source]
        source: std::io::Error,
    },
    /// The kernel's reply could not be decoded.
    #[error("{op}: cannot decode the kernel's reply: {detail}")]
    Decode { op: String, detail: String },
    /// The kernel refused the request.
    #[error("{op}: {}", kernel_text(*errno, ext_ack.as_deref()))]
    Kernel {
        op: String,
        errno: i32,
        /// The kernel's extended-ack text (NLMSGERR_ATTR_MSG), when it sent one.
        ext_ack: Option<String>,
    },
}

/// The C library's text for `errno` ("No such device"), as strerror(3) words it.
pub fn errno_text(errno: i32) -> &'static str {
    nix::errno::Errno::from_raw(errno).desc()
}

/// An I/O error's text for an administrator: an OS error worded by [`errno_text`],
/// anything else by its own message.
pub fn io_text(e: &std::io::Error) -> String {
    e.raw_os_error()
        .map_or_else(|| e.to_string(), |errno| errno_text(errno).to_owned())
}

/// The netlink socket's failure: its receive timeout says so (not "Resource temporarily
/// unavailable").
fn socket_text(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
            "no answer from the kernel in time".to_owned()
        }
        _ => io_text(e),
    }
}

fn kernel_text(errno: i32, ext_ack: Option<&str>) -> String {
    match ext_ack {
        Some(m) => format!("{} ({m})", errno_text(errno)),
        None => errno_text(errno).to_owned(),
    }
}

impl Error {
    /// The kernel's errno, for a refused request.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Error::Kernel { errno, .. } => Some(*errno),
            Error::Io { source, .. } => source.raw_os_error(),
            Error::Decode { .. } => None,
        }
    }

    /// Why it failed, without the operation: for a caller that names the operation in its
    /// own words (an interface by its name rather than its index).
    pub fn cause(&self) -> String {
        match self {
            Error::Io { source, .. } => socket_text(source),
            Error::Decode { detail, .. } => format!("cannot decode the kernel's reply: {detail}"),
            Error::Kernel { errno, ext_ack, .. } => kernel_text(*errno, ext_ack.as_deref()),
        }
    }

    /// EEXIST: the address (or object) is already there.
    pub fn is_exists(&self) -> bool {
        self.errno() == Some(nix::libc::EEXIST)
    }

    /// EADDRNOTAVAIL, ENODEV or ENOENT: the object to delete or get is not there.
    pub fn is_not_found(&self) -> bool {
        matches!(
            self.errno(),
            Some(nix::libc::EADDRNOTAVAIL | nix::libc::ENODEV | nix::libc::ENOENT)
        )
    }
}
