//! Commands on a node and in a pod: `netsim ssh NODE -- CMD` (the node's host namespace and
//! container runtime), `nsenter -t PID -n CMD` (a process's network namespace), and
//! `kubectl exec POD -- CMD` (the pod's namespace). Each command reads the engine's namespace
//! views and runtime records and prints what the real tool prints; anything netsim does not
//! simulate says so and fails — never a silent success.

use crate::kubectl::Ctx;
use crate::output::Output;
use netsim_engine::Sim;
use netsim_model::ContainerRuntime;
use netsim_model::k8s_openapi::api::core::v1::Pod;
use netsim_model::netns::Netns;
use netsim_print::{iproute2, runtime};

/// Where a command runs.
pub(crate) enum Place {
    /// A node's host namespace, with its runtime.
    Node(String),
    /// A pod's namespace, on its node: entered with `kubectl exec` (the image's own tools) or
    /// with `nsenter` from the node (`node_tools`: the node's binaries).
    Pod {
        /// The pod.
        pod: Box<Pod>,
        /// Whether the node's tools run in the pod's namespace.
        node_tools: bool,
    },
}

/// `netsim ssh NODE [--] CMD...`.
pub fn ssh(ctx: &mut Ctx, args: &[String]) {
    ctx.think = true;
    let mut args: Vec<String> = args.to_vec();
    let Some(target) = (!args.is_empty()).then(|| args.remove(0)) else {
        return ctx.out.fail("usage: netsim ssh NODE -- COMMAND");
    };
    let node = target.rsplit('@').next().unwrap_or(&target).to_string();
    if args.first().map(String::as_str) == Some("--") {
        args.remove(0);
    }
    let (sim, out) = match ctx.parts() {
        Ok(parts) => parts,
        Err(e) => return ctx.out.fail(e),
    };
    if sim.node_net(&node).is_none() {
        out.errln(format!(
            "ssh: Could not resolve hostname {node}: Name or service not known"
        ));
        out.code = 255;
        out.hint("the nodes are listed by `netsim get nodes`");
        return;
    }
    if args.is_empty() {
        out.fail("netsim: an interactive login arrives with `netsim shell`; give the command to run, e.g. `netsim ssh NODE -- ip addr`");
        return;
    }
    run(out, sim, Place::Node(node), &args);
}

/// `kubectl exec [-it] POD [-c CONTAINER] -- CMD...`.
pub fn exec(ctx: &mut Ctx, args: &[String]) -> Result<(), String> {
    use crate::flags::{b, v};
    let a = crate::flags::parse(
        "exec",
        args,
        &[
            b("stdin", Some('i')),
            b("tty", Some('t')),
            v("container", Some('c')),
            b("quiet", Some('q')),
        ],
    )?;
    let Some(pod_name) = a.positional.first().cloned() else {
        return Err("error: expected 'exec (POD | TYPE/NAME) [-c CONTAINER] [flags] -- COMMAND [args...]'.\nPOD or TYPE/NAME is a required argument for the exec command\nSee 'kubectl exec -h' for help and examples".into());
    };
    let Some(command) = a.after_dash.clone().filter(|c| !c.is_empty()) else {
        if a.positional.len() > 1 {
            return Err("error: exec [POD] [COMMAND] is not supported anymore. Use exec [POD] -- [COMMAND] instead\nSee 'kubectl exec -h' for help and examples".into());
        }
        return Err("error: you must specify at least one command for the container".into());
    };
    let ns = crate::kubectl::namespace(&a);
    let (sim, out) = ctx.parts()?;
    let pod_name = pod_name
        .strip_prefix("pod/")
        .unwrap_or(&pod_name)
        .to_string();
    let pod = sim
        .store()
        .typed::<Pod>(&ns, &pod_name)
        .cloned()
        .ok_or_else(|| {
            netsim_engine::ApiError::NotFound {
                kind: netsim_model::Kind::Pod,
                name: pod_name.clone(),
            }
            .to_string()
        })?;
    if a.flag("tty") {
        // Scripts and tests have no terminal; kubectl warns and runs the command anyway.
        out.errln("Unable to use a TTY - input is not a terminal or the right kind of file");
    }
    let running = pod.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running");
    let Some(node) = pod
        .spec
        .as_ref()
        .and_then(|s| s.node_name.clone())
        .filter(|_| running)
    else {
        let container = pod
            .spec
            .as_ref()
            .and_then(|s| s.containers.first())
            .map(|c| c.name.clone())
            .unwrap_or_default();
        return Err(format!(
            "error: unable to upgrade connection: container not found (\"{container}\")"
        ));
    };
    let _ = node;
    let before = out.chunks.len();
    run(
        out,
        sim,
        Place::Pod {
            pod: Box::new(pod),
            node_tools: false,
        },
        &command,
    );
    exit_status_line(out, before);
    Ok(())
}

