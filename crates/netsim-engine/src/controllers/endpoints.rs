//! The Endpoints, EndpointSlice and EndpointSlice-mirroring controllers.
//!
//! For every Service with a selector: the ready pods it selects (named `targetPort`s resolved
//! against each pod's container ports of the same protocol) become `addresses` of its
//! Endpoints and `ready` endpoints of its EndpointSlice; pods not ready go to
//! `notReadyAddresses` and `ready: false`; terminating pods leave Endpoints and stay in the
//! slice as `terminating` (with `publishNotReadyAddresses`, every pod stays, ready); a pod that
//! resolves none of the Service's ports is not in Endpoints. Selector-less Services keep
//! whatever Endpoints the user wrote, mirrored into an EndpointSlice.

use super::controller_ref_to;
use crate::sim::Sim;
use crate::time::api_time;
use hashbrown::HashTable;
use netsim_model::k8s_openapi::api::core::v1::{
    EndpointAddress, EndpointPort, EndpointSubset, Endpoints, Node, ObjectReference, Pod, PodIP,
    Service,
};
use netsim_model::k8s_openapi::api::discovery::v1::{
    Endpoint, EndpointConditions, EndpointPort as SlicePort, EndpointSlice,
};
use netsim_model::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use netsim_model::k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use netsim_model::labels::map_matches;
use netsim_model::{ApiObject, Kind, Object, ObjectKey};
use rustc_hash::FxBuildHasher;
use std::collections::{BTreeMap, BTreeSet};
use std::hash::BuildHasher;

const MANAGED_BY: &str = "endpointslice.kubernetes.io/managed-by";
const SERVICE_NAME: &str = "kubernetes.io/service-name";
const TRIGGER_TIME: &str = "endpoints.kubernetes.io/last-change-trigger-time";
const SLICE_CONTROLLER: &str = "endpointslice-controller.k8s.io";
const MIRROR_CONTROLLER: &str = "endpointslicemirroring-controller.k8s.io";

/// One selected pod with the ports it serves the Service on.
struct Backend {
    /// `targetRef`: the pod.
    target: ObjectReference,
    node_name: Option<String>,
    /// `spec.hostname` when `spec.subdomain` names this Service.
    hostname: Option<String>,
    ip: String,
    /// The pod's Ready condition (the slice's `serving`).
    serving: bool,
    /// Published as ready: `serving`, or anything with `publishNotReadyAddresses`.
    ready: bool,
    terminating: bool,
    /// The pod's Node no longer exists (the pod waits for the pod GC).
    node_gone: bool,
    ports: Vec<EndpointPort>,
}

