//! A node's netfilter hooks with conntrack: which tables run at which hook, NAT on a
//! connection's first packet, and the translation of its later packets and replies.

use super::netfilter::{
    Hook, MatchCtx, Recent, RecentLists, Trace, Verdict, WalkKey, run_hook_remembered,
};
use super::{Dataplane, NodeCtx, Step};
use netsim_model::conntrack::{Conntrack, CtEntry, Direction, TcpState, Tuple};
use netsim_model::netfilter::{CtState, Proto, TableName};
use netsim_model::packet::{Icmp, L4, Packet};
use netsim_model::trace::{DropReason, HopKind, NatKind, NsId};
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// What conntrack knows about the packet being processed in one namespace.
pub(super) struct Track {
    /// An existing entry and the packet's direction in it.
    found: Option<(usize, Direction)>,
    /// An ICMP error about an existing entry's connection.
    related: Option<usize>,
    /// The entry `found` or `related` names, as it was when the packet met the table: it
    /// changes only when the packet leaves the namespace ([`Dataplane::confirm`]), so the
    /// hooks in between read it here instead of looking it up again.
    entry: Option<CtEntry>,
    /// For a new connection: its original tuple.
    new_orig: Option<Tuple>,
    /// A new connection's destination was rewritten.
    dnat: bool,
    /// A new connection's source was rewritten.
    snat: bool,
}

impl Track {
    fn is_new(&self) -> bool {
        self.new_orig.is_some()
    }
}

/// The connection states a packet has at a hook (at most two: one of NEW, ESTABLISHED,
/// RELATED, INVALID, and DNAT).
struct States {
    states: [CtState; 2],
    len: usize,
}

impl States {
    fn push(&mut self, state: CtState) {
        if let Some(slot) = self.states.get_mut(self.len) {
            *slot = state;
            self.len += 1;
        }
    }

    fn as_slice(&self) -> &[CtState] {
        self.states.get(..self.len).unwrap_or_default()
    }
}

/// Whether `pkt` reopens the connection of `entry`, its tuple's entry in the original
/// direction: a bare SYN meeting a connection that closed (TIME_WAIT or CLOSE).
fn reopens(pkt: &Packet, entry: &CtEntry) -> bool {
    matches!(pkt.l4, L4::Tcp { flags, .. } if flags.syn && !flags.ack && !flags.rst)
        && matches!(entry.tcp_state, Some(TcpState::TimeWait | TcpState::Close))
}

/// `node`'s conntrack table in `tables`, made empty the first time a packet meets it.
fn table_of<'a>(tables: &'a mut BTreeMap<String, Conntrack>, node: &str) -> &'a mut Conntrack {
    // Looked up by `&str` first: the table exists for every packet but a node's first, and
    // the key is allocated only then.
    if !tables.contains_key(node) {
        tables.insert(node.to_string(), Conntrack::default());
    }
    match tables.get_mut(node) {
        Some(ct) => ct,
        None => unreachable!("the table was just inserted"),
    }
}

/// A node's `recent` lists, found only by a walk that meets a `recent` rule (few do, and
/// the table is found by name).
struct NodeRecent<'a> {
    tables: &'a mut BTreeMap<String, Conntrack>,
    node: &'a str,
}

impl RecentLists for NodeRecent<'_> {
    fn lists(&mut self) -> &mut Recent {
        &mut table_of(self.tables, self.node).recent
    }
}

