//! CoreDNS situations: each `tests/coredns/*.yaml` (objects, an optional `coredns` ConfigMap,
//! and `# query: NAME TYPE` lines) in, the kubernetes plugin's answers out, one snapshot per
//! file. `{dashed:NS/POD}` and `{reverse:NS/POD}` in a query stand for the pod's address as a
//! pod-name label (`10-244-1-5`) and as a reverse name.

use netsim_engine::{Sim, WriteOptions};
use netsim_manifest::{Item, Source, Validate, parse};
use netsim_model::ClusterConfig;
use netsim_model::dns::{Message, QType, RData, Record, reverse_name};
use netsim_model::jiff::SignedDuration;
use netsim_model::k8s_openapi::api::core::v1::Pod;
use std::fmt::Write;
use std::net::Ipv4Addr;

fn record(r: &Record) -> String {
    let data = match &r.data {
        RData::A(ip) => format!("A\t{ip}"),
        RData::Aaaa(ip) => format!("AAAA\t{ip}"),
        RData::Cname(n) => format!("CNAME\t{n}"),
        RData::Ptr(n) => format!("PTR\t{n}"),
        RData::Ns(n) => format!("NS\t{n}"),
        RData::Srv {
            priority,
            weight,
            port,
            target,
        } => format!("SRV\t{priority} {weight} {port} {target}"),
        RData::Soa {
            mname,
            rname,
            serial,
            refresh,
            retry,
            expire,
            minimum,
        } => format!("SOA\t{mname} {rname} {serial} {refresh} {retry} {expire} {minimum}"),
        RData::Txt(t) => format!("TXT\t\"{t}\""),
    };
    format!("{}\t{}\tIN\t{data}", r.name, r.ttl)
}

fn pod_ip(sim: &Sim, key: &str) -> Ipv4Addr {
    let (ns, name) = key.split_once('/').expect("NS/POD");
    sim.store()
        .typed::<Pod>(ns, name)
        .and_then(|p| p.status.as_ref()?.pod_ip.as_deref()?.parse().ok())
        .unwrap_or_else(|| panic!("pod {key} has an address"))
}

fn expand(sim: &Sim, query: &str) -> String {
    let mut out = query.to_string();
    while let Some(start) = out.find('{') {
        let end = out[start..].find('}').expect("closing brace") + start;
        let (kind, key) = out[start + 1..end].split_once(':').expect("{kind:NS/POD}");
        let ip = pod_ip(sim, key);
        let value = match kind {
            "dashed" => ip.to_string().replace('.', "-"),
            "reverse" => reverse_name(ip).trim_end_matches('.').to_string(),
            other => panic!("unknown placeholder {other}"),
        };
        out.replace_range(start..=end, &value);
    }
    out
}

fn answers_for(path: &std::path::Path) -> String {
    let text = std::fs::read_to_string(path).expect("fixture");
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("fixture");
    let mut sim = Sim::new(ClusterConfig::default()).expect("a cluster");
    for item in parse(&Source { name, text: &text }, Validate::Strict).expect("it parses") {
        let Item::Object(doc) = item else { continue };
        let object = doc.object;
        if sim.store().contains(&object.key()) {
            sim.replace(object, WriteOptions::default())
                .expect("replace");
        } else {
            sim.create(object, WriteOptions::default()).expect("create");
        }
    }
    sim.advance(SignedDuration::from_secs(60));
    let corefile = sim.corefile();
    let mut out = String::new();
    for line in text.lines() {
        let Some(q) = line.strip_prefix("# query: ") else {
            continue;
        };
        let q = expand(&sim, q);
        let (qname, qtype) = q.rsplit_once(' ').expect("NAME TYPE");
        let qtype = QType::parse(qtype).expect("a query type");
        let query = Message::query(1, qname, qtype);
        let _ = writeln!(out, ";; {} {}", query.question.0, qtype.name());
        match sim.coredns_answer(&corefile, &query) {
            None => out.push_str("falls through to forward\n"),
            Some(reply) => {
                let _ = writeln!(
                    out,
                    "{}{}",
                    reply.rcode.name(),
                    if reply.authoritative { " aa" } else { "" }
                );
                for (section, records) in [
                    ("ANSWER", &reply.answers),
                    ("AUTHORITY", &reply.authority),
                    ("ADDITIONAL", &reply.additional),
                ] {
                    for r in records.iter() {
                        let _ = writeln!(out, "{section}\t{}", record(r));
                    }
                }
            }
        }
        out.push('\n');
    }
    out
}

#[test]
fn coredns_situations() {
    insta::glob!("../../../tests/coredns", "*.yaml", |path| {
        insta::assert_snapshot!(answers_for(path));
    });
}
