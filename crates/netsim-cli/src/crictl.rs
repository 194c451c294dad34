//! crictl's command lines. crictl (cri-tools) parses each subcommand's flags with urfave/cli
//! v2 on Go's `flag` package: one or two dashes alike, `-flag=value` or `-flag value`, a bool
//! flag only as `-flag` or `-flag=BOOL`, parsing stops at the first word that is not a flag
//! (or after `--`), and with urfave's short-option handling an unknown `-aq` is tried again
//! as `-a -q`. Errors are what `logrus.Fatal` prints for them (`FATA[0000] ...`).
//!
//! This module owns only the parsing and crictl's client-side filters (label pairs, name
//! patterns, `--latest`/`--last`): it must never read the cluster or print a table.

/// One flag of a subcommand: its names (long first, then the one-letter alias) and whether it
/// takes a value (`Bool` flags do not).
pub(crate) struct Flag {
    /// The names, without dashes.
    pub names: &'static [&'static str],
    /// The value's type.
    pub kind: FlagKind,
}

/// A flag's value type, as urfave/cli declares it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum FlagKind {
    /// `BoolFlag`.
    Bool,
    /// `StringFlag` (and `StringSliceFlag`, which may repeat).
    String,
    /// `IntFlag`.
    Int,
}

/// What a command line said: each flag given (by its first name) with its value (`"true"` or
/// `"false"` for a bool), in order, and the words after the flags.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    /// `(long name, value)` pairs.
    pub flags: Vec<(&'static str, String)>,
    /// The positional arguments.
    pub args: Vec<String>,
}

impl Parsed {
    /// The last value given for `name`.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.flags
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value given for `name` (a `StringSliceFlag`), in order: urfave/cli splits each
    /// one at its commas.
    pub fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.flags
            .iter()
            .filter(move |(n, _)| *n == name)
            .flat_map(|(_, v)| v.split(','))
    }

    /// Whether bool flag `name` is set to true.
    pub fn is_set(&self, name: &str) -> bool {
        self.value(name) == Some("true")
    }
}

/// Parses `args` against `spec` as urfave/cli v2 with short-option handling does; the error
/// is the line crictl prints.
pub(crate) fn parse(spec: &[Flag], args: &[&str]) -> Result<Parsed, String> {
    let lookup = |name: &str| spec.iter().find(|f| f.names.contains(&name));
    let fatal = |message: String| format!("FATA[0000] {message}");
    let mut words: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let mut parsed = Parsed::default();
    let mut k = 0;
    while k < words.len() {
        let word = words[k].clone();
        if word.len() < 2 || !word.starts_with('-') {
            break;
        }
        if word == "--" {
            k += 1;
            break;
        }
        let dashes = if word.starts_with("--") { 2 } else { 1 };
        let name_value = &word[dashes..];
        if name_value.starts_with(['-', '=']) {
            return Err(fatal(format!("bad flag syntax: {word}")));
        }
        let (name, inline) = match name_value.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (name_value, None),
        };
        let Some(flag) = lookup(name) else {
            // urfave's short-option handling: `-aq` is `-a -q` when every letter is a flag.
            let splittable = dashes == 1
                && inline.is_none()
                && name.chars().count() > 1
                && name.chars().all(|c| lookup(&c.to_string()).is_some());
            if splittable {
                let split: Vec<String> = name.chars().map(|c| format!("-{c}")).collect();
                words.splice(k..=k, split);
                continue;
            }
            return Err(fatal(format!("flag provided but not defined: -{name}")));
        };
        let long = flag.names[0];
        let value = match flag.kind {
            FlagKind::Bool => match inline.as_deref() {
                None => "true".to_string(),
                Some(v) => match crate::flags::go_parse_bool(v) {
                    Some(b) => b.to_string(),
                    None => {
                        return Err(fatal(format!(
                            "invalid boolean value {} for -{name}: parse error",
                            netsim_print::go_quote(v)
                        )));
                    }
                },
            },
            FlagKind::String | FlagKind::Int => {
                let value = match inline {
                    Some(v) => v,
                    None => {
                        k += 1;
                        match words.get(k) {
                            Some(v) => v.clone(),
                            None => {
                                return Err(fatal(format!("flag needs an argument: -{name}")));
                            }
                        }
                    }
                };
                if flag.kind == FlagKind::Int && parse_go_int(&value).is_none() {
                    return Err(fatal(format!(
                        "invalid value {} for flag -{name}: parse error",
                        netsim_print::go_quote(&value)
                    )));
                }
                value
            }
        };
        parsed.flags.push((long, value));
        k += 1;
    }
    parsed.args = words[k..].to_vec();
    Ok(parsed)
}

