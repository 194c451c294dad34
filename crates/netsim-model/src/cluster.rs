//! The cluster's shape: nodes, address ranges, runtime, kube-proxy mode, load-balancer pool,
//! seed and the clock's starting instant — what a `netsim.dev/v1alpha1` `Cluster` document,
//! a kind `Cluster` file or the built-in default says.
//!
//! This module owns the defaults of a kubeadm-style v1.28 cluster; it must never create objects
//! (the engine builds the cluster from this).

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;

/// The container runtime the kubelets talk to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ContainerRuntime {
    /// containerd 1.7 (kubeadm's default since dockershim's removal); `crictl` on nodes.
    #[default]
    Containerd,
    /// Docker Engine through cri-dockerd (the lesson's era); `docker` on nodes.
    Docker,
}

impl ContainerRuntime {
    /// `status.nodeInfo.containerRuntimeVersion`.
    pub fn version_string(self) -> &'static str {
        match self {
            ContainerRuntime::Containerd => "containerd://1.7.22",
            ContainerRuntime::Docker => "docker://24.0.7",
        }
    }
}

/// flannel's backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum FlannelBackend {
    /// VXLAN over `flannel.1` (VNI 1, UDP 8472); pods get the node MTU minus 50.
    #[default]
    #[serde(rename = "vxlan")]
    Vxlan,
    /// Plain routes to each node's pod subnet via that node's address (all nodes on one L2
    /// network); pods get the node MTU.
    #[serde(rename = "host-gw")]
    HostGw,
}

/// kube-proxy's mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ProxyMode {
    /// iptables (the default).
    #[default]
    Iptables,
    /// IPVS.
    Ipvs,
}

/// One node of the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeSpec {
    /// Node name (`k8s-worker1`).
    pub name: String,
    /// InternalIP.
    pub ip: Ipv4Addr,
    /// Whether this is a control-plane node (tainted `NoSchedule`).
    #[serde(default)]
    pub control_plane: bool,
}

/// What gives LoadBalancer Services their address, and how traffic for it reaches a node.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum LoadBalancerProvider {
    /// A cloud controller manager's service controller: an external load balancer in front of
    /// the nodes, which health-checks them (`healthCheckNodePort` with `externalTrafficPolicy:
    /// Local`) and spreads connections over those that pass.
    #[default]
    #[serde(rename = "cloud")]
    Cloud,
    /// MetalLB in layer-2 mode: one node, elected per address, answers ARP for it on the node
    /// network; every packet for the address goes to that node.
    #[serde(rename = "metallbL2")]
    MetalLbL2,
}

/// Where LoadBalancer addresses come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoadBalancerPool {
    /// Who hands the addresses out and carries the traffic.
    #[serde(default)]
    pub provider: LoadBalancerProvider,
    /// Addresses handed out in order.
    pub cidr: Ipv4Net,
    /// Virtual seconds between a Service becoming type LoadBalancer and its address appearing.
    #[serde(default = "default_lb_delay")]
    pub delay_seconds: u64,
}

fn default_lb_delay() -> u64 {
    20
}

/// Everything that shapes a simulated cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct ClusterConfig {
    /// Nodes, control plane first.
    pub nodes: Vec<NodeSpec>,
    /// The cluster-wide pod CIDR, split into one /`node_cidr_mask` per node.
    #[serde(rename = "podCIDR")]
    pub pod_cidr: Ipv4Net,
    /// Prefix length of each node's pod subnet.
    #[serde(rename = "nodeCIDRMaskSize")]
    pub node_cidr_mask: u8,
    /// The Service CIDR; `.1` is `kubernetes`, `.10` is `kube-dns`.
    #[serde(rename = "serviceCIDR")]
    pub service_cidr: Ipv4Net,
    /// MTU of the node network (pods get this minus 50 with VXLAN).
    pub mtu: u32,
    /// Container runtime.
    pub runtime: ContainerRuntime,
    /// kube-proxy mode.
    pub proxy_mode: ProxyMode,
    /// flannel's backend (`vxlan` or `host-gw`).
    pub flannel_backend: FlannelBackend,
    /// LoadBalancer address pool; `None` leaves LoadBalancer Services `<pending>`.
    pub load_balancer_pool: Option<LoadBalancerPool>,
    /// Seed of the one RNG.
    pub seed: u64,
    /// The virtual clock's first instant (RFC 3339).
    pub start_time: String,
    /// How long before `start_time` the cluster was installed, in seconds (kube-system objects'
    /// age).
    pub cluster_age_seconds: u64,
    /// Virtual seconds that pass after each command (a person's think time).
    pub think_time_seconds: u64,
    /// The cluster's DNS domain.
    pub cluster_domain: String,
    /// `kubeletVersion`.
    pub kubernetes_version: String,
    /// How long packets take on each kind of hop.
    pub latency: Latency,
    /// Names the resolvers outside the cluster know (the node network's DNS and the public
    /// resolvers), lower case without the trailing dot; any other name is NXDOMAIN.
    #[serde(rename = "upstreamDNS")]
    pub upstream_dns: std::collections::BTreeMap<String, Ipv4Addr>,
    /// The outside client's hosts table (more lines come with `OutsideHosts` documents).
    pub outside_hosts: Vec<HostEntry>,
}

