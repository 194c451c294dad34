//! Fixtures for the golden and snapshot tests: the lesson cluster of
//! shared/reference/kubectl-output.md, built as JSON and decoded into store objects.

#![allow(dead_code)]

use netsim_model::jiff::Timestamp;
use netsim_model::{Kind, Object, Store};
use serde_json::{Value, json};

/// The reference's `now`: 2024-01-02T00:00:00Z.
pub fn now() -> Timestamp {
    "2024-01-02T00:00:00Z".parse().expect("valid timestamp")
}

/// Decodes `value` (which must carry `apiVersion` and `kind`) into an object.
pub fn obj(value: Value) -> Object {
    serde_json::from_value(value).expect("fixture decodes")
}

/// A store holding `objects` verbatim.
pub fn store(objects: &[Object]) -> Store {
    let mut s = Store::new();
    for o in objects {
        s.put_verbatim(o.clone());
    }
    s
}

pub fn kubernetes_svc() -> Object {
    obj(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "kubernetes", "namespace": "default",
                     "creationTimestamp": "2024-01-01T00:00:00Z",
                     "labels": {"component": "apiserver", "provider": "kubernetes"}},
        "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.1", "clusterIPs": ["10.96.0.1"],
                 "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}],
                 "sessionAffinity": "None"},
        "status": {"loadBalancer": {}}
    }))
}

pub fn kubeserve2_svc() -> Object {
    obj(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "kubeserve2", "namespace": "default",
                     "creationTimestamp": "2024-01-01T23:58:00Z",
                     "labels": {"app": "kubeserve2"}, "resourceVersion": "4321",
                     "uid": "9a3c2f4e-6f1b-4d7e-8c55-0b1e2d3f4a5b"},
        "spec": {"allocateLoadBalancerNodePorts": true,
                 "clusterIP": "10.96.141.39", "clusterIPs": ["10.96.141.39"],
                 "externalTrafficPolicy": "Cluster", "internalTrafficPolicy": "Cluster",
                 "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
                 "ports": [{"nodePort": 31823, "port": 80, "protocol": "TCP", "targetPort": 8080}],
                 "selector": {"app": "kubeserve2"}, "sessionAffinity": "None",
                 "type": "LoadBalancer"},
        "status": {"loadBalancer": {}}
    }))
}

pub fn headless_svc() -> Object {
    obj(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "kube-headless", "namespace": "default",
                     "creationTimestamp": "2024-01-01T23:59:30Z"},
        "spec": {"type": "ClusterIP", "clusterIP": "None", "clusterIPs": ["None"],
                 "ports": [{"port": 80, "protocol": "TCP", "targetPort": 8080}],
                 "selector": {"app": "kubeserve2"}, "sessionAffinity": "None"}
    }))
}

pub fn nodeport_svc() -> Object {
    obj(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "nginx-nodeport", "namespace": "default",
                     "creationTimestamp": "2024-01-01T23:59:50Z"},
        "spec": {"type": "NodePort", "clusterIP": "10.96.88.12", "clusterIPs": ["10.96.88.12"],
                 "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP", "targetPort": 80}],
                 "selector": {"app": "nginx"}, "sessionAffinity": "None",
                 "externalTrafficPolicy": "Cluster"}
    }))
}

pub fn kube_dns_svc() -> Object {
    obj(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "kube-dns", "namespace": "kube-system",
                     "creationTimestamp": "2024-01-01T00:00:00Z",
                     "labels": {"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true",
                                "kubernetes.io/name": "CoreDNS"},
                     "annotations": {"prometheus.io/port": "9153", "prometheus.io/scrape": "true"}},
        "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"],
                 "ports": [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                           {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
                           {"name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153}],
                 "selector": {"k8s-app": "kube-dns"}, "sessionAffinity": "None"}
    }))
}

