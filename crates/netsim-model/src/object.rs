//! An API object as the API server stores it, and its identity.
//!
//! [`Object`] wraps the typed k8s-openapi struct of each [`Kind`] so that every field a user
//! writes survives `apply` → `get -o yaml` → `snapshot save`. This module owns conversion between
//! objects and their JSON form; it must never default, validate or decide anything.

use crate::kind::Kind;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{ConfigMap, Endpoints, Event, Namespace, Node, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::{Ingress, IngressClass};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Identity of a stored object: kind, namespace (empty for cluster-scoped kinds) and name.
///
/// Ordered by kind, then namespace, then name, which is the order kubectl lists objects in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ObjectKey {
    /// The object's kind.
    pub kind: Kind,
    /// Namespace; empty for cluster-scoped kinds.
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
}

impl ObjectKey {
    /// A key for `kind` `namespace/name`; the namespace is dropped for cluster-scoped kinds.
    pub fn new(kind: Kind, namespace: &str, name: &str) -> ObjectKey {
        let namespace = if kind.info().namespaced {
            namespace
        } else {
            ""
        };
        ObjectKey {
            kind,
            namespace: namespace.to_string(),
            name: name.to_string(),
        }
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{}/{}", self.kind.qualified_singular(), self.name)
        } else {
            write!(
                f,
                "{}/{}/{}",
                self.kind.qualified_singular(),
                self.namespace,
                self.name
            )
        }
    }
}

/// A typed API object of one [`Kind`] that an [`Object`] can hold.
pub trait ApiObject: Sized + Clone + Into<Object> + 'static {
    /// The kind of this type.
    const KIND: Kind;
    /// The typed object inside `o`, if `o` is of this kind.
    fn from_object(o: &Object) -> Option<&Self>;
    /// The typed object inside `o`, mutably, if `o` is of this kind.
    fn from_object_mut(o: &mut Object) -> Option<&mut Self>;
    /// `metadata`.
    fn meta(&self) -> &ObjectMeta;
    /// The object's key in the store.
    fn key(&self) -> ObjectKey {
        let m = self.meta();
        ObjectKey::new(
            Self::KIND,
            m.namespace.as_deref().unwrap_or(""),
            m.name.as_deref().unwrap_or(""),
        )
    }
}

macro_rules! objects {
    ($($variant:ident($ty:ty)),* $(,)?) => {
        /// One stored API object of any kind netsim models.
        ///
        /// Each variant is boxed: the typed objects are 0.4–2.4 KB inline, and an unboxed
        /// enum would give every Event the room of a Deployment and copy kilobytes each time
        /// an object moves.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Object {
            $(
                #[doc = concat!("A `", stringify!($variant), "`.")]
                $variant(Box<$ty>),
            )*
        }

        impl Object {
            /// The object's kind.
            pub fn kind(&self) -> Kind {
                match self { $(Object::$variant(_) => Kind::$variant,)* }
            }

            /// `metadata`.
            pub fn metadata(&self) -> &ObjectMeta {
                match self { $(Object::$variant(o) => &o.metadata,)* }
            }

            /// `metadata`, mutably.
            pub fn metadata_mut(&mut self) -> &mut ObjectMeta {
                match self { $(Object::$variant(o) => &mut o.metadata,)* }
            }

            /// The object as JSON, with `apiVersion` and `kind` set and keys sorted, the way
            /// the API server returns it.
            pub fn to_json(&self) -> serde_json::Value {
                let value = match self {
                    $(Object::$variant(o) => serde_json::to_value(o),)*
                };
                // Serialising these plain data types cannot fail: they hold no maps with
                // non-string keys and no types with fallible Serialize impls.
                value.unwrap_or(serde_json::Value::Null)
            }

            /// Reads an object of `kind` from its JSON form (ignoring unknown fields; strict
            /// decoding is the manifest crate's job).
            pub fn from_json(kind: Kind, value: serde_json::Value) -> Result<Object, serde_json::Error> {
                Ok(match kind {
                    $(Kind::$variant => Object::$variant(Box::new(serde_json::from_value(value)?)),)*
                })
            }

            /// Reads one object of `kind` from its JSON text (an element of a state segment),
            /// straight into its type, boxed as it is read.
            pub fn from_json_slice(kind: Kind, text: &[u8]) -> Result<Object, serde_json::Error> {
                Ok(match kind {
                    $(Kind::$variant => Object::$variant(serde_json::from_slice(text)?),)*
                })
            }
        }

        $(
            impl From<$ty> for Object {
                fn from(o: $ty) -> Object { Object::$variant(Box::new(o)) }
            }

            impl TryFrom<Object> for $ty {
                type Error = Object;
                fn try_from(o: Object) -> Result<$ty, Object> {
                    match o { Object::$variant(x) => Ok(*x), other => Err(other) }
                }
            }

            impl ApiObject for $ty {
                const KIND: Kind = Kind::$variant;
                fn from_object(o: &Object) -> Option<&$ty> {
                    match o { Object::$variant(x) => Some(x.as_ref()), _ => None }
                }
                fn from_object_mut(o: &mut Object) -> Option<&mut $ty> {
                    match o { Object::$variant(x) => Some(x.as_mut()), _ => None }
                }
                fn meta(&self) -> &ObjectMeta { &self.metadata }
            }
        )*
    };
}

