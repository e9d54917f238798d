//! The configuration, in the two tiers `ocf` asks for: the identity (`drbd_resource`, the
//! DRBD resource the kernel knows by that name: all that stop needs) and the settings
//! (everything else). Each is parsed once from `ocf::Params`; every bad value is
//! OCF_ERR_CONFIGURED naming the parameter and the value; defaults come from the metadata
//! XML only.

use crate::score::{Ladder, PeerPrimaryPolicy};
use ocf::{Context, Error, Params, Result};
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// The longest resource name DRBD takes: the kernel's generic-netlink attribute
/// `ctx_resource_name` (`drbd_genl.h`, `__str_field(2, ..., ctx_resource_name, 128)`) holds
/// 128 bytes with the terminating NUL, so 127 characters; a longer name can never exist.
pub const MAX_RESOURCE_NAME: usize = 127;

/// What finds the resource on this node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// `drbd_resource`.
    pub resource: String,
}

/// Everything else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `drbdconf`: the DRBD configuration drbdadm reads (`drbdadm -c`).
    pub drbdconf: PathBuf,
    pub ladder: Ladder,
    pub stop_outdates_secondary: bool,
    pub ignore_missing_notifications: bool,
    /// None: do not wait for the peer on start.
    pub wfc_timeout: Option<Duration>,
    pub peer_primary: PeerPrimaryPolicy,
    pub fail_promote_early_if_peer_primary: bool,
    pub unfence_if_all_uptodate: bool,
    pub unfence_extra_args: String,
    pub version_ge: Version,
    pub version_lt: Version,
    pub connect_only_after_promote: bool,
}

/// The configuration the actions work with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub identity: Identity,
    pub settings: Settings,
}

/// A dotted version, compared numerically (`8.4.11` < `9.0.0`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(pub Vec<u32>);

