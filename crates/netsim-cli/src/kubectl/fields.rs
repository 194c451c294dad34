//! `--field-selector`: the API server's field selectors, with the fields each kind supports
//! (`metadata.name` and `metadata.namespace` everywhere; pods, events, nodes and the others
//! their registry's `GetAttrs`) and its messages for the rest.

use netsim_model::{Kind, Object};

/// One `field=value`, `field==value` or `field!=value` term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    field: String,
    value: String,
    equal: bool,
}

/// A parsed `--field-selector`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSelector {
    text: String,
    terms: Vec<Term>,
}

/// The fields the API server filters `kind` on, besides `metadata.name`/`metadata.namespace`.
fn supported(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Pod => &[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        ],
        Kind::Event => &[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ],
        Kind::Node => &["spec.unschedulable"],
        Kind::Namespace => &["status.phase"],
        Kind::ReplicaSet => &["status.replicas"],
        _ => &[],
    }
}

impl FieldSelector {
    /// Parses `a=b,c!=d`.
    pub fn parse(text: &str) -> Result<FieldSelector, String> {
        let mut terms = Vec::new();
        for part in text.split(',').filter(|p| !p.is_empty()) {
            let (field, value, equal) = if let Some((f, v)) = part.split_once("!=") {
                (f, v, false)
            } else if let Some((f, v)) = part.split_once("==") {
                (f, v, true)
            } else if let Some((f, v)) = part.split_once('=') {
                (f, v, true)
            } else {
                return Err(format!(
                    "error: invalid selector: '{text}'; can't understand '{part}'"
                ));
            };
            terms.push(Term {
                field: field.trim().to_string(),
                value: value.trim().to_string(),
                equal,
            });
        }
        Ok(FieldSelector {
            text: text.to_string(),
            terms,
        })
    }

    /// The API server's refusal when a term names a field `kind` cannot be filtered on.
    pub fn check(&self, kind: Kind) -> Result<(), String> {
        for t in &self.terms {
            let known = matches!(t.field.as_str(), "metadata.name" | "metadata.namespace")
                || supported(kind).contains(&t.field.as_str());
            if !known {
                let info = kind.info();
                let group = kind.api_version();
                let (group, version) = match group.split_once('/') {
                    Some((g, v)) => (g.to_string(), v.to_string()),
                    None => (String::new(), group),
                };
                return Err(format!(
                    "Error from server (BadRequest): Unable to find \"{group}/{version}, Resource={}\" that match label selector \"\", field selector \"{}\": field label not supported: {}",
                    info.plural, self.text, t.field
                ));
            }
        }
        Ok(())
    }

    /// Whether `object` passes every term.
    pub fn matches(&self, object: &Object) -> bool {
        let json = object.to_json();
        self.terms.iter().all(|t| {
            let mut at = &json;
            for part in t.field.split('.') {
                match at.get(part) {
                    Some(v) => at = v,
                    None => {
                        at = &serde_json::Value::Null;
                        break;
                    }
                }
            }
            let value = match at {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Null => match t.field.as_str() {
                    // Unset booleans read as false, as the registries' attribute functions
                    // format them.
                    "spec.hostNetwork" | "spec.unschedulable" => "false".into(),
                    _ => String::new(),
                },
                serde_json::Value::Object(o) if t.field == "source" => o
                    .get("component")
                    .and_then(|c| c.as_str())
                    .unwrap_or("")
                    .to_string(),
                other => other.to_string(),
            };
            (value == t.value) == t.equal
        })
    }
}
