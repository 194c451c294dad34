//! `kubectl describe`: by exact name, else every object whose name starts with the given
//! prefix (kubectl's fallback), or every object of the type in the namespace.

use super::{Ctx, parse};
use crate::flags::{Flag, b, v};
use netsim_model::Object;
use netsim_model::labels::Selector;

pub(crate) const FLAGS: &[Flag] = &[
    v("selector", Some('l')),
    b("all-namespaces", Some('A')),
    b("show-events", None),
    v("filename", Some('f')),
    v("chunk-size", None),
];

/// `kubectl describe`.
pub fn run(ctx: &mut Ctx, args: &[String]) -> Result<(), String> {
    let a = parse("describe", args, FLAGS)?;
    if a.positional.is_empty() {
        return Err("You must specify the type of resource to describe. Use \"kubectl api-resources\" for a complete list of supported resources.\nerror: Required resource not specified.".into());
    }
    let pairs = super::type_and_names(&a.positional)?;
    let ns = super::namespace(&a);
    let all_ns = a.flag("all-namespaces");
    let selector = match a.value("selector") {
        Some(s) => Some(Selector::parse(s).map_err(|e| format!("error: {e}"))?),
        None => None,
    };
    let sim = ctx.sim()?;
    let now = sim.now();
    let store = sim.store();
    let mut text = String::new();
    let mut errors = Vec::new();
    for (kind, name) in pairs {
        let filter_ns = if all_ns || !kind.info().namespaced {
            None
        } else {
            Some(ns.as_str())
        };
        match name {
            None => {
                let objects: Vec<&Object> = store
                    .list(kind, filter_ns)
                    .filter(|o| {
                        selector
                            .as_ref()
                            .is_none_or(|s| s.matches(o.metadata().labels.as_ref()))
                    })
                    .collect();
                if objects.is_empty() {
                    errors.push(if all_ns || !kind.info().namespaced {
                        "No resources found".to_string()
                    } else {
                        format!("No resources found in {ns} namespace.")
                    });
                    continue;
                }
                text.push_str(&netsim_print::describe::describe_list(&objects, store, now));
            }
            Some(name) => {
                if let Some(o) = store.get_named(kind, &ns, &name) {
                    text.push_str(&netsim_print::describe(o, store, now));
                    continue;
                }
                let matches: Vec<&Object> = store
                    .list(kind, filter_ns)
                    .filter(|o| o.name().starts_with(&name))
                    .collect();
                if matches.is_empty() {
                    errors.push(netsim_engine::ApiError::NotFound { kind, name }.to_string());
                } else {
                    text.push_str(&netsim_print::describe::describe_prefix_matches(
                        &matches, store, now,
                    ));
                }
            }
        }
    }
    ctx.out.out(text);
    for e in errors {
        if e.starts_with("No resources") {
            ctx.out.errln(e);
        } else {
            ctx.out.fail(e);
        }
    }
    Ok(())
}
