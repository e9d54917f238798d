//! The reader against configurations as Debian ships them and administrators write them;
//! the answers are `drbdadm -d -v dump`'s (checked against drbd-utils 9.22 by hand, and by
//! tests/e2e.rs against the installed drbdadm).

use super::*;

/// Debian's /etc/drbd.conf.
const DRBD_CONF: &str = "# You can find an example in  /usr/share/doc/drbd.../drbd.conf.example\n\n\
include \"drbd.d/global_common.conf\";\ninclude \"drbd.d/*.res\";\n";

/// Debian's global_common.conf, with `net` as given.
fn global_common(net: &str) -> String {
    format!(
        "global {{\n\tusage-count no;\n\tudev-always-use-vnr; # treat implicit the same as explicit volumes\n}}\n\
         common {{\n\thandlers {{\n\t}}\n\tstartup {{\n\t}}\n\toptions {{\n\t}}\n\tdisk {{\n\t}}\n\tnet {{\n{net}\n\t}}\n}}\n"
    )
}

/// The lab's wwwdata.res with `net` as given.
fn wwwdata(net: &str) -> String {
    format!(
        "# The tutorial's DRBD resource.\nresource wwwdata {{\n  device    /dev/drbd1;\n  disk      /dev/vdb;\n\
         meta-disk internal;\n  disk {{\n    c-plan-ahead 0;\n    resync-rate 30M;\n  }}\n  net {{\n{net}\n  }}\n\
         on node1 {{ address 10.1.1.101:7789; }}\n  on node2 {{ address 10.1.1.102:7789; }}\n}}\n"
    )
}

fn load(common_net: &str, res_net: &str) -> DrbdConf {
    let files = MemFiles::with(&[
        ("/etc/drbd.conf", DRBD_CONF),
        ("/etc/drbd.d/global_common.conf", &global_common(common_net)),
        ("/etc/drbd.d/wwwdata.res", &wwwdata(res_net)),
    ]);
    DrbdConf::load(Path::new("/etc/drbd.conf"), &files).unwrap()
}

fn allows(conf: &DrbdConf) -> bool {
    conf.resource("wwwdata").unwrap().allows_two_primaries()
}

#[test]
fn allow_two_primaries_in_the_resource_or_in_common() {
    assert!(allows(&load(
        "",
        "    protocol C;\n    allow-two-primaries yes;"
    )));
    assert!(allows(&load(
        "\t\tallow-two-primaries yes;",
        "    protocol C;"
    )));
    assert!(
        allows(&load("\t\tallow-two-primaries;", "")),
        "bare means yes"
    );
    assert!(!allows(&load("", "    protocol C;")), "nowhere: no");
    assert!(
        !allows(&load(
            "\t\tallow-two-primaries yes;",
            "    allow-two-primaries no;"
        )),
        "the resource's own no wins over common's yes"
    );
    assert!(
        allows(&load(
            "\t\tallow-two-primaries no;",
            "    allow-two-primaries yes;"
        )),
        "and its yes over common's no"
    );
    assert!(
        !allows(&load("\t\t# allow-two-primaries yes;", "")),
        "a comment is no setting"
    );
    assert!(
        allows(&load(
            "\t\tallow-two-primaries no;\n\t\tallow-two-primaries yes;",
            ""
        )),
        "the last one counts"
    );
}

#[test]
fn a_resource_is_found_by_its_name_through_globbed_includes() {
    let conf = load("", "");
    assert!(conf.resource("wwwdata").is_some());
    assert!(conf.resource("www").is_none());
    assert!(conf.resource("net").is_none(), "only resource sections");
    let quoted = MemFiles::with(&[("/c/drbd.conf", "resource \"r 0\" { net { } }\n")]);
    let conf = DrbdConf::load(Path::new("/c/drbd.conf"), &quoted).unwrap();
    assert!(conf.resource("r 0").is_some(), "a quoted name");
}

#[test]
fn drbd9_connections_decide_for_themselves() {
    let res = |body: &str| {
        let files = MemFiles::with(&[("/c/d.conf", &format!("resource r0 {{\n{body}\n}}\n"))]);
        DrbdConf::load(Path::new("/c/d.conf"), &files)
            .unwrap()
            .resource("r0")
            .unwrap()
            .allows_two_primaries()
    };
    assert!(res(
        "net { allow-two-primaries yes; }\nconnection { host a; host b; }"
    ));
    assert!(res(
        "connection { net { allow-two-primaries yes; } }\nconnection-mesh { hosts a b c; net { allow-two-primaries; } }"
    ));
    assert!(
        !res("net { allow-two-primaries yes; }\nconnection { net { allow-two-primaries no; } }"),
        "one connection that says no"
    );
    assert!(!res("connection { net { protocol C; } }"));
}

