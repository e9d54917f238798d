//! The scale run as the Markdown table the README carries: each figure per round, ours beside
//! the anchor, and anchor/ours of their means.

use super::{Phase, Setup, Side, SideResult, Window};
use crate::machine::Machine;
// The report's number formatting: a precision that suits the size, whatever the unit.
use crate::report::{fmt_ms as fmt_s, fmt_ratio};
use std::fmt::Write as _;
use std::process::Command;
use std::time::Duration;

pub struct Versions {
    pub pacemaker: String,
    pub resource_agents: String,
}

impl Versions {
    pub fn read() -> Versions {
        let out = |program: &str, args: &[&str]| {
            Command::new(program)
                .args(args)
                .output()
                .ok()
                .filter(|o| o.status.success())
                .and_then(|o| {
                    String::from_utf8_lossy(&o.stdout)
                        .lines()
                        .next()
                        .map(|l| l.trim().to_owned())
                })
                .unwrap_or_else(|| "unknown".into())
        };
        Versions {
            pacemaker: out("pacemakerd", &["--version"]),
            resource_agents: out(
                "dpkg-query",
                &["--showformat=${Version}", "--show", "resource-agents"],
            ),
        }
    }
}

pub struct Report {
    pub machine: Machine,
    pub versions: Versions,
    pub setup: Setup,
    pub idle: Window,
    pub results: Vec<SideResult>,
    pub gate: f64,
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn median(values: &[u64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_unstable();
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2] as f64,
        n => (v[n / 2 - 1] + v[n / 2]) as f64 / 2.0,
    }
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// What ours and the anchor each add above the floor, and anchor/ours of those additions:
/// `+1.10 · +38.6 (35×)`. When ours is not above the floor, or the anchor below it, the ratio
/// means nothing: `–`.
fn above_floor(floor: f64, ours: f64, anchor: f64) -> String {
    let signed = |v: f64| {
        let sign = if v < 0.0 { "−" } else { "+" };
        format!("{sign}{}", fmt_s(v.abs()))
    };
    let (ours, anchor) = (ours - floor, anchor - floor);
    let ratio = if ours > 0.0 && anchor >= 0.0 {
        fmt_ratio(anchor / ours)
    } else {
        "–".into()
    };
    format!("{} · {} ({ratio})", signed(ours), signed(anchor))
}

/// CPU seconds an hour at the rate of `cpu` over `window_secs`.
pub fn per_hour(cpu: Duration, window_secs: f64) -> f64 {
    secs(cpu) * 3600.0 / window_secs
}

impl Report {
    fn of(&self, side: Side) -> Vec<&SideResult> {
        self.results.iter().filter(|r| r.side == side).collect()
    }

    /// The figure `f` of every round of `side`.
    fn values(&self, side: Side, f: &dyn Fn(&SideResult) -> f64) -> Vec<f64> {
        self.of(side).into_iter().map(f).collect()
    }

    fn monitors_per_hour(&self) -> f64 {
        self.setup.resources as f64 * 3600.0 / f64::from(self.setup.interval)
    }

    /// anchor/ours of the executor's CPU an hour of monitoring costs (the --strict gate; the
    /// floor, when it ran, takes no part in it).
    pub fn monitoring_ratio(&self) -> f64 {
        let f = |r: &SideResult| per_hour(r.window.execd.usage, r.window.secs);
        mean(&self.values(Side::Anchor, &f)) / mean(&self.values(Side::Ours, &f))
    }

    /// Whether the --strict gate holds; a ratio that cannot be computed (NaN) does not.
    pub fn gate_holds(&self) -> bool {
        self.monitoring_ratio() >= self.gate
    }

    fn has_floor(&self) -> bool {
        self.results.iter().any(|r| r.side == Side::Floor)
    }

    /// The sides in the table's columns: the floor first when it ran.
    fn sides(&self) -> Vec<Side> {
        let mut sides = vec![Side::Ours, Side::Anchor];
        if self.has_floor() {
            sides.insert(0, Side::Floor);
        }
        sides
    }

    /// One row: a cell per side, anchor/ours of the means of `values`, and when the floor ran,
    /// what ours and the anchor each add above it.
    fn line(
        &self,
        md: &mut String,
        what: &str,
        cell: &dyn Fn(Side) -> String,
        values: &dyn Fn(Side) -> Vec<f64>,
    ) {
        let of = |side: Side| mean(&values(side));
        let cells: Vec<String> = self.sides().into_iter().map(cell).collect();
        let _ = write!(
            md,
            "| {what} | {} | {} |",
            cells.join(" | "),
            fmt_ratio(of(Side::Anchor) / of(Side::Ours))
        );
        if self.has_floor() {
            let above = above_floor(of(Side::Floor), of(Side::Ours), of(Side::Anchor));
            let _ = write!(md, " {above} |");
        }
        let _ = writeln!(md);
    }

