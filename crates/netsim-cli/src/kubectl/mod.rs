//! kubectl's verbs on the simulated cluster, with kubectl's flags, messages, errors and exit
//! codes. Each verb parses its flags ([`crate::flags`]), acts through the engine's API-server
//! calls, and prints through `netsim-print`; none of them computes cluster state itself.

mod annotate;
mod apply;
mod create;
mod delete;
pub(crate) mod describe;
mod edit;
mod expose;
mod fields;
pub(crate) mod get;
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
    /// The progress line of a long command.
    pub progress: crate::progress::Progress,
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
    if cmd.starts_with('-') {
        // `kubectl -n kube-system get pods`: global flags may come before the verb.
        let mut all = vec![cmd.to_string()];
        all.extend_from_slice(args);
        return match leading_flags(&all) {
            Ok((verb, rest)) => dispatch(ctx, &verb, &rest),
            Err(message) => {
                ctx.out.fail(message);
                ctx.out.hint("netsim's own flags (--state, --now, --no-hints, --seed) go before the command; kubectl's -n/--namespace may too");
            }
        };
    }
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
                // Cobra's suggestion ends with a line break, which kubectl does not double.
                .map(|s| format!("\n\nDid you mean this?\n\t{s}"))
                .unwrap_or_default()
        )),
    };
    match result {
        // The verb printed its own error (and hint) already.
        Err(message) if message.is_empty() => ctx.out.code = 1,
        Err(message) => {
            ctx.out.fail(&message);
            if let Some(h) = hint_for(&message) {
                ctx.out.hint(h);
            }
        }
        Ok(()) => {}
    }
}

/// Moves global flags written before the verb after it, as cobra finds the command past them
/// (`kubectl -n kube-system get pods`). An unknown flag there is cobra's error at the root.
fn leading_flags(args: &[String]) -> Result<(String, Vec<String>), String> {
    let mut flags = Vec::new();
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        if !arg.starts_with('-') || arg == "-" {
            let mut rest = args[i + 1..].to_vec();
            rest.extend(flags);
            return Ok((arg.clone(), rest));
        }
        let long = arg.starts_with("--");
        let bare = arg.trim_start_matches('-');
        let (name, inline) = if long {
            match bare.split_once('=') {
                Some((n, _)) => (n, true),
                None => (bare, false),
            }
        } else {
            // `-n kube-system`, `-nkube-system`, `-n=kube-system`.
            let first = bare.chars().next().map_or(0, char::len_utf8);
            (&bare[..first], bare.len() > first)
        };
        let known = flags::GLOBAL.iter().find(|f| {
            if long {
                f.long == name
            } else {
                name.chars().next() == f.short
            }
        });
        let Some(flag) = known else {
            return Err(if long {
                format!("error: unknown flag: --{name}\nSee 'kubectl --help' for usage.")
            } else {
                format!(
                    "error: unknown shorthand flag: '{name}' in {arg}\nSee 'kubectl --help' for usage."
                )
            });
        };
        flags.push(arg.clone());
        if flag.takes == flags::Takes::Value && !inline {
            let Some(value) = args.get(i + 1) else {
                return Err(format!(
                    "error: flag needs an argument: {arg}\nSee 'kubectl --help' for usage."
                ));
            };
            flags.push(value.clone());
            i += 1;
        }
        i += 1;
    }
    Err("error: a command is required after the flags; see `netsim --help`".to_string())
}

