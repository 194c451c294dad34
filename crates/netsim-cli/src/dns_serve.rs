//! `netsim dns serve`: the simulated cluster's DNS on a real socket, so real tools (`dig`,
//! `nslookup`, a browser's resolver) can ask it. Queries over UDP and TCP are answered by the
//! CoreDNS model exactly as a pod asking the kube-dns Service would be (the kubernetes plugin,
//! then `forward` to the upstream model), in DNS wire format through `hickory-proto` ([`wire`]):
//! name compression, EDNS, truncation to the client's UDP size. Malformed packets get FORMERR
//! when they carry a header, and are dropped otherwise; nothing a client sends can stop the
//! server.
//!
//! It binds loopback unless told otherwise, and reads the state once: the cluster does not move
//! while it serves. Each source address gets a token bucket of `--rate` queries a second (what
//! is over is dropped, as CoreDNS's `ratelimit` would), so one client flooding it neither
//! starves the others nor turns it into an amplifier. TCP connections are served side by side
//! with UDP, without blocking: at most [`MAX_TCP`] at once (a new one evicts the longest idle),
//! each closed after [`TCP_IDLE`] without a whole query, so a client that connects and says
//! nothing (or trickles bytes) holds nothing for long.

mod wire;

pub use wire::{answer_wire, encode, wire_size};

use crate::output::Output;
use netsim_engine::Sim;
use std::collections::BTreeMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

/// The usage line every flag error ends with.
const USAGE: &str = "usage: netsim dns serve [--listen ADDR:PORT] [--count N] [--rate QPS]";

/// Open TCP connections served at once.
pub const MAX_TCP: usize = 32;

/// A TCP connection that completes no query for this long is closed (RFC 7766 §6.2.3: servers
/// close idle connections after some seconds).
pub const TCP_IDLE: Duration = Duration::from_secs(5);

/// Answers waiting to be written to one TCP client beyond which it is dropped: a client that
/// sends queries without reading the answers cannot make the server buffer without bound.
const TCP_BACKLOG: usize = 256 * 1024;

/// How long one wait for a UDP datagram lasts; TCP connections are polled between waits.
const POLL: Duration = Duration::from_millis(10);

/// Source addresses whose buckets are remembered; beyond it, refilled buckets are forgotten
/// (they carry nothing), then the longest unseen.
const MAX_SOURCES: usize = 4096;

/// What the flags ask for.
#[derive(Debug, Clone, PartialEq)]
pub struct ServeConfig {
    /// Where to listen, UDP and TCP (`--listen`; loopback port 5353 by default).
    pub listen: SocketAddr,
    /// Stop after answering this many queries (`--count`; for scripts and tests).
    pub count: Option<u64>,
    /// Queries a second each source address may ask (`--rate`), and its burst.
    pub rate: u32,
}

/// Reads `netsim dns serve`'s flags. Every value is checked: a typo must not leave a server
/// listening somewhere unexpected or unbounded.
pub fn parse_flags(args: &[String]) -> Result<ServeConfig, String> {
    let mut config = ServeConfig {
        listen: SocketAddr::from(([127, 0, 0, 1], 5353)),
        count: None,
        rate: 1000,
    };
    let mut i = 0;
    while i < args.len() {
        let (flag, inline) = match args[i].split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (args[i].as_str(), None),
        };
        if !matches!(flag, "--listen" | "--count" | "--rate") {
            return Err(format!("error: unknown flag {flag:?}\n{USAGE}"));
        }
        let value = match inline {
            Some(v) => v,
            None => {
                i += 1;
                args.get(i)
                    .cloned()
                    .ok_or_else(|| format!("error: flag needs an argument: {flag}\n{USAGE}"))?
            }
        };
        match flag {
            "--listen" => {
                config.listen = value
                    .parse()
                    .map_err(|_| format!("error: --listen wants ADDR:PORT, not {value:?}"))?;
            }
            "--count" => {
                config.count = Some(value.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                    format!("error: --count wants a number of answers (1 or more), not {value:?}")
                })?);
            }
            _ => {
                config.rate = value.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                    format!(
                        "error: --rate wants queries a second per source address (1 to {}), not {value:?}",
                        u32::MAX
                    )
                })?;
            }
        }
        i += 1;
    }
    Ok(config)
}

/// A token bucket per source address: each holds up to `rate` tokens, refills at `rate` a
/// second, and a query spends one. Time is passed in, so it is tested without clocks.
#[derive(Debug)]
pub struct Limiter {
    rate: f64,
    /// Tokens left and when they were counted, by source address.
    buckets: BTreeMap<IpAddr, (f64, Instant)>,
}

