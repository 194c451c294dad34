//! The discrete-event engine: what happens in a simulated cluster over virtual time.
//!
//! [`Sim`] owns the virtual clock, the event queue, the one seeded RNG and the object store, and
//! runs the control plane against them: the API server's write path ([`apiserver`]), the
//! scheduler and controllers ([`controllers`]) and the node agents (the kubelet's pod lifecycle).
//! Controllers react at the instant something changes; what takes time in a real cluster (image
//! pulls, container start, load-balancer provisioning, graceful termination) is an [`Event`] on
//! the queue.
//!
//! The engine never formats output, touches files or reads the wall clock.

pub mod apiserver;
pub mod apps;
pub mod bootstrap;
pub mod controllers;
pub mod coredns;
pub mod dataplane;
pub mod error;
pub mod ingress;
pub mod kube_proxy;
pub mod netfilter;
pub mod outside;
pub mod pod_files;
pub mod queue;
pub mod resolver;
pub mod rng;
pub mod servers;
pub mod sim;
pub mod time;

pub use error::ApiError;
pub use queue::Event;
pub use sim::{Advanced, NodeRecords, Sim, WriteOptions};
