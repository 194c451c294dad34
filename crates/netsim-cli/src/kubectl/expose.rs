//! `kubectl expose`: a Service for a Deployment, ReplicaSet, Pod or Service, with the selector
//! and ports found by introspection when not given, and kubectl's errors when they cannot be.

use super::{Ctx, create, dry_run, format, parse};
use crate::flags::{Flag, v};
use netsim_model::k8s_openapi::api::core::v1::{Container, PodSpec};
use netsim_model::{Kind, Object};
use serde_json::{Value, json};
use std::collections::BTreeMap;

const FLAGS: &[Flag] = &[
    v("port", None),
    v("target-port", None),
    v("type", None),
    v("name", None),
    v("protocol", None),
    v("selector", None),
    v("external-ip", None),
    v("labels", Some('l')),
    v("load-balancer-ip", None),
    v("session-affinity", None),
    v("cluster-ip", None),
    super::DRY_RUN,
    v("output", Some('o')),
    v("filename", Some('f')),
];

/// What `expose` learns from the object it exposes: its labels, selector and pod template.
type Introspected = (
    Option<BTreeMap<String, String>>,
    Option<BTreeMap<String, String>>,
    Option<PodSpec>,
);

const NO_RESOURCE: &str = "error: You must provide one or more resources by argument or filename.\nExample resource specifications include:\n   '-f rsrc.yaml'\n   '--filename=rsrc.json'\n   '<resource> <name>'\n   '<resource>'";

/// `kubectl expose`.
pub fn run(ctx: &mut Ctx, args: &[String]) -> Result<(), String> {
    let a = parse("expose", args, FLAGS)?;
    let pairs = super::type_and_names(&a.positional)?;
    let Some((kind, Some(name))) = pairs.into_iter().next() else {
        return Err(NO_RESOURCE.into());
    };
    let dry = dry_run(ctx, &a)?;
    let fmt = format(&a)?;
    let ns = super::namespace(&a);
    let sim = ctx.sim()?;
    let object = match super::get_object(sim, kind, &ns, &name) {
        Ok(o) => o,
        Err(e) => {
            // The lesson's `kubectl run` made a Pod, so `expose deployment` finds nothing.
            let pod_image = (kind == Kind::Deployment)
                .then(|| {
                    sim.store()
                        .typed::<netsim_model::k8s_openapi::api::core::v1::Pod>(&ns, &name)
                })
                .flatten()
                .and_then(|p| p.spec.as_ref()?.containers.first()?.image.clone());
            ctx.out.fail(e);
            if let Some(image) = pod_image {
                ctx.out.hint(format!(
                    "`kubectl run` made a Pod named {name}, not a Deployment: `kubectl create deployment {name} --image={image}` first, or expose the pod with `kubectl expose pod {name} ...`"
                ));
            }
            return Ok(());
        }
    };
    let (labels, selector, pod_spec): Introspected = match &object {
        Object::Deployment(d) => {
            let spec = d.spec.clone().unwrap_or_default();
            (
                d.metadata.labels.clone(),
                spec.selector.match_labels.clone(),
                spec.template.spec.clone(),
            )
        }
        Object::ReplicaSet(r) => {
            let spec = r.spec.clone().unwrap_or_default();
            (
                r.metadata.labels.clone(),
                spec.selector.match_labels.clone(),
                spec.template.and_then(|t| t.spec),
            )
        }
        Object::Pod(p) => (
            p.metadata.labels.clone(),
            p.metadata.labels.clone(),
            p.spec.clone(),
        ),
        Object::Service(s) => (
            s.metadata.labels.clone(),
            s.spec.as_ref().and_then(|s| s.selector.clone()),
            None,
        ),
        _ => return Err(format!("error: cannot expose a {}", kind.info().kind)),
    };
    let selector: BTreeMap<String, String> = match a.value("selector") {
        Some(s) => s
            .split(',')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        None => match selector.filter(|s| !s.is_empty()) {
            Some(s) => s,
            None => {
                let what = match kind {
                    Kind::Pod => "the pod has no labels and cannot be exposed",
                    Kind::Service => "the service has no pod selector set",
                    _ => "the deployment has no labels or selectors and cannot be exposed",
                };
                return Err(format!(
                    "error: couldn't retrieve selectors via --selector flag or introspection: {what}"
                ));
            }
        },
    };
    let protocol = a.value("protocol").unwrap_or("TCP").to_string();
    let target = a.value("target-port").map(|t| {
        t.parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::String(t.to_string()))
    });
    let ports: Vec<Value> = match a.value("port") {
        Some(p) => {
            let port = super::atoi(p)?;
            let mut entry = json!({"port": port, "protocol": protocol});
            entry["targetPort"] = target.clone().unwrap_or(Value::from(port));
            vec![entry]
        }
        None => {
            let found = introspect_ports(&object, pod_spec.as_ref());
            if found.is_empty() {
                return Err("error: couldn't find port via --port flag or introspection".into());
            }
            let many = found.len() > 1;
            found
                .into_iter()
                .enumerate()
                .map(|(i, (port, proto))| {
                    let mut entry = json!({"port": port, "protocol": proto});
                    entry["targetPort"] = target.clone().unwrap_or(Value::from(port));
                    if many {
                        entry["name"] = Value::String(format!("port-{}", i + 1));
                    }
                    entry
                })
                .collect()
        }
    };
    let mut spec = json!({"ports": ports, "selector": selector});
    if let Some(t) = a.value("type") {
        spec["type"] = Value::String(t.to_string());
    }
    if let Some(ip) = a.value("external-ip") {
        spec["externalIPs"] = json!(ip.split(',').collect::<Vec<_>>());
    }
    if let Some(ip) = a.value("cluster-ip") {
        spec["clusterIP"] = Value::String(ip.to_string());
    }
    if let Some(aff) = a.value("session-affinity") {
        spec["sessionAffinity"] = Value::String(aff.to_string());
    }
    let mut metadata = json!({"creationTimestamp": null, "name": a.value("name").unwrap_or(&name)});
    if let Some(l) = labels.filter(|l| !l.is_empty()) {
        metadata["labels"] = json!(l);
    }
    let service = json!({"apiVersion": "v1", "kind": "Service", "metadata": metadata, "spec": spec, "status": {"loadBalancer": {}}});
    create::submit(ctx, service, &ns, dry, &fmt, "exposed")
}

fn introspect_ports(object: &Object, spec: Option<&PodSpec>) -> Vec<(i64, String)> {
    if let Object::Service(s) = object {
        return s
            .spec
            .as_ref()
            .and_then(|s| s.ports.as_ref())
            .map(|ps| {
                ps.iter()
                    .map(|p| {
                        (
                            i64::from(p.port),
                            p.protocol.clone().unwrap_or_else(|| "TCP".into()),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
    }
    let containers: &[Container] = spec.map(|s| s.containers.as_slice()).unwrap_or(&[]);
    containers
        .iter()
        .flat_map(|c| c.ports.iter().flatten())
        .map(|p| {
            (
                i64::from(p.container_port),
                p.protocol.clone().unwrap_or_else(|| "TCP".into()),
            )
        })
        .collect()
}
