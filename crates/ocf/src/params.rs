//! Typed instance parameters, checked against the agent's metadata.
//!
//! Every getter takes the parameter's name as the XML spells it, falls back to the XML's
//! default, and turns a bad value into OCF_ERR_CONFIGURED with a reason that names the
//! parameter and the value. The names an agent reads are recorded, so a test can prove that
//! the XML and the agent's parser list the same parameters.

use crate::env::Env;
use crate::error::{Error, Result};
use crate::metadata::{Metadata, ParamKind};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Display;
use std::str::FromStr;
use std::time::Duration;

/// A boolean in every spelling Pacemaker users write (Pacemaker's `crm_str_to_boolean`):
/// yes/no, true/false, on/off, y/n, 1/0, in any case. The project's one boolean parser:
/// parameters, meta-attributes and cluster options (`pacemaker-cli`) all read through it.
pub fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "yes" | "y" | "true" | "on" => Some(true),
        "0" | "no" | "n" | "false" | "off" => Some(false),
        _ => None,
    }
}

/// A duration: a number with an optional unit (ms, msec, us, s, sec, m, min, h, hr, d);
/// a bare number is in `unit`.
pub fn parse_duration(value: &str, unit: Duration) -> Option<Duration> {
    let value = value.trim();
    let split = value
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(value.len());
    let (number, suffix) = value.split_at(split);
    if number.is_empty() || number.starts_with('.') || number.ends_with('.') {
        return None;
    }
    let number: f64 = number.parse().ok()?;
    let scale = match suffix.trim().to_ascii_lowercase().as_str() {
        "" => unit.as_secs_f64(),
        "us" | "usec" => 1e-6,
        "ms" | "msec" => 1e-3,
        "s" | "sec" | "secs" => 1.0,
        "m" | "min" | "mins" => 60.0,
        "h" | "hr" | "hrs" => 3600.0,
        "d" | "day" | "days" => 86400.0,
        _ => return None,
    };
    let secs = number * scale;
    // A year is more than any OCF action could wait for; larger values are typos.
    if !secs.is_finite() || secs > 366.0 * 86400.0 {
        return None;
    }
    Some(Duration::from_secs_f64(secs))
}

/// The instance parameters of one invocation.
///
/// A `Params` can stand in the XML default for values that were rejected
/// ([`Params::rejecting`]): that is how `ocf::run` gives probe, monitor and stop usable settings
/// when a setting is bad (see [`crate::config`]).
#[derive(Debug, Clone)]
pub struct Params {
    metadata: Metadata,
    values: BTreeMap<String, String>,
    /// Names whose value was rejected: they read as unset, so their XML default applies.
    rejected: BTreeSet<String>,
    read: RefCell<BTreeSet<String>>,
}

impl Params {
    /// The parameters in `env`, described by `metadata`.
    pub fn new(metadata: Metadata, env: &Env) -> Params {
        Params {
            metadata,
            values: env.params.clone(),
            rejected: BTreeSet::new(),
            read: RefCell::new(BTreeSet::new()),
        }
    }

