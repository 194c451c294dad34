//! What listens in a pod or on a node, and how it answers: nginx's welcome page, httpd's "It
//! works!", kubeserve2's and a generic echo server's "You've hit `<pod>`", the API server's
//! answer to plain HTTP, and nothing at all for busybox.
//!
//! Listening sockets come from the image (nginx listens on 80 whatever the pod's
//! `containerPort` says), so a Service aimed at the wrong port meets a closed port. Images
//! netsim does not know (and `netsim/echo`, the name the scenarios use for one) are taken to
//! be an echo server on each declared `containerPort`. kubeserve2's answer is assumed to be
//! kubia's (`You've hit <hostname>`), the app it is derived from; its source is not public.
//! This module owns application behaviour; it must never decide how curl prints it.

use crate::sim::Sim;
use netsim_model::jiff::Timestamp;
use netsim_model::k8s_openapi::api::core::v1::Pod;
use netsim_model::netfilter::Proto;
use std::borrow::Cow;
use std::collections::VecDeque;
use std::net::Ipv4Addr;
use std::sync::Arc;

/// The application behind a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum App {
    /// nginx 1.25's default server.
    Nginx,
    /// httpd 2.4's default site.
    Httpd,
    /// `chadmcrowell/kubeserve2` (a kubia-style Node.js server).
    Kubeserve,
    /// An echo server: the pod's name and the client address it saw.
    Echo,
    /// kube-proxy's health server for a Service's `healthCheckNodePort` (answered by the data
    /// plane, which counts the node's ready endpoints).
    ServiceHealth,
    /// `registry.k8s.io/echoserver` (1.10): the request as its nginx/lua page prints it,
    /// `client_address` first among the request's values.
    EchoServer,
    /// A TLS-only server (the API server, the kubelet): plain HTTP gets a 400.
    Tls,
    /// CoreDNS's DNS port (answers DNS; over HTTP it closes without a word).
    CoreDns,
    /// A socket that accepts but speaks no HTTP (etcd, sshd).
    Other,
    /// ingress-nginx's HTTP port: routes by the Ingress rules and proxies to an endpoint
    /// (the data plane opens that second connection; see `crate::ingress`).
    IngressNginx,
}

/// One listening socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    /// Protocol.
    pub proto: Proto,
    /// Port.
    pub port: u16,
    /// The process (`nginx`, `coredns`).
    pub process: String,
    /// How it answers.
    pub app: App,
}

fn tcp(port: u16, process: &str, app: App) -> Listener {
    Listener {
        proto: Proto::Tcp,
        port,
        process: process.to_string(),
        app,
    }
}

/// The image's repository name without registry, tag or digest (`nginx`, `kubeserve2`).
pub fn image_repo(image: &str) -> &str {
    image
        .rsplit('/')
        .next()
        .unwrap_or("")
        .split(['@', ':'])
        .next()
        .unwrap_or("")
}

/// What the pod's containers listen on.
pub fn listeners(pod: &Pod) -> Vec<Listener> {
    let mut out = Vec::new();
    let Some(spec) = &pod.spec else { return out };
    for c in &spec.containers {
        let image = c.image.as_deref().unwrap_or("");
        if crate::ingress::is_controller_image(image) {
            // controller-v1.9: HTTP 80 and 443, the default server on 8181 (404), the
            // admission webhook on 8443, healthz and metrics on 10254.
            out.push(tcp(80, "nginx", App::IngressNginx));
            out.push(tcp(443, "nginx", App::Other));
            out.push(tcp(8181, "nginx", App::IngressNginx));
            out.push(tcp(8443, "nginx-ingress-c", App::Other));
            out.push(tcp(10254, "nginx-ingress-c", App::Other));
            continue;
        }
        match image_repo(image) {
            "nginx" => out.push(tcp(80, "nginx", App::Nginx)),
            "httpd" => out.push(tcp(80, "httpd", App::Httpd)),
            "kubeserve2" | "kubeserve" | "kubia" => out.push(tcp(8080, "node", App::Kubeserve)),
            "echoserver" => out.push(tcp(8080, "nginx", App::EchoServer)),
            "coredns" => {
                out.push(Listener {
                    proto: Proto::Udp,
                    port: 53,
                    process: "coredns".into(),
                    app: App::CoreDns,
                });
                out.push(tcp(53, "coredns", App::CoreDns));
                out.push(tcp(8080, "coredns", App::Other));
                out.push(tcp(8181, "coredns", App::Other));
                out.push(tcp(9153, "coredns", App::Other));
            }
            "kube-apiserver" => out.push(tcp(6443, "kube-apiserver", App::Tls)),
            "etcd" => {
                out.push(tcp(2379, "etcd", App::Other));
                out.push(tcp(2380, "etcd", App::Other));
            }
            "kube-controller-manager" => out.push(tcp(10257, "kube-controller-manager", App::Tls)),
            "kube-scheduler" => out.push(tcp(10259, "kube-scheduler", App::Tls)),
            "kube-proxy" => out.push(tcp(10256, "kube-proxy", App::Other)),
            // busybox, pause, flannel: nothing listens.
            "busybox" | "pause" | "flannel" | "flannel-cni-plugin" | "alpine" | "curl" => {}
            _ => {
                for p in c.ports.iter().flatten() {
                    let Ok(port) = u16::try_from(p.container_port) else {
                        continue;
                    };
                    let proto = p
                        .protocol
                        .as_deref()
                        .and_then(Proto::parse)
                        .unwrap_or(Proto::Tcp);
                    out.push(Listener {
                        proto,
                        port,
                        process: image_repo(image).to_string(),
                        app: App::Echo,
                    });
                }
            }
        }
    }
    out
}

