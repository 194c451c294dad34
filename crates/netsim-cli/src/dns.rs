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

/// dig's version on a kubeadm Ubuntu 22.04 node (bind9-dnsutils).
pub const DIG_VERSION: &str = "9.18.28-0ubuntu0.22.04.1-Ubuntu";

/// `dig [@SERVER] [-p PORT] [-x ADDR] [NAME] [TYPE] [+short] [+noall] [+answer] ...`, from
/// `from` whose resolver configuration is `resolv_text`. dig applies no search list unless
/// `+search`, sends EDNS, and tries a server three times, 5 s each.
pub fn dig(out: &mut Output, sim: &mut Sim, from: NsId, resolv_text: &str, args: &[&str]) {
    use netsim_model::dns::{Message, QType, reverse_name};
    use netsim_print::dig::{DigRun, Sections};
    let conf = ResolvConf::parse(resolv_text);
    let mut server: Option<String> = None;
    let mut port: u16 = 53;
    let mut name: Option<String> = None;
    let mut qtype: Option<QType> = None;
    let mut sections = Sections::default();
    let mut tcp = false;
    let mut search = false;
    let mut i = 0;
    while i < args.len() {
        let a = args[i];
        match a {
            s if s.starts_with('@') => server = Some(s[1..].to_string()),
            "-p" => {
                i += 1;
                port = args.get(i).and_then(|p| p.parse().ok()).unwrap_or(53);
            }
            "-t" => {
                i += 1;
                qtype = args.get(i).and_then(|t| QType::parse(t));
            }
            "-x" => {
                i += 1;
                if let Some(ip) = args.get(i).and_then(|a| a.parse::<Ipv4Addr>().ok()) {
                    name = Some(reverse_name(ip));
                    qtype = Some(QType::Ptr);
                }
            }
            "+short" => sections.short = true,
            "+noall" => {
                sections = Sections {
                    comments: false,
                    question: false,
                    answer: false,
                    authority: false,
                    additional: false,
                    stats: false,
                    short: sections.short,
                }
            }
            "+answer" => sections.answer = true,
            "+noanswer" => sections.answer = false,
            "+question" => sections.question = true,
            "+noquestion" => sections.question = false,
            "+authority" => sections.authority = true,
            "+noauthority" => sections.authority = false,
            "+additional" => sections.additional = true,
            "+noadditional" => sections.additional = false,
            "+comments" => sections.comments = true,
            "+nocomments" => sections.comments = false,
            "+stats" => sections.stats = true,
            "+nostats" => sections.stats = false,
            "+tcp" | "+vc" => tcp = true,
            "+search" => search = true,
            flag if flag.starts_with('+') || flag.starts_with('-') => {
                out.errln(format!("Invalid option: {flag}"));
                out.errln("Usage:  dig [@global-server] [domain] [q-type] [q-class] {q-opt}\n            {global-d-opt} host [@local-server] {local-d-opt}\n            [ host [@local-server] {local-d-opt} [...]]\n\nUse \"dig -h\" (or \"dig -h | more\") for complete list of options");
                out.code = 1;
                return;
            }
            word => {
                if name.is_some() && qtype.is_none() && QType::parse(word).is_some() {
                    qtype = QType::parse(word);
                } else if name.is_none() {
                    name = Some(word.to_string());
                } else if let Some(t) = QType::parse(word) {
                    qtype = Some(t);
                }
            }
        }
        i += 1;
    }
    // `dig` with no name asks for the root's NS.
    let name = name.unwrap_or_else(|| ".".into());
    let qtype = qtype.unwrap_or(if name == "." { QType::Ns } else { QType::A });
    let server_ip: Option<Ipv4Addr> = match &server {
        Some(s) => s.parse().ok(),
        None => conf.nameservers.first().copied(),
    };
    let Some(server_ip) = server_ip else {
        out.errln(format!(
            "dig: couldn't get address for '{}': not found",
            server.unwrap_or_default()
        ));
        out.code = 10;
        return;
    };
    if port != 53 {
        out.hint("the simulated servers answer DNS on port 53 only");
    }
    let mut dp = sim.dataplane();
    let candidates: Vec<String> = if search {
        netsim_engine::resolver::candidates(Libc::Glibc, &conf, &name)
    } else {
        vec![netsim_model::dns::absolute(&name)]
    };
    let mut reply: Option<(Message, u64)> = None;
    let mut errors: Vec<String> = Vec::new();
    'names: for candidate in candidates {
        for _ in 0..3 {
            let id = dp.random_u16();
            let q = Message::query(id, &candidate, qtype);
            let start = dp.elapsed_ns();
            match dp.dns(from.clone(), server_ip, &q, 5_000_000_000) {
                netsim_engine::dataplane::DnsOutcome::Reply(r) => {
                    let ms = (dp.elapsed_ns() - start) / 1_000_000;
                    let done = r.rcode != netsim_model::dns::Rcode::NxDomain || !search;
                    reply = Some((r, ms));
                    if done {
                        break 'names;
                    }
                    continue 'names;
                }
                netsim_engine::dataplane::DnsOutcome::Refused => {
                    errors.push(format!(
                        ";; communications error to {server_ip}#{port}: connection refused"
                    ));
                }
                netsim_engine::dataplane::DnsOutcome::TimedOut => {
                    errors.push(format!(
                        ";; communications error to {server_ip}#{port}: timed out"
                    ));
                }
            }
        }
    }
    let elapsed = dp.elapsed_ns();
    drop(dp);
    let when = sim.now().strftime("%a %b %d %H:%M:%S UTC %Y").to_string();
    sim.advance(netsim_model::jiff::SignedDuration::from_nanos(
        elapsed as i64,
    ));
    let mut text = String::new();
    for e in &errors {
        text.push_str(e);
        text.push('\n');
    }
    match reply {
        Some((r, ms)) => {
            let run = DigRun {
                args: &args.join(" "),
                version: DIG_VERSION,
                server_given: server.is_some(),
                server: server_ip.to_string(),
                port,
                tcp,
                query_ms: ms,
                when,
                size: crate::dns_serve::wire_size(&r),
            };
            text.push_str(&netsim_print::dig::dig(&r, &run, sections));
            out.out(text);
        }
        None => {
            if !sections.short {
                text.push_str(&format!(
                    "\n; <<>> DiG {DIG_VERSION} <<>> {}\n",
                    args.join(" ")
                ));
                if server.is_some() {
                    text.push_str("; (1 server found)\n");
                }
                text.push_str(";; global options: +cmd\n;; no servers could be reached\n\n");
            }
            out.out(text);
            out.code = 9;
        }
    }
}

