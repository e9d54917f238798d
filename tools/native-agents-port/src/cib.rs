//! The CIB's configuration as the port needs it: each primitive with its agent, the clones or
//! groups around it, its parameters, meta-attributes and operations; the nodes with their
//! permanent attributes; the cluster options. Read from `cibadmin --query`'s XML, never from
//! text meant for people.

use crate::Error;
use crate::agents::Agent;
use pacemaker_cli::ClusterOptions;
use roxmltree::{Document, Node};

/// A clone, group or bundle around a primitive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parent {
    /// `clone`, `master` (a promotable clone in the old schema), `group` or `bundle`.
    pub tag: String,
    pub id: String,
}

/// One `<op>` of a primitive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Op {
    pub name: String,
    pub interval: String,
    pub timeout: Option<String>,
    pub role: Option<String>,
}

/// One `<primitive>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Primitive {
    pub id: String,
    pub agent: Agent,
    /// Innermost first: the group, then the clone around it.
    pub parents: Vec<Parent>,
    /// Instance attributes, in document order, the first of a name winning.
    pub params: Vec<(String, String)>,
    /// Meta-attributes of the primitive, then of each parent (the nearest wins).
    pub meta: Vec<(String, String)>,
    pub ops: Vec<Op>,
    /// Attribute sets with a `<rule>`: not evaluated here, so not compared (named in the report).
    pub ruled_sets: Vec<String>,
}

impl Primitive {
    /// The clone around this primitive (directly or around its group).
    pub fn clone_parent(&self) -> Option<&Parent> {
        self.parents
            .iter()
            .find(|p| p.tag == "clone" || p.tag == "master")
    }

    /// A meta-attribute's value, by its name with dashes or underscores.
    pub fn meta(&self, name: &str) -> Option<&str> {
        let wanted = name.replace('_', "-");
        self.meta
            .iter()
            .find(|(n, _)| n.replace('_', "-") == wanted)
            .map(|(_, v)| v.as_str())
    }

    /// True for an instance of a promotable clone.
    pub fn is_promotable(&self) -> bool {
        self.parents.iter().any(|p| p.tag == "master")
            || (self.clone_parent().is_some()
                && self
                    .meta("promotable")
                    .and_then(ocf::params::parse_bool)
                    .unwrap_or(false))
    }

    /// "WebSite (in clone WebSite-clone)": how the report names it.
    pub fn describe(&self) -> String {
        match self.parents.as_slice() {
            [] => self.id.clone(),
            parents => {
                let within: Vec<String> = parents
                    .iter()
                    .map(|p| format!("{} {}", p.tag, p.id))
                    .collect();
                format!("{} (in {})", self.id, within.join(", in "))
            }
        }
    }

    /// The timeout of operation `name` (interval 0) as configured, if any.
    pub fn op_timeout(&self, name: &str) -> Option<&str> {
        self.ops
            .iter()
            .find(|o| o.name == name && is_zero_interval(&o.interval))
            .and_then(|o| o.timeout.as_deref())
    }
}

fn is_zero_interval(interval: &str) -> bool {
    ocf::params::parse_duration(interval, std::time::Duration::from_secs(1))
        .is_some_and(|d| d.is_zero())
}

/// One cluster node of the `<nodes>` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterNode {
    pub id: String,
    pub uname: String,
    /// `member` (the default), `remote` or `ping`.
    pub kind: String,
    /// Its permanent node attributes.
    pub attributes: Vec<(String, String)>,
}

impl ClusterNode {
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What the port reads from the configuration section.
#[derive(Debug, Clone)]
pub struct Configuration {
    pub primitives: Vec<Primitive>,
    pub nodes: Vec<ClusterNode>,
    pub options: ClusterOptions,
}

impl Configuration {
    pub fn primitive(&self, id: &str) -> Option<&Primitive> {
        self.primitives.iter().find(|p| p.id == id)
    }

    /// Member nodes (not Pacemaker Remote nodes, not quorum-only ones).
    pub fn members(&self) -> impl Iterator<Item = &ClusterNode> {
        self.nodes.iter().filter(|n| n.kind == "member")
    }
}

pub(crate) fn parse_doc<'i>(what: &str, xml: &'i str) -> Result<Document<'i>, Error> {
    Document::parse(xml).map_err(|e| Error::Xml {
        what: what.to_owned(),
        detail: e.to_string(),
    })
}

