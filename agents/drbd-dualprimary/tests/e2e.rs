//! The real binary on a host without DRBD: metadata, validate-all's refusals, a probe and a
//! stop. What needs a DRBD kernel (start, promote, demote, split brain) runs in the lab.

use ocf::Status;
use ocf_testkit::AgentCmd;
use std::path::PathBuf;

const BIN: &str = env!("CARGO_BIN_EXE_drbd-dualprimary");

/// A DRBD configuration in Debian's layout (drbd.conf including global_common.conf and
/// *.res) in a directory of its own, removed when dropped: resource `e2e-r0` on this host and
/// a peer, with `common`'s net section and the resource's as given.
struct Conf(PathBuf);

impl Conf {
    fn new(tag: &str, common_net: &str, res_net: &str) -> Conf {
        let dir = std::env::temp_dir().join(format!("drbd-e2e-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("drbd.d")).expect("creating the test's directory");
        let host =
            std::fs::read_to_string("/proc/sys/kernel/hostname").expect("reading the host name");
        let write = |name: &str, text: String| {
            std::fs::write(dir.join(name), text).expect("writing the test configuration");
        };
        write(
            "drbd.conf",
            "include \"drbd.d/global_common.conf\";\ninclude \"drbd.d/*.res\";\n".into(),
        );
        write(
            "drbd.d/global_common.conf",
            format!("global {{ usage-count no; }}\ncommon {{\n  net {{ {common_net} }}\n}}\n"),
        );
        write(
            "drbd.d/e2e-r0.res",
            format!(
                "resource e2e-r0 {{\n  device /dev/drbd9;\n  disk /dev/e2e-none;\n  meta-disk internal;\n\
                 net {{ {res_net} }}\n  on {} {{ address 192.0.2.1:7789; }}\n\
                 on e2e-peer {{ address 192.0.2.2:7789; }}\n}}\n",
                host.trim()
            ),
        );
        Conf(dir)
    }

    fn path(&self) -> String {
        self.0.join("drbd.conf").to_string_lossy().into_owned()
    }
}

impl Drop for Conf {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The agent as a promotable dual-primary clone instance, named for this test, for resource
/// e2e-r0 of `conf`.
fn clone_of(conf: &Conf, action: &str) -> AgentCmd {
    AgentCmd::new(BIN)
        .action(action)
        .env("OCF_RESOURCE_INSTANCE", "e2e-drbd-dualprimary")
        .param("drbd_resource", "e2e-r0")
        .param("drbdconf", &conf.path())
        .meta("clone_max", "2")
        .meta("clone_node_max", "1")
        .meta("promoted_max", "2")
        .meta("promoted_node_max", "1")
        .meta("notify", "true")
}

/// The agent as a promotable dual-primary clone instance of a resource no kernel has up
/// (its configuration does not matter to what these tests ask).
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
    let conf = Conf::new("proper", "", "protocol C; allow-two-primaries yes;");
    clone_of(&conf, "validate-all")
        .run()
        .assert_status(Status::Success);
}

/// allow-two-primaries in `common` (global_common.conf) counts, as drbdadm merges it.
#[test]
fn validate_all_accepts_allow_two_primaries_in_common() {
    let conf = Conf::new("common", "allow-two-primaries yes;", "protocol C;");
    clone_of(&conf, "validate-all")
        .run()
        .assert_status(Status::Success);
}

/// Before: 0 for both, and start found out later. Now validate-all runs start's check: 5,
/// this node's configuration (README's fault table says why not 6).
#[test]
fn validate_all_refuses_what_this_nodes_configuration_lacks() {
    let conf = Conf::new("lacking", "", "protocol C;");
    clone_of(&conf, "validate-all")
        .run()
        .assert_status(Status::ErrInstalled)
        .assert_reason_contains("DRBD resource e2e-r0 does not allow two primaries in drbdconf=");
    clone_of(&conf, "validate-all")
        .param("drbd_resource", "e2e-r1")
        .run()
        .assert_status(Status::ErrInstalled)
        .assert_reason_contains("DRBD resource e2e-r1 is not defined in drbdconf=");
    clone_of(&conf, "validate-all")
        .meta("promoted_max", "1")
        .run()
        .assert_status(Status::Success);
}

/// The reader's answer is drbdadm's: for each way of writing allow-two-primaries, the
/// verdict of validate-all equals what `drbdadm -d -v dump` (what the anchor greps) says.
#[test]
fn allow_two_primaries_is_read_as_drbdadm_reads_it() {
    if !ocf_testkit::require_program("allow_two_primaries_is_read_as_drbdadm_reads_it", "drbdadm") {
        return;
    }
    for (i, (common, res)) in [
        ("", "allow-two-primaries yes;"),
        ("allow-two-primaries yes;", "protocol C;"),
        ("allow-two-primaries;", ""),
        ("", "protocol C;"),
        ("allow-two-primaries yes;", "allow-two-primaries no;"),
        ("allow-two-primaries no;", "allow-two-primaries yes;"),
        ("# allow-two-primaries yes;", ""),
    ]
    .into_iter()
    .enumerate()
    {
        let conf = Conf::new(&format!("drbdadm{i}"), common, res);
        let dump = std::process::Command::new("drbdadm")
            .args(["-c", &conf.path(), "-d", "-v", "dump", "e2e-r0"])
            .output()
            .unwrap();
        assert!(dump.status.success(), "{common} / {res}: {dump:?}");
        let drbdadm_allows = String::from_utf8_lossy(&dump.stdout).lines().any(|l| {
            matches!(
                l.trim(),
                "allow-two-primaries yes;" | "allow-two-primaries;"
            )
        });
        let ours = clone_of(&conf, "validate-all").run();
        assert_eq!(
            ours.code() == 0,
            drbdadm_allows,
            "common net {{ {common} }}, resource net {{ {res} }}: drbdadm says {drbdadm_allows}, \
             validate-all {} {:?}",
            ours.code(),
            ours.exit_reason()
        );
    }
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
