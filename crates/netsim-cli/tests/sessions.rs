//! Transcript tests: every `tests/sessions/*.session` file at the repository root is a list of
//! `netsim` command lines, run in order with the built binary against a fresh state directory.
//!
//! Each session's transcript (the command, its stdout, its stderr lines prefixed `! `, and
//! `[exit N]` when the exit code is not 0) is an insta snapshot, `snapshots/sessions__<name>.snap`;
//! review changes with `cargo insta review`. The same sessions also run twice to prove that a
//! run is byte-for-byte repeatable, and the README's main job is checked field by field.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The variable that names the session's state directory, in session lines and transcripts.
const STATE_VAR: &str = "NETSIM_STATE";

/// Variables a session may set with `# env NAME=VALUE` and that reach the binary.
const PASSED_VARS: &[&str] = &["EDITOR"];

/// How long one command may run before the test gives up on it.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// The repository root: scenario and fixture paths in sessions are relative to it.
fn repo_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().expect("the repository root exists")
}

/// Every session file, in name order.
fn session_files() -> Vec<PathBuf> {
    let dir = repo_root().join("tests/sessions");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "session"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no sessions in {}", dir.display());
    files
}

/// A session's name: its file name without `.session`.
fn session_name(path: &Path) -> String {
    let stem = path.file_stem().expect("a session file has a name");
    stem.to_string_lossy().into_owned()
}

/// A fresh, empty directory under cargo's per-target temporary directory; removed on drop.
struct TempDir {
    path: PathBuf,
}

impl TempDir {
    fn new(label: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let name = format!("netsim-{label}-{}-{n}", std::process::id());
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

/// Splits a command line into words the way a POSIX shell would for the simple cases sessions
/// use: whitespace separates words, `'...'` is literal, `"..."` allows `\"`, `\\` and `\$`
/// escapes, a `\` outside quotes escapes the next character, and `$NAME` (outside single
/// quotes) expands from `vars`. Globs, pipes and redirections are not supported.
fn split_words(line: &str, vars: &BTreeMap<String, String>) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars().peekable();
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
                            Some(c @ ('"' | '\\' | '$')) => word.push(c),
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err(format!("unterminated \" in: {line}")),
                        },
                        Some('$') => expand_var(&mut chars, vars, &mut word)?,
                        Some(c) => word.push(c),
                        None => return Err(format!("unterminated \" in: {line}")),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(c) => word.push(c),
                    None => return Err(format!("trailing \\ in: {line}")),
                }
            }
            '$' => {
                in_word = true;
                expand_var(&mut chars, vars, &mut word)?;
            }
            '|' | '<' | '>' | ';' | '&' | '`' | '*' | '?' => {
                return Err(format!("{c:?} needs a shell; sessions have none: {line}"));
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

/// Expands `$NAME` (the `$` already read) into `word`; an unknown name is an error.
fn expand_var(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    vars: &BTreeMap<String, String>,
    word: &mut String,
) -> Result<(), String> {
    let mut name = String::new();
    while let Some(&c) = chars.peek() {
        if c.is_ascii_alphanumeric() || c == '_' {
            name.push(c);
            chars.next();
        } else {
            break;
        }
    }
    match vars.get(&name) {
        Some(value) => {
            word.push_str(value);
            Ok(())
        }
        None => Err(format!("unknown variable ${name}")),
    }
}

/// What one command printed, and how it ended.
struct CommandOutput {
    stdout: String,
    stderr: String,
    code: i32,
}

/// Runs the binary with `args` in a cleared environment (only `PATH`, `NETSIM_STATE` and the
/// session's passed variables), from the repository root, with stdin closed.
fn run_netsim(args: &[String], state: &Path, vars: &BTreeMap<String, String>) -> CommandOutput {
    let mut command = Command::new(env!("CARGO_BIN_EXE_netsim"));
    command
        .args(args)
        .current_dir(repo_root())
        .env_clear()
        .env(STATE_VAR, state)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(path) = std::env::var_os("PATH") {
        command.env("PATH", path);
    }
    for name in PASSED_VARS {
        if let Some(value) = vars.get(*name) {
            command.env(name, value);
        }
    }
    let mut child = command.spawn().expect("spawn the netsim binary");
    let mut stdout_pipe = child.stdout.take().expect("stdout is piped");
    let mut stderr_pipe = child.stderr.take().expect("stderr is piped");
    let stdout_reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stdout_pipe.read_to_end(&mut bytes);
        bytes
    });
    let stderr_reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stderr_pipe.read_to_end(&mut bytes);
        bytes
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for netsim") {
            break status;
        }
        if started.elapsed() > COMMAND_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "`netsim {}` ran longer than {COMMAND_TIMEOUT:?}",
                args.join(" ")
            );
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let stdout = stdout_reader.join().expect("read stdout");
    let stderr = stderr_reader.join().expect("read stderr");
    CommandOutput {
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        // A signal (no code) shows as -1 so that it is never mistaken for success.
        code: status.code().unwrap_or(-1),
    }
}

