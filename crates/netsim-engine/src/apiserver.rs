//! The API server's write path: create, replace and delete, with what the real one does on the
//! way — generated names, UIDs, timestamps, generation, defaulting and validation (through the
//! manifest crate), ClusterIP and NodePort allocation, status reset, graceful pod deletion and
//! garbage collection of dependents.
//!
//! This module owns admission and allocation; controllers must write through `Sim::put` and
//! never allocate addresses themselves.

use crate::error::ApiError;
use crate::queue::Event;
use crate::rng::SimRng;
use crate::sim::{Sim, WriteOptions};
use ipnet::Ipv4Net;
use netsim_model::cluster::nth_address;
use netsim_model::jiff::SignedDuration;
use netsim_model::k8s_openapi::api::core::v1::{Pod, PodStatus, Service, ServiceStatus};
use netsim_model::store::Store;
use netsim_model::{ApiObject, Kind, Object, ObjectKey};
use std::collections::BTreeSet;
use std::net::Ipv4Addr;

/// The NodePort range every kubeadm cluster uses.
pub const NODE_PORT_RANGE: (u16, u16) = (30000, 32767);

impl Sim {
    /// Reads the archived Events before a request about an Event looks at what is stored,
    /// and before a Namespace's deletion (which removes its Events).
    fn read_archived_events_for(&mut self, kind: Kind, deleting: bool) {
        if kind == Kind::Event || (deleting && kind == Kind::Namespace) {
            self.read_archived_events();
        }
    }

    /// `POST`: creates `object`, returning it as stored (or as it would be, for a dry run).
    pub fn create(&mut self, mut object: Object, opts: WriteOptions) -> Result<Object, ApiError> {
        let kind = object.kind();
        self.read_archived_events_for(kind, false);
        self.prepare_identity(&mut object)?;
        let key = object.key();
        if self.store.contains(&key) {
            return Err(ApiError::AlreadyExists {
                kind,
                name: key.name,
            });
        }
        admit(&mut object)?;
        if let Object::Service(svc) = &mut object {
            self.allocate_service(svc, None, opts.dry_run)?;
            svc.status = Some(ServiceStatus {
                load_balancer: Some(Default::default()),
                ..Default::default()
            });
        }
        if let Object::Pod(pod) = &mut object {
            pod.status = Some(PodStatus {
                phase: Some("Pending".into()),
                qos_class: Some(qos_class(pod)),
                ..Default::default()
            });
        }
        let now = self.now_time();
        let meta = object.metadata_mut();
        meta.creation_timestamp = Some(now);
        meta.uid = Some(if opts.dry_run {
            String::new()
        } else {
            self.rng.uuid()
        });
        if matches!(
            kind,
            Kind::Deployment | Kind::ReplicaSet | Kind::DaemonSet | Kind::Ingress
        ) {
            object.metadata_mut().generation = Some(1);
        }
        if opts.dry_run {
            object.metadata_mut().uid = None;
            return Ok(object);
        }
        self.put(object);
        self.settle();
        self.store.get(&key).cloned().ok_or(ApiError::NotFound {
            kind,
            name: key.name,
        })
    }

    /// `PUT`: replaces the stored object with `object`, keeping what the server owns (UID,
    /// creation time, status, allocated addresses). Returns the stored object and whether
    /// anything changed.
    pub fn replace(
        &mut self,
        mut object: Object,
        opts: WriteOptions,
    ) -> Result<(Object, bool), ApiError> {
        let kind = object.kind();
        self.read_archived_events_for(kind, false);
        if kind.info().namespaced && object.metadata().namespace.is_none() {
            object.metadata_mut().namespace = Some("default".into());
        }
        let key = object.key();
        let old = self
            .store
            .get(&key)
            .cloned()
            .ok_or_else(|| ApiError::NotFound {
                kind,
                name: key.name.clone(),
            })?;
        admit(&mut object)?;
        {
            let (om, nm) = (old.metadata(), object.metadata_mut());
            nm.uid = om.uid.clone();
            nm.creation_timestamp = om.creation_timestamp.clone();
            nm.deletion_timestamp = om.deletion_timestamp.clone();
            nm.deletion_grace_period_seconds = om.deletion_grace_period_seconds;
            nm.owner_references = nm
                .owner_references
                .take()
                .or_else(|| om.owner_references.clone());
            nm.generation = om.generation;
            nm.resource_version = om.resource_version.clone();
        }
        keep_status(&old, &mut object);
        if let (Object::Service(old_svc), Object::Service(svc)) = (&old, &mut object) {
            self.allocate_service(svc, Some(old_svc), opts.dry_run)?;
        }
        if spec_json(&old) != spec_json(&object)
            && let Some(g) = object.metadata().generation
        {
            object.metadata_mut().generation = Some(g + 1);
        }
        let changed = old != object;
        if opts.dry_run || !changed {
            return Ok((if changed { object } else { old }, changed));
        }
        self.put(object);
        self.settle();
        let stored = self.store.get(&key).cloned().ok_or(ApiError::NotFound {
            kind,
            name: key.name,
        })?;
        Ok((stored, true))
    }

