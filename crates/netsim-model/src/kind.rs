//! The resource discovery table: which kinds exist, their API group and version, plural and
//! short names, and whether they are namespaced — what `kubectl api-resources` would list.
//!
//! This module owns name resolution (`svc` → `services`); it must never know about YAML.

use serde::{Deserialize, Serialize};

/// A kind of API object netsim stores.
///
/// IMPORTANT: the variant order is the order `kubectl get all`-style listings and the store
/// iterate in; keep it as Kubernetes' discovery order for the kinds `all` expands to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Kind {
    /// `v1/Namespace`
    Namespace,
    /// `v1/Node`
    Node,
    /// `v1/Pod`
    Pod,
    /// `v1/Service`
    Service,
    /// `apps/v1/DaemonSet`
    DaemonSet,
    /// `apps/v1/Deployment`
    Deployment,
    /// `apps/v1/ReplicaSet`
    ReplicaSet,
    /// `v1/Endpoints`
    Endpoints,
    /// `discovery.k8s.io/v1/EndpointSlice`
    EndpointSlice,
    /// `networking.k8s.io/v1/Ingress`
    Ingress,
    /// `networking.k8s.io/v1/IngressClass`
    IngressClass,
    /// `v1/ConfigMap`
    ConfigMap,
    /// `v1/Event`
    Event,
}

/// Static facts about a [`Kind`], as API discovery reports them.
#[derive(Debug, Clone, Copy)]
pub struct KindInfo {
    /// `Kind` as written in manifests, e.g. `Service`.
    pub kind: &'static str,
    /// API group; empty for the core group.
    pub group: &'static str,
    /// API version within the group, e.g. `v1`.
    pub version: &'static str,
    /// Plural resource name, e.g. `services`.
    pub plural: &'static str,
    /// Singular resource name, e.g. `service`.
    pub singular: &'static str,
    /// Short names, e.g. `svc`.
    pub short: &'static [&'static str],
    /// Whether objects live in a namespace.
    pub namespaced: bool,
}

impl Kind {
    /// Every kind, in discovery order.
    pub const ALL: [Kind; 13] = [
        Kind::Namespace,
        Kind::Node,
        Kind::Pod,
        Kind::Service,
        Kind::DaemonSet,
        Kind::Deployment,
        Kind::ReplicaSet,
        Kind::Endpoints,
        Kind::EndpointSlice,
        Kind::Ingress,
        Kind::IngressClass,
        Kind::ConfigMap,
        Kind::Event,
    ];

    /// The kinds `kubectl get all` expands to that netsim stores, in kubectl's order
    /// (pods, services, daemonsets, deployments, replicasets).
    pub const ALL_CATEGORY: [Kind; 5] = [
        Kind::Pod,
        Kind::Service,
        Kind::DaemonSet,
        Kind::Deployment,
        Kind::ReplicaSet,
    ];

