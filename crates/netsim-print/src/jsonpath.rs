//! kubectl's JSONPath templates (`-o jsonpath=...`, k8s.io/client-go/util/jsonpath) and
//! `-o custom-columns=...` built on them.
//!
//! Supported: text outside `{}`, `$`/`@`, `.field`, `['field']`, escaped dots
//! (`kubernetes\.io/x`), `*`, `..` (recursive descent), `[n]`, `[a:b]`, `[*]`, filters
//! `[?(@.a == "x")]` with `== != < > <= >=` and existence, `{range …}…{end}`, quoted literals
//! (`{"\n"}`), and kubectl's `AllowMissingKeys(true)` (missing fields print nothing).
//! Results of one action are printed space-separated; scalars as Go's `fmt.Print` does, maps and
//! lists as compact JSON (what client-go does since v1.19).
//!
//! This module owns template parsing and evaluation over JSON; it must never know about kinds.

use crate::tabwriter::TabWriter;
use serde_json::Value;
use std::fmt;

/// A template parse or execution error, worded as client-go words it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonPathError {
    /// The template could not be parsed (`unclosed action`, ...).
    Parse(String),
    /// Evaluation failed (`array index out of bounds: index 5, length 2`).
    Execute(String),
    /// A `custom-columns` spec was malformed.
    Spec(String),
}

impl fmt::Display for JsonPathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JsonPathError::Parse(m) | JsonPathError::Execute(m) | JsonPathError::Spec(m) => {
                f.write_str(m)
            }
        }
    }
}

impl std::error::Error for JsonPathError {}

/// kubectl's message for a template that does not parse:
/// `error parsing jsonpath {.x, unclosed action` (print it after `error: `).
pub fn parse_error_message(template: &str, err: &JsonPathError) -> String {
    format!("error parsing jsonpath {template}, {err}")
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Text(String),
    Path(Vec<Seg>),
    Range(Vec<Seg>, Vec<Node>),
}

#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Field(String),
    Wildcard,
    Recursive,
    Index {
        start: Option<i64>,
        end: Option<i64>,
        single: bool,
    },
    All,
    Filter(Box<Filter>),
}

#[derive(Debug, Clone, PartialEq)]
struct Filter {
    left: Operand,
    op: Option<(String, Operand)>,
}

#[derive(Debug, Clone, PartialEq)]
enum Operand {
    Path(Vec<Seg>),
    Literal(Value),
}

/// A parsed JSONPath template.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonPath {
    nodes: Vec<Node>,
}

impl JsonPath {
    /// Parses a template such as `{.items[*].metadata.name}` or
    /// `{range .items[*]}{.metadata.name}{"\n"}{end}`.
    pub fn parse(template: &str) -> Result<JsonPath, JsonPathError> {
        let mut stack: Vec<(Vec<Seg>, Vec<Node>)> = Vec::new();
        let mut nodes: Vec<Node> = Vec::new();
        let chars: Vec<char> = template.chars().collect();
        let mut i = 0;
        let mut text = String::new();
        while i < chars.len() {
            if chars[i] != '{' {
                text.push(chars[i]);
                i += 1;
                continue;
            }
            if !text.is_empty() {
                nodes.push(Node::Text(std::mem::take(&mut text)));
            }
            // Find the matching '}' outside quotes.
            let mut j = i + 1;
            let mut quote: Option<char> = None;
            while j < chars.len() {
                let c = chars[j];
                match quote {
                    Some(_) if c == '\\' => j += 1,
                    Some(q) if c == q => quote = None,
                    Some(_) => {}
                    None if c == '"' || c == '\'' => quote = Some(c),
                    None if c == '}' => break,
                    None => {}
                }
                j += 1;
            }
            if j >= chars.len() {
                return Err(JsonPathError::Parse("unclosed action".into()));
            }
            let action: String = chars[i + 1..j].iter().collect();
            let action = action.trim();
            i = j + 1;
            if let Some(rest) = action.strip_prefix("range")
                && (rest.is_empty() || rest.starts_with(char::is_whitespace))
            {
                let path = parse_path(rest.trim())?;
                stack.push((path, std::mem::take(&mut nodes)));
                continue;
            }
            if action == "end" {
                let Some((path, outer)) = stack.pop() else {
                    return Err(JsonPathError::Parse("not in range, nothing to end".into()));
                };
                let body = std::mem::replace(&mut nodes, outer);
                nodes.push(Node::Range(path, body));
                continue;
            }
            if let Some(lit) = parse_quoted(action)? {
                nodes.push(Node::Text(lit));
                continue;
            }
            nodes.push(Node::Path(parse_path(action)?));
        }
        if !text.is_empty() {
            nodes.push(Node::Text(text));
        }
        if !stack.is_empty() {
            return Err(JsonPathError::Parse("unclosed range".into()));
        }
        Ok(JsonPath { nodes })
    }

