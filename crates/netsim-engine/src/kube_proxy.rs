//! kube-proxy v1.28 in iptables mode: one node's full sync, from Services and EndpointSlices to
//! the `filter` and `nat` rules it writes (`pkg/proxy/iptables/proxier.go`).
//!
//! [`sync_rules`] is a pure function of its inputs, so hand-written Services and EndpointSlices
//! give exactly the rules a real kube-proxy would write for them. It writes into a
//! [`Ruleset`] in the kernel's canonical form; the rules are never formatted here (the
//! `iptables-save` printer does that) and never kept anywhere else (the packet path evaluates
//! the same `Ruleset`).
//!
//! One choice a real kube-proxy does not make: it visits services in Go map order, so the order
//! of different services' rules in `KUBE-SERVICES`, `KUBE-NODEPORTS`, `KUBE-EXTERNAL-SERVICES`
//! and `KUBE-PROXY-FIREWALL` changes on every sync. netsim visits service ports sorted by their
//! `namespace/name:port` string, which is also the order kube-proxy's own tests sort into.

use data_encoding::BASE32;
use ipnet::Ipv4Net;
use netsim_model::k8s_openapi::api::core::v1::Service;
use netsim_model::k8s_openapi::api::discovery::v1::EndpointSlice;
use netsim_model::netfilter::{
    CtState, Match, Proto, RecentMode, Rule, Ruleset, TableName, Target,
};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// How kube-proxy tells pod traffic from other traffic (`--detect-local-mode`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalDetector {
    /// No detector (no cluster CIDR given): no `! -s` masquerade rules, no "pod traffic" rule.
    None,
    /// `ClusterCIDR` or `NodeCIDR`: `-s CIDR`.
    Cidr(Ipv4Net),
    /// `BridgeInterface`: `-i BRIDGE`.
    Bridge(String),
    /// `InterfaceNamePrefix`: `-i PREFIX+`.
    InterfacePrefix(String),
}

impl LocalDetector {
    /// Adds the "is local" (`negate` false) or "is not local" match to `rule`.
    fn apply(&self, rule: Rule, negate: bool) -> Rule {
        match self {
            LocalDetector::None => rule,
            LocalDetector::Cidr(net) => rule.src(negate, *net),
            LocalDetector::Bridge(name) => rule.in_iface(negate, name),
            LocalDetector::InterfacePrefix(prefix) => rule.in_iface(negate, &format!("{prefix}+")),
        }
    }
}

/// The settings of one kube-proxy instance that change its rules.
#[derive(Debug, Clone)]
pub struct ProxierConfig {
    /// The node kube-proxy runs on (endpoints with this `nodeName` are local).
    pub hostname: String,
    /// The node's addresses (for `nodePortAddresses` and source-range checks).
    pub node_ips: Vec<Ipv4Addr>,
    /// Local-traffic detection.
    pub detector: LocalDetector,
    /// `masqueradeAll`.
    pub masquerade_all: bool,
    /// `iptables.masqueradeBit` (14).
    pub masquerade_bit: u32,
    /// `iptables.localhostNodePorts` (true).
    pub localhost_node_ports: bool,
    /// `nodePortAddresses` (empty: all local addresses).
    pub node_port_addresses: Vec<Ipv4Net>,
    /// Whether the iptables binary supports `--random-fully` (it does on any current node).
    pub random_fully: bool,
}

impl ProxierConfig {
    /// kube-proxy's defaults for `hostname` with cluster CIDR `cluster_cidr` (what kubeadm
    /// configures).
    pub fn new(hostname: &str, node_ips: Vec<Ipv4Addr>, cluster_cidr: Option<Ipv4Net>) -> Self {
        ProxierConfig {
            hostname: hostname.to_string(),
            node_ips,
            detector: cluster_cidr.map_or(LocalDetector::None, LocalDetector::Cidr),
            masquerade_all: false,
            masquerade_bit: 14,
            localhost_node_ports: true,
            node_port_addresses: Vec::new(),
            random_fully: true,
        }
    }

