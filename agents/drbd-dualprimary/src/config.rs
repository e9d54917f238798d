//! The configuration, in the two tiers `ocf` asks for: the identity (`drbd_resource`, the
//! DRBD resource the kernel knows by that name) and the settings (everything else). Each is
//! parsed once from `ocf::Params`; defaults come from the metadata XML only.

use crate::checks::{self, Ladder};
use crate::score::PeerPrimaryPolicy;
use ocf::{Context, Error, Params, Result};
use std::time::Duration;

/// What finds the resource on this node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// `drbd_resource`.
    pub resource: String,
}

impl ocf::Identity for Identity {
    const PARAMS: &'static [&'static str] = &["drbd_resource"];

    fn parse(p: &Params, _ctx: &Context) -> Result<Identity> {
        let resource = p.required("drbd_resource")?;
        checks::check_resource_name(&resource)?;
        Ok(Identity { resource })
    }
}

/// Everything else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub conf: String,
    pub ladder: Ladder,
    pub stop_outdates_secondary: bool,
    pub ignore_missing_notifications: bool,
    /// None: do not wait for the peer on start.
    pub wfc_timeout: Option<Duration>,
    pub peer_primary: PeerPrimaryPolicy,
    pub fail_promote_early_if_peer_primary: bool,
    pub unfence_if_all_uptodate: bool,
    pub unfence_extra_args: String,
    pub version_ge: Vec<u32>,
    pub version_lt: Vec<u32>,
    pub connect_only_after_promote: bool,
}

impl ocf::Settings<Identity> for Settings {
    fn parse(p: &Params, _identity: &Identity, _ctx: &Context) -> Result<Settings> {
        let conf = p.string("drbdconf").unwrap_or_default();
        if conf.is_empty() || !conf.starts_with('/') {
            return Err(Error::bad_param(
                "drbdconf",
                &conf,
                "must be an absolute path",
            ));
        }
        let ladder = checks::parse_ladder(&p.string("adjust_master_score").unwrap_or_default())?;
        // LINBIT: "empty or non-digits means don't wait".
        let wfc_timeout = p
            .string("wfc_timeout")
            .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|t| t.parse::<u64>().ok())
            .filter(|s| *s > 0)
            .map(Duration::from_secs);
        let peer_primary = match p
            .string("remove_master_score_if_peer_primary")
            .unwrap_or_default()
            .to_ascii_lowercase()
            .as_str()
        {
            "unexpected" => PeerPrimaryPolicy::Unexpected,
            v => match ocf::params::parse_bool(v) {
                Some(true) => PeerPrimaryPolicy::Always,
                Some(false) => PeerPrimaryPolicy::Never,
                None => {
                    return Err(Error::bad_param(
                        "remove_master_score_if_peer_primary",
                        v,
                        "expected false, true or unexpected",
                    ));
                }
            },
        };
        let version = |name: &str| checks::parse_version(name, &p.string(name).unwrap_or_default());
        Ok(Settings {
            conf,
            ladder,
            stop_outdates_secondary: p.bool("stop_outdates_secondary")?,
            ignore_missing_notifications: p.bool("ignore_missing_notifications")?,
            wfc_timeout,
            peer_primary,
            fail_promote_early_if_peer_primary: p.bool("fail_promote_early_if_peer_primary")?,
            unfence_if_all_uptodate: p.bool("unfence_if_all_uptodate")?,
            unfence_extra_args: p.string("unfence_extra_args").unwrap_or_default(),
            version_ge: version("require_drbd_module_version_ge")?,
            version_lt: version("require_drbd_module_version_lt")?,
            connect_only_after_promote: p.bool("connect_only_after_promote")?,
        })
    }
}
