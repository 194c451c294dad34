//! kubectl's verbs on the simulated cluster, with kubectl's flags, messages, errors and exit
//! codes. Each verb parses its flags ([`crate::flags`]), acts through the engine's API-server
//! calls, and prints through `netsim-print`; none of them computes cluster state itself.

mod annotate;
mod apply;
mod create;
mod delete;
mod describe;
mod edit;
mod expose;
mod fields;
mod get;
mod logs;
mod merge;
mod patch;
mod run;
mod scale;

use crate::flags::{self, Args, Flag};
use crate::output::Output;
use netsim_engine::Sim;
use netsim_model::{ClusterConfig, Kind, Object};
use netsim_print::DryRun;

/// What a verb works with: the cluster (created on first use), the output, and whether think
/// time passes afterwards.
pub struct Ctx<'a> {
    /// The cluster, if one exists yet.
    pub sim: Option<Sim>,
    /// Where output goes.
    pub out: &'a mut Output,
    /// `--seed` for a new cluster.
    pub seed: Option<u64>,
    /// Whether the think-time step follows this command.
    pub think: bool,
    /// Variables `netsim shell` exported (they win over the process environment).
    pub env: std::collections::BTreeMap<String, String>,
}

impl Ctx<'_> {
    /// An environment variable as the command sees it.
    pub fn env_var(&self, name: &str) -> Option<String> {
        self.env
            .get(name)
            .cloned()
            .or_else(|| std::env::var(name).ok())
    }
}

impl Ctx<'_> {
    /// The cluster, creating the default one on first use.
    pub fn sim(&mut self) -> Result<&mut Sim, String> {
        if self.sim.is_none() {
            self.create_cluster(ClusterConfig::default())?;
        }
        self.sim
            .as_mut()
            .ok_or_else(|| "error: no cluster".to_string())
    }

    /// The cluster and the output, borrowed together.
    pub fn parts(&mut self) -> Result<(&mut Sim, &mut Output), String> {
        self.sim()?;
        match self.sim.as_mut() {
            Some(sim) => Ok((sim, &mut *self.out)),
            None => Err("error: no cluster".into()),
        }
    }

    /// Builds the cluster from `config` (the `--seed` flag wins over the document's seed).
    pub fn create_cluster(&mut self, mut config: ClusterConfig) -> Result<(), String> {
        if let Some(seed) = self.seed {
            config.seed = seed;
        }
        self.sim = Some(Sim::new(config).map_err(|e| format!("error: {e}"))?);
        Ok(())
    }
}

/// Runs kubectl verb `cmd` with `args`.
pub fn dispatch(ctx: &mut Ctx, cmd: &str, args: &[String]) {
    let result = match cmd {
        "apply" => apply::run(ctx, args),
        "get" => get::run(ctx, args),
        "describe" => describe::run(ctx, args),
        "delete" => delete::run(ctx, args),
        "create" => create::run(ctx, args),
        "run" => run::run(ctx, args),
        "scale" => scale::run(ctx, args),
        "expose" => expose::run(ctx, args),
        "label" => annotate::run(ctx, args, annotate::Which::Labels),
        "annotate" => annotate::run(ctx, args, annotate::Which::Annotations),
        "patch" => patch::run(ctx, args),
        "edit" => edit::run(ctx, args),
        "logs" => logs::run(ctx, args),
        "exec" => crate::node::exec(ctx, args),
        "port-forward" | "cp" | "attach" | "debug" | "top" => Err(format!(
            "error: netsim does not simulate `kubectl {cmd}` yet: commands inside pods arrive with pod networking"
        )),
        "version" => {
            ctx.out.outln("Client Version: v1.32.4");
            ctx.out.outln("Kustomize Version: v5.5.0");
            let v = ctx
                .sim()
                .map(|s| s.config().kubernetes_version.clone())
                .unwrap_or_default();
            ctx.out.outln(format!("Server Version: {v}"));
            Ok(())
        }
        "api-resources" => {
            api_resources(ctx);
            Ok(())
        }
        other => Err(format!(
            "error: unknown command \"{other}\" for \"kubectl\"{}",
            suggest_command(other)
                .map(|s| format!("\n\nDid you mean this?\n\t{s}\n"))
                .unwrap_or_default()
        )),
    };
    match result {
        // The verb printed its own error (and hint) already.
        Err(message) if message.is_empty() => ctx.out.code = 1,
        Err(message) => ctx.out.fail(message),
        Ok(()) => {}
    }
}

