//! The event queue of the discrete-event engine.
//!
//! Events are ordered by virtual instant, ties broken by insertion sequence so events at the same
//! instant run first-in first-out. This module owns ordering only; it must never act on events.

use netsim_model::ObjectKey;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Something that happens at a virtual instant. A closed set, as the engine's loop accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    /// The kubelet has set up the pod's sandbox (network namespace, IP): the pod gets its IP.
    SandboxReady(ObjectKey),
    /// The kubelet has the image of container `index` (pulled, or found on the node) and
    /// creates and starts it; `pulled_ms` is how long the pull took (0: already present).
    ContainerReady(ObjectKey, usize, u64),
    /// All of the pod's containers run.
    ContainersStarted(ObjectKey),
    /// A terminating pod's containers have exited; the kubelet removes it.
    PodTerminated(ObjectKey),
    /// The load-balancer provider has provisioned an address for a Service.
    LoadBalancerReady(ObjectKey),
    /// CoreDNS's `reload` plugin finds the Corefile the kubelet refreshed and reloads it.
    CorefileReload,
    /// ingress-nginx's status sync writes its address into the Ingresses it serves.
    IngressStatusSync,
    /// The DaemonSet controller writes the status of a DaemonSet whose pods changed (at most
    /// once a second: see `controllers::daemonset`).
    DaemonSetStatus(ObjectKey),
    /// The pod garbage collector's pass after a Node was deleted: pods bound to a Node that
    /// does not exist are marked failed and deleted.
    PodGc,
}

/// Pending events by (instant in milliseconds since the epoch, sequence).
#[derive(Debug, Clone, Default)]
pub struct EventQueue {
    next_seq: u64,
    pending: BTreeMap<(i64, u64), Event>,
}

#[derive(Serialize, Deserialize)]
struct EventQueueRepr {
    next_seq: u64,
    pending: Vec<(String, u64, Event)>,
}

impl Serialize for EventQueue {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        EventQueueRepr {
            next_seq: self.next_seq,
            pending: self
                .pending
                .iter()
                .map(|((t, q), e)| (t.to_string(), *q, e.clone()))
                .collect(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for EventQueue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<EventQueue, D::Error> {
        let repr = EventQueueRepr::deserialize(d)?;
        let mut pending = BTreeMap::new();
        for (t, q, e) in repr.pending {
            let t: i64 = t.parse().map_err(serde::de::Error::custom)?;
            pending.insert((t, q), e);
        }
        Ok(EventQueue {
            next_seq: repr.next_seq,
            pending,
        })
    }
}

impl EventQueue {
    /// Schedules `event` at `at_ms`.
    pub fn push(&mut self, at_ms: i64, event: Event) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.pending.insert((at_ms, seq), event);
    }

    /// Schedules `event` at `at_ms` unless the very same event is already pending then.
    pub fn push_once(&mut self, at_ms: i64, event: Event) {
        let pending = self
            .pending
            .range((at_ms, 0)..=(at_ms, u64::MAX))
            .any(|(_, e)| *e == event);
        if !pending {
            self.push(at_ms, event);
        }
    }

    /// The instant of the earliest pending event.
    pub fn next_at(&self) -> Option<i64> {
        self.pending.keys().next().map(|(t, _)| *t)
    }

    /// Removes and returns the earliest event if it is due at or before `now_ms`.
    pub fn pop_due(&mut self, now_ms: i64) -> Option<(i64, Event)> {
        let first = self.pending.first_key_value().map(|(k, _)| *k)?;
        if first.0 <= now_ms {
            self.pending.remove(&first).map(|e| (first.0, e))
        } else {
            None
        }
    }

    /// Drops every pending event about `key` (the object is gone).
    pub fn cancel(&mut self, key: &ObjectKey) {
        self.pending.retain(|_, e| match e {
            Event::SandboxReady(k)
            | Event::ContainerReady(k, _, _)
            | Event::ContainersStarted(k)
            | Event::PodTerminated(k)
            | Event::LoadBalancerReady(k)
            | Event::DaemonSetStatus(k) => k != key,
            Event::CorefileReload | Event::IngressStatusSync | Event::PodGc => true,
        });
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}
