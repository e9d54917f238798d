//! What a run leaves under target/lab/logs/<release>-<agents>/ for whoever reads a red CI:
//! each VM's console, each node's Pacemaker log, journal and cluster state.

use crate::paths::Paths;
use crate::setup::Setup;
use crate::step::say;
use crate::sys::secs;
use crate::vm::{self, NODES};
use std::fs;

const GATHER: &[(&str, &str)] = &[
    ("pacemaker.log", "cat /var/log/pacemaker/pacemaker.log"),
    ("journal.log", "journalctl -b --no-pager -o short-precise"),
    (
        "state.txt",
        "crm_mon -1 -r -f -A; echo; cat /proc/drbd; echo; dlm_tool ls; echo; grep -E 'drbd|gfs2' /proc/mounts; \
         echo; ip -br addr; echo; cibadmin -Q",
    ),
];

/// Copies the consoles and fetches the nodes' logs; `why` goes to why.txt.
pub fn collect(paths: &Paths, setup: &Setup, why: &str) {
    let dir = paths
        .logs
        .join(format!("{}-{}", setup.release.suite(), setup.mode.name()));
    let _ = fs::create_dir_all(&dir);
    let _ = fs::write(dir.join("why.txt"), format!("{why}\n"));
    for node in NODES {
        let console = vm::console_log(paths, node);
        if console.exists() {
            let _ = fs::copy(&console, dir.join(format!("{node}-console.log")));
        }
        if !vm::running(paths, node) {
            continue;
        }
        for (name, cmd) in GATHER {
            if let Ok(out) = vm::ssh(paths, node, &format!("{cmd} 2>&1"), secs(60)) {
                let _ = fs::write(dir.join(format!("{node}-{name}")), out.stdout);
            }
        }
    }
    say(&format!("logs kept in {}", dir.display()));
}