const COMMANDS: &[&str] = &[
    "annotate",
    "api-resources",
    "apply",
    "create",
    "delete",
    "describe",
    "edit",
    "expose",
    "get",
    "label",
    "logs",
    "patch",
    "run",
    "scale",
    "version",
    "wait",
    "reset",
    "snapshot",
    "resume",
    "convert",
];

fn suggest_command(typed: &str) -> Option<&'static str> {
    COMMANDS
        .iter()
        .copied()
        .filter(|c| edit_distance(c, typed) <= 2)
        .min_by_key(|c| edit_distance(c, typed))
}

/// Levenshtein distance (for "did you mean").
/// After a change to the `coredns` ConfigMap: when CoreDNS will run it.
pub fn corefile_hint(out: &mut crate::output::Output, object: &netsim_model::Object) {
    if object.kind() == Kind::ConfigMap
        && object.namespace() == "kube-system"
        && object.name() == "coredns"
    {
        out.hint("CoreDNS runs the new Corefile once the kubelet has refreshed the mounted ConfigMap and the reload plugin has noticed it: within about 2 minutes (`netsim wait 2m`, then `kubectl logs` shows \"Reloading complete\")");
    }
}

/// After an Ingress is written: say so when nothing will route it.
pub fn ingress_hint(out: &mut crate::output::Output, sim: &Sim, object: &netsim_model::Object) {
    let netsim_model::Object::Ingress(ing) = object else {
        return;
    };
    if sim.ingress_nginx_serves(ing) {
        if !sim.ingress_nginx_installed() {
            out.hint("no ingress-nginx controller runs yet, so nothing routes this Ingress: `netsim apply -f scenarios/ingress-nginx.yaml`");
        }
        return;
    }
    match ing.spec.as_ref().and_then(|s| s.ingress_class_name.as_deref()) {
        Some(class) => out.hint(format!(
            "no ingress controller serves IngressClass \"{class}\": this Ingress routes nothing (netsim has ingress-nginx: `netsim apply -f scenarios/ingress-nginx.yaml`, class nginx)"
        )),
        None => out.hint("this Ingress names no ingressClassName and no IngressClass is the default: no controller picks it up; add `ingressClassName: nginx`"),
    }
}

pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

fn api_resources(ctx: &mut Ctx) {
    let mut w = netsim_print::TabWriter::for_get();
    w.write_str("NAME\tSHORTNAMES\tAPIVERSION\tNAMESPACED\tKIND\n");
    let mut kinds = Kind::ALL.to_vec();
    kinds.sort_by_key(|k| k.info().plural);
    for k in kinds {
        let i = k.info();
        w.write_str(&format!(
            "{}\t{}\t{}\t{}\t{}\n",
            i.plural,
            i.short.join(","),
            k.api_version(),
            i.namespaced,
            i.kind
        ));
    }
    ctx.out.out(w.finish());
}

/// Parses flags, with kubectl's usage error on failure.
pub fn parse(cmd: &str, args: &[String], flags: &[Flag]) -> Result<Args, String> {
    flags::parse(cmd, args, flags)
}

/// `-n`, or `default`.
pub fn namespace(args: &Args) -> String {
    args.value("namespace").unwrap_or("default").to_string()
}

/// `--dry-run=none|client|server`.
pub fn dry_run(args: &Args) -> Result<DryRun, String> {
    match args.value("dry-run") {
        None | Some("none") => Ok(DryRun::None),
        Some("client") => Ok(DryRun::Client),
        Some("server") => Ok(DryRun::Server),
        Some(other) => Err(format!(
            "error: Invalid dry-run value ({other}). Must be \"none\", \"server\", or \"client\"."
        )),
    }
}

/// A resource type as typed (`svc`, `deployments.apps`), or kubectl's error.
pub fn resolve_kind(name: &str) -> Result<Kind, String> {
    Kind::resolve(name)
        .ok_or_else(|| format!("error: the server doesn't have a resource type \"{name}\""))
}

/// The output formats of `-o`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// The default table.
    Table,
    /// `-o wide`.
    Wide,
    /// `-o yaml`.
    Yaml,
    /// `-o json`.
    Json,
    /// `-o name`.
    Name,
    /// `-o jsonpath=TEMPLATE`.
    JsonPath(String),
    /// `-o custom-columns=SPEC`.
    CustomColumns(String),
}

