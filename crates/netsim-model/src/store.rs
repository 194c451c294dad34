//! The object store: what the API server's etcd holds.
//!
//! This module owns keeping objects by [`ObjectKey`] in a deterministic order and handing out
//! resource versions. It must never run controllers or apply defaults.

use crate::kind::Kind;
use crate::object::{ApiObject, Object, ObjectKey};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Every stored object, ordered by kind, namespace and name.
#[derive(Debug, Clone, Default)]
pub struct Store {
    objects: BTreeMap<ObjectKey, Object>,
    /// The last resource version handed out (etcd's revision).
    revision: u64,
}

/// The stored form: objects as a list (JSON map keys must be strings).
#[derive(Serialize, Deserialize)]
struct StoreRepr {
    revision: u64,
    objects: Vec<Object>,
}

impl Serialize for Store {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = serializer.serialize_struct("StoreRepr", 2)?;
        st.serialize_field("revision", &self.revision)?;
        st.serialize_field("objects", &self.objects.values().collect::<Vec<_>>())?;
        st.end()
    }
}

impl<'de> Deserialize<'de> for Store {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Store, D::Error> {
        let repr = StoreRepr::deserialize(deserializer)?;
        let objects = repr.objects.into_iter().map(|o| (o.key(), o)).collect();
        Ok(Store {
            objects,
            revision: repr.revision,
        })
    }
}

impl Store {
    /// An empty store.
    pub fn new() -> Store {
        Store::default()
    }

    /// The object at `key`.
    pub fn get(&self, key: &ObjectKey) -> Option<&Object> {
        self.objects.get(key)
    }

    /// The object of `kind` at `namespace/name`.
    pub fn get_named(&self, kind: Kind, namespace: &str, name: &str) -> Option<&Object> {
        self.objects.get(&ObjectKey::new(kind, namespace, name))
    }

    /// The typed object of type `T` at `namespace/name`.
    pub fn typed<T: ApiObject>(&self, namespace: &str, name: &str) -> Option<&T> {
        self.get_named(T::KIND, namespace, name)
            .and_then(T::from_object)
    }

    /// Whether `key` exists.
    pub fn contains(&self, key: &ObjectKey) -> bool {
        self.objects.contains_key(key)
    }

    /// Stores `object` under its key, stamping a new `resourceVersion`; returns the old one.
    pub fn put(&mut self, mut object: Object) -> Option<Object> {
        self.revision += 1;
        object.metadata_mut().resource_version = Some(self.revision.to_string());
        self.objects.insert(object.key(), object)
    }

    /// Stores `object` exactly as given (resource version included), as a snapshot restore does.
    pub fn put_verbatim(&mut self, object: Object) {
        if let Some(rv) = object
            .metadata()
            .resource_version
            .as_deref()
            .and_then(|v| v.parse().ok())
        {
            self.revision = self.revision.max(rv);
        }
        self.objects.insert(object.key(), object);
    }

    /// Removes and returns the object at `key`.
    pub fn remove(&mut self, key: &ObjectKey) -> Option<Object> {
        let removed = self.objects.remove(key);
        if removed.is_some() {
            self.revision += 1;
        }
        removed
    }

    /// All objects of `kind`, in namespace then name order; `namespace: None` means every
    /// namespace.
    pub fn list(&self, kind: Kind, namespace: Option<&str>) -> impl Iterator<Item = &Object> {
        let (start, end) = match namespace {
            Some(ns) => (
                ObjectKey {
                    kind,
                    namespace: ns.to_string(),
                    name: String::new(),
                },
                Some(ObjectKey {
                    kind,
                    namespace: format!("{ns}\0"),
                    name: String::new(),
                }),
            ),
            None => (
                ObjectKey {
                    kind,
                    namespace: String::new(),
                    name: String::new(),
                },
                None,
            ),
        };
        let ns_filter = namespace.map(str::to_string);
        self.objects
            .range(start..)
            .take_while(move |(k, _)| k.kind == kind && end.as_ref().is_none_or(|e| *k < e))
            .filter(move |(k, _)| {
                ns_filter
                    .as_deref()
                    .is_none_or(|ns| k.namespace == ns || !kind.info().namespaced)
            })
            .map(|(_, o)| o)
    }

    /// All typed objects of type `T`; `namespace: None` means every namespace.
    pub fn list_typed<T: ApiObject>(&self, namespace: Option<&str>) -> impl Iterator<Item = &T> {
        self.list(T::KIND, namespace).filter_map(T::from_object)
    }

    /// Every object, in key order.
    pub fn iter(&self) -> impl Iterator<Item = &Object> {
        self.objects.values()
    }

    /// Number of stored objects.
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// The last resource version handed out.
    pub fn revision(&self) -> u64 {
        self.revision
    }
}
