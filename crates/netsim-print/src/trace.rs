//! `netsim trace`'s hop-by-hop account of a connection, and `conntrack -L`'s lines.
//!
//! The hops come from the data plane; rules are shown as `iptables-save` prints them, looked up
//! by (node, table, chain, index) through `rule_text`, so the trace quotes the very rules the
//! packet traversed.

use netsim_model::conntrack::{CtEntry, Tuple};
use netsim_model::netfilter::{Proto, TableName};
use netsim_model::packet::{Icmp, L4, Packet};
use netsim_model::trace::{Hop, HopKind, NatKind, NsId};
use std::fmt::Write;

/// A namespace as a person names it.
pub fn place(ns: &NsId) -> String {
    match ns {
        NsId::Node(n) => format!("node {n}"),
        NsId::Pod(p) => format!("pod {p}"),
        NsId::External => "outside client".into(),
        NsId::Internet => "the internet (upstream DNS)".into(),
    }
}

/// A packet's headers in tcpdump's style: `TCP 10.244.1.4.41234 > 10.96.0.10.80 [S]`.
pub fn headers(p: &Packet) -> String {
    match &p.l4 {
        L4::Tcp {
            sport,
            dport,
            flags,
        } => format!(
            "TCP {}:{sport} > {}:{dport} [{}]",
            p.src,
            p.dst,
            flags.tcpdump()
        ),
        L4::Udp { sport, dport } => {
            let mut text = format!("UDP {}:{sport} > {}:{dport}", p.src, p.dst);
            if let netsim_model::packet::Payload::Dns(m) = &p.payload {
                text.push(' ');
                text.push_str(&dns_summary(m));
            }
            text
        }
        L4::Icmp(Icmp::EchoRequest { id, seq }) => {
            format!("ICMP {} > {} echo request id {id} seq {seq}", p.src, p.dst)
        }
        L4::Icmp(Icmp::EchoReply { id, seq }) => {
            format!("ICMP {} > {} echo reply id {id} seq {seq}", p.src, p.dst)
        }
        L4::Icmp(Icmp::Unreachable { code, original }) => format!(
            "ICMP {} > {} {} unreachable (about {} {}:{} > {}:{})",
            p.src,
            p.dst,
            if *code == 3 { "port" } else { "host" },
            original.0.as_str(),
            original.1.src,
            original.1.sport,
            original.1.dst,
            original.1.dport
        ),
    }
}

/// A DNS message as tcpdump summarises it: `4660+ A? kubernetes.default.svc.cluster.local.`
/// for a query, `4660* 1/0/0 A 10.96.0.1` for an answer (`*` authoritative, the rcode when not
/// NOERROR, then the answer/authority/additional counts and the first answer).
pub fn dns_summary(m: &netsim_model::dns::Message) -> String {
    use netsim_model::dns::{RData, Rcode};
    if !m.response {
        return format!(
            "{}{} {}? {}",
            m.id,
            if m.recursion_desired { "+" } else { "" },
            m.question.1.name(),
            m.question.0
        );
    }
    let mut s = format!("{}{}", m.id, if m.authoritative { "*" } else { "" });
    if m.rcode != Rcode::NoError {
        s.push(' ');
        s.push_str(m.rcode.name());
    }
    s.push_str(&format!(
        " {}/{}/{}",
        m.answers.len(),
        m.authority.len(),
        m.additional.len()
    ));
    if let Some(first) = m.answers.first() {
        let data = match &first.data {
            RData::A(ip) => format!("A {ip}"),
            RData::Aaaa(ip) => format!("AAAA {ip}"),
            RData::Cname(n) => format!("CNAME {n}"),
            RData::Ptr(n) => format!("PTR {n}"),
            RData::Ns(n) => format!("NS {n}"),
            RData::Srv { port, target, .. } => format!("SRV {target}:{port}"),
            RData::Soa { .. } => "SOA".into(),
            RData::Txt(t) => format!("TXT \"{t}\""),
        };
        s.push(' ');
        s.push_str(&data);
    }
    s
}

fn ms(ns: u64) -> String {
    format!("{:>9.3} ms", ns as f64 / 1e6)
}