/// kubectl's own last word when the command in the container exits non-zero: `command
/// terminated with exit code N` on stderr (after the command's output, before netsim's hints).
/// Not added to netsim's own "not simulated" failures.
fn exit_status_line(out: &mut Output, before: usize) {
    use crate::output::Stream;
    if out.code == 0 {
        return;
    }
    let line = format!("command terminated with exit code {}\n", out.code);
    let new = out.chunks.get(before..).unwrap_or_default();
    let skip = new
        .iter()
        .any(|(s, t)| *s == Stream::Err && (*t == line || t.starts_with("netsim: ")));
    if skip {
        return;
    }
    let mut at = out.chunks.len();
    while at > before && out.chunks[at - 1].1.starts_with("hint: ") {
        at -= 1;
    }
    out.chunks.insert(at, (Stream::Err, line));
}

/// `iptables-save` or `iptables` in `place`: a node's rules as kube-proxy, the kubelet,
/// flannel and dockerd wrote them.
fn iptables(out: &mut Output, sim: &Sim, place: &Place, cmd: &str, rest: &[&str]) {
    let rules = match place {
        Place::Node(n) => sim.node_ruleset(n).unwrap_or_default(),
        // A pod's own namespace has no rules: nothing in it ever wrote any.
        Place::Pod { .. } => netsim_model::netfilter::Ruleset::default(),
    };
    if !sim.proxy_mode_iptables() && matches!(place, Place::Node(_)) {
        out.hint("kube-proxy runs in IPVS mode here: its KUBE-* iptables rules and ipsets are not simulated, only the kubelet's, flannel's and dockerd's rules are shown");
    }
    if cmd == "iptables-save" {
        crate::iptables::iptables_save(out, sim, &rules, rest);
    } else {
        crate::iptables::iptables_cmd(out, &rules, rest);
    }
}

fn run(out: &mut Output, sim_mut: &mut Sim, place: Place, argv: &[String]) {
    if let Some(handled) = crate::net::run(out, sim_mut, &place, argv) {
        return handled;
    }
    let sim: &Sim = sim_mut;
    let mut argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    while argv.first() == Some(&"sudo") {
        argv.remove(0);
    }
    let Some((&cmd, rest)) = argv.split_first() else {
        return;
    };
    if matches!(cmd, "iptables-save" | "iptables") && matches!(place, Place::Node(_)) {
        // Before the namespace's view is built: a node's rules need none, and a command that
        // runs only these loads only the kinds the rules are made from
        // (`commands::kinds_needed`).
        return iptables(out, sim, &place, cmd, rest);
    }
    let ns = match &place {
        Place::Node(n) => sim.node_netns(n),
        Place::Pod { pod: p, .. } => sim.pod_netns(p),
    };
    let Some(ns) = ns else {
        return out.fail(
            "netsim: this namespace has no network yet (the sandbox is still being created)",
        );
    };
    match cmd {
        "ip" => ip(out, &ns, rest),
        "ifconfig" => {
            let all = rest.first() == Some(&"-a");
            let named: Vec<&&str> = rest.iter().filter(|a| !a.starts_with('-')).collect();
            match named.first() {
                Some(name) => match ns.link(name) {
                    Some(l) => {
                        let one = Netns {
                            links: vec![l.clone()],
                            ..Netns::default()
                        };
                        out.out(iproute2::ifconfig(&one, true));
                    }
                    None => out.fail(format!(
                        "{name}: error fetching interface information: Device not found"
                    )),
                },
                None => out.out(iproute2::ifconfig(&ns, all)),
            }
        }
        "bridge" => match rest {
            ["fdb"] | ["fdb", "show"] => out.out(iproute2::bridge_fdb(&ns, None)),
            ["fdb", "show", "dev", d] | ["fdb", "show", d] => {
                out.out(iproute2::bridge_fdb(&ns, Some(d)))
            }
            _ => not_simulated(out, &argv),
        },
        "hostname" => match &place {
            Place::Node(n) => out.outln(n.as_str()),
            Place::Pod { pod: p, .. } => out.outln(p.metadata.name.clone().unwrap_or_default()),
        },
        "docker" | "crictl" | "nsenter" if matches!(place, Place::Pod { .. }) => {
            out.errln(format!("sh: {cmd}: not found"));
            out.code = 127;
        }
        "docker" => {
            let Place::Node(node) = &place else { return };
            if sim.config().runtime != ContainerRuntime::Docker {
                out.errln("bash: docker: command not found");
                out.code = 127;
                out.hint("this node's runtime is containerd: `crictl ps` lists the containers, `crictl inspect ID` shows one");
                return;
            }
            docker(out, sim, node, rest);
        }
        "crictl" => {
            let Place::Node(node) = &place else { return };
            crictl(out, sim, node, rest);
        }
        "nsenter" => {
            let Place::Node(node) = &place else { return };
            let node = node.clone();
            nsenter(out, sim_mut, &node, rest);
        }
        "iptables-save" | "iptables" => iptables(out, sim, &place, cmd, rest),
        "ipvsadm" | "conntrack" => {
            out.fail(format!("netsim: `{cmd}` is not simulated yet"));
        }
        "cat" => cat(out, sim, &place, rest),
        "tcpdump" | "ss" | "netstat" | "ps" | "ls" | "sh" | "bash" => not_simulated(out, &argv),
        other => {
            let shell = if matches!(place, Place::Node(_)) {
                "bash"
            } else {
                "sh"
            };
            out.errln(format!("{shell}: {other}: command not found"));
            out.code = 127;
        }
    }
}

