//! The `args` parameter as an argv vector: split like a POSIX shell splits words
//! ([`procs::words::split`]: blanks separate; single quotes, double quotes and backslashes
//! quote), with nothing expanded and no shell run; and what those words tell dlm_controld
//! about its own fencing.

pub use procs::words::{SplitError, split};

/// The letters of dlm_controld's boolean and argument-less options: only these take other
/// letters bundled behind them (`-Kf`), each bundled letter meaning 1 (`set_opt_cli` and
/// `set_opt_defaults` in dlm 4.x's `dlm_controld/main.c`).
const BUNDLING_LETTERS: &str = "DKLpPofsqhV";

/// What the words set dlm_controld's `enable_fencing` option to, read as the daemon reads
/// its command line: `--enable_fencing[=N| N]`, `-f[=N|N| N]`, a bare switch (`-f`, or
/// followed by another option) meaning 1, the value as atoi(3) reads it, the last setting
/// winning except that a letter bundled behind another (`-Kf`) is applied last. `None` when
/// the words leave it alone (the daemon then takes dlm.conf's value, else its default, 1).
pub fn enable_fencing(argv: &[String]) -> Option<bool> {
    let mut explicit = None;
    let mut bundled = false;
    let mut words = argv.iter().peekable();
    while let Some(word) = words.next() {
        let is_letter = if let Some(name) = word.strip_prefix("--") {
            if name.split(['=', ' ']).next() != Some("enable_fencing") {
                continue;
            }
            false
        } else if let Some(rest) = word.strip_prefix('-') {
            let mut chars = rest.chars();
            let letter = chars.next().unwrap_or('\0');
            let run: String = chars
                .as_str()
                .chars()
                .take_while(char::is_ascii_alphabetic)
                .collect();
            if BUNDLING_LETTERS.contains(letter) && !run.is_empty() {
                // `-fK` sets f itself to 1 at once; `-Kf` sets it to 1 after every word.
                if letter == 'f' {
                    explicit = Some(true);
                }
                bundled |= run.contains('f');
                continue;
            }
            if letter != 'f' {
                continue;
            }
            true
        } else {
            continue;
        };
        let value = if let Some((_, v)) = word.split_once('=') {
            v
        } else if is_letter && word[2..].starts_with(|c: char| c.is_ascii_digit()) {
            &word[2..]
        } else {
            match words.next_if(|next| !next.starts_with('-')) {
                Some(next) => next.as_str(),
                None => "1",
            }
        };
        explicit = Some(atoi(value) != 0);
    }
    if bundled { Some(true) } else { explicit }
}

/// atoi(3): leading blanks, an optional sign, then decimal digits; anything else is 0.
fn atoi(text: &str) -> i64 {
    let t = text.trim_start();
    let (negative, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let value = digits
        .bytes()
        .take_while(u8::is_ascii_digit)
        .fold(0i64, |n, d| {
            n.saturating_mul(10).saturating_add(i64::from(d - b'0'))
        });
    if negative { -value } else { value }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Vec<String> {
        split(text).unwrap()
    }

    #[test]
    fn enable_fencing_is_read_as_dlm_controld_reads_it() {
        for (args, expected) in [
            ("-s 0", None),
            ("", None),
            ("--enable_startup_fencing 0", None),
            ("--enable_quorum_fencing 0", None),
            ("--enable_concurrent_fencing 1", None),
            ("--enable_fencingx 0", None),
            ("-j 5 -r tcp", None),
            ("-s 0 --enable_fencing 0", Some(false)),
            ("--enable_fencing=0", Some(false)),
            ("--enable_fencing 1", Some(true)),
            ("--enable_fencing", Some(true)),
            ("--enable_fencing -s 0", Some(true)),
            ("-f 0", Some(false)),
            ("-f0", Some(false)),
            ("-f=0", Some(false)),
            ("-f 00", Some(false)),
            ("-f 2", Some(true)),
            ("-f", Some(true)),
            ("-s 0 -f 1", Some(true)),
            ("--enable_fencing 0 -f 1", Some(true)),
            ("-f 1 --enable_fencing 0", Some(false)),
            ("-Kf --enable_fencing 0", Some(true)),
            ("-fK", Some(true)),
            ("-fK -f 0", Some(false)),
            // -l takes an integer: nothing is bundled behind it.
            ("-lf 5 --enable_fencing 0", Some(false)),
        ] {
            assert_eq!(enable_fencing(&s(args)), expected, "{args:?}");
        }
    }

    #[test]
    fn atoi_reads_a_leading_number() {
        assert_eq!(atoi("0"), 0);
        assert_eq!(atoi(" 12x"), 12);
        assert_eq!(atoi("-3"), -3);
        assert_eq!(atoi("x1"), 0);
        assert_eq!(atoi(""), 0);
        assert_eq!(atoi(&"9".repeat(40)), i64::MAX);
    }
}
