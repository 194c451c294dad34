//! DNS wire format for `netsim dns serve` and for captures: a query's bytes in, the CoreDNS
//! model's answer out, through `hickory-proto` (name compression, EDNS, truncation).
//!
//! Pure on purpose: no IO and no `crate::` paths, so the fuzz crate can include this file as it
//! is (`fuzz/fuzz_targets/dns_wire.rs`) and feed [`answer_wire`] arbitrary bytes.

use hickory_proto::op::{Edns, Message as Wire, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, CNAME, NS, PTR, SOA, SRV, TXT};
use hickory_proto::rr::{DNSClass, Name, RData as WireData, Record as WireRecord, RecordType};
use netsim_engine::Sim;
use netsim_model::dns::{Message, QType, RData, Rcode, Record};

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
