//! What a resource's configuration means to the agent it moves to, compared with the agent it
//! leaves: parameters the new agent does not have, parameters left unset whose defaults
//! differ, operations it does not implement, and what its own validate-all says of the
//! resource's parameters (run by [`crate::validate`]).

use crate::cib::Primitive;
use ocf::metadata::{Metadata, ParamKind};
use std::fmt;

/// One difference the administrator should know about before the port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// Set on the resource; the new agent has no parameter of that name.
    NotAParameter { name: String, value: String },
    /// Not set on the resource, so each agent applies its own default, and they differ.
    DefaultDiffers {
        name: String,
        from: String,
        to: String,
    },
    /// An operation is configured for an action the new agent does not implement.
    Operation { name: String },
    /// Attribute sets with rules: their values were not compared.
    Ruled { sets: Vec<String> },
    /// The old agent's metadata could not be read here, so nothing was compared.
    NotCompared { reason: String },
    /// The new agent's validate-all refused the resource's parameters.
    Refused { code: i32, reason: String },
    /// The new agent's validate-all could not be run.
    NotRun { reason: String },
}

impl Finding {
    /// True when this finding stops the port of the resource.
    pub fn blocks(&self) -> bool {
        matches!(self, Finding::Refused { .. } | Finding::NotRun { .. })
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Finding::NotAParameter { name, value } => write!(
                f,
                "{name}={value:?}: not a parameter of the new agent; it is passed on and ignored \
                 (the agent logs a warning), unless validate-all below refuses it"
            ),
            Finding::DefaultDiffers { name, from, to } => write!(
                f,
                "{name} is not set, and the defaults differ: {} before, {} after; set it \
                 explicitly to keep the old behaviour",
                shown(from),
                shown(to)
            ),
            Finding::Operation { name } => write!(
                f,
                "op {name} is configured, but the new agent does not implement {name}; \
                 Pacemaker will not be able to run it"
            ),
            Finding::Ruled { sets } => write!(
                f,
                "attribute sets with rules ({}) were not compared: check them by hand",
                sets.join(", ")
            ),
            Finding::NotCompared { reason } => write!(f, "parameters not compared: {reason}"),
            Finding::Refused { code, reason } => write!(
                f,
                "REFUSED: its validate-all exits {code} ({}): {reason}",
                ocf_status(*code)
            ),
            Finding::NotRun { reason } => write!(f, "REFUSED: validate-all not run: {reason}"),
        }
    }
}

fn shown(value: &str) -> String {
    if value.is_empty() {
        "none".to_owned()
    } else {
        format!("{value:?}")
    }
}

/// OCF's name for an exit code (`OCF_ERR_CONFIGURED`).
pub fn ocf_status(code: i32) -> &'static str {
    ocf::status::Status::from_code(code).map_or("not an OCF exit code", ocf::status::Status::name)
}

/// The static differences of `primitive` moving from the agent described by `from` to the
/// one described by `to` (validate-all's verdict is added by the caller).
pub fn compare(primitive: &Primitive, from: &Metadata, to: &Metadata) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (name, value) in &primitive.params {
        if to.param(name).is_none() {
            findings.push(Finding::NotAParameter {
                name: name.clone(),
                value: value.clone(),
            });
        }
    }
    for old in &from.params {
        if primitive.params.iter().any(|(n, _)| *n == old.name) {
            continue;
        }
        let Some(new) = to.param(&old.name) else {
            continue;
        };
        let before = effective_default(from, &old.name, old.default.as_deref());
        let after = effective_default(to, &new.name, new.default.as_deref());
        if !same_default(&new.kind, before, after) {
            findings.push(Finding::DefaultDiffers {
                name: old.name.clone(),
                from: before.to_owned(),
                to: after.to_owned(),
            });
        }
    }
    let mut seen = Vec::new();
    for op in &primitive.ops {
        if !to.has_action(&op.name) && !seen.contains(&op.name) {
            seen.push(op.name.clone());
            findings.push(Finding::Operation {
                name: op.name.clone(),
            });
        }
    }
    if !primitive.ruled_sets.is_empty() {
        findings.push(Finding::Ruled {
            sets: primitive.ruled_sets.clone(),
        });
    }
    findings
}

