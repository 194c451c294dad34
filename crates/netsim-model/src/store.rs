//! The object store: what the API server's etcd holds.
//!
//! This module owns keeping objects by [`ObjectKey`] in a deterministic order and handing out
//! resource versions. It must never run controllers or apply defaults.

use crate::kind::Kind;
use crate::labels::map_matches;
use crate::object::{ApiObject, Object, ObjectKey};
use hashbrown::{HashTable, hash_table};
use k8s_openapi::api::core::v1::{Pod, Service};
use rustc_hash::FxBuildHasher;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::hash::BuildHasher;
use std::net::Ipv4Addr;

/// Every stored object, ordered by kind, namespace and name, with the indexes controllers need
/// so that no reconcile step scans the whole store.
#[derive(Debug, Clone, Default)]
pub struct Store {
    /// Objects of each kind by (namespace, name): one map per kind keeps a lookup of a Node
    /// or a Pod out of the many Events.
    objects: BTreeMap<Kind, KindMap>,
    /// The last resource version handed out (etcd's revision).
    revision: u64,
    /// Dependents by the uid in their `ownerReferences`.
    by_owner: BTreeMap<String, BTreeSet<ObjectKey>>,
    /// Pods by `spec.nodeName`.
    pods_by_node: BTreeMap<String, BTreeSet<ObjectKey>>,
    /// Pods by (namespace, label key, label value).
    pods_by_label: BTreeMap<Triple, BTreeSet<ObjectKey>>,
    /// Pods on the pod network (not `hostNetwork`) by (node, pod IP): the node's host-local
    /// IPAM asks whether an address is taken.
    pods_by_node_ip: BTreeMap<(String, Ipv4Addr), BTreeSet<ObjectKey>>,
    /// Pods by each image their containers run (a cluster runs few distinct images, so
    /// finding the pods of one program looks through images, not pods).
    pods_by_image: BTreeMap<String, BTreeSet<ObjectKey>>,
    /// Services with a selector, by (namespace, key, value) of the selector's first pair: a
    /// pod's labels must hold that pair for the Service to select it, so the pod's own pairs
    /// find every candidate.
    services_by_anchor: BTreeMap<Triple, BTreeSet<ObjectKey>>,
    /// Services by each of their `spec.clusterIPs`.
    services_by_cluster_ip: BTreeMap<Ipv4Addr, BTreeSet<ObjectKey>>,
    /// Services by each NodePort and health-check NodePort they hold.
    services_by_node_port: BTreeMap<u16, BTreeSet<ObjectKey>>,
    /// Services by each `status.loadBalancer.ingress[].ip`.
    services_by_ingress_ip: BTreeMap<Ipv4Addr, BTreeSet<ObjectKey>>,
    /// Kinds written or removed since the store was created or loaded (a state file rewrites
    /// only these).
    dirty_kinds: BTreeSet<Kind>,
}

/// (namespace, label key, label value).
type Triple = (String, String, String);

/// (namespace, name) of a stored object; the namespace is empty for cluster-scoped kinds.
type NameKey = (String, String);

/// The objects of one kind: found by hashing their name (most of the store's work is
/// looking objects up and rewriting them in place), listed in name order through a sorted
/// set of the names that changes only when an object comes or goes.
///
/// The hash table holds the objects alone and hashes each by its own namespace and name: a
/// map keyed by a copy of the name would hold every name twice more, which at a million
/// Events and Pods is a few hundred megabytes.
#[derive(Debug, Clone, Default)]
struct KindMap {
    by_name: HashTable<Object>,
    order: BTreeSet<NameKey>,
}

/// The (namespace, name) an object is stored under: the namespace is empty for cluster-scoped
/// kinds, as in [`ObjectKey`].
fn stored_name(object: &Object) -> (&str, &str) {
    let namespace = if object.kind().info().namespaced {
        object.namespace()
    } else {
        ""
    };
    (namespace, object.name())
}

/// The hash of (namespace, name) in [`KindMap::by_name`].
fn name_hash(namespace: &str, name: &str) -> u64 {
    FxBuildHasher.hash_one((namespace, name))
}

impl KindMap {
    fn get(&self, namespace: &str, name: &str) -> Option<&Object> {
        self.by_name.find(name_hash(namespace, name), |o| {
            stored_name(o) == (namespace, name)
        })
    }

