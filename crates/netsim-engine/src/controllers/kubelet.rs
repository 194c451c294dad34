//! The kubelet's pod lifecycle on each node, and the CNI's host-local IPAM.
//!
//! A pod bound to a node goes `Pending`/`ContainerCreating` at once; about a second later its
//! sandbox is up and it has an IP from the node's pod subnet (host-network pods use the node's
//! address); once its images are pulled (a few seconds, or at once when `IfNotPresent` finds the
//! image on the node) its containers run and it becomes `Ready`. IPAM hands out addresses the way
//! host-local does: round-robin after the last reserved address, never the network, gateway
//! (`.1`, the bridge) or broadcast address.

use super::scheduler::set_condition;
use crate::queue::Event;
use crate::sim::Sim;
use netsim_model::jiff::SignedDuration;
use netsim_model::k8s_openapi::api::core::v1::{
    ContainerState, ContainerStateRunning, ContainerStateWaiting, ContainerStatus, HostIP, Node,
    Pod, PodIP,
};
use netsim_model::{Object, ObjectKey};
use std::collections::BTreeSet;
use std::net::Ipv4Addr;

/// The fully qualified image reference a runtime reports (`nginx` →
/// `docker.io/library/nginx:latest`).
pub fn normalize_image(image: &str) -> String {
    let (name, tag) = match image.rsplit_once(':') {
        Some((n, t)) if !t.contains('/') => (n.to_string(), t.to_string()),
        _ => (image.to_string(), "latest".to_string()),
    };
    let first = name.split('/').next().unwrap_or("");
    let has_registry =
        name.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    let full = if has_registry {
        name
    } else if name.contains('/') {
        format!("docker.io/{name}")
    } else {
        format!("docker.io/library/{name}")
    };
    format!("{full}:{tag}")
}

/// A stable digest for `image`: the same image has the same digest on every node.
pub(crate) fn image_digest(image: &str) -> String {
    let mut out = String::new();
    let mut h: u64 = 0xcbf29ce484222325;
    for round in 0..4u8 {
        for b in image.bytes().chain([round]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x100000001b3);
        }
        out.push_str(&format!("{h:016x}"));
    }
    out
}

impl Sim {
    /// Pods newly bound to a node: the kubelet reports them and starts the sandbox.
    pub(crate) fn kubelet_admit_pods(&mut self, candidates: &BTreeSet<ObjectKey>) {
        let new: Vec<Pod> = candidates
            .iter()
            .filter_map(|k| self.store.typed_at::<Pod>(k))
            .filter(|p| {
                p.metadata.deletion_timestamp.is_none()
                    && p.spec.as_ref().is_some_and(|s| s.node_name.is_some())
                    && p.status.as_ref().is_none_or(|s| s.host_ip.is_none())
            })
            .cloned()
            .collect();
        for mut pod in new {
            let node_name = pod
                .spec
                .as_ref()
                .and_then(|s| s.node_name.clone())
                .unwrap_or_default();
            let Some(node_ip) = self.node_ip(&node_name) else {
                continue;
            };
            let now = self.now_time();
            let containers = pod.spec.as_ref().map_or(&[][..], |s| &s.containers[..]);
            let status = pod.status.get_or_insert_with(Default::default);
            status.phase = Some("Pending".into());
            status.host_ip = Some(node_ip.to_string());
            status.host_ips = Some(vec![HostIP {
                ip: node_ip.to_string(),
            }]);
            status.start_time = Some(now.clone());
            let conds = status.conditions.get_or_insert_with(Vec::new);
            for (t, s, reason) in [
                ("PodReadyToStartContainers", "False", None),
                ("Initialized", "True", None),
                ("Ready", "False", Some("ContainersNotReady")),
                ("ContainersReady", "False", Some("ContainersNotReady")),
                ("PodScheduled", "True", None),
            ] {
                let names: Vec<String> = containers.iter().map(|c| c.name.clone()).collect();
                let message = reason
                    .map(|_| format!("containers with unready status: [{}]", names.join(" ")));
                set_condition(conds, t, s, reason, message.as_deref(), now.clone());
            }
            order_conditions(conds);
            status.container_statuses = Some(
                containers
                    .iter()
                    .map(|c| ContainerStatus {
                        name: c.name.clone(),
                        image: c.image.clone().unwrap_or_default(),
                        image_id: String::new(),
                        ready: false,
                        restart_count: 0,
                        started: Some(false),
                        state: Some(ContainerState {
                            waiting: Some(ContainerStateWaiting {
                                reason: Some("ContainerCreating".into()),
                                message: None,
                            }),
                            ..Default::default()
                        }),
                        last_state: Some(Default::default()),
                        ..Default::default()
                    })
                    .collect(),
            );
            let key = netsim_model::ApiObject::key(&pod);
            let dns_warning = self.pod_resolv(&pod).1;
            self.put(Object::Pod(Box::new(pod)));
            if let Some(message) = dns_warning {
                self.record_event(
                    &key,
                    "Warning",
                    "DNSConfigForming",
                    &message,
                    "kubelet",
                    Some(&node_name),
                );
            }
            let setup_ms = 800 + self.rng.below(700) as i64;
            self.schedule(
                SignedDuration::from_millis(setup_ms),
                Event::SandboxReady(key),
            );
        }
    }