/// A teaching hint for some of kubectl's and the API server's errors: the name or value that
/// was probably meant, or what a limit is about.
pub fn hint_for(message: &str) -> Option<String> {
    if let Some(h) = invalid_value_hint(message) {
        return Some(h);
    }
    let quoted = |prefix: &str| {
        let rest = message.strip_prefix(prefix)?;
        Some(rest.split('"').next().unwrap_or(""))
    };
    if let Some(typed) = quoted("error: the server doesn't have a resource type \"") {
        // Full names only: against two-letter short names every short word is "close".
        let typed = typed.to_ascii_lowercase();
        let allowed = if typed.chars().count() <= 4 { 1 } else { 2 };
        let best = Kind::ALL
            .iter()
            .flat_map(|k| [k.info().plural, k.info().singular])
            .filter(|n| edit_distance(n, &typed) <= allowed)
            .min_by_key(|n| edit_distance(n, &typed))?;
        return Some(format!(
            "did you mean \"{best}\"? `kubectl api-resources` lists the types this cluster serves"
        ));
    }
    if let Some(typed) =
        quoted("error: unable to match a printer suitable for the output format \"")
    {
        let name = typed.split('=').next().unwrap_or(typed);
        let best = OUTPUT_FORMATS
            .iter()
            .copied()
            .filter(|f| edit_distance(f, name) <= 2)
            .min_by_key(|f| edit_distance(f, name))?;
        return Some(format!("did you mean `-o {best}`?"));
    }
    None
}

/// Hints for the API server's 422s and size limits, read from their (exact, stable) text.
fn invalid_value_hint(message: &str) -> Option<String> {
    if message.contains("Request entity too large") {
        return Some("the object goes to the API server as JSON, with the last-applied-configuration annotation `kubectl apply` adds (a second copy of it), and a request may hold 3 MiB: keep large data out of the manifest".to_string());
    }
    if message.contains("[]: Too long: must have at most 1048576 bytes") {
        return Some("a ConfigMap holds at most 1 MiB of data (and `kubectl apply` copies the object into an annotation that holds 256 KiB): split the data over several ConfigMaps".to_string());
    }
    if message.contains("metadata.annotations: Too long") {
        return Some("`kubectl apply` keeps a copy of the whole object in the last-applied-configuration annotation, and annotations may hold 256 KiB: create a large object with `kubectl create` (no annotation) instead".to_string());
    }
    // `Unsupported value: "Nodeport": supported values: "ClusterIP", ..., "NodePort"`.
    if let Some(idx) = message.find("Unsupported value: \"") {
        let rest = &message[idx + "Unsupported value: \"".len()..];
        let (written, rest) = rest.split_once('"')?;
        let supported: Vec<&str> = rest
            .split_once("supported values: ")?
            .1
            .lines()
            .next()
            .unwrap_or("")
            .split(", ")
            .map(|v| v.trim_matches('"'))
            .collect();
        let real = supported
            .iter()
            .find(|v| v.eq_ignore_ascii_case(written))
            .or_else(|| {
                supported
                    .iter()
                    .filter(|v| edit_distance(v, written) <= 2)
                    .min_by_key(|v| edit_distance(v, written))
            })?;
        return Some(if real.eq_ignore_ascii_case(written) {
            format!("write \"{real}\" instead of \"{written}\": these values are case-sensitive")
        } else {
            format!("did you mean \"{real}\"? Only the values listed are accepted")
        });
    }
    // Classic first mistakes, by the API server's wording.
    let fixed_hints: &[(&str, &str)] = &[
        (
            "provided port is already allocated",
            "another Service already holds this nodePort (`kubectl get svc -A` shows which): pick another, or leave nodePort out and one is allocated",
        ),
        (
            "nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
            "a nodePort needs `type: NodePort` (or LoadBalancer) in the Service's spec",
        ),
        (
            "`selector` does not match template `labels`",
            "every label of spec.selector.matchLabels must also be in spec.template.metadata.labels, or the Deployment could not find its own pods",
        ),
    ];
    if let Some(range) = message
        .split("provided port is not in the valid range. The range of valid ports is ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
    {
        return Some(format!(
            "NodePorts come from the cluster's range, {range}: pick one there, or leave nodePort out and one is allocated"
        ));
    }
    if let Some((_, h)) = fixed_hints.iter().find(|(m, _)| message.contains(m)) {
        return Some((*h).to_string());
    }
    if message.contains("is invalid")
        && message
            .lines()
            .any(|l| l.contains("spec.ports[") && l.ends_with("].name: Required value"))
    {
        return Some(
            "a Service with several ports must name each one (`name: http`, `name: https`)"
                .to_string(),
        );
    }
    if let Some(idx) = message.find("Error from server (NotFound)")
        && let Some(ns) = message[idx..]
            .split("namespaces \"")
            .nth(1)
            .and_then(|r| r.split('"').next())
    {
        return Some(format!(
            "create the namespace first: `kubectl create namespace {ns}` (or put a Namespace document before the objects in the file)"
        ));
    }
    // Label values and port names: the characters they may not hold, replaced.
    for (marker, rule) in [
        ("\": a valid label must be", "label values"),
        (
            "\": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
            "port names",
        ),
    ] {
        let Some(end) = message.find(marker) else {
            continue;
        };
        let start = message[..end].rfind("Invalid value: \"")? + "Invalid value: \"".len();
        let written = &message[start..end];
        let lower = rule == "port names";
        let fixed: String = written
            .chars()
            .map(|c| match c {
                c if c.is_ascii_alphanumeric() && !(lower && c.is_ascii_uppercase()) => c,
                c if c.is_ascii_uppercase() => c.to_ascii_lowercase(),
                '-' | '_' | '.' if !lower => c,
                _ => '-',
            })
            .collect();
        let fixed = fixed.trim_matches(|c: char| !c.is_ascii_alphanumeric());
        if !fixed.is_empty() && fixed != written {
            return Some(format!(
                "try \"{fixed}\": {rule} hold letters, digits and a few marks, and no spaces"
            ));
        }
    }
    // `metadata.name: Invalid value: "My_Service": a DNS-1035 label must consist of ...`.
    let idx = message.find("metadata.name: Invalid value: \"")?;
    let rest = &message[idx + "metadata.name: Invalid value: \"".len()..];
    let (name, rule) = rest.split_once("\": ")?;
    let (label_only, alpha_first) = if rule.starts_with("a DNS-1035 label") {
        (true, true)
    } else if rule.starts_with("a lowercase RFC 1123 label") {
        (true, false)
    } else if rule.starts_with("a lowercase RFC 1123 subdomain") {
        (false, false)
    } else {
        return None;
    };
    let mut fixed: String = name
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || (c == '.' && !label_only) {
                c
            } else {
                '-'
            }
        })
        .collect();
    let first_ok = |c: char| {
        if alpha_first {
            c.is_ascii_lowercase()
        } else {
            c.is_ascii_alphanumeric()
        }
    };
    fixed = fixed.trim_start_matches(|c: char| !first_ok(c)).to_string();
    fixed = fixed
        .trim_end_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_string();
    if fixed.is_empty() || fixed == name {
        return None;
    }
    let what = if label_only {
        "lower-case letters, digits and '-'"
    } else {
        "lower-case letters, digits, '-' and '.'"
    };
    Some(format!(
        "try the name \"{fixed}\": names here are {what}, starting and ending with a letter or digit"
    ))
}

