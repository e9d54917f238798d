//! The policy: what start, stop, monitor and validate-all do with dlm_controld, written
//! against [`Host`] so that the same code runs on the machine and, in the unit tests, on a
//! fake.
//!
//! The daemon is the set of processes executing its program as root ([`Host::
//! daemon_processes`]); its answers on the query socket are believed only from one of them,
//! the one its pid file names when it has one ([`trusted_listener`]). A process merely named
//! like it, or a listener of another user on its abstract socket, changes no answer and is
//! never signalled.

use crate::args;
use crate::config::{Config, Identity, Settings};
use crate::health::{self, Observation, Verdict, pids_text};
use crate::host::{Host, Launch, plain};
use dlm_control::Trusted;
use ocf::{Context, Error, Policy, Presence, Result, Status};
use pacemaker_cli::ClusterOptions;
use procs::Captured;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Why start refuses with fencing off and the switch unset: short enough for the 128
/// characters of an exit reason that Pacemaker keeps.
pub const FENCING_OFF_REASON: &str = "fencing is disabled (stonith-enabled=false) and \
     allow_fencing_disabled is not set: DLM needs fencing";

/// Logged at every start whose `args` turn dlm_controld's own fencing off.
pub const DAEMON_FENCING_OFF_RISK: &str = "DATA-SAFETY RISK: args turn dlm_controld's own \
     fencing off (--enable_fencing 0): a node that is lost is TRUSTED TO BE DEAD and its locks \
     are recovered at once. If it is alive behind a cut link, both nodes write the shared file \
     system without coordination: GFS2 corruption, or two diverged DRBD copies. Enable fencing \
     and remove --enable_fencing 0 from args to be safe";

/// Logged at start when fencing is off in the cluster, allowed, and `args` leave the
/// daemon's own fencing on (the safe freeze).
pub const DAEMON_FENCING_KEPT: &str = "fencing is disabled in the cluster and \
     allow_fencing_disabled is set: dlm_controld keeps its own fencing. When a node is lost, \
     DLM waits for it to be fenced, which nothing will do: GFS2 stays frozen on the other nodes \
     (nothing is written unguarded) until the lost node rejoins or an administrator who knows \
     it is down confirms it (dlm_tool fence_ack NODEID)";

/// The longest one query to the daemon may take within an action.
const QUERY_BOUND: Duration = Duration::from_secs(5);
/// The longest a helper program (modprobe, cibadmin, the launcher) may take within an action.
const HELPER_BOUND: Duration = Duration::from_secs(30);
/// How often start looks for the daemon to be ready.
const READY_POLL: Duration = Duration::from_millis(250);

/// The daemon's command line and what start must warn about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaemonArgs {
    pub argv: Vec<String>,
    pub warnings: Vec<String>,
}

/// The agent's policy for the daemon over a host `H`.
#[derive(Debug)]
pub struct Logic<H: Host> {
    pub cfg: Config,
    pub host: H,
}

impl<H: Host> Logic<H> {
    fn daemon(&self) -> &str {
        &self.cfg.identity.daemon
    }

    /// The daemon's program as start runs it or, when it is not installed (any more), the
    /// path it has: a daemon still running from it then shows it as deleted.
    fn program(&self) -> PathBuf {
        self.host.find_program(self.daemon()).unwrap_or_else(|| {
            if self.daemon().starts_with('/') {
                PathBuf::from(self.daemon())
            } else {
                Path::new("/usr/sbin").join(self.daemon())
            }
        })
    }

    /// The installed program, or exit 5.
    fn installed(&self) -> Result<PathBuf> {
        self.host.find_program(self.daemon()).ok_or_else(|| {
            Error::installed(format!(
                "daemon={}: not found (or not executable) on PATH, /usr/sbin or /sbin; install \
                 dlm-controld",
                ocf::error::printable(self.daemon())
            ))
        })
    }

    /// The daemon's processes now.
    fn processes(&self) -> Result<Vec<Captured>> {
        self.host
            .daemon_processes(&self.program())
            .map_err(|e| Error::generic(format!("looking for {}: {}", self.daemon(), plain(&e))))
    }

    /// Look: the daemon's processes, the kernel's lockspaces and, when the daemon runs, its
    /// answers (from the trusted listener only), each query bounded.
    pub fn observe(&self, ctx: &Context) -> Result<Observation> {
        let found = self.processes()?;
        let kernel_lockspaces = self.host.lockspaces().unwrap_or_else(|e| {
            log::warn!("cannot read /sys/kernel/dlm: {}", plain(&e));
            Vec::new()
        });
        let report = (!found.is_empty()).then(|| {
            let trusted = trusted_listener(&found, self.host.pid_file());
            self.host
                .query(&trusted, ctx.deadline.within(QUERY_BOUND).end())
                .map_err(|e| plain(&e))
        });
        Ok(Observation {
            pids: found.iter().map(Captured::pid).collect(),
            kernel_lockspaces,
            report,
        })
    }

