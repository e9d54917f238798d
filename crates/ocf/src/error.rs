//! Errors that carry the OCF status they end in and the exit reason Pacemaker shows.

use crate::Status;
use std::fmt;

/// An action's failure: the exit code it ends in and the reason an administrator reads in
/// `pcs status` (printed as `ocf-exit-reason:<reason>` on stderr).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    status: Status,
    reason: String,
    /// The parameter whose value is wrong, when the error is about one ([`Error::bad_param`]).
    /// `ocf::run` uses it to put the XML default in place of a bad setting (see `config`).
    param: Option<String>,
}

/// The result of an agent's action or of a parameter lookup.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error ending in `status` with the exit reason `reason`.
    pub fn new(status: Status, reason: impl Into<String>) -> Error {
        Error {
            status,
            reason: reason.into(),
            param: None,
        }
    }

    /// OCF_ERR_GENERIC (1).
    pub fn generic(reason: impl Into<String>) -> Error {
        Error::new(Status::ErrGeneric, reason)
    }

    /// OCF_ERR_ARGS (2).
    pub fn args(reason: impl Into<String>) -> Error {
        Error::new(Status::ErrArgs, reason)
    }

    /// OCF_ERR_PERM (4).
    pub fn perm(reason: impl Into<String>) -> Error {
        Error::new(Status::ErrPerm, reason)
    }

    /// OCF_ERR_INSTALLED (5).
    pub fn installed(reason: impl Into<String>) -> Error {
        Error::new(Status::ErrInstalled, reason)
    }

    /// OCF_ERR_CONFIGURED (6).
    pub fn configured(reason: impl Into<String>) -> Error {
        Error::new(Status::ErrConfigured, reason)
    }

    /// OCF_ERR_UNIMPLEMENTED (3).
    pub fn unimplemented(reason: impl Into<String>) -> Error {
        Error::new(Status::ErrUnimplemented, reason)
    }

    /// OCF_NOT_RUNNING (7), for the paths where "not running" is the answer of a failed check.
    pub fn not_running(reason: impl Into<String>) -> Error {
        Error::new(Status::NotRunning, reason)
    }

    /// A bad parameter value: OCF_ERR_CONFIGURED with a reason naming the parameter and value.
    pub fn bad_param(name: &str, value: &str, why: impl fmt::Display) -> Error {
        Error::configured(format!(
            "invalid parameter {name}={}: {why}",
            printable(value)
        ))
        .for_param(name)
    }

    /// A required parameter that is not set: OCF_ERR_CONFIGURED naming it.
    pub fn missing_param(name: &str) -> Error {
        Error::configured(format!("required parameter {name} is not set")).for_param(name)
    }

    /// The same error, marked as being about parameter `name`.
    #[must_use]
    pub fn for_param(mut self, name: &str) -> Error {
        self.param = Some(name.to_owned());
        self
    }

    /// The parameter this error is about, if it is about one.
    pub fn param(&self) -> Option<&str> {
        self.param.as_deref()
    }

    /// The status this error ends in.
    pub fn status(&self) -> Status {
        self.status
    }

    /// The exit reason.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The same error with another status (an agent deciding what a failure means here).
    #[must_use]
    pub fn with_status(mut self, status: Status) -> Error {
        self.status = status;
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for Error {}

/// Attach an OCF status and a reason to any library error at the call site, in the way of
/// uucore's `map_err_context`: `netlink.add(..).or_status(Status::ErrGeneric, || "adding ..")?`.
/// The library error's own message is appended, so the reason says both what and why.
pub trait ResultExt<T> {
    /// Map the error to `status` with `context()` followed by the error's own message.
    fn or_status<C: fmt::Display>(self, status: Status, context: impl FnOnce() -> C) -> Result<T>;

    /// Shorthand for `or_status(Status::ErrGeneric, ..)`.
    fn or_generic<C: fmt::Display>(self, context: impl FnOnce() -> C) -> Result<T>
    where
        Self: Sized,
    {
        self.or_status(Status::ErrGeneric, context)
    }
}

impl<T, E: fmt::Display> ResultExt<T> for std::result::Result<T, E> {
    fn or_status<C: fmt::Display>(self, status: Status, context: impl FnOnce() -> C) -> Result<T> {
        self.map_err(|e| Error::new(status, format!("{}: {e}", context())))
    }
}

/// A value quoted for a log line or exit reason, cut when very long. Control characters and
/// the exit-reason marker are escaped here too, although the logger and `ocf::run` escape
/// every line again ([`crate::text::one_line`]): a reason may be read before it is printed.
pub fn printable(value: &str) -> String {
    const MAX: usize = 200;
    let cut: String = value.chars().take(MAX).collect();
    let more = if cut.len() < value.len() { "..." } else { "" };
    format!("\"{}{more}\"", crate::text::one_line(&cut))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_param_names_parameter_and_value() {
        let e = Error::bad_param("arp_count", "x\n7", "not an integer");
        assert_eq!(e.status(), Status::ErrConfigured);
        assert_eq!(
            e.reason(),
            "invalid parameter arp_count=\"x\\n7\": not an integer"
        );
    }

    #[test]
    fn or_status_keeps_the_cause() {
        let r: std::result::Result<(), std::io::Error> =
            Err(std::io::Error::from_raw_os_error(libc_enoent()));
        let e = r
            .or_status(Status::ErrInstalled, || "opening /x")
            .unwrap_err();
        assert_eq!(e.status(), Status::ErrInstalled);
        assert!(e.reason().starts_with("opening /x: "), "{}", e.reason());
        assert!(e.reason().contains("No such file"), "{}", e.reason());
    }

    fn libc_enoent() -> i32 {
        2
    }

    #[test]
    fn printable_cuts_long_values() {
        let long = "a".repeat(1000);
        let p = printable(&long);
        assert!(p.len() < 210, "{}", p.len());
        assert!(p.ends_with("...\""));
    }

    #[test]
    fn printable_escapes_control_characters() {
        assert_eq!(printable("a\nb"), "\"a\\nb\"");
        assert_eq!(printable("ok"), "\"ok\"");
    }

    #[test]
    fn bad_and_missing_params_name_their_parameter() {
        assert_eq!(Error::bad_param("nic", "x", "y").param(), Some("nic"));
        assert_eq!(Error::missing_param("ip").param(), Some("ip"));
        assert_eq!(Error::configured("z").param(), None);
    }

    #[test]
    fn with_status_changes_only_the_status() {
        let e = Error::generic("x").with_status(Status::NotRunning);
        assert_eq!(e.status(), Status::NotRunning);
        assert_eq!(e.to_string(), "x");
    }
}
