//! Building a cluster from its [`ClusterConfig`]: what `kubeadm init`, `kubeadm join` and the
//! CNI's manifest leave behind — Namespaces, Nodes with their pod CIDRs and taints, the
//! `kubernetes` Service and its endpoints, CoreDNS (Deployment, `kube-dns` Service, Corefile
//! ConfigMap), kube-proxy and flannel DaemonSets, and the control plane's static pods.
//!
//! Everything is created at the cluster's birth (`startTime` minus `clusterAgeSeconds`) and the
//! controllers run until the cluster has settled; then the clock moves to `startTime`.

use crate::sim::{Sim, WriteOptions};
use netsim_model::jiff::SignedDuration;
use netsim_model::{ClusterConfig, Object};
use serde_json::{Value, json};

/// CoreDNS image of Kubernetes v1.28.
pub const COREDNS_IMAGE: &str = "registry.k8s.io/coredns/coredns:v1.10.1";

/// kubeadm's default Corefile for `cluster_domain`.
pub fn default_corefile(cluster_domain: &str) -> String {
    format!(
        ".:53 {{\n    errors\n    health {{\n       lameduck 5s\n    }}\n    ready\n    kubernetes {cluster_domain} in-addr.arpa ip6.arpa {{\n       pods insecure\n       fallthrough in-addr.arpa ip6.arpa\n       ttl 30\n    }}\n    prometheus :9153\n    forward . /etc/resolv.conf {{\n       max_concurrent 1000\n    }}\n    cache 30\n    loop\n    reload\n    loadbalance\n}}\n"
    )
}

impl Sim {
    /// A new cluster of shape `config`, settled, with the clock at `config.start_time`.
    pub fn new(config: ClusterConfig) -> Result<Sim, String> {
        let mut sim = Sim::empty(config)?;
        let start = sim.now();
        let birth = start - SignedDuration::from_secs(sim.config.cluster_age_seconds as i64);
        sim.set_clock(birth);
        sim.bootstrap()?;
        // Let the cluster come up (image pulls, CoreDNS, kube-proxy), then jump to the start.
        sim.advance(SignedDuration::from_secs(120));
        if sim.now() < start {
            sim.advance_to(start);
        }
        Ok(sim)
    }

    fn create_value(&mut self, value: Value) -> Result<(), String> {
        let kind = value["kind"].as_str().unwrap_or("").to_string();
        let api = value["apiVersion"].as_str().unwrap_or("").to_string();
        let k = netsim_model::Kind::from_type(&api, &kind)
            .ok_or_else(|| format!("bootstrap: unknown {api}/{kind}"))?;
        let object = Object::from_json(k, value).map_err(|e| format!("bootstrap {kind}: {e}"))?;
        self.create(object, WriteOptions::default())
            .map_err(|e| format!("bootstrap: {e}"))?;
        Ok(())
    }

