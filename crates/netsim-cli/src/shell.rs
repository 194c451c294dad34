//! `netsim shell` and `netsim run`: the lesson's lines typed (or read from a file) as a student
//! types them. A line is split the way a POSIX shell splits it (quotes, `\`, `$VAR`, `$(...)`,
//! `|`), then run where the student is: on their own machine (`kubectl ...`, `netsim ...`,
//! `ssh NODE ...`, `curl ...`), on a node after `ssh NODE`, or in a container after `kubectl
//! exec -it POD -- sh`. The first command of a pipeline is netsim's; the rest are the usual text
//! filters (`grep`, `head`, `tail`, `wc`, `sort`, `uniq`, `cat`) applied to its output.
//!
//! This module owns the interpreter and the two front ends; every command still goes through
//! [`crate::commands::run`], one state load and save per line, exactly as separate invocations.

// The word splitter is a module of its own, free of `crate::` paths, so the fuzz crate can
// include it as it is (`fuzz/fuzz_targets/shell_words.rs`).
mod words;

use crate::commands::{Globals, run};
use crate::output::{Output, Stream};
use std::collections::BTreeMap;
use words::Token;

/// Where the student's commands run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// Their own machine, with `kubectl` and `netsim`.
    Local,
    /// A root shell on a node (`ssh NODE`).
    Node(String),
    /// `sh` in a pod's first container (`kubectl exec -it POD -- sh`).
    Pod {
        /// Namespace.
        namespace: String,
        /// Pod name.
        name: String,
    },
}

/// What a line asked of the shell besides output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Go on reading.
    Continue,
    /// `exit` at the top: the session ends.
    Quit,
}

/// The interpreter: where the student is, and the shell variables they set.
pub struct Shell {
    globals: Globals,
    hints: bool,
    stack: Vec<Place>,
    vars: BTreeMap<String, String>,
}

impl Shell {
    /// A shell on the student's machine.
    pub fn new(globals: Globals, hints: bool) -> Shell {
        Shell {
            globals,
            hints,
            stack: vec![Place::Local],
            vars: BTreeMap::new(),
        }
    }

    /// Where commands run now.
    pub fn place(&self) -> &Place {
        self.stack.last().unwrap_or(&Place::Local)
    }

    /// The prompt bash (or busybox sh) shows there.
    pub fn prompt(&self) -> String {
        match self.place() {
            Place::Local => "$ ".into(),
            Place::Node(n) => format!("root@{n}:~# "),
            Place::Pod { .. } => "/ # ".into(),
        }
    }

    /// The state directory and global flags the commands run with.
    pub fn globals(&self) -> &Globals {
        &self.globals
    }

    /// Splits `line` into words and pipes, expanding variables and `$(...)`.
    fn tokens(&mut self, line: &str) -> Result<Vec<Token>, String> {
        words::split(line, self)
    }

    /// `export NAME=VALUE`: a shell variable the commands see in their environment.
    pub fn export(&mut self, name: &str, value: &str) {
        self.vars.insert(name.to_string(), value.to_string());
        self.globals.env.insert(name.to_string(), value.to_string());
    }

    fn var(&self, name: &str) -> String {
        self.vars
            .get(name)
            .cloned()
            .or_else(|| std::env::var(name).ok())
            .unwrap_or_default()
    }

    /// Runs one line: its output, and whether the session goes on.
    pub fn line(&mut self, line: &str) -> (Output, Flow) {
        let mut out = Output::new(self.hints);
        let tokens = match self.tokens(line) {
            Ok(t) => t,
            Err(e) => {
                out.errln(format!("bash: {e}"));
                out.code = 2;
                return (out, Flow::Continue);
            }
        };
        let mut stages: Vec<Vec<String>> = vec![Vec::new()];
        for t in tokens {
            match t {
                Token::Word(w) => stages.last_mut().map(|s| s.push(w)).unwrap_or_default(),
                Token::Pipe => stages.push(Vec::new()),
            }
        }
        if stages.iter().all(Vec::is_empty) {
            return (out, Flow::Continue);
        }
        if stages.iter().any(Vec::is_empty) {
            out.errln("bash: syntax error near unexpected token `|'");
            out.code = 2;
            return (out, Flow::Continue);
        }
        let first = stages.remove(0);
        let flow = self.command(&first, &mut out);
        for filter in stages {
            filter_output(&mut out, &filter);
        }
        (out, flow)
    }

