//! The lab checks of issue 7 on our dlm-controld-wrapper: the dlm clone starts before WebFS
//! on each node, stop is refused while GFS2 is mounted and succeeds after, ocf-tester passes on
//! a node, start is refused with fencing off and the switch unset (reason in `pcs status`),
//! and a killed dlm_controld is seen, with and without GFS2 mounted on top.

use crate::breaks::Break;
use crate::cluster;
use crate::crm;
use crate::fault_checks;
use crate::fenced_checks;
use crate::native::{self, DLM_ENV, OP_JOURNAL, run_agent};
use crate::pcs::Pcs;
use crate::scenario::Run;
use crate::step::{Error, Result, say};
use crate::sys::{mins, secs};
use crate::vm::{self, NODES, other};
use std::fmt::Write;
use std::thread::sleep;
use std::time::Instant;

const AGENT: &str = "dlm-controld-wrapper";
const MOUNTED: &str = "grep -c ' /var/www/html gfs2 ' /proc/mounts || true";
const DAEMON: &str = "pgrep -x dlm_controld | tr '\\n' ' '; true";
const LOCKSPACES: &str = "ls /sys/kernel/dlm | tr '\\n' ' '; true";

pub fn guest_now(r: &Run, node: &str) -> Result<f64> {
    r.sh(node, "date +%s.%N")?
        .trim()
        .parse()
        .map_err(|_| Error("bad date".into()))
}

/// Pacemaker's operations on `node` since `since` (the node's clock).
pub fn ops_since(r: &Run, node: &str, since: f64) -> Result<Vec<native::OpEvent>> {
    let text = r.sh(node, &format!("{OP_JOURNAL}; true"))?;
    Ok(native::op_events(&text)
        .into_iter()
        .filter(|e| e.at >= since)
        .collect())
}

fn first(ev: &[native::OpEvent], rsc: &str, op: &str, what: &str) -> Option<f64> {
    ev.iter()
        .find(|e| e.resource == rsc && e.op == op && e.what == what)
        .map(|e| e.at)
}

pub fn healthy_again(r: &Run, what: &str) -> Result<f64> {
    let t = Instant::now();
    r.sh("node1", "crm_resource --cleanup >/dev/null 2>&1; true")?;
    let bound = mins(4) + crate::fenced::rejoin_allowance(r.setup.profile.fencing());
    let s = crm::wait(r.paths, "node1", what, bound, |s| s.active_active(&NODES))?;
    if !s.failures.is_empty() {
        // A cleanup while a fenced node rejoins can be lost: the fail count went, the
        // operation's record stayed (fenced profile, check 11: its failed action remained for
        // 240 s). Once the cluster is whole, the cleanup is asked again.
        say(&format!(
            "{what}: cleaning up again, the failures stayed: {}",
            s.failures.join("; ")
        ));
        r.sh("node1", "crm_resource --cleanup >/dev/null 2>&1; true")?;
        crm::wait(r.paths, "node1", what, mins(2), |s| {
            s.active_active(&NODES) && s.failures.is_empty()
        })?;
    }
    Ok(t.elapsed().as_secs_f64())
}

