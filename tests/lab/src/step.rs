//! Progress lines, step timing and the lab's error type.
//!
//! Every long wait registers what it awaits (`awaiting`); a ticker thread prints, at least
//! every 15 s, a line per thread naming the innermost thing awaited and how long so far, so
//! that a run never sits silent (issue 15).

use std::fmt;
use std::sync::{Mutex, OnceLock};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

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
    /// When it began, in seconds since the run began.
    pub started: f64,
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

/// How often at least a line tells what is awaited.
pub const TICK: Duration = Duration::from_secs(15);

/// Something awaited right now, on one thread.
#[derive(Clone, Debug)]
struct Activity {
    id: u64,
    thread: ThreadId,
    what: String,
    since: Instant,
}

#[derive(Default)]
struct Activities {
    next: u64,
    list: Vec<Activity>,
    /// When the ticker last spoke for each thread.
    spoke: Vec<(ThreadId, Instant)>,
}

fn activities() -> &'static Mutex<Activities> {
    static ACTIVITIES: OnceLock<Mutex<Activities>> = OnceLock::new();
    ACTIVITIES.get_or_init(|| {
        thread::spawn(ticker);
        Mutex::new(Activities::default())
    })
}

/// While alive, the ticker names `what` as awaited on this thread.
pub struct Awaiting(u64);

/// Registers what this thread awaits until the guard is dropped.
pub fn awaiting(what: impl Into<String>) -> Awaiting {
    let mut a = activities()
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    a.next += 1;
    let id = a.next;
    a.list.push(Activity {
        id,
        thread: thread::current().id(),
        what: what.into(),
        since: Instant::now(),
    });
    Awaiting(id)
}

impl Drop for Awaiting {
    fn drop(&mut self) {
        let mut a = activities()
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        a.list.retain(|x| x.id != self.0);
    }
}

/// The lines due at `now`: per thread, its awaited things from outermost to innermost, when
/// the innermost has gone `TICK` without a line.
fn due(a: &mut Activities, now: Instant) -> Vec<String> {
    let mut threads: Vec<ThreadId> = Vec::new();
    for x in &a.list {
        if !threads.contains(&x.thread) {
            threads.push(x.thread);
        }
    }
    a.spoke.retain(|(t, _)| threads.contains(t));
    let mut lines = Vec::new();
    for t in threads {
        let chain: Vec<&Activity> = a.list.iter().filter(|x| x.thread == t).collect();
        let Some(inner) = chain.last() else { continue };
        let last = a
            .spoke
            .iter()
            .find(|(th, _)| *th == t)
            .map_or(inner.since, |(_, at)| (*at).max(inner.since));
        if now.duration_since(last) < TICK {
            continue;
        }
        let path: Vec<String> = chain
            .iter()
            .map(|x| {
                format!(
                    "{} ({:.0} s)",
                    x.what,
                    now.duration_since(x.since).as_secs_f64()
                )
            })
            .collect();
        lines.push(format!("... awaiting {}", path.join(" > ")));
        a.spoke.retain(|(th, _)| *th != t);
        a.spoke.push((t, now));
    }
    lines
}

fn ticker() {
    loop {
        thread::sleep(Duration::from_secs(1));
        let lines = {
            let mut a = activities()
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            due(&mut a, Instant::now())
        };
        for l in lines {
            say(&l);
        }
    }
}

/// Runs one step: a line when it starts, a line with its duration when it ends, progress
/// lines while it runs, and on failure an error that names the step.
pub fn step<T>(name: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    say(&format!("{name} ..."));
    let t = Instant::now();
    let result = {
        let _busy = awaiting(name);
        f()
    };
    let seconds = t.elapsed().as_secs_f64();
    let ok = result.is_ok();
    if let Ok(mut r) = records().lock() {
        r.push(StepRecord {
            name: name.to_owned(),
            started: t.saturating_duration_since(start()).as_secs_f64(),
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
            let why: String = e.0.chars().take(600).collect();
            say(&format!("{name}: FAILED after {seconds:.1} s: {why}"));
            Err(Error(format!("step '{name}' failed: {e}")))
        }
    }
}

/// Every step run so far.
pub fn recorded() -> Vec<StepRecord> {
    records().lock().map(|r| r.clone()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn act(id: u64, thread: ThreadId, what: &str, since: Instant) -> Activity {
        Activity {
            id,
            thread,
            what: what.into(),
            since,
        }
    }

    #[test]
    fn a_line_every_tick_naming_the_innermost_wait() {
        let t0 = Instant::now();
        let me = thread::current().id();
        let mut a = Activities {
            next: 2,
            list: vec![
                act(1, me, "tutorial: dlm", t0),
                act(
                    2,
                    me,
                    "dlm started on both nodes",
                    t0 + Duration::from_secs(5),
                ),
            ],
            spoke: Vec::new(),
        };
        // 14 s into the inner wait: not yet.
        assert!(due(&mut a, t0 + Duration::from_secs(19)).is_empty());
        let lines = due(&mut a, t0 + Duration::from_secs(20));
        assert_eq!(
            lines,
            ["... awaiting tutorial: dlm (20 s) > dlm started on both nodes (15 s)"]
        );
        // Spoken: silent again for a tick, then again.
        assert!(due(&mut a, t0 + Duration::from_secs(34)).is_empty());
        assert_eq!(due(&mut a, t0 + Duration::from_secs(35)).len(), 1);
        // Nothing awaited: nothing said.
        a.list.clear();
        assert!(due(&mut a, t0 + Duration::from_secs(99)).is_empty());
        assert!(a.spoke.is_empty());
    }

    #[test]
    fn each_thread_gets_its_line() {
        let t0 = Instant::now();
        let me = thread::current().id();
        let other = thread::spawn(|| thread::current().id()).join().unwrap();
        let mut a = Activities {
            next: 2,
            list: vec![act(1, me, "boot", t0), act(2, other, "DRBD", t0)],
            spoke: Vec::new(),
        };
        assert_eq!(due(&mut a, t0 + TICK).len(), 2);
    }
}
