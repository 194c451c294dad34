//! Kubernetes manifests in and out of netsim: the only crate that knows YAML, JSON and
//! apiVersions.
//!
//! [`parse`] reads a file the way `kubectl apply -f` does — documents split like
//! `yaml.NewYAMLReader`, YAML read like go-yaml v2 (its TAB rules and error wording included),
//! `kind: List` expanded, objects decoded strictly into their k8s-openapi types — and returns
//! [`Item`]s or one [`ManifestError`] whose [`ManifestError::message`] is kubectl's exact text.
//! [`defaults`] and [`validation`] are the API server's part; [`convert_ingress`] rewrites old
//! Ingress manifests; [`last_applied`] builds kubectl's client-side annotation.
//!
//! This crate must never do IO or hold state: it gets text and returns values; files, terminals
//! and the store belong to other crates.

// A ManifestError is built at most once per file and carries the words kubectl prints; its size
// does not matter next to the file it describes, and flat variants keep it easy to match on.
#![allow(clippy::result_large_err)]

pub mod applied;
pub mod cluster;
pub mod convert;
mod decode;
pub mod defaults;
pub mod error;
mod goyaml;
pub mod validation;
mod yaml;

pub use applied::last_applied;
pub use cluster::{ClusterDoc, KubeProxyConfig, KubeProxyDoc};
pub use convert::{convert_ingress, convert_ingress_value};
pub use error::{ManifestError, Suggestion};
pub use validation::ValidationError;
pub use yaml::{Pos, SyntaxError, SyntaxKind};

use decode::{Seg, render_path};
use netsim_model::k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet};
use netsim_model::k8s_openapi::api::core::v1::{
    ConfigMap, Endpoints, Event, Namespace, Node, Pod, Service,
};
use netsim_model::k8s_openapi::api::discovery::v1::EndpointSlice;
use netsim_model::k8s_openapi::api::networking::v1::{Ingress, IngressClass};
use netsim_model::{Kind, Object};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::BTreeMap;

/// A manifest to read: its name as the user typed it (`nodeport.yaml`, `STDIN`) and its text.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    /// The name kubectl would print (`nodeport.yaml`, `STDIN`).
    pub name: &'a str,
    /// The whole text.
    pub text: &'a str,
}

/// What to do with fields an object does not have (kubectl `--validate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Validate {
    /// `--validate=strict` (the default): reject the object.
    #[default]
    Strict,
    /// `--validate=warn`: accept it and warn.
    Warn,
    /// `--validate=false` / `ignore`: drop the fields silently.
    Ignore,
}

/// One API object read from a manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The typed object, exactly as written (no defaults yet; unknown fields dropped).
    pub object: Object,
    /// The document as the user wrote it, as JSON (for `last-applied-configuration`).
    pub applied: Value,
    /// 1-based line of the file where the document starts.
    pub line: usize,
    /// kubectl warnings to print (`Warning: unknown field "spec.x"`).
    pub warnings: Vec<String>,
}

/// One document of a manifest.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)] // like `Object`: almost every item is an object
pub enum Item {
    /// A Kubernetes object.
    Object(Document),
    /// A netsim or kind `Cluster`.
    Cluster(ClusterDoc),
    /// A kube-proxy configuration.
    KubeProxy(KubeProxyDoc),
    /// Lines for the outside client's hosts table (`netsim.dev/v1alpha1` `OutsideHosts`).
    OutsideHosts(OutsideHostsDoc),
}

/// An `OutsideHosts` document: `hosts:` lines added to (or replacing, name by name) the outside
/// client's hosts table of a running cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct OutsideHostsDoc {
    /// `metadata.name`.
    pub name: String,
    /// The lines.
    pub hosts: Vec<netsim_model::HostEntry>,
}

/// One document before classification: its JSON, where things are, and where it starts.
#[derive(Debug, Clone)]
pub(crate) struct RawDoc {
    pub value: Value,
    /// Chunk-relative positions by field path.
    pub positions: BTreeMap<String, Pos>,
    /// Paths written twice.
    pub duplicates: Vec<String>,
    /// Absolute line of the chunk's first line.
    pub start_line: usize,
}

impl RawDoc {
    /// Absolute (line, column) of a field path, if known.
    pub(crate) fn at(&self, path: &str) -> Option<(usize, usize)> {
        self.positions
            .get(path)
            .map(|p| (self.start_line + p.line.saturating_sub(1), p.column))
    }

    /// The line the document's content starts on (its first key), for messages.
    pub(crate) fn line(&self) -> usize {
        self.positions
            .values()
            .map(|p| p.line)
            .min()
            .map(|l| self.start_line + l - 1)
            .unwrap_or(self.start_line)
    }
}

