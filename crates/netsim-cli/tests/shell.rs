//! `netsim shell` and `netsim run` as a student uses them: the whole lesson
//! (`scenarios/lesson.session`) runs green, a run stops at the first unexpected failure, and
//! lines piped into `netsim shell` go through pipes, `ssh NODE` and variables.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the repository root exists")
}

struct State(PathBuf);

impl State {
    fn new(name: &str) -> State {
        let dir = std::env::temp_dir().join(format!("netsim-shell-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        State(dir)
    }
}

impl Drop for State {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn netsim(state: &State, args: &[&str], stdin: Option<&str>) -> (String, String, i32) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_netsim"))
        .arg("--state")
        .arg(&state.0)
        .args(args)
        .current_dir(repo_root())
        .env_remove("EDITOR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run netsim");
    if let Some(text) = stdin
        && let Some(mut pipe) = child.stdin.take()
    {
        pipe.write_all(text.as_bytes()).expect("write stdin");
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().expect("netsim ends");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn the_whole_lesson_runs_green() {
    let state = State::new("lesson");
    let (stdout, stderr, code) = netsim(&state, &["run", "scenarios/lesson.session"], None);
    assert_eq!(code, 0, "the lesson stopped:\n{stderr}");
    insta::assert_snapshot!("lesson_transcript", stdout);
}

#[test]
fn a_run_stops_at_the_first_unexpected_failure() {
    let state = State::new("stops");
    let (stdout, stderr, code) = netsim(&state, &["run", "tests/shell/stops.session"], None);
    assert_eq!(code, 1);
    assert!(
        stderr.contains(
            "tests/shell/stops.session:4: `kubectl get pods nothing-here` failed with exit code 1"
        ),
        "{stderr}"
    );
    assert_eq!(stdout.matches("$ kubectl get nodes").count(), 1, "{stdout}");
    let (_, _, code) = netsim(
        &state,
        &["run", "--keep-going", "tests/shell/stops.session"],
        None,
    );
    assert_eq!(code, 1);
}

#[test]
fn lines_piped_into_the_shell() {
    let state = State::new("pipes");
    let script = std::fs::read_to_string(repo_root().join("tests/shell/pipes.txt"))
        .expect("tests/shell/pipes.txt");
    let (stdout, stderr, code) = netsim(&state, &["shell"], Some(&script));
    insta::assert_snapshot!(
        "piped_shell",
        format!("{stdout}--- stderr ---\n{stderr}--- exit {code}\n")
    );
}
