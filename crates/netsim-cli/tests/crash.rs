//! The state directory survives what happens to real programs: a `netsim apply` killed with
//! SIGKILL at any point leaves exactly the old state or the complete new one; invocations run at
//! once all land (the lock serialises them, none is lost); a state written by a newer netsim is
//! refused with a clear message and left as it is.
//!
//! "Exactly": the old and the new state are each read back with `netsim get ... -o json` over
//! every kind the manifest touches, and after every kill the state must read back as one of
//! the two, byte for byte. Reading runs a command, which lets think time pass and saves, so each
//! reading is done on a copy.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Instant;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the repository root exists")
}

/// A scratch directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(label: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("netsim-crash-{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create a scratch directory");
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The command `netsim --state STATE --no-hints ARGS`, from the repository root.
fn netsim_command(state: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_netsim"));
    c.arg("--state")
        .arg(state)
        .arg("--no-hints")
        .args(args)
        .current_dir(repo_root())
        .stdin(Stdio::null());
    c
}

/// Runs netsim to completion.
fn netsim(state: &Path, args: &[&str]) -> Output {
    netsim_command(state, args)
        .output()
        .expect("run the netsim binary")
}

/// Runs netsim and insists it succeeds; its stdout.
fn netsim_ok(state: &Path, args: &[&str]) -> String {
    let out = netsim(state, args);
    assert!(
        out.status.success(),
        "`netsim {}` failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Copies the files of state directory `from` into a new directory `to` (no subdirectories:
/// the state has none).
fn copy_state(from: &Path, to: &Path) {
    let _ = std::fs::remove_dir_all(to);
    std::fs::create_dir_all(to).expect("create the copy");
    for entry in std::fs::read_dir(from).expect("read the state directory") {
        let entry = entry.expect("a directory entry");
        std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy a state file");
    }
}

/// Every kind the generated manifest creates (and what the cluster makes from it), as JSON.
const KINDS: &str =
    "nodes,namespaces,configmaps,services,endpoints,deployments,replicasets,pods,ingresses";

/// What the state in `dir` reads back as (read from a copy, since reading saves).
fn read_back(dir: &Path, scratch: &Path) -> String {
    let copy = scratch.join("read-back");
    copy_state(dir, &copy);
    let text = netsim_ok(&copy, &["get", KINDS, "-A", "-o", "json"]);
    let _ = std::fs::remove_dir_all(&copy);
    text
}

/// A small deterministic generator (xorshift64*) for the kill delays: the same delays on every
/// run, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[test]
fn a_killed_apply_leaves_the_old_state_or_the_new_one() {
    let scratch = Scratch::new("kill");
    let big = scratch.0.join("big.yaml");
    let generated = netsim_ok(
        &scratch.0.join("unused"),
        &[
            "generate",
            "--nodes",
            "10",
            "--pods",
            "300",
            "--services",
            "30",
            "--endpoints-per-service",
            "3",
            "--seed",
            "1",
        ],
    );
    std::fs::write(&big, &generated).expect("write the manifest");
    let big = big.to_str().expect("a UTF-8 temporary path");

    // The old state: the generated Cluster document alone (the manifest's first document, so
    // the apply finds a cluster of its shape), and one object of the user's.
    let cluster_doc = generated
        .split("\n---")
        .next()
        .expect("the manifest has documents");
    assert!(cluster_doc.contains("kind: Cluster"), "{cluster_doc}");
    let cluster_file = scratch.0.join("cluster.yaml");
    std::fs::write(&cluster_file, cluster_doc).expect("write the cluster document");
    let old = scratch.0.join("old");
    netsim_ok(
        &old,
        &["apply", "-f", cluster_file.to_str().expect("UTF-8 path")],
    );
    netsim_ok(
        &old,
        &["create", "configmap", "before", "--from-literal=k=v"],
    );
    let old_text = read_back(&old, &scratch.0);

    // The new state: the apply run to the end, timed.
    let new = scratch.0.join("new");
    copy_state(&old, &new);
    let started = Instant::now();
    netsim_ok(&new, &["apply", "-f", big]);
    let full = started.elapsed();
    let new_text = read_back(&new, &scratch.0);
    assert_ne!(old_text, new_text, "the apply changes the state");
    assert!(
        new_text.matches("\"kind\": \"Pod\"").count() >= 300,
        "the new state has the generated pods"
    );

    // Twenty kills spread over the whole apply, and a little past it (a kill after the exit is
    // the new state too); then ten aimed at the save, the only time files change: each waits
    // for the first new file in the directory and kills at some point in the (fsync-bound) save.
    let mut rng = Rng(0x6e65_7473_696d_2121);
    let (mut olds, mut news) = (0, 0);
    let trial = scratch.0.join("trial");
    let old_files: Vec<std::ffi::OsString> = std::fs::read_dir(&old)
        .expect("read the old state")
        .map(|e| e.expect("an entry").file_name())
        .collect();
    for round in 0..30 {
        copy_state(&old, &trial);
        let mut child = netsim_command(&trial, &["apply", "-f", big])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start netsim apply");
        let started = Instant::now();
        if round < 20 {
            std::thread::sleep(full.mul_f64(rng.unit() * 1.2));
        } else {
            // Polls until a file appears (or the apply is over: a generous bound, no assertion).
            let bound = full * 3 + std::time::Duration::from_secs(5);
            while started.elapsed() < bound
                && matches!(child.try_wait(), Ok(None))
                && std::fs::read_dir(&trial).is_ok_and(|entries| {
                    entries
                        .flatten()
                        .all(|e| old_files.contains(&e.file_name()))
                })
            {
                std::thread::sleep(std::time::Duration::from_micros(200));
            }
            std::thread::sleep(full.mul_f64(rng.unit() * 0.5));
        }
        let delay = started.elapsed();
        // SIGKILL: no destructor, no flush, no chance to tidy up.
        let _ = child.kill();
        let _ = child.wait();

        let header = std::fs::read(trial.join("state.json"))
            .unwrap_or_else(|e| panic!("round {round} ({delay:?}): no state.json: {e}"));
        let parsed: serde_json::Value = serde_json::from_slice(&header).unwrap_or_else(|e| {
            panic!("round {round} ({delay:?}): state.json does not parse: {e}")
        });
        assert!(
            parsed.get("format").is_some_and(serde_json::Value::is_u64),
            "round {round}: state.json has its format"
        );
        let text = read_back(&trial, &scratch.0);
        eprintln!(
            "round {round}: killed after {delay:?}: {}",
            if text == old_text {
                "old"
            } else if text == new_text {
                "new"
            } else {
                "neither"
            }
        );
        if text == old_text {
            olds += 1;
        } else if text == new_text {
            news += 1;
        } else {
            let keep = scratch.0.with_extension(format!("round{round}"));
            copy_state(&trial, &keep);
            panic!(
                "round {round}: killed after {delay:?} (a full apply takes {full:?}), the state is neither the old one nor the new one; kept in {}",
                keep.display()
            );
        }
    }
    eprintln!("30 kills: {olds} left the old state, {news} the new one (a full apply: {full:?})");

    // What a kill leaves behind does not get in the way of the next apply.
    netsim_ok(&trial, &["apply", "-f", big]);
    let names = netsim_ok(&trial, &["get", "pods", "-A", "-o", "name"]);
    assert!(names.lines().count() >= 300, "{names}");
}

#[test]
fn invocations_at_once_all_land() {
    let scratch = Scratch::new("parallel");
    let state = scratch.0.join("state");
    // No state yet: the eight also race to create the default cluster, and one must win.
    let barrier = std::sync::Barrier::new(8);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|n| {
                let (state, barrier) = (&state, &barrier);
                s.spawn(move || {
                    let name = format!("cm-{n}");
                    let literal = format!("--from-literal=n={n}");
                    barrier.wait();
                    let out = netsim(state, &["kubectl", "create", "configmap", &name, &literal]);
                    (n, out)
                })
            })
            .collect();
        for h in handles {
            let (n, out) = h.join().expect("the thread finishes");
            assert!(
                out.status.success(),
                "cm-{n}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(
                String::from_utf8_lossy(&out.stdout),
                format!("configmap/cm-{n} created\n")
            );
        }
    });
    let names = netsim_ok(&state, &["get", "configmaps", "-o", "name"]);
    for n in 0..8 {
        assert!(
            names.lines().any(|l| l == format!("configmap/cm-{n}")),
            "cm-{n} was lost:\n{names}"
        );
    }
    // And each holds its own data: no write was interleaved with another.
    for n in 0..8 {
        let value = netsim_ok(
            &state,
            &[
                "get",
                "configmap",
                &format!("cm-{n}"),
                "-o",
                "jsonpath={.data.n}",
            ],
        );
        assert_eq!(value, n.to_string());
    }
}

