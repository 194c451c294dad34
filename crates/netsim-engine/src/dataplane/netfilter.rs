//! Evaluating a namespace's [`Ruleset`] for one packet at one hook, the way `ip_tables` walks
//! chains: rules in order, jumps and returns on a stack, the built-in chain's policy at the end.
//! The rules are exactly those `iptables-save` prints.

use crate::rng::SimRng;
use ipnet::Ipv4Net;
use netsim_model::conntrack::Conntrack;
use netsim_model::netfilter::{
    AddrMatch, CtState, IfaceMatch, Match, RecentMode, Rule, Ruleset, TableName, Target,
};
use netsim_model::packet::Packet;
use netsim_model::trace::HopKind;
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
