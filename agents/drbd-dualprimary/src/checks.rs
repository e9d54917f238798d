//! Pure checks: the resource name, the clone's meta-attributes, the score ladder setting,
//! module versions and `drbdadm dump`'s allow-two-primaries.

use ocf::{Error, Meta, Result};

/// The longest resource name DRBD takes: the kernel's generic-netlink attribute
/// `ctx_resource_name` (`drbd_genl.h`, `__str_field(2, ..., ctx_resource_name, 128)`) holds
/// 128 bytes with the terminating NUL, so 127 characters; a longer name can never exist.
pub const MAX_RESOURCE_NAME: usize = 127;

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

/// The clone this agent needs, read in both vocabularies (`ocf::Meta` folds
/// `master_max`/`master_node_max` into the promoted names): a promotable clone,
/// clone-node-max 1, promoted-node-max 1, promoted-max at most 2 (and clone-max at most 2
/// with two primaries), and notify=true unless notifications are waived. Returns
/// promoted-max.
pub fn check_meta(meta: &Meta, ignore_missing_notifications: bool) -> Result<u32> {
    let Some(clone_max) = meta.clone_max else {
        return Err(Error::configured(
            "drbd-dualprimary must run as a promotable clone (no clone-max meta-attribute)",
        ));
    };
    let Some(promoted_max) = meta.promoted_max else {
        return Err(Error::configured(
            "the clone is not promotable (no promoted-max/master-max): set promotable=true",
        ));
    };
    if let Some(n) = meta.clone_node_max.filter(|n| *n != 1) {
        return Err(Error::bad_param(
            "clone-node-max",
            &n.to_string(),
            "must be 1",
        ));
    }
    if let Some(n) = meta.promoted_node_max.filter(|n| *n != 1) {
        return Err(Error::bad_param(
            "promoted-node-max",
            &n.to_string(),
            "must be 1",
        ));
    }
    if promoted_max > 2 {
        return Err(Error::bad_param(
            "promoted-max",
            &promoted_max.to_string(),
            "DRBD allows at most two Primaries",
        ));
    }
    if promoted_max == 2 && clone_max > 2 {
        return Err(Error::bad_param(
            "clone-max",
            &clone_max.to_string(),
            "at most 2 with promoted-max=2 (dual-primary)",
        ));
    }
    if meta.notify != Some(true) && !ignore_missing_notifications {
        return Err(Error::bad_param(
            "notify",
            meta.raw.get("notify").map_or("", String::as_str),
            "the clone needs notify=true (or set ignore_missing_notifications=true)",
        ));
    }
    Ok(promoted_max)
}

/// The four scores of `adjust_master_score`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ladder {
    pub only_consistent: i64,
    pub only_remote: i64,
    pub local_ok: i64,
    pub as_good_as_it_gets: i64,
}

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