/// Go's `strconv.ParseInt(s, 0, 64)`: an optional sign, then decimal, `0x` hex, `0o`/`0`
/// octal or `0b` binary digits, with `_` between digits allowed only with a base prefix.
pub(crate) fn parse_go_int(s: &str) -> Option<i64> {
    let (negative, body) = match s.strip_prefix(['+', '-']) {
        Some(rest) => (s.starts_with('-'), rest),
        None => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits, prefixed) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d.to_string(), true)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d.to_string(), true)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d.to_string(), true)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, lower[1..].to_string(), true)
    } else {
        (10, lower.clone(), false)
    };
    if digits.is_empty() || (!prefixed && digits.contains('_')) {
        return None;
    }
    if digits.starts_with('_') && radix == 10 || digits.ends_with('_') || digits.contains("__") {
        return None;
    }
    let digits = digits.replace('_', "");
    let magnitude = i128::from_str_radix(&digits, radix).ok()?;
    let value = if negative { -magnitude } else { magnitude };
    i64::try_from(value).ok()
}

/// `crictl ps`'s flags (cri-tools v1.28's `listContainersCommand`; `--namespace` and the
/// NAMESPACE column came in v1.32).
pub(crate) const PS_FLAGS: &[Flag] = &[
    flag(&["verbose", "v"], FlagKind::Bool),
    flag(&["id"], FlagKind::String),
    flag(&["name"], FlagKind::String),
    flag(&["pod", "p"], FlagKind::String),
    flag(&["image"], FlagKind::String),
    flag(&["state", "s"], FlagKind::String),
    flag(&["label"], FlagKind::String),
    flag(&["quiet", "q"], FlagKind::Bool),
    flag(&["output", "o"], FlagKind::String),
    flag(&["all", "a"], FlagKind::Bool),
    flag(&["latest", "l"], FlagKind::Bool),
    flag(&["last", "n"], FlagKind::Int),
    flag(&["no-trunc"], FlagKind::Bool),
    flag(&["resolve-image-path", "r"], FlagKind::Bool),
];

/// `crictl pods`'s flags (cri-tools v1.28's `listPodCommand`).
pub(crate) const PODS_FLAGS: &[Flag] = &[
    flag(&["id"], FlagKind::String),
    flag(&["name"], FlagKind::String),
    flag(&["namespace"], FlagKind::String),
    flag(&["state", "s"], FlagKind::String),
    flag(&["label"], FlagKind::String),
    flag(&["verbose", "v"], FlagKind::Bool),
    flag(&["quiet", "q"], FlagKind::Bool),
    flag(&["output", "o"], FlagKind::String),
    flag(&["latest", "l"], FlagKind::Bool),
    flag(&["last", "n"], FlagKind::Int),
    flag(&["no-trunc"], FlagKind::Bool),
];

/// The `--label` pairs as cri-tools' `parseLabelStringSlice` reads them (exactly one `=` in
/// each), or the line crictl prints for the first that is not one.
pub(crate) fn labels(parsed: &Parsed) -> Result<Vec<(&str, &str)>, String> {
    parsed
        .values("label")
        .map(|label| {
            label
                .split_once('=')
                .filter(|(_, v)| !v.contains('='))
                .ok_or_else(|| format!("FATA[0000] incorrectly specified label: {label}"))
        })
        .collect()
}

