//! The cluster's name from corosync.conf (corosync.conf(5): `totem { cluster_name: NAME }`),
//! read natively rather than through `corosync-cmapctl`.

use std::path::Path;

/// Where corosync keeps its configuration.
pub const COROSYNC_CONF: &str = "/etc/corosync/corosync.conf";

/// `totem.cluster_name` from corosync.conf text. Sections nest with `{ }`, keys are
/// `key: value`, `#` starts a comment line.
pub fn cluster_name(text: &str) -> Option<String> {
    let mut sections: Vec<String> = Vec::new();
    for raw in text.lines() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_suffix('{') {
            sections.push(name.trim().to_owned());
            continue;
        }
        if line == "}" {
            sections.pop();
            continue;
        }
        if let Some((key, value)) = line.split_once(':')
            && key.trim() == "cluster_name"
            && sections == ["totem"]
        {
            let v = value.trim().trim_matches('"');
            return (!v.is_empty()).then(|| v.to_owned());
        }
    }
    None
}

/// The cluster name from the corosync.conf at `path`.
pub fn read_cluster_name(path: &Path) -> std::io::Result<Option<String>> {
    Ok(cluster_name(&std::fs::read_to_string(path)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_totem_cluster_name() {
        let conf = "\
# cluster_name: commented
totem {
    version: 2
    cluster_name: mycluster
    crypto_cipher: none
    interface {
        cluster_name: nested-not-this
    }
}
nodelist {
    node {
        ring0_addr: node1
        name: node1
        nodeid: 1
    }
}
";
        assert_eq!(cluster_name(conf).as_deref(), Some("mycluster"));
    }

    #[test]
    fn only_totem_counts() {
        assert_eq!(cluster_name("logging {\ncluster_name: x\n}\n"), None);
        assert_eq!(cluster_name("cluster_name: top\n"), None);
        assert_eq!(cluster_name("totem {\n  cluster_name:\n}\n"), None);
        assert_eq!(
            cluster_name("totem{\ncluster_name:\"q\"\n}").as_deref(),
            Some("q")
        );
        assert_eq!(
            cluster_name("totem {\n\tinterface {\n\t}\n\tcluster_name: after\n}").as_deref(),
            Some("after")
        );
    }
}
