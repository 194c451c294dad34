//! Kubernetes manifests in and out of netsim: the only crate that knows YAML, JSON and
//! apiVersions.
//!
//! [`parse`] reads a file the way `kubectl apply -f` does — documents split like
//! `yaml.NewYAMLReader`, YAML read like go-yaml v2 (its TAB rules and error wording included),
//! `kind: List` expanded, objects decoded strictly into their k8s-openapi types — and returns
//! [`Item`]s or one [`ManifestError`] whose [`ManifestError::message`] is kubectl's exact text.
//! [`defaults`] and [`validation`] are the API server's part; [`convert_ingress`] rewrites old
//! Ingress manifests; [`last_applied`] builds kubectl's client-side annotation. [`limits`] bounds
//! what is read (document count, nesting, alias expansion), so that a hostile file costs no more
//! than its size.
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
mod gojson;
mod goyaml;
pub mod limits;
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
/// syntax error. `List`s are not expanded here, and nothing is validated.
pub(crate) fn read_documents(source: &Source<'_>) -> Result<Vec<RawDoc>, ManifestError> {
    match read_stream(source, Validate::Ignore) {
        (docs, None) => Ok(docs),
        (_, Some(e)) => Err(e),
    }
}

/// Reads `source` the way kubectl's stream visitor does: document after document, each one
/// parsed and (unless `validate` is `Ignore`) given kubectl's client-side check of its
/// `apiVersion` and `kind`, until the first problem, which ends the stream. The documents read
/// before it still count, as kubectl still applies them.
///
/// A source over netsim's [`limits::MAX_DOCUMENTS`] yields nothing but that error.
pub(crate) fn read_stream(
    source: &Source<'_>,
    validate: Validate,
) -> (Vec<RawDoc>, Option<ManifestError>) {
    let trimmed = source.text.trim_start();
    if trimmed.starts_with('{') {
        return read_json(source, validate);
    }
    let chunks = yaml::split_documents(source.text);
    if let Some(extra) = chunks.get(limits::MAX_DOCUMENTS) {
        return (
            Vec::new(),
            Some(too_many_documents(source, extra.start_line)),
        );
    }
    let mut docs = Vec::new();
    for chunk in chunks {
        match yaml::parse_yaml(&chunk.text) {
            Ok(tree) => {
                if tree.value.is_null() {
                    continue;
                }
                let doc = RawDoc {
                    value: tree.value,
                    positions: tree.positions,
                    duplicates: tree.duplicates,
                    start_line: chunk.start_line,
                };
                if let Some(e) = check_type_meta(source, &doc, validate) {
                    return (docs, Some(e));
                }
                docs.push(doc);
            }
            Err(error) => {
                let old_ingress = chunk_is_old_ingress(&chunk.text);
                let e = ManifestError::Syntax {
                    source_name: source.name.to_string(),
                    line: chunk.start_line + error.pos.line.saturating_sub(1),
                    column: error.pos.column,
                    error,
                    old_ingress,
                };
                return (docs, Some(e));
            }
        }
    }
    (docs, None)
}

