//! `netsim dns serve` answers real DNS: the real `dig` (Debian's dnsutils, installed by `make
//! test`) asks it over UDP and TCP, and its answers must match what netsim's own `dig` prints
//! from a node for the same names, line for line apart from the id, timing and server lines.
//! Junk packets get FORMERR or are dropped, and the server keeps answering.

use std::io::{BufRead, BufReader};
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the repository root exists")
}

struct State(PathBuf);

impl Drop for State {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn netsim(state: &Path, args: &[&str]) -> String {
    netsim_code(state, args).0
}

/// A fresh state with `setup` run in it, and `netsim dns serve` answering from it on a free
/// loopback port.
fn serving(name: &str, setup: &[&[&str]]) -> (State, Child, u16) {
    let state = State(std::env::temp_dir().join(format!("netsim-{name}-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&state.0);
    for args in setup {
        netsim(&state.0, args);
    }
    let port = UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("a free port")
        .port();
    let server = serve(&state.0, port);
    (state, server, port)
}

/// dig's output without the lines that differ between two runs by nature.
fn comparable(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| {
            !l.starts_with("; <<>> DiG")
                && !l.starts_with(";; Query time")
                && !l.starts_with(";; SERVER")
                && !l.starts_with(";; WHEN")
        })
        .map(|l| match l.find(", id: ") {
            Some(i) => l[..i].to_string(),
            None => l.to_string(),
        })
        .collect()
}

fn serve(state: &Path, port: u16) -> Child {
    let (child, line) = start(state, &format!("127.0.0.1:{port}"), &[]);
    assert!(line.contains("serving"), "unexpected: {line}");
    child
}

/// Starts `netsim dns serve --listen LISTEN FLAGS...` and reads the line it announces itself
/// with.
fn start(state: &Path, listen: &str, flags: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_netsim"))
        .arg("--state")
        .arg(state)
        .args(["dns", "serve", "--listen", listen])
        .args(flags)
        .current_dir(repo_root())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start netsim dns serve");
    let stderr = child.stderr.take().expect("stderr is piped");
    let mut line = String::new();
    BufReader::new(stderr)
        .read_line(&mut line)
        .expect("the server announces itself");
    (child, line)
}

fn real_dig(port: u16, args: &[&str]) -> String {
    let output = Command::new("dig")
        .arg("@127.0.0.1")
        .args(["-p", &port.to_string(), "+tries=1", "+time=2"])
        .args(args)
        .output()
        .expect("the real dig is installed (`make test` installs dnsutils)");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn real_dig_matches_netsims_dig() {
    let (state, mut server, port) = serving(
        "dns-serve",
        &[
            &["apply", "-f", "scenarios/nodeport.yaml"],
            &["apply", "-f", "scenarios/headless.yaml"],
            &["apply", "-f", "scenarios/kubeserve2.yaml"],
            &["wait", "30s"],
        ],
    );
    let queries: &[&[&str]] = &[
        &["kubernetes.default.svc.cluster.local"],
        &["kube-dns.kube-system.svc.cluster.local", "SRV"],
        &["nginx-nodeport.default.svc.cluster.local", "AAAA"],
        &["nope.default.svc.cluster.local"],
        &["kube-headless.default.svc.cluster.local"],
        &["_dns._udp.kube-dns.kube-system.svc.cluster.local", "SRV"],
        &["10-244-1-7.default.pod.cluster.local"],
        &["-x", "10.96.0.10"],
        &["cluster.local", "SOA"],
        &["example.com"],
    ];
    for q in queries {
        let real = real_dig(port, q);
        let mut ours_args = vec!["ssh", "k8s-control", "--", "dig", "@10.96.0.10"];
        ours_args.extend_from_slice(q);
        let ours = netsim(&state.0, &ours_args);
        assert_eq!(
            comparable(&ours),
            comparable(&real),
            "dig {q:?}\n--- netsim ---\n{ours}\n--- real dig against netsim dns serve ---\n{real}"
        );
        // The same over TCP.
        let mut tcp = vec!["+tcp"];
        tcp.extend_from_slice(q);
        let real_tcp = real_dig(port, &tcp);
        assert!(
            real_tcp.contains("status: "),
            "TCP answer for {q:?}: {real_tcp}"
        );
    }
    // Junk: too short to have a header (dropped), and a header with garbage (FORMERR).
    let sock = UdpSocket::bind("127.0.0.1:0").expect("a client socket");
    sock.set_read_timeout(Some(std::time::Duration::from_secs(2)))
        .expect("a timeout");
    sock.send_to(&[1, 2, 3], ("127.0.0.1", port)).expect("send");
    let mut junk = vec![0xab, 0xcd, 0x01, 0x00, 0x00, 0x05, 0xff, 0xff];
    junk.extend_from_slice(&[0xff; 40]);
    sock.send_to(&junk, ("127.0.0.1", port)).expect("send");
    let mut buf = [0u8; 512];
    let (n, _) = sock
        .recv_from(&mut buf)
        .expect("an answer to the junk with a header");
    assert!(n >= 12);
    assert_eq!(&buf[..2], &[0xab, 0xcd], "the id is kept");
    assert_eq!(buf[3] & 0x0f, 1, "rcode FORMERR");
    // Still serving.
    let after = real_dig(port, &["kubernetes.default.svc.cluster.local", "+short"]);
    assert_eq!(after.trim(), "10.96.0.1");
    let _ = server.kill();
    let _ = server.wait();
}

/// Runs a real BIND tool and returns its stdout with the loopback server written as the
/// kube-dns address netsim's own tools were given, and its exit code.
fn real_tool(tool: &str, args: &[String], port: u16) -> (String, i32) {
    let output = Command::new(tool)
        .args(args)
        .output()
        .expect("the real BIND tools are installed (`make test` installs dnsutils)");
    let text = String::from_utf8_lossy(&output.stdout)
        .replace(&format!("127.0.0.1#{port}"), "10.96.0.10#53")
        .replace("127.0.0.1", "10.96.0.10");
    (text, output.status.code().unwrap_or(-1))
}

fn netsim_code(state: &Path, args: &[&str]) -> (String, i32) {
    let output = Command::new(env!("CARGO_BIN_EXE_netsim"))
        .arg("--state")
        .arg(state)
        .arg("--no-hints")
        .args(args)
        .current_dir(repo_root())
        .output()
        .expect("run netsim");
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        output.status.code().unwrap_or(-1),
    )
}

/// The real `nslookup` and `host` (BIND 9.18) against `netsim dns serve` print what netsim's
/// own print from a node for the same absolute names, byte for byte, with the same exit code.
#[test]
fn real_nslookup_and_host_match_netsims() {
    let (state, mut server, port) = serving(
        "bind-tools",
        &[
            &["apply", "-f", "scenarios/nodeport.yaml"],
            &["apply", "-f", "scenarios/kubeserve2.yaml"],
            &[
                "kubectl",
                "create",
                "service",
                "externalname",
                "ext",
                "--external-name",
                "kubernetes.default.svc.cluster.local",
            ],
            &["wait", "30s"],
        ],
    );
    let names: &[&[&str]] = &[
        &["kubernetes.default.svc.cluster.local."],
        &["nope.default.svc.cluster.local."],
        &["ext.default.svc.cluster.local."],
        &["10.96.0.10"],
        &["10.96.0.5"],
        &["cluster.local.", "SOA"],
        &["_dns._udp.kube-dns.kube-system.svc.cluster.local.", "SRV"],
        &["nginx-nodeport.default.svc.cluster.local.", "AAAA"],
    ];
    for q in names {
        let (name, qtype) = (q[0], q.get(1));
        // nslookup [-type=T] NAME SERVER
        let mut real_args: Vec<String> = vec![format!("-port={port}"), "-timeout=2".into()];
        let mut ours: Vec<String> = ["ssh", "k8s-control", "--", "nslookup"]
            .iter()
            .map(ToString::to_string)
            .collect();
        if let Some(t) = qtype {
            real_args.push(format!("-type={t}"));
            ours.push(format!("-type={t}"));
        }
        real_args.extend([name.to_string(), "127.0.0.1".into()]);
        ours.extend([name.to_string(), "10.96.0.10".into()]);
        let real = real_tool("nslookup", &real_args, port);
        let ours_ref: Vec<&str> = ours.iter().map(String::as_str).collect();
        let mine = netsim_code(&state.0, &ours_ref);
        assert_eq!(mine, real, "nslookup {q:?}");
        // host [-t T] NAME SERVER
        let mut real_args: Vec<String> =
            vec!["-p".into(), port.to_string(), "-W".into(), "2".into()];
        let mut ours: Vec<String> = ["ssh", "k8s-control", "--", "host"]
            .iter()
            .map(ToString::to_string)
            .collect();
        if let Some(t) = qtype {
            real_args.extend(["-t".into(), t.to_string()]);
            ours.extend(["-t".into(), t.to_string()]);
        }
        real_args.extend([name.to_string(), "127.0.0.1".into()]);
        ours.extend([name.to_string(), "10.96.0.10".into()]);
        let real = real_tool("host", &real_args, port);
        let ours_ref: Vec<&str> = ours.iter().map(String::as_str).collect();
        let mine = netsim_code(&state.0, &ours_ref);
        assert_eq!(mine, real, "host {q:?}");
    }
    let _ = server.kill();
    let _ = server.wait();
}

/// busybox's own `nslookup` (Debian's busybox 1.35, the same applet as the images' 1.36)
/// against `netsim dns serve` prints what netsim's prints in a `busybox:latest` pod, byte for
/// byte, with the same exit code. Skipped where no busybox is installed.
#[test]
fn real_busybox_nslookup_matches_netsims() {
    if Command::new("busybox").arg("true").output().is_err() {
        eprintln!("busybox is not installed; skipped");
        return;
    }
    let (state, mut server, port) = serving(
        "busybox",
        &[
            &["apply", "-f", "scenarios/nodeport.yaml"],
            &[
                "kubectl",
                "run",
                "bb",
                "--image=busybox",
                "--",
                "sleep",
                "3600",
            ],
            &["wait", "30s"],
        ],
    );
    let cases: &[&[&str]] = &[
        &["kubernetes.default.svc.cluster.local"],
        &["kubernetes.default"],
        &["nope.default.svc.cluster.local"],
        &["10.96.0.10"],
        &[
            "-type=SRV",
            "_https._tcp.kubernetes.default.svc.cluster.local",
        ],
        &["-type=soa", "cluster.local"],
        &["-type=AAAA", "nginx-nodeport.default.svc.cluster.local"],
    ];
    for case in cases {
        let mut real_args: Vec<String> = vec!["nslookup".into()];
        real_args.extend(case.iter().map(ToString::to_string));
        real_args.push(format!("127.0.0.1:{port}"));
        let output = Command::new("busybox")
            .args(&real_args)
            .output()
            .expect("run busybox");
        let real = (
            String::from_utf8_lossy(&output.stdout)
                .replace(
                    &format!("Server:\t\t127.0.0.1:{port}"),
                    "Server:\t\t10.96.0.10",
                )
                .replace(&format!("127.0.0.1:{port}"), "10.96.0.10:53"),
            output.status.code().unwrap_or(-1),
        );
        let mut ours: Vec<&str> = vec!["kubectl", "exec", "bb", "--", "nslookup"];
        ours.extend_from_slice(case);
        ours.push("10.96.0.10");
        let mine = netsim_code(&state.0, &ours);
        assert_eq!(mine, real, "busybox nslookup {case:?}");
    }
    let _ = server.kill();
    let _ = server.wait();
}

/// `netsim dns serve` with `flags` on a port it picks itself (port 0 on loopback), read from
/// the line it announces itself with.
fn serve_on_any_port(state: &Path, flags: &[&str]) -> (Child, std::net::SocketAddr) {
    let (child, line) = start(state, "127.0.0.1:0", flags);
    let addr = line
        .split_whitespace()
        .find_map(|w| w.parse().ok())
        .unwrap_or_else(|| panic!("no address in {line:?}"));
    (child, addr)
}

/// Kills the server when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A query for `name` (type A, recursion desired) with id `id`, in wire format.
fn a_query(id: u16, name: &str) -> Vec<u8> {
    use hickory_proto::op::{Message, Query};
    use hickory_proto::rr::{Name, RecordType};
    let mut m = Message::new();
    m.set_id(id)
        .set_recursion_desired(true)
        .add_query(Query::query(
            Name::from_ascii(name).expect("a valid name"),
            RecordType::A,
        ));
    m.to_vec().expect("the query encodes")
}

/// The A records of a reply, after checking it answers query `id`.
fn a_records(reply: &[u8], id: u16) -> Vec<std::net::Ipv4Addr> {
    use hickory_proto::op::{Message, MessageType, ResponseCode};
    use hickory_proto::rr::RData;
    let m = Message::from_vec(reply).expect("the reply parses");
    assert_eq!(m.id(), id);
    assert_eq!(m.message_type(), MessageType::Response);
    assert_eq!(m.response_code(), ResponseCode::NoError);
    m.answers()
        .iter()
        .filter_map(|r| match r.data() {
            RData::A(a) => Some(a.0),
            _ => None,
        })
        .collect()
}

/// How long a test waits for an answer it expects: far beyond what answering takes, only so a
/// broken server fails the test instead of hanging it.
const PATIENCE: std::time::Duration = std::time::Duration::from_secs(20);

/// Asks `server` over UDP from `client` and waits for the reply with that id, asking again
/// each second as resolvers do: a datagram that arrives while the server's receive buffer is
/// full of junk is dropped by the kernel, which is UDP, not the server failing.
fn ask_udp(client: &UdpSocket, server: std::net::SocketAddr, id: u16) -> Vec<u8> {
    let query = a_query(id, "kubernetes.default.svc.cluster.local");
    client
        .set_read_timeout(Some(std::time::Duration::from_secs(1)))
        .expect("a read timeout");
    let mut buf = vec![0u8; 65535];
    let started = std::time::Instant::now();
    while started.elapsed() < PATIENCE {
        client.send_to(&query, server).expect("send the query");
        while let Ok((n, _)) = client.recv_from(&mut buf) {
            if n >= 2 && buf[..2] == id.to_be_bytes() {
                return buf[..n].to_vec();
            }
        }
    }
    panic!("no answer over UDP to query {id} in {PATIENCE:?}");
}

/// Asks `server` over a new TCP connection.
fn ask_tcp(server: std::net::SocketAddr, id: u16) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect_timeout(&server, PATIENCE).expect("connect");
    s.set_read_timeout(Some(PATIENCE)).expect("a read timeout");
    let q = a_query(id, "kubernetes.default.svc.cluster.local");
    let mut framed = (q.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(&q);
    s.write_all(&framed).expect("send the query");
    let mut len = [0u8; 2];
    s.read_exact(&mut len)
        .expect("the server still answers over TCP");
    let mut reply = vec![0u8; usize::from(u16::from_be_bytes(len))];
    s.read_exact(&mut reply).expect("the whole reply");
    reply
}

/// Deterministic junk (xorshift64*): the same flood on every run.
struct Junk(u64);

impl Junk {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The UDP packets of the flood: random bytes of every size, every truncation of a good
/// query, good queries with bytes flipped, headers that promise more than they hold, a name
/// that points at itself, responses, and the largest datagram IPv4 carries.
fn junk_packets(junk: &mut Junk) -> Vec<Vec<u8>> {
    let good = a_query(0x4242, "kubernetes.default.svc.cluster.local");
    let mut packets: Vec<Vec<u8>> = Vec::new();
    for _ in 0..1500 {
        let n = junk.below(600);
        packets.push(junk.bytes(n));
    }
    for n in 0..good.len() {
        packets.push(good[..n].to_vec());
    }
    for _ in 0..500 {
        let mut p = good.clone();
        for _ in 0..=junk.below(4) {
            let i = junk.below(p.len());
            p[i] = junk.next() as u8;
        }
        packets.push(p);
    }
    // 65535 questions promised, one byte given.
    packets.push(vec![0, 1, 1, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 7]);
    // A question name that is a compression pointer to itself.
    packets.push(vec![
        0, 2, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1,
    ]);
    // A response (QR set): dropped.
    let mut response = good.clone();
    response[2] |= 0x80;
    packets.push(response);
    // The largest UDP payload over IPv4, of junk after a good header.
    let mut big = good.clone();
    big.extend(junk.bytes(65507 - good.len()));
    packets.push(big);
    packets
}

/// A flood of malformed packets over UDP and TCP — and clients that connect and say nothing,
/// trickle bytes, or send queries without reading the answers — does not stop the server:
/// well-formed queries asked during and after it are answered, and correctly.
#[test]
fn a_flood_of_junk_does_not_stop_the_server() {
    use std::io::Write;
    use std::net::TcpStream;
    let state =
        State(std::env::temp_dir().join(format!("netsim-dns-flood-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&state.0);
    netsim(&state.0, &["get", "nodes"]);
    // A rate no test client reaches, so every junk packet is parsed rather than dropped by the
    // limiter (the limiter has its own test below).
    let (child, server) = serve_on_any_port(&state.0, &["--rate", "1000000000"]);
    let _server = Server(child);
    let kubernetes = vec![std::net::Ipv4Addr::new(10, 96, 0, 1)];
    let flood = UdpSocket::bind("127.0.0.1:0").expect("a client socket");
    let client = UdpSocket::bind("127.0.0.1:0").expect("a client socket");
    let mut junk = Junk(0x0123_4567_89ab_cdef);

    // Clients that hold TCP connections: more than the server serves at once, saying nothing,
    // or half a length prefix, or half a query.
    let mut held: Vec<TcpStream> = Vec::new();
    for i in 0..40 {
        let mut s = TcpStream::connect(server).expect("connect");
        match i % 3 {
            0 => {}
            1 => s.write_all(&[0x01]).expect("send a byte"),
            _ => s
                .write_all(&[0x00, 0x40, 0xab, 0xcd])
                .expect("send part of a query"),
        }
        held.push(s);
    }

    let mut id = 1u16;
    for (i, p) in junk_packets(&mut junk).iter().enumerate() {
        // A full receive buffer drops datagrams; that is the kernel's business, not an error.
        let _ = flood.send_to(p, server);
        if i % 250 == 0 {
            id += 1;
            assert_eq!(a_records(&ask_udp(&client, server, id), id), kubernetes);
        }
    }

    // TCP: junk frames, a zero-length frame, a length with too little behind it, and a client
    // that pipelines queries without reading a single answer.
    for i in 0..30 {
        let Ok(mut s) = TcpStream::connect(server) else {
            continue;
        };
        let frame = match i % 4 {
            0 => {
                let n = junk.below(300);
                let mut f = (n as u16).to_be_bytes().to_vec();
                f.extend(junk.bytes(n));
                f
            }
            1 => vec![0, 0],
            2 => {
                let mut f = vec![0xff, 0xff];
                f.extend(junk.bytes(10));
                f
            }
            _ => {
                let n = junk.below(100);
                junk.bytes(n)
            }
        };
        let _ = s.write_all(&frame);
        // Closing at once, with the answer (if any) unread.
    }
    let mut greedy = TcpStream::connect(server).expect("connect");
    let q = a_query(7, "kubernetes.default.svc.cluster.local");
    let mut framed = (q.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(&q);
    for _ in 0..2000 {
        if greedy.write_all(&framed).is_err() {
            break;
        }
    }

    // With all that still connected, both transports answer, and answer right.
    id += 1;
    assert_eq!(a_records(&ask_udp(&client, server, id), id), kubernetes);
    id += 1;
    assert_eq!(a_records(&ask_tcp(server, id), id), kubernetes);
    drop(held);
    drop(greedy);
    id += 1;
    assert_eq!(a_records(&ask_tcp(server, id), id), kubernetes);
}

/// `--rate` is per source address: a client asking faster than its rate gets no more than its
/// burst and what refilled while it asked, and another address is answered all the same.
#[test]
fn the_rate_limit_is_per_source() {
    let state = State(std::env::temp_dir().join(format!("netsim-dns-rate-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&state.0);
    netsim(&state.0, &["get", "nodes"]);
    let (child, server) = serve_on_any_port(&state.0, &["--rate", "5"]);
    let _server = Server(child);
    let greedy = UdpSocket::bind("127.0.0.1:0").expect("a client socket");
    let started = std::time::Instant::now();
    for id in 0..50u16 {
        greedy
            .send_to(&a_query(id, "kubernetes.default.svc.cluster.local"), server)
            .expect("send");
    }
    // Answers until a second of silence: the server answers in microseconds, so a second with
    // none means the rest were dropped.
    greedy
        .set_read_timeout(Some(std::time::Duration::from_secs(1)))
        .expect("a read timeout");
    let mut answered = 0u32;
    let mut buf = [0u8; 4096];
    while greedy.recv_from(&mut buf).is_ok() {
        answered += 1;
    }
    let elapsed = started.elapsed().as_secs_f64();
    // Whatever the machine's speed: the burst of 5, plus 5 a second for as long as the client
    // was asking and listening (an upper bound on the server's window).
    let most = 5 + (5.0 * elapsed).ceil() as u32;
    assert!(
        (1..=most).contains(&answered),
        "{answered} of 50 answered in {elapsed:.2}s at --rate 5"
    );
    assert!(answered < 50, "the limit dropped nothing");
    // Another loopback address has a bucket of its own.
    let other =
        UdpSocket::bind("127.0.0.2:0").expect("a socket on 127.0.0.2 (Linux routes 127/8 to lo)");
    let id = 4242;
    assert_eq!(
        a_records(&ask_udp(&other, server, id), id),
        vec![std::net::Ipv4Addr::new(10, 96, 0, 1)]
    );
}
