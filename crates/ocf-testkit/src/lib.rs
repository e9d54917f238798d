//! Test helpers for agents' end-to-end tests (the `uutests` of this project): run an agent
//! binary the way Pacemaker does, decide whether a privileged test may run, and make
//! throw-away network namespaces and a one-node Pacemaker ([`pacemaker`]). For tests only; no
//! agent links it.
#![allow(clippy::missing_panics_doc)]

pub mod pacemaker;

use ocf::Status;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// True under CI: `CI` is set to anything but empty, `0` or `false`. `tests/run.sh` exports
/// `CI=true`; a CI system's own `CI=1` counts too, so an inherited value never turns a skip
/// back into a silent pass.
pub fn in_ci() -> bool {
    ci_value_means_ci(std::env::var("CI").ok().as_deref())
}

fn ci_value_means_ci(value: Option<&str>) -> bool {
    !matches!(
        value.map(str::trim),
        None | Some("" | "0" | "false" | "FALSE" | "False")
    )
}

/// A fresh, empty directory for one test under the temporary directory, named `name` and the
/// test process's id, mode 0755 so that a test's unprivileged user (`nobody`) can reach what
/// it puts there. Whatever an earlier run left under that name is removed first.
pub fn scratch_dir(name: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}

/// True when this test may use root powers. Without root the test is skipped with a message,
/// but under CI ([`in_ci`], where CI runs as root) a skip is a failure: it panics.
pub fn require_root(test: &str) -> bool {
    if nix::unistd::geteuid().is_root() {
        return true;
    }
    assert!(
        !in_ci(),
        "{test}: needs root, and in CI a skipped privileged test is a failure"
    );
    eprintln!("SKIP {test}: needs root");
    false
}

/// True when `program` is found on PATH (or is an existing path).
pub fn have_program(program: &str) -> bool {
    find_program(program).is_some()
}

/// The full path of `program` on PATH.
pub fn find_program(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        return Path::new(program).exists().then(|| PathBuf::from(program));
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/sbin:/usr/bin:/sbin:/bin".into());
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

/// Like [`require_root`], for a program the test needs: missing is a skip, or a failure in CI.
pub fn require_program(test: &str, program: &str) -> bool {
    if have_program(program) {
        return true;
    }
    assert!(
        !in_ci(),
        "{test}: needs {program}, and in CI a skipped test is a failure"
    );
    eprintln!("SKIP {test}: needs {program}");
    false
}

/// One invocation of an agent binary, built up like Pacemaker's environment.
#[derive(Debug, Clone)]
pub struct AgentCmd {
    bin: PathBuf,
    action: String,
    vars: BTreeMap<String, String>,
    netns: Option<String>,
}

impl AgentCmd {
    /// The agent at `bin`, with a 20 s timeout and an instance name of "test".
    pub fn new(bin: impl Into<PathBuf>) -> AgentCmd {
        let mut vars = BTreeMap::new();
        vars.insert("OCF_ROOT".into(), "/usr/lib/ocf".into());
        vars.insert("OCF_RESOURCE_INSTANCE".into(), "test".into());
        vars.insert("OCF_RESKEY_CRM_meta_timeout".into(), "20000".into());
        vars.insert("HA_LOGFACILITY".into(), "none".into());
        AgentCmd {
            bin: bin.into(),
            action: "monitor".into(),
            vars,
            netns: None,
        }
    }

    /// The action (argv[1]).
    #[must_use]
    pub fn action(mut self, action: &str) -> AgentCmd {
        action.clone_into(&mut self.action);
        self
    }

    /// An instance parameter (`OCF_RESKEY_<name>`).
    #[must_use]
    pub fn param(mut self, name: &str, value: &str) -> AgentCmd {
        self.vars
            .insert(format!("OCF_RESKEY_{name}"), value.to_owned());
        self
    }

    /// A meta-attribute (`OCF_RESKEY_CRM_meta_<name>`).
    #[must_use]
    pub fn meta(mut self, name: &str, value: &str) -> AgentCmd {
        self.vars
            .insert(format!("OCF_RESKEY_CRM_meta_{name}"), value.to_owned());
        self
    }

    /// Any other environment variable.
    #[must_use]
    pub fn env(mut self, name: &str, value: &str) -> AgentCmd {
        self.vars.insert(name.to_owned(), value.to_owned());
        self
    }

    /// A recurring monitor rather than a probe.
    #[must_use]
    pub fn recurring(self) -> AgentCmd {
        self.meta("interval", "10000")
    }

    /// Run inside network namespace `name` (through `ip netns exec`).
    #[must_use]
    pub fn in_netns(mut self, name: &str) -> AgentCmd {
        self.netns = Some(name.to_owned());
        self
    }

    /// Run it and collect the result.
    pub fn run(&self) -> AgentResult {
        let mut cmd = match &self.netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns]).arg(&self.bin);
                c
            }
            None => Command::new(&self.bin),
        };
        cmd.arg(&self.action);
        for (k, v) in &self.vars {
            cmd.env(k, v);
        }
        let output = cmd
            .output()
            .unwrap_or_else(|e| panic!("running {}: {e}", self.bin.display()));
        AgentResult {
            action: self.action.clone(),
            output,
        }
    }
}