/// `cat FILE...` for the files netsim models: `/etc/hosts`, `/etc/resolv.conf`,
/// `/etc/hostname`.
fn cat(out: &mut Output, sim: &Sim, place: &Place, files: &[&str]) {
    if files.is_empty() {
        return out.fail("netsim: `cat` needs a file (interactive input is not simulated)");
    }
    for file in files {
        let text = match (place, *file) {
            (Place::Pod { pod: p, .. }, "/etc/hosts") => Some(sim.pod_etc_hosts(p)),
            (Place::Pod { pod: p, .. }, "/etc/resolv.conf") => Some(sim.pod_resolv_conf(p)),
            (Place::Pod { pod: p, .. }, "/etc/hostname") => {
                let spec = p.spec.as_ref();
                let name = spec
                    .and_then(|s| s.hostname.clone())
                    .or_else(|| p.metadata.name.clone())
                    .unwrap_or_default();
                Some(format!("{name}\n"))
            }
            (Place::Node(n), "/etc/hosts") => Some(sim.node_etc_hosts(n)),
            (Place::Node(n), "/etc/resolv.conf") => {
                let rc = sim.node_resolv(n);
                Some(
                    rc.nameservers
                        .iter()
                        .map(|s| format!("nameserver {s}\n"))
                        .collect(),
                )
            }
            (Place::Node(n), "/etc/hostname") => Some(format!("{n}\n")),
            _ => None,
        };
        match text {
            Some(t) => out.out(t),
            None => {
                out.errln(format!("cat: {file}: No such file or directory"));
                out.code = 1;
                out.hint("netsim models /etc/hosts, /etc/resolv.conf and /etc/hostname");
            }
        }
    }
}

fn not_simulated(out: &mut Output, argv: &[&str]) {
    out.fail(format!("netsim: `{}` is not simulated yet", argv.join(" ")));
}

