//! The API server's validation for the common cases, with its exact messages
//! (`pkg/apis/core/validation/validation.go`, `pkg/apis/apps/validation`,
//! `pkg/apis/networking/validation`, apimachinery `pkg/util/validation`).
//!
//! This module owns deciding that a (defaulted) object is invalid and wording it as kubectl
//! prints a 422. It must never change the object, and never check what needs cluster state
//! (allocated ports and IPs are the engine's: "provided port is already allocated").

use netsim_model::Object;
use netsim_model::k8s_openapi::api::core::v1::{ConfigMap, PodSpec, Service, ServicePort};
use netsim_model::k8s_openapi::api::networking::v1::Ingress;
use netsim_model::k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

/// One cause of an invalid object: the field path and the message after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    /// `spec.ports[0].nodePort`.
    pub field: String,
    /// `Invalid value: 70000: must be between 1 and 65535, inclusive`.
    pub message: String,
}

/// An object the API server would refuse with 422 Invalid. `Display` is kubectl's text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ValidationError {
    /// `Service`.
    pub kind: String,
    /// `metadata.name`.
    pub name: String,
    /// Every cause, in the order the API server finds them.
    pub causes: Vec<Cause>,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = format!("The {} \"{}\" is invalid: ", self.kind, self.name);
        match self.causes.as_slice() {
            [one] => write!(f, "{prefix}{}: {}", one.field, one.message),
            many => {
                // kubectl's MultilineError: the prefix on its own line (trailing space kept).
                write!(f, "{prefix}")?;
                for c in many {
                    write!(f, "\n* {}: {}", c.field, c.message)?;
                }
                Ok(())
            }
        }
    }
}

/// Collected causes.
#[derive(Default)]
struct Errs(Vec<Cause>);

impl Errs {
    fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(Cause {
            field: field.into(),
            message: message.into(),
        });
    }
    fn invalid(&mut self, field: impl Into<String>, value: &str, msg: &str) {
        self.push(field, format!("Invalid value: {value}: {msg}"));
    }
    fn required(&mut self, field: impl Into<String>, detail: &str) {
        if detail.is_empty() {
            self.push(field, "Required value");
        } else {
            self.push(field, format!("Required value: {detail}"));
        }
    }
    fn unsupported(&mut self, field: impl Into<String>, value: &str, supported: &[&str]) {
        let list = supported
            .iter()
            .map(|s| format!("\"{s}\""))
            .collect::<Vec<_>>()
            .join(", ");
        self.push(
            field,
            format!("Unsupported value: {}: supported values: {list}", q(value)),
        );
    }
}

/// Go's `%q` for the strings that appear here.
fn q(s: &str) -> String {
    format!("{s:?}")
}

const DNS1123_LABEL_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_SUBDOMAIN_FMT: &str =
    r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const DNS1035_LABEL_FMT: &str = "[a-z]([-a-z0-9]*[a-z0-9])?";
const LABEL_VALUE_FMT: &str = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
const QUALIFIED_NAME_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";

/// apimachinery's `RegexError`: note the double space Go's loop leaves before `or`.
fn regex_error(msg: &str, fmt_: &str, examples: &[&str]) -> String {
    let mut out = msg.to_string();
    if !examples.is_empty() {
        out.push_str(" (e.g. ");
        for (i, e) in examples.iter().enumerate() {
            if i > 0 {
                out.push_str(" or ");
            }
            out.push_str(&format!("'{e}', "));
        }
        out.push_str(&format!("regex used for validation is '{fmt_}')"));
    }
    out
}

fn max_len_error(n: usize) -> String {
    format!("must be no more than {n} characters")
}