/// Every file in `dir` but the lock, with its bytes.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .expect("read the state directory")
        .map(|e| e.expect("an entry"))
        .filter(|e| e.file_name() != "lock")
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).expect("read a state file"),
            )
        })
        .collect();
    out.sort();
    out
}

/// A state from a future netsim, shaped as today's header (a format number, then what that
/// format holds), is refused by every kind of command with the message that says what to do,
/// and nothing on disk changes.
#[test]
fn a_newer_format_is_refused_and_left_alone() {
    let scratch = Scratch::new("future");
    let state = scratch.0.join("state");
    std::fs::create_dir_all(&state).expect("create the state directory");
    let future = br#"{"format":999,"generation":7,"segments":{"Pod":"state.Pod.7.json"},"sim":{"from":"the future"}}"#;
    std::fs::write(state.join("state.json"), future).expect("write a future state");
    std::fs::write(state.join("state.Pod.7.json"), b"[]").expect("write a future segment");
    let before = files(&state);
    let manifest = repo_root().join("scenarios/nodeport.yaml");
    let manifest = manifest.to_str().expect("UTF-8 path");
    let commands: &[&[&str]] = &[
        &["get", "pods"],
        &["create", "configmap", "x"],
        &["apply", "-f", manifest],
        &["wait", "30s"],
        &["ssh", "k8s-control", "--", "ip", "addr"],
    ];
    for args in commands {
        let out = netsim(&state, args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?} printed {:?}", out.stdout);
        let path = state.join("state.json");
        assert_eq!(
            stderr,
            format!(
                "error: {} was written by a newer netsim (state format 999; this netsim reads format {}); upgrade netsim or run 'netsim reset' to start over\n",
                path.display(),
                current_format()
            ),
            "{args:?}"
        );
        assert_eq!(
            files(&state),
            before,
            "{args:?} changed the state directory"
        );
    }
}

/// A future format need not keep today's fields: a header with a newer format number and
/// nothing else netsim knows is still "newer", not "not a netsim state file" (whose advice,
/// `netsim reset`, would throw the state away).
#[test]
fn a_newer_format_of_another_shape_is_refused_too() {
    let scratch = Scratch::new("future-shape");
    let state = scratch.0.join("state");
    std::fs::create_dir_all(&state).expect("create the state directory");
    std::fs::write(state.join("state.json"), br#"{"format":999,"objects":[]}"#)
        .expect("write a future state");
    let before = files(&state);
    let out = netsim(&state, &["get", "pods"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("was written by a newer netsim (state format 999;"),
        "{stderr}"
    );
    assert_eq!(files(&state), before);
}

/// The format this netsim writes, read from a state it wrote.
fn current_format() -> u64 {
    let scratch = Scratch::new("format");
    netsim_ok(&scratch.0, &["get", "nodes"]);
    let header = std::fs::read(scratch.0.join("state.json")).expect("a state was written");
    let parsed: serde_json::Value = serde_json::from_slice(&header).expect("it parses");
    parsed["format"].as_u64().expect("it has a format")
}
