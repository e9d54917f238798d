use super::*;
use crate::config::{RunFsck, mount_point, signals};
use nix::sys::signal::Signal;
use ocf::Action;
use ocf::testing::context;

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
    assert_eq!(c.settings.fstype, "gfs2");
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

#[test]
fn clones_of_local_filesystems_are_refused() {
    let clone = [("OCF_RESKEY_CRM_meta_clone_max", "2")];
    let c = parse(&[], &clone).unwrap();
    let e = checks::clone_safety(&c, true).unwrap_err();
    assert_eq!(e.status(), Status::ErrConfigured);
    assert!(e.reason().contains("ext4"), "{e}");
    assert!(checks::clone_safety(&c, false).is_ok());
    let forced = parse(&[("force_clones", "true")], &clone).unwrap();
    assert!(checks::clone_safety(&forced, true).is_ok());
    let ro = parse(&[("options", "ro")], &clone).unwrap();
    assert!(checks::clone_safety(&ro, true).is_ok());
    for fs in ["gfs2", "ocfs2", "nfs4"] {
        let c = parse(&[("fstype", fs)], &clone).unwrap();
        assert!(checks::clone_safety(&c, true).is_ok(), "{fs}");
    }
    for fs in ["xfs", "btrfs"] {
        let c = parse(&[("fstype", fs)], &clone).unwrap();
        assert!(checks::clone_safety(&c, true).is_err(), "{fs}");
    }
}

fn sb(proto: &str, table: &str) -> gfs2_superblock::Superblock {
    gfs2_superblock::Superblock {
        fs_format: 1802,
        block_size: 4096,
        lock_proto: proto.into(),
        lock_table: table.into(),
        uuid: [0; 16],
    }
}

#[test]
fn gfs2_lock_table_must_name_this_cluster() {
    let ok = sb("lock_dlm", "mycluster:web");
    assert!(checks::check_superblock(&ok, Some("mycluster"), true, "/dev/drbd1").is_ok());
    let e = checks::check_superblock(&ok, Some("other"), true, "/dev/drbd1").unwrap_err();
    assert_eq!(e.status(), Status::ErrConfigured);
    assert!(
        e.reason().contains("mycluster:web") && e.reason().contains("other"),
        "{e}"
    );
    let e = checks::check_superblock(&ok, None, false, "/dev/drbd1").unwrap_err();
    assert!(e.reason().contains("cluster_name"), "{e}");
    let nolock = sb("lock_nolock", "");
    assert!(checks::check_superblock(&nolock, None, false, "/dev/drbd1").is_ok());
    let e = checks::check_superblock(&nolock, Some("mycluster"), true, "/dev/drbd1").unwrap_err();
    assert!(e.reason().contains("lock_dlm"), "{e}");
}

#[test]
fn gfs2_superblock_from_mkfs_is_checked() {
    if !ocf_testkit::require_program("gfs2_superblock_from_mkfs", "mkfs.gfs2") {
        return;
    }
    let dir = std::env::temp_dir().join(format!("gfs2fs-unit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let img = dir.join("g.img");
    std::fs::File::create(&img)
        .unwrap()
        .set_len(300 << 20)
        .unwrap();
    let out = std::process::Command::new("mkfs.gfs2")
        .args(["-O", "-p", "lock_dlm", "-t", "mycluster:web", "-j", "2"])
        .arg(&img)
        .output()
        .unwrap();
    assert!(out.status.success());
    let sb = gfs2_superblock::Superblock::read(&img).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let conf = "totem {\n cluster_name: mycluster\n}\n";
    let cluster = corosync::cluster_name(conf);
    assert!(checks::check_superblock(&sb, cluster.as_deref(), true, "img").is_ok());
    assert!(checks::check_superblock(&sb, Some("webcluster"), true, "img").is_err());
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
                    assert_eq!(settings.fstype, "ext4", "the good settings are kept");
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
            assert_eq!(settings.fstype, "gfs2");
            assert!(!settings.fstype_known);
        }
        Resolution::Finish(r) => panic!("the probe did not run: {r:?}"),
    }
}
