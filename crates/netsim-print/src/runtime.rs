//! What `docker ps`, `docker inspect` and `crictl ps`/`pods`/`inspect` print for a node's
//! containers: docker's Kubernetes naming (`k8s_POD_…`, `k8s_<container>_…`), its tabwriter
//! layout and go-units human durations, crictl's 13-character ids, and the two inspect
//! documents with the field set and key order of the real tools.
//!
//! `docker inspect` is Docker Engine 24.0 (API 1.43) behind cri-dockerd: the daemon encodes
//! moby's `ContainerJSON` (`ContainerJSONBase`, then `Mounts`, `Config`, `NetworkSettings`) in
//! Go struct field order without HTML escaping, and the CLI re-indents the array with four
//! spaces (`json.Indent`). `crictl inspect` is crictl 1.28 against containerd 1.7: `status` is
//! the CRI `ContainerStatus` written by `marshalMapInOrder` (top-level keys in the cri-api v0.28
//! struct order, nested objects re-marshalled from Go maps, so sorted, int64s as strings as
//! jsonpb writes them), `info` is containerd's `ContainerInfo` as `encoding/json` writes it
//! (struct order), and the whole is indented with two spaces.
//!
//! Values the records do not hold are what a kubeadm node (Ubuntu 22.04, cgroup v2, systemd
//! cgroup driver, AppArmor) shows, derived from the container id where a real runtime would
//! have drawn random ids, so that the same state prints the same bytes. What is simplified:
//! an image's own configuration is reduced to the `ENTRYPOINT`/`CMD` netsim knows and `PATH`
//! (no image labels, `ExposedPorts`, `StopSignal`, `USER` or further `ENV`); the kubelet's
//! Service environment variables are not listed; image layers are one directory per image.
//!
//! This module formats runtime records; it must never decide what runs.

use crate::tabwriter::TabWriter;
use k8s_openapi::api::core::v1::{Container, Node, Pod, Volume};
use netsim_model::runtime::{ContainerRec, Sandbox};
use std::collections::BTreeMap;

/// go-units `HumanDuration` (docker's and crictl's `CREATED`/`STATUS` wording).
pub fn units_human_duration(seconds: i64) -> String {
    let s = seconds.max(0);
    let minutes = s / 60;
    let hours = minutes / 60;
    match () {
        _ if s < 1 => "Less than a second".into(),
        _ if s == 1 => "1 second".into(),
        _ if s < 60 => format!("{s} seconds"),
        _ if minutes == 1 => "About a minute".into(),
        _ if minutes < 60 => format!("{minutes} minutes"),
        _ if hours == 1 => "About an hour".into(),
        _ if hours < 48 => format!("{hours} hours"),
        _ if hours < 24 * 7 * 2 => format!("{} days", hours / 24),
        _ if hours < 24 * 30 * 2 => format!("{} weeks", hours / 24 / 7),
        _ if hours < 24 * 365 * 2 => format!("{} months", hours / 24 / 30),
        _ => format!("{} years", hours / 24 / 365),
    }
}

/// The docker container name cri-dockerd (and dockershim) gives a pod's container.
pub fn docker_name(sb: &Sandbox, c: &ContainerRec) -> String {
    let (ns, pod) = sb.pod.split_once('/').unwrap_or(("", &sb.pod));
    format!("k8s_{}_{pod}_{ns}_{}_0", c.name, sb.uid)
}

/// The first `n` characters of an id (the whole id when it is shorter).
fn short(id: &str, n: usize) -> &str {
    id.get(..n).unwrap_or(id)
}

/// The image reference docker shows: the pause image by name; app containers, which the kubelet
/// creates from the image id, by that id: its first 12 hex digits, or `sha256:` and all of it
/// with `--no-trunc`.
fn docker_image(c: &ContainerRec, image_id: &dyn Fn(&str) -> String, no_trunc: bool) -> String {
    if c.name == "POD" {
        c.image.clone()
    } else if no_trunc {
        format!("sha256:{}", image_id(&c.image))
    } else {
        short(&image_id(&c.image), 12).to_string()
    }
}

/// One `docker ps` row's fields, as the docker CLI's `ContainerContext` gives them to the
/// table and to `--format` templates: (field, value), in [`DOCKER_PS_HEADERS`]' order.
fn docker_ps_fields(
    sb: &Sandbox,
    c: &ContainerRec,
    now_ms: i64,
    image_id: &dyn Fn(&str) -> String,
    no_trunc: bool,
) -> [(&'static str, String); 9] {
    let age = units_human_duration((now_ms - c.created_ms) / 1000);
    // The CLI's `Ellipsis(command, 20)`, then `strconv.Quote`.
    let command = if no_trunc || c.command.chars().count() <= 20 {
        crate::common::go_quote(&c.command)
    } else {
        crate::common::go_quote(&format!(
            "{}…",
            c.command.chars().take(19).collect::<String>()
        ))
    };
    let id = if no_trunc { &c.id } else { short(&c.id, 12) };
    // Go's `time.Time.String()` of the creation second, on a node whose zone is UTC.
    let created = netsim_model::jiff::Timestamp::from_second(c.created_ms.div_euclid(1000))
        .map(|t| t.strftime("%Y-%m-%d %H:%M:%S +0000 UTC").to_string())
        .unwrap_or_default();
    [
        ("ID", id.to_string()),
        ("Image", docker_image(c, image_id, no_trunc)),
        ("Command", command),
        ("CreatedAt", created),
        ("RunningFor", format!("{age} ago")),
        ("Ports", String::new()),
        ("State", "running".into()),
        ("Status", format!("Up {age}")),
        ("Names", docker_name(sb, c)),
    ]
}

/// The docker CLI's default `docker ps` table format.
const DOCKER_PS_TABLE: &str = "table {{.ID}}\\t{{.Image}}\\t{{.Command}}\\t{{.RunningFor}}\\t{{.Status}}\\t{{.Ports}}\\t{{.Names}}";

/// `docker ps`: `rows` in the order given (the daemon lists the newest first); ids cut to 12
/// characters and commands to 20 (`…` last) unless `no_trunc`.
pub fn docker_ps(
    rows: &[(&Sandbox, &ContainerRec)],
    now_ms: i64,
    image_id: &dyn Fn(&str) -> String,
    no_trunc: bool,
) -> String {
    docker_ps_format(DOCKER_PS_TABLE, rows, now_ms, image_id, no_trunc).unwrap_or_default()
}

/// Why `docker ps --format` printed nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PsFormatError {
    /// What the docker CLI prints for the template.
    Template(String),
    /// The template uses what netsim does not model (`.Size`, `.Labels`, `.Label "k"`,
    /// `.Mounts`, `.Networks`, `.LocalVolumes`, functions, `range`, `if`…).
    Unsupported,
}

/// Fields of the CLI's `ContainerContext` netsim does not fill.
const DOCKER_PS_UNMODELLED: &[&str] = &[
    "Size",
    "Labels",
    "Label",
    "Mounts",
    "LocalVolumes",
    "Networks",
    "Platform",
];

/// `docker ps --format TEMPLATE`: with a `table` prefix, a header row (each field's column
/// name) and the rows aligned by the CLI's tabwriter; without, the template once per row,
/// each followed by a newline. `\t` and `\n` written out in the template are a tab and a
/// newline, as the CLI replaces them. Templates of `.Field` and `json .Field` actions over the
/// fields netsim fills run; an unknown field fails as Go's template does.
pub fn docker_ps_format(
    format: &str,
    rows: &[(&Sandbox, &ContainerRec)],
    now_ms: i64,
    image_id: &dyn Fn(&str) -> String,
    no_trunc: bool,
) -> Result<String, PsFormatError> {
    let table = format.starts_with("table");
    let body = if table {
        &format["table".len()..]
    } else {
        format
    };
    let body = body
        .trim_matches(' ')
        .replace("\\t", "\t")
        .replace("\\n", "\n");
    let pieces = parse_template(&body, "").map_err(|_| PsFormatError::Unsupported)?;
    for piece in &pieces {
        let Piece::Action(a) = piece else { continue };
        let mut parts = a.path.split('.');
        let field = parts.next().unwrap_or_default();
        if field.is_empty() || !field.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(PsFormatError::Unsupported);
        }
        if DOCKER_PS_UNMODELLED.contains(&field) {
            return Err(PsFormatError::Unsupported);
        }
        let known = DOCKER_PS_HEADERS.iter().any(|(f, _)| *f == field);
        let (fail_at, ty) = if !known {
            (field, "*formatter.ContainerContext")
        } else if let Some(next) = parts.next() {
            (next, "string")
        } else {
            continue;
        };
        // Only a template with rows to run fails; the header of an empty table is a map.
        if rows.is_empty() {
            continue;
        }
        return Err(PsFormatError::Template(format!(
            "template: :1:{}: executing \"\" at <.{}>: can't evaluate field {fail_at} in type {ty}",
            a.pos, a.path
        )));
    }
    let run = |values: &[(&str, &str)]| -> String {
        let mut out = String::new();
        for piece in &pieces {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Action(a) => {
                    let v = values
                        .iter()
                        .find(|(f, _)| *f == a.path)
                        .map_or("<no value>", |(_, v)| *v);
                    if a.json {
                        out.push_str(&GoValue::from(v).to_json(None, true));
                    } else {
                        out.push_str(v);
                    }
                }
            }
        }
        out
    };
    let mut lines = Vec::new();
    if table {
        lines.push(run(DOCKER_PS_HEADERS));
    }
    for (sb, c) in rows {
        let fields = docker_ps_fields(sb, c, now_ms, image_id, no_trunc);
        let values: Vec<(&str, &str)> = fields.iter().map(|(f, v)| (*f, v.as_str())).collect();
        lines.push(run(&values));
    }
    if !table {
        return Ok(lines.iter().map(|l| format!("{l}\n")).collect());
    }
    let mut w = TabWriter::new(10, 3);
    for line in lines {
        w.write_str(&line);
        w.write_str("\n");
    }
    Ok(w.finish())
}

/// The fields netsim fills, with the column name the CLI's table header gives each.
const DOCKER_PS_HEADERS: &[(&str, &str)] = &[
    ("ID", "CONTAINER ID"),
    ("Image", "IMAGE"),
    ("Command", "COMMAND"),
    ("CreatedAt", "CREATED AT"),
    ("RunningFor", "CREATED"),
    ("Ports", "PORTS"),
    ("State", "STATE"),
    ("Status", "STATUS"),
    ("Names", "NAMES"),
];

/// `crictl ps`: `rows` in the order given (crictl lists the newest first), ids cut to 13
/// characters unless `no_trunc`.
pub fn crictl_ps(
    rows: &[(&Sandbox, &ContainerRec)],
    now_ms: i64,
    image_id: &dyn Fn(&str) -> String,
    no_trunc: bool,
) -> String {
    let mut w = TabWriter::new(20, 3);
    w.write_str("CONTAINER\tIMAGE\tCREATED\tSTATE\tNAME\tATTEMPT\tPOD ID\tPOD\n");
    for (sb, c) in rows {
        let age = units_human_duration((now_ms - c.created_ms) / 1000);
        let pod = sb.pod.split_once('/').map(|(_, p)| p).unwrap_or(&sb.pod);
        // The runtime gives the image by its id, `sha256:HEX`: cut to 13 characters (crictl's
        // truncatedIDLen) with the container's and the sandbox's ids, or whole with
        // `--no-trunc`.
        let image = image_id(&c.image);
        let (id, image, pod_id) = if no_trunc {
            (c.id.clone(), format!("sha256:{image}"), sb.pause.id.clone())
        } else {
            (
                short(&c.id, 13).to_string(),
                short(&image, 13).to_string(),
                short(&sb.pause.id, 13).to_string(),
            )
        };
        w.write_str(&format!(
            "{id}\t{image}\t{age} ago\tRunning\t{}\t0\t{pod_id}\t{pod}\n",
            c.name
        ));
    }
    w.finish()
}

