//! Property tests of the model's invariants on random clusters.
//!
//! proptest builds a random small cluster (1–6 nodes, a VXLAN or host-gw flannel, a random
//! seed), a few Deployments whose pods carry labels from a small alphabet, and Services
//! (ClusterIP, NodePort and LoadBalancer with either traffic policy, headless; some with
//! session affinity or `publishNotReadyAddresses`) with random selectors, ports and target
//! ports — numbers and names, some of which no pod has, or only with another protocol — so
//! selectors and ports sometimes match and sometimes do not. It then runs a random script:
//! virtual time passes by random amounts (pods are caught half started), Deployments are
//! scaled, pods are deleted (gracefully or forced) or relabelled out of and into Services, nodes
//! are cordoned, uncordoned or deleted, Services are deleted, retyped or given another selector,
//! and packets are sent from pods, nodes and the outside client to ClusterIPs, NodePorts,
//! load-balancer addresses, pod and node IPs and addresses nobody has. After every step it
//! checks what must hold at every instant of a settled cluster:
//!
//! 1. **Endpoints follow readiness.** Every pod a Service's selector matches (same namespace,
//!    with an IP, not finished) is one endpoint of the Service's EndpointSlices, with the
//!    `ready`/`serving`/`terminating` conditions v1.28's controller gives it; every endpoint is
//!    such a pod; a slice's ports are the ones its pods resolve the Service's target ports to;
//!    the core/v1 Endpoints agree; no slice outlives its Service.
//! 2. **No address is given twice.** Pod IPs among the pods that hold one, ClusterIPs,
//!    NodePorts (and health-check NodePorts), load-balancer addresses, node addresses; node
//!    podCIDRs are disjoint and inside the cluster's pod CIDR, each pod IP inside its node's.
//! 3. **The pod network is wired.** Every pod with an address has an `eth0` whose veth peer
//!    exists in its node's namespace, names it back and is a port of `cni0`; the CNI keeps no
//!    record of a pod that is gone.
//! 4. **Every packet ends.** Delivered, rejected, or dropped with a reason and a trace that says
//!    why — never by running out of hops, never with a panic.
//! 5. **Conntrack is symmetric.** In every node's table each entry is found by its original
//!    tuple as the original direction and by its reply tuple as the reply; the reply tuple is
//!    the original reversed except for the side a NAT flag says was rewritten; no two entries
//!    claim one tuple; and the answer to a delivered packet, sent back from where it arrived,
//!    is matched as a reply and reaches the sender as the reverse of what it sent.
//!
//! Why: the example tests check the flows a lesson takes; these check that the model stays
//! consistent on the ones nobody thought of (a named targetPort only some pods have, a Service
//! reselected onto terminating pods, a UDP packet to a TCP load balancer), and proptest shrinks
//! a failure to a minimal cluster and script.
//!
//! Deterministic: a fixed seed and case count, no failure files. `PROPTEST_CASES=2000` or
//! `PROPTEST_RNG_SEED=n` in the environment explore further.
//!
//! What it found and netsim now does as Kubernetes and the kernel do: the pod garbage collector
//! and the EndpointSlice reconciler's skipping of pods whose Node is gone, one group of slices
//! per port map, the kernel's source-port remap for a connection whose reply tuple is taken
//! without any NAT rule, and the fixes listed in the commit that added it.

use netsim_engine::dataplane::Fate;
use netsim_engine::{Sim, WriteOptions};
use netsim_model::conntrack::{Conntrack, CtEntry, Direction, TcpState, Tuple};
use netsim_model::jiff::SignedDuration;
use netsim_model::k8s_openapi::api::apps::v1::Deployment;
use netsim_model::k8s_openapi::api::core::v1::{Node, Pod, Service};
use netsim_model::k8s_openapi::api::discovery::v1::EndpointSlice;
use netsim_model::k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use netsim_model::labels::map_matches;
use netsim_model::netfilter::Proto;
use netsim_model::netns::LinkKind;
use netsim_model::packet::{Icmp, L4, Packet, Payload, TcpFlags};
use netsim_model::trace::{DropReason, Hop, HopKind, NsId};
use netsim_model::{ClusterConfig, FlannelBackend, Kind, NodeSpec, Object};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, RngAlgorithm, RngSeed};
use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

/// The namespaces the generated workloads live in (a Service selects only in its own).
const NAMESPACES: [&str; 2] = ["default", "team"];
/// Label values: two of each, so two Deployments often share one.
const APPS: [&str; 2] = ["web", "api"];
const TIERS: [&str; 2] = ["front", "back"];
/// Container ports a pod template may declare: (name, number, protocol). Two are named
/// `http` (never both in one pod), so one named targetPort resolves to different numbers.
const CONTAINER_PORTS: [(&str, i32, &str); 4] = [
    ("http", 80, "TCP"),
    ("http", 8080, "TCP"),
    ("dns", 53, "UDP"),
    ("metrics", 9100, "TCP"),
];
/// Service ports and numeric target ports.
const SERVICE_PORTS: [i32; 4] = [80, 8080, 53, 443];
const TARGET_NUMBERS: [i32; 4] = [80, 8080, 9100, 9999];
/// Named target ports: `nope` is a name no container has.
const TARGET_NAMES: [&str; 4] = ["http", "dns", "metrics", "nope"];
/// Where generated packets go besides the cluster's own addresses.
const STRAY_ADDRESSES: [Ipv4Addr; 4] = [
    Ipv4Addr::new(8, 8, 8, 8),
    Ipv4Addr::new(10, 96, 0, 77),
    Ipv4Addr::new(10, 244, 200, 9),
    Ipv4Addr::new(127, 0, 0, 1),
];

// ----------------------------------------------------------------------------------------
// The generated scenario
// ----------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Scenario {
    /// Nodes: one control plane and `nodes - 1` workers.
    nodes: usize,
    host_gw: bool,
    seed: u64,
    deployments: Vec<DeploySpec>,
    services: Vec<SvcSpec>,
    script: Vec<Action>,
}

#[derive(Debug, Clone)]
struct DeploySpec {
    ns: usize,
    replicas: u8,
    app: usize,
    tier: Option<usize>,
    /// Which of [`CONTAINER_PORTS`] the container declares.
    http: Option<usize>,
    dns: bool,
    metrics: bool,
    /// `sleep` as PID 1 ignores SIGTERM: the pod stays terminating for its grace period.
    sleeper: bool,
}

#[derive(Debug, Clone, Copy)]
enum SvcType {
    ClusterIp,
    NodePort { local: bool },
    LoadBalancer { local: bool },
    Headless,
}

/// A selector over the label alphabet; `deploy` pins one Deployment.
#[derive(Debug, Clone)]
struct Selector {
    app: Option<usize>,
    tier: Option<usize>,
    deploy: Option<usize>,
}

#[derive(Debug, Clone)]
enum Target {
    Same,
    Number(usize),
    Name(usize),
}

#[derive(Debug, Clone)]
struct PortSpec {
    port: usize,
    udp: bool,
    target: Target,
}

#[derive(Debug, Clone)]
struct SvcSpec {
    ns: usize,
    ty: SvcType,
    selector: Selector,
    ports: Vec<PortSpec>,
    affinity: bool,
    publish_not_ready: bool,
}

#[derive(Debug, Clone)]
enum Action {
    /// Virtual time passes (milliseconds).
    Wait(u32),
    Scale(Index, u8),
    DeletePod {
        pod: Index,
        force: bool,
    },
    /// Sets (or removes) a pod's `tier` label: it leaves Services and joins others.
    Relabel(Index, Option<usize>),
    Cordon(Index, bool),
    DeleteNode(Index),
    DeleteService(Index),
    Reselect(Index, Selector),
    Retype(Index, SvcType),
    Send(Vec<Probe>),
}

#[derive(Debug, Clone)]
enum From {
    Pod(Index),
    Node(Index),
    External,
}

