//! Ingress routing situations: each `tests/ingress/*.yaml` (objects and `# request: HOST PATH
//! -> EXPECTED` lines) in; every request must go where the line says: `NS/SERVICE:PORT`, `404`
//! (ingress-nginx's default server) or `503` (no ready endpoint for the backend).

use netsim_engine::ingress::Upstream;
use netsim_engine::{Sim, WriteOptions};
use netsim_manifest::{Item, Source, Validate, parse};
use netsim_model::ClusterConfig;
use netsim_model::jiff::SignedDuration;

fn outcome(sim: &Sim, host: &str, path: &str) -> String {
    let route = sim.ingress_route(host, path);
    match &route.upstream {
        Upstream::DefaultServer => "404".into(),
        Upstream::Unsupported => "503".into(),
        up @ Upstream::Service {
            namespace,
            name,
            port_number,
            port_name,
        } => {
            if sim.ingress_endpoints(up).is_empty() {
                "503".into()
            } else {
                let port = port_name.clone().unwrap_or_else(|| port_number.to_string());
                format!("{namespace}/{name}:{port}")
            }
        }
    }
}

#[test]
fn ingress_situations() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/ingress");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/ingress")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 4, "the fixtures are there");
    let mut failures = Vec::new();
    let mut checked = 0;
    for path in files {
        let text = std::fs::read_to_string(&path).expect("fixture");
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("fixture");
        let mut sim = Sim::new(ClusterConfig::default()).expect("a cluster");
        for item in parse(&Source { name, text: &text }, Validate::Strict).expect("it parses") {
            let Item::Object(doc) = item else { continue };
            sim.create(doc.object, WriteOptions::default())
                .expect("create");
            // Creation order is age order: one virtual second apart.
            sim.advance(SignedDuration::from_secs(1));
        }
        sim.advance(SignedDuration::from_secs(60));
        for line in text.lines() {
            let Some(req) = line.strip_prefix("# request: ") else {
                continue;
            };
            let (what, expected) = req.split_once(" -> ").expect("HOST PATH -> EXPECTED");
            let (host, path) = what.split_once(' ').expect("HOST PATH");
            let got = outcome(&sim, host, path);
            checked += 1;
            if got != expected.trim() {
                failures.push(format!(
                    "{name}: {host} {path}: expected {expected}, got {got} ({})",
                    sim.ingress_route(host, path).describe()
                ));
            }
        }
    }
    assert!(checked >= 40, "only {checked} requests checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
