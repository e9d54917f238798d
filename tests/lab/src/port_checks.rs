//! `lab scenario --port` (issue 18): the tutorial's cluster booted on the shell agents is
//! ported live to ours with the packaged `native-agents-port`, back, and to ours again, each
//! while both nodes fetch a page through the VirtualIP and write a file on GFS2 every 0.2 s
//! (lab-load, which forks nothing).
//! Each port must leave every resource where it was, untouched: no failed request or write,
//! the same Apache main process on each node, DRBD Primary on both throughout, the GFS2
//! mount never replaced, the VirtualIP never deleted or moved, no start, stop, promote or
//! demote in Pacemaker's journal.

use crate::agents::{self, Mode};
use crate::crm;
use crate::dlm_checks::{guest_now, healthy_again, ops_since};
use crate::scenario::Run;
use crate::step::{Error, Result, say};
use crate::sys::{mins, secs};
use crate::tutorial_checks::{DOCROOT, VIP_URL, log_lines, longest_outage, show_pids};
use crate::vm::{self, NODES};
use std::thread::sleep;
use std::time::Instant;

const STATE: &str = "/run/lab-port";
/// Where lab-load (src/bin/lab-load.rs) logs its requests and writes.
const LOAD: &str = "/run/lab-load";
const VIP: &str = "10.1.1.100";

/// What must not change during a port, read on each node.
const MOUNT_ID: &str =
    "awk '$5 == \"/var/www/html\" { print $1 }' /proc/self/mountinfo | tr '\\n' ' '";

/// Background watchers on a node: DRBD's roles every 0.5 s (a line whenever they are not
/// Primary/Primary; read by the shell itself, no process forked but the sleep: on the
/// emulated guests a heavier watcher made the shell agents' monitors time out) and the
/// kernel's address events (`ip monitor address`).
fn watch_start(r: &Run, node: &str) -> Result<()> {
    // Each background command stands alone, its output redirected (as lab-probe starts its
    // loops): one inside an `a && b &` list keeps a shell holding ssh's output, and ssh open.
    r.sh(
        node,
        &format!(
            "rm -rf {STATE}; mkdir -p {STATE}; \
             setsid sh -c 'while :; do r=; \
               while IFS= read -r l; do case $l in *ro:*) r=${{l#*ro:}}; r=${{r%% *}};; esac; done </proc/drbd; \
               [ \"$r\" = Primary/Primary ] || echo \"$(date +%s.%N) ro:$r\" >> {STATE}/drbd.log; \
               sleep 0.5; done' </dev/null >/dev/null 2>&1 & \
             echo $! > {STATE}/drbd.pid; \
             setsid ip -o monitor address </dev/null >{STATE}/addr.log 2>&1 & \
             echo $! > {STATE}/addr.pid"
        ),
    )?;
    Ok(())
}

fn watch_stop(r: &Run, node: &str) -> Result<(String, String)> {
    r.sh(
        node,
        &format!("for p in drbd addr; do kill -- -$(cat {STATE}/$p.pid) 2>/dev/null; done; true"),
    )?;
    Ok((
        r.sh(node, &format!("cat {STATE}/drbd.log 2>/dev/null; true"))?,
        r.sh(node, &format!("cat {STATE}/addr.log; true"))?,
    ))
}

/// Starts lab-load on `node` until killed: the page through the VirtualIP (a good answer
/// carries the run's token) and an append to a file per node under `dir`, every 0.2 s,
/// logged in `logdir` (emptied first), its pid in `logdir`/pid.
pub fn start_load(r: &Run, node: &str, dir: &str, logdir: &str) -> Result<()> {
    r.sh(
        node,
        &format!(
            "rm -rf {logdir}; mkdir -p {logdir}; \
             setsid lab-load {VIP_URL} {} {dir} {logdir} </dev/null >/dev/null 2>&1 & \
             echo $! > {logdir}/pid",
            r.token
        ),
    )?;
    Ok(())
}

/// One lab-load attempt: start, end (the node's clock), good or not.
pub type Attempt = (f64, f64, bool);

/// lab-load's two logs (requests, appends) from a script's output that printed a line `==`
/// before each (`echo ==; cat http.log; echo ==; cat write.log`).
pub fn load_logs(out: &str) -> (Vec<Attempt>, Vec<Attempt>) {
    let mut parts = out.split("==\n").skip(1);
    (
        log_lines(parts.next().unwrap_or("")),
        log_lines(parts.next().unwrap_or("")),
    )
}

