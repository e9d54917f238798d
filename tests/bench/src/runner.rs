//! Runs a subject's cycle on both sides, alternating: run i does ours then the anchor, run i+1
//! the anchor then ours, so that drift on a shared machine hits both alike. Then one counting
//! cycle per side under strace.

use crate::measure::{Census, Invocation, Sample};
use crate::subjects::{Step, Subject};
use crate::sys;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub const SIDES: [&str; 2] = ["ours", "anchor"];

/// Everything measured for one step: [ours, anchor].
#[derive(Debug, Default)]
pub struct StepResult {
    pub label: &'static str,
    pub samples: [Vec<Sample>; 2],
    pub census: [Option<Census>; 2],
    /// ms from httpd's exit to the stop's return, per run.
    pub httpd_lag_ms: [Vec<f64>; 2],
}

pub struct Runner<'a> {
    pub ours_dir: &'a Path,
    pub work: &'a Path,
    pub logdir: &'a Path,
}

impl Runner<'_> {
    fn program(&self, subject: &Subject, side: usize) -> PathBuf {
        if side == 0 {
            self.ours_dir.join(subject.ours)
        } else {
            subject.anchor.clone()
        }
    }

    fn invocation(&self, subject: &Subject, side: usize, step: &Step) -> Invocation {
        let rsctmp = self.work.join(format!("rsctmp-{}", SIDES[side]));
        let mut env: Vec<(String, String)> = vec![
            ("PATH".into(), "/usr/sbin:/usr/bin:/sbin:/bin".into()),
            ("OCF_ROOT".into(), "/usr/lib/ocf".into()),
            (
                "OCF_RESOURCE_INSTANCE".into(),
                format!("bench-{}", subject.ours),
            ),
            ("OCF_RESKEY_CRM_meta_timeout".into(), "20000".into()),
            ("HA_LOGFACILITY".into(), "none".into()),
            ("HA_RSCTMP".into(), rsctmp.to_string_lossy().into_owned()),
        ];
        if step.action != "meta-data" {
            env.extend(subject.params.iter().cloned());
        }
        if let Some(ms) = step.interval_ms {
            env.push(("OCF_RESKEY_CRM_meta_interval".into(), ms.to_string()));
        }
        Invocation {
            program: self.program(subject, side),
            action: step.action.to_owned(),
            env,
            expect: step.expect[side],
            label: format!("{}-{}-{}", subject.kind, SIDES[side], step.label),
        }
    }

    fn prepare(&self) -> Result<(), String> {
        for side in SIDES {
            let dir = self.work.join(format!("rsctmp-{side}"));
            std::fs::create_dir_all(&dir).map_err(|e| format!("set-up: {}: {e}", dir.display()))?;
        }
        std::fs::create_dir_all(self.logdir)
            .map_err(|e| format!("set-up: {}: {e}", self.logdir.display()))
    }

    /// `runs` timed cycles per side, then one counted cycle per side.
    pub fn run(&self, subject: &Subject, runs: usize) -> Result<Vec<StepResult>, String> {
        self.prepare()?;
        let ours = self.program(subject, 0);
        if !ours.is_file() {
            return Err(format!("{} is missing: build it first", ours.display()));
        }
        let mut results: Vec<StepResult> = subject
            .steps
            .iter()
            .map(|s| StepResult {
                label: s.label,
                ..StepResult::default()
            })
            .collect();
        for run in 0..runs {
            let order = if run % 2 == 0 { [0, 1] } else { [1, 0] };
            for side in order {
                let cycle = self.timed_cycle(subject, side, &mut results);
                if let Err(e) = cycle {
                    self.leave_stopped(subject);
                    return Err(e);
                }
            }
        }
        for side in [0, 1] {
            for (step, result) in subject.steps.iter().zip(results.iter_mut()) {
                let census = self.invocation(subject, side, step).census(self.logdir);
                match census {
                    Ok(c) => result.census[side] = Some(c),
                    Err(e) => {
                        self.leave_stopped(subject);
                        return Err(format!("counting pass: {e}"));
                    }
                }
            }
        }
        Ok(results)
    }

    fn timed_cycle(
        &self,
        subject: &Subject,
        side: usize,
        results: &mut [StepResult],
    ) -> Result<(), String> {
        for (step, result) in subject.steps.iter().zip(results.iter_mut()) {
            for _ in 0..step.repeat {
                let inv = self.invocation(subject, side, step);
                if step.watch_httpd {
                    let (sample, lag) = self.stop_against_httpd(subject, &inv)?;
                    result.samples[side].push(sample);
                    result.httpd_lag_ms[side].push(lag);
                } else {
                    result.samples[side].push(inv.time(self.logdir)?);
                }
            }
        }
        Ok(())
    }

    /// Time a stop, and how long after httpd's main process exited it returned: signed, so
    /// that a stop returning while httpd still runs is a negative lag, never 0 ms.
    fn stop_against_httpd(
        &self,
        subject: &Subject,
        inv: &Invocation,
    ) -> Result<(Sample, f64), String> {
        let pidfile = subject
            .httpd_pidfile
            .as_ref()
            .ok_or("no httpd pid file to watch")?;
        let pid: i32 = std::fs::read_to_string(pidfile)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .ok_or_else(|| format!("{}: no pid in {} before stop", inv.label, pidfile.display()))?;
        let opened = || {
            sys::pidfd_open(pid)
                .map_err(|e| format!("{}: httpd {pid} not running before stop: {e}", inv.label))
        };
        // One pidfd for the watcher's timestamp, one to ask the kernel, once the stop has been
        // reaped, whether httpd had exited by then: causal, so the watcher thread's wake-up
        // latency cannot make an early return look late or a late one early.
        let (for_watcher, asked) = (opened()?, opened()?);
        let watcher =
            std::thread::spawn(move || sys::wait_exit(&for_watcher, Duration::from_secs(60)));
        let sample = inv.time(self.logdir)?;
        let exited_first = sys::wait_exit(&asked, Duration::ZERO)
            .map_err(|e| format!("{}: asking whether httpd {pid} exited: {e}", inv.label))?
            .is_some();
        // httpd must be gone by now, or within a moment of it (then the lag is negative).
        let deadline = Instant::now() + Duration::from_secs(2);
        while !watcher.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        if !watcher.is_finished() {
            return Err(format!(
                "{}: returned 0 but httpd {pid} still runs",
                inv.label
            ));
        }
        let exited = watcher
            .join()
            .map_err(|_| "httpd watcher panicked".to_owned())?
            .map_err(|e| format!("{}: watching httpd {pid}: {e}", inv.label))?
            .ok_or_else(|| format!("{}: httpd {pid} did not exit", inv.label))?;
        Ok((sample, signed_lag_ms(exited_first, exited, sample.ended)))
    }

    /// After a failure: stop the resource with both agents, best effort, so the fixture's drop
    /// finds nothing running.
    fn leave_stopped(&self, subject: &Subject) {
        if let Some(stop) = subject.steps.iter().find(|s| s.action == "stop") {
            for side in [0, 1] {
                let mut inv = self.invocation(subject, side, stop);
                inv.label.push_str("-cleanup");
                let _ = inv.time(self.logdir);
            }
        }
    }
}

