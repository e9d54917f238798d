//! The policy against a fake host: what the kernel, drbdadm and crm_attribute were asked,
//! and what the agent answered. No root, no DRBD module.

mod fake;

use super::{Logic, presence, promoted_peers_after};
use crate::Agent;
use crate::config::Config;
use crate::score::ScoreCache;
use drbd_genl::testing::{connected, one_volume};
use drbd_genl::{ConnState, DiskState, Role};
use fake::Fake;
use ocf::config::Resolution;
use ocf::{Action, Context, Policy, Presence, Result, Status};
use std::time::{Duration, Instant};

const CLONE: [(&str, &str); 6] = [
    ("OCF_RESKEY_CRM_meta_clone_max", "2"),
    ("OCF_RESKEY_CRM_meta_clone_node_max", "1"),
    ("OCF_RESKEY_CRM_meta_promoted_max", "2"),
    ("OCF_RESKEY_CRM_meta_promoted_node_max", "1"),
    ("OCF_RESKEY_CRM_meta_notify", "true"),
    ("OCF_RESKEY_CRM_meta_timeout", "20000"),
];

const RECURRING: (&str, &str) = ("OCF_RESKEY_CRM_meta_interval", "10000");

/// A context for `action` on resource r0 of a dual-primary clone, with more parameters and
/// more raw variables (which win over the clone's).
fn ctx(action: Action, params: &[(&str, &str)], extra: &[(&str, &str)]) -> Context {
    let mut p = vec![("drbd_resource", "r0")];
    p.extend_from_slice(params);
    let mut vars: Vec<(&str, &str)> = CLONE
        .iter()
        .copied()
        .filter(|(k, _)| !extra.iter().any(|(e, _)| e == k))
        .collect();
    vars.extend_from_slice(extra);
    ocf::testing::context::<Agent>(action, &p, &vars)
}

/// A directory for the score cache, removed when dropped.
struct TempDir(std::path::PathBuf);
impl TempDir {
    fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!(
            "drbd-dp-{tag}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&p);
        TempDir(p)
    }
}
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn over(fake: Fake, dir: &TempDir, cfg: Config) -> Logic<Fake> {
    Logic {
        cfg,
        host: fake,
        cache: ScoreCache::new(dir.0.join("cache")),
        refused_promote_min: Duration::from_millis(300),
    }
}

/// The policy for `c`'s configuration, parsed strictly.
fn logic(fake: Fake, dir: &TempDir, c: &Context) -> Logic<Fake> {
    let (identity, settings) = ocf::testing::parse::<Agent>(c).unwrap();
    over(fake, dir, Config { identity, settings })
}

/// What `ocf::run` would answer for `c` on `fake`: the bad-configuration rule first, then
/// the action on what it resolved. Returns the answer and the host as it is left.
fn act(fake: Fake, dir: &TempDir, c: &Context) -> (Result<Status>, Fake) {
    let (identity, settings) = match ocf::testing::resolve::<Agent>(c) {
        Resolution::Run(i, s) => (i, s),
        Resolution::Finish(r) => return (r, fake),
    };
    let l = over(fake, dir, Config { identity, settings });
    let r = match c.action {
        Action::ValidateAll => l.validate(c).map(|()| Status::Success),
        Action::Start => l.start(c),
        Action::Stop => l.stop(c),
        Action::Monitor => l.monitor(c),
        Action::Promote => l.promote(c),
        Action::Demote => l.demote(c),
        Action::Notify => l.notify(c),
        Action::Reload => l.reload(c),
        other => panic!("{other} is not an action of this agent"),
    };
    (r, l.host)
}

fn primary_up() -> Fake {
    Fake::up(connected(
        Role::Primary,
        DiskState::UpToDate,
        Role::Primary,
        DiskState::UpToDate,
    ))
}

fn secondary_up() -> Fake {
    Fake::up(fake::fresh())
}

#[test]
fn monitor_is_8_when_primary_0_when_secondary_7_when_down() {
    let dir = TempDir::new("monitor");
    let c = ctx(Action::Monitor, &[], &[RECURRING]);
    assert_eq!(
        logic(primary_up(), &dir, &c).monitor(&c),
        Ok(Status::RunningPromoted)
    );
    assert_eq!(
        logic(secondary_up(), &dir, &c).monitor(&c),
        Ok(Status::Success)
    );
    let l = logic(Fake::down(), &dir, &c);
    assert_eq!(l.monitor(&c), Ok(Status::NotRunning));
    assert!(l.host.calls().is_empty(), "down: nothing asked of anyone");
    let l = logic(Fake::default(), &dir, &c);
    assert_eq!(l.monitor(&c), Ok(Status::NotRunning), "no module at all");
}

#[test]
fn monitor_forks_nothing_when_the_score_is_unchanged() {
    let dir = TempDir::new("mon");
    let c = ctx(Action::Monitor, &[], &[RECURRING]);
    let l = logic(primary_up(), &dir, &c);
    assert_eq!(l.monitor(&c).unwrap(), Status::RunningPromoted);
    assert_eq!(l.host.calls(), ["score test 10000"]);
    for _ in 0..3 {
        assert_eq!(l.monitor(&c).unwrap(), Status::RunningPromoted);
    }
    assert_eq!(l.host.calls().len(), 1, "unchanged score: no crm_attribute");
    // Demoted while the peer is gone (its disk unknown): 1000.
    *l.host.state.borrow_mut() = Some(one_volume(Role::Secondary, DiskState::UpToDate, None));
    assert_eq!(l.monitor(&c).unwrap(), Status::Success);
    assert_eq!(l.host.calls(), ["score test 10000", "score test 1000"]);
    // A probe always writes.
    let probe = ctx(Action::Monitor, &[], &[]);
    assert_eq!(l.monitor(&probe).unwrap(), Status::Success);
    assert_eq!(l.host.count("score test 1000"), 2);
}