impl Dataplane<'_> {
    fn conntrack_of(&mut self, node: &str) -> &mut Conntrack {
        table_of(&mut self.sim.conntrack, node)
    }

    /// Looks the packet up in the node's conntrack table.
    pub(super) fn track(&mut self, node: &NodeCtx, pkt: &mut Packet) -> Track {
        let now = self.now_ms();
        // One search when the table exists (a packet's every visit but a node's first).
        let tables = &mut self.sim.conntrack;
        let ct = match tables.get_mut(&*node.name) {
            Some(ct) => ct,
            None => tables.entry(node.name.to_string()).or_default(),
        };
        ct.expire(now);
        if let L4::Icmp(Icmp::Unreachable { original, .. }) = &mut pkt.l4 {
            // An ICMP error belongs to the connection of the packet it quotes (RELATED).
            let hit = ct.related(original.0, original.1);
            return Track {
                found: None,
                related: hit,
                entry: hit.map(|i| ct.entry(i).clone()),
                new_orig: None,
                dnat: false,
                snat: false,
            };
        }
        let mut found = ct.lookup(pkt.proto(), pkt.tuple());
        if let Some((id, Direction::Original)) = found
            && reopens(pkt, ct.entry(id))
        {
            // "Attempt to reopen a closed/aborted connection. Delete this connection and
            // look up again" (`nf_conntrack_proto_tcp`): the SYN starts a new connection,
            // with its own NAT decision.
            ct.kill(id);
            found = None;
        }
        match found {
            Some(found) => Track {
                found: Some(found),
                related: None,
                entry: Some(ct.entry(found.0).clone()),
                new_orig: None,
                dnat: false,
                snat: false,
            },
            None => Track {
                found: None,
                related: None,
                entry: None,
                new_orig: Some(pkt.tuple()),
                dnat: false,
                snat: false,
            },
        }
    }

    fn states(track: &Track) -> States {
        let mut out = States {
            states: [CtState::Invalid; 2],
            len: 0,
        };
        if track.is_new() {
            out.push(CtState::New);
            if track.dnat {
                out.push(CtState::Dnat);
            }
        } else if let (Some((_, dir)), Some(entry)) = (track.found, &track.entry) {
            if dir == Direction::Reply || entry.seen_reply {
                out.push(CtState::Established);
            } else {
                out.push(CtState::New);
            }
            if entry.dnat {
                out.push(CtState::Dnat);
            }
        } else if track.related.is_some() {
            out.push(CtState::Related);
        } else {
            out.push(CtState::Invalid);
        }
        out
    }

    /// Runs `table`'s chain `hook` and traces the rules that matched. Keeps the deciding
    /// rule's comment when the verdict drops the packet (the only time it is read).
    #[allow(clippy::too_many_arguments)]
    fn table(
        &mut self,
        ns: &NsId,
        node: &NodeCtx,
        table: TableName,
        hook: Hook,
        pkt: &mut Packet,
        track: &Track,
        in_dev: Option<&str>,
        out_dev: Option<&str>,
    ) -> Verdict {
        let hook = hook.index();
        if node.resolved.accepts_all(table, hook) {
            self.last_comment = None;
            return Verdict::Accept;
        }
        let states = Self::states(track);
        // A walk is looked up (and remembered) only when it is not traced, and when the
        // interfaces are ones the namespace has.
        let remembered = match (self.record, node.dev_id(in_dev), node.dev_id(out_dev)) {
            (false, Some(i), Some(o)) => Some((
                &node.walks,
                WalkKey::new(table, hook, pkt, states.as_slice(), (i, o)),
            )),
            _ => None,
        };
        let now_ms = self.now_ms();
        let ctx = MatchCtx {
            in_dev,
            out_dev,
            states: states.as_slice(),
            local: &node.local,
            now_ms,
        };
        let mut hops: Vec<(HopKind, Packet)> = Vec::new();
        let mut collect = |kind, p: &Packet| hops.push((kind, p.clone()));
        let trace: Trace<'_> = if self.record {
            Some(&mut collect)
        } else {
            None
        };
        let sim = &mut *self.sim;
        let (verdict, comment) = run_hook_remembered(
            remembered,
            &node.rules,
            &node.resolved,
            &node.skip,
            table,
            hook,
            pkt,
            &ctx,
            &mut sim.rng,
            &mut NodeRecent {
                tables: &mut sim.conntrack,
                node: &node.name,
            },
            trace,
        );
        self.last_comment = comment;
        for (kind, p) in hops {
            self.hop(ns, &p, || kind);
        }
        verdict
    }

    /// Why the last deciding rule (by its comment) dropped a packet.
    fn reason(&self) -> DropReason {
        match self.last_comment.as_deref() {
            Some(c) if c.ends_with("has no endpoints") || c.ends_with("has no local endpoints") => {
                DropReason::ServiceBackendNotFound
            }
            Some(c) if c.ends_with("traffic not accepted by FW") => DropReason::SourceRangeDenied,
            _ => DropReason::PolicyDenied,
        }
    }

    fn dropped(&mut self, ns: &NsId, pkt: &Packet, table: TableName, hook: Hook) -> Step {
        let comment = self.last_comment.clone();
        let reason = self.reason();
        self.drop_with(ns, pkt, reason, || match comment {
            Some(c) => format!(
                "dropped by the {} table's {hook} rules: \"{c}\"",
                table.as_str()
            ),
            None => format!("dropped by the {} table's {hook} rules", table.as_str()),
        })
    }

    fn filter(
        &mut self,
        ns: &NsId,
        node: &NodeCtx,
        hook: Hook,
        pkt: &mut Packet,
        track: &Track,
        devs: (Option<&str>, Option<&str>),
    ) -> Result<(), Step> {
        for table in [TableName::Mangle, TableName::Filter] {
            match self.table(ns, node, table, hook, pkt, track, devs.0, devs.1) {
                Verdict::Accept | Verdict::Dnat(..) | Verdict::Masquerade { .. } => {}
                Verdict::Drop => return Err(self.dropped(ns, pkt, table, hook)),
                Verdict::Reject => {
                    let comment = self.last_comment.clone();
                    let reason = self.reason();
                    self.hop(ns, pkt, || {
                        let why = comment.map(|c| format!(": \"{c}\"")).unwrap_or_default();
                        let detail = format!(
                            "rejected by the {} table's {hook} rules{why}; an ICMP port unreachable goes back",
                            table.as_str()
                        );
                        HopKind::Dropped { reason, detail }
                    });
                    return Err(Step::Reject { ns: ns.clone() });
                }
            }
        }
        Ok(())
    }

    /// Destination NAT point (PREROUTING, OUTPUT): a new connection runs the nat chain, a
    /// tracked one is translated from its entry.
    fn dst_nat(
        &mut self,
        ns: &NsId,
        node: &NodeCtx,
        hook: Hook,
        pkt: &mut Packet,
        track: &mut Track,
        devs: (Option<&str>, Option<&str>),
    ) -> Result<(), Step> {
        match self.table(
            ns,
            node,
            TableName::Mangle,
            hook,
            pkt,
            track,
            devs.0,
            devs.1,
        ) {
            Verdict::Drop | Verdict::Reject => {
                return Err(self.dropped(ns, pkt, TableName::Mangle, hook));
            }
            _ => {}
        }
        if track.is_new() {
            match self.table(ns, node, TableName::Nat, hook, pkt, track, devs.0, devs.1) {
                Verdict::Dnat(ip, port) => {
                    // Like the kernel's IPS_DST_NAT (`--ctstate DNAT`): set only when the
                    // translation changed the destination.
                    track.dnat |= (pkt.dst, pkt.ports().1) != (ip, port);
                    self.rewrite(ns, pkt, true, (ip, port), NatKind::Dnat);
                }
                Verdict::Drop | Verdict::Reject => {
                    return Err(self.dropped(ns, pkt, TableName::Nat, hook));
                }
                _ => self.null_binding(ns, node, pkt, track),
            }
            return Ok(());
        }
        let (entry, dir) = match (track.found, track.related) {
            (Some((_, dir)), _) => match &track.entry {
                Some(entry) => (entry.clone(), dir),
                None => return Ok(()),
            },
            (None, Some(_)) => {
                // An ICMP error: restore the quoted packet and send it to the original source.
                let Some(entry) = track.entry.clone() else {
                    return Ok(());
                };
                if let L4::Icmp(Icmp::Unreachable { original, .. }) = &mut pkt.l4 {
                    original.1 = entry.orig;
                }
                if pkt.dst != entry.orig.src {
                    let from = (pkt.dst, 0);
                    pkt.dst = entry.orig.src;
                    self.hop(ns, pkt, || HopKind::Nat {
                        kind: NatKind::UnSnat,
                        from,
                        to: (entry.orig.src, 0),
                    });
                }
                return Ok(());
            }
            (None, None) => return Ok(()),
        };
        match dir {
            Direction::Original if entry.dnat => self.rewrite(
                ns,
                pkt,
                true,
                (entry.reply.src, entry.reply.sport),
                NatKind::Tracked,
            ),
            Direction::Reply if entry.snat => self.rewrite(
                ns,
                pkt,
                true,
                (entry.orig.src, entry.orig.sport),
                NatKind::UnSnat,
            ),
            _ => {}
        }
        Ok(())
    }

    /// Rewrites the packet's destination (`destination`) or source address and port to `to`,
    /// and traces it when that changes anything.
    fn rewrite(
        &mut self,
        ns: &NsId,
        pkt: &mut Packet,
        destination: bool,
        to: (Ipv4Addr, u16),
        kind: NatKind,
    ) {
        let (sport, dport) = pkt.ports();
        let from = if destination {
            (pkt.dst, dport)
        } else {
            (pkt.src, sport)
        };
        if from == to {
            return;
        }
        if destination {
            pkt.dst = to.0;
            pkt.set_ports(sport, to.1);
        } else {
            pkt.src = to.0;
            pkt.set_ports(to.1, dport);
        }
        self.hop(ns, pkt, || HopKind::Nat { kind, from, to });
    }

    /// Source NAT point (POSTROUTING, INPUT).
    #[allow(clippy::too_many_arguments)]
    fn src_nat(
        &mut self,
        ns: &NsId,
        node: &NodeCtx,
        hook: Hook,
        pkt: &mut Packet,
        track: &mut Track,
        devs: (Option<&str>, Option<&str>),
        out_addr: Option<Ipv4Addr>,
    ) -> Result<(), Step> {
        if track.is_new() {
            match self.table(ns, node, TableName::Nat, hook, pkt, track, devs.0, devs.1) {
                Verdict::Masquerade { random_fully } => {
                    let Some(addr) = out_addr else { return Ok(()) };
                    let (sport, dport) = pkt.ports();
                    let mut new_port = sport;
                    let reply_for = |port: u16, p: &Packet| Tuple {
                        src: p.dst,
                        dst: addr,
                        sport: dport,
                        dport: port,
                    };
                    let proto = pkt.proto();
                    if random_fully
                        || self
                            .conntrack_of(&node.name)
                            .reply_in_use(proto, reply_for(sport, pkt))
                    {
                        for _ in 0..64 {
                            let candidate = self.sim.rng.range(1024, 65536) as u16;
                            if !self
                                .conntrack_of(&node.name)
                                .reply_in_use(proto, reply_for(candidate, pkt))
                            {
                                new_port = candidate;
                                break;
                            }
                        }
                    }
                    // An echo keeps its id (the remapping `--random-fully` would do is not
                    // modelled) unless another connection's reply already has it: then, as in
                    // the kernel, it gets a free one, or the answers would reach the wrong pod.
                    if proto == Proto::Icmp
                        && !self
                            .conntrack_of(&node.name)
                            .reply_in_use(proto, reply_for(sport, pkt))
                    {
                        new_port = sport;
                    }
                    let from = (pkt.src, sport);
                    pkt.src = addr;
                    pkt.set_ports(new_port, dport);
                    // IPS_SRC_NAT only when the source changed: MASQUERADE of a packet that
                    // already leaves from the interface's address and a free port is a no-op.
                    track.snat |= from != (addr, new_port);
                    self.hop(ns, pkt, || HopKind::Nat {
                        kind: NatKind::Masquerade,
                        from,
                        to: (addr, new_port),
                    });
                }
                Verdict::Drop | Verdict::Reject => {
                    return Err(self.dropped(ns, pkt, TableName::Nat, hook));
                }
                _ => self.null_binding(ns, node, pkt, track),
            }
            return Ok(());
        }
        let (Some((_, dir)), Some(entry)) = (track.found, &track.entry) else {
            return Ok(());
        };
        match dir {
            Direction::Original if entry.snat => self.rewrite(
                ns,
                pkt,
                false,
                (entry.reply.dst, entry.reply.dport),
                NatKind::Tracked,
            ),
            Direction::Reply if entry.dnat => self.rewrite(
                ns,
                pkt,
                false,
                (entry.orig.dst, entry.orig.dport),
                NatKind::UnDnat,
            ),
            _ => {}
        }
        Ok(())
    }

    pub(super) fn hook_prerouting(
        &mut self,
        ns: &NsId,
        node: &NodeCtx,
        pkt: &mut Packet,
        track: &mut Track,
        in_dev: &str,
    ) -> Result<(), Step> {
        self.dst_nat(ns, node, Hook::Prerouting, pkt, track, (Some(in_dev), None))
    }

    pub(super) fn hook_output(
        &mut self,
        ns: &NsId,
        node: &NodeCtx,
        pkt: &mut Packet,
        track: &mut Track,
        out_dev: Option<&str>,
    ) -> Result<(), Step> {
        self.dst_nat(ns, node, Hook::Output, pkt, track, (None, out_dev))?;
        self.filter(ns, node, Hook::Output, pkt, track, (None, out_dev))
    }

    pub(super) fn hook_input(
        &mut self,
        ns: &NsId,
        node: &NodeCtx,
        pkt: &mut Packet,
        track: &mut Track,
        in_dev: Option<&str>,
    ) -> Result<(), Step> {
        self.filter(ns, node, Hook::Input, pkt, track, (in_dev, None))?;
        self.src_nat(ns, node, Hook::Input, pkt, track, (in_dev, None), None)
    }

    pub(super) fn hook_forward(
        &mut self,
        ns: &NsId,
        node: &NodeCtx,
        pkt: &mut Packet,
        track: &mut Track,
        in_dev: &str,
        out_dev: &str,
    ) -> Result<(), Step> {
        self.filter(
            ns,
            node,
            Hook::Forward,
            pkt,
            track,
            (Some(in_dev), Some(out_dev)),
        )
    }

    pub(super) fn hook_postrouting(
        &mut self,
        ns: &NsId,
        node: &NodeCtx,
        pkt: &mut Packet,
        track: &mut Track,
        in_dev: Option<&str>,
        out_dev: &str,
    ) -> Result<(), Step> {
        match self.table(
            ns,
            node,
            TableName::Mangle,
            Hook::Postrouting,
            pkt,
            track,
            in_dev,
            Some(out_dev),
        ) {
            Verdict::Drop | Verdict::Reject => {
                return Err(self.dropped(ns, pkt, TableName::Mangle, Hook::Postrouting));
            }
            _ => {}
        }
        let out_addr = node
            .netns
            .link(out_dev)
            .and_then(|l| l.addrs.first())
            .map(|a| a.net.addr());
        self.src_nat(
            ns,
            node,
            Hook::Postrouting,
            pkt,
            track,
            (in_dev, Some(out_dev)),
            out_addr,
        )
    }

    /// No rule translated a new connection's source: the kernel still gives it a null
    /// binding, and if its reply tuple is already another connection's (a node's own
    /// connection from the port a masqueraded pod's connection took, say), picks another
    /// source port (or echo id) so that each connection's answers find it.
    fn null_binding(&mut self, ns: &NsId, node: &NodeCtx, pkt: &mut Packet, track: &mut Track) {
        let proto = pkt.proto();
        let (sport, dport) = pkt.ports();
        let reply_for = |port: u16, p: &Packet| Tuple {
            src: p.dst,
            dst: p.src,
            sport: dport,
            dport: port,
        };
        if !self
            .conntrack_of(&node.name)
            .reply_in_use(proto, reply_for(sport, pkt))
        {
            return;
        }
        // Ports below 1024 stay below it, as the kernel's range for a null binding does.
        let (low, high) = if sport < 1024 {
            (1, 1024)
        } else {
            (1024, 65536)
        };
        for _ in 0..64 {
            let candidate = self.sim.rng.range(low, high) as u16;
            if !self
                .conntrack_of(&node.name)
                .reply_in_use(proto, reply_for(candidate, pkt))
            {
                let from = (pkt.src, sport);
                pkt.set_ports(candidate, dport);
                track.snat = true;
                self.hop(ns, pkt, || HopKind::Nat {
                    kind: NatKind::SourcePortClash,
                    from,
                    to: (from.0, candidate),
                });
                return;
            }
        }
    }

    /// The packet leaves (or is delivered in) the namespace: a new connection's entry is
    /// confirmed, a tracked one's state moves on.
    pub(super) fn confirm(&mut self, node: &NodeCtx, pkt: &Packet, track: Track) {
        let now = self.now_ms();
        let flags = match &pkt.l4 {
            L4::Tcp { flags, .. } => Some(*flags),
            _ => None,
        };
        let record = self.record;
        // One search when the table exists (a packet's every visit but a node's first).
        let tables = &mut self.sim.conntrack;
        let ct = match tables.get_mut(&*node.name) {
            Some(ct) => ct,
            None => tables.entry(node.name.to_string()).or_default(),
        };
        let (entry, new) = if let Some(orig) = track.new_orig {
            let tcp_state = flags.map(|f| {
                if f.rst {
                    TcpState::Close
                } else {
                    TcpState::SynSent
                }
            });
            let timeout = tcp_state.map_or(30, TcpState::timeout_secs);
            let entry = CtEntry {
                proto: pkt.proto(),
                orig,
                reply: pkt.tuple().reversed(),
                tcp_state,
                seen_reply: false,
                assured: false,
                dnat: track.dnat,
                snat: track.snat,
                expires_ms: now + timeout * 1000,
            };
            ct.push(entry.clone());
            (entry, true)
        } else if let Some((i, dir)) = track.found {
            let updated = ct.update(i, |e| {
                if dir == Direction::Reply {
                    e.seen_reply = true;
                }
                match (e.tcp_state, flags) {
                    (Some(_), Some(f)) if f.rst => e.tcp_state = Some(TcpState::Close),
                    (Some(TcpState::SynSent), Some(f))
                        if dir == Direction::Reply && f.syn && f.ack =>
                    {
                        e.tcp_state = Some(TcpState::SynRecv)
                    }
                    (Some(TcpState::SynRecv), Some(f)) if dir == Direction::Original && f.ack => {
                        e.tcp_state = Some(TcpState::Established);
                        e.assured = true;
                    }
                    _ => {}
                }
                let timeout = match e.tcp_state {
                    Some(s) => s.timeout_secs(),
                    None if e.seen_reply => 30,
                    None => 30,
                };
                e.expires_ms = now + timeout * 1000;
                e.clone()
            });
            (updated, false)
        } else {
            return;
        };
        if record {
            let ns = NsId::Node(node.name.to_string());
            self.hop(&ns, pkt, || HopKind::Conntrack { entry, new });
        }
        if new {
            self.created.push((
                node.name.clone(),
                pkt.proto(),
                track.new_orig.unwrap_or(pkt.tuple()),
            ));
        }
    }
}
