//! A network namespace's connection-tracking table, as `conntrack -L` lists it: one entry per
//! connection, with its original and reply tuples (the reply tuple carries any NAT), its TCP
//! state and when it expires. Also the `recent` match's address lists, the other netfilter
//! state that outlives a packet (session affinity).
//!
//! The data plane creates and updates entries; this module holds them and answers lookups. It
//! must never format output nor decide NAT.

use crate::netfilter::Proto;
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, VecDeque};
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
/// index slots: a command that sends 100,000 requests pays O(1) per packet, not a rebuild of
/// the table each time the oldest entry times out.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(from = "ConntrackRepr<Vec<CtEntry>, Recent>")]
pub struct Conntrack {
    /// Entries by creation number, the first being number `base`. An expired entry leaves a
    /// hole until every older one is gone too: numbers only grow, so the table stays a queue
    /// and a number finds its entry without a search. Holes last at most one command (the
    /// stored form has none).
    slots: VecDeque<Option<CtEntry>>,
    /// The number of the first slot.
    base: usize,
    /// How many slots hold an entry.
    live: usize,
    /// `-m recent` lists: list name → source address → last seen (ms since the epoch).
    pub recent: Recent,
    /// The lookup structures, built on first use after a load (a command that only prints
    /// never pays for them).
    derived: Option<Derived>,
}

/// A protocol and tuple packed into two words: the index's key.
type Key = (u64, u64);

fn key(proto: Proto, t: Tuple) -> Key {
    (
        u64::from(u32::from(t.src)) << 32 | u64::from(u32::from(t.dst)),
        (proto as u64) << 32 | u64::from(t.sport) << 16 | u64::from(t.dport),
    )
}

/// An entry's number and the direction a tuple names, packed into one word.
fn pack(id: usize, dir: Direction) -> u64 {
    (id as u64) << 1 | u64::from(dir == Direction::Reply)
}

fn unpack(v: u64) -> (usize, Direction) {
    let dir = if v & 1 == 1 {
        Direction::Reply
    } else {
        Direction::Original
    };
    ((v >> 1) as usize, dir)
}

