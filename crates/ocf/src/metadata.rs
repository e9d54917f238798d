//! Reading an agent's own metadata XML, so that the XML is the one list of parameters:
//! names, which are required, their types and defaults.

use crate::error::{Error, Result};

/// A parameter's declared content type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamKind {
    String,
    Integer,
    Boolean,
    /// OCF 1.1 `select`, with its allowed values.
    Select(Vec<String>),
}

/// One `<parameter>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamSpec {
    pub name: String,
    pub required: bool,
    pub unique: bool,
    pub kind: ParamKind,
    pub default: Option<String>,
}

/// One `<action>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionSpec {
    pub name: String,
    pub timeout: String,
    pub interval: Option<String>,
    pub depth: Option<String>,
    pub role: Option<String>,
}

/// What an agent's metadata declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    /// The agent's name (`<resource-agent name=..>`).
    pub name: String,
    /// The OCF version it claims (`<version>`).
    pub ocf_version: String,
    /// Its one-line description (`<shortdesc>`), trimmed; empty when there is none.
    pub shortdesc: String,
    pub params: Vec<ParamSpec>,
    pub actions: Vec<ActionSpec>,
}

impl Metadata {
    /// Parse a metadata document. An agent's own XML failing here is a build defect, caught by
    /// every agent's tests; the error still says what is wrong.
    pub fn parse(xml: &str) -> Result<Metadata> {
        let bad = |why: String| Error::generic(format!("agent metadata is invalid: {why}"));
        let options = roxmltree::ParsingOptions {
            allow_dtd: true,
            ..roxmltree::ParsingOptions::default()
        };
        let doc = roxmltree::Document::parse_with_options(xml, options)
            .map_err(|e| bad(e.to_string()))?;
        let root = doc.root_element();
        if !root.has_tag_name("resource-agent") {
            return Err(bad(format!("root element is <{}>", root.tag_name().name())));
        }
        let name = root
            .attribute("name")
            .ok_or_else(|| bad("no name attribute".into()))?
            .to_owned();
        let ocf_version = child(root, "version")
            .and_then(|v| v.text())
            .unwrap_or("")
            .trim()
            .to_owned();
        let shortdesc = child(root, "shortdesc")
            .and_then(|v| v.text())
            .unwrap_or("")
            .trim()
            .to_owned();
        let mut params = Vec::new();
        if let Some(list) = child(root, "parameters") {
            for p in list.children().filter(|n| n.has_tag_name("parameter")) {
                params.push(parse_param(p).map_err(bad)?);
            }
        }
        let mut actions = Vec::new();
        if let Some(list) = child(root, "actions") {
            for a in list.children().filter(|n| n.has_tag_name("action")) {
                let attr = |n: &str| a.attribute(n).map(str::to_owned);
                actions.push(ActionSpec {
                    name: attr("name").ok_or_else(|| bad("action without a name".into()))?,
                    timeout: attr("timeout").unwrap_or_default(),
                    interval: attr("interval"),
                    depth: attr("depth"),
                    role: attr("role"),
                });
            }
        }
        Ok(Metadata {
            name,
            ocf_version,
            shortdesc,
            params,
            actions,
        })
    }

    /// The parameter named `name`.
    pub fn param(&self, name: &str) -> Option<&ParamSpec> {
        self.params.iter().find(|p| p.name == name)
    }

    /// True when the metadata advertises `action`.
    pub fn has_action(&self, action: &str) -> bool {
        self.actions.iter().any(|a| a.name == action)
    }
}

fn child<'a, 'i>(node: roxmltree::Node<'a, 'i>, tag: &str) -> Option<roxmltree::Node<'a, 'i>> {
    node.children().find(|n| n.has_tag_name(tag))
}

fn flag(node: roxmltree::Node<'_, '_>, name: &str) -> bool {
    matches!(node.attribute(name), Some("1" | "true"))
}

fn parse_param(p: roxmltree::Node<'_, '_>) -> std::result::Result<ParamSpec, String> {
    let name = p
        .attribute("name")
        .ok_or("parameter without a name")?
        .to_owned();
    let content = child(p, "content").ok_or(format!("parameter {name} has no <content>"))?;
    let kind = match content.attribute("type").unwrap_or("string") {
        "string" => ParamKind::String,
        "integer" => ParamKind::Integer,
        "boolean" => ParamKind::Boolean,
        "select" => ParamKind::Select(
            content
                .children()
                .filter(|n| n.has_tag_name("option"))
                .filter_map(|o| o.attribute("value").map(str::to_owned))
                .collect(),
        ),
        other => return Err(format!("parameter {name} has content type {other:?}")),
    };
    Ok(ParamSpec {
        required: flag(p, "required"),
        unique: flag(p, "unique"),
        default: content.attribute("default").map(str::to_owned),
        kind,
        name,
    })
}