/// `crictl pods`: `rows` in the order given (crictl lists the newest first), ids cut to 13
/// characters unless `no_trunc`.
pub fn crictl_pods(rows: &[&Sandbox], now_ms: i64, no_trunc: bool) -> String {
    let mut w = TabWriter::new(20, 3);
    w.write_str("POD ID\tCREATED\tSTATE\tNAME\tNAMESPACE\tATTEMPT\tRUNTIME\n");
    for sb in rows {
        let age = units_human_duration((now_ms - sb.pause.created_ms) / 1000);
        let (ns, pod) = sb.pod.split_once('/').unwrap_or(("", &sb.pod));
        let id = if no_trunc {
            &sb.pause.id
        } else {
            short(&sb.pause.id, 13)
        };
        w.write_str(&format!(
            "{id}\t{age} ago\tReady\t{pod}\t{ns}\t0\t(default)\n"
        ));
    }
    w.finish()
}

// ---------------------------------------------------------------------------------------------
// Go-encoded JSON values
// ---------------------------------------------------------------------------------------------

/// Which Go type a `null` stands for: Go templates print a nil slice as `[]`, a nil map as
/// `map[]`, a nil pointer as `<nil>`, and a `null` decoded into `interface{}` as `<nil>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nil {
    /// A nil slice.
    Slice,
    /// A nil map.
    Map,
    /// A nil pointer.
    Ptr,
    /// A JSON `null` decoded into an `interface{}`.
    Iface,
}

/// One field of a Go struct: its JSON name, its Go field name (which templates over the typed
/// struct use; `Id` is field `ID`), and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The key `encoding/json` writes.
    pub name: &'static str,
    /// The Go field name.
    pub go_name: &'static str,
    /// The value.
    pub value: GoValue,
}

/// A value as Go's `encoding/json` writes it: structs keep their field order, maps are written
/// with sorted keys. What `docker inspect` and `crictl inspect` print, and what their
/// `--format`/`--template` Go templates walk.
#[derive(Debug, Clone, PartialEq)]
pub enum GoValue {
    /// `null`.
    Nil(Nil),
    /// `true`/`false`.
    Bool(bool),
    /// A number.
    Int(i64),
    /// A string.
    Str(String),
    /// An array.
    List(Vec<GoValue>),
    /// A struct, in field order.
    Struct(Vec<Field>),
    /// A map (written with sorted keys).
    Map(BTreeMap<String, GoValue>),
}

impl From<&str> for GoValue {
    fn from(s: &str) -> GoValue {
        GoValue::Str(s.to_string())
    }
}

impl From<String> for GoValue {
    fn from(s: String) -> GoValue {
        GoValue::Str(s)
    }
}

impl From<&String> for GoValue {
    fn from(s: &String) -> GoValue {
        GoValue::Str(s.clone())
    }
}

impl From<bool> for GoValue {
    fn from(b: bool) -> GoValue {
        GoValue::Bool(b)
    }
}

impl From<i64> for GoValue {
    fn from(n: i64) -> GoValue {
        GoValue::Int(n)
    }
}

impl From<u32> for GoValue {
    fn from(n: u32) -> GoValue {
        GoValue::Int(i64::from(n))
    }
}

impl From<i32> for GoValue {
    fn from(n: i32) -> GoValue {
        GoValue::Int(i64::from(n))
    }
}

impl From<Vec<GoValue>> for GoValue {
    fn from(v: Vec<GoValue>) -> GoValue {
        GoValue::List(v)
    }
}

impl From<BTreeMap<String, String>> for GoValue {
    fn from(m: BTreeMap<String, String>) -> GoValue {
        GoValue::Map(m.into_iter().map(|(k, v)| (k, GoValue::Str(v))).collect())
    }
}

impl GoValue {
    /// A list of strings.
    fn strs<S: AsRef<str>>(items: &[S]) -> GoValue {
        GoValue::List(items.iter().map(|s| GoValue::from(s.as_ref())).collect())
    }

    /// A string slice, `null` when nil.
    fn opt_strs<S: AsRef<str>>(items: Option<&[S]>) -> GoValue {
        items.map_or(GoValue::Nil(Nil::Slice), GoValue::strs)
    }

    /// An empty map (`{}`).
    fn empty_map() -> GoValue {
        GoValue::Map(BTreeMap::new())
    }

    /// The value as `json.Marshal` (`indent` None) or `json.Indent(…, "", indent)` writes it;
    /// `escape_html` writes `<`, `>`, `&` as `\u003c`… (Go's default; docker's daemon turns it
    /// off).
    pub fn to_json(&self, indent: Option<&str>, escape_html: bool) -> String {
        let mut out = String::new();
        self.write_json(&mut out, indent, 0, escape_html);
        out
    }

    fn write_json(&self, out: &mut String, indent: Option<&str>, depth: usize, html: bool) {
        let newline = |out: &mut String, depth: usize| {
            if let Some(ind) = indent {
                out.push('\n');
                for _ in 0..depth {
                    out.push_str(ind);
                }
            }
        };
        let colon = if indent.is_some() { ": " } else { ":" };
        match self {
            GoValue::Nil(_) => out.push_str("null"),
            GoValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            GoValue::Int(n) => out.push_str(&n.to_string()),
            GoValue::Str(s) => write_json_string(out, s, html),
            GoValue::List(items) if items.is_empty() => out.push_str("[]"),
            GoValue::List(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    newline(out, depth + 1);
                    item.write_json(out, indent, depth + 1, html);
                }
                newline(out, depth);
                out.push(']');
            }
            GoValue::Struct(fields) if fields.is_empty() => out.push_str("{}"),
            GoValue::Struct(fields) => {
                out.push('{');
                for (i, f) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    newline(out, depth + 1);
                    write_json_string(out, f.name, html);
                    out.push_str(colon);
                    f.value.write_json(out, indent, depth + 1, html);
                }
                newline(out, depth);
                out.push('}');
            }
            GoValue::Map(m) if m.is_empty() => out.push_str("{}"),
            GoValue::Map(m) => {
                out.push('{');
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    newline(out, depth + 1);
                    write_json_string(out, k, html);
                    out.push_str(colon);
                    v.write_json(out, indent, depth + 1, html);
                }
                newline(out, depth);
                out.push('}');
            }
        }
    }

    /// The value decoded back into Go's `interface{}` (what crictl's templates and docker's
    /// raw template fallback walk): structs become maps, so their keys sort; every `null` is a
    /// nil interface.
    pub fn raw(&self) -> GoValue {
        match self {
            GoValue::Nil(_) => GoValue::Nil(Nil::Iface),
            GoValue::List(items) => GoValue::List(items.iter().map(GoValue::raw).collect()),
            GoValue::Struct(fields) => GoValue::Map(
                fields
                    .iter()
                    .map(|f| (f.name.to_string(), f.value.raw()))
                    .collect(),
            ),
            GoValue::Map(m) => GoValue::Map(m.iter().map(|(k, v)| (k.clone(), v.raw())).collect()),
            other => other.clone(),
        }
    }

    /// Go's `fmt.Print` of the value inside a template (`map[k:v]`, `[a b]`, `{a b}`).
    fn go_print(&self) -> String {
        match self {
            GoValue::Nil(Nil::Slice) => "[]".into(),
            GoValue::Nil(Nil::Map) => "map[]".into(),
            GoValue::Nil(Nil::Ptr | Nil::Iface) => "<nil>".into(),
            GoValue::Bool(b) => b.to_string(),
            GoValue::Int(n) => n.to_string(),
            GoValue::Str(s) => s.clone(),
            GoValue::List(items) => format!(
                "[{}]",
                items
                    .iter()
                    .map(GoValue::go_print)
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            GoValue::Struct(fields) => format!(
                "{{{}}}",
                fields
                    .iter()
                    .map(|f| f.value.go_print())
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            GoValue::Map(m) => format!(
                "map[{}]",
                m.iter()
                    .map(|(k, v)| format!("{k}:{}", v.go_print()))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        }
    }

    /// The value at `key`: a struct's field by its Go name (`typed`) or JSON name, or a map's
    /// entry.
    fn child(&self, key: &str, typed: bool) -> Option<&GoValue> {
        match self {
            GoValue::Struct(fields) => fields
                .iter()
                .find(|f| {
                    if typed {
                        f.go_name == key
                    } else {
                        f.name == key
                    }
                })
                .map(|f| &f.value),
            GoValue::Map(m) => m.get(key),
            _ => None,
        }
    }
}

/// Go's `encoding/json` string encoding.
fn write_json_string(out: &mut String, s: &str, html: bool) {
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' if html => out.push_str(&format!("\\u{:04x}", ch as u32)),
            '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", ch as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Builds a Go struct field by field.
struct Obj(Vec<Field>);

impl Obj {
    fn new() -> Obj {
        Obj(Vec::new())
    }

    /// A field whose Go name is its JSON name.
    fn f(self, name: &'static str, value: impl Into<GoValue>) -> Obj {
        self.g(name, name, value)
    }

    /// A field whose Go name differs from its JSON name (`json:"Id"` on field `ID`).
    fn g(mut self, name: &'static str, go_name: &'static str, value: impl Into<GoValue>) -> Obj {
        self.0.push(Field {
            name,
            go_name,
            value: value.into(),
        });
        self
    }

    /// An `omitempty` field: written only when there is a value.
    fn omit(self, name: &'static str, value: Option<impl Into<GoValue>>) -> Obj {
        match value {
            Some(v) => self.f(name, v),
            None => self,
        }
    }

    fn done(self) -> GoValue {
        GoValue::Struct(self.0)
    }
}

/// `docker inspect` without `--format`: the inspected objects as an array, indented with four
/// spaces, HTML characters left alone (the daemon encodes with `SetEscapeHTML(false)` and the
/// CLI only re-indents).
pub fn docker_inspect_json(values: &[GoValue]) -> String {
    if values.is_empty() {
        return "[]\n".to_string();
    }
    let mut text = GoValue::List(values.to_vec()).to_json(Some("    "), false);
    text.push('\n');
    text
}

/// `crictl inspect` without `--output go-template`: `{"status": …, "info": …}` indented with
/// two spaces (Go's `json.Indent`), HTML characters escaped as `json.Marshal` does; ends with
/// a newline (`fmt.Println`).
pub fn crictl_inspect_json(value: &GoValue) -> String {
    let mut text = value.to_json(Some("  "), true);
    text.push('\n');
    text
}

// ---------------------------------------------------------------------------------------------
// Go templates: `docker inspect --format`, `crictl inspect --output go-template --template`
// ---------------------------------------------------------------------------------------------

/// How a template reaches fields.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Walk {
    /// docker's first attempt, over the typed Go struct: Go field names; a missing struct field
    /// fails the attempt.
    Typed,
    /// docker's fallback over the raw JSON decoded into maps with `missingkey=error`.
    RawStrict,
    /// crictl's, over the raw JSON decoded into maps with the default `missingkey`: a missing key
    /// is `<no value>`.
    RawLax,
}

/// One `{{ … }}` action: an optional `json` call on a field path.
struct Action<'t> {
    json: bool,
    /// The path without its leading dot (`State.Pid`; empty for `.`).
    path: &'t str,
    /// The byte offset Go's parser reports for the field node: its last-but-chained token (the
    /// second field of a chain, else the first).
    pos: usize,
}

/// A template split into literal text and actions.
enum Piece<'t> {
    Text(&'t str),
    Action(Action<'t>),
}

fn parse_template<'t>(template: &'t str, name: &str) -> Result<Vec<Piece<'t>>, String> {
    let mut pieces = Vec::new();
    let mut offset = 0;
    while let Some(start) = template[offset..].find("{{") {
        let start = offset + start;
        pieces.push(Piece::Text(&template[offset..start]));
        let inner_start = start + 2;
        let end = template[inner_start..]
            .find("}}")
            .map(|e| inner_start + e)
            .ok_or_else(|| format!("template: {name}:1: unclosed action"))?;
        let inner = &template[inner_start..end];
        let lead = inner.len() - inner.trim_start().len();
        let mut action = inner.trim();
        let mut at = inner_start + lead;
        let json = match action.strip_prefix("json ") {
            Some(rest) => {
                let rest_lead = rest.len() - rest.trim_start().len();
                at += 5 + rest_lead;
                action = rest.trim();
                true
            }
            None => false,
        };
        let Some(path) = action.strip_prefix('.') else {
            let word = action.split_whitespace().next().unwrap_or("");
            return Err(format!("template: {name}:1: function {word:?} not defined"));
        };
        let pos = match path.find('.') {
            Some(second) => at + 1 + second,
            None => at,
        };
        pieces.push(Piece::Action(Action { json, path, pos }));
        offset = end + 2;
    }
    pieces.push(Piece::Text(&template[offset..]));
    Ok(pieces)
}

