//! Strict, typed decoding of one document's JSON into its k8s-openapi type, the way the API
//! server's strict JSON decoder does it: unknown fields collected with their paths, type errors
//! worded like Go's `encoding/json`, and the real field names at any path for "did you mean".
//!
//! This module owns the field-path conventions (`spec.ports[0].nodePort`). It must never read
//! YAML or decide what to do with an unknown field (that is the caller's `Validate` policy).

use serde::de::{
    self, DeserializeOwned, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};
use serde_json::Value;
use std::fmt;

/// One step of a field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    /// A field of an object.
    Key(String),
    /// An item of a list.
    Index(usize),
}

/// Renders a path the way the API server does: `spec.ports[0].nodePort`.
pub(crate) fn render_path(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// Renders a path the way Go's `encoding/json` names a field: keys only, `spec.ports.port`.
fn go_field_path(path: &[Seg]) -> String {
    path.iter()
        .filter_map(|s| match s {
            Seg::Key(k) => Some(k.as_str()),
            Seg::Index(_) => None,
        })
        .collect::<Vec<_>>()
        .join(".")
}

fn ignored_path(p: &serde_ignored::Path<'_>, out: &mut Vec<Seg>) {
    match p {
        serde_ignored::Path::Root => {}
        serde_ignored::Path::Seq { parent, index } => {
            ignored_path(parent, out);
            out.push(Seg::Index(*index));
        }
        serde_ignored::Path::Map { parent, key } => {
            ignored_path(parent, out);
            out.push(Seg::Key(key.clone()));
        }
        serde_ignored::Path::Some { parent }
        | serde_ignored::Path::NewtypeStruct { parent }
        | serde_ignored::Path::NewtypeVariant { parent } => ignored_path(parent, out),
    }
}

/// A field the typed object could not take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TypeProblem {
    /// Where, as a path.
    pub path: Vec<Seg>,
    /// Go's wording: `json: cannot unmarshal string into Go struct field ServicePort.spec.ports.port of type int32`.
    pub message: String,
    /// What the field wants, in a teacher's words (`a whole number`), for the hint.
    pub wants: Option<String>,
}

/// A successfully decoded object and the paths of the fields it does not have.
pub(crate) struct Decoded<T> {
    pub object: T,
    pub unknown: Vec<Vec<Seg>>,
}

/// A decoded value with its unknown-field paths, or the path and error where decoding stopped.
type Once<T> = Result<(T, Vec<Vec<Seg>>), (Vec<Seg>, serde_json::Error)>;

fn decode_once<T: DeserializeOwned>(value: &Value) -> Once<T> {
    let mut unknown = Vec::new();
    let mut track = serde_path_to_error::Track::new();
    let de = serde_path_to_error::Deserializer::new(value, &mut track);
    let result = serde_ignored::deserialize(de, |p| {
        let mut segs = Vec::new();
        ignored_path(&p, &mut segs);
        unknown.push(segs);
    });
    match result {
        Ok(t) => Ok((t, unknown)),
        Err(e) => {
            let path = track
                .path()
                .iter()
                .filter_map(|s| match s {
                    serde_path_to_error::Segment::Seq { index } => Some(Seg::Index(*index)),
                    serde_path_to_error::Segment::Map { key } => Some(Seg::Key(key.clone())),
                    _ => None,
                })
                .collect();
            Err((path, e))
        }
    }
}

fn get_mut<'a>(value: &'a mut Value, path: &[Seg]) -> Option<&'a mut Value> {
    let mut cur = value;
    for seg in path {
        cur = match seg {
            Seg::Key(k) => cur.as_object_mut()?.get_mut(k)?,
            Seg::Index(i) => cur.as_array_mut()?.get_mut(*i)?,
        };
    }
    Some(cur)
}

/// Decodes `value` into `T` like Go's JSON decoder would: unknown fields are collected, a
/// missing required field takes its zero value (validation reports it later), and a type
/// mismatch becomes Go's `cannot unmarshal` message.
pub(crate) fn decode<T: DeserializeOwned>(value: &Value) -> Result<Decoded<T>, TypeProblem> {
    let mut patched = value.clone();
    // Each round fills in one missing required field; objects have few of them.
    for _ in 0..32 {
        match decode_once::<T>(&patched) {
            Ok((object, unknown)) => return Ok(Decoded { object, unknown }),
            Err((path, err)) => {
                let msg = err.to_string();
                if let Some(field) = missing_field(&msg)
                    && fill_zero::<T>(&mut patched, &path, field)
                {
                    continue;
                }
                return Err(type_problem::<T>(&patched, path, &msg));
            }
        }
    }
    Err(TypeProblem {
        path: Vec::new(),
        message: "json: too many missing fields".to_string(),
        wants: None,
    })
}