    /// Discovery facts for this kind.
    pub fn info(self) -> KindInfo {
        let (kind, group, version, plural, singular, short, namespaced): (
            _,
            _,
            _,
            _,
            _,
            &'static [&'static str],
            _,
        ) = match self {
            Kind::Namespace => (
                "Namespace",
                "",
                "v1",
                "namespaces",
                "namespace",
                &["ns"],
                false,
            ),
            Kind::Node => ("Node", "", "v1", "nodes", "node", &["no"], false),
            Kind::Pod => ("Pod", "", "v1", "pods", "pod", &["po"], true),
            Kind::Service => ("Service", "", "v1", "services", "service", &["svc"], true),
            Kind::DaemonSet => (
                "DaemonSet",
                "apps",
                "v1",
                "daemonsets",
                "daemonset",
                &["ds"],
                true,
            ),
            Kind::Deployment => (
                "Deployment",
                "apps",
                "v1",
                "deployments",
                "deployment",
                &["deploy"],
                true,
            ),
            Kind::ReplicaSet => (
                "ReplicaSet",
                "apps",
                "v1",
                "replicasets",
                "replicaset",
                &["rs"],
                true,
            ),
            Kind::Endpoints => (
                "Endpoints",
                "",
                "v1",
                "endpoints",
                "endpoints",
                &["ep"],
                true,
            ),
            Kind::EndpointSlice => (
                "EndpointSlice",
                "discovery.k8s.io",
                "v1",
                "endpointslices",
                "endpointslice",
                &[],
                true,
            ),
            Kind::Ingress => (
                "Ingress",
                "networking.k8s.io",
                "v1",
                "ingresses",
                "ingress",
                &["ing"],
                true,
            ),
            Kind::IngressClass => (
                "IngressClass",
                "networking.k8s.io",
                "v1",
                "ingressclasses",
                "ingressclass",
                &[],
                false,
            ),
            Kind::ConfigMap => (
                "ConfigMap",
                "",
                "v1",
                "configmaps",
                "configmap",
                &["cm"],
                true,
            ),
            Kind::Event => ("Event", "", "v1", "events", "event", &["ev"], true),
        };
        KindInfo {
            kind,
            group,
            version,
            plural,
            singular,
            short,
            namespaced,
        }
    }

    /// `apiVersion` as written in manifests: `v1`, `apps/v1`, `networking.k8s.io/v1`.
    pub fn api_version(self) -> String {
        let info = self.info();
        if info.group.is_empty() {
            info.version.to_string()
        } else {
            format!("{}/{}", info.group, info.version)
        }
    }

    /// The kind's name in kubectl's `kind[.group]` form used in messages
    /// (`service`, `deployment.apps`, `ingress.networking.k8s.io`).
    pub fn qualified_singular(self) -> String {
        let info = self.info();
        let lower = info.kind.to_ascii_lowercase();
        if info.group.is_empty() {
            lower
        } else {
            format!("{lower}.{}", info.group)
        }
    }

    /// The resource in `plural[.group]` form used by API errors
    /// (`services`, `deployments.apps`, `ingresses.networking.k8s.io`).
    pub fn qualified_plural(self) -> String {
        let info = self.info();
        if info.group.is_empty() {
            info.plural.to_string()
        } else {
            format!("{}.{}", info.plural, info.group)
        }
    }

    /// Resolves what a user types for a resource type (`svc`, `services`, `Service`,
    /// `deployments.apps`, `deploy`) the way kubectl's RESTMapper does.
    pub fn resolve(name: &str) -> Option<Kind> {
        let lower = name.to_ascii_lowercase();
        let (base, group) = match lower.split_once('.') {
            Some((b, g)) => (b.to_string(), Some(g.to_string())),
            None => (lower.clone(), None),
        };
        Kind::ALL.into_iter().find(|k| {
            let info = k.info();
            if let Some(g) = &group
                && g != info.group
                && *g != format!("{}.{}", info.version, info.group)
            {
                return false;
            }
            base == info.plural
                || base == info.singular
                || base == info.kind.to_ascii_lowercase()
                || info.short.contains(&base.as_str())
        })
    }

    /// The kind whose manifest `kind` and `apiVersion` are these, if netsim stores it.
    pub fn from_type(api_version: &str, kind: &str) -> Option<Kind> {
        Kind::ALL
            .into_iter()
            .find(|k| k.info().kind == kind && k.api_version() == api_version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_kubectl_names() {
        assert_eq!(Kind::resolve("svc"), Some(Kind::Service));
        assert_eq!(Kind::resolve("services"), Some(Kind::Service));
        assert_eq!(Kind::resolve("deployment.apps"), Some(Kind::Deployment));
        assert_eq!(Kind::resolve("ing"), Some(Kind::Ingress));
        assert_eq!(Kind::resolve("ep"), Some(Kind::Endpoints));
        assert_eq!(Kind::resolve("foo"), None);
        assert_eq!(Kind::Deployment.qualified_plural(), "deployments.apps");
        assert_eq!(
            Kind::Ingress.qualified_singular(),
            "ingress.networking.k8s.io"
        );
    }
}
