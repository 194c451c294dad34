//! The data plane: synthetic packets routed hop by hop over virtual time through the same
//! namespaces, routes, bridges, veths, VXLAN tunnels and netfilter rules the commands print.
//!
//! A [`Dataplane`] borrows the [`Sim`] for one command. It builds each namespace's view
//! ([`Sim::node_netns`], [`Sim::pod_netns`]) and each node's rules ([`Sim::node_ruleset`]) the
//! first time a packet needs them, and walks one packet at a time: the sender's routing table
//! and interface, the veth to the host, the bridge, the netfilter hooks (PREROUTING, INPUT,
//! FORWARD, OUTPUT, POSTROUTING in mangle, nat and filter, evaluated from the very rules
//! `iptables-save` prints), conntrack (the first packet of a connection through nat, later ones
//! and replies translated from the entry), VXLAN encapsulation between nodes (the outer packet
//! goes through the hosts' hooks as well), and delivery to a socket. Each hop costs the virtual
//! time of [`netsim_model::Latency`]; conntrack entries and `recent` lists stay in the state.
//!
//! Connections run one after another, one packet in flight at a time: the order of events on
//! the virtual clock is that of a real exchange with no concurrency. The TCP close handshake is
//! not walked packet by packet: when a client is done, its conntrack entries go to TIME_WAIT,
//! and a SYN that meets such an entry of its tuple reopens the connection (the entry goes and
//! the SYN is tracked as new).
//!
//! This module decides what happens to packets; it must never format output.

mod client;
pub use client::DnsOutcome;
mod hooks;
mod netfilter;

use crate::servers::{App, HttpRequest, HttpResponse, Listener};
use crate::sim::Sim;
use ipnet::Ipv4Net;
use netsim_model::conntrack::Tuple;
use netsim_model::k8s_openapi::api::core::v1::{Node, Pod, Service};
use netsim_model::netfilter::{Proto, Ruleset};
use netsim_model::netns::{LinkKind, Netns, Route};
use netsim_model::packet::{Icmp, L4, Packet, Payload};
use netsim_model::trace::{DropReason, Hop, HopKind, NsId};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::rc::Rc;
use std::sync::Arc;

/// The VXLAN UDP port flannel uses.
const VXLAN_PORT: u16 = 8472;

/// A node's namespace, rules and addresses, built once per command.
struct NodeCtx {
    /// Shared with the records of the conntrack entries an exchange creates.
    name: Rc<str>,
    netns: Rc<Netns>,
    rules: Ruleset,
    /// The rules' chain names, resolved.
    resolved: netfilter::Resolved,
    /// The rules' per-destination shortcuts.
    skip: netfilter::SkipIndex,
    /// The walks the rules took (see [`netfilter::Walks`]).
    walks: RefCell<netfilter::Walks>,
    /// The namespace's interface names: the walks' keys number them.
    devs: Vec<String>,
    local: Vec<Ipv4Net>,
    /// Pods on this node's bridge, by address: (pod key, host veth name).
    bridge_ports: BTreeMap<Ipv4Addr, (String, String)>,
}

impl NodeCtx {
    /// `dev`'s number among the namespace's interfaces (from 1; 0 for none), if it has it.
    fn dev_id(&self, dev: Option<&str>) -> Option<u8> {
        let Some(dev) = dev else { return Some(0) };
        let at = self.devs.iter().position(|d| d == dev)?;
        u8::try_from(at + 1).ok()
    }
}

/// A pod's namespace.
struct PodCtx {
    node: String,
    /// The pod's uid (its application log's key).
    uid: String,
    netns: Rc<Netns>,
    host_veth: String,
    listeners: Vec<Listener>,
}

/// Where a packet is being processed.
#[derive(Debug, Clone)]
enum At {
    /// Sent by a socket in the namespace.
    Output(NsId),
    /// Arrived on an interface (`bridged`: switched by `cni0` rather than routed to it).
    Ingress(NsId, &'static str, bool),
}

/// What became of one packet.
#[derive(Debug, Clone, PartialEq)]
pub enum Fate {
    /// Reached a socket in `ns` (`listener` if something listens there).
    Delivered {
        /// Where.
        ns: NsId,
        /// The packet as it arrived.
        packet: Packet,
    },
    /// Went no further.
    Dropped(DropReason),
    /// A netfilter REJECT answered it with ICMP port unreachable, which reached the sender.
    Rejected,
}

/// How an HTTP exchange ended.
#[derive(Debug, Clone, PartialEq)]
pub enum HttpOutcome {
    /// The server answered.
    Response {
        /// The response.
        response: HttpResponse,
        /// The pod (or node) that answered.
        server: String,
        /// The server's address and port after NAT.
        server_addr: (Ipv4Addr, u16),
        /// The application that answered.
        app: App,
    },
    /// The server accepted and closed without answering (`Empty reply from server`).
    EmptyReply,
    /// TCP RST or ICMP port unreachable: `Connection refused`.
    Refused,
    /// No answer to any SYN: `Connection timed out`.
    TimedOut,
    /// ARP for the next hop failed: `No route to host`.
    HostUnreachable,
    /// No route in the client's table: `Network is unreachable`.
    NetworkUnreachable,
}

/// One HTTP exchange's result, with its timing and hops.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpResult {
    /// How it ended.
    pub outcome: HttpOutcome,
    /// The client's address and port.
    pub client: (Ipv4Addr, u16),
    /// Virtual time from the first SYN to the end.
    pub elapsed_ns: u64,
    /// Hops of every packet (when tracing).
    pub hops: Vec<Hop>,
}

