//! The actions against a fake host: what the kernel, drbdadm and crm_attribute were asked,
//! and what the agent answered.

use crate::Agent;
use crate::checks::parse_ladder;
use crate::ctl::DrbdCtl;
use crate::logic::Logic;
use crate::score::{PeerPrimaryPolicy, Score, ScoreCache, decide};
use drbd_genl::{ConnState, DiskState, Peer, PeerVolume, ReplState, ResourceStatus, Role, Volume};
use ocf::{Action, Context, Status};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::os::unix::process::ExitStatusExt;
use std::time::{Duration, Instant};

const CLONE: [(&str, &str); 6] = [
    ("OCF_RESKEY_CRM_meta_clone_max", "2"),
    ("OCF_RESKEY_CRM_meta_clone_node_max", "1"),
    ("OCF_RESKEY_CRM_meta_promoted_max", "2"),
    ("OCF_RESKEY_CRM_meta_promoted_node_max", "1"),
    ("OCF_RESKEY_CRM_meta_notify", "true"),
    ("OCF_RESKEY_CRM_meta_timeout", "20000"),
];

fn ctx(action: Action, params: &[(&str, &str)], extra: &[(&str, &str)]) -> Context {
    let mut p = vec![("drbd_resource", "r0")];
    p.extend_from_slice(params);
    let mut vars: Vec<(&str, &str)> = CLONE.to_vec();
    vars.extend_from_slice(extra);
    ocf::testing::context::<Agent>(action, &p, &vars)
}

fn status(
    role: Role,
    disk: DiskState,
    peer: Option<(ConnState, Role, DiskState)>,
) -> ResourceStatus {
    ResourceStatus {
        name: "r0".into(),
        api: 1,
        role,
        volumes: vec![Volume {
            volume: 0,
            minor: 1,
            disk,
            intentional_diskless: false,
            has_quorum: true,
        }],
        peers: vec![peer.map_or(
            Peer {
                name: String::new(),
                conn: ConnState::Connecting,
                role: Role::Unknown,
                volumes: vec![PeerVolume {
                    volume: 0,
                    disk: DiskState::DUnknown,
                    repl: ReplState::Off,
                }],
            },
            |(conn, role, pdisk)| Peer {
                name: String::new(),
                conn,
                role,
                volumes: vec![PeerVolume {
                    volume: 0,
                    disk: pdisk,
                    repl: ReplState::Established,
                }],
            },
        )],
        two_primaries: Some(true),
    }
}

fn connected(role: Role, disk: DiskState, peer_role: Role, pdisk: DiskState) -> ResourceStatus {
    status(role, disk, Some((ConnState::Connected, peer_role, pdisk)))
}

/// A host that records every request and answers from a script.
#[derive(Default)]
struct Fake {
    module: RefCell<Option<String>>,
    state: RefCell<Option<ResourceStatus>>,
    calls: RefCell<Vec<String>>,
    /// Answers for set_role, in order; empty means success.
    role_answers: RefCell<VecDeque<Option<i32>>>,
    /// How many `drbdadm down` calls fail with "held open" before one succeeds.
    down_held_open: RefCell<usize>,
    dump: RefCell<String>,
}

impl Fake {
    fn up(st: ResourceStatus) -> Fake {
        let f = Fake::default();
        *f.module.borrow_mut() = Some("8.4.11".into());
        *f.state.borrow_mut() = Some(st);
        *f.dump.borrow_mut() = "resource r0 {\n net {\n  allow-two-primaries yes;\n }\n}\n".into();
        f
    }
    fn calls(&self) -> Vec<String> {
        self.calls.borrow().clone()
    }
    /// Calls equal to `call`, or starting with it followed by a space.
    fn count(&self, call: &str) -> usize {
        self.calls
            .borrow()
            .iter()
            .filter(|c| *c == call || c.starts_with(&format!("{call} ")))
            .count()
    }
}

fn ok_output(stdout: &str) -> child::Output {
    child::Output {
        status: std::process::ExitStatus::from_raw(0),
        stdout: stdout.into(),
        stderr: String::new(),
    }
}