fn ip(out: &mut Output, ns: &Netns, args: &[&str]) {
    let mut args: Vec<&str> = args.to_vec();
    let mut details = false;
    let mut brief = false;
    while let Some(flag) = args.first().filter(|a| a.starts_with('-')) {
        match *flag {
            "-d" | "-details" => details = true,
            "-br" | "-brief" => brief = true,
            "-4" => {}
            other => {
                return out.fail(format!("Option \"{other}\" is unknown, try \"ip -help\"."));
            }
        }
        args.remove(0);
    }
    let Some((&object, rest)) = args.split_first() else {
        return out.fail("Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }");
    };
    // `show [dev] NAME`
    let dev = {
        let r: Vec<&str> = rest
            .iter()
            .copied()
            .filter(|a| *a != "show" && *a != "list" && *a != "dev")
            .collect();
        r.first().copied()
    };
    if matches!(object, "r" | "ro" | "route") && rest.first() == Some(&"get") {
        let Some(dst) = rest.get(1).and_then(|d| d.parse().ok()) else {
            return out.fail(format!(
                "Error: any valid prefix is expected rather than \"{}\".",
                rest.get(1).unwrap_or(&"")
            ));
        };
        match iproute2::ip_route_get(ns, dst) {
            Ok(text) => out.out(text),
            Err(e) => {
                out.errln(e);
                out.code = 2;
            }
        }
        return;
    }
    let result = match object {
        "a" | "addr" | "address" if brief => iproute2::ip_br_addr(ns, dev),
        "l" | "link" if brief => iproute2::ip_br_link(ns, dev),
        "a" | "addr" | "address" => iproute2::ip_addr(ns, dev),
        "l" | "link" if details => iproute2::ip_link_details(ns, dev),
        "l" | "link" => iproute2::ip_link(ns, dev),
        "r" | "ro" | "route" => Ok(iproute2::ip_route(ns)),
        "n" | "neigh" | "neighbor" | "neighbour" => Ok(iproute2::ip_neigh(ns)),
        other => Err(format!("Object \"{other}\" is unknown, try \"ip help\".")),
    };
    match result {
        Ok(text) => out.out(text),
        Err(e) => {
            out.errln(e);
            out.code = if object.starts_with('a') || object.starts_with('l') {
                1
            } else {
                255
            };
        }
    }
}

fn sandboxes<'a>(sim: &'a Sim, node: &str) -> Vec<&'a netsim_model::runtime::Sandbox> {
    sim.node_runtime(node)
        .map(|rt| rt.sandboxes.values().collect())
        .unwrap_or_default()
}

/// What `docker inspect` and `crictl inspect` read about container `c` of sandbox `sb` on
/// `node`: its pod and node from the store, the pod's DNS settings, the images' ids and
/// defaults.
fn inspect_input<'a>(
    sim: &'a Sim,
    node: &str,
    sb: &'a netsim_model::runtime::Sandbox,
    c: &'a netsim_model::runtime::ContainerRec,
) -> runtime::InspectInput<'a> {
    let pod_dns = |pod: &Pod| {
        let (rc, _) = sim.pod_resolv(pod);
        runtime::PodDns {
            servers: rc.nameservers,
            searches: rc.searches,
            options: rc.options,
        }
    };
    runtime::InspectInput::from_store(
        sim.store(),
        node,
        sb,
        c,
        &netsim_engine::controllers::image_id,
        &netsim_engine::apps::image_defaults,
        &pod_dns,
    )
}

/// `docker ps`'s flags (Docker CLI 24.0).
const DOCKER_PS_FLAGS: &[crate::flags::Flag] = &[
    crate::flags::b("all", Some('a')),
    crate::flags::v("filter", Some('f')),
    crate::flags::v("format", None),
    crate::flags::v("last", Some('n')),
    crate::flags::b("latest", Some('l')),
    crate::flags::b("no-trunc", None),
    crate::flags::b("quiet", Some('q')),
    crate::flags::b("size", Some('s')),
];

/// The filters the daemon accepts for a container list (`acceptedPsFilterTags`).
const DOCKER_PS_FILTERS: &[&str] = &[
    "ancestor",
    "before",
    "exited",
    "expose",
    "health",
    "id",
    "isolation",
    "is-task",
    "label",
    "name",
    "network",
    "publish",
    "since",
    "status",
    "volume",
];

