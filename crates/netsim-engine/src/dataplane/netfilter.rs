//! Evaluating a namespace's [`Ruleset`] for one packet at one hook, the way `ip_tables` walks
//! chains: rules in order, jumps and returns on a stack, the built-in chain's policy at the end.
//! The rules are exactly those `iptables-save` prints.
//!
//! Three shortcuts change nothing but the time taken, each derived from those same rules
//! within the command. [`SkipIndex`]: within a run of consecutive rules that each match a
//! single destination address (kube-proxy's `KUBE-SERVICES`, one or more rules per Service
//! address), a rule for another address cannot match, and — its destination being checked
//! before anything with an effect (`statistic`, `recent`) — skipping it changes nothing; the
//! walk jumps straight to the next rule for the packet's destination. [`Resolved`]: chain
//! names looked up once, not at every jump. [`Walks`]: a walk that drew on nothing but the
//! packet is remembered by the fields it read, and answers for the next packet that agrees
//! on them (when no trace is asked for).

use crate::rng::SimRng;
use ipnet::Ipv4Net;
use netsim_model::conntrack::Conntrack;
use netsim_model::netfilter::{
    AddrMatch, CtState, IfaceMatch, Match, Proto, RecentMode, Rule, Ruleset, TableName, Target,
};
use netsim_model::packet::Packet;
use netsim_model::trace::HopKind;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// A table's decision for a packet at a hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Continue to the next table/hook.
    Accept,
    /// Drop silently.
    Drop,
    /// Drop and answer with ICMP port unreachable.
    Reject,
    /// nat: rewrite the destination.
    Dnat(Ipv4Addr, u16),
    /// nat: rewrite the source to the outgoing interface's address.
    Masquerade {
        /// `--random-fully`.
        random_fully: bool,
    },
}

/// What the matches can see besides the packet.
pub struct MatchCtx<'a> {
    /// Input interface, if any.
    pub in_dev: Option<&'a str>,
    /// Output interface, if decided.
    pub out_dev: Option<&'a str>,
    /// The connection's states (`NEW`/`ESTABLISHED`/`RELATED`, plus `DNAT`).
    pub states: &'a [CtState],
    /// The namespace's local addresses (`addrtype LOCAL`).
    pub local: &'a [Ipv4Net],
    /// Virtual now, ms since the epoch (for `recent`).
    pub now_ms: i64,
}

fn addr_ok(m: &Option<AddrMatch>, ip: Ipv4Addr) -> bool {
    m.as_ref().is_none_or(|a| a.net.contains(&ip) != a.negate)
}

fn iface_ok(m: &Option<IfaceMatch>, dev: Option<&str>) -> bool {
    let Some(m) = m else { return true };
    let hit = match dev {
        None => false,
        Some(d) => match m.name.strip_suffix('+') {
            Some(prefix) => d.starts_with(prefix),
            None => d == m.name,
        },
    };
    hit != m.negate
}

/// Whether `ip` is local to the namespace (`addrtype --*-type LOCAL`).
pub fn is_local(local: &[Ipv4Net], ip: Ipv4Addr) -> bool {
    ip.is_loopback() || local.iter().any(|n| n.addr() == ip)
}

/// Runs shorter than this are walked rule by rule.
const MIN_RUN: usize = 8;

/// A run of rules that each match one destination address.
#[derive(Debug, Default)]
struct Run {
    /// One past the run's last rule.
    end: usize,
    /// The rules (indexes, ascending) for each address.
    by_dst: BTreeMap<Ipv4Addr, Vec<usize>>,
}

/// A chain's runs: `run_of[i]` is the run rule `i` belongs to, if any.
#[derive(Debug, Default)]
struct ChainRuns {
    run_of: Vec<Option<usize>>,
    runs: Vec<Run>,
}

/// The per-destination shortcuts of a whole [`Ruleset`], built once per ruleset.
#[derive(Debug, Default)]
pub struct SkipIndex {
    /// By table, then by chain position.
    tables: Vec<(TableName, Vec<ChainRuns>)>,
}

/// The single address a rule's destination match accepts, if it is one.
fn single_dst(rule: &Rule) -> Option<Ipv4Addr> {
    let d = rule.dst.as_ref()?;
    (!d.negate && d.net.prefix_len() == 32).then(|| d.net.addr())
}

