//! Runs a subject's cycle on both sides, alternating: run i does ours then the anchor, run i+1
//! the anchor then ours, so that drift on a shared machine hits both alike. Then one counting
//! cycle per side under strace.

use crate::measure::{Census, Invocation, Sample};
use crate::subjects::{Step, Subject};
use crate::sys;
use std::path::{Path, PathBuf};
use std::time::Duration;

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

    /// Time a stop, and how long after httpd's main process exited it returned.
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
        let pidfd = sys::pidfd_open(pid)
            .map_err(|e| format!("{}: httpd {pid} not running before stop: {e}", inv.label))?;
        let watcher = std::thread::spawn(move || sys::wait_exit(&pidfd, Duration::from_secs(60)));
        let sample = inv.time(self.logdir)?;
        // The stop has returned 0: httpd must be gone by now (or within a moment of it).
        let deadline = std::time::Instant::now() + Duration::from_secs(2);
        while !watcher.is_finished() && std::time::Instant::now() < deadline {
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
        let lag = sample.ended.saturating_duration_since(exited);
        Ok((sample, lag.as_secs_f64() * 1e3))
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
