//! The node's kernel and CNI plugin (flannel with the bridge plugin and host-local IPAM), and
//! the container runtime's bookkeeping: what `ip addr` and `docker ps` will show.
//!
//! When the kubelet sets up a pod sandbox, the bridge plugin creates the veth pair inside the
//! pod's namespace — the kernel registers the peer first, so the pod's `eth0` gets ifindex 3 —
//! and moves the peer to the host, where it takes the host's next ifindex (never reused) and
//! the host names the pod namespace with the lowest free netnsid. `cni0` appears with the first
//! pod. These records are the only stored network state; namespaces are views built from them.

use crate::sim::Sim;
use netsim_model::k8s_openapi::api::core::v1::Pod;
use netsim_model::netns::{Mac, NodeNet, PodNet};
use netsim_model::runtime::{ContainerRec, NodeRuntime, Sandbox};
use std::collections::BTreeSet;

/// The image id (config digest, 64 hex digits) the runtime reports for `image`: stable per
/// image, different from its repository digest.
pub fn image_id(image: &str) -> String {
    super::kubelet::image_digest(&format!(
        "config:{}",
        super::kubelet::normalize_image(image)
    ))
}

/// The pause image of Kubernetes v1.28.
pub const PAUSE_IMAGE: &str = "registry.k8s.io/pause:3.9";

impl Sim {
    /// A random locally administered unicast MAC.
    pub(crate) fn random_mac(&mut self) -> Mac {
        let mut b = self.rng.next_u64().to_be_bytes();
        b[0] = (b[0] & 0xfe) | 0x02;
        [b[0], b[1], b[2], b[3], b[4], b[5]]
    }

    /// Boots a node's network: `lo` 1, `eth0` 2, `docker0` when the runtime is docker, then
    /// `flannel.1` (with the VTEP MAC flannel published in the node's annotation).
    pub(crate) fn boot_node_network(&mut self, node: &str, vtep_mac: Option<Mac>) {
        if self.node_net.contains_key(node) {
            return;
        }
        let mut net = NodeNet {
            next_ifindex: 2,
            ..NodeNet::default()
        };
        let eth0 = self.random_mac();
        net.host_links
            .insert("eth0".into(), (net.next_ifindex, eth0));
        net.next_ifindex += 1;
        if self.config.runtime == netsim_model::ContainerRuntime::Docker {
            // Docker gives its bridge a random MAC under its own 02:42 prefix.
            let mut mac = self.random_mac();
            mac[0] = 0x02;
            mac[1] = 0x42;
            net.host_links
                .insert("docker0".into(), (net.next_ifindex, mac));
            net.next_ifindex += 1;
        }
        if !self.host_gw() {
            let vtep = match vtep_mac {
                Some(m) => m,
                None => self.random_mac(),
            };
            net.host_links
                .insert("flannel.1".into(), (net.next_ifindex, vtep));
            net.next_ifindex += 1;
        }
        if self.config.proxy_mode == netsim_model::ProxyMode::Ipvs {
            // kube-proxy creates its dummy device when it starts, before any pod sandbox.
            let mac = self.random_mac();
            net.host_links
                .insert("kube-ipvs0".into(), (net.next_ifindex, mac));
            net.next_ifindex += 1;
        }
        self.node_net.insert(node.to_string(), net);
        let first_pid = self.rng.range(2800, 3400) as u32;
        self.node_runtime.insert(
            node.to_string(),
            NodeRuntime {
                next_pid: first_pid,
                ..Default::default()
            },
        );
    }

