//! `kubectl label` and `kubectl annotate`: `key=value` sets, `key-` removes, `--overwrite`
//! guards existing keys, with kubectl's messages. An annotation changes no behaviour — the
//! lesson's `annotate service kubeserve2 externalTrafficPolicy=Local` gets a hint saying so.

use super::{Ctx, dry_run, parse, write_options};
use crate::flags::{Flag, b, v};
use std::collections::BTreeMap;

const FLAGS: &[Flag] = &[
    b("overwrite", None),
    b("all", None),
    v("selector", Some('l')),
    super::DRY_RUN,
    v("output", Some('o')),
    b("list", None),
    v("resource-version", None),
    v("filename", Some('f')),
];

/// Which metadata map the command edits.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// `kubectl label`.
    Labels,
    /// `kubectl annotate`.
    Annotations,
}

/// Spec fields people try to set with annotate.
const SPEC_FIELDS: &[&str] = &[
    "externalTrafficPolicy",
    "internalTrafficPolicy",
    "sessionAffinity",
    "type",
    "replicas",
    "clusterIP",
    "loadBalancerIP",
];

/// `kubectl label` / `kubectl annotate`.
pub fn run(ctx: &mut Ctx, args: &[String], which: Which) -> Result<(), String> {
    let cmd = if which == Which::Labels {
        "label"
    } else {
        "annotate"
    };
    let a = parse(cmd, args, FLAGS)?;
    let dry = dry_run(ctx, &a)?;
    let ns = super::namespace(&a);
    // Resource arguments come first; `k=v` and `k-` are the changes.
    let (changes, resources): (Vec<String>, Vec<String>) = a
        .positional
        .iter()
        .cloned()
        .partition(|p| p.contains('=') || (p.ends_with('-') && !p.contains('/')));
    let mut set: BTreeMap<String, String> = BTreeMap::new();
    let mut remove: Vec<String> = Vec::new();
    for c in &changes {
        if let Some((k, v)) = c.split_once('=') {
            set.insert(k.to_string(), v.to_string());
        } else if let Some(k) = c.strip_suffix('-') {
            remove.push(k.to_string());
        }
    }
    let pairs = super::type_and_names(&resources)?;
    if pairs.is_empty() {
        return Err("error: one or more resources must be specified as <resource> <name> or <resource>/<name>".into());
    }
    if set.is_empty() && remove.is_empty() && !a.flag("list") {
        return Err(format!(
            "error: at least one {} update is required",
            if which == Which::Labels {
                "label"
            } else {
                "annotation"
            }
        ));
    }
    // `TYPE -l SELECTOR` and `TYPE --all` expand to every matching object.
    let selector = match a.value("selector") {
        Some(sel) => {
            Some(netsim_model::labels::Selector::parse(sel).map_err(|e| format!("error: {e}"))?)
        }
        None => None,
    };
    let mut targets = Vec::new();
    for (kind, name) in pairs {
        match name {
            Some(n) => targets.push((kind, n)),
            None if selector.is_some() || a.flag("all") => {
                let filter_ns = if kind.info().namespaced {
                    Some(ns.as_str())
                } else {
                    None
                };
                let sim = ctx.sim()?;
                targets.extend(
                    sim.store()
                        .list(kind, filter_ns)
                        .filter(|o| {
                            selector
                                .as_ref()
                                .is_none_or(|s| s.matches(o.metadata().labels.as_ref()))
                        })
                        .map(|o| (kind, o.name().to_string())),
                );
            }
            None => {
                return Err("error: resource(s) were provided, but no name was specified".into());
            }
        }
    }
    for (kind, name) in targets {
        let sim = ctx.sim()?;
        let mut object = super::get_object(sim, kind, &ns, &name)?;
        let meta = object.metadata_mut();
        let map = match which {
            Which::Labels => meta.labels.get_or_insert_with(BTreeMap::new),
            Which::Annotations => meta.annotations.get_or_insert_with(BTreeMap::new),
        };
        if !a.flag("overwrite") {
            for (k, v) in &set {
                if let Some(old) = map.get(k).filter(|old| *old != v) {
                    return Err(match which {
                        Which::Labels => format!(
                            "error: '{k}' already has a value ({old}), and --overwrite is false"
                        ),
                        Which::Annotations => format!(
                            "error: --overwrite is false but found the following declared annotation(s): '{k}' already has a value ({old})"
                        ),
                    });
                }
            }
        }
        let before = map.clone();
        for (k, v) in &set {
            map.insert(k.clone(), v.clone());
        }
        for k in &remove {
            map.remove(k);
        }
        let changed = *map != before;
        if map.is_empty() {
            match which {
                Which::Labels => meta.labels = None,
                Which::Annotations => meta.annotations = None,
            }
        }
        let sim = ctx.sim()?;
        sim.replace(object, write_options(dry))
            .map_err(|e| e.to_string())?;
        let verb = match (which, changed) {
            (Which::Labels, true) => "labeled",
            (Which::Labels, false) => "not labeled",
            (Which::Annotations, _) => "annotated",
        };
        ctx.out.outln(netsim_print::message(kind, &name, verb, dry));
        if which == Which::Annotations {
            for (k, v) in &set {
                if SPEC_FIELDS.contains(&k.as_str()) {
                    let value = if v.parse::<i64>().is_ok() {
                        v.clone()
                    } else {
                        format!("\"{v}\"")
                    };
                    ctx.out.hint(format!(
                        "an annotation is only a note: nothing reads '{k}' there, so the {} behaves as before. {k} is a spec field: kubectl patch {} {name} -p '{{\"spec\":{{\"{k}\":{value}}}}}'",
                        kind.info().singular,
                        kind.info().singular
                    ));
                }
            }
        }
    }
    Ok(())
}
