//! target/lab/report.json: the agents used, the deviations from the tutorial, each step's
//! time and each check's result, what was seen and its duration.

use crate::agents::Chosen;
use crate::phases::Timeline;
use crate::setup::Setup;
use crate::step::StepRecord;
use std::fmt::Write;

/// One check of the scenario.
#[derive(Debug)]
pub struct Check {
    pub name: String,
    pub passed: bool,
    /// Passed without proving anything: not applicable to these agents, or to this profile.
    pub skipped: bool,
    /// Not part of this profile: another check of the profile proves what it would (the
    /// fenced profile's cut link is check 31, not 25). Such a check counts for any agents.
    pub outside_profile: bool,
    pub seen: String,
    pub seconds: f64,
}

/// The whole run.
#[derive(Debug)]
pub struct Report {
    pub setup: Setup,
    pub agents: Vec<Chosen>,
    /// What the guests run (Debian, kernel, Pacemaker, pcs, ...), and what our package
    /// depends on there.
    pub versions: Vec<(String, String)>,
    pub deviations: Vec<String>,
    pub steps: Vec<StepRecord>,
    pub checks: Vec<Check>,
    /// Named measurements in seconds (failover, longest write stall, ...).
    pub figures: Vec<(String, f64)>,
    /// Where each fault's recovery time went, this run's.
    pub timelines: Vec<Timeline>,
    /// The other agent set's timelines of the same release and profile, from its last run
    /// (drawn beside this run's).
    pub other_timelines: Vec<Timeline>,
    pub error: Option<String>,
    pub total_seconds: f64,
}

fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn num(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.1}")
    } else {
        "null".into()
    }
}

/// Seconds to the hundredth: an agent action can take a few milliseconds.
fn num2(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.2}")
    } else {
        "null".into()
    }
}

/// One fault's phases: marks and agent actions in seconds after the fault.
fn timeline_json(t: &Timeline) -> String {
    let marks: Vec<String> = t
        .phases
        .marks
        .iter()
        .map(|(name, at)| format!("{{\"phase\": {}, \"at\": {}}}", quote(name), num2(*at)))
        .collect();
    let actions: Vec<String> = t
        .phases
        .actions
        .iter()
        .map(|a| {
            format!(
                "{{\"resource\": {}, \"op\": {}, \"requested\": {}, \"finished\": {}, \"result\": {}}}",
                quote(&a.resource),
                quote(&a.op),
                num2(a.requested),
                a.finished.map_or("null".into(), num2),
                quote(&a.result)
            )
        })
        .collect();
    format!(
        "    {{\"fault\": {}, \"node\": {}, \"agents\": {}, \"marks\": [{}], \"actions\": [{}]}}",
        quote(&t.fault),
        quote(&t.node),
        quote(&t.agents),
        marks.join(", "),
        actions.join(", ")
    )
}

impl Report {
    pub fn new(setup: Setup) -> Report {
        Report {
            setup,
            agents: Vec::new(),
            versions: Vec::new(),
            deviations: Vec::new(),
            steps: Vec::new(),
            checks: Vec::new(),
            figures: Vec::new(),
            timelines: Vec::new(),
            other_timelines: Vec::new(),
            error: None,
            total_seconds: 0.0,
        }
    }

    /// Whether a check counts as passed: a check that did not apply counts only when the
    /// setup makes it so (the shell agents run the resources it proves).
    pub fn counts(&self, c: &Check) -> bool {
        c.passed && (!c.skipped || c.outside_profile || !self.setup.mode.runs_ours())
    }

