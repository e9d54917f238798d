//! Running the few helper programs an agent may not avoid (drbdadm, crm_attribute, modprobe,
//! fsck, ...): always an argv vector, never a shell; stdout and stderr collected; and bounded
//! by a deadline, after which the child is killed (SIGKILL) and reaped, so that the agent
//! itself still has time to report before Pacemaker's own timeout.
//!
//! Not for daemons that must outlive the agent (httpd, dlm_controld): those are spawned and
//! detached by the agents that own them.

use std::io::Read;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Why a helper program did not give an answer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot run {program}: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("{program} did not finish within {waited:?} and was killed")]
    TimedOut { program: String, waited: Duration },
    #[error("waiting for {program}: {source}")]
    Wait {
        program: String,
        source: std::io::Error,
    },
}

/// A finished helper program.
#[derive(Debug, Clone)]
pub struct Output {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// The exit code, or None when a signal ended it.
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// stderr (or stdout when stderr is empty), trimmed: what to quote in an exit reason.
    pub fn message(&self) -> String {
        let text = if self.stderr.trim().is_empty() {
            &self.stdout
        } else {
            &self.stderr
        };
        text.trim().replace('\n', "; ")
    }
}

/// Run `program` with `args` and wait for it, but no later than `end`. Standard input is
/// /dev/null. A child still running at `end` is killed and reaped, and `TimedOut` returned.
pub fn run(program: &str, args: &[&str], end: Instant) -> Result<Output, Error> {
    run_with(Command::new(program).args(args), end)
}

/// Like [`run`] for a prepared `Command` (extra environment, working directory).
pub fn run_with(cmd: &mut Command, end: Instant) -> Result<Output, Error> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| Error::Spawn {
            program: program.clone(),
            source,
        })?;
    // Read both pipes on threads so that a chatty child cannot block on a full pipe while
    // we wait for it.
    let out = child.stdout.take().map(reader);
    let err = child.stderr.take().map(reader);
    let mut nap = Duration::from_millis(1);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => {}
            Err(source) => return Err(Error::Wait { program, source }),
        }
        let now = Instant::now();
        if now >= end {
            let _ = child.kill();
            let _ = child.wait();
            return Err(Error::TimedOut {
                program,
                waited: started.elapsed(),
            });
        }
        std::thread::sleep(nap.min(end - now));
        // Back off from 1 ms to 50 ms: quick tools answer fast, slow ones cost little.
        nap = (nap * 2).min(Duration::from_millis(50));
    };
    let collect = |h: Option<std::thread::JoinHandle<String>>| {
        h.and_then(|h| h.join().ok()).unwrap_or_default()
    };
    Ok(Output {
        status,
        stdout: collect(out),
        stderr: collect(err),
    })
}

fn reader<R: Read + Send + 'static>(mut pipe: R) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = pipe.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn soon(secs: u64) -> Instant {
        Instant::now() + Duration::from_secs(secs)
    }

    #[test]
    fn collects_output_and_status() {
        let out = run("sh", &["-c", "echo out; echo err >&2; exit 3"], soon(10)).unwrap();
        assert_eq!(out.code(), Some(3));
        assert_eq!(out.stdout, "out\n");
        assert_eq!(out.stderr, "err\n");
        assert_eq!(out.message(), "err");
    }

    #[test]
    fn arguments_are_not_interpreted_by_a_shell() {
        let out = run("echo", &["$(id)", ";", "rm -rf /"], soon(10)).unwrap();
        assert_eq!(out.stdout, "$(id) ; rm -rf /\n");
    }

    #[test]
    fn overrun_is_killed_at_the_deadline() {
        let start = Instant::now();
        let err = run(
            "sleep",
            &["30"],
            Instant::now() + Duration::from_millis(200),
        )
        .unwrap_err();
        assert!(matches!(err, Error::TimedOut { .. }), "{err}");
        assert!(start.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn missing_program_is_a_spawn_error() {
        let err = run("/nonexistent/prog", &[], soon(5)).unwrap_err();
        assert!(matches!(err, Error::Spawn { .. }));
        assert!(err.to_string().contains("/nonexistent/prog"));
    }

    #[test]
    fn large_output_does_not_deadlock() {
        let out = run("sh", &["-c", "head -c 1000000 /dev/zero"], soon(20)).unwrap();
        assert_eq!(out.stdout.len(), 1_000_000);
    }
}
