//! The load-balancer providers. The cloud one (the service controller of a cloud controller
//! manager): after a provisioning delay, a LoadBalancer Service gets the next free address of
//! the cluster's pool in `status.loadBalancer.ingress`, with its events. MetalLB in layer-2
//! mode: its controller assigns the next free address at once (`IPAllocated`), and its speakers
//! elect the node that answers ARP for it (`nodeAssigned`), again whenever the endpoints move.
//! Without a pool, addresses stay `<pending>`, as on a bare-metal kubeadm cluster. Neither sets
//! `ipMode`: that field came with the LoadBalancerIPMode gate, off in 1.28.

use crate::queue::Event;
use crate::sim::Sim;
use netsim_model::cluster::nth_address;
use netsim_model::jiff::SignedDuration;
use netsim_model::k8s_openapi::api::core::v1::Node;
use netsim_model::k8s_openapi::api::core::v1::{
    LoadBalancerIngress, LoadBalancerStatus, Service, ServiceStatus,
};
use netsim_model::{ApiObject, LoadBalancerProvider, Object, ObjectKey};
use std::collections::BTreeSet;

fn is_lb(svc: &Service) -> bool {
    svc.spec.as_ref().and_then(|s| s.type_.as_deref()) == Some("LoadBalancer")
}

fn ingress_ips(svc: &Service) -> Vec<String> {
    svc.status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|l| l.ingress.as_ref())
        .map(|i| i.iter().filter_map(|x| x.ip.clone()).collect())
        .unwrap_or_default()
}

impl Sim {
    /// Starts or tears down the load balancer of Service `key`.
    pub(crate) fn reconcile_load_balancer(&mut self, key: &ObjectKey) {
        let Some(pool) = self.config.load_balancer_pool.clone() else {
            return;
        };
        let Some(svc) = self.store.typed_at::<Service>(key).cloned() else {
            return;
        };
        let key = key.clone();
        let has_ip = !ingress_ips(&svc).is_empty();
        let metallb = pool.provider == LoadBalancerProvider::MetalLbL2;
        if metallb && is_lb(&svc) && has_ip {
            self.metallb_announce(&key);
        }
        if is_lb(&svc) && !has_ip && !self.lb_pending.contains(&key) {
            self.lb_pending.insert(key.clone());
            // MetalLB's controller assigns as soon as it sees the Service.
            let delay = if metallb {
                1
            } else {
                pool.delay_seconds as i64
            };
            self.schedule(
                SignedDuration::from_secs(delay),
                Event::LoadBalancerReady(key.clone()),
            );
            if metallb {
                return;
            }
            self.record_event(
                &key,
                "Normal",
                "EnsuringLoadBalancer",
                "Ensuring load balancer",
                "service-controller",
                None,
            );
        } else if !is_lb(&svc) && has_ip {
            let mut next = svc.clone();
            next.status = Some(ServiceStatus {
                load_balancer: Some(LoadBalancerStatus::default()),
                ..Default::default()
            });
            self.put(Object::Service(Box::new(next)));
            self.record_event(
                &key,
                "Normal",
                "DeletedLoadBalancer",
                "Deleted load balancer",
                "service-controller",
                None,
            );
        }
    }

    /// The cloud service controller's events when a LoadBalancer Service's type, external
    /// traffic policy or health-check NodePort changes (`needsUpdate`).
    pub(crate) fn load_balancer_service_updated(&mut self, old: &Service, cur: &Service) {
        let cloud = self
            .config
            .load_balancer_pool
            .as_ref()
            .is_some_and(|p| p.provider == LoadBalancerProvider::Cloud);
        if !cloud || !is_lb(cur) {
            return;
        }
        let (os, cs) = (
            old.spec.clone().unwrap_or_default(),
            cur.spec.clone().unwrap_or_default(),
        );
        let mut changes = Vec::new();
        let old_type = os.type_.clone().unwrap_or_else(|| "ClusterIP".into());
        let cur_type = cs.type_.clone().unwrap_or_else(|| "ClusterIP".into());
        if old_type != cur_type {
            changes.push(("Type", format!("{old_type} -> {cur_type}")));
        }
        let old_etp = os.external_traffic_policy.clone().unwrap_or_default();
        let cur_etp = cs.external_traffic_policy.clone().unwrap_or_default();
        if old_etp != cur_etp && !old_etp.is_empty() {
            changes.push(("ExternalTrafficPolicy", format!("{old_etp} -> {cur_etp}")));
        }
        let (old_hc, cur_hc) = (
            os.health_check_node_port.unwrap_or(0),
            cs.health_check_node_port.unwrap_or(0),
        );
        if old_hc != cur_hc {
            changes.push(("HealthCheckNodePort", format!("{old_hc} -> {cur_hc}")));
        }
        let key = cur.key();
        for (reason, message) in changes {
            self.record_event(&key, "Normal", reason, &message, "service-controller", None);
        }
    }

