//! What a man page shows of an OCF metadata document: descriptions, parameters, actions.
//! (`ocf::Metadata` reads the typing side only; the page also needs the prose.)

/// One `<parameter>`.
#[derive(Debug, PartialEq, Eq)]
pub struct Param {
    pub name: String,
    pub required: bool,
    pub unique: bool,
    /// OCF 1.1's `unique-group`: the values of the group's parameters together must differ
    /// between resources of the agent (pcs refuses a duplicate).
    pub unique_group: Option<String>,
    pub kind: String,
    pub default: Option<String>,
    pub shortdesc: String,
    pub longdesc: String,
}

/// One `<action>`, its attributes in document order (`timeout`, `interval`, `depth`, `role`).
#[derive(Debug, PartialEq, Eq)]
pub struct Action {
    pub name: String,
    pub attrs: Vec<(String, String)>,
}

/// The agent as its metadata describes it.
#[derive(Debug, PartialEq, Eq)]
pub struct Agent {
    pub name: String,
    pub shortdesc: String,
    pub longdesc: String,
    pub params: Vec<Param>,
    pub actions: Vec<Action>,
}

impl Agent {
    pub fn parse(xml: &str) -> Result<Agent, String> {
        let options = roxmltree::ParsingOptions {
            allow_dtd: true,
            ..roxmltree::ParsingOptions::default()
        };
        let doc =
            roxmltree::Document::parse_with_options(xml, options).map_err(|e| e.to_string())?;
        let root = doc.root_element();
        if !root.has_tag_name("resource-agent") {
            return Err(format!(
                "root element is <{}>, not <resource-agent>",
                root.tag_name().name()
            ));
        }
        let name = root
            .attribute("name")
            .filter(|n| !n.is_empty())
            .ok_or("<resource-agent> has no name")?
            .to_owned();
        let params = children(root, "parameters")
            .flat_map(|list| children(list, "parameter"))
            .map(|p| {
                let content = children(p, "content").next();
                Ok(Param {
                    name: p
                        .attribute("name")
                        .ok_or("a <parameter> has no name")?
                        .to_owned(),
                    required: p.attribute("required") == Some("1"),
                    unique: p.attribute("unique") == Some("1"),
                    unique_group: p.attribute("unique-group").map(str::to_owned),
                    kind: content
                        .and_then(|c| c.attribute("type"))
                        .unwrap_or("string")
                        .to_owned(),
                    default: content
                        .and_then(|c| c.attribute("default"))
                        .map(str::to_owned),
                    shortdesc: desc(p, "shortdesc"),
                    longdesc: desc(p, "longdesc"),
                })
            })
            .collect::<Result<Vec<_>, &str>>()?;
        let actions = children(root, "actions")
            .flat_map(|list| children(list, "action"))
            .map(|a| Action {
                name: a.attribute("name").unwrap_or_default().to_owned(),
                attrs: a
                    .attributes()
                    .filter(|at| at.name() != "name")
                    .map(|at| (at.name().to_owned(), at.value().to_owned()))
                    .collect(),
            })
            .collect();
        Ok(Agent {
            name,
            shortdesc: desc(root, "shortdesc"),
            longdesc: desc(root, "longdesc"),
            params,
            actions,
        })
    }
}

fn children<'a, 'i>(
    node: roxmltree::Node<'a, 'i>,
    tag: &'static str,
) -> impl Iterator<Item = roxmltree::Node<'a, 'i>> {
    node.children().filter(move |c| c.has_tag_name(tag))
}

/// The English (or language-less) `<shortdesc>`/`<longdesc>` child's text.
fn desc(node: roxmltree::Node, tag: &'static str) -> String {
    let mut all: Vec<_> = children(node, tag).collect();
    all.sort_by_key(|d| !matches!(d.attribute("lang"), None | Some("en")));
    all.first()
        .map(|d| d.text().unwrap_or_default().trim().to_owned())
        .unwrap_or_default()
}

#[cfg(test)]
pub(crate) const SAMPLE: &str = r#"<?xml version="1.0"?>
<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd" [
<!-- a comment -->
<!ATTLIST parameter unique-group CDATA #IMPLIED>
]>
<resource-agent name="ip-thing" version="0.1.0">
<version>1.1</version>
<longdesc lang="de">Deutsch</longdesc>
<longdesc lang="en">Manages a floating address.

.A second paragraph, starting with a dot; a back\slash; café.</longdesc>
<shortdesc lang="en">Floating IP address</shortdesc>
<parameters>
<parameter name="ip" unique="1" unique-group="address" required="1">
<longdesc lang="en">The address to manage.</longdesc>
<shortdesc lang="en">IP address</shortdesc>
<content type="string" default=""/>
</parameter>
<parameter name="broadcast">
<longdesc lang="en">Broadcast address, or -.</longdesc>
<shortdesc lang="en">Broadcast</shortdesc>
<content type="string" default="-"/>
</parameter>
<parameter name="nic" unique-group="address">
<longdesc lang="en">The interface.</longdesc>
<shortdesc lang="en">Interface</shortdesc>
<content type="string"/>
</parameter>
</parameters>
<actions>
<action name="start" timeout="20s"/>
<action name="monitor" timeout="20s" interval="10s" depth="0"/>
<action name="meta-data" timeout="5s"/>
</actions>
</resource-agent>
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_descriptions_parameters_and_actions() {
        let agent = Agent::parse(SAMPLE).unwrap();
        assert_eq!(agent.name, "ip-thing");
        assert_eq!(agent.shortdesc, "Floating IP address");
        assert!(agent.longdesc.starts_with("Manages"), "{}", agent.longdesc);
        assert_eq!(agent.params.len(), 3);
        let ip = &agent.params[0];
        assert!(ip.required && ip.unique);
        assert_eq!(ip.unique_group.as_deref(), Some("address"));
        assert_eq!(agent.params[1].unique_group, None);
        assert_eq!(
            (ip.kind.as_str(), ip.default.as_deref()),
            ("string", Some(""))
        );
        assert_eq!(agent.params[1].default.as_deref(), Some("-"));
        assert_eq!(agent.actions[1].name, "monitor");
        assert_eq!(
            agent.actions[1].attrs,
            [("timeout", "20s"), ("interval", "10s"), ("depth", "0")]
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
    }

    #[test]
    fn rejects_what_is_not_agent_metadata() {
        assert!(Agent::parse("<other/>").unwrap_err().contains("<other>"));
        assert!(
            Agent::parse("<resource-agent/>")
                .unwrap_err()
                .contains("no name")
        );
        assert!(Agent::parse("<resource-agent").is_err());
    }
}
