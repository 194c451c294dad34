//! The pod garbage collector (kube-controller-manager's `podgc`): pods bound to a Node that
//! no longer exists are deleted once the Node has been gone for the quarantine time.
//!
//! v1.28 first marks such a pod `Failed` with a `DisruptionTarget` condition (reason
//! `DeletionByPodGC`; the PodDisruptionConditions gate is on by default) and then deletes it
//! with a grace period of 0: nothing on the gone node would ever confirm a graceful exit.
//! The pods' owners then make replacements on the nodes that remain. The collector records no
//! Events. It must never touch a pod whose Node exists.

use crate::queue::Event;
use crate::sim::Sim;
use crate::time::api_time;
use netsim_model::jiff::SignedDuration;
use netsim_model::k8s_openapi::api::core::v1::{Node, Pod, PodCondition};
use netsim_model::{ApiObject, ObjectKey};

/// How long a Node must have been gone before its pods are collected (`quarantineTime`).
pub(crate) const QUARANTINE: SignedDuration = SignedDuration::from_secs(40);

impl Sim {
    /// A Node was deleted: its pods are collected after the quarantine.
    pub(crate) fn pod_gc_node_deleted(&mut self) {
        self.schedule(QUARANTINE, Event::PodGc);
    }

    /// Collects the pods whose Node does not exist.
    pub(crate) fn pod_gc(&mut self) {
        // A stopped control plane collects nothing; `resume` schedules another pass.
        if self.paused {
            return;
        }
        let orphans: Vec<Pod> = self
            .store
            .list_typed::<Pod>(None)
            .filter(|p| {
                p.spec
                    .as_ref()
                    .and_then(|s| s.node_name.as_deref())
                    .is_some_and(|n| !n.is_empty() && self.store.typed::<Node>("", n).is_none())
            })
            .cloned()
            .collect();
        for mut pod in orphans {
            let key: ObjectKey = pod.key();
            let status = pod.status.get_or_insert_with(Default::default);
            if !matches!(status.phase.as_deref(), Some("Succeeded" | "Failed")) {
                status.phase = Some("Failed".into());
            }
            let conditions = status.conditions.get_or_insert_with(Vec::new);
            conditions.retain(|c| c.type_ != "DisruptionTarget");
            conditions.push(PodCondition {
                type_: "DisruptionTarget".into(),
                status: "True".into(),
                reason: Some("DeletionByPodGC".into()),
                message: Some("PodGC: node no longer exists".into()),
                last_transition_time: Some(api_time(self.now())),
                ..Default::default()
            });
            self.put(pod.into());
            self.remove(&key);
        }
    }
}
