//! Helpers of the checks that look at our own agents (issues 7 and 8): which agent runs a
//! resource, running an agent by hand on a node (as Pacemaker would, with OCF variables),
//! and Pacemaker's own record of the operations in a node's journal.

use crate::crm;
use crate::paths::Paths;
use crate::step::{Error, Result};
use crate::vm;
use std::fmt::Write;
use std::time::Duration;

/// Where our agents live in the guest.
pub const AGENT_DIR: &str = "/usr/lib/ocf/resource.d/native";

/// The agent of resource `id` as crm_mon reports it ("ocf:native:drbd-dualprimary").
pub fn agent_of(paths: &Paths, id: &str) -> Result<String> {
    let s = crm::state(paths, "node1").or_else(|_| crm::state(paths, "node2"))?;
    s.instances
        .iter()
        .find(|i| i.id == id)
        .map(|i| i.agent.clone())
        .ok_or_else(|| Error(format!("no resource {id} in crm_mon")))
}

/// One action of an agent run by hand.
#[derive(Debug)]
pub struct AgentRun {
    pub rc: i32,
    pub ms: u32,
    pub stderr: String,
}

impl AgentRun {
    /// The `ocf-exit-reason:` the agent gave, if any.
    pub fn reason(&self) -> String {
        self.stderr
            .lines()
            .rev()
            .find_map(|l| l.strip_prefix("ocf-exit-reason:"))
            .unwrap_or("")
            .to_owned()
    }

    pub fn describe(&self) -> String {
        format!(
            "exit {} after {:.1} s, reason {:?}",
            self.rc,
            f64::from(self.ms) / 1000.0,
            self.reason()
        )
    }
}

/// `env` as shell words ` K='V'...` (values must not hold a single quote).
pub fn env_words(env: &[(&str, &str)]) -> String {
    env.iter().fold(String::new(), |mut out, (k, v)| {
        let _ = write!(out, " {k}='{v}'");
        out
    })
}

/// Runs `AGENT_DIR/agent action` on `node` with `env` (values must not hold a single quote),
/// timed on the node.
pub fn run_agent(
    paths: &Paths,
    node: &str,
    agent: &str,
    action: &str,
    env: &[(&str, &str)],
    timeout: Duration,
) -> Result<AgentRun> {
    let vars = env_words(env);
    let script = format!(
        "cd / && s=$(date +%s%N); env OCF_ROOT=/usr/lib/ocf{vars} {AGENT_DIR}/{agent} {action} \
         >/dev/null 2>/run/lab-agent.err; rc=$?; e=$(date +%s%N); echo \"$rc $(( (e-s)/1000000 ))\"; \
         cat /run/lab-agent.err"
    );
    let out = vm::ssh_ok(paths, node, &script, timeout)?;
    let (first, rest) = out.split_once('\n').unwrap_or((&out, ""));
    let mut w = first.split_whitespace();
    let (Some(rc), Some(ms)) = (
        w.next().and_then(|x| x.parse().ok()),
        w.next().and_then(|x| x.parse().ok()),
    ) else {
        return Err(Error(format!(
            "{agent} {action} on {node}: no exit code in {out:?}"
        )));
    };
    Ok(AgentRun {
        rc,
        ms,
        stderr: rest.to_owned(),
    })
}

/// The OCF variables Pacemaker gives the tutorial's dlm (allow_stonith_disabled=true).
pub const DLM_ENV: [(&str, &str); 3] = [
    ("OCF_RESOURCE_INSTANCE", "dlm"),
    ("OCF_RESKEY_allow_stonith_disabled", "true"),
    ("OCF_RESKEY_CRM_meta_timeout", "100000"),
];

/// The meta-attributes of the tutorial's WebData clone, for a DRBD agent run by hand.
pub fn drbd_env<'a>(instance: &'a str, resource: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("OCF_RESOURCE_INSTANCE", instance),
        ("OCF_RESKEY_drbd_resource", resource),
        ("OCF_RESKEY_CRM_meta_clone_max", "2"),
        ("OCF_RESKEY_CRM_meta_clone_node_max", "1"),
        ("OCF_RESKEY_CRM_meta_promoted_max", "2"),
        ("OCF_RESKEY_CRM_meta_promoted_node_max", "1"),
        ("OCF_RESKEY_CRM_meta_master_max", "2"),
        ("OCF_RESKEY_CRM_meta_master_node_max", "1"),
        ("OCF_RESKEY_CRM_meta_notify", "true"),
        ("OCF_RESKEY_CRM_meta_timeout", "90000"),
    ]
}