fn is_alnum_lower(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

fn label_ok(s: &str, first: fn(char) -> bool) -> bool {
    let b: Vec<char> = s.chars().collect();
    match (b.first(), b.last()) {
        (Some(f), Some(l)) => {
            first(*f) && is_alnum_lower(*l) && b.iter().all(|c| is_alnum_lower(*c) || *c == '-')
        }
        _ => false,
    }
}

/// apimachinery `IsDNS1123Label`.
pub fn is_dns1123_label(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > 63 {
        errs.push(max_len_error(63));
    }
    if !label_ok(s, is_alnum_lower) {
        errs.push(regex_error(
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
            DNS1123_LABEL_FMT,
            &["my-name", "123-abc"],
        ));
    }
    errs
}

/// apimachinery `IsDNS1123Subdomain`.
pub fn is_dns1123_subdomain(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > 253 {
        errs.push(max_len_error(253));
    }
    if s.is_empty() || !s.split('.').all(|part| label_ok(part, is_alnum_lower)) {
        errs.push(regex_error(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
            DNS1123_SUBDOMAIN_FMT,
            &["example.com"],
        ));
    }
    errs
}

/// apimachinery `IsDNS1035Label`.
pub fn is_dns1035_label(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > 63 {
        errs.push(max_len_error(63));
    }
    if !label_ok(s, |c| c.is_ascii_lowercase()) {
        errs.push(regex_error(
            "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character",
            DNS1035_LABEL_FMT,
            &["my-name", "abc-123"],
        ));
    }
    errs
}

fn name_part_ok(s: &str) -> bool {
    let b: Vec<char> = s.chars().collect();
    match (b.first(), b.last()) {
        (Some(f), Some(l)) => {
            f.is_ascii_alphanumeric()
                && l.is_ascii_alphanumeric()
                && b.iter()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        }
        _ => false,
    }
}

/// apimachinery `IsValidLabelValue`.
pub fn is_valid_label_value(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > 63 {
        errs.push(max_len_error(63));
    }
    if !s.is_empty() && !name_part_ok(s) {
        errs.push(regex_error(
            "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
            LABEL_VALUE_FMT,
            &["MyValue", "my_value", "12345"],
        ));
    }
    errs
}

/// apimachinery `IsQualifiedName` (label and annotation keys).
pub fn is_qualified_name(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let (prefix, name) = match s.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, s),
    };
    if let Some(p) = prefix {
        if p.is_empty() {
            errs.push("prefix part must be non-empty".to_string());
        } else {
            errs.extend(
                is_dns1123_subdomain(p)
                    .into_iter()
                    .map(|m| format!("prefix part {m}")),
            );
        }
    }
    if name.is_empty() {
        errs.push("name part must be non-empty".to_string());
    } else if name.len() > 63 {
        errs.push(format!("name part {}", max_len_error(63)));
    }
    if !name.is_empty() && !name_part_ok(name) {
        errs.push(regex_error(
            "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
            QUALIFIED_NAME_FMT,
            &["MyName", "my.name", "123-abc"],
        ));
    }
    errs
}

/// apimachinery `IsValidPortNum`.
pub fn is_valid_port_num(p: i32) -> Vec<String> {
    if (1..=65535).contains(&p) {
        Vec::new()
    } else {
        vec!["must be between 1 and 65535, inclusive".to_string()]
    }
}

/// apimachinery `IsValidPortName`.
pub fn is_valid_port_name(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > 15 {
        errs.push(max_len_error(15));
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        errs.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".into());
    }
    if !s.chars().any(|c| c.is_ascii_lowercase()) {
        errs.push("must contain at least one letter (a-z)".into());
    }
    if s.contains("--") {
        errs.push("must not contain consecutive hyphens".into());
    }
    if s.starts_with('-') || s.ends_with('-') {
        errs.push("must not begin or end with a hyphen".into());
    }
    errs
}

fn labels(errs: &mut Errs, field: &str, map: Option<&BTreeMap<String, String>>) {
    for (k, v) in map.into_iter().flatten() {
        for m in is_qualified_name(k) {
            errs.invalid(field, &q(k), &m);
        }
        for m in is_valid_label_value(v) {
            errs.invalid(field, &q(v), &m);
        }
    }
}

