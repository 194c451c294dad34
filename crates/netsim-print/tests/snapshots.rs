//! Snapshot tests (insta) for the layouts the reference does not spell out: describe of pods,
//! deployments, replica sets, nodes, endpoints, namespaces and config maps, and the remaining
//! get tables. Each snapshot was reviewed by eye against kubectl's describe.go / printers.go.

mod support;

use netsim_model::{Kind, Object};
use netsim_print::table::{TableOptions, render_get};
use netsim_print::{describe, to_json};
use serde_json::json;
use support::*;

fn get(kind: Kind, objects: &[Object], opts: TableOptions) -> String {
    let s = store(objects);
    let refs: Vec<&Object> = objects.iter().collect();
    render_get(&[(kind, refs)], &s, now(), &opts)
}

fn full_pod() -> Object {
    obj(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "kubeserve2-7d8c9f6b5d-hx2kq", "namespace": "default",
            "creationTimestamp": "2024-01-01T23:55:00Z", "uid": "pod-uid-1",
            "labels": {"app": "kubeserve2", "pod-template-hash": "7d8c9f6b5d"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                "name": "kubeserve2-7d8c9f6b5d", "uid": "rs-uid-1", "controller": true}]},
        "spec": {
            "containers": [{"name": "kubeserve2", "image": "chadmcrowell/kubeserve2",
                "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                "env": [{"name": "MODE", "value": "demo"},
                        {"name": "POD_IP", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "status.podIP"}}}],
                "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080, "scheme": "HTTP"},
                    "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3},
                "volumeMounts": [{"mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
                                  "name": "kube-api-access-x7k2p", "readOnly": true}]}],
            "nodeName": "k8s-worker1", "priority": 0, "serviceAccountName": "default",
            "tolerations": [
                {"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists", "tolerationSeconds": 300},
                {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "operator": "Exists", "tolerationSeconds": 300}],
            "volumes": [{"name": "kube-api-access-x7k2p", "projected": {"defaultMode": 420, "sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {"downwardAPI": {"items": [{"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}, "path": "namespace"}]}}]}}]
        },
        "status": {"phase": "Running", "hostIP": "10.0.0.11", "podIP": "10.244.1.5",
            "podIPs": [{"ip": "10.244.1.5"}], "qosClass": "BestEffort",
            "startTime": "2024-01-01T23:55:00Z",
            "conditions": [
                {"type": "PodReadyToStartContainers", "status": "True"},
                {"type": "Initialized", "status": "True"},
                {"type": "Ready", "status": "True"},
                {"type": "ContainersReady", "status": "True"},
                {"type": "PodScheduled", "status": "True"}],
            "containerStatuses": [{"name": "kubeserve2", "ready": true, "restartCount": 0, "started": true,
                "containerID": "containerd://0123abcd",
                "image": "docker.io/chadmcrowell/kubeserve2:latest",
                "imageID": "docker.io/chadmcrowell/kubeserve2@sha256:feed",
                "state": {"running": {"startedAt": "2024-01-01T23:55:10Z"}}}]}
    }))
}

fn pod_event(name: &str, reason: &str, message: &str, component: &str) -> Object {
    obj(json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": name, "namespace": "default"},
        "involvedObject": {"kind": "Pod", "name": "kubeserve2-7d8c9f6b5d-hx2kq", "namespace": "default"},
        "type": "Normal", "reason": reason, "message": message,
        "source": {"component": component},
        "firstTimestamp": "2024-01-01T23:55:00Z", "lastTimestamp": "2024-01-01T23:55:00Z", "count": 1
    }))
}

#[test]
fn describe_pod() {
    let pod = full_pod();
    let s = store(&[
        pod.clone(),
        pod_event(
            "e1",
            "Scheduled",
            "Successfully assigned default/kubeserve2-7d8c9f6b5d-hx2kq to k8s-worker1",
            "default-scheduler",
        ),
        pod_event(
            "e2",
            "Pulling",
            "Pulling image \"chadmcrowell/kubeserve2\"",
            "kubelet",
        ),
    ]);
    insta::assert_snapshot!(describe(&pod, &s, now()));
}

