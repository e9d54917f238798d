//! The boundary with Pacemaker's own tools, for what an agent must ask or tell the cluster:
//! promotion scores (`crm_attribute --promotion`), cluster options read from the CIB as XML
//! (`cibadmin --query --scope crm_config`, never scraped text), the local node name
//! (`crm_node -n`) and fencing requests (`stonith_admin --reboot`).
//!
//! Every call is an argv vector bounded by the caller's deadline (crate `child`). Parsing is
//! separate from running, so it is unit-tested on XML captured from Pacemaker 2.1 and 3.

use std::collections::BTreeMap;
use std::time::Instant;

/// Why a Pacemaker tool did not give an answer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Run(#[from] child::Error),
    #[error("{tool} failed ({}): {message}", exit_text(*code))]
    Failed {
        tool: &'static str,
        code: Option<i32>,
        message: String,
    },
    #[error("{tool} printed something unexpected: {detail}")]
    Parse { tool: &'static str, detail: String },
}

/// How a tool ended, as an administrator reads it.
fn exit_text(code: Option<i32>) -> String {
    code.map_or_else(
        || "killed by a signal".to_owned(),
        |c| format!("exit code {c}"),
    )
}

/// The first Pacemaker that reads `fencing-enabled` (with `stonith-enabled` as its fallback).
const FENCING_ENABLED_SINCE: (u32, u32, u32) = (3, 0, 2);

/// crm_attribute's exit code when the attribute does not exist (CRM_EX_NOSUCH).
const CRM_EX_NOSUCH: i32 = 105;

/// `out` when `tool` succeeded, else [`Error::Failed`] with its exit code and message.
pub fn check(tool: &'static str, out: child::Output) -> Result<child::Output, Error> {
    if out.success() {
        Ok(out)
    } else {
        Err(Error::Failed {
            tool,
            code: out.code(),
            message: out.message(),
        })
    }
}

/// The promotion score this node holds for `resource` (the `master-<resource>` transient
/// attribute), or None when none is set.
pub fn promotion_score(resource: &str, end: Instant) -> Result<Option<i64>, Error> {
    let promotion = format!("--promotion={resource}");
    let out = child::run(
        "crm_attribute",
        &[&promotion, "--query", "--quiet", "--lifetime=reboot"],
        end,
    )?;
    if out.code() == Some(CRM_EX_NOSUCH) {
        return Ok(None);
    }
    let out = check("crm_attribute", out)?;
    parse_score(&out.stdout)
}

/// The value crm_attribute --quiet prints: a number, or nothing when unset.
pub fn parse_score(text: &str) -> Result<Option<i64>, Error> {
    let text = text.trim();
    if text.is_empty() || text == "(null)" {
        return Ok(None);
    }
    match text {
        "INFINITY" | "+INFINITY" => return Ok(Some(1_000_000)),
        "-INFINITY" => return Ok(Some(-1_000_000)),
        _ => {}
    }
    text.parse().map(Some).map_err(|_| Error::Parse {
        tool: "crm_attribute",
        detail: format!("score {text:?}"),
    })
}

/// Set this node's promotion score for `resource` (lifetime reboot, as agents do).
pub fn set_promotion_score(resource: &str, score: i64, end: Instant) -> Result<(), Error> {
    let promotion = format!("--promotion={resource}");
    let value = format!("--update={score}");
    let out = child::run(
        "crm_attribute",
        &[&promotion, &value, "--lifetime=reboot"],
        end,
    )?;
    check("crm_attribute", out).map(drop)
}

/// Remove this node's promotion score for `resource` (absent already is fine).
pub fn delete_promotion_score(resource: &str, end: Instant) -> Result<(), Error> {
    let promotion = format!("--promotion={resource}");
    let out = child::run(
        "crm_attribute",
        &[&promotion, "--delete", "--lifetime=reboot"],
        end,
    )?;
    if out.code() == Some(CRM_EX_NOSUCH) {
        return Ok(());
    }
    check("crm_attribute", out).map(drop)
}

/// The cluster options (`crm_config` name/value pairs) from the CIB.
pub fn cluster_options(end: Instant) -> Result<ClusterOptions, Error> {
    let out = child::run(
        "cibadmin",
        &["--query", "--scope", "crm_config", "--local"],
        end,
    )?;
    let out = check("cibadmin", out)?;
    ClusterOptions::parse(&out.stdout)
}

/// The cluster options as set in the CIB (unset options are absent: Pacemaker's defaults
/// apply, and the accessors below know them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClusterOptions {
    pub values: BTreeMap<String, String>,
}

