//! Run a call that may block on a dead filesystem (O_DIRECT reads, writes, umount2) on a
//! worker thread, and stop waiting at a deadline. A worker stuck in the kernel is left
//! behind; it dies with the process.

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
