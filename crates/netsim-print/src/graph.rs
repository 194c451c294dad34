//! `netsim graph`: a picture of the simulated cluster for a projector, as Graphviz DOT
//! ([`dot`]), a Mermaid flowchart ([`mermaid`]) or a self-contained SVG ([`svg`]).
//!
//! The picture ([`ClusterPicture`]) is plain data the caller builds from the cluster: nodes with
//! their host interfaces and pods (each pod's `eth0` and the host end of its veth pair), VXLAN
//! tunnels between nodes, Services with their ready endpoints, and Ingress rules. The printers
//! compute nothing about the cluster: they lay the picture out and format it, in the order it is
//! given, so the same picture always gives the same bytes.

use std::fmt::Write;

/// Everything `netsim graph` draws.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClusterPicture {
    /// The nodes, in the order to draw them (left to right).
    pub nodes: Vec<NodeBox>,
    /// VXLAN tunnels between nodes.
    pub tunnels: Vec<Tunnel>,
    /// The Services, in the order to draw them.
    pub services: Vec<ServiceBox>,
    /// The Ingress rules, in the order to draw them.
    pub ingresses: Vec<IngressRule>,
}

/// One node: its host network namespace and the pods on it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeBox {
    /// Node name.
    pub name: String,
    /// The host namespace's interfaces worth drawing (`eth0`, `cni0`, `flannel.1`, ...), in
    /// ifindex order.
    pub interfaces: Vec<HostInterface>,
    /// Pods with their own network namespace on this node.
    pub pods: Vec<PodBox>,
    /// Pods on this node that share the host's namespace (`hostNetwork: true`), as
    /// `namespace/name`.
    pub host_network_pods: Vec<String>,
}

/// What a host interface is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InterfaceKind {
    /// A NIC (`eth0`).
    Ether,
    /// A Linux bridge (`cni0`, `docker0`).
    Bridge,
    /// A VXLAN device (`flannel.1`).
    Vxlan,
    /// A dummy device (`kube-ipvs0`).
    Dummy,
}

impl InterfaceKind {
    /// How a person names the kind.
    pub fn word(self) -> &'static str {
        match self {
            InterfaceKind::Ether => "NIC",
            InterfaceKind::Bridge => "bridge",
            InterfaceKind::Vxlan => "VXLAN",
            InterfaceKind::Dummy => "dummy",
        }
    }
}

/// One interface of a node's host namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostInterface {
    /// Interface name.
    pub name: String,
    /// What it is.
    pub kind: InterfaceKind,
    /// Its IPv4 addresses with prefix (`10.0.0.11/24`).
    pub addrs: Vec<String>,
    /// For a VXLAN device, the interface its packets leave by (`eth0`).
    pub underlay: Option<String>,
    /// A short note (`VNI 1, UDP 8472`).
    pub note: Option<String>,
}

/// A pod with its own network namespace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodBox {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// The address of its `eth0` with prefix (`10.244.1.2/24`), once it has one.
    pub ip: Option<String>,
    /// The pod's phase when it is not `Running`.
    pub status: Option<String>,
    /// Its veth pair, once the sandbox exists.
    pub veth: Option<Veth>,
}

/// A veth pair between a pod's namespace and the host's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Veth {
    /// The pod's end (`eth0`).
    pub pod_end: String,
    /// The host's end (`veth1a2b3c4d`).
    pub host_end: String,
    /// The bridge the host end is a port of (`cni0`).
    pub bridge: Option<String>,
}

/// A VXLAN tunnel between two nodes' VXLAN devices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tunnel {
    /// One node's name.
    pub from_node: String,
    /// The other node's name.
    pub to_node: String,
    /// The VXLAN device on both ends (`flannel.1`).
    pub device: String,
    /// What to write on the tunnel (`VXLAN, UDP 8472`).
    pub label: String,
}

/// A Service.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceBox {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// `ClusterIP`, `NodePort`, `LoadBalancer` or `ExternalName`.
    pub kind: String,
    /// The ClusterIP (`None` for a headless Service), if any.
    pub cluster_ip: Option<String>,
    /// External addresses (external IPs, load-balancer ingress, an ExternalName).
    pub external: Vec<String>,
    /// Ports as `kubectl get svc` prints them (`80:30080/TCP`).
    pub ports: Vec<String>,
    /// Where the ready endpoints are.
    pub endpoints: Vec<EndpointTarget>,
}

/// Where a Service's ready endpoint is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum EndpointTarget {
    /// A pod in the picture, with its own namespace.
    Pod {
        /// Pod namespace.
        namespace: String,
        /// Pod name.
        name: String,
    },
    /// A node's host namespace (a host-network pod, or the node's own address).
    Node {
        /// Node name.
        node: String,
    },
    /// An address outside the picture.
    Address(String),
}

/// One path of an Ingress.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngressRule {
    /// Namespace of the Ingress (and of the Service it routes to).
    pub namespace: String,
    /// Name of the Ingress.
    pub ingress: String,
    /// The host it matches; `None` matches every host.
    pub host: Option<String>,
    /// The path (`/`), or `None` for the default backend.
    pub path: Option<String>,
    /// The backend Service.
    pub service: String,
    /// The backend port (a number or a port name).
    pub port: String,
}

impl IngressRule {
    /// `host/path` as a person reads it.
    pub fn matches(&self) -> String {
        let host = self.host.as_deref().unwrap_or("*");
        match &self.path {
            Some(path) => format!("{host}{path}"),
            None => format!("{host} (default backend)"),
        }
    }
}

fn qualified(namespace: &str, name: &str) -> String {
    if namespace == "default" || namespace.is_empty() {
        name.to_string()
    } else {
        format!("{namespace}/{name}")
    }
}

fn service_lines(s: &ServiceBox) -> Vec<String> {
    let mut lines = vec![qualified(&s.namespace, &s.name)];
    let ip = s.cluster_ip.as_deref().unwrap_or("<none>");
    lines.push(format!("{} {ip}", s.kind));
    if !s.ports.is_empty() {
        lines.push(s.ports.join(","));
    }
    if !s.external.is_empty() {
        lines.push(format!("external {}", s.external.join(",")));
    }
    let outside: Vec<&str> = s
        .endpoints
        .iter()
        .filter_map(|e| match e {
            EndpointTarget::Address(a) => Some(a.as_str()),
            _ => None,
        })
        .collect();
    if !outside.is_empty() {
        lines.push(format!("endpoints {}", outside.join(",")));
    }
    lines
}

fn pod_address_line(p: &PodBox) -> String {
    let mut line = p.ip.clone().unwrap_or_else(|| "no address".into());
    if let Some(status) = &p.status {
        let _ = write!(line, " ({status})");
    }
    line
}

fn interface_title(i: &HostInterface) -> String {
    format!("{} ({})", i.name, i.kind.word())
}

fn addr_summary(addrs: &[String]) -> Option<String> {
    match addrs {
        [] => None,
        [one] => Some(one.clone()),
        [first, rest @ ..] => Some(format!("{first} +{} more", rest.len())),
    }
}

// ---------------------------------------------------------------------------------------------
// DOT

/// Text escaped for a DOT quoted string.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// A DOT quoted string.
fn q(text: &str) -> String {
    format!("\"{}\"", esc(text))
}

