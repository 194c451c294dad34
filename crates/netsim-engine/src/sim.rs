//! [`Sim`]: the simulated cluster as a whole — store, clock, queue, RNG — and the loop that
//! advances virtual time.
//!
//! This module owns time: every change happens at `Sim::now`, and the clock only moves forward,
//! through [`Sim::advance_to`], which runs due events and lets the controllers settle after each.

use crate::queue::{Event, EventQueue};
use crate::rng::SimRng;
use netsim_model::jiff::{SignedDuration, Timestamp};
use netsim_model::k8s_openapi::api::core::v1::{Event as CoreEvent, Service};
use netsim_model::{ApiObject, ClusterConfig, Kind, Object, ObjectKey, Store};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// How long Events live (kube-apiserver's `--event-ttl` default).
const EVENT_TTL_MS: i64 = 3_600_000;

/// Options of a write request (`--dry-run`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteOptions {
    /// Validate and default, allocate nothing, store nothing.
    pub dry_run: bool,
}

/// How far an [`Sim::advance_watched`] has got, in virtual milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Advanced {
    /// Virtual time run so far.
    pub done_ms: i64,
    /// Virtual time asked for.
    pub total_ms: i64,
}

/// What the node agents keep per node, apart from the API objects: the CNI's and kernel's
/// network records and the container runtime's. The biggest part of a large cluster's state
/// besides its objects, and read only by commands that look inside nodes or move time on.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeRecords {
    node_net: BTreeMap<String, netsim_model::netns::NodeNet>,
    node_runtime: BTreeMap<String, netsim_model::runtime::NodeRuntime>,
}

/// The whole simulated cluster.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sim {
    pub(crate) config: ClusterConfig,
    pub(crate) store: Store,
    /// Virtual now, milliseconds since the Unix epoch.
    pub(crate) now_ms: i64,
    pub(crate) queue: EventQueue,
    pub(crate) rng: SimRng,
    /// The control plane (scheduler, controller-manager) is stopped; node agents keep working.
    pub(crate) paused: bool,
    /// host-local IPAM's last reserved address per node (offset within the node's pod subnet).
    pub(crate) ipam_last: BTreeMap<String, u32>,
    /// Services whose load balancer is being provisioned.
    pub(crate) lb_pending: BTreeSet<ObjectKey>,
    /// kube-proxy settings from a `KubeProxyConfiguration` document, as given.
    pub(crate) kube_proxy_config: Option<serde_json::Value>,
    /// The CNI's and kernel's records per node (ifindexes, veth pairs, netnsids). Saved apart
    /// from the rest (see [`Sim::with_parts_apart`]); inline only in older state files.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) node_net: BTreeMap<String, netsim_model::netns::NodeNet>,
    /// The container runtime's records per node (sandboxes, containers, PIDs); saved like
    /// `node_net`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) node_runtime: BTreeMap<String, netsim_model::runtime::NodeRuntime>,
    /// Images each node's runtime holds (pulled once, reused by `IfNotPresent`).
    #[serde(default)]
    pub(crate) node_images: BTreeMap<String, BTreeSet<String>>,
    /// What the applications wrote to their logs while serving (access lines, CoreDNS's `log`
    /// plugin), by pod uid; the last [`crate::servers::LOG_LINES`] of each.
    #[serde(default, with = "crate::servers::saved_logs")]
    pub(crate) app_logs: BTreeMap<String, VecDeque<crate::servers::LogLine>>,
    /// Each node's connection-tracking table and `recent` lists.
    #[serde(default)]
    pub(crate) conntrack: BTreeMap<String, netsim_model::conntrack::Conntrack>,
    /// The Corefile the CoreDNS pods still run while an edit of the `coredns` ConfigMap waits
    /// for the kubelet and the `reload` plugin; `None` when they run the ConfigMap's.
    #[serde(default)]
    pub(crate) corefile_loaded: Option<String>,
    /// The node MetalLB's speakers elected for each LoadBalancer Service (`ns/name`).
    #[serde(default)]
    pub(crate) metallb_announced: BTreeMap<String, String>,
    /// An ingress-nginx status sync is scheduled.
    #[serde(default)]
    pub(crate) ingress_status_pending: bool,
    /// Lines `OutsideHosts` documents added to the outside client's hosts table.
    #[serde(default)]
    pub(crate) outside_hosts: Vec<netsim_model::HostEntry>,
    /// Each CoreDNS pod's `cache` plugin, by pod uid.
    #[serde(default)]
    pub(crate) dns_cache: BTreeMap<String, crate::coredns::DnsCache>,
    /// kube-scheduler's `nextStartNodeIndex`: where the next search for feasible nodes starts
    /// in a cluster large enough that it stops early.
    #[serde(default)]
    pub(crate) sched_next_start: usize,
    /// Keys changed since the last [`Sim::take_changes`], kept only once something watches
    /// ([`Sim::watch_changes`]): a 5,000-node apply writes millions of times and nobody reads
    /// them. Not saved.
    #[serde(skip)]
    pub(crate) changes: Option<Vec<ObjectKey>>,
    /// Writes the controllers have not reacted to yet, with the object as it was before (so a
    /// removed pod still tells which ReplicaSet and Services it belonged to); not saved: the
    /// state is always saved settled.
    #[serde(skip)]
    pub(crate) dirty: Vec<(ObjectKey, Option<Object>)>,
    /// Events by (involved uid, reason, message), for aggregation; rebuilt on first use.
    #[serde(skip)]
    pub(crate) event_index: Option<crate::controllers::EventIndex>,
    /// Events the state file kept unread, until something needs them; not saved (the state
    /// file says which they are).
    #[serde(skip)]
    pub(crate) archived_events: Option<crate::controllers::events::ArchivedEvents>,
    /// Why the archived Events could not be read (see [`Sim::archive_error`]).
    #[serde(skip)]
    pub(crate) archive_error: Option<String>,
    /// kube-scheduler's view of the Nodes (names, filter verdicts per set of pod
    /// constraints); dropped whenever a Node is written or removed, rebuilt on first use.
    #[serde(skip)]
    pub(crate) scheduler_cache: Option<crate::controllers::SchedulerCache>,
}

