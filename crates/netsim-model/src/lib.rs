//! What exists in a simulated cluster.
//!
//! This crate owns the API objects as the API server stores them ([`Object`], typed with
//! k8s-openapi so every real field round-trips), the [`Store`] that holds them, the resource
//! discovery table ([`Kind`]), label selection, and the cluster's shape ([`ClusterConfig`]).
//!
//! It must never do IO, read a clock or draw random numbers: time and randomness are passed in
//! by the engine, files and terminals belong to the CLI.

mod capacity;
pub mod cluster;
pub mod conntrack;
pub mod dns;
pub mod kind;
pub mod labels;
pub mod netfilter;
pub mod netns;
pub mod object;
pub mod packet;
pub mod runtime;
pub mod store;
pub mod trace;

pub use cluster::{
    ClusterConfig, ContainerRuntime, FlannelBackend, HostEntry, Latency, LoadBalancerPool,
    LoadBalancerProvider, NodeSpec, ProxyMode,
};
pub use k8s_openapi;
pub use k8s_openapi::jiff;
pub use kind::Kind;
pub use object::{ApiObject, Object, ObjectKey};
pub use store::Store;