#[test]
fn describe_deployment_and_replicaset() {
    let mut rs = replicaset();
    if let Object::ReplicaSet(r) = &mut rs {
        r.metadata.uid = Some("rs-uid-1".into());
        r.metadata.owner_references = serde_json::from_value(json!([{"apiVersion": "apps/v1",
            "kind": "Deployment", "name": "kubeserve2", "uid": "dep-uid-1", "controller": true}]))
        .ok();
        if let Some(spec) = r.spec.as_mut() {
            spec.template = serde_json::from_value(json!({
                "metadata": {"labels": {"app": "kubeserve2", "pod-template-hash": "7d8c9f6b5d"}},
                "spec": {"containers": [{"name": "kubeserve2", "image": "chadmcrowell/kubeserve2"}]}}))
            .ok();
        }
    }
    let mut dep = deployment();
    if let Object::Deployment(d) = &mut dep {
        d.metadata.uid = Some("dep-uid-1".into());
        d.metadata.annotations = Some(
            [(
                "deployment.kubernetes.io/revision".to_string(),
                "1".to_string(),
            )]
            .into_iter()
            .collect(),
        );
        if let Some(spec) = d.spec.as_mut() {
            spec.strategy = serde_json::from_value(json!({"type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}))
            .ok();
        }
        if let Some(status) = d.status.as_mut() {
            status.conditions = serde_json::from_value(json!([
                {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
                {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}]))
            .ok();
        }
    }
    let s = store(&[dep.clone(), rs.clone(), full_pod()]);
    insta::assert_snapshot!("describe_deployment", describe(&dep, &s, now()));
    insta::assert_snapshot!("describe_replicaset", describe(&rs, &s, now()));
}

#[test]
fn describe_node() {
    let n = node("k8s-worker1", "10.0.0.11", false);
    let s = store(&[n.clone(), full_pod()]);
    insta::assert_snapshot!(describe(&n, &s, now()));
}

#[test]
fn describe_endpoints_namespace_configmap_slice() {
    let ep = obj(json!({"apiVersion": "v1", "kind": "Endpoints",
        "metadata": {"name": "kubeserve2", "namespace": "default", "labels": {"app": "kubeserve2"}},
        "subsets": [{"addresses": [{"ip": "10.244.1.5"}, {"ip": "10.244.2.4"}],
                     "notReadyAddresses": [{"ip": "10.244.2.9"}],
                     "ports": [{"port": 8080, "protocol": "TCP"}]}]}));
    let ns = obj(json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": "default", "labels": {"kubernetes.io/metadata.name": "default"}},
        "status": {"phase": "Active"}}));
    let cm = obj(json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "coredns", "namespace": "kube-system"},
        "data": {"Corefile": ".:53 {\n    errors\n    health\n}\n"}}));
    let sl = slice("kubeserve2", 8080, &["10.244.1.5", "10.244.2.4"]);
    let s = store(&[ep.clone(), ns.clone(), cm.clone(), sl.clone()]);
    insta::assert_snapshot!("describe_endpoints", describe(&ep, &s, now()));
    insta::assert_snapshot!("describe_namespace", describe(&ns, &s, now()));
    insta::assert_snapshot!("describe_configmap", describe(&cm, &s, now()));
    insta::assert_snapshot!("describe_endpointslice", describe(&sl, &s, now()));
}

fn status_pod(name: &str, status: serde_json::Value, extra_meta: serde_json::Value) -> Object {
    let mut meta = json!({"name": name, "namespace": "default",
                          "creationTimestamp": "2024-01-01T23:59:00Z"});
    if let (Some(m), Some(extra)) = (meta.as_object_mut(), extra_meta.as_object()) {
        for (k, v) in extra {
            m.insert(k.clone(), v.clone());
        }
    }
    obj(json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta,
        "spec": {"containers": [{"name": "c", "image": "busybox"}],
                 "initContainers": if name == "init" { json!([{"name": "i", "image": "busybox"}]) } else { json!([]) }},
        "status": status}))
}