/// `docker ps`: the node's containers (each pod's pause container and its own), newest first,
/// through the daemon's `id`, `name`, `label` and `status` filters and `-n`/`-l`. netsim's
/// containers all run, so `-a` lists the same rows and a status other than running none.
fn docker_ps(out: &mut Output, sim: &Sim, node: &str, args: &[&str]) {
    let see = "See 'docker ps --help'.";
    let words: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let opts =
        match crate::flags::parse_with(&words, DOCKER_PS_FLAGS, &|msg| format!("{msg}\n{see}")) {
            Ok(o) => o,
            Err(e) => return out.fail(e),
        };
    if !opts.positional.is_empty() || opts.after_dash.as_ref().is_some_and(|a| !a.is_empty()) {
        return out.fail(format!(
            "\"docker ps\" accepts no arguments.\n{see}\n\nUsage:  docker ps [OPTIONS]\n\nList containers"
        ));
    }
    // pflag's int flag: strconv.ParseInt with base 0.
    let last = match opts.value("last") {
        None => -1,
        Some(n) => match crate::crictl::parse_go_int(n) {
            Some(n) => n,
            None => {
                return out.fail(format!(
                    "invalid argument {q} for \"-n, --last\" flag: strconv.ParseInt: parsing {q}: invalid syntax\n{see}",
                    q = netsim_print::go_quote(n)
                ));
            }
        },
    };
    // The CLI's `FilterOpt`: NAME=VALUE split at the first `=`, the name lower-cased and both
    // trimmed; an empty one is ignored.
    let mut filters: Vec<(String, &str)> = Vec::new();
    let all_filters = opts.values("filter");
    for f in all_filters.iter().filter(|f| !f.is_empty()) {
        match f.split_once('=') {
            Some((k, v)) => filters.push((k.trim().to_ascii_lowercase(), v.trim())),
            None => {
                return out.fail(format!(
                    "invalid argument {} for \"-f, --filter\" flag: bad format of filter (expected name=value)\n{see}",
                    netsim_print::go_quote(f)
                ));
            }
        }
    }
    // `--format json` (one JSON object per line) and the size column are not modelled.
    let format = opts.value("format").filter(|f| !f.is_empty());
    if opts.flag("size") || format.is_some_and(|f| f.trim() == "json") {
        return not_simulated(out, &[&["docker", "ps"], args].concat());
    }
    // The daemon checks the filters' names, then the status values.
    for (k, _) in &filters {
        if !DOCKER_PS_FILTERS.contains(&k.as_str()) {
            return out.fail(format!("Error response from daemon: invalid filter '{k}'"));
        }
        if !matches!(k.as_str(), "id" | "name" | "label" | "status") {
            return not_simulated(out, &[&["docker", "ps"], args].concat());
        }
    }
    const STATES: &[&str] = &[
        "created",
        "restarting",
        "running",
        "removing",
        "paused",
        "exited",
        "dead",
    ];
    let values = |key: &str| -> Vec<&str> {
        filters
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| *v)
            .collect()
    };
    for status in values("status") {
        if !STATES.contains(&status) {
            return out.fail(format!(
                "Error response from daemon: invalid filter 'status={status}'"
            ));
        }
    }
    // moby's `filters.Match`: each value a regular expression, any one matching.
    let regexes = |key: &str| -> Vec<Option<regex::Regex>> {
        values(key)
            .iter()
            .map(|v| regex::Regex::new(v).ok())
            .collect()
    };
    let (ids, names) = (regexes("id"), regexes("name"));
    let matches_any = |res: &[Option<regex::Regex>], text: &str| {
        res.is_empty() || res.iter().flatten().any(|re| re.is_match(text))
    };
    let statuses = values("status");
    let labels = values("label");
    let mut rows: Vec<(
        &netsim_model::runtime::Sandbox,
        &netsim_model::runtime::ContainerRec,
    )> = sandboxes(sim, node)
        .into_iter()
        .flat_map(|sb| {
            std::iter::once((sb, &sb.pause)).chain(sb.containers.iter().map(move |c| (sb, c)))
        })
        .filter(|(sb, c)| {
            if !statuses.is_empty() && !statuses.contains(&"running") {
                return false;
            }
            if !matches_any(&ids, &c.id)
                || !matches_any(&names, &format!("/{}", runtime::docker_name(sb, c)))
            {
                return false;
            }
            if labels.is_empty() {
                return true;
            }
            // `MatchKVList`: `KEY` must be set, `KEY=VALUE` set to VALUE.
            let have = runtime::docker_container_labels(&inspect_input(sim, node, sb, c));
            labels.iter().all(|l| match l.split_once('=') {
                Some((k, v)) => have.get(k).is_some_and(|h| h == v),
                None => have.contains_key(*l),
            })
        })
        .collect();
    rows.sort_by(|a, b| {
        b.1.created_ms
            .cmp(&a.1.created_ms)
            .then(b.1.id.cmp(&a.1.id))
    });
    // `--latest` is `--last 1` unless `--last` is given; `--last 0` or below lists all.
    let limit = if opts.flag("latest") && last == -1 {
        1
    } else {
        last
    };
    if limit > 0 {
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    }
    let no_trunc = opts.flag("no-trunc");
    // `-q` prints the ids unless a format of one's own is given (`NewContainerFormat`).
    let format = match format {
        None | Some("table") if opts.flag("quiet") => "{{.ID}}",
        None => "table",
        Some(f) => f,
    };
    let image_id = |image: &str| netsim_engine::controllers::image_id(image);
    let now_ms = sim.now().as_millisecond();
    let printed = if format == "table" {
        Ok(runtime::docker_ps(&rows, now_ms, &image_id, no_trunc))
    } else {
        runtime::docker_ps_format(format, &rows, now_ms, &image_id, no_trunc)
    };
    match printed {
        Ok(text) => out.out(text),
        Err(runtime::PsFormatError::Template(e)) => out.fail(e),
        Err(runtime::PsFormatError::Unsupported) => {
            not_simulated(out, &[&["docker", "ps"], args].concat());
        }
    }
}