impl DrbdCtl for Fake {
    fn module_version(&self) -> Option<String> {
        self.module.borrow().clone()
    }
    fn load_module(&self, _conf: &str, _end: Instant) -> Result<(), String> {
        self.calls.borrow_mut().push("modprobe".into());
        *self.module.borrow_mut() = Some("8.4.11".into());
        Ok(())
    }
    fn status(&self, _r: &str, _end: Instant) -> Result<Option<ResourceStatus>, String> {
        Ok(self.state.borrow().clone())
    }
    fn set_role(
        &self,
        resource: &str,
        primary: bool,
        minors: &[u32],
        _end: Instant,
    ) -> Result<(), drbd_genl::Error> {
        let word = if primary { "primary" } else { "secondary" };
        self.calls
            .borrow_mut()
            .push(format!("{word} {resource} {minors:?}"));
        if let Some(Some(code)) = self.role_answers.borrow_mut().pop_front() {
            return Err(drbd_genl::Error::Refused {
                op: word,
                resource: resource.into(),
                code,
                text: drbd_genl::socket::refusal_text(code),
                info: None,
            });
        }
        if let Some(st) = self.state.borrow_mut().as_mut() {
            st.role = if primary {
                Role::Primary
            } else {
                Role::Secondary
            };
        }
        Ok(())
    }
    fn drbdadm(
        &self,
        _conf: &str,
        args: &[&str],
        _env: &[(&str, &str)],
        _end: Instant,
    ) -> Result<child::Output, String> {
        self.calls
            .borrow_mut()
            .push(format!("drbdadm {}", args.join(" ")));
        match args.first().copied() {
            Some("dump") => Ok(ok_output(&self.dump.borrow())),
            Some("up") => {
                *self.state.borrow_mut() = Some(connected(
                    Role::Secondary,
                    DiskState::UpToDate,
                    Role::Secondary,
                    DiskState::UpToDate,
                ));
                Ok(ok_output(""))
            }
            Some("down") => {
                let mut held = self.down_held_open.borrow_mut();
                if *held > 0 {
                    *held -= 1;
                    // What drbdsetup prints (exit 11) when the device is open.
                    return Ok(child::Output {
                        status: std::process::ExitStatus::from_raw(11 << 8),
                        stdout: String::new(),
                        stderr: "r0: State change failed: (-12) Device is held open by someone\n\
                                 additional info from kernel:\n\
                                 /dev/drbd1 opened by blkid (pid 4242) at 2026-11-26 10:00:00\n"
                            .into(),
                    });
                }
                *self.state.borrow_mut() = None;
                Ok(ok_output(""))
            }
            _ => Ok(ok_output("")),
        }
    }
    fn set_score(&self, instance: &str, score: i64, _end: Instant) -> Result<(), String> {
        self.calls
            .borrow_mut()
            .push(format!("score {instance} {score}"));
        Ok(())
    }
    fn delete_score(&self, instance: &str, _end: Instant) -> Result<(), String> {
        self.calls
            .borrow_mut()
            .push(format!("score {instance} delete"));
        Ok(())
    }
}

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

fn logic(fake: Fake, dir: &TempDir, c: &Context) -> Logic<Fake> {
    let (identity, settings) = ocf::testing::parse::<Agent>(c).unwrap();
    Logic {
        identity,
        settings,
        ctl: fake,
        cache: ScoreCache::new(dir.0.join("cache")),
        refused_promote_min: Duration::from_millis(300),
    }
}

#[test]
fn params_match_metadata() {
    ocf::testing::assert_params_match_metadata::<Agent>(&[("drbd_resource", "r0")]);
}

