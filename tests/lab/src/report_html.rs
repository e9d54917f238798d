//! `target/lab/report.html`: the report a person reads. One self-contained XHTML file (no
//! script, no network): the verdict, each check with what was seen, the figures, the guests'
//! versions, the deviations, and the run's timeline as an SVG drawn from the steps (each a bar
//! on the run's clock, red when it failed).

use crate::phases::Timeline;
use crate::report::Report;
use std::fmt::Write;

/// Text for XML content and attribute values; control characters (no XML 1.0 form) as spaces.
fn esc(s: &str) -> String {
    let printable: String = s
        .chars()
        .map(|c| {
            if (c as u32) < 0x20 && c != '\n' && c != '\t' {
                ' '
            } else {
                c
            }
        })
        .collect();
    pacemaker_cli::xml_escape(&printable)
}

const STYLE: &str = "body{font-family:sans-serif;margin:1.5em;max-width:80em}\
table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.3em;vertical-align:top;text-align:left}\
.pass{color:#176917;font-weight:bold}.fail{color:#b00;font-weight:bold}.na{color:#777;font-weight:bold}\
td.seen{font-size:.85em}svg text{font-size:11px;font-family:sans-serif}";

const ROW: f64 = 16.0;

/// A row count on the picture's vertical axis.
fn rows(n: usize) -> f64 {
    f64::from(u32::try_from(n).unwrap_or(u32::MAX))
}
const LABEL: f64 = 430.0;
const BARS: f64 = 560.0;

/// The steps on the run's clock, one row each.
fn timeline(report: &Report) -> String {
    let end = report
        .steps
        .iter()
        .map(|s| s.started + s.seconds)
        .fold(report.total_seconds, f64::max)
        .max(1.0);
    let height = ROW * (rows(report.steps.len()) + 1.5);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{height}\" \
         role=\"img\" aria-label=\"the run's steps on its clock\">",
        w = LABEL + BARS + 70.0
    );
    for (i, s) in report.steps.iter().enumerate() {
        let y = ROW * rows(i);
        let x = LABEL + BARS * s.started / end;
        let w = (BARS * s.seconds / end).max(1.0);
        let name: String = s.name.chars().take(70).collect();
        let _ = write!(
            svg,
            "<text x=\"{tx}\" y=\"{ty}\" text-anchor=\"end\">{}</text>\
             <rect x=\"{x:.1}\" y=\"{ry}\" width=\"{w:.1}\" height=\"{rh}\" fill=\"{}\"><title>{} \
             ({:.1} s from {:.1} s)</title></rect>\
             <text x=\"{lx:.1}\" y=\"{ty}\">{:.0} s</text>",
            esc(&name),
            if s.ok { "#4a8f4a" } else { "#c33" },
            esc(&s.name),
            s.seconds,
            s.started,
            s.seconds,
            tx = LABEL - 6.0,
            ty = y + 12.0,
            ry = y + 3.0,
            rh = ROW - 4.0,
            lx = x + w + 4.0,
        );
    }
    let axis = ROW * rows(report.steps.len()) + 12.0;
    let _ = write!(
        svg,
        "<text x=\"{LABEL}\" y=\"{axis}\">0 s</text><text x=\"{}\" y=\"{axis}\" \
         text-anchor=\"end\">{end:.0} s</text></svg>",
        LABEL + BARS
    );
    svg
}

/// A fault's label with the node names taken out, to pair the two agent sets' timelines of
/// one fault whichever node each run hit.
fn fault_key(fault: &str) -> String {
    fault.replace("node1", "nodeN").replace("node2", "nodeN")
}

/// Where a fault's phase bar ends: its last mark or action.
fn fault_end(t: &Timeline) -> f64 {
    let marks = t.phases.marks.iter().map(|(_, at)| *at);
    let actions = t
        .phases
        .actions
        .iter()
        .map(|a| a.finished.unwrap_or(a.requested));
    marks.chain(actions).fold(0.0, f64::max)
}

