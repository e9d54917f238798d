//! Parameter checks without privileges or a server.

use super::*;
use crate::Agent;
use ocf::testing::{assert_params_match_metadata, context};
use ocf::{Action, Status};

fn settings(params: &[(&str, &str)]) -> Result<Settings> {
    let ctx = context::<Agent>(Action::ValidateAll, params, &[]);
    Ok(ocf::testing::parse::<Agent>(&ctx)?.1)
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
        ("statusurl", "ftp://localhost/"),
        ("testregex", "(unclosed"),
        ("testregex10", "[z-a]"),
        ("testurl", "index.html"),
        ("testurl", "http://bad host/"),
        ("options", "-c 'PidFile /x"),
        ("use_ipv6", "perhaps"),
    ] {
        let err = settings(&[(name, value)]).unwrap_err();
        assert_eq!(err.status(), Status::ErrConfigured, "{name}={value}: {err}");
        assert!(err.reason().contains(name), "{name}: {err}");
    }
}

#[test]
fn empty_envfiles_reads_none() {
    let envfiles = |params: &[(&str, &str)]| settings(params).unwrap().envfiles;
    assert_eq!(envfiles(&[]), [PathBuf::from("/etc/apache2/envvars")]);
    assert!(envfiles(&[("envfiles", "")]).is_empty());
    assert_eq!(envfiles(&[("envfiles", "/a /b")]).len(), 2);
}

/// Issue 13: `configfile` unset meant Debian's path on every distribution. It is detected
/// now as the shell agent detects it, and the metadata carries no default of its own.
#[test]
fn configfile_is_detected_per_distribution_layout() {
    let layout = |present: &'static [&'static str]| {
        detect_configfile(|p: &Path| present.iter().any(|f| Path::new(f) == p))
    };
    assert_eq!(
        layout(&["/etc/apache2/httpd.conf", "/etc/apache2/apache2.conf"]),
        Path::new("/etc/apache2/httpd.conf"),
        "SUSE"
    );
    assert_eq!(
        layout(&["/etc/apache2/apache2.conf"]),
        Path::new("/etc/apache2/apache2.conf"),
        "Debian"
    );
    assert_eq!(
        layout(&["/etc/httpd/conf/httpd.conf"]),
        Path::new("/etc/httpd/conf/httpd.conf"),
        "RHEL"
    );
    assert_eq!(
        layout(&[]),
        Path::new("/etc/httpd/conf/httpd.conf"),
        "nothing installed: RHEL's, reported missing by name"
    );
    let meta = ocf::Metadata::parse(<Agent as ocf::Agent>::METADATA).unwrap();
    let configfile = meta.param("configfile").unwrap();
    assert!(
        configfile.default.as_deref().is_none_or(str::is_empty),
        "the XML names no distribution's path"
    );
    let ctx = context::<Agent>(Action::Stop, &[], &[]);
    let (identity, _) = ocf::testing::parse::<Agent>(&ctx).unwrap();
    assert_eq!(identity.configfile, detect_configfile(Path::is_file));
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
    let (_, settings) = ocf::testing::parse::<Agent>(&ctx).unwrap();
    let r = settings.checks.testregex.regex().unwrap();
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
