//! The network clients: `curl`, busybox `wget`, `ping` and `conntrack -L` on a node or in a
//! pod, `netsim curl` from outside the cluster, and `netsim trace`. Each runs synthetic packets
//! through the engine's data plane and prints what the real tool prints.

use crate::node::Place;
use crate::output::Output;
use netsim_engine::Sim;
use netsim_engine::dataplane::{HttpOutcome, HttpResult, PingReply};
use netsim_engine::servers::{HttpRequest, image_repo};
use netsim_model::netfilter::TableName;
use netsim_model::trace::NsId;
use netsim_print::iptables::rule_text;
use std::net::Ipv4Addr;

/// Which curl prints the messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CurlVersion {
    /// Ubuntu 22.04's, on the nodes and the outside client.
    V7_81,
    /// Debian 12's, in the nginx image.
    V7_88,
    /// curlimages/curl and netshoot.
    V8,
}

impl CurlVersion {
    fn agent(self) -> &'static str {
        match self {
            CurlVersion::V7_81 => "curl/7.81.0",
            CurlVersion::V7_88 => "curl/7.88.1",
            CurlVersion::V8 => "curl/8.5.0",
        }
    }
}

/// The client tools an image ships: (curl, busybox wget and ping).
fn image_tools(image: &str) -> (Option<CurlVersion>, bool) {
    match image_repo(image) {
        "nginx" => (Some(CurlVersion::V7_88), false),
        "curl" | "netshoot" => (Some(CurlVersion::V8), true),
        "busybox" | "alpine" => (None, true),
        _ => (None, false),
    }
}

/// The first container's image of `pod`.
fn first_image(pod: &netsim_model::k8s_openapi::api::core::v1::Pod) -> String {
    pod.spec
        .as_ref()
        .and_then(|s| s.containers.first())
        .and_then(|c| c.image.clone())
        .unwrap_or_default()
}

/// Whether BIND's `dig`, `host` and `nslookup` are there: on a node (bind9-dnsutils), through
/// `nsenter` (the node's binaries), and in the DNS tool images.
fn bind_tools(place: &Place) -> bool {
    match place {
        Place::Node(_)
        | Place::Pod {
            node_tools: true, ..
        } => true,
        Place::Pod { pod, .. } => matches!(
            image_repo(&first_image(pod)),
            "netshoot" | "dnsutils" | "jessie-dnsutils" | "dnstools"
        ),
    }
}

fn ns_of(place: &Place) -> NsId {
    match place {
        Place::Node(n) => NsId::Node(n.clone()),
        Place::Pod { pod, .. } => NsId::Pod(format!(
            "{}/{}",
            pod.metadata.namespace.as_deref().unwrap_or(""),
            pod.metadata.name.as_deref().unwrap_or("")
        )),
    }
}

/// Handles the network commands; `None` for any other command.
pub fn run(out: &mut Output, sim: &mut Sim, place: &Place, argv: &[String]) -> Option<()> {
    let mut args: Vec<&str> = argv.iter().map(String::as_str).collect();
    while args.first() == Some(&"sudo") {
        args.remove(0);
    }
    let (&cmd, rest) = args.split_first()?;
    if !matches!(
        cmd,
        "curl" | "wget" | "ping" | "conntrack" | "nslookup" | "dig" | "getent" | "host"
    ) {
        return None;
    }
    if cmd == "getent" {
        let (resolv_text, hosts, glibc) = match place {
            Place::Node(n) => {
                let rc = sim.node_resolv(n);
                (sim.render_resolv(&rc), sim.node_etc_hosts(n), true)
            }
            Place::Pod { pod, node_tools } => {
                let image = pod
                    .spec
                    .as_ref()
                    .and_then(|s| s.containers.first())
                    .and_then(|c| c.image.clone())
                    .unwrap_or_default();
                let glibc = *node_tools
                    || matches!(image_repo(&image), "nginx" | "httpd" | "debian" | "ubuntu");
                (sim.pod_resolv_conf(pod), sim.pod_etc_hosts(pod), glibc)
            }
        };
        if !glibc {
            out.errln("OCI runtime exec failed: exec failed: unable to start container process: exec: \"getent\": executable file not found in $PATH: unknown");
            out.errln("command terminated with exit code 126");
            out.code = 126;
            return Some(());
        }
        crate::dns::getent_hosts(out, sim, ns_of(place), &resolv_text, hosts, rest);
        return Some(());
    }
    if matches!(cmd, "dig" | "host") || (cmd == "nslookup" && bind_tools(place)) {
        if !bind_tools(place) {
            out.errln(format!("OCI runtime exec failed: exec failed: unable to start container process: exec: \"{cmd}\": executable file not found in $PATH: unknown"));
            out.errln("command terminated with exit code 126");
            out.code = 126;
            out.hint(format!("this image has no `{cmd}`; images such as nicolaka/netshoot or registry.k8s.io/e2e-test-images/jessie-dnsutils have it, and every node has it"));
            return Some(());
        }
        let resolv = match place {
            Place::Node(n) => sim.node_resolv(n),
            Place::Pod { pod, .. } => sim.pod_resolv(pod).0,
        };
        let resolv_text = sim.render_resolv(&resolv);
        match cmd {
            "dig" => crate::dns::dig(out, sim, ns_of(place), &resolv_text, rest),
            "host" => crate::dns::bind_host(out, sim, ns_of(place), &resolv_text, rest),
            _ => crate::dns::bind_nslookup(out, sim, ns_of(place), &resolv_text, rest),
        }
        return Some(());
    }
    if cmd == "nslookup" {
        let image = match place {
            Place::Pod { pod, .. } => first_image(pod),
            Place::Node(_) => String::new(),
        };
        let Place::Pod { pod, .. } = place else {
            return Some(());
        };
        if image_repo(&image) == "busybox" && crate::dns::busybox_small_nslookup(&image) {
            crate::dns::nslookup(out, sim, pod, crate::dns::busybox_libc(&image), rest);
        } else if image_repo(&image) == "busybox" && !crate::dns::busybox_has_search(&image) {
            out.fail(format!("netsim: busybox {}'s nslookup (1.29 to 1.32: its own resolver, without search domains) is not simulated; 1.28.4's and 1.33 and later's are", image.rsplit(':').next().unwrap_or("latest")));
        } else if matches!(image_repo(&image), "busybox" | "alpine") {
            let banner = if image_repo(&image) == "alpine" {
                "BusyBox v1.36.1 (2023-06-02 00:42:02 UTC) multi-call binary."
            } else {
                "BusyBox v1.36.1 (2023-05-18 22:34:17 UTC) multi-call binary."
            };
            crate::dns::busybox_nslookup(out, sim, pod, banner, rest);
        } else {
            out.errln("OCI runtime exec failed: exec failed: unable to start container process: exec: \"nslookup\": executable file not found in $PATH: unknown");
            out.errln("command terminated with exit code 126");
            out.code = 126;
            out.hint("this image has no `nslookup`; the lesson's busybox:1.28.4 pod has");
        }
        return Some(());
    }
    // In a pod, `kubectl exec` runs the image's own binaries; `nsenter` runs the node's.
    let (curl, busybox) = match place {
        Place::Node(_)
        | Place::Pod {
            node_tools: true, ..
        } => (Some(CurlVersion::V7_81), false),
        Place::Pod { pod, .. } => {
            let image = pod
                .spec
                .as_ref()
                .and_then(|s| s.containers.first())
                .and_then(|c| c.image.clone())
                .unwrap_or_default();
            image_tools(&image)
        }
    };
    let missing = |out: &mut Output| {
        out.errln(format!(
            "OCI runtime exec failed: exec failed: unable to start container process: exec: \"{cmd}\": executable file not found in $PATH: unknown"
        ));
        out.errln("command terminated with exit code 126");
        out.code = 126;
        out.hint(format!(
            "this image has no `{cmd}`; busybox has `wget -qO- URL` and `ping`, nginx has `curl`"
        ));
    };
    let ns = ns_of(place);
    match cmd {
        "curl" => match curl {
            // Over `ssh NODE CMD` and `kubectl exec`, curl's stdout is not a terminal.
            Some(v) => curl_cmd(out, sim, ns, v, rest, true),
            None => missing(out),
        },
        "wget" => {
            if busybox
                || matches!(
                    place,
                    Place::Node(_)
                        | Place::Pod {
                            node_tools: true,
                            ..
                        }
                )
            {
                wget_cmd(out, sim, ns, rest);
            } else {
                missing(out);
            }
        }
        "ping" => {
            let iputils = matches!(
                place,
                Place::Node(_)
                    | Place::Pod {
                        node_tools: true,
                        ..
                    }
            );
            if iputils || busybox {
                ping_cmd(out, sim, ns, iputils, rest);
            } else {
                missing(out);
            }
        }
        _ => match place {
            Place::Node(node) => conntrack_cmd(out, sim, node, rest),
            Place::Pod { .. } => missing(out),
        },
    }
    Some(())
}