    /// Applies a `KubeProxyConfiguration` document's settings that change the rules:
    /// `clusterCIDR`, `detectLocalMode` (with `detectLocal`), `masqueradeAll`,
    /// `iptables.masqueradeBit`, `iptables.localhostNodePorts` and `nodePortAddresses`.
    /// `node_pod_cidr` is the node's pod subnet (for `detectLocalMode: NodeCIDR`).
    pub fn configure(&mut self, kp: &Value, node_pod_cidr: Option<Ipv4Net>) {
        let get = |path: &[&str]| -> Option<&Value> {
            let mut v = kp;
            for p in path {
                v = v.get(*p)?;
            }
            Some(v)
        };
        if let Some(text) = get(&["clusterCIDR"]).and_then(Value::as_str) {
            self.detector = text
                .split(',')
                .find_map(|c| c.trim().parse::<Ipv4Net>().ok())
                .map_or(LocalDetector::None, LocalDetector::Cidr);
        }
        match get(&["detectLocalMode"]).and_then(Value::as_str) {
            Some("NodeCIDR") => {
                self.detector = node_pod_cidr.map_or(LocalDetector::None, LocalDetector::Cidr);
            }
            Some("BridgeInterface") => {
                self.detector = get(&["detectLocal", "bridgeInterface"])
                    .and_then(Value::as_str)
                    .map_or(LocalDetector::None, |b| {
                        LocalDetector::Bridge(b.to_string())
                    });
            }
            Some("InterfaceNamePrefix") => {
                self.detector = get(&["detectLocal", "interfaceNamePrefix"])
                    .and_then(Value::as_str)
                    .map_or(LocalDetector::None, |p| {
                        LocalDetector::InterfacePrefix(p.to_string())
                    });
            }
            _ => {}
        }
        if let Some(all) = get(&["masqueradeAll"]).and_then(Value::as_bool) {
            self.masquerade_all = all;
        }
        if let Some(bit) = get(&["iptables", "masqueradeBit"]).and_then(Value::as_u64) {
            self.masquerade_bit = u32::try_from(bit).unwrap_or(14).min(31);
        }
        if let Some(local) = get(&["iptables", "localhostNodePorts"]).and_then(Value::as_bool) {
            self.localhost_node_ports = local;
        }
        if let Some(list) = get(&["nodePortAddresses"]).and_then(Value::as_array) {
            self.node_port_addresses = list
                .iter()
                .filter_map(Value::as_str)
                .filter_map(|c| c.parse::<Ipv4Net>().ok())
                .collect();
            // NewProxier: localhost NodePorts only if the addresses include IPv4 loopback.
            if !self.node_port_addresses.is_empty()
                && !self
                    .node_port_addresses
                    .iter()
                    .any(|n| n.contains(&Ipv4Addr::LOCALHOST))
            {
                self.localhost_node_ports = false;
            }
        }
    }

    fn mark(&self) -> u32 {
        1u32 << self.masquerade_bit.min(31)
    }
}

/// `base32(sha256(text))[:16]`, the hash in every per-service chain name.
fn chain_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    let mut encoded = BASE32.encode(&digest);
    encoded.truncate(16);
    encoded
}

/// One endpoint of one service port, as kube-proxy's endpoint cache holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Address.
    pub ip: Ipv4Addr,
    /// Port (the EndpointSlice port, i.e. the target port).
    pub port: u16,
    /// `ready` (nil means true).
    pub ready: bool,
    /// `serving` (nil means true).
    pub serving: bool,
    /// `terminating` (nil means false).
    pub terminating: bool,
    /// `nodeName` is this node.
    pub local: bool,
}

impl Endpoint {
    /// `ip:port`, the string endpoints are sorted and hashed by.
    pub fn key(&self) -> String {
        format!("{}:{}", self.ip, self.port)
    }

    fn usable(&self) -> bool {
        self.ready || (self.serving && self.terminating)
    }
}

