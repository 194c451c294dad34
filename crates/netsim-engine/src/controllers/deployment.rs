//! The Deployment and ReplicaSet controllers.
//!
//! A Deployment owns one ReplicaSet per pod template, named `<deployment>-<pod-template-hash>`;
//! a ReplicaSet owns pods named `<replicaset>-<5 random characters>`. Rollouts are modelled as an
//! immediate switch to the new ReplicaSet (old ones scale to zero); what netsim teaches is where
//! pods land and which addresses Services select, not rollout pacing.

use super::{controller_ref_to, controller_uid};
use crate::sim::Sim;
use netsim_model::k8s_openapi::api::apps::v1::{
    Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet, ReplicaSetSpec, ReplicaSetStatus,
};
use netsim_model::k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use netsim_model::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use netsim_model::{ApiObject, Kind, Object, ObjectKey};
use std::collections::BTreeMap;

/// kube's `SafeEncodeString` alphabet.
const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// The `pod-template-hash` of a pod template: FNV-1a (32 bit) over the template, its decimal
/// digits mapped through kube's safe alphabet, as `controller.ComputeHash` does. (Kubernetes
/// hashes a spew dump of the Go struct; netsim hashes the canonical JSON, so the values have the
/// real shape but not the real digits.)
pub fn pod_template_hash(template: &PodTemplateSpec, collision_count: Option<i32>) -> String {
    let mut text = serde_json::to_string(template).unwrap_or_default();
    if let Some(c) = collision_count {
        text.push_str(&c.to_string());
    }
    let mut hash: u32 = 0x811c9dc5;
    for b in text.bytes() {
        hash ^= u32::from(b);
        hash = hash.wrapping_mul(0x01000193);
    }
    hash.to_string()
        .bytes()
        .map(|d| ALPHANUMS[usize::from(d) % ALPHANUMS.len()] as char)
        .collect()
}

fn is_active(p: &Pod) -> bool {
    p.metadata.deletion_timestamp.is_none()
        && !matches!(
            p.status.as_ref().and_then(|s| s.phase.as_deref()),
            Some("Succeeded" | "Failed")
        )
}

/// Whether a pod's update from `old` to `new` can change what its ReplicaSet does or reports:
/// the controller decides on the pods it controls that are active, and counts the ready ones
/// (the ordering facts it deletes by, scheduled and created, matter only when it scales down,
/// which a change of the ReplicaSet itself starts).
pub(crate) fn replicaset_facts_changed(old: &Pod, new: &Pod) -> bool {
    fn owner(p: &Pod) -> Option<(&str, &str)> {
        p.metadata
            .owner_references
            .iter()
            .flatten()
            .find(|r| r.controller == Some(true))
            .map(|r| (r.kind.as_str(), r.uid.as_str()))
    }
    is_active(old) != is_active(new) || is_ready(old) != is_ready(new) || owner(old) != owner(new)
}