impl Sim {
    /// An empty cluster of shape `config` at its start instant: no objects at all (what a
    /// snapshot restore starts from).
    pub fn empty(config: ClusterConfig) -> Result<Sim, String> {
        let start: Timestamp = config
            .start_time
            .parse()
            .map_err(|e| format!("invalid startTime {:?}: {e}", config.start_time))?;
        Ok(Sim {
            rng: SimRng::new(config.seed),
            config,
            store: Store::new(),
            now_ms: start.as_millisecond(),
            queue: EventQueue::default(),
            paused: false,
            ipam_last: BTreeMap::new(),
            lb_pending: BTreeSet::new(),
            kube_proxy_config: None,
            node_images: BTreeMap::new(),
            conntrack: BTreeMap::new(),
            app_logs: BTreeMap::new(),
            corefile_loaded: None,
            outside_hosts: Vec::new(),
            ingress_status_pending: false,
            metallb_announced: BTreeMap::new(),
            dns_cache: BTreeMap::new(),
            sched_next_start: 0,
            node_net: BTreeMap::new(),
            node_runtime: BTreeMap::new(),
            changes: None,
            dirty: Vec::new(),
            event_index: None,
            archived_events: None,
            archive_error: None,
            scheduler_cache: None,
        })
    }

    /// The cluster's shape.
    pub fn config(&self) -> &ClusterConfig {
        &self.config
    }

    /// Every stored object.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Runs `f` on this cluster with its objects and its per-node records set apart (the
    /// store left holding only its revision), and on those parts, so that a state file can
    /// write each separately from the rest. Nothing changes.
    pub fn with_parts_apart<R>(&mut self, f: impl FnOnce(&Sim, &Store, &NodeRecords) -> R) -> R {
        let apart = Store::with_revision(self.store.revision());
        let objects = std::mem::replace(&mut self.store, apart);
        let records = NodeRecords {
            node_net: std::mem::take(&mut self.node_net),
            node_runtime: std::mem::take(&mut self.node_runtime),
        };
        let result = f(self, &objects, &records);
        self.store = objects;
        self.node_net = records.node_net;
        self.node_runtime = records.node_runtime;
        result
    }

    /// Whether the per-node records are empty: a cluster loaded without them (a read-only
    /// `get`) must still have none when it is saved.
    pub fn node_records_empty(&self) -> bool {
        self.node_net.is_empty() && self.node_runtime.is_empty()
    }

