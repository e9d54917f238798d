//! The configuration, in the two tiers `ocf` asks for: the identity (`device` and
//! `directory`: what is mounted where) and the settings (everything else). Each is parsed
//! once from `ocf::Params`; every default comes from the metadata XML, none is written here.

pub mod fstype;
mod source;

pub use fstype::FsType;

use mounts::{DeviceSpec, MountOptions};
use nix::sys::signal::Signal;
use ocf::{Context, Error, Params, Result};
use std::path::{Component, Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

/// When to run fsck before mounting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunFsck {
    Auto,
    Force,
    No,
}

/// What stop may do to processes that keep the mount busy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForceUnmount {
    /// Signal them.
    True,
    /// Signal them, and call nothing that can block on a dead filesystem.
    Safe,
    /// Never signal; a busy mount fails the stop.
    False,
}

/// What finds the resource on this node: the filesystem's source and its mount point.
#[derive(Debug, Clone)]
pub struct Identity {
    pub device: String,
    pub spec: DeviceSpec,
    pub directory: PathBuf,
}

impl ocf::Identity for Identity {
    const PARAMS: &'static [&'static str] = &["device", "directory"];

    fn parse(p: &Params, _ctx: &Context) -> Result<Identity> {
        let device = p.required("device")?;
        if device.trim() != device {
            return Err(Error::bad_param(
                "device",
                &device,
                "leading or trailing whitespace",
            ));
        }
        let directory = mount_point(&p.required("directory")?)?;
        let spec = DeviceSpec::parse(&device);
        source::check_device_form(&device, &spec)?;
        Ok(Identity {
            device,
            spec,
            directory,
        })
    }
}

/// Everything else, typed.
#[derive(Debug, Clone)]
pub struct Settings {
    pub fstype: FsType,
    /// False when `fstype` was refused and the default stands in (the bad-configuration
    /// rule): the mounted filesystem's type is then not judged by it.
    pub fstype_known: bool,
    pub options_text: String,
    pub options: MountOptions,
    pub statusfile_prefix: String,
    pub run_fsck: RunFsck,
    pub fast_stop: bool,
    pub force_clones: bool,
    pub force_unmount: ForceUnmount,
    pub term_signals: Vec<Signal>,
    pub kill_signals: Vec<Signal>,
    pub signal_delay: Duration,
}

impl ocf::Settings<Identity> for Settings {
    fn parse(p: &Params, identity: &Identity, ctx: &Context) -> Result<Settings> {
        let name = p.required("fstype")?;
        source::check_fstype(&name)?;
        let fstype = FsType::new(&name);
        let fstype_known = !p.is_rejected("fstype");
        // The device is judged against the XML default fstype only where a configuration
        // takes effect (validate-all, start: 6 naming fstype). Probe, monitor and stop must
        // parse from the defaults alone (ocf::config), and a default the administrator never
        // wrote is no value the rule could reject: judged there, `device=rbd1` without an
        // fstype made every stop an internal error (exit 1: a fenced node).
        let judge_device =
            fstype_known && (p.is_set("fstype") || ocf::config::refuses_bad_settings(ctx.action));
        if judge_device {
            source::check_device_type(&identity.device, &identity.spec, &fstype)?;
        }
        let options_text = p.string("options").unwrap_or_default();
        if options_text.contains(['\n', '\0']) {
            return Err(Error::bad_param(
                "options",
                &options_text,
                "control characters",
            ));
        }
        let options = MountOptions::parse(&options_text);
        if options.flags.contains(nix::mount::MsFlags::MS_MOVE) {
            return Err(Error::bad_param(
                "options",
                &options_text,
                "move is not a mount option for a resource",
            ));
        }
        let statusfile_prefix = p.required("statusfile_prefix")?;
        if statusfile_prefix.starts_with('/')
            || Path::new(&statusfile_prefix)
                .components()
                .any(|c| c == Component::ParentDir)
        {
            return Err(Error::bad_param(
                "statusfile_prefix",
                &statusfile_prefix,
                "must be relative to the mount point, without ..",
            ));
        }
        let run_fsck = match p.choice("run_fsck", &["auto", "force", "no"])?.as_deref() {
            Some("force") => RunFsck::Force,
            Some("no") => RunFsck::No,
            _ => RunFsck::Auto,
        };
        let signal_delay = p.duration("signal_delay", Duration::from_secs(1))?;
        if signal_delay > Duration::from_secs(300) {
            return Err(Error::bad_param(
                "signal_delay",
                p.raw("signal_delay").unwrap_or_default(),
                "more than 300 s",
            ));
        }
        Ok(Settings {
            fstype,
            fstype_known,
            options_text,
            options,
            statusfile_prefix,
            run_fsck,
            fast_stop: p.bool("fast_stop")?,
            force_clones: p.bool("force_clones")?,
            force_unmount: force_unmount(&p.required("force_unmount")?)?,
            term_signals: signals("term_signals", &p.required("term_signals")?)?,
            kill_signals: signals("kill_signals", &p.required("kill_signals")?)?,
            signal_delay,
        })
    }
}

