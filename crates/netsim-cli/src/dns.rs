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

/// Whether a busybox image's `nslookup` is 1.33 or later (search domains in its own
/// resolver): tags without a version (`latest`, `musl`, `stable`) are.
pub fn busybox_has_search(image: &str) -> bool {
    let tag = image.rsplit_once(':').map_or("latest", |(_, t)| t);
    let mut parts = tag.split(['.', '-']);
    let major: Option<u32> = parts.next().and_then(|p| p.parse().ok());
    let minor: Option<u32> = parts.next().and_then(|p| p.parse().ok());
    match (major, minor) {
        (Some(1), Some(m)) => m >= 33,
        (Some(m), _) => m > 1,
        _ => true,
    }
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

/// The names BIND's tools (`dighost.c`) try for `textname`: an absolute name or one with at
/// least `ndots` dots as it is and nothing else; otherwise each search domain, then the name
/// as it is. Reverse names come absolute.
fn bind_candidates(conf: &ResolvConf, textname: &str) -> Vec<String> {
    use netsim_model::dns::absolute;
    let dots = textname.matches('.').count();
    if textname.ends_with('.') || dots >= conf.ndots.max(1) && !textname.is_empty() {
        return vec![absolute(textname)];
    }
    let mut out: Vec<String> = conf
        .search
        .iter()
        .map(|d| absolute(&format!("{textname}.{}", d.trim_end_matches('.'))))
        .collect();
    out.push(absolute(textname));
    out
}

/// One BIND lookup: the candidates in order, moving on only after NXDOMAIN (as `dighost.c`'s
/// `next_origin`); each query tried `tries` times against each server, 5 s apart.
fn bind_lookup(
    dp: &mut netsim_engine::dataplane::Dataplane<'_>,
    from: &NsId,
    servers: &[Ipv4Addr],
    candidates: Vec<String>,
    textname: &str,
    qtype: netsim_model::dns::QType,
    check_ra: bool,
) -> netsim_print::bind::Answered {
    use netsim_engine::dataplane::DnsOutcome;
    use netsim_model::dns::{Message, Rcode};
    let mut last = netsim_print::bind::Answered {
        qtype,
        textname: textname.to_string(),
        name: candidates.first().cloned().unwrap_or_default(),
        reply: None,
        notes: Vec::new(),
    };
    for name in candidates {
        last.name = name.clone();
        last.reply = None;
        'servers: for (i, &server) in servers.iter().enumerate() {
            for _ in 0..3 {
                let q = Message::query(dp.random_u16(), &name, qtype);
                match dp.dns(from.clone(), server, &q, 5_000_000_000) {
                    DnsOutcome::Reply(r) => {
                        if check_ra && !r.recursion_available {
                            if i + 1 < servers.len() {
                                last.notes.push(format!(
                                    ";; Got recursion not available from {server}, trying next server"
                                ));
                                continue 'servers;
                            }
                            last.notes
                                .push(format!(";; Got recursion not available from {server}"));
                        }
                        last.reply = Some(r);
                        break 'servers;
                    }
                    DnsOutcome::Refused => continue 'servers,
                    DnsOutcome::TimedOut => {}
                }
            }
        }
        match &last.reply {
            Some(r) if r.rcode == Rcode::NxDomain => continue,
            _ => break,
        }
    }
    last
}

/// The name a CNAME chain in `reply` ends at, starting from `name` (`chase_cnamechain`).
fn chase_cnames(reply: &netsim_model::dns::Message, name: &str) -> String {
    use netsim_model::dns::RData;
    let mut name = name.to_string();
    for _ in 0..reply.answers.len() {
        let next = reply.answers.iter().find_map(|r| match &r.data {
            RData::Cname(target) if r.name.eq_ignore_ascii_case(&name) => Some(target.clone()),
            _ => None,
        });
        match next {
            Some(t) => name = t,
            None => break,
        }
    }
    name
}

/// What BIND's `nslookup` and `host` were asked.
struct BindArgs {
    textname: String,
    qtype: Option<netsim_model::dns::QType>,
    server: Option<String>,
}

