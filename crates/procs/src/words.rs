//! Shell words: a parameter that holds a command's arguments (`args`, `options`) turned
//! into an argv vector as a POSIX shell splits words (sh(1), "Token Recognition" and "Quote
//! Removal"), with no shell run: blanks separate; single quotes, double quotes and
//! backslashes quote; `''` is an empty word.
//!
//! [`split`] expands nothing: `$`, `` ` ``, `;`, `|` and `#` are ordinary characters, since
//! the words become argv and no shell will ever see them. [`split_with`] is for text that is
//! shell (an envfile read as assignments): comments, refused operators and a caller's
//! expansion of `$`.

use std::iter::Peekable;
use std::str::Chars;

/// Why text cannot be split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    #[error("unterminated {0} quote")]
    Unterminated(&'static str),
    #[error("trailing backslash")]
    TrailingBackslash,
    #[error("shell operator {0:?} (no shell runs this)")]
    Operator(char),
    #[error("expansion not understood")]
    Expansion,
}

/// One word after quote removal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub text: String,
    /// Some of the text before the first `=` was quoted or escaped: then the word is not an
    /// assignment (sh(1): the name of an assignment is unquoted).
    name_quoted: bool,
}

impl Word {
    /// `NAME=value` when the word is an assignment (a valid, unquoted name before `=`).
    pub fn assignment(&self) -> Option<(&str, &str)> {
        let (name, value) = self.text.split_once('=')?;
        (!self.name_quoted && is_name(name)).then_some((name, value))
    }
}

/// True for a shell variable name: `[A-Za-z_][A-Za-z0-9_]*`.
pub fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The expansion of a `$` (the characters after it are in `chars`): the text it stands for,
/// or None when it is not understood.
pub type Expand<'a> = dyn FnMut(&mut Peekable<Chars<'_>>) -> Option<String> + 'a;

/// What [`split_with`] treats as shell syntax.
pub struct Syntax<'a> {
    /// `#` at the start of a word begins a comment.
    pub comments: bool,
    /// `;` `&` `|` `<` `>` `(` `)` and `` ` `` are refused (they would need a shell).
    pub refuse_operators: bool,
    /// What `$` expands to; None: `$` is an ordinary character.
    pub expand: Option<&'a mut Expand<'a>>,
}

/// Split `text` into words, expanding nothing.
pub fn split(text: &str) -> Result<Vec<String>, SplitError> {
    let plain = Syntax {
        comments: false,
        refuse_operators: false,
        expand: None,
    };
    Ok(split_with(text, plain)?
        .into_iter()
        .map(|w| w.text)
        .collect())
}