/// Why a walk stopped.
enum WalkError {
    /// The typed attempt failed; docker retries over the raw JSON.
    Retry,
    /// An execution error, with Go's text after `executing "…" at <…>: `.
    Exec(String),
}

fn execute(
    pieces: &[Piece],
    value: &GoValue,
    walk: Walk,
    name: &str,
    html: bool,
) -> Result<String, String> {
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Action(a) => match lookup(value, a.path, walk) {
                Ok(v) => match (a.json, v) {
                    (true, Some(v)) => out.push_str(&v.to_json(None, html)),
                    (true, None) => out.push_str("null"),
                    (false, Some(v)) => out.push_str(&v.go_print()),
                    (false, None) => out.push_str("<no value>"),
                },
                Err(WalkError::Retry) => return Err(String::new()),
                Err(WalkError::Exec(msg)) => {
                    return Err(format!(
                        "template: {name}:1:{}: executing {name:?} at <.{}>: {msg}",
                        a.pos, a.path
                    ));
                }
            },
        }
    }
    Ok(out)
}

/// The value at a field path; `None` is Go's "no value" (a missing key under the default
/// `missingkey`).
fn lookup<'v>(
    value: &'v GoValue,
    path: &str,
    walk: Walk,
) -> Result<Option<&'v GoValue>, WalkError> {
    if path.is_empty() {
        return Ok(Some(value));
    }
    let fields: Vec<&str> = path.split('.').collect();
    let mut v = value;
    for (i, field) in fields.iter().enumerate() {
        let last = i + 1 == fields.len();
        match (v, v.child(field, walk == Walk::Typed)) {
            (_, Some(next)) => v = next,
            (GoValue::Map(_), None) => match walk {
                Walk::RawStrict => {
                    return Err(WalkError::Exec(format!(
                        "map has no entry for key {field:?}"
                    )));
                }
                Walk::Typed if !last => return Err(WalkError::Retry),
                Walk::RawLax if !last => {
                    let next = fields.get(i + 1).copied().unwrap_or("");
                    return Err(WalkError::Exec(format!(
                        "nil pointer evaluating interface {{}}.{next}"
                    )));
                }
                _ => return Ok(None),
            },
            (_, None) if walk == Walk::Typed => return Err(WalkError::Retry),
            (other, None) => {
                let ty = match other {
                    GoValue::Str(_) => "string",
                    GoValue::Bool(_) => "bool",
                    GoValue::Int(_) => "json.Number",
                    GoValue::List(_) => "[]interface {}",
                    _ => "interface {}",
                };
                return Err(WalkError::Exec(format!(
                    "can't evaluate field {field} in type {ty}"
                )));
            }
        }
    }
    Ok(Some(v))
}

/// `docker inspect --format TEMPLATE` of one object (`{{ .State.Pid }}`, `{{.Id}}`,
/// `{{json .Config.Labels}}`): the template runs over the typed struct (Go field names, struct
/// order in `json`), and when that fails, over the raw JSON with `missingkey=error`, as the
/// docker CLI's `TemplateInspector` does. `Err` is the CLI's error text.
pub fn docker_format(template: &str, value: &GoValue) -> Result<String, String> {
    let pieces =
        parse_template(template, "").map_err(|e| format!("template parsing error: {e}"))?;
    match execute(&pieces, value, Walk::Typed, "", false) {
        Ok(text) => Ok(text),
        Err(_) => execute(&pieces, &value.raw(), Walk::RawStrict, "", false)
            .map_err(|e| format!("template parsing error: {e}")),
    }
}

/// `crictl inspect --output go-template --template TEMPLATE` (`{{.info.pid}}`): the template
/// runs over the printed JSON decoded into maps, as crictl's `tmplExecuteRawJSON` does; a missing
/// key prints `<no value>`. `Err` is crictl's error text.
pub fn crictl_format(template: &str, value: &GoValue) -> Result<String, String> {
    const NAME: &str = "tmplExecuteRawJSON";
    let pieces = parse_template(template, NAME)
        .map_err(|e| format!("FATA[0000] failed to generate go-template: {e}"))?;
    execute(&pieces, &value.raw(), Walk::RawLax, NAME, true)
        .map_err(|e| format!("FATA[0000] failed to template data: {e}"))
}

// ---------------------------------------------------------------------------------------------
// What the runtime knows of a container
// ---------------------------------------------------------------------------------------------

/// The DNS settings the kubelet hands the pod's sandbox (CRI `DNSConfig`); cri-dockerd writes
/// them into the pause container's `HostConfig.Dns*`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodDns {
    /// Name servers, in order.
    pub servers: Vec<String>,
    /// Search domains, in order.
    pub searches: Vec<String>,
    /// Resolver options (`ndots:5`).
    pub options: Vec<String>,
}

/// An image's `ENTRYPOINT` and `CMD` (empty when netsim knows none).
pub type ImageDefaults = dyn Fn(&str) -> (&'static [&'static str], &'static [&'static str]);

/// One container to inspect, with what the caller looked up in the store for it.
pub struct InspectInput<'a> {
    /// The pod's sandbox.
    pub sandbox: &'a Sandbox,
    /// The container (the sandbox's pause container or one of its containers).
    pub container: &'a ContainerRec,
    /// The pod, when the store still has it.
    pub pod: Option<&'a Pod>,
    /// The node the pod runs on (its memory capacity sets a Burstable container's OOM score).
    pub node: Option<&'a Node>,
    /// The pod's DNS settings.
    pub dns: Option<PodDns>,
    /// The id (64 hex digits) the runtime stores an image under.
    pub image_id: &'a dyn Fn(&str) -> String,
    /// An image's `ENTRYPOINT` and `CMD`.
    pub image_defaults: &'a ImageDefaults,
}

impl<'a> InspectInput<'a> {
    /// The input for `container` of `sandbox` on `node`, with its pod and node as `store`
    /// holds them and the pod's DNS settings from `dns`.
    pub fn from_store(
        store: &'a netsim_model::Store,
        node: &str,
        sandbox: &'a Sandbox,
        container: &'a ContainerRec,
        image_id: &'a dyn Fn(&str) -> String,
        image_defaults: &'a ImageDefaults,
        dns: &dyn Fn(&Pod) -> PodDns,
    ) -> InspectInput<'a> {
        let (ns, name) = sandbox.pod.split_once('/').unwrap_or(("", &sandbox.pod));
        let pod = store.typed::<Pod>(ns, name);
        InspectInput {
            sandbox,
            container,
            pod,
            node: store.typed::<Node>("", node),
            dns: pod.map(dns),
            image_id,
            image_defaults,
        }
    }
}

/// The `PATH` every image netsim runs sets (its only modelled image `ENV`).
const IMAGE_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The pause image's `USER` (kubernetes/build/pause Dockerfile, since pause 3.3).
const PAUSE_USER: &str = "65535:65535";

/// The kubelet's default masked paths (`securitycontext.ConvertToRuntimeMaskedPaths`).
const MASKED_PATHS: [&str; 10] = [
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
];

/// The kubelet's default read-only paths.
const READONLY_PATHS: [&str; 5] = [
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// containerd's default capabilities (`oci.defaultUnixCaps`), in its order.
const DEFAULT_CAPS: [&str; 14] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

/// Every capability of a 5.15 kernel, in number order (a privileged container has them all).
const ALL_CAPS: [&str; 41] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// A pod's QoS class.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Qos {
    Guaranteed,
    Burstable,
    BestEffort,
}

/// A bind mount the kubelet asks for (CRI `Mount`).
struct CriMount {
    container_path: String,
    host_path: String,
    readonly: bool,
    /// `PROPAGATION_PRIVATE`, `PROPAGATION_HOST_TO_CONTAINER` or `PROPAGATION_BIDIRECTIONAL`.
    propagation: &'static str,
}

impl CriMount {
    /// The enum's number, as containerd's `encoding/json` writes it.
    fn propagation_number(&self) -> i64 {
        match self.propagation {
            "PROPAGATION_HOST_TO_CONTAINER" => 1,
            "PROPAGATION_BIDIRECTIONAL" => 2,
            _ => 0,
        }
    }

    /// The kernel's propagation flag (`rprivate`…).
    fn kernel_propagation(&self) -> &'static str {
        match self.propagation {
            "PROPAGATION_HOST_TO_CONTAINER" => "rslave",
            "PROPAGATION_BIDIRECTIONAL" => "rshared",
            _ => "rprivate",
        }
    }
}

/// The kubelet's container resources (CRI `LinuxContainerResources`).
struct Resources {
    cpu_period: i64,
    cpu_quota: i64,
    cpu_shares: i64,
    memory_limit: i64,
    oom_score_adj: i64,
    hugepage_sizes: Vec<&'static str>,
}

/// Everything the two inspect documents show of one container, derived once.
struct Facts<'a> {
    input: &'a InspectInput<'a>,
    pause: bool,
    ns: &'a str,
    pod_name: &'a str,
    uid: &'a str,
    spec: Option<&'a Container>,
    host_network: bool,
    hostname: String,
    node_name: String,
    /// The systemd slice of the pod (`kubepods-besteffort-pod<uid>.slice`).
    cgroup_parent: String,
    /// The kubelet's environment (`name=value`), in order.
    envs: Vec<(String, String)>,
    /// The container's `ENTRYPOINT` and `CMD` after docker merges the image config in.
    entrypoint: Option<Vec<String>>,
    cmd: Option<Vec<String>>,
    mounts: Vec<CriMount>,
    resources: Resources,
    privileged: bool,
    cap_add: Option<Vec<String>>,
    cap_drop: Option<Vec<String>>,
    no_new_privs: bool,
    /// The CRI container labels and annotations the kubelet sets.
    cri_labels: BTreeMap<String, String>,
    cri_annotations: BTreeMap<String, String>,
}