fn pod_ready(p: &Pod) -> bool {
    p.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// Whether a pod's update can change endpoints, and whether it can change which Services
/// select it (`podEndpointsChanged` of the endpoint controllers' shared code): only its
/// deletion timestamp, readiness and addresses are in the first; its labels, hostname and
/// subdomain in the second. Everything else an endpoint shows is fixed once the pod has an
/// address.
fn pod_endpoints_changed(old: &Pod, new: &Pod) -> (bool, bool) {
    fn spec(p: &Pod) -> Option<(&Option<String>, &Option<String>)> {
        p.spec.as_ref().map(|s| (&s.hostname, &s.subdomain))
    }
    let labels_changed = old.metadata.labels != new.metadata.labels || spec(old) != spec(new);
    fn ips(p: &Pod) -> Option<(&Option<String>, &Option<Vec<PodIP>>)> {
        p.status.as_ref().map(|s| (&s.pod_ip, &s.pod_ips))
    }
    let pod_changed = old.metadata.deletion_timestamp != new.metadata.deletion_timestamp
        || pod_ready(old) != pod_ready(new)
        || ips(old) != ips(new);
    (pod_changed, labels_changed)
}

/// The container port `target` names or numbers on `pod`, as `podutil.FindPort` resolves it:
/// a name matches a container port of that name and of the Service port's `protocol`.
fn find_port(pod: &Pod, target: &IntOrString, protocol: &str) -> Option<i32> {
    match target {
        IntOrString::Int(n) => Some(*n),
        IntOrString::String(name) => pod
            .spec
            .as_ref()?
            .containers
            .iter()
            .flat_map(|c| c.ports.iter().flatten())
            .find(|p| {
                p.name.as_deref() == Some(name.as_str())
                    && p.protocol.as_deref().unwrap_or("TCP") == protocol
            })
            .map(|p| p.container_port),
    }
}

fn target_ref(pod: &Pod) -> ObjectReference {
    ObjectReference {
        kind: Some("Pod".into()),
        name: pod.metadata.name.clone(),
        namespace: pod.metadata.namespace.clone(),
        uid: pod.metadata.uid.clone(),
        ..Default::default()
    }
}

/// The most endpoints one EndpointSlice holds (kube-controller-manager's
/// `--max-endpoints-per-slice` default).
const MAX_ENDPOINTS_PER_SLICE: usize = 100;

/// What identifies a set of slice ports (`endpointutil.NewPortMapKey`): name, port,
/// protocol and appProtocol of each, in order.
type PortKey = Vec<(String, i32, String, String)>;

fn port_key(ports: &[SlicePort]) -> PortKey {
    let mut key: PortKey = ports
        .iter()
        .map(|p| {
            (
                p.name.clone().unwrap_or_default(),
                p.port.unwrap_or_default(),
                p.protocol.clone().unwrap_or_else(|| "TCP".into()),
                p.app_protocol.clone().unwrap_or_default(),
            )
        })
        .collect();
    key.sort();
    key
}

/// What makes an endpoint the same one in another version (`hashEndpoint`): its
/// addresses, hostname and the pod it refers to.
fn endpoint_id(ep: &Endpoint) -> (&[String], Option<&str>, Option<&str>, Option<&str>) {
    let target = ep.target_ref.as_ref();
    (
        &ep.addresses,
        ep.hostname.as_deref(),
        target.and_then(|t| t.namespace.as_deref()),
        target.and_then(|t| t.name.as_deref()),
    )
}

fn endpoint_hash(ep: &Endpoint) -> u64 {
    FxBuildHasher.hash_one(endpoint_id(ep))
}

/// The desired endpoints of one port map, in the order they are added: taken by identity
/// when an existing slice holds them, popped in order for the rest.
#[derive(Default)]
struct Desired {
    order: Vec<Option<Endpoint>>,
    /// (hash of identity, position in `order`): found by comparing identities in place, so
    /// no identity is copied. A taken or popped endpoint's entry stays and matches nothing.
    by_id: HashTable<(u64, usize)>,
    /// Entries before this one are all taken.
    next: usize,
    left: usize,
}

impl Desired {
    /// Where the endpoint with `like`'s identity waits in `order`, if it still does.
    fn find(&self, hash: u64, like: &Endpoint) -> Option<usize> {
        let order = &self.order;
        self.by_id
            .find(hash, |&(_, at)| {
                order[at]
                    .as_ref()
                    .is_some_and(|ep| endpoint_id(ep) == endpoint_id(like))
            })
            .map(|&(_, at)| at)
    }

    fn insert(&mut self, ep: Endpoint) {
        let hash = endpoint_hash(&ep);
        if self.find(hash, &ep).is_some() {
            return;
        }
        self.by_id
            .insert_unique(hash, (hash, self.order.len()), |&(h, _)| h);
        self.order.push(Some(ep));
        self.left += 1;
    }

    /// The wanted version of the endpoint `like` names, if it is wanted.
    fn take(&mut self, like: &Endpoint) -> Option<Endpoint> {
        let at = self.find(endpoint_hash(like), like)?;
        let ep = self.order.get_mut(at)?.take();
        if ep.is_some() {
            self.left -= 1;
        }
        ep
    }

    /// The first endpoint not yet placed.
    fn pop(&mut self) -> Option<Endpoint> {
        while self.next < self.order.len() {
            let at = self.next;
            self.next += 1;
            if let Some(ep) = self.order.get_mut(at).and_then(Option::take) {
                self.left -= 1;
                return Some(ep);
            }
        }
        None
    }

    fn len(&self) -> usize {
        self.left
    }
}

/// A copy of `slice` without its endpoints: what a write that replaces them starts from.
fn without_endpoints(slice: &EndpointSlice) -> EndpointSlice {
    EndpointSlice {
        metadata: slice.metadata.clone(),
        address_type: slice.address_type.clone(),
        endpoints: Vec::new(),
        ports: slice.ports.clone(),
    }
}

/// `getSliceToFill`: the slice that `n` more endpoints bring closest to full without going
/// over.
fn closest_to_full(slices: &[&EndpointSlice], n: usize) -> Option<usize> {
    let mut best: Option<(usize, usize)> = None;
    for (i, s) in slices.iter().enumerate() {
        let Some(room) = MAX_ENDPOINTS_PER_SLICE.checked_sub(n + s.endpoints.len()) else {
            continue;
        };
        if best.is_none_or(|(_, r)| room < r) {
            best = Some((i, room));
        }
    }
    best.map(|(i, _)| i)
}

impl Sim {
    /// The Services whose endpoints a pod's creation, update or deletion may change
    /// (`GetServicesToUpdateOnPodChange`): an update that changes neither the pod's endpoint
    /// nor its labels touches none (a pod is written half a dozen times on its way to
    /// Running); one that changes only its labels, the Services it joined or left.
    pub(crate) fn services_of_pod_change(
        &self,
        key: &ObjectKey,
        prev: Option<&Object>,
        current: Option<&Object>,
        services: &mut BTreeSet<ObjectKey>,
    ) {
        // A pod without an address is in no Endpoints and no EndpointSlice (`podToEndpoint`
        // needs its IP), so its coming, going or changing leaves every Service's as they are.
        // Half of a pod's writes on its way to Running come before it has one.
        let addressed = |o: Option<&Object>| match o {
            Some(Object::Pod(p)) => p.status.as_ref().is_some_and(|s| s.pod_ip.is_some()),
            _ => false,
        };
        if !addressed(prev) && !addressed(current) {
            return;
        }
        let selecting = |o: &Object| -> BTreeSet<ObjectKey> {
            self.store
                .services_selecting(&key.namespace, o.metadata().labels.as_ref())
                .into_iter()
                .map(|s| s.key())
                .collect()
        };
        match (prev, current) {
            (Some(before @ Object::Pod(old)), Some(after @ Object::Pod(new))) => {
                let (pod_changed, labels_changed) = pod_endpoints_changed(old, new);
                if !pod_changed && !labels_changed {
                    return;
                }
                let now = selecting(after);
                if !labels_changed {
                    services.extend(now);
                    return;
                }
                let before = selecting(before);
                if pod_changed {
                    services.extend(now.union(&before).cloned());
                } else {
                    services.extend(now.symmetric_difference(&before).cloned());
                }
            }
            _ => {
                for o in current.into_iter().chain(prev) {
                    services.extend(selecting(o));
                }
            }
        }
    }

    /// Brings the Endpoints and EndpointSlice of Service `key` up to date.
    pub(crate) fn reconcile_service_endpoints(&mut self, key: &ObjectKey) {
        let Some(svc) = self.store.typed_at::<Service>(key).cloned() else {
            return;
        };
        let Some(spec) = svc.spec.as_ref() else {
            return self.mirror_endpoints(&svc);
        };
        if spec.type_.as_deref() == Some("ExternalName") {
            return;
        }
        match spec.selector.as_ref().filter(|s| !s.is_empty()) {
            Some(selector) => {
                let pods = self.store.select_pods(&key.namespace, selector);
                let mut backends = Self::backends(&svc, selector, &pods);
                for b in &mut backends {
                    b.node_gone = b
                        .node_name
                        .as_deref()
                        .is_some_and(|n| self.store.typed::<Node>("", n).is_none());
                }
                self.write_endpoints(&svc, &backends);
                self.write_slice(&svc, &backends);
            }
            None => self.mirror_endpoints(&svc),
        }
    }

    fn backends(svc: &Service, selector: &BTreeMap<String, String>, pods: &[&Pod]) -> Vec<Backend> {
        let Some(spec) = svc.spec.as_ref() else {
            return Vec::new();
        };
        let publish_not_ready = spec.publish_not_ready_addresses == Some(true);
        let mut out = Vec::new();
        for pod in pods {
            if !map_matches(selector, pod.metadata.labels.as_ref()) {
                continue;
            }
            let Some(ip) = pod.status.as_ref().and_then(|s| s.pod_ip.clone()) else {
                continue;
            };
            if matches!(
                pod.status.as_ref().and_then(|s| s.phase.as_deref()),
                Some("Succeeded" | "Failed")
            ) {
                continue;
            }
            let mut ports = Vec::new();
            for sp in spec.ports.iter().flatten() {
                let target = sp.target_port.clone().unwrap_or(IntOrString::Int(sp.port));
                let protocol = sp.protocol.as_deref().unwrap_or("TCP");
                if let Some(port) = find_port(pod, &target, protocol) {
                    ports.push(EndpointPort {
                        name: sp.name.clone().filter(|n| !n.is_empty()),
                        port,
                        protocol: Some(sp.protocol.clone().unwrap_or_else(|| "TCP".into())),
                        app_protocol: sp.app_protocol.clone(),
                    });
                }
            }
            out.push(Backend {
                ip,
                serving: pod_ready(pod),
                ready: pod_ready(pod) || publish_not_ready,
                terminating: pod.metadata.deletion_timestamp.is_some(),
                node_gone: false,
                ports,
                target: target_ref(pod),
                node_name: pod.spec.as_ref().and_then(|s| s.node_name.clone()),
                hostname: pod.spec.as_ref().and_then(|s| {
                    (s.subdomain.as_deref() == svc.metadata.name.as_deref())
                        .then(|| s.hostname.clone())
                        .flatten()
                }),
            });
        }
        out.sort_by(|a, b| a.ip.cmp(&b.ip).then(a.target.uid.cmp(&b.target.uid)));
        out
    }

    fn write_endpoints(&mut self, svc: &Service, backends: &[Backend]) {
        let ns = svc.metadata.namespace.clone().unwrap_or_default();
        let name = svc.metadata.name.clone().unwrap_or_default();
        let spec = svc.spec.as_ref();
        let headless = spec.and_then(|s| s.cluster_ip.as_deref()) == Some("None");
        let publish = spec.and_then(|s| s.publish_not_ready_addresses) == Some(true);
        let has_ports = spec
            .and_then(|s| s.ports.as_ref())
            .is_some_and(|p| !p.is_empty());
        // Group addresses by the exact port list they serve, as RepackSubsets does. Terminating
        // pods are left out unless not-ready addresses are published; a pod is listed once per
        // port it resolves, so one that resolves none is not listed at all. A Service without
        // ports lists its pods only when it is headless (the endpoints controller's syncService).
        let mut subsets: Vec<EndpointSubset> = Vec::new();
        let listed = backends.iter().filter(|b| {
            (!b.terminating || publish)
                && if has_ports {
                    !b.ports.is_empty()
                } else {
                    headless
                }
        });
        for b in listed {
            let address = EndpointAddress {
                ip: b.ip.clone(),
                node_name: b.node_name.clone(),
                target_ref: Some(b.target.clone()),
                hostname: b.hostname.clone(),
            };
            let ports = Some(b.ports.clone()).filter(|p| !p.is_empty());
            let subset = match subsets.iter_mut().find(|s| s.ports == ports) {
                Some(s) => s,
                None => {
                    subsets.push(EndpointSubset {
                        ports: ports.clone(),
                        ..Default::default()
                    });
                    subsets.last_mut().expect("just pushed")
                }
            };
            let list = if b.ready {
                &mut subset.addresses
            } else {
                &mut subset.not_ready_addresses
            };
            list.get_or_insert_with(Vec::new).push(address);
        }
        // The stored version is compared in place and only its metadata copied: its
        // subsets are replaced anyway.
        let existing = self.store.typed::<Endpoints>(&ns, &name);
        let subsets = Some(subsets).filter(|s| !s.is_empty());
        let mut labels = svc.metadata.labels.clone().unwrap_or_default();
        if headless {
            labels.insert("service.kubernetes.io/headless".into(), String::new());
        }
        let changed = existing.is_none_or(|e| e.subsets != subsets);
        let existing = existing.map(|e| Endpoints {
            metadata: e.metadata.clone(),
            subsets: None,
        });
        let mut next = existing.unwrap_or_else(|| Endpoints {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                namespace: Some(ns.clone()),
                uid: Some(self.rng.uuid()),
                creation_timestamp: Some(self.now_time()),
                ..Default::default()
            },
            subsets: None,
        });
        next.metadata.labels = Some(labels).filter(|l| !l.is_empty());
        if changed {
            next.metadata
                .annotations
                .get_or_insert_with(BTreeMap::new)
                .insert(TRIGGER_TIME.into(), rfc3339(api_time(self.now())));
        }
        next.subsets = subsets;
        self.put_if_changed(Object::Endpoints(Box::new(next)));
    }

    /// The EndpointSlice reconciler (`reconcileByPortMapping`): endpoints grouped by the
    /// ports they resolve, each group in slices of at most [`MAX_ENDPOINTS_PER_SLICE`].
    /// Endpoints stay in the slice they are in; a slice that lost or changed endpoints is
    /// filled up first, then one left unchanged that the rest fit into best, then new slices;
    /// a slice left empty is deleted, or reused for a new one; a Service with no endpoints
    /// keeps one placeholder slice. Endpoints the real controller pops from a set in no
    /// particular order go in address order here.
    fn write_slice(&mut self, svc: &Service, backends: &[Backend]) {
        let ns = svc.metadata.namespace.clone().unwrap_or_default();
        let name = svc.metadata.name.clone().unwrap_or_default();
        let headless = svc.spec.as_ref().and_then(|s| s.cluster_ip.as_deref()) == Some("None");
        let publish = svc
            .spec
            .as_ref()
            .and_then(|s| s.publish_not_ready_addresses)
            == Some(true);
        // `podToEndpoint`: never ready while terminating, unless not-ready addresses are
        // published; serving is the pod's own readiness. A pod whose Node is gone is left out
        // (the reconciler's "Node Not Found"), unless not-ready addresses are published.
        let mut desired: BTreeMap<PortKey, (Vec<SlicePort>, Desired)> = BTreeMap::new();
        for b in backends.iter().filter(|b| publish || !b.node_gone) {
            let ports: Vec<SlicePort> = b
                .ports
                .iter()
                .map(|p| SlicePort {
                    name: Some(p.name.clone().unwrap_or_default()),
                    port: Some(p.port),
                    protocol: p.protocol.clone(),
                    app_protocol: p.app_protocol.clone(),
                })
                .collect();
            let endpoint = Endpoint {
                addresses: vec![b.ip.clone()],
                conditions: Some(EndpointConditions {
                    ready: Some(publish || (b.serving && !b.terminating)),
                    serving: Some(b.serving),
                    terminating: Some(b.terminating),
                }),
                node_name: b.node_name.clone(),
                target_ref: Some(b.target.clone()),
                hostname: b.hostname.clone(),
                ..Default::default()
            };
            desired
                .entry(port_key(&ports))
                .or_insert_with(|| (ports, Desired::default()))
                .1
                .insert(endpoint);
        }
        let mut labels = svc.metadata.labels.clone().unwrap_or_default();
        labels.insert(MANAGED_BY.into(), SLICE_CONTROLLER.into());
        labels.insert(SERVICE_NAME.into(), name.clone());
        if headless {
            labels.insert("service.kubernetes.io/headless".into(), String::new());
        }
        let owner = controller_ref_to(Kind::Service, &svc.metadata);
        let mut to_write: Vec<EndpointSlice> = Vec::new();
        let mut to_create: Vec<(Vec<SlicePort>, Vec<Endpoint>)> = Vec::new();
        let mut to_delete: Vec<EndpointSlice> = Vec::new();
        let mut left_alone = 0;
        // The Service's slices by port map, read where they are stored: one is copied only to
        // be written (without the endpoints it gives up) or reused, never to be left as it is.
        let mut existing: BTreeMap<PortKey, Vec<&EndpointSlice>> = BTreeMap::new();
        for slice in self.managed_slices(&owner.uid, SLICE_CONTROLLER) {
            existing
                .entry(port_key(slice.ports.as_deref().unwrap_or_default()))
                .or_default()
                .push(slice);
        }
        for (key, (ports, mut want)) in desired {
            let mut updated: Vec<EndpointSlice> = Vec::new();
            let mut unchanged: Vec<&EndpointSlice> = Vec::new();
            // 1. Keep the endpoints still wanted where they are, in their new version.
            for slice in existing.remove(&key).unwrap_or_default() {
                let mut kept = Vec::with_capacity(slice.endpoints.len());
                let mut changed = false;
                for ep in &slice.endpoints {
                    if let Some(now) = want.take(ep) {
                        changed |= now != *ep;
                        kept.push(now);
                    }
                }
                let labels_changed = slice.metadata.labels.as_ref() != Some(&labels);
                if changed || kept.len() != slice.endpoints.len() {
                    let mut next = without_endpoints(slice);
                    if kept.is_empty() {
                        to_delete.push(next);
                    } else {
                        next.endpoints = kept;
                        updated.push(next);
                    }
                } else if labels_changed {
                    updated.push(slice.clone());
                } else {
                    unchanged.push(slice);
                }
            }
            // 2. Fill the slices being updated anyway, fullest first.
            updated.sort_by_key(|s| std::cmp::Reverse(s.endpoints.len()));
            for slice in &mut updated {
                while slice.endpoints.len() < MAX_ENDPOINTS_PER_SLICE {
                    let Some(ep) = want.pop() else { break };
                    slice.endpoints.push(ep);
                }
            }
            // 3. The rest into the unchanged slice they fit best, or into new slices.
            while want.len() > 0 {
                let fit = (want.len() < MAX_ENDPOINTS_PER_SLICE)
                    .then(|| closest_to_full(&unchanged, want.len()))
                    .flatten();
                match fit {
                    Some(i) => {
                        let mut slice = unchanged.remove(i).clone();
                        while slice.endpoints.len() < MAX_ENDPOINTS_PER_SLICE {
                            let Some(ep) = want.pop() else { break };
                            slice.endpoints.push(ep);
                        }
                        updated.push(slice);
                    }
                    None => {
                        let mut endpoints = Vec::new();
                        while endpoints.len() < MAX_ENDPOINTS_PER_SLICE {
                            let Some(ep) = want.pop() else { break };
                            endpoints.push(ep);
                        }
                        to_create.push((ports.clone(), endpoints));
                    }
                }
            }
            // The slices left as they are need no write.
            to_write.extend(updated);
            left_alone += unchanged.len();
        }
        // Port maps no longer wanted.
        to_delete.extend(existing.into_values().flatten().map(without_endpoints));
        // A Service whose slices would all be gone keeps a placeholder.
        if to_write.is_empty() && to_create.is_empty() && left_alone == 0 {
            to_create.push((Vec::new(), Vec::new()));
        }
        // `finalize`: a slice to create takes the place of one to delete.
        to_delete.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
        let mut to_delete = to_delete.into_iter();
        for (ports, endpoints) in to_create {
            let slice = match to_delete.next() {
                Some(mut reused) => {
                    reused.endpoints = endpoints;
                    reused.ports = Some(ports).filter(|p| !p.is_empty());
                    reused
                }
                None => {
                    let mut fresh = self.new_slice(&ns, &name, Some(owner.clone()));
                    fresh.endpoints = endpoints;
                    fresh.ports = Some(ports).filter(|p| !p.is_empty());
                    fresh
                }
            };
            to_write.push(slice);
        }
        for slice in to_delete {
            self.remove(&slice.key());
        }
        for mut slice in to_write {
            slice.metadata.labels = Some(labels.clone());
            self.store_slice(slice);
        }
    }

    /// Stores `next`, stamping the trigger time and the next generation when its endpoints
    /// or ports differ from the stored version's.
    fn store_slice(&mut self, mut next: EndpointSlice) {
        let before = self.store.typed::<EndpointSlice>(
            next.metadata.namespace.as_deref().unwrap_or_default(),
            next.metadata.name.as_deref().unwrap_or_default(),
        );
        let existed = before.is_some();
        let changed = before.is_none_or(|e| e.endpoints != next.endpoints || e.ports != next.ports);
        if changed {
            next.metadata
                .annotations
                .get_or_insert_with(BTreeMap::new)
                .insert(TRIGGER_TIME.into(), rfc3339(api_time(self.now())));
            if existed {
                next.metadata.generation = Some(next.metadata.generation.unwrap_or(1) + 1);
            }
        }
        self.put_if_changed(Object::EndpointSlice(Box::new(next)));
    }

    #[allow(clippy::too_many_arguments)]
    fn write_managed_slice(
        &mut self,
        ns: &str,
        service: &str,
        manager: &str,
        labels: BTreeMap<String, String>,
        owner: Option<netsim_model::k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference>,
        endpoints: Option<Vec<Endpoint>>,
        ports: Option<Vec<SlicePort>>,
    ) {
        // The slice is found through its owner (the Service, or the mirrored Endpoints).
        let owner_uid = owner.as_ref().map(|o| o.uid.clone()).unwrap_or_default();
        let existing = self
            .managed_slices(&owner_uid, manager)
            .find(|s| {
                let l = s.metadata.labels.as_ref();
                l.and_then(|l| l.get(SERVICE_NAME)).map(String::as_str) == Some(service)
            })
            .cloned();
        let mut next = match existing {
            Some(s) => s,
            None => self.new_slice(ns, service, owner),
        };
        next.metadata.labels = Some(labels);
        next.endpoints = endpoints.unwrap_or_default();
        next.ports = ports;
        self.store_slice(next);
    }

    /// The EndpointSlices owned by `owner_uid` that `manager` manages.
    fn managed_slices<'a>(
        &'a self,
        owner_uid: &'a str,
        manager: &'a str,
    ) -> impl Iterator<Item = &'a EndpointSlice> + 'a {
        self.store
            .owned_by(owner_uid)
            .filter_map(EndpointSlice::from_object)
            .filter(move |s| {
                let l = s.metadata.labels.as_ref();
                l.and_then(|l| l.get(MANAGED_BY)).map(String::as_str) == Some(manager)
            })
    }

    /// A new, empty slice of `service` named as `generateName` would name it.
    fn new_slice(
        &mut self,
        ns: &str,
        service: &str,
        owner: Option<netsim_model::k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference>,
    ) -> EndpointSlice {
        EndpointSlice {
            metadata: ObjectMeta {
                name: Some(format!("{service}-{}", self.rng.kube_suffix(5))),
                generate_name: Some(format!("{service}-")),
                namespace: Some(ns.to_string()),
                uid: Some(self.rng.uuid()),
                creation_timestamp: Some(self.now_time()),
                owner_references: owner.map(|o| vec![o]),
                generation: Some(1),
                ..Default::default()
            },
            address_type: "IPv4".into(),
            endpoints: vec![],
            ports: None,
        }
    }

    /// Mirrors user-written Endpoints of a selector-less Service into an EndpointSlice.
    fn mirror_endpoints(&mut self, svc: &Service) {
        let ns = svc.metadata.namespace.clone().unwrap_or_default();
        let name = svc.metadata.name.clone().unwrap_or_default();
        let Some(ep) = self.store.typed::<Endpoints>(&ns, &name).cloned() else {
            return;
        };
        let skip = ep
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get("endpointslice.kubernetes.io/skip-mirror"))
            .map(String::as_str)
            == Some("true");
        if skip {
            return;
        }
        let mut endpoints = Vec::new();
        let mut ports = None;
        for subset in ep.subsets.iter().flatten() {
            ports = subset.ports.as_ref().map(|ps| {
                ps.iter()
                    .map(|p| SlicePort {
                        name: Some(p.name.clone().unwrap_or_default()),
                        port: Some(p.port),
                        protocol: p.protocol.clone(),
                        app_protocol: p.app_protocol.clone(),
                    })
                    .collect::<Vec<_>>()
            });
            for (addrs, ready) in [
                (&subset.addresses, true),
                (&subset.not_ready_addresses, false),
            ] {
                for a in addrs.iter().flatten() {
                    endpoints.push(Endpoint {
                        addresses: vec![a.ip.clone()],
                        conditions: Some(EndpointConditions {
                            ready: Some(ready),
                            serving: None,
                            terminating: None,
                        }),
                        node_name: a.node_name.clone(),
                        target_ref: a.target_ref.clone(),
                        hostname: a.hostname.clone(),
                        ..Default::default()
                    });
                }
            }
        }
        let mut labels = ep.metadata.labels.clone().unwrap_or_default();
        labels.insert(MANAGED_BY.into(), MIRROR_CONTROLLER.into());
        labels.insert(SERVICE_NAME.into(), name.clone());
        let owner = netsim_model::k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference {
            api_version: "v1".into(),
            kind: "Endpoints".into(),
            name: name.clone(),
            uid: ep.metadata.uid.clone().unwrap_or_default(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        };
        self.write_managed_slice(
            &ns,
            &name,
            MIRROR_CONTROLLER,
            labels,
            Some(owner),
            Some(endpoints).filter(|e| !e.is_empty()),
            ports,
        );
        let _ = svc.key();
    }
}

