//! The promises of the agent issues, checked against one run. The list is fixed here, not
//! derived from what ran: a promise whose step was not measured (renamed, left out by
//! `--only`, a missing process count) is reported as not measured, and `--strict` fails on
//! it as on a broken promise.
//!
//! Speed promises are stated on the median. A shared 2-core CI machine adds waiting time to
//! every sample, and to our 2 ms actions far more in proportion than to the anchors' 40 ms, so
//! a median can land under the line while nothing changed in the code. The CI gate is
//! therefore the same number on the p10 (nearest rank) of each side: load only ever adds
//! time, and the fastest tenth of the samples is what a change in the code moves and what a
//! busy machine cannot. The one absolute time (a stopped server's monitor under 5 ms) is gated
//! the same way, against five floors of the same run when the machine is slower than that.
//! The table shows both; a promise missed at the median but kept at the gate is shown as
//! missed and does not fail `--strict`. The process counts, the memory peak and apache's stop
//! lag are not load-sensitive: their gate is the promise.

use crate::measure::Sample;
use crate::report::{Report, fmt_ms, fmt_ratio};
use crate::runner::StepResult;
use crate::stats::{Summary, summarize};

/// How one promise came out of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Measured and kept.
    Holds,
    /// Missed at the median, kept at the CI gate (the p10).
    MissedAboveGate,
    /// Missed even at the gate.
    Broken,
    /// Not measured in this run; the reason.
    NotMeasured(String),
    /// Proven in the two-node lab, never on this host; where.
    Lab(&'static str),
}

/// One promise from an agent issue and what this run says about it.
pub struct Promise {
    pub what: String,
    pub measured: String,
    /// What the CI gate measured ("" when the gate is the promise itself).
    pub gate: String,
    pub verdict: Verdict,
}

impl Promise {
    /// True when `--strict` accepts it.
    pub fn passes_strict(&self) -> bool {
        matches!(
            self.verdict,
            Verdict::Holds | Verdict::MissedAboveGate | Verdict::Lab(_)
        )
    }

    pub fn verdict_text(&self) -> String {
        match &self.verdict {
            Verdict::Holds => "yes".into(),
            Verdict::MissedAboveGate => "**NO** at the median; the CI gate holds".into(),
            Verdict::Broken => "**NO**".into(),
            Verdict::NotMeasured(why) => format!("**not measured**: {why}"),
            Verdict::Lab(r#where) => format!("in the lab: {where}"),
        }
    }

    fn not_measured(what: String, why: String) -> Promise {
        Promise {
            what,
            measured: "–".into(),
            gate: String::new(),
            verdict: Verdict::NotMeasured(why),
        }
    }
}

/// Each agent kind, our binary, and the steps whose process count must be 1.
const NO_FORK: [(&str, &str, &[&str]); 5] = [
    (
        "IPaddr2",
        "ipaddr2",
        &["meta-data", "validate-all", "probe", "monitor"],
    ),
    (
        "apache",
        "apache-clone",
        &[
            "meta-data",
            "validate-all",
            "probe",
            "monitor",
            "monitor (stopped)",
        ],
    ),
    (
        "Filesystem",
        "gfs2-fs",
        &["meta-data", "validate-all", "probe", "monitor"],
    ),
    (
        "controld",
        "dlm-controld-wrapper",
        &["meta-data", "validate-all", "probe"],
    ),
    (
        "drbd",
        "drbd-dualprimary",
        &["meta-data", "validate-all", "probe"],
    ),
];

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn wall(samples: &[Sample]) -> Option<Summary> {
    summarize(&samples.iter().map(|s| ms(s.wall)).collect::<Vec<_>>())
}

/// A step of `kind`, or why it is missing.
fn step<'a>(report: &'a Report, kind: &str, label: &str) -> Result<&'a StepResult, String> {
    let agent = report
        .agents
        .iter()
        .find(|a| a.kind == kind)
        .ok_or_else(|| format!("{kind} was not benchmarked in this run"))?;
    agent
        .steps
        .iter()
        .find(|s| s.label == label)
        .ok_or_else(|| format!("no \"{label}\" step of {kind} in this run"))
}

