//! Invariant of the pod network, over a generated cluster of 50 nodes and 2,000 pods: every
//! running pod's `eth0` is one end of a veth pair whose other end is in its node's namespace —
//! the ifindexes name each other (`eth0@ifN` ↔ `vethX@if3`) — that end is a port of `cni0`, and
//! the pod's address is inside its node's podCIDR. Host ifindexes and netnsids are unique.

use netsim_engine::{Sim, WriteOptions};
use netsim_model::k8s_openapi::api::core::v1::{Node, Pod};
use netsim_model::netns::LinkKind;
use netsim_model::{ClusterConfig, Kind, NodeSpec, Object};
use std::collections::BTreeSet;
use std::net::Ipv4Addr;

fn cluster(nodes: usize, deployments: usize, replicas: usize) -> Sim {
    let config = ClusterConfig {
        nodes: (0..nodes)
            .map(|i| NodeSpec {
                name: if i == 0 {
                    "control".into()
                } else {
                    format!("node{i}")
                },
                ip: Ipv4Addr::new(10, 0, (i / 250) as u8, (i % 250 + 2) as u8),
                control_plane: i == 0,
            })
            .collect(),
        ..ClusterConfig::default()
    };
    let mut sim = Sim::new(config).expect("valid config");
    for d in 0..deployments {
        let value = serde_json::json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": format!("app{d}"), "namespace": "default"},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": format!("app{d}")}},
                "template": {
                    "metadata": {"labels": {"app": format!("app{d}")}},
                    "spec": {"containers": [{"name": "web", "image": "nginx:1.25"}]},
                },
            },
        });
        let object = Object::from_json(Kind::Deployment, value).expect("valid deployment");
        sim.create(object, WriteOptions::default())
            .expect("created");
    }
    sim.advance(netsim_model::jiff::SignedDuration::from_secs(60));
    sim
}

#[test]
fn every_pod_eth0_pairs_with_a_cni0_port_on_its_node() {
    let sim = cluster(50, 200, 10);
    let mut checked = 0;
    for pod in sim.store().list_typed::<Pod>(None) {
        let spec = pod.spec.as_ref().expect("pods have a spec");
        if spec.host_network == Some(true) {
            continue;
        }
        let node = spec.node_name.as_deref().expect("every pod is scheduled");
        let status = pod.status.as_ref().expect("status");
        assert_eq!(
            status.phase.as_deref(),
            Some("Running"),
            "{:?}",
            pod.metadata.name
        );
        let pod_ns = sim.pod_netns(pod).expect("a running pod has a namespace");
        let host_ns = sim.node_netns(node).expect("its node has one");
        let eth0 = pod_ns.link("eth0").expect("eth0");
        let LinkKind::Veth { peer_ifindex, .. } = eth0.kind else {
            panic!("eth0 is a veth")
        };
        let peer = host_ns
            .links
            .iter()
            .find(|l| l.ifindex == peer_ifindex)
            .expect("peer exists on the node");
        let LinkKind::Veth {
            peer_ifindex: back, ..
        } = peer.kind
        else {
            panic!("peer is a veth")
        };
        assert_eq!(back, eth0.ifindex, "the host end names eth0's ifindex");
        assert_eq!(peer.master.as_deref(), Some("cni0"));
        assert_eq!(eth0.mtu, peer.mtu);
        let cidr: ipnet::Ipv4Net = sim
            .store()
            .typed::<Node>("", node)
            .and_then(|n| n.spec.as_ref()?.pod_cidr.as_ref()?.parse().ok())
            .expect("node podCIDR");
        let ip: Ipv4Addr = status
            .pod_ip
            .as_ref()
            .expect("pod IP")
            .parse()
            .expect("IPv4");
        assert!(cidr.contains(&ip), "{ip} in {cidr}");
        assert_eq!(eth0.addrs[0].net.addr(), ip);
        checked += 1;
    }
    assert!(checked >= 2000, "checked {checked} pods");
    for node in sim.store().list_typed::<Node>(None) {
        let name = node.metadata.name.clone().unwrap_or_default();
        let ns = sim.node_netns(&name).expect("node namespace");
        let indexes: BTreeSet<u32> = ns.links.iter().map(|l| l.ifindex).collect();
        assert_eq!(
            indexes.len(),
            ns.links.len(),
            "ifindexes are unique on {name}"
        );
        let net = sim.node_net(&name).expect("records");
        let ids: BTreeSet<u32> = net.pods.values().map(|p| p.netnsid).collect();
        assert_eq!(ids.len(), net.pods.len(), "netnsids are unique on {name}");
    }
}

#[test]
fn deleting_a_pod_releases_its_veth_and_the_next_pod_gets_a_new_ifindex() {
    let mut sim = cluster(3, 1, 1);
    let pod = sim
        .store()
        .list_typed::<Pod>(Some("default"))
        .next()
        .cloned()
        .expect("one pod");
    let node = pod
        .spec
        .as_ref()
        .and_then(|s| s.node_name.clone())
        .expect("scheduled");
    let before = sim.node_net(&node).expect("records").clone();
    let old = before
        .pods
        .values()
        .map(|p| p.host_ifindex)
        .max()
        .expect("a veth");
    sim.delete(
        &Object::Pod(Box::new(pod.clone())).key(),
        WriteOptions::default(),
        Some(0),
    )
    .expect("deleted");
    sim.advance(netsim_model::jiff::SignedDuration::from_secs(30));
    // The ReplicaSet made a replacement; if it landed on the same node, its veth has a new index.
    let after = sim.node_net(&node).expect("records");
    assert!(
        !after
            .pods
            .contains_key(pod.metadata.uid.as_deref().unwrap_or(""))
    );
    for p in after.pods.values() {
        assert!(
            p.host_ifindex != old
                || before
                    .pods
                    .values()
                    .any(|b| b.host_ifindex == p.host_ifindex && b.host_name == p.host_name)
        );
    }
}
