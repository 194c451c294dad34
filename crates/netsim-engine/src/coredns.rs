//! CoreDNS as kubeadm deploys it: the Corefile from the `coredns` ConfigMap in kube-system, the
//! `kubernetes` plugin's records and response codes (`shared/reference/dns.md` §1–§4), and the
//! `forward` plugin's hand-off to the upstream resolvers.
//!
//! [`Corefile::parse`] reads the plugins and options that change answers (zones, `pods`,
//! `ttl`, `fallthrough`, `namespaces`, `endpoint_pod_names`, `forward`, `cache`, `reload`);
//! [`Sim::coredns_answer`] answers one query from the API objects as they are now. This module
//! decides answers; it must never format them.
//!
//! Choices a real CoreDNS does not make the same way: `loadbalance` would shuffle A records,
//! netsim keeps them in EndpointSlice order; several PTRs for one endpoint address come in
//! Service name order; the SOA serial is the cluster's start time.
//!
//! The Corefile in effect is the one CoreDNS loaded ([`Sim::corefile_text`]): an edit of the
//! ConfigMap reaches the pods when the kubelet refreshes the mounted volume and the `reload`
//! plugin notices the new file (both pods at once here; each on its own timer in a real
//! cluster). The `cache` plugin keeps each pod's answers (see `dataplane::client`).

use crate::sim::Sim;
use netsim_model::dns::{Message, QType, RData, Rcode, Record, absolute};
use netsim_model::k8s_openapi::api::core::v1::{Namespace, Pod, Service};
use netsim_model::k8s_openapi::api::discovery::v1::EndpointSlice;
use std::net::{Ipv4Addr, Ipv6Addr};

/// How the `kubernetes` plugin answers pod names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PodsMode {
    /// `pods disabled` (the plugin's default): NXDOMAIN.
    Disabled,
    /// `pods insecure` (kubeadm's): the address read from the name.
    Insecure,
    /// `pods verified`: only if such a pod exists in the namespace.
    Verified,
}

/// The `kubernetes` plugin's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubernetesPlugin {
    /// Zones it is authoritative for (absolute, lower case).
    pub zones: Vec<String>,
    /// `pods`.
    pub pods: PodsMode,
    /// `ttl` (default 5).
    pub ttl: u32,
    /// `fallthrough [zones]`: `None` off, `Some(empty)` every zone.
    pub fallthrough: Option<Vec<String>>,
    /// `namespaces` (empty: all are exposed).
    pub namespaces: Vec<String>,
    /// `endpoint_pod_names`.
    pub endpoint_pod_names: bool,
}

/// The parts of a Corefile that change answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Corefile {
    /// The `kubernetes` plugin, if configured.
    pub kubernetes: Option<KubernetesPlugin>,
    /// `forward . TO...`: `None` without a forward plugin; the targets as written
    /// (`/etc/resolv.conf` or addresses).
    pub forward: Option<Vec<String>>,
    /// `log` is on.
    pub log: bool,
    /// `cache [TTL]`: the longest time, in seconds, an answer is kept (3600 without a TTL;
    /// negative answers are capped at 1800 then). `None` without the plugin.
    pub cache: Option<CacheCaps>,
    /// `reload` is on: CoreDNS rereads its Corefile when the file changes.
    pub reload: bool,
}

/// The `cache` plugin's TTL bounds, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheCaps {
    /// Longest TTL of a positive answer.
    pub success: u32,
    /// Longest TTL of NXDOMAIN and NODATA.
    pub denial: u32,
}

impl CacheCaps {
    /// How long the cache keeps `reply` (its `MinimalTTL`, at least 5 s, at most the cap),
    /// or `None` for replies it does not keep here (SERVFAIL, REFUSED, FORMERR).
    pub fn duration(&self, reply: &Message) -> Option<u32> {
        const MIN_TTL: u32 = 5;
        let denial = reply.rcode == Rcode::NxDomain
            || (reply.rcode == Rcode::NoError && reply.answers.is_empty());
        if !matches!(reply.rcode, Rcode::NoError | Rcode::NxDomain) {
            return None;
        }
        let minimal = if denial {
            reply
                .authority
                .iter()
                .find_map(|r| match r.data {
                    RData::Soa { minimum, .. } => Some(minimum.min(r.ttl)),
                    _ => None,
                })
                .unwrap_or(MIN_TTL)
        } else {
            reply
                .answers
                .iter()
                .chain(&reply.authority)
                .chain(&reply.additional)
                .map(|r| r.ttl)
                .min()
                .unwrap_or(MIN_TTL)
        };
        let cap = if denial { self.denial } else { self.success };
        Some(minimal.max(MIN_TTL).min(cap))
    }
}

