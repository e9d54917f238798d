//! A real one-node Pacemaker for end-to-end tests: `tests/pacemaker/cluster.sh` (corosync on
//! 127.0.0.1, pacemakerd started by hand, stonith-enabled=false) driven from Rust, with the
//! CIB and `crm_mon` calls a test needs.
//!
//! ```no_run
//! let Some(cluster) = ocf_testkit::pacemaker::OneNodeCluster::start("my_test") else { return };
//! let dummy = cluster
//!     .create_primitive(r#"<primitive id="d" class="ocf" provider="pacemaker" type="Dummy"/>"#);
//! cluster.wait_role(dummy.id(), "Started", std::time::Duration::from_secs(30));
//! drop(dummy); // deleted from the CIB, so stopped
//! ```
//!
//! One cluster per host: [`OneNodeCluster::start`] takes a lock file, so tests in several
//! processes take turns; it reuses a cluster already started by the harness (and then leaves
//! it running), and stops the one it started when dropped. Logs: `target/pacemaker/`.

use crate::{require_program, require_root, sh};
use nix::fcntl::{Flock, FlockArg};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The harness script, found from this crate's source (the workspace is always there in tests).
pub fn harness_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/pacemaker/cluster.sh")
}

/// Where the harness keeps its configuration, logs and pid files.
pub fn harness_dir() -> PathBuf {
    std::env::var_os("PCMK_HARNESS_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/pacemaker"),
        PathBuf::from,
    )
}

fn harness(action: &str) -> std::process::Output {
    Command::new("bash")
        .arg(harness_script())
        .arg(action)
        .env("PCMK_HARNESS_DIR", harness_dir())
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", harness_script().display()))
}

/// A running one-node cluster, held for one test.
#[derive(Debug)]
pub struct OneNodeCluster {
    started_here: bool,
    node: String,
    _turn: Flock<File>,
}

impl OneNodeCluster {
    /// Start the cluster (or use the one the harness already runs) and wait until this node is
    /// online with a DC. `None` when the test must skip (no root, no Pacemaker); under
    /// `CI=true` that is a failure instead, as with [`require_root`].
    pub fn start(test: &str) -> Option<OneNodeCluster> {
        if !require_root(test) {
            return None;
        }
        for program in [
            "corosync",
            "pacemakerd",
            "cibadmin",
            "crm_mon",
            "crm_resource",
        ] {
            if !require_program(test, program) {
                return None;
            }
        }
        let dir = harness_dir();
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let lock_path = dir.join("turn.lock");
        let lock =
            File::create(&lock_path).unwrap_or_else(|e| panic!("{}: {e}", lock_path.display()));
        let turn = Flock::lock(lock, FlockArg::LockExclusive)
            .unwrap_or_else(|(_, e)| panic!("locking {}: {e}", lock_path.display()));
        let running = harness("status").status.success();
        let out = harness("start");
        assert!(
            out.status.success(),
            "{test}: starting the one-node cluster failed:\n{}\n(logs in {})",
            String::from_utf8_lossy(&out.stderr),
            dir.display()
        );
        // What `uname -n` prints, the name the harness gives this node.
        let node = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .unwrap_or_else(|e| panic!("/proc/sys/kernel/hostname: {e}"))
            .trim()
            .to_owned();
        Some(OneNodeCluster {
            started_here: !running,
            node,
            _turn: turn,
        })
    }

    /// This node's name in the cluster.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// `crm_mon -1 --output-as=xml`.
    pub fn crm_mon_xml(&self) -> String {
        sh("crm_mon", &["-1", "--output-as=xml"])
    }

    /// Add a resource (`<primitive>`, `<clone>`, ...) to the CIB's resources section. The
    /// returned guard deletes it again when dropped, even when the test panics.
    #[must_use = "the resource is deleted when the guard is dropped"]
    pub fn create_primitive(&self, xml: &str) -> CibResource {
        sh(
            "cibadmin",
            &["--create", "-o", "resources", "--xml-text", xml],
        );
        let id = roxmltree::Document::parse(xml)
            .ok()
            .and_then(|d| d.root_element().attribute("id").map(str::to_owned))
            .unwrap_or_else(|| panic!("resource XML without an id: {xml}"));
        CibResource { id }
    }

    /// Set a resource's `target-role` meta-attribute (`Stopped`, `Started`).
    pub fn set_target_role(&self, id: &str, role: &str) {
        sh(
            "crm_resource",
            &[
                "--resource",
                id,
                "--meta",
                "--set-parameter",
                "target-role",
                "--parameter-value",
                role,
            ],
        );
    }

