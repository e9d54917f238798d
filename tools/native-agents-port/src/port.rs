//! The procedure: look, refuse with the reason or show the plan, and with `--apply` port the
//! chosen resources under maintenance mode so that Pacemaker stops and starts nothing.
//!
//! Why maintenance mode and a refresh: Pacemaker records each resource's operation history
//! with the agent that made it, and restarts a resource whose class, provider or type differs
//! from that history (`pcmk__rsc_agent_changed`: "Forcing restart of X because type changed").
//! In maintenance mode it acts on nothing; `crm_resource --refresh` then erases the history,
//! so the next probe, run with the new agent, becomes the history. When that probe finds the
//! resource as it was, leaving maintenance mode only brings back the recurring monitors.
//! Measured on Pacemaker 2.1.5 (tests/pacemaker/native-agents-port.sh and README).

use crate::Error;
use crate::agents::{Direction, native_agents};
use crate::cib::{self, Configuration};
use crate::cluster::Cluster;
use crate::compare::{self, Finding};
use crate::rewrite::{self, Change};
use crate::state::{self, Instance, Mon};
use crate::validate;
use ocf::metadata::Metadata;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::time::{Duration, Instant};

/// The permanent node attribute in which each node publishes the native-agents it has
/// installed (`native-agents-port --publish` on that node).
pub const VERSION_ATTRIBUTE: &str = "native-agents-version";

/// How often the cluster is looked at while waiting.
const POLL: Duration = Duration::from_millis(250);

/// What the administrator asked for.
#[derive(Debug, Clone)]
pub struct Options {
    pub direction: Direction,
    /// Only these resources (primitive, clone or group ids); all portable ones when empty.
    pub resources: Vec<String>,
    pub apply: bool,
    /// The bound of each wait (probes, the cluster settling).
    pub timeout: Duration,
    /// This build's version stamp, which every node must have installed.
    pub stamp: String,
}

/// How it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// No resource runs on an agent this direction replaces.
    NothingToDo,
    /// Dry run: every check passed; `--apply` would port.
    WouldPort,
    /// A check failed; nothing was changed.
    Refused,
    /// Ported; Pacemaker started and stopped nothing.
    Ported,
    /// The new agents disagreed; the old ones are back, maintenance mode left.
    RolledBack,
    /// The cluster is left in maintenance mode: putting the old agents back did not give the
    /// state of before either. Nothing was started or stopped.
    LeftInMaintenance,
    /// Ported, but after maintenance mode Pacemaker ran an operation it should not have.
    Disturbed,
}

impl Outcome {
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::NothingToDo | Outcome::WouldPort | Outcome::Ported => 0,
            Outcome::Refused
            | Outcome::RolledBack
            | Outcome::LeftInMaintenance
            | Outcome::Disturbed => 1,
        }
    }
}

/// One resource to port, with what was found about it.
#[derive(Debug, Clone)]
struct Item {
    change: Change,
    findings: Vec<Finding>,
    /// Where it runs, and in which role, before the port.
    before: BTreeSet<Instance>,
}