    fn bootstrap(&mut self) -> Result<(), String> {
        let cfg = self.config.clone();
        for ns in [
            "default",
            "kube-node-lease",
            "kube-public",
            "kube-system",
            "kube-flannel",
        ] {
            self.create_value(
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
            )?;
        }
        for (i, node) in cfg.nodes.iter().enumerate() {
            let cidr = cfg
                .node_pod_cidr(i)
                .ok_or("pod CIDR too small for the nodes")?;
            let mut labels = json!({
                "beta.kubernetes.io/arch": "amd64",
                "beta.kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "kubernetes.io/hostname": node.name,
                "kubernetes.io/os": "linux",
            });
            let mut taints = json!([]);
            if node.control_plane {
                labels["node-role.kubernetes.io/control-plane"] = json!("");
                labels["node.kubernetes.io/exclude-from-external-load-balancers"] = json!("");
                taints = json!([{"effect": "NoSchedule", "key": "node-role.kubernetes.io/control-plane"}]);
            }
            let vtep = self.random_mac();
            let mac = format_mac(&vtep);
            let host_gw = cfg.flannel_backend == netsim_model::FlannelBackend::HostGw;
            let (backend_type, backend_data) = if host_gw {
                ("host-gw", "null".to_string())
            } else {
                ("vxlan", format!("{{\"VNI\":1,\"VtepMAC\":\"{mac}\"}}"))
            };
            let now = self.now_time();
            let mut value = json!({
                "apiVersion": "v1", "kind": "Node",
                "metadata": {
                    "name": node.name,
                    "labels": labels,
                    "annotations": {
                        "flannel.alpha.coreos.com/backend-data": backend_data,
                        "flannel.alpha.coreos.com/backend-type": backend_type,
                        "flannel.alpha.coreos.com/kube-subnet-manager": "true",
                        "flannel.alpha.coreos.com/public-ip": node.ip.to_string(),
                        "kubeadm.alpha.kubernetes.io/cri-socket": match cfg.runtime {
                            netsim_model::ContainerRuntime::Containerd => "unix:///var/run/containerd/containerd.sock",
                            netsim_model::ContainerRuntime::Docker => "unix:///var/run/cri-dockerd.sock",
                        },
                        "node.alpha.kubernetes.io/ttl": "0",
                        "volumes.kubernetes.io/controller-managed-attach-detach": "true",
                    },
                },
                "spec": {"podCIDR": cidr.to_string(), "podCIDRs": [cidr.to_string()]},
                "status": {
                    "addresses": [{"address": node.ip.to_string(), "type": "InternalIP"}, {"address": node.name, "type": "Hostname"}],
                    "allocatable": {"cpu": "2", "ephemeral-storage": "46779129369", "hugepages-2Mi": "0", "memory": "3920820Ki", "pods": "110"},
                    "capacity": {"cpu": "2", "ephemeral-storage": "50758604Ki", "hugepages-2Mi": "0", "memory": "4023220Ki", "pods": "110"},
                    "conditions": [
                        {"type": "NetworkUnavailable", "status": "False", "reason": "FlannelIsUp", "message": "Flannel is running on this node", "lastHeartbeatTime": now, "lastTransitionTime": now},
                        {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory", "message": "kubelet has sufficient memory available", "lastHeartbeatTime": now, "lastTransitionTime": now},
                        {"type": "DiskPressure", "status": "False", "reason": "KubeletHasNoDiskPressure", "message": "kubelet has no disk pressure", "lastHeartbeatTime": now, "lastTransitionTime": now},
                        {"type": "PIDPressure", "status": "False", "reason": "KubeletHasSufficientPID", "message": "kubelet has sufficient PID available", "lastHeartbeatTime": now, "lastTransitionTime": now},
                        {"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status. AppArmor enabled", "lastHeartbeatTime": now, "lastTransitionTime": now},
                    ],
                    "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                    "nodeInfo": {
                        "architecture": "amd64",
                        "bootID": self.rng.uuid(),
                        "containerRuntimeVersion": cfg.runtime.version_string(),
                        "kernelVersion": "5.15.0-105-generic",
                        "kubeProxyVersion": cfg.kubernetes_version,
                        "kubeletVersion": cfg.kubernetes_version,
                        "machineID": self.rng.hex(32),
                        "operatingSystem": "linux",
                        "osImage": "Ubuntu 22.04.4 LTS",
                        "systemUUID": self.rng.uuid(),
                    },
                },
            });
            if node.control_plane {
                value["spec"]["taints"] = taints;
            }
            self.create_value(value)?;
            self.boot_node_network(&node.name, Some(vtep));
        }
        self.bootstrap_kubernetes_service()?;
        self.bootstrap_static_pods()?;
        self.bootstrap_addons()?;
        Ok(())
    }

