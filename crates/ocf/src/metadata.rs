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

#[cfg(test)]
mod tests {
    use super::*;

    const XML: &str = r#"<?xml version="1.0"?>
<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">
<resource-agent name="demo" version="0.1">
  <version>1.1</version>
  <longdesc lang="en">d</longdesc><shortdesc lang="en">d</shortdesc>
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
    fn rejects_garbage() {
        assert!(Metadata::parse("<nope/>").is_err());
        assert!(Metadata::parse("not xml").is_err());
    }
}
