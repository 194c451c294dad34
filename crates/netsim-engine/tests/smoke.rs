//! The default cluster comes up, settles and survives a save/load round trip.

use netsim_engine::Sim;
use netsim_model::ClusterConfig;
use netsim_model::k8s_openapi::api::core::v1::Pod;

#[test]
fn default_cluster_settles() {
    let sim = Sim::new(ClusterConfig::default()).unwrap();
    for p in sim.store().list_typed::<Pod>(None) {
        let s = p.status.clone().unwrap_or_default();
        eprintln!(
            "{:12} {:45} {:10} {:12} {}",
            p.metadata.namespace.as_deref().unwrap(),
            p.metadata.name.as_deref().unwrap(),
            s.phase.unwrap_or_default(),
            s.pod_ip.unwrap_or_default(),
            p.spec
                .as_ref()
                .unwrap()
                .node_name
                .clone()
                .unwrap_or_default()
        );
    }
    eprintln!("objects: {} now {}", sim.store().len(), sim.now());
    let json = serde_json::to_string(&sim).unwrap();
    eprintln!("state bytes {}", json.len());
    let back: Sim = serde_json::from_str(&json).unwrap();
    assert_eq!(serde_json::to_string(&back).unwrap(), json);
}
