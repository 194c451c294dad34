//! Label selectors: equality maps (Service `spec.selector`) and `LabelSelector`s
//! (Deployments, ReplicaSets), and the `-l` selector strings kubectl accepts.
//!
//! This module owns matching only; it must never look objects up.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use std::collections::BTreeMap;

/// Whether every `k=v` of `selector` is in `labels`. An empty selector matches everything.
pub fn map_matches(
    selector: &BTreeMap<String, String>,
    labels: Option<&BTreeMap<String, String>>,
) -> bool {
    selector
        .iter()
        .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
}

/// Whether a `LabelSelector` (matchLabels and matchExpressions) matches `labels`.
pub fn selector_matches(
    selector: &LabelSelector,
    labels: Option<&BTreeMap<String, String>>,
) -> bool {
    if let Some(ml) = &selector.match_labels
        && !map_matches(ml, labels)
    {
        return false;
    }
    selector.match_expressions.iter().flatten().all(|expr| {
        let value = labels.and_then(|l| l.get(&expr.key));
        let values = expr.values.as_deref().unwrap_or(&[]);
        match expr.operator.as_str() {
            "In" => value.is_some_and(|v| values.contains(v)),
            "NotIn" => value.is_none_or(|v| !values.contains(v)),
            "Exists" => value.is_some(),
            "DoesNotExist" => value.is_none(),
            _ => false,
        }
    })
}

/// `k=v,k2=v2`, sorted by key, as kubectl prints selectors and `--show-labels`.
pub fn format_map(map: &BTreeMap<String, String>) -> String {
    map.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// One requirement of a `-l` selector string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    /// `k=v` or `k==v`
    Equals(String, String),
    /// `k!=v`
    NotEquals(String, String),
    /// `k in (a,b)`
    In(String, Vec<String>),
    /// `k notin (a,b)`
    NotIn(String, Vec<String>),
    /// `k`
    Exists(String),
    /// `!k`
    DoesNotExist(String),
}

/// A parsed `-l` selector string; all requirements must hold.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selector(pub Vec<Requirement>);

impl Selector {
    /// Parses kubectl's selector syntax (`app=nginx,tier!=db,env in (a,b),!legacy`).
    pub fn parse(text: &str) -> Result<Selector, String> {
        let mut reqs = Vec::new();
        let mut rest = text.trim();
        while !rest.is_empty() {
            // Split at the next comma that is not inside parentheses.
            let mut depth = 0;
            let mut end = rest.len();
            for (i, c) in rest.char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    ',' if depth == 0 => {
                        end = i;
                        break;
                    }
                    _ => {}
                }
            }
            let part = rest[..end].trim();
            rest = rest.get(end + 1..).unwrap_or("").trim();
            reqs.push(parse_requirement(part)?);
        }
        Ok(Selector(reqs))
    }

    /// Whether `labels` satisfy every requirement.
    pub fn matches(&self, labels: Option<&BTreeMap<String, String>>) -> bool {
        let get = |k: &str| labels.and_then(|l| l.get(k));
        self.0.iter().all(|r| match r {
            Requirement::Equals(k, v) => get(k) == Some(v),
            Requirement::NotEquals(k, v) => get(k) != Some(v),
            Requirement::In(k, vs) => get(k).is_some_and(|v| vs.contains(v)),
            Requirement::NotIn(k, vs) => get(k).is_none_or(|v| !vs.contains(v)),
            Requirement::Exists(k) => get(k).is_some(),
            Requirement::DoesNotExist(k) => get(k).is_none(),
        })
    }
}

fn parse_requirement(part: &str) -> Result<Requirement, String> {
    let bad = || format!("unable to parse requirement: found '{part}'");
    if let Some(k) = part.strip_prefix('!') {
        return Ok(Requirement::DoesNotExist(k.trim().to_string()));
    }
    if let Some((k, v)) = part.split_once("!=") {
        return Ok(Requirement::NotEquals(
            k.trim().to_string(),
            v.trim().to_string(),
        ));
    }
    if let Some((k, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
        return Ok(Requirement::Equals(
            k.trim().to_string(),
            v.trim().to_string(),
        ));
    }
    let set = |s: &str| -> Result<Vec<String>, String> {
        let s = s.trim();
        let inner = s
            .strip_prefix('(')
            .and_then(|s| s.strip_suffix(')'))
            .ok_or_else(bad)?;
        Ok(inner.split(',').map(|v| v.trim().to_string()).collect())
    };
    if let Some((k, vs)) = part.split_once(" notin ") {
        return Ok(Requirement::NotIn(k.trim().to_string(), set(vs)?));
    }
    if let Some((k, vs)) = part.split_once(" in ") {
        return Ok(Requirement::In(k.trim().to_string(), set(vs)?));
    }
    if part
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
        && !part.is_empty()
    {
        return Ok(Requirement::Exists(part.to_string()));
    }
    Err(bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_matches() {
        let labels: BTreeMap<String, String> = [("app".to_string(), "nginx".to_string())]
            .into_iter()
            .collect();
        let s = Selector::parse("app=nginx,tier notin (db),!legacy").unwrap();
        assert!(s.matches(Some(&labels)));
        assert!(
            !Selector::parse("app!=nginx")
                .unwrap()
                .matches(Some(&labels))
        );
        assert!(
            Selector::parse("app in (web, nginx)")
                .unwrap()
                .matches(Some(&labels))
        );
    }
}
