//! `kubectl apply`'s three-way merge, reduced to what netsim's objects need: fields the last
//! applied configuration had and the new one dropped are removed; the new configuration's fields
//! win; lists with a strategic merge key (containers and volumes by `name`, ports by `port` or
//! `containerPort`, mounts by `mountPath`) merge item by item, so what the server filled into an
//! item (an allocated `nodePort`, a defaulted `imagePullPolicy`) survives a re-apply.

use serde_json::{Map, Value};

/// The merge key of list field `field`, if it has one.
fn merge_key(field: &str, items: &[Value]) -> Option<&'static str> {
    let has = |k: &str| items.iter().all(|i| i.get(k).is_some());
    match field {
        "containers" | "initContainers" | "volumes" | "env" | "imagePullSecrets" => Some("name"),
        "volumeMounts" => Some("mountPath"),
        "ports" if has("containerPort") => Some("containerPort"),
        "ports" if has("port") => Some("port"),
        _ => None,
    }
}

/// Merges `new` onto `live`, removing what `last` had and `new` dropped.
pub fn three_way(live: &Value, last: Option<&Value>, new: &Value) -> Value {
    merge_value("", live, last, new)
}

fn merge_value(field: &str, live: &Value, last: Option<&Value>, new: &Value) -> Value {
    match (live, new) {
        (Value::Object(l), Value::Object(n)) => {
            Value::Object(merge_map(l, last.and_then(Value::as_object), n))
        }
        (Value::Array(l), Value::Array(n)) => {
            let Some(key) = merge_key(field, n) else {
                return new.clone();
            };
            let last_items = last.and_then(Value::as_array);
            Value::Array(
                n.iter()
                    .map(|item| {
                        let k = item.get(key);
                        let live_item = l.iter().find(|x| x.get(key) == k);
                        let last_item = last_items.and_then(|a| a.iter().find(|x| x.get(key) == k));
                        match live_item {
                            Some(li) => merge_value("", li, last_item, item),
                            None => item.clone(),
                        }
                    })
                    .collect(),
            )
        }
        _ => new.clone(),
    }
}

fn merge_map(
    live: &Map<String, Value>,
    last: Option<&Map<String, Value>>,
    new: &Map<String, Value>,
) -> Map<String, Value> {
    let mut out = live.clone();
    if let Some(last) = last {
        for k in last.keys() {
            if !new.contains_key(k) {
                out.remove(k);
            }
        }
    }
    for (k, v) in new {
        let merged = match live.get(k) {
            Some(l) => merge_value(k, l, last.and_then(|m| m.get(k)), v),
            None => v.clone(),
        };
        out.insert(k.clone(), merged);
    }
    out
}

/// A strategic merge patch (kubectl's default for built-in types): maps merge, `null` deletes,
/// lists with a merge key merge item by item, other lists are replaced.
pub fn strategic(live: &Value, patch: &Value) -> Value {
    strategic_field("", live, patch)
}

fn strategic_field(field: &str, live: &Value, patch: &Value) -> Value {
    match (live, patch) {
        (Value::Object(l), Value::Object(p)) => {
            let mut out = l.clone();
            for (k, v) in p {
                if v.is_null() {
                    out.remove(k);
                } else {
                    let merged = match l.get(k) {
                        Some(lv) => strategic_field(k, lv, v),
                        None => v.clone(),
                    };
                    out.insert(k.clone(), merged);
                }
            }
            Value::Object(out)
        }
        (Value::Array(l), Value::Array(p)) => {
            let Some(key) = merge_key(field, p) else {
                return patch.clone();
            };
            let mut out = l.clone();
            for item in p {
                match out.iter_mut().find(|x| x.get(key) == item.get(key)) {
                    Some(existing) => *existing = strategic_field("", existing, item),
                    None => out.push(item.clone()),
                }
            }
            Value::Array(out)
        }
        _ => patch.clone(),
    }
}

/// A JSON merge patch (RFC 7386): maps merge, `null` deletes, lists are replaced.
pub fn json_merge(live: &Value, patch: &Value) -> Value {
    match (live, patch) {
        (Value::Object(l), Value::Object(p)) => {
            let mut out = l.clone();
            for (k, v) in p {
                if v.is_null() {
                    out.remove(k);
                } else {
                    let merged = l.get(k).map_or_else(|| v.clone(), |lv| json_merge(lv, v));
                    out.insert(k.clone(), merged);
                }
            }
            Value::Object(out)
        }
        _ => patch.clone(),
    }
}

