//! Golden tests: every layout in shared/reference/kubectl-output.md reproduced byte for byte
//! from equivalent objects (the reference texts were checked against a real kubectl).

mod support;

use netsim_model::{Kind, Object};
use netsim_print::table::{TableOptions, WatchPrinter, render_get};
use netsim_print::{describe, list_to_yaml, to_yaml};
use serde_json::json;
use support::*;

fn get(kind: Kind, objects: &[Object], opts: TableOptions) -> String {
    let s = store(objects);
    let refs: Vec<&Object> = objects.iter().collect();
    render_get(&[(kind, refs)], &s, now(), &opts)
}

#[test]
fn get_watch_widens_only_later_lines() {
    let svcs = [kubernetes_svc(), kubeserve2_svc()];
    let s = store(&svcs);
    let mut w = WatchPrinter::new(Kind::Service, TableOptions::default());
    let refs: Vec<&Object> = svcs.iter().collect();
    let mut out = w.initial(&refs, &s, now());
    let mut with_lb = kubeserve2_svc();
    if let Object::Service(svc) = &mut with_lb {
        svc.status = serde_json::from_value(
            json!({"loadBalancer": {"ingress": [{"ip": "203.0.113.25", "ipMode": "VIP"}]}}),
        )
        .ok();
    }
    out.push_str(&w.row(&with_lb, &s, now()));
    assert_eq!(
        out,
        "NAME         TYPE           CLUSTER-IP     EXTERNAL-IP   PORT(S)        AGE\n\
         kubernetes   ClusterIP      10.96.0.1      <none>        443/TCP        24h\n\
         kubeserve2   LoadBalancer   10.96.141.39   <pending>     80:31823/TCP   2m\n\
         kubeserve2   LoadBalancer   10.96.141.39   203.0.113.25   80:31823/TCP   2m\n"
    );
}

#[test]
fn get_all_with_kind_prefixes() {
    let pods = [
        running_pod("kubeserve2-7d8c9f6b5d-hx2kq", "10.244.1.5", "k8s-worker1"),
        running_pod("kubeserve2-7d8c9f6b5d-wz8rt", "10.244.2.4", "k8s-worker2"),
    ];
    let svcs = [kubernetes_svc(), kubeserve2_svc()];
    let deps = [deployment()];
    let rss = [replicaset()];
    let all: Vec<Object> = pods
        .iter()
        .chain(&svcs)
        .chain(&deps)
        .chain(&rss)
        .cloned()
        .collect();
    let s = store(&all);
    let opts = TableOptions {
        with_kind_prefix: true,
        ..Default::default()
    };
    let groups = vec![
        (Kind::Pod, pods.iter().collect()),
        (Kind::Service, svcs.iter().collect()),
        (Kind::DaemonSet, vec![]),
        (Kind::Deployment, deps.iter().collect()),
        (Kind::ReplicaSet, rss.iter().collect()),
    ];
    assert_eq!(
        render_get(&groups, &s, now(), &opts),
        "NAME                              READY   STATUS    RESTARTS   AGE
pod/kubeserve2-7d8c9f6b5d-hx2kq   1/1     Running   0          5m
pod/kubeserve2-7d8c9f6b5d-wz8rt   1/1     Running   0          5m

NAME                 TYPE           CLUSTER-IP     EXTERNAL-IP   PORT(S)        AGE
service/kubernetes   ClusterIP      10.96.0.1      <none>        443/TCP        24h
service/kubeserve2   LoadBalancer   10.96.141.39   <pending>     80:31823/TCP   2m

NAME                         READY   UP-TO-DATE   AVAILABLE   AGE
deployment.apps/kubeserve2   2/2     2            2           5m

NAME                                    DESIRED   CURRENT   READY   AGE
replicaset.apps/kubeserve2-7d8c9f6b5d   2         2         2       5m
"
    );
    // Only one type with rows still gets the prefix.
    assert_eq!(
        render_get(
            &[(Kind::Pod, vec![]), (Kind::Service, vec![&svcs[0]])],
            &s,
            now(),
            &opts
        ),
        "NAME                 TYPE        CLUSTER-IP   EXTERNAL-IP   PORT(S)   AGE
service/kubernetes   ClusterIP   10.96.0.1    <none>        443/TCP   24h
"
    );
}

