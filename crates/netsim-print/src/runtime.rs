//! What `docker ps`, `docker inspect` and `crictl ps`/`pods` print for a node's containers:
//! docker's Kubernetes naming (`k8s_POD_…`, `k8s_<container>_…`), its tabwriter layout and
//! go-units human durations, crictl's 13-character ids.
//!
//! This module formats runtime records; it must never decide what runs.

use crate::tabwriter::TabWriter;
use netsim_model::runtime::{ContainerRec, Sandbox};
use serde_json::{Value, json};

/// go-units `HumanDuration` (docker's and crictl's `CREATED`/`STATUS` wording).
pub fn units_human_duration(seconds: i64) -> String {
    let s = seconds.max(0);
    let minutes = s / 60;
    let hours = minutes / 60;
    match () {
        _ if s < 1 => "Less than a second".into(),
        _ if s == 1 => "1 second".into(),
        _ if s < 60 => format!("{s} seconds"),
        _ if minutes == 1 => "About a minute".into(),
        _ if minutes < 60 => format!("{minutes} minutes"),
        _ if hours == 1 => "About an hour".into(),
        _ if hours < 48 => format!("{hours} hours"),
        _ if hours < 24 * 7 * 2 => format!("{} days", hours / 24),
        _ if hours < 24 * 30 * 2 => format!("{} weeks", hours / 24 / 7),
        _ if hours < 24 * 365 * 2 => format!("{} months", hours / 24 / 30),
        _ => format!("{} years", hours / 24 / 365),
    }
}

/// The docker container name cri-dockerd (and dockershim) gives a pod's container.
pub fn docker_name(sb: &Sandbox, c: &ContainerRec) -> String {
    let (ns, pod) = sb.pod.split_once('/').unwrap_or(("", &sb.pod));
    format!("k8s_{}_{pod}_{ns}_{}_0", c.name, sb.uid)
}

fn all_containers<'a>(sandboxes: &[&'a Sandbox]) -> Vec<(&'a Sandbox, &'a ContainerRec)> {
    let mut v: Vec<(&Sandbox, &ContainerRec)> = sandboxes
        .iter()
        .flat_map(|sb| {
            std::iter::once((*sb, &sb.pause)).chain(sb.containers.iter().map(move |c| (*sb, c)))
        })
        .collect();
    // Newest first, as `docker ps` lists.
    v.sort_by(|a, b| {
        b.1.created_ms
            .cmp(&a.1.created_ms)
            .then(b.1.id.cmp(&a.1.id))
    });
    v
}

/// The image reference docker shows: the pause image by name; app containers, which the kubelet
/// creates from the image id, by the first 12 hex digits of that id.
fn docker_image(c: &ContainerRec, image_id: &dyn Fn(&str) -> String) -> String {
    if c.name == "POD" {
        c.image.clone()
    } else {
        image_id(&c.image)[..12].to_string()
    }
}

/// `docker ps`.
pub fn docker_ps(sandboxes: &[&Sandbox], now_ms: i64, image_id: &dyn Fn(&str) -> String) -> String {
    let mut w = TabWriter::new(10, 3);
    w.write_str("CONTAINER ID\tIMAGE\tCOMMAND\tCREATED\tSTATUS\tPORTS\tNAMES\n");
    for (sb, c) in all_containers(sandboxes) {
        let age = units_human_duration((now_ms - c.created_ms) / 1000);
        let mut command = format!("\"{}\"", c.command);
        if command.chars().count() > 22 {
            command = format!("\"{}…\"", c.command.chars().take(19).collect::<String>());
        }
        w.write_str(&format!(
            "{}\t{}\t{command}\t{age} ago\tUp {age}\t\t{}\n",
            &c.id[..12],
            docker_image(c, image_id),
            docker_name(sb, c)
        ));
    }
    w.finish()
}

