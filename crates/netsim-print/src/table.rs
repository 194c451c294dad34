//! `kubectl get` tables: the server-side column definitions and cells of
//! `pkg/printers/internalversion/printers.go` for every kind netsim stores, and kubectl's
//! client-side assembly of them (wide columns, `NAMESPACE`, `LABELS`, `kind/` prefixes,
//! headers, one aligned table per resource type, `get -w` rows).
//!
//! This module owns cell text only. It must never decide anything about the cluster: a pod's
//! STATUS is derived from the status the store holds, exactly as the API server's printer
//! derives it, never from simulation state.

use crate::common::{format_labels, join_host_port, or, selector_string, ts};
use crate::duration::{human_duration, seconds_between, since};
use crate::tabwriter::TabWriter;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{
    ConfigMap, Container, Endpoints, Event, Namespace, Node, Pod, Service,
};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::{Ingress, IngressClass};
use netsim_model::jiff::Timestamp;
use netsim_model::{Kind, Object, Store};
use std::collections::BTreeSet;

/// kubectl's client-side table options.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableOptions {
    /// `-o wide`: include priority-1 columns.
    pub wide: bool,
    /// `-A`: prepend `NAMESPACE` (namespaced kinds only).
    pub all_namespaces: bool,
    /// Print names as `kind[.group]/name` (several types requested, e.g. `get all`).
    pub with_kind_prefix: bool,
    /// `--no-headers`.
    pub no_headers: bool,
    /// `--show-labels`: append `LABELS`.
    pub show_labels: bool,
}

/// One server-side column: name as the server sends it, and whether it is priority 1 (wide).
type Column = (&'static str, bool);

fn columns(kind: Kind) -> &'static [Column] {
    const N: bool = false;
    const W: bool = true;
    match kind {
        Kind::Pod => &[
            ("Name", N),
            ("Ready", N),
            ("Status", N),
            ("Restarts", N),
            ("Age", N),
            ("IP", W),
            ("Node", W),
            ("Nominated Node", W),
            ("Readiness Gates", W),
        ],
        Kind::Service => &[
            ("Name", N),
            ("Type", N),
            ("Cluster-IP", N),
            ("External-IP", N),
            ("Port(s)", N),
            ("Age", N),
            ("Selector", W),
        ],
        Kind::Endpoints => &[("Name", N), ("Endpoints", N), ("Age", N)],
        Kind::EndpointSlice => &[
            ("Name", N),
            ("AddressType", N),
            ("Ports", N),
            ("Endpoints", N),
            ("Age", N),
        ],
        Kind::Deployment => &[
            ("Name", N),
            ("Ready", N),
            ("Up-to-date", N),
            ("Available", N),
            ("Age", N),
            ("Containers", W),
            ("Images", W),
            ("Selector", W),
        ],
        Kind::ReplicaSet => &[
            ("Name", N),
            ("Desired", N),
            ("Current", N),
            ("Ready", N),
            ("Age", N),
            ("Containers", W),
            ("Images", W),
            ("Selector", W),
        ],
        Kind::DaemonSet => &[
            ("Name", N),
            ("Desired", N),
            ("Current", N),
            ("Ready", N),
            ("Up-to-date", N),
            ("Available", N),
            ("Node Selector", N),
            ("Age", N),
            ("Containers", W),
            ("Images", W),
            ("Selector", W),
        ],
        Kind::Ingress => &[
            ("Name", N),
            ("Class", N),
            ("Hosts", N),
            ("Address", N),
            ("Ports", N),
            ("Age", N),
        ],
        Kind::IngressClass => &[
            ("Name", N),
            ("Controller", N),
            ("Parameters", N),
            ("Age", N),
        ],
        Kind::Node => &[
            ("Name", N),
            ("Status", N),
            ("Roles", N),
            ("Age", N),
            ("Version", N),
            ("Internal-IP", W),
            ("External-IP", W),
            ("OS-Image", W),
            ("Kernel-Version", W),
            ("Container-Runtime", W),
        ],
        Kind::Namespace => &[("Name", N), ("Status", N), ("Age", N)],
        Kind::ConfigMap => &[("Name", N), ("Data", N), ("Age", N)],
        Kind::Event => &[
            ("Last Seen", N),
            ("Type", N),
            ("Reason", N),
            ("Object", N),
            ("Subobject", W),
            ("Source", W),
            ("Message", N),
            ("First Seen", W),
            ("Count", W),
            ("Name", W),
        ],
    }
}

