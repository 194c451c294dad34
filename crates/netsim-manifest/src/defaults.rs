//! The API server's defaulting (`pkg/apis/core/v1/defaults.go`, `pkg/apis/apps/v1/defaults.go`)
//! and the admission plugins that fill fields on create (ServiceAccount, Priority,
//! DefaultTolerationSeconds), for the fields kubectl-output.md §4 lists.
//!
//! This module owns filling in what the user left out. It must never allocate (ClusterIPs,
//! nodePorts, names and UIDs are the engine's), and never validate: run [`apply_defaults`]
//! before `validation::validate`, as the API server does.

use netsim_model::Object;
use netsim_model::k8s_openapi::api::apps::v1::{
    DaemonSetUpdateStrategy, DeploymentStrategy, RollingUpdateDaemonSet, RollingUpdateDeployment,
};
use netsim_model::k8s_openapi::api::core::v1::{
    Container, NamespaceSpec, Pod, PodSecurityContext, PodSpec, Service, Toleration,
};
use netsim_model::k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// Fills in the fields the API server defaults for `obj`'s kind.
pub fn apply_defaults(obj: &mut Object) {
    match obj {
        Object::Service(s) => service(s),
        Object::Pod(p) => pod_defaults(p),
        Object::Deployment(d) => {
            if let Some(spec) = d.spec.as_mut() {
                spec.replicas.get_or_insert(1);
                spec.revision_history_limit.get_or_insert(10);
                spec.progress_deadline_seconds.get_or_insert(600);
                let strategy = spec
                    .strategy
                    .get_or_insert_with(DeploymentStrategy::default);
                let ty = strategy.type_.get_or_insert_with(|| "RollingUpdate".into());
                if ty == "RollingUpdate" {
                    let ru = strategy
                        .rolling_update
                        .get_or_insert_with(RollingUpdateDeployment::default);
                    ru.max_surge
                        .get_or_insert_with(|| IntOrString::String("25%".into()));
                    ru.max_unavailable
                        .get_or_insert_with(|| IntOrString::String("25%".into()));
                }
                if let Some(ps) = spec.template.spec.as_mut() {
                    pod_spec(ps);
                }
            }
        }
        Object::ReplicaSet(r) => {
            if let Some(spec) = r.spec.as_mut() {
                spec.replicas.get_or_insert(1);
                if let Some(ps) = spec.template.as_mut().and_then(|t| t.spec.as_mut()) {
                    pod_spec(ps);
                }
            }
        }
        Object::DaemonSet(d) => {
            if let Some(spec) = d.spec.as_mut() {
                spec.revision_history_limit.get_or_insert(10);
                let us = spec
                    .update_strategy
                    .get_or_insert_with(DaemonSetUpdateStrategy::default);
                let ty = us.type_.get_or_insert_with(|| "RollingUpdate".into());
                if ty == "RollingUpdate" {
                    let ru = us
                        .rolling_update
                        .get_or_insert_with(RollingUpdateDaemonSet::default);
                    ru.max_unavailable.get_or_insert(IntOrString::Int(1));
                    ru.max_surge.get_or_insert(IntOrString::Int(0));
                }
                if let Some(ps) = spec.template.spec.as_mut() {
                    pod_spec(ps);
                }
            }
        }
        Object::Namespace(n) => {
            let name = n.metadata.name.clone().unwrap_or_default();
            n.metadata
                .labels
                .get_or_insert_with(Default::default)
                .insert("kubernetes.io/metadata.name".into(), name);
            let spec = n.spec.get_or_insert_with(NamespaceSpec::default);
            spec.finalizers
                .get_or_insert_with(|| vec!["kubernetes".into()]);
        }
        Object::Endpoints(e) => {
            for subset in e.subsets.iter_mut().flatten() {
                for port in subset.ports.iter_mut().flatten() {
                    port.protocol.get_or_insert_with(|| "TCP".into());
                }
            }
        }
        _ => {}
    }
}

