//! The Apache httpd configuration reader of agents/apache-clone (`conf::Config::read`):
//! directives, quoting, line continuations, `${VAR}` and `Define`, sections, and `Include`
//! with wildcards, inside a scratch ServerRoot.
//!
//! Inputs that could leave the scratch directory (a `/` or `..`, which would make the reader
//! walk the host's files) or that nest `${...}` so deep that the text grows exponentially (as
//! httpd's own reader would) are skipped: they test the host, not the parser.
#![no_main]

use apache_clone::conf::Config;
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A scratch ServerRoot: `main.conf` (the input) and `conf.d/status.conf`.
fn root() -> &'static PathBuf {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let root = std::env::temp_dir().join(format!("fuzz-apache-{}", std::process::id()));
        let conf_d = root.join("conf.d");
        std::fs::create_dir_all(&conf_d).expect("scratch ServerRoot");
        std::fs::write(
            conf_d.join("status.conf"),
            "<Location \"/server-status\">\n  SetHandler server-status\n</Location>\nListen 8080\n",
        )
        .expect("scratch include");
        root
    })
}

fuzz_target!(|data: &[u8]| {
    if data.contains(&b'/')
        || data.windows(2).any(|w| w == b"..")
        || data.windows(2).filter(|w| *w == b"${").count() > 8
    {
        return;
    }
    let root = root();
    let main = root.join("main.conf");
    if std::fs::write(&main, data).is_err() {
        return;
    }
    let vars = BTreeMap::from([("APACHE_RUN_DIR".to_owned(), "run".to_owned())]);
    let until = Instant::now() + Duration::from_secs(5);
    if let Ok(config) = Config::read(&main, root, &vars, until) {
        let _ = config.first_listen();
    }
});