/// The index's hash: a multiply-xorshift of the packed key. The index is never iterated, so
/// its order cannot leak into anything printed or saved.
fn hash(k: Key) -> u64 {
    let mut h = (k.0 ^ 0x243F_6A88_85A3_08D3).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    h ^= h >> 29;
    h = (h ^ k.1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    h ^= h >> 32;
    h
}

/// What [`Table::tags`] holds for an unused slot (a used slot's tag has its top bit set).
const VACANT: u8 = 0;

/// The tag of a key with hash `h`: seven bits of the hash the slot number does not use
/// (tables stay far below 2^57 slots), never [`VACANT`].
fn tag_of(h: u64) -> u8 {
    (h >> 57) as u8 | 0x80
}

/// The index: a hash table with open addressing and linear probing, each slot holding its
/// key and value, so that finding a tuple reads one place in memory (the conntrack table of
/// a command that opens 100,000 connections outgrows the processor's caches, and each
/// further read costs a trip to memory). Beside the slots, one byte per slot says whether
/// it is used and, if so, seven bits of its key's hash: a search for a tuple the table does
/// not hold (every new connection's, in each namespace it crosses) reads only those bytes,
/// 24 times denser than the slots and so mostly still in the processor's cache. Never
/// iterated.
#[derive(Debug, Clone)]
struct Table {
    /// [`tag_of`] the key in each slot, or [`VACANT`].
    tags: Vec<u8>,
    slots: Vec<(Key, u64)>,
    len: usize,
}

impl Default for Table {
    fn default() -> Table {
        Table::with_capacity(0)
    }
}

impl Table {
    /// A table that holds `n` keys before it grows.
    fn with_capacity(n: usize) -> Table {
        let size = (n * 2).max(16).next_power_of_two();
        Table {
            tags: vec![VACANT; size],
            slots: vec![((0, 0), 0); size],
            len: 0,
        }
    }

    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    /// The slot that holds `k`, or the vacant slot where it would go, and `k`'s tag.
    fn find(&self, k: Key) -> (usize, u8) {
        let mask = self.mask();
        let h = hash(k);
        let tag = tag_of(h);
        let mut i = h as usize & mask;
        loop {
            match self.tags.get(i) {
                Some(&t) if t == tag && self.slots.get(i).is_some_and(|s| s.0 == k) => {
                    return (i, tag);
                }
                Some(&t) if t != VACANT => i = (i + 1) & mask,
                _ => return (i, tag),
            }
        }
    }

    /// The value in slot `i`, if it is used.
    fn value_at(&self, i: usize) -> Option<u64> {
        match self.tags.get(i) {
            Some(&t) if t != VACANT => self.slots.get(i).map(|s| s.1),
            _ => None,
        }
    }

    fn get(&self, k: Key) -> Option<u64> {
        self.value_at(self.find(k).0)
    }

    /// Sets `k` to `v`; the value it had, if any.
    fn insert(&mut self, k: Key, v: u64) -> Option<u64> {
        let (i, new_tag) = self.find(k);
        let old = self.value_at(i);
        let (Some(slot), Some(tag)) = (self.slots.get_mut(i), self.tags.get_mut(i)) else {
            return None;
        };
        *slot = (k, v);
        if old.is_some() {
            return old;
        }
        *tag = new_tag;
        self.len += 1;
        if self.len * 2 > self.slots.len() {
            self.grow();
        }
        None
    }

    fn grow(&mut self) {
        let size = self.slots.len() * 2;
        let tags = std::mem::replace(&mut self.tags, vec![VACANT; size]);
        let slots = std::mem::replace(&mut self.slots, vec![((0, 0), 0); size]);
        for (t, (k, v)) in tags.into_iter().zip(slots) {
            if t != VACANT {
                let (i, _) = self.find(k);
                if let (Some(slot), Some(tag)) = (self.slots.get_mut(i), self.tags.get_mut(i)) {
                    *slot = (k, v);
                    *tag = t;
                }
            }
        }
    }

    /// Removes `k` if `keep` refuses its value; later keys of its probe run move back into
    /// the hole, so that no search stops short of them.
    fn remove_if(&mut self, k: Key, keep: impl FnOnce(u64) -> bool) {
        let mask = self.mask();
        let (mut hole, _) = self.find(k);
        match self.value_at(hole) {
            Some(v) if !keep(v) => {}
            _ => return,
        }
        self.len -= 1;
        let mut j = hole;
        loop {
            j = (j + 1) & mask;
            // The tag first: the slot after a probe run is not read.
            let Some(&t) = self.tags.get(j).filter(|&&t| t != VACANT) else {
                break;
            };
            let Some(&(at, v)) = self.slots.get(j) else {
                break;
            };
            let home = hash(at) as usize & mask;
            // The key at `j` may fill the hole unless its home lies cyclically in (hole, j].
            let stays = if hole <= j {
                hole < home && home <= j
            } else {
                hole < home || home <= j
            };
            if !stays {
                if let (Some(slot), Some(tag)) = (self.slots.get_mut(hole), self.tags.get_mut(hole))
                {
                    *slot = (at, v);
                    *tag = t;
                }
                hole = j;
            }
        }
        if let Some(tag) = self.tags.get_mut(hole) {
            *tag = VACANT;
        }
    }
}

/// Slots of [`Derived::recent`] (a power of two).
const RECENT_SLOTS: usize = 256;

/// What [`Conntrack`] keeps beside its entries to answer quickly.
#[derive(Debug, Clone)]
struct Derived {
    /// Both tuples of every entry → its number and direction (packed): the kernel's hash
    /// table. An original tuple wins over another entry's equal reply tuple.
    index: Table,
    /// The last keys found, by their hash: a connection's packets ask for the same few
    /// tuples, and a big index answers each from memory the processor no longer holds.
    /// Kept equal to `index` for every key it holds: each change of a key's value in the
    /// index writes or clears its slot.
    recent: Box<[Option<(Key, u64)>]>,
    /// When each entry is due to be looked at, earliest first.
    expiries: Expiries,
    /// Whether some tuple was ever claimed by two entries at once: then removing one entry
    /// must rebuild the index, so that the other one is found again.
    shadowed: bool,
}

impl Default for Derived {
    fn default() -> Derived {
        Derived {
            index: Table::default(),
            recent: vec![None; RECENT_SLOTS].into_boxed_slice(),
            expiries: Expiries::default(),
            shadowed: false,
        }
    }
}

impl Derived {
    fn build(slots: &VecDeque<Option<CtEntry>>, base: usize) -> Derived {
        let mut d = Derived {
            index: Table::with_capacity(slots.len() * 2),
            ..Derived::default()
        };
        for (i, e) in slots.iter().enumerate() {
            if let Some(e) = e {
                d.index_entry(base + i, e);
                d.expiries.push(e.expires_ms, base + i);
            }
        }
        d
    }

    fn slot(k: Key) -> usize {
        hash(k) as usize & (RECENT_SLOTS - 1)
    }

    fn get(&mut self, k: Key) -> Option<(usize, Direction)> {
        let slot = Derived::slot(k);
        if let Some(Some((hit, v))) = self.recent.get(slot)
            && *hit == k
        {
            return Some(unpack(*v));
        }
        let v = self.index.get(k)?;
        if let Some(s) = self.recent.get_mut(slot) {
            *s = Some((k, v));
        }
        Some(unpack(v))
    }

    fn remember(&mut self, k: Key, v: u64) {
        if let Some(s) = self.recent.get_mut(Derived::slot(k)) {
            *s = Some((k, v));
        }
    }

    /// Removes `k` from the index if entry `id` holds it.
    fn remove(&mut self, k: Key, id: usize) {
        self.index.remove_if(k, |v| unpack(v).0 != id);
        if let Some(s) = self.recent.get_mut(Derived::slot(k))
            && s.is_some_and(|(hit, v)| hit == k && unpack(v).0 == id)
        {
            *s = None;
        }
    }

    fn index_entry(&mut self, id: usize, e: &CtEntry) {
        let orig = key(e.proto, e.orig);
        let v = pack(id, Direction::Original);
        if let Some(old) = self.index.insert(orig, v)
            && unpack(old).0 != id
        {
            self.shadowed = true;
        }
        self.remember(orig, v);
        let reply = key(e.proto, e.reply);
        match self.index.get(reply) {
            None => {
                let v = pack(id, Direction::Reply);
                self.index.insert(reply, v);
                self.remember(reply, v);
            }
            Some(v) => self.shadowed |= unpack(v).0 != id,
        }
    }

    fn add(&mut self, id: usize, e: &CtEntry) {
        self.index_entry(id, e);
        self.expiries.push(e.expires_ms, id);
    }
}

/// (expiry, entry number) records, earliest first. Every live entry has a record no later
/// than its expiry; an update that postpones the expiry leaves the record where it is (the
/// record is filed again at the new expiry when it comes due), one that brings it forward
/// adds a record. So a packet of a tracked connection, which postpones its entry, costs
/// nothing here.
///
/// Records wait in buckets of one second, unsorted; a bucket is sorted (moved into a small
/// heap) only when its second comes. The records of one second are few, so each costs O(1)
/// to file and O(log) of that second's records to take, whatever the order of filing: a
/// record filed again at an entry's postponed expiry lands behind later ones of its
/// timeout, which a queue per timeout could not take.
#[derive(Debug, Clone)]
struct Expiries {
    /// Records of the seconds after `current`, by second.
    later: BTreeMap<i64, Vec<(i64, usize)>>,
    /// Records of `current` and earlier seconds.
    soon: BinaryHeap<Reverse<(i64, usize)>>,
    /// The last second whose records went to `soon`.
    current: Option<i64>,
    /// The first second of `later`: a copy of `later.first_key_value()`, kept because
    /// every packet asks for it (without it the in-process packet rate measured ~3% lower).
    next_second: Option<i64>,
    /// No record is due before this instant (ms): every packet asks whether one is, and
    /// the answer is almost always no. A lower bound, exact after each [`Expiries::pop_due`]
    /// that finds nothing due.
    not_before: i64,
}

impl Default for Expiries {
    fn default() -> Expiries {
        Expiries {
            later: BTreeMap::new(),
            soon: BinaryHeap::new(),
            current: None,
            next_second: None,
            not_before: i64::MAX,
        }
    }
}

impl Expiries {
    fn push(&mut self, at: i64, id: usize) {
        self.not_before = self.not_before.min(at);
        let second = at.div_euclid(1000);
        if self.current.is_some_and(|c| second <= c) {
            self.soon.push(Reverse((at, id)));
            return;
        }
        self.later.entry(second).or_default().push((at, id));
        self.next_second = Some(self.next_second.map_or(second, |n| n.min(second)));
    }

    /// Takes the earliest record if it is due by `now_ms`.
    fn pop_due(&mut self, now_ms: i64) -> Option<(i64, usize)> {
        if now_ms < self.not_before {
            return None;
        }
        loop {
            if let Some(&Reverse(r)) = self.soon.peek()
                && r.0 <= now_ms
            {
                self.soon.pop();
                return Some(r);
            }
            // Nothing due in `soon`: the next second's records, if that second has come.
            let in_soon = self.soon.peek().map_or(i64::MAX, |r| r.0.0);
            let Some(second) = self.next_second else {
                self.not_before = in_soon;
                return None;
            };
            if second.saturating_mul(1000) > now_ms {
                self.not_before = in_soon.min(second.saturating_mul(1000));
                return None;
            }
            let records = self.later.remove(&second).unwrap_or_default();
            self.soon.extend(records.into_iter().map(Reverse));
            self.current = Some(second);
            self.next_second = self.later.keys().next().copied();
        }
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
        let live = repr.entries.len();
        Conntrack {
            slots: repr.entries.into_iter().map(Some).collect(),
            base: 0,
            live,
            recent: repr.recent,
            derived: None,
        }
    }
}

impl Serialize for Conntrack {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        /// The entries in order, without collecting them into a list first.
        struct Values<'a>(&'a Conntrack);
        impl Serialize for Values<'_> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_seq(self.0.entries())
            }
        }
        ConntrackRepr {
            entries: Values(self),
            recent: &self.recent,
        }
        .serialize(serializer)
    }
}