/// The break for check 7: WebFS started on `node` while dlm is not there. Both are first
/// stopped there by one location constraint over both (the order still holds, so WebFS
/// unmounts before dlm stops and every stop succeeds); then the order `dlm-clone then WebFS`
/// and the colocation of WebFS with dlm are deleted and the constraint narrowed to dlm alone:
/// Pacemaker starts WebFS there without dlm (gfs2-fs refuses it, exit 1: DLM is not running).
/// Then the constraints are restored and the cluster healed. (Deleting the order alone did
/// not do: with the colocation, Pacemaker 2.1.5 still requested WebFS after dlm's start.)
fn start_webfs_without_dlm(r: &mut Run, node: &str) -> Result<()> {
    let order = "//rsc_order[@first='dlm-clone']";
    let colocation = "//rsc_colocation[@with-rsc='dlm-clone']";
    let saved: Vec<String> = [order, colocation]
        .iter()
        .map(|x| r.sh("node1", &format!("cibadmin --query --xpath \"{x}\"")))
        .collect::<Result<_>>()?;
    let both_away = format!(
        "<rsc_location id='lab-unordered' node='{node}' score='-INFINITY'>\
         <resource_set id='lab-unordered-set'><resource_ref id='dlm-clone'/>\
         <resource_ref id='WebFS-clone'/></resource_set></rsc_location>"
    );
    let dlm_away = format!(
        "<rsc_location id='lab-dlm-away' rsc='dlm-clone' node='{node}' score='-INFINITY'/>"
    );
    let create = |xml: &str| format!("cibadmin --create --scope constraints --xml-text \"{xml}\"");
    r.sh("node1", &create(&both_away))?;
    crm::wait(
        r.paths,
        "node1",
        "dlm and WebFS stopped there",
        mins(3),
        |s| {
            !s.nodes("dlm", "Started").contains(&node.to_owned())
                && !s.nodes("WebFS", "Started").contains(&node.to_owned())
        },
    )?;
    r.sh(
        "node1",
        &format!(
            "cibadmin --delete --xpath \"{order}\" && cibadmin --delete --xpath \"{colocation}\" && {} && \
             cibadmin --delete --xpath \"//rsc_location[@id='lab-unordered']\"",
            create(&dlm_away)
        ),
    )?;
    let start = format!("WebFS_start_0 on {node}");
    let tried = crm::wait(
        r.paths,
        "node1",
        "WebFS started there without dlm",
        mins(3),
        |s| {
            s.failures.iter().any(|f| f.starts_with(&start))
                || s.nodes("WebFS", "Started").contains(&node.to_owned())
        },
    );
    r.sh(
        "node1",
        "cibadmin --delete --xpath \"//rsc_location[@id='lab-dlm-away']\"",
    )?;
    for xml in &saved {
        r.sh(
            "node1",
            &format!(
                "cibadmin --create --scope constraints --xml-text '{}'",
                xml.trim()
            ),
        )?;
    }
    tried?;
    healthy_again(r, "active-active after WebFS started without dlm")?;
    say(&format!(
        "break unordered-dlm: WebFS started on {node} while dlm was kept off it, constraints restored"
    ));
    Ok(())
}

/// 7: from Pacemaker's own journal on each node, across its boots: every start of WebFS since
/// the dlm clone existed was requested while dlm was started there in the same boot (its
/// start ok, no stop or failed monitor since).
pub fn order(r: &mut Run) -> Result<String> {
    if r.setup.broken(Break::UnorderedDlm) {
        start_webfs_without_dlm(r, "node2")?;
    }
    let mut seen = String::new();
    for n in NODES {
        let ev = native::op_events(&r.sh(n, &format!("{OP_JOURNAL}; true"))?);
        match native::ordered_after(&ev, "dlm", "WebFS") {
            Ok(gaps) if !gaps.is_empty() => {
                let list: Vec<String> = gaps.iter().map(|g| format!("{g:.1} s")).collect();
                let _ = write!(
                    seen,
                    "{n}: {} WebFS start(s), each requested after dlm's start succeeded ({} after); ",
                    gaps.len(),
                    list.join(", ")
                );
            }
            Ok(_) => {
                return Err(Error(format!(
                    "{seen}{n}: no WebFS start after a dlm start in Pacemaker's journal"
                )));
            }
            Err(at) => {
                return Err(Error(format!(
                    "{seen}{n}: WebFS start requested at {at:.1} while dlm was not started"
                )));
            }
        }
    }
    Ok(seen)
}