/// A JSON patch (RFC 6902): `add`, `remove`, `replace`, `test`, `copy`, `move`.
pub fn json_patch(live: &Value, ops: &Value) -> Result<Value, String> {
    let mut doc = live.clone();
    let ops = ops
        .as_array()
        .ok_or("json patch must be a list of operations")?;
    for op in ops {
        let kind = op
            .get("op")
            .and_then(Value::as_str)
            .ok_or("operation has no \"op\"")?;
        let path = op
            .get("path")
            .and_then(Value::as_str)
            .ok_or("operation has no \"path\"")?;
        match kind {
            "add" | "replace" => {
                let value = op
                    .get("value")
                    .cloned()
                    .ok_or("operation has no \"value\"")?;
                set_pointer(&mut doc, path, value, kind == "add")?;
            }
            "remove" => {
                remove_pointer(&mut doc, path)?;
            }
            "test" => {
                if doc.pointer(path) != op.get("value") {
                    return Err(format!("testing value {path} failed"));
                }
            }
            "copy" | "move" => {
                let from = op
                    .get("from")
                    .and_then(Value::as_str)
                    .ok_or("operation has no \"from\"")?;
                let value = doc
                    .pointer(from)
                    .cloned()
                    .ok_or_else(|| format!("missing value at {from}"))?;
                if kind == "move" {
                    remove_pointer(&mut doc, from)?;
                }
                set_pointer(&mut doc, path, value, true)?;
            }
            other => return Err(format!("unexpected operation {other:?}")),
        }
    }
    Ok(doc)
}

fn split_pointer(path: &str) -> Result<(String, String), String> {
    let (parent, last) = path
        .rsplit_once('/')
        .ok_or_else(|| format!("invalid path {path:?}"))?;
    Ok((
        parent.to_string(),
        last.replace("~1", "/").replace("~0", "~"),
    ))
}

fn set_pointer(doc: &mut Value, path: &str, value: Value, add: bool) -> Result<(), String> {
    let (parent, last) = split_pointer(path)?;
    let target = doc
        .pointer_mut(&parent)
        .ok_or_else(|| format!("doc is missing path: \"{path}\""))?;
    match target {
        Value::Object(m) => {
            if !add && !m.contains_key(&last) {
                return Err(format!("doc is missing key: {path}"));
            }
            m.insert(last, value);
        }
        Value::Array(a) => {
            if last == "-" {
                a.push(value);
            } else {
                let i: usize = last
                    .parse()
                    .map_err(|_| format!("invalid index in {path}"))?;
                if add && i <= a.len() {
                    a.insert(i, value);
                } else if i < a.len() {
                    a[i] = value;
                } else {
                    return Err(format!("index out of range in {path}"));
                }
            }
        }
        _ => return Err(format!("doc is missing path: \"{path}\"")),
    }
    Ok(())
}

fn remove_pointer(doc: &mut Value, path: &str) -> Result<(), String> {
    let (parent, last) = split_pointer(path)?;
    match doc.pointer_mut(&parent) {
        Some(Value::Object(m)) => m
            .remove(&last)
            .map(|_| ())
            .ok_or_else(|| format!("doc is missing key: {path}")),
        Some(Value::Array(a)) => {
            let i: usize = last
                .parse()
                .map_err(|_| format!("invalid index in {path}"))?;
            if i < a.len() {
                a.remove(i);
                Ok(())
            } else {
                Err(format!("index out of range in {path}"))
            }
        }
        _ => Err(format!("doc is missing path: \"{path}\"")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keeps_server_fields_in_keyed_lists() {
        let live = json!({"spec": {"ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}], "type": "NodePort", "selector": {"a": "b"}}});
        let last =
            json!({"spec": {"ports": [{"port": 80}], "type": "NodePort", "selector": {"a": "b"}}});
        let new = json!({"spec": {"ports": [{"port": 80}], "type": "NodePort"}});
        let merged = three_way(&live, Some(&last), &new);
        assert_eq!(merged["spec"]["ports"][0]["nodePort"], 30080);
        assert!(merged["spec"].get("selector").is_none());
    }
}
