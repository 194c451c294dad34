//! What a packet went through, hop by hop, as data: the data plane records it, the printer
//! turns it into `netsim trace`'s text. This module must never format.

use crate::conntrack::CtEntry;
use crate::netfilter::TableName;
use crate::netns::Route;
use crate::packet::Packet;
use std::net::Ipv4Addr;

/// A network namespace the data plane knows.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NsId {
    /// A node's host namespace.
    Node(String),
    /// A pod's own namespace, by `namespace/name`.
    Pod(String),
    /// The client outside the cluster, on the node network.
    External,
    /// The resolvers beyond the node network's gateway (its DNS and the public ones).
    Internet,
}

/// Why a packet went no further, named as Hubble (Cilium's flow observer) names drops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// A netfilter rule dropped it (`POLICY_DENIED`).
    PolicyDenied,
    /// kube-proxy's REJECT or DROP for a Service without (local) endpoints
    /// (`SERVICE_BACKEND_NOT_FOUND`).
    ServiceBackendNotFound,
    /// kube-proxy's firewall for `loadBalancerSourceRanges` (`DENIED_BY_LB_SRC_RANGE_CHECK`).
    SourceRangeDenied,
    /// No route to the destination (`FIB_LOOKUP_FAILED`).
    NoRoute,
    /// Nobody on the link has the address: ARP got no answer (`UNKNOWN_L3_TARGET_ADDRESS`).
    UnknownTarget,
    /// A ClusterIP reached where only kube-proxy's rules could have translated it, and they
    /// did not (`IS_A_CLUSTERIP`).
    IsAClusterIp,
    /// The packet left the cluster's networks for one that does not answer.
    NoAnswer,
    /// The TTL ran out (`TTL_EXCEEDED`).
    TtlExceeded,
}

impl DropReason {
    /// Hubble's name for it.
    pub fn hubble(self) -> &'static str {
        match self {
            DropReason::PolicyDenied => "POLICY_DENIED",
            DropReason::ServiceBackendNotFound => "SERVICE_BACKEND_NOT_FOUND",
            DropReason::SourceRangeDenied => "DENIED_BY_LB_SRC_RANGE_CHECK",
            DropReason::NoRoute => "FIB_LOOKUP_FAILED",
            DropReason::UnknownTarget => "UNKNOWN_L3_TARGET_ADDRESS",
            DropReason::IsAClusterIp => "IS_A_CLUSTERIP",
            DropReason::NoAnswer => "UNKNOWN_L3_TARGET_ADDRESS",
            DropReason::TtlExceeded => "TTL_EXCEEDED",
        }
    }
}

/// Which NAT was applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NatKind {
    /// Destination rewritten by a DNAT rule.
    Dnat,
    /// Source rewritten by MASQUERADE.
    Masquerade,
    /// Source port (or echo id) changed by the kernel with no NAT rule: the connection's reply
    /// tuple was already another connection's (`nf_nat_alloc_null_binding`, `get_unique_tuple`).
    SourcePortClash,
    /// A reply's source restored (the connection was DNATed).
    UnDnat,
    /// A reply's destination restored (the connection was masqueraded).
    UnSnat,
    /// A later packet of a connection translated as its first one was.
    Tracked,
}

/// One thing that happened to a packet.
#[derive(Debug, Clone, PartialEq)]
pub enum HopKind {
    /// A socket in this namespace sent the packet.
    Sent,
    /// The packet arrived on `dev`.
    Received {
        /// Interface.
        dev: String,
    },
    /// The routing decision: `route` was picked for `dst` (`None`: local delivery).
    Route {
        /// Destination looked up.
        dst: Ipv4Addr,
        /// The route (`None` when the address is local).
        route: Option<Route>,
    },
    /// A rule matched: `index` (0-based) in `chain` of `table`.
    Rule {
        /// Table.
        table: TableName,
        /// Chain.
        chain: String,
        /// Position in the chain.
        index: usize,
    },
    /// The end of a built-in chain was reached and its policy applied (only traced when DROP).
    Policy {
        /// Table.
        table: TableName,
        /// Chain.
        chain: String,
    },
    /// NAT changed an address or port.
    Nat {
        /// Which.
        kind: NatKind,
        /// Before (address, port).
        from: (Ipv4Addr, u16),
        /// After.
        to: (Ipv4Addr, u16),
    },
    /// A conntrack entry was created (or, `new` false, found).
    Conntrack {
        /// The entry after this packet.
        entry: CtEntry,
        /// Created by this packet.
        new: bool,
    },
    /// The bridge forwarded the frame from one port to another.
    Bridge {
        /// Bridge.
        bridge: String,
        /// Ingress port.
        from: String,
        /// Egress port.
        to: String,
    },
    /// The packet left through `dev` toward `next_hop`.
    Transmit {
        /// Interface.
        dev: String,
        /// Next hop address (the gateway or the destination itself).
        next_hop: Ipv4Addr,
    },
    /// VXLAN: wrapped in UDP from `src` to `dst` port 8472, VNI `vni`.
    Encapsulate {
        /// Outer source (this node).
        src: Ipv4Addr,
        /// Outer destination (the peer node).
        dst: Ipv4Addr,
        /// VNI.
        vni: u32,
        /// Outer UDP source port (a hash of the inner flow).
        sport: u16,
    },
    /// VXLAN: unwrapped on arrival.
    Decapsulate {
        /// Device.
        dev: String,
    },
    /// A proxy in this namespace decided where the request goes (ingress-nginx's server and
    /// location) and opens its own connection there.
    Proxy {
        /// The proxy (`nginx (ingress-nginx controller)`).
        process: String,
        /// What it decided.
        decision: String,
    },
    /// Delivered to a socket: `process` in this namespace.
    Delivered {
        /// Who got it (`nginx`, `the kernel (ICMP echo)`, `curl`).
        process: String,
    },
    /// Dropped.
    Dropped {
        /// Why.
        reason: DropReason,
        /// The detail a student needs.
        detail: String,
    },
}

/// One hop of a packet's journey.
#[derive(Debug, Clone, PartialEq)]
pub struct Hop {
    /// Virtual nanoseconds since the first packet was sent.
    pub at_ns: u64,
    /// Which packet of the exchange (0 = the first).
    pub packet_no: usize,
    /// Where.
    pub ns: NsId,
    /// The packet as it is at this point (after any NAT so far).
    pub packet: Packet,
    /// What happened.
    pub kind: HopKind,
}
