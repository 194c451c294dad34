//! A command-line parser with kubectl's (cobra/pflag) rules and error wording: flags anywhere
//! among the arguments, `--flag=value` and `--flag value`, `-n ns` and `-nns`, combined short
//! booleans (`-it`), `--` ending flags, and `error: unknown flag: --replicas` (kubectl prints
//! cobra's flag errors through its own error handler, lower-case, since v1.2x).

use std::collections::BTreeMap;

/// Whether a flag takes a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Takes {
    /// A boolean (`--watch`, `--watch=false`).
    Bool,
    /// One value; repeated uses accumulate (`-f a -f b`).
    Value,
    /// One value, or this one when the flag stands alone (pflag's `NoOptDefVal`): `--dry-run`
    /// is `--dry-run=unchanged`, and never takes the next argument as its value.
    Optional(&'static str),
}

/// One flag a command accepts.
#[derive(Debug, Clone, Copy)]
pub struct Flag {
    /// Long name without dashes.
    pub long: &'static str,
    /// Short letter.
    pub short: Option<char>,
    /// Bool or value.
    pub takes: Takes,
}

/// Shorthand constructors.
pub const fn b(long: &'static str, short: Option<char>) -> Flag {
    Flag {
        long,
        short,
        takes: Takes::Bool,
    }
}

/// A flag with a value.
pub const fn v(long: &'static str, short: Option<char>) -> Flag {
    Flag {
        long,
        short,
        takes: Takes::Value,
    }
}

/// A flag whose value may be left out (see [`Takes::Optional`]).
pub const fn o(long: &'static str, alone: &'static str) -> Flag {
    Flag {
        long,
        short: None,
        takes: Takes::Optional(alone),
    }
}

/// Flags every kubectl command accepts.
pub const GLOBAL: &[Flag] = &[
    v("namespace", Some('n')),
    v("kubeconfig", None),
    v("context", None),
    v("cluster", None),
    v("user", None),
    v("request-timeout", None),
    v("v", Some('v')),
];

/// The parsed command line.
#[derive(Debug, Default, Clone)]
pub struct Args {
    /// Positional arguments before `--`.
    pub positional: Vec<String>,
    /// Everything after `--`, if `--` was given.
    pub after_dash: Option<Vec<String>>,
    values: BTreeMap<&'static str, Vec<String>>,
}

impl Args {
    /// The last value of `--long`.
    pub fn value(&self, long: &str) -> Option<&str> {
        self.values
            .get(long)
            .and_then(|v| v.last())
            .map(String::as_str)
    }

    /// Every value of `--long`.
    pub fn values(&self, long: &str) -> Vec<String> {
        self.values.get(long).cloned().unwrap_or_default()
    }

    /// Whether boolean `--long` is set (and not `=false`).
    pub fn flag(&self, long: &str) -> bool {
        self.value(long).is_some_and(|v| v != "false")
    }
}

/// Parses `args` for kubectl command `cmd` (used in `See 'kubectl CMD --help'`).
pub fn parse(cmd: &str, args: &[String], flags: &[Flag]) -> Result<Args, String> {
    let all: Vec<Flag> = flags.iter().chain(GLOBAL.iter()).copied().collect();
    parse_with(args, &all, &|msg| {
        format!("error: {msg}\nSee 'kubectl {cmd} --help' for usage.")
    })
}

