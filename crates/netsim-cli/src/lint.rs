//! `netsim lint PATH...`: what would go wrong if these manifests were applied to the cluster as
//! it is, without applying them. Parse and validation errors come first (as `apply` words
//! them); then, with the cluster's objects and the files' together: Service selectors that
//! match no pod (with the near-miss label), target ports no selected container exposes,
//! Ingress backends (Services and ports) that do not exist, NodePorts outside the range or
//! already taken. One line a finding, `FILE:LINE: KIND/NAME: what`; exit 1 when there is any.

use crate::output::Output;
use netsim_engine::Sim;
use netsim_manifest::{Item, Source, Validate};
use netsim_model::Object;
use netsim_model::k8s_openapi::api::core::v1::{PodSpec, PodTemplateSpec, Service};
use netsim_model::k8s_openapi::api::networking::v1::Ingress;
use netsim_model::k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

/// A pod that exists or that a workload in the files (or the cluster) will create: its
/// namespace, labels and containers' ports.
struct PodShape {
    namespace: String,
    labels: BTreeMap<String, String>,
    spec: Option<PodSpec>,
}

/// A Service that exists or will.
struct ServiceShape {
    namespace: String,
    name: String,
    service: Service,
    at: String,
}

fn shapes_of(object: &Object, ns: &str) -> Option<PodShape> {
    let template =
        |t: &PodTemplateSpec| Some((t.metadata.as_ref()?.labels.clone(), t.spec.clone()));
    let (labels, spec) = match object {
        Object::Pod(p) => (p.metadata.labels.clone(), p.spec.clone()),
        Object::Deployment(d) => template(&d.spec.as_ref()?.template)?,
        Object::DaemonSet(d) => template(&d.spec.as_ref()?.template)?,
        Object::ReplicaSet(r) => template(r.spec.as_ref()?.template.as_ref()?)?,
        _ => return None,
    };
    Some(PodShape {
        namespace: ns.to_string(),
        labels: labels.unwrap_or_default(),
        spec,
    })
}

fn edit_distance(a: &str, b: &str) -> usize {
    crate::kubectl::edit_distance(a, b)
}

/// Runs `netsim lint` on `paths`, against `sim` (the cluster, if there is one).
pub fn run(out: &mut Output, sim: Option<&Sim>, args: &[String]) {
    let paths: Vec<String> = args
        .iter()
        .filter(|a| *a != "-f" && *a != "--filename")
        .cloned()
        .collect();
    if paths.is_empty() {
        out.fail("usage: netsim lint FILE|DIR...");
        return;
    }
    let loaded = match crate::sources::read_all(&paths, true) {
        Ok(l) => l,
        Err(e) => return out.fail(e),
    };
    let mut findings: Vec<String> = Vec::new();
    let mut hints: Vec<String> = Vec::new();
    let mut pods: Vec<PodShape> = Vec::new();
    let mut services: Vec<ServiceShape> = Vec::new();
    let mut ingresses: Vec<(Ingress, String, String)> = Vec::new();
    let mut in_files: Vec<(netsim_model::Kind, String, String)> = Vec::new();
    for l in &loaded {
        let source = Source {
            name: &l.name,
            text: &l.text,
        };
        let items = match netsim_manifest::parse(&source, Validate::Strict) {
            Ok(items) => items,
            Err(e) => {
                findings.push(e.message());
                if let Some(h) = e.hint() {
                    hints.push(h);
                }
                continue;
            }
        };
        for item in items {
            let Item::Object(doc) = item else { continue };
            let object = doc.object;
            let ns = object
                .metadata()
                .namespace
                .clone()
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| "default".into());
            let at = format!("{}:{}", l.name, doc.line);
            in_files.push((object.kind(), ns.clone(), object.name().to_string()));
            if let Some(p) = shapes_of(&object, &ns) {
                pods.push(p);
            }
            match object {
                Object::Service(s) => services.push(ServiceShape {
                    namespace: ns.clone(),
                    name: s.metadata.name.clone().unwrap_or_default(),
                    service: *s,
                    at,
                }),
                Object::Ingress(i) => ingresses.push((*i, ns, at)),
                _ => {}
            }
        }
    }
    // What the cluster already has (objects the files replace count once, as the files').
    let mut existing: Vec<ServiceShape> = Vec::new();
    if let Some(sim) = sim {
        for o in sim.store().iter() {
            let ns = o.namespace().to_string();
            let replaced = in_files
                .iter()
                .any(|(k, n, name)| *k == o.kind() && *n == ns && name == o.name());
            if replaced {
                continue;
            }
            if let Some(p) = shapes_of(o, &ns) {
                pods.push(p);
            }
            if let Object::Service(s) = o {
                existing.push(ServiceShape {
                    namespace: ns,
                    name: o.name().to_string(),
                    service: s.as_ref().clone(),
                    at: String::new(),
                });
            }
        }
    }
    for svc in &services {
        lint_service(svc, &pods, &services, &existing, &mut findings);
    }
    for (ing, ns, at) in &ingresses {
        lint_ingress(ing, ns, at, &services, &existing, &mut findings);
    }
    for f in &findings {
        out.outln(f);
    }
    for h in hints {
        out.hint(h);
    }
    if !findings.is_empty() {
        out.code = 1;
    }
}

