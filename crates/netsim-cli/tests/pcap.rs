//! `netsim trace --pcap`: the real tshark (Debian's, installed by `make test`) decodes the
//! capture: every IPv4, TCP, UDP and ICMP checksum is right, flannel's VXLAN (port 8472)
//! carries the inner packet with VNI 1, and the HTTP request, the DNS query and its answer,
//! and the ICMP echo are what netsim sent.

mod common;

use common::netsim;
use std::path::Path;
use std::process::Command;

/// tshark's fields for every frame of `file`, tab-separated.
fn tshark(file: &Path, fields: &[&str]) -> Vec<Vec<String>> {
    let mut args: Vec<String> = [
        "-r",
        file.to_str().unwrap_or_default(),
        "-d",
        "udp.port==8472,vxlan",
        "-o",
        "ip.check_checksum:TRUE",
        "-o",
        "tcp.check_checksum:TRUE",
        "-o",
        "udp.check_checksum:TRUE",
        "-T",
        "fields",
        "-E",
        "separator=/t",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for f in fields {
        args.push("-e".into());
        args.push((*f).into());
    }
    let out = Command::new("tshark")
        .args(&args)
        .output()
        .expect("the real tshark is installed (`make test` installs it)");
    assert!(
        out.status.success(),
        "tshark: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

#[test]
fn tshark_decodes_netsims_captures() {
    let dir = std::env::temp_dir().join(format!("netsim-pcap-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let state = dir.join("state");
    netsim(&state, &["apply", "-f", "scenarios/echoserver.yaml"]);
    netsim(&state, &["apply", "-f", "scenarios/busybox.yaml"]);
    netsim(&state, &["wait", "30s"]);

    let pod_ip = netsim(
        &state,
        &[
            "get",
            "pods",
            "-l",
            "app=echo",
            "-o",
            "jsonpath={.items[0].status.podIP}",
        ],
    );
    let pod_ip = pod_ip.trim().to_string();
    // An HTTP request from outside through k8s-worker2's NodePort to the pod on k8s-worker1:
    // over VXLAN between the nodes.
    let http = dir.join("http.pcapng");
    netsim(
        &state,
        &[
            "trace",
            "http://10.0.0.12:30808/",
            "--pcap",
            http.to_str().unwrap_or_default(),
        ],
    );
    let frames = tshark(
        &http,
        &[
            "frame.interface_name",
            "ip.checksum.status",
            "tcp.checksum.status",
            "udp.checksum.status",
            "vxlan.vni",
            "http.request.method",
            "http.request.uri",
            "http.response.code",
            "ip.dst",
        ],
    );
    assert!(frames.len() > 20, "{} frames", frames.len());
    for f in &frames {
        assert!(
            f[1].split(',').all(|s| s == "1"),
            "every IPv4 checksum is good: {f:?}"
        );
        assert!(
            f[2].split(',').all(|s| s.is_empty() || s == "1"),
            "TCP: {f:?}"
        );
        // VXLAN's outer UDP carries no checksum (3: not present), as the kernel sends it.
        assert!(
            f[3].split(',')
                .all(|s| s.is_empty() || s == "3" || s == "1"),
            "UDP: {f:?}"
        );
    }
    assert!(
        frames
            .iter()
            .any(|f| f[4] == "1" && f[0] == "k8s-worker2/eth0"),
        "VXLAN with VNI 1 leaves k8s-worker2"
    );
    assert!(frames.iter().any(|f| f[5] == "GET" && f[6] == "/"));
    assert!(frames.iter().any(|f| f[7] == "200"));
    assert!(frames.iter().any(|f| f[0] == "outside/eth0"));
    // Before kube-proxy's DNAT the request is for the node's NodePort; after it, for the pod,
    // also as the inner packet of the VXLAN frames (`ip.dst` lists outer, then inner).
    assert!(
        frames
            .iter()
            .any(|f| f[0] == "outside/eth0" && f[8] == "10.0.0.12")
    );
    assert!(
        frames
            .iter()
            .any(|f| f[0].starts_with("default/echo") && f[8] == pod_ip)
    );
    assert!(
        frames
            .iter()
            .any(|f| f[4] == "1" && f[8] == format!("10.0.0.11,{pod_ip}")),
        "a VXLAN frame to k8s-worker1 carrying the DNAT'd packet: {frames:?}"
    );

    // A DNS lookup from the busybox pod, through kube-proxy's DNAT to a CoreDNS pod.
    let dns = dir.join("dns.pcapng");
    netsim(
        &state,
        &[
            "trace",
            "--from",
            "pod/busybox",
            "--dns",
            "kubernetes",
            "--pcap",
            dns.to_str().unwrap_or_default(),
        ],
    );
    let frames = tshark(
        &dns,
        &[
            "udp.checksum.status",
            "dns.qry.name",
            "dns.flags.response",
            "dns.a",
        ],
    );
    assert!(
        frames
            .iter()
            .any(|f| f[1] == "kubernetes.default.svc.cluster.local" && f[2] == "0"),
        "the query: {frames:?}"
    );
    assert!(
        frames.iter().any(|f| f[2] == "1" && f[3] == "10.96.0.1"),
        "the answer: {frames:?}"
    );
    assert!(
        frames
            .iter()
            .all(|f| f[0].split(',').all(|s| s == "1" || s == "3")),
        "UDP checksums: {frames:?}"
    );

    // A ping from a node to a pod on another node.
    let icmp = dir.join("icmp.pcapng");
    netsim(
        &state,
        &[
            "trace",
            "--from",
            "node/k8s-worker2",
            "--icmp",
            &pod_ip,
            "--pcap",
            icmp.to_str().unwrap_or_default(),
        ],
    );
    let frames = tshark(&icmp, &["icmp.type", "icmp.checksum.status"]);
    assert!(
        frames.iter().any(|f| f[0] == "8" && f[1] == "1"),
        "{frames:?}"
    );
    assert!(
        frames.iter().any(|f| f[0] == "0" && f[1] == "1"),
        "{frames:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
