//! A network namespace's connection-tracking table, as `conntrack -L` lists it: one entry per
//! connection, with its original and reply tuples (the reply tuple carries any NAT), its TCP
//! state and when it expires. Also the `recent` match's address lists, the other netfilter
//! state that outlives a packet (session affinity).
//!
//! The data plane creates and updates entries; this module holds them and answers lookups. It
//! must never format output nor decide NAT.

use crate::netfilter::Proto;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// One direction of a connection: addresses and ports (ICMP: the echo id as `sport`, 0 as
/// `dport`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Tuple {
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// Source port (ICMP echo id).
    pub sport: u16,
    /// Destination port.
    pub dport: u16,
}

impl Tuple {
    /// The same flow seen from the other end.
    pub fn reversed(self) -> Tuple {
        Tuple {
            src: self.dst,
            dst: self.src,
            sport: self.dport,
            dport: self.sport,
        }
    }
}

/// A TCP connection's state as conntrack names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TcpState {
    /// `SYN_SENT`.
    SynSent,
    /// `SYN_RECV`.
    SynRecv,
    /// `ESTABLISHED`.
    Established,
    /// `TIME_WAIT`.
    TimeWait,
    /// `CLOSE`.
    Close,
}

impl TcpState {
    /// The name `conntrack -L` prints.
    pub fn as_str(self) -> &'static str {
        match self {
            TcpState::SynSent => "SYN_SENT",
            TcpState::SynRecv => "SYN_RECV",
            TcpState::Established => "ESTABLISHED",
            TcpState::TimeWait => "TIME_WAIT",
            TcpState::Close => "CLOSE",
        }
    }

    /// The kernel's default timeout in this state, in seconds.
    pub fn timeout_secs(self) -> i64 {
        match self {
            TcpState::SynSent => 120,
            TcpState::SynRecv => 60,
            TcpState::Established => 432_000,
            TcpState::TimeWait => 120,
            TcpState::Close => 10,
        }
    }
}

/// One tracked connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CtEntry {
    /// Protocol.
    pub proto: Proto,
    /// The first packet's tuple, as it arrived.
    pub orig: Tuple,
    /// The tuple replies carry (after DNAT and SNAT of the original direction).
    pub reply: Tuple,
    /// TCP state (`None` for UDP and ICMP).
    pub tcp_state: Option<TcpState>,
    /// A reply was seen.
    pub seen_reply: bool,
    /// `[ASSURED]`.
    pub assured: bool,
    /// The original destination was rewritten (DNAT).
    pub dnat: bool,
    /// The original source was rewritten (SNAT/MASQUERADE).
    pub snat: bool,
    /// Virtual instant the entry expires, milliseconds since the epoch.
    pub expires_ms: i64,
}

/// Which way a packet goes through a tracked connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Same way as the first packet.
    Original,
    /// The answer.
    Reply,
}

/// A namespace's tracked connections and `recent` lists.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Conntrack {
    /// Entries in creation order.
    entries: Vec<CtEntry>,
    /// `-m recent` lists: list name → source address → last seen (ms since the epoch).
    #[serde(default)]
    pub recent: BTreeMap<String, BTreeMap<Ipv4Addr, i64>>,
    /// Both tuples of every entry → its position: the kernel's hash table. Rebuilt on load.
    #[serde(skip)]
    index: Option<BTreeMap<(Proto, Tuple), (usize, Direction)>>,
    /// The earliest expiry among the entries (nothing to expire before it).
    #[serde(skip)]
    next_expiry: Option<i64>,
}

impl PartialEq for Conntrack {
    fn eq(&self, other: &Conntrack) -> bool {
        self.entries == other.entries && self.recent == other.recent
    }
}

impl Eq for Conntrack {}

impl Conntrack {
    /// The entries, in creation order.
    pub fn entries(&self) -> &[CtEntry] {
        &self.entries
    }

    /// Entry `i`, to update it in place (its tuples must not change; after changing its
    /// expiry, call [`Conntrack::note_expiry`]).
    pub fn entry_mut(&mut self, i: usize) -> &mut CtEntry {
        &mut self.entries[i]
    }

    /// Records that some entry now expires at `expires_ms`, so [`Conntrack::expire`] looks again
    /// by then.
    pub fn note_expiry(&mut self, expires_ms: i64) {
        self.next_expiry = self.next_expiry.map(|n| n.min(expires_ms));
    }

    /// Adds an entry.
    pub fn push(&mut self, entry: CtEntry) {
        let i = self.entries.len();
        if let Some(index) = &mut self.index {
            index.insert((entry.proto, entry.orig), (i, Direction::Original));
            index
                .entry((entry.proto, entry.reply))
                .or_insert((i, Direction::Reply));
        }
        self.next_expiry = Some(
            self.next_expiry
                .map_or(entry.expires_ms, |n| n.min(entry.expires_ms)),
        );
        self.entries.push(entry);
    }

    /// Drops entries that expired before `now_ms`.
    pub fn expire(&mut self, now_ms: i64) {
        if self.next_expiry.is_some_and(|n| n > now_ms) {
            return;
        }
        let before = self.entries.len();
        self.entries.retain(|e| e.expires_ms > now_ms);
        if self.entries.len() != before {
            self.index = None;
        }
        self.next_expiry = Some(
            self.entries
                .iter()
                .map(|e| e.expires_ms)
                .min()
                .unwrap_or(i64::MAX),
        );
    }

    fn index(&mut self) -> &BTreeMap<(Proto, Tuple), (usize, Direction)> {
        self.index.get_or_insert_with(|| {
            let mut index = BTreeMap::new();
            for (i, e) in self.entries.iter().enumerate() {
                index.insert((e.proto, e.orig), (i, Direction::Original));
                index
                    .entry((e.proto, e.reply))
                    .or_insert((i, Direction::Reply));
            }
            index
        })
    }

    /// The entry `tuple` belongs to, and in which direction.
    pub fn lookup(&mut self, proto: Proto, tuple: Tuple) -> Option<(usize, Direction)> {
        self.index().get(&(proto, tuple)).copied()
    }

    /// Whether `tuple` is already used as some entry's reply tuple (a MASQUERADE source port
    /// must not collide).
    pub fn reply_in_use(&mut self, proto: Proto, tuple: Tuple) -> bool {
        self.index()
            .get(&(proto, tuple))
            .is_some_and(|(_, d)| *d == Direction::Reply)
    }

    /// The entry whose connection an ICMP error quoting `quoted` (the packet as it left this
    /// namespace) belongs to.
    pub fn related(&mut self, proto: Proto, quoted: Tuple) -> Option<usize> {
        match self.index().get(&(proto, quoted.reversed())) {
            Some((i, Direction::Reply)) => Some(*i),
            _ => None,
        }
    }
}
