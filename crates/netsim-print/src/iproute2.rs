//! What iproute2 (`ip addr`, `ip link`, `ip route`, `ip neigh`, `bridge fdb`) and net-tools
//! (`ifconfig`) print for a network namespace, byte for byte as Debian 12's iproute2 6.1 and
//! net-tools 2.10 do (checked against captures in `tests/fixtures/iproute2/`).
//!
//! This module formats a [`Netns`] view; it must never decide what exists.

use netsim_model::netns::{Link, LinkKind, Mac, Netns};
use std::fmt::Write;
use std::net::{Ipv4Addr, Ipv6Addr};

fn mac(m: &Mac) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The EUI-64 link-local address the kernel derives from a MAC.
fn link_local(m: &Mac) -> Ipv6Addr {
    Ipv6Addr::new(
        0xfe80,
        0,
        0,
        0,
        u16::from_be_bytes([m[0] ^ 0x02, m[1]]),
        u16::from_be_bytes([m[2], 0xff]),
        u16::from_be_bytes([0xfe, m[3]]),
        u16::from_be_bytes([m[4], m[5]]),
    )
}

fn flags(l: &Link) -> String {
    let mut f = Vec::new();
    let loopback = matches!(l.kind, LinkKind::Loopback);
    if matches!(l.kind, LinkKind::Dummy) {
        return "<BROADCAST,NOARP>".into();
    }
    if l.up && !l.lower_up && !loopback {
        f.push("NO-CARRIER");
    }
    if loopback {
        f.push("LOOPBACK");
    } else {
        f.push("BROADCAST");
        f.push("MULTICAST");
    }
    if l.up {
        f.push("UP");
    }
    if l.up && l.lower_up {
        f.push("LOWER_UP");
    }
    format!("<{}>", f.join(","))
}

fn state(l: &Link) -> &'static str {
    match l.kind {
        LinkKind::Loopback | LinkKind::Vxlan { .. } => "UNKNOWN",
        _ if !l.up || !l.lower_up => "DOWN",
        _ => "UP",
    }
}

fn qdisc(l: &Link) -> &'static str {
    match l.kind {
        LinkKind::Dummy => "noop",
        LinkKind::Ether => "fq_codel",
        _ => "noqueue",
    }
}

fn qlen(l: &Link) -> Option<u32> {
    match l.kind {
        LinkKind::Loopback | LinkKind::Ether | LinkKind::Bridge if l.name != "docker0" => {
            Some(1000)
        }
        _ => None,
    }
}

/// `name` or `name@ifN` / `name@peer`.
fn display_name(l: &Link) -> String {
    match l.kind {
        LinkKind::Veth { peer_ifindex, .. } => format!("{}@if{peer_ifindex}", l.name),
        _ => l.name.clone(),
    }
}

fn header(out: &mut String, l: &Link, mode: bool) {
    let _ = write!(
        out,
        "{}: {}: {} mtu {} qdisc {}",
        l.ifindex,
        display_name(l),
        flags(l),
        l.mtu,
        qdisc(l)
    );
    if let Some(m) = &l.master {
        let _ = write!(out, " master {m}");
    }
    let _ = write!(out, " state {}", state(l));
    if mode {
        out.push_str(" mode DEFAULT");
    }
    // iproute2 prints `group default ` and then `qlen N` only when the queue length is set.
    out.push_str(" group default ");
    if let Some(q) = qlen(l) {
        out.pop();
        let _ = write!(out, " qlen {q}");
    }
    out.push('\n');
    match &l.kind {
        LinkKind::Loopback => {
            out.push_str("    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n")
        }
        LinkKind::Veth {
            link_netnsid,
            link_netns,
            ..
        } => {
            let peer = match link_netns {
                Some(name) => format!("link-netns {name}"),
                None => format!("link-netnsid {link_netnsid}"),
            };
            let _ = writeln!(
                out,
                "    link/ether {} brd ff:ff:ff:ff:ff:ff {peer}",
                mac(&l.mac)
            );
        }
        _ => {
            let _ = writeln!(out, "    link/ether {} brd ff:ff:ff:ff:ff:ff", mac(&l.mac));
        }
    }
}

/// `ip addr [show [dev] NAME]`.
pub fn ip_addr(ns: &Netns, dev: Option<&str>) -> Result<String, String> {
    let links = select(ns, dev)?;
    let mut out = String::new();
    for l in links {
        header(&mut out, l, false);
        for a in &l.addrs {
            let _ = write!(out, "    inet {}", a.net);
            if let Some(b) = a.brd {
                let _ = write!(out, " brd {b}");
            }
            let _ = writeln!(out, " scope {} {}", a.scope, l.name);
            out.push_str("       valid_lft forever preferred_lft forever\n");
        }
        if matches!(l.kind, LinkKind::Loopback) && l.ipv6_link_local {
            out.push_str(
                "    inet6 ::1/128 scope host \n       valid_lft forever preferred_lft forever\n",
            );
        } else if l.ipv6_link_local && l.up {
            let _ = writeln!(
                out,
                "    inet6 {}/64 scope link \n       valid_lft forever preferred_lft forever",
                link_local(&l.ll_mac)
            );
        }
    }
    Ok(out)
}

