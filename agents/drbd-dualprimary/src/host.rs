//! The seam between the policy ([`crate::logic`]) and the machine: everything
//! drbd-dualprimary asks of the kernel and the cluster, and nothing more. [`System`] is the
//! real one (DRBD's generic netlink family through `drbd-genl` for the status, role changes
//! and `down`; the configuration files read as drbdadm reads them; drbdadm (`up`, `adjust`)
//! and modprobe through `child`; the promotion score through `pacemaker-cli`); the policy's unit tests use a fake
//! that needs no root and no DRBD module.
//!
//! Errors keep their types from the system crates (`drbd_genl::Error` carries the kernel's
//! refusal code, so the policy can tell "held open" from "no UpToDate data"); the policy
//! decides what each means for the exit code.

use crate::drbdconf::{self, DrbdConf, RealFiles};
use drbd_genl::{Drbd, ResourceStatus};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// What drbd-dualprimary needs from the host.
pub trait Host {
    /// The loaded drbd module's version (`/sys/module/drbd/version`), None when not loaded.
    fn module_version(&self) -> Option<String>;
    /// `modprobe drbd` with the options `drbdadm sh-mod-parms` prints for `drbdconf`.
    fn load_module(&self, drbdconf: &Path, end: Instant) -> ocf::Result<()>;
    /// The resource's status over netlink (`drbdsetup status`), None when the kernel does
    /// not know it (or has no drbd module).
    fn status(
        &self,
        resource: &str,
        end: Instant,
    ) -> Result<Option<ResourceStatus>, drbd_genl::Error>;
    /// Primary or Secondary over netlink (`drbdsetup primary|secondary`); `minors` for
    /// DRBD 8.4, which changes roles minor by minor.
    fn set_role(
        &self,
        resource: &str,
        primary: bool,
        minors: &[u32],
        end: Instant,
    ) -> Result<(), drbd_genl::Error>;
    /// Take the resource down over netlink (`drbdsetup down`, what `drbdadm down` runs): by
    /// its name only, whatever the configuration files say. Down already is done.
    fn down(&self, resource: &str, end: Instant) -> Result<(), drbd_genl::Error>;
    /// The DRBD configuration `drbdconf` with what it includes, as drbdadm reads it.
    fn drbd_config(&self, drbdconf: &Path) -> Result<DrbdConf, drbdconf::Error>;
    /// Whether drbdadm is installed (on PATH, /usr/sbin or /sbin), looked up without running it.
    fn drbdadm_installed(&self) -> bool;
    /// `drbdadm -c DRBDCONF ARGS...`, with `env` added to its environment.
    fn drbdadm(
        &self,
        drbdconf: &Path,
        args: &[&str],
        env: &[(&str, &str)],
        end: Instant,
    ) -> Result<child::Output, child::Error>;
    /// `crm_attribute --promotion=INSTANCE --update=SCORE --lifetime=reboot`.
    fn set_score(
        &self,
        instance: &str,
        score: i64,
        end: Instant,
    ) -> Result<(), pacemaker_cli::Error>;
    /// `crm_attribute --promotion=INSTANCE --delete --lifetime=reboot`.
    fn delete_score(&self, instance: &str, end: Instant) -> Result<(), pacemaker_cli::Error>;
}

/// The real host.
#[derive(Debug, Default)]
pub struct System;

impl Host for System {
    fn module_version(&self) -> Option<String> {
        let v = std::fs::read_to_string("/sys/module/drbd/version").ok()?;
        Some(v.trim().to_owned())
    }

    fn load_module(&self, drbdconf: &Path, end: Instant) -> ocf::Result<()> {
        // Without options when drbdadm cannot say (modprobe.d may still give them).
        let parms = self
            .drbdadm(drbdconf, &["sh-mod-parms"], &[], end)
            .map(|o| o.stdout)
            .unwrap_or_default();
        let parms: Vec<&str> = parms.split_whitespace().collect();
        ocf::kernel::load_module("drbd", &parms, end)
    }

    fn status(
        &self,
        resource: &str,
        end: Instant,
    ) -> Result<Option<ResourceStatus>, drbd_genl::Error> {
        // Without the module there is no family: the resource is down. Checked first so
        // that a host without DRBD answers without opening a socket.
        if self.module_version().is_none() {
            return Ok(None);
        }
        match Drbd::open(end) {
            Ok(mut drbd) => drbd.status(resource, end),
            Err(drbd_genl::Error::NoFamily) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn set_role(
        &self,
        resource: &str,
        primary: bool,
        minors: &[u32],
        end: Instant,
    ) -> Result<(), drbd_genl::Error> {
        Drbd::open(end)?.set_role(resource, primary, minors, end)
    }

    fn down(&self, resource: &str, end: Instant) -> Result<(), drbd_genl::Error> {
        // No module, no family: nothing of DRBD is up.
        if self.module_version().is_none() {
            return Ok(());
        }
        match Drbd::open(end) {
            Ok(mut drbd) => drbd.down(resource, end),
            Err(drbd_genl::Error::NoFamily) => Ok(()),
            Err(e) => Err(e),
        }
    }

    fn drbd_config(&self, drbdconf: &Path) -> Result<DrbdConf, drbdconf::Error> {
        DrbdConf::load(drbdconf, &RealFiles)
    }

    fn drbdadm_installed(&self) -> bool {
        procs::find_program("drbdadm").is_some()
    }

    fn drbdadm(
        &self,
        drbdconf: &Path,
        args: &[&str],
        env: &[(&str, &str)],
        end: Instant,
    ) -> Result<child::Output, child::Error> {
        let mut cmd = Command::new("drbdadm");
        cmd.arg("-c").arg(drbdconf).args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        child::run_with(&mut cmd, end)
    }

    fn set_score(
        &self,
        instance: &str,
        score: i64,
        end: Instant,
    ) -> Result<(), pacemaker_cli::Error> {
        pacemaker_cli::set_promotion_score(instance, score, end)
    }

    fn delete_score(&self, instance: &str, end: Instant) -> Result<(), pacemaker_cli::Error> {
        pacemaker_cli::delete_promotion_score(instance, end)
    }
}