    /// Executes the template against `data` (missing keys print nothing).
    pub fn execute(&self, data: &Value) -> Result<String, JsonPathError> {
        let mut out = String::new();
        exec_nodes(&self.nodes, data, data, &mut out)?;
        Ok(out)
    }

    /// The values each action of the template yields (what custom-columns uses).
    fn find_results(&self, data: &Value) -> Result<Vec<Vec<Value>>, JsonPathError> {
        let mut results = Vec::new();
        for node in &self.nodes {
            match node {
                Node::Path(segs) => results.push(eval(segs, data, data)?),
                Node::Text(t) => results.push(vec![Value::String(t.clone())]),
                Node::Range(segs, _) => results.push(eval(segs, data, data)?),
            }
        }
        Ok(results)
    }
}

fn exec_nodes(
    nodes: &[Node],
    root: &Value,
    current: &Value,
    out: &mut String,
) -> Result<(), JsonPathError> {
    for node in nodes {
        match node {
            Node::Text(t) => out.push_str(t),
            Node::Path(segs) => {
                let values = eval(segs, root, current)?;
                for (i, v) in values.iter().enumerate() {
                    out.push_str(&print_value(v));
                    if i + 1 != values.len() {
                        out.push(' ');
                    }
                }
            }
            Node::Range(segs, body) => {
                // Each result is one iteration (`{range .items[*]}` yields the elements;
                // `{range .items}` yields the list itself once).
                for v in eval(segs, root, current)? {
                    exec_nodes(body, root, &v, out)?;
                }
            }
        }
    }
    Ok(())
}

fn print_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "<nil>".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => go_number(n),
        Value::Array(_) | Value::Object(_) => compact_json(v),
    }
}

/// Go's `fmt.Print` of a decoded JSON number: integers verbatim, floats as `%v` (`1e+06`).
fn go_number(n: &serde_json::Number) -> String {
    if n.is_i64() || n.is_u64() {
        return n.to_string();
    }
    n.as_f64()
        .map_or_else(|| n.to_string(), crate::yaml::go_float_g)
}

/// Go's `json.Marshal`: compact, HTML-escaped.
fn compact_json(v: &Value) -> String {
    let text = serde_json::to_string(v).unwrap_or_default();
    text.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// Go's `fmt.Sprint` of a decoded JSON value (`map[a:b c:d]`, `[x y]`, `<nil>`), as
/// custom-columns prints cells.
fn go_sprint(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "<nil>".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => go_number(n),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(go_sprint).collect::<Vec<_>>().join(" ")
        ),
        Value::Object(map) => format!(
            "map[{}]",
            map.iter()
                .map(|(k, v)| format!("{k}:{}", go_sprint(v)))
                .collect::<Vec<_>>()
                .join(" ")
        ),
    }
}

/// Parses `"..."` / `'...'` literals with Go escapes; `None` if `s` is not a quoted literal.
fn parse_quoted(s: &str) -> Result<Option<String>, JsonPathError> {
    let Some(q) = s.chars().next().filter(|c| *c == '"' || *c == '\'') else {
        return Ok(None);
    };
    if s.len() < 2 || !s.ends_with(q) {
        return Err(JsonPathError::Parse("unterminated quoted string".into()));
    }
    Ok(Some(unescape(&s[1..s.len() - 1])))
}

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('\\') => out.push('\\'),
            Some('"') => out.push('"'),
            Some('\'') => out.push('\''),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