/// What listens in a node's host namespace: sshd, the kubelet, and the host-network pods.
pub fn node_listeners(sim: &Sim, node: &str) -> Vec<Listener> {
    let mut out = vec![tcp(22, "sshd", App::Other), tcp(10250, "kubelet", App::Tls)];
    // kube-proxy serves each `externalTrafficPolicy: Local` Service's health check port.
    for svc in sim
        .store()
        .list_typed::<netsim_model::k8s_openapi::api::core::v1::Service>(None)
    {
        if let Some(port) = svc
            .spec
            .as_ref()
            .and_then(|s| s.health_check_node_port)
            .and_then(|p| u16::try_from(p).ok())
        {
            out.push(tcp(port, "kube-proxy", App::ServiceHealth));
        }
    }
    for pod in sim.store().pods_on_node(node) {
        if pod.spec.as_ref().and_then(|s| s.host_network) == Some(true) {
            out.extend(listeners(pod));
        }
    }
    out
}

/// How many lines of what an application logs while serving netsim keeps per pod.
pub const LOG_LINES: usize = 1000;

impl Sim {
    /// Appends `line` to the application log of the pod with uid `uid`, keeping the last
    /// [`LOG_LINES`].
    pub(crate) fn push_app_log(&mut self, uid: &str, line: LogLine) {
        // A queue: a log that is full drops its oldest line without moving the others (a
        // burst of requests writes one line each).
        match self.app_logs.get_mut(uid) {
            Some(log) => {
                log.push_back(line);
                while log.len() > LOG_LINES {
                    log.pop_front();
                }
            }
            None => {
                self.app_logs.insert(uid.to_owned(), VecDeque::from([line]));
            }
        }
    }
}

/// One line an application wrote to its log while serving.
///
/// A server's access line is kept as the facts it is written from and formatted when it is
/// read or saved: of a burst of requests only the last [`LOG_LINES`] are ever read, so the
/// lines dropped before that are never formatted. Saved as its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogLine {
    /// A line written as text.
    Text(String),
    /// An access line: `request` from `client`, answered `status` with a body of `bytes` at
    /// `at_ms` (milliseconds since the epoch).
    Access {
        /// How the server writes it.
        format: AccessFormat,
        /// The client's address as the server saw it.
        client: Ipv4Addr,
        /// The request (shared by a burst of equal requests).
        request: Arc<HttpRequest>,
        /// The response's status code.
        status: u16,
        /// The response body's length.
        bytes: usize,
        /// When it was served.
        at_ms: i64,
    },
}

/// The access-log formats of the servers netsim runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessFormat {
    /// nginx's `main` format.
    Nginx,
    /// httpd's common log format.
    Httpd,
    /// kubia's "Received request from".
    Kubeserve,
}