    fn row(
        &self,
        md: &mut String,
        what: &str,
        f: &dyn Fn(&SideResult) -> f64,
        show: &dyn Fn(f64) -> String,
    ) {
        let cell = |side: Side| {
            self.values(side, f)
                .iter()
                .map(|x| show(*x))
                .collect::<Vec<_>>()
                .join(" · ")
        };
        self.line(md, what, &cell, &|side| self.values(side, f));
    }

    /// Median (max) of the executor's `exec-time` of every start or stop of a phase, per
    /// round; anchor/ours of the medians' means.
    fn exec_row(&self, md: &mut String, what: &str, phase: fn(&SideResult) -> &Phase) {
        let median = |r: &SideResult| median(&phase(r).exec_ms);
        let cell = |side: Side| {
            self.of(side)
                .into_iter()
                .map(|r| {
                    let max = phase(r).exec_ms.iter().max().copied().unwrap_or(0);
                    format!("{} ({max})", fmt_s(median(r)))
                })
                .collect::<Vec<_>>()
                .join(" · ")
        };
        self.line(md, what, &cell, &|side| self.values(side, &median));
    }

    pub fn markdown(&self) -> String {
        let m = &self.machine;
        let s = &self.setup;
        let n = s.resources;
        let mut md = String::new();
        let order: Vec<String> = (0..s.rounds)
            .map(|r| {
                let sides: Vec<&str> = self
                    .results
                    .iter()
                    .filter(|x| x.round == r)
                    .map(|x| x.side.name())
                    .collect();
                format!("round {}: {}", r + 1, sides.join(", "))
            })
            .collect();
        let _ = writeln!(
            md,
            "#### At scale: {n} floating IPs in a one-node Pacemaker (ours / the anchor{})\n",
            if self.has_floor() { " / the floor" } else { "" }
        );
        let _ = writeln!(
            md,
            "{} · {} × {} · kernel {} · {} · resource-agents {} · git {} · {n} `IPaddr2`-style \
             primitives per side (ip, cidr_netmask=24, network_namespace), monitor every {} s, \
             a {} s monitoring window · {} round(s) ({}); each figure is listed per round\n",
            m.date,
            m.nproc,
            m.model,
            m.kernel,
            self.versions.pacemaker,
            self.versions.resource_agents,
            m.git,
            s.interval,
            s.window,
            s.rounds,
            order.join(", ")
        );
        let sides = self.sides();
        let names: Vec<&str> = sides
            .iter()
            .map(|side| match side {
                Side::Floor => "floor (an agent that does nothing)",
                Side::Ours => "ours",
                Side::Anchor => "anchor",
            })
            .collect();
        let above = if self.has_floor() {
            " above the floor: ours · anchor (anchor/ours) |"
        } else {
            ""
        };
        let _ = writeln!(
            md,
            "| figure | {} | anchor/ours |{above}",
            names.join(" | ")
        );
        let columns = sides.len() + 1 + usize::from(self.has_floor());
        let _ = writeln!(md, "|---|{}", "---|".repeat(columns));
        let wall = |p: fn(&SideResult) -> &Phase| move |r: &SideResult| secs(p(r).wall);
        let execd = |p: fn(&SideResult) -> &Phase| move |r: &SideResult| secs(p(r).execd);
        let plain = |v: f64| fmt_s(v);
        self.row(
            &mut md,
            &format!("CIB push to all {n} Started, s (wall)"),
            &wall(|r| &r.start),
            &plain,
        );
        self.exec_row(
            &mut md,
            "— one start as the executor timed it, ms: median (max)",
            |r| &r.start,
        );
        self.row(
            &mut md,
            "executor CPU for it (probes, starts), s",
            &execd(|r| &r.start),
            &plain,
        );
        self.row(
            &mut md,
            "the other Pacemaker daemons' CPU for it, s",
            &|r| secs(r.start.daemons),
            &plain,
        );
        let hourly = |r: &SideResult| per_hour(r.window.execd.usage, r.window.secs);
        let own = |r: &SideResult| per_hour(r.window.execd_self, r.window.secs);
        self.row(
            &mut md,
            "monitoring: the executor's cgroup (pacemaker-execd and the agents), CPU per hour, s (share of one core)",
            &hourly,
            &|v| format!("{} ({:.1}%)", fmt_s(v), v / 36.0),
        );
        let per_monitor = self.monitors_per_hour();
        self.row(
            &mut md,
            "— the same per monitor, ms (per hour ÷ monitors an hour)",
            &|r| hourly(r) * 1e3 / per_monitor,
            &plain,
        );
        self.row(
            &mut md,
            "— the forked processes' part per monitor, ms (the cgroup less pacemaker-execd's own utime+stime: the agent and its set-up between fork and exec)",
            &|r| (hourly(r) - own(r)) * 1e3 / per_monitor,
            &plain,
        );
        self.row(
            &mut md,
            "— pacemaker-execd's own part per hour, s",
            &own,
            &plain,
        );
        self.row(
            &mut md,
            "monitoring: the other Pacemaker daemons' CPU per hour, s",
            &|r| per_hour(r.window.daemons.usage, r.window.secs),
            &plain,
        );
        self.row(
            &mut md,
            &format!("`standby on` to all {n} Stopped, s (wall)"),
            &wall(|r| &r.away),
            &plain,
        );
        self.row(
            &mut md,
            "executor CPU for it, s",
            &execd(|r| &r.away),
            &plain,
        );
        self.row(
            &mut md,
            &format!("`standby off` to all {n} Started again, s (wall)"),
            &wall(|r| &r.back),
            &plain,
        );
        self.row(
            &mut md,
            "executor CPU for it, s",
            &execd(|r| &r.back),
            &plain,
        );
        let _ = writeln!(md);
        let idle = &self.idle;
        let _ = writeln!(
            md,
            "Idle cluster (no resource, {:.0} s): executor {} s an hour, the other daemons {} s an \
             hour. The executor's figures are the cgroup of pacemaker-execd: the executor itself \
             and every agent process it forks; CPU is user+system time from `cpu.stat`.\n",
            idle.secs,
            fmt_s(per_hour(idle.execd.usage, idle.secs)),
            fmt_s(per_hour(idle.daemons.usage, idle.secs)),
        );
        let _ = writeln!(
            md,
            "Load average (1, 5, 15 min) at the end of each phase, and the controller's \"High \
             CPU load\" notices (it then runs fewer actions at once):\n"
        );
        for r in &self.results {
            let _ = writeln!(
                md,
                "- round {} {}: started {} ({}), monitoring window {} → {} ({}), standby on {} ({}), \
                 standby off {} ({})",
                r.round + 1,
                r.side.name(),
                r.start.load,
                r.start.throttled,
                r.window.load_start,
                r.window.load_end,
                r.window.throttled,
                r.away.load,
                r.away.throttled,
                r.back.load,
                r.back.throttled
            );
        }
        if self.has_floor() {
            let _ = writeln!(
                md,
                "\nThe floor is `floor-agent` (tests/bench/src/bin): the same primitives (it ignores \
                 their parameters), a file under /run for a resource, one system call per action. \
                 What it costs, every agent pays in the executor (fork, exec, Pacemaker's own \
                 work per operation); the last column is what each agent adds to that."
            );
        }
        let ratio = self.monitoring_ratio();
        let _ = writeln!(
            md,
            "\nGate: the executor's monitoring CPU, anchor/ours, {} (at least {}×): {}",
            fmt_ratio(ratio),
            self.gate,
            if self.gate_holds() {
                "holds"
            } else {
                "does NOT hold"
            }
        );
        md
    }
}

#[cfg(test)]
mod tests {
    use super::super::cgroup::CpuStat;
    use super::*;

