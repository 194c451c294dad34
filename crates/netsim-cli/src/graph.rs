//! `netsim graph [--format dot|mermaid|svg]`: a picture of the simulated cluster for a
//! projector. This module reads the cluster (nodes' host namespaces, pods and their veth
//! pairs, flannel's VXLAN forwarding entries, Services with their ready EndpointSlice
//! endpoints, Ingress rules) into a [`ClusterPicture`]; `netsim_print::graph` draws it.

use crate::output::Output;
use netsim_engine::Sim;
use netsim_model::k8s_openapi::api::core::v1::{Node, Pod, Service};
use netsim_model::k8s_openapi::api::discovery::v1::EndpointSlice;
use netsim_model::k8s_openapi::api::networking::v1::{Ingress, IngressBackend};
use netsim_model::netns::LinkKind;
use netsim_print::graph::{
    ClusterPicture, EndpointTarget, HostInterface, IngressRule, InterfaceKind, NodeBox, PodBox,
    ServiceBox, Tunnel, Veth,
};
use std::collections::{BTreeMap, BTreeSet};

const USAGE: &str = "usage: netsim graph [--format dot|mermaid|svg]";

/// The picture formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Dot,
    Mermaid,
    Svg,
}

fn parse_format(value: &str) -> Result<Format, String> {
    match value {
        "dot" => Ok(Format::Dot),
        "mermaid" => Ok(Format::Mermaid),
        "svg" => Ok(Format::Svg),
        other => Err(format!(
            "error: unknown format {other:?}: use dot, mermaid or svg"
        )),
    }
}

/// `--format X`, `--format=X`, `-o X`, `-o=X`, `-oX`; the last one wins.
fn parse_args(args: &[String]) -> Result<Option<Format>, String> {
    let mut format = Format::Dot;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let value = match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--format" | "-o" | "--output" => match it.next() {
                Some(v) => v.clone(),
                None => return Err(format!("error: flag needs an argument: {arg}\n{USAGE}")),
            },
            a if a.starts_with("--format=") || a.starts_with("--output=") => a
                .split_once('=')
                .map(|(_, v)| v.to_string())
                .unwrap_or_default(),
            a if a.starts_with("-o") => a.trim_start_matches("-o").trim_start_matches('=').into(),
            a if a.starts_with('-') => return Err(format!("error: unknown flag: {a}\n{USAGE}")),
            a => {
                return Err(format!(
                    "error: unexpected argument {a:?}: graph draws the whole cluster\n{USAGE}"
                ));
            }
        };
        format = parse_format(&value)?;
    }
    Ok(Some(format))
}

/// `netsim graph`.
pub fn run(out: &mut Output, sim: &Sim, args: &[String]) {
    let format = match parse_args(args) {
        Ok(Some(f)) => f,
        Ok(None) => {
            out.outln(USAGE);
            out.outln("");
            out.outln("Draws the cluster: nodes, their interfaces, pods with their veth pairs, VXLAN tunnels,");
            out.outln("Services with their ready endpoints and Ingress rules. Render the DOT with Graphviz,");
            out.outln("e.g. `netsim graph | dot -Tpng -o cluster.png`, or save the SVG and open it in a browser.");
            return;
        }
        Err(e) => return out.fail(e),
    };
    let picture = picture(sim);
    let text = match format {
        Format::Dot => netsim_print::graph::dot(&picture),
        Format::Mermaid => netsim_print::graph::mermaid(&picture),
        Format::Svg => netsim_print::graph::svg(&picture),
    };
    out.out(text);
}

fn name_of(
    meta: &netsim_model::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
) -> (String, String) {
    (
        meta.namespace.clone().unwrap_or_default(),
        meta.name.clone().unwrap_or_default(),
    )
}