impl LogLine {
    /// The line as the application wrote it.
    pub fn text(&self) -> Cow<'_, str> {
        match self {
            LogLine::Text(t) => Cow::Borrowed(t),
            LogLine::Access {
                format,
                client,
                request,
                status,
                bytes,
                at_ms,
            } => {
                let time_local = || time_local(at_ms.div_euclid(1000));
                let (method, path) = (&request.method, &request.path);
                Cow::Owned(match format {
                    AccessFormat::Nginx => format!(
                        "{client} - - [{}] \"{method} {path} HTTP/1.1\" {status} {bytes} \"-\" \"{}\" \"-\"",
                        time_local(),
                        request.user_agent
                    ),
                    AccessFormat::Httpd => format!(
                        "{client} - - [{}] \"{method} {path} HTTP/1.1\" {status} {bytes}",
                        time_local()
                    ),
                    AccessFormat::Kubeserve => format!("Received request from ::ffff:{client}"),
                })
            }
        }
    }
}

impl From<String> for LogLine {
    fn from(text: String) -> LogLine {
        LogLine::Text(text)
    }
}

/// The application logs as saved: each line as its text (the state file holds what a reader
/// of the log sees, whatever form the line was kept in).
pub(crate) mod saved_logs {
    use super::LogLine;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::collections::{BTreeMap, VecDeque};

    /// The lines of one log, as texts.
    struct Texts<'a>(&'a VecDeque<LogLine>);

    impl Serialize for Texts<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.collect_seq(self.0.iter().map(LogLine::text))
        }
    }

    pub(crate) fn serialize<S: Serializer>(
        logs: &BTreeMap<String, VecDeque<LogLine>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_map(logs.iter().map(|(uid, lines)| (uid, Texts(lines))))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<BTreeMap<String, VecDeque<LogLine>>, D::Error> {
        let texts = BTreeMap::<String, VecDeque<String>>::deserialize(deserializer)?;
        Ok(texts
            .into_iter()
            .map(|(uid, lines)| (uid, lines.into_iter().map(LogLine::Text).collect()))
            .collect())
    }
}

/// nginx's and httpd's `$time_local` of second `second` since the epoch (the containers run
/// in UTC).
fn time_local(second: i64) -> String {
    Timestamp::from_second(second)
        .unwrap_or(Timestamp::UNIX_EPOCH)
        .strftime("%d/%b/%Y:%H:%M:%S +0000")
        .to_string()
}

/// The time as servers write it, made once per virtual second: a burst of requests in one
/// second formats it once, not once per request.
#[derive(Debug, Clone, Default)]
pub struct ClockText {
    /// The second (since the epoch) the texts are of.
    second: Option<i64>,
    http_date: String,
    time_local: String,
}

impl ClockText {
    /// The texts for the instant `now_ms` (milliseconds since the epoch).
    pub fn at(&mut self, now_ms: i64) -> &ClockText {
        let second = now_ms.div_euclid(1000);
        if self.second != Some(second) {
            let now = Timestamp::from_second(second).unwrap_or(Timestamp::UNIX_EPOCH);
            self.http_date = now.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string();
            self.time_local = time_local(second);
            self.second = Some(second);
        }
        self
    }

    /// The `Date` header's form (RFC 9110's IMF-fixdate).
    pub fn http_date(&self) -> &str {
        &self.http_date
    }

    /// nginx's and httpd's `$time_local` (the containers run in UTC).
    pub fn time_local(&self) -> &str {
        &self.time_local
    }
}

/// The line `app` writes to its log for `request` from `client`, answered with `resp` at
/// `at_ms`: nginx's `main` format, httpd's common format, kubia's "Received request from".
/// `None` for applications that log nothing per request.
pub fn access_log(
    app: App,
    client: Ipv4Addr,
    request: Arc<HttpRequest>,
    resp: &HttpResponse,
    at_ms: i64,
) -> Option<LogLine> {
    let format = match app {
        App::Nginx => AccessFormat::Nginx,
        App::Httpd => AccessFormat::Httpd,
        App::Kubeserve => AccessFormat::Kubeserve,
        _ => return None,
    };
    Some(LogLine::Access {
        format,
        client,
        request,
        status: resp.status,
        bytes: resp.body.len(),
        at_ms,
    })
}

/// An HTTP request as curl or wget sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// `GET`, `HEAD`.
    pub method: String,
    /// Path and query.
    pub path: String,
    /// The `Host` header.
    pub host: String,
    /// The `User-Agent` header.
    pub user_agent: String,
}

impl HttpRequest {
    /// The request's size on the wire.
    pub fn wire_len(&self) -> usize {
        self.wire_bytes().len()
    }