/// Endpoints of each service port, keyed by (namespace, service, port name, protocol), merged
/// over all the service's slices, deduplicated (a local copy wins) and sorted by `ip:port` as a
/// string (`endpointslicecache.go`).
pub fn endpoints_by_port<'a>(
    slices: impl Iterator<Item = &'a EndpointSlice>,
    hostname: &str,
) -> BTreeMap<(String, String, String, Proto), Vec<Endpoint>> {
    let mut merged: BTreeMap<(String, String, String, Proto), BTreeMap<String, Endpoint>> =
        BTreeMap::new();
    for slice in slices {
        if slice.address_type != "IPv4" {
            continue;
        }
        let meta = &slice.metadata;
        let Some(service) = meta
            .labels
            .as_ref()
            .and_then(|l| l.get("kubernetes.io/service-name"))
        else {
            continue;
        };
        let namespace = meta.namespace.clone().unwrap_or_default();
        for port in slice.ports.iter().flatten() {
            let (Some(name), Some(number)) = (&port.name, port.port) else {
                continue;
            };
            let Ok(number) = u16::try_from(number) else {
                continue;
            };
            if number == 0 {
                continue;
            }
            let proto = port
                .protocol
                .as_deref()
                .and_then(Proto::parse)
                .unwrap_or(Proto::Tcp);
            let key = (namespace.clone(), service.clone(), name.clone(), proto);
            let entry = merged.entry(key).or_default();
            for ep in &slice.endpoints {
                let Some(ip) = ep
                    .addresses
                    .first()
                    .and_then(|a| a.parse::<Ipv4Addr>().ok())
                else {
                    continue;
                };
                let cond = ep.conditions.as_ref();
                let endpoint = Endpoint {
                    ip,
                    port: number,
                    ready: cond.and_then(|c| c.ready).unwrap_or(true),
                    serving: cond.and_then(|c| c.serving).unwrap_or(true),
                    terminating: cond.and_then(|c| c.terminating).unwrap_or(false),
                    local: ep.node_name.as_deref() == Some(hostname),
                };
                let key = endpoint.key();
                match entry.get(&key) {
                    Some(existing) if existing.local => {}
                    _ => {
                        entry.insert(key, endpoint);
                    }
                }
            }
        }
    }
    merged
        .into_iter()
        .map(|(k, eps)| (k, eps.into_values().collect()))
        .collect()
}

/// One service port, as kube-proxy's service cache sees it.
struct ServicePortInfo {
    /// `ns/name:port` or `ns/name`.
    name: String,
    proto: Proto,
    cluster_ip: Ipv4Addr,
    port: u16,
    node_port: u16,
    health_check_node_port: u16,
    external_ips: Vec<Ipv4Addr>,
    lb_vips: Vec<Ipv4Addr>,
    source_ranges: Vec<Ipv4Net>,
    etp_local: bool,
    itp_local: bool,
    affinity_seconds: Option<u32>,
    key: (String, String, String, Proto),
}

/// The service ports kube-proxy programs for `svc` (none for headless and ExternalName
/// Services).
fn service_ports(svc: &Service) -> Vec<ServicePortInfo> {
    let Some(spec) = &svc.spec else {
        return Vec::new();
    };
    let type_ = spec.type_.as_deref().unwrap_or("ClusterIP");
    if type_ == "ExternalName" {
        return Vec::new();
    }
    let Some(cluster_ip) = spec
        .cluster_ip
        .as_deref()
        .and_then(|ip| ip.parse::<Ipv4Addr>().ok())
    else {
        return Vec::new();
    };
    let namespace = svc.metadata.namespace.clone().unwrap_or_default();
    let name = svc.metadata.name.clone().unwrap_or_default();
    let external = matches!(type_, "NodePort" | "LoadBalancer");
    let etp_local = external && spec.external_traffic_policy.as_deref() == Some("Local");
    let itp_local = spec.internal_traffic_policy.as_deref() == Some("Local");
    let health_check_node_port = if type_ == "LoadBalancer" && etp_local {
        spec.health_check_node_port
            .and_then(|p| u16::try_from(p).ok())
            .unwrap_or(0)
    } else {
        0
    };
    let external_ips: Vec<Ipv4Addr> = spec
        .external_ips
        .iter()
        .flatten()
        .filter_map(|ip| ip.parse().ok())
        .collect();
    let lb_vips: Vec<Ipv4Addr> = svc
        .status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|l| l.ingress.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|i| i.ip.as_deref()?.parse().ok())
        .collect();
    let source_ranges: Vec<Ipv4Net> = spec
        .load_balancer_source_ranges
        .iter()
        .flatten()
        .filter_map(|r| r.trim().parse::<Ipv4Net>().ok())
        .map(|n| n.trunc())
        .collect();
    let affinity_seconds = (spec.session_affinity.as_deref() == Some("ClientIP")).then(|| {
        spec.session_affinity_config
            .as_ref()
            .and_then(|c| c.client_ip.as_ref())
            .and_then(|c| c.timeout_seconds)
            .and_then(|t| u32::try_from(t).ok())
            .unwrap_or(10800)
    });
    spec.ports
        .iter()
        .flatten()
        .filter_map(|p| {
            let proto = p
                .protocol
                .as_deref()
                .and_then(Proto::parse)
                .unwrap_or(Proto::Tcp);
            let port_name = p.name.clone().unwrap_or_default();
            let spn = if port_name.is_empty() {
                format!("{namespace}/{name}")
            } else {
                format!("{namespace}/{name}:{port_name}")
            };
            Some(ServicePortInfo {
                name: spn,
                proto,
                cluster_ip,
                port: u16::try_from(p.port).ok()?,
                node_port: p.node_port.and_then(|n| u16::try_from(n).ok()).unwrap_or(0),
                health_check_node_port,
                external_ips: external_ips.clone(),
                lb_vips: lb_vips.clone(),
                source_ranges: source_ranges.clone(),
                etp_local,
                itp_local,
                affinity_seconds,
                key: (namespace.clone(), name.clone(), port_name, proto),
            })
        })
        .collect()
}

