//! Dispatch of one invocation: state in, command, think time, state out — and netsim's own
//! commands (`reset`, `wait`, `snapshot`, `resume`, `convert`).

use crate::kubectl::{self, Ctx};
use crate::output::Output;
use crate::progress::Progress;
use crate::state::{Needs, StateDir};
use netsim_engine::time::parse_duration;
use netsim_engine::{Advanced, Sim};
use netsim_model::jiff::{SignedDuration, Timestamp};
use netsim_model::{ClusterConfig, Kind, Object};
use std::collections::BTreeSet;
use std::path::PathBuf;

/// Help text listing the commands.
pub const HELP: &str = "\
Kubernetes commands (also as `netsim kubectl ...`, so `alias kubectl='netsim kubectl'` works):
  apply -f FILE|DIR|-     create or update objects from manifests
  get TYPE[,TYPE] [NAME]  list objects (-o wide|yaml|json|name|jsonpath=...|custom-columns=..., -w, -l, -A)
  describe TYPE [NAME]    show an object in detail
  delete TYPE NAME | -f   delete objects
  create -f | deployment | service | namespace | configmap
  run NAME --image=IMG    create a pod
  scale TYPE/NAME --replicas=N
  expose TYPE NAME --port=P [--target-port=T] [--type=T]
  label | annotate TYPE NAME k=v ...
  patch TYPE NAME -p PATCH [--type=strategic|merge|json]
  edit TYPE [NAME]        edit in $EDITOR
  logs POD                container logs
  exec POD -- CMD         run a command in a pod (cat, nslookup, curl, wget, ping, ip, ...)

netsim commands:
  shell                   an interactive shell: kubectl, ssh NODE, curl, pipes to grep/head/wc
  run FILE [--keep-going] replay a file of shell lines as a transcript (`! CMD` must fail)
  ssh NODE -- CMD         run a command on a node (ip, ifconfig, iptables-save, docker, ...)
  curl [OPTIONS] URL      curl from a client outside the cluster
  trace [--from pod/P|node/N] URL | --icmp ADDR | --dns NAME [--pcap FILE] [--step]
        [--format text|mermaid|svg]
                          every hop of a connection, a ping or a DNS lookup (a capture, one
                          step at a time, or a sequence diagram)
  dns serve [--listen ADDR:PORT] [--rate QPS] [--count N]
                          answer real DNS queries from the cluster's CoreDNS (loopback
                          port 5353 by default; QPS per source address)
  graph [--format dot|mermaid|svg]   draw the cluster: nodes, pods, veths, bridges, tunnels,
                          Services and their endpoints, Ingress rules
  export DIR              the scenario for a real cluster: DIR/kind-cluster.yaml (same shape)
                          and DIR/manifests.yaml (the objects people made, as applied)
  lint FILE|DIR...        what would go wrong applying these: selectors matching nothing,
                          target ports no container exposes, missing Ingress backends,
                          NodePorts out of range or taken
  wait DURATION           let virtual time pass (30s, 2m)
  reset                   forget the cluster; the next command starts a fresh one
  snapshot save FILE      write every object, status included, as multi-document YAML
  snapshot restore FILE [--paused]   load a snapshot as the whole cluster
  resume                  start the control plane after `snapshot restore --paused`
  convert -f FILE         print an old (v1beta1) Ingress as networking.k8s.io/v1
  generate --nodes N --pods P --services S --endpoints-per-service E [--seed N]
                          write a realistic scenario of that size to stdout

Each command runs at the current virtual instant; then a few virtual seconds of think time pass.";

/// Global flags.
pub struct Globals {
    /// State directory.
    pub state: PathBuf,
    /// `--now`.
    pub now: Option<String>,
    /// `--seed`.
    pub seed: Option<u64>,
    /// Variables a `netsim shell` session exported (`EDITOR`, ...).
    pub env: std::collections::BTreeMap<String, String>,
    /// The process ends after this invocation: the cluster is left for the OS to reclaim
    /// rather than freed object by object (a second or more at thousands of nodes). Never
    /// set by `netsim shell`, which runs many invocations in one process.
    pub exits_after: bool,
}

