//! The pid file reader of crates/procs (apache-clone reads httpd's pid file, which the
//! configuration names): whatever the file holds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::OnceLock;

fn scratch() -> &'static PathBuf {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| std::env::temp_dir().join(format!("fuzz-pid-{}", std::process::id())))
}

fuzz_target!(|data: &[u8]| {
    let file = scratch();
    if std::fs::write(file, data).is_ok() {
        if let Ok(Some(pid)) = procs::read_pid_file(file) {
            assert!(pid > 0, "read_pid_file returned pid {pid}");
        }
    }
});
