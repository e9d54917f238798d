//! Root end-to-end tests of storage that stops answering (issue 13, "bounded waits that do
//! not bound the process"). A frozen filesystem (`fsfreeze -f`) makes every write to it
//! sleep uninterruptibly in the kernel, as a dead device or a stalled DLM does: the agent
//! must still report its reason and *exit* before Pacemaker's timeout, or Pacemaker records
//! a timeout instead of the reason.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns panic on a failed setup step

mod common;

use common::{Frozen, LoopFs, wait_for};
use ocf::Status;

/// Pacemaker's timeout in these tests, and how long after it the agent may still exit
/// (its own deadline comes a margin before it).
const TIMEOUT_MS: &str = "3000";
const EXIT_BY_SECS: f64 = 3.2;

#[test]
fn a_hung_depth_20_check_is_reported_and_the_agent_exits() {
    let Some(fs) = LoopFs::new("hung-monitor", "ext4") else {
        return;
    };
    if !ocf_testkit::require_program("hung-monitor", "fsfreeze") {
        return;
    }
    fs.agent("start").run().assert_status(Status::Success);
    fs.agent("monitor")
        .env("OCF_CHECK_LEVEL", "20")
        .run()
        .assert_status(Status::Success);
    let frozen = Frozen::new(&fs.mnt);
    let mut agent = fs.spawn(
        "monitor",
        TIMEOUT_MS,
        &[
            ("OCF_CHECK_LEVEL", "20"),
            ("OCF_RESKEY_CRM_meta_interval", "120000"),
        ],
    );
    let exited = agent.exited_within(EXIT_BY_SECS);
    drop(frozen);
    let (code, stderr) = exited.expect(
        "the agent did not exit before Pacemaker's timeout while the filesystem was frozen",
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("ocf-exit-reason:writing status file")
            && stderr.contains("did not finish before the monitor timeout"),
        "{stderr}"
    );
    assert!(wait_for(5, || fs.agent("stop").run().code() == 0));
    assert!(!fs.is_mounted());
}

#[test]
fn a_stop_hung_on_the_storage_is_reported_and_the_agent_exits() {
    let Some(fs) = LoopFs::new("hung-stop", "ext4") else {
        return;
    };
    if !ocf_testkit::require_program("hung-stop", "fsfreeze") {
        return;
    }
    fs.agent("start").run().assert_status(Status::Success);
    // A depth-20 monitor leaves its status file, which stop removes before unmounting: on
    // the frozen filesystem the removal never returns.
    fs.agent("monitor")
        .env("OCF_CHECK_LEVEL", "20")
        .run()
        .assert_status(Status::Success);
    let frozen = Frozen::new(&fs.mnt);
    let mut agent = fs.spawn("stop", TIMEOUT_MS, &[]);
    let exited = agent.exited_within(EXIT_BY_SECS);
    drop(frozen);
    let (code, stderr) =
        exited.expect("stop did not exit before Pacemaker's timeout on a frozen filesystem");
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("did not finish before the stop timeout"),
        "{stderr}"
    );
    // Thawed, the storage answers again and stop succeeds.
    assert!(wait_for(5, || fs.agent("stop").run().code() == 0));
    assert!(!fs.is_mounted());
}
