//! The `args` parameter as an argv vector: split like a POSIX shell splits words (blanks
//! separate; single quotes, double quotes and backslashes quote), with nothing expanded and no
//! shell run.

/// Why `args` cannot be split.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    #[error("unterminated {0} quote")]
    Unterminated(&'static str),
    #[error("trailing backslash")]
    TrailingBackslash,
}

/// Split `text` into words.
pub fn split(text: &str) -> Result<Vec<String>, SplitError> {
    let mut words = Vec::new();
    let mut word = String::new();
    // A word exists once a character or a pair of quotes was seen ('' is an empty word).
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(q) => word.push(q),
                        None => return Err(SplitError::Unterminated("single")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        // Inside double quotes a backslash escapes only these, as in sh.
                        Some('\\') => match chars.next() {
                            Some(e @ ('"' | '\\' | '$' | '`')) => word.push(e),
                            Some('\n') => {}
                            Some(other) => {
                                word.push('\\');
                                word.push(other);
                            }
                            None => return Err(SplitError::Unterminated("double")),
                        },
                        Some(q) => word.push(q),
                        None => return Err(SplitError::Unterminated("double")),
                    }
                }
            }
            '\\' => match chars.next() {
                Some('\n') => {}
                Some(e) => {
                    in_word = true;
                    word.push(e);
                }
                None => return Err(SplitError::TrailingBackslash),
            },
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

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
    fn blanks_separate_words() {
        assert_eq!(s("-s 0"), ["-s", "0"]);
        assert_eq!(s("  -s\t0 \n -q 0 "), ["-s", "0", "-q", "0"]);
        assert!(s("").is_empty());
        assert!(s("   ").is_empty());
    }

    #[test]
    fn quotes_group_and_are_removed() {
        assert_eq!(s(r#"--a "b c" 'd e'"#), ["--a", "b c", "d e"]);
        assert_eq!(s(r#"x"y z"w"#), ["xy zw"]);
        assert_eq!(s("''"), [""]);
        assert_eq!(s(r#"a "" b"#), ["a", "", "b"]);
        assert_eq!(s(r#"'it"s'"#), [r#"it"s"#]);
        assert_eq!(s(r#""it's""#), ["it's"]);
    }

    #[test]
    fn backslashes_escape_as_in_sh() {
        assert_eq!(s(r"a\ b"), ["a b"]);
        assert_eq!(s(r#""a\"b""#), [r#"a"b"#]);
        assert_eq!(
            s(r#""a\nb""#),
            [r"a\nb"],
            "\\n is not an escape in double quotes"
        );
        assert_eq!(s(r"'a\b'"), [r"a\b"], "nothing escapes in single quotes");
        assert_eq!(s("a\\\nb"), ["ab"], "line continuation");
    }

    #[test]
    fn nothing_is_expanded() {
        assert_eq!(
            s("$(reboot) `id` $HOME * ;"),
            ["$(reboot)", "`id`", "$HOME", "*", ";"]
        );
    }

    #[test]
    fn unterminated_input_is_an_error() {
        assert_eq!(split("'a"), Err(SplitError::Unterminated("single")));
        assert_eq!(split("\"a"), Err(SplitError::Unterminated("double")));
        assert_eq!(split("a\\"), Err(SplitError::TrailingBackslash));
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