/// Milliseconds from httpd's exit to the stop's return. `exited_first`: the kernel said httpd
/// had exited when the stop was reaped; then the lag is at least 0 (the watcher may have woken
/// after `returned`). Otherwise it is negative: the stop returned that long before the exit.
fn signed_lag_ms(exited_first: bool, exited: Instant, returned: Instant) -> f64 {
    if exited_first {
        returned.saturating_duration_since(exited).as_secs_f64() * 1e3
    } else {
        -(exited.saturating_duration_since(returned).as_secs_f64() * 1e3).max(0.001)
    }
}

#[cfg(test)]
mod tests {
    use super::signed_lag_ms;
    use std::time::{Duration, Instant};

    #[test]
    fn a_stop_that_returned_first_is_negative() {
        let returned = Instant::now();
        let exited = returned + Duration::from_millis(30);
        assert!((signed_lag_ms(false, exited, returned) + 30.0).abs() < 1e-6);
        // The watcher saw the exit at the same instant: still before, still negative.
        assert!(signed_lag_ms(false, returned, returned) < 0.0);
        // Exited first, watcher late to wake: 0, not negative.
        assert!(signed_lag_ms(true, exited, returned).abs() < 1e-9);
        let exited = returned.checked_sub(Duration::from_millis(5)).unwrap();
        assert!((signed_lag_ms(true, exited, returned) - 5.0).abs() < 1e-6);
    }
}