/// Reads every document of `source` (YAML or JSON) into JSON values, failing on the first
/// syntax error. `List`s are not expanded here.
pub(crate) fn read_documents(source: &Source<'_>) -> Result<Vec<RawDoc>, ManifestError> {
    let trimmed = source.text.trim_start();
    if trimmed.starts_with('{') {
        return read_json(source);
    }
    let mut docs = Vec::new();
    for chunk in yaml::split_documents(source.text) {
        match yaml::parse_yaml(&chunk.text) {
            Ok(tree) => {
                if tree.value.is_null() {
                    continue;
                }
                docs.push(RawDoc {
                    value: tree.value,
                    positions: tree.positions,
                    duplicates: tree.duplicates,
                    start_line: chunk.start_line,
                });
            }
            Err(error) => {
                let old_ingress = chunk_is_old_ingress(&chunk.text);
                return Err(ManifestError::Syntax {
                    source_name: source.name.to_string(),
                    line: chunk.start_line + error.pos.line.saturating_sub(1),
                    column: error.pos.column,
                    error,
                    old_ingress,
                });
            }
        }
    }
    Ok(docs)
}

/// Whether a chunk that failed to parse looks like an old Ingress (for the hint).
fn chunk_is_old_ingress(text: &str) -> bool {
    let mut api = "";
    let mut kind = "";
    for line in text.lines() {
        if let Some(v) = line.strip_prefix("apiVersion:") {
            api = v.trim();
        } else if let Some(v) = line.strip_prefix("kind:") {
            kind = v.trim();
        }
    }
    error::is_old_ingress(api, kind)
}

fn read_json(source: &Source<'_>) -> Result<Vec<RawDoc>, ManifestError> {
    let mut docs = Vec::new();
    let mut stream = serde_json::Deserializer::from_str(source.text).into_iter::<Value>();
    loop {
        let offset = stream.byte_offset();
        match stream.next() {
            None => break,
            Some(Ok(value)) => {
                let start = source.text.get(..offset).unwrap_or("");
                let skipped = source.text[offset..]
                    .chars()
                    .take_while(|c| c.is_whitespace())
                    .filter(|c| *c == '\n')
                    .count();
                let tree = yaml::parse_json(value);
                docs.push(RawDoc {
                    value: tree.value,
                    positions: tree.positions,
                    duplicates: tree.duplicates,
                    start_line: start.matches('\n').count() + 1 + skipped,
                });
            }
            Some(Err(e)) => {
                let msg = e.to_string();
                let msg = match msg.find(" at line ") {
                    Some(i) => msg[..i].to_string(),
                    None => msg,
                };
                let error = SyntaxError {
                    message: format!("json: {msg}"),
                    go_line: Some(e.line()),
                    pos: Pos {
                        line: e.line(),
                        column: e.column(),
                    },
                    kind: SyntaxKind::Other,
                };
                return Err(ManifestError::Syntax {
                    source_name: source.name.to_string(),
                    line: e.line(),
                    column: e.column(),
                    error,
                    old_ingress: false,
                });
            }
        }
    }
    Ok(docs)
}

/// `apiVersion`, `kind`, `metadata.name` and `metadata.namespace` of a document (empty when
/// absent or not strings).
pub(crate) fn type_meta(value: &Value) -> (String, String, String, String) {
    let s = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("").to_string();
    let meta = value.get("metadata");
    (
        s(value.get("apiVersion")),
        s(value.get("kind")),
        s(meta.and_then(|m| m.get("name"))),
        s(meta.and_then(|m| m.get("namespace"))),
    )
}

/// Reads `source` into items, all or nothing: the first problem fails the whole source, as
/// `kubectl apply -f` refuses a file it cannot fully decode.
pub fn parse(source: &Source<'_>, validate: Validate) -> Result<Vec<Item>, ManifestError> {
    let mut items = Vec::new();
    for doc in read_documents(source)? {
        classify(source, doc, validate, &mut items)?;
    }
    Ok(items)
}

/// Reads `source` document by document, as `kubectl apply -f` does: a syntax error fails the
/// whole source (the outer error), while a document that does not decode fails alone (an inner
/// error) and the others still apply.
pub fn parse_each(
    source: &Source<'_>,
    validate: Validate,
) -> Result<Vec<Result<Item, ManifestError>>, ManifestError> {
    let mut out = Vec::new();
    for doc in read_documents(source)? {
        let mut items = Vec::new();
        match classify(source, doc, validate, &mut items) {
            Ok(()) => out.extend(items.into_iter().map(Ok)),
            Err(e) => out.push(Err(e)),
        }
    }
    Ok(out)
}