/// Wall-time summaries of both sides of a step, or why there are none.
fn both_walls(report: &Report, kind: &str, label: &str) -> Result<[Summary; 2], String> {
    let s = step(report, kind, label)?;
    let side =
        |i: usize| wall(&s.samples[i]).ok_or_else(|| format!("no samples of {kind} {label}"));
    Ok([side(0)?, side(1)?])
}

/// anchor/ours ≥ `at_least` on the median (the promise), on the p10 (the CI gate).
fn ratio(report: &Report, kind: &str, label: &str, at_least: f64, source: &str) -> Promise {
    let what = format!("{kind} {label}: anchor/ours ≥ {at_least}× ({source})");
    let [ours, anchor] = match both_walls(report, kind, label) {
        Ok(w) => w,
        Err(why) => return Promise::not_measured(what, why),
    };
    let median = anchor.median / ours.median;
    let p10 = anchor.p10 / ours.p10;
    Promise {
        what,
        measured: format!("{} (median)", fmt_ratio(median)),
        gate: format!("{} (p10)", fmt_ratio(p10)),
        verdict: if median >= at_least {
            Verdict::Holds
        } else if p10 >= at_least {
            Verdict::MissedAboveGate
        } else {
            Verdict::Broken
        },
    }
}

fn peak_memory(report: &Report) -> Promise {
    let what = "ipaddr2 peak memory < 4 MiB (largest over its actions; issue 3)".to_owned();
    let Some(a) = report.agents.iter().find(|a| a.kind == "IPaddr2") else {
        return Promise::not_measured(what, "IPaddr2 was not benchmarked in this run".into());
    };
    let Some(peak) = a
        .steps
        .iter()
        .flat_map(|s| s.samples[0].iter().map(|x| x.maxrss_kib))
        .max()
    else {
        return Promise::not_measured(what, "no samples of ipaddr2".into());
    };
    Promise {
        what,
        measured: format!("{:.1} MiB", peak as f64 / 1024.0),
        gate: String::new(),
        verdict: if peak < 4096 {
            Verdict::Holds
        } else {
            Verdict::Broken
        },
    }
}

/// An absolute time cannot be compared with an anchor, so its gate is the promise scaled to
/// the machine as this run found it: the p10 of ours below the larger of 5 ms and five
/// floors (one exec of an empty static binary, p10, measured in the same run; about 1 ms on
/// a quiet machine, where five floors are the promise itself).
fn stopped_monitor(report: &Report) -> Promise {
    const PROMISE_MS: f64 = 5.0;
    let what = "apache-clone monitor of a stopped server < 5 ms (median; issue 4)".to_owned();
    let [ours, _] = match both_walls(report, "apache", "monitor (stopped)") {
        Ok(w) => w,
        Err(why) => return Promise::not_measured(what, why),
    };
    let Some(floor) = wall(&report.floor.samples) else {
        return Promise::not_measured(what, "the floor was not measured".into());
    };
    let gate_ms = PROMISE_MS.max(5.0 * floor.p10);
    Promise {
        what,
        measured: format!("{} ms (median)", fmt_ms(ours.median)),
        gate: format!(
            "{} ms (p10) < {} ms (5 ms or 5 floors)",
            fmt_ms(ours.p10),
            fmt_ms(gate_ms)
        ),
        verdict: if ours.median < PROMISE_MS {
            Verdict::Holds
        } else if ours.p10 < gate_ms {
            Verdict::MissedAboveGate
        } else {
            Verdict::Broken
        },
    }
}