    /// The first command of a pipeline.
    fn command(&mut self, words: &[String], out: &mut Output) -> Flow {
        let (cmd, rest) = match words.split_first() {
            Some((c, r)) => (c.as_str(), r),
            None => return Flow::Continue,
        };
        // Builtins, wherever the student is.
        match cmd {
            "exit" | "logout" => {
                if self.stack.len() > 1 {
                    // bash on the node is a login shell: it says `logout`, and ssh says the
                    // connection closed; busybox sh in a pod just ends.
                    if let Some(Place::Node(n)) = self.stack.pop() {
                        out.outln("logout");
                        out.errln(format!("Connection to {n} closed."));
                    }
                    return Flow::Continue;
                }
                return Flow::Quit;
            }
            "echo" => {
                out.outln(rest.join(" "));
                return Flow::Continue;
            }
            "clear" | "cd" | "true" | ":" => return Flow::Continue,
            "export" => {
                for a in rest {
                    if let Some((k, v)) = a.split_once('=') {
                        self.export(k, v);
                    }
                }
                return Flow::Continue;
            }
            _ => {}
        }
        if let Some((k, v)) = cmd.split_once('=')
            && rest.is_empty()
            && !k.is_empty()
            && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            self.vars.insert(k.to_string(), v.to_string());
            return Flow::Continue;
        }
        let place = self.place().clone();
        let args: Vec<String> = match &place {
            Place::Local => match cmd {
                "kubectl" | "k" => {
                    if let Some(pod) = interactive_exec(rest) {
                        return self.enter_pod(pod, out);
                    }
                    rest.to_vec()
                }
                "netsim" => rest.to_vec(),
                "ssh" => {
                    let Some(target) = rest.first() else {
                        out.errln("usage: ssh [-46AaCfGgKkMNnqsTtVvXxYy] destination [command [argument ...]]");
                        out.code = 255;
                        return Flow::Continue;
                    };
                    if rest.len() == 1 {
                        return self.enter_node(target, out);
                    }
                    let mut a = vec!["ssh".to_string(), target.clone(), "--".into()];
                    a.extend(rest[1..].iter().filter(|w| *w != "--").cloned());
                    a
                }
                "curl" => words.to_vec(),
                other => {
                    out.errln(format!("bash: {other}: command not found"));
                    out.code = 127;
                    if other == "ip" || other == "iptables" || other == "docker" {
                        out.hint(format!("`{other}` runs on a node: `ssh k8s-worker1` first"));
                    }
                    return Flow::Continue;
                }
            },
            Place::Node(node) => {
                let mut a = vec!["ssh".to_string(), node.clone(), "--".into()];
                a.extend(words.iter().cloned());
                a
            }
            Place::Pod { namespace, name } => {
                let mut a = vec![
                    "exec".to_string(),
                    "-n".into(),
                    namespace.clone(),
                    name.clone(),
                    "--".into(),
                ];
                a.extend(words.iter().cloned());
                a
            }
        };
        run(&self.globals, &args, out);
        Flow::Continue
    }

    fn enter_node(&mut self, target: &str, out: &mut Output) -> Flow {
        let node = target.rsplit('@').next().unwrap_or(target).to_string();
        // A command that always works on a node tells whether the node is there.
        let mut probe = Output::new(self.hints);
        run(
            &self.globals,
            &["ssh".into(), node.clone(), "--".into(), "hostname".into()],
            &mut probe,
        );
        if probe.code != 0 {
            out.chunks.extend(probe.chunks);
            out.code = probe.code;
            return Flow::Continue;
        }
        self.stack.push(Place::Node(node));
        Flow::Continue
    }

    fn enter_pod(&mut self, (namespace, name): (String, String), out: &mut Output) -> Flow {
        let mut probe = Output::new(self.hints);
        run(
            &self.globals,
            &[
                "exec".into(),
                "-n".into(),
                namespace.clone(),
                name.clone(),
                "--".into(),
                "hostname".into(),
            ],
            &mut probe,
        );
        if probe.code != 0 {
            out.chunks
                .extend(probe.chunks.into_iter().filter(|(s, _)| *s == Stream::Err));
            out.code = probe.code;
            return Flow::Continue;
        }
        self.stack.push(Place::Pod { namespace, name });
        Flow::Continue
    }
}