    /// The request as curl sends it.
    pub fn wire_bytes(&self) -> Vec<u8> {
        format!(
            "{} {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: {}\r\nAccept: */*\r\n\r\n",
            self.method, self.path, self.host, self.user_agent
        )
        .into_bytes()
    }
}

/// Text of a response: mostly the server's fixed words and pages, borrowed rather than
/// copied for each request.
pub type Text = Cow<'static, str>;

/// An HTTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Reason phrase.
    pub reason: Text,
    /// Headers in the order the server sends them.
    pub headers: Vec<(Text, Text)>,
    /// Body (empty for HEAD).
    pub body: Text,
}

impl HttpResponse {
    /// Status line, headers and body: the response's size on the wire.
    pub fn wire_len(&self) -> usize {
        let head: usize = self
            .headers
            .iter()
            .map(|(k, v)| k.len() + v.len() + 4)
            .sum();
        "HTTP/1.1 ".len() + 3 + 1 + self.reason.len() + 2 + head + 2 + self.body.len()
    }

    /// Status line, headers and body as sent.
    pub fn wire_bytes(&self) -> Vec<u8> {
        let mut s = format!("HTTP/1.1 {} {}\r\n", self.status, self.reason);
        for (k, v) in &self.headers {
            s.push_str(&format!("{k}: {v}\r\n"));
        }
        s.push_str("\r\n");
        s.push_str(&self.body);
        s.into_bytes()
    }
}

/// nginx 1.25's `index.html` (615 bytes).
pub const NGINX_WELCOME: &str = "<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href=\"http://nginx.org/\">nginx.org</a>.<br/>
Commercial support is available at
<a href=\"http://nginx.com/\">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>
";

/// nginx's 404 page.
const NGINX_404: &str = "<html>\r
<head><title>404 Not Found</title></head>\r
<body>\r
<center><h1>404 Not Found</h1></center>\r
<hr><center>nginx/1.25.3</center>\r
</body>\r
</html>\r
";