/// Go's `%#v` of a `map[string]string`.
fn go_map(map: &BTreeMap<String, String>) -> String {
    let inner = map
        .iter()
        .map(|(k, v)| format!("{}:{}", q(k), q(v)))
        .collect::<Vec<_>>()
        .join(", ");
    format!("map[string]string{{{inner}}}")
}

fn metadata(errs: &mut Errs, obj: &Object, name_check: fn(&str) -> Vec<String>) {
    let meta = obj.metadata();
    match meta.name.as_deref() {
        None | Some("") => {
            if meta.generate_name.as_deref().unwrap_or("").is_empty() {
                errs.required("metadata.name", "name or generateName is required");
            }
        }
        Some(n) => {
            for m in name_check(n) {
                errs.invalid("metadata.name", &q(n), &m);
            }
        }
    }
    if obj.kind().info().namespaced
        && let Some(ns) = meta.namespace.as_deref()
        && !ns.is_empty()
    {
        for m in is_dns1123_label(ns) {
            errs.invalid("metadata.namespace", &q(ns), &m);
        }
    }
    labels(errs, "metadata.labels", meta.labels.as_ref());
    annotations(errs, meta.annotations.as_ref());
}

/// The most bytes an object's annotations may hold, keys and values together
/// (`TotalAnnotationSizeLimitB`): what a large object's `last-applied-configuration` hits.
const MAX_ANNOTATION_BYTES: usize = 256 * 1024;

/// apimachinery's `ValidateAnnotations`: keys are qualified names (any case), and the total size
/// is bounded.
fn annotations(errs: &mut Errs, map: Option<&BTreeMap<String, String>>) {
    let Some(map) = map else { return };
    for k in map.keys() {
        for m in is_qualified_name(&k.to_lowercase()) {
            errs.invalid("metadata.annotations", &q(k), &m);
        }
    }
    let total: usize = map.iter().map(|(k, v)| k.len() + v.len()).sum();
    if total > MAX_ANNOTATION_BYTES {
        errs.push(
            "metadata.annotations",
            format!("Too long: must have at most {MAX_ANNOTATION_BYTES} bytes"),
        );
    }
}

/// The most bytes a ConfigMap's data may hold (`MaxSecretSize`, shared with Secrets).
const MAX_CONFIGMAP_BYTES: usize = 1024 * 1024;

/// `ValidateConfigMap` after the metadata: keys, and the total size (whose error names the
/// whole object, the path `[]`).
fn config_map(errs: &mut Errs, cm: &ConfigMap) {
    let mut total = 0;
    for (key, value) in cm.data.iter().flatten() {
        for m in is_config_map_key(key) {
            errs.invalid(format!("data[{key}]"), &q(key), &m);
        }
        if cm.binary_data.as_ref().is_some_and(|b| b.contains_key(key)) {
            errs.invalid(
                format!("data[{key}]"),
                &q(key),
                "duplicate of key present in binaryData",
            );
        }
        total += value.len();
    }
    for (key, value) in cm.binary_data.iter().flatten() {
        for m in is_config_map_key(key) {
            errs.invalid(format!("binaryData[{key}]"), &q(key), &m);
        }
        total += value.0.len();
    }
    if total > MAX_CONFIGMAP_BYTES {
        errs.push(
            "[]",
            format!("Too long: must have at most {MAX_CONFIGMAP_BYTES} bytes"),
        );
    }
}

/// apimachinery's `IsConfigMapKey`.
pub fn is_config_map_key(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    if s.len() > 253 {
        out.push(max_len_error(253));
    }
    if s.is_empty()
        || !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        out.push(regex_error(
            "a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
            "[-._a-zA-Z0-9]+",
            &["key.name", "KEY_NAME", "key-name"],
        ));
    }
    if s == "." {
        out.push("must not be '.'".to_string());
    } else if s == ".." {
        out.push("must not be '..'".to_string());
    } else if s.starts_with("..") {
        out.push("must not start with '..'".to_string());
    }
    out
}

