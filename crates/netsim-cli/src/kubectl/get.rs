//! `kubectl get`: tables (one per type, `kind/name` prefixes when several types), `-o
//! wide|yaml|json|name|jsonpath|custom-columns`, `-l`, `-A`, and `-w`, which watches over
//! virtual time and ends when nothing more is going to change (or at `--timeout`).

use super::{Ctx, Format, format, parse, resolve_kind};
use crate::flags::{Flag, b, v};
use netsim_engine::time::parse_duration;
use netsim_model::jiff::SignedDuration;
use netsim_model::labels::Selector;
use netsim_model::{Kind, Object, ObjectKey};
use netsim_print::TableOptions;
use std::collections::BTreeMap;

pub(crate) const FLAGS: &[Flag] = &[
    v("output", Some('o')),
    v("selector", Some('l')),
    b("all-namespaces", Some('A')),
    b("watch", Some('w')),
    b("watch-only", None),
    b("no-headers", None),
    b("show-labels", None),
    b("ignore-not-found", None),
    v("timeout", None),
    v("chunk-size", None),
    v("filename", Some('f')),
    v("field-selector", None),
    v("sort-by", None),
    b("show-kind", None),
];

/// A request: which kinds, and which names (none = all).
struct Request {
    kinds: Vec<Kind>,
    names: Vec<String>,
    with_prefix: bool,
}

fn request(positional: &[String]) -> Result<Request, String> {
    let Some(first) = positional.first() else {
        return Err("You must specify the type of resource to get. Use \"kubectl api-resources\" for a complete list of supported resources.\n\nerror: Required resource not specified.\nUse \"kubectl explain <resource>\" for a detailed description of that resource (e.g. kubectl explain pods).\nSee 'kubectl get -h' for help and examples".into());
    };
    if positional.iter().any(|p| p.contains('/')) {
        let pairs = super::type_and_names(positional)?;
        let mut kinds: Vec<Kind> = pairs.iter().map(|(k, _)| *k).collect();
        kinds.dedup();
        return Ok(Request {
            with_prefix: true,
            names: pairs.into_iter().filter_map(|(_, n)| n).collect(),
            kinds,
        });
    }
    let mut kinds = Vec::new();
    let mut with_prefix = false;
    for t in first.split(',') {
        if t == "all" {
            kinds.extend(Kind::ALL_CATEGORY);
            with_prefix = true;
        } else {
            kinds.push(resolve_kind(t)?);
        }
    }
    if first.contains(',') {
        with_prefix = true;
    }
    Ok(Request {
        kinds,
        names: positional[1..].to_vec(),
        with_prefix,
    })
}