/// Signed: a stop that returns before httpd has exited is a broken promise (it reported
/// stopped while httpd still ran), never a lag of 0 ms. No gate: it is not a speed figure.
fn stop_lag(report: &Report) -> Promise {
    let what = "apache-clone stop returns after httpd's exit, within 50 ms (every run; issue 4)"
        .to_owned();
    let s = match step(report, "apache", "stop") {
        Ok(s) => s,
        Err(why) => return Promise::not_measured(what, why),
    };
    let lags = &s.httpd_lag_ms[0];
    let Some(lag) = summarize(lags) else {
        return Promise::not_measured(what, "no httpd exit was watched at stop".into());
    };
    if lags.len() != s.samples[0].len() {
        return Promise::not_measured(
            what,
            format!(
                "{} stops timed but {} httpd exits watched",
                s.samples[0].len(),
                lags.len()
            ),
        );
    }
    let early = lags.iter().filter(|l| **l < 0.0).count();
    Promise {
        what,
        measured: if early > 0 {
            format!(
                "{early} of {} stops returned before httpd exited (by up to {} ms)",
                lags.len(),
                fmt_ms(-lag.min)
            )
        } else {
            format!(
                "median {} ms, max {} ms",
                fmt_ms(lag.median),
                fmt_ms(lag.max)
            )
        },
        gate: String::new(),
        verdict: if early == 0 && lag.max <= 50.0 {
            Verdict::Holds
        } else {
            Verdict::Broken
        },
    }
}

/// Every listed step measured once under strace, one process each. A missing count is not
/// "forks nothing".
fn forks_nothing(report: &Report, kind: &str, ours: &str, labels: &[&str]) -> Promise {
    let what = format!("{ours} forks nothing in {}", labels.join(", "));
    let mut forking = Vec::new();
    let mut missing = Vec::new();
    for label in labels {
        match step(report, kind, label) {
            Err(why) => missing.push(why),
            Ok(s) => match s.census[0] {
                None => missing.push(format!("no process count of {kind} {label}")),
                Some(c) if c.processes != 1 => {
                    forking.push(format!("{label}: {} processes", c.processes));
                }
                Some(_) => {}
            },
        }
    }
    if !missing.is_empty() {
        missing.dedup();
        return Promise::not_measured(what, missing.join("; "));
    }
    Promise {
        what,
        measured: if forking.is_empty() {
            "1 process each".into()
        } else {
            forking.join(", ")
        },
        gate: String::new(),
        verdict: if forking.is_empty() {
            Verdict::Holds
        } else {
            Verdict::Broken
        },
    }
}

