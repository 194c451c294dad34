//! `netsim dns serve`'s answerer on arbitrary packets, against the default cluster: the very
//! wire codec the server uses (included by path: the CLI is a binary crate). Besides "no
//! panic", whatever it sends back must be a DNS message a client can parse, keep the query's
//! id, and fit the client's UDP size when sent over UDP.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netsim_engine::Sim;
use netsim_model::ClusterConfig;
use std::sync::OnceLock;

#[path = "../../crates/netsim-cli/src/dns_serve/wire.rs"]
#[allow(dead_code)]
mod wire;

use hickory_proto::op::Message;

/// The default cluster (as the first `netsim` command builds it), its pods running.
fn sim() -> &'static Sim {
    static SIM: OnceLock<Sim> = OnceLock::new();
    SIM.get_or_init(|| {
        let mut sim = Sim::new(ClusterConfig::default()).expect("the default cluster builds");
        sim.advance(netsim_model::jiff::SignedDuration::from_secs(60));
        sim
    })
}

fuzz_target!(|data: &[u8]| {
    // The first byte picks the transport, so the same query is tried both ways.
    let Some((&transport, packet)) = data.split_first() else {
        return;
    };
    let udp = transport & 1 == 1;
    let Some(reply) = wire::answer_wire(sim(), packet, udp) else {
        return;
    };
    let parsed = Message::from_vec(&reply).expect("every reply parses");
    assert_eq!(
        parsed.id().to_be_bytes(),
        [packet[0], packet[1]],
        "a reply keeps the query's id"
    );
    if udp {
        // What the query allows: 512 bytes, or its EDNS size (answer_wire's own rule).
        let limit = Message::from_vec(packet)
            .ok()
            .and_then(|q| {
                q.extensions()
                    .as_ref()
                    .map(|e| usize::from(e.max_payload()))
            })
            .unwrap_or(512)
            .max(512);
        assert!(
            reply.len() <= limit,
            "{} bytes over UDP, limit {limit}",
            reply.len()
        );
    }
});
