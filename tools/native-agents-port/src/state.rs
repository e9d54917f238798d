//! What the cluster is doing, from Pacemaker's XML: `crm_mon --output-as=xml` (nodes, where
//! each resource runs and in which role, failed actions, pending fencing), the CIB's status
//! section (each node's operation history: which agent probed a resource, with what result)
//! and a transition graph from `crm_simulate` (what Pacemaker would do next).

use crate::Error;
use crate::agents::Agent;
use crate::cib::parse_doc;
use std::collections::BTreeSet;

/// A resource active on a node, in a role.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Instance {
    /// The primitive's id (a unique clone's `:N` suffix removed).
    pub resource: String,
    pub node: String,
    /// `Started`, `Promoted` or `Unpromoted`.
    pub role: String,
}

/// A node as crm_mon shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonNode {
    pub name: String,
    pub online: bool,
    pub standby: bool,
    pub maintenance: bool,
    pub pending: bool,
    pub unclean: bool,
    pub shutdown: bool,
    /// `member`, `remote`, ...
    pub kind: String,
}

/// A failed action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub op_key: String,
    pub node: String,
    pub status: String,
    pub reason: String,
}

impl std::fmt::Display for Failure {
    /// "WebSite_start_0 on node2 (error: httpd exited)".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} on {} ({}", self.op_key, self.node, self.status)?;
        if !self.reason.is_empty() {
            write!(f, ": {}", self.reason)?;
        }
        write!(f, ")")
    }
}

impl Failure {
    /// True when this failure is an operation of primitive `id`.
    pub fn of(&self, id: &str) -> bool {
        self.op_key
            .strip_prefix(id)
            .is_some_and(|rest| rest.starts_with('_') || rest.starts_with(':'))
    }
}

/// The cluster as `crm_mon -1 --output-as=xml` shows it.
#[derive(Debug, Clone, Default)]
pub struct Mon {
    pub dc: Option<String>,
    pub quorum: bool,
    pub maintenance_mode: bool,
    pub nodes: Vec<MonNode>,
    pub instances: BTreeSet<Instance>,
    pub failures: Vec<Failure>,
    /// Resources crm_mon flags as failed or blocked.
    pub troubled: Vec<String>,
    /// Fencing actions not finished: "reboot of node2".
    pub pending_fencing: Vec<String>,
}

impl Mon {
    /// Where primitive `id` is active, and in which role.
    pub fn instances_of(&self, id: &str) -> BTreeSet<Instance> {
        self.instances
            .iter()
            .filter(|i| i.resource == id)
            .cloned()
            .collect()
    }
}

fn flag(node: roxmltree::Node<'_, '_>, name: &str) -> bool {
    node.attribute(name) == Some("true")
}

