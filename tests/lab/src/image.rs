//! The guest image: a Debian root filesystem made by mmdebstrap from the machine's own apt
//! sources (cached, keyed by its package list), customized with guest/customize.sh and our
//! agents (cached, keyed by the package list, the guest files and the agents' build).

use crate::agents::{self, Choice};
use crate::paths::Paths;
use crate::setup::Release;
use crate::step::{Context, Error, Result, awaiting, say};
use crate::sys::{mins, run_ok};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The guest's packages (vm-lab.md), plus pcs to replay the tutorial literally.
pub const PACKAGES: &[&str] = &[
    "linux-image-amd64",
    "initramfs-tools",
    "systemd",
    "systemd-sysv",
    "udev",
    "kmod",
    "dbus",
    "iproute2",
    "iputils-ping",
    "procps",
    "psmisc",
    "openssh-server",
    "curl",
    "drbd-utils",
    "gfs2-utils",
    "dlm-controld",
    "corosync",
    "pacemaker",
    "pacemaker-cli-utils",
    "resource-agents",
    "apache2",
    "e2fsprogs",
    // The DRBD backing disk sits behind a device-mapper table (guest/customize.sh) that the
    // disk-failure check switches to `error`.
    "dmsetup",
    "util-linux",
    "pcs",
    // xmllint: ocf-tester checks the agents' metadata against the DTD with it.
    "libxml2-utils",
    // The fenced profile's fencing (tests/lab/FENCED.md); customize.sh keeps sbd disabled
    // until that profile enables it. fence_sbd's package: Release::fence_sbd_package.
    "sbd",
];

/// Every package of `release`'s image.
fn packages(release: Release) -> Vec<&'static str> {
    let mut all = PACKAGES.to_vec();
    all.push(release.fence_sbd_package());
    all
}

/// A built image: the disk, the kernel and initrd to boot it with.
#[derive(Clone, Debug)]
pub struct Image {
    pub dir: PathBuf,
}

impl Image {
    pub fn disk(&self) -> PathBuf {
        self.dir.join("base.qcow2")
    }
    pub fn kernel(&self) -> PathBuf {
        self.dir.join("vmlinuz")
    }
    pub fn initrd(&self) -> PathBuf {
        self.dir.join("initrd.img")
    }
}

/// FNV-1a, 64 bits: a cache key stable across builds of the lab.
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn add(&mut self, bytes: &[u8]) -> &mut Self {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
        // A separator, so that ("ab","c") and ("a","bc") differ.
        self.0 = self.0.wrapping_mul(0x0100_0000_01b3) ^ 0xff;
        self
    }
    fn hex(&self) -> String {
        format!("{:016x}", self.0)
    }
}

/// Files outside guest/ that customize.sh installs (the agents' ocf-tester harnesses); they
/// key the image too.
const OUTSIDE_GUEST: [&str; 2] = [
    "agents/dlm-controld-wrapper/tests/ocf-tester.sh",
    "agents/drbd-dualprimary/tests/ocf-tester.sh",
];

fn guest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("guest")
}

/// Every file under `dir`, sorted, for the cache key; Python's bytecode caches (made by
/// whoever ran a guest script on the host) are not sources.
fn files_under(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let mut entries: Vec<_> = fs::read_dir(dir)?
        .filter_map(std::result::Result::ok)
        .map(|e| e.path())
        .filter(|p| p.file_name().is_none_or(|n| n != "__pycache__"))
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files_under(&p, out)?;
        } else {
            out.push(p);
        }
    }
    Ok(())
}

fn base_key(release: Release) -> String {
    let mut h = Fnv::new();
    h.add(release.suite().as_bytes()).add(b"minbase");
    for p in packages(release) {
        h.add(p.as_bytes());
    }
    h.hex()
}

/// The pauses before mmdebstrap's second and later tries. Its downloads from the apt sources
/// failed within 2 s, every try, in the first minutes after `tests/run.sh` on a clean clone
/// (twice, in .ci/run's order), and worked a few minutes later with nothing changed: the
/// pauses add up to 6.5 minutes, enough to outlast that, small beside a failed main job. A
/// real fault (a package that does not exist) fails the same way each time and is reported
/// with the last try's output.
const RETRY_PAUSES: [u64; 4] = [30, 60, 120, 180];

