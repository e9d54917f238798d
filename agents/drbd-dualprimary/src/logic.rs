//! The policy: what start, stop, monitor, promote, demote, notify, reload and validate-all
//! do with the DRBD resource, written against [`Host`] so that the same code runs on the
//! kernel and, in the unit tests, on a fake.

use crate::clone;
use crate::config::{Config, Identity, Settings, Version};
use crate::host::Host;
use crate::score::{self, Score, ScoreCache};
use drbd_genl::{ConnState, DiskState, ResourceStatus, api};
use ocf::{Context, Error, NotifyType, Policy, Presence, Result, ResultExt, Status};
use std::time::{Duration, Instant};

/// A refused promotion is reported no sooner than this after the promote began, so that
/// Pacemaker's recovery cannot spin promote attempts in a tight loop (drbd.ocf does the same).
pub const REFUSED_PROMOTE_MIN: Duration = Duration::from_secs(15);
/// Pause between two role-change attempts (doubling up to 4 s).
const RETRY_FIRST: Duration = Duration::from_millis(500);
const RETRY_MAX: Duration = Duration::from_secs(4);
/// How often a wait re-reads the status.
const POLL: Duration = Duration::from_millis(200);
/// Pause between two attempts while the device is held open (drbd.ocf retries every second).
const HELD_OPEN_RETRY: Duration = Duration::from_secs(1);
/// `SS_DEVICE_IN_USE` of `enum drbd_state_rv`: the device is open ("held open by someone").
const SS_DEVICE_IN_USE: i32 = -12;

/// How a helper program ended, for a message: `exit 10`, `killed by signal 9`.
fn ended(out: &child::Output) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (out.code(), out.status.signal()) {
        (Some(code), _) => format!("exit {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        (None, None) => "ended abnormally".to_owned(),
    }
}

/// The agent's policy for one DRBD resource over a host `H`.
#[derive(Debug)]
pub struct Logic<H: Host> {
    pub cfg: Config,
    pub host: H,
    /// The last promotion score written for each instance.
    pub cache: ScoreCache,
    /// [`REFUSED_PROMOTE_MIN`] (shorter in tests).
    pub refused_promote_min: Duration,
}

fn end(ctx: &Context) -> Instant {
    ctx.deadline.end()
}

fn promoted_max(ctx: &Context) -> u32 {
    ctx.env.meta.promoted_max.unwrap_or(1)
}

/// Could a DRBD resource named `name` (a `drbd_resource` that did not parse) be up here?
/// The kernel is asked by the raw name; a name it cannot hold is not up.
pub fn presence<H: Host>(host: &H, name: Option<&str>, end: Instant) -> Result<Presence> {
    let Some(name) = name else {
        return Ok(Presence::Absent("no drbd_resource is set".into()));
    };
    if name.is_empty() || name.len() > crate::config::MAX_RESOURCE_NAME || name.contains('\0') {
        return Ok(Presence::Absent(
            "the kernel holds no DRBD resource with such a name".into(),
        ));
    }
    let printable = ocf::error::printable(name);
    match host
        .status(name, end)
        .or_generic(|| format!("asking the kernel for DRBD resource {printable}"))?
    {
        None => Ok(Presence::Absent(format!(
            "the kernel has no DRBD resource {printable}"
        ))),
        Some(st) => Ok(Presence::Possible(format!(
            "DRBD resource {printable}, which is up here ({})",
            st.summary()
        ))),
    }
}

/// The other nodes promoted once the notified transition is done: Pacemaker's lists hold the
/// state before it (`promoted`) and what it does (`promote`, `demote`, `stop`), so the
/// instances it demotes or stops (a fenced peer's among them) are not promoted afterwards.
/// Without the subtraction a survivor's post-notification right after its peer's fencing
/// read "Primary here and on the peer, link down" as a split brain (lab check 33, Debian 13).
pub fn promoted_peers_after<'a>(n: &'a ocf::Notify, me: &str) -> Vec<&'a str> {
    let leaving: Vec<&str> = n
        .demote
        .iter()
        .chain(&n.stop)
        .map(|p| p.uname.as_str())
        .collect();
    let mut after: Vec<&str> = Vec::new();
    for u in n
        .promoted
        .iter()
        .chain(&n.promote)
        .map(|p| p.uname.as_str())
    {
        if !u.is_empty() && u != me && !leaving.contains(&u) && !after.contains(&u) {
            after.push(u);
        }
    }
    after
}

impl<H: Host> Logic<H> {
    fn res(&self) -> &str {
        &self.cfg.identity.resource
    }