impl Corefile {
    /// Reads the first server block's plugins.
    pub fn parse(text: &str) -> Corefile {
        let mut out = Corefile {
            kubernetes: None,
            forward: None,
            log: false,
            cache: None,
            reload: false,
        };
        let mut depth = 0usize;
        let mut server_zones: Vec<String> = Vec::new();
        let mut current: Option<String> = None;
        for raw in text.lines() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let opens = line.ends_with('{');
            let words: Vec<&str> = line.trim_end_matches('{').split_whitespace().collect();
            if line == "}" {
                depth = depth.saturating_sub(1);
                if depth <= 1 {
                    current = None;
                }
                continue;
            }
            match depth {
                0 => {
                    server_zones = words
                        .iter()
                        .map(|z| {
                            let z = z.split(':').next().unwrap_or(".");
                            absolute(&z.to_ascii_lowercase())
                        })
                        .collect();
                }
                1 => {
                    let Some((&plugin, args)) = words.split_first() else {
                        continue;
                    };
                    match plugin {
                        "kubernetes" => {
                            let zones = if args.is_empty() {
                                server_zones.clone()
                            } else {
                                args.iter()
                                    .map(|z| absolute(&z.to_ascii_lowercase()))
                                    .collect()
                            };
                            out.kubernetes = Some(KubernetesPlugin {
                                zones,
                                pods: PodsMode::Disabled,
                                ttl: 5,
                                fallthrough: None,
                                namespaces: Vec::new(),
                                endpoint_pod_names: false,
                            });
                        }
                        "forward" => {
                            out.forward =
                                Some(args.iter().skip(1).map(|s| s.to_string()).collect());
                        }
                        "log" => out.log = true,
                        "reload" => out.reload = true,
                        "cache" => {
                            out.cache = Some(match args.first().and_then(|t| t.parse().ok()) {
                                Some(ttl) => CacheCaps {
                                    success: ttl,
                                    denial: ttl,
                                },
                                None => CacheCaps {
                                    success: 3600,
                                    denial: 1800,
                                },
                            });
                        }
                        _ => {}
                    }
                    if opens {
                        current = Some(plugin.to_string());
                    }
                }
                _ => {
                    if current.as_deref() == Some("kubernetes")
                        && let Some(k) = &mut out.kubernetes
                        && let Some((&opt, args)) = words.split_first()
                    {
                        match opt {
                            "pods" => {
                                k.pods = match args.first().copied() {
                                    Some("insecure") => PodsMode::Insecure,
                                    Some("verified") => PodsMode::Verified,
                                    _ => PodsMode::Disabled,
                                }
                            }
                            "ttl" => {
                                if let Some(t) = args.first().and_then(|t| t.parse::<u32>().ok()) {
                                    k.ttl = t.min(3600);
                                }
                            }
                            "fallthrough" => {
                                k.fallthrough = Some(
                                    args.iter()
                                        .map(|z| absolute(&z.to_ascii_lowercase()))
                                        .collect(),
                                )
                            }
                            "namespaces" => {
                                k.namespaces = args.iter().map(|s| s.to_string()).collect()
                            }
                            "endpoint_pod_names" => k.endpoint_pod_names = true,
                            _ => {}
                        }
                    }
                }
            }
            if opens {
                depth += 1;
            }
        }
        out
    }
}

/// What the kubernetes plugin decided.
enum Lookup {
    /// These answer records (and additional records).
    Found(Vec<Record>, Vec<Record>),
    /// The name exists, not with this type.
    NoData,
    /// The name does not exist.
    NxDomain,
}

/// One ready (or any, for PTR) endpoint of a Service.
struct Ep {
    ip: Ipv4Addr,
    name: String,
    ports: Vec<(String, String, u16)>,
}

/// SRV records for a ClusterIP Service's `ports` (priority 0, weight 100 / (ports × cluster
/// IPs), target the Service's name), with its A records as additional data.
fn cluster_ip_srv(
    qname: &str,
    ports: &[u16],
    cluster_ips: &[Ipv4Addr],
    svc_fqdn: &str,
    ttl: u32,
) -> Lookup {
    let rec = |name: &str, data: RData| Record {
        name: name.to_string(),
        ttl,
        data,
    };
    let weight = (100 / (ports.len() * cluster_ips.len().max(1)).max(1)).max(1) as u16;
    let answers = ports
        .iter()
        .map(|port| {
            rec(
                qname,
                RData::Srv {
                    priority: 0,
                    weight,
                    port: *port,
                    target: svc_fqdn.to_string(),
                },
            )
        })
        .collect();
    let extra = cluster_ips
        .iter()
        .map(|ip| rec(svc_fqdn, RData::A(*ip)))
        .collect();
    Lookup::Found(answers, extra)
}

fn ends_with_ci(name: &str, zone: &str) -> bool {
    name.len() >= zone.len()
        && name[name.len() - zone.len()..].eq_ignore_ascii_case(zone)
        && (name.len() == zone.len()
            || zone == "."
            || name.as_bytes()[name.len() - zone.len() - 1] == b'.')
}