#[test]
fn bad_values_are_6_naming_the_parameter() {
    for (name, value) in [
        ("drbd_resource", "r0; reboot"),
        ("drbd_resource", "-c/etc/passwd"),
        ("drbdconf", "drbd.conf"),
        ("adjust_master_score", "0 10 1000"),
        ("adjust_master_score", "0 10 -5 10000"),
        ("remove_master_score_if_peer_primary", "sometimes"),
        ("require_drbd_module_version_ge", "eight"),
        ("stop_outdates_secondary", "perhaps"),
        ("connect_only_after_promote", "2"),
    ] {
        let c = ctx(Action::Start, &[(name, value)], &[]);
        let e = ocf::testing::parse::<Agent>(&c).unwrap_err();
        assert_eq!(e.status(), Status::ErrConfigured, "{name}={value}");
        assert!(e.reason().contains(&format!("{name}=")), "{name}: {e}");
    }
    let c = ctx(Action::Start, &[("wfc_timeout", "none")], &[]);
    assert_eq!(
        ocf::testing::parse::<Agent>(&c).unwrap().1.wfc_timeout,
        None,
        "non-digits: no wait"
    );
    let c = ctx(Action::Start, &[], &[]);
    let (_, s) = ocf::testing::parse::<Agent>(&c).unwrap();
    assert_eq!(s.wfc_timeout, Some(Duration::from_secs(5)));
    assert_eq!(s.conf, "/etc/drbd.conf");
    assert_eq!(s.peer_primary, PeerPrimaryPolicy::Never);
}

#[test]
fn score_ladder_every_case() {
    use DiskState::*;
    use Role::*;
    let l = parse_ladder("0 10 1000 10000").unwrap();
    let d = |st: &ResourceStatus| decide(st, &l, PeerPrimaryPolicy::Never, 2);
    // Primary with UpToDate data: as good as it gets, connected or not.
    assert_eq!(
        d(&connected(Primary, UpToDate, Primary, UpToDate)),
        Score::Set(10000)
    );
    assert_eq!(d(&status(Primary, UpToDate, None)), Score::Set(10000));
    // Secondary, UpToDate, peer's disk known: 10000; unknown: 1000.
    assert_eq!(
        d(&connected(Secondary, UpToDate, Primary, UpToDate)),
        Score::Set(10000)
    );
    assert_eq!(
        d(&connected(Secondary, UpToDate, Secondary, Inconsistent)),
        Score::Set(10000)
    );
    assert_eq!(d(&status(Secondary, UpToDate, None)), Score::Set(1000));
    // Local data not UpToDate but a peer's is: only remote, 10.
    assert_eq!(
        d(&connected(Secondary, Inconsistent, Primary, UpToDate)),
        Score::Set(10)
    );
    assert_eq!(
        d(&connected(Secondary, Outdated, Secondary, UpToDate)),
        Score::Set(10)
    );
    // Transitional: leave it.
    assert_eq!(d(&status(Secondary, Attaching, None)), Score::Keep);
    assert_eq!(d(&status(Secondary, Negotiating, None)), Score::Keep);
    // Only Consistent: score 0, which means remove; a nonzero ladder sets it.
    assert_eq!(d(&status(Secondary, Consistent, None)), Score::Remove);
    let l5 = parse_ladder("5 10 1000 10000").unwrap();
    assert_eq!(
        decide(
            &status(Secondary, Consistent, None),
            &l5,
            PeerPrimaryPolicy::Never,
            2
        ),
        Score::Set(5)
    );
    // No usable data anywhere: remove, never negative.
    assert_eq!(d(&status(Secondary, Inconsistent, None)), Score::Remove);
    assert_eq!(d(&status(Secondary, Outdated, None)), Score::Remove);
    assert_eq!(d(&status(Secondary, Diskless, None)), Score::Remove);
    assert_eq!(
        d(&connected(Secondary, Inconsistent, Secondary, Inconsistent)),
        Score::Remove
    );
    // No quorum (DRBD 9): remove.
    let mut noq = connected(Primary, UpToDate, Primary, UpToDate);
    noq.volumes[0].has_quorum = false;
    assert_eq!(d(&noq), Score::Remove);
    // A healthy Primary peer: removed with true; with unexpected only for promoted-max 1.
    let peer_primary = connected(Secondary, UpToDate, Primary, UpToDate);
    assert_eq!(
        decide(&peer_primary, &l, PeerPrimaryPolicy::Always, 2),
        Score::Remove
    );
    assert_eq!(
        decide(&peer_primary, &l, PeerPrimaryPolicy::Unexpected, 2),
        Score::Set(10000)
    );
    assert_eq!(
        decide(&peer_primary, &l, PeerPrimaryPolicy::Unexpected, 1),
        Score::Remove
    );
    // Diskless client: 9999 with all peer disks UpToDate, 999 with some.
    let mut client = connected(Secondary, Diskless, Secondary, UpToDate);
    client.volumes[0].intentional_diskless = true;
    assert_eq!(d(&client), Score::Set(9999));
    client.peers.push(Peer {
        volumes: vec![PeerVolume {
            volume: 0,
            disk: Outdated,
            repl: ReplState::Off,
        }],
        ..client.peers[0].clone()
    });
    assert_eq!(d(&client), Score::Set(999));
}