impl PartialEq for Conntrack {
    fn eq(&self, other: &Conntrack) -> bool {
        self.entries().eq(other.entries()) && self.recent == other.recent
    }
}

impl Eq for Conntrack {}

impl Conntrack {
    /// The entries, in creation order.
    pub fn entries(&self) -> impl Iterator<Item = &CtEntry> {
        self.slots.iter().flatten()
    }

    /// How many entries there are.
    pub fn len(&self) -> usize {
        self.live
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    fn slot_mut(&mut self, id: usize) -> Option<&mut CtEntry> {
        self.slots.get_mut(id.checked_sub(self.base)?)?.as_mut()
    }

    /// Entry `id` (as [`Conntrack::lookup`] gave it).
    ///
    /// # Panics
    /// When no entry has that number: numbers come from this table's own lookups.
    pub fn entry(&self, id: usize) -> &CtEntry {
        let slot = id
            .checked_sub(self.base)
            .and_then(|i| self.slots.get(i))
            .and_then(Option::as_ref);
        let Some(e) = slot else {
            panic!("conntrack entry {id} does not exist");
        };
        e
    }

    /// Updates entry `id` in place (`f` must not change its tuples) and files its new expiry.
    pub fn update<R>(&mut self, id: usize, f: impl FnOnce(&mut CtEntry) -> R) -> R {
        let Some(e) = self.slot_mut(id) else {
            panic!("conntrack entry {id} does not exist");
        };
        let (before, tuples) = (e.expires_ms, (e.orig, e.reply));
        let out = f(e);
        debug_assert_eq!(tuples, (e.orig, e.reply), "an entry's tuples never change");
        let after = e.expires_ms;
        if let Some(d) = &mut self.derived
            && after < before
        {
            d.expiries.push(after, id);
        }
        out
    }

    /// Adds an entry.
    pub fn push(&mut self, entry: CtEntry) {
        let id = self.base + self.slots.len();
        if let Some(d) = &mut self.derived {
            d.add(id, &entry);
        }
        self.slots.push_back(Some(entry));
        self.live += 1;
    }

    /// Drops entries that expired by `now_ms`.
    pub fn expire(&mut self, now_ms: i64) {
        let (slots, base) = (&mut self.slots, self.base);
        let d = self
            .derived
            .get_or_insert_with(|| Derived::build(slots, base));
        if now_ms < d.expiries.not_before {
            // Nothing is due (every packet asks; almost always the answer).
            return;
        }
        let mut rebuild = false;
        while let Some((_, id)) = d.expiries.pop_due(now_ms) {
            let Some(slot) = id.checked_sub(base).and_then(|i| slots.get_mut(i)) else {
                continue;
            };
            let Some(e) = slot else { continue };
            if e.expires_ms > now_ms {
                // Postponed since this record was filed: file it again at its expiry.
                d.expiries.push(e.expires_ms, id);
                continue;
            }
            let Some(e) = slot.take() else { continue };
            self.live -= 1;
            if d.shadowed {
                rebuild = true;
                continue;
            }
            for tuple in [e.orig, e.reply] {
                d.remove(key(e.proto, tuple), id);
            }
        }
        self.drop_leading_holes();
        if rebuild {
            self.derived = Some(Derived::build(&self.slots, self.base));
        }
    }

    /// Removes entry `id` at once, whatever its expiry: the kernel's `nf_ct_kill`, as when a
    /// SYN reopens a closed connection with the same tuple.
    pub fn kill(&mut self, id: usize) {
        let Some(slot) = id
            .checked_sub(self.base)
            .and_then(|i| self.slots.get_mut(i))
        else {
            return;
        };
        let Some(e) = slot.take() else { return };
        self.live -= 1;
        match &mut self.derived {
            // Another entry claims one of its tuples: built again on the next lookup.
            Some(d) if d.shadowed => self.derived = None,
            Some(d) => {
                for tuple in [e.orig, e.reply] {
                    d.remove(key(e.proto, tuple), id);
                }
            }
            None => {}
        }
        self.drop_leading_holes();
    }

    /// Drops the holes expired or killed entries left at the front: every older entry is
    /// gone too, so the numbering moves on.
    fn drop_leading_holes(&mut self) {
        while let Some(None) = self.slots.front() {
            self.slots.pop_front();
            self.base += 1;
        }
    }

    fn derived(&mut self) -> &mut Derived {
        let (slots, base) = (&self.slots, self.base);
        self.derived
            .get_or_insert_with(|| Derived::build(slots, base))
    }

    /// The entry `tuple` belongs to, and in which direction.
    pub fn lookup(&mut self, proto: Proto, tuple: Tuple) -> Option<(usize, Direction)> {
        self.derived().get(key(proto, tuple))
    }

    /// Whether `tuple` is already used as some entry's reply tuple (a MASQUERADE source port
    /// must not collide).
    pub fn reply_in_use(&mut self, proto: Proto, tuple: Tuple) -> bool {
        self.derived()
            .get(key(proto, tuple))
            .is_some_and(|(_, d)| d == Direction::Reply)
    }

    /// The entry whose connection an ICMP error quoting `quoted` (the packet as it left this
    /// namespace) belongs to.
    pub fn related(&mut self, proto: Proto, quoted: Tuple) -> Option<usize> {
        match self.derived().get(key(proto, quoted.reversed())) {
            Some((i, Direction::Reply)) => Some(i),
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
    fn an_entry_goes_when_it_is_due_however_its_expiry_moved() {
        // Many distinct timeouts, expiries moved both ways, some in the past: after each
        // `expire`, exactly the entries due by then are gone.
        let mut ct = Conntrack::default();
        let mut expected: BTreeMap<u16, i64> = BTreeMap::new();
        for i in 0..200u16 {
            let at = i64::from(i % 13) * 1000 + i64::from(i) * 7
                - if i.is_multiple_of(17) { 5000 } else { 0 };
            ct.push(entry(1000 + i, [10, 0, 0, 1], at));
            expected.insert(1000 + i, at);
            if i.is_multiple_of(5) {
                let moved = at + if i.is_multiple_of(2) { 3000 } else { -2500 };
                let (id, _) = ct
                    .lookup(Proto::Tcp, entry(1000 + i, [10, 0, 0, 1], 0).orig)
                    .expect("found");
                ct.update(id, |e| e.expires_ms = moved);
                expected.insert(1000 + i, moved);
            }
        }
        for now in (-6000..16000).step_by(250) {
            ct.expire(now);
            expected.retain(|_, at| *at > now);
            let left: Vec<u16> = ct.entries().map(|e| e.orig.sport).collect();
            assert_eq!(
                left,
                expected.keys().copied().collect::<Vec<_>>(),
                "at {now}"
            );
            for sport in 1000..1200u16 {
                let found = ct
                    .lookup(Proto::Tcp, entry(sport, [10, 0, 0, 1], 0).orig)
                    .is_some();
                assert_eq!(found, expected.contains_key(&sport), "{sport} at {now}");
            }
        }
    }

    #[test]
    fn entries_filed_while_time_runs_go_when_due() {
        // Entries added and moved between expiries, in the second that is running as well
        // as later and earlier ones (the buckets' edges), against a map of what is due.
        let mut ct = Conntrack::default();
        let mut expected: BTreeMap<u16, i64> = BTreeMap::new();
        let mut x: u64 = 7;
        let mut next = || {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            x >> 33
        };
        let mut sport = 1000u16;
        for now in (0..40_000i64).step_by(137) {
            for _ in 0..3 {
                let at = now + (next() % 5000) as i64 - 200;
                ct.push(entry(sport, [10, 0, 0, 1], at));
                expected.insert(sport, at);
                sport += 1;
            }
            if let Some(&victim) = expected.keys().nth((next() % 8) as usize) {
                let moved = now + (next() % 3000) as i64 - 100;
                let (id, _) = ct
                    .lookup(Proto::Tcp, entry(victim, [10, 0, 0, 1], 0).orig)
                    .expect("found");
                ct.update(id, |e| e.expires_ms = moved);
                expected.insert(victim, moved);
            }
            ct.expire(now);
            expected.retain(|_, at| *at > now);
            let left: Vec<u16> = ct.entries().map(|e| e.orig.sport).collect();
            let want: Vec<u16> = expected.keys().copied().collect();
            assert_eq!(left, want, "at {now}");
        }
    }

    #[test]
    fn the_index_finds_what_a_map_would() {
        // Few distinct keys in a table that grows and shrinks, so probe runs collide,
        // wrap around the end and close up after removals.
        let mut table = Table::default();
        let mut map: BTreeMap<Key, u64> = BTreeMap::new();
        let mut x: u64 = 1;
        for step in 0..20_000u64 {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let k = ((x >> 40) % 97, (x >> 20) % 3);
            if (x >> 8).is_multiple_of(3) {
                table.remove_if(k, |v| v % 2 == 1);
                if map.get(&k).is_some_and(|v| v.is_multiple_of(2)) {
                    map.remove(&k);
                }
            } else {
                assert_eq!(table.insert(k, step), map.insert(k, step), "step {step}");
            }
            assert_eq!(table.len, map.len(), "step {step}");
            if step.is_multiple_of(16) {
                for k in (0..97).flat_map(|a| (0..3).map(move |b| (a, b))) {
                    assert_eq!(table.get(k), map.get(&k).copied(), "step {step}");
                }
            }
        }
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