/// What one agent invocation did.
#[derive(Debug)]
pub struct AgentResult {
    pub action: String,
    pub output: Output,
}

impl AgentResult {
    /// The exit code (-1 when killed by a signal).
    pub fn code(&self) -> i32 {
        self.output.status.code().unwrap_or(-1)
    }

    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    /// The exit reason Pacemaker would show (after the last `ocf-exit-reason:`).
    pub fn exit_reason(&self) -> Option<String> {
        let err = self.stderr();
        let at = err.rfind("ocf-exit-reason:")?;
        let rest = &err[at + "ocf-exit-reason:".len()..];
        Some(rest.lines().next().unwrap_or("").to_owned())
    }

    /// Assert the exit status, showing stderr when it differs.
    #[track_caller]
    pub fn assert_status(&self, expected: Status) -> &AgentResult {
        assert_eq!(
            self.code(),
            i32::from(expected.code()),
            "{} exited {} (expected {expected}); stderr:\n{}",
            self.action,
            self.code(),
            self.stderr()
        );
        self
    }

    /// Assert the exit reason contains `needle`.
    #[track_caller]
    pub fn assert_reason_contains(&self, needle: &str) -> &AgentResult {
        let reason = self.exit_reason().unwrap_or_default();
        assert!(
            reason.contains(needle),
            "{}: exit reason {reason:?} lacks {needle:?}; stderr:\n{}",
            self.action,
            self.stderr()
        );
        self
    }
}

/// Run a command and panic with its output unless it succeeds; returns stdout.
#[track_caller]
pub fn sh(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A network namespace made for one test and deleted (with everything in it) when dropped.
#[derive(Debug)]
pub struct Netns {
    name: String,
}

impl Netns {
    /// A new namespace with a name unique to this process and `tag`, `lo` up.
    pub fn new(tag: &str) -> Netns {
        let name = format!("oa-{tag}-{}", std::process::id());
        let _ = Command::new("ip").args(["netns", "del", &name]).output();
        sh("ip", &["netns", "add", &name]);
        let ns = Netns { name };
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// `ip ARGS` inside the namespace; returns stdout.
    #[track_caller]
    pub fn ip(&self, args: &[&str]) -> String {
        let mut all = vec!["-n", &self.name];
        all.extend_from_slice(args);
        sh("ip", &all)
    }

    /// Any command inside the namespace; returns its output without checking it.
    pub fn exec(&self, program: &str, args: &[&str]) -> Output {
        Command::new("ip")
            .args(["netns", "exec", &self.name, program])
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("ip netns exec {program}: {e}"))
    }

    /// A veth pair between this namespace (`here`) and `peer` (`there`), both up.
    pub fn veth_to(&self, here: &str, peer: &Netns, there: &str) {
        sh(
            "ip",
            &[
                "-n", &self.name, "link", "add", here, "type", "veth", "peer", "name", there,
                "netns", &peer.name,
            ],
        );
        self.ip(&["link", "set", here, "up"]);
        peer.ip(&["link", "set", there, "up"]);
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}

#[cfg(test)]
mod tests {
    use super::ci_value_means_ci;

    #[test]
    fn any_ci_value_but_empty_0_or_false_is_ci() {
        for on in ["true", "1", "yes", "TRUE"] {
            assert!(ci_value_means_ci(Some(on)), "CI={on}");
        }
        for off in [None, Some(""), Some("0"), Some("false")] {
            assert!(!ci_value_means_ci(off), "CI={off:?}");
        }
    }
}
