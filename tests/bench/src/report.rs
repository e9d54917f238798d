//! The results as a Markdown report (the table the README carries) and as JSON, with the
//! scale figure and the check of every ratio the agent issues promise.

use crate::json::Json;
use crate::machine::Machine;
use crate::measure::{Census, Sample};
use crate::promises::{self, Promise};
use crate::runner::StepResult;
use crate::stats::{Summary, summarize};
use std::fmt::Write as _;

pub struct AgentResult {
    pub kind: &'static str,
    pub ours: &'static str,
    pub steps: Vec<StepResult>,
    pub intervals: Vec<(&'static str, u32)>,
    pub scale_step: &'static str,
    pub notes: Vec<String>,
}

pub struct Floor {
    pub what: String,
    pub samples: Vec<Sample>,
    pub census: Census,
}

pub struct Report {
    pub machine: Machine,
    pub runs: usize,
    pub monitors: usize,
    pub quick: bool,
    pub floor: Floor,
    pub shell_floor: Floor,
    pub agents: Vec<AgentResult>,
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn wall(samples: &[Sample]) -> Option<Summary> {
    summarize(&samples.iter().map(|s| ms(s.wall)).collect::<Vec<_>>())
}

fn cpu(samples: &[Sample]) -> Option<Summary> {
    summarize(&samples.iter().map(|s| ms(s.cpu)).collect::<Vec<_>>())
}

fn peak_kib(samples: &[Sample]) -> u64 {
    samples.iter().map(|s| s.maxrss_kib).max().unwrap_or(0)
}

/// Milliseconds with a precision that suits their size.
pub fn fmt_ms(v: f64) -> String {
    if v < 10.0 {
        format!("{v:.2}")
    } else if v < 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.0}")
    }
}

/// Rounded down, so that a ratio shown as meeting a promise does meet it.
pub fn fmt_ratio(v: f64) -> String {
    if v.is_finite() {
        if v < 10.0 {
            format!("{:.1}×", (v * 10.0).floor() / 10.0)
        } else {
            format!("{:.0}×", v.floor())
        }
    } else {
        "–".into()
    }
}

fn fmt_mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}

fn fmt_wall(s: Option<Summary>) -> String {
    s.map_or_else(
        || "–".into(),
        |s| format!("{} ({}–{})", fmt_ms(s.median), fmt_ms(s.p10), fmt_ms(s.p90)),
    )
}

impl Report {
    fn step(&self, kind: &str, label: &str) -> Option<&StepResult> {
        self.agents
            .iter()
            .find(|a| a.kind == kind)?
            .steps
            .iter()
            .find(|s| s.label == label)
    }

    /// anchor median / ours median wall time of one step.
    fn wall_ratio(&self, kind: &str, label: &str) -> Option<f64> {
        let s = self.step(kind, label)?;
        Some(wall(&s.samples[1])?.median / wall(&s.samples[0])?.median)
    }

    fn floor_ms(&self) -> f64 {
        wall(&self.floor.samples).map_or(f64::NAN, |s| s.median)
    }

    pub fn promises(&self) -> Vec<Promise> {
        promises::check(self)
    }

