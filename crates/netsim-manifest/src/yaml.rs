//! The YAML layer: splitting a manifest stream into documents the way kubectl does, and reading
//! one document into JSON plus the source position of every node.
//!
//! This module owns the only calls into serde-saphyr (swap the YAML library here and nowhere
//! else). It must never know about Kubernetes kinds or fields: it returns plain JSON values.

use crate::goyaml;
use crate::limits;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{DuplicateKeyPolicy, Spanned};
use std::collections::BTreeMap;
use std::fmt;

/// One document of a stream, as kubectl's `yaml.NewYAMLReader` cuts it.
#[derive(Debug, Clone)]
pub(crate) struct Chunk {
    /// The document's text, including its own line breaks.
    pub text: String,
    /// 1-based line of the file on which the chunk's first line sits.
    pub start_line: usize,
}

/// Where a node sits, 1-based, relative to the chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    /// Line within the chunk (1-based).
    pub line: usize,
    /// Column (1-based, in characters).
    pub column: usize,
}

/// A parsed document: its JSON form, where each field path sits, and duplicated keys.
#[derive(Debug, Clone)]
pub(crate) struct Tree {
    /// The document as JSON (last value wins for duplicated keys, as in Go maps).
    pub value: serde_json::Value,
    /// Field path (`spec.ports[0].port`) → position of the key (or of the item, for lists).
    pub positions: BTreeMap<String, Pos>,
    /// Paths of keys that appear more than once in their mapping, in document order.
    pub duplicates: Vec<String>,
}

/// A YAML syntax error in go-yaml's words, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// The message after `yaml: line N: `, e.g. `found character that cannot start any token`.
    pub message: String,
    /// The line number go-yaml would print (chunk-relative); `None` when go-yaml prints none.
    pub go_line: Option<usize>,
    /// Where the problem is, chunk-relative, 1-based.
    pub pos: Pos,
    /// What kind of problem it is (for the hint).
    pub kind: SyntaxKind,
}

impl SyntaxError {
    /// go-yaml's own text: `yaml: line 3: mapping values are not allowed in this context`.
    pub fn go_text(&self) -> String {
        if self.kind == SyntaxKind::Json {
            return self.message.clone();
        }
        match self.go_line {
            Some(l) => format!("yaml: line {l}: {}", self.message),
            None => format!("yaml: {}", self.message),
        }
    }
}

/// Families of syntax errors the CLI explains differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyntaxKind {
    /// A character YAML does not allow in a file (its code point): a NUL, an escape, a file
    /// that is not text at all.
    Control(u32),
    /// An alias problem: to an anchor never defined, inside its own anchor, or expanding into
    /// far more than the document holds (an alias bomb).
    Alias,
    /// Nesting deeper than netsim reads.
    Depth,
    /// A document larger than netsim reads once its aliases are expanded.
    Size,
    /// A quote or bracket that is never closed.
    Unclosed,
    /// JSON that Go's decoder refuses (the message is Go's, without a YAML frame).
    Json,
    /// A TAB where YAML needs indentation spaces.
    Tab,
    /// Indentation that does not line up (`mapping values are not allowed`, …).
    Indentation,
    /// A key appears twice in one mapping (only reported by YAML-level strictness).
    DuplicateKey,
    /// Anything else.
    Other,
}

/// Cuts `text` into documents like apimachinery's `YAMLReader`: a line beginning with `---`
/// followed only by blanks (or a comment) ends the current document when it is non-empty;
/// when the buffer is empty the separator line starts the next document (so go-yaml line
/// numbers count it). Documents holding only blanks and comments are dropped.
pub(crate) fn split_documents(text: &str) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    let mut buf = String::new();
    let mut start = 1usize;
    for (idx, line) in text.split_inclusive('\n').enumerate() {
        let line_no = idx + 1;
        if is_separator(line) && !buf.is_empty() {
            chunks.push(Chunk {
                text: std::mem::take(&mut buf),
                start_line: start,
            });
            start = line_no + 1;
            continue;
        }
        if buf.is_empty() {
            start = line_no;
        }
        buf.push_str(line);
    }
    if !buf.is_empty() {
        chunks.push(Chunk {
            text: buf,
            start_line: start,
        });
    }
    chunks.retain(|c| !is_blank_document(&c.text));
    chunks
}

