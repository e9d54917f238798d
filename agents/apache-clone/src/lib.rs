//! # apache-clone: Apache httpd on every node, a drop-in for ocf:heartbeat:apache
//!
//! Same parameters as the shell agent; the differences are in how it works: the httpd
//! configuration and the envfiles are read natively ([`conf`], [`envfile`]), processes are
//! identified through /proc ([`procs`]), the status page is fetched by a built-in client
//! bounded by the deadline ([`http_probe`]), and monitor, probe, validate-all and meta-data
//! start no process. The server itself (start and stop) lives in [`server`].

pub mod conf;
pub mod config;
pub mod envfile;
pub mod ere;
pub mod glob;
pub mod server;
pub mod testconf;

use config::{Checks, Identity, Settings, compile_regex};
use http_probe::Url;
use ocf::{Context, Error, Params, Presence, Result, ResultExt, Status};
use regex_lite::Regex;
use server::Server;
use std::ffi::OsStr;
use std::time::Instant;

pub use config::matches_a_line;

/// The agent: the server of this instance and what monitor checks.
#[derive(Debug)]
pub struct Agent {
    server: Server,
    checks: Checks,
}

/// One check's outcome.
enum Probe {
    Matched,
    /// The server answered, but not as expected (reason).
    Mismatch(String),
    /// No answer (reason); `refused` when nothing listens.
    NoAnswer {
        reason: String,
        refused: bool,
    },
}

impl Agent {
    /// The status URL: the parameter, or built from the configuration.
    fn status_url(&self, config: Option<&conf::Config>) -> Url {
        if let Some(u) = &self.checks.statusurl {
            return u.clone();
        }
        let path = config
            .and_then(|c| c.status_location.clone())
            .unwrap_or_else(|| "/server-status".to_owned());
        let mut base = self.base_url(config);
        base.path = path;
        base
    }

    /// `http://<first Listen>/`, the port parameter overriding the port.
    fn base_url(&self, config: Option<&conf::Config>) -> Url {
        let (host, port) = config
            .and_then(conf::Config::first_listen)
            .unwrap_or_else(|| ("localhost".to_owned(), 80));
        Url {
            host,
            port: self.checks.port.unwrap_or(port),
            path: "/".to_owned(),
        }
    }

    fn localize(&self, mut url: Url) -> Url {
        if url.host.eq_ignore_ascii_case("localhost") {
            let loopback = if self.checks.use_ipv6 {
                "::1"
            } else {
                "127.0.0.1"
            };
            loopback.clone_into(&mut url.host);
        }
        url
    }

    /// GET `url` and match `regex`, within `end`.
    fn probe(
        &self,
        url: Url,
        regex: &Regex,
        auth: Option<(String, String)>,
        end: Instant,
    ) -> Probe {
        let url = self.localize(url);
        let mut request = http_probe::Request::new(url.clone(), end);
        request.basic_auth = auth;
        match request.get() {
            Ok(r) if matches_a_line(regex, &String::from_utf8_lossy(&r.body)) => {
                if r.head.status >= 400 {
                    log::warn!("{url} answered HTTP {} (its body matches)", r.head.status);
                }
                Probe::Matched
            }
            Ok(r) => Probe::Mismatch(format!(
                "{url} answered HTTP {} {} and its body does not match {:?}",
                r.head.status,
                r.head.reason,
                regex.as_str()
            )),
            Err(e) => Probe::NoAnswer {
                refused: e.is_refused(),
                reason: format!("{url}: {e}"),
            },
        }
    }

    /// The level-0 check: status URL and testregex (with the shell agent's fallback to any
    /// answer from the index page when nothing about monitoring is configured).
    fn check_status(&self, config: Option<&conf::Config>, end: Instant) -> Result<Probe> {
        let regex = self.checks.testregex.regex()?;
        let result = self.probe(self.status_url(config), regex, None, end);
        if !matches!(result, Probe::Matched) && self.checks.defaults_only {
            let index = self.localize(self.base_url(config));
            if http_probe::Request::new(index.clone(), end).get().is_ok() {
                log::debug!("status page failed; {index} answers, which is enough by default");
                return Ok(Probe::Matched);
            }
        }
        Ok(result)
    }

    /// The level-10 check: testconffile's test, or testurl and testregex10.
    fn check_level10(&self, config: Option<&conf::Config>, end: Instant) -> Result<Probe> {
        let (url, regex, auth) = if let Some(file) = &self.checks.testconffile {
            let text = std::fs::read_to_string(file).or_status(Status::ErrInstalled, || {
                format!("cannot read testconffile {}", file.display())
            })?;
            let def = testconf::find(&text, self.checks.testname.as_deref()).map_err(|why| {
                Error::bad_param("testconffile", &file.display().to_string(), why)
            })?;
            let regex = compile_regex("testconffile match", &def.regex)?;
            let auth = (!def.user.is_empty()).then(|| (def.user.clone(), def.password.clone()));
            (def.url, regex, auth)
        } else {
            match (&self.checks.testurl, &self.checks.testregex10) {
                (Some(u), Some(r)) => (u.clone(), r.regex()?.clone(), None),
                _ => {
                    return Err(Error::configured(
                        "OCF_CHECK_LEVEL=10 needs testurl and testregex10, or testconffile",
                    ));
                }
            }
        };
        let url = if url.starts_with("http") {
            url.parse::<Url>()
                .map_err(|e| Error::bad_param("testurl", &url, e))?
        } else {
            let mut base = self.base_url(config);
            base.path = url;
            base
        };
        Ok(self.probe(url, &regex, auth, end))
    }

