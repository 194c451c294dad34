//! The bad-input corpus: every case in `tests/bad-input/` at the repository root is something a
//! person (or a hostile file) may hand netsim, run with the built binary against a fresh state
//! directory holding the default cluster.
//!
//! A case is a file:
//!
//! * `NNN-name.yaml` is applied as it is: `netsim apply -f tests/bad-input/NNN-name.yaml`.
//! * `NNN-name.cmd` holds one command line (the words after `netsim`, split like a shell's
//!   simple words, `'…'` and `"…"` quoting) after its comment lines.
//! * `data/` holds files the commands name (binary junk, JSON, empty files); they are not cases.
//!
//! The comment lines at the top of a case say what it is and may carry directives:
//!
//! * `# expect: ok`: the command must succeed (and may change the cluster), e.g. a JSON
//!   manifest, which kubectl reads like YAML. `# expect: partial`: it must fail, but what it
//!   read before the problem applies, as with kubectl. Otherwise it must fail and change nothing.
//! * `# generate NAME: GENERATOR ARGS...`: the test writes a file at run time (huge inputs are
//!   not committed) in a directory the command line names `$GENERATED`; see [`generate`].
//! * `# stdin: PATH`: the file fed to standard input (`$GENERATED/NAME` or a repository path);
//!   otherwise standard input is empty.
//!
//! Each case runs twice, with `--no-hints` (kubectl's exact output) and without (netsim's
//! teaching hints), and one insta snapshot per case holds the command, the exit code, stdout and
//! stderr of the first run, and the `hint:` lines the second run adds (which must be its only
//! difference). Review changes with `cargo insta review`.
//!
//! Every case must hold, whatever its expectation: no panic (the exit code is not 101 and no
//! `panicked` is printed; a signal counts as a crash), an end within [`TIME_LIMIT`], and an
//! unchanged cluster unless the case expects otherwise. "Unchanged" means: the store's revision
//! and every object but Events (with their resource versions, so any write shows), the cluster's
//! shape, kube-proxy's configuration and the outside hosts table, read from the state directory
//! (`state.json`, and the per-kind segment files it names when it has them). Every netsim command also lets
//! virtual think time pass and saves, so the clock, the event queue and Events may legitimately
//! move; a refused command must write nothing else (a failing apply writes no object, so the
//! revision, which counts every write, stays put).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long one command may take (a debug build, on a shared machine): the 50 MiB inputs must
/// be refused well within it.
const TIME_LIMIT: Duration = Duration::from_secs(30);

/// The repository root: case paths are relative to it, and commands run from it.
fn repo_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().expect("the repository root exists")
}

/// A fresh, empty directory under cargo's per-target temporary directory; removed on drop.
struct TempDir {
    path: PathBuf,
}

