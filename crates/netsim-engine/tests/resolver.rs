//! The libcs' search walks against the real CoreDNS model, over packets: which queries each
//! sends for the same name, and where each stops (dns.md §7).

use netsim_engine::Sim;
use netsim_engine::resolver::{Libc, ResolvConf, Resolved, Resolver};
use netsim_model::ClusterConfig;
use netsim_model::dns::QType;
use netsim_model::trace::NsId;

fn walk(libc: Libc, name: &str, qtype: QType) -> (Resolved, Vec<String>) {
    let mut sim = Sim::new(ClusterConfig::default()).expect("a cluster");
    // A CoreDNS pod is a pod on the pod network to ask from.
    let from = sim
        .store()
        .list_typed::<netsim_model::k8s_openapi::api::core::v1::Pod>(Some("kube-system"))
        .find(|p| {
            p.metadata
                .name
                .as_deref()
                .is_some_and(|n| n.starts_with("coredns"))
        })
        .map(|p| {
            format!(
                "kube-system/{}",
                p.metadata.name.clone().unwrap_or_default()
            )
        })
        .expect("a CoreDNS pod");
    let conf = ResolvConf::parse(
        "nameserver 10.96.0.10\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n",
    );
    let mut dp = sim.dataplane();
    let mut r = Resolver {
        dp: &mut dp,
        from: NsId::Pod(from),
        conf,
        hosts: String::new(),
        libc,
        log: Vec::new(),
    };
    let result = r.lookup_family(name, qtype);
    let log = r
        .log
        .iter()
        .map(|(q, t, rc)| format!("{q} {} {}", t.name(), rc.map_or("-", |c| c.name())))
        .collect();
    (result, log)
}

/// `kubernetes` AAAA: the first candidate exists without AAAA (NODATA). uClibc and musl stop
/// there; glibc goes on through the search list and the bare name.
#[test]
fn nodata_stops_uclibc_and_musl_not_glibc() {
    for libc in [Libc::UClibc, Libc::Musl] {
        let (result, log) = walk(libc, "kubernetes", QType::Aaaa);
        assert_eq!(result, Resolved::NotFound, "{libc:?}");
        assert_eq!(
            log,
            ["kubernetes.default.svc.cluster.local. AAAA NOERROR"],
            "{libc:?}"
        );
    }
    let (result, log) = walk(Libc::Glibc, "kubernetes", QType::Aaaa);
    assert_eq!(result, Resolved::NotFound);
    assert_eq!(
        log,
        [
            "kubernetes.default.svc.cluster.local. AAAA NOERROR",
            "kubernetes.svc.cluster.local. AAAA NXDOMAIN",
            "kubernetes.cluster.local. AAAA NXDOMAIN",
            "kubernetes. AAAA NXDOMAIN",
        ]
    );
}

/// `kubernetes.default` A: uClibc asks the dotted name first (forwarded upstream, NXDOMAIN);
/// glibc and musl (ndots 5) start with the search list.
#[test]
fn dotted_names_per_libc() {
    let (result, log) = walk(Libc::UClibc, "kubernetes.default", QType::A);
    assert_eq!(result, Resolved::Found(vec!["10.96.0.1".into()]));
    assert_eq!(
        log,
        [
            "kubernetes.default. A NXDOMAIN",
            "kubernetes.default.default.svc.cluster.local. A NXDOMAIN",
            "kubernetes.default.svc.cluster.local. A NOERROR",
        ]
    );
    for libc in [Libc::Glibc, Libc::Musl] {
        let (result, log) = walk(libc, "kubernetes.default", QType::A);
        assert_eq!(result, Resolved::Found(vec!["10.96.0.1".into()]));
        assert_eq!(
            log,
            [
                "kubernetes.default.default.svc.cluster.local. A NXDOMAIN",
                "kubernetes.default.svc.cluster.local. A NOERROR",
            ],
            "{libc:?}"
        );
    }
}

/// Five dots reach ndots 5: musl asks the name as-is only; glibc as-is, then the search list;
/// a trailing dot is asked as-is only by all.
#[test]
fn ndots_and_trailing_dots() {
    let (_, log) = walk(Libc::Musl, "a.b.c.d.e.f", QType::A);
    assert_eq!(log, ["a.b.c.d.e.f. A NXDOMAIN"]);
    let (_, log) = walk(Libc::Glibc, "a.b.c.d.e.f", QType::A);
    assert_eq!(log.len(), 4);
    assert_eq!(log[0], "a.b.c.d.e.f. A NXDOMAIN");
    for libc in [Libc::UClibc, Libc::Musl, Libc::Glibc] {
        let (result, log) = walk(libc, "kubernetes.default.svc.cluster.local.", QType::A);
        assert_eq!(
            result,
            Resolved::Found(vec!["10.96.0.1".into()]),
            "{libc:?}"
        );
        assert_eq!(log.len(), 1, "{libc:?}");
    }
}