/// `netsim CMD --help`: the command's entries of [`HELP`] (usage, then what it does).
fn usage_of(cmd: &str) -> Option<String> {
    let lines: Vec<&str> = HELP.lines().collect();
    let mut out = String::new();
    for (start, line) in lines.iter().enumerate() {
        let Some(entry) = line.strip_prefix("  ").filter(|l| !l.starts_with(' ')) else {
            continue;
        };
        // `label | annotate TYPE NAME ...` names two commands.
        let names: Vec<&str> = entry.split_whitespace().collect();
        if names.first() != Some(&cmd)
            && !(names.get(1) == Some(&"|") && names.get(2) == Some(&cmd))
        {
            continue;
        }
        // An entry's lines: usage (indented less than the description column), then what it
        // does, after two or more spaces or on lines of its own in the description column.
        let mut usage: Vec<&str> = Vec::new();
        let mut what: Vec<&str> = Vec::new();
        let continued = lines[start + 1..]
            .iter()
            .take_while(|l| l.starts_with("    "));
        for line in std::iter::once(line).chain(continued) {
            let indent = line.len() - line.trim_start().len();
            let text = line.trim();
            if indent >= 26 {
                what.push(text);
            } else if let Some((left, right)) = text.split_once("  ") {
                usage.push(left.trim());
                what.push(right.trim());
            } else {
                usage.push(text);
            }
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&format!("Usage:\n  netsim {}\n", usage.join(" ")));
        if !what.is_empty() {
            out.push_str(&format!("\n{}\n", what.join(" ")));
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Runs one invocation.
pub fn run(globals: &Globals, args: &[String], out: &mut Output) {
    let mut args: &[String] = args;
    if args.first().map(String::as_str) == Some("kubectl") {
        args = &args[1..];
    }
    let Some(cmd) = args.first().cloned() else {
        out.out(format!("{HELP}\n"));
        return;
    };
    let rest = &args[1..];
    // `CMD --help` (before any `--`, after which the words are the remote command's).
    if rest
        .iter()
        .take_while(|a| *a != "--")
        .any(|a| a == "--help" || a == "-h")
    {
        // Commands HELP does not list answer as they would anyway.
        if let Some(usage) = usage_of(&cmd) {
            out.out(usage);
            return;
        }
    }
    if cmd == "convert" {
        convert(rest, out);
        return;
    }
    if cmd == "generate" {
        crate::generate::run(rest, out);
        return;
    }
    let mut dir = match StateDir::open(&globals.state) {
        Ok(d) => d,
        Err(e) => return out.fail(e.to_string()),
    };
    if cmd == "reset" {
        if let Err(e) = dir.clear() {
            out.fail(e.to_string());
        }
        return;
    }
    let only = if globals.now.is_none() {
        kinds_needed(&cmd, rest)
    } else {
        None
    };
    // `apply` and `wait` only add Events (a request about one reads them all: see
    // `Sim::read_archived_events`), and neither does a read-only command's owed time, after
    // which the command loads again: the Events saved before may stay unread.
    let archive_events = matches!(cmd.as_str(), "apply" | "wait") || only.is_some();
    let mut sim = match dir.load(only.as_ref(), archive_events) {
        Ok(s) => s,
        Err(e) => return out.fail(e.to_string()),
    };
    let mut progress = Progress::new();
    if let Some(sim) = sim.as_mut() {
        dir.settle(sim, &mut |a| progress_step(&mut progress, a));
    }
    // A read-only command whose owed think time had something due loaded every kind to run
    // it. Saved as settled and read again with only the kinds the command reads, what the
    // command builds (a 5,000-node cluster's ruleset) takes the room the others held instead
    // of adding to it; its own think time is owed in turn.
    if let Some(needs) = &only
        && !dir.is_partial()
        && let Some(mut settled) = sim.take()
    {
        progress.step(|| "netsim: saving the cluster's state".into());
        if let Err(e) = dir.save(&mut settled) {
            return out.fail(e.to_string());
        }
        drop(settled);
        sim = match dir.load(Some(needs), false) {
            Ok(s) => s,
            Err(e) => return out.fail(e.to_string()),
        };
    }
    if cmd == "lint" {
        // Reads the cluster as it is; changes nothing, saves nothing.
        crate::lint::run(out, sim.as_ref(), rest);
        return;
    }
    if cmd == "dns" && rest.first().map(String::as_str) == Some("serve") {
        // A long-running reader: it serves the state as loaded and must not hold the lock,
        // or every other command would wait for it.
        drop(dir);
        let mut ctx = Ctx {
            sim,
            out,
            seed: globals.seed,
            think: false,
            env: globals.env.clone(),
            progress,
        };
        match ctx.parts() {
            Ok((sim, out)) => crate::dns_serve::serve(out, sim, &rest[1..]),
            Err(e) => ctx.out.fail(e),
        }
        return;
    }
    let mut ctx = Ctx {
        sim,
        out,
        seed: globals.seed,
        think: true,
        env: globals.env.clone(),
        progress,
    };
    if let Some(now) = &globals.now {
        let Ok(to) = now.parse::<Timestamp>() else {
            return ctx.out.fail(format!("error: invalid --now {now:?}: want an RFC 3339 instant such as 2024-01-02T10:00:00Z"));
        };
        let sim = match ctx.sim() {
            Ok(s) => s,
            Err(e) => return ctx.out.fail(e),
        };
        if to < sim.now() {
            let current = sim.now();
            return ctx.out.fail(format!("error: --now {to} is before the cluster's clock ({current}); virtual time only moves forward"));
        }
        sim.advance_to(to);
    }
    match cmd.as_str() {
        "wait" => wait(&mut ctx, rest),
        "resume" => match ctx.sim() {
            Ok(sim) => sim.resume(),
            Err(e) => ctx.out.fail(e),
        },
        "snapshot" => snapshot(&mut ctx, rest),
        "ssh" => crate::node::ssh(&mut ctx, rest),
        "export" => {
            ctx.think = false;
            match ctx.parts() {
                Ok((sim, out)) => crate::export::run(out, sim, rest),
                Err(e) => ctx.out.fail(e),
            }
        }
        "graph" => {
            ctx.think = false;
            match ctx.parts() {
                Ok((sim, out)) => crate::graph::run(out, sim, rest),
                Err(e) => ctx.out.fail(e),
            }
        }
        "curl" | "trace" => match ctx.parts() {
            Ok((sim, out)) => {
                if cmd == "curl" {
                    crate::net::outside_curl(out, sim, rest);
                } else {
                    crate::net::trace(out, sim, rest);
                }
            }
            Err(e) => ctx.out.fail(e),
        },
        _ => kubectl::dispatch(&mut ctx, &cmd, rest),
    }
    let think = ctx.think;
    if let Some(sim) = ctx.sim.as_mut() {
        if think {
            let step = SignedDuration::from_secs(sim.config().think_time_seconds as i64);
            if dir.is_partial() {
                // A read-only command that loaded only what it prints: its think time runs
                // when the next command that loads everything starts.
                dir.owe(step);
            } else {
                advance(sim, step, &mut ctx.progress);
            }
        }
        ctx.progress
            .step(|| "netsim: saving the cluster's state".into());
        if let Err(e) = dir.save(sim) {
            ctx.out.fail(e.to_string());
        }
    }
    if globals.exits_after
        && let Some(sim) = ctx.sim.take()
    {
        std::mem::forget(sim);
    }
}

/// Runs `by` of virtual time, with the progress line.
fn advance(sim: &mut Sim, by: SignedDuration, progress: &mut Progress) {
    sim.advance_watched(by, &mut |a| progress_step(progress, a));
}

/// The progress line while virtual time runs.
fn progress_step(progress: &mut Progress, a: Advanced) {
    progress.step(|| {
        format!(
            "netsim: running the cluster: {} of virtual time",
            crate::progress::virtual_time(a.done_ms, a.total_ms)
        )
    })
}

/// What a command reads, when it reads only objects of some kinds (and perhaps the per-node
/// records) and changes nothing: `get KIND[,KIND...] [NAME...]` without `--watch` (without
/// `-A`, only its namespace's objects of namespaced kinds), `version`
/// (the cluster's configuration only, which every load reads), `ssh NODE -- iptables-save`
/// or `iptables ...` (a node's rules: Nodes, Services and EndpointSlices, and the per-node
/// records that say which machines there are), `ssh NODE -- ip|ifconfig|bridge|hostname`
/// (the node's namespace: the same without EndpointSlices) and `ssh NODE -- docker|crictl`
/// (its containers: that and the Pods), and `describe` of some kinds ([`describe_needs`]).
/// Whether its think time runs anything is
/// checked on load (see [`StateDir::load`]). Anything else, or anything not understood here,
/// loads every kind.
fn kinds_needed(cmd: &str, rest: &[String]) -> Option<Needs> {
    if cmd == "version" {
        return Some(Needs::kinds([Kind::Namespace]));
    }
    if cmd == "ssh" {
        // `ssh [USER@]NODE [--] [sudo ...] TOOL ARGS...`.
        let mut words = rest.iter().map(String::as_str).skip(1).peekable();
        words.next_if_eq(&"--");
        let tool = words.find(|w| *w != "sudo")?;
        let mut kinds = BTreeSet::from([Kind::Namespace, Kind::Node, Kind::Service]);
        match tool {
            // The rules: kube-proxy's are made from Services and EndpointSlices.
            "iptables-save" | "iptables" => {
                kinds.insert(Kind::EndpointSlice);
            }
            // The node's namespace (`Sim::node_netns`): its CNI records, the Nodes (routes
            // to the others' pod subnets) and, in IPVS mode, the Services' addresses.
            "ip" | "ifconfig" | "bridge" | "hostname" => {}
            // The runtime's records and the pods (and nodes) its containers belong to.
            "docker" | "crictl" => {
                kinds.insert(Kind::Pod);
            }
            _ => return None,
        }
        return Some(Needs {
            kinds,
            node_records: true,
            namespaces: None,
        });
    }
    if cmd == "describe" {
        return describe_needs(rest);
    }
    if cmd != "get" {
        return None;
    }
    let watch = |a: &String| {
        let a = a.as_str();
        a == "-w"
            || a.starts_with("--watch")
            || (a.starts_with('-') && !a.starts_with("--") && a.contains('w'))
    };
    if rest.iter().any(watch) {
        return None;
    }
    // The first word is the resource list when it is not a flag; otherwise give up (a flag's
    // value could be taken for a resource).
    let first = rest.first().filter(|a| !a.starts_with('-'))?;
    let mut kinds = BTreeSet::from([Kind::Namespace]);
    for word in first.split(',') {
        let word = word.split('/').next().unwrap_or(word);
        if word == "all" {
            kinds.extend(Kind::ALL_CATEGORY);
        } else {
            kinds.insert(Kind::resolve(word)?);
        }
    }
    let mut needs = Needs::kinds(kinds);
    // `get` in one namespace lists only that namespace's objects.
    needs.namespaces = one_namespace("get", rest, crate::kubectl::get::FLAGS);
    Some(needs)
}

/// The one namespace a kubectl command reads in (`-n`, or `default`), unless it reads every
/// namespace (`-A`) or its flags do not parse (the command itself then says why).
fn one_namespace(
    cmd: &str,
    rest: &[String],
    flags: &[crate::flags::Flag],
) -> Option<BTreeSet<String>> {
    let args = crate::flags::parse(cmd, rest, flags).ok()?;
    if args.flag("all-namespaces") {
        return None;
    }
    Some(BTreeSet::from([crate::kubectl::namespace(&args)]))
}

/// What `describe KIND [NAME...]` or `describe KIND/NAME...` reads: the kinds named, what
/// their descriptions look up (a Service's EndpointSlices, an Ingress's backend Services and
/// theirs, a Deployment's ReplicaSets, the Pods a ReplicaSet, DaemonSet or Node counts or
/// lists), and the Events every description ends with: for objects of namespaced kinds in one
/// namespace, only that namespace's Events (kubectl looks an object's Events up in its
/// namespace; a cluster-scoped object's, in every namespace). Anything else (`-f`, `all`, a
/// word that is not a kind) loads everything.
fn describe_needs(rest: &[String]) -> Option<Needs> {
    if rest
        .iter()
        .any(|a| a == "-f" || a.starts_with("--filename") || a.starts_with("-f"))
    {
        return None;
    }
    let first = rest.first().filter(|a| !a.starts_with('-'))?;
    let words: Vec<&str> = if first.contains('/') {
        rest.iter()
            .map(String::as_str)
            .filter(|w| w.contains('/') && !w.starts_with('-'))
            .map(|w| w.split('/').next().unwrap_or(w))
            .collect()
    } else {
        vec![first.as_str()]
    };
    let mut kinds = BTreeSet::from([Kind::Namespace, Kind::Event]);
    let mut namespaced = true;
    for word in words {
        let kind = Kind::resolve(word)?;
        namespaced &= kind.info().namespaced;
        kinds.insert(kind);
        let reads: &[Kind] = match kind {
            Kind::Service => &[Kind::EndpointSlice],
            Kind::Ingress => &[Kind::Service, Kind::EndpointSlice],
            Kind::Deployment => &[Kind::ReplicaSet],
            Kind::ReplicaSet | Kind::DaemonSet | Kind::Node => &[Kind::Pod],
            Kind::Pod
            | Kind::Endpoints
            | Kind::EndpointSlice
            | Kind::ConfigMap
            | Kind::IngressClass
            | Kind::Namespace
            | Kind::Event => &[],
        };
        kinds.extend(reads.iter().copied());
    }
    let mut needs = Needs::kinds(kinds);
    if namespaced {
        needs.namespaces = one_namespace("describe", rest, crate::kubectl::describe::FLAGS);
    }
    Some(needs)
}

fn wait(ctx: &mut Ctx, rest: &[String]) {
    ctx.think = false;
    let Some(text) = rest.first() else {
        return ctx
            .out
            .fail("error: wait needs a duration, e.g. 'netsim wait 30s'");
    };
    let d = match parse_duration(text) {
        Ok(d) => d,
        Err(e) => return ctx.out.fail(format!("error: {e}")),
    };
    // The cluster is made first if there is none, as every command makes it.
    if let Err(e) = ctx.sim() {
        return ctx.out.fail(e);
    }
    if let Some(sim) = ctx.sim.as_mut() {
        advance(sim, d, &mut ctx.progress);
    }
}

fn snapshot(ctx: &mut Ctx, rest: &[String]) {
    let parsed = match crate::flags::parse("snapshot", rest, &[crate::flags::b("paused", None)]) {
        Ok(p) => p,
        Err(e) => return ctx.out.fail(e),
    };
    let (Some(verb), Some(file)) = (parsed.positional.first(), parsed.positional.get(1)) else {
        return ctx.out.fail(
            "error: usage: netsim snapshot save FILE | netsim snapshot restore FILE [--paused]",
        );
    };
    match verb.as_str() {
        "save" => {
            let sim = match ctx.sim() {
                Ok(s) => s,
                Err(e) => return ctx.out.fail(e),
            };
            // The cluster's shape first (runtime, MTU, CIDRs, backend, pool: what no object
            // says), then every object. Events are history, not state: they are not saved.
            let cluster = serde_json::json!({
                "apiVersion": "netsim.dev/v1alpha1",
                "kind": "Cluster",
                "metadata": {"name": "netsim"},
                "spec": serde_json::to_value(sim.config()).unwrap_or_default(),
            });
            let mut text = netsim_print::to_yaml(&cluster);
            text.push_str("---\n");
            let mut saved = 0;
            for object in sim.store().iter().filter(|o| o.kind() != Kind::Event) {
                if saved > 0 {
                    text.push_str("---\n");
                }
                text.push_str(&netsim_print::to_yaml(&object.to_json()));
                saved += 1;
            }
            if let Some(kp) = sim.kube_proxy_config() {
                text.push_str("---\n");
                text.push_str(&netsim_print::to_yaml(kp));
            }
            if !sim.outside_hosts().is_empty() {
                let doc = serde_json::json!({
                    "apiVersion": "netsim.dev/v1alpha1",
                    "kind": "OutsideHosts",
                    "metadata": {"name": "outside"},
                    "hosts": serde_json::to_value(sim.outside_hosts()).unwrap_or_default(),
                });
                text.push_str("---\n");
                text.push_str(&netsim_print::to_yaml(&doc));
            }
            let header = format!(
                "# netsim snapshot: {} objects at {}\n# netsim-clock: {}\n",
                saved,
                sim.now(),
                sim.now()
            );
            if let Err(e) = std::fs::write(file, format!("{header}{text}")) {
                ctx.out.fail(format!("error: cannot write {file}: {e}"));
            }
        }
        "restore" => {
            ctx.think = false;
            let text = match read_snapshot(file) {
                Ok(t) => t,
                Err(e) => return ctx.out.fail(e),
            };
            match restore(&text, file, parsed.flag("paused")) {
                Ok(sim) => ctx.sim = Some(sim),
                Err(e) => {
                    ctx.out.fail(e.message());
                    if let Some(h) = e.hint() {
                        ctx.out.hint(h);
                    }
                }
            }
        }
        other => ctx.out.fail(format!(
            "error: unknown snapshot command {other:?}: use 'save' or 'restore'"
        )),
    }
}

/// Builds a cluster holding exactly the objects of a snapshot, status included.
fn restore(
    text: &str,
    file: &str,
    paused: bool,
) -> Result<Sim, Box<netsim_manifest::ManifestError>> {
    let source = netsim_manifest::Source { name: file, text };
    let items =
        netsim_manifest::parse(&source, netsim_manifest::Validate::Strict).map_err(Box::new)?;
    let mut config = ClusterConfig::default();
    let mut objects: Vec<Object> = Vec::new();
    let mut kube_proxy = None;
    let mut outside = Vec::new();
    let mut has_cluster_doc = false;
    for item in items {
        match item {
            netsim_manifest::Item::Object(doc) => objects.push(doc.object),
            netsim_manifest::Item::Cluster(c) => {
                config = c.config;
                has_cluster_doc = true;
            }
            netsim_manifest::Item::KubeProxy(k) => kube_proxy = Some(k.raw),
            netsim_manifest::Item::OutsideHosts(h) => outside.extend(h.hosts),
        }
    }
    // The cluster's shape follows its Node objects when the snapshot has them.
    let nodes: Vec<_> = objects
        .iter()
        .filter_map(|o| match o {
            Object::Node(n) => Some(n),
            _ => None,
        })
        .collect();
    // A file netsim did not write may still say which runtime the nodes run.
    if !has_cluster_doc
        && nodes.iter().any(|n| {
            n.status
                .as_ref()
                .and_then(|s| s.node_info.as_ref())
                .is_some_and(|i| i.container_runtime_version.starts_with("docker://"))
        })
    {
        config.runtime = netsim_model::ContainerRuntime::Docker;
    }
    if !nodes.is_empty() {
        config.nodes = nodes
            .iter()
            .map(|n| netsim_model::NodeSpec {
                name: n.metadata.name.clone().unwrap_or_default(),
                ip: n
                    .status
                    .as_ref()
                    .and_then(|s| s.addresses.as_ref())
                    .and_then(|a| a.iter().find(|a| a.type_ == "InternalIP"))
                    .and_then(|a| a.address.parse().ok())
                    .unwrap_or(std::net::Ipv4Addr::UNSPECIFIED),
                control_plane: n
                    .metadata
                    .labels
                    .as_ref()
                    .is_some_and(|l| l.contains_key("node-role.kubernetes.io/control-plane")),
            })
            .collect();
    }
    // The clock: netsim's own header, else the latest timestamp in the file.
    let clock = text
        .lines()
        .find_map(|l| l.strip_prefix("# netsim-clock: "))
        .and_then(|t| t.trim().parse::<Timestamp>().ok())
        .or_else(|| latest_timestamp(&objects));
    if let Some(t) = clock {
        config.start_time = t.to_string();
    }
    let mut sim = Sim::empty(config).map_err(|detail| {
        Box::new(netsim_manifest::ManifestError::Config {
            source_name: file.to_string(),
            kind: "Cluster".into(),
            detail,
            line: 1,
        })
    })?;
    if paused {
        sim.pause();
    }
    for o in objects {
        sim.restore_object(o);
    }
    if let Some(kp) = kube_proxy {
        sim.set_kube_proxy_config(kp);
    }
    sim.add_outside_hosts(outside);
    if let Some(t) = clock {
        sim.set_clock(t);
    }
    // The node agents find their running pods: sandboxes, veths and containers come back.
    sim.adopt_restored_pods();
    sim.settle();
    Ok(sim)
}

fn latest_timestamp(objects: &[Object]) -> Option<Timestamp> {
    fn walk(v: &serde_json::Value, best: &mut Option<Timestamp>) {
        match v {
            serde_json::Value::String(s) if s.len() == 20 && s.ends_with('Z') => {
                if let Ok(t) = s.parse::<Timestamp>() {
                    *best = Some(best.map_or(t, |b| b.max(t)));
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, best)),
            serde_json::Value::Object(m) => m.values().for_each(|x| walk(x, best)),
            _ => {}
        }
    }
    let mut best = None;
    for o in objects {
        walk(&o.to_json(), &mut best);
    }
    best
}

fn convert(rest: &[String], out: &mut Output) {
    let parsed = match crate::flags::parse(
        "convert",
        rest,
        &[
            crate::flags::v("filename", Some('f')),
            crate::flags::v("output", Some('o')),
        ],
    ) {
        Ok(p) => p,
        Err(e) => return out.fail(e),
    };
    let files = parsed.values("filename");
    if files.is_empty() {
        return out.fail("error: convert needs -f FILE");
    }
    let loaded = match crate::sources::read_all(&files, false) {
        Ok(l) => l,
        Err(e) => return out.fail(e),
    };
    let mut first = true;
    for l in loaded {
        match netsim_manifest::convert_ingress(&netsim_manifest::Source {
            name: &l.name,
            text: &l.text,
        }) {
            Ok(values) => {
                for v in values {
                    if !first {
                        out.out("---\n");
                    }
                    first = false;
                    if parsed.value("output") == Some("json") {
                        out.out(netsim_print::to_json(&v));
                    } else {
                        out.out(netsim_print::to_yaml(&v));
                    }
                }
            }
            Err(e) => {
                out.fail(e.message());
                if let Some(h) = e.hint() {
                    out.hint(h);
                }
            }
        }
    }
}

/// The most a snapshot file may hold (a generated 1,000-node cluster saves to about 250 MB).
const MAX_SNAPSHOT_BYTES: u64 = 1 << 30;

/// Reads snapshot `file`: a regular file of at most [`MAX_SNAPSHOT_BYTES`] of UTF-8 text (a
/// device or a FIFO, `/dev/zero` say, would never end).
fn read_snapshot(file: &str) -> Result<String, String> {
    let missing = || format!("error: the path \"{file}\" does not exist");
    let meta = std::fs::metadata(file).map_err(|_| missing())?;
    if !meta.is_file() {
        return Err(format!(
            "error: {file} is not a regular file: a snapshot is a file written by `netsim snapshot save`"
        ));
    }
    if meta.len() > MAX_SNAPSHOT_BYTES {
        return Err(format!(
            "error: {file} is {} bytes, more than a snapshot may hold ({MAX_SNAPSHOT_BYTES} bytes)",
            meta.len()
        ));
    }
    let bytes = std::fs::read(file).map_err(|e| format!("error: cannot read {file}: {e}"))?;
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "error: {file} is not UTF-8 text (invalid byte at offset {}): a snapshot is YAML written by `netsim snapshot save`",
            e.utf8_error().valid_up_to()
        )
    })
}

