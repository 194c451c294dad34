//! The stub resolvers in the pods' libcs: which names they query, in which order, against
//! which nameservers, and when they stop (`shared/reference/dns.md` §7). uClibc-ng (busybox
//! 1.28.4) ignores `ndots`, tries a dotted name as-is first, stops on NODATA and looks in
//! `/etc/hosts` before DNS; glibc and musl follow `ndots` with their own differences.
//!
//! They read the very `/etc/resolv.conf` and `/etc/hosts` text that `cat` shows, and every
//! query is a packet through the data plane. This module decides queries; it must never
//! format output.

use crate::dataplane::{Dataplane, DnsOutcome};
use netsim_model::dns::{Message, QType, RData, Rcode, absolute, reverse_name};
use netsim_model::trace::NsId;
use std::net::Ipv4Addr;

/// Which C library resolves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Libc {
    /// uClibc-ng (busybox:1.28.4, the default busybox variant).
    UClibc,
    /// musl (Alpine).
    Musl,
    /// glibc (Debian, Ubuntu).
    Glibc,
}

/// What a resolver reads from `/etc/resolv.conf`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvConf {
    /// `nameserver` lines that parse as IPv4 addresses, in order.
    pub nameservers: Vec<Ipv4Addr>,
    /// The last `search` line's domains.
    pub search: Vec<String>,
    /// `options ndots:N` (default 1).
    pub ndots: usize,
    /// `options timeout:N` seconds (default 5).
    pub timeout: u64,
    /// `options attempts:N` (default 2).
    pub attempts: u64,
}

impl ResolvConf {
    /// Reads resolv.conf text the way the libcs do (the last `search` wins).
    pub fn parse(text: &str) -> ResolvConf {
        let mut rc = ResolvConf {
            nameservers: Vec::new(),
            search: Vec::new(),
            ndots: 1,
            timeout: 5,
            attempts: 2,
        };
        for line in text.lines() {
            let mut words = line.split_whitespace();
            match words.next() {
                Some("nameserver") => {
                    if let Some(ip) = words.next().and_then(|w| w.parse().ok()) {
                        rc.nameservers.push(ip);
                    }
                }
                Some("search") | Some("domain") => {
                    rc.search = words.map(|w| w.trim_end_matches('.').to_string()).collect();
                }
                Some("options") => {
                    for opt in words {
                        if let Some(n) = opt.strip_prefix("ndots:") {
                            rc.ndots = n.parse::<usize>().unwrap_or(1).min(15);
                        } else if let Some(n) = opt.strip_prefix("timeout:") {
                            rc.timeout = n.parse().unwrap_or(5).clamp(1, 30);
                        } else if let Some(n) = opt.strip_prefix("attempts:") {
                            rc.attempts = n.parse().unwrap_or(2).clamp(1, 5);
                        }
                    }
                }
                _ => {}
            }
        }
        rc
    }
}

/// The names a libc queries for `name`, in order.
pub fn candidates(libc: Libc, rc: &ResolvConf, name: &str) -> Vec<String> {
    if name.ends_with('.') {
        return vec![name.to_string()];
    }
    let dots = name.matches('.').count();
    let searched = || rc.search.iter().map(|s| format!("{name}.{s}."));
    let as_is = absolute(name);
    match libc {
        Libc::UClibc => {
            if dots > 0 {
                std::iter::once(as_is).chain(searched()).collect()
            } else {
                searched().chain(std::iter::once(as_is)).collect()
            }
        }
        Libc::Musl => {
            if dots >= rc.ndots {
                vec![as_is]
            } else {
                searched().chain(std::iter::once(as_is)).collect()
            }
        }
        Libc::Glibc => {
            if dots >= rc.ndots {
                std::iter::once(as_is).chain(searched()).collect()
            } else {
                searched().chain(std::iter::once(as_is)).collect()
            }
        }
    }
}

/// How one family's lookup ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved {
    /// Addresses found (from the answer's records of the queried type).
    Found(Vec<String>),
    /// The name exists without such records (NODATA) or every candidate was NXDOMAIN.
    NotFound,
    /// No nameserver answered.
    Unreachable,
}

/// The lookups of one command, with their queries recorded.
pub struct Resolver<'d, 's> {
    /// The data plane the queries travel through.
    pub dp: &'d mut Dataplane<'s>,
    /// Where the resolver runs.
    pub from: NsId,
    /// The resolver's configuration.
    pub conf: ResolvConf,
    /// `/etc/hosts` text.
    pub hosts: String,
    /// Which libc.
    pub libc: Libc,
    /// Every query sent and how it ended (qname, qtype, rcode or `None` for no answer).
    pub log: Vec<(String, QType, Option<Rcode>)>,
}

impl Resolver<'_, '_> {
    /// One query against the nameservers, in order, each `attempts` times.
    pub fn query(&mut self, name: &str, qtype: QType) -> Option<Message> {
        let timeout = self.conf.timeout * 1_000_000_000;
        for _ in 0..self.conf.attempts {
            for server in self.conf.nameservers.clone() {
                let id = self.dp.random_u16();
                let q = Message::query(id, name, qtype);
                match self.dp.dns(self.from.clone(), server, &q, timeout) {
                    DnsOutcome::Reply(r) => {
                        self.log.push((absolute(name), qtype, Some(r.rcode)));
                        return Some(r);
                    }
                    DnsOutcome::Refused | DnsOutcome::TimedOut => {}
                }
            }
        }
        self.log.push((absolute(name), qtype, None));
        None
    }

