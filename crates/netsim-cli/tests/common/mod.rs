//! What the CLI's integration tests share: the repository root and running the `netsim`
//! binary on a state directory.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository's root (scenarios are named from there).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the repository root exists")
}

/// Runs netsim with `args` on the state in `state`, from the repository's root: its stdout,
/// or a panic with its stderr.
pub fn netsim(state: &Path, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_netsim"))
        .arg("--state")
        .arg(state)
        .args(args)
        .current_dir(repo_root())
        .output()
        .expect("netsim runs");
    assert!(
        output.status.success(),
        "netsim {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}
