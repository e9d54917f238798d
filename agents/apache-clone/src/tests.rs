//! Parameter checks without privileges or a server.

use super::*;
use ocf::testing::{assert_params_match_metadata, context};

fn agent(params: &[(&str, &str)]) -> Result<Agent> {
    let ctx = context::<Agent>(Action::ValidateAll, params, &[]);
    <Agent as ocf::Agent>::from_context(&ctx)
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
fn testregex_is_a_case_insensitive_line_ere() {
    let r = compile_regex("testregex", "</ *html *>").unwrap();
    assert!(r.is_match("<p>x</p>\n</HTML >\n"));
    assert!(!r.is_match("<html>"));
    let r = compile_regex("testregex", "^Total Accesses: [[:digit:]]+$").unwrap();
    assert!(r.is_match("Uptime: 5\nTotal Accesses: 12\nBusyWorkers: 1\n"));
}

#[test]
fn options_split_like_words() {
    assert_eq!(
        split_options(" -DFOO  -C 'ServerName a b' -c \"X y\"").unwrap(),
        ["-DFOO", "-C", "ServerName a b", "-c", "X y"]
    );
    assert_eq!(split_options("").unwrap(), Vec::<String>::new());
    assert!(split_options("'x").is_none());
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
