//! Kubernetes `Event` objects: what `describe` lists under `Events:` and `get events` shows.
//!
//! This module owns recording and aggregating events (same object, reason and message → count
//! and lastTimestamp move on, as the client-go event recorder does), and the Events a state
//! file keeps unread ([`ArchivedEvents`]): a 150,000-pod cluster holds close to a million
//! Events, and a command that only adds to them needs none of them in memory unless a report
//! repeats one or one's hour is up. It never reads or writes files itself.

use crate::sim::Sim;
use netsim_model::k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use netsim_model::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use netsim_model::{Object, ObjectKey, Store};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

/// The digest of (involved uid, reason, message) that aggregation looks Events up by: 64-bit
/// FNV-1a over the three strings, each closed by a byte UTF-8 never holds. Fixed here rather
/// than taken from a hashing crate because state files keep it ([`EventDigests`]).
pub fn event_digest(uid: &str, reason: &str, message: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in [uid, reason, message] {
        for b in part.bytes().chain([0xff]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// When an Event was last seen, in Unix milliseconds, as the TTL counts it (the expiry and
/// the archived Events' oldest instant must agree).
pub(crate) fn last_seen_ms(e: &Event) -> Option<i64> {
    e.last_timestamp
        .as_ref()
        .or(e.metadata.creation_timestamp.as_ref())
        .map(|t| t.0.as_millisecond())
}

/// What a state file keeps beside a segment of Events so that the segment need not be read:
/// the digest of each Event and when the oldest was last seen.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EventDigests {
    /// The earliest last-seen instant of the Events (Unix milliseconds); `None` when there
    /// are none.
    pub oldest_ms: Option<i64>,
    /// [`event_digest`] of every Event.
    pub digests: Vec<u64>,
}

impl EventDigests {
    /// The digests of every Event in `store`.
    pub fn of(store: &Store) -> EventDigests {
        let mut out = EventDigests::default();
        for e in store.list_typed::<Event>(None) {
            out.digests.push(event_digest(
                e.involved_object.uid.as_deref().unwrap_or(""),
                e.reason.as_deref().unwrap_or(""),
                e.message.as_deref().unwrap_or(""),
            ));
            if let Some(ms) = last_seen_ms(e) {
                out.oldest_ms = Some(out.oldest_ms.map_or(ms, |o| o.min(ms)));
            }
        }
        out
    }
}

/// Reads archived Events into the store (each with [`Store::load_object`]); shared by the
/// copies of a cluster, each of which reads them for itself.
pub type EventReader = std::sync::Arc<dyn Fn(&mut Store) -> Result<(), String> + Send + Sync>;

/// Events saved earlier and not read into the store: what they are is known only by their
/// digests, and they are read (all at once) the first time the simulation needs one — a
/// report that may repeat one of them, the TTL reaching the oldest, or a request about
/// Events (see [`Sim::read_archived_events`]). Until then nothing in the cluster differs from
/// a cluster that read them, except what is in memory.
#[derive(Clone)]
pub struct ArchivedEvents {
    digests: FxHashSet<u64>,
    oldest_ms: Option<i64>,
    count: usize,
    read: EventReader,
}

impl ArchivedEvents {
    /// Events described by `digests`, read by `read` when needed.
    pub fn new(digests: EventDigests, read: EventReader) -> ArchivedEvents {
        ArchivedEvents {
            count: digests.digests.len(),
            digests: digests.digests.into_iter().collect(),
            oldest_ms: digests.oldest_ms,
            read,
        }
    }
}

impl std::fmt::Debug for ArchivedEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArchivedEvents")
            .field("count", &self.count)
            .field("oldest_ms", &self.oldest_ms)
            .finish_non_exhaustive()
    }
}

impl Sim {
    /// Leaves the Events `archived` describes unread until something needs them.
    pub fn archive_events(&mut self, archived: ArchivedEvents) {
        self.archived_events = Some(archived);
    }

    /// How many Events are archived (not read), if any are.
    pub fn archived_event_count(&self) -> Option<usize> {
        self.archived_events.as_ref().map(|a| a.count)
    }

    /// Why the archived Events could not be read, if they could not: the cluster is then not
    /// the one saved and must not be saved.
    pub fn archive_error(&self) -> Option<&str> {
        self.archive_error.as_deref()
    }