impl Limiter {
    /// A limiter allowing `rate` queries a second (and bursts of `rate`) per source.
    pub fn new(rate: u32) -> Limiter {
        Limiter {
            rate: f64::from(rate.max(1)),
            buckets: BTreeMap::new(),
        }
    }

    /// Whether `source` may be answered at `now` (spending a token if so).
    pub fn allow(&mut self, source: IpAddr, now: Instant) -> bool {
        if !self.buckets.contains_key(&source) && self.buckets.len() >= MAX_SOURCES {
            self.forget(now);
        }
        let rate = self.rate;
        let (tokens, at) = self.buckets.entry(source).or_insert((rate, now));
        let refill = now.saturating_duration_since(*at).as_secs_f64() * rate;
        *tokens = (*tokens + refill).min(rate);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Makes room for a new source: buckets that have refilled are the same as no bucket; if
    /// none has, the one unseen longest goes.
    fn forget(&mut self, now: Instant) {
        let rate = self.rate;
        self.buckets.retain(|_, (tokens, at)| {
            *tokens + now.saturating_duration_since(*at).as_secs_f64() * rate < rate
        });
        if self.buckets.len() >= MAX_SOURCES
            && let Some(oldest) = self
                .buckets
                .iter()
                .min_by_key(|(_, (_, at))| *at)
                .map(|(ip, _)| *ip)
        {
            self.buckets.remove(&oldest);
        }
    }

    /// How many sources are remembered.
    #[cfg(test)]
    fn sources(&self) -> usize {
        self.buckets.len()
    }
}

/// One TCP client: what it sent that is not a whole query yet, and answers not yet written.
struct Conn {
    stream: TcpStream,
    peer: IpAddr,
    inbox: Vec<u8>,
    outbox: Vec<u8>,
    /// When it last completed a query (or connected).
    active: Instant,
    /// It closed its side: write what is left, then close.
    eof: bool,
}

/// What became of a connection after a poll.
enum Poll {
    /// Keep it.
    Open,
    /// Close it.
    Close,
}

impl Conn {
    /// Reads what the client sent, answers every whole query in it, writes what it can.
    /// Never blocks.
    fn poll(&mut self, sim: &Sim, limiter: &mut Limiter, answered: &mut u64) -> Poll {
        let mut chunk = [0u8; 4096];
        // Bounded per poll so one busy client cannot hold the loop.
        for _ in 0..16 {
            if self.eof || self.outbox.len() > TCP_BACKLOG {
                break;
            }
            match self.stream.read(&mut chunk) {
                Ok(0) => self.eof = true,
                Ok(n) => self.inbox.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return Poll::Close,
            }
            // Length-prefixed queries (RFC 1035 §4.2.2), as many as are whole.
            while let [hi, lo, ..] = self.inbox[..] {
                let n = usize::from(u16::from_be_bytes([hi, lo]));
                if self.inbox.len() < 2 + n {
                    break;
                }
                let msg: Vec<u8> = self.inbox.drain(..2 + n).skip(2).collect();
                self.active = Instant::now();
                if !limiter.allow(self.peer, self.active) {
                    return Poll::Close;
                }
                let Some(reply) = answer_wire(sim, &msg, false) else {
                    return Poll::Close;
                };
                let Ok(len) = u16::try_from(reply.len()) else {
                    return Poll::Close;
                };
                self.outbox.extend_from_slice(&len.to_be_bytes());
                self.outbox.extend_from_slice(&reply);
                *answered += 1;
            }
        }
        while !self.outbox.is_empty() {
            match self.stream.write(&self.outbox) {
                Ok(0) => return Poll::Close,
                Ok(n) => {
                    self.outbox.drain(..n);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return Poll::Close,
            }
        }
        if self.outbox.len() > TCP_BACKLOG
            || (self.eof && self.outbox.is_empty())
            || self.active.elapsed() >= TCP_IDLE
        {
            return Poll::Close;
        }
        Poll::Open
    }
}

/// `netsim dns serve [--listen ADDR:PORT] [--count N] [--rate QPS]`.
pub fn serve(out: &mut Output, sim: &Sim, args: &[String]) {
    let config = match parse_flags(args) {
        Ok(c) => c,
        Err(e) => return out.fail(e),
    };
    let addr = config.listen;
    let udp = match UdpSocket::bind(addr) {
        Ok(s) => s,
        Err(e) => return out.fail(format!("error: cannot listen on {addr}/udp: {e}")),
    };
    // Port 0 asks for any free port: TCP takes the one UDP got, so both serve the same one.
    let addr = udp.local_addr().unwrap_or(addr);
    let tcp = match TcpListener::bind(addr) {
        Ok(s) => s,
        Err(e) => return out.fail(format!("error: cannot listen on {addr}/tcp: {e}")),
    };
    let (Ok(()), Ok(())) = (udp.set_read_timeout(Some(POLL)), tcp.set_nonblocking(true)) else {
        return out.fail("error: cannot configure the sockets");
    };
    if !addr.ip().is_loopback() {
        out.hint(format!("serving on {addr}, which is not loopback: anything that reaches it can query the cluster"));
    }
    // Announce on stderr at once: a script waits for this line before querying.
    eprintln!("netsim: serving the cluster's DNS on {addr} (UDP and TCP)");
    let mut limiter = Limiter::new(config.rate);
    let mut conns: Vec<Conn> = Vec::new();
    let mut answered = 0u64;
    let mut buf = vec![0u8; 65535];
    while config.count.is_none_or(|c| answered < c) {
        if let Ok((n, peer)) = udp.recv_from(&mut buf)
            && limiter.allow(peer.ip(), Instant::now())
            && let Some(reply) = answer_wire(sim, &buf[..n], true)
        {
            let _ = udp.send_to(&reply, peer);
            answered += 1;
        }
        // New connections: a handful per turn, each costing its source a token.
        for _ in 0..8 {
            let Ok((stream, peer)) = tcp.accept() else {
                break;
            };
            if !limiter.allow(peer.ip(), Instant::now()) || stream.set_nonblocking(true).is_err() {
                continue;
            }
            if conns.len() >= MAX_TCP
                && let Some(idle) = conns
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, c)| c.active)
                    .map(|(i, _)| i)
            {
                conns.swap_remove(idle);
            }
            conns.push(Conn {
                stream,
                peer: peer.ip(),
                inbox: Vec::new(),
                outbox: Vec::new(),
                active: Instant::now(),
                eof: false,
            });
        }
        conns.retain_mut(|c| matches!(c.poll(sim, &mut limiter, &mut answered), Poll::Open));
    }
    // Answers still queued for TCP clients when `--count` is reached: a last try, no waiting.
    for c in &mut conns {
        let _ = c.stream.write(&c.outbox);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn listens_on_loopback_unless_told() {
        let c = parse_flags(&[]).expect("no flags is fine");
        assert!(c.listen.ip().is_loopback(), "{c:?}");
        assert_eq!(c.listen.port(), 5353);
        assert_eq!(c.count, None);
        let c = parse_flags(&args("--listen 0.0.0.0:53 --count 3 --rate=7")).expect("valid");
        assert_eq!(c.listen, SocketAddr::from(([0, 0, 0, 0], 53)));
        assert_eq!((c.count, c.rate), (Some(3), 7));
    }

    #[test]
    fn bad_values_are_errors_not_defaults() {
        for bad in [
            "--count",
            "--count x",
            "--count 0",
            "--rate 0",
            "--rate -1",
            "--rate 99999999999",
            "--listen",
            "--listen localhost",
            "--port 53",
        ] {
            let e = parse_flags(&args(bad)).expect_err(bad);
            assert!(e.starts_with("error: "), "{bad}: {e}");
        }
    }

    #[test]
    fn each_source_has_its_own_bucket() {
        let t0 = Instant::now();
        let (a, b): (IpAddr, IpAddr) = ([127, 0, 0, 1].into(), [127, 0, 0, 2].into());
        let mut l = Limiter::new(3);
        let burst: Vec<bool> = (0..5).map(|_| l.allow(a, t0)).collect();
        assert_eq!(burst, [true, true, true, false, false]);
        assert!(l.allow(b, t0), "another source is not limited by the first");
        // A third of a second later, one token has come back.
        let later = t0 + Duration::from_millis(334);
        assert!(l.allow(a, later));
        assert!(!l.allow(a, later));
        // Refills stop at the burst.
        let much_later = t0 + Duration::from_secs(3600);
        let burst: Vec<bool> = (0..4).map(|_| l.allow(a, much_later)).collect();
        assert_eq!(burst, [true, true, true, false]);
    }

    #[test]
    fn the_sources_remembered_are_bounded() {
        let t0 = Instant::now();
        let mut l = Limiter::new(1);
        for i in 0..(MAX_SOURCES as u32 * 2) {
            assert!(l.allow(IpAddr::from(i.to_be_bytes()), t0));
            assert!(l.sources() <= MAX_SOURCES);
        }
        // The latest source is still limited: its bucket was not what got forgotten.
        let last = IpAddr::from((MAX_SOURCES as u32 * 2 - 1).to_be_bytes());
        assert!(!l.allow(last, t0));
    }
}
