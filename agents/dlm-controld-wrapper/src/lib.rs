//! dlm-controld-wrapper: the OCF agent that runs dlm_controld, the DLM daemon GFS2 needs on
//! every node. A drop-in for `ocf:pacemaker:controld` (same parameters), which it improves on:
//! every wait is bounded by the deadline, monitor asks the daemon over its query socket
//! instead of forking dlm_tool, and stop refuses at once while lockspaces are in use. Like
//! the anchor, it never turns the daemon's own fencing off by itself: with fencing disabled
//! (and allowed) a lost node freezes GFS2 rather than letting two nodes write it; only the
//! administrator's `args` (`--enable_fencing 0`) trade that freeze for the risk, which start
//! then logs.

pub mod args;
pub mod config;
pub mod health;
pub mod process;

use config::{Identity, Settings};
use dlm_control::Kernel;
use health::Verdict;
use ocf::{Context, Error, Params, Presence, Result, ResultExt, Status};
use std::path::PathBuf;
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

/// The daemon's command line and what start must warn about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaemonArgs {
    pub argv: Vec<String>,
    pub warnings: Vec<String>,
}

/// The longest one query to the daemon may take within an action.
const QUERY_BOUND: Duration = Duration::from_secs(5);

/// The agent: its configuration and the host it runs on.
#[derive(Debug)]
pub struct DlmControld {
    pub identity: Identity,
    pub settings: Settings,
    pub kernel: Kernel,
    pub proc_root: PathBuf,
    /// The daemon's query socket (`@dlmc_query_sock`; tests name another).
    pub query_socket: String,
}

impl ocf::Agent for DlmControld {
    const NAME: &'static str = "dlm-controld-wrapper";
    const METADATA: &'static str = include_str!("../../../xml-metadata/dlm-controld-wrapper.xml");

    type Identity = Identity;
    type Settings = Settings;

    /// Any process that looks like the daemon may be it.
    fn presence_without_identity(params: &Params, _ctx: &Context) -> Result<Presence> {
        let daemon = params.raw("daemon").unwrap_or_default();
        let pids: Vec<i32> = process::find(std::path::Path::new("/proc"), daemon)
            .or_generic(|| "looking for the daemon's processes")?
            .iter()
            .map(procs::Captured::pid)
            .collect();
        Ok(if pids.is_empty() {
            Presence::Absent(format!("no process named like {daemon:?} runs"))
        } else {
            Presence::Possible(format!("{daemon:?} running as pid {pids:?}"))
        })
    }

    fn new(identity: Identity, settings: Settings, _ctx: &Context) -> Result<Self> {
        Ok(DlmControld {
            identity,
            settings,
            kernel: Kernel::system(),
            proc_root: PathBuf::from("/proc"),
            query_socket: dlm_control::wire::QUERY_SOCKET.to_owned(),
        })
    }

    fn validate(&self, ctx: &Context) -> Result<()> {
        if ctx.env.meta.globally_unique == Some(true) {
            return Err(Error::configured(
                "globally-unique=true is not supported: run dlm-controld-wrapper as an anonymous \
                 clone (globally-unique=false)",
            ));
        }
        self.binary().map(drop)
    }

    fn start(&self, ctx: &Context) -> Result<Status> {
        self.validate(ctx)?;
        let program = self.binary()?;
        let o = self.observe(ctx);
        match health::assess(&o) {
            Verdict::Running => {
                log::info!("dlm_controld already runs (pid {:?})", o.pids);
                return Ok(Status::Success);
            }
            Verdict::NotRunning => {}
            Verdict::Failed(why) | Verdict::Uncontrolled(why) => {
                return Err(Error::generic(format!("cannot start: {why}")));
            }
        }
        self.ensure_configfs(ctx)?;
        self.ensure_dlm_module(ctx)?;
        let argv = self.argv_for_fencing(ctx)?;
        log::info!("starting {} {}", program.display(), argv.join(" "));
        let launch = process::launch(
            &program,
            &argv,
            ctx.deadline.within(Duration::from_secs(30)),
        )
        .or_generic(|| "starting dlm_controld")?;
        let ready = ctx.deadline.poll(Duration::from_millis(250), || {
            let o = self.observe(ctx);
            if health::ready(&o, self.kernel.comms_ready().unwrap_or(false)) {
                return Some(Ok(o.pids));
            }
            if o.pids.is_empty() && matches!(launch, process::Launch::Detached) {
                return Some(Err(()));
            }
            None
        });
        match ready {
            Some(Ok(pids)) => {
                log::info!("dlm_controld is ready (pid {pids:?})");
                Ok(Status::Success)
            }
            Some(Err(())) => Err(Error::generic(
                "dlm_controld exited right after starting; see its log (journalctl -t \
                 dlm_controld, /var/log/dlm_controld)",
            )),
            None => {
                let o = self.observe(ctx);
                let answer = match &o.report {
                    Some(Ok(_)) => "answers".to_owned(),
                    Some(Err(e)) => e.clone(),
                    None => "no daemon process".to_owned(),
                };
                Err(Error::generic(format!(
                    "dlm_controld was not ready before the start timeout (comms in {} \
                     configured: {}; query socket: {answer})",
                    self.kernel.configfs_dlm().display(),
                    self.kernel.comms_ready().unwrap_or(false),
                )))
            }
        }
    }

