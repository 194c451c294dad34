//! The files the kubelet (and the runtime) put into every pod: `/etc/hosts`, managed by the
//! kubelet, and `/etc/resolv.conf`, computed by the kubelet from the pod's `dnsPolicy` and
//! `dnsConfig` (`GetPodDNS`) and written by the runtime in its own line order.
//!
//! The bytes here are what the resolvers read; `cat` prints the same bytes. This module owns
//! the files' content, not how a command shows them.

use crate::sim::Sim;
use netsim_model::ContainerRuntime;
use netsim_model::k8s_openapi::api::core::v1::Pod;

/// kubelet's limits on the merged result (ExpandedDNSConfig, GA in v1.28).
const MAX_NAMESERVERS: usize = 3;
const MAX_SEARCHES: usize = 32;
const MAX_SEARCH_CHARS: usize = 2048;

/// A resolv.conf's three parts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResolvConf {
    /// `nameserver` lines, in order.
    pub nameservers: Vec<String>,
    /// The `search` line.
    pub searches: Vec<String>,
    /// The `options` line (`ndots:5`, `edns0`).
    pub options: Vec<String>,
}

impl Sim {
    /// The node's own `/etc/hosts` (Ubuntu's default).
    pub fn node_etc_hosts(&self, node: &str) -> String {
        format!(
            "127.0.0.1 localhost\n127.0.1.1 {node}\n\n# The following lines are desirable for IPv6 capable hosts\n::1     ip6-localhost ip6-loopback\nfe00::0 ip6-localnet\nff00::0 ip6-mcastprefix\nff02::1 ip6-allnodes\nff02::2 ip6-allrouters\n"
        )
    }

    /// The node's resolver configuration: the node network's gateway answers DNS, no search
    /// domains.
    pub fn node_resolv(&self, node: &str) -> ResolvConf {
        let gateway = self
            .node_ip(node)
            .map(|ip| {
                let o = ip.octets();
                format!("{}.{}.{}.1", o[0], o[1], o[2])
            })
            .unwrap_or_else(|| "127.0.0.53".into());
        ResolvConf {
            nameservers: vec![gateway],
            searches: vec![],
            options: vec![],
        }
    }

    /// The pod's `/etc/hosts`, as the kubelet writes it (the node's file for host-network pods).
    pub fn pod_etc_hosts(&self, pod: &Pod) -> String {
        let spec = pod.spec.clone().unwrap_or_default();
        let node = spec.node_name.clone().unwrap_or_default();
        if spec.host_network == Some(true) {
            return self.node_etc_hosts(&node);
        }
        let mut out = String::from(
            "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n",
        );
        let hostname = spec
            .hostname
            .clone()
            .unwrap_or_else(|| pod.metadata.name.clone().unwrap_or_default());
        let ns = pod.metadata.namespace.clone().unwrap_or_default();
        let ips: Vec<String> = pod
            .status
            .as_ref()
            .and_then(|s| s.pod_ips.as_ref())
            .map(|ips| ips.iter().map(|i| i.ip.clone()).collect())
            .unwrap_or_default();
        for ip in ips {
            match spec.subdomain.as_deref().filter(|s| !s.is_empty()) {
                Some(sub) => out.push_str(&format!(
                    "{ip}\t{hostname}.{sub}.{ns}.svc.{}\t{hostname}\n",
                    self.config.cluster_domain
                )),
                None => out.push_str(&format!("{ip}\t{hostname}\n")),
            }
        }
        if let Some(aliases) = spec.host_aliases.as_ref().filter(|a| !a.is_empty()) {
            out.push_str("\n# Entries added by HostAliases.\n");
            for a in aliases {
                let names = a.hostnames.clone().unwrap_or_default().join("\t");
                out.push_str(&format!("{}\t{names}\n", a.ip));
            }
        }
        out
    }

