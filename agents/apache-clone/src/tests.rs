//! Parameter checks without privileges or a server.

use super::*;
use ocf::Action;
use ocf::testing::{assert_params_match_metadata, context};
use std::path::{Path, PathBuf};

fn agent(params: &[(&str, &str)]) -> Result<Agent> {
    let ctx = context::<Agent>(Action::ValidateAll, params, &[]);
    let (identity, settings) = ocf::testing::parse::<Agent>(&ctx)?;
    <Agent as ocf::Agent>::new(identity, settings, &ctx)
}

#[test]
fn params_match_metadata() {
    assert_params_match_metadata::<Agent>(&[
        ("configfile", "/etc/apache2/apache2.conf"),
        ("httpd", "/usr/sbin/apache2"),
        ("port", "8080"),
        ("statusurl", "http://localhost:8080/server-status"),
        ("testregex", "</ *html *>"),
        ("client", "curl"),
        ("testurl", "/index.html"),
        ("testregex10", "It works"),
        ("testconffile", "/etc/ha.d/webtests"),
        ("testname", "first"),
        ("options", "-DFOO -C 'ServerName x'"),
        ("envfiles", "/etc/apache2/envvars /etc/default/x"),
        ("use_ipv6", "false"),
    ]);
}

#[test]
fn bad_values_name_the_parameter_and_exit_6() {
    for (name, value) in [
        ("configfile", "apache2.conf"),
        ("httpd", "apache2"),
        ("port", "http"),
        ("port", "0"),
        ("port", "70000"),
        ("statusurl", "localhost/server-status"),
        ("statusurl", "https://localhost/"),
        ("testregex", "(unclosed"),
        ("testregex10", "[z-a]"),
        ("testurl", "index.html"),
        ("testurl", "http://bad host/"),
        ("options", "-c 'PidFile /x"),
        ("use_ipv6", "perhaps"),
    ] {
        let err = agent(&[(name, value)]).unwrap_err();
        assert_eq!(err.status(), Status::ErrConfigured, "{name}={value}: {err}");
        assert!(err.reason().contains(name), "{name}: {err}");
    }
}

#[test]
fn default_status_url_comes_from_the_configuration() {
    let a = agent(&[]).unwrap();
    let mut config = conf::Config {
        listen: vec!["127.0.0.7:8081".into(), "90".into()],
        status_location: Some("/st".into()),
        ..conf::Config::default()
    };
    assert_eq!(
        a.status_url(Some(&config)).to_string(),
        "http://127.0.0.7:8081/st"
    );
    config.listen = vec!["8082".into()];
    config.status_location = None;
    assert_eq!(
        a.status_url(Some(&config)).to_string(),
        "http://localhost:8082/server-status"
    );
    assert_eq!(
        a.status_url(None).to_string(),
        "http://localhost/server-status"
    );
    let a = agent(&[("port", "9000"), ("use_ipv6", "yes")]).unwrap();
    let url = a.localize(a.status_url(Some(&config)));
    assert_eq!(url.to_string(), "http://[::1]:9000/server-status");
    let a = agent(&[("statusurl", "http://127.0.0.3:1/x")]).unwrap();
    assert_eq!(
        a.status_url(Some(&config)).to_string(),
        "http://127.0.0.3:1/x"
    );
}

#[test]
fn own_pid_file_is_per_instance() {
    let a = Server::new(
        "/c1".into(),
        "/usr/sbin/apache2".into(),
        vec![],
        vec![],
        Path::new("/run/ra"),
        "web:1",
    );
    assert_eq!(a.own_pid_file(), Path::new("/run/ra/apache2-web_1.pid"));
}

#[test]
fn empty_envfiles_reads_none() {
    assert_eq!(
        agent(&[]).unwrap().server.envfiles(),
        [PathBuf::from("/etc/apache2/envvars")]
    );
    assert!(
        agent(&[("envfiles", "")])
            .unwrap()
            .server
            .envfiles()
            .is_empty()
    );
    assert_eq!(
        agent(&[("envfiles", "/a /b")])
            .unwrap()
            .server
            .envfiles()
            .len(),
        2
    );
}

