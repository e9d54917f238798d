//! `lab scenario`: `up`, the checks, `down`; writes target/lab/report.json. Exit 0 only if
//! every check passed and proved something: a check that does not apply counts only where
//! the run's setup makes it so (`--agents heartbeat` for the checks of our own agents).

use crate::agents::Mode;
use crate::boundary;
use crate::cluster;
use crate::cost_checks;
use crate::crm;
use crate::describe;
use crate::dlm_checks;
use crate::drbd_checks;
use crate::fault_checks;
use crate::fenced_checks;
use crate::logs;
use crate::paths::Paths;
use crate::port_checks;
use crate::report::{Check, Report};
use crate::setup::Setup;
use crate::step::{self, Error, Result, say, step};
use crate::sys::mins;
use crate::tutorial_checks::{self, DOCROOT};
use crate::vm;
use std::fmt::Write;
use std::fs;
use std::process::ExitCode;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

pub fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Values shared by the checks.
pub struct Run<'a> {
    pub paths: &'a Paths,
    pub setup: Setup,
    pub token: String,
    pub figures: Vec<(String, f64)>,
    /// Where each fault's recovery time went (issue 15).
    pub timelines: Vec<crate::phases::Timeline>,
    /// Checksums of the files written before the kill.
    pub sums: String,
    pub killed: String,
    /// The survivor's clock minus the host's, in seconds.
    pub offset: f64,
    pub kill_at: f64,
    pub start_at: f64,
    /// The node the DLM checks banned dlm-clone from, until they clear the ban.
    pub dlm_banned: Option<String>,
}

impl Run<'_> {
    pub fn sh(&self, node: &str, script: &str) -> Result<String> {
        vm::ssh_ok(self.paths, node, script, mins(2))
    }

    /// `check.html` on GFS2 (written on `node`): the page holding this run's token that the
    /// probes and the checks' curl loops ask for. Check 2 writes it first; a check that asks
    /// for it writes it again, so `lab check --only N` (a new token) finds it too.
    pub fn write_check_page(&self, node: &str) -> Result<()> {
        self.sh(
            node,
            &format!("echo '<h1>{}</h1>' > {}/check.html", self.token, DOCROOT),
        )
        .map(|_| ())
    }

    pub fn vip_holder(&self) -> Result<String> {
        let s = crm::state(self.paths, "node1").or_else(|_| crm::state(self.paths, "node2"))?;
        s.nodes("VirtualIP", "Started")
            .into_iter()
            .next()
            .ok_or_else(|| Error("VirtualIP runs nowhere".into()))
    }
}

type CheckFn = fn(&mut Run) -> Result<String>;

/// One check: its name, what it runs, and the resources whose native agent it proves (it
/// does not apply when those run on the shell agents).
struct CheckDef {
    name: &'static str,
    run: CheckFn,
    proves: &'static [&'static str],
}

