//! One snapshot of the environment Pacemaker hands an agent (OCF 1.1 "Environment
//! Variables"; Pacemaker Administration, "Environment variables").
//!
//! Instance parameters arrive as `OCF_RESKEY_<name>`, meta-attributes as
//! `OCF_RESKEY_CRM_meta_<name>` (dashes turned into underscores), and notification data as
//! `OCF_RESKEY_CRM_meta_notify_*`. Pacemaker 2.1+ sends the promoted/unpromoted vocabulary
//! and, for compatibility, the master/slave one with identical content; both are read here
//! so that agents see one vocabulary whatever the cluster sends.

use crate::error::{Error, Result};
use crate::params::parse_bool;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

const RESKEY: &str = "OCF_RESKEY_";
/// Where run-time state lives when `HA_RSCTMP` is not set (ocf-directories' default).
pub const DEFAULT_STATE_DIR: &str = "/run/resource-agents";

/// A name (an instance, a node) turned into one file name component, the one rule for every
/// per-instance file: ASCII letters, digits, `-`, `_` and `.` are kept, anything else (`:` of
/// a clone instance, `/`, spaces, control characters) becomes `_`, and a leading `.` becomes
/// `_`, so the result is never empty, hidden, `.` or `..`.
pub fn file_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.starts_with('.') {
        out.replace_range(..1, "_");
    }
    if out.is_empty() {
        out.push('_');
    }
    out
}
const META: &str = "CRM_meta_";

/// A role, as `CRM_meta_role` names it for role-specific monitors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Stopped,
    Started,
    Unpromoted,
    Promoted,
}

impl FromStr for Role {
    type Err = String;

    /// Both vocabularies, case-insensitively, as Pacemaker's role parser accepts them.
    fn from_str(s: &str) -> std::result::Result<Role, String> {
        match s.to_ascii_lowercase().as_str() {
            "stopped" => Ok(Role::Stopped),
            "started" => Ok(Role::Started),
            "unpromoted" | "slave" => Ok(Role::Unpromoted),
            "promoted" | "master" => Ok(Role::Promoted),
            _ => Err(format!("unknown role {s:?}")),
        }
    }
}

/// The meta-attributes an agent may act on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Meta {
    /// The action's timeout. Pacemaker always sends it (milliseconds).
    pub timeout: Option<Duration>,
    /// The recurring interval; zero (or absent) for one-shot actions and probes.
    pub interval: Option<Duration>,
    /// This instance's clone number.
    pub clone: Option<u32>,
    pub clone_max: Option<u32>,
    pub clone_node_max: Option<u32>,
    /// `promoted_max`, or the legacy `master_max`.
    pub promoted_max: Option<u32>,
    /// `promoted_node_max`, or the legacy `master_node_max`.
    pub promoted_node_max: Option<u32>,
    pub notify: Option<bool>,
    pub globally_unique: Option<bool>,
    /// The role a role-specific monitor expects.
    pub role: Option<Role>,
    /// `on_node`: the node Pacemaker runs the action on.
    pub on_node: Option<String>,
    /// Every `CRM_meta_*` variable, by its name without the prefix, for what has no field.
    pub raw: BTreeMap<String, String>,
}

impl Meta {
    /// True when this resource is an instance of a clone.
    pub fn is_clone(&self) -> bool {
        self.clone_max.is_some() || self.clone.is_some()
    }
}

/// Pre or post notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifyType {
    Pre,
    Post,
}

/// One `resource uname` pair from a notification list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    pub resource: String,
    pub uname: String,
}

/// The data of a `notify` action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notify {
    pub kind: NotifyType,
    /// start, stop, promote or demote.
    pub operation: String,
    pub start: Vec<Peer>,
    pub stop: Vec<Peer>,
    pub promote: Vec<Peer>,
    pub demote: Vec<Peer>,
    pub active: Vec<Peer>,
    /// `notify_promoted_*`, or the legacy `notify_master_*`.
    pub promoted: Vec<Peer>,
    /// `notify_unpromoted_*`, or the legacy `notify_slave_*`.
    pub unpromoted: Vec<Peer>,
    pub inactive_resources: Vec<String>,
    pub available_unames: Vec<String>,
    pub all_unames: Vec<String>,
}