/// 8: stop run by hand while GFS2 is mounted (cluster in maintenance mode) is refused and
/// leaves the daemon running; then dlm is banned from the node and Pacemaker's stop succeeds
/// once WebFS has unmounted GFS2. Leaves dlm banned there for checks 9 and 10.
pub fn stop(r: &mut Run) -> Result<String> {
    let node = other(&r.vip_holder()?).to_owned();
    r.sh(
        "node1",
        "crm_attribute --type crm_config --name maintenance-mode --update true",
    )?;
    sleep(secs(3));
    let refused = run_agent(r.paths, &node, AGENT, "stop", &DLM_ENV, mins(2));
    if r.setup.broken(Break::Gfs2Readonly) {
        r.sh(&node, "mount -o remount,ro /var/www/html")?;
        say(&format!(
            "break gfs2-readonly: GFS2 remounted read-only on {node}"
        ));
    }
    let after = (
        r.sh(&node, DAEMON)?,
        r.sh(&node, MOUNTED)?,
        r.sh(
            &node,
            "echo x > /var/www/html/lab-stop-refused && echo writable || echo read-only",
        )?,
    );
    r.sh(
        "node1",
        "crm_attribute --type crm_config --name maintenance-mode --delete",
    )?;
    let refused = refused?;
    let mut seen = format!(
        "on {node}, GFS2 mounted, maintenance mode: stop by hand {}; then dlm_controld pids [{}], GFS2 mounts {}, {}; ",
        refused.describe(),
        after.0.trim(),
        after.1.trim(),
        after.2.trim()
    );
    let mut wrong = Vec::new();
    if refused.rc != 1 || !refused.reason().contains("lockspaces") {
        wrong.push("the stop was not refused with exit 1 naming the lockspaces");
    }
    if after.0.trim().is_empty() {
        wrong.push("dlm_controld is gone");
    }
    if after.1.trim() != "1" {
        wrong.push("GFS2 is no longer mounted");
    }
    if after.2.trim() != "writable" {
        wrong.push("GFS2 is no longer writable");
    }
    if !wrong.is_empty() {
        return Err(Error(format!("{seen}WRONG: {}", wrong.join(", "))));
    }
    let since = guest_now(r, &node)?;
    r.sh(
        "node1",
        &format!("crm_resource --ban --resource dlm-clone --node {node} >/dev/null 2>&1"),
    )?;
    r.dlm_banned = Some(node.clone());
    crm::wait(
        r.paths,
        "node1",
        "dlm and WebFS stopped on the node",
        mins(3),
        |s| {
            !s.nodes("dlm", "Started").contains(&node)
                && !s.nodes("WebFS", "Started").contains(&node)
        },
    )?;
    let ev = ops_since(r, &node, since)?;
    let webfs_stop = first(&ev, "WebFS", "stop", "ok");
    let dlm_stop = first(&ev, "dlm", "stop", "ok");
    let (daemon, ls, mounted) = (
        r.sh(&node, DAEMON)?,
        r.sh(&node, LOCKSPACES)?,
        r.sh(&node, MOUNTED)?,
    );
    let _ = write!(
        seen,
        "dlm-clone banned from {node}: Pacemaker's WebFS stop ok at +{}, dlm stop ok at +{}; afterwards \
         dlm_controld pids [{}], lockspaces [{}], GFS2 mounts {}",
        webfs_stop.map_or("never".into(), |t| format!("{:.1} s", t - since)),
        dlm_stop.map_or("never".into(), |t| format!("{:.1} s", t - since)),
        daemon.trim(),
        ls.trim(),
        mounted.trim()
    );
    let ok = matches!((webfs_stop, dlm_stop), (Some(w), Some(d)) if w < d)
        && daemon.trim().is_empty()
        && ls.trim().is_empty()
        && mounted.trim() == "0";
    if ok { Ok(seen) } else { Err(Error(seen)) }
}

