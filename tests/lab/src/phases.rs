//! Where failover time goes (issue 15): the survivor's own journal after a fault, on its
//! clock, cut into phases: corosync's new membership and quorum, DLM's recovery, GFS2's
//! journal replay, Pacemaker's transition, each agent action (requested, result), and the
//! first good HTTP answer and new file seen by the lab's probe.

use crate::native::op_events;
use crate::scenario::Run;
use std::fmt::Write;

/// The survivor's journal lines the phases come from (`journalctl -o short-unix`).
pub fn journal_command(since: f64) -> String {
    format!(
        "journalctl -o short-unix --no-pager --since @{since:.0} -t corosync -t kernel \
         -t pacemaker-controld -t pacemaker-schedulerd; true"
    )
}

/// One agent action after the fault: requested and finished (node clock), its result.
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    pub resource: String,
    pub op: String,
    pub requested: f64,
    pub finished: Option<f64>,
    pub result: String,
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Phases {
    /// (phase, seconds after the fault), in time order.
    pub marks: Vec<(String, f64)>,
    pub actions: Vec<Action>,
}

/// The first line after `after` containing every one of `needles`: its time.
fn first(lines: &[(f64, &str)], after: f64, needles: &[&str]) -> Option<f64> {
    lines
        .iter()
        .find(|(t, l)| *t >= after && needles.iter().all(|n| l.contains(n)))
        .map(|(t, _)| *t)
}

/// The phases of a fault at `fault` (the survivor's clock), from its journal.
pub fn from_journal(journal: &str, fault: f64) -> Phases {
    let mut lines: Vec<(f64, &str)> = journal
        .lines()
        .filter_map(|l| Some((l.split_whitespace().next()?.parse().ok()?, l)))
        .collect();
    // The journal interleaves sources out of order (the kernel's lines come late).
    lines.sort_by(|a, b| a.0.total_cmp(&b.0));
    let wanted: [(&str, &[&str]); 7] = [
        (
            "corosync: new membership",
            &["A new membership", "Members left"],
        ),
        ("corosync: quorum recomputed", &["[QUORUM] Members["]),
        (
            "fencing: the lost node fenced",
            &[" was terminated (", ": OK"],
        ),
        (
            "DLM: lockspace recovered",
            &["dlm: ", "dlm_recover ", " done:"],
        ),
        (
            "GFS2: dead node's journal replayed",
            &["gfs2: ", "recover generation", " done"],
        ),
        (
            "Pacemaker: transition calculated",
            &["Calculated transition"],
        ),
        ("Pacemaker: first action initiated", &["Initiating "]),
    ];
    let mut phases = Phases::default();
    for (name, needles) in wanted {
        if let Some(t) = first(&lines, fault, needles) {
            phases.marks.push((name.to_owned(), t - fault));
        }
    }
    for e in op_events(journal) {
        if e.at < fault {
            continue;
        }
        // A recurring monitor's failure is how Pacemaker learns of a fault on a live node.
        if e.op == "monitor"
            && !matches!(e.what.as_str(), "requested" | "ok")
            && !phases
                .marks
                .iter()
                .any(|(m, _)| m.starts_with("Pacemaker: monitor"))
        {
            phases.marks.push((
                format!("Pacemaker: monitor of {} failed", e.resource),
                e.at - fault,
            ));
        }
        if matches!(e.op.as_str(), "monitor" | "probe" | "boot") {
            continue;
        }
        if e.what == "requested" {
            phases.actions.push(Action {
                resource: e.resource,
                op: e.op,
                requested: e.at - fault,
                finished: None,
                result: String::new(),
            });
        } else if let Some(a) = phases
            .actions
            .iter_mut()
            .rev()
            .find(|a| a.resource == e.resource && a.op == e.op && a.finished.is_none())
        {
            a.finished = Some(e.at - fault);
            a.result = e.what;
        }
    }
    phases.marks.sort_by(|a, b| a.1.total_cmp(&b.1));
    phases
}

/// One fault's phases, kept for the report and for the other agent set's run to be drawn
/// beside.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    /// What happened, as the check says it ("node1 killed", ...).
    pub fault: String,
    /// Whose journal and clock.
    pub node: String,
    /// The agent set: "native" or "heartbeat".
    pub agents: String,
    pub phases: Phases,
}

/// Reads `node`'s journal since the fault (`at`, the node's clock), cuts it into phases with
/// the probe's marks added, keeps it in the run's timelines and returns it. A journal that
/// cannot be read gives no phases, never a failed check: the phases are reported, not judged.
pub fn record(
    r: &mut Run,
    fault: &str,
    node: &str,
    at: f64,
    probe: (Option<f64>, Option<f64>),
) -> Phases {
    let journal = r.sh(node, &journal_command(at - 2.0)).unwrap_or_default();
    let phases = from_journal(&journal, at).with_probe(probe.0, probe.1);
    r.timelines.push(Timeline {
        fault: fault.to_owned(),
        node: node.to_owned(),
        agents: r.setup.mode.name().to_owned(),
        phases: phases.clone(),
    });
    phases
}