/// The splitter asks the shell for variables and runs `$(...)` as the shell runs any line (its
/// stdout is the text; what it wrote on stderr is dropped, as before the split).
impl words::Expand for Shell {
    fn var(&self, name: &str) -> String {
        Shell::var(self, name)
    }

    fn command(&mut self, line: &str) -> String {
        self.line(line).0.stdout_text()
    }
}

/// `kubectl exec -it POD -- sh` (or `/bin/sh`, `bash`, `/bin/bash`, `ash`) with nothing after the
/// shell: the pod's namespace and name.
fn interactive_exec(args: &[String]) -> Option<(String, String)> {
    let (verb, rest) = args.split_first()?;
    if verb != "exec" {
        return None;
    }
    let dash = rest.iter().position(|a| a == "--")?;
    let (before, after) = rest.split_at(dash);
    let shells = ["sh", "/bin/sh", "bash", "/bin/bash", "ash", "/bin/ash"];
    if after.len() != 2 || !shells.contains(&after[1].as_str()) {
        return None;
    }
    let mut namespace = "default".to_string();
    let mut pod = None;
    let mut i = 0;
    while i < before.len() {
        let a = &before[i];
        match a.as_str() {
            "-n" | "--namespace" | "-c" | "--container" => {
                if a == "-n" || a == "--namespace" {
                    namespace = before.get(i + 1)?.clone();
                }
                i += 1;
            }
            s if s.starts_with("--namespace=") => namespace = s["--namespace=".len()..].into(),
            s if s.starts_with('-') => {}
            s => pod = Some(s.trim_start_matches("pod/").to_string()),
        }
        i += 1;
    }
    Some((namespace, pod?))
}

/// The text filters a pipeline may end in, applied to what the command wrote on stdout.
fn filter_output(out: &mut Output, words: &[String]) {
    let text = out.stdout_text();
    out.chunks.retain(|(s, _)| *s == Stream::Err);
    let lines: Vec<&str> = text.lines().collect();
    let (cmd, args) = match words.split_first() {
        Some((c, a)) => (c.as_str(), a),
        None => return,
    };
    let count = |args: &[String], default: usize| -> Result<usize, String> {
        let mut n = default;
        let mut i = 0;
        while i < args.len() {
            let a = &args[i];
            if a == "-n" {
                i += 1;
                n = args
                    .get(i)
                    .and_then(|v| v.parse().ok())
                    .ok_or_else(|| format!("{cmd}: invalid number of lines"))?;
            } else if let Some(v) = a.strip_prefix("-n") {
                n = v
                    .parse()
                    .map_err(|_| format!("{cmd}: invalid number of lines: '{v}'"))?;
            } else if let Some(v) = a.strip_prefix('-')
                && let Ok(k) = v.parse()
            {
                n = k;
            }
            i += 1;
        }
        Ok(n)
    };
    let emit = |out: &mut Output, lines: &[&str]| {
        let mut s = String::new();
        for l in lines {
            s.push_str(l);
            s.push('\n');
        }
        out.out(s);
    };
    out.code = 0;
    match cmd {
        "cat" => out.out(text.clone()),
        "head" | "tail" => match count(args, 10) {
            Ok(n) => {
                let pick = if cmd == "head" {
                    &lines[..n.min(lines.len())]
                } else {
                    &lines[lines.len().saturating_sub(n)..]
                };
                emit(out, pick);
            }
            Err(e) => {
                out.errln(e);
                out.code = 1;
            }
        },
        "wc" => {
            let l = lines.len();
            let w = text.split_whitespace().count();
            let c = text.len();
            let line = match args.first().map(String::as_str) {
                Some("-l") => l.to_string(),
                Some("-w") => w.to_string(),
                Some("-c") => c.to_string(),
                _ => format!("{l:>7} {w:>7} {c:>7}"),
            };
            out.outln(line);
        }
        "sort" => {
            let mut sorted = lines.clone();
            sorted.sort_unstable();
            if args.iter().any(|a| a == "-r") {
                sorted.reverse();
            }
            if args.iter().any(|a| a == "-u") {
                sorted.dedup();
            }
            emit(out, &sorted);
        }
        "uniq" => {
            let mut kept: Vec<(usize, &str)> = Vec::new();
            for l in &lines {
                match kept.last_mut() {
                    Some((n, last)) if last == l => *n += 1,
                    _ => kept.push((1, l)),
                }
            }
            if args.iter().any(|a| a == "-c") {
                let counted: Vec<String> =
                    kept.iter().map(|(n, l)| format!("{n:>7} {l}")).collect();
                let refs: Vec<&str> = counted.iter().map(String::as_str).collect();
                emit(out, &refs);
            } else {
                let plain: Vec<&str> = kept.iter().map(|(_, l)| *l).collect();
                emit(out, &plain);
            }
        }
        "grep" | "egrep" => grep(out, &lines, args),
        other => {
            out.errln(format!("bash: {other}: command not found"));
            out.code = 127;
        }
    }
}

