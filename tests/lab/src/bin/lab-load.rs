//! `lab-load URL TOKEN DIR LOGDIR`: the load of the live-port checks (27-29), run in the
//! guest until killed. Every 0.2 s it fetches URL (HTTP/1.0; a good answer is a 200 whose
//! body contains TOKEN), and every 0.2 s it appends a line to DIR/w-<hostname>.log (on GFS2); each attempt
//! is a line "start end ok|fail" (this node's clock) in LOGDIR/http.log or LOGDIR/write.log.
//! No process is forked: lab-probe's shell loops (curl, date, a file per write) forked about
//! 40 processes a second, and on the emulated guests that load made the shell agents'
//! monitors time out before a port began.

use std::fs::{self, OpenOptions};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const EVERY: Duration = Duration::from_millis(200);

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

fn log(path: &Path, start: f64, ok: bool) {
    let line = format!(
        "{start:.6} {:.6} {}\n",
        now(),
        if ok { "ok" } else { "fail" }
    );
    if let Ok(mut f) = OpenOptions::new().create(true).append(true).open(path) {
        let _ = f.write_all(line.as_bytes());
    }
}

/// One GET: a 200 whose body contains `token`, within 1 s to connect and 2 s in all.
fn fetch(addr: SocketAddr, host: &str, path: &str, token: &str) -> bool {
    let started = Instant::now();
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
        return false;
    };
    let _ = s.set_write_timeout(Some(Duration::from_secs(1)));
    let request = format!("GET {path} HTTP/1.0\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    if s.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut body = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = Duration::from_secs(2).saturating_sub(started.elapsed());
        if left.is_zero() || s.set_read_timeout(Some(left)).is_err() {
            return false;
        }
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => body.extend_from_slice(&buf[..n]),
            Err(_) => return false,
        }
    }
    let text = String::from_utf8_lossy(&body);
    let status_ok = text
        .lines()
        .next()
        .is_some_and(|l| l.starts_with("HTTP/1.") && l.split_whitespace().nth(1) == Some("200"));
    status_ok && text.contains(token)
}

fn every(mut f: impl FnMut()) -> ! {
    loop {
        let t = Instant::now();
        f();
        thread::sleep(
            EVERY
                .saturating_sub(t.elapsed())
                .max(Duration::from_millis(10)),
        );
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, token, dir, logdir] = args.as_slice() else {
        eprintln!("usage: lab-load URL TOKEN DIR LOGDIR");
        return ExitCode::from(2);
    };
    let Some(rest) = url.strip_prefix("http://") else {
        eprintln!("lab-load: only http:// URLs");
        return ExitCode::from(2);
    };
    let (host, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_owned()), |(h, p)| (h, format!("/{p}")));
    let with_port = if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:80")
    };
    let Some(addr) = with_port.to_socket_addrs().ok().and_then(|mut a| a.next()) else {
        eprintln!("lab-load: cannot resolve {host}");
        return ExitCode::from(2);
    };
    let (dir, logdir) = (PathBuf::from(dir), PathBuf::from(logdir));
    if let Err(e) = fs::create_dir_all(&dir).and_then(|()| fs::create_dir_all(&logdir)) {
        eprintln!("lab-load: {e}");
        return ExitCode::from(1);
    }
    let hostname = fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_default();
    let (http_log, write_log) = (logdir.join("http.log"), logdir.join("write.log"));
    let (host, token) = (host.to_owned(), token.clone());
    thread::spawn(move || {
        every(|| {
            let start = now();
            log(&http_log, start, fetch(addr, &host, &path, &token));
        })
    });
    // One file per node, opened and appended to at each write: the nodes never change the
    // same GFS2 directory or inode (a directory both create files in bounces its lock between
    // them at every write, which on the emulated nodes cost more than the port measures).
    let file = dir.join(format!("w-{hostname}.log"));
    let mut i = 0u64;
    every(|| {
        i += 1;
        let start = now();
        let ok = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&file)
            .and_then(|mut f| f.write_all(format!("{i} {start:.6}\n").as_bytes()))
            .is_ok();
        log(&write_log, start, ok);
    })
}