    fn status(&self, ctx: &Context) -> Result<Option<ResourceStatus>> {
        self.host
            .status(self.res(), end(ctx))
            .or_generic(|| format!("reading the status of DRBD resource {}", self.res()))
    }

    /// `drbdadm ARGS`, an error with drbdadm's message when it fails.
    fn drbdadm(&self, ctx: &Context, args: &[&str]) -> Result<child::Output> {
        let out = self
            .host
            .drbdadm(&self.cfg.settings.drbdconf, args, &[], end(ctx))
            .or_status(Status::ErrInstalled, || {
                format!("drbdadm {}", args.join(" "))
            })?;
        if out.success() {
            Ok(out)
        } else {
            Err(Error::generic(format!(
                "drbdadm {} failed ({}): {}",
                args.join(" "),
                ended(&out),
                out.message()
            )))
        }
    }

    /// The clone's meta-attributes, for the actions that put the resource in place.
    fn check_clone(&self, ctx: &Context) -> Result<u32> {
        clone::check_meta(
            &ctx.env.meta,
            self.cfg.settings.ignore_missing_notifications,
        )
    }

    /// drbdadm on disk (5 otherwise, naming its package): checked before the configuration,
    /// which a node without drbd-utils lacks too, so validate-all names the cause, not the
    /// missing drbd.conf.
    fn check_drbdadm(&self) -> Result<()> {
        if self.host.drbdadm_installed() {
            return Ok(());
        }
        Err(Error::installed(
            "drbdadm: not found (or not executable) on PATH, /usr/sbin or /sbin; install \
             drbd-utils",
        ))
    }

    /// The loaded module's version within the configured bounds (5 otherwise).
    fn check_module_version(&self) -> Result<()> {
        let Some(v) = self.host.module_version() else {
            return Ok(());
        };
        let have = Version::parse("drbd module version", &v)
            .map_err(|e| Error::installed(e.reason().to_owned()))?;
        let s = &self.cfg.settings;
        if have < s.version_ge || have >= s.version_lt {
            return Err(Error::installed(format!(
                "the loaded drbd module is version {v}, outside \
                 require_drbd_module_version_ge={} .. require_drbd_module_version_lt={}",
                s.version_ge, s.version_lt
            )));
        }
        Ok(())
    }

    /// What this node's DRBD configuration says of the resource, read as drbdadm reads it
    /// (`common` merged in, as `drbdadm -d -v dump` shows it): it must define the resource,
    /// and with promoted-max=2 allow two primaries on every connection. All of it is this
    /// node's files, so a failure is OCF_ERR_INSTALLED (5): Pacemaker keeps the instance off
    /// this node only, where a 6 would stop the clone on every node for one node's file
    /// (README, fault table).
    fn check_configuration(&self, promoted_max: u32) -> Result<()> {
        let path = &self.cfg.settings.drbdconf;
        let drbdconf = ocf::error::printable(&path.to_string_lossy());
        let conf = self
            .host
            .drbd_config(path)
            .map_err(|e| Error::installed(format!("drbdconf={drbdconf}: {e}")))?;
        let Some(resource) = conf.resource(self.res()) else {
            return Err(Error::installed(format!(
                "DRBD resource {} is not defined in drbdconf={drbdconf} or the files it \
                 includes",
                self.res()
            )));
        };
        if promoted_max == 2 && !resource.allows_two_primaries() {
            return Err(Error::installed(format!(
                "promoted-max=2 but DRBD resource {} does not allow two primaries in \
                 drbdconf={drbdconf}: add \"allow-two-primaries yes;\" to its net section \
                 (or to common's)",
                self.res()
            )));
        }
        Ok(())
    }

    /// Wait up to wfc_timeout (within the deadline) for a peer connection.
    fn wait_for_peer(&self, ctx: &Context, st: ResourceStatus) -> ResourceStatus {
        let Some(wfc) = self.cfg.settings.wfc_timeout else {
            return st;
        };
        if self.cfg.settings.connect_only_after_promote || st.any_peer_connected() {
            return st;
        }
        let until = ctx.deadline.within(wfc);
        until
            .poll(POLL, || {
                self.status(ctx)
                    .ok()
                    .flatten()
                    .filter(ResourceStatus::any_peer_connected)
            })
            .unwrap_or_else(|| {
                log::warn!(
                    "the peer of {} did not connect within wfc_timeout ({} s); going on",
                    self.res(),
                    wfc.as_secs()
                );
                self.status(ctx).ok().flatten().unwrap_or(st)
            })
    }

