//! Where each resource stands, read from the CIB's status section (`cibadmin --query --scope
//! status`): the operation history the controller records for every resource on the node.
//! Polling this is far cheaper than `crm_mon`, which runs the scheduler over the whole CIB on
//! every call (100 resources on a loaded 2-core machine: most of a CPU at a 4 Hz poll), and it
//! says the same: Pacemaker keeps a resource's latest non-recurring operation as
//! `<id>_last_0` and an unexpected result as `<id>_last_failure_0`.

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// No operation recorded yet (not even the probe).
    Unknown,
    /// An operation is in flight (recorded with op-status -1).
    Pending,
    /// The latest operation was a start, or a probe that found it running, and succeeded.
    Started,
    /// The latest operation was a stop that succeeded, or a probe that found it not running.
    Stopped,
    /// An unexpected result: `operation rc N: exit reason`.
    Failed(String),
}

/// The state of every resource that has history in `status_xml`, by resource id.
pub fn states(status_xml: &str) -> Result<BTreeMap<String, State>, String> {
    let doc = roxmltree::Document::parse(status_xml).map_err(|e| format!("CIB status: {e}"))?;
    let mut out = BTreeMap::new();
    for rsc in doc.descendants().filter(|n| n.has_tag_name("lrm_resource")) {
        let Some(id) = rsc.attribute("id") else {
            continue;
        };
        let op = |suffix: &str| {
            let want = format!("{id}_{suffix}");
            rsc.children()
                .find(|n| n.has_tag_name("lrm_rsc_op") && n.attribute("id") == Some(&want))
        };
        let state = if let Some(failure) = op("last_failure_0") {
            State::Failed(describe(failure))
        } else if let Some(last) = op("last_0") {
            state_of(last)
        } else {
            State::Unknown
        };
        out.insert(id.to_owned(), state);
    }
    Ok(out)
}

fn describe(op: roxmltree::Node<'_, '_>) -> String {
    format!(
        "{} rc {} (op-status {}): {}",
        op.attribute("operation_key").unwrap_or("?"),
        op.attribute("rc-code").unwrap_or("?"),
        op.attribute("op-status").unwrap_or("?"),
        op.attribute("exit-reason").unwrap_or("")
    )
}

fn state_of(op: roxmltree::Node<'_, '_>) -> State {
    match op.attribute("op-status") {
        Some("-1") => return State::Pending,
        Some("0") => {}
        _ => return State::Failed(describe(op)),
    }
    match (op.attribute("operation"), op.attribute("rc-code")) {
        (Some("start" | "monitor"), Some("0")) => State::Started,
        (Some("stop"), Some("0")) | (Some("monitor"), Some("7")) => State::Stopped,
        _ => State::Failed(describe(op)),
    }
}

/// How many of `ids` are in `want`, and the first failure among them (`id: what`).
pub fn count(
    states: &BTreeMap<String, State>,
    ids: &[String],
    want: &State,
) -> (usize, Option<String>) {
    let mut n = 0;
    let mut failure = None;
    for id in ids {
        match states.get(id) {
            Some(s) if s == want => n += 1,
            Some(State::Failed(what)) if failure.is_none() => {
                failure = Some(format!("{id}: {what}"));
            }
            _ => {}
        }
    }
    (n, failure)
}

/// How long the executor took (`exec-time`, ms: from fork to the agent's exit) for the latest
/// non-recurring operation of each of `ids`, where that operation is `operation` and succeeded.
pub fn exec_times(status_xml: &str, ids: &[String], operation: &str) -> Result<Vec<u64>, String> {
    let doc = roxmltree::Document::parse(status_xml).map_err(|e| format!("CIB status: {e}"))?;
    let mut times = Vec::new();
    for rsc in doc.descendants().filter(|n| n.has_tag_name("lrm_resource")) {
        let Some(id) = rsc.attribute("id").filter(|id| ids.iter().any(|i| i == id)) else {
            continue;
        };
        let last = format!("{id}_last_0");
        let time = rsc
            .children()
            .find(|n| n.has_tag_name("lrm_rsc_op") && n.attribute("id") == Some(&last))
            .filter(|op| {
                op.attribute("operation") == Some(operation)
                    && op.attribute("op-status") == Some("0")
                    && op.attribute("rc-code") == Some("0")
            })
            .and_then(|op| op.attribute("exec-time")?.parse::<u64>().ok());
        times.extend(time);
    }
    Ok(times)
}

