//! What the daemon, its query socket and the kernel say ([`Observation`], gathered by
//! [`crate::logic::Logic::observe`]), and what that means ([`assess`], [`ready`]): pure
//! decisions, tested on fixtures.

use dlm_control::{DaemonStatus, LockspaceInfo};
use std::time::Duration;

/// How long a failed node may wait for its fencing, with no fencing under way, before the
/// wait counts as stalled. dlm_controld retries a failed fencing after a pause; a monitor
/// that lands in that pause must not call it stalled.
pub const FENCING_STALL_GRACE: Duration = Duration::from_secs(60);

/// The daemon's own account of itself.
#[derive(Debug, Clone)]
pub struct Report {
    pub status: DaemonStatus,
    pub lockspaces: Vec<LockspaceInfo>,
}

/// Everything a monitor looks at.
#[derive(Debug, Clone)]
pub struct Observation {
    pub pids: Vec<i32>,
    /// The kernel's lockspaces (`/sys/kernel/dlm`).
    pub kernel_lockspaces: Vec<String>,
    /// The daemon's answer, or why it gave none; None when no daemon runs.
    pub report: Option<Result<Report, String>>,
}

/// What the observation means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    NotRunning,
    Running,
    /// Not healthy, but no lockspace depends on it: a plain failure.
    Failed(String),
    /// Lockspaces are in use without a healthy daemon: only fencing this node recovers them.
    Uncontrolled(String),
}

/// Decide. The order follows ocf:pacemaker:controld's monitor: alive, then merge wait, then a
/// fencing wait nobody works on; lockspaces left behind by an unhealthy daemon are
/// uncontrolled.
pub fn assess(o: &Observation) -> Verdict {
    let held = if o.kernel_lockspaces.is_empty() {
        String::new()
    } else {
        format!(
            " while the kernel holds lockspaces {}",
            o.kernel_lockspaces.join(", ")
        )
    };
    let unhealthy = |why: String| {
        if o.kernel_lockspaces.is_empty() {
            Verdict::Failed(why)
        } else {
            Verdict::Uncontrolled(format!("{why}{held}"))
        }
    };
    let report = match &o.report {
        None if o.kernel_lockspaces.is_empty() => return Verdict::NotRunning,
        None => return unhealthy("dlm_controld is not running".into()),
        // A daemon that does not answer may be busy (its query thread waits for the main
        // loop): a failure, not a reason on its own to fence this node.
        Some(Err(e)) => {
            return Verdict::Failed(format!(
                "dlm_controld ({}) does not answer on its query socket: {e}",
                pids_text(&o.pids)
            ));
        }
        Some(Ok(r)) => r,
    };
    if report.status.stateful_merge_wait() {
        return unhealthy(
            "dlm_controld waits for manual intervention after a cluster merge \
             (stateful_merge_wait=1; see dlm_tool status)"
                .into(),
        );
    }
    let waiting: Vec<&str> = report
        .lockspaces
        .iter()
        .filter(|l| l.waits_for_fencing())
        .map(|l| l.name.as_str())
        .collect();
    if !waiting.is_empty() && !report.status.fencing_in_progress() {
        let waited = report.status.longest_fencing_wait().unwrap_or(u64::MAX);
        if waited >= FENCING_STALL_GRACE.as_secs() {
            let nodes: Vec<String> = report
                .status
                .nodes_needing_fencing()
                .iter()
                .map(i32::to_string)
                .collect();
            return unhealthy(format!(
                "lockspaces {} wait for fencing of node(s) {} and no fencing is in progress",
                waiting.join(", "),
                if nodes.is_empty() {
                    "?".into()
                } else {
                    nodes.join(", ")
                }
            ));
        }
    }
    if !waiting.is_empty() {
        log::info!(
            "lockspaces {} wait for fencing (in progress or retried)",
            waiting.join(", ")
        );
    }
    Verdict::Running
}

/// Start is done: the daemon runs, has configured the kernel's comms and answers.
pub fn ready(o: &Observation, comms_ready: bool) -> bool {
    !o.pids.is_empty() && comms_ready && matches!(o.report, Some(Ok(_)))
}

/// Pids as a sentence reads them: "pid 7", "pids 7, 9".
pub fn pids_text(p: &[i32]) -> String {
    let list = p.iter().map(i32::to_string).collect::<Vec<_>>().join(", ");
    if p.len() == 1 {
        format!("pid {list}")
    } else {
        format!("pids {list}")
    }
}

#[cfg(test)]
#[cfg(target_endian = "little")] // the fixtures are x86_64 and aarch64 byte order
mod tests {
    use super::*;
    use dlm_control::wire::{self, LOCKSPACE_LEN};
    use std::collections::BTreeMap;

