//! OCF exit codes (OCF 1.1 resource-agent-api.md, "Exit Status Codes"; Pacemaker's
//! `enum ocf_exitcode` in include/crm/common/results.h).

use std::fmt;
use std::process::ExitCode;

/// What an action reports to Pacemaker through its exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Status {
    /// 0: success; for monitor, running (unpromoted).
    Success = 0,
    /// 1: unspecified failure; Pacemaker recovers softly (restart or move).
    ErrGeneric = 1,
    /// 2: a parameter is invalid on this host (the node is banned).
    ErrArgs = 2,
    /// 3: the action is not implemented.
    ErrUnimplemented = 3,
    /// 4: insufficient privilege.
    ErrPerm = 4,
    /// 5: software or a device the resource needs is missing on this host.
    ErrInstalled = 5,
    /// 6: the configuration is invalid wherever it runs (fatal: stopped everywhere).
    ErrConfigured = 6,
    /// 7: monitor found the resource cleanly stopped.
    NotRunning = 7,
    /// 8: monitor found the resource running in the promoted role.
    RunningPromoted = 8,
    /// 9: monitor found the resource promoted but failed.
    FailedPromoted = 9,
    /// 190: running, but degraded.
    Degraded = 190,
    /// 191: promoted, but degraded.
    DegradedPromoted = 191,
}

impl Status {
    /// Every code an agent may return, in numeric order.
    pub const ALL: [Status; 12] = [
        Status::Success,
        Status::ErrGeneric,
        Status::ErrArgs,
        Status::ErrUnimplemented,
        Status::ErrPerm,
        Status::ErrInstalled,
        Status::ErrConfigured,
        Status::NotRunning,
        Status::RunningPromoted,
        Status::FailedPromoted,
        Status::Degraded,
        Status::DegradedPromoted,
    ];

    /// The numeric exit code.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The status with this numeric code, if agents may return it.
    pub fn from_code(code: i32) -> Option<Status> {
        Status::ALL
            .into_iter()
            .find(|s| i32::from(s.code()) == code)
    }

    /// The shell name administrators know from ocf-returncodes and Pacemaker's logs.
    pub fn name(self) -> &'static str {
        match self {
            Status::Success => "OCF_SUCCESS",
            Status::ErrGeneric => "OCF_ERR_GENERIC",
            Status::ErrArgs => "OCF_ERR_ARGS",
            Status::ErrUnimplemented => "OCF_ERR_UNIMPLEMENTED",
            Status::ErrPerm => "OCF_ERR_PERM",
            Status::ErrInstalled => "OCF_ERR_INSTALLED",
            Status::ErrConfigured => "OCF_ERR_CONFIGURED",
            Status::NotRunning => "OCF_NOT_RUNNING",
            Status::RunningPromoted => "OCF_RUNNING_PROMOTED",
            Status::FailedPromoted => "OCF_FAILED_PROMOTED",
            Status::Degraded => "OCF_DEGRADED",
            Status::DegradedPromoted => "OCF_DEGRADED_PROMOTED",
        }
    }

    /// True for the codes that mean "this action did not do its job".
    pub fn is_error(self) -> bool {
        matches!(
            self,
            Status::ErrGeneric
                | Status::ErrArgs
                | Status::ErrUnimplemented
                | Status::ErrPerm
                | Status::ErrInstalled
                | Status::ErrConfigured
                | Status::FailedPromoted
        )
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.code())
    }
}

impl From<Status> for ExitCode {
    fn from(status: Status) -> ExitCode {
        ExitCode::from(status.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_the_spec() {
        let expected: [(Status, u8); 12] = [
            (Status::Success, 0),
            (Status::ErrGeneric, 1),
            (Status::ErrArgs, 2),
            (Status::ErrUnimplemented, 3),
            (Status::ErrPerm, 4),
            (Status::ErrInstalled, 5),
            (Status::ErrConfigured, 6),
            (Status::NotRunning, 7),
            (Status::RunningPromoted, 8),
            (Status::FailedPromoted, 9),
            (Status::Degraded, 190),
            (Status::DegradedPromoted, 191),
        ];
        for (status, code) in expected {
            assert_eq!(status.code(), code, "{status:?}");
            assert_eq!(Status::from_code(i32::from(code)), Some(status));
        }
        for code in [10, 11, 189, 192, 193, 255, -1] {
            assert_eq!(Status::from_code(code), None, "{code}");
        }
    }

    #[test]
    fn display_names_the_shell_constant() {
        assert_eq!(Status::ErrConfigured.to_string(), "OCF_ERR_CONFIGURED (6)");
        assert!(Status::ErrInstalled.is_error());
        assert!(!Status::NotRunning.is_error());
        assert!(!Status::RunningPromoted.is_error());
    }
}