    /// The pod's sandbox: pause container, and for pod-network pods the veth pair.
    pub(crate) fn cni_add(&mut self, pod: &Pod, node: &str) {
        self.boot_node_network(node, None);
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        let pod_name = format!(
            "{}/{}",
            pod.metadata.namespace.clone().unwrap_or_default(),
            pod.metadata.name.clone().unwrap_or_default()
        );
        let host_network = pod.spec.as_ref().and_then(|s| s.host_network) == Some(true);
        if !host_network {
            let cni0_missing = self
                .node_net
                .get(node)
                .is_some_and(|n| !n.host_links.contains_key("cni0"));
            let cni0_mac = cni0_missing.then(|| self.random_mac());
            let host_mac = self.random_mac();
            let pod_mac = self.random_mac();
            let host_name = format!("veth{}", self.rng.hex(8));
            // containerd's CNI setup creates a named namespace per pod; cri-dockerd uses the
            // pause container's unnamed one.
            let netns_name = (self.config.runtime == netsim_model::ContainerRuntime::Containerd)
                .then(|| format!("cni-{}", self.rng.uuid()));
            if let Some(net) = self.node_net.get_mut(node) {
                if let Some(mac) = cni0_mac {
                    net.host_links
                        .insert("cni0".into(), (net.next_ifindex, mac));
                    net.next_ifindex += 1;
                }
                let used: BTreeSet<u32> = net.pods.values().map(|p| p.netnsid).collect();
                let netnsid = (0..).find(|id| !used.contains(id)).unwrap_or(0);
                let record = PodNet {
                    pod: pod_name.clone(),
                    host_ifindex: net.next_ifindex,
                    host_name,
                    host_mac,
                    pod_ifindex: 3,
                    pod_mac,
                    netnsid,
                    netns_name,
                };
                net.next_ifindex += 1;
                net.pods.insert(uid.clone(), record);
            }
        }
        let pause_id = self.rng.hex(64);
        let created_ms = self.now_ms;
        let pid = self.next_pid(node);
        if let Some(rt) = self.node_runtime.get_mut(node) {
            rt.sandboxes.insert(
                uid.clone(),
                Sandbox {
                    pod: pod_name,
                    uid,
                    pause: ContainerRec {
                        name: "POD".into(),
                        id: pause_id,
                        pid,
                        image: PAUSE_IMAGE.into(),
                        command: "/pause".into(),
                        created_ms,
                    },
                    containers: Vec::new(),
                },
            );
        }
    }

    /// A container of the pod started: its id and PID. Returns the container id.
    pub(crate) fn runtime_start_container(
        &mut self,
        pod_uid: &str,
        node: &str,
        name: &str,
        image: &str,
        command: String,
        id: Option<String>,
    ) -> String {
        let id = id.unwrap_or_else(|| self.rng.hex(64));
        let pid = self.next_pid(node);
        let created_ms = self.now_ms;
        if let Some(sb) = self
            .node_runtime
            .get_mut(node)
            .and_then(|rt| rt.sandboxes.get_mut(pod_uid))
        {
            sb.containers.retain(|c| c.name != name);
            sb.containers.push(ContainerRec {
                name: name.to_string(),
                id: id.clone(),
                pid,
                image: image.to_string(),
                command,
                created_ms,
            });
        }
        id
    }

