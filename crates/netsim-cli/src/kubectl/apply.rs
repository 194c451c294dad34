//! `kubectl apply -f`: create what does not exist, three-way-merge what does, with the
//! `last-applied-configuration` annotation; also `create -f` (create only).
//!
//! A netsim `Cluster` (or kind `Cluster`) document shapes a new cluster; a
//! `KubeProxyConfiguration` sets kube-proxy's options. A source whose YAML does not parse
//! contributes nothing; other sources still apply, and the exit code is 1, as with kubectl.

use super::{Ctx, Format, dry_run, format, merge, parse, write_options};
use crate::flags::{Flag, b, v};
use crate::sources;
use netsim_manifest::{Item, Source, Validate};
use netsim_model::k8s_openapi::api::core::v1::{Pod, Service};
use netsim_model::labels::map_matches;
use netsim_model::{Kind, Object};
use netsim_print::DryRun;

const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

const FLAGS: &[Flag] = &[
    v("filename", Some('f')),
    b("recursive", Some('R')),
    v("output", Some('o')),
    v("dry-run", None),
    v("validate", None),
    b("server-side", None),
    b("force", None),
    v("selector", Some('l')),
    v("field-manager", None),
    b("save-config", None),
];

/// Whether objects that exist are updated (`apply`) or refused (`create`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `kubectl apply`.
    Apply,
    /// `kubectl create -f`.
    Create,
}

/// `kubectl apply`.
pub fn run(ctx: &mut Ctx, args: &[String]) -> Result<(), String> {
    run_mode(ctx, args, Mode::Apply)
}

/// `kubectl apply` or `kubectl create -f`.
pub fn run_mode(ctx: &mut Ctx, args: &[String], mode: Mode) -> Result<(), String> {
    let verb = if mode == Mode::Apply {
        "apply"
    } else {
        "create"
    };
    let a = parse(verb, args, FLAGS)?;
    let mut files = a.values("filename");
    // `netsim apply PATH` is accepted as `-f PATH`.
    files.extend(a.positional.iter().cloned());
    if files.is_empty() {
        return Err("error: must specify one of -f and -k".into());
    }
    let validate = match a.value("validate") {
        None | Some("true") | Some("strict") => Validate::Strict,
        Some("warn") => Validate::Warn,
        Some("false") | Some("ignore") => Validate::Ignore,
        Some(other) => {
            return Err(format!(
                "error: invalid - validate option \"{other}\"; must be one of: strict (or true), warn, ignore (or false)"
            ));
        }
    };
    let dry = dry_run(&a)?;
    let fmt = format(&a)?;
    let ns_flag = a.value("namespace").map(str::to_string);
    let loaded = sources::read_all(&files, a.flag("recursive"))?;

    // kubectl prints every error after the objects that did apply.
    let mut errors: Vec<(String, Option<String>)> = Vec::new();
    let mut items: Vec<(String, Result<Item, netsim_manifest::ManifestError>)> = Vec::new();
    for l in &loaded {
        match netsim_manifest::parse_each(
            &Source {
                name: &l.name,
                text: &l.text,
            },
            validate,
        ) {
            Ok(parsed) => items.extend(parsed.into_iter().map(|i| (l.name.clone(), i))),
            Err(e) => items.push((l.name.clone(), Err(e))),
        }
    }

    // Cluster documents first: they decide what cluster the objects land in.
    for (_, item) in &items {
        if let Ok(Item::Cluster(doc)) = item {
            for w in &doc.warnings {
                ctx.out.errln(w);
            }
            match &ctx.sim {
                None => {
                    ctx.create_cluster(doc.config.clone())?;
                    ctx.out
                        .outln(format!("cluster.netsim.dev/{} created", doc.name));
                }
                Some(sim) if sim.config() == &doc.config => ctx
                    .out
                    .outln(format!("cluster.netsim.dev/{} unchanged", doc.name)),
                Some(_) => {
                    ctx.out.fail("error: a cluster of another shape already exists: its nodes and address ranges are fixed once created");
                    ctx.out.hint(
                        "run 'netsim reset' to start a new cluster from this Cluster document",
                    );
                }
            }
        }
    }

    let mut printed: Vec<Object> = Vec::new();
    let mut applied_services: Vec<(String, String)> = Vec::new();
    for (file, item) in items {
        let item = match item {
            Ok(i) => i,
            Err(e) => {
                errors.push((e.message(), e.hint()));
                continue;
            }
        };
        match item {
            Item::Cluster(_) => {}
            Item::OutsideHosts(doc) => {
                let sim = ctx.sim()?;
                sim.add_outside_hosts(doc.hosts);
                ctx.out
                    .outln(format!("outsidehosts.netsim.dev/{} configured", doc.name));
            }
            Item::KubeProxy(doc) => {
                let sim = ctx.sim()?;
                sim.set_kube_proxy_config(doc.raw);
                ctx.out
                    .outln("kubeproxyconfiguration.kubeproxy.config.k8s.io/config configured");
            }
            Item::Object(doc) => {
                for w in &doc.warnings {
                    ctx.out.errln(w);
                }
                let mut object = doc.object;
                let kind = object.kind();
                if kind.info().namespaced {
                    let doc_ns = object
                        .metadata()
                        .namespace
                        .clone()
                        .filter(|n| !n.is_empty());
                    let ns = match (&doc_ns, &ns_flag) {
                        (Some(d), Some(f)) if d != f => {
                            errors.push((format!(
                                "error: the namespace from the provided object \"{d}\" does not match the namespace \"{f}\". You must pass '--namespace={d}' to perform this operation."
                            ), None));
                            continue;
                        }
                        (Some(d), _) => d.clone(),
                        (None, Some(f)) => f.clone(),
                        (None, None) => "default".to_string(),
                    };
                    object.metadata_mut().namespace = Some(ns);
                }
                let ns = object.metadata().namespace.clone();
                if mode == Mode::Apply || a.flag("save-config") {
                    let la = netsim_manifest::last_applied(&doc.applied, ns.as_deref());
                    object
                        .metadata_mut()
                        .annotations
                        .get_or_insert_with(Default::default)
                        .insert(LAST_APPLIED.into(), la);
                }
                if kind == Kind::Service {
                    applied_services
                        .push((ns.clone().unwrap_or_default(), object.name().to_string()));
                }
                match apply_one(ctx, object, &file, mode, dry) {
                    Ok((stored, verb)) => {
                        if fmt == Format::Table {
                            ctx.out
                                .outln(netsim_print::message(kind, stored.name(), verb, dry));
                        }
                        if verb == "configured" && dry == DryRun::None {
                            super::corefile_hint(ctx.out, &stored);
                        }
                        if verb != "unchanged"
                            && dry == DryRun::None
                            && let Some(sim) = ctx.sim.as_ref()
                        {
                            super::ingress_hint(ctx.out, sim, &stored);
                        }
                        if fmt != Format::Table {
                            printed.push(stored);
                        }
                    }
                    Err(message) => errors.push((message, None)),
                }
            }
        }
    }
    if !printed.is_empty() {
        let single = printed.len() == 1;
        super::print_objects(ctx.out, &printed, &fmt, single)?;
    }
    for (message, hint) in errors {
        ctx.out.fail(message);
        if let Some(h) = hint {
            ctx.out.hint(h);
        }
    }
    if dry == DryRun::None {
        selector_hints(ctx, &applied_services)?;
    }
    Ok(())
}