/// The `name` attribute of `<resource-agent>` in `xml`, read at compile time so that an
/// agent's name is written once, in its metadata ([`crate::Agent::NAME`]); a document without
/// one fails the build. It reads the attribute as every agent's XML writes it, ` name="..."`
/// inside the first `<resource-agent` tag; [`Metadata::parse`] reads the same name, and
/// `testing::assert_params_match_metadata` checks that the two agree.
///
/// # Panics
/// When `xml` has no such attribute: at compile time, where `NAME` is a constant.
pub const fn agent_name(xml: &'static str) -> &'static str {
    const ATTRIBUTE: &[u8] = b" name=\"";
    let bytes = xml.as_bytes();
    let Some(tag) = find(bytes, b"<resource-agent", 0) else {
        panic!("the metadata has no <resource-agent> element");
    };
    let (Some(close), Some(attribute)) = (find(bytes, b">", tag), find(bytes, ATTRIBUTE, tag))
    else {
        panic!("<resource-agent> has no name attribute");
    };
    let start = attribute + ATTRIBUTE.len();
    let Some(end) = find(bytes, b"\"", start) else {
        panic!("<resource-agent> has no name attribute");
    };
    assert!(end < close, "<resource-agent> has no name attribute");
    let (_, rest) = bytes.split_at(start);
    let (name, _) = rest.split_at(end - start);
    match std::str::from_utf8(name) {
        Ok(name) if !name.is_empty() => name,
        _ => panic!("the name of <resource-agent> is empty or not UTF-8"),
    }
}

/// Where `needle` first stands in `haystack`, at or after `from`.
const fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while at + needle.len() <= haystack.len() {
        let mut i = 0;
        while i < needle.len() && haystack[at + i] == needle[i] {
            i += 1;
        }
        if i == needle.len() {
            return Some(at);
        }
        at += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const XML: &str = r#"<?xml version="1.0"?>
<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">
<resource-agent name="demo" version="0.1">
  <version>1.1</version>
  <longdesc lang="en">d</longdesc><shortdesc lang="en"> A demo </shortdesc>
  <parameters>
    <parameter name="ip" required="1" unique="1">
      <longdesc lang="en">x</longdesc><shortdesc lang="en">x</shortdesc>
      <content type="string"/>
    </parameter>
    <parameter name="count">
      <longdesc lang="en">x</longdesc><shortdesc lang="en">x</shortdesc>
      <content type="integer" default="5"/>
    </parameter>
  </parameters>
  <actions>
    <action name="start" timeout="20s"/>
    <action name="monitor" timeout="20s" interval="10s" depth="0" role="Promoted"/>
  </actions>
</resource-agent>"#;

    #[test]
    fn reads_params_and_actions() {
        let m = Metadata::parse(XML).unwrap();
        assert_eq!(m.name, "demo");
        assert_eq!(m.ocf_version, "1.1");
        assert_eq!(m.shortdesc, "A demo");
        let ip = m.param("ip").unwrap();
        assert!(ip.required && ip.unique);
        assert_eq!(ip.kind, ParamKind::String);
        let count = m.param("count").unwrap();
        assert_eq!(count.kind, ParamKind::Integer);
        assert_eq!(count.default.as_deref(), Some("5"));
        assert!(m.has_action("monitor"));
        assert!(!m.has_action("promote"));
        assert_eq!(m.actions[1].role.as_deref(), Some("Promoted"));
    }

    #[test]
    fn the_agent_name_is_read_from_the_metadata_at_compile_time() {
        const NAME: &str = agent_name(XML);
        assert_eq!(NAME, Metadata::parse(XML).unwrap().name);
        assert_eq!(
            agent_name("<?xml version=\"1.0\"?>\n<resource-agent name=\"x-y\" version=\"1\">"),
            "x-y"
        );
    }

    #[test]
    #[should_panic(expected = "no name attribute")]
    fn a_name_outside_the_tag_is_not_the_agents() {
        let _ = agent_name("<resource-agent version=\"1\"><parameter name=\"ip\"/>");
    }

    #[test]
    fn rejects_garbage() {
        assert!(Metadata::parse("<nope/>").is_err());
        assert!(Metadata::parse("not xml").is_err());
    }
}
