//! The YAML layer: splitting a manifest stream into documents the way kubectl does, and reading
//! one document into JSON plus the source position of every node.
//!
//! This module owns the only calls into serde-saphyr (swap the YAML library here and nowhere
//! else). It must never know about Kubernetes kinds or fields: it returns plain JSON values.

use crate::goyaml;
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

/// Families of syntax errors the CLI explains differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyntaxKind {
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

/// Whether a chunk holds nothing but blanks, comments and document markers.
fn is_blank_document(text: &str) -> bool {
    text.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#') || is_separator(l) || t == "..."
    })
}

/// Reads one YAML document into a [`Tree`], checking first for what go-yaml rejects and
/// serde-saphyr would accept or word differently.
pub(crate) fn parse_yaml(text: &str) -> Result<Tree, SyntaxError> {
    let tab_problem = goyaml::check_tabs(text);
    let options = serde_saphyr::options! {
        legacy_octal_numbers: true,
        duplicate_keys: DuplicateKeyPolicy::PassThrough,
        with_snippet: false,
    };
    let parsed: Result<Spanned<Raw>, serde_saphyr::Error> =
        serde_saphyr::from_str_with_options(text, options);
    match parsed {
        Ok(raw) => {
            if let Some(tab) = tab_problem {
                return Err(tab);
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
            match tab_problem {
                // serde-saphyr may place a TAB problem on the line before it (where the plain
                // scalar it was scanning started); prefer go-yaml's view of TABs.
                Some(tab) if tab.pos.line <= saphyr.pos.line || saphyr.kind == SyntaxKind::Tab => {
                    Err(tab)
                }
                _ => Err(saphyr),
            }
        }
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