/// What pacemaker-controld logged about one operation on a node, or a boot of the node.
#[derive(Clone, Debug, PartialEq)]
pub struct OpEvent {
    /// The node's clock (journalctl -o short-unix).
    pub at: f64,
    /// Empty for a boot.
    pub resource: String,
    /// "start", "stop", "monitor", "probe", ...; "boot" for a boot.
    pub op: String,
    /// "requested" or the result, lowercase ("ok", "error", "not running", ...).
    pub what: String,
}

impl OpEvent {
    fn is_boot(&self) -> bool {
        self.op == "boot" && self.resource.is_empty()
    }
}

/// Parses pacemaker-controld's "Requesting local execution of OP operation for RSC on NODE"
/// and "Result of OP operation for RSC on NODE: RESULT" journal lines, and the kernel's
/// "Linux version" line that opens each boot.
pub fn op_events(journal: &str) -> Vec<OpEvent> {
    journal
        .lines()
        .filter_map(|l| {
            let at: f64 = l.split_whitespace().next()?.parse().ok()?;
            if l.contains(" kernel: Linux version ") {
                return Some(OpEvent {
                    at,
                    resource: String::new(),
                    op: "boot".into(),
                    what: "boot".into(),
                });
            }
            let (op, rest, what) = if let Some(x) = l.split("Requesting local execution of ").nth(1)
            {
                let (op, rest) = x.split_once(" operation for ")?;
                (op, rest, "requested".to_owned())
            } else {
                let x = l.split("Result of ").nth(1)?;
                let (op, rest) = x.split_once(" operation for ")?;
                let (rest, result) = rest.split_once(": ")?;
                // Pacemaker 3 capitalizes results ("OK", "Not running"); 2.1 does not.
                (op, rest, result.trim().to_lowercase())
            };
            let resource = rest.split(" on ").next()?.to_owned();
            Some(OpEvent {
                at,
                resource,
                op: op.to_owned(),
                what,
            })
        })
        .collect()
}

/// The journal lines op_events reads, from a node, over every boot the journal keeps.
pub const OP_JOURNAL: &str = "journalctl -o short-unix --no-pager -t pacemaker-controld -t kernel | \
     grep -E 'Requesting local execution of|Result of [a-z-]+ operation for| kernel: Linux version '";