    fn remove(&mut self, namespace: &str, name: &str) -> Option<Object> {
        let (removed, _) = self
            .by_name
            .find_entry(name_hash(namespace, name), |o| {
                stored_name(o) == (namespace, name)
            })
            .ok()?
            .remove();
        let key: &dyn NameParts = &(namespace, name);
        self.order.remove(key);
        Some(removed)
    }

    /// Stores `object` at `key`, which must be its [`stored_name`]; returns what was there.
    fn insert(&mut self, key: NameKey, object: Object) -> Option<Object> {
        let (namespace, name) = (key.0.as_str(), key.1.as_str());
        let hash = name_hash(namespace, name);
        match self.by_name.entry(
            hash,
            |o| stored_name(o) == (namespace, name),
            |o| {
                let (ns, n) = stored_name(o);
                name_hash(ns, n)
            },
        ) {
            hash_table::Entry::Occupied(mut slot) => {
                Some(std::mem::replace(slot.get_mut(), object))
            }
            hash_table::Entry::Vacant(slot) => {
                slot.insert(object);
                self.order.insert(key);
                None
            }
        }
    }

    /// Objects from `start` on, in name order.
    fn range_from(&self, start: NameKey) -> impl Iterator<Item = (&NameKey, &Object)> {
        self.order.range(start..).filter_map(|k| {
            let object = self.get(&k.0, &k.1)?;
            Some((k, object))
        })
    }

    fn len(&self) -> usize {
        self.by_name.len()
    }

    fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

/// Declares `$trait`: an owned tuple of Strings `$owned` seen as its borrowed `&str` parts
/// `($($part),*)`, so that a map keyed by `$owned` is searched with a tuple of `&str`s and no
/// key is built (the `Borrow<dyn Trait>` idiom: both sides hash and order as the same tuple,
/// as a `String` hashes and orders as its `str`).
macro_rules! borrowed_key {
    ($(#[$doc:meta])* $trait:ident for $owned:ty: ($($part:tt),+)) => {
        $(#[$doc])*
        trait $trait {
            fn parts(&self) -> ($(borrowed_key!(@str $part),)+);
        }

        impl $trait for $owned {
            fn parts(&self) -> ($(borrowed_key!(@str $part),)+) {
                ($(self.$part.as_str(),)+)
            }
        }

        impl $trait for ($(borrowed_key!(@str $part),)+) {
            fn parts(&self) -> ($(borrowed_key!(@str $part),)+) {
                *self
            }
        }

        impl<'a> std::borrow::Borrow<dyn $trait + 'a> for $owned {
            fn borrow(&self) -> &(dyn $trait + 'a) {
                self
            }
        }

        impl std::hash::Hash for dyn $trait + '_ {
            fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                self.parts().hash(state);
            }
        }

        impl PartialEq for dyn $trait + '_ {
            fn eq(&self, other: &Self) -> bool {
                self.parts() == other.parts()
            }
        }

        impl Eq for dyn $trait + '_ {}

        impl PartialOrd for dyn $trait + '_ {
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }

        impl Ord for dyn $trait + '_ {
            fn cmp(&self, other: &Self) -> std::cmp::Ordering {
                self.parts().cmp(&other.parts())
            }
        }
    };
    (@str $part:tt) => { &str };
}

borrowed_key!(
    /// A [`NameKey`] as `(namespace, name)` of `&str`s.
    NameParts for NameKey: (0, 1)
);

borrowed_key!(
    /// A label-index [`Triple`] as `(namespace, key, value)` of `&str`s.
    TripleParts for Triple: (0, 1, 2)
);

/// What one object contributes to the indexes: its strings borrowed from the object (`&str`),
/// so that two versions are compared without a copy, or owned (`String`) to go into the maps.
#[derive(Default, PartialEq)]
struct IndexEntries<S> {
    owners: Vec<S>,
    node: Vec<S>,
    pod_labels: Vec<(S, S, S)>,
    images: Vec<S>,
    node_ip: Vec<(S, Ipv4Addr)>,
    anchor: Vec<(S, S, S)>,
    cluster_ips: Vec<Ipv4Addr>,
    node_ports: Vec<u16>,
    ingress_ips: Vec<Ipv4Addr>,
}