fn namespace_column(kind: Kind, opts: &TableOptions) -> bool {
    opts.all_namespaces && kind.info().namespaced
}

/// The header row kubectl prints for `kind` (upper-cased column names).
pub fn header(kind: Kind, opts: &TableOptions) -> Vec<String> {
    let mut out = Vec::new();
    if namespace_column(kind, opts) {
        out.push("NAMESPACE".to_string());
    }
    for (name, wide) in columns(kind) {
        if !wide || opts.wide {
            out.push(name.to_uppercase());
        }
    }
    if opts.show_labels {
        out.push("LABELS".to_string());
    }
    out
}

/// One object's row as kubectl prints it (with the client-side additions `opts` asks for).
pub fn row(object: &Object, store: &Store, now: Timestamp, opts: &TableOptions) -> Vec<String> {
    let _ = store;
    let kind = object.kind();
    let cells = server_cells(object, now);
    let mut out = Vec::new();
    if namespace_column(kind, opts) {
        out.push(object.namespace().to_string());
    }
    let name_index = if kind == Kind::Event { 9 } else { 0 };
    for (i, ((_, wide), cell)) in columns(kind).iter().zip(cells).enumerate() {
        if *wide && !opts.wide {
            continue;
        }
        if i == name_index && opts.with_kind_prefix {
            out.push(format!("{}/{}", kind.qualified_singular(), cell));
        } else {
            out.push(cell);
        }
    }
    if opts.show_labels {
        out.push(format_labels(object.metadata().labels.as_ref()));
    }
    out
}

/// The full `kubectl get` output for one or more resource types: one aligned table per
/// non-empty group, a blank line between tables, widths reset per group. Empty groups print
/// nothing (the caller prints `No resources found ...` on stderr when the result is empty).
pub fn render_get(
    groups: &[(Kind, Vec<&Object>)],
    store: &Store,
    now: Timestamp,
    opts: &TableOptions,
) -> String {
    let mut out = String::new();
    for (kind, objects) in groups {
        if objects.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        let mut w = TabWriter::for_get();
        if !opts.no_headers {
            write_row(&mut w, &header(*kind, opts));
        }
        for object in objects {
            write_row(&mut w, &row(object, store, now, opts));
        }
        out.push_str(&w.finish());
    }
    out
}

fn write_row(w: &mut TabWriter, cells: &[String]) {
    let line = cells
        .iter()
        .map(|c| clean_cell(c))
        .collect::<Vec<_>>()
        .join("\t");
    w.write_str(&line);
    w.write_str("\n");
}

/// kubectl truncates a cell at the first `\n`, `\r` or `\f` and appends `...`.
fn clean_cell(cell: &str) -> String {
    match cell.find(['\n', '\r', '\u{c}']) {
        Some(i) => format!("{}...", &cell[..i]),
        None => cell.to_string(),
    }
}

/// `kubectl get -w` for one resource type: prints the current list, then one row per watch
/// event, with widths remembered across flushes so they never shrink (the header is printed
/// once, with the first row).
#[derive(Debug, Clone)]
pub struct WatchPrinter {
    kind: Kind,
    opts: TableOptions,
    writer: TabWriter,
    header_done: bool,
}

