//! Network namespaces as a node's kernel holds them: links (loopback, the node's `eth0`, veth
//! pairs, the `cni0` bridge, the VXLAN `flannel.1`, `docker0`), their addresses, the routing
//! table, the neighbour table and the VXLAN forwarding database.
//!
//! A namespace is a *view*: [`node_netns`] and [`pod_netns`] build it on demand from the API
//! objects and the CNI's records ([`NodeNet`]) — the only network state that is stored. The
//! same view is what `ip addr` prints and, later, what packets are routed through, so the two
//! can never disagree. This module must never format output.

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// A MAC address.
pub type Mac = [u8; 6];

/// What a link is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkKind {
    /// `lo`.
    Loopback,
    /// A physical (or cloud) NIC.
    Ether,
    /// One end of a veth pair; the peer is `peer_ifindex` in the namespace `link_netnsid` names
    /// (as this namespace numbers it).
    Veth {
        /// The peer's ifindex in its namespace.
        peer_ifindex: u32,
        /// This namespace's id for the peer's namespace.
        link_netnsid: u32,
        /// The peer namespace's name under `/var/run/netns`, if it has one (containerd names
        /// pod namespaces `cni-<uuid>`; `ip` then prints `link-netns NAME`).
        link_netns: Option<String>,
    },
    /// A Linux bridge.
    Bridge,
    /// A dummy device (kube-proxy's `kube-ipvs0` in IPVS mode: down, holding Service addresses).
    Dummy,
    /// A VXLAN device.
    Vxlan {
        /// VNI.
        id: u32,
        /// Local VTEP address.
        local: Ipv4Addr,
        /// Underlay device.
        dev: String,
        /// UDP port (8472 for flannel).
        dstport: u16,
    },
}

/// An IPv4 address on a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addr {
    /// Address and prefix.
    pub net: Ipv4Net,
    /// Broadcast address, if the link has one.
    pub brd: Option<Ipv4Addr>,
    /// `host` for loopback, else `global`.
    pub scope: &'static str,
}

/// One network interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Interface index in its namespace.
    pub ifindex: u32,
    /// Name.
    pub name: String,
    /// What it is.
    pub kind: LinkKind,
    /// Hardware address.
    pub mac: Mac,
    /// The address the IPv6 link-local address was derived from (a bridge's MAC changes to its
    /// smallest port's, its link-local address does not).
    pub ll_mac: Mac,
    /// MTU.
    pub mtu: u32,
    /// Administratively up.
    pub up: bool,
    /// Carrier (`LOWER_UP`).
    pub lower_up: bool,
    /// Bridge it is a port of.
    pub master: Option<String>,
    /// IPv4 addresses.
    pub addrs: Vec<Addr>,
    /// Whether it has an IPv6 link-local address (derived from the MAC, EUI-64).
    pub ipv6_link_local: bool,
}

/// One route of the main table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Destination; `None` is `default`.
    pub dst: Option<Ipv4Net>,
    /// Gateway.
    pub via: Option<Ipv4Addr>,
    /// Output device.
    pub dev: String,
    /// `kernel` for connected routes, else none printed.
    pub proto_kernel: bool,
    /// `link` scope for connected routes.
    pub scope_link: bool,
    /// Preferred source.
    pub src: Option<Ipv4Addr>,
    /// `onlink` (flannel's routes via the VTEP addresses).
    pub onlink: bool,
}

/// A neighbour (ARP) entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Neighbour {
    /// IP address.
    pub ip: Ipv4Addr,
    /// Device.
    pub dev: String,
    /// Hardware address.
    pub mac: Mac,
    /// `PERMANENT` (flannel writes its VTEP neighbours so) or `REACHABLE`.
    pub state: &'static str,
}

/// A VXLAN forwarding-database entry (`bridge fdb`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FdbEntry {
    /// Remote VTEP MAC.
    pub mac: Mac,
    /// Device.
    pub dev: String,
    /// Remote VTEP underlay address.
    pub dst: Ipv4Addr,
}

/// A whole namespace.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Netns {
    /// Links in ifindex order.
    pub links: Vec<Link>,
    /// The main routing table, in kernel order.
    pub routes: Vec<Route>,
    /// Neighbour table.
    pub neighbours: Vec<Neighbour>,
    /// Forwarding database.
    pub fdb: Vec<FdbEntry>,
}