/// A pod's cluster label: its name, and its namespace below unless `default`.
fn dot_pod_title(pod: &PodBox) -> String {
    if pod.namespace == "default" || pod.namespace.is_empty() {
        format!("pod {}", pod.name)
    } else {
        format!("pod {}\n(namespace {})", pod.name, pod.namespace)
    }
}

fn dot_iface_id(node: &str, iface: &str) -> String {
    q(&format!("{node}:{iface}"))
}

fn dot_pod_id(namespace: &str, name: &str) -> String {
    q(&format!("pod:{namespace}/{name}"))
}

fn dot_svc_id(namespace: &str, name: &str) -> String {
    q(&format!("svc:{namespace}/{name}"))
}

/// The node a Service endpoint points at in the DOT and Mermaid pictures: a pod's `eth0`, or the
/// node's first NIC.
fn node_nic<'a>(p: &'a ClusterPicture, node: &str) -> Option<&'a str> {
    let n = p.nodes.iter().find(|n| n.name == node)?;
    n.interfaces
        .iter()
        .find(|i| i.kind == InterfaceKind::Ether)
        .or_else(|| n.interfaces.first())
        .map(|i| i.name.as_str())
}

/// The picture as a Graphviz `digraph` (`dot -Tpng`): one cluster per node holding the host
/// namespace and one cluster per pod, Services and Ingress rules above.
pub fn dot(p: &ClusterPicture) -> String {
    let mut s = String::new();
    s.push_str("digraph netsim {\n");
    s.push_str(
        "  graph [rankdir=LR, newrank=true, compound=true, fontname=\"Helvetica\", fontsize=22, nodesep=0.35, ranksep=0.6, pad=0.3, bgcolor=\"white\"];\n",
    );
    s.push_str(
        "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=18, fillcolor=\"white\", color=\"black\", penwidth=2, margin=\"0.2,0.1\"];\n",
    );
    s.push_str("  edge [fontname=\"Helvetica\", fontsize=16, penwidth=2];\n");

    if !p.ingresses.is_empty() {
        s.push_str("\n  subgraph \"cluster_ingress\" {\n    label=\"Ingress rules\"; style=\"rounded,dashed\"; color=\"#555555\";\n");
        for (i, r) in p.ingresses.iter().enumerate() {
            let label = format!(
                "{}\n→ {}:{}\n(ingress {})",
                r.matches(),
                r.service,
                r.port,
                qualified(&r.namespace, &r.ingress)
            );
            let _ = writeln!(
                s,
                "    {} [label={}, fillcolor=\"#fce7f3\", color=\"#9d174d\"];",
                q(&format!("ing:{i}")),
                q(&label)
            );
        }
        s.push_str("  }\n");
    }

    if !p.services.is_empty() {
        s.push_str("\n  subgraph \"cluster_services\" {\n    label=\"Services\"; style=\"rounded,dashed\"; color=\"#555555\";\n");
        for svc in &p.services {
            let _ = writeln!(
                s,
                "    {} [label={}, fillcolor=\"#fef9c3\", color=\"#854d0e\"];",
                dot_svc_id(&svc.namespace, &svc.name),
                q(&service_lines(svc).join("\n"))
            );
        }
        s.push_str("  }\n");
    }

    for n in &p.nodes {
        let _ = writeln!(
            s,
            "\n  subgraph {} {{\n    label={}; style=\"rounded,filled\"; fillcolor=\"#f3f4f6\"; color=\"black\"; penwidth=3;",
            q(&format!("cluster_node:{}", n.name)),
            q(&format!("node {}", n.name))
        );
        let _ = writeln!(
            s,
            "    subgraph {} {{\n      label=\"host network namespace\"; style=\"rounded,filled\"; fillcolor=\"white\"; color=\"#374151\"; penwidth=1;",
            q(&format!("cluster_host:{}", n.name))
        );
        for i in &n.interfaces {
            let (fill, color) = match i.kind {
                InterfaceKind::Ether => ("#e5e7eb", "black"),
                InterfaceKind::Bridge => ("#dcfce7", "#166534"),
                InterfaceKind::Vxlan => ("#ffedd5", "#9a3412"),
                InterfaceKind::Dummy => ("#f5f5f5", "#6b7280"),
            };
            let mut label = vec![interface_title(i)];
            label.extend(addr_summary(&i.addrs));
            label.extend(i.note.clone());
            let _ = writeln!(
                s,
                "      {} [label={}, fillcolor=\"{fill}\", color=\"{color}\"];",
                dot_iface_id(&n.name, &i.name),
                q(&label.join("\n"))
            );
        }
        for pod in &n.pods {
            if let Some(v) = &pod.veth {
                let _ = writeln!(
                    s,
                    "      {} [label={}, fillcolor=\"#dcfce7\", color=\"#166534\", fontsize=16];",
                    dot_iface_id(&n.name, &v.host_end),
                    q(&v.host_end)
                );
            }
        }
        if !n.host_network_pods.is_empty() {
            let mut label = String::from("hostNetwork pods:\\n");
            for h in &n.host_network_pods {
                label.push_str(&esc(h));
                label.push_str("\\l");
            }
            let _ = writeln!(
                s,
                "      {} [label=\"{label}\", shape=note, style=\"filled\", fillcolor=\"#f9fafb\", color=\"#6b7280\", fontsize=16];",
                q(&format!("{}:hostpods", n.name))
            );
            // They share the node's NIC: a dotted line to it keeps them beside it. (Not
            // `rank=same`: with it, Graphviz 2.43 draws each tunnel twice.)
            if let Some(nic) = node_nic(p, &n.name) {
                let _ = writeln!(
                    s,
                    "      {} -> {} [style=dotted, arrowhead=none, color=\"#6b7280\"];",
                    q(&format!("{}:hostpods", n.name)),
                    dot_iface_id(&n.name, nic)
                );
            }
        }
        s.push_str("    }\n");
        for pod in &n.pods {
            let _ = writeln!(
                s,
                "    subgraph {} {{\n      label={}; style=\"rounded,filled\"; fillcolor=\"#dbeafe\"; color=\"#1e3a8a\"; penwidth=2;",
                q(&format!("cluster_pod:{}/{}", pod.namespace, pod.name)),
                q(&dot_pod_title(pod))
            );
            let end = pod.veth.as_ref().map_or("eth0", |v| v.pod_end.as_str());
            let _ = writeln!(
                s,
                "      {} [label={}, fillcolor=\"white\", color=\"#1e3a8a\"];",
                dot_pod_id(&pod.namespace, &pod.name),
                q(&format!("{end}\n{}", pod_address_line(pod)))
            );
            s.push_str("    }\n");
        }
        for pod in &n.pods {
            let Some(v) = &pod.veth else { continue };
            let _ = writeln!(
                s,
                "    {} -> {} [dir=both, color=\"#166534\", label=\"veth pair\"];",
                dot_pod_id(&pod.namespace, &pod.name),
                dot_iface_id(&n.name, &v.host_end)
            );
            if let Some(bridge) = &v.bridge {
                let _ = writeln!(
                    s,
                    "    {} -> {} [arrowhead=none, color=\"#166534\"];",
                    dot_iface_id(&n.name, &v.host_end),
                    dot_iface_id(&n.name, bridge)
                );
            }
        }
        // The way out of the node: a bridge routes to the VXLAN device, which sends by its
        // underlay NIC.
        for i in &n.interfaces {
            let Some(under) = &i.underlay else { continue };
            if let Some(b) = bus_bridge(n) {
                let _ = writeln!(
                    s,
                    "    {} -> {} [style=dotted, label=\"route\"];",
                    dot_iface_id(&n.name, &n.interfaces[b].name),
                    dot_iface_id(&n.name, &i.name)
                );
            }
            let _ = writeln!(
                s,
                "    {} -> {} [style=dotted, label=\"encapsulated\"];",
                dot_iface_id(&n.name, &i.name),
                dot_iface_id(&n.name, under)
            );
        }
        s.push_str("  }\n");
    }

    if !p.tunnels.is_empty() {
        s.push('\n');
    }
    for t in &p.tunnels {
        let _ = writeln!(
            s,
            "  {} -> {} [dir=both, style=dashed, color=\"#c2410c\", fontcolor=\"#9a3412\", penwidth=3, constraint=false, label={}];",
            dot_iface_id(&t.from_node, &t.device),
            dot_iface_id(&t.to_node, &t.device),
            q(&t.label)
        );
    }

    let mut any = false;
    for (k, svc) in p.services.iter().enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        for e in &svc.endpoints {
            let target = match e {
                EndpointTarget::Pod { namespace, name } => dot_pod_id(namespace, name),
                EndpointTarget::Node { node } => match node_nic(p, node) {
                    Some(nic) => dot_iface_id(node, nic),
                    None => continue,
                },
                EndpointTarget::Address(_) => continue,
            };
            if !any {
                s.push('\n');
                any = true;
            }
            let _ = writeln!(
                s,
                "  {} -> {target} [color=\"{color}\"];",
                dot_svc_id(&svc.namespace, &svc.name)
            );
        }
    }
    for (i, r) in p.ingresses.iter().enumerate() {
        let known = p
            .services
            .iter()
            .any(|svc| svc.namespace == r.namespace && svc.name == r.service);
        if !known {
            continue;
        }
        let _ = writeln!(
            s,
            "  {} -> {} [color=\"#9d174d\"];",
            q(&format!("ing:{i}")),
            dot_svc_id(&r.namespace, &r.service)
        );
    }
    s.push_str("}\n");
    s
}

