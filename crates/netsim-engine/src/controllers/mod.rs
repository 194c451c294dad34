//! The control plane's controllers and the node agents, each a level-triggered reconcile step
//! run by [`crate::Sim::settle`].
//!
//! Controllers read the store and write through the engine's `put`/`remove`; they must never
//! allocate addresses (the API server does) nor format output.

mod cni;
mod daemonset;
mod deployment;
mod endpoints;
pub mod events;
mod ingress_nginx;
mod kubelet;
mod loadbalancer;
mod podgc;
mod scheduler;

use netsim_model::k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use netsim_model::{Kind, Object};

pub use cni::{PAUSE_IMAGE, image_id};
pub use deployment::pod_template_hash;
pub(crate) use deployment::replicaset_facts_changed;
pub(crate) use events::EventIndex;
pub(crate) use scheduler::SchedulerCache;

/// A controller owner reference to `owner` (`controller: true, blockOwnerDeletion: true`).
/// A pod from its JSON form (for the controllers' tests).
#[cfg(test)]
pub(crate) fn pod_from_json(
    value: serde_json::Value,
) -> netsim_model::k8s_openapi::api::core::v1::Pod {
    serde_json::from_value(value).expect("a pod")
}

/// The controlling owner reference to the object of `kind` with `metadata`.
pub(crate) fn controller_ref_to(kind: Kind, metadata: &ObjectMeta) -> OwnerReference {
    OwnerReference {
        api_version: kind.api_version(),
        kind: kind.info().kind.to_string(),
        name: metadata.name.clone().unwrap_or_default(),
        uid: metadata.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// `object`'s controlling owner reference of kind `kind`, if any.
pub(crate) fn controller_of(object: &Object, kind: Kind) -> Option<&OwnerReference> {
    object
        .metadata()
        .owner_references
        .iter()
        .flatten()
        .find(|r| r.controller == Some(true) && r.kind == kind.info().kind)
}

/// The uid of `object`'s controller of kind `kind`, if any.
pub(crate) fn controller_uid(object: &Object, kind: Kind) -> Option<&str> {
    controller_of(object, kind).map(|r| r.uid.as_str())
}