/// Look at the cluster, report, and with `opts.apply` port.
pub fn run(
    cluster: &mut dyn Cluster,
    opts: &Options,
    out: &mut dyn Write,
) -> Result<Outcome, Error> {
    let mode = if opts.apply { "apply" } else { "dry run" };
    say(
        out,
        format!(
            "native-agents-port {}: {} ({mode})",
            opts.stamp,
            opts.direction.describe()
        ),
    );
    let cib_text = cluster.cib()?;
    let config = cib::parse(&cib_text)?;
    let mon = state::parse_mon(&cluster.mon()?)?;
    let local = cluster.local_node()?;

    let mut refusals = Vec::new();
    let changes = select(&config, opts.direction, &opts.resources).unwrap_or_else(|why| {
        refusals.extend(why);
        Vec::new()
    });
    if changes.is_empty() && refusals.is_empty() {
        say(
            out,
            "nothing to port: no resource runs on an agent this direction replaces",
        );
        return Ok(Outcome::NothingToDo);
    }

    let health = health(&config, &mon);
    let pending = state::disruptions(&cluster.simulate(&cib_text)?)?;
    let settled = pending.is_empty();
    refusals.extend(health.iter().cloned());
    if !settled {
        refusals.push(format!(
            "the cluster has actions to do ({}): wait until it settles",
            pending.join(", ")
        ));
    }
    let package = package(cluster, opts, &config, &local)?;
    refusals.extend(package.refusals.iter().cloned());
    say(
        out,
        cluster_line(&config, &mon, health.is_empty() && settled),
    );
    for line in &package.lines {
        say(out, line.clone());
    }

    let items: Vec<Item> = changes
        .into_iter()
        .map(|change| examine(cluster, opts, &config, &mon, &local, change))
        .collect::<Result<_, _>>()?;
    for item in &items {
        report_item(out, item, &local);
        if item.findings.iter().any(Finding::blocks) {
            refusals.push(format!(
                "{}: the new agent refuses its configuration (above)",
                item.change.primitive.id
            ));
        }
    }
    let changes: Vec<Change> = items.iter().map(|i| i.change.clone()).collect();
    if !changes.is_empty() {
        report_diff(out, &cib_text, &changes)?;
    }

    if !refusals.is_empty() {
        say(out, "REFUSED, nothing changed:");
        for r in &refusals {
            say(out, format!("  - {r}"));
        }
        return Ok(Outcome::Refused);
    }
    if !opts.apply {
        say(
            out,
            "dry run: nothing changed. Every check passed; run again with --apply to port.",
        );
        return Ok(Outcome::WouldPort);
    }
    let original = config.options.get("maintenance-mode").map(str::to_owned);
    apply(cluster, opts, out, &items, original.as_deref())
}

/// The primitives to port: every one on an agent this direction replaces, or those named
/// (a clone or group names the primitives inside it). Refusals name what cannot be ported.
fn select(
    config: &Configuration,
    direction: Direction,
    wanted: &[String],
) -> Result<Vec<Change>, Vec<String>> {
    let change = |p: &cib::Primitive| {
        direction.target(&p.agent).map(|to| Change {
            primitive: p.clone(),
            to,
        })
    };
    if wanted.is_empty() {
        return Ok(config.primitives.iter().filter_map(change).collect());
    }
    let mut chosen: Vec<Change> = Vec::new();
    let mut refusals = Vec::new();
    for id in wanted {
        let named: Vec<&cib::Primitive> = config
            .primitives
            .iter()
            .filter(|p| p.id == *id || p.parents.iter().any(|parent| parent.id == *id))
            .collect();
        if named.is_empty() {
            refusals.push(format!("no resource {id} in the CIB"));
            continue;
        }
        for p in named {
            match change(p) {
                Some(c) if !chosen.iter().any(|x| x.primitive.id == p.id) => chosen.push(c),
                Some(_) => {}
                None => refusals.push(format!(
                    "{} runs on {}: this direction has nothing to replace it with",
                    p.id, p.agent
                )),
            }
        }
    }
    if refusals.is_empty() {
        Ok(chosen)
    } else {
        Err(refusals)
    }
}

/// Why the cluster is not healthy enough to port now (empty when it is).
fn health(config: &Configuration, mon: &Mon) -> Vec<String> {
    let mut why = Vec::new();
    if mon.dc.is_none() {
        why.push("no DC is elected".to_owned());
    } else if !mon.quorum {
        why.push("the cluster has no quorum".to_owned());
    }
    if mon.maintenance_mode {
        why.push(
            "maintenance-mode is on already: someone is working on the cluster; finish that \
             first"
                .to_owned(),
        );
    }
    for node in config.members() {
        let state = mon.nodes.iter().find(|n| n.name == node.uname);
        let problem = match state {
            None => Some("unknown to crm_mon"),
            Some(n) if n.unclean => Some("unclean (waiting to be fenced)"),
            Some(n) if !n.online => Some("offline"),
            Some(n) if n.pending => Some("still joining"),
            Some(n) if n.shutdown => Some("shutting down"),
            Some(n) if n.maintenance => Some("in maintenance"),
            Some(_) => None,
        };
        if let Some(problem) = problem {
            why.push(format!(
                "node {} is {problem}: port when every node is online, so that each probes \
                 the new agent now",
                node.uname
            ));
        }
    }
    for f in &mon.failures {
        why.push(format!(
            "failed action {f}: clear it once understood (crm_resource --cleanup)"
        ));
    }
    for id in &mon.troubled {
        why.push(format!("resource {id} is failed or blocked"));
    }
    for f in &mon.pending_fencing {
        why.push(format!("fencing is pending: {f}"));
    }
    why
}

