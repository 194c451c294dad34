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
    let mut child = Command::new(env!("CARGO_BIN_EXE_netsim"))
        .arg("--state")
        .arg(state)
        .args(["dns", "serve", "--listen", &format!("127.0.0.1:{port}")])
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
    assert!(line.contains("serving"), "unexpected: {line}");
    child
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
