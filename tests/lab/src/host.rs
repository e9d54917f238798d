//! What the host needs before anything else: QEMU (from backports, see vm-lab.md), mmdebstrap,
//! an ssh client and the lab's ssh key. Missing packages are installed with apt.

use crate::paths::Paths;
use crate::step::{Context, Error, Result, say};
use crate::sys::{have, mins, run_ok};
use std::fs;
use std::process::Command;

/// The Debian source file whose URI the backports list reuses (no host name is written here).
const DEBIAN_SOURCES: &str = "/etc/apt/sources.list.d/debian.sources";

/// Reads the first `URIs:` of the machine's own Debian source.
fn debian_uri() -> Result<String> {
    let text =
        fs::read_to_string(DEBIAN_SOURCES).context(|| format!("cannot read {DEBIAN_SOURCES}"))?;
    text.lines()
        .find_map(|l| l.strip_prefix("URIs:"))
        .and_then(|v| v.split_whitespace().next())
        .map(str::to_owned)
        .ok_or_else(|| Error(format!("no URIs: line in {DEBIAN_SOURCES}")))
}

fn apt_install(paths: &Paths, packages: &[&str], backports: bool) -> Result<()> {
    say(&format!("installing {} with apt", packages.join(" ")));
    let mut args: Vec<String> = Vec::new();
    if backports {
        // A private source list and lists directory: the system's apt state stays untouched.
        let dir = paths.lab.join("host-apt");
        fs::create_dir_all(dir.join("lists/partial"))?;
        let list = dir.join("sources.list");
        let uri = debian_uri()?;
        fs::write(
            &list,
            format!(
                "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] {uri} bookworm-backports main\n"
            ),
        )?;
        args.push(format!("-oDir::Etc::SourceList={}", list.display()));
        args.push(format!(
            "-oDir::State::Lists={}",
            dir.join("lists").display()
        ));
    }
    run_ok(
        Command::new("apt-get").args(&args).args(["update", "-q"]),
        mins(5),
    )?;
    let mut install = Command::new("apt-get");
    install
        .env("DEBIAN_FRONTEND", "noninteractive")
        .args(&args)
        .args(["install", "-y", "-q", "--no-install-recommends"]);
    if backports {
        install.args(["-t", "bookworm-backports"]);
    }
    run_ok(install.args(packages), mins(10))?;
    Ok(())
}

/// What packaging/build-deb.sh needs besides what `ensure` installs: debian/control's
/// Build-Depends as Debian 12 satisfies them (cargo-web and rustc-web provide the cargo and
/// rustc of at least 1.95 they ask for; tests/run.sh's APT_PACKAGES names the same), and dpkg-dev and xz-utils for the
/// source package. On a fresh machine the lab builds our package before tests/run.sh has
/// installed any of them.
const PACKAGE_BUILD_DEPENDS: &[&str] = &[
    "debhelper",
    "cargo-web",
    "rustc-web",
    "jq",
    "dpkg-dev",
    "xz-utils",
];

/// Installs our package's build dependencies when `dpkg-checkbuilddeps` finds one missing.
pub fn ensure_package_build_depends(paths: &Paths) -> Result<()> {
    let satisfied = have("dpkg-checkbuilddeps")
        && Command::new("dpkg-checkbuilddeps")
            .current_dir(&paths.root)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    if satisfied {
        return Ok(());
    }
    apt_install(paths, PACKAGE_BUILD_DEPENDS, false)
}

/// Installs what is missing and makes the ssh key.
pub fn ensure(paths: &Paths) -> Result<()> {
    fs::create_dir_all(&paths.lab)?;
    if !have("qemu-system-x86_64") || !have("qemu-img") {
        apt_install(paths, &["qemu-system-x86", "qemu-utils"], true)?;
    }
    let mut missing = Vec::new();
    if !have("mmdebstrap") {
        missing.push("mmdebstrap");
    }
    if !have("ssh") || !have("ssh-keygen") {
        missing.push("openssh-client");
    }
    if !have("mkfs.ext4") {
        missing.push("e2fsprogs");
    }
    if !missing.is_empty() {
        apt_install(paths, &missing, false)?;
    }
    if !paths.key.exists() {
        run_ok(
            Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-C", "lab", "-f"])
                .arg(&paths.key),
            mins(1),
        )?;
    }
    Ok(())
}