impl WatchPrinter {
    /// A printer for rows of `kind`.
    pub fn new(kind: Kind, opts: TableOptions) -> WatchPrinter {
        WatchPrinter {
            kind,
            opts,
            writer: TabWriter::for_get(),
            header_done: false,
        }
    }

    /// The initial listing (header and rows; nothing if `objects` is empty).
    pub fn initial(&mut self, objects: &[&Object], store: &Store, now: Timestamp) -> String {
        for object in objects {
            self.push(object, store, now);
        }
        self.writer.flush();
        self.writer.take_output()
    }

    /// The line for one watch event (ADDED, MODIFIED and DELETED all print the object's row).
    pub fn row(&mut self, object: &Object, store: &Store, now: Timestamp) -> String {
        self.push(object, store, now);
        self.writer.flush();
        self.writer.take_output()
    }

    fn push(&mut self, object: &Object, store: &Store, now: Timestamp) {
        if !self.header_done {
            self.header_done = true;
            if !self.opts.no_headers {
                write_row(&mut self.writer, &header(self.kind, &self.opts));
            }
        }
        write_row(&mut self.writer, &row(object, store, now, &self.opts));
    }
}

/// Every server-side cell (wide ones included), in column order.
fn server_cells(object: &Object, now: Timestamp) -> Vec<String> {
    let age = since(ts(object.metadata().creation_timestamp.as_ref()), now);
    let name = object.name().to_string();
    match object {
        Object::Pod(p) => pod_cells(p, now),
        Object::Service(s) => service_cells(s, age),
        Object::Endpoints(e) => vec![name, endpoints_cell(e), age],
        Object::EndpointSlice(s) => vec![
            name,
            s.address_type.clone(),
            slice_ports_cell(s),
            slice_endpoints_cell(s),
            age,
        ],
        Object::Deployment(d) => deployment_cells(d, age),
        Object::ReplicaSet(r) => replicaset_cells(r, age),
        Object::DaemonSet(d) => daemonset_cells(d, age),
        Object::Ingress(i) => ingress_cells(i, age),
        Object::IngressClass(c) => ingress_class_cells(c, age),
        Object::Node(n) => node_cells(n, age),
        Object::Namespace(n) => namespace_cells(n, age),
        Object::ConfigMap(c) => configmap_cells(c, age),
        Object::Event(e) => event_cells(e, now),
    }
}