#[derive(Debug, Clone)]
enum To {
    /// A Service's ClusterIP and one of its ports.
    ClusterIp(Index, Index),
    /// A node's address and a NodePort of some Service.
    NodePort(Index, Index, Index),
    /// A Service's load-balancer address (if it has one yet) and one of its ports.
    LoadBalancer(Index, Index),
    /// A pod's IP on a port from the container port list.
    PodIp(Index, usize),
    /// A node's address on a port.
    NodeIp(Index, u16),
    /// An address nobody (or only `lo`) has.
    Stray(usize, u16),
}

#[derive(Debug, Clone, Copy)]
enum Transport {
    /// The Service port's own protocol (TCP for the others).
    Matching,
    Tcp,
    Udp,
    Icmp,
}

#[derive(Debug, Clone)]
struct Probe {
    from: From,
    to: To,
    transport: Transport,
    sport: u16,
}

fn selector() -> impl Strategy<Value = Selector> {
    (
        proptest::option::of(0..APPS.len()),
        proptest::option::of(0..TIERS.len()),
        proptest::option::weighted(0.2, 0..3usize),
    )
        .prop_map(|(app, tier, deploy)| Selector { app, tier, deploy })
        .prop_filter("a Service selects something", |s| {
            s.app.is_some() || s.tier.is_some() || s.deploy.is_some()
        })
}

fn svc_type() -> impl Strategy<Value = SvcType> {
    prop_oneof![
        3 => Just(SvcType::ClusterIp),
        2 => any::<bool>().prop_map(|local| SvcType::NodePort { local }),
        1 => any::<bool>().prop_map(|local| SvcType::LoadBalancer { local }),
        1 => Just(SvcType::Headless),
    ]
}

fn port_spec() -> impl Strategy<Value = PortSpec> {
    (
        0..SERVICE_PORTS.len(),
        proptest::bool::weighted(0.25),
        prop_oneof![
            Just(Target::Same),
            (0..TARGET_NUMBERS.len()).prop_map(Target::Number),
            (0..TARGET_NAMES.len()).prop_map(Target::Name),
        ],
    )
        .prop_map(|(port, udp, target)| PortSpec { port, udp, target })
}

fn deploy_spec() -> impl Strategy<Value = DeploySpec> {
    (
        proptest::bool::weighted(0.25).prop_map(usize::from),
        0..=4u8,
        0..APPS.len(),
        proptest::option::of(0..TIERS.len()),
        proptest::option::weighted(0.7, 0..2usize),
        any::<bool>(),
        any::<bool>(),
        proptest::bool::weighted(0.2),
    )
        .prop_map(
            |(ns, replicas, app, tier, http, dns, metrics, sleeper)| DeploySpec {
                ns,
                replicas,
                app,
                tier,
                http,
                dns,
                metrics,
                sleeper,
            },
        )
}

fn svc_spec() -> impl Strategy<Value = SvcSpec> {
    (
        proptest::bool::weighted(0.25).prop_map(usize::from),
        svc_type(),
        selector(),
        proptest::collection::vec(port_spec(), 1..=2),
        proptest::bool::weighted(0.2),
        proptest::bool::weighted(0.15),
    )
        .prop_map(
            |(ns, ty, selector, ports, affinity, publish_not_ready)| SvcSpec {
                ns,
                ty,
                selector,
                ports,
                affinity,
                publish_not_ready,
            },
        )
}

fn probe() -> impl Strategy<Value = Probe> {
    let from = prop_oneof![
        5 => any::<Index>().prop_map(From::Pod),
        2 => any::<Index>().prop_map(From::Node),
        1 => Just(From::External),
    ];
    let to = prop_oneof![
        4 => (any::<Index>(), any::<Index>()).prop_map(|(s, p)| To::ClusterIp(s, p)),
        2 => (any::<Index>(), any::<Index>(), any::<Index>())
            .prop_map(|(n, s, p)| To::NodePort(n, s, p)),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(s, p)| To::LoadBalancer(s, p)),
        2 => (any::<Index>(), 0..CONTAINER_PORTS.len()).prop_map(|(p, i)| To::PodIp(p, i)),
        1 => (any::<Index>(), prop_oneof![Just(22u16), Just(10250), Just(30000)])
            .prop_map(|(n, port)| To::NodeIp(n, port)),
        1 => (0..STRAY_ADDRESSES.len(), prop_oneof![Just(53u16), Just(80)])
            .prop_map(|(a, port)| To::Stray(a, port)),
    ];
    let transport = prop_oneof![
        6 => Just(Transport::Matching),
        1 => Just(Transport::Tcp),
        1 => Just(Transport::Udp),
        1 => Just(Transport::Icmp),
    ];
    // A few source ports recur, so later packets meet earlier connections' entries (and
    // MASQUERADE has to pick around them).
    let sport = prop_oneof![
        1 => prop_oneof![Just(40000u16), Just(40001)],
        1 => 1024..=65535u16,
    ];
    (from, to, transport, sport).prop_map(|(from, to, transport, sport)| Probe {
        from,
        to,
        transport,
        sport,
    })
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        4 => prop_oneof![0..=2_000u32, 0..=40_000u32].prop_map(Action::Wait),
        2 => (any::<Index>(), 0..=4u8).prop_map(|(d, n)| Action::Scale(d, n)),
        2 => (any::<Index>(), any::<bool>())
            .prop_map(|(pod, force)| Action::DeletePod { pod, force }),
        2 => (any::<Index>(), proptest::option::of(0..TIERS.len()))
            .prop_map(|(p, t)| Action::Relabel(p, t)),
        1 => (any::<Index>(), any::<bool>()).prop_map(|(n, on)| Action::Cordon(n, on)),
        1 => any::<Index>().prop_map(Action::DeleteNode),
        1 => any::<Index>().prop_map(Action::DeleteService),
        2 => (any::<Index>(), selector()).prop_map(|(s, sel)| Action::Reselect(s, sel)),
        1 => (any::<Index>(), svc_type()).prop_map(|(s, t)| Action::Retype(s, t)),
        5 => proptest::collection::vec(probe(), 1..=6).prop_map(Action::Send),
    ]
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        1..=6usize,
        proptest::bool::weighted(0.3),
        any::<u64>(),
        proptest::collection::vec(deploy_spec(), 1..=3),
        proptest::collection::vec(svc_spec(), 1..=4),
        proptest::collection::vec(action(), 0..=16),
    )
        .prop_map(
            |(nodes, host_gw, seed, deployments, services, script)| Scenario {
                nodes,
                host_gw,
                seed,
                deployments,
                services,
                script,
            },
        )
}

// ----------------------------------------------------------------------------------------
// Building and driving the cluster
// ----------------------------------------------------------------------------------------

fn deploy_name(i: usize) -> String {
    format!("d{i}")
}

fn svc_name(i: usize) -> String {
    format!("s{i}")
}

fn selector_json(sel: &Selector) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    if let Some(a) = sel.app {
        map.insert("app".into(), APPS[a].into());
    }
    if let Some(t) = sel.tier {
        map.insert("tier".into(), TIERS[t].into());
    }
    if let Some(d) = sel.deploy {
        map.insert("deploy".into(), deploy_name(d).into());
    }
    serde_json::Value::Object(map)
}

fn deployment_json(i: usize, d: &DeploySpec) -> serde_json::Value {
    let mut labels = serde_json::Map::new();
    labels.insert("deploy".into(), deploy_name(i).into());
    labels.insert("app".into(), APPS[d.app].into());
    if let Some(t) = d.tier {
        labels.insert("tier".into(), TIERS[t].into());
    }
    let mut ports = Vec::new();
    let mut chosen: Vec<usize> = d.http.into_iter().collect();
    if d.dns {
        chosen.push(2);
    }
    if d.metrics {
        chosen.push(3);
    }
    for c in chosen {
        let (name, port, proto) = CONTAINER_PORTS[c];
        ports.push(serde_json::json!({"name": name, "containerPort": port, "protocol": proto}));
    }
    let container = if d.sleeper {
        serde_json::json!({"name": "main", "image": "busybox:1.36",
            "command": ["sleep", "3600"], "ports": ports})
    } else {
        serde_json::json!({"name": "main", "image": "nginx:1.25", "ports": ports})
    };
    serde_json::json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": deploy_name(i), "namespace": NAMESPACES[d.ns]},
        "spec": {
            "replicas": d.replicas,
            "selector": {"matchLabels": {"deploy": deploy_name(i)}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [container]},
            },
        },
    })
}