#[test]
fn get_pods_wide() {
    let pods = [
        running_pod("kubeserve2-7d8c9f6b5d-hx2kq", "10.244.1.5", "k8s-worker1"),
        running_pod("kubeserve2-7d8c9f6b5d-wz8rt", "10.244.2.4", "k8s-worker2"),
    ];
    let opts = TableOptions {
        wide: true,
        ..Default::default()
    };
    assert_eq!(
        get(Kind::Pod, &pods, opts),
        "NAME                          READY   STATUS    RESTARTS   AGE   IP           NODE          NOMINATED NODE   READINESS GATES
kubeserve2-7d8c9f6b5d-hx2kq   1/1     Running   0          5m    10.244.1.5   k8s-worker1   <none>           <none>
kubeserve2-7d8c9f6b5d-wz8rt   1/1     Running   0          5m    10.244.2.4   k8s-worker2   <none>           <none>
"
    );
}

#[test]
fn get_services_wide_and_kube_dns() {
    let svcs = [
        headless_svc(),
        kubernetes_svc(),
        kubeserve2_svc(),
        nodeport_svc(),
    ];
    let opts = TableOptions {
        wide: true,
        ..Default::default()
    };
    assert_eq!(
        get(Kind::Service, &svcs, opts),
        "NAME             TYPE           CLUSTER-IP     EXTERNAL-IP   PORT(S)        AGE   SELECTOR
kube-headless    ClusterIP      None           <none>        80/TCP         30s   app=kubeserve2
kubernetes       ClusterIP      10.96.0.1      <none>        443/TCP        24h   <none>
kubeserve2       LoadBalancer   10.96.141.39   <pending>     80:31823/TCP   2m    app=kubeserve2
nginx-nodeport   NodePort       10.96.88.12    <none>        80:30080/TCP   10s   app=nginx
"
    );
    assert_eq!(
        get(Kind::Service, &[kube_dns_svc()], TableOptions::default()),
        "NAME       TYPE        CLUSTER-IP   EXTERNAL-IP   PORT(S)                  AGE
kube-dns   ClusterIP   10.96.0.10   <none>        53/UDP,53/TCP,9153/TCP   24h
"
    );
}

#[test]
fn lb_external_ips_are_sorted_and_unabridged() {
    let mut svc = kubeserve2_svc();
    if let Object::Service(s) = &mut svc {
        s.status = serde_json::from_value(json!({"loadBalancer": {"ingress": [
            {"ip": "5.6.7.8"}, {"ip": "2.3.4.5"}, {"ip": "3.4.5.6"}, {"ip": "2.3.4.5"}]}}))
        .ok();
    }
    let out = get(Kind::Service, &[svc], TableOptions::default());
    assert!(out.contains("   2.3.4.5,3.4.5.6,5.6.7.8   "), "{out}");
}

fn endpoints(name: &str, age_ts: &str, subsets: serde_json::Value) -> Object {
    obj(json!({"apiVersion": "v1", "kind": "Endpoints",
               "metadata": {"name": name, "namespace": "default", "creationTimestamp": age_ts},
               "subsets": subsets}))
}

