//! The `envfiles` (Debian's /etc/apache2/envvars): read as simple shell assignments, never
//! executed. Understood: `export NAME=value ...`, `NAME=value`, `export NAME`, `unset NAME`,
//! comments, '...' and "..." quoting, `$NAME`, `${NAME}`, `${NAME:-word}` and `${NAME-word}`.
//! Anything else (conditionals, command substitution, other expansions) is skipped with a
//! debug log, and so are the lines inside `if`/`case`/`for`/`while` blocks: their outcome is
//! not known without running a shell.

use procs::words::{Syntax, Word, is_name, split_with};
use std::collections::{BTreeMap, BTreeSet};
use std::iter::Peekable;
use std::str::Chars;

/// Shell variables and which of them are exported (what httpd's environment will hold).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShellEnv {
    pub vars: BTreeMap<String, String>,
    pub exported: BTreeSet<String>,
}

impl ShellEnv {
    /// Start from a process environment: every variable is exported.
    pub fn from_env<I: IntoIterator<Item = (String, String)>>(vars: I) -> ShellEnv {
        let vars: BTreeMap<String, String> = vars.into_iter().collect();
        let exported = vars.keys().cloned().collect();
        ShellEnv { vars, exported }
    }

    /// The environment a child started now would get.
    pub fn exported(&self) -> BTreeMap<String, String> {
        self.exported
            .iter()
            .filter_map(|k| Some((k.clone(), self.vars.get(k)?.clone())))
            .collect()
    }

    /// Apply one envfile's text.
    pub fn apply(&mut self, text: &str) {
        let mut depth = 0usize;
        for (n, raw) in logical_lines(text).into_iter().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let first = line
                .split(|c: char| c.is_whitespace() || c == ';')
                .next()
                .unwrap_or("");
            let last = line
                .trim_end_matches(';')
                .split_whitespace()
                .last()
                .unwrap_or("");
            match first {
                "if" | "case" | "for" | "while" | "until" => {
                    if !matches!(last, "fi" | "esac" | "done") {
                        depth += 1;
                    }
                    continue;
                }
                "fi" | "esac" | "done" => {
                    depth = depth.saturating_sub(1);
                    continue;
                }
                _ if depth > 0 => continue,
                _ => {}
            }
            if self.statement(line).is_none() {
                log::debug!("envfile line {}: not understood, skipped: {line}", n + 1);
            }
        }
    }

    /// One simple command; None when it is not one this reader understands.
    fn statement(&mut self, line: &str) -> Option<()> {
        let words = self.words(line)?;
        let (command, rest) = words.split_first()?;
        match command.text.as_str() {
            "export" => {
                for w in rest {
                    match w.text.split_once('=') {
                        Some((k, v)) if is_name(k) => {
                            self.vars.insert(k.to_owned(), v.to_owned());
                            self.exported.insert(k.to_owned());
                        }
                        None if is_name(&w.text) => {
                            self.exported.insert(w.text.clone());
                        }
                        _ => return None,
                    }
                }
                Some(())
            }
            "unset" => {
                for w in rest {
                    self.vars.remove(&w.text);
                    self.exported.remove(&w.text);
                }
                Some(())
            }
            _ => {
                // NAME=value [NAME=value...] with no command.
                let assigns: Vec<(String, String)> = words
                    .iter()
                    .map(|w| w.assignment().map(|(k, v)| (k.to_owned(), v.to_owned())))
                    .collect::<Option<_>>()?;
                self.vars.extend(assigns);
                Some(())
            }
        }
    }

    /// Split into words as sh does ([`procs::words::split_with`]): quotes removed, `$`
    /// expanded, comments dropped; None when the line needs a shell (an operator, a command
    /// substitution) or an expansion this reader does not understand.
    fn words(&self, line: &str) -> Option<Vec<Word>> {
        let mut expand = |chars: &mut Peekable<Chars<'_>>| self.expansion(chars);
        split_with(
            line,
            Syntax {
                comments: true,
                refuse_operators: true,
                expand: Some(&mut expand),
            },
        )
        .ok()
    }

    /// The value of the expansion after a `$`; None for forms not understood.
    fn expansion(&self, chars: &mut Peekable<Chars<'_>>) -> Option<String> {
        let lookup = |name: &str| self.vars.get(name).cloned().unwrap_or_default();
        if chars.peek() == Some(&'{') {
            chars.next();
            let mut inner = String::new();
            loop {
                match chars.next()? {
                    '}' => break,
                    ch => inner.push(ch),
                }
            }
            if is_name(&inner) {
                return Some(lookup(&inner));
            }
            let (name, colon, word) = if let Some((n, w)) = inner.split_once(":-") {
                (n, true, w)
            } else {
                let (n, w) = inner.split_once('-')?;
                (n, false, w)
            };
            if !is_name(name) || word.contains(['$', '`', '{', '}']) {
                return None;
            }
            return Some(match self.vars.get(name) {
                Some(v) if !(colon && v.is_empty()) => v.clone(),
                _ => word.to_owned(),
            });
        }
        let mut name = String::new();
        while let Some(&ch) = chars.peek() {
            if ch.is_ascii_alphanumeric() || ch == '_' {
                name.push(ch);
                chars.next();
            } else {
                break;
            }
        }
        if name.is_empty() {
            // `$(`, `$?`, `$$`...: not understood; a `$` at the end of a word is literal.
            return match chars.peek() {
                None => Some("$".to_owned()),
                Some(c) if c.is_whitespace() => Some("$".to_owned()),
                _ => None,
            };
        }
        Some(lookup(&name))
    }
}