/// `grep [-v] [-i] [-c] [-w] [-E|-F] PATTERN`: lines that match (GNU grep's exit codes: 1 when
/// none does, 2 for a bad pattern).
fn grep(out: &mut Output, lines: &[&str], args: &[String]) {
    let mut invert = false;
    let mut ignore_case = false;
    let mut count = false;
    let mut fixed = false;
    let mut words = false;
    let mut pattern: Option<&str> = None;
    for a in args {
        match a.as_str() {
            "-E" => {}
            "-F" => fixed = true,
            flags if flags.starts_with('-') && flags.len() > 1 && pattern.is_none() => {
                for f in flags[1..].chars() {
                    match f {
                        'v' => invert = true,
                        'i' => ignore_case = true,
                        'c' => count = true,
                        'w' => words = true,
                        'F' => fixed = true,
                        'E' => {}
                        other => {
                            out.errln(format!("grep: invalid option -- '{other}'\nUsage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information."));
                            out.code = 2;
                            return;
                        }
                    }
                }
            }
            p if pattern.is_none() => pattern = Some(p),
            _ => {}
        }
    }
    let Some(pattern) = pattern else {
        out.errln(
            "Usage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.",
        );
        out.code = 2;
        return;
    };
    let mut source = if fixed {
        regex::escape(pattern)
    } else {
        // Basic regular expressions: `\|`, `\(`, `\)`, `\+` and `\?` are the operators; the
        // bare characters are literals.
        let mut s = String::new();
        let mut chars = pattern.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some(o @ ('|' | '(' | ')' | '+' | '?' | '{' | '}')) => s.push(o),
                    Some(o) => {
                        s.push('\\');
                        s.push(o);
                    }
                    None => s.push_str("\\\\"),
                },
                '|' | '(' | ')' | '+' | '?' | '{' | '}' => {
                    s.push('\\');
                    s.push(c);
                }
                c => s.push(c),
            }
        }
        s
    };
    if words {
        source = format!(r"\b(?:{source})\b");
    }
    if ignore_case {
        source = format!("(?i){source}");
    }
    let re = match regex::Regex::new(&source) {
        Ok(r) => r,
        Err(_) => {
            out.errln("grep: Unmatched ( or \\(");
            out.code = 2;
            return;
        }
    };
    let kept: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| re.is_match(l) != invert)
        .collect();
    if count {
        out.outln(kept.len().to_string());
    } else {
        let mut s = String::new();
        for l in &kept {
            s.push_str(l);
            s.push('\n');
        }
        out.out(s);
    }
    if kept.is_empty() {
        out.code = 1;
    }
}