impl SkipIndex {
    /// Finds the runs of single-destination rules in every chain of `rules`.
    pub fn build(rules: &Ruleset) -> SkipIndex {
        let mut tables = Vec::new();
        for t in &rules.tables {
            let mut chains = Vec::new();
            for chain in t.chains() {
                let mut cr = ChainRuns {
                    run_of: Vec::new(),
                    runs: Vec::new(),
                };
                let mut i = 0;
                while i < chain.rules.len() {
                    let start = i;
                    while i < chain.rules.len() && single_dst(&chain.rules[i]).is_some() {
                        i += 1;
                    }
                    if i - start >= MIN_RUN {
                        let mut run = Run {
                            end: i,
                            by_dst: BTreeMap::new(),
                        };
                        // Chains without a run keep `run_of` empty, so the walk's check
                        // is a length test.
                        cr.run_of.resize(chain.rules.len(), None);
                        for (j, rule) in chain.rules.iter().enumerate().take(i).skip(start) {
                            if let Some(ip) = single_dst(rule) {
                                run.by_dst.entry(ip).or_default().push(j);
                            }
                            cr.run_of[j] = Some(cr.runs.len());
                        }
                        cr.runs.push(run);
                    }
                    if i == start {
                        i += 1;
                    }
                }
                chains.push(cr);
            }
            tables.push((t.name, chains));
        }
        SkipIndex { tables }
    }

    /// The runs of the chains of `table`, by chain position.
    fn table(&self, table: TableName) -> &[ChainRuns] {
        self.tables
            .iter()
            .find(|(t, _)| *t == table)
            .map_or(&[], |(_, c)| c.as_slice())
    }
}

impl ChainRuns {
    /// Where the walk goes from rule `at` for a packet to `dst`: `at` itself, or, inside a
    /// run, the next rule for `dst` (or the run's end).
    fn next(&self, at: usize, dst: Ipv4Addr) -> usize {
        let Some(Some(r)) = self.run_of.get(at) else {
            return at;
        };
        let run = &self.runs[*r];
        match run.by_dst.get(&dst) {
            Some(rules) => {
                let k = rules.partition_point(|&j| j < at);
                rules.get(k).copied().unwrap_or(run.end)
            }
            None => run.end,
        }
    }
}

/// The built-in chains a table can start a walk at: the hooks, by [`Hook`].
pub const HOOKS: [&str; 5] = ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"];

/// A netfilter hook: where in the stack a packet meets the tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hook {
    /// `PREROUTING`.
    Prerouting,
    /// `INPUT`.
    Input,
    /// `FORWARD`.
    Forward,
    /// `OUTPUT`.
    Output,
    /// `POSTROUTING`.
    Postrouting,
}

impl Hook {
    /// Its place in [`HOOKS`].
    pub fn index(self) -> usize {
        self as usize
    }
}

impl std::fmt::Display for Hook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(HOOKS.get(self.index()).copied().unwrap_or_default())
    }
}

/// A [`Ruleset`]'s chain names resolved to positions once per ruleset: where each hook's
/// chain is in each table and where each rule's jump goes, so that the walk compares no
/// names. Like [`SkipIndex`], it is derived from the very rules `iptables-save` prints and
/// changes nothing but the time.
#[derive(Debug, Default)]
pub struct Resolved {
    /// By table: its position in the ruleset, each hook's chain position, and per chain the
    /// position of every rule's jump target (`None`: no jump, or to no chain).
    tables: Vec<ResolvedTable>,
}

#[derive(Debug)]
struct ResolvedTable {
    name: TableName,
    at: usize,
    hooks: [Option<usize>; 5],
    /// Per hook: its chain has no rule and does not drop, so every packet is accepted
    /// without a trace (mangle's chains, usually).
    empty: [bool; 5],
    jumps: Vec<Vec<Option<usize>>>,
}

impl Resolved {
    /// Resolves the names of `rules`.
    pub fn build(rules: &Ruleset) -> Resolved {
        let tables = rules
            .tables
            .iter()
            .enumerate()
            .map(|(at, t)| ResolvedTable {
                name: t.name,
                at,
                hooks: HOOKS.map(|h| t.position(h)),
                empty: HOOKS.map(|h| {
                    t.chain(h).is_none_or(|c| {
                        c.rules.is_empty() && !matches!(c.policy, Some(Target::Drop))
                    })
                }),
                jumps: t
                    .chains()
                    .iter()
                    .map(|c| {
                        c.rules
                            .iter()
                            .map(|r| match &r.target {
                                Target::Jump(name) => t.position(name),
                                _ => None,
                            })
                            .collect()
                    })
                    .collect(),
            })
            .collect();
        Resolved { tables }
    }

    fn table(&self, table: TableName) -> Option<&ResolvedTable> {
        self.tables.iter().find(|t| t.name == table)
    }