    /// The sandbox is up: the CNI has given the pod its address; image pulls begin.
    pub(crate) fn kubelet_sandbox_ready(&mut self, key: &ObjectKey) {
        let Some(Object::Pod(mut pod)) = self.store.get(key).cloned() else {
            return;
        };
        let spec = pod.spec.as_ref();
        let node_name = spec.and_then(|s| s.node_name.clone()).unwrap_or_default();
        let ip = if spec.is_some_and(|s| s.host_network == Some(true)) {
            self.node_ip(&node_name)
        } else {
            self.allocate_pod_ip(&node_name)
        };
        let Some(ip) = ip else {
            self.record_event(key, "Warning", "FailedCreatePodSandBox", "Failed to create pod sandbox: plugin type=\"flannel\" failed (add): failed to allocate for range 0: no IP addresses available in range set", "kubelet", Some(&node_name));
            return;
        };
        self.cni_add(&pod, &node_name);
        let now = self.now_time();
        let status = pod.status.get_or_insert_with(Default::default);
        status.pod_ip = Some(ip.to_string());
        status.pod_ips = Some(vec![PodIP { ip: ip.to_string() }]);
        set_condition(
            status.conditions.get_or_insert_with(Vec::new),
            "PodReadyToStartContainers",
            "True",
            None,
            None,
            now,
        );
        self.put(Object::Pod(pod));
        self.kubelet_next_container(key, 0);
    }

    /// Starts work on container `index`: a pull (`Always`, or an image not on the node) takes
    /// a few seconds; an image already present is used at once. Containers start one after
    /// another, as the kubelet's sync loop does.
    fn kubelet_next_container(&mut self, key: &ObjectKey, index: usize) {
        // Only the node and the container's image and pull policy are read: no copy of the pod.
        let Some(Object::Pod(pod)) = self.store.get(key) else {
            return;
        };
        let spec = pod.spec.as_ref();
        let node_name = spec.and_then(|s| s.node_name.clone()).unwrap_or_default();
        let container = spec.and_then(|s| s.containers.get(index)).map(|c| {
            (
                c.image.clone().unwrap_or_default(),
                c.image_pull_policy
                    .clone()
                    .unwrap_or_else(|| "IfNotPresent".into()),
            )
        });
        let Some((image, policy)) = container else {
            self.schedule(
                SignedDuration::from_millis(100),
                Event::ContainersStarted(key.clone()),
            );
            return;
        };
        let present = self.image_present(&node_name, &image);
        if policy == "Never" || (policy == "IfNotPresent" && present) {
            self.schedule(
                SignedDuration::from_millis(200),
                Event::ContainerReady(key.clone(), index, 0),
            );
        } else {
            let pull_ms = 1500 + self.rng.below(4500);
            self.record_event(
                key,
                "Normal",
                "Pulling",
                &format!("Pulling image \"{image}\""),
                "kubelet",
                Some(&node_name),
            );
            self.schedule(
                SignedDuration::from_millis(pull_ms as i64),
                Event::ContainerReady(key.clone(), index, pull_ms),
            );
        }
    }