/// One ICMP echo's result.
#[derive(Debug, Clone, PartialEq)]
pub struct PingReply {
    /// Sequence number.
    pub seq: u16,
    /// Round-trip time, if a reply came back.
    pub rtt_ns: Option<u64>,
    /// TTL of the reply.
    pub ttl: u8,
    /// The address that answered.
    pub from: Ipv4Addr,
    /// An ICMP error instead of a reply (`Destination Host Unreachable`).
    pub unreachable: bool,
}

/// The data plane of one command.
pub struct Dataplane<'s> {
    sim: &'s mut Sim,
    nodes: BTreeMap<String, Rc<NodeCtx>>,
    pods: BTreeMap<String, Rc<PodCtx>>,
    /// Node addresses → node name.
    node_ips: BTreeMap<Ipv4Addr, String>,
    /// The node network.
    node_net: Option<Ipv4Net>,
    /// Virtual nanoseconds since this data plane started.
    t_ns: u64,
    /// Record hops.
    record: bool,
    hops: Vec<Hop>,
    packet_no: usize,
    /// Conntrack entries created by the current exchange: (node, protocol, original tuple).
    created: Vec<(Rc<str>, Proto, Tuple)>,
    /// The current exchange's client socket: namespace, address, port.
    client: Option<(NsId, Ipv4Addr, u16)>,
    /// The comment of the rule that decided the last table's verdict.
    last_comment: Option<String>,
    /// The outside client's namespace.
    external: Option<Rc<Netns>>,
    /// The internet side of the gateway.
    internet: Option<Rc<Netns>>,
    /// What listens on each node.
    node_listeners: BTreeMap<String, Rc<Vec<Listener>>>,
    /// The last request sent, shared with the log lines of its repeats, and its bytes: `curl
    /// --count` sends the same one each time.
    last_request: Option<(Arc<HttpRequest>, Arc<[u8]>)>,
    /// The last response answered and its bytes (they change only when the Date does).
    wire_response: Option<(HttpResponse, Arc<[u8]>)>,
    /// The time as servers write it.
    clock: crate::servers::ClockText,
}

impl Sim {
    /// `node`'s conntrack entries, in creation order.
    pub fn conntrack_entries(
        &self,
        node: &str,
    ) -> impl Iterator<Item = &netsim_model::conntrack::CtEntry> {
        self.conntrack
            .get(node)
            .into_iter()
            .flat_map(|c| c.entries())
    }

    /// A data plane over this cluster for one command. Conntrack entries that have expired
    /// and the served-request logs of pods that are gone are dropped first, so the state does
    /// not carry them on.
    pub fn dataplane(&mut self) -> Dataplane<'_> {
        let now = self.now_ms;
        for ct in self.conntrack.values_mut() {
            ct.expire(now);
        }
        for cache in self.dns_cache.values_mut() {
            cache.expire(now);
        }
        if !self.app_logs.is_empty() || !self.dns_cache.is_empty() {
            let live: std::collections::BTreeSet<&str> = self
                .store
                .list_typed::<Pod>(None)
                .filter_map(|p| p.metadata.uid.as_deref())
                .collect();
            self.app_logs.retain(|uid, _| live.contains(uid.as_str()));
            self.dns_cache
                .retain(|uid, c| live.contains(uid.as_str()) && !c.entries.is_empty());
        }
        let mut node_ips = BTreeMap::new();
        for n in self.store.list_typed::<Node>(None) {
            let name = n.metadata.name.clone().unwrap_or_default();
            if let Some(ip) = self.node_ip(&name) {
                node_ips.insert(ip, name);
            }
        }
        let node_net = node_ips
            .keys()
            .next()
            .and_then(|ip| Ipv4Net::new(*ip, 24).ok())
            .map(|n| n.trunc());
        Dataplane {
            sim: self,
            nodes: BTreeMap::new(),
            pods: BTreeMap::new(),
            node_ips,
            node_net,
            t_ns: 0,
            record: false,
            hops: Vec::new(),
            packet_no: 0,
            created: Vec::new(),
            client: None,
            last_comment: None,
            external: None,
            internet: None,
            node_listeners: BTreeMap::new(),
            last_request: None,
            wire_response: None,
            clock: crate::servers::ClockText::default(),
        }
    }
}

impl<'s> Dataplane<'s> {
    /// A random 16-bit number (DNS transaction ids) from the one RNG.
    pub fn random_u16(&mut self) -> u16 {
        self.sim.rng.range(0, 65536) as u16
    }

    /// Record every hop of the following exchanges (for `trace`).
    pub fn record_hops(&mut self, on: bool) {
        self.record = on;
    }