    /// Whether [`run_hook`] would accept every packet at `table`'s `hook` without a rule
    /// matching: a table or hook chain that does not exist, or an empty chain that does not
    /// drop.
    pub fn accepts_all(&self, table: TableName, hook: usize) -> bool {
        self.table(table)
            .is_none_or(|t| t.empty.get(hook).copied().unwrap_or(true))
    }
}

/// The `recent` match's lists: list name → source address → last seen (ms since the epoch).
pub type Recent = BTreeMap<String, BTreeMap<Ipv4Addr, i64>>;

/// Where a walk finds the `recent` lists of the namespace: asked only when a `recent` rule
/// is evaluated.
pub trait RecentLists {
    /// The lists.
    fn lists(&mut self) -> &mut Recent;
}

impl RecentLists for Conntrack {
    fn lists(&mut self) -> &mut Recent {
        &mut self.recent
    }
}

/// Whether `rule` matches `pkt`; `statistic` and `recent` draw from `rng` and `ct` as the
/// kernel's do.
/// What a walk read of the packet and its context, field by field ([`Reads::SRC`] …), and
/// whether it drew on anything else (`statistic`'s random numbers, `recent`'s lists and
/// clock). A walk that drew on nothing else goes the same way for every packet that agrees
/// with it on the fields it read: the packet's other fields (its source port, say) were
/// never looked at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reads {
    /// The fields read.
    pub fields: u16,
    /// Something besides the packet and its context was read or changed.
    pub impure: bool,
}

impl Reads {
    /// The source address.
    pub const SRC: u16 = 1;
    /// The destination address.
    pub const DST: u16 = 1 << 1;
    /// The protocol.
    pub const PROTO: u16 = 1 << 2;
    /// The destination port.
    pub const DPORT: u16 = 1 << 3;
    /// The mark (read by a match, or by a MARK target that changes it).
    pub const MARK: u16 = 1 << 4;
    /// The input interface.
    pub const IN: u16 = 1 << 5;
    /// The output interface.
    pub const OUT: u16 = 1 << 6;
    /// The connection states.
    pub const STATES: u16 = 1 << 7;
}

/// What a walk depends on: the table and hook, and the packet's fields as [`Reads`] names
/// them (interfaces as their place in the namespace's list, 0 for none). Kept with only
/// the fields a walk read (the others zero), it stands for every packet that agrees on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalkKey {
    table: TableName,
    hook: usize,
    fields: u16,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    proto: Option<Proto>,
    dport: u16,
    mark: u32,
    in_dev: u8,
    out_dev: u8,
    states: u8,
}

impl WalkKey {
    /// All of `pkt`'s fields at `table`'s `hook`.
    pub fn new(
        table: TableName,
        hook: usize,
        pkt: &Packet,
        states: &[CtState],
        devs: (u8, u8),
    ) -> WalkKey {
        WalkKey {
            table,
            hook,
            fields: u16::MAX,
            src: pkt.src,
            dst: pkt.dst,
            proto: Some(pkt.proto()),
            dport: pkt.ports().1,
            mark: pkt.mark,
            in_dev: devs.0,
            out_dev: devs.1,
            states: states.iter().fold(0, |bits, s| bits | 1 << (*s as u8)),
        }
    }

    /// The key with only `fields` kept.
    fn only(&self, fields: u16) -> WalkKey {
        let keep = |field: u16| fields & field != 0;
        WalkKey {
            table: self.table,
            hook: self.hook,
            fields,
            src: if keep(Reads::SRC) {
                self.src
            } else {
                Ipv4Addr::UNSPECIFIED
            },
            dst: if keep(Reads::DST) {
                self.dst
            } else {
                Ipv4Addr::UNSPECIFIED
            },
            proto: if keep(Reads::PROTO) { self.proto } else { None },
            dport: if keep(Reads::DPORT) { self.dport } else { 0 },
            mark: if keep(Reads::MARK) { self.mark } else { 0 },
            in_dev: if keep(Reads::IN) { self.in_dev } else { 0 },
            out_dev: if keep(Reads::OUT) { self.out_dev } else { 0 },
            states: if keep(Reads::STATES) { self.states } else { 0 },
        }
    }

    fn slot(&self) -> usize {
        let words = [
            u64::from(u32::from(self.src)) << 32 | u64::from(u32::from(self.dst)),
            u64::from(self.mark) << 32 | u64::from(self.dport) << 16 | u64::from(self.fields),
            (self.table as u64) << 40
                | (self.hook as u64) << 32
                | u64::from(self.in_dev) << 24
                | u64::from(self.out_dev) << 16
                | u64::from(self.states) << 8
                | self.proto.map_or(0xff, |p| p as u64),
        ];
        let h = words.iter().fold(0u64, |h, w| {
            (h ^ w).wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(23)
        });
        (h >> 32) as usize % WALK_SLOTS
    }
}