fn service_json(i: usize, s: &SvcSpec) -> serde_json::Value {
    let mut ports = Vec::new();
    let mut seen = BTreeSet::new();
    for p in &s.ports {
        let number = SERVICE_PORTS[p.port];
        let proto = if p.udp { "UDP" } else { "TCP" };
        if !seen.insert((number, proto)) {
            continue;
        }
        let mut port = serde_json::json!({
            "name": format!("p{}", ports.len()), "port": number, "protocol": proto,
        });
        match &p.target {
            Target::Same => {}
            Target::Number(n) => port["targetPort"] = TARGET_NUMBERS[*n].into(),
            Target::Name(n) => port["targetPort"] = TARGET_NAMES[*n].into(),
        }
        ports.push(port);
    }
    let mut spec = serde_json::json!({"selector": selector_json(&s.selector), "ports": ports});
    apply_type(&mut spec, s.ty);
    if s.affinity {
        spec["sessionAffinity"] = "ClientIP".into();
    }
    if s.publish_not_ready {
        spec["publishNotReadyAddresses"] = true.into();
    }
    serde_json::json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": svc_name(i), "namespace": NAMESPACES[s.ns]},
        "spec": spec,
    })
}

fn apply_type(spec: &mut serde_json::Value, ty: SvcType) {
    match ty {
        SvcType::ClusterIp => spec["type"] = "ClusterIP".into(),
        SvcType::NodePort { local } | SvcType::LoadBalancer { local } => {
            spec["type"] = if matches!(ty, SvcType::NodePort { .. }) {
                "NodePort".into()
            } else {
                "LoadBalancer".into()
            };
            if local {
                spec["externalTrafficPolicy"] = "Local".into();
            }
        }
        SvcType::Headless => {
            spec["type"] = "ClusterIP".into();
            spec["clusterIP"] = "None".into();
        }
    }
}

fn create(sim: &mut Sim, kind: Kind, value: serde_json::Value) {
    let object = Object::from_json(kind, value).expect("the generated manifest decodes");
    sim.create(object, WriteOptions::default())
        .expect("the generated object is valid");
}

fn build(s: &Scenario) -> Sim {
    let config = ClusterConfig {
        nodes: (0..s.nodes)
            .map(|i| NodeSpec {
                name: if i == 0 {
                    "control".into()
                } else {
                    format!("worker{i}")
                },
                ip: Ipv4Addr::new(10, 0, 0, 10 + i as u8),
                control_plane: i == 0,
            })
            .collect(),
        flannel_backend: if s.host_gw {
            FlannelBackend::HostGw
        } else {
            FlannelBackend::Vxlan
        },
        seed: s.seed,
        ..ClusterConfig::default()
    };
    let mut sim = Sim::new(config).expect("a valid cluster config");
    create(
        &mut sim,
        Kind::Namespace,
        serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}}),
    );
    for (i, d) in s.deployments.iter().enumerate() {
        create(&mut sim, Kind::Deployment, deployment_json(i, d));
    }
    for (i, svc) in s.services.iter().enumerate() {
        create(&mut sim, Kind::Service, service_json(i, svc));
    }
    sim
}

/// The workload pods the script acts on, in store order.
fn user_pods(sim: &Sim) -> Vec<Pod> {
    NAMESPACES
        .iter()
        .flat_map(|ns| sim.store().list_typed::<Pod>(Some(ns)).cloned())
        .collect()
}

/// The generated Services the script acts on (not `default/kubernetes`, which the API server
/// would recreate).
fn user_services(sim: &Sim) -> Vec<Service> {
    NAMESPACES
        .iter()
        .flat_map(|ns| sim.store().list_typed::<Service>(Some(ns)).cloned())
        .filter(|s| s.metadata.name.as_deref() != Some("kubernetes"))
        .collect()
}

fn nodes(sim: &Sim) -> Vec<Node> {
    sim.store().list_typed::<Node>(None).cloned().collect()
}

fn workers(sim: &Sim) -> Vec<Node> {
    nodes(sim)
        .into_iter()
        .filter(|n| n.metadata.name.as_deref() != Some("control"))
        .collect()
}

fn pick<T: Clone>(list: &[T], i: &Index) -> Option<T> {
    (!list.is_empty()).then(|| i.get(list).clone())
}

/// Runs one scripted action. Writes the API server refuses are noted and skipped: the script
/// is random, the checks are about what the cluster then is.
fn run(sim: &mut Sim, action: &Action, log: &mut Vec<String>) -> Result<(), String> {
    let opts = WriteOptions::default();
    match action {
        Action::Wait(ms) => sim.advance(SignedDuration::from_millis(i64::from(*ms))),
        Action::Scale(d, replicas) => {
            let all: Vec<Deployment> = NAMESPACES
                .iter()
                .flat_map(|ns| sim.store().list_typed::<Deployment>(Some(ns)).cloned())
                .collect();
            if let Some(mut dep) = pick(&all, d) {
                dep.spec.get_or_insert_with(Default::default).replicas = Some(i32::from(*replicas));
                sim.replace(Object::Deployment(Box::new(dep)), opts)
                    .expect("scaling is valid");
            }
        }
        Action::DeletePod { pod, force } => {
            if let Some(p) = pick(&user_pods(sim), pod) {
                let key = Object::Pod(Box::new(p)).key();
                sim.delete(&key, opts, force.then_some(0))
                    .expect("the pod exists");
            }
        }
        Action::Relabel(pod, tier) => {
            if let Some(mut p) = pick(&user_pods(sim), pod) {
                let labels = p.metadata.labels.get_or_insert_with(BTreeMap::new);
                match tier {
                    Some(t) => labels.insert("tier".into(), TIERS[*t].into()),
                    None => labels.remove("tier"),
                };
                if let Err(e) = sim.replace(Object::Pod(Box::new(p)), opts) {
                    log.push(format!("relabel refused: {e}"));
                }
            }
        }
        Action::Cordon(n, on) => {
            if let Some(mut node) = pick(&workers(sim), n) {
                node.spec.get_or_insert_with(Default::default).unschedulable = on.then_some(true);
                sim.replace(Object::Node(Box::new(node)), opts)
                    .expect("cordoning is valid");
            }
        }
        Action::DeleteNode(n) => {
            if let Some(node) = pick(&workers(sim), n) {
                sim.delete(&Object::Node(Box::new(node)).key(), opts, None)
                    .expect("the node exists");
            }
        }
        Action::DeleteService(s) => {
            if let Some(svc) = pick(&user_services(sim), s) {
                sim.delete(&Object::Service(Box::new(svc)).key(), opts, None)
                    .expect("the Service exists");
            }
        }
        Action::Reselect(s, sel) => {
            if let Some(svc) = pick(&user_services(sim), s) {
                let mut value = serde_json::to_value(&svc).expect("a Service serialises");
                value["spec"]["selector"] = selector_json(sel);
                let object = Object::from_json(Kind::Service, value).expect("decodes");
                sim.replace(object, opts).expect("a new selector is valid");
            }
        }
        Action::Retype(s, ty) => {
            if let Some(svc) = pick(&user_services(sim), s) {
                let mut value = serde_json::to_value(&svc).expect("a Service serialises");
                let spec = &mut value["spec"];
                let was_headless = spec["clusterIP"] == "None";
                if let Some(obj) = spec.as_object_mut() {
                    obj.remove("externalTrafficPolicy");
                    obj.remove("internalTrafficPolicy");
                    obj.remove("healthCheckNodePort");
                }
                if let Some(ports) = spec["ports"].as_array_mut() {
                    for p in ports {
                        if let Some(p) = p.as_object_mut() {
                            p.remove("nodePort");
                        }
                    }
                }
                apply_type(spec, *ty);
                // clusterIP is immutable: a headless Service stays headless and the other way
                // round, as the API server would insist.
                if was_headless != matches!(ty, SvcType::Headless) {
                    return Ok(());
                }
                let object = Object::from_json(Kind::Service, value).expect("decodes");
                if let Err(e) = sim.replace(object, opts) {
                    log.push(format!("retype refused: {e}"));
                }
            }
        }
        Action::Send(probes) => send_probes(sim, probes, log)?,
    }
    Ok(())
}

