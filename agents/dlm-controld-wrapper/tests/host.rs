//! The real binary on this host, which has no DLM: what Pacemaker sees from meta-data,
//! validate-all, a probe and a stop on a node where dlm_controld is not running.

use ocf::Status;
use ocf_testkit::AgentCmd;

fn agent(action: &str) -> AgentCmd {
    AgentCmd::new(env!("CARGO_BIN_EXE_dlm-controld-wrapper")).action(action)
}

#[test]
fn meta_data_is_the_xml_with_controlds_parameters() {
    let r = agent("meta-data").run();
    r.assert_status(Status::Success);
    let xml = r.stdout();
    assert!(
        xml.contains(r#"<resource-agent name="dlm-controld-wrapper""#),
        "{xml}"
    );
    for p in [
        "args",
        "daemon",
        "allow_fencing_disabled",
        "allow_stonith_disabled",
    ] {
        assert!(
            xml.contains(&format!(r#"<parameter name="{p}""#)),
            "{p} missing"
        );
    }
    assert!(xml.contains(r#"default="-s 0""#));
}

#[test]
fn validate_refuses_a_globally_unique_clone() {
    agent("validate-all")
        .param("daemon", "sh")
        .meta("clone_max", "2")
        .meta("globally_unique", "true")
        .run()
        .assert_status(Status::ErrConfigured)
        .assert_reason_contains("globally-unique");
}

#[test]
fn validate_refuses_a_missing_daemon() {
    agent("validate-all")
        .param("daemon", "no_such_dlm_controld")
        .run()
        .assert_status(Status::ErrInstalled)
        .assert_reason_contains("no_such_dlm_controld");
    agent("validate-all")
        .param("daemon", "sh")
        .run()
        .assert_status(Status::Success);
}

#[test]
fn bad_args_are_a_configuration_error() {
    agent("validate-all")
        .param("daemon", "sh")
        .param("args", "-s '0")
        .run()
        .assert_status(Status::ErrConfigured)
        .assert_reason_contains("args=");
}

#[test]
fn deprecated_switch_is_accepted_with_a_warning() {
    let r = agent("validate-all")
        .param("daemon", "sh")
        .param("allow_stonith_disabled", "true")
        .run();
    r.assert_status(Status::Success);
    assert!(
        r.stderr().contains("use allow_fencing_disabled"),
        "{}",
        r.stderr()
    );
}

#[test]
fn probe_and_stop_of_a_stopped_daemon() {
    // The host has no DLM: no dlm_controld runs and /sys/kernel/dlm holds no lockspace.
    assert!(
        std::fs::read_dir("/sys/kernel/dlm").map_or(true, |mut d| d.next().is_none()),
        "this test needs a host without DLM lockspaces"
    );
    agent("monitor").run().assert_status(Status::NotRunning);
    agent("monitor")
        .recurring()
        .run()
        .assert_status(Status::NotRunning);
    agent("stop").run().assert_status(Status::Success);
    agent("stop").run().assert_status(Status::Success);
}
