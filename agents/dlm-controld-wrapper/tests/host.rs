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

/// A fresh directory `tag` under the temp directory with `subdirs` in it, all 0755 (user
/// nobody must reach what the tests put there).
fn scratch(tag: &str, subdirs: &[&str]) -> std::path::PathBuf {
    let base = std::env::temp_dir().join(format!("dlm-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    for d in std::iter::once(base.clone()).chain(subdirs.iter().map(|s| base.join(s))) {
        std::fs::create_dir_all(&d).expect("scratch directory");
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755))
            .expect("scratch directory mode");
    }
    base
}

#[test]
fn a_look_alike_of_another_user_is_neither_seen_nor_signalled() {
    // Issue 17: user nobody runs a program named dlm_controld that ignores SIGTERM (its own
    // copy of bash, and the daemon's very binary). The probe must still say "not running"
    // and stop must succeed at once, leaving nobody's processes alone.
    if !ocf_testkit::require_root("a_look_alike_of_another_user_is_neither_seen_nor_signalled") {
        return;
    }
    let base = scratch("lookalike", &["bin", "nobody"]);
    let (bin, theirs) = (base.join("bin"), base.join("nobody"));
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

/// The environment variable that turns [`fake_query_daemon`] into a server.
const FAKE_QUERY_DAEMON: &str = "DLM_TEST_FAKE_QUERY_DAEMON";

/// Not a test on its own: run by `a_look_alike_on_the_query_socket_is_not_believed` as user
/// nobody, from a copy of this test binary, it binds dlm_controld's query socket
/// (`@dlmc_query_sock`) and answers every query as a healthy daemon would.
#[test]
#[ignore = "a helper process of a_look_alike_on_the_query_socket_is_not_believed"]
fn fake_query_daemon() {
    use dlm_control::wire::{self, Header};
    use std::io::{Read, Write};
    use std::os::linux::net::SocketAddrExt;
    use std::os::unix::net::{SocketAddr, UnixListener};
    if std::env::var_os(FAKE_QUERY_DAEMON).is_none() {
        return;
    }
    let addr = SocketAddr::from_abstract_name(wire::QUERY_SOCKET.as_bytes()).unwrap();
    let listener = UnixListener::bind_addr(&addr).unwrap();
    println!("fake-dlmc-ready");
    std::io::stdout().flush().unwrap();
    // The status dump of a healthy, quorate daemon: one daemon record.
    let text = b"quorate=1 stateful_merge_wait=0 fence_pid=0 monotime=100 \0";
    let mut status = Vec::new();
    for v in [
        wire::state::DAEMON,
        0,
        1,
        0,
        0,
        text.len().try_into().unwrap(),
        0,
    ] {
        status.extend_from_slice(&v.to_ne_bytes());
    }
    status.extend_from_slice(text);
    for conn in listener.incoming() {
        let Ok(mut conn) = conn else { continue };
        let mut head = [0u8; wire::HEADER_LEN];
        if conn.read_exact(&mut head).is_err() {
            continue;
        }
        let Ok(request) = Header::decode(&head) else {
            continue;
        };
        let reply = if request.command == wire::cmd::DUMP_STATUS {
            status.clone()
        } else {
            // No lockspaces.
            Header::request(request.command, None, 0)
                .unwrap()
                .encode()
                .to_vec()
        };
        let _ = conn.write_all(&reply);
    }
}

#[test]
fn a_look_alike_on_the_query_socket_is_not_believed() {
    // Issue 17: user nobody binds the daemon's abstract query socket and answers as a healthy
    // daemon. Root's daemon (a stand-in: a copy of sleep at the daemon's path) runs but has no
    // socket of its own. Monitor must not answer 0 and start must not say "already runs".
    if !ocf_testkit::require_root("a_look_alike_on_the_query_socket_is_not_believed") {
        return;
    }
    let base = scratch("squatter", &["bin"]);
    let daemon = base.join("bin/dlm_controld");
    std::fs::copy("/bin/sleep", &daemon).unwrap();
    let root_daemon = Reaped(
        std::process::Command::new(&daemon)
            .arg("300")
            .spawn()
            .unwrap(),
    );
    // nobody's server: a copy of this test binary (its own path may not be reachable).
    // Copied by cp, not std::fs::copy: a test thread forking meanwhile would inherit our
    // writable descriptor of the copy until its exec, and setpriv's exec of it would then
    // fail with ETXTBSY (seen once: the fake daemon never came up).
    let helper = base.join("fake-query-daemon");
    let copied = std::process::Command::new("cp")
        .arg(std::env::current_exe().unwrap())
        .arg(&helper)
        .status()
        .unwrap();
    assert!(copied.success(), "cp of the test binary: {copied}");
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut squatter = Reaped(
        std::process::Command::new("setpriv")
            .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
            .arg(&helper)
            .args(["fake_query_daemon", "--exact", "--ignored", "--nocapture"])
            .env(FAKE_QUERY_DAEMON, "1")
            .current_dir("/")
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let stdout = squatter.0.stdout.take().unwrap();
    let ready = std::io::BufRead::lines(std::io::BufReader::new(stdout))
        .map_while(Result::ok)
        .any(|l| l == "fake-dlmc-ready");
    assert!(ready, "nobody's fake daemon did not bind @dlmc_query_sock");

    let daemon_param = daemon.to_str().unwrap();
    let r = agent("monitor").param("daemon", daemon_param).run();
    assert_ne!(r.code(), 0, "monitor believed nobody: {}", r.stderr());
    r.assert_status(Status::ErrGeneric)
        .assert_reason_contains("uid 65534");
    let r = agent("start")
        .param("daemon", daemon_param)
        .meta("timeout", "20000")
        .run();
    assert!(
        !r.stderr().contains("already runs"),
        "start believed nobody: {}",
        r.stderr()
    );
    r.assert_status(Status::ErrGeneric)
        .assert_reason_contains("not believed");
    drop((root_daemon, squatter));
    std::fs::remove_dir_all(&base).unwrap();
}