/// A unique clone instance's id without its `:N`.
fn primitive_id(id: &str) -> &str {
    match id.rsplit_once(':') {
        Some((base, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => base,
        _ => id,
    }
}

/// Roles in Pacemaker 2.1's and 3's words.
fn role(word: &str) -> String {
    match word {
        "Master" => "Promoted".to_owned(),
        "Slave" => "Unpromoted".to_owned(),
        other => other.to_owned(),
    }
}

pub fn parse_mon(xml: &str) -> Result<Mon, Error> {
    let doc = parse_doc("crm_mon's XML", xml)?;
    let mut mon = Mon::default();
    for n in doc.descendants() {
        match n.tag_name().name() {
            "current_dc" if flag(n, "present") => {
                mon.dc = n.attribute("name").map(str::to_owned);
                mon.quorum = flag(n, "with_quorum");
            }
            "cluster_options" => mon.maintenance_mode = flag(n, "maintenance-mode"),
            "node" if n.parent().is_some_and(|p| p.has_tag_name("nodes")) => {
                mon.nodes.push(MonNode {
                    name: n.attribute("name").unwrap_or_default().to_owned(),
                    online: flag(n, "online"),
                    standby: flag(n, "standby"),
                    maintenance: flag(n, "maintenance"),
                    pending: flag(n, "pending"),
                    unclean: flag(n, "unclean"),
                    shutdown: flag(n, "shutdown"),
                    kind: n.attribute("type").unwrap_or("member").to_owned(),
                });
            }
            "resource" if n.ancestors().any(|a| a.has_tag_name("resources")) => {
                let id = primitive_id(n.attribute("id").unwrap_or_default());
                if flag(n, "failed") || flag(n, "blocked") {
                    mon.troubled.push(id.to_owned());
                }
                if !flag(n, "active") {
                    continue;
                }
                for node in n.children().filter(|c| c.has_tag_name("node")) {
                    mon.instances.insert(Instance {
                        resource: id.to_owned(),
                        node: node.attribute("name").unwrap_or_default().to_owned(),
                        role: role(n.attribute("role").unwrap_or_default()),
                    });
                }
            }
            "failure" => mon.failures.push(Failure {
                op_key: n.attribute("op_key").unwrap_or_default().to_owned(),
                node: n.attribute("node").unwrap_or_default().to_owned(),
                status: n.attribute("exitstatus").unwrap_or_default().to_owned(),
                reason: n.attribute("exitreason").unwrap_or_default().to_owned(),
            }),
            "fence_event" if n.attribute("status") == Some("pending") => {
                mon.pending_fencing.push(format!(
                    "{} of {}",
                    n.attribute("action").unwrap_or("fencing"),
                    n.attribute("target").unwrap_or("?")
                ));
            }
            _ => {}
        }
    }
    if !doc.descendants().any(|n| n.has_tag_name("nodes")) {
        return Err(Error::Xml {
            what: "crm_mon's XML".into(),
            detail: "no <nodes> section".into(),
        });
    }
    Ok(mon)
}

/// One recorded operation of a resource on a node (`<lrm_rsc_op>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryOp {
    /// `WebSite_last_0`, `WebSite_monitor_10000`, ...
    pub id: String,
    pub key: String,
    pub operation: String,
    pub interval_ms: u64,
    pub call_id: i64,
    pub rc: i32,
    /// 0 done, -1 pending, others: cancelled, timed out, not installed...
    pub op_status: i32,
}

/// A node's operation history for one resource (`<lrm_resource>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct History {
    pub node: String,
    pub resource: String,
    /// The agent the history was recorded with.
    pub agent: Agent,
    pub ops: Vec<HistoryOp>,
}

impl History {
    /// The finished probe (a monitor of interval 0 no longer pending), if one is recorded;
    /// whatever it found (its rc, or an agent not installed) is crm_mon's to tell.
    pub fn probe(&self) -> Option<&HistoryOp> {
        self.ops
            .iter()
            .find(|o| o.operation == "monitor" && o.interval_ms == 0 && o.op_status != -1)
    }

    /// The last one-shot operation (`*_last_0`: start, stop, promote, demote, probe...).
    pub fn last(&self) -> Option<&HistoryOp> {
        self.ops.iter().find(|o| o.id.ends_with("_last_0"))
    }
}

/// Every node's operation history in a CIB's status section.
pub fn parse_history(xml: &str) -> Result<Vec<History>, Error> {
    let doc = parse_doc("the CIB's status", xml)?;
    let mut all = Vec::new();
    for state in doc.descendants().filter(|n| n.has_tag_name("node_state")) {
        let node = state.attribute("uname").unwrap_or_default();
        for rsc in state
            .descendants()
            .filter(|n| n.has_tag_name("lrm_resource"))
        {
            let attr = |n: &str| rsc.attribute(n).unwrap_or_default();
            let ops = rsc
                .children()
                .filter(|n| n.has_tag_name("lrm_rsc_op"))
                .map(|op| {
                    let text = |n: &str| op.attribute(n).unwrap_or_default().to_owned();
                    let number = |n: &str| op.attribute(n).and_then(|v| v.parse::<i64>().ok());
                    HistoryOp {
                        id: text("id"),
                        key: text("operation_key"),
                        operation: text("operation"),
                        interval_ms: number("interval")
                            .and_then(|v| u64::try_from(v).ok())
                            .unwrap_or(0),
                        call_id: number("call-id").unwrap_or(-1),
                        rc: number("rc-code")
                            .and_then(|v| i32::try_from(v).ok())
                            .unwrap_or(-1),
                        op_status: number("op-status")
                            .and_then(|v| i32::try_from(v).ok())
                            .unwrap_or(-1),
                    }
                })
                .collect();
            all.push(History {
                node: node.to_owned(),
                resource: primitive_id(attr("id")).to_owned(),
                agent: Agent::new(attr("class"), attr("provider"), attr("type")),
                ops,
            });
        }
    }
    Ok(all)
}

