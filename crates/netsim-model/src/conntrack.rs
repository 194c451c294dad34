//! A network namespace's connection-tracking table, as `conntrack -L` lists it: one entry per
//! connection, with its original and reply tuples (the reply tuple carries any NAT), its TCP
//! state and when it expires. Also the `recent` match's address lists, the other netfilter
//! state that outlives a packet (session affinity).
//!
//! The data plane creates and updates entries; this module holds them and answers lookups. It
//! must never format output nor decide NAT.

use crate::netfilter::Proto;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
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
///
/// Entries are numbered in creation order; the numbers are stable while an entry lives (they
/// are what [`Conntrack::lookup`] returns), so expiring one entry touches only that entry's
/// index slots and expiry slot: a command that sends 100,000 requests pays O(log n) per
/// packet, not a rebuild of the table each time the oldest entry times out.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(from = "ConntrackRepr<Vec<CtEntry>, Recent>")]
pub struct Conntrack {
    /// Entries by creation number.
    entries: BTreeMap<usize, CtEntry>,
    /// The number the next entry gets.
    next: usize,
    /// `-m recent` lists: list name → source address → last seen (ms since the epoch).
    pub recent: Recent,
    /// The lookup structures, built on first use after a load (a command that only prints
    /// never pays for them).
    derived: Option<Derived>,
}

/// What [`Conntrack`] keeps beside its entries to answer quickly.
#[derive(Debug, Clone, Default)]
struct Derived {
    /// Both tuples of every entry → its number and direction: the kernel's hash table. An
    /// original tuple wins over another entry's equal reply tuple.
    index: BTreeMap<(Proto, Tuple), (usize, Direction)>,
    /// (expiry, number) of every entry, earliest first.
    expiries: BTreeSet<(i64, usize)>,
    /// Whether some tuple was ever claimed by two entries at once: then removing one entry
    /// must rebuild the index, so that the other one is found again.
    shadowed: bool,
}

impl Derived {
    fn build(entries: &BTreeMap<usize, CtEntry>) -> Derived {
        let mut d = Derived::default();
        for (&id, e) in entries {
            d.add(id, e);
        }
        d
    }

    fn add(&mut self, id: usize, e: &CtEntry) {
        if let Some((old, _)) = self
            .index
            .insert((e.proto, e.orig), (id, Direction::Original))
            && old != id
        {
            self.shadowed = true;
        }
        match self.index.entry((e.proto, e.reply)) {
            std::collections::btree_map::Entry::Vacant(slot) => {
                slot.insert((id, Direction::Reply));
            }
            std::collections::btree_map::Entry::Occupied(slot) => {
                self.shadowed |= slot.get().0 != id;
            }
        }
        self.expiries.insert((e.expires_ms, id));
    }
}

/// The stored form: the entries as a list in creation order.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConntrackRepr<E, R> {
    entries: E,
    #[serde(default)]
    recent: R,
}

/// The `recent` lists' type.
type Recent = BTreeMap<String, BTreeMap<Ipv4Addr, i64>>;

impl From<ConntrackRepr<Vec<CtEntry>, Recent>> for Conntrack {
    fn from(repr: ConntrackRepr<Vec<CtEntry>, Recent>) -> Conntrack {
        let next = repr.entries.len();
        Conntrack {
            entries: repr.entries.into_iter().enumerate().collect(),
            next,
            recent: repr.recent,
            derived: None,
        }
    }
}

impl Serialize for Conntrack {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        /// The entries' values in order, without collecting them into a list first.
        struct Values<'a>(&'a BTreeMap<usize, CtEntry>);
        impl Serialize for Values<'_> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_seq(self.0.values())
            }
        }
        ConntrackRepr {
            entries: Values(&self.entries),
            recent: &self.recent,
        }
        .serialize(serializer)
    }
}

impl PartialEq for Conntrack {
    fn eq(&self, other: &Conntrack) -> bool {
        self.entries.values().eq(other.entries.values()) && self.recent == other.recent
    }
}

impl Eq for Conntrack {}

impl Conntrack {
    /// The entries, in creation order.
    pub fn entries(&self) -> impl Iterator<Item = &CtEntry> {
        self.entries.values()
    }

    /// How many entries there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entry `id` (as [`Conntrack::lookup`] gave it).
    ///
    /// # Panics
    /// When no entry has that number: numbers come from this table's own lookups.
    pub fn entry(&self, id: usize) -> &CtEntry {
        &self.entries[&id]
    }

    /// Updates entry `id` in place (`f` must not change its tuples) and files its new expiry.
    pub fn update<R>(&mut self, id: usize, f: impl FnOnce(&mut CtEntry) -> R) -> R {
        let Some(e) = self.entries.get_mut(&id) else {
            panic!("conntrack entry {id} does not exist");
        };
        let (before, tuples) = (e.expires_ms, (e.orig, e.reply));
        let out = f(e);
        debug_assert_eq!(tuples, (e.orig, e.reply), "an entry's tuples never change");
        if let Some(d) = &mut self.derived
            && before != e.expires_ms
        {
            d.expiries.remove(&(before, id));
            d.expiries.insert((e.expires_ms, id));
        }
        out
    }