/// Defaults a shell agent's metadata states but its code does not apply as written (agent,
/// parameter, what the code does when the parameter is unset), from reading that code:
/// compared as the code behaves, so that no false difference is reported.
const EFFECTIVE_DEFAULTS: [(&str, &str, &str); 2] = [
    // The metadata shows a placeholder sentence; the code matches `</ *html *>`.
    ("apache", "testregex", "</ *html *>"),
    // The metadata shows /usr/sbin/httpd; the code searches the usual places (apache2 on
    // Debian) when unset, as apache-clone does.
    ("apache", "httpd", ""),
];

/// What `agent` does with `param` unset.
fn effective_default<'a>(agent: &Metadata, param: &str, declared: Option<&'a str>) -> &'a str {
    EFFECTIVE_DEFAULTS
        .iter()
        .find(|(a, p, _)| *a == agent.name && *p == param)
        .map_or_else(|| declared.unwrap_or("").trim(), |(_, _, d)| *d)
}

/// Equal defaults, booleans compared by meaning (`no` and `false` are the same default).
fn same_default(kind: &ParamKind, a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    if *kind == ParamKind::Boolean {
        let parse = |v: &str| {
            if v.is_empty() {
                Some(false)
            } else {
                ocf::params::parse_bool(v)
            }
        };
        return parse(a).is_some() && parse(a) == parse(b);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cib;
    use std::fmt::Write as _;

    /// An agent's metadata with these parameters (name, type, default) and actions.
    fn metadata(name: &str, params: &[(&str, &str, Option<&str>)], actions: &[&str]) -> Metadata {
        let mut xml = format!(
            r#"<?xml version="1.0"?><resource-agent name="{name}" version="1"><version>1.1</version><parameters>"#
        );
        for (p, kind, default) in params {
            let default = default.map_or(String::new(), |d| {
                format!(r#" default="{}""#, d.replace('<', "&lt;"))
            });
            let _ = write!(
                xml,
                r#"<parameter name="{p}"><content type="{kind}"{default}/></parameter>"#
            );
        }
        xml.push_str("</parameters><actions>");
        for a in actions {
            let _ = write!(xml, r#"<action name="{a}" timeout="20s"/>"#);
        }
        xml.push_str("</actions></resource-agent>");
        Metadata::parse(&xml).unwrap()
    }

    fn primitive(params: &[(&str, &str)], ops: &[&str]) -> Primitive {
        let mut xml = String::from(
            r#"<cib><configuration><crm_config/><nodes/><resources><primitive id="r" class="ocf" provider="heartbeat" type="Filesystem"><instance_attributes id="i">"#,
        );
        for (n, v) in params {
            let _ = write!(xml, r#"<nvpair id="i-{n}" name="{n}" value="{v}"/>"#);
        }
        xml.push_str("</instance_attributes><operations>");
        for o in ops {
            let _ = write!(xml, r#"<op id="o-{o}" name="{o}" interval="0s"/>"#);
        }
        xml.push_str("</operations></primitive></resources></configuration></cib>");
        cib::parse(&xml).unwrap().primitives.remove(0)
    }

    /// The shapes met between Filesystem and gfs2-fs: fstype defaults "" (detect) against
    /// "gfs2", fast_stop "no" against "false", an anchor-only parameter set.
    #[test]
    fn filesystem_to_gfs2_fs() {
        let anchor = metadata(
            "Filesystem",
            &[
                ("device", "string", None),
                ("directory", "string", None),
                ("fstype", "string", Some("")),
                ("fast_stop", "boolean", Some("no")),
                ("force_unmount", "string", Some("true")),
                ("statusfile_prefix", "string", Some(".Filesystem_status/")),
            ],
            &["start", "stop", "monitor", "meta-data", "validate-all"],
        );
        let ours = metadata(
            "gfs2-fs",
            &[
                ("device", "string", None),
                ("directory", "string", None),
                ("fstype", "string", Some("gfs2")),
                ("fast_stop", "boolean", Some("false")),
                ("force_unmount", "string", Some("true")),
                ("term_signals", "string", Some("TERM")),
            ],
            &["start", "stop", "monitor", "meta-data", "validate-all"],
        );
        let p = primitive(
            &[
                ("device", "/dev/drbd1"),
                ("directory", "/srv"),
                ("statusfile_prefix", ".st/"),
            ],
            &["start", "stop", "monitor", "reload"],
        );
        let findings = compare(&p, &anchor, &ours);
        assert_eq!(
            findings,
            [
                Finding::NotAParameter {
                    name: "statusfile_prefix".into(),
                    value: ".st/".into()
                },
                Finding::DefaultDiffers {
                    name: "fstype".into(),
                    from: String::new(),
                    to: "gfs2".into()
                },
                Finding::Operation {
                    name: "reload".into()
                },
            ]
        );
        assert!(!findings.iter().any(Finding::blocks));
        assert_eq!(
            findings[1].to_string(),
            "fstype is not set, and the defaults differ: none before, \"gfs2\" after; set it \
             explicitly to keep the old behaviour"
        );
        // Set explicitly, the default no longer matters.
        let set = primitive(
            &[("device", "/d"), ("directory", "/s"), ("fstype", "ext4")],
            &[],
        );
        assert!(compare(&set, &anchor, &ours).is_empty());
    }

    #[test]
    fn the_shell_apaches_placeholder_defaults_are_compared_as_its_code_behaves() {
        let anchor = metadata(
            "apache",
            &[
                (
                    "testregex",
                    "string",
                    Some("exists, but impossible to show"),
                ),
                ("httpd", "string", Some("/usr/sbin/httpd")),
                ("statusurl", "string", Some("")),
            ],
            &["start"],
        );
        let ours = metadata(
            "apache-clone",
            &[
                ("testregex", "string", Some("</ *html *>")),
                ("httpd", "string", None),
                (
                    "statusurl",
                    "string",
                    Some("http://localhost/server-status"),
                ),
            ],
            &["start"],
        );
        let p = primitive(&[], &[]);
        assert_eq!(
            compare(&p, &anchor, &ours),
            [Finding::DefaultDiffers {
                name: "statusurl".into(),
                from: String::new(),
                to: "http://localhost/server-status".into()
            }],
            "only a real difference"
        );
        assert!(
            compare(&p, &ours, &anchor)
                .iter()
                .all(|f| matches!(f, Finding::DefaultDiffers { name, .. } if name == "statusurl"))
        );
    }

    #[test]
    fn boolean_defaults_compare_by_meaning() {
        assert!(same_default(&ParamKind::Boolean, "no", "false"));
        assert!(same_default(&ParamKind::Boolean, "", "false"));
        assert!(same_default(&ParamKind::Boolean, "1", "yes"));
        assert!(!same_default(&ParamKind::Boolean, "true", "false"));
        assert!(!same_default(&ParamKind::Boolean, "maybe", "perhaps"));
        assert!(!same_default(&ParamKind::String, "no", "false"));
    }

    #[test]
    fn a_refusal_blocks_and_reads_plainly() {
        let refused = Finding::Refused {
            code: 6,
            reason: "mac is not supported".into(),
        };
        assert!(refused.blocks());
        assert_eq!(
            refused.to_string(),
            "REFUSED: its validate-all exits 6 (OCF_ERR_CONFIGURED): mac is not supported"
        );
        assert_eq!(ocf_status(5), "OCF_ERR_INSTALLED");
        assert_eq!(ocf_status(42), "not an OCF exit code");
    }
}