fn is_separator(line: &str) -> bool {
    match line.strip_prefix("---") {
        Some(rest) => {
            let rest = rest.trim();
            rest.is_empty() || rest.starts_with('#')
        }
        None => false,
    }
}

/// Whether a chunk holds nothing but blanks, comments and `---` markers (go-yaml reads it as
/// null, which kubectl skips). A lone `...` is not blank: go-yaml refuses it.
fn is_blank_document(text: &str) -> bool {
    text.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#') || is_separator(l)
    })
}

/// Reads one YAML document into a [`Tree`], checking first for what go-yaml rejects and
/// serde-saphyr would accept or word differently, and for netsim's [`limits`]: an alias bomb or
/// a runaway nesting is refused from the event stream, before anything is built.
pub(crate) fn parse_yaml(text: &str) -> Result<Tree, SyntaxError> {
    if let Some(end) = lone_document_end(text) {
        return Err(end);
    }
    let scan = scan(text);
    // What go-yaml meets while reading characters and parsing, before it decodes anything: the
    // first one in the text is the one it reports. Its reader decodes (and checks) the input
    // 512 bytes at a time ahead of the scanner, so a bad character wins over any syntax
    // problem in the same block.
    let reader = reader_problem(text);
    let reader_block = reader.as_ref().map(|e| block_of(text, e.pos));
    let before_reader = |pos: Pos| reader_block.is_none_or(|b| block_of(text, pos) < b);
    let early = [goyaml::check_tabs(text), scan.parse_error]
        .into_iter()
        .flatten()
        .filter(|e| before_reader(e.pos))
        .min_by_key(|e| (e.pos.line, e.pos.column))
        .or(reader);
    match scan.failed_at {
        None => {
            if let Some(e) = early {
                return Err(e);
            }
            if let Some(e) = scan.decode_error {
                return Err(e);
            }
        }
        Some((line, column)) => {
            let failed = Pos { line, column };
            if let Some(e) = early.as_ref().filter(|e| {
                (e.pos.line, e.pos.column) <= (line, column)
                    || (e.kind != SyntaxKind::Tab && !before_reader(failed))
            }) {
                return Err(e.clone());
            }
        }
    }
    let parsed: Result<Spanned<Raw>, serde_saphyr::Error> =
        serde_saphyr::from_str_with_options(text, saphyr_options());
    match parsed {
        Ok(raw) => {
            if let Some(e) = early {
                return Err(e);
            }
            let mut tree = Tree {
                value: serde_json::Value::Null,
                positions: BTreeMap::new(),
                duplicates: Vec::new(),
            };
            tree.value = to_json(&raw, "", &mut tree)?;
            Ok(tree)
        }
        Err(e) => {
            let saphyr = goyaml::translate(&e, text);
            match early {
                // serde-saphyr may place a TAB problem on the line before it (where the plain
                // scalar it was scanning started); prefer go-yaml's view of TABs.
                Some(first)
                    if first.pos.line <= saphyr.pos.line
                        || saphyr.kind == SyntaxKind::Tab
                        || !before_reader(saphyr.pos) =>
                {
                    Err(first)
                }
                _ => Err(saphyr),
            }
        }
    }
}

/// serde-saphyr's settings: go-yaml's YAML 1.1 numbers, duplicates left to strict decoding, and
/// budgets just above netsim's [`limits`] (which [`scan`] has enforced already), so that they
/// only ever back it up.
fn saphyr_options() -> serde_saphyr::Options {
    let nodes = usize::try_from(limits::MAX_NODES).unwrap_or(usize::MAX);
    let bytes = usize::try_from(limits::MAX_SCALAR_BYTES).unwrap_or(usize::MAX);
    let depth = limits::MAX_DEPTH + 8;
    serde_saphyr::options! {
        legacy_octal_numbers: true,
        duplicate_keys: DuplicateKeyPolicy::PassThrough,
        with_snippet: false,
        budget: serde_saphyr::budget! {
            flow_nesting_limit: depth,
            max_depth: depth,
            max_nodes: nodes.saturating_add(16),
            max_events: nodes.saturating_mul(4),
            max_aliases: nodes,
            max_anchors: nodes,
            max_recorded_anchor_events: nodes.saturating_mul(4),
            max_recorded_anchor_bytes: bytes.saturating_mul(2),
            max_total_scalar_bytes: bytes.saturating_add(1024),
            // go-yaml's rule (in `scan`) decides what is too much aliasing, not a ratio of
            // aliases to anchors: 200 uses of one anchored label set are fine.
            enforce_alias_anchor_ratio: false,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: nodes.saturating_mul(4),
            max_replay_stack_depth: depth,
            max_alias_expansions_per_anchor: usize::MAX,
        },
    }
}