    /// Virtual time spent so far, in nanoseconds.
    pub fn elapsed_ns(&self) -> u64 {
        self.t_ns
    }

    /// The simulation (for reading while the data plane is alive).
    pub fn sim(&self) -> &Sim {
        self.sim
    }

    /// The node's rules as the packets saw them.
    pub fn node_rules(&mut self, node: &str) -> Option<Ruleset> {
        self.node(node).map(|n| n.rules.clone())
    }

    /// The address of the client outside the cluster: the node network's last host address.
    pub fn external_ip(&self) -> Ipv4Addr {
        self.node_net
            .map(|n| Ipv4Addr::from(u32::from(n.broadcast()) - 1))
            .unwrap_or(Ipv4Addr::new(192, 0, 2, 10))
    }

    /// The gateway of the node network (`.1`).
    fn gateway(&self) -> Ipv4Addr {
        self.node_net
            .map(|n| Ipv4Addr::from(u32::from(n.network()) + 1))
            .unwrap_or(Ipv4Addr::new(10, 0, 0, 1))
    }

    fn now_ms(&self) -> i64 {
        self.sim.now_ms + (self.t_ns / 1_000_000) as i64
    }

    fn latency(&self) -> &netsim_model::Latency {
        &self.sim.config.latency
    }

    fn node(&mut self, name: &str) -> Option<Rc<NodeCtx>> {
        if let Some(n) = self.nodes.get(name) {
            return Some(n.clone());
        }
        let netns = self.sim.node_netns(name)?;
        let rules = self.sim.node_ruleset(name)?;
        let local = netns
            .links
            .iter()
            .flat_map(|l| l.addrs.iter().map(|a| a.net))
            .collect();
        let mut bridge_ports = BTreeMap::new();
        if let Some(net) = self.sim.node_net.get(name) {
            for (uid, rec) in &net.pods {
                let (ns, pod_name) = rec.pod.split_once('/').unwrap_or(("", &rec.pod));
                let Some(pod) = self.sim.store.typed::<Pod>(ns, pod_name) else {
                    continue;
                };
                if pod.metadata.uid.as_deref() != Some(uid) {
                    continue;
                }
                if let Some(ip) = pod_ip(pod) {
                    bridge_ports.insert(ip, (rec.pod.clone(), rec.host_name.clone()));
                }
            }
        }
        let devs = netns.links.iter().map(|l| l.name.clone()).collect();
        let ctx = Rc::new(NodeCtx {
            name: name.into(),
            netns: Rc::new(netns),
            resolved: netfilter::Resolved::build(&rules),
            skip: netfilter::SkipIndex::build(&rules),
            walks: RefCell::default(),
            devs,
            rules,
            local,
            bridge_ports,
        });
        self.nodes.insert(name.to_string(), ctx.clone());
        Some(ctx)
    }

    fn pod(&mut self, key: &str) -> Option<Rc<PodCtx>> {
        if let Some(p) = self.pods.get(key) {
            return Some(p.clone());
        }
        let (ns, name) = key.split_once('/')?;
        let pod = self.sim.store.typed::<Pod>(ns, name)?.clone();
        let node = pod.spec.as_ref()?.node_name.clone()?;
        let netns = self.sim.pod_netns(&pod)?;
        let uid = pod.metadata.uid.clone()?;
        let host_veth = self
            .sim
            .node_net
            .get(&node)?
            .pods
            .get(&uid)?
            .host_name
            .clone();
        let listeners = crate::servers::listeners(&pod);
        let ctx = Rc::new(PodCtx {
            node,
            uid,
            netns: Rc::new(netns),
            host_veth,
            listeners,
        });
        self.pods.insert(key.to_string(), ctx.clone());
        Some(ctx)
    }

    /// Records a hop when tracing; `kind` is built only then (the engine does not describe
    /// what nobody asked to see).
    fn hop(&mut self, ns: &NsId, pkt: &Packet, kind: impl FnOnce() -> HopKind) {
        if self.record {
            self.hops.push(Hop {
                at_ns: self.t_ns,
                packet_no: self.packet_no,
                ns: ns.clone(),
                packet: pkt.clone(),
                kind: kind(),
            });
        }
    }

    fn netns_of(&mut self, ns: &NsId) -> Option<Rc<Netns>> {
        match ns {
            NsId::Node(n) => self.node(n).map(|c| c.netns.clone()),
            NsId::Pod(p) => self.pod(p).map(|c| c.netns.clone()),
            NsId::External => {
                if self.external.is_none() {
                    self.external = Some(Rc::new(self.external_netns(self.external_ip())));
                }
                self.external.clone()
            }
            NsId::Internet => {
                if self.internet.is_none() {
                    self.internet = Some(Rc::new(self.external_netns(self.gateway())));
                }
                self.internet.clone()
            }
        }
    }

