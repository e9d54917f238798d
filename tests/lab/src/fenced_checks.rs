//! The fenced profile's own checks (issue 14): fencing works end to end (SBD's poison pill,
//! the watchdog, fence_sbd), and a cut link ends with exactly one node fenced, the survivor
//! serving and writing, the fenced node resynced from it, and every acknowledged write on
//! both nodes.

use crate::crm;
use crate::dlm_checks::{guest_now, healthy_again};
use crate::fault_checks::judged_all;
use crate::phases;
use crate::port_checks::{load_logs, start_load};
use crate::scenario::Run;
use crate::step::{Error, Result, awaiting, say};
use crate::sys::{mins, secs};
use crate::tutorial_checks::{DOCROOT, longest_outage};
use crate::vm::{self, NODES};
use std::thread::sleep;
use std::time::Instant;

/// A writer on a node: a new 4 KiB file on GFS2 every 2 s, recorded with its checksum in
/// /var/lib/lab-acked only once the file is synced, and the record synced too: an
/// acknowledgement survives the node's reset (the list is on the root disk, not in /run;
/// so are the load's logs below, for a node fenced when it should not have been).
const DURABLE_WRITER: &str = "rm -f /var/lib/lab-acked; setsid sh -c '\
    i=0; while :; do i=$((i+1)); f=/var/www/html/fenced-$(hostname)-$i; \
    if timeout 10 sh -c \"head -c 4096 /dev/urandom > $f && sync $f\"; then \
      sha256sum $f >> /var/lib/lab-acked && sync /var/lib/lab-acked; fi; \
    sleep 2; done' </dev/null >/dev/null 2>&1 & echo $! > /var/lib/lab-writer.pid";

/// How many of the acknowledged files in `acked` (sha256sum lines, DURABLE_WRITER's record)
/// are missing or changed on `node`, as sha256sum counts them ("0" when all are there).
fn acked_missing_on(r: &Run, node: &str, acked: &str) -> Result<String> {
    let bad = r.sh(
        node,
        &format!(
            "cat > /run/lab-acked-check <<'LAB_EOF'\n{acked}LAB_EOF\n\
             sha256sum --quiet -c /run/lab-acked-check 2>/dev/null | grep -c . ; true"
        ),
    )?;
    Ok(bad.trim().to_owned())
}

pub const BOOT_ID: &str = "cat /proc/sys/kernel/random/boot_id";

/// The fencer's whole history as `reader` sees it, every entry (`--verbose`: without it the
/// fencer shows only the latest per target).
fn fence_history_on(r: &Run, reader: &str) -> Result<String> {
    r.sh(
        reader,
        "stonith_admin --history '*' --verbose 2>/dev/null; true",
    )
}

/// node1's view: the checks below never fence node1 on purpose.
fn fence_history(r: &Run) -> Result<String> {
    fence_history_on(r, "node1")
}

/// The successful fencings of each node in `history`, counted by completion time to the
/// second: requests merged into one fencing (DLM's and the controller's) are listed apart,
/// completed within the same second.
fn fencings(history: &str) -> [usize; 2] {
    NODES.map(|n| successes(history, n).len())
}

/// How many times the fencer has fenced `target` so far, as `reader` knows it: a fenced
/// node's fencer starts with an empty history and is not given the peer's, so ask the peer.
pub fn fencings_of(r: &Run, reader: &str, target: &str) -> Result<usize> {
    Ok(successes(&fence_history_on(r, reader)?, target).len())
}

fn successes(history: &str, target: &str) -> Vec<String> {
    let mut times: Vec<String> = history
        .lines()
        .map(str::trim)
        .filter(|l| l.contains(&format!(" of {target} successful")))
        .filter_map(|l| l.split("completed='").nth(1))
        .map(|t| t.chars().take(19).collect())
        .collect();
    times.sort();
    times.dedup();
    times
}

/// Each node's boot id, in NODES' order.
fn boot_ids(r: &Run) -> Result<Vec<String>> {
    NODES
        .iter()
        .map(|n| r.sh(n, BOOT_ID).map(|s| s.trim().to_owned()))
        .collect()
}