/// How many of the rows, newest first, `--latest` and `--last N` keep (`getContainersList`,
/// `getSandboxesList`): N when it is positive, else one for `--latest`, else all.
pub(crate) fn kept(parsed: &Parsed, rows: usize) -> usize {
    let last = parsed.value("last").and_then(parse_go_int).unwrap_or(0);
    let n = if last > 0 {
        usize::try_from(last).unwrap_or(usize::MAX)
    } else if parsed.is_set("latest") {
        1
    } else {
        rows
    };
    n.min(rows)
}

/// A Go regular expression flag as crictl's `matchesRegex` applies it: an empty or missing
/// pattern matches everything, a pattern that does not compile matches nothing, and the
/// match is unanchored.
pub(crate) struct Pattern(Option<Option<regex::Regex>>);

impl Pattern {
    /// Flag `name`'s pattern.
    pub fn of(parsed: &Parsed, name: &str) -> Pattern {
        Pattern(
            parsed
                .value(name)
                .filter(|p| !p.is_empty())
                .map(|p| regex::Regex::new(p).ok()),
        )
    }

    /// Whether `text` matches.
    pub fn matches(&self, text: &str) -> bool {
        match &self.0 {
            None => true,
            Some(re) => re.as_ref().is_some_and(|re| re.is_match(text)),
        }
    }
}

/// Whether `-o` asks for the table (`Ok(true)`) or for JSON or YAML (`Ok(false)`), or the
/// line crictl prints for another format, the listing (`what`) naming itself first.
pub(crate) fn output_is_table(parsed: &Parsed, what: &str) -> Result<bool, String> {
    match parsed.value("output") {
        None | Some("table") => Ok(true),
        Some("json" | "yaml") => Ok(false),
        Some(other) => Err(format!(
            "FATA[0000] {what}: unsupported output format {}",
            netsim_print::go_quote(other)
        )),
    }
}

/// What Go's `log.Fatalf` prints (cri-tools calls it for a bad `--state`): the standard
/// logger's date and time, then the message.
pub(crate) fn log_fatal(now: netsim_model::jiff::Timestamp, message: &str) -> String {
    format!("{} {message}", now.strftime("%Y/%m/%d %H:%M:%S"))
}