fn classify(
    source: &Source<'_>,
    doc: RawDoc,
    validate: Validate,
    items: &mut Vec<Item>,
) -> Result<(), ManifestError> {
    let Some(obj) = doc.value.as_object() else {
        return Err(ManifestError::Undecodable {
            source_name: source.name.to_string(),
            detail: format!(
                "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                json_kind(&doc.value)
            ),
            line: doc.line(),
        });
    };
    let (api_version, kind, name, namespace) = type_meta(&doc.value);
    if kind.is_empty() {
        return Err(ManifestError::Undecodable {
            source_name: source.name.to_string(),
            detail: format!(
                "Object 'Kind' is missing in '{}'",
                serde_json::to_string(&doc.value).unwrap_or_default()
            ),
            line: doc.line(),
        });
    }
    if kind == "List" && api_version == "v1" {
        let list_items = obj
            .get("items")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for (i, item) in list_items.into_iter().enumerate() {
            let prefix = format!("items[{i}].");
            let positions = doc
                .positions
                .iter()
                .filter_map(|(k, v)| k.strip_prefix(&prefix).map(|rest| (rest.to_string(), *v)))
                .collect();
            let duplicates = doc
                .duplicates
                .iter()
                .filter_map(|d| d.strip_prefix(&prefix).map(str::to_string))
                .collect();
            let sub = RawDoc {
                value: item,
                positions,
                duplicates,
                start_line: doc.start_line,
            };
            classify(source, sub, validate, items)?;
        }
        return Ok(());
    }
    if let Some(item) = cluster::classify(source, &doc, &api_version, &kind)? {
        items.push(item);
        return Ok(());
    }
    let Some(k) = Kind::from_type(&api_version, &kind) else {
        return Err(ManifestError::NoMatch {
            source_name: source.name.to_string(),
            name,
            namespace,
            kind,
            api_version,
            line: doc.line(),
        });
    };
    let (object, warnings) = decode_object(source, &doc, k, validate)?;
    items.push(Item::Object(Document {
        object,
        applied: doc.value.clone(),
        line: doc.line(),
        warnings,
    }));
    Ok(())
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Decodes a document of a known kind strictly into an [`Object`].
fn decode_object(
    source: &Source<'_>,
    doc: &RawDoc,
    kind: Kind,
    validate: Validate,
) -> Result<(Object, Vec<String>), ManifestError> {
    match kind {
        Kind::Namespace => typed::<Namespace>(source, doc, kind, validate),
        Kind::Node => typed::<Node>(source, doc, kind, validate),
        Kind::Pod => typed::<Pod>(source, doc, kind, validate),
        Kind::Service => typed::<Service>(source, doc, kind, validate),
        Kind::DaemonSet => typed::<DaemonSet>(source, doc, kind, validate),
        Kind::Deployment => typed::<Deployment>(source, doc, kind, validate),
        Kind::ReplicaSet => typed::<ReplicaSet>(source, doc, kind, validate),
        Kind::Endpoints => typed::<Endpoints>(source, doc, kind, validate),
        Kind::EndpointSlice => typed::<EndpointSlice>(source, doc, kind, validate),
        Kind::Ingress => typed::<Ingress>(source, doc, kind, validate),
        Kind::IngressClass => typed::<IngressClass>(source, doc, kind, validate),
        Kind::ConfigMap => typed::<ConfigMap>(source, doc, kind, validate),
        Kind::Event => typed::<Event>(source, doc, kind, validate),
    }
}

/// A strict-decoding problem: where it is (for ordering), its text, and the unknown field's
/// path (`None` for a duplicate).
type Problem = ((usize, usize), String, Option<Vec<Seg>>);

fn typed<T: DeserializeOwned + Into<Object>>(
    source: &Source<'_>,
    doc: &RawDoc,
    kind: Kind,
    validate: Validate,
) -> Result<(Object, Vec<String>), ManifestError> {
    let info = kind.info();
    let decoded = decode::decode::<T>(&doc.value).map_err(|p| {
        let path = render_path(&p.path);
        ManifestError::Type {
            source_name: source.name.to_string(),
            kind: info.kind.to_string(),
            api_version: kind.api_version(),
            detail: p.message,
            at: doc.at(&path),
            path,
            wants: p.wants,
        }
    })?;
    // Unknown and duplicated fields, in document order.
    let mut problems: Vec<Problem> = Vec::new();
    for segs in &decoded.unknown {
        let path = render_path(segs);
        let at = doc.at(&path).unwrap_or((usize::MAX, 0));
        problems.push((at, format!("unknown field \"{path}\""), Some(segs.clone())));
    }
    for path in &doc.duplicates {
        let at = doc.at(path).unwrap_or((usize::MAX, 0));
        problems.push((at, format!("duplicate field \"{path}\""), None));
    }
    problems.sort_by_key(|p| p.0);
    let mut warnings = Vec::new();
    if !problems.is_empty() {
        match validate {
            Validate::Ignore => {}
            Validate::Warn => {
                warnings.extend(problems.iter().map(|p| format!("Warning: {}", p.1)));
            }
            Validate::Strict => {
                let suggestion = problems.iter().find_map(|(_, _, segs)| {
                    let segs = segs.as_ref()?;
                    let (last, parent) = segs.split_last()?;
                    let Seg::Key(written) = last else { return None };
                    let fields = decode::fields_at::<T>(&doc.value, parent);
                    Some(Suggestion {
                        written: written.clone(),
                        real: decode::closest(written, &fields).map(str::to_string),
                        at: doc.at(&render_path(segs)),
                    })
                });
                return Err(ManifestError::StrictDecoding {
                    source_name: source.name.to_string(),
                    kind: info.kind.to_string(),
                    api_version: kind.api_version(),
                    problems: problems.into_iter().map(|p| p.1).collect(),
                    suggestion,
                });
            }
        }
    }
    Ok((decoded.object.into(), warnings))
}