#[test]
fn a_status_that_cannot_be_read_is_an_error_never_stopped() {
    let dir = TempDir::new("unreadable");
    for action in [Action::Monitor, Action::Stop, Action::Demote, Action::Start] {
        let c = ctx(action, &[], &[]);
        let f = primary_up();
        f.status_fails.set(true);
        let (r, host) = act(f, &dir, &c);
        let e = r.unwrap_err();
        assert_eq!(e.status(), Status::ErrGeneric, "{action}: {e}");
        assert!(
            e.reason()
                .contains("reading the status of DRBD resource r0: reading the DRBD status"),
            "{action}: {e}"
        );
        assert_eq!(host.roles(), [Role::Primary], "{action}");
        assert_eq!(host.count("down"), 0, "{action}");
    }
}

#[test]
fn start_loads_brings_up_ends_secondary_and_scores() {
    let dir = TempDir::new("start");
    let c = ctx(Action::Start, &[], &[]);
    let l = logic(Fake::default(), &dir, &c);
    *l.host.files.borrow_mut() = fake::config("", "allow-two-primaries yes;");
    assert_eq!(l.start(&c).unwrap(), Status::Success);
    assert_eq!(
        l.host.calls(),
        ["modprobe drbd", "drbdadm up r0", "score test 10000"]
    );
    // Already up and Primary (left over): adjust, then demoted to Secondary.
    let l = logic(primary_up(), &dir, &c);
    assert_eq!(l.start(&c).unwrap(), Status::Success);
    assert_eq!(
        l.host.calls(),
        ["drbdadm adjust r0", "secondary r0 [1]", "score test 10000"]
    );
    assert_eq!(l.host.roles(), [Role::Secondary]);
}

#[test]
fn start_twice_is_start_once() {
    let dir = TempDir::new("start2");
    let c = ctx(Action::Start, &[], &[]);
    let l = logic(Fake::down(), &dir, &c);
    assert_eq!(l.start(&c), Ok(Status::Success));
    assert_eq!(l.start(&c), Ok(Status::Success));
    assert_eq!(l.host.count("drbdadm up"), 1);
    assert_eq!(
        l.host.count("drbdadm adjust"),
        1,
        "the second start adjusts"
    );
    assert_eq!(l.host.roles(), [Role::Secondary]);
}

/// promoted-max=2 needs allow-two-primaries in this node's configuration; a node whose
/// file lacks it is refused with 5 (kept off this node), not 6 (the clone stopped on every
/// node for one node's file), before anything is brought up.
#[test]
fn start_and_promote_refuse_dual_primary_without_allow_two_primaries() {
    let dir = TempDir::new("a2p");
    for action in [Action::Start, Action::Promote] {
        let c = ctx(action, &[], &[]);
        let l = logic(secondary_up(), &dir, &c);
        *l.host.files.borrow_mut() = fake::config("", "protocol C;");
        let e = if action == Action::Start {
            l.start(&c)
        } else {
            l.promote(&c)
        }
        .unwrap_err();
        assert_eq!(e.status(), Status::ErrInstalled, "{action}");
        assert_eq!(
            e.reason(),
            "promoted-max=2 but DRBD resource r0 does not allow two primaries in \
             drbdconf=\"/etc/drbd.conf\": add \"allow-two-primaries yes;\" to its net section \
             (or to common's)"
        );
        assert!(l.host.calls().is_empty(), "{action}: {:?}", l.host.calls());
    }
    // A single-primary clone needs no such thing.
    let c = ctx(
        Action::Start,
        &[],
        &[("OCF_RESKEY_CRM_meta_promoted_max", "1")],
    );
    let l = logic(Fake::down(), &dir, &c);
    *l.host.files.borrow_mut() = fake::config("", "protocol C;");
    assert_eq!(l.start(&c), Ok(Status::Success));
}

#[test]
fn start_waits_for_the_peer_no_longer_than_wfc_timeout() {
    let dir = TempDir::new("wfc");
    let c = ctx(Action::Start, &[("wfc_timeout", "1")], &[]);
    let l = logic(
        Fake::up(one_volume(Role::Secondary, DiskState::UpToDate, None)),
        &dir,
        &c,
    );
    let t = Instant::now();
    assert_eq!(l.start(&c).unwrap(), Status::Success);
    let took = t.elapsed();
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(3),
        "{took:?}"
    );
    assert_eq!(l.host.count("score test 1000"), 1, "peer unknown: 1000");
}