/// The `-o` formats netsim prints.
const OUTPUT_FORMATS: &[&str] = &["wide", "yaml", "json", "name", "jsonpath", "custom-columns"];

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

/// Go's `strconv.Atoi`, with its error as kubectl prints it (`expose --port`).
pub fn atoi(s: &str) -> Result<i64, String> {
    s.parse::<i64>().map_err(|e| {
        let reason = match e.kind() {
            std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow => {
                "value out of range"
            }
            _ => "invalid syntax",
        };
        format!("error: strconv.Atoi: parsing \"{s}\": {reason}")
    })
}

/// `-n`, or `default`.
pub fn namespace(args: &Args) -> String {
    args.value("namespace").unwrap_or("default").to_string()
}

/// The `--dry-run` flag: `flags::o("dry-run", DRY_RUN_ALONE)`.
pub const DRY_RUN: Flag = flags::o("dry-run", DRY_RUN_ALONE);

/// What `--dry-run` alone stands for (its `NoOptDefVal`).
const DRY_RUN_ALONE: &str = "unchanged";

/// `--dry-run` as read: the strategy, and the deprecation warning kubectl logs for the old
/// forms (its line in kubectl's `cmd/util/helpers.go`, and the message).
pub struct DryRunFlag {
    /// The strategy.
    pub mode: DryRun,
    warning: Option<(u32, String)>,
}

