//! `lab`: the two-node QEMU lab. It builds a Debian guest image, boots node1 and node2, forms
//! a corosync/Pacemaker cluster, replays the tutorial's pcs commands on our agents (or the
//! shell agents) and runs the tutorial's checks. See tests/lab/README.md.

mod agents;
mod boundary;
mod breaks;
mod cluster;
mod cost_checks;
mod crm;
mod describe;
mod dlm_checks;
mod drbd_checks;
mod fault_checks;
mod fenced;
mod fenced_checks;
mod host;
mod image;
mod logs;
mod native;
mod paths;
mod pcs;
mod phases;
mod port_checks;
mod report;
mod report_html;
mod scenario;
mod setup;
mod step;
mod sys;
mod tutorial_checks;
mod vm;

use agents::Mode;
use breaks::Break;
use clap::{Args, Parser, Subcommand};
use paths::Paths;
use setup::{Profile, Release, Setup};
use std::path::PathBuf;
use std::process::ExitCode;
use step::{Result, step};

#[derive(Parser)]
#[command(about = "The two-node QEMU lab: the tutorial's active-active cluster on our agents")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

/// What a lab is made of.
#[derive(Args, Clone)]
struct SetupArgs {
    /// Our agents (from our Debian package, all five) or the tutorial's shell agents.
    #[arg(long, value_enum, default_value = "native")]
    agents: Mode,
    /// The guests' Debian release: trixie (13, the current stable) or bookworm (12).
    #[arg(long, value_enum, default_value = "trixie")]
    release: Release,
    /// The cluster's configuration: the tutorial as written (STONITH off).
    #[arg(long, value_enum, default_value = "tutorial")]
    profile: Profile,
    /// Test only: break one check's subject on purpose to see that check fail (repeatable).
    #[arg(long = "break", value_enum, hide = true)]
    breaks: Vec<Break>,
    /// Also the fault checks (19-25: a device held open, a private mount namespace, a typo,
    /// a hung httpd, DRBD's common section, a failing disk, a cut link), after the others.
    #[arg(long)]
    faults: bool,
    /// Replay the tutorial on the shell agents, port it live to ours with the packaged
    /// native-agents-port (to ours, back, to ours again: checks 27-29, under load), then run
    /// the checks on the ported cluster.
    #[arg(long)]
    port: bool,
    /// Our Debian package, already built from this checkout's HEAD (tests/run.sh leaves its
    /// path in target/debian/built-by-run.sh), instead of building it again. Refused unless
    /// its agents' build stamp names HEAD, or a commit that differs from it only in tests/,
    /// .ci/ and Markdown files.
    #[arg(long, value_name = "PATH")]
    deb: Option<PathBuf>,
}

impl SetupArgs {
    fn setup(&self) -> Setup {
        Setup {
            mode: self.agents,
            release: self.release,
            profile: self.profile,
            breaks: self.breaks.clone(),
            faults: self.faults,
            port: self.port,
            deb: self.deb.clone(),
        }
    }
}

#[derive(Subcommand)]
enum Cmd {
    /// Build (or find in the cache) the release's root filesystem, the part of the image
    /// that comes from the apt sources (mmdebstrap). `.ci/run` runs it first, before
    /// tests/run.sh: its downloads failed for minutes right after tests/run.sh, three times.
    Rootfs {
        /// The guests' Debian release.
        #[arg(long, value_enum, default_value = "trixie")]
        release: Release,
    },
    /// Build (or find in the cache) the guest image.
    Image {
        #[command(flatten)]
        setup: SetupArgs,
    },
    /// Boot both nodes, form the cluster, replay the tutorial; leaves it running.
    Up {
        #[command(flatten)]
        setup: SetupArgs,
    },
    /// Run a command on a node as root (words joined with spaces, run by its shell).
    Ssh {
        node: String,
        #[arg(last = true, required = true)]
        command: Vec<String>,
    },
    /// Hard power-off of a node.
    Kill { node: String },
    /// Boot a node again; it rejoins the cluster.
    Start { node: String },
    /// End both VMs and remove their overlays.
    Down,
    /// The checks on the lab that is up (it stays up); writes target/lab/report.json.
    Check {
        /// Only the checks with these numbers (repeatable; for working on a check, not a proof:
        /// some checks use what earlier ones recorded).
        #[arg(long)]
        only: Vec<u32>,
    },
    /// up, the checks, down; writes target/lab/report.json.
    Scenario {
        #[command(flatten)]
        setup: SetupArgs,
    },
}

fn run(cli: Cli, paths: &Paths) -> Result<ExitCode> {
    if matches!(cli.command, Cmd::Ssh { .. }) {
        // Quiet: `lab ssh` passes the node's output through untouched.
        host::ensure(paths)?;
    } else {
        step("host prerequisites", || host::ensure(paths))?;
    }
    match cli.command {
        Cmd::Rootfs { release } => {
            let dir = step(&format!("root filesystem ({})", release.suite()), || {
                image::rootfs(paths, release)
            })?;
            println!("{}", dir.display());
        }
        Cmd::Image { setup } => {
            let (_, image) = cluster::prepare(paths, &setup.setup(), &[])?;
            println!("{}", image.dir.display());
        }
        Cmd::Up { setup } => {
            let setup = setup.setup();
            let up = cluster::up(paths, &setup);
            if let Err(e) = &up {
                logs::collect(paths, &setup, &e.0);
            }
            up?;
        }
        Cmd::Ssh { node, command } => {
            vm::index(&node)?;
            let code = vm::ssh_passthrough(paths, &node, &command)?;
            return Ok(ExitCode::from(u8::try_from(code).unwrap_or(255)));
        }
        Cmd::Kill { node } => {
            vm::index(&node)?;
            step(&format!("kill {node}"), || vm::kill(paths, &node))?;
        }
        Cmd::Start { node } => {
            step(&format!("start {node}"), || {
                cluster::start_node(paths, &node)
            })?;
        }
        Cmd::Down => step("down", || vm::down(paths))?,
        Cmd::Check { only } => return scenario::check_only(paths, &only),
        Cmd::Scenario { setup } => return scenario::run(paths, &setup.setup()),
    }
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let paths = Paths::new();
    match run(cli, &paths) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("lab: {e}");
            ExitCode::FAILURE
        }
    }
}