/// 9: agents/dlm-controld-wrapper/tests/ocf-tester.sh on the node dlm is banned from.
pub fn ocf_tester(r: &mut Run) -> Result<String> {
    let Some(node) = r.dlm_banned.clone() else {
        return Err(Error("check 8 did not leave a node without dlm".into()));
    };
    let out = vm::ssh(
        r.paths,
        &node,
        &format!(
            "sh /usr/local/share/lab/dlm-ocf-tester.sh {}/{AGENT} 2>&1",
            native::AGENT_DIR
        ),
        mins(5),
    )?;
    let tail: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| !l.starts_with("dlm-controld-wrapper(") && !l.starts_with("ocf-exit-reason"))
        .collect();
    let tail = tail[tail.len().saturating_sub(6)..].join(" | ");
    let seen = format!("on {node}: ocf-tester.sh exit {}: {tail}", out.code);
    if out.code == 0 {
        Ok(seen)
    } else {
        Err(Error(seen))
    }
}

/// 10: a second primitive of our agent without the switch, allowed only on the node dlm is
/// banned from (and never probed elsewhere), is refused at start with the reason in `pcs
/// status`. Then everything is put back: the primitive deleted, the ban cleared.
pub fn fencing_refused(r: &mut Run) -> Result<String> {
    let result = fencing_refused_on(r);
    let back = restore(r);
    match (result, back) {
        (Ok(seen), Ok(t)) => Ok(format!(
            "{seen}; cluster active-active again {t:.1} s after"
        )),
        (Ok(seen), Err(e)) => Err(Error(format!("{seen}; restoring: {e}"))),
        (Err(e), _) => Err(e),
    }
}

fn fencing_refused_on(r: &mut Run) -> Result<String> {
    let Some(node) = r.dlm_banned.clone() else {
        return Err(Error("check 8 did not leave a node without dlm".into()));
    };
    let peer = other(&node);
    let lines = Pcs::new(r.setup.release).lines(&[
        "pcs cluster cib nofence_cfg".into(),
        format!("pcs -f nofence_cfg resource create dlm-nofence ocf:native:{AGENT} op monitor interval=60s"),
        format!(
            "pcs -f nofence_cfg constraint location add lab-nofence-not-{peer} dlm-nofence {peer} -INFINITY resource-discovery=never"
        ),
        "pcs cluster cib-push nofence_cfg --config".into(),
    ]);
    r.sh(
        "node1",
        &format!(
            "cd /root && lab-pcs <<'LAB_EOF'\n{}\nLAB_EOF",
            lines.join("\n")
        ),
    )?;
    let s = crm::wait(
        r.paths,
        "node1",
        "dlm-nofence's start failure",
        mins(2),
        |s| {
            s.failures
                .iter()
                .any(|f| f.starts_with("dlm-nofence_start_0"))
        },
    )?;
    let failure = s
        .failures
        .iter()
        .find(|f| f.starts_with("dlm-nofence_start_0"))
        .cloned()
        .unwrap_or_default();
    let status = r.sh("node1", "pcs status 2>&1")?;
    let line = status
        .lines()
        .find(|l| l.contains("dlm-nofence start"))
        .unwrap_or("")
        .trim()
        .to_owned();
    let seen = format!(
        "dlm-nofence (our agent, no allow_fencing_disabled, stonith-enabled=false) on {node}: {failure}; \
         pcs status: {line:?}"
    );
    // Pacemaker 3 capitalizes the status ("Not configured"), 2.1 does not.
    let lower = line.to_lowercase();
    let ok = failure.contains(&format!(" on {node}:"))
        && failure.contains("exit 6")
        && lower.contains("not configured")
        && line.contains("allow_fencing_disabled")
        && line.contains("fencing is disabled");
    if ok { Ok(seen) } else { Err(Error(seen)) }
}

/// Deletes check 10's primitive if it exists and lifts check 8's ban on dlm: run by check 10
/// when it ends, and in its place where it does not apply.
pub fn restore(r: &mut Run) -> Result<f64> {
    let t = Instant::now();
    r.sh(
        "node1",
        "if cibadmin -Q -o resources | grep -q 'id=\"dlm-nofence\"'; then cd /root && \
         printf 'pcs resource delete dlm-nofence\\n' | lab-pcs; fi; \
         crm_resource --clear --resource dlm-clone >/dev/null 2>&1; true",
    )?;
    r.dlm_banned = None;
    healthy_again(r, "active-active after the DLM checks")?;
    Ok(t.elapsed().as_secs_f64())
}

