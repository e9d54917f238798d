//! target/lab/report.json: the agents used, the deviations from the tutorial, each step's
//! time and each check's result, what was seen and its duration.

use crate::agents::Chosen;
use crate::step::StepRecord;
use std::fmt::Write;

/// One check of the scenario.
#[derive(Debug)]
pub struct Check {
    pub name: String,
    pub passed: bool,
    /// Passed without proving anything: not applicable to these agents.
    pub skipped: bool,
    pub seen: String,
    pub seconds: f64,
}

/// The whole run.
#[derive(Debug, Default)]
pub struct Report {
    pub mode: String,
    pub agents: Vec<Chosen>,
    pub deviations: Vec<String>,
    pub steps: Vec<StepRecord>,
    pub checks: Vec<Check>,
    /// Named measurements in seconds (failover, longest write stall, ...).
    pub figures: Vec<(String, f64)>,
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

impl Report {
    pub fn passed(&self) -> bool {
        self.error.is_none() && !self.checks.is_empty() && self.checks.iter().all(|c| c.passed)
    }

    pub fn to_json(&self) -> String {
        let mut j = String::from("{\n");
        let _ = writeln!(j, "  \"agents_mode\": {},", quote(&self.mode));
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
        let steps: Vec<String> = self
            .steps
            .iter()
            .map(|s| {
                format!(
                    "    {{\"name\": {}, \"seconds\": {}, \"ok\": {}}}",
                    quote(&s.name),
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
                    c.passed,
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
