//! The procedure on a simulated two-node cluster running the tutorial's resources: what a real
//! Pacemaker does that matters here (a refresh erases a resource's history and the next probe,
//! with the agent the CIB names now, becomes its state; crm_mon shows that state; a transition
//! would start what a probe found stopped) and nothing more.

use super::*;
use crate::agents::Agent;
use crate::cib::tests::TUTORIAL;
use crate::state::Instance;
use std::fmt::Write as _;

const STAMP: &str = "0.1.0 (git 0123456789ab, clean tree)";

/// What the simulated cluster's operation history holds for one resource on one node.
#[derive(Debug, Clone)]
struct Recorded {
    node: String,
    resource: String,
    agent: Agent,
    key: String,
    call: i64,
    done: bool,
}

#[derive(Debug)]
struct Fake {
    config: String,
    nodes: Vec<String>,
    offline: Vec<String>,
    /// What really runs where.
    reality: BTreeSet<Instance>,
    /// What Pacemaker believes (from the probes), and crm_mon shows.
    shown: BTreeSet<Instance>,
    maintenance: Option<String>,
    failures: Vec<(String, String)>,
    history: Vec<Recorded>,
    call: i64,
    /// Agent types whose probe does not recognise what runs (answers "not running").
    blind: Vec<&'static str>,
    /// Agent types whose probe never finishes.
    slow: Vec<&'static str>,
    /// Agent types not installed on this node.
    missing: Vec<&'static str>,
    /// Version stamps of our installed agents, where not STAMP.
    stamps: Vec<(&'static str, &'static str)>,
    /// validate-all verdicts, where not success.
    validate: Vec<(&'static str, i32, &'static str)>,
    /// Pacemaker restarts this resource when maintenance mode ends (a defect to catch).
    restart_on_leave: Option<&'static str>,
    /// Every call that changed the cluster, in order.
    log: Vec<String>,
}

fn instance(resource: &str, node: &str, role: &str) -> Instance {
    Instance {
        resource: resource.into(),
        node: node.into(),
        role: role.into(),
    }
}