    /// `DELETE`: removes the object. Pods terminate gracefully (they show `Terminating` until
    /// their containers exit); everything the object owns is garbage-collected.
    /// `grace` overrides a pod's `terminationGracePeriodSeconds` (`--grace-period`; 0 removes
    /// at once, as `--force` does).
    pub fn delete(
        &mut self,
        key: &ObjectKey,
        opts: WriteOptions,
        grace: Option<i64>,
    ) -> Result<Object, ApiError> {
        self.read_archived_events_for(key.kind, true);
        let object = self
            .store
            .get(key)
            .cloned()
            .ok_or_else(|| ApiError::NotFound {
                kind: key.kind,
                name: key.name.clone(),
            })?;
        if opts.dry_run {
            return Ok(object);
        }
        self.delete_cascading(key, grace);
        if key.kind == Kind::Service {
            // The endpoints controller removes a deleted Service's Endpoints.
            self.remove(&ObjectKey::new(Kind::Endpoints, &key.namespace, &key.name));
        }
        self.settle();
        Ok(object)
    }

    /// Deletes `key` and, in the background, its dependents. `grace` overrides a pod's
    /// `terminationGracePeriodSeconds`.
    pub(crate) fn delete_cascading(&mut self, key: &ObjectKey, grace: Option<i64>) {
        self.read_archived_events_for(key.kind, true);
        let Some(object) = self.store.get(key).cloned() else {
            return;
        };
        if let Object::Pod(pod) = &object {
            self.terminate_pod(pod, grace);
        } else {
            self.remove(key);
        }
        if key.kind == Kind::Namespace {
            let inside: Vec<ObjectKey> = self
                .store
                .iter()
                .filter(|o| o.kind().info().namespaced && o.namespace() == key.name)
                .map(Object::key)
                .collect();
            for k in inside {
                self.delete_cascading(&k, Some(0));
            }
        }
        if let Some(uid) = object.metadata().uid.clone() {
            let dependents: Vec<ObjectKey> = self.store.owned_by(&uid).map(Object::key).collect();
            for k in dependents {
                self.delete_cascading(&k, None);
            }
        }
    }

    /// Marks a pod terminating; the kubelet removes it when its containers have exited.
    fn terminate_pod(&mut self, pod: &Pod, grace: Option<i64>) {
        let key = pod.key();
        if pod.metadata.deletion_timestamp.is_some() {
            return;
        }
        let spec = pod.spec.as_ref();
        let grace = grace.unwrap_or_else(|| {
            spec.and_then(|s| s.termination_grace_period_seconds)
                .unwrap_or(30)
        });
        let running = pod.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running");
        if grace == 0 || !running {
            self.remove(&key);
            return;
        }
        // A process that handles SIGTERM exits at once; `sleep` as PID 1 ignores it, so the
        // kubelet waits the whole grace period before SIGKILL — why `kubectl delete pod
        // busybox` takes 30 seconds.
        let ignores_term = spec
            .map(|s| {
                s.containers.iter().any(|c| {
                    c.command
                        .as_ref()
                        .and_then(|c| c.first())
                        .is_some_and(|c| c == "sleep")
                })
            })
            .unwrap_or(false);
        let exit_after = if ignores_term { grace } else { 1.min(grace) };
        let mut pod = pod.clone();
        pod.metadata.deletion_timestamp = Some(crate::time::api_time(
            self.now() + SignedDuration::from_secs(grace),
        ));
        pod.metadata.deletion_grace_period_seconds = Some(grace);
        let node = spec.and_then(|s| s.node_name.clone());
        let containers: Vec<String> = spec
            .map(|s| s.containers.iter().map(|c| c.name.clone()).collect())
            .unwrap_or_default();
        self.put(pod.into());
        // The kubelet sends SIGTERM to each container.
        for c in containers {
            self.record_event(
                &key,
                "Normal",
                "Killing",
                &format!("Stopping container {c}"),
                "kubelet",
                node.as_deref(),
            );
        }
        self.schedule(
            SignedDuration::from_secs(exit_after),
            Event::PodTerminated(key),
        );
    }

