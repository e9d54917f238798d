//! The faults real clusters meet (issue 14) and what `pcs` and Pacemaker do with our
//! metadata (issue 13), on the running tutorial cluster, after the tutorial's checks: a
//! resource created with no `op`, a changed DRBD setting, a device held open at the demote, a
//! holder in a private mount namespace, an administrator's typo, a hung httpd and
//! allow-two-primaries in DRBD's common section. Each check injects its fault, shows that the
//! fault really happened (the agent's own log, the holder's log, the stopped pids), compares
//! what the cluster did with what it must do, and leaves the cluster active-active.

use crate::crm;
use crate::dlm_checks::{guest_now, healthy_again, ops_since};
use crate::drbd_checks::{connected_role, demote_by_ban, promote_by_clear};
use crate::native::OpEvent;
use crate::native::{drbd_env, run_agent};
use crate::phases;
use crate::scenario::Run;
use crate::step::{Error, Result, say};
use crate::sys::{mins, secs};
use crate::tutorial_checks::{
    DOCROOT, judged, log_lines, longest_outage, show_pids, website_cleaned_up, website_failure_on,
};
use crate::vm::{self, NODES};
use std::fmt::Write;
use std::thread::sleep;
use std::time::{Duration, Instant};

const DOCROOT_GFS2: &str = " /var/www/html gfs2 ";

/// The monitors of one primitive in a CIB, as `name interval depth` (depth 0 when the op sets
/// no OCF_CHECK_LEVEL).
pub fn monitors(cib: &str, primitive: &str) -> Result<Vec<(String, u32)>> {
    let doc = roxmltree::Document::parse(cib).map_err(|e| Error(format!("CIB XML: {e}")))?;
    let mut out = Vec::new();
    for p in doc
        .descendants()
        .filter(|n| n.has_tag_name("primitive") && n.attribute("id") == Some(primitive))
    {
        for op in p
            .descendants()
            .filter(|n| n.has_tag_name("op") && n.attribute("name") == Some("monitor"))
        {
            let depth = op
                .descendants()
                .filter(|n| n.has_tag_name("nvpair"))
                .find(|n| n.attribute("name") == Some("OCF_CHECK_LEVEL"))
                .and_then(|n| n.attribute("value"))
                .map_or(Ok(0), str::parse)
                .map_err(|_| Error(format!("{primitive}: OCF_CHECK_LEVEL is not a number")))?;
            out.push((op.attribute("interval").unwrap_or("?").to_owned(), depth));
        }
    }
    Ok(out)
}

/// The `last_failure` history entries of `resource` in a CIB's status section, as
/// `node operation/interval rc N` (a probe that found the resource running is one: Pacemaker
/// records it against the probe's expected "not running", counts no failure for it, and
/// `crm_resource --cleanup` leaves it).
pub fn last_failures(cib: &str, resource: &str) -> Result<Vec<String>> {
    let doc = roxmltree::Document::parse(cib).map_err(|e| Error(format!("CIB XML: {e}")))?;
    let id = format!("{resource}_last_failure_0");
    Ok(doc
        .descendants()
        .filter(|n| n.has_tag_name("lrm_rsc_op") && n.attribute("id") == Some(id.as_str()))
        .map(|n| {
            let node = n
                .ancestors()
                .find(|a| a.has_tag_name("node_state"))
                .and_then(|a| a.attribute("uname"))
                .or_else(|| n.attribute("on_node"))
                .unwrap_or("?");
            format!(
                "{node} {}/{} rc {}",
                n.attribute("operation").unwrap_or("?"),
                n.attribute("interval").unwrap_or("?"),
                n.attribute("rc-code").unwrap_or("?")
            )
        })
        .collect())
}

fn deep(monitors: &[(String, u32)]) -> Vec<String> {
    monitors
        .iter()
        .filter(|(_, depth)| *depth != 0)
        .map(|(interval, depth)| format!("monitor interval={interval} depth={depth}"))
        .collect()
}

/// Seconds of a CIB interval ("20s", "1min", "20", "2m", "1h").
pub fn interval_secs(s: &str) -> Option<u64> {
    let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
    let n: u64 = digits.parse().ok()?;
    match &s[digits.len()..] {
        "" | "s" | "sec" => Some(n),
        "m" | "min" => Some(n * 60),
        "h" | "hr" => Some(n * 3600),
        "ms" | "msec" => Some(n.div_ceil(1000)),
        _ => None,
    }
}

/// 17 (issue 13): what `pcs resource create` takes from our metadata when no `op` is given.
/// The tutorial creates WebFS with no `op`; its monitors in the CIB must all be depth 0 (a
/// depth-20 check would write status files into the web root), and it must stay up over two
/// of its monitor intervals with no failure. apache-clone and gfs2-fs created by pcs with no
/// `op` (offline, on an empty CIB file) get depth-0 monitors only: a deeper one without its
/// settings would be a fatal error on every node.
pub fn no_op(r: &mut Run) -> Result<String> {
    let cib = r.sh("node1", "cibadmin --query")?;
    let webfs = monitors(&cib, "WebFS")?;
    // lab-pcs: pcs's entry point once per line (guest/pcs-batch.py), stopping at a failure.
    let script = "cd /root && cibadmin --empty > noop_cfg && lab-pcs >/dev/null <<'LAB_EOF' && cat noop_cfg\n\
        pcs -f noop_cfg resource create NoOpSite ocf:native:apache-clone configfile=/etc/apache2/apache2.conf\n\
        pcs -f noop_cfg resource create NoOpFS ocf:native:gfs2-fs device=/dev/drbd1 directory=/srv/noop fstype=gfs2\n\
        LAB_EOF";
    let dry = vm::ssh_ok(r.paths, "node1", script, mins(5))?;
    let site = monitors(&dry, "NoOpSite")?;
    let fs = monitors(&dry, "NoOpFS")?;
    let longest = webfs
        .iter()
        .filter_map(|(i, _)| interval_secs(i))
        .max()
        .unwrap_or(0);
    r.sh(
        "node1",
        "crm_resource --cleanup --resource WebFS >/dev/null 2>&1; true",
    )?;
    let window = secs(2 * longest + 5);
    sleep(window);
    let s = crm::state(r.paths, "node1")?;
    let failures: Vec<&String> = s
        .failures
        .iter()
        .filter(|f| f.starts_with("WebFS_"))
        .collect();
    let status_files = r.sh(
        "node1",
        "ls -a /var/www/html | grep -c Filesystem_status; true",
    )?;
    let seen = format!(
        "WebFS (created with no op) monitors in the CIB: {webfs:?}; after {} s: WebFS Started on {:?}, WebFS \
         failures {failures:?}, status directories in the web root {}; pcs with no op gives apache-clone \
         {site:?} and gfs2-fs {fs:?} (interval, depth)",
        window.as_secs(),
        s.nodes("WebFS", "Started"),
        status_files.trim()
    );
    let mut wrong = Vec::new();
    for (what, m) in [("WebFS", &webfs), ("apache-clone", &site), ("gfs2-fs", &fs)] {
        if m.is_empty() {
            wrong.push(format!("{what}: no monitor at all"));
        }
        wrong.extend(deep(m).into_iter().map(|d| format!("{what}: {d}")));
    }
    if longest == 0 {
        wrong.push("WebFS: no monitor interval".into());
    }
    if !s.is("WebFS", "Started", &NODES) || !failures.is_empty() {
        wrong.push("WebFS did not stay up without a failure".into());
    }
    if status_files.trim() != "0" {
        wrong.push("a status directory is in the web root".into());
    }
    judged_all(seen, &wrong)
}