impl Fake {
    /// The tutorial's cluster, active-active on node1 and node2, every node publishing STAMP.
    fn tutorial() -> Fake {
        let attr = |n: &str| {
            format!(
                r#"<node id="{n}" uname="node{n}"><instance_attributes id="nodes-{n}"><nvpair id="nodes-{n}-v" name="native-agents-version" value="{STAMP}"/></instance_attributes></node>"#
            )
        };
        let config = TUTORIAL
            .replace(r#"<node id="1" uname="node1"/>"#, &attr("1"))
            .replace(r#"<node id="2" uname="node2"/>"#, &attr("2"));
        let mut reality = BTreeSet::new();
        reality.insert(instance("VirtualIP", "node1", "Started"));
        for node in ["node1", "node2"] {
            reality.insert(instance("WebData", node, "Promoted"));
            reality.insert(instance("dlm", node, "Started"));
            reality.insert(instance("WebFS", node, "Started"));
            reality.insert(instance("WebSite", node, "Started"));
        }
        let mut fake = Fake {
            config,
            nodes: vec!["node1".into(), "node2".into()],
            offline: Vec::new(),
            shown: reality.clone(),
            reality,
            maintenance: None,
            failures: Vec::new(),
            history: Vec::new(),
            call: 10,
            blind: Vec::new(),
            slow: Vec::new(),
            missing: Vec::new(),
            stamps: Vec::new(),
            validate: Vec::new(),
            restart_on_leave: None,
            log: Vec::new(),
        };
        // The history of a started cluster: each resource's last operation was its start or
        // promote, recorded with the agent the CIB names.
        for p in cib::parse(&fake.config).unwrap().primitives {
            for node in fake.nodes.clone() {
                let op = if p.is_promotable() {
                    "promote"
                } else {
                    "start"
                };
                fake.record(&node, &p.id, &p.agent, &format!("{}_{op}_0", p.id), true);
            }
        }
        fake
    }

    fn record(&mut self, node: &str, resource: &str, agent: &Agent, key: &str, done: bool) {
        self.call += 1;
        self.history
            .retain(|r| !(r.node == node && r.resource == resource));
        self.history.push(Recorded {
            node: node.into(),
            resource: resource.into(),
            agent: agent.clone(),
            key: key.into(),
            call: self.call,
            done,
        });
    }

    fn agent_of(&self, id: &str) -> Agent {
        cib::parse(&self.config)
            .unwrap()
            .primitive(id)
            .unwrap()
            .agent
            .clone()
    }

    fn status_xml(&self) -> String {
        let mut xml = String::from("<status>");
        for node in &self.nodes {
            let _ = write!(
                xml,
                r#"<node_state id="{node}" uname="{node}"><lrm id="{node}"><lrm_resources>"#
            );
            for r in self.history.iter().filter(|r| r.node == *node) {
                let (operation, interval) = if r.key.ends_with("_monitor_0") {
                    ("monitor", "0")
                } else {
                    (r.key.rsplit('_').nth(1).unwrap(), "0")
                };
                let _ = write!(
                    xml,
                    r#"<lrm_resource id="{}" class="{}" provider="{}" type="{}"><lrm_rsc_op id="{}_last_0" operation_key="{}" operation="{operation}" call-id="{}" rc-code="0" op-status="{}" interval="{interval}"/></lrm_resource>"#,
                    r.resource,
                    r.agent.class,
                    r.agent.provider,
                    r.agent.kind,
                    r.resource,
                    r.key,
                    r.call,
                    if r.done { 0 } else { -1 }
                );
            }
            xml.push_str("</lrm_resources></lrm></node_state>");
        }
        xml.push_str("</status>");
        xml
    }

    fn graph(&self, cib: &str) -> String {
        let options = cib::parse(cib).unwrap().options;
        let managed = options
            .get("maintenance-mode")
            .and_then(ocf::params::parse_bool)
            != Some(true);
        let mut xml = String::from("<transition_graph>");
        if managed {
            // Pacemaker starts what it believes stopped where it should run.
            for i in self.reality.difference(&self.shown) {
                let _ = write!(
                    xml,
                    r#"<synapse><action_set><rsc_op operation="start" on_node="{}"><primitive id="{}"/></rsc_op></action_set></synapse>"#,
                    i.node, i.resource
                );
            }
            xml.push_str(r#"<synapse><action_set><rsc_op operation="monitor" on_node="node1"><primitive id="VirtualIP"/></rsc_op></action_set></synapse>"#);
        }
        xml.push_str("</transition_graph>");
        xml
    }
}

impl Cluster for Fake {
    fn cib(&mut self) -> Result<String, Error> {
        let mut cib = self.config.replace("<status/>", &self.status_xml());
        if let Some(v) = &self.maintenance {
            cib = cib.replace(
                r#"value="false"/>
      </cluster_property_set>"#,
                &format!(
                    r#"value="false"/><nvpair id="mm" name="maintenance-mode" value="{v}"/>
      </cluster_property_set>"#
                ),
            );
        }
        Ok(cib)
    }

    fn mon(&mut self) -> Result<String, Error> {
        let mut xml = format!(
            r#"<pacemaker-result><summary><current_dc present="true" name="node1" with_quorum="true"/><cluster_options maintenance-mode="{}"/></summary><nodes>"#,
            self.maintenance.as_deref() == Some("true")
        );
        for n in &self.nodes {
            let _ = write!(
                xml,
                r#"<node name="{n}" online="{}" type="member"/>"#,
                !self.offline.contains(n)
            );
        }
        xml.push_str("</nodes><resources>");
        for i in &self.shown {
            let _ = write!(
                xml,
                r#"<resource id="{}" role="{}" active="true"><node name="{}"/></resource>"#,
                i.resource, i.role, i.node
            );
        }
        xml.push_str("</resources><failures>");
        for (key, node) in &self.failures {
            let _ = write!(
                xml,
                r#"<failure op_key="{key}" node="{node}" exitstatus="error" exitreason="it broke"/>"#
            );
        }
        xml.push_str("</failures></pacemaker-result>");
        Ok(xml)
    }

    fn local_node(&mut self) -> Result<String, Error> {
        Ok("node1".into())
    }

    fn set_maintenance(&mut self, value: Option<&str>) -> Result<(), Error> {
        self.log.push(format!("maintenance-mode={value:?}"));
        let leaving = value.is_none_or(|v| ocf::params::parse_bool(v) == Some(false));
        if leaving
            && self.maintenance.is_some()
            && let Some(id) = self.restart_on_leave
        {
            let agent = self.agent_of(id);
            self.record("node1", id, &agent, &format!("{id}_start_0"), true);
        }
        self.maintenance = value.map(str::to_owned);
        Ok(())
    }

    fn modify_resources(&mut self, fragment: &str) -> Result<(), Error> {
        self.log.push(format!("modify {fragment}"));
        let doc = roxmltree::Document::parse(fragment).unwrap();
        let config = cib::parse(&self.config).unwrap();
        let changes: Vec<Change> = doc
            .descendants()
            .filter(|n| n.has_tag_name("primitive"))
            .map(|n| Change {
                primitive: config
                    .primitive(n.attribute("id").unwrap())
                    .unwrap()
                    .clone(),
                to: Agent::new(
                    n.attribute("class").unwrap(),
                    n.attribute("provider").unwrap(),
                    n.attribute("type").unwrap(),
                ),
            })
            .collect();
        self.config = rewrite::rewrite(&self.config, &changes)?;
        Ok(())
    }

    fn refresh(&mut self, id: &str) -> Result<(), Error> {
        self.log.push(format!("refresh {id}"));
        let agent = self.agent_of(id);
        let blind = self.blind.contains(&agent.kind.as_str());
        let slow = self.slow.contains(&agent.kind.as_str());
        self.failures.retain(|(key, _)| !key.starts_with(id));
        for node in self.nodes.clone() {
            self.record(&node, id, &agent, &format!("{id}_monitor_0"), !slow);
            if slow {
                continue;
            }
            self.shown.retain(|i| !(i.resource == id && i.node == node));
            if !blind {
                let real: Vec<Instance> = self
                    .reality
                    .iter()
                    .filter(|i| i.resource == id && i.node == node)
                    .cloned()
                    .collect();
                self.shown.extend(real);
            }
        }
        Ok(())
    }

    fn wait_settled(&mut self, _limit: Duration) -> Result<bool, Error> {
        Ok(self.history.iter().all(|r| r.done))
    }

    fn simulate(&mut self, cib: &str) -> Result<String, Error> {
        Ok(self.graph(cib))
    }

    fn metadata(&mut self, agent: &Agent) -> Result<String, Error> {
        let mut xml = format!(
            r#"<resource-agent name="{}"><version>1.1</version><parameters>"#,
            agent.kind
        );
        for p in [
            "ip",
            "cidr_netmask",
            "configfile",
            "statusurl",
            "drbd_resource",
            "device",
            "directory",
            "fstype",
            "allow_stonith_disabled",
        ] {
            let _ = write!(
                xml,
                r#"<parameter name="{p}"><content type="string"/></parameter>"#
            );
        }
        xml.push_str("</parameters><actions>");
        for a in [
            "start",
            "stop",
            "monitor",
            "promote",
            "demote",
            "notify",
            "reload",
            "meta-data",
            "validate-all",
        ] {
            let _ = write!(xml, r#"<action name="{a}" timeout="20s"/>"#);
        }
        xml.push_str("</actions></resource-agent>");
        Ok(xml)
    }

    fn run_agent(
        &mut self,
        agent: &Agent,
        action: &str,
        env: &[(String, String)],
        _limit: Duration,
    ) -> Result<(i32, String), Error> {
        assert_eq!(action, "validate-all");
        assert!(env.iter().any(|(k, _)| k == "OCF_RESOURCE_INSTANCE"));
        Ok(self
            .validate
            .iter()
            .find(|(kind, ..)| *kind == agent.kind)
            .map_or((0, String::new()), |&(_, code, reason)| {
                (code, reason.to_owned())
            }))
    }

    fn installed(&mut self, agent: &Agent) -> bool {
        !self.missing.contains(&agent.kind.as_str())
    }

    fn installed_stamp(&mut self, agent: &Agent) -> Result<Option<String>, Error> {
        if self.missing.contains(&agent.kind.as_str()) {
            return Ok(None);
        }
        Ok(Some(
            self.stamps
                .iter()
                .find(|(kind, _)| *kind == agent.kind)
                .map_or(STAMP, |(_, s)| s)
                .to_owned(),
        ))
    }

    fn set_node_attribute(&mut self, node: &str, name: &str, value: &str) -> Result<(), Error> {
        self.log.push(format!("attribute {node} {name}={value}"));
        Ok(())
    }

    fn pause(&mut self, _d: Duration) {
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn options(direction: Direction, apply: bool, resources: &[&str]) -> Options {
    Options {
        direction,
        resources: resources.iter().map(|r| (*r).to_owned()).collect(),
        apply,
        timeout: Duration::from_millis(50),
        stamp: STAMP.into(),
    }
}

fn run_on(fake: &mut Fake, opts: &Options) -> (Outcome, String) {
    let mut out = Vec::new();
    let outcome = run(fake, opts, &mut out).unwrap();
    (outcome, String::from_utf8(out).unwrap())
}

fn agents(fake: &Fake) -> Vec<String> {
    cib::parse(&fake.config)
        .unwrap()
        .primitives
        .iter()
        .map(|p| format!("{}={}", p.id, p.agent))
        .collect()
}

const SHELL: [&str; 5] = [
    "VirtualIP=ocf:heartbeat:IPaddr2",
    "WebData=ocf:linbit:drbd",
    "dlm=ocf:pacemaker:controld",
    "WebFS=ocf:heartbeat:Filesystem",
    "WebSite=ocf:heartbeat:apache",
];

const NATIVE: [&str; 5] = [
    "VirtualIP=ocf:native:ipaddr2",
    "WebData=ocf:native:drbd-dualprimary",
    "dlm=ocf:native:dlm-controld-wrapper",
    "WebFS=ocf:native:gfs2-fs",
    "WebSite=ocf:native:apache-clone",
];

#[test]
fn a_dry_run_shows_the_plan_and_changes_nothing() {
    let mut fake = Fake::tutorial();
    let (outcome, text) = run_on(&mut fake, &options(Direction::ToNative, false, &[]));
    assert_eq!(outcome, Outcome::WouldPort, "{text}");
    assert!(fake.log.is_empty(), "{:?}", fake.log);
    assert_eq!(agents(&fake), SHELL);
    for line in [
        "WebSite (in clone WebSite-clone): ocf:heartbeat:apache -> ocf:native:apache-clone",
        "  runs: Started on node1, Started on node2",
        "  runs: Promoted on node1, Promoted on node2",
        r#"-      <primitive id="VirtualIP" class="ocf" type="IPaddr2" provider="heartbeat">"#,
        r#"+      <primitive id="VirtualIP" class="ocf" type="ipaddr2" provider="native">"#,
        "validate-all of ocf:native:ipaddr2 with these parameters on node1: success",
        "@@ -15,5 +15,5 @@\n     <resources>\n",
        "published by node1, node2",
        "dry run: nothing changed",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
}

#[test]
fn apply_ports_everything_and_back_again_restarting_nothing() {
    let mut fake = Fake::tutorial();
    let original = fake.config.clone();
    let (outcome, text) = run_on(&mut fake, &options(Direction::ToNative, true, &[]));
    assert_eq!(outcome, Outcome::Ported, "{text}");
    assert_eq!(agents(&fake), NATIVE);
    assert_eq!(
        fake.log.first().unwrap(),
        r#"maintenance-mode=Some("true")"#
    );
    assert_eq!(fake.log.last().unwrap(), "maintenance-mode=None");
    assert_eq!(
        fake.log.iter().filter(|l| l.starts_with("modify")).count(),
        1,
        "one CIB transaction: {:?}",
        fake.log
    );
    assert_eq!(
        fake.log.iter().filter(|l| l.starts_with("refresh")).count(),
        5
    );
    assert_eq!(fake.shown, fake.reality);
    assert!(text.contains("WebData: probes with ocf:native:drbd-dualprimary agree: Promoted on node1, Promoted on node2"), "{text}");
    assert!(
        text.contains("no start, stop, promote or demote ran"),
        "{text}"
    );

    fake.log.clear();
    let (outcome, text) = run_on(&mut fake, &options(Direction::ToShell, true, &[]));
    assert_eq!(outcome, Outcome::Ported, "{text}");
    assert_eq!(agents(&fake), SHELL);
    assert_eq!(fake.config, original, "back to the same bytes");
}

#[test]
fn one_resource_at_a_time() {
    let mut fake = Fake::tutorial();
    let (outcome, text) = run_on(
        &mut fake,
        &options(Direction::ToNative, true, &["VirtualIP"]),
    );
    assert_eq!(outcome, Outcome::Ported, "{text}");
    let mut want = SHELL.to_vec();
    want[0] = NATIVE[0];
    assert_eq!(agents(&fake), want);
    assert_eq!(
        fake.log.iter().filter(|l| l.starts_with("refresh")).count(),
        1
    );
    // A clone's id names the primitive inside.
    let (outcome, text) = run_on(
        &mut fake,
        &options(Direction::ToNative, true, &["WebSite-clone"]),
    );
    assert_eq!(outcome, Outcome::Ported, "{text}");
    assert_eq!(agents(&fake)[4], NATIVE[4]);
}

#[test]
fn names_that_cannot_be_ported_are_refused() {
    let mut fake = Fake::tutorial();
    let (outcome, text) = run_on(
        &mut fake,
        &options(Direction::ToNative, true, &["nosuch", "VirtualIP"]),
    );
    assert_eq!(outcome, Outcome::Refused, "{text}");
    assert!(text.contains("no resource nosuch in the CIB"), "{text}");
    assert!(fake.log.is_empty());
    let (outcome, text) = run_on(
        &mut fake,
        &options(Direction::ToShell, false, &["VirtualIP"]),
    );
    assert_eq!(outcome, Outcome::Refused, "{text}");
    assert!(
        text.contains(
            "VirtualIP runs on ocf:heartbeat:IPaddr2: this direction has nothing to replace it with"
        ),
        "{text}"
    );
    // Without names, a direction with nothing to do says so.
    let (outcome, _) = run_on(&mut fake, &options(Direction::ToShell, true, &[]));
    assert_eq!(outcome, Outcome::NothingToDo);
    assert!(fake.log.is_empty());
}

#[test]
fn a_failed_action_refuses_with_the_reason_and_changes_nothing() {
    let mut fake = Fake::tutorial();
    fake.failures
        .push(("WebSite_monitor_60000".into(), "node2".into()));
    let (outcome, text) = run_on(&mut fake, &options(Direction::ToNative, true, &[]));
    assert_eq!(outcome, Outcome::Refused, "{text}");
    assert!(
        text.contains("failed action WebSite_monitor_60000 on node2 (error: it broke)"),
        "{text}"
    );
    assert!(fake.log.is_empty(), "{:?}", fake.log);
    assert_eq!(agents(&fake), SHELL);
}

#[test]
fn an_unhealthy_cluster_is_refused() {
    let mut fake = Fake::tutorial();
    fake.offline.push("node2".into());
    let (outcome, text) = run_on(&mut fake, &options(Direction::ToNative, true, &[]));
    assert_eq!(outcome, Outcome::Refused, "{text}");
    assert!(text.contains("node node2 is offline"), "{text}");

    let mut fake = Fake::tutorial();
    fake.maintenance = Some("true".into());
    let (outcome, text) = run_on(&mut fake, &options(Direction::ToNative, true, &[]));
    assert_eq!(outcome, Outcome::Refused, "{text}");
    assert!(text.contains("maintenance-mode is on already"), "{text}");
    assert!(fake.log.is_empty());

    // Not settled: Pacemaker would start something.
    let mut fake = Fake::tutorial();
    fake.shown
        .remove(&instance("VirtualIP", "node1", "Started"));
    let (outcome, text) = run_on(&mut fake, &options(Direction::ToNative, true, &[]));
    assert_eq!(outcome, Outcome::Refused, "{text}");
    assert!(
        text.contains("the cluster has actions to do (start VirtualIP on node1)"),
        "{text}"
    );
}

#[test]
fn our_package_missing_or_another_version_anywhere_is_refused() {
    let mut fake = Fake::tutorial();
    fake.config = fake.config.replace(
        r#"<nvpair id="nodes-2-v" name="native-agents-version""#,
        r#"<nvpair id="nodes-2-v" name="other""#,
    );
    let (outcome, text) = run_on(&mut fake, &options(Direction::ToNative, true, &[]));
    assert_eq!(outcome, Outcome::Refused, "{text}");
    assert!(
        text.contains("node node2 publishes no native-agents version: install native-agents"),
        "{text}"
    );
    assert!(fake.log.is_empty());

    let mut fake = Fake::tutorial();
    fake.config = fake
        .config
        .replacen(STAMP, "0.0.9 (git aaaa, clean tree)", 2);
    fake.config = fake
        .config
        .replacen("0.0.9 (git aaaa, clean tree)", STAMP, 1);
    let (outcome, text) = run_on(&mut fake, &options(Direction::ToNative, true, &[]));
    assert_eq!(outcome, Outcome::Refused, "{text}");
    assert!(
        text.contains("node node2 publishes native-agents 0.0.9 (git aaaa, clean tree)"),
        "{text}"
    );

    let mut fake = Fake::tutorial();
    fake.missing.push("gfs2-fs");
    fake.stamps
        .push(("ipaddr2", "0.0.9 (git aaaa, clean tree)"));
    let (outcome, text) = run_on(&mut fake, &options(Direction::ToNative, true, &[]));
    assert_eq!(outcome, Outcome::Refused, "{text}");
    assert!(
        text.contains("ocf:native:gfs2-fs is not installed on this node (node1)"),
        "{text}"
    );
    assert!(
        text.contains("ocf:native:ipaddr2 on this node (node1) is 0.0.9"),
        "{text}"
    );
    assert!(fake.log.is_empty());

    // Going back needs the shell agents here.
    let mut fake = Fake::tutorial();
    run_on(&mut fake, &options(Direction::ToNative, true, &[]));
    fake.missing.push("apache");
    fake.log.clear();
    let (outcome, text) = run_on(&mut fake, &options(Direction::ToShell, true, &[]));
    assert_eq!(outcome, Outcome::Refused, "{text}");
    assert!(
        text.contains("ocf:heartbeat:apache is not installed on this node"),
        "{text}"
    );
    assert!(fake.log.is_empty());
}

#[test]
fn a_configuration_the_new_agent_refuses_is_named() {
    let mut fake = Fake::tutorial();
    fake.validate.push((
        "ipaddr2",
        6,
        "mac is not supported (load-sharing cluster IPs)",
    ));
    let (outcome, text) = run_on(&mut fake, &options(Direction::ToNative, true, &[]));
    assert_eq!(outcome, Outcome::Refused, "{text}");
    assert!(
        text.contains(
            "REFUSED: its validate-all exits 6 (OCF_ERR_CONFIGURED): mac is not supported (load-sharing cluster IPs)"
        ),
        "{text}"
    );
    assert!(
        text.contains("VirtualIP: the new agent refuses its configuration"),
        "{text}"
    );
    assert!(fake.log.is_empty());
    // The others can still go one at a time.
    let (outcome, text) = run_on(&mut fake, &options(Direction::ToNative, true, &["WebSite"]));
    assert_eq!(outcome, Outcome::Ported, "{text}");
}

#[test]
fn a_probe_that_does_not_recognise_the_resource_puts_the_old_agents_back() {
    let mut fake = Fake::tutorial();
    fake.blind.push("apache-clone");
    let (outcome, text) = run_on(&mut fake, &options(Direction::ToNative, true, &[]));
    assert_eq!(outcome, Outcome::RolledBack, "{text}");
    assert!(
        text.contains(
            "WebSite: before Started on node1, Started on node2; the probes with \
             ocf:native:apache-clone say nowhere (stopped)"
        ),
        "{text}"
    );
    assert_eq!(agents(&fake), SHELL, "every resource back on its old agent");
    assert_eq!(fake.shown, fake.reality);
    assert_eq!(fake.maintenance, None, "maintenance mode left");
    assert_eq!(
        fake.log.iter().filter(|l| l.starts_with("modify")).count(),
        2,
        "{:?}",
        fake.log
    );
    assert!(
        text.contains("the old agents are back, as before"),
        "{text}"
    );
}

#[test]
fn when_the_old_agents_disagree_too_the_cluster_stays_in_maintenance() {
    let mut fake = Fake::tutorial();
    fake.blind.extend(["apache-clone", "apache"]);
    let (outcome, text) = run_on(&mut fake, &options(Direction::ToNative, true, &[]));
    assert_eq!(outcome, Outcome::LeftInMaintenance, "{text}");
    assert_eq!(fake.maintenance.as_deref(), Some("true"));
    assert!(text.contains("STAYS IN MAINTENANCE MODE"), "{text}");
    assert!(text.contains("maintenance-mode --delete"), "{text}");
    assert_eq!(agents(&fake), SHELL);
}

#[test]
fn probes_that_never_answer_are_bounded() {
    let mut fake = Fake::tutorial();
    fake.slow.push("gfs2-fs");
    let (outcome, text) = run_on(&mut fake, &options(Direction::ToNative, true, &[]));
    assert_eq!(outcome, Outcome::RolledBack, "{text}");
    assert!(
        text.contains("no probe result from the new agent for WebFS on node1 after 0 s"),
        "{text}"
    );
    assert_eq!(agents(&fake), SHELL);
}

#[test]
fn a_restart_after_maintenance_mode_is_reported() {
    let mut fake = Fake::tutorial();
    fake.restart_on_leave = Some("WebSite");
    let (outcome, text) = run_on(&mut fake, &options(Direction::ToNative, true, &[]));
    assert_eq!(outcome, Outcome::Disturbed, "{text}");
    assert!(text.contains("WebSite_start_0 on node1"), "{text}");
}

#[test]
fn publish_checks_every_agent_first() {
    let mut fake = Fake::tutorial();
    let mut out = Vec::new();
    assert!(publish(&mut fake, STAMP, &mut out).unwrap());
    assert_eq!(
        fake.log,
        [format!("attribute node1 native-agents-version={STAMP}")]
    );
    fake.log.clear();
    fake.missing.push("drbd-dualprimary");
    let mut out = Vec::new();
    assert!(!publish(&mut fake, STAMP, &mut out).unwrap());
    assert!(fake.log.is_empty());
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("ocf:native:drbd-dualprimary is not installed on this node (node1)"),
        "{text}"
    );
}