impl<'a> Facts<'a> {
    fn new(input: &'a InspectInput<'a>) -> Facts<'a> {
        let sb = input.sandbox;
        let c = input.container;
        let pause = c.name == "POD";
        let (ns, pod_name) = sb.pod.split_once('/').unwrap_or(("", &sb.pod));
        let pod_spec = input.pod.and_then(|p| p.spec.as_ref());
        let spec = if pause {
            None
        } else {
            pod_spec.and_then(|s| s.containers.iter().find(|x| x.name == c.name))
        };
        let host_network = pod_spec.and_then(|s| s.host_network).unwrap_or(false);
        let node_name = pod_spec
            .and_then(|s| s.node_name.clone())
            .unwrap_or_default();
        let hostname = if host_network {
            node_name.clone()
        } else {
            let h = pod_spec
                .and_then(|s| s.hostname.clone())
                .unwrap_or_else(|| pod_name.to_string());
            h.chars()
                .take(63)
                .collect::<String>()
                .trim_end_matches(['-', '.'])
                .to_string()
        };
        let qos = input.pod.map_or(Qos::BestEffort, pod_qos);
        let slice_uid = sb.uid.replace('-', "_");
        let cgroup_parent = match qos {
            Qos::Guaranteed => format!("kubepods-pod{slice_uid}.slice"),
            Qos::Burstable => format!("kubepods-burstable-pod{slice_uid}.slice"),
            Qos::BestEffort => format!("kubepods-besteffort-pod{slice_uid}.slice"),
        };
        let envs = spec
            .map(|s| container_envs(s, input.pod))
            .unwrap_or_default();
        let (entrypoint, cmd) = match spec {
            Some(s) => {
                let (image_entry, image_cmd) = (input.image_defaults)(&c.image);
                let owned = |v: &[&str]| -> Option<Vec<String>> {
                    (!v.is_empty()).then(|| v.iter().map(|s| s.to_string()).collect())
                };
                let command = s.command.as_ref().map(|v| expand_all(v, &envs));
                let args = s.args.as_ref().map(|v| expand_all(v, &envs));
                match (command, args) {
                    (Some(command), args) if !command.is_empty() => (Some(command), args),
                    (_, Some(args)) if !args.is_empty() => (owned(image_entry), Some(args)),
                    _ => (owned(image_entry), owned(image_cmd)),
                }
            }
            None if pause => {
                let (image_entry, _) = (input.image_defaults)(&c.image);
                (
                    Some(image_entry.iter().map(|s| s.to_string()).collect()),
                    None,
                )
            }
            // The pod has left the store: the runtime's record of the command line.
            None => (
                None,
                Some(c.command.split_whitespace().map(str::to_string).collect()),
            ),
        };
        let mounts = spec
            .map(|s| kubelet_mounts(s, input.pod, &sb.uid, &c.id))
            .unwrap_or_default();
        let node_critical = input.pod.is_some_and(is_node_critical);
        let resources = container_resources(spec, qos, node_critical, input.node);
        let security = spec.and_then(|s| s.security_context.as_ref());
        let privileged = security.and_then(|s| s.privileged).unwrap_or(false);
        let caps = security.and_then(|s| s.capabilities.as_ref());
        let cap_add = caps.and_then(|c| c.add.clone());
        let cap_drop = caps.and_then(|c| c.drop.clone());
        let no_new_privs = security.and_then(|s| s.allow_privilege_escalation) == Some(false);
        let mut cri_labels = BTreeMap::new();
        let mut cri_annotations = BTreeMap::new();
        if let Some(s) = spec {
            cri_labels.insert("io.kubernetes.container.name".into(), c.name.clone());
            cri_labels.insert("io.kubernetes.pod.name".into(), pod_name.to_string());
            cri_labels.insert("io.kubernetes.pod.namespace".into(), ns.to_string());
            cri_labels.insert("io.kubernetes.pod.uid".into(), sb.uid.clone());
            cri_annotations.insert("io.kubernetes.container.hash".into(), container_hash(s));
            if let Some(ports) = s.ports.as_ref().filter(|p| !p.is_empty()) {
                let list = ports
                    .iter()
                    .map(|p| {
                        Obj::new()
                            .omit("name", p.name.clone())
                            .omit("hostPort", p.host_port.filter(|h| *h != 0))
                            .f("containerPort", p.container_port)
                            .omit("protocol", p.protocol.clone())
                            .omit("hostIP", p.host_ip.clone())
                            .done()
                    })
                    .collect::<Vec<_>>();
                cri_annotations.insert(
                    "io.kubernetes.container.ports".into(),
                    GoValue::List(list).to_json(None, true),
                );
            }
            cri_annotations.insert("io.kubernetes.container.restartCount".into(), "0".into());
            cri_annotations.insert(
                "io.kubernetes.container.terminationMessagePath".into(),
                s.termination_message_path
                    .clone()
                    .unwrap_or_else(|| "/dev/termination-log".into()),
            );
            cri_annotations.insert(
                "io.kubernetes.container.terminationMessagePolicy".into(),
                s.termination_message_policy
                    .clone()
                    .unwrap_or_else(|| "File".into()),
            );
            if let Some(grace) = pod_spec.and_then(|p| p.termination_grace_period_seconds) {
                cri_annotations.insert(
                    "io.kubernetes.pod.terminationGracePeriod".into(),
                    grace.to_string(),
                );
            }
        }
        Facts {
            input,
            pause,
            ns,
            pod_name,
            uid: &sb.uid,
            spec,
            host_network,
            hostname,
            node_name,
            cgroup_parent,
            envs,
            entrypoint,
            cmd,
            mounts,
            resources,
            privileged,
            cap_add,
            cap_drop,
            no_new_privs,
            cri_labels,
            cri_annotations,
        }
    }

    fn c(&self) -> &'a ContainerRec {
        self.input.container
    }

    fn sb(&self) -> &'a Sandbox {
        self.input.sandbox
    }

    /// The process's argv: `ENTRYPOINT` then `CMD`.
    fn argv(&self) -> Vec<String> {
        let mut argv = self.entrypoint.clone().unwrap_or_default();
        argv.extend(self.cmd.clone().unwrap_or_default());
        argv
    }

    /// `/var/log/pods/<ns>_<pod>_<uid>/<container>/0.log`.
    fn log_path(&self) -> String {
        format!(
            "/var/log/pods/{}_{}_{}/{}/0.log",
            self.ns,
            self.pod_name,
            self.uid,
            self.c().name
        )
    }

    /// The pod's container in the store's status: its image and image reference.
    fn status_image(&self) -> Option<(String, String)> {
        let statuses = self
            .input
            .pod?
            .status
            .as_ref()?
            .container_statuses
            .as_ref()?;
        let st = statuses.iter().find(|s| s.name == self.c().name)?;
        Some((st.image.clone(), st.image_id.clone()))
    }
}

/// The pod's QoS class (`status.qosClass`, else from its containers' requests and limits).
fn pod_qos(pod: &Pod) -> Qos {
    match pod.status.as_ref().and_then(|s| s.qos_class.as_deref()) {
        Some("Guaranteed") => return Qos::Guaranteed,
        Some("Burstable") => return Qos::Burstable,
        Some("BestEffort") => return Qos::BestEffort,
        _ => {}
    }
    let containers = pod
        .spec
        .as_ref()
        .map(|s| s.containers.as_slice())
        .unwrap_or(&[]);
    let mut any = false;
    let mut guaranteed = true;
    for c in containers {
        let res = c.resources.as_ref();
        let limits = res.and_then(|r| r.limits.as_ref());
        let requests = res.and_then(|r| r.requests.as_ref());
        for name in ["cpu", "memory"] {
            let limit = limits
                .and_then(|l| l.get(name))
                .map(|q| quantity_milli(&q.0));
            let request = requests
                .and_then(|r| r.get(name))
                .map(|q| quantity_milli(&q.0));
            if limit.is_some_and(|l| l != 0) || request.is_some_and(|r| r != 0) {
                any = true;
            }
            match (limit, request) {
                (Some(l), Some(r)) if l == r && l != 0 => {}
                (Some(l), None) if l != 0 => {}
                _ => guaranteed = false,
            }
        }
    }
    match (any, guaranteed) {
        (false, _) => Qos::BestEffort,
        (true, true) => Qos::Guaranteed,
        (true, false) => Qos::Burstable,
    }
}

/// The kubelet's `IsNodeCriticalPod`: a critical pod (static, mirror, or of system priority)
/// of the `system-node-critical` class.
fn is_node_critical(pod: &Pod) -> bool {
    let spec = pod.spec.as_ref();
    let class = spec.and_then(|s| s.priority_class_name.as_deref());
    let annotations = pod.metadata.annotations.as_ref();
    let static_or_mirror = annotations.is_some_and(|a| {
        a.contains_key("kubernetes.io/config.mirror")
            || a.get("kubernetes.io/config.source")
                .is_some_and(|s| s != "api")
    });
    let system_priority = spec
        .and_then(|s| s.priority)
        .is_some_and(|p| p >= 2_000_000_000);
    class == Some("system-node-critical") && (static_or_mirror || system_priority)
}

/// A resource quantity in thousandths of its unit (`100m` → 100, `128Mi` → 134217728000).
fn quantity_milli(q: &str) -> i128 {
    let q = q.trim();
    let split = q
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
        .unwrap_or(q.len());
    let (num, suffix) = q.split_at(split);
    let mult: i128 = match suffix {
        "m" => return parse_scaled(num, 1),
        "" => 1,
        "k" => 1_000,
        "M" => 1_000_000,
        "G" => 1_000_000_000,
        "T" => 1_000_000_000_000,
        "P" => 1_000_000_000_000_000,
        "E" => 1_000_000_000_000_000_000,
        "Ki" => 1 << 10,
        "Mi" => 1 << 20,
        "Gi" => 1 << 30,
        "Ti" => 1 << 40,
        "Pi" => 1 << 50,
        "Ei" => 1 << 60,
        _ => 1,
    };
    parse_scaled(num, mult * 1000)
}

/// `num × mult` for a decimal `num` (`0.5` × 1000 → 500), rounded up as Kubernetes rounds.
fn parse_scaled(num: &str, mult: i128) -> i128 {
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    let int: i128 = int.parse().unwrap_or(0);
    let digits = frac.chars().take(18).collect::<String>();
    let frac_val: i128 = digits.parse().unwrap_or(0);
    let scale = 10i128.pow(digits.len() as u32);
    let frac_part = (frac_val * mult + scale - 1) / scale;
    int * mult + frac_part
}