/// `docker inspect ID` as JSON (the fields a lesson reads; docker prints many more).
pub fn docker_inspect_value(
    sb: &Sandbox,
    c: &ContainerRec,
    node: &str,
    image_id: &dyn Fn(&str) -> String,
) -> Value {
    let created = rfc3339_nanos(c.created_ms);
    let sandbox_mode = if c.name == "POD" {
        "none".to_string()
    } else {
        format!("container:{}", sb.pause.id)
    };
    let mut parts = c.command.split_whitespace();
    let path = parts.next().unwrap_or("").to_string();
    let args: Vec<&str> = parts.collect();
    json!({
        "Id": c.id,
        "Created": created,
        "Path": path,
        "Args": args,
        "State": {
            "Status": "running",
            "Running": true,
            "Paused": false,
            "Restarting": false,
            "OOMKilled": false,
            "Dead": false,
            "Pid": c.pid,
            "ExitCode": 0,
            "Error": "",
            "StartedAt": created,
            "FinishedAt": "0001-01-01T00:00:00Z"
        },
        "Image": format!("sha256:{}", image_id(&c.image)),
        "Name": format!("/{}", docker_name(sb, c)),
        "RestartCount": 0,
        "Driver": "overlay2",
        "HostConfig": {"NetworkMode": sandbox_mode},
        "Config": {
            "Hostname": sb.pod.split_once('/').map(|(_, p)| p).unwrap_or(node),
            "Image": c.image,
            "Labels": {
                "io.kubernetes.container.name": c.name,
                "io.kubernetes.pod.name": sb.pod.split_once('/').map(|(_, p)| p).unwrap_or(""),
                "io.kubernetes.pod.namespace": sb.pod.split_once('/').map(|(n, _)| n).unwrap_or(""),
                "io.kubernetes.pod.uid": sb.uid,
            }
        },
        "NetworkSettings": {"Bridge": "", "IPAddress": "", "Gateway": "", "MacAddress": "", "Networks": {}}
    })
}