// ---------------------------------------------------------------------------------------------
// Mermaid

/// Text for a Mermaid label in double quotes.
fn m(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '\n' => out.push_str("<br/>"),
            c => out.push(c),
        }
    }
    out
}

/// The picture as a Mermaid `flowchart LR`: one subgraph per node (with the host namespace and
/// each pod as subgraphs inside it), one for the Services and one for the Ingress rules.
pub fn mermaid(p: &ClusterPicture) -> String {
    // Mermaid ids must be plain words: number everything.
    let iface_id = |n: usize, i: usize| format!("n{n}i{i}");
    let veth_id = |n: usize, k: usize| format!("n{n}v{k}");
    let pod_id = |n: usize, k: usize| format!("n{n}p{k}");
    let find_iface = |n: usize, name: &str| {
        p.nodes[n]
            .interfaces
            .iter()
            .position(|i| i.name == name)
            .map(|i| iface_id(n, i))
    };
    let find_node = |name: &str| p.nodes.iter().position(|n| n.name == name);

    let mut s = String::from("flowchart LR\n");
    if !p.ingresses.is_empty() {
        s.push_str("  subgraph ingress[\"Ingress rules\"]\n");
        for (i, r) in p.ingresses.iter().enumerate() {
            let label = format!("{}\n→ {}:{}", r.matches(), r.service, r.port);
            let _ = writeln!(s, "    ing{i}[\"{}\"]", m(&label));
        }
        s.push_str("  end\n");
    }
    if !p.services.is_empty() {
        s.push_str("  subgraph services[\"Services\"]\n");
        for (k, svc) in p.services.iter().enumerate() {
            let _ = writeln!(s, "    svc{k}[\"{}\"]", m(&service_lines(svc).join("\n")));
        }
        s.push_str("  end\n");
    }
    for (ni, n) in p.nodes.iter().enumerate() {
        let _ = writeln!(
            s,
            "  subgraph n{ni}[\"{}\"]",
            m(&format!("node {}", n.name))
        );
        let _ = writeln!(s, "    subgraph n{ni}host[\"host network namespace\"]");
        for (ii, i) in n.interfaces.iter().enumerate() {
            let mut label = vec![interface_title(i)];
            label.extend(addr_summary(&i.addrs));
            label.extend(i.note.clone());
            let _ = writeln!(
                s,
                "      {}[\"{}\"]",
                iface_id(ni, ii),
                m(&label.join("\n"))
            );
        }
        for (k, pod) in n.pods.iter().enumerate() {
            if let Some(v) = &pod.veth {
                let _ = writeln!(s, "      {}[\"{}\"]", veth_id(ni, k), m(&v.host_end));
            }
        }
        if !n.host_network_pods.is_empty() {
            let label = format!("hostNetwork pods:\n{}", n.host_network_pods.join("\n"));
            let _ = writeln!(s, "      n{ni}hostpods[\"{}\"]", m(&label));
        }
        s.push_str("    end\n");
        for (k, pod) in n.pods.iter().enumerate() {
            let _ = writeln!(
                s,
                "    subgraph n{ni}pod{k}[\"{}\"]",
                m(&format!("pod {}", qualified(&pod.namespace, &pod.name)))
            );
            let end = pod.veth.as_ref().map_or("eth0", |v| v.pod_end.as_str());
            let _ = writeln!(
                s,
                "      {}[\"{}\"]",
                pod_id(ni, k),
                m(&format!("{end}\n{}", pod_address_line(pod)))
            );
            s.push_str("    end\n");
        }
        for (k, pod) in n.pods.iter().enumerate() {
            let Some(v) = &pod.veth else { continue };
            let _ = writeln!(
                s,
                "    {} <-->|veth pair| {}",
                pod_id(ni, k),
                veth_id(ni, k)
            );
            if let Some(bridge) = v.bridge.as_deref().and_then(|b| find_iface(ni, b)) {
                let _ = writeln!(s, "    {} --- {bridge}", veth_id(ni, k));
            }
        }
        for (ii, i) in n.interfaces.iter().enumerate() {
            let Some(under) = i.underlay.as_deref().and_then(|u| find_iface(ni, u)) else {
                continue;
            };
            if let Some(b) = bus_bridge(n) {
                let _ = writeln!(
                    s,
                    "    {} -.->|route| {}",
                    iface_id(ni, b),
                    iface_id(ni, ii)
                );
            }
            let _ = writeln!(s, "    {} -.->|encapsulated| {under}", iface_id(ni, ii));
        }
        s.push_str("  end\n");
    }
    for t in &p.tunnels {
        let (Some(a), Some(b)) = (find_node(&t.from_node), find_node(&t.to_node)) else {
            continue;
        };
        let (Some(a), Some(b)) = (find_iface(a, &t.device), find_iface(b, &t.device)) else {
            continue;
        };
        let _ = writeln!(s, "  {a} <-.->|\"{}\"| {b}", m(&t.label));
    }
    for (k, svc) in p.services.iter().enumerate() {
        for e in &svc.endpoints {
            let target = match e {
                EndpointTarget::Pod { namespace, name } => {
                    p.nodes.iter().enumerate().find_map(|(ni, n)| {
                        n.pods
                            .iter()
                            .position(|x| &x.namespace == namespace && &x.name == name)
                            .map(|k| pod_id(ni, k))
                    })
                }
                EndpointTarget::Node { node } => find_node(node)
                    .and_then(|ni| node_nic(p, node).and_then(|nic| find_iface(ni, nic))),
                EndpointTarget::Address(_) => None,
            };
            if let Some(target) = target {
                let _ = writeln!(s, "  svc{k} --> {target}");
            }
        }
    }
    for (i, r) in p.ingresses.iter().enumerate() {
        if let Some(k) = p
            .services
            .iter()
            .position(|svc| svc.namespace == r.namespace && svc.name == r.service)
        {
            let _ = writeln!(s, "  ing{i} --> svc{k}");
        }
    }
    s
}