fn service(s: &mut Service) {
    let Some(spec) = s.spec.as_mut() else {
        return;
    };
    let ty = spec.type_.get_or_insert_with(|| "ClusterIP".into()).clone();
    spec.session_affinity.get_or_insert_with(|| "None".into());
    for port in spec.ports.iter_mut().flatten() {
        port.protocol.get_or_insert_with(|| "TCP".into());
        let unset = match &port.target_port {
            None => true,
            Some(IntOrString::Int(0)) => true,
            Some(IntOrString::String(s)) => s.is_empty(),
            Some(IntOrString::Int(_)) => false,
        };
        if unset {
            port.target_port = Some(IntOrString::Int(port.port));
        }
    }
    if ty != "ExternalName" {
        spec.ip_families.get_or_insert_with(|| vec!["IPv4".into()]);
        spec.ip_family_policy
            .get_or_insert_with(|| "SingleStack".into());
        spec.internal_traffic_policy
            .get_or_insert_with(|| "Cluster".into());
    }
    let has_external_ips = spec.external_ips.as_ref().is_some_and(|v| !v.is_empty());
    if ty == "NodePort" || ty == "LoadBalancer" || (ty == "ClusterIP" && has_external_ips) {
        spec.external_traffic_policy
            .get_or_insert_with(|| "Cluster".into());
    }
    if ty == "LoadBalancer" {
        spec.allocate_load_balancer_node_ports.get_or_insert(true);
    }
}

/// Fills in what the API server defaults and admission add to a Pod's spec (the part of
/// [`apply_defaults`] for a Pod, for a controller making one from a template).
pub fn pod_defaults(pod: &mut Pod) {
    if let Some(spec) = pod.spec.as_mut() {
        pod_spec(spec);
        pod_admission(spec);
    }
}

/// `imagePullPolicy` for an image: `Always` when the tag is absent or `latest`, else
/// `IfNotPresent` (digests count as pinned).
pub fn default_pull_policy(image: &str) -> &'static str {
    if image.contains('@') {
        return "IfNotPresent";
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.rsplit_once(':') {
        Some((_, tag)) if tag != "latest" => "IfNotPresent",
        _ => "Always",
    }
}

fn container(c: &mut Container) {
    let policy = default_pull_policy(c.image.as_deref().unwrap_or(""));
    c.image_pull_policy.get_or_insert_with(|| policy.into());
    c.termination_message_path
        .get_or_insert_with(|| "/dev/termination-log".into());
    c.termination_message_policy
        .get_or_insert_with(|| "File".into());
    for port in c.ports.iter_mut().flatten() {
        port.protocol.get_or_insert_with(|| "TCP".into());
    }
}

/// Pod-spec defaults shared by Pods and pod templates.
fn pod_spec(spec: &mut PodSpec) {
    spec.dns_policy.get_or_insert_with(|| "ClusterFirst".into());
    spec.restart_policy.get_or_insert_with(|| "Always".into());
    spec.scheduler_name
        .get_or_insert_with(|| "default-scheduler".into());
    spec.termination_grace_period_seconds.get_or_insert(30);
    spec.enable_service_links.get_or_insert(true);
    spec.security_context
        .get_or_insert_with(PodSecurityContext::default);
    for c in spec.containers.iter_mut() {
        container(c);
    }
    for c in spec.init_containers.iter_mut().flatten() {
        container(c);
    }
}

/// What admission plugins add to a Pod on create (not to pod templates).
fn pod_admission(spec: &mut PodSpec) {
    let sa = spec
        .service_account_name
        .get_or_insert_with(|| "default".into())
        .clone();
    spec.service_account.get_or_insert(sa);
    spec.priority.get_or_insert(0);
    spec.preemption_policy
        .get_or_insert_with(|| "PreemptLowerPriority".into());
    let tolerations = spec.tolerations.get_or_insert_with(Vec::new);
    for key in [
        "node.kubernetes.io/not-ready",
        "node.kubernetes.io/unreachable",
    ] {
        let tolerated = tolerations.iter().any(|t| {
            (t.key.as_deref() == Some(key)
                || (t.key.is_none() && t.operator.as_deref() == Some("Exists")))
                && t.effect.as_deref().is_none_or(|e| e == "NoExecute")
        });
        if !tolerated {
            tolerations.push(Toleration {
                effect: Some("NoExecute".into()),
                key: Some(key.into()),
                operator: Some("Exists".into()),
                toleration_seconds: Some(300),
                value: None,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_policy() {
        assert_eq!(default_pull_policy("nginx"), "Always");
        assert_eq!(default_pull_policy("nginx:latest"), "Always");
        assert_eq!(default_pull_policy("busybox:1.28.4"), "IfNotPresent");
        assert_eq!(default_pull_policy("localhost:5000/app"), "Always");
        assert_eq!(default_pull_policy("a/b@sha256:00"), "IfNotPresent");
    }
}