/// One answer in a CoreDNS pod's `cache` plugin.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CachedAnswer {
    /// When it was stored (virtual milliseconds since the epoch).
    pub stored_ms: i64,
    /// How long it is kept, in seconds (every record's TTL when stored).
    pub ttl: u32,
    /// The reply as first sent.
    pub reply: Message,
}

/// A CoreDNS pod's cache: answers by lower-case name and type (`name TYPE`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DnsCache {
    /// The entries.
    pub entries: std::collections::BTreeMap<String, CachedAnswer>,
}

impl DnsCache {
    fn key(q: &Message) -> String {
        format!(
            "{} {}",
            q.question.0.to_ascii_lowercase(),
            q.question.1.name()
        )
    }

    /// A hit for `q` at `now_ms`: the stored reply with every TTL set to what is left (whole
    /// seconds, as `item.ttl` truncates) and the AA bit set (CoreDNS sets it on every cached
    /// reply). Nothing once the time is up.
    pub fn get(&self, q: &Message, now_ms: i64) -> Option<Message> {
        let e = self.entries.get(&Self::key(q))?;
        let left = i64::from(e.ttl) - (now_ms - e.stored_ms).div_euclid(1000);
        if left <= 0 {
            return None;
        }
        let mut reply = e.reply.clone();
        reply.id = q.id;
        reply.authoritative = true;
        reply.recursion_desired = q.recursion_desired;
        for r in reply
            .answers
            .iter_mut()
            .chain(reply.authority.iter_mut())
            .chain(reply.additional.iter_mut())
        {
            r.ttl = left as u32;
        }
        Some(reply)
    }

    /// Keeps `reply` to `q` for `ttl` seconds from `now_ms`.
    pub fn put(&mut self, q: &Message, reply: &Message, ttl: u32, now_ms: i64) {
        self.entries.insert(
            Self::key(q),
            CachedAnswer {
                stored_ms: now_ms,
                ttl,
                reply: reply.clone(),
            },
        );
    }

    /// Drops what has expired by `now_ms`.
    pub fn expire(&mut self, now_ms: i64) {
        self.entries
            .retain(|_, e| i64::from(e.ttl) - (now_ms - e.stored_ms).div_euclid(1000) > 0);
    }
}