/// Runs one session file against the empty state directory `state` and returns its transcript.
fn run_session(path: &Path, state: &Path) -> String {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let state_text = state.display().to_string();
    let mut vars = BTreeMap::new();
    vars.insert(STATE_VAR.to_string(), state_text.clone());
    let mut transcript = String::new();
    for (index, line) in text.lines().enumerate() {
        let where_ = format!("{}:{}", path.display(), index + 1);
        let line = line.trim_end();
        if line.is_empty() {
            continue;
        }
        if let Some(capture) = line.strip_prefix("# capture ") {
            // `# capture NAME: netsim ARGS` stores the command's trimmed stdout in `$NAME`.
            let (name, command) = capture
                .split_once(": ")
                .unwrap_or_else(|| panic!("{where_}: want `# capture NAME: netsim ARGS`"));
            let words = split_words(command, &vars).unwrap_or_else(|e| panic!("{where_}: {e}"));
            let Some(("netsim", args)) = words.split_first().map(|(f, rest)| (f.as_str(), rest))
            else {
                panic!("{where_}: a captured command must start with `netsim `: {command}");
            };
            let output = run_netsim(args, state, &vars);
            assert_eq!(output.code, 0, "{where_}: {}", output.stderr);
            let value = output.stdout.trim().to_string();
            transcript.push_str(&format!("{line}\n# {name}={value}\n"));
            vars.insert(name.to_string(), value);
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            if let Some((name, value)) = comment
                .trim()
                .strip_prefix("env ")
                .and_then(|assignment| assignment.trim().split_once('='))
            {
                vars.insert(name.to_string(), value.to_string());
            }
            transcript.push_str(line);
            transcript.push('\n');
            continue;
        }
        let words = split_words(line, &vars).unwrap_or_else(|e| panic!("{where_}: {e}"));
        let Some(("netsim", args)) = words
            .split_first()
            .map(|(first, rest)| (first.as_str(), rest))
        else {
            panic!("{where_}: a session line must start with `netsim `: {line}");
        };
        let output = run_netsim(args, state, &vars);
        transcript.push_str(&format!("$ {line}\n"));
        let stdout = output.stdout.replace(&state_text, &format!("${STATE_VAR}"));
        let stderr = output.stderr.replace(&state_text, &format!("${STATE_VAR}"));
        transcript.push_str(&stdout);
        if !stdout.is_empty() && !stdout.ends_with('\n') {
            transcript.push_str("\n[no newline at end of stdout]\n");
        }
        for err_line in stderr.lines() {
            if err_line.is_empty() {
                transcript.push_str("!\n");
            } else {
                transcript.push_str(&format!("! {err_line}\n"));
            }
        }
        if !stderr.is_empty() && !stderr.ends_with('\n') {
            transcript.push_str("! [no newline at end of stderr]\n");
        }
        if output.code != 0 {
            transcript.push_str(&format!("[exit {}]\n", output.code));
        }
        transcript.push('\n');
    }
    transcript
}

/// Runs `path` in a fresh state directory.
fn run_session_fresh(path: &Path) -> String {
    let state = TempDir::new(&session_name(path));
    run_session(path, &state.path)
}

#[test]
fn sessions_match_snapshots() {
    let mut failed = Vec::new();
    for path in session_files() {
        let name = session_name(&path);
        let transcript = run_session_fresh(&path);
        let description = format!("tests/sessions/{name}.session");
        // Every session is checked (and every changed one written as `.snap.new`) before failing.
        let result = std::panic::catch_unwind(|| {
            insta::with_settings!({ description => description, omit_expression => true }, {
                insta::assert_snapshot!(name.as_str(), transcript);
            });
        });
        if result.is_err() {
            failed.push(name);
        }
    }
    assert!(
        failed.is_empty(),
        "transcripts differ from their snapshots: {failed:?}"
    );
}

