//! lab-boundary: runs on a lab node (as root, cluster up) and checks the agents' Pacemaker
//! boundary, crate `pacemaker-cli`, against the real Pacemaker of the guest's release: each
//! call's answer is compared with what Pacemaker's own tools say.
//!
//!     lab-boundary node                     crm_node -n through the crate == the hostname
//!     lab-boundary options true|false       fencing_enabled() of the CIB (CIB_file honoured)
//!     lab-boundary score RESOURCE           promotion score set, read, deleted, read
//!
//! Prints one line per comparison ("ok: ..." or "WRONG: ...") and exits 1 when any is wrong.

use std::process::{Command, ExitCode};
use std::thread::sleep;
use std::time::{Duration, Instant};

fn within(secs: u64) -> Instant {
    Instant::now() + Duration::from_secs(secs)
}

/// A Pacemaker tool's stdout, trimmed (empty on failure).
fn tool(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

struct Verdicts(Vec<String>);

impl Verdicts {
    fn check(&mut self, ok: bool, what: &str) {
        let line = format!("{}: {what}", if ok { "ok" } else { "WRONG" });
        println!("{line}");
        if !ok {
            self.0.push(line);
        }
    }
}

fn node(v: &mut Verdicts) {
    let ours = pacemaker_cli::local_node_name(within(30));
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    v.check(
        ours.as_ref().is_ok_and(|n| n == host.trim()),
        &format!("local_node_name() = {ours:?}, hostname {:?}", host.trim()),
    );
}

fn options(v: &mut Verdicts, expect: bool) {
    match pacemaker_cli::cluster_options(within(30)) {
        Ok(o) => {
            let named: Vec<String> = ["fencing-enabled", "stonith-enabled"]
                .iter()
                .map(|k| format!("{k}={}", o.get(k).unwrap_or("(unset)")))
                .collect();
            v.check(
                o.fencing_enabled() == expect,
                &format!(
                    "cluster_options().fencing_enabled() = {} with {} (expected {expect})",
                    o.fencing_enabled(),
                    named.join(" ")
                ),
            );
        }
        Err(e) => v.check(false, &format!("cluster_options(): {e}")),
    }
}

/// The score as Pacemaker's own tool reads it for this node (transient attributes reach the
/// CIB through the attribute manager, so it is polled).
fn cli_score(resource: &str, node: &str, want: Option<i64>) -> Option<i64> {
    let name = format!("master-{resource}");
    let deadline = within(20);
    loop {
        let got = tool(
            "crm_attribute",
            &[
                "--node",
                node,
                "--name",
                &name,
                "--lifetime",
                "reboot",
                "--query",
                "--quiet",
            ],
        )
        .parse()
        .ok();
        if got == want || Instant::now() >= deadline {
            return got;
        }
        sleep(Duration::from_millis(500));
    }
}

fn score(v: &mut Verdicts, resource: &str) {
    let node = tool("crm_node", &["-n"]);
    let set = pacemaker_cli::set_promotion_score(resource, 42, within(30));
    v.check(
        set.is_ok(),
        &format!("set_promotion_score({resource}, 42): {set:?}"),
    );
    let cli = cli_score(resource, &node, Some(42));
    v.check(
        cli == Some(42),
        &format!("crm_attribute reads {cli:?} on {node}"),
    );
    let ours = pacemaker_cli::promotion_score(resource, within(30));
    v.check(
        matches!(ours, Ok(Some(42))),
        &format!("promotion_score({resource}) = {ours:?}"),
    );
    let del = pacemaker_cli::delete_promotion_score(resource, within(30));
    v.check(del.is_ok(), &format!("delete_promotion_score: {del:?}"));
    let cli = cli_score(resource, &node, None);
    v.check(
        cli.is_none(),
        &format!("crm_attribute reads {cli:?} after the delete"),
    );
    let deadline = within(20);
    let ours = loop {
        let ours = pacemaker_cli::promotion_score(resource, within(30));
        if matches!(ours, Ok(None)) || Instant::now() >= deadline {
            break ours;
        }
        sleep(Duration::from_millis(500));
    };
    v.check(
        matches!(ours, Ok(None)),
        &format!("promotion_score after the delete = {ours:?}"),
    );
    let again = pacemaker_cli::delete_promotion_score(resource, within(30));
    v.check(
        again.is_ok(),
        &format!("deleting an absent score: {again:?}"),
    );
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut v = Verdicts(Vec::new());
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["node"] => node(&mut v),
        ["options", e @ ("true" | "false")] => options(&mut v, *e == "true"),
        ["score", resource] => score(&mut v, resource),
        _ => {
            eprintln!("usage: lab-boundary node | options true|false | score RESOURCE");
            return ExitCode::from(2);
        }
    }
    if v.0.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
