//! `kubectl apply -f`: create what does not exist, three-way-merge what does, with the
//! `last-applied-configuration` annotation; also `create -f` (create only).
//!
//! A netsim `Cluster` (or kind `Cluster`) document shapes a new cluster; a
//! `KubeProxyConfiguration` sets kube-proxy's options. A source whose YAML does not parse
//! contributes nothing; other sources still apply, and the exit code is 1, as with kubectl.

use super::{Ctx, Format, dry_run_flag, format, merge, parse, write_options};
use crate::flags::{Flag, b, v};
use crate::sources;
use netsim_manifest::limits::MAX_OBJECTS;
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
    super::DRY_RUN,
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
    let dry_flag = dry_run_flag(&a)?;
    let dry = dry_flag.mode;
    // kubectl logs a deprecated `--dry-run` form as it reads its flags; without a cluster yet
    // the log waits for the Cluster documents, which decide what cluster there is.
    let mut dry_warning = Some(dry_flag);
    if ctx.sim.is_some()
        && let Some(flag) = dry_warning.take()
    {
        flag.warn(ctx)?;
    }
    let fmt = format(&a)?;
    let ns_flag = a.value("namespace").map(str::to_string);
    let loaded = sources::read_all(&files, a.flag("recursive"))?;

    // kubectl prints every error after the objects that did apply.
    let mut errors: Vec<(String, Option<String>)> = Vec::new();
    let mut items: Vec<(String, Result<Item, netsim_manifest::ManifestError>)> = Vec::new();
    // Hints about a whole source, given after its errors.
    let mut late_hints: Vec<String> = Vec::new();
    for l in &loaded {
        if let Some((line, column)) = l.replaced {
            late_hints.push(format!(
                "{}:{line}:{column}: bytes that are not UTF-8 were read as U+FFFD (\u{FFFD}), as kubectl reads them; save the file as UTF-8",
                l.name
            ));
        }
        let parsed = netsim_manifest::parse_each(
            &Source {
                name: &l.name,
                text: &l.text,
            },
            validate,
        );
        items.extend(parsed.into_iter().map(|i| (l.name.clone(), i)));
    }
    if items.is_empty() {
        // kubectl: nothing decoded and nothing failed.
        return Err(format!("error: no objects passed to {verb}"));
    }
    let objects = items
        .iter()
        .filter(|(_, i)| matches!(i, Ok(Item::Object(_))))
        .count();
    if objects > MAX_OBJECTS {
        ctx.out.fail(format!(
            "error: too many objects: {objects}; netsim applies at most {MAX_OBJECTS} at a time"
        ));
        ctx.out
            .hint("split the manifests and apply them in parts; nothing was applied");
        return Err(String::new());
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

    if let Some(flag) = dry_warning.take() {
        flag.warn(ctx)?;
    }
    let mut printed: Vec<Object> = Vec::new();
    let mut applied_services: Vec<(String, String)> = Vec::new();
    let total = items.len();
    for (done, (file, item)) in items.into_iter().enumerate() {
        ctx.progress
            .step(|| format!("netsim: applying {done}/{total} objects"));
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
                if mode == Mode::Apply && object.name().is_empty() {
                    errors.push((
                        nameless(&object, &file),
                        Some(format!(
                            "give the object a name: add `name:` under `metadata:` in the document at {file}:{}",
                            doc.line
                        )),
                    ));
                    continue;
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
        let printed: Vec<&Object> = printed.iter().collect();
        super::print_objects(ctx.out, &printed, &fmt, single)?;
    }
    for (message, hint) in errors {
        let hint = hint.or_else(|| super::hint_for(&message));
        ctx.out.fail(message);
        if let Some(h) = hint {
            ctx.out.hint(h);
        }
    }
    for h in late_hints {
        ctx.out.hint(h);
    }
    if dry == DryRun::None {
        selector_hints(ctx, &applied_services)?;
    }
    Ok(())
}

/// The API server's limit on a request body (`--max-request-bytes`' default, 3 MiB).
const MAX_REQUEST_BYTES: usize = 3 * 1024 * 1024;

fn apply_one(
    ctx: &mut Ctx,
    object: Object,
    file: &str,
    mode: Mode,
    dry: DryRun,
) -> Result<(Object, &'static str), String> {
    let sim = ctx.sim()?;
    let key = object.key();
    if key.kind == Kind::Event {
        // An Event kept unread may be the live object.
        sim.read_archived_events();
    }
    let live = sim.store().get(&key).cloned();
    let opts = write_options(dry);
    match (live, mode) {
        (None, _) => {
            if dry == DryRun::Client {
                return Ok((object, "created"));
            }
            // The object goes to the server as JSON, last-applied annotation and all; a body
            // over the limit is refused before anything looks at it.
            let body = serde_json::to_string(&object.to_json()).map_or(0, |t| t.len());
            if body > MAX_REQUEST_BYTES {
                return Err(format!(
                    "Error from server (RequestEntityTooLarge): error when creating \"{file}\": Request entity too large: limit is {MAX_REQUEST_BYTES}"
                ));
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

/// Whether a workload in `ns` (a Deployment, ReplicaSet or DaemonSet) makes pods with the
/// labels `selector` asks for, so that the pods are merely on their way.
fn workload_matches(
    sim: &netsim_engine::Sim,
    ns: &str,
    selector: &std::collections::BTreeMap<String, String>,
) -> bool {
    use netsim_model::k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet};
    let matches =
        |labels: Option<&std::collections::BTreeMap<String, String>>| map_matches(selector, labels);
    let template = |t: &netsim_model::k8s_openapi::api::core::v1::PodTemplateSpec| {
        matches(t.metadata.as_ref().and_then(|m| m.labels.as_ref()))
    };
    let store = sim.store();
    store
        .list_typed::<Deployment>(Some(ns))
        .any(|d| d.spec.as_ref().is_some_and(|s| template(&s.template)))
        || store.list_typed::<ReplicaSet>(Some(ns)).any(|r| {
            r.spec
                .as_ref()
                .and_then(|s| s.template.as_ref())
                .is_some_and(template)
        })
        || store
            .list_typed::<DaemonSet>(Some(ns))
            .any(|d| d.spec.as_ref().is_some_and(|s| template(&s.template)))
}

/// `kubectl apply` of an object without a name: it looks the object up before anything else,
/// and the client refuses to ask for an empty name (`generateName` is refused outright).
fn nameless(object: &Object, file: &str) -> String {
    let meta = object.metadata();
    if let Some(generated) = meta.generate_name.as_deref().filter(|g| !g.is_empty()) {
        return format!("error: from {generated}: cannot use generate name with apply");
    }
    let kind = object.kind();
    let info = kind.info();
    let api_version = kind.api_version();
    let (group, version) = api_version.split_once('/').unwrap_or(("", &api_version));
    let namespace = meta.namespace.clone().unwrap_or_default();
    format!(
        "error: error when retrieving current configuration of:\nResource: \"{group}/{version}, Resource={}\", GroupVersionKind: \"{group}/{version}, Kind={}\"\nName: \"\", Namespace: \"{namespace}\"\nfrom server for: \"{file}\": resource name may not be empty",
        info.plural, info.kind
    )
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
            // The store's label index answers the usual case (pods match) without a scan; the
            // namespace's pods are looked through only to explain an empty selection.
            if !sim.store().select_pods(ns, selector).is_empty() {
                continue;
            }
            let pods: Vec<&Pod> = sim.store().list_typed::<Pod>(Some(ns)).collect();
            let before = hints.len();
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
            if hints.len() > before || workload_matches(sim, ns, selector) {
                continue;
            }
            let wanted = selector
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",");
            // Pods that match, but in another namespace: a Service selects only its own.
            let elsewhere = sim
                .store()
                .list_typed::<Pod>(None)
                .filter(|p| map_matches(selector, p.metadata.labels.as_ref()))
                .find_map(|p| p.metadata.namespace.clone());
            hints.push(match elsewhere {
                Some(other) => format!(
                    "service/{name} selects {wanted}: pods with those labels run in namespace {other}, but a Service selects pods of its own namespace ({ns}) only; its endpoints stay empty"
                ),
                None => format!(
                    "service/{name} selects {wanted}, but no pod or workload in namespace {ns} has those labels yet: its endpoints stay empty until pods with them run (`kubectl get pods -l {wanted}`)"
                ),
            });
        }
    }
    for h in hints {
        ctx.out.hint(h);
    }
    Ok(())
}
