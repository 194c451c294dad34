//! `kubectl describe`: the layouts of kubectl's `pkg/describe/describe.go` (v1.32) for every
//! kind netsim stores, written through a describe-configured [`TabWriter`] with kubectl's
//! `PrefixWriter` indentation (2 spaces per level).
//!
//! This module owns describe text. Like kubectl it reads related objects (EndpointSlices for a
//! Service or Ingress backend, Pods of a ReplicaSet or Node, Events of the object) from the
//! store, but it must never change or infer cluster state.

use crate::common::{format_label_selector, join_host_port, or, rfc1123z, selector_string, ts};
use crate::duration::since;
use crate::table::node_roles;
use crate::tabwriter::TabWriter;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{
    ConfigMap, Container, ContainerState, ContainerStatus, Endpoints, Event, Namespace, Node, Pod,
    PodTemplateSpec, Probe, ResourceRequirements, Service, Toleration, Volume,
};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::{Ingress, IngressBackend, IngressClass};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use netsim_model::jiff::Timestamp;
use netsim_model::{Kind, Object, Store};
use std::collections::BTreeMap;

const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";
const MAX_ANNOTATION_LEN: usize = 140;

/// `kubectl describe` of one object, as kubectl prints it (ends with a newline).
pub fn describe(object: &Object, store: &Store, now: Timestamp) -> String {
    let mut w = Writer::new();
    match object {
        Object::Service(s) => describe_service(&mut w, s, store, now),
        Object::Ingress(i) => describe_ingress(&mut w, i, store, now),
        Object::Pod(p) => describe_pod(&mut w, p, store, now),
        Object::Deployment(d) => describe_deployment(&mut w, d, store, now),
        Object::ReplicaSet(r) => describe_replicaset(&mut w, r, store, now),
        Object::DaemonSet(d) => describe_daemonset(&mut w, d, store, now),
        Object::Node(n) => describe_node(&mut w, n, store, now),
        Object::Endpoints(e) => describe_endpoints(&mut w, e, store, now),
        Object::EndpointSlice(s) => describe_endpoint_slice(&mut w, s, store, now),
        Object::Namespace(n) => describe_namespace(&mut w, n),
        Object::ConfigMap(c) => describe_configmap(&mut w, c, store, now),
        Object::IngressClass(c) => describe_ingress_class(&mut w, c, store, now),
        Object::Event(e) => describe_event(&mut w, e),
    }
    w.finish()
}

/// `kubectl describe TYPE [NAME]` of several objects: descriptions separated by `"\n\n"`, as
/// kubectl's `describe` command joins them.
pub fn describe_list(objects: &[&Object], store: &Store, now: Timestamp) -> String {
    let mut out = String::new();
    for (i, object) in objects.iter().enumerate() {
        if i > 0 {
            out.push_str("\n\n");
        }
        out.push_str(&describe(object, store, now));
    }
    out
}

/// `kubectl describe TYPE PREFIX` when no object is named exactly `PREFIX`: every object whose
/// name starts with it, each description followed by an extra newline
/// (`DescribeMatchingResources`).
pub fn describe_prefix_matches(objects: &[&Object], store: &Store, now: Timestamp) -> String {
    let mut out = String::new();
    for object in objects {
        out.push_str(&describe(object, store, now));
        out.push('\n');
    }
    out
}

/// kubectl's `PrefixWriter` over a describe tab writer.
struct Writer {
    tw: TabWriter,
}

impl Writer {
    fn new() -> Writer {
        Writer {
            tw: TabWriter::for_describe(),
        }
    }

    /// `w.Write(level, text)`: the level's prefix, then `text` verbatim.
    fn w(&mut self, level: usize, text: &str) {
        for _ in 0..level {
            self.tw.write_str("  ");
        }
        self.tw.write_str(text);
    }

    fn flush(&mut self) {
        self.tw.flush();
    }

    fn finish(self) -> String {
        self.tw.finish()
    }
}

fn name(meta: &ObjectMeta) -> &str {
    meta.name.as_deref().unwrap_or("")
}

fn namespace(meta: &ObjectMeta) -> &str {
    meta.namespace.as_deref().unwrap_or("")
}

/// `printLabelsMultilineWithIndent(w, "", title, "\t", labels)`.
fn labels_multiline(w: &mut Writer, title: &str, labels: Option<&BTreeMap<String, String>>) {
    w.w(0, &format!("{title}:\t"));
    match labels {
        Some(m) if !m.is_empty() => {
            for (i, (k, v)) in m.iter().enumerate() {
                if i != 0 {
                    w.w(0, "\t");
                }
                w.w(0, &format!("{k}={v}\n"));
            }
        }
        _ => w.w(0, "<none>\n"),
    }
}

/// `printAnnotationsMultiline`: sorted `key: value`, the last-applied annotation skipped,
/// long or multi-line values on their own indented lines.
fn annotations_multiline(
    w: &mut Writer,
    title: &str,
    annotations: Option<&BTreeMap<String, String>>,
) {
    w.w(0, &format!("{title}:\t"));
    let keys: Vec<&String> = annotations
        .iter()
        .flat_map(|m| m.keys())
        .filter(|k| k.as_str() != LAST_APPLIED)
        .collect();
    if keys.is_empty() {
        w.w(0, "<none>\n");
        return;
    }
    for (i, key) in keys.into_iter().enumerate() {
        if i != 0 {
            w.w(0, "\t");
        }
        let raw = annotations
            .and_then(|m| m.get(key))
            .map_or("", String::as_str);
        let value = raw.strip_suffix('\n').unwrap_or(raw);
        if value.len() + key.len() + 2 > MAX_ANNOTATION_LEN || value.contains('\n') {
            w.w(0, &format!("{key}:\n"));
            for line in value.split('\n') {
                w.w(
                    0,
                    &format!("\t  {}\n", shorten(line, MAX_ANNOTATION_LEN - 2)),
                );
            }
        } else {
            w.w(0, &format!("{key}: {value}\n"));
        }
    }
}

fn shorten(s: &str, max: usize) -> String {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}...", &s[..end])
    } else {
        s.to_string()
    }
}

/// Events whose `involvedObject` is this object (kind, name, namespace), sorted by
/// `lastTimestamp` (stable, so ties keep the store's order).
fn events_for<'a>(store: &'a Store, kind: Kind, meta: &ObjectMeta) -> Vec<&'a Event> {
    let kind_name = kind.info().kind;
    let ns = namespace(meta);
    // kubectl searches the object's namespace (every namespace for a cluster-scoped one).
    let searched = Some(ns).filter(|_| kind.info().namespaced);
    let mut events: Vec<&Event> = store
        .list_typed::<Event>(searched)
        .filter(|e| {
            let io = &e.involved_object;
            io.kind.as_deref() == Some(kind_name)
                && io.name.as_deref() == Some(name(meta))
                && io.namespace.as_deref().unwrap_or("") == ns
                && match (io.uid.as_deref(), meta.uid.as_deref()) {
                    (Some(a), Some(b)) => a == b,
                    _ => true,
                }
        })
        .collect();
    events.sort_by_key(|e| ts(e.last_timestamp.as_ref()));
    events
}

/// `DescribeEvents`.
fn describe_events(w: &mut Writer, events: &[&Event], now: Timestamp) {
    if events.is_empty() {
        w.w(0, "Events:\t<none>\n");
        return;
    }
    w.flush();
    w.w(0, "Events:\n  Type\tReason\tAge\tFrom\tMessage\n");
    w.w(1, "----\t------\t----\t----\t-------\n");
    for e in events {
        let first = match e.event_time.as_ref() {
            Some(t) => since(Some(t.0), now),
            None => since(ts(e.first_timestamp.as_ref()), now),
        };
        let interval = if let Some(series) = &e.series {
            format!(
                "{} (x{} over {first})",
                since(series.last_observed_time.as_ref().map(|t| t.0), now),
                series.count.unwrap_or(0)
            )
        } else if e.count.unwrap_or(0) > 1 {
            format!(
                "{} (x{} over {first})",
                since(ts(e.last_timestamp.as_ref()), now),
                e.count.unwrap_or(0)
            )
        } else {
            first
        };
        let source = or(
            e.source.as_ref().and_then(|s| s.component.as_deref()),
            e.reporting_component.as_deref().unwrap_or(""),
        );
        w.w(
            1,
            &format!(
                "{}\t{}\t{interval}\t{source}\t{}\n",
                e.type_.as_deref().unwrap_or(""),
                e.reason.as_deref().unwrap_or(""),
                e.message.as_deref().unwrap_or("").trim()
            ),
        );
    }
}

fn events(w: &mut Writer, store: &Store, kind: Kind, meta: &ObjectMeta, now: Timestamp) {
    let list = events_for(store, kind, meta);
    describe_events(w, &list, now);
}

/// EndpointSlices labelled `kubernetes.io/service-name=<service>` in `namespace`.
fn slices_for<'a>(store: &'a Store, namespace: &str, service: &str) -> Vec<&'a EndpointSlice> {
    store
        .list_typed::<EndpointSlice>(Some(namespace))
        .filter(|s| {
            s.metadata
                .labels
                .as_ref()
                .and_then(|l| l.get("kubernetes.io/service-name"))
                .is_some_and(|v| v == service)
        })
        .collect()
}

