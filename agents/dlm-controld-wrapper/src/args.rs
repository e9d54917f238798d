//! The `args` parameter as an argv vector: split like a POSIX shell splits words
//! ([`procs::words::split`]: blanks separate; single quotes, double quotes and backslashes
//! quote), with nothing expanded and no shell run; and what those words tell about fencing.

pub use procs::words::{SplitError, split};

/// The words set dlm_controld's `enable_fencing` option: `--enable_fencing[=N]` or `-f...`
/// (dlm_controld's option parser, `set_opt_cli` in its main.c).
pub fn sets_enable_fencing(argv: &[String]) -> bool {
    argv.iter().any(|w| {
        w == "--enable_fencing"
            || w.starts_with("--enable_fencing=")
            // Any single-dash word starting with f selects the option (`-f 0`, `-f0`, `-f=0`;
            // dlm_controld takes the argument from the next word otherwise).
            || w.starts_with("-f")
    })
}

/// dlm_controld's option that turns its own fencing off.
pub const FENCING_OFF: [&str; 2] = ["--enable_fencing", "0"];

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Vec<String> {
        split(text).unwrap()
    }

    #[test]
    fn enable_fencing_spellings() {
        for yes in [
            "--enable_fencing 1",
            "--enable_fencing=0",
            "-f 0",
            "-f0",
            "-f=1",
            "-s 0 -f 1",
            "-foo 1",
        ] {
            assert!(sets_enable_fencing(&s(yes)), "{yes}");
        }
        for no in [
            "-s 0",
            "--enable_startup_fencing 0",
            "--enable_quorum_fencing 0",
            "--enable_concurrent_fencing 1",
            "--enable_fencingx 0",
        ] {
            assert!(!sets_enable_fencing(&s(no)), "{no}");
        }
    }
}
