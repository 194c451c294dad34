//! `netsim shell` on a real terminal: tmux (installed by `make test`) types into it like a
//! person — tab completion of a node name and of a resource kind, `ssh` to a node and back, a
//! pipe — and the screen must show what a student would see.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the repository root exists")
}

struct Tmux {
    socket: String,
    state: PathBuf,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs (`make test` installs it)");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "lesson"];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "lesson", "-S", "-200"])
    }

    /// Waits until the screen shows `text`.
    fn wait_for(&self, text: &str) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "the screen never showed {text:?}:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.run(&["kill-server"]);
        let _ = std::fs::remove_dir_all(&self.state);
    }
}

#[test]
fn a_person_at_netsim_shell() {
    if Command::new("tmux").arg("-V").output().is_err() {
        eprintln!("tmux is not installed; skipped");
        return;
    }
    let state = std::env::temp_dir().join(format!("netsim-tmux-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&state);
    let netsim = env!("CARGO_BIN_EXE_netsim");
    for args in [
        vec!["apply", "-f", "scenarios/nodeport.yaml"],
        vec!["wait", "30s"],
    ] {
        let ok = Command::new(netsim)
            .arg("--state")
            .arg(&state)
            .args(&args)
            .current_dir(repo_root())
            .status()
            .expect("netsim runs")
            .success();
        assert!(ok, "netsim {args:?}");
    }
    let tmux = Tmux {
        socket: format!("netsim-test-{}", std::process::id()),
        state: state.clone(),
    };
    let command = format!(
        "cd {} && {netsim} --state {} shell",
        repo_root().display(),
        state.display()
    );
    tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "lesson",
        "-x",
        "160",
        "-y",
        "50",
        &command,
    ]);
    tmux.wait_for("leaves.\n$");
    // Tab completes the node name as far as it is unique; the student types the rest.
    tmux.keys(&["ssh k8s-w", "Tab"]);
    tmux.wait_for("$ ssh k8s-worker");
    tmux.keys(&["1", "Enter"]);
    tmux.wait_for("root@k8s-worker1:~#");
    tmux.keys(&["hostname", "Enter"]);
    tmux.wait_for("hostname\nk8s-worker1");
    tmux.keys(&[
        "iptables-save | grep KUBE-NODEPORTS | grep -c nginx",
        "Enter",
    ]);
    tmux.wait_for("grep -c nginx\n1");
    tmux.keys(&["exit", "Enter"]);
    tmux.wait_for("logout");
    // Tab completes a resource kind.
    tmux.keys(&["kubectl get po", "Tab"]);
    tmux.wait_for("$ kubectl get pods");
    tmux.keys(&[" -o wide", "Enter"]);
    let screen = tmux.wait_for("nginx-");
    for expected in [
        "root@k8s-worker1:~# hostname\nk8s-worker1",
        "root@k8s-worker1:~# iptables-save | grep KUBE-NODEPORTS | grep -c nginx\n1",
        "root@k8s-worker1:~# exit\nlogout",
        "$ kubectl get pods -o wide\nNAME ",
    ] {
        assert!(
            screen.contains(expected),
            "missing {expected:?} in:\n{screen}"
        );
    }
    tmux.keys(&["exit", "Enter"]);
}