/// Waits (8 min at most) until node2 is back and the cluster active-active without failures.
fn whole_again(r: &Run) -> Result<crm::State> {
    crm::wait(
        r.paths,
        "node1",
        "node2 back: active-active, no failure",
        mins(8),
        |s| s.active_active(&NODES) && s.failures.is_empty(),
    )
}

/// Waits until `node` answers ssh with a boot id other than `before`.
pub fn rebooted(r: &Run, node: &str, before: &str) -> Result<f64> {
    let t = Instant::now();
    while t.elapsed() < mins(6) {
        if let Ok(id) = vm::ssh_ok(r.paths, node, BOOT_ID, secs(20))
            && id.trim() != before
        {
            return Ok(t.elapsed().as_secs_f64());
        }
        sleep(secs(3));
    }
    Err(Error(format!(
        "{node} did not come back with a new boot id"
    )))
}

/// 30: `stonith_admin --reboot node2` on node1: fence_sbd writes the poison pill, node2
/// resets, the fencer reports success after msgwait, node2 comes back by itself and the
/// cluster is active-active again without failures.
pub fn fence_on_request(r: &mut Run) -> Result<String> {
    healthy_again(r, "active-active, no failed action, before fencing")?;
    let ids = boot_ids(r)?;
    let before = fencings(&fence_history(r)?)[1];
    let t = Instant::now();
    let asked = vm::ssh(
        r.paths,
        "node1",
        "stonith_admin --reboot node2 --timeout 150 2>&1",
        mins(4),
    )?;
    let fence_seconds = t.elapsed().as_secs_f64();
    let back = rebooted(r, "node2", &ids[1]);
    let rejoined = whole_again(r);
    let rejoin_seconds = t.elapsed().as_secs_f64();
    let node1_id = r.sh("node1", BOOT_ID)?.trim().to_owned();
    let after = fencings(&fence_history(r)?)[1];
    r.figures
        .push(("fence_on_request_seconds".into(), fence_seconds));
    r.figures
        .push(("fence_on_request_rejoin_seconds".into(), rejoin_seconds));
    let seen = format!(
        "stonith_admin --reboot node2: exit {} in {fence_seconds:.1} s ({}); node2 back with a new boot id: {}; \
         node1's boot id unchanged: {}; cluster: {}; fencer history of node2: {} success(es) more",
        asked.code,
        asked.stdout.trim().replace('\n', " | "),
        match &back {
            Ok(s) => format!("after {s:.0} s"),
            Err(e) => e.0.clone(),
        },
        node1_id == ids[0],
        match &rejoined {
            Ok(_) => format!("active-active, no failure, {rejoin_seconds:.0} s after the request"),
            Err(e) => e.0.clone(),
        },
        after.saturating_sub(before),
    );
    let mut wrong = Vec::new();
    if asked.code != 0 {
        wrong.push("the fencer did not report success");
    }
    if back.is_err() {
        wrong.push("node2 was not reset");
    }
    if node1_id != ids[0] {
        wrong.push("node1 was reset too");
    }
    if rejoined.is_err() {
        wrong.push("the cluster is not whole again");
    }
    if after <= before {
        wrong.push("no successful fencing of node2 in the fencer's history");
    }
    judged_all(seen, &wrong)
}

