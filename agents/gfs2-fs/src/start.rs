//! Start: checks, mount point, fsck when wanted, mount(2).

use crate::config::{Config, RunFsck};
use crate::status::{self, State};
use mounts::{DeviceSpec, MountTable, bounded};
use ocf::{Context, Error, Result, ResultExt, Status};

/// Filesystems for which `run_fsck=auto` skips fsck (journalled, cluster, remote, virtual),
/// as Filesystem's list.
const NO_AUTO_FSCK: &[&str] = &[
    "ext4",
    "ext4dev",
    "ext3",
    "reiserfs",
    "reiser4",
    "nss",
    "xfs",
    "jfs",
    "vfat",
    "fat",
    "nfs4",
    "nfs",
    "efs",
    "cifs",
    "smbfs",
    "ocfs2",
    "gfs2",
    "none",
    "lustre",
    "glusterfs",
    "ceph",
    "tmpfs",
    "overlay",
    "overlayfs",
    "rozofs",
    "zfs",
    "cvfs",
];

pub fn start(cfg: &Config, ctx: &Context) -> Result<Status> {
    crate::checks::validate(cfg, ctx)?;
    let table = MountTable::read().or_generic(|| "reading the mount table")?;
    match status::state(cfg, &table) {
        State::Mounted(_) => {
            log::info!("{} is already mounted", cfg.identity.directory.display());
            return Ok(Status::Success);
        }
        State::Other(_, why) => return Err(Error::generic(why)),
        State::Unmounted => {}
    }
    if let Some(sub) = table.below(&cfg.identity.directory).first() {
        return Err(Error::configured(format!(
            "{} is mounted below {}: refusing to mount over it",
            sub.mount_point.display(),
            cfg.identity.directory.display()
        )));
    }
    let source = source(cfg, ctx, &table)?;
    ensure_fstype(cfg, ctx)?;
    if needs_fsck(cfg) {
        fsck(cfg, &source, ctx)?;
    }
    std::fs::create_dir_all(&cfg.identity.directory).or_status(Status::ErrInstalled, || {
        format!(
            "couldn't create mount point {}",
            cfg.identity.directory.display()
        )
    })?;
    let (src, dir, fstype, opts) = (
        source.clone(),
        cfg.identity.directory.clone(),
        cfg.settings.fstype.clone(),
        cfg.settings.options.clone(),
    );
    let mounted = bounded::run("mount", ctx.deadline.end(), move || {
        mounts::syscalls::mount(&src, &dir, &fstype, &opts).map_err(Box::new)
    })
    .ok_or_else(|| {
        Error::generic(format!(
            "mounting {} on {} did not finish before the start timeout",
            cfg.identity.device,
            cfg.identity.directory.display()
        ))
    })?;
    mounted.or_generic(|| format!("couldn't mount {}", cfg.identity.device))?;
    log::info!("mounted {source} on {}", cfg.identity.directory.display());
    Ok(Status::Success)
}

/// The mount source: the device node for local devices (missing is OCF_ERR_INSTALLED, as
/// in Filesystem), the directory for bind mounts, the text for remote sources.
fn source(cfg: &Config, ctx: &Context, table: &MountTable) -> Result<String> {
    if cfg.is_bind() {
        let DeviceSpec::Path(p) = &cfg.identity.spec else {
            return Err(Error::bad_param(
                "device",
                &cfg.identity.device,
                "a bind mount needs a path",
            ));
        };
        if !p.exists() {
            return Err(Error::installed(format!(
                "bind source {} does not exist",
                p.display()
            )));
        }
        return Ok(p.display().to_string());
    }
    if !cfg.identity.spec.is_local() {
        return Ok(cfg.identity.device.clone());
    }
    let dev = crate::local_device(&cfg.identity.spec, &cfg.identity.device, ctx.deadline)?;
    let Some((major, minor)) = mounts::device::block_device_number(&dev) else {
        return Err(Error::installed(format!(
            "{} ({}) is not a block device",
            cfg.identity.device,
            dev.display()
        )));
    };
    if let Some(m) = table.by_device(major, minor).next() {
        return Err(Error::generic(format!(
            "{} is already mounted on {}; a filesystem mounted twice is not what this resource \
             manages",
            cfg.identity.device,
            m.mount_point.display()
        )));
    }
    Ok(dev.display().to_string())
}

/// The kernel must know the type (/proc/filesystems); if not, `modprobe` it once.
fn ensure_fstype(cfg: &Config, ctx: &Context) -> Result<()> {
    if cfg.settings.fstype == "none" || known_fstype(&cfg.settings.fstype) {
        return Ok(());
    }
    let loaded = ocf::kernel::load_module(&cfg.settings.fstype, &[], ctx.deadline.end());
    if known_fstype(&cfg.settings.fstype) {
        return Ok(());
    }
    let why = loaded.err().map_or_else(
        || "loaded, but not registered".to_owned(),
        |e| e.reason().to_owned(),
    );
    Err(Error::installed(format!(
        "the kernel does not support filesystem {} ({why})",
        cfg.settings.fstype
    )))
}

fn known_fstype(fstype: &str) -> bool {
    std::fs::read_to_string("/proc/filesystems").is_ok_and(|t| {
        t.lines()
            .any(|l| l.split_whitespace().last() == Some(fstype))
    })
}

fn needs_fsck(cfg: &Config) -> bool {
    if cfg.is_bind() || !cfg.identity.spec.is_local() {
        return false;
    }
    match cfg.settings.run_fsck {
        RunFsck::No => false,
        RunFsck::Force => true,
        RunFsck::Auto => !NO_AUTO_FSCK.contains(&cfg.settings.fstype.as_str()),
    }
}

/// `fsck -t TYPE -p DEVICE`; exit 4 and above means errors left uncorrected.
fn fsck(cfg: &Config, dev: &str, ctx: &Context) -> Result<()> {
    log::info!("checking {dev} with fsck -t {} -p", cfg.settings.fstype);
    let out = child::run(
        "fsck",
        &["-t", &cfg.settings.fstype, "-p", dev],
        ctx.deadline.end(),
    )
    .or_generic(|| format!("fsck of {dev}"))?;
    match out.code() {
        Some(c) if c < 4 => Ok(()),
        _ => Err(Error::generic(format!(
            "fsck -p {dev} could not repair the filesystem ({}): {}",
            out.status,
            out.message()
        ))),
    }
}
