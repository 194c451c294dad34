//! `kubectl create`: `-f` (create only), and the generators `deployment`, `service
//! clusterip|nodeport|loadbalancer|externalname`, `namespace` and `configmap`, which build the
//! same client-side objects kubectl does (what `--dry-run=client -o yaml` prints).

use super::{Ctx, Format, apply, dry_run, format, parse, write_options};
use crate::flags::{Flag, b, v};
use netsim_model::{Kind, Object};
use netsim_print::DryRun;
use serde_json::{Value, json};

const FLAGS: &[Flag] = &[
    v("filename", Some('f')),
    b("recursive", Some('R')),
    v("output", Some('o')),
    super::DRY_RUN,
    v("validate", None),
    b("save-config", None),
    v("image", None),
    v("replicas", Some('r')),
    v("port", None),
    v("tcp", None),
    v("node-port", None),
    v("clusterip", None),
    v("external-name", None),
    v("from-literal", None),
    v("field-manager", None),
];

/// `kubectl create`.
pub fn run(ctx: &mut Ctx, args: &[String]) -> Result<(), String> {
    let a = parse("create", args, FLAGS)?;
    if !a.values("filename").is_empty() {
        return apply::run_mode(ctx, args, apply::Mode::Create);
    }
    let dry = dry_run(ctx, &a)?;
    let fmt = format(&a)?;
    let ns = super::namespace(&a);
    let pos = &a.positional;
    let value = match pos.first().map(String::as_str) {
        Some("deployment" | "deploy") => {
            // pflag's int32 flags, checked as cobra checks them (before anything runs).
            let int_flag = |long: &str, shown: &str| -> Result<Option<i64>, String> {
                let Some(v) = a.value(long) else {
                    return Ok(None);
                };
                parse_int32(v).map(Some).map_err(|reason| {
                    format!(
                        "error: invalid argument \"{v}\" for \"{shown}\" flag: strconv.ParseInt: parsing \"{v}\": {reason}\nSee 'kubectl create deployment --help' for usage."
                    )
                })
            };
            let replicas = int_flag("replicas", "-r, --replicas")?.unwrap_or(1);
            let port = int_flag("port", "--port")?;
            let images = a.values("image");
            if images.is_empty() {
                return Err("error: required flag(s) \"image\" not set".into());
            }
            let name = pos
                .get(1)
                .ok_or("error: exactly one NAME is required, got 0")?;
            let containers: Vec<Value> = images
                .iter()
                .map(|img| {
                    let mut c = json!({"image": img, "name": container_name(img), "resources": {}});
                    if let Some(p) = port {
                        c["ports"] = json!([{"containerPort": p}]);
                    }
                    c
                })
                .collect();
            json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"creationTimestamp": null, "labels": {"app": name}, "name": name},
                "spec": {
                    "replicas": replicas,
                    "selector": {"matchLabels": {"app": name}},
                    "strategy": {},
                    "template": {
                        "metadata": {"creationTimestamp": null, "labels": {"app": name}},
                        "spec": {"containers": containers},
                    },
                },
                "status": {},
            })
        }
        Some("service" | "svc") => service(&a, pos)?,
        Some("namespace" | "ns") => {
            let name = pos
                .get(1)
                .ok_or("error: exactly one NAME is required, got 0")?;
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"creationTimestamp": null, "name": name}, "spec": {}, "status": {}})
        }
        Some("configmap" | "cm") => {
            let name = pos
                .get(1)
                .ok_or("error: exactly one NAME is required, got 0")?;
            let mut data = serde_json::Map::new();
            for lit in a.values("from-literal") {
                let (k, v) = lit.split_once('=').ok_or_else(|| {
                    format!("error: invalid literal source {lit}, expected key=value")
                })?;
                data.insert(k.to_string(), Value::String(v.to_string()));
            }
            let mut cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"creationTimestamp": null, "name": name}});
            if !data.is_empty() {
                cm["data"] = Value::Object(data);
            }
            cm
        }
        Some(_) => {
            // cobra finds no subcommand, and `kubectl create` itself takes no arguments.
            return Err(format!(
                "error: Unexpected args: [{}]\nSee 'kubectl create -h' for help and examples",
                pos.join(" ")
            ));
        }
        None => return Err("error: must specify one of -f and -k".into()),
    };
    submit(ctx, value, &ns, dry, &fmt, "created")
}