    /// Adds the saved per-node records (see [`Sim::with_parts_apart`]).
    pub fn load_node_records(&mut self, text: &[u8]) -> Result<(), serde_json::Error> {
        let records: NodeRecords = serde_json::from_slice(text)?;
        self.node_net = records.node_net;
        self.node_runtime = records.node_runtime;
        Ok(())
    }

    /// Adds one object of a saved segment of `kind` from its JSON text (see
    /// [`Store::load_object`]).
    pub fn load_object(&mut self, kind: Kind, text: &[u8]) -> Result<(), serde_json::Error> {
        self.store.load_object(kind, text)
    }

    /// Finishes loading: Events older than the TTL go now, so that a command never shows
    /// one that a command which did not load Events let outlive its hour.
    pub fn loaded(&mut self) {
        self.expire_events();
    }

    /// Virtual now.
    pub fn now(&self) -> Timestamp {
        Timestamp::from_millisecond(self.now_ms).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    /// Whether the control plane is stopped (`snapshot restore --paused`).
    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// Stops the scheduler and controller-manager.
    pub fn pause(&mut self) {
        self.paused = true;
    }

    /// Starts the control plane again and lets it catch up at the current instant.
    pub fn resume(&mut self) {
        self.paused = false;
        self.mark_all_dirty();
        // The pod GC's periodic pass, for Nodes deleted while the control plane was stopped.
        self.pod_gc_node_deleted();
        self.settle();
    }

    /// Makes every controller look at every object once (after a restore or a resume).
    pub fn mark_all_dirty(&mut self) {
        let keys: Vec<ObjectKey> = self.store.iter().map(Object::key).collect();
        self.dirty.extend(keys.into_iter().map(|k| (k, None)));
    }

    /// The `KubeProxyConfiguration` in force, if one was given.
    pub fn kube_proxy_config(&self) -> Option<&serde_json::Value> {
        self.kube_proxy_config.as_ref()
    }

    /// Sets the `KubeProxyConfiguration`.
    pub fn set_kube_proxy_config(&mut self, value: serde_json::Value) {
        self.kube_proxy_config = Some(value);
    }

    /// The instant of the next pending event, if any.
    pub fn next_event_at(&self) -> Option<Timestamp> {
        self.queue
            .next_at()
            .and_then(|ms| Timestamp::from_millisecond(ms).ok())
    }

    /// Starts keeping the keys of the objects that change, for [`Sim::take_changes`] (a watch).
    pub fn watch_changes(&mut self) {
        self.changes.get_or_insert_with(Vec::new).clear();
    }

    /// Keys of objects created, changed or removed since the last call (or since
    /// [`Sim::watch_changes`]), in order, deduplicated. Empty when nothing watches.
    pub fn take_changes(&mut self) -> Vec<ObjectKey> {
        let mut seen = BTreeSet::new();
        let changes = self
            .changes
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default();
        changes
            .into_iter()
            .filter(|k| seen.insert(k.clone()))
            .collect()
    }

    /// Records that `key` changed, if something watches.
    fn changed(&mut self, key: &ObjectKey) {
        if let Some(changes) = &mut self.changes {
            changes.push(key.clone());
        }
    }

    /// Moves the clock forward by `by` (negative durations are ignored), running every event
    /// due on the way.
    pub fn advance(&mut self, by: SignedDuration) {
        self.advance_watched(by, &mut |_| {});
    }

    /// [`Sim::advance`], telling `watch` how far the clock has got after each instant at which
    /// something happened (a front end's progress display; it must not touch the cluster).
    pub fn advance_watched(&mut self, by: SignedDuration, watch: &mut dyn FnMut(Advanced)) {
        let target = self.now_ms.saturating_add(by.as_millis().max(0) as i64);
        self.advance_to_ms(target, watch);
    }

    /// Moves the clock to `to` (never backwards), running every event due on the way.
    pub fn advance_to(&mut self, to: Timestamp) {
        self.advance_to_ms(to.as_millisecond(), &mut |_| {});
    }

    fn advance_to_ms(&mut self, target: i64, watch: &mut dyn FnMut(Advanced)) {
        // An instant past the calendar's end could not be printed: the clock stops short of it.
        let target = target.min(Timestamp::MAX.as_millisecond() - crate::time::MAX_DURATION_MS);
        let from = self.now_ms;
        self.settle();
        while let Some(at) = self.queue.next_at() {
            if at > target {
                break;
            }
            self.now_ms = self.now_ms.max(at);
            while let Some((_, event)) = self.queue.pop_due(self.now_ms) {
                self.handle(event);
            }
            self.settle();
            watch(Advanced {
                done_ms: self.now_ms - from,
                total_ms: target - from,
            });
        }
        self.now_ms = self.now_ms.max(target);
        self.expire_events();
    }

    /// Removes Events last seen more than an hour ago, as the API server's `--event-ttl=1h`
    /// does.
    fn expire_events(&mut self) {
        let cutoff = self.now_ms - EVENT_TTL_MS;
        self.read_archived_events_older_than(cutoff);
        let expired: Vec<ObjectKey> = self
            .store
            .list_typed::<CoreEvent>(None)
            .filter(|e| crate::controllers::events::last_seen_ms(e).is_some_and(|ms| ms < cutoff))
            .map(|e| e.key())
            .collect();
        if expired.is_empty() {
            return;
        }
        for key in &expired {
            self.store.remove(key);
        }
        self.event_index = None;
    }

    /// Runs events due now and lets controllers act until nothing changes, without moving the
    /// clock.
    pub fn settle(&mut self) {
        while let Some((_, event)) = self.queue.pop_due(self.now_ms) {
            self.handle(event);
        }
        // Controllers react to what changed; a chain (Deployment → ReplicaSet → Pods →
        // scheduler → kubelet → endpoints) settles in a handful of rounds.
        for _ in 0..64 {
            if self.dirty.is_empty() {
                break;
            }
            let dirty = std::mem::take(&mut self.dirty);
            self.reconcile(dirty);
        }
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::SandboxReady(key) => self.kubelet_sandbox_ready(&key),
            Event::ContainerReady(key, index, pulled_ms) => {
                self.kubelet_container_ready(&key, index, pulled_ms)
            }
            Event::ContainersStarted(key) => self.kubelet_containers_started(&key),
            Event::PodTerminated(key) => self.kubelet_pod_terminated(&key),
            Event::LoadBalancerReady(key) => self.load_balancer_ready(&key),
            Event::CorefileReload => self.coredns_reload(),
            Event::IngressStatusSync => self.ingress_status_sync(),
            Event::PodGc => self.pod_gc(),
            Event::DaemonSetStatus(key) => self.daemonset_status(&key),
        }
    }