/// 11 A without fencing: the monitor sees the killed daemon (exit 7: no lockspace here) and
/// Pacemaker restarts dlm in place.
fn killed_without_gfs2_restarted(r: &mut Run, node: &str) -> Result<String> {
    ban_webfs(r, node)?;
    let before = r.sh(node, DAEMON)?;
    let killed_at = Instant::now();
    r.sh(node, "pkill -KILL -x dlm_controld")?;
    let key = format!("dlm_monitor_60000 on {node}:");
    let s = crm::wait(r.paths, "node1", "a failed dlm monitor", mins(2), |s| {
        s.failures.iter().any(|f| f.starts_with(&key))
    })?;
    let detected = killed_at.elapsed().as_secs_f64();
    let failure = s
        .failures
        .iter()
        .find(|f| f.starts_with(&key))
        .cloned()
        .unwrap_or_default();
    // crm_mon may still show the failed instance as Started: wait for the new daemon.
    let after = r.sh(
        node,
        "for i in $(seq 120); do p=$(pgrep -x dlm_controld) && break; sleep 1; done; echo $p",
    )?;
    let restarted = killed_at.elapsed().as_secs_f64();
    crm::wait(r.paths, "node1", "dlm started again", mins(2), |s| {
        s.instances.iter().any(|i| {
            i.id == "dlm" && i.node.as_deref() == Some(node) && i.role == "Started" && !i.failed
        })
    })?;
    clear_webfs_ban(r, node)?;
    r.figures
        .push(("dlm_kill_detected_seconds".into(), detected));
    r.figures
        .push(("dlm_kill_restarted_seconds".into(), restarted));
    let seen = format!(
        "A) {node} without GFS2: dlm_controld [{}] SIGKILLed, monitor failure after {detected:.1} s ({failure}), \
         dlm_controld [{}] running again after {restarted:.1} s; ",
        before.trim(),
        after.trim()
    );
    // exit 7: not running (no lockspaces here, so not "uncontrolled").
    if !failure.contains("exit 7") || after.trim().is_empty() {
        return Err(Error(seen));
    }
    Ok(seen)
}

/// 11 A with fencing: the peer's dlm_controld has the node fenced; it comes back by itself
/// and dlm runs there again.
fn killed_without_gfs2_fenced(r: &mut Run, node: &str) -> Result<String> {
    ban_webfs(r, node)?;
    let before = r.sh(node, DAEMON)?;
    let boot_id = r.sh(node, fenced_checks::BOOT_ID)?.trim().to_owned();
    let peer = other(node);
    let fenced_before = fenced_checks::fencings_of(r, peer, node)?;
    let killed_at = Instant::now();
    r.sh(node, "pkill -KILL -x dlm_controld")?;
    let back = fenced_checks::rebooted(r, node, &boot_id);
    let back_secs = killed_at.elapsed().as_secs_f64();
    clear_webfs_ban(r, node)?;
    let fenced_after = fenced_checks::fencings_of(r, peer, node)?;
    let after = r.sh(node, DAEMON)?;
    r.figures
        .push(("dlm_kill_fenced_back_seconds".into(), back_secs));
    let seen = format!(
        "A) {node} without GFS2: dlm_controld [{}] SIGKILLed; {node} {}; fencer history of {node}: \
         {} success(es) more; dlm_controld [{}] running after its return; ",
        before.trim(),
        match &back {
            Ok(_) => format!("back with a new boot id after {back_secs:.1} s"),
            Err(e) => e.0.clone(),
        },
        fenced_after.saturating_sub(fenced_before),
        after.trim()
    );
    let mut wrong = Vec::new();
    if back.is_err() {
        wrong.push("the node was not reset");
    }
    if fenced_after <= fenced_before {
        wrong.push("no successful fencing of the node in the fencer's history");
    }
    if after.trim().is_empty() {
        wrong.push("dlm_controld not running after the node's return");
    }
    fault_checks::judged_all(seen, &wrong)
}