fn docker(out: &mut Output, sim: &Sim, node: &str, args: &[&str]) {
    let inspect_input = |sb, c| inspect_input(sim, node, sb, c);
    match args {
        ["ps", opts @ ..] => docker_ps(out, sim, node, opts),
        ["inspect", rest @ ..] => {
            let mut format = None;
            let mut ids = Vec::new();
            let mut i = 0;
            while i < rest.len() {
                match rest[i] {
                    "--format" | "-f" => {
                        format = rest.get(i + 1).copied();
                        i += 1;
                    }
                    a if a.starts_with("--format=") => format = a.strip_prefix("--format="),
                    a => ids.push(a),
                }
                i += 1;
            }
            if ids.is_empty() {
                return out.fail("\"docker inspect\" requires at least 1 argument.\nSee 'docker inspect --help'.\n\nUsage:  docker inspect [OPTIONS] NAME|ID [NAME|ID...]\n\nReturn low-level information on Docker objects");
            }
            let Some(rt) = sim.node_runtime(node) else {
                return;
            };
            let mut values = Vec::new();
            for id in ids {
                let found = rt.find_container(id).or_else(|| {
                    rt.sandboxes.values().find_map(|sb| {
                        std::iter::once(&sb.pause)
                            .chain(sb.containers.iter())
                            .find(|c| runtime::docker_name(sb, c) == id.trim_start_matches('/'))
                            .map(|c| (sb, c))
                    })
                });
                match found {
                    Some((sb, c)) => {
                        values.push(runtime::docker_inspect_value(&inspect_input(sb, c)))
                    }
                    None => {
                        if format.is_none() {
                            out.out("[]\n");
                        }
                        out.fail(format!("Error: No such object: {id}"));
                        return;
                    }
                }
            }
            match format {
                Some(t) => {
                    for v in &values {
                        match runtime::docker_format(t, v) {
                            Ok(s) => out.outln(s),
                            Err(e) => return out.fail(e),
                        }
                    }
                }
                None => out.out(runtime::docker_inspect_json(&values)),
            }
        }
        _ => not_simulated(out, &[&["docker"], args].concat()),
    }
}

