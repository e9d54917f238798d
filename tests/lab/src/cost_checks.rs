//! What monitoring costs a lab node (issue 15): the CPU time of every process Pacemaker's
//! executor forks (the agents and whatever they run) over a fixed window with the cluster
//! idle, at the configuration's own monitor intervals. Run on the shell agents too
//! (`--agents heartbeat`): the README sets the two side by side.
//!
//! pacemaker-execd is moved into a cgroup of its own below Pacemaker's for the window, so the
//! count is the kernel's (cgroup v2 `cpu.stat`, microseconds, children included once they
//! exit) and Pacemaker's other daemons are left out; the executor's own time is read from
//! /proc and subtracted.

use crate::dlm_checks::{guest_now, healthy_again, ops_since};
use crate::fault_checks::interval_secs;
use crate::scenario::Run;
use crate::step::{Error, Result, say};
use crate::sys::secs;
use std::thread::sleep;

/// The idle window. Long enough for every monitor of the tutorial (the slowest: 60 s) to
/// run several times.
pub const WINDOW_SECONDS: u32 = 240;

const SUB: &str = "lab-execd";

/// Moves pacemaker-execd into `<its cgroup>/lab-execd`; prints that directory.
const ISOLATE: &str = "set -e; p=$(pgrep -xo pacemaker-execd); \
    cg=/sys/fs/cgroup$(sed -n 's/^0:://p' /proc/$p/cgroup); \
    case $cg in */lab-execd) ;; *) mkdir -p $cg/lab-execd; echo $p > $cg/lab-execd/cgroup.procs; cg=$cg/lab-execd;; esac; \
    echo $cg";

/// The cgroup's CPU (µs) and the executor's own (clock ticks, user + system), one line.
fn sample(dir: &str) -> String {
    format!(
        "p=$(pgrep -xo pacemaker-execd); echo $(sed -n 's/^usage_usec //p' {dir}/cpu.stat) \
         $(cut -d')' -f2 /proc/$p/stat | awk '{{print $12 + $13}}') $(getconf CLK_TCK)"
    )
}

/// Every process back in the executor's original cgroup, and the one made here removed.
fn restore(dir: &str) -> String {
    format!(
        "for i in 1 2 3 4 5; do for p in $(cat {dir}/cgroup.procs); do echo $p > {dir}/../cgroup.procs; done; \
         rmdir {dir} 2>/dev/null && break; sleep 1; done; true"
    )
}

/// One sample: (cgroup µs, executor's own µs).
fn parse_sample(line: &str) -> Option<(f64, f64)> {
    let v: Vec<f64> = line
        .split_whitespace()
        .map(str::parse)
        .collect::<std::result::Result<_, _>>()
        .ok()?;
    match v[..] {
        [usage, ticks, hz] if hz > 0.0 => Some((usage, ticks * 1e6 / hz)),
        _ => None,
    }
}

/// The recurring monitors a node running every resource (promoted where promotable) runs
/// through the executor (fence devices left out):
/// (resource, interval in seconds), from the CIB's resources section.
fn monitors(resources_xml: &str) -> Vec<(String, f64)> {
    let Ok(doc) = roxmltree::Document::parse(resources_xml) else {
        return Vec::new();
    };
    doc.descendants()
        .filter(|n| n.has_tag_name("op") && n.attribute("name") == Some("monitor"))
        .filter(|n| {
            matches!(
                n.attribute("role"),
                None | Some("Promoted" | "Master" | "Started")
            )
        })
        .filter_map(|op| {
            let primitive = op.ancestors().find(|a| a.has_tag_name("primitive"))?;
            // A fence device's monitor runs in pacemaker-fenced, outside the window's count.
            if primitive.attribute("class") == Some("stonith") {
                return None;
            }
            let every = interval_secs(op.attribute("interval")?.trim())?;
            let id = primitive.attribute("id")?.to_owned();
            (every > 0).then_some((id, f64::from(u32::try_from(every).ok()?)))
        })
        .collect()
}