#[test]
fn promote_refused_without_uptodate_data_reports_the_kernel_reason_once() {
    let dir = TempDir::new("refuse");
    let c = ctx(Action::Promote, &[], &[]);
    let l = logic(
        Fake::up(one_volume(Role::Secondary, DiskState::Inconsistent, None)),
        &dir,
        &c,
    );
    l.host.role_answers.borrow_mut().push_back(Some(-2));
    let t = Instant::now();
    let e = l.promote(&c).unwrap_err();
    assert_eq!(e.status(), Status::ErrGeneric);
    assert_eq!(
        e.reason(),
        "cannot promote r0: primary r0: refused by the kernel (-2: need access to UpToDate data)"
    );
    assert_eq!(
        l.host.count("primary"),
        1,
        "no retry of a refusal on the data itself"
    );
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "not reported in a tight loop"
    );
    assert_eq!(l.host.roles(), [Role::Secondary]);
}

#[test]
fn promote_retries_transient_refusals_then_succeeds_and_twice_is_once() {
    let dir = TempDir::new("retry");
    let c = ctx(Action::Promote, &[], &[]);
    let l = logic(
        Fake::up(connected(
            Role::Secondary,
            DiskState::UpToDate,
            Role::Primary,
            DiskState::UpToDate,
        )),
        &dir,
        &c,
    );
    l.host
        .role_answers
        .borrow_mut()
        .extend([Some(-19), Some(-18)]);
    assert_eq!(l.promote(&c).unwrap(), Status::Success);
    assert_eq!(l.host.count("primary r0 [1]"), 3);
    assert!(l.host.calls().contains(&"score test 10000".to_owned()));
    // Promote of a Primary is a no-op success.
    assert_eq!(l.promote(&c).unwrap(), Status::Success);
    assert_eq!(l.host.count("primary"), 3);
}

#[test]
fn demote_twice_is_demote_once_and_a_stopped_resource_is_not_running() {
    let dir = TempDir::new("demote");
    let c = ctx(Action::Demote, &[], &[]);
    let l = logic(primary_up(), &dir, &c);
    assert_eq!(l.demote(&c).unwrap(), Status::Success);
    assert_eq!(l.demote(&c).unwrap(), Status::Success);
    assert_eq!(l.host.count("secondary r0 [1]"), 1);
    assert_eq!(l.host.roles(), [Role::Secondary]);
    let l = logic(Fake::down(), &dir, &c);
    assert_eq!(l.demote(&c).unwrap(), Status::NotRunning);
}

/// The operation timeout of the held-open tests, and the deadline it gives an action (less
/// the margin kept for reporting, `ocf::deadline::margin`).
const HELD_OPEN_TIMEOUT_MS: u64 = 4000;
fn held_open_budget() -> Duration {
    let timeout = Duration::from_millis(HELD_OPEN_TIMEOUT_MS);
    timeout.saturating_sub(ocf::deadline::margin(timeout))
}

fn held_open_ctx(action: Action) -> Context {
    ctx(
        action,
        &[],
        &[(
            "OCF_RESKEY_CRM_meta_timeout",
            &HELD_OPEN_TIMEOUT_MS.to_string(),
        )],
    )
}

/// A refusal that outlives the whole deadline was retried for all of it, about once a second
/// (drbd.ocf's pace), and reported before the deadline with the kernel's reason.
fn assert_retried_for_the_budget(attempts: usize, took: Duration, what: &str) {
    let budget = held_open_budget();
    assert!(
        attempts >= 3,
        "{what}: {attempts} attempt(s) in a {budget:?} budget; held open must be retried"
    );
    assert!(
        took + Duration::from_millis(1500) >= budget,
        "{what}: gave up after {took:?} of a {budget:?} budget"
    );
    assert!(
        took < budget,
        "{what}: reported after the deadline ({took:?})"
    );
}

#[test]
fn demote_held_open_is_retried_until_the_deadline() {
    let dir = TempDir::new("held-open");
    // Still mounted somewhere for longer than the deadline: retried, then reported.
    let c = held_open_ctx(Action::Demote);
    let l = logic(primary_up(), &dir, &c);
    l.host
        .role_answers
        .borrow_mut()
        .extend(std::iter::repeat_n(Some(-12), 50));
    let t = Instant::now();
    let e = l.demote(&c).unwrap_err();
    assert!(e.reason().contains("held open"), "{e}");
    assert_retried_for_the_budget(l.host.count("secondary"), t.elapsed(), "demote");
    assert_eq!(l.host.roles(), [Role::Primary]);
    // Held open for a moment (udev, blkid after the unmount): the demote goes through.
    let c = held_open_ctx(Action::Demote);
    let l = logic(primary_up(), &dir, &c);
    l.host
        .role_answers
        .borrow_mut()
        .extend([Some(-12), Some(-12)]);
    assert_eq!(l.demote(&c).unwrap(), Status::Success);
    assert_eq!(l.host.count("secondary r0 [1]"), 3);
    assert_eq!(l.host.roles(), [Role::Secondary]);
}

#[test]
fn stop_retries_a_held_open_demote_and_down_until_the_deadline() {
    let dir = TempDir::new("held-open-stop");
    let c = held_open_ctx(Action::Stop);
    // Held open for a moment at both steps: stop still brings the resource down.
    let l = logic(primary_up(), &dir, &c);
    l.host.role_answers.borrow_mut().extend([Some(-12)]);
    l.host.down_held_open.set(1);
    assert_eq!(l.stop(&c).unwrap(), Status::Success);
    assert_eq!(l.host.count("secondary r0 [1]"), 2);
    assert_eq!(l.host.count("down r0"), 2);
    assert!(l.host.state.borrow().is_none(), "down at last");
    // Held open for longer than the deadline: retried all along, then a failed stop that
    // says why (never 0 while the device is still up).
    let c = held_open_ctx(Action::Stop);
    let l = logic(primary_up(), &dir, &c);
    l.host.down_held_open.set(50);
    let t = Instant::now();
    let e = l.stop(&c).unwrap_err();
    assert_eq!(e.status(), Status::ErrGeneric);
    assert!(e.reason().contains("held open"), "{e}");
    assert_retried_for_the_budget(l.host.count("down"), t.elapsed(), "down");
    assert!(
        l.host.state.borrow().is_some(),
        "still up: not reported stopped"
    );
}