#[cfg(test)]
mod usage_tests {
    use super::usage_of;

    #[test]
    fn help_of_a_command_is_its_entry_in_the_command_list() {
        assert_eq!(
            usage_of("generate").as_deref(),
            Some(
                "Usage:\n  netsim generate --nodes N --pods P --services S --endpoints-per-service E [--seed N]\n\nwrite a realistic scenario of that size to stdout\n"
            )
        );
        // Usage continued on the next line, what it does after it.
        let trace = usage_of("trace").unwrap_or_default();
        assert!(
            trace.contains("[--step] [--format text|mermaid|svg]\n\nevery hop"),
            "{trace}"
        );
        // Two entries for one command, and a command named second in an entry.
        assert_eq!(
            usage_of("snapshot")
                .unwrap_or_default()
                .matches("Usage:")
                .count(),
            2
        );
        assert!(usage_of("annotate").is_some());
        assert_eq!(usage_of("rollout"), None);
    }
}

#[cfg(test)]
mod kinds_tests {
    use super::kinds_needed;
    use crate::state::Needs;
    use crate::test_args as args;
    use netsim_model::Kind;
    use std::collections::BTreeSet;

    #[test]
    fn read_only_commands_name_the_kinds_they_read() {
        assert_eq!(
            kinds_needed("get", &args(&["svc", "-A"])),
            Some(Needs::kinds([Kind::Namespace, Kind::Service]))
        );
        // `version` prints the cluster's configuration, which every load reads.
        assert_eq!(
            kinds_needed("version", &args(&[])),
            Some(Needs::kinds([Kind::Namespace]))
        );
        assert_eq!(kinds_needed("get", &args(&["pods", "-w"])), None);
        let in_namespace = |kinds: &[Kind], ns: &str| {
            let mut needs = Needs::kinds(kinds.iter().copied());
            needs.namespaces = Some(BTreeSet::from([ns.to_string()]));
            Some(needs)
        };
        assert_eq!(
            kinds_needed("describe", &args(&["pod", "web"])),
            in_namespace(&[Kind::Namespace, Kind::Event, Kind::Pod], "default")
        );
        assert_eq!(
            kinds_needed("describe", &args(&["svc/web", "-n", "x", "deploy/web"])),
            in_namespace(
                &[
                    Kind::Namespace,
                    Kind::Event,
                    Kind::Service,
                    Kind::EndpointSlice,
                    Kind::Deployment,
                    Kind::ReplicaSet
                ],
                "x"
            )
        );
        // Every namespace's Events: all namespaces asked for, or a cluster-scoped object.
        assert_eq!(
            kinds_needed("describe", &args(&["pods", "-A"])),
            Some(Needs::kinds([Kind::Namespace, Kind::Event, Kind::Pod]))
        );
        assert_eq!(
            kinds_needed("describe", &args(&["node", "k8s-worker1"])),
            Some(Needs::kinds([
                Kind::Namespace,
                Kind::Event,
                Kind::Node,
                Kind::Pod
            ]))
        );
        assert_eq!(
            kinds_needed("get", &args(&["events", "--namespace=kube-system"])),
            in_namespace(&[Kind::Namespace, Kind::Event], "kube-system")
        );
        assert_eq!(
            kinds_needed("get", &args(&["ev", "-A"])),
            Some(Needs::kinds([Kind::Namespace, Kind::Event]))
        );
        assert_eq!(kinds_needed("describe", &args(&["-f", "x.yaml"])), None);
        assert_eq!(kinds_needed("describe", &args(&["all"])), None);
    }

