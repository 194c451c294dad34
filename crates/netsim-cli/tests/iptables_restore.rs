//! What netsim's `iptables-save` prints must load into a real iptables: every kube-proxy
//! situation of `tests/kube-proxy/` and whole nodes of the lesson's clusters (kubelet, flannel,
//! dockerd and kube-proxy rules together) go through `iptables-restore --test`, the parser and
//! extension loader of the real tool, in a private network namespace (`unshare -n`, or
//! `unshare -rn` when not root) so the machine's own rules are never touched.
//!
//! `make test` installs the `iptables` package when it is missing; without it this test fails
//! and says so.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the repository root exists")
}

/// One way of running `iptables-restore --test`: in a private network namespace as root, in
/// a user and network namespace, or (a CI container without namespaces, as root) directly —
/// `--test` commits nothing.
const RUNNERS: &[&[&str]] = &[
    &["unshare", "-n", "iptables-restore", "--test"],
    &["unshare", "-rn", "iptables-restore", "--test"],
    &["iptables-restore", "--test"],
];

/// Whether stderr says the process lacked the right to look at netfilter, rather than that
/// the rules were wrong.
fn denied(stderr: &str) -> bool {
    [
        "Operation not permitted",
        "Permission denied",
        "you must be root",
    ]
    .iter()
    .any(|m| stderr.contains(m))
}

/// `iptables-restore --test` of `dump`; panics with the tool's message if it rejects the
/// rules. If no runner is allowed to talk to netfilter at all, says so and passes over it
/// (the rules cannot be checked here, which is not their fault).
fn restore_test(label: &str, dump: &str) {
    let mut refusals = Vec::new();
    for runner in RUNNERS {
        if runner[0] == "unshare" && !is_root() && runner[1] == "-n" {
            continue;
        }
        let child = Command::new(runner[0])
            .args(&runner[1..])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        let Ok(mut child) = child else {
            refusals.push(format!("{runner:?}: cannot run"));
            continue;
        };
        if let Some(mut stdin) = child.stdin.take() {
            let _ = stdin.write_all(dump.as_bytes());
        }
        let output = child.wait_with_output().expect("iptables-restore runs");
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        if output.status.success() {
            return;
        }
        if denied(&stderr) {
            refusals.push(format!("{runner:?}: {}", stderr.trim()));
            continue;
        }
        panic!(
            "iptables-restore --test rejected {label} ({}):\n{stderr}\n--- dump ---\n{dump}",
            output.status
        );
    }
    eprintln!(
        "WARNING: {label}: no way to reach netfilter here, the dump was not checked:\n{}",
        refusals.join("\n")
    );
}

/// Whether this process runs as root (uid 0), read from /proc without libc.
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

fn iptables_restore_present() {
    let found = std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|p| p.join("iptables-restore").exists())
    }) || Path::new("/usr/sbin/iptables-restore").exists();
    assert!(
        found,
        "iptables-restore is not installed: run `make test` (it installs the iptables package) or `apt-get install iptables`"
    );
}

#[test]
fn kube_proxy_situations_load_into_iptables() {
    iptables_restore_present();
    use netsim_engine::kube_proxy::{ProxierConfig, sync_rules};
    use netsim_manifest::{Item, Source, Validate, parse};
    use netsim_model::Object;
    use netsim_model::netfilter::Ruleset;
    let dir = repo_root().join("tests/kube-proxy");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/kube-proxy exists")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "the kube-proxy fixtures are there");
    for path in files {
        let text = std::fs::read_to_string(&path).expect("read the fixture");
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let items = parse(&Source { name, text: &text }, Validate::Strict).expect("it parses");
        let mut cfg = ProxierConfig::new(
            "test-hostname",
            vec!["192.168.0.2".parse().expect("an address")],
            "10.0.0.0/8".parse().ok(),
        );
        let mut services = Vec::new();
        let mut slices = Vec::new();
        for item in items {
            match item {
                Item::Object(doc) => match doc.object {
                    Object::Service(s) => services.push(*s),
                    Object::EndpointSlice(s) => slices.push(*s),
                    _ => {}
                },
                Item::KubeProxy(kp) => cfg.configure(&kp.raw, None),
                Item::Cluster(_) | Item::OutsideHosts(_) => {}
            }
        }
        let mut rules = Ruleset::default();
        sync_rules(&cfg, services.iter(), slices.iter(), &mut rules);
        let dump = netsim_print::iptables::iptables_save(&rules, None, "Tue Jan  2 00:00:00 2024");
        restore_test(name, &dump);
    }
}

/// Whole nodes: the lesson's NodePort and LoadBalancer Services on the default (docker)
/// cluster and on a containerd cluster, each node's full `iptables-save`.
#[test]
fn lesson_nodes_load_into_iptables() {
    iptables_restore_present();
    let state = std::env::temp_dir().join(format!("netsim-iptables-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&state);
    let netsim = |args: &[&str]| -> String {
        let output = Command::new(env!("CARGO_BIN_EXE_netsim"))
            .arg("--state")
            .arg(&state)
            .arg("--no-hints")
            .args(args)
            .current_dir(repo_root())
            .output()
            .expect("run netsim");
        assert!(output.status.success(), "netsim {args:?} failed");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    for scenario in [
        "scenarios/nodeport.yaml",
        "scenarios/loadbalancer.yaml",
        "scenarios/traffic.yaml",
    ] {
        netsim(&["apply", "-f", scenario]);
    }
    netsim(&["wait", "60s"]);
    for node in ["k8s-control", "k8s-worker1", "k8s-worker2"] {
        let dump = netsim(&["ssh", node, "--", "iptables-save"]);
        assert!(dump.contains("KUBE-SVC-"), "{node} has Service rules");
        restore_test(node, &dump);
    }
    let _ = std::fs::remove_dir_all(&state);
}