/// A parsed `http://host[:port]/path`.
struct Url {
    host: String,
    port: u16,
    path: String,
}

fn parse_url(text: &str) -> Result<Url, String> {
    let rest = match text.split_once("://") {
        Some(("http", rest)) => rest,
        Some((scheme, _)) => {
            return Err(format!(
                "Protocol \"{scheme}\" not supported or disabled in libcurl"
            ));
        }
        None => text,
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].to_string()),
        None => (rest, "/".to_string()),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (
            h.to_string(),
            p.parse::<u16>()
                .map_err(|_| format!("URL using bad/illegal format or missing URL: {text}"))?,
        ),
        None => (authority.to_string(), 80),
    };
    if host.is_empty() {
        return Err("No host part in the URL".into());
    }
    Ok(Url { host, port, path })
}

/// How a client's name lookup ended without an address.
enum NoAddress {
    /// The resolver found nothing (or no nameserver answered).
    NotFound,
    /// Outside the cluster: a hosts line names a load balancer that has no address yet.
    Pending(String),
    /// Outside the cluster: a hosts line names a Service that does not exist.
    NoService(String),
}

/// The libc resolver a client in `ns` runs: glibc on a node and in Debian-based images, musl
/// in Alpine-based ones, busybox's own build in busybox.
fn client_libc(sim: &Sim, ns: &NsId) -> netsim_engine::resolver::Libc {
    use netsim_engine::resolver::Libc;
    let NsId::Pod(key) = ns else {
        return Libc::Glibc;
    };
    let image = key
        .split_once('/')
        .and_then(|(n, p)| {
            sim.store()
                .typed::<netsim_model::k8s_openapi::api::core::v1::Pod>(n, p)
        })
        .map(first_image)
        .unwrap_or_default();
    match image_repo(&image) {
        "busybox" => crate::dns::busybox_libc(&image),
        "alpine" | "curl" | "netshoot" => Libc::Musl,
        _ => Libc::Glibc,
    }
}

/// The address a client in `ns` connects to for `host`: an address literal as is; a name
/// through the client's own resolver (its `/etc/hosts`, then DNS queries over the data plane
/// to the nameservers of its `resolv.conf`), or, outside the cluster, the outside client's
/// hosts table and the public DNS.
fn resolve_dp(
    dp: &mut netsim_engine::dataplane::Dataplane<'_>,
    ns: &NsId,
    host: &str,
) -> Result<Ipv4Addr, NoAddress> {
    use netsim_engine::resolver::{ResolvConf, Resolved, Resolver};
    if let Ok(ip) = host.parse() {
        return Ok(ip);
    }
    let (resolv_text, hosts) = match ns {
        NsId::External | NsId::Internet => {
            return dp.sim().outside_address(host).map_err(|m| match m {
                netsim_engine::outside::OutsideMiss::Unknown => NoAddress::NotFound,
                netsim_engine::outside::OutsideMiss::Pending { service } => {
                    NoAddress::Pending(service)
                }
                netsim_engine::outside::OutsideMiss::NoService { service } => {
                    NoAddress::NoService(service)
                }
            });
        }
        NsId::Node(n) => {
            let rc = dp.sim().node_resolv(n);
            (dp.sim().render_resolv(&rc), dp.sim().node_etc_hosts(n))
        }
        NsId::Pod(key) => {
            let (namespace, name) = key.split_once('/').ok_or(NoAddress::NotFound)?;
            let pod = dp
                .sim()
                .store()
                .typed::<netsim_model::k8s_openapi::api::core::v1::Pod>(namespace, name)
                .cloned()
                .ok_or(NoAddress::NotFound)?;
            (dp.sim().pod_resolv_conf(&pod), dp.sim().pod_etc_hosts(&pod))
        }
    };
    let libc = client_libc(dp.sim(), ns);
    let mut r = Resolver {
        dp,
        from: ns.clone(),
        conf: ResolvConf::parse(&resolv_text),
        hosts,
        libc,
        log: Vec::new(),
    };
    match r.getaddrinfo(host) {
        Resolved::Found(addrs) => addrs
            .iter()
            .find_map(|a| a.parse().ok())
            .ok_or(NoAddress::NotFound),
        Resolved::NotFound | Resolved::Unreachable => Err(NoAddress::NotFound),
    }
}

/// [`resolve_dp`] on a data plane of its own; the lookup's time passes on the clock.
fn resolve(sim: &mut Sim, ns: &NsId, host: &str) -> Result<Ipv4Addr, NoAddress> {
    if let Ok(ip) = host.parse() {
        return Ok(ip);
    }
    let mut dp = sim.dataplane();
    let found = resolve_dp(&mut dp, ns, host);
    let elapsed = dp.elapsed_ns();
    drop(dp);
    sim.advance(netsim_model::jiff::SignedDuration::from_nanos(
        elapsed as i64,
    ));
    found
}

