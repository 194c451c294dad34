//! Netfilter's tables as the kernel holds them: tables of chains of rules, each rule an
//! `ipt_entry` — the fixed header (`-s`, `-d`, `-i`, `-o`, `-p`), an ordered list of matches and
//! one target.
//!
//! This is the one representation of a node's iptables rules: `iptables-save` prints it and the
//! packet path evaluates it, so what a student reads is what packets traverse. Rules are stored
//! in the kernel's canonical form (a `-p tcp` header plus a `-m tcp --dport` match, a statistic
//! probability as the kernel's 31-bit fixed-point number), which is why printing needs no
//! re-parsing. Who writes which rules (kube-proxy, kubelet, flannel, dockerd) is the engine's
//! business; this module must never format output or evaluate packets.

use ipnet::Ipv4Net;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// A netfilter table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TableName {
    /// `filter`.
    Filter,
    /// `nat`.
    Nat,
    /// `mangle`.
    Mangle,
}

impl TableName {
    /// The table's name as iptables spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            TableName::Filter => "filter",
            TableName::Nat => "nat",
            TableName::Mangle => "mangle",
        }
    }

    /// The table named `name`.
    pub fn parse(name: &str) -> Option<TableName> {
        match name {
            "filter" => Some(TableName::Filter),
            "nat" => Some(TableName::Nat),
            "mangle" => Some(TableName::Mangle),
            _ => None,
        }
    }

    /// The table's built-in chains, in the kernel's hook order.
    pub fn builtin_chains(self) -> &'static [&'static str] {
        match self {
            TableName::Filter => &["INPUT", "FORWARD", "OUTPUT"],
            TableName::Nat => &["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"],
            TableName::Mangle => &["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"],
        }
    }
}

/// A layer-4 protocol as `-p` names it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// SCTP.
    Sctp,
    /// ICMP.
    Icmp,
}

impl Proto {
    /// Lower-case name (`tcp`).
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Sctp => "sctp",
            Proto::Icmp => "icmp",
        }
    }

    /// A Kubernetes protocol name (`TCP`, `UDP`, `SCTP`), any case.
    pub fn parse(name: &str) -> Option<Proto> {
        match name.to_ascii_lowercase().as_str() {
            "tcp" => Some(Proto::Tcp),
            "udp" => Some(Proto::Udp),
            "sctp" => Some(Proto::Sctp),
            "icmp" => Some(Proto::Icmp),
            _ => None,
        }
    }
}

/// `[!] -s/-d ADDR/LEN`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddrMatch {
    /// `!`.
    pub negate: bool,
    /// The network.
    pub net: Ipv4Net,
}

/// `[!] -i/-o NAME` (a trailing `+` matches a prefix).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfaceMatch {
    /// `!`.
    pub negate: bool,
    /// Interface name or `prefix+`.
    pub name: String,
}

/// A conntrack state (`--ctstate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CtState {
    /// `INVALID`.
    Invalid,
    /// `NEW`.
    New,
    /// `RELATED`.
    Related,
    /// `ESTABLISHED`.
    Established,
    /// `DNAT`: the connection's original destination was rewritten.
    Dnat,
}

impl CtState {
    /// The name iptables prints.
    pub fn as_str(self) -> &'static str {
        match self {
            CtState::Invalid => "INVALID",
            CtState::New => "NEW",
            CtState::Related => "RELATED",
            CtState::Established => "ESTABLISHED",
            CtState::Dnat => "DNAT",
        }
    }
}

/// `-m recent`'s action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecentMode {
    /// `--set`: remember the source address.
    Set,
    /// `--rcheck --seconds N --reap`: match if the source was seen in the last N seconds.
    Rcheck {
        /// `--seconds`.
        seconds: u32,
        /// `--reap`.
        reap: bool,
    },
}