const fn check(name: &'static str, run: CheckFn, proves: &'static [&'static str]) -> CheckDef {
    CheckDef { name, run, proves }
}

const CHECKS: [CheckDef; 19] = [
    check(
        "1 pcs status: all Started on the mode's agents, WebData Promoted x2, WebFS/WebSite x2, VirtualIP x1",
        tutorial_checks::status,
        &[],
    ),
    check(
        "2 GFS2 page served through VirtualIP; files cross between nodes",
        tutorial_checks::page,
        &[],
    ),
    check(
        "3 pcs resource move VirtualIP: address moves, page still served, Apache restarted as the configuration implies",
        tutorial_checks::move_vip,
        &[],
    ),
    check(
        "4 VirtualIP holder killed: failover, GFS2 writable within 30 s, no data lost",
        tutorial_checks::kill,
        &[],
    ),
    check(
        "5 killed node rejoins: DRBD resynced, Promoted x2, WebFS/WebSite x2",
        tutorial_checks::rejoin,
        &[],
    ),
    check(
        "6 httpd SIGKILL: Pacemaker's monitor sees it (a new failure) and restarts it (a new httpd)",
        tutorial_checks::httpd,
        &[],
    ),
    check(
        "7 DLM: dlm started on each node before WebFS, every boot (Pacemaker's journal)",
        dlm_checks::order,
        &["dlm"],
    ),
    check(
        "8 DLM: stop refused while GFS2 is mounted (GFS2 still writable), Pacemaker's stop succeeds once it is unmounted",
        dlm_checks::stop,
        &["dlm"],
    ),
    check(
        "9 DLM: ocf-tester passes on a lab node",
        dlm_checks::ocf_tester,
        &["dlm"],
    ),
    check(
        "10 DLM: start refused with fencing off and the switch unset, reason in pcs status",
        dlm_checks::fencing_refused,
        &["dlm"],
    ),
    check(
        "11 DLM: a killed dlm_controld is seen (without and with GFS2 mounted); cluster healthy again",
        dlm_checks::killed,
        &["dlm"],
    ),
    check(
        "12 DRBD: demote/promote cycles through Pacemaker on each node",
        drbd_checks::cycles,
        &["WebData"],
    ),
    check(
        "13 DRBD: promotion refused for Inconsistent data, one request, the kernel's reason; netlink bytes captured",
        drbd_checks::refused,
        &["WebData"],
    ),
    check(
        "14 DRBD: ocf-tester passes on a lab node",
        drbd_checks::ocf_tester,
        &["WebData"],
    ),
    check(
        "15 monitor speed, exit 8/0 from both: drbd-dualprimary vs ocf:linbit:drbd (>= 10x), dlm-controld-wrapper vs ocf:pacemaker:controld (>= 2x)",
        drbd_checks::speed,
        &["WebData", "dlm"],
    ),
    check(
        "16 Pacemaker boundary: crate pacemaker-cli (crm_node, cibadmin, crm_attribute, fencing-enabled/stonith-enabled) answers what the guest's Pacemaker says",
        boundary::pacemaker_cli,
        &[],
    ),
    check(
        "17 no op: pcs gives our agents depth-0 monitors only; WebFS, created with none, stays up",
        fault_checks::no_op,
        &["WebFS", "WebSite"],
    ),
    check(
        "26 pcs resource describe ocf:native:*: the shortdesc, every parameter in the metadata's order, required, defaults, no warning",
        describe::pcs_describe,
        &["VirtualIP", "WebSite", "WebData", "dlm", "WebFS"],
    ),
    check(
        "32 monitoring cost: the CPU of the agents' processes on the VirtualIP's node over 240 s idle, at the configuration's intervals",
        cost_checks::monitoring_cost,
        &[],
    ),
];

/// The checks of `--faults`, run after the others: 18, the reload of a changed DRBD setting,
/// which fails on Pacemaker 3.0 (it promotes again after the reload, restarting WebFS and
/// WebSite; issue 13), then a fault each, the cut link last (it leaves the cluster broken).
const FAULTS: [CheckDef; 8] = [
    check(
        "18 a changed DRBD setting (wfc_timeout) reloads drbd-dualprimary: no demote, no stop, Apache kept",
        fault_checks::reload,
        &["WebData"],
    ),
    check(
        "19 fault: /dev/drbd1 held open at the demote: retried, demoted, no failed action",
        fault_checks::held_open,
        &["WebData"],
    ),
    check(
        "20 fault: a holder in a private mount namespace when WebFS leaves: killed, unmounted everywhere, lockspace gone, demoted",
        fault_checks::private_namespace,
        &["WebFS"],
    ),
    check(
        "21 fault: typo run_fsck=yes: no failed stop, exit 6 with the reason in pcs status, back after the fix",
        fault_checks::typo,
        &["WebFS"],
    ),
    check(
        "22 fault: httpd hung (SIGSTOP): monitor fails in time, Apache restarted, stopped processes gone",
        fault_checks::hung_httpd,
        &["WebSite"],
    ),
    check(
        "23 fault: allow-two-primaries in DRBD's common section: dual-primary promotion still works",
        fault_checks::common_section,
        &["WebData"],
    ),
    check(
        "24 fault: node2's DRBD disk fails (I/O errors): detached, served over node1, degraded (191) in pcs status, score lowered; resynced after the repair",
        fault_checks::disk_failure,
        &["WebData"],
    ),
    check(
        "25 fault, last: the VirtualIP node's cluster link cut for 60 s while both write: the address leaves it, DRBD resyncs over neither side, nothing acknowledged lost, our monitor reports the split brain",
        fault_checks::partition,
        &["WebData"],
    ),
];

/// `--port`: the live ports, before the checks (which then run on the ported cluster).
const PORT: [CheckDef; 3] = [
    check(
        "27 port live to ours (native-agents-port --apply) under load: no failed request or write, same httpd, DRBD Primary throughout, GFS2 and VirtualIP untouched",
        port_checks::to_ours,
        &[],
    ),
    check(
        "28 back to the shell agents live (--apply --back) under load: the same",
        port_checks::back,
        &[],
    ),
    check(
        "29 to ours again live under load: the same; the checks below run on the ported cluster",
        port_checks::again,
        &[],
    ),
];

/// `--profile fenced`: fencing end to end, a withdrawn GFS2 recovered, and the cut link that
/// ends with one node fenced (in place of 25, the tutorial profile's cut link).
const FENCED: [CheckDef; 3] = [
    check(
        "30 fenced: stonith_admin --reboot node2: SBD's poison pill resets node2, success reported, node2 back, cluster whole",
        fenced_checks::fence_on_request,
        &[],
    ),
    check(
        "33 fenced: node2's GFS2 withdrawn: WebFS's monitor fails naming it, node2 recovered (restart or fencing), node1 writes throughout and is never fenced, node2 writable again",
        fenced_checks::withdraw,
        &["WebFS"],
    ),
    check(
        "31 fenced: node2's cluster link cut for 60 s while both write: node2 fenced, node1 serves and writes, DRBD resyncs node2 from node1 (no split brain), every acknowledged write on both",
        fenced_checks::partition,
        &[],
    ),
];

/// Why check `n` does not apply to the run's profile, if it does not.
fn not_in_profile(setup: &Setup, n: u32) -> Option<&'static str> {
    match n {
        10 if setup.profile.fencing() => Some(
            "not applicable: the fenced profile runs with fencing on, and check 10 is our DLM agent refusing \
             to start with fencing off (the tutorial profile runs it)",
        ),
        25 if setup.profile.fencing() => Some(
            "not applicable: the tutorial profile's cut link (no fencing); the fenced profile's is check 31",
        ),
        _ => None,
    }
}