    /// Namespace defaulting, `generateName`, name presence and namespace existence.
    fn prepare_identity(&mut self, object: &mut Object) -> Result<(), ApiError> {
        let kind = object.kind();
        let meta = object.metadata_mut();
        if kind.info().namespaced {
            if meta.namespace.as_deref().unwrap_or("").is_empty() {
                meta.namespace = Some("default".into());
            }
        } else {
            meta.namespace = None;
        }
        if meta.name.as_deref().unwrap_or("").is_empty()
            && let Some(prefix) = meta.generate_name.clone()
        {
            meta.name = Some(format!("{prefix}{}", self.rng.kube_suffix(5)));
        }
        if object.name().is_empty() {
            return Err(ApiError::Invalid {
                kind,
                name: String::new(),
                causes: vec![
                    "metadata.name: Required value: name or generateName is required".into(),
                ],
            });
        }
        let ns = object.namespace().to_string();
        if kind.info().namespaced
            && !self
                .store
                .contains(&ObjectKey::new(Kind::Namespace, "", &ns))
        {
            return Err(ApiError::NotFound {
                kind: Kind::Namespace,
                name: ns,
            });
        }
        Ok(())
    }

    /// Allocates (or keeps, on update) a Service's ClusterIP, NodePorts and health-check
    /// NodePort, with the allocators' messages.
    fn allocate_service(
        &mut self,
        svc: &mut Service,
        old: Option<&Service>,
        dry_run: bool,
    ) -> Result<(), ApiError> {
        let name = svc.metadata.name.clone().unwrap_or_default();
        let me = svc.key();
        let invalid = |cause: String| ApiError::Invalid {
            kind: Kind::Service,
            name: name.clone(),
            causes: vec![cause],
        };
        let Some(spec) = svc.spec.as_mut() else {
            return Ok(());
        };
        let svc_type = spec.type_.clone().unwrap_or_else(|| "ClusterIP".into());
        let old_spec = old.and_then(|o| o.spec.as_ref());

        // ClusterIP: immutable once set; an update that omits it keeps the old one.
        if svc_type != "ExternalName" {
            let requested = spec
                .cluster_ip
                .clone()
                .filter(|s| !s.is_empty())
                .or_else(|| spec.cluster_ips.as_ref().and_then(|v| v.first().cloned()));
            let kept = old_spec.and_then(|o| o.cluster_ip.clone());
            let ip = match (requested, kept) {
                (None, Some(k)) => k,
                (Some(r), Some(k)) if r == k => k,
                (Some(r), Some(_)) => {
                    return Err(ApiError::Invalid {
                        kind: Kind::Service,
                        name: name.clone(),
                        causes: vec![
                            format!(
                                "spec.clusterIPs[0]: Invalid value: []string{{\"{r}\"}}: may not change once set"
                            ),
                            format!("spec.clusterIP: Invalid value: \"{r}\": field is immutable"),
                        ],
                    });
                }
                (Some(r), None) if r == "None" => r,
                (Some(r), None) => {
                    let parsed: Ipv4Addr = r.parse().map_err(|_| {
                        invalid(format!(
                            "spec.clusterIPs[0]: Invalid value: \"{r}\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"
                        ))
                    })?;
                    if !self.config.service_cidr.contains(&parsed) {
                        return Err(invalid(format!(
                            "spec.clusterIPs: Invalid value: []string{{\"{r}\"}}: failed to allocate IP {r}: the provided IP ({r}) is not in the valid range. The range of valid IPs is {}",
                            self.config.service_cidr
                        )));
                    }
                    if cluster_ip_held(&self.store, parsed, &me) {
                        return Err(invalid(format!(
                            "spec.clusterIPs: Invalid value: []string{{\"{r}\"}}: failed to allocate IP {r}: provided IP is already allocated"
                        )));
                    }
                    r
                }
                (None, None) => {
                    let store = &self.store;
                    random_cluster_ip(&mut self.rng, self.config.service_cidr, |ip| {
                        cluster_ip_held(store, ip, &me)
                    })
                    .to_string()
                }
            };
            spec.cluster_ip = Some(ip.clone());
            spec.cluster_ips = Some(vec![ip]);
        }

        // NodePorts.
        let wants_node_ports = svc_type == "NodePort"
            || (svc_type == "LoadBalancer"
                && spec.allocate_load_balancer_node_ports != Some(false));
        // Ports this request has chosen so far; other Services' come from the store's index.
        let mut chosen_here: BTreeSet<u16> = BTreeSet::new();
        let store = &self.store;
        let taken = |p: u16, chosen_here: &BTreeSet<u16>| {
            chosen_here.contains(&p) || node_port_held(store, p, &me)
        };
        for (i, port) in spec.ports.iter_mut().flatten().enumerate() {
            if !wants_node_ports {
                if svc_type != "LoadBalancer" {
                    port.node_port = None;
                }
                continue;
            }
            let requested = port.node_port.filter(|p| *p != 0);
            let kept = old_spec
                .and_then(|o| o.ports.as_ref())
                .and_then(|ps| {
                    ps.iter()
                        .find(|p| p.port == port.port && p.protocol == port.protocol)
                })
                .and_then(|p| p.node_port);
            let chosen = match (requested, kept) {
                (None, Some(k)) => k,
                (Some(r), Some(k)) if r == k => k,
                (Some(r), _) => {
                    let in_range =
                        (i32::from(NODE_PORT_RANGE.0)..=i32::from(NODE_PORT_RANGE.1)).contains(&r);
                    if !in_range {
                        return Err(invalid(format!(
                            "spec.ports[{i}].nodePort: Invalid value: {r}: provided port is not in the valid range. The range of valid ports is {}-{}",
                            NODE_PORT_RANGE.0, NODE_PORT_RANGE.1
                        )));
                    }
                    if taken(r as u16, &chosen_here) {
                        return Err(invalid(format!(
                            "spec.ports[{i}].nodePort: Invalid value: {r}: provided port is already allocated"
                        )));
                    }
                    r
                }
                (None, None) => {
                    i32::from(random_node_port(&mut self.rng, |p| taken(p, &chosen_here)))
                }
            };
            chosen_here.insert(chosen as u16);
            port.node_port = Some(chosen);
        }

        // Health-check NodePort: LoadBalancer with externalTrafficPolicy Local.
        let needs_hc =
            svc_type == "LoadBalancer" && spec.external_traffic_policy.as_deref() == Some("Local");
        if needs_hc {
            let kept = old_spec
                .and_then(|o| o.health_check_node_port)
                .filter(|p| *p != 0);
            let hc = match (spec.health_check_node_port.filter(|p| *p != 0), kept) {
                (Some(r), _) => r,
                (None, Some(k)) => k,
                (None, None) => {
                    i32::from(random_node_port(&mut self.rng, |p| taken(p, &chosen_here)))
                }
            };
            spec.health_check_node_port = Some(hc);
        } else {
            spec.health_check_node_port = None;
        }
        let _ = dry_run;
        Ok(())
    }
}

