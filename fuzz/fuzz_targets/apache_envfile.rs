//! The text readers of agents/apache-clone: the envfile reader (Debian's envvars, read as
//! shell assignments, never run), the level-10 test definitions file, the `options` word
//! splitter (crates/procs, which the agent calls), and the `Include` wildcard matcher.
//!
//! Input: the first byte picks the reader; for the matcher the first line is the pattern.
#![no_main]

use apache_clone::envfile::ShellEnv;
use apache_clone::{glob, testconf};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    match pick % 4 {
        0 => {
            let mut env = ShellEnv::from_env([
                ("PATH".to_owned(), "/usr/bin:/bin".to_owned()),
                ("LANG".to_owned(), "C".to_owned()),
            ]);
            env.apply(&text);
            let _ = env.exported();
        }
        1 => {
            let _ = testconf::find(&text, None);
            let _ = testconf::find(&text, Some("web"));
        }
        2 => drop(procs::words::split(&text)),
        _ => {
            let (pattern, name) = text.split_once('\n').unwrap_or((&text, "name.conf"));
            let _ = (glob::has_wildcard(pattern), glob::fnmatch(pattern, name));
        }
    }
});