impl TempDir {
    fn new(label: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let name = format!("netsim-bad-{label}-{}-{n}", std::process::id());
        let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create a temporary directory");
        TempDir { path }
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// What a case expects of its command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Fails and changes nothing.
    Error,
    /// Fails after applying what came before the problem.
    Partial,
    /// Succeeds.
    Ok,
}

/// One case, read from its file.
struct Case {
    /// The words after `netsim`.
    args: Vec<String>,
    expect: Expect,
    /// Files to write first: name, generator and its arguments.
    generate: Vec<(String, Vec<String>)>,
    /// What standard input holds.
    stdin: Option<String>,
}

/// Reads a case file's directives and command line.
fn read_case(path: &Path) -> Case {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let text = String::from_utf8_lossy(&bytes);
    let name = path
        .file_name()
        .expect("a case has a name")
        .to_string_lossy();
    let mut case = Case {
        args: Vec::new(),
        expect: Expect::Error,
        generate: Vec::new(),
        stdin: None,
    };
    for line in text.lines().take_while(|l| l.starts_with('#')) {
        if let Some(e) = line.strip_prefix("# expect: ") {
            case.expect = match e.trim() {
                "ok" => Expect::Ok,
                "partial" => Expect::Partial,
                "error" => Expect::Error,
                other => panic!("{name}: unknown expectation {other:?}"),
            };
        } else if let Some(g) = line.strip_prefix("# generate ") {
            let (file, spec) = g
                .split_once(": ")
                .unwrap_or_else(|| panic!("{name}: want `# generate NAME: GENERATOR ARGS`"));
            let words = spec.split_whitespace().map(str::to_string).collect();
            case.generate.push((file.to_string(), words));
        } else if let Some(s) = line.strip_prefix("# stdin: ") {
            case.stdin = Some(s.trim().to_string());
        }
    }
    if name.ends_with(".cmd") {
        let command = text
            .lines()
            .find(|l| !l.starts_with('#') && !l.trim().is_empty())
            .unwrap_or_else(|| panic!("{name}: no command line"));
        case.args = split_words(command).unwrap_or_else(|e| panic!("{name}: {e}"));
    } else {
        case.args = vec![
            "apply".into(),
            "-f".into(),
            format!("tests/bad-input/{name}"),
        ];
    }
    case
}

/// Splits a command line into words: blanks separate them, `'…'` is literal, `"…"` allows
/// `\"` and `\\`. No variables but `$GENERATED` (replaced later), no globs, no pipes.
fn split_words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err(format!("unterminated ' in: {line}")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c) => word.push(c),
                            None => return Err(format!("unterminated \" in: {line}")),
                        },
                        Some(c) => word.push(c),
                        None => return Err(format!("unterminated \" in: {line}")),
                    }
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// A deterministic byte stream (xorshift64), so that generated junk is the same every run.
fn junk(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Writes what a `# generate` directive asks for:
///
/// * `junk BYTES`: pseudo-random bytes;
/// * `letters BYTES`: one line of `a`s without a line break;
/// * `documents N`: N small ConfigMaps, one per `---` document;
/// * `list N`: one `List` document of N ConfigMaps;
/// * `flow-nesting N`: a ConfigMap value of N nested `[`…`]`;
/// * `json-nesting N`: the same in a JSON manifest;
/// * `block-nesting N`: a ConfigMap whose data nests N block mappings;
/// * `large-value BYTES`: a ConfigMap holding one value of BYTES characters;
/// * `alias-bomb N BYTES`: one anchored string of BYTES characters, then N aliases to it.
fn generate(spec: &[String]) -> Vec<u8> {
    let num = |i: usize| -> usize {
        spec.get(i)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("generator {spec:?}: argument {i} must be a number"))
    };
    let header =
        |name: &str| format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n");
    match spec.first().map(String::as_str) {
        Some("junk") => junk(num(1)),
        Some("letters") => vec![b'a'; num(1)],
        Some("documents") => {
            let mut text = String::new();
            for i in 0..num(1) {
                text.push_str(&header(&format!("cm-{i}")));
                text.push_str("---\n");
            }
            text.into_bytes()
        }
        Some("list") => {
            let mut text = String::from("apiVersion: v1\nkind: List\nitems:\n");
            for i in 0..num(1) {
                text.push_str(&format!(
                    "- {{apiVersion: v1, kind: ConfigMap, metadata: {{name: cm-{i}}}}}\n"
                ));
            }
            text.into_bytes()
        }
        Some("flow-nesting") => {
            let n = num(1);
            format!(
                "{}data:\n  deep: {}{}\n",
                header("deep"),
                "[".repeat(n),
                "]".repeat(n)
            )
            .into_bytes()
        }
        Some("json-nesting") => {
            let n = num(1);
            format!(
                "{{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {{\"name\": \"deep\"}},\n \"data\": {{\"deep\": {}{}}}}}\n",
                "[".repeat(n),
                "]".repeat(n)
            )
            .into_bytes()
        }
        Some("block-nesting") => {
            let mut text = format!("{}data:\n", header("deep"));
            for i in 0..num(1) {
                text.push_str(&format!("{}k{i}:\n", "  ".repeat(i + 1)));
            }
            text.push_str(&format!("{}v: x\n", "  ".repeat(num(1) + 1)));
            text.into_bytes()
        }
        Some("large-value") => {
            format!("{}data:\n  big: {}\n", header("big"), "x".repeat(num(1))).into_bytes()
        }
        Some("alias-bomb") => {
            let mut text = format!(
                "{}  annotations:\n    big: &big \"{}\"\ndata:\n",
                header("bomb"),
                "x".repeat(num(2))
            );
            for i in 0..num(1) {
                text.push_str(&format!("  k{i}: *big\n"));
            }
            text.into_bytes()
        }
        _ => panic!("unknown generator {spec:?}"),
    }
}

/// What one command printed, how it ended, and how long it took.
struct Run {
    stdout: String,
    stderr: String,
    /// The exit code; a signal shows as -1.
    code: i32,
    elapsed: Duration,
}