/// Whether a Service other than `except` holds ClusterIP `ip`.
fn cluster_ip_held(store: &Store, ip: Ipv4Addr, except: &ObjectKey) -> bool {
    store
        .services_with_cluster_ip(ip)
        .any(|s| &s.key() != except)
}

/// Whether a Service other than `except` holds NodePort (or health-check NodePort) `port`.
fn node_port_held(store: &Store, port: u16, except: &ObjectKey) -> bool {
    store
        .services_with_node_port(port)
        .any(|s| &s.key() != except)
}

/// A random free ClusterIP above the static band, as the v1.28 allocator picks dynamic
/// addresses (the low band, `min(max(16, size/16), 256)` addresses, is kept for user-chosen
/// IPs such as `kube-dns`'s `.10`).
fn random_cluster_ip(rng: &mut SimRng, net: Ipv4Net, used: impl Fn(Ipv4Addr) -> bool) -> Ipv4Addr {
    let size: u64 = 1u64 << (32 - u32::from(net.prefix_len()));
    let static_band = (size / 16).clamp(16, 256);
    let (lo, hi) = (static_band, size.saturating_sub(2).max(static_band));
    for _ in 0..1000 {
        let ip = nth_address(net, rng.range(lo, hi) as u32);
        if !used(ip) {
            return ip;
        }
    }
    (1..size.saturating_sub(1))
        .map(|n| nth_address(net, n as u32))
        .find(|ip| !used(*ip))
        .unwrap_or_else(|| nth_address(net, 1))
}

