//! What is benchmarked: for each agent kind, our binary and the anchor (the shell agent it
//! replaces), the resource both manage, and the cycle of actions run on it with the exit code
//! each side must return. Only what this host can run: the DLM and DRBD agents get meta-data,
//! validate-all and a probe (the running daemon and the DRBD device live in the two-node lab).

use crate::fixtures::{ApacheSite, DaemonStandIn, DrbdConf, LoopExt4, NetnsPair};
use std::any::Any;
use std::path::{Path, PathBuf};

/// OCF exit codes the cycles expect.
const OK: i32 = 0;
const NOT_RUNNING: i32 = 7;
const NOT_INSTALLED: i32 = 5;

/// One action of a cycle.
#[derive(Debug, Clone)]
pub struct Step {
    /// Row name in the report: "probe", "monitor (stopped)".
    pub label: &'static str,
    /// argv[1].
    pub action: &'static str,
    /// `OCF_RESKEY_CRM_meta_interval` in ms (a probe is interval 0); none for the others.
    pub interval_ms: Option<u32>,
    /// Expected exit code: [ours, anchor].
    pub expect: [i32; 2],
    /// Invocations per cycle.
    pub repeat: usize,
    /// Measure how long after httpd's exit the stop returned.
    pub watch_httpd: bool,
}

impl Step {
    fn new(label: &'static str, action: &'static str, expect: [i32; 2]) -> Step {
        Step {
            label,
            action,
            interval_ms: None,
            expect,
            repeat: 1,
            watch_httpd: false,
        }
    }
    fn interval(mut self, ms: u32) -> Step {
        self.interval_ms = Some(ms);
        self
    }
    fn repeat(mut self, n: usize) -> Step {
        self.repeat = n;
        self
    }
}

/// One agent kind: ours against the anchor on one resource.
pub struct Subject {
    /// The anchor's name: "IPaddr2".
    pub kind: &'static str,
    /// Our binary's name under target/release.
    pub ours: &'static str,
    pub anchor: PathBuf,
    /// The resource's parameters (`OCF_RESKEY_*`), the same for both sides.
    pub params: Vec<(String, String)>,
    pub steps: Vec<Step>,
    /// The anchor's default monitor interval(s) in seconds, for the scale figure.
    pub intervals: Vec<(&'static str, u32)>,
    /// The step whose CPU time one monitor costs ("monitor"; "probe" where no running
    /// resource exists on this host).
    pub scale_step: &'static str,
    /// httpd's pid file, to time stop against httpd's own exit.
    pub httpd_pidfile: Option<PathBuf>,
    /// Keeps the resource alive; removed on drop.
    _fixture: Box<dyn Any>,
}

fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (format!("OCF_RESKEY_{k}"), (*v).to_owned()))
        .collect()
}

/// The stateless actions and the start/monitor/stop cycle of a resource we can run here.
fn lifecycle(monitors: usize, interval_ms: u32) -> Vec<Step> {
    vec![
        Step::new("meta-data", "meta-data", [OK, OK]),
        Step::new("validate-all", "validate-all", [OK, OK]),
        Step::new("probe", "monitor", [NOT_RUNNING, NOT_RUNNING]).interval(0),
        Step::new("start", "start", [OK, OK]),
        Step::new("monitor", "monitor", [OK, OK])
            .interval(interval_ms)
            .repeat(monitors),
        Step::new("stop", "stop", [OK, OK]),
    ]
}

const HEARTBEAT: &str = "/usr/lib/ocf/resource.d/heartbeat";

pub fn ipaddr2(monitors: usize) -> Result<Subject, String> {
    let ns = NetnsPair::new()?;
    Ok(Subject {
        kind: "IPaddr2",
        ours: "ipaddr2",
        anchor: Path::new(HEARTBEAT).join("IPaddr2"),
        params: params(&[
            ("ip", "192.0.2.10"),
            ("cidr_netmask", "24"),
            ("network_namespace", &ns.name),
        ]),
        steps: lifecycle(monitors, 10_000),
        intervals: vec![("", 10)],
        scale_step: "monitor",
        httpd_pidfile: None,
        _fixture: Box::new(ns),
    })
}