    fn status(merge: bool, fence_pid: u32, need: bool, monotime: u64, fail: u64) -> DaemonStatus {
        let mut daemon = BTreeMap::new();
        daemon.insert("stateful_merge_wait".into(), u8::from(merge).to_string());
        daemon.insert("monotime".into(), monotime.to_string());
        daemon.insert("quorate".into(), "1".into());
        let mut node = BTreeMap::new();
        node.insert("need_fencing".into(), u8::from(need).to_string());
        node.insert("fence_pid".into(), fence_pid.to_string());
        node.insert("fail_monotime".into(), fail.to_string());
        DaemonStatus {
            our_nodeid: 1,
            daemon,
            nodes: vec![wire::NodeState {
                nodeid: 2,
                values: node,
            }],
            startup_nodes: Vec::new(),
        }
    }

    fn ls(name: &str, waits_fencing: bool) -> LockspaceInfo {
        let mut b = vec![0u8; LOCKSPACE_LEN];
        if waits_fencing {
            b[48..52].copy_from_slice(&wire::LS_WAIT_FENCING.to_le_bytes());
        }
        b[72..72 + name.len()].copy_from_slice(name.as_bytes());
        LockspaceInfo::decode(&b).unwrap()
    }

    fn obs(pids: &[i32], kernel: &[&str], report: Option<Result<Report, String>>) -> Observation {
        Observation {
            pids: pids.to_vec(),
            kernel_lockspaces: kernel.iter().map(|s| (*s).to_owned()).collect(),
            report,
        }
    }

    #[allow(clippy::unnecessary_wraps)] // the shape of Observation::report
    fn healthy() -> Option<Result<Report, String>> {
        Some(Ok(Report {
            status: status(false, 0, false, 100, 0),
            lockspaces: vec![ls("web", false)],
        }))
    }

    #[test]
    fn stopped_clean_and_running_healthy() {
        assert_eq!(assess(&obs(&[], &[], None)), Verdict::NotRunning);
        assert_eq!(assess(&obs(&[7], &["web"], healthy())), Verdict::Running);
        assert_eq!(assess(&obs(&[7], &[], healthy())), Verdict::Running);
    }

    #[test]
    fn lockspaces_without_a_daemon_are_uncontrolled() {
        let v = assess(&obs(&[], &["web", "clvmd"], None));
        let Verdict::Uncontrolled(why) = v else {
            panic!("{v:?}")
        };
        assert!(
            why.contains("not running") && why.contains("web, clvmd"),
            "{why}"
        );
    }

    #[test]
    fn merge_wait_is_unhealthy_and_uncontrolled_with_lockspaces() {
        let r = || {
            Some(Ok(Report {
                status: status(true, 0, false, 100, 0),
                lockspaces: vec![],
            }))
        };
        assert!(
            matches!(assess(&obs(&[7], &["web"], r())), Verdict::Uncontrolled(w) if w.contains("stateful_merge_wait"))
        );
        assert!(matches!(assess(&obs(&[7], &[], r())), Verdict::Failed(_)));
    }

    #[test]
    fn fencing_wait_counts_only_when_stalled() {
        let case = |fence_pid, now| {
            assess(&obs(
                &[7],
                &["web"],
                Some(Ok(Report {
                    status: status(false, fence_pid, true, now, 1000),
                    lockspaces: vec![ls("web", true)],
                })),
            ))
        };
        assert_eq!(case(4242, 5000), Verdict::Running, "fencing under way");
        assert_eq!(case(0, 1010), Verdict::Running, "within the grace");
        let v = case(0, 1000 + FENCING_STALL_GRACE.as_secs());
        assert!(
            matches!(&v, Verdict::Uncontrolled(w) if w.contains("fencing of node(s) 2")),
            "{v:?}"
        );
    }

    #[test]
    fn a_silent_daemon_fails_without_fencing() {
        let v = assess(&obs(&[7], &["web"], Some(Err("timed out".into()))));
        assert!(
            matches!(&v, Verdict::Failed(w) if w.contains("pid 7") && w.contains("timed out")),
            "{v:?}"
        );
    }

    #[test]
    fn readiness_needs_pid_comms_and_an_answer() {
        assert!(ready(&obs(&[7], &[], healthy()), true));
        assert!(
            !ready(&obs(&[7], &[], healthy()), false),
            "comms not configured"
        );
        assert!(!ready(&obs(&[7], &[], Some(Err("refused".into()))), true));
        assert!(!ready(&obs(&[], &[], None), true));
    }

    #[test]
    fn pids_read_as_words() {
        assert_eq!(pids_text(&[7]), "pid 7");
        assert_eq!(pids_text(&[7, 9]), "pids 7, 9");
    }
}
