//! Kubernetes `Event` objects: what `describe` lists under `Events:` and `get events` shows.
//!
//! This module owns recording and aggregating events (same object, reason and message → count
//! and lastTimestamp move on, as the client-go event recorder does).

use crate::sim::Sim;
use netsim_model::k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use netsim_model::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use netsim_model::{ApiObject, Object, ObjectKey};
use std::collections::BTreeMap;

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
        let index_key = (
            involved.uid.clone().unwrap_or_default(),
            reason.to_string(),
            message.to_string(),
        );
        let existing_key = self.event_index().get(&index_key).cloned();
        let existing = existing_key
            .and_then(|k| self.store.get(&k))
            .and_then(Event::from_object)
            .cloned();
        if let Some(mut e) = existing {
            e.count = Some(e.count.unwrap_or(1) + 1);
            e.last_timestamp = Some(now);
            self.put(Object::Event(Box::new(e)));
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
        let key = object.key();
        self.put(object);
        self.event_index().insert(index_key, key);
    }

    /// Events by (involved uid, reason, message), built from the store on first use.
    fn event_index(&mut self) -> &mut BTreeMap<(String, String, String), ObjectKey> {
        let store = &self.store;
        self.event_index.get_or_insert_with(|| {
            store
                .list_typed::<Event>(None)
                .map(|e| {
                    let k = (
                        e.involved_object.uid.clone().unwrap_or_default(),
                        e.reason.clone().unwrap_or_default(),
                        e.message.clone().unwrap_or_default(),
                    );
                    (k, e.key())
                })
                .collect()
        })
    }
}