/// The hops of one exchange. `rule_text(node, table, chain, index)` gives a rule's text as
/// `iptables-save` prints it (`-A CHAIN ...`).
pub fn hops(
    hops: &[Hop],
    rule_text: &dyn Fn(&str, TableName, &str, usize) -> Option<String>,
) -> String {
    let mut out = String::new();
    let mut packet_no = usize::MAX;
    let mut last_place = String::new();
    for hop in hops {
        if hop.packet_no != packet_no {
            packet_no = hop.packet_no;
            if !out.is_empty() {
                out.push('\n');
            }
            let _ = writeln!(out, "packet {}: {}", packet_no + 1, headers(&hop.packet));
            last_place.clear();
        }
        let here = place(&hop.ns);
        let who = if here == last_place {
            String::new()
        } else {
            here.clone()
        };
        last_place = here;
        let at = ms(hop.at_ns);
        let line = hop_line(hop, rule_text);
        let _ = writeln!(out, "{at}  {who:<34}  {line}");
    }
    out
}

/// What happened at one hop, in words (the rule's text, the route, the NAT, ...).
pub fn hop_line(
    hop: &Hop,
    rule_text: &dyn Fn(&str, TableName, &str, usize) -> Option<String>,
) -> String {
    match &hop.kind {
        HopKind::Sent => format!("sent by a socket: {}", headers(&hop.packet)),
        HopKind::Received { dev } => format!("in {dev}: {}", headers(&hop.packet)),
        HopKind::Route { dst, route: None } => format!("route {dst}: local address"),
        HopKind::Route {
            dst,
            route: Some(r),
        } => format!("route {dst}: {}", crate::iproute2::route_line(r).trim_end()),
        HopKind::Rule {
            table,
            chain,
            index,
        } => {
            let node = match &hop.ns {
                NsId::Node(n) => n.as_str(),
                _ => "",
            };
            let text = rule_text(node, *table, chain, *index)
                .unwrap_or_else(|| format!("-A {chain} (rule {})", index + 1));
            format!("{} {text}", table.as_str())
        }
        HopKind::Policy { table, chain } => {
            format!("{} {chain}: end of chain, policy DROP", table.as_str())
        }
        HopKind::Nat { kind, from, to } => {
            let what = match kind {
                NatKind::Dnat => "DNAT",
                NatKind::Masquerade => "MASQUERADE (source NAT)",
                NatKind::SourcePortClash => "source port remapped (reply tuple taken, no NAT rule)",
                NatKind::UnDnat => "reply: source restored (un-DNAT)",
                NatKind::UnSnat => "reply: destination restored (un-SNAT)",
                NatKind::Tracked => "conntrack: translated like the connection's first packet",
            };
            format!("{what} {}:{} -> {}:{}", from.0, from.1, to.0, to.1)
        }
        HopKind::Conntrack { entry, new } => format!(
            "conntrack {}: {}",
            if *new { "new" } else { "updated" },
            entry_summary(entry)
        ),
        HopKind::Bridge { bridge, from, to } => format!("{bridge}: {from} -> {to}"),
        HopKind::Transmit { dev, next_hop } => format!("out {dev} to next hop {next_hop}"),
        HopKind::Encapsulate {
            src,
            dst,
            vni,
            sport,
        } => format!("VXLAN encapsulation: outer UDP {src}:{sport} > {dst}:8472, VNI {vni}"),
        HopKind::Decapsulate { dev } => format!("VXLAN decapsulation: inner packet on {dev}"),
        HopKind::Proxy { process, decision } => format!("{process}: {decision}"),
        HopKind::Delivered { process } => {
            format!("delivered to {process}: {}", headers(&hop.packet))
        }
        HopKind::Dropped { reason, detail } => {
            format!("DROPPED ({}): {detail}", reason.hubble())
        }
    }
}

/// A packet's headers in full, for one step: IP addresses and TTL, the transport header, what
/// it carries; for VXLAN the outer headers and then the inner packet.
pub fn headers_in_full(p: &Packet) -> String {
    use netsim_model::packet::Payload;
    let carried = match &p.payload {
        Payload::None => String::new(),
        Payload::HttpRequest(b) => format!(", {} bytes of HTTP request", b.len()),
        Payload::HttpResponse(b) => format!(", {} bytes of HTTP response", b.len()),
        Payload::Dns(_) => String::new(),
        Payload::Vxlan(inner) => format!(
            "\n    inner (VXLAN VNI 1): IP ttl {}, {}",
            inner.ttl,
            headers_in_full(inner).trim_start_matches("IP ")
        ),
    };
    let mark = if p.mark != 0 {
        format!(", mark {:#x}", p.mark)
    } else {
        String::new()
    };
    format!("IP ttl {}{mark}, {}{carried}", p.ttl, headers(p))
}