fn pod_cells(pod: &Pod, now: Timestamp) -> Vec<String> {
    let spec = pod.spec.as_ref();
    let status = pod.status.as_ref();
    let containers = spec.map(|s| s.containers.as_slice()).unwrap_or(&[]);
    let init_containers = spec
        .and_then(|s| s.init_containers.as_deref())
        .unwrap_or(&[]);
    let conditions = status.and_then(|s| s.conditions.as_deref()).unwrap_or(&[]);
    let phase = status.and_then(|s| s.phase.clone()).unwrap_or_default();
    let status_reason = status.and_then(|s| s.reason.clone()).unwrap_or_default();

    let mut restarts: i64 = 0;
    let mut restartable_restarts: i64 = 0;
    let mut total = containers.len();
    let mut ready = 0;
    let mut last_restart: Option<Timestamp> = None;
    let mut last_restartable_restart: Option<Timestamp> = None;
    let mut reason = if status_reason.is_empty() {
        phase.clone()
    } else {
        status_reason.clone()
    };
    if conditions
        .iter()
        .any(|c| c.type_ == "PodScheduled" && c.reason.as_deref() == Some("SchedulingGated"))
    {
        reason = "SchedulingGated".to_string();
    }
    let is_restartable = |name: &str| {
        init_containers
            .iter()
            .find(|c| c.name == name)
            .is_some_and(|c| c.restart_policy.as_deref() == Some("Always"))
    };
    total += init_containers
        .iter()
        .filter(|c| c.restart_policy.as_deref() == Some("Always"))
        .count();
    let later = |a: Option<Timestamp>, b: Option<Timestamp>| match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };

    let mut initializing = false;
    let init_statuses = status
        .and_then(|s| s.init_container_statuses.as_deref())
        .unwrap_or(&[]);
    for (i, cs) in init_statuses.iter().enumerate() {
        restarts += i64::from(cs.restart_count);
        let finished = cs
            .last_state
            .as_ref()
            .and_then(|s| s.terminated.as_ref())
            .and_then(|t| ts(t.finished_at.as_ref()));
        last_restart = later(last_restart, finished);
        let restartable = is_restartable(&cs.name);
        if restartable {
            restartable_restarts += i64::from(cs.restart_count);
            last_restartable_restart = later(last_restartable_restart, finished);
        }
        let state = cs.state.as_ref();
        let terminated = state.and_then(|s| s.terminated.as_ref());
        let waiting = state.and_then(|s| s.waiting.as_ref());
        if terminated.is_some_and(|t| t.exit_code == 0) {
            continue;
        }
        if restartable && cs.started == Some(true) {
            if cs.ready {
                ready += 1;
            }
            continue;
        }
        if let Some(t) = terminated {
            reason = match t.reason.as_deref() {
                Some(r) if !r.is_empty() => format!("Init:{r}"),
                _ => match t.signal {
                    Some(sig) if sig != 0 => format!("Init:Signal:{sig}"),
                    _ => format!("Init:ExitCode:{}", t.exit_code),
                },
            };
        } else if let Some(r) = waiting
            .and_then(|w| w.reason.as_deref())
            .filter(|r| !r.is_empty() && *r != "PodInitializing")
        {
            reason = format!("Init:{r}");
        } else {
            reason = format!("Init:{i}/{}", init_containers.len());
        }
        initializing = true;
        break;
    }

    let initialized = conditions
        .iter()
        .any(|c| c.type_ == "Initialized" && c.status == "True");
    if !initializing || initialized {
        restarts = restartable_restarts;
        last_restart = last_restartable_restart;
        let mut has_running = false;
        let statuses = status
            .and_then(|s| s.container_statuses.as_deref())
            .unwrap_or(&[]);
        for cs in statuses.iter().rev() {
            restarts += i64::from(cs.restart_count);
            let finished = cs
                .last_state
                .as_ref()
                .and_then(|s| s.terminated.as_ref())
                .and_then(|t| ts(t.finished_at.as_ref()));
            last_restart = later(last_restart, finished);
            let state = cs.state.as_ref();
            let waiting_reason = state
                .and_then(|s| s.waiting.as_ref())
                .and_then(|w| w.reason.as_deref())
                .filter(|r| !r.is_empty());
            let terminated = state.and_then(|s| s.terminated.as_ref());
            if let Some(r) = waiting_reason {
                reason = r.to_string();
            } else if let Some(t) = terminated {
                reason = match t.reason.as_deref() {
                    Some(r) if !r.is_empty() => r.to_string(),
                    _ => match t.signal {
                        Some(sig) if sig != 0 => format!("Signal:{sig}"),
                        _ => format!("ExitCode:{}", t.exit_code),
                    },
                };
            } else if cs.ready && state.is_some_and(|s| s.running.is_some()) {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            let pod_ready = conditions
                .iter()
                .any(|c| c.type_ == "Ready" && c.status == "True");
            reason = if pod_ready { "Running" } else { "NotReady" }.to_string();
        }
    }

    let deleting = pod.metadata.deletion_timestamp.is_some();
    if deleting && status_reason == "NodeLost" {
        reason = "Unknown".to_string();
    } else if deleting && phase != "Succeeded" && phase != "Failed" {
        reason = "Terminating".to_string();
    }

    let restarts_cell = match last_restart {
        Some(t) if restarts != 0 => {
            format!(
                "{restarts} ({} ago)",
                human_duration(seconds_between(t, now))
            )
        }
        _ => restarts.to_string(),
    };

    let pod_ip = status
        .and_then(|s| s.pod_ips.as_ref())
        .and_then(|ips| ips.first())
        .map(|ip| ip.ip.as_str());
    let readiness_gates = match spec.and_then(|s| s.readiness_gates.as_deref()) {
        Some(gates) if !gates.is_empty() => {
            let true_conditions = gates
                .iter()
                .filter(|g| {
                    conditions
                        .iter()
                        .find(|c| c.type_ == g.condition_type)
                        .is_some_and(|c| c.status == "True")
                })
                .count();
            format!("{true_conditions}/{}", gates.len())
        }
        _ => "<none>".to_string(),
    };
    vec![
        pod.metadata.name.clone().unwrap_or_default(),
        format!("{ready}/{total}"),
        reason,
        restarts_cell,
        since(ts(pod.metadata.creation_timestamp.as_ref()), now),
        or(pod_ip, "<none>").to_string(),
        or(spec.and_then(|s| s.node_name.as_deref()), "<none>").to_string(),
        or(
            status.and_then(|s| s.nominated_node_name.as_deref()),
            "<none>",
        )
        .to_string(),
        readiness_gates,
    ]
}

