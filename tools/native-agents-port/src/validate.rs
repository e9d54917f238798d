//! Running an agent's `validate-all` on a resource's configuration as Pacemaker's executor
//! would run it: an argv of one word, a clean environment with the OCF variables, the
//! resource's parameters as `OCF_RESKEY_<name>` and its meta-attributes (and the clone's, with
//! Pacemaker's defaults) as `OCF_RESKEY_CRM_meta_<name>`. No shell anywhere.

use crate::agents::Agent;
use crate::cib::Primitive;
use std::collections::BTreeMap;

/// The executor's own environment is not inherited by agents; this is the PATH it gives.
const PATH: &str = "/usr/sbin:/usr/bin:/sbin:/bin";

/// The environment for `action` of `agent` on `primitive`, run on `node` in a cluster of
/// `members` nodes, with `timeout_ms` as the operation's timeout.
pub fn environment(
    primitive: &Primitive,
    agent: &Agent,
    action: &str,
    node: &str,
    members: usize,
    timeout_ms: u64,
    ocf_root: &str,
) -> Vec<(String, String)> {
    let mut meta: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in &primitive.meta {
        meta.entry(name.replace('-', "_"))
            .or_insert_with(|| value.clone());
    }
    let unique = primitive
        .meta("globally-unique")
        .and_then(ocf::params::parse_bool)
        .unwrap_or(false);
    if primitive.clone_parent().is_some() {
        let mut default = |name: &str, value: String| {
            meta.entry(name.to_owned()).or_insert(value);
        };
        default("clone", "0".into());
        default("clone_max", members.to_string());
        default("clone_node_max", "1".into());
        default("globally_unique", unique.to_string());
        default("notify", "false".into());
        if primitive.is_promotable() {
            // Pacemaker 2.1 sends both vocabularies; the old names take the new values.
            let promoted_max = primitive
                .meta("promoted-max")
                .or_else(|| primitive.meta("master-max"))
                .unwrap_or("1")
                .to_owned();
            let promoted_node_max = primitive
                .meta("promoted-node-max")
                .or_else(|| primitive.meta("master-node-max"))
                .unwrap_or("1")
                .to_owned();
            meta.insert("promoted_max".into(), promoted_max.clone());
            meta.insert("master_max".into(), promoted_max);
            meta.insert("promoted_node_max".into(), promoted_node_max.clone());
            meta.insert("master_node_max".into(), promoted_node_max);
        }
    }
    meta.insert("timeout".into(), timeout_ms.to_string());
    meta.insert("name".into(), action.to_owned());
    meta.insert("on_node".into(), node.to_owned());
    let instance = if unique {
        format!("{}:0", primitive.id)
    } else {
        primitive.id.clone()
    };
    let mut env = vec![
        ("PATH".to_owned(), PATH.to_owned()),
        ("OCF_ROOT".to_owned(), ocf_root.to_owned()),
        ("OCF_RA_VERSION_MAJOR".to_owned(), "1".to_owned()),
        ("OCF_RA_VERSION_MINOR".to_owned(), "1".to_owned()),
        (
            "OCF_EXIT_REASON_PREFIX".to_owned(),
            "ocf-exit-reason:".to_owned(),
        ),
        ("OCF_RESOURCE_INSTANCE".to_owned(), instance),
        ("OCF_RESOURCE_TYPE".to_owned(), agent.kind.clone()),
        ("OCF_RESOURCE_PROVIDER".to_owned(), agent.provider.clone()),
    ];
    for (name, value) in &primitive.params {
        env.push((format!("OCF_RESKEY_{name}"), value.clone()));
    }
    for (name, value) in meta {
        env.push((format!("OCF_RESKEY_CRM_meta_{name}"), value));
    }
    env
}

/// What an agent says about why it failed: its last `ocf-exit-reason:` line, else the last
/// line of its standard error, else of its output.
pub fn exit_reason(stdout: &str, stderr: &str) -> String {
    if let Some(reason) = stderr
        .lines()
        .rev()
        .find_map(|l| l.split_once("ocf-exit-reason:").map(|(_, r)| r.trim()))
    {
        return reason.to_owned();
    }
    [stderr, stdout]
        .iter()
        .find_map(|text| text.lines().rev().map(str::trim).find(|l| !l.is_empty()))
        .unwrap_or("(it said nothing)")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cib;
    use crate::cib::tests::TUTORIAL;

    fn env_of(id: &str, agent: &Agent) -> BTreeMap<String, String> {
        let config = cib::parse(TUTORIAL).unwrap();
        let p = config.primitive(id).unwrap();
        environment(p, agent, "validate-all", "node1", 2, 30_000, "/usr/lib/ocf")
            .into_iter()
            .collect()
    }

    #[test]
    fn a_promotable_clone_gets_what_pacemaker_sends() {
        let env = env_of("WebData", &Agent::new("ocf", "native", "drbd-dualprimary"));
        let want = [
            ("OCF_RESOURCE_INSTANCE", "WebData"),
            ("OCF_RESOURCE_TYPE", "drbd-dualprimary"),
            ("OCF_RESOURCE_PROVIDER", "native"),
            ("OCF_ROOT", "/usr/lib/ocf"),
            ("OCF_RESKEY_drbd_resource", "wwwdata"),
            ("OCF_RESKEY_CRM_meta_clone", "0"),
            ("OCF_RESKEY_CRM_meta_clone_max", "2"),
            ("OCF_RESKEY_CRM_meta_clone_node_max", "1"),
            ("OCF_RESKEY_CRM_meta_notify", "true"),
            ("OCF_RESKEY_CRM_meta_promoted_max", "2"),
            ("OCF_RESKEY_CRM_meta_master_max", "2"),
            ("OCF_RESKEY_CRM_meta_promoted_node_max", "1"),
            ("OCF_RESKEY_CRM_meta_globally_unique", "false"),
            ("OCF_RESKEY_CRM_meta_timeout", "30000"),
            ("OCF_RESKEY_CRM_meta_on_node", "node1"),
            ("OCF_RESKEY_CRM_meta_name", "validate-all"),
        ];
        for (k, v) in want {
            assert_eq!(env.get(k).map(String::as_str), Some(v), "{k}");
        }
        assert!(!env.contains_key("HOME"), "a clean environment");
    }

    #[test]
    fn a_plain_primitive_gets_no_clone_meta_and_a_clone_defaults_to_the_node_count() {
        let vip = env_of("VirtualIP", &Agent::new("ocf", "native", "ipaddr2"));
        assert!(!vip.keys().any(|k| k.contains("clone")));
        assert_eq!(
            vip.get("OCF_RESKEY_ip").map(String::as_str),
            Some("10.1.1.100")
        );
        let fs = env_of("WebFS", &Agent::new("ocf", "native", "gfs2-fs"));
        assert_eq!(
            fs.get("OCF_RESKEY_CRM_meta_clone_max").map(String::as_str),
            Some("2")
        );
        assert!(!fs.contains_key("OCF_RESKEY_CRM_meta_promoted_max"));
    }

    #[test]
    fn the_reason_is_the_agents_own() {
        assert_eq!(
            exit_reason(
                "",
                "ipaddr2(v)[12]: ERROR: x\nocf-exit-reason:no interface eth9\n"
            ),
            "no interface eth9"
        );
        assert_eq!(exit_reason("", "line one\nlast words\n\n"), "last words");
        assert_eq!(exit_reason("out\n", ""), "out");
        assert_eq!(exit_reason("", ""), "(it said nothing)");
    }
}
