//! kube-scheduler: binds pending pods to nodes.
//!
//! Filters as the default profile does for what netsim models (node readiness and
//! `unschedulable`, taints and tolerations, `nodeSelector`, required node affinity on labels and
//! on `metadata.name`), then scores to spread pods of one owner across nodes and to balance pod
//! counts, breaking ties with the seeded RNG. Unschedulable pods get the scheduler's condition
//! and `FailedScheduling` event with its message.

use crate::sim::Sim;
use netsim_model::k8s_openapi::api::core::v1::{
    Node, NodeSelectorRequirement, Pod, PodCondition, Taint, Toleration,
};
use netsim_model::{ApiObject, Object, ObjectKey};
use std::collections::{BTreeMap, BTreeSet};

impl Sim {
    /// Schedules the pending pods among `candidates` (every pending pod when nodes changed).
    pub(crate) fn schedule_pods(&mut self, candidates: &BTreeSet<ObjectKey>, all: bool) {
        let unscheduled = |p: &Pod| {
            p.metadata.deletion_timestamp.is_none()
                && p.spec
                    .as_ref()
                    .is_some_and(|s| s.node_name.as_deref().unwrap_or("").is_empty())
        };
        let pending: Vec<Pod> = if all {
            self.store
                .list_typed::<Pod>(None)
                .filter(|p| unscheduled(p))
                .cloned()
                .collect()
        } else {
            candidates
                .iter()
                .filter_map(|k| self.store.typed_at::<Pod>(k))
                .filter(|p| unscheduled(p))
                .cloned()
                .collect()
        };
        if pending.is_empty() {
            return;
        }
        // The Nodes' names and filter verdicts hold until a Node is written (kube-scheduler's
        // own cache of NodeInfo): a ReplicaSet's pods share one set of constraints, so
        // filtering runs once per set and Node generation, not per pod or per call.
        let mut cache = self
            .scheduler_cache
            .take()
            .unwrap_or_else(|| SchedulerCache::of(&self.store));
        let n_nodes = cache.names.len();
        // A pod pinned to named nodes (a DaemonSet's) is only checked against those, as
        // NodeAffinity's PreFilter narrows the search; its verdicts are computed below.
        let pod_class: Vec<Option<String>> = pending
            .iter()
            .map(|pod| {
                if pinned_nodes(pod).is_some() {
                    return None;
                }
                let signature = constraints(pod);
                if !cache.verdicts.contains_key(&signature) {
                    let verdicts = self
                        .store
                        .list_typed::<Node>(None)
                        .map(|n| filter(pod, n).err())
                        .collect();
                    cache.verdicts.insert(signature.clone(), verdicts);
                }
                Some(signature)
            })
            .collect();
        // Pods per node (the node index's counts), and per (node, owner) for the owners of
        // the pods being placed.
        let mut per_node = self.store.pod_counts_on_nodes(&cache.names);
        // Per owner uid: its pods per node.
        let mut per_owner: BTreeMap<String, BTreeMap<usize, usize>> = BTreeMap::new();
        let owners: BTreeSet<String> = pending.iter().filter_map(owner_uid).collect();
        for owner in owners {
            for o in self.store.owned_by(&owner) {
                if let Object::Pod(p) = o
                    && let Some(&i) = p
                        .spec
                        .as_ref()
                        .and_then(|s| s.node_name.as_deref())
                        .and_then(|n| cache.index.get(n))
                {
                    *per_owner
                        .entry(owner.clone())
                        .or_default()
                        .entry(i)
                        .or_default() += 1;
                }
            }
        }
        // For a pinned pod: the named nodes that exist, with their verdicts.
        let pinned_verdicts: Vec<Vec<(usize, bool)>> = pending
            .iter()
            .zip(&pod_class)
            .map(|(pod, class)| {
                if class.is_some() {
                    return Vec::new();
                }
                let mut found: Vec<(usize, bool)> = pinned_nodes(pod)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|name| {
                        let i = *cache.index.get(name.as_str())?;
                        let node = self.store.typed::<Node>("", name)?;
                        Some((i, filter(pod, node).is_ok()))
                    })
                    .collect();
                found.sort_unstable();
                found.dedup();
                found
            })
            .collect();
        let to_find = feasible_nodes_to_find(n_nodes);
        for ((pod, class), pinned) in pending.into_iter().zip(pod_class).zip(pinned_verdicts) {
            let key = pod.key();
            let mut feasible: Vec<usize> = Vec::new();
            if let Some(class) = class {
                // Nodes are searched round-robin from where the last search stopped, until
                // enough feasible ones are found (all of them below 100 nodes), as
                // kube-scheduler does.
                let verdict = &cache.verdicts[&class];
                let start = if n_nodes == 0 {
                    0
                } else {
                    self.sched_next_start % n_nodes
                };
                let mut processed = 0;
                for step in 0..n_nodes {
                    if feasible.len() >= to_find {
                        break;
                    }
                    let i = (start + step) % n_nodes;
                    processed += 1;
                    if verdict[i].is_none() {
                        feasible.push(i);
                    }
                }
                if n_nodes > 0 {
                    self.sched_next_start = (start + processed) % n_nodes;
                }
            } else {
                feasible.extend(pinned.iter().filter(|(_, ok)| *ok).map(|(i, _)| *i));
            }
            if feasible.is_empty() {
                // Every node's reason, as the scheduler's diagnosis reports them (rare: worth
                // a full pass).
                let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
                for node in self.store.list_typed::<Node>(None) {
                    if let Err(reason) = filter(&pod, node) {
                        *reasons.entry(reason).or_default() += 1;
                    }
                }
                self.mark_unschedulable(&pod, n_nodes, &reasons);
                continue;
            }
            // Ties are broken over the feasible nodes in name order.
            feasible.sort_unstable();
            let owner = owner_uid(&pod);
            let mine = owner.as_ref().and_then(|o| per_owner.get(o));
            let score = |i: usize| {
                let same = mine.map_or(0, |m| m.get(&i).copied().unwrap_or(0));
                (same, per_node[i])
            };
            let best = feasible.iter().map(|&i| score(i)).min().unwrap_or_default();
            let top: Vec<usize> = feasible
                .iter()
                .copied()
                .filter(|&i| score(i) == best)
                .collect();
            let index = top[self.rng.below(top.len() as u64) as usize];
            let chosen = cache.names[index].clone();
            per_node[index] += 1;
            if let Some(o) = owner {
                *per_owner.entry(o).or_default().entry(index).or_default() += 1;
            }
            let mut bound = pod;
            if let Some(spec) = bound.spec.as_mut() {
                spec.node_name = Some(chosen.clone());
            }
            let status = bound.status.get_or_insert_with(Default::default);
            let now = self.now_time();
            set_condition(
                status.conditions.get_or_insert_with(Vec::new),
                "PodScheduled",
                "True",
                None,
                None,
                now,
            );
            self.put(Object::Pod(Box::new(bound)));
            let ns = key.namespace.clone();
            self.record_event(
                &key,
                "Normal",
                "Scheduled",
                &format!("Successfully assigned {ns}/{} to {chosen}", key.name),
                "default-scheduler",
                None,
            );
        }
        // Binding pods wrote no Node: the cache still holds.
        self.scheduler_cache = Some(cache);
    }

    fn mark_unschedulable(&mut self, pod: &Pod, n_nodes: usize, reasons: &BTreeMap<String, usize>) {
        let detail: Vec<String> = reasons.iter().map(|(r, n)| format!("{n} {r}")).collect();
        let message = format!(
            "0/{n_nodes} nodes are available: {}. preemption: 0/{n_nodes} nodes are available: {n_nodes} Preemption is not helpful for scheduling..",
            detail.join(", ")
        );
        let already = pod
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|c| {
                c.iter().any(|c| {
                    c.type_ == "PodScheduled" && c.message.as_deref() == Some(message.as_str())
                })
            });
        if already {
            return;
        }
        let mut pod = pod.clone();
        let now = self.now_time();
        let status = pod.status.get_or_insert_with(Default::default);
        set_condition(
            status.conditions.get_or_insert_with(Vec::new),
            "PodScheduled",
            "False",
            Some("Unschedulable"),
            Some(&message),
            now,
        );
        let key = pod.key();
        self.put(Object::Pod(Box::new(pod)));
        self.record_event(
            &key,
            "Warning",
            "FailedScheduling",
            &message,
            "default-scheduler",
            None,
        );
    }
}