// ----------------------------------------------------------------------------------------
// Invariant 1: EndpointSlices follow pods and readiness
// ----------------------------------------------------------------------------------------

fn pod_ready(p: &Pod) -> bool {
    p.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

fn pod_ip(p: &Pod) -> Option<Ipv4Addr> {
    p.status.as_ref()?.pod_ip.as_deref()?.parse().ok()
}

fn node_of(p: &Pod) -> Option<&str> {
    p.spec.as_ref()?.node_name.as_deref()
}

fn host_network(p: &Pod) -> bool {
    p.spec.as_ref().and_then(|s| s.host_network) == Some(true)
}

fn key_of(p: &Pod) -> String {
    format!(
        "{}/{}",
        p.metadata.namespace.as_deref().unwrap_or_default(),
        p.metadata.name.as_deref().unwrap_or_default()
    )
}

/// Ports as endpoints list them: (name, number, protocol).
type PortSet = BTreeSet<(String, i32, String)>;

/// The ports a pod serves Service `svc` on, as the EndpointSlice controller resolves them
/// (`getEndpointPorts`: a named targetPort the pod lacks is left out).
fn resolved_ports(svc: &Service, pod: &Pod) -> PortSet {
    let mut out = BTreeSet::new();
    for sp in svc.spec.iter().flat_map(|s| s.ports.iter().flatten()) {
        let target = sp.target_port.clone().unwrap_or(IntOrString::Int(sp.port));
        let protocol = sp.protocol.as_deref().unwrap_or("TCP");
        let number = match &target {
            IntOrString::Int(n) => Some(*n),
            // `FindPort`: the name and the protocol must both match.
            IntOrString::String(name) => pod
                .spec
                .iter()
                .flat_map(|s| s.containers.iter())
                .flat_map(|c| c.ports.iter().flatten())
                .find(|p| {
                    p.name.as_deref() == Some(name.as_str())
                        && p.protocol.as_deref().unwrap_or("TCP") == protocol
                })
                .map(|p| p.container_port),
        };
        if let Some(n) = number {
            out.insert((sp.name.clone().unwrap_or_default(), n, protocol.to_string()));
        }
    }
    out
}

fn check_endpoints(sim: &Sim) -> Result<(), String> {
    let store = sim.store();
    let node_names: BTreeSet<String> = nodes(sim)
        .iter()
        .filter_map(|n| n.metadata.name.clone())
        .collect();
    let all_services: Vec<&Service> = store.list_typed::<Service>(None).collect();
    // No slice outlives its Service (garbage collection through the owner reference).
    for slice in store.list_typed::<EndpointSlice>(None) {
        let managed = slice
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get("endpointslice.kubernetes.io/managed-by"))
            .is_some_and(|m| m == "endpointslice-controller.k8s.io");
        if !managed {
            continue;
        }
        let owner = slice
            .metadata
            .owner_references
            .iter()
            .flatten()
            .find(|o| o.controller == Some(true));
        let alive = owner.is_some_and(|o| {
            all_services.iter().any(|s| {
                s.metadata.uid.as_deref() == Some(o.uid.as_str())
                    && s.metadata.namespace == slice.metadata.namespace
            })
        });
        if !alive {
            return Err(format!(
                "EndpointSlice {:?}/{:?} outlived its Service",
                slice.metadata.namespace, slice.metadata.name
            ));
        }
    }
    for svc in all_services {
        let spec = svc.spec.clone().unwrap_or_default();
        let Some(selector) = spec.selector.clone().filter(|s| !s.is_empty()) else {
            continue;
        };
        let ns = svc.metadata.namespace.clone().unwrap_or_default();
        let name = svc.metadata.name.clone().unwrap_or_default();
        let slices: Vec<&EndpointSlice> = sim
            .service_slices(&ns, &name)
            .filter(|s| {
                s.metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get("endpointslice.kubernetes.io/managed-by"))
                    .is_some_and(|m| m == "endpointslice-controller.k8s.io")
            })
            .collect();
        if slices.is_empty() {
            return Err(format!("Service {ns}/{name} has no EndpointSlice"));
        }
        let publish = spec.publish_not_ready_addresses == Some(true);
        // What the EndpointSlice controller of v1.28 publishes: every matching pod with an
        // IP that has not finished (terminating ones too), except pods whose Node no longer
        // exists (the reconciler skips them until the pod GC removes them) unless the
        // Service publishes not-ready addresses.
        let mut expected: BTreeMap<String, &Pod> = BTreeMap::new();
        for pod in store.list_typed::<Pod>(Some(&ns)) {
            if !map_matches(&selector, pod.metadata.labels.as_ref()) || pod_ip(pod).is_none() {
                continue;
            }
            let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
            if matches!(phase, Some("Succeeded" | "Failed")) {
                continue;
            }
            if !publish && !node_of(pod).is_some_and(|n| node_names.contains(n)) {
                continue;
            }
            expected.insert(pod.metadata.uid.clone().unwrap_or_default(), pod);
        }
        let mut seen: BTreeSet<String> = BTreeSet::new();
        for slice in &slices {
            let slice_ports: PortSet = slice
                .ports
                .iter()
                .flatten()
                .map(|p| {
                    (
                        p.name.clone().unwrap_or_default(),
                        p.port.unwrap_or_default(),
                        p.protocol.clone().unwrap_or_else(|| "TCP".into()),
                    )
                })
                .collect();
            for ep in &slice.endpoints {
                let uid = ep
                    .target_ref
                    .as_ref()
                    .and_then(|t| t.uid.clone())
                    .unwrap_or_default();
                let Some(pod) = expected.get(&uid) else {
                    return Err(format!(
                        "Service {ns}/{name}: endpoint {:?} ({:?}) is not a pod the selector \
                         {selector:?} matches (or its node is gone)",
                        ep.addresses,
                        ep.target_ref.as_ref().and_then(|t| t.name.clone()),
                    ));
                };
                if !seen.insert(uid.clone()) {
                    return Err(format!(
                        "Service {ns}/{name}: pod {} is an endpoint twice",
                        key_of(pod)
                    ));
                }
                let ip = pod_ip(pod).map(|ip| ip.to_string()).unwrap_or_default();
                if ep.addresses != vec![ip.clone()] {
                    return Err(format!(
                        "Service {ns}/{name}: pod {} has IP {ip} but its endpoint says {:?}",
                        key_of(pod),
                        ep.addresses
                    ));
                }
                // `podToEndpoint`: serving is the pod's Ready condition; ready is that and
                // not terminating — or anything at all with publishNotReadyAddresses.
                let serving = pod_ready(pod);
                let terminating = pod.metadata.deletion_timestamp.is_some();
                let cond = ep.conditions.clone().unwrap_or_default();
                let ready = publish || (serving && !terminating);
                let want = (Some(ready), Some(serving), Some(terminating));
                let got = (cond.ready, cond.serving, cond.terminating);
                if got != want {
                    return Err(format!(
                        "Service {ns}/{name} (publishNotReadyAddresses={publish}): pod {} \
                         (Ready={serving}, terminating={terminating}) has endpoint conditions \
                         (ready, serving, terminating) = {got:?}, want {want:?}",
                        key_of(pod)
                    ));
                }
                if ep.node_name.as_deref() != node_of(pod) {
                    return Err(format!(
                        "Service {ns}/{name}: endpoint of {} names node {:?}",
                        key_of(pod),
                        ep.node_name
                    ));
                }
                // Slices group endpoints by the ports they serve: a pod whose named
                // targetPort resolves differently (or not at all) is in another slice.
                let want_ports = resolved_ports(svc, pod);
                if slice_ports != want_ports {
                    return Err(format!(
                        "Service {ns}/{name}: pod {} serves ports {want_ports:?} but sits in \
                         slice {:?} with ports {slice_ports:?}",
                        key_of(pod),
                        slice.metadata.name
                    ));
                }
            }
        }
        check_v1_endpoints(sim, svc, &selector)?;
        for (uid, pod) in &expected {
            if !seen.contains(uid) {
                return Err(format!(
                    "Service {ns}/{name}: pod {} (IP {:?}, Ready={}) matches selector \
                     {selector:?} but is in no EndpointSlice",
                    key_of(pod),
                    pod_ip(pod),
                    pod_ready(pod)
                ));
            }
        }
    }
    Ok(())
}