/// Parse a whole CIB (or just its `<configuration>`).
pub fn parse(xml: &str) -> Result<Configuration, Error> {
    let doc = parse_doc("the CIB", xml)?;
    let config = doc
        .descendants()
        .find(|n| n.has_tag_name("configuration"))
        .ok_or_else(|| Error::Xml {
            what: "the CIB".into(),
            detail: "no <configuration> section".into(),
        })?;
    let mut primitives = Vec::new();
    if let Some(resources) = config.children().find(|n| n.has_tag_name("resources")) {
        for node in resources
            .descendants()
            .filter(|n| n.has_tag_name("primitive"))
        {
            primitives.push(primitive(&doc, node));
        }
    }
    let mut nodes = Vec::new();
    if let Some(list) = config.children().find(|n| n.has_tag_name("nodes")) {
        for node in list.children().filter(|n| n.has_tag_name("node")) {
            let mut attributes = Vec::new();
            let mut ruled = Vec::new();
            collect_sets(
                &doc,
                node,
                "instance_attributes",
                &mut attributes,
                &mut ruled,
            );
            nodes.push(ClusterNode {
                id: node.attribute("id").unwrap_or_default().to_owned(),
                uname: node.attribute("uname").unwrap_or_default().to_owned(),
                kind: node.attribute("type").unwrap_or("member").to_owned(),
                attributes,
            });
        }
    }
    let options = ClusterOptions::parse(xml)?;
    Ok(Configuration {
        primitives,
        nodes,
        options,
    })
}

fn primitive(doc: &Document<'_>, node: Node<'_, '_>) -> Primitive {
    let attr = |n: &str| node.attribute(n).unwrap_or_default();
    let parents: Vec<Parent> = node
        .ancestors()
        .skip(1)
        .take_while(|a| !a.has_tag_name("resources"))
        .filter(Node::is_element)
        .map(|a| Parent {
            tag: a.tag_name().name().to_owned(),
            id: a.attribute("id").unwrap_or_default().to_owned(),
        })
        .collect();
    let mut params = Vec::new();
    let mut meta = Vec::new();
    let mut ruled_sets = Vec::new();
    collect_sets(
        doc,
        node,
        "instance_attributes",
        &mut params,
        &mut ruled_sets,
    );
    collect_sets(doc, node, "meta_attributes", &mut meta, &mut ruled_sets);
    for ancestor in node
        .ancestors()
        .skip(1)
        .take_while(|a| !a.has_tag_name("resources"))
    {
        collect_sets(doc, ancestor, "meta_attributes", &mut meta, &mut ruled_sets);
    }
    let ops = node
        .children()
        .filter(|n| n.has_tag_name("operations"))
        .flat_map(|list| list.children().filter(|n| n.has_tag_name("op")))
        .map(|op| Op {
            name: op.attribute("name").unwrap_or_default().to_owned(),
            interval: op.attribute("interval").unwrap_or("0").to_owned(),
            timeout: op.attribute("timeout").map(str::to_owned),
            role: op.attribute("role").map(str::to_owned),
        })
        .collect();
    Primitive {
        id: attr("id").to_owned(),
        agent: Agent::new(attr("class"), attr("provider"), attr("type")),
        parents,
        params,
        meta,
        ops,
        ruled_sets,
    }
}

/// The `name`/`value` pairs of `owner`'s attribute sets of kind `tag`, appended to `into`
/// (a name already there keeps its value). A set or pair given by `id-ref` is looked up; a set
/// with a rule is not evaluated and only named in `ruled`.
fn collect_sets(
    doc: &Document<'_>,
    owner: Node<'_, '_>,
    tag: &str,
    into: &mut Vec<(String, String)>,
    ruled: &mut Vec<String>,
) {
    for set in owner.children().filter(|n| n.has_tag_name(tag)) {
        let set = resolve(doc, set);
        if set.children().any(|n| n.has_tag_name("rule")) {
            ruled.push(set.attribute("id").unwrap_or_default().to_owned());
            continue;
        }
        for pair in set.children().filter(|n| n.has_tag_name("nvpair")) {
            let pair = resolve(doc, pair);
            let (Some(name), Some(value)) = (pair.attribute("name"), pair.attribute("value"))
            else {
                continue;
            };
            if !into.iter().any(|(n, _)| n == name) {
                into.push((name.to_owned(), value.to_owned()));
            }
        }
    }
}