/// Checks `obj` (after defaulting) the way the API server does on create.
pub fn validate(obj: &Object) -> Result<(), ValidationError> {
    let mut errs = Errs::default();
    match obj {
        Object::Service(s) => {
            metadata(&mut errs, obj, is_dns1035_label);
            service(&mut errs, s);
        }
        Object::Pod(p) => {
            metadata(&mut errs, obj, is_dns1123_subdomain);
            match p.spec.as_ref() {
                Some(spec) => pod_spec(&mut errs, "spec", spec),
                None => errs.required("spec.containers", ""),
            }
        }
        Object::Deployment(d) => {
            metadata(&mut errs, obj, is_dns1123_subdomain);
            if let Some(spec) = d.spec.as_ref() {
                if let Some(r) = spec.replicas
                    && r < 0
                {
                    errs.invalid(
                        "spec.replicas",
                        &r.to_string(),
                        "must be greater than or equal to 0",
                    );
                }
                let selector = spec.selector.match_labels.clone().unwrap_or_default();
                let has_exprs = spec
                    .selector
                    .match_expressions
                    .as_ref()
                    .is_some_and(|e| !e.is_empty());
                if selector.is_empty() && !has_exprs {
                    errs.invalid(
                        "spec.selector",
                        "v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}",
                        "empty selector is invalid for deployment",
                    );
                }
                let tmpl_labels = spec
                    .template
                    .metadata
                    .as_ref()
                    .and_then(|m| m.labels.clone())
                    .unwrap_or_default();
                labels(
                    &mut errs,
                    "spec.template.metadata.labels",
                    Some(&tmpl_labels),
                );
                if !selector.is_empty()
                    && !selector.iter().all(|(k, v)| tmpl_labels.get(k) == Some(v))
                {
                    errs.invalid(
                        "spec.template.metadata.labels",
                        &go_map(&tmpl_labels),
                        "`selector` does not match template `labels`",
                    );
                }
                match spec.template.spec.as_ref() {
                    Some(ps) => pod_spec(&mut errs, "spec.template.spec", ps),
                    None => errs.required("spec.template.spec.containers", ""),
                }
            } else {
                errs.required("spec.selector", "");
            }
        }
        Object::Ingress(i) => {
            metadata(&mut errs, obj, is_dns1123_subdomain);
            ingress(&mut errs, i);
        }
        Object::Namespace(_) => metadata(&mut errs, obj, is_dns1123_label),
        Object::ConfigMap(cm) => {
            metadata(&mut errs, obj, is_dns1123_subdomain);
            config_map(&mut errs, cm);
        }
        _ => metadata(&mut errs, obj, is_dns1123_subdomain),
    }
    if errs.0.is_empty() {
        Ok(())
    } else {
        Err(ValidationError {
            kind: obj.kind().info().kind.to_string(),
            name: obj.name().to_string(),
            causes: errs.0,
        })
    }
}

/// `ValidateNonSpecialIP`: addresses a Service may not claim as external.
fn special_ip(ip: IpAddr) -> Vec<&'static str> {
    let mut out = Vec::new();
    if ip.is_unspecified() {
        out.push("may not be unspecified (0.0.0.0)");
    }
    if ip.is_loopback() {
        out.push("may not be in the loopback range (127.0.0.0/8, ::1/128)");
    }
    let link_local = match ip {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80,
    };
    if link_local {
        out.push("may not be in the link-local range (169.254.0.0/16, fe80::/10)");
    }
    let link_local_multicast = match ip {
        IpAddr::V4(v4) => v4.octets()[..3] == [224, 0, 0],
        IpAddr::V6(v6) => (v6.segments()[0] & 0xff0f) == 0xff02,
    };
    if link_local_multicast {
        out.push("may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)");
    }
    out
}

/// Whether `s` is an address range as Go's `net.ParseCIDR` reads one (`10.0.0.0/8`).
fn is_cidr(s: &str) -> bool {
    let Some((addr, bits)) = s.split_once('/') else {
        return false;
    };
    let Ok(addr) = addr.parse::<IpAddr>() else {
        return false;
    };
    let max = if addr.is_ipv4() { 32 } else { 128 };
    !bits.is_empty()
        && bits.len() <= 3
        && bits.chars().all(|c| c.is_ascii_digit())
        && bits.parse::<u32>().is_ok_and(|b| b <= max)
}

