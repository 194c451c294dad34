//! The netfilter commands on a node: `iptables-save`, `iptables -S` and `iptables -L`. They read
//! the engine's [`netsim_engine::Sim::node_ruleset`] — the rules packets traverse — and print
//! them the way iptables 1.8 (nf_tables) does.

use crate::output::Output;
use netsim_engine::Sim;
use netsim_model::netfilter::{Ruleset, TableName};
use netsim_print::iptables;

/// `asctime()` of the node's clock, as iptables-save stamps its header.
fn stamp(sim: &Sim) -> String {
    sim.now().strftime("%a %b %e %H:%M:%S %Y").to_string()
}

/// `iptables-save [-t TABLE] [-c]`.
pub fn iptables_save(out: &mut Output, sim: &Sim, rules: &Ruleset, args: &[&str]) {
    let mut only = None;
    let mut i = 0;
    while i < args.len() {
        match args[i] {
            "-t" | "--table" => {
                let Some(name) = args.get(i + 1) else {
                    return usage_error(out, "iptables-save", "option requires an argument -- 't'");
                };
                match TableName::parse(name) {
                    Some(t) => only = Some(t),
                    None => {
                        out.errln(format!(
                            "iptables-save v1.8.7 (nf_tables): table '{name}' does not exist"
                        ));
                        out.code = 1;
                        return;
                    }
                }
                i += 1;
            }
            a if a.starts_with("--table=") => match TableName::parse(&a["--table=".len()..]) {
                Some(t) => only = Some(t),
                None => {
                    out.errln(format!(
                        "iptables-save v1.8.7 (nf_tables): table '{}' does not exist",
                        &a["--table=".len()..]
                    ));
                    out.code = 1;
                    return;
                }
            },
            "-c" | "--counters" => {
                out.hint("netsim keeps no packet counters: every counter prints as 0");
            }
            other => {
                return usage_error(
                    out,
                    "iptables-save",
                    &format!("unrecognized option '{other}'"),
                );
            }
        }
        i += 1;
    }
    if let Some(t) = only
        && rules.table(t).is_none()
    {
        out.errln(format!(
            "iptables-save v1.8.7 (nf_tables): table '{}' does not exist",
            t.as_str()
        ));
        out.code = 1;
        return;
    }
    out.out(iptables::iptables_save(rules, only, &stamp(sim)));
}

fn usage_error(out: &mut Output, tool: &str, message: &str) {
    out.errln(format!("{tool}: {message}"));
    out.code = 1;
}

/// `iptables [-t TABLE] -S [CHAIN]` and `iptables [-t TABLE] -L [CHAIN] [-n] [-v]
/// [--line-numbers]`.
pub fn iptables_cmd(out: &mut Output, rules: &Ruleset, args: &[&str]) {
    let mut table = TableName::Filter;
    let mut action: Option<char> = None;
    let mut chain: Option<&str> = None;
    let mut numeric = false;
    let mut verbose = false;
    let mut line_numbers = false;
    let mut i = 0;
    while i < args.len() {
        let a = args[i];
        match a {
            "-t" | "--table" => {
                let Some(name) = args.get(i + 1) else {
                    return param_problem(out, "option \"-t\" requires an argument");
                };
                let Some(t) = TableName::parse(name) else {
                    out.errln(format!(
                        "iptables v1.8.7 (nf_tables): table '{name}' does not exist\nPerhaps iptables or your kernel needs to be upgraded."
                    ));
                    out.code = 3;
                    return;
                };
                table = t;
                i += 1;
            }
            "-S" | "--list-rules" | "-L" | "--list" => {
                action = Some(if a == "-S" || a == "--list-rules" {
                    'S'
                } else {
                    'L'
                });
                if let Some(next) = args.get(i + 1).filter(|n| !n.starts_with('-')) {
                    chain = Some(next);
                    i += 1;
                }
            }
            "-n" | "--numeric" => numeric = true,
            "-v" | "--verbose" => verbose = true,
            "--line-numbers" => line_numbers = true,
            short if short.starts_with('-') && !short.starts_with("--") && short.len() > 2 => {
                // Bundled short options: `-nvL`, `-nL CHAIN`.
                for ch in short[1..].chars() {
                    match ch {
                        'n' => numeric = true,
                        'v' => verbose = true,
                        'L' | 'S' => {
                            action = Some(ch);
                            if let Some(next) = args.get(i + 1).filter(|n| !n.starts_with('-')) {
                                chain = Some(next);
                                i += 1;
                            }
                        }
                        't' => {
                            let Some(name) = args.get(i + 1).and_then(|n| TableName::parse(n))
                            else {
                                return param_problem(out, "option \"-t\" requires an argument");
                            };
                            table = name;
                            i += 1;
                        }
                        other => {
                            return param_problem(out, &format!("unknown option \"-{other}\""));
                        }
                    }
                }
            }
            "-A" | "-I" | "-D" | "-R" | "-N" | "-X" | "-F" | "-Z" | "-P" | "-E" | "--append"
            | "--insert" | "--delete" | "--flush" => {
                out.fail("netsim: the node's rules belong to kube-proxy, flannel, the kubelet and dockerd; netsim does not let them be changed by hand (change the Services, EndpointSlices or KubeProxyConfiguration instead)");
                return;
            }
            other => {
                return param_problem(out, &format!("unknown option \"{other}\""));
            }
        }
        i += 1;
    }
    let _ = (numeric, verbose, line_numbers);
    let Some(action) = action else {
        return param_problem(out, "no command specified");
    };
    let Some(t) = rules.table(table) else {
        out.errln(format!(
            "iptables v1.8.7 (nf_tables): table '{}' does not exist",
            table.as_str()
        ));
        out.code = 1;
        return;
    };
    let text = match action {
        'S' => iptables::iptables_s(t, chain),
        _ => iptables::iptables_l(t, chain, numeric, verbose, line_numbers),
    };
    match text {
        Some(text) => out.out(text),
        None => {
            out.errln("iptables: No chain/target/match by that name.");
            out.code = 1;
        }
    }
}

fn param_problem(out: &mut Output, message: &str) {
    out.errln(format!(
        "iptables v1.8.7 (nf_tables): {message}\nTry `iptables -h' or 'iptables --help' for more information."
    ));
    out.code = 2;
}