const PHASE_LABEL: f64 = 250.0;
const PHASE_BARS: f64 = 300.0;

/// One fault's phases on the node's clock from the fault (0 s) to `end`: a row per mark (a
/// bar from the fault to the mark), then a row per agent action (a bar from its request to
/// its result, red when the result was not OK).
fn fault_timeline(t: &Timeline, end: f64) -> String {
    let n = t.phases.marks.len() + t.phases.actions.len();
    let height = ROW * (rows(n) + 1.5);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{height}\" \
         role=\"img\" aria-label=\"{}\">",
        esc(&format!(
            "{} ({}): phases on {}'s clock",
            t.fault, t.agents, t.node
        )),
        w = PHASE_LABEL + PHASE_BARS + 60.0
    );
    let x = |at: f64| PHASE_LABEL + PHASE_BARS * at.max(0.0) / end;
    let mut row = 0.0;
    let mut bar = |svg: &mut String, label: &str, from: f64, to: f64, fill: &str, tip: &str| {
        let y = ROW * row;
        let (x0, x1) = (x(from), x(to));
        let _ = write!(
            svg,
            "<text x=\"{tx}\" y=\"{ty}\" text-anchor=\"end\">{}</text>\
             <rect x=\"{x0:.1}\" y=\"{ry}\" width=\"{w:.1}\" height=\"{rh}\" fill=\"{fill}\"><title>{}</title></rect>\
             <text x=\"{lx:.1}\" y=\"{ty}\">{to:.1} s</text>",
            esc(&label.chars().take(40).collect::<String>()),
            esc(tip),
            tx = PHASE_LABEL - 6.0,
            ty = y + 12.0,
            ry = y + 3.0,
            w = (x1 - x0).max(1.5),
            rh = ROW - 4.0,
            lx = x1.max(x0 + 1.5) + 4.0,
        );
        row += 1.0;
    };
    for (name, at) in &t.phases.marks {
        bar(
            &mut svg,
            name,
            0.0,
            *at,
            "#7a9cc6",
            &format!("{name}: +{at:.2} s"),
        );
    }
    for a in &t.phases.actions {
        let label = format!("{} {}", a.resource, a.op);
        let (to, fill) = match a.finished {
            Some(f) if a.result == "ok" => (f, "#4a8f4a"),
            Some(f) => (f, "#c33"),
            None => (a.requested, "#c33"),
        };
        let tip = format!(
            "{label}: requested +{:.2} s, {} ({})",
            a.requested,
            a.finished.map_or("no result".into(), |f| format!(
                "result +{f:.2} s, {:.2} s",
                f - a.requested
            )),
            a.result
        );
        bar(&mut svg, &label, a.requested, to, fill, &tip);
    }
    let axis = ROW * rows(n) + 12.0;
    let _ = write!(
        svg,
        "<text x=\"{PHASE_LABEL}\" y=\"{axis}\">fault</text><text x=\"{}\" y=\"{axis}\" \
         text-anchor=\"end\">+{end:.0} s</text></svg>",
        PHASE_LABEL + PHASE_BARS
    );
    svg
}

/// Each fault of this run beside the other agent set's same fault (its last run of this
/// release and profile), on one scale.
fn fault_timelines(report: &Report) -> String {
    let mut h = String::new();
    if report.timelines.is_empty() {
        return h;
    }
    h.push_str(
        "<h2>Where recovery time went</h2><p>Each fault's phases on the named node's clock, \
         from the fault: the blue bars end where the phase was reached (the cluster's and the \
         lab probe's marks), the green and red ones are the agents' actions (request to result).</p>",
    );
    for t in &report.timelines {
        let other = report
            .other_timelines
            .iter()
            .find(|o| fault_key(&o.fault) == fault_key(&t.fault));
        let end = other.map_or(0.0, fault_end).max(fault_end(t)).max(1.0);
        let _ = write!(h, "<h3>{}</h3><table><tr>", esc(&t.fault));
        for side in std::iter::once(t).chain(other) {
            let _ = write!(
                h,
                "<td><p>{} agents, {}'s journal; the agents' actions {:.2} s in all</p>{}</td>",
                esc(&side.agents),
                esc(&side.node),
                side.phases.agent_seconds_before(f64::INFINITY),
                fault_timeline(side, end)
            );
        }
        h.push_str("</tr></table>");
    }
    h
}