fn go_service_port_key(p: &ServicePort) -> String {
    format!(
        "core.ServicePort{{Name:\"\", Protocol:{}, AppProtocol:(*string)(nil), Port:{}, TargetPort:intstr.IntOrString{{Type:0, IntVal:0, StrVal:\"\"}}, NodePort:0}}",
        q(p.protocol.as_deref().unwrap_or("")),
        p.port
    )
}

fn service(errs: &mut Errs, s: &Service) {
    let Some(spec) = s.spec.as_ref() else {
        errs.required("spec.ports", "");
        return;
    };
    let ty = spec.type_.as_deref().unwrap_or("ClusterIP");
    let supported = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];
    if !supported.contains(&ty) {
        errs.unsupported("spec.type", ty, &supported);
    }
    let headless = spec.cluster_ip.as_deref() == Some("None");
    let ports = spec.ports.as_deref().unwrap_or(&[]);
    if ports.is_empty() && ty != "ExternalName" && !headless {
        errs.required("spec.ports", "");
    }
    if ty == "ExternalName" {
        match spec.external_name.as_deref() {
            None | Some("") => errs.required("spec.externalName", ""),
            Some(n) => {
                for m in is_dns1123_subdomain(n.trim_end_matches('.')) {
                    errs.invalid("spec.externalName", &q(n), &m);
                }
            }
        }
    }
    let mut names: Vec<&str> = Vec::new();
    for (i, p) in ports.iter().enumerate() {
        let path = format!("spec.ports[{i}]");
        match p.name.as_deref() {
            Some(n) if !n.is_empty() => {
                for m in is_dns1123_label(n) {
                    errs.invalid(format!("{path}.name"), &q(n), &m);
                }
                if names.contains(&n) {
                    errs.push(format!("{path}.name"), format!("Duplicate value: {}", q(n)));
                }
                names.push(n);
            }
            _ if ports.len() > 1 => errs.required(format!("{path}.name"), ""),
            _ => {}
        }
        for m in is_valid_port_num(p.port) {
            errs.invalid(format!("{path}.port"), &p.port.to_string(), &m);
        }
        let protocols = ["SCTP", "TCP", "UDP"];
        match p.protocol.as_deref() {
            None | Some("") => errs.required(format!("{path}.protocol"), ""),
            Some(pr) if !protocols.contains(&pr) => {
                errs.unsupported(format!("{path}.protocol"), pr, &protocols)
            }
            _ => {}
        }
        match &p.target_port {
            Some(IntOrString::Int(t)) => {
                for m in is_valid_port_num(*t) {
                    errs.invalid(format!("{path}.targetPort"), &t.to_string(), &m);
                }
            }
            Some(IntOrString::String(t)) => {
                for m in is_valid_port_name(t) {
                    errs.invalid(format!("{path}.targetPort"), &q(t), &m);
                }
            }
            None => {}
        }
        if let Some(np) = p.node_port
            && np != 0
        {
            if ty == "ClusterIP" || ty == "ExternalName" {
                errs.push(
                    format!("{path}.nodePort"),
                    format!("Forbidden: may not be used when `type` is '{ty}'"),
                );
            }
            for m in is_valid_port_num(np) {
                errs.invalid(format!("{path}.nodePort"), &np.to_string(), &m);
            }
        }
    }
    // Duplicate (protocol, port) and (protocol, nodePort) pairs.
    for (i, p) in ports.iter().enumerate() {
        let earlier = &ports[..i];
        if earlier
            .iter()
            .any(|e| e.port == p.port && e.protocol == p.protocol)
        {
            errs.push(
                format!("spec.ports[{i}]"),
                format!("Duplicate value: {}", go_service_port_key(p)),
            );
        }
        if let Some(np) = p.node_port
            && np != 0
            && earlier
                .iter()
                .any(|e| e.node_port == Some(np) && e.protocol == p.protocol)
        {
            errs.push(
                format!("spec.ports[{i}].nodePort"),
                format!("Duplicate value: {np}"),
            );
        }
    }
    // clusterIP / clusterIPs.
    let mut ips: Vec<String> = spec.cluster_ips.clone().unwrap_or_default();
    if ips.is_empty()
        && let Some(ip) = spec.cluster_ip.as_ref()
        && !ip.is_empty()
    {
        ips.push(ip.clone());
    }
    for (i, ip) in ips.iter().enumerate() {
        if ip == "None" || ip.is_empty() {
            continue;
        }
        if ip.parse::<IpAddr>().is_err() {
            errs.invalid(
                format!("spec.clusterIPs[{i}]"),
                &q(ip),
                "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
            );
        }
    }
    if let Some(sel) = spec.selector.as_ref() {
        labels(errs, "spec.selector", Some(sel));
    }
    for (i, ip) in spec.external_ips.iter().flatten().enumerate() {
        let path = format!("spec.externalIPs[{i}]");
        match ip.parse::<IpAddr>() {
            Err(_) => errs.invalid(
                path,
                &q(ip),
                "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
            ),
            Ok(addr) => {
                for m in special_ip(addr) {
                    errs.invalid(path.clone(), &q(ip), m);
                }
            }
        }
    }
    // The field path is spelled with a capital L in the API server's validation.
    if let Some(ranges) = spec
        .load_balancer_source_ranges
        .as_ref()
        .filter(|r| !r.is_empty())
    {
        let path = "spec.LoadBalancerSourceRanges";
        if ty != "LoadBalancer" {
            errs.push(
                path,
                "Forbidden: may only be used when `type` is 'LoadBalancer'",
            );
        }
        if !ranges.iter().all(|r| is_cidr(r)) {
            // Go's `%v` of the list, then quoted as the invalid value.
            let value = format!("[{}]", ranges.join(" "));
            errs.invalid(
                path,
                &q(&value),
                "must be a list of IP ranges. For example, 10.240.0.0/24,10.250.0.0/24 ",
            );
        }
    }
    if ty == "ExternalName" || ty == "ClusterIP" {
        if let Some(p) = spec.external_traffic_policy.as_deref()
            && !p.is_empty()
            && !(ty == "ClusterIP" && spec.external_ips.as_ref().is_some_and(|v| !v.is_empty()))
        {
            errs.invalid(
                "spec.externalTrafficPolicy",
                &q(p),
                "may only be set for externally-accessible services",
            );
        }
    } else if let Some(p) = spec.external_traffic_policy.as_deref() {
        let supported = ["Cluster", "Local"];
        if !supported.contains(&p) {
            errs.unsupported("spec.externalTrafficPolicy", p, &supported);
        }
    }
    let affinity = ["ClientIP", "None"];
    if let Some(a) = spec.session_affinity.as_deref()
        && !affinity.contains(&a)
    {
        errs.unsupported("spec.sessionAffinity", a, &affinity);
    }
}

