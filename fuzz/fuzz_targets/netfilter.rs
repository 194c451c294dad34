//! Arbitrary packets through the data plane of a small cluster, so every node's iptables rules
//! (dockerd, the kubelet, flannel and kube-proxy's, built from the cluster's Services and
//! EndpointSlices) are evaluated on packets no client would send: any source namespace, forged
//! addresses, marks, TTLs, ports, ICMP errors about made-up flows, VXLAN frames from anywhere.
//! The evaluator itself (`dataplane::netfilter::run_hook`) is private to the engine; this is
//! its one public way in, `Dataplane::send`, which runs the hooks with conntrack and NAT.
//!
//! Besides "no panic": the walk is deterministic. The same packets sent through two copies of
//! the cluster meet the same fates, hop for hop.
#![no_main]

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use netsim_engine::dataplane::Fate;
use netsim_engine::{Sim, WriteOptions};
use netsim_model::ClusterConfig;
use netsim_model::conntrack::Tuple;
use netsim_model::k8s_openapi::api::core::v1::{Node, Pod, Service};
use netsim_model::netfilter::Proto;
use netsim_model::packet::{Icmp, L4, Packet, Payload, TcpFlags};
use netsim_model::trace::{Hop, NsId};
use std::net::Ipv4Addr;
use std::sync::OnceLock;

/// The Services kube-proxy writes the most kinds of rules for: ClusterIP with three
/// endpoints, NodePorts with Local and Cluster policy, session affinity, no endpoints (REJECT),
/// a wrong targetPort, a LoadBalancer with source ranges, and a client pod.
const MANIFESTS: &[&str] = &[
    include_str!("../../scenarios/traffic.yaml"),
    include_str!("../../scenarios/nodeport.yaml"),
    "apiVersion: v1
kind: Service
metadata:
  name: lb-local
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  loadBalancerSourceRanges: [203.0.113.0/24, 10.0.0.0/8]
  selector: {app: echo}
  ports:
  - {name: http, port: 80, targetPort: 8080}
  - {name: dns, port: 53, targetPort: 8080, protocol: UDP}
",
];

/// The cluster, its addresses and ports, built once.
struct World {
    sim: Sim,
    namespaces: Vec<NsId>,
    addresses: Vec<Ipv4Addr>,
    ports: Vec<u16>,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let mut sim = Sim::new(ClusterConfig::default()).expect("the default cluster builds");
        for text in MANIFESTS {
            let source = netsim_manifest::Source {
                name: "fuzz.yaml",
                text,
            };
            let items = netsim_manifest::parse(&source, netsim_manifest::Validate::Strict)
                .expect("the fuzz cluster's manifests parse");
            for item in items {
                if let netsim_manifest::Item::Object(doc) = item {
                    sim.create(doc.object, WriteOptions::default())
                        .expect("the fuzz cluster's objects are valid");
                }
            }
        }
        sim.advance(netsim_model::jiff::SignedDuration::from_secs(120));

        let mut namespaces = vec![NsId::External, NsId::Internet];
        let mut addresses = vec![
            Ipv4Addr::LOCALHOST,
            Ipv4Addr::BROADCAST,
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::new(8, 8, 8, 8),
            Ipv4Addr::new(203, 0, 113, 7),
            Ipv4Addr::new(10, 96, 0, 10),
        ];
        let mut ports = vec![
            0, 22, 53, 80, 443, 6443, 8080, 8472, 9999, 10250, 30080, 65535,
        ];
        for node in sim.store().list_typed::<Node>(None) {
            let name = node.metadata.name.clone().unwrap_or_default();
            namespaces.push(NsId::Node(name));
            for a in node
                .status
                .iter()
                .flat_map(|s| s.addresses.iter().flatten())
            {
                addresses.extend(a.address.parse::<Ipv4Addr>());
            }
        }
        for pod in sim.store().list_typed::<Pod>(None) {
            let host = pod.spec.as_ref().and_then(|s| s.host_network) == Some(true);
            if !host {
                let ns = pod.metadata.namespace.clone().unwrap_or_default();
                let name = pod.metadata.name.clone().unwrap_or_default();
                namespaces.push(NsId::Pod(format!("{ns}/{name}")));
            }
            let ip = pod.status.as_ref().and_then(|s| s.pod_ip.as_deref());
            addresses.extend(ip.and_then(|ip| ip.parse::<Ipv4Addr>().ok()));
        }
        for svc in sim.store().list_typed::<Service>(None) {
            let spec = svc.spec.as_ref();
            addresses.extend(
                spec.and_then(|s| s.cluster_ip.as_deref())
                    .and_then(|ip| ip.parse::<Ipv4Addr>().ok()),
            );
            let lb = svc.status.as_ref().and_then(|s| s.load_balancer.as_ref());
            for ingress in lb.iter().flat_map(|l| l.ingress.iter().flatten()) {
                addresses.extend(
                    ingress
                        .ip
                        .as_deref()
                        .and_then(|ip| ip.parse::<Ipv4Addr>().ok()),
                );
            }
            for p in spec.iter().flat_map(|s| s.ports.iter().flatten()) {
                ports.extend(u16::try_from(p.port).ok());
                ports.extend(p.node_port.and_then(|n| u16::try_from(n).ok()));
            }
        }
        addresses.sort();
        addresses.dedup();
        ports.sort();
        ports.dedup();
        World {
            sim,
            namespaces,
            addresses,
            ports,
        }
    })
}