#[test]
fn sessions_are_deterministic() {
    for path in session_files() {
        let first = run_session_fresh(&path);
        let second = run_session_fresh(&path);
        assert!(
            first == second,
            "{} printed something different on a second run in a fresh state directory:\n\
             --- first run\n{first}\n--- second run\n{second}",
            path.display()
        );
    }
}

#[test]
fn every_session_has_a_snapshot_and_every_snapshot_a_session() {
    let sessions: Vec<String> = session_files().iter().map(|p| session_name(p)).collect();
    let snapshot_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let mut orphans = Vec::new();
    if let Ok(entries) = std::fs::read_dir(&snapshot_dir) {
        for entry in entries {
            let file = entry.expect("a directory entry").file_name();
            let file = file.to_string_lossy();
            let name = file
                .strip_prefix("sessions__")
                .and_then(|f| f.strip_suffix(".snap"));
            if name.is_some_and(|name| !sessions.iter().any(|s| s == name)) {
                orphans.push(file.into_owned());
            }
        }
    }
    assert!(
        orphans.is_empty(),
        "snapshots without a session file: {orphans:?}"
    );
}

#[test]
fn every_scenario_applies_cleanly() {
    let dir = repo_root().join("scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("read scenarios/")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    let vars = BTreeMap::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read a scenario");
        assert!(
            text.starts_with("# "),
            "{} must open with a `#` comment",
            file.display()
        );
        let state = TempDir::new("scenario");
        let relative = file.strip_prefix(repo_root()).expect("under the root");
        let args = vec![
            "apply".to_string(),
            "-f".to_string(),
            relative.display().to_string(),
        ];
        let output = run_netsim(&args, &state.path, &vars);
        assert_eq!(
            output.code,
            0,
            "netsim apply -f {} failed:\n{}{}",
            relative.display(),
            output.stdout,
            output.stderr
        );
        let complaints: Vec<&str> = output
            .stderr
            .lines()
            .filter(|l| !l.starts_with("hint: "))
            .collect();
        assert!(
            complaints.is_empty(),
            "netsim apply -f {} printed on stderr: {complaints:?}",
            relative.display()
        );
    }
}

/// The rows of one `kubectl get` table, cut at the header's column starts.
fn parse_table(block: &str) -> Vec<BTreeMap<String, String>> {
    let mut lines = block.lines();
    let Some(header) = lines.next() else {
        return Vec::new();
    };
    // Columns are at least 3 spaces apart; a header may contain one space (`NOMINATED NODE`).
    let mut starts: Vec<(usize, String)> = Vec::new();
    let mut offset = 0;
    for name in header.split("  ").filter(|part| !part.trim().is_empty()) {
        let at = header[offset..]
            .find(name.trim())
            .expect("the header part is in the header")
            + offset;
        starts.push((at, name.trim().to_string()));
        offset = at + name.trim().len();
    }
    lines
        .map(|line| {
            let mut row = BTreeMap::new();
            for (i, (start, name)) in starts.iter().enumerate() {
                let end = starts
                    .get(i + 1)
                    .map_or(line.len(), |(next, _)| *next)
                    .min(line.len());
                let cell = line.get(*start..end).unwrap_or("").trim();
                row.insert(name.clone(), cell.to_string());
            }
            row
        })
        .collect()
}

/// Whether `ip` is inside `cidr` (`10.244.1.0/24`).
fn ipv4_in(ip: &str, cidr: &str) -> bool {
    let parse = |text: &str| text.parse::<std::net::Ipv4Addr>().ok().map(u32::from);
    let Some((network, bits)) = cidr.split_once('/') else {
        return false;
    };
    let (Some(ip), Some(network), Ok(bits)) = (parse(ip), parse(network), bits.parse::<u32>())
    else {
        return false;
    };
    let mask = if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits)
    };
    ip & mask == network & mask
}