/// Parses `-o`.
pub fn format(args: &Args) -> Result<Format, String> {
    let Some(o) = args.value("output") else {
        return Ok(Format::Table);
    };
    let (name, arg) = match o.split_once('=') {
        Some((n, a)) => (n, Some(a.to_string())),
        None => (o, None),
    };
    Ok(match (name, arg) {
        ("wide", None) => Format::Wide,
        ("yaml", None) => Format::Yaml,
        ("json", None) => Format::Json,
        ("name", None) => Format::Name,
        ("jsonpath", Some(t)) => Format::JsonPath(strip_quotes(&t)),
        ("custom-columns", Some(t)) => Format::CustomColumns(t),
        _ => {
            return Err(format!(
                "error: unable to match a printer suitable for the output format \"{o}\", allowed formats are: custom-columns,custom-columns-file,go-template,go-template-file,json,jsonpath,jsonpath-as-json,jsonpath-file,name,template,templatefile,wide,yaml"
            ));
        }
    })
}

fn strip_quotes(t: &str) -> String {
    let t = t.trim();
    for q in ['\'', '"'] {
        if let Some(inner) = t.strip_prefix(q).and_then(|s| s.strip_suffix(q)) {
            return inner.to_string();
        }
    }
    t.to_string()
}

/// Prints `objects` in a non-table format: one object as itself (`single`), several as a
/// `List`.
pub fn print_objects(
    out: &mut Output,
    objects: &[Object],
    format: &Format,
    single: bool,
) -> Result<(), String> {
    let values: Vec<serde_json::Value> = objects.iter().map(Object::to_json).collect();
    match format {
        Format::Yaml if single && values.len() == 1 => out.out(netsim_print::to_yaml(&values[0])),
        Format::Yaml => out.out(netsim_print::list_to_yaml(values)),
        Format::Json if single && values.len() == 1 => out.out(netsim_print::to_json(&values[0])),
        Format::Json => out.out(netsim_print::list_to_json(values)),
        Format::Name => {
            for o in objects {
                out.outln(netsim_print::object_name(o.kind(), o.name()));
            }
        }
        Format::JsonPath(t) => {
            let path = netsim_print::JsonPath::parse(t).map_err(|e| {
                format!(
                    "error: {}",
                    netsim_print::jsonpath::parse_error_message(t, &e)
                )
            })?;
            let data = if single && values.len() == 1 {
                values[0].clone()
            } else {
                netsim_print::yaml::list_value(values)
            };
            let text = path
                .execute(&data)
                .map_err(|e| format!("error: error executing jsonpath {t:?}: {e}"))?;
            out.out(text);
        }
        Format::CustomColumns(spec) => {
            let text = netsim_print::custom_columns(spec, &values, false)
                .map_err(|e| format!("error: {e}"))?;
            out.out(text);
        }
        Format::Table | Format::Wide => {}
    }
    Ok(())
}

/// Splits `TYPE NAME...` or `TYPE/NAME ...` arguments into (kind, name) pairs; a bare `TYPE`
/// gives an empty name list.
pub fn type_and_names(positional: &[String]) -> Result<Vec<(Kind, Option<String>)>, String> {
    let Some(first) = positional.first() else {
        return Ok(vec![]);
    };
    if first.contains('/') {
        return positional
            .iter()
            .map(|p| {
                let (t, n) = p.split_once('/').ok_or_else(|| {
                    "error: there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'kubectl get resource/<resource_name>' instead of 'kubectl get resource resource/<resource_name>'".to_string()
                })?;
                Ok((resolve_kind(t)?, Some(n.to_string())))
            })
            .collect();
    }
    let kind = resolve_kind(first)?;
    if positional.len() == 1 {
        return Ok(vec![(kind, None)]);
    }
    Ok(positional[1..]
        .iter()
        .map(|n| (kind, Some(n.clone())))
        .collect())
}

/// The stored object or the API's NotFound text.
pub fn get_object(sim: &Sim, kind: Kind, ns: &str, name: &str) -> Result<Object, String> {
    sim.store()
        .get_named(kind, ns, name)
        .cloned()
        .ok_or_else(|| {
            netsim_engine::ApiError::NotFound {
                kind,
                name: name.to_string(),
            }
            .to_string()
        })
}

/// The write options for a dry-run mode.
pub fn write_options(dry: DryRun) -> netsim_engine::WriteOptions {
    netsim_engine::WriteOptions {
        dry_run: dry != DryRun::None,
    }
}