#[test]
fn stop_demotes_downs_and_removes_the_score_and_twice_is_once() {
    let dir = TempDir::new("stop");
    let c = ctx(Action::Stop, &[], &[]);
    let l = logic(primary_up(), &dir, &c);
    assert_eq!(l.stop(&c).unwrap(), Status::Success);
    assert_eq!(
        l.host.calls(),
        ["secondary r0 [1]", "down r0", "score test delete"]
    );
    // Stopping a stopped resource is 0.
    assert_eq!(l.stop(&c).unwrap(), Status::Success);
    assert_eq!(l.host.count("down"), 1);
}

#[test]
fn notify_reconnects_on_start_and_never_promotes() {
    let dir = TempDir::new("notify");
    let n = [
        ("OCF_RESKEY_CRM_meta_notify_type", "post"),
        ("OCF_RESKEY_CRM_meta_notify_operation", "start"),
        ("OCF_RESKEY_CRM_meta_notify_start_uname", "node2"),
        ("OCF_RESKEY_CRM_meta_on_node", "node1"),
    ];
    let c = ctx(Action::Notify, &[], &n);
    let l = logic(
        Fake::up(one_volume(Role::Secondary, DiskState::UpToDate, None)),
        &dir,
        &c,
    );
    assert_eq!(l.notify(&c).unwrap(), Status::Success);
    assert_eq!(l.host.calls(), ["drbdadm adjust r0", "score test 1000"]);
    // Split brain: both Primary, link down. Logged; nothing promoted, nothing demoted.
    let sb = [
        ("OCF_RESKEY_CRM_meta_notify_type", "post"),
        ("OCF_RESKEY_CRM_meta_notify_operation", "promote"),
        ("OCF_RESKEY_CRM_meta_notify_promoted_uname", "node1 node2"),
        ("OCF_RESKEY_CRM_meta_on_node", "node1"),
    ];
    let c = ctx(Action::Notify, &[], &sb);
    let l = logic(
        Fake::up(one_volume(Role::Primary, DiskState::UpToDate, None)),
        &dir,
        &c,
    );
    assert_eq!(l.notify(&c).unwrap(), Status::Success);
    assert_eq!(l.host.count("primary") + l.host.count("secondary"), 0);
    // Inconsistent data and a peer with nothing better: the score is removed, so Pacemaker
    // cannot promote this node.
    let c = ctx(Action::Notify, &[], &n);
    let l = logic(
        Fake::up(one_volume(Role::Secondary, DiskState::Inconsistent, None)),
        &dir,
        &c,
    );
    assert_eq!(l.notify(&c).unwrap(), Status::Success);
    assert!(
        l.host.calls().contains(&"score test delete".to_owned()),
        "{:?}",
        l.host.calls()
    );
}

#[test]
fn validate_checks_the_clone_in_both_vocabularies_and_the_module() {
    let dir = TempDir::new("validate");
    let c = ctx(Action::ValidateAll, &[], &[]);
    let l = logic(Fake::down(), &dir, &c);
    assert_eq!(l.validate(&c), Ok(()));
    let bad = ctx(
        Action::ValidateAll,
        &[],
        &[
            ("OCF_RESKEY_CRM_meta_master_max", "3"),
            ("OCF_RESKEY_CRM_meta_promoted_max", ""),
        ],
    );
    let e = l.validate(&bad).unwrap_err();
    assert_eq!(e.status(), Status::ErrConfigured);
    assert!(e.reason().contains("promoted-max=\"3\""), "{e}");
    // Module outside the bounds: 5, both versions named as the administrator wrote them.
    let c9 = ctx(
        Action::ValidateAll,
        &[("require_drbd_module_version_ge", "9.0.0")],
        &[],
    );
    let e = logic(secondary_up(), &dir, &c9).validate(&c9).unwrap_err();
    assert_eq!(e.status(), Status::ErrInstalled);
    assert_eq!(
        e.reason(),
        "the loaded drbd module is version 8.4.11, outside require_drbd_module_version_ge=9.0.0 \
         .. require_drbd_module_version_lt=10.0.0"
    );
}