/// A hint for a name the outside client could not resolve.
fn outside_hint(out: &mut Output, host: &str, why: &NoAddress) {
    match why {
        NoAddress::Pending(service) => out.hint(format!(
            "the outside hosts table points {host} at the load balancer of Service {service}, which has no address yet (`kubectl get svc -n {} -w`)",
            service.split('/').next().unwrap_or("")
        )),
        NoAddress::NoService(service) => out.hint(format!(
            "the outside hosts table points {host} at the load balancer of Service {service}, which does not exist{}",
            if service == "ingress-nginx/ingress-nginx-controller" {
                ": install the controller with `netsim apply -f scenarios/ingress-nginx.yaml`"
            } else {
                ""
            }
        )),
        NoAddress::NotFound => out.hint(format!(
            "outside the cluster a name needs a line in the outside hosts table (an OutsideHosts document), `--resolve {host}:80:ADDRESS`, or the address with `-H 'Host: {host}'`"
        )),
    }
}

struct CurlOpts {
    silent: bool,
    show_error: bool,
    verbose: bool,
    include: bool,
    head: bool,
    write_out: Option<String>,
    output_null: bool,
    max_time_ms: Option<u64>,
    connect_timeout_ms: Option<u64>,
    host_header: Option<String>,
    resolve: Vec<(String, u16, Ipv4Addr)>,
    count: u32,
    url: Option<String>,
    /// netsim's own: write the exchange's packets to this pcapng file.
    pcap: Option<String>,
}

/// curl's short options as separate words: `-si` is `-s -i`, `-so FILE` is `-s -o FILE`, and
/// `-oFILE` is `-o FILE` (a letter that takes a value ends the group).
fn split_short_options(args: &[&str]) -> Vec<String> {
    const TAKES_VALUE: &str = "owmHXduAexrTEbcFKYyzCPQ";
    let mut out = Vec::new();
    let mut value_next = false;
    for a in args {
        let group = a.len() > 2 && a.starts_with('-') && !a.starts_with("--");
        if value_next || !group {
            value_next = a.len() == 2 && a.starts_with('-') && TAKES_VALUE.contains(&a[1..]);
            out.push(a.to_string());
            continue;
        }
        value_next = false;
        let letters: Vec<char> = a[1..].chars().collect();
        for (i, c) in letters.iter().enumerate() {
            out.push(format!("-{c}"));
            if TAKES_VALUE.contains(*c) {
                let rest: String = letters[i + 1..].iter().collect();
                if rest.is_empty() {
                    value_next = true;
                } else {
                    out.push(rest);
                }
                break;
            }
        }
    }
    out
}

/// The most requests `curl --count` makes: enough to see a load-balancing split settle, and
/// a bound on the command's time and on the conntrack entries (each request leaves one in
/// TIME_WAIT for two virtual minutes) that the state then carries.
const MAX_COUNT: u32 = 100_000;

/// The most hops `netsim trace` prints: far more than any exchange takes (a connection through
/// an ingress controller, SYN retransmissions included, is some hundreds), so reaching it means
/// something went round in circles, and a clear error beats megabytes of output.
const MAX_TRACE_HOPS: usize = 10_000;

/// The longest name `trace --dns` looks up: a DNS name's limit (RFC 1035: 255 octets on the
/// wire, 253 characters written out). Every query of the lookup carries the name, and the
/// trace prints each one, so an unbounded name is unbounded output.
const MAX_DNS_NAME: usize = 253;

fn parse_curl(args: &[&str]) -> Result<CurlOpts, String> {
    let split = split_short_options(args);
    let args: Vec<&str> = split.iter().map(String::as_str).collect();
    let args = args.as_slice();
    let mut o = CurlOpts {
        silent: false,
        show_error: false,
        verbose: false,
        include: false,
        head: false,
        write_out: None,
        output_null: false,
        max_time_ms: None,
        connect_timeout_ms: None,
        host_header: None,
        resolve: Vec::new(),
        count: 1,
        url: None,
        pcap: None,
    };
    let secs = |v: &str| -> Result<u64, String> {
        v.parse::<f64>()
            .ok()
            .filter(|s| *s >= 0.0)
            .map(|s| (s * 1000.0) as u64)
            .ok_or_else(|| "curl: (2) expected a proper numerical parameter".to_string())
    };
    let mut i = 0;
    while i < args.len() {
        let a = args[i];
        let mut value = || -> Result<&str, String> {
            i += 1;
            args.get(i)
                .copied()
                .ok_or_else(|| format!("curl: option {a}: requires parameter"))
        };
        match a {
            "-s" | "--silent" => o.silent = true,
            "-S" | "--show-error" => o.show_error = true,
            "-v" | "--verbose" => o.verbose = true,
            "-i" | "--include" => o.include = true,
            "-I" | "--head" => o.head = true,
            "-L" | "--location" | "-k" | "--insecure" | "-f" | "--fail" => {}
            "-o" | "--output" => {
                o.output_null = value()? == "/dev/null";
            }
            "-w" | "--write-out" => o.write_out = Some(value()?.to_string()),
            "-m" | "--max-time" => o.max_time_ms = Some(secs(value()?)?),
            "--connect-timeout" => o.connect_timeout_ms = Some(secs(value()?)?),
            "-H" | "--header" => {
                let h = value()?;
                if let Some((name, v)) = h.split_once(':')
                    && name.trim().eq_ignore_ascii_case("host")
                {
                    o.host_header = Some(v.trim().to_string());
                }
            }
            "--resolve" => {
                let spec = value()?;
                let parts: Vec<&str> = spec.splitn(3, ':').collect();
                match parts.as_slice() {
                    [h, p, addr] => {
                        let port = p.parse().map_err(|_| {
                            format!("curl: (49) Couldn't parse CURLOPT_RESOLVE entry '{spec}'")
                        })?;
                        let ip = addr.parse().map_err(|_| {
                            format!("curl: (49) Couldn't parse CURLOPT_RESOLVE entry '{spec}'")
                        })?;
                        o.resolve.push((h.to_string(), port, ip));
                    }
                    _ => {
                        return Err(format!(
                            "curl: (49) Couldn't parse CURLOPT_RESOLVE entry '{spec}'"
                        ));
                    }
                }
            }
            "--pcap" => o.pcap = Some(value()?.to_string()),
            "--count" => {
                o.count = value()?
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_COUNT).contains(n))
                    .ok_or_else(|| {
                        format!("netsim: --count takes a number of requests from 1 to {MAX_COUNT}")
                    })?;
            }
            flag if flag.starts_with('-') && flag.len() > 1 => {
                return Err(format!(
                    "curl: option {flag}: is unknown\ncurl: try 'curl --help' or 'curl --manual' for more information"
                ));
            }
            url => o.url = Some(url.to_string()),
        }
        i += 1;
    }
    Ok(o)
}

/// curl's message for a failed connect: 7.81 prints the errno text, 7.86 and later
/// `curl_easy_strerror()` (curl PR #9554).
fn connect_error(v: CurlVersion, host: &str, port: u16, ms: u64, why: &str) -> String {
    let why = match v {
        CurlVersion::V7_81 => why,
        _ => "Couldn't connect to server",
    };
    format!("Failed to connect to {host} port {port} after {ms} ms: {why}")
}