    /// The resource's role as crm_mon shows it (`Started`, `Stopped`, ...), if it shows it.
    pub fn role(&self, id: &str) -> Option<String> {
        resource_role(&self.crm_mon_xml(), id)
    }

    /// Failed actions crm_mon lists for the resource (`op_key: exitreason`).
    pub fn failures(&self, id: &str) -> Vec<String> {
        resource_failures(&self.crm_mon_xml(), id)
    }

    /// Wait (bounded by `limit`) until crm_mon shows `id` in `role`; panics with crm_mon's
    /// view otherwise, or as soon as the resource has a failed action.
    #[track_caller]
    pub fn wait_role(&self, id: &str, role: &str, limit: Duration) {
        let end = Instant::now() + limit;
        loop {
            let xml = self.crm_mon_xml();
            if resource_role(&xml, id).as_deref() == Some(role) {
                return;
            }
            let failures = resource_failures(&xml, id);
            assert!(
                failures.is_empty(),
                "{id}: failed actions while waiting for {role}: {failures:?}\n{xml}"
            );
            assert!(
                Instant::now() < end,
                "{id}: not {role} after {limit:?}; crm_mon:\n{xml}\n(logs in {})",
                harness_dir().display()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

/// A resource a test added to the CIB; deleted (so stopped by Pacemaker) when dropped.
#[derive(Debug)]
pub struct CibResource {
    id: String,
}

impl CibResource {
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl Drop for CibResource {
    fn drop(&mut self) {
        let xml = format!(r#"<primitive id="{}"/>"#, self.id);
        let _ = Command::new("cibadmin")
            .args(["--delete", "-o", "resources", "--xml-text", &xml])
            .output();
    }
}

impl Drop for OneNodeCluster {
    fn drop(&mut self) {
        if self.started_here {
            let out = harness("stop");
            if !out.status.success() {
                eprintln!(
                    "stopping the one-node cluster: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
    }
}

fn crm_mon_doc(xml: &str) -> roxmltree::Document<'_> {
    roxmltree::Document::parse(xml).unwrap_or_else(|e| panic!("crm_mon XML: {e}\n{xml}"))
}

/// The `role` crm_mon's XML gives resource `id` (a clone instance shows as `id:N` or `id`).
pub fn resource_role(xml: &str, id: &str) -> Option<String> {
    let doc = crm_mon_doc(xml);
    doc.descendants()
        .filter(|n| n.has_tag_name("resource"))
        .find(|n| n.attribute("id") == Some(id))
        .and_then(|n| n.attribute("role").map(str::to_owned))
}

/// Failed operations crm_mon's XML lists for resource `id`, as `op_key: exitreason`.
pub fn resource_failures(xml: &str, id: &str) -> Vec<String> {
    let doc = crm_mon_doc(xml);
    doc.descendants()
        .filter(|n| n.has_tag_name("failure"))
        .filter(|n| {
            n.attribute("op_key")
                .is_some_and(|k| k.strip_prefix(id).is_some_and(|r| r.starts_with('_')))
        })
        .map(|n| {
            format!(
                "{}: {} ({})",
                n.attribute("op_key").unwrap_or_default(),
                n.attribute("exitreason").unwrap_or_default(),
                n.attribute("exitstatus").unwrap_or_default()
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Trimmed from `crm_mon -1 --output-as=xml` of Pacemaker 2.1.5.
    const CRM_MON: &str = r#"<pacemaker-result api-version="2.25" request="crm_mon -1 --output-as=xml">
  <summary><current_dc present="true" name="vm" id="1"/></summary>
  <nodes><node name="vm" id="1" online="true"/></nodes>
  <resources>
    <resource id="vip" resource_agent="ocf:native:ipaddr2" role="Started" active="true"/>
    <resource id="vip2" resource_agent="ocf:native:ipaddr2" role="Stopped" active="false"/>
  </resources>
  <failures>
    <failure op_key="vip2_start_0" node="vm" exitstatus="not installed" exitreason="no interface eth9" exitcode="5" call="7" status="complete" interval="0"/>
  </failures>
  <status code="0" message="OK"/>
</pacemaker-result>"#;

    #[test]
    fn reads_roles_from_crm_mon_xml() {
        assert_eq!(resource_role(CRM_MON, "vip").as_deref(), Some("Started"));
        assert_eq!(resource_role(CRM_MON, "vip2").as_deref(), Some("Stopped"));
        assert_eq!(resource_role(CRM_MON, "other"), None);
    }

    #[test]
    fn failures_belong_to_their_resource_only() {
        assert!(resource_failures(CRM_MON, "vip").is_empty());
        assert_eq!(
            resource_failures(CRM_MON, "vip2"),
            ["vip2_start_0: no interface eth9 (not installed)"]
        );
    }
}