#[test]
fn monitor_forks_nothing_when_the_score_is_unchanged() {
    let dir = TempDir::new("mon");
    let c = ctx(
        Action::Monitor,
        &[],
        &[("OCF_RESKEY_CRM_meta_interval", "10000")],
    );
    let l = logic(
        Fake::up(connected(
            Role::Primary,
            DiskState::UpToDate,
            Role::Primary,
            DiskState::UpToDate,
        )),
        &dir,
        &c,
    );
    assert_eq!(l.monitor(&c).unwrap(), Status::RunningPromoted);
    assert_eq!(l.ctl.calls(), ["score test 10000"]);
    for _ in 0..3 {
        assert_eq!(l.monitor(&c).unwrap(), Status::RunningPromoted);
    }
    assert_eq!(l.ctl.calls().len(), 1, "unchanged score: no crm_attribute");
    // The peer disconnects: Primary keeps 10000 (no write); demoted with peer unknown: 1000.
    *l.ctl.state.borrow_mut() = Some(status(Role::Secondary, DiskState::UpToDate, None));
    assert_eq!(l.monitor(&c).unwrap(), Status::Success);
    assert_eq!(l.ctl.calls(), ["score test 10000", "score test 1000"]);
    // A probe always writes.
    let probe = ctx(Action::Monitor, &[], &[]);
    assert_eq!(l.monitor(&probe).unwrap(), Status::Success);
    assert_eq!(l.ctl.count("score test 1000"), 2);
}

#[test]
fn monitor_down_is_7_and_touches_nothing() {
    let dir = TempDir::new("down");
    let c = ctx(Action::Monitor, &[], &[]);
    let l = logic(Fake::default(), &dir, &c);
    assert_eq!(l.monitor(&c).unwrap(), Status::NotRunning);
    assert!(l.ctl.calls().is_empty());
}

#[test]
fn start_loads_brings_up_ends_secondary_and_scores() {
    let dir = TempDir::new("start");
    let c = ctx(Action::Start, &[], &[]);
    let l = logic(Fake::default(), &dir, &c);
    *l.ctl.dump.borrow_mut() = "net { allow-two-primaries yes; }".into();
    assert_eq!(l.start(&c).unwrap(), Status::Success);
    assert_eq!(
        l.ctl.calls(),
        [
            "modprobe",
            "drbdadm dump r0",
            "drbdadm up r0",
            "score test 10000"
        ]
    );
    // Already up and Primary (left over): adjust, then demoted to Secondary.
    let l = logic(
        Fake::up(connected(
            Role::Primary,
            DiskState::UpToDate,
            Role::Secondary,
            DiskState::UpToDate,
        )),
        &dir,
        &c,
    );
    assert_eq!(l.start(&c).unwrap(), Status::Success);
    assert_eq!(
        l.ctl.calls(),
        [
            "drbdadm dump r0",
            "drbdadm adjust r0",
            "secondary r0 [1]",
            "score test 10000"
        ]
    );
    assert_eq!(l.ctl.state.borrow().as_ref().unwrap().role, Role::Secondary);
}

