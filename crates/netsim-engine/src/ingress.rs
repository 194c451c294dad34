//! ingress-nginx (controller v1.9) as configuration: which Ingresses the controller serves, the
//! nginx `server` and `location` blocks it would generate from them, and which one a request
//! (its `Host` header and path) lands in. The data plane asks [`Sim::ingress_route`] when a
//! request reaches a controller pod, then opens the backend connection itself; this module
//! decides, it must never send packets or format output.
//!
//! The rules, from ingress-nginx's `controller.go`, `location.go` and `template.go`:
//! - Ingresses are read oldest first; for one host, a path already defined (same path, same
//!   type) by an older Ingress keeps its backend.
//! - Each host is a `server`; rules without a host belong to the catch-all server `_`, which
//!   also gets every request whose host matches no server. A request for a known host never
//!   falls through to `_`: an unmatched path there gets that server's default backend (404).
//! - `*.example.com` matches exactly one more label; exact names win over wildcards. The `Host`
//!   header is compared without its port and without regard to case.
//! - `Exact` is `location = /p`. `Prefix`, and `ImplementationSpecific` (which v1.x rewrites to
//!   `Prefix`), `/p` is `location /p/` plus `location = /p`: it matches `/p` and `/p/...`, never
//!   `/pq`. An exact location beats any prefix; among prefixes the longest wins.
//! - `spec.defaultBackend` of an Ingress without rules serves the catch-all server's `/`; with
//!   rules, the `/` of the servers that Ingress creates. Without one, `/` is the controller's own
//!   default server, which answers 404.
//!
//! Not modelled: regex paths (`use-regex`, `rewrite-target`), canaries, TLS and SNI.

use crate::sim::Sim;
use netsim_model::k8s_openapi::api::core::v1::{Pod, Service};
use netsim_model::k8s_openapi::api::networking::v1::{Ingress, IngressBackend, IngressClass};
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// The controller ingress-nginx registers its IngressClasses for.
pub const CONTROLLER: &str = "k8s.io/ingress-nginx";

/// Whether `image` is the ingress-nginx controller.
pub fn is_controller_image(image: &str) -> bool {
    image.contains("ingress-nginx/controller")
}

/// Where a request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upstream {
    /// A Service port: proxied to one of its ready endpoints.
    Service {
        /// Namespace (the Ingress's).
        namespace: String,
        /// Service name.
        name: String,
        /// `port.number`, or 0 when the port is named.
        port_number: u16,
        /// `port.name`, when the port is named.
        port_name: Option<String>,
    },
    /// The controller's default server: 404.
    DefaultServer,
    /// A backend that is not a Service (`resource`): ingress-nginx cannot proxy to it (503).
    Unsupported,
}

impl Upstream {
    /// ingress-nginx's upstream name (`default-kubeserve2-80`), as its access log shows it.
    pub fn name(&self) -> String {
        match self {
            Upstream::Service {
                namespace,
                name,
                port_number,
                port_name,
            } => match port_name {
                Some(p) => format!("{namespace}-{name}-{p}"),
                None => format!("{namespace}-{name}-{port_number}"),
            },
            Upstream::DefaultServer => "upstream-default-backend".into(),
            Upstream::Unsupported => "-".into(),
        }
    }
}

/// Which server and location took a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The server name (`kubeserve.example.com`, `*.example.com`, or `_`).
    pub server: String,
    /// The location (`= /exact`, `/prefix/`, `/`).
    pub location: String,
    /// The Ingress (`namespace/name`) whose rule made the location, if any.
    pub ingress: Option<String>,
    /// Where the request goes.
    pub upstream: Upstream,
}

impl Route {
    /// One line for `trace`: which rule took the request.
    pub fn describe(&self) -> String {
        let host = if self.server == "_" {
            "the catch-all server _ (no host matched)".to_string()
        } else {
            format!("server {}", self.server)
        };
        let by = match &self.ingress {
            Some(i) => format!(" of Ingress {i}"),
            None => " (the controller's default)".into(),
        };
        let to = match &self.upstream {
            Upstream::Service {
                name,
                port_number,
                port_name,
                ..
            } => format!(
                "Service {name}:{}",
                port_name.clone().unwrap_or_else(|| port_number.to_string())
            ),
            Upstream::DefaultServer => "the default backend (404)".into(),
            Upstream::Unsupported => "a resource backend (503)".into(),
        };
        format!("{host}, location {}{by} -> {to}", self.location)
    }
}

/// One generated `location`.
#[derive(Debug, Clone)]
struct Location {
    /// The path as nginx matches it: `/p/` for a prefix (`/` for the root), `/p` for exact.
    path: String,
    exact: bool,
    ingress: Option<String>,
    upstream: Upstream,
    /// The root every server starts with (the default backend, or an Ingress's
    /// `defaultBackend`): any rule's own `/` takes its place.
    placeholder: bool,
}