/// The bad-configuration rule (`ocf::config`), seen through this agent on a Primary
/// resource: a typo in a setting is refused where it would take effect (validate-all,
/// start, promote, reload: 6 naming it) and never costs a probe, a monitor, a demote, a
/// notify or a stop, which report and act on the real state.
#[test]
fn a_bad_setting_fails_what_puts_it_in_place_and_nothing_that_observes_or_undoes() {
    let dir = TempDir::new("rule");
    let typo = [("adjust_master_score", "many")];
    for action in [
        Action::ValidateAll,
        Action::Start,
        Action::Promote,
        Action::Reload,
    ] {
        let (r, host) = act(secondary_up(), &dir, &ctx(action, &typo, &[]));
        let e = r.unwrap_err();
        assert_eq!(e.status(), Status::ErrConfigured, "{action}");
        assert!(
            e.reason().contains("adjust_master_score=\"many\""),
            "{action}: {e}"
        );
        assert!(host.calls().is_empty(), "{action}: {:?}", host.calls());
    }
    let (r, _) = act(primary_up(), &dir, &ctx(Action::Monitor, &typo, &[]));
    assert_eq!(r, Ok(Status::RunningPromoted), "probe");
    let (r, _) = act(
        primary_up(),
        &dir,
        &ctx(Action::Monitor, &typo, &[RECURRING]),
    );
    assert_eq!(r, Ok(Status::RunningPromoted), "recurring monitor");
    let (r, host) = act(primary_up(), &dir, &ctx(Action::Demote, &typo, &[]));
    assert_eq!(
        (r, host.roles()),
        (Ok(Status::Success), vec![Role::Secondary])
    );
    let notify = [
        ("OCF_RESKEY_CRM_meta_notify_type", "post"),
        ("OCF_RESKEY_CRM_meta_notify_operation", "promote"),
    ];
    let (r, _) = act(primary_up(), &dir, &ctx(Action::Notify, &typo, &notify));
    assert_eq!(r, Ok(Status::Success), "notify");
    let (r, host) = act(primary_up(), &dir, &ctx(Action::Stop, &typo, &[]));
    assert_eq!(r, Ok(Status::Success), "stop");
    assert!(host.state.borrow().is_none(), "stop brought it down");
}

/// The clone's meta-attributes are checked where the resource is put in place; a demote,
/// notify, monitor or stop of a clone whose meta-attributes changed under it still works
/// (a 6 there would be a failed demote and a ban of the clone on every node).
#[test]
fn a_misconfigured_clone_fails_start_and_promote_but_not_demote_notify_monitor_stop() {
    let dir = TempDir::new("clone");
    let no_notify = [("OCF_RESKEY_CRM_meta_notify", "false")];
    for action in [Action::ValidateAll, Action::Start, Action::Promote] {
        let (r, _) = act(secondary_up(), &dir, &ctx(action, &[], &no_notify));
        let e = r.unwrap_err();
        assert_eq!(e.status(), Status::ErrConfigured, "{action}");
        assert!(e.reason().contains("notify=\"false\""), "{action}: {e}");
    }
    let (r, host) = act(primary_up(), &dir, &ctx(Action::Demote, &[], &no_notify));
    assert_eq!(
        (r, host.roles()),
        (Ok(Status::Success), vec![Role::Secondary])
    );
    let (r, _) = act(primary_up(), &dir, &ctx(Action::Notify, &[], &no_notify));
    assert_eq!(r, Ok(Status::Success));
    let (r, _) = act(primary_up(), &dir, &ctx(Action::Monitor, &[], &no_notify));
    assert_eq!(r, Ok(Status::RunningPromoted));
    let (r, host) = act(primary_up(), &dir, &ctx(Action::Stop, &[], &no_notify));
    assert_eq!(r, Ok(Status::Success));
    assert!(host.state.borrow().is_none());
}

/// A `drbd_resource` that does not parse: the kernel is asked by the raw name whether it
/// holds such a resource (probe 7 and stop 0 only when it does not).
#[test]
fn an_unusable_resource_name_is_absent_only_when_the_kernel_has_none_by_it() {
    let end = Instant::now() + Duration::from_secs(5);
    let up = primary_up();
    assert!(matches!(
        presence(&up, Some("-r0"), end),
        Ok(Presence::Possible(what)) if what.contains("\"-r0\", which is up here")
    ));
    for name in [None, Some(""), Some("r\0"), Some(&*"r".repeat(200))] {
        assert!(
            matches!(presence(&up, name, end), Ok(Presence::Absent(_))),
            "{name:?}"
        );
    }
    assert!(matches!(
        presence(&Fake::down(), Some("-r0"), end),
        Ok(Presence::Absent(why)) if why.contains("no DRBD resource \"-r0\"")
    ));
    let broken = primary_up();
    broken.status_fails.set(true);
    let e = presence(&broken, Some("-r0"), end).unwrap_err();
    assert!(e.reason().contains("asking the kernel"), "{e}");
}

/// What an administrator reads in `pcs status`: the program and what is wrong with it,
/// never Rust's `(os error 2)` or Debug text (`Some(10)`, `Set(10000)`, `1.5s`).
#[test]
fn messages_name_the_program_and_the_problem_without_rust_internals() {
    let dir = TempDir::new("messages");
    let c = ctx(Action::Start, &[], &[]);
    let l = logic(Fake::down(), &dir, &c);
    l.host.no_drbdadm.set(true);
    let e = l.start(&c).unwrap_err();
    assert_eq!(e.status(), Status::ErrInstalled);
    assert_eq!(
        e.reason(),
        "drbdadm up r0: cannot run drbdadm: no such program (is it installed?)"
    );
    let c = held_open_ctx(Action::Stop);
    let l = logic(primary_up(), &dir, &c);
    l.host.down_held_open.set(50);
    let e = l.stop(&c).unwrap_err();
    assert_eq!(
        e.reason(),
        "cannot take r0 down: down r0: refused by the kernel (-12: device is held open by \
         someone; failed to demote)"
    );
    for reason in [e.reason()] {
        for internal in ["os error", "Some(", "Set(", "Err(", "Ok("] {
            assert!(!reason.contains(internal), "{internal}: {reason}");
        }
    }
}