    /// A host on the node network with address `ip`, default via `.1`: the outside client, or
    /// (with the gateway's own address) the internet side answering DNS.
    fn external_netns(&self, ip: Ipv4Addr) -> Netns {
        use netsim_model::netns::{Addr, Link};
        let net = self.node_net.unwrap_or_default();
        Netns {
            links: vec![Link {
                ifindex: 2,
                name: "eth0".into(),
                kind: LinkKind::Ether,
                mac: [0x02, 0, 0, 0, 0, 0xfe],
                ll_mac: [0x02, 0, 0, 0, 0, 0xfe],
                mtu: self.sim.config.mtu,
                up: true,
                lower_up: true,
                master: None,
                addrs: vec![Addr {
                    net: Ipv4Net::new(ip, net.prefix_len()).unwrap_or_default(),
                    brd: Some(net.broadcast()),
                    scope: "global",
                }],
                ipv6_link_local: false,
            }],
            routes: vec![
                Route {
                    dst: None,
                    via: Some(self.gateway()),
                    dev: "eth0".into(),
                    proto_kernel: false,
                    scope_link: false,
                    src: None,
                    onlink: false,
                },
                Route {
                    dst: Some(net),
                    via: None,
                    dev: "eth0".into(),
                    proto_kernel: true,
                    scope_link: true,
                    src: Some(ip),
                    onlink: false,
                },
            ],
            ..Netns::default()
        }
    }

    /// The source address a socket in `ns` uses toward `dst`.
    pub fn source_address(&mut self, ns: &NsId, dst: Ipv4Addr) -> Option<Ipv4Addr> {
        let netns = self.netns_of(ns)?;
        if dst.is_loopback() {
            return Some(Ipv4Addr::LOCALHOST);
        }
        if netns
            .links
            .iter()
            .any(|l| l.addrs.iter().any(|a| a.net.addr() == dst))
        {
            return Some(dst);
        }
        let route = netns.route_lookup(dst)?;
        netns.source_for(route)
    }

    /// Routes one packet from a socket in `from` until it reaches a socket, is dropped, or is
    /// rejected back to its sender.
    pub fn send(&mut self, from: NsId, mut pkt: Packet) -> Fate {
        let origin = from.clone();
        let original = (pkt.proto(), pkt.tuple());
        self.hop(&from, &pkt, || HopKind::Sent);
        let mut at = At::Output(from);
        for _ in 0..64 {
            let step = match at {
                At::Output(ns) => self.output(ns, &mut pkt),
                At::Ingress(ns, dev, bridged) => self.ingress(ns, dev, bridged, &mut pkt),
            };
            match step {
                Step::Next(next) => at = next,
                Step::Deliver(ns) => {
                    // VXLAN: the outer packet's payload is the inner packet.
                    return Fate::Delivered { ns, packet: pkt };
                }
                Step::Drop(reason) => return Fate::Dropped(reason),
                Step::Reject { ns } => {
                    // REJECT answers with ICMP port unreachable, from the rejecting namespace to
                    // the packet's source.
                    let Some(src) = self.source_address(&ns, pkt.src) else {
                        return Fate::Dropped(DropReason::PolicyDenied);
                    };
                    let icmp = Packet {
                        src,
                        dst: pkt.src,
                        ttl: 64,
                        mark: 0,
                        l4: L4::Icmp(Icmp::Unreachable {
                            code: 3,
                            original: (pkt.proto(), pkt.tuple()),
                        }),
                        payload: Payload::None,
                    };
                    self.packet_no += 1;
                    return match self.send(ns, icmp) {
                        Fate::Delivered { ns: back, packet } if back == origin => match packet.l4 {
                            L4::Icmp(Icmp::Unreachable { original: o, .. }) if o == original => {
                                Fate::Rejected
                            }
                            _ => Fate::Dropped(DropReason::PolicyDenied),
                        },
                        _ => Fate::Dropped(DropReason::PolicyDenied),
                    };
                }
            }
        }
        self.hop(&origin, &pkt, || HopKind::Dropped {
            reason: DropReason::TtlExceeded,
            detail: "routing loop".into(),
        });
        Fate::Dropped(DropReason::TtlExceeded)
    }

    /// Drops the packet; `detail` is worded only when tracing.
    fn drop_with(
        &mut self,
        ns: &NsId,
        pkt: &Packet,
        reason: DropReason,
        detail: impl FnOnce() -> String,
    ) -> Step {
        self.hop(ns, pkt, || HopKind::Dropped {
            reason,
            detail: detail(),
        });
        Step::Drop(reason)
    }

    /// The node context of `ns` (for a node) and its namespace, if it exists.
    fn place(&mut self, ns: &NsId) -> (Option<Rc<NodeCtx>>, Option<Rc<Netns>>) {
        let node = match ns {
            NsId::Node(n) => self.node(n),
            _ => None,
        };
        let netns = match &node {
            Some(node) => Some(node.netns.clone()),
            None => self.netns_of(ns),
        };
        (node, netns)
    }