/// `kubectl get`.
pub fn run(ctx: &mut Ctx, args: &[String]) -> Result<(), String> {
    let a = parse("get", args, FLAGS)?;
    let req = request(&a.positional)?;
    let fmt = format(&a)?;
    let all_ns = a.flag("all-namespaces");
    if all_ns && !req.names.is_empty() {
        // The resource builder refuses before it asks the server anything.
        return Err(
            "error: a resource cannot be retrieved by name across all namespaces".to_string(),
        );
    }
    let ns = super::namespace(&a);
    let selector = match a.value("selector") {
        Some(s) => Some(Selector::parse(s).map_err(|e| format!("error: {e}"))?),
        None => None,
    };
    let fields = match a.value("field-selector") {
        Some(f) => Some(super::fields::FieldSelector::parse(f)?),
        None => None,
    };
    if let Some(f) = &fields {
        for &kind in &req.kinds {
            f.check(kind)?;
        }
    }
    let opts = TableOptions {
        wide: fmt == Format::Wide,
        all_namespaces: all_ns,
        with_kind_prefix: req.with_prefix || a.flag("show-kind"),
        no_headers: a.flag("no-headers"),
        show_labels: a.flag("show-labels"),
    };
    let watching = a.flag("watch") || a.flag("watch-only");
    let (sim, out) = ctx.parts()?;
    // The listing borrows from the store: at scale a copy of every listed object would be
    // most of the command's memory and time.
    let mut groups: Vec<(Kind, Vec<&Object>)> = Vec::new();
    let mut errors = Vec::new();
    for &kind in &req.kinds {
        let namespaced = kind.info().namespaced;
        let mut objects = Vec::new();
        if req.names.is_empty() {
            let filter_ns = if all_ns || !namespaced {
                None
            } else {
                Some(ns.as_str())
            };
            objects.extend(sim.store().list(kind, filter_ns).filter(|o| {
                selector
                    .as_ref()
                    .is_none_or(|s| s.matches(o.metadata().labels.as_ref()))
                    && fields.as_ref().is_none_or(|f| f.matches(o))
            }));
        } else {
            for name in &req.names {
                match sim.store().get_named(kind, &ns, name) {
                    Some(o) => objects.push(o),
                    None if a.flag("ignore-not-found") => {}
                    None => errors.push(
                        netsim_engine::ApiError::NotFound {
                            kind,
                            name: name.clone(),
                        }
                        .to_string(),
                    ),
                }
            }
        }
        groups.push((kind, objects));
    }
    let total: usize = groups.iter().map(|(_, o)| o.len()).sum();
    let now = sim.now();
    if watching {
        // The watch runs the cluster on, so it keeps its own copies of what it first saw.
        let first = groups
            .into_iter()
            .next()
            .map(|(kind, objects)| (kind, objects.into_iter().cloned().collect()));
        return watch(ctx, &a, first, &req, &ns, all_ns, selector, opts);
    }
    match &fmt {
        Format::Table | Format::Wide => {
            let text = netsim_print::render_get(&groups, sim.store(), now, &opts);
            out.out(text);
        }
        other => {
            let all: Vec<&Object> = groups.into_iter().flat_map(|(_, o)| o).collect();
            let single = req.names.len() == 1 && req.kinds.len() == 1;
            if !(all.is_empty() && single) {
                super::print_objects(out, &all, other, single)?;
            }
        }
    }
    if total == 0 && errors.is_empty() && matches!(fmt, Format::Table | Format::Wide | Format::Name)
    {
        let cluster_scoped = req.kinds.iter().all(|k| !k.info().namespaced);
        if all_ns || cluster_scoped {
            ctx.out.errln("No resources found");
        } else {
            ctx.out
                .errln(format!("No resources found in {ns} namespace."));
        }
    }
    for e in errors {
        ctx.out.fail(e);
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn watch(
    ctx: &mut Ctx,
    a: &crate::flags::Args,
    first: Option<(Kind, Vec<Object>)>,
    req: &Request,
    ns: &str,
    all_ns: bool,
    selector: Option<Selector>,
    opts: TableOptions,
) -> Result<(), String> {
    let limit = match a.value("timeout") {
        Some(t) => parse_duration(t).map_err(|e| format!("error: {e}"))?,
        // A watch ends when nothing more is scheduled; this only bounds a runaway.
        None => SignedDuration::from_secs(600),
    };
    let Some((kind, initial)) = first else {
        return Ok(());
    };
    let mut printer = netsim_print::WatchPrinter::new(kind, opts);
    let sim = ctx.sim()?;
    let deadline = sim.now() + limit;
    let mut last_seen: BTreeMap<ObjectKey, Object> =
        initial.iter().map(|o| (o.key(), o.clone())).collect();
    let mut text = String::new();
    if !a.flag("watch-only") {
        let refs: Vec<&Object> = initial.iter().collect();
        text.push_str(&printer.initial(&refs, sim.store(), sim.now()));
    }
    let wanted = |key: &ObjectKey, object: &Object| -> bool {
        key.kind == kind
            && (all_ns || !kind.info().namespaced || key.namespace == ns)
            && (req.names.is_empty() || req.names.contains(&key.name))
            && selector
                .as_ref()
                .is_none_or(|s| s.matches(object.metadata().labels.as_ref()))
    };
    sim.watch_changes();
    while let Some(next) = sim.next_event_at() {
        if next > deadline {
            break;
        }
        sim.advance_to(next);
        for key in sim.take_changes() {
            let current = sim.store().get(&key).cloned();
            let shown = match &current {
                Some(o) => o.clone(),
                None => match last_seen.get(&key) {
                    Some(o) => o.clone(),
                    None => continue,
                },
            };
            if !wanted(&key, &shown) {
                continue;
            }
            text.push_str(&printer.row(&shown, sim.store(), sim.now()));
            match current {
                Some(o) => last_seen.insert(key, o),
                None => last_seen.remove(&key),
            };
        }
    }
    ctx.out.out(text);
    Ok(())
}