impl IndexEntries<&str> {
    fn owned(&self) -> IndexEntries<String> {
        let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        let triples = |v: &[(&str, &str, &str)]| {
            v.iter()
                .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
                .collect()
        };
        IndexEntries {
            owners: strings(&self.owners),
            node: strings(&self.node),
            pod_labels: triples(&self.pod_labels),
            images: strings(&self.images),
            node_ip: self
                .node_ip
                .iter()
                .map(|(n, ip)| (n.to_string(), *ip))
                .collect(),
            anchor: triples(&self.anchor),
            cluster_ips: self.cluster_ips.clone(),
            node_ports: self.node_ports.clone(),
            ingress_ips: self.ingress_ips.clone(),
        }
    }
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
        st.serialize_field("objects", &self.iter().collect::<Vec<_>>())?;
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

    /// An empty store whose last handed-out resource version is `revision`.
    pub fn with_revision(revision: u64) -> Store {
        Store {
            revision,
            ..Store::default()
        }
    }

    /// The object at `key`.
    pub fn get(&self, key: &ObjectKey) -> Option<&Object> {
        self.lookup(key.kind, &key.namespace, &key.name)
    }

    /// The object of `kind` at `namespace/name`.
    pub fn get_named(&self, kind: Kind, namespace: &str, name: &str) -> Option<&Object> {
        let namespace = if kind.info().namespaced {
            namespace
        } else {
            ""
        };
        self.lookup(kind, namespace, name)
    }

    fn lookup(&self, kind: Kind, namespace: &str, name: &str) -> Option<&Object> {
        self.objects.get(&kind)?.get(namespace, name)
    }

    /// The typed object of type `T` at `namespace/name`.
    pub fn typed<T: ApiObject>(&self, namespace: &str, name: &str) -> Option<&T> {
        self.get_named(T::KIND, namespace, name)
            .and_then(T::from_object)
    }

    /// The typed object of type `T` named by `key`'s namespace and name (a controller's work
    /// item).
    pub fn typed_at<T: ApiObject>(&self, key: &ObjectKey) -> Option<&T> {
        self.typed(&key.namespace, &key.name)
    }

    /// Whether `key` exists.
    pub fn contains(&self, key: &ObjectKey) -> bool {
        self.get(key).is_some()
    }

    /// Stores `object` under its key, stamping a new `resourceVersion`; returns the old one.
    pub fn put(&mut self, mut object: Object) -> Option<Object> {
        self.revision += 1;
        self.dirty_kinds.insert(object.kind());
        object.metadata_mut().resource_version = Some(self.revision.to_string());
        self.insert(object)
    }

    fn insert(&mut self, mut object: Object) -> Option<Object> {
        crate::capacity::shrink(&mut object);
        let key = object.key();
        let old = self
            .objects
            .get(&key.kind)
            .and_then(|map| map.get(&key.namespace, &key.name));
        // The indexes move before the object does. Both versions' entries are compared where
        // they are (most writes change a status, not what is indexed) and copied only when
        // they differ.
        let old_entries = old.map(Store::index_entries);
        let new_entries = Store::index_entries(&object);
        if old_entries.as_ref() != Some(&new_entries) {
            let old_entries = old_entries.map(|e| e.owned());
            let new_entries = new_entries.owned();
            self.reindex_entries(&key, old_entries, Some(new_entries));
        }
        self.objects
            .entry(key.kind)
            .or_default()
            .insert((key.namespace, key.name), object)
    }

