//! The world outside the cluster as the outside client sees it: its hosts table (the
//! Cluster document's `outsideHosts` and `OutsideHosts` documents) and the public resolvers'
//! names (`upstreamDNS`). This module answers "which address is this name" for the client that
//! `netsim curl` runs as; it must never look inside the cluster's DNS.

use crate::sim::Sim;
use netsim_model::HostEntry;
use netsim_model::k8s_openapi::api::core::v1::Service;
use std::net::Ipv4Addr;

/// Why a name has no address outside the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutsideMiss {
    /// No hosts line and no public record has the name.
    Unknown,
    /// A hosts line points at a LoadBalancer Service that has no address (yet).
    Pending {
        /// `NAMESPACE/NAME` of the Service.
        service: String,
    },
    /// A hosts line points at a Service that does not exist.
    NoService {
        /// `NAMESPACE/NAME` of the Service.
        service: String,
    },
}

impl Sim {
    /// Adds `hosts` lines to the outside client's table; a name already there now follows the
    /// new line.
    pub fn add_outside_hosts(&mut self, hosts: Vec<HostEntry>) {
        for entry in hosts {
            for name in &entry.names {
                let lower = name.to_ascii_lowercase();
                for old in &mut self.outside_hosts {
                    old.names.retain(|n| n.to_ascii_lowercase() != lower);
                }
            }
            self.outside_hosts.retain(|e| !e.names.is_empty());
            self.outside_hosts.push(entry);
        }
    }

    /// The lines `OutsideHosts` documents added.
    pub fn outside_hosts(&self) -> &[HostEntry] {
        &self.outside_hosts
    }

    /// The address `name` has for the outside client: its hosts table first (lines from
    /// `OutsideHosts` documents before the Cluster document's), then the public DNS.
    pub fn outside_address(&self, name: &str) -> Result<Ipv4Addr, OutsideMiss> {
        let wanted = name.trim_end_matches('.').to_ascii_lowercase();
        let entry = self
            .outside_hosts
            .iter()
            .rev()
            .chain(self.config.outside_hosts.iter())
            .find(|e| e.names.iter().any(|n| n.eq_ignore_ascii_case(&wanted)));
        if let Some(e) = entry {
            if let Some(ip) = e.ip {
                return Ok(ip);
            }
            let service = e.load_balancer_of.clone().unwrap_or_default();
            let (ns, svc) = service.split_once('/').unwrap_or(("", ""));
            let Some(found) = self.store.typed::<Service>(ns, svc) else {
                return Err(OutsideMiss::NoService { service });
            };
            return found
                .status
                .as_ref()
                .and_then(|s| s.load_balancer.as_ref()?.ingress.clone())
                .and_then(|ing| ing.iter().find_map(|i| i.ip.as_deref()?.parse().ok()))
                .ok_or(OutsideMiss::Pending { service });
        }
        self.config
            .upstream_dns
            .get(&wanted)
            .copied()
            .ok_or(OutsideMiss::Unknown)
    }
}