/// Writes what a line printed to the terminal, in order.
fn print(out: &Output) {
    use std::io::Write;
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let (mut so, mut se) = (stdout.lock(), stderr.lock());
    for (stream, text) in &out.chunks {
        let _ = match stream {
            Stream::Out => so.write_all(text.as_bytes()),
            Stream::Err => se.write_all(text.as_bytes()),
        };
    }
    let _ = so.flush();
    let _ = se.flush();
}

/// `netsim shell`: line editing, history and completion on a terminal; plain lines from a
/// pipe or file (no prompt, as `bash` reading a script). Returns the last command's exit code.
pub fn interactive(globals: Globals, hints: bool) -> i32 {
    use std::io::{BufRead, IsTerminal};
    let mut sh = Shell::new(globals, hints);
    let mut code = 0;
    if !std::io::stdin().is_terminal() {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            let (out, flow) = sh.line(&line);
            print(&out);
            code = out.code;
            if flow == Flow::Quit {
                break;
            }
        }
        return code;
    }
    let config = rustyline::Config::builder()
        .auto_add_history(true)
        .completion_type(rustyline::CompletionType::List)
        .build();
    let mut editor: rustyline::Editor<Completion, rustyline::history::DefaultHistory> =
        match rustyline::Editor::with_config(config) {
            Ok(e) => e,
            Err(e) => {
                eprintln!("netsim shell: {e}");
                return 1;
            }
        };
    println!(
        "netsim shell: type the lesson's commands (kubectl, ssh NODE, curl ...); `exit` leaves."
    );
    loop {
        editor.set_helper(Some(Completion {
            state: sh.globals().state.clone(),
            place: sh.place().clone(),
        }));
        match editor.readline(&sh.prompt()) {
            Ok(line) => {
                let (out, flow) = sh.line(&line);
                print(&out);
                code = out.code;
                if flow == Flow::Quit {
                    break;
                }
            }
            Err(rustyline::error::ReadlineError::Interrupted) => continue,
            Err(_) => break,
        }
    }
    code
}

/// `netsim run FILE [--keep-going]`: each line as the shell runs it, printed as a transcript
/// (`$ line`, then what it printed). A line written `! command` is expected to fail. The run
/// stops at the first command that ends otherwise than expected, with its exit code, unless
/// `--keep-going`. Comment lines are copied; `# env NAME=VALUE` and `# capture NAME: command`
/// (the session files' directives) set variables.
pub fn run_file(globals: Globals, hints: bool, args: &[String]) -> i32 {
    let mut keep_going = false;
    let mut file = None;
    for a in args {
        match a.as_str() {
            "--keep-going" | "-k" => keep_going = true,
            f => file = Some(f.to_string()),
        }
    }
    let Some(file) = file else {
        eprintln!("usage: netsim run FILE [--keep-going]");
        return 2;
    };
    let text = match std::fs::read_to_string(&file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("netsim run: {file}: {e}");
            return 1;
        }
    };
    let mut sh = Shell::new(globals, hints);
    let mut status = 0;
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            let directive = comment.trim();
            if let Some(assign) = directive.strip_prefix("env ") {
                if let Some((k, v)) = assign.split_once('=') {
                    sh.export(k.trim(), v.trim());
                }
            } else if let Some(capture) = directive.strip_prefix("capture ")
                && let Some((name, cmd)) = capture.split_once(':')
            {
                let (out, _) = sh.line(cmd.trim());
                let value = out.stdout_text();
                sh.vars
                    .insert(name.trim().to_string(), value.trim().to_string());
            }
            println!("{line}");
            continue;
        }
        let (expect_failure, command) = match line.strip_prefix("! ") {
            Some(c) => (true, c),
            None => (false, line),
        };
        println!("{}{line}", sh.prompt());
        let (out, flow) = sh.line(command);
        print(&out);
        println!();
        let failed = out.code != 0;
        if failed != expect_failure {
            let what = if expect_failure {
                "succeeded, but the file expects it to fail".to_string()
            } else {
                format!("failed with exit code {}", out.code)
            };
            eprintln!("netsim run: {file}:{}: `{command}` {what}", n + 1);
            status = if failed { out.code } else { 1 };
            if !keep_going {
                return status;
            }
        }
        if flow == Flow::Quit {
            break;
        }
    }
    status
}