/// curl's `max5data`: a byte count in at most five characters.
fn max5(bytes: u64) -> String {
    const K: u64 = 1024;
    if bytes < 100_000 {
        format!("{bytes:>5}")
    } else if bytes < 10_000 * K {
        format!("{:>4}k", bytes / K)
    } else if bytes < 100 * K * K {
        format!(
            "{:>2}.{}M",
            bytes / (K * K),
            (bytes % (K * K)) / (K * K / 10)
        )
    } else {
        format!("{:>4}M", bytes / (K * K))
    }
}

/// curl's `time2str`: `--:--:--` under a second, else `H:MM:SS` in eight columns.
fn time2str(ms: u64) -> String {
    if ms < 1000 {
        return "--:--:--".into();
    }
    let s = ms / 1000;
    format!("{:>2}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
}

/// The progress meter curl writes to stderr when its output is not a terminal (as under
/// `kubectl exec` without `-t` or `ssh NODE CMD`): the header, the first update and the last.
/// A real curl also writes an update every second in between, each after a carriage return.
fn progress_meter(received: u64, elapsed_ms: u64) -> String {
    let zero = "  0     0    0     0    0     0      0      0 --:--:-- --:--:-- --:--:--     0";
    let speed = if elapsed_ms == 0 {
        received * 1000
    } else {
        received * 1000 / elapsed_ms.max(1)
    };
    let last = if received == 0 {
        format!(
            "  0     0    0     0    0     0      0      0 --:--:-- {} --:--:--     0",
            time2str(elapsed_ms)
        )
    } else {
        format!(
            "100 {}  100 {}    0     0  {}      0 --:--:-- {} --:--:-- {}",
            max5(received),
            max5(received),
            max5(speed),
            time2str(elapsed_ms),
            max5(speed)
        )
    };
    format!(
        "  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current\n                                 Dload  Upload   Total   Spent    Left  Speed\n\r{zero}\r{last}"
    )
}

fn curl_cmd(
    out: &mut Output,
    sim: &mut Sim,
    from: NsId,
    v: CurlVersion,
    args: &[&str],
    not_a_tty: bool,
) {
    let o = match parse_curl(args) {
        Ok(o) => o,
        Err(e) => {
            out.errln(e);
            out.code = 2;
            return;
        }
    };
    let Some(url_text) = o.url.clone() else {
        out.errln("curl: no URL specified!\ncurl: try 'curl --help' or 'curl --manual' for more information");
        out.code = 2;
        return;
    };
    let fail = |out: &mut Output, code: i32, msg: String| {
        if !o.silent || o.show_error {
            out.errln(format!("curl: ({code}) {msg}"));
        }
        out.code = code;
    };
    let url = match parse_url(&url_text) {
        Ok(u) => u,
        Err(e) => return fail(out, 3, e),
    };
    let pinned = o
        .resolve
        .iter()
        .find(|(h, p, _)| *h == url.host && *p == url.port)
        .map(|r| r.2);
    let found = match pinned {
        Some(ip) => Ok(ip),
        None => resolve(sim, &from, &url.host),
    };
    let dst = match found {
        Ok(ip) => ip,
        Err(why) => {
            fail(out, 6, format!("Could not resolve host: {}", url.host));
            if from == NsId::External {
                outside_hint(out, &url.host, &why);
            }
            return;
        }
    };
    let host = o.host_header.clone().unwrap_or_else(|| {
        if url.port == 80 {
            url.host.clone()
        } else {
            format!("{}:{}", url.host, url.port)
        }
    });
    let req = HttpRequest {
        method: if o.head { "HEAD" } else { "GET" }.into(),
        path: url.path.clone(),
        host: host.clone(),
        user_agent: v.agent().into(),
    };
    let timeout_ns = [o.connect_timeout_ms, o.max_time_ms]
        .into_iter()
        .flatten()
        .min()
        .map(|ms| ms * 1_000_000);
    let start_ns = sim.now().as_nanosecond() as i64;
    let mut dp = sim.dataplane();
    dp.record_hops(o.pcap.is_some() && o.count == 1);
    if o.count > 1 {
        let mut spread: std::collections::BTreeMap<String, (u32, String)> = Default::default();
        let mut failures = 0u32;
        for _ in 0..o.count {
            let r = dp.http(from.clone(), dst, url.port, &req, timeout_ns);
            match r.outcome {
                HttpOutcome::Response {
                    server,
                    server_addr,
                    ..
                } => {
                    let e = spread
                        .entry(server)
                        .or_insert((0, format!("{}:{}", server_addr.0, server_addr.1)));
                    e.0 += 1;
                }
                _ => failures += 1,
            }
        }
        let elapsed = dp.elapsed_ns();
        drop(dp);
        sim.advance(netsim_model::jiff::SignedDuration::from_nanos(
            elapsed as i64,
        ));
        out.outln(format!("{} requests to {url_text}:", o.count));
        for (server, (n, addr)) in &spread {
            out.outln(format!(
                "{n:>8}  {:>5.1}%  {server}  {addr}",
                f64::from(*n) * 100.0 / f64::from(o.count)
            ));
        }
        if failures > 0 {
            out.outln(format!(
                "{failures:>8}  {:>5.1}%  (failed)",
                f64::from(failures) * 100.0 / f64::from(o.count)
            ));
        }
        return;
    }
    let r = dp.http(from.clone(), dst, url.port, &req, timeout_ns);
    drop(dp);
    sim.advance(netsim_model::jiff::SignedDuration::from_nanos(
        r.elapsed_ns as i64,
    ));
    if let Some(file) = &o.pcap {
        write_pcap(out, sim, &r.hops, start_ns, file);
    }
    if not_a_tty && !o.silent && !o.verbose && o.write_out.is_none() {
        let received = match &r.outcome {
            HttpOutcome::Response { response, .. } if !o.head => response.body.len() as u64,
            _ => 0,
        };
        let meter = progress_meter(received, r.elapsed_ns / 1_000_000);
        // The meter's last update ends with a newline once the transfer is over; the body
        // (on stdout) comes before it.
        print_curl(
            out,
            &o,
            v,
            &url,
            &url_text,
            dst,
            &req,
            &r,
            &|out, code, msg| {
                out.chunks
                    .push((crate::output::Stream::Err, format!("{meter}\n")));
                fail(out, code, msg)
            },
        );
        if out.code == 0 {
            out.chunks
                .push((crate::output::Stream::Err, format!("{meter}\n")));
        }
        return;
    }
    print_curl(out, &o, v, &url, &url_text, dst, &req, &r, &fail);
}

#[allow(clippy::too_many_arguments)]
fn print_curl(
    out: &mut Output,
    o: &CurlOpts,
    v: CurlVersion,
    url: &Url,
    url_text: &str,
    dst: Ipv4Addr,
    req: &HttpRequest,
    r: &HttpResult,
    fail: &dyn Fn(&mut Output, i32, String),
) {
    let ms = r.elapsed_ns / 1_000_000;
    if o.verbose {
        out.errln(format!("*   Trying {dst}:{}...", url.port));
    }
    match &r.outcome {
        HttpOutcome::Response { response, .. } => {
            if o.verbose {
                let connected = match v {
                    CurlVersion::V8 => {
                        format!("* Connected to {} ({dst}) port {}", url.host, url.port)
                    }
                    _ => format!("* Connected to {} ({dst}) port {} (#0)", url.host, url.port),
                };
                out.errln(connected);
                out.errln(format!("> {} {} HTTP/1.1", req.method, req.path));
                out.errln(format!("> Host: {}", req.host));
                out.errln(format!("> User-Agent: {}", req.user_agent));
                out.errln("> Accept: */*");
                out.errln("> ");
                if v == CurlVersion::V7_81 {
                    out.errln("* Mark bundle as not supporting multiuse");
                }
                out.errln(format!(
                    "< HTTP/1.1 {} {}",
                    response.status, response.reason
                ));
                for (k, val) in &response.headers {
                    out.errln(format!("< {k}: {val}"));
                }
                out.errln("< ");
            }
            let mut text = String::new();
            if o.include || o.head {
                text.push_str(&format!(
                    "HTTP/1.1 {} {}\r\n",
                    response.status, response.reason
                ));
                for (k, val) in &response.headers {
                    text.push_str(&format!("{k}: {val}\r\n"));
                }
                text.push_str("\r\n");
            }
            if !o.head {
                text.push_str(&response.body);
            }
            if !o.output_null {
                out.out(text);
            }
            if o.verbose {
                out.errln(format!("* Connection #0 to host {} left intact", url.host));
            }
            if let Some(w) = &o.write_out {
                out.out(
                    w.replace("%{http_code}", &response.status.to_string())
                        .replace("%{response_code}", &response.status.to_string())
                        .replace("%{size_download}", &response.body.len().to_string())
                        .replace("%{remote_ip}", &dst.to_string())
                        .replace("%{remote_port}", &url.port.to_string())
                        .replace("%{url_effective}", url_text)
                        .replace("\\n", "\n"),
                );
            }
        }
        HttpOutcome::EmptyReply => {
            if o.verbose {
                out.errln("* Empty reply from server");
                out.errln("* Closing connection 0");
            }
            fail(out, 52, "Empty reply from server".into())
        }
        HttpOutcome::Refused => {
            let msg = connect_error(v, &url.host, url.port, ms, "Connection refused");
            if o.verbose {
                out.errln(format!(
                    "* connect to {dst} port {} failed: Connection refused",
                    url.port
                ));
                out.errln(format!("* {msg}"));
                out.errln("* Closing connection 0");
            }
            fail(out, 7, msg)
        }
        HttpOutcome::HostUnreachable => fail(
            out,
            7,
            connect_error(v, &url.host, url.port, ms, "No route to host"),
        ),
        HttpOutcome::NetworkUnreachable => {
            let msg = match v {
                // 7.81 reports the immediate ENETUNREACH without the "Failed to connect" prefix.
                CurlVersion::V7_81 => "Couldn't connect to server".to_string(),
                _ => connect_error(v, &url.host, url.port, ms, ""),
            };
            fail(out, 7, msg)
        }
        HttpOutcome::TimedOut => {
            let msg = if o
                .max_time_ms
                .is_some_and(|m| o.connect_timeout_ms.is_none_or(|c| m <= c))
            {
                format!("Connection timed out after {ms} milliseconds")
            } else if o.connect_timeout_ms.is_some() {
                match v {
                    CurlVersion::V7_81 => format!("Connection timeout after {ms} ms"),
                    _ => format!(
                        "Failed to connect to {} port {} after {ms} ms: Timeout was reached",
                        url.host, url.port
                    ),
                }
            } else {
                connect_error(v, &url.host, url.port, ms, "Connection timed out")
            };
            fail(out, 28, msg);
        }
    }
}

/// busybox `wget [-q] [-O FILE] URL`.
fn wget_cmd(out: &mut Output, sim: &mut Sim, from: NsId, args: &[&str]) {
    let mut quiet = false;
    let mut to_stdout = false;
    let mut timeout_ms = None;
    let mut url = None;
    let mut i = 0;
    while i < args.len() {
        match args[i] {
            "-q" => quiet = true,
            "-O-" | "-qO-" => {
                to_stdout = true;
                quiet |= args[i] == "-qO-";
            }
            "-O" => {
                i += 1;
                to_stdout = args.get(i) == Some(&"-");
            }
            "-T" => {
                i += 1;
                timeout_ms = args
                    .get(i)
                    .and_then(|t| t.parse::<u64>().ok())
                    .map(|s| s * 1000);
            }
            "--spider" | "-S" => {}
            a if a.starts_with('-') => {
                out.errln(format!("wget: unrecognized option '{a}'"));
                out.code = 1;
                return;
            }
            a => url = Some(a.to_string()),
        }
        i += 1;
    }
    let Some(text) = url else {
        out.errln("BusyBox v1.28.4 (2018-05-22 17:00:17 UTC) multi-call binary.\n\nUsage: wget [-c|--continue] [--spider] [-q|--quiet] [-O|--output-document FILE]\n\t[--header 'header: value'] [-Y|--proxy on/off] [-P DIR]\n\t[-S|--server-response] [-U|--user-agent AGENT] [-T SEC] URL...");
        out.code = 1;
        return;
    };
    let parsed = match parse_url(&text) {
        Ok(u) => u,
        Err(_) => {
            out.errln(format!("wget: not an http or ftp url: {text}"));
            out.code = 1;
            return;
        }
    };
    let Ok(dst) = resolve(sim, &from, &parsed.host) else {
        out.errln(format!("wget: bad address '{}'", parsed.host));
        out.code = 1;
        return;
    };
    let host = if parsed.port == 80 {
        parsed.host.clone()
    } else {
        format!("{}:{}", parsed.host, parsed.port)
    };
    let req = HttpRequest {
        method: "GET".into(),
        path: parsed.path.clone(),
        host: host.clone(),
        user_agent: "Wget".into(),
    };
    let mut dp = sim.dataplane();
    let r = dp.http(
        from,
        dst,
        parsed.port,
        &req,
        timeout_ms.map(|ms| ms * 1_000_000),
    );
    drop(dp);
    sim.advance(netsim_model::jiff::SignedDuration::from_nanos(
        r.elapsed_ns as i64,
    ));
    match r.outcome {
        HttpOutcome::Response { response, .. } if response.status == 200 => {
            if !quiet {
                out.errln(format!("Connecting to {host} ({dst}:{})", parsed.port));
            }
            if to_stdout {
                out.out(response.body.clone());
                if !quiet {
                    out.errln(format!(
                        "-                    100% |*******************************| {:>5}   0:00:00 ETA",
                        response.body.len()
                    ));
                }
            } else {
                let file = parsed
                    .path
                    .rsplit('/')
                    .next()
                    .filter(|f| !f.is_empty())
                    .unwrap_or("index.html")
                    .to_string();
                if !quiet {
                    out.errln(format!(
                        "{file:<20} 100% |*******************************| {:>5}   0:00:00 ETA",
                        response.body.len()
                    ));
                }
            }
        }
        HttpOutcome::Response { response, .. } => {
            if !quiet {
                out.errln(format!("Connecting to {host} ({dst}:{})", parsed.port));
            }
            out.errln(format!(
                "wget: server returned error: HTTP/1.1 {} {}",
                response.status, response.reason
            ));
            out.code = 1;
        }
        other => {
            let why = match other {
                HttpOutcome::Refused => "Connection refused",
                HttpOutcome::HostUnreachable => "No route to host",
                HttpOutcome::NetworkUnreachable => "Network is unreachable",
                HttpOutcome::EmptyReply => {
                    out.errln("wget: error getting response");
                    out.code = 1;
                    return;
                }
                _ => {
                    if timeout_ms.is_some() {
                        out.errln("wget: download timed out");
                        out.code = 1;
                        return;
                    }
                    "Connection timed out"
                }
            };
            if !quiet {
                out.errln(format!("Connecting to {host} ({dst}:{})", parsed.port));
            }
            out.errln(format!("wget: can't connect to remote host ({dst}): {why}"));
            out.code = 1;
        }
    }
}

/// `ping [-c N] HOST`: iputils on a node, busybox in a pod. Without `-c`, netsim stops after 4
/// echoes, as if Ctrl-C were pressed.
fn ping_cmd(out: &mut Output, sim: &mut Sim, from: NsId, iputils: bool, args: &[&str]) {
    let mut count: Option<u16> = None;
    let mut target = None;
    let mut i = 0;
    while i < args.len() {
        match args[i] {
            "-c" => {
                i += 1;
                count = args.get(i).and_then(|c| c.parse().ok()).filter(|c| *c > 0);
                if count.is_none() {
                    out.errln("ping: invalid argument");
                    out.code = 1;
                    return;
                }
            }
            c if c.starts_with("-c") => count = c[2..].parse().ok().filter(|c| *c > 0),
            a if a.starts_with('-') => {}
            a => target = Some(a.to_string()),
        }
        i += 1;
    }
    let Some(target) = target else {
        if iputils {
            out.errln("ping: usage error: Destination address required");
            out.code = 1;
        } else {
            out.errln("BusyBox v1.28.4 (2018-05-22 17:00:17 UTC) multi-call binary.\n\nUsage: ping [OPTIONS] HOST");
            out.code = 1;
        }
        return;
    };
    let Ok(dst) = resolve(sim, &from, &target) else {
        if iputils {
            out.errln(format!(
                "ping: {target}: Temporary failure in name resolution"
            ));
            out.code = 2;
        } else {
            out.errln(format!("ping: bad address '{target}'"));
            out.code = 1;
        }
        return;
    };
    let interrupted = count.is_none();
    let n = count.unwrap_or(4);
    let mut dp = sim.dataplane();
    let replies = dp.ping(from, dst, n);
    let elapsed = dp.elapsed_ns();
    drop(dp);
    sim.advance(netsim_model::jiff::SignedDuration::from_nanos(
        elapsed as i64,
    ));
    if interrupted {
        out.hint("ping runs until Ctrl-C; netsim stops it after 4 echoes (give `-c N` to choose)");
    }
    out.out(render_ping(&target, dst, iputils, &replies));
    if replies.iter().all(|r| r.rtt_ns.is_none()) {
        out.code = 1;
    }
}

/// Minimum, average, maximum and mean deviation of round-trip times (ms).
fn rtt_stats(rtts: &[f64]) -> Option<(f64, f64, f64, f64)> {
    if rtts.is_empty() {
        return None;
    }
    let min = rtts.iter().cloned().fold(f64::MAX, f64::min);
    let max = rtts.iter().cloned().fold(0.0, f64::max);
    let avg = rtts.iter().sum::<f64>() / rtts.len() as f64;
    let mdev = (rtts.iter().map(|r| (r - avg) * (r - avg)).sum::<f64>() / rtts.len() as f64).sqrt();
    Some((min, avg, max, mdev))
}

fn render_ping(target: &str, dst: Ipv4Addr, iputils: bool, replies: &[PingReply]) -> String {
    let mut s = String::new();
    let received = replies.iter().filter(|r| r.rtt_ns.is_some()).count();
    let errors = replies.iter().filter(|r| r.unreachable).count();
    let rtts: Vec<f64> = replies
        .iter()
        .filter_map(|r| r.rtt_ns)
        .map(|ns| ns as f64 / 1e6)
        .collect();
    let loss = (replies.len() - received) * 100 / replies.len().max(1);
    if iputils {
        s.push_str(&format!("PING {target} ({dst}) 56(84) bytes of data.\n"));
        for r in replies {
            if let Some(ns) = r.rtt_ns {
                let ms = ns as f64 / 1e6;
                let time = if ms < 1.0 {
                    format!("{ms:.3}")
                } else if ms < 10.0 {
                    format!("{ms:.2}")
                } else {
                    format!("{ms:.1}")
                };
                s.push_str(&format!(
                    "64 bytes from {}: icmp_seq={} ttl={} time={time} ms\n",
                    r.from, r.seq, r.ttl
                ));
            } else if r.unreachable {
                s.push_str(&format!(
                    "From {} icmp_seq={} Destination Host Unreachable\n",
                    r.from, r.seq
                ));
            }
        }
        s.push_str(&format!("\n--- {target} ping statistics ---\n"));
        let time = (replies.len().saturating_sub(1)) as u64 * 1000
            + rtts
                .last()
                .map_or(if received == 0 { 25 } else { 0 }, |r| *r as u64);
        let errs = if errors > 0 {
            format!(", +{errors} errors")
        } else {
            String::new()
        };
        s.push_str(&format!(
            "{} packets transmitted, {received} received{errs}, {loss}% packet loss, time {time}ms\n",
            replies.len()
        ));
        if let Some((min, avg, max, mdev)) = rtt_stats(&rtts) {
            s.push_str(&format!(
                "rtt min/avg/max/mdev = {min:.3}/{avg:.3}/{max:.3}/{mdev:.3} ms\n"
            ));
        }
        if errors > 0 || received == 0 {
            s.push('\n');
        }
    } else {
        s.push_str(&format!("PING {target} ({dst}): 56 data bytes\n"));
        for r in replies {
            if let Some(ns) = r.rtt_ns {
                s.push_str(&format!(
                    "64 bytes from {}: seq={} ttl={} time={:.3} ms\n",
                    r.from,
                    r.seq - 1,
                    r.ttl,
                    ns as f64 / 1e6
                ));
            }
        }
        s.push_str(&format!("\n--- {target} ping statistics ---\n"));
        s.push_str(&format!(
            "{} packets transmitted, {received} packets received, {loss}% packet loss\n",
            replies.len()
        ));
        if let Some((min, avg, max, _)) = rtt_stats(&rtts) {
            s.push_str(&format!(
                "round-trip min/avg/max = {min:.3}/{avg:.3}/{max:.3} ms\n"
            ));
        }
    }
    s
}

/// `conntrack -L` on a node.
fn conntrack_cmd(out: &mut Output, sim: &Sim, node: &str, args: &[&str]) {
    match args {
        ["-L"] | ["--dump"] | ["-L", "-n"] => {}
        _ => {
            out.fail("netsim: only `conntrack -L` is simulated");
            return;
        }
    }
    let now = sim.now().as_millisecond();
    let entries: Vec<String> = sim
        .conntrack_entries(node)
        .filter(|e| e.expires_ms > now)
        .map(|e| netsim_print::trace::conntrack_line(e, now))
        .collect();
    for line in &entries {
        out.outln(line.as_str());
    }
    out.errln(format!(
        "conntrack v1.4.6 (conntrack-tools): {} flow entries have been shown.",
        entries.len()
    ));
}

/// `netsim curl [curl options] URL`: curl from a client outside the cluster, on the node
/// network.
pub fn outside_curl(out: &mut Output, sim: &mut Sim, args: &[String]) {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    curl_cmd(out, sim, NsId::External, CurlVersion::V7_81, &args, false);
}

/// `netsim trace [--from pod/NAME|node/NAME] [-n NS] URL` (one HTTP connection) or `--icmp
/// ADDR` (one echo): every hop of every packet.
pub fn trace(out: &mut Output, sim: &mut Sim, args: &[String]) {
    let mut from = NsId::External;
    let mut namespace = "default".to_string();
    let mut from_text: Option<String> = None;
    let mut icmp: Option<String> = None;
    let mut dns_name: Option<String> = None;
    let mut target: Option<String> = None;
    let mut pcap: Option<String> = None;
    let mut step = false;
    let mut format: Option<String> = None;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--from" => {
                i += 1;
                from_text = args.get(i).cloned();
            }
            "-n" | "--namespace" => {
                i += 1;
                namespace = args.get(i).cloned().unwrap_or_default();
            }
            "--icmp" => {
                i += 1;
                icmp = args.get(i).cloned();
            }
            "--dns" => {
                i += 1;
                dns_name = args.get(i).cloned();
            }
            "--pcap" | "-w" => {
                i += 1;
                pcap = args.get(i).cloned();
            }
            "--step" => step = true,
            "--format" => {
                i += 1;
                format = args.get(i).cloned();
            }
            a if a.starts_with("--format=") => format = Some(a["--format=".len()..].to_string()),
            a if a.starts_with("--pcap=") => pcap = Some(a["--pcap=".len()..].to_string()),
            a if a.starts_with("--from=") => from_text = Some(a["--from=".len()..].to_string()),
            a if a.starts_with('-') => {
                return out.fail(format!("error: unknown flag: {a}\nusage: netsim trace [--from pod/NAME|node/NAME] [-n NAMESPACE] (URL | --icmp ADDRESS | --dns NAME)"));
            }
            a => target = Some(a.to_string()),
        }
        i += 1;
    }
    if let Some(name) = &dns_name
        && name.trim_end_matches('.').len() > MAX_DNS_NAME
    {
        return out.fail(format!(
            "error: --dns wants a name of at most {MAX_DNS_NAME} characters (a DNS name's limit); this one has {}",
            name.trim_end_matches('.').len()
        ));
    }
    if let Some(text) = &from_text {
        from = match text.split_once('/') {
            Some(("pod" | "pods" | "po", name)) => {
                if sim
                    .store()
                    .typed::<netsim_model::k8s_openapi::api::core::v1::Pod>(&namespace, name)
                    .is_none()
                {
                    return out.fail(format!(
                        "Error from server (NotFound): pods \"{name}\" not found"
                    ));
                }
                NsId::Pod(format!("{namespace}/{name}"))
            }
            Some(("node" | "nodes" | "no", name)) => {
                if sim.node_net(name).is_none() {
                    return out.fail(format!(
                        "Error from server (NotFound): nodes \"{name}\" not found"
                    ));
                }
                NsId::Node(name.to_string())
            }
            _ if text == "outside" => NsId::External,
            _ => {
                return out.fail(format!(
                    "error: --from wants pod/NAME, node/NAME or outside, not {text:?}"
                ));
            }
        };
    }
    let start_ns = sim.now().as_nanosecond() as i64;
    let mut dp = sim.dataplane();
    dp.record_hops(true);
    let (title, hops, verdict) = if let Some(name) = dns_name {
        // The lookup a glibc program in the pod (or on the node) makes: its resolv.conf's
        // search list and nameserver, A then AAAA, every query a packet.
        let (resolv_text, hosts) = match &from {
            NsId::Pod(key) => {
                let (ns, pod_name) = key.split_once('/').unwrap_or(("", key));
                let Some(pod) = dp
                    .sim()
                    .store()
                    .typed::<netsim_model::k8s_openapi::api::core::v1::Pod>(ns, pod_name)
                    .cloned()
                else {
                    drop(dp);
                    return out.fail("error: no such pod");
                };
                (dp.sim().pod_resolv_conf(&pod), dp.sim().pod_etc_hosts(&pod))
            }
            NsId::Node(n) => {
                let rc = dp.sim().node_resolv(n);
                (dp.sim().render_resolv(&rc), dp.sim().node_etc_hosts(n))
            }
            _ => {
                drop(dp);
                return out.fail("error: --dns needs --from pod/NAME or node/NAME");
            }
        };
        let mut r = netsim_engine::resolver::Resolver {
            dp: &mut dp,
            from: from.clone(),
            conf: netsim_engine::resolver::ResolvConf::parse(&resolv_text),
            hosts,
            libc: netsim_engine::resolver::Libc::Glibc,
            log: Vec::new(),
        };
        let found = r.lookup_family(&name, netsim_model::dns::QType::A);
        let queries: Vec<String> = r
            .log
            .iter()
            .map(|(q, t, rc)| format!("{q} {}: {}", t.name(), rc.map_or("no answer", |c| c.name())))
            .collect();
        let hops = dp.take_hops();
        let verdict = match found {
            netsim_engine::resolver::Resolved::Found(a) => {
                format!("{} (queries: {})", a.join(", "), queries.join("; "))
            }
            netsim_engine::resolver::Resolved::NotFound => {
                format!("not found (queries: {})", queries.join("; "))
            }
            netsim_engine::resolver::Resolved::Unreachable => "no nameserver answered".to_string(),
        };
        (format!("lookup {name}"), hops, verdict)
    } else if let Some(addr) = icmp {
        let Ok(dst) = addr.parse::<Ipv4Addr>() else {
            drop(dp);
            return out.fail(format!("error: --icmp wants an IPv4 address, not {addr:?}"));
        };
        let replies = dp.ping(from.clone(), dst, 1);
        let hops = dp.take_hops();
        let verdict = match replies.first() {
            Some(r) if r.rtt_ns.is_some() => format!("echo reply from {}", r.from),
            Some(r) if r.unreachable => "Destination Host Unreachable".to_string(),
            _ => "no reply (100% packet loss)".to_string(),
        };
        (format!("ping {dst}"), hops, verdict)
    } else {
        let Some(text) = target else {
            drop(dp);
            return out.fail("usage: netsim trace [--from pod/NAME|node/NAME] [-n NAMESPACE] (URL | --icmp ADDRESS)");
        };
        let url = match parse_url(&text) {
            Ok(u) => u,
            Err(e) => {
                drop(dp);
                return out.fail(format!("error: {e}"));
            }
        };
        let Ok(dst) = resolve_dp(&mut dp, &from, &url.host) else {
            drop(dp);
            return out.fail(format!(
                "error: cannot resolve {:?} (use an address)",
                url.host
            ));
        };
        let req = HttpRequest {
            method: "GET".into(),
            path: url.path.clone(),
            host: url.host.clone(),
            user_agent: "curl/7.81.0".into(),
        };
        let r = dp.http(from.clone(), dst, url.port, &req, None);
        let verdict = match &r.outcome {
            HttpOutcome::Response {
                response,
                server,
                server_addr,
                ..
            } => format!(
                "HTTP {} {} from {server} ({}:{})",
                response.status, response.reason, server_addr.0, server_addr.1
            ),
            HttpOutcome::Refused => "connection refused".into(),
            HttpOutcome::TimedOut => "no answer: the connection timed out".into(),
            HttpOutcome::HostUnreachable => "no route to host".into(),
            HttpOutcome::NetworkUnreachable => "network is unreachable".into(),
            HttpOutcome::EmptyReply => "empty reply from server".into(),
        };
        (format!("GET {text}"), r.hops, verdict)
    };
    if hops.len() > MAX_TRACE_HOPS {
        drop(dp);
        return out.fail(format!(
            "error: the trace has {} hops, more than netsim prints (at most {MAX_TRACE_HOPS})",
            hops.len()
        ));
    }
    let mut rules: std::collections::BTreeMap<String, netsim_model::netfilter::Ruleset> =
        Default::default();
    for hop in &hops {
        if let NsId::Node(n) = &hop.ns
            && !rules.contains_key(n)
            && let Some(r) = dp.node_rules(n)
        {
            rules.insert(n.clone(), r);
        }
    }
    let elapsed = dp.elapsed_ns();
    drop(dp);
    sim.advance(netsim_model::jiff::SignedDuration::from_nanos(
        elapsed as i64,
    ));
    let lookup = |node: &str, table: TableName, chain: &str, index: usize| -> Option<String> {
        let rule = rules
            .get(node)?
            .table(table)?
            .chain(chain)?
            .rules
            .get(index)?
            .clone();
        Some(format!("-A {chain} {}", rule_text(&rule)))
    };
    if let Some(file) = &pcap {
        write_pcap(out, sim, &hops, start_ns, file);
    }
    match format.as_deref() {
        None | Some("text") => {}
        Some("mermaid") => return out.out(netsim_print::trace::sequence_mermaid(&hops)),
        Some("svg") => return out.out(netsim_print::trace::sequence_svg(&hops)),
        Some(other) => {
            return out.fail(format!(
                "error: unknown format {other:?}: use text, mermaid or svg"
            ));
        }
    }
    out.outln(format!(
        "{title} from {}",
        netsim_print::trace::place(&from)
    ));
    out.outln("");
    if step {
        let mut steps = netsim_print::trace::steps(&hops, &lookup);
        steps.push(format!("result: {verdict}\n"));
        out.steps = Some(steps);
    } else {
        out.out(netsim_print::trace::hops(&hops, &lookup));
        out.outln("");
        out.outln(format!("result: {verdict}"));
    }
}