/// What `grep -Eiq PATTERN` answers under LC_ALL=C for `text`: 0 a match, 1 none, 2 refused.
fn grep_answer(pattern: &str, text: &str) -> i32 {
    use std::io::Write;
    let mut grep = std::process::Command::new("grep")
        .env("LC_ALL", "C")
        .args(["-Eiq", "-e", pattern])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("grep runs");
    // grep -q may exit at its first match, before reading everything: a broken pipe is fine.
    let _ = grep.stdin.take().expect("stdin").write_all(text.as_bytes());
    grep.wait()
        .expect("grep exits")
        .code()
        .expect("an exit code")
}

#[test]
fn testregex_matches_as_grep_does() {
    const TEXTS: [&str; 17] = [
        "<p>x</p>\n</HTML >\n",
        "Uptime: 5\nTotal Accesses: 12\nBusyWorkers: 1\n",
        "a\nb",
        "foo\r\n",
        "It Works",
        "ABAB xxx",
        "\u{c9}",
        "works fine",
        "",
        "\n",
        "abc\n",
        "a\n\nb",
        "aab",
        "]\\",
        "9 d",
        "x{1",
        "/a.b",
    ];
    // Each agrees with grep on every text.
    let agree = [
        "</ *html *>",
        "^Total Accesses: [[:digit:]]+$",
        "a[^x]*b",
        "^b",
        "foo$",
        "[[:alpha:]]+[[:space:]]works",
        "it works|welcome",
        "(ab){2}",
        "x{2,}",
        "a{,2}b",
        "\\.",
        "[.]",
        "\u{e9}",
        "\\bworks\\b",
        "\\<works\\>",
        "\\w+s$",
        "[a-z]+",
        "[[:upper:]]",
        "^$",
        "a|",
        "()",
        "[a\\]]",
        "[]]",
        "[^]a]",
        "[x[]",
        "\\/a",
        "\\{1",
        "a**",
        "[&~#-]",
        "welcome\nworks$",
    ];
    for pattern in agree {
        let ours = compile_regex("testregex", pattern).unwrap();
        for text in TEXTS {
            let ours = i32::from(!matches_a_line(&ours, text));
            assert_eq!(ours, grep_answer(pattern, text), "{pattern:?} on {text:?}");
        }
    }
    // Refused with the reason: grep would read them otherwise than regex-lite, or its GNU
    // fallbacks (a literal * or {) hide a mistake. Refused is exit 6 with the parameter named.
    for pattern in [
        "(a)\\1",
        "*a",
        "a{1",
        "(a\nb)",
        "a)",
        "\\d",
        "(?i)x",
        "a+?",
        "a{2}?",
        "[[.a.]]",
        "[[:digit:]",
    ] {
        let e = compile_regex("testregex", pattern).unwrap_err();
        assert_eq!(e.status(), Status::ErrConfigured, "{pattern:?}: {e}");
    }
}

/// The bad-configuration rule for a pattern a monitor compiles only when it needs it: found
/// bad then, the XML default stands in (logged), as the rule does for every other setting;
/// validate-all and start refuse it up front.
#[test]
fn a_bad_testregex_found_by_a_monitor_falls_back_to_the_default() {
    let bad = [("testregex", "(unclosed")];
    let ctx = context::<Agent>(Action::Monitor, &bad, &[]);
    let (identity, settings) = ocf::testing::parse::<Agent>(&ctx).unwrap();
    let a = <Agent as ocf::Agent>::new(identity, settings, &ctx).unwrap();
    let r = a.checks.testregex.regex().unwrap();
    assert!(
        matches_a_line(r, "<p>x</p>\n</HTML >\n"),
        "the default </ *html *>"
    );
    for action in [Action::ValidateAll, Action::Start] {
        let ctx = context::<Agent>(action, &bad, &[]);
        let e = ocf::testing::parse::<Agent>(&ctx).unwrap_err();
        assert_eq!(e.status(), Status::ErrConfigured);
        assert!(e.reason().contains("testregex"), "{e}");
    }
}