/// The Endpoints object (core/v1) the endpoints controller keeps beside the slices: every
/// matching pod with an IP that resolves at least one of the Service's ports, not terminating
/// (unless not-ready addresses are published), in `addresses` when ready (or published) and in
/// `notReadyAddresses` otherwise, in the subset of exactly the ports it resolves.
fn check_v1_endpoints(
    sim: &Sim,
    svc: &Service,
    selector: &BTreeMap<String, String>,
) -> Result<(), String> {
    let ns = svc.metadata.namespace.clone().unwrap_or_default();
    let name = svc.metadata.name.clone().unwrap_or_default();
    let publish = svc
        .spec
        .as_ref()
        .and_then(|s| s.publish_not_ready_addresses)
        == Some(true);
    let mut want: BTreeMap<String, (bool, PortSet)> = BTreeMap::new();
    for pod in sim.store().list_typed::<Pod>(Some(&ns)) {
        let Some(ip) = pod_ip(pod) else { continue };
        let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
        let terminating = pod.metadata.deletion_timestamp.is_some();
        if !map_matches(selector, pod.metadata.labels.as_ref())
            || matches!(phase, Some("Succeeded" | "Failed"))
            || (terminating && !publish)
        {
            continue;
        }
        let ports = resolved_ports(svc, pod);
        if !ports.is_empty() {
            want.insert(ip.to_string(), (publish || pod_ready(pod), ports));
        }
    }
    let ep = sim
        .store()
        .typed::<netsim_model::k8s_openapi::api::core::v1::Endpoints>(&ns, &name);
    let mut got: BTreeMap<String, (bool, PortSet)> = BTreeMap::new();
    for subset in ep.iter().flat_map(|e| e.subsets.iter().flatten()) {
        let ports: PortSet = subset
            .ports
            .iter()
            .flatten()
            .map(|p| {
                (
                    p.name.clone().unwrap_or_default(),
                    p.port,
                    p.protocol.clone().unwrap_or_else(|| "TCP".into()),
                )
            })
            .collect();
        for (list, ready) in [
            (&subset.addresses, true),
            (&subset.not_ready_addresses, false),
        ] {
            for a in list.iter().flatten() {
                if got.insert(a.ip.clone(), (ready, ports.clone())).is_some() {
                    return Err(format!("Endpoints {ns}/{name} list {} twice", a.ip));
                }
            }
        }
    }
    if got != want {
        return Err(format!(
            "Endpoints {ns}/{name} (publishNotReadyAddresses={publish}) hold \
             {got:?}, want {want:?}"
        ));
    }
    Ok(())
}

// ----------------------------------------------------------------------------------------
// Invariant 2: no address is given twice
// ----------------------------------------------------------------------------------------

fn check_addresses(sim: &Sim) -> Result<(), String> {
    let config = sim.config();
    let mut cidrs: Vec<(String, ipnet::Ipv4Net)> = Vec::new();
    let mut node_ips: BTreeMap<Ipv4Addr, String> = BTreeMap::new();
    for node in nodes(sim) {
        let name = node.metadata.name.clone().unwrap_or_default();
        let cidr: ipnet::Ipv4Net = node
            .spec
            .as_ref()
            .and_then(|s| s.pod_cidr.as_ref())
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| format!("node {name} has no podCIDR"))?;
        if !config.pod_cidr.contains(&cidr) {
            return Err(format!(
                "node {name}'s podCIDR {cidr} is outside {}",
                config.pod_cidr
            ));
        }
        if let Some((other, c)) = cidrs
            .iter()
            .find(|(_, c)| c.contains(&cidr) || cidr.contains(c))
        {
            return Err(format!("podCIDRs overlap: {name} {cidr} and {other} {c}"));
        }
        cidrs.push((name.clone(), cidr));
        for a in node
            .status
            .iter()
            .flat_map(|s| s.addresses.iter().flatten())
            .filter(|a| a.type_ == "InternalIP")
        {
            let ip: Ipv4Addr = a.address.parse().map_err(|e| format!("{e}"))?;
            if let Some(other) = node_ips.insert(ip, name.clone()) {
                return Err(format!("nodes {other} and {name} share InternalIP {ip}"));
            }
        }
    }
    let mut pod_ips: BTreeMap<Ipv4Addr, String> = BTreeMap::new();
    for pod in sim.store().list_typed::<Pod>(None) {
        if host_network(pod) {
            continue;
        }
        let Some(ip) = pod_ip(pod) else { continue };
        if let Some(other) = pod_ips.insert(ip, key_of(pod)) {
            return Err(format!("pods {other} and {} share IP {ip}", key_of(pod)));
        }
        if let Some(node) = node_of(pod)
            && let Some((_, cidr)) = cidrs.iter().find(|(n, _)| n == node)
            && !cidr.contains(&ip)
        {
            return Err(format!(
                "pod {} has IP {ip} outside its node {node}'s podCIDR {cidr}",
                key_of(pod)
            ));
        }
        if node_ips.contains_key(&ip) {
            return Err(format!("pod {} has a node's address {ip}", key_of(pod)));
        }
    }
    let mut cluster_ips: BTreeMap<Ipv4Addr, String> = BTreeMap::new();
    let mut node_ports: BTreeMap<i32, String> = BTreeMap::new();
    let mut lb_ips: BTreeMap<Ipv4Addr, String> = BTreeMap::new();
    for svc in sim.store().list_typed::<Service>(None) {
        let name = format!(
            "{}/{}",
            svc.metadata.namespace.as_deref().unwrap_or_default(),
            svc.metadata.name.as_deref().unwrap_or_default()
        );
        let spec = svc.spec.clone().unwrap_or_default();
        let ty = spec.type_.clone().unwrap_or_else(|| "ClusterIP".into());
        if ty == "ExternalName" {
            continue;
        }
        match spec.cluster_ip.as_deref() {
            Some("None") => {}
            Some(text) => {
                let ip: Ipv4Addr = text
                    .parse()
                    .map_err(|e| format!("Service {name} clusterIP {text:?}: {e}"))?;
                if !config.service_cidr.contains(&ip) {
                    return Err(format!(
                        "Service {name}'s ClusterIP {ip} is outside {}",
                        config.service_cidr
                    ));
                }
                if let Some(other) = cluster_ips.insert(ip, name.clone()) {
                    return Err(format!("Services {other} and {name} share ClusterIP {ip}"));
                }
            }
            None => return Err(format!("Service {name} has no clusterIP")),
        }
        let mut ports: Vec<i32> = spec
            .ports
            .iter()
            .flatten()
            .filter_map(|p| p.node_port)
            .collect();
        // One port number may serve TCP and UDP (the same nodePort twice in one Service).
        ports.sort_unstable();
        ports.dedup();
        ports.extend(spec.health_check_node_port);
        let wants_node_ports = matches!(ty.as_str(), "NodePort" | "LoadBalancer");
        if !wants_node_ports && !ports.is_empty() {
            return Err(format!("{ty} Service {name} holds NodePorts {ports:?}"));
        }
        for p in ports {
            if !(30000..=32767).contains(&p) {
                return Err(format!("Service {name}'s NodePort {p} is out of range"));
            }
            if let Some(other) = node_ports.insert(p, name.clone()) {
                return Err(format!("Services {other} and {name} share NodePort {p}"));
            }
        }
        if wants_node_ports && spec.ports.iter().flatten().any(|p| p.node_port.is_none()) {
            return Err(format!("{ty} Service {name} has a port without a NodePort"));
        }
        let ingress = svc
            .status
            .iter()
            .flat_map(|s| s.load_balancer.iter())
            .flat_map(|l| l.ingress.iter().flatten())
            .filter_map(|i| i.ip.as_deref());
        for text in ingress {
            let ip: Ipv4Addr = text
                .parse()
                .map_err(|e| format!("Service {name} ingress {text:?}: {e}"))?;
            if ty != "LoadBalancer" {
                return Err(format!(
                    "{ty} Service {name} holds load-balancer address {ip}"
                ));
            }
            let pool = config.load_balancer_pool.as_ref().map(|p| p.cidr);
            if !pool.is_some_and(|p| p.contains(&ip)) {
                return Err(format!(
                    "Service {name}'s load-balancer address {ip} is outside {pool:?}"
                ));
            }
            if let Some(other) = lb_ips.insert(ip, name.clone()) {
                return Err(format!(
                    "Services {other} and {name} share load-balancer address {ip}"
                ));
            }
        }
    }
    Ok(())
}