    /// One round: works out which controllers care about the changed objects, and runs them on
    /// just those.
    fn reconcile(&mut self, dirty: Vec<(ObjectKey, Option<Object>)>) {
        let mut work = Work::default();
        for (key, prev) in &dirty {
            let current = self.store.get(key);
            let versions = current.into_iter().chain(prev.as_ref());
            match key.kind {
                Kind::Deployment => {
                    work.deployments.insert(key.clone());
                }
                Kind::ReplicaSet => {
                    work.replicasets.insert(key.clone());
                    for o in versions {
                        work.deployments.extend(controller_key(o, Kind::Deployment));
                    }
                }
                Kind::DaemonSet => {
                    work.daemonsets.insert(key.clone());
                }
                Kind::Pod => {
                    work.pods.insert(key.clone());
                    // The ReplicaSet controller decides on a pod's existence, controller,
                    // activity and readiness; an update that keeps them (a node assigned, a
                    // container started, an address given) would leave the ReplicaSet as it
                    // is, so it is not worth reconciling it for.
                    let for_replicaset = match (prev, current) {
                        (Some(Object::Pod(old)), Some(Object::Pod(new))) => {
                            crate::controllers::replicaset_facts_changed(old, new)
                        }
                        _ => true,
                    };
                    for o in versions {
                        if let Object::Pod(p) = o
                            && p.spec.as_ref().is_some_and(|s| {
                                s.containers.iter().any(|c| {
                                    c.image
                                        .as_deref()
                                        .is_some_and(crate::ingress::is_controller_image)
                                })
                            })
                        {
                            work.ingress_nginx = true;
                        }
                        if for_replicaset {
                            work.replicasets.extend(controller_key(o, Kind::ReplicaSet));
                        }
                        // A DaemonSet places pods again only when one came or went; a pod
                        // that changed in place (its phase, its readiness) changes only the
                        // status.
                        let ds = controller_key(o, Kind::DaemonSet);
                        if current.is_some() && prev.is_some() {
                            work.daemonset_statuses.extend(ds);
                        } else {
                            work.daemonsets.extend(ds);
                        }
                    }
                    self.services_of_pod_change(key, prev.as_ref(), current, &mut work.services);
                }
                Kind::Service => {
                    work.services.insert(key.clone());
                    work.ingress_nginx = true;
                    if let (Some(Object::Service(cur)), Some(Object::Service(old))) =
                        (current, prev)
                    {
                        work.service_updates
                            .push((old.as_ref().clone(), cur.as_ref().clone()));
                    }
                }
                Kind::Endpoints => {
                    // The endpoints controller watches Endpoints only for deletions (it makes
                    // them again); the mirroring controller, every change of a selector-less
                    // Service's. The controller's own writes to a selector's Endpoints are
                    // not worth a second sync.
                    let service = ObjectKey::new(Kind::Service, &key.namespace, &key.name);
                    let selector = self
                        .store
                        .typed_at::<Service>(&service)
                        .and_then(|s| s.spec.as_ref()?.selector.as_ref())
                        .is_some_and(|s| !s.is_empty());
                    if current.is_none() || !selector {
                        work.services.insert(service);
                    }
                }
                Kind::Node => {
                    work.nodes_changed = true;
                    work.nodes_placement_changed |= placement_changed(prev.as_ref(), current);
                    if current.is_none() {
                        // The EndpointSlice controller drops the pods of a Node that is gone
                        // at once; the pod GC deletes them after its quarantine.
                        for pod in self.store.pods_on_node(&key.name) {
                            let labels = pod.metadata.labels.as_ref();
                            let ns = pod.metadata.namespace.as_deref().unwrap_or_default();
                            for svc in self.store.services_selecting(ns, labels) {
                                work.services.insert(svc.key());
                            }
                        }
                        self.pod_gc_node_deleted();
                    }
                }
                Kind::Ingress if current.is_some() => {
                    // A change of status alone is the controller's own write: it still gets
                    // a Sync event (the object changed), as a real controller's informer sees.
                    work.ingresses.push(key.clone());
                }
                Kind::ConfigMap if key.namespace == "kube-system" && key.name == "coredns" => {
                    let text = |o: Option<&Object>| match o {
                        Some(Object::ConfigMap(cm)) => {
                            cm.data.as_ref().and_then(|d| d.get("Corefile").cloned())
                        }
                        _ => None,
                    };
                    if let (Some(old), Some(new)) = (text(prev.as_ref()), text(current))
                        && old != new
                    {
                        self.corefile_edited(old);
                    }
                }
                _ => {}
            }
        }
        if !self.paused {
            self.schedule_pods(&work.pods, work.nodes_changed);
            for key in &work.deployments {
                self.reconcile_deployment_key(key);
            }
            for key in &work.replicasets {
                self.reconcile_replicaset_key(key);
            }
            if work.nodes_placement_changed {
                work.daemonsets
                    .extend(self.store.list(Kind::DaemonSet, None).map(Object::key));
            }
            for key in &work.daemonsets {
                self.reconcile_daemonset_key(key);
            }
            for key in work.daemonset_statuses.difference(&work.daemonsets) {
                self.daemonset_status_due(key);
            }
            for (old, cur) in &work.service_updates {
                self.load_balancer_service_updated(old, cur);
            }
            for key in &work.services {
                self.reconcile_service_endpoints(key);
                self.reconcile_load_balancer(key);
            }
        }
        if !work.ingresses.is_empty() || work.ingress_nginx {
            self.ingress_nginx_changed(&work.ingresses);
        }
        self.kubelet_admit_pods(&work.pods);
    }