/// The mmdebstrap root filesystem, built once per release and package list.
pub fn rootfs(paths: &Paths, release: Release) -> Result<PathBuf> {
    let key = base_key(release);
    let dir = paths
        .cache
        .join(format!("rootfs-{}-{key}", release.suite()));
    if dir.join("boot").is_dir() {
        say(&format!("root filesystem cached: {}", dir.display()));
        return Ok(dir);
    }
    let tmp = paths
        .cache
        .join(format!("rootfs-{}-{key}.tmp", release.suite()));
    if tmp.exists() {
        fs::remove_dir_all(&tmp)?;
    }
    fs::create_dir_all(&paths.cache)?;
    let suite = release.suite();
    let packages = packages(release);
    let _w = awaiting(format!(
        "mmdebstrap {suite} with {} packages",
        packages.len()
    ));
    say(&format!(
        "mmdebstrap {suite} with {} packages (about 90 s)",
        packages.len()
    ));
    let mut attempt: usize = 1;
    loop {
        let built = run_ok(
            Command::new("mmdebstrap")
                // Not --quiet: when a download fails, apt's own error (which URI, which
                // status) is the last lines of the output, which the error shows.
                .arg("--variant=minbase")
                .arg(format!("--include={}", packages.join(",")))
                .arg(suite)
                .arg(&tmp),
            mins(20),
        );
        match built {
            Ok(_) => break,
            Err(e) if attempt <= RETRY_PAUSES.len() => {
                let pause = RETRY_PAUSES[attempt - 1];
                say(&format!(
                    "mmdebstrap {suite} failed (try {attempt} of {}), trying again in {pause} s: {e}",
                    RETRY_PAUSES.len() + 1
                ));
                if tmp.exists() {
                    fs::remove_dir_all(&tmp)?;
                }
                std::thread::sleep(std::time::Duration::from_secs(pause));
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
    fs::rename(&tmp, &dir)?;
    Ok(dir)
}

fn find_boot_file(root: &Path, prefix: &str) -> Result<PathBuf> {
    fs::read_dir(root.join("boot"))?
        .filter_map(std::result::Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(prefix))
        })
        .ok_or_else(|| Error(format!("no /boot/{prefix}* in the image")))
}

/// Builds (or finds in the cache) the image of `release` for these agents.
pub fn build(paths: &Paths, release: Release, choice: &Choice) -> Result<Image> {
    let rootfs = rootfs(paths, release)?;
    let mut h = Fnv::new();
    h.add(base_key(release).as_bytes());
    let mut files = Vec::new();
    files_under(&guest_dir(), &mut files)?;
    files.extend(OUTSIDE_GUEST.iter().map(|f| paths.root.join(f)));
    for f in &files {
        h.add(f.to_string_lossy().as_bytes()).add(&fs::read(f)?);
    }
    h.add(&fs::read(paths.key.with_extension("pub"))?);
    h.add(&agents::fingerprint(choice)?);
    let dir = paths
        .cache
        .join(format!("image-{}-{}", release.suite(), h.hex()));
    let image = Image { dir: dir.clone() };
    if image.disk().exists() && image.initrd().exists() {
        say(&format!("image cached: {}", dir.display()));
        return Ok(image);
    }
    let tmp = paths
        .cache
        .join(format!("image-{}-{}.tmp", release.suite(), h.hex()));
    let stage = tmp.join("rootfs");
    if tmp.exists() {
        fs::remove_dir_all(&tmp)?;
    }
    fs::create_dir_all(&tmp)?;
    run_ok(
        Command::new("cp")
            .args(["-a", "--reflink=auto"])
            .arg(&rootfs)
            .arg(&stage),
        mins(5),
    )?;
    let bins = tmp.join("tools");
    fs::create_dir_all(&bins)?;
    for bin in &choice.tools {
        let name = bin.file_name().ok_or("tool without a name")?;
        fs::copy(bin, bins.join(name)).context(|| format!("copy {}", bin.display()))?;
    }
    let deb = choice
        .deb
        .as_ref()
        .map_or_else(|| "-".into(), |d| d.display().to_string());
    run_ok(
        Command::new("sh")
            .arg(guest_dir().join("customize.sh"))
            .arg(&stage)
            .arg(guest_dir())
            .arg(paths.key.with_extension("pub"))
            .arg(&bins)
            .arg(deb),
        mins(5),
    )?;
    fs::copy(find_boot_file(&stage, "vmlinuz-")?, tmp.join("vmlinuz"))?;
    fs::copy(
        find_boot_file(&stage, "initrd.img-")?,
        tmp.join("initrd.img"),
    )?;
    let raw = tmp.join("image.raw");
    run_ok(
        Command::new("mkfs.ext4")
            .args(["-q", "-F", "-L", "root", "-d"])
            .arg(&stage)
            .arg(&raw)
            .arg("3G"),
        mins(5),
    )?;
    run_ok(
        Command::new("qemu-img")
            .args(["convert", "-O", "qcow2"])
            .arg(&raw)
            .arg(tmp.join("base.qcow2")),
        mins(5),
    )?;
    fs::remove_file(&raw)?;
    fs::remove_dir_all(&stage)?;
    fs::remove_dir_all(&bins)?;
    fs::rename(&tmp, &dir)?;
    prune(paths, release, &dir);
    Ok(image)
}

/// Keeps the cache small: of each release's images, only the newest two stay.
fn prune(paths: &Paths, release: Release, keep: &Path) {
    let Ok(entries) = fs::read_dir(&paths.cache) else {
        return;
    };
    let prefix = format!("image-{}-", release.suite());
    let mut images: Vec<(std::time::SystemTime, PathBuf)> = entries
        .filter_map(std::result::Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p != keep
                && p.file_name().is_some_and(|n| {
                    let n = n.to_string_lossy();
                    n.starts_with(&prefix) && !n.ends_with(".tmp")
                })
        })
        .filter_map(|p| Some((p.metadata().ok()?.modified().ok()?, p)))
        .collect();
    images.sort();
    let excess = images.len().saturating_sub(1);
    for (_, p) in images.into_iter().take(excess) {
        let _ = fs::remove_dir_all(p);
    }
}

/// The image the running VMs were started from (recorded by `up`).
pub fn current(paths: &Paths) -> Result<Image> {
    let dir = fs::read_to_string(paths.run.join("image"))
        .context(|| "no lab is up (run `lab up`)".to_owned())?;
    Ok(Image {
        dir: PathBuf::from(dir.trim()),
    })
}