/// The kubelet's `LinuxContainerResources` for a container (`generateLinuxContainerResources`,
/// `GetContainerOOMScoreAdjust`); the pause container's are cri-dockerd's sandbox defaults.
fn container_resources(
    spec: Option<&Container>,
    qos: Qos,
    node_critical: bool,
    node: Option<&Node>,
) -> Resources {
    let capacity = node.and_then(|n| n.status.as_ref()?.capacity.as_ref());
    let hugepage_sizes = {
        let mut sizes: Vec<(i128, &'static str)> = capacity
            .map(|c| {
                c.keys()
                    .filter_map(|k| match k.as_str() {
                        "hugepages-2Mi" => Some((2 << 20, "2MB")),
                        "hugepages-1Gi" => Some((1 << 30, "1GB")),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_else(|| vec![(2 << 20, "2MB")]);
        sizes.sort();
        sizes.into_iter().map(|(_, s)| s).collect()
    };
    let res = spec.and_then(|s| s.resources.as_ref());
    let get = |which: Option<
        &BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>,
    >,
               name: &str| {
        which
            .and_then(|m| m.get(name))
            .map(|q| quantity_milli(&q.0))
            .unwrap_or(0)
    };
    let limits = res.and_then(|r| r.limits.as_ref());
    let requests = res.and_then(|r| r.requests.as_ref());
    let cpu_limit = get(limits, "cpu");
    let cpu_request = get(requests, "cpu");
    let mem_limit = get(limits, "memory") / 1000;
    let mem_request = match get(requests, "memory") / 1000 {
        0 => mem_limit,
        r => r,
    };
    let shares_of = |milli: i128| ((milli * 1024) / 1000).max(2) as i64;
    let cpu_shares = if cpu_request == 0 && cpu_limit != 0 {
        shares_of(cpu_limit)
    } else {
        shares_of(cpu_request)
    };
    let cpu_quota = if cpu_limit == 0 {
        0
    } else {
        ((cpu_limit * 100_000) / 1000).max(1000) as i64
    };
    let oom_score_adj = match qos {
        // Node-critical pods are killed last, whatever their class.
        _ if node_critical => -997,
        Qos::Guaranteed => -997,
        Qos::BestEffort => 1000,
        Qos::Burstable => {
            let capacity = capacity
                .and_then(|c| c.get("memory"))
                .map(|q| quantity_milli(&q.0) / 1000)
                .filter(|c| *c > 0);
            match capacity {
                Some(cap) => {
                    let adj = (1000 - (1000 * mem_request) / cap) as i64;
                    if adj < 3 {
                        3
                    } else if adj == 1000 {
                        999
                    } else {
                        adj
                    }
                }
                None => 999,
            }
        }
    };
    Resources {
        cpu_period: 100_000,
        cpu_quota,
        cpu_shares,
        memory_limit: mem_limit as i64,
        oom_score_adj,
        hugepage_sizes,
    }
}

/// The kubelet's environment for a container: its `env` entries with `$(VAR)` references
/// expanded and the pod's own fields resolved (`fieldRef`); ConfigMap, Secret and resource
/// references, and the Service variables, are not modelled.
fn container_envs(c: &Container, pod: Option<&Pod>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for e in c.env.iter().flatten() {
        let value = match (&e.value, &e.value_from) {
            (Some(v), _) => expand(v, &out),
            (None, None) => String::new(),
            (None, Some(from)) => {
                let Some(path) = from.field_ref.as_ref().map(|f| f.field_path.as_str()) else {
                    continue;
                };
                let Some(value) = pod.and_then(|p| pod_field(p, path)) else {
                    continue;
                };
                value
            }
        };
        out.push((e.name.clone(), value));
    }
    out
}

/// A `fieldRef` of the pod.
fn pod_field(pod: &Pod, path: &str) -> Option<String> {
    let meta = &pod.metadata;
    let spec = pod.spec.as_ref();
    let status = pod.status.as_ref();
    match path {
        "metadata.name" => meta.name.clone(),
        "metadata.namespace" => meta.namespace.clone(),
        "metadata.uid" => meta.uid.clone(),
        "spec.nodeName" => spec.and_then(|s| s.node_name.clone()),
        "spec.serviceAccountName" => spec.and_then(|s| s.service_account_name.clone()),
        "status.hostIP" => status.and_then(|s| s.host_ip.clone()),
        "status.podIP" => status.and_then(|s| s.pod_ip.clone()),
        _ => None,
    }
}

/// Kubernetes' `$(VAR)` expansion: defined variables are replaced, `$$` is a literal `$`,
/// anything else is left as written.
fn expand(s: &str, env: &[(String, String)]) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(inner) = after.strip_prefix('(')
            && let Some(close) = inner.find(')')
        {
            let name = &inner[..close];
            match env.iter().rev().find(|(k, _)| k == name) {
                Some((_, v)) => out.push_str(v),
                None => out.push_str(&rest[i..i + 2 + close + 1]),
            }
            rest = &inner[close + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

fn expand_all(items: &[String], env: &[(String, String)]) -> Vec<String> {
    items.iter().map(|s| expand(s, env)).collect()
}

/// The kubelet's mounts for a container, in its order: the volume mounts, `/etc/hosts`, the
/// termination-message file (`makeMounts`).
fn kubelet_mounts(
    c: &Container,
    pod: Option<&Pod>,
    uid: &str,
    container_id: &str,
) -> Vec<CriMount> {
    let pod_dir = format!("/var/lib/kubelet/pods/{uid}");
    let volumes: &[Volume] = pod
        .and_then(|p| p.spec.as_ref())
        .map(|s| s.volumes.as_deref().unwrap_or(&[]))
        .unwrap_or(&[]);
    let mut mounts = Vec::new();
    for (index, m) in c.volume_mounts.iter().flatten().enumerate() {
        let Some(volume) = volumes.iter().find(|v| v.name == m.name) else {
            continue;
        };
        let plugin = if let Some(hp) = &volume.host_path {
            Err(hp.path.clone())
        } else if volume.config_map.is_some() {
            Ok("kubernetes.io~configmap")
        } else if volume.secret.is_some() {
            Ok("kubernetes.io~secret")
        } else if volume.empty_dir.is_some() {
            Ok("kubernetes.io~empty-dir")
        } else if volume.projected.is_some() {
            Ok("kubernetes.io~projected")
        } else if volume.downward_api.is_some() {
            Ok("kubernetes.io~downward-api")
        } else {
            continue;
        };
        let host_path = match (&m.sub_path, plugin) {
            (Some(sub), _) if !sub.is_empty() => {
                format!("{pod_dir}/volume-subpaths/{}/{}/{index}", m.name, c.name)
            }
            (_, Err(path)) => path,
            (_, Ok(plugin)) => format!("{pod_dir}/volumes/{plugin}/{}", m.name),
        };
        let propagation = match m.mount_propagation.as_deref() {
            Some("HostToContainer") => "PROPAGATION_HOST_TO_CONTAINER",
            Some("Bidirectional") => "PROPAGATION_BIDIRECTIONAL",
            _ => "PROPAGATION_PRIVATE",
        };
        mounts.push(CriMount {
            container_path: m.mount_path.clone(),
            host_path,
            readonly: m.read_only.unwrap_or(false),
            propagation,
        });
    }
    if !mounts.iter().any(|m| m.container_path == "/etc/hosts") {
        mounts.push(CriMount {
            container_path: "/etc/hosts".into(),
            host_path: format!("{pod_dir}/etc-hosts"),
            readonly: false,
            propagation: "PROPAGATION_PRIVATE",
        });
    }
    let termination = c
        .termination_message_path
        .clone()
        .unwrap_or_else(|| "/dev/termination-log".into());
    if !termination.is_empty() {
        // The kubelet names the file with 8 random hex digits; here they come from the id.
        let file = short(&hex64(&format!("termination:{container_id}")), 8).to_string();
        mounts.push(CriMount {
            container_path: termination,
            host_path: format!("{pod_dir}/containers/{}/{file}", c.name),
            readonly: false,
            propagation: "PROPAGATION_PRIVATE",
        });
    }
    mounts
}

/// The kubelet's container hash annotation: FNV-32a of the container spec in hex. The shape is
/// real, the digits are not (the kubelet hashes Go's JSON of `v1.Container`).
fn container_hash(c: &Container) -> String {
    let text = serde_json::to_string(c).unwrap_or_default();
    let mut h: u32 = 0x811c9dc5;
    for b in text.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x01000193);
    }
    format!("{h:x}")
}

/// 64 hex digits derived from `seed`: the ids a runtime draws at random (network, endpoint and
/// layer ids), stable for one container.
fn hex64(seed: &str) -> String {
    let mut out = String::new();
    let mut h: u64 = 0xcbf29ce484222325;
    for round in 0..4u8 {
        for b in seed.bytes().chain([round]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x100000001b3);
        }
        out.push_str(&format!("{h:016x}"));
    }
    out
}

/// Go's `time.RFC3339Nano` of a UTC instant: trailing zeros of the fraction dropped.
fn rfc3339_nano(ms: i64) -> String {
    let t = netsim_model::jiff::Timestamp::from_millisecond(ms)
        .unwrap_or(netsim_model::jiff::Timestamp::UNIX_EPOCH);
    let base = t.strftime("%Y-%m-%dT%H:%M:%S").to_string();
    let frac = ms.rem_euclid(1000);
    if frac == 0 {
        format!("{base}Z")
    } else {
        let digits = format!("{frac:03}");
        format!("{base}.{}Z", digits.trim_end_matches('0'))
    }
}

/// Go's zero `time.Time` in RFC 3339.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

// ---------------------------------------------------------------------------------------------
// docker inspect
// ---------------------------------------------------------------------------------------------

/// `docker inspect ID` of a pod's container on a cri-dockerd node: moby's `ContainerJSON`
/// (Docker 24.0, API 1.43) in struct field order. The pause container runs with
/// `NetworkMode: none` (the CNI plugin, not docker, wires the pod's namespace) or `host`; the
/// pod's containers join it with `container:<pause id>`.
pub fn docker_inspect_value(input: &InspectInput) -> GoValue {
    let f = Facts::new(input);
    let c = f.c();
    let sb = f.sb();
    let pause_dir = format!("/var/lib/docker/containers/{}", sb.pause.id);
    let created = rfc3339_nano(c.created_ms);
    let argv = f.argv();
    let (path, args) = match argv.split_first() {
        Some((p, rest)) => (p.clone(), rest.to_vec()),
        None => (String::new(), Vec::new()),
    };
    let state = Obj::new()
        .f("Status", "running")
        .f("Running", true)
        .f("Paused", false)
        .f("Restarting", false)
        .f("OOMKilled", false)
        .f("Dead", false)
        .f("Pid", c.pid)
        .f("ExitCode", 0)
        .f("Error", "")
        .f("StartedAt", created.clone())
        .f("FinishedAt", ZERO_TIME)
        .done();
    let layer = hex64(&format!("overlay2:{}", c.id));
    let image_layer = hex64(&format!("overlay2-image:{}", (input.image_id)(&c.image)));
    let graph_driver = Obj::new()
        .f(
            "Data",
            GoValue::from(BTreeMap::from([
                (
                    "LowerDir".to_string(),
                    format!(
                        "/var/lib/docker/overlay2/{layer}-init/diff:/var/lib/docker/overlay2/{image_layer}/diff"
                    ),
                ),
                (
                    "MergedDir".to_string(),
                    format!("/var/lib/docker/overlay2/{layer}/merged"),
                ),
                (
                    "UpperDir".to_string(),
                    format!("/var/lib/docker/overlay2/{layer}/diff"),
                ),
                (
                    "WorkDir".to_string(),
                    format!("/var/lib/docker/overlay2/{layer}/work"),
                ),
            ])),
        )
        .f("Name", "overlay2")
        .done();
    let mounts = f
        .mounts
        .iter()
        .map(|m| {
            Obj::new()
                .f("Type", "bind")
                .f("Source", m.host_path.clone())
                .f("Destination", m.container_path.clone())
                .f("Mode", docker_bind_mode(m))
                .f("RW", !m.readonly)
                .f("Propagation", m.kernel_propagation())
                .done()
        })
        .collect::<Vec<_>>();
    Obj::new()
        .g("Id", "ID", c.id.clone())
        .f("Created", created.clone())
        .f("Path", path)
        .f("Args", GoValue::strs(&args))
        .f("State", state)
        .f("Image", format!("sha256:{}", (input.image_id)(&c.image)))
        .f("ResolvConfPath", format!("{pause_dir}/resolv.conf"))
        .f("HostnamePath", format!("{pause_dir}/hostname"))
        .f("HostsPath", format!("{pause_dir}/hosts"))
        .f(
            "LogPath",
            format!("/var/lib/docker/containers/{0}/{0}-json.log", c.id),
        )
        .f("Name", format!("/{}", docker_name(sb, c)))
        .f("RestartCount", 0)
        .f("Driver", "overlay2")
        .f("Platform", "linux")
        .f("MountLabel", "")
        .f("ProcessLabel", "")
        .f(
            "AppArmorProfile",
            if f.privileged {
                "unconfined"
            } else {
                "docker-default"
            },
        )
        .f("ExecIDs", GoValue::Nil(Nil::Slice))
        .f("HostConfig", docker_host_config(&f))
        .f("GraphDriver", graph_driver)
        .f("Mounts", GoValue::List(mounts))
        .f("Config", docker_config(&f))
        .f("NetworkSettings", docker_network_settings(&f))
        .done()
}

/// A bind's mode string as cri-dockerd writes it after the paths (`ro`, `rslave`…).
fn docker_bind_mode(m: &CriMount) -> String {
    let mut attrs = Vec::new();
    if m.readonly {
        attrs.push("ro");
    }
    match m.propagation {
        "PROPAGATION_HOST_TO_CONTAINER" => attrs.push("rslave"),
        "PROPAGATION_BIDIRECTIONAL" => attrs.push("rshared"),
        _ => {}
    }
    attrs.join(",")
}

fn docker_host_config(f: &Facts) -> GoValue {
    let sb = f.sb();
    let pod_spec = f.input.pod.and_then(|p| p.spec.as_ref());
    let join = format!("container:{}", sb.pause.id);
    let (binds, network_mode, port_bindings, ipc_mode, pid_mode, uts_mode) = if f.pause {
        let network = if f.host_network { "host" } else { "none" };
        let ipc = if pod_spec.and_then(|s| s.host_ipc) == Some(true) {
            "host"
        } else {
            "shareable"
        };
        let pid = if pod_spec.and_then(|s| s.host_pid) == Some(true) {
            "host"
        } else {
            ""
        };
        (
            GoValue::Nil(Nil::Slice),
            network.to_string(),
            docker_port_bindings(f),
            ipc.to_string(),
            pid.to_string(),
            String::new(),
        )
    } else {
        let binds = f
            .mounts
            .iter()
            .map(|m| {
                let mode = docker_bind_mode(m);
                let bind = format!("{}:{}", m.host_path, m.container_path);
                GoValue::Str(if mode.is_empty() {
                    bind
                } else {
                    format!("{bind}:{mode}")
                })
            })
            .collect();
        let pid = if pod_spec.and_then(|s| s.host_pid) == Some(true) {
            "host".to_string()
        } else if pod_spec.and_then(|s| s.share_process_namespace) == Some(true) {
            join.clone()
        } else {
            String::new()
        };
        let uts = if f.host_network { "host" } else { "" };
        (
            GoValue::List(binds),
            join.clone(),
            GoValue::Nil(Nil::Map),
            join.clone(),
            pid,
            uts.to_string(),
        )
    };
    let (dns, dns_options, dns_search) = match (f.pause, f.input.dns.as_ref()) {
        (true, Some(d)) => (
            GoValue::strs(&d.servers),
            GoValue::strs(&d.options),
            GoValue::strs(&d.searches),
        ),
        _ => (
            GoValue::Nil(Nil::Slice),
            GoValue::Nil(Nil::Slice),
            GoValue::Nil(Nil::Slice),
        ),
    };
    let r = &f.resources;
    let (oom, cpu_shares, memory, cpu_period, cpu_quota, memory_swap, devices) = if f.pause {
        (-998, 2, 0, 0, 0, -1, GoValue::Nil(Nil::Slice))
    } else {
        (
            r.oom_score_adj,
            r.cpu_shares,
            r.memory_limit,
            r.cpu_period,
            r.cpu_quota,
            r.memory_limit,
            GoValue::List(Vec::new()),
        )
    };
    let (masked, readonly) = if f.privileged {
        (GoValue::Nil(Nil::Slice), GoValue::Nil(Nil::Slice))
    } else {
        (GoValue::strs(&MASKED_PATHS), GoValue::strs(&READONLY_PATHS))
    };
    let security_opt = if f.no_new_privs {
        GoValue::strs(&["seccomp=unconfined", "no-new-privileges"])
    } else {
        GoValue::strs(&["seccomp=unconfined"])
    };
    Obj::new()
        .f("Binds", binds)
        .f("ContainerIDFile", "")
        .f(
            "LogConfig",
            Obj::new()
                .f("Type", "json-file")
                .f(
                    "Config",
                    GoValue::from(BTreeMap::from([(
                        "max-size".to_string(),
                        "100m".to_string(),
                    )])),
                )
                .done(),
        )
        .f("NetworkMode", network_mode)
        .f("PortBindings", port_bindings)
        .f(
            "RestartPolicy",
            Obj::new().f("Name", "no").f("MaximumRetryCount", 0).done(),
        )
        .f("AutoRemove", false)
        .f("VolumeDriver", "")
        .f("VolumesFrom", GoValue::Nil(Nil::Slice))
        .f(
            "ConsoleSize",
            GoValue::List(vec![GoValue::Int(0), GoValue::Int(0)]),
        )
        .f("CapAdd", GoValue::opt_strs(f.cap_add.as_deref()))
        .f("CapDrop", GoValue::opt_strs(f.cap_drop.as_deref()))
        .f("CgroupnsMode", "private")
        .g("Dns", "DNS", dns)
        .g("DnsOptions", "DNSOptions", dns_options)
        .g("DnsSearch", "DNSSearch", dns_search)
        .f("ExtraHosts", GoValue::Nil(Nil::Slice))
        .f("GroupAdd", GoValue::Nil(Nil::Slice))
        .f("IpcMode", ipc_mode)
        .f("Cgroup", "")
        .f("Links", GoValue::Nil(Nil::Slice))
        .f("OomScoreAdj", oom)
        .f("PidMode", pid_mode)
        .f("Privileged", f.privileged)
        .f("PublishAllPorts", false)
        .f("ReadonlyRootfs", false)
        .f("SecurityOpt", security_opt)
        .f("UTSMode", uts_mode)
        .f("UsernsMode", "")
        .f("ShmSize", 67_108_864i64)
        .f("Runtime", "runc")
        .f("Isolation", "")
        .g("CpuShares", "CPUShares", cpu_shares)
        .f("Memory", memory)
        .g("NanoCpus", "NanoCPUs", 0)
        .f("CgroupParent", f.cgroup_parent.clone())
        .f("BlkioWeight", 0)
        .f("BlkioWeightDevice", GoValue::Nil(Nil::Slice))
        .f("BlkioDeviceReadBps", GoValue::Nil(Nil::Slice))
        .f("BlkioDeviceWriteBps", GoValue::Nil(Nil::Slice))
        .f("BlkioDeviceReadIOps", GoValue::Nil(Nil::Slice))
        .f("BlkioDeviceWriteIOps", GoValue::Nil(Nil::Slice))
        .g("CpuPeriod", "CPUPeriod", cpu_period)
        .g("CpuQuota", "CPUQuota", cpu_quota)
        .g("CpuRealtimePeriod", "CPURealtimePeriod", 0)
        .g("CpuRealtimeRuntime", "CPURealtimeRuntime", 0)
        .f("CpusetCpus", "")
        .f("CpusetMems", "")
        .f("Devices", devices)
        .f("DeviceCgroupRules", GoValue::Nil(Nil::Slice))
        .f("DeviceRequests", GoValue::Nil(Nil::Slice))
        .f("MemoryReservation", 0)
        .f("MemorySwap", memory_swap)
        .f("MemorySwappiness", GoValue::Nil(Nil::Ptr))
        .f("OomKillDisable", GoValue::Nil(Nil::Ptr))
        .f("PidsLimit", GoValue::Nil(Nil::Ptr))
        .f("Ulimits", GoValue::Nil(Nil::Slice))
        .g("CpuCount", "CPUCount", 0)
        .g("CpuPercent", "CPUPercent", 0)
        .f("IOMaximumIOps", 0)
        .f("IOMaximumBandwidth", 0)
        .f("MaskedPaths", masked)
        .f("ReadonlyPaths", readonly)
        .done()
}

/// The pause container's port bindings: the pod's `hostPort`s (cri-dockerd's
/// `makePortsAndBindings`; an empty map when there are none).
fn docker_port_bindings(f: &Facts) -> GoValue {
    let mut map = BTreeMap::new();
    for (port, host_ip, host_port) in host_ports(f) {
        let binding = Obj::new()
            .g("HostIp", "HostIP", host_ip)
            .f("HostPort", host_port.to_string())
            .done();
        match map.entry(port) {
            std::collections::btree_map::Entry::Vacant(e) => {
                e.insert(GoValue::List(vec![binding]));
            }
            std::collections::btree_map::Entry::Occupied(mut e) => {
                if let GoValue::List(list) = e.get_mut() {
                    list.push(binding);
                }
            }
        }
    }
    GoValue::Map(map)
}

/// The pod's `hostPort`s as docker ports (`8080/tcp`), host IPs and host ports.
fn host_ports(f: &Facts) -> Vec<(String, String, i32)> {
    let containers = f
        .input
        .pod
        .and_then(|p| p.spec.as_ref())
        .map(|s| s.containers.as_slice())
        .unwrap_or(&[]);
    containers
        .iter()
        .flat_map(|c| c.ports.iter().flatten())
        .filter_map(|p| {
            let host = p.host_port.filter(|h| *h != 0)?;
            let proto = p.protocol.as_deref().unwrap_or("TCP").to_ascii_lowercase();
            Some((
                format!("{host}/{proto}"),
                p.host_ip.clone().unwrap_or_default(),
                host,
            ))
        })
        .collect()
}

/// The labels cri-dockerd gives a docker container (`Config.Labels`): for the pause container the
/// pod's labels and annotations (as `annotation.KEY`), for the others the kubelet's container
/// labels and annotations; both with the `io.kubernetes.*` keys `docker ps --filter label=`
/// matches.
pub fn docker_container_labels(input: &InspectInput) -> BTreeMap<String, String> {
    docker_labels(&Facts::new(input))
}

fn docker_labels(f: &Facts) -> BTreeMap<String, String> {
    let c = f.c();
    let sb = f.sb();
    let mut labels: BTreeMap<String, String> = BTreeMap::new();
    if f.pause {
        if let Some(pod) = f.input.pod {
            for (k, v) in pod.metadata.labels.iter().flatten() {
                labels.insert(k.clone(), v.clone());
            }
            let mut annotations: BTreeMap<String, String> =
                pod.metadata.annotations.clone().unwrap_or_default();
            annotations
                .entry("kubernetes.io/config.seen".into())
                .or_insert_with(|| rfc3339_nano(sb.pause.created_ms));
            annotations
                .entry("kubernetes.io/config.source".into())
                .or_insert_with(|| "api".into());
            for (k, v) in annotations {
                labels.insert(format!("annotation.{k}"), v);
            }
        }
        labels.insert("io.kubernetes.container.name".into(), "POD".into());
        labels.insert("io.kubernetes.docker.type".into(), "podsandbox".into());
        labels.insert("io.kubernetes.pod.name".into(), f.pod_name.to_string());
        labels.insert("io.kubernetes.pod.namespace".into(), f.ns.to_string());
        labels.insert("io.kubernetes.pod.uid".into(), f.uid.to_string());
    } else {
        labels.extend(f.cri_labels.clone());
        for (k, v) in &f.cri_annotations {
            labels.insert(format!("annotation.{k}"), v.clone());
        }
        labels.insert("io.kubernetes.container.logpath".into(), f.log_path());
        labels.insert("io.kubernetes.container.name".into(), c.name.clone());
        labels.insert("io.kubernetes.docker.type".into(), "container".into());
        labels.insert("io.kubernetes.pod.name".into(), f.pod_name.to_string());
        labels.insert("io.kubernetes.pod.namespace".into(), f.ns.to_string());
        labels.insert("io.kubernetes.pod.uid".into(), f.uid.to_string());
        labels.insert("io.kubernetes.sandbox.id".into(), sb.pause.id.clone());
    }
    labels
}

fn docker_config(f: &Facts) -> GoValue {
    let c = f.c();
    let labels = docker_labels(f);
    let mut env: Vec<String> = f.envs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    env.push(IMAGE_PATH.to_string());
    let spec = f.spec;
    let exposed = if f.pause {
        let ports: BTreeMap<String, GoValue> = host_ports(f)
            .into_iter()
            .map(|(p, _, _)| (p, GoValue::Struct(Vec::new())))
            .collect();
        (!ports.is_empty()).then_some(GoValue::Map(ports))
    } else {
        None
    };
    let healthcheck = (!f.pause).then(|| Obj::new().f("Test", GoValue::strs(&["NONE"])).done());
    Obj::new()
        .f("Hostname", f.hostname.clone())
        .f("Domainname", "")
        .f("User", if f.pause { PAUSE_USER } else { "" })
        .f("AttachStdin", false)
        .f("AttachStdout", false)
        .f("AttachStderr", false)
        .omit("ExposedPorts", exposed)
        .f("Tty", spec.and_then(|s| s.tty).unwrap_or(false))
        .f("OpenStdin", spec.and_then(|s| s.stdin).unwrap_or(false))
        .f(
            "StdinOnce",
            spec.and_then(|s| s.stdin_once).unwrap_or(false),
        )
        .f("Env", GoValue::strs(&env))
        .f("Cmd", GoValue::opt_strs(f.cmd.as_deref()))
        .omit("Healthcheck", healthcheck)
        .f(
            "Image",
            if f.pause {
                c.image.clone()
            } else {
                format!("sha256:{}", (f.input.image_id)(&c.image))
            },
        )
        .f("Volumes", GoValue::Nil(Nil::Map))
        .f(
            "WorkingDir",
            spec.and_then(|s| s.working_dir.clone()).unwrap_or_default(),
        )
        .f("Entrypoint", GoValue::opt_strs(f.entrypoint.as_deref()))
        .f("OnBuild", GoValue::Nil(Nil::Slice))
        .f("Labels", GoValue::from(labels))
        .done()
}

fn docker_network_settings(f: &Facts) -> GoValue {
    let sb = f.sb();
    let (sandbox_id, sandbox_key, networks) = if f.pause {
        let network = if f.host_network { "host" } else { "none" };
        let sandbox_id = hex64(&format!("sandbox:{}", sb.pause.id));
        let key = if f.host_network {
            "/var/run/docker/netns/default".to_string()
        } else {
            format!("/var/run/docker/netns/{}", short(&sandbox_id, 12))
        };
        let endpoint = Obj::new()
            .g("IPAMConfig", "IPAMConfig", GoValue::Nil(Nil::Ptr))
            .f("Links", GoValue::Nil(Nil::Slice))
            .f("Aliases", GoValue::Nil(Nil::Slice))
            .f(
                "NetworkID",
                hex64(&format!("network:{network}:{}", f.node_name)),
            )
            .f("EndpointID", hex64(&format!("endpoint:{}", sb.pause.id)))
            .f("Gateway", "")
            .f("IPAddress", "")
            .f("IPPrefixLen", 0)
            .f("IPv6Gateway", "")
            .f("GlobalIPv6Address", "")
            .f("GlobalIPv6PrefixLen", 0)
            .f("MacAddress", "")
            .f("DriverOpts", GoValue::Nil(Nil::Map))
            .done();
        (
            sandbox_id,
            key,
            GoValue::Map(BTreeMap::from([(network.to_string(), endpoint)])),
        )
    } else {
        (String::new(), String::new(), GoValue::empty_map())
    };
    Obj::new()
        .f("Bridge", "")
        .f("SandboxID", sandbox_id)
        .f("HairpinMode", false)
        .f("LinkLocalIPv6Address", "")
        .f("LinkLocalIPv6PrefixLen", 0)
        .f("Ports", GoValue::empty_map())
        .f("SandboxKey", sandbox_key)
        .f("SecondaryIPAddresses", GoValue::Nil(Nil::Slice))
        .f("SecondaryIPv6Addresses", GoValue::Nil(Nil::Slice))
        .f("EndpointID", "")
        .f("Gateway", "")
        .f("GlobalIPv6Address", "")
        .f("GlobalIPv6PrefixLen", 0)
        .f("IPAddress", "")
        .f("IPPrefixLen", 0)
        .f("IPv6Gateway", "")
        .f("MacAddress", "")
        .f("Networks", networks)
        .done()
}

// ---------------------------------------------------------------------------------------------
// crictl inspect
// ---------------------------------------------------------------------------------------------

/// `crictl inspect ID` (crictl 1.28, containerd 1.7) of a pod's container: `status` (the CRI
/// `ContainerStatus`) and `info` (containerd's `ContainerInfo`: sandbox, PID, snapshot, runtime,
/// the CRI config the kubelet sent, and the OCI runtime spec).
///
/// `info.runtimeSpec` is reduced: it has the process (user, argv, environment, capabilities,
/// AppArmor profile, OOM score), the root, the mounts, the CRI annotations and the Linux
/// resources, cgroup path, namespaces and masked paths; it leaves out the spec's devices,
/// seccomp and sysctl details, and the user's supplementary groups are `[0]`. Only the pod's
/// containers are CRI containers: the caller answers NotFound for a sandbox id.
pub fn crictl_inspect_value(input: &InspectInput) -> GoValue {
    let f = Facts::new(input);
    Obj::new()
        .f("status", crictl_status(&f))
        .f("info", crictl_info(&f))
        .done()
}

fn crictl_status(f: &Facts) -> GoValue {
    let c = f.c();
    let created = rfc3339_nano(c.created_ms);
    let (image, image_ref) = f.status_image().unwrap_or_else(|| {
        (
            c.image.clone(),
            format!("sha256:{}", (f.input.image_id)(&c.image)),
        )
    });
    let r = &f.resources;
    let linux = Obj::new()
        .f("cpuPeriod", r.cpu_period.to_string())
        .f("cpuQuota", r.cpu_quota.to_string())
        .f("cpuShares", r.cpu_shares.to_string())
        .f("cpusetCpus", "")
        .f("cpusetMems", "")
        .f("hugepageLimits", GoValue::List(Vec::new()))
        .f("memoryLimitInBytes", r.memory_limit.to_string())
        .f("memorySwapLimitInBytes", r.memory_limit.to_string())
        .f("oomScoreAdj", r.oom_score_adj.to_string())
        .f("unified", GoValue::empty_map())
        .done();
    let mounts = f
        .mounts
        .iter()
        .map(|m| {
            Obj::new()
                .f("containerPath", m.container_path.clone())
                .f("gidMappings", GoValue::List(Vec::new()))
                .f("hostPath", m.host_path.clone())
                .f("propagation", m.propagation)
                .f("readonly", m.readonly)
                .f("selinuxRelabel", false)
                .f("uidMappings", GoValue::List(Vec::new()))
                .done()
        })
        .collect::<Vec<_>>();
    // Top-level keys in the cri-api v0.28 `ContainerStatus` field order; the nested objects
    // went through a Go map, so their keys sort.
    Obj::new()
        .f("id", c.id.clone())
        .f(
            "metadata",
            Obj::new().f("attempt", 0).f("name", c.name.clone()).done(),
        )
        .f("state", "CONTAINER_RUNNING")
        .f("createdAt", created.clone())
        .f("startedAt", created)
        .f("finishedAt", ZERO_TIME)
        .f("exitCode", 0)
        .f(
            "image",
            Obj::new()
                .f("annotations", GoValue::empty_map())
                .f("image", image)
                .done(),
        )
        .f("imageRef", image_ref)
        .f("reason", "")
        .f("message", "")
        .f("labels", GoValue::from(f.cri_labels.clone()))
        .f("annotations", GoValue::from(f.cri_annotations.clone()))
        .f("mounts", GoValue::List(mounts))
        .f("logPath", f.log_path())
        .f(
            "resources",
            Obj::new()
                .f("linux", linux)
                .f("windows", GoValue::Nil(Nil::Ptr))
                .done(),
        )
        .done()
}

fn crictl_info(f: &Facts) -> GoValue {
    let c = f.c();
    let sb = f.sb();
    Obj::new()
        .f("sandboxID", sb.pause.id.clone())
        .f("pid", c.pid)
        .f("removing", false)
        .f("snapshotKey", c.id.clone())
        .f("snapshotter", "overlayfs")
        .f("runtimeType", "io.containerd.runc.v2")
        .f(
            "runtimeOptions",
            Obj::new().f("systemd_cgroup", true).done(),
        )
        .f("config", crictl_config(f))
        .f("runtimeSpec", crictl_runtime_spec(f))
        .done()
}

/// The CRI `ContainerConfig` the kubelet sent, as containerd's `encoding/json` writes the gogo
/// struct (snake_case keys, `omitempty`, enums as numbers).
fn crictl_config(f: &Facts) -> GoValue {
    let c = f.c();
    let spec = f.spec;
    let r = &f.resources;
    let non_empty = |v: Option<&Vec<String>>| v.filter(|v| !v.is_empty()).map(|v| GoValue::strs(v));
    let envs = (!f.envs.is_empty()).then(|| {
        GoValue::List(
            f.envs
                .iter()
                .map(|(k, v)| Obj::new().f("key", k.clone()).f("value", v.clone()).done())
                .collect(),
        )
    });
    let mounts = (!f.mounts.is_empty()).then(|| {
        GoValue::List(
            f.mounts
                .iter()
                .map(|m| {
                    Obj::new()
                        .f("container_path", m.container_path.clone())
                        .f("host_path", m.host_path.clone())
                        .omit("readonly", m.readonly.then_some(true))
                        .omit(
                            "propagation",
                            (m.propagation_number() != 0).then_some(m.propagation_number()),
                        )
                        .done()
                })
                .collect(),
        )
    });
    let hugepages = GoValue::List(
        r.hugepage_sizes
            .iter()
            .map(|s| Obj::new().f("page_size", *s).done())
            .collect(),
    );
    let resources = Obj::new()
        .f("cpu_period", r.cpu_period)
        .omit("cpu_quota", (r.cpu_quota != 0).then_some(r.cpu_quota))
        .f("cpu_shares", r.cpu_shares)
        .omit(
            "memory_limit_in_bytes",
            (r.memory_limit != 0).then_some(r.memory_limit),
        )
        .f("oom_score_adj", r.oom_score_adj)
        .f("hugepage_limits", hugepages)
        .omit(
            "memory_swap_limit_in_bytes",
            (r.memory_limit != 0).then_some(r.memory_limit),
        )
        .done();
    let capabilities = (f.cap_add.is_some() || f.cap_drop.is_some()).then(|| {
        Obj::new()
            .omit("add_capabilities", non_empty(f.cap_add.as_ref()))
            .omit("drop_capabilities", non_empty(f.cap_drop.as_ref()))
            .done()
    });
    let pod_spec = f.input.pod.and_then(|p| p.spec.as_ref());
    let ns_mode = |host: bool, pod_wide: bool, default: i64| {
        if host {
            2
        } else if pod_wide {
            0
        } else {
            default
        }
    };
    let network = ns_mode(f.host_network, true, 0);
    let pid = ns_mode(
        pod_spec.and_then(|s| s.host_pid) == Some(true),
        pod_spec.and_then(|s| s.share_process_namespace) == Some(true),
        1,
    );
    let ipc = ns_mode(pod_spec.and_then(|s| s.host_ipc) == Some(true), true, 0);
    let namespace_options = Obj::new()
        .omit("network", (network != 0).then_some(network))
        .omit("pid", (pid != 0).then_some(pid))
        .omit("ipc", (ipc != 0).then_some(ipc))
        .done();
    let security_context = Obj::new()
        .omit("capabilities", capabilities)
        .omit("privileged", f.privileged.then_some(true))
        .f("namespace_options", namespace_options)
        .omit("no_new_privs", f.no_new_privs.then_some(true))
        .f("masked_paths", GoValue::strs(&MASKED_PATHS))
        .f("readonly_paths", GoValue::strs(&READONLY_PATHS))
        .f("seccomp", Obj::new().f("profile_type", 1).done())
        .done();
    Obj::new()
        .f("metadata", Obj::new().f("name", c.name.clone()).done())
        .f(
            "image",
            Obj::new()
                .f("image", format!("sha256:{}", (f.input.image_id)(&c.image)))
                .done(),
        )
        .omit("command", non_empty(spec.and_then(|s| s.command.as_ref())))
        .omit("args", non_empty(spec.and_then(|s| s.args.as_ref())))
        .omit(
            "working_dir",
            spec.and_then(|s| s.working_dir.clone())
                .filter(|w| !w.is_empty()),
        )
        .omit("envs", envs)
        .omit("mounts", mounts)
        .f("labels", GoValue::from(f.cri_labels.clone()))
        .f("annotations", GoValue::from(f.cri_annotations.clone()))
        .f("log_path", format!("{}/0.log", c.name))
        .omit("stdin", spec.and_then(|s| s.stdin).filter(|b| *b))
        .omit("stdin_once", spec.and_then(|s| s.stdin_once).filter(|b| *b))
        .omit("tty", spec.and_then(|s| s.tty).filter(|b| *b))
        .f(
            "linux",
            Obj::new()
                .f("resources", resources)
                .f("security_context", security_context)
                .done(),
        )
        .done()
}

/// The OCI runtime spec containerd 1.7 generated (runtime-spec v1.1.0-rc.1), reduced as
/// [`crictl_inspect_value`] says.
fn crictl_runtime_spec(f: &Facts) -> GoValue {
    let c = f.c();
    let sb = f.sb();
    let r = &f.resources;
    let (image, _) = f
        .status_image()
        .unwrap_or_else(|| (c.image.clone(), String::new()));
    let mut env = vec![IMAGE_PATH.to_string(), format!("HOSTNAME={}", f.hostname)];
    env.extend(f.envs.iter().map(|(k, v)| format!("{k}={v}")));
    let caps: Vec<String> = if f.privileged {
        ALL_CAPS.iter().map(|s| s.to_string()).collect()
    } else {
        let with_prefix = |c: &String| {
            let up = c.to_ascii_uppercase();
            if up.starts_with("CAP_") {
                up
            } else {
                format!("CAP_{up}")
            }
        };
        let mut caps: Vec<String> = DEFAULT_CAPS.iter().map(|s| s.to_string()).collect();
        for add in f.cap_add.iter().flatten().map(with_prefix) {
            if add == "CAP_ALL" {
                caps = ALL_CAPS.iter().map(|s| s.to_string()).collect();
            } else if !caps.contains(&add) {
                caps.push(add);
            }
        }
        for drop in f.cap_drop.iter().flatten().map(with_prefix) {
            if drop == "CAP_ALL" {
                caps.clear();
            } else {
                caps.retain(|c| *c != drop);
            }
        }
        caps
    };
    let capabilities = Obj::new()
        .f("bounding", GoValue::strs(&caps))
        .f("effective", GoValue::strs(&caps))
        .f("permitted", GoValue::strs(&caps))
        .done();
    let process = Obj::new()
        .f(
            "user",
            Obj::new()
                .f("uid", 0)
                .f("gid", 0)
                .f("additionalGids", GoValue::List(vec![GoValue::Int(0)]))
                .done(),
        )
        .f("args", GoValue::strs(&f.argv()))
        .f("env", GoValue::strs(&env))
        .f(
            "cwd",
            f.spec
                .and_then(|s| s.working_dir.clone())
                .filter(|w| !w.is_empty())
                .unwrap_or_else(|| "/".into()),
        )
        .f("capabilities", capabilities)
        .omit("noNewPrivileges", f.no_new_privs.then_some(true))
        .omit(
            "apparmorProfile",
            (!f.privileged).then_some("cri-containerd.apparmor.d"),
        )
        .f("oomScoreAdj", r.oom_score_adj)
        .done();
    let sys_mode = if f.privileged { "rw" } else { "ro" };
    let default_mount = |dest: &str, ty: &str, opts: &[&str]| {
        Obj::new()
            .f("destination", dest)
            .f("type", ty)
            .f("source", ty)
            .f("options", GoValue::strs(opts))
            .done()
    };
    let mut mounts = vec![
        default_mount("/proc", "proc", &["nosuid", "noexec", "nodev"]),
        Obj::new()
            .f("destination", "/dev")
            .f("type", "tmpfs")
            .f("source", "tmpfs")
            .f(
                "options",
                GoValue::strs(&["nosuid", "strictatime", "mode=755", "size=65536k"]),
            )
            .done(),
        default_mount(
            "/dev/pts",
            "devpts",
            &[
                "nosuid",
                "noexec",
                "newinstance",
                "ptmxmode=0666",
                "mode=0620",
                "gid=5",
            ],
        ),
        default_mount("/dev/mqueue", "mqueue", &["nosuid", "noexec", "nodev"]),
        default_mount("/sys", "sysfs", &["nosuid", "noexec", "nodev", sys_mode]),
        default_mount(
            "/sys/fs/cgroup",
            "cgroup",
            &["nosuid", "noexec", "nodev", "relatime", sys_mode],
        ),
    ];
    // The kubelet's mounts, then the sandbox's hostname, resolv.conf and shm, ordered by path
    // depth (containerd's `orderedMounts`, a stable sort).
    let sandboxes = "io.containerd.grpc.v1.cri/sandboxes";
    let mut cri: Vec<(String, String, &str, &str)> = f
        .mounts
        .iter()
        .map(|m| {
            (
                m.container_path.clone(),
                m.host_path.clone(),
                m.kernel_propagation(),
                if m.readonly { "ro" } else { "rw" },
            )
        })
        .collect();
    for (dest, dir, file) in [
        ("/etc/hostname", "/var/lib/containerd", "hostname"),
        ("/etc/resolv.conf", "/var/lib/containerd", "resolv.conf"),
        ("/dev/shm", "/run/containerd", "shm"),
    ] {
        cri.push((
            dest.to_string(),
            format!("{dir}/{sandboxes}/{}/{file}", sb.pause.id),
            "rprivate",
            "rw",
        ));
    }
    let depth = |p: &str| p.split('/').filter(|s| !s.is_empty()).count();
    cri.sort_by_key(|(dest, ..)| depth(dest));
    for (dest, source, propagation, mode) in cri {
        mounts.push(
            Obj::new()
                .f("destination", dest)
                .f("type", "bind")
                .f("source", source)
                .f("options", GoValue::strs(&["rbind", propagation, mode]))
                .done(),
        );
    }
    let (ns, pod_name) = (f.ns, f.pod_name);
    let annotations = BTreeMap::from([
        (
            "io.kubernetes.cri.container-name".to_string(),
            c.name.clone(),
        ),
        (
            "io.kubernetes.cri.container-type".to_string(),
            "container".to_string(),
        ),
        ("io.kubernetes.cri.image-name".to_string(), image),
        (
            "io.kubernetes.cri.sandbox-id".to_string(),
            sb.pause.id.clone(),
        ),
        (
            "io.kubernetes.cri.sandbox-name".to_string(),
            pod_name.to_string(),
        ),
        (
            "io.kubernetes.cri.sandbox-namespace".to_string(),
            ns.to_string(),
        ),
        (
            "io.kubernetes.cri.sandbox-uid".to_string(),
            f.uid.to_string(),
        ),
    ]);
    let cpu = Obj::new()
        .f("shares", r.cpu_shares)
        .omit("quota", (r.cpu_quota != 0).then_some(r.cpu_quota))
        .f("period", r.cpu_period)
        .done();
    let memory = if r.memory_limit != 0 {
        Obj::new()
            .f("limit", r.memory_limit)
            .f("swap", r.memory_limit)
            .done()
    } else {
        Obj::new().done()
    };
    let hugepages = GoValue::List(
        r.hugepage_sizes
            .iter()
            .map(|s| Obj::new().f("pageSize", *s).f("limit", 0).done())
            .collect(),
    );
    let resources = Obj::new()
        .f(
            "devices",
            GoValue::List(vec![
                Obj::new()
                    .f("allow", f.privileged)
                    .f("access", "rwm")
                    .done(),
            ]),
        )
        .f("memory", memory)
        .f("cpu", cpu)
        .f("hugepageLimits", hugepages)
        .done();
    let proc_ns = |ty: &str| {
        Obj::new()
            .f("type", ty)
            .f("path", format!("/proc/{}/ns/{ty}", sb.pause.pid))
            .done()
    };
    let pod_spec = f.input.pod.and_then(|p| p.spec.as_ref());
    let mut namespaces = Vec::new();
    if pod_spec.and_then(|s| s.host_pid) != Some(true) {
        namespaces.push(
            if pod_spec.and_then(|s| s.share_process_namespace) == Some(true) {
                proc_ns("pid")
            } else {
                Obj::new().f("type", "pid").done()
            },
        );
    }
    if pod_spec.and_then(|s| s.host_ipc) != Some(true) {
        namespaces.push(proc_ns("ipc"));
    }
    namespaces.push(proc_ns("uts"));
    namespaces.push(Obj::new().f("type", "mount").done());
    namespaces.push(
        Obj::new()
            .f("type", "network")
            .f("path", format!("/proc/{}/ns/net", sb.pause.pid))
            .done(),
    );
    let namespaces = GoValue::List(namespaces);
    let mut linux = Obj::new()
        .f("resources", resources)
        .f(
            "cgroupsPath",
            format!("{}:cri-containerd:{}", f.cgroup_parent, c.id),
        )
        .f("namespaces", namespaces);
    if !f.privileged {
        linux = linux
            .f("maskedPaths", GoValue::strs(&MASKED_PATHS))
            .f("readonlyPaths", GoValue::strs(&READONLY_PATHS));
    }
    Obj::new()
        .f("ociVersion", "1.1.0-rc.1")
        .f("process", process)
        .f("root", Obj::new().f("path", "rootfs").done())
        .f("mounts", GoValue::List(mounts))
        .f("annotations", GoValue::from(annotations))
        .f("linux", linux.done())
        .done()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_units_durations() {
        assert_eq!(units_human_duration(0), "Less than a second");
        assert_eq!(units_human_duration(90), "About a minute");
        assert_eq!(units_human_duration(720), "12 minutes");
        assert_eq!(units_human_duration(3700), "About an hour");
        assert_eq!(units_human_duration(86400), "24 hours");
    }

    #[test]
    fn docker_ps_cuts_ids_and_commands_unless_told_not_to() {
        let rec = |name: &str, id: &str, image: &str, command: &str| ContainerRec {
            name: name.into(),
            id: id.into(),
            pid: 1,
            image: image.into(),
            command: command.into(),
            created_ms: 0,
        };
        let sb = Sandbox {
            pod: "default/web".into(),
            uid: "u1".into(),
            pause: rec(
                "POD",
                &"a".repeat(64),
                "registry.k8s.io/pause:3.9",
                "/pause",
            ),
            containers: vec![rec(
                "web",
                &"b".repeat(64),
                "nginx",
                "/docker-entrypoint.sh nginx -g \"daemon off;\"",
            )],
        };
        let image_id = |_: &str| "c".repeat(64);
        let rows = [(&sb, &sb.containers[0])];
        let cut = docker_ps(&rows, 60_000, &image_id, false);
        assert!(
            cut.contains(
                "bbbbbbbbbbbb   cccccccccccc   \"/docker-entrypoint.…\"   About a minute ago"
            ),
            "{cut}"
        );
        let whole = docker_ps(&rows, 60_000, &image_id, true);
        assert!(whole.contains(&"b".repeat(64)), "{whole}");
        assert!(
            whole.contains(&format!("sha256:{}", "c".repeat(64))),
            "{whole}"
        );
        // strconv.Quote escapes the command's own quotes.
        assert!(
            whole.contains(r#""/docker-entrypoint.sh nginx -g \"daemon off;\"""#),
            "{whole}"
        );
    }

    #[test]
    fn docker_ps_formats_run_over_the_cli_fields() {
        let image_id = |_: &str| "c".repeat(64);
        // An empty table still has its header; an unknown field is only met by a row.
        assert_eq!(
            docker_ps_format(r"table {{.ID}}\t{{.Names}}", &[], 0, &image_id, false),
            Ok("CONTAINER ID   NAMES\n".into())
        );
        assert_eq!(
            docker_ps_format("{{.Nope}}", &[], 0, &image_id, false),
            Ok(String::new())
        );
        assert_eq!(
            docker_ps_format("{{.Size}}", &[], 0, &image_id, false),
            Err(PsFormatError::Unsupported)
        );
        assert_eq!(
            docker_ps_format("{{range .}}{{end}}", &[], 0, &image_id, false),
            Err(PsFormatError::Unsupported)
        );
    }

    fn sample() -> GoValue {
        Obj::new()
            .g("Id", "ID", "abc")
            .f(
                "State",
                Obj::new().f("Status", "running").f("Pid", 4349).done(),
            )
            .f(
                "Config",
                Obj::new()
                    .f("Cmd", GoValue::Nil(Nil::Slice))
                    .f(
                        "Labels",
                        GoValue::from(BTreeMap::from([
                            ("b".to_string(), "2".to_string()),
                            ("a".to_string(), "<1>".to_string()),
                        ])),
                    )
                    .done(),
            )
            .f("Ports", GoValue::empty_map())
            .done()
    }

    #[test]
    fn docker_templates() {
        let v = sample();
        assert_eq!(docker_format("{{ .State.Pid }}", &v).unwrap(), "4349");
        // `Id` is not a Go field (`ID` is): the raw fallback answers.
        assert_eq!(docker_format("id={{.Id}}", &v).unwrap(), "id=abc");
        assert_eq!(
            docker_format("{{json .Config.Labels}}", &v).unwrap(),
            "{\"a\":\"<1>\",\"b\":\"2\"}"
        );
        // Struct order, not sorted keys.
        assert_eq!(
            docker_format("{{json .State}}", &v).unwrap(),
            "{\"Status\":\"running\",\"Pid\":4349}"
        );
        assert_eq!(docker_format("{{.Config.Cmd}}", &v).unwrap(), "[]");
        assert_eq!(
            docker_format("{{.State.Nope}}", &v).unwrap_err(),
            "template parsing error: template: :1:8: executing \"\" at <.State.Nope>: map has no entry for key \"Nope\""
        );
        assert!(docker_format("{{ .State.Pid", &v).is_err());
    }

    #[test]
    fn crictl_templates() {
        let v = Obj::new()
            .f("status", Obj::new().f("id", "abc").done())
            .f("info", Obj::new().f("pid", 12).done())
            .done();
        assert_eq!(crictl_format("{{.info.pid}}", &v).unwrap(), "12");
        assert_eq!(crictl_format("{{.info.nope}}", &v).unwrap(), "<no value>");
        assert!(crictl_format("{{.info.nope.x}}", &v).is_err());
    }

    #[test]
    fn json_indent_like_go() {
        let text = docker_inspect_json(&[sample()]);
        assert!(text.starts_with("[\n    {\n        \"Id\": \"abc\",\n        \"State\": {\n"));
        assert!(text.contains("\"Cmd\": null,"));
        assert!(text.contains("\"a\": \"<1>\""));
        assert!(text.contains("\"Ports\": {}\n"));
        assert!(text.ends_with("    }\n]\n"));
        let crictl = crictl_inspect_json(&sample());
        assert!(crictl.starts_with("{\n  \"Id\": \"abc\",\n  \"State\": {\n    \"Status\""));
        assert!(crictl.contains("\"a\": \"\\u003c1\\u003e\""));
    }

    #[test]
    fn go_rfc3339_nano() {
        assert_eq!(rfc3339_nano(1_704_153_602_970), "2024-01-02T00:00:02.97Z");
        assert_eq!(rfc3339_nano(1_704_153_602_000), "2024-01-02T00:00:02Z");
        assert_eq!(rfc3339_nano(1_704_153_602_001), "2024-01-02T00:00:02.001Z");
    }

    #[test]
    fn kubernetes_expansion() {
        let env = vec![("A".to_string(), "x".to_string())];
        assert_eq!(expand("$(A)-$(B)-$$(A)-$", &env), "x-$(B)-$(A)-$");
    }

    #[test]
    fn quantities() {
        assert_eq!(quantity_milli("100m"), 100);
        assert_eq!(quantity_milli("0.5"), 500);
        assert_eq!(quantity_milli("1"), 1000);
        assert_eq!(quantity_milli("170Mi") / 1000, 170 << 20);
        assert_eq!(quantity_milli("4023220Ki") / 1000, 4_023_220 << 10);
    }
}