    /// Primary or Secondary over netlink, retried within the deadline while the kernel's
    /// refusal may pass. Returns the last refusal when it cannot. Primary means every
    /// volume: each attempt asks for the minors not yet in the wanted role, and it is done
    /// only when none is left (Secondary: when no volume is Primary).
    fn change_role(&self, ctx: &Context, primary: bool) -> Result<()> {
        let word = if primary { "promote" } else { "demote" };
        let mut nap = RETRY_FIRST;
        let mut attempt = 0;
        let mut accepted = false;
        loop {
            attempt += 1;
            if accepted {
                // The kernel said yes; give the state a moment to show it before asking again.
                ctx.deadline.sleep(POLL);
            }
            if ctx.deadline.expired() {
                return Err(Error::generic(format!(
                    "cannot {word} {}: still not done at the deadline",
                    self.res()
                )));
            }
            let st = self.status(ctx)?.ok_or_else(|| {
                Error::not_running(format!("DRBD resource {} is not up", self.res()))
            })?;
            let done = if primary {
                st.all_primary()
            } else {
                !st.any_primary()
            };
            if done {
                return Ok(());
            }
            let err =
                match self
                    .host
                    .set_role(self.res(), primary, &st.minors_where(!primary), end(ctx))
                {
                    Ok(()) => {
                        accepted = true;
                        continue;
                    }
                    Err(e) => e,
                };
            accepted = false;
            // Held open passes once the holder lets go (it is what a demote meets after the
            // unmount): retried until the deadline, at drbd.ocf's pace.
            let busy = !primary && err.refusal_code() == Some(SS_DEVICE_IN_USE);
            let transient = busy || err.refusal_code().is_none_or(api::state_rv_transient);
            let give_up = !transient
                || (primary
                    && self.cfg.settings.fail_promote_early_if_peer_primary
                    && promoted_max(ctx) <= 1
                    && st.any_peer_primary()
                    && attempt >= 2);
            log::warn!("{word} attempt {attempt} of {}: {err}", self.res());
            if give_up || ctx.deadline.remaining() <= nap {
                let part = if primary && st.any_primary() {
                    format!(" (Primary only in part: {})", st.roles())
                } else {
                    String::new()
                };
                return Err(Error::generic(format!(
                    "cannot {word} {}{part}: {err}",
                    self.res()
                )));
            }
            if busy {
                ctx.deadline.sleep(HELD_OPEN_RETRY);
                continue;
            }
            ctx.deadline.sleep(nap);
            nap = (nap * 2).min(RETRY_MAX);
        }
    }

