//! `bench scale`: many floating IPs in the one-node Pacemaker of `tests/pacemaker`, ours
//! (`ipaddr2`, built from this tree) against the anchor (`ocf:heartbeat:IPaddr2`) in the same
//! run, their turns alternating between rounds. For each side: the time from one CIB push of N
//! primitives to all N Started; the CPU an hour of monitoring costs, read from a cgroup v2
//! around pacemaker-execd over a fixed window (the executor and every agent process it forks);
//! the time from `standby on` to all N Stopped (one node: "away" is stopped) and from
//! `standby off` to all N Started again. Each address is checked in the namespace after each
//! move. As root; hold the machine's Pacemaker lock around it (the cluster is shared).

mod cgroup;
mod cib;
mod table;

use crate::fixtures::{NetnsPair, run};
use cgroup::{Cgroups, CpuStat};
use cib::State;
use ocf_testkit::pacemaker::{self, OneNodeCluster};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The private OCF provider our binary is copied under for the run (removed after).
const PROVIDER: &str = "native-scale";
const OCF_RESOURCE_D: &str = "/usr/lib/ocf/resource.d";
/// Where src/bin/floor-agent.rs keeps its resources' files.
const FLOOR_STATE_DIR: &str = "/run/native-agents-floor";
const EXECD: &str = "execd";
const DAEMONS: &str = "daemons";

#[derive(clap::Args, Debug)]
pub struct ScaleArgs {
    /// Floating IPs per side, 192.0.2.10 onwards, at most 240 (default 100; 10 with --quick).
    #[arg(long)]
    resources: Option<usize>,
    /// Seconds of monitoring measured per side (default 300; 20 with --quick).
    #[arg(long)]
    window: Option<u64>,
    /// Rounds, each running every side, the order reversed every other round (default 2; 1
    /// with --quick).
    #[arg(long)]
    rounds: Option<usize>,
    /// Monitor interval in seconds.
    #[arg(long, default_value_t = 10)]
    interval: u32,
    /// 10 IPs, a 20 s window, one round: the CI step (about 1.5 minutes).
    #[arg(long)]
    quick: bool,
    /// Exit 3 when the anchor/ours ratio of the executor's monitoring CPU is below --gate.
    #[arg(long)]
    strict: bool,
    /// The ratio --strict requires.
    #[arg(long, default_value_t = 5.0)]
    gate: f64,
    /// Markdown report.
    #[arg(long, default_value = "target/bench/scale.md")]
    out: PathBuf,
    /// Use target/release/ipaddr2 (and floor-agent) as they are instead of building them first.
    #[arg(long)]
    no_build: bool,
    /// A third side: `floor-agent`, which manages nothing, for what every agent pays per
    /// operation in the executor (fork, exec, Pacemaker's own work).
    #[arg(long)]
    floor: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Ours,
    Anchor,
    Floor,
}

impl Side {
    pub fn name(self) -> &'static str {
        match self {
            Side::Ours => "ours",
            Side::Anchor => "anchor",
            Side::Floor => "floor",
        }
    }
}

/// One phase that ends when every resource reached a state.
#[derive(Debug, Clone)]
pub struct Phase {
    pub wall: Duration,
    /// The executor's own timing of each resource's start or stop (`exec-time`), ms.
    pub exec_ms: Vec<u64>,
    pub execd: Duration,
    pub daemons: Duration,
    pub load: String,
    pub throttled: usize,
}

/// The monitoring window.
#[derive(Debug, Clone)]
pub struct Window {
    pub secs: f64,
    pub execd: CpuStat,
    /// What pacemaker-execd spent itself (its utime+stime), the rest of `execd` being the
    /// agents it forked.
    pub execd_self: Duration,
    pub daemons: CpuStat,
    pub load_start: String,
    pub load_end: String,
    pub throttled: usize,
}