    #[test]
    fn median_of_odd_even_and_no_samples() {
        assert!((median(&[74, 13, 20]) - 20.0).abs() < 1e-9);
        assert!((median(&[10, 13]) - 11.5).abs() < 1e-9);
        assert!(median(&[]).is_nan());
    }

    fn phase() -> Phase {
        Phase {
            wall: Duration::from_secs(1),
            exec_ms: vec![10, 12, 30],
            execd: Duration::from_millis(100),
            daemons: Duration::from_millis(50),
            load: "1.00 1.00 1.00".into(),
            throttled: 0,
        }
    }

    /// A side whose executor spent `monitoring_ms` over a 100 s window.
    fn side(side: Side, monitoring_ms: u64) -> SideResult {
        let usage = Duration::from_millis(monitoring_ms);
        SideResult {
            side,
            round: 0,
            start: phase(),
            window: Window {
                secs: 100.0,
                execd: CpuStat {
                    usage,
                    user: usage,
                    system: Duration::ZERO,
                },
                execd_self: Duration::ZERO,
                daemons: CpuStat::default(),
                load_start: String::new(),
                load_end: String::new(),
                throttled: 0,
            },
            away: phase(),
            back: phase(),
        }
    }

    /// 10 resources monitored every 10 s for 100 s: 100 monitors, so `ms` a monitor each.
    fn report(sides: &[(Side, u64)], gate: f64) -> Report {
        Report {
            machine: Machine {
                date: "2026-12-01".into(),
                nproc: 2,
                model: "test".into(),
                kernel: "6".into(),
                loadavg: String::new(),
                git: "0".into(),
            },
            versions: Versions {
                pacemaker: "Pacemaker 2.1.5".into(),
                resource_agents: "4.12.0".into(),
            },
            setup: Setup {
                resources: 10,
                interval: 10,
                window: 100,
                rounds: 1,
            },
            idle: side(Side::Ours, 0).window,
            results: sides
                .iter()
                .map(|(s, ms_a_monitor)| side(*s, ms_a_monitor * 100))
                .collect(),
            gate,
        }
    }