/// `--dry-run=none|client|server` as `GetDryRunStrategy` reads it: alone it means `client`,
/// and a boolean (`strconv.ParseBool`) `client` or `none`, each with a warning.
pub fn dry_run_flag(args: &Args) -> Result<DryRunFlag, String> {
    let plain = |mode| DryRunFlag {
        mode,
        warning: None,
    };
    let value = args.value("dry-run").unwrap_or("none");
    let boolean = flags::go_parse_bool(value);
    Ok(match (value, boolean) {
        (_, Some(b)) => {
            let (mode, instead, line) = if b {
                (DryRun::Client, "client", 716)
            } else {
                (DryRun::None, "none", 719)
            };
            DryRunFlag {
                mode,
                warning: Some((
                    line,
                    format!(
                        "--dry-run={value} is deprecated (boolean value) and can be replaced with --dry-run={instead}."
                    ),
                )),
            }
        }
        (DRY_RUN_ALONE, None) => DryRunFlag {
            mode: DryRun::Client,
            warning: Some((
                702,
                "--dry-run is deprecated and can be replaced with --dry-run=client.".into(),
            )),
        },
        ("none", None) => plain(DryRun::None),
        ("client", None) => plain(DryRun::Client),
        ("server", None) => plain(DryRun::Server),
        (other, None) => {
            return Err(format!(
                "error: Invalid dry-run value ({other}). Must be \"none\", \"server\", or \"client\"."
            ));
        }
    })
}

impl DryRunFlag {
    /// Logs the flag's deprecation warning, if it has one, as kubectl's klog does on stderr:
    /// `W` and the local time (the cluster's clock, in UTC), kubectl's process id (from the
    /// cluster's RNG), the source line.
    pub fn warn(&self, ctx: &mut Ctx) -> Result<(), String> {
        let Some((line, message)) = &self.warning else {
            return Ok(());
        };
        let (sim, out) = ctx.parts()?;
        let now = sim.now();
        let micros = now.as_millisecond().rem_euclid(1000) * 1000;
        let pid = sim.rng().range(1_000, 99_999);
        let stamp = now.strftime("%m%d %H:%M:%S");
        out.errln(format!(
            "W{stamp}.{micros:06} {pid:>7} helpers.go:{line}] {message}"
        ));
        Ok(())
    }
}

/// `--dry-run`'s strategy, its warning logged (see [`dry_run_flag`]).
pub fn dry_run(ctx: &mut Ctx, args: &Args) -> Result<DryRun, String> {
    let flag = dry_run_flag(args)?;
    flag.warn(ctx)?;
    Ok(flag.mode)
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
        ("go-template" | "template", Some(t)) if go_template_problem(&t).is_some() => {
            // What Go's text/template lexer says about the commonest slips.
            let problem = go_template_problem(&t).unwrap_or_default();
            return Err(format!(
                "error: error parsing template {t}, template: output:1: {problem}"
            ));
        }
        (
            "go-template"
            | "template"
            | "go-template-file"
            | "templatefile"
            | "jsonpath-file"
            | "jsonpath-as-json"
            | "custom-columns-file",
            _,
        ) => {
            return Err(format!(
                "error: netsim does not simulate -o {name} yet; -o jsonpath=TEMPLATE or -o custom-columns=SPEC print chosen fields"
            ));
        }
        _ => {
            return Err(format!(
                "error: unable to match a printer suitable for the output format \"{o}\", allowed formats are: custom-columns,custom-columns-file,go-template,go-template-file,json,jsonpath,jsonpath-as-json,jsonpath-file,name,template,templatefile,wide,yaml"
            ));
        }
    })
}

