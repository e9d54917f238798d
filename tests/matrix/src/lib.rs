//! Runs every agent's real binary the way Pacemaker does, with a time bound, inside a
//! throw-away network namespace, and records what it changed: for the bad-input matrix
//! (`tests/bad_input.rs`), the fault table (`tests/faults.rs`, FAULTS.md) and the state-file
//! checks (`tests/state_files.rs`).
//!
//! The binaries are the workspace's `target/debug/<agent>`; [`agent_bin`] runs
//! `cargo build -p <agent> --bins` once per test process when one is missing or older than
//! its sources, so `cargo test -p bad-input-matrix` works on a fresh clone.
#![allow(clippy::missing_panics_doc)]

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every agent: a folder under agents/ with its xml-metadata/<name>.xml. A new agent is in
/// the matrix as soon as both exist.
pub fn agents() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root().join("agents"))
        .expect("agents/")
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| root().join(format!("xml-metadata/{n}.xml")).is_file())
        .collect();
    names.sort();
    names
}

/// The agent's metadata, parsed by the ocf crate as the agent itself reads it.
pub fn metadata(agent: &str) -> ocf::Metadata {
    let xml = std::fs::read_to_string(root().join(format!("xml-metadata/{agent}.xml")))
        .expect("metadata XML");
    ocf::Metadata::parse(&xml).expect("metadata parses")
}

fn newest(dir: &Path) -> SystemTime {
    let mut t = SystemTime::UNIX_EPOCH;
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.filter_map(Result::ok) {
            let p = e.path();
            let m = if p.is_dir() {
                newest(&p)
            } else {
                e.metadata()
                    .and_then(|m| m.modified())
                    .unwrap_or(SystemTime::UNIX_EPOCH)
            };
            t = t.max(m);
        }
    }
    t
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from)
}

/// The agent's debug binary, built first when missing or older than its sources.
pub fn agent_bin(agent: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    let bin = target_dir().join("debug").join(agent);
    let stale = |name: &str| {
        let bin = target_dir().join("debug").join(name);
        let built = bin
            .metadata()
            .and_then(|m| m.modified())
            .unwrap_or(SystemTime::UNIX_EPOCH);
        let sources = newest(&root().join("agents").join(name).join("src"))
            .max(newest(&root().join("crates")))
            .max(newest(&root().join("xml-metadata")));
        built < sources
    };
    if stale(agent) {
        BUILT.get_or_init(|| {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let mut cmd = Command::new(cargo);
            cmd.current_dir(root()).args(["build", "--bins"]);
            for a in agents() {
                cmd.args(["-p", &a]);
            }
            let status = cmd.status().expect("running cargo build");
            assert!(status.success(), "cargo build of the agents failed");
        });
    }
    assert!(bin.is_file(), "{} missing after cargo build", bin.display());
    bin
}

/// What one bounded run did.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub code: i32,
    pub stderr: String,
    pub elapsed: Duration,
    pub timed_out: bool,
    /// The mount table of the agent's mount namespace before and after it ran.
    pub mounts_before: String,
    pub mounts_after: String,
}

impl Outcome {
    /// The `ocf-exit-reason:` text, if any.
    pub fn reason(&self) -> Option<&str> {
        let at = self.stderr.rfind("ocf-exit-reason:")?;
        self.stderr[at + "ocf-exit-reason:".len()..].lines().next()
    }

    /// A panic or an internal error: never acceptable, whatever the input.
    pub fn panicked(&self) -> bool {
        self.stderr.contains("panicked")
            || self.stderr.contains("internal error")
            || self.stderr.contains("RUST_BACKTRACE")
    }

    /// Mount lines that appeared during the run.
    pub fn new_mounts(&self) -> Vec<&str> {
        self.mounts_after
            .lines()
            .filter(|l| !self.mounts_before.lines().any(|b| b == *l))
            .collect()
    }
}

/// One invocation of an agent: action, environment, namespace, time bound.
#[derive(Debug, Clone)]
pub struct Run {
    bin: PathBuf,
    action: String,
    vars: BTreeMap<String, String>,
    netns: Option<String>,
    limit: Duration,
}