#[test]
fn start_refuses_dual_primary_without_allow_two_primaries() {
    let dir = TempDir::new("a2p");
    let c = ctx(Action::Start, &[], &[]);
    let l = logic(
        Fake::up(status(Role::Secondary, DiskState::UpToDate, None)),
        &dir,
        &c,
    );
    *l.ctl.dump.borrow_mut() = "net { protocol C; }".into();
    let e = l.start(&c).unwrap_err();
    assert_eq!(e.status(), Status::ErrConfigured);
    assert!(e.reason().contains("allow-two-primaries"), "{e}");
}

#[test]
fn start_waits_for_the_peer_no_longer_than_wfc_timeout() {
    let dir = TempDir::new("wfc");
    let c = ctx(Action::Start, &[("wfc_timeout", "1")], &[]);
    let l = logic(
        Fake::up(status(Role::Secondary, DiskState::UpToDate, None)),
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
    assert_eq!(l.ctl.count("score test 1000"), 1, "peer unknown: 1000");
}

#[test]
fn promote_refused_without_uptodate_data_reports_the_kernel_reason_once() {
    let dir = TempDir::new("refuse");
    let c = ctx(Action::Promote, &[], &[]);
    let l = logic(
        Fake::up(status(Role::Secondary, DiskState::Inconsistent, None)),
        &dir,
        &c,
    );
    l.ctl.role_answers.borrow_mut().push_back(Some(-2));
    let t = Instant::now();
    let e = l.promote(&c).unwrap_err();
    assert_eq!(e.status(), Status::ErrGeneric);
    assert!(e.reason().contains("need access to UpToDate data"), "{e}");
    assert_eq!(
        l.ctl.count("primary"),
        1,
        "no retry of a refusal on the data itself"
    );
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "not reported in a tight loop"
    );
    assert_eq!(l.ctl.state.borrow().as_ref().unwrap().role, Role::Secondary);
}

#[test]
fn promote_retries_transient_refusals_then_succeeds() {
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
    l.ctl
        .role_answers
        .borrow_mut()
        .extend([Some(-19), Some(-18)]);
    assert_eq!(l.promote(&c).unwrap(), Status::Success);
    assert_eq!(l.ctl.count("primary r0 [1]"), 3);
    assert!(l.ctl.calls().contains(&"score test 10000".to_owned()));
    // Promote of a Primary is a no-op success.
    assert_eq!(l.promote(&c).unwrap(), Status::Success);
    assert_eq!(l.ctl.count("primary"), 3);
}

