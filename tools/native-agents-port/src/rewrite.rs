//! The CIB change itself: the `class`, `provider` and `type` of chosen primitives, and nothing
//! else. Two forms of the same change: the CIB text with those attribute values replaced in
//! place (every other byte kept, so the diff shows exactly the change), and the `<resources>`
//! fragment that `cibadmin --modify` merges into the live CIB in one transaction.

use crate::Error;
use crate::agents::Agent;
use crate::cib::{self, Primitive};
use pacemaker_cli::xml_escape;
use std::fmt::Write as _;

/// One primitive moving from one agent to another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub primitive: Primitive,
    pub to: Agent,
}

impl Change {
    /// The same change undone.
    #[must_use]
    pub fn reversed(&self) -> Change {
        let mut primitive = self.primitive.clone();
        let to = std::mem::replace(&mut primitive.agent, self.to.clone());
        Change { primitive, to }
    }
}

/// `xml` (a CIB) with each changed primitive's `class`, `provider` and `type` set to its new
/// agent's, in place. Fails when a primitive is missing or no longer on the agent the change
/// starts from (the CIB changed under us).
pub fn rewrite(xml: &str, changes: &[Change]) -> Result<String, Error> {
    let doc = cib::parse_doc("the CIB", xml)?;
    let mut splices: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    for change in changes {
        let id = &change.primitive.id;
        let node = doc
            .descendants()
            .find(|n| n.has_tag_name("primitive") && n.attribute("id") == Some(id.as_str()))
            .ok_or_else(|| Error::Changed(format!("primitive {id} is no longer in the CIB")))?;
        let now = Agent::new(
            node.attribute("class").unwrap_or_default(),
            node.attribute("provider").unwrap_or_default(),
            node.attribute("type").unwrap_or_default(),
        );
        if now != change.primitive.agent {
            return Err(Error::Changed(format!(
                "{id} is on {now} now, not {}",
                change.primitive.agent
            )));
        }
        for (name, value) in [
            ("class", &change.to.class),
            ("provider", &change.to.provider),
            ("type", &change.to.kind),
        ] {
            let attribute = node
                .attributes()
                .find(|a| a.name() == name)
                .ok_or_else(|| Error::Changed(format!("{id} has no {name} attribute")))?;
            if attribute.value() != value {
                splices.push((attribute.range_value(), xml_escape(value)));
            }
        }
    }
    splices.sort_by_key(|(range, _)| std::cmp::Reverse(range.start));
    let mut out = xml.to_owned();
    for (range, value) in splices {
        out.replace_range(range, &value);
    }
    Ok(out)
}

