//! Run a call that may wait long but *killably* (a walk of /proc, whose reads of
//! `/proc/<pid>/maps` take the target's mmap lock killably) on a worker thread, and stop
//! waiting at a deadline. The process can exit with such a worker still waiting: exit kills
//! it.
//!
//! Not for calls that can sleep uninterruptibly in the kernel on dead storage (O_DIRECT
//! reads, writes, fsync, mount(2), umount2(2) under a stalled DLM or a frozen device): a
//! thread in that sleep keeps the whole process from exiting (its parent's wait(2) returns
//! only once every thread is gone), so Pacemaker would record a timeout instead of the
//! agent's reason. Run those in a child process that can be left behind (crate `child`).

use std::sync::mpsc;
use std::time::Instant;

/// `f()` on a worker thread, or None when it has not returned by `end`.
pub fn run<T, F>(what: &str, end: Instant, f: F) -> Option<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (tx, rx) = mpsc::sync_channel(1);
    let spawned = std::thread::Builder::new()
        .name(format!("bounded {what}"))
        .spawn(move || {
            let _ = tx.send(f());
        });
    if spawned.is_err() {
        return None;
    }
    rx.recv_timeout(end.saturating_duration_since(Instant::now()))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn returns_the_value_in_time() {
        let end = Instant::now() + Duration::from_secs(5);
        assert_eq!(run("add", end, || 2 + 2), Some(4));
    }

    #[test]
    fn gives_up_at_the_deadline() {
        let start = Instant::now();
        let end = start + Duration::from_millis(100);
        let got = run("hang", end, || std::thread::sleep(Duration::from_secs(30)));
        assert_eq!(got, None);
        assert!(start.elapsed() < Duration::from_secs(2));
    }
}