/// Runs the binary from the repository root in a cleared environment, with `stdin` on standard
/// input, and gives up after [`TIME_LIMIT`].
fn run_netsim(args: &[String], stdin: Option<&Path>) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_netsim"));
    command
        .args(args)
        .current_dir(repo_root())
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(path) = std::env::var_os("PATH") {
        command.env("PATH", path);
    }
    let started = Instant::now();
    let mut child = command.spawn().expect("spawn the netsim binary");
    let mut input = child.stdin.take().expect("stdin is piped");
    let feed = stdin.map(|p| std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())));
    // netsim may stop reading (a limit); a broken pipe then is expected.
    let writer = std::thread::spawn(move || {
        if let Some(bytes) = feed {
            let _ = input.write_all(&bytes);
        }
    });
    let mut out_pipe = child.stdout.take().expect("stdout is piped");
    let mut err_pipe = child.stderr.take().expect("stderr is piped");
    let out_reader = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = out_pipe.read_to_end(&mut b);
        b
    });
    let err_reader = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = err_pipe.read_to_end(&mut b);
        b
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for netsim") {
            break status;
        }
        if started.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`netsim {}` ran longer than {TIME_LIMIT:?}", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let elapsed = started.elapsed();
    let _ = writer.join();
    let stdout = out_reader.join().expect("read stdout");
    let stderr = err_reader.join().expect("read stderr");
    Run {
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        code: status.code().unwrap_or(-1),
        elapsed,
    }
}

/// The part of a state directory a refused command must not change (see the module docs).
/// Reads both state formats: objects inline in `state.json` (format 1), or in the segment files
/// its header names, one per kind (formats 2 and 3).
fn cluster_state(dir: &Path) -> serde_json::Value {
    let read = |name: &str| -> serde_json::Value {
        let path = dir.join(name);
        let text = std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        serde_json::from_slice(&text)
            .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
    };
    let header = read("state.json");
    let sim = &header["sim"];
    let mut objects: Vec<serde_json::Value> = Vec::new();
    match header["segments"].as_object() {
        Some(segments) => {
            for file in segments.values() {
                let file = file.as_str().expect("a segment is a file name");
                if let serde_json::Value::Array(items) = read(file) {
                    objects.extend(items);
                }
            }
        }
        None => objects.extend(
            sim["store"]["objects"]
                .as_array()
                .cloned()
                .unwrap_or_default(),
        ),
    }
    objects.retain(|o| o["kind"] != "Event");
    serde_json::json!({
        "revision": sim["store"]["revision"],
        "objects": objects,
        "config": sim["config"],
        "kube_proxy_config": sim["kube_proxy_config"],
        "outside_hosts": sim["outside_hosts"],
    })
}

/// Copies a state directory's files (not its lock).
fn copy_state(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from)
        .expect("read the template")
        .flatten()
    {
        if entry.file_name() != "lock" {
            std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy the template");
        }
    }
}

/// The first difference between two states, for a failure message.
fn first_difference(before: &serde_json::Value, after: &serde_json::Value) -> String {
    let (b, a) = (
        serde_json::to_string_pretty(before).unwrap_or_default(),
        serde_json::to_string_pretty(after).unwrap_or_default(),
    );
    for (i, (lb, la)) in b.lines().zip(a.lines()).enumerate() {
        if lb != la {
            return format!("line {i}: before {lb:?}, after {la:?}");
        }
    }
    format!(
        "{} lines before, {} after",
        b.lines().count(),
        a.lines().count()
    )
}

/// A directory holding the default cluster, made once (`netsim get nodes` on an empty state);
/// every case starts from a copy.
fn template() -> &'static Path {
    static TEMPLATE: std::sync::OnceLock<TempDir> = std::sync::OnceLock::new();
    &TEMPLATE
        .get_or_init(|| {
            let dir = TempDir::new("template");
            let args = [
                "--state".to_string(),
                dir.path.display().to_string(),
                "get".to_string(),
                "nodes".to_string(),
            ];
            let run = run_netsim(&args, None);
            assert_eq!(run.code, 0, "the default cluster: {}", run.stderr);
            dir
        })
        .path
}

/// Prints text for the snapshot, saying so when it does not end its last line.
fn section(out: &mut String, title: &str, text: &str) {
    out.push_str(&format!("--- {title}\n"));
    out.push_str(text);
    if !text.is_empty() && !text.ends_with('\n') {
        out.push_str("\n[no newline at end]\n");
    }
}

