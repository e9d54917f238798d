//! Parameter parsing and the bad-configuration rule, without privileges.

use crate::Agent;
use crate::config::{Broadcast, Config};
use ocf::config::Resolution;
use ocf::{Action, Status, testing};
use std::net::IpAddr;
use std::time::Duration;

fn config(params: &[(&str, &str)]) -> Result<Config, ocf::Error> {
    let ctx = testing::context::<Agent>(Action::ValidateAll, params, &[]);
    let (identity, settings) = testing::parse::<Agent>(&ctx)?;
    Ok(Config { identity, settings })
}

#[test]
fn params_match_metadata() {
    testing::assert_params_match_metadata::<Agent>(&[("ip", "192.0.2.10"), ("arp_bg", "true")]);
}

#[test]
fn defaults_follow_ipaddr2() {
    let c = config(&[("ip", "192.0.2.10")]).unwrap();
    assert_eq!(c.identity.ip, "192.0.2.10".parse::<IpAddr>().unwrap());
    assert_eq!(
        (
            c.identity.nic.clone(),
            c.settings.prefix,
            c.settings.broadcast
        ),
        (None, None, Broadcast::Auto)
    );
    assert_eq!(c.settings.arp_count, 5);
    assert_eq!(c.settings.arp_interval, Duration::from_millis(200));
    assert_eq!(c.settings.arp_count_refresh, 0);
    assert!(c.settings.arp_bg, "arp_bg defaults to true for IPv4");
    assert!(c.settings.check_link_status);
    assert!(
        !c.settings.lvs_support
            && !c.settings.run_arping
            && !c.settings.nodad
            && !c.settings.flush_routes
    );
    assert_eq!(c.settings.preferred_lft, None);
    let c6 = config(&[("ip", "2001:db8::1")]).unwrap();
    assert!(!c6.settings.arp_bg, "arp_bg defaults to false for IPv6");
}

#[test]
fn accepted_spellings() {
    let c = config(&[
        ("ip", "10.0.0.5"),
        ("nic", "eth0:vip"),
        ("netmask", "255.255.255.0"),
        ("broadcast", "+"),
        ("proto", "kernel"),
        ("preferred_lft", "0"),
        ("arp_sender", "iputils_arping"),
        ("send_arp_opts", "-A -c 3"),
        ("arp_bg", "no"),
    ])
    .unwrap();
    assert_eq!(c.identity.nic.as_deref(), Some("eth0"));
    assert_eq!(c.label("eth0").as_deref(), Some("eth0:vip"));
    assert_eq!(c.settings.prefix, Some(24));
    assert_eq!(c.settings.broadcast, Broadcast::Plus);
    assert_eq!(c.settings.proto, Some(2));
    assert_eq!(c.settings.preferred_lft, Some(0));
    assert!(c.settings.arp_reply && !c.settings.arp_bg);
    let c = config(&[("ip", "10.0.0.5"), ("cidr_netmask", "16"), ("netmask", "8")]).unwrap();
    assert_eq!(
        c.settings.prefix,
        Some(16),
        "cidr_netmask wins over the alias"
    );
    let c = config(&[
        ("ip", "2001:DB8:0:0::1"),
        ("cidr_netmask", "64"),
        ("proto", "186"),
    ])
    .unwrap();
    assert_eq!(c.identity.ip.to_string(), "2001:db8::1", "RFC 5952 form");
    assert_eq!(c.settings.proto, Some(186));
}

/// Parameters, then the name and value the reason must show.
type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);

