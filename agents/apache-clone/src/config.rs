//! The configuration, in the two tiers `ocf` asks for: the identity (`configfile` and
//! `httpd`: this agent runs every httpd as `httpd -f <configfile>`, which is how its processes
//! are found) and the settings (how to start it and what monitor checks). Each is parsed once
//! from `ocf::Params`; defaults come from the metadata XML only.

use http_probe::Url;
use ocf::{Action, Context, Error, Params, Result};
use regex_lite::{Regex, RegexBuilder};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The configuration file when `configfile` is not set, as the shell agent detects the
/// distribution's layout: SUSE's when it exists, else Debian's when it exists, else RHEL's.
/// The metadata documents this list (it has no default of its own: a default there would
/// name one distribution's path on every other).
pub const CONFIGFILE_CANDIDATES: [&str; 3] = [
    "/etc/apache2/httpd.conf",
    "/etc/apache2/apache2.conf",
    "/etc/httpd/conf/httpd.conf",
];

/// The layout's configuration file: the first of [`CONFIGFILE_CANDIDATES`] that `exists`,
/// else the last (RHEL's, which then reports itself missing by name).
pub fn detect_configfile(exists: impl Fn(&Path) -> bool) -> PathBuf {
    let (last, first) = CONFIGFILE_CANDIDATES
        .split_last()
        .unwrap_or((&CONFIGFILE_CANDIDATES[0], &[]));
    first
        .iter()
        .map(Path::new)
        .find(|p| exists(p))
        .unwrap_or(Path::new(last))
        .to_owned()
}

/// Where httpd lives when `httpd` is not set, in the order the shell agent looks.
const HTTPD_CANDIDATES: [&str; 5] = [
    "/usr/sbin/apache2",
    "/usr/sbin/httpd",
    "/usr/sbin/httpd2",
    "/sbin/httpd2",
    "/sbin/httpd",
];

/// What finds the server on this node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub configfile: PathBuf,
    pub httpd: PathBuf,
}

impl ocf::Identity for Identity {
    const PARAMS: &'static [&'static str] = &["configfile", "httpd"];

    fn parse(p: &Params, _ctx: &Context) -> Result<Identity> {
        let configfile = match p.string("configfile") {
            Some(c) if !c.starts_with('/') => {
                return Err(Error::bad_param(
                    "configfile",
                    &c,
                    "must be an absolute path",
                ));
            }
            Some(c) => PathBuf::from(c),
            None => detect_configfile(Path::is_file),
        };
        let httpd = match p.string("httpd") {
            Some(h) if !h.starts_with('/') => {
                return Err(Error::bad_param("httpd", &h, "must be an absolute path"));
            }
            Some(h) => PathBuf::from(h),
            None => HTTPD_CANDIDATES
                .iter()
                .map(PathBuf::from)
                .find(|p| procs::is_executable(p))
                .unwrap_or_else(|| PathBuf::from(HTTPD_CANDIDATES[0])),
        };
        Ok(Identity { configfile, httpd })
    }
}

/// Everything else.
#[derive(Debug)]
pub struct Settings {
    /// `options` split into words.
    pub options: Vec<String>,
    pub envfiles: Vec<PathBuf>,
    pub checks: Checks,
}

impl ocf::Settings<Identity> for Settings {
    fn parse(p: &Params, _identity: &Identity, ctx: &Context) -> Result<Settings> {
        let options_raw = p.string("options").unwrap_or_default();
        let options = procs::words::split(&options_raw)
            .map_err(|e| Error::bad_param("options", &options_raw, e))?;
        // Set but empty means "read none" (the shell agent's `${envfiles=default}`), where
        // Params would fall back to the default.
        let envfiles = match p.given("envfiles") {
            Some("") => String::new(),
            _ => p.string("envfiles").unwrap_or_default(),
        };
        Ok(Settings {
            options,
            envfiles: envfiles.split_whitespace().map(PathBuf::from).collect(),
            checks: Checks::parse(p, ctx)?,
        })
    }
}

/// The configuration the actions work with.
#[derive(Debug)]
pub struct Config {
    pub identity: Identity,
    pub settings: Settings,
}

/// What monitor checks.
#[derive(Debug)]
pub struct Checks {
    pub statusurl: Option<Url>,
    pub port: Option<u16>,
    pub testregex: Pattern,
    pub testurl: Option<String>,
    pub testregex10: Option<Pattern>,
    pub testconffile: Option<PathBuf>,
    pub testname: Option<String>,
    pub use_ipv6: bool,
    /// No monitoring parameter set at all: the shell agent then also accepts any answer
    /// from the index page when the status page fails.
    pub defaults_only: bool,
}