/// The number a check's name starts with.
fn number(c: &CheckDef) -> u32 {
    c.name
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn run_checks(paths: &Paths, setup: &Setup, report: &mut Report, only: &[u32]) {
    let mut r = Run {
        paths,
        setup: setup.clone(),
        token: format!("lab{}", now().to_bits() % 1_000_000_007),
        figures: Vec::new(),
        timelines: Vec::new(),
        sums: String::new(),
        killed: String::new(),
        offset: 0.0,
        kill_at: 0.0,
        start_at: 0.0,
        dlm_banned: None,
    };
    let faults: &[CheckDef] = if setup.faults { &FAULTS } else { &[] };
    let port: &[CheckDef] = if setup.port { &PORT } else { &[] };
    let fencing = setup.profile.fencing();
    let fenced: &[CheckDef] = if fencing { &FENCED } else { &[] };
    for c in port.iter().chain(&CHECKS).chain(fenced).chain(faults) {
        if !only.is_empty() && !only.contains(&number(c)) {
            continue;
        }
        let t = Instant::now();
        let outside_profile = not_in_profile(setup, number(c)).is_some();
        let not_applicable = not_in_profile(setup, number(c))
            .map(str::to_owned)
            .or_else(|| {
                (!c.proves.is_empty() && !setup.mode.runs_ours()).then(|| {
                    format!(
                        "not applicable: {} run on the shell agents (--agents {}); this check proves our agents",
                        c.proves.join(" and "),
                        setup.mode.name()
                    )
                })
            });
        if let Some(mut seen) = not_applicable {
            let mut passed = true;
            // Check 10 lifts check 8's ban on dlm when it ends: skipped, it must still go.
            if number(c) == 10 && r.dlm_banned.is_some() {
                match dlm_checks::restore(&mut r) {
                    Ok(secs) => {
                        let _ = write!(
                            seen,
                            "; check 8's ban on dlm lifted, active-active again after {secs:.1} s"
                        );
                    }
                    Err(e) => {
                        passed = false;
                        let _ = write!(seen, "; lifting check 8's ban on dlm failed: {e}");
                    }
                }
            }
            say(&format!("check {}: {seen}", c.name));
            report.checks.push(Check {
                name: c.name.into(),
                passed,
                skipped: true,
                outside_profile,
                seen,
                seconds: t.elapsed().as_secs_f64(),
            });
            continue;
        }
        let result = step(&format!("check {}", c.name), || (c.run)(&mut r));
        let (passed, seen) = match result {
            Ok(seen) => (true, seen),
            Err(e) => (false, e.0),
        };
        report.checks.push(Check {
            name: c.name.into(),
            passed,
            skipped: false,
            outside_profile: false,
            seen,
            seconds: t.elapsed().as_secs_f64(),
        });
    }
    report.figures = r.figures;
    report.timelines = r.timelines;
}

/// target/lab/timelines/<release>-<profile>-<agents>.tsv: a run's fault timelines, kept for
/// the other agent set's report.
fn timelines_file(paths: &Paths, setup: &Setup, mode: Mode) -> std::path::PathBuf {
    paths.lab.join("timelines").join(format!(
        "{}-{}-{}.tsv",
        setup.release.suite(),
        setup.profile.name(),
        mode.name()
    ))
}

fn finish(paths: &Paths, mut report: Report, started: Instant) -> Result<ExitCode> {
    report.steps = step::recorded();
    report.total_seconds = started.elapsed().as_secs_f64();
    if !report.timelines.is_empty() {
        let file = timelines_file(paths, &report.setup, report.setup.mode);
        fs::create_dir_all(paths.lab.join("timelines"))?;
        fs::write(file, crate::phases::to_tsv(&report.timelines))?;
    }
    let other = match report.setup.mode {
        Mode::Native => Mode::Heartbeat,
        Mode::Heartbeat => Mode::Native,
    };
    report.other_timelines = fs::read_to_string(timelines_file(paths, &report.setup, other))
        .map(|t| crate::phases::from_tsv(&t))
        .unwrap_or_default();
    let json = report.to_json();
    fs::create_dir_all(&paths.lab)?;
    fs::write(paths.lab.join("report.json"), &json)?;
    fs::write(
        paths.lab.join("report.html"),
        crate::report_html::render(&report),
    )?;
    fs::write(
        paths.lab.join(format!(
            "report-{}-{}{}.json",
            report.setup.release.suite(),
            report.setup.mode.name(),
            if report.setup.port { "-port" } else { "" }
        )),
        &json,
    )?;
    say(&format!(
        "scenario ({}) {} in {:.0} s; report: {}",
        report.setup.describe(),
        if report.passed() { "PASSED" } else { "FAILED" },
        report.total_seconds,
        paths.lab.join("report.json").display()
    ));
    for c in &report.checks {
        say(&format!(
            "  [{}] {} ({:.1} s)",
            report.verdict(c),
            c.name,
            c.seconds
        ));
    }
    Ok(if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `lab check`: the checks on the lab that is up (it stays up).
pub fn check_only(paths: &Paths, only: &[u32]) -> Result<ExitCode> {
    let started = Instant::now();
    let setup = Setup::load(paths)?;
    let mut report = Report::new(setup.clone());
    if only.iter().any(|n| {
        !CHECKS
            .iter()
            .chain(&FAULTS)
            .chain(&PORT)
            .chain(&FENCED)
            .any(|c| number(c) == *n)
    }) {
        return Err(format!("--only {only:?}: no such check").into());
    }
    run_checks(paths, &setup, &mut report, only);
    if !report.passed() {
        logs::collect(paths, &setup, "a check failed (see report.json)");
    }
    finish(paths, report, started)
}

/// `lab scenario`.
pub fn run(paths: &Paths, setup: &Setup) -> Result<ExitCode> {
    let started = Instant::now();
    let mut report = Report::new(setup.clone());
    match cluster::up(paths, setup) {
        Ok(up) => {
            report.agents = up.choice.chosen;
            report.deviations = up.deviations;
            report.versions = up.versions;
            run_checks(paths, setup, &mut report, &[]);
        }
        Err(e) => report.error = Some(e.0),
    }
    if !report.passed() {
        let why = report
            .error
            .clone()
            .unwrap_or_else(|| "a check failed (see report.json)".into());
        logs::collect(paths, setup, &why);
    }
    let _ = step("down", || vm::down(paths));
    finish(paths, report, started)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::Mode;
    use crate::setup::{Profile, Release};

    fn setup(profile: Profile) -> Setup {
        Setup {
            mode: Mode::Native,
            release: Release::Trixie,
            profile,
            breaks: Vec::new(),
            faults: true,
            port: false,
            deb: None,
        }
    }

    #[test]
    fn the_fenced_profile_skips_only_the_checks_that_need_fencing_off() {
        let (tutorial, fenced) = (setup(Profile::Tutorial), setup(Profile::Fenced));
        let every = CHECKS.iter().chain(&FAULTS).chain(&PORT).chain(&FENCED);
        for c in every {
            assert_eq!(not_in_profile(&tutorial, number(c)), None, "{}", c.name);
        }
        let skipped: Vec<u32> = (1..=33)
            .filter(|n| not_in_profile(&fenced, *n).is_some())
            .collect();
        assert_eq!(skipped, [10, 25]);
    }
}