/// Every bad value of every parameter: OCF_ERR_CONFIGURED, with the parameter and the
/// value in the reason.
#[test]
fn every_bad_value_is_6_naming_the_parameter() {
    let v4 = ("ip", "192.0.2.10");
    let v6 = ("ip", "2001:db8::1");
    let cases: &[Case] = &[
        (&[("ip", "192.0.2.300")], "ip", "192.0.2.300"),
        (&[("ip", "eth0")], "ip", "eth0"),
        (&[("ip", "0.0.0.0")], "ip", "0.0.0.0"),
        (&[("ip", "224.0.0.1")], "ip", "224.0.0.1"),
        (&[("ip", "ff02::1")], "ip", "ff02::1"),
        (&[v4, ("nic", "a/b")], "nic", "a/b"),
        (
            &[v4, ("nic", "averyveryverylongname")],
            "nic",
            "averyveryverylongname",
        ),
        (&[v4, ("nic", "eth 0")], "nic", "eth 0"),
        (&[v4, ("cidr_netmask", "33")], "cidr_netmask", "33"),
        (&[v4, ("cidr_netmask", "0")], "cidr_netmask", "0"),
        (
            &[v4, ("cidr_netmask", "255.0.255.0")],
            "cidr_netmask",
            "255.0.255.0",
        ),
        (&[v4, ("cidr_netmask", "x")], "cidr_netmask", "x"),
        (&[v6, ("cidr_netmask", "129")], "cidr_netmask", "129"),
        (
            &[v6, ("cidr_netmask", "255.255.0.0")],
            "cidr_netmask",
            "255.255.0.0",
        ),
        (&[v4, ("netmask", "40")], "netmask", "40"),
        (&[v4, ("broadcast", "10.0.0")], "broadcast", "10.0.0"),
        (&[v4, ("iflabel", "has space")], "iflabel", "has space"),
        (
            &[v4, ("nic", "eth0"), ("iflabel", "toolonglabel")],
            "iflabel",
            "toolonglabel",
        ),
        (&[v4, ("proto", "nosuchproto")], "proto", "nosuchproto"),
        (&[v4, ("proto", "300")], "proto", "300"),
        (&[v4, ("lvs_support", "maybe")], "lvs_support", "maybe"),
        (&[v6, ("lvs_support", "true")], "lvs_support", "true"),
        (&[v4, ("arp_interval", "0")], "arp_interval", "0"),
        (&[v4, ("arp_interval", "fast")], "arp_interval", "fast"),
        (&[v4, ("arp_count", "0")], "arp_count", "0"),
        (&[v4, ("arp_count", "-1")], "arp_count", "-1"),
        (&[v4, ("arp_count_refresh", "x")], "arp_count_refresh", "x"),
        (&[v4, ("arp_bg", "sometimes")], "arp_bg", "sometimes"),
        (&[v4, ("arp_sender", "nc")], "arp_sender", "nc"),
        (&[v4, ("flush_routes", "2")], "flush_routes", "2"),
        (
            &[v4, ("run_arping", "yesplease")],
            "run_arping",
            "yesplease",
        ),
        (&[v4, ("nodad", "x")], "nodad", "x"),
        (&[v4, ("noprefixroute", "x")], "noprefixroute", "x"),
        (&[v4, ("preferred_lft", "later")], "preferred_lft", "later"),
        (&[v4, ("preferred_lft", "-5")], "preferred_lft", "-5"),
        (
            &[v4, ("network_namespace", "../etc")],
            "network_namespace",
            "../etc",
        ),
        (
            &[v4, ("network_namespace", "..")],
            "network_namespace",
            "..",
        ),
        (&[v4, ("check_link_status", "x")], "check_link_status", "x"),
    ];
    for (params, name, value) in cases {
        let e = config(params).expect_err(&format!("{params:?} must be rejected"));
        assert_eq!(e.status(), Status::ErrConfigured, "{params:?}: {e}");
        assert!(
            e.reason().contains(&format!("{name}=\"{value}\"")),
            "{params:?}: reason {:?} must name {name} and {value}",
            e.reason()
        );
    }
    let e = config(&[]).unwrap_err();
    assert_eq!(e.status(), Status::ErrConfigured);
    assert!(e.reason().contains("ip"), "{e}");
}