fn lint_service(
    svc: &ServiceShape,
    pods: &[PodShape],
    services: &[ServiceShape],
    existing: &[ServiceShape],
    findings: &mut Vec<String>,
) {
    let what = format!("{}: service/{}", svc.at, svc.name);
    let Some(spec) = &svc.service.spec else {
        return;
    };
    // NodePorts: the API server's range, and no two Services on one port.
    for p in spec.ports.iter().flatten() {
        let Some(np) = p.node_port else { continue };
        if !(30000..=32767).contains(&np) {
            findings.push(format!(
                "{what}: nodePort {np} is outside the cluster's range 30000-32767: the API server rejects it"
            ));
            continue;
        }
        let taken = services
            .iter()
            .filter(|o| !(o.namespace == svc.namespace && o.name == svc.name))
            .chain(existing.iter())
            .find(|o| {
                o.service
                    .spec
                    .as_ref()
                    .and_then(|s| s.ports.as_ref())
                    .is_some_and(|ps| ps.iter().any(|q| q.node_port == Some(np)))
            });
        if let Some(o) = taken {
            findings.push(format!(
                "{what}: nodePort {np} is already allocated to service {}/{}: the API server rejects it (\"provided port is already allocated\")",
                o.namespace, o.name
            ));
        }
    }
    let Some(selector) = spec.selector.as_ref().filter(|s| !s.is_empty()) else {
        return;
    };
    let here: Vec<&PodShape> = pods
        .iter()
        .filter(|p| p.namespace == svc.namespace)
        .collect();
    let selected: Vec<&PodShape> = here
        .iter()
        .copied()
        .filter(|p| selector.iter().all(|(k, v)| p.labels.get(k) == Some(v)))
        .collect();
    if selected.is_empty() {
        let mut line = format!(
            "{what}: its selector {} matches no pod in namespace {}",
            selector
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(","),
            svc.namespace
        );
        let near = selector.iter().find_map(|(k, want)| {
            here.iter()
                .filter_map(|p| p.labels.get(k))
                .filter(|have| *have != want && edit_distance(have, want) <= 2)
                .min()
                .map(|have| format!("; did you mean {k}={have}?"))
        });
        line.push_str(&near.unwrap_or_default());
        findings.push(line);
        return;
    }
    // Target ports: a name must be some selected container's port name; a number, when the
    // containers declare their ports, one of them.
    for p in spec.ports.iter().flatten() {
        let target = p.target_port.clone().unwrap_or(IntOrString::Int(p.port));
        let declared: Vec<(Option<String>, i32)> = selected
            .iter()
            .filter_map(|s| s.spec.as_ref())
            .flat_map(|s| s.containers.iter())
            .flat_map(|c| c.ports.iter().flatten())
            .map(|cp| (cp.name.clone(), cp.container_port))
            .collect();
        match &target {
            IntOrString::String(name) => {
                if !declared
                    .iter()
                    .any(|(n, _)| n.as_deref() == Some(name.as_str()))
                {
                    findings.push(format!(
                        "{what}: targetPort \"{name}\" names no port of the selected containers: the Service gets no endpoints for it"
                    ));
                }
            }
            IntOrString::Int(n) => {
                if !declared.is_empty() && !declared.iter().any(|(_, c)| c == n) {
                    let ports: Vec<String> = declared.iter().map(|(_, c)| c.to_string()).collect();
                    findings.push(format!(
                        "{what}: targetPort {n} is not a port the selected containers declare ({}): connections will be refused unless the process listens there anyway",
                        ports.join(", ")
                    ));
                }
            }
        }
    }
}

fn lint_ingress(
    ing: &Ingress,
    ns: &str,
    at: &str,
    services: &[ServiceShape],
    existing: &[ServiceShape],
    findings: &mut Vec<String>,
) {
    let name = ing.metadata.name.clone().unwrap_or_default();
    let what = format!("{at}: ingress/{name}");
    let Some(spec) = &ing.spec else { return };
    let mut backends = Vec::new();
    if let Some(b) = &spec.default_backend {
        backends.push(b.clone());
    }
    for rule in spec.rules.iter().flatten() {
        for p in rule.http.iter().flat_map(|h| h.paths.iter()) {
            backends.push(p.backend.clone());
        }
    }
    for b in backends {
        let Some(svc) = b.service else { continue };
        let found = services
            .iter()
            .chain(existing.iter())
            .find(|s| s.namespace == ns && s.name == svc.name);
        let Some(found) = found else {
            findings.push(format!(
                "{what}: backend service \"{}\" does not exist in namespace {ns}: ingress-nginx answers 503",
                svc.name
            ));
            continue;
        };
        let ports = found
            .service
            .spec
            .as_ref()
            .and_then(|s| s.ports.clone())
            .unwrap_or_default();
        let wanted = svc.port.as_ref();
        let ok = match (
            wanted.and_then(|p| p.number),
            wanted.and_then(|p| p.name.as_ref()),
        ) {
            (Some(n), _) => ports.iter().any(|p| p.port == n),
            (None, Some(n)) => ports.iter().any(|p| p.name.as_ref() == Some(n)),
            _ => true,
        };
        if !ok {
            let port = wanted
                .and_then(|p| p.number.map(|n| n.to_string()).or(p.name.clone()))
                .unwrap_or_default();
            findings.push(format!(
                "{what}: service \"{}\" has no port {port}: ingress-nginx answers 503",
                svc.name
            ));
        }
    }
}