fn address(u: &mut Unstructured<'_>, w: &World) -> Result<Ipv4Addr> {
    if u.ratio(1, 8)? {
        return Ok(Ipv4Addr::from(u.arbitrary::<u32>()?));
    }
    Ok(*u.choose(&w.addresses)?)
}

fn port(u: &mut Unstructured<'_>, w: &World) -> Result<u16> {
    if u.ratio(1, 4)? {
        return u.arbitrary();
    }
    Ok(*u.choose(&w.ports)?)
}

fn l4(u: &mut Unstructured<'_>, w: &World) -> Result<L4> {
    Ok(match u.int_in_range(0..=5u8)? {
        0 | 1 => L4::Tcp {
            sport: port(u, w)?,
            dport: port(u, w)?,
            flags: TcpFlags {
                syn: u.arbitrary()?,
                ack: u.arbitrary()?,
                rst: u.arbitrary()?,
                psh: u.arbitrary()?,
                fin: u.arbitrary()?,
            },
        },
        2 | 3 => L4::Udp {
            sport: port(u, w)?,
            dport: port(u, w)?,
        },
        4 => L4::Icmp(if u.arbitrary()? {
            Icmp::EchoRequest {
                id: u.arbitrary()?,
                seq: u.arbitrary()?,
            }
        } else {
            Icmp::EchoReply {
                id: u.arbitrary()?,
                seq: u.arbitrary()?,
            }
        }),
        _ => L4::Icmp(Icmp::Unreachable {
            code: u.arbitrary()?,
            original: (
                *u.choose(&[Proto::Tcp, Proto::Udp, Proto::Icmp, Proto::Sctp])?,
                Tuple {
                    src: address(u, w)?,
                    dst: address(u, w)?,
                    sport: port(u, w)?,
                    dport: port(u, w)?,
                },
            ),
        }),
    })
}

/// A packet as `from` might send it: usually from one of its own addresses.
fn packet(u: &mut Unstructured<'_>, w: &World, depth: u8) -> Result<Packet> {
    let payload = match u.int_in_range(0..=7u8)? {
        0 => Payload::HttpRequest(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".as_slice().into()),
        1 => Payload::HttpResponse(b"HTTP/1.1 200 OK\r\n\r\n".as_slice().into()),
        2 if depth == 0 => Payload::Vxlan(Box::new(packet(u, w, 1)?)),
        _ => Payload::None,
    };
    Ok(Packet {
        src: address(u, w)?,
        dst: address(u, w)?,
        ttl: if u.ratio(1, 4)? { u.arbitrary()? } else { 64 },
        mark: match u.int_in_range(0..=3u8)? {
            0 => 0x4000,
            1 => 0x8000,
            2 => u.arbitrary()?,
            _ => 0,
        },
        l4: l4(u, w)?,
        payload,
    })
}

/// Up to 16 packets, each from a namespace.
fn packets(data: &[u8], w: &World) -> Result<Vec<(NsId, Packet, bool)>> {
    let mut u = Unstructured::new(data);
    let mut out = Vec::new();
    while !u.is_empty() && out.len() < 16 {
        let from = u.choose(&w.namespaces)?.clone();
        // Most packets leave from an address of their own namespace, as a socket's would.
        let own_source = u.ratio(3, 4)?;
        out.push((from, packet(&mut u, w, 0)?, own_source));
    }
    Ok(out)
}

fn run(w: &World, packets: &[(NsId, Packet, bool)]) -> Vec<(Fate, Vec<Hop>)> {
    let mut sim = w.sim.clone();
    let mut dp = sim.dataplane();
    dp.record_hops(true);
    let mut out = Vec::new();
    for (from, pkt, own_source) in packets {
        let mut pkt = pkt.clone();
        if *own_source && let Some(src) = dp.source_address(from, pkt.dst) {
            pkt.src = src;
        }
        let fate = dp.send(from.clone(), pkt);
        out.push((fate, dp.take_hops()));
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let w = world();
    let Ok(packets) = packets(data, w) else {
        return;
    };
    if packets.is_empty() {
        return;
    }
    let first = run(w, &packets);
    let second = run(w, &packets);
    assert!(first == second, "the same packets met different fates");
});
