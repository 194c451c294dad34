//! `netsim dns serve`: the simulated cluster's DNS on a real socket, so real tools (`dig`,
//! `nslookup`, a browser's resolver) can ask it. Queries over UDP and TCP are answered by the
//! CoreDNS model exactly as a pod asking the kube-dns Service would be (the kubernetes plugin,
//! then `forward` to the upstream model), in DNS wire format through `hickory-proto`: name
//! compression, EDNS, truncation to the client's UDP size. Malformed packets get FORMERR when
//! they carry a header, and are dropped otherwise; nothing a client sends can stop the server.
//!
//! It binds loopback unless told otherwise, answers at most `--rate` queries a second (the rest
//! are dropped, as CoreDNS's `ratelimit` would), and reads the state once: the cluster does not
//! move while it serves.

use crate::output::Output;
use hickory_proto::op::{Edns, Message as Wire, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, CNAME, NS, PTR, SOA, SRV, TXT};
use hickory_proto::rr::{DNSClass, Name, RData as WireData, Record as WireRecord, RecordType};
use netsim_engine::Sim;
use netsim_model::dns::{Message, QType, RData, Rcode, Record};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::time::{Duration, Instant};

/// The largest UDP answer without EDNS (RFC 1035).
const CLASSIC_UDP: usize = 512;

fn to_qtype(t: RecordType) -> QType {
    match t {
        RecordType::A => QType::A,
        RecordType::AAAA => QType::Aaaa,
        RecordType::CNAME => QType::Cname,
        RecordType::PTR => QType::Ptr,
        RecordType::SRV => QType::Srv,
        RecordType::SOA => QType::Soa,
        RecordType::NS => QType::Ns,
        RecordType::TXT => QType::Txt,
        RecordType::MX => QType::Mx,
        other => QType::Other(u16::from(other)),
    }
}

fn name(text: &str) -> Option<Name> {
    Name::from_ascii(text).ok()
}

fn to_wire_record(r: &Record) -> Option<WireRecord> {
    let data = match &r.data {
        RData::A(ip) => WireData::A(A(*ip)),
        RData::Aaaa(ip) => WireData::AAAA(AAAA(*ip)),
        RData::Cname(n) => WireData::CNAME(CNAME(name(n)?)),
        RData::Ptr(n) => WireData::PTR(PTR(name(n)?)),
        RData::Ns(n) => WireData::NS(NS(name(n)?)),
        RData::Srv {
            priority,
            weight,
            port,
            target,
        } => WireData::SRV(SRV::new(*priority, *weight, *port, name(target)?)),
        RData::Soa {
            mname,
            rname,
            serial,
            refresh,
            retry,
            expire,
            minimum,
        } => WireData::SOA(SOA::new(
            name(mname)?,
            name(rname)?,
            *serial,
            *refresh as i32,
            *retry as i32,
            *expire as i32,
            *minimum,
        )),
        RData::Txt(t) => WireData::TXT(TXT::new(vec![t.clone()])),
    };
    Some(WireRecord::from_rdata(name(&r.name)?, r.ttl, data))
}

fn rcode(r: Rcode) -> ResponseCode {
    match r {
        Rcode::NoError => ResponseCode::NoError,
        Rcode::FormErr => ResponseCode::FormErr,
        Rcode::ServFail => ResponseCode::ServFail,
        Rcode::NxDomain => ResponseCode::NXDomain,
        Rcode::Refused => ResponseCode::Refused,
    }
}

