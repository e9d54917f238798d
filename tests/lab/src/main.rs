//! `lab`: the two-node QEMU lab. It builds a Debian guest image, boots node1 and node2, forms
//! a corosync/Pacemaker cluster, replays the tutorial's pcs commands on our agents (or the
//! shell agents) and runs the tutorial's checks. See tests/lab/README.md.

mod agents;
mod cluster;
mod crm;
mod dlm_checks;
mod drbd_checks;
mod host;
mod image;
mod logs;
mod native;
mod paths;
mod report;
mod scenario;
mod step;
mod sys;
mod vm;

use agents::Mode;
use clap::{Parser, Subcommand};
use paths::Paths;
use std::process::ExitCode;
use step::{Result, step};

#[derive(Parser)]
#[command(about = "The two-node QEMU lab: the tutorial's active-active cluster on our agents")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Build (or find in the cache) the guest image.
    Image {
        #[arg(long, value_enum, default_value = "native")]
        agents: Mode,
    },
    /// Boot both nodes, form the cluster, replay the tutorial; leaves it running.
    Up {
        #[arg(long, value_enum, default_value = "native")]
        agents: Mode,
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
    Check,
    /// up, the tutorial's checks, down; writes target/lab/report.json.
    Scenario {
        #[arg(long, value_enum, default_value = "native")]
        agents: Mode,
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
        Cmd::Image { agents } => {
            let choice = step("choose agents", || Ok(agents::choose(paths, agents)))?;
            let image = step("guest image", || image::build(paths, &choice))?;
            println!("{}", image.dir.display());
        }
        Cmd::Up { agents } => {
            let up = cluster::up(paths, agents);
            if let Err(e) = &up {
                logs::collect(paths, &e.0);
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
        Cmd::Check => return scenario::check_only(paths),
        Cmd::Scenario { agents } => return scenario::run(paths, agents),
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