    /// The same parameters with the values of `names` rejected: each now reads as unset, so
    /// its XML default applies. The record of names read starts afresh.
    #[must_use]
    pub fn rejecting<'a>(&self, names: impl IntoIterator<Item = &'a str>) -> Params {
        let mut values = self.values.clone();
        let mut rejected = self.rejected.clone();
        for name in names {
            values.remove(name);
            rejected.insert(name.to_owned());
        }
        Params {
            metadata: self.metadata.clone(),
            values,
            rejected,
            read: RefCell::new(BTreeSet::new()),
        }
    }

    /// True when the administrator's value of `name` was rejected and its XML default stands
    /// in for it. A parser may then choose to not judge by it (e.g. not compare a mounted
    /// filesystem's type with a default type the administrator did not ask for).
    pub fn is_rejected(&self, name: &str) -> bool {
        self.rejected.contains(name)
    }

    /// The metadata these parameters are read against.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// Names set in the environment that the metadata does not declare (a typo in the
    /// configuration, or a parameter of another agent).
    pub fn unknown(&self) -> Vec<&str> {
        self.values
            .keys()
            .filter(|k| self.metadata.param(k).is_none())
            .map(String::as_str)
            .collect()
    }

    /// The names the administrator set to a non-empty value (declared or not).
    pub fn given_names(&self) -> Vec<&str> {
        self.values
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, _)| k.as_str())
            .collect()
    }

    /// Every parameter name the agent has read so far.
    pub fn read_names(&self) -> BTreeSet<String> {
        self.read.borrow().clone()
    }

    /// True when the administrator set `name` to a non-empty value.
    pub fn is_set(&self, name: &str) -> bool {
        self.values.get(name).is_some_and(|v| !v.is_empty())
    }

    /// The value exactly as the administrator gave it, even empty, without the XML default:
    /// for the rare parameter where "set but empty" means something of its own.
    pub fn given(&self, name: &str) -> Option<&str> {
        self.note_read(name);
        self.values.get(name).map(String::as_str)
    }

    /// A parameter the metadata does not declare, as given (non-empty): for an agent that
    /// refuses its anchor's parameters it does not implement.
    pub fn undeclared(&self, name: &str) -> Option<&str> {
        debug_assert!(
            self.metadata.param(name).is_none(),
            "parameter {name} is declared in the metadata: read it with raw()"
        );
        self.values
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    fn note_read(&self, name: &str) {
        debug_assert!(
            self.metadata.param(name).is_some(),
            "parameter {name} is read but not declared in the metadata"
        );
        self.read.borrow_mut().insert(name.to_owned());
    }

    /// The XML default of `name`, if it has one.
    pub fn default_of(&self, name: &str) -> Option<&str> {
        self.metadata.param(name).and_then(|s| s.default.as_deref())
    }

    /// The value as set, or the XML default; None when both are empty.
    pub fn raw(&self, name: &str) -> Option<&str> {
        self.note_read(name);
        self.values
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
            .or_else(|| self.default_of(name))
            .filter(|v| !v.is_empty())
    }

    /// An optional string.
    pub fn string(&self, name: &str) -> Option<String> {
        self.raw(name).map(str::to_owned)
    }

    /// A required string: missing or empty is OCF_ERR_CONFIGURED.
    pub fn required(&self, name: &str) -> Result<String> {
        self.string(name).ok_or_else(|| Error::missing_param(name))
    }

    /// A boolean; unset and without a default it is false.
    pub fn bool(&self, name: &str) -> Result<bool> {
        match self.raw(name) {
            None => Ok(false),
            Some(v) => parse_bool(v).ok_or_else(|| {
                Error::bad_param(
                    name,
                    v,
                    "not a boolean (use yes/no, true/false, on/off, 1/0)",
                )
            }),
        }
    }

    /// An optional integer of type `T`, within `min..=max`.
    pub fn int_opt<T>(&self, name: &str, min: T, max: T) -> Result<Option<T>>
    where
        T: FromStr + PartialOrd + Display + Copy,
    {
        let Some(v) = self.raw(name) else {
            return Ok(None);
        };
        let n: T = v
            .trim()
            .parse()
            .map_err(|_| Error::bad_param(name, v, "not an integer"))?;
        if n < min || n > max {
            return Err(Error::bad_param(
                name,
                v,
                format!("out of range {min}..={max}"),
            ));
        }
        Ok(Some(n))
    }

    /// An integer within `min..=max`; unset and without a default is OCF_ERR_CONFIGURED.
    pub fn int<T>(&self, name: &str, min: T, max: T) -> Result<T>
    where
        T: FromStr + PartialOrd + Display + Copy,
    {
        self.int_opt(name, min, max)?
            .ok_or_else(|| Error::missing_param(name))
    }

    /// An optional duration: a bare number is in `unit`.
    pub fn duration_opt(&self, name: &str, unit: Duration) -> Result<Option<Duration>> {
        self.raw(name)
            .map(|v| {
                parse_duration(v, unit).ok_or_else(|| {
                    Error::bad_param(name, v, "not a duration (e.g. 5, 5s, 200ms, 1m)")
                })
            })
            .transpose()
    }

    /// A duration that has a default.
    pub fn duration(&self, name: &str, unit: Duration) -> Result<Duration> {
        self.duration_opt(name, unit)?
            .ok_or_else(|| Error::missing_param(name))
    }

    /// A value that must be one of `choices` (a `select`, or a string with fixed values).
    pub fn choice(&self, name: &str, choices: &[&str]) -> Result<Option<String>> {
        let Some(v) = self.raw(name) else {
            return Ok(None);
        };
        let allowed: Vec<&str> = match self.metadata.param(name).map(|p| &p.kind) {
            Some(ParamKind::Select(options)) if choices.is_empty() => {
                options.iter().map(String::as_str).collect()
            }
            _ => choices.to_vec(),
        };
        if allowed.contains(&v) {
            Ok(Some(v.to_owned()))
        } else {
            Err(Error::bad_param(
                name,
                v,
                format!("expected one of {}", allowed.join(", ")),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Status;

    const XML: &str = r#"<resource-agent name="t"><version>1.1</version>
<parameters>
 <parameter name="name" required="1"><content type="string"/></parameter>
 <parameter name="flag"><content type="boolean" default="false"/></parameter>
 <parameter name="count"><content type="integer" default="5"/></parameter>
 <parameter name="delay"><content type="string" default="1"/></parameter>
 <parameter name="mode"><content type="string" default="safe"/></parameter>
</parameters><actions/></resource-agent>"#;

    fn params(vars: &[(&str, &str)]) -> Params {
        let env = Env::from_vars(
            vars.iter()
                .map(|(k, v)| (format!("OCF_RESKEY_{k}"), (*v).to_owned())),
        )
        .unwrap();
        Params::new(Metadata::parse(XML).unwrap(), &env)
    }

    #[test]
    fn every_boolean_spelling() {
        for (word, value) in [
            ("yes", true),
            ("YES", true),
            ("y", true),
            ("true", true),
            ("True", true),
            ("on", true),
            ("1", true),
            ("no", false),
            ("n", false),
            ("false", false),
            ("FALSE", false),
            ("off", false),
            ("0", false),
        ] {
            assert_eq!(params(&[("flag", word)]).bool("flag"), Ok(value), "{word}");
        }
        assert_eq!(params(&[]).bool("flag"), Ok(false));
        let e = params(&[("flag", "maybe")]).bool("flag").unwrap_err();
        assert_eq!(e.status(), Status::ErrConfigured);
        assert!(e.reason().contains("flag=\"maybe\""), "{e}");
    }

    #[test]
    fn integers_with_range() {
        assert_eq!(params(&[]).int("count", 0u32, 100), Ok(5));
        assert_eq!(params(&[("count", " 7 ")]).int("count", 0u32, 100), Ok(7));
        for bad in ["x", "-1", "1000", "5.5", "0x10"] {
            let e = params(&[("count", bad)])
                .int("count", 0u32, 100)
                .unwrap_err();
            assert_eq!(e.status(), Status::ErrConfigured, "{bad}");
            assert!(e.reason().contains("count="), "{e}");
        }
    }

    #[test]
    fn durations_with_units() {
        let s = Duration::from_secs(1);
        for (text, ms) in [
            ("2", 2000),
            ("2s", 2000),
            ("200ms", 200),
            ("1.5s", 1500),
            ("1m", 60_000),
            ("1min", 60_000),
            ("1h", 3_600_000),
            (" 3 sec ", 3000),
        ] {
            let got = params(&[("delay", text)]).duration("delay", s).unwrap();
            assert_eq!(got.as_millis(), ms, "{text}");
        }
        for bad in ["", "s", "1x", "-1", ".5", "1.", "9999999999d"] {
            if bad.is_empty() {
                // Empty means the default.
                assert!(params(&[("delay", bad)]).duration("delay", s).is_ok());
                continue;
            }
            let e = params(&[("delay", bad)]).duration("delay", s).unwrap_err();
            assert_eq!(e.status(), Status::ErrConfigured, "{bad}");
        }
        assert_eq!(
            parse_duration("200", Duration::from_millis(1)),
            Some(Duration::from_millis(200))
        );
    }

    #[test]
    fn required_and_defaults() {
        let p = params(&[]);
        let e = p.required("name").unwrap_err();
        assert_eq!(e.status(), Status::ErrConfigured);
        assert!(e.reason().contains("name"));
        assert!(params(&[("name", "")]).required("name").is_err());
        assert_eq!(params(&[("name", "x")]).required("name"), Ok("x".into()));
        assert_eq!(p.string("mode").as_deref(), Some("safe"));
        assert!(!p.is_set("mode"));
    }

    #[test]
    fn a_rejected_value_reads_as_its_default() {
        let p = params(&[("count", "x"), ("mode", "loud")]);
        assert!(p.int("count", 0u32, 100).is_err());
        let fixed = p.rejecting(["count"]);
        assert_eq!(fixed.int("count", 0u32, 100), Ok(5), "the XML default");
        assert!(fixed.is_rejected("count") && !fixed.is_rejected("mode"));
        assert_eq!(
            fixed.string("mode").as_deref(),
            Some("loud"),
            "others untouched"
        );
        assert_eq!(fixed.given_names(), ["mode"]);
        assert_eq!(
            fixed.read_names().into_iter().collect::<Vec<_>>(),
            ["count", "mode"]
        );
    }

    #[test]
    fn choices_and_tracking() {
        let p = params(&[("mode", "loud"), ("typo", "1")]);
        assert!(p.choice("mode", &["safe", "true", "false"]).is_err());
        assert_eq!(p.unknown(), ["typo"]);
        assert_eq!(
            p.read_names().into_iter().collect::<Vec<_>>(),
            ["mode".to_owned()]
        );
    }
}