fn cluster_line(config: &Configuration, mon: &Mon, healthy: bool) -> String {
    let nodes: Vec<&str> = config.members().map(|n| n.uname.as_str()).collect();
    format!(
        "cluster: nodes {}; DC {}; {}",
        nodes.join(", "),
        mon.dc.as_deref().unwrap_or("none"),
        if healthy {
            "quorate, no failed action, no pending fencing, settled"
        } else {
            "NOT healthy (see below)"
        }
    )
}

/// The package check's verdict: lines for the report and refusals.
struct PackageCheck {
    lines: Vec<String>,
    refusals: Vec<String>,
}

/// To our agents: every one of them installed here at this tool's version, and every member
/// node publishing that same version. Back to the shell agents: each installed here (other
/// nodes cannot be asked without running something there; their probes answer during the
/// port, and a missing agent there puts everything back).
fn package(
    cluster: &mut dyn Cluster,
    opts: &Options,
    config: &Configuration,
    local: &str,
) -> Result<PackageCheck, Error> {
    let mut check = PackageCheck {
        lines: Vec::new(),
        refusals: Vec::new(),
    };
    match opts.direction {
        Direction::ToNative => {
            check
                .refusals
                .extend(local_installation(cluster, &opts.stamp, local)?);
            let mut published = Vec::new();
            for node in config.members() {
                match node.attribute(VERSION_ATTRIBUTE) {
                    Some(v) if v == opts.stamp => published.push(node.uname.clone()),
                    Some(v) => check.refusals.push(format!(
                        "node {} publishes native-agents {v}, not {}: install {} there, then \
                         run native-agents-port --publish on it",
                        node.uname, opts.stamp, opts.stamp
                    )),
                    None => check.refusals.push(format!(
                        "node {} publishes no native-agents version: install native-agents {} \
                         there, then run native-agents-port --publish on it",
                        node.uname, opts.stamp
                    )),
                }
            }
            check.lines.push(format!(
                "package: native-agents {} installed here ({local}: each agent's --version \
                 checked); published by {}",
                opts.stamp,
                if published.is_empty() {
                    "no node".to_owned()
                } else {
                    published.join(", ")
                }
            ));
        }
        Direction::ToShell => {
            let mut agents: Vec<_> = config
                .primitives
                .iter()
                .filter_map(|p| opts.direction.target(&p.agent))
                .collect();
            agents.sort();
            agents.dedup();
            for agent in agents {
                if !cluster.installed(&agent) {
                    check
                        .refusals
                        .push(format!("{agent} is not installed on this node ({local})"));
                }
            }
            check.lines.push(format!(
                "package: the shell agents checked on this node ({local}) only; each other \
                 node's probe answers for its own"
            ));
        }
    }
    Ok(check)
}

/// Why this node's installation is not this tool's version of native-agents (empty when it
/// is): every agent installed, each saying this tool's version stamp for `--version`.
fn local_installation(
    cluster: &mut dyn Cluster,
    stamp: &str,
    local: &str,
) -> Result<Vec<String>, Error> {
    let mut why = Vec::new();
    for agent in native_agents() {
        match cluster.installed_stamp(&agent)? {
            None => why.push(format!(
                "{agent} is not installed on this node ({local}): install native-agents {stamp}"
            )),
            Some(s) if s != stamp => why.push(format!(
                "{agent} on this node ({local}) is {s}, not {stamp}: install one version of \
                 native-agents everywhere"
            )),
            Some(_) => {}
        }
    }
    Ok(why)
}

/// `--publish`: record in the CIB, as a permanent attribute of this node, the version of
/// native-agents installed here, once every agent is checked to be that version. The port
/// reads it for the nodes it cannot look at itself.
pub fn publish(cluster: &mut dyn Cluster, stamp: &str, out: &mut dyn Write) -> Result<bool, Error> {
    let local = cluster.local_node()?;
    let why = local_installation(cluster, stamp, &local)?;
    if !why.is_empty() {
        say(out, "REFUSED, nothing published:");
        for w in &why {
            say(out, format!("  - {w}"));
        }
        return Ok(false);
    }
    cluster.set_node_attribute(&local, VERSION_ATTRIBUTE, stamp)?;
    say(
        out,
        format!(
            "node {local}: {VERSION_ATTRIBUTE}={stamp} (each installed agent's --version says so)"
        ),
    );
    Ok(true)
}

