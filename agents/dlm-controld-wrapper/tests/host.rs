//! The real binary on this host, which has no DLM: what Pacemaker sees from meta-data,
//! validate-all, a probe and a stop on a node where dlm_controld is not running.

use ocf::Status;
use ocf_testkit::AgentCmd;
use std::os::unix::fs::PermissionsExt;

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

/// Kills and reaps a process when dropped.
struct Reaped(std::process::Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_look_alike_of_another_user_is_neither_seen_nor_signalled() {
    // Issue 17: user nobody runs a program named dlm_controld that ignores SIGTERM (its own
    // copy of bash, and the daemon's very binary). The probe must still say "not running"
    // and stop must succeed at once, leaving nobody's processes alone.
    if !ocf_testkit::require_root("a_look_alike_of_another_user_is_neither_seen_nor_signalled") {
        return;
    }
    let base = std::env::temp_dir().join(format!("dlm-lookalike-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let (bin, theirs) = (base.join("bin"), base.join("nobody"));
    for d in [&base, &bin, &theirs] {
        std::fs::create_dir_all(d).unwrap();
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    nix::unistd::chown(&theirs, Some(65534.into()), Some(65534.into())).unwrap();
    // The administrator's daemon binary (a stand-in: a copy of bash), root's.
    let daemon = bin.join("dlm_controld");
    std::fs::copy("/bin/bash", &daemon).unwrap();
    let as_nobody = |program: &std::path::Path| {
        std::process::Command::new("setpriv")
            .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
            .arg(program)
            .args(["-c", "trap '' TERM; while :; do sleep 1; done"])
            .spawn()
            .unwrap()
    };
    let copy = theirs.join("dlm_controld");
    let copied = std::process::Command::new("setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "cp"])
        .arg(&daemon)
        .arg(&copy)
        .status()
        .unwrap();
    assert!(copied.success());
    let look_alikes = [Reaped(as_nobody(&daemon)), Reaped(as_nobody(&copy))];
    // Wait until both have exec'd (setpriv replaces itself).
    let named = |pid: u32| {
        std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c == "dlm_controld\n")
    };
    let end = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !look_alikes.iter().all(|r| named(r.0.id())) && std::time::Instant::now() < end {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let daemon_param = daemon.to_str().unwrap();
    agent("monitor")
        .param("daemon", daemon_param)
        .run()
        .assert_status(Status::NotRunning);
    let started = std::time::Instant::now();
    agent("stop")
        .param("daemon", daemon_param)
        .meta("timeout", "20000")
        .run()
        .assert_status(Status::Success);
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    for r in &look_alikes {
        assert!(
            named(r.0.id()),
            "nobody's process {} was left alone",
            r.0.id()
        );
    }
    drop(look_alikes);
    std::fs::remove_dir_all(&base).unwrap();
}
