//! Which agent runs each resource. `--agents native` (the main job) runs all five on ours,
//! installed from our Debian package (packaging/build-deb.sh): a package that does not ship
//! one of them fails the run, there is no fallback. `--agents heartbeat` runs the tutorial's
//! shell agents.

use crate::paths::Paths;
use crate::step::{Context, Error, Result, say};
use crate::sys::{mins, run_ok};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `--agents`: ours (default) or the shell agents of the tutorial.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    Native,
    Heartbeat,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Native => "native",
            Mode::Heartbeat => "heartbeat",
        }
    }

    /// Whether the run proves our agents (every check applies).
    pub fn runs_ours(self) -> bool {
        self == Mode::Native
    }

    pub fn parse(s: &str) -> Option<Mode> {
        [Mode::Native, Mode::Heartbeat]
            .into_iter()
            .find(|m| m.name() == s)
    }
}

/// One resource of the tutorial and its two possible agents.
pub struct Resource {
    pub id: &'static str,
    pub native: &'static str,
    pub shell: &'static str,
}

pub const RESOURCES: [Resource; 5] = [
    Resource {
        id: "VirtualIP",
        native: "ipaddr2",
        shell: "ocf:heartbeat:IPaddr2",
    },
    Resource {
        id: "WebSite",
        native: "apache-clone",
        shell: "ocf:heartbeat:apache",
    },
    Resource {
        id: "WebData",
        native: "drbd-dualprimary",
        shell: "ocf:linbit:drbd",
    },
    Resource {
        id: "dlm",
        native: "dlm-controld-wrapper",
        shell: "ocf:pacemaker:controld",
    },
    Resource {
        id: "WebFS",
        native: "gfs2-fs",
        shell: "ocf:heartbeat:Filesystem",
    },
];

/// The agent `mode` demands for resource `id`.
pub fn expected(mode: Mode, id: &str) -> Option<String> {
    let r = RESOURCES.iter().find(|r| r.id == id)?;
    Some(match mode {
        Mode::Native => format!("ocf:native:{}", r.native),
        Mode::Heartbeat => r.shell.to_owned(),
    })
}

/// The resources whose agent (as `(id, agent)` pairs, e.g. from crm_mon) is not the one
/// `mode` demands, or is missing, each described.
pub fn mismatches(mode: Mode, running: &[(String, String)]) -> Vec<String> {
    RESOURCES
        .iter()
        .filter_map(|r| {
            let want = expected(mode, r.id)?;
            let agents: Vec<&str> = running
                .iter()
                .filter(|(id, _)| id == r.id)
                .map(|(_, a)| a.as_str())
                .collect();
            if agents.is_empty() {
                Some(format!("{} does not exist (wanted {want})", r.id))
            } else if agents.iter().any(|a| *a != want) {
                Some(format!(
                    "{} runs {} ({} mode needs {want})",
                    r.id,
                    agents.join(", "),
                    mode.name()
                ))
            } else {
                None
            }
        })
        .collect()
}

/// The agent chosen for one resource, and why.
#[derive(Clone, Debug)]
pub struct Chosen {
    pub id: &'static str,
    /// `ocf:native:<name>` or the shell agent.
    pub agent: String,
    pub native: bool,
    pub why: String,
}

/// Every resource's agent, plus what the image must install.
#[derive(Debug, Default)]
pub struct Choice {
    pub chosen: Vec<Chosen>,
    /// Our Debian package (native mode).
    pub deb: Option<PathBuf>,
    /// Extra host binaries the image installs under /usr/local/sbin (lab-boundary).
    pub tools: Vec<PathBuf>,
}

impl Choice {
    /// The agent of resource `id`.
    pub fn agent(&self, id: &str) -> &str {
        self.chosen
            .iter()
            .find(|c| c.id == id)
            .map_or("", |c| c.agent.as_str())
    }

    /// `--port`: every resource is created on its shell agent; our package is still
    /// installed, for native-agents-port to port them to.
    pub fn boot_on_shell(&mut self) {
        for c in &mut self.chosen {
            if let Some(r) = RESOURCES.iter().find(|r| r.id == c.id) {
                c.agent = r.shell.to_owned();
                c.native = false;
                "--port: created on the shell agent, ported live to ours (checks 27-29)"
                    .clone_into(&mut c.why);
            }
        }
    }

    pub fn is_native(&self, id: &str) -> bool {
        self.chosen.iter().any(|c| c.id == id && c.native)
    }
}