/// One `-m` match with its options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    /// `-m comment --comment TEXT`.
    Comment(String),
    /// `-m tcp|udp|sctp [--dport N]`.
    Port {
        /// Which protocol module.
        proto: Proto,
        /// `--dport`.
        dport: Option<u16>,
    },
    /// `-m addrtype [!] --src-type LOCAL` / `[!] --dst-type LOCAL`.
    AddrTypeLocal {
        /// Source (`--src-type`) or destination (`--dst-type`).
        source: bool,
        /// `!`.
        negate: bool,
    },
    /// `-m conntrack [!] --ctstate S,S`.
    Conntrack {
        /// `!`.
        negate: bool,
        /// States, in the order written.
        states: Vec<CtState>,
    },
    /// `-m mark [!] --mark VALUE/MASK`.
    Mark {
        /// `!`.
        negate: bool,
        /// Value.
        value: u32,
        /// Mask.
        mask: u32,
    },
    /// `-m statistic --mode random --probability P`, with P held as the kernel holds it:
    /// `round(P * 2^31)`, compared against 31 random bits.
    Statistic {
        /// The 31-bit fixed-point probability.
        probability: u32,
    },
    /// `-m recent ... --name NAME --mask 255.255.255.255 --rsource`.
    Recent {
        /// What it does.
        mode: RecentMode,
        /// The list's name.
        name: String,
    },
}

impl Match {
    /// A statistic match for probability `p`, rounded the way iptables' `libxt_statistic` stores
    /// it.
    pub fn statistic(p: f64) -> Match {
        let scaled = (p * f64::from(1u32 << 31)).round();
        Match::Statistic {
            probability: scaled.clamp(0.0, f64::from(u32::MAX)) as u32,
        }
    }
}

/// A rule's target (`-j`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// No `-j`: the rule only counts (kube-proxy's comment-only rule in `KUBE-FW-*`).
    None,
    /// Jump to a user chain.
    Jump(String),
    /// `ACCEPT`.
    Accept,
    /// `DROP`.
    Drop,
    /// `RETURN`.
    Return,
    /// `REJECT --reject-with icmp-port-unreachable`.
    Reject,
    /// `MARK --set-xmark VALUE/MASK`: clear the mask's bits, then xor the value in.
    SetXMark {
        /// Value.
        value: u32,
        /// Mask.
        mask: u32,
    },
    /// `MASQUERADE [--random-fully]`.
    Masquerade {
        /// `--random-fully`.
        random_fully: bool,
    },
    /// `DNAT --to-destination IP:PORT`.
    Dnat {
        /// New destination address.
        ip: Ipv4Addr,
        /// New destination port.
        port: u16,
    },
}

/// One rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// `-s`.
    pub src: Option<AddrMatch>,
    /// `-d`.
    pub dst: Option<AddrMatch>,
    /// `-i`.
    pub in_iface: Option<IfaceMatch>,
    /// `-o`.
    pub out_iface: Option<IfaceMatch>,
    /// `-p`.
    pub proto: Option<Proto>,
    /// The `-m` matches, in the order they were given.
    pub matches: Vec<Match>,
    /// `-j`.
    pub target: Target,
}

impl Rule {
    /// A rule that matches everything and does `target`.
    pub fn new(target: Target) -> Rule {
        Rule {
            src: None,
            dst: None,
            in_iface: None,
            out_iface: None,
            proto: None,
            matches: Vec::new(),
            target,
        }
    }

    /// The rule's comment, if it has one.
    pub fn comment(&self) -> Option<&str> {
        self.matches.iter().find_map(|m| match m {
            Match::Comment(c) => Some(c.as_str()),
            _ => None,
        })
    }

    /// `-s NET`.
    pub fn src(mut self, negate: bool, net: Ipv4Net) -> Rule {
        self.src = Some(AddrMatch { negate, net });
        self
    }

    /// `-d NET`.
    pub fn dst(mut self, negate: bool, net: Ipv4Net) -> Rule {
        self.dst = Some(AddrMatch { negate, net });
        self
    }

    /// `-d IP/32`.
    pub fn dst_ip(self, ip: Ipv4Addr) -> Rule {
        self.dst(false, Ipv4Net::from(ip))
    }

    /// `-i NAME`.
    pub fn in_iface(mut self, negate: bool, name: &str) -> Rule {
        self.in_iface = Some(IfaceMatch {
            negate,
            name: name.to_string(),
        });
        self
    }