    fn index_entries(object: &Object) -> IndexEntries<&str> {
        let meta = object.metadata();
        let mut entries = IndexEntries {
            owners: meta
                .owner_references
                .iter()
                .flatten()
                .map(|r| r.uid.as_str())
                .collect(),
            ..IndexEntries::default()
        };
        let ns = meta.namespace.as_deref().unwrap_or_default();
        match object {
            Object::Pod(p) => {
                entries.node = p
                    .spec
                    .iter()
                    .filter_map(|s| s.node_name.as_deref())
                    .collect();
                entries.pod_labels = meta
                    .labels
                    .iter()
                    .flatten()
                    .map(|(k, v)| (ns, k.as_str(), v.as_str()))
                    .collect();
                entries.images = p
                    .spec
                    .iter()
                    .flat_map(|s| &s.containers)
                    .filter_map(|c| c.image.as_deref())
                    .collect();
                entries.images.sort();
                entries.images.dedup();
                let on_pod_network = p
                    .spec
                    .as_ref()
                    .is_some_and(|s| s.host_network != Some(true));
                let ip = p
                    .status
                    .as_ref()
                    .and_then(|s| s.pod_ip.as_ref()?.parse().ok());
                if let (Some(node), Some(ip), true) = (entries.node.first(), ip, on_pod_network) {
                    entries.node_ip = vec![(*node, ip)];
                }
            }
            Object::Service(svc) => {
                if let Some(spec) = &svc.spec {
                    entries.anchor = spec
                        .selector
                        .iter()
                        .flatten()
                        .take(1)
                        .map(|(k, v)| (ns, k.as_str(), v.as_str()))
                        .collect();
                    entries.cluster_ips = spec
                        .cluster_ips
                        .iter()
                        .flatten()
                        .chain(spec.cluster_ip.as_ref())
                        .filter_map(|ip| ip.parse().ok())
                        .collect();
                    entries.node_ports = spec
                        .ports
                        .iter()
                        .flatten()
                        .filter_map(|p| p.node_port)
                        .chain(spec.health_check_node_port)
                        .filter_map(|p| u16::try_from(p).ok())
                        .collect();
                }
                entries.ingress_ips = svc
                    .status
                    .as_ref()
                    .and_then(|s| s.load_balancer.as_ref())
                    .and_then(|lb| lb.ingress.as_ref())
                    .into_iter()
                    .flatten()
                    .filter_map(|i| i.ip.as_ref()?.parse().ok())
                    .collect();
            }
            _ => {}
        }
        entries
    }

    /// Moves `key` in the indexes from what `old` contributes to what `new` does, touching
    /// only the entries that differ (most writes change a status, not what is indexed).
    fn reindex(&mut self, key: &ObjectKey, old: Option<&Object>, new: Option<&Object>) {
        let old = old.map(|o| Store::index_entries(o).owned());
        let new = new.map(|o| Store::index_entries(o).owned());
        self.reindex_entries(key, old, new);
    }

    fn reindex_entries(
        &mut self,
        key: &ObjectKey,
        old: Option<IndexEntries<String>>,
        new: Option<IndexEntries<String>>,
    ) {
        let old = old.unwrap_or_default();
        let new = new.unwrap_or_default();
        fn update<K: Ord>(
            map: &mut BTreeMap<K, BTreeSet<ObjectKey>>,
            old: Vec<K>,
            new: Vec<K>,
            key: &ObjectKey,
        ) {
            if old == new {
                return;
            }
            for k in old.iter().filter(|k| !new.contains(k)) {
                if let Some(set) = map.get_mut(k) {
                    set.remove(key);
                    if set.is_empty() {
                        map.remove(k);
                    }
                }
            }
            for k in new.into_iter().filter(|k| !old.contains(k)) {
                map.entry(k).or_default().insert(key.clone());
            }
        }
        // Each index with the entries of the field that feeds it.
        macro_rules! update_all {
            ($($index:ident: $field:ident),* $(,)?) => {
                $(update(&mut self.$index, old.$field, new.$field, key);)*
            };
        }
        update_all!(
            by_owner: owners,
            pods_by_node: node,
            pods_by_label: pod_labels,
            pods_by_image: images,
            pods_by_node_ip: node_ip,
            services_by_anchor: anchor,
            services_by_cluster_ip: cluster_ips,
            services_by_node_port: node_ports,
            services_by_ingress_ip: ingress_ips,
        );
    }

    /// Services in `namespace` whose (non-empty) selector matches `labels`, in key order.
    pub fn services_selecting(
        &self,
        namespace: &str,
        labels: Option<&BTreeMap<String, String>>,
    ) -> Vec<&Service> {
        let mut keys: BTreeSet<&ObjectKey> = BTreeSet::new();
        for (k, v) in labels.into_iter().flatten() {
            let anchor: &dyn TripleParts = &(namespace, k.as_str(), v.as_str());
            keys.extend(self.services_by_anchor.get(anchor).into_iter().flatten());
        }
        keys.into_iter()
            .filter_map(|k| self.get(k))
            .filter_map(Service::from_object)
            .filter(|svc| {
                svc.spec
                    .as_ref()
                    .and_then(|s| s.selector.as_ref())
                    .is_some_and(|sel| !sel.is_empty() && map_matches(sel, labels))
            })
            .collect()
    }

    /// Services holding ClusterIP `ip`, in key order.
    pub fn services_with_cluster_ip(&self, ip: Ipv4Addr) -> impl Iterator<Item = &Service> {
        self.services_in(&self.services_by_cluster_ip, &ip)
    }