/// go-yaml's `did not find expected node content` for a document that is only `...` (an end
/// marker with nothing to end), which serde-saphyr reads as an empty document.
fn lone_document_end(text: &str) -> Option<SyntaxError> {
    let mut end = None;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') || is_separator(line) {
            continue;
        }
        if t == "..." || t.starts_with("... ") {
            end.get_or_insert(i);
            continue;
        }
        return None;
    }
    let line0 = end?;
    Some(SyntaxError {
        message: "did not find expected node content".to_string(),
        // A parser error: go-yaml prints the 0-based line of the token, or none on line 0.
        go_line: (line0 != 0).then_some(line0),
        pos: Pos {
            line: line0 + 1,
            column: 1,
        },
        kind: SyntaxKind::Other,
    })
}

/// Which of go-yaml's 512-byte reader blocks a position falls in.
fn block_of(text: &str, pos: Pos) -> usize {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(pos.line.saturating_sub(1))
        .map(str::len)
        .sum();
    let in_line: usize = text
        .get(line_start..)
        .unwrap_or("")
        .chars()
        .take(pos.column.saturating_sub(1))
        .map(char::len_utf8)
        .sum();
    (line_start + in_line) / 512
}

/// The first character go-yaml's reader refuses (`yaml_parser_update_buffer`): it allows TAB,
/// line breaks, printable ASCII, NEL and the printable planes, and nothing else.
fn reader_problem(text: &str) -> Option<SyntaxError> {
    let allowed = |c: char| {
        matches!(c, '\t' | '\n' | '\r' | ' '..='~' | '\u{85}' | '\u{A0}'..='\u{D7FF}')
            || ('\u{E000}'..='\u{FFFD}').contains(&c)
            || c >= '\u{10000}'
    };
    for (i, line) in text.split('\n').enumerate() {
        if let Some((col, c)) = line.chars().enumerate().find(|(_, c)| !allowed(*c)) {
            return Some(SyntaxError {
                // A reader error: go-yaml prints no line for it.
                message: "control characters are not allowed".to_string(),
                go_line: None,
                pos: Pos {
                    line: i + 1,
                    column: col + 1,
                },
                kind: SyntaxKind::Control(u32::from(c)),
            });
        }
    }
    None
}

/// What [`scan`] found in one document's event stream.
#[derive(Debug, Default)]
struct Scan {
    /// A problem go-yaml meets while parsing (nesting too deep, an unknown anchor).
    parse_error: Option<SyntaxError>,
    /// A problem go-yaml (or netsim's [`limits`]) meets only while decoding a document that
    /// parsed: excessive aliasing, an anchor containing its own alias, too much once expanded.
    decode_error: Option<SyntaxError>,
    /// Where the parser gave up on a syntax error (1-based line and column); serde-saphyr then
    /// words it.
    failed_at: Option<(usize, usize)>,
}

/// What decoding one node costs once its aliases are expanded.
#[derive(Debug, Clone, Copy, Default)]
struct Cost {
    /// go-yaml's `unmarshal` calls (alias nodes count one each, plus their expansion).
    decodes: u64,
    /// Scalars, mappings and sequences.
    nodes: u64,
    /// Bytes of scalar text.
    bytes: u64,
    /// Levels of nesting below and including the node.
    depth: u64,
}