    fn monitor_running(&self, ctx: &Context, config: Option<&conf::Config>) -> Result<Status> {
        let end = ctx.deadline.end();
        let probe = if ctx.env.check_level >= 10 {
            self.check_level10(config, end)?
        } else {
            self.check_status(config, end)?
        };
        match probe {
            Probe::Matched => Ok(Status::Success),
            Probe::Mismatch(reason) | Probe::NoAnswer { reason, .. } => Err(Error::generic(
                format!("httpd runs but fails its check: {reason}"),
            )),
        }
    }

    fn start_server(&self, ctx: &Context) -> Result<Status> {
        if let Some(main) = self.server.find_main(None) {
            log::info!("httpd already running (pid {})", main.pid);
            return Ok(Status::Success);
        }
        let setup = self.server.read_setup()?;
        let mut launched = self.server.launch(&setup, ctx)?;
        let url = self.status_url(Some(&setup.config));
        let mut launcher_done = false;
        let mut last = String::from("no answer yet");
        loop {
            if !launcher_done {
                match launched.wait_exit(Instant::now()) {
                    Ok(Some((status, _))) if status.success() => launcher_done = true,
                    Ok(Some((status, stderr))) => {
                        let stderr = stderr.trim().replace('\n', "; ");
                        return Err(Error::generic(format!(
                            "{} failed ({status}): {stderr}",
                            self.server.httpd().display()
                        )));
                    }
                    Ok(None) => {}
                    Err(e) => return Err(Error::generic(e.to_string())),
                }
            }
            if self.server.find_main(Some(&setup)).is_some() {
                match self.check_status(Some(&setup.config), ctx.deadline.end())? {
                    Probe::Matched => {
                        log::info!("httpd started; {url} answers");
                        return Ok(Status::Success);
                    }
                    Probe::Mismatch(reason) => {
                        let _ = self.server.stop(ctx);
                        return Err(Error::generic(format!(
                            "httpd started but fails its check (stopped again): {reason}"
                        )));
                    }
                    Probe::NoAnswer { reason, refused } => {
                        last = reason;
                        if !refused {
                            log::debug!("waiting for {url}: {last}");
                        }
                    }
                }
            } else if launcher_done {
                "httpd exited right after starting (see its error log)".clone_into(&mut last);
            }
            if !ctx.deadline.sleep(std::time::Duration::from_millis(20)) {
                return Err(Error::generic(format!(
                    "httpd did not answer at {url} before the start timeout: {last}"
                )));
            }
        }
    }
}

impl ocf::Agent for Agent {
    const NAME: &'static str = "apache-clone";
    const METADATA: &'static str = include_str!("../../../xml-metadata/apache-clone.xml");

    type Identity = Identity;
    type Settings = Settings;

    /// This agent starts every httpd with `-f <configfile>`: any process whose command line
    /// holds `-f` and the configured value may be the resource.
    fn presence_without_identity(params: &Params, _ctx: &Context) -> Result<Presence> {
        let configfile = params.raw("configfile").unwrap_or_default();
        let holders: Vec<i32> = procs::all()
            .or_generic(|| "listing processes")?
            .into_iter()
            .filter(|p| {
                p.cmdline()
                    .windows(2)
                    .any(|w| w[0] == OsStr::new("-f") && w[1] == OsStr::new(configfile))
            })
            .map(|p| p.pid)
            .collect();
        Ok(if holders.is_empty() {
            Presence::Absent(format!(
                "no process runs with -f {}",
                ocf::error::printable(configfile)
            ))
        } else {
            Presence::Possible(format!(
                "the processes running with -f {} (pid {holders:?})",
                ocf::error::printable(configfile)
            ))
        })
    }

    fn new(identity: Identity, settings: Settings, ctx: &Context) -> Result<Agent> {
        Ok(Agent {
            server: Server::new(
                identity.configfile,
                identity.httpd,
                settings.options,
                settings.envfiles,
                &ctx.env.state_dir(),
                &ctx.env.instance,
            ),
            checks: settings.checks,
        })
    }

    fn validate(&self, _ctx: &Context) -> Result<()> {
        self.server.check_installed()?;
        if let Some(file) = &self.checks.testconffile {
            let text = std::fs::read_to_string(file).or_status(Status::ErrInstalled, || {
                format!("cannot read testconffile {}", file.display())
            })?;
            testconf::find(&text, self.checks.testname.as_deref()).map_err(|why| {
                Error::bad_param("testconffile", &file.display().to_string(), why)
            })?;
        }
        let setup = self.server.read_setup()?;
        for w in &setup.config.warnings {
            log::warn!("{w}");
        }
        Ok(())
    }

    fn start(&self, ctx: &Context) -> Result<Status> {
        self.server.check_installed()?;
        self.start_server(ctx)
    }

    fn stop(&self, ctx: &Context) -> Result<Status> {
        self.server.stop(ctx)
    }

    fn monitor(&self, ctx: &Context) -> Result<Status> {
        // Finding the process needs no configuration beyond its pid file; a missing
        // configuration or binary then still reports a stopped server as stopped.
        let setup = self.server.read_setup();
        if self
            .server
            .main_from_pid_files(setup.as_ref().ok())
            .is_none()
        {
            let (main, orphans) = self.server.scan();
            if main.is_some() {
                log::warn!("httpd runs, but its pid file does not name it");
            }
            if orphans.is_empty() {
                return Ok(Status::NotRunning);
            }
            if main.is_none() {
                return Err(Error::generic(format!(
                    "the main httpd process is gone but {} of its processes remain (pid {})",
                    orphans.len(),
                    orphans[0].pid
                )));
            }
        }
        self.server.check_installed()?;
        self.monitor_running(ctx, Some(&setup?.config))
    }
}

#[cfg(test)]
mod tests;