#[test]
fn pod_status_column() {
    let waiting = |reason: &str| {
        json!({"phase": "Pending", "containerStatuses": [{"name": "c", "ready": false,
            "restartCount": 0, "image": "busybox", "imageID": "",
            "state": {"waiting": {"reason": reason}}}]})
    };
    let pods = [
        status_pod("creating", waiting("ContainerCreating"), json!({})),
        status_pod(
            "crashloop",
            json!({"phase": "Running", "containerStatuses": [{"name": "c",
            "ready": false, "restartCount": 3, "image": "busybox", "imageID": "",
            "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2024-01-01T23:59:50Z"}},
            "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}),
            json!({}),
        ),
        status_pod(
            "completed",
            json!({"phase": "Succeeded", "containerStatuses": [{"name": "c",
            "ready": false, "restartCount": 0, "image": "busybox", "imageID": "",
            "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]}),
            json!({}),
        ),
        status_pod(
            "terminating",
            json!({"phase": "Running", "containerStatuses": [{"name": "c",
            "ready": true, "restartCount": 0, "image": "busybox", "imageID": "",
            "state": {"running": {}}}]}),
            json!({"deletionTimestamp": "2024-01-01T23:59:58Z"}),
        ),
        status_pod(
            "init",
            json!({"phase": "Pending",
            "initContainerStatuses": [{"name": "i", "ready": false, "restartCount": 0,
                "image": "busybox", "imageID": "", "state": {"running": {}}}],
            "containerStatuses": [{"name": "c", "ready": false, "restartCount": 0,
                "image": "busybox", "imageID": "", "state": {"waiting": {"reason": "PodInitializing"}}}]}),
            json!({}),
        ),
        status_pod("pending", json!({"phase": "Pending"}), json!({})),
        status_pod("errimage", waiting("ImagePullBackOff"), json!({})),
        status_pod(
            "exitcode",
            json!({"phase": "Failed", "containerStatuses": [{"name": "c",
            "ready": false, "restartCount": 0, "image": "busybox", "imageID": "",
            "state": {"terminated": {"exitCode": 2}}}]}),
            json!({}),
        ),
    ];
    insta::assert_snapshot!(get(Kind::Pod, &pods, TableOptions::default()));
}

#[test]
fn other_tables() {
    let sl = slice("kubeserve2", 8080, &["10.244.1.5", "10.244.2.4"]);
    let ic = obj(
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
        "metadata": {"name": "nginx", "creationTimestamp": "2024-01-01T12:00:00Z"},
        "spec": {"controller": "k8s.io/ingress-nginx"}}),
    );
    let nss = [
        obj(json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "default", "creationTimestamp": "2024-01-01T00:00:00Z"},
            "status": {"phase": "Active"}})),
        obj(json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "kube-system", "creationTimestamp": "2024-01-01T00:00:00Z"},
            "status": {"phase": "Active"}})),
    ];
    let cm = obj(json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "kube-root-ca.crt", "namespace": "default",
                     "creationTimestamp": "2024-01-01T00:00:00Z"},
        "data": {"ca.crt": "x"}}));
    let ds = obj(json!({"apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": "kube-proxy", "namespace": "kube-system",
                     "creationTimestamp": "2024-01-01T00:00:00Z"},
        "spec": {"selector": {"matchLabels": {"k8s-app": "kube-proxy"}},
                 "template": {"spec": {"nodeSelector": {"kubernetes.io/os": "linux"},
                     "containers": [{"name": "kube-proxy", "image": "registry.k8s.io/kube-proxy:v1.32.4"}]}}},
        "status": {"desiredNumberScheduled": 3, "currentNumberScheduled": 3, "numberReady": 3,
                   "updatedNumberScheduled": 3, "numberAvailable": 3, "numberMisscheduled": 0}}));
    let ev = obj(json!({"apiVersion": "v1", "kind": "Event",
        "metadata": {"name": "kubeserve2.17a", "namespace": "default"},
        "involvedObject": {"kind": "Pod", "name": "kubeserve2-7d8c9f6b5d-hx2kq", "namespace": "default"},
        "type": "Normal", "reason": "Pulled", "message": "Successfully pulled image\n",
        "source": {"component": "kubelet", "host": "k8s-worker1"},
        "firstTimestamp": "2024-01-01T23:55:00Z", "lastTimestamp": "2024-01-01T23:59:00Z", "count": 3}));
    let wide = TableOptions {
        wide: true,
        ..Default::default()
    };
    let all_ns_labels = TableOptions {
        all_namespaces: true,
        show_labels: true,
        ..Default::default()
    };
    let mut out = String::new();
    out.push_str(&get(
        Kind::EndpointSlice,
        std::slice::from_ref(&sl),
        TableOptions::default(),
    ));
    out.push('\n');
    out.push_str(&get(
        Kind::IngressClass,
        std::slice::from_ref(&ic),
        all_ns_labels,
    ));
    out.push('\n');
    out.push_str(&get(Kind::Namespace, &nss, TableOptions::default()));
    out.push('\n');
    out.push_str(&get(
        Kind::ConfigMap,
        std::slice::from_ref(&cm),
        all_ns_labels,
    ));
    out.push('\n');
    out.push_str(&get(Kind::DaemonSet, std::slice::from_ref(&ds), wide));
    out.push('\n');
    out.push_str(&get(
        Kind::Event,
        std::slice::from_ref(&ev),
        TableOptions::default(),
    ));
    out.push('\n');
    out.push_str(&get(Kind::Event, std::slice::from_ref(&ev), wide));
    out.push('\n');
    out.push_str(&get(
        Kind::Service,
        &[kube_dns_svc()],
        TableOptions {
            no_headers: true,
            ..all_ns_labels
        },
    ));
    insta::assert_snapshot!(out);
}

#[test]
fn json_output() {
    insta::assert_snapshot!(to_json(&kubeserve2_svc().to_json()));
}