    /// Services holding NodePort (or health-check NodePort) `port`, in key order.
    pub fn services_with_node_port(&self, port: u16) -> impl Iterator<Item = &Service> {
        self.services_in(&self.services_by_node_port, &port)
    }

    /// Services with load-balancer ingress address `ip`, in key order.
    pub fn services_with_ingress_ip(&self, ip: Ipv4Addr) -> impl Iterator<Item = &Service> {
        self.services_in(&self.services_by_ingress_ip, &ip)
    }

    /// Every load-balancer ingress address some Service holds.
    pub fn service_ingress_ips(&self) -> impl Iterator<Item = Ipv4Addr> + '_ {
        self.services_by_ingress_ip.keys().copied()
    }

    fn services_in<'a, K: Ord>(
        &'a self,
        index: &'a BTreeMap<K, BTreeSet<ObjectKey>>,
        k: &K,
    ) -> impl Iterator<Item = &'a Service> + use<'a, K> {
        index
            .get(k)
            .into_iter()
            .flatten()
            .filter_map(|k| self.get(k))
            .filter_map(Service::from_object)
    }

    /// Number of pods bound to `node` (the index's count, without visiting them).
    pub fn pod_count_on_node(&self, node: &str) -> usize {
        self.pods_by_node.get(node).map_or(0, BTreeSet::len)
    }

    /// Number of pods bound to each of `nodes`, whose names must be in ascending order (the
    /// order Nodes list in): one walk of the index instead of a lookup per node.
    pub fn pod_counts_on_nodes(&self, nodes: &[String]) -> Vec<usize> {
        debug_assert!(nodes.is_sorted(), "node names out of order");
        let mut index = self.pods_by_node.iter().peekable();
        nodes
            .iter()
            .map(|name| {
                while index.next_if(|(n, _)| n.as_str() < name.as_str()).is_some() {}
                index
                    .next_if(|(n, _)| n.as_str() == name.as_str())
                    .map_or(0, |(_, pods)| pods.len())
            })
            .collect()
    }

    /// Objects whose `ownerReferences` name `uid`.
    pub fn owned_by(&self, uid: &str) -> impl Iterator<Item = &Object> {
        self.by_owner
            .get(uid)
            .into_iter()
            .flatten()
            .filter_map(|k| self.get(k))
    }

    /// Whether a pod on the pod network of `node` holds address `ip`.
    pub fn pod_ip_taken(&self, node: &str, ip: Ipv4Addr) -> bool {
        self.pods_by_node_ip.contains_key(&(node.to_string(), ip))
    }

    /// Pods one of whose containers runs an image `wanted` accepts, in key order.
    pub fn pods_running_image(&self, wanted: impl Fn(&str) -> bool) -> Vec<&Pod> {
        let keys: BTreeSet<&ObjectKey> = self
            .pods_by_image
            .iter()
            .filter(|(image, _)| wanted(image))
            .flat_map(|(_, keys)| keys)
            .collect();
        keys.into_iter()
            .filter_map(|k| self.get(k))
            .filter_map(Pod::from_object)
            .collect()
    }

    /// Pods bound to `node`.
    pub fn pods_on_node(&self, node: &str) -> impl Iterator<Item = &Pod> {
        self.pods_by_node
            .get(node)
            .into_iter()
            .flatten()
            .filter_map(|k| self.get(k))
            .filter_map(Pod::from_object)
    }

    /// Pods in `namespace` whose labels include every `k=v` of `selector` (an empty selector
    /// selects nothing, as a Service's does). Looks up the rarest pair, then filters.
    pub fn select_pods(&self, namespace: &str, selector: &BTreeMap<String, String>) -> Vec<&Pod> {
        let sets: Option<Vec<&BTreeSet<ObjectKey>>> = selector
            .iter()
            .map(|(k, v)| {
                let triple: &dyn TripleParts = &(namespace, k.as_str(), v.as_str());
                self.pods_by_label.get(triple)
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
            .filter(|k| sets[1..].iter().all(|s| s.contains(*k)))
            .filter_map(|k| self.get(k))
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
        self.dirty_kinds.insert(object.kind());
        self.insert(object);
    }

    /// Removes and returns the object at `key`.
    pub fn remove(&mut self, key: &ObjectKey) -> Option<Object> {
        let removed = self
            .objects
            .get_mut(&key.kind)
            .and_then(|map| map.remove(&key.namespace, &key.name));
        if let Some(o) = &removed {
            self.revision += 1;
            self.dirty_kinds.insert(key.kind);
            self.reindex(key, Some(o), None);
        }
        removed
    }

    /// All objects of `kind`, in namespace then name order; `namespace: None` means every
    /// namespace.
    pub fn list(&self, kind: Kind, namespace: Option<&str>) -> impl Iterator<Item = &Object> {
        // Cluster-scoped kinds live in no namespace: a namespace filter does not apply.
        let namespace = namespace.filter(|_| kind.info().namespaced);
        let map = self.objects.get(&kind);
        let (start, end) = match namespace {
            Some(ns) => ((ns.to_string(), String::new()), Some(format!("{ns}\0"))),
            None => ((String::new(), String::new()), None),
        };
        map.into_iter()
            .flat_map(move |m| m.range_from(start.clone()))
            .take_while(move |((ns, _), _)| end.as_ref().is_none_or(|e| ns < e))
            .map(|(_, o)| o)
    }

    /// All typed objects of type `T`; `namespace: None` means every namespace.
    pub fn list_typed<T: ApiObject>(&self, namespace: Option<&str>) -> impl Iterator<Item = &T> {
        self.list(T::KIND, namespace).filter_map(T::from_object)
    }

    /// Every object, in key order.
    pub fn iter(&self) -> impl Iterator<Item = &Object> {
        self.objects
            .values()
            .flat_map(|m| m.range_from(NameKey::default()))
            .map(|(_, o)| o)
    }

    /// Number of stored objects.
    pub fn len(&self) -> usize {
        self.objects.values().map(KindMap::len).sum()
    }

    /// Number of stored objects of `kind`.
    pub fn count(&self, kind: Kind) -> usize {
        self.objects.get(&kind).map_or(0, KindMap::len)
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.objects.values().all(KindMap::is_empty)
    }

    /// The last resource version handed out.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// Kinds written or removed since this store was created or loaded.
    pub fn dirty_kinds(&self) -> &BTreeSet<Kind> {
        &self.dirty_kinds
    }

    /// Kinds with at least one object.
    pub fn kinds(&self) -> BTreeSet<Kind> {
        self.objects
            .iter()
            .filter(|(_, m)| !m.is_empty())
            .map(|(k, _)| *k)
            .collect()
    }

    /// Writes every object of `kind` as one JSON array (a state segment).
    pub fn write_segment<W: std::io::Write>(
        &self,
        kind: Kind,
        writer: W,
    ) -> Result<(), serde_json::Error> {
        struct Segment<'a>(&'a Store, Kind);
        impl Serialize for Segment<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_seq(self.0.list(self.1, None))
            }
        }
        serde_json::to_writer(writer, &Segment(self, kind))
    }

    /// Writes every object of `kind` as [`Store::write_segment`] does, and returns where
    /// each namespace's objects lie in what was written: (namespace, offset of its first
    /// object, offset just after its last), in namespace order. A reader can then parse one
    /// namespace's objects alone (they are contiguous: the store lists in namespace order).
    pub fn write_segment_ranges<W: std::io::Write>(
        &self,
        kind: Kind,
        mut writer: W,
    ) -> Result<Vec<(String, u64, u64)>, serde_json::Error> {
        let mut at: u64 = 0;
        let put = |w: &mut W, bytes: &[u8], at: &mut u64| -> Result<(), serde_json::Error> {
            w.write_all(bytes).map_err(serde_json::Error::io)?;
            *at += bytes.len() as u64;
            Ok(())
        };
        let mut ranges: Vec<(String, u64, u64)> = Vec::new();
        put(&mut writer, b"[", &mut at)?;
        let mut text = Vec::new();
        for (i, object) in self.list(kind, None).enumerate() {
            if i > 0 {
                put(&mut writer, b",", &mut at)?;
            }
            text.clear();
            serde_json::to_writer(&mut text, object)?;
            let start = at;
            put(&mut writer, &text, &mut at)?;
            match ranges.last_mut() {
                Some((ns, _, end)) if ns == object.namespace() => *end = at,
                _ => ranges.push((object.namespace().to_string(), start, at)),
            }
        }
        put(&mut writer, b"]", &mut at)?;
        Ok(ranges)
    }

    /// Adds one object of a state segment (a JSON array of objects of `kind`, written by
    /// [`Store::write_segment`]) from its JSON text, as stored: its resource version kept,
    /// nothing marked changed.
    pub fn load_object(&mut self, kind: Kind, text: &[u8]) -> Result<(), serde_json::Error> {
        self.insert(Object::from_json_slice(kind, text)?);
        Ok(())
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
    fn a_segment_with_ranges_is_the_segment_and_each_range_its_namespace() {
        let mut store = Store::new();
        for (ns, name) in [("a", "p1"), ("a", "p2"), ("ab", "p3"), ("b", "p4")] {
            store.put(Object::Pod(Box::new(Pod {
                metadata: meta(Some(ns), name),
                ..Default::default()
            })));
        }
        let mut plain = Vec::new();
        store.write_segment(Kind::Pod, &mut plain).expect("write");
        let mut ranged = Vec::new();
        let ranges = store
            .write_segment_ranges(Kind::Pod, &mut ranged)
            .expect("write");
        assert_eq!(ranged, plain);
        let names: Vec<(String, Vec<String>)> = ranges
            .iter()
            .map(|(ns, start, end)| {
                let slice = &ranged[*start as usize..*end as usize];
                let text = format!("[{}]", String::from_utf8_lossy(slice));
                let pods: Vec<serde_json::Value> = serde_json::from_str(&text).expect("JSON");
                let names = pods
                    .iter()
                    .map(|p| p["metadata"]["name"].as_str().unwrap_or("").to_string())
                    .collect();
                (ns.clone(), names)
            })
            .collect();
        let want = |ns: &str, names: &[&str]| {
            (
                ns.to_string(),
                names.iter().map(|n| n.to_string()).collect(),
            )
        };
        assert_eq!(
            names,
            [
                want("a", &["p1", "p2"]),
                want("ab", &["p3"]),
                want("b", &["p4"])
            ]
        );
    }

    #[test]
    fn lists_by_namespace_and_ignores_it_for_cluster_scoped_kinds() {
        let mut store = Store::new();
        store.put(Object::Node(Box::new(Node {
            metadata: meta(None, "n1"),
            ..Default::default()
        })));
        store.put(Object::Pod(Box::new(Pod {
            metadata: meta(Some("a"), "p1"),
            ..Default::default()
        })));
        store.put(Object::Pod(Box::new(Pod {
            metadata: meta(Some("ab"), "p2"),
            ..Default::default()
        })));
        store.put(Object::Pod(Box::new(Pod {
            metadata: meta(Some("b"), "p3"),
            ..Default::default()
        })));
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

    #[test]
    fn finds_objects_and_labels_by_borrowed_names_and_keeps_indexes_in_step() {
        let mut store = Store::new();
        let pod = |ns: &str, name: &str, app: &str| {
            let mut m = meta(Some(ns), name);
            m.labels = Some([("app".to_string(), app.to_string())].into());
            Object::Pod(Box::new(Pod {
                metadata: m,
                ..Default::default()
            }))
        };
        store.put(pod("a", "p1", "web"));
        store.put(pod("a", "p2", "web"));
        store.put(pod("b", "p3", "web"));
        store.put(Object::Node(Box::new(Node {
            metadata: meta(None, "n1"),
            ..Default::default()
        })));
        // Same name, other kind or namespace: not the same object.
        assert!(store.get_named(Kind::Pod, "a", "p1").is_some());
        assert!(store.get_named(Kind::Pod, "b", "p1").is_none());
        assert!(store.get_named(Kind::Service, "a", "p1").is_none());
        // A cluster-scoped kind ignores the namespace asked for.
        assert!(store.get_named(Kind::Node, "default", "n1").is_some());
        let web = [("app".to_string(), "web".to_string())].into();
        let names = |store: &Store| {
            store
                .select_pods("a", &web)
                .iter()
                .map(|p| p.metadata.name.clone().unwrap_or_default())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&store), ["p1", "p2"]);
        // Relabelled in place: it leaves the old label's index entry.
        store.put(pod("a", "p2", "db"));
        assert_eq!(names(&store), ["p1"]);
        store.remove(&ObjectKey::new(Kind::Pod, "a", "p1"));
        assert!(names(&store).is_empty());
        assert_eq!(store.len(), 3);
        assert_eq!(
            store.iter().map(Object::name).collect::<Vec<_>>(),
            ["n1", "p2", "p3"]
        );
    }
}