fn upstream_of(namespace: &str, backend: &IngressBackend) -> Upstream {
    match &backend.service {
        Some(svc) => {
            let port = svc.port.as_ref();
            Upstream::Service {
                namespace: namespace.to_string(),
                name: svc.name.clone(),
                port_number: port
                    .and_then(|p| p.number)
                    .and_then(|n| u16::try_from(n).ok())
                    .unwrap_or(0),
                port_name: port.and_then(|p| p.name.clone()),
            }
        }
        None => Upstream::Unsupported,
    }
}

/// nginx's server name match: exact, or `*.suffix` with exactly one more label.
fn wildcard_matches(pattern: &str, host: &str) -> bool {
    let Some(suffix) = pattern.strip_prefix("*.") else {
        return false;
    };
    host.strip_suffix(suffix)
        .and_then(|h| h.strip_suffix('.'))
        .is_some_and(|label| !label.is_empty() && !label.contains('.'))
}

impl Sim {
    /// Whether the ingress-nginx controller serves `ing`: its class is an IngressClass of
    /// [`CONTROLLER`], or (classless) one such class is the default, or the legacy
    /// `kubernetes.io/ingress.class: nginx` annotation names it.
    pub fn ingress_nginx_serves(&self, ing: &Ingress) -> bool {
        let classes: Vec<&IngressClass> = self
            .store
            .list_typed::<IngressClass>(None)
            .filter(|c| c.spec.as_ref().and_then(|s| s.controller.as_deref()) == Some(CONTROLLER))
            .collect();
        if let Some(name) = ing
            .spec
            .as_ref()
            .and_then(|s| s.ingress_class_name.as_deref())
        {
            return classes
                .iter()
                .any(|c| c.metadata.name.as_deref() == Some(name));
        }
        if let Some(a) = ing
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("kubernetes.io/ingress.class"))
        {
            return a == "nginx";
        }
        classes.iter().any(|c| {
            c.metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get("ingressclass.kubernetes.io/is-default-class"))
                .is_some_and(|v| v == "true")
        })
    }

    /// The running ingress-nginx controller pods.
    pub fn ingress_nginx_pods(&self) -> Vec<&Pod> {
        self.store
            .pods_running_image(is_controller_image)
            .into_iter()
            .filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"))
            .collect()
    }

    /// Whether an ingress-nginx controller is installed: a Deployment or pod runs its image
    /// (its pods may still be starting).
    pub fn ingress_nginx_installed(&self) -> bool {
        use netsim_model::k8s_openapi::api::apps::v1::Deployment;
        self.store.list_typed::<Deployment>(None).any(|d| {
            d.spec
                .as_ref()
                .and_then(|s| s.template.spec.as_ref())
                .is_some_and(|s| {
                    s.containers
                        .iter()
                        .any(|c| c.image.as_deref().is_some_and(is_controller_image))
                })
        }) || !self.ingress_nginx_pods().is_empty()
    }

    /// The Ingresses the controller serves, oldest first (then by namespace and name).
    pub fn ingress_nginx_ingresses(&self) -> Vec<&Ingress> {
        let mut list: Vec<&Ingress> = self
            .store
            .list_typed::<Ingress>(None)
            .filter(|i| self.ingress_nginx_serves(i))
            .collect();
        list.sort_by(|a, b| {
            let t = |i: &Ingress| {
                i.metadata
                    .creation_timestamp
                    .as_ref()
                    .map(|t| t.0.as_millisecond())
                    .unwrap_or(0)
            };
            t(a).cmp(&t(b)).then_with(|| {
                (&a.metadata.namespace, &a.metadata.name)
                    .cmp(&(&b.metadata.namespace, &b.metadata.name))
            })
        });
        list
    }

    /// The servers the controller would generate: server name → locations.
    fn ingress_nginx_servers(&self) -> BTreeMap<String, Vec<Location>> {
        let root = |upstream: Upstream, ingress: Option<String>| Location {
            path: "/".into(),
            exact: false,
            ingress,
            upstream,
            placeholder: true,
        };
        let mut servers: BTreeMap<String, Vec<Location>> = BTreeMap::new();
        servers.insert("_".into(), vec![root(Upstream::DefaultServer, None)]);
        for ing in self.ingress_nginx_ingresses() {
            let ns = ing.metadata.namespace.clone().unwrap_or_default();
            let key = format!("{ns}/{}", ing.metadata.name.as_deref().unwrap_or(""));
            let Some(spec) = &ing.spec else { continue };
            let default = spec.default_backend.as_ref().map(|b| upstream_of(&ns, b));
            let rules = spec.rules.as_deref().unwrap_or_default();
            if rules.is_empty() {
                // "defines a backend but no rule": the catch-all server's `/`.
                if let Some(up) = default
                    && let Some(r) = servers.get_mut("_").and_then(|l| l.first_mut())
                    && r.placeholder
                {
                    *r = root(up, Some(key.clone()));
                }
                continue;
            }
            for rule in rules {
                let host = rule
                    .host
                    .as_deref()
                    .filter(|h| !h.is_empty())
                    .map_or_else(|| "_".to_string(), str::to_ascii_lowercase);
                let locs = servers.entry(host).or_insert_with(|| {
                    vec![match &default {
                        Some(up) => root(up.clone(), Some(key.clone())),
                        None => root(Upstream::DefaultServer, None),
                    }]
                });
                let Some(http) = &rule.http else { continue };
                for p in &http.paths {
                    let path = p
                        .path
                        .clone()
                        .filter(|p| !p.is_empty())
                        .unwrap_or_else(|| "/".into());
                    let wanted: Vec<(String, bool)> = if p.path_type == "Exact" {
                        vec![(path, true)]
                    } else if path == "/" {
                        vec![(path, false)]
                    } else {
                        let prefix = format!("{}/", path.trim_end_matches('/'));
                        vec![(prefix, false), (path, true)]
                    };
                    let upstream = upstream_of(&ns, &p.backend);
                    for (lp, lexact) in wanted {
                        match locs.iter_mut().find(|l| l.path == lp && l.exact == lexact) {
                            Some(l) if l.placeholder => {
                                l.ingress = Some(key.clone());
                                l.upstream = upstream.clone();
                                l.placeholder = false;
                            }
                            // An older Ingress (or this one) already has it.
                            Some(_) => {}
                            None => locs.push(Location {
                                path: lp,
                                exact: lexact,
                                ingress: Some(key.clone()),
                                upstream: upstream.clone(),
                                placeholder: false,
                            }),
                        }
                    }
                }
            }
        }
        servers
    }

    /// The ready endpoints (pod address, target port) ingress-nginx balances `upstream` over,
    /// from the Service's EndpointSlices: empty for a missing Service or port, or when no
    /// endpoint is ready (the controller then answers 503).
    pub fn ingress_endpoints(&self, upstream: &Upstream) -> Vec<(Ipv4Addr, u16)> {
        let Upstream::Service {
            namespace,
            name,
            port_number,
            port_name,
        } = upstream
        else {
            return Vec::new();
        };
        let svc_port = self
            .store
            .typed::<Service>(namespace, name)
            .and_then(|s| s.spec.as_ref()?.ports.clone())
            .and_then(|ports| {
                ports.into_iter().find(|p| match port_name {
                    Some(n) => p.name.as_deref() == Some(n.as_str()),
                    None => i32::from(*port_number) == p.port,
                })
            });
        let Some(sp) = svc_port else {
            return Vec::new();
        };
        let want = sp.name.unwrap_or_default();
        let mut ready: Vec<(Ipv4Addr, u16)> = Vec::new();
        for slice in self.service_slices(namespace, name) {
            let port = slice.ports.iter().flatten().find_map(|p| {
                (p.name.clone().unwrap_or_default() == want)
                    .then_some(p.port)
                    .flatten()
            });
            let Some(port) = port.and_then(|p| u16::try_from(p).ok()) else {
                continue;
            };
            for e in &slice.endpoints {
                if !e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true) {
                    continue;
                }
                for a in &e.addresses {
                    if let Ok(ip) = a.parse()
                        && !ready.contains(&(ip, port))
                    {
                        ready.push((ip, port));
                    }
                }
            }
        }
        ready
    }

    /// The server and location a request with `Host: host` for `path` lands in.
    pub fn ingress_route(&self, host: &str, path: &str) -> Route {
        let servers = self.ingress_nginx_servers();
        let host = host
            .split(':')
            .next()
            .unwrap_or("")
            .trim_end_matches('.')
            .to_ascii_lowercase();
        let server = if servers.contains_key(&host) && host != "_" {
            host.clone()
        } else {
            servers
                .keys()
                .find(|s| wildcard_matches(s, &host))
                .cloned()
                .unwrap_or_else(|| "_".into())
        };
        let path = path.split(['?', '#']).next().unwrap_or("/");
        let locs = servers.get(&server).cloned().unwrap_or_default();
        let exact = locs.iter().find(|l| l.exact && l.path == path);
        let best = exact.or_else(|| {
            locs.iter()
                .filter(|l| !l.exact && (path.starts_with(&l.path) || l.path == "/"))
                .max_by_key(|l| l.path.len())
        });
        match best {
            Some(l) => Route {
                server,
                location: if l.exact {
                    format!("= {}", l.path)
                } else {
                    l.path.clone()
                },
                ingress: l.ingress.clone(),
                upstream: l.upstream.clone(),
            },
            None => Route {
                server,
                location: "/".into(),
                ingress: None,
                upstream: Upstream::DefaultServer,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::wildcard_matches;

    #[test]
    fn a_wildcard_host_matches_exactly_one_more_label() {
        assert!(wildcard_matches("*.example.com", "a.example.com"));
        assert!(!wildcard_matches("*.example.com", "example.com"));
        assert!(!wildcard_matches("*.example.com", "a.b.example.com"));
        assert!(!wildcard_matches("*.example.com", ".example.com"));
        assert!(!wildcard_matches("example.com", "example.com"));
    }
}
