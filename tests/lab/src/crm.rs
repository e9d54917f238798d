//! The cluster's state as `crm_mon --output-as=xml` reports it.

use crate::paths::Paths;
use crate::step::{Context, Error, Result, awaiting};
use crate::sys::secs;
use crate::vm;
use std::thread::sleep;
use std::time::{Duration, Instant};

/// One resource instance (a clone has one per node).
#[derive(Clone, Debug)]
pub struct Instance {
    pub id: String,
    pub agent: String,
    pub role: String,
    pub node: Option<String>,
    pub failed: bool,
}

/// What crm_mon sees.
#[derive(Clone, Debug, Default)]
pub struct State {
    pub online: Vec<String>,
    pub instances: Vec<Instance>,
    /// Failed actions: "op on node: status (exit reason)".
    pub failures: Vec<String>,
}

impl State {
    pub fn parse(xml: &str) -> Result<State> {
        let doc = roxmltree::Document::parse(xml).context(|| "crm_mon XML".to_owned())?;
        let mut state = State::default();
        for n in doc.descendants() {
            match n.tag_name().name() {
                "node"
                    if n.parent().is_some_and(|p| p.tag_name().name() == "nodes")
                        && n.attribute("online") == Some("true") =>
                {
                    state
                        .online
                        .push(n.attribute("name").unwrap_or("").to_owned());
                }
                "resource" if n.ancestors().any(|a| a.tag_name().name() == "resources") => {
                    let nodes: Vec<String> = n
                        .children()
                        .filter(|c| c.tag_name().name() == "node")
                        .filter_map(|c| c.attribute("name").map(str::to_owned))
                        .collect();
                    let base = Instance {
                        id: n.attribute("id").unwrap_or("").to_owned(),
                        agent: n.attribute("resource_agent").unwrap_or("").to_owned(),
                        role: n.attribute("role").unwrap_or("").to_owned(),
                        node: None,
                        failed: n.attribute("failed") == Some("true"),
                    };
                    for node in &nodes {
                        state.instances.push(Instance {
                            node: Some(node.clone()),
                            ..base.clone()
                        });
                    }
                    if nodes.is_empty() {
                        state.instances.push(base);
                    }
                }
                "failure" => {
                    let a = |k: &str| n.attribute(k).unwrap_or("").to_owned();
                    state.failures.push(format!(
                        "{} on {}: {} (exit {} '{}')",
                        a("op_key"),
                        a("node"),
                        a("status"),
                        a("exitcode"),
                        a("exitreason")
                    ));
                }
                _ => {}
            }
        }
        Ok(state)
    }

    /// The first failed action on `node` whose operation key starts with `op_prefix`
    /// ("WebSite_monitor", "WebFS_"), as listed in `failures`.
    pub fn failure(&self, op_prefix: &str, node: &str) -> Option<String> {
        let on = format!(" on {node}:");
        self.failures
            .iter()
            .find(|f| f.starts_with(op_prefix) && f.contains(&on))
            .cloned()
    }

    /// Nodes where resource `id` runs in `role` ("Started", "Promoted", "Unpromoted").
    pub fn nodes(&self, id: &str, role: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .instances
            .iter()
            .filter(|i| i.id == id && i.role == role)
            .filter_map(|i| i.node.clone())
            .collect();
        v.sort();
        v
    }

    /// True when `id` runs in `role` on exactly `nodes`.
    pub fn is(&self, id: &str, role: &str, nodes: &[&str]) -> bool {
        self.nodes(id, role) == nodes.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>()
    }

    /// The tutorial's final state on `nodes`: WebData Promoted, dlm, WebFS and WebSite started
    /// on each, VirtualIP on one of them.
    pub fn active_active(&self, nodes: &[&str]) -> bool {
        self.is("WebData", "Promoted", nodes)
            && self.is("dlm", "Started", nodes)
            && self.is("WebFS", "Started", nodes)
            && self.is("WebSite", "Started", nodes)
            && self.nodes("VirtualIP", "Started").len() == 1
    }

