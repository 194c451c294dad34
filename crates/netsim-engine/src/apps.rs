//! What the simulated containers write to their logs: CoreDNS's startup banner (with the SHA512
//! of the Corefile it loaded, read from the `coredns` ConfigMap), nginx's entrypoint and
//! startup notices, and httpd's startup lines. Other images log nothing netsim knows of.
//!
//! This module owns application behaviour visible in `kubectl logs`; it must never decide how
//! kubectl prints it.

use crate::sim::Sim;
use netsim_model::k8s_openapi::api::core::v1::Pod;

/// The image's `ENTRYPOINT` and `CMD` for the images the lesson uses (what runs when the pod
/// spec gives no `command`/`args`); unknown images have none netsim knows of.
pub fn image_defaults(image: &str) -> (&'static [&'static str], &'static [&'static str]) {
    let repo = image
        .rsplit('/')
        .next()
        .unwrap_or("")
        .split(['@', ':'])
        .next()
        .unwrap_or("");
    match repo {
        "nginx" => (&["/docker-entrypoint.sh"], &["nginx", "-g", "daemon off;"]),
        "httpd" => (&[], &["httpd-foreground"]),
        "busybox" => (&[], &["sh"]),
        "coredns" => (&["/coredns"], &[]),
        "pause" => (&["/pause"], &[]),
        _ => (&[], &[]),
    }
}

impl Sim {
    /// The log lines of `container` in `pod`, as the container runtime keeps them.
    pub fn container_logs(&self, pod: &Pod, container: &str) -> Vec<String> {
        let mut lines = self.startup_logs(pod, container);
        if let Some(served) = pod.metadata.uid.as_ref().and_then(|u| self.app_logs.get(u)) {
            lines.extend(served.iter().map(|l| l.text().into_owned()));
        }
        lines
    }

    /// What the container wrote when it started.
    fn startup_logs(&self, pod: &Pod, container: &str) -> Vec<String> {
        let Some(c) = pod
            .spec
            .as_ref()
            .and_then(|s| s.containers.iter().find(|c| c.name == container))
        else {
            return Vec::new();
        };
        let image = c.image.clone().unwrap_or_default();
        let started = pod
            .status
            .as_ref()
            .and_then(|s| s.container_statuses.as_ref())
            .and_then(|cs| cs.iter().find(|s| s.name == container))
            .and_then(|s| s.state.as_ref()?.running.as_ref()?.started_at.clone());
        let repo = image
            .rsplit('/')
            .next()
            .unwrap_or("")
            .split(':')
            .next()
            .unwrap_or("");
        match repo {
            "coredns" => {
                let corefile = self.corefile_text();
                let digest = crate::coredns::corefile_digest(&corefile);
                let zones: Vec<String> = corefile
                    .lines()
                    .filter(|l| !l.starts_with(' ') && l.trim_end().ends_with('{'))
                    .map(|l| l.trim_end().trim_end_matches('{').trim().to_string())
                    .collect();
                let mut lines: Vec<String> = zones;
                lines.push(format!(
                    "[INFO] plugin/reload: Running configuration SHA512 = {digest}"
                ));
                lines.push("CoreDNS-1.10.1".into());
                lines.push("linux/amd64, go1.20, 055b2c3".into());
                lines
            }
            "nginx" => {
                let Some(t) = started else { return Vec::new() };
                let stamp = t.0.strftime("%Y/%m/%d %H:%M:%S").to_string();
                let mut lines: Vec<String> = [
                    "/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration",
                    "/docker-entrypoint.sh: Looking for shell scripts in /docker-entrypoint.d/",
                    "/docker-entrypoint.sh: Launching /docker-entrypoint.d/10-listen-on-ipv6-by-default.sh",
                    "10-listen-on-ipv6-by-default.sh: info: Getting the checksum of /etc/nginx/conf.d/default.conf",
                    "10-listen-on-ipv6-by-default.sh: info: Enabled listen on IPv6 in /etc/nginx/conf.d/default.conf",
                    "/docker-entrypoint.sh: Sourcing /docker-entrypoint.d/15-local-resolvers.envsh",
                    "/docker-entrypoint.sh: Launching /docker-entrypoint.d/20-envsubst-on-templates.sh",
                    "/docker-entrypoint.sh: Launching /docker-entrypoint.d/30-tune-worker-processes.sh",
                    "/docker-entrypoint.sh: Configuration complete; ready for start up",
                ]
                .into_iter()
                .map(str::to_string)
                .collect();
                for notice in [
                    "using the \"epoll\" event method",
                    "nginx/1.25.3",
                    "built by gcc 12.2.0 (Debian 12.2.0-14) ",
                    "OS: Linux 5.15.0-105-generic",
                    "getrlimit(RLIMIT_NOFILE): 1048576:1048576",
                    "start worker processes",
                    "start worker process 29",
                    "start worker process 30",
                ] {
                    lines.push(format!("{stamp} [notice] 1#1: {notice}"));
                }
                lines
            }
            "httpd" => {
                let Some(t) = started else { return Vec::new() };
                let ip = pod
                    .status
                    .as_ref()
                    .and_then(|s| s.pod_ip.clone())
                    .unwrap_or_default();
                let stamp = t.0.strftime("%a %b %d %H:%M:%S").to_string();
                let year = t.0.strftime("%Y").to_string();
                let fqdn = format!(
                    "AH00558: httpd: Could not reliably determine the server's fully qualified domain name, using {ip}. Set the 'ServerName' directive globally to suppress this message"
                );
                vec![
                    fqdn.clone(),
                    fqdn,
                    format!(
                        "[{stamp}.000125 {year}] [mpm_event:notice] [pid 1:tid 1] AH00489: Apache/2.4.58 (Unix) configured -- resuming normal operations"
                    ),
                    format!(
                        "[{stamp}.000190 {year}] [core:notice] [pid 1:tid 1] AH00094: Command line: 'httpd -D FOREGROUND'"
                    ),
                ]
            }
            _ => Vec::new(),
        }
    }
}