/// A walk's outcome, for the packets its [`WalkKey`] stands for.
#[derive(Debug, Clone)]
pub struct Walked {
    /// The verdict.
    pub verdict: Verdict,
    /// The deciding rule's comment, kept when the verdict drops the packet.
    pub comment: Option<String>,
    /// The mark the packet leaves with, when the walk read the mark (a walk that sets the
    /// mark reads it); the packets of a walk that did not keep theirs.
    pub mark: Option<u32>,
}

/// How many walks a namespace remembers.
const WALK_SLOTS: usize = 256;

/// The walks a namespace's rules took, by what they read: most packets of a command take
/// a handful of ways through the filter table, each decided by a few fields (addresses,
/// states, mark) and not by the ports that make every connection different. Only walks
/// that drew on nothing but the packet and its context are kept ([`Reads::impure`]), so a
/// walk remembered is the walk the rules would take again; like [`SkipIndex`], it changes
/// nothing but the time.
#[derive(Debug)]
pub struct Walks {
    /// The sets of fields walks read, per table and hook (see [`Walks::at`]): the keys to
    /// try.
    reads: Vec<Vec<u16>>,
    slots: Vec<Option<(WalkKey, Walked)>>,
}

impl Default for Walks {
    fn default() -> Walks {
        Walks {
            reads: vec![Vec::new(); 3 * HOOKS.len()],
            slots: vec![None; WALK_SLOTS],
        }
    }
}

impl Walks {
    /// Where the field sets of `key`'s table and hook are kept.
    fn at(key: &WalkKey) -> usize {
        let table = match key.table {
            TableName::Filter => 0,
            TableName::Nat => 1,
            TableName::Mangle => 2,
        };
        table * HOOKS.len() + key.hook
    }

    /// A remembered walk for the packet `key` describes.
    pub fn find(&self, key: &WalkKey) -> Option<&Walked> {
        self.reads.get(Walks::at(key))?.iter().find_map(|fields| {
            let only = key.only(*fields);
            match self.slots.get(only.slot()) {
                Some(Some((at, walked))) if *at == only => Some(walked),
                _ => None,
            }
        })
    }

    /// Remembers the walk of the packet `key` describes, which read `reads`.
    pub fn remember(&mut self, key: &WalkKey, reads: Reads, walked: Walked) {
        if reads.impure {
            return;
        }
        let Some(seen) = self.reads.get_mut(Walks::at(key)) else {
            return;
        };
        if !seen.contains(&reads.fields) {
            seen.push(reads.fields);
        }
        let only = key.only(reads.fields);
        if let Some(slot) = self.slots.get_mut(only.slot()) {
            *slot = Some((only, walked));
        }
    }
}

fn matches(
    rule: &Rule,
    pkt: &Packet,
    ctx: &MatchCtx<'_>,
    rng: &mut SimRng,
    ct: &mut dyn RecentLists,
    reads: &mut Reads,
) -> bool {
    let header = [
        (rule.src.is_some(), Reads::SRC),
        (rule.dst.is_some(), Reads::DST),
        (rule.in_iface.is_some(), Reads::IN),
        (rule.out_iface.is_some(), Reads::OUT),
        (rule.proto.is_some(), Reads::PROTO),
    ];
    for (present, field) in header {
        if present {
            reads.fields |= field;
        }
    }
    if !addr_ok(&rule.src, pkt.src)
        || !addr_ok(&rule.dst, pkt.dst)
        || !iface_ok(&rule.in_iface, ctx.in_dev)
        || !iface_ok(&rule.out_iface, ctx.out_dev)
    {
        return false;
    }
    if let Some(p) = rule.proto
        && p != pkt.proto()
    {
        return false;
    }
    for m in &rule.matches {
        let ok = match m {
            Match::Comment(_) => true,
            Match::Port { proto, dport } => {
                reads.fields |= Reads::PROTO | Reads::DPORT;
                *proto == pkt.proto() && dport.is_none_or(|d| d == pkt.ports().1)
            }
            Match::AddrTypeLocal { source, negate } => {
                reads.fields |= if *source { Reads::SRC } else { Reads::DST };
                let ip = if *source { pkt.src } else { pkt.dst };
                is_local(ctx.local, ip) != *negate
            }
            Match::Conntrack { negate, states } => {
                reads.fields |= Reads::STATES;
                states.iter().any(|s| ctx.states.contains(s)) != *negate
            }
            Match::Mark {
                negate,
                value,
                mask,
            } => {
                reads.fields |= Reads::MARK;
                ((pkt.mark & mask) == *value) != *negate
            }
            Match::Statistic { probability } => {
                reads.impure = true;
                // xt_statistic: (get_random_u32() & 0x7FFFFFFF) < probability.
                ((rng.next_u64() as u32) & 0x7FFF_FFFF) < *probability
            }
            Match::Recent { mode, name } => {
                reads.impure = true;
                let list = ct.lists().entry(name.clone()).or_default();
                match mode {
                    RecentMode::Set => {
                        list.insert(pkt.src, ctx.now_ms);
                        true
                    }
                    RecentMode::Rcheck { seconds, reap } => {
                        let window = i64::from(*seconds) * 1000;
                        if *reap {
                            list.retain(|_, seen| ctx.now_ms - *seen <= window);
                        }
                        list.get(&pkt.src)
                            .is_some_and(|seen| ctx.now_ms - *seen <= window)
                    }
                }
            }
        };
        if !ok {
            return false;
        }
    }
    true
}