    fn stop(&self, ctx: &Context) -> Result<Status> {
        let lockspaces = self
            .kernel
            .lockspaces()
            .or_generic(|| format!("reading {}", self.kernel.sysfs_dlm().display()))?;
        if !lockspaces.is_empty() {
            return Err(Error::generic(format!(
                "refusing to stop dlm_controld: DLM lockspaces {} are still in use (a mounted \
                 GFS2?); stop their users first",
                lockspaces.join(", ")
            )));
        }
        let found = process::find(&self.proc_root, &self.identity.daemon)
            .or_generic(|| "looking for dlm_controld's processes")?;
        if found.is_empty() {
            return Ok(Status::Success);
        }
        let pids: Vec<i32> = found.iter().map(procs::Captured::pid).collect();
        log::info!("stopping dlm_controld (pid {pids:?})");
        let gone = process::terminate_and_wait(&found, ctx.deadline)
            .or_generic(|| format!("signalling dlm_controld (pid {pids:?})"))?;
        if gone {
            Ok(Status::Success)
        } else {
            Err(Error::generic(format!(
                "dlm_controld (pid {pids:?}) did not exit before the stop timeout"
            )))
        }
    }

    fn monitor(&self, ctx: &Context) -> Result<Status> {
        match health::assess(&self.observe(ctx)) {
            Verdict::NotRunning => Ok(Status::NotRunning),
            Verdict::Running => Ok(Status::Success),
            Verdict::Failed(why) => Err(Error::generic(why)),
            Verdict::Uncontrolled(why) => Err(Self::uncontrolled(ctx, &why)),
        }
    }
}

impl DlmControld {
    fn binary(&self) -> Result<PathBuf> {
        process::resolve(&self.identity.daemon).ok_or_else(|| {
            Error::installed(format!(
                "daemon {} not found (or not executable) on PATH, /usr/sbin or /sbin; install \
                 dlm-controld",
                ocf::error::printable(&self.identity.daemon)
            ))
        })
    }

    fn observe(&self, ctx: &Context) -> health::Observation {
        let end = ctx.deadline.within(QUERY_BOUND).end();
        health::observe(
            &self.proc_root,
            &self.identity.daemon,
            &self.kernel,
            &self.query_socket,
            end,
        )
    }

    /// configfs at /sys/kernel/config, mounted only when it is not.
    fn ensure_configfs(&self, ctx: &Context) -> Result<()> {
        let target = dlm_control::kernel::CONFIGFS_MOUNTPOINT;
        if self
            .kernel
            .configfs_mounted()
            .or_generic(|| "reading /proc/self/mounts")?
        {
            return Ok(());
        }
        if !self.kernel.configfs_known() {
            modprobe("configfs", ctx)?;
        }
        log::info!("mounting configfs on {target}");
        // mount(2), as `mount -t configfs none /sys/kernel/config`.
        nix::mount::mount(
            Some("configfs"),
            target,
            Some("configfs"),
            nix::mount::MsFlags::empty(),
            None::<&str>,
        )
        .or_generic(|| format!("mounting configfs on {target}"))
    }

    /// The dlm module, loaded only when /sys/kernel/config/dlm is absent.
    fn ensure_dlm_module(&self, ctx: &Context) -> Result<()> {
        let dir = self.kernel.configfs_dlm();
        if dir.exists() {
            return Ok(());
        }
        modprobe("dlm", ctx)?;
        ctx.deadline
            .poll(Duration::from_millis(100), || dir.exists().then_some(()))
            .ok_or_else(|| {
                Error::generic(format!(
                    "{} did not appear after modprobe dlm",
                    dir.display()
                ))
            })
    }

    /// The daemon's argv after the fencing check (its warnings logged): refuse when fencing
    /// is off and not allowed. The daemon's own fencing is the administrator's to turn off,
    /// in `args`, never ours.
    fn argv_for_fencing(&self, ctx: &Context) -> Result<Vec<String>> {
        let options =
            pacemaker_cli::cluster_options(ctx.deadline.within(Duration::from_secs(30)).end())
                .or_generic(|| "reading the cluster's fencing setting")?;
        let plan = self.argv_for_options(&options)?;
        for warning in &plan.warnings {
            log::warn!("{warning}");
        }
        Ok(plan.argv)
    }

    /// [`Self::argv_for_fencing`] for options already read.
    pub fn argv_for_options(&self, options: &pacemaker_cli::ClusterOptions) -> Result<DaemonArgs> {
        let mut warnings = Vec::new();
        if options.no_quorum_policy() != "freeze" {
            warnings.push(format!(
                "no-quorum-policy is {}, not freeze: a node that loses quorum stops its \
                 resources, and GFS2 can hang on the way",
                options.no_quorum_policy()
            ));
        }
        let argv = self.settings.args.clone();
        if !options.fencing_enabled() && !self.settings.allow_fencing_disabled {
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

    /// Lockspaces without a healthy daemon: ask Pacemaker to fence this node when fencing is
    /// enabled (as ocf:pacemaker:controld does); otherwise say so loudly. Either way a failure.
    fn uncontrolled(ctx: &Context, why: &str) -> Error {
        let end = ctx.deadline.end();
        let fencing = pacemaker_cli::cluster_options(end).map_or_else(
            |e| {
                log::warn!("cannot read the fencing setting ({e}); assuming fencing is enabled");
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
        let request = pacemaker_cli::local_node_name(end).and_then(|node| {
            pacemaker_cli::fence_node(&node, "dlm-controld-wrapper", end).map(|()| node)
        });
        match request {
            Ok(node) => {
                log::error!("{why}: requested fencing of this node ({node})");
                Error::generic(format!("{why}: requested fencing of this node ({node})"))
            }
            Err(e) => {
                log::error!("{why}: requesting fencing of this node failed: {e}");
                Error::generic(format!(
                    "{why}; requesting fencing of this node failed: {e}"
                ))
            }
        }
    }
}

fn modprobe(module: &str, ctx: &Context) -> Result<()> {
    ocf::kernel::load_module(
        module,
        &[],
        ctx.deadline.within(Duration::from_secs(30)).end(),
    )
}

#[cfg(test)]
mod tests;