#[test]
fn demote_and_demote_of_a_stopped_resource() {
    let dir = TempDir::new("demote");
    let c = ctx(Action::Demote, &[], &[]);
    let l = logic(
        Fake::up(connected(
            Role::Primary,
            DiskState::UpToDate,
            Role::Primary,
            DiskState::UpToDate,
        )),
        &dir,
        &c,
    );
    assert_eq!(l.demote(&c).unwrap(), Status::Success);
    assert_eq!(l.ctl.count("secondary r0 [1]"), 1);
    let l = logic(Fake::default(), &dir, &c);
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

fn primary_up() -> Fake {
    Fake::up(connected(
        Role::Primary,
        DiskState::UpToDate,
        Role::Primary,
        DiskState::UpToDate,
    ))
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
    l.ctl
        .role_answers
        .borrow_mut()
        .extend(std::iter::repeat_n(Some(-12), 50));
    let t = Instant::now();
    let e = l.demote(&c).unwrap_err();
    assert!(e.reason().contains("held open"), "{e}");
    assert_retried_for_the_budget(l.ctl.count("secondary"), t.elapsed(), "demote");
    assert_eq!(l.ctl.state.borrow().as_ref().unwrap().role, Role::Primary);
    // Held open for a moment (udev, blkid after the unmount): the demote goes through.
    let c = held_open_ctx(Action::Demote);
    let l = logic(primary_up(), &dir, &c);
    l.ctl
        .role_answers
        .borrow_mut()
        .extend([Some(-12), Some(-12)]);
    assert_eq!(l.demote(&c).unwrap(), Status::Success);
    assert_eq!(l.ctl.count("secondary r0 [1]"), 3);
    assert_eq!(l.ctl.state.borrow().as_ref().unwrap().role, Role::Secondary);
}

#[test]
fn stop_retries_a_held_open_demote_and_down_until_the_deadline() {
    let dir = TempDir::new("held-open-stop");
    let c = held_open_ctx(Action::Stop);
    // Held open for a moment at both steps: stop still brings the resource down.
    let l = logic(primary_up(), &dir, &c);
    l.ctl.role_answers.borrow_mut().extend([Some(-12)]);
    *l.ctl.down_held_open.borrow_mut() = 1;
    assert_eq!(l.stop(&c).unwrap(), Status::Success);
    assert_eq!(l.ctl.count("secondary r0 [1]"), 2);
    assert_eq!(l.ctl.count("drbdadm down r0"), 2);
    assert!(l.ctl.state.borrow().is_none(), "down at last");
    // Held open for longer than the deadline: retried all along, then a failed stop that
    // says why (never 0 while the device is still up).
    let c = held_open_ctx(Action::Stop);
    let l = logic(primary_up(), &dir, &c);
    *l.ctl.down_held_open.borrow_mut() = 50;
    let t = Instant::now();
    let e = l.stop(&c).unwrap_err();
    assert_eq!(e.status(), Status::ErrGeneric);
    assert!(e.reason().contains("held open"), "{e}");
    assert_retried_for_the_budget(l.ctl.count("drbdadm down"), t.elapsed(), "down");
    assert!(
        l.ctl.state.borrow().is_some(),
        "still up: not reported stopped"
    );
}

#[test]
fn stop_demotes_downs_and_removes_the_score() {
    let dir = TempDir::new("stop");
    let c = ctx(Action::Stop, &[], &[]);
    let l = logic(
        Fake::up(connected(
            Role::Primary,
            DiskState::UpToDate,
            Role::Primary,
            DiskState::UpToDate,
        )),
        &dir,
        &c,
    );
    assert_eq!(l.stop(&c).unwrap(), Status::Success);
    assert_eq!(
        l.ctl.calls(),
        ["secondary r0 [1]", "drbdadm down r0", "score test delete"]
    );
    // Stopping a stopped resource is 0.
    assert_eq!(l.stop(&c).unwrap(), Status::Success);
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
        Fake::up(status(Role::Secondary, DiskState::UpToDate, None)),
        &dir,
        &c,
    );
    assert_eq!(l.notify(&c).unwrap(), Status::Success);
    assert_eq!(l.ctl.calls(), ["drbdadm adjust r0", "score test 1000"]);
    // Split brain: both Primary, link down. Logged; nothing promoted, nothing demoted.
    let sb = [
        ("OCF_RESKEY_CRM_meta_notify_type", "post"),
        ("OCF_RESKEY_CRM_meta_notify_operation", "promote"),
        ("OCF_RESKEY_CRM_meta_notify_promoted_uname", "node1 node2"),
        ("OCF_RESKEY_CRM_meta_on_node", "node1"),
    ];
    let c = ctx(Action::Notify, &[], &sb);
    let l = logic(
        Fake::up(status(Role::Primary, DiskState::UpToDate, None)),
        &dir,
        &c,
    );
    assert_eq!(l.notify(&c).unwrap(), Status::Success);
    assert_eq!(l.ctl.count("primary") + l.ctl.count("secondary"), 0);
    // Inconsistent data and a peer with nothing better: the score is removed, so Pacemaker
    // cannot promote this node.
    let c = ctx(Action::Notify, &[], &n);
    let l = logic(
        Fake::up(status(Role::Secondary, DiskState::Inconsistent, None)),
        &dir,
        &c,
    );
    assert_eq!(l.notify(&c).unwrap(), Status::Success);
    assert!(
        l.ctl.calls().contains(&"score test delete".to_owned()),
        "{:?}",
        l.ctl.calls()
    );
}