/// Timelines as tab-separated lines (a file per release, profile and agent set under
/// target/lab/timelines/), read back by the other agent set's run.
pub fn to_tsv(timelines: &[Timeline]) -> String {
    let clean = |s: &str| s.replace(['\t', '\n'], " ");
    let mut out = String::new();
    for t in timelines {
        let _ = writeln!(
            out,
            "timeline\t{}\t{}\t{}",
            clean(&t.fault),
            clean(&t.node),
            clean(&t.agents)
        );
        for (name, at) in &t.phases.marks {
            let _ = writeln!(out, "mark\t{}\t{at:.3}", clean(name));
        }
        for a in &t.phases.actions {
            let _ = writeln!(
                out,
                "action\t{}\t{}\t{:.3}\t{}\t{}",
                clean(&a.resource),
                clean(&a.op),
                a.requested,
                a.finished.map_or("-".into(), |f| format!("{f:.3}")),
                clean(&a.result)
            );
        }
    }
    out
}

/// The timelines in `text` (`to_tsv`'s form); a line that does not parse is left out.
pub fn from_tsv(text: &str) -> Vec<Timeline> {
    let mut out: Vec<Timeline> = Vec::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        match (f.as_slice(), out.last_mut()) {
            (["timeline", fault, node, agents], _) => out.push(Timeline {
                fault: (*fault).to_owned(),
                node: (*node).to_owned(),
                agents: (*agents).to_owned(),
                phases: Phases::default(),
            }),
            (["mark", name, at], Some(t)) => {
                if let Ok(at) = at.parse() {
                    t.phases.marks.push(((*name).to_owned(), at));
                }
            }
            (["action", resource, op, requested, finished, result], Some(t)) => {
                if let Ok(requested) = requested.parse() {
                    t.phases.actions.push(Action {
                        resource: (*resource).to_owned(),
                        op: (*op).to_owned(),
                        requested,
                        finished: finished.parse().ok(),
                        result: (*result).to_owned(),
                    });
                }
            }
            _ => {}
        }
    }
    out
}

impl Phases {
    /// Adds the probe's marks (seconds after the fault).
    pub fn with_probe(mut self, first_http: Option<f64>, first_write: Option<f64>) -> Phases {
        if let Some(t) = first_http {
            self.marks.push(("first good HTTP answer".into(), t));
        }
        if let Some(t) = first_write {
            self.marks.push(("first new file on GFS2".into(), t));
        }
        self.marks.sort_by(|a, b| a.1.total_cmp(&b.1));
        self
    }

    /// The time agents spent in actions before `until` (seconds after the fault): their
    /// share of the path to the first good answer. An action still running then counts up to
    /// `until` (IPaddr2's start went on 1.6 s after its address answered).
    pub fn agent_seconds_before(&self, until: f64) -> f64 {
        let spent: f64 = self
            .actions
            .iter()
            .filter(|a| a.requested < until)
            .map(|a| a.finished.unwrap_or(until).min(until) - a.requested)
            .sum();
        // An empty f64 sum is -0.0, which prints as "-0.00".
        spent + 0.0
    }