/// `ip link [show [dev] NAME]`.
pub fn ip_link(ns: &Netns, dev: Option<&str>) -> Result<String, String> {
    let links = select(ns, dev)?;
    let mut out = String::new();
    for l in links {
        header(&mut out, l, true);
    }
    Ok(out)
}

/// `ip -d link show NAME`: the header plus the kind's details.
pub fn ip_link_details(ns: &Netns, dev: Option<&str>) -> Result<String, String> {
    let links = select(ns, dev)?;
    let mut out = String::new();
    for l in links {
        header(&mut out, l, true);
        // Drop the newline so details continue the link/ether line.
        out.pop();
        let _ = write!(
            out,
            " promiscuity {} minmtu 68 maxmtu 65535 ",
            u8::from(matches!(l.kind, LinkKind::Bridge))
        );
        match &l.kind {
            LinkKind::Vxlan {
                id,
                local,
                dev,
                dstport,
            } => {
                let _ = write!(
                    out,
                    "\n    vxlan id {id} local {local} dev {dev} srcport 0 0 dstport {dstport} nolearning ttl auto ageing 300 noudpcsum noudp6zerocsumtx noudp6zerocsumrx "
                );
            }
            LinkKind::Veth { .. } => out.push_str("\n    veth "),
            LinkKind::Bridge => out.push_str("\n    bridge "),
            _ => {}
        }
        out.push_str("addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 \n");
    }
    Ok(out)
}

fn select<'a>(ns: &'a Netns, dev: Option<&str>) -> Result<Vec<&'a Link>, String> {
    match dev {
        None => Ok(ns.links.iter().collect()),
        Some(d) => ns
            .link(d)
            .map(|l| vec![l])
            .ok_or_else(|| format!("Device \"{d}\" does not exist.")),
    }
}

/// `ip route`.
pub fn ip_route(ns: &Netns) -> String {
    let mut out = String::new();
    for r in &ns.routes {
        out.push_str(&route_line(r));
        if ns.link(&r.dev).is_some_and(|l| l.up && !l.lower_up) {
            out.push_str(" linkdown");
        }
        out.push_str(" \n");
    }
    out
}

/// One route as `ip route` prints it, without `linkdown` and the line end.
pub fn route_line(r: &netsim_model::netns::Route) -> String {
    let mut out = String::new();
    {
        match r.dst {
            None => out.push_str("default"),
            Some(d) => {
                let _ = write!(out, "{d}");
            }
        }
        if let Some(v) = r.via {
            let _ = write!(out, " via {v}");
        }
        let _ = write!(out, " dev {}", r.dev);
        if r.proto_kernel {
            out.push_str(" proto kernel");
        }
        if r.scope_link {
            out.push_str(" scope link");
        }
        if let Some(s) = r.src {
            let _ = write!(out, " src {s}");
        }
        if r.onlink {
            out.push_str(" onlink");
        }
    }
    out
}

/// `ip route get DST`: the route the kernel would use, as iproute2 prints it.
pub fn ip_route_get(ns: &Netns, dst: Ipv4Addr) -> Result<String, String> {
    let route = ns
        .route_lookup(dst)
        .ok_or("RTNETLINK answers: Network is unreachable")?;
    let mut out = format!("{dst}");
    if let Some(v) = route.via {
        let _ = write!(out, " via {v}");
    }
    let _ = write!(out, " dev {}", route.dev);
    if let Some(src) = ns.source_for(route) {
        let _ = write!(out, " src {src}");
    }
    out.push_str(" uid 0 \n    cache \n");
    Ok(out)
}

/// `ip -br addr`: name, state, then every address, in fixed columns.
pub fn ip_br_addr(ns: &Netns, dev: Option<&str>) -> Result<String, String> {
    let mut out = String::new();
    for l in select(ns, dev)? {
        let _ = write!(out, "{:<16} {:<14} ", display_name(l), state(l));
        for a in &l.addrs {
            let _ = write!(out, "{} ", a.net);
        }
        if matches!(l.kind, LinkKind::Loopback) && l.ipv6_link_local {
            out.push_str("::1/128 ");
        } else if l.ipv6_link_local && l.up {
            let _ = write!(out, "{}/64 ", link_local(&l.ll_mac));
        }
        out.push('\n');
    }
    Ok(out)
}

