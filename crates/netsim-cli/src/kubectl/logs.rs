//! `kubectl logs`: a pod's (or a workload's first pod's) container log, with kubectl's errors —
//! and a hint when the pod lives in another namespace (the lesson's `kubectl logs coredns-...`).

use super::{Ctx, parse};
use crate::flags::{Flag, b, v};
use netsim_model::k8s_openapi::api::core::v1::Pod;
use netsim_model::{ApiObject, Kind, Object};

const FLAGS: &[Flag] = &[
    v("container", Some('c')),
    b("follow", Some('f')),
    b("previous", Some('p')),
    v("tail", None),
    b("timestamps", None),
    v("since", None),
    b("all-containers", None),
    v("selector", Some('l')),
    b("prefix", None),
];

/// `kubectl logs`.
pub fn run(ctx: &mut Ctx, args: &[String]) -> Result<(), String> {
    let a = parse("logs", args, FLAGS)?;
    let ns = super::namespace(&a);
    if a.positional.is_empty()
        && let Some(selector) = a.value("selector")
    {
        return by_selector(ctx, &ns, selector, &a);
    }
    let Some(target) = a.positional.first().cloned() else {
        return Err("error: expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'.\nPOD or TYPE/NAME is a required argument for the logs command\nSee 'kubectl logs -h' for help and examples".into());
    };
    let pod: Pod = if let Some((t, name)) = target.split_once('/') {
        let kind = super::resolve_kind(t)?;
        if kind == Kind::Pod {
            find_pod(ctx, &ns, name)?
        } else {
            let (sim, out) = ctx.parts()?;
            let owner = super::get_object(sim, kind, &ns, name)?;
            let selector = match &owner {
                Object::Deployment(d) => d.spec.as_ref().map(|s| s.selector.clone()),
                Object::ReplicaSet(r) => r.spec.as_ref().map(|s| s.selector.clone()),
                Object::DaemonSet(d) => d.spec.as_ref().map(|s| s.selector.clone()),
                _ => None,
            }
            .ok_or_else(|| {
                format!(
                    "error: cannot get the logs from {}",
                    kind.qualified_plural()
                )
            })?;
            let pods: Vec<&Pod> = sim
                .store()
                .list_typed::<Pod>(Some(&ns))
                .filter(|p| {
                    netsim_model::labels::selector_matches(&selector, p.metadata.labels.as_ref())
                })
                .collect();
            let first = pods
                .first()
                .map(|p| (*p).clone())
                .ok_or_else(|| "error: timed out waiting for the condition".to_string())?;
            if pods.len() > 1 {
                out.errln(format!(
                    "Found {} pods, using pod/{}",
                    pods.len(),
                    first.metadata.name.clone().unwrap_or_default()
                ));
            }
            first
        }
    } else {
        find_pod(ctx, &ns, &target)?
    };
    let (sim, out) = ctx.parts()?;
    let pod_name = pod.metadata.name.clone().unwrap_or_default();
    let containers: Vec<String> = pod
        .spec
        .as_ref()
        .map(|s| s.containers.iter().map(|c| c.name.clone()).collect())
        .unwrap_or_default();
    let container = match a.value("container") {
        Some(c) if containers.iter().any(|x| x == c) => c.to_string(),
        Some(c) => {
            return Err(format!(
                "error: container {c} is not valid for pod {pod_name}"
            ));
        }
        None => containers.first().cloned().unwrap_or_default(),
    };
    let waiting = pod
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.name == container))
        .and_then(|c| c.state.as_ref()?.waiting.as_ref()?.reason.clone());
    if let Some(reason) = waiting {
        return Err(format!(
            "Error from server (BadRequest): container \"{container}\" in pod \"{pod_name}\" is waiting to start: {reason}"
        ));
    }
    if containers.len() > 1 && a.value("container").is_none() {
        out.errln(format!(
            "Defaulted container \"{container}\" out of: {}",
            containers.join(", ")
        ));
    }
    let mut lines = sim.container_logs(&pod, &container);
    if let Some(n) = a.value("tail").and_then(|t| t.parse::<usize>().ok()) {
        let skip = lines.len().saturating_sub(n);
        lines.drain(..skip);
    }
    for l in lines {
        out.outln(l);
    }
    let _ = Pod::KIND;
    Ok(())
}

/// `kubectl logs -l SELECTOR`: every matching pod's first container, ten lines each unless
/// `--tail` says otherwise, `[pod/NAME/CONTAINER] ` before each line with `--prefix`.
fn by_selector(
    ctx: &mut Ctx,
    ns: &str,
    selector: &str,
    a: &crate::flags::Args,
) -> Result<(), String> {
    let sel = netsim_model::labels::Selector::parse(selector).map_err(|e| format!("error: {e}"))?;
    let (sim, out) = ctx.parts()?;
    let tail = a
        .value("tail")
        .and_then(|t| t.parse::<i64>().ok())
        .unwrap_or(10);
    let pods: Vec<Pod> = sim
        .store()
        .list_typed::<Pod>(Some(ns))
        .filter(|p| sel.matches(p.metadata.labels.as_ref()))
        .cloned()
        .collect();
    if pods.is_empty() {
        out.errln(format!("No resources found in {ns} namespace."));
        return Ok(());
    }
    for pod in pods {
        let container = pod
            .spec
            .as_ref()
            .and_then(|s| s.containers.first())
            .map(|c| c.name.clone())
            .unwrap_or_default();
        let mut lines = sim.container_logs(&pod, &container);
        if tail >= 0 {
            let skip = lines.len().saturating_sub(tail as usize);
            lines.drain(..skip);
        }
        let prefix = if a.flag("prefix") {
            format!(
                "[pod/{}/{container}] ",
                pod.metadata.name.as_deref().unwrap_or("")
            )
        } else {
            String::new()
        };
        for l in lines {
            out.outln(format!("{prefix}{l}"));
        }
    }
    Ok(())
}

fn find_pod(ctx: &mut Ctx, ns: &str, name: &str) -> Result<Pod, String> {
    let sim = ctx.sim()?;
    if let Some(p) = sim.store().typed::<Pod>(ns, name) {
        return Ok(p.clone());
    }
    let elsewhere = sim
        .store()
        .list_typed::<Pod>(None)
        .find(|p| p.metadata.name.as_deref() == Some(name))
        .and_then(|p| p.metadata.namespace.clone());
    ctx.out.fail(format!(
        "error: error from server (NotFound): pods \"{name}\" not found in namespace \"{ns}\""
    ));
    if let Some(other) = elsewhere {
        ctx.out
            .hint(format!("{name} runs in namespace {other}: add -n {other}"));
    }
    Err(String::new())
}
