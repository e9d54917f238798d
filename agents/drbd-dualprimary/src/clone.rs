//! What the clone must be for DRBD: its meta-attributes, read in both vocabularies. Checked
//! by the actions that put the resource in place (validate-all, start, promote), never by
//! those that observe or undo (monitor, demote, notify, stop), which must work whatever the
//! clone says, as the bad-configuration rule has it for parameters.

use ocf::{Error, Meta, Result};

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
}