objects! {
    Namespace(Namespace),
    Node(Node),
    Pod(Pod),
    Service(Service),
    DaemonSet(DaemonSet),
    Deployment(Deployment),
    ReplicaSet(ReplicaSet),
    Endpoints(Endpoints),
    EndpointSlice(EndpointSlice),
    Ingress(Ingress),
    IngressClass(IngressClass),
    ConfigMap(ConfigMap),
    Event(Event),
}

impl Object {
    /// The object's key in the store.
    pub fn key(&self) -> ObjectKey {
        let meta = self.metadata();
        ObjectKey::new(
            self.kind(),
            meta.namespace.as_deref().unwrap_or(""),
            meta.name.as_deref().unwrap_or(""),
        )
    }

    /// `metadata.name`, or the empty string.
    pub fn name(&self) -> &str {
        self.metadata().name.as_deref().unwrap_or("")
    }

    /// `metadata.namespace`, or the empty string.
    pub fn namespace(&self) -> &str {
        self.metadata().namespace.as_deref().unwrap_or("")
    }
}

impl Serialize for Object {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Object::Namespace(o) => o.serialize(serializer),
            Object::Node(o) => o.serialize(serializer),
            Object::Pod(o) => o.serialize(serializer),
            Object::Service(o) => o.serialize(serializer),
            Object::DaemonSet(o) => o.serialize(serializer),
            Object::Deployment(o) => o.serialize(serializer),
            Object::ReplicaSet(o) => o.serialize(serializer),
            Object::Endpoints(o) => o.serialize(serializer),
            Object::EndpointSlice(o) => o.serialize(serializer),
            Object::Ingress(o) => o.serialize(serializer),
            Object::IngressClass(o) => o.serialize(serializer),
            Object::ConfigMap(o) => o.serialize(serializer),
            Object::Event(o) => o.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Object {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Object, D::Error> {
        use serde::de::Error;
        let value = serde_json::Value::deserialize(deserializer)?;
        let api_version = value
            .get("apiVersion")
            .and_then(|v| v.as_str())
            .unwrap_or("");
        let kind_name = value.get("kind").and_then(|v| v.as_str()).unwrap_or("");
        let kind = Kind::from_type(api_version, kind_name).ok_or_else(|| {
            D::Error::custom(format!("unknown object type {api_version}/{kind_name}"))
        })?;
        Object::from_json(kind, value).map_err(D::Error::custom)
    }
}