fn parse_path(s: &str) -> Result<Vec<Seg>, JsonPathError> {
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut segs = Vec::new();
    if chars.first().is_some_and(|&c| c == '$' || c == '@') {
        i = 1;
    }
    while i < chars.len() {
        let c = chars[i];
        match c {
            '.' => {
                if chars.get(i + 1) == Some(&'.') {
                    // `..name`: recursive descent, then `.name` on every descendant.
                    segs.push(Seg::Recursive);
                    i += 1;
                    continue;
                }
                i += 1;
                if chars.get(i) == Some(&'*') {
                    segs.push(Seg::Wildcard);
                    i += 1;
                    continue;
                }
                let mut name = String::new();
                while i < chars.len() {
                    let c = chars[i];
                    if c == '\\' && chars.get(i + 1) == Some(&'.') {
                        name.push('.');
                        i += 2;
                        continue;
                    }
                    if c == '.' || c == '[' {
                        break;
                    }
                    if !(c.is_alphanumeric() || matches!(c, '_' | '-' | '/')) {
                        return Err(unrecognized(c));
                    }
                    name.push(c);
                    i += 1;
                }
                if !name.is_empty() {
                    segs.push(Seg::Field(name));
                }
            }
            '[' => {
                let mut depth = 0;
                let mut j = i;
                let mut quote: Option<char> = None;
                while j < chars.len() {
                    let c = chars[j];
                    match quote {
                        Some(q) if c == q => quote = None,
                        Some(_) => {}
                        None if c == '"' || c == '\'' => quote = Some(c),
                        None if c == '[' => depth += 1,
                        None if c == ']' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        None => {}
                    }
                    j += 1;
                }
                if j >= chars.len() {
                    return Err(JsonPathError::Parse("unterminated array".into()));
                }
                let inner: String = chars[i + 1..j].iter().collect();
                segs.push(parse_bracket(inner.trim())?);
                i = j + 1;
            }
            '*' => {
                segs.push(Seg::Wildcard);
                i += 1;
            }
            c if c.is_whitespace() => i += 1,
            c if segs.is_empty() && (c.is_alphanumeric() || c == '_') => {
                // A bare first field (`{metadata.name}` after a relaxed prefix is missing).
                let mut name = String::new();
                while i < chars.len() && !matches!(chars[i], '.' | '[') {
                    name.push(chars[i]);
                    i += 1;
                }
                segs.push(Seg::Field(name));
            }
            c => return Err(unrecognized(c)),
        }
    }
    Ok(segs)
}

fn unrecognized(c: char) -> JsonPathError {
    JsonPathError::Parse(format!(
        "unrecognized character in action: U+{:04X} '{c}'",
        c as u32
    ))
}

fn parse_bracket(inner: &str) -> Result<Seg, JsonPathError> {
    if inner == "*" {
        return Ok(Seg::All);
    }
    if let Some(rest) = inner.strip_prefix('?') {
        let rest = rest.trim();
        let body = rest
            .strip_prefix('(')
            .and_then(|r| r.strip_suffix(')'))
            .ok_or_else(|| JsonPathError::Parse("unclosed filter".into()))?;
        return Ok(Seg::Filter(Box::new(parse_filter(body.trim())?)));
    }
    if let Some(lit) = parse_quoted(inner)? {
        return Ok(Seg::Field(lit));
    }
    let parse_num = |s: &str| -> Result<Option<i64>, JsonPathError> {
        let s = s.trim();
        if s.is_empty() {
            return Ok(None);
        }
        s.parse::<i64>()
            .map(Some)
            .map_err(|_| JsonPathError::Parse(format!("invalid array index {s}")))
    };
    let parts: Vec<&str> = inner.split(':').collect();
    match parts.as_slice() {
        [one] => Ok(Seg::Index {
            start: parse_num(one)?,
            end: None,
            single: true,
        }),
        [a, b] | [a, b, _] => Ok(Seg::Index {
            start: parse_num(a)?,
            end: parse_num(b)?,
            single: false,
        }),
        _ => Err(JsonPathError::Parse(format!("invalid array index {inner}"))),
    }
}

fn parse_filter(body: &str) -> Result<Filter, JsonPathError> {
    for op in ["==", "!=", "<=", ">=", "<", ">"] {
        if let Some(pos) = find_outside_quotes(body, op) {
            let left = parse_operand(body[..pos].trim())?;
            let right = parse_operand(body[pos + op.len()..].trim())?;
            return Ok(Filter {
                left,
                op: Some((op.to_string(), right)),
            });
        }
    }
    Ok(Filter {
        left: parse_operand(body)?,
        op: None,
    })
}

fn find_outside_quotes(s: &str, needle: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if s[i..].starts_with(needle) => return Some(i),
            None => {}
        }
    }
    None
}

fn parse_operand(s: &str) -> Result<Operand, JsonPathError> {
    if let Some(lit) = parse_quoted(s)? {
        return Ok(Operand::Literal(Value::String(lit)));
    }
    if s.starts_with('@') || s.starts_with('$') || s.starts_with('.') {
        return Ok(Operand::Path(parse_path(s)?));
    }
    match s {
        "true" => return Ok(Operand::Literal(Value::Bool(true))),
        "false" => return Ok(Operand::Literal(Value::Bool(false))),
        "nil" | "null" => return Ok(Operand::Literal(Value::Null)),
        _ => {}
    }
    if let Ok(v) = serde_json::from_str::<serde_json::Number>(s) {
        return Ok(Operand::Literal(Value::Number(v)));
    }
    Err(JsonPathError::Parse(format!(
        "unrecognized filter operand {s}"
    )))
}