/// Sends a client-built object: prints it for `--dry-run=client -o ...`, else creates it.
pub fn submit(
    ctx: &mut Ctx,
    mut value: Value,
    ns: &str,
    dry: DryRun,
    fmt: &Format,
    verb: &str,
) -> Result<(), String> {
    let kind_name = value["kind"].as_str().unwrap_or("").to_string();
    let api = value["apiVersion"].as_str().unwrap_or("").to_string();
    let kind = Kind::from_type(&api, &kind_name)
        .ok_or_else(|| format!("error: unknown kind {kind_name}"))?;
    let name = value["metadata"]["name"].as_str().unwrap_or("").to_string();
    if dry == DryRun::Client {
        match fmt {
            Format::Table | Format::Wide => {
                ctx.out.outln(netsim_print::message(kind, &name, verb, dry))
            }
            Format::Yaml => ctx.out.out(netsim_print::to_yaml(&value)),
            Format::Json => ctx.out.out(netsim_print::to_json(&value)),
            other => {
                let object = Object::from_json(kind, value).map_err(|e| format!("error: {e}"))?;
                super::print_objects(ctx.out, &[&object], other, true)?;
            }
        }
        return Ok(());
    }
    if kind.info().namespaced {
        value["metadata"]["namespace"] = Value::String(ns.to_string());
    }
    let object = Object::from_json(kind, value).map_err(|e| format!("error: {e}"))?;
    let stored = ctx
        .sim()?
        .create(object, write_options(dry))
        .map_err(|e| e.to_string())?;
    match fmt {
        Format::Table | Format::Wide => {
            ctx.out
                .outln(netsim_print::message(kind, stored.name(), verb, dry))
        }
        other => super::print_objects(ctx.out, &[&stored], other, true)?,
    }
    Ok(())
}

/// Go's `strconv.ParseInt(s, 0, 32)` as pflag's int32 flags use it: a decimal (or `0x`, `0o`,
/// `0b`) number; the error is Go's reason.
fn parse_int32(s: &str) -> Result<i64, &'static str> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (radix, digits) = match digits.get(..2) {
        Some("0x" | "0X") => (16, &digits[2..]),
        Some("0o" | "0O") => (8, &digits[2..]),
        Some("0b" | "0B") => (2, &digits[2..]),
        _ => (10, digits),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix) || c == '_') {
        return Err("invalid syntax");
    }
    let magnitude =
        i64::from_str_radix(&digits.replace('_', ""), radix).map_err(|_| "value out of range")?;
    let n = if neg { -magnitude } else { magnitude };
    if i32::try_from(n).is_err() {
        return Err("value out of range");
    }
    Ok(n)
}

/// kubectl's container name for an image: the last path part without tag or digest.
pub fn container_name(image: &str) -> String {
    let last = image.rsplit('/').next().unwrap_or(image);
    let last = last.split('@').next().unwrap_or(last);
    last.split(':').next().unwrap_or(last).to_ascii_lowercase()
}

fn service(a: &crate::flags::Args, pos: &[String]) -> Result<Value, String> {
    let Some(sub) = pos.get(1) else {
        return Err("error: unknown command \"\" for \"kubectl create service\"".into());
    };
    let name = pos
        .get(2)
        .ok_or("error: exactly one NAME is required, got 0")?;
    let svc_type = match sub.as_str() {
        "clusterip" => "ClusterIP",
        "nodeport" => "NodePort",
        "loadbalancer" => "LoadBalancer",
        "externalname" => "ExternalName",
        _ => {
            return Err(format!(
                "error: unknown command \"{}\"\nSee 'kubectl create service -h' for help and examples",
                pos[1..].join(" ")
            ));
        }
    };
    let mut ports = Vec::new();
    for tcp in a
        .values("tcp")
        .iter()
        .flat_map(|t| t.split(',').map(str::to_string).collect::<Vec<_>>())
    {
        let (p, t) = tcp.split_once(':').unwrap_or((tcp.as_str(), tcp.as_str()));
        let port: i64 = p.parse::<u16>().map(i64::from).map_err(|e| {
            let reason = match e.kind() {
                std::num::IntErrorKind::PosOverflow => "value out of range",
                _ => "invalid syntax",
            };
            format!("error: strconv.ParseUint: parsing \"{p}\": {reason}")
        })?;
        let target: Value = t
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::String(t.to_string()));
        let mut entry = json!({"name": format!("{p}-{t}"), "port": port, "protocol": "TCP", "targetPort": target});
        if let Some(np) = a.value("node-port").and_then(|n| n.parse::<i64>().ok()) {
            entry["nodePort"] = Value::from(np);
        }
        ports.push(entry);
    }
    let mut spec = json!({"selector": {"app": name}, "type": svc_type});
    if !ports.is_empty() {
        spec["ports"] = Value::Array(ports);
    }
    if let Some(ip) = a.value("clusterip") {
        spec["clusterIP"] = Value::String(ip.to_string());
    }
    if svc_type == "ExternalName" {
        spec =
            json!({"externalName": a.value("external-name").unwrap_or(""), "type": "ExternalName"});
    }
    Ok(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"creationTimestamp": null, "labels": {"app": name}, "name": name},
        "spec": spec,
        "status": {"loadBalancer": {}},
    }))
}