/// 31: node2's cluster link cut (corosync and DRBD share it) for 60 s while both nodes
/// write and node1 serves through the VirtualIP. Exactly one node is fenced, node2 (node1's
/// fence delay makes it win); node1 goes on serving and writing after its freeze; node2
/// comes back, DRBD resyncs it from node1 (no split brain), and every write acknowledged on
/// either node is on both, unchanged.
pub fn partition(r: &mut Run) -> Result<String> {
    healthy_again(r, "active-active, no failed action, before the cut")?;
    let ids = boot_ids(r)?;
    let fenced_before = fencings(&fence_history(r)?);
    let since = guest_now(r, "node1")?;
    for n in NODES {
        r.sh(n, DURABLE_WRITER)?;
    }
    // node1's view through the VirtualIP and its own writes, every 0.2 s (lab-load).
    r.write_check_page("node1")?;
    start_load(
        r,
        "node1",
        &format!("{DOCROOT}/fenced-load"),
        "/var/lib/lab-load",
    )?;
    sleep(secs(6));
    let cut_at = guest_now(r, "node1")?;
    let t = Instant::now();
    let answer = vm::monitor(r.paths, "node2", "set_link cluster off")?;
    if answer.contains("rror") || answer.contains("not found") {
        return Err(Error(format!("set_link cluster off on node2: {answer}")));
    }
    sleep(secs(60));
    vm::monitor(r.paths, "node2", "set_link cluster on")?;
    say("node2's cluster link restored after 60 s; waiting for node2 to come back");
    let back = rebooted(r, "node2", &ids[1]);
    let whole = whole_again(r);
    let whole_seconds = t.elapsed().as_secs_f64();
    let drbd = r.sh("node1", "grep ' 1:' /proc/drbd; true")?;
    // node2's writer died with its reset; node1's and the load stop now.
    let load = r.sh(
        "node1",
        "kill -- -$(cat /var/lib/lab-writer.pid) 2>/dev/null; kill $(cat /var/lib/lab-load/pid) 2>/dev/null; \
         echo ==; cat /var/lib/lab-load/http.log; echo ==; cat /var/lib/lab-load/write.log; true",
    )?;
    let (http, appends) = load_logs(&load);
    let acked: Vec<String> = NODES
        .iter()
        .map(|n| r.sh(n, "cat /var/lib/lab-acked 2>/dev/null; true"))
        .collect::<Result<_>>()?;
    let all_acked = acked.concat();
    let mut missing = Vec::new();
    for n in NODES {
        let bad = acked_missing_on(r, n, &all_acked)?;
        if bad != "0" {
            missing.push(format!("{n}: {bad}"));
        }
    }
    let fenced = fencings(&fence_history(r)?);
    let node1_id = r.sh("node1", BOOT_ID)?.trim().to_owned();
    let split_brain = NODES
        .iter()
        .map(|n| {
            r.sh(
                n,
                &format!(
                    "journalctl -k -o cat --no-pager --since @{since:.0} | grep -c 'Split-Brain' ; true"
                ),
            )
        })
        .collect::<Result<Vec<_>>>()?;
    let outage = longest_outage(&http);
    let freeze = longest_outage(&appends);
    // Past token and consensus (11 s) node1 is frozen until node2 is fenced: a good answer
    // or append started 20 s after the cut came after the fencing.
    let http_after = http.iter().filter(|h| h.2 && h.0 > cut_at + 20.0).count();
    let appends_after = appends
        .iter()
        .filter(|a| a.2 && a.0 > cut_at + 20.0)
        .count();
    r.figures.push((
        "partition_fenced_longest_http_outage_seconds".into(),
        outage,
    ));
    r.figures.push((
        "partition_fenced_longest_write_freeze_seconds".into(),
        freeze,
    ));
    r.figures
        .push(("partition_fenced_whole_again_seconds".into(), whole_seconds));
    // The first good answer and append that started after the freeze began (token and
    // consensus: 11 s) are the probe's marks; on node1's clock, as the load's logs.
    let after_freeze = |log: &[crate::port_checks::Attempt]| {
        log.iter()
            .find(|x| x.2 && x.0 > cut_at + 11.0)
            .map(|x| x.1 - cut_at)
    };
    let phases = phases::record(
        r,
        "node2's cluster link cut (node1 serving)",
        "node1",
        cut_at,
        (after_freeze(&http), after_freeze(&appends)),
    );
    let counts: Vec<usize> = acked.iter().map(|a| a.lines().count()).collect();
    let seen = format!(
        "node2's link cut for 60 s; node2 back with a new boot id: {}; node1's boot id unchanged: {}; \
         fencings since the cut: node1 {}, node2 {}; cluster: {}; DRBD on node1: {}; split-brain lines in the \
         kernel logs: [{}]; through the VirtualIP from node1: {} requests, longest without a good answer \
         {outage:.1} s, {http_after} good 20 s after the cut; node1's appends on GFS2: longest freeze \
         {freeze:.1} s, {appends_after} started 20 s after the cut or later; acknowledged files: node1 {}, node2 {}; \
         missing or changed: [{}]; phases on node1's clock: {}",
        match &back {
            Ok(s) => format!("after {s:.0} s"),
            Err(e) => e.0.clone(),
        },
        node1_id == ids[0],
        fenced[0] - fenced_before[0].min(fenced[0]),
        fenced[1] - fenced_before[1].min(fenced[1]),
        match &whole {
            Ok(_) => format!("active-active, no failure, {whole_seconds:.0} s after the cut"),
            Err(e) => e.0.clone(),
        },
        drbd.trim(),
        split_brain
            .iter()
            .map(|s| s.trim())
            .collect::<Vec<_>>()
            .join(", "),
        http.len(),
        counts[0],
        counts[1],
        missing.join(", "),
        phases.describe()
    );
    let mut wrong = Vec::new();
    if fenced[1] <= fenced_before[1] || back.is_err() {
        wrong.push("node2 was not fenced".to_owned());
    }
    if fenced[0] > fenced_before[0] || node1_id != ids[0] {
        wrong.push("node1 was fenced too".to_owned());
    }
    if whole.is_err() || !drbd.contains("ds:UpToDate/UpToDate") {
        wrong.push("not whole again, DRBD not UpToDate on both".to_owned());
    }
    if split_brain.iter().any(|s| s.trim() != "0") {
        wrong.push("DRBD saw a split brain".to_owned());
    }
    if http_after == 0 || appends_after == 0 {
        wrong.push("node1 did not serve and write after the cut".to_owned());
    }
    if counts.contains(&0) {
        wrong.push("a node acknowledged nothing: the fault was not exercised".to_owned());
    }
    if !missing.is_empty() {
        wrong.push("acknowledged writes lost or changed".to_owned());
    }
    judged_all(seen, &wrong)
}