fn apply_one(
    ctx: &mut Ctx,
    object: Object,
    file: &str,
    mode: Mode,
    dry: DryRun,
) -> Result<(Object, &'static str), String> {
    let sim = ctx.sim()?;
    let key = object.key();
    let live = sim.store().get(&key).cloned();
    let opts = write_options(dry);
    match (live, mode) {
        (None, _) => {
            if dry == DryRun::Client {
                return Ok((object, "created"));
            }
            let stored = sim
                .create(object, opts)
                .map_err(|e| e.with_file(file, "creating"))?;
            Ok((stored, "created"))
        }
        (Some(_), Mode::Create) => Err(netsim_engine::ApiError::AlreadyExists {
            kind: key.kind,
            name: key.name.clone(),
        }
        .with_file(file, "creating")),
        (Some(live), Mode::Apply) => {
            let last: Option<serde_json::Value> = live
                .metadata()
                .annotations
                .as_ref()
                .and_then(|a| a.get(LAST_APPLIED))
                .and_then(|s| serde_json::from_str(s).ok());
            let merged_json = merge::three_way(&live.to_json(), last.as_ref(), &object.to_json());
            let merged =
                Object::from_json(key.kind, merged_json).map_err(|e| format!("error: {e}"))?;
            if dry == DryRun::Client {
                let verb = if merged == live {
                    "unchanged"
                } else {
                    "configured"
                };
                return Ok((merged, verb));
            }
            let (stored, changed) = sim.replace(merged, opts).map_err(|e| match e {
                netsim_engine::ApiError::Invalid { .. } => e.to_string(),
                other => other.with_file(file, "applying patch to"),
            })?;
            Ok((stored, if changed { "configured" } else { "unchanged" }))
        }
    }
}

/// The lesson's headless Service selects `app: kubserve2`: when a Service selects no pod but
/// a pod has a label one typo away, say so.
fn selector_hints(ctx: &mut Ctx, services: &[(String, String)]) -> Result<(), String> {
    let mut hints = Vec::new();
    {
        let sim = ctx.sim()?;
        for (ns, name) in services {
            let Some(svc) = sim.store().typed::<Service>(ns, name) else {
                continue;
            };
            let Some(selector) = svc
                .spec
                .as_ref()
                .and_then(|s| s.selector.as_ref())
                .filter(|s| !s.is_empty())
            else {
                continue;
            };
            let pods: Vec<&Pod> = sim.store().list_typed::<Pod>(Some(ns)).collect();
            if pods
                .iter()
                .any(|p| map_matches(selector, p.metadata.labels.as_ref()))
            {
                continue;
            }
            for (k, want) in selector {
                let near = pods
                    .iter()
                    .filter_map(|p| p.metadata.labels.as_ref()?.get(k))
                    .filter(|have| *have != want && super::edit_distance(have, want) <= 2)
                    .min();
                if let Some(have) = near {
                    hints.push(format!(
                        "service/{name} selects {k}={want}, but no pod has that label; pods here are labelled {k}={have} — a typo in the selector? Its endpoints stay empty until it matches."
                    ));
                }
            }
        }
    }
    for h in hints {
        ctx.out.hint(h);
    }
    Ok(())
}
