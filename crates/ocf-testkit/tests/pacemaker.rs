//! The one-node Pacemaker harness itself: it comes up with this node online, runs a resource
//! (Pacemaker's own Dummy agent, so that this test needs none of ours) and stops it.
//! Root only; under CI=true it must run.

use ocf_testkit::pacemaker::OneNodeCluster;
use std::time::Duration;

#[test]
fn one_node_cluster_starts_and_stops_a_resource() {
    let Some(cluster) = OneNodeCluster::start("one_node_cluster_starts_and_stops_a_resource")
    else {
        return;
    };
    let mon = cluster.crm_mon_xml();
    assert!(
        mon.contains(&format!(r#"name="{}""#, cluster.node())) && mon.contains(r#"online="true""#),
        "node not online:\n{mon}"
    );
    let stonith = ocf_testkit::sh(
        "crm_attribute",
        &[
            "--type",
            "crm_config",
            "--name",
            "stonith-enabled",
            "--query",
            "--quiet",
        ],
    );
    assert_eq!(stonith.trim(), "false");

    let id = format!("testkit-dummy-{}", std::process::id());
    let dummy = cluster.create_primitive(&format!(
        r#"<primitive id="{id}" class="ocf" provider="pacemaker" type="Dummy"/>"#
    ));
    cluster.wait_role(&id, "Started", Duration::from_secs(60));
    cluster.set_target_role(&id, "Stopped");
    cluster.wait_role(&id, "Stopped", Duration::from_secs(60));
    drop(dummy);
    assert_eq!(cluster.role(&id), None, "{id} still in the CIB");
}