// ---------------------------------------------------------------------------------------------
// SVG

/// Edge colours for Services, dark enough to read on white.
const PALETTE: [&str; 8] = [
    "#c62828", "#1565c0", "#2e7d32", "#6a1b9a", "#ef6c00", "#00838f", "#ad1457", "#4e342e",
];

/// Body text size (px).
const FS: f64 = 18.0;
/// Small text size (px).
const FSMALL: f64 = 16.0;
/// Title text size (px).
const FT: f64 = 24.0;
/// Inner padding of a box.
const PAD: f64 = 10.0;
/// Outer margin.
const MARGIN: f64 = 24.0;
/// Padding inside a node's box.
const INNER: f64 = 18.0;
/// Gap between node columns.
const COL_GAP: f64 = 90.0;
/// Gap between boxes in a row.
const GAP: f64 = 24.0;
/// The first Service lane right of a node's box.
const LANE0: f64 = 14.0;
/// The distance between Service lanes.
const LANE: f64 = 8.0;
/// Where the bridge's bus runs, from the node box's left edge.
const BUS_X: f64 = INNER + 16.0;
/// Where pod boxes start, from the node box's left edge.
const POD_X: f64 = INNER + 50.0;

/// One line of text in a box.
#[derive(Clone)]
struct Line {
    text: String,
    size: f64,
    bold: bool,
}

fn line(text: impl Into<String>, size: f64, bold: bool) -> Line {
    Line {
        text: text.into(),
        size,
        bold,
    }
}

/// The advance of `text` in the monospace font the SVG asks for (0.6 em a character).
fn text_width(text: &str, size: f64) -> f64 {
    text.chars().count() as f64 * size * 0.6
}

fn lines_size(lines: &[Line]) -> (f64, f64) {
    let w = lines
        .iter()
        .map(|l| text_width(&l.text, l.size))
        .fold(0.0, f64::max);
    let h: f64 = lines.iter().map(|l| l.size * 1.3).sum();
    ((w + 2.0 * PAD).ceil(), (h + 2.0 * PAD).ceil())
}