/// `crictl ps`: the node's containers through cri-tools v1.28's `ListContainers` filters (id
/// and sandbox id prefixes, state, labels, then the name's regular expression), newest first,
/// cut to `--latest`/`--last`. netsim's containers never exit, so `-a` lists the same rows and
/// a state other than running lists none.
fn crictl_ps(out: &mut Output, sim: &Sim, node: &str, args: &[&str]) {
    use crate::crictl::{PS_FLAGS, Pattern, kept, labels, log_fatal, output_is_table, parse};
    let opts = match parse(PS_FLAGS, args) {
        Ok(p) => p,
        Err(e) => return out.fail(e),
    };
    if !opts.args.is_empty() {
        // urfave/cli shows the subcommand's help instead of listing.
        return out.fail(format!(
            "netsim: `crictl ps {}`: crictl ps takes no arguments (crictl prints its help, which is not simulated)",
            opts.args.join(" ")
        ));
    }
    for unsimulated in ["verbose", "image", "resolve-image-path"] {
        if opts.value(unsimulated).is_some_and(|v| v != "false") {
            return not_simulated(out, &[&["crictl", "ps"], args].concat());
        }
    }
    let labels = match labels(&opts) {
        Ok(l) => l,
        Err(e) => return out.fail(e),
    };
    // Every container netsim records is running; --latest and --last list every state.
    let running = match opts.value("state").map(str::to_ascii_lowercase).as_deref() {
        None | Some("running") => true,
        Some("created" | "exited" | "unknown") => false,
        Some(_) => {
            return out.fail(log_fatal(
                sim.now(),
                "--state should be one of created, running, exited or unknown",
            ));
        }
    };
    let last = opts.value("last").and_then(crate::crictl::parse_go_int);
    let listed = running || opts.is_set("latest") || last.is_some_and(|n| n > 0);
    match output_is_table(&opts, "listing containers") {
        Ok(true) => {}
        Ok(false) => return not_simulated(out, &[&["crictl", "ps"], args].concat()),
        Err(e) => return out.fail(e),
    }
    let name = Pattern::of(&opts, "name");
    let id = opts.value("id").unwrap_or_default();
    let pod = opts.value("pod").unwrap_or_default();
    let mut rows: Vec<(
        &netsim_model::runtime::Sandbox,
        &netsim_model::runtime::ContainerRec,
    )> = sandboxes(sim, node)
        .into_iter()
        .filter(|sb| listed && sb.pause.id.starts_with(pod))
        .flat_map(|sb| sb.containers.iter().map(move |c| (sb, c)))
        .filter(|(sb, c)| {
            let (namespace, pod_name) = sb.pod.split_once('/').unwrap_or(("", &sb.pod));
            // The kubelet's labels on a container (`newContainerLabels`).
            let label = |key: &str| match key {
                "io.kubernetes.container.name" => Some(c.name.as_str()),
                "io.kubernetes.pod.name" => Some(pod_name),
                "io.kubernetes.pod.namespace" => Some(namespace),
                "io.kubernetes.pod.uid" => Some(sb.uid.as_str()),
                _ => None,
            };
            c.id.starts_with(id)
                && labels.iter().all(|(k, v)| label(k) == Some(*v))
                && name.matches(&c.name)
        })
        .collect();
    rows.sort_by(|a, b| {
        b.1.created_ms
            .cmp(&a.1.created_ms)
            .then(b.1.id.cmp(&a.1.id))
    });
    rows.truncate(kept(&opts, rows.len()));
    if opts.is_set("quiet") {
        for (_, c) in rows {
            out.outln(&c.id);
        }
    } else {
        let image_id = |image: &str| netsim_engine::controllers::image_id(image);
        let no_trunc = opts.is_set("no-trunc");
        out.out(runtime::crictl_ps(
            &rows,
            sim.now().as_millisecond(),
            &image_id,
            no_trunc,
        ));
    }
}

/// `crictl pods`: the node's sandboxes through cri-tools v1.28's `ListPodSandboxes` filters
/// (id prefix, state, labels, then the name and namespace regular expressions), newest first,
/// cut to `--latest`/`--last`. Every sandbox netsim records is ready.
fn crictl_pods(out: &mut Output, sim: &Sim, node: &str, args: &[&str]) {
    use crate::crictl::{PODS_FLAGS, Pattern, kept, labels, log_fatal, output_is_table, parse};
    let opts = match parse(PODS_FLAGS, args) {
        Ok(p) => p,
        Err(e) => return out.fail(e),
    };
    if opts.is_set("verbose") {
        return not_simulated(out, &[&["crictl", "pods"], args].concat());
    }
    let labels = match labels(&opts) {
        Ok(l) => l,
        Err(e) => return out.fail(e),
    };
    let ready = match opts.value("state").map(str::to_ascii_lowercase).as_deref() {
        None | Some("ready") => true,
        Some("notready") => false,
        Some(_) => return out.fail(log_fatal(sim.now(), "--state should be ready or notready")),
    };
    match output_is_table(&opts, "listing pod sandboxes") {
        Ok(true) => {}
        Ok(false) => return not_simulated(out, &[&["crictl", "pods"], args].concat()),
        Err(e) => return out.fail(e),
    }
    let (name, namespace) = (Pattern::of(&opts, "name"), Pattern::of(&opts, "namespace"));
    let id = opts.value("id").unwrap_or_default();
    let mut rows: Vec<&netsim_model::runtime::Sandbox> = sandboxes(sim, node)
        .into_iter()
        .filter(|sb| {
            let (ns, pod_name) = sb.pod.split_once('/').unwrap_or(("", &sb.pod));
            // The kubelet's labels on a sandbox (`newPodLabels`): the pod's own and three of
            // its own.
            let pod = sim.store().typed::<Pod>(ns, pod_name);
            let label = |key: &str| match key {
                "io.kubernetes.pod.name" => Some(pod_name),
                "io.kubernetes.pod.namespace" => Some(ns),
                "io.kubernetes.pod.uid" => Some(sb.uid.as_str()),
                _ => pod
                    .and_then(|p| p.metadata.labels.as_ref()?.get(key))
                    .map(String::as_str),
            };
            ready
                && sb.pause.id.starts_with(id)
                && labels.iter().all(|(k, v)| label(k) == Some(*v))
                && name.matches(pod_name)
                && namespace.matches(ns)
        })
        .collect();
    rows.sort_by(|a, b| {
        b.pause
            .created_ms
            .cmp(&a.pause.created_ms)
            .then(b.pause.id.cmp(&a.pause.id))
    });
    rows.truncate(kept(&opts, rows.len()));
    if opts.is_set("quiet") {
        for sb in rows {
            out.outln(&sb.pause.id);
        }
    } else {
        let no_trunc = opts.is_set("no-trunc");
        out.out(runtime::crictl_pods(
            &rows,
            sim.now().as_millisecond(),
            no_trunc,
        ));
    }
}