    /// `/etc/hosts` addresses of `name` for the family of `qtype`, and whether the name is
    /// there at all (for any family).
    fn hosts_lookup(&self, name: &str, qtype: QType) -> (Vec<String>, bool) {
        let mut found = Vec::new();
        let mut any = false;
        let bare = name.trim_end_matches('.');
        for line in self.hosts.lines() {
            let line = line.split('#').next().unwrap_or("");
            let mut words = line.split_whitespace();
            let Some(addr) = words.next() else { continue };
            if !words.any(|w| w.eq_ignore_ascii_case(bare)) {
                continue;
            }
            any = true;
            let v4 = addr.parse::<Ipv4Addr>().is_ok();
            if (qtype == QType::A && v4) || (qtype == QType::Aaaa && !v4) {
                found.push(addr.to_string());
            }
        }
        (found, any)
    }

    /// One family's walk over the candidates (`gethostbyname2`).
    pub fn lookup_family(&mut self, name: &str, qtype: QType) -> Resolved {
        let (hosts, in_hosts) = self.hosts_lookup(name, qtype);
        if !hosts.is_empty() {
            return Resolved::Found(hosts);
        }
        // uClibc: a name /etc/hosts knows for the other family only makes no query at all.
        if in_hosts && self.libc == Libc::UClibc {
            return Resolved::NotFound;
        }
        let mut unreachable = true;
        for candidate in candidates(self.libc, &self.conf, name) {
            let Some(reply) = self.query(&candidate, qtype) else {
                continue;
            };
            unreachable = false;
            let found: Vec<String> = reply
                .answers
                .iter()
                .filter_map(|r| match (&r.data, qtype) {
                    (RData::A(ip), QType::A) => Some(ip.to_string()),
                    (RData::Aaaa(ip), QType::Aaaa) => Some(ip.to_string()),
                    _ => None,
                })
                .collect();
            match reply.rcode {
                Rcode::NoError if !found.is_empty() => return Resolved::Found(found),
                // NODATA: uClibc and musl stop; glibc goes on.
                Rcode::NoError if self.libc != Libc::Glibc => return Resolved::NotFound,
                Rcode::NoError | Rcode::NxDomain | Rcode::ServFail => continue,
                _ => return Resolved::NotFound,
            }
        }
        if unreachable {
            Resolved::Unreachable
        } else {
            Resolved::NotFound
        }
    }

    /// `getaddrinfo(name, AF_UNSPEC)` as uClibc runs it: the AAAA walk, then the A walk; IPv6
    /// addresses first.
    pub fn getaddrinfo(&mut self, name: &str) -> Resolved {
        if let Ok(ip) = name.parse::<Ipv4Addr>() {
            return Resolved::Found(vec![ip.to_string()]);
        }
        let v6 = self.lookup_family(name, QType::Aaaa);
        let v4 = self.lookup_family(name, QType::A);
        let mut all = Vec::new();
        for r in [&v6, &v4] {
            if let Resolved::Found(a) = r {
                all.extend(a.iter().cloned());
            }
        }
        if !all.is_empty() {
            Resolved::Found(all)
        } else if v4 == Resolved::Unreachable && v6 == Resolved::Unreachable {
            Resolved::Unreachable
        } else {
            Resolved::NotFound
        }
    }

    /// `getnameinfo(ip, NI_NAMEREQD)`: `/etc/hosts`, then a PTR query (no search list); the
    /// first name, without the trailing dot.
    pub fn getnameinfo(&mut self, ip: Ipv4Addr) -> Option<String> {
        for line in self.hosts.lines() {
            let mut words = line.split('#').next().unwrap_or("").split_whitespace();
            if words.next().and_then(|a| a.parse::<Ipv4Addr>().ok()) == Some(ip)
                && let Some(name) = words.next()
            {
                return Some(name.to_string());
            }
        }
        let reply = self.query(&reverse_name(ip), QType::Ptr)?;
        reply.answers.iter().find_map(|r| match &r.data {
            RData::Ptr(n) => Some(n.trim_end_matches('.').to_string()),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kubelet_conf() -> ResolvConf {
        ResolvConf::parse(
            "nameserver 10.96.0.10\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n",
        )
    }

    /// dns.md §7.4's table.
    #[test]
    fn search_order_per_libc() {
        let rc = kubelet_conf();
        assert_eq!(
            candidates(Libc::UClibc, &rc, "kubernetes.default"),
            [
                "kubernetes.default.",
                "kubernetes.default.default.svc.cluster.local.",
                "kubernetes.default.svc.cluster.local.",
                "kubernetes.default.cluster.local."
            ]
        );
        assert_eq!(
            candidates(Libc::Glibc, &rc, "kubernetes.default")[..2],
            [
                "kubernetes.default.default.svc.cluster.local.",
                "kubernetes.default.svc.cluster.local."
            ]
        );
        assert_eq!(
            candidates(Libc::Glibc, &rc, "kube-dns.kube-system.svc.cluster.local").last(),
            Some(&"kube-dns.kube-system.svc.cluster.local.".to_string())
        );
        assert_eq!(
            candidates(Libc::UClibc, &rc, "kube-dns.kube-system.svc.cluster.local")[0],
            "kube-dns.kube-system.svc.cluster.local."
        );
        assert_eq!(candidates(Libc::Musl, &rc, "a.b.c.d.e.f"), ["a.b.c.d.e.f."]);
        assert_eq!(
            candidates(Libc::Glibc, &rc, "a.b.c.d.e.f")[0],
            "a.b.c.d.e.f."
        );
        assert_eq!(
            candidates(Libc::UClibc, &rc, "kubernetes.default.svc.cluster.local."),
            ["kubernetes.default.svc.cluster.local."]
        );
        assert_eq!(
            candidates(Libc::UClibc, &rc, "kubernetes")[0],
            "kubernetes.default.svc.cluster.local."
        );
        assert_eq!(
            candidates(Libc::UClibc, &rc, "kubernetes").last(),
            Some(&"kubernetes.".to_string())
        );
    }
}
