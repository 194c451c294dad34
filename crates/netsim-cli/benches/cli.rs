//! `make bench`: wall time and peak memory of the release `netsim` binary on the lesson's
//! cluster and on generated larger ones, up to 1,000 nodes with 3,000 Deployments × 10
//! replicas (30,000 pods) and 3,000 Services.
//!
//! Every measurement is one whole process, as a student runs it: load the state file, run the
//! command, let think time pass, save. Peak RSS comes from `/usr/bin/time -f %M` when it is
//! installed (`apt-get install time`); without it the column says `n/a`. A command that runs
//! longer than the timeout is stopped and reported as such, and the later commands on that
//! cluster are skipped. The table is printed and written to `target/bench-report.md`.

use std::fmt::Write as _;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs of each lesson measurement; the table shows the median wall time.
const RUNS: usize = 5;

/// Generated clusters: (nodes including one control plane, Deployments of [`REPLICAS`] pods,
/// each with a Service). The smaller ones show how cost grows; the last is a fifth of the
/// Kubernetes scalability envelope (5,000 nodes, 150,000 pods).
const SIZES: &[(usize, usize)] = &[(10, 15), (20, 30), (100, 300), (1000, 3000)];

/// Replicas per generated Deployment.
const REPLICAS: usize = 10;

/// Seconds one command may take before it is stopped (override with `NETSIM_BENCH_TIMEOUT`).
const DEFAULT_TIMEOUT_SECS: u64 = 120;

/// The repository root; commands run there so that `scenarios/...` resolves.
fn repo_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().expect("the repository root exists")
}

/// cargo's target directory (the parent of the per-target temporary directory).
fn target_dir() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent()
        .expect("CARGO_TARGET_TMPDIR is target/tmp")
        .to_path_buf()
}

/// One process's cost, or how it failed to finish.
enum Sample {
    /// It finished.
    Done {
        wall_ms: f64,
        peak_rss_kb: Option<u64>,
    },
    /// It was stopped after the timeout.
    TimedOut,
}

/// How measurements run.
struct Bench {
    work: PathBuf,
    timeout: Duration,
    with_time: bool,
}

impl Bench {
    /// Runs `netsim --state STATE --no-hints ARGS...` once and measures it; panics if it fails.
    fn measure(&self, state: &Path, args: &[&str]) -> Sample {
        let netsim = env!("CARGO_BIN_EXE_netsim");
        let time_out = self.work.join("time.out");
        let _ = std::fs::remove_file(&time_out);
        let mut command = if self.with_time {
            let mut c = Command::new("/usr/bin/time");
            c.arg("-f").arg("%M").arg("-o").arg(&time_out).arg(netsim);
            c
        } else {
            Command::new(netsim)
        };
        command
            .arg("--state")
            .arg(state)
            .arg("--no-hints")
            .args(args)
            .current_dir(repo_root())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group, so a timeout stops `time` and netsim together.
            .process_group(0);
        let started = Instant::now();
        let mut child = command.spawn().expect("run netsim");
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for netsim") {
                break status;
            }
            if started.elapsed() > self.timeout {
                let group = format!("-{}", child.id());
                let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
                let _ = child.wait();
                return Sample::TimedOut;
            }
            std::thread::sleep(Duration::from_millis(1));
        };
        let wall_ms = started.elapsed().as_secs_f64() * 1000.0;
        assert!(status.success(), "netsim {} failed", args.join(" "));
        let peak_rss_kb = std::fs::read_to_string(&time_out)
            .ok()
            .and_then(|text| text.lines().last().and_then(|l| l.trim().parse().ok()));
        Sample::Done {
            wall_ms,
            peak_rss_kb,
        }
    }

    /// A fresh, empty state directory.
    fn fresh_state(&self, name: &str) -> PathBuf {
        let dir = self.work.join(name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create a state directory");
        dir
    }
}

/// A generated cluster, from `netsim generate` (the command anyone can run to reproduce the
/// figures): `nodes` nodes and `deployments` Services with `REPLICAS` endpoints each.
fn generated_cluster_yaml(nodes: usize, deployments: usize) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_netsim"))
        .args([
            "generate",
            "--nodes",
            &nodes.to_string(),
            "--services",
            &deployments.to_string(),
            "--endpoints-per-service",
            &REPLICAS.to_string(),
        ])
        .output()
        .expect("run netsim generate");
    assert!(
        output.status.success(),
        "netsim generate failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("generate writes UTF-8")
}