/// Compare the agents, run the new agent's validate-all on the resource's configuration.
fn examine(
    cluster: &mut dyn Cluster,
    opts: &Options,
    config: &Configuration,
    mon: &Mon,
    local: &str,
    change: Change,
) -> Result<Item, Error> {
    let from = &change.primitive.agent;
    let to = &change.to;
    let mut findings = Vec::new();
    let new_md = cluster
        .metadata(to)
        .map_err(|e| e.to_string())
        .and_then(|xml| Metadata::parse(&xml).map_err(|e| e.to_string()));
    let old_md = cluster
        .metadata(from)
        .map_err(|e| e.to_string())
        .and_then(|xml| Metadata::parse(&xml).map_err(|e| e.to_string()));
    match (&old_md, &new_md) {
        (Ok(old), Ok(new)) => findings.extend(compare::compare(&change.primitive, old, new)),
        (Err(why), Ok(_)) => findings.push(Finding::NotCompared {
            reason: format!("no metadata of {from} on this node: {why}"),
        }),
        (_, Err(why)) => findings.push(Finding::NotRun {
            reason: format!("no metadata of {to} on this node: {why}"),
        }),
    }
    if let Ok(new) = &new_md {
        if cluster.installed(to) {
            let limit = new
                .actions
                .iter()
                .find(|a| a.name == "validate-all")
                .and_then(|a| ocf::params::parse_duration(&a.timeout, Duration::from_secs(1)))
                .unwrap_or(Duration::from_secs(20))
                .min(opts.timeout);
            let members = config.members().count();
            let env = validate::environment(
                &change.primitive,
                to,
                "validate-all",
                local,
                members,
                u64::try_from(limit.as_millis()).unwrap_or(u64::MAX),
                &cluster_ocf_root(),
            );
            let (code, reason) = cluster.run_agent(to, "validate-all", &env, limit)?;
            if code != 0 {
                findings.push(Finding::Refused { code, reason });
            }
        } else {
            findings.push(Finding::NotRun {
                reason: format!("{to} is not installed on this node ({local})"),
            });
        }
    }
    let before = mon.instances_of(&change.primitive.id);
    Ok(Item {
        change,
        findings,
        before,
    })
}

/// Pacemaker's OCF_ROOT, as agents are told it.
fn cluster_ocf_root() -> String {
    crate::OCF_ROOT.to_owned()
}

fn report_item(out: &mut dyn Write, item: &Item, local: &str) {
    let p = &item.change.primitive;
    say(out, "");
    say(
        out,
        format!("{}: {} -> {}", p.describe(), p.agent, item.change.to),
    );
    say(out, format!("  runs: {}", describe(&item.before)));
    let refused = item.findings.iter().any(Finding::blocks);
    for f in &item.findings {
        say(out, format!("  - {f}"));
    }
    if !refused {
        say(
            out,
            format!(
                "  validate-all of {} with these parameters on {local}: success",
                item.change.to
            ),
        );
    }
}

fn report_diff(out: &mut dyn Write, cib_text: &str, changes: &[Change]) -> Result<(), Error> {
    let ported = rewrite::rewrite(cib_text, changes)?;
    let (first, old, new) = match (
        rewrite::resources_section(cib_text),
        rewrite::resources_section(&ported),
    ) {
        (Some((first, old)), Some((_, new))) => (first, old, new),
        _ => (1, cib_text.to_owned(), ported),
    };
    say(
        out,
        "\nCIB change (lines of `cibadmin --query`), made in one transaction:",
    );
    let diff = rewrite::diff(&old, &new, "CIB now", "CIB after the port", first);
    let _ = out.write_all(diff.as_bytes());
    Ok(())
}

/// "Started on node1, Promoted on node2", or "nowhere (stopped)".
fn describe(instances: &BTreeSet<Instance>) -> String {
    if instances.is_empty() {
        return "nowhere (stopped)".to_owned();
    }
    instances
        .iter()
        .map(|i| format!("{} on {}", i.role, i.node))
        .collect::<Vec<_>>()
        .join(", ")
}