/// Keeps GFS2 off `node` (a ban on WebFS-clone) and waits until it is stopped there.
fn ban_webfs(r: &mut Run, node: &str) -> Result<()> {
    r.sh(
        "node1",
        &format!("crm_resource --ban --resource WebFS-clone --node {node} >/dev/null 2>&1"),
    )?;
    crm::wait(
        r.paths,
        "node1",
        "WebFS stopped on the node",
        mins(3),
        |s| !s.nodes("WebFS", "Started").contains(&node.to_owned()),
    )?;
    Ok(())
}

/// Lifts `ban_webfs`'s ban, asked on the peer: `node` may just be back from its fencing,
/// answering ssh long before its Pacemaker runs (sbd's start delay), and a refused --clear
/// there left the ban in place (bookworm, fenced profile, 2026-12-03: checks 11, 12 and 17
/// failed on it).
fn clear_webfs_ban(r: &mut Run, node: &str) -> Result<()> {
    r.sh(
        other(node),
        "crm_resource --clear --resource WebFS-clone >/dev/null",
    )?;
    healthy_again(r, "active-active before the kill under GFS2")?;
    Ok(())
}

/// 11: dlm_controld SIGKILLed, first on a node without GFS2 (WebFS banned there): the
/// recurring monitor sees it and Pacemaker restarts dlm. Then under a mounted GFS2: what
/// happens is recorded, the monitor is run by hand on that node, the survivor's GFS2 must
/// stay writable, and the node is power-cycled (what fencing would do) until active-active.
/// With fencing on (fenced profile) a killed daemon is a fencing offence even without GFS2:
/// the peer's dlm_controld marks a member whose daemon left without a clean shutdown as
/// needing fencing (daemon_cpg.c, CPG_REASON_PROCDOWN) and asks Pacemaker's fencer. So there
/// both parts expect the node fenced (a new boot id, a success in the fencer's history) and
/// back by itself; under GFS2 the survivor's GFS2 is given the fencing's time to be writable.
pub fn killed(r: &mut Run) -> Result<String> {
    let node = other(&r.vip_holder()?).to_owned();
    let peer = other(&node).to_owned();
    let fencing = r.setup.profile.fencing();
    let mut seen = if fencing {
        killed_without_gfs2_fenced(r, &node)?
    } else {
        killed_without_gfs2_restarted(r, &node)?
    };
    // B: GFS2 mounted on top.
    let boot_id = r.sh(&node, fenced_checks::BOOT_ID)?.trim().to_owned();
    let since = guest_now(r, &node)?;
    let killed_at = Instant::now();
    // The break sends signal 0: dlm_controld lives on.
    r.sh(
        &node,
        if r.setup.broken(Break::DlmKillNothing) {
            "pkill -0 -x dlm_controld"
        } else {
            "pkill -KILL -x dlm_controld"
        },
    )?;
    let offline = crm::wait(
        r.paths,
        &peer,
        "the node's view after the kill",
        secs(40),
        |s| s.online.len() == 1,
    )
    .is_ok();
    let left = killed_at.elapsed().as_secs_f64();
    // With fencing on, the node may be reset under these reads: what they could not read is
    // said so, not failed on.
    let journal = r
        .sh(
            &node,
            &format!(
                "journalctl -o short-unix --no-pager | awk '$1 >= {since}' | \
                 grep -E 'Killed by node|no userland control daemon|Lost connection to cluster' | head -4; true"
            ),
        )
        .or_else(|e| if fencing { Ok(format!("0 (not read: {e})")) } else { Err(e) })?;
    let by_hand = run_agent(
        r.paths,
        &node,
        AGENT,
        "monitor",
        &[
            DLM_ENV[0],
            DLM_ENV[1],
            ("OCF_RESKEY_CRM_meta_interval", "60000"),
            ("OCF_RESKEY_CRM_meta_timeout", "20000"),
        ],
        mins(1),
    );
    let by_hand = match by_hand {
        Err(e) if fencing => Err(e.0),
        other => Ok(other?),
    };
    let write_at = Instant::now();
    let wait = 30
        + if fencing {
            u64::from(crate::fenced::LONGEST_FENCE_WAIT_SECONDS)
        } else {
            0
        };
    let writable = vm::ssh_ok(
        r.paths,
        &peer,
        &format!(
            "timeout {wait} sh -c 'echo x > /var/www/html/lab-after-dlm-kill' && echo yes || echo no"
        ),
        secs(wait + 60),
    )?
    .trim()
        == "yes";
    let write_secs = write_at.elapsed().as_secs_f64();
    let cycled_at = Instant::now();
    let how = if fencing {
        // The survivor fences it: SBD's poison pill resets it and it rejoins by itself.
        fenced_checks::rebooted(r, &node, &boot_id)?;
        "fenced by the survivor (a new boot id)"
    } else {
        say(&format!("power-cycling {node} (what fencing would do)"));
        vm::kill(r.paths, &node)?;
        cluster::start_node(r.paths, &node)?;
        "power-cycled"
    };
    // What the survivor's resources reported while its GFS2 froze (the cleanup below
    // clears it): with fencing, the freeze lasts the fence delay and SBD's msgwait.
    let survivor_failures: Vec<String> = crm::state(r.paths, &peer)
        .map(|s| {
            s.failures
                .into_iter()
                .filter(|f| f.contains(&format!(" on {peer}:")))
                .collect()
        })
        .unwrap_or_default();
    healthy_again(r, "active-active after the node's return")?;
    let back = cycled_at.elapsed().as_secs_f64();
    let lines: Vec<String> = journal
        .lines()
        .map(|l| l.split_once(' ').map_or(l, |x| x.1).trim().to_owned())
        .collect();
    let _ = write!(
        seen,
        "B) {node} with GFS2 mounted: dlm_controld SIGKILLed; {node} left the cluster: {offline} (after {left:.1} s); \
         {node}'s journal: {}; our monitor run by hand on {node}: {}; GFS2 on {peer} writable: {writable} \
         ({write_secs:.1} s); {node} {how}, active-active again after {back:.1} s; \
         failures on {peer} meanwhile: [{}]",
        lines.join(" / "),
        by_hand
            .as_ref()
            .map_or_else(|e| format!("not run: {e}"), native::AgentRun::describe),
        survivor_failures.join("; ")
    );
    r.figures
        .push(("dlm_kill_under_gfs2_node_left_seconds".into(), left));
    r.figures
        .push(("dlm_kill_under_gfs2_power_cycle_back_seconds".into(), back));
    let mut wrong = Vec::new();
    if !offline {
        wrong.push("the node did not leave the cluster within 40 s");
    }
    if let Ok(m) = &by_hand
        && (m.rc != 1 || !m.reason().contains("not running"))
    {
        wrong.push("our monitor did not answer exit 1 with the daemon not running");
    }
    if !writable {
        wrong.push("the survivor's GFS2 was not writable");
    }
    // A monitor that fails during the freeze has Pacemaker restart the survivor's only
    // Apache once it ends; one that reports the freeze is degraded and left alone.
    if survivor_failures
        .iter()
        .any(|f| f.starts_with("WebSite_") && !f.contains("exit 190"))
    {
        wrong.push("the survivor's Apache failed (a restart) while its GFS2 froze");
    }
    if wrong.is_empty() {
        Ok(seen)
    } else {
        Err(Error(format!("{seen}; WRONG: {}", wrong.join(", "))))
    }
}