/// Writes the capture of `hops` to `file`, with each capture point's real MAC address.
fn write_pcap(
    out: &mut Output,
    sim: &Sim,
    hops: &[netsim_model::trace::Hop],
    start_ns: i64,
    file: &str,
) {
    let mut macs = std::collections::BTreeMap::new();
    for (i, point) in crate::pcap::points(hops) {
        let netns = match &hops[i].ns {
            NsId::Node(n) => sim.node_netns(n),
            NsId::Pod(key) => key.split_once('/').and_then(|(ns, name)| {
                sim.store()
                    .typed::<netsim_model::k8s_openapi::api::core::v1::Pod>(ns, name)
                    .and_then(|p| sim.pod_netns(p))
            }),
            _ => None,
        };
        if let Some(link) = netns.as_ref().and_then(|n| n.link(&point.1)) {
            macs.insert(point, link.mac);
        }
    }
    let bytes = crate::pcap::pcapng(hops, start_ns, &macs);
    if let Err(e) = std::fs::write(file, bytes) {
        out.fail(format!("error: cannot write {file}: {e}"));
    }
}

#[cfg(test)]
mod tests {
    use super::{MAX_COUNT, parse_curl, split_short_options, trace};
    use crate::output::Output;
    use netsim_engine::Sim;
    use netsim_model::ClusterConfig;