fn pod_spec(errs: &mut Errs, base: &str, spec: &PodSpec) {
    if spec.containers.is_empty() {
        errs.required(format!("{base}.containers"), "");
    }
    let mut names: Vec<&str> = Vec::new();
    for (i, c) in spec.containers.iter().enumerate() {
        let path = format!("{base}.containers[{i}]");
        if c.name.is_empty() {
            errs.required(format!("{path}.name"), "");
        } else {
            for m in is_dns1123_label(&c.name) {
                errs.invalid(format!("{path}.name"), &q(&c.name), &m);
            }
            if names.contains(&c.name.as_str()) {
                errs.push(
                    format!("{path}.name"),
                    format!("Duplicate value: {}", q(&c.name)),
                );
            }
            names.push(&c.name);
        }
        if c.image.as_deref().unwrap_or("").trim().is_empty() {
            errs.required(format!("{path}.image"), "");
        }
        for (j, p) in c.ports.iter().flatten().enumerate() {
            for m in is_valid_port_num(p.container_port) {
                errs.invalid(
                    format!("{path}.ports[{j}].containerPort"),
                    &p.container_port.to_string(),
                    &m,
                );
            }
        }
        let policies = ["Always", "IfNotPresent", "Never"];
        if let Some(pp) = c.image_pull_policy.as_deref()
            && !policies.contains(&pp)
        {
            errs.unsupported(format!("{path}.imagePullPolicy"), pp, &policies);
        }
    }
    let restart = ["Always", "Never", "OnFailure"];
    if let Some(r) = spec.restart_policy.as_deref()
        && !restart.contains(&r)
    {
        errs.unsupported(format!("{base}.restartPolicy"), r, &restart);
    }
    let dns = ["ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"];
    if let Some(d) = spec.dns_policy.as_deref() {
        if !dns.contains(&d) {
            errs.unsupported(format!("{base}.dnsPolicy"), d, &dns);
        } else if d == "None" && spec.dns_config.is_none() {
            errs.required(
                format!("{base}.dnsConfig"),
                "must provide `dnsConfig` when `dnsPolicy` is None",
            );
        }
    }
    if let Some(cfg) = spec.dns_config.as_ref() {
        let ns = cfg.nameservers.as_deref().unwrap_or(&[]);
        if spec.dns_policy.as_deref() == Some("None") && ns.is_empty() {
            errs.required(
                format!("{base}.dnsConfig.nameservers"),
                "must provide at least one DNS nameserver when `dnsPolicy` is None",
            );
        }
        if ns.len() > 3 {
            errs.invalid(
                format!("{base}.dnsConfig.nameservers"),
                &format!(
                    "[]string{{{}}}",
                    ns.iter().map(|s| q(s)).collect::<Vec<_>>().join(", ")
                ),
                "must not have more than 3 nameservers",
            );
        }
        for (i, n) in ns.iter().enumerate() {
            if n.parse::<IpAddr>().is_err() {
                errs.invalid(
                    format!("{base}.dnsConfig.nameservers[{i}]"),
                    &q(n),
                    "must be valid IP address",
                );
            }
        }
    }
}