/// The hops one at a time, for `trace --step`: where the packet is, what decided, and its
/// headers as they are at that point.
pub fn steps(
    hops: &[Hop],
    rule_text: &dyn Fn(&str, TableName, &str, usize) -> Option<String>,
) -> Vec<String> {
    let total = hops.len();
    hops.iter()
        .enumerate()
        .map(|(i, hop)| {
            format!(
                "step {} of {total} | packet {} | {} | {}\n  {}\n  headers now: {}\n",
                i + 1,
                hop.packet_no + 1,
                ms(hop.at_ns).trim(),
                place(&hop.ns),
                hop_line(hop, rule_text),
                headers_in_full(&hop.packet)
            )
        })
        .collect()
}

fn tuple_text(proto: Proto, t: &Tuple, reply: bool) -> String {
    match proto {
        Proto::Icmp => format!(
            "src={} dst={} type={} code=0 id={}",
            t.src,
            t.dst,
            if reply { 0 } else { 8 },
            t.sport.max(t.dport)
        ),
        _ => format!(
            "src={} dst={} sport={} dport={}",
            t.src, t.dst, t.sport, t.dport
        ),
    }
}

fn entry_summary(e: &CtEntry) -> String {
    let mut s = String::new();
    if let Some(state) = e.tcp_state {
        s.push_str(state.as_str());
        s.push(' ');
    }
    let _ = write!(
        s,
        "{}  reply {}",
        tuple_text(e.proto, &e.orig, false),
        tuple_text(e.proto, &e.reply, true)
    );
    s
}

/// One `conntrack -L` line (conntrack-tools 1.4): protocol padded to 8, its number, the
/// seconds left, the TCP state, both tuples, the flags, `mark=0 use=1`.
pub fn conntrack_line(e: &CtEntry, now_ms: i64) -> String {
    let number = match e.proto {
        Proto::Tcp => 6,
        Proto::Udp => 17,
        Proto::Sctp => 132,
        Proto::Icmp => 1,
    };
    let left = ((e.expires_ms - now_ms).max(0) + 999) / 1000;
    let mut s = format!("{:<8} {number} {left} ", e.proto.as_str());
    if let Some(state) = e.tcp_state {
        s.push_str(state.as_str());
        s.push(' ');
    }
    s.push_str(&tuple_text(e.proto, &e.orig, false));
    s.push(' ');
    if !e.seen_reply {
        s.push_str("[UNREPLIED] ");
    }
    s.push_str(&tuple_text(e.proto, &e.reply, true));
    s.push(' ');
    if e.assured {
        s.push_str("[ASSURED] ");
    }
    s.push_str("mark=0 use=1");
    s
}

/// One row of a sequence diagram: a packet crossing from one place to another, or a note about
/// what a place did to it.
enum SeqEvent {
    Message {
        from: usize,
        to: usize,
        label: String,
    },
    Note {
        at: usize,
        text: String,
    },
}

/// The places (in order of appearance) and the rows of a trace as a sequence diagram.
fn sequence(hops: &[Hop]) -> (Vec<String>, Vec<SeqEvent>) {
    let mut places: Vec<String> = Vec::new();
    let index = |p: String, places: &mut Vec<String>| match places.iter().position(|x| *x == p) {
        Some(i) => i,
        None => {
            places.push(p);
            places.len() - 1
        }
    };
    let mut events = Vec::new();
    let mut prev: Option<(usize, usize)> = None; // (packet, place)
    for hop in hops {
        let here = index(place(&hop.ns), &mut places);
        if let Some((packet, from)) = prev
            && packet == hop.packet_no
            && from != here
        {
            events.push(SeqEvent::Message {
                from,
                to: here,
                label: headers(&hop.packet),
            });
        }
        match &hop.kind {
            HopKind::Nat { kind, from, to } => {
                let what = match kind {
                    NatKind::Dnat => "DNAT",
                    NatKind::Masquerade => "SNAT",
                    NatKind::SourcePortClash => "source port remap",
                    NatKind::UnDnat => "un-DNAT",
                    NatKind::UnSnat => "un-SNAT",
                    NatKind::Tracked => "conntrack",
                };
                events.push(SeqEvent::Note {
                    at: here,
                    text: format!("{what} {}:{} → {}:{}", from.0, from.1, to.0, to.1),
                });
            }
            HopKind::Encapsulate { dst, .. } => events.push(SeqEvent::Note {
                at: here,
                text: format!("VXLAN to {dst}"),
            }),
            HopKind::Proxy { decision, .. } => events.push(SeqEvent::Note {
                at: here,
                text: decision.clone(),
            }),
            HopKind::Dropped { reason, .. } => events.push(SeqEvent::Note {
                at: here,
                text: format!("DROPPED ({})", reason.hubble()),
            }),
            HopKind::Delivered { process } => events.push(SeqEvent::Note {
                at: here,
                text: format!("to {process}"),
            }),
            _ => {}
        }
        prev = Some((hop.packet_no, here));
    }
    (places, events)
}