#[test]
fn includes_nest_relative_to_the_including_file_and_skip_is_ignored() {
    let files = MemFiles::with(&[
        ("/etc/drbd.conf", "include \"/srv/conf/main.conf\";\n"),
        (
            "/srv/conf/main.conf",
            "include \"res/r[0-9].res\"; skip { resource r9 { } }\n",
        ),
        (
            "/srv/conf/res/r1.res",
            "resource r1 { net { allow-two-primaries; } }",
        ),
        ("/srv/conf/res/rx.res", "resource rx { }"),
        ("/srv/conf/res/.r2.res", "resource r2 { }"),
    ]);
    let conf = DrbdConf::load(Path::new("/etc/drbd.conf"), &files).unwrap();
    assert!(conf.resource("r1").unwrap().allows_two_primaries());
    assert!(conf.resource("rx").is_none(), "not matched by r[0-9]");
    assert!(
        conf.resource("r2").is_none(),
        "a hidden file is not matched by r*"
    );
    assert!(conf.resource("r9").is_none(), "skipped");
}

#[test]
fn what_cannot_be_read_says_where() {
    let e = DrbdConf::load(Path::new("/etc/drbd.conf"), &MemFiles::default()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "cannot read /etc/drbd.conf: No such file or directory"
    );
    let missing_include = MemFiles::with(&[("/etc/drbd.conf", "include \"gone.conf\";")]);
    let e = DrbdConf::load(Path::new("/etc/drbd.conf"), &missing_include).unwrap_err();
    assert_eq!(
        e.to_string(),
        "cannot read /etc/drbd.gone.conf: No such file or directory".replace("drbd.gone", "gone")
    );
    let unmatched_glob = MemFiles::with(&[("/etc/drbd.conf", "include \"none/*.res\";")]);
    assert!(DrbdConf::load(Path::new("/etc/drbd.conf"), &unmatched_glob).is_ok());
    for (text, line, what) in [
        ("resource r0 {\n net {\n", 2, "a block is not closed"),
        ("resource r0 { }\n}\n", 2, "a '}' closes no block"),
        (
            "resource r0 { net { protocol C } }",
            1,
            "\"protocol C\" is not ended by ';'",
        ),
        ("common {\n}\n{ }", 3, "a block without a name"),
        ("resource \"r0 { }", 1, "a string is not closed"),
        ("include \"a\"", 1, "\"include a\" is not ended by ';'"),
    ] {
        let files = MemFiles::with(&[("/c/d.conf", text)]);
        match DrbdConf::load(Path::new("/c/d.conf"), &files) {
            Err(Error::Syntax {
                line: l, what: w, ..
            }) => {
                assert_eq!((l, w.as_str()), (line, what), "{text:?}");
            }
            other => panic!("{text:?}: {other:?}"),
        }
    }
}

#[test]
fn an_include_loop_ends() {
    let files = MemFiles::with(&[("/c/d.conf", "include \"d.conf\";")]);
    let e = DrbdConf::load(Path::new("/c/d.conf"), &files).unwrap_err();
    assert!(matches!(e, Error::TooLarge { .. }), "{e}");
    assert!(
        e.to_string().contains("includes nest deeper than 16"),
        "{e}"
    );
}

#[test]
fn glob_matches_as_fnmatch() {
    for (pattern, name, hit) in [
        ("*.res", "r0.res", true),
        ("*.res", "r0.res~", false),
        ("r?.res", "r0.res", true),
        ("r?.res", "r10.res", false),
        ("r[0-9].res", "r5.res", true),
        ("r[!0-9].res", "r5.res", false),
        ("r[!0-9].res", "rx.res", true),
        ("[]].res", "].res", true),
        ("a*b*c", "abxbc", true),
        ("a*b*c", "abxb", false),
        ("[unclosed", "[unclosed", true),
    ] {
        assert_eq!(
            matches(pattern.as_bytes(), name.as_bytes()),
            hit,
            "{pattern} {name}"
        );
    }
}

/// A FIFO at an included name does not block the reader (the open is non-blocking and the
/// type checked), and a directory is not read as a file.
#[test]
fn real_files_refuse_what_is_not_a_regular_file() {
    let dir = std::env::temp_dir().join(format!("drbdconf-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("fifo.res");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
    let conf = dir.join("drbd.conf");
    std::fs::write(&conf, "include \"*.res\";\n").unwrap();
    let started = std::time::Instant::now();
    let e = DrbdConf::load(&conf, &RealFiles).unwrap_err();
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    assert!(
        e.to_string().contains("fifo.res: not a regular file"),
        "{e}"
    );
    std::fs::remove_file(&fifo).unwrap();
    std::fs::write(
        dir.join("r0.res"),
        "resource r0 { net { allow-two-primaries yes; } }\n",
    )
    .unwrap();
    let c = DrbdConf::load(&conf, &RealFiles).unwrap();
    assert!(c.resource("r0").unwrap().allows_two_primaries());
    let e = DrbdConf::load(&dir, &RealFiles).unwrap_err();
    assert!(e.to_string().contains("not a regular file"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}
