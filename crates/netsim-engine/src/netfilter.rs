//! A node's netfilter rules as the agents on it leave them, in the order they start: dockerd
//! (where the runtime is docker), the kubelet, flannel and kube-proxy.
//!
//! [`Sim::node_ruleset`] builds the whole [`Ruleset`] on demand from the API objects and the
//! cluster's settings — nothing here is stored — so `iptables-save` and the packet path always
//! see the same rules. The module knows who writes what; it must never format rules (the
//! printer does) nor evaluate packets (the data plane does).

use crate::kube_proxy::{self, ProxierConfig};
use crate::sim::Sim;
use ipnet::Ipv4Net;
use netsim_model::k8s_openapi::api::core::v1::Service;
use netsim_model::k8s_openapi::api::discovery::v1::EndpointSlice;
use netsim_model::netfilter::{CtState, Match, Rule, Ruleset, TableName, Target};
use netsim_model::{ContainerRuntime, ProxyMode};
use serde_json::Value;
use std::net::Ipv4Addr;

/// docker's default bridge network.
const DOCKER0_NET: (Ipv4Addr, u8) = (Ipv4Addr::new(172, 17, 0, 0), 16);

fn net(addr: Ipv4Addr, len: u8) -> Ipv4Net {
    Ipv4Net::new(addr, len).unwrap_or_default()
}

impl Sim {
    /// The settings kube-proxy runs with on `node`: kubeadm's (cluster CIDR = the pod network,
    /// everything else kube-proxy's default), overridden by a `KubeProxyConfiguration`.
    pub fn proxier_config(&self, node: &str) -> ProxierConfig {
        let node_ips: Vec<Ipv4Addr> = self.node_ip(node).into_iter().collect();
        let mut cfg = ProxierConfig::new(node, node_ips, Some(self.config.pod_cidr));
        if let Some(kp) = &self.kube_proxy_config {
            cfg.configure(kp, self.node_pod_cidr(node));
        }
        cfg
    }

    /// Whether kube-proxy runs in iptables mode on this cluster.
    pub fn proxy_mode_iptables(&self) -> bool {
        let mode = self
            .kube_proxy_config
            .as_ref()
            .and_then(|v| v.get("mode"))
            .and_then(Value::as_str);
        match mode {
            Some("ipvs") => false,
            Some(_) => true,
            None => self.config.proxy_mode == ProxyMode::Iptables,
        }
    }

    /// `node`'s netfilter rules: what dockerd, the kubelet, flannel and kube-proxy wrote, in
    /// that order. `None` if there is no such node.
    pub fn node_ruleset(&self, node: &str) -> Option<Ruleset> {
        let pod_cidr = self.node_pod_cidr(node);
        self.node_ip(node)?;
        let mut rules = Ruleset::default();
        if self.config.runtime == ContainerRuntime::Docker {
            dockerd_rules(&mut rules);
        }
        kubelet_rules(&mut rules);
        if let Some(subnet) = pod_cidr {
            flannel_rules(&mut rules, self.config.pod_cidr, subnet);
        }
        if self.proxy_mode_iptables() {
            let cfg = self.proxier_config(node);
            kube_proxy::sync_rules(
                &cfg,
                self.store.list_typed::<Service>(None),
                self.store.list_typed::<EndpointSlice>(None),
                &mut rules,
            );
        }
        Some(rules)
    }
}

