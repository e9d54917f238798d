//! Running host programs: argv only, bounded waits, output captured for error messages.

use crate::step::{Context, Error, Result};
use std::io::Read;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// What a finished program left behind.
#[derive(Debug, Default)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// The last lines of stderr (or stdout when stderr is empty), for an error message.
    pub fn tail(&self) -> String {
        let text = if self.stderr.trim().is_empty() {
            &self.stdout
        } else {
            &self.stderr
        };
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(12)..].join("\n")
    }
}

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    if s.len() > 200 {
        s.truncate(200);
        s.push_str("...");
    }
    s
}

/// Runs `cmd` with `input` on stdin, killing it after `timeout`.
pub fn run_with(cmd: &mut Command, input: Option<&str>, timeout: Duration) -> Result<Output> {
    let what = describe(cmd);
    cmd.stdin(if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().context(|| format!("cannot run {what}"))?;
    if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
        let text = text.to_owned();
        thread::spawn(move || {
            use std::io::Write;
            let _ = stdin.write_all(text.as_bytes());
        });
    }
    let mut out = child.stdout.take().map(|mut o| {
        thread::spawn(move || {
            let mut s = Vec::new();
            let _ = o.read_to_end(&mut s);
            String::from_utf8_lossy(&s).into_owned()
        })
    });
    let mut err = child.stderr.take().map(|mut o| {
        thread::spawn(move || {
            let mut s = Vec::new();
            let _ = o.read_to_end(&mut s);
            String::from_utf8_lossy(&s).into_owned()
        })
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(Error(format!(
                "{what}: no answer within {} s",
                timeout.as_secs()
            )));
        }
        thread::sleep(Duration::from_millis(50));
    };
    let stdout = out.take().and_then(|h| h.join().ok()).unwrap_or_default();
    let stderr = err.take().and_then(|h| h.join().ok()).unwrap_or_default();
    Ok(Output {
        code: status.code().unwrap_or(-1),
        stdout,
        stderr,
    })
}

/// Runs `cmd` and fails, with its last output lines, unless it exits 0.
pub fn run_ok(cmd: &mut Command, timeout: Duration) -> Result<String> {
    let what = describe(cmd);
    let out = run_with(cmd, None, timeout)?;
    if out.code != 0 {
        return Err(Error(format!(
            "{what} exited {}:\n{}",
            out.code,
            out.tail()
        )));
    }
    Ok(out.stdout)
}

/// True when `program` is on PATH.
pub fn have(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

/// Minutes as a Duration, for readability at call sites.
pub fn mins(m: u64) -> Duration {
    Duration::from_secs(m * 60)
}

/// Seconds as a Duration.
pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}
