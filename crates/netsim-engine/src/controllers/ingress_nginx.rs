//! ingress-nginx's own controller loop, the part the API shows: a `Sync` event ("Scheduled
//! for sync") on every Ingress of its class that is created or changed, and the Ingresses'
//! `status.loadBalancer.ingress`, copied from the `--publish-service` Service's load-balancer
//! address by the status sync that runs when the controller starts and every 60 seconds after.
//! Request routing is `crate::ingress`; this module never touches packets.

use crate::ingress::is_controller_image;
use crate::queue::Event;
use crate::sim::Sim;
use netsim_model::jiff::SignedDuration;
use netsim_model::k8s_openapi::api::core::v1::{Pod, Service};
use netsim_model::k8s_openapi::api::networking::v1::{
    Ingress, IngressLoadBalancerIngress, IngressLoadBalancerStatus, IngressStatus,
};
use netsim_model::{Kind, Object, ObjectKey};

/// The status sync period (`UpdateInterval` in `internal/ingress/status`).
const STATUS_PERIOD_MS: i64 = 60_000;

/// The `--publish-service` of a controller pod (`$(POD_NAMESPACE)` expanded), if any.
fn publish_service(pod: &Pod) -> Option<(String, String)> {
    let ns = pod.metadata.namespace.clone().unwrap_or_default();
    let c = pod
        .spec
        .as_ref()?
        .containers
        .iter()
        .find(|c| c.image.as_deref().is_some_and(is_controller_image))?;
    let arg = c
        .args
        .iter()
        .flatten()
        .find_map(|a| a.strip_prefix("--publish-service="))?;
    let arg = arg.replace("$(POD_NAMESPACE)", &ns);
    let (sns, name) = arg.split_once('/')?;
    Some((sns.to_string(), name.to_string()))
}

impl Sim {
    /// Ingresses (or the controller, or its Service) changed: `Sync` events for the changed
    /// Ingresses the controller serves, and a status sync at the controller's next tick.
    pub(crate) fn ingress_nginx_changed(&mut self, ingresses: &[ObjectKey]) {
        let pods = self.ingress_nginx_pods();
        let Some(start_ms) = pods
            .iter()
            .filter_map(|p| p.status.as_ref()?.start_time.as_ref())
            .map(|t| t.0.as_millisecond())
            .min()
        else {
            return;
        };
        for key in ingresses {
            let served = self
                .store
                .typed_at::<Ingress>(key)
                .is_some_and(|i| self.ingress_nginx_serves(i));
            if served {
                self.record_event(
                    key,
                    "Normal",
                    "Sync",
                    "Scheduled for sync",
                    "nginx-ingress-controller",
                    None,
                );
            }
        }
        if !self.ingress_status_pending {
            self.ingress_status_pending = true;
            let since = (self.now_ms - start_ms).max(0);
            let next = STATUS_PERIOD_MS - since % STATUS_PERIOD_MS;
            self.schedule(SignedDuration::from_millis(next), Event::IngressStatusSync);
        }
    }

    /// The status sync: every served Ingress gets the published Service's addresses.
    pub(crate) fn ingress_status_sync(&mut self) {
        self.ingress_status_pending = false;
        let Some(publish) = self
            .ingress_nginx_pods()
            .into_iter()
            .find_map(publish_service)
        else {
            return;
        };
        let mut ips: Vec<String> = self
            .store
            .typed::<Service>(&publish.0, &publish.1)
            .and_then(|s| s.status.as_ref()?.load_balancer.as_ref()?.ingress.clone())
            .unwrap_or_default()
            .into_iter()
            .filter_map(|i| i.ip)
            .collect();
        ips.sort();
        let wanted: Vec<IngressLoadBalancerIngress> = ips
            .into_iter()
            .map(|ip| IngressLoadBalancerIngress {
                ip: Some(ip),
                ..Default::default()
            })
            .collect();
        let keys: Vec<ObjectKey> = self
            .ingress_nginx_ingresses()
            .into_iter()
            .map(|i| {
                ObjectKey::new(
                    Kind::Ingress,
                    i.metadata.namespace.as_deref().unwrap_or(""),
                    i.metadata.name.as_deref().unwrap_or(""),
                )
            })
            .collect();
        for key in keys {
            let Some(ing) = self.store.typed_at::<Ingress>(&key) else {
                continue;
            };
            let current = ing
                .status
                .as_ref()
                .and_then(|s| s.load_balancer.as_ref())
                .and_then(|l| l.ingress.clone())
                .unwrap_or_default();
            if current == wanted {
                continue;
            }
            let mut next = ing.clone();
            next.status = Some(IngressStatus {
                load_balancer: Some(IngressLoadBalancerStatus {
                    ingress: (!wanted.is_empty()).then(|| wanted.clone()),
                }),
            });
            self.put(Object::Ingress(Box::new(next)));
        }
    }
}