/// GFS2's sysfs directories of every mounted GFS2 (`<cluster>:<fs>`, kernel 6.12).
const GFS2_SYSFS: &str = "/sys/fs/gfs2";

/// From node2's journal (every boot since `since`, `-o short-unix`): when the kernel
/// withdrew GFS2 at the user's request, and the first WebFS monitor result after it that
/// names the withdraw, with that line.
fn withdraw_seen_in(journal: &str) -> (Option<f64>, Option<(f64, String)>) {
    let stamp = |l: &str| {
        l.split_whitespace()
            .next()
            .and_then(|t| t.parse::<f64>().ok())
    };
    let withdrawn = journal
        .lines()
        .filter(|l| l.contains("withdrawing from cluster at user's request"))
        .find_map(stamp);
    let monitor = journal
        .lines()
        .filter(|l| {
            l.contains("Result of monitor operation for WebFS on node2") && l.contains("withdrawn")
        })
        .filter_map(|l| Some((stamp(l)?, l)))
        .find(|(t, _)| withdrawn.is_none_or(|w| *t >= w))
        .map(|(t, l)| {
            let from = l.find("Result of monitor").unwrap_or(0);
            (t, l[from..].to_owned())
        });
    (withdrawn, monitor)
}

/// Waits (8 min at most) until every GFS2 on node2 reads `withdraw` 0 and WebFS and WebSite
/// run on both nodes; node2 may be unreachable meanwhile (fenced, booting).
fn fresh_mount_on_node2(r: &Run) -> Result<()> {
    let _w = awaiting("node2's GFS2 mounted afresh, WebFS and WebSite on both nodes");
    let deadline = Instant::now() + mins(8);
    let mut last = String::from("nothing read yet");
    while Instant::now() < deadline {
        let flags = vm::ssh(
            r.paths,
            "node2",
            &format!("cat {GFS2_SYSFS}/*/withdraw 2>/dev/null | tr '\\n' ' '"),
            secs(20),
        )
        .map_or_else(|e| e.0, |o| o.stdout.trim().to_owned());
        let fresh = !flags.is_empty() && flags.split_whitespace().all(|f| f == "0");
        if let Ok(s) = crm::state(r.paths, "node1") {
            if fresh && s.is("WebFS", "Started", &NODES) && s.is("WebSite", "Started", &NODES) {
                return Ok(());
            }
            last = format!("node2's withdraw flags [{flags}]; {}", s.summary());
        }
        sleep(secs(5));
    }
    Err(Error(format!(
        "node2's GFS2 not mounted afresh with WebFS and WebSite on both nodes within 8 min; last seen: {last}"
    )))
}