/// Split `text` into words with `syntax`.
pub fn split_with(text: &str, mut syntax: Syntax<'_>) -> Result<Vec<Word>, SplitError> {
    let mut words = Vec::new();
    let mut word = Word {
        text: String::new(),
        name_quoted: false,
    };
    // A word exists once a character or a pair of quotes was seen ('' is an empty word).
    let mut in_word = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        // Quoting before any '=' makes the word no assignment.
        let before_eq = !word.text.contains('=');
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::replace(
                        &mut word,
                        Word {
                            text: String::new(),
                            name_quoted: false,
                        },
                    ));
                    in_word = false;
                }
            }
            '#' if syntax.comments && !in_word => break,
            ';' | '&' | '|' | '<' | '>' | '(' | ')' | '`' if syntax.refuse_operators => {
                return Err(SplitError::Operator(c));
            }
            '\'' => {
                in_word = true;
                word.name_quoted |= before_eq;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(q) => word.text.push(q),
                        None => return Err(SplitError::Unterminated("single")),
                    }
                }
            }
            '"' => {
                in_word = true;
                word.name_quoted |= before_eq;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        // Inside double quotes a backslash escapes only these, as in sh.
                        Some('\\') => match chars.next() {
                            Some(e @ ('"' | '\\' | '$' | '`')) => word.text.push(e),
                            Some('\n') => {}
                            Some(other) => {
                                word.text.push('\\');
                                word.text.push(other);
                            }
                            None => return Err(SplitError::Unterminated("double")),
                        },
                        Some('`') if syntax.refuse_operators => {
                            return Err(SplitError::Operator('`'));
                        }
                        Some('$') if syntax.expand.is_some() => {
                            word.text.push_str(&expand(&mut syntax, &mut chars)?);
                        }
                        Some(q) => word.text.push(q),
                        None => return Err(SplitError::Unterminated("double")),
                    }
                }
            }
            '\\' => match chars.next() {
                Some('\n') => {}
                Some(e) => {
                    in_word = true;
                    word.name_quoted |= before_eq;
                    word.text.push(e);
                }
                None => return Err(SplitError::TrailingBackslash),
            },
            '$' if syntax.expand.is_some() => {
                in_word = true;
                word.text.push_str(&expand(&mut syntax, &mut chars)?);
            }
            c => {
                in_word = true;
                word.text.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

fn expand(syntax: &mut Syntax<'_>, chars: &mut Peekable<Chars<'_>>) -> Result<String, SplitError> {
    let expand = syntax.expand.as_mut().ok_or(SplitError::Expansion)?;
    expand(chars).ok_or(SplitError::Expansion)
}

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
        assert_eq!(
            s(" -DFOO  -C 'ServerName a b' -c \"X y\""),
            ["-DFOO", "-C", "ServerName a b", "-c", "X y"]
        );
    }

    #[test]
    fn backslashes_escape_as_in_sh() {
        assert_eq!(s(r"a\ b"), ["a b"]);
        assert_eq!(s(r#""a\"b""#), [r#"a"b"#]);
        assert_eq!(
            s(r#""\n""#),
            [r"\n"],
            "\\n is not an escape in double quotes"
        );
        assert_eq!(s(r"'a\b'"), [r"a\b"], "nothing escapes in single quotes");
        assert_eq!(s("a\\\nb"), ["ab"], "a backslash-newline joins lines");
        assert_eq!(split(r"a\"), Err(SplitError::TrailingBackslash));
    }

    #[test]
    fn nothing_is_expanded_or_run() {
        assert_eq!(
            s("$(id) ; `date` # x $HOME | y"),
            ["$(id)", ";", "`date`", "#", "x", "$HOME", "|", "y"]
        );
    }

    #[test]
    fn unterminated_quotes_are_errors() {
        assert_eq!(split("'x"), Err(SplitError::Unterminated("single")));
        assert_eq!(split("\"x"), Err(SplitError::Unterminated("double")));
        assert_eq!(split("\"x\\"), Err(SplitError::Unterminated("double")));
    }

    #[test]
    fn shell_syntax_comments_operators_and_expansion() {
        let mut home = |chars: &mut Peekable<Chars<'_>>| {
            let name: String =
                std::iter::from_fn(|| chars.next_if(char::is_ascii_alphabetic)).collect();
            (name == "HOME").then(|| "/root".to_owned())
        };
        let words = split_with(
            "export A=\"$HOME/x y\" 'B'=1 C\\=2 D=$HOME # comment",
            Syntax {
                comments: true,
                refuse_operators: true,
                expand: Some(&mut home),
            },
        )
        .unwrap();
        let texts: Vec<&str> = words.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(texts, ["export", "A=/root/x y", "B=1", "C=2", "D=/root"]);
        let assignments: Vec<Option<(&str, &str)>> = words.iter().map(Word::assignment).collect();
        assert_eq!(
            assignments,
            [
                None,
                Some(("A", "/root/x y")),
                None,
                None,
                Some(("D", "/root"))
            ]
        );
        for (bad, why) in [
            ("a; b", SplitError::Operator(';')),
            ("a `b`", SplitError::Operator('`')),
            ("\"`b`\"", SplitError::Operator('`')),
            ("$OTHER", SplitError::Expansion),
        ] {
            let mut home = |chars: &mut Peekable<Chars<'_>>| {
                let name: String =
                    std::iter::from_fn(|| chars.next_if(char::is_ascii_alphabetic)).collect();
                (name == "HOME").then(|| "/root".to_owned())
            };
            let got = split_with(
                bad,
                Syntax {
                    comments: true,
                    refuse_operators: true,
                    expand: Some(&mut home),
                },
            );
            assert_eq!(got, Err(why), "{bad}");
        }
        assert!(is_name("_a1") && !is_name("1a") && !is_name("") && !is_name("a-b"));
    }
}