/// dockerd's rules for the default bridge `docker0` (172.17.0.0/16), with no containers on it:
/// pods use the CNI, not docker's network. dockerd sets the FORWARD policy to DROP only when
/// IP forwarding was off when it started; kubeadm's prerequisites turn it on at boot, so the
/// policy stays ACCEPT.
fn dockerd_rules(rules: &mut Ruleset) {
    let docker_net = net(DOCKER0_NET.0, DOCKER0_NET.1);
    let nat = rules.table_mut(TableName::Nat);
    nat.chain_mut("DOCKER");
    nat.append(
        "PREROUTING",
        Rule::new(Target::Jump("DOCKER".into())).matching(Match::AddrTypeLocal {
            source: false,
            negate: false,
        }),
    );
    nat.append(
        "OUTPUT",
        Rule::new(Target::Jump("DOCKER".into()))
            .dst(true, net(Ipv4Addr::new(127, 0, 0, 0), 8))
            .matching(Match::AddrTypeLocal {
                source: false,
                negate: false,
            }),
    );
    nat.append(
        "POSTROUTING",
        Rule::new(Target::Masquerade {
            random_fully: false,
        })
        .src(false, docker_net)
        .out_iface(true, "docker0"),
    );
    nat.append(
        "DOCKER",
        Rule::new(Target::Return).in_iface(false, "docker0"),
    );

    let filter = rules.table_mut(TableName::Filter);
    for chain in [
        "DOCKER",
        "DOCKER-ISOLATION-STAGE-1",
        "DOCKER-ISOLATION-STAGE-2",
        "DOCKER-USER",
    ] {
        filter.chain_mut(chain);
    }
    let established = Match::Conntrack {
        negate: false,
        states: vec![CtState::Related, CtState::Established],
    };
    filter.append("FORWARD", Rule::new(Target::Jump("DOCKER-USER".into())));
    filter.append(
        "FORWARD",
        Rule::new(Target::Jump("DOCKER-ISOLATION-STAGE-1".into())),
    );
    filter.append(
        "FORWARD",
        Rule::new(Target::Accept)
            .out_iface(false, "docker0")
            .matching(established),
    );
    filter.append(
        "FORWARD",
        Rule::new(Target::Jump("DOCKER".into())).out_iface(false, "docker0"),
    );
    filter.append(
        "FORWARD",
        Rule::new(Target::Accept)
            .in_iface(false, "docker0")
            .out_iface(true, "docker0"),
    );
    filter.append(
        "FORWARD",
        Rule::new(Target::Accept)
            .in_iface(false, "docker0")
            .out_iface(false, "docker0"),
    );
    filter.append(
        "DOCKER-ISOLATION-STAGE-1",
        Rule::new(Target::Jump("DOCKER-ISOLATION-STAGE-2".into()))
            .in_iface(false, "docker0")
            .out_iface(true, "docker0"),
    );
    filter.append("DOCKER-ISOLATION-STAGE-1", Rule::new(Target::Return));
    filter.append(
        "DOCKER-ISOLATION-STAGE-2",
        Rule::new(Target::Drop).out_iface(false, "docker0"),
    );
    filter.append("DOCKER-ISOLATION-STAGE-2", Rule::new(Target::Return));
    filter.append("DOCKER-USER", Rule::new(Target::Return));
}

/// The kubelet's (v1.28, with IPTablesOwnershipCleanup): its canary chains, the iptables-hint
/// chain for wrapper scripts, and the localnet firewall.
fn kubelet_rules(rules: &mut Ruleset) {
    rules
        .table_mut(TableName::Mangle)
        .chain_mut("KUBE-IPTABLES-HINT");
    for table in [TableName::Mangle, TableName::Nat, TableName::Filter] {
        rules.table_mut(table).chain_mut("KUBE-KUBELET-CANARY");
    }
    let filter = rules.table_mut(TableName::Filter);
    filter.append(kube_proxy::chains::FIREWALL, kube_proxy::localnet_rule());
    for chain in ["OUTPUT", "INPUT"] {
        filter.insert(
            chain,
            Rule::new(Target::Jump(kube_proxy::chains::FIREWALL.into())),
        );
    }
}

/// flanneld's masquerade and forward rules (`pkg/trafficmngr/iptables`) for `network` with this
/// node's lease `subnet`.
fn flannel_rules(rules: &mut Ruleset, network: Ipv4Net, subnet: Ipv4Net) {
    let comment = "flanneld masq";
    let nat = rules.table_mut(TableName::Nat);
    nat.chain_mut("FLANNEL-POSTRTG");
    nat.append(
        "POSTROUTING",
        Rule::new(Target::Jump("FLANNEL-POSTRTG".into())).comment_match(comment),
    );
    let ret = || Rule::new(Target::Return);
    let masq = || Rule::new(Target::Masquerade { random_fully: true });
    for rule in [
        ret()
            .matching(Match::Mark {
                negate: false,
                value: 0x4000,
                mask: 0x4000,
            })
            .comment_match(comment),
        ret()
            .src(false, subnet)
            .dst(false, network)
            .comment_match(comment),
        ret()
            .src(false, network)
            .dst(false, subnet)
            .comment_match(comment),
        ret()
            .src(true, network)
            .dst(false, subnet)
            .comment_match(comment),
        masq()
            .src(false, network)
            .dst(true, net(Ipv4Addr::new(224, 0, 0, 0), 4))
            .comment_match(comment),
        masq()
            .src(true, network)
            .dst(false, network)
            .comment_match(comment),
    ] {
        nat.append("FLANNEL-POSTRTG", rule);
    }
    let fwd = "flanneld forward";
    let filter = rules.table_mut(TableName::Filter);
    filter.chain_mut("FLANNEL-FWD");
    filter.append(
        "FORWARD",
        Rule::new(Target::Jump("FLANNEL-FWD".into())).comment_match(fwd),
    );
    filter.append(
        "FLANNEL-FWD",
        Rule::new(Target::Accept)
            .src(false, network)
            .comment_match(fwd),
    );
    filter.append(
        "FLANNEL-FWD",
        Rule::new(Target::Accept)
            .dst(false, network)
            .comment_match(fwd),
    );
}