    pub fn markdown(&self) -> String {
        let m = &self.machine;
        let mut md = String::new();
        let _ = writeln!(
            md,
            "### Benchmark: native agents against the shell agents\n"
        );
        let _ = writeln!(
            md,
            "{} · {} × {} · kernel {} · load average at start {} · git {} · {} timed cycles per side{}, {} monitors per cycle\n",
            m.date,
            m.nproc,
            m.model,
            m.kernel,
            m.loadavg,
            m.git,
            self.runs,
            if self.quick { " (--quick)" } else { "" },
            self.monitors
        );
        let floor = self.floor_ms();
        let fw = wall(&self.floor.samples);
        let sw = wall(&self.shell_floor.samples);
        let _ = writeln!(
            md,
            "Floor: one exec of {}: {} ms median wall (p10–p90), {} process, peak RSS {} MiB. \
             Shell floor (bash sourcing ocf-shellfuncs): {} ms, {} processes.\n",
            self.floor.what,
            fmt_wall(fw),
            self.floor.census.processes,
            fmt_mib(peak_kib(&self.floor.samples)),
            fmt_wall(sw),
            self.shell_floor.census.processes,
        );
        md.push_str(
            "| agent | action | ours ms: median (p10–p90) | anchor ms: median (p10–p90) | anchor/ours | ours/floor | processes ours / anchor | peak RSS MiB ours / anchor | CPU ms ours / anchor |\n\
             |---|---|---|---|---|---|---|---|---|\n",
        );
        for a in &self.agents {
            for s in &a.steps {
                let (wo, wa) = (wall(&s.samples[0]), wall(&s.samples[1]));
                let (co, ca) = (cpu(&s.samples[0]), cpu(&s.samples[1]));
                let ratio = match (wo, wa) {
                    (Some(o), Some(a)) => fmt_ratio(a.median / o.median),
                    _ => "–".into(),
                };
                let to_floor = wo.map_or_else(|| "–".into(), |o| fmt_ratio(o.median / floor));
                let procs =
                    |c: Option<Census>| c.map_or_else(|| "–".into(), |c| c.processes.to_string());
                let cpu_ms =
                    |c: Option<Summary>| c.map_or_else(|| "–".into(), |c| fmt_ms(c.median));
                let _ = writeln!(
                    md,
                    "| {} (`{}`) | {} | {} | {} | {} | {} | {} / {} | {} / {} | {} / {} |",
                    a.kind,
                    a.ours,
                    s.label,
                    fmt_wall(wo),
                    fmt_wall(wa),
                    ratio,
                    to_floor,
                    procs(s.census[0]),
                    procs(s.census[1]),
                    fmt_mib(peak_kib(&s.samples[0])),
                    fmt_mib(peak_kib(&s.samples[1])),
                    cpu_ms(co),
                    cpu_ms(ca),
                );
            }
        }
        md.push('\n');
        if let Some(s) = self.step("apache", "stop") {
            let lag = |v: &[f64]| {
                summarize(v).map_or_else(
                    || "–".into(),
                    |l| format!("median {} ms, max {} ms", fmt_ms(l.median), fmt_ms(l.max)),
                )
            };
            let _ = writeln!(
                md,
                "apache stop, time from httpd's exit to the agent's return: ours {}; anchor {}.\n",
                lag(&s.httpd_lag_ms[0]),
                lag(&s.httpd_lag_ms[1])
            );
        }
        for a in &self.agents {
            for n in &a.notes {
                let _ = writeln!(md, "- {}: {n}", a.kind);
            }
        }
        md.push_str(&self.scale_markdown());
        md.push_str(
            "\n#### Promises of the agent issues\n\n\
             Speed promises are judged on the medians; CI (`--strict`) gates on the same number \
             at the p10 of each side, which a loaded machine does not move (see \
             `tests/bench/src/promises.rs`). A promise this run did not measure fails \
             `--strict`.\n\n\
             | promise | measured | CI gate | holds |\n|---|---|---|---|\n",
        );
        for p in self.promises() {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} |",
                p.what,
                p.measured,
                if p.gate.is_empty() {
                    "the promise"
                } else {
                    &p.gate
                },
                p.verdict_text()
            );
        }
        md.push_str(METHOD);
        md
    }

    /// (label, interval s, CPU ms per monitor [ours, anchor], from which step).
    fn scale_rows(&self) -> Vec<(String, u32, [f64; 2], &'static str)> {
        let mut rows = Vec::new();
        for a in &self.agents {
            let Some(s) = a.steps.iter().find(|s| s.label == a.scale_step) else {
                continue;
            };
            let (Some(o), Some(x)) = (cpu(&s.samples[0]), cpu(&s.samples[1])) else {
                continue;
            };
            for (role, secs) in &a.intervals {
                let label = if role.is_empty() {
                    a.kind.to_owned()
                } else {
                    format!("{} ({role})", a.kind)
                };
                rows.push((label, *secs, [o.median, x.median], a.scale_step));
            }
        }
        rows
    }

    fn scale_markdown(&self) -> String {
        let mut md = String::from(
            "\n#### Scale: CPU time monitoring costs a node per hour (ours / anchor)\n\n\
             | resources of one kind | interval | CPU per monitor ms | 1 resource | 10 resources | 100 resources |\n\
             |---|---|---|---|---|---|\n",
        );
        for (label, secs, c, from) in self.scale_rows() {
            let per_hour = |ms: f64, n: f64| ms / 1e3 * 3600.0 / f64::from(secs) * n;
            let cell = |n: f64| format!("{:.1} s / {:.1} s", per_hour(c[0], n), per_hour(c[1], n));
            let hundred = format!(
                "{} ({:.2}% / {:.1}% of one core)",
                cell(100.0),
                per_hour(c[0], 100.0) / 36.0,
                per_hour(c[1], 100.0) / 36.0
            );
            let from = if from == "probe" { " (probe¹)" } else { "" };
            let _ = writeln!(
                md,
                "| {label}{from} | {secs} s | {} / {} | {} | {} | {hundred} |",
                fmt_ms(c[0]),
                fmt_ms(c[1]),
                cell(1.0),
                cell(10.0),
            );
        }
        md.push_str(
            "\n¹ No running dlm_controld or DRBD device on this host: the CPU time of a probe (the \
             monitor that finds the resource not running) stands in for a monitor.\n",
        );
        md
    }

    pub fn json(&self) -> Json {
        let summary = |s: Option<Summary>| {
            s.map_or(Json::Null, |s| {
                Json::obj([
                    ("n", Json::Num(s.n as f64)),
                    ("median", Json::Num(s.median)),
                    ("p10", Json::Num(s.p10)),
                    ("p90", Json::Num(s.p90)),
                    ("min", Json::Num(s.min)),
                    ("max", Json::Num(s.max)),
                ])
            })
        };
        let side = |samples: &[Sample], census: Option<Census>, lag: &[f64]| {
            Json::obj([
                ("wall_ms", summary(wall(samples))),
                ("cpu_ms", summary(cpu(samples))),
                ("peak_rss_kib", Json::Num(peak_kib(samples) as f64)),
                (
                    "processes",
                    census.map_or(Json::Null, |c| Json::Num(f64::from(c.processes))),
                ),
                (
                    "execs",
                    census.map_or(Json::Null, |c| Json::Num(f64::from(c.execs))),
                ),
                (
                    "wall_ms_samples",
                    Json::Arr(samples.iter().map(|s| Json::Num(ms(s.wall))).collect()),
                ),
                ("after_httpd_exit_ms", summary(summarize(lag))),
            ])
        };
        let floor = |f: &Floor| {
            Json::obj([
                ("what", Json::Str(f.what.clone())),
                ("wall_ms", summary(wall(&f.samples))),
                ("cpu_ms", summary(cpu(&f.samples))),
                ("peak_rss_kib", Json::Num(peak_kib(&f.samples) as f64)),
                ("processes", Json::Num(f64::from(f.census.processes))),
            ])
        };
        let rows = self
            .agents
            .iter()
            .flat_map(|a| {
                a.steps.iter().map(|s| {
                    Json::obj([
                        ("agent", Json::Str(a.kind.into())),
                        ("ours", Json::Str(a.ours.into())),
                        ("action", Json::Str(s.label.into())),
                        (
                            "ours_result",
                            side(&s.samples[0], s.census[0], &s.httpd_lag_ms[0]),
                        ),
                        (
                            "anchor_result",
                            side(&s.samples[1], s.census[1], &s.httpd_lag_ms[1]),
                        ),
                        (
                            "wall_ratio_anchor_over_ours",
                            self.wall_ratio(a.kind, s.label)
                                .map_or(Json::Null, Json::Num),
                        ),
                    ])
                })
            })
            .collect();
        let scale = self
            .scale_rows()
            .into_iter()
            .map(|(label, secs, c, from)| {
                Json::obj([
                    ("resources", Json::Str(label)),
                    ("interval_s", Json::Num(f64::from(secs))),
                    ("from_action", Json::Str(from.into())),
                    ("cpu_ms_per_monitor_ours", Json::Num(c[0])),
                    ("cpu_ms_per_monitor_anchor", Json::Num(c[1])),
                    (
                        "cpu_s_per_hour_1_ours",
                        Json::Num(c[0] * 3.6 / f64::from(secs)),
                    ),
                    (
                        "cpu_s_per_hour_1_anchor",
                        Json::Num(c[1] * 3.6 / f64::from(secs)),
                    ),
                ])
            })
            .collect();
        let promises = self
            .promises()
            .into_iter()
            .map(|p| {
                Json::obj([
                    ("holds", Json::Bool(p.verdict == promises::Verdict::Holds)),
                    ("passes_strict", Json::Bool(p.passes_strict())),
                    ("verdict", Json::Str(p.verdict_text())),
                    ("promise", Json::Str(p.what)),
                    ("measured", Json::Str(p.measured)),
                    ("gate", Json::Str(p.gate)),
                ])
            })
            .collect();
        let m = &self.machine;
        Json::obj([
            ("date", Json::Str(m.date.clone())),
            (
                "machine",
                Json::obj([
                    ("nproc", Json::Num(m.nproc as f64)),
                    ("model_name", Json::Str(m.model.clone())),
                    ("kernel", Json::Str(m.kernel.clone())),
                    ("loadavg_at_start", Json::Str(m.loadavg.clone())),
                    ("git", Json::Str(m.git.clone())),
                ]),
            ),
            ("runs", Json::Num(self.runs as f64)),
            ("monitors_per_cycle", Json::Num(self.monitors as f64)),
            ("quick", Json::Bool(self.quick)),
            ("floor", floor(&self.floor)),
            ("shell_floor", floor(&self.shell_floor)),
            ("rows", Json::Arr(rows)),
            ("scale", Json::Arr(scale)),
            ("promises", Json::Arr(promises)),
        ])
    }
}

const METHOD: &str = "
How measured (`tests/bench`): each action runs as the local resource manager runs it (clean
environment, `OCF_RESKEY_*`, argv[1] the action), ours and the anchor on the same resource,
their cycles alternating (order swapped every run). Wall time: spawn to reap. CPU (user+sys)
and peak RSS: wait4(2) on the agent, so they include every descendant the agent waited for; peak
RSS is that of the largest single process. Processes: a separate counting pass, each action once
under `strace -f` (processes = 1 + non-thread clone/fork/vfork), so strace never slows a timed
run. The anchors log with `HA_LOGFACILITY=none`, as ours do.
";