fn last_line(text: &str) -> String {
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_owned()
}

/// Builds our Debian package; returns its path and the paths it ships.
///
/// It is built as tests/run.sh builds it (its `package_env`): Debian's cargo and rustc first
/// in PATH, `nocheck` (the unit tests are tests/run.sh's) and one CARGO_TARGET_DIR under
/// target/pkg-build. build-deb.sh unpacks the same tarball at the same path each time, so
/// after tests/run.sh (in CI) or an earlier lab run, cargo finds the crates compiled instead
/// of building the release and running the tests from nothing inside the lab's budget.
fn build_deb(paths: &Paths) -> Result<(PathBuf, String)> {
    crate::host::ensure_package_build_depends(paths)?;
    let script = paths.root.join("packaging/build-deb.sh");
    let head_time = run_ok(
        Command::new("git")
            .args(["log", "-1", "--format=%ct"])
            .current_dir(&paths.root),
        mins(1),
    )?;
    let path = std::env::var("PATH").unwrap_or_default();
    let out = run_ok(
        Command::new("bash")
            .arg(&script)
            .current_dir(&paths.root)
            .env("PATH", format!("/usr/bin:{path}"))
            .env("DEB_BUILD_OPTIONS", "nocheck")
            .env(
                "CARGO_TARGET_DIR",
                paths.root.join("target/pkg-build/cargo-target"),
            )
            .env("SOURCE_DATE_EPOCH", head_time.trim()),
        mins(25),
    )?;
    let deb = PathBuf::from(last_line(&out));
    let deb = if deb.is_absolute() {
        deb
    } else {
        paths.root.join(deb)
    };
    let list = run_ok(Command::new("dpkg-deb").arg("-c").arg(&deb), mins(1))
        .context(|| format!("{} is not a package", deb.display()))?;
    Ok((deb, list))
}

/// The resources whose native agent `list` (dpkg-deb -c) does not ship.
pub fn missing_from(list: &str) -> Vec<&'static str> {
    RESOURCES
        .iter()
        .filter(|r| {
            !list
                .lines()
                .any(|l| l.ends_with(&format!("/usr/lib/ocf/resource.d/native/{}", r.native)))
        })
        .map(|r| r.native)
        .collect()
}

/// Whether `commit` and HEAD differ only in tests/, .ci/ and Markdown files: what the package is
/// built from (agents, crates, tools, metadata, packaging) is the same.
fn same_package_sources(paths: &Paths, commit: &str) -> Result<bool> {
    if !commit.chars().all(|c| c.is_ascii_hexdigit()) {
        return Ok(false);
    }
    let out = crate::sys::run_with(
        Command::new("git")
            .args(["diff", "--quiet", commit, "HEAD", "--", "."])
            .args([":(exclude)tests", ":(exclude).ci", ":(exclude,glob)**/*.md"])
            .current_dir(&paths.root),
        None,
        mins(1),
    )?;
    Ok(out.code == 0)
}

/// `--deb PATH`: our package as built before from this checkout's HEAD (tests/run.sh's step
/// that builds and lints it, in CI), taken instead of building it again (7 minutes on a slow
/// machine). Its agents' build stamp must name HEAD, or a commit that differs from HEAD only
/// in tests/ and Markdown files; a package from anything else is refused.
fn given_deb(paths: &Paths, deb: &Path) -> Result<(PathBuf, String)> {
    let deb = fs::canonicalize(deb).context(|| format!("--deb {}", deb.display()))?;
    let list = run_ok(Command::new("dpkg-deb").arg("-c").arg(&deb), mins(1))
        .context(|| format!("{} is not a package", deb.display()))?;
    let head = run_ok(
        Command::new("git")
            .args(["rev-parse", "--short=12", "HEAD"])
            .current_dir(&paths.root),
        mins(1),
    )?;
    let unpacked = paths.run.join("given-deb");
    let _ = fs::remove_dir_all(&unpacked);
    fs::create_dir_all(&unpacked)?;
    run_ok(
        Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&unpacked),
        mins(1),
    )?;
    let agent = unpacked.join("usr/lib/ocf/resource.d/native/ipaddr2");
    let stamp = run_ok(Command::new(&agent).arg("--version"), mins(1))
        .context(|| format!("{} --version", agent.display()))?;
    let _ = fs::remove_dir_all(&unpacked);
    let built = stamp
        .split("(git ")
        .nth(1)
        .and_then(|r| r.trim().strip_suffix(", clean tree)"))
        .unwrap_or("")
        .to_owned();
    if built.is_empty() || !same_package_sources(paths, &built)? {
        return Err(Error(format!(
            "{} was not built from this checkout's HEAD ({}) or a commit whose sources outside \
             tests/, .ci/ and the Markdown files are the same: its ipaddr2 says {:?}",
            deb.display(),
            head.trim(),
            stamp.trim()
        )));
    }
    say(&format!(
        "{}: built from {built}, whose package sources are HEAD's ({})",
        deb.display(),
        stamp.trim()
    ));
    Ok((deb, list))
}