/// A dotted version, compared numerically (`8.4.11` < `9.0.0`).
pub fn parse_version(param: &str, text: &str) -> Result<Vec<u32>> {
    let parts: Option<Vec<u32>> = text
        .trim()
        .split(['.', '-'])
        .take_while(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        .map(|p| p.parse().ok())
        .collect();
    match parts {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(Error::bad_param(param, text, "not a version like 9.2.0")),
    }
}

/// Whether `drbdadm dump` output enables allow-two-primaries in some net section
/// (`allow-two-primaries yes;`, or the bare `allow-two-primaries;` of older dumps).
pub fn dump_allows_two_primaries(dump: &str) -> bool {
    let text: String = dump
        .lines()
        .map(|line| line.split('#').next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    text.split([';', '{', '}']).any(|statement| {
        let mut words = statement.split_whitespace();
        words.next() == Some("allow-two-primaries")
            && matches!(words.next(), None | Some("yes" | "true" | "on" | "1"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ocf::Status;

    fn meta(vars: &[(&str, &str)]) -> Meta {
        ocf::Env::from_vars(
            vars.iter()
                .map(|(k, v)| (format!("OCF_RESKEY_CRM_meta_{k}"), (*v).to_owned())),
        )
        .unwrap()
        .meta
    }

    const NEW: [(&str, &str); 5] = [
        ("clone_max", "2"),
        ("clone_node_max", "1"),
        ("promoted_max", "2"),
        ("promoted_node_max", "1"),
        ("notify", "true"),
    ];
    const OLD: [(&str, &str); 5] = [
        ("clone_max", "2"),
        ("clone_node_max", "1"),
        ("master_max", "2"),
        ("master_node_max", "1"),
        ("notify", "true"),
    ];

    fn with(
        base: &[(&'static str, &'static str)],
        k: &'static str,
        v: &'static str,
    ) -> Vec<(&'static str, &'static str)> {
        let mut out: Vec<_> = base.iter().copied().filter(|(n, _)| *n != k).collect();
        if !v.is_empty() {
            out.push((k, v));
        }
        out
    }

    #[test]
    fn meta_in_both_vocabularies() {
        assert_eq!(check_meta(&meta(&NEW), false), Ok(2));
        assert_eq!(check_meta(&meta(&OLD), false), Ok(2));
        for (base, pmax, pnode) in [
            (&NEW, "promoted_max", "promoted_node_max"),
            (&OLD, "master_max", "master_node_max"),
        ] {
            let e = check_meta(&meta(&with(base, pmax, "3")), false).unwrap_err();
            assert_eq!(e.status(), Status::ErrConfigured);
            assert!(e.reason().contains("promoted-max=\"3\""), "{e}");
            let e = check_meta(&meta(&with(base, pnode, "2")), false).unwrap_err();
            assert!(e.reason().contains("promoted-node-max=\"2\""), "{e}");
            let e = check_meta(&meta(&with(base, "notify", "false")), false).unwrap_err();
            assert!(e.reason().contains("notify=\"false\""), "{e}");
            assert!(check_meta(&meta(&with(base, "notify", "false")), true).is_ok());
            assert!(check_meta(&meta(&with(base, "notify", "")), false).is_err());
            let e = check_meta(&meta(&with(base, "clone_node_max", "2")), false).unwrap_err();
            assert!(e.reason().contains("clone-node-max=\"2\""), "{e}");
            let e = check_meta(&meta(&with(base, "clone_max", "3")), false).unwrap_err();
            assert!(e.reason().contains("clone-max=\"3\""), "{e}");
            let e = check_meta(&meta(&with(base, pmax, "")), false).unwrap_err();
            assert!(e.reason().contains("promotable"), "{e}");
        }
        // Single primary with three clones is fine.
        let single = with(&with(&NEW, "promoted_max", "1"), "clone_max", "3");
        assert_eq!(check_meta(&meta(&single), false), Ok(1));
        let e = check_meta(&meta(&[]), false).unwrap_err();
        assert!(e.reason().contains("promotable clone"), "{e}");
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
        assert!(parse_version("v", "8.4.11").unwrap() < parse_version("v", "9.0.0").unwrap());
        assert!(parse_version("v", "9.2.12").unwrap() < parse_version("v", "10.0.0").unwrap());
        assert!(parse_version("v", "8.4.11").unwrap() >= parse_version("v", "8.0.0").unwrap());
        assert_eq!(parse_version("v", "9.1.0-rc.1").unwrap(), [9, 1, 0]);
        assert!(
            parse_version("require_drbd_module_version_ge", "new")
                .unwrap_err()
                .reason()
                .contains("require_drbd_module_version_ge=\"new\"")
        );
    }

    #[test]
    fn two_primaries_in_dump() {
        let yes = "resource r0 {\n    net {\n        allow-two-primaries yes;\n        protocol C;\n    }\n}\n";
        let bare = "net {\n allow-two-primaries;\n}";
        let no = "net {\n allow-two-primaries no;\n}";
        let absent = "net {\n protocol C;\n # allow-two-primaries yes;\n}";
        assert!(dump_allows_two_primaries(yes));
        assert!(dump_allows_two_primaries(bare));
        assert!(!dump_allows_two_primaries(no));
        assert!(!dump_allows_two_primaries(absent));
        assert!(dump_allows_two_primaries(
            "net { protocol C; allow-two-primaries yes; }"
        ));
        assert!(!dump_allows_two_primaries(
            "net { allow-two-primaries-not yes; }"
        ));
    }
}
