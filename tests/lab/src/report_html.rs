//! `target/lab/report.html`: the report a person reads. One self-contained XHTML file (no
//! script, no network): the verdict, each check with what was seen, the figures, the guests'
//! versions, the deviations, and the run's timeline as an SVG drawn from the steps (each a bar
//! on the run's clock, red when it failed).

use crate::report::Report;
use std::fmt::Write;

/// Text for XML content and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
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
    h.push_str("</table><h2>Timeline of the run</h2>");
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
            seen: "answer <h1> & 'x'".into(),
            seconds: 50.0,
        }];
        r.figures = vec![("failover_seconds".into(), 12.5)];
        r
    }

    #[test]
    fn the_page_is_well_formed_and_shows_each_check_step_and_figure() {
        let html = render(&report());
        let options = roxmltree::ParsingOptions {
            allow_dtd: true,
            ..roxmltree::ParsingOptions::default()
        };
        let doc =
            roxmltree::Document::parse_with_options(&html, options).expect("well-formed XHTML");
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