/// `formatEndpointSlices(slices, sets.New(port))`: ready (or unknown) endpoints' first address
/// with the slice port named `port`, at most 3, then `+ N more...`; `<none>` without slices.
fn format_endpoint_slices(slices: &[&EndpointSlice], port: Option<&str>) -> String {
    if slices.is_empty() {
        return "<none>".to_string();
    }
    let max = 3;
    let mut list: Vec<String> = Vec::new();
    let mut more = false;
    let mut count = 0;
    for slice in slices {
        let ports = slice.ports.as_deref().unwrap_or(&[]);
        let ready = |e: &k8s_openapi::api::discovery::v1::Endpoint| {
            e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true)
        };
        if ports.is_empty() {
            for e in &slice.endpoints {
                if list.len() == max {
                    more = true;
                }
                if !ready(e) {
                    continue;
                }
                if !more && let Some(a) = e.addresses.first() {
                    list.push(a.clone());
                }
                count += 1;
            }
        } else {
            for p in ports {
                if port.is_some_and(|want| p.name.as_deref().unwrap_or("") != want) {
                    continue;
                }
                for e in &slice.endpoints {
                    if list.len() == max {
                        more = true;
                    }
                    if !ready(e) {
                        continue;
                    }
                    if !more && let Some(a) = e.addresses.first() {
                        list.push(join_host_port(a, p.port.unwrap_or(0)));
                    }
                    count += 1;
                }
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

fn describe_service(w: &mut Writer, svc: &Service, store: &Store, now: Timestamp) {
    let meta = &svc.metadata;
    let spec = svc.spec.clone().unwrap_or_default();
    let slices = slices_for(store, namespace(meta), name(meta));
    w.w(0, &format!("Name:\t{}\n", name(meta)));
    w.w(0, &format!("Namespace:\t{}\n", namespace(meta)));
    labels_multiline(w, "Labels", meta.labels.as_ref());
    annotations_multiline(w, "Annotations", meta.annotations.as_ref());
    let selector = match &spec.selector {
        Some(m) if !m.is_empty() => netsim_model::labels::format_map(m),
        _ => "<none>".to_string(),
    };
    w.w(0, &format!("Selector:\t{selector}\n"));
    w.w(
        0,
        &format!("Type:\t{}\n", spec.type_.as_deref().unwrap_or("")),
    );
    if let Some(p) = &spec.ip_family_policy {
        w.w(0, &format!("IP Family Policy:\t{p}\n"));
    }
    match spec.ip_families.as_ref().filter(|f| !f.is_empty()) {
        Some(f) => w.w(0, &format!("IP Families:\t{}\n", f.join(","))),
        None => w.w(0, "IP Families:\t<none>\n"),
    }
    w.w(
        0,
        &format!("IP:\t{}\n", spec.cluster_ip.as_deref().unwrap_or("")),
    );
    match spec.cluster_ips.as_ref().filter(|f| !f.is_empty()) {
        Some(ips) => w.w(0, &format!("IPs:\t{}\n", ips.join(","))),
        None => w.w(0, "IPs:\t<none>\n"),
    }
    if let Some(ips) = spec.external_ips.as_ref().filter(|f| !f.is_empty()) {
        w.w(0, &format!("External IPs:\t{}\n", ips.join(",")));
    }
    if let Some(ip) = spec.load_balancer_ip.as_deref().filter(|s| !s.is_empty()) {
        w.w(0, &format!("Desired LoadBalancer IP:\t{ip}\n"));
    }
    if let Some(n) = spec.external_name.as_deref().filter(|s| !s.is_empty()) {
        w.w(0, &format!("External Name:\t{n}\n"));
    }
    let ingress = svc
        .status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|lb| lb.ingress.as_deref())
        .unwrap_or(&[]);
    if !ingress.is_empty() {
        let list = ingress
            .iter()
            .map(|i| match i.ip.as_deref().filter(|ip| !ip.is_empty()) {
                Some(ip) => match &i.ip_mode {
                    Some(mode) => format!("{ip} ({mode})"),
                    None => ip.to_string(),
                },
                None => i.hostname.clone().unwrap_or_default(),
            })
            .collect::<Vec<_>>()
            .join(", ");
        w.w(0, &format!("LoadBalancer Ingress:\t{list}\n"));
    }
    for sp in spec.ports.as_deref().unwrap_or(&[]) {
        let port_name = sp.name.as_deref().unwrap_or("");
        let shown = if port_name.is_empty() {
            "<unset>"
        } else {
            port_name
        };
        let proto = sp.protocol.as_deref().unwrap_or("");
        w.w(0, &format!("Port:\t{shown}\t{}/{proto}\n", sp.port));
        let target = match &sp.target_port {
            Some(IntOrString::Int(n)) => n.to_string(),
            Some(IntOrString::String(s)) => s.clone(),
            None => "0".to_string(),
        };
        w.w(0, &format!("TargetPort:\t{target}/{proto}\n"));
        if let Some(np) = sp.node_port.filter(|n| *n != 0) {
            w.w(0, &format!("NodePort:\t{shown}\t{np}/{proto}\n"));
        }
        w.w(
            0,
            &format!(
                "Endpoints:\t{}\n",
                format_endpoint_slices(&slices, Some(port_name))
            ),
        );
    }
    w.w(
        0,
        &format!(
            "Session Affinity:\t{}\n",
            spec.session_affinity.as_deref().unwrap_or("")
        ),
    );
    if let Some(p) = spec
        .external_traffic_policy
        .as_deref()
        .filter(|s| !s.is_empty())
    {
        w.w(0, &format!("External Traffic Policy:\t{p}\n"));
    }
    if let Some(p) = &spec.internal_traffic_policy {
        w.w(0, &format!("Internal Traffic Policy:\t{p}\n"));
    }
    if let Some(p) = spec.health_check_node_port.filter(|p| *p != 0) {
        w.w(0, &format!("HealthCheck NodePort:\t{p}\n"));
    }
    if let Some(r) = spec
        .load_balancer_source_ranges
        .as_ref()
        .filter(|r| !r.is_empty())
    {
        w.w(
            0,
            &format!("LoadBalancer Source Ranges:\t{}\n", r.join(",")),
        );
    }
    if let Some(t) = spec
        .traffic_distribution
        .as_deref()
        .filter(|s| !s.is_empty())
    {
        w.w(0, &format!("Traffic Distribution:\t{t}\n"));
    }
    events(w, store, Kind::Service, meta, now);
}

/// `describeBackendV1`.
fn describe_backend(store: &Store, ns: &str, backend: &IngressBackend) -> String {
    if let Some(sb) = &backend.service {
        let port = sb.port.clone().unwrap_or_default();
        let port_text = match port.number.filter(|n| *n != 0) {
            Some(n) => n.to_string(),
            None => port.name.clone().unwrap_or_default(),
        };
        let label = format!("{}:{port_text}", sb.name);
        let slices = slices_for(store, ns, &sb.name);
        let Some(service) = store.typed::<Service>(ns, &sb.name) else {
            return format!("{label} (<error: services \"{}\" not found>)", sb.name);
        };
        let mut sp_name = String::new();
        for sp in service
            .spec
            .as_ref()
            .and_then(|s| s.ports.as_deref())
            .unwrap_or(&[])
        {
            let n = sp.name.clone().unwrap_or_default();
            if port.number.is_some_and(|p| p != 0 && p == sp.port)
                || port
                    .name
                    .as_deref()
                    .is_some_and(|p| !p.is_empty() && p == n)
            {
                sp_name = n;
            }
        }
        return format!(
            "{label} ({})",
            format_endpoint_slices(&slices, Some(&sp_name))
        );
    }
    if let Some(r) = &backend.resource {
        return format!(
            "APIGroup: {}, Kind: {}, Name: {}",
            r.api_group.as_deref().unwrap_or("<none>"),
            r.kind,
            r.name
        );
    }
    String::new()
}

fn describe_ingress(w: &mut Writer, ing: &Ingress, store: &Store, now: Timestamp) {
    let meta = &ing.metadata;
    let ns = namespace(meta);
    let spec = ing.spec.clone().unwrap_or_default();
    w.w(0, &format!("Name:\t{}\n", name(meta)));
    labels_multiline(w, "Labels", meta.labels.as_ref());
    w.w(0, &format!("Namespace:\t{ns}\n"));
    let mut addrs: Vec<&str> = ing
        .status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|lb| lb.ingress.as_deref())
        .unwrap_or(&[])
        .iter()
        .filter_map(|i| {
            i.ip.as_deref()
                .filter(|s| !s.is_empty())
                .or(i.hostname.as_deref().filter(|s| !s.is_empty()))
        })
        .collect();
    addrs.sort();
    addrs.dedup();
    w.w(0, &format!("Address:\t{}\n", addrs.join(",")));
    w.w(
        0,
        &format!(
            "Ingress Class:\t{}\n",
            spec.ingress_class_name.as_deref().unwrap_or("<none>")
        ),
    );
    let default_backend = match &spec.default_backend {
        Some(b) => describe_backend(store, ns, b),
        None => "<default>".to_string(),
    };
    w.w(0, &format!("Default backend:\t{default_backend}\n"));
    if let Some(tls) = spec.tls.as_ref().filter(|t| !t.is_empty()) {
        w.w(0, "TLS:\n");
        for t in tls {
            let hosts = t.hosts.clone().unwrap_or_default().join(",");
            match t.secret_name.as_deref().filter(|s| !s.is_empty()) {
                None => w.w(1, &format!("SNI routes {hosts}\n")),
                Some(secret) => w.w(1, &format!("{secret} terminates {hosts}\n")),
            }
        }
    }
    w.w(0, "Rules:\n  Host\tPath\tBackends\n");
    w.w(1, "----\t----\t--------\n");
    let mut count = 0;
    for rule in spec.rules.as_deref().unwrap_or(&[]) {
        let Some(http) = &rule.http else { continue };
        count += 1;
        let host = rule
            .host
            .as_deref()
            .filter(|h| !h.is_empty())
            .unwrap_or("*");
        w.w(1, &format!("{host}\t\n"));
        for path in &http.paths {
            w.w(
                2,
                &format!(
                    "\t{} \t{}\n",
                    path.path.as_deref().unwrap_or(""),
                    describe_backend(store, ns, &path.backend)
                ),
            );
        }
    }
    if count == 0 {
        w.w(1, &format!("*\t*\t{default_backend}\n"));
    }
    annotations_multiline(w, "Annotations", meta.annotations.as_ref());
    events(w, store, Kind::Ingress, meta, now);
}

fn describe_ingress_class(w: &mut Writer, ic: &IngressClass, store: &Store, now: Timestamp) {
    let meta = &ic.metadata;
    let spec = ic.spec.clone().unwrap_or_default();
    w.w(0, &format!("Name:\t{}\n", name(meta)));
    labels_multiline(w, "Labels", meta.labels.as_ref());
    annotations_multiline(w, "Annotations", meta.annotations.as_ref());
    w.w(
        0,
        &format!(
            "Controller:\t{}\n",
            spec.controller.as_deref().unwrap_or("")
        ),
    );
    if let Some(p) = &spec.parameters {
        w.w(0, "Parameters:\n");
        if let Some(g) = &p.api_group {
            w.w(1, &format!("APIGroup:\t{g}\n"));
        }
        w.w(1, &format!("Kind:\t{}\n", p.kind));
        w.w(1, &format!("Name:\t{}\n", p.name));
    }
    events(w, store, Kind::IngressClass, meta, now);
}

fn describe_endpoints(w: &mut Writer, ep: &Endpoints, store: &Store, now: Timestamp) {
    let meta = &ep.metadata;
    w.w(0, &format!("Name:\t{}\n", name(meta)));
    w.w(0, &format!("Namespace:\t{}\n", namespace(meta)));
    labels_multiline(w, "Labels", meta.labels.as_ref());
    annotations_multiline(w, "Annotations", meta.annotations.as_ref());
    w.w(0, "Subsets:\n");
    for ss in ep.subsets.as_deref().unwrap_or(&[]) {
        let join = |a: Option<&Vec<k8s_openapi::api::core::v1::EndpointAddress>>| {
            let s = a
                .map(|v| {
                    v.iter()
                        .map(|x| x.ip.as_str())
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .unwrap_or_default();
            if s.is_empty() {
                "<none>".to_string()
            } else {
                s
            }
        };
        w.w(1, &format!("Addresses:\t{}\n", join(ss.addresses.as_ref())));
        w.w(
            1,
            &format!(
                "NotReadyAddresses:\t{}\n",
                join(ss.not_ready_addresses.as_ref())
            ),
        );
        if let Some(ports) = ss.ports.as_ref().filter(|p| !p.is_empty()) {
            w.w(1, "Ports:\n");
            w.w(2, "Name\tPort\tProtocol\n");
            w.w(2, "----\t----\t--------\n");
            for p in ports {
                w.w(
                    2,
                    &format!(
                        "{}\t{}\t{}\n",
                        or(p.name.as_deref(), "<unset>"),
                        p.port,
                        p.protocol.as_deref().unwrap_or("")
                    ),
                );
            }
        }
        w.w(0, "\n");
    }
    events(w, store, Kind::Endpoints, meta, now);
}

fn describe_endpoint_slice(w: &mut Writer, eps: &EndpointSlice, store: &Store, now: Timestamp) {
    let meta = &eps.metadata;
    w.w(0, &format!("Name:\t{}\n", name(meta)));
    w.w(0, &format!("Namespace:\t{}\n", namespace(meta)));
    labels_multiline(w, "Labels", meta.labels.as_ref());
    annotations_multiline(w, "Annotations", meta.annotations.as_ref());
    w.w(0, &format!("AddressType:\t{}\n", eps.address_type));
    match eps.ports.as_ref().filter(|p| !p.is_empty()) {
        None => w.w(0, "Ports: <unset>\n"),
        Some(ports) => {
            w.w(0, "Ports:\n");
            w.w(1, "Name\tPort\tProtocol\n");
            w.w(1, "----\t----\t--------\n");
            for p in ports {
                let port = p.port.map_or("<unset>".to_string(), |n| n.to_string());
                w.w(
                    1,
                    &format!(
                        "{}\t{port}\t{}\n",
                        or(p.name.as_deref(), "<unset>"),
                        p.protocol.as_deref().unwrap_or("")
                    ),
                );
            }
        }
    }
    if eps.endpoints.is_empty() {
        w.w(0, "Endpoints: <none>\n");
    } else {
        w.w(0, "Endpoints:\n");
        for e in &eps.endpoints {
            let addrs = e.addresses.join(", ");
            w.w(
                1,
                &format!(
                    "- Addresses:\t{}\n",
                    if addrs.is_empty() { "<none>" } else { &addrs }
                ),
            );
            w.w(2, "Conditions:\n");
            let ready = e
                .conditions
                .as_ref()
                .and_then(|c| c.ready)
                .map_or("<unset>".to_string(), |r| r.to_string());
            w.w(3, &format!("Ready:\t{ready}\n"));
            w.w(
                2,
                &format!(
                    "Hostname:\t{}\n",
                    e.hostname.as_deref().unwrap_or("<unset>")
                ),
            );
            if let Some(t) = &e.target_ref {
                w.w(
                    2,
                    &format!(
                        "TargetRef:\t{}/{}\n",
                        t.kind.as_deref().unwrap_or(""),
                        t.name.as_deref().unwrap_or("")
                    ),
                );
            }
            w.w(
                2,
                &format!(
                    "NodeName:\t{}\n",
                    e.node_name.as_deref().unwrap_or("<unset>")
                ),
            );
            w.w(
                2,
                &format!("Zone:\t{}\n", e.zone.as_deref().unwrap_or("<unset>")),
            );
        }
    }
    events(w, store, Kind::EndpointSlice, meta, now);
}

fn describe_namespace(w: &mut Writer, ns: &Namespace) {
    let meta = &ns.metadata;
    let status = ns.status.clone().unwrap_or_default();
    w.w(0, &format!("Name:\t{}\n", name(meta)));
    labels_multiline(w, "Labels", meta.labels.as_ref());
    annotations_multiline(w, "Annotations", meta.annotations.as_ref());
    w.w(
        0,
        &format!("Status:\t{}\n", status.phase.as_deref().unwrap_or("")),
    );
    if let Some(conds) = status.conditions.as_ref().filter(|c| !c.is_empty()) {
        w.w(0, "Conditions:\n");
        w.w(1, "Type\tStatus\tLastTransitionTime\tReason\tMessage\n");
        w.w(1, "----\t------\t------------------\t------\t-------\n");
        for c in conds {
            w.w(
                1,
                &format!(
                    "{}\t{}\t{}\t{}\t{}\n",
                    c.type_,
                    c.status,
                    rfc1123z(ts(c.last_transition_time.as_ref())),
                    c.reason.as_deref().unwrap_or(""),
                    c.message.as_deref().unwrap_or("")
                ),
            );
        }
    }
    // netsim stores no ResourceQuota or LimitRange objects: a real server lists none.
    w.w(0, "\n");
    w.w(0, "No resource quota.\n");
    w.w(0, "\n");
    w.w(0, "No LimitRange resource.\n");
}

fn describe_configmap(w: &mut Writer, cm: &ConfigMap, store: &Store, now: Timestamp) {
    let meta = &cm.metadata;
    w.w(0, &format!("Name:\t{}\n", name(meta)));
    w.w(0, &format!("Namespace:\t{}\n", namespace(meta)));
    labels_multiline(w, "Labels", meta.labels.as_ref());
    annotations_multiline(w, "Annotations", meta.annotations.as_ref());
    w.w(0, "\nData\n====\n");
    // Go iterates the map in random order; netsim prints keys sorted.
    for (k, v) in cm.data.iter().flatten() {
        w.w(0, &format!("{k}:\n----\n"));
        w.w(0, &format!("{v}\n"));
        w.w(0, "\n");
    }
    w.w(0, "\nBinaryData\n====\n");
    for (k, v) in cm.binary_data.iter().flatten() {
        w.w(0, &format!("{k}: {} bytes\n", v.0.len()));
    }
    w.w(0, "\n");
    events(w, store, Kind::ConfigMap, meta, now);
}

fn describe_event(w: &mut Writer, e: &Event) {
    let meta = &e.metadata;
    w.w(0, &format!("Name:\t{}\n", name(meta)));
    w.w(0, &format!("Namespace:\t{}\n", namespace(meta)));
    labels_multiline(w, "Labels", meta.labels.as_ref());
    annotations_multiline(w, "Annotations", meta.annotations.as_ref());
    let io = &e.involved_object;
    w.w(0, "Involved Object:\n");
    w.w(1, &format!("Kind:\t{}\n", io.kind.as_deref().unwrap_or("")));
    w.w(1, &format!("Name:\t{}\n", io.name.as_deref().unwrap_or("")));
    w.w(
        1,
        &format!("Namespace:\t{}\n", io.namespace.as_deref().unwrap_or("")),
    );
    w.w(
        0,
        &format!("Message:\t{}\n", e.message.as_deref().unwrap_or("")),
    );
    w.w(
        0,
        &format!("Reason:\t{}\n", e.reason.as_deref().unwrap_or("")),
    );
    w.w(0, &format!("Type:\t{}\n", e.type_.as_deref().unwrap_or("")));
    w.w(0, "Events:\t<none>\n");
}

// ------------------------------------------------------------------------------------------
// Pods and pod templates

fn describe_pod(w: &mut Writer, pod: &Pod, store: &Store, now: Timestamp) {
    let meta = &pod.metadata;
    let spec = pod.spec.clone().unwrap_or_default();
    let status = pod.status.clone().unwrap_or_default();
    w.w(0, &format!("Name:\t{}\n", name(meta)));
    w.w(0, &format!("Namespace:\t{}\n", namespace(meta)));
    if let Some(p) = spec.priority {
        w.w(0, &format!("Priority:\t{p}\n"));
    }
    if let Some(p) = spec
        .priority_class_name
        .as_deref()
        .filter(|s| !s.is_empty())
    {
        w.w(0, &format!("Priority Class Name:\t{p}\n"));
    }
    if let Some(r) = spec.runtime_class_name.as_deref().filter(|s| !s.is_empty()) {
        w.w(0, &format!("Runtime Class Name:\t{r}\n"));
    }
    if let Some(sa) = spec
        .service_account_name
        .as_deref()
        .filter(|s| !s.is_empty())
    {
        w.w(0, &format!("Service Account:\t{sa}\n"));
    }
    match spec.node_name.as_deref().filter(|s| !s.is_empty()) {
        None => w.w(0, "Node:\t<none>\n"),
        Some(n) => w.w(
            0,
            &format!("Node:\t{n}/{}\n", status.host_ip.as_deref().unwrap_or("")),
        ),
    }
    if let Some(t) = ts(status.start_time.as_ref()) {
        w.w(0, &format!("Start Time:\t{}\n", rfc1123z(Some(t))));
    }
    labels_multiline(w, "Labels", meta.labels.as_ref());
    annotations_multiline(w, "Annotations", meta.annotations.as_ref());
    let phase = status.phase.clone().unwrap_or_default();
    match &meta.deletion_timestamp {
        Some(t) if phase != "Failed" && phase != "Succeeded" => {
            w.w(
                0,
                &format!("Status:\tTerminating (lasts {})\n", since(Some(t.0), now)),
            );
            w.w(
                0,
                &format!(
                    "Termination Grace Period:\t{}s\n",
                    meta.deletion_grace_period_seconds.unwrap_or(0)
                ),
            );
        }
        _ => w.w(0, &format!("Status:\t{phase}\n")),
    }
    if let Some(r) = status.reason.as_deref().filter(|s| !s.is_empty()) {
        w.w(0, &format!("Reason:\t{r}\n"));
    }
    if let Some(m) = status.message.as_deref().filter(|s| !s.is_empty()) {
        w.w(0, &format!("Message:\t{m}\n"));
    }
    w.w(
        0,
        &format!("IP:\t{}\n", status.pod_ip.as_deref().unwrap_or("")),
    );
    match status.pod_ips.as_ref().filter(|ips| !ips.is_empty()) {
        None => w.w(0, "IPs:\t<none>\n"),
        Some(ips) => {
            w.w(0, "IPs:\n");
            for ip in ips {
                w.w(1, &format!("IP:\t{}\n", ip.ip));
            }
        }
    }
    if let Some(c) = controller_of(meta) {
        w.w(0, &format!("Controlled By:\t{c}\n"));
    }
    if let Some(n) = status
        .nominated_node_name
        .as_deref()
        .filter(|s| !s.is_empty())
    {
        w.w(0, &format!("NominatedNodeName:\t{n}\n"));
    }
    if let Some(inits) = spec.init_containers.as_ref().filter(|c| !c.is_empty()) {
        describe_containers(
            w,
            "Init Containers",
            inits,
            status.init_container_statuses.as_deref(),
            Some(pod),
            "",
        );
    }
    describe_containers(
        w,
        "Containers",
        &spec.containers,
        Some(status.container_statuses.as_deref().unwrap_or(&[])),
        Some(pod),
        "",
    );
    let conditions = status.conditions.clone().unwrap_or_default();
    if let Some(gates) = spec.readiness_gates.as_ref().filter(|g| !g.is_empty()) {
        w.w(0, "Readiness Gates:\n  Type\tStatus\n");
        for g in gates {
            let st = conditions
                .iter()
                .find(|c| c.type_ == g.condition_type)
                .map_or("<none>".to_string(), |c| c.status.clone());
            w.w(1, &format!("{} \t{st} \n", g.condition_type));
        }
    }
    if !conditions.is_empty() {
        w.w(0, "Conditions:\n  Type\tStatus\n");
        for c in &conditions {
            w.w(1, &format!("{} \t{} \n", c.type_, c.status));
        }
    }
    describe_volumes(w, spec.volumes.as_deref().unwrap_or(&[]), "");
    let qos = status
        .qos_class
        .clone()
        .unwrap_or_else(|| qos_class(&spec.containers));
    w.w(0, &format!("QoS Class:\t{qos}\n"));
    labels_multiline(w, "Node-Selectors", spec.node_selector.as_ref());
    tolerations_multiline(w, "Tolerations", spec.tolerations.as_deref().unwrap_or(&[]));
    events(w, store, Kind::Pod, meta, now);
}

fn controller_of(meta: &ObjectMeta) -> Option<String> {
    meta.owner_references
        .iter()
        .flatten()
        .find(|o| o.controller == Some(true))
        .map(|o| format!("{}/{}", o.kind, o.name))
}

/// `qos.GetPodQOS` for pods whose status does not carry `qosClass`.
fn qos_class(containers: &[Container]) -> String {
    let mut any = false;
    let mut guaranteed = true;
    for c in containers {
        let res = c.resources.clone().unwrap_or_default();
        let limits = res.limits.unwrap_or_default();
        let requests = res.requests.unwrap_or_default();
        if !limits.is_empty() || !requests.is_empty() {
            any = true;
        }
        for r in ["cpu", "memory"] {
            match limits.get(r) {
                None => guaranteed = false,
                Some(l) => {
                    if requests.get(r).is_some_and(|q| q != l) {
                        guaranteed = false;
                    }
                }
            }
        }
    }
    if !any {
        "BestEffort".into()
    } else if guaranteed {
        "Guaranteed".into()
    } else {
        "Burstable".into()
    }
}

fn tolerations_multiline(w: &mut Writer, title: &str, tolerations: &[Toleration]) {
    w.w(0, &format!("{title}:\t"));
    if tolerations.is_empty() {
        w.w(0, "<none>\n");
        return;
    }
    let mut sorted: Vec<&Toleration> = tolerations.iter().collect();
    sorted.sort_by(|a, b| a.key.cmp(&b.key));
    for (i, t) in sorted.into_iter().enumerate() {
        if i != 0 {
            w.w(0, "\t");
        }
        let key = t.key.as_deref().unwrap_or("");
        let value = t.value.as_deref().unwrap_or("");
        let effect = t.effect.as_deref().unwrap_or("");
        let mut s = key.to_string();
        if !value.is_empty() {
            s.push_str(&format!("={value}"));
        }
        if !effect.is_empty() {
            s.push_str(&format!(":{effect}"));
        }
        if t.operator.as_deref() == Some("Exists") && value.is_empty() {
            if !key.is_empty() || !effect.is_empty() {
                s.push_str(" op=Exists");
            } else {
                s.push_str("op=Exists");
            }
        }
        if let Some(secs) = t.toleration_seconds {
            s.push_str(&format!(" for {secs}s"));
        }
        w.w(0, &format!("{s}\n"));
    }
}

/// `describeContainers`; `statuses: None` for pod templates.
fn describe_containers(
    w: &mut Writer,
    label: &str,
    containers: &[Container],
    statuses: Option<&[ContainerStatus]>,
    pod: Option<&Pod>,
    space: &str,
) {
    let none = if containers.is_empty() { " <none>" } else { "" };
    w.w(0, &format!("{space}{label}:{none}\n"));
    let name_indent = if space.is_empty() { "" } else { " " };
    for c in containers {
        let status = statuses.and_then(|s| s.iter().find(|s| s.name == c.name));
        w.w(1, &format!("{name_indent}{}:\n", c.name));
        if let Some(s) = status {
            w.w(
                2,
                &format!(
                    "Container ID:\t{}\n",
                    s.container_id.as_deref().unwrap_or("")
                ),
            );
        }
        w.w(
            2,
            &format!("Image:\t{}\n", c.image.as_deref().unwrap_or("")),
        );
        if let Some(s) = status {
            w.w(2, &format!("Image ID:\t{}\n", s.image_id));
        }
        let ports = c.ports.as_deref().unwrap_or(&[]);
        let proto = |p: &k8s_openapi::api::core::v1::ContainerPort| {
            p.protocol.clone().unwrap_or_else(|| "TCP".to_string())
        };
        let port_string = ports
            .iter()
            .map(|p| format!("{}/{}", p.container_port, proto(p)))
            .collect::<Vec<_>>()
            .join(", ");
        if port_string.contains(',') {
            w.w(2, &format!("Ports:\t{port_string}\n"));
        } else {
            w.w(2, &format!("Port:\t{}\n", or(Some(&port_string), "<none>")));
        }
        let host_ports = ports
            .iter()
            .map(|p| format!("{}/{}", p.host_port.unwrap_or(0), proto(p)))
            .collect::<Vec<_>>()
            .join(", ");
        if host_ports.contains(',') {
            w.w(2, &format!("Host Ports:\t{host_ports}\n"));
        } else {
            w.w(
                2,
                &format!("Host Port:\t{}\n", or(Some(&host_ports), "<none>")),
            );
        }
        if let Some(cmd) = c.command.as_ref().filter(|v| !v.is_empty()) {
            w.w(2, "Command:\n");
            for part in cmd {
                for line in part.split('\n') {
                    w.w(3, &format!("{line}\n"));
                }
            }
        }
        if let Some(args) = c.args.as_ref().filter(|v| !v.is_empty()) {
            w.w(2, "Args:\n");
            for part in args {
                for line in part.split('\n') {
                    w.w(3, &format!("{line}\n"));
                }
            }
        }
        if let Some(s) = status {
            describe_state(w, "State", s.state.as_ref());
            if let Some(last) = s.last_state.as_ref().filter(|l| l.terminated.is_some()) {
                describe_state(w, "Last State", Some(last));
            }
            w.w(
                2,
                &format!("Ready:\t{}\n", if s.ready { "True" } else { "False" }),
            );
            w.w(2, &format!("Restart Count:\t{}\n", s.restart_count));
        }
        describe_resources(w, c.resources.as_ref());
        if let Some(p) = &c.liveness_probe {
            w.w(2, &format!("Liveness:\t{}\n", describe_probe(p)));
        }
        if let Some(p) = &c.readiness_probe {
            w.w(2, &format!("Readiness:\t{}\n", describe_probe(p)));
        }
        if let Some(p) = &c.startup_probe {
            w.w(2, &format!("Startup:\t{}\n", describe_probe(p)));
        }
        if let Some(from) = c.env_from.as_ref().filter(|v| !v.is_empty()) {
            w.w(2, "Environment Variables from:\n");
            for e in from {
                let (kind, n, optional) = if let Some(r) = &e.config_map_ref {
                    ("ConfigMap", r.name.clone(), r.optional.unwrap_or(false))
                } else if let Some(r) = &e.secret_ref {
                    ("Secret", r.name.clone(), r.optional.unwrap_or(false))
                } else {
                    ("", String::new(), false)
                };
                match e.prefix.as_deref().filter(|p| !p.is_empty()) {
                    None => w.w(3, &format!("{n}\t{kind}\tOptional: {optional}\n")),
                    Some(p) => w.w(
                        3,
                        &format!("{n}\t{kind} with prefix '{p}'\tOptional: {optional}\n"),
                    ),
                }
            }
        }
        describe_env(w, c, pod);
        let mounts = c.volume_mounts.clone().unwrap_or_default();
        if mounts.is_empty() {
            w.w(2, "Mounts:\t<none>\n");
        } else {
            w.w(2, "Mounts:\n");
            let mut mounts = mounts;
            mounts.sort_by(|a, b| a.mount_path.cmp(&b.mount_path));
            for m in &mounts {
                let mut flags = vec![
                    if m.read_only.unwrap_or(false) {
                        "ro"
                    } else {
                        "rw"
                    }
                    .to_string(),
                ];
                if let Some(sp) = m.sub_path.as_deref().filter(|s| !s.is_empty()) {
                    flags.push(format!("path={sp:?}"));
                }
                w.w(
                    3,
                    &format!("{} from {} ({})\n", m.mount_path, m.name, flags.join(",")),
                );
            }
        }
    }
}

fn describe_state(w: &mut Writer, title: &str, state: Option<&ContainerState>) {
    let state = state.cloned().unwrap_or_default();
    if let Some(r) = &state.running {
        w.w(2, &format!("{title}:\tRunning\n"));
        w.w(
            3,
            &format!("Started:\t{}\n", rfc1123z(ts(r.started_at.as_ref()))),
        );
    } else if let Some(wt) = &state.waiting {
        w.w(2, &format!("{title}:\tWaiting\n"));
        if let Some(r) = wt.reason.as_deref().filter(|s| !s.is_empty()) {
            w.w(3, &format!("Reason:\t{r}\n"));
        }
    } else if let Some(t) = &state.terminated {
        w.w(2, &format!("{title}:\tTerminated\n"));
        if let Some(r) = t.reason.as_deref().filter(|s| !s.is_empty()) {
            w.w(3, &format!("Reason:\t{r}\n"));
        }
        if let Some(m) = t.message.as_deref().filter(|s| !s.is_empty()) {
            w.w(3, &format!("Message:\t{m}\n"));
        }
        w.w(3, &format!("Exit Code:\t{}\n", t.exit_code));
        if let Some(sig) = t.signal.filter(|s| *s > 0) {
            w.w(3, &format!("Signal:\t{sig}\n"));
        }
        w.w(
            3,
            &format!("Started:\t{}\n", rfc1123z(ts(t.started_at.as_ref()))),
        );
        w.w(
            3,
            &format!("Finished:\t{}\n", rfc1123z(ts(t.finished_at.as_ref()))),
        );
    } else {
        w.w(2, &format!("{title}:\tWaiting\n"));
    }
}

fn describe_resources(w: &mut Writer, res: Option<&ResourceRequirements>) {
    let Some(res) = res else { return };
    if let Some(l) = res.limits.as_ref().filter(|l| !l.is_empty()) {
        w.w(2, "Limits:\n");
        for (k, v) in l {
            w.w(3, &format!("{k}:\t{}\n", v.0));
        }
    }
    if let Some(r) = res.requests.as_ref().filter(|r| !r.is_empty()) {
        w.w(2, "Requests:\n");
        for (k, v) in r {
            w.w(3, &format!("{k}:\t{}\n", v.0));
        }
    }
}

fn int_or_string(v: &IntOrString) -> String {
    match v {
        IntOrString::Int(n) => n.to_string(),
        IntOrString::String(s) => s.clone(),
    }
}

/// `DescribeProbe` (unset numbers print the API server's defaults).
fn describe_probe(p: &Probe) -> String {
    let attrs = format!(
        "delay={}s timeout={}s period={}s #success={} #failure={}",
        p.initial_delay_seconds.unwrap_or(0),
        p.timeout_seconds.unwrap_or(1),
        p.period_seconds.unwrap_or(10),
        p.success_threshold.unwrap_or(1),
        p.failure_threshold.unwrap_or(3)
    );
    if let Some(e) = &p.exec {
        return format!(
            "exec [{}] {attrs}",
            e.command.clone().unwrap_or_default().join(" ")
        );
    }
    if let Some(h) = &p.http_get {
        let scheme = h.scheme.as_deref().unwrap_or("HTTP").to_lowercase();
        let port = int_or_string(&h.port);
        let host = h.host.as_deref().unwrap_or("");
        let hostport = if port.is_empty() {
            host.to_string()
        } else {
            join_host_port(host, &port)
        };
        return format!(
            "http-get {scheme}://{hostport}{} {attrs}",
            h.path.as_deref().unwrap_or("")
        );
    }
    if let Some(t) = &p.tcp_socket {
        return format!(
            "tcp-socket {}:{} {attrs}",
            t.host.as_deref().unwrap_or(""),
            int_or_string(&t.port)
        );
    }
    if let Some(g) = &p.grpc {
        return format!(
            "grpc <pod>:{} {} {attrs}",
            g.port,
            g.service.as_deref().unwrap_or("")
        );
    }
    format!("unknown {attrs}")
}

/// The value a `fieldRef` env var resolves to on `pod` (kubectl's `EnvValueRetriever`).
fn field_ref_value(pod: &Pod, path: &str) -> String {
    let meta = &pod.metadata;
    let status = pod.status.clone().unwrap_or_default();
    let spec = pod.spec.clone().unwrap_or_default();
    let from_map = |m: Option<&BTreeMap<String, String>>, key: &str| {
        m.and_then(|m| m.get(key)).cloned().unwrap_or_default()
    };
    if let Some(k) = path
        .strip_prefix("metadata.labels['")
        .and_then(|r| r.strip_suffix("']"))
    {
        return from_map(meta.labels.as_ref(), k);
    }
    if let Some(k) = path
        .strip_prefix("metadata.annotations['")
        .and_then(|r| r.strip_suffix("']"))
    {
        return from_map(meta.annotations.as_ref(), k);
    }
    match path {
        "metadata.name" => name(meta).to_string(),
        "metadata.namespace" => namespace(meta).to_string(),
        "metadata.uid" => meta.uid.clone().unwrap_or_default(),
        "spec.nodeName" => spec.node_name.unwrap_or_default(),
        "spec.serviceAccountName" => spec.service_account_name.unwrap_or_default(),
        "status.hostIP" => status.host_ip.unwrap_or_default(),
        "status.podIP" => status.pod_ip.unwrap_or_default(),
        "status.podIPs" => status
            .pod_ips
            .unwrap_or_default()
            .iter()
            .map(|i| i.ip.clone())
            .collect::<Vec<_>>()
            .join(","),
        _ => String::new(),
    }
}

fn describe_env(w: &mut Writer, c: &Container, pod: Option<&Pod>) {
    let env = c.env.clone().unwrap_or_default();
    if env.is_empty() {
        w.w(2, "Environment:\t<none>\n");
        return;
    }
    w.w(2, "Environment:\n");
    for e in &env {
        let Some(from) = &e.value_from else {
            for (i, line) in e.value.as_deref().unwrap_or("").split('\n').enumerate() {
                if i == 0 {
                    w.w(3, &format!("{}:\t{line}\n", e.name));
                } else {
                    w.w(3, &format!("\t{line}\n"));
                }
            }
            continue;
        };
        if let Some(f) = &from.field_ref {
            let value = pod
                .map(|p| field_ref_value(p, &f.field_path))
                .unwrap_or_default();
            w.w(
                3,
                &format!(
                    "{}:\t{value} ({}:{})\n",
                    e.name,
                    f.api_version.as_deref().unwrap_or("v1"),
                    f.field_path
                ),
            );
        } else if let Some(r) = &from.resource_field_ref {
            w.w(3, &format!("{}:\t ({})\n", e.name, r.resource));
        } else if let Some(s) = &from.secret_key_ref {
            w.w(
                3,
                &format!(
                    "{}:\t<set to the key '{}' in secret '{}'>\tOptional: {}\n",
                    e.name,
                    s.key,
                    s.name,
                    s.optional.unwrap_or(false)
                ),
            );
        } else if let Some(s) = &from.config_map_key_ref {
            w.w(
                3,
                &format!(
                    "{}:\t<set to the key '{}' of config map '{}'>\tOptional: {}\n",
                    e.name,
                    s.key,
                    s.name,
                    s.optional.unwrap_or(false)
                ),
            );
        }
    }
}

fn describe_volumes(w: &mut Writer, volumes: &[Volume], space: &str) {
    if volumes.is_empty() {
        w.w(0, &format!("{space}Volumes:\t<none>\n"));
        return;
    }
    w.w(0, &format!("{space}Volumes:\n"));
    let name_indent = if space.is_empty() { "" } else { " " };
    for v in volumes {
        w.w(1, &format!("{name_indent}{}:\n", v.name));
        if let Some(h) = &v.host_path {
            w.w(
                2,
                &format!(
                    "Type:\tHostPath (bare host directory volume)\n    Path:\t{}\n    HostPathType:\t{}\n",
                    h.path,
                    or(h.type_.as_deref(), "<none>")
                ),
            );
        } else if let Some(e) = &v.empty_dir {
            let size = e
                .size_limit
                .as_ref()
                .map(|q| q.0.clone())
                .filter(|s| !s.is_empty() && s != "0")
                .unwrap_or_else(|| "<unset>".to_string());
            w.w(
                2,
                &format!(
                    "Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n    Medium:\t{}\n    SizeLimit:\t{size}\n",
                    e.medium.as_deref().unwrap_or("")
                ),
            );
        } else if let Some(s) = &v.secret {
            w.w(
                2,
                &format!(
                    "Type:\tSecret (a volume populated by a Secret)\n    SecretName:\t{}\n    Optional:\t{}\n",
                    s.secret_name.as_deref().unwrap_or(""),
                    s.optional.unwrap_or(false)
                ),
            );
        } else if let Some(c) = &v.config_map {
            w.w(
                2,
                &format!(
                    "Type:\tConfigMap (a volume populated by a ConfigMap)\n    Name:\t{}\n    Optional:\t{}\n",
                    c.name,
                    c.optional.unwrap_or(false)
                ),
            );
        } else if let Some(p) = &v.persistent_volume_claim {
            w.w(
                2,
                &format!(
                    "Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)\n    ClaimName:\t{}\n    ReadOnly:\t{}\n",
                    p.claim_name,
                    p.read_only.unwrap_or(false)
                ),
            );
        } else if let Some(d) = &v.downward_api {
            w.w(
                2,
                "Type:\tDownwardAPI (a volume populated by information about the pod)\n    Items:\n",
            );
            for item in d.items.iter().flatten() {
                if let Some(f) = &item.field_ref {
                    w.w(3, &format!("{} -> {}\n", f.field_path, item.path));
                }
                if let Some(r) = &item.resource_field_ref {
                    w.w(3, &format!("{} -> {}\n", r.resource, item.path));
                }
            }
        } else if let Some(p) = &v.projected {
            w.w(
                2,
                "Type:\tProjected (a volume that contains injected data from multiple sources)\n",
            );
            for s in p.sources.iter().flatten() {
                if let Some(sec) = &s.secret {
                    w.w(
                        2,
                        &format!(
                            "SecretName:\t{}\n    Optional:\t{}\n",
                            sec.name,
                            sec.optional.unwrap_or(false)
                        ),
                    );
                } else if s.downward_api.is_some() {
                    w.w(2, "DownwardAPI:\ttrue\n");
                } else if let Some(cm) = &s.config_map {
                    w.w(
                        2,
                        &format!(
                            "ConfigMapName:\t{}\n    Optional:\t{}\n",
                            cm.name,
                            match cm.optional {
                                Some(b) => b.to_string(),
                                None => "false".to_string(),
                            }
                        ),
                    );
                } else if let Some(t) = &s.service_account_token {
                    w.w(
                        2,
                        &format!(
                            "TokenExpirationSeconds:\t{}\n",
                            t.expiration_seconds.unwrap_or(3600)
                        ),
                    );
                }
            }
        } else {
            w.w(1, "<unknown>\n");
        }
    }
}

/// `DescribePodTemplate`.
fn describe_pod_template(w: &mut Writer, template: Option<&PodTemplateSpec>) {
    w.w(0, "Pod Template:\n");
    let Some(t) = template else {
        w.w(1, "<unset>");
        return;
    };
    let meta = t.metadata.clone().unwrap_or_default();
    let spec = t.spec.clone().unwrap_or_default();
    labels_multiline(w, "  Labels", meta.labels.as_ref());
    if meta.annotations.as_ref().is_some_and(|a| !a.is_empty()) {
        annotations_multiline(w, "  Annotations", meta.annotations.as_ref());
    }
    if let Some(sa) = spec
        .service_account_name
        .as_deref()
        .filter(|s| !s.is_empty())
    {
        w.w(1, &format!("Service Account:\t{sa}\n"));
    }
    if let Some(inits) = spec.init_containers.as_ref().filter(|c| !c.is_empty()) {
        describe_containers(w, "Init Containers", inits, None, None, "  ");
    }
    describe_containers(w, "Containers", &spec.containers, None, None, "  ");
    describe_volumes(w, spec.volumes.as_deref().unwrap_or(&[]), "  ");
    if let Some(p) = spec
        .priority_class_name
        .as_deref()
        .filter(|s| !s.is_empty())
    {
        w.w(1, &format!("Priority Class Name:\t{p}\n"));
    }
    labels_multiline(w, "  Node-Selectors", spec.node_selector.as_ref());
    tolerations_multiline(
        w,
        "  Tolerations",
        spec.tolerations.as_deref().unwrap_or(&[]),
    );
}

/// Pods in `ns` controlled by the object `meta` of `kind`, counted by phase
/// (running, waiting, succeeded, failed), as `getPodStatusForController` does.
fn pod_status_counts(store: &Store, kind: Kind, meta: &ObjectMeta) -> (usize, usize, usize, usize) {
    let mut counts = (0, 0, 0, 0);
    for pod in store.list_typed::<Pod>(Some(namespace(meta))) {
        let owned = pod.metadata.owner_references.iter().flatten().any(|o| {
            o.controller == Some(true)
                && match meta.uid.as_deref() {
                    Some(uid) => o.uid == uid,
                    None => o.kind == kind.info().kind && o.name == name(meta),
                }
        });
        if !owned {
            continue;
        }
        match pod
            .status
            .as_ref()
            .and_then(|s| s.phase.as_deref())
            .unwrap_or("")
        {
            "Running" => counts.0 += 1,
            "Pending" => counts.1 += 1,
            "Succeeded" => counts.2 += 1,
            "Failed" => counts.3 += 1,
            _ => {}
        }
    }
    counts
}

fn describe_deployment(w: &mut Writer, d: &Deployment, store: &Store, now: Timestamp) {
    let meta = &d.metadata;
    let spec = d.spec.clone().unwrap_or_default();
    let status = d.status.clone().unwrap_or_default();
    w.w(0, &format!("Name:\t{}\n", name(meta)));
    w.w(0, &format!("Namespace:\t{}\n", namespace(meta)));
    w.w(
        0,
        &format!(
            "CreationTimestamp:\t{}\n",
            rfc1123z(ts(meta.creation_timestamp.as_ref()))
        ),
    );
    labels_multiline(w, "Labels", meta.labels.as_ref());
    annotations_multiline(w, "Annotations", meta.annotations.as_ref());
    w.w(
        0,
        &format!("Selector:\t{}\n", selector_string(Some(&spec.selector))),
    );
    w.w(
        0,
        &format!(
            "Replicas:\t{} desired | {} updated | {} total | {} available | {} unavailable\n",
            spec.replicas.unwrap_or(0),
            status.updated_replicas.unwrap_or(0),
            status.replicas.unwrap_or(0),
            status.available_replicas.unwrap_or(0),
            status.unavailable_replicas.unwrap_or(0)
        ),
    );
    let strategy = spec.strategy.clone().unwrap_or_default();
    w.w(
        0,
        &format!(
            "StrategyType:\t{}\n",
            strategy.type_.as_deref().unwrap_or("")
        ),
    );
    w.w(
        0,
        &format!(
            "MinReadySeconds:\t{}\n",
            spec.min_ready_seconds.unwrap_or(0)
        ),
    );
    if let Some(ru) = &strategy.rolling_update {
        let show = |v: &Option<IntOrString>| v.as_ref().map_or("0".to_string(), int_or_string);
        w.w(
            0,
            &format!(
                "RollingUpdateStrategy:\t{} max unavailable, {} max surge\n",
                show(&ru.max_unavailable),
                show(&ru.max_surge)
            ),
        );
    }
    describe_pod_template(w, Some(&spec.template));
    if let Some(conds) = status.conditions.as_ref().filter(|c| !c.is_empty()) {
        w.w(0, "Conditions:\n  Type\tStatus\tReason\n");
        w.w(1, "----\t------\t------\n");
        for c in conds {
            w.w(
                1,
                &format!(
                    "{} \t{}\t{}\n",
                    c.type_,
                    c.status,
                    c.reason.as_deref().unwrap_or("")
                ),
            );
        }
    }
    let (old, new) = replica_sets_of(store, d);
    if !old.is_empty() || !new.is_empty() {
        w.w(0, &format!("OldReplicaSets:\t{}\n", rs_list(&old)));
        w.w(0, &format!("NewReplicaSet:\t{}\n", rs_list(&new)));
    }
    events(w, store, Kind::Deployment, meta, now);
}

/// ReplicaSets controlled by `d`, split into old and new (the one whose pod template equals
/// the deployment's, ignoring `pod-template-hash`).
fn replica_sets_of<'a>(
    store: &'a Store,
    d: &Deployment,
) -> (Vec<&'a ReplicaSet>, Vec<&'a ReplicaSet>) {
    let meta = &d.metadata;
    let strip = |t: Option<&PodTemplateSpec>| {
        let mut t = t.cloned().unwrap_or_default();
        if let Some(m) = t.metadata.as_mut()
            && let Some(l) = m.labels.as_mut()
        {
            l.remove("pod-template-hash");
            if l.is_empty() {
                m.labels = None;
            }
        }
        t
    };
    let want = strip(d.spec.as_ref().map(|s| &s.template));
    let mut old = Vec::new();
    let mut new = Vec::new();
    for rs in store.list_typed::<ReplicaSet>(Some(namespace(meta))) {
        let owned = rs.metadata.owner_references.iter().flatten().any(|o| {
            o.controller == Some(true)
                && match meta.uid.as_deref() {
                    Some(uid) => o.uid == uid,
                    None => o.kind == "Deployment" && o.name == name(meta),
                }
        });
        if !owned {
            continue;
        }
        let template = strip(rs.spec.as_ref().and_then(|s| s.template.as_ref()));
        if new.is_empty() && template == want {
            new.push(rs);
        } else {
            old.push(rs);
        }
    }
    (old, new)
}

fn rs_list(list: &[&ReplicaSet]) -> String {
    if list.is_empty() {
        return "<none>".to_string();
    }
    list.iter()
        .map(|rs| {
            format!(
                "{} ({}/{} replicas created)",
                name(&rs.metadata),
                rs.status.as_ref().map_or(0, |s| s.replicas),
                rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn describe_replicaset(w: &mut Writer, rs: &ReplicaSet, store: &Store, now: Timestamp) {
    let meta = &rs.metadata;
    let spec = rs.spec.clone().unwrap_or_default();
    let status = rs.status.clone().unwrap_or_default();
    w.w(0, &format!("Name:\t{}\n", name(meta)));
    w.w(0, &format!("Namespace:\t{}\n", namespace(meta)));
    w.w(
        0,
        &format!(
            "Selector:\t{}\n",
            format_label_selector(Some(&spec.selector))
        ),
    );
    labels_multiline(w, "Labels", meta.labels.as_ref());
    annotations_multiline(w, "Annotations", meta.annotations.as_ref());
    if let Some(c) = controller_of(meta) {
        w.w(0, &format!("Controlled By:\t{c}\n"));
    }
    w.w(
        0,
        &format!(
            "Replicas:\t{} current / {} desired\n",
            status.replicas,
            spec.replicas.unwrap_or(0)
        ),
    );
    let (r, wt, s, f) = pod_status_counts(store, Kind::ReplicaSet, meta);
    w.w(0, "Pods Status:\t");
    w.w(
        0,
        &format!("{r} Running / {wt} Waiting / {s} Succeeded / {f} Failed\n"),
    );
    describe_pod_template(w, spec.template.as_ref());
    if let Some(conds) = status.conditions.as_ref().filter(|c| !c.is_empty()) {
        w.w(0, "Conditions:\n  Type\tStatus\tReason\n");
        w.w(1, "----\t------\t------\n");
        for c in conds {
            w.w(
                1,
                &format!(
                    "{} \t{}\t{}\n",
                    c.type_,
                    c.status,
                    c.reason.as_deref().unwrap_or("")
                ),
            );
        }
    }
    events(w, store, Kind::ReplicaSet, meta, now);
}

fn describe_daemonset(w: &mut Writer, ds: &DaemonSet, store: &Store, now: Timestamp) {
    let meta = &ds.metadata;
    let spec = ds.spec.clone().unwrap_or_default();
    let status = ds.status.clone().unwrap_or_default();
    w.w(0, &format!("Name:\t{}\n", name(meta)));
    w.w(0, &format!("Namespace:\t{}\n", namespace(meta)));
    w.w(
        0,
        &format!("Selector:\t{}\n", selector_string(Some(&spec.selector))),
    );
    let node_selector = spec
        .template
        .spec
        .as_ref()
        .and_then(|s| s.node_selector.as_ref())
        .filter(|m| !m.is_empty())
        .map(netsim_model::labels::format_map)
        .unwrap_or_default();
    w.w(0, &format!("Node-Selector:\t{node_selector}\n"));
    labels_multiline(w, "Labels", meta.labels.as_ref());
    annotations_multiline(w, "Annotations", meta.annotations.as_ref());
    w.w(
        0,
        &format!(
            "Desired Number of Nodes Scheduled: {}\n",
            status.desired_number_scheduled
        ),
    );
    w.w(
        0,
        &format!(
            "Current Number of Nodes Scheduled: {}\n",
            status.current_number_scheduled
        ),
    );
    w.w(
        0,
        &format!(
            "Number of Nodes Scheduled with Up-to-date Pods: {}\n",
            status.updated_number_scheduled.unwrap_or(0)
        ),
    );
    w.w(
        0,
        &format!(
            "Number of Nodes Scheduled with Available Pods: {}\n",
            status.number_available.unwrap_or(0)
        ),
    );
    w.w(
        0,
        &format!(
            "Number of Nodes Misscheduled: {}\n",
            status.number_misscheduled
        ),
    );
    let (r, wt, s, f) = pod_status_counts(store, Kind::DaemonSet, meta);
    w.w(
        0,
        &format!("Pods Status:\t{r} Running / {wt} Waiting / {s} Succeeded / {f} Failed\n"),
    );
    describe_pod_template(w, Some(&spec.template));
    events(w, store, Kind::DaemonSet, meta, now);
}

// ------------------------------------------------------------------------------------------
// Nodes

fn describe_node(w: &mut Writer, node: &Node, store: &Store, now: Timestamp) {
    let meta = &node.metadata;
    let spec = node.spec.clone().unwrap_or_default();
    let status = node.status.clone().unwrap_or_default();
    let node_name = name(meta);
    w.w(0, &format!("Name:\t{node_name}\n"));
    let roles = node_roles(node);
    w.w(
        0,
        &format!(
            "Roles:\t{}\n",
            if roles.is_empty() {
                "<none>".to_string()
            } else {
                roles.join(",")
            }
        ),
    );
    labels_multiline(w, "Labels", meta.labels.as_ref());
    annotations_multiline(w, "Annotations", meta.annotations.as_ref());
    w.w(
        0,
        &format!(
            "CreationTimestamp:\t{}\n",
            rfc1123z(ts(meta.creation_timestamp.as_ref()))
        ),
    );
    let mut taints = spec.taints.clone().unwrap_or_default();
    w.w(0, "Taints:\t");
    if taints.is_empty() {
        w.w(0, "<none>\n");
    } else {
        taints.sort_by(|a, b| {
            format!("{},{}", a.effect, a.key).cmp(&format!("{},{}", b.effect, b.key))
        });
        for (i, t) in taints.iter().enumerate() {
            if i != 0 {
                w.w(0, "\t");
            }
            let mut s = t.key.clone();
            if let Some(v) = t.value.as_deref().filter(|v| !v.is_empty()) {
                s.push_str(&format!("={v}"));
            }
            if !t.effect.is_empty() {
                s.push_str(&format!(":{}", t.effect));
            }
            w.w(0, &format!("{s}\n"));
        }
    }
    w.w(
        0,
        &format!("Unschedulable:\t{}\n", spec.unschedulable.unwrap_or(false)),
    );
    // netsim keeps no Lease objects; the kubelet renews its lease every 10 s, so the holder is
    // the node and the renew time is "now".
    w.w(0, "Lease:\n");
    w.w(1, &format!("HolderIdentity:\t{node_name}\n"));
    w.w(1, "AcquireTime:\t<unset>\n");
    w.w(1, &format!("RenewTime:\t{}\n", rfc1123z(Some(now))));
    if let Some(conds) = status.conditions.as_ref().filter(|c| !c.is_empty()) {
        w.w(
            0,
            "Conditions:\n  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage\n",
        );
        w.w(
            1,
            "----\t------\t-----------------\t------------------\t------\t-------\n",
        );
        for c in conds {
            w.w(
                1,
                &format!(
                    "{} \t{} \t{} \t{} \t{} \t{}\n",
                    c.type_,
                    c.status,
                    rfc1123z(ts(c.last_heartbeat_time.as_ref())),
                    rfc1123z(ts(c.last_transition_time.as_ref())),
                    c.reason.as_deref().unwrap_or(""),
                    c.message.as_deref().unwrap_or("")
                ),
            );
        }
    }
    w.w(0, "Addresses:\n");
    for a in status.addresses.iter().flatten() {
        w.w(1, &format!("{}:\t{}\n", a.type_, a.address));
    }
    let print_resources =
        |w: &mut Writer,
         list: &BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>| {
            for (k, v) in list {
                w.w(0, &format!("  {k}:\t{}\n", v.0));
            }
        };
    let capacity = status.capacity.clone().unwrap_or_default();
    let allocatable = status.allocatable.clone().unwrap_or_default();
    if !capacity.is_empty() {
        w.w(0, "Capacity:\n");
        print_resources(w, &capacity);
    }
    if !allocatable.is_empty() {
        w.w(0, "Allocatable:\n");
        print_resources(w, &allocatable);
    }
    let info = status.node_info.clone().unwrap_or_default();
    w.w(0, "System Info:\n");
    w.w(0, &format!("  Machine ID:\t{}\n", info.machine_id));
    w.w(0, &format!("  System UUID:\t{}\n", info.system_uuid));
    w.w(0, &format!("  Boot ID:\t{}\n", info.boot_id));
    w.w(0, &format!("  Kernel Version:\t{}\n", info.kernel_version));
    w.w(0, &format!("  OS Image:\t{}\n", info.os_image));
    w.w(
        0,
        &format!("  Operating System:\t{}\n", info.operating_system),
    );
    w.w(0, &format!("  Architecture:\t{}\n", info.architecture));
    w.w(
        0,
        &format!(
            "  Container Runtime Version:\t{}\n",
            info.container_runtime_version
        ),
    );
    w.w(
        0,
        &format!("  Kubelet Version:\t{}\n", info.kubelet_version),
    );
    w.w(
        0,
        &format!("  Kube-Proxy Version:\t{}\n", info.kube_proxy_version),
    );
    if let Some(c) = spec.pod_cidr.as_deref().filter(|s| !s.is_empty()) {
        w.w(0, &format!("PodCIDR:\t{c}\n"));
    }
    if let Some(c) = spec.pod_cidrs.as_ref().filter(|c| !c.is_empty()) {
        w.w(0, &format!("PodCIDRs:\t{}\n", c.join(",")));
    }
    if let Some(p) = spec.provider_id.as_deref().filter(|s| !s.is_empty()) {
        w.w(0, &format!("ProviderID:\t{p}\n"));
    }
    describe_node_resource(w, store, node_name, &capacity, &allocatable, now);
    // Node events are recorded in the default namespace with an empty involvedObject namespace.
    events(w, store, Kind::Node, meta, now);
}

type Resources = BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>;

fn describe_node_resource(
    w: &mut Writer,
    store: &Store,
    node_name: &str,
    capacity: &Resources,
    allocatable: &Resources,
    now: Timestamp,
) {
    let pods: Vec<&Pod> = store
        .list_typed::<Pod>(None)
        .filter(|p| {
            p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(node_name)
                && !matches!(
                    p.status.as_ref().and_then(|s| s.phase.as_deref()),
                    Some("Succeeded" | "Failed")
                )
        })
        .collect();
    let alloc = if allocatable.is_empty() {
        capacity
    } else {
        allocatable
    };
    let alloc_cpu = alloc.get("cpu").map_or(0, |q| quantity_milli(&q.0));
    let alloc_mem = alloc
        .get("memory")
        .map_or(0, |q| quantity_milli(&q.0) / 1000);
    let alloc_eph = alloc
        .get("ephemeral-storage")
        .map_or(0, |q| quantity_milli(&q.0) / 1000);
    let pct = |v: i128, total: i128| if total == 0 { 0 } else { v * 100 / total };
    w.w(
        0,
        &format!("Non-terminated Pods:\t({} in total)\n", pods.len()),
    );
    w.w(
        1,
        "Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge\n",
    );
    w.w(
        1,
        "---------\t----\t\t------------\t----------\t---------------\t-------------\t---\n",
    );
    let mut totals = [0i128; 6];
    for pod in &pods {
        let sum = pod_resources(pod);
        for (t, v) in totals.iter_mut().zip(sum) {
            *t += v;
        }
        w.w(
            1,
            &format!(
                "{}\t{}\t\t{} ({}%)\t{} ({}%)\t{} ({}%)\t{} ({}%)\t{}\n",
                namespace(&pod.metadata),
                name(&pod.metadata),
                format_cpu(sum[0]),
                pct(sum[0], alloc_cpu),
                format_cpu(sum[1]),
                pct(sum[1], alloc_cpu),
                format_bytes(sum[2]),
                pct(sum[2], alloc_mem),
                format_bytes(sum[3]),
                pct(sum[3], alloc_mem),
                since(ts(pod.metadata.creation_timestamp.as_ref()), now)
            ),
        );
    }
    w.w(
        0,
        "Allocated resources:\n  (Total limits may be over 100 percent, i.e., overcommitted.)\n",
    );
    w.w(1, "Resource\tRequests\tLimits\n");
    w.w(1, "--------\t--------\t------\n");
    // One row per resource: (name, requests, limits, allocatable, how to print a quantity).
    let rows: [AllocatedRow; 3] = [
        ("cpu", totals[0], totals[1], alloc_cpu, format_cpu),
        ("memory", totals[2], totals[3], alloc_mem, format_bytes),
        (
            "ephemeral-storage",
            totals[4],
            totals[5],
            alloc_eph,
            format_bytes,
        ),
    ];
    for (name, requests, limits, allocatable, fmt) in rows {
        w.w(
            1,
            &format!(
                "{name}\t{} ({}%)\t{} ({}%)\n",
                fmt(requests),
                pct(requests, allocatable),
                fmt(limits),
                pct(limits, allocatable)
            ),
        );
    }
    let mut hugepages: Vec<&String> = alloc
        .keys()
        .filter(|k| k.starts_with("hugepages-"))
        .collect();
    hugepages.sort();
    for h in hugepages {
        w.w(1, &format!("{h}\t0 (0%)\t0 (0%)\n"));
    }
}

/// Sum of container requests/limits of a pod: cpu req, cpu lim (millicores), memory req,
/// memory lim, ephemeral-storage req, lim (bytes).
fn pod_resources(pod: &Pod) -> [i128; 6] {
    let mut sum = [0i128; 6];
    for c in pod.spec.iter().flat_map(|s| s.containers.iter()) {
        let res = c.resources.clone().unwrap_or_default();
        let get = |m: &Option<Resources>, k: &str| {
            m.as_ref()
                .and_then(|m| m.get(k))
                .map_or(0, |q| quantity_milli(&q.0))
        };
        sum[0] += get(&res.requests, "cpu");
        sum[1] += get(&res.limits, "cpu");
        sum[2] += get(&res.requests, "memory") / 1000;
        sum[3] += get(&res.limits, "memory") / 1000;
        sum[4] += get(&res.requests, "ephemeral-storage") / 1000;
        sum[5] += get(&res.limits, "ephemeral-storage") / 1000;
    }
    sum
}

/// A quantity in thousandths of its unit (`100m` → 100, `1` → 1000, `128Mi` → 134217728000).
fn quantity_milli(q: &str) -> i128 {
    let q = q.trim();
    let split = q
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
        .unwrap_or(q.len());
    let (num, suffix) = q.split_at(split);
    let mult: f64 = match suffix {
        "" => 1.0,
        "m" => 0.001,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        _ => 1.0,
    };
    let n: f64 = num.parse().unwrap_or(0.0);
    (n * mult * 1000.0).round() as i128
}

/// One "Allocated resources" row: name, requests, limits, allocatable, quantity printer.
type AllocatedRow = (&'static str, i128, i128, i128, fn(i128) -> String);

fn format_cpu(milli: i128) -> String {
    if milli % 1000 == 0 {
        (milli / 1000).to_string()
    } else {
        format!("{milli}m")
    }
}

fn format_bytes(bytes: i128) -> String {
    if bytes == 0 {
        return "0".to_string();
    }
    for (suffix, size) in [("Gi", 1i128 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)] {
        if bytes % size == 0 {
            return format!("{}{suffix}", bytes / size);
        }
    }
    for (suffix, size) in [("G", 1_000_000_000i128), ("M", 1_000_000), ("k", 1000)] {
        if bytes % size == 0 {
            return format!("{}{suffix}", bytes / size);
        }
    }
    bytes.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        assert_eq!(quantity_milli("100m"), 100);
        assert_eq!(quantity_milli("2"), 2000);
        assert_eq!(format_cpu(2000), "2");
        assert_eq!(format_cpu(250), "250m");
        assert_eq!(format_bytes(quantity_milli("128Mi") / 1000), "128Mi");
    }
}
