//! The event queue of the discrete-event engine.
//!
//! Events are ordered by virtual instant, ties broken by insertion sequence so events at the same
//! instant run first-in first-out. This module owns ordering only; it must never act on events.

use netsim_model::ObjectKey;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

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
    /// Where the events about each object are in `pending` (not stored: rebuilt on load), so
    /// that removing an object does not look through every pending event.
    by_key: BTreeMap<ObjectKey, BTreeSet<(i64, u64)>>,
}

impl Event {
    /// The object the event is about, if it is about one.
    fn key(&self) -> Option<&ObjectKey> {
        match self {
            Event::SandboxReady(k)
            | Event::ContainerReady(k, _, _)
            | Event::ContainersStarted(k)
            | Event::PodTerminated(k)
            | Event::LoadBalancerReady(k)
            | Event::DaemonSetStatus(k) => Some(k),
            Event::CorefileReload | Event::IngressStatusSync | Event::PodGc => None,
        }
    }
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
        let mut queue = EventQueue {
            next_seq: repr.next_seq,
            ..EventQueue::default()
        };
        for (t, q, e) in repr.pending {
            let t: i64 = t.parse().map_err(serde::de::Error::custom)?;
            queue.insert((t, q), e);
        }
        Ok(queue)
    }
}

impl EventQueue {
    /// Schedules `event` at `at_ms`.
    pub fn push(&mut self, at_ms: i64, event: Event) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.insert((at_ms, seq), event);
    }

    fn insert(&mut self, at: (i64, u64), event: Event) {
        if let Some(key) = event.key() {
            self.by_key.entry(key.clone()).or_default().insert(at);
        }
        self.pending.insert(at, event);
    }

    /// Removes the event at `at` from the index of its object.
    fn unindex(&mut self, at: (i64, u64), event: &Event) {
        if let Some(key) = event.key()
            && let Some(set) = self.by_key.get_mut(key)
        {
            set.remove(&at);
            if set.is_empty() {
                self.by_key.remove(key);
            }
        }
    }

    /// Schedules `event` at `at_ms` unless the very same event is already pending then.
    pub fn push_once(&mut self, at_ms: i64, event: Event) {
        let same = |(at, e): (&(i64, u64), &Event)| at.0 == at_ms && *e == event;
        let pending = match event.key() {
            // Among the object's few pending events, not every event of that instant: a
            // whole second of a 5,000-node cluster holds thousands.
            Some(key) => self.by_key.get(key).is_some_and(|ats| {
                ats.range((at_ms, 0)..=(at_ms, u64::MAX))
                    .filter_map(|at| self.pending.get_key_value(at))
                    .any(same)
            }),
            None => self.pending.range((at_ms, 0)..=(at_ms, u64::MAX)).any(same),
        };
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
        if first.0 > now_ms {
            return None;
        }
        let event = self.pending.remove(&first)?;
        self.unindex(first, &event);
        Some((first.0, event))
    }

    /// Drops every pending event about `key` (the object is gone).
    pub fn cancel(&mut self, key: &ObjectKey) {
        for at in self.by_key.remove(key).into_iter().flatten() {
            self.pending.remove(&at);
        }
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netsim_model::Kind;

    #[test]
    fn push_once_skips_only_the_same_event_at_the_same_instant() {
        let a = ObjectKey::new(Kind::DaemonSet, "kube-system", "a");
        let b = ObjectKey::new(Kind::DaemonSet, "kube-system", "b");
        let mut q = EventQueue::default();
        q.push_once(1000, Event::DaemonSetStatus(a.clone()));
        q.push_once(1000, Event::DaemonSetStatus(a.clone()));
        q.push_once(1000, Event::DaemonSetStatus(b.clone()));
        q.push_once(2000, Event::DaemonSetStatus(a.clone()));
        q.push_once(1000, Event::SandboxReady(a.clone()));
        q.push_once(1000, Event::PodGc);
        q.push_once(1000, Event::PodGc);
        let mut got = Vec::new();
        while let Some(e) = q.pop_due(i64::MAX) {
            got.push(e);
        }
        assert_eq!(
            got,
            vec![
                (1000, Event::DaemonSetStatus(a.clone())),
                (1000, Event::DaemonSetStatus(b)),
                (1000, Event::SandboxReady(a.clone())),
                (1000, Event::PodGc),
                (2000, Event::DaemonSetStatus(a)),
            ]
        );
    }

    #[test]
    fn cancel_drops_only_that_objects_events_also_after_a_round_trip() {
        let a = ObjectKey::new(Kind::Pod, "default", "a");
        let b = ObjectKey::new(Kind::Pod, "default", "b");
        let mut q = EventQueue::default();
        q.push(30, Event::SandboxReady(a.clone()));
        q.push(10, Event::SandboxReady(b.clone()));
        q.push(20, Event::CorefileReload);
        q.push(40, Event::ContainersStarted(a.clone()));
        q.push(50, Event::PodTerminated(b.clone()));
        let json = serde_json::to_string(&q).expect("serialises");
        let mut loaded: EventQueue = serde_json::from_str(&json).expect("deserialises");
        for queue in [&mut q, &mut loaded] {
            queue.cancel(&a);
            let mut left = Vec::new();
            while let Some(e) = queue.pop_due(i64::MAX) {
                left.push(e);
            }
            assert_eq!(
                left,
                vec![
                    (10, Event::SandboxReady(b.clone())),
                    (20, Event::CorefileReload),
                    (50, Event::PodTerminated(b.clone())),
                ]
            );
            // Popped events leave the index: cancelling b now finds nothing to drop.
            queue.cancel(&b);
            assert!(queue.is_empty() && queue.by_key.is_empty());
        }
    }
}