/// 32: the CPU the agents' monitors cost the VirtualIP's node (every resource runs there)
/// over WINDOW_SECONDS with nothing else happening, per hour.
pub fn monitoring_cost(r: &mut Run) -> Result<String> {
    healthy_again(r, "active-active, no failed action, before the window")?;
    let node = r.vip_holder()?;
    let resources = r.sh("node1", "cibadmin -Q -o resources")?;
    let monitors = monitors(&resources);
    let per_hour: f64 = monitors.iter().map(|(_, every)| 3600.0 / every).sum();
    let dir = r.sh(&node, ISOLATE)?.trim().to_owned();
    if !dir.ends_with(SUB) {
        return Err(Error(format!("pacemaker-execd not isolated: {dir}")));
    }
    let measured = measure(r, &node, &dir);
    r.sh(&node, &restore(&dir))?;
    let (agents_usec, execd_usec, others) = measured?;
    let agents_ms_per_hour = agents_usec / 1000.0 * 3600.0 / f64::from(WINDOW_SECONDS);
    let per_monitor_ms = agents_ms_per_hour / per_hour.max(1.0);
    r.figures.push((
        "monitoring_agents_cpu_ms_per_hour".into(),
        agents_ms_per_hour,
    ));
    r.figures.push((
        "monitoring_agents_cpu_ms_per_monitor".into(),
        per_monitor_ms,
    ));
    let listed: Vec<String> = monitors
        .iter()
        .map(|(id, every)| format!("{id} every {every:.0} s"))
        .collect();
    let seen = format!(
        "{node}, {WINDOW_SECONDS} s idle ({}: {per_hour:.0} monitors an hour): the agents' processes used \
         {:.1} ms of CPU ({agents_ms_per_hour:.0} ms an hour, {per_monitor_ms:.2} ms a monitor), the \
         executor itself {:.0} ms; other operations in the window: {}",
        listed.join(", "),
        agents_usec / 1000.0,
        execd_usec / 1000.0,
        if others.is_empty() {
            "none".to_owned()
        } else {
            others.join(", ")
        }
    );
    if monitors.is_empty() || agents_usec <= 0.0 || !others.is_empty() {
        return Err(Error(format!(
            "{seen}; WRONG: the window was not the idle cluster's monitors alone"
        )));
    }
    Ok(seen)
}

/// The window: (agents' µs, executor's µs, operations other than monitors seen meanwhile).
fn measure(r: &Run, node: &str, dir: &str) -> Result<(f64, f64, Vec<String>)> {
    let since = guest_now(r, node)?;
    let first = r.sh(node, &sample(dir))?;
    say(&format!(
        "measuring what monitoring costs {node} for {WINDOW_SECONDS} s"
    ));
    sleep(secs(u64::from(WINDOW_SECONDS)));
    let last = r.sh(node, &sample(dir))?;
    let (Some(a), Some(b)) = (parse_sample(&first), parse_sample(&last)) else {
        return Err(Error(format!("unreadable CPU samples: {first:?} {last:?}")));
    };
    let execd = b.1 - a.1;
    let others: Vec<String> = ops_since(r, node, since)?
        .into_iter()
        .filter(|e| e.op != "monitor")
        .map(|e| format!("{} {} {}", e.resource, e.op, e.what))
        .collect();
    Ok(((b.0 - a.0 - execd).max(0.0), execd, others))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recurring_monitors_of_a_node_running_everything() {
        let xml = r#"<resources>
          <primitive id="sbd-fence" class="stonith" type="fence_sbd"><operations>
            <op id="f" name="monitor" interval="60s"/>
          </operations></primitive>
          <primitive id="VirtualIP"><operations>
            <op id="a" name="monitor" interval="30s"/><op id="b" name="start" interval="0s"/>
          </operations></primitive>
          <clone id="WebData-clone"><primitive id="WebData"><operations>
            <op id="c" name="monitor" interval="10s" role="Promoted"/>
            <op id="d" name="monitor" interval="20s" role="Unpromoted"/>
          </operations></primitive></clone>
          <clone id="WebSite-clone"><primitive id="WebSite"><operations>
            <op id="e" name="monitor" interval="1min"/>
          </operations></primitive></clone>
        </resources>"#;
        assert_eq!(
            monitors(xml),
            vec![
                ("VirtualIP".to_owned(), 30.0),
                ("WebData".to_owned(), 10.0),
                ("WebSite".to_owned(), 60.0)
            ]
        );
    }

    #[test]
    fn a_sample_is_the_cgroups_microseconds_and_the_executors_ticks() {
        assert_eq!(
            parse_sample("123456 25 100\n"),
            Some((123_456.0, 250_000.0))
        );
        assert_eq!(parse_sample("123456 25"), None);
        assert_eq!(parse_sample(""), None);
    }
}