    /// After a snapshot restore, each node's kubelet finds its running pods and sets their
    /// sandboxes up again, in the order they started: fresh veths, netnsids and PIDs, the pod's
    /// address from its status (reserved in host-local IPAM), container ids from
    /// `status.containerStatuses`. Nodes without network records are booted first.
    pub fn adopt_restored_pods(&mut self) {
        use netsim_model::k8s_openapi::api::core::v1::Node;
        let nodes: Vec<(String, Option<Mac>)> = self
            .store
            .list_typed::<Node>(None)
            .map(|n| {
                let vtep = n
                    .metadata
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get("flannel.alpha.coreos.com/backend-data"))
                    .and_then(|d| serde_json::from_str::<serde_json::Value>(d).ok())
                    .and_then(|v| v.get("VtepMAC").and_then(|m| m.as_str()).map(parse_mac))
                    .flatten();
                (n.metadata.name.clone().unwrap_or_default(), vtep)
            })
            .collect();
        for (name, vtep) in nodes {
            self.boot_node_network(&name, vtep);
        }
        let mut pods: Vec<Pod> = self
            .store
            .list_typed::<Pod>(None)
            .filter(|p| {
                let status = p.status.as_ref();
                status.and_then(|s| s.phase.as_deref()) == Some("Running")
                    && status.is_some_and(|s| s.pod_ip.is_some())
                    && p.spec.as_ref().is_some_and(|s| s.node_name.is_some())
            })
            .cloned()
            .collect();
        let started = |p: &Pod| {
            p.status
                .as_ref()
                .and_then(|s| s.start_time.as_ref())
                .map(|t| t.0.as_millisecond())
        };
        pods.sort_by(|a, b| {
            started(a)
                .cmp(&started(b))
                .then(a.metadata.name.cmp(&b.metadata.name))
        });
        for pod in pods {
            let node = pod
                .spec
                .as_ref()
                .and_then(|s| s.node_name.clone())
                .unwrap_or_default();
            let uid = pod.metadata.uid.clone().unwrap_or_default();
            if self
                .node_runtime
                .get(&node)
                .is_some_and(|rt| rt.sandboxes.contains_key(&uid))
            {
                continue;
            }
            self.cni_add(&pod, &node);
            self.reserve_restored_ip(&pod, &node);
            let statuses = pod
                .status
                .as_ref()
                .and_then(|s| s.container_statuses.clone())
                .unwrap_or_default();
            for c in pod
                .spec
                .as_ref()
                .map(|s| s.containers.clone())
                .unwrap_or_default()
            {
                let id = statuses
                    .iter()
                    .find(|s| s.name == c.name)
                    .and_then(|s| s.container_id.as_deref())
                    .and_then(|id| id.split_once("://").map(|(_, id)| id.to_string()))
                    .filter(|id| id.len() >= 13);
                let image = c.image.clone().unwrap_or_default();
                self.runtime_start_container(
                    pod.metadata.uid.as_deref().unwrap_or_default(),
                    &node,
                    &c.name,
                    &image,
                    super::kubelet::container_command(&c),
                    id,
                );
                self.node_images
                    .entry(node.clone())
                    .or_default()
                    .insert(image);
            }
            // The sandbox and containers keep the times the pod's status gives.
            if let (Some(ms), Some(sb)) = (
                started(&pod),
                self.node_runtime
                    .get_mut(&node)
                    .and_then(|rt| rt.sandboxes.get_mut(&uid)),
            ) {
                sb.pause.created_ms = ms;
                for c in &mut sb.containers {
                    c.created_ms = ms;
                }
            }
        }
    }

    /// Marks a restored pod's address as taken in host-local IPAM (the last reserved address
    /// moves up to it), so new pods continue after it.
    fn reserve_restored_ip(&mut self, pod: &Pod, node: &str) {
        if pod.spec.as_ref().and_then(|s| s.host_network) == Some(true) {
            return;
        }
        let (Some(cidr), Some(ip)) = (
            self.node_pod_cidr(node),
            pod.status
                .as_ref()
                .and_then(|s| s.pod_ip.as_ref())
                .and_then(|ip| ip.parse::<std::net::Ipv4Addr>().ok()),
        ) else {
            return;
        };
        if !cidr.contains(&ip) {
            return;
        }
        let offset = u32::from(ip) - u32::from(cidr.network());
        let last = self.ipam_last.entry(node.to_string()).or_insert(offset);
        *last = (*last).max(offset);
    }

    /// The pod is gone: its sandbox, veth pair and netnsid are released.
    pub(crate) fn cni_del(&mut self, pod: &Pod) {
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        let Some(node) = pod.spec.as_ref().and_then(|s| s.node_name.clone()) else {
            return;
        };
        if let Some(net) = self.node_net.get_mut(&node) {
            net.pods.remove(&uid);
        }
        if let Some(rt) = self.node_runtime.get_mut(&node) {
            rt.sandboxes.remove(&uid);
        }
    }

    /// The node's next PID: processes start a few PIDs apart, as other processes run too.
    fn next_pid(&mut self, node: &str) -> u32 {
        let step = self.rng.range(1, 40) as u32;
        let rt = self.node_runtime.entry(node.to_string()).or_default();
        if rt.next_pid == 0 {
            rt.next_pid = 3000;
        }
        let pid = rt.next_pid;
        rt.next_pid += step;
        pid
    }

    /// Every address kube-proxy serves Services on: ClusterIPs, external IPs and load-balancer
    /// ingress IPs, in the order kube-proxy binds them (by Service).
    fn service_addresses(&self) -> Vec<std::net::Ipv4Addr> {
        use netsim_model::k8s_openapi::api::core::v1::Service;
        let mut out = Vec::new();
        for svc in self.store.list_typed::<Service>(None) {
            let Some(spec) = &svc.spec else { continue };
            let lb = svc
                .status
                .as_ref()
                .and_then(|s| s.load_balancer.as_ref())
                .and_then(|l| l.ingress.as_ref());
            let ips = spec
                .cluster_ips
                .iter()
                .flatten()
                .chain(spec.external_ips.iter().flatten())
                .chain(lb.into_iter().flatten().filter_map(|i| i.ip.as_ref()));
            for ip in ips {
                if let Ok(ip) = ip.parse()
                    && !out.contains(&ip)
                {
                    out.push(ip);
                }
            }
        }
        out
    }

    /// Whether flannel runs its host-gw backend.
    fn host_gw(&self) -> bool {
        self.config.flannel_backend == netsim_model::FlannelBackend::HostGw
    }

    /// The CNI's and kernel's records of `node`.
    pub fn node_net(&self, node: &str) -> Option<&NodeNet> {
        self.node_net.get(node)
    }

    /// The runtime's records of `node`.
    pub fn node_runtime(&self, node: &str) -> Option<&NodeRuntime> {
        self.node_runtime.get(node)
    }
}