fn say(out: &mut dyn Write, line: impl std::fmt::Display) {
    let _ = writeln!(out, "{line}");
}

/// Progress during --apply: elapsed seconds, then what happened.
struct Clock(Instant);

impl Clock {
    fn step(&self, out: &mut dyn Write, what: impl AsRef<str>) {
        say(
            out,
            format!(
                "[{:6.1} s] {}",
                self.0.elapsed().as_secs_f64(),
                what.as_ref()
            ),
        );
    }
}

fn apply(
    cluster: &mut dyn Cluster,
    opts: &Options,
    out: &mut dyn Write,
    items: &[Item],
    original: Option<&str>,
) -> Result<Outcome, Error> {
    let clock = Clock(Instant::now());
    say(out, "");
    clock.step(
        out,
        "maintenance-mode=true (if this is interrupted, the cluster stays in maintenance mode: \
         see crm_mon)",
    );
    cluster.set_maintenance(Some("true"))?;
    if !cluster.wait_settled(opts.timeout)? {
        clock.step(
            out,
            "not settled after maintenance-mode=true; nothing changed",
        );
        return leave(cluster, opts, out, &clock, original, Outcome::Refused);
    }
    let changes: Vec<Change> = items.iter().map(|i| i.change.clone()).collect();
    let result = port_and_check(cluster, opts, out, &clock, items, &changes);
    match result {
        Ok(Check::Agreed) => {}
        Ok(Check::Unchanged(why)) => {
            clock.step(out, format!("nothing changed: {why}"));
            return leave(cluster, opts, out, &clock, original, Outcome::Refused);
        }
        Ok(Check::Disagreed(why)) => {
            return roll_back(cluster, opts, out, &clock, items, original, &why);
        }
        Err(e) => {
            let why = vec![format!("during the port: {e}")];
            return roll_back(cluster, opts, out, &clock, items, original, &why);
        }
    }
    let history = state::parse_history(&cluster.cib()?)?;
    let last_before = last_ops(&history);
    let in_maintenance = clock.0.elapsed();
    let outcome = leave(cluster, opts, out, &clock, original, Outcome::Ported)?;
    if outcome != Outcome::Ported {
        return Ok(outcome);
    }
    // What Pacemaker did once it managed the cluster again.
    let history = state::parse_history(&cluster.cib()?)?;
    let mut ran: Vec<String> = Vec::new();
    for ((node, rsc), (key, call)) in last_ops(&history) {
        if last_before.get(&(node.clone(), rsc.clone())) != Some(&(key.clone(), call)) {
            ran.push(format!("{key} on {node}"));
        }
    }
    let mon = state::parse_mon(&cluster.mon()?)?;
    for item in items {
        let now = mon.instances_of(&item.change.primitive.id);
        if now != item.before {
            ran.push(format!(
                "{}: was {}, now {}",
                item.change.primitive.id,
                describe(&item.before),
                describe(&now)
            ));
        }
    }
    ran.extend(mon.failures.iter().map(|f| format!("failed action {f}")));
    if !ran.is_empty() {
        clock.step(
            out,
            "DISTURBED: after maintenance mode Pacemaker ran or saw what it should not have:",
        );
        for r in &ran {
            say(out, format!("  - {r}"));
        }
        return Ok(Outcome::Disturbed);
    }
    clock.step(
        out,
        format!(
            "settled: no start, stop, promote or demote ran; every resource where it was, in \
             its role. Ported {} resource(s), {:.1} s in maintenance mode.",
            items.len(),
            in_maintenance.as_secs_f64()
        ),
    );
    say(
        out,
        "Note: until each resource's next start, Pacemaker keeps no parameters to stop it with \
         if it is deleted from the CIB while running (as after any refresh of a running \
         resource): stop or disable a resource before deleting it, as `pcs resource delete` \
         does.",
    );
    Ok(Outcome::Ported)
}

/// How the check after a CIB change ended.
enum Check {
    /// Every probe with the new agents found what was there before, and the transition after
    /// maintenance mode would only bring back monitors.
    Agreed,
    /// The CIB was not changed (someone else changed it first).
    Unchanged(String),
    /// The CIB was changed and something disagrees.
    Disagreed(Vec<String>),
}