    pub(crate) fn load_balancer_ready(&mut self, key: &ObjectKey) {
        self.lb_pending.remove(key);
        let Some(pool) = self.config.load_balancer_pool.clone() else {
            return;
        };
        let Some(svc) = self.store.typed_at::<Service>(key).cloned() else {
            return;
        };
        if !is_lb(&svc) || !ingress_ips(&svc).is_empty() {
            return;
        }
        let size: u64 = 1u64 << (32 - u32::from(pool.cidr.prefix_len()));
        // A cloud hands out host addresses; MetalLB every address of the range, lowest first
        // (it skips .0 and .255 only with `avoidBuggyIPs`).
        let range = if pool.provider == LoadBalancerProvider::MetalLbL2 {
            0..size
        } else {
            1..size.saturating_sub(1).max(2)
        };
        let Some(ip) = range
            .map(|n| nth_address(pool.cidr, n as u32))
            .find(|ip| self.store.services_with_ingress_ip(*ip).next().is_none())
            .map(|ip| ip.to_string())
        else {
            self.record_event(key, "Warning", "SyncLoadBalancerFailed", "Error syncing load balancer: failed to ensure load balancer: address pool exhausted", "service-controller", None);
            return;
        };
        let mut next = svc.clone();
        next.status = Some(ServiceStatus {
            load_balancer: Some(LoadBalancerStatus {
                ingress: Some(vec![LoadBalancerIngress {
                    ip: Some(ip.clone()),
                    ..Default::default()
                }]),
            }),
            ..Default::default()
        });
        self.put(Object::Service(Box::new(next)));
        if pool.provider == LoadBalancerProvider::MetalLbL2 {
            self.record_event(
                key,
                "Normal",
                "IPAllocated",
                &format!("Assigned IP [\"{ip}\"]"),
                "metallb-controller",
                None,
            );
            self.metallb_announce(key);
            return;
        }
        self.record_event(
            key,
            "Normal",
            "EnsuredLoadBalancer",
            "Ensured load balancer",
            "service-controller",
            None,
        );
    }

    /// MetalLB layer 2's election for the first address of Service `key`: the nodes that may
    /// announce it (not excluded from external load balancers; with `externalTrafficPolicy:
    /// Local`, only those with a ready endpoint; none at all while no endpoint is ready),
    /// sorted by sha256 of `node#address`; the first wins. `None`: nobody answers ARP.
    pub fn metallb_announcer(&self, svc: &Service) -> Option<String> {
        use sha2::{Digest, Sha256};
        let ip = ingress_ips(svc).into_iter().next()?;
        let ns = svc.metadata.namespace.clone().unwrap_or_default();
        let name = svc.metadata.name.clone().unwrap_or_default();
        let ready_nodes: BTreeSet<String> = self
            .ready_endpoints(&ns, &name)
            .filter_map(|e| e.node_name.clone())
            .collect();
        if ready_nodes.is_empty() {
            return None;
        }
        let local = svc
            .spec
            .as_ref()
            .and_then(|s| s.external_traffic_policy.as_deref())
            == Some("Local");
        self.store
            .list_typed::<Node>(None)
            .filter(|n| {
                !n.metadata.labels.as_ref().is_some_and(|l| {
                    l.contains_key("node.kubernetes.io/exclude-from-external-load-balancers")
                })
            })
            .filter_map(|n| n.metadata.name.clone())
            .filter(|n| !local || ready_nodes.contains(n))
            .min_by_key(|n| Sha256::digest(format!("{n}#{ip}").as_bytes()).to_vec())
    }

    /// The elected speaker announces; a new winner says so (`nodeAssigned`).
    fn metallb_announce(&mut self, key: &ObjectKey) {
        let Some(svc) = self.store.typed_at::<Service>(key) else {
            return;
        };
        let winner = self.metallb_announcer(svc);
        let id = format!("{}/{}", key.namespace, key.name);
        if self.metallb_announced.get(&id) == winner.as_ref() {
            return;
        }
        match winner {
            Some(node) => {
                self.record_event(
                    key,
                    "Normal",
                    "nodeAssigned",
                    &format!("announcing from node \"{node}\" with protocol \"layer2\""),
                    "metallb-speaker",
                    None,
                );
                self.metallb_announced.insert(id, node);
            }
            None => {
                self.metallb_announced.remove(&id);
            }
        }
    }
}
