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

    /// Mount lines that appeared during the run, less the namespace files other tests' `ip
    /// netns add` mounts meanwhile (they propagate into every mount namespace).
    pub fn new_mounts(&self) -> Vec<&str> {
        self.mounts_after
            .lines()
            .filter(|l| !self.mounts_before.lines().any(|b| b == *l))
            .filter(|l| !l.contains(" nsfs ") && !l.contains("/run/netns"))
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
    mount_ns: Option<u32>,
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
            mount_ns: None,
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

    /// Run in the mount namespace of process `pid` (a [`MountNs`]), where mounts outlive the
    /// agent (`ip netns exec` gives each run a private mount namespace of its own).
    #[must_use]
    pub fn mount_ns(mut self, pid: u32) -> Run {
        self.mount_ns = Some(pid);
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
        let mut cmd = match (&self.netns, self.mount_ns) {
            (Some(ns), _) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, "/bin/sh"]);
                c
            }
            (None, Some(pid)) => {
                let mut c = Command::new("nsenter");
                c.arg(format!("--mount=/proc/{pid}/ns/mnt")).arg("/bin/sh");
                c
            }
            (None, None) => Command::new("/bin/sh"),
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

/// The host's mount table, less the namespace files that `ip netns add` mounts and the
/// scratch mounts other test programs make meanwhile under the temporary directory (the
/// matrix's own scratch directories, `matrix-*`, stay in).
pub fn host_mounts() -> String {
    let tmp = std::env::temp_dir();
    let tmp = tmp.to_string_lossy();
    let foreign = |point: &str| {
        point
            .strip_prefix(tmp.as_ref())
            .is_some_and(|rest| !rest.trim_start_matches('/').starts_with("matrix-"))
    };
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.contains(" nsfs ") && !l.contains("/run/netns"))
        .filter(|l| !l.split(' ').nth(4).is_some_and(foreign))
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

/// A private mount namespace kept alive by a sleeping holder process, for agents whose
/// mounts must outlive one run without touching the host's mount table. Dropping it kills the
/// holder: the namespace and whatever is mounted in it go away.
#[derive(Debug)]
pub struct MountNs {
    holder: std::process::Child,
}

impl MountNs {
    pub fn new() -> MountNs {
        let holder = Command::new("unshare")
            .args(["--mount", "--propagation", "private", "sleep", "infinity"])
            .stdin(Stdio::null())
            .spawn()
            .expect("unshare --mount");
        let ns = MountNs { holder };
        // Wait until the holder has entered its own namespace.
        let own = std::fs::read_link("/proc/self/ns/mnt").expect("own mount namespace");
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::fs::read_link(format!("/proc/{}/ns/mnt", ns.pid())).ok() == Some(own.clone()) {
            assert!(Instant::now() < deadline, "unshare --mount did not start");
            std::thread::sleep(Duration::from_millis(5));
        }
        ns
    }

    pub fn pid(&self) -> u32 {
        self.holder.id()
    }

    /// The namespace's mount table.
    pub fn mountinfo(&self) -> String {
        std::fs::read_to_string(format!("/proc/{}/mountinfo", self.pid())).unwrap_or_default()
    }

    /// True when something is mounted on `dir` in the namespace.
    pub fn is_mounted(&self, dir: &Path) -> bool {
        let dir = dir.to_string_lossy();
        self.mountinfo()
            .lines()
            .any(|l| l.split(' ').nth(4) == Some(dir.as_ref()))
    }
}

impl Default for MountNs {
    fn default() -> MountNs {
        MountNs::new()
    }
}

impl Drop for MountNs {
    fn drop(&mut self) {
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}

/// An ext4 filesystem on a loop device over an image in `dir`; detached on drop.
#[derive(Debug)]
pub struct LoopExt4 {
    pub device: String,
}

impl LoopExt4 {
    pub fn new(dir: &Path) -> LoopExt4 {
        let img = dir.join("ext4.img");
        std::fs::File::create(&img)
            .and_then(|f| f.set_len(64 << 20))
            .expect("the image file");
        let out = Command::new("losetup")
            .args(["--find", "--show"])
            .arg(&img)
            .output()
            .expect("losetup");
        assert!(out.status.success(), "losetup: {out:?}");
        let device = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        let fs = LoopExt4 { device };
        let mkfs = Command::new("mkfs.ext4")
            .args(["-q", "-F", &fs.device])
            .output()
            .expect("mkfs.ext4");
        assert!(mkfs.status.success(), "mkfs.ext4: {mkfs:?}");
        fs
    }
}

impl Drop for LoopExt4 {
    fn drop(&mut self) {
        let _ = Command::new("losetup").args(["-d", &self.device]).output();
    }
}

/// The running processes one of whose arguments is exactly `arg` (httpd's `-f CONFIG`).
pub fn pids_with_arg(arg: &Path) -> Vec<i32> {
    let needle = arg.as_os_str().as_encoded_bytes();
    std::fs::read_dir("/proc")
        .map(|d| {
            d.filter_map(Result::ok)
                .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
                .filter(|pid| {
                    std::fs::read(format!("/proc/{pid}/cmdline"))
                        .is_ok_and(|c| c.split(|b| *b == 0).any(|a| a == needle))
                })
                .filter(|pid| {
                    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
                        s.rsplit_once(')')
                            .is_some_and(|(_, r)| !r.trim_start().starts_with(['Z', 'X']))
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A scratch apache2 configuration in `dir`, listening on 127.0.0.1:`port` (inside the test's
/// network namespace), with mod_status at /server-status and `extra` appended; its path.
pub fn apache_conf(dir: &Scratch, port: u16, extra: &str) -> PathBuf {
    let d = dir.str();
    let m = "/usr/lib/apache2/modules";
    std::fs::create_dir_all(dir.path("htdocs")).expect("writing the test configuration");
    std::fs::write(dir.path("htdocs/index.html"), "<html>ok</html>\n")
        .expect("writing the test configuration");
    let conf = dir.path("httpd.conf");
    std::fs::write(
        &conf,
        format!(
            "ServerRoot {d}\nServerName matrix\nListen 127.0.0.1:{port}\n\
             LoadModule mpm_event_module {m}/mod_mpm_event.so\n\
             LoadModule authz_core_module {m}/mod_authz_core.so\n\
             LoadModule authz_host_module {m}/mod_authz_host.so\n\
             LoadModule status_module {m}/mod_status.so\n\
             LoadModule dir_module {m}/mod_dir.so\n\
             ErrorLog {d}/error.log\nDefaultRuntimeDir {d}/run\n\
             Mutex file:{d}/lock default\nDocumentRoot {d}/htdocs\nStartServers 1\n\
             <Location /server-status>\n  SetHandler server-status\n  Require local\n\
             </Location>\n{extra}"
        ),
    )
    .expect("writing the test configuration");
    conf
}