/// A random free NodePort, preferring the upper band (30086-32767) as dynamic allocation does;
/// the lower 86 ports are kept for user-chosen ports such as the lesson's 30080.
fn random_node_port(rng: &mut SimRng, taken: impl Fn(u16) -> bool) -> u16 {
    let (lo, hi) = NODE_PORT_RANGE;
    let static_band: u16 = ((hi - lo + 1) / 32).clamp(16, 128);
    for _ in 0..1000 {
        let p = rng.range(u64::from(lo + static_band), u64::from(hi)) as u16;
        if !taken(p) {
            return p;
        }
    }
    (lo..=hi).find(|p| !taken(*p)).unwrap_or(hi)
}

/// Defaulting and validation, as the API server does before storing.
fn admit(object: &mut Object) -> Result<(), ApiError> {
    netsim_manifest::defaults::apply_defaults(object);
    netsim_manifest::validation::validate(object).map_err(|e| ApiError::Invalid {
        kind: object.kind(),
        name: object.name().to_string(),
        causes: e
            .causes
            .iter()
            .map(|c| format!("{}: {}", c.field, c.message))
            .collect(),
    })
}

/// On a spec update the server keeps the status it has (status is written by controllers).
fn keep_status(old: &Object, new: &mut Object) {
    match (old, new) {
        (Object::Pod(o), Object::Pod(n)) => n.status = o.status.clone(),
        (Object::Service(o), Object::Service(n)) => n.status = o.status.clone(),
        (Object::Deployment(o), Object::Deployment(n)) => n.status = o.status.clone(),
        (Object::ReplicaSet(o), Object::ReplicaSet(n)) => n.status = o.status.clone(),
        (Object::DaemonSet(o), Object::DaemonSet(n)) => n.status = o.status.clone(),
        (Object::Ingress(o), Object::Ingress(n)) => n.status = o.status.clone(),
        (Object::Node(o), Object::Node(n)) => n.status = o.status.clone(),
        _ => {}
    }
}

fn spec_json(object: &Object) -> serde_json::Value {
    object.to_json().get("spec").cloned().unwrap_or_default()
}

/// `BestEffort`, `Burstable` or `Guaranteed`, from the containers' requests and limits.
fn qos_class(pod: &Pod) -> String {
    let containers = pod
        .spec
        .as_ref()
        .map(|s| s.containers.as_slice())
        .unwrap_or(&[]);
    let mut any = false;
    let mut all_guaranteed = !containers.is_empty();
    for c in containers {
        let r = c.resources.as_ref();
        let req = r.and_then(|r| r.requests.as_ref());
        let lim = r.and_then(|r| r.limits.as_ref());
        if req.is_some_and(|m| !m.is_empty()) || lim.is_some_and(|m| !m.is_empty()) {
            any = true;
        }
        let guaranteed = ["cpu", "memory"].iter().all(|res| {
            let l = lim.and_then(|m| m.get(*res));
            let q = req.and_then(|m| m.get(*res)).or(l);
            l.is_some() && q == l
        });
        all_guaranteed &= guaranteed;
    }
    if !any {
        "BestEffort".into()
    } else if all_guaranteed {
        "Guaranteed".into()
    } else {
        "Burstable".into()
    }
}
