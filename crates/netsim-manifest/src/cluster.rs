//! Documents that shape the cluster rather than live in it: netsim's own `Cluster`
//! (`netsim.dev/v1alpha1`), kind's `Cluster` (`kind.x-k8s.io/v1alpha4`) and kube-proxy's
//! `KubeProxyConfiguration` (`kubeproxy.config.k8s.io/v1alpha1`).
//!
//! This module owns translating those into [`ClusterConfig`] and [`KubeProxyConfig`]. It must
//! never build the cluster (the engine does) nor accept a field silently that netsim cannot
//! honour: such fields become warnings.

use crate::error::ManifestError;
use crate::{Item, RawDoc, Source};
use ipnet::Ipv4Net;
use netsim_model::{ClusterConfig, NodeSpec, ProxyMode};
use serde::Deserialize;
use serde_json::Value;
use std::net::Ipv4Addr;

/// A `Cluster` document turned into netsim's cluster shape.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterDoc {
    /// `metadata.name` (netsim) or `name` (kind).
    pub name: String,
    /// The cluster's shape.
    pub config: ClusterConfig,
    /// 1-based line of the file where the document starts.
    pub line: usize,
    /// What netsim cannot express and ignores (`Warning: ...` lines).
    pub warnings: Vec<String>,
}

/// The kube-proxy settings netsim models.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KubeProxyConfig {
    /// `mode` (`""`/`iptables`/`ipvs`/`nftables`).
    #[serde(default)]
    pub mode: Option<String>,
    /// `clusterCIDR`.
    #[serde(default, rename = "clusterCIDR")]
    pub cluster_cidr: Option<String>,
    /// `iptables.*`.
    #[serde(default)]
    pub iptables: KubeProxyIptables,
    /// `nodePortAddresses`.
    #[serde(default)]
    pub node_port_addresses: Option<Vec<String>>,
}

/// `KubeProxyConfiguration.iptables`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KubeProxyIptables {
    /// `masqueradeAll`.
    #[serde(default)]
    pub masquerade_all: Option<bool>,
    /// `masqueradeBit`.
    #[serde(default)]
    pub masquerade_bit: Option<i32>,
    /// `localhostNodePorts`.
    #[serde(default)]
    pub localhost_node_ports: Option<bool>,
}

/// A `KubeProxyConfiguration` document.
#[derive(Debug, Clone, PartialEq)]
pub struct KubeProxyDoc {
    /// The fields netsim models.
    pub config: KubeProxyConfig,
    /// The whole document as written.
    pub raw: Value,
    /// 1-based line of the file where the document starts.
    pub line: usize,
}

fn config_error(source: &Source<'_>, doc: &RawDoc, kind: &str, detail: String) -> ManifestError {
    ManifestError::Config {
        source_name: source.name.to_string(),
        kind: kind.to_string(),
        detail,
        line: doc.line(),
    }
}