/// The sorted, de-duplicated `ip` (else `hostname`) of load-balancer ingress points.
fn lb_addresses<'a>(points: impl Iterator<Item = (Option<&'a str>, Option<&'a str>)>) -> String {
    let set: BTreeSet<&str> = points
        .filter_map(|(ip, host)| match (ip, host) {
            (Some(ip), _) if !ip.is_empty() => Some(ip),
            (_, Some(h)) if !h.is_empty() => Some(h),
            _ => None,
        })
        .collect();
    set.into_iter().collect::<Vec<_>>().join(",")
}

fn service_cells(svc: &Service, age: String) -> Vec<String> {
    let spec = svc.spec.clone().unwrap_or_default();
    let svc_type = spec.type_.clone().unwrap_or_default();
    let cluster_ip = spec
        .cluster_ips
        .as_ref()
        .and_then(|ips| ips.first())
        .cloned()
        .unwrap_or_else(|| "<none>".to_string());
    let external_ips = spec.external_ips.clone().unwrap_or_default();
    let external = match svc_type.as_str() {
        "ClusterIP" | "NodePort" => {
            if external_ips.is_empty() {
                "<none>".to_string()
            } else {
                external_ips.join(",")
            }
        }
        "LoadBalancer" => {
            let ingress = svc
                .status
                .as_ref()
                .and_then(|s| s.load_balancer.as_ref())
                .and_then(|lb| lb.ingress.as_deref())
                .unwrap_or(&[]);
            let lb = lb_addresses(
                ingress
                    .iter()
                    .map(|i| (i.ip.as_deref(), i.hostname.as_deref())),
            );
            if !external_ips.is_empty() {
                let mut all: Vec<String> = Vec::new();
                if !lb.is_empty() {
                    all.extend(lb.split(',').map(str::to_string));
                }
                all.extend(external_ips);
                all.join(",")
            } else if !lb.is_empty() {
                lb
            } else {
                "<pending>".to_string()
            }
        }
        "ExternalName" => spec.external_name.clone().unwrap_or_default(),
        _ => "<unknown>".to_string(),
    };
    let ports = spec
        .ports
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .map(|p| {
            let proto = p.protocol.as_deref().unwrap_or("");
            match p.node_port {
                Some(np) if np > 0 => format!("{}:{np}/{proto}", p.port),
                _ => format!("{}/{proto}", p.port),
            }
        })
        .collect::<Vec<_>>()
        .join(",");
    vec![
        svc.metadata.name.clone().unwrap_or_default(),
        svc_type,
        cluster_ip,
        external,
        if ports.is_empty() {
            "<none>".to_string()
        } else {
            ports
        },
        age,
        format_labels(spec.selector.as_ref()),
    ]
}

