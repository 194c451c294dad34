//! The progress line of long commands: drawn on stderr and wiped before the command's own
//! output, never written when stderr is not a terminal (pipes, tests, transcripts).
//! `NETSIM_PROGRESS=1` draws it from the first step whatever stderr is, which is how this test
//! sees it without a terminal.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the repository root exists")
}

fn apply(state: &Path, progress: Option<&str>) -> (String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_netsim"));
    cmd.arg("--state")
        .arg(state)
        .args(["apply", "-f"])
        .arg(repo_root().join("scenarios/nodeport.yaml"))
        .env_remove("NETSIM_PROGRESS");
    if let Some(p) = progress {
        cmd.env("NETSIM_PROGRESS", p);
    }
    let out = cmd.output().expect("netsim runs");
    assert!(out.status.success(), "{out:?}");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn progress_is_drawn_then_wiped_and_absent_from_pipes() {
    let scratch = std::env::temp_dir().join(format!("netsim-progress-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    let (plain_out, plain_err) = apply(&scratch.join("plain"), None);
    assert!(!plain_err.contains('\r'), "{plain_err:?}");
    let (shown_out, shown_err) = apply(&scratch.join("shown"), Some("1"));
    // The same output; stderr has the line, drawn in place, and ends wiped.
    assert_eq!(shown_out, plain_out);
    assert!(
        shown_err.starts_with("\r\x1b[Knetsim: applying 0/2 objects"),
        "{shown_err:?}"
    );
    let wiped = shown_err.rfind("\r\x1b[K").expect("wiped");
    assert_eq!(&shown_err[wiped + 4..], plain_err, "{shown_err:?}");
    let (_, off_err) = apply(&scratch.join("off"), Some("0"));
    assert_eq!(off_err, plain_err);
    let _ = std::fs::remove_dir_all(&scratch);
}
