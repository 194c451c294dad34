//! `netsim generate`: writes a realistic scenario of any size to stdout — a `Cluster` document
//! with the nodes, then Namespaces, Deployments behind Services of mixed types (ClusterIP,
//! NodePort, LoadBalancer, headless) with named target ports, pods without Services when asked
//! for more pods than the Services need, and a few Ingresses — so anyone can reproduce a scale
//! figure with `netsim generate ... > big.yaml && netsim apply -f big.yaml`.

use crate::flags::{self, v};
use crate::output::Output;
use netsim_engine::rng::SimRng;
use std::fmt::Write;

/// Services per generated namespace.
const SERVICES_PER_NAMESPACE: usize = 500;
/// Replicas of the service-less Deployments that make up extra pods.
const EXTRA_REPLICAS: usize = 10;
const IMAGES: [&str; 3] = [
    "nginx:1.25",
    "httpd:2.4",
    "registry.k8s.io/e2e-test-images/agnhost:2.39",
];

/// Runs `netsim generate`.
pub fn run(args: &[String], out: &mut Output) {
    let parsed = match flags::parse(
        "generate",
        args,
        &[
            v("nodes", None),
            v("pods", None),
            v("services", None),
            v("endpoints-per-service", None),
            v("seed", None),
            v("ingresses", None),
        ],
    ) {
        Ok(p) => p,
        Err(e) => return out.fail(e),
    };
    let number = |name: &str, default: usize| -> Result<usize, String> {
        parsed.value(name).map_or(Ok(default), |v| {
            v.parse()
                .map_err(|_| format!("error: --{name} wants a whole number, not {v:?}"))
        })
    };
    let values = (|| -> Result<_, String> {
        let nodes = number("nodes", 3)?;
        let services = number("services", 10)?;
        let eps = number("endpoints-per-service", 3)?;
        let pods = number("pods", services * eps)?;
        let seed = number("seed", 0)? as u64;
        let ingresses = number(
            "ingresses",
            (services / 50).clamp(usize::from(services > 0), 10),
        )?;
        Ok((nodes, services, eps, pods, seed, ingresses))
    })();
    let (nodes, services, eps, pods, seed, ingresses) = match values {
        Ok(v) => v,
        Err(e) => return out.fail(e),
    };
    if nodes == 0 || nodes > 32_768 {
        return out.fail("error: --nodes must be between 1 and 32768");
    }
    if pods < services * eps {
        return out.fail(format!(
            "error: --pods {pods} is fewer than --services × --endpoints-per-service ({})",
            services * eps
        ));
    }
    out.out(generate(nodes, services, eps, pods, seed, ingresses));
}

fn generate(
    nodes: usize,
    services: usize,
    eps: usize,
    pods: usize,
    seed: u64,
    ingresses: usize,
) -> String {
    let mut rng = SimRng::new(seed);
    let mut y = String::new();
    let _ = writeln!(
        y,
        "# netsim generate --nodes {nodes} --pods {pods} --services {services} --endpoints-per-service {eps} --seed {seed}"
    );
    // 10.244.0.0/16 holds 256 node subnets; larger clusters take 10.128.0.0/9 (32768), which
    // overlaps neither the Service CIDR nor the node network.
    let pod_cidr = if nodes <= 256 {
        "10.244.0.0/16"
    } else {
        "10.128.0.0/9"
    };
    let _ = writeln!(
        y,
        "apiVersion: netsim.dev/v1alpha1\nkind: Cluster\nmetadata:\n  name: generated\nspec:\n  seed: {seed}\n  podCIDR: {pod_cidr}\n  nodes:"
    );
    for i in 0..nodes {
        let (name, cp) = if i == 0 {
            ("k8s-control".to_string(), true)
        } else {
            (format!("k8s-worker{i}"), false)
        };
        let _ = writeln!(
            y,
            "  - name: {name}\n    ip: 10.0.{}.{}\n    controlPlane: {cp}",
            i / 250,
            i % 250 + 2
        );
    }
    let namespaces = services.div_ceil(SERVICES_PER_NAMESPACE).max(1);
    for n in 0..namespaces {
        let _ = writeln!(
            y,
            "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-{n:02}"
        );
    }
    for i in 0..services {
        let ns = format!("team-{:02}", i / SERVICES_PER_NAMESPACE);
        let name = format!("app-{i:05}");
        let image = IMAGES[rng.below(IMAGES.len() as u64) as usize];
        deployment(&mut y, &ns, &name, eps, image);
        let (svc_type, headless) = match i {
            _ if i % 20 == 0 => ("LoadBalancer", false),
            _ if i % 5 == 0 => ("NodePort", false),
            _ if i % 25 == 7 => ("ClusterIP", true),
            _ => ("ClusterIP", false),
        };
        let cluster_ip = if headless { "\n  clusterIP: None" } else { "" };
        let _ = writeln!(
            y,
            "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  type: {svc_type}{cluster_ip}\n  selector:\n    app: {name}\n  ports:\n  - name: http\n    port: 80\n    targetPort: http"
        );
    }
    let mut extra = pods - services * eps;
    let mut k = 0;
    while extra > 0 {
        let replicas = extra.min(EXTRA_REPLICAS);
        deployment(
            &mut y,
            "team-00",
            &format!("batch-{k:05}"),
            replicas,
            IMAGES[0],
        );
        extra -= replicas;
        k += 1;
    }
    for g in 0..ingresses.min(services) {
        let _ = writeln!(
            y,
            "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: web-{g:02}\n  namespace: team-00\nspec:\n  ingressClassName: nginx\n  rules:"
        );
        for r in 0..3 {
            let target = (g * 3 + r) % services.min(SERVICES_PER_NAMESPACE);
            let _ = writeln!(
                y,
                "  - host: app{target}.example.com\n    http:\n      paths:\n      - path: /\n        pathType: Prefix\n        backend:\n          service:\n            name: app-{target:05}\n            port:\n              number: 80"
            );
        }
    }
    y
}

fn deployment(y: &mut String, ns: &str, name: &str, replicas: usize, image: &str) {
    // The port each image's server really listens on (nginx and httpd: 80; agnhost netexec: 8080).
    let port = if image.contains("agnhost") { 8080 } else { 80 };
    let _ = writeln!(
        y,
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: {ns}\n  labels:\n    app: {name}\nspec:\n  replicas: {replicas}\n  selector:\n    matchLabels:\n      app: {name}\n  template:\n    metadata:\n      labels:\n        app: {name}\n    spec:\n      containers:\n      - name: web\n        image: {image}\n        ports:\n        - name: http\n          containerPort: {port}"
    );
}