/// `trace --format mermaid`: the exchange as a Mermaid sequence diagram.
pub fn sequence_mermaid(hops: &[Hop]) -> String {
    let (places, events) = sequence(hops);
    let mut out = String::from("sequenceDiagram\n");
    for (i, p) in places.iter().enumerate() {
        let _ = writeln!(out, "    participant p{i} as {}", p.replace(';', ","));
    }
    for e in events {
        match e {
            SeqEvent::Message { from, to, label } => {
                let _ = writeln!(out, "    p{from}->>p{to}: {}", label.replace(';', ","));
            }
            SeqEvent::Note { at, text } => {
                let _ = writeln!(out, "    Note over p{at}: {}", text.replace(';', ","));
            }
        }
    }
    out
}

fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `trace --format svg`: the exchange as a self-contained SVG sequence diagram (lifelines,
/// one arrow per crossing, notes for NAT, VXLAN, proxying, delivery and drops), sized for a
/// projector.
pub fn sequence_svg(hops: &[Hop]) -> String {
    let (places, events) = sequence(hops);
    const COL: usize = 420;
    const ROW: usize = 34;
    const TOP: usize = 70;
    let width = COL * places.len().max(1) + 40;
    let height = TOP + ROW * (events.len() + 1) + 40;
    let x = |i: usize| 20 + COL / 2 + i * COL;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"DejaVu Sans Mono, monospace\" font-size=\"14\">\n<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n<defs><marker id=\"arrow\" markerWidth=\"10\" markerHeight=\"8\" refX=\"10\" refY=\"4\" orient=\"auto\"><path d=\"M0,0 L10,4 L0,8 z\" fill=\"#1f4e9c\"/></marker></defs>\n"
    );
    for (i, p) in places.iter().enumerate() {
        let cx = x(i);
        let _ = writeln!(
            out,
            "<rect x=\"{}\" y=\"14\" width=\"{}\" height=\"36\" rx=\"6\" fill=\"#eef3fb\" stroke=\"#1f4e9c\" stroke-width=\"2\"/>\n<text x=\"{cx}\" y=\"37\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">{}</text>\n<line x1=\"{cx}\" y1=\"50\" x2=\"{cx}\" y2=\"{}\" stroke=\"#8899aa\" stroke-width=\"2\" stroke-dasharray=\"6,5\"/>",
            cx - COL / 2 + 10,
            COL - 20,
            xml(&truncate(p, 46)),
            height - 20
        );
    }
    for (row, e) in events.iter().enumerate() {
        let y = TOP + ROW * (row + 1);
        match e {
            SeqEvent::Message { from, to, label } => {
                let (x1, x2) = (x(*from), x(*to));
                let mid = (x1 + x2) / 2;
                let _ = writeln!(
                    out,
                    "<line x1=\"{x1}\" y1=\"{y}\" x2=\"{x2}\" y2=\"{y}\" stroke=\"#1f4e9c\" stroke-width=\"2\" marker-end=\"url(#arrow)\"/>\n<text x=\"{mid}\" y=\"{}\" text-anchor=\"middle\" fill=\"#102a56\">{}</text>",
                    y - 6,
                    xml(&truncate(label, (x1.abs_diff(x2) * 10 / 86).max(24)))
                );
            }
            SeqEvent::Note { at, text } => {
                let cx = x(*at);
                let text = truncate(text, 60);
                let w = text.chars().count() * 8 + 16;
                let fill = if text.starts_with("DROPPED") {
                    "#fde2e1"
                } else {
                    "#fff6d6"
                };
                let _ = writeln!(
                    out,
                    "<rect x=\"{}\" y=\"{}\" width=\"{w}\" height=\"24\" rx=\"4\" fill=\"{fill}\" stroke=\"#b08a00\"/>\n<text x=\"{cx}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                    cx - w / 2,
                    y - 16,
                    y + 1,
                    xml(&text)
                );
            }
        }
    }
    out.push_str("</svg>\n");
    out
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut t: String = text.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}