    /// Who listens on the query socket when no daemon runs: nobody should. Asked as the
    /// client always asks (SO_PEERCRED first), trusting no one, so nothing is sent.
    fn socket_holder(&self) -> Option<dlm_control::Peer> {
        let nobody = Trusted {
            uid: 0,
            pids: Vec::new(),
        };
        match self
            .host
            .query(&nobody, std::time::Instant::now() + QUERY_BOUND)
        {
            Err(dlm_control::Error::Untrusted { peer, .. }) => Some(peer),
            _ => None,
        }
    }

    /// Why start gave up: what the kernel and the query socket say now.
    fn not_ready(&self, ctx: &Context) -> Error {
        let socket = match self.observe(ctx) {
            Ok(Observation {
                report: Some(Ok(_)),
                ..
            }) => "answers".to_owned(),
            Ok(Observation {
                report: Some(Err(e)),
                ..
            }) => e,
            Ok(Observation { report: None, .. }) => "no daemon process".to_owned(),
            Err(e) => e.reason().to_owned(),
        };
        let comms = match self.host.comms_ready() {
            Ok(true) => "configured",
            Ok(false) => "not configured",
            Err(_) => "unreadable",
        };
        Error::generic(format!(
            "dlm_controld was not ready before the start timeout (cluster comms in \
             /sys/kernel/config/dlm {comms}; query socket: {socket})"
        ))
    }

    /// The daemon's argv after the fencing check: refuse when fencing is off and not allowed.
    /// The daemon's own fencing is the administrator's to turn off, in `args`, never ours.
    pub fn plan(&self, options: &ClusterOptions) -> Result<DaemonArgs> {
        let mut warnings = Vec::new();
        if options.no_quorum_policy() != "freeze" {
            warnings.push(format!(
                "no-quorum-policy is {}, not freeze: a node that loses quorum stops its \
                 resources, and GFS2 can hang on the way",
                options.no_quorum_policy()
            ));
        }
        let argv = self.cfg.settings.args.clone();
        if !options.fencing_enabled() && !self.cfg.settings.allow_fencing_disabled {
            // Pacemaker keeps 128 characters of an exit reason (what `pcs status` shows):
            // the reason names the switch within them; the log says the rest.
            log::error!(
                "fencing is disabled in the cluster (stonith-enabled/fencing-enabled=false): DLM \
                 needs fencing; enable it, or set allow_fencing_disabled=true to accept the risk"
            );
            return Err(Error::configured(FENCING_OFF_REASON));
        }
        if args::enable_fencing(&argv) == Some(false) {
            warnings.push(DAEMON_FENCING_OFF_RISK.to_owned());
        } else if !options.fencing_enabled() {
            warnings.push(DAEMON_FENCING_KEPT.to_owned());
        }
        Ok(DaemonArgs { argv, warnings })
    }

    /// Why dlm_controld's fencing cannot work on this node, when its helper loads a
    /// libstonithd that is not installed ([`crate::fence_helper`]); None when it can, or when
    /// the helper is not there to read (another fence agent may be configured). A warning,
    /// not a refusal: the daemon then freezes GFS2 until a lost node returns, which is safe;
    /// the administrator must know that it will wait.
    pub fn fence_helper_broken(&self) -> Option<String> {
        let (path, bytes) = self.host.fence_helper()?;
        let missing: Vec<String> = crate::fence_helper::wanted_libraries(&bytes)
            .into_iter()
            .filter(|name| !self.host.library_installed(name))
            .collect();
        if missing.is_empty() {
            return None;
        }
        Some(format!(
            "DLM cannot fence: {} loads {} at run time, which is not installed, so every fencing \
             request of dlm_controld fails (kick_helper error -79) and when a node is lost GFS2 \
             stays frozen on the others until it returns. Install the library of that name (on \
             Debian 13, link it to the libstonithd.so.56 Pacemaker 3.0 installed)",
            path.display(),
            missing.join(", ")
        ))
    }

