//! The configuration, in the two tiers `ocf` asks for: the identity (`daemon`, the program
//! whose process is the resource) and the settings (`args` and the fencing switch). Each is
//! parsed once from `ocf::Params`; defaults come from the metadata XML only.

use crate::args;
use ocf::{Context, Error, Params, Result};

/// What finds the resource on this node: the daemon's program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// `daemon` as given: a program name looked up on PATH (then /usr/sbin, /sbin), or an
    /// absolute path.
    pub daemon: String,
}

impl ocf::Identity for Identity {
    const PARAMS: &'static [&'static str] = &["daemon"];

    fn parse(p: &Params, _ctx: &Context) -> Result<Identity> {
        let daemon = p.required("daemon")?;
        check_daemon(&daemon).map_err(|why| Error::bad_param("daemon", &daemon, why))?;
        Ok(Identity { daemon })
    }
}

/// `daemon` names one program: a file name, or an absolute path to a file.
fn check_daemon(daemon: &str) -> std::result::Result<(), &'static str> {
    if daemon.chars().any(char::is_control) {
        return Err("control characters in a program name");
    }
    if daemon.contains('/') && !daemon.starts_with('/') {
        return Err("a relative path: give a program name or an absolute path");
    }
    if daemon.ends_with('/') || daemon.trim().is_empty() {
        return Err("names no program");
    }
    Ok(())
}

/// Everything else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `args` split into words.
    pub args: Vec<String>,
    /// allow_fencing_disabled, or its deprecated name allow_stonith_disabled.
    pub allow_fencing_disabled: bool,
}

impl ocf::Settings<Identity> for Settings {
    fn parse(p: &Params, _identity: &Identity, _ctx: &Context) -> Result<Settings> {
        let raw_args = p.string("args").unwrap_or_default();
        let args = args::split(&raw_args).map_err(|e| Error::bad_param("args", &raw_args, e))?;
        let allow_new = p.bool("allow_fencing_disabled")?;
        let allow_old = p.bool("allow_stonith_disabled")?;
        if p.is_set("allow_stonith_disabled") {
            log::warn!(
                "parameter allow_stonith_disabled is deprecated: use allow_fencing_disabled instead"
            );
        }
        Ok(Settings {
            args,
            allow_fencing_disabled: allow_new || allow_old,
        })
    }
}

/// The configuration the actions work with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub identity: Identity,
    pub settings: Settings,
}

#[cfg(test)]
mod tests;