/// Parses `args` with pflag's rules for another cobra program (the docker CLI), `usage`
/// wording each error as that program prints it.
pub fn parse_with(
    args: &[String],
    all: &[Flag],
    usage: &dyn Fn(String) -> String,
) -> Result<Args, String> {
    let mut out = Args::default();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if arg == "--" {
            out.after_dash = Some(args[i..].to_vec());
            break;
        }
        if let Some(long) = arg.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            let Some(flag) = all.iter().find(|f| f.long == name) else {
                return Err(usage(format!("unknown flag: --{name}")));
            };
            let value = match (flag.takes, inline) {
                (Takes::Bool, Some(v)) => parse_bool(flag, &v).map_err(&usage)?,
                (Takes::Bool, None) => "true".to_string(),
                (Takes::Value | Takes::Optional(_), Some(v)) => v,
                (Takes::Optional(alone), None) => alone.to_string(),
                (Takes::Value, None) => {
                    let Some(v) = args.get(i) else {
                        return Err(usage(format!("flag needs an argument: --{name}")));
                    };
                    i += 1;
                    v.clone()
                }
            };
            out.values.entry(flag.long).or_default().push(value);
        } else if arg.len() > 1 && arg.starts_with('-') {
            let shorts: Vec<char> = arg[1..].chars().collect();
            let mut j = 0;
            while j < shorts.len() {
                let c = shorts[j];
                let Some(flag) = all.iter().find(|f| f.short == Some(c)) else {
                    return Err(usage(format!("unknown shorthand flag: '{c}' in {arg}")));
                };
                match flag.takes {
                    // `-w=false`: a bool shorthand takes a value only after `=`.
                    Takes::Bool if shorts.get(j + 1) == Some(&'=') => {
                        let v: String = shorts[j + 2..].iter().collect();
                        let value = parse_bool(flag, &v).map_err(&usage)?;
                        out.values.entry(flag.long).or_default().push(value);
                        break;
                    }
                    Takes::Bool => {
                        out.values.entry(flag.long).or_default().push("true".into());
                        j += 1;
                    }
                    Takes::Value | Takes::Optional(_) => {
                        let rest: String = shorts[j + 1..].iter().collect();
                        let value = if !rest.is_empty() {
                            rest.strip_prefix('=').unwrap_or(&rest).to_string()
                        } else if let Some(v) = args.get(i) {
                            i += 1;
                            v.clone()
                        } else {
                            return Err(usage(format!("flag needs an argument: '{c}' in -{c}")));
                        };
                        out.values.entry(flag.long).or_default().push(value);
                        break;
                    }
                }
            }
        } else {
            out.positional.push(arg.clone());
        }
    }
    Ok(out)
}

/// Go's `strconv.ParseBool`, which pflag's bool flags, kubectl's `--dry-run` and Go's flag
/// package (crictl) read booleans with.
pub fn go_parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// A bool flag's value as pflag's `boolValue.Set` reads it (Go's `strconv.ParseBool`),
/// as `true` or `false`; else pflag's error.
fn parse_bool(flag: &Flag, v: &str) -> Result<String, String> {
    match go_parse_bool(v) {
        Some(b) => Ok(b.to_string()),
        None => {
            let name = match flag.short {
                Some(c) => format!("-{c}, --{}", flag.long),
                None => format!("--{}", flag.long),
            };
            let q = netsim_print::go_quote(v);
            Err(format!(
                "invalid argument {q} for \"{name}\" flag: strconv.ParseBool: parsing {q}: invalid syntax"
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_args as s;

    #[test]
    fn parses_like_pflag() {
        let f = [
            v("output", Some('o')),
            b("watch", Some('w')),
            b("stdin", Some('i')),
            b("tty", Some('t')),
        ];
        let a = parse(
            "get",
            &s(&[
                "pods",
                "-o",
                "wide",
                "-nkube-system",
                "-w",
                "-it",
                "--",
                "cat",
            ]),
            &f,
        )
        .unwrap();
        assert_eq!(a.positional, s(&["pods"]));
        assert_eq!(a.value("output"), Some("wide"));
        assert_eq!(a.value("namespace"), Some("kube-system"));
        assert!(a.flag("watch") && a.flag("stdin") && a.flag("tty"));
        assert_eq!(a.after_dash, Some(s(&["cat"])));
        // Bool values as strconv.ParseBool reads them, long or short.
        let a = parse("get", &s(&["-w=false", "--stdin=T"]), &f).unwrap();
        assert!(!a.flag("watch") && a.flag("stdin"));
        assert_eq!(
            parse("get", &s(&["--watch=maybe"]), &f).unwrap_err(),
            "error: invalid argument \"maybe\" for \"-w, --watch\" flag: strconv.ParseBool: parsing \"maybe\": invalid syntax\nSee 'kubectl get --help' for usage."
        );
        let e = parse("run", &s(&["x", "--replicas=2"]), &f).unwrap_err();
        assert_eq!(
            e,
            "error: unknown flag: --replicas\nSee 'kubectl run --help' for usage."
        );
    }

    #[test]
    fn a_flag_with_a_value_for_standing_alone_never_takes_the_next_argument() {
        let f = [o("dry-run", "unchanged"), v("filename", Some('f'))];
        let a = parse("apply", &s(&["--dry-run", "-f", "x.yaml"]), &f).unwrap();
        assert_eq!(a.value("dry-run"), Some("unchanged"));
        assert_eq!(a.value("filename"), Some("x.yaml"));
        let a = parse("apply", &s(&["--dry-run", "server"]), &f).unwrap();
        assert_eq!(a.value("dry-run"), Some("unchanged"));
        assert_eq!(a.positional, s(&["server"]));
        let a = parse("apply", &s(&["--dry-run=server"]), &f).unwrap();
        assert_eq!(a.value("dry-run"), Some("server"));
    }
}