/// kube-proxy's chain names and static rules.
pub mod chains {
    /// nat/filter `KUBE-SERVICES`.
    pub const SERVICES: &str = "KUBE-SERVICES";
    /// filter `KUBE-EXTERNAL-SERVICES`.
    pub const EXTERNAL_SERVICES: &str = "KUBE-EXTERNAL-SERVICES";
    /// filter `KUBE-FORWARD`.
    pub const FORWARD: &str = "KUBE-FORWARD";
    /// nat/filter `KUBE-NODEPORTS`.
    pub const NODEPORTS: &str = "KUBE-NODEPORTS";
    /// filter `KUBE-PROXY-FIREWALL`.
    pub const PROXY_FIREWALL: &str = "KUBE-PROXY-FIREWALL";
    /// filter `KUBE-FIREWALL` (shared with the kubelet).
    pub const FIREWALL: &str = "KUBE-FIREWALL";
    /// nat `KUBE-POSTROUTING`.
    pub const POSTROUTING: &str = "KUBE-POSTROUTING";
    /// nat `KUBE-MARK-MASQ`.
    pub const MARK_MASQ: &str = "KUBE-MARK-MASQ";
    /// The empty chain kube-proxy's iptables monitor watches, in mangle, nat and filter.
    pub const PROXY_CANARY: &str = "KUBE-PROXY-CANARY";
}

/// The kubelet's and kube-proxy's shared "block incoming localnet connections" rule.
pub fn localnet_rule() -> Rule {
    let loopback = Ipv4Net::new(Ipv4Addr::new(127, 0, 0, 0), 8).unwrap_or_default();
    Rule::new(Target::Drop)
        .comment_match("block incoming localnet connections")
        .dst(false, loopback)
        .src(true, loopback)
        .matching(Match::Conntrack {
            negate: true,
            states: vec![CtState::Related, CtState::Established, CtState::Dnat],
        })
}

