//! The packet engine's promises, checked through the `netsim` binary on scenarios/traffic.yaml:
//! the statistic rules spread connections evenly, a ClusterIP never answers ping, refusals and
//! timeouts surface as the real clients report them.

use std::path::{Path, PathBuf};
use std::process::Command;

struct Cluster {
    state: PathBuf,
}

impl Cluster {
    fn new(label: &str) -> Cluster {
        let state = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("netsim-dataplane-{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&state);
        let c = Cluster { state };
        c.ok(&["apply", "-f", "scenarios/traffic.yaml"]);
        c.ok(&["wait", "60s"]);
        c
    }

    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let output = Command::new(env!("CARGO_BIN_EXE_netsim"))
            .arg("--state")
            .arg(&self.state)
            .arg("--no-hints")
            .args(args)
            .current_dir(root)
            .output()
            .expect("run netsim");
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    fn ok(&self, args: &[&str]) -> String {
        let (code, out, err) = self.run(args);
        assert_eq!(code, 0, "netsim {args:?} failed: {err}");
        out
    }

    fn cluster_ip(&self, svc: &str) -> String {
        self.ok(&["get", "svc", svc, "-o", "jsonpath={.spec.clusterIP}"])
            .trim()
            .to_string()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.state);
    }
}

/// `curl --count 10000` on a three-endpoint Service lands within ±3 points of a third on each.
#[test]
fn connections_spread_a_third_each() {
    let c = Cluster::new("spread");
    let url = format!("http://{}/", c.cluster_ip("echo"));
    let out = c.ok(&["ssh", "k8s-worker2", "--", "curl", "--count", "10000", &url]);
    let shares: Vec<f64> = out
        .lines()
        .skip(1)
        .filter_map(|l| {
            l.split_whitespace()
                .nth(1)?
                .trim_end_matches('%')
                .parse()
                .ok()
        })
        .collect();
    assert_eq!(shares.len(), 3, "three endpoints answered:\n{out}");
    for share in shares {
        assert!(
            (100.0 / 3.0 - share).abs() <= 3.0,
            "a share of {share}% is not within 3 points of 33.3%:\n{out}"
        );
    }
}

/// A ClusterIP answers no ping from a pod or a node, while pods do.
#[test]
fn cluster_ips_do_not_answer_ping() {
    let c = Cluster::new("ping");
    for ip in ["10.96.0.1", &c.cluster_ip("echo")] {
        let (code, out, _) = c.run(&["exec", "client", "--", "ping", "-c", "2", ip]);
        assert_eq!(code, 1);
        assert!(out.contains("2 packets transmitted, 0 packets received, 100% packet loss"));
        let (code, out, _) = c.run(&["ssh", "k8s-control", "--", "ping", "-c", "2", ip]);
        assert_eq!(code, 1);
        assert!(out.contains("2 packets transmitted, 0 received, 100% packet loss"));
    }
    let trace = c.ok(&["trace", "--from", "pod/client", "--icmp", "10.96.0.1"]);
    assert!(trace.contains("IS_A_CLUSTERIP"), "{trace}");
    let pods = c.ok(&[
        "get",
        "pods",
        "-l",
        "app=echo",
        "-o",
        "jsonpath={.items[*].status.podIP}",
    ]);
    for ip in pods.split_whitespace() {
        let out = c.ok(&["exec", "client", "--", "ping", "-c", "1", ip]);
        assert!(
            out.contains("1 packets transmitted, 1 packets received, 0% packet loss"),
            "{out}"
        );
    }
}

/// No endpoints: REJECT, refused at once. The wrong port: RST, refused. Local policy on a node
/// without an endpoint: dropped, so the connect times out.
#[test]
fn refusals_and_drops() {
    let c = Cluster::new("refusals");
    for svc in ["nothing", "echo-wrong-port"] {
        let url = format!("http://{}/", c.cluster_ip(svc));
        let (code, _, err) = c.run(&["ssh", "k8s-worker1", "--", "curl", "-sS", &url]);
        assert_eq!(code, 7, "{svc}: {err}");
        assert!(err.contains("Connection refused"), "{svc}: {err}");
    }
    let (code, _, err) = c.run(&[
        "curl",
        "-sS",
        "--connect-timeout",
        "2",
        "http://10.0.0.10:30090/",
    ]);
    assert_eq!(code, 28, "{err}");
    let out = c.ok(&["curl", "http://10.0.0.11:30090/"]);
    assert!(
        out.contains("Client address: 10.0.0.254:"),
        "Local keeps the client address: {out}"
    );
    let out = c.ok(&["curl", "http://10.0.0.10:30091/"]);
    assert!(
        !out.contains("Client address: 10.0.0.254:"),
        "Cluster hides it: {out}"
    );
}