/// What kube-scheduler knows of the Nodes between two Node writes.
#[derive(Debug, Clone, Default)]
pub(crate) struct SchedulerCache {
    /// Node names in list (name) order; a node is known by its position here.
    names: Vec<String>,
    /// Position of each node name in `names`.
    index: BTreeMap<String, usize>,
    /// Per set of pod constraints ([`constraints`]): each node's filter failure, or `None`.
    verdicts: BTreeMap<String, Vec<Option<String>>>,
}

impl SchedulerCache {
    fn of(store: &netsim_model::Store) -> SchedulerCache {
        let names: Vec<String> = store
            .list_typed::<Node>(None)
            .map(|n| n.metadata.name.clone().unwrap_or_default())
            .collect();
        let index = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect();
        SchedulerCache {
            names,
            index,
            verdicts: BTreeMap::new(),
        }
    }
}

/// How many feasible nodes kube-scheduler looks for before it stops filtering
/// (`numFeasibleNodesToFind` with the default adaptive `percentageOfNodesToScore`): every node
/// below 100, then `50 - nodes/125` percent (at least 5%), never fewer than 100.
fn feasible_nodes_to_find(n_nodes: usize) -> usize {
    const MIN_FEASIBLE: usize = 100;
    if n_nodes < MIN_FEASIBLE {
        return n_nodes;
    }
    let percentage = 50usize.saturating_sub(n_nodes / 125).max(5);
    (n_nodes * percentage / 100).max(MIN_FEASIBLE)
}