/// RFC 3339 at second precision, as the API server writes timestamps in annotations.
fn rfc3339(t: netsim_model::k8s_openapi::apimachinery::pkg::apis::meta::v1::Time) -> String {
    t.0.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

impl Sim {
    /// The EndpointSlices of Service `ns/name` (by their `kubernetes.io/service-name` label).
    pub fn service_slices<'a>(
        &'a self,
        ns: &'a str,
        name: &'a str,
    ) -> impl Iterator<Item = &'a EndpointSlice> + 'a {
        self.store
            .list_typed::<EndpointSlice>(Some(ns))
            .filter(move |s| {
                s.metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get("kubernetes.io/service-name"))
                    .is_some_and(|n| n == name)
            })
    }

    /// The ready endpoints of Service `ns/name` (an endpoint without conditions is ready).
    pub fn ready_endpoints<'a>(
        &'a self,
        ns: &'a str,
        name: &'a str,
    ) -> impl Iterator<Item = &'a netsim_model::k8s_openapi::api::discovery::v1::Endpoint> + 'a
    {
        self.service_slices(ns, name)
            .flat_map(|s| s.endpoints.iter())
            .filter(|e| e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::controllers::pod_from_json as pod;

    #[test]
    fn only_endpoint_and_membership_changes_count() {
        let pending = pod(serde_json::json!({
            "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web"}]},
        }));
        let mut scheduled = pending.clone();
        if let Some(spec) = scheduled.spec.as_mut() {
            spec.node_name = Some("worker".into());
        }
        assert_eq!(pod_endpoints_changed(&pending, &scheduled), (false, false));
        let mut addressed = scheduled.clone();
        addressed.status = Some(
            serde_json::from_value(serde_json::json!({
                "podIP": "10.244.1.2", "podIPs": [{"ip": "10.244.1.2"}],
                "conditions": [{"type": "Ready", "status": "False"}],
            }))
            .expect("a status"),
        );
        assert_eq!(pod_endpoints_changed(&scheduled, &addressed), (true, false));
        let mut ready = addressed.clone();
        if let Some(c) = ready.status.as_mut().and_then(|s| s.conditions.as_mut()) {
            c[0].status = "True".into();
        }
        assert_eq!(pod_endpoints_changed(&addressed, &ready), (true, false));
        let mut relabelled = ready.clone();
        relabelled.metadata.labels = Some([("app".to_string(), "api".to_string())].into());
        assert_eq!(pod_endpoints_changed(&ready, &relabelled), (false, true));
        let mut named = ready.clone();
        if let Some(spec) = named.spec.as_mut() {
            spec.hostname = Some("web-0".into());
        }
        assert_eq!(pod_endpoints_changed(&ready, &named), (false, true));
    }
}