    /// configfs at /sys/kernel/config, mounted only when it is not.
    fn ensure_configfs(&self, ctx: &Context) -> Result<()> {
        let target = crate::host::CONFIGFS;
        let mounted = self
            .host
            .configfs_mounted()
            .map_err(|e| Error::generic(format!("reading /proc/self/mounts: {}", plain(&e))))?;
        if mounted {
            return Ok(());
        }
        if !self.host.configfs_known() {
            self.host
                .load_module("configfs", ctx.deadline.within(HELPER_BOUND).end())?;
        }
        log::info!("mounting configfs on {target}");
        self.host
            .mount_configfs()
            .map_err(|e| Error::generic(format!("mounting configfs on {target}: {}", e.desc())))
    }

    /// The dlm module, loaded only when /sys/kernel/config/dlm is absent.
    fn ensure_dlm_module(&self, ctx: &Context) -> Result<()> {
        if self.host.dlm_loaded() {
            return Ok(());
        }
        self.host
            .load_module("dlm", ctx.deadline.within(HELPER_BOUND).end())?;
        ctx.deadline
            .poll(Duration::from_millis(100), || {
                self.host.dlm_loaded().then_some(())
            })
            .ok_or_else(|| {
                Error::generic("/sys/kernel/config/dlm did not appear after modprobe dlm")
            })
    }

    /// Lockspaces without a healthy daemon: ask Pacemaker to fence this node when fencing is
    /// enabled (as ocf:pacemaker:controld does); otherwise say so loudly. Either way a failure.
    fn uncontrolled(&self, ctx: &Context, why: &str) -> Error {
        let end = ctx.deadline.end();
        let fencing = self.host.cluster_options(end).map_or_else(
            |e| {
                log::warn!(
                    "cannot read the fencing setting ({}); assuming fencing is enabled",
                    plain(&e)
                );
                true
            },
            |o| o.fencing_enabled(),
        );
        if !fencing {
            log::error!(
                "UNCONTROLLED DLM LOCKSPACES: {why}. Fencing is disabled, so this node cannot be \
                 recovered automatically: unmount the GFS2 file systems or reboot this node"
            );
            return Error::generic(format!(
                "{why}; no fencing: unmount GFS2 or reboot this node"
            ));
        }
        match self.host.fence_this_node(end) {
            Ok(node) => {
                log::error!("{why}: requested fencing of this node ({node})");
                Error::generic(format!("{why}: requested fencing of this node ({node})"))
            }
            Err(e) => {
                let e = plain(&e);
                log::error!("{why}: requesting fencing of this node failed: {e}");
                Error::generic(format!(
                    "{why}; requesting fencing of this node failed: {e}"
                ))
            }
        }
    }
}

impl<H: Host> Policy for Logic<H> {
    type Identity = Identity;
    type Settings = Settings;

    /// validate-all's checks beyond parsing: an anonymous clone, the daemon installed.
    fn validate(&self, ctx: &Context) -> Result<()> {
        if ctx.env.meta.globally_unique == Some(true) {
            return Err(Error::configured(
                "globally-unique=true is not supported: run dlm-controld-wrapper as an anonymous \
                 clone (globally-unique=false)",
            ));
        }
        self.installed().map(drop)
    }

    fn start(&self, ctx: &Context) -> Result<Status> {
        self.validate(ctx)?;
        let program = self.installed()?;
        let o = self.observe(ctx)?;
        match health::assess(&o) {
            Verdict::Running => {
                log::info!("dlm_controld already runs ({})", pids_text(&o.pids));
                return Ok(Status::Success);
            }
            Verdict::NotRunning => {}
            Verdict::Failed(why) | Verdict::Uncontrolled(why) => {
                return Err(Error::generic(format!("cannot start: {why}")));
            }
        }
        let options = self
            .host
            .cluster_options(ctx.deadline.within(HELPER_BOUND).end())
            .map_err(|e| {
                Error::generic(format!(
                    "reading the cluster's fencing setting: {}",
                    plain(&e)
                ))
            })?;
        let plan = self.plan(&options)?;
        let helper = (args::enable_fencing(&plan.argv) != Some(false))
            .then(|| self.fence_helper_broken())
            .flatten();
        for warning in plan.warnings.iter().chain(&helper) {
            log::warn!("{warning}");
        }
        self.ensure_configfs(ctx)?;
        self.ensure_dlm_module(ctx)?;
        log::info!("starting {} {}", program.display(), plan.argv.join(" "));
        let launch = self
            .host
            .launch(
                &program,
                &plan.argv,
                ctx.deadline.within(HELPER_BOUND).end(),
            )
            .map_err(|e| Error::generic(format!("starting dlm_controld: {}", plain(&e))))?;
        let ready = ctx.deadline.poll(READY_POLL, || {
            let o = self.observe(ctx).ok()?;
            if health::ready(&o, self.host.comms_ready().unwrap_or(false)) {
                return Some(Ok(o.pids));
            }
            if o.pids.is_empty() && launch == Launch::Detached {
                return Some(Err(()));
            }
            None
        });
        match ready {
            Some(Ok(pids)) => {
                log::info!("dlm_controld is ready ({})", pids_text(&pids));
                Ok(Status::Success)
            }
            Some(Err(())) => Err(Error::generic(format!(
                "dlm_controld exited right after starting{}; see its log (journalctl -t \
                 dlm_controld, /var/log/dlm_controld)",
                self.socket_holder()
                    .map(|p| format!(
                        " (@{} is held by pid {} of uid {}, so the daemon cannot listen on it)",
                        dlm_control::wire::QUERY_SOCKET,
                        p.pid,
                        p.uid
                    ))
                    .unwrap_or_default()
            ))),
            None => Err(self.not_ready(ctx)),
        }
    }

