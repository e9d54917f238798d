use clap::{Arg, ArgAction, Command};
use native_agents_port::agents::Direction;
use native_agents_port::cluster::System;
use native_agents_port::port::{self, Options, Outcome};
use std::process::ExitCode;
use std::time::Duration;

fn command() -> Command {
    // clap keeps the version as a &'static str; the stamp is made once per process.
    let version: &'static str = Box::leak(ocf::version::stamp().into_boxed_str());
    Command::new("native-agents-port")
        .version(version)
        .about(
            "Port a running Pacemaker cluster from the shell agents (IPaddr2, apache, \
             Filesystem, controld, linbit drbd) to native-agents, or back, without stopping \
             any resource. Dry run unless --apply. Run as root on one node of the cluster.",
        )
        .arg(
            Arg::new("apply")
                .long("apply")
                .action(ArgAction::SetTrue)
                .help("Port: maintenance mode, one CIB change, reprobe, compare, leave maintenance mode"),
        )
        .arg(
            Arg::new("back")
                .long("back")
                .action(ArgAction::SetTrue)
                .help("Go back from native-agents to the shell agents"),
        )
        .arg(
            Arg::new("resource")
                .long("resource")
                .value_name("ID")
                .action(ArgAction::Append)
                .help("Only this resource (a primitive, or a clone or group: the primitives in it); repeatable"),
        )
        .arg(
            Arg::new("timeout")
                .long("timeout")
                .value_name("SECONDS")
                .value_parser(clap::value_parser!(u64).range(1..=3600))
                .default_value("120")
                .help("Bound of each wait (the probes, the cluster settling)"),
        )
        .arg(
            Arg::new("publish")
                .long("publish")
                .action(ArgAction::SetTrue)
                .conflicts_with_all(["apply", "back", "resource"])
                .help("Record the native-agents version installed on this node in the CIB (node attribute native-agents-version), after checking every agent; run it on each node"),
        )
}

fn main() -> ExitCode {
    let matches = command().get_matches();
    if !nix::unistd::geteuid().is_root() {
        eprintln!(
            "native-agents-port: run it as root (it reads and changes the CIB and runs the agents' validate-all)"
        );
        return ExitCode::from(1);
    }
    let stamp = ocf::version::stamp();
    let mut cluster = System::new(native_agents_port::OCF_ROOT);
    let mut out = std::io::stdout();
    if matches.get_flag("publish") {
        return match port::publish(&mut cluster, &stamp, &mut out) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::from(1),
            Err(e) => {
                eprintln!("native-agents-port: {e}");
                ExitCode::from(1)
            }
        };
    }
    let opts = Options {
        direction: if matches.get_flag("back") {
            Direction::ToShell
        } else {
            Direction::ToNative
        },
        resources: matches
            .get_many::<String>("resource")
            .map(|v| v.cloned().collect())
            .unwrap_or_default(),
        apply: matches.get_flag("apply"),
        timeout: Duration::from_secs(matches.get_one::<u64>("timeout").copied().unwrap_or(120)),
        stamp,
    };
    match port::run(&mut cluster, &opts, &mut out) {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        Err(e) => {
            eprintln!("native-agents-port: {e}");
            if opts.apply {
                eprintln!(
                    "native-agents-port: check crm_mon: if maintenance-mode is on, the port stopped half-way"
                );
            }
            ExitCode::from(Outcome::Refused.exit_code())
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_is_consistent() {
        super::command().debug_assert();
    }
}