/// An EndpointSlice for `service` with one unnamed port and ready endpoints.
pub fn slice(service: &str, port: i32, ips: &[&str]) -> Object {
    let endpoints: Vec<Value> = ips
        .iter()
        .map(|ip| json!({"addresses": [ip], "conditions": {"ready": true}}))
        .collect();
    obj(json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": format!("{service}-abcde"), "namespace": "default",
                     "creationTimestamp": "2024-01-01T23:58:00Z",
                     "labels": {"kubernetes.io/service-name": service}},
        "addressType": "IPv4",
        "ports": [{"name": "", "port": port, "protocol": "TCP"}],
        "endpoints": endpoints
    }))
}

pub fn running_pod(name: &str, ip: &str, node: &str) -> Object {
    obj(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default",
                     "creationTimestamp": "2024-01-01T23:55:00Z",
                     "labels": {"app": "kubeserve2", "pod-template-hash": "7d8c9f6b5d"}},
        "spec": {"containers": [{"name": "kubeserve2", "image": "chadmcrowell/kubeserve2"}],
                 "nodeName": node},
        "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}],
                   "conditions": [{"type": "Ready", "status": "True"}],
                   "containerStatuses": [{"name": "kubeserve2", "ready": true, "restartCount": 0,
                        "image": "docker.io/chadmcrowell/kubeserve2:latest", "imageID": "",
                        "state": {"running": {"startedAt": "2024-01-01T23:55:10Z"}}}]}
    }))
}

pub fn deployment() -> Object {
    obj(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "kubeserve2", "namespace": "default",
                     "creationTimestamp": "2024-01-01T23:55:00Z", "labels": {"app": "kubeserve2"}},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "kubeserve2"}},
                 "template": {"metadata": {"labels": {"app": "kubeserve2"}},
                              "spec": {"containers": [{"name": "kubeserve2",
                                                       "image": "chadmcrowell/kubeserve2"}]}}},
        "status": {"replicas": 2, "readyReplicas": 2, "updatedReplicas": 2, "availableReplicas": 2}
    }))
}

pub fn replicaset() -> Object {
    obj(json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": "kubeserve2-7d8c9f6b5d", "namespace": "default",
                     "creationTimestamp": "2024-01-01T23:55:00Z",
                     "labels": {"app": "kubeserve2", "pod-template-hash": "7d8c9f6b5d"}},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "kubeserve2",
                                                             "pod-template-hash": "7d8c9f6b5d"}}},
        "status": {"replicas": 2, "readyReplicas": 2}
    }))
}

pub fn node(name: &str, ip: &str, control_plane: bool) -> Object {
    let mut labels = json!({"kubernetes.io/hostname": name, "kubernetes.io/os": "linux"});
    if control_plane {
        labels["node-role.kubernetes.io/control-plane"] = json!("");
    }
    obj(json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "creationTimestamp": "2024-01-01T00:00:00Z", "labels": labels},
        "spec": {"podCIDR": "10.244.0.0/24", "podCIDRs": ["10.244.0.0/24"]},
        "status": {
            "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
            "capacity": {"cpu": "2", "memory": "4002360Ki", "pods": "110"},
            "allocatable": {"cpu": "2", "memory": "3899960Ki", "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                            "message": "kubelet is posting ready status",
                            "lastHeartbeatTime": "2024-01-01T23:59:00Z",
                            "lastTransitionTime": "2024-01-01T00:01:00Z"}],
            "nodeInfo": {"architecture": "amd64", "bootID": "b1", "containerRuntimeVersion": "containerd://1.7.27",
                         "kernelVersion": "5.15.0-105-generic", "kubeProxyVersion": "v1.32.4",
                         "kubeletVersion": "v1.32.4", "machineID": "m1", "operatingSystem": "linux",
                         "osImage": "Ubuntu 22.04.4 LTS", "systemUUID": "u1"}
        }
    }))
}

/// All objects of `kind` in `store` within `namespace`.
pub fn of(store: &Store, kind: Kind, namespace: Option<&str>) -> Vec<Object> {
    store.list(kind, namespace).cloned().collect()
}