#[test]
fn readme_main_job() {
    let state = TempDir::new("readme");
    let vars = BTreeMap::new();
    let run = |args: &[&str]| {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let output = run_netsim(&args, &state.path, &vars);
        assert_eq!(output.code, 0, "netsim {args:?} failed: {}", output.stderr);
        output
    };
    run(&["apply", "scenarios/nodeport.yaml"]);
    run(&["wait", "30s"]);
    let listing = run(&["get", "svc,ep,pods", "-o", "wide"]).stdout;
    let nodes_json = run(&["get", "nodes", "-o", "json"]).stdout;

    // Which nodes are workers, and each node's pod subnet.
    let nodes: serde_json::Value =
        serde_json::from_str(&nodes_json).expect("get nodes -o json is JSON");
    let mut pod_cidrs: BTreeMap<String, String> = BTreeMap::new();
    let mut control_planes = Vec::new();
    for node in nodes["items"].as_array().expect("a List of nodes") {
        let name = node["metadata"]["name"]
            .as_str()
            .expect("a node name")
            .to_string();
        if node["metadata"]["labels"]
            .get("node-role.kubernetes.io/control-plane")
            .is_some()
        {
            control_planes.push(name.clone());
        }
        let cidr = node["spec"]["podCIDR"]
            .as_str()
            .expect("every node has a podCIDR");
        pod_cidrs.insert(name, cidr.to_string());
    }
    assert_eq!(
        control_planes.len(),
        1,
        "one control-plane node: {control_planes:?}"
    );

    // Three tables (services, endpoints, pods) separated by blank lines.
    let tables: Vec<Vec<BTreeMap<String, String>>> =
        listing.split("\n\n").map(parse_table).collect();
    assert_eq!(tables.len(), 3, "three tables:\n{listing}");
    let find = |table: &[BTreeMap<String, String>], name: &str| -> BTreeMap<String, String> {
        table
            .iter()
            .find(|row| row["NAME"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no row {name} in:\n{listing}"))
    };

    let service = find(&tables[0], "service/nginx-nodeport");
    assert_eq!(service["TYPE"], "NodePort");
    assert_eq!(service["PORT(S)"], "80:30080/TCP");
    assert_eq!(service["SELECTOR"], "app=nginx");

    let endpoints = find(&tables[1], "endpoints/nginx-nodeport");
    let addresses: Vec<&str> = endpoints["ENDPOINTS"].split(',').collect();
    assert_eq!(addresses.len(), 2, "two endpoints: {addresses:?}");
    for address in &addresses {
        let ip = address
            .strip_suffix(":80")
            .unwrap_or_else(|| panic!("{address} is not on port 80"));
        assert!(ipv4_in(ip, "10.244.0.0/16"), "{ip} is not a pod address");
    }

    let pods: Vec<&BTreeMap<String, String>> = tables[2]
        .iter()
        .filter(|row| row["NAME"].starts_with("pod/nginx-"))
        .collect();
    assert_eq!(pods.len(), 2, "two nginx pods:\n{listing}");
    let mut pod_ips = Vec::new();
    for pod in pods {
        assert_eq!(pod["READY"], "1/1", "{pod:?}");
        assert_eq!(pod["STATUS"], "Running", "{pod:?}");
        let node = &pod["NODE"];
        assert!(
            !control_planes.contains(node),
            "{} runs on the control plane",
            pod["NAME"]
        );
        let cidr = pod_cidrs
            .get(node)
            .unwrap_or_else(|| panic!("unknown node {node}"));
        assert!(
            ipv4_in(&pod["IP"], cidr),
            "{} has IP {} outside {node}'s {cidr}",
            pod["NAME"],
            pod["IP"]
        );
        pod_ips.push(format!("{}:80", pod["IP"]));
    }
    let mut endpoint_addresses: Vec<String> = addresses.iter().map(|a| a.to_string()).collect();
    endpoint_addresses.sort();
    pod_ips.sort();
    assert_eq!(
        endpoint_addresses, pod_ips,
        "the endpoints are the nginx pods"
    );
}

#[test]
fn split_words_handles_quotes_and_variables() {
    let mut vars = BTreeMap::new();
    vars.insert("NETSIM_STATE".to_string(), "/tmp/s".to_string());
    let split = |line: &str| split_words(line, &vars);
    assert_eq!(
        split("netsim get  pods").unwrap(),
        ["netsim", "get", "pods"]
    );
    assert_eq!(
        split(r#"netsim patch svc x -p '{"spec":{"a":"b"}}'"#).unwrap(),
        ["netsim", "patch", "svc", "x", "-p", r#"{"spec":{"a":"b"}}"#]
    );
    assert_eq!(
        split(r#"a "b c" d\ e '$NETSIM_STATE'"#).unwrap(),
        ["a", "b c", "d e", "$NETSIM_STATE"]
    );
    assert_eq!(
        split("save $NETSIM_STATE/x.yaml \"$NETSIM_STATE\"").unwrap(),
        ["save", "/tmp/s/x.yaml", "/tmp/s"]
    );
    assert_eq!(split("a '' b").unwrap(), ["a", "", "b"]);
    assert!(split("a 'b").is_err());
    assert!(split("a $NOPE").is_err());
    assert!(split("get pods | head").is_err());
}