/// Writes one full kube-proxy sync for `cfg.hostname` into `rules`: the `filter` and `nat`
/// chains (declared, so emptied first, as `iptables-restore --noflush` does) with their rules,
/// then the jumps from the built-in chains, inserted at the top when missing.
pub fn sync_rules<'a>(
    cfg: &ProxierConfig,
    services: impl Iterator<Item = &'a Service>,
    slices: impl Iterator<Item = &'a EndpointSlice>,
    rules: &mut Ruleset,
) {
    use chains::*;
    let mark = cfg.mark();
    let endpoints = endpoints_by_port(slices, &cfg.hostname);
    let mut ports: Vec<ServicePortInfo> = services.flat_map(service_ports).collect();
    ports.sort_by(|a, b| a.name.cmp(&b.name).then(a.proto.cmp(&b.proto)));
    let no_endpoints: Vec<Endpoint> = Vec::new();
    let total_endpoints: usize = ports
        .iter()
        .map(|p| endpoints.get(&p.key).map_or(0, Vec::len))
        .sum();
    let large_cluster = total_endpoints > 1000;

    // Canary chains: created, never filled.
    for table in [TableName::Mangle, TableName::Nat, TableName::Filter] {
        rules.table_mut(table).chain_mut(PROXY_CANARY);
    }

    let mut filter =
        std::mem::replace(rules.table_mut(TableName::Filter), empty(TableName::Filter));
    let mut nat = std::mem::replace(rules.table_mut(TableName::Nat), empty(TableName::Nat));
    for chain in [
        SERVICES,
        EXTERNAL_SERVICES,
        FORWARD,
        NODEPORTS,
        PROXY_FIREWALL,
    ] {
        filter.chain_mut(chain).rules.clear();
    }
    if cfg.localhost_node_ports {
        filter.chain_mut(FIREWALL).rules.clear();
    }
    for chain in [SERVICES, NODEPORTS, POSTROUTING, MARK_MASQ] {
        nat.chain_mut(chain).rules.clear();
    }

    // Static rules.
    nat.append(
        POSTROUTING,
        Rule::new(Target::Return).matching(Match::Mark {
            negate: true,
            value: mark,
            mask: mark,
        }),
    );
    nat.append(
        POSTROUTING,
        Rule::new(Target::SetXMark {
            value: mark,
            mask: 0,
        }),
    );
    nat.append(
        POSTROUTING,
        Rule::new(Target::Masquerade {
            random_fully: cfg.random_fully,
        })
        .comment_match("kubernetes service traffic requiring SNAT"),
    );
    nat.append(
        MARK_MASQ,
        Rule::new(Target::SetXMark {
            value: mark,
            mask: mark,
        }),
    );
    if cfg.localhost_node_ports {
        filter.append(FIREWALL, localnet_rule());
    }

    for sp in &ports {
        let eps = endpoints.get(&sp.key).unwrap_or(&no_endpoints);
        write_service_port(cfg, sp, eps, large_cluster, &mut filter, &mut nat);
    }

    // Tail rules.
    let nodeports_comment =
        "kubernetes service nodeports; NOTE: this must be the last rule in this chain";
    let all_addresses = cfg.node_port_addresses.is_empty()
        || cfg.node_port_addresses.iter().any(|n| n.prefix_len() == 0);
    if all_addresses {
        let mut rule = Rule::new(Target::Jump(NODEPORTS.into()))
            .comment_match(nodeports_comment)
            .matching(Match::AddrTypeLocal {
                source: false,
                negate: false,
            });
        if !cfg.localhost_node_ports {
            rule = rule.dst(
                true,
                Ipv4Net::new(Ipv4Addr::new(127, 0, 0, 0), 8).unwrap_or_default(),
            );
        }
        nat.append(SERVICES, rule);
    } else {
        for ip in &cfg.node_ips {
            if ip.is_loopback() && !cfg.localhost_node_ports {
                continue;
            }
            if cfg.node_port_addresses.iter().any(|n| n.contains(ip)) {
                nat.append(
                    SERVICES,
                    Rule::new(Target::Jump(NODEPORTS.into()))
                        .comment_match(nodeports_comment)
                        .dst_ip(*ip),
                );
            }
        }
    }
    filter.append(
        FORWARD,
        Rule::new(Target::Drop).matching(Match::Conntrack {
            negate: false,
            states: vec![CtState::Invalid],
        }),
    );
    filter.append(
        FORWARD,
        Rule::new(Target::Accept)
            .comment_match("kubernetes forwarding rules")
            .matching(Match::Mark {
                negate: false,
                value: mark,
                mask: mark,
            }),
    );
    filter.append(
        FORWARD,
        Rule::new(Target::Accept)
            .comment_match("kubernetes forwarding conntrack rule")
            .matching(Match::Conntrack {
                negate: false,
                states: vec![CtState::Related, CtState::Established],
            }),
    );

    // Jumps from the built-in chains (`iptablesJumpChains`), each prepended if missing, so
    // they end up in the reverse of kube-proxy's list, above anything written before.
    let new = || Match::Conntrack {
        negate: false,
        states: vec![CtState::New],
    };
    let jump = |chain: &str| Rule::new(Target::Jump(chain.into()));
    let mut filter_jumps: Vec<(&str, Rule)> = vec![
        (
            "INPUT",
            jump(PROXY_FIREWALL)
                .matching(new())
                .comment_match("kubernetes load balancer firewall"),
        ),
        (
            "INPUT",
            jump(NODEPORTS).comment_match("kubernetes health check service ports"),
        ),
        (
            "INPUT",
            jump(EXTERNAL_SERVICES)
                .matching(new())
                .comment_match("kubernetes externally-visible service portals"),
        ),
        ("INPUT", jump(FIREWALL)),
        (
            "FORWARD",
            jump(PROXY_FIREWALL)
                .matching(new())
                .comment_match("kubernetes load balancer firewall"),
        ),
        (
            "FORWARD",
            jump(FORWARD).comment_match("kubernetes forwarding rules"),
        ),
        (
            "FORWARD",
            jump(SERVICES)
                .matching(new())
                .comment_match("kubernetes service portals"),
        ),
        (
            "FORWARD",
            jump(EXTERNAL_SERVICES)
                .matching(new())
                .comment_match("kubernetes externally-visible service portals"),
        ),
        (
            "OUTPUT",
            jump(PROXY_FIREWALL)
                .matching(new())
                .comment_match("kubernetes load balancer firewall"),
        ),
        (
            "OUTPUT",
            jump(SERVICES)
                .matching(new())
                .comment_match("kubernetes service portals"),
        ),
        ("OUTPUT", jump(FIREWALL)),
    ];
    if !cfg.localhost_node_ports {
        filter_jumps.retain(|(_, rule)| rule.target != Target::Jump(FIREWALL.into()));
    }
    insert_jumps(&mut filter, filter_jumps);
    let nat_jumps = vec![
        (
            "PREROUTING",
            jump(SERVICES).comment_match("kubernetes service portals"),
        ),
        (
            "OUTPUT",
            jump(SERVICES).comment_match("kubernetes service portals"),
        ),
        (
            "POSTROUTING",
            jump(POSTROUTING).comment_match("kubernetes postrouting rules"),
        ),
    ];
    insert_jumps(&mut nat, nat_jumps);

    *rules.table_mut(TableName::Filter) = filter;
    *rules.table_mut(TableName::Nat) = nat;
}