/// One line of the outside client's hosts table (the laptop's `/etc/hosts`): names and either
/// an address or the Service whose load-balancer address they stand for (as a student copies
/// EXTERNAL-IP into `/etc/hosts`, or external-dns would publish it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HostEntry {
    /// Host names, matched without regard to case.
    pub names: Vec<String>,
    /// A fixed address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<Ipv4Addr>,
    /// `NAMESPACE/NAME` of a LoadBalancer Service: its first ingress address, once it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancer_of: Option<String>,
}

/// One-way latencies of the data plane, in microseconds of virtual time. The defaults are
/// those of an idle cloud VPC: a few microseconds inside a host, a hundred between hosts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Latency {
    /// Through a veth pair (pod to host or back).
    pub veth_micros: u64,
    /// Through a network namespace's stack (routing and netfilter), per namespace crossed.
    pub stack_micros: u64,
    /// Between two hosts of the node network (one way, wire and NICs).
    pub node_network_micros: u64,
    /// Between the node network and a client outside it (through the gateway or load balancer).
    pub external_micros: u64,
    /// An application's time to answer a request.
    pub application_micros: u64,
}

impl Default for Latency {
    fn default() -> Latency {
        Latency {
            veth_micros: 5,
            stack_micros: 10,
            node_network_micros: 150,
            external_micros: 1000,
            application_micros: 200,
        }
    }
}

impl Default for ClusterConfig {
    fn default() -> ClusterConfig {
        ClusterConfig {
            nodes: vec![
                NodeSpec {
                    name: "k8s-control".into(),
                    ip: Ipv4Addr::new(10, 0, 0, 10),
                    control_plane: true,
                },
                NodeSpec {
                    name: "k8s-worker1".into(),
                    ip: Ipv4Addr::new(10, 0, 0, 11),
                    control_plane: false,
                },
                NodeSpec {
                    name: "k8s-worker2".into(),
                    ip: Ipv4Addr::new(10, 0, 0, 12),
                    control_plane: false,
                },
            ],
            pod_cidr: Ipv4Net::new(Ipv4Addr::new(10, 244, 0, 0), 16).unwrap_or_default(),
            node_cidr_mask: 24,
            service_cidr: Ipv4Net::new(Ipv4Addr::new(10, 96, 0, 0), 12).unwrap_or_default(),
            mtu: 1500,
            runtime: ContainerRuntime::default(),
            proxy_mode: ProxyMode::default(),
            flannel_backend: FlannelBackend::default(),
            load_balancer_pool: Some(LoadBalancerPool {
                provider: LoadBalancerProvider::Cloud,
                cidr: Ipv4Net::new(Ipv4Addr::new(203, 0, 113, 0), 24).unwrap_or_default(),
                delay_seconds: default_lb_delay(),
            }),
            seed: 0,
            start_time: "2024-01-02T00:00:00Z".into(),
            cluster_age_seconds: 24 * 3600,
            think_time_seconds: 5,
            cluster_domain: "cluster.local".into(),
            kubernetes_version: "v1.28.15".into(),
            latency: Latency::default(),
            upstream_dns: std::collections::BTreeMap::new(),
            outside_hosts: Vec::new(),
        }
    }
}

impl ClusterConfig {
    /// The `kubernetes` Service's ClusterIP: the first address of the Service CIDR.
    pub fn kubernetes_service_ip(&self) -> Ipv4Addr {
        nth_address(self.service_cidr, 1)
    }

    /// The `kube-dns` Service's ClusterIP: the tenth address of the Service CIDR.
    pub fn dns_service_ip(&self) -> Ipv4Addr {
        nth_address(self.service_cidr, 10)
    }

    /// Node `index`'s pod subnet (`10.244.<index>.0/24`), in node order as kube-controller-manager
    /// allocates them.
    pub fn node_pod_cidr(&self, index: usize) -> Option<Ipv4Net> {
        self.pod_cidr.subnets(self.node_cidr_mask).ok()?.nth(index)
    }
}

/// The `n`th address of `net` (0 is the network address).
pub fn nth_address(net: Ipv4Net, n: u32) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(net.network()).wrapping_add(n))
}