impl ClusterOptions {
    /// Parse `<crm_config>` XML (or a whole CIB): every `<nvpair name= value=>` inside a
    /// `<cluster_property_set>`. When a name appears in several sets, the first wins, which
    /// is what Pacemaker does for sets without rules and scores.
    pub fn parse(xml: &str) -> Result<ClusterOptions, Error> {
        let doc = roxmltree::Document::parse(xml).map_err(|e| Error::Parse {
            tool: "cibadmin",
            detail: e.to_string(),
        })?;
        let mut values = BTreeMap::new();
        for set in doc
            .descendants()
            .filter(|n| n.has_tag_name("cluster_property_set"))
        {
            for pair in set.children().filter(|n| n.has_tag_name("nvpair")) {
                if let (Some(name), Some(value)) = (pair.attribute("name"), pair.attribute("value"))
                {
                    values
                        .entry(name.to_owned())
                        .or_insert_with(|| value.to_owned());
                }
            }
        }
        Ok(ClusterOptions { values })
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// The Pacemaker version of the cluster's DC (`dc-version`, "3.0.0-3.0.0" or
    /// "2.1.5-a3f44794f94"), as (major, minor, patch).
    pub fn pacemaker_version(&self) -> Option<(u32, u32, u32)> {
        let v = self.get("dc-version")?;
        let mut parts = v.split(['-', '+', '~', ' ']).next()?.split('.');
        let mut num = || parts.next().and_then(|p| p.parse().ok());
        Some((num()?, num()?, num().unwrap_or(0)))
    }

    /// Whether fencing is enabled, as the cluster's Pacemaker decides it; its default is
    /// true. Pacemaker 3.0.2 renamed `stonith-enabled` to `fencing-enabled` and reads the new
    /// name first; earlier versions (Debian 12's 2.1, Debian 13's 3.0.0) know only
    /// `stonith-enabled` and ignore `fencing-enabled`. When the version is unknown (no
    /// `dc-version`), fencing counts as off only if every reading says so. Unparsable values
    /// count as true, the safe side.
    pub fn fencing_enabled(&self) -> bool {
        let read = |name| {
            self.get(name)
                .map(|v| ocf::params::parse_bool(v).unwrap_or(true))
        };
        let (new, old) = (read("fencing-enabled"), read("stonith-enabled"));
        match self.pacemaker_version() {
            Some(v) if v >= FENCING_ENABLED_SINCE => new.or(old).unwrap_or(true),
            Some(_) => old.unwrap_or(true),
            None => old.unwrap_or(true) || new.unwrap_or(false),
        }
    }

    /// `no-quorum-policy`, default `stop`.
    pub fn no_quorum_policy(&self) -> &str {
        self.get("no-quorum-policy").unwrap_or("stop")
    }
}

/// This node's name in the cluster (`crm_node -n`).
pub fn local_node_name(end: Instant) -> Result<String, Error> {
    let out = check("crm_node", child::run("crm_node", &["-n"], end)?)?;
    let name = out.stdout.trim();
    if name.is_empty() {
        return Err(Error::Parse {
            tool: "crm_node",
            detail: "empty node name".into(),
        });
    }
    Ok(name.to_owned())
}

/// Ask the cluster to fence (reboot) `node`, tagged with `tag` in the fencing history.
pub fn fence_node(node: &str, tag: &str, end: Instant) -> Result<(), Error> {
    let reboot = format!("--reboot={node}");
    let tag = format!("--tag={tag}");
    check(
        "stonith_admin",
        child::run("stonith_admin", &[&reboot, &tag], end)?,
    )
    .map(drop)
}

/// `text` as XML content or an attribute value (`cibadmin --xml-text`): the five predefined
/// entities. Control characters other than tab and newline have no XML 1.0 form at all: a
/// caller that may meet them decides (refuse, or replace).
pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escape_leaves_roxmltree_the_original_value() {
        let value = r#"a&b <c> "d" 'e' ü"#;
        let xml = format!(
            "<nvpair value=\"{}\" name='{}'/>",
            xml_escape(value),
            xml_escape(value)
        );
        let doc = roxmltree::Document::parse(&xml).unwrap();
        assert_eq!(doc.root_element().attribute("value"), Some(value));
        assert_eq!(doc.root_element().attribute("name"), Some(value));
    }

    /// `cibadmin --query --scope crm_config` on Pacemaker 2.1.5 (the lab's nodes).
    const PCMK_21: &str = r#"<crm_config>
  <cluster_property_set id="cib-bootstrap-options">
    <nvpair id="cib-bootstrap-options-have-watchdog" name="have-watchdog" value="false"/>
    <nvpair id="cib-bootstrap-options-dc-version" name="dc-version" value="2.1.5-a3f44794f94"/>
    <nvpair id="cib-bootstrap-options-cluster-name" name="cluster-name" value="mycluster"/>
    <nvpair id="cib-bootstrap-options-stonith-enabled" name="stonith-enabled" value="false"/>
    <nvpair id="cib-bootstrap-options-no-quorum-policy" name="no-quorum-policy" value="freeze"/>
  </cluster_property_set>
</crm_config>"#;