    fn bootstrap_kubernetes_service(&mut self) -> Result<(), String> {
        let cfg = self.config.clone();
        let api_ip = cfg
            .nodes
            .iter()
            .find(|n| n.control_plane)
            .or(cfg.nodes.first())
            .map(|n| n.ip.to_string())
            .unwrap_or_default();
        self.create_value(json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "kubernetes", "namespace": "default", "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"clusterIP": cfg.kubernetes_service_ip().to_string(), "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}], "sessionAffinity": "None", "type": "ClusterIP"},
        }))?;
        self.create_value(json!({
            "apiVersion": "v1", "kind": "Endpoints",
            "metadata": {"name": "kubernetes", "namespace": "default", "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
            "subsets": [{"addresses": [{"ip": api_ip}], "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]}],
        }))?;
        self.create_value(json!({
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": "kubernetes", "namespace": "default", "labels": {"kubernetes.io/service-name": "kubernetes"}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": [api_ip], "conditions": {"ready": true}}],
            "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}],
        }))
    }

    fn bootstrap_static_pods(&mut self) -> Result<(), String> {
        let cfg = self.config.clone();
        let version = cfg.kubernetes_version.clone();
        for node in cfg.nodes.iter().filter(|n| n.control_plane) {
            for (component, image, tier) in [
                (
                    "etcd",
                    "registry.k8s.io/etcd:3.5.9-0".to_string(),
                    "control-plane",
                ),
                (
                    "kube-apiserver",
                    format!("registry.k8s.io/kube-apiserver:{version}"),
                    "control-plane",
                ),
                (
                    "kube-controller-manager",
                    format!("registry.k8s.io/kube-controller-manager:{version}"),
                    "control-plane",
                ),
                (
                    "kube-scheduler",
                    format!("registry.k8s.io/kube-scheduler:{version}"),
                    "control-plane",
                ),
            ] {
                let mirror = self.rng.hex(32);
                let node_uid = self
                    .store
                    .get_named(netsim_model::Kind::Node, "", &node.name)
                    .and_then(|n| n.metadata().uid.clone())
                    .unwrap_or_default();
                self.create_value(json!({
                    "apiVersion": "v1", "kind": "Pod",
                    "metadata": {
                        "name": format!("{component}-{}", node.name),
                        "namespace": "kube-system",
                        "labels": {"component": component, "tier": tier},
                        "annotations": {"kubernetes.io/config.source": "file", "kubernetes.io/config.mirror": mirror},
                        "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": node.name, "uid": node_uid, "controller": true}],
                    },
                    "spec": {
                        "nodeName": node.name,
                        "hostNetwork": true,
                        "priorityClassName": "system-node-critical",
                        "priority": 2000001000,
                        "containers": [{"name": component, "image": image, "imagePullPolicy": "IfNotPresent", "command": [component]}],
                        "tolerations": [{"effect": "NoExecute", "operator": "Exists"}],
                    },
                }))?;
            }
        }
        Ok(())
    }

    fn bootstrap_addons(&mut self) -> Result<(), String> {
        let cfg = self.config.clone();
        self.create_value(json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "coredns", "namespace": "kube-system"},
            "data": {"Corefile": default_corefile(&cfg.cluster_domain)},
        }))?;
        self.create_value(json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "kube-proxy", "namespace": "kube-system", "labels": {"app": "kube-proxy"}},
            "data": {"config.conf": format!(
                "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nbindAddress: 0.0.0.0\nclusterCIDR: {}\nkind: KubeProxyConfiguration\nmode: \"{}\"\n",
                cfg.pod_cidr,
                match cfg.proxy_mode { netsim_model::ProxyMode::Iptables => "", netsim_model::ProxyMode::Ipvs => "ipvs" }
            )},
        }))?;
        self.create_value(json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {
                "name": "kube-dns", "namespace": "kube-system",
                "labels": {"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true", "kubernetes.io/name": "CoreDNS"},
                "annotations": {"prometheus.io/port": "9153", "prometheus.io/scrape": "true"},
            },
            "spec": {
                "clusterIP": cfg.dns_service_ip().to_string(),
                "selector": {"k8s-app": "kube-dns"},
                "ports": [
                    {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                    {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
                    {"name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153},
                ],
            },
        }))?;
        self.create_value(json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "coredns", "namespace": "kube-system", "labels": {"k8s-app": "kube-dns"}},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"k8s-app": "kube-dns"}},
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}},
                "template": {
                    "metadata": {"labels": {"k8s-app": "kube-dns"}},
                    "spec": {
                        "priorityClassName": "system-cluster-critical",
                        "serviceAccountName": "coredns",
                        "dnsPolicy": "Default",
                        "nodeSelector": {"kubernetes.io/os": "linux"},
                        "tolerations": [
                            {"key": "CriticalAddonsOnly", "operator": "Exists"},
                            {"effect": "NoSchedule", "key": "node-role.kubernetes.io/control-plane"},
                        ],
                        "containers": [{
                            "name": "coredns",
                            "image": COREDNS_IMAGE,
                            "imagePullPolicy": "IfNotPresent",
                            "args": ["-conf", "/etc/coredns/Corefile"],
                            "ports": [
                                {"containerPort": 53, "name": "dns", "protocol": "UDP"},
                                {"containerPort": 53, "name": "dns-tcp", "protocol": "TCP"},
                                {"containerPort": 9153, "name": "metrics", "protocol": "TCP"},
                            ],
                            "resources": {"limits": {"memory": "170Mi"}, "requests": {"cpu": "100m", "memory": "70Mi"}},
                            "volumeMounts": [{"mountPath": "/etc/coredns", "name": "config-volume", "readOnly": true}],
                        }],
                        "volumes": [{"name": "config-volume", "configMap": {"name": "coredns", "items": [{"key": "Corefile", "path": "Corefile"}], "defaultMode": 420}}],
                    },
                },
            },
        }))?;
        let version = cfg.kubernetes_version.clone();
        self.create_value(json!({
            "apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": {"name": "kube-proxy", "namespace": "kube-system", "labels": {"k8s-app": "kube-proxy"}},
            "spec": {
                "selector": {"matchLabels": {"k8s-app": "kube-proxy"}},
                "template": {
                    "metadata": {"labels": {"k8s-app": "kube-proxy"}},
                    "spec": {
                        "hostNetwork": true,
                        "priorityClassName": "system-node-critical",
                        "serviceAccountName": "kube-proxy",
                        "nodeSelector": {"kubernetes.io/os": "linux"},
                        "tolerations": [{"operator": "Exists"}],
                        "containers": [{
                            "name": "kube-proxy",
                            "image": format!("registry.k8s.io/kube-proxy:{version}"),
                            "imagePullPolicy": "IfNotPresent",
                            "command": ["/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf", "--hostname-override=$(NODE_NAME)"],
                            "securityContext": {"privileged": true},
                        }],
                    },
                },
            },
        }))?;
        self.create_value(json!({
            "apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": {"name": "kube-flannel-ds", "namespace": "kube-flannel", "labels": {"app": "flannel", "k8s-app": "flannel", "tier": "node"}},
            "spec": {
                "selector": {"matchLabels": {"app": "flannel", "k8s-app": "flannel"}},
                "template": {
                    "metadata": {"labels": {"app": "flannel", "k8s-app": "flannel", "tier": "node"}},
                    "spec": {
                        "hostNetwork": true,
                        "priorityClassName": "system-node-critical",
                        "serviceAccountName": "flannel",
                        "tolerations": [{"effect": "NoSchedule", "operator": "Exists"}],
                        "containers": [{
                            "name": "kube-flannel",
                            "image": "docker.io/flannel/flannel:v0.24.2",
                            "imagePullPolicy": "IfNotPresent",
                            "command": ["/opt/bin/flanneld"],
                            "args": ["--ip-masq", "--kube-subnet-mgr"],
                            "securityContext": {"privileged": false, "capabilities": {"add": ["NET_ADMIN", "NET_RAW"]}},
                        }],
                    },
                },
            },
        }))?;
        Ok(())
    }
}

/// `aa:bb:cc:dd:ee:ff`.
pub fn format_mac(m: &netsim_model::netns::Mac) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}