/// Turns a cluster-shaping document into an [`Item`]; `Ok(None)` when it is not one.
pub(crate) fn classify(
    source: &Source<'_>,
    doc: &RawDoc,
    api_version: &str,
    kind: &str,
) -> Result<Option<Item>, ManifestError> {
    match (api_version, kind) {
        ("netsim.dev/v1alpha1", "Cluster") => netsim_cluster(source, doc).map(Some),
        ("kind.x-k8s.io/v1alpha4", "Cluster") => kind_cluster(source, doc).map(Some),
        ("netsim.dev/v1alpha1", "OutsideHosts") => {
            #[derive(serde::Deserialize)]
            #[serde(deny_unknown_fields)]
            struct Doc {
                #[serde(rename = "apiVersion")]
                _api_version: String,
                #[serde(rename = "kind")]
                _kind: String,
                #[serde(default)]
                metadata: Option<serde_json::Map<String, Value>>,
                hosts: Vec<netsim_model::HostEntry>,
            }
            let mut track = serde_path_to_error::Track::new();
            let de = serde_path_to_error::Deserializer::new(&doc.value, &mut track);
            let parsed = Doc::deserialize(de).map_err(|e| {
                config_error(
                    source,
                    doc,
                    "OutsideHosts",
                    format!("{}: {e}", track.path()),
                )
            })?;
            for (i, h) in parsed.hosts.iter().enumerate() {
                if h.ip.is_some() == h.load_balancer_of.is_some() {
                    return Err(config_error(
                        source,
                        doc,
                        "OutsideHosts",
                        format!("hosts[{i}]: give exactly one of ip and loadBalancerOf"),
                    ));
                }
                if let Some(svc) = &h.load_balancer_of
                    && svc.split('/').count() != 2
                {
                    return Err(config_error(
                        source,
                        doc,
                        "OutsideHosts",
                        format!("hosts[{i}].loadBalancerOf: {svc:?} is not NAMESPACE/NAME"),
                    ));
                }
            }
            let name = parsed
                .metadata
                .as_ref()
                .and_then(|m| m.get("name"))
                .and_then(Value::as_str)
                .unwrap_or("outside")
                .to_string();
            Ok(Some(Item::OutsideHosts(crate::OutsideHostsDoc {
                name,
                hosts: parsed.hosts,
            })))
        }
        ("kubeproxy.config.k8s.io/v1alpha1", "KubeProxyConfiguration") => {
            let mut track = serde_path_to_error::Track::new();
            let de = serde_path_to_error::Deserializer::new(&doc.value, &mut track);
            let config = KubeProxyConfig::deserialize(de).map_err(|e| {
                config_error(
                    source,
                    doc,
                    "KubeProxyConfiguration",
                    format!("{}: {e}", track.path()),
                )
            })?;
            if let Some(mode) = &config.mode
                && !matches!(mode.as_str(), "" | "iptables" | "ipvs" | "nftables")
            {
                return Err(config_error(
                    source,
                    doc,
                    "KubeProxyConfiguration",
                    format!(
                        "mode: Unsupported value: \"{mode}\": supported values: \"iptables\", \"ipvs\", \"nftables\""
                    ),
                ));
            }
            Ok(Some(Item::KubeProxy(KubeProxyDoc {
                config,
                raw: doc.value.clone(),
                line: doc.line(),
            })))
        }
        _ => Ok(None),
    }
}

fn netsim_cluster(source: &Source<'_>, doc: &RawDoc) -> Result<Item, ManifestError> {
    if let Some(obj) = doc.value.as_object() {
        for key in obj.keys() {
            if !matches!(key.as_str(), "apiVersion" | "kind" | "metadata" | "spec") {
                return Err(config_error(
                    source,
                    doc,
                    "Cluster",
                    format!("unknown field \"{key}\""),
                ));
            }
        }
    }
    let spec = doc
        .value
        .get("spec")
        .cloned()
        .unwrap_or(Value::Object(serde_json::Map::new()));
    let mut track = serde_path_to_error::Track::new();
    let de = serde_path_to_error::Deserializer::new(&spec, &mut track);
    let config = ClusterConfig::deserialize(de).map_err(|e| {
        let path = track.path().to_string();
        let at = if path == "." {
            "spec".to_string()
        } else {
            format!("spec.{path}")
        };
        config_error(source, doc, "Cluster", format!("{at}: {e}"))
    })?;
    let name = doc
        .value
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("netsim")
        .to_string();
    Ok(Item::Cluster(ClusterDoc {
        name,
        config,
        line: doc.line(),
        warnings: Vec::new(),
    }))
}