    /// Pacemaker 3.0.2 renamed the option and reads the new name first.
    const PCMK_302: &str = r#"<crm_config>
  <cluster_property_set id="cib-bootstrap-options">
    <nvpair id="o-dc" name="dc-version" value="3.0.2-1"/>
    <nvpair id="o-fe" name="fencing-enabled" value="true"/>
    <nvpair id="o-se" name="stonith-enabled" value="false"/>
  </cluster_property_set>
</crm_config>"#;

    fn with(dc: Option<&str>, stonith: Option<&str>, fencing: Option<&str>) -> ClusterOptions {
        let mut o = ClusterOptions::default();
        for (k, v) in [
            ("dc-version", dc),
            ("stonith-enabled", stonith),
            ("fencing-enabled", fencing),
        ] {
            if let Some(v) = v {
                o.values.insert(k.to_owned(), v.to_owned());
            }
        }
        o
    }

    #[test]
    fn a_failed_tool_reads_plainly() {
        let failed = |code| Error::Failed {
            tool: "cibadmin",
            code,
            message: "Could not connect".into(),
        };
        assert_eq!(
            failed(Some(102)).to_string(),
            "cibadmin failed (exit code 102): Could not connect"
        );
        assert_eq!(
            failed(None).to_string(),
            "cibadmin failed (killed by a signal): Could not connect"
        );
    }

    #[test]
    fn fencing_setting_from_both_versions() {
        let old = ClusterOptions::parse(PCMK_21).unwrap();
        assert!(!old.fencing_enabled());
        assert_eq!(old.no_quorum_policy(), "freeze");
        assert_eq!(old.get("cluster-name"), Some("mycluster"));
        assert_eq!(old.pacemaker_version(), Some((2, 1, 5)));
        let new = ClusterOptions::parse(PCMK_302).unwrap();
        assert!(
            new.fencing_enabled(),
            "fencing-enabled wins over stonith-enabled from 3.0.2 on"
        );
    }

    /// What the lab saw Pacemaker decide (crm_verify, check 16) on Debian 12 (2.1.5) and 13
    /// (3.0.0): `fencing-enabled` is not an option there.
    #[test]
    fn before_3_0_2_only_stonith_enabled_counts() {
        for dc in ["2.1.5-a3f44794f94", "3.0.0-3.0.0", "3.0.1"] {
            assert!(
                with(Some(dc), None, Some("false")).fencing_enabled(),
                "{dc}"
            );
            assert!(
                !with(Some(dc), Some("false"), Some("true")).fencing_enabled(),
                "{dc}"
            );
            assert!(
                !with(Some(dc), Some("false"), None).fencing_enabled(),
                "{dc}"
            );
            assert!(with(Some(dc), None, None).fencing_enabled(), "{dc}");
        }
        let newer = with(Some("3.1.0"), Some("true"), Some("false"));
        assert!(!newer.fencing_enabled());
        assert!(
            !with(Some("3.0.2"), Some("false"), None).fencing_enabled(),
            "the fallback"
        );
    }

    #[test]
    fn unknown_version_is_off_only_when_every_reading_says_so() {
        assert!(!with(None, Some("false"), None).fencing_enabled());
        assert!(!with(None, Some("false"), Some("false")).fencing_enabled());
        assert!(with(None, Some("false"), Some("true")).fencing_enabled());
        assert!(with(None, Some("true"), Some("false")).fencing_enabled());
        assert!(with(None, None, Some("false")).fencing_enabled());
        assert_eq!(with(Some("garbage"), None, None).pacemaker_version(), None);
    }

    #[test]
    fn defaults_are_pacemakers() {
        let empty = ClusterOptions::parse("<crm_config/>").unwrap();
        assert!(empty.fencing_enabled());
        assert_eq!(empty.no_quorum_policy(), "stop");
        let odd = ClusterOptions::parse(
            r#"<crm_config><cluster_property_set id="a"><nvpair id="x" name="stonith-enabled" value="perhaps"/></cluster_property_set></crm_config>"#,
        )
        .unwrap();
        assert!(odd.fencing_enabled(), "unparsable means the safe default");
        assert!(ClusterOptions::parse("<crm_config").is_err());
    }

    #[test]
    fn scores() {
        assert_eq!(parse_score("10000\n").unwrap(), Some(10000));
        assert_eq!(parse_score("").unwrap(), None);
        assert_eq!(parse_score("(null)").unwrap(), None);
        assert_eq!(parse_score("INFINITY").unwrap(), Some(1_000_000));
        assert_eq!(parse_score("-5").unwrap(), Some(-5));
        assert!(parse_score("lots").is_err());
    }
}