    /// Reads the archived Events into the store, if some are archived.
    pub fn read_archived_events(&mut self) {
        let Some(archived) = self.archived_events.take() else {
            return;
        };
        if let Err(e) = (archived.read)(&mut self.store) {
            self.archive_error = Some(e);
        }
        self.event_index = None;
    }

    /// Reads the archived Events if the TTL at `cutoff` reaches the oldest of them.
    pub(crate) fn read_archived_events_older_than(&mut self, cutoff: i64) {
        let due = self
            .archived_events
            .as_ref()
            .is_some_and(|a| a.oldest_ms.is_some_and(|o| o < cutoff));
        if due {
            self.read_archived_events();
        }
    }
}

impl Sim {
    /// Records a `Normal` or `Warning` event about `about`, from `component` (on `host`).
    pub(crate) fn record_event(
        &mut self,
        about: &ObjectKey,
        kind_type: &str,
        reason: &str,
        message: &str,
        component: &str,
        host: Option<&str>,
    ) {
        let Some(object) = self.store.get(about) else {
            return;
        };
        let involved = ObjectReference {
            api_version: Some(about.kind.api_version()),
            kind: Some(about.kind.info().kind.to_string()),
            name: Some(about.name.clone()),
            namespace: Some(if about.namespace.is_empty() {
                "default".into()
            } else {
                about.namespace.clone()
            }),
            uid: object.metadata().uid.clone(),
            resource_version: object.metadata().resource_version.clone(),
            field_path: None,
        };
        let ns = involved.namespace.clone().unwrap_or_default();
        let now = self.now_time();
        let uid = involved.uid.clone().unwrap_or_default();
        let digest = event_digest(&uid, reason, message);
        // A report that may repeat an archived Event needs them read first.
        if self
            .archived_events
            .as_ref()
            .is_some_and(|a| a.digests.contains(&digest))
        {
            self.read_archived_events();
        }
        let existing = {
            let store = &self.store;
            let index = self
                .event_index
                .get_or_insert_with(|| EventIndex::build(store));
            index
                .find(store, digest, &ns, (&uid, reason, message))
                .cloned()
        };
        if let Some(mut e) = existing {
            e.count = Some(e.count.unwrap_or(1) + 1);
            e.last_timestamp = Some(now);
            self.put_recorded_event(Object::Event(Box::new(e)));
            return;
        }
        // Real event names are `<object>.<unix nanos in hex>`; the store revision stands in for
        // the nanoseconds so that names sort in the order the events happened.
        let nanos = (self.now_ms as u64) * 1_000_000 + self.store.revision() % 1_000_000;
        let name = format!("{}.{nanos:x}", about.name);
        let event = Event {
            metadata: ObjectMeta {
                name: Some(name),
                namespace: Some(ns),
                ..Default::default()
            },
            involved_object: involved,
            reason: Some(reason.to_string()),
            message: Some(message.to_string()),
            source: Some(EventSource {
                component: Some(component.to_string()),
                host: host.map(str::to_string),
            }),
            first_timestamp: Some(now.clone()),
            last_timestamp: Some(now.clone()),
            count: Some(1),
            type_: Some(kind_type.to_string()),
            reporting_component: Some(component.to_string()),
            reporting_instance: Some(host.unwrap_or("").to_string()),
            ..Default::default()
        };
        let mut object = Object::Event(Box::new(event));
        object.metadata_mut().creation_timestamp = Some(now);
        object.metadata_mut().uid = Some(self.rng.uuid());
        let name: Box<str> = object.name().into();
        self.put_recorded_event(object);
        // The index was built above, and a write does not drop it.
        if let Some(index) = self.event_index.as_mut() {
            index.insert(digest, name);
        }
    }
}

/// Events by a digest of (involved uid, reason, message): which Event a repeat of the same
/// report aggregates into.
///
/// A 150,000-pod cluster holds close to a million Events; keyed by the three strings and
/// holding full keys, this index cost a third as much memory as the Events themselves. It
/// keeps a 64-bit digest and the Event's name (in the involved object's namespace, where the
/// recorder puts it), and every name found is checked against the stored Event, so a digest
/// collision costs one more look and never a wrong count.
#[derive(Debug, Clone, Default)]
pub(crate) struct EventIndex {
    by_digest: FxHashMap<u64, Names>,
}

