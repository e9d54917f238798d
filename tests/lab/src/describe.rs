//! Check 26: what an administrator reads in `pcs resource describe ocf:native:AGENT` on the
//! guest's pcs (0.12 on trixie, 0.11 on bookworm): the agent's shortdesc on the title line,
//! every parameter of our metadata in the metadata's order, `(required)` where it is required,
//! each default as the metadata gives it, and no warning or error from pcs.

use crate::agents::RESOURCES;
use crate::scenario::Run;
use crate::step::{Error, Result};
use crate::sys::mins;
use crate::vm;
use ocf::Metadata;
use std::fs;

/// One parameter as pcs shows it, or as our metadata says pcs should.
#[derive(Debug, PartialEq)]
struct Param {
    name: String,
    required: bool,
    default: Option<String>,
}

/// What the metadata XML says, read by the agents' own reader: the shortdesc and the
/// parameters in order.
fn from_xml(xml: &str) -> std::result::Result<(String, Vec<Param>), String> {
    let m = Metadata::parse(xml).map_err(|e| e.to_string())?;
    let params = m
        .params
        .into_iter()
        .map(|p| Param {
            name: p.name,
            required: p.required,
            // An empty default is no default: pcs shows none.
            default: p.default.filter(|d| !d.is_empty()),
        })
        .collect();
    Ok((words(&m.shortdesc), params))
}

fn words(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What pcs printed: the title line's description and the parameters in order, each with its
/// title line and the `Default:` of its block. pcs indents a parameter's title by two spaces
/// and its block by more; the section ends at the next unindented line.
fn from_pcs(text: &str, agent: &str) -> std::result::Result<(String, Vec<Param>), String> {
    let title = format!("ocf:native:{agent} - ");
    let shortdesc = text
        .lines()
        .find_map(|l| l.strip_prefix(&title))
        .map(words)
        .ok_or_else(|| format!("no line starting {title:?}"))?;
    let mut params: Vec<Param> = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        if line.trim_end() == "Resource options:" {
            inside = true;
            continue;
        }
        if !inside || line.trim().is_empty() {
            continue;
        }
        if !line.starts_with(' ') {
            break;
        }
        let body = line.trim_start();
        let indent = line.len() - body.len();
        if indent == 2 {
            let name = body.split([' ', ':']).next().unwrap_or_default();
            params.push(Param {
                name: name.to_owned(),
                required: body.contains("(required)"),
                default: None,
            });
        } else if let (Some(last), Some(d)) = (params.last_mut(), body.strip_prefix("Default: ")) {
            last.default = Some(d.trim().to_owned());
        }
    }
    Ok((shortdesc, params))
}

/// Every way pcs's text differs from the metadata, for one agent. `defaults_shown`: whether
/// this pcs prints defaults at all (pcs 0.11 prints none, for the shell agents too).
/// `got` is `pcs` as [`from_pcs`] read it.
fn compare(
    agent: &str,
    xml: &str,
    pcs: &str,
    got: &std::result::Result<(String, Vec<Param>), String>,
    defaults_shown: bool,
) -> Vec<String> {
    let mut wrong = Vec::new();
    let (want, got) = match (from_xml(xml), got) {
        (Ok(w), Ok(g)) => (w, g),
        (Err(e), _) => return vec![format!("{agent}: metadata: {e}")],
        (_, Err(e)) => return vec![format!("{agent}: pcs: {e}")],
    };
    if want.0 != got.0 {
        wrong.push(format!(
            "{agent}: title says {:?}, shortdesc is {:?}",
            got.0, want.0
        ));
    }
    let names = |p: &[Param]| p.iter().map(|p| p.name.clone()).collect::<Vec<_>>();
    if names(&want.1) != names(&got.1) {
        wrong.push(format!(
            "{agent}: parameters {:?}, metadata's order {:?}",
            names(&got.1),
            names(&want.1)
        ));
        return wrong;
    }
    for (w, g) in want.1.iter().zip(&got.1) {
        if w.required != g.required {
            wrong.push(format!("{agent}: {} (required) is {}", w.name, g.required));
        }
        if defaults_shown && w.default != g.default {
            wrong.push(format!(
                "{agent}: {} default {:?}, metadata's {:?}",
                w.name, g.default, w.default
            ));
        }
    }
    for l in pcs.lines() {
        let lower = l.to_lowercase();
        if lower.starts_with("warning") || lower.starts_with("error") {
            wrong.push(format!("{agent}: pcs said {l:?}"));
        }
    }
    wrong
}

/// The shell agent whose rendering says what this pcs prints.
const ANCHOR: &str = "ocf:heartbeat:IPaddr2";

/// Whether pcs printed any parameter default in `text`.
fn shows_defaults(text: &str) -> bool {
    text.lines()
        .any(|l| l.trim_start().starts_with("Default: "))
}