/// The answer to one wire-format query, encoded, or `None` to drop it. `udp` limits the size
/// (TC set and sections emptied when the answer does not fit).
pub fn answer_wire(sim: &Sim, packet: &[u8], udp: bool) -> Option<Vec<u8>> {
    let formerr = |id: u16| {
        Wire::error_msg(id, OpCode::Query, ResponseCode::FormErr)
            .to_vec()
            .ok()
    };
    let query = match Wire::from_vec(packet) {
        Ok(q) => q,
        // A header is there: FORMERR with its id; less than a header: drop.
        Err(_) if packet.len() >= 12 => {
            return formerr(u16::from_be_bytes([packet[0], packet[1]]));
        }
        Err(_) => return None,
    };
    if query.message_type() != MessageType::Query {
        return None;
    }
    let id = query.id();
    if query.op_code() != OpCode::Query {
        return Wire::error_msg(id, query.op_code(), ResponseCode::NotImp)
            .to_vec()
            .ok();
    }
    let [q] = query.queries() else {
        return formerr(id);
    };
    let mut reply = Wire::new();
    reply
        .set_id(id)
        .set_message_type(MessageType::Response)
        .set_op_code(OpCode::Query)
        .set_recursion_desired(query.recursion_desired())
        .add_query(q.clone());
    if let Some(edns) = query.extensions().as_ref() {
        let mut ours = Edns::new();
        ours.set_max_payload(edns.max_payload().clamp(512, 4096));
        reply.set_edns(ours);
    }
    if q.query_class() != DNSClass::IN {
        reply.set_response_code(ResponseCode::Refused);
        return reply.to_vec().ok();
    }
    let ours = Message::query(id, &q.name().to_ascii(), to_qtype(q.query_type()));
    let corefile = sim.corefile();
    let answer = match sim.coredns_answer(&corefile, &ours) {
        Some(a) => a,
        None if corefile.forward.is_some() => sim.upstream_answer(&ours),
        None => Message {
            response: true,
            rcode: Rcode::Refused,
            ..ours
        },
    };
    reply
        .set_authoritative(answer.authoritative)
        .set_recursion_available(answer.recursion_available)
        .set_response_code(rcode(answer.rcode));
    for r in &answer.answers {
        reply.add_answer(to_wire_record(r)?);
    }
    for r in &answer.authority {
        reply.add_name_server(to_wire_record(r)?);
    }
    for r in &answer.additional {
        reply.add_additional(to_wire_record(r)?);
    }
    let bytes = reply.to_vec().ok()?;
    let limit = query.extensions().as_ref().map_or(CLASSIC_UDP, |e| {
        usize::from(e.max_payload()).max(CLASSIC_UDP)
    });
    if udp && bytes.len() > limit {
        return reply.truncate().to_vec().ok();
    }
    Some(bytes)
}

