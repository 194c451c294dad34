//! Kubernetes `Event` objects: what `describe` lists under `Events:` and `get events` shows.
//!
//! This module owns recording and aggregating events (same object, reason and message → count
//! and lastTimestamp move on, as the client-go event recorder does).

use crate::sim::Sim;
use netsim_model::k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use netsim_model::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use netsim_model::{Kind, Object, ObjectKey};

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
        let existing = self
            .store
            .list_typed::<Event>(Some(&ns))
            .find(|e| {
                e.involved_object.uid == involved.uid
                    && e.reason.as_deref() == Some(reason)
                    && e.message.as_deref() == Some(message)
            })
            .cloned();
        if let Some(mut e) = existing {
            e.count = Some(e.count.unwrap_or(1) + 1);
            e.last_timestamp = Some(now);
            self.put(Object::Event(e));
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
        let mut object = Object::Event(event);
        object.metadata_mut().creation_timestamp = Some(now);
        object.metadata_mut().uid = Some(self.rng.uuid());
        self.put(object);
        let _ = Kind::Event;
    }
}