    /// Container `index` has its image: the kubelet creates and starts it, then moves on.
    pub(crate) fn kubelet_container_ready(
        &mut self,
        key: &ObjectKey,
        index: usize,
        pulled_ms: u64,
    ) {
        // Only the pod's uid, node and container are read: no copy of the pod.
        let Some(Object::Pod(pod)) = self.store.get(key) else {
            return;
        };
        if pod.metadata.deletion_timestamp.is_some() {
            return;
        }
        let Some(spec) = pod.spec.as_ref() else {
            return;
        };
        let Some(c) = spec.containers.get(index) else {
            return;
        };
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        let node_name = spec.node_name.clone().unwrap_or_default();
        let container = c.name.clone();
        let image = c.image.clone().unwrap_or_default();
        let command = container_command(c);
        self.runtime_start_container(&uid, &node_name, &container, &image, command, None);
        self.node_images
            .entry(node_name.clone())
            .or_default()
            .insert(image.clone());
        if pulled_ms == 0 {
            self.record_event(
                key,
                "Normal",
                "Pulled",
                &format!("Container image \"{image}\" already present on machine"),
                "kubelet",
                Some(&node_name),
            );
        } else {
            let secs = pulled_ms as f64 / 1000.0;
            self.record_event(
                key,
                "Normal",
                "Pulled",
                &format!("Successfully pulled image \"{image}\" in {secs:.3}s ({secs:.3}s including waiting)"),
                "kubelet",
                Some(&node_name),
            );
        }
        self.record_event(
            key,
            "Normal",
            "Created",
            &format!("Created container {container}"),
            "kubelet",
            Some(&node_name),
        );
        self.record_event(
            key,
            "Normal",
            "Started",
            &format!("Started container {container}"),
            "kubelet",
            Some(&node_name),
        );
        self.kubelet_next_container(key, index + 1);
    }