/// 33: node2's GFS2 withdrawn (`echo 1 > /sys/fs/gfs2/<table>/withdraw`, as the kernel does
/// after an I/O or DLM error: check 30 once met it on the survivor of a fencing). It stays
/// mounted and every write fails; the anchor's monitor and ours before 324f7e9 called it
/// running. gfs2-fs's monitor must fail (exit 1, the reason naming the withdraw; read from
/// node2's journal), and Pacemaker recover node2: WebFS restarted there, or, where the unmount
/// of a withdrawn GFS2 fails, node2 fenced. Meanwhile node1 goes on writing; node1 is never
/// fenced; afterwards node2's GFS2 is a new mount and writable, and every file node1
/// acknowledged is on node2 too.
pub fn withdraw(r: &mut Run) -> Result<String> {
    healthy_again(r, "active-active, no failed action, before the withdraw")?;
    // node1 must never be fenced, over every attempt: its boot id and fencings from here.
    let ids_first = boot_ids(r)?;
    let fenced_first = fencings(&fence_history(r)?);
    r.sh("node1", DURABLE_WRITER)?;
    sleep(secs(4));
    let inject = format!(
        "for d in {GFS2_SYSFS}/*/; do echo 1 > $d/withdraw; echo \"$(basename $d) withdraw=$(cat $d/withdraw)\"; done; \
         touch {DOCROOT}/lab-withdrawn 2>&1 && echo write=ok || echo write=failed; true"
    );
    // Kernel 6.12 can die at the withdraw itself (2026-12-02: "stack guard page was hit" in
    // GFS2's withdraw path, a panic within half a second): node2 is fenced and comes back,
    // but no monitor had anything to see. That is recorded and the withdraw tried again on
    // the new mount, once.
    let mut died = Vec::new();
    let (injected, at, t, ids, fenced_before) = loop {
        let ids = boot_ids(r)?;
        let fenced_before = fencings(&fence_history(r)?);
        let console = vm::console_log(r.paths, "node2");
        let console_from = std::fs::metadata(&console).map_or(0, |m| m.len());
        let at = guest_now(r, "node1")?;
        let t = Instant::now();
        match r.sh("node2", &inject) {
            Ok(out) => break (out, at, t, ids, fenced_before),
            Err(e) => {
                let said = kernel_death(&read_from(&console, console_from));
                let back = fresh_mount_on_node2(r).and_then(|()| {
                    healthy_again(r, "active-active, no failed action, after node2's death")
                });
                died.push(format!(
                    "attempt {}: node2 unreachable at the withdraw ({}); its console: {}; {}",
                    died.len() + 1,
                    e.0.lines().next().unwrap_or("").trim(),
                    said.as_deref().unwrap_or("no panic line"),
                    match &back {
                        Ok(_) => format!(
                            "back with a fresh mount, active-active {:.1} s after the withdraw",
                            t.elapsed().as_secs_f64()
                        ),
                        Err(e) => e.0.clone(),
                    }
                ));
                if back.is_err() || died.len() >= 2 {
                    return Err(Error(format!(
                        "node2's kernel died at the withdraw on every attempt, before any monitor could see it: {}",
                        died.join("; ")
                    )));
                }
            }
        }
    };
    // Pacemaker keeps one failure per resource and node: the failed monitor is replaced by
    // the next failure (the stop of the withdrawn GFS2 failed 5 s later in the lab), and a
    // fencing wipes node2's history. So crm_mon may only say that something happened; what
    // the monitor answered, and when, is read afterwards from node2's journal. journald
    // writes to disk every 5 minutes though, and a reset sooner loses those lines (seen
    // 2026-12-02): then the failed action crm_mon showed, if it names the withdraw, is the
    // monitor's answer, seen within `reacted_seconds`.
    let reacted = crm::wait(
        r.paths,
        "node1",
        "a WebFS failure on node2, or node2 gone",
        mins(3),
        |s| s.failure("WebFS_", "node2").is_some() || !s.online.iter().any(|n| n == "node2"),
    );
    let reacted_seconds = t.elapsed().as_secs_f64();
    let shown_by_pacemaker = reacted
        .as_ref()
        .ok()
        .and_then(|s| s.failure("WebFS_monitor", "node2"))
        .filter(|f| f.contains("withdrawn"));
    // Recovery: node2's GFS2 a mount that never withdrew (restarted in place or after a
    // fencing) with WebFS and WebSite on both nodes. Pacemaker's state alone cannot say it:
    // right after the failure it still shows WebFS Started on both.
    let back = fresh_mount_on_node2(r);
    let recovered_seconds = t.elapsed().as_secs_f64();
    let whole = healthy_again(r, "active-active, no failed action, after the recovery");
    let node2_id = r.sh("node2", BOOT_ID)?.trim().to_owned();
    let node1_id = r.sh("node1", BOOT_ID)?.trim().to_owned();
    let fenced = fencings(&fence_history(r)?);
    let mount_after = r.sh(
        "node2",
        &format!(
            "cat {GFS2_SYSFS}/*/withdraw 2>/dev/null | tr '\\n' ' '; \
             echo {} > {DOCROOT}/lab-after-withdraw && sync {DOCROOT}/lab-after-withdraw && echo write=ok || echo write=failed",
            r.token
        ),
    )?;
    let seen_on_node1 = r.sh(
        "node1",
        &format!("cat {DOCROOT}/lab-after-withdraw 2>/dev/null; true"),
    )?;
    r.sh(
        "node1",
        "kill -- -$(cat /var/lib/lab-writer.pid) 2>/dev/null; true",
    )?;
    let acked = r.sh("node1", "cat /var/lib/lab-acked 2>/dev/null; true")?;
    let acked_during = r.sh(
        "node1",
        &format!(
            "n=0; while read -r _ f; do [ $(stat -c %Y $f) -ge {at:.0} ] && n=$((n+1)); done < /var/lib/lab-acked; echo $n"
        ),
    )?;
    let missing = acked_missing_on(r, "node2", &acked)?;
    let journal = r.sh(
        "node2",
        &format!(
            "journalctl --since @{:.0} --no-pager -o short-unix | \
             grep -E \"withdrawing from cluster at user's request|Result of monitor operation for WebFS on node2\"; true",
            at - 60.0
        ),
    )?;
    let (withdrawn_at, monitor) = withdraw_seen_in(&journal);
    let detected_seconds = match (withdrawn_at, &monitor, &shown_by_pacemaker) {
        (Some(w), Some((m, _)), _) => m - w,
        (_, None, Some(_)) => reacted_seconds,
        _ => f64::NAN,
    };
    r.figures
        .push(("withdraw_detected_seconds".into(), detected_seconds));
    r.figures
        .push(("withdraw_recovered_seconds".into(), recovered_seconds));
    let phases = phases::record(r, "node2's GFS2 withdrawn", "node1", at, (None, None));
    let node2_fenced = fenced[1] > fenced_before[1] || node2_id != ids[1];
    let seen = format!(
        "on node2: [{}]; {}; node2 {}; {}; node2's GFS2 after: withdraw [{}]; node1 read back node2's new file: {}; \
         node1's acknowledged files: {} ({} written after the withdraw), missing or changed on node2: {}; node1 \
         fenced or reset: {}; phases on node1's clock: {}",
        injected.trim().replace('\n', " | "),
        match (&monitor, &reacted) {
            (Some((_, line)), _) => format!(
                "node2's journal: the WebFS monitor failed {detected_seconds:.1} s after the withdraw: {line}"
            ),
            (None, Ok(_)) if shown_by_pacemaker.is_some() => format!(
                "not in node2's journal (reset before journald wrote it), but crm_mon showed it within \
                 {detected_seconds:.1} s of the withdraw: {}",
                shown_by_pacemaker.as_deref().unwrap_or_default()
            ),
            (None, Ok(s)) => format!(
                "no WebFS monitor naming the withdraw in node2's journal; Pacemaker showed: {}",
                s.summary()
            ),
            (None, Err(e)) => e.0.clone(),
        },
        if node2_fenced {
            "fenced (the stop of the withdrawn GFS2 failed)"
        } else {
            "not fenced (WebFS restarted in place)"
        },
        match (&back, &whole) {
            (Ok(()), Ok(_)) => format!(
                "WebFS and WebSite on both nodes again after {recovered_seconds:.1} s, then active-active with no failure"
            ),
            (Err(e), _) | (_, Err(e)) => e.0.clone(),
        },
        mount_after.trim().replace('\n', " | "),
        seen_on_node1.trim() == r.token,
        acked.lines().count(),
        acked_during.trim(),
        missing,
        fenced[0] > fenced_first[0] || node1_id != ids_first[0],
        phases.describe()
    );
    let seen = if died.is_empty() {
        seen
    } else {
        format!("{}; then {seen}", died.join("; "))
    };
    let mut wrong = Vec::new();
    if !injected.contains("withdraw=1") || !injected.contains("write=failed") {
        wrong.push("node2's GFS2 did not withdraw: the fault was not injected");
    }
    if monitor.is_none() && shown_by_pacemaker.is_none() {
        wrong.push("no WebFS monitor on node2 named the withdraw: it went unseen");
    }
    if back.is_err() || whole.is_err() {
        wrong.push("not active-active again without failures");
    }
    // "0 write=ok": every GFS2 on node2 is a mount that never withdrew, and it takes writes.
    let withdraw_flags: Vec<&str> = mount_after
        .split_whitespace()
        .take_while(|w| !w.starts_with("write="))
        .collect();
    if !mount_after.contains("write=ok")
        || withdraw_flags.is_empty()
        || withdraw_flags.iter().any(|f| *f != "0")
    {
        wrong.push("node2's GFS2 is not writable again");
    }
    if seen_on_node1.trim() != r.token {
        wrong.push("node1 does not see node2's new file");
    }
    if fenced[0] > fenced_first[0] || node1_id != ids_first[0] {
        wrong.push("node1 was fenced or reset");
    }
    if acked_during.trim() == "0" {
        wrong.push("node1 wrote nothing after the withdraw");
    }
    if missing != "0" {
        wrong.push("files node1 acknowledged are missing or changed on node2");
    }
    judged_all(seen, &wrong)
}