    /// Adds an entry.
    pub fn push(&mut self, entry: CtEntry) {
        let id = self.next;
        self.next += 1;
        if let Some(d) = &mut self.derived {
            d.add(id, &entry);
        }
        self.entries.insert(id, entry);
    }

    /// Drops entries that expired by `now_ms`.
    pub fn expire(&mut self, now_ms: i64) {
        let entries = &mut self.entries;
        let d = self.derived.get_or_insert_with(|| Derived::build(entries));
        let mut rebuild = false;
        while let Some(&(at, id)) = d.expiries.first() {
            if at > now_ms {
                break;
            }
            d.expiries.pop_first();
            let Some(e) = entries.remove(&id) else {
                continue;
            };
            if d.shadowed {
                rebuild = true;
                continue;
            }
            for tuple in [e.orig, e.reply] {
                if d.index
                    .get(&(e.proto, tuple))
                    .is_some_and(|(i, _)| *i == id)
                {
                    d.index.remove(&(e.proto, tuple));
                }
            }
        }
        if rebuild {
            self.derived = Some(Derived::build(entries));
        }
    }

    fn index(&mut self) -> &BTreeMap<(Proto, Tuple), (usize, Direction)> {
        let entries = &self.entries;
        &self
            .derived
            .get_or_insert_with(|| Derived::build(entries))
            .index
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

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(sport: u16, reply_dst: [u8; 4], expires_ms: i64) -> CtEntry {
        let orig = Tuple {
            src: Ipv4Addr::new(10, 0, 0, 1),
            dst: Ipv4Addr::new(10, 96, 0, 10),
            sport,
            dport: 80,
        };
        let reply = Tuple {
            src: Ipv4Addr::new(10, 244, 1, 5),
            dst: reply_dst.into(),
            sport: 80,
            dport: sport,
        };
        CtEntry {
            proto: Proto::Tcp,
            orig,
            reply,
            tcp_state: Some(TcpState::Established),
            seen_reply: true,
            assured: true,
            dnat: true,
            snat: false,
            expires_ms,
        }
    }

    #[test]
    fn expiring_one_entry_keeps_the_others_found() {
        let mut ct = Conntrack::default();
        for (sport, at) in [(1000, 50), (1001, 100), (1002, 150)] {
            ct.push(entry(sport, [10, 0, 0, 1], at));
        }
        let second = entry(1001, [10, 0, 0, 1], 0);
        let (id, dir) = ct.lookup(Proto::Tcp, second.orig).expect("found");
        assert_eq!(dir, Direction::Original);
        assert_eq!(
            ct.lookup(Proto::Tcp, second.reply),
            Some((id, Direction::Reply))
        );
        // Expiry is "by": an entry due at 100 is gone at 100.
        ct.expire(100);
        assert_eq!(ct.len(), 1);
        assert_eq!(ct.lookup(Proto::Tcp, second.orig), None);
        assert_eq!(ct.lookup(Proto::Tcp, second.reply), None);
        let third = entry(1002, [10, 0, 0, 1], 0);
        assert!(ct.lookup(Proto::Tcp, third.orig).is_some());
        // An update moves the entry's expiry.
        let (id, _) = ct.lookup(Proto::Tcp, third.orig).expect("found");
        ct.update(id, |e| e.expires_ms = 500);
        ct.expire(400);
        assert_eq!(ct.len(), 1);
        ct.expire(500);
        assert!(ct.is_empty());
    }

    #[test]
    fn a_shadowed_tuple_is_found_again_when_its_owner_expires() {
        let mut ct = Conntrack::default();
        // The second entry's reply tuple equals the first's: the first keeps it until it goes.
        ct.push(entry(1000, [10, 0, 0, 1], 50));
        ct.push(entry(1000, [10, 0, 0, 1], 100));
        let reply = entry(1000, [10, 0, 0, 1], 0).reply;
        let (first, _) = ct.lookup(Proto::Tcp, reply).expect("found");
        ct.expire(50);
        let (now, _) = ct.lookup(Proto::Tcp, reply).expect("still found");
        assert_ne!(first, now);
        assert_eq!(ct.entry(now).expires_ms, 100);
    }

    #[test]
    fn stored_as_a_list_in_creation_order() {
        let mut ct = Conntrack::default();
        ct.push(entry(2000, [10, 0, 0, 1], 10));
        ct.push(entry(1000, [10, 0, 0, 1], 20));
        ct.expire(10);
        let json = serde_json::to_value(&ct).expect("serializes");
        assert_eq!(json["entries"].as_array().map(Vec::len), Some(1));
        let back: Conntrack = serde_json::from_value(json).expect("deserializes");
        assert_eq!(back, ct);
        let mut back = back;
        assert!(
            back.lookup(Proto::Tcp, entry(1000, [10, 0, 0, 1], 0).orig)
                .is_some()
        );
    }
}