    /// "pass", "n/a ", "FAIL" for the summary lines.
    pub fn verdict(&self, c: &Check) -> &'static str {
        match (self.counts(c), c.skipped) {
            (true, true) => "n/a ",
            (true, false) => "pass",
            _ => "FAIL",
        }
    }

    /// Every check ran and counts, nothing failed before them, and nothing was broken on
    /// purpose.
    pub fn passed(&self) -> bool {
        self.error.is_none()
            && self.setup.breaks.is_empty()
            && !self.checks.is_empty()
            && self.checks.iter().all(|c| self.counts(c))
    }

    pub fn to_json(&self) -> String {
        let mut j = String::from("{\n");
        let _ = writeln!(j, "  \"agents_mode\": {},", quote(self.setup.mode.name()));
        let _ = writeln!(j, "  \"release\": {},", quote(self.setup.release.suite()));
        let _ = writeln!(j, "  \"profile\": {},", quote(self.setup.profile.name()));
        let breaks: Vec<String> = self.setup.breaks.iter().map(|b| quote(b.name())).collect();
        let _ = writeln!(j, "  \"broken_on_purpose\": [{}],", breaks.join(", "));
        let _ = writeln!(j, "  \"fault_checks\": {},", self.setup.faults);
        let _ = writeln!(j, "  \"ported_live\": {},", self.setup.port);
        let _ = writeln!(j, "  \"passed\": {},", self.passed());
        let _ = writeln!(j, "  \"total_seconds\": {},", num(self.total_seconds));
        let _ = writeln!(
            j,
            "  \"error\": {},",
            self.error.as_deref().map_or("null".into(), quote)
        );
        let agents: Vec<String> = self
            .agents
            .iter()
            .map(|a| {
                format!(
                    "    {{\"resource\": {}, \"agent\": {}, \"native\": {}, \"why\": {}}}",
                    quote(a.id),
                    quote(&a.agent),
                    a.native,
                    quote(&a.why)
                )
            })
            .collect();
        let _ = writeln!(j, "  \"agents\": [\n{}\n  ],", agents.join(",\n"));
        let versions: Vec<String> = self
            .versions
            .iter()
            .map(|(k, v)| format!("    {}: {}", quote(k), quote(v)))
            .collect();
        let _ = writeln!(j, "  \"guest\": {{\n{}\n  }},", versions.join(",\n"));
        let devs: Vec<String> = self
            .deviations
            .iter()
            .map(|d| format!("    {}", quote(d)))
            .collect();
        let _ = writeln!(j, "  \"deviations\": [\n{}\n  ],", devs.join(",\n"));
        let figs: Vec<String> = self
            .figures
            .iter()
            .map(|(k, v)| format!("    {}: {}", quote(k), num(*v)))
            .collect();
        let _ = writeln!(j, "  \"figures\": {{\n{}\n  }},", figs.join(",\n"));
        let timelines: Vec<String> = self.timelines.iter().map(timeline_json).collect();
        let _ = writeln!(j, "  \"timelines\": [\n{}\n  ],", timelines.join(",\n"));
        let steps: Vec<String> = self
            .steps
            .iter()
            .map(|s| {
                format!(
                    "    {{\"name\": {}, \"started\": {}, \"seconds\": {}, \"ok\": {}}}",
                    quote(&s.name),
                    num(s.started),
                    num(s.seconds),
                    s.ok
                )
            })
            .collect();
        let _ = writeln!(j, "  \"steps\": [\n{}\n  ],", steps.join(",\n"));
        let checks: Vec<String> = self
            .checks
            .iter()
            .map(|c| {
                format!(
                    "    {{\"name\": {}, \"passed\": {}, \"not_applicable\": {}, \"seconds\": {}, \"seen\": {}}}",
                    quote(&c.name),
                    self.counts(c),
                    c.skipped,
                    num(c.seconds),
                    quote(&c.seen)
                )
            })
            .collect();
        let _ = writeln!(j, "  \"checks\": [\n{}\n  ]", checks.join(",\n"));
        j.push_str("}\n");
        j
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::Mode;
    use crate::breaks::Break;
    use crate::setup::{Profile, Release};

    fn report(mode: Mode, skipped: bool) -> Report {
        let mut r = Report::new(Setup {
            mode,
            release: Release::Trixie,
            profile: Profile::Tutorial,
            breaks: Vec::new(),
            faults: false,
            port: false,
            deb: None,
        });
        for (name, skipped) in [("1", false), ("7", skipped)] {
            r.checks.push(Check {
                name: name.into(),
                passed: true,
                skipped,
                outside_profile: false,
                seen: String::new(),
                seconds: 1.0,
            });
        }
        r
    }

    #[test]
    fn not_applicable_passes_only_where_the_mode_makes_it_so() {
        assert!(report(Mode::Heartbeat, true).passed());
        assert!(report(Mode::Native, false).passed());
        let r = report(Mode::Native, true);
        assert!(
            !r.passed(),
            "a not-applicable check on our agents fails the run"
        );
        assert_eq!(r.verdict(&r.checks[1]), "FAIL");
        assert!(r.to_json().contains("\"name\": \"7\", \"passed\": false"));
    }

    #[test]
    fn a_check_outside_the_profile_counts_for_our_agents_too() {
        let mut r = report(Mode::Native, true);
        r.checks[1].outside_profile = true;
        assert!(
            r.passed(),
            "check 25 in the fenced profile must not fail the run"
        );
        assert_eq!(r.verdict(&r.checks[1]), "n/a ");
        let mut r = report(Mode::Native, true);
        r.checks[1].outside_profile = true;
        r.checks[1].passed = false;
        assert!(
            !r.passed(),
            "a failed check outside the profile still fails"
        );
    }

    #[test]
    fn a_break_never_passes() {
        let mut r = report(Mode::Native, false);
        r.setup.breaks.push(Break::KeepApache);
        assert!(!r.passed());
        assert!(
            r.to_json()
                .contains("\"broken_on_purpose\": [\"keep-apache\"]")
        );
    }

    #[test]
    fn an_error_or_no_checks_never_passes() {
        let mut r = report(Mode::Native, false);
        r.error = Some("up failed".into());
        assert!(!r.passed());
        let mut r = report(Mode::Native, false);
        r.checks.clear();
        assert!(!r.passed());
    }
}