/// The configuration the actions work with.
#[derive(Debug, Clone)]
pub struct Config {
    pub identity: Identity,
    pub settings: Settings,
}

impl Config {
    /// True for a bind mount (`options=bind` or `fstype=none`).
    pub fn is_bind(&self) -> bool {
        self.settings.options.is_bind() || self.settings.fstype.is_bind()
    }

    /// True when `device` names a local block device (not a bind, remote or virtual
    /// source): the resource is then that device's filesystem, wherever it is mounted.
    pub fn is_block(&self) -> bool {
        self.identity.spec.is_local() && !self.is_bind()
    }
}

/// The mount point, normalised by its text (trailing slashes, `//`, `.`) and with its parent
/// directory canonicalised. The mount point itself is never stat()ed: on a dead filesystem
/// that would hang.
pub fn mount_point(raw: &str) -> Result<PathBuf> {
    let bad = |why: &str| Error::bad_param("directory", raw, why);
    if !raw.starts_with('/') {
        return Err(bad("not an absolute path"));
    }
    let mut clean = PathBuf::from("/");
    for c in Path::new(raw).components() {
        match c {
            Component::Normal(n) => clean.push(n),
            Component::ParentDir => return Err(bad("contains ..")),
            _ => {}
        }
    }
    let (Some(parent), Some(name)) = (clean.parent(), clean.file_name()) else {
        return Err(bad("the root directory cannot be a resource"));
    };
    let parent = std::fs::canonicalize(parent).unwrap_or_else(|_| parent.to_path_buf());
    Ok(parent.join(name))
}

/// `force_unmount`: true, safe or false, with Filesystem's modifiers (`safe,nomove`).
fn force_unmount(raw: &str) -> Result<ForceUnmount> {
    let mut words = raw.split(',').map(str::trim);
    let mode = match words.next().map(str::to_ascii_lowercase).as_deref() {
        Some("safe") => ForceUnmount::Safe,
        Some(w) => match ocf::params::parse_bool(w) {
            Some(true) => ForceUnmount::True,
            Some(false) => ForceUnmount::False,
            None => {
                return Err(Error::bad_param(
                    "force_unmount",
                    raw,
                    "expected true, safe or false",
                ));
            }
        },
        None => ForceUnmount::True,
    };
    for w in words {
        if !matches!(
            w,
            "move" | "nomove" | "xargs" | "noxargs" | "ps" | "nops" | ""
        ) {
            return Err(Error::bad_param(
                "force_unmount",
                raw,
                format!("unknown modifier {}", ocf::error::printable(w)),
            ));
        }
        log::debug!("force_unmount modifier {w} has no effect here");
    }
    Ok(mode)
}

/// A list of signals: names (`TERM`, `SIGTERM`) or numbers, separated by commas or spaces.
pub fn signals(name: &str, raw: &str) -> Result<Vec<Signal>> {
    let list: Vec<Signal> = raw
        .split([',', ' ', '\t'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let upper = w.to_ascii_uppercase();
            let parsed = if let Ok(n) = w.parse::<i32>() {
                Signal::try_from(n).ok()
            } else if upper.starts_with("SIG") {
                Signal::from_str(&upper).ok()
            } else {
                Signal::from_str(&format!("SIG{upper}")).ok()
            };
            parsed.ok_or_else(|| {
                Error::bad_param(
                    name,
                    raw,
                    format!("{} is not a signal", ocf::error::printable(w)),
                )
            })
        })
        .collect::<Result<_>>()?;
    if list.is_empty() {
        return Err(Error::bad_param(name, raw, "no signal given"));
    }
    Ok(list)
}

#[cfg(test)]
mod tests;