fn ingress(errs: &mut Errs, ing: &Ingress) {
    let Some(spec) = ing.spec.as_ref() else {
        return;
    };
    let path_types = ["Exact", "ImplementationSpecific", "Prefix"];
    for (i, rule) in spec.rules.iter().flatten().enumerate() {
        if let Some(host) = rule.host.as_deref() {
            let h = host.strip_prefix("*.").unwrap_or(host);
            for m in is_dns1123_subdomain(h) {
                errs.invalid(format!("spec.rules[{i}].host"), &q(host), &m);
            }
        }
        let Some(http) = rule.http.as_ref() else {
            continue;
        };
        if http.paths.is_empty() {
            errs.required(format!("spec.rules[{i}].http.paths"), "");
        }
        for (j, p) in http.paths.iter().enumerate() {
            let base = format!("spec.rules[{i}].http.paths[{j}]");
            match p.path_type.as_str() {
                "" => errs.required(format!("{base}.pathType"), "pathType must be specified"),
                t if !path_types.contains(&t) => {
                    errs.unsupported(format!("{base}.pathType"), t, &path_types)
                }
                "Exact" | "Prefix" => {
                    let path = p.path.as_deref().unwrap_or("");
                    if !path.starts_with('/') {
                        errs.invalid(format!("{base}.path"), &q(path), "must be an absolute path");
                    }
                }
                _ => {}
            }
            if let Some(svc) = p.backend.service.as_ref() {
                match svc.port.as_ref() {
                    Some(port) => {
                        if let Some(n) = port.number {
                            for m in is_valid_port_num(n) {
                                errs.invalid(
                                    format!("{base}.backend.service.port.number"),
                                    &n.to_string(),
                                    &m,
                                );
                            }
                        }
                    }
                    None => errs.required(
                        format!("{base}.backend.service.port"),
                        "port name or number is required",
                    ),
                }
            }
        }
    }
}