    /// Containers are running: the pod is `Running` and `Ready` (netsim models no probes).
    pub(crate) fn kubelet_containers_started(&mut self, key: &ObjectKey) {
        let Some(Object::Pod(mut pod)) = self.store.get(key).cloned() else {
            return;
        };
        if pod.metadata.deletion_timestamp.is_some() {
            return;
        }
        let node_name = pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.clone())
            .unwrap_or_default();
        let now = self.now_time();
        let runtime = match self.config.runtime {
            netsim_model::ContainerRuntime::Containerd => "containerd",
            netsim_model::ContainerRuntime::Docker => "docker",
        };
        let containers = pod.spec.as_ref().map_or(&[][..], |s| &s.containers[..]);
        let mut statuses = Vec::new();
        for c in containers {
            let full = normalize_image(c.image.as_deref().unwrap_or_default());
            let repo = full
                .rsplit_once(':')
                .map(|(r, _)| r.to_string())
                .unwrap_or(full.clone());
            statuses.push(ContainerStatus {
                name: c.name.clone(),
                image: full.clone(),
                image_id: format!("{repo}@sha256:{}", image_digest(&full)),
                container_id: Some(format!(
                    "{runtime}://{}",
                    self.node_runtime(&node_name)
                        .and_then(|rt| rt.sandboxes.get(pod.metadata.uid.as_deref().unwrap_or("")))
                        .and_then(|sb| sb.containers.iter().find(|x| x.name == c.name))
                        .map(|x| x.id.clone())
                        .unwrap_or_default()
                )),
                ready: true,
                restart_count: 0,
                started: Some(true),
                state: Some(ContainerState {
                    running: Some(ContainerStateRunning {
                        started_at: Some(now.clone()),
                    }),
                    ..Default::default()
                }),
                last_state: Some(Default::default()),
                ..Default::default()
            });
        }
        let status = pod.status.get_or_insert_with(Default::default);
        status.phase = Some("Running".into());
        status.container_statuses = Some(statuses);
        let conds = status.conditions.get_or_insert_with(Vec::new);
        for t in [
            "PodReadyToStartContainers",
            "Initialized",
            "Ready",
            "ContainersReady",
            "PodScheduled",
        ] {
            set_condition(conds, t, "True", None, None, now.clone());
        }
        self.put(Object::Pod(pod));
    }

    /// A terminating pod's containers have exited: the kubelet deletes it for good.
    pub(crate) fn kubelet_pod_terminated(&mut self, key: &ObjectKey) {
        self.remove(key);
    }

    /// Whether `node`'s runtime already holds `image`.
    fn image_present(&self, node: &str, image: &str) -> bool {
        self.node_images
            .get(node)
            .is_some_and(|images| images.contains(image))
    }

    /// The node's pod subnet (`spec.podCIDR`).
    pub(crate) fn node_pod_cidr(&self, node: &str) -> Option<ipnet::Ipv4Net> {
        self.store
            .typed::<Node>("", node)?
            .spec
            .as_ref()?
            .pod_cidr
            .as_ref()?
            .parse()
            .ok()
    }

    /// The node's InternalIP.
    pub(crate) fn node_ip(&self, node: &str) -> Option<Ipv4Addr> {
        let node = self.store.typed::<Node>("", node)?;
        node.status
            .as_ref()?
            .addresses
            .as_ref()?
            .iter()
            .find(|a| a.type_ == "InternalIP")
            .and_then(|a| a.address.parse().ok())
    }

    /// host-local IPAM on `node`'s pod subnet.
    fn allocate_pod_ip(&mut self, node: &str) -> Option<Ipv4Addr> {
        let cidr = self.node_pod_cidr(node)?;
        let size: u32 = 1u32 << (32 - u32::from(cidr.prefix_len()));
        // Usable offsets: 2 ..= size-2 (.0 network, .1 gateway on cni0, last broadcast).
        let (first, last) = (2u32, size.saturating_sub(2));
        if last < first {
            return None;
        }
        let n = i64::from(last - first + 1);
        let start =
            i64::from(self.ipam_last.get(node).copied().unwrap_or(first - 1)) - i64::from(first);
        for i in 1..=n {
            let offset = first + (start + i).rem_euclid(n) as u32;
            let ip = netsim_model::cluster::nth_address(cidr, offset);
            if !self.store.pod_ip_taken(node, ip) {
                self.ipam_last.insert(node.to_string(), offset);
                return Some(ip);
            }
        }
        None
    }
}

/// Conditions in the order the kubelet reports them.
fn order_conditions(conds: &mut [netsim_model::k8s_openapi::api::core::v1::PodCondition]) {
    let rank = |t: &str| match t {
        "PodReadyToStartContainers" => 0,
        "Initialized" => 1,
        "Ready" => 2,
        "ContainersReady" => 3,
        "PodScheduled" => 4,
        _ => 5,
    };
    conds.sort_by_key(|c| rank(&c.type_));
}

/// What the runtime runs for `c`: the spec's command, else the image's ENTRYPOINT; then the
/// spec's args, else (when the command is the image's too) the image's CMD.
pub(crate) fn container_command(c: &netsim_model::k8s_openapi::api::core::v1::Container) -> String {
    let image = c.image.clone().unwrap_or_default();
    let (entry, cmd) = crate::apps::image_defaults(&image);
    let mut command: Vec<String> = match &c.command {
        Some(cmd) => cmd.clone(),
        None => entry.iter().map(|s| s.to_string()).collect(),
    };
    match (&c.args, &c.command) {
        (Some(args), _) => command.extend(args.iter().cloned()),
        (None, None) => command.extend(cmd.iter().map(|s| s.to_string())),
        (None, Some(_)) => {}
    }
    command.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_images_like_containerd() {
        assert_eq!(normalize_image("nginx"), "docker.io/library/nginx:latest");
        assert_eq!(
            normalize_image("busybox:1.28.4"),
            "docker.io/library/busybox:1.28.4"
        );
        assert_eq!(
            normalize_image("chadmcrowell/kubeserve2"),
            "docker.io/chadmcrowell/kubeserve2:latest"
        );
        assert_eq!(
            normalize_image("registry.k8s.io/coredns/coredns:v1.10.1"),
            "registry.k8s.io/coredns/coredns:v1.10.1"
        );
    }
}