/// A node and its lab-load log lines.
type NodeLog = (&'static str, Vec<Attempt>);

/// "node: N" for each node whose log (lab-load's "start end ok|fail" lines) has N failures.
fn failed_per_node(logs: &[NodeLog]) -> Vec<String> {
    logs.iter()
        .map(|(n, l)| (n, l.iter().filter(|x| !x.2).count()))
        .filter(|(_, c)| *c > 0)
        .map(|(n, c)| format!("{n}: {c}"))
        .collect()
}

/// One port (to ours, or `back` to the shell agents) under load, judged.
fn port(r: &mut Run, back: bool, label: &str) -> Result<String> {
    let (from, to) = if back {
        (Mode::Native, Mode::Heartbeat)
    } else {
        (Mode::Heartbeat, Mode::Native)
    };
    // The tool refuses a cluster with failed actions, as it should: the administrator cleans
    // them up first (the replay's own WebFS start failures, from before GFS2 existed).
    healthy_again(r, "active-active, no failed action, before the port")?;
    sleep(secs(5));
    let state = crm::state(r.paths, "node1")?;
    let wrong_before = agents::mismatches(from, &state.agents());
    if !wrong_before.is_empty() {
        return Err(Error(format!(
            "not on the {} agents before the port: {}",
            from.name(),
            wrong_before.join("; ")
        )));
    }
    for n in NODES {
        r.sh(n, "native-agents-port --publish >/dev/null")?;
    }
    r.write_check_page("node1")?;
    let holder = r.vip_holder()?;
    let pids = r.apache_pids();
    let mounts: Vec<String> = NODES
        .iter()
        .map(|n| r.sh(n, MOUNT_ID).map(|m| m.trim().to_owned()))
        .collect::<Result<_>>()?;
    let mut since = Vec::new();
    for n in NODES {
        watch_start(r, n)?;
        start_load(r, n, &format!("{DOCROOT}/port-{label}"), LOAD)?;
        since.push((n, guest_now(r, n)?));
    }
    sleep(secs(3));
    let clock = Instant::now();
    let args = if back { "--apply --back" } else { "--apply" };
    let tool = vm::ssh(
        r.paths,
        "node1",
        &format!("native-agents-port {args} --timeout 300 2>&1"),
        mins(12),
    )?;
    let port_seconds = clock.elapsed().as_secs_f64();
    sleep(secs(5));
    let mut http = Vec::new();
    let mut writes = Vec::new();
    let mut drbd = Vec::new();
    let mut addr_deleted = Vec::new();
    for n in NODES {
        let out = r.sh(
            n,
            &format!(
                "kill $(cat {LOAD}/pid); echo ==; cat {LOAD}/http.log; echo ==; cat {LOAD}/write.log"
            ),
        )?;
        let (h, w) = load_logs(&out);
        http.push((n, h));
        writes.push((n, w));
        let (drbd_log, addr_log) = watch_stop(r, n)?;
        if !drbd_log.trim().is_empty() {
            drbd.push(format!("{n}: {}", drbd_log.trim().replace('\n', ", ")));
        }
        addr_deleted.extend(
            addr_log
                .lines()
                .filter(|l| l.starts_with("Deleted") && l.contains(&format!(" {VIP}/")))
                .map(|l| format!("{n}: {}", l.trim())),
        );
    }
    let state = crm::state(r.paths, "node1")?;
    let after_pids = r.apache_pids();
    let after_mounts: Vec<String> = NODES
        .iter()
        .map(|n| r.sh(n, MOUNT_ID).map(|m| m.trim().to_owned()))
        .collect::<Result<_>>()?;
    let ops: Vec<String> = since
        .iter()
        .map(|(n, at)| {
            Ok(ops_since(r, n, *at)?
                .into_iter()
                .filter(|e| e.what == "requested" && !matches!(e.op.as_str(), "monitor" | "probe"))
                .map(|e| format!("{n}: {} {}", e.resource, e.op))
                .collect::<Vec<_>>())
        })
        .collect::<Result<Vec<_>>>()?
        .concat();
    let maintenance = r.sh(
        "node1",
        "crm_attribute --type crm_config --name maintenance-mode --query --quiet 2>/dev/null; true",
    )?;

    let requests: usize = http.iter().map(|(_, h)| h.len()).sum();
    let failed_http = failed_per_node(&http);
    let outage = http
        .iter()
        .map(|(_, h)| longest_outage(h))
        .fold(0.0, f64::max);
    let written: usize = writes
        .iter()
        .map(|(_, w)| w.iter().filter(|x| x.2).count())
        .sum();
    let failed_writes = failed_per_node(&writes);
    r.figures
        .push((format!("port_{label}_seconds"), port_seconds));
    r.figures
        .push((format!("port_{label}_longest_http_gap_seconds"), outage));

    let mut wrong = Vec::new();
    if tool.code != 0 {
        wrong.push(format!("native-agents-port {args} exited {}", tool.code));
    }
    let agents_wrong = agents::mismatches(to, &state.agents());
    if !agents_wrong.is_empty() {
        wrong.push(format!(
            "not on the {} agents: {}",
            to.name(),
            agents_wrong.join("; ")
        ));
    }
    if !state.active_active(&NODES) || !state.failures.is_empty() {
        wrong.push(format!(
            "not active-active without failures afterwards: {}",
            state.failures.join("; ")
        ));
    }
    if !maintenance.trim().is_empty() && maintenance.trim() != "false" {
        wrong.push(format!(
            "maintenance-mode is {} afterwards",
            maintenance.trim()
        ));
    }
    if requests == 0 || written == 0 {
        wrong.push("the probes recorded nothing".to_owned());
    }
    if !failed_http.is_empty() {
        wrong.push(format!("failed HTTP requests ({})", failed_http.join(", ")));
    }
    if !failed_writes.is_empty() {
        wrong.push(format!(
            "failed writes on GFS2 ({})",
            failed_writes.join(", ")
        ));
    }
    if pids != after_pids || pids.iter().any(|(_, p)| p.is_none()) {
        wrong.push("an Apache main process changed".to_owned());
    }
    if mounts != after_mounts || mounts.iter().any(String::is_empty) {
        wrong.push("the GFS2 mount was replaced or is gone".to_owned());
    }
    if !drbd.is_empty() {
        wrong.push(format!("DRBD left Primary/Primary: {}", drbd.join("; ")));
    }
    let holder_after = r.vip_holder()?;
    if holder_after != holder || !addr_deleted.is_empty() {
        wrong.push(format!(
            "the VirtualIP moved or was deleted ({holder} -> {holder_after}; {})",
            addr_deleted.join("; ")
        ));
    }
    if !ops.is_empty() {
        wrong.push(format!("Pacemaker ran {}", ops.join(", ")));
    }
    let tail: Vec<&str> = tool.stdout.lines().rev().take(3).collect();
    let seen = format!(
        "native-agents-port {args}: exit {} in {port_seconds:.1} s ({}); {requests} HTTP requests through {VIP} from \
         both nodes, failed [{}], longest gap between good answers {outage:.1} s; {written} appends to a file per node on \
         GFS2, failed [{}]; Apache main pids [{}] -> [{}]; GFS2 mount ids [{}] -> [{}]; DRBD not \
         Primary/Primary: [{}]; VirtualIP on {holder} -> {holder_after}, deletions seen [{}]; Pacemaker's \
         requests other than monitors and probes: [{}]",
        tool.code,
        tail.into_iter().rev().collect::<Vec<_>>().join(" | "),
        failed_http.join(", "),
        failed_writes.join(", "),
        show_pids(&pids),
        show_pids(&after_pids),
        mounts.join(" "),
        after_mounts.join(" "),
        drbd.join("; "),
        addr_deleted.join("; "),
        ops.join(", "),
    );
    say(&seen);
    if wrong.is_empty() {
        Ok(seen)
    } else {
        Err(Error(format!("{seen}; WRONG: {}", wrong.join("; "))))
    }
}

/// 27: the shell agents to ours, live.
pub fn to_ours(r: &mut Run) -> Result<String> {
    port(r, false, "to-ours")
}

/// 28: back to the shell agents, live.
pub fn back(r: &mut Run) -> Result<String> {
    port(r, true, "back")
}

/// 29: to ours again, live; the tutorial's checks follow on the ported cluster.
pub fn again(r: &mut Run) -> Result<String> {
    port(r, false, "again")
}