impl Version {
    /// `8.4.11`, `9.1.0-rc.1` (read as 9.1.0); `param` names the parameter in the error.
    pub fn parse(param: &str, text: &str) -> Result<Version> {
        let parts: Option<Vec<u32>> = text
            .trim()
            .split(['.', '-'])
            .take_while(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
            .map(|p| p.parse().ok())
            .collect();
        match parts {
            Some(v) if !v.is_empty() => Ok(Version(v)),
            _ => Err(Error::bad_param(param, text, "not a version like 9.2.0")),
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(u32::to_string).collect();
        f.write_str(&parts.join("."))
    }
}

/// The characters LINBIT's agent accepts in `drbd_resource`, less `/`: a DRBD resource name
/// is a single path component (drbdsetup's lock files, debugfs' `resources/<name>`), so a
/// name with `/` (or `.`/`..`) names no resource and would only walk the file system.
pub fn check_resource_name(name: &str) -> Result<()> {
    let bad = |why: &str| Err(Error::bad_param("drbd_resource", name, why));
    let ok = |c: char| c.is_ascii_alphanumeric() || "-%+.:=@_".contains(c);
    if name.is_empty() {
        return bad("must not be empty");
    }
    if name.len() > MAX_RESOURCE_NAME {
        return bad(&format!(
            "is {} characters long; DRBD resource names have at most {MAX_RESOURCE_NAME}",
            name.len()
        ));
    }
    if name.contains('/') {
        return bad("a DRBD resource name never contains '/'");
    }
    if !name.chars().all(ok) {
        return bad("only A-Z a-z 0-9 and - % + . : = @ _ are allowed");
    }
    if name.starts_with('-') {
        return bad("must not start with '-' (it would read as an option)");
    }
    if name == "." || name == ".." {
        return bad("'.' and '..' name no resource");
    }
    Ok(())
}

/// `adjust_master_score`: four scores, none negative.
pub fn parse_ladder(text: &str) -> Result<Ladder> {
    let bad = |why: &str| Error::bad_param("adjust_master_score", text, why);
    let nums: Vec<i64> = text
        .split_whitespace()
        .map(|w| w.parse::<i64>().map_err(|_| bad("not four integers")))
        .collect::<Result<_>>()?;
    let [a, b, c, d] = nums[..] else {
        return Err(bad("needs exactly four scores"));
    };
    if nums.iter().any(|n| !(0..=1_000_000).contains(n)) {
        return Err(bad(
            "scores must be within 0..=1000000 (negative scores restart the clone)",
        ));
    }
    Ok(Ladder {
        only_consistent: a,
        only_remote: b,
        local_ok: c,
        as_good_as_it_gets: d,
    })
}

impl ocf::Identity for Identity {
    const PARAMS: &'static [&'static str] = &["drbd_resource"];

    fn parse(p: &Params, _ctx: &Context) -> Result<Identity> {
        let resource = p.required("drbd_resource")?;
        check_resource_name(&resource)?;
        Ok(Identity { resource })
    }
}

impl ocf::Settings<Identity> for Settings {
    fn parse(p: &Params, _identity: &Identity, _ctx: &Context) -> Result<Settings> {
        let drbdconf = p.string("drbdconf").unwrap_or_default();
        if !drbdconf.starts_with('/') {
            return Err(Error::bad_param(
                "drbdconf",
                &drbdconf,
                "must be an absolute path",
            ));
        }
        let ladder = parse_ladder(&p.string("adjust_master_score").unwrap_or_default())?;
        // LINBIT: "empty or non-digits means don't wait".
        let wfc_timeout = p
            .string("wfc_timeout")
            .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|t| t.parse::<u64>().ok())
            .filter(|s| *s > 0)
            .map(Duration::from_secs);
        let peer_primary = match p
            .string("remove_master_score_if_peer_primary")
            .unwrap_or_default()
            .to_ascii_lowercase()
            .as_str()
        {
            "unexpected" => PeerPrimaryPolicy::Unexpected,
            v => match ocf::params::parse_bool(v) {
                Some(true) => PeerPrimaryPolicy::Always,
                Some(false) => PeerPrimaryPolicy::Never,
                None => {
                    return Err(Error::bad_param(
                        "remove_master_score_if_peer_primary",
                        v,
                        "expected false, true or unexpected",
                    ));
                }
            },
        };
        let version = |name: &str| Version::parse(name, &p.string(name).unwrap_or_default());
        Ok(Settings {
            drbdconf: PathBuf::from(drbdconf),
            ladder,
            stop_outdates_secondary: p.bool("stop_outdates_secondary")?,
            ignore_missing_notifications: p.bool("ignore_missing_notifications")?,
            wfc_timeout,
            peer_primary,
            fail_promote_early_if_peer_primary: p.bool("fail_promote_early_if_peer_primary")?,
            unfence_if_all_uptodate: p.bool("unfence_if_all_uptodate")?,
            unfence_extra_args: p.string("unfence_extra_args").unwrap_or_default(),
            version_ge: version("require_drbd_module_version_ge")?,
            version_lt: version("require_drbd_module_version_lt")?,
            connect_only_after_promote: p.bool("connect_only_after_promote")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Agent;
    use ocf::{Action, Status};

    fn ctx(params: &[(&str, &str)]) -> Context {
        let mut all = vec![("drbd_resource", "r0")];
        all.extend_from_slice(params);
        ocf::testing::context::<Agent>(Action::Start, &all, &[])
    }

    #[test]
    fn params_match_metadata() {
        ocf::testing::assert_params_match_metadata::<Agent>(&[("drbd_resource", "r0")]);
    }

    /// How Pacemaker's controller (controld_metadata.c, controld_cib.c; Pacemaker 2.1 to
    /// 3.0) decides which changed parameters it reloads rather than restarts: an agent
    /// declaring OCF >= 1.1 with `reload-agent` reloads its `reloadable="1"` parameters; one
    /// declaring < 1.1 with `reload` reloads every parameter not `unique="1"` (the legacy
    /// rule); any other agent restarts for every change. Returns the parameters reloaded.
    fn reloaded_by_pacemaker(xml: &str) -> Vec<String> {
        let options = roxmltree::ParsingOptions {
            allow_dtd: true,
            ..roxmltree::ParsingOptions::default()
        };
        let doc = roxmltree::Document::parse_with_options(xml, options).unwrap();
        let root = doc.root_element();
        let version = root
            .children()
            .find(|n| n.has_tag_name("version"))
            .and_then(|n| n.text())
            .unwrap_or("");
        let ocf_1_1 = version
            .split('.')
            .map(|p| p.parse::<u32>().unwrap_or(0))
            .collect::<Vec<_>>()
            >= vec![1, 1];
        let actions: Vec<&str> = root
            .descendants()
            .filter(|n| n.has_tag_name("action"))
            .filter_map(|n| n.attribute("name"))
            .collect();
        let truthy = |v: Option<&str>| matches!(v, Some("1" | "true" | "yes" | "on"));
        let params = root.descendants().filter(|n| n.has_tag_name("parameter"));
        if ocf_1_1 && actions.contains(&"reload-agent") {
            params
                .filter(|p| truthy(p.attribute("reloadable")))
                .filter_map(|p| p.attribute("name").map(str::to_owned))
                .collect()
        } else if !ocf_1_1 && actions.iter().any(|a| a.eq_ignore_ascii_case("reload")) {
            params
                .filter(|p| !truthy(p.attribute("unique")))
                .filter_map(|p| p.attribute("name").map(str::to_owned))
                .collect()
        } else {
            Vec::new()
        }
    }

    /// A changed setting (wfc_timeout, adjust_master_score, drbdconf ...) is applied by the
    /// agent's `reload` (drbdadm adjust, the score again) without a demote or a stop, which
    /// would take GFS2 and Apache down with DRBD; only a changed drbd_resource (the
    /// identity) restarts the instance. See the README for why OCF 1.0 and `reload`.
    #[test]
    fn pacemaker_reloads_every_setting_and_restarts_for_the_identity() {
        let reloaded = reloaded_by_pacemaker(<Agent as ocf::Agent>::METADATA);
        let settings: Vec<String> = ocf::Metadata::parse(<Agent as ocf::Agent>::METADATA)
            .unwrap()
            .params
            .iter()
            .map(|p| p.name.clone())
            .filter(|n| !<Identity as ocf::Identity>::PARAMS.contains(&n.as_str()))
            .collect();
        assert!(reloaded.contains(&"wfc_timeout".to_owned()), "{reloaded:?}");
        assert_eq!(reloaded, settings, "every setting, and only the settings");
    }

    #[test]
    fn defaults_come_from_the_metadata() {
        let (identity, s) = ocf::testing::parse::<Agent>(&ctx(&[])).unwrap();
        assert_eq!(identity.resource, "r0");
        assert_eq!(s.drbdconf, PathBuf::from("/etc/drbd.conf"));
        assert_eq!(s.wfc_timeout, Some(Duration::from_secs(5)));
        assert_eq!(s.peer_primary, PeerPrimaryPolicy::Never);
        assert_eq!(s.version_ge.to_string(), "8.0.0");
        assert_eq!(s.version_lt.to_string(), "10.0.0");
        assert_eq!(s.ladder, parse_ladder("0 10 1000 10000").unwrap());
    }

    #[test]
    fn bad_values_are_6_naming_the_parameter() {
        for (name, value) in [
            ("drbd_resource", "r0; reboot"),
            ("drbd_resource", "-c/etc/passwd"),
            ("drbdconf", "drbd.conf"),
            ("adjust_master_score", "0 10 1000"),
            ("adjust_master_score", "0 10 -5 10000"),
            ("remove_master_score_if_peer_primary", "sometimes"),
            ("require_drbd_module_version_ge", "eight"),
            ("stop_outdates_secondary", "perhaps"),
            ("connect_only_after_promote", "2"),
        ] {
            let e = ocf::testing::parse::<Agent>(&ctx(&[(name, value)])).unwrap_err();
            assert_eq!(e.status(), Status::ErrConfigured, "{name}={value}");
            assert!(e.reason().contains(&format!("{name}=\"")), "{name}: {e}");
        }
    }

    #[test]
    fn wfc_timeout_that_is_no_number_means_no_wait() {
        for value in ["none", "0", "-5", "5s"] {
            let (_, s) = ocf::testing::parse::<Agent>(&ctx(&[("wfc_timeout", value)])).unwrap();
            assert_eq!(s.wfc_timeout, None, "{value:?}");
        }
    }

    #[test]
    fn resource_names() {
        let longest = "r".repeat(MAX_RESOURCE_NAME);
        for ok in ["r0", "wwwdata", "a-b_c.d:e=f@g+h%i", "R9", longest.as_str()] {
            assert!(check_resource_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "r 0", "r0;rm", "$(id)", "r\n0", "-c", "räu"] {
            let e = check_resource_name(bad).unwrap_err();
            assert_eq!(e.status(), Status::ErrConfigured, "{bad}");
            assert!(e.reason().contains("drbd_resource="), "{e}");
        }
    }

    #[test]
    fn resource_names_with_a_slash_or_too_long_are_refused_by_name() {
        for (bad, why) in [
            ("../../etc/passwd", "never contains '/'"),
            ("r0/extra", "never contains '/'"),
            ("/r0", "never contains '/'"),
            ("..", "name no resource"),
            (".", "name no resource"),
        ] {
            let e = check_resource_name(bad).unwrap_err();
            assert_eq!(e.status(), Status::ErrConfigured, "{bad}");
            assert!(e.reason().contains("drbd_resource=\""), "{e}");
            assert!(e.reason().contains(why), "{bad}: {e}");
        }
        let long = "a".repeat(10 * 1024);
        let e = check_resource_name(&long).unwrap_err();
        assert!(e.reason().contains("drbd_resource=\"aaa"), "{e}");
        assert!(e.reason().contains("10240 characters long"), "{e}");
        assert!(check_resource_name(&"r".repeat(MAX_RESOURCE_NAME + 1)).is_err());
    }

    #[test]
    fn ladder_parsing() {
        assert_eq!(
            parse_ladder("0 10 1000 10000"),
            Ok(Ladder {
                only_consistent: 0,
                only_remote: 10,
                local_ok: 1000,
                as_good_as_it_gets: 10000
            })
        );
        for bad in [
            "0 10 1000",
            "0 10 1000 10000 5",
            "a b c d",
            "0 -10 1000 10000",
            "",
        ] {
            let e = parse_ladder(bad).unwrap_err();
            assert!(e.reason().contains("adjust_master_score="), "{e}");
        }
    }

    #[test]
    fn versions() {
        let v = |t| Version::parse("v", t).unwrap();
        assert!(v("8.4.11") < v("9.0.0"));
        assert!(v("9.2.12") < v("10.0.0"));
        assert!(v("8.4.11") >= v("8.0.0"));
        assert_eq!(v("9.1.0-rc.1"), Version(vec![9, 1, 0]));
        assert_eq!(v("8.4.11").to_string(), "8.4.11");
        assert!(
            Version::parse("require_drbd_module_version_ge", "new")
                .unwrap_err()
                .reason()
                .contains("require_drbd_module_version_ge=\"new\"")
        );
    }
}