impl Netns {
    /// The link named `name`.
    pub fn link(&self, name: &str) -> Option<&Link> {
        self.links.iter().find(|l| l.name == name)
    }

    /// The route the kernel picks for `dst` in the main table: the longest matching prefix
    /// (`default` is /0); among equal prefixes, the first listed.
    pub fn route_lookup(&self, dst: Ipv4Addr) -> Option<&Route> {
        self.routes
            .iter()
            .filter(|r| r.dst.is_none_or(|net| net.contains(&dst)))
            .max_by(|a, b| {
                let len = |r: &Route| r.dst.map_or(0, |d| d.prefix_len());
                // `max_by` keeps the last maximum; compare reversed positions to keep the first.
                len(a).cmp(&len(b)).then(std::cmp::Ordering::Greater)
            })
    }

    /// The source address the kernel uses for a packet sent by `route`: its `src`, else the
    /// first address of its output device.
    pub fn source_for(&self, route: &Route) -> Option<Ipv4Addr> {
        route
            .src
            .or_else(|| self.link(&route.dev)?.addrs.first().map(|a| a.net.addr()))
    }
}

/// The CNI's record of one pod's sandbox on its node: what the kernel assigned when the veth
/// pair was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodNet {
    /// Namespace/name of the pod (for humans reading state).
    pub pod: String,
    /// ifindex of the host end in the node's namespace.
    pub host_ifindex: u32,
    /// Name of the host end (`veth` + 8 hex digits).
    pub host_name: String,
    /// MAC of the host end.
    pub host_mac: Mac,
    /// ifindex of `eth0` in the pod's namespace.
    pub pod_ifindex: u32,
    /// MAC of the pod's `eth0`.
    pub pod_mac: Mac,
    /// The node namespace's id for the pod namespace (`link-netnsid`).
    pub netnsid: u32,
    /// The pod namespace's name in `/var/run/netns` (containerd: `cni-<uuid>`), if any.
    #[serde(default)]
    pub netns_name: Option<String>,
}

/// The CNI's and kernel's records on one node.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeNet {
    /// The host namespace's next free ifindex (the kernel never reuses one until it wraps).
    pub next_ifindex: u32,
    /// ifindex and MAC of each host link the node has had since boot, by name (`eth0`,
    /// `docker0`, `flannel.1`, `cni0`).
    pub host_links: BTreeMap<String, (u32, Mac)>,
    /// Pods with a sandbox on this node, by pod uid.
    pub pods: BTreeMap<String, PodNet>,
    /// The next netnsid the host namespace hands out.
    pub next_netnsid: u32,
}

/// What the node's view needs to know about one peer node (flannel's routes, ARP and FDB).
#[derive(Debug, Clone)]
pub struct Peer {
    /// Node InternalIP.
    pub ip: Ipv4Addr,
    /// Node pod subnet.
    pub pod_cidr: Ipv4Net,
    /// Its `flannel.1` MAC (VXLAN backend only).
    pub vtep_mac: Option<Mac>,
}

/// The node side of the picture.
#[derive(Debug, Clone)]
pub struct NodeView<'a> {
    /// Node InternalIP.
    pub ip: Ipv4Addr,
    /// The node network's prefix (for `eth0`).
    pub prefix: u8,
    /// The node network's gateway.
    pub gateway: Ipv4Addr,
    /// This node's pod subnet.
    pub pod_cidr: Option<Ipv4Net>,
    /// Node MTU.
    pub mtu: u32,
    /// Whether the runtime is docker (a `docker0` bridge exists).
    pub docker: bool,
    /// flannel's host-gw backend: no VXLAN device, routes via the other nodes' addresses.
    pub host_gw: bool,
    /// In IPVS mode, the addresses kube-proxy binds to `kube-ipvs0` (every ClusterIP,
    /// external IP and load-balancer address); `None` in iptables mode.
    pub ipvs_addrs: Option<Vec<Ipv4Addr>>,
    /// CNI records.
    pub net: &'a NodeNet,
    /// Other nodes.
    pub peers: Vec<Peer>,
}

/// The VXLAN overhead flannel subtracts from the node MTU.
pub const VXLAN_OVERHEAD: u32 = 50;

/// The MTU of `cni0`, the veths and pod interfaces: the node MTU, less VXLAN's overhead.
pub fn pod_mtu(node_mtu: u32, host_gw: bool) -> u32 {
    if host_gw {
        node_mtu
    } else {
        node_mtu.saturating_sub(VXLAN_OVERHEAD)
    }
}