/// Where a walk reports the rules that matched (none when nobody asked to see them).
pub type Trace<'a> = Option<&'a mut dyn FnMut(HopKind, &Packet)>;

/// How deep jumps nest before the walk stops following them.
const MAX_DEPTH: usize = 64;

/// Frames kept inline: kube-proxy's deepest jumps nest four chains.
const INLINE_DEPTH: usize = 8;

/// iptables' jump stack of (chain, next rule index) frames: the first few on the machine
/// stack, so that a walk allocates nothing.
struct Frames {
    inline: [(usize, usize); INLINE_DEPTH],
    deeper: Vec<(usize, usize)>,
    len: usize,
}

impl Frames {
    /// Pushes `frame` unless the stack is full.
    fn push(&mut self, frame: (usize, usize)) -> bool {
        if self.len >= MAX_DEPTH {
            return false;
        }
        match self.inline.get_mut(self.len) {
            Some(slot) => *slot = frame,
            None => self.deeper.push(frame),
        }
        self.len += 1;
        true
    }

    fn pop(&mut self) -> Option<(usize, usize)> {
        self.len = self.len.checked_sub(1)?;
        match self.inline.get(self.len) {
            Some(frame) => Some(*frame),
            None => self.deeper.pop(),
        }
    }
}

/// Walks `table`'s built-in chain `hook` (a place in [`HOOKS`]) for `pkt`. Each rule that
/// matches is reported to `trace` (as `HopKind::Rule`), if there is one; MARK targets change
/// the packet's mark on the way. Returns the verdict and the comment of the rule that decided
/// it, if any.
#[allow(clippy::too_many_arguments)]
pub fn run_hook<'r>(
    rules: &'r Ruleset,
    resolved: &Resolved,
    skip: &SkipIndex,
    table: TableName,
    hook: usize,
    pkt: &mut Packet,
    ctx: &MatchCtx<'_>,
    rng: &mut SimRng,
    ct: &mut dyn RecentLists,
    reads: &mut Reads,
    mut trace: Trace<'_>,
) -> (Verdict, Option<&'r str>) {
    let Some(names) = resolved.table(table) else {
        return (Verdict::Accept, None);
    };
    let Some(t) = rules.tables.get(names.at) else {
        return (Verdict::Accept, None);
    };
    let Some(start) = names.hooks.get(hook).copied().flatten() else {
        return (Verdict::Accept, None);
    };
    let runs = skip.table(table);
    let mut stack = Frames {
        inline: [(0, 0); INLINE_DEPTH],
        deeper: Vec::new(),
        len: 0,
    };
    let mut frame = (start, 0usize);
    loop {
        let chain = &t.chains()[frame.0];
        if let Some(cr) = runs.get(frame.0) {
            let at = cr.next(frame.1, pkt.dst);
            if cr.run_of.get(frame.1).is_some_and(Option::is_some) {
                reads.fields |= Reads::DST;
            }
            frame.1 = at;
        }
        let Some(rule) = chain.rules.get(frame.1) else {
            // Fell off the end: return to the caller, or apply the built-in chain's policy.
            match stack.pop() {
                Some(up) => {
                    frame = up;
                    continue;
                }
                None => {
                    return match &chain.policy {
                        Some(Target::Drop) => {
                            if let Some(trace) = trace.as_mut() {
                                trace(
                                    HopKind::Policy {
                                        table,
                                        chain: chain.name.clone(),
                                    },
                                    pkt,
                                );
                            }
                            (Verdict::Drop, None)
                        }
                        _ => (Verdict::Accept, None),
                    };
                }
            }
        };
        frame.1 += 1;
        if !matches(rule, pkt, ctx, rng, ct, reads) {
            continue;
        }
        if let Some(trace) = trace.as_mut() {
            trace(
                HopKind::Rule {
                    table,
                    chain: chain.name.clone(),
                    index: frame.1 - 1,
                },
                pkt,
            );
        }
        match &rule.target {
            Target::None => {}
            Target::Jump(_) => {
                let next = names
                    .jumps
                    .get(frame.0)
                    .and_then(|j| j.get(frame.1 - 1))
                    .copied()
                    .flatten();
                if let Some(next) = next
                    && stack.push(frame)
                {
                    frame = (next, 0);
                }
            }
            Target::Return => match stack.pop() {
                Some(up) => frame = up,
                None => {
                    return match &chain.policy {
                        Some(Target::Drop) => (Verdict::Drop, None),
                        _ => (Verdict::Accept, None),
                    };
                }
            },
            Target::SetXMark { value, mask } => {
                reads.fields |= Reads::MARK;
                pkt.mark = (pkt.mark & !mask) ^ value;
            }
            terminal => {
                let verdict = match terminal {
                    Target::Drop => Verdict::Drop,
                    Target::Reject => Verdict::Reject,
                    Target::Masquerade { random_fully } => Verdict::Masquerade {
                        random_fully: *random_fully,
                    },
                    Target::Dnat { ip, port } => Verdict::Dnat(*ip, *port),
                    _ => Verdict::Accept,
                };
                return (verdict, rule.comment());
            }
        }
    }
}

