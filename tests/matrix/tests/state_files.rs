//! State files are never written through a planted symlink (root only): ipaddr2's announcer
//! pid file, with the real binary in a throw-away namespace. (drbd-dualprimary's score cache
//! and the pid-file reader of procs are covered by their own unit tests; see FAULTS.md.)

use bad_input_matrix::{Run, Scratch};
use ocf_testkit::{Netns, require_root};
use std::os::unix::fs::{MetadataExt, PermissionsExt};

#[test]
fn ipaddr2_announcer_pid_file_is_not_written_through_a_symlink() {
    if !require_root("state_files") {
        return;
    }
    let ns = Netns::new("mx-state");
    ns.ip(&["link", "add", "v0", "type", "veth", "peer", "name", "v0p"]);
    ns.ip(&["addr", "add", "192.0.2.1/24", "dev", "v0"]);
    ns.ip(&["link", "set", "v0p", "up"]);
    ns.ip(&["link", "set", "v0", "up"]);
    let dir = Scratch::new("state");
    let victim = dir.path("victim");
    std::fs::write(&victim, "victim\n").unwrap();
    let pid_file = dir.path("ipaddr2-announce-192.0.2.10.pid");
    std::os::unix::fs::symlink(&victim, &pid_file).unwrap();
    let run = |action: &str| {
        Run::new("ipaddr2", action)
            .netns(ns.name())
            .env("HA_RSCTMP", dir.str())
            .params([
                ("ip", "192.0.2.10"),
                ("nic", "v0"),
                ("cidr_netmask", "24"),
                ("arp_bg", "true"),
                ("arp_count", "3"),
                ("arp_interval", "100"),
            ])
            .run()
    };
    let start = run("start");
    assert!(!start.panicked() && !start.timed_out, "{}", start.stderr);
    eprintln!(
        "start with a planted symlink: exit {} {:?}",
        start.code,
        start.reason()
    );
    assert_eq!(
        std::fs::read_to_string(&victim).unwrap(),
        "victim\n",
        "start wrote through the symlink (exit {}): {}",
        start.code,
        start.stderr
    );
    let meta = std::fs::symlink_metadata(&pid_file).unwrap();
    if !meta.file_type().is_symlink() {
        // Replaced: then it must be root's and not writable by others.
        assert_eq!(meta.uid(), 0, "pid file not owned by root");
        assert_eq!(
            meta.permissions().mode() & 0o002,
            0,
            "pid file world-writable"
        );
    }
    let stop = run("stop");
    assert_eq!(stop.code, 0, "stop: {}", stop.stderr);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "victim\n");
}