/// Two volumes (minors 1 and 2) in these roles, UpToDate, the peer connected and Primary.
fn two_volumes(first: Role, second: Role) -> Fake {
    Fake::up(drbd_genl::testing::status(
        "r0",
        &[
            (1, first, DiskState::UpToDate),
            (2, second, DiskState::UpToDate),
        ],
        Some((ConnState::Connected, Role::Primary, DiskState::UpToDate)),
    ))
}

/// With several volumes, Primary means every volume: a promote that leaves one minor
/// Secondary (its refusal may pass, so it was retried) is not done until that minor is
/// Primary too.
#[test]
fn promote_of_two_volumes_is_done_only_when_both_are_primary() {
    let dir = TempDir::new("two-promote");
    let c = ctx(Action::Promote, &[], &[]);
    let l = logic(two_volumes(Role::Secondary, Role::Secondary), &dir, &c);
    // Minor 2 refuses once with a transient state change (minor 1 already changed).
    l.host.refuse_minor.set(Some((2, -18, 1)));
    assert_eq!(l.promote(&c), Ok(Status::Success));
    assert_eq!(l.host.roles(), [Role::Primary, Role::Primary]);
    assert_eq!(
        l.host.role_changes(),
        ["primary r0 [1, 2]", "primary r0 [2]"],
        "the second attempt asks only for what is left"
    );
}

/// A minor that never becomes Primary fails the promote with its reason, and the minors
/// already promoted go back to Secondary: the node is never left Primary in part.
#[test]
fn promote_that_leaves_a_minor_secondary_fails_and_is_rolled_back() {
    let dir = TempDir::new("two-refused");
    let c = held_open_ctx(Action::Promote);
    let l = logic(two_volumes(Role::Secondary, Role::Secondary), &dir, &c);
    l.host.refuse_minor.set(Some((2, -18, usize::MAX)));
    let e = l.promote(&c).unwrap_err();
    assert_eq!(e.status(), Status::ErrGeneric);
    assert!(
        e.reason().starts_with("cannot promote r0") && e.reason().contains("in transient state"),
        "{e}"
    );
    assert_eq!(l.host.roles(), [Role::Secondary, Role::Secondary]);
    assert_eq!(
        l.host.role_changes().last().map(String::as_str),
        Some("secondary r0 [1]"),
        "rolled back"
    );
}

/// A resource Primary in part is not promoted: monitor says so (9, promoted but failed, so
/// Pacemaker demotes before it stops), never 8; demote and stop take every minor down.
#[test]
fn a_resource_primary_in_part_is_a_failed_promoted_one() {
    let dir = TempDir::new("two-monitor");
    for extra in [&[][..], &[RECURRING][..]] {
        let c = ctx(Action::Monitor, &[], extra);
        let l = logic(two_volumes(Role::Primary, Role::Secondary), &dir, &c);
        let e = l.monitor(&c).unwrap_err();
        assert_eq!(e.status(), Status::FailedPromoted);
        assert_eq!(
            e.reason(),
            "DRBD resource r0 is Primary only in part (minor 1 Primary, minor 2 Secondary)"
        );
    }
    let c = ctx(Action::Demote, &[], &[]);
    let l = logic(two_volumes(Role::Secondary, Role::Primary), &dir, &c);
    assert_eq!(l.demote(&c), Ok(Status::Success));
    assert_eq!(l.host.roles(), [Role::Secondary, Role::Secondary]);
    assert_eq!(l.host.role_changes(), ["secondary r0 [2]"]);
    let c = ctx(Action::Start, &[], &[]);
    let l = logic(two_volumes(Role::Primary, Role::Secondary), &dir, &c);
    assert_eq!(l.start(&c), Ok(Status::Success));
    assert_eq!(
        l.host.roles(),
        [Role::Secondary, Role::Secondary],
        "start ends Secondary"
    );
}

/// `allow-two-primaries` in `common` (global_common.conf) counts, as it does for drbdadm
/// (`drbdadm -d -v dump` shows it merged in; plain `drbdadm dump RES` does not).
#[test]
fn start_reads_allow_two_primaries_from_the_common_section() {
    let dir = TempDir::new("common");
    for action in [Action::Start, Action::Promote, Action::ValidateAll] {
        let c = ctx(action, &[], &[]);
        let f = secondary_up();
        *f.files.borrow_mut() = fake::config("allow-two-primaries yes;", "protocol C;");
        let (r, _) = act(f, &dir, &c);
        assert_eq!(r, Ok(Status::Success), "{action}");
    }
}