    /// `-o NAME`.
    pub fn out_iface(mut self, negate: bool, name: &str) -> Rule {
        self.out_iface = Some(IfaceMatch {
            negate,
            name: name.to_string(),
        });
        self
    }

    /// `-m comment --comment TEXT`.
    pub fn comment_match(self, text: impl Into<String>) -> Rule {
        self.matching(Match::Comment(text.into()))
    }

    /// `-p P -m P --dport PORT` (the protocol module where kube-proxy loads it).
    pub fn dport(mut self, proto: Proto, port: u16) -> Rule {
        self.proto = Some(proto);
        self.matching(Match::Port {
            proto,
            dport: Some(port),
        })
    }

    /// Appends a match.
    pub fn matching(mut self, m: Match) -> Rule {
        self.matches.push(m);
        self
    }
}

/// A chain: built-in (with a policy) or user-defined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chain {
    /// Name.
    pub name: String,
    /// The policy of a built-in chain (`ACCEPT`/`DROP`); `None` for user chains.
    pub policy: Option<Target>,
    /// Rules in order.
    pub rules: Vec<Rule>,
}

/// One table: its built-in chains in hook order, then the user chains in creation order,
/// with an index by name (a node with 10,000 Services has 100,000 chains).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// Which table.
    pub name: TableName,
    /// Chains.
    chains: Vec<Chain>,
    /// Chain name → position in `chains`.
    index: BTreeMap<String, usize>,
}

impl Table {
    /// An empty table with its built-in chains, all policy ACCEPT.
    pub fn new(name: TableName) -> Table {
        let mut t = Table::empty(name);
        for c in name.builtin_chains() {
            t.chain_mut(c).policy = Some(Target::Accept);
        }
        t
    }

    /// A table with no chains at all, not even the built-in ones.
    pub fn empty(name: TableName) -> Table {
        Table {
            name,
            chains: Vec::new(),
            index: BTreeMap::new(),
        }
    }

    /// The chains, built-in ones first, then in creation order.
    pub fn chains(&self) -> &[Chain] {
        &self.chains
    }

    /// The position of chain `name` in [`Table::chains`].
    pub fn position(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// The chain named `name`.
    pub fn chain(&self, name: &str) -> Option<&Chain> {
        self.position(name).map(|i| &self.chains[i])
    }

    /// The chain named `name`, created empty (as `iptables -N`) if missing.
    pub fn chain_mut(&mut self, name: &str) -> &mut Chain {
        let index = match self.position(name) {
            Some(i) => i,
            None => {
                self.chains.push(Chain {
                    name: name.to_string(),
                    policy: None,
                    rules: Vec::new(),
                });
                let i = self.chains.len() - 1;
                self.index.insert(name.to_string(), i);
                i
            }
        };
        &mut self.chains[index]
    }

    /// `iptables -A CHAIN RULE`.
    pub fn append(&mut self, chain: &str, rule: Rule) {
        self.chain_mut(chain).rules.push(rule);
    }

    /// `iptables -I CHAIN RULE` (at the top).
    pub fn insert(&mut self, chain: &str, rule: Rule) {
        self.chain_mut(chain).rules.insert(0, rule);
    }
}

/// All tables of one network namespace.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Ruleset {
    /// Tables that have been touched, in the order they were first used.
    pub tables: Vec<Table>,
}

impl Ruleset {
    /// The table named `name`, if anything created it.
    pub fn table(&self, name: TableName) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }

    /// The table named `name`, created with empty built-in chains if missing.
    pub fn table_mut(&mut self, name: TableName) -> &mut Table {
        let index = match self.tables.iter().position(|t| t.name == name) {
            Some(i) => i,
            None => {
                self.tables.push(Table::new(name));
                self.tables.len() - 1
            }
        };
        &mut self.tables[index]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistic_probabilities_round_like_iptables() {
        // libxt_statistic: lround(p * 2^31); 1/3 stores 715827883.
        assert_eq!(
            Match::statistic(0.3333333333),
            Match::Statistic {
                probability: 715_827_883
            }
        );
        assert_eq!(
            Match::statistic(0.5),
            Match::Statistic {
                probability: 1 << 30
            }
        );
    }
}