/// An action (`{{`) a Go template never closes, in its lexer's words: a lone `}` is a
/// character no action may hold, else the text ends inside the action.
fn go_template_problem(t: &str) -> Option<&'static str> {
    let mut rest = t;
    while let Some(start) = rest.find("{{") {
        let inside = &rest[start + 2..];
        match inside.find("}}") {
            Some(end) => rest = &inside[end + 2..],
            None if inside.contains('}') => {
                return Some("unrecognized character in action: U+007D '}'");
            }
            None => return Some("unclosed action"),
        }
    }
    None
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
    objects: &[&Object],
    format: &Format,
    single: bool,
) -> Result<(), String> {
    // Only the formats that walk the object's JSON pay for building it.
    let values = || -> Vec<serde_json::Value> { objects.iter().map(|o| o.to_json()).collect() };
    let one = || (single && objects.len() == 1).then(|| objects[0].to_json());
    match format {
        Format::Yaml => match one() {
            Some(v) => out.out(netsim_print::to_yaml(&v)),
            None => out.out(netsim_print::list_to_yaml(values())),
        },
        Format::Json => match one() {
            Some(v) => out.out(netsim_print::to_json(&v)),
            None => out.out(netsim_print::list_to_json(values())),
        },
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
            let data = match one() {
                Some(v) => v,
                None => netsim_print::yaml::list_value(values()),
            };
            let text = path
                .execute(&data)
                .map_err(|e| format!("error: error executing jsonpath {t:?}: {e}"))?;
            out.out(text);
        }
        Format::CustomColumns(spec) => {
            let text = netsim_print::custom_columns(spec, &values(), false)
                .map_err(|e| format!("error: {e}"))?;
            out.out(text);
        }
        Format::Table | Format::Wide => {}
    }
    Ok(())
}

/// The resource builder's `hasCombinedTypeArgs` error (kubectl puts its own name in it).
const MIXED_ARGS: &str = "error: there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'kubectl get resource/<resource_name>' instead of 'kubectl get resource resource/<resource_name>'";

/// Splits `TYPE NAME...` or `TYPE/NAME ...` arguments into (kind, name) pairs; a bare `TYPE`
/// gives an empty name list.
pub fn type_and_names(positional: &[String]) -> Result<Vec<(Kind, Option<String>)>, String> {
    let Some(first) = positional.first() else {
        return Ok(vec![]);
    };
    let slashes = positional.iter().filter(|p| p.contains('/')).count();
    if slashes > 0 && slashes < positional.len() {
        // The resource builder's `hasCombinedTypeArgs`: all in TYPE/NAME form, or none.
        return Err(MIXED_ARGS.to_string());
    }
    if first.contains('/') {
        return positional
            .iter()
            .map(|p| {
                let (t, n) = p.split_once('/').ok_or_else(|| MIXED_ARGS.to_string())?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_args as s;

    /// `--dry-run` as `GetDryRunStrategy` reads each form: the strategy, and the line of
    /// kubectl's helpers.go that logs it as deprecated.
    #[test]
    fn dry_run_reads_the_old_forms_with_kubectls_warnings() {
        let read = |args: &[&str]| {
            let a = flags::parse("create", &s(args), &[DRY_RUN]).map_err(|e| e.to_string())?;
            dry_run_flag(&a).map(|f| (f.mode, f.warning.map(|(line, _)| line)))
        };
        assert_eq!(read(&[]), Ok((DryRun::None, None)));
        assert_eq!(read(&["--dry-run=client"]), Ok((DryRun::Client, None)));
        assert_eq!(read(&["--dry-run=server"]), Ok((DryRun::Server, None)));
        assert_eq!(read(&["--dry-run"]), Ok((DryRun::Client, Some(702))));
        assert_eq!(read(&["--dry-run=true"]), Ok((DryRun::Client, Some(716))));
        assert_eq!(read(&["--dry-run=F"]), Ok((DryRun::None, Some(719))));
        assert_eq!(
            read(&["--dry-run=maybe"]),
            Err("error: Invalid dry-run value (maybe). Must be \"none\", \"server\", or \"client\".".into())
        );
    }
}
