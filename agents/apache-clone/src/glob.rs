//! Wildcards in `Include` paths, as httpd expands them (fnmatch(3) per path component with
//! `*`, `?` and `[...]`; a leading dot must be matched explicitly; matches sorted).

use std::path::{Component, Path, PathBuf};

/// True when `s` holds a wildcard character.
pub fn has_wildcard(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// fnmatch(3) of one path component, with FNM_PERIOD.
pub fn fnmatch(pattern: &str, name: &str) -> bool {
    if name.starts_with('.') && !pattern.starts_with('.') {
        return false;
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    matches(&p, &n)
}

fn matches(p: &[char], n: &[char]) -> bool {
    // Iterative matcher with backtracking to the last `*`.
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        let step = match p.get(pi) {
            Some('*') => {
                star = Some((pi, ni));
                pi += 1;
                continue;
            }
            Some('?') => Some(pi + 1),
            Some('[') => class(&p[pi..], n[ni]).map(|len| pi + len),
            Some('\\') if pi + 1 < p.len() => (p[pi + 1] == n[ni]).then_some(pi + 2),
            Some(c) => (*c == n[ni]).then_some(pi + 1),
            None => None,
        };
        if let Some(next) = step {
            pi = next;
            ni += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Match `c` against the bracket expression at the start of `p`; the length of the
/// expression when it matches. An unterminated `[` matches itself.
fn class(p: &[char], c: char) -> Option<usize> {
    let mut i = 1;
    let negate = matches!(p.get(i), Some('!' | '^'));
    if negate {
        i += 1;
    }
    let mut hit = false;
    let mut first = true;
    while let Some(&ch) = p.get(i) {
        if ch == ']' && !first {
            return (hit != negate).then_some(i + 1);
        }
        first = false;
        if p.get(i + 1) == Some(&'-') && p.get(i + 2).is_some_and(|e| *e != ']') {
            if (ch..=p[i + 2]).contains(&c) {
                hit = true;
            }
            i += 3;
        } else {
            hit |= ch == c;
            i += 1;
        }
    }
    // No closing bracket: a literal '['.
    (c == '[').then_some(1)
}

/// The existing paths matching `pattern` (absolute), wildcards allowed in any component,
/// sorted as httpd sorts them.
pub fn expand(pattern: &Path) -> Vec<PathBuf> {
    let mut found = vec![PathBuf::from("/")];
    for comp in pattern.components() {
        let part = match comp {
            Component::RootDir | Component::Prefix(_) | Component::CurDir => continue,
            Component::ParentDir => {
                found = found.into_iter().map(|p| p.join("..")).collect();
                continue;
            }
            Component::Normal(s) => s.to_string_lossy().into_owned(),
        };
        if !has_wildcard(&part) {
            found = found.into_iter().map(|p| p.join(&part)).collect();
            continue;
        }
        let mut next = Vec::new();
        for dir in found {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            let mut names: Vec<String> = entries
                .filter_map(Result::ok)
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| fnmatch(&part, n))
                .collect();
            names.sort();
            next.extend(names.into_iter().map(|n| dir.join(n)));
        }
        found = next;
    }
    found.retain(|p| p.exists());
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnmatch_like_the_c_library() {
        for (p, n) in [
            ("*.conf", "a.conf"),
            ("*.conf", ".conf.conf"), // no: leading dot
            ("a?c", "abc"),
            ("[ab]*", "b1"),
            ("[!ab]*", "c1"),
            ("[^ab]*", "c1"),
            ("[a-c]x", "bx"),
            ("*", "anything"),
            ("*a*b", "xxaxxb"),
            ("\\*", "*"),
            ("[", "["),
            ("[]]", "]"),
        ] {
            let want = n != ".conf.conf";
            assert_eq!(fnmatch(p, n), want, "{p} vs {n}");
        }
        for (p, n) in [
            ("*.conf", "a.load"),
            ("a?c", "ac"),
            ("[ab]*", "c"),
            ("[!ab]*", "a"),
            ("[a-c]x", "dx"),
            ("*a*b", "xxaxxbc"),
            ("\\*", "a"),
            ("*", ".hidden"),
        ] {
            assert!(!fnmatch(p, n), "{p} vs {n}");
        }
        assert!(fnmatch(".*", ".hidden"));
    }

    #[test]
    fn expands_wildcards_in_any_component() {
        let d = std::env::temp_dir().join(format!("apache-clone-glob-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        for f in [
            "sites-a/1.conf",
            "sites-a/2.txt",
            "sites-b/0.conf",
            "other/9.conf",
        ] {
            let p = d.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, "").unwrap();
        }
        let got = expand(&d.join("sites-*/*.conf"));
        assert_eq!(
            got,
            vec![d.join("sites-a/1.conf"), d.join("sites-b/0.conf")]
        );
        assert!(expand(&d.join("none-*/x")).is_empty());
        assert_eq!(
            expand(&d.join("other/9.conf")),
            vec![d.join("other/9.conf")]
        );
        std::fs::remove_dir_all(&d).unwrap();
    }
}