/// Reads the cluster into a picture, everything sorted by name.
pub fn picture(sim: &Sim) -> ClusterPicture {
    let store = sim.store();
    let mut node_names: Vec<String> = store
        .list_typed::<Node>(None)
        .filter_map(|n| n.metadata.name.clone())
        .collect();
    node_names.sort();
    node_names.dedup();

    let mut pods: Vec<&Pod> = store.list_typed::<Pod>(None).collect();
    pods.sort_by_key(|p| name_of(&p.metadata));

    // Which node holds which address (for VXLAN peers and endpoints on a node's own address).
    let mut node_by_ip: BTreeMap<String, String> = BTreeMap::new();
    let mut nodes = Vec::new();
    let mut tunnels: BTreeMap<(String, String), Tunnel> = BTreeMap::new();
    let mut fdb: Vec<(String, String, std::net::Ipv4Addr)> = Vec::new();
    // (namespace, name) of pods drawn with their own namespace, and the node of host-network pods.
    let mut drawn: BTreeSet<(String, String)> = BTreeSet::new();
    let mut host_network: BTreeMap<(String, String), String> = BTreeMap::new();

    for node in &node_names {
        let ns = sim.node_netns(node);
        let net = sim.node_net(node);
        let mut interfaces = Vec::new();
        if let Some(ns) = &ns {
            for l in &ns.links {
                let (kind, underlay, note) = match &l.kind {
                    LinkKind::Ether => (InterfaceKind::Ether, None, None),
                    LinkKind::Bridge => (InterfaceKind::Bridge, None, None),
                    LinkKind::Vxlan {
                        id, dev, dstport, ..
                    } => (
                        InterfaceKind::Vxlan,
                        Some(dev.clone()),
                        Some(format!("VNI {id}, UDP {dstport}")),
                    ),
                    LinkKind::Dummy => (InterfaceKind::Dummy, None, None),
                    LinkKind::Loopback | LinkKind::Veth { .. } => continue,
                };
                let addrs: Vec<String> = l.addrs.iter().map(|a| a.net.to_string()).collect();
                if kind == InterfaceKind::Ether {
                    for a in &l.addrs {
                        node_by_ip.insert(a.net.addr().to_string(), node.clone());
                    }
                }
                interfaces.push(HostInterface {
                    name: l.name.clone(),
                    kind,
                    addrs,
                    underlay,
                    note,
                });
            }
            // flannel's forwarding entries: one per peer VTEP this node tunnels to.
            for e in &ns.fdb {
                fdb.push((node.clone(), e.dev.clone(), e.dst));
            }
        }

        let mut boxes = Vec::new();
        let mut host_pods = Vec::new();
        for pod in &pods {
            let Some(spec) = &pod.spec else { continue };
            if spec.node_name.as_deref() != Some(node.as_str()) {
                continue;
            }
            let key = name_of(&pod.metadata);
            if spec.host_network == Some(true) {
                host_pods.push(format!("{}/{}", key.0, key.1));
                host_network.insert(key, node.clone());
                continue;
            }
            let pod_ns = sim.pod_netns(pod);
            let ip = pod_ns
                .as_ref()
                .and_then(|n| n.link("eth0"))
                .and_then(|l| l.addrs.first())
                .map(|a| a.net.to_string())
                .or_else(|| pod.status.as_ref().and_then(|s| s.pod_ip.clone()));
            let record = pod
                .metadata
                .uid
                .as_ref()
                .and_then(|uid| net.and_then(|n| n.pods.get(uid)));
            let veth = record.map(|r| Veth {
                pod_end: "eth0".into(),
                host_end: r.host_name.clone(),
                bridge: ns
                    .as_ref()
                    .and_then(|n| n.link(&r.host_name))
                    .and_then(|l| l.master.clone()),
            });
            let phase = pod.status.as_ref().and_then(|s| s.phase.clone());
            let status = match (&pod.metadata.deletion_timestamp, phase.as_deref()) {
                (Some(_), _) => Some("Terminating".to_string()),
                (None, Some("Running")) => None,
                (None, Some(p)) => Some(p.to_string()),
                (None, None) => Some("Pending".to_string()),
            };
            drawn.insert(key.clone());
            boxes.push(PodBox {
                namespace: key.0,
                name: key.1,
                ip,
                status,
                veth,
            });
        }
        nodes.push(NodeBox {
            name: node.clone(),
            interfaces,
            pods: boxes,
            host_network_pods: host_pods,
        });
    }

    for (node, dev, dst) in fdb {
        let Some(peer) = node_by_ip.get(&dst.to_string()) else {
            continue;
        };
        if *peer == node {
            continue;
        }
        let (a, b) = if node < *peer {
            (node, peer.clone())
        } else {
            (peer.clone(), node)
        };
        tunnels.entry((a.clone(), b.clone())).or_insert(Tunnel {
            from_node: a,
            to_node: b,
            device: dev,
            label: "VXLAN tunnel".into(),
        });
    }

    // Ready endpoints, by Service.
    let mut endpoints: BTreeMap<(String, String), BTreeSet<EndpointTarget>> = BTreeMap::new();
    for slice in store.list_typed::<EndpointSlice>(None) {
        let (namespace, _) = name_of(&slice.metadata);
        let Some(service) = slice
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get("kubernetes.io/service-name"))
        else {
            continue;
        };
        let targets = endpoints.entry((namespace, service.clone())).or_default();
        for e in &slice.endpoints {
            if e.conditions.as_ref().and_then(|c| c.ready) == Some(false) {
                continue;
            }
            let pod = e
                .target_ref
                .as_ref()
                .filter(|r| r.kind.as_deref() == Some("Pod"))
                .map(|r| {
                    (
                        r.namespace.clone().unwrap_or_default(),
                        r.name.clone().unwrap_or_default(),
                    )
                });
            let target = pod.and_then(|key| {
                if drawn.contains(&key) {
                    Some(EndpointTarget::Pod {
                        namespace: key.0,
                        name: key.1,
                    })
                } else {
                    host_network
                        .get(&key)
                        .map(|node| EndpointTarget::Node { node: node.clone() })
                }
            });
            match target {
                Some(t) => {
                    targets.insert(t);
                }
                None => {
                    for a in &e.addresses {
                        targets.insert(match node_by_ip.get(a) {
                            Some(node) => EndpointTarget::Node { node: node.clone() },
                            None => EndpointTarget::Address(a.clone()),
                        });
                    }
                }
            }
        }
    }

    let mut services = Vec::new();
    let mut svc_list: Vec<&Service> = store.list_typed::<Service>(None).collect();
    svc_list.sort_by_key(|s| name_of(&s.metadata));
    for svc in svc_list {
        let key = name_of(&svc.metadata);
        let spec = svc.spec.clone().unwrap_or_default();
        let kind = spec.type_.clone().unwrap_or_else(|| "ClusterIP".into());
        let ports = spec
            .ports
            .iter()
            .flatten()
            .map(|p| {
                let proto = p.protocol.as_deref().unwrap_or("TCP");
                match p.node_port {
                    Some(np) => format!("{}:{np}/{proto}", p.port),
                    None => format!("{}/{proto}", p.port),
                }
            })
            .collect();
        let mut external: Vec<String> = spec.external_ips.clone().unwrap_or_default();
        let lb = svc
            .status
            .as_ref()
            .and_then(|s| s.load_balancer.as_ref())
            .and_then(|l| l.ingress.as_ref());
        for i in lb.into_iter().flatten() {
            if let Some(v) = i.ip.clone().or_else(|| i.hostname.clone())
                && !external.contains(&v)
            {
                external.push(v);
            }
        }
        if let Some(name) = &spec.external_name {
            external.push(name.clone());
        }
        services.push(ServiceBox {
            endpoints: endpoints
                .remove(&key)
                .map(|t| t.into_iter().collect())
                .unwrap_or_default(),
            namespace: key.0,
            name: key.1,
            kind,
            cluster_ip: spec.cluster_ip.clone().filter(|ip| !ip.is_empty()),
            external,
            ports,
        });
    }

    let mut ingresses = Vec::new();
    let mut ing_list: Vec<&Ingress> = store.list_typed::<Ingress>(None).collect();
    ing_list.sort_by_key(|i| name_of(&i.metadata));
    for ing in ing_list {
        let (namespace, name) = name_of(&ing.metadata);
        let Some(spec) = &ing.spec else { continue };
        let mut push = |host: Option<String>, path: Option<String>, backend: &IngressBackend| {
            let (service, port) = match &backend.service {
                Some(s) => {
                    let port = s
                        .port
                        .as_ref()
                        .and_then(|p| p.number.map(|n| n.to_string()).or_else(|| p.name.clone()))
                        .unwrap_or_default();
                    (s.name.clone(), port)
                }
                None => match &backend.resource {
                    Some(r) => (format!("{}/{}", r.kind, r.name), String::new()),
                    None => return,
                },
            };
            ingresses.push(IngressRule {
                namespace: namespace.clone(),
                ingress: name.clone(),
                host,
                path,
                service,
                port,
            });
        };
        for rule in spec.rules.iter().flatten() {
            for path in rule.http.iter().flat_map(|h| &h.paths) {
                push(
                    rule.host.clone(),
                    Some(path.path.clone().unwrap_or_else(|| "/".into())),
                    &path.backend,
                );
            }
        }
        if let Some(b) = &spec.default_backend {
            push(None, None, b);
        }
    }

    ClusterPicture {
        nodes,
        tunnels: tunnels.into_values().collect(),
        services,
        ingresses,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netsim_engine::WriteOptions;
    use netsim_manifest::{Item, Source, Validate, parse};
    use netsim_model::ClusterConfig;
    use netsim_model::jiff::SignedDuration;

    use crate::test_args as args;

    #[test]
    fn formats_parse() {
        assert_eq!(parse_args(&args(&[])), Ok(Some(Format::Dot)));
        assert_eq!(
            parse_args(&args(&["--format", "svg"])),
            Ok(Some(Format::Svg))
        );
        assert_eq!(
            parse_args(&args(&["--format=mermaid"])),
            Ok(Some(Format::Mermaid))
        );
        assert_eq!(parse_args(&args(&["-o", "dot"])), Ok(Some(Format::Dot)));
        assert_eq!(parse_args(&args(&["-osvg"])), Ok(Some(Format::Svg)));
        assert_eq!(
            parse_args(&args(&["-o", "png"])),
            Err("error: unknown format \"png\": use dot, mermaid or svg".into())
        );
        assert!(parse_args(&args(&["--format"])).is_err());
        assert!(parse_args(&args(&["nodes"])).is_err());
    }

    #[test]
    fn unknown_format_fails() {
        let sim = Sim::new(ClusterConfig::default()).expect("a cluster");
        let mut out = Output::new(false);
        run(&mut out, &sim, &args(&["--format", "png"]));
        assert_eq!(out.code, 1);
        assert_eq!(
            out.chunks.last().map(|c| c.1.as_str()),
            Some("error: unknown format \"png\": use dot, mermaid or svg\n")
        );
    }

    fn cluster(files: &[&str]) -> Sim {
        let mut sim = Sim::new(ClusterConfig::default()).expect("a cluster");
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        for file in files {
            let text = std::fs::read_to_string(root.join(file)).expect("scenario");
            for item in parse(
                &Source {
                    name: file,
                    text: &text,
                },
                Validate::Strict,
            )
            .expect("parses")
            {
                let Item::Object(doc) = item else { continue };
                let object = doc.object;
                if sim.store().contains(&object.key()) {
                    sim.replace(object, WriteOptions::default())
                        .expect("replace");
                } else {
                    sim.create(object, WriteOptions::default()).expect("create");
                }
            }
        }
        sim.advance(SignedDuration::from_secs(60));
        sim
    }

    #[test]
    fn nodeport_picture() {
        let sim = cluster(&["scenarios/nodeport.yaml"]);
        let p = picture(&sim);
        let names: Vec<&str> = p.nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["k8s-control", "k8s-worker1", "k8s-worker2"]);
        assert_eq!(p.tunnels.len(), 3, "{:?}", p.tunnels);
        let svc = p
            .services
            .iter()
            .find(|s| s.name == "nginx-nodeport")
            .expect("the Service");
        assert_eq!(svc.kind, "NodePort");
        assert_eq!(svc.ports, ["80:30080/TCP"]);
        assert_eq!(svc.endpoints.len(), 2, "{:?}", svc.endpoints);
        let nginx: Vec<&PodBox> = p
            .nodes
            .iter()
            .flat_map(|n| &n.pods)
            .filter(|p| p.name.starts_with("nginx-"))
            .collect();
        assert_eq!(nginx.len(), 2);
        for pod in nginx {
            let veth = pod.veth.as_ref().expect("a veth pair");
            assert!(veth.host_end.starts_with("veth"));
            assert_eq!(veth.bridge.as_deref(), Some("cni0"));
            assert!(
                pod.ip
                    .as_deref()
                    .is_some_and(|ip| ip.starts_with("10.244."))
            );
        }
        let dot = netsim_print::graph::dot(&p);
        assert!(dot.contains("\"k8s-worker1:cni0\""));
        // The same cluster draws the same picture.
        assert_eq!(dot, netsim_print::graph::dot(&picture(&sim)));
        // For checking the pictures by eye: `dot -Tpng` and `rsvg-convert` these.
        let tmp = std::env::temp_dir();
        let _ = std::fs::write(tmp.join("netsim-graph.dot"), &dot);
        let _ = std::fs::write(tmp.join("netsim-graph.svg"), netsim_print::graph::svg(&p));
        let _ = std::fs::write(
            tmp.join("netsim-graph.mmd"),
            netsim_print::graph::mermaid(&p),
        );
    }

    #[test]
    fn ingress_picture() {
        let sim = cluster(&["scenarios/ingress-nginx.yaml", "scenarios/ingress.yaml"]);
        let p = picture(&sim);
        assert!(!p.ingresses.is_empty());
        let tmp = std::env::temp_dir();
        let _ = std::fs::write(
            tmp.join("netsim-graph-ingress.dot"),
            netsim_print::graph::dot(&p),
        );
        let _ = std::fs::write(
            tmp.join("netsim-graph-ingress.svg"),
            netsim_print::graph::svg(&p),
        );
    }
}