#[test]
fn get_endpoints_with_more() {
    let eps = [
        endpoints(
            "kube-headless",
            "2024-01-01T23:59:30Z",
            json!([{"addresses": [{"ip": "10.244.1.5"}, {"ip": "10.244.2.4"}],
                    "ports": [{"port": 8080, "protocol": "TCP"}]}]),
        ),
        endpoints(
            "kubernetes",
            "2024-01-01T00:00:00Z",
            json!([{"addresses": [{"ip": "10.0.0.10"}],
                    "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]}]),
        ),
        endpoints(
            "kubeserve2",
            "2024-01-01T23:58:00Z",
            json!([{"addresses": [{"ip": "10.244.1.5"}, {"ip": "10.244.2.4"}],
                    "ports": [{"port": 8080, "protocol": "TCP"}]}]),
        ),
        endpoints(
            "nginx",
            "2024-01-01T23:00:00Z",
            json!([{"addresses": [{"ip": "10.244.1.2"}, {"ip": "10.244.1.3"}, {"ip": "10.244.1.4"},
                                  {"ip": "10.244.2.2"}, {"ip": "10.244.2.3"}],
                    "ports": [{"name": "http", "port": 80, "protocol": "TCP"},
                              {"name": "https", "port": 443, "protocol": "TCP"}]}]),
        ),
        obj(json!({"apiVersion": "v1", "kind": "Endpoints",
                   "metadata": {"name": "noready", "namespace": "default",
                                "creationTimestamp": "2024-01-01T23:59:30Z"}})),
    ];
    assert_eq!(
        get(Kind::Endpoints, &eps, TableOptions::default()),
        "NAME            ENDPOINTS                                               AGE
kube-headless   10.244.1.5:8080,10.244.2.4:8080                         30s
kubernetes      10.0.0.10:6443                                          24h
kubeserve2      10.244.1.5:8080,10.244.2.4:8080                         2m
nginx           10.244.1.2:80,10.244.1.3:80,10.244.1.4:80 + 7 more...   60m
noready         <none>                                                  30s
"
    );
}

#[test]
fn get_deployments_ingress_nodes() {
    let coredns = obj(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "coredns", "namespace": "kube-system",
                     "creationTimestamp": "2024-01-01T00:00:00Z"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"k8s-app": "kube-dns"}},
                 "template": {"spec": {"containers": []}}},
        "status": {"readyReplicas": 2, "updatedReplicas": 2, "availableReplicas": 2}
    }));
    assert_eq!(
        get(Kind::Deployment, &[coredns], TableOptions::default()),
        "NAME      READY   UP-TO-DATE   AVAILABLE   AGE\ncoredns   2/2     2            2           24h\n"
    );

    let ing = lesson_ingress("2024-01-02T00:00:00Z");
    assert_eq!(
        get(Kind::Ingress, &[ing], TableOptions::default()),
        "NAME              CLASS   HOSTS                                   ADDRESS   PORTS   AGE
service-ingress   nginx   kubeserve.example.com,app.example.com             80      0s
"
    );
    // printers_test "test1": class foo, no hosts, LB 2.3.4.5, ten years old.
    let test1 = obj(json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "test1", "namespace": "default",
                     "creationTimestamp": "2014-01-04T00:00:00Z"},
        "spec": {"ingressClassName": "foo",
                 "defaultBackend": {"service": {"name": "default-backend", "port": {"name": "default-backend"}}}},
        "status": {"loadBalancer": {"ingress": [{"ip": "2.3.4.5", "hostname": "localhost.localdomain"}]}}
    }));
    let row = netsim_print::row(&test1, &store(&[]), now(), &TableOptions::default());
    assert_eq!(row, ["test1", "foo", "*", "2.3.4.5", "80", "10y"]);

    let nodes = [
        node("k8s-control", "10.0.0.10", true),
        node("k8s-worker1", "10.0.0.11", false),
    ];
    assert_eq!(
        get(
            Kind::Node,
            &nodes,
            TableOptions {
                wide: true,
                ..Default::default()
            }
        ),
        "NAME          STATUS   ROLES           AGE   VERSION   INTERNAL-IP   EXTERNAL-IP   OS-IMAGE             KERNEL-VERSION       CONTAINER-RUNTIME
k8s-control   Ready    control-plane   24h   v1.32.4   10.0.0.10     <none>        Ubuntu 22.04.4 LTS   5.15.0-105-generic   containerd://1.7.27
k8s-worker1   Ready    <none>          24h   v1.32.4   10.0.0.11     <none>        Ubuntu 22.04.4 LTS   5.15.0-105-generic   containerd://1.7.27
"
    );
}