fn empty(name: TableName) -> netsim_model::netfilter::Table {
    netsim_model::netfilter::Table::empty(name)
}

/// Prepends each of `jumps` to its chain unless the chain already has it, walking the list
/// backwards so the first ends up on top.
fn insert_jumps(table: &mut netsim_model::netfilter::Table, jumps: Vec<(&str, Rule)>) {
    for (chain, rule) in jumps.into_iter().rev() {
        if !table.chain_mut(chain).rules.contains(&rule) {
            table.insert(chain, rule);
        }
    }
}

/// The rules of one service port (`syncProxyRules`' loop body).
fn write_service_port(
    cfg: &ProxierConfig,
    sp: &ServicePortInfo,
    eps: &[Endpoint],
    large_cluster: bool,
    filter: &mut netsim_model::netfilter::Table,
    nat: &mut netsim_model::netfilter::Table,
) {
    use chains::*;
    let n = &sp.name;
    let p = sp.proto;
    let hash = chain_hash(&format!("{n}{}", p.as_str()));
    let svc_chain = format!("KUBE-SVC-{hash}");
    let svl_chain = format!("KUBE-SVL-{hash}");
    let ext_chain = format!("KUBE-EXT-{hash}");
    let fw_chain = format!("KUBE-FW-{hash}");
    let sep_chain = |ep: &Endpoint| {
        format!(
            "KUBE-SEP-{}",
            chain_hash(&format!("{n}{}{}", p.as_str(), ep.key()))
        )
    };

    let externally_accessible =
        sp.node_port != 0 || !sp.lb_vips.is_empty() || !sp.external_ips.is_empty();
    let uses_cluster = !sp.itp_local || externally_accessible;
    let uses_local = sp.itp_local || (sp.etp_local && externally_accessible);
    let pick = |filter: &dyn Fn(&Endpoint) -> bool| -> Vec<&Endpoint> {
        let ready: Vec<&Endpoint> = eps.iter().filter(|e| filter(e) && e.ready).collect();
        if !ready.is_empty() {
            return ready;
        }
        eps.iter()
            .filter(|e| filter(e) && e.serving && e.terminating)
            .collect()
    };
    let cluster_eps: Vec<&Endpoint> = if uses_cluster {
        pick(&|_| true)
    } else {
        Vec::new()
    };
    let local_eps: Vec<&Endpoint> = if uses_local {
        pick(&|e| e.local)
    } else {
        Vec::new()
    };
    let has_endpoints = eps.iter().any(Endpoint::usable);
    let internal_chain = if sp.itp_local { &svl_chain } else { &svc_chain };
    let external_policy_chain = if sp.etp_local { &svl_chain } else { &svc_chain };
    let has_internal = has_endpoints && !(sp.itp_local && local_eps.is_empty());
    let has_external = has_endpoints && !(sp.etp_local && local_eps.is_empty());
    let uses_ext = has_endpoints && externally_accessible;
    let uses_fw = has_endpoints && !sp.lb_vips.is_empty() && !sp.source_ranges.is_empty();
    let (internal_target, internal_comment) = if !has_endpoints {
        (Target::Reject, format!("{n} has no endpoints"))
    } else {
        (Target::Drop, format!("{n} has no local endpoints"))
    };
    let (external_target, external_comment) = (internal_target.clone(), internal_comment.clone());
    let cluster_ip = |target: Target, comment: String| {
        Rule::new(target)
            .comment_match(comment)
            .dport(p, sp.port)
            .dst_ip(sp.cluster_ip)
    };
    let to_vip = |target: Target, comment: String, ip: Ipv4Addr| {
        Rule::new(target)
            .comment_match(comment)
            .dport(p, sp.port)
            .dst_ip(ip)
    };

    // 1. Cluster IP.
    if has_internal {
        nat.append(
            SERVICES,
            cluster_ip(
                Target::Jump(internal_chain.clone()),
                format!("{n} cluster IP"),
            ),
        );
    } else {
        filter.append(
            SERVICES,
            cluster_ip(internal_target.clone(), internal_comment.clone()),
        );
    }
    // 2. External IPs.
    for ip in &sp.external_ips {
        if has_endpoints {
            nat.append(
                SERVICES,
                to_vip(
                    Target::Jump(ext_chain.clone()),
                    format!("{n} external IP"),
                    *ip,
                ),
            );
        }
        if !has_external {
            filter.append(
                EXTERNAL_SERVICES,
                to_vip(external_target.clone(), external_comment.clone(), *ip),
            );
        }
    }
    // 3. Load-balancer VIPs.
    for ip in &sp.lb_vips {
        if has_endpoints {
            let target = if uses_fw { &fw_chain } else { &ext_chain };
            nat.append(
                SERVICES,
                to_vip(
                    Target::Jump(target.clone()),
                    format!("{n} loadbalancer IP"),
                    *ip,
                ),
            );
        }
        if uses_fw {
            filter.append(
                PROXY_FIREWALL,
                to_vip(Target::Drop, format!("{n} traffic not accepted by FW"), *ip),
            );
        }
    }
    // 4. External reject for VIPs.
    if !has_external {
        for ip in &sp.lb_vips {
            filter.append(
                EXTERNAL_SERVICES,
                to_vip(external_target.clone(), external_comment.clone(), *ip),
            );
        }
    }
    // 5. NodePort.
    if sp.node_port != 0 {
        if has_endpoints {
            nat.append(
                NODEPORTS,
                Rule::new(Target::Jump(ext_chain.clone()))
                    .comment_match(n.clone())
                    .dport(p, sp.node_port),
            );
        }
        if !has_external {
            filter.append(
                EXTERNAL_SERVICES,
                Rule::new(external_target.clone())
                    .comment_match(external_comment.clone())
                    .matching(Match::AddrTypeLocal {
                        source: false,
                        negate: false,
                    })
                    .dport(p, sp.node_port),
            );
        }
    }
    // 6. Health-check NodePort.
    if sp.health_check_node_port != 0 {
        filter.append(
            NODEPORTS,
            Rule::new(Target::Accept)
                .comment_match(format!("{n} health check node port"))
                .dport(Proto::Tcp, sp.health_check_node_port),
        );
    }
    // 7. Internal masquerade.
    if has_internal {
        let masq = cluster_ip(Target::Jump(MARK_MASQ.into()), format!("{n} cluster IP"));
        if cfg.masquerade_all {
            nat.append(internal_chain, masq);
        } else if cfg.detector != LocalDetector::None {
            nat.append(internal_chain, cfg.detector.apply(masq, true));
        }
    }
    // 8. EXT chain.
    if uses_ext {
        nat.chain_mut(&ext_chain).rules.clear();
        if !sp.etp_local {
            nat.append(
                &ext_chain,
                Rule::new(Target::Jump(MARK_MASQ.into()))
                    .comment_match(format!("masquerade traffic for {n} external destinations")),
            );
        } else {
            if cfg.detector != LocalDetector::None {
                let rule = Rule::new(Target::Jump(svc_chain.clone()))
                    .comment_match(format!("pod traffic for {n} external destinations"));
                nat.append(&ext_chain, cfg.detector.apply(rule, false));
            }
            let local_src = Match::AddrTypeLocal {
                source: true,
                negate: false,
            };
            nat.append(
                &ext_chain,
                Rule::new(Target::Jump(MARK_MASQ.into()))
                    .comment_match(format!(
                        "masquerade LOCAL traffic for {n} external destinations"
                    ))
                    .matching(local_src.clone()),
            );
            nat.append(
                &ext_chain,
                Rule::new(Target::Jump(svc_chain.clone()))
                    .comment_match(format!("route LOCAL traffic for {n} external destinations"))
                    .matching(local_src),
            );
        }
        if has_external {
            nat.append(
                &ext_chain,
                Rule::new(Target::Jump(external_policy_chain.clone())),
            );
        }
    }
    // 9. FW chain.
    if uses_fw {
        nat.chain_mut(&fw_chain).rules.clear();
        let base = || {
            Rule::new(Target::Jump(ext_chain.clone())).comment_match(format!("{n} loadbalancer IP"))
        };
        for range in &sp.source_ranges {
            nat.append(&fw_chain, base().src(false, *range));
        }
        if cfg
            .node_ips
            .iter()
            .any(|ip| sp.source_ranges.iter().any(|r| r.contains(ip)))
        {
            for vip in &sp.lb_vips {
                nat.append(&fw_chain, base().src(false, Ipv4Net::from(*vip)));
            }
        }
        nat.append(
            &fw_chain,
            Rule::new(Target::None).comment_match(format!(
                "other traffic to {n} will be dropped by KUBE-PROXY-FIREWALL"
            )),
        );
    }
    // 10, 11. SVC and SVL dispatch.
    if uses_cluster && !cluster_eps.is_empty() {
        write_dispatch(
            nat,
            &svc_chain,
            n,
            &cluster_eps,
            sp.affinity_seconds,
            large_cluster,
            &sep_chain,
        );
    }
    if uses_local && !local_eps.is_empty() {
        write_dispatch(
            nat,
            &svl_chain,
            n,
            &local_eps,
            sp.affinity_seconds,
            large_cluster,
            &sep_chain,
        );
    }
    // 12. SEP chains.
    let mut reachable: BTreeMap<String, &Endpoint> = BTreeMap::new();
    for ep in cluster_eps.iter().chain(local_eps.iter()) {
        reachable.insert(ep.key(), ep);
    }
    for ep in reachable.values() {
        let chain = sep_chain(ep);
        nat.chain_mut(&chain).rules.clear();
        let with_comment = |rule: Rule| {
            if large_cluster {
                rule
            } else {
                rule.comment_match(n.clone())
            }
        };
        nat.append(
            &chain,
            with_comment(Rule::new(Target::Jump(MARK_MASQ.into())))
                .src(false, Ipv4Net::from(ep.ip)),
        );
        let mut dnat = with_comment(Rule::new(Target::Dnat {
            ip: ep.ip,
            port: ep.port,
        }));
        if sp.affinity_seconds.is_some() {
            dnat = dnat.matching(Match::Recent {
                mode: RecentMode::Set,
                name: chain.clone(),
            });
        }
        dnat.proto = Some(p);
        dnat = dnat.matching(Match::Port {
            proto: p,
            dport: None,
        });
        nat.append(&chain, dnat);
    }
}