/// `formatEndpoints` with all ports: at most 3 `ip:port` then `+ N more...`.
fn endpoints_cell(ep: &Endpoints) -> String {
    let subsets = ep.subsets.as_deref().unwrap_or(&[]);
    if subsets.is_empty() {
        return "<none>".to_string();
    }
    let max = 3;
    let mut list: Vec<String> = Vec::new();
    let mut more = false;
    let mut count = 0;
    for ss in subsets {
        let addresses = ss.addresses.as_deref().unwrap_or(&[]);
        let ports = ss.ports.as_deref().unwrap_or(&[]);
        if ports.is_empty() {
            count += addresses.len();
            for a in addresses {
                if list.len() == max {
                    more = true;
                    break;
                }
                list.push(a.ip.clone());
            }
            continue;
        }
        for port in ports {
            count += addresses.len();
            for a in addresses {
                if list.len() == max {
                    more = true;
                    break;
                }
                list.push(join_host_port(&a.ip, port.port));
            }
        }
    }
    let ret = list.join(",");
    if more {
        format!("{ret} + {} more...", count - max)
    } else {
        ret
    }
}

fn list_with_more(list: Vec<String>, more: bool, count: usize, max: usize) -> String {
    let ret = list.join(",");
    if more {
        return format!("{ret} + {} more...", count - max);
    }
    if ret.is_empty() {
        "<unset>".to_string()
    } else {
        ret
    }
}

fn slice_ports_cell(s: &EndpointSlice) -> String {
    let max = 3;
    let mut list = Vec::new();
    let mut more = false;
    let mut count = 0;
    for port in s.ports.as_deref().unwrap_or(&[]) {
        if list.len() < max {
            let text = match (port.port, port.name.as_deref()) {
                (Some(p), _) => p.to_string(),
                (None, Some(n)) => n.to_string(),
                (None, None) => "*".to_string(),
            };
            list.push(text);
        } else if list.len() == max {
            more = true;
        }
        count += 1;
    }
    list_with_more(list, more, count, max)
}

fn slice_endpoints_cell(s: &EndpointSlice) -> String {
    let max = 3;
    let mut list = Vec::new();
    let mut more = false;
    let mut count = 0;
    for ep in &s.endpoints {
        for address in &ep.addresses {
            if list.len() < max {
                list.push(address.clone());
            } else if list.len() == max {
                more = true;
            }
            count += 1;
        }
    }
    list_with_more(list, more, count, max)
}

