//! The cloud-style load-balancer provider (the service controller of a cloud controller
//! manager): after a provisioning delay, a LoadBalancer Service gets the next free address of the
//! cluster's pool in `status.loadBalancer.ingress`. Without a pool, addresses stay `<pending>`,
//! as on a bare-metal kubeadm cluster.

use crate::queue::Event;
use crate::sim::Sim;
use netsim_model::cluster::nth_address;
use netsim_model::jiff::SignedDuration;
use netsim_model::k8s_openapi::api::core::v1::{
    LoadBalancerIngress, LoadBalancerStatus, Service, ServiceStatus,
};
use netsim_model::{ApiObject, Object, ObjectKey};
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
        let Some(svc) = self
            .store
            .typed::<Service>(&key.namespace, &key.name)
            .cloned()
        else {
            return;
        };
        let key = key.clone();
        let has_ip = !ingress_ips(&svc).is_empty();
        if is_lb(&svc) && !has_ip && !self.lb_pending.contains(&key) {
            self.lb_pending.insert(key.clone());
            self.schedule(
                SignedDuration::from_secs(pool.delay_seconds as i64),
                Event::LoadBalancerReady(key.clone()),
            );
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
            self.put(Object::Service(next));
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
        if self.config.load_balancer_pool.is_none() || !is_lb(cur) {
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
        let Some(svc) = self
            .store
            .typed::<Service>(&key.namespace, &key.name)
            .cloned()
        else {
            return;
        };
        if !is_lb(&svc) || !ingress_ips(&svc).is_empty() {
            return;
        }
        let used: BTreeSet<String> = self
            .store
            .list_typed::<Service>(None)
            .flat_map(ingress_ips)
            .collect();
        let size: u64 = 1u64 << (32 - u32::from(pool.cidr.prefix_len()));
        let Some(ip) = (1..size.saturating_sub(1).max(2))
            .map(|n| nth_address(pool.cidr, n as u32).to_string())
            .find(|ip| !used.contains(ip))
        else {
            self.record_event(key, "Warning", "SyncLoadBalancerFailed", "Error syncing load balancer: failed to ensure load balancer: address pool exhausted", "service-controller", None);
            return;
        };
        let mut next = svc.clone();
        next.status = Some(ServiceStatus {
            load_balancer: Some(LoadBalancerStatus {
                ingress: Some(vec![LoadBalancerIngress {
                    ip: Some(ip),
                    ip_mode: Some("VIP".into()),
                    ..Default::default()
                }]),
            }),
            ..Default::default()
        });
        self.put(Object::Service(next));
        self.record_event(
            key,
            "Normal",
            "EnsuredLoadBalancer",
            "Ensured load balancer",
            "service-controller",
            None,
        );
    }
}