/// The resources of `ids` that have a recurring monitor recorded (it ran at least once).
pub fn monitored(status_xml: &str, ids: &[String], interval_ms: u32) -> Result<usize, String> {
    let doc = roxmltree::Document::parse(status_xml).map_err(|e| format!("CIB status: {e}"))?;
    let wanted: Vec<String> = ids
        .iter()
        .map(|id| format!("{id}_monitor_{interval_ms}"))
        .collect();
    Ok(doc
        .descendants()
        .filter(|n| n.has_tag_name("lrm_rsc_op"))
        .filter(|n| n.attribute("op-status") == Some("0") && n.attribute("rc-code") == Some("0"))
        .filter(|n| {
            n.attribute("id")
                .is_some_and(|i| wanted.iter().any(|w| w == i))
        })
        .count())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write as _;

    fn op(id: &str, suffix: &str, operation: &str, rc: &str, status: &str) -> String {
        format!(
            r#"<lrm_rsc_op id="{id}_{suffix}" operation_key="{id}_{operation}_0" operation="{operation}" call-id="7" rc-code="{rc}" op-status="{status}" interval="0" exit-reason=""/>"#
        )
    }

    fn status(resources: &[(&str, Vec<String>)]) -> String {
        let body: String = resources.iter().fold(String::new(), |mut body, (id, ops)| {
                let _ = write!(body,
                    r#"<lrm_resource id="{id}" type="IPaddr2" class="ocf" provider="heartbeat">{}</lrm_resource>"#,
                    ops.concat()
                );
                body
            });
        format!(
            r#"<status><node_state id="1" uname="n1" in_ccm="true" crmd="online"><lrm id="1"><lrm_resources>{body}</lrm_resources></lrm></node_state></status>"#
        )
    }

    #[test]
    fn the_latest_operation_decides_the_state() {
        let xml = status(&[
            ("started", vec![op("started", "last_0", "start", "0", "0")]),
            (
                "probed-running",
                vec![op("probed-running", "last_0", "monitor", "0", "0")],
            ),
            (
                "probed-stopped",
                vec![op("probed-stopped", "last_0", "monitor", "7", "0")],
            ),
            ("stopped", vec![op("stopped", "last_0", "stop", "0", "0")]),
            (
                "starting",
                vec![op("starting", "last_0", "start", "193", "-1")],
            ),
            ("no-history", vec![]),
        ]);
        let s = states(&xml).unwrap();
        assert_eq!(s["started"], State::Started);
        assert_eq!(s["probed-running"], State::Started);
        assert_eq!(s["probed-stopped"], State::Stopped);
        assert_eq!(s["stopped"], State::Stopped);
        assert_eq!(s["starting"], State::Pending);
        assert_eq!(s["no-history"], State::Unknown);
        assert!(!s.contains_key("absent"));
    }

    #[test]
    fn a_recorded_failure_wins_over_a_later_good_operation() {
        let mut failure = op("vip", "last_failure_0", "start", "1", "0");
        failure = failure.replace(r#"exit-reason="""#, r#"exit-reason="no such interface""#);
        let xml = status(&[("vip", vec![op("vip", "last_0", "stop", "0", "0"), failure])]);
        assert_eq!(
            states(&xml).unwrap()["vip"],
            State::Failed("vip_start_0 rc 1 (op-status 0): no such interface".into())
        );
        // A timed-out operation (op-status 2) is a failure too, even before its record.
        let xml = status(&[("t", vec![op("t", "last_0", "start", "1", "2")])]);
        assert!(matches!(states(&xml).unwrap()["t"], State::Failed(_)));
        // So is a stop that did not answer 0.
        let xml = status(&[("s", vec![op("s", "last_0", "stop", "1", "0")])]);
        assert!(matches!(states(&xml).unwrap()["s"], State::Failed(_)));
    }

    #[test]
    fn counts_only_the_resources_asked_for() {
        let xml = status(&[
            ("a1", vec![op("a1", "last_0", "start", "0", "0")]),
            ("a2", vec![op("a2", "last_0", "start", "1", "0")]),
            ("b1", vec![op("b1", "last_0", "start", "0", "0")]),
        ]);
        let s = states(&xml).unwrap();
        let ids = ["a1".to_owned(), "a2".to_owned(), "a3".to_owned()];
        let (n, failure) = count(&s, &ids, &State::Started);
        assert_eq!(n, 1);
        assert_eq!(
            failure.as_deref(),
            Some("a2: a2_start_0 rc 1 (op-status 0): ")
        );
    }

    #[test]
    fn counts_recurring_monitors_that_ran() {
        let mon = |id: &str, rc: &str| {
            format!(
                r#"<lrm_rsc_op id="{id}_monitor_10000" operation="monitor" interval="10000" rc-code="{rc}" op-status="0"/>"#
            )
        };
        let xml = status(&[
            (
                "a1",
                vec![op("a1", "last_0", "start", "0", "0"), mon("a1", "0")],
            ),
            ("a2", vec![op("a2", "last_0", "start", "0", "0")]),
            (
                "a3",
                vec![op("a3", "last_0", "start", "0", "0"), mon("a3", "7")],
            ),
        ]);
        let ids: Vec<String> = ["a1", "a2", "a3"].map(String::from).into();
        assert_eq!(monitored(&xml, &ids, 10_000), Ok(1));
        assert_eq!(monitored(&xml, &ids, 20_000), Ok(0));
    }

    #[test]
    fn exec_times_of_the_operation_asked_for_that_succeeded() {
        let timed = |id: &str, operation: &str, rc: &str, ms: u32| {
            op(id, "last_0", operation, rc, "0").replace(
                r#"interval="0""#,
                &format!(r#"interval="0" exec-time="{ms}""#),
            )
        };
        let xml = status(&[
            ("a1", vec![timed("a1", "start", "0", 13)]),
            ("a2", vec![timed("a2", "start", "0", 74)]),
            ("a3", vec![timed("a3", "stop", "0", 11)]),
            ("a4", vec![timed("a4", "start", "1", 900)]),
            ("b1", vec![timed("b1", "start", "0", 500)]),
        ]);
        let ids: Vec<String> = ["a1", "a2", "a3", "a4"].map(String::from).into();
        let mut starts = exec_times(&xml, &ids, "start").unwrap();
        starts.sort_unstable();
        assert_eq!(starts, [13, 74]);
        assert_eq!(exec_times(&xml, &ids, "stop").unwrap(), [11]);
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(states("<status>").is_err());
    }
}