impl Cost {
    fn add(&mut self, child: Cost) {
        self.decodes = self.decodes.saturating_add(child.decodes);
        self.nodes = self.nodes.saturating_add(child.nodes);
        self.bytes = self.bytes.saturating_add(child.bytes);
        self.depth = self.depth.max(child.depth.saturating_add(1));
    }
}

/// go-yaml v2's `allowedAliasRatio`: how much of a document's decoding may be alias expansion,
/// from 99% for small documents down to 10% for very large ones.
fn allowed_alias_ratio(decodes: u64) -> f64 {
    const LOW: u64 = 400_000;
    const HIGH: u64 = 4_000_000;
    if decodes <= LOW {
        0.99
    } else if decodes >= HIGH {
        0.10
    } else {
        0.99 - 0.89 * ((decodes - LOW) as f64 / (HIGH - LOW) as f64)
    }
}

/// go-yaml v2's check, made at every `unmarshal` call (`decoder.unmarshal`).
fn excessive_aliasing(decodes: u64, aliased: u64) -> bool {
    aliased > 100
        && decodes > 1000
        && aliased as f64 / decodes as f64 > allowed_alias_ratio(decodes)
}

/// Walks one document's events (aliases unexpanded, so this costs no more than the text) and
/// finds what go-yaml would refuse about its structure, and what would go past netsim's
/// [`limits`] once built. Decoding is simulated the way go-yaml does it, node by node in text
/// order: an alias costs its anchor's whole expansion, counted as aliased decoding.
fn scan(text: &str) -> Scan {
    use serde_saphyr::granit_parser::{Event, Options, Parser};
    let mut options = Options::default();
    // go-yaml's own limit: far above netsim's, because the scanner runs ahead of the events
    // (over a run of `[[[[`), and the depth check below must speak first.
    options.flow_nesting_limit = 10_000;
    options.block_nesting_limit = 10_000;
    options.emit_anchor_events = true;
    options.emit_unresolved_aliases = true;
    options.emit_comments = false;
    let mut parser = Parser::new_from_str_with_options(text, options);

    let mut out = Scan::default();
    // Open collections: their anchor (0 for none) and their cost so far.
    let mut open: Vec<(usize, Cost)> = Vec::new();
    let mut anchors: BTreeMap<usize, Cost> = BTreeMap::new();
    let mut names: BTreeMap<usize, String> = BTreeMap::new();
    // go-yaml's counters: every `unmarshal` call, and those made inside an alias's expansion.
    let (mut decodes, mut aliased) = (0u64, 0u64);
    let (mut nodes, mut bytes) = (0u64, 0u64);

    while let Some(next) = parser.next_event() {
        let (event, span) = match next {
            Ok(e) => e,
            Err(e) => {
                let m = e.marker();
                out.failed_at = Some((m.line(), m.col() + 1));
                return out;
            }
        };
        let pos = Pos {
            line: span.start.line(),
            column: span.start.col() + 1,
        };
        // The cost of a node that has just been read in full, and its anchor.
        let mut done: Option<(usize, Cost)> = None;
        match event {
            Event::DocumentStart(..) => {
                open.clear();
                anchors.clear();
                (decodes, aliased, nodes, bytes) = (1, 0, 0, 0);
            }
            Event::Scalar(value, _, anchor, _) => {
                decodes += 1;
                nodes += 1;
                bytes = bytes.saturating_add(value.len() as u64);
                let cost = Cost {
                    decodes: 1,
                    nodes: 1,
                    bytes: value.len() as u64,
                    depth: 0,
                };
                done = Some((anchor, cost));
            }
            Event::SequenceStart(_, anchor, _) | Event::MappingStart(_, anchor, _) => {
                decodes += 1;
                nodes += 1;
                open.push((
                    anchor,
                    Cost {
                        decodes: 1,
                        nodes: 1,
                        bytes: 0,
                        depth: 0,
                    },
                ));
                if open.len() > limits::MAX_DEPTH {
                    out.parse_error = Some(depth_error(pos, true));
                    return out;
                }
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some((anchor, mut cost)) = open.pop() {
                    cost.depth = cost.depth.max(1);
                    done = Some((anchor, cost));
                }
            }
            Event::Anchor(id, name) => {
                names.insert(id, name.into_owned());
            }
            Event::UnresolvedAlias(name) => {
                out.parse_error = Some(SyntaxError {
                    // go-yaml's parser `failf`s this without a line.
                    message: format!("unknown anchor '{name}' referenced"),
                    go_line: None,
                    pos,
                    kind: SyntaxKind::Alias,
                });
                return out;
            }
            Event::Alias(id) => {
                // The alias node itself, outside any expansion.
                decodes += 1;
                let name = names.get(&id).cloned().unwrap_or_default();
                if open.iter().any(|(a, _)| *a == id) {
                    out.decode_error.get_or_insert(SyntaxError {
                        message: format!("anchor '{name}' value contains itself"),
                        go_line: None,
                        pos,
                        kind: SyntaxKind::Alias,
                    });
                    done = Some((0, Cost::default()));
                } else {
                    let target = anchors.get(&id).copied().unwrap_or_default();
                    // The expansion: every node of it is an aliased decode. The ratio only
                    // grows along the way, so checking at its end is checking at every step.
                    decodes = decodes.saturating_add(target.decodes);
                    aliased = aliased.saturating_add(target.decodes);
                    nodes = nodes.saturating_add(target.nodes);
                    bytes = bytes.saturating_add(target.bytes);
                    if open.len() as u64 + target.depth > limits::MAX_DEPTH as u64 {
                        out.decode_error.get_or_insert(depth_error(pos, false));
                    }
                    done = Some((
                        0,
                        Cost {
                            decodes: target.decodes.saturating_add(1),
                            nodes: target.nodes,
                            bytes: target.bytes,
                            depth: target.depth,
                        },
                    ));
                }
            }
            Event::StreamEnd => break,
            _ => {}
        }
        if let Some((anchor, cost)) = done {
            if let Some((_, parent)) = open.last_mut() {
                parent.add(cost);
            }
            if anchor != 0 {
                anchors.insert(anchor, cost);
            }
        }
        if excessive_aliasing(decodes, aliased) {
            out.decode_error.get_or_insert(SyntaxError {
                // go-yaml's `failf`, without a line.
                message: "document contains excessive aliasing".to_string(),
                go_line: None,
                pos,
                kind: SyntaxKind::Alias,
            });
        }
        if nodes > limits::MAX_NODES {
            out.decode_error.get_or_insert(SyntaxError {
                message: format!(
                    "document is too large: more than {} nodes once its aliases are expanded (netsim's limit)",
                    limits::MAX_NODES
                ),
                go_line: Some(pos.line),
                pos,
                kind: SyntaxKind::Size,
            });
        }
        if bytes > limits::MAX_SCALAR_BYTES {
            out.decode_error.get_or_insert(SyntaxError {
                message: format!(
                    "document is too large: more than {} of text once its aliases are expanded (netsim's limit)",
                    limits::human_bytes(limits::MAX_SCALAR_BYTES)
                ),
                go_line: Some(pos.line),
                pos,
                kind: SyntaxKind::Size,
            });
        }
    }
    out
}