fn link(ifindex: u32, name: &str, kind: LinkKind, mac: Mac, mtu: u32) -> Link {
    Link {
        ifindex,
        name: name.to_string(),
        kind,
        mac,
        ll_mac: mac,
        mtu,
        up: true,
        lower_up: true,
        master: None,
        addrs: Vec::new(),
        ipv6_link_local: true,
    }
}

fn loopback() -> Link {
    Link {
        addrs: vec![Addr {
            net: Ipv4Net::new(Ipv4Addr::LOCALHOST, 8).unwrap_or_default(),
            brd: None,
            scope: "host",
        }],
        ipv6_link_local: false,
        ..link(1, "lo", LinkKind::Loopback, [0; 6], 65536)
    }
}

fn with_addr(mut l: Link, net: Ipv4Net, brd: bool) -> Link {
    l.addrs.push(Addr {
        net,
        brd: brd.then(|| net.broadcast()),
        scope: "global",
    });
    l
}

/// The node's host namespace.
pub fn node_netns(node: &NodeView<'_>) -> Netns {
    let mut ns = Netns::default();
    // The host keeps IPv6 on: its `lo` has `::1`.
    ns.links.push(Link {
        ipv6_link_local: true,
        ..loopback()
    });
    let host = |name: &str| node.net.host_links.get(name).copied();
    let pod_mtu = pod_mtu(node.mtu, node.host_gw);
    if let Some((idx, mac)) = host("eth0") {
        let net = Ipv4Net::new(node.ip, node.prefix).unwrap_or_default();
        ns.links.push(with_addr(
            link(idx, "eth0", LinkKind::Ether, mac, node.mtu),
            net,
            true,
        ));
    }
    if node.docker
        && let Some((idx, mac)) = host("docker0")
    {
        let mut l = link(idx, "docker0", LinkKind::Bridge, mac, 1500);
        // No containers on docker0 (pods use the CNI): up, but no carrier.
        l.lower_up = false;
        l.ipv6_link_local = false;
        let net = Ipv4Net::new(Ipv4Addr::new(172, 17, 0, 1), 16).unwrap_or_default();
        ns.links.push(with_addr(l, net, true));
    }
    if let (Some((idx, mac)), Some(cidr)) = (host("flannel.1"), node.pod_cidr) {
        let kind = LinkKind::Vxlan {
            id: 1,
            local: node.ip,
            dev: "eth0".into(),
            dstport: 8472,
        };
        let net = Ipv4Net::new(cidr.network(), 32).unwrap_or_default();
        ns.links.push(with_addr(
            link(idx, "flannel.1", kind, mac, pod_mtu),
            net,
            false,
        ));
    }
    if let (Some((idx, mac)), Some(cidr)) = (host("cni0"), node.pod_cidr) {
        let gw = Ipv4Net::new(
            Ipv4Addr::from(u32::from(cidr.network()) + 1),
            cidr.prefix_len(),
        )
        .unwrap_or_default();
        ns.links.push(with_addr(
            link(idx, "cni0", LinkKind::Bridge, mac, pod_mtu),
            gw,
            true,
        ));
    }
    if let (Some((idx, mac)), Some(addrs)) = (host("kube-ipvs0"), &node.ipvs_addrs) {
        let mut l = link(idx, "kube-ipvs0", LinkKind::Dummy, mac, 1500);
        l.up = false;
        l.lower_up = false;
        l.ipv6_link_local = false;
        for ip in addrs {
            l.addrs.push(Addr {
                net: Ipv4Net::new(*ip, 32).unwrap_or_default(),
                brd: None,
                scope: "global",
            });
        }
        ns.links.push(l);
    }
    for p in node.net.pods.values() {
        let kind = LinkKind::Veth {
            peer_ifindex: p.pod_ifindex,
            link_netnsid: p.netnsid,
            link_netns: p.netns_name.clone(),
        };
        let mut l = link(p.host_ifindex, &p.host_name, kind, p.host_mac, pod_mtu);
        l.master = Some("cni0".into());
        ns.links.push(l);
    }
    ns.links.sort_by_key(|l| l.ifindex);
    // A Linux bridge without a fixed address takes the smallest MAC of its ports.
    let smallest_port = ns
        .links
        .iter()
        .filter(|l| l.master.as_deref() == Some("cni0"))
        .map(|l| l.mac)
        .min();
    if let (Some(mac), Some(cni0)) = (
        smallest_port,
        ns.links.iter_mut().find(|l| l.name == "cni0"),
    ) {
        cni0.mac = mac;
    }

    // Routes: default via the gateway, flannel's routes to the other nodes' subnets, and the
    // connected routes of eth0, docker0 and cni0 — in the order the kernel lists them (by
    // destination).
    ns.routes.push(Route {
        dst: None,
        via: Some(node.gateway),
        dev: "eth0".into(),
        proto_kernel: false,
        scope_link: false,
        src: None,
        onlink: false,
    });
    let mut rest = Vec::new();
    for peer in &node.peers {
        // VXLAN: via the peer's VTEP address on flannel.1; host-gw: via the peer node itself.
        let (via, dev, onlink) = match node.host_gw {
            false => (peer.pod_cidr.network(), "flannel.1", true),
            true => (peer.ip, "eth0", false),
        };
        rest.push(Route {
            dst: Some(peer.pod_cidr),
            via: Some(via),
            dev: dev.into(),
            proto_kernel: false,
            scope_link: false,
            src: None,
            onlink,
        });
    }
    for l in &ns.links {
        if l.name == "lo" || l.name == "flannel.1" || l.name == "kube-ipvs0" {
            continue;
        }
        for a in &l.addrs {
            rest.push(Route {
                dst: Some(a.net.trunc()),
                via: None,
                dev: l.name.clone(),
                proto_kernel: true,
                scope_link: true,
                src: Some(a.net.addr()),
                onlink: false,
            });
        }
    }
    rest.sort_by_key(|r| r.dst.map(|d| (u32::from(d.network()), d.prefix_len())));
    ns.routes.extend(rest);

    for peer in &node.peers {
        let Some(vtep_mac) = peer.vtep_mac.filter(|_| !node.host_gw) else {
            continue;
        };
        ns.neighbours.push(Neighbour {
            ip: peer.pod_cidr.network(),
            dev: "flannel.1".into(),
            mac: vtep_mac,
            state: "PERMANENT",
        });
        ns.fdb.push(FdbEntry {
            mac: vtep_mac,
            dev: "flannel.1".into(),
            dst: peer.ip,
        });
    }
    ns
}

