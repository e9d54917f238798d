//! `lab scenario`: `up`, the tutorial's "Prueba de funcionamiento" checks (issue 6), `down`;
//! writes target/lab/report.json. Exit 0 only if every check passed.

use crate::agents::Mode;
use crate::cluster;
use crate::crm;
use crate::dlm_checks;
use crate::drbd_checks;
use crate::logs;
use crate::native;
use crate::paths::Paths;
use crate::report::{Check, Report};
use crate::step::{self, Error, Result, say, step};
use crate::sys::{mins, secs};
use crate::vm::{self, NODES, other};
use std::fmt::Write;
use std::fs;
use std::process::ExitCode;
use std::thread::sleep;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const VIP_URL: &str = "http://10.1.1.100/check.html";
const DOCROOT: &str = "/var/www/html";

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Values shared by the checks.
pub struct Run<'a> {
    pub paths: &'a Paths,
    token: String,
    pub figures: Vec<(String, f64)>,
    /// Checksums of the files written before the kill.
    sums: String,
    killed: String,
    /// The survivor's clock minus the host's, in seconds.
    offset: f64,
    kill_at: f64,
    start_at: f64,
    /// The node the DLM checks banned dlm-clone from, until they clear the ban.
    pub dlm_banned: Option<String>,
}

impl Run<'_> {
    pub fn sh(&self, node: &str, script: &str) -> Result<String> {
        vm::ssh_ok(self.paths, node, script, mins(2))
    }

    pub fn vip_holder(&self) -> Result<String> {
        let s = crm::state(self.paths, "node1").or_else(|_| crm::state(self.paths, "node2"))?;
        s.nodes("VirtualIP", "Started")
            .into_iter()
            .next()
            .ok_or_else(|| Error("VirtualIP runs nowhere".into()))
    }

    /// Polls `url` from `node` until the answer contains the token.
    fn served(&self, node: &str, timeout: Duration) -> Result<f64> {
        let t = Instant::now();
        let script = format!(
            "for i in $(seq {}); do curl -s --max-time 2 {VIP_URL} | grep -q '{}' && exit 0; sleep 0.5; done; exit 1",
            timeout.as_secs() * 2,
            self.token
        );
        vm::ssh_ok(self.paths, node, &script, timeout + secs(30)).map_err(|_| {
            Error(format!(
                "{VIP_URL} not served to {node} within {} s",
                timeout.as_secs()
            ))
        })?;
        Ok(t.elapsed().as_secs_f64())
    }

    fn apache_pids(&self) -> String {
        NODES
            .iter()
            .map(|n| {
                format!(
                    "{n}:{}",
                    self.sh(n, "pgrep -o -x apache2 || echo none")
                        .unwrap_or_default()
                        .trim()
                )
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn check1_status(r: &mut Run) -> Result<String> {
    let s = crm::wait(r.paths, "node1", "active-active state", mins(3), |s| {
        s.active_active(&NODES)
    })?;
    let text = r.sh("node1", "pcs status")?;
    Ok(format!("{}\n--- pcs status ---\n{text}", s.summary()))
}

fn check2_page(r: &mut Run) -> Result<String> {
    let holder = r.vip_holder()?;
    let writer = other(&holder);
    r.sh(
        writer,
        &format!("echo '<h1>{}</h1>' > {DOCROOT}/check.html", r.token),
    )?;
    let mut seen = format!("page written on {writer}; VirtualIP on {holder}; ");
    for n in NODES {
        r.served(n, secs(20))?;
        let _ = write!(seen, "served through 10.1.1.100 to {n}; ");
    }
    for (from, to) in [("node1", "node2"), ("node2", "node1")] {
        let word = format!("{from}-{}", r.token);
        r.sh(from, &format!("echo {word} > {DOCROOT}/from-{from}.txt"))?;
        let read = r.sh(to, &format!("cat {DOCROOT}/from-{from}.txt"))?;
        if read.trim() != word {
            return Err(Error(format!(
                "{to} read {:?} from {from}'s file, expected {word}",
                read.trim()
            )));
        }
        let _ = write!(seen, "file written on {from} read on {to}; ");
    }
    Ok(seen)
}

fn check3_move(r: &mut Run) -> Result<String> {
    let from = r.vip_holder()?;
    let to = other(&from);
    let before = r.apache_pids();
    // A probe on the node losing the address sees the outage the move causes.
    r.sh(
        &from,
        &format!("lab-probe start {VIP_URL} {} {DOCROOT}/stall-move", r.token),
    )?;
    sleep(secs(2));
    let t = Instant::now();
    r.sh("node1", &format!("pcs resource move VirtualIP {to}"))?;
    crm::wait(
        r.paths,
        "node1",
        "VirtualIP on the other node",
        mins(2),
        |s| s.is("VirtualIP", "Started", &[to]),
    )?;
    r.sh(to, "ip -br addr | grep -q '10.1.1.100/'")?;
    r.served(&from, secs(60))?;
    let moved = t.elapsed().as_secs_f64();
    crm::wait(
        r.paths,
        "node1",
        "active-active state again",
        mins(3),
        |s| s.active_active(&NODES),
    )?;
    let settled = t.elapsed().as_secs_f64();
    sleep(secs(3));
    let http = log_lines(&r.sh(&from, "lab-probe stop; cat /run/lab-probe/http.log")?);
    let outage = longest_outage(&http);
    let after = r.apache_pids();
    r.figures.push(("move_served_seconds".into(), moved));
    r.figures.push(("move_settled_seconds".into(), settled));
    r.figures
        .push(("move_longest_http_outage_seconds".into(), outage));
    Ok(format!(
        "VirtualIP {from} -> {to}, page served from {from} after {moved:.1} s (pcs included), all settled \
         after {settled:.1} s; longest time without a good answer through VirtualIP seen from {from}: \
         {outage:.1} s; apache main pids before [{before}] after [{after}]"
    ))
}

/// Parses probe log lines "start end ok|fail".
fn log_lines(text: &str) -> Vec<(f64, f64, bool)> {
    text.lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            Some((
                w.next()?.parse().ok()?,
                w.next()?.parse().ok()?,
                w.next()? == "ok",
            ))
        })
        .collect()
}

/// The longest time between two successive good answers (end times).
fn longest_outage(http: &[(f64, f64, bool)]) -> f64 {
    let good: Vec<f64> = http.iter().filter(|h| h.2).map(|h| h.1).collect();
    good.windows(2).map(|w| w[1] - w[0]).fold(0.0, f64::max)
}

/// The longest time between successive completed writes ending after `from`, counting a
/// write still blocked at `until`.
fn longest_stall(writes: &[(f64, f64, bool)], from: f64, until: f64) -> f64 {
    let done: Vec<f64> = writes.iter().filter(|w| w.2).map(|w| w.1).collect();
    let mut worst = 0.0_f64;
    for pair in done.windows(2) {
        if pair[1] >= from {
            worst = worst.max(pair[1] - pair[0].max(from));
        }
    }
    if let Some(last) = done.last() {
        worst = worst.max(until - last.max(from));
    }
    worst
}

fn check4_kill(r: &mut Run) -> Result<String> {
    let victim = r.vip_holder()?;
    let survivor = other(&victim).to_owned();
    let write_files = format!(
        "for i in 1 2 3 4 5; do head -c 65536 /dev/urandom > {DOCROOT}/pre-$(hostname)-$i; done; sync"
    );
    for n in NODES {
        r.sh(n, &write_files)?;
    }
    r.sums = r.sh(&survivor, &format!("cd {DOCROOT} && sha256sum pre-*"))?;
    let on_victim = r.sh(&victim, &format!("cd {DOCROOT} && sha256sum pre-*"))?;
    if on_victim != r.sums {
        return Err(Error(format!(
            "checksums differ between nodes before the kill:\n{}\n{on_victim}",
            r.sums
        )));
    }
    r.sh(
        &survivor,
        &format!("lab-probe start {VIP_URL} {} {DOCROOT}/stall", r.token),
    )?;
    sleep(secs(3));
    let h0 = now();
    let guest: f64 = r
        .sh(&survivor, "date +%s.%N")?
        .trim()
        .parse()
        .map_err(|_| Error("bad date".into()))?;
    let h1 = now();
    r.offset = guest - f64::midpoint(h0, h1);
    r.kill_at = now();
    vm::kill(r.paths, &victim)?;
    r.killed.clone_from(&victim);
    say(&format!("{victim} killed; watching {survivor}"));
    let kill_g = r.kill_at + r.offset;
    let deadline = Instant::now() + secs(120);
    let (mut http, mut writes);
    loop {
        http = log_lines(&r.sh(&survivor, "cat /run/lab-probe/http.log")?);
        writes = log_lines(&r.sh(&survivor, "cat /run/lab-probe/write.log")?);
        let http_ok = http.iter().any(|h| h.0 > kill_g && h.2);
        let write_ok = writes.iter().any(|w| w.0 > kill_g + 1.0 && w.2);
        if (http_ok && write_ok) || Instant::now() >= deadline {
            break;
        }
        sleep(secs(2));
    }
    let now_g = now() + r.offset;
    let failover = http
        .iter()
        .find(|h| h.0 > kill_g && h.2)
        .map(|h| h.1 - kill_g);
    let first_write = writes
        .iter()
        .find(|w| w.0 > kill_g && w.2)
        .map(|w| w.1 - kill_g);
    let stall = longest_stall(&writes, kill_g, now_g);
    let vip = r
        .sh(&survivor, "ip -br addr | grep -c '10.1.1.100/' || true")?
        .trim()
        == "1";
    let mounted = r
        .sh(
            &survivor,
            &format!("grep -c ' {DOCROOT} gfs2 ' /proc/mounts || true"),
        )?
        .trim()
        == "1";
    let sums = r.sh(&survivor, &format!("cd {DOCROOT} && sha256sum pre-*"))?;
    let agents = agents_on(r, &survivor);
    let fmt = |x: Option<f64>| x.map_or("never".to_owned(), |v| format!("{v:.1} s"));
    r.figures
        .push(("failover_seconds".into(), failover.unwrap_or(f64::NAN)));
    r.figures.push((
        "first_write_after_kill_seconds".into(),
        first_write.unwrap_or(f64::NAN),
    ));
    r.figures
        .push(("longest_write_stall_seconds".into(), stall));
    let seen = format!(
        "{victim} killed; on {survivor}: first good HTTP answer through VirtualIP {}, first new file {}, \
         longest write stall {stall:.1} s, VirtualIP present: {vip}, GFS2 mounted: {mounted}, checksums of \
         10 files written before the kill unchanged: {} (clock offset {:.2} s); {agents}",
        fmt(failover),
        fmt(first_write),
        sums == r.sums,
        r.offset
    );
    let ok = failover.is_some()
        && first_write.is_some_and(|w| w <= 30.0)
        && vip
        && mounted
        && sums == r.sums;
    if ok { Ok(seen) } else { Err(Error(seen)) }
}

/// What check 4 owes to the DLM and DRBD agents (issues 7 and 8): which agent runs dlm and
/// WebData, the survivor's dlm_controld command line (our agent adds `--enable_fencing 0`
/// when allow_stonith_disabled is set and fencing is off) and its DRBD state.
fn agents_on(r: &Run, survivor: &str) -> String {
    let agent = |id| native::agent_of(r.paths, id).unwrap_or_else(|e| e.0);
    let argv = r
        .sh(
            survivor,
            "tr '\\0' ' ' < /proc/$(pgrep -o -x dlm_controld)/cmdline; true",
        )
        .unwrap_or_default();
    let drbd = r
        .sh(
            survivor,
            "grep -o ' 1: cs:[A-Za-z]* ro:[A-Za-z/]* ds:[A-Za-z/]*' /proc/drbd; true",
        )
        .unwrap_or_default();
    format!(
        "dlm on {} (survivor's daemon: {}), WebData on {} (survivor's DRBD:{})",
        agent("dlm"),
        argv.trim(),
        agent("WebData"),
        drbd.trim_end()
    )
}

fn drbd_both_primary(r: &Run) -> bool {
    NODES.iter().all(|n| {
        r.sh(n, "cat /proc/drbd").is_ok_and(|s| {
            s.contains("cs:Connected")
                && s.contains("ro:Primary/Primary")
                && s.contains("ds:UpToDate/UpToDate")
        })
    })
}

fn check5_rejoin(r: &mut Run) -> Result<String> {
    if r.killed.is_empty() {
        return Err(Error(
            "no node was killed (check 4 did not get that far)".into(),
        ));
    }
    let node = r.killed.clone();
    let survivor = other(&node);
    r.start_at = now();
    let t = Instant::now();
    cluster::start_node(r.paths, &node)?;
    let booted = t.elapsed().as_secs_f64();
    crm::wait(
        r.paths,
        survivor,
        "active-active on both nodes again",
        mins(5),
        |s| s.active_active(&NODES),
    )?;
    let back = t.elapsed().as_secs_f64();
    let deadline = Instant::now() + mins(2);
    while !drbd_both_primary(r) {
        if Instant::now() >= deadline {
            let d = r.sh(&node, "cat /proc/drbd").unwrap_or_default();
            return Err(Error(format!(
                "DRBD not Connected Primary/Primary UpToDate/UpToDate: {d}"
            )));
        }
        sleep(secs(2));
    }
    let synced = t.elapsed().as_secs_f64();
    let sums = r.sh(&node, &format!("cd {DOCROOT} && sha256sum pre-*"))?;
    let writes = log_lines(&r.sh(survivor, "lab-probe stop; cat /run/lab-probe/write.log")?);
    let http = log_lines(&r.sh(survivor, "cat /run/lab-probe/http.log")?);
    let start_g = r.start_at + r.offset;
    let stall = longest_stall(&writes, start_g, now() + r.offset);
    let http_fail = http.iter().filter(|h| h.0 > start_g && !h.2).count();
    let after_start: Vec<_> = http.iter().filter(|h| h.0 > start_g).copied().collect();
    let outage = longest_outage(&after_start);
    r.figures
        .push(("rejoin_longest_http_outage_seconds".into(), outage));
    r.figures.push(("rejoin_booted_seconds".into(), booted));
    r.figures
        .push(("rejoin_active_active_seconds".into(), back));
    r.figures
        .push(("rejoin_longest_write_stall_seconds".into(), stall));
    let seen = format!(
        "{node} booted and online after {booted:.1} s, active-active after {back:.1} s, DRBD Primary/Primary \
         UpToDate after {synced:.1} s; pre-kill checksums on {node} unchanged: {}; on {survivor} during the \
         rejoin: longest write stall {stall:.1} s, failed HTTP probes {http_fail}, longest time without a good \
         answer {outage:.1} s",
        sums == r.sums
    );
    if sums == r.sums {
        Ok(seen)
    } else {
        Err(Error(seen))
    }
}

fn check6_httpd(r: &mut Run) -> Result<String> {
    let node = "node1";
    let before = r.sh(node, "pgrep -o -x apache2")?;
    let t = Instant::now();
    r.sh(node, "pkill -KILL -x apache2")?;
    let s = crm::wait(
        r.paths,
        node,
        "a failed WebSite monitor on node1",
        mins(3),
        |s| {
            s.failures
                .iter()
                .any(|f| f.starts_with("WebSite_monitor") && f.contains(" on node1:"))
        },
    )?;
    let detected = t.elapsed().as_secs_f64();
    crm::wait(
        r.paths,
        node,
        "WebSite started again on both nodes",
        mins(3),
        |s| s.is("WebSite", "Started", &NODES),
    )?;
    r.sh(node, "for i in $(seq 30); do curl -sf --max-time 2 http://localhost/check.html >/dev/null && exit 0; sleep 1; done; exit 1")?;
    let restarted = t.elapsed().as_secs_f64();
    let after = r.sh(node, "pgrep -o -x apache2")?;
    r.figures
        .push(("httpd_kill_detected_seconds".into(), detected));
    r.figures
        .push(("httpd_kill_recovered_seconds".into(), restarted));
    let failure = s
        .failures
        .iter()
        .find(|f| f.starts_with("WebSite_monitor"))
        .cloned()
        .unwrap_or_default();
    Ok(format!(
        "apache2 (pid {}) SIGKILLed on node1; monitor failure seen after {detected:.1} s ({failure}); serving \
         again (pid {}) after {restarted:.1} s",
        before.trim(),
        after.trim()
    ))
}

type CheckFn = fn(&mut Run) -> Result<String>;

const CHECKS: [(&str, CheckFn); 15] = [
    (
        "1 pcs status: all Started, WebData Promoted x2, WebFS/WebSite x2, VirtualIP x1",
        check1_status,
    ),
    (
        "2 GFS2 page served through VirtualIP; files cross between nodes",
        check2_page,
    ),
    (
        "3 pcs resource move VirtualIP: address moves, page still served",
        check3_move,
    ),
    (
        "4 VirtualIP holder killed: failover, GFS2 writable within 30 s, no data lost",
        check4_kill,
    ),
    (
        "5 killed node rejoins: DRBD resynced, Promoted x2, WebFS/WebSite x2",
        check5_rejoin,
    ),
    (
        "6 httpd SIGKILL: Pacemaker's monitor sees it and restarts it",
        check6_httpd,
    ),
    (
        "7 DLM: dlm started on each node before WebFS (Pacemaker's journal)",
        dlm_checks::order,
    ),
    (
        "8 DLM: stop refused while GFS2 is mounted, Pacemaker's stop succeeds once it is unmounted",
        dlm_checks::stop,
    ),
    (
        "9 DLM: ocf-tester passes on a lab node",
        dlm_checks::ocf_tester,
    ),
    (
        "10 DLM: start refused with fencing off and the switch unset, reason in pcs status",
        dlm_checks::fencing_refused,
    ),
    (
        "11 DLM: a killed dlm_controld is seen (without and with GFS2 mounted); cluster healthy again",
        dlm_checks::killed,
    ),
    (
        "12 DRBD: demote/promote cycles through Pacemaker on each node",
        drbd_checks::cycles,
    ),
    (
        "13 DRBD: promotion refused for Inconsistent data, with the kernel's reason; netlink bytes captured",
        drbd_checks::refused,
    ),
    (
        "14 DRBD: ocf-tester passes on a lab node",
        drbd_checks::ocf_tester,
    ),
    (
        "15 monitor speed: drbd-dualprimary vs ocf:linbit:drbd, dlm-controld-wrapper vs ocf:pacemaker:controld",
        drbd_checks::speed,
    ),
];

fn run_checks(paths: &Paths, report: &mut Report) {
    let mut r = Run {
        paths,
        token: format!("lab{}", now().to_bits() % 1_000_000_007),
        figures: Vec::new(),
        sums: String::new(),
        killed: String::new(),
        offset: 0.0,
        kill_at: 0.0,
        start_at: 0.0,
        dlm_banned: None,
    };
    for (name, check) in CHECKS {
        let t = Instant::now();
        let result = step(&format!("check {name}"), || check(&mut r));
        let (passed, seen) = match result {
            Ok(seen) => (true, seen),
            Err(e) => (false, e.0),
        };
        report.checks.push(Check {
            name: name.into(),
            passed,
            skipped: passed && seen.starts_with("not applicable"),
            seen,
            seconds: t.elapsed().as_secs_f64(),
        });
    }
    report.figures = r.figures;
}

fn finish(paths: &Paths, mut report: Report, started: Instant) -> Result<ExitCode> {
    report.steps = step::recorded();
    report.total_seconds = started.elapsed().as_secs_f64();
    let json = report.to_json();
    fs::create_dir_all(&paths.lab)?;
    fs::write(paths.lab.join("report.json"), &json)?;
    fs::write(
        paths.lab.join(format!("report-{}.json", report.mode)),
        &json,
    )?;
    say(&format!(
        "scenario {} in {:.0} s; report: {}",
        if report.passed() { "PASSED" } else { "FAILED" },
        report.total_seconds,
        paths.lab.join("report.json").display()
    ));
    for c in &report.checks {
        say(&format!(
            "  [{}] {} ({:.1} s)",
            match (c.passed, c.skipped) {
                (true, true) => "n/a ",
                (true, false) => "pass",
                _ => "FAIL",
            },
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

/// `lab check`: the six checks on the lab that is up (it stays up).
pub fn check_only(paths: &Paths) -> Result<ExitCode> {
    let started = Instant::now();
    let mut report = Report {
        mode: "check".into(),
        ..Report::default()
    };
    run_checks(paths, &mut report);
    if !report.passed() {
        logs::collect(paths, "a check failed (see report.json)");
    }
    finish(paths, report, started)
}

/// `lab scenario`.
pub fn run(paths: &Paths, mode: Mode) -> Result<ExitCode> {
    let started = Instant::now();
    let mut report = Report {
        mode: format!("{mode:?}").to_lowercase(),
        ..Report::default()
    };
    match cluster::up(paths, mode) {
        Ok(up) => {
            report.agents = up.choice.chosen;
            report.deviations = up.deviations;
            run_checks(paths, &mut report);
        }
        Err(e) => report.error = Some(e.0),
    }
    if !report.passed() {
        let why = report
            .error
            .clone()
            .unwrap_or_else(|| "a check failed (see report.json)".into());
        logs::collect(paths, &why);
    }
    let _ = step("down", || vm::down(paths));
    finish(paths, report, started)
}

#[cfg(test)]
mod tests {
    use super::{log_lines, longest_outage, longest_stall};

    #[test]
    fn stall_counts_gaps_after_the_kill_and_a_write_still_blocked() {
        let log = "10.0 10.1 ok\n10.3 10.4 ok\n10.6 17.0 ok\n17.2 17.3 ok\nbroken line\n";
        let writes = log_lines(log);
        assert_eq!(writes.len(), 4);
        // Between 10.4 and 17.0 nothing completed: 6.6 s, counted from the kill at 12.0.
        assert!((longest_stall(&writes, 12.0, 17.5) - 5.0).abs() < 1e-9);
        // A writer blocked since 17.3, seen at 40.0.
        assert!((longest_stall(&writes, 12.0, 40.0) - 22.7).abs() < 1e-9);
    }

    #[test]
    fn outage_is_the_longest_gap_between_good_answers() {
        let http = log_lines("1.0 1.1 ok\n1.3 3.3 fail\n3.5 5.5 fail\n5.7 5.9 ok\n6.1 6.2 ok\n");
        assert!((longest_outage(&http) - 4.8).abs() < 1e-9);
    }
}
