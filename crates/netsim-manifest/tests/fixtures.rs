//! Runs every manifest in `tests/fixtures/` through `parse` (and, for old Ingresses,
//! `convert_ingress`) and snapshots what kubectl would print plus netsim's hint.

use netsim_manifest::{
    Item, Source, Validate, convert_ingress, defaults, last_applied, parse, validation,
};
use std::fmt::Write as _;
use std::path::Path;

fn describe(name: &str, text: &str) -> String {
    let source = Source { name, text };
    let mut out = String::new();
    for validate in [Validate::Strict, Validate::Warn, Validate::Ignore] {
        let result = parse(&source, validate);
        if validate != Validate::Strict
            && result.is_ok() == parse(&source, Validate::Strict).is_ok()
        {
            continue;
        }
        let _ = writeln!(out, "== parse --validate={validate:?}");
        match result {
            Err(e) => {
                let _ = writeln!(out, "{}", e.message());
                if let Some(h) = e.hint() {
                    let _ = writeln!(out, "hint: {h}");
                }
            }
            Ok(items) => {
                for item in items {
                    match item {
                        Item::Object(mut doc) => {
                            let key = doc.object.key();
                            let _ = writeln!(out, "object {key} (line {})", doc.line);
                            for w in &doc.warnings {
                                let _ = writeln!(out, "  {w}");
                            }
                            let ns = doc.object.kind().info().namespaced.then_some("default");
                            let _ =
                                write!(out, "  last-applied: {}", last_applied(&doc.applied, ns));
                            defaults::apply_defaults(&mut doc.object);
                            match validation::validate(&doc.object) {
                                Ok(()) => {
                                    let _ = writeln!(out, "  valid");
                                }
                                Err(e) => {
                                    let _ = writeln!(out, "  {e}");
                                }
                            }
                        }
                        Item::Cluster(c) => {
                            let _ = writeln!(out, "cluster (line {})", c.line);
                            for n in &c.config.nodes {
                                let _ = writeln!(
                                    out,
                                    "  node {} {} control-plane={}",
                                    n.name, n.ip, n.control_plane
                                );
                            }
                            let _ = writeln!(
                                out,
                                "  podCIDR {} serviceCIDR {} proxy {:?} runtime {:?} seed {}",
                                c.config.pod_cidr,
                                c.config.service_cidr,
                                c.config.proxy_mode,
                                c.config.runtime,
                                c.config.seed
                            );
                            for w in &c.warnings {
                                let _ = writeln!(out, "  {w}");
                            }
                        }
                        Item::KubeProxy(k) => {
                            let _ = writeln!(out, "kube-proxy (line {}): {:?}", k.line, k.config);
                        }
                        Item::OutsideHosts(h) => {
                            let _ = writeln!(out, "outside hosts {}: {:?}", h.name, h.hosts);
                        }
                    }
                }
            }
        }
    }
    if text.contains("v1beta1") && text.contains("Ingress") {
        let _ = writeln!(out, "== convert");
        match convert_ingress(&source) {
            Ok(values) => {
                for v in values {
                    let _ = writeln!(
                        out,
                        "{}",
                        serde_json::to_string_pretty(&v).expect("JSON values serialise")
                    );
                    let converted = serde_json::to_string(&v).expect("JSON values serialise");
                    let again = parse(
                        &Source {
                            name,
                            text: &converted,
                        },
                        Validate::Strict,
                    );
                    let _ = writeln!(
                        out,
                        "re-parsed strictly: {}",
                        match again {
                            Ok(_) => "ok".to_string(),
                            Err(e) => e.message(),
                        }
                    );
                }
            }
            Err(e) => {
                let _ = writeln!(out, "{}", e.message());
                if let Some(h) = e.hint() {
                    let _ = writeln!(out, "hint: {h}");
                }
            }
        }
    }
    out
}

#[test]
fn fixtures() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        let out = describe(&name, &text);
        insta::assert_snapshot!(name.clone(), out);
    }
}
