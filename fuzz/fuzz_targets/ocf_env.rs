//! The OCF environment and parameter parsing: `ocf::Env::from_vars`, then every `Params`
//! getter and each agent's parameter reader against that agent's own metadata.
//!
//! Input: the first byte picks the agent; the rest is lines `KEY=VALUE`. A key `#N` names the
//! agent's N-th declared parameter, `+name` is `OCF_RESKEY_name`, `@name` is
//! `OCF_RESKEY_CRM_meta_name`; any other key is taken as is.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ocf::metadata::ParamKind;
use ocf::{Action, Agent, Context, Env, Metadata, Params};
use std::time::Duration;

const AGENTS: [&str; 5] = [
    apache_clone::Agent::METADATA,
    ipaddr2::Agent::METADATA,
    drbd_dualprimary::Agent::METADATA,
    dlm_controld_wrapper::Agent::METADATA,
    gfs2_fs::Agent::METADATA,
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let which = usize::from(pick) % AGENTS.len();
    let Ok(metadata) = Metadata::parse(AGENTS[which]) else {
        panic!("agent {which}: its own metadata does not parse");
    };
    let text = String::from_utf8_lossy(rest);
    let vars: Vec<(String, String)> = text
        .lines()
        .filter_map(|line| {
            let (key, value) = line.split_once('=')?;
            let key = if let Some(n) = key.strip_prefix('#') {
                let n: usize = n.parse().ok()?;
                let spec = metadata.params.get(n % metadata.params.len().max(1))?;
                format!("OCF_RESKEY_{}", spec.name)
            } else if let Some(name) = key.strip_prefix('+') {
                format!("OCF_RESKEY_{name}")
            } else if let Some(name) = key.strip_prefix('@') {
                format!("OCF_RESKEY_CRM_meta_{name}")
            } else {
                key.to_owned()
            };
            Some((key, value.to_owned()))
        })
        .collect();
    let Ok(env) = Env::from_vars(vars) else {
        return;
    };
    let _ = (env.is_probe(), env.instance_base(), env.debug());

    // Every getter, by the declared type, on a fresh Params.
    let params = Params::new(metadata.clone(), &env);
    let _ = params.unknown();
    for spec in &metadata.params {
        let name = spec.name.as_str();
        let _ = (params.is_set(name), params.string(name));
        match &spec.kind {
            ParamKind::Boolean => drop(params.bool(name)),
            ParamKind::Integer => {
                let _ = params.int_opt(name, i64::MIN, i64::MAX);
                let _ = params.int_opt(name, 0u32, 100);
            }
            ParamKind::Select(_) => drop(params.choice(name, &[])),
            ParamKind::String => {
                let _ = params.duration_opt(name, Duration::from_secs(1));
                let _ = params.choice(name, &["true", "false", "safe"]);
            }
        }
    }

    // The agent's own readers (what every action runs first), under the bad-configuration
    // rule's fallback to defaults (which must always end). The rule's probe/stop hook is not
    // run: it looks at the host (ipaddr2's would enter a network namespace).
    let ctx = Context::new(Action::Stop, env);
    let params = Params::new(metadata, &ctx.env);
    match which {
        0 => parse::<apache_clone::Agent>(&ctx, &params),
        1 => parse::<ipaddr2::Agent>(&ctx, &params),
        2 => parse::<drbd_dualprimary::Agent>(&ctx, &params),
        3 => parse::<dlm_controld_wrapper::Agent>(&ctx, &params),
        _ => parse::<gfs2_fs::Agent>(&ctx, &params),
    }
});

fn parse<A: Agent>(ctx: &Context, params: &Params) {
    if let Ok(identity) = <A::Identity as ocf::Identity>::parse(params, ctx) {
        let (settings, _errors) = ocf::config::settings_with_defaults::<A>(params, &identity, ctx);
        assert!(settings.is_ok(), "the settings must parse from their defaults");
    }
}