/// Lines joined where one ends in a backslash.
fn logical_lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for line in text.lines() {
        if let Some(head) = line.strip_suffix('\\') {
            cur.push_str(head);
        } else {
            cur.push_str(line);
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(text: &str) -> ShellEnv {
        let mut e =
            ShellEnv::from_env([("HOME".into(), "/root".into()), ("KEEP".into(), "k".into())]);
        e.apply(text);
        e
    }

    #[test]
    fn debian_envvars() {
        let text = r#"
# envvars - default environment variables for apache2ctl
unset HOME
if [ "${APACHE_CONFDIR##/etc/apache2-}" != "${APACHE_CONFDIR}" ] ; then
	SUFFIX="-${APACHE_CONFDIR##/etc/apache2-}"
else
	SUFFIX=
fi
export APACHE_RUN_USER=www-data
export APACHE_PID_FILE=/var/run/apache2$SUFFIX/apache2.pid
export APACHE_RUN_DIR=/var/run/apache2$SUFFIX
## The locale used by some modules like mod_dav
export LANG=C
export LANG
"#;
        let e = env(text).exported();
        assert_eq!(
            e.get("APACHE_PID_FILE").map(String::as_str),
            Some("/var/run/apache2/apache2.pid")
        );
        assert_eq!(
            e.get("APACHE_RUN_USER").map(String::as_str),
            Some("www-data")
        );
        assert_eq!(e.get("LANG").map(String::as_str), Some("C"));
        assert_eq!(e.get("HOME"), None, "unset HOME");
        assert_eq!(e.get("KEEP").map(String::as_str), Some("k"));
        assert_eq!(e.get("SUFFIX"), None);
    }

    #[test]
    fn quoting_expansion_and_export_rules() {
        let e = env(r#"
BASE=/srv/web   # a comment
export A="$BASE/a b" B='$BASE' C=${BASE}/c D=${UNSET:-dflt} E=${BASE:-x}
F=notexported
export G=\$lit H="q\"uote"
G2=$(hostname)
T=`date`
one=1 two=2
export one
"#);
        let x = e.exported();
        assert_eq!(x["A"], "/srv/web/a b");
        assert_eq!(x["B"], "$BASE");
        assert_eq!(x["C"], "/srv/web/c");
        assert_eq!(x["D"], "dflt");
        assert_eq!(x["E"], "/srv/web");
        assert_eq!(x["G"], "$lit");
        assert_eq!(x["H"], "q\"uote");
        assert_eq!(x["one"], "1");
        assert!(!x.contains_key("F") && e.vars["F"] == "notexported");
        assert!(!x.contains_key("two"));
        assert!(!e.vars.contains_key("G2") && !e.vars.contains_key("T"));
    }

    #[test]
    fn commands_and_unterminated_quotes_are_skipped() {
        let e = env("echo hi\nX=\"open\nexport Y=1; rm -rf /\n. /etc/other\nZ=ok\n");
        assert_eq!(e.vars.get("Z").map(String::as_str), Some("ok"));
        assert!(!e.vars.contains_key("X") && !e.vars.contains_key("Y"));
    }
}
