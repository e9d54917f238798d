//! Which agent runs each resource: ours where its binary exists, the shell agent otherwise.
//! Our agents come from our Debian package when packaging/build-deb.sh exists, else from
//! `cargo build --release -p <agent>`.

use crate::paths::Paths;
use crate::step::{Context, Result, say};
use crate::sys::{mins, run_ok, run_with};
use std::fs;
use std::path::PathBuf;
use std::process::Command;

/// `--agents`: ours (default) or the shell agents of the tutorial.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    Native,
    Heartbeat,
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
    /// Binaries to copy to /usr/lib/ocf/resource.d/native/.
    pub bins: Vec<PathBuf>,
    /// Our Debian package, when packaging/build-deb.sh made one.
    pub deb: Option<PathBuf>,
}

impl Choice {
    /// The agent of resource `id`.
    pub fn agent(&self, id: &str) -> &str {
        self.chosen
            .iter()
            .find(|c| c.id == id)
            .map_or("", |c| c.agent.as_str())
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

/// Builds our Debian package; returns its path and the agents it ships.
fn from_deb(paths: &Paths) -> Result<(PathBuf, Vec<String>)> {
    let script = paths.root.join("packaging/build-deb.sh");
    let out = run_ok(
        Command::new("bash").arg(&script).current_dir(&paths.root),
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
    let names = RESOURCES
        .iter()
        .filter(|r| list.contains(&format!("/usr/lib/ocf/resource.d/native/{}", r.native)))
        .map(|r| r.native.to_owned())
        .collect();
    Ok((deb, names))
}

/// Builds one agent; Ok(path) when its binary exists and answers meta-data.
fn from_cargo(paths: &Paths, name: &str) -> std::result::Result<PathBuf, String> {
    if !paths
        .root
        .join("agents")
        .join(name)
        .join("src/main.rs")
        .exists()
    {
        return Err(format!("agents/{name}/src/main.rs does not exist yet"));
    }
    let out = run_with(
        Command::new("cargo")
            .args(["build", "--release", "--quiet", "-p", name])
            .current_dir(&paths.root),
        None,
        mins(20),
    )
    .map_err(|e| e.0)?;
    if out.code != 0 {
        let first_error = out
            .stderr
            .lines()
            .find(|l| l.starts_with("error"))
            .unwrap_or("")
            .to_owned();
        return Err(format!(
            "cargo build --release -p {name} failed: {first_error}"
        ));
    }
    let bin = paths.target.join("release").join(name);
    if !bin.is_file() {
        return Err(format!("cargo built no binary {}", bin.display()));
    }
    let md = run_with(Command::new(&bin).arg("meta-data"), None, mins(1)).map_err(|e| e.0)?;
    if md.code != 0 || !md.stdout.contains("<resource-agent") {
        return Err(format!(
            "{name} meta-data exited {} without metadata",
            md.code
        ));
    }
    Ok(bin)
}

/// Chooses each resource's agent, building ours.
pub fn choose(paths: &Paths, mode: Mode) -> Choice {
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
        return choice;
    }
    let mut deb_names = None;
    if paths.root.join("packaging/build-deb.sh").exists() {
        match from_deb(paths) {
            Ok((deb, names)) => {
                say(&format!(
                    "our package {} ships: {}",
                    deb.display(),
                    names.join(" ")
                ));
                choice.deb = Some(deb);
                deb_names = Some(names);
            }
            Err(e) => say(&format!(
                "packaging/build-deb.sh failed, building agents with cargo: {e}"
            )),
        }
    }
    for r in &RESOURCES {
        let found = match &deb_names {
            Some(names) if names.iter().any(|n| n == r.native) => {
                Ok("from our Debian package".to_owned())
            }
            Some(_) => Err("not in our Debian package".to_owned()),
            None => from_cargo(paths, r.native).map(|bin| {
                choice.bins.push(bin);
                "built with cargo --release".to_owned()
            }),
        };
        let c = match found {
            Ok(why) => Chosen {
                id: r.id,
                agent: format!("ocf:native:{}", r.native),
                native: true,
                why,
            },
            Err(why) => Chosen {
                id: r.id,
                agent: r.shell.to_owned(),
                native: false,
                why,
            },
        };
        say(&format!("{}: {} ({})", c.id, c.agent, c.why));
        choice.chosen.push(c);
    }
    choice
}

/// The bytes that key the image's agents layer.
pub fn fingerprint(choice: &Choice) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    for bin in &choice.bins {
        bytes.extend(
            bin.file_name()
                .map(|n| n.as_encoded_bytes().to_vec())
                .unwrap_or_default(),
        );
        bytes.extend(fs::read(bin)?);
    }
    if let Some(deb) = &choice.deb {
        bytes.extend(fs::read(deb)?);
    }
    Ok(bytes)
}
