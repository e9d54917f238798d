//! floor-agent: an OCF resource agent that manages nothing, for `bench scale --floor`. Its
//! resource is a file under /run (created by start, removed by stop, looked at by monitor),
//! so what Pacemaker's executor spends running it is the floor every agent pays at scale:
//! the executor's own work per operation, fork and exec, and a process that does one
//! system call. Not an agent for a cluster.

use std::path::PathBuf;
use std::process::ExitCode;

const OK: u8 = 0;
const UNIMPLEMENTED: u8 = 3;
const CONFIGURED: u8 = 6;
const NOT_RUNNING: u8 = 7;

const METADATA: &str = r#"<?xml version="1.0"?>
<resource-agent name="floor-agent" version="0.1">
  <version>1.1</version>
  <longdesc lang="en">Manages nothing: a file under /run stands for the resource. For measuring what the executor spends per operation.</longdesc>
  <shortdesc lang="en">Measurement floor</shortdesc>
  <parameters/>
  <actions>
    <action name="start" timeout="20s"/>
    <action name="stop" timeout="20s"/>
    <action name="monitor" timeout="20s" interval="10s"/>
    <action name="meta-data" timeout="5s"/>
    <action name="validate-all" timeout="5s"/>
  </actions>
</resource-agent>
"#;

fn state_file() -> Option<PathBuf> {
    state_file_of(&std::env::var("OCF_RESOURCE_INSTANCE").ok()?)
}

fn state_file_of(instance: &str) -> Option<PathBuf> {
    // Only names Pacemaker gives resources: no path separators, no dot-dot.
    let safe = !instance.is_empty()
        && instance
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':'));
    safe.then(|| PathBuf::from("/run/native-agents-floor").join(instance))
}

fn main() -> ExitCode {
    let action = std::env::args().nth(1).unwrap_or_default();
    if action == "meta-data" {
        print!("{METADATA}");
        return ExitCode::from(OK);
    }
    let Some(file) = state_file() else {
        eprintln!("floor-agent: OCF_RESOURCE_INSTANCE missing or not a resource name");
        return ExitCode::from(CONFIGURED);
    };
    let code = match action.as_str() {
        "start" => file
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&file, b""))
            .map_or(1, |()| OK),
        "stop" => match std::fs::remove_file(&file) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => 1,
            _ => OK,
        },
        "monitor" => {
            if file.exists() {
                OK
            } else {
                NOT_RUNNING
            }
        }
        "validate-all" => OK,
        _ => UNIMPLEMENTED,
    };
    ExitCode::from(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_file_is_named_after_the_resource_and_stays_in_its_directory() {
        assert_eq!(
            state_file_of("scale-floor-0-7"),
            Some(PathBuf::from("/run/native-agents-floor/scale-floor-0-7"))
        );
        assert_eq!(
            state_file_of("clone:1"),
            Some(PathBuf::from("/run/native-agents-floor/clone:1"))
        );
        for bad in ["", "..", "../x", "a/b", "a b"] {
            assert_eq!(state_file_of(bad), None, "{bad:?}");
        }
    }
}
