//! grep's extended regular expressions, as the shell agent matches `testregex` (`grep -Ei`
//! under `LC_ALL=C`), rewritten into the syntax of `regex-lite`, which is Perl-like. The two
//! agree on most patterns; where a pattern would silently mean something else in `regex-lite`
//! it is translated here, or refused with the reason (exit 6, the parameter named).
//!
//! Translated to grep's meaning: `\` inside a bracket expression is a plain backslash
//! (`[a\]`), `[` `^` `&` `~` inside one are plain characters, `]` first in one is a plain `]`,
//! `{,n}` is `{0,n}`, an escaped punctuation character is that character, a newline separates
//! alternative patterns.
//! Refused, although grep accepts them: back-references (`\1`); `(?`; a `?` after a repetition
//! (`a+?` is `(a+)?` to grep, a lazy `a+` to Perl); escapes of letters other than GNU's
//! `\w \W \s \S \b \B \< \>` (grep reads `\d` as `d`); collating elements (`[.x.]`,
//! `[=x=]`); and GNU's fallbacks that read a misplaced operator as a plain character (a leading
//! `*`, a `{` that starts no interval, an unmatched `)`), which are more likely typos.
//! Matching is per line ([`crate::matches_a_line`]); the body is read as UTF-8 (invalid bytes
//! become U+FFFD), so `.` is one character where grep under `LC_ALL=C` counts bytes.

/// The `regex-lite` pattern that matches what the ERE `ere` matches, or why there is none.
/// As in grep, a newline separates alternative patterns.
pub fn to_regex_lite(ere: &str) -> Result<String, String> {
    if !ere.contains('\n') {
        return translate(ere);
    }
    let alternatives: Vec<String> = ere
        .split('\n')
        .map(|one| translate(one).map(|t| format!("(?:{t})")))
        .collect::<Result<_, _>>()?;
    Ok(alternatives.join("|"))
}

/// One pattern (no newline) in regex-lite's syntax.
fn translate(ere: &str) -> Result<String, String> {
    let mut out = String::with_capacity(ere.len() + 8);
    let mut chars = ere.chars().peekable();
    // Counted here so that each newline-separated pattern must balance on its own.
    let mut open_groups = 0_usize;
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                None => return Err("it ends with a lone \\".into()),
                Some(d) if d.is_ascii_digit() => {
                    return Err(format!("back-references (\\{d}) are not supported"));
                }
                Some(e @ ('w' | 'W' | 's' | 'S' | 'b' | 'B' | '<' | '>')) => {
                    out.push('\\');
                    out.push(e);
                }
                Some(e) if e.is_ascii_alphanumeric() => {
                    return Err(format!(
                        "\\{e} is not extended regular expression syntax (grep reads it as a \
                         plain {e}); use a class such as [[:digit:]]"
                    ));
                }
                Some(e) => push_literal(&mut out, e),
            },
            '(' if chars.peek() == Some(&'?') => {
                return Err("(? is Perl syntax, not an extended regular expression".into());
            }
            '(' => {
                open_groups += 1;
                out.push(c);
            }
            ')' => {
                open_groups = open_groups.checked_sub(1).ok_or("unmatched )")?;
                out.push(c);
            }
            '*' | '+' | '?' => {
                out.push(c);
                refuse_lazy(c, chars.peek())?;
            }
            '{' => match until(&chars, '}') {
                Some(interval) if is_interval(&interval) => {
                    for _ in 0..=interval.len() {
                        chars.next();
                    }
                    out.push('{');
                    if interval.starts_with(',') {
                        out.push('0');
                    }
                    out.push_str(&interval);
                    out.push('}');
                    refuse_lazy('}', chars.peek())?;
                }
                // Not an interval: regex-lite refuses it with its own reason.
                _ => out.push('{'),
            },
            ']' | '}' => push_literal(&mut out, c),
            '[' => bracket(&mut chars, &mut out)?,
            _ => out.push(c),
        }
    }
    if open_groups > 0 {
        return Err("unmatched (".into());
    }
    Ok(out)
}

/// A bracket expression, after its `[`: POSIX rules (no escapes inside) in regex-lite's syntax.
fn bracket(chars: &mut Chars<'_>, out: &mut String) -> Result<(), String> {
    out.push('[');
    if chars.peek() == Some(&'^') {
        chars.next();
        out.push('^');
    }
    if chars.peek() == Some(&']') {
        chars.next();
        out.push_str("\\]");
    }
    loop {
        match chars.next() {
            None => return Err("a bracket expression [ is not closed".into()),
            Some(']') => {
                out.push(']');
                return Ok(());
            }
            Some('[') => match chars.peek() {
                Some(':') => match until(chars, ']') {
                    Some(class) if class.len() > 2 && class.ends_with(':') => {
                        for _ in 0..=class.len() {
                            chars.next();
                        }
                        out.push('[');
                        out.push_str(&class);
                        out.push(']');
                    }
                    _ => return Err("a character class [: is not closed by :]".into()),
                },
                Some('.' | '=') => {
                    return Err("collating elements ([. .] and [= =]) are not supported".into());
                }
                _ => out.push_str("\\["),
            },
            // A range keeps its '-'; anything else regex-lite reads specially is escaped.
            Some('-') => out.push('-'),
            Some(c) => push_literal(out, c),
        }
    }
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

/// What comes before the next `end`, if there is one.
fn until(chars: &Chars<'_>, end: char) -> Option<String> {
    let rest: String = chars.clone().collect();
    rest.find(end).map(|at| rest[..at].to_owned())
}

/// `m`, `m,`, `m,n` or GNU's `,n`, the inside of `{}`.
fn is_interval(inside: &str) -> bool {
    let digits = |s: &str| s.chars().all(|x| x.is_ascii_digit());
    match inside.split_once(',') {
        Some((low, high)) => !(low.is_empty() && high.is_empty()) && digits(low) && digits(high),
        None => !inside.is_empty() && digits(inside),
    }
}

/// `c` as a literal character in regex-lite syntax.
fn push_literal(out: &mut String, c: char) {
    if "\\.+*?()|[]{}^$#&-~".contains(c) {
        out.push('\\');
    }
    out.push(c);
}

/// grep reads `a+?` as `(a+)?`; regex-lite as a lazy `a+`. Refuse the ambiguity.
fn refuse_lazy(op: char, next: Option<&char>) -> Result<(), String> {
    if next == Some(&'?') {
        let op = if op == '}' {
            "{n}".to_owned()
        } else {
            op.to_string()
        };
        return Err(format!(
            "'{op}?' means a repeated repetition to grep but a lazy one elsewhere; write \
             (x{op})? for grep's meaning"
        ));
    }
    Ok(())
}
