//! Text that came from outside (parameter values, environment variable names, HTTP reason
//! phrases, file contents) made safe for the two places Pacemaker and syslog read line by
//! line: a log line and the exit reason. Every such line passes through [`one_line`] once,
//! in the logger and in `ocf::run`, so no agent has to remember it.

use std::borrow::Cow;

/// Pacemaker's exit-reason marker (`PCMK_OCF_REASON_PREFIX`). Pacemaker takes everything after
/// the LAST occurrence of it anywhere in the agent's stderr as the exit reason, not only at
/// the start of a line.
pub const EXIT_REASON_PREFIX: &str = "ocf-exit-reason:";

/// The marker as it is shown inside a text: no longer a marker for Pacemaker's search.
const DEFUSED_PREFIX: &str = "ocf-exit-reason\\:";

/// `text` as one line that cannot forge another: control characters (newline, carriage
/// return, escape sequences, NUL, which would cut Pacemaker's C string) are written as Rust
/// escapes (`\n`, `\r`, `\u{1b}`), and an `ocf-exit-reason:` inside the text is written
/// `ocf-exit-reason\:`, so that a value cannot replace the real exit reason.
pub fn one_line(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) && !text.contains(EXIT_REASON_PREFIX) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out.replace(EXIT_REASON_PREFIX, DEFUSED_PREFIX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_untouched() {
        assert!(matches!(
            one_line("added 192.0.2.10/24 to eth0"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(
            one_line("a\nb\rc\td\0e\u{1b}[2K"),
            "a\\nb\\rc\\td\\u{0}e\\u{1b}[2K"
        );
        assert_eq!(one_line("next\u{85}line"), "next\\u{85}line");
    }

    #[test]
    fn the_exit_reason_marker_is_defused_wherever_it_stands() {
        for forged in [
            "ocf-exit-reason:all is well",
            "x\rocf-exit-reason:all is well",
            "ocf-exit-reasonocf-exit-reason::",
        ] {
            let line = one_line(forged);
            assert!(!line.contains(EXIT_REASON_PREFIX), "{line}");
        }
    }
}