/// `netsim dns serve [--listen ADDR:PORT] [--count N] [--rate QPS]`.
pub fn serve(out: &mut Output, sim: &Sim, args: &[String]) {
    let mut listen = "127.0.0.1:5353".to_string();
    let mut count: Option<u64> = None;
    let mut rate: u64 = 1000;
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).cloned();
        match args[i].as_str() {
            "--listen" => listen = value.unwrap_or_default(),
            "--count" => count = value.and_then(|v| v.parse().ok()),
            "--rate" => rate = value.and_then(|v| v.parse().ok()).unwrap_or(rate).max(1),
            other => {
                return out.fail(format!(
                    "error: unknown flag {other:?}\nusage: netsim dns serve [--listen ADDR:PORT] [--count N] [--rate QPS]"
                ));
            }
        }
        i += 2;
    }
    let addr: SocketAddr = match listen.parse() {
        Ok(a) => a,
        Err(_) => return out.fail(format!("error: --listen wants ADDR:PORT, not {listen:?}")),
    };
    let udp = match UdpSocket::bind(addr) {
        Ok(s) => s,
        Err(e) => return out.fail(format!("error: cannot listen on {addr}/udp: {e}")),
    };
    let tcp = match TcpListener::bind(addr) {
        Ok(s) => s,
        Err(e) => return out.fail(format!("error: cannot listen on {addr}/tcp: {e}")),
    };
    let (Ok(()), Ok(())) = (
        udp.set_read_timeout(Some(Duration::from_millis(20))),
        tcp.set_nonblocking(true),
    ) else {
        return out.fail("error: cannot configure the sockets");
    };
    if !addr.ip().is_loopback() {
        out.hint(format!("serving on {addr}, which is not loopback: anything that reaches it can query the cluster"));
    }
    // Announce on stderr at once: a script waits for this line before querying.
    eprintln!("netsim: serving the cluster's DNS on {addr} (UDP and TCP)");
    let mut answered = 0u64;
    let mut window = (Instant::now(), 0u64);
    let mut buf = [0u8; 65535];
    loop {
        if count.is_some_and(|c| answered >= c) {
            break;
        }
        let mut within_rate = || {
            if window.0.elapsed() >= Duration::from_secs(1) {
                window = (Instant::now(), 0);
            }
            window.1 += 1;
            window.1 <= rate
        };
        if let Ok((n, peer)) = udp.recv_from(&mut buf) {
            if within_rate()
                && let Some(reply) = answer_wire(sim, &buf[..n], true)
            {
                let _ = udp.send_to(&reply, peer);
                answered += 1;
            }
            continue;
        }
        if let Ok((mut stream, _)) = tcp.accept() {
            let _ = stream.set_nonblocking(false);
            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
            // One or more length-prefixed queries on the connection.
            let mut len = [0u8; 2];
            while stream.read_exact(&mut len).is_ok() {
                let n = usize::from(u16::from_be_bytes(len));
                let mut msg = vec![0u8; n];
                if stream.read_exact(&mut msg).is_err() {
                    break;
                }
                if !within_rate() {
                    break;
                }
                let Some(reply) = answer_wire(sim, &msg, false) else {
                    break;
                };
                let Ok(len) = u16::try_from(reply.len()) else {
                    break;
                };
                if stream.write_all(&len.to_be_bytes()).is_err()
                    || stream.write_all(&reply).is_err()
                {
                    break;
                }
                answered += 1;
            }
        }
    }
}

/// The size of `reply` on the wire, with the OPT record dig's EDNS query gets back.
pub fn wire_size(reply: &Message) -> usize {
    let Some(qname) = name(&reply.question.0) else {
        return reply.wire_len();
    };
    let mut m = Wire::new();
    m.set_id(reply.id)
        .set_message_type(MessageType::Response)
        .add_query(hickory_proto::op::Query::query(
            qname,
            RecordType::from(reply.question.1.code()),
        ));
    let mut edns = Edns::new();
    edns.set_max_payload(1232);
    m.set_edns(edns);
    for r in &reply.answers {
        if let Some(w) = to_wire_record(r) {
            m.add_answer(w);
        }
    }
    for r in &reply.authority {
        if let Some(w) = to_wire_record(r) {
            m.add_name_server(w);
        }
    }
    for r in &reply.additional {
        if let Some(w) = to_wire_record(r) {
            m.add_additional(w);
        }
    }
    m.to_vec().map_or_else(|_| reply.wire_len(), |b| b.len())
}

/// `m` in wire format (a query or a response, flags as the model has them), for captures.
pub fn encode(m: &Message) -> Option<Vec<u8>> {
    let qname = name(&m.question.0)?;
    let mut w = Wire::new();
    w.set_id(m.id)
        .set_message_type(if m.response {
            MessageType::Response
        } else {
            MessageType::Query
        })
        .set_op_code(OpCode::Query)
        .set_authoritative(m.authoritative)
        .set_recursion_desired(m.recursion_desired)
        .set_recursion_available(m.recursion_available)
        .set_response_code(rcode(m.rcode))
        .add_query(hickory_proto::op::Query::query(
            qname,
            RecordType::from(m.question.1.code()),
        ));
    for r in &m.answers {
        w.add_answer(to_wire_record(r)?);
    }
    for r in &m.authority {
        w.add_name_server(to_wire_record(r)?);
    }
    for r in &m.additional {
        w.add_additional(to_wire_record(r)?);
    }
    w.to_vec().ok()
}