fn missing_field(msg: &str) -> Option<&str> {
    let rest = msg.strip_prefix("missing field `")?;
    let end = rest.find('`')?;
    Some(&rest[..end])
}

/// Inserts Go's zero value for a missing required `field` of the object at `path`, trying the
/// shapes a required field can have.
fn fill_zero<T: DeserializeOwned>(value: &mut Value, path: &[Seg], field: &str) -> bool {
    let candidates = [
        Value::from(0),
        Value::String(String::new()),
        Value::Array(Vec::new()),
        Value::Object(serde_json::Map::new()),
        Value::Bool(false),
    ];
    let mut field_path = path.to_vec();
    field_path.push(Seg::Key(field.to_string()));
    for zero in candidates {
        let mut trial = value.clone();
        let Some(obj) = get_mut(&mut trial, path).and_then(Value::as_object_mut) else {
            return false;
        };
        obj.insert(field.to_string(), zero);
        match decode_once::<T>(&trial) {
            Err((p, e)) if p == field_path && !e.to_string().starts_with("missing field") => {}
            _ => {
                *value = trial;
                return true;
            }
        }
    }
    false
}

/// Go's name of the JSON value kind in a serde `invalid type: ...` message.
fn go_value_kind(msg: &str) -> &'static str {
    let what = msg
        .strip_prefix("invalid type: ")
        .or_else(|| msg.strip_prefix("invalid value: "))
        .unwrap_or(msg);
    if what.starts_with("string") {
        "string"
    } else if what.starts_with("integer") || what.starts_with("floating point") {
        "number"
    } else if what.starts_with("boolean") {
        "bool"
    } else if what.starts_with("sequence") {
        "array"
    } else if what.starts_with("map") {
        "object"
    } else if what.starts_with("null") {
        "null"
    } else {
        "value"
    }
}

fn expected_of(msg: &str) -> Option<&str> {
    let idx = msg.rfind(", expected ")?;
    Some(&msg[idx + ", expected ".len()..])
}

/// Go's type name and a teacher's description for a serde `expected ...` phrase.
fn go_type(expected: &str) -> (String, String) {
    let e = expected.trim();
    let simple = |go: &str, words: &str| (go.to_string(), words.to_string());
    match e {
        "i32" => simple("int32", "a whole number"),
        "i64" => simple("int64", "a whole number"),
        "u16" | "u32" | "u64" | "u8" | "i8" | "i16" => simple("int", "a whole number"),
        "f64" | "f32" => simple("float64", "a number"),
        "a string" | "string" => simple("string", "a string (quote it)"),
        "a boolean" | "bool" => simple("bool", "true or false"),
        "a map" => simple("map[string]string", "a mapping of key: value lines"),
        "a sequence" => simple("[]interface {}", "a list (lines starting with `- `)"),
        other if other.chars().next().is_some_and(char::is_uppercase) && !other.contains(' ') => {
            let article = if other.starts_with(['A', 'E', 'I', 'O', 'U']) {
                "an"
            } else {
                "a"
            };
            (
                format!("v1.{other}"),
                format!("a mapping ({article} {other})"),
            )
        }
        _ => simple("string", "a value of another type"),
    }
}