/// Runs one case and returns its snapshot text; panics on a broken rule.
fn run_case(path: &Path) -> String {
    let name = path
        .file_name()
        .expect("a case has a name")
        .to_string_lossy()
        .into_owned();
    let case = read_case(path);
    let generated = TempDir::new("generated");
    for (file, spec) in &case.generate {
        std::fs::write(generated.path.join(file), generate(spec)).expect("write a generated file");
    }
    let gen_dir = generated.path.display().to_string();
    let expand = |s: &str| s.replace("$GENERATED", &gen_dir);
    let args: Vec<String> = case.args.iter().map(|a| expand(a)).collect();
    let stdin = case.stdin.as_deref().map(|s| {
        let p = PathBuf::from(expand(s));
        if p.is_absolute() {
            p
        } else {
            repo_root().join(p)
        }
    });

    let mut runs = Vec::new();
    for hints in [false, true] {
        let state = TempDir::new("state");
        copy_state(template(), &state.path);
        let before = cluster_state(&state.path);
        let mut full = vec!["--state".to_string(), state.path.display().to_string()];
        if !hints {
            full.push("--no-hints".to_string());
        }
        full.extend(args.iter().cloned());
        let run = run_netsim(&full, stdin.as_deref());
        assert!(
            run.code != 101 && !run.stderr.contains("panicked"),
            "{name}: netsim panicked:\n{}",
            run.stderr
        );
        assert!(
            run.code >= 0,
            "{name}: netsim was killed by a signal:\n{}",
            run.stderr
        );
        let after = cluster_state(&state.path);
        match case.expect {
            Expect::Ok => assert_eq!(run.code, 0, "{name}: expected success:\n{}", run.stderr),
            Expect::Partial | Expect::Error => {
                assert_ne!(run.code, 0, "{name}: expected a failure:\n{}", run.stdout)
            }
        }
        if case.expect == Expect::Error {
            assert!(
                before == after,
                "{name}: the cluster changed: {}",
                first_difference(&before, &after)
            );
        }
        let state_dir = state.path.display().to_string();
        let clean = |s: &str| {
            s.replace(&state_dir, "$STATE")
                .replace(&gen_dir, "$GENERATED")
        };
        runs.push((
            Run {
                stdout: clean(&run.stdout),
                stderr: clean(&run.stderr),
                ..run
            },
            before == after,
        ));
    }
    let [(plain, unchanged), (hinted, _)] = <[_; 2]>::try_from(runs).ok().expect("two runs");

    // Hints are whole `hint: ` lines on stderr, and the only difference they make.
    let hint_lines: Vec<&str> = hinted
        .stderr
        .lines()
        .filter(|l| l.starts_with("hint: "))
        .collect();
    let without: Vec<&str> = hinted
        .stderr
        .lines()
        .filter(|l| !l.starts_with("hint: "))
        .collect();
    assert_eq!(
        without,
        plain.stderr.lines().collect::<Vec<_>>(),
        "{name}: --no-hints changed more than the hint lines"
    );
    assert_eq!(hinted.stdout, plain.stdout, "{name}: hints changed stdout");
    assert_eq!(
        hinted.code, plain.code,
        "{name}: hints changed the exit code"
    );

    let mut snap = format!(
        "$ netsim {}\n",
        args.join(" ").replace(&gen_dir, "$GENERATED")
    );
    snap.push_str(&format!(
        "exit {}, cluster {}\n",
        plain.code,
        if unchanged { "unchanged" } else { "changed" }
    ));
    section(&mut snap, "stdout", &plain.stdout);
    section(&mut snap, "stderr", &plain.stderr);
    let mut hints = hint_lines.join("\n");
    if !hints.is_empty() {
        hints.push('\n');
    }
    section(&mut snap, "hints", &hints);
    eprintln!("{name}: {:?}", plain.elapsed.max(hinted.elapsed));
    snap
}

#[test]
fn bad_input() {
    // The cases run one after the other (insta's glob), each from a copy of one default cluster.
    let mut cases = BTreeMap::new();
    insta::glob!("../../../tests/bad-input", "*.{yaml,cmd}", |path| {
        cases.insert(path.to_path_buf(), ());
        insta::assert_snapshot!(run_case(path));
    });
    assert!(cases.len() >= 60, "the corpus has {} cases", cases.len());
}

#[test]
fn words_split_like_a_shell() {
    assert_eq!(
        split_words(r#"get pods -o 'jsonpath={.a b}' "x\"y""#).unwrap(),
        vec!["get", "pods", "-o", "jsonpath={.a b}", "x\"y"]
    );
    assert!(split_words("get 'x").is_err());
}