/// Rewrite the agents in one transaction, refresh, wait for the probes, compare, simulate.
fn port_and_check(
    cluster: &mut dyn Cluster,
    opts: &Options,
    out: &mut dyn Write,
    clock: &Clock,
    items: &[Item],
    changes: &[Change],
) -> Result<Check, Error> {
    let cib_text = cluster.cib()?;
    if let Err(e) = rewrite::rewrite(&cib_text, changes) {
        return Ok(Check::Unchanged(format!(
            "the CIB changed since it was read: {e}"
        )));
    }
    cluster.modify_resources(&rewrite::modify_fragment(changes))?;
    clock.step(
        out,
        format!(
            "CIB: {} primitive(s) moved to the new agents in one transaction",
            changes.len()
        ),
    );
    let why = reprobe(cluster, opts, out, clock, items, changes)?;
    if !why.is_empty() {
        return Ok(Check::Disagreed(why));
    }
    let why = simulate_leaving(cluster, out, clock)?;
    if !why.is_empty() {
        return Ok(Check::Disagreed(why));
    }
    Ok(Check::Agreed)
}

/// Refresh each changed resource and wait (bounded) until the new agent's probes are in on
/// every node where it ran; then they must show the same instances and roles, and no failure.
fn reprobe(
    cluster: &mut dyn Cluster,
    opts: &Options,
    out: &mut dyn Write,
    clock: &Clock,
    items: &[Item],
    changes: &[Change],
) -> Result<Vec<String>, Error> {
    for change in changes {
        cluster.refresh(&change.primitive.id)?;
    }
    let ids: Vec<&str> = changes.iter().map(|c| c.primitive.id.as_str()).collect();
    clock.step(
        out,
        format!("refreshed {}: Pacemaker probes them again", ids.join(", ")),
    );
    let end = Instant::now() + opts.timeout;
    loop {
        let history = state::parse_history(&cluster.cib()?)?;
        let missing: Vec<String> = items
            .iter()
            .zip(changes)
            .flat_map(|(item, change)| {
                let history = &history;
                item.before.iter().filter_map(move |i| {
                    let probed = history.iter().any(|h| {
                        h.resource == change.primitive.id
                            && h.node == i.node
                            && h.agent == change.to
                            && h.probe().is_some()
                    });
                    (!probed).then(|| format!("{} on {}", change.primitive.id, i.node))
                })
            })
            .collect();
        if missing.is_empty() {
            break;
        }
        if Instant::now() >= end {
            return Ok(missing
                .into_iter()
                .map(|m| {
                    format!(
                        "no probe result from the new agent for {m} after {} s",
                        opts.timeout.as_secs()
                    )
                })
                .collect());
        }
        cluster.pause(POLL);
    }
    let mut why = Vec::new();
    let left = end
        .saturating_duration_since(Instant::now())
        .max(Duration::from_secs(1));
    if !cluster.wait_settled(left)? {
        why.push(format!(
            "the probes did not all finish within {} s",
            opts.timeout.as_secs()
        ));
    }
    let mon = state::parse_mon(&cluster.mon()?)?;
    for (item, change) in items.iter().zip(changes) {
        let id = &change.primitive.id;
        let now = mon.instances_of(id);
        if now == item.before {
            clock.step(
                out,
                format!("{id}: probes with {} agree: {}", change.to, describe(&now)),
            );
        } else {
            why.push(format!(
                "{id}: before {}; the probes with {} say {}",
                describe(&item.before),
                change.to,
                describe(&now)
            ));
        }
        for f in mon.failures.iter().filter(|f| f.of(id)) {
            why.push(format!("{id}: failed action {f}"));
        }
    }
    Ok(why)
}

/// What Pacemaker would do once maintenance mode is off, computed on a copy of the live CIB.
fn simulate_leaving(
    cluster: &mut dyn Cluster,
    out: &mut dyn Write,
    clock: &Clock,
) -> Result<Vec<String>, Error> {
    let cib_text = cluster.cib()?;
    let without = rewrite::set_cluster_option(&cib_text, "maintenance-mode", "false")?;
    let graph = cluster.simulate(&without)?;
    let disruptions = state::disruptions(&graph)?;
    if disruptions.is_empty() {
        clock.step(
            out,
            "crm_simulate without maintenance mode: only recurring monitors would run",
        );
        Ok(Vec::new())
    } else {
        Ok(disruptions
            .into_iter()
            .map(|d| format!("without maintenance mode Pacemaker would {d}"))
            .collect())
    }
}