    /// Take the resource down by its name over netlink (DRBD's `DOWN`: demote, disconnect,
    /// detach, delete), whatever drbdconf says: stop needs the identity only. Retried every
    /// second until the deadline while a device is held open (after an unmount, udev, blkid
    /// or an LVM scan often holds it for a moment); any other refusal is reported at once.
    fn down(&self, ctx: &Context) -> Result<()> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let err = match self.host.down(self.res(), end(ctx)) {
                Ok(()) => return Ok(()),
                Err(e) => e,
            };
            let failed = || Error::generic(format!("cannot take {} down: {err}", self.res()));
            if err.refusal_code() != Some(SS_DEVICE_IN_USE) {
                return Err(failed());
            }
            log::warn!("down attempt {attempt} of {}: {err}", self.res());
            if ctx.deadline.remaining() <= HELD_OPEN_RETRY {
                return Err(failed());
            }
            ctx.deadline.sleep(HELD_OPEN_RETRY);
        }
    }

    /// After a failed promote, the volumes it made Primary go back to Secondary: a resource
    /// Primary in part is neither promoted nor safe to leave (one request, logged; the
    /// demote Pacemaker runs next retries).
    fn undo_partial_promote(&self, ctx: &Context) {
        let Ok(Some(st)) = self.host.status(self.res(), end(ctx)) else {
            return;
        };
        let minors = st.minors_where(true);
        if minors.is_empty() {
            return;
        }
        match self.host.set_role(self.res(), false, &minors, end(ctx)) {
            Ok(()) => log::warn!(
                "the promote of {} failed: {} back to Secondary",
                self.res(),
                st.roles()
            ),
            Err(e) => log::error!(
                "the promote of {} failed and it stays Primary in part ({}): {e}",
                self.res(),
                st.roles()
            ),
        }
    }

    /// Set the score the status deserves, forking crm_attribute only when it differs from
    /// the one this agent last wrote (or `force`). Failures are logged: a score that could
    /// not be written must not fail the monitor.
    fn update_score(&self, ctx: &Context, st: &ResourceStatus, promoted_max: u32, force: bool) {
        let s = &self.cfg.settings;
        let want = score::decide(st, &s.ladder, s.peer_primary, promoted_max);
        if want == Score::Keep {
            return;
        }
        let instance = ctx.env.instance.as_str();
        if !force && self.cache.get(instance) == Some(want) {
            return;
        }
        let written = match want {
            Score::Set(n) => self.host.set_score(instance, n, end(ctx)),
            _ => self.host.delete_score(instance, end(ctx)),
        };
        match written {
            Ok(()) => {
                log::info!("promotion score of {instance}: {want} ({})", st.summary());
                if let Err(e) = self.cache.put(instance, want) {
                    log::warn!(
                        "caching the promotion score in {}: {e}",
                        self.cache.dir().display()
                    );
                }
            }
            Err(e) => log::warn!("setting the promotion score of {instance} to {want}: {e}"),
        }
        // Reached only when the score was (re)written: unfencing runs once per change.
        if s.unfence_if_all_uptodate
            && st.all_primary()
            && st.all_disks(DiskState::UpToDate)
            && st
                .peers
                .iter()
                .all(|p| p.volumes.iter().all(|v| v.disk == DiskState::UpToDate))
        {
            let env = [(
                "OCF_RESKEY_unfence_extra_args",
                s.unfence_extra_args.as_str(),
            )];
            match self
                .host
                .drbdadm(&s.drbdconf, &["unfence-peer", self.res()], &env, end(ctx))
            {
                Ok(out) if !out.success() => log::warn!(
                    "drbdadm unfence-peer {} failed ({}): {}",
                    self.res(),
                    ended(&out),
                    out.message()
                ),
                Ok(_) => {}
                Err(e) => log::warn!("drbdadm unfence-peer {}: {e}", self.res()),
            }
        }
    }
}

impl<H: Host> Policy for Logic<H> {
    type Identity = Identity;
    type Settings = Settings;

    /// validate-all: the clone, drbdadm, the loaded module's version, and this node's DRBD
    /// configuration as start reads it (forking nothing).
    fn validate(&self, ctx: &Context) -> Result<()> {
        let promoted_max = self.check_clone(ctx)?;
        self.check_drbdadm()?;
        self.check_module_version()?;
        self.check_configuration(promoted_max)
    }

    fn start(&self, ctx: &Context) -> Result<Status> {
        let promoted_max = self.check_clone(ctx)?;
        self.check_configuration(promoted_max)?;
        if self.host.module_version().is_none() {
            self.host
                .load_module(&self.cfg.settings.drbdconf, end(ctx))?;
        }
        self.check_module_version()?;
        let res = self.res().to_owned();
        let skip_net = self.cfg.settings.connect_only_after_promote;
        let up = self.status(ctx)?.is_some();
        let args: &[&str] = match (up, skip_net) {
            (_, true) => &["adjust", "--skip-net", &res],
            (false, false) => &["up", &res],
            (true, false) => &["adjust", &res],
        };
        self.drbdadm(ctx, args)?;
        let st = ctx
            .deadline
            .poll(POLL, || self.status(ctx).ok().flatten())
            .ok_or_else(|| Error::generic(format!("DRBD resource {res} did not come up")))?;
        if st.any_primary() {
            self.change_role(ctx, false)?;
        }
        let st = self.wait_for_peer(ctx, st);
        log::info!("started: {}", st.summary());
        self.update_score(ctx, &st, promoted_max, true);
        Ok(Status::Success)
    }

    fn promote(&self, ctx: &Context) -> Result<Status> {
        let began = Instant::now();
        let promoted_max = self.check_clone(ctx)?;
        self.check_configuration(promoted_max)?;
        if let Err(e) = self.change_role(ctx, true) {
            if e.status() == Status::NotRunning {
                return Err(e.with_status(Status::ErrGeneric));
            }
            self.undo_partial_promote(ctx);
            // Never a tight loop: a refused promote is reported no sooner than 15 s after
            // it began (bounded by the deadline).
            let wait = self.refused_promote_min.saturating_sub(began.elapsed());
            ctx.deadline.sleep(wait);
            if let Ok(Some(st)) = self.host.status(self.res(), end(ctx)) {
                self.update_score(ctx, &st, promoted_max, false);
            }
            return Err(e);
        }
        if self.cfg.settings.connect_only_after_promote {
            self.drbdadm(ctx, &["adjust", self.res()])?;
        }
        let st = self.status(ctx)?.ok_or_else(|| {
            Error::generic(format!(
                "DRBD resource {} went down after the promote",
                self.res()
            ))
        })?;
        log::info!("promoted: {}", st.summary());
        self.update_score(ctx, &st, promoted_max, false);
        Ok(Status::Success)
    }

