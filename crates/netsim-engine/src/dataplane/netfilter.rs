//! Evaluating a namespace's [`Ruleset`] for one packet at one hook, the way `ip_tables` walks
//! chains: rules in order, jumps and returns on a stack, the built-in chain's policy at the end.
//! The rules are exactly those `iptables-save` prints.
//!
//! [`SkipIndex`] is the one shortcut: within a run of consecutive rules that each match a
//! single destination address (kube-proxy's `KUBE-SERVICES`, one or more rules per Service
//! address), a rule for another address cannot match, and — its destination being checked
//! before anything with an effect (`statistic`, `recent`) — skipping it changes nothing but
//! the time taken. The walk jumps straight to the next rule for the packet's destination.

use crate::rng::SimRng;
use ipnet::Ipv4Net;
use netsim_model::conntrack::Conntrack;
use netsim_model::netfilter::{
    AddrMatch, CtState, IfaceMatch, Match, RecentMode, Rule, Ruleset, TableName, Target,
};
use netsim_model::packet::Packet;
use netsim_model::trace::HopKind;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// A table's decision for a packet at a hook.
#[derive(Debug, Clone, PartialEq, Eq)]
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
                    run_of: vec![None; chain.rules.len()],
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

    /// Where the walk goes from rule `at` of chain `chain` for a packet to `dst`: `at` itself,
    /// or, inside a run, the next rule for `dst` (or the run's end).
    fn next(&self, table: TableName, chain: usize, at: usize, dst: Ipv4Addr) -> usize {
        let Some(cr) = self
            .tables
            .iter()
            .find(|(t, _)| *t == table)
            .and_then(|(_, c)| c.get(chain))
        else {
            return at;
        };
        let Some(Some(r)) = cr.run_of.get(at) else {
            return at;
        };
        let run = &cr.runs[*r];
        match run.by_dst.get(&dst) {
            Some(rules) => {
                let k = rules.partition_point(|&j| j < at);
                rules.get(k).copied().unwrap_or(run.end)
            }
            None => run.end,
        }
    }
}

/// Whether `rule` matches `pkt`; `statistic` and `recent` draw from `rng` and `ct` as the
/// kernel's do.
fn matches(
    rule: &Rule,
    pkt: &Packet,
    ctx: &MatchCtx<'_>,
    rng: &mut SimRng,
    ct: &mut Conntrack,
) -> bool {
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
                *proto == pkt.proto() && dport.is_none_or(|d| d == pkt.ports().1)
            }
            Match::AddrTypeLocal { source, negate } => {
                let ip = if *source { pkt.src } else { pkt.dst };
                is_local(ctx.local, ip) != *negate
            }
            Match::Conntrack { negate, states } => {
                states.iter().any(|s| ctx.states.contains(s)) != *negate
            }
            Match::Mark {
                negate,
                value,
                mask,
            } => ((pkt.mark & mask) == *value) != *negate,
            Match::Statistic { probability } => {
                // xt_statistic: (get_random_u32() & 0x7FFFFFFF) < probability.
                ((rng.next_u64() as u32) & 0x7FFF_FFFF) < *probability
            }
            Match::Recent { mode, name } => {
                let list = ct.recent.entry(name.clone()).or_default();
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

/// Walks `table`'s built-in chain `hook` for `pkt`. Each rule that matches is reported to
/// `trace` (as `HopKind::Rule`); MARK targets change the packet's mark on the way. Returns the
/// verdict and the comment of the rule that decided it, if any.
#[allow(clippy::too_many_arguments)]
pub fn run_hook(
    rules: &Ruleset,
    skip: &SkipIndex,
    table: TableName,
    hook: &str,
    pkt: &mut Packet,
    ctx: &MatchCtx<'_>,
    rng: &mut SimRng,
    ct: &mut Conntrack,
    trace: &mut dyn FnMut(HopKind, &Packet),
) -> (Verdict, Option<String>) {
    let Some(t) = rules.table(table) else {
        return (Verdict::Accept, None);
    };
    // (chain, next rule index) frames: iptables' jump stack.
    let mut stack: Vec<(usize, usize)> = Vec::new();
    let Some(start) = t.position(hook) else {
        return (Verdict::Accept, None);
    };
    let mut frame = (start, 0usize);
    loop {
        let chain = &t.chains()[frame.0];
        frame.1 = skip.next(table, frame.0, frame.1, pkt.dst);
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
                            trace(
                                HopKind::Policy {
                                    table,
                                    chain: chain.name.clone(),
                                },
                                pkt,
                            );
                            (Verdict::Drop, None)
                        }
                        _ => (Verdict::Accept, None),
                    };
                }
            }
        };
        frame.1 += 1;
        if !matches(rule, pkt, ctx, rng, ct) {
            continue;
        }
        trace(
            HopKind::Rule {
                table,
                chain: chain.name.clone(),
                index: frame.1 - 1,
            },
            pkt,
        );
        match &rule.target {
            Target::None => {}
            Target::Jump(name) => {
                if let Some(next) = t.position(name)
                    && stack.len() < 64
                {
                    stack.push(frame);
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
            Target::SetXMark { value, mask } => pkt.mark = (pkt.mark & !mask) ^ value,
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
                return (verdict, rule.comment().map(str::to_string));
            }
        }
    }
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
            skip,
            TableName::Nat,
            "PREROUTING",
            &mut pkt,
            &ctx,
            &mut rng,
            &mut ct,
            &mut |kind, _| seen.push(format!("{kind:?}")),
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
}