fn type_problem<T: DeserializeOwned>(value: &Value, path: Vec<Seg>, msg: &str) -> TypeProblem {
    // `invalid value: integer` is a number too large for its field: Go words both the same way.
    if msg.starts_with("invalid type: ") || msg.starts_with("invalid value: integer") {
        let (mut go_ty, wants) = go_type(expected_of(msg).unwrap_or(""));
        // Go names the number itself when it cannot go into an integer field (a fraction, or
        // out of range): `cannot unmarshal number 80.5 into ... of type int32`.
        let mut kind = go_value_kind(msg).to_string();
        if kind == "number" && go_ty.starts_with("int") {
            let literal = msg.split('`').nth(1).unwrap_or("");
            if !literal.is_empty() {
                kind = format!("number {literal}");
            }
        }
        if go_ty == "[]interface {}"
            && let Some(elem) =
                probe_expected::<T>(value, &path, Value::Array(vec![Value::Bool(true)]))
        {
            let (elem_ty, _) = go_type(&elem);
            go_ty = format!("[]{elem_ty}");
        }
        // The Go struct holding the field: walk up to the nearest object that is a struct (map
        // values report the map's field, as Go does) and ask what it expects.
        let mut message = format!("json: cannot unmarshal {kind} into Go value of type {go_ty}");
        for i in (0..path.len()).rev() {
            if !matches!(path[i], Seg::Key(_)) {
                continue;
            }
            let Some(st) = probe_expected::<T>(value, &path[..i], Value::Bool(true)) else {
                continue;
            };
            if st.contains(' ') {
                continue;
            }
            let field = go_field_path(&path[..=i]);
            message = format!(
                "json: cannot unmarshal {kind} into Go struct field {st}.{field} of type {go_ty}"
            );
            break;
        }
        return TypeProblem {
            path,
            message,
            wants: Some(wants),
        };
    }
    TypeProblem {
        path,
        message: format!("json: {msg}"),
        wants: None,
    }
}

/// kubectl's first, client-side look at an object before it maps its kind: the type meta and
/// the metadata, decoded with Go's JSON rules into its `metadataOnlyObject` (whose name Go's
/// messages carry); every other field is skipped.
pub(crate) struct MetadataOnly;

impl<'de> de::Deserialize<'de> for MetadataOnly {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<MetadataOnly, D::Error> {
        deserializer.deserialize_map(MetadataOnlyVisitor)
    }
}

struct MetadataOnlyVisitor;

impl<'de> Visitor<'de> for MetadataOnlyVisitor {
    type Value = MetadataOnly;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // What Go calls the struct in `Go struct field metadataOnlyObject.metadata`.
        f.write_str("metadataOnlyObject")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<MetadataOnly, A::Error> {
        use netsim_model::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "apiVersion" | "kind" => {
                    map.next_value::<Option<String>>()?;
                }
                "metadata" => {
                    map.next_value::<Option<ObjectMeta>>()?;
                }
                _ => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        Ok(MetadataOnly)
    }
}

/// Replaces the node at `path` with `replacement` and reports what the type expected there.
fn probe_expected<T: DeserializeOwned>(
    value: &Value,
    path: &[Seg],
    replacement: Value,
) -> Option<String> {
    let mut trial = value.clone();
    let node = get_mut(&mut trial, path)?;
    *node = replacement;
    match decode_once::<T>(&trial) {
        Ok(_) => None,
        Err((_, e)) => expected_of(&e.to_string()).map(str::to_string),
    }
}

/// The field names the type `T` accepts at `path` (an object inside the document), or an
/// empty list when the path does not lead to a struct.
pub(crate) fn fields_at<T: DeserializeOwned>(value: &Value, path: &[Seg]) -> Vec<&'static str> {
    let mut found: Option<&'static [&'static str]> = None;
    let probe = Probe {
        value,
        path,
        found: &mut found,
    };
    let _ = T::deserialize(probe);
    found.map(|f| f.to_vec()).unwrap_or_default()
}