/// Tab completion: commands, kubectl verbs, resource kinds, and the names in the cluster.
struct Completion {
    state: std::path::PathBuf,
    place: Place,
}

const LOCAL_COMMANDS: &[&str] = &[
    "kubectl", "netsim", "ssh", "curl", "exit", "echo", "clear", "export",
];
const NODE_COMMANDS: &[&str] = &[
    "ip",
    "ifconfig",
    "bridge",
    "iptables",
    "iptables-save",
    "docker",
    "crictl",
    "nsenter",
    "curl",
    "wget",
    "ping",
    "cat",
    "hostname",
    "dig",
    "nslookup",
    "host",
    "getent",
    "conntrack",
    "exit",
];
const POD_COMMANDS: &[&str] = &[
    "cat", "curl", "wget", "ping", "nslookup", "dig", "host", "getent", "ip", "ifconfig",
    "hostname", "exit",
];
const VERBS: &[&str] = &[
    "annotate", "apply", "create", "delete", "describe", "edit", "exec", "expose", "get", "label",
    "logs", "patch", "run", "scale", "convert", "curl", "dns", "generate", "reset", "resume",
    "snapshot", "ssh", "trace", "wait",
];
const KINDS: &[&str] = &[
    "configmaps",
    "daemonsets",
    "deployments",
    "endpoints",
    "endpointslices",
    "events",
    "ingressclasses",
    "ingresses",
    "namespaces",
    "nodes",
    "pods",
    "replicasets",
    "services",
];

impl Completion {
    /// Names of `kind` (a kubectl resource word) in the saved cluster.
    fn names(&self, kind: &str) -> Vec<String> {
        let Ok(kind) = crate::kubectl::resolve_kind(kind) else {
            return Vec::new();
        };
        let Ok(mut dir) = crate::state::StateDir::open(&self.state) else {
            return Vec::new();
        };
        let Ok(Some(mut sim)) = dir.load(Some(&crate::state::Needs::kinds([kind])), false) else {
            return Vec::new();
        };
        // Names as the next command will see them.
        dir.settle(&mut sim, &mut |_| {});
        let mut names: Vec<String> = sim
            .store()
            .list(kind, None)
            .map(|o| o.name().to_string())
            .collect();
        names.sort();
        names.dedup();
        names
    }
}

impl rustyline::completion::Completer for Completion {
    type Candidate = String;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &rustyline::Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        let head = &line[..pos];
        let start = head.rfind([' ', '/']).map_or(0, |i| i + 1);
        let partial = &head[start..];
        let before: Vec<&str> = head[..start].split_whitespace().collect();
        let owned: Vec<String>;
        let pool: &[&str] = match (&self.place, before.as_slice()) {
            (Place::Local, []) => LOCAL_COMMANDS,
            (Place::Node(_), []) => NODE_COMMANDS,
            (Place::Pod { .. }, []) => POD_COMMANDS,
            (_, ["kubectl" | "netsim"]) => VERBS,
            (_, ["ssh"]) | (_, ["netsim", "ssh"]) => {
                owned = self.names("nodes");
                return Ok((start, filter(&owned, partial)));
            }
            (_, [.., "logs" | "exec"]) => {
                owned = self.names("pods");
                return Ok((start, filter(&owned, partial)));
            }
            (
                _,
                [
                    ..,
                    "get" | "describe" | "delete" | "edit" | "label" | "annotate" | "patch"
                    | "scale" | "expose",
                ],
            ) => KINDS,
            (
                _,
                [
                    ..,
                    "get" | "describe" | "delete" | "edit" | "label" | "annotate" | "patch"
                    | "scale" | "expose",
                    kind,
                ],
            ) => {
                owned = self.names(kind);
                return Ok((start, filter(&owned, partial)));
            }
            _ => &[],
        };
        let pool: Vec<String> = pool.iter().map(|s| s.to_string()).collect();
        Ok((start, filter(&pool, partial)))
    }
}