/// Nesting deeper than [`limits::MAX_DEPTH`], in go-yaml's words for its own (higher) limit.
/// Found while parsing, it is a scanner error (its line printed 1-based, none on the first);
/// found by expanding an alias, netsim says where the alias is.
fn depth_error(pos: Pos, while_parsing: bool) -> SyntaxError {
    SyntaxError {
        message: format!("exceeded max depth of {}", limits::MAX_DEPTH),
        go_line: (!while_parsing || pos.line > 1).then_some(pos.line),
        pos,
        kind: SyntaxKind::Depth,
    }
}

/// Reads one JSON document into a [`Tree`] (positions are not tracked for JSON input).
pub(crate) fn parse_json(value: serde_json::Value) -> Tree {
    Tree {
        value,
        positions: BTreeMap::new(),
        duplicates: Vec::new(),
    }
}

fn pos_of<T>(s: &Spanned<T>) -> Pos {
    Pos {
        line: usize::try_from(s.referenced.line()).unwrap_or(0),
        column: usize::try_from(s.referenced.column()).unwrap_or(0),
    }
}

fn to_json(
    node: &Spanned<Raw>,
    path: &str,
    tree: &mut Tree,
) -> Result<serde_json::Value, SyntaxError> {
    use serde_json::Value;
    Ok(match &node.value {
        Raw::Null => Value::Null,
        Raw::Bool(b) => Value::Bool(*b),
        Raw::I64(i) => Value::from(*i),
        Raw::U64(u) => Value::from(*u),
        // sigs.k8s.io/yaml writes a whole float as Go's `json.Marshal` does, without a
        // fraction (`80.0` → `80`, below 1e21), so that it then fits an integer field.
        Raw::F64(f)
            if f.fract() == 0.0
                && f.abs() < 1e21
                && (i64::MIN as f64..=i64::MAX as f64).contains(f) =>
        {
            Value::from(*f as i64)
        }
        Raw::F64(f) => match serde_json::Number::from_f64(*f) {
            Some(n) => Value::Number(n),
            None => {
                return Err(SyntaxError {
                    message: format!("json: unsupported value: {f}"),
                    go_line: None,
                    pos: pos_of(node),
                    kind: SyntaxKind::Other,
                });
            }
        },
        Raw::Str(s) => Value::String(s.clone()),
        Raw::Seq(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let p = format!("{path}[{i}]");
                tree.positions.insert(p.clone(), pos_of(item));
                out.push(to_json(item, &p, tree)?);
            }
            Value::Array(out)
        }
        Raw::Map(entries) => {
            let mut out = serde_json::Map::new();
            for (key, value) in entries {
                let p = if path.is_empty() {
                    key.value.clone()
                } else {
                    format!("{path}.{}", key.value)
                };
                let v = to_json(value, &p, tree)?;
                if out.insert(key.value.clone(), v).is_some() {
                    tree.duplicates.push(p.clone());
                }
                tree.positions.insert(p, pos_of(key));
            }
            Value::Object(out)
        }
    })
}