fn eval(segs: &[Seg], root: &Value, current: &Value) -> Result<Vec<Value>, JsonPathError> {
    let _ = root;
    let mut values = vec![current.clone()];
    for seg in segs {
        let mut next = Vec::new();
        for v in &values {
            match seg {
                Seg::Field(name) => {
                    if let Value::Object(map) = v
                        && let Some(x) = map.get(name)
                    {
                        next.push(x.clone());
                    }
                }
                Seg::Wildcard => match v {
                    Value::Object(map) => next.extend(map.values().cloned()),
                    Value::Array(items) => next.extend(items.iter().cloned()),
                    _ => {}
                },
                Seg::Recursive => collect_recursive(v, &mut next),
                Seg::All => {
                    if let Value::Array(items) = v {
                        next.extend(items.iter().cloned());
                    }
                }
                Seg::Index { start, end, single } => {
                    let Value::Array(items) = v else { continue };
                    let len = items.len() as i64;
                    let mut s = start.unwrap_or(0);
                    if s < 0 {
                        s += len;
                    }
                    let mut e = if *single { s + 1 } else { end.unwrap_or(len) };
                    if !*single && end.is_some_and(|e| e < 0) {
                        e += len;
                    }
                    if e == s {
                        continue;
                    }
                    if s >= len || s < 0 {
                        return Err(JsonPathError::Execute(format!(
                            "array index out of bounds: index {s}, length {len}"
                        )));
                    }
                    if e > len || e < 0 {
                        return Err(JsonPathError::Execute(format!(
                            "array index out of bounds: index {}, length {len}",
                            e - 1
                        )));
                    }
                    if s > e {
                        return Err(JsonPathError::Execute(format!(
                            "starting index {s} is greater than ending index {e}"
                        )));
                    }
                    next.extend(items[s as usize..e as usize].iter().cloned());
                }
                Seg::Filter(filter) => {
                    let Value::Array(items) = v else { continue };
                    for item in items {
                        if filter_matches(filter, root, item)? {
                            next.push(item.clone());
                        }
                    }
                }
            }
        }
        values = next;
    }
    Ok(values)
}

fn collect_recursive(v: &Value, out: &mut Vec<Value>) {
    out.push(v.clone());
    match v {
        Value::Object(map) => map.values().for_each(|x| collect_recursive(x, out)),
        Value::Array(items) => items.iter().for_each(|x| collect_recursive(x, out)),
        _ => {}
    }
}

fn operand_values(op: &Operand, root: &Value, item: &Value) -> Result<Vec<Value>, JsonPathError> {
    match op {
        Operand::Literal(v) => Ok(vec![v.clone()]),
        Operand::Path(segs) => eval(segs, root, item),
    }
}