impl Run {
    /// `agent`'s binary with Pacemaker's usual environment and a 20 s operation timeout;
    /// the run itself is killed at 30 s.
    pub fn new(agent: &str, action: &str) -> Run {
        let mut vars = BTreeMap::new();
        for (k, v) in [
            ("OCF_ROOT", "/usr/lib/ocf"),
            ("OCF_RESOURCE_INSTANCE", "matrix"),
            ("OCF_RESOURCE_TYPE", agent),
            ("OCF_RESKEY_CRM_meta_timeout", "20000"),
            ("HA_LOGFACILITY", "none"),
            ("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
        ] {
            vars.insert(k.to_owned(), v.to_owned());
        }
        Run {
            bin: agent_bin(agent),
            action: action.to_owned(),
            vars,
            netns: None,
            limit: Duration::from_secs(30),
        }
    }

    #[must_use]
    pub fn param(mut self, name: &str, value: &str) -> Run {
        self.vars
            .insert(format!("OCF_RESKEY_{name}"), value.to_owned());
        self
    }

    #[must_use]
    pub fn params<'a>(mut self, list: impl IntoIterator<Item = (&'a str, &'a str)>) -> Run {
        for (k, v) in list {
            self = self.param(k, v);
        }
        self
    }

    #[must_use]
    pub fn meta(mut self, name: &str, value: &str) -> Run {
        self.vars
            .insert(format!("OCF_RESKEY_CRM_meta_{name}"), value.to_owned());
        self
    }

    #[must_use]
    pub fn env(mut self, name: &str, value: &str) -> Run {
        self.vars.insert(name.to_owned(), value.to_owned());
        self
    }

    #[must_use]
    pub fn netns(mut self, ns: &str) -> Run {
        self.netns = Some(ns.to_owned());
        self
    }

    /// Kill the run (its whole process group) after `limit`.
    #[must_use]
    pub fn limit(mut self, limit: Duration) -> Run {
        self.limit = limit;
        self
    }

    /// Run it. The agent runs under `sh -c` only to snapshot its own mount namespace before
    /// and after (`ip netns exec` gives it a private one); every value stays in the
    /// environment, never in a command line.
    pub fn run(&self) -> Outcome {
        let dir = std::env::temp_dir().join(format!(
            "matrix-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&dir).expect("scratch dir");
        let (before, after) = (dir.join("before"), dir.join("after"));
        let script = "cat /proc/self/mountinfo >\"$MATRIX_BEFORE\"; \"$@\"; rc=$?; \
                      cat /proc/self/mountinfo >\"$MATRIX_AFTER\"; exit $rc";
        let mut cmd = match &self.netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, "/bin/sh"]);
                c
            }
            None => Command::new("/bin/sh"),
        };
        cmd.args(["-c", script, "sh"])
            .arg(&self.bin)
            .arg(&self.action)
            .env_clear()
            .envs(&self.vars)
            .env("MATRIX_BEFORE", &before)
            .env("MATRIX_AFTER", &after)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .process_group(0);
        let start = Instant::now();
        let mut child = cmd.spawn().expect("spawning the agent");
        let pid = Pid::from_raw(i32::try_from(child.id()).expect("pid"));
        let stderr = child.stderr.take().expect("stderr pipe");
        let reader = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = std::io::Read::read_to_string(&mut std::io::BufReader::new(stderr), &mut s);
            s
        });
        let mut timed_out = false;
        let status = loop {
            if let Some(status) = child.try_wait().expect("waiting for the agent") {
                break status;
            }
            if start.elapsed() > self.limit {
                timed_out = true;
                let _ = killpg(pid, Signal::SIGKILL);
                break child.wait().expect("reaping the agent");
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let elapsed = start.elapsed();
        let stderr = if timed_out {
            String::new()
        } else {
            reader.join().unwrap_or_default()
        };
        let out = Outcome {
            code: status.code().unwrap_or(-1),
            stderr,
            elapsed,
            timed_out,
            mounts_before: std::fs::read_to_string(&before).unwrap_or_default(),
            mounts_after: std::fs::read_to_string(&after).unwrap_or_default(),
        };
        let _ = std::fs::remove_dir_all(&dir);
        out
    }
}

/// Addresses (`ip -o addr`), optionally of a namespace, without the changing lifetimes and
/// without IPv6 link-local addresses (the kernel adds them, and their DAD flags change, on
/// its own schedule).
pub fn addresses(netns: Option<&str>) -> String {
    let mut cmd = Command::new("ip");
    if let Some(ns) = netns {
        cmd.args(["-n", ns]);
    }
    let out = cmd.args(["-o", "addr", "show"]).output().expect("ip addr");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.contains("inet6 fe80:"))
        .map(|l| {
            l.split("valid_lft")
                .next()
                .unwrap_or(l)
                .trim_end()
                .to_owned()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The host's mount table.
/// The host's mount table, less the namespace files that `ip netns add` mounts.
pub fn host_mounts() -> String {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.contains(" nsfs ") && !l.contains("/run/netns"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A scratch directory removed on drop.
#[derive(Debug)]
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(tag: &str) -> Scratch {
        let p = std::env::temp_dir().join(format!("matrix-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("scratch dir");
        Scratch(p)
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }

    pub fn str(&self) -> &str {
        self.0.to_str().expect("utf-8 temp dir")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