    /// A socket in `ns` sends `pkt`.
    fn output(&mut self, ns: NsId, pkt: &mut Packet) -> Step {
        self.t_ns += self.latency().stack_micros * 1000;
        let (node, netns) = self.place(&ns);
        let Some(netns) = netns else {
            return self.drop_with(&ns, pkt, DropReason::NoRoute, || "no such namespace".into());
        };
        // Local destination: over `lo`.
        if pkt.dst.is_loopback() || owns(&netns, pkt.dst) {
            self.hop(&ns, pkt, || HopKind::Route {
                dst: pkt.dst,
                route: None,
            });
            if let Some(node) = &node {
                let mut track = self.track(node, pkt);
                if let Err(step) = self.hook_output(&ns, node, pkt, &mut track, None) {
                    return step;
                }
                if let Err(step) = self.hook_input(&ns, node, pkt, &mut track, Some("lo")) {
                    return step;
                }
                self.confirm(node, pkt, track);
            }
            return self.deliver(ns, pkt);
        }
        let Some(mut route) = netns.route_lookup(pkt.dst) else {
            return self.drop_with(&ns, pkt, DropReason::NoRoute, || {
                format!("no route to {} in this namespace's table", pkt.dst)
            });
        };
        self.hop(&ns, pkt, || HopKind::Route {
            dst: pkt.dst,
            route: Some(route.clone()),
        });
        if let Some(node) = &node {
            let mut track = self.track(node, pkt);
            let before = pkt.dst;
            if let Err(step) = self.hook_output(&ns, node, pkt, &mut track, Some(&route.dev)) {
                return step;
            }
            if pkt.dst != before {
                // DNAT in OUTPUT: route again for the new destination.
                if owns(&netns, pkt.dst) {
                    if let Err(step) = self.hook_input(&ns, node, pkt, &mut track, Some("lo")) {
                        return step;
                    }
                    self.confirm(node, pkt, track);
                    return self.deliver(ns, pkt);
                }
                let Some(r) = netns.route_lookup(pkt.dst) else {
                    return self.drop_with(&ns, pkt, DropReason::NoRoute, || "no route".into());
                };
                route = r;
                self.hop(&ns, pkt, || HopKind::Route {
                    dst: pkt.dst,
                    route: Some(route.clone()),
                });
            }
            if let Err(step) = self.hook_postrouting(&ns, node, pkt, &mut track, None, &route.dev) {
                return step;
            }
            self.confirm(node, pkt, track);
        }
        self.transmit(ns, node.as_ref(), &netns, route, pkt)
    }

    /// `pkt` arrives on `dev` in `ns`.
    fn ingress(&mut self, ns: NsId, dev: &'static str, bridged: bool, pkt: &mut Packet) -> Step {
        self.t_ns += self.latency().stack_micros * 1000;
        // The skb mark does not survive a change of namespace.
        pkt.mark = 0;
        self.hop(&ns, pkt, || HopKind::Received {
            dev: dev.to_string(),
        });
        let (node, netns) = self.place(&ns);
        let Some(netns) = netns else {
            return self.drop_with(&ns, pkt, DropReason::NoRoute, || "no such namespace".into());
        };
        let NsId::Node(_) = &ns else {
            // Pods and the outside client do not forward (ip_forward=0) and have no rules; the
            // internet side answers DNS at any address.
            if owns(&netns, pkt.dst) || ns == NsId::Internet {
                return self.deliver(ns, pkt);
            }
            return self.drop_with(&ns, pkt, DropReason::UnknownTarget, || {
                format!("{} is not an address of this namespace", pkt.dst)
            });
        };
        let Some(node) = node else {
            return Step::Drop(DropReason::NoRoute);
        };
        let mut track = self.track(&node, pkt);
        if let Err(step) = self.hook_prerouting(&ns, &node, pkt, &mut track, dev) {
            return step;
        }
        if owns(&netns, pkt.dst) {
            self.hop(&ns, pkt, || HopKind::Route {
                dst: pkt.dst,
                route: None,
            });
            if let Err(step) = self.hook_input(&ns, &node, pkt, &mut track, Some(dev)) {
                return step;
            }
            self.confirm(&node, pkt, track);
            // VXLAN: the kernel's vxlan socket unwraps and the inner packet arrives on the
            // VXLAN device.
            if matches!(
                pkt.l4,
                L4::Udp {
                    dport: VXLAN_PORT,
                    ..
                }
            ) && matches!(pkt.payload, Payload::Vxlan(_))
            {
                self.hop(&ns, pkt, || HopKind::Decapsulate {
                    dev: "flannel.1".into(),
                });
                if let Payload::Vxlan(inner) = std::mem::replace(&mut pkt.payload, Payload::None) {
                    *pkt = *inner;
                }
                return Step::Next(At::Ingress(ns, "flannel.1", false));
            }
            return self.deliver(ns, pkt);
        }
        let Some(route) = netns.route_lookup(pkt.dst) else {
            return self.drop_with(&ns, pkt, DropReason::NoRoute, || {
                format!("no route to {}", pkt.dst)
            });
        };
        if !bridged {
            self.hop(&ns, pkt, || HopKind::Route {
                dst: pkt.dst,
                route: Some(route.clone()),
            });
            if pkt.ttl <= 1 {
                return self.drop_with(&ns, pkt, DropReason::TtlExceeded, || "TTL 0".into());
            }
            pkt.ttl -= 1;
        }
        if let Err(step) = self.hook_forward(&ns, &node, pkt, &mut track, dev, &route.dev) {
            return step;
        }
        if let Err(step) = self.hook_postrouting(&ns, &node, pkt, &mut track, Some(dev), &route.dev)
        {
            return step;
        }
        self.confirm(&node, pkt, track);
        self.transmit(ns, Some(&node), &netns, route, pkt)
    }
}

