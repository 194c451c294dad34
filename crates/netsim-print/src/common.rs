//! Small formatting helpers shared by the table and describe printers: label maps, label
//! selectors, timestamps, endpoint lists.
//!
//! This module owns string forms that apimachinery defines (`labels.FormatLabels`,
//! `LabelSelector.String()`, RFC1123Z); it must never look objects up.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, Time};
use netsim_model::jiff::Timestamp;
use std::collections::BTreeMap;

/// `labels.FormatLabels`: `k=v,k2=v2` sorted by key, or `<none>`.
pub fn format_labels(map: Option<&BTreeMap<String, String>>) -> String {
    match map {
        Some(m) if !m.is_empty() => netsim_model::labels::format_map(m),
        _ => "<none>".to_string(),
    }
}

/// `metav1.LabelSelectorAsSelector(s).String()`: requirements sorted by key, `k=v`,
/// `k in (a,b)`, `k notin (a,b)`, `k`, `!k`; empty for a nil or empty selector.
pub fn selector_string(selector: Option<&LabelSelector>) -> String {
    let Some(selector) = selector else {
        return String::new();
    };
    let mut reqs: Vec<(String, String)> = Vec::new();
    for (k, v) in selector.match_labels.iter().flatten() {
        reqs.push((k.clone(), format!("{k}={v}")));
    }
    for expr in selector.match_expressions.iter().flatten() {
        let mut values = expr.values.clone().unwrap_or_default();
        values.sort();
        let text = match expr.operator.as_str() {
            "In" => format!("{} in ({})", expr.key, values.join(",")),
            "NotIn" => format!("{} notin ({})", expr.key, values.join(",")),
            "Exists" => expr.key.clone(),
            "DoesNotExist" => format!("!{}", expr.key),
            other => format!("{} {} ({})", expr.key, other, values.join(",")),
        };
        reqs.push((expr.key.clone(), text));
    }
    // Go's sort.Sort(ByKey) is not stable; ties (same key twice) keep insertion order here.
    reqs.sort_by(|a, b| a.0.cmp(&b.0));
    reqs.into_iter()
        .map(|(_, t)| t)
        .collect::<Vec<_>>()
        .join(",")
}

/// `metav1.FormatLabelSelector`: [`selector_string`], or `<none>` when that is empty.
pub fn format_label_selector(selector: Option<&LabelSelector>) -> String {
    let s = selector_string(selector);
    if s.is_empty() {
        "<none>".to_string()
    } else {
        s
    }
}

/// The instant of an optional `Time`.
pub fn ts(t: Option<&Time>) -> Option<Timestamp> {
    t.map(|t| t.0)
}

/// Go's `time.RFC1123Z` layout (`Mon, 02 Jan 2006 15:04:05 -0700`) in UTC, as a kubectl whose
/// local zone is UTC prints it. A missing time prints Go's zero time.
pub fn rfc1123z(t: Option<Timestamp>) -> String {
    match t {
        Some(t) => t.strftime("%a, %d %b %Y %H:%M:%S +0000").to_string(),
        None => "Mon, 01 Jan 0001 00:00:00 +0000".to_string(),
    }
}

/// `net.JoinHostPort`: IPv6 addresses in brackets.
pub fn join_host_port(host: &str, port: impl std::fmt::Display) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// A string, or `default` when it is missing or empty.
pub fn or<'a>(s: Option<&'a str>, default: &'a str) -> &'a str {
    match s {
        Some(s) if !s.is_empty() => s,
        _ => default,
    }
}

/// Go's `strconv.Quote` (what `%q` prints for a string): in double quotes, `"` and `\`
/// escaped, the C escapes for `\a \b \f \n \r \t \v`, other control characters as `\xNN`
/// (`\uNNNN` beyond ASCII); everything printable as it is.
pub fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod go_quote_tests {
    use super::go_quote;

    #[test]
    fn quotes_as_strconv_quote_does() {
        assert_eq!(go_quote("two"), "\"two\"");
        assert_eq!(go_quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(go_quote("\t\n\u{1}\u{7f}"), "\"\\t\\n\\x01\\x7f\"");
        assert_eq!(go_quote("…é"), "\"…é\"");
        assert_eq!(go_quote("\u{85}"), "\"\\u0085\"");
    }
}