#[derive(Debug, Clone)]
pub struct SideResult {
    pub side: Side,
    pub round: usize,
    pub start: Phase,
    pub window: Window,
    pub away: Phase,
    pub back: Phase,
}

#[derive(Debug, Clone, Copy)]
pub struct Setup {
    pub resources: usize,
    pub interval: u32,
    pub window: u64,
    pub rounds: usize,
}

/// Everything the run holds, in drop order: the cluster is stopped before the cgroups are
/// removed and the namespace deleted.
struct Bench {
    cluster: OneNodeCluster,
    cgroups: Cgroups,
    ns: NetnsPair,
    execd_pid: i32,
    log: PathBuf,
    setup: Setup,
}

pub fn main(args: &ScaleArgs) -> Result<bool, String> {
    if !nix::unistd::geteuid().is_root() {
        return Err("bench scale runs as root (Pacemaker, network namespaces, cgroups)".into());
    }
    let (resources, window, rounds) = if args.quick {
        (10, 20, 1)
    } else {
        (100, 300, 2)
    };
    let setup = Setup {
        resources: args.resources.unwrap_or(resources),
        window: args.window.unwrap_or(window),
        rounds: args.rounds.unwrap_or(rounds).max(1),
        interval: args.interval.max(1),
    };
    if setup.resources == 0 || setup.resources > 240 {
        return Err("--resources: 1 to 240 (192.0.2.10 to 192.0.2.249)".into());
    }
    let repo = crate::repo_root();
    if !args.no_build {
        crate::build(&repo, &["IPaddr2"])?;
        if args.floor {
            build_floor_agent(&repo)?;
        }
    }
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| repo.join("target"), PathBuf::from);
    let anchor = Path::new(OCF_RESOURCE_D).join("heartbeat/IPaddr2");
    if !anchor.exists() {
        return Err(format!(
            "{}: missing (apt-get install resource-agents)",
            anchor.display()
        ));
    }
    let harness = pacemaker::harness_script();
    let running = Command::new("bash")
        .arg(&harness)
        .arg("status")
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("{}: {e}", harness.display()))?;
    if running.success() {
        return Err(
            "a one-node Pacemaker is already running: bench scale needs its own, with nothing \
             else in it (stop it with tests/pacemaker/cluster.sh stop)"
                .into(),
        );
    }
    let machine = crate::machine::Machine::read(&repo);
    let mut binaries = vec![target.join("release/ipaddr2")];
    if args.floor {
        binaries.push(target.join("release/floor-agent"));
    }
    let provider = PrivateProvider::install(&binaries)?;
    let started = Instant::now();
    let bench = Bench::new(setup)?;
    eprintln!(
        "bench scale: {} IPs per side, {} s monitors, a {} s window, {} round(s); executor pid {}",
        bench.setup.resources,
        bench.setup.interval,
        bench.setup.window,
        bench.setup.rounds,
        bench.execd_pid
    );
    let idle = bench.idle()?;
    let mut results = Vec::new();
    for round in 0..bench.setup.rounds {
        let mut order = vec![Side::Ours, Side::Anchor];
        if args.floor {
            order.insert(0, Side::Floor);
        }
        if round % 2 == 1 {
            order.reverse();
        }
        for side in order {
            results.push(bench.side(side, round)?);
        }
    }
    let versions = table::Versions::read();
    let setup = bench.setup;
    drop(bench);
    drop(provider);
    let report = table::Report {
        machine,
        versions,
        setup,
        idle,
        results,
        gate: args.gate,
    };
    let md = report.markdown();
    if let Some(dir) = args.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(&args.out, &md).map_err(|e| format!("{}: {e}", args.out.display()))?;
    println!("{md}");
    eprintln!(
        "bench scale: wrote {} in {:.0} s",
        args.out.display(),
        started.elapsed().as_secs_f64()
    );
    if !report.gate_holds() {
        eprintln!(
            "bench scale: the executor's monitoring CPU, anchor/ours, is {:.1}, below the gate {}",
            report.monitoring_ratio(),
            args.gate
        );
        return Ok(!args.strict);
    }
    Ok(true)
}