    /// Demote whatever the clone's meta-attributes say: like stop, it undoes, so it must
    /// not fail on a setting (the bad-configuration rule).
    fn demote(&self, ctx: &Context) -> Result<Status> {
        if self.status(ctx)?.is_none() {
            return Ok(Status::NotRunning);
        }
        self.change_role(ctx, false)?;
        if let Some(st) = self.status(ctx)? {
            log::info!("demoted: {}", st.summary());
            self.update_score(ctx, &st, promoted_max(ctx), false);
        }
        Ok(Status::Success)
    }

    fn monitor(&self, ctx: &Context) -> Result<Status> {
        let Some(st) = self.status(ctx)? else {
            return Ok(Status::NotRunning);
        };
        // A probe always writes the score: Pacemaker may have restarted since the cache.
        self.update_score(ctx, &st, promoted_max(ctx), ctx.is_probe());
        let degraded =
            degraded(&st, self.cfg.settings.connect_only_after_promote).map(|(why, advice)| {
                log::warn!("{}: {advice}", self.res());
                why
            });
        if st.all_primary() {
            match degraded {
                // Running, promoted, and needing the administrator: Pacemaker shows the reason
                // and recovers nothing (a restart would not bring the disk or the link back).
                Some(why) => Err(Error::new(
                    Status::DegradedPromoted,
                    format!("DRBD resource {} is degraded: {why}", self.res()),
                )),
                None => Ok(Status::RunningPromoted),
            }
        } else if st.any_primary() {
            // Not promoted, and not safe to call unpromoted: promoted but failed, so that
            // Pacemaker demotes before anything else.
            Err(Error::new(
                Status::FailedPromoted,
                format!(
                    "DRBD resource {} is Primary only in part ({})",
                    self.res(),
                    st.roles()
                ),
            ))
        } else if let Some(why) = degraded {
            Err(Error::new(
                Status::Degraded,
                format!("DRBD resource {} is degraded: {why}", self.res()),
            ))
        } else {
            Ok(Status::Success)
        }
    }

    /// Notify never fails (Pacemaker ignores its result anyway): problems are logged.
    fn notify(&self, ctx: &Context) -> Result<Status> {
        let Some(n) = ctx.env.notify.as_ref() else {
            log::warn!("notify without notification variables; nothing to do");
            return Ok(Status::Success);
        };
        if n.operation == "start" && !self.cfg.settings.connect_only_after_promote {
            match self.host.status(self.res(), end(ctx)) {
                Ok(Some(st)) if !st.any_peer_connected() => {
                    if let Err(e) = self.drbdadm(ctx, &["adjust", self.res()]) {
                        log::warn!("reconnecting {} after a peer start: {e}", self.res());
                    }
                }
                _ => {}
            }
        }
        if n.kind == NotifyType::Post {
            let Ok(Some(st)) = self.host.status(self.res(), end(ctx)) else {
                return Ok(Status::Success);
            };
            let others = promoted_peers_after(n, &ctx.env.node_name());
            let peer_unknown = st
                .peers
                .iter()
                .all(|p| p.volumes.iter().all(|v| v.disk == DiskState::DUnknown));
            if st.any_primary() && !st.any_peer_connected() && !others.is_empty() {
                log::error!(
                    "SPLIT BRAIN: {} is Primary here and on {} but the replication link is down; \
                     resolve it by hand (drbdadm connect --discard-my-data on the victim)",
                    self.res(),
                    others.join(" ")
                );
            } else if !st.any_primary()
                && peer_unknown
                && !others.is_empty()
                && self.cfg.settings.stop_outdates_secondary
            {
                log::warn!(
                    "outdating {}: Pacemaker reports {} promoted while the peer's disk is unknown",
                    self.res(),
                    others.join(" ")
                );
                if let Err(e) = self.drbdadm(ctx, &["outdate", self.res()]) {
                    log::warn!("outdating {}: {e}", self.res());
                }
            }
            let st = self
                .host
                .status(self.res(), end(ctx))
                .ok()
                .flatten()
                .unwrap_or(st);
            self.update_score(ctx, &st, promoted_max(ctx), false);
        }
        Ok(Status::Success)
    }