/// [`run_hook`] through a namespace's remembered walks: with `walks` and `key` (the packet
/// at this table and hook; none when the walk is traced, which a remembered one cannot be),
/// a walk the rules took before for packets like this one answers, or the rules are walked
/// and the walk remembered. Returns the verdict and, when the verdict drops the packet, the
/// deciding rule's comment.
#[allow(clippy::too_many_arguments)]
pub fn run_hook_remembered(
    remembered: Option<(&RefCell<Walks>, WalkKey)>,
    rules: &Ruleset,
    resolved: &Resolved,
    skip: &SkipIndex,
    table: TableName,
    hook: usize,
    pkt: &mut Packet,
    ctx: &MatchCtx<'_>,
    rng: &mut SimRng,
    ct: &mut dyn RecentLists,
    trace: Trace<'_>,
) -> (Verdict, Option<String>) {
    if let Some((walks, key)) = &remembered
        && let Some(walked) = walks.borrow().find(key)
    {
        if let Some(mark) = walked.mark {
            pkt.mark = mark;
        }
        return (walked.verdict, walked.comment.clone());
    }
    let mut reads = Reads::default();
    let (verdict, comment) = run_hook(
        rules, resolved, skip, table, hook, pkt, ctx, rng, ct, &mut reads, trace,
    );
    let comment = match verdict {
        Verdict::Drop | Verdict::Reject => comment.map(str::to_string),
        _ => None,
    };
    if let Some((walks, key)) = &remembered {
        walks.borrow_mut().remember(
            key,
            reads,
            Walked {
                verdict,
                comment: comment.clone(),
                mark: (reads.fields & Reads::MARK != 0).then_some(pkt.mark),
            },
        );
    }
    (verdict, comment)
}

#[cfg(test)]
mod tests {
    use super::*;
    use netsim_model::netfilter::{Proto, Table};
    use netsim_model::packet::{L4, Payload, TcpFlags};

    /// kube-proxy's shape: a long KUBE-SERVICES of per-address rules (two ports for some
    /// addresses), each Service chain choosing among endpoints with `statistic`, a rule
    /// without a destination at the end.
    fn ruleset() -> Ruleset {
        let mut t = Table::new(TableName::Nat);
        t.append(
            "PREROUTING",
            Rule::new(Target::Jump("KUBE-SERVICES".into())),
        );
        for i in 1..=40u8 {
            let svc = format!("KUBE-SVC-{i}");
            let ip = Ipv4Addr::new(10, 96, 0, i);
            t.append(
                "KUBE-SERVICES",
                Rule::new(Target::Jump(svc.clone()))
                    .dst_ip(ip)
                    .dport(Proto::Tcp, 80),
            );
            if i % 3 == 0 {
                t.append(
                    "KUBE-SERVICES",
                    Rule::new(Target::Jump(svc.clone()))
                        .dst_ip(ip)
                        .dport(Proto::Tcp, 443),
                );
            }
            for e in 0..3u8 {
                let dnat = Rule::new(Target::Dnat {
                    ip: Ipv4Addr::new(10, 244, i, e + 1),
                    port: 8080,
                })
                .dport(Proto::Tcp, 80);
                let rule = if e < 2 {
                    dnat.matching(Match::statistic(1.0 / f64::from(3 - e)))
                } else {
                    dnat
                };
                t.append(&svc, rule);
            }
        }
        t.append(
            "KUBE-SERVICES",
            Rule::new(Target::Jump("KUBE-NODEPORTS".into())).matching(Match::AddrTypeLocal {
                source: false,
                negate: false,
            }),
        );
        Ruleset { tables: vec![t] }
    }