/// A deserializer over a JSON value that, at one path, records the field list the target
/// struct asks for and stops.
struct Probe<'a, 'p> {
    value: &'a Value,
    path: &'p [Seg],
    found: &'p mut Option<&'static [&'static str]>,
}

#[derive(Debug)]
struct ProbeError(String);

impl fmt::Display for ProbeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for ProbeError {}
impl de::Error for ProbeError {
    fn custom<M: fmt::Display>(msg: M) -> Self {
        ProbeError(msg.to_string())
    }
}

fn plain<'de, V: Visitor<'de>>(value: &Value, visitor: V) -> Result<V::Value, ProbeError> {
    // Off the probed path: an ordinary JSON deserializer (errors only need to stop us).
    let v: Value = value.clone();
    v.into_deserializer()
        .deserialize_any(visitor)
        .map_err(|e: serde_json::Error| ProbeError(e.to_string()))
}

impl<'de, 'a, 'p> Deserializer<'de> for Probe<'a, 'p> {
    type Error = ProbeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ProbeError> {
        match self.value {
            Value::Object(_) => self.deserialize_map(visitor),
            Value::Array(_) => self.deserialize_seq(visitor),
            other => plain(other, visitor),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ProbeError> {
        if self.path.is_empty() {
            *self.found = Some(fields);
            return Err(ProbeError("found".into()));
        }
        self.deserialize_map(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ProbeError> {
        let Value::Object(map) = self.value else {
            return plain(self.value, visitor);
        };
        let (want, rest) = match self.path.split_first() {
            Some((Seg::Key(k), rest)) => (Some(k.as_str()), rest),
            _ => (None, &[][..]),
        };
        visitor.visit_map(ProbeMap {
            iter: map.iter().collect::<Vec<_>>().into_iter(),
            pending: None,
            want,
            rest,
            found: self.found,
        })
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ProbeError> {
        let Value::Array(items) = self.value else {
            return plain(self.value, visitor);
        };
        let (want, rest) = match self.path.split_first() {
            Some((Seg::Index(i), rest)) => (Some(*i), rest),
            _ => (None, &[][..]),
        };
        visitor.visit_seq(ProbeSeq {
            items,
            index: 0,
            want,
            rest,
            found: self.found,
        })
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ProbeError> {
        if self.value.is_null() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ProbeError> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct tuple tuple_struct enum identifier ignored_any
    }
}

struct ProbeMap<'a, 'p> {
    iter: std::vec::IntoIter<(&'a String, &'a Value)>,
    pending: Option<(&'a String, &'a Value)>,
    want: Option<&'p str>,
    rest: &'p [Seg],
    found: &'p mut Option<&'static [&'static str]>,
}

impl<'de, 'a, 'p> MapAccess<'de> for ProbeMap<'a, 'p> {
    type Error = ProbeError;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, ProbeError> {
        match self.iter.next() {
            Some((k, v)) => {
                self.pending = Some((k, v));
                let key: de::value::StrDeserializer<'_, ProbeError> =
                    k.as_str().into_deserializer();
                seed.deserialize(key).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, ProbeError> {
        let Some((k, v)) = self.pending.take() else {
            return Err(ProbeError("value without key".into()));
        };
        if self.want == Some(k.as_str()) {
            seed.deserialize(Probe {
                value: v,
                path: self.rest,
                found: self.found,
            })
        } else {
            seed.deserialize(v.clone().into_deserializer())
                .map_err(|e: serde_json::Error| ProbeError(e.to_string()))
        }
    }
}

struct ProbeSeq<'a, 'p> {
    items: &'a [Value],
    index: usize,
    want: Option<usize>,
    rest: &'p [Seg],
    found: &'p mut Option<&'static [&'static str]>,
}

impl<'de, 'a, 'p> SeqAccess<'de> for ProbeSeq<'a, 'p> {
    type Error = ProbeError;

    fn next_element_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, ProbeError> {
        let Some(item) = self.items.get(self.index) else {
            return Ok(None);
        };
        let i = self.index;
        self.index += 1;
        if self.want == Some(i) {
            seed.deserialize(Probe {
                value: item,
                path: self.rest,
                found: self.found,
            })
            .map(Some)
        } else {
            seed.deserialize(item.clone().into_deserializer())
                .map(Some)
                .map_err(|e: serde_json::Error| ProbeError(e.to_string()))
        }
    }
}

/// Damerau–Levenshtein distance (optimal string alignment), doubled so that an ASCII case
/// difference can cost half an edit.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).map(|j| j * 2).collect();
    let mut prev2: Vec<usize> = prev.clone();
    for i in 1..=a.len() {
        let mut cur = vec![i * 2; b.len() + 1];
        for j in 1..=b.len() {
            let sub = if a[i - 1] == b[j - 1] {
                0
            } else if a[i - 1].eq_ignore_ascii_case(&b[j - 1]) {
                1
            } else {
                2
            };
            cur[j] = (prev[j - 1] + sub).min(prev[j] + 2).min(cur[j - 1] + 2);
            // A swap of two neighbours (`tpye` → `type`) is one slip of the fingers.
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                cur[j] = cur[j].min(prev2[j - 2] + 2);
            }
        }
        prev2 = std::mem::replace(&mut prev, cur);
    }
    prev[b.len()]
}

/// The real field closest to `name`, if it is close enough to be a likely typo.
pub(crate) fn closest<'f>(name: &str, fields: &[&'f str]) -> Option<&'f str> {
    let best = fields
        .iter()
        .map(|f| (distance(name, f), *f))
        .min_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(b.1)))?;
    // Twice the edit distance (a case change costs 1): allow about a third of the word.
    let limit = (name.chars().count().max(3) * 2) / 3 + 1;
    (best.0 <= limit).then_some(best.1)
}