/// XML-escaped text.
fn x(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// A positioned box.
#[derive(Clone, Copy, Default)]
struct Rect {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

impl Rect {
    fn cx(&self) -> f64 {
        self.x + self.w / 2.0
    }
    fn cy(&self) -> f64 {
        self.y + self.h / 2.0
    }
    fn right(&self) -> f64 {
        self.x + self.w
    }
    fn bottom(&self) -> f64 {
        self.y + self.h
    }
}

struct Style<'a> {
    fill: &'a str,
    stroke: &'a str,
    width: f64,
    dash: bool,
}

fn draw_box(s: &mut String, r: Rect, style: &Style<'_>, lines: &[Line], center: bool) {
    let dash = if style.dash {
        " stroke-dasharray=\"8 6\""
    } else {
        ""
    };
    let _ = writeln!(
        s,
        "<rect x=\"{:.0}\" y=\"{:.0}\" width=\"{:.0}\" height=\"{:.0}\" rx=\"8\" fill=\"{}\" stroke=\"{}\" stroke-width=\"{}\"{dash}/>",
        r.x, r.y, r.w, r.h, style.fill, style.stroke, style.width
    );
    let mut y = r.y + PAD;
    for l in lines {
        y += l.size * 1.3;
        let baseline = y - l.size * 0.3;
        let (tx, anchor) = if center {
            (r.cx(), "middle")
        } else {
            (r.x + PAD, "start")
        };
        let weight = if l.bold { " font-weight=\"bold\"" } else { "" };
        let _ = writeln!(
            s,
            "<text x=\"{tx:.0}\" y=\"{baseline:.0}\" font-size=\"{}\" text-anchor=\"{anchor}\"{weight}>{}</text>",
            l.size,
            x(&l.text)
        );
    }
}

fn text_at(s: &mut String, tx: f64, ty: f64, size: f64, fill: &str, anchor: &str, text: &str) {
    let _ = writeln!(
        s,
        "<text x=\"{tx:.0}\" y=\"{ty:.0}\" font-size=\"{size}\" fill=\"{fill}\" text-anchor=\"{anchor}\" font-weight=\"bold\">{}</text>",
        x(text)
    );
}

/// A label on a white background, for text over lines.
fn label_at(s: &mut String, tx: f64, ty: f64, fill: &str, text: &str) {
    let w = text_width(text, FSMALL) + 8.0;
    let _ = writeln!(
        s,
        "<rect x=\"{:.0}\" y=\"{:.0}\" width=\"{w:.0}\" height=\"{:.0}\" fill=\"white\" opacity=\"0.9\"/>",
        tx - w / 2.0,
        ty - FSMALL,
        FSMALL * 1.3
    );
    let _ = writeln!(
        s,
        "<text x=\"{tx:.0}\" y=\"{ty:.0}\" font-size=\"{FSMALL}\" fill=\"{fill}\" text-anchor=\"middle\" font-weight=\"bold\">{}</text>",
        x(text)
    );
}

/// A row of boxes, wrapped at `wrap` and centred over `width` (or the widest row); returns the
/// boxes, the height and the width used.
fn row(sizes: &[(f64, f64)], left: f64, top: f64, width: f64, wrap: f64) -> (Vec<Rect>, f64, f64) {
    let mut rows: Vec<Vec<usize>> = Vec::new();
    let mut used = 0.0;
    for (i, (w, _)) in sizes.iter().enumerate() {
        match rows.last_mut() {
            Some(r) if used + GAP + w <= wrap => {
                r.push(i);
                used += GAP + w;
            }
            _ => {
                rows.push(vec![i]);
                used = *w;
            }
        }
    }
    let row_width = |r: &Vec<usize>| {
        r.iter().map(|&i| sizes[i].0).sum::<f64>() + GAP * r.len().saturating_sub(1) as f64
    };
    let width = rows.iter().map(row_width).fold(width, f64::max);
    let mut out = vec![Rect::default(); sizes.len()];
    let mut y = top;
    for r in &rows {
        let total = row_width(r);
        let h = r.iter().map(|&i| sizes[i].1).fold(0.0, f64::max);
        let mut xx = left + ((width - total) / 2.0).max(0.0);
        for &i in r {
            out[i] = Rect {
                x: xx,
                y,
                w: sizes[i].0,
                h,
            };
            xx += sizes[i].0 + GAP;
        }
        y += h + GAP + 40.0;
    }
    let used_h = if rows.is_empty() { 0.0 } else { y - top - 40.0 };
    (out, used_h, width)
}

/// One node's boxes, laid out.
struct NodeLayout {
    frame: Rect,
    pods: Vec<Rect>,
    /// Index into the node's interfaces of the bridge the pods hang on, and its box.
    bus: Option<(usize, Rect)>,
    hostpods: Option<Rect>,
    /// The other interfaces' boxes, by index into the node's interfaces.
    bottom: Vec<(usize, Rect)>,
}

fn pod_lines(p: &PodBox) -> Vec<Line> {
    let mut lines = vec![
        line(qualified(&p.namespace, &p.name), FS, true),
        line(pod_address_line(p), FS, false),
    ];
    if let Some(v) = &p.veth {
        lines.push(line(
            format!("{} ⇄ {} (host)", v.pod_end, v.host_end),
            FSMALL,
            false,
        ));
    }
    lines
}

fn iface_lines(i: &HostInterface) -> Vec<Line> {
    let mut lines = vec![line(interface_title(i), FS, true)];
    if let Some(a) = addr_summary(&i.addrs) {
        lines.push(line(a, FS, false));
    }
    if let Some(n) = &i.note {
        lines.push(line(n.clone(), FSMALL, false));
    }
    lines
}

fn hostpod_lines(n: &NodeBox) -> Vec<Line> {
    let nic = n
        .interfaces
        .iter()
        .find(|i| i.kind == InterfaceKind::Ether)
        .map_or("the node's network", |i| i.name.as_str());
    let mut lines = vec![line(
        format!("hostNetwork pods (share {nic}):"),
        FSMALL,
        true,
    )];
    lines.extend(
        n.host_network_pods
            .iter()
            .map(|h| line(h.clone(), FSMALL, false)),
    );
    lines
}

fn bus_bridge(n: &NodeBox) -> Option<usize> {
    let on_pods = n.interfaces.iter().position(|i| {
        n.pods
            .iter()
            .any(|p| p.veth.as_ref().and_then(|v| v.bridge.as_ref()) == Some(&i.name))
    });
    on_pods.or_else(|| {
        n.interfaces
            .iter()
            .position(|i| i.kind == InterfaceKind::Bridge && i.name == "cni0")
    })
}

fn layout_nodes(p: &ClusterPicture, left: f64, top: f64) -> Vec<NodeLayout> {
    struct Sizes {
        pods: Vec<(f64, f64)>,
        bus: Option<(usize, (f64, f64))>,
        hostpods: Option<(f64, f64)>,
        bottom: Vec<(usize, (f64, f64))>,
        width: f64,
    }
    let mut all = Vec::new();
    for n in &p.nodes {
        let pods: Vec<(f64, f64)> = n.pods.iter().map(|p| lines_size(&pod_lines(p))).collect();
        let bus = bus_bridge(n).map(|i| (i, lines_size(&iface_lines(&n.interfaces[i]))));
        let hostpods = (!n.host_network_pods.is_empty()).then(|| lines_size(&hostpod_lines(n)));
        // VXLAN devices first (under the bridge, where the tunnels leave), then the rest.
        let mut bottom: Vec<(usize, (f64, f64))> = n
            .interfaces
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != bus.map(|b| b.0))
            .map(|(i, f)| (i, lines_size(&iface_lines(f))))
            .collect();
        bottom.sort_by_key(|(i, _)| (n.interfaces[*i].kind != InterfaceKind::Vxlan, *i));
        let pods_w = pods.iter().map(|s| s.0).fold(0.0, f64::max) + POD_X + INNER;
        let mid_w = 2.0 * INNER + bus.map_or(0.0, |b| b.1.0) + hostpods.map_or(0.0, |h| h.0 + GAP);
        let bottom_w = 2.0 * INNER
            + bottom.iter().map(|b| b.1.0).sum::<f64>()
            + GAP * bottom.len().saturating_sub(1) as f64;
        let title_w = 2.0 * INNER + text_width(&format!("node {}", n.name), FT);
        let width = pods_w.max(mid_w).max(bottom_w).max(title_w).max(260.0);
        all.push(Sizes {
            pods,
            bus,
            hostpods,
            bottom,
            width,
        });
    }
    // Rows are shared by all nodes, so bridges, VXLAN devices and NICs line up.
    let pods_h = all
        .iter()
        .map(|s| s.pods.iter().map(|p| p.1 + 14.0).sum::<f64>())
        .fold(0.0, f64::max);
    let mid_h = all
        .iter()
        .map(|s| {
            s.bus
                .map_or(0.0, |b| b.1.1)
                .max(s.hostpods.map_or(0.0, |h| h.1))
        })
        .fold(0.0, f64::max);
    let bottom_h = all
        .iter()
        .map(|s| s.bottom.iter().map(|b| b.1.1).fold(0.0, f64::max))
        .fold(0.0, f64::max);
    let pods_top = top + FT * 1.3 + 2.0 * INNER;
    let mid_top = pods_top + pods_h + 10.0;
    let bottom_top = mid_top + mid_h + 56.0;
    let frame_h = bottom_top + bottom_h + INNER - top;

    let mut out = Vec::new();
    let mut left = left;
    for s in all {
        let frame = Rect {
            x: left,
            y: top,
            w: s.width,
            h: frame_h,
        };
        let mut y = pods_top;
        let pods = s
            .pods
            .iter()
            .map(|&(w, h)| {
                let r = Rect {
                    x: left + POD_X,
                    y,
                    w,
                    h,
                };
                y += h + 14.0;
                r
            })
            .collect();
        let bus = s.bus.map(|(i, (w, h))| {
            (
                i,
                Rect {
                    x: left + INNER,
                    y: mid_top,
                    w,
                    h,
                },
            )
        });
        let hostpods = s.hostpods.map(|(w, h)| Rect {
            x: left + s.width - INNER - w,
            y: mid_top,
            w,
            h,
        });
        let mut xx = left + INNER;
        let bottom = s
            .bottom
            .iter()
            .map(|&(i, (w, h))| {
                let r = Rect {
                    x: xx,
                    y: bottom_top,
                    w,
                    h,
                };
                xx += w + GAP;
                (i, r)
            })
            .collect();
        out.push(NodeLayout {
            frame,
            pods,
            bus,
            hostpods,
            bottom,
        });
        left += s.width + COL_GAP;
    }
    out
}

fn iface_rect(l: &NodeLayout, i: usize) -> Option<Rect> {
    if let Some((b, r)) = l.bus
        && b == i
    {
        return Some(r);
    }
    l.bottom.iter().find(|(k, _)| *k == i).map(|(_, r)| *r)
}

fn arrow(s: &mut String, d: &str, color: &str, width: f64, dash: bool, marker: Option<usize>) {
    let dash = if dash {
        " stroke-dasharray=\"10 7\""
    } else {
        ""
    };
    let end = marker.map_or(String::new(), |k| format!(" marker-end=\"url(#a{k})\""));
    let _ = writeln!(
        s,
        "<path d=\"{d}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"{width}\"{dash}{end}/>"
    );
}

