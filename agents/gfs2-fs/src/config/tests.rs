use super::*;
use crate::Agent;
use ocf::testing::context;
use ocf::{Action, Status};

const BASE: [(&str, &str); 3] = [
    ("device", "/dev/drbd1"),
    ("directory", "/var/www/html"),
    ("fstype", "ext4"),
];

fn parse(extra: &[(&str, &str)], vars: &[(&str, &str)]) -> Result<Config> {
    let mut params: Vec<(&str, &str)> = BASE.to_vec();
    params.retain(|(k, _)| !extra.iter().any(|(e, _)| e == k));
    params.extend_from_slice(extra);
    let ctx = context::<Agent>(Action::ValidateAll, &params, vars);
    let (identity, settings) = ocf::testing::parse::<Agent>(&ctx)?;
    Ok(Config { identity, settings })
}

#[test]
fn params_match_metadata() {
    ocf::testing::assert_params_match_metadata::<Agent>(&BASE);
}

#[test]
fn defaults_are_filesystems() {
    let c = parse(&[("fstype", "")], &[]).unwrap();
    assert_eq!(c.settings.fstype, FsType::new("gfs2"));
    assert_eq!(c.settings.statusfile_prefix, ".Filesystem_status/");
    assert_eq!(c.settings.run_fsck, RunFsck::Auto);
    assert_eq!(c.settings.force_unmount, ForceUnmount::True);
    assert_eq!(c.settings.term_signals, [Signal::SIGTERM]);
    assert_eq!(c.settings.kill_signals, [Signal::SIGKILL]);
    assert_eq!(c.settings.signal_delay, Duration::from_secs(1));
    assert!(!c.settings.fast_stop && !c.settings.force_clones);
}

#[test]
fn bad_values_are_6_naming_the_parameter() {
    for (name, value) in [
        ("directory", "relative/dir"),
        ("directory", "/"),
        ("directory", "///"),
        ("directory", "/srv/../etc"),
        ("device", " /dev/sdb1"),
        ("device", ""),
        ("fstype", "ext4 xfs"),
        ("fstype", "a\tb\u{1}c"),
        ("fstype", "\\x00%00"),
        ("device", "$(touch /tmp/pwned)"),
        ("device", "; rm -rf /"),
        ("device", "server:/export"),
        ("force_unmount", "maybe"),
        ("force_unmount", "safe,explode"),
        ("term_signals", "TERM,NOPE"),
        ("kill_signals", "99"),
        ("kill_signals", ","),
        ("signal_delay", "soon"),
        ("signal_delay", "1h"),
        ("run_fsck", "sometimes"),
        ("fast_stop", "perhaps"),
        ("force_clones", "2"),
        ("statusfile_prefix", "/etc/"),
        ("statusfile_prefix", "../x"),
        ("options", "move"),
    ] {
        let e = parse(&[(name, value)], &[]).unwrap_err();
        assert_eq!(e.status(), Status::ErrConfigured, "{name}={value}: {e}");
        assert!(e.reason().contains(name), "{name}={value}: {e}");
    }
}

#[test]
fn accepted_spellings() {
    let c = parse(
        &[
            ("force_unmount", "safe,nomove"),
            ("term_signals", "SIGTERM, HUP 2"),
            ("signal_delay", "500ms"),
            ("run_fsck", "force"),
            ("fast_stop", "yes"),
        ],
        &[],
    )
    .unwrap();
    assert_eq!(c.settings.force_unmount, ForceUnmount::Safe);
    assert_eq!(
        c.settings.term_signals,
        [Signal::SIGTERM, Signal::SIGHUP, Signal::SIGINT]
    );
    assert_eq!(c.settings.signal_delay, Duration::from_millis(500));
    assert_eq!(c.settings.run_fsck, RunFsck::Force);
    assert!(c.settings.fast_stop);
    assert_eq!(
        parse(&[("force_unmount", "no")], &[])
            .unwrap()
            .settings
            .force_unmount,
        ForceUnmount::False
    );
    assert_eq!(signals("x", "kill").unwrap(), [Signal::SIGKILL]);
}

#[test]
fn mount_point_is_normalised_by_text() {
    assert_eq!(
        mount_point("/nonexistent-dir//web/./html///").unwrap(),
        PathBuf::from("/nonexistent-dir/web/html")
    );
    // The parent is canonicalised (symlinks resolved), the last component is not touched.
    let tmp = std::env::temp_dir().canonicalize().unwrap();
    assert_eq!(
        mount_point(&format!("{}/x", tmp.display())).unwrap(),
        tmp.join("x")
    );
}

#[test]
fn options_become_flags_and_data() {
    let c = parse(&[("options", "noatime,nodev,errors=remount-ro")], &[]).unwrap();
    assert!(
        c.settings
            .options
            .flags
            .contains(nix::mount::MsFlags::MS_NOATIME)
    );
    assert_eq!(c.settings.options.data, "errors=remount-ro");
}

