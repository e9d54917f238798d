//! Check 16: the agents' Pacemaker boundary (crate `pacemaker-cli`) against the guest's own
//! Pacemaker (2.1 on bookworm, 3.0 on trixie), through `lab-boundary` (src/bin): the node name,
//! promotion scores set, read and deleted, and the fencing setting under both its names,
//! each compared with what Pacemaker's own tools say.

use crate::scenario::Run;
use crate::step::{Error, Result};
use crate::sys::mins;
use crate::vm::{self, NODES};
use std::fmt::Write;

/// A copy of the live CIB with the fencing options set as given (None: unset), Pacemaker's
/// own verdict on it (crm_verify refuses to start resources when fencing is enabled and no
/// fence device exists; Pacemaker 3.0 says why only with -V) and the crate's verdict on the
/// same file (CIB_file). The copy's means of fencing are deleted first, its fence devices
/// and `have-watchdog` (the fenced profile has both: sbd sets it), or crm_verify would have
/// nothing to refuse.
fn variant_script(name: &str, stonith: Option<&str>, fencing: Option<&str>) -> String {
    let set = |opt: &str, v: Option<&str>| {
        v.map_or(String::new(), |v| {
            format!("crm_attribute --type crm_config --name {opt} --update {v} >/dev/null && ")
        })
    };
    format!(
        "mkdir -p /run/lab-boundary && f=/run/lab-boundary/{name}.xml && cibadmin --query > $f && export CIB_file=$f && \
         {STRIP_FENCE_DEVICES} $f && \
         for o in stonith-enabled fencing-enabled have-watchdog; do crm_attribute --type crm_config --name $o --delete >/dev/null 2>&1; done; \
         {}{}if crm_verify -V --xml-file $f 2>&1 | grep -qi -E 'no (stonith|fencing) (resources|devices)'; then pm=true; else pm=false; fi; \
         echo \"pacemaker: fencing enabled=$pm\"; lab-boundary options $pm",
        set("stonith-enabled", stonith),
        set("fencing-enabled", fencing)
    )
}

/// Deletes the fence devices of the CIB file given (cibadmin refuses to delete by XPath in a
/// file: "Protocol not supported", Pacemaker 2.1.5).
const STRIP_FENCE_DEVICES: &str = "python3 -c \"import sys, xml.etree.ElementTree as E; \
t = E.parse(sys.argv[1]); r = t.getroot().find('configuration/resources'); \
[r.remove(p) for p in list(r) if p.get('class') == 'stonith']; t.write(sys.argv[1])\"";

const VARIANTS: [(&str, Option<&str>, Option<&str>); 5] = [
    ("unset", None, None),
    ("stonith-true", Some("true"), None),
    ("stonith-false", Some("false"), None),
    ("fencing-false", None, Some("false")),
    ("fencing-true-stonith-false", Some("false"), Some("true")),
];

/// 16: every call of the crate answers what Pacemaker itself says, on this release.
pub fn pacemaker_cli(r: &mut Run) -> Result<String> {
    let mut seen = String::new();
    let mut wrong = Vec::new();
    let mut run = |node: &str, what: &str, script: &str| -> Result<()> {
        let out = vm::ssh(r.paths, node, &format!("{script} 2>&1"), mins(2))?;
        let lines: Vec<&str> = out
            .stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect();
        let _ = write!(seen, "[{node} {what}] {}; ", lines.join(" | "));
        if out.code != 0 {
            wrong.push(format!("{what} on {node}"));
        }
        Ok(())
    };
    let fencing = r.setup.profile.fencing();
    for n in NODES {
        run(n, "node name", "lab-boundary node")?;
        run(
            n,
            "live cluster options",
            &format!("lab-boundary options {fencing}"),
        )?;
    }
    for (name, stonith, fence) in VARIANTS {
        run(
            "node1",
            &format!("CIB copy {name}"),
            &variant_script(name, stonith, fence),
        )?;
    }
    run(
        "node2",
        "promotion score",
        "lab-boundary score lab-boundary",
    )?;
    // Pacemaker's own view must be readable at all: explicit stonith-enabled=true must be
    // seen as fencing on (else the comparison above proves nothing).
    if !seen.contains("[node1 CIB copy stonith-true] pacemaker: fencing enabled=true") {
        wrong
            .push("crm_verify's verdict on stonith-enabled=true was not read as fencing on".into());
    }
    if wrong.is_empty() {
        Ok(seen)
    } else {
        Err(Error(format!("{seen}WRONG: {}", wrong.join(", "))))
    }
}

#[cfg(test)]
mod tests {
    use super::{STRIP_FENCE_DEVICES, variant_script};

    #[test]
    fn variant_sets_only_what_it_names() {
        let s = variant_script("x", Some("false"), None);
        assert!(s.contains("--name stonith-enabled --update false"));
        assert!(!s.contains("--name fencing-enabled --update"));
        assert!(s.contains("export CIB_file=$f"));
        assert!(s.contains(&format!("{STRIP_FENCE_DEVICES} $f && ")));
        assert!(s.ends_with("lab-boundary options $pm"));
    }
}
