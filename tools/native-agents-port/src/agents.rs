//! Which shell agent each of ours replaces: the one table, read both ways.

use std::fmt;

/// An agent as the CIB names it: `class:provider:type`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Agent {
    pub class: String,
    pub provider: String,
    pub kind: String,
}

impl Agent {
    pub fn new(class: &str, provider: &str, kind: &str) -> Agent {
        Agent {
            class: class.to_owned(),
            provider: provider.to_owned(),
            kind: kind.to_owned(),
        }
    }

    /// Where Pacemaker's executor finds an OCF agent: `<root>/resource.d/<provider>/<type>`.
    pub fn path(&self, ocf_root: &str) -> String {
        format!("{ocf_root}/resource.d/{}/{}", self.provider, self.kind)
    }
}

impl fmt::Display for Agent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.class, self.provider, self.kind)
    }
}

/// The OCF provider our package installs its agents under (packaging/layout.env OCF_PROVIDER).
pub const NATIVE_PROVIDER: &str = "native";

/// Each shell agent and ours that replaces it (same parameter names, same resource).
const PAIRS: [(&str, &str, &str); 5] = [
    ("heartbeat", "IPaddr2", "ipaddr2"),
    ("heartbeat", "apache", "apache-clone"),
    ("heartbeat", "Filesystem", "gfs2-fs"),
    ("pacemaker", "controld", "dlm-controld-wrapper"),
    ("linbit", "drbd", "drbd-dualprimary"),
];

/// Which way a port goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From the shell agents to ours.
    ToNative,
    /// Back from ours to the shell agents (`--back`).
    ToShell,
}

impl Direction {
    /// The agent a resource on `agent` moves to, or None when this direction leaves it alone.
    pub fn target(self, agent: &Agent) -> Option<Agent> {
        if agent.class != "ocf" {
            return None;
        }
        PAIRS
            .iter()
            .find_map(|&(provider, shell, native)| match self {
                Direction::ToNative if agent.provider == provider && agent.kind == shell => {
                    Some(Agent::new("ocf", NATIVE_PROVIDER, native))
                }
                Direction::ToShell if agent.provider == NATIVE_PROVIDER && agent.kind == native => {
                    Some(Agent::new("ocf", provider, shell))
                }
                _ => None,
            })
    }

    #[must_use]
    pub fn reverse(self) -> Direction {
        match self {
            Direction::ToNative => Direction::ToShell,
            Direction::ToShell => Direction::ToNative,
        }
    }

    /// "from the shell agents to ours", for the report's title.
    pub fn describe(self) -> &'static str {
        match self {
            Direction::ToNative => "from the shell agents to native-agents",
            Direction::ToShell => "back from native-agents to the shell agents",
        }
    }
}

/// Every agent type our package installs, as `ocf:native:<type>`.
pub fn native_agents() -> Vec<Agent> {
    PAIRS
        .iter()
        .map(|&(_, _, native)| Agent::new("ocf", NATIVE_PROVIDER, native))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pair_reads_both_ways() {
        for &(provider, shell, native) in &PAIRS {
            let from = Agent::new("ocf", provider, shell);
            let ours = Direction::ToNative.target(&from).unwrap();
            assert_eq!(ours.to_string(), format!("ocf:native:{native}"));
            assert_eq!(Direction::ToShell.target(&ours), Some(from.clone()));
            assert_eq!(Direction::ToShell.target(&from), None, "{from} is not ours");
            assert_eq!(
                Direction::ToNative.target(&ours),
                None,
                "{ours} is ours already"
            );
        }
    }

    #[test]
    fn other_agents_are_left_alone() {
        for (class, provider, kind) in [
            ("ocf", "heartbeat", "Dummy"),
            ("ocf", "pacemaker", "Dummy"),
            ("systemd", "", "apache2"),
            ("lsb", "", "IPaddr2"),
            ("ocf", "heartbeat", "ipaddr2"),
        ] {
            let agent = Agent::new(class, provider, kind);
            assert_eq!(Direction::ToNative.target(&agent), None, "{agent}");
            assert_eq!(Direction::ToShell.target(&agent), None, "{agent}");
        }
    }

    #[test]
    fn agent_paths_are_where_the_executor_looks() {
        assert_eq!(
            Agent::new("ocf", "native", "ipaddr2").path("/usr/lib/ocf"),
            "/usr/lib/ocf/resource.d/native/ipaddr2"
        );
    }
}