/// Chooses each resource's agent; in native mode builds our package (or takes `deb`, built
/// from HEAD), which must ship all five. `without` names agents to treat as missing from it
/// (a test-only break).
pub fn choose(paths: &Paths, mode: Mode, deb: Option<&Path>, without: &[&str]) -> Result<Choice> {
    let mut choice = Choice::default();
    if mode == Mode::Heartbeat {
        for r in &RESOURCES {
            choice.chosen.push(Chosen {
                id: r.id,
                agent: r.shell.to_owned(),
                native: false,
                why: "--agents heartbeat".to_owned(),
            });
        }
        return Ok(choice);
    }
    let (deb, list) = match deb {
        Some(given) => given_deb(paths, given),
        None => build_deb(paths),
    }
    .map_err(|e| Error(format!("native mode needs our package: {e}")))?;
    let list: Vec<&str> = list
        .lines()
        .filter(|l| !without.iter().any(|w| l.ends_with(&format!("/{w}"))))
        .collect();
    let list = list.join("\n");
    let missing = missing_from(&list);
    if !missing.is_empty() {
        return Err(Error(format!(
            "{} does not ship {} under /usr/lib/ocf/resource.d/native: native mode runs all five \
             resources on our agents, with no fallback to the shell agents",
            deb.display(),
            missing.join(", ")
        )));
    }
    for r in &RESOURCES {
        choice.chosen.push(Chosen {
            id: r.id,
            agent: format!("ocf:native:{}", r.native),
            native: true,
            why: format!(
                "from our Debian package {}",
                deb.file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
            ),
        });
    }
    say(&format!(
        "our package {} ships all five agents",
        deb.display()
    ));
    choice.deb = Some(deb);
    Ok(choice)
}

/// The bytes that key the image's agents layer.
pub fn fingerprint(choice: &Choice) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    for f in choice.deb.iter().chain(&choice.tools) {
        bytes.extend(f.as_os_str().as_encoded_bytes());
        bytes.extend(fs::read(f)?);
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: &str = "\
drwxr-xr-x root/root         0 2026-11-26 16:57 ./usr/lib/ocf/resource.d/native/
-rwxr-xr-x root/root   1 2026-11-26 16:57 ./usr/lib/ocf/resource.d/native/apache-clone
-rwxr-xr-x root/root   1 2026-11-26 16:57 ./usr/lib/ocf/resource.d/native/dlm-controld-wrapper
-rwxr-xr-x root/root   1 2026-11-26 16:57 ./usr/lib/ocf/resource.d/native/drbd-dualprimary
-rwxr-xr-x root/root   1 2026-11-26 16:57 ./usr/lib/ocf/resource.d/native/ipaddr2
";

    #[test]
    fn a_package_without_an_agent_is_named() {
        assert_eq!(missing_from(LIST), ["gfs2-fs"]);
        let full = format!(
            "{LIST}-rwxr-xr-x root/root 1 2026-11-26 16:57 ./usr/lib/ocf/resource.d/native/gfs2-fs\n"
        );
        assert!(missing_from(&full).is_empty());
    }

    #[test]
    fn native_mode_accepts_only_our_agents() {
        let all: Vec<(String, String)> = RESOURCES
            .iter()
            .map(|r| (r.id.to_owned(), format!("ocf:native:{}", r.native)))
            .collect();
        assert!(mismatches(Mode::Native, &all).is_empty());
        assert_eq!(mismatches(Mode::Heartbeat, &all).len(), 5);
        let mut fallback = all.clone();
        fallback[4].1 = "ocf:heartbeat:Filesystem".into();
        assert_eq!(
            mismatches(Mode::Native, &fallback),
            ["WebFS runs ocf:heartbeat:Filesystem (native mode needs ocf:native:gfs2-fs)"]
        );
        fallback.remove(0);
        assert_eq!(mismatches(Mode::Native, &fallback).len(), 2);
    }
}