/// glibc's `getent hosts NAME...`: `/etc/hosts`, then DNS with the search list, AAAA
/// (`gethostbyname2(AF_INET6)`) before A; one line per name, `%-15s %s`; exit 2 when a name
/// is not found.
pub fn getent_hosts(
    out: &mut Output,
    sim: &mut Sim,
    from: NsId,
    resolv_text: &str,
    hosts: String,
    args: &[&str],
) {
    use netsim_model::dns::QType;
    let Some((&"hosts", names)) = args.split_first() else {
        out.fail("netsim: only `getent hosts NAME` is simulated");
        return;
    };
    let mut dp = sim.dataplane();
    let mut r = Resolver {
        dp: &mut dp,
        from,
        conf: ResolvConf::parse(resolv_text),
        hosts,
        libc: Libc::Glibc,
        log: Vec::new(),
    };
    let mut text = String::new();
    let mut missing = false;
    for name in names {
        let mut found = None;
        for qtype in [QType::Aaaa, QType::A] {
            let before = r.log.len();
            if let Resolved::Found(addrs) = r.lookup_family(name, qtype) {
                // The canonical name: the candidate that answered, or the name itself when
                // /etc/hosts did.
                let canonical = if r.log.len() > before {
                    r.log
                        .last()
                        .map(|(q, _, _)| q.trim_end_matches('.').to_string())
                        .unwrap_or_else(|| name.to_string())
                } else {
                    name.to_string()
                };
                found = addrs.first().map(|a| (a.clone(), canonical));
                break;
            }
        }
        match found {
            Some((addr, canonical)) => text.push_str(&format!("{addr:<15} {canonical}\n")),
            None => missing = true,
        }
    }
    let elapsed = dp.elapsed_ns();
    drop(dp);
    sim.advance(netsim_model::jiff::SignedDuration::from_nanos(
        elapsed as i64,
    ));
    out.out(text);
    if missing {
        out.code = 2;
    }
}
