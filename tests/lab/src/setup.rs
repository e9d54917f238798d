//! What a lab run is: which agents, which Debian release, which configuration profile, and
//! any test-only breaks. `up` records it under target/lab/run/ so that `check`, `start` and
//! `ssh` act on the lab as it was brought up.

use crate::agents::Mode;
use crate::breaks::Break;
use crate::paths::Paths;
use crate::step::{Context, Error, Result};
use std::fs;
use std::path::PathBuf;

/// `--release`: the Debian release of the guests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Release {
    /// Debian 13, the current stable: Pacemaker 3.0, pcs 0.12, kernel 6.12.
    Trixie,
    /// Debian 12: Pacemaker 2.1, pcs 0.11, kernel 6.1.
    Bookworm,
}

impl Release {
    pub fn suite(self) -> &'static str {
        match self {
            Release::Trixie => "trixie",
            Release::Bookworm => "bookworm",
        }
    }

    pub fn parse(s: &str) -> Option<Release> {
        [Release::Trixie, Release::Bookworm]
            .into_iter()
            .find(|r| r.suite() == s)
    }

    /// The Pacemaker major version the release ships.
    pub fn pacemaker_major(self) -> u32 {
        match self {
            Release::Trixie => 3,
            Release::Bookworm => 2,
        }
    }

    /// The package that ships fence_sbd: trixie split fence-agents into one package per
    /// agent; bookworm has them all in one.
    pub fn fence_sbd_package(self) -> &'static str {
        match self {
            Release::Trixie => "fence-agents-sbd",
            Release::Bookworm => "fence-agents",
        }
    }
}

/// `--profile`: the cluster's configuration. `tutorial` is the tutorial as written (STONITH
/// off); `fenced` is what the README recommends for production (tests/lab/FENCED.md): SBD
/// fencing on a disk both machines share, an emulated watchdog, DLM's and DRBD's own fencing,
/// interleaved clones, stickiness.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Profile {
    Tutorial,
    Fenced,
}

impl Profile {
    pub fn name(self) -> &'static str {
        match self {
            Profile::Tutorial => "tutorial",
            Profile::Fenced => "fenced",
        }
    }

    /// Whether the configuration keeps the order `VirtualIP then WebSite-clone` (the
    /// tutorial deletes only the colocation), so that every move of the VirtualIP restarts
    /// every Apache.
    pub fn keeps_vip_website_order(self) -> bool {
        match self {
            Profile::Tutorial => true,
            Profile::Fenced => false,
        }
    }

    /// Whether the profile turns fencing on (`stonith-enabled`).
    pub fn fencing(self) -> bool {
        match self {
            Profile::Tutorial => false,
            Profile::Fenced => true,
        }
    }

    pub fn parse(s: &str) -> Option<Profile> {
        [Profile::Tutorial, Profile::Fenced]
            .into_iter()
            .find(|p| p.name() == s)
    }
}

/// One lab run's choices.
#[derive(Clone, Debug, PartialEq)]
pub struct Setup {
    pub mode: Mode,
    pub release: Release,
    pub profile: Profile,
    /// Test-only breaks (`--break`): each makes a named check's subject wrong on purpose.
    pub breaks: Vec<Break>,
    /// `--faults`: the fault checks (19-25) too, after the others.
    pub faults: bool,
    /// `--port`: the tutorial is replayed on the shell agents, then ported live to ours
    /// (checks 27-29) before the checks run on ours.
    pub port: bool,
    /// `--deb`: our package already built from HEAD (used to build the image; not saved).
    pub deb: Option<PathBuf>,
}

impl Setup {
    /// The agents the tutorial is replayed on: the shell agents when the run ports them.
    pub fn boot_mode(&self) -> Mode {
        if self.port {
            Mode::Heartbeat
        } else {
            self.mode
        }
    }

    pub fn broken(&self, b: Break) -> bool {
        self.breaks.contains(&b)
    }

    /// "native agents, trixie, tutorial profile".
    pub fn describe(&self) -> String {
        let mut s = format!(
            "{} agents, {}, {} profile",
            self.mode.name(),
            self.release.suite(),
            self.profile.name()
        );
        if self.port {
            s.push_str(", ported live from the shell agents");
        }
        if self.faults {
            s.push_str(", with the fault checks");
        }
        if !self.breaks.is_empty() {
            let names: Vec<&str> = self.breaks.iter().map(|b| b.name()).collect();
            s.push_str(", BROKEN ON PURPOSE: ");
            s.push_str(&names.join(" "));
        }
        s
    }

    fn to_text(&self) -> String {
        let breaks: Vec<&str> = self.breaks.iter().map(|b| b.name()).collect();
        format!(
            "agents={}\nrelease={}\nprofile={}\nbreaks={}\nfaults={}\nport={}\n",
            self.mode.name(),
            self.release.suite(),
            self.profile.name(),
            breaks.join(","),
            if self.faults { "yes" } else { "no" },
            if self.port { "yes" } else { "no" }
        )
    }

    fn from_text(text: &str) -> Result<Setup> {
        let get = |k: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(k)?.strip_prefix('='))
                .map(str::trim)
                .ok_or_else(|| Error(format!("no {k}= in the lab's setup")))
        };
        let bad = |k: &str, v: &str| Error(format!("the lab's setup has {k}={v}"));
        let (m, r, p) = (get("agents")?, get("release")?, get("profile")?);
        let mut breaks = Vec::new();
        for b in get("breaks")?.split(',').filter(|b| !b.is_empty()) {
            breaks.push(Break::parse(b).ok_or_else(|| bad("breaks", b))?);
        }
        Ok(Setup {
            mode: Mode::parse(m).ok_or_else(|| bad("agents", m))?,
            release: Release::parse(r).ok_or_else(|| bad("release", r))?,
            profile: Profile::parse(p).ok_or_else(|| bad("profile", p))?,
            breaks,
            faults: match get("faults")? {
                "yes" => true,
                "no" => false,
                other => return Err(bad("faults", other)),
            },
            port: match get("port").unwrap_or("no") {
                "yes" => true,
                "no" => false,
                other => return Err(bad("port", other)),
            },
            deb: None,
        })
    }

    pub fn save(&self, paths: &Paths) -> Result<()> {
        fs::create_dir_all(&paths.run)?;
        fs::write(paths.run.join("setup"), self.to_text())?;
        Ok(())
    }

    /// The setup of the lab that is up.
    pub fn load(paths: &Paths) -> Result<Setup> {
        let text = fs::read_to_string(paths.run.join("setup"))
            .context(|| "no lab is up (run `lab up`)".to_owned())?;
        Setup::from_text(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let s = Setup {
            mode: Mode::Heartbeat,
            release: Release::Bookworm,
            profile: Profile::Tutorial,
            breaks: vec![Break::KeepApache, Break::PromoteTwice],
            faults: true,
            port: true,
            deb: None,
        };
        assert_eq!(Setup::from_text(&s.to_text()).unwrap(), s);
        let plain = Setup {
            breaks: Vec::new(),
            faults: false,
            port: false,
            ..s
        };
        assert_eq!(Setup::from_text(&plain.to_text()).unwrap(), plain);
        assert!(Setup::from_text("agents=native\n").is_err());
    }
}