/// The operations of `resources` since `since` (each node's clock), as "node: rsc op result",
/// monitors and probes left out.
pub fn actions(
    r: &Run,
    since: &[(&str, f64)],
    resources: &[&str],
) -> Result<Vec<(String, OpEvent)>> {
    let mut out = Vec::new();
    for (node, at) in since {
        for e in ops_since(r, node, *at)? {
            if resources.contains(&e.resource.as_str())
                && e.what != "requested"
                && !matches!(e.op.as_str(), "monitor" | "probe")
            {
                out.push(((*node).to_owned(), e));
            }
        }
    }
    Ok(out)
}

pub fn show(actions: &[(String, OpEvent)]) -> String {
    let v: Vec<String> = actions
        .iter()
        .map(|(n, e)| format!("{n}: {} {} {}", e.resource, e.op, e.what))
        .collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

fn clocks(r: &Run) -> Result<Vec<(&'static str, f64)>> {
    NODES.iter().map(|n| Ok((*n, guest_now(r, n)?))).collect()
}

/// 18 (issue 13): `pcs resource update WebData wfc_timeout=...` (a setting, not the
/// identity) reloads drbd-dualprimary on both nodes: no demote, stop, start or promote of
/// WebData, nothing done to WebFS or WebSite, every Apache main process kept.
pub fn reload(r: &mut Run) -> Result<String> {
    // Pacemaker (2.1 and 3.0) clears a resource's fail count when its parameters change, in
    // the reload's own transition; that deletion aborts the transition before the Promoted
    // monitor is rescheduled, and as Pacemaker records a reload as a start, the next
    // transition takes the instance for Unpromoted and promotes it again, restarting WebFS
    // and WebSite (the first run of this check on Pacemaker 3.0). So, as the README tells
    // administrators: WebData's failures cleaned up first, and its fail counts shown.
    let failcounts = "for n in node1 node2; do printf '%s=' $n; \
        crm_failcount --query --quiet --resource WebData --node $n 2>/dev/null || echo '?'; done | tr '\\n' ' '";
    let counts_before = r.sh("node1", failcounts)?;
    r.sh(
        "node1",
        "crm_resource --cleanup --resource WebData >/dev/null 2>&1; \
         crm_resource --wait --timeout=120s >/dev/null 2>&1; true",
    )?;
    let counts = r.sh("node1", failcounts)?;
    // What the cleanup cannot remove and Pacemaker still clears in the reload's transition
    // (a probe that found WebData running): recorded, so that a restart can be told apart.
    let stale = last_failures(
        &r.sh("node1", "cibadmin --query --scope status")?,
        "WebData",
    )?;
    let since = clocks(r)?;
    let before = r.apache_pids();
    let t = Instant::now();
    vm::ssh_ok(
        r.paths,
        "node1",
        "pcs resource update WebData wfc_timeout=17 && crm_resource --wait --timeout=300s",
        mins(8),
    )?;
    let settled = t.elapsed().as_secs_f64();
    let done = actions(r, &since, &["WebData", "WebFS", "WebSite"])?;
    let after = r.apache_pids();
    let s = crm::state(r.paths, "node1")?;
    let value = r.sh(
        "node1",
        "crm_resource --resource WebData --get-parameter wfc_timeout 2>/dev/null; true",
    )?;
    let seen = format!(
        "WebData fail counts {} before the cleanup, {} after; last_failure records left [{}]; \
         wfc_timeout set to {} and settled in {settled:.1} s; \
         operations since: {}; apache main pids before [{}] after [{}]; {}",
        counts_before.trim(),
        counts.trim(),
        stale.join(", "),
        value.trim(),
        show(&done),
        show_pids(&before),
        show_pids(&after),
        s.summary()
    );
    let mut wrong = Vec::new();
    for n in NODES {
        let reloaded = done.iter().any(|(node, e)| {
            node == n && e.resource == "WebData" && e.op.starts_with("reload") && e.what == "ok"
        });
        if !reloaded {
            wrong.push(format!("no successful reload of WebData on {n}"));
        }
    }
    let restarts: Vec<&(String, OpEvent)> = done
        .iter()
        .filter(|(_, e)| !(e.resource == "WebData" && e.op.starts_with("reload")))
        .collect();
    if !restarts.is_empty() {
        wrong.push(format!(
            "operations other than the reload: {}",
            restarts
                .iter()
                .map(|(n, e)| format!("{n} {} {}", e.resource, e.op))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if before != after || before.iter().any(|(_, p)| p.is_none()) {
        wrong.push("Apache was restarted".into());
    }
    if !restarts.is_empty() && !stale.is_empty() {
        wrong.push(format!(
            "a last_failure record of WebData was left ({}): Pacemaker clears it in the reload's \
             transition, aborts it, takes the reloaded instance for Unpromoted and promotes it \
             again (README, \"drbd-dualprimary declares OCF 1.0\")",
            stale.join(", ")
        ));
    }
    if !s.active_active(&NODES) || !s.failures.is_empty() || value.trim() != "17" {
        wrong.push("not active-active with wfc_timeout=17 and no failure".into());
    }
    judged_all(seen, &wrong)
}

/// The agent's log lines on `node` since `since` (its clock) that contain `needle`.
fn journal_lines(r: &Run, node: &str, since: f64, needle: &str) -> Result<Vec<String>> {
    let text = r.sh(
        node,
        &format!(
            "journalctl -o short-unix --no-pager | awk '$1 >= {since}' | grep -F -- '{needle}'; true"
        ),
    )?;
    Ok(text
        .lines()
        .map(|l| l.split_once(' ').map_or(l, |x| x.1).trim().to_owned())
        .collect())
}

/// Ends a check: it passes only when nothing is `wrong`.
pub fn judged_all<S: AsRef<str>>(seen: String, wrong: &[S]) -> Result<String> {
    let wrong: Vec<&str> = wrong.iter().map(AsRef::as_ref).collect();
    judged(
        seen,
        if wrong.is_empty() {
            Ok(())
        } else {
            Err(wrong.join("; "))
        },
    )
}

/// After a demote: Secondary with the peer Primary, and no failed action.
fn demoted_cleanly(drbd: &str, s: &crm::State) -> std::result::Result<(), String> {
    if drbd.contains("ro:Secondary/Primary") {
        no_failures(s)
    } else {
        Err("not Secondary after the demote".into())
    }
}

fn no_failures(s: &crm::State) -> std::result::Result<(), String> {
    if s.failures.is_empty() {
        Ok(())
    } else {
        Err(format!("failed actions: {}", s.failures.join("; ")))
    }
}

/// 19 (issue 14, fault 3): WebData demoted on node2 while another process opens /dev/drbd1
/// from the moment GFS2 is unmounted there until three seconds after our demote was first
/// refused for it: the demote is retried and succeeds, no failed action.
pub fn held_open(r: &mut Run) -> Result<String> {
    let node = "node2";
    let since = guest_now(r, node)?;
    // Whole seconds for journalctl, rounded down.
    let since_s = since.floor();
    r.sh(
        node,
        &format!(
            "rm -f /run/lab-holder.log; setsid sh -c '\
               for i in $(seq 1800); do grep -q \"{DOCROOT_GFS2}\" /proc/mounts || break; sleep 0.1; done; \
               exec 3</dev/drbd1; echo opened $(date +%s.%N); \
               for i in $(seq 240); do journalctl -q -o cat --since=@{since_s} | grep -q \"demote attempt\" && break; sleep 0.5; done; \
               echo refused $(date +%s.%N); sleep 3; exec 3<&-; echo closed $(date +%s.%N)' \
             </dev/null >/run/lab-holder.log 2>&1 &"
        ),
    )?;
    let demoted = demote_by_ban(r, node)?;
    let holder = r.sh(
        node,
        "for i in $(seq 60); do grep -q closed /run/lab-holder.log && break; sleep 1; done; cat /run/lab-holder.log",
    )?;
    let attempts = journal_lines(r, node, since, "demote attempt")?;
    let during = connected_role(r, node)?;
    let s = crm::state(r.paths, "node1")?;
    let promoted = promote_by_clear(r)?;
    r.figures.push(("held_open_demote_seconds".into(), demoted));
    let seen = format!(
        "{node}: a holder opened /dev/drbd1 after the unmount and closed it 3 s after the first refusal \
         ({}); our demote's refused attempts: {} ({}); demoted in {demoted:.1} s ({during}); {}; active-active \
         again in {promoted:.1} s",
        holder.trim().replace('\n', ", "),
        attempts.len(),
        attempts.first().map_or("", String::as_str),
        s.summary()
    );
    let verdict = if !holder.contains("opened") || !holder.contains("closed") {
        Err("the holder did not run".into())
    } else if attempts.is_empty() {
        Err("the demote never met the holder: the fault was not injected".into())
    } else {
        demoted_cleanly(&during, &s)
    };
    judged(seen, verdict)
}

/// 20 (issue 14, fault 4): a process in its own mount namespace (`unshare -m --propagation
/// slave`) with its working directory on GFS2 when WebFS leaves node1 (WebData demoted there):
/// WebFS's stop kills it (force_unmount), no namespace keeps GFS2 mounted, the DLM lockspace
/// goes, DRBD demotes, no failed action.
pub fn private_namespace(r: &mut Run) -> Result<String> {
    let node = "node1";
    let since = guest_now(r, node)?;
    let pid = r.sh(
        node,
        "setsid unshare -m --propagation slave sh -c 'cd /var/www/html && exec sleep 3601' \
         </dev/null >/dev/null 2>&1 & \
         for i in $(seq 50); do p=$(pgrep -f '^sleep 3601$') && break; sleep 0.1; done; echo $p",
    )?;
    let pid = pid.trim().to_owned();
    let before = r.sh(
        node,
        &format!(
            "echo ns=$( [ \"$(readlink /proc/{pid}/ns/mnt)\" != \"$(readlink /proc/1/ns/mnt)\" ] && echo own || echo shared) \
             cwd=$(readlink /proc/{pid}/cwd)"
        ),
    )?;
    let demoted = demote_by_ban(r, node)?;
    let after = r.sh(
        node,
        &format!(
            "kill -0 {pid} 2>/dev/null && echo holder=alive || echo holder=gone; \
             echo namespaces_with_gfs2=$(grep -l ' gfs2 ' /proc/[0-9]*/mountinfo 2>/dev/null | wc -l); \
             echo lockspaces=$(ls /sys/kernel/dlm | tr '\\n' ' ')"
        ),
    )?;
    let during = connected_role(r, node)?;
    let logged = journal_lines(r, node, since, "gfs2-fs(WebFS)")?;
    let s = crm::state(r.paths, node)?;
    let promoted = promote_by_clear(r)?;
    let seen = format!(
        "{node}: holder pid {pid} ({}); WebData demoted in {demoted:.1} s; then {} DRBD {during}; WebFS's log: \
         {}; {}; active-active again in {promoted:.1} s",
        before.trim(),
        after.split_whitespace().collect::<Vec<_>>().join(" "),
        logged.join(" / "),
        s.summary()
    );
    let verdict = if pid.is_empty() || !before.contains("ns=own cwd=/var/www/html") {
        Err("the holder was not in its own namespace on GFS2: the fault was not injected".into())
    } else if !after.contains("holder=gone") {
        Err("the holder lives".into())
    } else if !after.contains("namespaces_with_gfs2=0") {
        Err("a namespace still has GFS2 mounted".into())
    } else if after.contains("web") {
        Err("the DLM lockspace is still there".into())
    } else {
        demoted_cleanly(&during, &s)
    };
    judged(seen, verdict)
}

/// 21 (issue 14, fault 5): `pcs resource update WebFS run_fsck=yes`, a typo: Pacemaker
/// restarts WebFS; the stops succeed, the starts fail with exit 6 and the reason naming the
/// setting, shown by `pcs status`; no failed stop, both nodes online. After the correction and
/// a cleanup everything runs again.
pub fn typo(r: &mut Run) -> Result<String> {
    let t = Instant::now();
    vm::ssh_ok(
        r.paths,
        "node1",
        "pcs resource update WebFS run_fsck=yes",
        mins(3),
    )?;
    let s = crm::wait(
        r.paths,
        "node1",
        "WebFS's failed start on record, WebFS stopped everywhere",
        mins(4),
        |s| {
            s.failures.iter().any(|f| f.starts_with("WebFS_start"))
                && s.nodes("WebFS", "Started").is_empty()
        },
    )?;
    let failed = t.elapsed().as_secs_f64();
    let status = r.sh("node1", "pcs status")?;
    let shown = status
        .lines()
        .find(|l| l.contains("run_fsck"))
        .unwrap_or("")
        .trim()
        .to_owned();
    let t = Instant::now();
    vm::ssh_ok(
        r.paths,
        "node1",
        "pcs resource update WebFS run_fsck= && crm_resource --cleanup --resource WebFS >/dev/null 2>&1",
        mins(3),
    )?;
    let back = crm::wait(
        r.paths,
        "node1",
        "active-active after the correction",
        mins(4),
        |s| s.active_active(&NODES) && s.failures.is_empty(),
    );
    let recovered = t.elapsed().as_secs_f64();
    let seen = format!(
        "after run_fsck=yes ({failed:.1} s): {}; pcs status shows: {shown:?}; corrected and cleaned up: {}",
        s.summary(),
        match &back {
            Ok(_) => format!("active-active again after {recovered:.1} s"),
            Err(e) => e.0.clone(),
        }
    );
    let starts: Vec<&String> = s
        .failures
        .iter()
        .filter(|f| f.starts_with("WebFS_start"))
        .collect();
    let verdict = if s.failures.iter().any(|f| f.contains("_stop_")) {
        Err("a stop failed".to_owned())
    } else if s.online.len() != 2 {
        Err("a node left the cluster".into())
    } else if !starts
        .iter()
        .all(|f| f.contains("exit 6") && f.contains("run_fsck"))
    {
        Err("WebFS's start did not fail with exit 6 naming run_fsck".into())
    } else if shown.is_empty() {
        Err("pcs status does not show the reason".into())
    } else {
        back.map(|_| ()).map_err(|e| e.0)
    };
    judged(seen, verdict)
}

/// 22 (issue 14, fault 6): every httpd process on node1 stopped with SIGSTOP: WebSite's
/// monitor fails within its interval and timeout (the anchor hung for 707 s), Pacemaker
/// restarts Apache there, the stopped processes are gone, no failed stop.
pub fn hung_httpd(r: &mut Run) -> Result<String> {
    let node = "node1";
    website_cleaned_up(r, node)?;
    r.write_check_page(node)?;
    let stopped = r.sh(node, "pgrep -x apache2 | tr '\\n' ' '")?;
    let at = guest_now(r, node)?;
    let t = Instant::now();
    r.sh(node, "pkill -STOP -x apache2")?;
    let states = r.sh(
        node,
        &format!(
            "ps -o stat= -p {} | tr -d ' ' | sort -u | tr '\\n' ' '; true",
            stopped.trim().replace(' ', ",")
        ),
    )?;
    let s = crm::wait(
        r.paths,
        node,
        "a failed WebSite monitor on node1",
        mins(4),
        |s| website_failure_on(s, node).is_some(),
    )?;
    let detected = t.elapsed().as_secs_f64();
    let back = crm::wait(
        r.paths,
        node,
        "WebSite started again on both nodes",
        mins(4),
        |s| s.is("WebSite", "Started", &NODES),
    )?;
    r.sh(node, "for i in $(seq 30); do curl -sf --max-time 2 http://localhost/check.html >/dev/null && exit 0; sleep 1; done; exit 1")?;
    let recovered = t.elapsed().as_secs_f64();
    let left = r.sh(
        node,
        &format!(
            "for p in {}; do kill -0 $p 2>/dev/null && echo -n \"$p \"; done; true",
            stopped.trim()
        ),
    )?;
    let cib = r.sh(
        node,
        "cibadmin --query --xpath \"//primitive[@id='WebSite']//op[@name='monitor']\"",
    )?;
    r.figures
        .push(("hung_httpd_detected_seconds".into(), detected));
    r.figures
        .push(("hung_httpd_recovered_seconds".into(), recovered));
    let phases = phases::record(
        r,
        &format!("every httpd SIGSTOPped on {node}"),
        node,
        at,
        (Some(recovered), None),
    );
    let seen = format!(
        "httpd pids [{}] on {node} stopped (states {}); monitor failure after {detected:.1} s ({}); serving again \
         after {recovered:.1} s; stopped pids still alive: [{}]; {}; WebSite's monitor op: {}; phases on {node}'s \
         clock: {}",
        stopped.trim(),
        states.trim(),
        website_failure_on(&s, node).unwrap_or_default(),
        left.trim(),
        back.summary(),
        cib.trim(),
        phases.describe()
    );
    let verdict = if stopped.trim().is_empty() || !states.contains('T') {
        Err("no httpd was stopped: the fault was not injected".to_owned())
    } else if !left.trim().is_empty() {
        Err("stopped httpd processes are still there".into())
    } else if back.failures.iter().any(|f| f.contains("_stop_")) {
        Err("a stop failed".into())
    } else {
        Ok(())
    };
    judged(seen, verdict)
}

/// 23 (issue 14, fault 7): `allow-two-primaries` moved from wwwdata's resource file to
/// global_common.conf's `common { net { } }` on both nodes: a demote and a promotion back to
/// dual-primary still work (our agent reads the effective configuration). The files are put
/// back afterwards.
pub fn common_section(r: &mut Run) -> Result<String> {
    // Earlier checks' failures (22's monitor) cleaned up first: only this one's can count.
    healthy_again(r, "active-active, no failure, before the move")?;
    let moved = "cp /etc/drbd.d/wwwdata.res /run/lab-wwwdata.res && \
        cp /etc/drbd.d/global_common.conf /run/lab-global_common.conf && \
        sed -i '/allow-two-primaries/d' /etc/drbd.d/wwwdata.res && \
        sed -i '0,/^[[:space:]]*net[[:space:]]*{/s//&\\n\\t\\tallow-two-primaries yes;/' /etc/drbd.d/global_common.conf && \
        drbdadm adjust wwwdata && \
        echo res=$(grep -c '^[[:space:]]*allow-two-primaries' /etc/drbd.d/wwwdata.res) \
             common=$(grep -c '^[[:space:]]*allow-two-primaries' /etc/drbd.d/global_common.conf)";
    let mut seen = String::new();
    for n in NODES {
        let out = r.sh(n, &format!("{moved}; true"))?;
        let _ = write!(seen, "{n}: {}; ", out.trim());
        if !out.contains("res=0 common=1") {
            return Err(Error(format!(
                "{seen}the option was not moved: the fault was not injected"
            )));
        }
    }
    let cycle = demote_by_ban(r, "node1").and_then(|d| Ok((d, promote_by_clear(r)?)));
    let s = crm::state(r.paths, "node1")?;
    let drbd = connected_role(r, "node1")?;
    for n in NODES {
        r.sh(
            n,
            "cp /run/lab-wwwdata.res /etc/drbd.d/wwwdata.res && \
             cp /run/lab-global_common.conf /etc/drbd.d/global_common.conf && drbdadm adjust wwwdata",
        )?;
    }
    let _ = write!(
        seen,
        "{}; {drbd}; {}; files put back",
        match &cycle {
            Ok((d, p)) => format!("node1 demoted in {d:.1} s and promoted again in {p:.1} s"),
            Err(e) => e.0.clone(),
        },
        s.summary()
    );
    let verdict = cycle.map_err(|e| e.0).and_then(|_| {
        if drbd.contains("ro:Primary/Primary") {
            no_failures(&s)
        } else {
            Err("not Primary/Primary".into())
        }
    });
    judged(seen, verdict)
}

/// This node's promotion score for WebData, as our agent wrote it ("" when there is none).
fn promotion_score(r: &Run, node: &str) -> Result<String> {
    Ok(r.sh(
        node,
        "crm_attribute --promotion=WebData --query --quiet --lifetime=reboot 2>/dev/null; true",
    )?
    .trim()
    .to_owned())
}

/// The DRBD backing disk's device-mapper table on a node (guest/customize.sh makes
/// /dev/mapper/wwwdisk a linear map of /dev/vdb at boot): `linear` or `error`.
fn disk_table(kind: &str) -> String {
    let table = if kind == "error" {
        "0 $n error"
    } else {
        "0 $n linear /dev/vdb 0"
    };
    format!(
        "n=$(blockdev --getsz /dev/vdb) && dmsetup suspend wwwdisk && \
         dmsetup load wwwdisk --table \"{table}\" && dmsetup resume wwwdisk"
    )
}

/// Polls `node` until its /proc/drbd line of minor 1 contains `want`.
fn wait_drbd(r: &Run, node: &str, want: &str, timeout: Duration) -> Result<f64> {
    let t = Instant::now();
    r.sh(
        node,
        &format!(
            "for i in $(seq {}); do grep -q ' 1: .*{want}' /proc/drbd && exit 0; sleep 1; done; \
             grep ' 1:' /proc/drbd; exit 1",
            timeout.as_secs()
        ),
    )
    .map_err(|e| Error(format!("{node}: DRBD never showed {want}: {}", e.0)))?;
    Ok(t.elapsed().as_secs_f64())
}

/// 24 (issue 14, fault 2): node2's DRBD backing disk starts failing every I/O (its
/// device-mapper table switched to `error`) while node2 serves and writes: DRBD detaches it,
/// node2 goes on over node1's disk (still Promoted, GFS2 and Apache up), our monitor reports
/// the degraded state (191, the reason in `pcs status`), the promotion score drops to the
/// only-remote rung. With the table restored and the disk attached again, DRBD resyncs; files
/// written during the failure are the same on both disks; after a cleanup no failure is left.
pub fn disk_failure(r: &mut Run) -> Result<String> {
    let (node, peer) = ("node2", "node1");
    // Every earlier failure cleaned up (its first run stopped here on check 22's leftover).
    healthy_again(r, "active-active, no failure, before the disk fails")?;
    let score_before = promotion_score(r, node)?;
    r.write_check_page(node)?;
    r.sh(
        node,
        &format!(
            "lab-probe start http://localhost/check.html {} {DOCROOT}/disk-failure",
            r.token
        ),
    )?;
    sleep(secs(3));
    let t = Instant::now();
    r.sh(node, &disk_table("error"))?;
    // GFS2's writes reach DRBD at its next log flush; sync makes it now.
    r.sh(
        node,
        &format!(
            "timeout 60 sync; for i in 1 2 3; do head -c 65536 /dev/urandom > {DOCROOT}/during-disk-failure-$i; done; \
             timeout 60 sync"
        ),
    )?;
    let detached =
        wait_drbd(r, node, "ds:Diskless/UpToDate", secs(120)).map(|_| t.elapsed().as_secs_f64());
    let reported = crm::wait(
        r.paths,
        peer,
        "WebData's monitor on node2 reporting the lost disk",
        mins(3),
        |s| {
            s.failures.iter().any(|f| {
                f.starts_with("WebData_monitor")
                    && f.contains(" on node2:")
                    && f.contains("exit 191")
            })
        },
    );
    let reported_after = t.elapsed().as_secs_f64();
    let during = crm::state(r.paths, peer)?;
    let score_during = promotion_score(r, node)?;
    let shown = r
        .sh(
            peer,
            "pcs status 2>/dev/null | grep -i 'degraded\\|disk lost'; true",
        )?
        .trim()
        .to_owned();
    sleep(secs(5));
    let probe = r.sh(
        node,
        "lab-probe stop; sleep 1; cat /run/lab-probe/http.log; echo ===; cat /run/lab-probe/write.log",
    )?;
    let (http_text, write_text) = probe.split_once("===").unwrap_or((&probe, ""));
    let http = log_lines(http_text);
    let writes = log_lines(write_text);
    let outage = longest_outage(&http);
    let http_failed = http.iter().filter(|h| !h.2).count();
    let write_failed = writes.iter().filter(|w| !w.2).count();
    // Repair: the linear table back, the disk attached, a resync from node1.
    let t = Instant::now();
    r.sh(
        node,
        &format!("{} && drbdadm attach wwwdata", disk_table("linear")),
    )?;
    let resynced = wait_drbd(r, node, "ds:UpToDate/UpToDate", secs(180));
    let resync_secs = t.elapsed().as_secs_f64();
    let sums = |n: &str| {
        r.sh(
            n,
            &format!("cd {DOCROOT} && sha256sum during-disk-failure-* | sort"),
        )
    };
    let (mine, theirs) = (sums(node)?, sums(peer)?);
    r.sh(
        peer,
        "crm_resource --cleanup --resource WebData >/dev/null 2>&1; true",
    )?;
    let healed = crm::wait(
        r.paths,
        peer,
        "active-active, no failure, after the repair",
        mins(3),
        |s| s.active_active(&NODES) && s.failures.is_empty(),
    );
    let score_after = promotion_score(r, node)?;
    r.figures
        .push(("disk_failure_longest_http_outage_seconds".into(), outage));
    r.figures
        .push(("disk_failure_reported_seconds".into(), reported_after));
    r.figures
        .push(("disk_failure_resync_seconds".into(), resync_secs));
    let seen = format!(
        "{node}: disk switched to an error table; DRBD detached: {}; our monitor: {}; meanwhile {}; promotion \
         score {score_before} -> {score_during} -> {score_after}; pcs status: {shown:?}; HTTP from {node}: {} \
         probes, {http_failed} failed, longest without a good answer {outage:.1} s; writes on {node}'s GFS2: {}, \
         {write_failed} failed; repaired and attached: {} in {resync_secs:.1} s; files written during the \
         failure identical on both disks: {}; after a cleanup: {}",
        match &detached {
            Ok(s) => format!("after {s:.1} s"),
            Err(e) => e.0.clone(),
        },
        match &reported {
            Ok(s) => s
                .failures
                .iter()
                .find(|f| f.starts_with("WebData_monitor") && f.contains(" on node2:"))
                .cloned()
                .unwrap_or_default(),
            Err(e) => e.0.clone(),
        },
        during.summary(),
        http.len(),
        writes.len(),
        match &resynced {
            Ok(_) => "UpToDate/UpToDate".to_owned(),
            Err(e) => e.0.clone(),
        },
        mine == theirs && !mine.trim().is_empty(),
        match &healed {
            Ok(_) => "active-active, no failure".to_owned(),
            Err(e) => e.0.clone(),
        },
    );
    let below = |a: &str, b: &str| match (a.parse::<i64>(), b.parse::<i64>()) {
        (Ok(a), Ok(b)) => a > 0 && a < b,
        _ => false,
    };
    let mut wrong = Vec::new();
    if detached.is_err() {
        wrong.push("DRBD did not detach the failing disk: the fault was not injected");
    }
    if reported.is_err() || !shown.to_lowercase().contains("disk lost") {
        wrong.push("the degraded state was not reported with its reason in pcs status");
    }
    if !during.is("WebData", "Promoted", &NODES)
        || !during.is("WebFS", "Started", &NODES)
        || !during.is("WebSite", "Started", &NODES)
    {
        wrong.push("node2 stopped serving during the disk failure");
    }
    if !below(&score_during, &score_before) {
        wrong.push("the promotion score did not drop to a lower positive rung");
    }
    if http.is_empty() || outage > 10.0 || write_failed > 0 {
        wrong.push("HTTP or writes on node2 stopped");
    }
    if resynced.is_err() || mine != theirs || mine.trim().is_empty() {
        wrong.push("no resync to identical copies");
    }
    if healed.is_err() || score_after != score_before {
        wrong.push("not healthy again after the repair");
    }
    judged_all(seen, &wrong)
}

/// The writer of the partition check on a node: a new 4 KiB file on GFS2 every 2 s, each
/// recorded in /run/lab-acked with its checksum only once written and synced (acknowledged).
const PARTITION_WRITER: &str = "rm -f /run/lab-acked; setsid sh -c '\
    i=0; while :; do i=$((i+1)); f=/var/www/html/part-$(hostname)-$i; \
    if timeout 10 sh -c \"head -c 4096 /dev/urandom > $f && sync $f\"; then sha256sum $f >> /run/lab-acked; fi; \
    sleep 2; done' </dev/null >/dev/null 2>&1 & echo $! > /run/lab-writer.pid";

const BLOCKED: &str = "blocked";

/// A shell script that runs `read` (no single quote in it) apart, its output in
/// /run/lab-bounded.out, waits up to `secs` for it, then runs `then`, or prints `blocked`
/// when the read has not returned (on a frozen GFS2 it never does). The ssh session returns
/// either way: the read holds none of its descriptors.
fn bounded(read: &str, secs: u32, then: &str) -> String {
    debug_assert!(!read.contains('\''));
    format!(
        "rm -f /run/lab-bounded.out /run/lab-bounded.rc; \
         setsid sh -c '{read} >/run/lab-bounded.out 2>&1; echo $? >/run/lab-bounded.rc' \
         </dev/null >/dev/null 2>&1 & \
         for i in $(seq {secs}); do [ -e /run/lab-bounded.rc ] && break; sleep 1; done; \
         if [ -e /run/lab-bounded.rc ]; then {then}; true; else echo {BLOCKED}; fi"
    )
}

/// 25 (issue 14, fault 1), last (it leaves the cluster broken, and the lab is torn down
/// after it): the VirtualIP node's cluster link cut for 60 s (QEMU's `set_link cluster off`: corosync and
/// DRBD share it) while both nodes write GFS2 every 2 s, then restored. Without fencing both
/// sides go on alone; what the cluster does is recorded as seen. What must hold: DRBD finds
/// the split brain at the reconnection and resyncs over neither side (no SyncSource or
/// SyncTarget, each node keeps every file it acknowledged, unchanged), and our monitor
/// reports it (190/191 naming StandAlone), in `pcs status` where Pacemaker still runs; and
/// the address leaves the node without carrier (ipaddr2's monitor and start, issue 13).
pub fn partition(r: &mut Run) -> Result<String> {
    r.sh("node1", "crm_resource --cleanup >/dev/null 2>&1; true")?;
    crm::wait(
        r.paths,
        "node1",
        "active-active, no failure",
        mins(3),
        |s| s.active_active(&NODES) && s.failures.is_empty(),
    )?;
    // The VirtualIP's node is cut: its address must leave the node without carrier.
    let holder = r.vip_holder()?;
    let cut = vm::other(vm::other(&holder));
    for n in NODES {
        r.sh(n, PARTITION_WRITER)?;
    }
    sleep(secs(6));
    let t = Instant::now();
    let answer = vm::monitor(r.paths, cut, "set_link cluster off")?;
    // The monitor echoes with terminal escapes ("\x1b[K"); only an error message counts.
    if answer.contains("rror") || answer.contains("not found") {
        return Err(Error(format!("set_link cluster off on {cut}: {answer}")));
    }
    // Each side's view once the token (5 s) and consensus have passed.
    let mut alone = Vec::new();
    for n in NODES {
        let s = crm::wait(r.paths, n, "the peer lost", secs(60), |s| {
            s.online.len() == 1
        });
        alone.push(format!(
            "{n}: {}",
            s.map_or_else(
                |e| e.0,
                |s| format!(
                    "alone after {:.0} s; {}",
                    t.elapsed().as_secs_f64(),
                    s.summary()
                )
            )
        ));
    }
    // Until the link returns: does the address leave the node with no carrier?
    let vip = "ip -br addr | grep -c ' 10.1.1.100/' || true";
    let mut vip_left = None;
    while t.elapsed() < secs(60) {
        if vip_left.is_none() && r.sh(cut, vip)?.trim() == "0" {
            vip_left = Some(t.elapsed().as_secs_f64());
        }
        sleep(secs(2));
    }
    let vip_elsewhere = r.sh(vm::other(cut), vip)?.trim() == "1";
    let cut_for = t.elapsed().as_secs_f64();
    vm::monitor(r.paths, cut, "set_link cluster on")?;
    say(&format!(
        "{cut}'s cluster link restored after {cut_for:.0} s; watching the merge"
    ));
    sleep(secs(60));
    for n in NODES {
        r.sh(n, "kill -- -$(cat /run/lab-writer.pid) 2>/dev/null; true")?;
    }
    let mut seen = format!(
        "{cut} (the VirtualIP's node) cut off for {cut_for:.0} s; {}; the address left {cut}: {}; held by {}: \
         {vip_elsewhere}; ",
        alone.join("; "),
        vip_left.map_or("no".to_owned(), |s| format!("after {s:.0} s")),
        vm::other(cut),
    );
    let mut wrong = Vec::new();
    if vip_left.is_none() {
        wrong.push(format!(
            "the VirtualIP stayed on {cut}, which has no carrier"
        ));
    }
    let mut standalone = 0;
    let mut reported = Vec::new();
    let mut blocked = Vec::new();
    for n in NODES {
        let drbd = r.sh(n, "grep ' 1:' /proc/drbd; true")?;
        let acked = r.sh(n, "cat /run/lab-acked 2>/dev/null; true")?;
        let count = acked.lines().count();
        // GFS2 may be blocked on a node for good after the merge (its reads in D state,
        // which no signal ends): each read runs apart and is given 60 s.
        let check = r.sh(
            n,
            &bounded(
                "sha256sum --quiet -c /run/lab-acked",
                60,
                "grep -c -v '^$' /run/lab-bounded.out",
            ),
        )?;
        let others = r.sh(
            n,
            &bounded(
                "ls /var/www/html",
                60,
                &format!("grep -c '^part-{}-' /run/lab-bounded.out", vm::other(n)),
            ),
        )?;
        let monitor = run_agent(
            r.paths,
            n,
            "drbd-dualprimary",
            "monitor",
            &[
                drbd_env("WebData", "wwwdata").as_slice(),
                &[("OCF_RESKEY_CRM_meta_interval", "29000")],
            ]
            .concat(),
            mins(1),
        )?;
        let pacemaker = r.sh(
            n,
            "systemctl is-active pacemaker; timeout 60 pcs status 2>&1 | grep -i 'standalone\\|degraded' | head -3; true",
        )?;
        let journal = r.sh(
            n,
            "journalctl -o cat --no-pager -b | grep -E 'Split-Brain|stateful merge|remove nodeid|pacemakerd.*(exit|Shutting)|fence' | tail -5; true",
        )?;
        let _ = write!(
            seen,
            "{n}: DRBD {}; acknowledged {count} files, {}; {}'s files there: {}; \
             our monitor by hand: {}; pacemaker {}; journal: {}; ",
            drbd.trim(),
            if check.trim() == BLOCKED {
                "unreadable: GFS2 blocked there (a read did not return in 60 s)".to_owned()
            } else {
                format!("{} of them missing or changed", check.trim())
            },
            vm::other(n),
            if others.trim() == BLOCKED {
                "unreadable"
            } else {
                others.trim()
            },
            monitor.describe(),
            pacemaker.trim().replace('\n', " / "),
            journal.trim().replace('\n', " / "),
        );
        if drbd.contains("cs:StandAlone") {
            standalone += 1;
        }
        if drbd.contains("Sync") {
            wrong.push(format!("{n}: DRBD resyncs over one side"));
        }
        if count == 0 {
            wrong.push(format!(
                "{n}: no write acknowledged: the fault was not exercised"
            ));
        }
        if check.trim() == BLOCKED {
            blocked.push(n);
        } else if check.trim() != "0" {
            wrong.push(format!("{n}: acknowledged files lost or changed"));
        }
        if matches!(monitor.rc, 190 | 191) && monitor.reason().contains("StandAlone") {
            reported.push(n);
        }
    }
    if blocked.len() == NODES.len() {
        wrong.push(
            "GFS2 blocked on both nodes: nothing serves, no acknowledged file can be read".into(),
        );
    }
    if standalone == 0 {
        wrong.push("DRBD did not stop at the split brain (no StandAlone)".into());
    }
    if reported.is_empty() {
        wrong.push("our monitor did not report the StandAlone link on either node".into());
    }
    judged_all(seen, &wrong)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A status section as Pacemaker 3.0 wrote it in the lab: the probe on node1 found WebData
    /// running (rc 0 against the expected 7), node2's history has no failure.
    const STATUS: &str = r#"<status>
      <node_state id="1" uname="node1" in_ccm="true" crmd="online"><lrm id="1"><lrm_resources>
        <lrm_resource id="WebData" class="ocf" provider="native" type="drbd-dualprimary">
          <lrm_rsc_op id="WebData_last_0" operation_key="WebData_promote_0" operation="promote" transition-key="12:4:0:x" on_node="node1" call-id="31" rc-code="0" op-status="0" interval="0"/>
          <lrm_rsc_op id="WebData_last_failure_0" operation_key="WebData_monitor_0" operation="monitor" transition-key="2:3:7:x" on_node="node1" call-id="5" rc-code="0" op-status="0" interval="0"/>
          <lrm_rsc_op id="WebData_monitor_29000" operation_key="WebData_monitor_29000" operation="monitor" on_node="node1" call-id="33" rc-code="8" op-status="0" interval="29000"/>
        </lrm_resource>
        <lrm_resource id="WebFS" class="ocf" provider="native" type="gfs2-fs">
          <lrm_rsc_op id="WebFS_last_failure_0" operation_key="WebFS_monitor_20000" operation="monitor" on_node="node1" call-id="40" rc-code="7" op-status="0" interval="20000"/>
        </lrm_resource>
      </lrm_resources></lrm></node_state>
      <node_state id="2" uname="node2" in_ccm="true" crmd="online"><lrm id="2"><lrm_resources>
        <lrm_resource id="WebData" class="ocf" provider="native" type="drbd-dualprimary">
          <lrm_rsc_op id="WebData_last_0" operation_key="WebData_promote_0" operation="promote" on_node="node2" call-id="20" rc-code="0" op-status="0" interval="0"/>
        </lrm_resource>
      </lrm_resources></lrm></node_state>
    </status>"#;

    #[test]
    fn a_probe_that_found_the_resource_running_is_a_last_failure_record_of_its_node() {
        assert_eq!(
            last_failures(STATUS, "WebData").unwrap(),
            ["node1 monitor/0 rc 0"]
        );
        assert_eq!(
            last_failures(STATUS, "WebFS").unwrap(),
            ["node1 monitor/20000 rc 7"]
        );
        assert!(last_failures(STATUS, "WebSite").unwrap().is_empty());
    }

    const CIB: &str = r#"<cib><configuration><resources>
      <primitive id="WebFS" class="ocf" provider="native" type="gfs2-fs">
        <operations>
          <op id="WebFS-monitor-interval-20s" interval="20s" name="monitor" timeout="40s"/>
          <op id="WebFS-start-interval-0s" interval="0s" name="start" timeout="60s"/>
        </operations>
      </primitive>
      <primitive id="Deep" class="ocf" provider="native" type="apache-clone">
        <operations>
          <op id="Deep-monitor-10s" interval="10s" name="monitor"/>
          <op id="Deep-monitor-60s" interval="60s" name="monitor">
            <instance_attributes id="Deep-monitor-60s-ia">
              <nvpair id="Deep-monitor-60s-ia-l" name="OCF_CHECK_LEVEL" value="10"/>
            </instance_attributes>
          </op>
        </operations>
      </primitive>
    </resources></configuration></cib>"#;

    #[test]
    fn monitors_and_their_depths_are_read_from_the_cib() {
        let webfs = monitors(CIB, "WebFS").unwrap();
        assert_eq!(webfs, [("20s".to_owned(), 0)]);
        assert!(deep(&webfs).is_empty());
        let d = monitors(CIB, "Deep").unwrap();
        assert_eq!(deep(&d), ["monitor interval=60s depth=10"]);
        assert!(monitors(CIB, "Absent").unwrap().is_empty());
    }

    #[test]
    fn intervals_in_the_cib_spellings() {
        assert_eq!(interval_secs("20s"), Some(20));
        assert_eq!(interval_secs("1min"), Some(60));
        assert_eq!(interval_secs("30"), Some(30));
        assert_eq!(interval_secs("1500ms"), Some(2));
        assert_eq!(interval_secs("1h"), Some(3600));
        assert_eq!(interval_secs("x"), None);
    }
}