/// What a file holds from byte `from` on (a console log grows across boots), lossily.
fn read_from(path: &std::path::Path, from: u64) -> String {
    use std::io::{Read, Seek, SeekFrom};
    let mut text = Vec::new();
    if let Ok(mut f) = std::fs::File::open(path)
        && f.seek(SeekFrom::Start(from)).is_ok()
    {
        let _ = f.take(4 << 20).read_to_end(&mut text);
    }
    String::from_utf8_lossy(&text).into_owned()
}

/// The lines of a console that say how a kernel died (the first BUG or Oops, and the panic),
/// without their timestamps.
fn kernel_death(console: &str) -> Option<String> {
    let strip = |l: &str| {
        l.trim()
            .split_once("] ")
            .map_or(l.trim(), |(_, rest)| rest)
            .to_owned()
    };
    let first_bug = console
        .lines()
        .find(|l| l.contains("BUG: ") || l.contains("Oops: "))
        .map(strip);
    let panic = console
        .lines()
        .find(|l| l.contains("Kernel panic - not syncing"))
        .map(strip);
    match (first_bug, panic) {
        (Some(b), Some(p)) => Some(format!("{b} / {p}")),
        (b, p) => b.or(p),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn how_the_kernel_died_is_read_from_the_console() {
        // node2's console at check 33's withdraw (lab, Debian 13, kernel 6.12, 2026-12-02).
        let console = "[  102.974410] gfs2: fsid=mycluster:web.1: withdrawing from cluster at user's request\n\
            [  103.509723] BUG: TASK stack guard page was hit at 00000000e84f0599 (stack is 00000000dee7235b..0000000067f910d4)\n\
            [  103.511798] Oops: stack guard page: 0000 [#1] PREEMPT SMP NOPTI\n\
            [  103.529334] Kernel panic - not syncing: Fatal exception in interrupt\n";
        assert_eq!(
            kernel_death(console).as_deref(),
            Some(
                "BUG: TASK stack guard page was hit at 00000000e84f0599 (stack is 00000000dee7235b..0000000067f910d4) \
                 / Kernel panic - not syncing: Fatal exception in interrupt"
            )
        );
        assert_eq!(kernel_death("[    1.0] Linux version 6.12\n"), None);
    }

    #[test]
    fn the_withdraw_and_the_monitor_that_saw_it_are_read_from_node2s_journal() {
        // `journalctl -o short-unix` on node2 across its fencing (lab, Debian 13, 2026-12-02).
        let journal = "1796231300.100000 node2 pacemaker-controld[370]: notice: Result of monitor operation for WebFS on node2: OK\n\
            1796231471.528000 node2 kernel: gfs2: fsid=mycluster:web.1: withdrawing from cluster at user's request\n\
            1796231485.181145 node2 pacemaker-controld[370]: notice: Result of monitor operation for WebFS on node2: Error occurred (GFS2 on /dev/drbd1 at /var/www/html is withdrawn: the kernel stopped it)\n\
            1796231590.000000 node2 pacemaker-controld[371]: notice: Result of monitor operation for WebFS on node2: OK\n";
        let (withdrawn, monitor) = withdraw_seen_in(journal);
        assert_eq!(withdrawn, Some(1_796_231_471.528));
        let (at, line) = monitor.expect("the failed monitor");
        assert!((at - 1_796_231_485.181_145).abs() < 1e-6);
        assert!(
            line.starts_with(
                "Result of monitor operation for WebFS on node2: Error occurred (GFS2"
            )
        );
        // Without the failed monitor (the anchor's Filesystem, gfs2-fs before 324f7e9): unseen.
        let unseen: String = journal
            .lines()
            .filter(|l| !l.contains("withdrawn"))
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(withdraw_seen_in(&unseen).1, None);
    }

    #[test]
    fn the_fencers_history_counts_successes_against_one_target() {
        // `stonith_admin --history '*' --verbose`, Pacemaker 3.0.0 (lab, 2026-12-02): DLM's
        // request and the controller's merged into one fencing, an earlier one, a failure.
        let history = "reboot of node2 successful: delegate=node1, client=pacemaker-controld.370, origin=node1, completed='2026-12-02 08:58:49.991959Z'\n\
                       reboot of node2 successful: delegate=node1, client=stonith-api.2249, origin=node1, completed='2026-12-02 08:58:49.935959Z'\n\
                       reboot of node2 successful: delegate=node1, client=pacemaker-controld.370, origin=node1, completed='2026-12-02 08:51:08.687979Z'\n\
                       reboot of node2 failed: delegate=node1, client=pacemaker-controld.600, origin=node1, last-failed='2026-12-02 08:00:00Z'\n\
                       reboot of node1 successful: delegate=node2, client=stonith_admin.99, origin=node2, completed='2026-12-02 07:00:00.1Z'\n\
                       5 events found\n";
        assert_eq!(successes(history, "node2").len(), 2);
        assert_eq!(successes(history, "node1").len(), 1);
        assert_eq!(fencings(history), [1, 2]);
        assert!(successes("0 events found", "node2").is_empty());
    }
}