/// `writeServiceToEndpointRules`: affinity checks, then the probability ladder.
fn write_dispatch(
    nat: &mut netsim_model::netfilter::Table,
    chain: &str,
    n: &str,
    eps: &[&Endpoint],
    affinity_seconds: Option<u32>,
    large_cluster: bool,
    sep_chain: &dyn Fn(&Endpoint) -> String,
) {
    // Keep the chain's masquerade rule (written before), replace the rest.
    let with_comment = |rule: Rule, ep: &Endpoint| {
        if large_cluster {
            rule
        } else {
            rule.comment_match(format!("{n} -> {}", ep.key()))
        }
    };
    if let Some(seconds) = affinity_seconds {
        for ep in eps {
            let sep = sep_chain(ep);
            nat.append(
                chain,
                with_comment(Rule::new(Target::Jump(sep.clone())), ep).matching(Match::Recent {
                    mode: RecentMode::Rcheck {
                        seconds,
                        reap: true,
                    },
                    name: sep,
                }),
            );
        }
    }
    let count = eps.len();
    for (i, ep) in eps.iter().enumerate() {
        let mut rule = with_comment(Rule::new(Target::Jump(sep_chain(ep))), ep);
        if i + 1 < count {
            // kube-proxy writes `%0.10f` of 1/(n-i); the kernel stores that string's value.
            let text = format!("{:.10}", 1.0 / (count - i) as f64);
            rule = rule.matching(Match::statistic(text.parse().unwrap_or(0.0)));
        }
        nat.append(chain, rule);
    }
}

#[cfg(test)]
mod tests {
    use super::chain_hash;

    #[test]
    fn chain_hashes_match_kube_proxy() {
        // shared/reference/kube-proxy-iptables.md §1.
        assert_eq!(chain_hash("ns1/svc1:p80tcp"), "XPGD46QRK7WJZT7O");
        assert_eq!(
            chain_hash("ns1/svc1:p80tcp10.180.0.1:80"),
            "SXIVWICOYRO3J4NJ"
        );
        assert_eq!(
            chain_hash("default/kubernetes:httpstcp"),
            "NPX46M4PTMTKRN6Y"
        );
        assert_eq!(
            chain_hash("kube-system/kube-dns:dnsudp"),
            "TCOU7JCQXEZGVUNU"
        );
        assert_eq!(chain_hash("ns1/svc1tcp"), "AQI2S6QIMU7PVVRP");
    }
}