/// Runs the lookups of `nslookup` (A, then AAAA of the answer's name) or `host` (A, then AAAA
/// and MX), or the one lookup of an explicit type or a reverse name.
fn bind_run(
    sim: &mut Sim,
    from: NsId,
    conf: &ResolvConf,
    args: &BindArgs,
    follow_ups: &[netsim_model::dns::QType],
    check_ra: bool,
) -> (Vec<netsim_print::bind::Answered>, Vec<Ipv4Addr>) {
    use netsim_model::dns::{QType, Rcode, reverse_name};
    let servers: Vec<Ipv4Addr> = match &args.server {
        Some(s) => s.parse().ok().into_iter().collect(),
        None => conf.nameservers.clone(),
    };
    let mut dp = sim.dataplane();
    let mut answered = Vec::new();
    if let Ok(ip) = args.textname.parse::<Ipv4Addr>() {
        let rev = reverse_name(ip);
        answered.push(bind_lookup(
            &mut dp,
            &from,
            &servers,
            vec![rev.clone()],
            &rev,
            QType::Ptr,
            check_ra,
        ));
    } else {
        let qtype = args.qtype.unwrap_or(QType::A);
        let first = bind_lookup(
            &mut dp,
            &from,
            &servers,
            bind_candidates(conf, &args.textname),
            &args.textname,
            qtype,
            check_ra,
        );
        let follow = args.qtype.is_none()
            && first
                .reply
                .as_ref()
                .is_some_and(|r| r.rcode == Rcode::NoError);
        let chased = first
            .reply
            .as_ref()
            .map(|r| chase_cnames(r, &first.name))
            .unwrap_or_default();
        answered.push(first);
        if follow {
            let textname = chased.trim_end_matches('.').to_string();
            for &t in follow_ups {
                answered.push(bind_lookup(
                    &mut dp,
                    &from,
                    &servers,
                    vec![chased.clone()],
                    &textname,
                    t,
                    check_ra,
                ));
            }
        }
    }
    let elapsed = dp.elapsed_ns();
    drop(dp);
    sim.advance(netsim_model::jiff::SignedDuration::from_nanos(
        elapsed as i64,
    ));
    (answered, servers)
}

/// BIND 9.18's `nslookup [-type=T] NAME [SERVER]` (a node's bind9-dnsutils, DNS tool images).
pub fn bind_nslookup(
    out: &mut Output,
    sim: &mut Sim,
    from: NsId,
    resolv_text: &str,
    args: &[&str],
) {
    use netsim_model::dns::QType;
    let mut conf = ResolvConf::parse(resolv_text);
    let mut parsed = BindArgs {
        textname: String::new(),
        qtype: None,
        server: None,
    };
    let mut have_lookup = false;
    for (i, a) in args.iter().enumerate() {
        if let Some(opt) = a.strip_prefix('-') {
            let lower = opt.to_ascii_lowercase();
            let value = lower.split_once('=').map(|(k, v)| (k.to_string(), v));
            match value {
                Some((k, v))
                    if ["type", "ty", "querytype", "query", "qu", "q"].contains(&k.as_str()) =>
                {
                    match QType::parse(v) {
                        Some(t) => parsed.qtype = Some(t),
                        None => out.out(format!("unknown query type: {}\n", &opt[k.len() + 1..])),
                    }
                }
                Some((k, v)) if k == "ndots" => {
                    if let Ok(n) = v.parse() {
                        conf.ndots = n;
                    }
                }
                Some((k, _)) if k == "port" || k == "po" => {
                    out.hint("the simulated servers answer DNS on port 53 only");
                }
                _ if lower == "nosearch" => conf.search.clear(),
                _ if lower == "search" => {}
                _ => out.out(format!("*** Invalid option: {opt}\n")),
            }
        } else if !have_lookup {
            have_lookup = true;
            parsed.textname = a.to_string();
        } else if i + 1 < args.len() {
            out.errln("Usage:\n   nslookup [-opt ...]             # interactive mode using default server\n   nslookup [-opt ...] - server    # interactive mode using 'server'\n   nslookup [-opt ...] host        # just look up 'host' using default server\n   nslookup [-opt ...] host server # just look up 'host' using 'server'");
            out.code = 1;
            return;
        } else {
            parsed.server = Some(a.to_string());
        }
    }
    if !have_lookup {
        out.fail("netsim: nslookup's interactive mode is not simulated; give a name to look up");
        return;
    }
    if let Some(s) = &parsed.server
        && s.parse::<Ipv4Addr>().is_err()
    {
        out.errln(format!(";; Got SERVFAIL reply from {s}, trying next server\nnslookup: couldn't get address for '{s}': not found"));
        out.code = 1;
        return;
    }
    let default_lookups = parsed.qtype.is_none();
    let (answered, servers) = bind_run(
        sim,
        from,
        &conf,
        &parsed,
        &[QType::Aaaa],
        parsed.server.is_none(),
    );
    let server_text = parsed
        .server
        .clone()
        .or_else(|| servers.first().map(ToString::to_string))
        .unwrap_or_default();
    let address = format!("{server_text}#53");
    let (text, code) =
        netsim_print::bind::nslookup(&server_text, &address, &answered, default_lookups);
    out.out(text);
    out.code = code;
}

