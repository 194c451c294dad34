//! Synthetic packets, as the data plane routes them: IPv4 headers, a TCP/UDP/ICMP header and what the payload means (an HTTP
//! request or response), with the sizes the real packets would have.

use crate::conntrack::Tuple;
use crate::netfilter::Proto;
use std::net::Ipv4Addr;

/// TCP flags that matter here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpFlags {
    /// SYN.
    pub syn: bool,
    /// ACK.
    pub ack: bool,
    /// RST.
    pub rst: bool,
    /// PSH (data).
    pub psh: bool,
    /// FIN.
    pub fin: bool,
}

impl TcpFlags {
    /// The flags as tcpdump prints them (`S`, `S.`, `P.`, `R.`).
    pub fn tcpdump(self) -> String {
        let mut s = String::new();
        if self.syn {
            s.push('S');
        }
        if self.fin {
            s.push('F');
        }
        if self.rst {
            s.push('R');
        }
        if self.psh {
            s.push('P');
        }
        if self.ack {
            s.push('.');
        }
        s
    }
}

/// The layer-4 header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum L4 {
    /// TCP.
    Tcp {
        /// Source port.
        sport: u16,
        /// Destination port.
        dport: u16,
        /// Flags.
        flags: TcpFlags,
    },
    /// UDP.
    Udp {
        /// Source port.
        sport: u16,
        /// Destination port.
        dport: u16,
    },
    /// ICMP.
    Icmp(Icmp),
}

/// ICMP messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Icmp {
    /// Echo request (type 8).
    EchoRequest {
        /// Identifier.
        id: u16,
        /// Sequence number.
        seq: u16,
    },
    /// Echo reply (type 0).
    EchoReply {
        /// Identifier.
        id: u16,
        /// Sequence number.
        seq: u16,
    },
    /// Destination unreachable (type 3) about `original`'s flow: code 3 is port unreachable
    /// (what `REJECT` sends), 1 host unreachable.
    Unreachable {
        /// ICMP code.
        code: u8,
        /// The offending packet's protocol and tuple, as it left its sender.
        original: (Proto, Tuple),
    },
}

/// What the bytes after the layer-4 header mean.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// Nothing.
    None,
    /// An HTTP request, as sent.
    HttpRequest(std::sync::Arc<[u8]>),
    /// An HTTP response, as sent.
    HttpResponse(std::sync::Arc<[u8]>),
    /// A VXLAN-encapsulated frame: the VXLAN header, the inner Ethernet header and this packet.
    Vxlan(Box<Packet>),
    /// A DNS message.
    Dns(Box<crate::dns::Message>),
}

/// One packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// Time to live.
    pub ttl: u8,
    /// The skb mark (netfilter's `MARK`); cleared whenever the packet changes namespace.
    pub mark: u32,
    /// Layer-4 header.
    pub l4: L4,
    /// Payload.
    pub payload: Payload,
}

impl Packet {
    /// The layer-4 protocol.
    pub fn proto(&self) -> Proto {
        match self.l4 {
            L4::Tcp { .. } => Proto::Tcp,
            L4::Udp { .. } => Proto::Udp,
            L4::Icmp(_) => Proto::Icmp,
        }
    }

    /// Source and destination ports. ICMP echoes have none; the echo id stands in for the
    /// requester's "port" (the request's source, the reply's destination), as conntrack keys
    /// them.
    pub fn ports(&self) -> (u16, u16) {
        match &self.l4 {
            L4::Tcp { sport, dport, .. } | L4::Udp { sport, dport } => (*sport, *dport),
            L4::Icmp(Icmp::EchoRequest { id, .. }) => (*id, 0),
            L4::Icmp(Icmp::EchoReply { id, .. }) => (0, *id),
            L4::Icmp(Icmp::Unreachable { .. }) => (0, 0),
        }
    }

    /// Rewrites the ports (after NAT).
    pub fn set_ports(&mut self, sport: u16, dport: u16) {
        match &mut self.l4 {
            L4::Tcp {
                sport: s, dport: d, ..
            }
            | L4::Udp { sport: s, dport: d } => {
                *s = sport;
                *d = dport;
            }
            L4::Icmp(Icmp::EchoRequest { id, .. }) => *id = sport,
            L4::Icmp(Icmp::EchoReply { id, .. }) => *id = dport,
            L4::Icmp(Icmp::Unreachable { .. }) => {}
        }
    }

    /// The conntrack tuple of this packet.
    pub fn tuple(&self) -> Tuple {
        let (sport, dport) = self.ports();
        Tuple {
            src: self.src,
            dst: self.dst,
            sport,
            dport,
        }
    }

    /// The IPv4 total length: 20 bytes of IP header, the layer-4 header and the payload.
    pub fn len(&self) -> usize {
        let l4 = match &self.l4 {
            // SYNs carry options (MSS, SACK, timestamps, window scale): 40 bytes of header.
            L4::Tcp { flags, .. } if flags.syn => 40,
            L4::Tcp { .. } => 32,
            L4::Udp { .. } => 8,
            L4::Icmp(Icmp::Unreachable { .. }) => 8 + 28,
            L4::Icmp(_) => 8 + 56,
        };
        let payload = match &self.payload {
            Payload::None => 0,
            Payload::HttpRequest(b) | Payload::HttpResponse(b) => b.len(),
            Payload::Vxlan(inner) => 8 + 14 + inner.len(),
            Payload::Dns(m) => m.wire_len(),
        };
        20 + l4 + payload
    }

    /// Whether the packet has no bytes (never: an IPv4 header is always there).
    pub fn is_empty(&self) -> bool {
        false
    }
}
