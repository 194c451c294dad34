//! `netsim export DIR`: the scenario as files a real cluster takes — `kind-cluster.yaml` (a kind
//! cluster of the same shape: nodes, pod and Service subnets) and `manifests.yaml` (the objects
//! people made, as they wrote them: the `last-applied-configuration` when `apply` recorded one,
//! otherwise the object without what the API server and controllers filled in). What the
//! cluster made by itself is left out: kube-system and the CNI, the `kubernetes` Service, pods
//! and ReplicaSets that controllers own, EndpointSlices and Endpoints of selector Services,
//! Events. A class that outgrows the simulator runs `kind create cluster --config
//! DIR/kind-cluster.yaml && kubectl apply -f DIR/manifests.yaml`.

use crate::output::Output;
use netsim_engine::Sim;
use netsim_model::{Kind, Object};
use serde_json::{Value, json};

const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Namespaces the cluster brings with it.
fn system_namespace(ns: &str) -> bool {
    matches!(
        ns,
        "kube-system" | "kube-public" | "kube-node-lease" | "kube-flannel"
    )
}

/// Whether `o` is something a person made (or applied), not the cluster.
fn made_by_people(sim: &Sim, o: &Object) -> bool {
    use netsim_model::k8s_openapi::api::core::v1::Service;
    let meta = o.metadata();
    if system_namespace(o.namespace()) {
        return false;
    }
    if meta
        .owner_references
        .as_ref()
        .is_some_and(|r| !r.is_empty())
    {
        return false;
    }
    match o.kind() {
        Kind::Event | Kind::Node | Kind::ReplicaSet => false,
        Kind::Namespace => !matches!(o.name(), "default") && !system_namespace(o.name()),
        // The API server's own Service, and its endpoints.
        Kind::Service | Kind::Endpoints | Kind::EndpointSlice
            if o.namespace() == "default" && o.name() == "kubernetes" =>
        {
            false
        }
        Kind::Service => true,
        // Slices are the controllers' (from selectors, or mirrored from hand-made Endpoints).
        Kind::EndpointSlice => !meta
            .labels
            .as_ref()
            .is_some_and(|l| l.contains_key("endpointslice.kubernetes.io/managed-by")),
        // Endpoints of a Service with a selector are the controller's; others a person wrote.
        Kind::Endpoints => sim
            .store()
            .typed::<Service>(o.namespace(), o.name())
            .and_then(|s| s.spec.as_ref()?.selector.as_ref())
            .is_none_or(|sel| sel.is_empty()),
        Kind::ConfigMap => o.name() != "kube-root-ca.crt",
        _ => true,
    }
}

/// The object as its author wrote it.
fn as_written(o: &Object) -> Value {
    if let Some(text) = o
        .metadata()
        .annotations
        .as_ref()
        .and_then(|a| a.get(LAST_APPLIED))
        && let Ok(v) = serde_json::from_str::<Value>(text)
    {
        return v;
    }
    let mut v = o.to_json();
    if let Some(obj) = v.as_object_mut() {
        obj.remove("status");
        if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            for k in [
                "uid",
                "resourceVersion",
                "creationTimestamp",
                "generation",
                "managedFields",
            ] {
                meta.remove(k);
            }
            if let Some(a) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
                a.remove("deployment.kubernetes.io/revision");
                if a.is_empty() {
                    meta.remove("annotations");
                }
            }
        }
        // Addresses and ports the API server chose are its to choose again.
        if let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut) {
            for k in ["clusterIP", "clusterIPs", "healthCheckNodePort"] {
                spec.remove(k);
            }
        }
    }
    v
}

/// `netsim export DIR`.
pub fn run(out: &mut Output, sim: &Sim, args: &[String]) {
    let Some(dir) = args.first().filter(|a| !a.starts_with('-')) else {
        return out.fail(
            "usage: netsim export DIR   (writes DIR/kind-cluster.yaml and DIR/manifests.yaml)",
        );
    };
    let dir = std::path::Path::new(dir);
    if let Err(e) = std::fs::create_dir_all(dir) {
        return out.fail(format!("error: cannot create {}: {e}", dir.display()));
    }
    let config = sim.config();
    let nodes: Vec<Value> = config
        .nodes
        .iter()
        .map(|n| json!({"role": if n.control_plane { "control-plane" } else { "worker" }}))
        .collect();
    let kind = json!({
        "kind": "Cluster",
        "apiVersion": "kind.x-k8s.io/v1alpha4",
        "name": "netsim",
        "nodes": nodes,
        "networking": {
            "podSubnet": config.pod_cidr.to_string(),
            "serviceSubnet": config.service_cidr.to_string(),
        },
    });
    let mut objects: Vec<&Object> = sim
        .store()
        .iter()
        .filter(|o| made_by_people(sim, o))
        .collect();
    // Namespaces and classes first, then workloads, then what points at them.
    let rank = |o: &Object| match o.kind() {
        Kind::Namespace => 0,
        Kind::IngressClass | Kind::ConfigMap => 1,
        Kind::Deployment | Kind::DaemonSet | Kind::Pod => 2,
        Kind::Service | Kind::Endpoints | Kind::EndpointSlice => 3,
        _ => 4,
    };
    objects.sort_by_key(|o| rank(o));
    let mut manifests = String::new();
    for (i, o) in objects.iter().enumerate() {
        if i > 0 {
            manifests.push_str("---\n");
        }
        manifests.push_str(&netsim_print::to_yaml(&as_written(o)));
    }
    let header = "# Written by `netsim export`: the objects made in the simulated cluster, as applied.\n# kind create cluster --config kind-cluster.yaml && kubectl apply -f manifests.yaml\n";
    let files = [
        (
            "kind-cluster.yaml",
            format!(
                "# Written by `netsim export`: a kind cluster of the simulated cluster's shape.\n{}",
                netsim_print::to_yaml(&kind)
            ),
        ),
        ("manifests.yaml", format!("{header}{manifests}")),
    ];
    for (name, text) in files {
        let path = dir.join(name);
        if let Err(e) = std::fs::write(&path, text) {
            return out.fail(format!("error: cannot write {}: {e}", path.display()));
        }
        out.outln(format!("wrote {}", path.display()));
    }
    out.outln(format!(
        "{} objects; on a real cluster: kind create cluster --config {}/kind-cluster.yaml && kubectl apply -f {}/manifests.yaml",
        objects.len(),
        dir.display(),
        dir.display()
    ));
}
