//! `netsim convert`: old Ingress manifests (`extensions/v1beta1`, `networking.k8s.io/v1beta1`)
//! rewritten for `networking.k8s.io/v1`, as the API server's conversion did.
//!
//! This module owns that one conversion. It must never accept TABs or other syntax errors the
//! YAML layer rejects (students fix those first), and it never touches other kinds.

use crate::error::{ManifestError, is_old_ingress};
use crate::{Source, read_documents, type_meta};
use serde_json::{Map, Value, json};

/// Reads `source` and returns every document as JSON, with old Ingresses converted to
/// `networking.k8s.io/v1` and everything else unchanged.
pub fn convert_ingress(source: &Source<'_>) -> Result<Vec<Value>, ManifestError> {
    Ok(read_documents(source)?
        .into_iter()
        .map(|doc| convert_ingress_value(&doc.value).unwrap_or(doc.value))
        .collect())
}

/// The `networking.k8s.io/v1` form of an old Ingress document; `None` if `value` is not one.
///
/// `serviceName`/`servicePort` become `service: {name, port: {number|name}}`, `spec.backend`
/// becomes `spec.defaultBackend`, and every path gets `pathType: ImplementationSpecific` (what
/// the server's conversion assigned); a missing `path` stays absent.
pub fn convert_ingress_value(value: &Value) -> Option<Value> {
    let (api_version, kind, _, _) = type_meta(value);
    if !is_old_ingress(&api_version, &kind) {
        return None;
    }
    let mut out = value.clone();
    let obj = out.as_object_mut()?;
    obj.insert("apiVersion".into(), json!("networking.k8s.io/v1"));
    if let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut) {
        if let Some(backend) = spec.remove("backend") {
            spec.insert("defaultBackend".into(), convert_backend(&backend));
        }
        if let Some(rules) = spec.get_mut("rules").and_then(Value::as_array_mut) {
            for rule in rules {
                let paths = rule
                    .get_mut("http")
                    .and_then(|h| h.get_mut("paths"))
                    .and_then(Value::as_array_mut);
                for path in paths.into_iter().flatten() {
                    if let Some(p) = path.as_object_mut() {
                        if let Some(b) = p.get("backend") {
                            let nb = convert_backend(b);
                            p.insert("backend".into(), nb);
                        }
                        p.entry("pathType")
                            .or_insert_with(|| json!("ImplementationSpecific"));
                    }
                }
            }
        }
    }
    Some(out)
}

fn convert_backend(old: &Value) -> Value {
    let Some(b) = old.as_object() else {
        return old.clone();
    };
    let mut out = Map::new();
    if let Some(resource) = b.get("resource") {
        out.insert("resource".into(), resource.clone());
    }
    if b.contains_key("serviceName") || b.contains_key("servicePort") {
        let mut service = Map::new();
        if let Some(name) = b.get("serviceName") {
            service.insert("name".into(), name.clone());
        }
        match b.get("servicePort") {
            Some(Value::Number(n)) => {
                service.insert("port".into(), json!({ "number": n }));
            }
            Some(Value::String(s)) => match s.parse::<i64>() {
                Ok(n) => {
                    service.insert("port".into(), json!({ "number": n }));
                }
                Err(_) => {
                    service.insert("port".into(), json!({ "name": s }));
                }
            },
            _ => {}
        }
        out.insert("service".into(), Value::Object(service));
    }
    Value::Object(out)
}