/// Our binary under `resource.d/native-scale/ipaddr2` for the run, so Pacemaker runs exactly
/// what this tree built (the installed `ocf:native:ipaddr2` may be older).
struct PrivateProvider {
    dir: PathBuf,
}

impl PrivateProvider {
    fn install(binaries: &[PathBuf]) -> Result<PrivateProvider, String> {
        use std::os::unix::fs::PermissionsExt;
        let dir = Path::new(OCF_RESOURCE_D).join(PROVIDER);
        // A run that died mid-way may have left floor-agent's files: a probe would find those
        // resources running before their start. No cluster runs now (checked before).
        let _ = std::fs::remove_dir_all(FLOOR_STATE_DIR);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let provider = PrivateProvider { dir };
        for binary in binaries {
            if !binary.is_file() {
                return Err(format!("{}: not built", binary.display()));
            }
            let to = provider.dir.join(binary.file_name().unwrap_or_default());
            std::fs::copy(binary, &to)
                .and_then(|_| std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o755)))
                .map_err(|e| format!("{} to {}: {e}", binary.display(), to.display()))?;
        }
        Ok(provider)
    }
}

/// `cargo build --release --locked -p bench --bin floor-agent`.
fn build_floor_agent(repo: &Path) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(repo)
        .args([
            "build",
            "--release",
            "--locked",
            "-p",
            "bench",
            "--bin",
            "floor-agent",
        ])
        .status()
        .map_err(|e| format!("cargo build: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("cargo build of floor-agent failed ({status})"))
    }
}

impl Drop for PrivateProvider {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        // floor-agent's state directory (empty once its resources have stopped; the cluster is
        // stopped before this drop).
        let _ = std::fs::remove_dir_all(FLOOR_STATE_DIR);
    }
}

/// Pid and name (`comm`) of every process whose parent is `parent`.
fn children_of(parent: i32) -> Vec<(i32, String)> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let stat = proc_stat(&stat)?;
            (stat.ppid == parent).then_some((pid, stat.comm))
        })
        .collect()
}

/// What the bench reads from a `/proc/PID/stat` line (`pid (comm) state ppid ...`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct ProcStat {
    ppid: i32,
    comm: String,
    /// utime + stime: the process's own CPU, not its children's, in clock ticks.
    own_ticks: u64,
}

/// The name may itself hold spaces and parentheses, so it ends at the last `)`.
fn proc_stat(stat: &str) -> Option<ProcStat> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat.get(open + 1..close)?.to_owned();
    // Fields from the state (field 3) on: ppid is field 4, utime 14, stime 15.
    let rest: Vec<&str> = stat.get(close + 1..)?.split_whitespace().collect();
    let ticks = |i: usize| rest.get(i)?.parse::<u64>().ok();
    Some(ProcStat {
        ppid: rest.get(1)?.parse().ok()?,
        comm,
        own_ticks: ticks(11)? + ticks(12)?,
    })
}

