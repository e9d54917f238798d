//! The one clock every wait in an agent answers to.
//!
//! Pacemaker SIGKILLs the agent's whole process group when `CRM_meta_timeout` runs out, with
//! no SIGTERM first: an agent that waits until then leaves no log line, no exit reason and
//! possibly half-done work. So an agent's deadline ends a safety margin before Pacemaker's,
//! leaving time to clean up and report.

use std::time::{Duration, Instant};

/// Pacemaker's default operation timeout, used when none is passed (a hand-run agent).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);

/// The margin kept before Pacemaker's own timeout: a tenth of it, at least 0.5 s (or half of a
/// very short timeout) and at most 5 s.
pub fn margin(timeout: Duration) -> Duration {
    let tenth = timeout / 10;
    let floor = Duration::from_millis(500).min(timeout / 2);
    tenth.clamp(floor, Duration::from_secs(5))
}

/// A point in time after which an action must stop waiting and report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    end: Instant,
}

impl Deadline {
    /// The deadline for an action with Pacemaker's `timeout` (or the default), started now.
    pub fn for_timeout(timeout: Option<Duration>) -> Deadline {
        let timeout = timeout.filter(|t| !t.is_zero()).unwrap_or(DEFAULT_TIMEOUT);
        Deadline::after(timeout.saturating_sub(margin(timeout)))
    }

    /// A deadline `d` from now.
    pub fn after(d: Duration) -> Deadline {
        let now = Instant::now();
        Deadline {
            end: now.checked_add(d).unwrap_or(now),
        }
    }

    /// The instant it ends.
    pub fn end(self) -> Instant {
        self.end
    }

    /// Time left, zero once expired.
    pub fn remaining(self) -> Duration {
        self.end.saturating_duration_since(Instant::now())
    }

    /// True once the deadline has passed.
    pub fn expired(self) -> bool {
        Instant::now() >= self.end
    }

    /// The earlier of this deadline and `d` from now: a bound for one step of an action.
    #[must_use]
    pub fn within(self, d: Duration) -> Deadline {
        Deadline {
            end: self.end.min(Deadline::after(d).end),
        }
    }

    /// A deadline that leaves `fraction` (0..=1) of the remaining time to what comes after,
    /// e.g. `share(0.5)` gives a graceful stop half of what is left.
    #[must_use]
    pub fn share(self, fraction: f64) -> Deadline {
        let fraction = fraction.clamp(0.0, 1.0);
        Deadline {
            end: self
                .end
                .min(Deadline::after(self.remaining().mul_f64(fraction)).end),
        }
    }

    /// Sleep for `d`, or until the deadline if that comes first. Returns false if the
    /// deadline has passed on waking.
    pub fn sleep(self, d: Duration) -> bool {
        let nap = d.min(self.remaining());
        if !nap.is_zero() {
            std::thread::sleep(nap);
        }
        !self.expired()
    }

    /// Call `check` until it gives a value, sleeping `interval` between calls, never past the
    /// deadline. `check` runs at least once, and once more at the deadline itself, so a
    /// condition that became true during the last sleep is still seen.
    pub fn poll<T>(self, interval: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
        loop {
            if let Some(v) = check() {
                return Some(v);
            }
            if self.expired() {
                return None;
            }
            self.sleep(interval);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn margin_arithmetic() {
        assert_eq!(margin(Duration::from_secs(20)), Duration::from_secs(2));
        assert_eq!(margin(Duration::from_secs(100)), Duration::from_secs(5));
        assert_eq!(margin(Duration::from_secs(3)), Duration::from_millis(500));
        assert_eq!(
            margin(Duration::from_millis(600)),
            Duration::from_millis(300)
        );
        assert_eq!(margin(Duration::ZERO), Duration::ZERO);
    }

    #[test]
    fn deadline_from_timeout() {
        let d = Deadline::for_timeout(Some(Duration::from_secs(20)));
        let left = d.remaining();
        assert!(left <= Duration::from_secs(18), "{left:?}");
        assert!(left > Duration::from_millis(17_900), "{left:?}");
        let default = Deadline::for_timeout(None).remaining();
        assert!(default <= Duration::from_secs(18) && default > Duration::from_secs(17));
        let zero = Deadline::for_timeout(Some(Duration::ZERO)).remaining();
        assert!(zero > Duration::from_secs(17), "zero means the default");
    }

    #[test]
    fn within_and_share_never_extend() {
        let d = Deadline::after(Duration::from_secs(10));
        assert!(d.within(Duration::from_secs(60)).end() == d.end());
        assert!(d.within(Duration::from_secs(1)).remaining() <= Duration::from_secs(1));
        let half = d.share(0.5).remaining();
        assert!(half <= Duration::from_secs(5), "{half:?}");
        assert!(d.share(7.0).end() <= d.end());
    }

    #[test]
    fn poll_never_sleeps_past_the_deadline() {
        let d = Deadline::after(Duration::from_millis(120));
        let start = Instant::now();
        let mut calls = 0;
        let got: Option<()> = d.poll(Duration::from_secs(10), || {
            calls += 1;
            None
        });
        let took = start.elapsed();
        assert!(got.is_none());
        assert!(took >= Duration::from_millis(120), "{took:?}");
        assert!(took < Duration::from_millis(1000), "{took:?}");
        assert_eq!(calls, 2, "once at the start, once at the deadline");
    }

    #[test]
    fn poll_returns_as_soon_as_ready() {
        let d = Deadline::after(Duration::from_secs(5));
        let mut n = 0;
        let start = Instant::now();
        let got = d.poll(Duration::from_millis(10), || {
            n += 1;
            (n == 3).then_some(n)
        });
        assert_eq!(got, Some(3));
        assert!(start.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn expired_deadline_sleeps_not() {
        let d = Deadline::after(Duration::ZERO);
        let start = Instant::now();
        assert!(!d.sleep(Duration::from_secs(5)));
        assert!(start.elapsed() < Duration::from_millis(100));
        assert!(d.expired());
    }
}