fn kind_cluster(source: &Source<'_>, doc: &RawDoc) -> Result<Item, ManifestError> {
    let err = |detail: String| config_error(source, doc, "Cluster", detail);
    let mut warnings = Vec::new();
    let ignore = |warnings: &mut Vec<String>, what: &str| {
        warnings.push(format!("Warning: netsim ignores kind's \"{what}\""));
    };
    let obj = doc.value.as_object().cloned().unwrap_or_default();
    let mut name = "kind".to_string();
    let mut config = ClusterConfig {
        service_cidr: Ipv4Net::new(Ipv4Addr::new(10, 96, 0, 0), 16).unwrap_or_default(),
        // kind has no cloud provider: LoadBalancer Services stay `<pending>`.
        load_balancer_pool: None,
        ..ClusterConfig::default()
    };
    let mut roles: Vec<bool> = vec![true];
    for (key, value) in &obj {
        match key.as_str() {
            "apiVersion" | "kind" => {}
            "name" => {
                name = value
                    .as_str()
                    .ok_or_else(|| err("name: must be a string".into()))?
                    .to_string();
            }
            "nodes" => {
                let nodes = value
                    .as_array()
                    .ok_or_else(|| err("nodes: must be a list".into()))?;
                roles.clear();
                for (i, node) in nodes.iter().enumerate() {
                    let Some(n) = node.as_object() else {
                        return Err(err(format!("nodes[{i}]: must be a mapping")));
                    };
                    for (nk, nv) in n {
                        match nk.as_str() {
                            "role" => match nv.as_str() {
                                Some("control-plane") => roles.push(true),
                                Some("worker") => roles.push(false),
                                _ => {
                                    return Err(err(format!(
                                        "nodes[{i}].role: Unsupported value: {nv}: supported values: \"control-plane\", \"worker\""
                                    )));
                                }
                            },
                            other => ignore(&mut warnings, &format!("nodes[{i}].{other}")),
                        }
                    }
                    if !n.contains_key("role") {
                        roles.push(true);
                    }
                }
            }
            "networking" => {
                let Some(net) = value.as_object() else {
                    return Err(err("networking: must be a mapping".into()));
                };
                for (nk, nv) in net {
                    let text = nv.as_str().unwrap_or("");
                    match nk.as_str() {
                        "podSubnet" => {
                            config.pod_cidr = text.parse().map_err(|_| {
                                err(format!("networking.podSubnet: invalid IPv4 CIDR {nv}"))
                            })?;
                        }
                        "serviceSubnet" => {
                            config.service_cidr = text.parse().map_err(|_| {
                                err(format!("networking.serviceSubnet: invalid IPv4 CIDR {nv}"))
                            })?;
                        }
                        "kubeProxyMode" => match text {
                            "iptables" => config.proxy_mode = ProxyMode::Iptables,
                            "ipvs" => config.proxy_mode = ProxyMode::Ipvs,
                            _ => {
                                ignore(&mut warnings, &format!("networking.kubeProxyMode: {text}"))
                            }
                        },
                        other => ignore(&mut warnings, &format!("networking.{other}")),
                    }
                }
            }
            other => ignore(&mut warnings, other),
        }
    }
    // kind names nodes <name>-control-plane, -control-plane2, ..., <name>-worker, -worker2;
    // docker hands out 172.18.0.2 onwards (control planes first here, for determinism).
    let mut nodes = Vec::new();
    let (mut cp, mut wk) = (0, 0);
    let mut ordered: Vec<bool> = roles.iter().copied().filter(|r| *r).collect();
    ordered.extend(roles.iter().copied().filter(|r| !*r));
    for (i, control_plane) in ordered.into_iter().enumerate() {
        let (base, n) = if control_plane {
            cp += 1;
            ("control-plane", cp)
        } else {
            wk += 1;
            ("worker", wk)
        };
        let suffix = if n == 1 { String::new() } else { n.to_string() };
        let host = u8::try_from(i + 2).map_err(|_| err("nodes: too many nodes".into()))?;
        nodes.push(NodeSpec {
            name: format!("{name}-{base}{suffix}"),
            ip: Ipv4Addr::new(172, 18, 0, host),
            control_plane,
        });
    }
    config.nodes = nodes;
    Ok(Item::Cluster(ClusterDoc {
        name,
        config,
        line: doc.line(),
        warnings,
    }))
}