/// The CPU process `pid` itself has spent (without the children it forked).
fn own_cpu(pid: i32) -> Result<Duration, String> {
    let path = format!("/proc/{pid}/stat");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    let stat = proc_stat(&text).ok_or_else(|| format!("{path}: unreadable: {text:?}"))?;
    let hz = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .and_then(|t| u64::try_from(t).ok())
        .filter(|t| *t > 0)
        .unwrap_or(100);
    Ok(Duration::from_secs_f64(stat.own_ticks as f64 / hz as f64))
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split(' ')
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn cib_status() -> Result<String, String> {
    run("cibadmin", &["--query", "--scope", "status"])
}

fn primitives(side: Side, ids: &[String], ns: &str, interval: u32) -> String {
    let (provider, agent) = match side {
        Side::Ours => (PROVIDER, "ipaddr2"),
        Side::Anchor => ("heartbeat", "IPaddr2"),
        Side::Floor => (PROVIDER, "floor-agent"),
    };
    let mut xml = String::from("<resources>\n");
    for (i, id) in ids.iter().enumerate() {
        let ip = format!("192.0.2.{}", 10 + i);
        let _ = write!(
            xml,
            r#"<primitive id="{id}" class="ocf" provider="{provider}" type="{agent}">
  <instance_attributes id="{id}-params">
    <nvpair id="{id}-ip" name="ip" value="{ip}"/>
    <nvpair id="{id}-cidr" name="cidr_netmask" value="24"/>
    <nvpair id="{id}-ns" name="network_namespace" value="{ns}"/>
  </instance_attributes>
  <operations>
    <op id="{id}-start" name="start" interval="0s" timeout="60s"/>
    <op id="{id}-stop" name="stop" interval="0s" timeout="60s"/>
    <op id="{id}-monitor" name="monitor" interval="{interval}s" timeout="30s"/>
  </operations>
</primitive>
"#
        );
    }
    xml.push_str("</resources>\n");
    xml
}

/// `cibadmin --replace -o resources`, the XML on stdin: one CIB update for every resource.
fn replace_resources(xml: &str) -> Result<(), String> {
    use std::io::Write;
    let mut child = Command::new("cibadmin")
        .args(["--replace", "-o", "resources", "--xml-pipe"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cibadmin: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(xml.as_bytes())
            .map_err(|e| format!("cibadmin: writing the resources: {e}"))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("cibadmin: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "cibadmin --replace -o resources failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

impl Bench {
    fn new(setup: Setup) -> Result<Bench, String> {
        let mut cgroups = Cgroups::new(&[EXECD, DAEMONS])?;
        let ns = NetnsPair::new()?;
        let cluster = OneNodeCluster::start("bench scale")
            .ok_or("the one-node Pacemaker cannot run here (root, corosync, pacemaker)")?;
        let dir = pacemaker::harness_dir();
        let pid_file = dir.join("pacemakerd.pid");
        let pacemakerd: i32 = std::fs::read_to_string(&pid_file)
            .map_err(|e| format!("{}: {e}", pid_file.display()))?
            .trim()
            .parse()
            .map_err(|e| format!("{}: {e}", pid_file.display()))?;
        let daemons = children_of(pacemakerd);
        let execd_pid = daemons
            .iter()
            .find(|(_, name)| name == "pacemaker-execd")
            .map(|(pid, _)| *pid)
            .ok_or_else(|| {
                format!("no pacemaker-execd among pacemakerd's children: {daemons:?}")
            })?;
        // The executor alone in its leaf, so the agents it forks are counted there; the other
        // daemons (and pacemakerd) beside it, to see what the rest of Pacemaker spends.
        cgroups.adopt(EXECD, execd_pid)?;
        cgroups.adopt(DAEMONS, pacemakerd)?;
        for (pid, _) in daemons.iter().filter(|(pid, _)| *pid != execd_pid) {
            cgroups.adopt(DAEMONS, *pid)?;
        }
        eprintln!(
            "bench scale: Pacemaker's daemons in {} ({EXECD}: pacemaker-execd {execd_pid}; {DAEMONS}: {})",
            cgroups.top().display(),
            daemons
                .iter()
                .filter(|(pid, _)| *pid != execd_pid)
                .map(|(pid, name)| format!("{name} {pid}"))
                .chain([format!("pacemakerd {pacemakerd}")])
                .collect::<Vec<_>>()
                .join(", ")
        );
        Ok(Bench {
            cluster,
            cgroups,
            ns,
            execd_pid,
            log: dir.join("pacemaker.log"),
            setup,
        })
    }

    fn cpu(&self) -> Result<(CpuStat, CpuStat), String> {
        Ok((
            self.cgroups.cpu(Some(EXECD))?,
            self.cgroups.cpu(Some(DAEMONS))?,
        ))
    }

    /// Lines of Pacemaker's log so far; `throttled_since` counts the controller's high-load
    /// notices after that point (it then runs fewer actions at once).
    fn log_lines(&self) -> usize {
        std::fs::read_to_string(&self.log).map_or(0, |t| t.lines().count())
    }

    fn throttled_since(&self, line: usize) -> usize {
        std::fs::read_to_string(&self.log).map_or(0, |t| {
            t.lines()
                .skip(line)
                .filter(|l| l.contains("High CPU load detected") || l.contains("High IO load"))
                .count()
        })
    }

    /// The executor must be the one we put in the cgroup: a respawned one would run its
    /// agents elsewhere and the figures would count nothing.
    fn check_execd(&self) -> Result<(), String> {
        let procs = self.cgroups.top().join(EXECD).join("cgroup.procs");
        let inside = std::fs::read_to_string(&procs).unwrap_or_default();
        if inside.lines().any(|l| l == self.execd_pid.to_string()) {
            Ok(())
        } else {
            Err(format!(
                "pacemaker-execd {} is gone from {} (did pacemakerd respawn it?)",
                self.execd_pid,
                procs.display()
            ))
        }
    }

    /// CPU of the executor and the other daemons with no resource, over a short window.
    fn idle(&self) -> Result<Window, String> {
        let secs = (self.setup.window / 5).clamp(10, 60);
        eprintln!("bench scale: idle cluster, {secs} s ...");
        self.watch(Duration::from_secs(secs))
    }

    /// Sleep `span` (nothing polls meanwhile) and return what the daemons spent.
    fn watch(&self, span: Duration) -> Result<Window, String> {
        let line = self.log_lines();
        let load_start = loadavg();
        let (e0, d0) = self.cpu()?;
        let s0 = own_cpu(self.execd_pid)?;
        let t = Instant::now();
        std::thread::sleep(span);
        let (e1, d1) = self.cpu()?;
        let s1 = own_cpu(self.execd_pid)?;
        let secs = t.elapsed().as_secs_f64();
        self.check_execd()?;
        Ok(Window {
            secs,
            execd: e1.since(e0),
            execd_self: s1.saturating_sub(s0),
            daemons: d1.since(d0),
            load_start,
            load_end: loadavg(),
            throttled: self.throttled_since(line),
        })
    }

    /// Run `act`, then poll the CIB until every resource of `ids` is `want` (a failure ends
    /// the wait at once); the wall time from `act` and the CPU spent meanwhile.
    fn phase(
        &self,
        what: &str,
        ids: &[String],
        want: &State,
        act: impl FnOnce() -> Result<(), String>,
    ) -> Result<Phase, String> {
        let limit = Duration::from_secs(120 + 2 * ids.len() as u64);
        let line = self.log_lines();
        let (e0, d0) = self.cpu()?;
        let t = Instant::now();
        act()?;
        let mut reported = Instant::now();
        let last_status = loop {
            let xml = cib_status()?;
            let states = cib::states(&xml)?;
            let (n, failure) = cib::count(&states, ids, want);
            if let Some(f) = failure {
                return Err(format!("{what}: a failed action: {f}"));
            }
            if n == ids.len() {
                break xml;
            }
            if t.elapsed() > limit {
                return Err(format!(
                    "{what}: {n} of {} {want:?} after {limit:?}",
                    ids.len()
                ));
            }
            if reported.elapsed() >= Duration::from_secs(15) {
                eprintln!(
                    "bench scale: {what}: {n} of {} {want:?} after {:.0} s",
                    ids.len(),
                    t.elapsed().as_secs_f64()
                );
                reported = Instant::now();
            }
            std::thread::sleep(Duration::from_millis(200));
        };
        let wall = t.elapsed();
        let (e1, d1) = self.cpu()?;
        self.check_execd()?;
        let operation = if *want == State::Stopped {
            "stop"
        } else {
            "start"
        };
        let exec_ms = cib::exec_times(&last_status, ids, operation)?;
        eprintln!("bench scale: {what}: {:.1} s", wall.as_secs_f64());
        Ok(Phase {
            wall,
            exec_ms,
            execd: e1.since(e0).usage,
            daemons: d1.since(d0).usage,
            load: loadavg(),
            throttled: self.throttled_since(line),
        })
    }

    /// crm_mon's own view (one call): every resource in `role`, none with a failed action.
    fn crm_mon_agrees(&self, ids: &[String], role: &str) -> Result<(), String> {
        let xml = self.cluster.crm_mon_xml();
        for id in ids {
            let seen = pacemaker::resource_role(&xml, id);
            if seen.as_deref() != Some(role) {
                return Err(format!("crm_mon shows {id} as {seen:?}, not {role}"));
            }
            let failures = pacemaker::resource_failures(&xml, id);
            if !failures.is_empty() {
                return Err(format!(
                    "crm_mon shows failed actions of {id}: {failures:?}"
                ));
            }
        }
        Ok(())
    }

    /// How many of the side's addresses are on `v0` in the namespace.
    fn addresses_up(&self) -> Result<usize, String> {
        let out = run(
            "ip",
            &["-n", &self.ns.name, "-o", "-4", "addr", "show", "dev", "v0"],
        )?;
        let ours = |a: &str| {
            a.strip_prefix("192.0.2.")
                .and_then(|h| h.strip_suffix("/24"))
                .and_then(|h| h.parse::<usize>().ok())
                .is_some_and(|h| (10..10 + self.setup.resources).contains(&h))
        };
        Ok(out
            .lines()
            .filter(|l| l.split_whitespace().nth(3).is_some_and(ours))
            .count())
    }

    /// `want` of the side's addresses up (none for the floor, which manages no address).
    fn expect_addresses(&self, side: Side, what: &str, want: usize) -> Result<(), String> {
        let want = if side == Side::Floor { 0 } else { want };
        let up = self.addresses_up()?;
        if up == want {
            Ok(())
        } else {
            Err(format!(
                "{what}: {up} of the {} addresses on v0 in {}, not {want}",
                self.setup.resources, self.ns.name
            ))
        }
    }

    fn standby(&self, on: bool) -> Result<(), String> {
        let node = self.cluster.node();
        run(
            "crm_attribute",
            &[
                "--node",
                node,
                "--name",
                "standby",
                "--update",
                if on { "on" } else { "off" },
            ],
        )
        .map(drop)
    }

    fn side(&self, side: Side, round: usize) -> Result<SideResult, String> {
        let n = self.setup.resources;
        let ids: Vec<String> = (0..n)
            .map(|i| format!("scale-{}-{round}-{i}", side.name()))
            .collect();
        let label = |what: &str| format!("round {} {}: {what}", round + 1, side.name());
        let xml = primitives(side, &ids, &self.ns.name, self.setup.interval);
        let start = self.phase(
            &label(&format!("push to {n} Started")),
            &ids,
            &State::Started,
            || replace_resources(&xml),
        )?;
        self.crm_mon_agrees(&ids, "Started")?;
        self.expect_addresses(side, &label("started"), n)?;
        // The first recurring monitors follow the starts: wait for every one before the window.
        let t = Instant::now();
        while cib::monitored(&cib_status()?, &ids, self.setup.interval * 1000)? < n {
            if t.elapsed() > Duration::from_secs(u64::from(self.setup.interval) + 60) {
                return Err(label("not every recurring monitor ran"));
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        eprintln!(
            "{}",
            label(&format!("monitoring, {} s ...", self.setup.window))
        );
        let window = self.watch(Duration::from_secs(self.setup.window))?;
        let (_, failure) = cib::count(&cib::states(&cib_status()?)?, &ids, &State::Started);
        if let Some(f) = failure {
            return Err(label(&format!("a failure while monitoring: {f}")));
        }
        self.crm_mon_agrees(&ids, "Started")?;
        let away = self.phase(&label("standby on"), &ids, &State::Stopped, || {
            self.standby(true)
        })?;
        self.expect_addresses(side, &label("stopped"), 0)?;
        let back = self.phase(&label("standby off"), &ids, &State::Started, || {
            self.standby(false)
        })?;
        self.expect_addresses(side, &label("back"), n)?;
        // Remove them: deleted while running, Pacemaker stops them as orphans.
        replace_resources("<resources/>")?;
        let t = Instant::now();
        loop {
            let states = cib::states(&cib_status()?)?;
            let left = ids
                .iter()
                .filter(|id| states.get(*id).is_some_and(|s| *s != State::Stopped))
                .count();
            if left == 0 && self.addresses_up()? == 0 {
                break;
            }
            if t.elapsed() > Duration::from_secs(120 + 2 * n as u64) {
                return Err(label(&format!(
                    "{left} resources not stopped after deletion"
                )));
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        Ok(SideResult {
            side,
            round,
            start,
            window,
            away,
            back,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_parent_and_name_from_proc_stat() {
        let stat = |comm: &str| format!("77 ({comm}) R 5 77 77 0 -1 0 0 0 0 0 3 4 0 0 20 0 1 0");
        let name = |comm: &str| proc_stat(&stat(comm)).map(|s| (s.ppid, s.comm));
        assert_eq!(
            name("pacemaker-execd"),
            Some((5, "pacemaker-execd".to_owned()))
        );
        // A name with a space and a parenthesis ends at the last ')'.
        assert_eq!(name("a) b (c"), Some((5, "a) b (c".to_owned())));
        assert_eq!(proc_stat("garbage"), None);
    }

    #[test]
    fn reads_a_process_own_cpu_ticks_from_proc_stat() {
        // pacemaker-execd's line on this host: utime 52, stime 31 (fields 14 and 15); its
        // children's times (cutime 4123, cstime 2210) are not its own.
        let stat = "26441 (pacemaker-execd) S 26433 26433 26433 0 -1 4194560 1631 106214 0 0 \
                    52 31 4123 2210 20 0 1 0 631530 27230208 2343 18446744073709551615";
        assert_eq!(
            proc_stat(stat),
            Some(ProcStat {
                ppid: 26433,
                comm: "pacemaker-execd".into(),
                own_ticks: 83
            })
        );
        assert_eq!(proc_stat("1 (x) S 0 1 1"), None);
    }

    #[test]
    fn each_primitive_gets_its_own_address_and_the_namespace() {
        let ids = ["r0".to_owned(), "r1".to_owned()];
        let xml = primitives(Side::Anchor, &ids, "ns1", 10);
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let prims: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name("primitive"))
            .collect();
        assert_eq!(prims.len(), 2);
        assert_eq!(prims[0].attribute("provider"), Some("heartbeat"));
        assert_eq!(prims[0].attribute("type"), Some("IPaddr2"));
        let value = |p: &roxmltree::Node<'_, '_>, name: &str| {
            p.descendants()
                .find(|n| n.attribute("name") == Some(name))
                .and_then(|n| {
                    n.attribute(if n.has_tag_name("op") {
                        "interval"
                    } else {
                        "value"
                    })
                })
                .map(str::to_owned)
        };
        assert_eq!(value(&prims[1], "ip").as_deref(), Some("192.0.2.11"));
        assert_eq!(
            value(&prims[1], "network_namespace").as_deref(),
            Some("ns1")
        );
        assert_eq!(value(&prims[1], "monitor").as_deref(), Some("10s"));
        let ours = primitives(Side::Ours, &ids, "ns1", 10);
        assert!(ours.contains(r#"provider="native-scale" type="ipaddr2""#));
    }
}
