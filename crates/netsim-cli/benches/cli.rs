//! `make bench`: wall time and peak memory of the release `netsim` binary on the lesson's
//! cluster and on generated larger ones, up to 100 nodes with 300 Deployments × 10 replicas
//! (3,000 pods) and 300 Services.
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
/// each with a Service). The last is the target size; the smaller ones show how cost grows.
const SIZES: &[(usize, usize)] = &[(10, 15), (20, 30), (100, 300)];

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
        let steps: [(String, Vec<&str>); 4] = [
            (
                format!("apply -f generated.yaml ({size}; fresh state)"),
                vec!["apply", "-f", &file_arg],
            ),
            (format!("wait 30s ({size})"), vec!["wait", "30s"]),
            (format!("get pods -A ({size})"), vec!["get", "pods", "-A"]),
            (format!("get svc -A ({size})"), vec!["get", "svc", "-A"]),
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
    print!("{report}");
    let path = target_dir().join("bench-report.md");
    std::fs::write(&path, &report).expect("write the bench report");
    println!("written to {}", path.display());
}

/// How many pods of the default namespace `get pods` shows as Running.
fn count_running(state: &Path) -> usize {
    let output = Command::new(env!("CARGO_BIN_EXE_netsim"))
        .arg("--state")
        .arg(state)
        .args(["get", "pods", "--no-headers"])
        .current_dir(repo_root())
        .output()
        .expect("run netsim");
    let text = String::from_utf8_lossy(&output.stdout);
    text.lines()
        .filter(|l| l.split_whitespace().nth(2) == Some("Running"))
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