impl Dataplane<'_> {
    /// Sends `pkt` out of `route.dev` in `ns` (whose context is `node`, for a node) toward
    /// its next hop.
    fn transmit(
        &mut self,
        ns: NsId,
        node: Option<&Rc<NodeCtx>>,
        netns: &Netns,
        route: &Route,
        pkt: &mut Packet,
    ) -> Step {
        let next_hop = route.via.unwrap_or(pkt.dst);
        self.hop(&ns, pkt, || HopKind::Transmit {
            dev: route.dev.clone(),
            next_hop,
        });
        let veth_ns = self.latency().veth_micros * 1000;
        match &ns {
            NsId::Pod(key) => {
                let Some(pod) = self.pod(key) else {
                    return Step::Drop(DropReason::NoRoute);
                };
                self.t_ns += veth_ns;
                // The frame crosses the veth pair to the host, where the veth is a port of cni0.
                let gateway = pod
                    .netns
                    .routes
                    .iter()
                    .find(|r| r.dst.is_none())
                    .and_then(|r| r.via);
                let bridged = Some(next_hop) != gateway;
                let host = NsId::Node(pod.node.clone());
                if self.record {
                    let to = if bridged {
                        let port = self
                            .node(&pod.node)
                            .and_then(|n| n.bridge_ports.get(&next_hop).map(|p| p.1.clone()));
                        match port {
                            Some(veth) => {
                                format!("{veth} (switched; br_netfilter runs the host's hooks)")
                            }
                            None => "no port has that address".to_string(),
                        }
                    } else {
                        "cni0 (up to the host's stack)".to_string()
                    };
                    self.hop(&host, pkt, || HopKind::Bridge {
                        bridge: "cni0".into(),
                        from: pod.host_veth.clone(),
                        to,
                    });
                }
                Step::Next(At::Ingress(host, "cni0", bridged))
            }
            NsId::Node(name) => {
                let Some(node) = node.cloned().or_else(|| self.node(name)) else {
                    return Step::Drop(DropReason::NoRoute);
                };
                match netns.link(&route.dev).map(|l| &l.kind) {
                    Some(LinkKind::Bridge) if route.dev == "cni0" => {
                        let Some((key, veth)) = node.bridge_ports.get(&next_hop) else {
                            return self.drop_with(&ns, pkt, DropReason::UnknownTarget, || {
                                format!(
                                    "no pod on cni0 has {next_hop}: ARP gets no answer (Destination Host Unreachable)"
                                )
                            });
                        };
                        self.hop(&ns, pkt, || HopKind::Bridge {
                            bridge: "cni0".into(),
                            from: "cni0".into(),
                            to: veth.clone(),
                        });
                        self.t_ns += veth_ns;
                        Step::Next(At::Ingress(NsId::Pod(key.clone()), "eth0", false))
                    }
                    Some(LinkKind::Vxlan { id, local, .. }) => {
                        let (id, local) = (*id, *local);
                        let mac = netns
                            .neighbours
                            .iter()
                            .find(|n| n.ip == next_hop && n.dev == route.dev)
                            .map(|n| n.mac);
                        let peer = mac
                            .and_then(|m| netns.fdb.iter().find(|f| f.mac == m))
                            .map(|f| f.dst);
                        let Some(peer) = peer else {
                            return self.drop_with(&ns, pkt, DropReason::UnknownTarget, || {
                                format!("flannel.1 has no neighbour entry for {next_hop}")
                            });
                        };
                        // The outer source port is a hash of the inner flow (Linux picks it
                        // from the ephemeral range).
                        let t = pkt.tuple();
                        let hash = u32::from(t.src)
                            ^ u32::from(t.dst).rotate_left(7)
                            ^ (u32::from(t.sport) << 16 | u32::from(t.dport));
                        let sport = 32768 + (hash % 28232) as u16;
                        self.hop(&ns, pkt, || HopKind::Encapsulate {
                            src: local,
                            dst: peer,
                            vni: id,
                            sport,
                        });
                        let outer = Packet {
                            src: local,
                            dst: peer,
                            ttl: 64,
                            mark: 0,
                            l4: L4::Udp {
                                sport,
                                dport: VXLAN_PORT,
                            },
                            payload: Payload::None,
                        };
                        let inner = std::mem::replace(pkt, outer);
                        pkt.payload = Payload::Vxlan(Box::new(inner));
                        // The kernel sends the outer packet like any local UDP packet.
                        Step::Next(At::Output(ns))
                    }
                    Some(LinkKind::Ether) => self.on_node_network(ns, next_hop, pkt),
                    _ => self.drop_with(&ns, pkt, DropReason::UnknownTarget, || {
                        format!("nothing answers ARP for {next_hop} on {}", route.dev)
                    }),
                }
            }
            NsId::External | NsId::Internet => self.on_node_network(ns, next_hop, pkt),
        }
    }

    /// A frame on the node network for `next_hop`: a node, the outside client, or the gateway
    /// (which hands load-balancer addresses to a node and everything else to the internet).
    fn on_node_network(&mut self, ns: NsId, next_hop: Ipv4Addr, pkt: &mut Packet) -> Step {
        let lat = self.latency().clone();
        if let Some(node) = self.node_ips.get(&next_hop).cloned() {
            self.t_ns += lat.node_network_micros * 1000;
            return Step::Next(At::Ingress(NsId::Node(node), "eth0", false));
        }
        if next_hop == self.external_ip() {
            self.t_ns += lat.external_micros * 1000;
            return Step::Next(At::Ingress(NsId::External, "eth0", false));
        }
        // MetalLB layer 2: the elected node answers ARP for the address (asked directly, or
        // by the gateway for a packet from beyond it).
        let arp_for = if next_hop == self.gateway() {
            pkt.dst
        } else {
            next_hop
        };
        if let Some(announcer) = self.metallb_owner(arp_for) {
            let Some(node) = announcer else {
                return self.drop_with(&ns, pkt, DropReason::UnknownTarget, || format!(
                    "no node announces {arp_for}: MetalLB's speakers elect none while the Service has no ready endpoint (with externalTrafficPolicy Local, none on an eligible node)"
                ));
            };
            self.t_ns += lat.node_network_micros * 1000;
            self.hop(&ns, pkt, || HopKind::Bridge {
                bridge: "node network (ARP answered by MetalLB's speaker)".into(),
                from: arp_for.to_string(),
                to: node.clone(),
            });
            return Step::Next(At::Ingress(NsId::Node(node), "eth0", false));
        }
        if next_hop != self.gateway() {
            return self.drop_with(&ns, pkt, DropReason::UnknownTarget, || {
                format!("nothing on the node network answers ARP for {next_hop}")
            });
        }
        if let Some(detail) = self.load_balancer_refuses(pkt) {
            return self.drop_with(&ns, pkt, DropReason::NoAnswer, || detail);
        }
        if let Some(node) = self.load_balancer_target(pkt) {
            self.t_ns += lat.external_micros * 1000;
            self.hop(&ns, pkt, || HopKind::Bridge {
                bridge: "load balancer".into(),
                from: pkt.dst.to_string(),
                to: node.clone(),
            });
            return Step::Next(At::Ingress(NsId::Node(node), "eth0", false));
        }
        if pkt.dst == self.external_ip() {
            self.t_ns += lat.external_micros * 1000;
            return Step::Next(At::Ingress(NsId::External, "eth0", false));
        }
        // DNS beyond the gateway: the gateway's own resolver, or a public one on the internet.
        let dns = matches!(
            pkt.l4,
            L4::Udp { dport: 53, .. } | L4::Tcp { dport: 53, .. }
        );
        if dns && ns != NsId::Internet {
            self.t_ns += lat.external_micros * 1000;
            return Step::Next(At::Ingress(NsId::Internet, "eth0", false));
        }
        let service_range = self.sim.config.service_cidr.contains(&pkt.dst);
        if service_range {
            return self.drop_with(&ns, pkt, DropReason::IsAClusterIp, || {
                format!(
                    "{} is a ClusterIP: it exists only in kube-proxy's rules, which match only the Service's ports and protocol; nothing else routes it, so the gateway sends it to the internet and no answer comes",
                    pkt.dst
                )
            });
        }
        self.drop_with(&ns, pkt, DropReason::NoAnswer, || {
            format!(
                "the gateway sends {} to the internet; nothing answers",
                pkt.dst
            )
        })
    }

    /// Why the cloud load balancer drops a packet for one of its addresses: it forwards only
    /// the protocols and ports of its Service's listeners. (Forwarding anything else to a node,
    /// which does not own the address either, would send it straight back: a routing loop.)
    fn load_balancer_refuses(&self, pkt: &Packet) -> Option<String> {
        if self.lb_provider() != Some(netsim_model::LoadBalancerProvider::Cloud) {
            return None;
        }
        let svc = self.load_balancer_service(pkt.dst)?;
        let (proto, (_, dport)) = (pkt.proto(), pkt.ports());
        let listens = svc
            .spec
            .iter()
            .flat_map(|s| s.ports.iter().flatten())
            .any(|p| {
                u16::try_from(p.port).ok() == Some(dport)
                    && Proto::parse(p.protocol.as_deref().unwrap_or("TCP")) == Some(proto)
            });
        if listens {
            return None;
        }
        let name = format!(
            "{}/{}",
            svc.metadata.namespace.as_deref().unwrap_or_default(),
            svc.metadata.name.as_deref().unwrap_or_default()
        );
        let what = match proto {
            Proto::Icmp => "ICMP".to_string(),
            _ => format!("{}/{dport}", proto.as_str().to_ascii_uppercase()),
        };
        Some(format!(
            "the load balancer at {} (Service {name}) has no listener for {what}; it drops the packet",
            pkt.dst
        ))
    }

    /// The cloud load balancer in front of the nodes: which node gets a packet for a
    /// LoadBalancer address. Control-plane nodes are excluded (kubeadm labels them
    /// `node.kubernetes.io/exclude-from-external-load-balancers`); with
    /// `externalTrafficPolicy: Local` only nodes with a ready local endpoint pass the health
    /// check.
    fn load_balancer_target(&mut self, pkt: &Packet) -> Option<String> {
        if self.lb_provider() != Some(netsim_model::LoadBalancerProvider::Cloud) {
            return None;
        }
        let svc = self.load_balancer_service(pkt.dst)?;
        let local_only = svc
            .spec
            .as_ref()
            .and_then(|s| s.external_traffic_policy.as_deref())
            == Some("Local");
        let svc_name = svc.metadata.name.clone().unwrap_or_default();
        let svc_ns = svc.metadata.namespace.clone().unwrap_or_default();
        let mut candidates: Vec<String> = Vec::new();
        for node in self.sim.store.list_typed::<Node>(None) {
            let excluded = node.metadata.labels.as_ref().is_some_and(|l| {
                l.contains_key("node.kubernetes.io/exclude-from-external-load-balancers")
            });
            if excluded {
                continue;
            }
            let name = node.metadata.name.clone().unwrap_or_default();
            if local_only && !self.has_local_endpoint(&svc_ns, &svc_name, &name) {
                continue;
            }
            candidates.push(name);
        }
        if candidates.is_empty() {
            return None;
        }
        let pick = self.sim.rng.below(candidates.len() as u64) as usize;
        candidates.get(pick).cloned()
    }

    /// For an address MetalLB assigned: the node that answers ARP for it (`Some(None)`: no
    /// node does). `None` when MetalLB does not own the address.
    fn metallb_owner(&self, ip: Ipv4Addr) -> Option<Option<String>> {
        if self.lb_provider() != Some(netsim_model::LoadBalancerProvider::MetalLbL2) {
            return None;
        }
        let svc = self.load_balancer_service(ip)?;
        Some(self.sim.metallb_announcer(svc))
    }

    fn has_local_endpoint(&self, ns: &str, svc: &str, node: &str) -> bool {
        self.sim
            .ready_endpoints(ns, svc)
            .any(|e| e.node_name.as_deref() == Some(node))
    }

    /// Who provides the cluster's load balancers, if anyone does.
    fn lb_provider(&self) -> Option<netsim_model::LoadBalancerProvider> {
        self.sim
            .config
            .load_balancer_pool
            .as_ref()
            .map(|p| p.provider)
    }

    /// The LoadBalancer Service that has `ip` among its ingress addresses.
    fn load_balancer_service(&self, ip: Ipv4Addr) -> Option<&Service> {
        self.sim.store.services_with_ingress_ip(ip).next()
    }

    /// The packet reached its destination namespace.
    fn deliver(&mut self, ns: NsId, pkt: &Packet) -> Step {
        if self.record {
            let process = match &pkt.l4 {
                _ if ns == NsId::Internet => format!("the resolver at {}", pkt.dst),
                L4::Icmp(_) => "the kernel (ICMP)".to_string(),
                L4::Udp { dport, .. } if *dport == VXLAN_PORT => "the vxlan driver".to_string(),
                _ => {
                    let (_, dport) = pkt.ports();
                    match self.listener(&ns, pkt.proto(), dport) {
                        Some(l) => l.process,
                        None if self.client == Some((ns.clone(), pkt.dst, dport)) => {
                            "the client's socket".to_string()
                        }
                        None => "no socket (nothing listens on that port)".to_string(),
                    }
                }
            };
            self.hop(&ns, pkt, || HopKind::Delivered { process });
        }
        Step::Deliver(ns)
    }

    /// What listens on `proto`/`port` in `ns`.
    pub fn listener(&mut self, ns: &NsId, proto: Proto, port: u16) -> Option<Listener> {
        match ns {
            NsId::Pod(key) => {
                let pod = self.pod(key)?;
                pod.listeners
                    .iter()
                    .find(|l| l.proto == proto && l.port == port)
                    .cloned()
            }
            NsId::Node(name) => {
                if !self.node_listeners.contains_key(name) {
                    let list = crate::servers::node_listeners(self.sim, name);
                    self.node_listeners.insert(name.clone(), Rc::new(list));
                }
                self.node_listeners
                    .get(name)?
                    .iter()
                    .find(|l| l.proto == proto && l.port == port)
                    .cloned()
            }
            NsId::External | NsId::Internet => None,
        }
    }
}

/// A step of the walk.
enum Step {
    Next(At),
    Deliver(NsId),
    Drop(DropReason),
    Reject { ns: NsId },
}

fn owns(netns: &Netns, ip: Ipv4Addr) -> bool {
    netns
        .links
        .iter()
        .any(|l| l.addrs.iter().any(|a| a.net.addr() == ip))
}

fn pod_ip(pod: &Pod) -> Option<Ipv4Addr> {
    pod.status.as_ref()?.pod_ip.as_deref()?.parse().ok()
}