fn container_cells(containers: &[Container]) -> (String, String) {
    let names = containers
        .iter()
        .map(|c| c.name.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let images = containers
        .iter()
        .map(|c| c.image.as_deref().unwrap_or(""))
        .collect::<Vec<_>>()
        .join(",");
    (names, images)
}

fn deployment_cells(d: &Deployment, age: String) -> Vec<String> {
    let spec = d.spec.clone().unwrap_or_default();
    let status = d.status.clone().unwrap_or_default();
    let containers = spec
        .template
        .spec
        .as_ref()
        .map(|s| s.containers.as_slice())
        .unwrap_or(&[]);
    let (names, images) = container_cells(containers);
    vec![
        d.metadata.name.clone().unwrap_or_default(),
        format!(
            "{}/{}",
            status.ready_replicas.unwrap_or(0),
            spec.replicas.unwrap_or(0)
        ),
        status.updated_replicas.unwrap_or(0).to_string(),
        status.available_replicas.unwrap_or(0).to_string(),
        age,
        names,
        images,
        selector_string(Some(&spec.selector)),
    ]
}

fn replicaset_cells(r: &ReplicaSet, age: String) -> Vec<String> {
    let spec = r.spec.clone().unwrap_or_default();
    let status = r.status.clone().unwrap_or_default();
    let containers = spec
        .template
        .as_ref()
        .and_then(|t| t.spec.as_ref())
        .map(|s| s.containers.as_slice())
        .unwrap_or(&[]);
    let (names, images) = container_cells(containers);
    vec![
        r.metadata.name.clone().unwrap_or_default(),
        spec.replicas.unwrap_or(0).to_string(),
        status.replicas.to_string(),
        status.ready_replicas.unwrap_or(0).to_string(),
        age,
        names,
        images,
        selector_string(Some(&spec.selector)),
    ]
}

fn daemonset_cells(d: &DaemonSet, age: String) -> Vec<String> {
    let spec = d.spec.clone().unwrap_or_default();
    let status = d.status.clone().unwrap_or_default();
    let pod_spec = spec.template.spec.as_ref();
    let containers = pod_spec.map(|s| s.containers.as_slice()).unwrap_or(&[]);
    let (names, images) = container_cells(containers);
    vec![
        d.metadata.name.clone().unwrap_or_default(),
        status.desired_number_scheduled.to_string(),
        status.current_number_scheduled.to_string(),
        status.number_ready.to_string(),
        status.updated_number_scheduled.unwrap_or(0).to_string(),
        status.number_available.unwrap_or(0).to_string(),
        format_labels(pod_spec.and_then(|s| s.node_selector.as_ref())),
        age,
        names,
        images,
        selector_string(Some(&spec.selector)),
    ]
}

fn ingress_cells(i: &Ingress, age: String) -> Vec<String> {
    let spec = i.spec.clone().unwrap_or_default();
    let rules = spec.rules.as_deref().unwrap_or(&[]);
    let max = 3;
    let mut list: Vec<&str> = Vec::new();
    let mut more = false;
    for rule in rules {
        if list.len() == max {
            more = true;
        }
        if let Some(h) = rule.host.as_deref().filter(|h| !h.is_empty())
            && !more
        {
            list.push(h);
        }
    }
    let hosts = if list.is_empty() {
        "*".to_string()
    } else if more {
        format!("{} + {} more...", list.join(","), rules.len() - max)
    } else {
        list.join(",")
    };
    let lb = i
        .status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|lb| lb.ingress.as_deref())
        .unwrap_or(&[]);
    let address = lb_addresses(lb.iter().map(|i| (i.ip.as_deref(), i.hostname.as_deref())));
    let ports = if spec.tls.as_ref().is_some_and(|t| !t.is_empty()) {
        "80, 443"
    } else {
        "80"
    };
    vec![
        i.metadata.name.clone().unwrap_or_default(),
        or(spec.ingress_class_name.as_deref(), "<none>").to_string(),
        hosts,
        address,
        ports.to_string(),
        age,
    ]
}

fn ingress_class_cells(c: &IngressClass, age: String) -> Vec<String> {
    let spec = c.spec.clone().unwrap_or_default();
    let parameters = match &spec.parameters {
        Some(p) => {
            let mut s = p.kind.clone();
            if let Some(g) = &p.api_group {
                s = format!("{s}.{g}");
            }
            format!("{s}/{}", p.name)
        }
        None => "<none>".to_string(),
    };
    vec![
        c.metadata.name.clone().unwrap_or_default(),
        spec.controller.clone().unwrap_or_default(),
        parameters,
        age,
    ]
}

/// `findNodeRoles`: sorted `node-role.kubernetes.io/<role>` suffixes and `kubernetes.io/role`
/// values.
pub(crate) fn node_roles(node: &Node) -> Vec<String> {
    let mut roles = BTreeSet::new();
    for (k, v) in node.metadata.labels.iter().flatten() {
        if let Some(role) = k.strip_prefix("node-role.kubernetes.io/") {
            if !role.is_empty() {
                roles.insert(role.to_string());
            }
        } else if k == "kubernetes.io/role" && !v.is_empty() {
            roles.insert(v.clone());
        }
    }
    roles.into_iter().collect()
}