/// BIND 9.18's `host [-t TYPE] NAME [SERVER]`.
pub fn bind_host(out: &mut Output, sim: &mut Sim, from: NsId, resolv_text: &str, args: &[&str]) {
    use netsim_model::dns::QType;
    let mut conf = ResolvConf::parse(resolv_text);
    let mut parsed = BindArgs {
        textname: String::new(),
        qtype: None,
        server: None,
    };
    let usage = "Usage: host [-aCdilrTvVw] [-c class] [-N ndots] [-t type] [-W time]\n            [-R number] [-m flag] [-p port] hostname [server]\n       -a is equivalent to -v -t ANY\n       -A is like -a but omits RRSIG, NSEC, NSEC3\n       -c specifies query class for non-IN data\n       -C compares SOA records on authoritative nameservers\n       -d is equivalent to -v\n       -l lists all hosts in a domain, using AXFR\n       -m set memory debugging flag (trace|record|usage)\n       -N changes the number of dots allowed before root lookup is done\n       -p specifies the port on the server to query\n       -r disables recursive processing\n       -R specifies number of retries for UDP packets\n       -s a SERVFAIL response should stop query\n       -t specifies the query type\n       -T enables TCP/IP mode\n       -U enables UDP mode\n       -v enables verbose output\n       -V print version number and exit\n       -w specifies to wait forever for a reply\n       -W specifies how long to wait for a reply\n       -4 use IPv4 query transport only\n       -6 use IPv6 query transport only";
    let mut positional = Vec::new();
    let mut i = 0;
    while i < args.len() {
        match args[i] {
            "-t" => {
                i += 1;
                let Some(t) = args.get(i) else {
                    out.errln(format!("host: option requires an argument -- 't'\n{usage}"));
                    out.code = 1;
                    return;
                };
                match QType::parse(t) {
                    Some(t) => parsed.qtype = Some(t),
                    None => {
                        out.errln(format!("host: invalid type: {t}"));
                        out.code = 1;
                        return;
                    }
                }
            }
            "-N" => {
                i += 1;
                if let Some(n) = args.get(i).and_then(|n| n.parse().ok()) {
                    conf.ndots = n;
                }
            }
            "-p" => {
                i += 1;
                out.hint("the simulated servers answer DNS on port 53 only");
            }
            "-4" | "-T" | "-U" | "-r" | "-s" => {}
            "-V" => {
                out.out(format!("host {}\n", DIG_VERSION));
                return;
            }
            flag if flag.starts_with('-') && flag.len() > 1 => {
                out.fail(format!(
                    "netsim: host {flag} is not simulated; -t, -N and -p are"
                ));
                return;
            }
            word => positional.push(word),
        }
        i += 1;
    }
    match positional.as_slice() {
        [name] => parsed.textname = name.to_string(),
        [name, server] => {
            parsed.textname = name.to_string();
            parsed.server = Some(server.to_string());
        }
        _ => {
            out.errln(usage);
            out.code = 1;
            return;
        }
    }
    if let Some(s) = &parsed.server
        && s.parse::<Ipv4Addr>().is_err()
    {
        out.errln(format!("host: couldn't get address for '{s}': not found"));
        out.code = 1;
        return;
    }
    let default_lookups = parsed.qtype.is_none();
    let (answered, _) = bind_run(sim, from, &conf, &parsed, &[QType::Aaaa, QType::Mx], false);
    let listed = parsed.server.clone().map(|s| {
        let addr = format!("{s}#53");
        (s, addr)
    });
    let (text, code) = netsim_print::bind::host(
        listed.as_ref().map(|(a, b)| (a.as_str(), b.as_str())),
        &answered,
        default_lookups,
    );
    out.out(text);
    out.code = code;
}

