//! Parameter parsing, without privileges.

use super::*;
use crate::Agent;
use ocf::{Action, Status, testing};

fn config(params: &[(&str, &str)]) -> Result<Config> {
    let ctx = testing::context::<Agent>(Action::ValidateAll, params, &[]);
    let (identity, settings) = testing::parse::<Agent>(&ctx)?;
    Ok(Config { identity, settings })
}

#[test]
fn params_match_metadata() {
    testing::assert_params_match_metadata::<Agent>(&[
        ("args", "-s 0"),
        ("daemon", "dlm_controld"),
        ("allow_fencing_disabled", "true"),
        ("allow_stonith_disabled", "false"),
    ]);
}

#[test]
fn defaults_are_controlds() {
    let c = config(&[]).unwrap();
    assert_eq!(c.settings.args, ["-s", "0"]);
    assert_eq!(c.identity.daemon, "dlm_controld");
    assert!(!c.settings.allow_fencing_disabled);
}

#[test]
fn args_are_split_without_a_shell_and_bad_quoting_is_a_config_error() {
    let c = config(&[("args", r#"-s 0 --debug_logfile "x y""#)]).unwrap();
    assert_eq!(c.settings.args, ["-s", "0", "--debug_logfile", "x y"]);
    let e = config(&[("args", "-s '0")]).unwrap_err();
    assert_eq!(e.status(), Status::ErrConfigured);
    assert_eq!(e.param(), Some("args"));
    assert!(
        e.reason().contains("args=") && e.reason().contains("unterminated"),
        "{e}"
    );
}

#[test]
fn the_deprecated_switch_still_allows() {
    let allowed = |p: &[(&str, &str)]| config(p).unwrap().settings.allow_fencing_disabled;
    assert!(allowed(&[("allow_stonith_disabled", "true")]));
    assert!(allowed(&[("allow_fencing_disabled", "yes")]));
    assert!(!allowed(&[("allow_stonith_disabled", "false")]));
    let e = config(&[("allow_fencing_disabled", "maybe")]).unwrap_err();
    assert_eq!(e.status(), Status::ErrConfigured);
    assert_eq!(e.param(), Some("allow_fencing_disabled"));
}

#[test]
fn daemon_is_a_name_or_an_absolute_path() {
    for good in [
        "dlm_controld",
        "/usr/sbin/dlm_controld",
        "/opt/dlm 4/dlm_controld",
    ] {
        assert_eq!(config(&[("daemon", good)]).unwrap().identity.daemon, good);
    }
    for bad in [
        "sbin/dlm_controld",
        "./dlm_controld",
        "/usr/sbin/",
        "a\nb",
        " ",
    ] {
        let e = config(&[("daemon", bad)]).unwrap_err();
        assert_eq!(e.status(), Status::ErrConfigured, "{bad:?}");
        assert_eq!(e.param(), Some("daemon"), "{bad:?}");
    }
}