fn lesson_ingress(created: &str) -> Object {
    let rule = |host: Option<&str>, svc: &str| {
        let mut r = json!({"http": {"paths": [{"path": "/", "pathType": "Prefix",
            "backend": {"service": {"name": svc, "port": {"number": 80}}}}]}});
        if let Some(h) = host {
            r["host"] = json!(h);
        }
        r
    };
    obj(json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "service-ingress", "namespace": "default", "creationTimestamp": created},
        "spec": {"ingressClassName": "nginx", "rules": [
            rule(Some("kubeserve.example.com"), "kubeserve2"),
            rule(Some("app.example.com"), "nginx"),
            rule(None, "httpd")]},
        "status": {"loadBalancer": {}}
    }))
}

#[test]
fn yaml_service_after_expose() {
    assert_eq!(
        to_yaml(&kubeserve2_svc().to_json()),
        r#"apiVersion: v1
kind: Service
metadata:
  creationTimestamp: "2024-01-01T23:58:00Z"
  labels:
    app: kubeserve2
  name: kubeserve2
  namespace: default
  resourceVersion: "4321"
  uid: 9a3c2f4e-6f1b-4d7e-8c55-0b1e2d3f4a5b
spec:
  allocateLoadBalancerNodePorts: true
  clusterIP: 10.96.141.39
  clusterIPs:
  - 10.96.141.39
  externalTrafficPolicy: Cluster
  internalTrafficPolicy: Cluster
  ipFamilies:
  - IPv4
  ipFamilyPolicy: SingleStack
  ports:
  - nodePort: 31823
    port: 80
    protocol: TCP
    targetPort: 8080
  selector:
    app: kubeserve2
  sessionAffinity: None
  type: LoadBalancer
status:
  loadBalancer: {}
"#
    );
}

#[test]
fn yaml_dry_run_manifests_and_last_applied() {
    let pod = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"creationTimestamp": null, "labels": {"run": "kubeserve2"}, "name": "kubeserve2"},
        "spec": {"containers": [{"image": "chadmcrowell/kubeserve2", "name": "kubeserve2", "resources": {}}],
                 "dnsPolicy": "ClusterFirst", "restartPolicy": "Always"},
        "status": {}});
    assert_eq!(
        to_yaml(&pod),
        "apiVersion: v1
kind: Pod
metadata:
  creationTimestamp: null
  labels:
    run: kubeserve2
  name: kubeserve2
spec:
  containers:
  - image: chadmcrowell/kubeserve2
    name: kubeserve2
    resources: {}
  dnsPolicy: ClusterFirst
  restartPolicy: Always
status: {}
"
    );
    let svc = json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"creationTimestamp": null, "labels": {"app": "nginx"}, "name": "nginx"},
        "spec": {"ports": [{"name": "80-80", "nodePort": 30080, "port": 80, "protocol": "TCP", "targetPort": 80}],
                 "selector": {"app": "nginx"}, "type": "NodePort"},
        "status": {"loadBalancer": {}}});
    assert_eq!(
        to_yaml(&svc),
        "apiVersion: v1
kind: Service
metadata:
  creationTimestamp: null
  labels:
    app: nginx
  name: nginx
spec:
  ports:
  - name: 80-80
    nodePort: 30080
    port: 80
    protocol: TCP
    targetPort: 80
  selector:
    app: nginx
  type: NodePort
status:
  loadBalancer: {}
"
    );
    let applied = "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"annotations\":{},\"name\":\"nginx-nodeport\",\"namespace\":\"default\"},\"spec\":{\"ports\":[{\"nodePort\":30080,\"port\":80,\"protocol\":\"TCP\",\"targetPort\":80}],\"selector\":{\"app\":\"nginx\"},\"type\":\"NodePort\"}}\n";
    let meta = json!({"metadata": {"annotations": {
        "kubectl.kubernetes.io/last-applied-configuration": applied}}});
    assert_eq!(
        to_yaml(&meta),
        format!(
            "metadata:\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: |\n      {}",
            applied
        )
    );
    let list = list_to_yaml(vec![json!({"apiVersion": "v1", "kind": "Service",
        "status": {"loadBalancer": {}}})]);
    assert_eq!(
        list,
        "apiVersion: v1
items:
- apiVersion: v1
  kind: Service
  status:
    loadBalancer: {}
kind: List
metadata:
  resourceVersion: \"\"
"
    );
}

