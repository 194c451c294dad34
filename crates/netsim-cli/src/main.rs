//! `netsim`: a Kubernetes networking simulator with kubectl's face.
//!
//! This crate is the only one that touches files, the environment, the terminal and exit codes.
//! Each invocation loads the cluster from the state directory (creating the default cluster the
//! first time), runs one command at the current virtual instant, lets a person's think time pass
//! on the virtual clock, and saves. Errors are rendered once, here at the edge.

mod commands;
mod crictl;
mod dns;
mod dns_serve;
mod export;
mod flags;
mod generate;
mod graph;
mod iptables;
mod kubectl;
mod lint;
mod net;
mod node;
mod output;
mod pcap;
mod progress;
mod shell;
mod sources;
mod state;

/// `words` as the argument list a command gets (for tests).
#[cfg(test)]
fn test_args(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

use clap::Parser;
use output::{Output, Stream};
use std::io::Write;
use std::path::PathBuf;

/// mimalloc instead of glibc's malloc: most of a large apply's time is spent allocating and
/// freeing small objects (see ARCHITECTURE.md, "Performance").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Command-line entry: global flags, then a command and its arguments.
#[derive(Parser, Debug)]
#[command(
    name = "netsim",
    version,
    about = "A Kubernetes networking simulator: apply real YAML to a simulated cluster and look at it with kubectl's eyes.",
    override_usage = "netsim [GLOBAL FLAGS] <COMMAND> [ARGS...]",
    after_help = commands::HELP
)]
struct Cli {
    /// Where the cluster's state lives.
    #[arg(
        long,
        env = "NETSIM_STATE",
        default_value = ".netsim",
        value_name = "DIR"
    )]
    state: PathBuf,
    /// Move the virtual clock to this instant (RFC 3339) before the command; never backwards.
    #[arg(long, value_name = "RFC3339")]
    now: Option<String>,
    /// Print exactly what kubectl prints: no `hint:` lines.
    #[arg(long)]
    no_hints: bool,
    /// Seed of the one random number generator, for a new cluster.
    #[arg(long)]
    seed: Option<u64>,
    /// The command and its arguments (kubectl verbs, or netsim's own commands).
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "COMMAND"
    )]
    args: Vec<String>,
}

fn main() {
    let cli = Cli::parse();
    let hints = !cli.no_hints
        && std::env::var("NETSIM_HINTS")
            .map(|v| v != "0")
            .unwrap_or(true);
    let mut out = Output::new(hints);
    let options = commands::Globals {
        state: cli.state,
        now: cli.now,
        seed: cli.seed,
        env: Default::default(),
        exits_after: false,
    };
    match cli.args.first().map(String::as_str) {
        Some("shell") => std::process::exit(shell::interactive(options, hints)),
        // `netsim run FILE` replays a session; `netsim run NAME --image=...` (or anything that
        // is not a file) is kubectl's.
        Some("run")
            if !cli.args.iter().any(|a| a.starts_with("--image"))
                && cli.args[1..].iter().any(|a| {
                    std::path::Path::new(a).is_file()
                        || [".session", ".sh", ".txt"].iter().any(|e| a.ends_with(e))
                }) =>
        {
            std::process::exit(shell::run_file(options, hints, &cli.args[1..]))
        }
        _ => {}
    }
    let once = commands::Globals {
        exits_after: true,
        ..options
    };
    commands::run(&once, &cli.args, &mut out);
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let (mut so, mut se) = (stdout.lock(), stderr.lock());
    for (stream, text) in &out.chunks {
        let result = match stream {
            Stream::Out => so.write_all(text.as_bytes()),
            Stream::Err => se.write_all(text.as_bytes()),
        };
        // A closed pipe (`netsim get pods | head -1`) is not an error.
        if result.is_err() {
            break;
        }
    }
    let _ = so.flush();
    drop((so, se));
    if let Some(steps) = &out.steps {
        step_through(steps);
    }
    std::process::exit(out.code);
}

/// `trace --step`: on a terminal, one step at a time (Enter: next, `b`: back, `q`: quit);
/// otherwise every step, one after the other.
fn step_through(steps: &[String]) {
    use std::io::{BufRead, IsTerminal};
    let mut so = std::io::stdout();
    if !std::io::stdin().is_terminal() {
        for s in steps {
            let _ = writeln!(so, "{s}");
        }
        return;
    }
    let mut i = 0;
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    while i < steps.len() {
        let _ = write!(so, "{}\n[Enter] next  [b] back  [q] quit > ", steps[i]);
        let _ = so.flush();
        match lines.next() {
            Some(Ok(l)) if l.trim() == "b" => i = i.saturating_sub(1),
            Some(Ok(l)) if l.trim() == "q" => break,
            Some(Ok(_)) => i += 1,
            _ => break,
        }
    }
    let _ = writeln!(so);
}
