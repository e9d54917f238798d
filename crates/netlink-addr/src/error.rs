//! Errors of netlink operations, each naming the operation it belongs to.

/// A failed netlink operation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The socket itself failed (open, send, receive, timeout).
    #[error("{op}: {source}")]
    Io {
        op: String,
        #[source]
        source: std::io::Error,
    },
    /// The kernel's reply could not be decoded.
    #[error("{op}: cannot decode the kernel's reply: {detail}")]
    Decode { op: String, detail: String },
    /// The kernel refused the request.
    #[error("{op}: {}{}", std::io::Error::from_raw_os_error(*errno), ext_ack.as_ref().map(|m| format!(" ({m})")).unwrap_or_default())]
    Kernel {
        op: String,
        errno: i32,
        /// The kernel's extended-ack text (NLMSGERR_ATTR_MSG), when it sent one.
        ext_ack: Option<String>,
    },
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