/// What busybox's own resolver (`nslookup` since 1.29, `FEATURE_NSLOOKUP_BIG`) prints for one
/// reply's answer records: names without the trailing dot, one line per record.
fn busybox_answers(reply: &netsim_model::dns::Message) -> String {
    use netsim_model::dns::RData;
    let bare = |n: &str| n.trim_end_matches('.').to_string();
    let mut out = String::new();
    if !reply.authoritative {
        out.push_str("Non-authoritative answer:\n");
    }
    for r in &reply.answers {
        let name = bare(&r.name);
        match &r.data {
            RData::A(ip) => out.push_str(&format!("Name:\t{name}\nAddress: {ip}\n")),
            RData::Aaaa(ip) => out.push_str(&format!("Name:\t{name}\nAddress: {ip}\n")),
            RData::Ns(t) => out.push_str(&format!("{name}\tnameserver = {}\n", bare(t))),
            RData::Cname(t) => out.push_str(&format!("{name}\tcanonical name = {}\n", bare(t))),
            RData::Ptr(t) => out.push_str(&format!("{name}\tname = {}\n", bare(t))),
            RData::Txt(t) if !t.is_empty() => {
                out.push_str(&format!("{name}\ttext = \"{t}\"\n"));
            }
            RData::Txt(_) => {}
            RData::Srv {
                priority,
                weight,
                port,
                target,
            } => out.push_str(&format!(
                "{name}\tservice = {priority} {weight} {port} {}\n",
                bare(target)
            )),
            RData::Soa { .. } => out.push_str(&netsim_print::bind::soa_block(&name, &r.data)),
        }
    }
    out
}