// ----------------------------------------------------------------------------------------
// Invariant 3: every pod's veth peer exists
// ----------------------------------------------------------------------------------------

fn check_veths(sim: &Sim) -> Result<(), String> {
    let node_names: BTreeSet<String> = nodes(sim)
        .iter()
        .filter_map(|n| n.metadata.name.clone())
        .collect();
    let mut live: BTreeMap<String, String> = BTreeMap::new();
    for pod in sim.store().list_typed::<Pod>(None) {
        let Some(node) = node_of(pod) else { continue };
        if host_network(pod) || !node_names.contains(node) {
            continue;
        }
        let Some(ip) = pod_ip(pod) else { continue };
        live.insert(
            pod.metadata.uid.clone().unwrap_or_default(),
            node.to_string(),
        );
        let who = key_of(pod);
        let pod_ns = sim
            .pod_netns(pod)
            .ok_or_else(|| format!("pod {who} has IP {ip} but no network namespace"))?;
        let host_ns = sim
            .node_netns(node)
            .ok_or_else(|| format!("node {node} has no namespace"))?;
        let eth0 = pod_ns
            .link("eth0")
            .ok_or_else(|| format!("pod {who} has no eth0"))?;
        let LinkKind::Veth { peer_ifindex, .. } = eth0.kind else {
            return Err(format!("pod {who}'s eth0 is not a veth"));
        };
        let peer = host_ns
            .links
            .iter()
            .find(|l| l.ifindex == peer_ifindex)
            .ok_or_else(|| {
                format!("pod {who}'s eth0 peer ifindex {peer_ifindex} is not on {node}")
            })?;
        let LinkKind::Veth {
            peer_ifindex: back, ..
        } = peer.kind
        else {
            return Err(format!("pod {who}'s peer {} is not a veth", peer.name));
        };
        if back != eth0.ifindex {
            return Err(format!(
                "pod {who}'s peer {} names ifindex {back}, not eth0's {}",
                peer.name, eth0.ifindex
            ));
        }
        if peer.master.as_deref() != Some("cni0") {
            return Err(format!(
                "pod {who}'s peer {} is not a port of cni0",
                peer.name
            ));
        }
        if eth0.addrs.first().map(|a| a.net.addr()) != Some(ip) {
            return Err(format!("pod {who}'s eth0 does not hold its IP {ip}"));
        }
    }
    for node in &node_names {
        let Some(net) = sim.node_net(node) else {
            return Err(format!("node {node} has no CNI records"));
        };
        for (uid, rec) in &net.pods {
            if live.get(uid) != Some(node) {
                return Err(format!(
                    "node {node} keeps a veth ({}) for pod {} (uid {uid}), which is gone or \
                     elsewhere",
                    rec.host_name, rec.pod
                ));
            }
        }
        let ns = sim
            .node_netns(node)
            .ok_or_else(|| format!("node {node} has no namespace"))?;
        let indexes: BTreeSet<u32> = ns.links.iter().map(|l| l.ifindex).collect();
        if indexes.len() != ns.links.len() {
            return Err(format!("node {node} has two links with one ifindex"));
        }
    }
    Ok(())
}

// ----------------------------------------------------------------------------------------
// Invariant 4: every packet ends delivered, rejected, or dropped with a reason
// ----------------------------------------------------------------------------------------

/// Turns a probe into a sender and a packet, against the cluster as it is now. `None` when
/// the probe names something the cluster does not have (no pods, no Services).
fn resolve(sim: &Sim, probe: &Probe) -> Option<(NsId, Packet)> {
    let pods: Vec<Pod> = sim
        .store()
        .list_typed::<Pod>(None)
        .filter(|p| !host_network(p) && pod_ip(p).is_some() && sim.pod_netns(p).is_some())
        .cloned()
        .collect();
    let all_nodes = nodes(sim);
    // Any Service is a destination: kube-dns and the API server's too.
    let svcs: Vec<Service> = sim.store().list_typed::<Service>(None).cloned().collect();
    let node_ip = |n: &Node| -> Option<Ipv4Addr> {
        n.status
            .as_ref()?
            .addresses
            .as_ref()?
            .iter()
            .find(|a| a.type_ == "InternalIP")?
            .address
            .parse()
            .ok()
    };
    let from = match &probe.from {
        From::Pod(i) => NsId::Pod(key_of(&pick(&pods, i)?)),
        From::Node(i) => NsId::Node(pick(&all_nodes, i)?.metadata.name.clone()?),
        From::External => NsId::External,
    };
    let (dst, dport, service_udp) = match &probe.to {
        To::ClusterIp(s, p) => {
            let svc = pick(&svcs, s)?;
            let spec = svc.spec.as_ref()?;
            let ip: Ipv4Addr = spec.cluster_ip.as_deref()?.parse().ok()?;
            let port = pick(spec.ports.as_deref()?, p)?;
            (
                ip,
                u16::try_from(port.port).ok()?,
                port.protocol.as_deref() == Some("UDP"),
            )
        }
        To::NodePort(n, s, p) => {
            let ip = node_ip(&pick(&all_nodes, n)?)?;
            let svc = pick(&svcs, s)?;
            let port = pick(svc.spec.as_ref()?.ports.as_deref()?, p)?;
            (
                ip,
                u16::try_from(port.node_port?).ok()?,
                port.protocol.as_deref() == Some("UDP"),
            )
        }
        To::LoadBalancer(s, p) => {
            let with_address: Vec<&Service> = svcs.iter().filter(|s| lb_ip(s).is_some()).collect();
            let svc = pick(&with_address, s)?;
            let port = pick(svc.spec.as_ref()?.ports.as_deref()?, p)?;
            (
                lb_ip(svc)?,
                u16::try_from(port.port).ok()?,
                port.protocol.as_deref() == Some("UDP"),
            )
        }
        To::PodIp(p, c) => {
            let (_, port, proto) = CONTAINER_PORTS[*c];
            (
                pod_ip(&pick(&pods, p)?)?,
                u16::try_from(port).ok()?,
                proto == "UDP",
            )
        }
        To::NodeIp(n, port) => (node_ip(&pick(&all_nodes, n)?)?, *port, false),
        To::Stray(a, port) => (STRAY_ADDRESSES[*a], *port, *port == 53),
    };
    let l4 = match probe.transport {
        Transport::Matching if service_udp => L4::Udp {
            sport: probe.sport,
            dport,
        },
        Transport::Matching | Transport::Tcp => L4::Tcp {
            sport: probe.sport,
            dport,
            flags: TcpFlags {
                syn: true,
                ..TcpFlags::default()
            },
        },
        Transport::Udp => L4::Udp {
            sport: probe.sport,
            dport,
        },
        Transport::Icmp => L4::Icmp(Icmp::EchoRequest {
            id: probe.sport,
            seq: 1,
        }),
    };
    Some((
        from,
        Packet {
            src: Ipv4Addr::UNSPECIFIED,
            dst,
            ttl: 64,
            mark: 0,
            l4,
            payload: Payload::None,
        },
    ))
}

