//! validate-all (and the same checks at start): clone safety, and for GFS2 the lock
//! protocol, the lock table's cluster name and DLM.

use crate::config::Config;
use crate::corosync;
use mounts::bounded;
use ocf::{Context, Error, Result};
use std::path::Path;

/// Filesystems that may be mounted on several nodes at once (Filesystem's CLUSTERSAFE=1).
const CLUSTER_SAFE: &[&str] = &[
    "nfs4",
    "nfs",
    "efs",
    "smbfs",
    "cifs",
    "none",
    "gfs2",
    "glusterfs",
    "ceph",
    "ocfs2",
    "overlay",
    "overlayfs",
    "tmpfs",
    "cvfs",
    "lustre",
];

/// What DLM's configfs shows once dlm_controld runs.
pub const DLM_CLUSTER: &str = "/sys/kernel/config/dlm/cluster";

pub fn validate(cfg: &Config, ctx: &Context) -> Result<()> {
    clone_safety(cfg, ctx.env.meta.is_clone())?;
    if cfg.settings.fstype == "gfs2" && cfg.identity.spec.is_local() && !cfg.is_bind() {
        gfs2(cfg, ctx)?;
    }
    Ok(())
}

/// A clone of a filesystem that is not cluster-aware is refused unless `force_clones`;
/// a read-only one is allowed with a warning.
pub fn clone_safety(cfg: &Config, cloned: bool) -> Result<()> {
    if !cloned || CLUSTER_SAFE.contains(&cfg.settings.fstype.as_str()) {
        return Ok(());
    }
    if cfg.settings.force_clones {
        log::warn!(
            "{} is not cluster-aware; cloned because force_clones is set",
            cfg.settings.fstype
        );
        return Ok(());
    }
    if cfg.settings.options.read_only() {
        log::warn!(
            "{} is not cluster-aware; cloned because it is mounted read-only",
            cfg.settings.fstype
        );
        return Ok(());
    }
    Err(Error::configured(format!(
        "{} on {} is not cluster-aware and must not be cloned (set force_clones=true only if \
         no two nodes ever write it)",
        cfg.settings.fstype, cfg.identity.device
    )))
}

fn gfs2(cfg: &Config, ctx: &Context) -> Result<()> {
    let dev = crate::local_device(&cfg.identity.spec, &cfg.identity.device, ctx.deadline)?;
    let shown = dev.display().to_string();
    let sb = bounded::run("gfs2 superblock", ctx.deadline.end(), move || {
        gfs2_superblock::Superblock::read(&dev)
    })
    .ok_or_else(|| Error::generic(format!("reading the superblock of {shown} took too long")))?
    .map_err(|e| Error::configured(format!("device={}: {e}", cfg.identity.device)))?;
    let cluster = match std::fs::read_to_string(corosync::COROSYNC_CONF) {
        Ok(text) => corosync::cluster_name(&text),
        Err(e) if sb.lock_proto == "lock_dlm" => {
            return Err(Error::installed(format!(
                "{} uses lock_dlm but {} cannot be read: {e}",
                cfg.identity.device,
                corosync::COROSYNC_CONF
            )));
        }
        Err(_) => None,
    };
    check_superblock(
        &sb,
        cluster.as_deref(),
        ctx.env.meta.is_clone(),
        &cfg.identity.device,
    )?;
    if sb.lock_proto == "lock_dlm" && !Path::new(DLM_CLUSTER).exists() {
        return Err(Error::generic(format!(
            "{} needs DLM, but {DLM_CLUSTER} does not exist: start dlm (controld) before this \
             filesystem",
            cfg.identity.device
        )));
    }
    Ok(())
}

/// The GFS2 rules: a clone needs lock_dlm; with lock_dlm, the lock table's cluster must be
/// corosync's `cluster_name` (the kernel refuses the mount otherwise, after a DLM timeout).
pub fn check_superblock(
    sb: &gfs2_superblock::Superblock,
    cluster: Option<&str>,
    cloned: bool,
    device: &str,
) -> Result<()> {
    if cloned && sb.lock_proto != "lock_dlm" {
        return Err(Error::configured(format!(
            "gfs2 on {device} has lock protocol {:?}; a clone needs lock_dlm \
             (tunegfs2 -o lockproto=lock_dlm)",
            sb.lock_proto
        )));
    }
    if sb.lock_proto != "lock_dlm" {
        return Ok(());
    }
    let Some(cluster) = cluster else {
        return Err(Error::configured(format!(
            "gfs2 on {device} uses lock_dlm but {} has no totem.cluster_name",
            corosync::COROSYNC_CONF
        )));
    };
    match sb.cluster_name() {
        Some(c) if c == cluster => Ok(()),
        _ => Err(Error::configured(format!(
            "gfs2 on {device} has lock table {:?}, which does not name this cluster {cluster:?} \
             (tunegfs2 -o locktable={cluster}:NAME)",
            sb.lock_table
        ))),
    }
}