    fn walk(rules: &Ruleset, skip: &SkipIndex, dst: Ipv4Addr, dport: u16, seed: u64) -> String {
        let mut pkt = Packet {
            src: Ipv4Addr::new(10, 244, 9, 9),
            dst,
            ttl: 64,
            mark: 0,
            l4: L4::Tcp {
                sport: 40000,
                dport,
                flags: TcpFlags {
                    syn: true,
                    ..TcpFlags::default()
                },
            },
            payload: Payload::None,
        };
        let ctx = MatchCtx {
            in_dev: Some("cni0"),
            out_dev: None,
            states: &[],
            local: &[],
            now_ms: 0,
        };
        let mut rng = SimRng::new(seed);
        let mut ct = Conntrack::default();
        let mut seen = Vec::new();
        let verdict = run_hook(
            rules,
            &Resolved::build(rules),
            skip,
            TableName::Nat,
            0,
            &mut pkt,
            &ctx,
            &mut rng,
            &mut ct,
            &mut Reads::default(),
            Some(&mut |kind, _| seen.push(format!("{kind:?}"))),
        );
        format!("{verdict:?} {seen:?} next random {}", rng.next_u64())
    }

    #[test]
    fn the_skip_index_changes_nothing_but_the_time() {
        let rules = ruleset();
        let skip = SkipIndex::build(&rules);
        assert!(
            !skip.tables[0].1.iter().all(|c| c.runs.is_empty()),
            "KUBE-SERVICES is long enough to get a run"
        );
        let none = SkipIndex::default();
        for seed in 0..5 {
            for last in [1u8, 2, 3, 20, 39, 40, 41, 200] {
                for port in [80, 443, 53] {
                    let dst = Ipv4Addr::new(10, 96, 0, last);
                    assert_eq!(
                        walk(&rules, &skip, dst, port, seed),
                        walk(&rules, &none, dst, port, seed),
                        "{dst}:{port} seed {seed}"
                    );
                }
            }
        }
    }

    /// kube-proxy's and flannel's filter shape (states, marks, addresses, interfaces, a
    /// port, addrtype, a drop policy) and nat's (statistic, MARK, `recent`).
    fn varied_ruleset() -> Ruleset {
        let net = |s: &str| s.parse::<Ipv4Net>().expect("a network");
        let states = |negate, states: &[CtState]| Match::Conntrack {
            negate,
            states: states.to_vec(),
        };
        let mut filter = Table::new(TableName::Filter);
        filter.chain_mut("FORWARD").policy = Some(Target::Drop);
        filter.append(
            "FORWARD",
            Rule::new(Target::Jump("KUBE-PROXY-FIREWALL".into()))
                .matching(states(false, &[CtState::New])),
        );
        filter.chain_mut("KUBE-PROXY-FIREWALL");
        filter.append(
            "FORWARD",
            Rule::new(Target::Jump("KUBE-FORWARD".into())).comment_match("forwarding rules"),
        );
        filter.append(
            "KUBE-FORWARD",
            Rule::new(Target::Drop).matching(states(false, &[CtState::Invalid])),
        );
        filter.append(
            "KUBE-FORWARD",
            Rule::new(Target::Accept).matching(Match::Mark {
                negate: false,
                value: 0x4000,
                mask: 0x4000,
            }),
        );
        filter.append(
            "KUBE-FORWARD",
            Rule::new(Target::Accept)
                .matching(states(false, &[CtState::Related, CtState::Established])),
        );
        filter.append(
            "FORWARD",
            Rule::new(Target::Reject)
                .dport(Proto::Tcp, 22)
                .comment_match("default/ssh has no endpoints"),
        );
        filter.append(
            "FORWARD",
            Rule::new(Target::Accept).src(false, net("10.244.0.0/16")),
        );
        filter.append(
            "FORWARD",
            Rule::new(Target::Accept)
                .in_iface(false, "docker0")
                .out_iface(true, "docker0"),
        );
        filter.append(
            "FORWARD",
            Rule::new(Target::Drop)
                .out_iface(false, "cni+")
                .matching(Match::AddrTypeLocal {
                    source: true,
                    negate: false,
                })
                .comment_match("local to pods"),
        );
        let mut rules = ruleset();
        rules.tables.push(filter);
        let nat = rules.table_mut(TableName::Nat);
        nat.append(
            "KUBE-MARK-MASQ",
            Rule::new(Target::SetXMark {
                value: 0x4000,
                mask: 0x4000,
            }),
        );
        nat.insert(
            "PREROUTING",
            Rule::new(Target::Jump("KUBE-MARK-MASQ".into())).src(true, net("10.244.0.0/16")),
        );
        nat.insert(
            "PREROUTING",
            Rule::new(Target::None)
                .dst_ip(Ipv4Addr::new(10, 96, 0, 7))
                .matching(Match::Recent {
                    mode: RecentMode::Set,
                    name: "KUBE-SEP-X".into(),
                }),
        );
        rules
    }