/// Everything the environment says, read once at start-up.
#[derive(Debug, Clone, Default)]
pub struct Env {
    /// `OCF_RESOURCE_INSTANCE` (Pacemaker's resource id, `rsc:N` for unique clones).
    pub instance: String,
    pub resource_type: Option<String>,
    pub provider: Option<String>,
    /// `OCF_CHECK_LEVEL` (or `OCF_RESKEY_OCF_CHECK_LEVEL`), 0 when unset.
    pub check_level: u32,
    /// Instance parameters, by name, without the `OCF_RESKEY_` prefix.
    pub params: BTreeMap<String, String>,
    pub meta: Meta,
    /// Set for notify actions when the clone has `notify=true`.
    pub notify: Option<Notify>,
    /// Any other variable an agent may ask for (HA_debug, OCF_TRACE_RA, HA_LOGFACILITY, ...).
    pub other: BTreeMap<String, String>,
}

impl Env {
    /// The process environment. Variables that are not valid UTF-8 are skipped: every value
    /// Pacemaker sets is text.
    pub fn from_process() -> Result<Env> {
        Env::from_vars(
            std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))),
        )
    }

    /// An environment from explicit variables (tests, fuzzing).
    pub fn from_vars<I, K, V>(vars: I) -> Result<Env>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let mut env = Env::default();
        let mut check_level: Option<String> = None;
        for (key, value) in vars {
            let (key, value): (String, String) = (key.into(), value.into());
            if let Some(name) = key.strip_prefix(RESKEY) {
                if let Some(meta) = name.strip_prefix(META) {
                    env.meta.raw.insert(meta.to_owned(), value);
                } else if name == "OCF_CHECK_LEVEL" {
                    check_level.get_or_insert(value);
                } else if name != "crm_feature_set" {
                    env.params.insert(name.to_owned(), value);
                }
                continue;
            }
            match key.as_str() {
                "OCF_RESOURCE_INSTANCE" => env.instance = value,
                "OCF_RESOURCE_TYPE" => env.resource_type = Some(value),
                "OCF_RESOURCE_PROVIDER" => env.provider = Some(value),
                // The unprefixed name wins: it is what Pacemaker sets for op attributes.
                "OCF_CHECK_LEVEL" => check_level = Some(value),
                _ => {
                    env.other.insert(key, value);
                }
            }
        }
        if env.instance.is_empty() {
            "undef".clone_into(&mut env.instance);
        }
        if let Some(level) = check_level.filter(|l| !l.trim().is_empty()) {
            env.check_level = level
                .trim()
                .parse()
                .map_err(|_| Error::bad_param("OCF_CHECK_LEVEL", &level, "not a depth"))?;
        }
        env.meta = parse_meta(std::mem::take(&mut env.meta.raw))?;
        env.notify = parse_notify(&env.meta.raw)?;
        Ok(env)
    }

    /// True for a probe: a monitor with no interval (Pacemaker's one-shot state check).
    pub fn is_probe(&self) -> bool {
        self.meta.interval.is_none_or(|i| i.is_zero())
    }

    /// The base name of a clone instance: `web:1` -> `web`.
    pub fn instance_base(&self) -> &str {
        self.instance
            .split_once(':')
            .map_or(self.instance.as_str(), |(base, _)| base)
    }

    /// Another environment variable (not a parameter).
    pub fn var(&self, name: &str) -> Option<&str> {
        self.other.get(name).map(String::as_str)
    }

    /// The instance name as one file name (see [`file_name`]): what per-instance state files
    /// are called.
    pub fn instance_file_name(&self) -> String {
        file_name(&self.instance)
    }

    /// The directory for the agents' run-time state: `HA_RSCTMP` when it is an absolute path
    /// (Pacemaker's environment sets it), else `/run/resource-agents`, as the shell agents'
    /// ocf-directories. Files created there go through `procs::StateDir`, which checks that the
    /// directory is root's and not writable by others.
    pub fn state_dir(&self) -> PathBuf {
        self.var("HA_RSCTMP")
            .filter(|d| d.starts_with('/'))
            .map_or_else(|| PathBuf::from(DEFAULT_STATE_DIR), PathBuf::from)
    }

    /// This node's name: Pacemaker's `CRM_meta_on_node`, else the kernel's host name
    /// (`uname -n`), else `localhost`.
    pub fn node_name(&self) -> String {
        self.meta
            .on_node
            .clone()
            .or_else(|| {
                std::fs::read_to_string("/proc/sys/kernel/hostname")
                    .ok()
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
            })
            .unwrap_or_else(|| "localhost".to_owned())
    }

    /// True when `HA_debug=1` or `OCF_TRACE_RA` asks for debug output.
    pub fn debug(&self) -> bool {
        self.var("HA_debug").is_some_and(|v| v.trim() == "1")
            || self
                .var("OCF_TRACE_RA")
                .is_some_and(|v| !v.is_empty() && v != "0")
    }
}