/// The element an `id-ref` points to (the element itself when it has none, or when nothing
/// of that tag has that id).
fn resolve<'a, 'i>(doc: &'a Document<'i>, node: Node<'a, 'i>) -> Node<'a, 'i> {
    let Some(target) = node.attribute("id-ref") else {
        return node;
    };
    doc.descendants()
        .find(|n| n.tag_name() == node.tag_name() && n.attribute("id") == Some(target))
        .unwrap_or(node)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const TUTORIAL: &str = include_str!("../tests/fixtures/tutorial-shell.cib.xml");

    #[test]
    fn reads_the_tutorials_primitives() {
        let config = parse(TUTORIAL).unwrap();
        let ids: Vec<&str> = config.primitives.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["VirtualIP", "WebData", "dlm", "WebFS", "WebSite"]);

        let vip = config.primitive("VirtualIP").unwrap();
        assert_eq!(vip.agent.to_string(), "ocf:heartbeat:IPaddr2");
        assert!(vip.parents.is_empty());
        assert_eq!(
            vip.params,
            [
                ("cidr_netmask".to_owned(), "24".to_owned()),
                ("ip".to_owned(), "10.1.1.100".to_owned())
            ]
        );
        assert_eq!(vip.op_timeout("start"), Some("20s"));
        assert_eq!(vip.describe(), "VirtualIP");

        let data = config.primitive("WebData").unwrap();
        assert_eq!(data.agent.to_string(), "ocf:linbit:drbd");
        assert!(data.is_promotable());
        assert_eq!(data.meta("promoted-max"), Some("2"));
        assert_eq!(data.meta("clone_max"), Some("2"));
        assert_eq!(data.describe(), "WebData (in clone WebData-clone)");
        assert_eq!(data.ops.len(), 9);
        assert_eq!(data.ops[7].role.as_deref(), Some("Promoted"));

        let site = config.primitive("WebSite").unwrap();
        assert!(!site.is_promotable());
        assert_eq!(
            site.clone_parent().map(|p| p.id.as_str()),
            Some("WebSite-clone")
        );
        assert!(!config.options.fencing_enabled());
        let nodes: Vec<&str> = config.members().map(|n| n.uname.as_str()).collect();
        assert_eq!(nodes, ["node1", "node2"]);
    }

    #[test]
    fn nearest_meta_wins_and_rules_are_named_not_guessed() {
        let xml = r##"<cib><configuration><crm_config/><nodes>
          <node id="1" uname="a"><instance_attributes id="n1"><nvpair id="n1v" name="native-agents-version" value="0.1.0"/></instance_attributes></node>
          <node id="r" uname="remote1" type="remote"/>
          </nodes><resources>
          <clone id="c"><meta_attributes id="cm"><nvpair id="cm1" name="notify" value="true"/><nvpair id="cm2" name="target-role" value="Started"/></meta_attributes>
            <group id="g"><meta_attributes id="gm"><nvpair id="gm1" name="target-role" value="Stopped"/></meta_attributes>
              <primitive id="p" class="ocf" provider="heartbeat" type="IPaddr2">
                <instance_attributes id="pi"><nvpair id="pi1" name="ip" value="192.0.2.1"/><nvpair id-ref="shared-nic"/></instance_attributes>
                <instance_attributes id="pr"><rule id="r1" score="INFINITY"><expression id="e" attribute="#uname" operation="eq" value="a"/></rule><nvpair id="pr1" name="nic" value="eth9"/></instance_attributes>
                <meta_attributes id-ref="pm-shared"/>
              </primitive>
            </group>
          </clone>
          <primitive id="q" class="ocf" provider="heartbeat" type="Dummy">
            <meta_attributes id="pm-shared"><nvpair id="pm1" name="is-managed" value="true"/></meta_attributes>
            <instance_attributes id="qi"><nvpair id="shared-nic" name="nic" value="eth0"/></instance_attributes>
          </primitive>
          </resources></configuration></cib>"##;
        let config = parse(xml).unwrap();
        let p = config.primitive("p").unwrap();
        assert_eq!(
            p.parents,
            [
                Parent {
                    tag: "group".into(),
                    id: "g".into()
                },
                Parent {
                    tag: "clone".into(),
                    id: "c".into()
                }
            ]
        );
        assert_eq!(
            p.meta("target-role"),
            Some("Stopped"),
            "the group is nearer"
        );
        assert_eq!(p.meta("notify"), Some("true"));
        assert_eq!(p.meta("is-managed"), Some("true"), "a set by id-ref");
        assert_eq!(
            p.params,
            [
                ("ip".to_owned(), "192.0.2.1".to_owned()),
                ("nic".to_owned(), "eth0".to_owned())
            ],
            "an nvpair by id-ref; the ruled set is not applied"
        );
        assert_eq!(p.ruled_sets, ["pr"]);
        assert_eq!(p.describe(), "p (in group g, in clone c)");
        assert_eq!(config.members().count(), 1);
        assert_eq!(
            config.nodes[0].attribute("native-agents-version"),
            Some("0.1.0")
        );
    }

    #[test]
    fn old_schema_master_is_promotable() {
        let xml = r#"<cib><configuration><crm_config/><nodes/><resources>
          <master id="ms"><primitive id="d" class="ocf" provider="linbit" type="drbd"/></master>
          </resources></configuration></cib>"#;
        let config = parse(xml).unwrap();
        assert!(config.primitive("d").unwrap().is_promotable());
    }

    #[test]
    fn not_a_cib_is_an_error() {
        assert!(parse("<cib/>").is_err());
        assert!(parse("<cib").is_err());
    }
}