#[test]
fn validate_checks_meta_in_both_vocabularies() {
    let dir = TempDir::new("validate");
    let conf = dir.0.join("drbd.conf");
    std::fs::create_dir_all(&dir.0).unwrap();
    std::fs::write(&conf, "").unwrap();
    let conf = conf.to_str().unwrap().to_owned();
    let c = ctx(Action::ValidateAll, &[("drbdconf", &conf)], &[]);
    let l = logic(Fake::default(), &dir, &c);
    assert!(l.validate(&c).is_ok());
    let bad = ctx(
        Action::ValidateAll,
        &[("drbdconf", &conf)],
        &[
            ("OCF_RESKEY_CRM_meta_master_max", "3"),
            ("OCF_RESKEY_CRM_meta_promoted_max", ""),
        ],
    );
    let e = l.validate(&bad).unwrap_err();
    assert_eq!(e.status(), Status::ErrConfigured);
    assert!(e.reason().contains("promoted-max=\"3\""), "{e}");
    // A running resource whose net options refuse two primaries.
    let mut st = connected(
        Role::Secondary,
        DiskState::UpToDate,
        Role::Secondary,
        DiskState::UpToDate,
    );
    st.two_primaries = Some(false);
    let l = logic(Fake::up(st), &dir, &c);
    assert!(
        l.validate(&c)
            .unwrap_err()
            .reason()
            .contains("allow-two-primaries")
    );
    // Module outside the bounds: 5.
    let l = logic(
        Fake::up(connected(
            Role::Secondary,
            DiskState::UpToDate,
            Role::Secondary,
            DiskState::UpToDate,
        )),
        &dir,
        &ctx(
            Action::ValidateAll,
            &[
                ("drbdconf", &conf),
                ("require_drbd_module_version_ge", "9.0.0"),
            ],
            &[],
        ),
    );
    let c9 = ctx(
        Action::ValidateAll,
        &[
            ("drbdconf", &conf),
            ("require_drbd_module_version_ge", "9.0.0"),
        ],
        &[],
    );
    assert_eq!(l.validate(&c9).unwrap_err().status(), Status::ErrInstalled);
}

#[test]
fn score_cache_ignores_symlinks_and_old_entries() {
    let dir = TempDir::new("cache");
    std::fs::create_dir_all(&dir.0).unwrap();
    let cache = ScoreCache::new(dir.0.join("c"));
    assert_eq!(cache.get("WebData:0"), None);
    cache.put("WebData:0", Score::Set(10000)).unwrap();
    assert_eq!(cache.get("WebData:0"), Some(Score::Set(10000)));
    cache.put("WebData:0", Score::Remove).unwrap();
    assert_eq!(cache.get("WebData:0"), Some(Score::Remove));
    cache.clear("WebData:0");
    assert_eq!(cache.get("WebData:0"), None);
    // A symlink planted at the entry's name is neither followed for reading nor written through.
    let target = dir.0.join("target");
    std::fs::write(&target, "set 5\n").unwrap();
    let entry = dir.0.join("c").join("x.score");
    std::os::unix::fs::symlink(&target, &entry).unwrap();
    assert_eq!(cache.get("x"), None);
    cache.put("x", Score::Set(10)).unwrap();
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "set 5\n");
    assert_eq!(cache.get("x"), Some(Score::Set(10)));
    // A FIFO (which would block a plain open) or a hard link planted there is ignored.
    let fifo = dir.0.join("c").join("f.score");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
    assert_eq!(cache.get("f"), None);
    std::fs::hard_link(&target, dir.0.join("c").join("h.score")).unwrap();
    assert_eq!(cache.get("h"), None);
    // A directory that is a symlink is refused.
    let linked = ScoreCache::new(dir.0.join("linkdir"));
    std::os::unix::fs::symlink(dir.0.join("c"), dir.0.join("linkdir")).unwrap();
    assert!(linked.put("y", Score::Remove).is_err());
}