    pub fn describe(&self) -> String {
        let mut s = String::new();
        for (name, t) in &self.marks {
            let _ = write!(s, "+{t:.1} s {name}; ");
        }
        let acts: Vec<String> = self
            .actions
            .iter()
            .map(|a| match a.finished {
                Some(end) => format!(
                    "{} {} +{:.1}..+{end:.1} s ({:.2} s, {})",
                    a.resource,
                    a.op,
                    a.requested,
                    end - a.requested,
                    a.result
                ),
                None => format!("{} {} +{:.1} s (no result)", a.resource, a.op, a.requested),
            })
            .collect();
        let _ = write!(
            s,
            "agent actions: {}",
            if acts.is_empty() {
                "none".into()
            } else {
                acts.join(", ")
            }
        );
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // node2's journal after node1 was killed (trixie lab, 2026-12-02), -o short-unix; the
    // kernel's lines arrive out of order, as journalctl prints them.
    const JOURNAL: &str = "\
100.268160 node2 kernel: dlm: web: dlm_recover 9722616169030316383 generation 3 done: 12 ms
100.268913 node2 kernel: gfs2: fsid=mycluster:web.0: recover generation 3 jid 1
99.892891 node2 corosync[656]:   [TOTEM ] A new membership (2.d) was formed. Members left: 1
99.912638 node2 corosync[656]:   [QUORUM] Members[1]: 2
101.095760 node2 kernel: gfs2: fsid=mycluster:web.0: recover generation 3 done
104.746837 node2 pacemaker-schedulerd[678]:  notice: Calculated transition 1, saving inputs in /var/lib/pacemaker/pengine/pe-input-0.bz2
105.041536 node2 pacemaker-controld[679]:  notice: Initiating start operation VirtualIP_start_0 locally on node2
105.334000 node2 pacemaker-controld[679]:  notice: Requesting local execution of start operation for VirtualIP on node2
105.963852 node2 pacemaker-controld[679]:  notice: Result of start operation for VirtualIP on node2: OK
106.111552 node2 pacemaker-controld[679]:  notice: Requesting local execution of monitor operation for VirtualIP on node2
106.793241 node2 pacemaker-controld[679]:  notice: Requesting local execution of stop operation for WebSite on node2
107.793241 node2 pacemaker-controld[679]:  notice: Result of stop operation for WebSite on node2: OK
";

    #[test]
    fn the_phases_of_a_node_kill_in_time_order() {
        let p = from_journal(JOURNAL, 99.0).with_probe(Some(9.0), Some(2.5));
        let names: Vec<&str> = p.marks.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "corosync: new membership",
                "corosync: quorum recomputed",
                "DLM: lockspace recovered",
                "GFS2: dead node's journal replayed",
                "first new file on GFS2",
                "Pacemaker: transition calculated",
                "Pacemaker: first action initiated",
                "first good HTTP answer",
            ]
        );
        assert!((p.marks[0].1 - 0.892_891).abs() < 1e-6);
        assert_eq!(
            p.actions.len(),
            2,
            "the monitor is left out: {:?}",
            p.actions
        );
        assert_eq!(p.actions[0].resource, "VirtualIP");
        assert_eq!(p.actions[0].result, "ok");
        assert!((p.agent_seconds_before(9.0) - (0.629_852 + 1.0)).abs() < 1e-6);
        assert!((p.agent_seconds_before(7.0) - 0.629_852).abs() < 1e-6);
        // WebSite's stop (requested +7.793 s) is under way at +8.0: counted up to then.
        assert!((p.agent_seconds_before(8.0) - (0.629_852 + 0.206_759)).abs() < 1e-6);
        assert!((p.agent_seconds_before(6.5) - 0.166).abs() < 1e-6);
        // Nothing before the first request: 0, never "-0.00".
        assert_eq!(format!("{:.2}", p.agent_seconds_before(1.0)), "0.00");
        assert!(
            p.describe()
                .contains("VirtualIP start +6.3..+7.0 s (0.63 s, ok)")
        );
    }

    #[test]
    fn a_failed_monitor_marks_when_pacemaker_learned_of_the_fault() {
        let journal = "\
50.0 node1 pacemaker-controld[679]:  notice: Result of monitor operation for WebSite on node1: not running
51.0 node1 pacemaker-schedulerd[678]:  notice: Calculated transition 7, saving inputs in /var/lib/pacemaker/pengine/pe-input-7.bz2
52.0 node1 pacemaker-controld[679]:  notice: Requesting local execution of stop operation for WebSite on node1
53.0 node1 pacemaker-controld[679]:  notice: Result of stop operation for WebSite on node1: OK
";
        let p = from_journal(journal, 10.0);
        assert_eq!(
            p.marks[0],
            ("Pacemaker: monitor of WebSite failed".into(), 40.0)
        );
        assert_eq!(p.marks[1].0, "Pacemaker: transition calculated");
        assert_eq!(p.actions.len(), 1);
    }

    #[test]
    fn timelines_survive_their_file() {
        let t = Timeline {
            fault: "node1 killed\tby the lab".into(),
            node: "node2".into(),
            agents: "native".into(),
            phases: from_journal(JOURNAL, 99.0).with_probe(Some(9.0), None),
        };
        let back = from_tsv(&to_tsv(&[t.clone(), t.clone()]));
        assert_eq!(back.len(), 2);
        assert_eq!(back[0].fault, "node1 killed by the lab");
        assert_eq!(back[1].phases.marks.len(), t.phases.marks.len());
        assert_eq!(back[1].phases.actions.len(), t.phases.actions.len());
        assert_eq!(back[1].phases.actions[0].resource, "VirtualIP");
        assert!((back[1].phases.marks[0].1 - t.phases.marks[0].1).abs() < 1e-3);
        assert!(from_tsv("mark\tno timeline yet\t1.0\n").is_empty());
    }

    #[test]
    fn nothing_before_the_fault_counts() {
        let p = from_journal(JOURNAL, 200.0);
        assert!(p.marks.is_empty() && p.actions.is_empty());
    }
}
