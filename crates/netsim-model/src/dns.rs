//! DNS messages as the data plane carries them: a question, an rcode, the AA flag and the
//! answer, authority and additional sections. Names are absolute (with the trailing dot) and
//! keep the case the client used.
//!
//! CoreDNS's model fills these, the stub resolvers read them, `dig` prints them. This module
//! must never format output nor decide answers.

use serde::{Deserialize, Serialize};
use std::net::{Ipv4Addr, Ipv6Addr};

/// A query type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum QType {
    /// A.
    A,
    /// AAAA.
    Aaaa,
    /// CNAME.
    Cname,
    /// PTR.
    Ptr,
    /// SRV.
    Srv,
    /// SOA.
    Soa,
    /// NS.
    Ns,
    /// TXT.
    Txt,
    /// MX.
    Mx,
    /// ANY and other types netsim answers generically.
    Other(u16),
}

impl QType {
    /// The type's mnemonic (`A`, `AAAA`, `TYPE99`).
    pub fn name(self) -> String {
        match self {
            QType::A => "A".into(),
            QType::Aaaa => "AAAA".into(),
            QType::Cname => "CNAME".into(),
            QType::Ptr => "PTR".into(),
            QType::Srv => "SRV".into(),
            QType::Soa => "SOA".into(),
            QType::Ns => "NS".into(),
            QType::Txt => "TXT".into(),
            QType::Mx => "MX".into(),
            QType::Other(255) => "ANY".into(),
            QType::Other(n) => format!("TYPE{n}"),
        }
    }

    /// The type named `name` (any case).
    pub fn parse(name: &str) -> Option<QType> {
        Some(match name.to_ascii_uppercase().as_str() {
            "A" => QType::A,
            "AAAA" => QType::Aaaa,
            "CNAME" => QType::Cname,
            "PTR" => QType::Ptr,
            "SRV" => QType::Srv,
            "SOA" => QType::Soa,
            "NS" => QType::Ns,
            "TXT" => QType::Txt,
            "MX" => QType::Mx,
            "ANY" => QType::Other(255),
            _ => return None,
        })
    }

    /// The wire type code.
    pub fn code(self) -> u16 {
        match self {
            QType::A => 1,
            QType::Ns => 2,
            QType::Cname => 5,
            QType::Soa => 6,
            QType::Ptr => 12,
            QType::Mx => 15,
            QType::Txt => 16,
            QType::Aaaa => 28,
            QType::Srv => 33,
            QType::Other(n) => n,
        }
    }
}

/// A response code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Rcode {
    /// NOERROR.
    NoError,
    /// FORMERR.
    FormErr,
    /// SERVFAIL.
    ServFail,
    /// NXDOMAIN.
    NxDomain,
    /// REFUSED.
    Refused,
}

impl Rcode {
    /// The name `dig` prints.
    pub fn name(self) -> &'static str {
        match self {
            Rcode::NoError => "NOERROR",
            Rcode::FormErr => "FORMERR",
            Rcode::ServFail => "SERVFAIL",
            Rcode::NxDomain => "NXDOMAIN",
            Rcode::Refused => "REFUSED",
        }
    }

    /// The wire code (`3` for NXDOMAIN).
    pub fn code(self) -> u16 {
        match self {
            Rcode::NoError => 0,
            Rcode::FormErr => 1,
            Rcode::ServFail => 2,
            Rcode::NxDomain => 3,
            Rcode::Refused => 5,
        }
    }
}

/// Record data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RData {
    /// An IPv4 address.
    A(Ipv4Addr),
    /// An IPv6 address.
    Aaaa(Ipv6Addr),
    /// An alias.
    Cname(String),
    /// A reverse name.
    Ptr(String),
    /// A name server.
    Ns(String),
    /// A service location.
    Srv {
        /// Priority.
        priority: u16,
        /// Weight.
        weight: u16,
        /// Port.
        port: u16,
        /// Target.
        target: String,
    },
    /// Start of authority.
    Soa {
        /// Primary name server.
        mname: String,
        /// Mailbox.
        rname: String,
        /// Serial.
        serial: u32,
        /// Refresh.
        refresh: u32,
        /// Retry.
        retry: u32,
        /// Expire.
        expire: u32,
        /// Minimum (negative TTL).
        minimum: u32,
    },
    /// Text.
    Txt(String),
}

impl RData {
    /// The record's type.
    pub fn qtype(&self) -> QType {
        match self {
            RData::A(_) => QType::A,
            RData::Aaaa(_) => QType::Aaaa,
            RData::Cname(_) => QType::Cname,
            RData::Ptr(_) => QType::Ptr,
            RData::Ns(_) => QType::Ns,
            RData::Srv { .. } => QType::Srv,
            RData::Soa { .. } => QType::Soa,
            RData::Txt(_) => QType::Txt,
        }
    }
}

/// One resource record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Owner name, absolute.
    pub name: String,
    /// Time to live, seconds.
    pub ttl: u32,
    /// Data.
    pub data: RData,
}

/// A DNS query or response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Transaction id.
    pub id: u16,
    /// A response (QR).
    pub response: bool,
    /// Authoritative answer (AA).
    pub authoritative: bool,
    /// Recursion desired (RD).
    pub recursion_desired: bool,
    /// Recursion available (RA).
    pub recursion_available: bool,
    /// Response code.
    pub rcode: Rcode,
    /// The question: name (absolute) and type.
    pub question: (String, QType),
    /// Answer section.
    pub answers: Vec<Record>,
    /// Authority section.
    pub authority: Vec<Record>,
    /// Additional section.
    pub additional: Vec<Record>,
}

impl Message {
    /// A query for `name` (made absolute) of type `qtype`, recursion desired.
    pub fn query(id: u16, name: &str, qtype: QType) -> Message {
        Message {
            id,
            response: false,
            authoritative: false,
            recursion_desired: true,
            recursion_available: false,
            rcode: Rcode::NoError,
            question: (absolute(name), qtype),
            answers: Vec::new(),
            authority: Vec::new(),
            additional: Vec::new(),
        }
    }

    /// The size of the message on the wire, without name compression beyond the question
    /// (close enough for packet lengths).
    pub fn wire_len(&self) -> usize {
        let name_len = |n: &str| n.trim_end_matches('.').len() + 2;
        let rr = |r: &Record| {
            name_len(&r.name).min(2)
                + 10
                + match &r.data {
                    RData::A(_) => 4,
                    RData::Aaaa(_) => 16,
                    RData::Cname(n) | RData::Ptr(n) | RData::Ns(n) => name_len(n),
                    RData::Srv { target, .. } => 6 + name_len(target),
                    RData::Soa { mname, rname, .. } => name_len(mname) + name_len(rname) + 20,
                    RData::Txt(t) => t.len() + 1,
                }
        };
        12 + name_len(&self.question.0)
            + 4
            + self
                .answers
                .iter()
                .chain(&self.authority)
                .chain(&self.additional)
                .map(rr)
                .sum::<usize>()
    }
}

/// `name` with a trailing dot.
pub fn absolute(name: &str) -> String {
    if name.ends_with('.') {
        name.to_string()
    } else {
        format!("{name}.")
    }
}

/// The reverse-lookup name of an IPv4 address (`10.0.96.10.in-addr.arpa.`).
pub fn reverse_name(ip: Ipv4Addr) -> String {
    let o = ip.octets();
    format!("{}.{}.{}.{}.in-addr.arpa.", o[3], o[2], o[1], o[0])
}