fn is_ready(p: &Pod) -> bool {
    p.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

impl Sim {
    pub(crate) fn reconcile_deployment_key(&mut self, key: &ObjectKey) {
        if let Some(d) = self.store.typed_at::<Deployment>(key).cloned() {
            self.reconcile_deployment(d);
        }
    }

    /// The ReplicaSets `uid` controls, as stored.
    fn owned_replicasets<'a>(&'a self, uid: &'a str) -> impl Iterator<Item = &'a ReplicaSet> {
        self.store
            .owned_by(uid)
            .filter(move |o| controller_uid(o, Kind::Deployment) == Some(uid))
            .filter_map(ReplicaSet::from_object)
    }

    /// Syncs Deployment `d` (the stored version, which becomes the next one): its new
    /// ReplicaSet made or scaled, the old ones scaled to zero, its status summed from theirs.
    /// The ReplicaSets are read where they are stored; only one being written is copied.
    fn reconcile_deployment(&mut self, mut d: Deployment) {
        let Some(spec) = d.spec.as_ref() else { return };
        let name = d.metadata.name.clone().unwrap_or_default();
        let uid = d.metadata.uid.clone().unwrap_or_default();
        let owner_key = d.key();
        let desired = spec.replicas.unwrap_or(1);
        let hash = pod_template_hash(
            &spec.template,
            d.status.as_ref().and_then(|s| s.collision_count),
        );
        let new_name = format!("{name}-{hash}");
        let revision_of = |meta: &ObjectMeta| -> Option<i64> {
            meta.annotations
                .as_ref()?
                .get("deployment.kubernetes.io/revision")?
                .parse::<i64>()
                .ok()
        };
        let revision = revision_of(&d.metadata);
        // What to write, decided on the stored ReplicaSets: the new one (to make, or to
        // scale, with its replicas now), and the old ones still holding replicas. The new one
        // exists when its revision was found.
        let mut to_scale: Option<(ReplicaSet, i32)> = None;
        let mut old_to_zero: Vec<(ReplicaSet, i32)> = Vec::new();
        let mut max_revision = 0;
        let mut new_revision = None;
        for rs in self.owned_replicasets(&uid) {
            let rev = revision_of(&rs.metadata);
            max_revision = max_revision.max(rev.unwrap_or(0));
            let replicas = rs.spec.as_ref().and_then(|s| s.replicas);
            if rs.metadata.name.as_deref() == Some(new_name.as_str()) {
                new_revision = Some(rev.unwrap_or(1));
                let current = replicas.unwrap_or(1);
                if current != desired {
                    to_scale = Some((rs.clone(), current));
                }
            } else if replicas.unwrap_or(0) != 0 {
                old_to_zero.push((rs.clone(), replicas.unwrap_or(0)));
            }
        }
        let rs_revision = new_revision.unwrap_or(max_revision + 1);
        if new_revision.is_none() {
            let ns = d.metadata.namespace.clone().unwrap_or_default();
            let mut template = spec.template.clone();
            template
                .metadata
                .get_or_insert_with(Default::default)
                .labels
                .get_or_insert_with(BTreeMap::new)
                .insert("pod-template-hash".into(), hash.clone());
            let mut selector = spec.selector.clone();
            selector
                .match_labels
                .get_or_insert_with(BTreeMap::new)
                .insert("pod-template-hash".into(), hash.clone());
            let mut labels = template
                .metadata
                .as_ref()
                .and_then(|m| m.labels.clone())
                .unwrap_or_default();
            labels.insert("pod-template-hash".into(), hash.clone());
            let annotations: BTreeMap<String, String> = [
                (
                    "deployment.kubernetes.io/desired-replicas".to_string(),
                    desired.to_string(),
                ),
                (
                    "deployment.kubernetes.io/max-replicas".to_string(),
                    (desired + max_surge(desired)).to_string(),
                ),
                (
                    "deployment.kubernetes.io/revision".to_string(),
                    rs_revision.to_string(),
                ),
            ]
            .into_iter()
            .collect();
            let rs = ReplicaSet {
                metadata: ObjectMeta {
                    name: Some(new_name.clone()),
                    namespace: Some(ns),
                    labels: Some(labels),
                    annotations: Some(annotations),
                    owner_references: Some(vec![controller_ref_to(Kind::Deployment, &d.metadata)]),
                    uid: Some(self.rng.uuid()),
                    creation_timestamp: Some(self.now_time()),
                    generation: Some(1),
                    ..Default::default()
                },
                spec: Some(ReplicaSetSpec {
                    replicas: Some(desired),
                    min_ready_seconds: spec.min_ready_seconds,
                    selector,
                    template: Some(template),
                }),
                status: Some(ReplicaSetStatus {
                    replicas: 0,
                    ..Default::default()
                }),
            };
            self.put(Object::ReplicaSet(Box::new(rs)));
            self.record_event(
                &owner_key,
                "Normal",
                "ScalingReplicaSet",
                &format!("Scaled up replica set {new_name} to {desired}"),
                "deployment-controller",
                None,
            );
        } else if let Some((mut scaled, current)) = to_scale {
            if let Some(s) = scaled.spec.as_mut() {
                s.replicas = Some(desired);
            }
            let a = scaled
                .metadata
                .annotations
                .get_or_insert_with(BTreeMap::new);
            a.insert(
                "deployment.kubernetes.io/desired-replicas".into(),
                desired.to_string(),
            );
            a.insert(
                "deployment.kubernetes.io/max-replicas".into(),
                (desired + max_surge(desired)).to_string(),
            );
            scaled.metadata.generation = Some(scaled.metadata.generation.unwrap_or(1) + 1);
            self.put(Object::ReplicaSet(Box::new(scaled)));
            let verb = if desired > current { "up" } else { "down" };
            self.record_event(
                &owner_key,
                "Normal",
                "ScalingReplicaSet",
                &format!("Scaled {verb} replica set {new_name} to {desired} from {current}"),
                "deployment-controller",
                None,
            );
        }
        // Old ReplicaSets go to zero.
        for (mut scaled, current) in old_to_zero {
            let old_name = scaled.metadata.name.clone().unwrap_or_default();
            if let Some(s) = scaled.spec.as_mut() {
                s.replicas = Some(0);
            }
            self.put(Object::ReplicaSet(Box::new(scaled)));
            self.record_event(
                &owner_key,
                "Normal",
                "ScalingReplicaSet",
                &format!("Scaled down replica set {old_name} to 0 from {current}"),
                "deployment-controller",
                None,
            );
        }

        // Status from the ReplicaSets' statuses, as they are after the writes above.
        let (mut replicas, mut ready, mut available, mut updated) = (0, 0, 0, 0);
        for rs in self.owned_replicasets(&uid) {
            let Some(s) = rs.status.as_ref() else {
                continue;
            };
            replicas += s.replicas;
            ready += s.ready_replicas.unwrap_or(0);
            available += s.available_replicas.unwrap_or(0);
            if rs.metadata.name.as_deref() == Some(new_name.as_str()) {
                updated = s.replicas;
            }
        }
        d.metadata
            .annotations
            .get_or_insert_with(BTreeMap::new)
            .insert(
                "deployment.kubernetes.io/revision".into(),
                rs_revision.max(revision.unwrap_or(0)).to_string(),
            );
        let now = self.now_time();
        let old_status = d.status.take().unwrap_or_default();
        let min_available = desired - max_unavailable(desired);
        let available_ok = available >= min_available;
        let mut conditions = old_status.conditions.unwrap_or_default();
        let progressing_msg = if updated == desired && available == desired && replicas == desired {
            (
                format!("ReplicaSet \"{new_name}\" has successfully progressed."),
                "NewReplicaSetAvailable",
            )
        } else {
            (
                format!("ReplicaSet \"{new_name}\" is progressing."),
                "ReplicaSetUpdated",
            )
        };
        set_deploy_condition(
            &mut conditions,
            "Available",
            if available_ok { "True" } else { "False" },
            if available_ok {
                "MinimumReplicasAvailable"
            } else {
                "MinimumReplicasUnavailable"
            },
            if available_ok {
                "Deployment has minimum availability."
            } else {
                "Deployment does not have minimum availability."
            },
            &now,
        );
        set_deploy_condition(
            &mut conditions,
            "Progressing",
            "True",
            progressing_msg.1,
            &progressing_msg.0,
            &now,
        );
        // Kubernetes lists Available before Progressing once both exist.
        conditions.sort_by_key(|c| if c.type_ == "Available" { 0 } else { 1 });
        d.status = Some(DeploymentStatus {
            observed_generation: d.metadata.generation,
            replicas: Some(replicas).filter(|r| *r != 0),
            updated_replicas: Some(updated).filter(|r| *r != 0),
            ready_replicas: Some(ready).filter(|r| *r != 0),
            available_replicas: Some(available).filter(|r| *r != 0),
            unavailable_replicas: Some(replicas.max(desired) - available).filter(|r| *r > 0),
            conditions: Some(conditions),
            collision_count: old_status.collision_count,
            terminating_replicas: None,
        });
        self.put_if_changed(Object::Deployment(Box::new(d)));
    }

    pub(crate) fn reconcile_replicaset_key(&mut self, key: &ObjectKey) {
        if let Some(rs) = self.store.typed_at::<ReplicaSet>(key).cloned() {
            self.reconcile_replicaset(rs);
        }
    }

    /// Syncs ReplicaSet `rs` (the stored version, which becomes the next one): pods made or
    /// deleted to match its replicas, and its status counted from them. Its pods are read
    /// where they are stored.
    fn reconcile_replicaset(&mut self, mut rs: ReplicaSet) {
        let Some(spec) = rs.spec.as_ref() else { return };
        let ns = rs.metadata.namespace.clone().unwrap_or_default();
        let uid = rs.metadata.uid.clone().unwrap_or_default();
        let owner_key = rs.key();
        let desired = spec.replicas.unwrap_or(1).max(0) as usize;
        let controlled = |o: &&Object| controller_uid(o, Kind::ReplicaSet) == Some(uid.as_str());
        let (mut active, mut ready) = (0usize, 0usize);
        for p in self
            .store
            .owned_by(&uid)
            .filter(controlled)
            .filter_map(Pod::from_object)
            .filter(|p| is_active(p))
        {
            active += 1;
            ready += usize::from(is_ready(p));
        }
        if active < desired {
            for _ in active..desired {
                let template = spec.template.clone().unwrap_or_default();
                let pod = self.pod_from_template(Kind::ReplicaSet, &rs.metadata, template, &ns);
                let name = pod.metadata.name.clone().unwrap_or_default();
                ready += usize::from(is_ready(&pod));
                self.put(Object::Pod(Box::new(pod)));
                self.record_event(
                    &owner_key,
                    "Normal",
                    "SuccessfulCreate",
                    &format!("Created pod: {name}"),
                    "replicaset-controller",
                    None,
                );
            }
            active = desired;
        } else if active > desired {
            // What the controller decides on of each pod: (scheduled, ready, created, name).
            let mut pods: Vec<PodInfo> = self
                .store
                .owned_by(&uid)
                .filter(controlled)
                .filter_map(Pod::from_object)
                .filter(|p| is_active(p))
                .map(PodInfo::of)
                .collect();
            // Delete the least useful first: unscheduled, then not ready, then newest.
            pods.sort_by_key(|p| {
                (
                    p.scheduled,
                    p.ready,
                    std::cmp::Reverse(p.created),
                    p.key.name.clone(),
                )
            });
            let excess = pods.len() - desired;
            for p in pods.drain(..excess) {
                self.delete_cascading(&p.key, None);
                self.record_event(
                    &owner_key,
                    "Normal",
                    "SuccessfulDelete",
                    &format!("Deleted pod: {}", p.key.name),
                    "replicaset-controller",
                    None,
                );
            }
            active = pods.len();
            ready = pods.iter().filter(|p| p.ready).count();
        }
        let (active, ready) = (active as i32, ready as i32);
        rs.status = Some(ReplicaSetStatus {
            replicas: active,
            fully_labeled_replicas: Some(active).filter(|n| *n != 0),
            ready_replicas: Some(ready).filter(|n| *n != 0),
            available_replicas: Some(ready).filter(|n| *n != 0),
            observed_generation: rs.metadata.generation,
            conditions: None,
            terminating_replicas: None,
        });
        self.put_if_changed(Object::ReplicaSet(Box::new(rs)));
    }

    /// A new pod for the controller of `owner_kind` with metadata `owner`, from `template`,
    /// named `<owner>-<5 random>`.
    pub(crate) fn pod_from_template(
        &mut self,
        owner_kind: Kind,
        owner: &ObjectMeta,
        template: PodTemplateSpec,
        ns: &str,
    ) -> Pod {
        let meta = template.metadata.unwrap_or_default();
        let owner_name = owner.name.as_deref().unwrap_or_default();
        let name = format!("{owner_name}-{}", self.rng.kube_suffix(5));
        let mut pod = Pod {
            metadata: ObjectMeta {
                name: Some(name),
                generate_name: Some(format!("{owner_name}-")),
                namespace: Some(ns.to_string()),
                labels: meta.labels,
                annotations: meta.annotations,
                owner_references: Some(vec![controller_ref_to(owner_kind, owner)]),
                uid: Some(self.rng.uuid()),
                creation_timestamp: Some(self.now_time()),
                ..Default::default()
            },
            spec: template.spec,
            status: None,
        };
        netsim_manifest::defaults::pod_defaults(&mut pod);
        pod.status = Some(netsim_model::k8s_openapi::api::core::v1::PodStatus {
            phase: Some("Pending".into()),
            qos_class: Some("BestEffort".into()),
            ..Default::default()
        });
        pod
    }
}

/// The few facts about a pod the ReplicaSet controller decides on.
struct PodInfo {
    key: ObjectKey,
    scheduled: bool,
    ready: bool,
    created: i64,
}

impl PodInfo {
    fn of(p: &Pod) -> PodInfo {
        PodInfo {
            key: p.key(),
            scheduled: p.spec.as_ref().is_some_and(|s| s.node_name.is_some()),
            ready: is_ready(p),
            created: p
                .metadata
                .creation_timestamp
                .as_ref()
                .map(|t| t.0.as_second())
                .unwrap_or(0),
        }
    }
}

fn max_surge(replicas: i32) -> i32 {
    (replicas * 25 + 99) / 100
}

fn max_unavailable(replicas: i32) -> i32 {
    replicas * 25 / 100
}

fn set_deploy_condition(
    conditions: &mut Vec<DeploymentCondition>,
    type_: &str,
    status: &str,
    reason: &str,
    message: &str,
    now: &netsim_model::k8s_openapi::apimachinery::pkg::apis::meta::v1::Time,
) {
    if let Some(c) = conditions.iter_mut().find(|c| c.type_ == type_) {
        if c.status != status {
            c.last_transition_time = Some(now.clone());
        }
        if c.reason.as_deref() != Some(reason) || c.message.as_deref() != Some(message) {
            c.last_update_time = Some(now.clone());
        }
        c.status = status.to_string();
        c.reason = Some(reason.to_string());
        c.message = Some(message.to_string());
        return;
    }
    conditions.push(DeploymentCondition {
        type_: type_.to_string(),
        status: status.to_string(),
        reason: Some(reason.to_string()),
        message: Some(message.to_string()),
        last_transition_time: Some(now.clone()),
        last_update_time: Some(now.clone()),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::controllers::pod_from_json as pod;

    #[test]
    fn only_activity_readiness_and_controller_changes_count() {
        let created = pod(serde_json::json!({
            "metadata": {"name": "web-1", "ownerReferences": [{
                "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web",
                "uid": "rs-1", "controller": true,
            }]},
            "spec": {"containers": [{"name": "web"}]},
            "status": {"phase": "Pending"},
        }));
        let mut scheduled = created.clone();
        if let Some(spec) = scheduled.spec.as_mut() {
            spec.node_name = Some("worker".into());
        }
        assert!(!replicaset_facts_changed(&created, &scheduled));
        let mut ready = scheduled.clone();
        ready.status = Some(
            serde_json::from_value(serde_json::json!({
                "phase": "Running",
                "conditions": [{"type": "Ready", "status": "True"}],
            }))
            .expect("a status"),
        );
        assert!(replicaset_facts_changed(&scheduled, &ready));
        let mut failed = ready.clone();
        if let Some(s) = failed.status.as_mut() {
            s.phase = Some("Failed".into());
        }
        assert!(replicaset_facts_changed(&ready, &failed));
        let mut orphaned = ready.clone();
        orphaned.metadata.owner_references = None;
        assert!(replicaset_facts_changed(&ready, &orphaned));
    }
}