#[test]
fn load_sharing_parameters_are_out_of_scope() {
    let v4 = ("ip", "192.0.2.10");
    for (name, value) in [
        ("mac", "01:00:5e:00:00:01"),
        ("clusterip_hash", "sourceip"),
        ("clusterip_firewall", "nft"),
        ("clusterip_hash_seed", "42"),
        ("clusterip_table", "mangle"),
        ("clusterip_chain", "PREROUTING"),
        ("unique_clone_address", "true"),
        ("clusterip_mac_mangle", "yes"),
        ("lvs_ipv6_addrlabel", "true"),
    ] {
        let e = config(&[v4, (name, value)]).unwrap_err();
        assert_eq!(e.status(), Status::ErrConfigured, "{name}");
        assert!(e.reason().contains(name), "{e}");
        assert!(e.reason().contains("out of scope"), "{e}");
    }
    assert!(config(&[v4, ("unique_clone_address", "false")]).is_ok());
    let ctx = testing::context::<Agent>(
        Action::Start,
        &[v4],
        &[
            ("OCF_RESKEY_CRM_meta_clone_max", "2"),
            ("OCF_RESKEY_CRM_meta_globally_unique", "true"),
        ],
    );
    let e = crate::config::check_meta(&ctx.env.meta).unwrap_err();
    assert!(e.reason().contains("out of scope"), "{e}");
}

/// The bad-configuration rule (ocf::config) for ipaddr2: a bad setting fails start, while
/// probe, monitor and stop go on with the XML default; a stop whose ip cannot be read has
/// nothing of ours to remove.
#[test]
fn a_bad_setting_fails_start_but_not_probe_monitor_or_stop() {
    let bad = [("ip", "192.0.2.10"), ("arp_count", "many")];
    let recurring = [("OCF_RESKEY_CRM_meta_interval", "10000")];
    for (action, vars) in [
        (Action::Monitor, &[][..]),
        (Action::Monitor, &recurring[..]),
        (Action::Stop, &[][..]),
    ] {
        let ctx = testing::context::<Agent>(action, &bad, vars);
        match testing::resolve::<Agent>(&ctx) {
            Resolution::Run(_, settings) => assert_eq!(settings.arp_count, 5, "{action}"),
            Resolution::Finish(r) => panic!("{action} did not run: {r:?}"),
        }
    }
    let start = testing::context::<Agent>(Action::Start, &bad, &[]);
    match testing::resolve::<Agent>(&start) {
        Resolution::Finish(Err(e)) => {
            assert_eq!(e.status(), Status::ErrConfigured);
            assert!(e.reason().contains("arp_count=\"many\""), "{e}");
        }
        other => panic!("start must refuse: {other:?}"),
    }
    let unreadable = [("ip", "not-an-ip")];
    for (action, answer) in [
        (Action::Stop, Status::Success),
        (Action::Monitor, Status::NotRunning),
    ] {
        let ctx = testing::context::<Agent>(action, &unreadable, &[]);
        match testing::resolve::<Agent>(&ctx) {
            Resolution::Finish(r) => assert_eq!(r, Ok(answer), "{action}"),
            Resolution::Run(..) => panic!("{action} ran without an address"),
        }
    }
}

/// Issue 13: arp_sender=ipoibarping was accepted and nothing was announced on IPoIB. The
/// agent sends Ethernet announcements only, so the IPoIB sender is refused where refusals
/// belong (validate-all and start: 6, naming it); probe, monitor and stop run on the
/// identity as the bad-configuration rule says.
#[test]
fn ipoibarping_is_refused_with_the_reason() {
    let params = [("ip", "10.0.0.10"), ("arp_sender", "ipoibarping")];
    let e = config(&params).unwrap_err();
    assert_eq!(e.status(), Status::ErrConfigured);
    assert_eq!(e.param(), Some("arp_sender"));
    assert!(e.reason().contains("InfiniBand"), "{e}");
    for action in [Action::Monitor, Action::Stop] {
        let ctx = testing::context::<Agent>(action, &params, &[]);
        assert!(
            matches!(testing::resolve::<Agent>(&ctx), Resolution::Run(..)),
            "{action} runs on the identity"
        );
    }
    for sender in ["send_arp", "iputils_arping", "libnet_arping"] {
        assert!(config(&[("ip", "10.0.0.10"), ("arp_sender", sender)]).is_ok());
    }
}
