//! Checks every agent's own tests run, so no agent can forget them. These panic on a
//! failed check, as test helpers do.
#![allow(clippy::missing_panics_doc)]

use crate::action::Action;
use crate::agent::{Agent, Context};
use crate::deadline::Deadline;
use crate::env::Env;
use crate::metadata::Metadata;
use crate::params::Params;
use std::collections::BTreeSet;

/// A context for `action` with these `OCF_RESKEY_*`-less parameters (`("ip", "10.0.0.1")`)
/// and any extra raw variables.
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
    let metadata = Metadata::parse(A::METADATA).expect("agent metadata parses");
    Context {
        action,
        deadline: Deadline::for_timeout(env.meta.timeout),
        params: Params::new(metadata, &env),
        env,
    }
}

/// Assert that the agent's metadata is what the project promises (OCF 1.1, the agent's
/// name) and that parsing `params` reads exactly the parameters the XML declares: the
/// parameter list in the XML and the agent's parser cannot drift apart.
pub fn assert_params_match_metadata<A: Agent>(params: &[(&str, &str)]) {
    let ctx = context::<A>(Action::ValidateAll, params, &[]);
    let metadata = ctx.params.metadata().clone();
    assert_eq!(
        metadata.ocf_version,
        "1.1",
        "{} must declare OCF 1.1",
        A::NAME
    );
    assert_eq!(metadata.name, A::NAME, "metadata name");
    if let Err(e) = A::from_context(&ctx) {
        panic!("the fixture parameters must parse: {e}");
    }
    let declared: BTreeSet<String> = metadata.params.iter().map(|p| p.name.clone()).collect();
    let read = ctx.params.read_names();
    let not_read: Vec<_> = declared.difference(&read).collect();
    let undeclared: Vec<_> = read.difference(&declared).collect();
    assert!(
        not_read.is_empty() && undeclared.is_empty(),
        "{}: declared in XML but never read: {not_read:?}; read but not declared: {undeclared:?}",
        A::NAME
    );
    for p in &metadata.params {
        if let (crate::metadata::ParamKind::Boolean, Some(d)) = (&p.kind, &p.default) {
            assert!(
                crate::params::parse_bool(d).is_some(),
                "{}: boolean {} has default {d:?}",
                A::NAME,
                p.name
            );
        }
    }
}