/// A Go template of field paths (`{{ .State.Pid }}`, `{{.Id}}`, `{{json .Config.Labels}}`) over
/// `value`, as `docker inspect --format` renders it.
pub fn go_template(template: &str, value: &Value) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| format!("template: :1: unclosed action in {template:?}"))?;
        let action = after[..end].trim();
        let (json_fn, path) = match action.strip_prefix("json ") {
            Some(p) => (true, p.trim()),
            None => (false, action),
        };
        let path = path
            .strip_prefix('.')
            .ok_or_else(|| format!("template: :1: function {path:?} not defined"))?;
        let mut v = value;
        if !path.is_empty() {
            for field in path.split('.') {
                v = v.get(field).ok_or_else(|| {
                    format!("template parsing error: template: :1:{}: executing \"\" at <.{path}>: map has no entry for key \"{field}\"", start + 3)
                })?;
            }
        }
        if json_fn {
            out.push_str(&serde_json::to_string(v).unwrap_or_default());
        } else {
            out.push_str(&go_print(v));
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Go's `fmt.Print` of a JSON value inside a template (`map[k:v]`, `[a b]`).
fn go_print(v: &Value) -> String {
    match v {
        Value::Null => "<no value>".into(),
        Value::String(s) => s.clone(),
        Value::Array(a) => format!("[{}]", a.iter().map(go_print).collect::<Vec<_>>().join(" ")),
        Value::Object(m) => format!(
            "map[{}]",
            m.iter()
                .map(|(k, v)| format!("{k}:{}", go_print(v)))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        other => other.to_string(),
    }
}

/// `crictl ps`.
pub fn crictl_ps(sandboxes: &[&Sandbox], now_ms: i64, image_id: &dyn Fn(&str) -> String) -> String {
    let mut w = TabWriter::new(20, 3);
    w.write_str("CONTAINER\tIMAGE\tCREATED\tSTATE\tNAME\tATTEMPT\tPOD ID\tPOD\n");
    let mut rows: Vec<(&Sandbox, &ContainerRec)> = sandboxes
        .iter()
        .flat_map(|sb| sb.containers.iter().map(move |c| (*sb, c)))
        .collect();
    rows.sort_by(|a, b| {
        b.1.created_ms
            .cmp(&a.1.created_ms)
            .then(b.1.id.cmp(&a.1.id))
    });
    for (sb, c) in rows {
        let age = units_human_duration((now_ms - c.created_ms) / 1000);
        let pod = sb.pod.split_once('/').map(|(_, p)| p).unwrap_or(&sb.pod);
        w.write_str(&format!(
            "{}\t{}\t{age} ago\tRunning\t{}\t0\t{}\t{pod}\n",
            &c.id[..13],
            &image_id(&c.image)[..13],
            c.name,
            &sb.pause.id[..13]
        ));
    }
    w.finish()
}

/// `crictl inspect ID` as JSON: the CRI `ContainerStatus` (`status`) and containerd's `info`
/// (the fields a lesson reads: `info.pid`, `info.sandboxID`, `status.state`).
pub fn crictl_inspect_value(
    sb: &Sandbox,
    c: &ContainerRec,
    image_id: &dyn Fn(&str) -> String,
) -> Value {
    let created = rfc3339_nanos(c.created_ms);
    let (ns, pod) = sb.pod.split_once('/').unwrap_or(("", &sb.pod));
    json!({
        "status": {
            "id": c.id,
            "metadata": {"attempt": 0, "name": c.name},
            "state": "CONTAINER_RUNNING",
            "createdAt": created,
            "startedAt": created,
            "finishedAt": "0001-01-01T00:00:00Z",
            "exitCode": 0,
            "image": {"annotations": {}, "image": c.image, "runtimeHandler": "", "userSpecifiedImage": ""},
            "imageRef": format!("sha256:{}", image_id(&c.image)),
            "reason": "",
            "message": "",
            "labels": {
                "io.kubernetes.container.name": c.name,
                "io.kubernetes.pod.name": pod,
                "io.kubernetes.pod.namespace": ns,
                "io.kubernetes.pod.uid": sb.uid,
            },
            "annotations": {},
            "mounts": [],
            "logPath": format!("/var/log/pods/{ns}_{pod}_{}/{}/0.log", sb.uid, c.name),
        },
        "info": {
            "sandboxID": sb.pause.id,
            "pid": c.pid,
            "removing": false,
            "snapshotKey": c.id,
            "snapshotter": "overlayfs",
            "runtimeType": "io.containerd.runc.v2",
        }
    })
}

/// `crictl pods`.
pub fn crictl_pods(sandboxes: &[&Sandbox], now_ms: i64) -> String {
    let mut w = TabWriter::new(20, 3);
    w.write_str("POD ID\tCREATED\tSTATE\tNAME\tNAMESPACE\tATTEMPT\tRUNTIME\n");
    let mut rows: Vec<&Sandbox> = sandboxes.to_vec();
    rows.sort_by(|a, b| {
        b.pause
            .created_ms
            .cmp(&a.pause.created_ms)
            .then(b.pause.id.cmp(&a.pause.id))
    });
    for sb in rows {
        let age = units_human_duration((now_ms - sb.pause.created_ms) / 1000);
        let (ns, pod) = sb.pod.split_once('/').unwrap_or(("", &sb.pod));
        w.write_str(&format!(
            "{}\t{age} ago\tReady\t{pod}\t{ns}\t0\t(default)\n",
            &sb.pause.id[..13]
        ));
    }
    w.finish()
}

fn rfc3339_nanos(ms: i64) -> String {
    let t = netsim_model::jiff::Timestamp::from_millisecond(ms)
        .unwrap_or(netsim_model::jiff::Timestamp::UNIX_EPOCH);
    // Go prints nanoseconds; the virtual clock has milliseconds.
    format!("{}000000Z", t.strftime("%Y-%m-%dT%H:%M:%S.%3f"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_units_durations() {
        assert_eq!(units_human_duration(0), "Less than a second");
        assert_eq!(units_human_duration(90), "About a minute");
        assert_eq!(units_human_duration(720), "12 minutes");
        assert_eq!(units_human_duration(3700), "About an hour");
        assert_eq!(units_human_duration(86400), "24 hours");
    }

    #[test]
    fn templates() {
        let v = json!({"State": {"Pid": 4349}, "Id": "abc", "Config": {"Labels": {"a": "b"}}});
        assert_eq!(go_template("{{ .State.Pid }}", &v).unwrap(), "4349");
        assert_eq!(go_template("id={{.Id}}", &v).unwrap(), "id=abc");
        assert_eq!(
            go_template("{{json .Config.Labels}}", &v).unwrap(),
            "{\"a\":\"b\"}"
        );
        assert!(go_template("{{ .State.Nope }}", &v).is_err());
    }
}