fn filter(pool: &[String], partial: &str) -> Vec<String> {
    pool.iter()
        .filter(|c| c.starts_with(partial))
        .cloned()
        .collect()
}

impl rustyline::hint::Hinter for Completion {
    type Hint = String;
}
impl rustyline::highlight::Highlighter for Completion {}
impl rustyline::validate::Validator for Completion {}
impl rustyline::Helper for Completion {}

#[cfg(test)]
mod tests {
    use super::*;

    fn shell() -> Shell {
        Shell::new(
            Globals {
                state: std::env::temp_dir().join("netsim-shell-unit-unused"),
                now: None,
                seed: None,
                env: Default::default(),
                exits_after: false,
            },
            true,
        )
    }

    #[test]
    fn words_split_like_a_posix_shell() {
        let mut sh = shell();
        sh.vars.insert("IP".into(), "10.0.0.1".into());
        let words = |sh: &mut Shell, l: &str| -> Vec<Token> { sh.tokens(l).expect("parses") };
        let w = |s: &str| Token::Word(s.to_string());
        assert_eq!(
            words(
                &mut sh,
                r#"curl -H 'Host: a b' "http://$IP/x" | grep -v "x y""#
            ),
            vec![
                w("curl"),
                w("-H"),
                w("Host: a b"),
                w("http://10.0.0.1/x"),
                Token::Pipe,
                w("grep"),
                w("-v"),
                w("x y"),
            ]
        );
        assert_eq!(words(&mut sh, "a\\ b # c"), vec![w("a b")]);
        assert!(sh.tokens("echo 'open").is_err());
    }

    /// `$(...)` runs its line through the shell, so nesting is recursion: as deep as the
    /// splitter allows, it runs (on a test thread's small stack); deeper, bash's kind of
    /// error, not a stack overflow.
    #[test]
    fn nested_substitutions_are_bounded() {
        let nested = |depth: usize| format!("{}x{}", "$(".repeat(depth), ")".repeat(depth));
        let mut sh = shell();
        let (out, _) = sh.line(&nested(words::MAX_NESTING));
        assert_eq!(out.code, 127, "{:?}", out.chunks);
        let (out, _) = sh.line(&nested(words::MAX_NESTING + 1));
        assert_eq!(out.code, 2);
        assert!(
            out.chunks[0].1.starts_with("bash: $(...) nested more than"),
            "{:?}",
            out.chunks
        );
    }

    #[test]
    fn interactive_exec_enters_the_pod() {
        let a = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        assert_eq!(
            interactive_exec(&a("exec -it busybox -- sh")),
            Some(("default".into(), "busybox".into()))
        );
        assert_eq!(
            interactive_exec(&a("exec -n kube-system -ti pod/x -- /bin/bash")),
            Some(("kube-system".into(), "x".into()))
        );
        assert_eq!(interactive_exec(&a("exec busybox -- sh -c ls")), None);
    }

    #[test]
    fn filters_behave_like_coreutils() {
        let run = |text: &str, filter: &str| {
            let mut out = Output::new(true);
            out.out(text.to_string());
            let words: Vec<String> = filter.split(' ').map(String::from).collect();
            filter_output(&mut out, &words);
            let stdout = out.stdout_text();
            (stdout, out.code)
        };
        let text = "a KUBE-SVC nginx\nb KUBE-SEP nginx\nc other\n";
        assert_eq!(
            run(text, "grep KUBE"),
            ("a KUBE-SVC nginx\nb KUBE-SEP nginx\n".into(), 0)
        );
        assert_eq!(run(text, "grep -c nginx"), ("2\n".into(), 0));
        assert_eq!(run(text, "grep nothing"), (String::new(), 1));
        assert_eq!(
            run(text, "grep SVC\\|SEP"),
            ("a KUBE-SVC nginx\nb KUBE-SEP nginx\n".into(), 0)
        );
        assert_eq!(run(text, "head -1"), ("a KUBE-SVC nginx\n".into(), 0));
        assert_eq!(run(text, "tail -n 1"), ("c other\n".into(), 0));
        assert_eq!(run(text, "wc -l"), ("3\n".into(), 0));
    }
}