/// The bad-configuration rule (ocf::config) for gfs2-fs, with issue 13's typos: a bad setting
/// fails validate-all and start, while probe, monitor and stop go on with the XML default
/// (a mounted filesystem is still found and still unmounted).
#[test]
fn a_typo_in_a_setting_fails_start_but_not_probe_monitor_or_stop() {
    use ocf::config::Resolution;
    for typo in [("run_fsck", "yes"), ("force_unmount", "perhaps")] {
        let mut params = BASE.to_vec();
        params.push(typo);
        let recurring = [("OCF_RESKEY_CRM_meta_interval", "20000")];
        for (action, vars) in [
            (Action::Monitor, &[][..]),
            (Action::Monitor, &recurring[..]),
            (Action::Stop, &[][..]),
        ] {
            let ctx = context::<Agent>(action, &params, vars);
            match ocf::testing::resolve::<Agent>(&ctx) {
                Resolution::Run(identity, settings) => {
                    assert_eq!(identity.directory, PathBuf::from("/var/www/html"));
                    assert_eq!(settings.run_fsck, RunFsck::Auto, "{typo:?}");
                    assert_eq!(settings.force_unmount, ForceUnmount::True, "{typo:?}");
                    assert_eq!(settings.fstype.name(), "ext4", "the good settings are kept");
                }
                Resolution::Finish(r) => panic!("{action} with {typo:?} did not run: {r:?}"),
            }
        }
        for action in [Action::ValidateAll, Action::Start] {
            let ctx = context::<Agent>(action, &params, &[]);
            match ocf::testing::resolve::<Agent>(&ctx) {
                Resolution::Finish(Err(e)) => {
                    assert_eq!(e.status(), Status::ErrConfigured, "{action}");
                    assert!(e.reason().contains(typo.0), "{e}");
                }
                other => panic!("{action} with {typo:?} must refuse: {other:?}"),
            }
        }
    }
}

/// A bad fstype in a probe: the default (gfs2) stands in, but the mounted filesystem's type is
/// not judged by it, so a mounted ext4 is still reported as ours.
#[test]
fn a_rejected_fstype_is_not_used_to_judge_the_mount() {
    use ocf::config::Resolution;
    let ctx = context::<Agent>(
        Action::Monitor,
        &[("fstype", "ext4 xfs"), BASE[0], BASE[1]],
        &[],
    );
    match ocf::testing::resolve::<Agent>(&ctx) {
        Resolution::Run(_, settings) => {
            assert_eq!(settings.fstype.name(), "gfs2");
            assert!(!settings.fstype_known);
        }
        Resolution::Finish(r) => panic!("the probe did not run: {r:?}"),
    }
}

/// Issue 13: `pcs resource create` without `op` creates every monitor the metadata lists.
/// Depth 20 writes into the filesystem (the tutorial's web document root), so the metadata
/// lists depth 0 only, as ocf:heartbeat:Filesystem does; deeper checks are opt-in.
#[test]
fn the_metadata_offers_only_the_depth_0_monitor() {
    let metadata = ocf::Metadata::parse(<Agent as ocf::Agent>::METADATA).unwrap();
    let monitors: Vec<(Option<&str>, Option<&str>)> = metadata
        .actions
        .iter()
        .filter(|a| a.name == "monitor" || a.name == "status")
        .map(|a| (a.depth.as_deref(), a.interval.as_deref()))
        .collect();
    assert_eq!(monitors, [(Some("0"), Some("20s"))]);
}

/// Found by fuzzing ocf_env (fuzz/regressions/ocf_env): a device the default fstype (gfs2)
/// does not take, with no fstype given, made the settings fail from their defaults, so probe
/// and stop ended in an internal error (a failed stop: fencing). validate-all and start still
/// refuse it naming fstype.
#[test]
fn a_device_the_default_fstype_does_not_take_fails_start_not_stop() {
    use ocf::config::Resolution;
    let params = [("device", "rbd1"), ("directory", "/var/www/html")];
    for action in [Action::Monitor, Action::Stop] {
        let ctx = context::<Agent>(action, &params, &[]);
        match ocf::testing::resolve::<Agent>(&ctx) {
            Resolution::Run(_, settings) => assert_eq!(settings.fstype.name(), "gfs2"),
            Resolution::Finish(r) => panic!("{action} did not run: {r:?}"),
        }
    }
    for action in [Action::ValidateAll, Action::Start] {
        let ctx = context::<Agent>(action, &params, &[]);
        match ocf::testing::resolve::<Agent>(&ctx) {
            Resolution::Finish(Err(e)) => {
                assert_eq!(e.status(), Status::ErrConfigured, "{action}");
                assert!(e.reason().contains("fstype=\"gfs2\""), "{e}");
            }
            other => panic!("{action} must refuse: {other:?}"),
        }
    }
}