    /// Apply changed settings to a running resource without a demote or a stop (Pacemaker
    /// calls it for any changed parameter but drbd_resource: the metadata's legacy reload):
    /// the module and the configuration checked as start checks them, `drbdadm adjust`
    /// (with `--skip-net` while connect_only_after_promote holds and it is not promoted), and
    /// the promotion score written again from the ladder. Settings read by later actions
    /// (wfc_timeout, the notify and promote switches) need nothing now. A resource that is
    /// not up has nothing to reload.
    fn reload(&self, ctx: &Context) -> Result<Status> {
        let Some(st) = self.status(ctx)? else {
            log::info!(
                "reload: DRBD resource {} is not up; nothing to apply",
                self.res()
            );
            return Ok(Status::Success);
        };
        self.check_module_version()?;
        self.check_configuration(promoted_max(ctx))?;
        let res = self.res().to_owned();
        let args: &[&str] = if self.cfg.settings.connect_only_after_promote && !st.all_primary() {
            &["adjust", "--skip-net", &res]
        } else {
            &["adjust", &res]
        };
        self.drbdadm(ctx, args)?;
        if let Some(st) = self.status(ctx)? {
            log::info!("reloaded: {}", st.summary());
            self.update_score(ctx, &st, promoted_max(ctx), true);
        }
        Ok(Status::Success)
    }

    fn stop(&self, ctx: &Context) -> Result<Status> {
        let instance = ctx.env.instance.clone();
        if self.status(ctx)?.is_some() {
            self.change_role(ctx, false).or_else(|e| {
                if e.status() == Status::NotRunning {
                    Ok(())
                } else {
                    Err(e)
                }
            })?;
            self.down(ctx)?;
            if ctx
                .deadline
                .poll(POLL, || self.status(ctx).ok().filter(Option::is_none))
                .is_none()
            {
                return Err(Error::generic(format!(
                    "DRBD resource {} is still up after the kernel took it down",
                    self.res()
                )));
            }
        }
        // Remove the score unless this agent knows it already did.
        if self.cache.get(&instance) != Some(Score::Remove)
            && let Err(e) = self.host.delete_score(&instance, end(ctx))
        {
            log::warn!("removing the promotion score of {instance}: {e}");
        }
        self.cache.clear(&instance);
        Ok(Status::Success)
    }
}

/// What makes a running resource degraded, needing the administrator, if anything: a local
/// disk DRBD detached or failed (after an I/O error: the node serves over its peer), or a
/// replication link DRBD will not bring back by itself (StandAlone: a split brain, or a
/// disconnect by hand). Transitional states (attaching, a resync, the peer away and awaited)
/// are not: they heal by themselves. StandAlone is expected while connect_only_after_promote
/// keeps an unpromoted resource off the network. Returns the reason (short: Pacemaker keeps
/// 128 characters of an exit reason) and what to do, for the log.
pub(crate) fn degraded(
    st: &ResourceStatus,
    connect_only_after_promote: bool,
) -> Option<(String, String)> {
    let mut why = Vec::new();
    let mut advice = Vec::new();
    let failed: Vec<String> = st
        .volumes
        .iter()
        .filter(|v| {
            !v.intentional_diskless && matches!(v.disk, DiskState::Diskless | DiskState::Failed)
        })
        .map(|v| format!("minor {} {}", v.minor, v.disk))
        .collect();
    if !failed.is_empty() {
        why.push(format!("local disk lost ({})", failed.join(", ")));
        advice.push(format!(
            "DRBD detached the local disk (an I/O error, or by hand) and sends I/O to the peer: repair or \
             replace the disk, then `drbdadm attach {}`",
            st.name
        ));
    }
    let offline_by_design = connect_only_after_promote && !st.all_primary();
    if !offline_by_design && st.peers.iter().any(|p| p.conn == ConnState::StandAlone) {
        why.push("replication link StandAlone (split brain?)".to_owned());
        advice.push(format!(
            "DRBD will not reconnect by itself (a split brain, or a disconnect by hand: the kernel log \
             says which). After a split brain choose the node whose changes are dropped; there, with GFS2 \
             stopped and DRBD demoted, `drbdadm connect --discard-my-data {0}`; on the other node \
             `drbdadm connect {0}`",
            st.name
        ));
    }
    (!why.is_empty()).then(|| (why.join("; "), advice.join(". ")))
}

#[cfg(test)]
mod tests;