const fn flag(names: &'static [&'static str], kind: FlagKind) -> Flag {
    Flag { names, kind }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ps(args: &[&str]) -> Result<Vec<(&'static str, String)>, String> {
        parse(PS_FLAGS, args).map(|p| p.flags)
    }

    #[test]
    fn flags_take_one_or_two_dashes_and_values_inline_or_after() {
        let want = vec![("pod", "abc".to_string())];
        for args in [
            &["-p", "abc"][..],
            &["-p=abc"],
            &["--p=abc"],
            &["-pod", "abc"],
            &["--pod=abc"],
        ] {
            assert_eq!(ps(args), Ok(want.clone()), "{args:?}");
        }
        // A value may start with a dash.
        assert_eq!(ps(&["--name", "-x"]), Ok(vec![("name", "-x".into())]));
    }

    #[test]
    fn short_bools_combine_and_a_value_flag_may_end_the_group() {
        assert_eq!(
            ps(&["-aq"]),
            Ok(vec![("all", "true".into()), ("quiet", "true".into())])
        );
        assert_eq!(
            ps(&["-qp", "ab"]),
            Ok(vec![("quiet", "true".into()), ("pod", "ab".into())])
        );
        assert_eq!(
            ps(&["-ax"]),
            Err("FATA[0000] flag provided but not defined: -ax".into())
        );
    }

    #[test]
    fn errors_are_go_flag_errors_as_logrus_prints_them() {
        assert_eq!(
            ps(&["--bogus"]),
            Err("FATA[0000] flag provided but not defined: -bogus".into())
        );
        assert_eq!(
            ps(&["--state"]),
            Err("FATA[0000] flag needs an argument: -state".into())
        );
        assert_eq!(
            ps(&["-q=maybe"]),
            Err("FATA[0000] invalid boolean value \"maybe\" for -q: parse error".into())
        );
        assert_eq!(
            ps(&["-n", "three"]),
            Err("FATA[0000] invalid value \"three\" for flag -n: parse error".into())
        );
        assert_eq!(
            ps(&["---all"]),
            Err("FATA[0000] bad flag syntax: ---all".into())
        );
        assert_eq!(ps(&["-q=false"]), Ok(vec![("quiet", "false".into())]));
    }

    #[test]
    fn parsing_stops_at_the_first_word_that_is_not_a_flag() {
        let parsed = parse(PS_FLAGS, &["-a", "web", "-q"]).expect("parses");
        assert_eq!(parsed.flags, vec![("all", "true".to_string())]);
        assert_eq!(parsed.args, vec!["web".to_string(), "-q".to_string()]);
        let parsed = parse(PS_FLAGS, &["--", "-q"]).expect("parses");
        assert!(parsed.flags.is_empty());
        assert_eq!(parsed.args, vec!["-q".to_string()]);
    }

    #[test]
    fn a_slice_flag_repeats_and_splits_at_commas() {
        let parsed = parse(PS_FLAGS, &["--label", "a=1,b=2", "--label=c=3"]).expect("parses");
        let labels: Vec<&str> = parsed.values("label").collect();
        assert_eq!(labels, ["a=1", "b=2", "c=3"]);
        // v1.28 has no --namespace (it came with v1.32).
        assert_eq!(
            ps(&["--namespace", "x"]),
            Err("FATA[0000] flag provided but not defined: -namespace".into())
        );
    }

    #[test]
    fn client_side_filters_read_as_crictl_reads_them() {
        let parsed = parse(PODS_FLAGS, &["--label", "a=1", "-n", "2"]).expect("parses");
        assert_eq!(labels(&parsed), Ok(vec![("a", "1")]));
        assert_eq!(kept(&parsed, 5), 2);
        assert_eq!(kept(&parsed, 1), 1);
        let parsed = parse(PODS_FLAGS, &["-l", "--label=a=b=c"]).expect("parses");
        assert_eq!(
            labels(&parsed),
            Err("FATA[0000] incorrectly specified label: a=b=c".into())
        );
        assert_eq!(kept(&parsed, 5), 1);
        // --last wins over --latest; a negative --last keeps all.
        let parsed = parse(PODS_FLAGS, &["-l", "-n", "3"]).expect("parses");
        assert_eq!(kept(&parsed, 5), 3);
        let parsed = parse(PODS_FLAGS, &["-n", "-1"]).expect("parses");
        assert_eq!(kept(&parsed, 5), 5);
        let parsed = parse(PODS_FLAGS, &["--name", "^web", "--namespace", "("]).expect("parses");
        assert!(Pattern::of(&parsed, "name").matches("web-1"));
        assert!(!Pattern::of(&parsed, "name").matches("a-web"));
        assert!(!Pattern::of(&parsed, "namespace").matches("default"));
        assert!(Pattern::of(&parsed, "id").matches("anything"));
        let at: netsim_model::jiff::Timestamp = "2024-01-02T03:04:05Z".parse().expect("instant");
        assert_eq!(log_fatal(at, "bad"), "2024/01/02 03:04:05 bad");
    }

    #[test]
    fn ints_are_go_ints() {
        assert_eq!(parse_go_int("10"), Some(10));
        assert_eq!(parse_go_int("0x1f"), Some(31));
        assert_eq!(parse_go_int("010"), Some(8));
        assert_eq!(parse_go_int("-3"), Some(-3));
        assert_eq!(parse_go_int("1_000"), None);
        assert_eq!(parse_go_int("0x_1"), Some(1));
        assert_eq!(parse_go_int(""), None);
        assert_eq!(parse_go_int("9223372036854775808"), None);
    }
}