/// The fragment for `cibadmin --modify --scope resources`: `<resources>` with, for each
/// change, its clone/group elements (by id only) around the primitive with its new `class`,
/// `provider` and `type`. Pacemaker merges it element by element (matched by tag and id), so
/// nothing else of those elements changes, and all of it is one CIB transaction.
pub fn modify_fragment(changes: &[Change]) -> String {
    let mut xml = String::from("<resources>");
    for change in changes {
        let p = &change.primitive;
        for parent in p.parents.iter().rev() {
            let _ = write!(xml, r#"<{} id="{}">"#, parent.tag, xml_escape(&parent.id));
        }
        let _ = write!(
            xml,
            r#"<primitive id="{}" class="{}" provider="{}" type="{}"/>"#,
            xml_escape(&p.id),
            xml_escape(&change.to.class),
            xml_escape(&change.to.provider),
            xml_escape(&change.to.kind)
        );
        for parent in &p.parents {
            let _ = write!(xml, "</{}>", parent.tag);
        }
    }
    xml.push_str("</resources>");
    xml
}

/// `xml` (a CIB) with every `crm_config` nvpair named `name` set to `value`, in place (for
/// crm_simulate: the cluster as it will be once an option is changed). Unchanged when the
/// option is not set.
pub fn set_cluster_option(xml: &str, name: &str, value: &str) -> Result<String, Error> {
    let doc = cib::parse_doc("the CIB", xml)?;
    let mut ranges: Vec<std::ops::Range<usize>> = doc
        .descendants()
        .filter(|n| n.has_tag_name("crm_config"))
        .flat_map(|c| c.descendants())
        .filter(|n| n.has_tag_name("nvpair") && n.attribute("name") == Some(name))
        .filter_map(|n| n.attributes().find(|a| a.name() == "value"))
        .map(|a| a.range_value())
        .collect();
    ranges.sort_by_key(|r| std::cmp::Reverse(r.start));
    let mut out = xml.to_owned();
    for range in ranges {
        out.replace_range(range, &xml_escape(value));
    }
    Ok(out)
}

/// A unified diff (3 lines of context) of two texts that have the same number of lines, as
/// [`rewrite`] leaves them; headers `--- old_name` and `+++ new_name`; line numbers count
/// from `first_line` (the texts' place in a larger file). Empty when equal.
pub fn diff(old: &str, new: &str, old_name: &str, new_name: &str, first_line: usize) -> String {
    const CONTEXT: usize = 3;
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    if a.len() != b.len() {
        // Not what rewrite() produces; show it whole rather than guess an alignment.
        let mut out = format!(
            "--- {old_name}\n+++ {new_name}\n@@ -1,{} +1,{} @@\n",
            a.len(),
            b.len()
        );
        for l in &a {
            let _ = writeln!(out, "-{l}");
        }
        for l in &b {
            let _ = writeln!(out, "+{l}");
        }
        return out;
    }
    let changed: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
    if changed.is_empty() {
        return String::new();
    }
    // Hunks: runs of changed lines whose contexts touch or overlap.
    let mut hunks: Vec<(usize, usize)> = Vec::new();
    for &i in &changed {
        let start = i.saturating_sub(CONTEXT);
        let end = (i + CONTEXT + 1).min(a.len());
        match hunks.last_mut() {
            Some((_, last_end)) if start <= *last_end => *last_end = end,
            _ => hunks.push((start, end)),
        }
    }
    let mut out = format!("--- {old_name}\n+++ {new_name}\n");
    for (start, end) in hunks {
        let _ = writeln!(
            out,
            "@@ -{},{} +{},{} @@",
            start + first_line,
            end - start,
            start + first_line,
            end - start
        );
        for i in start..end {
            if a[i] == b[i] {
                let _ = writeln!(out, " {}", a[i]);
            } else {
                let _ = writeln!(out, "-{}", a[i]);
                let _ = writeln!(out, "+{}", b[i]);
            }
        }
    }
    out
}

/// The `<resources>` section of a CIB text, from its opening line to its closing line, with
/// the number of the first line (1-based) in the whole text.
pub fn resources_section(xml: &str) -> Option<(usize, String)> {
    let lines: Vec<&str> = xml.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.trim_start().starts_with("<resources"))?;
    if lines[start].trim_end().ends_with("/>") {
        return Some((start + 1, lines[start].to_owned()));
    }
    let end = start
        + lines[start..]
            .iter()
            .position(|l| l.trim_start().starts_with("</resources>"))?;
    Some((start + 1, lines[start..=end].join("\n")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::Direction;
    use crate::cib::tests::TUTORIAL;

    fn changes(xml: &str, direction: Direction) -> Vec<Change> {
        cib::parse(xml)
            .unwrap()
            .primitives
            .into_iter()
            .filter_map(|p| {
                direction
                    .target(&p.agent)
                    .map(|to| Change { primitive: p, to })
            })
            .collect()
    }

    #[test]
    fn rewrites_only_the_agent_attributes() {
        let all = changes(TUTORIAL, Direction::ToNative);
        assert_eq!(all.len(), 5);
        let ported = rewrite(TUTORIAL, &all).unwrap();
        let config = cib::parse(&ported).unwrap();
        let agents: Vec<String> = config
            .primitives
            .iter()
            .map(|p| format!("{}={}", p.id, p.agent))
            .collect();
        assert_eq!(
            agents,
            [
                "VirtualIP=ocf:native:ipaddr2",
                "WebData=ocf:native:drbd-dualprimary",
                "dlm=ocf:native:dlm-controld-wrapper",
                "WebFS=ocf:native:gfs2-fs",
                "WebSite=ocf:native:apache-clone"
            ]
        );
        // Everything else is byte for byte the same: the same lines, 5 of them changed.
        assert_eq!(TUTORIAL.lines().count(), ported.lines().count());
        let differing: Vec<(&str, &str)> = TUTORIAL
            .lines()
            .zip(ported.lines())
            .filter(|(a, b)| a != b)
            .collect();
        assert_eq!(differing.len(), 5);
        assert_eq!(
            differing[0],
            (
                r#"      <primitive id="VirtualIP" class="ocf" type="IPaddr2" provider="heartbeat">"#,
                r#"      <primitive id="VirtualIP" class="ocf" type="ipaddr2" provider="native">"#
            )
        );
        assert!(
            differing
                .iter()
                .all(|(a, b)| a.contains("<primitive") && b.contains("<primitive"))
        );
        let before = cib::parse(TUTORIAL).unwrap();
        for (old, new) in before.primitives.iter().zip(&config.primitives) {
            assert_eq!(
                (&old.params, &old.meta, &old.ops),
                (&new.params, &new.meta, &new.ops)
            );
        }
        // And back again gives the original bytes.
        let back = changes(&ported, Direction::ToShell);
        assert_eq!(rewrite(&ported, &back).unwrap(), TUTORIAL);
    }

    #[test]
    fn reversed_change_is_the_way_back() {
        let all = changes(TUTORIAL, Direction::ToNative);
        let ported = rewrite(TUTORIAL, &all).unwrap();
        let back: Vec<Change> = all.iter().map(Change::reversed).collect();
        assert_eq!(rewrite(&ported, &back).unwrap(), TUTORIAL);
    }

    #[test]
    fn a_primitive_changed_under_us_is_refused() {
        let all = changes(TUTORIAL, Direction::ToNative);
        let moved = TUTORIAL.replace(r#"type="apache""#, r#"type="nginx""#);
        let err = rewrite(&moved, &all).unwrap_err().to_string();
        assert!(
            err.contains("WebSite is on ocf:heartbeat:nginx now"),
            "{err}"
        );
        let gone = TUTORIAL.replace(r#"id="WebSite""#, r#"id="Web2""#);
        let err = rewrite(&gone, &all).unwrap_err().to_string();
        assert!(err.contains("WebSite is no longer in the CIB"), "{err}");
    }

    #[test]
    fn fragment_nests_each_primitive_in_its_parents() {
        let all = changes(TUTORIAL, Direction::ToNative);
        let picked: Vec<Change> = all
            .into_iter()
            .filter(|c| c.primitive.id == "VirtualIP" || c.primitive.id == "WebData")
            .collect();
        assert_eq!(
            modify_fragment(&picked),
            concat!(
                r#"<resources>"#,
                r#"<primitive id="VirtualIP" class="ocf" provider="native" type="ipaddr2"/>"#,
                r#"<clone id="WebData-clone"><primitive id="WebData" class="ocf" provider="native" type="drbd-dualprimary"/></clone>"#,
                r#"</resources>"#
            )
        );
        // It is well-formed XML whatever the ids hold.
        let mut odd = picked[0].clone();
        odd.primitive.id = r#"a"<b&"#.into();
        roxmltree::Document::parse(&modify_fragment(&[odd])).unwrap();
    }

    #[test]
    fn diff_shows_each_changed_line_with_context() {
        let all = changes(TUTORIAL, Direction::ToNative);
        let vip: Vec<Change> = all
            .into_iter()
            .filter(|c| c.primitive.id == "VirtualIP")
            .collect();
        let ported = rewrite(TUTORIAL, &vip).unwrap();
        let (first, old) = resources_section(TUTORIAL).unwrap();
        let (_, new) = resources_section(&ported).unwrap();
        assert_eq!(first, 15);
        let d = diff(&old, &new, "now", "after", 1);
        assert_eq!(
            d,
            concat!(
                "--- now\n+++ after\n@@ -1,5 +1,5 @@\n",
                "     <resources>\n",
                r#"-      <primitive id="VirtualIP" class="ocf" type="IPaddr2" provider="heartbeat">"#,
                "\n",
                r#"+      <primitive id="VirtualIP" class="ocf" type="ipaddr2" provider="native">"#,
                "\n",
                r#"         <instance_attributes id="VirtualIP-instance_attributes">"#,
                "\n",
                r#"           <nvpair id="VirtualIP-instance_attributes-cidr_netmask" name="cidr_netmask" value="24"/>"#,
                "\n",
                r#"           <nvpair id="VirtualIP-instance_attributes-ip" name="ip" value="10.1.1.100"/>"#,
                "\n"
            )
        );
        assert_eq!(diff(&old, &old, "a", "b", 1), "");
    }

    #[test]
    fn a_cluster_option_is_set_in_place() {
        let on = TUTORIAL.replace(
            r#"name="stonith-enabled" value="false"/>"#,
            r#"name="stonith-enabled" value="false"/><nvpair id="mm" name="maintenance-mode" value="true"/>"#,
        );
        let off = set_cluster_option(&on, "maintenance-mode", "false").unwrap();
        let options = cib::parse(&off).unwrap().options;
        assert_eq!(options.get("maintenance-mode"), Some("false"));
        assert_eq!(off.len(), on.len() + 1);
        assert_eq!(
            set_cluster_option(TUTORIAL, "maintenance-mode", "false").unwrap(),
            TUTORIAL
        );
    }

    #[test]
    fn distant_changes_make_separate_hunks_and_near_ones_merge() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl";
        let new = "A\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nL";
        let d = diff(old, new, "x", "y", 1);
        assert!(d.contains("@@ -1,4 +1,4 @@\n-a\n+A\n b\n c\n d\n"), "{d}");
        assert!(d.contains("@@ -9,4 +9,4 @@\n i\n j\n k\n-l\n+L\n"), "{d}");
        let near = "A\nb\nc\nd\ne\nF\ng\nh\ni\nj\nk\nl";
        let d = diff(old, near, "x", "y", 1);
        assert!(diff(old, near, "x", "y", 15).contains("@@ -15,9 +15,9 @@"));
        assert_eq!(d.matches("@@ -").count(), 1, "{d}");
        assert!(d.contains("@@ -1,9 +1,9 @@"), "{d}");
    }
}
