//! The level-10 test definitions file (`testconffile`), in the format of resource-agents'
//! README.webapps: blocks of `key value` lines from `test NAME` to `end`, with the keys
//! `url`, `match`, `user`, `password`, `client` and `client_opts`.

/// One test definition.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TestDef {
    pub name: String,
    pub url: String,
    pub regex: String,
    pub user: String,
    pub password: String,
}

/// The test called `name` (the first one when `name` is None). Err names the problem.
pub fn find(text: &str, name: Option<&str>) -> Result<TestDef, String> {
    let mut current: Option<TestDef> = None;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        let (key, value) = line
            .split_once(char::is_whitespace)
            .map_or((line, ""), |(k, v)| (k, v.trim()));
        match current.as_mut() {
            None => {
                if key == "test" && name.is_none_or(|want| want == value) {
                    current = Some(TestDef {
                        name: value.to_owned(),
                        ..TestDef::default()
                    });
                }
            }
            Some(def) => match key {
                "url" => value.clone_into(&mut def.url),
                "match" => value.clone_into(&mut def.regex),
                "user" => value.clone_into(&mut def.user),
                "password" => value.clone_into(&mut def.password),
                // The native client is used; these name a program and its options.
                "client" | "client_opts" => {}
                "end" => break,
                k if k.is_empty() || k.starts_with('#') => {}
                k => return Err(format!("line {}: unknown keyword {k:?}", n + 1)),
            },
        }
    }
    let def = current.ok_or_else(|| match name {
        Some(n) => format!("no test named {n:?}"),
        None => "no test defined".to_owned(),
    })?;
    if def.url.is_empty() || def.regex.is_empty() {
        return Err(format!("test {:?} lacks a url or a match line", def.name));
    }
    if def.user.is_empty() != def.password.is_empty() {
        return Err(format!(
            "test {:?} has a user without a password or the reverse",
            def.name
        ));
    }
    Ok(def)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "# tests\ntest first\nurl /a\nmatch A+\nend\n\ntest second\n  url http://h/b\n  match B\n  user u\n  password p w\n  client curl\nend\n";

    #[test]
    fn picks_by_name_or_the_first() {
        let first = find(FILE, None).unwrap();
        assert_eq!((first.url.as_str(), first.regex.as_str()), ("/a", "A+"));
        let second = find(FILE, Some("second")).unwrap();
        assert_eq!(second.url, "http://h/b");
        assert_eq!(
            (second.user.as_str(), second.password.as_str()),
            ("u", "p w")
        );
    }

    #[test]
    fn bad_definitions_say_why() {
        assert!(find(FILE, Some("third")).unwrap_err().contains("third"));
        assert!(
            find("test x\nurl /a\nend\n", None)
                .unwrap_err()
                .contains("match")
        );
        assert!(
            find("test x\nurl /a\nmatch a\nuser u\nend\n", None)
                .unwrap_err()
                .contains("password")
        );
        assert!(
            find("test x\nfrobnicate 1\nend\n", None)
                .unwrap_err()
                .contains("frobnicate")
        );
    }
}