fn lb_ip(svc: &Service) -> Option<Ipv4Addr> {
    svc.status
        .as_ref()?
        .load_balancer
        .as_ref()?
        .ingress
        .as_ref()?
        .first()?
        .ip
        .as_deref()?
        .parse()
        .ok()
}

/// The fate must be one the trace explains: a drop's last hop is that drop with a detail, a
/// delivery's last hop is the delivery; nothing runs out of hops.
fn check_fate(what: &str, fate: &Fate, hops: &[Hop]) -> Result<(), String> {
    let last = hops.last().map(|h| &h.kind);
    match fate {
        Fate::Dropped(DropReason::TtlExceeded) => Err(format!(
            "{what}: dropped for TTL (a routing loop); last hops {:?}",
            &hops[hops.len().saturating_sub(4)..]
        )),
        Fate::Dropped(reason) => match last {
            Some(HopKind::Dropped { reason: r, detail }) if r == reason && !detail.is_empty() => {
                Ok(())
            }
            _ => Err(format!(
                "{what}: dropped ({reason:?}) but the trace does not say why; last hop {last:?}"
            )),
        },
        Fate::Delivered { .. } => match last {
            Some(HopKind::Delivered { process }) if !process.is_empty() => Ok(()),
            _ => Err(format!(
                "{what}: delivered but the trace ends with {last:?}"
            )),
        },
        Fate::Rejected => {
            let said = hops.iter().any(|h| {
                matches!(&h.kind, HopKind::Dropped { detail, .. } if detail.contains("rejected"))
            });
            if said {
                Ok(())
            } else {
                Err(format!("{what}: rejected but no hop says so"))
            }
        }
    }
}

/// The answer a server in the namespace where `arrived` landed sends back.
fn answer(arrived: &Packet) -> Option<Packet> {
    let l4 = match &arrived.l4 {
        L4::Tcp { sport, dport, .. } => L4::Tcp {
            sport: *dport,
            dport: *sport,
            flags: TcpFlags {
                syn: true,
                ack: true,
                ..TcpFlags::default()
            },
        },
        L4::Udp { sport, dport } => L4::Udp {
            sport: *dport,
            dport: *sport,
        },
        L4::Icmp(Icmp::EchoRequest { id, seq }) => L4::Icmp(Icmp::EchoReply { id: *id, seq: *seq }),
        L4::Icmp(_) => return None,
    };
    Some(Packet {
        src: arrived.dst,
        dst: arrived.src,
        ttl: 64,
        mark: 0,
        l4,
        payload: Payload::None,
    })
}

fn send_probes(sim: &mut Sim, probes: &[Probe], log: &mut Vec<String>) -> Result<(), String> {
    let resolved: Vec<(NsId, Packet)> = probes.iter().filter_map(|p| resolve(sim, p)).collect();
    let sim_pod_cidr = sim.config().pod_cidr;
    let mut dp = sim.dataplane();
    dp.record_hops(true);
    for (from, mut pkt) in resolved {
        let Some(src) = dp.source_address(&from, pkt.dst) else {
            log.push(format!("{from:?} has no route to {}", pkt.dst));
            continue;
        };
        pkt.src = src;
        let what = format!(
            "{:?} {}:{} -> {}:{} from {from:?}",
            pkt.proto(),
            pkt.src,
            pkt.ports().0,
            pkt.dst,
            pkt.ports().1
        );
        let fate = dp.send(from.clone(), pkt.clone());
        let hops = dp.take_hops();
        check_fate(&what, &fate, &hops)?;
        log.push(format!("{what}: {}", short(&fate)));
        let Fate::Delivered {
            ns: there,
            packet: arrived,
        } = fate
        else {
            continue;
        };
        // A pod's packet to a pod-CIDR address no node has leaves unmasqueraded (flannel
        // masquerades only traffic leaving the pod network) toward the gateway; the gateway's
        // side cannot route an answer to a pod address, as in a real network.
        if there == NsId::Internet && sim_pod_cidr.contains(&arrived.src) {
            continue;
        }
        let Some(reply) = answer(&arrived) else {
            continue;
        };
        let back = dp.send(there.clone(), reply.clone());
        let back_hops = dp.take_hops();
        let what_back = format!("the answer from {there:?} to {what}");
        check_fate(&what_back, &back, &back_hops)?;
        match &back {
            Fate::Delivered { ns, packet }
                if *ns == from && packet.tuple() == pkt.tuple().reversed() => {}
            _ => {
                return Err(format!(
                    "{what_back} ({:?}) did not come back as the reverse of what was sent: \
                     {}; hops {:#?}",
                    reply.tuple(),
                    short(&back),
                    back_hops
                        .iter()
                        .map(|h| (&h.ns, &h.kind))
                        .collect::<Vec<_>>()
                ));
            }
        }
    }
    Ok(())
}

fn short(fate: &Fate) -> String {
    match fate {
        Fate::Delivered { ns, packet } => format!("delivered to {ns:?} as {:?}", packet.tuple()),
        Fate::Dropped(r) => format!("dropped ({})", r.hubble()),
        Fate::Rejected => "rejected".into(),
    }
}

// ----------------------------------------------------------------------------------------
// Invariant 5: conntrack entries are symmetric
// ----------------------------------------------------------------------------------------

fn check_conntrack(sim: &Sim) -> Result<(), String> {
    for spec in &sim.config().nodes {
        let node = &spec.name;
        let entries: Vec<CtEntry> = sim.conntrack_entries(node).cloned().collect();
        // The same entries in a fresh table: its index is built from them alone.
        let mut table = Conntrack::default();
        for e in &entries {
            table.push(e.clone());
        }
        let mut origs: BTreeMap<(Proto, Tuple), usize> = BTreeMap::new();
        for (i, e) in entries.iter().enumerate() {
            let what = format!("{node} entry {i} {e:?}");
            // The reply tuple mirrors the original but for the side NAT rewrote (the
            // `--ctstate SNAT/DNAT` definition: the original source differs from the reply
            // destination, the original destination from the reply source).
            let (o, r) = (e.orig, e.reply);
            let dst_kept = r.src == o.dst && r.sport == o.dport;
            let src_kept = r.dst == o.src && r.dport == o.sport;
            if dst_kept == e.dnat || src_kept == e.snat {
                return Err(format!(
                    "{what}: the NAT flags (dnat={}, snat={}) do not match the tuples \
                     (destination kept: {dst_kept}, source kept: {src_kept})",
                    e.dnat, e.snat
                ));
            }
            if let Some(j) = origs.insert((e.proto, o), i) {
                return Err(format!(
                    "{what}: entry {j} has the same original tuple ({:?})",
                    entries[j]
                ));
            }
            let found = table.lookup(e.proto, o);
            if found != Some((i, Direction::Original)) {
                return Err(format!(
                    "{what}: its original tuple finds {found:?}, not ({i}, Original)"
                ));
            }
        }
        let mut replies: BTreeMap<(Proto, Tuple), usize> = BTreeMap::new();
        for (i, e) in entries.iter().enumerate() {
            let what = format!("{node} entry {i} {e:?}");
            if e.reply == e.orig {
                continue;
            }
            // Each tuple is in the kernel's hash once: a new connection whose reply tuple is
            // taken gets its source remapped (MASQUERADE picks a free port; even without a
            // NAT rule the null binding does) or is dropped.
            let clash = origs
                .get(&(e.proto, e.reply))
                .copied()
                .filter(|&j| j != i)
                .map(|j| (j, Direction::Original))
                .or_else(|| {
                    replies
                        .insert((e.proto, e.reply), i)
                        .map(|j| (j, Direction::Reply))
                });
            match clash {
                None => {}
                Some((j, d)) => {
                    return Err(format!(
                        "{what}: its reply tuple is also entry {j}'s {d:?} tuple ({:?})",
                        entries[j]
                    ));
                }
            }
            let found = table.lookup(e.proto, e.reply);
            if clash.is_none() && found != Some((i, Direction::Reply)) {
                return Err(format!(
                    "{what}: its reply tuple finds {found:?}, not ({i}, Reply)"
                ));
            }
        }
    }
    Ok(())
}