/// Every promise, in a fixed order, whatever this run measured.
pub fn check(report: &Report) -> Vec<Promise> {
    let mut out = vec![
        ratio(report, "IPaddr2", "monitor", 15.0, "issue 3"),
        ratio(report, "IPaddr2", "start", 10.0, "issue 3"),
        ratio(report, "IPaddr2", "stop", 10.0, "issue 3"),
        ratio(report, "apache", "monitor", 10.0, "issue 4"),
        ratio(report, "Filesystem", "monitor", 15.0, "issue 5"),
        ratio(report, "Filesystem", "stop", 10.0, "issue 5"),
        // Issue 7 names no number for the DLM agent. On this host only its probe (no
        // dlm_controld running, 7 from both) compares like with like: one exec against the
        // anchor's four processes, held to 2x; the running monitor is measured in the lab.
        ratio(report, "controld", "probe", 2.0, "this bench"),
        Promise {
            what: "controld monitor of a running dlm_controld: anchor/ours, measured".into(),
            measured: "–".into(),
            gate: String::new(),
            verdict: Verdict::Lab("check 15 (no DLM in this host's kernel)"),
        },
        Promise {
            what: "drbd monitor: anchor/ours ≥ 10× (issue 8)".into(),
            measured: "–".into(),
            gate: String::new(),
            verdict: Verdict::Lab("check 15 (no DRBD in this host's kernel)"),
        },
        peak_memory(report),
        stopped_monitor(report),
        stop_lag(report),
    ];
    for (kind, ours, labels) in NO_FORK {
        out.push(forks_nothing(report, kind, ours, labels));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::Machine;
    use crate::measure::Census;
    use crate::report::{AgentResult, Floor};
    use std::time::{Duration, Instant};

    fn sample(ms: f64) -> Sample {
        Sample {
            wall: Duration::from_secs_f64(ms / 1e3),
            cpu: Duration::from_secs_f64(ms / 2e3),
            maxrss_kib: 3000,
            ended: Instant::now(),
        }
    }

    fn samples(ms: &[f64]) -> Vec<Sample> {
        ms.iter().map(|m| sample(*m)).collect()
    }

    const ONE: Option<Census> = Some(Census {
        processes: 1,
        execs: 1,
    });

    fn step(label: &'static str, ours: &[f64], anchor: &[f64]) -> StepResult {
        StepResult {
            label,
            samples: [samples(ours), samples(anchor)],
            census: [ONE, ONE],
            httpd_lag_ms: [Vec::new(), Vec::new()],
        }
    }

    fn agent(kind: &'static str, ours: &'static str, steps: Vec<StepResult>) -> AgentResult {
        AgentResult {
            kind,
            ours,
            steps,
            intervals: Vec::new(),
            scale_step: "monitor",
            notes: Vec::new(),
        }
    }

    fn lifecycle(fast: f64, slow: f64) -> Vec<StepResult> {
        [
            "meta-data",
            "validate-all",
            "probe",
            "start",
            "monitor",
            "stop",
        ]
        .into_iter()
        .map(|l| step(l, &[fast; 4], &[slow; 4]))
        .collect()
    }

    /// A run where every promise holds.
    fn good() -> Report {
        let mut apache = lifecycle(2.0, 40.0);
        apache.push(step("monitor (stopped)", &[3.0; 4], &[5000.0; 4]));
        for s in &mut apache {
            if s.label == "stop" {
                s.httpd_lag_ms[0] = vec![5.0; 4];
            }
        }
        let probe_only = |fast: f64, slow: f64| {
            ["meta-data", "validate-all", "probe"]
                .into_iter()
                .map(|l| step(l, &[fast; 4], &[slow; 4]))
                .collect()
        };
        Report {
            machine: Machine {
                date: String::new(),
                nproc: 2,
                model: String::new(),
                kernel: String::new(),
                loadavg: String::new(),
                git: String::new(),
            },
            runs: 4,
            monitors: 1,
            quick: true,
            floor: Floor {
                what: String::new(),
                samples: samples(&[1.0]),
                census: Census {
                    processes: 1,
                    execs: 1,
                },
            },
            shell_floor: Floor {
                what: String::new(),
                samples: samples(&[6.0]),
                census: Census {
                    processes: 2,
                    execs: 1,
                },
            },
            agents: vec![
                agent("IPaddr2", "ipaddr2", lifecycle(1.5, 45.0)),
                agent("apache", "apache-clone", apache),
                agent("Filesystem", "gfs2-fs", lifecycle(2.0, 40.0)),
                agent("controld", "dlm-controld-wrapper", probe_only(2.0, 7.0)),
                agent("drbd", "drbd-dualprimary", probe_only(1.5, 40.0)),
            ],
        }
    }

    fn find<'a>(p: &'a [Promise], starts: &str) -> &'a Promise {
        p.iter()
            .find(|p| p.what.starts_with(starts))
            .unwrap_or_else(|| panic!("no promise {starts}"))
    }

    #[test]
    fn a_good_run_passes() {
        let p = check(&good());
        for x in &p {
            assert!(x.passes_strict(), "{}: {:?}", x.what, x.verdict);
        }
        assert!(p.iter().any(|x| matches!(x.verdict, Verdict::Lab(_))));
    }

    #[test]
    fn a_step_left_out_or_renamed_is_not_measured_and_fails() {
        // --only apache: every other kind is missing.
        let mut r = good();
        r.agents.retain(|a| a.kind == "apache");
        let p = check(&r);
        let ip = find(&p, "IPaddr2 monitor");
        assert!(
            matches!(ip.verdict, Verdict::NotMeasured(_)),
            "{:?}",
            ip.verdict
        );
        assert!(!ip.passes_strict());
        assert!(!find(&p, "gfs2-fs forks nothing").passes_strict());
        // A renamed step.
        let mut r = good();
        r.agents[1].steps[4].label = "monitor (running)";
        let p = check(&r);
        assert!(!find(&p, "apache monitor").passes_strict());
        assert!(!find(&p, "apache-clone forks nothing").passes_strict());
    }

    #[test]
    fn a_missing_process_count_is_not_forks_nothing() {
        let mut r = good();
        r.agents[0].steps[2].census[0] = None;
        let p = check(&r);
        let f = find(&p, "ipaddr2 forks nothing");
        assert!(
            matches!(&f.verdict, Verdict::NotMeasured(w) if w.contains("probe")),
            "{:?}",
            f.verdict
        );
        assert!(!f.passes_strict());
        let mut r = good();
        r.agents[0].steps[4].census[0] = Some(Census {
            processes: 2,
            execs: 2,
        });
        assert_eq!(
            find(&check(&r), "ipaddr2 forks nothing").verdict,
            Verdict::Broken
        );
    }

    #[test]
    fn a_stop_that_returns_before_httpd_exits_is_broken() {
        let mut r = good();
        r.agents[1].steps[5].httpd_lag_ms[0] = vec![5.0, 4.0, -0.5, 6.0];
        let p = check(&r);
        let lag = find(&p, "apache-clone stop returns");
        assert_eq!(lag.verdict, Verdict::Broken, "{}", lag.measured);
        assert!(
            lag.measured.contains("1 of 4 stops returned before"),
            "{}",
            lag.measured
        );
        // And an unwatched stop is not a kept promise.
        r.agents[1].steps[5].httpd_lag_ms[0].clear();
        assert!(!find(&check(&r), "apache-clone stop returns").passes_strict());
    }

    #[test]
    fn the_gate_is_the_promise_on_the_p10() {
        // Loaded machine: ours has two quiet samples of 2 ms among slow ones; the median
        // ratio misses 10x, the p10 ratio keeps it.
        let mut r = good();
        let monitor = &mut r.agents[1].steps[4];
        monitor.samples[0] = samples(&[2.0, 2.0, 6.0, 6.0, 6.0, 6.0, 6.0, 6.0, 6.0, 6.0]);
        monitor.samples[1] = samples(&[40.0; 10]);
        assert_eq!(
            find(&check(&r), "apache monitor").verdict,
            Verdict::MissedAboveGate
        );
        // A real regression moves every sample: broken, and --strict fails.
        r.agents[1].steps[4].samples[0] = samples(&[6.0; 10]);
        let p = check(&r);
        let m = find(&p, "apache monitor");
        assert_eq!(m.verdict, Verdict::Broken);
        assert!(!m.passes_strict());
    }

    #[test]
    fn the_stopped_monitor_gate_scales_with_the_floor_never_below_the_promise() {
        let mut r = good();
        let stopped = |r: &mut Report, ms: &[f64]| {
            r.agents[1].steps[6].samples[0] = samples(ms);
            find(&check(r), "apache-clone monitor of a stopped")
                .verdict
                .clone()
        };
        // Quiet machine (floor 1 ms): the gate is the promise, 5 ms.
        assert_eq!(stopped(&mut r, &[4.0; 4]), Verdict::Holds);
        assert_eq!(stopped(&mut r, &[6.0; 4]), Verdict::Broken);
        // Loaded: the floor itself takes 2 ms, five floors are 10 ms.
        r.floor.samples = samples(&[2.0; 20]);
        assert_eq!(stopped(&mut r, &[8.0; 4]), Verdict::MissedAboveGate);
        assert_eq!(stopped(&mut r, &[11.0; 4]), Verdict::Broken);
        // A fast machine (floor 0.5 ms) does not make the gate stricter than 5 ms.
        r.floor.samples = samples(&[0.5; 20]);
        assert_eq!(stopped(&mut r, &[4.5; 4]), Verdict::Holds);
    }
}