/// validate-all runs the check start runs, on the same files: a resource this node's
/// configuration does not define, or that does not allow two primaries with promoted-max=2,
/// or a configuration that cannot be read, is refused with 5 and the reason.
#[test]
fn validate_all_reads_the_configuration_as_start_does() {
    let dir = TempDir::new("validate-conf");
    let c = ctx(Action::ValidateAll, &[], &[]);
    for (files, reason) in [
        (
            fake::config("", "allow-two-primaries yes;")
                .0
                .into_iter()
                .filter(|(p, _)| !p.ends_with("r0.res"))
                .collect(),
            "DRBD resource r0 is not defined in drbdconf=\"/etc/drbd.conf\" or the files it includes",
        ),
        (
            fake::config("", "protocol C;").0,
            "promoted-max=2 but DRBD resource r0 does not allow two primaries",
        ),
        (
            std::collections::BTreeMap::new(),
            "drbdconf=\"/etc/drbd.conf\": cannot read /etc/drbd.conf: No such file or directory",
        ),
    ] {
        let f = Fake::down();
        *f.files.borrow_mut() = crate::drbdconf::MemFiles(files);
        let (r, host) = act(f, &dir, &c);
        let e = r.unwrap_err();
        assert_eq!(e.status(), Status::ErrInstalled, "{e}");
        assert!(e.reason().starts_with(reason), "{e}");
        assert!(host.calls().is_empty(), "validate-all forks nothing");
    }
}

/// On a node without drbd-utils, validate-all names the missing program and its package
/// (5), before the configuration drbd-utils would have installed: whether or not a
/// drbd.conf is there, and forking nothing.
#[test]
fn validate_all_names_a_missing_drbdadm_and_its_package() {
    let dir = TempDir::new("validate-drbdadm");
    let c = ctx(Action::ValidateAll, &[], &[]);
    for files in [
        fake::config("", "allow-two-primaries yes;").0,
        std::collections::BTreeMap::new(),
    ] {
        let f = Fake::down();
        f.no_drbdadm.set(true);
        *f.files.borrow_mut() = crate::drbdconf::MemFiles(files);
        let (r, host) = act(f, &dir, &c);
        let e = r.unwrap_err();
        assert_eq!(e.status(), Status::ErrInstalled, "{e}");
        assert_eq!(
            e.reason(),
            "drbdadm: not found (or not executable) on PATH, /usr/sbin or /sbin; install \
             drbd-utils"
        );
        assert!(host.calls().is_empty(), "validate-all forks nothing");
    }
}

/// The resource's name is its identity: stop brings it down whatever the settings or this
/// node's DRBD configuration say (a drbdconf with a typo, or one that no longer defines the
/// resource), never 0 while it is up.
#[test]
fn stop_brings_the_resource_down_whatever_the_configuration_says() {
    let dir = TempDir::new("stop-conf");
    let without_r0 = || {
        let f = primary_up();
        f.files.borrow_mut().0.retain(|p, _| !p.ends_with("r0.res"));
        f
    };
    for (params, host) in [
        (&[("drbdconf", "etc/drbd.conf")][..], primary_up()),
        (&[("drbdconf", "/etc/drbd-old.conf")][..], primary_up()),
        (&[][..], without_r0()),
    ] {
        let (r, host) = act(host, &dir, &ctx(Action::Stop, params, &[]));
        assert_eq!(r, Ok(Status::Success), "{params:?}");
        assert!(host.state.borrow().is_none(), "{params:?}: still up");
    }
}

/// Pacemaker reloads a changed setting (the metadata's legacy reload): the running resource
/// is adjusted and scored again, never demoted, taken down or promoted, whatever its role.
#[test]
fn reload_adjusts_and_scores_without_demote_or_down() {
    let dir = TempDir::new("reload");
    for fake in [primary_up(), secondary_up()] {
        let before = fake.roles();
        let c = ctx(
            Action::Reload,
            &[
                ("wfc_timeout", "10"),
                ("adjust_master_score", "0 10 1000 20000"),
            ],
            &[],
        );
        let (r, host) = act(fake, &dir, &c);
        assert_eq!(r, Ok(Status::Success));
        assert_eq!(host.roles(), before, "the role is untouched");
        assert_eq!(host.role_changes(), Vec::<String>::new());
        assert_eq!(host.count("down"), 0);
        assert_eq!(
            host.calls(),
            ["drbdadm adjust r0", "score test 20000"],
            "the new ladder is written at once"
        );
    }
    // Not connected yet, connect_only_after_promote: adjusted without the network.
    let c = ctx(
        Action::Reload,
        &[("connect_only_after_promote", "true")],
        &[],
    );
    let (r, host) = act(
        Fake::up(one_volume(Role::Secondary, DiskState::UpToDate, None)),
        &dir,
        &c,
    );
    assert_eq!(r, Ok(Status::Success));
    assert_eq!(host.calls()[0], "drbdadm adjust --skip-net r0");
    // Nothing up: nothing to apply.
    let (r, host) = act(Fake::down(), &dir, &ctx(Action::Reload, &[], &[]));
    assert_eq!((r, host.calls()), (Ok(Status::Success), vec![]));
}

/// A reload applies the configuration only when start would accept it: a file that lost
/// allow-two-primaries (or the resource) is refused with 5 before drbdadm adjust turns
/// dual-primary off under two Primaries.
#[test]
fn reload_refuses_a_configuration_start_would_refuse() {
    let dir = TempDir::new("reload-conf");
    let f = primary_up();
    *f.files.borrow_mut() = fake::config("", "protocol C;");
    let (r, host) = act(f, &dir, &ctx(Action::Reload, &[], &[]));
    let e = r.unwrap_err();
    assert_eq!(e.status(), Status::ErrInstalled);
    assert!(e.reason().contains("does not allow two primaries"), "{e}");
    assert_eq!(host.count("drbdadm adjust"), 0);
    assert_eq!(host.roles(), [Role::Primary]);
}