    fn monitor_row(md: &str) -> &str {
        md.lines()
            .find(|l| l.starts_with("| — the same per monitor"))
            .unwrap_or_default()
    }

    #[test]
    fn the_floor_is_a_column_and_what_each_side_adds_above_it_another() {
        let md = report(
            &[(Side::Floor, 3), (Side::Ours, 4), (Side::Anchor, 43)],
            5.0,
        )
        .markdown();
        assert!(md.contains(
            "| figure | floor (an agent that does nothing) | ours | anchor | anchor/ours | \
             above the floor: ours · anchor (anchor/ours) |\n|---|---|---|---|---|---|\n"
        ));
        // 43/4 of the whole monitor; 40/1 of what the agents add to the executor's floor.
        assert_eq!(
            monitor_row(&md),
            "| — the same per monitor, ms (per hour ÷ monitors an hour) | 3.00 | 4.00 | 43.0 | 10× | +1.00 · +40.0 (40×) |"
        );
        assert!(md.contains("(ours / the anchor / the floor)"));
    }

    #[test]
    fn without_the_floor_the_table_keeps_its_columns() {
        let md = report(&[(Side::Ours, 4), (Side::Anchor, 43)], 5.0).markdown();
        assert!(md.contains("| figure | ours | anchor | anchor/ours |\n|---|---|---|---|\n"));
        assert_eq!(
            monitor_row(&md),
            "| — the same per monitor, ms (per hour ÷ monitors an hour) | 4.00 | 43.0 | 10× |"
        );
    }

    #[test]
    fn ours_at_or_below_the_floor_or_the_anchor_below_it_has_no_ratio_above_it() {
        assert_eq!(above_floor(3.0, 2.5, 43.0), "−0.50 · +40.0 (–)");
        assert_eq!(above_floor(3.0, 3.0, 43.0), "+0.00 · +40.0 (–)");
        assert_eq!(above_floor(37.6, 42.7, 29.3), "+5.10 · −8.30 (–)");
    }

    #[test]
    fn the_strict_gate_still_fails_with_the_floor_beside_and_ignores_it() {
        // anchor/ours 43/10 = 4.3 < 5: fails, even though above the floor it is 40/7.
        let low = report(
            &[(Side::Floor, 3), (Side::Ours, 10), (Side::Anchor, 43)],
            5.0,
        );
        assert!(!low.gate_holds());
        assert!(low.markdown().contains("does NOT hold"));
        let high = report(
            &[(Side::Floor, 3), (Side::Ours, 4), (Side::Anchor, 43)],
            5.0,
        );
        assert!(high.gate_holds());
        assert!((high.monitoring_ratio() - 43.0 / 4.0).abs() < 1e-9);
        // Nothing measured on either side: no ratio, and the gate does not hold.
        assert!(!report(&[(Side::Ours, 0), (Side::Anchor, 0)], 5.0).gate_holds());
    }

    #[test]
    fn an_hour_at_the_rate_of_the_window() {
        assert!((per_hour(Duration::from_secs(5), 300.0) - 60.0).abs() < 1e-9);
        assert!((per_hour(Duration::from_millis(500), 20.0) - 90.0).abs() < 1e-9);
    }
}