fn node_cells(node: &Node, age: String) -> Vec<String> {
    let status = node.status.clone().unwrap_or_default();
    let mut state: Vec<String> = Vec::new();
    // The last condition of a type wins, as with Go's map assignment.
    if let Some(c) = status
        .conditions
        .iter()
        .flatten()
        .rev()
        .find(|c| c.type_ == "Ready")
    {
        state.push(if c.status == "True" {
            "Ready".to_string()
        } else {
            "NotReady".to_string()
        });
    }
    if state.is_empty() {
        state.push("Unknown".to_string());
    }
    if node
        .spec
        .as_ref()
        .and_then(|s| s.unschedulable)
        .unwrap_or(false)
    {
        state.push("SchedulingDisabled".to_string());
    }
    let roles = node_roles(node).join(",");
    let info = status.node_info.clone().unwrap_or_default();
    let address = |t: &str| {
        status
            .addresses
            .iter()
            .flatten()
            .find(|a| a.type_ == t)
            .map(|a| a.address.clone())
            .unwrap_or_else(|| "<none>".to_string())
    };
    let unknown = |s: &str| {
        if s.is_empty() {
            "<unknown>".to_string()
        } else {
            s.to_string()
        }
    };
    vec![
        node.metadata.name.clone().unwrap_or_default(),
        state.join(","),
        if roles.is_empty() {
            "<none>".to_string()
        } else {
            roles
        },
        age,
        info.kubelet_version.clone(),
        address("InternalIP"),
        address("ExternalIP"),
        unknown(&info.os_image),
        unknown(&info.kernel_version),
        unknown(&info.container_runtime_version),
    ]
}

fn namespace_cells(n: &Namespace, age: String) -> Vec<String> {
    vec![
        n.metadata.name.clone().unwrap_or_default(),
        n.status
            .as_ref()
            .and_then(|s| s.phase.clone())
            .unwrap_or_default(),
        age,
    ]
}

fn configmap_cells(c: &ConfigMap, age: String) -> Vec<String> {
    let n = c.data.as_ref().map_or(0, |d| d.len()) + c.binary_data.as_ref().map_or(0, |d| d.len());
    vec![
        c.metadata.name.clone().unwrap_or_default(),
        n.to_string(),
        age,
    ]
}

fn event_cells(e: &Event, now: Timestamp) -> Vec<String> {
    let first = match ts(e.first_timestamp.as_ref()) {
        Some(t) => since(Some(t), now),
        None => since(e.event_time.as_ref().map(|t| t.0), now),
    };
    let mut last = match ts(e.last_timestamp.as_ref()) {
        Some(t) => since(Some(t), now),
        None => first.clone(),
    };
    let mut count = e.count.unwrap_or(0);
    if let Some(series) = &e.series {
        last = since(series.last_observed_time.as_ref().map(|t| t.0), now);
        count = series.count.unwrap_or(0);
    } else if count == 0 {
        count = 1;
    }
    let involved = &e.involved_object;
    let kind = involved.kind.as_deref().unwrap_or("").to_lowercase();
    let target = match involved.name.as_deref() {
        Some(n) if !n.is_empty() => format!("{kind}/{n}"),
        _ => kind,
    };
    let source = e.source.clone().unwrap_or_default();
    let component = or(
        source.component.as_deref(),
        or(e.reporting_component.as_deref(), ""),
    );
    let instance = or(
        source.host.as_deref(),
        or(e.reporting_instance.as_deref(), ""),
    );
    let source_text = if instance.is_empty() {
        component.to_string()
    } else {
        format!("{component}, {instance}")
    };
    vec![
        last,
        e.type_.clone().unwrap_or_default(),
        e.reason.clone().unwrap_or_default(),
        target,
        involved.field_path.clone().unwrap_or_default(),
        source_text,
        e.message.as_deref().unwrap_or("").trim().to_string(),
        first,
        count.to_string(),
        e.metadata.name.clone().unwrap_or_default(),
    ]
}