fn meta_u32(raw: &BTreeMap<String, String>, names: &[&str]) -> Result<Option<u32>> {
    for name in names {
        if let Some(v) = raw.get(*name).filter(|v| !v.trim().is_empty()) {
            let n = v.trim().parse::<u32>().map_err(|_| {
                Error::bad_param(&format!("CRM_meta_{name}"), v, "not a non-negative integer")
            })?;
            return Ok(Some(n));
        }
    }
    Ok(None)
}

fn meta_bool(raw: &BTreeMap<String, String>, name: &str) -> Result<Option<bool>> {
    raw.get(name)
        .filter(|v| !v.trim().is_empty())
        .map(|v| {
            parse_bool(v)
                .ok_or_else(|| Error::bad_param(&format!("CRM_meta_{name}"), v, "not a boolean"))
        })
        .transpose()
}

/// Pacemaker sends milliseconds as a plain integer; people running agents by hand sometimes
/// write `20s`. Both are read.
fn meta_duration(raw: &BTreeMap<String, String>, name: &str) -> Result<Option<Duration>> {
    let Some(v) = raw.get(name).filter(|v| !v.trim().is_empty()) else {
        return Ok(None);
    };
    let v_trim = v.trim();
    let parsed = if v_trim.bytes().all(|b| b.is_ascii_digit()) {
        v_trim.parse::<u64>().ok().map(Duration::from_millis)
    } else {
        crate::params::parse_duration(v_trim, Duration::from_millis(1))
    };
    parsed
        .map(Some)
        .ok_or_else(|| Error::bad_param(&format!("CRM_meta_{name}"), v, "not a duration"))
}

fn parse_meta(raw: BTreeMap<String, String>) -> Result<Meta> {
    let role = match raw.get("role").filter(|r| !r.is_empty()) {
        Some(r) => Some(
            r.parse::<Role>()
                .map_err(|why| Error::bad_param("CRM_meta_role", r, why))?,
        ),
        None => None,
    };
    Ok(Meta {
        timeout: meta_duration(&raw, "timeout")?,
        interval: meta_duration(&raw, "interval")?,
        clone: meta_u32(&raw, &["clone"])?,
        clone_max: meta_u32(&raw, &["clone_max"])?,
        clone_node_max: meta_u32(&raw, &["clone_node_max"])?,
        promoted_max: meta_u32(&raw, &["promoted_max", "master_max"])?,
        promoted_node_max: meta_u32(&raw, &["promoted_node_max", "master_node_max"])?,
        notify: meta_bool(&raw, "notify")?,
        globally_unique: meta_bool(&raw, "globally_unique")?,
        role,
        on_node: raw.get("on_node").filter(|n| !n.is_empty()).cloned(),
        raw,
    })
}