/// A YAML node as serde-saphyr hands it over, before it becomes JSON.
#[derive(Debug)]
enum Raw {
    Null,
    Bool(bool),
    I64(i64),
    U64(u64),
    F64(f64),
    Str(String),
    Seq(Vec<Spanned<Raw>>),
    Map(Vec<(Spanned<String>, Spanned<Raw>)>),
}

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Raw, D::Error> {
        deserializer.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = Raw;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML node")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Raw, E> {
        Ok(Raw::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Raw, E> {
        Ok(Raw::I64(v))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Raw, E> {
        match i64::try_from(v) {
            Ok(i) => Ok(Raw::I64(i)),
            Err(_) => Ok(Raw::F64(v as f64)),
        }
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Raw, E> {
        Ok(Raw::U64(v))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Raw, E> {
        match u64::try_from(v) {
            Ok(u) => Ok(Raw::U64(u)),
            Err(_) => Ok(Raw::F64(v as f64)),
        }
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Raw, E> {
        Ok(Raw::F64(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Raw, E> {
        Ok(Raw::Str(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Raw, E> {
        Ok(Raw::Str(v))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Raw, E> {
        Ok(Raw::Str(String::from_utf8_lossy(v).into_owned()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Raw, D::Error> {
        Raw::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Raw, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Raw>>()? {
            items.push(item);
        }
        Ok(Raw::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Raw, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<Key>>()? {
            let value = map.next_value::<Spanned<Raw>>()?;
            let key = Spanned {
                value: key.value.0,
                referenced: key.referenced,
                defined: key.defined,
            };
            entries.push((key, value));
        }
        Ok(Raw::Map(entries))
    }
}

/// A mapping key, turned into the string JSON needs (go-yaml → JSON does the same for
/// numbers and booleans).
struct Key(String);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Key, D::Error> {
        let raw = Raw::deserialize(deserializer)?;
        let s = match raw {
            Raw::Null => "null".to_string(),
            Raw::Bool(b) => b.to_string(),
            Raw::I64(i) => i.to_string(),
            Raw::U64(u) => u.to_string(),
            Raw::F64(f) => f.to_string(),
            Raw::Str(s) => s,
            Raw::Seq(_) | Raw::Map(_) => {
                return Err(de::Error::custom("unsupported map key type"));
            }
        };
        Ok(Key(s))
    }
}
