//! Unit tests of parameter parsing and the fencing decision.

use super::*;
use ocf::Action;
use ocf::testing::{assert_params_match_metadata, context};
use pacemaker_cli::ClusterOptions;

fn agent(params: &[(&str, &str)]) -> Result<DlmControld> {
    build(&context::<DlmControld>(Action::Start, params, &[]))
}

/// The agent as `ocf::run` builds it for `ctx` (parameters parsed strictly).
fn build(ctx: &Context) -> Result<DlmControld> {
    let (identity, settings) = ocf::testing::parse::<DlmControld>(ctx)?;
    <DlmControld as ocf::Agent>::new(identity, settings, ctx)
}

#[test]
fn params_match_metadata() {
    assert_params_match_metadata::<DlmControld>(&[
        ("args", "-s 0"),
        ("daemon", "dlm_controld"),
        ("allow_fencing_disabled", "true"),
        ("allow_stonith_disabled", "false"),
    ]);
}

#[test]
fn defaults_are_controlds() {
    let a = agent(&[]).unwrap();
    assert_eq!(a.settings.args, ["-s", "0"]);
    assert_eq!(a.identity.daemon, "dlm_controld");
    assert!(!a.settings.allow_fencing_disabled);
}

#[test]
fn args_are_split_without_a_shell_and_bad_quoting_is_a_config_error() {
    let a = agent(&[("args", r#"-s 0 --debug_logfile "x y""#)]).unwrap();
    assert_eq!(a.settings.args, ["-s", "0", "--debug_logfile", "x y"]);
    let e = agent(&[("args", "-s '0")]).unwrap_err();
    assert_eq!(e.status(), Status::ErrConfigured);
    assert!(
        e.reason().contains("args=") && e.reason().contains("unterminated"),
        "{e}"
    );
}

#[test]
fn the_deprecated_switch_still_allows() {
    assert!(
        agent(&[("allow_stonith_disabled", "true")])
            .unwrap()
            .settings
            .allow_fencing_disabled
    );
    assert!(
        agent(&[("allow_fencing_disabled", "yes")])
            .unwrap()
            .settings
            .allow_fencing_disabled
    );
    let e = agent(&[("allow_fencing_disabled", "maybe")]).unwrap_err();
    assert_eq!(e.status(), Status::ErrConfigured);
}

/// `cibadmin --query --scope crm_config` of the tutorial's cluster on Pacemaker 2.1.
const PCMK_21_NO_FENCING: &str = r#"<crm_config>
  <cluster_property_set id="cib-bootstrap-options">
    <nvpair id="cib-bootstrap-options-stonith-enabled" name="stonith-enabled" value="false"/>
    <nvpair id="cib-bootstrap-options-no-quorum-policy" name="no-quorum-policy" value="freeze"/>
  </cluster_property_set>
</crm_config>"#;

/// Pacemaker 3's name for the option.
const PCMK_3_NO_FENCING: &str = r#"<crm_config>
  <cluster_property_set id="cib-bootstrap-options">
    <nvpair id="o-fe" name="fencing-enabled" value="false"/>
  </cluster_property_set>
</crm_config>"#;

const FENCING_ON: &str = r#"<crm_config>
  <cluster_property_set id="cib-bootstrap-options">
    <nvpair id="o-se" name="stonith-enabled" value="true"/>
  </cluster_property_set>
</crm_config>"#;

fn options(xml: &str) -> ClusterOptions {
    ClusterOptions::parse(xml).unwrap()
}

#[test]
fn fencing_off_and_not_allowed_is_refused_with_the_reason() {
    for args in ["-s 0", "-s 0 --enable_fencing 0"] {
        let a = agent(&[("args", args)]).unwrap();
        for xml in [PCMK_21_NO_FENCING, PCMK_3_NO_FENCING] {
            let e = a.argv_for_options(&options(xml)).unwrap_err();
            assert_eq!(e.status(), Status::ErrConfigured);
            assert!(e.reason().contains("fencing is disabled"), "{e}");
            assert!(e.reason().contains("allow_fencing_disabled"), "{e}");
            // The lab found the switch's name cut off in `pcs status`: Pacemaker keeps only
            // 128 characters of an exit reason.
            assert!(
                e.reason().len() <= 128,
                "{} characters: {e}",
                e.reason().len()
            );
        }
    }
}

/// Issue 13: allow_fencing_disabled only lets the daemon start. With the daemon's own
/// fencing left on, a partition freezes GFS2 instead of letting both sides write it.
#[test]
fn fencing_off_and_allowed_keeps_the_daemons_own_fencing() {
    for switch in ["allow_fencing_disabled", "allow_stonith_disabled"] {
        let a = agent(&[(switch, "true")]).unwrap();
        for xml in [PCMK_21_NO_FENCING, PCMK_3_NO_FENCING] {
            let plan = a.argv_for_options(&options(xml)).unwrap();
            assert_eq!(
                plan.argv,
                ["-s", "0"],
                "{switch}: args as given, nothing added"
            );
            assert_eq!(args::enable_fencing(&plan.argv), None);
            assert!(
                plan.warnings.iter().any(|w| w == DAEMON_FENCING_KEPT),
                "the freeze to expect is logged: {:?}",
                plan.warnings
            );
        }
    }
}

/// Turning the daemon's fencing off is the administrator's choice, in args: passed on as
/// given, and logged at every start as the risk it is, whatever the cluster's setting.
#[test]
fn enable_fencing_0_in_args_is_passed_on_and_logged_as_a_risk() {
    for args in ["-s 0 --enable_fencing 0", "-s 0 -f0"] {
        let a = agent(&[("allow_fencing_disabled", "true"), ("args", args)]).unwrap();
        for xml in [PCMK_21_NO_FENCING, FENCING_ON] {
            let plan = a.argv_for_options(&options(xml)).unwrap();
            assert_eq!(plan.argv, a.settings.args);
            assert!(
                plan.warnings.iter().any(|w| w == DAEMON_FENCING_OFF_RISK),
                "{args} with {xml}: {:?}",
                plan.warnings
            );
            assert!(!plan.warnings.iter().any(|w| w == DAEMON_FENCING_KEPT));
        }
    }
    let on = agent(&[("allow_fencing_disabled", "true"), ("args", "-s 0 -f 1")]).unwrap();
    let plan = on.argv_for_options(&options(PCMK_21_NO_FENCING)).unwrap();
    assert_eq!(plan.argv, ["-s", "0", "-f", "1"]);
    assert!(!plan.warnings.iter().any(|w| w == DAEMON_FENCING_OFF_RISK));
}

#[test]
fn fencing_on_keeps_args_as_given() {
    let a = agent(&[("allow_fencing_disabled", "true")]).unwrap();
    let plan = a.argv_for_options(&options(FENCING_ON)).unwrap();
    assert_eq!(plan.argv, ["-s", "0"]);
    assert!(
        !plan.warnings.iter().any(|w| w.contains("fencing")),
        "{:?}",
        plan.warnings
    );
    assert_eq!(
        agent(&[])
            .unwrap()
            .argv_for_options(&options("<crm_config/>"))
            .unwrap()
            .argv,
        ["-s", "0"],
        "unset means Pacemaker's default: fencing on"
    );
}

#[test]
fn validate_refuses_unique_clones_and_missing_daemons() {
    let unique = context::<DlmControld>(
        Action::ValidateAll,
        &[("daemon", "sh")],
        &[("OCF_RESKEY_CRM_meta_globally_unique", "true")],
    );
    let a = build(&unique).unwrap();
    let e = ocf::Agent::validate(&a, &unique).unwrap_err();
    assert_eq!(e.status(), Status::ErrConfigured);
    assert!(e.reason().contains("globally-unique"), "{e}");

    let missing = context::<DlmControld>(
        Action::ValidateAll,
        &[("daemon", "no_such_dlm_controld")],
        &[],
    );
    let a = build(&missing).unwrap();
    let e = ocf::Agent::validate(&a, &missing).unwrap_err();
    assert_eq!(e.status(), Status::ErrInstalled);
    assert!(e.reason().contains("no_such_dlm_controld"), "{e}");

    let fine = context::<DlmControld>(Action::ValidateAll, &[("daemon", "sh")], &[]);
    let a = build(&fine).unwrap();
    assert!(ocf::Agent::validate(&a, &fine).is_ok());
}

#[test]
fn stop_is_refused_while_lockspaces_exist_and_clean_when_stopped() {
    let root = std::env::temp_dir().join(format!("dlm-agent-stop-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("proc")).unwrap();
    let ctx = context::<DlmControld>(Action::Stop, &[], &[]);
    let mut a = build(&ctx).unwrap();
    a.kernel = Kernel::at(&root);
    a.proc_root = root.join("proc");
    assert_eq!(
        ocf::Agent::stop(&a, &ctx),
        Ok(Status::Success),
        "nothing runs"
    );
    assert_eq!(ocf::Agent::monitor(&a, &ctx), Ok(Status::NotRunning));
    std::fs::create_dir_all(root.join("sys/kernel/dlm/web")).unwrap();
    let e = ocf::Agent::stop(&a, &ctx).unwrap_err();
    assert_eq!(e.status(), Status::ErrGeneric);
    assert!(
        e.reason().contains("lockspaces web") && e.reason().contains("GFS2"),
        "{e}"
    );
    std::fs::remove_dir_all(&root).unwrap();
}