#[test]
fn describe_service_lesson() {
    let objects = [
        kubeserve2_svc(),
        slice("kubeserve2", 8080, &["10.244.1.5", "10.244.2.4"]),
    ];
    let s = store(&objects);
    assert_eq!(
        describe(&objects[0], &s, now()),
        "Name:                     kubeserve2
Namespace:                default
Labels:                   app=kubeserve2
Annotations:              <none>
Selector:                 app=kubeserve2
Type:                     LoadBalancer
IP Family Policy:         SingleStack
IP Families:              IPv4
IP:                       10.96.141.39
IPs:                      10.96.141.39
Port:                     <unset>  80/TCP
TargetPort:               8080/TCP
NodePort:                 <unset>  31823/TCP
Endpoints:                10.244.1.5:8080,10.244.2.4:8080
Session Affinity:         None
External Traffic Policy:  Cluster
Internal Traffic Policy:  Cluster
Events:                   <none>
"
    );
}

fn event(name: &str, reason: &str, message: &str, first: &str, last: &str, count: i32) -> Object {
    obj(json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": name, "namespace": "default"},
        "involvedObject": {"kind": "Service", "name": "kubeserve2", "namespace": "default",
                           "apiVersion": "v1"},
        "type": "Normal", "reason": reason, "message": message,
        "source": {"component": "service-controller"},
        "firstTimestamp": first, "lastTimestamp": last, "count": count
    }))
}

#[test]
fn describe_service_with_events() {
    let t = "2024-01-01T23:57:54Z";
    let objects = [
        kubeserve2_svc(),
        slice("kubeserve2", 8080, &["10.244.1.5", "10.244.2.4"]),
        event(
            "kubeserve2.1",
            "EnsuredLoadBalancer",
            "Ensured load balancer",
            t,
            t,
            1,
        ),
        event(
            "kubeserve2.2",
            "EnsuringLoadBalancer",
            "Ensuring load balancer",
            t,
            t,
            1,
        ),
        event(
            "kubeserve2.3",
            "UpdatedLoadBalancer",
            "Updated load balancer with new hosts",
            "2024-01-01T23:50:00Z",
            t,
            2,
        ),
    ];
    let s = store(&objects);
    let out = describe(&objects[0], &s, now());
    assert!(
        out.ends_with(
            "Internal Traffic Policy:  Cluster
Events:
  Type    Reason                Age                 From                Message
  ----    ------                ----                ----                -------
  Normal  EnsuredLoadBalancer   2m6s                service-controller  Ensured load balancer
  Normal  EnsuringLoadBalancer  2m6s                service-controller  Ensuring load balancer
  Normal  UpdatedLoadBalancer   2m6s (x2 over 10m)  service-controller  Updated load balancer with new hosts
"
        ),
        "{out}"
    );
}