/// ingress-nginx's own answer with `status` (404 from its default server, 503 for a backend
/// without endpoints, 502/504 when the endpoint fails): nginx's built-in page without the
/// version (`server_tokens off`) and no `Server` header (`more_clear_headers Server`).
pub fn ingress_nginx_error(status: u16, date: String, head: bool) -> HttpResponse {
    let reason = match status {
        404 => "Not Found",
        502 => "Bad Gateway",
        503 => "Service Temporarily Unavailable",
        _ => "Gateway Time-out",
    };
    let body = format!(
        "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    );
    HttpResponse {
        status,
        reason: reason.into(),
        headers: vec![
            ("Date".into(), date.into()),
            ("Content-Type".into(), "text/html".into()),
            ("Content-Length".into(), body.len().to_string().into()),
            ("Connection".into(), "keep-alive".into()),
        ],
        body: if head { Cow::Borrowed("") } else { body.into() },
    }
}

/// kube-proxy's health check answer for Service `ns/name` with `local` ready endpoints on
/// the node (`pkg/proxy/healthcheck/service_health.go`): 200 with at least one, 503 without;
/// tab-indented JSON without a final newline; Go's header order (the handler's, sorted, then
/// `Date` and `Content-Length`).
pub fn service_health(ns: &str, name: &str, local: usize, date: String) -> HttpResponse {
    let body = format!(
        "{{\n\t\"service\": {{\n\t\t\"namespace\": \"{ns}\",\n\t\t\"name\": \"{name}\"\n\t}},\n\t\"localEndpoints\": {local},\n\t\"serviceProxyHealthy\": true\n}}"
    );
    let (status, reason) = if local > 0 {
        (200, "OK")
    } else {
        (503, "Service Unavailable")
    };
    HttpResponse {
        status,
        reason: reason.into(),
        headers: vec![
            ("Content-Type".into(), "application/json".into()),
            ("X-Content-Type-Options".into(), "nosniff".into()),
            (
                "X-Load-Balancing-Endpoint-Weight".into(),
                local.to_string().into(),
            ),
            ("Date".into(), date.into()),
            ("Content-Length".into(), body.len().to_string().into()),
        ],
        body: body.into(),
    }
}

/// What ingress-nginx sends the client for the upstream's `response`: nginx's own `Date`,
/// `Content-Type`, `Content-Length` and `Connection: keep-alive` first, the upstream's other
/// headers after, and no `Server`.
pub fn ingress_nginx_relay(response: &HttpResponse, date: String) -> HttpResponse {
    let get = |name: &str| {
        response
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let mut headers: Vec<(Text, Text)> = vec![("Date".into(), date.into())];
    if let Some(ct) = get("Content-Type") {
        headers.push(("Content-Type".into(), ct));
    }
    if let Some(cl) = get("Content-Length") {
        headers.push(("Content-Length".into(), cl));
    }
    headers.push(("Connection".into(), "keep-alive".into()));
    for (k, v) in &response.headers {
        let skip = [
            "Date",
            "Server",
            "Content-Type",
            "Content-Length",
            "Connection",
            "Keep-Alive",
        ]
        .iter()
        .any(|h| k.eq_ignore_ascii_case(h));
        if !skip {
            headers.push((k.clone(), v.clone()));
        }
    }
    HttpResponse {
        status: response.status,
        reason: response.reason.clone(),
        headers,
        body: response.body.clone(),
    }
}

/// httpd's default `index.html`.
pub const HTTPD_IT_WORKS: &str = "<html><body><h1>It works!</h1></body></html>\n";

fn response(
    status: u16,
    headers: Vec<(&'static str, Text)>,
    body: Text,
    head: bool,
) -> HttpResponse {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        _ => "",
    };
    HttpResponse {
        status,
        reason: reason.into(),
        headers: headers
            .into_iter()
            .map(|(k, v)| (Cow::Borrowed(k), v))
            .collect(),
        body: if head { Cow::Borrowed("") } else { body },
    }
}

/// How `app` in `pod` (its name) answers `req` from `client` at `date` (the `Date` header,
/// [`ClockText::http_date`]).
pub fn answer(
    app: App,
    pod: &str,
    client: (Ipv4Addr, u16),
    req: &HttpRequest,
    date: String,
) -> Option<HttpResponse> {
    let head = req.method == "HEAD";
    Some(match app {
        App::Nginx if req.path == "/" || req.path == "/index.html" => response(
            200,
            vec![
                ("Server", "nginx/1.25.3".into()),
                ("Date", date.into()),
                ("Content-Type", "text/html".into()),
                ("Content-Length", NGINX_WELCOME.len().to_string().into()),
                ("Last-Modified", "Tue, 24 Oct 2023 13:46:47 GMT".into()),
                ("Connection", "keep-alive".into()),
                ("ETag", "\"6537cac7-267\"".into()),
                ("Accept-Ranges", "bytes".into()),
            ],
            NGINX_WELCOME.into(),
            head,
        ),
        App::Nginx => response(
            404,
            vec![
                ("Server", "nginx/1.25.3".into()),
                ("Date", date.into()),
                ("Content-Type", "text/html".into()),
                ("Content-Length", NGINX_404.len().to_string().into()),
                ("Connection", "keep-alive".into()),
            ],
            NGINX_404.into(),
            head,
        ),
        App::Httpd => response(
            200,
            vec![
                ("Date", date.into()),
                ("Server", "Apache/2.4.58 (Unix)".into()),
                ("Last-Modified", "Mon, 11 Jun 2007 18:53:14 GMT".into()),
                ("ETag", "\"2d-432a5e4a73a80\"".into()),
                ("Accept-Ranges", "bytes".into()),
                ("Content-Length", HTTPD_IT_WORKS.len().to_string().into()),
                ("Content-Type", "text/html".into()),
            ],
            HTTPD_IT_WORKS.into(),
            head,
        ),
        App::Kubeserve => {
            let body = format!("You've hit {pod}\n");
            response(
                200,
                vec![
                    ("Date", date.into()),
                    ("Connection", "keep-alive".into()),
                    ("Content-Length", body.len().to_string().into()),
                ],
                body.into(),
                head,
            )
        }
        App::Echo => {
            let body = format!(
                "You've hit {pod}\nClient address: {}:{}\nRequest: {} {} HTTP/1.1\nHost: {}\n",
                client.0, client.1, req.method, req.path, req.host
            );
            response(
                200,
                vec![
                    ("Content-Type", "text/plain; charset=utf-8".into()),
                    ("Date", date.into()),
                    ("Content-Length", body.len().to_string().into()),
                ],
                body.into(),
                head,
            )
        }
        App::Tls => {
            let body = "Client sent an HTTP request to an HTTPS server.\n".to_string();
            response(
                400,
                vec![
                    ("Content-Type", "text/plain; charset=utf-8".into()),
                    ("Connection", "close".into()),
                ],
                body.into(),
                head,
            )
        }
        App::IngressNginx => ingress_nginx_error(404, date, head),
        App::ServiceHealth => return None,
        App::EchoServer => {
            let (path, query) = req.path.split_once('?').unwrap_or((&req.path, ""));
            let host = req.host.split(':').next().unwrap_or("");
            let body = format!(
                "\n\nHostname: {pod}\n\nPod Information:\n\t-no pod information available-\n\nServer values:\n\tserver_version=nginx: 1.13.3 - lua: 10008\n\nRequest Information:\n\tclient_address={}\n\tmethod={}\n\treal path={path}\n\tquery={query}\n\trequest_version=1.1\n\trequest_scheme=http\n\trequest_uri=http://{host}:8080{}\n\nRequest Headers:\n\taccept=*/*\n\thost={}\n\tuser-agent={}\n\nRequest Body:\n\t-no body in request-\n\n",
                client.0, req.method, req.path, req.host, req.user_agent
            );
            response(
                200,
                vec![
                    ("Server", "echoserver".into()),
                    ("Date", date.into()),
                    ("Content-Type", "text/plain".into()),
                    ("Transfer-Encoding", "chunked".into()),
                    ("Connection", "keep-alive".into()),
                ],
                body.into(),
                head,
            )
        }
        // Accepts, reads, and closes without an HTTP answer: curl says "Empty reply".
        App::Other | App::CoreDns => return None,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_clock_text_moves_on_with_each_second() {
        let mut clock = super::ClockText::default();
        assert_eq!(clock.at(999).http_date(), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(clock.at(999).time_local(), "01/Jan/1970:00:00:00 +0000");
        assert_eq!(clock.at(1000).http_date(), "Thu, 01 Jan 1970 00:00:01 GMT");
        assert_eq!(
            clock.at(86_400_000).time_local(),
            "02/Jan/1970:00:00:00 +0000"
        );
    }

    /// An access line kept as facts reads, and is saved, as the line the server writes; a
    /// loaded log holds the texts.
    #[test]
    fn access_lines_read_and_save_as_the_servers_write_them() {
        use super::{App, HttpRequest, HttpResponse, LogLine, access_log};
        use std::collections::{BTreeMap, VecDeque};
        let request = std::sync::Arc::new(HttpRequest {
            method: "GET".into(),
            path: "/".into(),
            host: "10.96.0.10".into(),
            user_agent: "curl/8.5.0".into(),
        });
        let response = HttpResponse {
            status: 200,
            reason: "OK".into(),
            headers: Vec::new(),
            body: super::NGINX_WELCOME.into(),
        };
        let client = "10.244.1.0".parse().expect("an address");
        let line = |app| access_log(app, client, request.clone(), &response, 86_401_500);
        let nginx = line(App::Nginx).expect("nginx logs each request");
        assert_eq!(
            nginx.text(),
            "10.244.1.0 - - [02/Jan/1970:00:00:01 +0000] \"GET / HTTP/1.1\" 200 615 \"-\" \"curl/8.5.0\" \"-\""
        );
        assert_eq!(
            line(App::Httpd).expect("httpd logs each request").text(),
            "10.244.1.0 - - [02/Jan/1970:00:00:01 +0000] \"GET / HTTP/1.1\" 200 615"
        );
        assert_eq!(
            line(App::Kubeserve)
                .expect("kubeserve logs each request")
                .text(),
            "Received request from ::ffff:10.244.1.0"
        );
        assert_eq!(line(App::Echo), None);

        #[derive(serde::Serialize, serde::Deserialize)]
        struct Saved {
            #[serde(with = "super::saved_logs")]
            logs: BTreeMap<String, VecDeque<LogLine>>,
        }
        let text = nginx.text().into_owned();
        let saved = Saved {
            logs: BTreeMap::from([("uid".to_string(), VecDeque::from([nginx]))]),
        };
        let json = serde_json::to_string(&saved).expect("saves");
        assert_eq!(
            json,
            serde_json::json!({ "logs": { "uid": [text.clone()] } }).to_string()
        );
        let loaded: Saved = serde_json::from_str(&json).expect("loads");
        assert_eq!(loaded.logs["uid"], VecDeque::from([LogLine::Text(text)]));
    }

    #[test]
    fn bodies_have_the_real_sizes() {
        assert_eq!(super::NGINX_WELCOME.len(), 615);
        assert_eq!(super::HTTPD_IT_WORKS.len(), 45);
    }
}
