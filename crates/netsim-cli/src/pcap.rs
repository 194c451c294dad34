//! `--pcap FILE`: the packets of a traced exchange as a pcapng capture that Wireshark and
//! tshark open. Each place a packet was seen becomes an interface (`k8s-worker1/eth0`,
//! `default/nginx-7c5ddbdf54-2x6qp/eth0`, `k8s-worker1/veth1a2b3c4d`); each sighting a frame
//! with the headers as they were there (after NAT so far, with VXLAN's outer headers on the
//! wire between nodes), its virtual-time timestamp in nanoseconds, real Ethernet, IPv4,
//! TCP (with Linux's options), UDP, ICMP, VXLAN and DNS bytes and valid checksums.
//!
//! MAC addresses are the interfaces' own where the capture point is one of netsim's links; the
//! other end of a frame gets `02:42:` followed by its IPv4 address.

use netsim_model::packet::{Icmp, L4, Packet, Payload, TcpFlags};
use netsim_model::trace::{Hop, HopKind, NsId};
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// Where a frame was seen: the namespace's label and the device.
pub type Point = (String, String);

/// The label of a namespace in interface names.
pub fn ns_label(ns: &NsId) -> String {
    match ns {
        NsId::Node(n) => n.clone(),
        NsId::Pod(key) => key.clone(),
        NsId::External => "outside".into(),
        NsId::Internet => "internet".into(),
    }
}

/// The capture points of `hops`, in first-seen order: where each hop saw its packet on a
/// device (received, transmitted, or crossing a bridge port that is a veth).
pub fn points(hops: &[Hop]) -> Vec<(usize, Point)> {
    let mut out = Vec::new();
    for (i, h) in hops.iter().enumerate() {
        let ns = ns_label(&h.ns);
        let dev = match &h.kind {
            HopKind::Received { dev } | HopKind::Transmit { dev, .. } => Some(dev.clone()),
            HopKind::Bridge { from, to, .. } => [from, to]
                .into_iter()
                .find(|p| p.starts_with("veth"))
                .map(|p| p.split_whitespace().next().unwrap_or(p).to_string()),
            _ => None,
        };
        if let Some(dev) = dev {
            out.push((i, (ns, dev)));
        }
    }
    out
}