/// busybox's `nslookup` since 1.33 (`busybox:latest`, alpine): its own resolver sends every
/// query at once — A then AAAA, each for every search domain when the name has no dot (never
/// the bare name), the name alone when it has one — and prints each reply as it comes, exiting
/// 1 when any reply was an error. Replies come back in the order the queries left here.
pub fn busybox_nslookup(out: &mut Output, sim: &mut Sim, pod: &Pod, banner: &str, args: &[&str]) {
    use netsim_engine::dataplane::DnsOutcome;
    use netsim_model::dns::{Message, QType, Rcode};
    let usage = format!(
        "{banner}\n\nUsage: nslookup [-type=QUERY_TYPE] [-debug] HOST [DNS_SERVER]\n\nQuery DNS about HOST\n\nQUERY_TYPE: soa,ns,a,aaaa,cname,mx,txt,ptr,srv,any"
    );
    let mut types: Vec<QType> = Vec::new();
    let mut rest = args;
    while let Some((first, tail)) = rest.split_first() {
        let Some(opt) = first.strip_prefix('-') else {
            break;
        };
        rest = tail;
        let (key, val) = opt.split_once('=').unwrap_or((opt, ""));
        match key {
            "type" | "querytype" => {
                let order = [
                    "SOA", "NS", "A", "AAAA", "CNAME", "MX", "TXT", "SRV", "PTR", "ANY",
                ];
                match order.iter().find(|t| t.eq_ignore_ascii_case(val)) {
                    Some(t) => types.extend(QType::parse(t)),
                    None => {
                        out.errln(format!("nslookup: invalid query type \"{val}\""));
                        out.code = 1;
                        return;
                    }
                }
            }
            "port" => out.hint("the simulated servers answer DNS on port 53 only"),
            "retry" | "debug" | "t" | "timeout" => {}
            _ => {
                out.errln(&usage);
                out.code = 1;
                return;
            }
        }
    }
    let (name, server) = match rest {
        [name] => (name.to_string(), None),
        [name, server] => (name.to_string(), Some(server.to_string())),
        _ => {
            out.errln(&usage);
            out.code = 1;
            return;
        }
    };
    // With a server on the command line busybox reads no resolv.conf: no search domains.
    let resolv_text = if server.is_some() {
        String::new()
    } else {
        sim.pod_resolv_conf(pod)
    };
    let mut search: Option<String> = None;
    let mut have_search = false;
    let mut servers: Vec<String> = Vec::new();
    for line in resolv_text.lines() {
        let mut words = line.splitn(2, [' ', '\t']);
        let (Some(key), Some(arg)) = (words.next(), words.next()) else {
            continue;
        };
        match key {
            "domain" if !have_search => search = Some(arg.trim().to_string()),
            "search" => {
                have_search = true;
                search = Some(arg.trim().to_string());
            }
            "nameserver" => servers.push(arg.trim().to_string()),
            _ => {}
        }
    }
    if search.as_deref() == Some(".") {
        search = None;
    }
    let servers = match server {
        Some(s) => vec![s],
        None if servers.is_empty() => vec!["127.0.0.1".to_string()],
        None => servers,
    };
    // The queries, in the order they are sent.
    let mut queries: Vec<(QType, String)> = Vec::new();
    let with_search = |t: QType, queries: &mut Vec<(QType, String)>| match &search {
        Some(domains) if t != QType::Ptr && !name.contains('.') => {
            for d in domains.split_whitespace() {
                queries.push((t, format!("{name}.{d}")));
            }
        }
        _ => queries.push((t, name.clone())),
    };
    if types.is_empty() {
        match name.parse::<Ipv4Addr>() {
            Ok(ip) => {
                let rev = netsim_model::dns::reverse_name(ip);
                queries.push((QType::Ptr, rev.trim_end_matches('.').to_string()));
            }
            Err(_) => {
                with_search(QType::A, &mut queries);
                with_search(QType::Aaaa, &mut queries);
            }
        }
    } else {
        for t in types {
            with_search(t, &mut queries);
        }
    }
    let key = format!(
        "{}/{}",
        pod.metadata.namespace.as_deref().unwrap_or(""),
        pod.metadata.name.as_deref().unwrap_or("")
    );
    let mut dp = sim.dataplane();
    let mut text = String::new();
    let mut answered = vec![false; queries.len()];
    let mut failed = false;
    let mut any_reply = false;
    for server in &servers {
        let Ok(ip) = server.parse::<Ipv4Addr>() else {
            continue;
        };
        let mut replies = 0;
        for (i, (t, qname)) in queries.iter().enumerate() {
            // Two sends 2.5 s apart within the 5 s budget.
            for _ in 0..2 {
                let q = Message::query(dp.random_u16(), &netsim_model::dns::absolute(qname), *t);
                match dp.dns(NsId::Pod(key.clone()), ip, &q, 2_500_000_000) {
                    DnsOutcome::Reply(r) => {
                        if replies == 0 {
                            text.push_str(&format!("Server:\t\t{server}\nAddress:\t{ip}:53\n\n"));
                        }
                        replies += 1;
                        answered[i] = true;
                        if r.rcode != Rcode::NoError {
                            text.push_str(&format!(
                                "** server can't find {qname}: {}\n",
                                r.rcode.name()
                            ));
                            failed = true;
                        } else {
                            text.push_str(&busybox_answers(&r));
                        }
                        text.push('\n');
                        break;
                    }
                    DnsOutcome::Refused | DnsOutcome::TimedOut => {}
                }
            }
        }
        if replies > 0 {
            any_reply = true;
            break;
        }
    }
    let elapsed = dp.elapsed_ns();
    drop(dp);
    sim.advance(netsim_model::jiff::SignedDuration::from_nanos(
        elapsed as i64,
    ));
    if !any_reply {
        text.push_str(";; connection timed out; no servers could be reached\n\n");
        out.out(text);
        out.code = 1;
        return;
    }
    let mut missing = false;
    for ((_, qname), done) in queries.iter().zip(&answered) {
        if !done {
            text.push_str(&format!("*** Can't find {qname}: No answer\n"));
            missing = true;
        }
    }
    if missing {
        text.push('\n');
    }
    out.out(text);
    if failed {
        out.code = 1;
        let domain = sim.config().cluster_domain.clone();
        let partial = name.contains('.')
            && !name.ends_with('.')
            && !name.ends_with(&domain)
            && name.parse::<Ipv4Addr>().is_err();
        if partial && search.is_some() {
            out.hint(format!("this busybox's nslookup tries the search domains only for names without a dot; ask for {name}.svc.{domain} (or use busybox:1.28, as the lesson does)"));
        }
    }
}