/// Put the old agents back the same way, then leave maintenance mode if their probes agree
/// with the state of before; otherwise stay in maintenance mode.
fn roll_back(
    cluster: &mut dyn Cluster,
    opts: &Options,
    out: &mut dyn Write,
    clock: &Clock,
    items: &[Item],
    original: Option<&str>,
    why: &[String],
) -> Result<Outcome, Error> {
    clock.step(out, "DISAGREEMENT, putting the old agents back:");
    for w in why {
        say(out, format!("  - {w}"));
    }
    // Only what is on the new agent now goes back (a failure may have come half-way).
    let config = cib::parse(&cluster.cib()?)?;
    let back: Vec<Item> = items
        .iter()
        .filter(|i| {
            config
                .primitive(&i.change.primitive.id)
                .is_some_and(|p| p.agent == i.change.to)
        })
        .map(|i| Item {
            change: i.change.reversed(),
            findings: Vec::new(),
            before: i.before.clone(),
        })
        .collect();
    let changes: Vec<Change> = back.iter().map(|i| i.change.clone()).collect();
    let check = if changes.is_empty() {
        Ok(Check::Agreed)
    } else {
        port_and_check(cluster, opts, out, clock, &back, &changes)
    };
    let trouble = match check {
        Ok(Check::Agreed) => None,
        Ok(Check::Unchanged(e)) => Some(vec![e]),
        Ok(Check::Disagreed(w)) => Some(w),
        Err(e) => Some(vec![e.to_string()]),
    };
    if let Some(trouble) = trouble {
        return Ok(stay(out, clock, &trouble));
    }
    let outcome = leave(cluster, opts, out, clock, original, Outcome::RolledBack)?;
    if outcome == Outcome::RolledBack {
        clock.step(
            out,
            "the old agents are back, as before; the reasons are above",
        );
    }
    Ok(outcome)
}

/// Leave maintenance mode (back to the administrator's own setting) and wait until the
/// cluster settles. `outcome` is the verdict so far.
fn leave(
    cluster: &mut dyn Cluster,
    opts: &Options,
    out: &mut dyn Write,
    clock: &Clock,
    original: Option<&str>,
    outcome: Outcome,
) -> Result<Outcome, Error> {
    cluster.set_maintenance(original)?;
    clock.step(
        out,
        match original {
            None => "maintenance-mode removed".to_owned(),
            Some(v) => format!("maintenance-mode set back to {v}"),
        },
    );
    if cluster.wait_settled(opts.timeout)? {
        return Ok(outcome);
    }
    clock.step(
        out,
        format!(
            "DISTURBED: the cluster has not settled {} s after maintenance mode (see crm_mon)",
            opts.timeout.as_secs()
        ),
    );
    Ok(Outcome::Disturbed)
}

/// The old agents' probes did not give the state of before either: stay in maintenance
/// mode, where Pacemaker starts and stops nothing, and say what to look at.
fn stay(out: &mut dyn Write, clock: &Clock, why: &[String]) -> Outcome {
    clock.step(
        out,
        "the cluster STAYS IN MAINTENANCE MODE: putting the old agents back did not give the \
         state of before either:",
    );
    for w in why {
        say(out, format!("  - {w}"));
    }
    say(
        out,
        "Nothing was started or stopped. Look at crm_mon and the agents' logs, correct what \
         differs, then end maintenance mode: crm_attribute --type crm_config --name \
         maintenance-mode --delete",
    );
    Outcome::LeftInMaintenance
}

/// Each resource's last one-shot operation on each node: (node, resource) -> (key, call id).
fn last_ops(history: &[state::History]) -> BTreeMap<(String, String), (String, i64)> {
    history
        .iter()
        .filter_map(|h| {
            h.last().map(|op| {
                (
                    (h.node.clone(), h.resource.clone()),
                    (op.key.clone(), op.call_id),
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests;