impl Sim {
    /// The host network namespace of `node`, built from the Node objects and the CNI records.
    pub fn node_netns(&self, node: &str) -> Option<netsim_model::netns::Netns> {
        use netsim_model::k8s_openapi::api::core::v1::Node;
        use netsim_model::netns::{NodeView, Peer, node_netns};
        let net = self.node_net.get(node)?;
        let ip = self.node_ip(node)?;
        // The node must exist as an API object.
        self.store.typed::<Node>("", node)?;
        let pod_cidr = self.node_pod_cidr(node);
        let mut peers = Vec::new();
        for other in self.store.list_typed::<Node>(None) {
            let name = other.metadata.name.clone().unwrap_or_default();
            if name == node {
                continue;
            }
            let (Some(peer_ip), Some(cidr)) = (self.node_ip(&name), self.node_pod_cidr(&name))
            else {
                continue;
            };
            let vtep_mac = self
                .node_net
                .get(&name)
                .and_then(|n| n.host_links.get("flannel.1"))
                .map(|l| l.1);
            peers.push(Peer {
                ip: peer_ip,
                pod_cidr: cidr,
                vtep_mac,
            });
        }
        let octets = ip.octets();
        let view = NodeView {
            ip,
            prefix: 24,
            gateway: std::net::Ipv4Addr::new(octets[0], octets[1], octets[2], 1),
            pod_cidr,
            mtu: self.config.mtu,
            docker: self.config.runtime == netsim_model::ContainerRuntime::Docker,
            host_gw: self.host_gw(),
            ipvs_addrs: (self.config.proxy_mode == netsim_model::ProxyMode::Ipvs)
                .then(|| self.service_addresses()),
            net,
            peers,
        };
        Some(node_netns(&view))
    }

    /// The network namespace a pod sees (its node's, for host-network pods).
    pub fn pod_netns(&self, pod: &Pod) -> Option<netsim_model::netns::Netns> {
        let spec = pod.spec.as_ref()?;
        let node = spec.node_name.as_deref()?;
        if spec.host_network == Some(true) {
            return self.node_netns(node);
        }
        let uid = pod.metadata.uid.as_deref()?;
        let record = self.node_net.get(node)?.pods.get(uid)?;
        let ip = pod.status.as_ref()?.pod_ip.as_ref()?.parse().ok()?;
        let cidr = self.node_pod_cidr(node)?;
        Some(netsim_model::netns::pod_netns(
            ip,
            cidr,
            self.config.pod_cidr,
            netsim_model::netns::pod_mtu(self.config.mtu, self.host_gw()),
            record,
        ))
    }
}

/// `aa:bb:cc:dd:ee:ff` → bytes.
fn parse_mac(text: &str) -> Option<Mac> {
    let bytes: Vec<u8> = text
        .split(':')
        .filter_map(|b| u8::from_str_radix(b, 16).ok())
        .collect();
    <[u8; 6]>::try_from(bytes).ok()
}