pub fn apache(work: &Path, monitors: usize) -> Result<Subject, String> {
    let site = ApacheSite::new(work)?;
    let mut steps = lifecycle(monitors, 10_000);
    if let Some(stop) = steps.iter_mut().find(|s| s.label == "stop") {
        stop.watch_httpd = true;
    }
    steps.push(
        Step::new("monitor (stopped)", "monitor", [NOT_RUNNING, NOT_RUNNING]).interval(10_000),
    );
    Ok(Subject {
        kind: "apache",
        ours: "apache-clone",
        anchor: Path::new(HEARTBEAT).join("apache"),
        params: params(&[
            ("configfile", &site.config.to_string_lossy()),
            ("httpd", "/usr/sbin/apache2"),
            ("statusurl", &site.status_url),
            ("envfiles", ""),
        ]),
        steps,
        intervals: vec![("", 10)],
        scale_step: "monitor",
        httpd_pidfile: Some(site.pidfile.clone()),
        _fixture: Box::new(site),
    })
}

pub fn filesystem(work: &Path, monitors: usize) -> Result<Subject, String> {
    let fs = LoopExt4::new(work)?;
    Ok(Subject {
        kind: "Filesystem",
        ours: "gfs2-fs",
        anchor: Path::new(HEARTBEAT).join("Filesystem"),
        params: params(&[
            ("device", &fs.device),
            ("directory", &fs.mountpoint.to_string_lossy()),
            ("fstype", "ext4"),
        ]),
        steps: lifecycle(monitors, 20_000),
        intervals: vec![("", 20)],
        scale_step: "monitor",
        httpd_pidfile: None,
        _fixture: Box::new(fs),
    })
}

pub fn controld(work: &Path) -> Result<Subject, String> {
    let daemon = DaemonStandIn::new(work)?;
    Ok(Subject {
        kind: "controld",
        ours: "dlm-controld-wrapper",
        anchor: PathBuf::from("/usr/lib/ocf/resource.d/pacemaker/controld"),
        params: params(&[("daemon", &daemon.path.to_string_lossy())]),
        steps: vec![
            Step::new("meta-data", "meta-data", [OK, OK]),
            Step::new("validate-all", "validate-all", [OK, OK]),
            Step::new("probe", "monitor", [NOT_RUNNING, NOT_RUNNING]).interval(0),
        ],
        intervals: vec![("", 10)],
        scale_step: "probe",
        httpd_pidfile: None,
        _fixture: Box::new(daemon),
    })
}

/// No DRBD kernel module on this host: the anchor answers "not installed" (5) to validate-all
/// and to a probe; ours validates the configuration (0: a DRBD configuration defining the
/// resource with allow-two-primaries, read natively) and probes "not running" (7).
pub fn drbd(work: &Path) -> Result<Subject, String> {
    let anchor = PathBuf::from("/usr/lib/ocf/resource.d/linbit/drbd");
    if !anchor.exists() {
        return Err(format!(
            "set-up: the anchor {} is missing (apt-get install drbd-utils)",
            anchor.display()
        ));
    }
    let conf = DrbdConf::new(work)?;
    let mut p = params(&[
        ("drbd_resource", "bench"),
        ("drbdconf", &conf.path.to_string_lossy()),
    ]);
    for (k, v) in [
        ("clone_max", "2"),
        ("clone_node_max", "1"),
        ("promoted_max", "2"),
        ("promoted_node_max", "1"),
        ("master_max", "2"),
        ("master_node_max", "1"),
        ("notify", "true"),
    ] {
        p.push((format!("OCF_RESKEY_CRM_meta_{k}"), v.to_owned()));
    }
    Ok(Subject {
        kind: "drbd",
        ours: "drbd-dualprimary",
        anchor,
        params: p,
        steps: vec![
            Step::new("meta-data", "meta-data", [OK, OK]),
            Step::new("validate-all", "validate-all", [OK, NOT_INSTALLED]),
            Step::new("probe", "monitor", [NOT_RUNNING, NOT_INSTALLED]).interval(0),
        ],
        intervals: vec![("Unpromoted", 20), ("Promoted", 10)],
        scale_step: "probe",
        httpd_pidfile: None,
        _fixture: Box::new(conf),
    })
}
