//! The reader on fixture trees written to a temporary directory.

use super::*;

struct Tree(PathBuf);

impl Tree {
    fn new(tag: &str, files: &[(&str, &str)]) -> Tree {
        let root =
            std::env::temp_dir().join(format!("apache-clone-conf-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for (name, text) in files {
            let p = root.join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text.replace("@ROOT@", root.to_str().unwrap())).unwrap();
        }
        Tree(root)
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn debian_layout_with_globs_variables_and_status_location() {
    let t = Tree::new(
        "debian",
        &[
            (
                "apache2.conf",
                "# main\nServerRoot \"@ROOT@\"\nDefaultRuntimeDir ${APACHE_RUN_DIR}\n\
                 PidFile ${APACHE_PID_FILE}\nMutex file:${APACHE_LOCK_DIR} default\n\
                 IncludeOptional mods-enabled/*.load\nIncludeOptional mods-enabled/*.conf\n\
                 Include ports.conf\nIncludeOptional conf-enabled/\nIncludeOptional nothing-*.conf\n",
            ),
            (
                "ports.conf",
                "Listen 127.0.0.9:8089\n<IfModule ssl_module>\n  Listen 443\n</IfModule>\n",
            ),
            (
                "mods-enabled/status.load",
                "LoadModule status_module /x/mod_status.so\n",
            ),
            (
                "mods-enabled/status.conf",
                "<IfModule mod_status.c>\n\t<Location \"/status-page\">\n\t\tSetHandler server-status\n\
                 \t\tRequire local\n\t</Location>\n</IfModule>\n",
            ),
            ("mods-enabled/.hidden.conf", "Listen 1\n"),
            ("conf-enabled/b/z.conf", "Define SITE b\n"),
            ("conf-enabled/a.conf", "# only a comment \\\n  Listen 2\n"),
        ],
    );
    let env = vars(&[
        ("APACHE_RUN_DIR", "/run/x"),
        ("APACHE_PID_FILE", "/run/x/apache2.pid"),
        ("APACHE_LOCK_DIR", "/run/lock/x"),
    ]);
    let c = Config::read(&t.0.join("apache2.conf"), Path::new("/etc/apache2"), &env).unwrap();
    assert_eq!(c.server_root, t.0);
    assert_eq!(c.pid_file.as_deref(), Some(Path::new("/run/x/apache2.pid")));
    assert_eq!(c.runtime_dir.as_deref(), Some(Path::new("/run/x")));
    assert_eq!(c.mutex_dirs, vec![PathBuf::from("/run/lock/x")]);
    assert_eq!(
        c.listen,
        ["127.0.0.9:8089", "443"],
        "hidden files and continued comments skipped"
    );
    assert_eq!(c.first_listen(), Some(("127.0.0.9".to_owned(), 8089)));
    assert_eq!(c.status_location.as_deref(), Some("/status-page"));
    let names: Vec<String> = c
        .files
        .iter()
        .map(|p| p.strip_prefix(&t.0).unwrap().display().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "apache2.conf",
            "mods-enabled/status.load",
            "mods-enabled/status.conf",
            "ports.conf",
            "conf-enabled/a.conf",
            "conf-enabled/b/z.conf"
        ]
    );
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
}

#[test]
fn relative_pid_file_undefined_variables_and_missing_includes() {
    let t = Tree::new(
        "relative",
        &[(
            "httpd.conf",
            "ServerRoot @ROOT@\nPidFile run/httpd.pid\nListen ${PORT}\nInclude missing.conf\n\
             Define MYPORT 8123\nListen ${MYPORT}\nListen ${NOPE}\n",
        )],
    );
    let c = Config::read(
        &t.0.join("httpd.conf"),
        Path::new("/etc/httpd"),
        &vars(&[("PORT", "8080")]),
    )
    .unwrap();
    assert_eq!(c.pid_file, Some(t.0.join("run/httpd.pid")));
    assert_eq!(c.listen, ["8080", "8123", "${NOPE}"]);
    assert_eq!(c.first_listen(), Some(("localhost".to_owned(), 8080)));
    assert_eq!(c.status_location, None);
    assert!(
        c.warnings.iter().any(|w| w.contains("missing.conf")),
        "{:?}",
        c.warnings
    );
    assert!(
        c.warnings.iter().any(|w| w.contains("${NOPE}")),
        "{:?}",
        c.warnings
    );
}

#[test]
fn include_loops_and_unreadable_files_are_errors() {
    let t = Tree::new("loop", &[("a.conf", "Include @ROOT@/a.conf\n")]);
    let err = Config::read(&t.0.join("a.conf"), Path::new("/"), &BTreeMap::new()).unwrap_err();
    assert!(matches!(err, ConfError::TooDeep(_)), "{err}");
    let err = Config::read(&t.0.join("none.conf"), Path::new("/"), &BTreeMap::new()).unwrap_err();
    assert!(matches!(err, ConfError::Read { .. }), "{err}");
}

#[test]
fn listen_forms() {
    let c = |l: &str| {
        Config {
            listen: vec![l.to_owned()],
            ..Config::default()
        }
        .first_listen()
    };
    assert_eq!(c("80"), Some(("localhost".into(), 80)));
    assert_eq!(c("[::1]:8080"), Some(("::1".into(), 8080)));
    assert_eq!(c("0.0.0.0:81"), Some(("0.0.0.0".into(), 81)));
    assert_eq!(c("x"), None);
}

#[test]
fn words_split_like_httpd() {
    assert_eq!(
        words("  Foo  \"a b\" 'c \\' d'  e  "),
        ["Foo", "a b", "c ' d", "e"]
    );
    assert_eq!(words("<Location \"/s\">"), ["<Location", "/s", ">"]);
}