#[test]
fn describe_service_upstream_test1() {
    let svc = obj(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "bar", "namespace": "foo"},
        "spec": {"type": "LoadBalancer", "ipFamilies": ["IPv4"], "clusterIP": "1.2.3.4",
                 "loadBalancerIP": "5.6.7.8", "selector": {"blah": "heh"},
                 "ports": [{"name": "port-tcp", "port": 8080, "protocol": "TCP",
                            "targetPort": 9527, "nodePort": 31111}],
                 "sessionAffinity": "None", "externalTrafficPolicy": "Local",
                 "internalTrafficPolicy": "Cluster", "healthCheckNodePort": 32222},
        "status": {"loadBalancer": {"ingress": [{"ip": "5.6.7.8", "ipMode": "VIP"}]}}
    }));
    let eps = obj(json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": "bar-abcde", "namespace": "foo",
                     "labels": {"kubernetes.io/service-name": "bar"}},
        "addressType": "IPv4",
        "endpoints": [
            {"addresses": ["10.244.0.1"], "conditions": {"ready": true}},
            {"addresses": ["10.244.0.2"], "conditions": {"ready": true}},
            {"addresses": ["10.244.0.3"], "conditions": {"ready": true}}],
        "ports": [{"name": "port-tcp", "port": 9527, "protocol": "TCP"}]
    }));
    let s = store(&[svc.clone(), eps]);
    assert_eq!(
        describe(&svc, &s, now()),
        "Name:                     bar
Namespace:                foo
Labels:                   <none>
Annotations:              <none>
Selector:                 blah=heh
Type:                     LoadBalancer
IP Families:              IPv4
IP:                       1.2.3.4
IPs:                      <none>
Desired LoadBalancer IP:  5.6.7.8
LoadBalancer Ingress:     5.6.7.8 (VIP)
Port:                     port-tcp  8080/TCP
TargetPort:               9527/TCP
NodePort:                 port-tcp  31111/TCP
Endpoints:                10.244.0.1:9527,10.244.0.2:9527,10.244.0.3:9527
Session Affinity:         None
External Traffic Policy:  Local
Internal Traffic Policy:  Cluster
HealthCheck NodePort:     32222
Events:                   <none>
"
    );
}

#[test]
fn describe_ingress_lesson_with_trailing_spaces() {
    let ing = lesson_ingress("2024-01-02T00:00:00Z");
    let mut svc = kubeserve2_svc();
    if let Object::Service(s) = &mut svc {
        s.metadata.annotations = Some(
            [(
                "kubectl.kubernetes.io/last-applied-configuration".to_string(),
                "{}\n".to_string(),
            )]
            .into_iter()
            .collect(),
        );
    }
    let objects = [
        ing.clone(),
        svc,
        slice("kubeserve2", 8080, &["10.244.1.5", "10.244.2.4"]),
    ];
    let s = store(&objects);
    assert_eq!(
        describe(&ing, &s, now()),
        "Name:             service-ingress
Labels:           <none>
Namespace:        default
Address:          \nIngress Class:    nginx
Default backend:  <default>
Rules:
  Host                   Path  Backends
  ----                   ----  --------
  kubeserve.example.com  \n                         /   kubeserve2:80 (10.244.1.5:8080,10.244.2.4:8080)
  app.example.com        \n                         /   nginx:80 (<error: services \"nginx\" not found>)
  *                      \n                         /   httpd:80 (<error: services \"httpd\" not found>)
Annotations:             <none>
Events:                  <none>
"
    );
}

#[test]
fn describe_ingress_default_backend_only() {
    let ing = obj(json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "foo", "namespace": "foo"},
        "spec": {"defaultBackend": {"service": {"name": "default-backend", "port": {"number": 80}}}}
    }));
    let s = store(std::slice::from_ref(&ing));
    let out = describe(&ing, &s, now());
    assert!(
        out.ends_with(
            "Rules:
  Host        Path  Backends
  ----        ----  --------
  *           *     default-backend:80 (<error: services \"default-backend\" not found>)
Annotations:  <none>
Events:       <none>
"
        ),
        "{out}"
    );
}