/// A pod's own namespace: `lo` and `eth0` (the veth end), its address from the node's pod
/// subnet and a default route via the bridge.
pub fn pod_netns(
    pod_ip: Ipv4Addr,
    pod_cidr: Ipv4Net,
    cluster_cidr: Ipv4Net,
    pod_mtu: u32,
    net: &PodNet,
) -> Netns {
    let mut ns = Netns::default();
    ns.links.push(loopback());
    let kind = LinkKind::Veth {
        peer_ifindex: net.host_ifindex,
        link_netnsid: 0,
        // Seen from the pod, the node's namespace is netnsid 0 and has no name.
        link_netns: None,
    };
    let mut eth0 = link(net.pod_ifindex, "eth0", kind, net.pod_mac, pod_mtu);
    // Pod namespaces are made with IPv6 disabled, so eth0 has no link-local address.
    eth0.ipv6_link_local = false;
    let net4 = Ipv4Net::new(pod_ip, pod_cidr.prefix_len()).unwrap_or_default();
    // The bridge plugin's netlink library sets the broadcast address (the lesson's 2019
    // output, from older plugins, has none).
    ns.links.push(with_addr(eth0, net4, true));
    let gw = Ipv4Addr::from(u32::from(pod_cidr.network()) + 1);
    ns.routes.push(Route {
        dst: None,
        via: Some(gw),
        dev: "eth0".into(),
        proto_kernel: false,
        scope_link: false,
        src: None,
        onlink: false,
    });
    // flannel's CNI plugin adds a route to the whole cluster network through the bridge.
    ns.routes.push(Route {
        dst: Some(cluster_cidr),
        via: Some(gw),
        dev: "eth0".into(),
        proto_kernel: false,
        scope_link: false,
        src: None,
        onlink: false,
    });
    ns.routes.push(Route {
        dst: Some(pod_cidr),
        via: None,
        dev: "eth0".into(),
        proto_kernel: true,
        scope_link: true,
        src: Some(pod_ip),
        onlink: false,
    });
    ns
}