/// The node names a pod's required node affinity limits it to, when every term names them
/// with `matchFields` `metadata.name In [...]` (NodeAffinity's PreFilter result).
pub(crate) fn pinned_nodes(pod: &Pod) -> Option<BTreeSet<String>> {
    let terms = &pod
        .spec
        .as_ref()?
        .affinity
        .as_ref()?
        .node_affinity
        .as_ref()?
        .required_during_scheduling_ignored_during_execution
        .as_ref()?
        .node_selector_terms;
    let mut names = BTreeSet::new();
    for term in terms {
        let pinned = term
            .match_fields
            .iter()
            .flatten()
            .find(|e| e.key == "metadata.name" && e.operator == "In")?;
        names.extend(pinned.values.iter().flatten().cloned());
    }
    (!terms.is_empty()).then_some(names)
}

/// What of `pod` the filters read (node selector, required node affinity, tolerations), as a
/// string: pods with equal constraints get equal verdicts on every node.
fn constraints(pod: &Pod) -> String {
    let spec = pod.spec.as_ref();
    let affinity = spec
        .and_then(|s| s.affinity.as_ref())
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|a| {
            a.required_during_scheduling_ignored_during_execution
                .as_ref()
        });
    serde_json::json!([
        spec.and_then(|s| s.node_selector.as_ref()),
        affinity,
        spec.and_then(|s| s.tolerations.as_ref()),
    ])
    .to_string()
}

fn owner_uid(pod: &Pod) -> Option<String> {
    pod.metadata
        .owner_references
        .iter()
        .flatten()
        .find(|r| r.controller == Some(true))
        .map(|r| r.uid.clone())
}