/// The SHA512 of a Corefile as the `reload` plugin logs it.
pub(crate) fn corefile_digest(text: &str) -> String {
    use sha2::{Digest, Sha512};
    Sha512::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Sim {
    /// The `coredns` ConfigMap's Corefile changed from `old`: the pods keep running `old`
    /// until the kubelet has projected the new file into their volume (on its next pod sync,
    /// within a minute) and the `reload` plugin's next check (every 30 s, up to 15 s of
    /// jitter) sees it. Without `reload` the pods keep `old` until they restart.
    pub(crate) fn corefile_edited(&mut self, old: String) {
        if self.corefile_loaded.is_some() {
            return; // A reload is already on its way; it will pick up this text.
        }
        let reload = Corefile::parse(&old).reload;
        self.corefile_loaded = Some(old);
        if reload {
            let projected = self.rng.below(60_000) as i64;
            let check = 30_000 + self.rng.below(15_000) as i64;
            self.schedule(
                netsim_model::jiff::SignedDuration::from_millis(projected + check),
                crate::queue::Event::CorefileReload,
            );
        }
    }

    /// The `reload` plugin loads the Corefile now in the volume: each CoreDNS pod logs the
    /// reload (with `health`'s lameduck line when configured) and starts with an empty cache.
    pub(crate) fn coredns_reload(&mut self) {
        let Some(old) = self.corefile_loaded.take() else {
            return;
        };
        let new = self.configmap_corefile();
        if old == new {
            return;
        }
        let lameduck = old
            .lines()
            .find_map(|l| l.trim().strip_prefix("lameduck "))
            .map(|d| d.trim().to_string());
        let uids: Vec<String> = self
            .store
            .list_typed::<Pod>(Some("kube-system"))
            .filter(|p| {
                p.metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get("k8s-app"))
                    .is_some_and(|v| v == "kube-dns")
            })
            .filter_map(|p| p.metadata.uid.clone())
            .collect();
        let digest = corefile_digest(&new);
        for uid in uids {
            self.push_app_log(&uid, String::from("[INFO] Reloading").into());
            if let Some(d) = &lameduck {
                self.push_app_log(
                    &uid,
                    format!("[INFO] plugin/health: Going into lameduck mode for {d}").into(),
                );
            }
            self.push_app_log(
                &uid,
                format!("[INFO] plugin/reload: Running configuration SHA512 = {digest}").into(),
            );
            self.push_app_log(&uid, String::from("[INFO] Reloading complete").into());
            self.dns_cache.remove(&uid);
        }
    }

    /// The Corefile CoreDNS runs with: the `Corefile` key of the `coredns` ConfigMap.
    pub fn corefile(&self) -> Corefile {
        Corefile::parse(&self.corefile_text())
    }

    /// The Corefile text the CoreDNS pods run: the `coredns` ConfigMap's, unless an edit has not
    /// been reloaded yet.
    pub fn corefile_text(&self) -> String {
        match &self.corefile_loaded {
            Some(text) => text.clone(),
            None => self.configmap_corefile(),
        }
    }

    /// The `Corefile` key of the `coredns` ConfigMap in kube-system.
    pub(crate) fn configmap_corefile(&self) -> String {
        use netsim_model::k8s_openapi::api::core::v1::ConfigMap;
        self.store
            .typed::<ConfigMap>("kube-system", "coredns")
            .and_then(|cm| cm.data.as_ref()?.get("Corefile").cloned())
            .unwrap_or_default()
    }

    /// CoreDNS's answer to `query` from the kubernetes plugin, or `None` when the name is not
    /// in its zones or falls through (the `forward` plugin's turn).
    pub fn coredns_answer(&self, corefile: &Corefile, query: &Message) -> Option<Message> {
        let k = corefile.kubernetes.as_ref()?;
        let (qname, qtype) = (&query.question.0, query.question.1);
        let zone = k
            .zones
            .iter()
            .filter(|z| ends_with_ci(qname, z))
            .max_by_key(|z| z.len())?
            .clone();
        let zone_in_question = qname[qname.len() - zone.len()..].to_string();
        let rest = qname[..qname.len() - zone.len()].trim_end_matches('.');
        let labels: Vec<String> = if rest.is_empty() {
            Vec::new()
        } else {
            rest.split('.').map(str::to_string).collect()
        };
        let reverse = zone.ends_with("in-addr.arpa.") || zone.ends_with("ip6.arpa.");
        let lookup = if reverse {
            self.reverse_lookup(k, qname, qtype)
        } else {
            self.forward_lookup(k, &zone_in_question, qname, qtype, &labels)
        };
        let mut reply = Message {
            id: query.id,
            response: true,
            authoritative: true,
            recursion_desired: query.recursion_desired,
            recursion_available: false,
            rcode: Rcode::NoError,
            question: query.question.clone(),
            answers: Vec::new(),
            authority: Vec::new(),
            additional: Vec::new(),
        };
        match lookup {
            Lookup::Found(answers, additional) => {
                reply.answers = answers;
                reply.additional = additional;
                self.chase_cname(corefile, &mut reply, qtype);
            }
            Lookup::NoData => reply.authority.push(self.soa(k, &zone_in_question)),
            Lookup::NxDomain => {
                let falls = k
                    .fallthrough
                    .as_ref()
                    .is_some_and(|zs| zs.is_empty() || zs.iter().any(|z| ends_with_ci(qname, z)));
                if falls {
                    return None;
                }
                reply.rcode = Rcode::NxDomain;
                reply.authority.push(self.soa(k, &zone_in_question));
            }
        }
        Some(reply)
    }

    /// An ExternalName's CNAME, followed for A/AAAA/TXT queries: a target inside the plugin's
    /// zones is answered here, one outside through the upstream resolvers; the target's records
    /// follow the CNAME (at most 10 links, no loops).
    fn chase_cname(&self, corefile: &Corefile, reply: &mut Message, qtype: QType) {
        if !matches!(qtype, QType::A | QType::Aaaa | QType::Txt) {
            return;
        }
        let mut seen: Vec<String> = Vec::new();
        for _ in 0..10 {
            let Some(RData::Cname(target)) = reply.answers.last().map(|r| r.data.clone()) else {
                return;
            };
            if seen.contains(&target) {
                return;
            }
            seen.push(target.clone());
            let q = Message::query(reply.id, &target, qtype);
            let next = self
                .coredns_answer(corefile, &q)
                .unwrap_or_else(|| self.upstream_answer(&q));
            if next.answers.is_empty() {
                return;
            }
            reply.answers.extend(next.answers);
        }
    }

    /// The zone's SOA, as negative answers carry it.
    fn soa(&self, k: &KubernetesPlugin, zone: &str) -> Record {
        let serial = self
            .config
            .start_time
            .parse::<netsim_model::jiff::Timestamp>()
            .map(|t| t.as_second() as u32)
            .unwrap_or(0);
        let z = zone.to_ascii_lowercase();
        Record {
            name: zone.to_string(),
            ttl: k.ttl.min(300),
            data: RData::Soa {
                mname: format!("ns.dns.{z}"),
                rname: format!("hostmaster.{z}"),
                serial,
                refresh: 7200,
                retry: 1800,
                expire: 86400,
                minimum: k.ttl,
            },
        }
    }

    fn namespace_exposed(&self, k: &KubernetesPlugin, ns: &str) -> bool {
        let exists = self.store.list_typed::<Namespace>(None).any(|n| {
            n.metadata
                .name
                .as_deref()
                .is_some_and(|m| m.eq_ignore_ascii_case(ns))
        });
        exists
            && (k.namespaces.is_empty() || k.namespaces.iter().any(|n| n.eq_ignore_ascii_case(ns)))
    }

    /// DNS names are case-insensitive and the API server only admits lower-case Service and
    /// Namespace names, so a lower-cased key lookup finds exactly what a case-insensitive
    /// scan would.
    fn find_service(&self, ns: &str, name: &str) -> Option<&Service> {
        self.store
            .typed::<Service>(&ns.to_ascii_lowercase(), &name.to_ascii_lowercase())
    }

    /// The Service's endpoints (ready only, unless `all`), in slice order.
    fn service_endpoints(&self, k: &KubernetesPlugin, svc: &Service, all: bool) -> Vec<Ep> {
        let ns = svc.metadata.namespace.as_deref().unwrap_or("");
        let name = svc.metadata.name.as_deref().unwrap_or("");
        let mut out: Vec<Ep> = Vec::new();
        for slice in self.store.list_typed::<EndpointSlice>(Some(ns)) {
            if slice.address_type != "IPv4" {
                continue;
            }
            let owner = slice
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get("kubernetes.io/service-name"));
            if owner.map(String::as_str) != Some(name) {
                continue;
            }
            let ports: Vec<(String, String, u16)> = slice
                .ports
                .iter()
                .flatten()
                .filter_map(|p| {
                    Some((
                        p.name.clone().unwrap_or_default(),
                        p.protocol.clone().unwrap_or_else(|| "TCP".into()),
                        u16::try_from(p.port?).ok()?,
                    ))
                })
                .collect();
            for e in &slice.endpoints {
                let ready = e.conditions.as_ref().and_then(|c| c.ready) != Some(false);
                if !ready && !all {
                    continue;
                }
                for addr in &e.addresses {
                    let Ok(ip) = addr.parse::<Ipv4Addr>() else {
                        continue;
                    };
                    let pod_name = e
                        .target_ref
                        .as_ref()
                        .filter(|r| r.kind.as_deref() == Some("Pod"))
                        .and_then(|r| r.name.clone())
                        .filter(|n| n.len() < 64);
                    let name = match (&e.hostname, pod_name) {
                        (Some(h), _) if !h.is_empty() => h.clone(),
                        (_, Some(p)) if k.endpoint_pod_names => p,
                        _ => addr.replace('.', "-"),
                    };
                    out.push(Ep {
                        ip,
                        name,
                        ports: ports.clone(),
                    });
                }
            }
        }
        out
    }

    fn forward_lookup(
        &self,
        k: &KubernetesPlugin,
        zone: &str,
        qname: &str,
        qtype: QType,
        labels: &[String],
    ) -> Lookup {
        let ttl = k.ttl;
        let rec = |name: &str, data: RData| Record {
            name: name.to_string(),
            ttl,
            data,
        };
        let n = labels.len();
        if n == 0 {
            return match qtype {
                QType::Soa => Lookup::Found(vec![self.soa(k, zone)], Vec::new()),
                QType::Ns => {
                    let target = format!("kube-dns.kube-system.svc.{zone}");
                    let glue = self
                        .find_service("kube-system", "kube-dns")
                        .and_then(|s| s.spec.as_ref()?.cluster_ip.as_deref()?.parse().ok())
                        .map(|ip| vec![rec(&target, RData::A(ip))])
                        .unwrap_or_default();
                    Lookup::Found(vec![rec(qname, RData::Ns(target))], glue)
                }
                _ => Lookup::NoData,
            };
        }
        if n == 1 && labels[0].eq_ignore_ascii_case("dns-version") {
            return match qtype {
                QType::Txt => Lookup::Found(
                    vec![Record {
                        name: qname.to_string(),
                        ttl: 28800,
                        data: RData::Txt("1.1.0".into()),
                    }],
                    Vec::new(),
                ),
                _ => Lookup::NoData,
            };
        }
        let last = labels[n - 1].to_ascii_lowercase();
        if last != "svc" && last != "pod" {
            return Lookup::NxDomain;
        }
        if n == 1 {
            return Lookup::NoData;
        }
        let ns = &labels[n - 2];
        if last == "pod" {
            if k.pods == PodsMode::Disabled || !self.namespace_exposed(k, ns) {
                return Lookup::NxDomain;
            }
            return match n {
                2 => Lookup::NoData,
                3 => {
                    let label = &labels[0];
                    let ip = if label.matches('-').count() == 3 && !label.contains("--") {
                        label
                            .replace('-', ".")
                            .parse::<Ipv4Addr>()
                            .ok()
                            .map(RData::A)
                    } else {
                        label
                            .replace('-', ":")
                            .parse::<Ipv6Addr>()
                            .ok()
                            .map(RData::Aaaa)
                    };
                    let Some(data) = ip else {
                        return Lookup::NxDomain;
                    };
                    if k.pods == PodsMode::Verified {
                        let want = match &data {
                            RData::A(ip) => ip.to_string(),
                            RData::Aaaa(ip) => ip.to_string(),
                            _ => String::new(),
                        };
                        let exists = self.store.list_typed::<Pod>(Some(ns)).any(|p| {
                            p.status.as_ref().and_then(|s| s.pod_ip.as_deref()) == Some(&want)
                        });
                        if !exists {
                            return Lookup::NxDomain;
                        }
                    }
                    if data.qtype() == qtype {
                        Lookup::Found(vec![rec(qname, data)], Vec::new())
                    } else {
                        Lookup::NoData
                    }
                }
                _ => Lookup::NxDomain,
            };
        }
        // `svc`.
        if !self.namespace_exposed(k, ns) {
            return Lookup::NxDomain;
        }
        if n == 2 {
            return Lookup::NoData;
        }
        let Some(svc) = self.find_service(ns, &labels[n - 3]) else {
            return Lookup::NxDomain;
        };
        let spec = svc.spec.clone().unwrap_or_default();
        let svc_name = svc.metadata.name.clone().unwrap_or_default();
        let svc_ns = svc.metadata.namespace.clone().unwrap_or_default();
        let svc_fqdn = format!("{svc_name}.{svc_ns}.svc.{zone}");
        let external = spec.type_.as_deref() == Some("ExternalName");
        let headless = spec.cluster_ip.as_deref() == Some("None");
        let cluster_ips: Vec<Ipv4Addr> = spec
            .cluster_ips
            .iter()
            .flatten()
            .chain(spec.cluster_ip.iter())
            .filter_map(|ip| ip.parse().ok())
            .fold(Vec::new(), |mut v, ip| {
                if !v.contains(&ip) {
                    v.push(ip);
                }
                v
            });
        match n {
            3 => {
                if external {
                    let target = spec.external_name.clone().unwrap_or_default();
                    if target.parse::<Ipv4Addr>().is_ok() || target.is_empty() {
                        return Lookup::NxDomain;
                    }
                    return match qtype {
                        QType::Srv => Lookup::NoData,
                        _ => Lookup::Found(
                            vec![rec(qname, RData::Cname(absolute(&target)))],
                            Vec::new(),
                        ),
                    };
                }
                if headless {
                    let eps = self.service_endpoints(k, svc, false);
                    if eps.is_empty() {
                        return Lookup::NxDomain;
                    }
                    return match qtype {
                        QType::A => Lookup::Found(
                            eps.iter().map(|e| rec(qname, RData::A(e.ip))).collect(),
                            Vec::new(),
                        ),
                        QType::Srv => {
                            let mut pairs: Vec<(String, u16, Ipv4Addr)> = Vec::new();
                            let total: usize = eps.iter().map(|e| e.ports.len()).sum();
                            for e in &eps {
                                for (_, _, port) in &e.ports {
                                    let target =
                                        format!("{}.{svc_name}.{svc_ns}.svc.{zone}", e.name);
                                    if !pairs.iter().any(|(t, p, _)| *t == target && p == port) {
                                        pairs.push((target, *port, e.ip));
                                    }
                                }
                            }
                            if pairs.is_empty() {
                                return Lookup::NoData;
                            }
                            let weight = (100 / total.max(1)).max(1) as u16;
                            let answers = pairs
                                .iter()
                                .map(|(t, p, _)| {
                                    rec(
                                        qname,
                                        RData::Srv {
                                            priority: 0,
                                            weight,
                                            port: *p,
                                            target: t.clone(),
                                        },
                                    )
                                })
                                .collect();
                            let extra = pairs
                                .iter()
                                .map(|(t, _, ip)| rec(t, RData::A(*ip)))
                                .collect();
                            Lookup::Found(answers, extra)
                        }
                        _ => Lookup::NoData,
                    };
                }
                match qtype {
                    QType::A => Lookup::Found(
                        cluster_ips
                            .iter()
                            .map(|ip| rec(qname, RData::A(*ip)))
                            .collect(),
                        Vec::new(),
                    ),
                    QType::Srv => {
                        let ports: Vec<u16> = spec
                            .ports
                            .iter()
                            .flatten()
                            .filter_map(|p| u16::try_from(p.port).ok())
                            .collect();
                        cluster_ip_srv(qname, &ports, &cluster_ips, &svc_fqdn, ttl)
                    }
                    _ => Lookup::NoData,
                }
            }
            4 => {
                if external {
                    return Lookup::NxDomain;
                }
                let eps: Vec<Ep> = self
                    .service_endpoints(k, svc, false)
                    .into_iter()
                    .filter(|e| e.name.eq_ignore_ascii_case(&labels[0]))
                    .collect();
                if eps.is_empty() {
                    return Lookup::NxDomain;
                }
                match qtype {
                    QType::A => Lookup::Found(
                        eps.iter().map(|e| rec(qname, RData::A(e.ip))).collect(),
                        Vec::new(),
                    ),
                    _ => Lookup::NoData,
                }
            }
            5 => {
                if external {
                    return Lookup::NxDomain;
                }
                let port_name = labels[0].trim_start_matches('_').to_ascii_lowercase();
                let proto = labels[1].trim_start_matches('_').to_ascii_lowercase();
                let ports: Vec<(String, u16)> = spec
                    .ports
                    .iter()
                    .flatten()
                    .filter(|p| {
                        p.name
                            .as_deref()
                            .is_some_and(|n| n.eq_ignore_ascii_case(&port_name))
                            && p.protocol
                                .as_deref()
                                .unwrap_or("TCP")
                                .eq_ignore_ascii_case(&proto)
                    })
                    .filter_map(|p| Some((p.name.clone()?, u16::try_from(p.port).ok()?)))
                    .collect();
                if ports.is_empty() {
                    return Lookup::NxDomain;
                }
                if qtype != QType::Srv {
                    return Lookup::NoData;
                }
                if headless {
                    let eps = self.service_endpoints(k, svc, false);
                    let mut answers = Vec::new();
                    let mut extra = Vec::new();
                    let matching: Vec<(&Ep, u16)> = eps
                        .iter()
                        .flat_map(|e| {
                            e.ports
                                .iter()
                                .filter(|(n, pr, _)| {
                                    n.eq_ignore_ascii_case(&port_name)
                                        && pr.eq_ignore_ascii_case(&proto)
                                })
                                .map(move |(_, _, p)| (e, *p))
                        })
                        .collect();
                    if matching.is_empty() {
                        return Lookup::NxDomain;
                    }
                    let weight = (100 / matching.len()).max(1) as u16;
                    for (e, port) in matching {
                        let target = format!("{}.{svc_name}.{svc_ns}.svc.{zone}", e.name);
                        answers.push(rec(
                            qname,
                            RData::Srv {
                                priority: 0,
                                weight,
                                port,
                                target: target.clone(),
                            },
                        ));
                        extra.push(rec(&target, RData::A(e.ip)));
                    }
                    return Lookup::Found(answers, extra);
                }
                let ports: Vec<u16> = ports.iter().map(|(_, p)| *p).collect();
                cluster_ip_srv(qname, &ports, &cluster_ips, &svc_fqdn, ttl)
            }
            _ => Lookup::NxDomain,
        }
    }

    /// PTR for a ClusterIP, else for endpoint addresses (one per Service, by name).
    fn reverse_lookup(&self, k: &KubernetesPlugin, qname: &str, qtype: QType) -> Lookup {
        let lower = qname.to_ascii_lowercase();
        let Some(octets) = lower.strip_suffix(".in-addr.arpa.") else {
            return Lookup::NxDomain;
        };
        let parts: Vec<&str> = octets.split('.').collect();
        if parts.len() != 4 {
            return Lookup::NxDomain;
        }
        let Ok(ip) =
            format!("{}.{}.{}.{}", parts[3], parts[2], parts[1], parts[0]).parse::<Ipv4Addr>()
        else {
            return Lookup::NxDomain;
        };
        let zone = k
            .zones
            .iter()
            .find(|z| !z.ends_with(".arpa."))
            .cloned()
            .unwrap_or_else(|| "cluster.local.".into());
        let mut targets: Vec<String> = Vec::new();
        for svc in self.store.services_with_cluster_ip(ip) {
            let spec = svc.spec.as_ref();
            let hit = spec.and_then(|s| s.cluster_ip.as_deref()) == Some(&ip.to_string());
            if hit {
                let target = format!(
                    "{}.{}.svc.{zone}",
                    svc.metadata.name.as_deref().unwrap_or(""),
                    svc.metadata.namespace.as_deref().unwrap_or("")
                );
                targets.push(target);
                break;
            }
        }
        if targets.is_empty() {
            for svc in self.store.list_typed::<Service>(None) {
                for e in self.service_endpoints(k, svc, true) {
                    if e.ip != ip {
                        continue;
                    }
                    let target = format!(
                        "{}.{}.{}.svc.{zone}",
                        e.name,
                        svc.metadata.name.as_deref().unwrap_or(""),
                        svc.metadata.namespace.as_deref().unwrap_or("")
                    );
                    if !targets.contains(&target) {
                        targets.push(target);
                    }
                }
            }
        }
        if targets.is_empty() {
            return Lookup::NxDomain;
        }
        if qtype != QType::Ptr {
            return Lookup::NoData;
        }
        Lookup::Found(
            targets
                .into_iter()
                .map(|t| Record {
                    name: qname.to_string(),
                    ttl: k.ttl,
                    data: RData::Ptr(t),
                })
                .collect(),
            Vec::new(),
        )
    }

    /// The upstream resolver outside the cluster (the node network's gateway and anything
    /// beyond it): the cluster document's `upstreamDNS` table, NXDOMAIN otherwise.
    pub fn upstream_answer(&self, query: &Message) -> Message {
        let (qname, qtype) = (&query.question.0, query.question.1);
        let key = qname.trim_end_matches('.').to_ascii_lowercase();
        let hit = self.config.upstream_dns.get(&key).copied();
        let mut reply = Message {
            id: query.id,
            response: true,
            authoritative: false,
            recursion_desired: query.recursion_desired,
            recursion_available: true,
            rcode: Rcode::NoError,
            question: query.question.clone(),
            answers: Vec::new(),
            authority: Vec::new(),
            additional: Vec::new(),
        };
        match (hit, qtype) {
            (Some(ip), QType::A) => reply.answers.push(Record {
                name: qname.clone(),
                ttl: 300,
                data: RData::A(ip),
            }),
            (Some(_), _) => {}
            (None, _) => reply.rcode = Rcode::NxDomain,
        }
        reply
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_kubeadms_corefile() {
        let c = Corefile::parse(&crate::bootstrap::default_corefile("cluster.local"));
        let k = c.kubernetes.expect("kubernetes plugin");
        assert_eq!(k.zones, ["cluster.local.", "in-addr.arpa.", "ip6.arpa."]);
        assert_eq!(k.pods, PodsMode::Insecure);
        assert_eq!(k.ttl, 30);
        assert_eq!(
            k.fallthrough,
            Some(vec!["in-addr.arpa.".to_string(), "ip6.arpa.".to_string()])
        );
        assert_eq!(c.forward, Some(vec!["/etc/resolv.conf".to_string()]));
        assert!(!c.log);
        assert!(c.reload);
        assert_eq!(
            c.cache,
            Some(CacheCaps {
                success: 30,
                denial: 30
            })
        );
    }

    fn reply(rcode: Rcode, answers: Vec<Record>, authority: Vec<Record>) -> Message {
        let mut m = Message::query(7, "x.default.svc.cluster.local.", QType::A);
        m.response = true;
        m.rcode = rcode;
        m.answers = answers;
        m.authority = authority;
        m
    }

    fn a(ttl: u32) -> Record {
        Record {
            name: "x.default.svc.cluster.local.".into(),
            ttl,
            data: RData::A(Ipv4Addr::new(10, 96, 0, 7)),
        }
    }

    fn soa(ttl: u32, minimum: u32) -> Record {
        Record {
            name: "cluster.local.".into(),
            ttl,
            data: RData::Soa {
                mname: "ns.dns.cluster.local.".into(),
                rname: "hostmaster.cluster.local.".into(),
                serial: 1,
                refresh: 7200,
                retry: 1800,
                expire: 86400,
                minimum,
            },
        }
    }

    #[test]
    fn cache_keeps_answers_for_their_minimal_ttl_within_the_caps() {
        let caps = CacheCaps {
            success: 30,
            denial: 20,
        };
        // The smallest record TTL, at least 5 s, at most the cap.
        assert_eq!(
            caps.duration(&reply(Rcode::NoError, vec![a(300), a(12)], vec![])),
            Some(12)
        );
        assert_eq!(
            caps.duration(&reply(Rcode::NoError, vec![a(1)], vec![])),
            Some(5)
        );
        assert_eq!(
            caps.duration(&reply(Rcode::NoError, vec![a(300)], vec![])),
            Some(30)
        );
        // Denials: the SOA's min(TTL, MINIMUM), capped by the denial cap.
        assert_eq!(
            caps.duration(&reply(Rcode::NxDomain, vec![], vec![soa(30, 30)])),
            Some(20)
        );
        assert_eq!(
            caps.duration(&reply(Rcode::NoError, vec![], vec![soa(30, 8)])),
            Some(8)
        );
        assert_eq!(caps.duration(&reply(Rcode::ServFail, vec![], vec![])), None);
    }

    #[test]
    fn cached_answers_count_down_in_whole_seconds_and_expire() {
        let q = Message::query(9, "X.default.svc.cluster.local.", QType::A);
        let mut cache = DnsCache::default();
        let r = reply(Rcode::NoError, vec![a(30)], vec![]);
        cache.put(&q, &r, 30, 1_000_000);
        let hit = cache
            .get(&q, 1_000_999)
            .expect("a hit within the first second");
        assert_eq!(
            (hit.id, hit.answers[0].ttl, hit.authoritative),
            (9, 30, true)
        );
        let later = cache.get(&q, 1_012_500).expect("a hit 12.5 s on");
        assert_eq!(later.answers[0].ttl, 18);
        assert!(cache.get(&q, 1_030_000).is_none(), "gone after 30 s");
        cache.expire(1_030_000);
        assert!(cache.entries.is_empty());
    }
}
