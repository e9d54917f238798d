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

/// A started filesystem whose depth-20 status file exists (stop removes it before
/// unmounting: on a frozen filesystem that never returns), frozen while the guard lives.
fn frozen_after_a_depth_20_check(tag: &str) -> Option<(LoopFs, Frozen)> {
    let fs = LoopFs::new(tag, "ext4")?;
    if !ocf_testkit::require_program(tag, "fsfreeze") {
        return None;
    }
    fs.agent("start").run().assert_status(Status::Success);
    fs.agent("monitor")
        .env("OCF_CHECK_LEVEL", "20")
        .run()
        .assert_status(Status::Success);
    let frozen = Frozen::new(&fs.mnt);
    Some((fs, frozen))
}

#[test]
fn a_hung_depth_20_check_is_reported_and_the_agent_exits() {
    let Some((fs, frozen)) = frozen_after_a_depth_20_check("hung-monitor") else {
        return;
    };
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
    let Some((fs, frozen)) = frozen_after_a_depth_20_check("hung-stop") else {
        return;
    };
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
