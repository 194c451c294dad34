//! kube-proxy situations: each `tests/kube-proxy/*.yaml` (Services, hand-written EndpointSlices,
//! optionally a KubeProxyConfiguration) in, the `filter` and `nat` tables kube-proxy writes for
//! node `test-hostname` out, as `iptables-save` prints them. The settings are those of
//! upstream's `NewFakeProxier`, so the rules can be compared with its fixtures.

use netsim_engine::kube_proxy::{ProxierConfig, sync_rules};
use netsim_manifest::{Item, Source, Validate, parse};
use netsim_model::Object;
use netsim_model::k8s_openapi::api::core::v1::Service;
use netsim_model::k8s_openapi::api::discovery::v1::EndpointSlice;
use netsim_model::netfilter::{Ruleset, TableName};
use std::net::Ipv4Addr;

fn rules_for(path: &std::path::Path) -> String {
    let text = std::fs::read_to_string(path).expect("fixture");
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("fixture");
    let items = parse(&Source { name, text: &text }, Validate::Strict).expect("fixture parses");
    let mut cfg = ProxierConfig::new(
        "test-hostname",
        vec![Ipv4Addr::new(192, 168, 0, 2)],
        "10.0.0.0/8".parse().ok(),
    );
    cfg.random_fully = false;
    let mut services: Vec<Service> = Vec::new();
    let mut slices: Vec<EndpointSlice> = Vec::new();
    for item in items {
        match item {
            Item::Object(doc) => match doc.object {
                Object::Service(s) => services.push(*s),
                Object::EndpointSlice(s) => slices.push(*s),
                other => panic!("unexpected {:?} in a kube-proxy fixture", other.kind()),
            },
            Item::KubeProxy(kp) => cfg.configure(&kp.raw, None),
            Item::Cluster(_) | Item::OutsideHosts(_) => {
                panic!("no Cluster or OutsideHosts documents in kube-proxy fixtures")
            }
        }
    }
    let mut rules = Ruleset::default();
    sync_rules(&cfg, services.iter(), slices.iter(), &mut rules);
    let stamp = "Tue Jan  2 00:00:00 2024";
    let mut out = netsim_print::iptables::iptables_save(&rules, Some(TableName::Filter), stamp);
    out.push_str(&netsim_print::iptables::iptables_save(
        &rules,
        Some(TableName::Nat),
        stamp,
    ));
    out
}

#[test]
fn kube_proxy_situations() {
    insta::glob!("../../../tests/kube-proxy", "*.yaml", |path| {
        insta::assert_snapshot!(rules_for(path));
    });
}

/// Over 1000 endpoints, kube-proxy drops the comments of its per-endpoint rules (and only
/// those).
#[test]
fn large_cluster_mode_drops_endpoint_comments() {
    use netsim_model::k8s_openapi::api::core::v1::{ServicePort, ServiceSpec};
    use netsim_model::k8s_openapi::api::discovery::v1::{Endpoint, EndpointPort};
    use netsim_model::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    let svc = Service {
        metadata: ObjectMeta {
            name: Some("big".into()),
            namespace: Some("ns".into()),
            ..Default::default()
        },
        spec: Some(ServiceSpec {
            cluster_ip: Some("172.30.0.1".into()),
            ports: Some(vec![ServicePort {
                name: Some("p".into()),
                port: 80,
                protocol: Some("TCP".into()),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    };
    let slice = |n: u32| EndpointSlice {
        metadata: ObjectMeta {
            name: Some(format!("big-{n}")),
            namespace: Some("ns".into()),
            labels: Some([("kubernetes.io/service-name".to_string(), "big".to_string())].into()),
            ..Default::default()
        },
        address_type: "IPv4".into(),
        endpoints: (0..100)
            .map(|i| Endpoint {
                addresses: vec![format!("10.1.{n}.{i}")],
                ..Default::default()
            })
            .collect(),
        ports: Some(vec![EndpointPort {
            name: Some("p".into()),
            port: Some(80),
            protocol: Some("TCP".into()),
            ..Default::default()
        }]),
    };
    let count = |slices: Vec<EndpointSlice>| {
        let cfg = ProxierConfig::new("n", vec![], "10.0.0.0/8".parse().ok());
        let mut rules = Ruleset::default();
        sync_rules(&cfg, [&svc].into_iter(), slices.iter(), &mut rules);
        let text = netsim_print::iptables::iptables_save(&rules, Some(TableName::Nat), "x");
        let sep_lines = text
            .lines()
            .filter(|l| l.starts_with("-A KUBE-SEP-"))
            .count();
        let commented = text
            .lines()
            .filter(|l| l.starts_with("-A KUBE-SEP-") && l.contains("--comment"))
            .count();
        let masq_comment =
            text.contains("\"ns/big:p cluster IP\" -m tcp --dport 80 -j KUBE-MARK-MASQ");
        (sep_lines, commented, masq_comment)
    };
    assert_eq!(count((0..10).map(slice).collect()), (2000, 2000, true));
    assert_eq!(count((0..11).map(slice).collect()), (2200, 0, true));
}