fn checksum(data: &[u8], initial: u32) -> u16 {
    let mut sum = initial;
    for chunk in data.chunks(2) {
        let word = u16::from_be_bytes([chunk[0], *chunk.get(1).unwrap_or(&0)]);
        sum += u32::from(word);
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn pseudo(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, len: usize) -> u32 {
    let mut sum = 0u32;
    for pair in src.octets().chunks(2).chain(dst.octets().chunks(2)) {
        sum += u32::from(u16::from_be_bytes([pair[0], pair[1]]));
    }
    sum + u32::from(proto) + len as u32
}

fn derived_mac(ip: Ipv4Addr) -> [u8; 6] {
    let o = ip.octets();
    [0x02, 0x42, o[0], o[1], o[2], o[3]]
}

/// Sequence numbers of the TCP connections in a capture: each packet (by its number in the
/// exchange) gets one (seq, ack), whatever NAT did to it along the way.
struct TcpNumbers {
    by_packet: BTreeMap<usize, (u32, u32)>,
}

impl TcpNumbers {
    fn new(hops: &[Hop]) -> TcpNumbers {
        // Per packet: its first and last sighting.
        let mut first: BTreeMap<usize, &Packet> = BTreeMap::new();
        let mut last: BTreeMap<usize, &Packet> = BTreeMap::new();
        for h in hops {
            first.entry(h.packet_no).or_insert(&h.packet);
            last.insert(h.packet_no, &h.packet);
        }
        // A connection: the SYN as the server saw it; both sides' initial numbers and bytes.
        struct Conn {
            key: (Ipv4Addr, u16, Ipv4Addr, u16),
            isn: (u32, u32),
            sent: (u32, u32),
        }
        let mut conns: Vec<Conn> = Vec::new();
        let mut by_packet = BTreeMap::new();
        for (&no, &p) in &first {
            let L4::Tcp {
                sport,
                dport,
                flags,
            } = p.l4
            else {
                continue;
            };
            let end = last.get(&no).copied().unwrap_or(p);
            let seen = (end.src, end.ports().0, end.dst, end.ports().1);
            if flags.syn && !flags.ack {
                let isn = |a: Ipv4Addr, port: u16| {
                    u32::from(a).wrapping_mul(2_654_435_761) ^ (u32::from(port) << 16) ^ 0x5eed
                };
                conns.push(Conn {
                    key: seen,
                    isn: (isn(p.src, sport), isn(end.dst, dport)),
                    sent: (0, 0),
                });
            }
            let from_client = conns.iter().rposition(|c| c.key == seen);
            let from_server = conns
                .iter()
                .rposition(|c| (p.dst, dport, p.src, sport) == c.key);
            let payload = p.len().saturating_sub(20 + if flags.syn { 40 } else { 32 }) as u32;
            let numbers = match (from_client, from_server) {
                (Some(i), _) => {
                    let c = &mut conns[i];
                    let seq = c.isn.0.wrapping_add(c.sent.0);
                    let ack = if flags.ack {
                        c.isn.1.wrapping_add(c.sent.1)
                    } else {
                        0
                    };
                    c.sent.0 += payload + u32::from(flags.syn || flags.fin);
                    (seq, ack)
                }
                (None, Some(i)) => {
                    let c = &mut conns[i];
                    let seq = c.isn.1.wrapping_add(c.sent.1);
                    let ack = c.isn.0.wrapping_add(c.sent.0);
                    c.sent.1 += payload + u32::from(flags.syn || flags.fin);
                    (seq, ack)
                }
                (None, None) => (0, 0),
            };
            by_packet.insert(no, numbers);
        }
        TcpNumbers { by_packet }
    }
}

/// The IPv4 packet `p` as bytes (`numbers`: TCP seq/ack; `ts`: TCP timestamp value).
fn ip_bytes(p: &Packet, numbers: (u32, u32), id: u16, ts: u32) -> Vec<u8> {
    let (proto, l4) = match &p.l4 {
        L4::Tcp {
            sport,
            dport,
            flags,
        } => (6u8, tcp_bytes(p, *sport, *dport, *flags, numbers, ts)),
        L4::Udp { sport, dport } => (17, udp_bytes(p, *sport, *dport, numbers, id, ts)),
        L4::Icmp(icmp) => (1, icmp_bytes(icmp, id)),
    };
    let total = 20 + l4.len();
    let mut ip = vec![0u8; 20];
    ip[0] = 0x45;
    ip[2..4].copy_from_slice(&(total as u16).to_be_bytes());
    ip[4..6].copy_from_slice(&id.to_be_bytes());
    // Linux sets DF on TCP and ICMP echo; VXLAN's outer UDP leaves it clear.
    if !matches!(p.l4, L4::Udp { .. }) {
        ip[6] = 0x40;
    }
    ip[8] = p.ttl;
    ip[9] = proto;
    ip[12..16].copy_from_slice(&p.src.octets());
    ip[16..20].copy_from_slice(&p.dst.octets());
    let c = checksum(&ip, 0);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    ip.extend(l4);
    ip
}

fn payload_bytes(p: &Packet, numbers: (u32, u32), id: u16, ts: u32) -> Vec<u8> {
    match &p.payload {
        Payload::None => Vec::new(),
        Payload::HttpRequest(b) | Payload::HttpResponse(b) => b.to_vec(),
        Payload::Dns(m) => crate::dns_serve::encode(m).unwrap_or_default(),
        Payload::Vxlan(inner) => {
            // VXLAN header (I flag, VNI 1), the inner Ethernet frame, the inner packet.
            let mut v = vec![0x08, 0, 0, 0, 0, 0, 1, 0];
            v.extend(derived_mac(inner.dst));
            v.extend(derived_mac(inner.src));
            v.extend([0x08, 0x00]);
            v.extend(ip_bytes(inner, numbers, id.wrapping_add(1), ts));
            v
        }
    }
}

fn tcp_bytes(
    p: &Packet,
    sport: u16,
    dport: u16,
    flags: TcpFlags,
    (seq, ack): (u32, u32),
    ts: u32,
) -> Vec<u8> {
    let mut t = Vec::with_capacity(40);
    t.extend(sport.to_be_bytes());
    t.extend(dport.to_be_bytes());
    t.extend(seq.to_be_bytes());
    t.extend(ack.to_be_bytes());
    let header = if flags.syn { 40u8 } else { 32 };
    t.push((header / 4) << 4);
    let mut f = 0u8;
    if flags.fin {
        f |= 0x01;
    }
    if flags.syn {
        f |= 0x02;
    }
    if flags.rst {
        f |= 0x04;
    }
    if flags.psh {
        f |= 0x08;
    }
    if flags.ack {
        f |= 0x10;
    }
    t.push(f);
    let window: u16 = if flags.syn { 64240 } else { 502 };
    t.extend(window.to_be_bytes());
    t.extend([0, 0, 0, 0]); // checksum, urgent pointer
    let ecr = if flags.syn && !flags.ack {
        0
    } else {
        ts.wrapping_sub(1)
    };
    if flags.syn {
        // MSS 1410 (a pod's 1450-byte MTU), SACK permitted, timestamps, NOP, window scale 7.
        t.extend([2, 4, 0x05, 0x82, 4, 2, 8, 10]);
        t.extend(ts.to_be_bytes());
        t.extend(ecr.to_be_bytes());
        t.extend([1, 3, 3, 7]);
    } else {
        t.extend([1, 1, 8, 10]);
        t.extend(ts.to_be_bytes());
        t.extend(ecr.to_be_bytes());
    }
    t.extend(payload_bytes(p, (seq, ack), 0, ts));
    let c = checksum(&t, pseudo(p.src, p.dst, 6, t.len()));
    t[16..18].copy_from_slice(&c.to_be_bytes());
    t
}

fn udp_bytes(p: &Packet, sport: u16, dport: u16, numbers: (u32, u32), id: u16, ts: u32) -> Vec<u8> {
    let payload = payload_bytes(p, numbers, id, ts);
    let len = 8 + payload.len();
    let mut u = Vec::with_capacity(len);
    u.extend(sport.to_be_bytes());
    u.extend(dport.to_be_bytes());
    u.extend((len as u16).to_be_bytes());
    u.extend([0, 0]);
    u.extend(payload);
    // The kernel's VXLAN device sends a zero UDP checksum over IPv4; everything else carries one.
    if !matches!(p.payload, Payload::Vxlan(_)) {
        let c = match checksum(&u, pseudo(p.src, p.dst, 17, len)) {
            0 => 0xffff,
            c => c,
        };
        u[6..8].copy_from_slice(&c.to_be_bytes());
    }
    u
}

fn icmp_bytes(icmp: &Icmp, id: u16) -> Vec<u8> {
    let mut m = match icmp {
        Icmp::EchoRequest { id, seq } | Icmp::EchoReply { id, seq } => {
            let kind = if matches!(icmp, Icmp::EchoRequest { .. }) {
                8
            } else {
                0
            };
            let mut m = vec![kind, 0, 0, 0];
            m.extend(id.to_be_bytes());
            m.extend(seq.to_be_bytes());
            // iputils' 56 bytes of data: 8 of timestamp, then 0x10, 0x11, ...
            m.extend([0u8; 8]);
            m.extend((0x10u8..0x40).take(48));
            m
        }
        Icmp::Unreachable { code, original } => {
            let (proto, tuple) = original;
            let mut m = vec![3, *code, 0, 0, 0, 0, 0, 0];
            // The offending datagram's IP header and first 8 bytes.
            let mut ip = vec![0u8; 20];
            ip[0] = 0x45;
            ip[2..4].copy_from_slice(&28u16.to_be_bytes());
            ip[4..6].copy_from_slice(&id.to_be_bytes());
            ip[8] = 64;
            ip[9] = match proto {
                netsim_model::netfilter::Proto::Tcp => 6,
                netsim_model::netfilter::Proto::Udp => 17,
                _ => 1,
            };
            ip[12..16].copy_from_slice(&tuple.src.octets());
            ip[16..20].copy_from_slice(&tuple.dst.octets());
            let c = checksum(&ip, 0);
            ip[10..12].copy_from_slice(&c.to_be_bytes());
            m.extend(ip);
            m.extend(tuple.sport.to_be_bytes());
            m.extend(tuple.dport.to_be_bytes());
            m.extend([0, 8, 0, 0]);
            m
        }
    };
    let c = checksum(&m, 0);
    m[2..4].copy_from_slice(&c.to_be_bytes());
    m
}

fn block(kind: u32, body: &[u8]) -> Vec<u8> {
    let len = 12 + body.len();
    let mut b = Vec::with_capacity(len);
    b.extend(kind.to_le_bytes());
    b.extend((len as u32).to_le_bytes());
    b.extend(body);
    b.extend((len as u32).to_le_bytes());
    b
}

fn pad4(v: &mut Vec<u8>) {
    while !v.len().is_multiple_of(4) {
        v.push(0);
    }
}

/// The pcapng file of `hops`: `start_ns` is the first hop's instant (nanoseconds since the
/// epoch); `macs` the MAC of each capture point netsim knows.
pub fn pcapng(hops: &[Hop], start_ns: i64, macs: &BTreeMap<Point, [u8; 6]>) -> Vec<u8> {
    let mut out = Vec::new();
    // Section header: byte-order magic, version 1.0, unknown section length.
    let mut shb = Vec::new();
    shb.extend(0x1A2B_3C4Du32.to_le_bytes());
    shb.extend(1u16.to_le_bytes());
    shb.extend(0u16.to_le_bytes());
    shb.extend((-1i64).to_le_bytes());
    out.extend(block(0x0A0D_0D0A, &shb));
    let sightings = points(hops);
    let mut interfaces: Vec<Point> = Vec::new();
    for (_, p) in &sightings {
        if !interfaces.contains(p) {
            interfaces.push(p.clone());
        }
    }
    for (ns, dev) in &interfaces {
        let mut idb = Vec::new();
        idb.extend(1u16.to_le_bytes()); // LINKTYPE_ETHERNET
        idb.extend(0u16.to_le_bytes());
        idb.extend(262_144u32.to_le_bytes());
        let name = format!("{ns}/{dev}");
        idb.extend(2u16.to_le_bytes()); // if_name
        idb.extend((name.len() as u16).to_le_bytes());
        idb.extend(name.as_bytes());
        pad4(&mut idb);
        idb.extend(9u16.to_le_bytes()); // if_tsresol: nanoseconds
        idb.extend(1u16.to_le_bytes());
        idb.extend([9, 0, 0, 0]);
        idb.extend([0, 0, 0, 0]); // opt_endofopt
        out.extend(block(1, &idb));
    }
    let numbers = TcpNumbers::new(hops);
    for (i, point) in sightings {
        let hop = &hops[i];
        let p = &hop.packet;
        let iface = interfaces.iter().position(|x| *x == point).unwrap_or(0) as u32;
        let own = macs.get(&point).copied();
        let (src_mac, dst_mac) = match &hop.kind {
            HopKind::Transmit { next_hop, .. } => {
                (own.unwrap_or(derived_mac(p.src)), derived_mac(*next_hop))
            }
            _ => (derived_mac(p.src), own.unwrap_or(derived_mac(p.dst))),
        };
        let id = 0x4000u16.wrapping_add(hop.packet_no as u16);
        let ts = ((start_ns as u64 + hop.at_ns) / 1_000_000) as u32;
        let tcp = numbers
            .by_packet
            .get(&hop.packet_no)
            .copied()
            .unwrap_or((0, 0));
        let mut frame = Vec::new();
        frame.extend(dst_mac);
        frame.extend(src_mac);
        frame.extend([0x08, 0x00]);
        frame.extend(ip_bytes(p, tcp, id, ts));
        let when = start_ns as u64 + hop.at_ns;
        let mut epb = Vec::new();
        epb.extend(iface.to_le_bytes());
        epb.extend(((when >> 32) as u32).to_le_bytes());
        epb.extend((when as u32).to_le_bytes());
        epb.extend((frame.len() as u32).to_le_bytes());
        epb.extend((frame.len() as u32).to_le_bytes());
        epb.extend(&frame);
        pad4(&mut epb);
        out.extend(block(6, &epb));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::checksum;

    #[test]
    fn internet_checksum_of_a_known_header() {
        // RFC 1071's example header (checksum field zeroed) sums to 0xb861.
        let header = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert_eq!(checksum(&header, 0), 0xb861);
    }
}