    #[test]
    fn remembered_walks_change_nothing_but_the_time() {
        let rules = varied_ruleset();
        let resolved = Resolved::build(&rules);
        let skip = SkipIndex::build(&rules);
        let walks = RefCell::new(Walks::default());
        let devs = ["cni0", "docker0", "eth0", "flannel.1"];
        let local = ["10.0.0.10/24".parse::<Ipv4Net>().expect("a network")];
        let (mut rng_a, mut rng_b) = (SimRng::new(7), SimRng::new(7));
        let (mut ct_a, mut ct_b) = (Conntrack::default(), Conntrack::default());
        let mut hits = 0;
        let mut x: u64 = 3;
        for step in 0..4000 {
            let mut pick = |n: u64| {
                x = x
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                (x >> 33) % n
            };
            let srcs = [
                [10, 244, 1, 3],
                [10, 0, 0, 10],
                [192, 168, 1, 9],
                [10, 244, 2, 7],
            ];
            let dsts = [
                [10, 96, 0, 1],
                [10, 96, 0, 7],
                [10, 96, 0, 40],
                [10, 244, 2, 3],
            ];
            let mut pkt = Packet {
                src: Ipv4Addr::from(srcs[pick(4) as usize]),
                dst: Ipv4Addr::from(dsts[pick(4) as usize]),
                ttl: 64,
                mark: [0, 0x4000, 0x8000][pick(3) as usize],
                l4: L4::Tcp {
                    sport: 32768 + pick(1000) as u16,
                    dport: [80, 443, 22, 53][pick(4) as usize],
                    flags: TcpFlags::default(),
                },
                payload: Payload::None,
            };
            let state_sets: [&[CtState]; 4] = [
                &[CtState::New],
                &[CtState::New, CtState::Dnat],
                &[CtState::Established],
                &[CtState::Invalid],
            ];
            let states = state_sets[pick(4) as usize];
            let in_dev = pick(5) as usize;
            let out_dev = pick(5) as usize;
            let name = |i: usize| devs.get(i).copied();
            let ctx = MatchCtx {
                in_dev: name(in_dev),
                out_dev: name(out_dev),
                states,
                local: &local,
                now_ms: step,
            };
            let (table, hook) = [
                (TableName::Filter, 2),
                (TableName::Nat, 0),
                (TableName::Nat, 0),
            ][pick(3) as usize];
            let id = |i: usize| if i < devs.len() { i as u8 + 1 } else { 0 };
            let key = WalkKey::new(table, hook, &pkt, states, (id(in_dev), id(out_dev)));
            let found = walks.borrow().find(&key).is_some();
            hits += usize::from(found);
            let mut plain = pkt.clone();
            let a = run_hook_remembered(
                Some((&walks, key)),
                &rules,
                &resolved,
                &skip,
                table,
                hook,
                &mut pkt,
                &ctx,
                &mut rng_a,
                &mut ct_a,
                None,
            );
            let b = run_hook_remembered(
                None, &rules, &resolved, &skip, table, hook, &mut plain, &ctx, &mut rng_b,
                &mut ct_b, None,
            );
            assert_eq!(
                (a, pkt.mark),
                (b, plain.mark),
                "step {step}: {plain:?} {states:?}"
            );
        }
        assert_eq!(
            rng_a.next_u64(),
            rng_b.next_u64(),
            "the same random numbers drawn"
        );
        assert_eq!(ct_a.recent, ct_b.recent);
        assert!(hits > 2000, "most walks were remembered ({hits})");
    }
}