    /// Schedules `event` `after` from now.
    pub(crate) fn schedule(&mut self, after: SignedDuration, event: Event) {
        self.queue
            .push(self.now_ms + after.as_millis() as i64, event);
    }

    /// Stores `object` (new resource version) and records the change.
    pub(crate) fn put(&mut self, object: Object) {
        if object.kind() == Kind::Event {
            // It may replace an archived one.
            self.read_archived_events();
        }
        self.write(object);
    }

    /// [`Sim::put`] of an Event the recorder made or counted up, without reading the archived
    /// Events: the recorder reads them itself when a report may repeat one of them.
    pub(crate) fn put_recorded_event(&mut self, object: Object) {
        self.write(object);
    }

    /// Stores `object` and records the change (what [`Sim::put`] does once the archived
    /// Events are out of the way).
    fn write(&mut self, object: Object) {
        let key = object.key();
        self.node_written(&key);
        self.changed(&key);
        let prev = self.store.put(object);
        // No controller watches Events (the most written kind): they need no reconcile round.
        if key.kind != Kind::Event {
            self.dirty.push((key, prev));
        }
    }

    /// Stores `object` only if it differs from what is stored; returns whether it did.
    pub(crate) fn put_if_changed(&mut self, mut object: Object) -> bool {
        let stored = self
            .store
            .get_named(object.kind(), object.namespace(), object.name());
        if let Some(old) = stored {
            // Compared with the stored version's resourceVersion in place (no copy of the
            // object: controllers call this for every object they reconcile).
            let mine = std::mem::replace(
                &mut object.metadata_mut().resource_version,
                old.metadata().resource_version.clone(),
            );
            if &object == old {
                return false;
            }
            object.metadata_mut().resource_version = mine;
        }
        self.put(object);
        true
    }

