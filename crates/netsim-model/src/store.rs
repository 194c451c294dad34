//! The object store: what the API server's etcd holds.
//!
//! This module owns keeping objects by [`ObjectKey`] in a deterministic order and handing out
//! resource versions. It must never run controllers or apply defaults.

use crate::kind::Kind;
use crate::object::{ApiObject, Object, ObjectKey};
use k8s_openapi::api::core::v1::Pod;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Every stored object, ordered by kind, namespace and name, with the indexes controllers need
/// so that no reconcile step scans the whole store.
#[derive(Debug, Clone, Default)]
pub struct Store {
    objects: BTreeMap<ObjectKey, Object>,
    /// The last resource version handed out (etcd's revision).
    revision: u64,
    /// Dependents by the uid in their `ownerReferences`.
    by_owner: BTreeMap<String, BTreeSet<ObjectKey>>,
    /// Pods by `spec.nodeName`.
    pods_by_node: BTreeMap<String, BTreeSet<ObjectKey>>,
    /// Pods by (namespace, label key, label value).
    pods_by_label: BTreeMap<(String, String, String), BTreeSet<ObjectKey>>,
}

/// What an object contributes to the indexes: owner uids, a pod's node, a pod's
/// (namespace, label key, label value) pairs.
type IndexEntries = (Vec<String>, Option<String>, Vec<(String, String, String)>);

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
        let mut store = Store {
            revision: repr.revision,
            ..Store::default()
        };
        for o in repr.objects {
            store.insert(o);
        }
        Ok(store)
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
        self.insert(object)
    }

    fn insert(&mut self, object: Object) -> Option<Object> {
        let key = object.key();
        let old = self.objects.remove(&key);
        if let Some(o) = &old {
            self.unindex(o);
        }
        self.index(&object);
        self.objects.insert(key, object);
        old
    }

    fn index_entries(object: &Object) -> IndexEntries {
        let meta = object.metadata();
        let owners = meta
            .owner_references
            .iter()
            .flatten()
            .map(|r| r.uid.clone())
            .collect();
        let (node, labels) = match object {
            Object::Pod(p) => {
                let ns = meta.namespace.clone().unwrap_or_default();
                let labels = meta
                    .labels
                    .iter()
                    .flatten()
                    .map(|(k, v)| (ns.clone(), k.clone(), v.clone()))
                    .collect();
                (p.spec.as_ref().and_then(|s| s.node_name.clone()), labels)
            }
            _ => (None, Vec::new()),
        };
        (owners, node, labels)
    }

    fn index(&mut self, object: &Object) {
        let key = object.key();
        let (owners, node, labels) = Store::index_entries(object);
        for uid in owners {
            self.by_owner.entry(uid).or_default().insert(key.clone());
        }
        if let Some(n) = node {
            self.pods_by_node.entry(n).or_default().insert(key.clone());
        }
        for l in labels {
            self.pods_by_label.entry(l).or_default().insert(key.clone());
        }
    }

    fn unindex(&mut self, object: &Object) {
        let key = object.key();
        let (owners, node, labels) = Store::index_entries(object);
        fn drop_from<K: Ord>(map: &mut BTreeMap<K, BTreeSet<ObjectKey>>, k: K, key: &ObjectKey) {
            if let Some(set) = map.get_mut(&k) {
                set.remove(key);
                if set.is_empty() {
                    map.remove(&k);
                }
            }
        }
        for uid in owners {
            drop_from(&mut self.by_owner, uid, &key);
        }
        if let Some(n) = node {
            drop_from(&mut self.pods_by_node, n, &key);
        }
        for l in labels {
            drop_from(&mut self.pods_by_label, l, &key);
        }
    }

    /// Objects whose `ownerReferences` name `uid`.
    pub fn owned_by(&self, uid: &str) -> impl Iterator<Item = &Object> {
        self.by_owner
            .get(uid)
            .into_iter()
            .flatten()
            .filter_map(|k| self.objects.get(k))
    }

    /// Pods bound to `node`.
    pub fn pods_on_node(&self, node: &str) -> impl Iterator<Item = &Pod> {
        self.pods_by_node
            .get(node)
            .into_iter()
            .flatten()
            .filter_map(|k| self.objects.get(k))
            .filter_map(Pod::from_object)
    }

    /// Pods in `namespace` whose labels include every `k=v` of `selector` (an empty selector
    /// selects nothing, as a Service's does). Looks up the rarest pair, then filters.
    pub fn select_pods(&self, namespace: &str, selector: &BTreeMap<String, String>) -> Vec<&Pod> {
        let sets: Option<Vec<&BTreeSet<ObjectKey>>> = selector
            .iter()
            .map(|(k, v)| {
                self.pods_by_label
                    .get(&(namespace.to_string(), k.clone(), v.clone()))
            })
            .collect();
        let Some(mut sets) = sets else {
            return Vec::new();
        };
        sets.sort_by_key(|s| s.len());
        let Some(first) = sets.first() else {
            return Vec::new();
        };
        first
            .iter()
            .filter(|k| sets[1..].iter().all(|s| s.contains(k)))
            .filter_map(|k| self.objects.get(k))
            .filter_map(Pod::from_object)
            .collect()
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
        self.insert(object);
    }

    /// Removes and returns the object at `key`.
    pub fn remove(&mut self, key: &ObjectKey) -> Option<Object> {
        let removed = self.objects.remove(key);
        if let Some(o) = &removed {
            self.revision += 1;
            self.unindex(o);
        }
        removed
    }

    /// All objects of `kind`, in namespace then name order; `namespace: None` means every
    /// namespace.
    pub fn list(&self, kind: Kind, namespace: Option<&str>) -> impl Iterator<Item = &Object> {
        // Cluster-scoped kinds live in no namespace: a namespace filter does not apply.
        let namespace = namespace.filter(|_| kind.info().namespaced);
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
        self.objects
            .range(start..)
            .take_while(move |(k, _)| k.kind == kind && end.as_ref().is_none_or(|e| *k < e))
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

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Node, Pod};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn meta(ns: Option<&str>, name: &str) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.into()),
            namespace: ns.map(str::to_string),
            ..Default::default()
        }
    }

    #[test]
    fn lists_by_namespace_and_ignores_it_for_cluster_scoped_kinds() {
        let mut store = Store::new();
        store.put(Object::Node(Node {
            metadata: meta(None, "n1"),
            ..Default::default()
        }));
        store.put(Object::Pod(Pod {
            metadata: meta(Some("a"), "p1"),
            ..Default::default()
        }));
        store.put(Object::Pod(Pod {
            metadata: meta(Some("ab"), "p2"),
            ..Default::default()
        }));
        store.put(Object::Pod(Pod {
            metadata: meta(Some("b"), "p3"),
            ..Default::default()
        }));
        let names = |kind, ns| {
            store
                .list(kind, ns)
                .map(|o| o.name().to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(Kind::Pod, Some("a")), ["p1"]);
        assert_eq!(names(Kind::Pod, None), ["p1", "p2", "p3"]);
        assert_eq!(names(Kind::Node, Some("default")), ["n1"]);
    }
}
