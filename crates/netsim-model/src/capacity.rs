//! Spare capacity: room that a stored object's vectors hold beyond their length.
//!
//! serde builds a `Vec` by pushing into an empty one (JSON gives no length ahead), so a read
//! Pod's one 752-byte `ContainerStatus` sits in room for four and its five conditions in room
//! for eight; a controller that pushes builds the same. At 160,000 Pods that room was 590 MB
//! of the 4.6 GB that a converged 5,000-node cluster took to load. The [`Store`] gives back
//! the room of every object it takes, so what it holds is sized to what it says.
//!
//! This module owns only capacity: it must never change what an object says.
//!
//! [`Store`]: crate::Store

use crate::Object;
use k8s_openapi::api::core::v1::{Container, PodSpec, PodStatus, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// Gives back the spare room of `object`'s vectors: those that hold more than a few bytes per
/// object of the kinds a large cluster has many of (the rest are left as read).
pub(crate) fn shrink(object: &mut Object) {
    meta(object.metadata_mut());
    match object {
        Object::Pod(pod) => {
            if let Some(spec) = &mut pod.spec {
                pod_spec(spec);
            }
            if let Some(status) = &mut pod.status {
                pod_status(status);
            }
        }
        Object::Deployment(d) => {
            if let Some(spec) = &mut d.spec {
                template(&mut spec.template);
            }
            if let Some(status) = &mut d.status {
                fit(&mut status.conditions);
            }
        }
        Object::ReplicaSet(rs) => {
            if let Some(t) = rs.spec.as_mut().and_then(|s| s.template.as_mut()) {
                template(t);
            }
            if let Some(status) = &mut rs.status {
                fit(&mut status.conditions);
            }
        }
        Object::DaemonSet(ds) => {
            if let Some(spec) = &mut ds.spec {
                template(&mut spec.template);
            }
            if let Some(status) = &mut ds.status {
                fit(&mut status.conditions);
            }
        }
        Object::EndpointSlice(slice) => {
            slice.endpoints.shrink_to_fit();
            for endpoint in &mut slice.endpoints {
                endpoint.addresses.shrink_to_fit();
            }
            fit(&mut slice.ports);
        }
        Object::Endpoints(endpoints) => {
            for subset in endpoints.subsets.iter_mut().flatten() {
                fit(&mut subset.addresses);
                fit(&mut subset.not_ready_addresses);
                fit(&mut subset.ports);
            }
            fit(&mut endpoints.subsets);
        }
        Object::Service(svc) => {
            if let Some(spec) = &mut svc.spec {
                fit(&mut spec.ports);
                fit(&mut spec.cluster_ips);
                fit(&mut spec.ip_families);
                fit(&mut spec.external_ips);
            }
            if let Some(lb) = svc.status.as_mut().and_then(|s| s.load_balancer.as_mut()) {
                fit(&mut lb.ingress);
            }
        }
        Object::Node(node) => {
            if let Some(spec) = &mut node.spec {
                fit(&mut spec.pod_cidrs);
                fit(&mut spec.taints);
            }
            if let Some(status) = &mut node.status {
                fit(&mut status.addresses);
                fit(&mut status.conditions);
                for image in status.images.iter_mut().flatten() {
                    fit(&mut image.names);
                }
                fit(&mut status.images);
            }
        }
        _ => {}
    }
}

/// Drops the spare room of an optional vector.
fn fit<T>(v: &mut Option<Vec<T>>) {
    if let Some(v) = v {
        v.shrink_to_fit();
    }
}

fn meta(meta: &mut ObjectMeta) {
    fit(&mut meta.owner_references);
    fit(&mut meta.finalizers);
    fit(&mut meta.managed_fields);
}

fn template(t: &mut PodTemplateSpec) {
    if let Some(m) = &mut t.metadata {
        meta(m);
    }
    if let Some(spec) = &mut t.spec {
        pod_spec(spec);
    }
}

fn pod_spec(spec: &mut PodSpec) {
    spec.containers.shrink_to_fit();
    spec.containers.iter_mut().for_each(container);
    if let Some(init) = &mut spec.init_containers {
        init.shrink_to_fit();
        init.iter_mut().for_each(container);
    }
    fit(&mut spec.tolerations);
    fit(&mut spec.volumes);
}

fn container(c: &mut Container) {
    fit(&mut c.args);
    fit(&mut c.command);
    fit(&mut c.env);
    fit(&mut c.ports);
    fit(&mut c.volume_mounts);
}

fn pod_status(status: &mut PodStatus) {
    fit(&mut status.conditions);
    fit(&mut status.container_statuses);
    fit(&mut status.init_container_statuses);
    fit(&mut status.pod_ips);
    fit(&mut status.host_ips);
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::Pod;

    /// The room `v` holds beyond its length.
    fn spare<T>(v: &Option<Vec<T>>) -> usize {
        v.as_ref().map_or(0, |v| v.capacity() - v.len())
    }

    /// A Pod as the state file holds one: a container status and five conditions.
    const POD: &str = r#"{"metadata":{"name":"web","namespace":"default",
        "ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web-1","uid":"u"}]},
        "spec":{"containers":[{"name":"web","image":"httpd:2.4","ports":[{"containerPort":80}]}],
          "tolerations":[{"key":"a","operator":"Exists"}]},
        "status":{"conditions":[{"type":"A","status":"True"},{"type":"B","status":"True"},
          {"type":"C","status":"True"},{"type":"D","status":"True"},{"type":"E","status":"True"}],
          "containerStatuses":[{"name":"web","image":"httpd:2.4","imageID":"","ready":true,
            "restartCount":0}],
          "podIPs":[{"ip":"10.244.1.2"}]}}"#;

    #[test]
    fn a_read_pod_keeps_no_spare_room_and_says_the_same() {
        let read: Pod = serde_json::from_str(POD).expect("valid pod");
        let status = read.status.as_ref().expect("status");
        // What this module is for: serde leaves room (if it stops, the test says so).
        assert!(spare(&status.container_statuses) > 0);
        let mut object = Object::Pod(Box::new(read.clone()));
        shrink(&mut object);
        let Object::Pod(pod) = &object else {
            unreachable!("shrink keeps the kind")
        };
        assert_eq!(**pod, read);
        let status = pod.status.as_ref().expect("status");
        let spec = pod.spec.as_ref().expect("spec");
        assert_eq!(spare(&status.conditions), 0);
        assert_eq!(spare(&status.container_statuses), 0);
        assert_eq!(spare(&status.pod_ips), 0);
        assert_eq!(spare(&spec.tolerations), 0);
        assert_eq!(spare(&spec.containers[0].ports), 0);
        assert_eq!(spare(&pod.metadata.owner_references), 0);
        // The store shrinks what it takes, from a state segment as from a write.
        let mut store = crate::Store::new();
        store
            .load_object(crate::Kind::Pod, POD.as_bytes())
            .expect("loads");
        let stored = store.typed::<Pod>("default", "web").expect("stored");
        let status = stored.status.as_ref().expect("status");
        assert_eq!(spare(&status.container_statuses), 0);
        assert_eq!(spare(&status.conditions), 0);
    }
}