/// `ip -br link`: name, state, MAC and flags.
pub fn ip_br_link(ns: &Netns, dev: Option<&str>) -> Result<String, String> {
    let mut out = String::new();
    for l in select(ns, dev)? {
        let _ = writeln!(
            out,
            "{:<16} {:<14} {} {} ",
            display_name(l),
            state(l),
            mac(&l.mac),
            flags(l)
        );
    }
    Ok(out)
}

/// `ip neigh`.
pub fn ip_neigh(ns: &Netns) -> String {
    ns.neighbours
        .iter()
        .map(|n| {
            format!(
                "{} dev {} lladdr {} {}\n",
                n.ip,
                n.dev,
                mac(&n.mac),
                n.state
            )
        })
        .collect()
}

/// `bridge fdb show [dev NAME]` (the VXLAN entries flannel writes).
pub fn bridge_fdb(ns: &Netns, dev: Option<&str>) -> String {
    ns.fdb
        .iter()
        .filter(|f| dev.is_none_or(|d| d == f.dev))
        .map(|f| {
            if dev.is_some() {
                format!("{} dst {} self permanent\n", mac(&f.mac), f.dst)
            } else {
                format!(
                    "{} dev {} dst {} self permanent\n",
                    mac(&f.mac),
                    f.dev,
                    f.dst
                )
            }
        })
        .collect()
}

/// `ifconfig` (only interfaces that are up) or `ifconfig -a`, net-tools 2.10's layout, sorted
/// by name as net-tools lists them.
pub fn ifconfig(ns: &Netns, all: bool) -> String {
    let mut links: Vec<&Link> = ns.links.iter().filter(|l| all || l.up).collect();
    links.sort_by(|a, b| a.name.cmp(&b.name));
    let mut out = String::new();
    for l in links {
        let loopback = matches!(l.kind, LinkKind::Loopback);
        let dummy = matches!(l.kind, LinkKind::Dummy);
        // net-tools prints the IFF_* flags in bit order.
        let mut f = Vec::new();
        let mut bits: u32 = 0;
        for (set, bit, name) in [
            (l.up, 0x1, "UP"),
            (!loopback, 0x2, "BROADCAST"),
            (loopback, 0x8, "LOOPBACK"),
            (l.up && l.lower_up, 0x40, "RUNNING"),
            (dummy, 0x80, "NOARP"),
            (!loopback && !dummy, 0x1000, "MULTICAST"),
        ] {
            if set {
                bits |= bit;
                f.push(name);
            }
        }
        let _ = writeln!(
            out,
            "{}: flags={bits}<{}>  mtu {}",
            l.name,
            f.join(","),
            l.mtu
        );
        for a in &l.addrs {
            let mask = Ipv4Addr::from(
                u32::MAX
                    .checked_shl(32 - u32::from(a.net.prefix_len()))
                    .unwrap_or(0),
            );
            let _ = write!(out, "        inet {}  netmask {mask}", a.net.addr());
            // ifconfig asks for the broadcast address of every IFF_BROADCAST interface and
            // prints 0.0.0.0 when none is set (flannel.1, a pod's eth0).
            match (a.brd, loopback) {
                (Some(b), _) => {
                    let _ = write!(out, "  broadcast {b}");
                }
                (None, false) => out.push_str("  broadcast 0.0.0.0"),
                (None, true) => {}
            }
            out.push('\n');
        }
        if loopback && l.ipv6_link_local {
            out.push_str("        inet6 ::1  prefixlen 128  scopeid 0x10<host>\n");
        } else if l.ipv6_link_local {
            let _ = writeln!(
                out,
                "        inet6 {}  prefixlen 64  scopeid 0x20<link>",
                link_local(&l.ll_mac)
            );
        }
        let txq = qlen(l).unwrap_or(0);
        if loopback {
            let _ = writeln!(out, "        loop  txqueuelen {txq}  (Local Loopback)");
        } else {
            let _ = writeln!(
                out,
                "        ether {}  txqueuelen {txq}  (Ethernet)",
                mac(&l.mac)
            );
        }
        out.push_str("        RX packets 0  bytes 0 (0.0 B)\n");
        out.push_str("        RX errors 0  dropped 0  overruns 0  frame 0\n");
        out.push_str("        TX packets 0  bytes 0 (0.0 B)\n");
        out.push_str("        TX errors 0  dropped 0 overruns 0  carrier 0  collisions 0\n\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eui64_link_local() {
        assert_eq!(
            link_local(&[0x86, 0x0a, 0xcc, 0xcc, 0x33, 0xf9]).to_string(),
            "fe80::840a:ccff:fecc:33f9"
        );
    }
}