/// Why `node` cannot run `pod`, in the scheduler's words, or `Ok`.
fn filter(pod: &Pod, node: &Node) -> Result<(), String> {
    let spec = pod.spec.as_ref();
    let no_labels = BTreeMap::new();
    let labels = node.metadata.labels.as_ref().unwrap_or(&no_labels);
    let tolerations: &[Toleration] = spec.and_then(|s| s.tolerations.as_deref()).unwrap_or(&[]);
    let ready = node
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
    if node.spec.as_ref().and_then(|s| s.unschedulable) == Some(true) {
        return Err("node(s) were unschedulable".into());
    }
    if !ready {
        return Err("node(s) were not ready".into());
    }
    if let Some(sel) = spec.and_then(|s| s.node_selector.as_ref())
        && !sel.iter().all(|(k, v)| labels.get(k) == Some(v))
    {
        return Err("node(s) didn't match Pod's node affinity/selector".into());
    }
    let required = spec
        .and_then(|s| s.affinity.as_ref())
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|a| {
            a.required_during_scheduling_ignored_during_execution
                .as_ref()
        });
    if let Some(req) = required {
        let name = node.metadata.name.clone().unwrap_or_default();
        let any_term = req.node_selector_terms.iter().any(|term| {
            term.match_expressions
                .iter()
                .flatten()
                .all(|e| requirement_holds(e, labels.get(&e.key)))
                && term
                    .match_fields
                    .iter()
                    .flatten()
                    .all(|e| e.key != "metadata.name" || requirement_holds(e, Some(&name)))
        });
        if !any_term {
            return Err("node(s) didn't match Pod's node affinity/selector".into());
        }
    }
    for taint in node
        .spec
        .as_ref()
        .and_then(|s| s.taints.as_ref())
        .into_iter()
        .flatten()
    {
        if (taint.effect == "NoSchedule" || taint.effect == "NoExecute")
            && !tolerations.iter().any(|t| tolerates(t, taint))
        {
            return Err(format!(
                "node(s) had untolerated taint {{{}: {}}}",
                taint.key,
                taint.value.clone().unwrap_or_default()
            ));
        }
    }
    Ok(())
}

fn requirement_holds(e: &NodeSelectorRequirement, value: Option<&String>) -> bool {
    let values = e.values.as_deref().unwrap_or(&[]);
    match e.operator.as_str() {
        "In" => value.is_some_and(|v| values.contains(v)),
        "NotIn" => value.is_none_or(|v| !values.contains(v)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        _ => false,
    }
}

/// Whether toleration `t` tolerates `taint` (the API's matching rules).
pub(crate) fn tolerates(t: &Toleration, taint: &Taint) -> bool {
    if let Some(effect) = t.effect.as_deref()
        && !effect.is_empty()
        && effect != taint.effect
    {
        return false;
    }
    let key = t.key.as_deref().unwrap_or("");
    if !key.is_empty() && key != taint.key {
        return false;
    }
    match t.operator.as_deref().unwrap_or("Equal") {
        "Exists" => true,
        _ => {
            t.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or("")
                && !key.is_empty()
        }
    }
}

/// Sets condition `type_` in `conditions`, moving `lastTransitionTime` only when the status
/// changes.
pub(crate) fn set_condition(
    conditions: &mut Vec<PodCondition>,
    type_: &str,
    status: &str,
    reason: Option<&str>,
    message: Option<&str>,
    now: netsim_model::k8s_openapi::apimachinery::pkg::apis::meta::v1::Time,
) {
    if let Some(c) = conditions.iter_mut().find(|c| c.type_ == type_) {
        if c.status != status {
            c.last_transition_time = Some(now);
        }
        c.status = status.to_string();
        c.reason = reason.map(str::to_string);
        c.message = message.map(str::to_string);
        return;
    }
    conditions.push(PodCondition {
        type_: type_.to_string(),
        status: status.to_string(),
        reason: reason.map(str::to_string),
        message: message.map(str::to_string),
        last_transition_time: Some(now),
        last_probe_time: None,
        observed_generation: None,
    });
}