pub fn render(report: &Report) -> String {
    let mut h = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE html>\n\
         <html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\"><head><meta charset=\"UTF-8\"/>",
    );
    let title = format!("lab: {}", report.setup.describe());
    let _ = write!(
        h,
        "<title>{}</title><style>{STYLE}</style></head><body>",
        esc(&title)
    );
    let (class, verdict) = if report.passed() {
        ("pass", "PASSED")
    } else {
        ("fail", "FAILED")
    };
    let _ = write!(
        h,
        "<h1>{}</h1><p><span class=\"{class}\">{verdict}</span> in {:.0} s.</p>",
        esc(&title),
        report.total_seconds
    );
    if let Some(e) = &report.error {
        let _ = write!(
            h,
            "<p class=\"fail\">Stopped before the checks: {}</p>",
            esc(e)
        );
    }
    h.push_str("<h2>Checks</h2><table><tr><th>verdict</th><th>check</th><th>s</th><th>what was seen</th></tr>");
    for c in &report.checks {
        let (class, word) = match report.verdict(c) {
            "pass" => ("pass", "pass"),
            "n/a " => ("na", "n/a"),
            _ => ("fail", "FAIL"),
        };
        let _ = write!(
            h,
            "<tr><td class=\"{class}\">{word}</td><td>{}</td><td>{:.1}</td><td class=\"seen\">{}</td></tr>",
            esc(&c.name),
            c.seconds,
            esc(&c.seen)
        );
    }
    h.push_str("</table>");
    h.push_str(&fault_timelines(report));
    h.push_str("<h2>Timeline of the run</h2>");
    h.push_str(&timeline(report));
    h.push_str("<h2>Figures</h2><table><tr><th>figure</th><th>seconds</th></tr>");
    for (k, v) in &report.figures {
        let _ = write!(h, "<tr><td>{}</td><td>{v:.1}</td></tr>", esc(k));
    }
    h.push_str(
        "</table><h2>Agents</h2><table><tr><th>resource</th><th>agent</th><th>why</th></tr>",
    );
    for a in &report.agents {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(a.id),
            esc(&a.agent),
            esc(&a.why)
        );
    }
    h.push_str("</table><h2>What the guests run</h2><table>");
    for (k, v) in &report.versions {
        let _ = write!(h, "<tr><td>{}</td><td>{}</td></tr>", esc(k), esc(v));
    }
    h.push_str("</table><h2>Deviations from the tutorial</h2><ul>");
    for d in &report.deviations {
        let _ = write!(h, "<li>{}</li>", esc(d));
    }
    h.push_str("</ul></body></html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::Mode;
    use crate::phases::{Action, Phases};
    use crate::report::Check;
    use crate::setup::{Profile, Release, Setup};
    use crate::step::StepRecord;

    fn report() -> Report {
        let mut r = Report::new(Setup {
            mode: Mode::Native,
            release: Release::Trixie,
            profile: Profile::Tutorial,
            breaks: Vec::new(),
            faults: false,
            port: false,
            deb: None,
        });
        r.total_seconds = 100.0;
        r.steps = vec![
            StepRecord {
                name: "boot <node1> & node2".into(),
                started: 0.0,
                seconds: 40.0,
                ok: true,
            },
            StepRecord {
                name: "check 2".into(),
                started: 50.0,
                seconds: 50.0,
                ok: false,
            },
        ];
        r.checks = vec![Check {
            name: "2 page \"served\"".into(),
            passed: false,
            skipped: false,
            outside_profile: false,
            seen: "answer <h1> & 'x'".into(),
            seconds: 50.0,
        }];
        r.figures = vec![("failover_seconds".into(), 12.5)];
        r
    }

    fn timeline(agents: &str, node: &str, start: (f64, f64, &str)) -> Timeline {
        Timeline {
            fault: format!("{node} (the VirtualIP's node) powered off"),
            node: if node == "node1" { "node2" } else { "node1" }.into(),
            agents: agents.into(),
            phases: Phases {
                marks: vec![
                    ("corosync: new membership".into(), 6.0),
                    ("first good HTTP answer".into(), 14.0),
                ],
                actions: vec![Action {
                    resource: "VirtualIP".into(),
                    op: "start".into(),
                    requested: start.0,
                    finished: Some(start.1),
                    result: start.2.into(),
                }],
            },
        }
    }

    /// A report with a fault timeline of ours and the shell agents' of the same fault (on
    /// the other node), and one fault only ours ran.
    fn report_with_timelines() -> Report {
        let mut r = report();
        r.timelines = vec![
            timeline("native", "node1", (10.0, 10.5, "ok")),
            Timeline {
                fault: "httpd SIGSTOPped on node2".into(),
                ..timeline("native", "node2", (1.0, 2.0, "error"))
            },
        ];
        r.other_timelines = vec![timeline("heartbeat", "node2", (10.0, 30.0, "ok"))];
        r
    }

    fn parse(html: &str) -> roxmltree::Document<'_> {
        let options = roxmltree::ParsingOptions {
            allow_dtd: true,
            ..roxmltree::ParsingOptions::default()
        };
        roxmltree::Document::parse_with_options(html, options).expect("well-formed XHTML")
    }

    #[test]
    fn each_fault_is_drawn_beside_the_other_agent_sets_on_one_scale() {
        let html = render(&report_with_timelines());
        let doc = parse(&html);
        let svgs: Vec<_> = doc
            .descendants()
            .filter(|n| n.tag_name().name() == "svg")
            .collect();
        // Ours and theirs for the kill, ours alone for the hang, the run's steps.
        assert_eq!(svgs.len(), 4);
        let bars = |svg: &roxmltree::Node| -> Vec<(f64, f64, String)> {
            svg.descendants()
                .filter(|n| n.tag_name().name() == "rect")
                .map(|n| {
                    let num = |a| n.attribute(a).and_then(|v| v.parse().ok()).unwrap_or(-1.0);
                    (
                        num("x"),
                        num("width"),
                        n.attribute("fill").unwrap_or("").to_owned(),
                    )
                })
                .collect()
        };
        let (ours, theirs) = (bars(&svgs[0]), bars(&svgs[1]));
        assert_eq!(ours.len(), 3, "two marks and an action");
        // One scale: the shell agents' action ends at +30 s, the picture's end, so the same
        // mark (+6 s) is drawn at the same x on both sides.
        assert!((ours[0].1 - theirs[0].1).abs() < 1e-9);
        assert!((theirs[2].0 + theirs[2].1 - (PHASE_LABEL + PHASE_BARS)).abs() < 0.1);
        assert_eq!(ours[2].2, "#4a8f4a");
        assert_eq!(bars(&svgs[2])[2].2, "#c33", "a failed action is red");
        let text: String = doc
            .descendants()
            .filter(roxmltree::Node::is_text)
            .filter_map(|n| n.text())
            .collect();
        assert!(text.contains("heartbeat agents, node1's journal"));
        assert!(text.contains("the agents' actions 20.00 s in all"));
    }

    /// Renders the page in a headless Chromium: its DOM has every picture (well-formedness is
    /// the test above's), and the screenshot is a PNG of the window's size with more drawn on it than on
    /// an empty page.
    #[test]
    fn chromium_renders_the_page_and_its_timelines() {
        let runs = |p: &str| {
            std::process::Command::new(p)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        };
        // CI as ocf-testkit reads it (not a dependency of the lab, whose lock entry would
        // change the package's sources).
        let in_ci = std::env::var("CI")
            .is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false" | "FALSE" | "False"));
        let Some(browser) = ["chromium-headless-shell", "chromium"]
            .into_iter()
            .find(|p| runs(p))
        else {
            assert!(
                !in_ci,
                "no headless Chromium, and in CI a skipped test is a failure"
            );
            eprintln!("SKIP chromium_renders_the_page_and_its_timelines: no headless Chromium");
            return;
        };
        let dir = std::env::temp_dir().join(format!("lab-report-html-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a scratch directory");
        let page = dir.join("report.html");
        let empty = dir.join("empty.html");
        std::fs::write(&page, render(&report_with_timelines())).expect("write the page");
        std::fs::write(
            &empty,
            "<html xmlns=\"http://www.w3.org/1999/xhtml\"><body></body></html>",
        )
        .expect("write the empty page");
        let chromium = |args: &[String]| {
            let out = std::process::Command::new(browser)
                .args(["--headless", "--no-sandbox", "--disable-gpu"])
                .arg(format!("--user-data-dir={}", dir.join("profile").display()))
                .args(args)
                .current_dir(&dir)
                .output()
                .expect("run chromium");
            assert!(out.status.success(), "{browser}: {out:?}");
            out.stdout
        };
        let url = |p: &std::path::Path| format!("file://{}", p.display());
        let dom =
            String::from_utf8_lossy(&chromium(&["--dump-dom".into(), url(&page)])).into_owned();
        assert!(
            !dom.contains("parsererror"),
            "Chromium's XML parser refused it"
        );
        assert_eq!(dom.matches("<svg").count(), 4, "{dom}");
        assert!(dom.contains("Where recovery time went"));
        let shot = |p: &std::path::Path, name: &str| {
            let png = dir.join(name);
            chromium(&[
                format!("--screenshot={}", png.display()),
                "--window-size=1280,1600".into(),
                url(p),
            ]);
            std::fs::read(&png).expect("the screenshot")
        };
        let (ours, blank) = (shot(&page, "report.png"), shot(&empty, "empty.png"));
        assert!(ours.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
        // IHDR: width and height, big-endian, at bytes 16..24.
        assert_eq!(ours[16..20], 1280u32.to_be_bytes());
        assert_eq!(ours[20..24], 1600u32.to_be_bytes());
        assert!(
            ours.len() > 10 * blank.len(),
            "the page drew next to nothing: {} bytes against an empty page's {}",
            ours.len(),
            blank.len()
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_page_is_well_formed_and_shows_each_check_step_and_figure() {
        let html = render(&report());
        let doc = parse(&html);
        let text: String = doc
            .descendants()
            .filter(roxmltree::Node::is_text)
            .filter_map(|n| n.text())
            .collect();
        assert!(text.contains("FAILED"));
        assert!(text.contains("2 page \"served\""));
        assert!(text.contains("answer <h1> & 'x'"));
        assert!(text.contains("failover_seconds"));
        let bars: Vec<_> = doc
            .descendants()
            .filter(|n| n.tag_name().name() == "rect")
            .collect();
        assert_eq!(bars.len(), 2, "one bar per step");
        // The second step starts half-way along the clock and failed.
        assert_eq!(
            bars[1].attribute("x"),
            Some(format!("{:.1}", LABEL + BARS * 0.5).as_str())
        );
        assert_eq!(bars[1].attribute("fill"), Some("#c33"));
        assert_eq!(bars[0].attribute("fill"), Some("#4a8f4a"));
        assert!(
            doc.descendants().all(|n| n.tag_name().name() != "script"
                && n.attribute("src").is_none()
                && n.attribute("href").is_none()),
            "no script, nothing fetched"
        );
    }
}