// ----------------------------------------------------------------------------------------
// The property
// ----------------------------------------------------------------------------------------

fn check_state(sim: &Sim) -> Result<(), String> {
    check_endpoints(sim).map_err(|e| format!("[1 endpoints] {e}"))?;
    check_addresses(sim).map_err(|e| format!("[2 addresses] {e}"))?;
    check_veths(sim).map_err(|e| format!("[3 veths] {e}"))?;
    check_conntrack(sim).map_err(|e| format!("[5 conntrack] {e}"))
}

fn run_scenario(s: &Scenario) -> Result<(), String> {
    let mut sim = build(s);
    let mut log = Vec::new();
    check_state(&sim).map_err(|e| format!("after building: {e}"))?;
    for (step, action) in s.script.iter().enumerate() {
        let result = run(&mut sim, action, &mut log)
            .map_err(|e| format!("[4/5 packets] {e}"))
            .and_then(|()| check_state(&sim));
        if let Err(e) = result {
            return Err(format!(
                "step {step} ({action:?}): {e}\nwhat happened: {log:#?}"
            ));
        }
    }
    // Let everything converge (pods started, terminating ones gone), and look again.
    sim.advance(SignedDuration::from_secs(120));
    check_state(&sim).map_err(|e| format!("after converging: {e}"))?;
    Ok(())
}

/// A fixed seed and no failure files: every run checks the same cases (about 40 ms each in a
/// debug build). The `PROPTEST_*` environment variables override these for a deeper look.
fn config() -> Config {
    Config {
        cases: 256,
        failure_persistence: None,
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: RngSeed::Fixed(0x6e65_7473_696d),
        // Shrinking bounded by steps, not wall-clock time, so a failure shrinks the same way
        // on every machine.
        max_shrink_iters: 1_024,
        max_shrink_time: 0,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_model_stays_consistent_on_random_clusters(s in scenario()) {
        run_scenario(&s).map_err(TestCaseError::fail)?;
    }
}

/// A one-node cluster with nothing of the user's: its CoreDNS pods share the node.
fn one_node() -> Sim {
    build(&Scenario {
        nodes: 1,
        host_gw: false,
        seed: 0,
        deployments: Vec::new(),
        services: Vec::new(),
        script: Vec::new(),
    })
}

/// An ICMP echo request with `id`.
fn echo(src: Ipv4Addr, dst: Ipv4Addr, id: u16) -> Packet {
    Packet {
        src,
        dst,
        ttl: 64,
        mark: 0,
        l4: L4::Icmp(Icmp::EchoRequest { id, seq: 1 }),
        payload: Payload::None,
    }
}

/// A case the property reaches only rarely, kept as an example: two pods on one node ping one
/// outside address with the same echo id. MASQUERADE gives the second echo another id, so the
/// two connections keep apart and each pod gets its own answers.
#[test]
fn masqueraded_echoes_with_one_id_keep_apart() {
    let mut sim = one_node();
    let pods: Vec<String> = sim
        .store()
        .list_typed::<Pod>(Some("kube-system"))
        .filter(|p| !host_network(p) && pod_ip(p).is_some())
        .map(key_of)
        .collect();
    assert!(
        pods.len() >= 2,
        "the CoreDNS pods share the one node: {pods:?}"
    );
    let dst = Ipv4Addr::new(8, 8, 8, 8);
    let mut dp = sim.dataplane();
    for key in &pods[..2] {
        let from = NsId::Pod(key.clone());
        let src = dp.source_address(&from, dst).expect("a default route");
        dp.send(from, echo(src, dst, 7));
    }
    let replies: BTreeSet<Tuple> = sim
        .conntrack_entries("control")
        .filter(|e| e.proto == Proto::Icmp && e.orig.dst == dst)
        .map(|e| e.reply)
        .collect();
    assert_eq!(
        replies.len(),
        2,
        "two echoes, two reply tuples: {replies:?}"
    );
    check_conntrack(&sim).expect("the table is symmetric");
}

/// The kernel's null binding: a pod's echo is masqueraded to the node's address, keeping its
/// id; the node's own echo with that id to the same address would have the same reply tuple,
/// so the kernel gives it another id although no NAT rule applies, and both keep apart.
#[test]
fn a_taken_reply_tuple_gets_another_source_port_without_nat() {
    let mut sim = one_node();
    let pod = sim
        .store()
        .list_typed::<Pod>(Some("kube-system"))
        .find(|p| !host_network(p) && pod_ip(p).is_some())
        .map(key_of)
        .expect("a CoreDNS pod");
    let dst = Ipv4Addr::new(8, 8, 8, 8);
    let mut dp = sim.dataplane();
    for from in [NsId::Pod(pod), NsId::Node("control".into())] {
        let src = dp.source_address(&from, dst).expect("a default route");
        dp.send(from, echo(src, dst, 7));
    }
    let entries: Vec<CtEntry> = sim
        .conntrack_entries("control")
        .filter(|e| e.proto == Proto::Icmp && e.orig.dst == dst)
        .cloned()
        .collect();
    assert_eq!(entries.len(), 2, "two echoes, two entries: {entries:?}");
    let node_ip = Ipv4Addr::new(10, 0, 0, 10);
    let node_entry = entries
        .iter()
        .find(|e| e.orig.src == node_ip)
        .expect("the node's own echo");
    assert!(
        node_entry.snat && node_entry.reply.dport != 7,
        "the node's echo got another id: {node_entry:?}"
    );
    check_conntrack(&sim).expect("the table is symmetric");
}

/// The kernel reopens a connection whose SYN meets a TIME_WAIT entry of its tuple
/// (`nf_conntrack_proto_tcp`: "Attempt to reopen a closed/aborted connection. Delete this
/// connection and look up again"): the old entry goes and the SYN is tracked as NEW, so it
/// gets its own NAT decision. Ephemeral ports are drawn at random, so among 2,000 connections
/// from one node to one Service some reuse a port whose entry is still in TIME_WAIT.
#[test]
fn a_syn_meeting_a_time_wait_entry_opens_a_new_connection() {
    use netsim_engine::servers::HttpRequest;
    let mut sim = one_node();
    let dns = Ipv4Addr::new(10, 96, 0, 10);
    let req = HttpRequest {
        method: "GET".into(),
        path: "/".into(),
        host: dns.to_string(),
        user_agent: "curl/8.5.0".into(),
    };
    let mut dp = sim.dataplane();
    dp.record_hops(true);
    let mut ports = BTreeSet::new();
    let mut reused = 0;
    for _ in 0..2000 {
        let r = dp.http(NsId::Node("control".into()), dns, 53, &req, None);
        let reuse = !ports.insert(r.client.1);
        reused += usize::from(reuse);
        // The SYN's first namespace is the client's node: a new entry there.
        let first = r.hops.iter().find_map(|h| match &h.kind {
            HopKind::Conntrack { new, .. } => Some(*new),
            _ => None,
        });
        assert_eq!(
            first,
            Some(true),
            "port {} (reused: {reuse}) tracked as a new connection",
            r.client.1
        );
    }
    assert!(reused > 0, "some connection reused a port");
    let entries: Vec<CtEntry> = sim
        .conntrack_entries("control")
        .filter(|e| e.proto == Proto::Tcp && e.orig.dst == dns)
        .cloned()
        .collect();
    assert_eq!(entries.len(), ports.len(), "one entry per port");
    assert!(
        entries
            .iter()
            .all(|e| e.tcp_state == Some(TcpState::TimeWait)),
        "every connection closed from ESTABLISHED"
    );
    check_conntrack(&sim).expect("the table is symmetric");
}
