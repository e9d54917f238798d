//! The real binary on a host without DRBD: metadata, validate-all's refusals, a probe and a
//! stop. What needs a DRBD kernel (start, promote, demote, split brain) runs in the lab.

use ocf::Status;
use ocf_testkit::AgentCmd;

const BIN: &str = env!("CARGO_BIN_EXE_drbd-dualprimary");

/// The agent as a promotable dual-primary clone instance, named for this test.
fn clone_cmd(action: &str) -> AgentCmd {
    AgentCmd::new(BIN)
        .action(action)
        .env("OCF_RESOURCE_INSTANCE", "e2e-drbd-dualprimary")
        .param("drbd_resource", "e2e-nonexistent")
        .param("drbdconf", "/dev/null")
        .meta("clone_max", "2")
        .meta("clone_node_max", "1")
        .meta("promoted_max", "2")
        .meta("promoted_node_max", "1")
        .meta("notify", "true")
}

#[test]
fn meta_data_is_the_xml_with_a_monitor_per_role() {
    let r = AgentCmd::new(BIN).action("meta-data").run();
    r.assert_status(Status::Success);
    let xml = r.stdout();
    assert_eq!(
        xml,
        include_str!("../../../xml-metadata/drbd-dualprimary.xml")
    );
    assert!(xml.contains(r#"interval="10s" role="Promoted""#), "{xml}");
    assert!(xml.contains(r#"interval="20s" role="Unpromoted""#), "{xml}");
    assert!(
        xml.contains("<!DOCTYPE resource-agent"),
        "ocf-tester needs the DOCTYPE"
    );
}

#[test]
fn validate_all_accepts_a_proper_clone() {
    clone_cmd("validate-all")
        .run()
        .assert_status(Status::Success);
}

#[test]
fn validate_all_refuses_a_clone_without_notify() {
    clone_cmd("validate-all")
        .meta("notify", "false")
        .run()
        .assert_status(Status::ErrConfigured)
        .assert_reason_contains("notify");
}

#[test]
fn validate_all_refuses_three_promoted_in_either_vocabulary() {
    clone_cmd("validate-all")
        .meta("promoted_max", "3")
        .run()
        .assert_status(Status::ErrConfigured)
        .assert_reason_contains("promoted-max=\"3\"");
    clone_cmd("validate-all")
        .meta("promoted_max", "")
        .meta("master_max", "3")
        .run()
        .assert_status(Status::ErrConfigured)
        .assert_reason_contains("promoted-max=\"3\"");
}

#[test]
fn validate_all_names_a_bad_resource_name() {
    clone_cmd("validate-all")
        .param("drbd_resource", "r0;reboot")
        .run()
        .assert_status(Status::ErrConfigured)
        .assert_reason_contains("drbd_resource=");
}

/// Whether or not the drbd module is loaded (an earlier test may have loaded it), a resource
/// the kernel does not know is not running: no early return, so this runs on every host.
#[test]
fn probe_of_a_resource_the_kernel_lacks_is_not_running() {
    clone_cmd("monitor").run().assert_status(Status::NotRunning);
    clone_cmd("monitor")
        .recurring()
        .run()
        .assert_status(Status::NotRunning);
}

/// With or without the drbd module: nothing of the resource is up, so stop succeeds.
#[test]
fn stop_of_a_resource_the_kernel_lacks_succeeds() {
    clone_cmd("stop").run().assert_status(Status::Success);
    // Even misconfigured: nothing to stop.
    clone_cmd("stop")
        .param("drbd_resource", "")
        .run()
        .assert_status(Status::Success);
}