    #[test]
    fn a_nodes_rules_and_namespace_need_nodes_services_and_the_machines() {
        let rules = Some(Needs {
            kinds: BTreeSet::from([
                Kind::Namespace,
                Kind::Node,
                Kind::Service,
                Kind::EndpointSlice,
            ]),
            node_records: true,
            namespaces: None,
        });
        for argv in [
            &["k8s-worker1", "--", "iptables-save"][..],
            &["root@k8s-worker1", "sudo", "iptables-save", "-t", "nat"],
            &[
                "k8s-worker1",
                "--",
                "sudo",
                "sudo",
                "iptables",
                "-t",
                "nat",
                "-S",
            ],
        ] {
            assert_eq!(kinds_needed("ssh", &args(argv)), rules, "{argv:?}");
        }
        // The node's own namespace: its records, the Nodes and the Services (IPVS).
        let netns = Some(Needs {
            kinds: BTreeSet::from([Kind::Namespace, Kind::Node, Kind::Service]),
            node_records: true,
            namespaces: None,
        });
        for argv in [
            &["k8s-worker1", "--", "ip", "route"][..],
            &["k8s-worker1", "sudo", "ip", "-br", "addr"],
            &["k8s-worker1", "--", "ifconfig", "-a"],
            &["k8s-worker1", "--", "bridge", "fdb", "show"],
        ] {
            assert_eq!(kinds_needed("ssh", &args(argv)), netns, "{argv:?}");
        }
        // Its containers: the same and the pods.
        let containers = Some(Needs {
            kinds: BTreeSet::from([Kind::Namespace, Kind::Node, Kind::Service, Kind::Pod]),
            node_records: true,
            namespaces: None,
        });
        for argv in [
            &["k8s-worker1", "--", "docker", "ps"][..],
            &["k8s-worker1", "sudo", "crictl", "inspect", "abc"],
        ] {
            assert_eq!(kinds_needed("ssh", &args(argv)), containers, "{argv:?}");
        }
        // Anything else on a node reads more (the clients change conntrack tables).
        for argv in [
            &["k8s-worker1", "--", "cat", "/etc/resolv.conf"][..],
            &["k8s-worker1", "--", "curl", "10.96.0.1"],
            &[
                "k8s-worker1",
                "--",
                "nsenter",
                "-t",
                "1234",
                "-n",
                "ip",
                "addr",
            ],
            &["k8s-worker1"],
            &[],
        ] {
            assert_eq!(kinds_needed("ssh", &args(argv)), None, "{argv:?}");
        }
    }
}
