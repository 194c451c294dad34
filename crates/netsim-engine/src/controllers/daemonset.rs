//! The DaemonSet controller: one pod per eligible node (kube-proxy, the CNI's agent).
//!
//! Pods are pinned with required node affinity on `metadata.name`, as the real controller does,
//! and bound by the scheduler.
//!
//! Placing pods looks at every Node, so it runs only when a DaemonSet, one of its pods' coming
//! or going, or a Node's labels, taints or existence change. A pod that changes in place (bound,
//! started, ready) changes only the status, which is written at the next whole second of
//! virtual time, once for everything that changed until then: the controller's work queue
//! folds a burst of pod updates into one sync likewise, and a cluster of thousands of nodes
//! starting its kube-proxy and flannel pods would otherwise count them all at every pod's step.

use super::{controller_uid, scheduler::tolerates};
use crate::sim::Sim;
use netsim_model::k8s_openapi::api::apps::v1::{DaemonSet, DaemonSetStatus};
use netsim_model::k8s_openapi::api::core::v1::{
    Affinity, Node, NodeAffinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, Pod,
};
use netsim_model::{ApiObject, Kind, Object, ObjectKey};
use std::collections::{BTreeMap, BTreeSet};

impl Sim {
    pub(crate) fn reconcile_daemonset_key(&mut self, key: &ObjectKey) {
        let Some(ds) = self.store.typed_at::<DaemonSet>(key).cloned() else {
            return;
        };
        let Some(spec) = ds.spec.clone() else { return };
        let pod_spec = spec.template.spec.clone().unwrap_or_default();
        let tolerations = pod_spec.tolerations.clone().unwrap_or_default();
        let eligible: Vec<String> = self
            .store
            .list_typed::<Node>(None)
            .filter(|n| {
                let labels = n.metadata.labels.as_ref();
                let selector_ok = pod_spec
                    .node_selector
                    .iter()
                    .flatten()
                    .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v));
                let taints_ok = n
                    .spec
                    .as_ref()
                    .and_then(|s| s.taints.as_ref())
                    .into_iter()
                    .flatten()
                    .all(|t| {
                        !(t.effect == "NoSchedule" || t.effect == "NoExecute")
                            || tolerations.iter().any(|tol| tolerates(tol, t))
                    });
                selector_ok && taints_ok
            })
            .filter_map(|n| n.metadata.name.clone())
            .collect();
        self.reconcile_daemonset(ds, spec, eligible);
    }

    fn reconcile_daemonset(
        &mut self,
        ds: DaemonSet,
        spec: netsim_model::k8s_openapi::api::apps::v1::DaemonSetSpec,
        eligible: Vec<String>,
    ) {
        let ns = ds.metadata.namespace.clone().unwrap_or_default();
        let uid = ds.metadata.uid.clone().unwrap_or_default();
        let owner = Object::DaemonSet(Box::new(ds.clone()));
        // The nodes that already have a pod of this DaemonSet (pinned by node affinity).
        let pinned: BTreeSet<String> = self
            .store
            .owned_by(&uid)
            .filter(|o| controller_uid(o, Kind::DaemonSet) == Some(uid.as_str()))
            .filter_map(Pod::from_object)
            .filter_map(pinned_node)
            .collect();
        for node in &eligible {
            if pinned.contains(node) {
                continue;
            }
            let mut template = spec.template.clone();
            let labels = template
                .metadata
                .get_or_insert_with(Default::default)
                .labels
                .get_or_insert_with(BTreeMap::new);
            labels.insert(
                "controller-revision-hash".into(),
                super::pod_template_hash(&spec.template, None),
            );
            labels.insert(
                "pod-template-generation".into(),
                ds.metadata.generation.unwrap_or(1).to_string(),
            );
            if let Some(ps) = template.spec.as_mut() {
                ps.affinity = Some(Affinity {
                    node_affinity: Some(NodeAffinity {
                        required_during_scheduling_ignored_during_execution: Some(NodeSelector {
                            node_selector_terms: vec![NodeSelectorTerm {
                                match_fields: Some(vec![NodeSelectorRequirement {
                                    key: "metadata.name".into(),
                                    operator: "In".into(),
                                    values: Some(vec![node.clone()]),
                                }]),
                                match_expressions: None,
                            }],
                        }),
                        preferred_during_scheduling_ignored_during_execution: None,
                    }),
                    ..Default::default()
                });
            }
            let pod = self.pod_from_template(Kind::DaemonSet, owner.metadata(), template, &ns);
            let name = pod.metadata.name.clone().unwrap_or_default();
            self.put(Object::Pod(Box::new(pod)));
            self.record_event(
                &owner.key(),
                "Normal",
                "SuccessfulCreate",
                &format!("Created pod: {name}"),
                "daemonset-controller",
                None,
            );
        }
        self.write_daemonset_status(ds, eligible.len() as i32);
    }

    /// Some pods of DaemonSet `key` changed in place: its status is written at the next whole
    /// second (one pending write per DaemonSet and second).
    pub(crate) fn daemonset_status_due(&mut self, key: &ObjectKey) {
        let at = (self.now_ms.div_euclid(1000) + 1) * 1000;
        self.queue
            .push_once(at, crate::queue::Event::DaemonSetStatus(key.clone()));
    }

    /// Writes the status of DaemonSet `key` from its pods, keeping the number of nodes it
    /// should run on (placing pods, which alone changes that, writes it).
    pub(crate) fn daemonset_status(&mut self, key: &ObjectKey) {
        // A stopped control plane writes nothing; `resume` looks at every DaemonSet again.
        if self.paused {
            return;
        }
        let Some(ds) = self.store.typed_at::<DaemonSet>(key).cloned() else {
            return;
        };
        let desired = ds.status.as_ref().map_or(0, |s| s.desired_number_scheduled);
        self.write_daemonset_status(ds, desired);
    }

    fn write_daemonset_status(&mut self, ds: DaemonSet, desired: i32) {
        let uid = ds.metadata.uid.clone().unwrap_or_default();
        let (mut ready, mut scheduled) = (0i32, 0i32);
        for p in self
            .store
            .owned_by(&uid)
            .filter(|o| controller_uid(o, Kind::DaemonSet) == Some(uid.as_str()))
            .filter_map(Pod::from_object)
        {
            let is_ready = p
                .status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
            ready += i32::from(is_ready);
            scheduled += i32::from(p.spec.as_ref().is_some_and(|s| s.node_name.is_some()));
        }
        let generation = ds.metadata.generation;
        let mut next = ds;
        next.status = Some(DaemonSetStatus {
            current_number_scheduled: scheduled,
            desired_number_scheduled: desired,
            number_ready: ready,
            number_available: Some(ready).filter(|n| *n != 0),
            number_unavailable: Some(desired - ready).filter(|n| *n > 0),
            number_misscheduled: 0,
            updated_number_scheduled: Some(scheduled).filter(|n| *n != 0),
            observed_generation: generation,
            collision_count: None,
            conditions: None,
        });
        self.put_if_changed(Object::DaemonSet(Box::new(next)));
    }
}

/// The node a DaemonSet pod is pinned to by its required node affinity on `metadata.name`
/// (the controller writes exactly one).
fn pinned_node(p: &Pod) -> Option<String> {
    super::scheduler::pinned_nodes(p)?.into_iter().next()
}
