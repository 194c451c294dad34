//! The DNS clients: busybox 1.28.4's `nslookup` (the lesson's), whose lookups run through the
//! pod's own libc resolver over real packets to the nameserver in its `/etc/resolv.conf`.

use crate::output::Output;
use netsim_engine::Sim;
use netsim_engine::resolver::{Libc, ResolvConf, Resolved, Resolver};
use netsim_model::k8s_openapi::api::core::v1::{Pod, Service};
use netsim_model::trace::NsId;
use std::net::Ipv4Addr;

/// Which libc a busybox image tag is built on (`busybox:1.28.4` is the uClibc variant).
pub fn busybox_libc(image: &str) -> Libc {
    let tag = image.rsplit(':').next().unwrap_or("");
    if tag.ends_with("-musl") {
        Libc::Musl
    } else if tag.ends_with("-glibc") {
        Libc::Glibc
    } else {
        Libc::UClibc
    }
}

/// Whether a busybox image is 1.28 or older (the libc-based `nslookup`).
pub fn busybox_small_nslookup(image: &str) -> bool {
    let tag = image.rsplit_once(':').map_or("latest", |(_, t)| t);
    let mut parts = tag.split(['.', '-']);
    let major: u32 = parts
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or(u32::MAX);
    let minor: u32 = parts
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or(u32::MAX);
    major < 1 || (major == 1 && minor <= 28)
}

/// busybox 1.28.4 `nslookup [HOST] [SERVER]` in `pod`.
pub fn nslookup(out: &mut Output, sim: &mut Sim, pod: &Pod, libc: Libc, args: &[&str]) {
    if args.is_empty() || args.len() > 2 || args[0].starts_with('-') {
        out.errln("BusyBox v1.28.4 (2018-05-22 17:00:17 UTC) multi-call binary.\n\nUsage: nslookup [HOST] [SERVER]\n\nQuery the nameserver for the IP address of the given HOST\noptionally using a specified DNS server");
        out.code = 1;
        return;
    }
    let name = args[0];
    let key = format!(
        "{}/{}",
        pod.metadata.namespace.as_deref().unwrap_or(""),
        pod.metadata.name.as_deref().unwrap_or("")
    );
    let resolv_text = sim.pod_resolv_conf(pod);
    let hosts = sim.pod_etc_hosts(pod);
    let mut conf = ResolvConf::parse(&resolv_text);
    if let Some(server) = args.get(1) {
        match server.parse::<Ipv4Addr>() {
            Ok(ip) => conf.nameservers = vec![ip],
            Err(_) => {
                out.errln(format!("nslookup: bad address '{server}'"));
                out.code = 1;
                return;
            }
        }
    }
    let server = conf.nameservers.first().copied();
    let mut dp = sim.dataplane();
    let mut r = Resolver {
        dp: &mut dp,
        from: NsId::Pod(key),
        conf,
        hosts,
        libc,
        log: Vec::new(),
    };
    let mut text = String::new();
    match server {
        Some(ip) => {
            text.push_str(&format!("{:<10} {ip}\n", "Server:"));
            match r.getnameinfo(ip) {
                Some(rev) => text.push_str(&format!("Address 1: {ip} {rev}\n")),
                None => text.push_str(&format!("Address 1: {ip}\n")),
            }
        }
        None => {
            // No nameserver line: uClibc falls back to 127.0.0.1.
            text.push_str(&format!(
                "{:<10} 127.0.0.1\nAddress 1: 127.0.0.1 localhost\n",
                "Server:"
            ));
        }
    }
    text.push('\n');
    let result = r.getaddrinfo(name);
    let mut failed = false;
    match &result {
        Resolved::Found(addrs) => {
            text.push_str(&format!("{:<10} {name}\n", "Name:"));
            for (i, addr) in addrs.iter().enumerate() {
                let rev = addr
                    .parse::<Ipv4Addr>()
                    .ok()
                    .and_then(|ip| r.getnameinfo(ip));
                match rev {
                    Some(rev) => text.push_str(&format!("Address {}: {addr} {rev}\n", i + 1)),
                    None => text.push_str(&format!("Address {}: {addr}\n", i + 1)),
                }
            }
        }
        Resolved::NotFound | Resolved::Unreachable => failed = true,
    }
    let elapsed = dp.elapsed_ns();
    drop(dp);
    sim.advance(netsim_model::jiff::SignedDuration::from_nanos(
        elapsed as i64,
    ));
    out.out(text);
    if failed {
        out.errln(format!("nslookup: can't resolve '{name}'"));
        out.code = 1;
        if let Some(hint) = failure_hint(sim, pod, name) {
            out.hint(hint);
        }
    }
}

/// Why a lookup the lesson makes fails, when netsim can tell: a pod name written with dots,
/// or a headless Service whose selector matches no pod.
fn failure_hint(sim: &Sim, pod: &Pod, name: &str) -> Option<String> {
    let domain = &sim.config().cluster_domain;
    let lower = name.trim_end_matches('.').to_ascii_lowercase();
    if let Some(prefix) = lower.strip_suffix(&format!(".pod.{domain}")) {
        let labels: Vec<&str> = prefix.split('.').collect();
        if labels.len() == 5 && labels[..4].iter().all(|l| l.parse::<u8>().is_ok()) {
            return Some(format!(
                "pod names use dashes, not dots: {}.{}.pod.{domain}",
                labels[..4].join("-"),
                labels[4]
            ));
        }
    }
    let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
    let first = lower.split('.').next()?;
    let svc = sim.store().typed::<Service>(ns, first)?;
    let spec = svc.spec.as_ref()?;
    let selector = spec.selector.as_ref()?;
    let pods: Vec<&Pod> = sim.store().list_typed::<Pod>(Some(ns)).collect();
    let matched = pods.iter().any(|p| {
        let labels = p.metadata.labels.clone().unwrap_or_default();
        selector.iter().all(|(k, v)| labels.get(k) == Some(v))
    });
    if matched {
        return None;
    }
    let wanted: Vec<String> = selector.iter().map(|(k, v)| format!("{k}={v}")).collect();
    // The closest label any pod has, by edit distance.
    let mut best: Option<(usize, String)> = None;
    for p in &pods {
        for (k, v) in p.metadata.labels.iter().flatten() {
            let have = format!("{k}={v}");
            for want in &wanted {
                let d = edit_distance(want, &have);
                if d <= 3 && best.as_ref().is_none_or(|(bd, _)| d < *bd) {
                    best = Some((d, have.clone()));
                }
            }
        }
    }
    let headless = spec.cluster_ip.as_deref() == Some("None");
    let what = if headless {
        "a headless Service has records only for ready endpoints"
    } else {
        "the Service has no endpoints"
    };
    Some(match best {
        Some((_, near)) => format!(
            "Service {first} selects {} but no pod has that label ({what}); did you mean {near}?",
            wanted.join(",")
        ),
        None => format!(
            "Service {first} selects {} but no pod has that label ({what})",
            wanted.join(",")
        ),
    })
}

/// Levenshtein distance.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}