fn words(raw: &BTreeMap<String, String>, name: &str) -> Vec<String> {
    raw.get(name)
        .map(|v| v.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default()
}

/// Pairs `notify_<list>_resource` with `notify_<list>_uname`, trying each vocabulary in turn.
fn peers(raw: &BTreeMap<String, String>, lists: &[&str]) -> Vec<Peer> {
    for list in lists {
        let resources = words(raw, &format!("notify_{list}_resource"));
        let unames = words(raw, &format!("notify_{list}_uname"));
        if resources.is_empty() && unames.is_empty() {
            continue;
        }
        let count = resources.len().max(unames.len());
        return (0..count)
            .map(|i| Peer {
                resource: resources.get(i).cloned().unwrap_or_default(),
                uname: unames.get(i).cloned().unwrap_or_default(),
            })
            .collect();
    }
    Vec::new()
}

fn parse_notify(raw: &BTreeMap<String, String>) -> Result<Option<Notify>> {
    let Some(kind) = raw.get("notify_type").filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let kind = match kind.as_str() {
        "pre" => NotifyType::Pre,
        "post" => NotifyType::Post,
        other => {
            return Err(Error::bad_param(
                "CRM_meta_notify_type",
                other,
                "expected pre or post",
            ));
        }
    };
    Ok(Some(Notify {
        kind,
        operation: raw.get("notify_operation").cloned().unwrap_or_default(),
        start: peers(raw, &["start"]),
        stop: peers(raw, &["stop"]),
        promote: peers(raw, &["promote"]),
        demote: peers(raw, &["demote"]),
        active: peers(raw, &["active"]),
        promoted: peers(raw, &["promoted", "master"]),
        unpromoted: peers(raw, &["unpromoted", "slave"]),
        inactive_resources: words(raw, "notify_inactive_resource"),
        available_unames: words(raw, "notify_available_uname"),
        all_unames: words(raw, "notify_all_uname"),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> Result<Env> {
        Env::from_vars(vars.iter().copied())
    }

    #[test]
    fn splits_params_meta_and_other() {
        let e = env(&[
            ("OCF_RESOURCE_INSTANCE", "vip"),
            ("OCF_RESKEY_ip", "10.0.0.5"),
            ("OCF_RESKEY_CRM_meta_timeout", "20000"),
            ("OCF_RESKEY_CRM_meta_interval", "10000"),
            ("OCF_RESKEY_crm_feature_set", "3.16.2"),
            ("HA_debug", "1"),
        ])
        .unwrap();
        assert_eq!(e.instance, "vip");
        assert_eq!(e.params.len(), 1);
        assert_eq!(e.params["ip"], "10.0.0.5");
        assert_eq!(e.meta.timeout, Some(Duration::from_secs(20)));
        assert_eq!(e.meta.interval, Some(Duration::from_secs(10)));
        assert!(!e.is_probe());
        assert!(e.debug());
        assert_eq!(e.check_level, 0);
    }

    #[test]
    fn one_file_name_rule() {
        for (name, file) in [
            ("WebData:0", "WebData_0"),
            ("web-site.1", "web-site.1"),
            ("a/b c\nd", "a_b_c_d"),
            ("..", "_."),
            (".", "_"),
            ("", "_"),
            (".hidden", "_hidden"),
        ] {
            assert_eq!(file_name(name), file, "{name:?}");
        }
    }

    #[test]
    fn state_dir_and_node_name() {
        let e = env(&[
            ("HA_RSCTMP", "/tmp/rsc"),
            ("OCF_RESKEY_CRM_meta_on_node", "node1"),
        ])
        .unwrap();
        assert_eq!(e.state_dir(), PathBuf::from("/tmp/rsc"));
        assert_eq!(e.node_name(), "node1");
        let relative = env(&[("HA_RSCTMP", "tmp")]).unwrap();
        assert_eq!(relative.state_dir(), PathBuf::from(DEFAULT_STATE_DIR));
        assert!(!relative.node_name().is_empty());
    }

    #[test]
    fn probe_is_monitor_without_interval() {
        assert!(env(&[]).unwrap().is_probe());
        assert!(
            env(&[("OCF_RESKEY_CRM_meta_interval", "0")])
                .unwrap()
                .is_probe()
        );
    }

    #[test]
    fn check_level_both_spellings_and_bad() {
        assert_eq!(env(&[("OCF_CHECK_LEVEL", "10")]).unwrap().check_level, 10);
        assert_eq!(
            env(&[("OCF_RESKEY_OCF_CHECK_LEVEL", "20")])
                .unwrap()
                .check_level,
            20
        );
        assert_eq!(
            env(&[
                ("OCF_RESKEY_OCF_CHECK_LEVEL", "20"),
                ("OCF_CHECK_LEVEL", "10")
            ])
            .unwrap()
            .check_level,
            10
        );
        let e = env(&[("OCF_CHECK_LEVEL", "deep")]).unwrap_err();
        assert_eq!(e.status(), crate::Status::ErrConfigured);
        assert!(e.reason().contains("OCF_CHECK_LEVEL"));
    }

    #[test]
    fn both_role_vocabularies() {
        for (word, role) in [
            ("Promoted", Role::Promoted),
            ("Master", Role::Promoted),
            ("master", Role::Promoted),
            ("Unpromoted", Role::Unpromoted),
            ("Slave", Role::Unpromoted),
            ("Started", Role::Started),
            ("Stopped", Role::Stopped),
        ] {
            let e = env(&[("OCF_RESKEY_CRM_meta_role", word)]).unwrap();
            assert_eq!(e.meta.role, Some(role), "{word}");
        }
        assert!(env(&[("OCF_RESKEY_CRM_meta_role", "Boss")]).is_err());
    }

    #[test]
    fn clone_meta_in_both_vocabularies() {
        let new = env(&[
            ("OCF_RESKEY_CRM_meta_clone", "1"),
            ("OCF_RESKEY_CRM_meta_clone_max", "2"),
            ("OCF_RESKEY_CRM_meta_clone_node_max", "1"),
            ("OCF_RESKEY_CRM_meta_promoted_max", "2"),
            ("OCF_RESKEY_CRM_meta_promoted_node_max", "1"),
            ("OCF_RESKEY_CRM_meta_notify", "true"),
            ("OCF_RESKEY_CRM_meta_globally_unique", "false"),
        ])
        .unwrap();
        let old = env(&[
            ("OCF_RESKEY_CRM_meta_clone", "1"),
            ("OCF_RESKEY_CRM_meta_clone_max", "2"),
            ("OCF_RESKEY_CRM_meta_clone_node_max", "1"),
            ("OCF_RESKEY_CRM_meta_master_max", "2"),
            ("OCF_RESKEY_CRM_meta_master_node_max", "1"),
            ("OCF_RESKEY_CRM_meta_notify", "yes"),
            ("OCF_RESKEY_CRM_meta_globally_unique", "0"),
        ])
        .unwrap();
        for e in [&new, &old] {
            assert!(e.meta.is_clone());
            assert_eq!(e.meta.clone, Some(1));
            assert_eq!(e.meta.clone_max, Some(2));
            assert_eq!(e.meta.clone_node_max, Some(1));
            assert_eq!(e.meta.promoted_max, Some(2));
            assert_eq!(e.meta.promoted_node_max, Some(1));
            assert_eq!(e.meta.notify, Some(true));
            assert_eq!(e.meta.globally_unique, Some(false));
        }
        let bad = env(&[("OCF_RESKEY_CRM_meta_clone_max", "two")]).unwrap_err();
        assert!(bad.reason().contains("CRM_meta_clone_max"), "{bad}");
    }

    #[test]
    fn notify_in_both_vocabularies() {
        let base = [
            ("OCF_RESKEY_CRM_meta_notify_type", "post"),
            ("OCF_RESKEY_CRM_meta_notify_operation", "promote"),
            ("OCF_RESKEY_CRM_meta_notify_promote_resource", "d:1"),
            ("OCF_RESKEY_CRM_meta_notify_promote_uname", "node2"),
            ("OCF_RESKEY_CRM_meta_notify_inactive_resource", "d:2 d:3"),
        ];
        let mut new = base.to_vec();
        new.extend([
            ("OCF_RESKEY_CRM_meta_notify_promoted_resource", "d:0 d:1"),
            ("OCF_RESKEY_CRM_meta_notify_promoted_uname", "node1 node2"),
            ("OCF_RESKEY_CRM_meta_notify_unpromoted_resource", " "),
        ]);
        let mut old = base.to_vec();
        old.extend([
            ("OCF_RESKEY_CRM_meta_notify_master_resource", "d:0 d:1"),
            ("OCF_RESKEY_CRM_meta_notify_master_uname", "node1 node2"),
            ("OCF_RESKEY_CRM_meta_notify_slave_resource", ""),
        ]);
        for vars in [new, old] {
            let n = env(&vars).unwrap().notify.unwrap();
            assert_eq!(n.kind, NotifyType::Post);
            assert_eq!(n.operation, "promote");
            assert_eq!(n.promote.len(), 1);
            assert_eq!(n.promote[0].uname, "node2");
            let unames: Vec<_> = n.promoted.iter().map(|p| p.uname.as_str()).collect();
            assert_eq!(unames, ["node1", "node2"]);
            assert!(n.unpromoted.is_empty());
            assert_eq!(n.inactive_resources, ["d:2", "d:3"]);
        }
        assert!(env(&[("OCF_RESKEY_CRM_meta_notify_type", "during")]).is_err());
        assert!(env(&[]).unwrap().notify.is_none());
    }

    #[test]
    fn timeout_with_unit_and_garbage() {
        let e = env(&[("OCF_RESKEY_CRM_meta_timeout", "30s")]).unwrap();
        assert_eq!(e.meta.timeout, Some(Duration::from_secs(30)));
        let bad = env(&[("OCF_RESKEY_CRM_meta_timeout", "soon")]).unwrap_err();
        assert!(bad.reason().contains("CRM_meta_timeout"));
    }

    #[test]
    fn instance_base_strips_clone_number() {
        let e = env(&[("OCF_RESOURCE_INSTANCE", "WebFS:1")]).unwrap();
        assert_eq!(e.instance_base(), "WebFS");
        assert_eq!(env(&[]).unwrap().instance, "undef");
    }
}