/// How deeply a JSON value nests (a scalar is 0); serde_json bounds the recursion.
fn json_depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(json_depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(json_depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// A JSON document nested deeper than [`limits::MAX_DEPTH`].
fn json_too_deep(source: &Source<'_>, line: usize, column: usize) -> ManifestError {
    let pos = Pos { line, column };
    ManifestError::Syntax {
        source_name: source.name.to_string(),
        error: SyntaxError {
            message: format!("json: exceeded max depth of {}", limits::MAX_DEPTH),
            go_line: None,
            pos,
            kind: SyntaxKind::Depth,
        },
        line,
        column,
        old_ingress: false,
    }
}

fn too_many_documents(source: &Source<'_>, line: usize) -> ManifestError {
    ManifestError::TooLarge {
        source_name: source.name.to_string(),
        detail: format!(
            "more than {} documents: netsim reads at most {} from one file",
            limits::MAX_DOCUMENTS,
            limits::MAX_DOCUMENTS
        ),
        advice: format!(
            "split {} into smaller files and apply them one by one (document {} starts on line {line})",
            source.name,
            limits::MAX_DOCUMENTS + 1
        ),
    }
}

/// kubectl's client-side validation before anything is sent (`paramVerifyingSchema`): the
/// document must be a mapping whose `apiVersion` and `kind` are strings, the `apiVersion` a
/// group/version; a `List`'s items are checked the same way. It ends the stream: kubectl reads
/// no further in that file.
fn check_type_meta(source: &Source<'_>, doc: &RawDoc, validate: Validate) -> Option<ManifestError> {
    if validate == Validate::Ignore {
        return None;
    }
    let errors = match doc.value.as_object() {
        None => vec!["invalid object to validate".to_string()],
        Some(obj) => {
            let mut errors = object_kind_errors(obj);
            let is_list = errors.is_empty()
                && obj.get("apiVersion").and_then(Value::as_str) == Some("v1")
                && obj.get("kind").and_then(Value::as_str) == Some("List");
            if is_list && let Some(items) = obj.get("items").and_then(Value::as_array) {
                for item in items {
                    match item.as_object() {
                        Some(o) => errors.extend(object_kind_errors(o)),
                        None => errors.push("invalid object to validate".to_string()),
                    }
                }
            }
            errors
        }
    };
    if errors.is_empty() {
        return None;
    }
    // Go's aggregate error: one message alone, several in brackets.
    let detail = match errors.as_slice() {
        [one] => one.clone(),
        many => format!("[{}]", many.join(", ")),
    };
    Some(ManifestError::Validation {
        source_name: source.name.to_string(),
        detail,
        line: doc.line(),
        not_a_mapping: !doc.value.is_object(),
        is_sequence: doc.value.is_array(),
    })
}

/// kubectl's `getObjectKind` checks of one object.
fn object_kind_errors(obj: &serde_json::Map<String, Value>) -> Vec<String> {
    let mut errors = Vec::new();
    match obj.get("apiVersion") {
        None | Some(Value::Null) => errors.push("apiVersion not set".to_string()),
        Some(Value::String(gv)) => {
            // apimachinery's `ParseGroupVersion`: at most one slash.
            if gv.matches('/').count() > 1 {
                errors.push(format!("unexpected GroupVersion string: {gv}"));
            }
        }
        Some(_) => errors.push("apiVersion isn't string type".to_string()),
    }
    match obj.get("kind") {
        None | Some(Value::Null) => errors.push("kind not set".to_string()),
        Some(Value::String(_)) => {}
        Some(_) => errors.push("kind isn't string type".to_string()),
    }
    errors
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

/// Reads a JSON source as kubectl's JSON decoder does: a stream of values, each one a document,
/// with Go's wording for syntax errors. Positions come from reading each value's text as YAML
/// (which JSON is), so that messages can point into JSON files too.
fn read_json(source: &Source<'_>, validate: Validate) -> (Vec<RawDoc>, Option<ManifestError>) {
    let mut docs = Vec::new();
    let text = source.text;
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    loop {
        let offset = stream.byte_offset();
        match stream.next() {
            None => break,
            Some(Ok(value)) => {
                if docs.len() == limits::MAX_DOCUMENTS {
                    let line = text.get(..offset).unwrap_or("").matches('\n').count() + 1;
                    return (Vec::new(), Some(too_many_documents(source, line)));
                }
                let end = stream.byte_offset();
                if json_depth(&value) > limits::MAX_DEPTH {
                    let line = text.get(..offset).unwrap_or("").matches('\n').count() + 1;
                    return (docs, Some(json_too_deep(source, line, 1)));
                }
                let skipped = text.get(offset..end).unwrap_or("");
                let lead = skipped.len() - skipped.trim_start().len();
                let start = offset + lead;
                let start_line = text.get(..start).unwrap_or("").matches('\n').count() + 1;
                // JSON's own line breaks are YAML's, so positions in the value's text are
                // positions in the file once shifted by the line it starts on.
                let positions = text
                    .get(start..end)
                    .and_then(|t| yaml::parse_yaml(t).ok())
                    .map(|t| t.positions)
                    .unwrap_or_default();
                let tree = yaml::parse_json(value);
                let doc = RawDoc {
                    value: tree.value,
                    positions,
                    duplicates: tree.duplicates,
                    start_line,
                };
                if let Some(e) = check_type_meta(source, &doc, validate) {
                    return (docs, Some(e));
                }
                docs.push(doc);
            }
            Some(Err(e)) if e.to_string().starts_with("recursion limit exceeded") => {
                // serde_json's own bound (128 levels), past netsim's.
                return (
                    docs,
                    Some(json_too_deep(source, e.line(), e.column().max(1))),
                );
            }
            Some(Err(e)) => {
                let message = gojson::syntax_error(text).unwrap_or_else(|| {
                    let msg = e.to_string();
                    let msg = msg.split(" at line ").next().unwrap_or("").to_string();
                    format!("json: {msg}")
                });
                let error = SyntaxError {
                    message,
                    go_line: None,
                    pos: Pos {
                        line: e.line(),
                        column: e.column().max(1),
                    },
                    kind: SyntaxKind::Json,
                };
                let e = ManifestError::Syntax {
                    source_name: source.name.to_string(),
                    line: e.line(),
                    column: e.column().max(1),
                    error,
                    old_ingress: false,
                };
                return (docs, Some(e));
            }
        }
    }
    (docs, None)
}

/// One YAML (or JSON) document as JSON, the way sigs.k8s.io/yaml's `ToJSON` reads a patch or a
/// flag's value: go-yaml's rules and errors, netsim's limits. An empty text is `null`.
pub fn yaml_to_json(text: &str) -> Result<Value, SyntaxError> {
    yaml::parse_yaml(text).map(|tree| tree.value)
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
    for item in parse_each(source, validate) {
        items.push(item?);
    }
    Ok(items)
}

/// Reads `source` document by document, as `kubectl apply -f` does. A document that does not
/// decode fails alone and the others still apply; a syntax error or a failed client-side
/// validation ends the stream there (it is the last entry), while the documents before it
/// still apply.
pub fn parse_each(source: &Source<'_>, validate: Validate) -> Vec<Result<Item, ManifestError>> {
    let (docs, end) = read_stream(source, validate);
    let mut out = Vec::new();
    for doc in docs {
        let mut items = Vec::new();
        match classify(source, doc, validate, &mut items, false) {
            Ok(()) => out.extend(items.into_iter().map(Ok)),
            Err(e) => out.push(Err(e)),
        }
    }
    out.extend(end.map(Err));
    out
}

fn classify(
    source: &Source<'_>,
    doc: RawDoc,
    validate: Validate,
    items: &mut Vec<Item>,
    in_list: bool,
) -> Result<(), ManifestError> {
    let Some(obj) = doc.value.as_object() else {
        // kubectl's unstructured decoder first unmarshals a document into its kind detector;
        // a List's items go into plain maps.
        let into = if in_list {
            "map[string]interface {}"
        } else {
            "unstructured.detector"
        };
        return Err(ManifestError::Undecodable {
            source_name: source.name.to_string(),
            detail: format!(
                "json: cannot unmarshal {} into Go value of type {into}",
                json_kind(&doc.value)
            ),
            line: doc.line(),
        });
    };
    let (api_version, kind, name, namespace) = type_meta(&doc.value);
    // The unstructured decoder parses the group/version before it looks at the kind; a bad one
    // leaves it without a kind.
    if kind.is_empty() || api_version.matches('/').count() > 1 {
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
        // Each item's positions and duplicates, sorted out in one pass (a List may hold
        // thousands of items).
        let mut positions_of: BTreeMap<usize, BTreeMap<String, Pos>> = BTreeMap::new();
        for (k, v) in &doc.positions {
            if let Some((i, rest)) = list_item_path(k) {
                positions_of
                    .entry(i)
                    .or_default()
                    .insert(rest.to_string(), *v);
            }
        }
        let mut duplicates_of: BTreeMap<usize, Vec<String>> = BTreeMap::new();
        for d in &doc.duplicates {
            if let Some((i, rest)) = list_item_path(d) {
                duplicates_of.entry(i).or_default().push(rest.to_string());
            }
        }
        for (i, item) in list_items.into_iter().enumerate() {
            let positions = positions_of.remove(&i).unwrap_or_default();
            let duplicates = duplicates_of.remove(&i).unwrap_or_default();
            let sub = RawDoc {
                value: item,
                positions,
                duplicates,
                start_line: doc.start_line,
            };
            classify(source, sub, validate, items, true)?;
        }
        return Ok(());
    }
    if let Some(item) = cluster::classify(source, &doc, &api_version, &kind)? {
        items.push(item);
        return Ok(());
    }
    // Before it maps the kind, kubectl decodes the object's type and metadata with Go's JSON
    // rules (`metadataOnlyObject`): a wrongly typed name or label fails here, on the client.
    if let Err(p) = decode::decode::<decode::MetadataOnly>(&doc.value) {
        let path = render_path(&p.path);
        return Err(ManifestError::ClientDecode {
            source_name: source.name.to_string(),
            detail: p.message,
            at: doc.at(&path),
            wants: with_colon_note(p.wants, &doc.value, &p.path),
            path,
        });
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

/// Where a field that is unknown under `parent` does exist: under another key of `parent`'s
/// ancestors, nearest first (`replicas` written under `metadata` belongs in `spec`).
fn field_elsewhere<T: DeserializeOwned>(
    value: &Value,
    parent: &[Seg],
    name: &str,
) -> Option<String> {
    for depth in (0..parent.len()).rev() {
        let ancestor = &parent[..depth];
        let mut node = value;
        for seg in ancestor {
            node = match seg {
                Seg::Key(k) => node.get(k.as_str())?,
                Seg::Index(i) => node.get(*i)?,
            };
        }
        for key in node.as_object()?.keys() {
            let mut path = ancestor.to_vec();
            path.push(Seg::Key(key.clone()));
            if path.as_slice() != parent && decode::fields_at::<T>(value, &path).contains(&name) {
                path.push(Seg::Key(name.to_string()));
                return Some(render_path(&path));
            }
        }
    }
    None
}

/// What a field wants, and, when a mapping is wanted but the value is a string like
/// `name web`, the likely slip: a key whose `:` is missing.
fn with_colon_note(wants: Option<String>, value: &Value, path: &[Seg]) -> Option<String> {
    let mut wants = wants?;
    let mut node = value;
    for seg in path {
        node = match seg {
            Seg::Key(k) => node.get(k.as_str())?,
            Seg::Index(i) => node.get(*i)?,
        };
    }
    if let (true, Some(text)) = (wants.starts_with("a mapping"), node.as_str())
        && let Some((key, _)) = text.split_once(' ')
        && !key.is_empty()
        && key.chars().all(|c| c.is_ascii_alphanumeric())
    {
        wants.push_str(&format!(
            "; `{text}` reads as one string: is the `:` after `{key}` missing?"
        ));
    }
    Some(wants)
}

/// `items[3].metadata.name` → `(3, "metadata.name")`.
fn list_item_path(path: &str) -> Option<(usize, &str)> {
    let (index, rest) = path.strip_prefix("items[")?.split_once("].")?;
    Some((index.parse().ok()?, rest))
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
            wants: with_colon_note(p.wants, &doc.value, &p.path),
            path,
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
                    let real = decode::closest(written, &fields).map(str::to_string);
                    let elsewhere = match real {
                        Some(_) => None,
                        None => field_elsewhere::<T>(&doc.value, parent, written),
                    };
                    Some(Suggestion {
                        written: written.clone(),
                        real,
                        at: doc.at(&render_path(segs)),
                        duplicate: false,
                        elsewhere,
                    })
                });
                // Only keys written twice: point at the second one.
                let suggestion = suggestion.or_else(|| {
                    let path = doc.duplicates.first()?;
                    Some(Suggestion {
                        written: path.rsplit('.').next().unwrap_or(path).to_string(),
                        real: None,
                        at: doc.at(path),
                        duplicate: true,
                        elsewhere: None,
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