    /// Drops what is derived from the Nodes when `key` is one.
    fn node_written(&mut self, key: &ObjectKey) {
        if key.kind == Kind::Node {
            self.scheduler_cache = None;
        }
    }

    /// Removes `key` and records the change.
    pub(crate) fn remove(&mut self, key: &ObjectKey) -> Option<Object> {
        if key.kind == Kind::Event {
            self.read_archived_events();
        }
        let removed = self.store.remove(key);
        if removed.is_some() {
            self.node_written(key);
            self.changed(key);
            self.queue.cancel(key);
            self.dirty.push((key.clone(), removed.clone()));
            if let Some(Object::Pod(pod)) = &removed {
                self.cni_del(pod);
            }
        }
        removed
    }

    /// Stores `object` exactly as given (snapshot restore).
    pub fn restore_object(&mut self, object: Object) {
        let key = object.key();
        if key.kind == Kind::Event {
            self.read_archived_events();
        }
        self.node_written(&key);
        self.changed(&key);
        self.store.put_verbatim(object);
        self.dirty.push((key, None));
    }

    /// Moves the clock to `to` without running anything (restoring a snapshot's instant).
    pub fn set_clock(&mut self, to: Timestamp) {
        self.now_ms = to.as_millisecond();
    }

    /// The shared RNG (for clients that generate names, as kubectl's `generateName` does).
    pub fn rng(&mut self) -> &mut crate::rng::SimRng {
        &mut self.rng
    }

    /// API timestamp of now.
    pub(crate) fn now_time(
        &self,
    ) -> netsim_model::k8s_openapi::apimachinery::pkg::apis::meta::v1::Time {
        crate::time::api_time(self.now())
    }
}

/// What one reconcile round has to look at.
#[derive(Default)]
struct Work {
    pods: BTreeSet<ObjectKey>,
    deployments: BTreeSet<ObjectKey>,
    replicasets: BTreeSet<ObjectKey>,
    daemonsets: BTreeSet<ObjectKey>,
    /// DaemonSets only some of whose pods changed in place: their status is due.
    daemonset_statuses: BTreeSet<ObjectKey>,
    /// A Node appeared, went, or changed what DaemonSets place pods by.
    nodes_placement_changed: bool,
    services: BTreeSet<ObjectKey>,
    /// Services changed in place: (before, after), for the service controller's events.
    service_updates: Vec<(Service, Service)>,
    /// Ingresses created or changed.
    ingresses: Vec<ObjectKey>,
    /// Something ingress-nginx's status sync reads changed (its pods, a LoadBalancer Service).
    ingress_nginx: bool,
    nodes_changed: bool,
}

/// Whether a Node change can change where DaemonSets place pods: the Node came or went, or
/// its labels, taints or schedulability changed (its status, heartbeats and addresses cannot).
fn placement_changed(prev: Option<&Object>, current: Option<&Object>) -> bool {
    match (prev, current) {
        (Some(Object::Node(a)), Some(Object::Node(b))) => {
            a.metadata.labels != b.metadata.labels || a.spec != b.spec
        }
        _ => true,
    }
}

/// The key of `object`'s controller of kind `kind` (same namespace), if it has one.
fn controller_key(object: &Object, kind: Kind) -> Option<ObjectKey> {
    crate::controllers::controller_of(object, kind)
        .map(|r| ObjectKey::new(kind, object.namespace(), &r.name))
}
