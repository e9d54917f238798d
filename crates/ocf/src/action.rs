//! The actions Pacemaker passes as `argv[1]` (OCF 1.1 "Execution Syntax" and "Actions").

use std::fmt;
use std::str::FromStr;

/// An action named on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Start,
    Stop,
    /// `monitor`, and the legacy `status` alias.
    Monitor,
    Promote,
    Demote,
    Notify,
    /// OCF 1.1 `reload-agent`: apply changed reloadable parameters.
    ReloadAgent,
    /// Legacy `reload` (OCF 1.0): reload the service's own configuration.
    Reload,
    MigrateTo,
    MigrateFrom,
    MetaData,
    ValidateAll,
    /// `usage` and `help`: print the usage text.
    Usage,
    /// `--version`: print the agent's version and build stamp.
    Version,
}

impl Action {
    /// The name as Pacemaker spells it.
    pub fn name(self) -> &'static str {
        match self {
            Action::Start => "start",
            Action::Stop => "stop",
            Action::Monitor => "monitor",
            Action::Promote => "promote",
            Action::Demote => "demote",
            Action::Notify => "notify",
            Action::ReloadAgent => "reload-agent",
            Action::Reload => "reload",
            Action::MigrateTo => "migrate_to",
            Action::MigrateFrom => "migrate_from",
            Action::MetaData => "meta-data",
            Action::ValidateAll => "validate-all",
            Action::Usage => "usage",
            Action::Version => "--version",
        }
    }
}

/// `argv[1]` named no action this crate knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownAction(pub String);

impl fmt::Display for UnknownAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown action {}", crate::error::printable(&self.0))
    }
}

impl FromStr for Action {
    type Err = UnknownAction;

    fn from_str(s: &str) -> Result<Action, UnknownAction> {
        Ok(match s {
            "start" => Action::Start,
            "stop" => Action::Stop,
            "monitor" | "status" => Action::Monitor,
            "promote" => Action::Promote,
            "demote" => Action::Demote,
            "notify" => Action::Notify,
            "reload-agent" => Action::ReloadAgent,
            "reload" => Action::Reload,
            "migrate_to" => Action::MigrateTo,
            "migrate_from" => Action::MigrateFrom,
            "meta-data" | "meta_data" => Action::MetaData,
            "validate-all" => Action::ValidateAll,
            "usage" | "help" | "--help" | "-h" => Action::Usage,
            "--version" => Action::Version,
            other => return Err(UnknownAction(other.to_owned())),
        })
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_action_and_alias() {
        for (word, action) in [
            ("start", Action::Start),
            ("stop", Action::Stop),
            ("monitor", Action::Monitor),
            ("status", Action::Monitor),
            ("promote", Action::Promote),
            ("demote", Action::Demote),
            ("notify", Action::Notify),
            ("reload-agent", Action::ReloadAgent),
            ("reload", Action::Reload),
            ("migrate_to", Action::MigrateTo),
            ("migrate_from", Action::MigrateFrom),
            ("meta-data", Action::MetaData),
            ("validate-all", Action::ValidateAll),
            ("usage", Action::Usage),
            ("--version", Action::Version),
        ] {
            assert_eq!(word.parse::<Action>(), Ok(action), "{word}");
        }
        assert!("Start".parse::<Action>().is_err());
        assert!("".parse::<Action>().is_err());
    }

    #[test]
    fn names_round_trip() {
        for a in [
            Action::Start,
            Action::Stop,
            Action::Monitor,
            Action::Promote,
            Action::Demote,
            Action::Notify,
            Action::ReloadAgent,
            Action::Reload,
            Action::MigrateTo,
            Action::MigrateFrom,
            Action::MetaData,
            Action::ValidateAll,
            Action::Usage,
            Action::Version,
        ] {
            assert_eq!(a.name().parse::<Action>(), Ok(a));
        }
    }
}