/// One table row: what was measured and its samples.
struct Row {
    label: String,
    samples: Vec<Sample>,
}

impl Row {
    fn wall(&self) -> String {
        let mut walls: Vec<f64> = self
            .samples
            .iter()
            .filter_map(|s| match s {
                Sample::Done { wall_ms, .. } => Some(*wall_ms),
                Sample::TimedOut => None,
            })
            .collect();
        if walls.len() < self.samples.len() {
            return "timed out".to_string();
        }
        if walls.is_empty() {
            return "skipped".to_string();
        }
        walls.sort_by(f64::total_cmp);
        format!("{:.0}", walls[walls.len() / 2])
    }

    fn peak_mb(&self) -> String {
        let peak = self
            .samples
            .iter()
            .filter_map(|s| match s {
                Sample::Done { peak_rss_kb, .. } => *peak_rss_kb,
                Sample::TimedOut => None,
            })
            .max();
        match peak {
            Some(kb) => format!("{:.1}", kb as f64 / 1024.0),
            None => "n/a".to_string(),
        }
    }
}

/// Adds `sample` to the row labelled `label`, creating the row if needed.
fn record(rows: &mut Vec<Row>, label: &str, sample: Option<Sample>) {
    let index = match rows.iter().position(|r| r.label == label) {
        Some(index) => index,
        None => {
            rows.push(Row {
                label: label.to_string(),
                samples: Vec::new(),
            });
            rows.len() - 1
        }
    };
    if let Some(sample) = sample {
        rows[index].samples.push(sample);
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing and wants no run.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let timeout_secs = std::env::var("NETSIM_BENCH_TIMEOUT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_TIMEOUT_SECS);
    let bench = Bench {
        work: Path::new(env!("CARGO_TARGET_TMPDIR")).join("netsim-bench"),
        timeout: Duration::from_secs(timeout_secs),
        with_time: Path::new("/usr/bin/time").exists(),
    };
    std::fs::create_dir_all(&bench.work).expect("create the bench directory");
    let mut rows: Vec<Row> = Vec::new();

    // (a) and (d): the lesson.
    for run in 0..RUNS {
        let state = bench.fresh_state(&format!("lesson-{run}"));
        let steps: [(&str, &[&str]); 3] = [
            (
                "apply -f scenarios/nodeport.yaml (fresh state)",
                &["apply", "-f", "scenarios/nodeport.yaml"],
            ),
            ("wait 30s (lesson converges)", &["wait", "30s"]),
            ("get pods -o wide (lesson)", &["get", "pods", "-o", "wide"]),
        ];
        for (label, args) in steps {
            record(&mut rows, label, Some(bench.measure(&state, args)));
        }
    }

    // (b) and (c): generated clusters, once each.
    let mut converged = Vec::new();
    for &(nodes, deployments) in SIZES {
        let pods = deployments * REPLICAS;
        let file = bench
            .work
            .join(format!("cluster-{nodes}n-{deployments}d.yaml"));
        std::fs::write(&file, generated_cluster_yaml(nodes, deployments))
            .expect("write the generated manifest");
        let file_arg = file.display().to_string();
        let state = bench.fresh_state(&format!("cluster-{nodes}n-{deployments}d"));
        let size = format!("{nodes} nodes, {pods} pods, {deployments} svc");
        // The `get svc -A` right after the apply reads Services only and leaves its think
        // time to the `wait` (state.rs, "owed"); the one after `get pods -A` reads a quiet
        // cluster, and so does a node's `iptables-save` (Nodes, Services, EndpointSlices and
        // the per-node records).
        let steps: [(String, Vec<&str>); 6] = [
            (
                format!("apply -f generated.yaml ({size}; fresh state)"),
                vec!["apply", "-f", &file_arg],
            ),
            (
                format!("get svc -A right after the apply ({size})"),
                vec!["get", "svc", "-A"],
            ),
            (format!("wait 30s ({size})"), vec!["wait", "30s"]),
            (format!("get pods -A ({size})"), vec!["get", "pods", "-A"]),
            (format!("get svc -A ({size})"), vec!["get", "svc", "-A"]),
            (
                format!("ssh k8s-worker1 -- iptables-save ({size})"),
                vec!["ssh", "k8s-worker1", "--", "iptables-save"],
            ),
        ];
        let mut alive = true;
        for (label, args) in steps {
            if !alive {
                record(&mut rows, &label, None);
                continue;
            }
            let sample = bench.measure(&state, &args);
            alive = matches!(sample, Sample::Done { .. });
            record(&mut rows, &label, Some(sample));
        }
        if alive {
            converged.push(format!(
                "{nodes} nodes: {} of {pods} generated pods Running after `wait 30s`",
                count_running(&state)
            ));
        }
    }

    // (e) packets through the data plane: connections from a node to the lesson's ClusterIP,
    // whose endpoints sit on the two workers (so half the connections cross nodes through
    // VXLAN). Each connection is four packets (SYN, SYN-ACK, request, response).
    let state = bench.fresh_state("packets");
    let _ = bench.measure(&state, &["apply", "-f", "scenarios/nodeport.yaml"]);
    let _ = bench.measure(&state, &["wait", "30s"]);
    let cip = cluster_ip(&state, "nginx-nodeport");
    let url = format!("http://{cip}/");
    let one = bench.measure(
        &state,
        &["ssh", "k8s-control", "--", "curl", "--count", "1", &url],
    );
    let many = bench.measure(
        &state,
        &["ssh", "k8s-control", "--", "curl", "--count", "10000", &url],
    );
    let packets_line = match (&one, &many) {
        (Sample::Done { wall_ms: a, .. }, Sample::Done { wall_ms: b, .. }) => {
            let secs = ((b - a) / 1000.0).max(1e-9);
            format!(
                "Data plane: 10,000 connections node → ClusterIP (half of them cross-node over VXLAN) in {:.0} ms beyond a single one: {:.0} connections/s, {:.0} packets/s (4 packets per connection).",
                b - a,
                10_000.0 / secs,
                40_000.0 / secs
            )
        }
        _ => "Data plane: the packet run did not finish.".to_string(),
    };
    record(
        &mut rows,
        "ssh k8s-control -- curl --count 1 CLUSTER-IP (lesson)",
        Some(one),
    );
    record(
        &mut rows,
        "ssh k8s-control -- curl --count 10000 CLUSTER-IP (lesson)",
        Some(many),
    );

    // (f) one node's kube-proxy rules for 10,000 Services × 10 endpoints, built and printed
    // in process.
    let engine_line = packets_in_process();
    let rules_line = kube_proxy_rules_at_scale();

    // (g) DNS: the CoreDNS model in process, and `netsim dns serve` under Debian's dnsperf.
    let dns_lines = dns_rates(&bench, &state);

    let mut report = String::new();
    report.push_str("| command | runs | wall ms (median) | peak RSS MB (max) |\n");
    report.push_str("| --- | ---: | ---: | ---: |\n");
    for row in &rows {
        let _ = writeln!(
            report,
            "| `{}` | {} | {} | {} |",
            row.label,
            row.samples.len(),
            row.wall(),
            row.peak_mb()
        );
    }
    let _ = writeln!(
        report,
        "\nRelease build, one process per command, timeout {timeout_secs} s per command. \
         Machine: {} CPUs, {}.",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        cpu_model()
    );
    for line in converged {
        let _ = writeln!(report, "{line}.");
    }
    let _ = writeln!(report, "{packets_line}");
    let _ = writeln!(report, "{engine_line}");
    let _ = writeln!(report, "{rules_line}");
    for line in dns_lines {
        let _ = writeln!(report, "{line}");
    }
    print!("{report}");
    let path = target_dir().join("bench-report.md");
    std::fs::write(&path, &report).expect("write the bench report");
    println!("written to {}", path.display());
}

/// The packet engine alone, in process: the lesson's cluster built from its manifest, then
/// 100,000 connections from the control-plane node to the nginx Service's ClusterIP (half of
/// them to the pod on the far worker, over VXLAN), timed around the data plane only: no
/// process start, no state load or save, no printing.
fn packets_in_process() -> String {
    use netsim_engine::servers::HttpRequest;
    use netsim_engine::{Sim, WriteOptions};
    use netsim_manifest::{Item, Source, Validate, parse};
    use netsim_model::ClusterConfig;
    use netsim_model::jiff::SignedDuration;
    use netsim_model::k8s_openapi::api::core::v1::Service;
    use netsim_model::trace::NsId;
    const CONNECTIONS: u32 = 100_000;
    let text = std::fs::read_to_string(repo_root().join("scenarios/nodeport.yaml"))
        .expect("the lesson's scenario");
    let mut sim = Sim::new(ClusterConfig::default()).expect("the default cluster");
    let source = Source {
        name: "nodeport.yaml",
        text: &text,
    };
    for item in parse(&source, Validate::Strict).expect("the scenario parses") {
        if let Item::Object(doc) = item {
            sim.create(doc.object, WriteOptions::default())
                .expect("the scenario applies");
        }
    }
    sim.advance(SignedDuration::from_secs(30));
    let ip: std::net::Ipv4Addr = sim
        .store()
        .typed::<Service>("default", "nginx-nodeport")
        .and_then(|s| s.spec.as_ref()?.cluster_ip.as_deref()?.parse().ok())
        .expect("the Service has a ClusterIP");
    let req = HttpRequest {
        method: "GET".into(),
        path: "/".into(),
        host: ip.to_string(),
        user_agent: "curl/8.5.0".into(),
    };
    let from = NsId::Node("k8s-control".into());
    let mut dp = sim.dataplane();
    let start = Instant::now();
    let mut answered = 0u32;
    for _ in 0..CONNECTIONS {
        let r = dp.http(from.clone(), ip, 80, &req, None);
        if matches!(
            r.outcome,
            netsim_engine::dataplane::HttpOutcome::Response { .. }
        ) {
            answered += 1;
        }
    }
    let secs = start.elapsed().as_secs_f64().max(1e-9);
    format!(
        "Packet engine, in process: {answered} of {CONNECTIONS} connections node → ClusterIP answered in {:.0} ms: {:.0} connections/s, {:.0} packets/s (4 packets per connection).",
        secs * 1000.0,
        f64::from(CONNECTIONS) / secs,
        f64::from(CONNECTIONS) * 4.0 / secs
    )
}

/// The ClusterIP of Service `name` in the default namespace.
fn cluster_ip(state: &Path, name: &str) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_netsim"))
        .arg("--state")
        .arg(state)
        .args(["get", "svc", name, "-o", "jsonpath={.spec.clusterIP}"])
        .current_dir(repo_root())
        .output()
        .expect("run netsim");
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// Builds one node's kube-proxy ruleset for 10,000 Services with 10 endpoints each and prints
/// it as `iptables-save` does; reports the time of each step.
fn kube_proxy_rules_at_scale() -> String {
    use netsim_engine::kube_proxy::{ProxierConfig, sync_rules};
    use netsim_model::k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
    use netsim_model::k8s_openapi::api::discovery::v1::{Endpoint, EndpointPort, EndpointSlice};
    use netsim_model::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    use netsim_model::netfilter::Ruleset;
    const SERVICES: u32 = 10_000;
    const ENDPOINTS: u32 = 10;
    let mut services = Vec::new();
    let mut slices = Vec::new();
    for i in 0..SERVICES {
        let name = format!("svc-{i}");
        let meta = |n: &str| ObjectMeta {
            name: Some(n.to_string()),
            namespace: Some("bench".into()),
            labels: Some([("kubernetes.io/service-name".to_string(), name.clone())].into()),
            ..Default::default()
        };
        let ip = 0x0a60_0000u32 + 10 + i;
        services.push(Service {
            metadata: meta(&name),
            spec: Some(ServiceSpec {
                cluster_ip: Some(std::net::Ipv4Addr::from(ip).to_string()),
                type_: Some(if i % 10 == 0 { "NodePort" } else { "ClusterIP" }.into()),
                ports: Some(vec![ServicePort {
                    name: Some("http".into()),
                    port: 80,
                    protocol: Some("TCP".into()),
                    node_port: (i % 10 == 0).then_some(30000 + (i / 10) as i32 % 2768),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        });
        slices.push(EndpointSlice {
            metadata: meta(&format!("{name}-abcde")),
            address_type: "IPv4".into(),
            endpoints: (0..ENDPOINTS)
                .map(|e| Endpoint {
                    addresses: vec![
                        std::net::Ipv4Addr::from(0x0af4_0000u32 + i * ENDPOINTS + e).to_string(),
                    ],
                    node_name: Some(format!("node-{}", e % 50)),
                    ..Default::default()
                })
                .collect(),
            ports: Some(vec![EndpointPort {
                name: Some("http".into()),
                port: Some(8080),
                protocol: Some("TCP".into()),
                ..Default::default()
            }]),
        });
    }
    let cfg = ProxierConfig::new(
        "node-0",
        vec!["10.0.0.10".parse().expect("an address")],
        "10.244.0.0/16".parse().ok(),
    );
    let start = Instant::now();
    let mut rules = Ruleset::default();
    sync_rules(&cfg, services.iter(), slices.iter(), &mut rules);
    let built = start.elapsed();
    let text = netsim_print::iptables::iptables_save(&rules, None, "Tue Jan  2 00:00:00 2024");
    let printed = start.elapsed() - built;
    format!(
        "kube-proxy rules for one node, {SERVICES} Services × {ENDPOINTS} endpoints: built in {} ms, printed as iptables-save ({} lines, {:.1} MB) in {} ms.",
        built.as_millis(),
        text.lines().count(),
        text.len() as f64 / 1e6,
        printed.as_millis()
    )
}

/// DNS queries answered per second: by the CoreDNS model in process (the lesson's cluster, a mix
/// of names that exist and names that do not), and by `netsim dns serve` as Debian's `dnsperf`
/// measures it over UDP on loopback (skipped, and said so, when dnsperf is not installed).
fn dns_rates(bench: &Bench, state: &Path) -> Vec<String> {
    use netsim_engine::Sim;
    use netsim_model::ClusterConfig;
    use netsim_model::dns::{Message, QType};
    let names = [
        ("kubernetes.default.svc.cluster.local", QType::A),
        ("kube-dns.kube-system.svc.cluster.local", QType::Srv),
        ("nope.default.svc.cluster.local", QType::A),
        ("10-244-1-3.default.pod.cluster.local", QType::A),
        ("1.0.96.10.in-addr.arpa", QType::Ptr),
    ];
    let mut lines = Vec::new();
    let sim = Sim::new(ClusterConfig::default()).expect("the default cluster");
    let corefile = sim.corefile();
    let n = 200_000u32;
    let start = Instant::now();
    let mut answered = 0u32;
    for i in 0..n {
        let (name, qtype) = names[i as usize % names.len()];
        let q = Message::query(i as u16, name, qtype);
        if sim.coredns_answer(&corefile, &q).is_some() {
            answered += 1;
        }
    }
    let secs = start.elapsed().as_secs_f64().max(1e-9);
    lines.push(format!(
        "DNS, in process: the CoreDNS model answered {answered} queries in {:.0} ms: {:.0} queries/s.",
        secs * 1000.0,
        f64::from(answered) / secs
    ));
    if !Path::new("/usr/bin/dnsperf").exists() {
        lines.push("DNS, netsim dns serve: dnsperf is not installed (apt-get install dnsperf); not measured.".into());
        return lines;
    }
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .unwrap_or(55353);
    let queries = bench.work.join("dnsperf-queries.txt");
    let text: String = names
        .iter()
        .map(|(n, t)| format!("{n} {}\n", t.name()))
        .collect();
    std::fs::write(&queries, text).expect("write the query file");
    let mut server = Command::new(env!("CARGO_BIN_EXE_netsim"))
        .arg("--state")
        .arg(state)
        .args([
            "dns",
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--rate",
            "10000000",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start netsim dns serve");
    std::thread::sleep(Duration::from_millis(500));
    let output = Command::new("/usr/bin/dnsperf")
        .args(["-s", "127.0.0.1", "-p", &port.to_string(), "-l", "5", "-d"])
        .arg(&queries)
        .output();
    let _ = server.kill();
    let _ = server.wait();
    let rate = output.ok().and_then(|o| {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .find(|l| l.trim_start().starts_with("Queries per second:"))
            .map(|l| l.trim().to_string())
    });
    lines.push(match rate {
        Some(r) => format!("DNS, netsim dns serve under `dnsperf -l 5` over UDP on loopback: {r}."),
        None => "DNS, netsim dns serve: dnsperf gave no rate.".into(),
    });
    lines
}

/// How many generated pods (every namespace but the kube-* ones) `get pods -A` shows as Running.
fn count_running(state: &Path) -> usize {
    let output = Command::new(env!("CARGO_BIN_EXE_netsim"))
        .arg("--state")
        .arg(state)
        .args(["get", "pods", "-A", "--no-headers"])
        .current_dir(repo_root())
        .output()
        .expect("run netsim");
    let text = String::from_utf8_lossy(&output.stdout);
    // The generated pods live in the generated namespaces, not in kube-system or kube-flannel.
    text.lines()
        .filter(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            cols.first().is_some_and(|ns| !ns.starts_with("kube-"))
                && cols.get(3) == Some(&"Running")
        })
        .count()
}

/// The CPU's model name from `/proc/cpuinfo`, if there is one.
fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".to_string())
}