/// What a transition graph would do that is more than watching: every resource operation but
/// monitors and their cancellation, and any fencing or shutdown of a node. Empty when the
/// transition only (re)starts recurring monitors.
pub fn disruptions(graph_xml: &str) -> Result<Vec<String>, Error> {
    let doc = parse_doc("crm_simulate's transition graph", graph_xml)?;
    if !doc.root_element().has_tag_name("transition_graph") {
        return Err(Error::Xml {
            what: "crm_simulate's transition graph".into(),
            detail: format!("root element <{}>", doc.root_element().tag_name().name()),
        });
    }
    let mut found = Vec::new();
    for action in doc.descendants() {
        let operation = action.attribute("operation").unwrap_or_default();
        let node = action.attribute("on_node").unwrap_or("?");
        match action.tag_name().name() {
            "rsc_op" if !matches!(operation, "monitor" | "cancel") => {
                let rsc = action
                    .children()
                    .find(|c| c.has_tag_name("primitive"))
                    .and_then(|p| p.attribute("id"))
                    .unwrap_or("?");
                found.push(format!("{operation} {rsc} on {node}"));
            }
            "crm_event" if matches!(operation, "stonith" | "do_shutdown") => {
                found.push(format!("{operation} of {node}"));
            }
            _ => {}
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// crm_mon -1 --output-as=xml of Pacemaker 2.1.5 with the tutorial's resources on two
    /// nodes (shape as captured on this project's one-node cluster, nodes and roles as the
    /// lab shows them).
    const MON: &str = r#"<pacemaker-result api-version="2.25" request="crm_mon -1 --output-as=xml">
  <pacemakerd sys_from="pacemakerd" state="running" last_updated="2026-12-01 15:24:59Z"/>
  <summary>
    <stack type="corosync"/>
    <current_dc present="true" version="2.1.5-a3f44794f94" name="node1" id="1" with_quorum="true" mixed_version="false"/>
    <nodes_configured number="2"/>
    <cluster_options stonith-enabled="false" symmetric-cluster="true" no-quorum-policy="stop" maintenance-mode="false" stop-all-resources="false" stonith-timeout-ms="60000" priority-fencing-delay-ms="0"/>
  </summary>
  <nodes>
    <node name="node1" id="1" online="true" standby="false" standby_onfail="false" maintenance="false" pending="false" unclean="false" health="green" feature_set="3.16.1" shutdown="false" expected_up="true" is_dc="true" resources_running="5" type="member"/>
    <node name="node2" id="2" online="true" standby="false" standby_onfail="false" maintenance="false" pending="false" unclean="false" health="green" feature_set="3.16.1" shutdown="false" expected_up="true" is_dc="false" resources_running="4" type="member"/>
  </nodes>
  <resources>
    <resource id="VirtualIP" resource_agent="ocf:heartbeat:IPaddr2" role="Started" active="true" orphaned="false" blocked="false" managed="true" failed="false" failure_ignored="false" nodes_running_on="1">
      <node name="node1" id="1" cached="true"/>
    </resource>
    <clone id="WebData-clone" multi_state="true" unique="false" managed="true" disabled="false" failed="false" failure_ignored="false">
      <resource id="WebData" resource_agent="ocf:linbit:drbd" role="Promoted" active="true" orphaned="false" blocked="false" managed="true" failed="false" failure_ignored="false" nodes_running_on="1">
        <node name="node1" id="1" cached="true"/>
      </resource>
      <resource id="WebData" resource_agent="ocf:linbit:drbd" role="Master" active="true" orphaned="false" blocked="false" managed="true" failed="false" failure_ignored="false" nodes_running_on="1">
        <node name="node2" id="2" cached="true"/>
      </resource>
    </clone>
    <clone id="WebSite-clone" multi_state="false" unique="false" managed="true" disabled="false" failed="false" failure_ignored="false">
      <resource id="WebSite" resource_agent="ocf:heartbeat:apache" role="Started" active="true" orphaned="false" blocked="false" managed="true" failed="false" failure_ignored="false" nodes_running_on="1">
        <node name="node1" id="1" cached="true"/>
      </resource>
      <resource id="WebSite" resource_agent="ocf:heartbeat:apache" role="Stopped" active="false" orphaned="false" blocked="false" managed="true" failed="false" failure_ignored="false" nodes_running_on="0"/>
    </clone>
  </resources>
  <node_history/>
  <failures>
    <failure op_key="WebSite_start_0" node="node2" exitstatus="error" exitreason="httpd exited" exitcode="1" call="12" status="complete" interval="0"/>
  </failures>
  <fence_history>
    <fence_event action="reboot" target="node3" client="stonith_admin" origin="node1" status="pending"/>
    <fence_event action="off" target="node4" client="pacemaker-controld" origin="node1" status="success" completed="2026-12-01 15:00:00Z"/>
  </fence_history>
  <status code="0" message="OK"/>
</pacemaker-result>"#;

    #[test]
    fn reads_nodes_roles_failures_and_fencing() {
        let mon = parse_mon(MON).unwrap();
        assert_eq!(mon.dc.as_deref(), Some("node1"));
        assert!(mon.quorum);
        assert!(!mon.maintenance_mode);
        assert_eq!(mon.nodes.len(), 2);
        assert!(mon.nodes.iter().all(|n| n.online && n.kind == "member"));
        let data: Vec<(String, String)> = mon
            .instances_of("WebData")
            .into_iter()
            .map(|i| (i.node, i.role))
            .collect();
        assert_eq!(
            data,
            [
                ("node1".to_owned(), "Promoted".to_owned()),
                ("node2".to_owned(), "Promoted".to_owned())
            ],
            "Master is Promoted"
        );
        assert_eq!(
            mon.instances_of("WebSite").len(),
            1,
            "the stopped instance is not active"
        );
        assert_eq!(mon.failures.len(), 1);
        assert!(mon.failures[0].of("WebSite"));
        assert_eq!(
            mon.failures[0].to_string(),
            "WebSite_start_0 on node2 (error: httpd exited)"
        );
        assert!(!mon.failures[0].of("Web"));
        assert_eq!(mon.pending_fencing, ["reboot of node3"]);
    }

    /// `cibadmin --query --scope status` after `crm_resource --refresh` of a clone whose agent
    /// changed, captured on Pacemaker 2.1.5: the probe is recorded twice (last and
    /// last_failure, since it found the resource running where 7 was expected).
    const STATUS: &str = r#"<status>
  <node_state id="1" uname="vm" in_ccm="true" crmd="online" crm-debug-origin="do_update_resource" join="member" expected="member">
    <lrm id="1">
      <lrm_resources>
        <lrm_resource id="expc" type="Dummy" class="ocf" provider="pacemaker">
          <lrm_rsc_op id="expc_last_0" operation_key="expc_monitor_0" operation="monitor" crm-debug-origin="do_update_resource" crm_feature_set="3.16.1" transition-key="1:4:7:19afbd2c-e3b1-4857-81a5-b61af442f983" transition-magic="0:0;1:4:7:19afbd2c-e3b1-4857-81a5-b61af442f983" exit-reason="" on_node="vm" call-id="15" rc-code="0" op-status="0" interval="0" last-rc-change="1796138698" exec-time="16" queue-time="0" op-digest="bbd623aea5893d969fe1353e0f9d2d7d"/>
          <lrm_rsc_op id="expc_last_failure_0" operation_key="expc_monitor_0" operation="monitor" crm-debug-origin="do_update_resource" crm_feature_set="3.16.1" transition-key="1:4:7:19afbd2c-e3b1-4857-81a5-b61af442f983" transition-magic="0:0;1:4:7:19afbd2c-e3b1-4857-81a5-b61af442f983" exit-reason="" on_node="vm" call-id="15" rc-code="0" op-status="0" interval="0" last-rc-change="1796138698" exec-time="16" queue-time="0" op-digest="bbd623aea5893d969fe1353e0f9d2d7d"/>
          <lrm_rsc_op id="expc_monitor_10000" operation_key="expc_monitor_10000" operation="monitor" crm-debug-origin="do_update_resource" crm_feature_set="3.16.1" transition-key="3:6:0:19afbd2c-e3b1-4857-81a5-b61af442f983" transition-magic="0:0;3:6:0:19afbd2c-e3b1-4857-81a5-b61af442f983" exit-reason="" on_node="vm" call-id="16" rc-code="0" op-status="0" interval="10000" last-rc-change="1796138701" exec-time="36" queue-time="0" op-digest="2fce190b701f8b7a0a8951bac61b6f08"/>
        </lrm_resource>
        <lrm_resource id="u:1" type="IPaddr2" class="ocf" provider="heartbeat">
          <lrm_rsc_op id="u:1_last_0" operation_key="u:1_monitor_0" operation="monitor" call-id="-1" rc-code="193" op-status="-1" interval="0"/>
        </lrm_resource>
      </lrm_resources>
    </lrm>
  </node_state>
</status>"#;

    #[test]
    fn reads_who_probed_with_which_agent() {
        let all = parse_history(STATUS).unwrap();
        assert_eq!(all.len(), 2);
        let expc = &all[0];
        assert_eq!(expc.node, "vm");
        assert_eq!(expc.agent.to_string(), "ocf:pacemaker:Dummy");
        let probe = expc.probe().unwrap();
        assert_eq!((probe.rc, probe.call_id), (0, 15));
        assert_eq!(expc.last().unwrap().key, "expc_monitor_0");
        let pending = &all[1];
        assert_eq!(
            pending.resource, "u",
            "a unique instance counts for its primitive"
        );
        assert_eq!(pending.probe(), None, "a pending probe is not a result");
    }

    /// `crm_simulate -x <cib with maintenance-mode=false> -G graph.xml` after the refresh,
    /// captured on Pacemaker 2.1.5: only the recurring monitor comes back.
    const GRAPH_QUIET: &str = r#"<transition_graph cluster-delay="60s" stonith-timeout="60s" failed-stop-offset="INFINITY" failed-start-offset="INFINITY" batch-limit="0" transition_id="0">
  <synapse id="0">
    <action_set>
      <rsc_op id="3" operation="monitor" operation_key="expc_monitor_10000" internal_operation_key="expc:0_monitor_10000" on_node="vm" on_node_uuid="1">
        <primitive id="expc" long-id="expc:0" class="ocf" provider="pacemaker" type="Dummy"/>
        <attributes CRM_meta_clone="0" CRM_meta_clone_max="1" CRM_meta_clone_node_max="1" CRM_meta_globally_unique="false" CRM_meta_interval="10000" CRM_meta_name="monitor" CRM_meta_notify="false" CRM_meta_on_node="vm" CRM_meta_on_node_uuid="1" CRM_meta_timeout="20000" crm_feature_set="3.16.1" state="/run/port-exp2.state"/>
      </rsc_op>
    </action_set>
    <inputs/>
  </synapse>
</transition_graph>"#;

    #[test]
    fn a_graph_of_monitors_disrupts_nothing_and_a_restart_is_named() {
        assert!(disruptions(GRAPH_QUIET).unwrap().is_empty());
        let restart = GRAPH_QUIET
            .replace(r#"operation="monitor""#, r#"operation="stop""#)
            .replace("</transition_graph>", r#"<synapse id="1"><action_set><crm_event id="9" operation="stonith" operation_key="stonith-node2-reboot" on_node="node2" on_node_uuid="2"/></action_set><inputs/></synapse></transition_graph>"#);
        assert_eq!(
            disruptions(&restart).unwrap(),
            ["stop expc on vm", "stonith of node2"]
        );
        assert!(disruptions("<cib/>").is_err());
    }
}
