//! The seam between the agent's logic and the host: the kernel (over DRBD netlink), drbdadm,
//! modprobe and the promotion score. Tests replace it with a fake.

use drbd_genl::{Drbd, ResourceStatus};
use std::process::Command;
use std::time::Instant;

/// Everything the agent asks of the host.
pub trait DrbdCtl {
    /// The loaded drbd module's version (`/sys/module/drbd/version`), None when not loaded.
    fn module_version(&self) -> Option<String>;
    /// `modprobe -s drbd <drbdadm sh-mod-parms>`.
    fn load_module(&self, conf: &str, end: Instant) -> Result<(), String>;
    /// The resource's status, None when the kernel does not know it (or has no drbd).
    fn status(&self, resource: &str, end: Instant) -> Result<Option<ResourceStatus>, String>;
    /// Primary or Secondary, over netlink; `minors` for DRBD 8.4.
    fn set_role(
        &self,
        resource: &str,
        primary: bool,
        minors: &[u32],
        end: Instant,
    ) -> Result<(), drbd_genl::Error>;
    /// `drbdadm -c conf ARGS`, with `env` added to its environment.
    fn drbdadm(
        &self,
        conf: &str,
        args: &[&str],
        env: &[(&str, &str)],
        end: Instant,
    ) -> Result<child::Output, String>;
    fn set_score(&self, instance: &str, score: i64, end: Instant) -> Result<(), String>;
    fn delete_score(&self, instance: &str, end: Instant) -> Result<(), String>;
}

/// The real host.
#[derive(Debug, Default)]
pub struct System;

impl DrbdCtl for System {
    fn module_version(&self) -> Option<String> {
        let v = std::fs::read_to_string("/sys/module/drbd/version").ok()?;
        Some(v.trim().to_owned())
    }

    fn load_module(&self, conf: &str, end: Instant) -> Result<(), String> {
        let parms = self
            .drbdadm(conf, &["sh-mod-parms"], &[], end)
            .map(|o| o.stdout)
            .unwrap_or_default();
        let parms: Vec<&str> = parms.split_whitespace().collect();
        ocf::kernel::load_module("drbd", &parms, end).map_err(|e| e.reason().to_owned())
    }

    fn status(&self, resource: &str, end: Instant) -> Result<Option<ResourceStatus>, String> {
        // Without the module there is no family: the resource is down. Checked first so
        // that a host without DRBD answers without opening a socket.
        if self.module_version().is_none() {
            return Ok(None);
        }
        let mut drbd = match Drbd::open(end) {
            Ok(d) => d,
            Err(drbd_genl::Error::NoFamily) => return Ok(None),
            Err(e) => return Err(e.to_string()),
        };
        drbd.status(resource, end).map_err(|e| e.to_string())
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

    fn drbdadm(
        &self,
        conf: &str,
        args: &[&str],
        env: &[(&str, &str)],
        end: Instant,
    ) -> Result<child::Output, String> {
        let mut cmd = Command::new("drbdadm");
        cmd.arg("-c").arg(conf).args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        child::run_with(&mut cmd, end).map_err(|e| e.to_string())
    }

    fn set_score(&self, instance: &str, score: i64, end: Instant) -> Result<(), String> {
        pacemaker_cli::set_promotion_score(instance, score, end).map_err(|e| e.to_string())
    }

    fn delete_score(&self, instance: &str, end: Instant) -> Result<(), String> {
        pacemaker_cli::delete_promotion_score(instance, end).map_err(|e| e.to_string())
    }
}