    /// (resource id, agent) of every instance.
    pub fn agents(&self) -> Vec<(String, String)> {
        self.instances
            .iter()
            .map(|i| (i.id.clone(), i.agent.clone()))
            .collect()
    }

    /// One line per resource instance, for reports.
    pub fn summary(&self) -> String {
        let mut lines: Vec<String> = self
            .instances
            .iter()
            .map(|i| {
                format!(
                    "{} ({}) {} {}",
                    i.id,
                    i.agent,
                    i.role,
                    i.node.as_deref().unwrap_or("-")
                ) + if i.failed { " FAILED" } else { "" }
            })
            .collect();
        lines.extend(self.failures.iter().map(|f| format!("failed action: {f}")));
        lines.join("; ")
    }
}

/// crm_mon on `node`.
pub fn state(paths: &Paths, node: &str) -> Result<State> {
    let xml = vm::ssh_ok(paths, node, "crm_mon -1 -r --output-as=xml", secs(30))?;
    State::parse(&xml)
}

/// Polls crm_mon on `node` until `cond` holds; on timeout the error shows the last state.
pub fn wait(
    paths: &Paths,
    node: &str,
    what: &str,
    timeout: Duration,
    cond: impl Fn(&State) -> bool,
) -> Result<State> {
    let _w = awaiting(what);
    let deadline = Instant::now() + timeout;
    loop {
        let last = match state(paths, node) {
            Ok(s) if cond(&s) => return Ok(s),
            Ok(s) => s.summary(),
            Err(e) => e.0,
        };
        if Instant::now() >= deadline {
            return Err(Error(format!(
                "{what}: not reached within {} s; last seen: {last}",
                timeout.as_secs()
            )));
        }
        sleep(Duration::from_secs(2));
    }
}

#[cfg(test)]
mod tests {
    use super::State;

    const XML: &str = r#"<pacemaker-result api-version="2.30" request="crm_mon -1 -r --output-as=xml">
  <nodes>
    <node name="node1" id="1" online="true" standby="false"/>
    <node name="node2" id="2" online="false" standby="false"/>
  </nodes>
  <resources>
    <resource id="VirtualIP" resource_agent="ocf:native:ipaddr2" role="Started" active="true" failed="false">
      <node name="node1" id="1" cached="true"/>
    </resource>
    <clone id="WebData-clone" multi_state="true">
      <resource id="WebData" resource_agent="ocf:native:drbd-dualprimary" role="Promoted" failed="false">
        <node name="node1" id="1" cached="true"/>
      </resource>
      <resource id="WebData" resource_agent="ocf:native:drbd-dualprimary" role="Stopped" failed="false"/>
    </clone>
  </resources>
  <failures>
    <failure op_key="WebSite_monitor_60000" node="node1" exitstatus="not running" exitreason="httpd is gone" exitcode="7" status="complete"/>
  </failures>
</pacemaker-result>"#;

    #[test]
    fn parses_nodes_roles_and_failures() {
        let s = State::parse(XML).unwrap();
        assert_eq!(s.online, ["node1"]);
        assert!(s.is("VirtualIP", "Started", &["node1"]));
        assert!(s.is("WebData", "Promoted", &["node1"]));
        assert!(!s.is("WebData", "Promoted", &["node1", "node2"]));
        assert!(!s.active_active(&["node1", "node2"]));
        assert_eq!(s.failures.len(), 1);
        assert!(s.failures[0].starts_with("WebSite_monitor_60000 on node1:"));
        assert!(s.failures[0].contains("httpd is gone"));
        assert!(s.failure("WebSite_monitor", "node1").is_some());
        assert_eq!(s.failure("WebSite_monitor", "node2"), None);
        assert_eq!(s.failure("WebFS_", "node1"), None);
    }
}