/// The picture as a self-contained SVG: Ingress rules and Services in rows at the top, one
/// column per node below (pods stacked on the bridge, then the host's interfaces), VXLAN
/// tunnels as arcs under the nodes, and a legend. Monospace text, 16px and up, black on white.
pub fn svg(p: &ClusterPicture) -> String {
    let mut body = String::new();
    // Ingress rules and Services go on top of the edges that leave them.
    let mut top = String::new();
    // Widths first: the nodes decide how wide the rows above may be.
    let probe = layout_nodes(p, MARGIN, 0.0);
    let nodes_w = probe
        .last()
        .map_or(600.0, |l| l.frame.right() - MARGIN)
        .max(600.0);

    let ing_lines: Vec<Vec<Line>> = p
        .ingresses
        .iter()
        .map(|r| {
            vec![
                line(r.matches(), FS, true),
                line(format!("→ {}:{}", r.service, r.port), FS, false),
                line(
                    format!("ingress {}", qualified(&r.namespace, &r.ingress)),
                    FSMALL,
                    false,
                ),
            ]
        })
        .collect();
    let svc_lines: Vec<Vec<Line>> = p
        .services
        .iter()
        .map(|svc| {
            service_lines(svc)
                .into_iter()
                .enumerate()
                .map(|(i, t)| line(t, FS, i == 0))
                .collect()
        })
        .collect();
    let ing_sizes: Vec<(f64, f64)> = ing_lines.iter().map(|l| lines_size(l)).collect();
    let svc_sizes: Vec<(f64, f64)> = svc_lines.iter().map(|l| lines_size(l)).collect();
    // Rows may be wider than the nodes (one row reads best: no edge crosses a lower row), up to
    // half as wide again; both rows are centred over the widest thing.
    let wrap = nodes_w * 1.5;
    let content_w = [&ing_sizes, &svc_sizes]
        .iter()
        .map(|sizes| row(sizes, MARGIN, 0.0, nodes_w, wrap).2)
        .fold(nodes_w, f64::max);

    let mut y = MARGIN;
    let mut ing_rects = Vec::new();
    if !p.ingresses.is_empty() {
        text_at(
            &mut body,
            MARGIN,
            y + FT,
            FT,
            "#9d174d",
            "start",
            "Ingress rules",
        );
        y += FT * 1.3 + 10.0;
        let (rects, h, _) = row(&ing_sizes, MARGIN, y, content_w, wrap);
        for (r, l) in rects.iter().zip(&ing_lines) {
            let style = Style {
                fill: "#fce7f3",
                stroke: "#9d174d",
                width: 2.5,
                dash: false,
            };
            draw_box(&mut top, *r, &style, l, true);
        }
        ing_rects = rects;
        y += h + 70.0;
    }
    let mut svc_rects = Vec::new();
    if !p.services.is_empty() {
        text_at(
            &mut body,
            MARGIN,
            y + FT,
            FT,
            "#854d0e",
            "start",
            "Services",
        );
        y += FT * 1.3 + 10.0;
        let (rects, h, _) = row(&svc_sizes, MARGIN, y, content_w, wrap);
        for (k, (r, l)) in rects.iter().zip(&svc_lines).enumerate() {
            let style = Style {
                fill: "#fffbeb",
                stroke: PALETTE[k % PALETTE.len()],
                width: 3.0,
                dash: false,
            };
            draw_box(&mut top, *r, &style, l, true);
        }
        svc_rects = rects;
        y += h + 80.0;
    }

    // Nodes, centred under the rows when those are wider.
    let nodes_left = ((content_w - nodes_w) / 2.0).max(0.0);
    let layouts = layout_nodes(p, MARGIN + nodes_left, y);
    let mut nodes_bottom = y;
    let mut tunnel_anchor: Vec<Option<Rect>> = Vec::new();
    for (n, l) in p.nodes.iter().zip(&layouts) {
        nodes_bottom = l.frame.bottom();
        let style = Style {
            fill: "#f3f4f6",
            stroke: "#111111",
            width: 3.0,
            dash: false,
        };
        draw_box(&mut body, l.frame, &style, &[], false);
        text_at(
            &mut body,
            l.frame.x + INNER,
            l.frame.y + INNER + FT,
            FT,
            "#111111",
            "start",
            &format!("node {}", n.name),
        );
        // The bridge's bus, and each pod's veth pair hanging on it.
        if let Some((_, bus)) = l.bus {
            let bx = l.frame.x + BUS_X;
            let hung: Vec<&Rect> = n
                .pods
                .iter()
                .zip(&l.pods)
                .filter(|(p, _)| p.veth.is_some())
                .map(|(_, r)| r)
                .collect();
            if let Some(first) = hung.first() {
                let _ = writeln!(
                    body,
                    "<line x1=\"{bx:.0}\" y1=\"{:.0}\" x2=\"{bx:.0}\" y2=\"{:.0}\" stroke=\"#166534\" stroke-width=\"6\"/>",
                    first.cy(),
                    bus.y
                );
            }
            for r in hung {
                let _ = writeln!(
                    body,
                    "<line x1=\"{bx:.0}\" y1=\"{:.0}\" x2=\"{:.0}\" y2=\"{:.0}\" stroke=\"#166534\" stroke-width=\"4\"/>",
                    r.cy(),
                    r.x,
                    r.cy()
                );
                let _ = writeln!(
                    body,
                    "<circle cx=\"{bx:.0}\" cy=\"{:.0}\" r=\"6\" fill=\"#166534\"/>",
                    r.cy()
                );
            }
        }
        for (pod, r) in n.pods.iter().zip(&l.pods) {
            let style = Style {
                fill: "#dbeafe",
                stroke: "#1e3a8a",
                width: 2.5,
                dash: pod.status.is_some(),
            };
            draw_box(&mut body, *r, &style, &pod_lines(pod), false);
        }
        // From the bridge out: routed to the VXLAN device, encapsulated and sent by its NIC.
        let vxlan = l
            .bottom
            .iter()
            .find(|(i, _)| n.interfaces[*i].kind == InterfaceKind::Vxlan);
        if let (Some((_, bus)), Some((_, vx))) = (l.bus, vxlan) {
            let lx = bus.x + bus.w.min(vx.w) / 2.0;
            arrow(
                &mut body,
                &format!("M{lx:.0},{:.0} L{lx:.0},{:.0}", bus.bottom(), vx.y - 2.0),
                "#374151",
                2.5,
                true,
                Some(PALETTE.len()),
            );
            label_at(
                &mut body,
                lx + 4.0 + text_width("other nodes' pods", FSMALL) / 2.0 + 6.0,
                (bus.bottom() + vx.y) / 2.0 + 6.0,
                "#374151",
                "other nodes' pods",
            );
        }
        for (i, r) in &l.bottom {
            let f = &n.interfaces[*i];
            if let Some(under) = f
                .underlay
                .as_ref()
                .and_then(|u| n.interfaces.iter().position(|k| &k.name == u))
                .and_then(|u| iface_rect(l, u))
            {
                let ay = r.y + r.h.min(under.h) / 2.0;
                arrow(
                    &mut body,
                    &format!("M{:.0},{ay:.0} L{:.0},{ay:.0}", r.right(), under.x - 2.0,),
                    "#374151",
                    2.5,
                    true,
                    Some(PALETTE.len()),
                );
            }
        }
        let mut boxes: Vec<(usize, Rect)> = l.bottom.clone();
        boxes.extend(l.bus);
        for (i, r) in boxes {
            let f = &n.interfaces[i];
            let (fill, stroke) = match f.kind {
                InterfaceKind::Ether => ("#e5e7eb", "#111111"),
                InterfaceKind::Bridge => ("#dcfce7", "#166534"),
                InterfaceKind::Vxlan => ("#ffedd5", "#9a3412"),
                InterfaceKind::Dummy => ("#f5f5f5", "#6b7280"),
            };
            let style = Style {
                fill,
                stroke,
                width: 2.5,
                dash: false,
            };
            draw_box(&mut body, r, &style, &iface_lines(f), false);
        }
        if let Some(r) = l.hostpods {
            let style = Style {
                fill: "#ffffff",
                stroke: "#6b7280",
                width: 1.5,
                dash: true,
            };
            draw_box(&mut body, r, &style, &hostpod_lines(n), false);
        }
        tunnel_anchor.push(vxlan.map(|v| v.1));
    }

    // Tunnels: arcs under the nodes, between their VXLAN devices; labels after all arcs, so
    // no arc runs over one.
    let mut deepest = nodes_bottom;
    let mut labels = Vec::new();
    for t in &p.tunnels {
        let find = |name: &str| p.nodes.iter().position(|n| n.name == name);
        let (Some(a), Some(b)) = (find(&t.from_node), find(&t.to_node)) else {
            continue;
        };
        let (Some(ra), Some(rb)) = (
            tunnel_anchor.get(a).copied().flatten(),
            tunnel_anchor.get(b).copied().flatten(),
        ) else {
            continue;
        };
        let (x1, x2) = (ra.cx(), rb.cx());
        let y0 = nodes_bottom;
        let depth = 24.0 + (x2 - x1).abs() * 0.16;
        let apex = y0 + depth;
        for r in [ra, rb] {
            let _ = writeln!(
                body,
                "<line x1=\"{:.0}\" y1=\"{:.0}\" x2=\"{:.0}\" y2=\"{y0:.0}\" stroke=\"#c2410c\" stroke-width=\"3.5\"/>",
                r.cx(),
                r.bottom(),
                r.cx()
            );
        }
        arrow(
            &mut body,
            &format!(
                "M{x1:.0},{y0:.0} Q{:.0},{:.0} {x2:.0},{y0:.0}",
                (x1 + x2) / 2.0,
                y0 + 2.0 * depth
            ),
            "#c2410c",
            3.5,
            true,
            None,
        );
        labels.push(((x1 + x2) / 2.0, apex + FSMALL * 0.4, t.label.clone()));
        deepest = deepest.max(apex + FSMALL);
    }
    for (lx, ly, text) in labels {
        label_at(&mut body, lx, ly, "#9a3412", &text);
    }

    // Service → ready endpoints, drawn over the boxes so none hides. Each edge comes down the
    // gap right of the target's node (a lane per Service) and turns into the target's right
    // edge, so it crosses no other box.
    let find_pod = |namespace: &str, name: &str| {
        p.nodes.iter().zip(&layouts).find_map(|(n, l)| {
            n.pods
                .iter()
                .position(|x| x.namespace == namespace && x.name == name)
                .and_then(|k| l.pods.get(k).map(|r| (*r, l.frame)))
        })
    };
    for (k, (svc, sr)) in p.services.iter().zip(&svc_rects).enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        let count = svc.endpoints.len().max(1) as f64;
        for (e_i, e) in svc.endpoints.iter().enumerate() {
            let target = match e {
                EndpointTarget::Pod { namespace, name } => find_pod(namespace, name),
                EndpointTarget::Node { node } => {
                    p.nodes.iter().position(|n| &n.name == node).and_then(|ni| {
                        let nic = node_nic(p, node)?;
                        let ii = p.nodes[ni].interfaces.iter().position(|i| i.name == nic)?;
                        let l = layouts.get(ni)?;
                        iface_rect(l, ii).map(|r| (r, l.frame))
                    })
                }
                EndpointTarget::Address(_) => None,
            };
            let Some((t, frame)) = target else { continue };
            // Leave the Service's box spread along its bottom edge.
            let sx = sr.x + sr.w * (e_i as f64 + 1.0) / (count + 1.0);
            let sy = sr.bottom();
            let lane = frame.right() + LANE0 + LANE * (k % PALETTE.len()) as f64;
            let (tx, ty) = (t.right() + 2.0, t.cy());
            let d = format!(
                "M{sx:.0},{sy:.0} C{sx:.0},{:.0} {lane:.0},{:.0} {lane:.0},{:.0} L{lane:.0},{:.0} Q{lane:.0},{ty:.0} {:.0},{ty:.0} L{tx:.0},{ty:.0}",
                (sy + frame.y) / 2.0,
                frame.y - 30.0,
                frame.y + 10.0,
                ty - 16.0,
                lane - 16.0
            );
            arrow(&mut body, &d, color, 3.0, false, Some(k % PALETTE.len()));
        }
    }
    // Ingress rule → Service.
    for (r, ir) in p.ingresses.iter().zip(&ing_rects) {
        let Some(sr) = p
            .services
            .iter()
            .position(|svc| svc.namespace == r.namespace && svc.name == r.service)
            .and_then(|k| svc_rects.get(k))
        else {
            continue;
        };
        let d = format!(
            "M{:.0},{:.0} C{:.0},{:.0} {:.0},{:.0} {:.0},{:.0}",
            ir.cx(),
            ir.bottom(),
            ir.cx(),
            ir.bottom() + 40.0,
            sr.cx(),
            sr.y - 40.0,
            sr.cx(),
            sr.y - 2.0
        );
        arrow(
            &mut body,
            &d,
            "#9d174d",
            3.0,
            false,
            Some(PALETTE.len() + 1),
        );
    }

    // Legend.
    let mut ly = deepest + 40.0;
    let legend: [(&str, &str, bool); 4] = [
        (
            "#1565c0",
            "Service → ready endpoint (one colour a Service)",
            false,
        ),
        (
            "#166534",
            "pod eth0 ⇄ host veth, a port of the bridge",
            false,
        ),
        ("#c2410c", "VXLAN tunnel between flannel.1 devices", true),
        ("#374151", "route / encapsulation inside the node", true),
    ];
    for (color, text, dash) in legend {
        arrow(
            &mut body,
            &format!(
                "M{MARGIN:.0},{:.0} L{:.0},{:.0}",
                ly - 6.0,
                MARGIN + 60.0,
                ly - 6.0
            ),
            color,
            4.0,
            dash,
            None,
        );
        let _ = writeln!(
            body,
            "<text x=\"{:.0}\" y=\"{ly:.0}\" font-size=\"{FSMALL}\">{}</text>",
            MARGIN + 72.0,
            x(text)
        );
        ly += FSMALL * 1.6;
    }

    let lanes = LANE0 + LANE * PALETTE.len() as f64;
    let width = (MARGIN + (nodes_left + nodes_w + lanes).max(content_w) + MARGIN)
        .max(MARGIN + 72.0 + text_width(legend[0].1, FSMALL) + MARGIN)
        .ceil();
    let height = (ly + MARGIN).ceil();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\" font-family=\"DejaVu Sans Mono, Menlo, Consolas, monospace\" fill=\"#000000\">"
    );
    s.push_str("<title>netsim cluster</title>\n<defs>\n");
    let markers = PALETTE
        .iter()
        .copied()
        .chain(["#374151", "#9d174d"])
        .enumerate();
    for (k, color) in markers {
        let _ = writeln!(
            s,
            "<marker id=\"a{k}\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"5\" markerHeight=\"5\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"{color}\"/></marker>"
        );
    }
    s.push_str("</defs>\n");
    let _ = writeln!(
        s,
        "<rect x=\"0\" y=\"0\" width=\"{width:.0}\" height=\"{height:.0}\" fill=\"#ffffff\"/>"
    );
    s.push_str(&body);
    s.push_str(&top);
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn picture() -> ClusterPicture {
        let node = |name: &str, ip: &str, subnet: u8, pods: Vec<PodBox>| NodeBox {
            name: name.into(),
            interfaces: vec![
                HostInterface {
                    name: "eth0".into(),
                    kind: InterfaceKind::Ether,
                    addrs: vec![format!("{ip}/24")],
                    underlay: None,
                    note: None,
                },
                HostInterface {
                    name: "flannel.1".into(),
                    kind: InterfaceKind::Vxlan,
                    addrs: vec![format!("10.244.{subnet}.0/32")],
                    underlay: Some("eth0".into()),
                    note: Some("VNI 1, UDP 8472".into()),
                },
                HostInterface {
                    name: "cni0".into(),
                    kind: InterfaceKind::Bridge,
                    addrs: vec![format!("10.244.{subnet}.1/24")],
                    underlay: None,
                    note: None,
                },
            ],
            pods,
            host_network_pods: vec!["kube-system/kube-proxy-abcde".into()],
        };
        let pod = |name: &str, ip: &str, veth: &str| PodBox {
            namespace: "default".into(),
            name: name.into(),
            ip: Some(ip.into()),
            status: None,
            veth: Some(Veth {
                pod_end: "eth0".into(),
                host_end: veth.into(),
                bridge: Some("cni0".into()),
            }),
        };
        ClusterPicture {
            nodes: vec![
                node(
                    "k8s-worker1",
                    "10.0.0.11",
                    1,
                    vec![pod("nginx-1", "10.244.1.2/24", "veth0a1b2c3d")],
                ),
                node(
                    "k8s-worker2",
                    "10.0.0.12",
                    2,
                    vec![pod("nginx-2", "10.244.2.2/24", "veth4e5f6a7b")],
                ),
            ],
            tunnels: vec![Tunnel {
                from_node: "k8s-worker1".into(),
                to_node: "k8s-worker2".into(),
                device: "flannel.1".into(),
                label: "VXLAN, UDP 8472".into(),
            }],
            services: vec![ServiceBox {
                namespace: "default".into(),
                name: "nginx".into(),
                kind: "NodePort".into(),
                cluster_ip: Some("10.96.0.10".into()),
                external: vec![],
                ports: vec!["80:30080/TCP".into()],
                endpoints: vec![
                    EndpointTarget::Pod {
                        namespace: "default".into(),
                        name: "nginx-1".into(),
                    },
                    EndpointTarget::Pod {
                        namespace: "default".into(),
                        name: "nginx-2".into(),
                    },
                    EndpointTarget::Address("192.0.2.7".into()),
                ],
            }],
            ingresses: vec![IngressRule {
                namespace: "default".into(),
                ingress: "web".into(),
                host: Some("example.com".into()),
                path: Some("/".into()),
                service: "nginx".into(),
                port: "80".into(),
            }],
        }
    }

    #[test]
    fn dot_has_nodes_pods_and_edges() {
        let d = dot(&picture());
        assert!(d.starts_with("digraph netsim {\n"));
        assert!(d.ends_with("}\n"));
        for want in [
            "  subgraph \"cluster_node:k8s-worker1\" {",
            "      \"k8s-worker1:eth0\" [label=\"eth0 (NIC)\\n10.0.0.11/24\", fillcolor=\"#e5e7eb\", color=\"black\"];",
            "      \"k8s-worker1:cni0\" [label=\"cni0 (bridge)\\n10.244.1.1/24\", fillcolor=\"#dcfce7\", color=\"#166534\"];",
            "      \"pod:default/nginx-1\" [label=\"eth0\\n10.244.1.2/24\", fillcolor=\"white\", color=\"#1e3a8a\"];",
            "    \"pod:default/nginx-1\" -> \"k8s-worker1:veth0a1b2c3d\" [dir=both, color=\"#166534\", label=\"veth pair\"];",
            "    \"k8s-worker1:veth0a1b2c3d\" -> \"k8s-worker1:cni0\" [arrowhead=none, color=\"#166534\"];",
            "  \"k8s-worker1:flannel.1\" -> \"k8s-worker2:flannel.1\" [dir=both, style=dashed,",
            "  \"svc:default/nginx\" -> \"pod:default/nginx-1\" [color=\"#c62828\"];",
            "  \"svc:default/nginx\" -> \"pod:default/nginx-2\" [color=\"#c62828\"];",
            "  \"ing:0\" -> \"svc:default/nginx\" [color=\"#9d174d\"];",
            "    \"svc:default/nginx\" [label=\"nginx\\nNodePort 10.96.0.10\\n80:30080/TCP\\nendpoints 192.0.2.7\"",
        ] {
            assert!(d.contains(want), "missing {want:?} in\n{d}");
        }
        // Deterministic.
        assert_eq!(d, dot(&picture()));
    }

    #[test]
    fn dot_escapes_quotes() {
        assert_eq!(q("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
    }

    #[test]
    fn mermaid_is_a_flowchart() {
        let m = mermaid(&picture());
        assert!(m.starts_with("flowchart LR\n"), "{m}");
        for want in [
            "  subgraph n0[\"node k8s-worker1\"]",
            "    n0p0 <-->|veth pair| n0v0",
            "    n0v0 --- n0i2",
            "  n0i1 <-.->|\"VXLAN, UDP 8472\"| n1i1",
            "  svc0 --> n0p0",
            "  svc0 --> n1p0",
            "  ing0 --> svc0",
        ] {
            assert!(m.contains(want), "missing {want:?} in\n{m}");
        }
        let opens = m
            .lines()
            .filter(|l| l.trim_start().starts_with("subgraph "))
            .count();
        let ends = m.lines().filter(|l| l.trim() == "end").count();
        assert_eq!(opens, ends);
    }

    #[test]
    fn svg_is_self_contained_and_balanced() {
        let s = svg(&picture());
        assert!(s.starts_with("<svg "), "{s}");
        assert!(s.ends_with("</svg>\n"));
        assert!(!s.contains("<script"));
        assert!(!s.contains("@import") && !s.contains("href"));
        for text in [
            "nginx-1",
            "10.244.2.2/24",
            "eth0 ⇄ veth4e5f6a7b (host)",
            "example.com/",
        ] {
            assert!(s.contains(text), "missing {text:?}");
        }
        // Every element opened is closed: count start and end tags of the elements with content.
        for tag in ["svg", "text", "defs", "marker", "title"] {
            let open =
                s.matches(&format!("<{tag} ")).count() + s.matches(&format!("<{tag}>")).count();
            let close = s.matches(&format!("</{tag}>")).count();
            assert_eq!(open, close, "<{tag}>");
        }
        assert_eq!(s, svg(&picture()));
    }

    #[test]
    fn svg_escapes_text() {
        let mut p = picture();
        p.services[0].name = "a<b&c".into();
        let s = svg(&p);
        assert!(s.contains("a&lt;b&amp;c"));
        assert!(!s.contains("a<b"));
    }

    #[test]
    fn empty_picture_prints() {
        let p = ClusterPicture::default();
        assert!(dot(&p).starts_with("digraph"));
        assert_eq!(mermaid(&p), "flowchart LR\n");
        assert!(svg(&p).starts_with("<svg "));
    }
}