/// A local disk DRBD detached (an I/O error) or a link it will not bring back (StandAlone,
/// after a split brain) is reported as degraded, 191 promoted and 190 unpromoted, with the
/// reason: Pacemaker shows it and recovers nothing; the score still follows the disks. A
/// peer that is away (the link awaited), a resync and connect_only_after_promote's
/// StandAlone are not degraded. Before, the monitor answered 8 and 0: nothing in `pcs
/// status` said that the node served from its peer's disk, or that the copies had diverged.
#[test]
fn a_lost_disk_or_a_standalone_link_is_degraded_with_the_reason() {
    let dir = TempDir::new("degraded");
    let c = ctx(Action::Monitor, &[], &[RECURRING]);
    let peer_up = Some((ConnState::Connected, Role::Primary, DiskState::UpToDate));
    let l = logic(
        Fake::up(one_volume(Role::Primary, DiskState::Diskless, peer_up)),
        &dir,
        &c,
    );
    let e = l.monitor(&c).unwrap_err();
    assert_eq!(
        l.host.calls(),
        ["score test 10"],
        "only the peer's disk: only_remote"
    );
    assert_eq!(e.status(), Status::DegradedPromoted);
    assert_eq!(
        e.reason(),
        "DRBD resource r0 is degraded: local disk lost (minor 1 Diskless)"
    );
    assert!(e.reason().len() <= 128, "Pacemaker keeps 128 characters");
    assert_eq!(
        l.host.calls(),
        ["score test 10"],
        "only the peer's disk: only_remote"
    );

    let split = Some((ConnState::StandAlone, Role::Unknown, DiskState::DUnknown));
    let monitor = |c: &Context, role, disk, peer| {
        logic(Fake::up(one_volume(role, disk, peer)), &dir, c).monitor(c)
    };
    let e = monitor(&c, Role::Primary, DiskState::UpToDate, split).unwrap_err();
    assert_eq!(e.status(), Status::DegradedPromoted);
    assert_eq!(
        e.reason(),
        "DRBD resource r0 is degraded: replication link StandAlone (split brain?)"
    );
    let e = monitor(&c, Role::Secondary, DiskState::Failed, split).unwrap_err();
    assert_eq!(e.status(), Status::Degraded);
    assert!(
        e.reason().contains("minor 1 Failed") && e.reason().contains("StandAlone"),
        "{}",
        e.reason()
    );

    // Healthy enough: the peer away and awaited, a resync, StandAlone by design.
    let away = Some((ConnState::Connecting, Role::Unknown, DiskState::DUnknown));
    assert_eq!(
        monitor(&c, Role::Primary, DiskState::UpToDate, away),
        Ok(Status::RunningPromoted)
    );
    let syncing = Some((ConnState::Connected, Role::Primary, DiskState::UpToDate));
    let l = logic(
        Fake::up(one_volume(
            Role::Secondary,
            DiskState::Inconsistent,
            syncing,
        )),
        &dir,
        &c,
    );
    assert_eq!(l.monitor(&c), Ok(Status::Success));
    let c = ctx(
        Action::Monitor,
        &[("connect_only_after_promote", "true")],
        &[RECURRING],
    );
    assert_eq!(
        monitor(&c, Role::Secondary, DiskState::UpToDate, split),
        Ok(Status::Success)
    );
}

#[test]
fn post_notify_counts_as_promoted_only_peers_that_stay_promoted() {
    let after = |vars: &[(&str, &str)]| {
        let mut all = vec![
            ("OCF_RESKEY_CRM_meta_notify_type", "post"),
            ("OCF_RESKEY_CRM_meta_on_node", "node1"),
        ];
        all.extend_from_slice(vars);
        let c = ctx(Action::Notify, &[], &all);
        let n = c.env.notify.clone().expect("notify variables");
        promoted_peers_after(&n, "node1")
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    // Both promoted, nothing changes: the peer stays promoted (a split brain if the link is
    // down).
    let both = [
        ("OCF_RESKEY_CRM_meta_notify_operation", "promote"),
        ("OCF_RESKEY_CRM_meta_notify_promoted_uname", "node1 node2"),
    ];
    assert_eq!(after(&both), ["node2"]);
    // The peer fenced: Pacemaker demotes and stops its instance (Debian 13 lab, check 33).
    let fenced = [
        ("OCF_RESKEY_CRM_meta_notify_operation", "demote"),
        ("OCF_RESKEY_CRM_meta_notify_promoted_uname", "node1 node2"),
        ("OCF_RESKEY_CRM_meta_notify_demote_uname", "node2"),
    ];
    assert!(after(&fenced).is_empty());
    let stopped = [
        ("OCF_RESKEY_CRM_meta_notify_operation", "stop"),
        ("OCF_RESKEY_CRM_meta_notify_promoted_uname", "node2 node1"),
        ("OCF_RESKEY_CRM_meta_notify_stop_uname", "node2"),
    ];
    assert!(after(&stopped).is_empty());
    // Promoted now, and listed twice: once.
    let promoting = [
        ("OCF_RESKEY_CRM_meta_notify_operation", "promote"),
        ("OCF_RESKEY_CRM_meta_notify_promoted_uname", "node2"),
        ("OCF_RESKEY_CRM_meta_notify_promote_uname", "node2 node1"),
    ];
    assert_eq!(after(&promoting), ["node2"]);
}
