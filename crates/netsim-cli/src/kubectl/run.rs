//! `kubectl run`: since v1.18 it creates exactly one Pod (label `run=NAME`); the old generator
//! flags (`--replicas`, `--generator`) are gone and fail as unknown flags.

use super::{Ctx, create, dry_run, format, parse};
use crate::flags::{Flag, b, v};
use serde_json::{Value, json};

const FLAGS: &[Flag] = &[
    v("image", None),
    v("port", None),
    v("labels", Some('l')),
    v("env", None),
    v("restart", None),
    b("command", None),
    super::DRY_RUN,
    v("output", Some('o')),
    b("stdin", Some('i')),
    b("tty", Some('t')),
    b("rm", None),
    v("image-pull-policy", None),
    b("expose", None),
    v("annotations", None),
    v("serviceaccount", None),
];

/// `kubectl run`.
pub fn run(ctx: &mut Ctx, args: &[String]) -> Result<(), String> {
    let a = parse("run", args, FLAGS)?;
    let Some(name) = a.positional.first().cloned() else {
        return Err("error: NAME is required for run".into());
    };
    let Some(image) = a.value("image").map(str::to_string) else {
        return Err("error: required flag(s) \"image\" not set".into());
    };
    let dry = dry_run(ctx, &a)?;
    let fmt = format(&a)?;
    let ns = super::namespace(&a);
    let mut labels = serde_json::Map::new();
    match a.value("labels") {
        Some(l) => {
            for kv in l.split(',') {
                let (k, v) = kv
                    .split_once('=')
                    .ok_or_else(|| format!("error: invalid label spec: {kv}"))?;
                labels.insert(k.to_string(), Value::String(v.to_string()));
            }
        }
        None => {
            labels.insert("run".into(), Value::String(name.clone()));
        }
    }
    let mut container = json!({"image": image, "name": name, "resources": {}});
    if let Some(p) = a.value("port").and_then(|p| p.parse::<i64>().ok()) {
        container["ports"] = json!([{"containerPort": p}]);
    }
    if let Some(policy) = a.value("image-pull-policy") {
        container["imagePullPolicy"] = Value::String(policy.to_string());
    }
    let env: Vec<Value> = a
        .values("env")
        .iter()
        .filter_map(|e| e.split_once('='))
        .map(|(k, v)| json!({"name": k, "value": v}))
        .collect();
    if !env.is_empty() {
        container["env"] = Value::Array(env);
    }
    if let Some(rest) = &a.after_dash {
        let key = if a.flag("command") { "command" } else { "args" };
        container[key] = json!(rest);
    }
    if a.flag("stdin") {
        container["stdin"] = json!(true);
    }
    if a.flag("tty") {
        container["tty"] = json!(true);
    }
    let restart = a.value("restart").unwrap_or("Always");
    let pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"creationTimestamp": null, "labels": labels, "name": name},
        "spec": {"containers": [container], "dnsPolicy": "ClusterFirst", "restartPolicy": restart},
        "status": {},
    });
    create::submit(ctx, pod, &ns, dry, &fmt, "created")
}
