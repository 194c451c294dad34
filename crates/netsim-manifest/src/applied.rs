//! kubectl's client-side `kubectl.kubernetes.io/last-applied-configuration` annotation.
//!
//! This module owns building that annotation's value from the document as written. It must
//! never look at the stored object: the annotation records intent, not state.

use serde_json::{Map, Value};

/// The annotation key kubectl writes on `apply`.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Rebuilds `v` with every object's keys inserted in sorted order (so the output is sorted
/// whether or not serde_json keeps insertion order).
fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let mut out = Map::new();
            for k in keys {
                if let Some(x) = m.get(k) {
                    out.insert(k.clone(), sorted(x));
                }
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// The annotation's value for `applied` (the user's document as JSON): compact JSON, keys
/// sorted, `metadata.annotations` present (`{}` if empty, without the annotation itself),
/// `metadata.namespace` set to `namespace` when given (pass it for namespaced kinds only),
/// and a trailing newline.
pub fn last_applied(applied: &Value, namespace: Option<&str>) -> String {
    let mut doc = applied.clone();
    if let Some(obj) = doc.as_object_mut() {
        let meta = obj
            .entry("metadata")
            .or_insert_with(|| Value::Object(Map::new()));
        if !meta.is_object() {
            *meta = Value::Object(Map::new());
        }
        if let Some(meta) = meta.as_object_mut() {
            let ann = meta
                .entry("annotations")
                .or_insert_with(|| Value::Object(Map::new()));
            if !ann.is_object() {
                *ann = Value::Object(Map::new());
            }
            if let Some(ann) = ann.as_object_mut() {
                ann.remove(LAST_APPLIED);
            }
            if let Some(ns) = namespace {
                meta.insert("namespace".into(), Value::String(ns.to_string()));
            }
        }
    }
    let mut text = serde_json::to_string(&sorted(&doc)).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_kubectl_example() {
        let v: Value = serde_json::json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "nginx-nodeport"},
            "spec": {"type": "NodePort", "selector": {"app": "nginx"},
                     "ports": [{"protocol": "TCP", "port": 80, "targetPort": 80, "nodePort": 30080}]}
        });
        assert_eq!(
            last_applied(&v, Some("default")),
            "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"annotations\":{},\"name\":\"nginx-nodeport\",\"namespace\":\"default\"},\"spec\":{\"ports\":[{\"nodePort\":30080,\"port\":80,\"protocol\":\"TCP\",\"targetPort\":80}],\"selector\":{\"app\":\"nginx\"},\"type\":\"NodePort\"}}\n"
        );
    }
}