/// 26: `pcs resource describe` of each of our agents against our metadata, in one lab-pcs
/// batch (one pcs start-up).
pub fn pcs_describe(r: &mut Run) -> Result<String> {
    let mut lines: Vec<String> = RESOURCES
        .iter()
        .map(|res| format!("pcs resource describe ocf:native:{}", res.native))
        .collect();
    // The shell agent IPaddr2 (with defaults in its metadata) tells whether this pcs prints
    // defaults at all.
    lines.push(format!("pcs resource describe {ANCHOR}"));
    // pcs's start-up alone took a minute on a loaded guest, and pcs 0.11 is slower still.
    let out = vm::ssh_ok(
        r.paths,
        "node1",
        &format!(
            "printf '%s\\n' {} | lab-pcs 2>&1",
            lines
                .iter()
                .map(|l| format!("'{l}'"))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        mins(6),
    )?;
    let part = |line: &str| -> String {
        // lab-pcs echoes each command line ("+ LINE") before pcs's output for it.
        out.split(&format!("+ {line}\n"))
            .nth(1)
            .map(|rest| rest.split("\n+ pcs ").next().unwrap_or(rest))
            .unwrap_or_default()
            .to_owned()
    };
    let anchor = part(&format!("pcs resource describe {ANCHOR}"));
    let defaults_shown = shows_defaults(&anchor);
    let mut seen = Vec::new();
    let mut wrong = Vec::new();
    if !anchor.contains("Resource options:") {
        wrong.push(format!(
            "pcs did not describe {ANCHOR}, so whether it shows defaults is unknown"
        ));
    }
    for (res, line) in RESOURCES.iter().zip(&lines) {
        let agent = res.native;
        let xml_path = r.paths.root.join(format!("xml-metadata/{agent}.xml"));
        let xml = fs::read_to_string(&xml_path)
            .map_err(|e| Error(format!("{}: {e}", xml_path.display())))?;
        let part = part(line);
        let got = from_pcs(&part, agent);
        let found = compare(agent, &xml, &part, &got, defaults_shown);
        let params = got.map_or(0, |p| p.1.len());
        seen.push(format!(
            "{agent}: {params} parameters{}",
            if found.is_empty() {
                ", as the metadata says"
            } else {
                ""
            }
        ));
        wrong.extend(found);
    }
    let seen = format!(
        "pcs resource describe on node1: shortdesc, parameter order, required, {}: {}",
        if defaults_shown {
            "defaults"
        } else {
            "no defaults (this pcs prints none, for IPaddr2 either)"
        },
        seen.join("; ")
    );
    if wrong.is_empty() {
        Ok(seen)
    } else {
        Err(Error(format!("{seen}; WRONG: {}", wrong.join("; "))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const XML: &str = r#"<?xml version="1.0"?>
<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">
<resource-agent name="x" version="0.1.0">
<version>1.1</version>
<longdesc lang="en">Long.</longdesc>
<shortdesc lang="en">Does
 x</shortdesc>
<parameters>
<parameter name="ip" required="1"><shortdesc lang="en">a</shortdesc><content type="string"/></parameter>
<parameter name="arp_count"><shortdesc lang="en">b</shortdesc><content type="integer" default="5"/></parameter>
</parameters>
<actions/>
</resource-agent>"#;

    // As pcs 0.12 prints it (captured from the lab, shortened).
    const PCS: &str = "+ pcs resource describe ocf:native:x
ocf:native:x - Does x

Long.

Resource options:
  ip (required) (unique group: address)
    Description: a
    Type: string
  arp_count
    Description: b
    Type: integer
    Default: 5

Default operations:
  start:
    interval=0s timeout=20s
  (exit 0, 1.2 s)
";

    /// What the check finds in `pcs` for the agent x of XML.
    fn judge(pcs: &str, defaults_shown: bool) -> Vec<String> {
        compare("x", XML, pcs, &from_pcs(pcs, "x"), defaults_shown)
    }

    #[test]
    fn pcs_text_that_says_what_the_metadata_says_passes() {
        assert_eq!(judge(PCS, true), Vec::<String>::new());
    }

    // As pcs 0.11 prints it (bookworm, captured from the lab): no defaults for any agent.
    const PCS_011: &str = "ocf:native:x - Does x

Long.

Resource options:
  ip (required) (unique group: address): a
  arp_count: b

Default operations:
  start:
    interval=0s
";

    #[test]
    fn pcs_0_11_text_passes_when_that_pcs_shows_no_default_for_any_agent() {
        assert!(!shows_defaults(PCS_011));
        assert!(shows_defaults(PCS));
        assert_eq!(judge(PCS_011, false), Vec::<String>::new());
        assert!(!judge(PCS_011, true).is_empty());
        let reordered = PCS_011.replace("  ip (required)", "  zz (required)");
        assert!(judge(&reordered, false)[0].contains("metadata's order"));
    }

    #[test]
    fn a_lost_default_a_reordered_parameter_or_a_warning_is_named() {
        let no_default = PCS.replace("    Default: 5\n", "");
        assert!(judge(&no_default, true)[0].contains("arp_count default None"));
        let reordered = PCS.replace("  ip (required)", "  zz (required)");
        assert!(judge(&reordered, true)[0].contains("metadata's order"));
        let warned = format!("Warning: agent x is deprecated\n{PCS}");
        assert!(judge(&warned, true)[0].contains("pcs said"));
        let not_required = PCS.replace("ip (required)", "ip");
        assert!(judge(&not_required, true)[0].contains("(required) is false"));
    }
}