fn crictl(out: &mut Output, sim: &Sim, node: &str, args: &[&str]) {
    let inspect_input = |sb, c| inspect_input(sim, node, sb, c);
    match args {
        ["ps", opts @ ..] => crictl_ps(out, sim, node, opts),
        ["pods", opts @ ..] => crictl_pods(out, sim, node, opts),
        ["inspect", rest @ ..] => {
            // `crictl inspect [-o json|go-template --template T] ID`
            let mut template = None;
            let mut ids = Vec::new();
            let mut k = 0;
            while k < rest.len() {
                match rest[k] {
                    "-o" | "--output" => k += 1,
                    "--template" => {
                        template = rest.get(k + 1).copied();
                        k += 1;
                    }
                    a => ids.push(a),
                }
                k += 1;
            }
            let Some(id) = ids.first().copied() else {
                return out.fail("crictl: ID cannot be empty");
            };
            // A sandbox's pause container is no CRI container: containerd does not find it.
            let Some((sb, c)) = sim
                .node_runtime(node)
                .and_then(|rt| rt.find_container(id))
                .filter(|(_, c)| c.name != "POD")
            else {
                return out.fail(format!(
                    "FATA[0000] getting the status of the container \"{id}\": rpc error: code = NotFound desc = an error occurred when try to find container \"{id}\": not found"
                ));
            };
            let v = runtime::crictl_inspect_value(&inspect_input(sb, c));
            match template {
                Some(t) => match runtime::crictl_format(t, &v) {
                    Ok(s) => out.outln(s),
                    Err(e) => out.fail(e),
                },
                None => out.out(runtime::crictl_inspect_json(&v)),
            }
        }
        _ => not_simulated(out, &[&["crictl"], args].concat()),
    }
}

fn nsenter(out: &mut Output, sim: &mut Sim, node: &str, args: &[&str]) {
    let mut pid = None;
    let mut net = false;
    let mut i = 0;
    while i < args.len() {
        match args[i] {
            "-t" | "--target" => {
                pid = args.get(i + 1).and_then(|p| p.parse::<u32>().ok());
                i += 1;
            }
            "-n" | "--net" => net = true,
            a if a.starts_with("--target=") => {
                pid = a.strip_prefix("--target=").and_then(|p| p.parse().ok())
            }
            "--" => {
                i += 1;
                break;
            }
            a if a.starts_with('-') => {
                return out.fail(format!("nsenter: unrecognized option '{a}'"));
            }
            _ => break,
        }
        i += 1;
    }
    let command: Vec<String> = args[i..].iter().map(|s| s.to_string()).collect();
    let Some(pid) = pid else {
        return out.fail("nsenter: no target PID specified for --net");
    };
    let Some(sb) = sim.node_runtime(node).and_then(|rt| rt.by_pid(pid)) else {
        return out.fail(format!(
            "nsenter: cannot open /proc/{pid}/ns/net: No such file or directory"
        ));
    };
    if !net {
        return out.fail("netsim: only the network namespace (-n) is simulated");
    }
    let (ns_name, pod_name) = sb.pod.split_once('/').unwrap_or(("", &sb.pod));
    let Some(pod) = sim.store().typed::<Pod>(ns_name, pod_name).cloned() else {
        return;
    };
    if command.is_empty() {
        return out.fail("netsim: give nsenter a command to run, e.g. `nsenter -t PID -n ip addr`");
    }
    run(
        out,
        sim,
        Place::Pod {
            pod: Box::new(pod),
            node_tools: true,
        },
        &command,
    );
}