impl Checks {
    fn parse(p: &Params, ctx: &Context) -> Result<Checks> {
        let monitor_params = [
            "statusurl",
            "testregex",
            "testurl",
            "testregex10",
            "testconffile",
        ];
        let defaults_only = !monitor_params.iter().any(|n| p.is_set(n));
        let statusurl = p
            .string("statusurl")
            .map(|u| {
                u.parse::<Url>()
                    .map_err(|e| Error::bad_param("statusurl", &u, e))
            })
            .transpose()?;
        let port = p.int_opt("port", 1u16, u16::MAX)?;
        let testregex = Pattern::new(p, "testregex", ctx)?.unwrap_or_else(Pattern::match_all);
        let testurl = p.string("testurl");
        if let Some(u) = &testurl {
            if u.trim().is_empty() {
                return Err(Error::bad_param("testurl", u, "only white space"));
            }
            if u.starts_with("http") {
                u.parse::<Url>()
                    .map_err(|e| Error::bad_param("testurl", u, e))?;
            } else if !u.starts_with('/') {
                return Err(Error::bad_param(
                    "testurl",
                    u,
                    "neither an http:// or https:// URL nor a path starting with /",
                ));
            }
        }
        let testregex10 = Pattern::new(p, "testregex10", ctx)?;
        let client = p.string("client");
        if let Some(c) = client.filter(|c| !matches!(c.as_str(), "curl" | "wget")) {
            log::debug!("client={c} ignored: the built-in HTTP client is used");
        }
        Ok(Checks {
            statusurl,
            port,
            testregex,
            testurl,
            testregex10,
            testconffile: p.string("testconffile").map(PathBuf::from),
            testname: p.string("testname"),
            use_ipv6: p.bool("use_ipv6")?,
            defaults_only,
        })
    }
}

/// A regular expression parameter, compiled when first used: a monitor compiles only what it
/// matches (a probe of a stopped server, nothing). Every other action compiles it when the
/// parameters are read, so bad values are still reported up front. A monitor that finds the
/// expression bad only when it compiles it follows the bad-configuration rule as if the
/// parameters had refused it: the error is logged and the XML default is used.
#[derive(Debug)]
pub struct Pattern {
    name: &'static str,
    source: String,
    /// The XML default, for a monitor that finds `source` bad.
    default: Option<String>,
    compiled: OnceLock<Regex>,
}

impl Pattern {
    /// The pattern parameter `name` (None when unset and without default).
    fn new(p: &Params, name: &'static str, ctx: &Context) -> Result<Option<Pattern>> {
        let Some(source) = p.string(name) else {
            return Ok(None);
        };
        let pattern = Pattern {
            name,
            source,
            default: p.default_of(name).map(str::to_owned),
            compiled: OnceLock::new(),
        };
        if ctx.action != Action::Monitor {
            let r = compile_regex(name, &pattern.source)?;
            let _ = pattern.compiled.set(r);
        }
        Ok(Some(pattern))
    }

    /// A pattern that matches anything (an empty `testregex`).
    fn match_all() -> Pattern {
        Pattern {
            name: "testregex",
            source: String::new(),
            default: None,
            compiled: OnceLock::new(),
        }
    }

    /// The compiled expression, or None when a monitor finds it bad and the parameter has
    /// no default to stand in (logged as the bad-configuration rule logs a bad setting).
    pub fn regex_or_none(&self) -> Result<Option<&Regex>> {
        if self.default.is_some() {
            return self.regex().map(Some);
        }
        match self.regex() {
            Ok(r) => Ok(Some(r)),
            Err(e) if e.param() == Some(self.name) => {
                log::error!(
                    "{}; monitor goes on as if it were not set (validate-all and start refuse \
                     it)",
                    e.reason()
                );
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    pub fn regex(&self) -> Result<&Regex> {
        if let Some(r) = self.compiled.get() {
            return Ok(r);
        }
        let r = match compile_regex(self.name, &self.source) {
            Ok(r) => r,
            Err(e) => match self.default.as_deref() {
                Some(default) if default != self.source => {
                    log::error!(
                        "{}; monitor goes on with the default of the parameter (validate-all \
                         and start refuse it)",
                        e.reason()
                    );
                    compile_regex(self.name, default)?
                }
                _ => return Err(e),
            },
        };
        Ok(self.compiled.get_or_init(|| r))
    }
}

/// A case-insensitive extended regular expression, as `grep -Ei` reads it under `LC_ALL=C`
/// (the shell agent's test): ASCII case folding, POSIX classes such as `[[:digit:]]`, the
/// differences in [`crate::ere`]. Match it with [`matches_a_line`], as grep does, line by
/// line.
pub fn compile_regex(name: &str, pattern: &str) -> Result<Regex> {
    crate::ere::to_regex_lite(pattern)
        .and_then(|translated| {
            RegexBuilder::new(&translated)
                .case_insensitive(true)
                .size_limit(1 << 20)
                .build()
                .map_err(|e| e.to_string().replace('\n', " "))
        })
        .map_err(|why| {
            Error::bad_param(
                name,
                pattern,
                format!("not a valid regular expression: {why}"),
            )
        })
}

/// Whether `regex` matches one of the lines of `text`, as `grep -q` answers: `^` and `$`
/// anchor at each line, and no match spans lines (`[^x]*` never crosses a newline).
pub fn matches_a_line(regex: &Regex, text: &str) -> bool {
    // grep sees no line in an empty input, and none after a final newline.
    let lines = text.strip_suffix('\n').unwrap_or(text);
    // Whether any line matches does not depend on the order they are tried in: from the
    // last, the usual patterns (the default `</ *html *>`, a footer) match at once instead
    // of after every line of a 20 KiB status page (half of a monitor's time, measured).
    !text.is_empty() && lines.rsplit('\n').any(|line| regex.is_match(line))
}

#[cfg(test)]
mod tests;
