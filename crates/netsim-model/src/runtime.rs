//! The container runtime's records on a node: each pod's sandbox (the pause container, which
//! holds the pod's network namespace) and its containers, with ids, PIDs and creation times.
//!
//! `docker ps`, `crictl ps`, `docker inspect` and `nsenter -t PID` read these; the pod's
//! `status.containerStatuses[].containerID` is the same id. This module must never format.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One container (or the sandbox's pause container).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerRec {
    /// Container name in the pod (`POD` for the pause container).
    pub name: String,
    /// 64 hex digits.
    pub id: String,
    /// Host PID of its first process.
    pub pid: u32,
    /// Image as the runtime names it.
    pub image: String,
    /// Command line.
    pub command: String,
    /// Creation, milliseconds since the epoch.
    pub created_ms: i64,
}

/// A pod's sandbox and containers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sandbox {
    /// `namespace/name` of the pod.
    pub pod: String,
    /// The pod's uid.
    pub uid: String,
    /// The pause container.
    pub pause: ContainerRec,
    /// The pod's containers, in start order.
    pub containers: Vec<ContainerRec>,
}

/// A node's runtime state.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeRuntime {
    /// The next PID the node's kernel hands out.
    pub next_pid: u32,
    /// Sandboxes by pod uid.
    pub sandboxes: BTreeMap<String, Sandbox>,
}

impl NodeRuntime {
    /// The sandbox whose pause container or any container has `pid`.
    pub fn by_pid(&self, pid: u32) -> Option<&Sandbox> {
        self.sandboxes
            .values()
            .find(|s| s.pause.pid == pid || s.containers.iter().any(|c| c.pid == pid))
    }

    /// The sandbox and container whose id starts with `prefix` (docker accepts id prefixes and
    /// names).
    pub fn find_container(&self, prefix: &str) -> Option<(&Sandbox, &ContainerRec)> {
        self.sandboxes.values().find_map(|s| {
            std::iter::once(&s.pause)
                .chain(s.containers.iter())
                .find(|c| !prefix.is_empty() && c.id.starts_with(prefix))
                .map(|c| (s, c))
        })
    }
}
