//! Checks every agent's own tests run, so no agent can forget them, and the few helpers
//! that build what `ocf::run` would hand an agent. These panic on a failed check, as test
//! helpers do.
#![allow(clippy::missing_panics_doc)]

use crate::action::Action;
use crate::agent::{Agent, Context, Identity, Settings};
use crate::config::{self, Resolution};
use crate::env::Env;
use crate::error::Result;
use crate::metadata::{Metadata, ParamKind};
use crate::params::Params;
use std::collections::BTreeSet;

/// A context for `action` with these `OCF_RESKEY_*`-less parameters (`("ip", "10.0.0.1")`)
/// and any extra raw variables (`OCF_RESKEY_CRM_meta_clone_max`, `HA_RSCTMP`).
pub fn context<A: Agent>(
    action: Action,
    params: &[(&str, &str)],
    vars: &[(&str, &str)],
) -> Context {
    let all = params
        .iter()
        .map(|(k, v)| (format!("OCF_RESKEY_{k}"), (*v).to_owned()))
        .chain(vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())))
        .chain(std::iter::once((
            "OCF_RESOURCE_INSTANCE".to_owned(),
            "test".to_owned(),
        )));
    let env = Env::from_vars(all).expect("test environment parses");
    Context::new(action, env)
}

/// The parameters of `ctx`, read against `A`'s metadata.
pub fn params<A: Agent>(ctx: &Context) -> Params {
    Params::new(
        Metadata::parse(A::METADATA).expect("agent metadata parses"),
        &ctx.env,
    )
}

/// `A`'s identity and settings for `ctx`, parsed strictly (as validate-all does, without the
/// rule's defaults).
pub fn parse<A: Agent>(ctx: &Context) -> Result<(A::Identity, A::Settings)> {
    let params = params::<A>(ctx);
    let identity = <A::Identity as Identity>::parse(&params, ctx)?;
    let settings = <A::Settings as Settings<A::Identity>>::parse(&params, &identity, ctx)?;
    Ok((identity, settings))
}

/// What `ocf::run` decides for `ctx` under the bad-configuration rule.
pub fn resolve<A: Agent>(ctx: &Context) -> Resolution<A::Identity, A::Settings> {
    config::resolve::<A>(ctx, &params::<A>(ctx))
}

/// Assert what the project promises of an agent's configuration, with `params` a fixture
/// that sets every parameter to a good value:
/// - the metadata declares OCF 1.1 (or 1.0 with `reload` and no `reload-agent`: an agent
///   whose settings Pacemaker must reload without a restart, through its legacy rule, since
///   ocf-tester's DTD refuses `reload-agent` and `reloadable`) and the agent's name, and
///   parses;
/// - [`Identity::PARAMS`] names declared parameters, and every required parameter is in it;
/// - the identity parser reads exactly the identity's parameters, the settings parser
///   exactly the others: the XML and the parsers cannot drift apart;
/// - the settings parse from the XML defaults alone (the bad-configuration rule relies on
///   it), and every boolean default is a boolean.
pub fn assert_params_match_metadata<A: Agent>(params: &[(&str, &str)]) {
    let ctx = context::<A>(Action::ValidateAll, params, &[]);
    let all = self::params::<A>(&ctx);
    let metadata = all.metadata().clone();
    let legacy_reload = metadata.ocf_version == "1.0"
        && metadata.has_action("reload")
        && !metadata.has_action("reload-agent");
    assert!(
        metadata.ocf_version == "1.1" || legacy_reload,
        "{} must declare OCF 1.1 (1.0 only to have its settings reloaded with `reload`), not {}",
        A::NAME,
        metadata.ocf_version
    );
    assert_eq!(metadata.name, A::NAME, "metadata name");

    let declared: BTreeSet<String> = metadata.params.iter().map(|p| p.name.clone()).collect();
    let identity_names: BTreeSet<String> = <A::Identity as Identity>::PARAMS
        .iter()
        .map(|n| (*n).to_owned())
        .collect();
    let undeclared: Vec<_> = identity_names.difference(&declared).collect();
    assert!(
        undeclared.is_empty(),
        "{}: IDENTITY names parameters the XML does not declare: {undeclared:?}",
        A::NAME
    );
    for p in metadata.params.iter().filter(|p| p.required) {
        assert!(
            identity_names.contains(&p.name),
            "{}: required parameter {} must be part of the identity",
            A::NAME,
            p.name
        );
    }

    let identity = match <A::Identity as Identity>::parse(&all, &ctx) {
        Ok(i) => i,
        Err(e) => panic!("{}: the fixture's identity must parse: {e}", A::NAME),
    };
    assert_eq!(
        all.read_names(),
        identity_names,
        "{}: the identity parser must read exactly IDENTITY",
        A::NAME
    );
    let for_settings = all.rejecting([]);
    if let Err(e) = <A::Settings as Settings<A::Identity>>::parse(&for_settings, &identity, &ctx) {
        panic!("{}: the fixture's settings must parse: {e}", A::NAME);
    }
    let settings_names: BTreeSet<String> = declared.difference(&identity_names).cloned().collect();
    let read = for_settings.read_names();
    let not_read: Vec<_> = settings_names.difference(&read).collect();
    let foreign: Vec<_> = read.difference(&settings_names).collect();
    assert!(
        not_read.is_empty() && foreign.is_empty(),
        "{}: settings declared in XML but never read: {not_read:?}; read by the settings \
         parser but not settings: {foreign:?}",
        A::NAME
    );

    let only_identity: Vec<(&str, &str)> = params
        .iter()
        .copied()
        .filter(|(k, _)| <A::Identity as Identity>::PARAMS.contains(k))
        .collect();
    let ctx = context::<A>(Action::Stop, &only_identity, &[]);
    let defaults = self::params::<A>(&ctx);
    let identity = match <A::Identity as Identity>::parse(&defaults, &ctx) {
        Ok(i) => i,
        Err(e) => panic!("{}: the fixture's identity must parse alone: {e}", A::NAME),
    };
    if let Err(e) = <A::Settings as Settings<A::Identity>>::parse(&defaults, &identity, &ctx) {
        panic!(
            "{}: the settings must parse from their XML defaults alone (the \
             bad-configuration rule falls back to them): {e}",
            A::NAME
        );
    }

    for p in &metadata.params {
        if let (ParamKind::Boolean, Some(d)) = (&p.kind, &p.default) {
            assert!(
                crate::params::parse_bool(d).is_some(),
                "{}: boolean {} has default {d:?}",
                A::NAME,
                p.name
            );
        }
    }
}