/// The Event names under one digest: almost always one.
#[derive(Debug, Clone)]
enum Names {
    One(Box<str>),
    Many(Vec<Box<str>>),
}

impl EventIndex {
    /// The index of every stored Event.
    fn build(store: &Store) -> EventIndex {
        let mut index = EventIndex::default();
        for e in store.list_typed::<Event>(None) {
            let digest = event_digest(
                e.involved_object.uid.as_deref().unwrap_or(""),
                e.reason.as_deref().unwrap_or(""),
                e.message.as_deref().unwrap_or(""),
            );
            index.insert(digest, e.metadata.name.as_deref().unwrap_or("").into());
        }
        index
    }

    fn insert(&mut self, digest: u64, name: Box<str>) {
        match self.by_digest.entry(digest) {
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(Names::One(name));
            }
            std::collections::hash_map::Entry::Occupied(mut slot) => {
                let names = slot.get_mut();
                match names {
                    Names::One(first) if **first == *name => {}
                    Names::One(first) => {
                        let first = std::mem::take(first);
                        *names = Names::Many(vec![first, name]);
                    }
                    Names::Many(all) => {
                        if !all.contains(&name) {
                            all.push(name);
                        }
                    }
                }
            }
        }
    }

    /// The stored Event in `namespace` that (uid, reason, message) aggregates into.
    fn find<'s>(
        &self,
        store: &'s Store,
        digest: u64,
        namespace: &str,
        (uid, reason, message): (&str, &str, &str),
    ) -> Option<&'s Event> {
        let names: &[Box<str>] = match self.by_digest.get(&digest)? {
            Names::One(name) => std::slice::from_ref(name),
            Names::Many(all) => all,
        };
        names
            .iter()
            .filter_map(|name| store.typed::<Event>(namespace, name))
            .find(|e| {
                e.involved_object.uid.as_deref().unwrap_or("") == uid
                    && e.reason.as_deref().unwrap_or("") == reason
                    && e.message.as_deref().unwrap_or("") == message
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netsim_model::{ClusterConfig, Kind};

    /// A Node of the default cluster (every cluster has one), to report about.
    fn node_key(sim: &Sim) -> ObjectKey {
        let name = sim
            .store()
            .list(Kind::Node, None)
            .next()
            .map(|n| n.name().to_string());
        ObjectKey::new(Kind::Node, "", &name.unwrap_or_default())
    }

    fn events_about<'s>(sim: &'s Sim, reason: &str) -> Vec<&'s Event> {
        sim.store()
            .list_typed::<Event>(None)
            .filter(|e| e.reason.as_deref() == Some(reason))
            .collect()
    }

    #[test]
    fn a_repeated_report_counts_up_and_a_different_one_is_new() {
        let mut sim = Sim::new(ClusterConfig::default()).expect("the default cluster");
        let node = node_key(&sim);
        for _ in 0..3 {
            sim.record_event(&node, "Normal", "Tested", "once more", "test", None);
        }
        sim.record_event(&node, "Normal", "Tested", "something else", "test", None);
        let mut counts: Vec<(String, i32)> = events_about(&sim, "Tested")
            .iter()
            .map(|e| (e.message.clone().unwrap_or_default(), e.count.unwrap_or(0)))
            .collect();
        counts.sort();
        assert_eq!(
            counts,
            [
                ("once more".to_string(), 3),
                ("something else".to_string(), 1)
            ]
        );
    }

    #[test]
    fn a_name_under_the_wrong_digest_is_checked_and_passed_over() {
        let mut sim = Sim::new(ClusterConfig::default()).expect("the default cluster");
        let node = node_key(&sim);
        sim.record_event(&node, "Normal", "Tested", "first", "test", None);
        let first = events_about(&sim, "Tested")[0].clone();
        let uid = first.involved_object.uid.clone().unwrap_or_default();
        // As if "second" hashed to the digest "first" is filed under.
        let collided = event_digest(&uid, "Tested", "second");
        let name: Box<str> = first.metadata.name.as_deref().unwrap_or("").into();
        sim.event_index
            .get_or_insert_with(EventIndex::default)
            .insert(collided, name);
        sim.record_event(&node, "Normal", "Tested", "second", "test", None);
        let events = events_about(&sim, "Tested");
        assert_eq!(
            events.len(),
            2,
            "the second report must not count up the first"
        );
        assert!(events.iter().all(|e| e.count == Some(1)));
    }
}
