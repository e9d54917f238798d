//! Logging for agents: every record goes to stderr (pacemaker-execd captures it into the
//! cluster log) and to syslog, as `agent(instance)[pid]: LEVEL: message`, the form that
//! administrators grep for and that ocf-shellfuncs' `ocf_log` writes.
//!
//! Syslog is written directly to the `/dev/log` datagram socket (RFC 3164 without a timestamp
//! or host name, which rsyslog and journald add): no child process, no connection state, and
//! a missing syslog daemon costs nothing. `HA_LOGFACILITY` picks the facility (default
//! daemon; `none` turns syslog off), `HA_LOGTAG` replaces the tag, and `HA_debug=1` or
//! `OCF_TRACE_RA` turns on debug records.

use crate::env::Env;
use crate::text::one_line;
use std::io::Write;
use std::os::unix::net::UnixDatagram;
use std::sync::Mutex;

/// The logger installed by [`init`].
pub struct AgentLogger {
    tag: String,
    level: log::LevelFilter,
    facility: Option<u8>,
    syslog: Mutex<Option<UnixDatagram>>,
}

/// The numeric syslog facility for a name as HA_LOGFACILITY spells it.
pub fn facility_code(name: &str) -> Option<u8> {
    let name = name.trim().to_ascii_lowercase();
    let name = name.strip_prefix("log_").unwrap_or(&name);
    Some(match name {
        "kern" => 0,
        "user" => 1,
        "mail" => 2,
        "daemon" => 3,
        "auth" => 4,
        "syslog" => 5,
        "lpr" => 6,
        "news" => 7,
        "uucp" => 8,
        "cron" => 9,
        "authpriv" => 10,
        "ftp" => 11,
        "local0" => 16,
        "local1" => 17,
        "local2" => 18,
        "local3" => 19,
        "local4" => 20,
        "local5" => 21,
        "local6" => 22,
        "local7" => 23,
        _ => return None,
    })
}

fn severity(level: log::Level) -> u8 {
    match level {
        log::Level::Error => 3,
        log::Level::Warn => 4,
        log::Level::Info => 6,
        log::Level::Debug | log::Level::Trace => 7,
    }
}

fn level_word(level: log::Level) -> &'static str {
    match level {
        log::Level::Error => "ERROR",
        log::Level::Warn => "WARNING",
        log::Level::Info => "INFO",
        log::Level::Debug | log::Level::Trace => "DEBUG",
    }
}

impl AgentLogger {
    /// A logger for `agent` configured from `env`.
    pub fn new(agent: &str, env: &Env) -> AgentLogger {
        let tag = env
            .var("HA_LOGTAG")
            .filter(|t| !t.is_empty())
            .map_or_else(|| format!("{agent}({})", env.instance), str::to_owned);
        let facility = match env
            .var("HA_LOGFACILITY")
            .or_else(|| env.var("PCMK_logfacility"))
        {
            Some(f) if f.trim().eq_ignore_ascii_case("none") => None,
            Some(f) => Some(facility_code(f).unwrap_or(3)),
            None => Some(3),
        };
        AgentLogger {
            tag,
            level: if env.debug() {
                log::LevelFilter::Debug
            } else {
                log::LevelFilter::Info
            },
            facility,
            syslog: Mutex::new(None),
        }
    }

    /// The line written to stderr (and syslog) for one record, without the newline. The
    /// message and the tag are made one line here ([`one_line`]): whatever a value carries,
    /// a record cannot start a forged log line or a forged exit reason.
    pub fn format(&self, level: log::Level, message: &str) -> String {
        format!(
            "{}[{}]: {}: {}",
            one_line(&self.tag),
            std::process::id(),
            level_word(level),
            one_line(message)
        )
    }

    fn to_syslog(&self, level: log::Level, line: &str) {
        let Some(facility) = self.facility else {
            return;
        };
        let Ok(mut socket) = self.syslog.lock() else {
            return;
        };
        if socket.is_none() {
            *socket = UnixDatagram::unbound()
                .and_then(|s| s.connect("/dev/log").map(|()| s))
                .ok();
        }
        if let Some(s) = socket.as_ref() {
            let pri = u16::from(facility) * 8 + u16::from(severity(level));
            // Best effort: a full or absent syslog must never fail an action.
            let _ = s.send(format!("<{pri}>{line}").as_bytes());
        }
    }
}

impl log::Log for AgentLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= self.level
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let line = self.format(record.level(), &record.args().to_string());
        // One write per line so that concurrent writers do not interleave.
        let _ = std::io::stderr()
            .lock()
            .write_all(format!("{line}\n").as_bytes());
        self.to_syslog(record.level(), &line);
    }

    fn flush(&self) {}
}

/// Install the agent logger (once; later calls keep the first).
pub fn init(agent: &str, env: &Env) {
    let logger = AgentLogger::new(agent, env);
    let level = logger.level;
    if log::set_boxed_logger(Box::new(logger)).is_ok() {
        log::set_max_level(level);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_format_is_what_admins_grep_for() {
        let env = Env::from_vars([("OCF_RESOURCE_INSTANCE", "vip")]).unwrap();
        let l = AgentLogger::new("ipaddr2", &env);
        let line = l.format(log::Level::Warn, "hello");
        let pid = std::process::id();
        assert_eq!(line, format!("ipaddr2(vip)[{pid}]: WARNING: hello"));
        assert_eq!(l.level, log::LevelFilter::Info);
        assert_eq!(l.facility, Some(3));
    }

    #[test]
    fn debug_and_facility_switches() {
        let env = Env::from_vars([
            ("OCF_RESOURCE_INSTANCE", "x"),
            ("HA_debug", "1"),
            ("HA_LOGFACILITY", "local5"),
            ("HA_LOGTAG", "mytag"),
        ])
        .unwrap();
        let l = AgentLogger::new("a", &env);
        assert_eq!(l.level, log::LevelFilter::Debug);
        assert_eq!(l.facility, Some(21));
        assert!(l.format(log::Level::Debug, "m").starts_with("mytag["));
        let off = Env::from_vars([("HA_LOGFACILITY", "none")]).unwrap();
        assert_eq!(AgentLogger::new("a", &off).facility, None);
        let trace = Env::from_vars([("OCF_TRACE_RA", "1")]).unwrap();
        assert_eq!(AgentLogger::new("a", &trace).level, log::LevelFilter::Debug);
    }

    /// Issue 17 "Everyone": a newline in a value (nic, httpd, an environment variable's
    /// name) must not start a second, forged log line, in stderr or in syslog.
    #[test]
    fn a_newline_in_a_value_cannot_forge_a_log_line() {
        let env =
            Env::from_vars([("OCF_RESOURCE_INSTANCE", "vip\nipaddr2(x)[1]: ERROR: tag")]).unwrap();
        let l = AgentLogger::new("ipaddr2", &env);
        let line = l.format(
            log::Level::Info,
            "nic=eth0\nipaddr2(vip)[1]: ERROR: forged\r\u{1b}[2Kocf-exit-reason:forged",
        );
        assert!(!line.contains(['\n', '\r', '\u{1b}']), "{line:?}");
        assert!(!line.contains("ocf-exit-reason:"), "{line:?}");
        assert!(line.contains("nic=eth0\\nipaddr2(vip)"), "{line:?}");
    }

    #[test]
    fn facility_names() {
        assert_eq!(facility_code("daemon"), Some(3));
        assert_eq!(facility_code("LOG_LOCAL0"), Some(16));
        assert_eq!(facility_code("bogus"), None);
    }
}