    /// The pod's resolver configuration, as kubelet's `GetPodDNS` computes it, and the
    /// warning event text when the merged result had to be truncated.
    pub fn pod_resolv(&self, pod: &Pod) -> (ResolvConf, Option<String>) {
        let spec = pod.spec.as_ref();
        let node = spec
            .and_then(|s| s.node_name.as_deref())
            .unwrap_or_default();
        let ns = pod.metadata.namespace.as_deref().unwrap_or_default();
        let policy = spec
            .and_then(|s| s.dns_policy.as_deref())
            .unwrap_or("ClusterFirst");
        let host_network = spec.and_then(|s| s.host_network) == Some(true);
        let host = self.node_resolv(node);
        let zone = &self.config.cluster_domain;
        let cluster = |host: &ResolvConf| {
            let mut searches = vec![
                format!("{ns}.svc.{zone}"),
                format!("svc.{zone}"),
                zone.clone(),
            ];
            for s in &host.searches {
                if !searches.contains(s) {
                    searches.push(s.clone());
                }
            }
            ResolvConf {
                nameservers: vec![self.config.dns_service_ip().to_string()],
                searches,
                options: vec!["ndots:5".into()],
            }
        };
        let mut rc = match policy {
            "None" => ResolvConf::default(),
            "ClusterFirstWithHostNet" => cluster(&host),
            "ClusterFirst" if !host_network => cluster(&host),
            _ => host,
        };
        if let Some(cfg) = spec.and_then(|s| s.dns_config.as_ref()) {
            for n in cfg.nameservers.iter().flatten() {
                if !rc.nameservers.contains(n) {
                    rc.nameservers.push(n.clone());
                }
            }
            for s in cfg.searches.iter().flatten() {
                if !rc.searches.contains(s) {
                    rc.searches.push(s.clone());
                }
            }
            for o in cfg.options.iter().flatten() {
                let name = o.name.clone().unwrap_or_default();
                let rendered = match &o.value {
                    Some(v) => format!("{name}:{v}"),
                    None => name.clone(),
                };
                // A dnsConfig option replaces the base option of the same name, in place.
                let name_of = |s: &String| s.split(':').next().unwrap_or("").to_string();
                match rc.options.iter().position(|x| name_of(x) == name) {
                    Some(i) => rc.options[i] = rendered,
                    None => rc.options.push(rendered),
                }
            }
        }
        let mut warning = None;
        if rc.nameservers.len() > MAX_NAMESERVERS {
            rc.nameservers.truncate(MAX_NAMESERVERS);
            warning = Some(format!(
                "Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: {}",
                rc.nameservers.join(" ")
            ));
        }
        let before = rc.searches.len();
        rc.searches.truncate(MAX_SEARCHES);
        rc.searches.retain(|s| s.len() <= 253);
        while rc.searches.join(" ").len() > MAX_SEARCH_CHARS {
            rc.searches.pop();
        }
        if rc.searches.len() < before {
            warning = Some(format!(
                "Search Line limits were exceeded, some search paths have been omitted, the applied search line is: {}",
                rc.searches.join(" ")
            ));
        }
        (rc, warning)
    }

    /// `/etc/resolv.conf` in the pod, in the runtime's line order (docker: nameservers first;
    /// containerd: search first).
    pub fn pod_resolv_conf(&self, pod: &Pod) -> String {
        let (rc, _) = self.pod_resolv(pod);
        self.render_resolv(&rc)
    }

    /// Renders `rc` as this cluster's runtime writes it.
    pub fn render_resolv(&self, rc: &ResolvConf) -> String {
        let search =
            (!rc.searches.is_empty()).then(|| format!("search {}\n", rc.searches.join(" ")));
        let servers: String = rc
            .nameservers
            .iter()
            .map(|n| format!("nameserver {n}\n"))
            .collect();
        let options =
            (!rc.options.is_empty()).then(|| format!("options {}\n", rc.options.join(" ")));
        match self.config.runtime {
            ContainerRuntime::Docker => format!(
                "{servers}{}{}",
                search.unwrap_or_default(),
                options.unwrap_or_default()
            ),
            ContainerRuntime::Containerd => format!(
                "{}{servers}{}",
                search.unwrap_or_default(),
                options.unwrap_or_default()
            ),
        }
    }
}