/// Every start of `upper` on a node must come while `lower` is started there: its start
/// succeeded (or a probe or monitor found it running) in the same boot, with no stop and no
/// failed probe or monitor since. Starts of `upper` before `lower` ever started are the
/// previous exercise (WebFS on ext4) and are not counted. Returns, for each start of `upper`
/// that counts, how long after `lower` came up it was requested; Err names the first start
/// of `upper` requested while `lower` was not started.
pub fn ordered_after(
    events: &[OpEvent],
    lower: &str,
    upper: &str,
) -> std::result::Result<Vec<f64>, f64> {
    let mut lower_up: Option<f64> = None;
    let mut seen_lower = false;
    let mut gaps = Vec::new();
    for e in events {
        if e.is_boot() {
            // A boot ends everything the node ran.
            lower_up = None;
        } else if e.resource == lower && e.what != "requested" {
            let ok = e.what == "ok";
            match e.op.as_str() {
                "start" if ok => {
                    lower_up = Some(e.at);
                    seen_lower = true;
                }
                "stop" if ok => lower_up = None,
                "monitor" | "probe" if ok => {
                    lower_up = lower_up.or(Some(e.at));
                    seen_lower = true;
                }
                "monitor" | "probe" => lower_up = None,
                _ => {}
            }
        } else if e.resource == upper && e.op == "start" && e.what == "requested" && seen_lower {
            match lower_up {
                Some(t) => gaps.push(e.at - t),
                None => return Err(e.at),
            }
        }
    }
    Ok(gaps)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "\
1795711670.304678 node1 pacemaker-controld[503]:  notice: Requesting local execution of start operation for WebFS on node1
1795711670.540737 node1 pacemaker-controld[503]:  notice: Result of start operation for WebFS on node1: ok
1795711689.281280 node1 pacemaker-controld[503]:  notice: Requesting local execution of start operation for dlm on node1
1795711691.370135 node1 pacemaker-controld[503]:  notice: Result of start operation for dlm on node1: ok
1795711742.036340 node1 pacemaker-controld[503]:  notice: Requesting local execution of start operation for WebFS on node1
1795711743.905458 node1 pacemaker-controld[503]:  notice: Result of start operation for WebFS on node1: ok
";

    #[test]
    fn parses_requests_and_results() {
        let ev = op_events(LOG);
        assert_eq!(ev.len(), 6);
        assert_eq!(ev[2].resource, "dlm");
        assert_eq!(ev[2].what, "requested");
        assert_eq!(ev[3].what, "ok");
        assert!((ev[3].at - 1_795_711_691.370_135).abs() < 1e-6);
    }

    #[test]
    fn webfs_after_dlm_and_a_violation_is_named() {
        let ev = op_events(LOG);
        let gaps = ordered_after(&ev, "dlm", "WebFS").unwrap();
        assert_eq!(
            gaps.len(),
            1,
            "the ext4 start before dlm existed does not count"
        );
        assert!((gaps[0] - 50.666_205).abs() < 1e-3);
        let mut bad = ev.clone();
        bad.push(OpEvent {
            at: 1_795_711_800.0,
            resource: "dlm".into(),
            op: "stop".into(),
            what: "ok".into(),
        });
        bad.push(OpEvent {
            at: 1_795_711_801.0,
            resource: "WebFS".into(),
            op: "start".into(),
            what: "requested".into(),
        });
        assert_eq!(ordered_after(&bad, "dlm", "WebFS"), Err(1_795_711_801.0));
    }

    /// The node was killed and booted again: WebFS's start in the new boot came before dlm's.
    const REBOOT: &str = "\
1795712000.000001 node1 kernel: Linux version 6.1.0-41-amd64 (debian-kernel@lists.debian.org) #1 SMP
1795712031.100000 node1 pacemaker-controld[498]:  notice: Result of probe operation for dlm on node1: not running
1795712040.304678 node1 pacemaker-controld[498]:  notice: Requesting local execution of start operation for WebFS on node1
1795712040.304679 node1 pacemaker-controld[498]:  notice: Requesting local execution of start operation for dlm on node1
1795712042.370135 node1 pacemaker-controld[498]:  notice: Result of start operation for dlm on node1: ok
";

    #[test]
    fn a_boot_ends_dlm_so_a_start_of_webfs_right_after_it_is_a_violation() {
        let journal = format!("{LOG}{REBOOT}");
        let ev = op_events(&journal);
        assert_eq!(ev[6].op, "boot");
        assert_eq!(ev[7].op, "probe");
        assert_eq!(ev[7].what, "not running");
        assert_eq!(
            ordered_after(&ev, "dlm", "WebFS"),
            Err(1_795_712_040.304_678),
            "dlm's start before the boot must not count for WebFS's start after it"
        );
        // The same boot in the right order passes.
        let good = journal.replace(
            "1795712040.304678 node1 pacemaker-controld[498]:  notice: Requesting local execution of start operation for WebFS",
            "1795712043.000000 node1 pacemaker-controld[498]:  notice: Requesting local execution of start operation for WebFS",
        );
        let mut ev = op_events(&good);
        ev.sort_by(|a, b| a.at.total_cmp(&b.at));
        assert_eq!(ordered_after(&ev, "dlm", "WebFS").map(|g| g.len()), Ok(2));
    }

    #[test]
    fn pacemaker_3_capitalizes_results() {
        let ev = op_events(
            "1796137924.379152 node2 pacemaker-controld[662]:  notice: Result of start operation for dlm on node2: OK\n\
             1796137912.907654 node2 pacemaker-controld[662]:  notice: Result of probe operation for dlm on node2: Not running\n",
        );
        assert_eq!(ev[0].what, "ok");
        assert_eq!(ev[1].what, "not running");
    }

    #[test]
    fn a_failed_monitor_of_dlm_ends_it() {
        let mut ev = op_events(LOG);
        ev.push(OpEvent {
            at: 1_795_711_800.0,
            resource: "dlm".into(),
            op: "monitor".into(),
            what: "not running".into(),
        });
        ev.push(OpEvent {
            at: 1_795_711_801.0,
            resource: "WebFS".into(),
            op: "start".into(),
            what: "requested".into(),
        });
        assert_eq!(ordered_after(&ev, "dlm", "WebFS"), Err(1_795_711_801.0));
    }
}