fn filter_matches(filter: &Filter, root: &Value, item: &Value) -> Result<bool, JsonPathError> {
    let left = operand_values(&filter.left, root, item)?;
    let Some((op, right)) = &filter.op else {
        return Ok(!left.is_empty());
    };
    let right = operand_values(right, root, item)?;
    let (Some(l), Some(r)) = (left.first(), right.first()) else {
        return Ok(false);
    };
    let ord = match (l, r) {
        (Value::Number(a), Value::Number(b)) => a
            .as_f64()
            .zip(b.as_f64())
            .and_then(|(a, b)| a.partial_cmp(&b)),
        (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
        (a, b) if a == b => Some(std::cmp::Ordering::Equal),
        _ => None,
    };
    use std::cmp::Ordering::*;
    Ok(match op.as_str() {
        "==" => ord == Some(Equal),
        "!=" => ord != Some(Equal),
        "<" => ord == Some(Less),
        ">" => ord == Some(Greater),
        "<=" => matches!(ord, Some(Less | Equal)),
        ">=" => matches!(ord, Some(Greater | Equal)),
        _ => false,
    })
}

/// `-o custom-columns=NAME:.metadata.name,IP:.status.podIP` over `objects` (each the object's
/// JSON): a `get`-style table, `<none>` for missing values, several values joined by `,`.
pub fn custom_columns(
    spec: &str,
    objects: &[Value],
    no_headers: bool,
) -> Result<String, JsonPathError> {
    let mut headers = Vec::new();
    let mut paths = Vec::new();
    for part in spec.split(',') {
        let Some((header, expr)) = part.split_once(':') else {
            return Err(JsonPathError::Spec(format!(
                "unexpected custom-columns spec: {part}, expected <header>:<json-path-expr>"
            )));
        };
        headers.push(header.to_string());
        paths.push(JsonPath::parse(&relaxed(expr))?);
    }
    let mut w = TabWriter::for_get();
    if !no_headers {
        w.write_str(&headers.join("\t"));
        w.write_str("\n");
    }
    for object in objects {
        let mut cells = Vec::new();
        for path in &paths {
            let results = path.find_results(object)?;
            let mut strings: Vec<String> = Vec::new();
            if results.first().is_none_or(|r| r.is_empty()) {
                strings.push("<none>".into());
            }
            for r in &results {
                strings.extend(r.iter().map(go_sprint));
            }
            cells.push(strings.join(","));
        }
        w.write_str(&cells.join("\t"));
        w.write_str("\n");
    }
    Ok(w.finish())
}

/// `RelaxedJSONPathExpression`: `.a.b`, `a.b` and `{.a.b}` all mean `{.a.b}`.
fn relaxed(expr: &str) -> String {
    let e = expr.trim();
    let inner = e
        .strip_prefix('{')
        .and_then(|x| x.strip_suffix('}'))
        .unwrap_or(e);
    let inner = inner.strip_prefix('$').unwrap_or(inner);
    if inner.starts_with('.') || inner.starts_with('[') {
        format!("{{{inner}}}")
    } else {
        format!("{{.{inner}}}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn list() -> Value {
        json!({"kind": "List", "items": [
            {"metadata": {"name": "a", "labels": {"app": "x", "tier": "web"}},
             "spec": {"clusterIP": "10.96.0.1", "ports": [{"port": 80}, {"port": 443}]},
             "status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.10"},
                                      {"type": "Hostname", "address": "node-a"}]}},
            {"metadata": {"name": "b"}, "spec": {"clusterIP": "None"}}
        ]})
    }

    fn run(t: &str) -> String {
        JsonPath::parse(t).unwrap().execute(&list()).unwrap()
    }

    #[test]
    fn kubectl_examples() {
        assert_eq!(run("{.items[*].metadata.name}"), "a b");
        assert_eq!(run("{.items[0].spec.clusterIP}"), "10.96.0.1");
        assert_eq!(
            run("{range .items[*]}{.metadata.name}{\"\\n\"}{end}"),
            "a\nb\n"
        );
        assert_eq!(
            run("{.items[0].status.addresses[?(@.type==\"InternalIP\")].address}"),
            "10.0.0.10"
        );
        assert_eq!(run("{..name}"), "a b");
        assert_eq!(run("names: {.items[*].metadata.name}!"), "names: a b!");
        assert_eq!(
            run("{.items[0].metadata.labels}"),
            "{\"app\":\"x\",\"tier\":\"web\"}"
        );
        assert_eq!(run("{.items[0].spec.ports[*].port}"), "80 443");
        assert_eq!(run("{.items[-1:].metadata.name}"), "b");
        assert_eq!(run("{.items[*].nosuch}"), "");
        assert_eq!(run("{$.kind}"), "List");
        assert_eq!(run("{.items[1]['metadata']['name']}"), "b");
    }

    #[test]
    fn errors() {
        let err = JsonPath::parse("{.x").unwrap_err();
        assert_eq!(
            parse_error_message("{.x", &err),
            "error parsing jsonpath {.x, unclosed action"
        );
        assert_eq!(
            JsonPath::parse("{.items[5]}")
                .unwrap()
                .execute(&list())
                .unwrap_err()
                .to_string(),
            "array index out of bounds: index 5, length 2"
        );
        assert!(JsonPath::parse("{end}").is_err());
    }

    #[test]
    fn custom_columns_table() {
        let items = match list() {
            Value::Object(mut m) => match m.remove("items") {
                Some(Value::Array(items)) => items,
                _ => vec![],
            },
            _ => vec![],
        };
        assert_eq!(
            custom_columns("NAME:.metadata.name,IP:.spec.clusterIP,LABELS:.metadata.labels,PORTS:.spec.ports[*].port", &items, false).unwrap(),
            "NAME   IP          LABELS                PORTS\na      10.96.0.1   map[app:x tier:web]   80,443\nb      None        <none>                <none>\n"
        );
    }
}