    fn stop(&self, ctx: &Context) -> Result<Status> {
        let lockspaces = self
            .host
            .lockspaces()
            .map_err(|e| Error::generic(format!("reading /sys/kernel/dlm: {}", plain(&e))))?;
        if !lockspaces.is_empty() {
            return Err(Error::generic(format!(
                "refusing to stop dlm_controld: DLM lockspaces {} are still in use (a mounted \
                 GFS2?); stop their users first",
                lockspaces.join(", ")
            )));
        }
        let found = self.processes()?;
        if found.is_empty() {
            return Ok(Status::Success);
        }
        let pids: Vec<i32> = found.iter().map(Captured::pid).collect();
        log::info!("stopping dlm_controld ({})", pids_text(&pids));
        self.host.terminate(&found).map_err(|e| {
            Error::generic(format!(
                "signalling dlm_controld ({}): {}",
                pids_text(&pids),
                plain(&e)
            ))
        })?;
        if self.host.wait_gone(&found, ctx.deadline.end()) {
            Ok(Status::Success)
        } else {
            Err(Error::generic(format!(
                "dlm_controld ({}) did not exit before the stop timeout",
                pids_text(&pids)
            )))
        }
    }

    fn monitor(&self, ctx: &Context) -> Result<Status> {
        match health::assess(&self.observe(ctx)?) {
            Verdict::NotRunning => Ok(Status::NotRunning),
            Verdict::Running => Ok(Status::Success),
            Verdict::Failed(why) => Err(Error::generic(why)),
            Verdict::Uncontrolled(why) => Err(self.uncontrolled(ctx, &why)),
        }
    }
}

/// Which listener of the query socket is the daemon: the daemon's processes (found by its
/// binary and this agent's user), narrowed to the one its pid file names when that is one
/// of them (the others are its helper process); they all run as one user.
pub fn trusted_listener(found: &[Captured], pid_file: Option<i32>) -> Trusted {
    let pids: Vec<i32> = found.iter().map(Captured::pid).collect();
    let pids = match pid_file {
        Some(pid) if pids.contains(&pid) => vec![pid],
        _ => pids,
    };
    Trusted {
        uid: found.first().map_or(0, |c| c.uids.effective),
        pids,
    }
}

/// For a probe or stop whose `daemon` is unusable (see `ocf::config`): could a daemon this
/// resource started be running? Not when the kernel holds no DLM lockspace and no process
/// of this agent's user runs a program of that file name (or dlm_controld).
pub fn presence<H: Host>(host: &H, raw_daemon: &str) -> Result<Presence> {
    let lockspaces = host
        .lockspaces()
        .map_err(|e| Error::generic(format!("reading /sys/kernel/dlm: {}", plain(&e))))?;
    if !lockspaces.is_empty() {
        return Ok(Presence::Possible(format!(
            "the kernel's DLM lockspaces {}",
            lockspaces.join(", ")
        )));
    }
    let name = raw_daemon.rsplit('/').next().unwrap_or_default().trim();
    let mut names = vec!["dlm_controld"];
    if !name.is_empty() && name != "dlm_controld" {
        names.insert(0, name);
    }
    for n in names {
        let found = host
            .processes_running(n)
            .map_err(|e| Error::generic(format!("looking for {n}: {}", plain(&e))))?;
        if !found.is_empty() {
            let pids: Vec<i32> = found.iter().map(Captured::pid).collect();
            return Ok(Presence::Possible(format!(
                "{} running as root ({})",
                ocf::error::printable(n),
                pids_text(&pids)
            )));
        }
    }
    Ok(Presence::Absent(
        "no dlm_controld (nor a program of that name) runs as root and the kernel holds no \
         DLM lockspace"
            .to_owned(),
    ))
}

#[cfg(test)]
mod tests;