    #[test]
    fn count_is_bounded_with_a_clear_error() {
        let count = |n: &str| parse_curl(&["--count", n, "http://x/"]).map(|o| o.count);
        assert_eq!(count("1"), Ok(1));
        assert_eq!(count(&MAX_COUNT.to_string()), Ok(MAX_COUNT));
        let message = format!("netsim: --count takes a number of requests from 1 to {MAX_COUNT}");
        for bad in ["0", "100001", "1000000", "4294967296", "-1", "x", ""] {
            assert_eq!(count(bad), Err(message.clone()), "--count {bad:?}");
        }
    }

    #[test]
    fn trace_refuses_a_name_no_dns_can_carry() {
        let mut sim = Sim::new(ClusterConfig::default()).expect("a cluster");
        let run = |sim: &mut Sim, name: &str| {
            let mut out = Output::new(false);
            let args: Vec<String> = ["--from", "node/k8s-control", "--dns", name]
                .iter()
                .map(ToString::to_string)
                .collect();
            trace(&mut out, sim, &args);
            out
        };
        let out = run(&mut sim, &"a".repeat(100_000));
        assert_eq!(out.code, 1);
        assert_eq!(
            out.chunks[0].1,
            "error: --dns wants a name of at most 253 characters (a DNS name's limit); this one has 100000\n"
        );
        // The longest name there may be is looked up (and, having no answer, not found).
        let longest = vec!["a".repeat(63); 4].join(".")[..253].to_string() + ".";
        let out = run(&mut sim, &longest);
        assert_eq!(out.code, 0, "{:?}", out.chunks);
    }

    #[test]
    fn short_options_group_like_curls() {
        let split = |a: &[&str]| split_short_options(a).join(" ");
        assert_eq!(split(&["-si", "http://x"]), "-s -i http://x");
        assert_eq!(split(&["-so", "/dev/null", "u"]), "-s -o /dev/null u");
        assert_eq!(split(&["-sSo/dev/null"]), "-s -S -o /dev/null");
        assert_eq!(split(&["-w", "-si"]), "-w -si");
        assert_eq!(
            split(&["--resolve", "a:80:1.2.3.4"]),
            "--resolve a:80:1.2.3.4"
        );
    }
}
