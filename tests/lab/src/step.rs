//! Progress lines, step timing and the lab's error type.

use std::fmt;
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

/// An error that names what failed; `step` prefixes the step's name.
#[derive(Debug)]
pub struct Error(pub String);

pub type Result<T> = std::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error(e.to_string())
    }
}

impl From<String> for Error {
    fn from(s: String) -> Self {
        Error(s)
    }
}

impl From<&str> for Error {
    fn from(s: &str) -> Self {
        Error(s.to_owned())
    }
}

/// Adds what was being done to an error.
pub trait Context<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E: fmt::Display> Context<T> for std::result::Result<T, E> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| Error(format!("{}: {e}", what())))
    }
}

/// One finished step: its name and how long it took.
#[derive(Clone, Debug)]
pub struct StepRecord {
    pub name: String,
    pub seconds: f64,
    pub ok: bool,
}

fn start() -> Instant {
    static START: OnceLock<Instant> = OnceLock::new();
    *START.get_or_init(Instant::now)
}

fn records() -> &'static Mutex<Vec<StepRecord>> {
    static RECORDS: OnceLock<Mutex<Vec<StepRecord>>> = OnceLock::new();
    RECORDS.get_or_init(|| Mutex::new(Vec::new()))
}

/// Seconds since the lab started.
pub fn elapsed() -> f64 {
    start().elapsed().as_secs_f64()
}

/// A progress line, prefixed with the time since the lab started.
pub fn say(msg: &str) {
    eprintln!("[lab {:>7.1}s] {msg}", elapsed());
}

/// Runs one step: a line when it starts, a line with its duration when it ends, and on
/// failure an error that names the step.
pub fn step<T>(name: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    say(&format!("{name} ..."));
    let t = Instant::now();
    let result = f();
    let seconds = t.elapsed().as_secs_f64();
    let ok = result.is_ok();
    if let Ok(mut r) = records().lock() {
        r.push(StepRecord {
            name: name.to_owned(),
            seconds,
            ok,
        });
    }
    match result {
        Ok(v) => {
            say(&format!("{name}: done in {seconds:.1} s"));
            Ok(v)
        }
        Err(e) => {
            say(&format!("{name}: FAILED after {seconds:.1} s"));
            Err(Error(format!("step '{name}' failed: {e}")))
        }
    }
}

/// Every step run so far.
pub fn recorded() -> Vec<StepRecord> {
    records().lock().map(|r| r.clone()).unwrap_or_default()
}
