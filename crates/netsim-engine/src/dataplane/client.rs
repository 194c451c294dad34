//! The client side of an exchange, as the kernel runs it for curl and ping: a TCP handshake
//! with the kernel's SYN retransmissions, an HTTP request and its response; ICMP echoes once a
//! second.

use super::{Dataplane, Fate, HttpOutcome, HttpResult, PingReply};
use crate::servers::{self, App, HttpRequest, HttpResponse, LogLine};
use netsim_model::conntrack::TcpState;
use netsim_model::packet::{Icmp, L4, Packet, Payload, TcpFlags};
use netsim_model::trace::{DropReason, HopKind, NsId};
use std::net::Ipv4Addr;
use std::sync::Arc;

/// Linux's SYN retransmission intervals (`tcp_syn_retries` = 6, initial RTO 1 s): the connect
/// gives up about 127 s after the first SYN.
const SYN_BACKOFF_S: [u64; 7] = [1, 2, 4, 8, 16, 32, 64];

/// How long ARP tries before the kernel reports the host unreachable.
const ARP_TIMEOUT_NS: u64 = 3_000_000_000;

fn tcp(src: Ipv4Addr, dst: Ipv4Addr, sport: u16, dport: u16, flags: TcpFlags) -> Packet {
    Packet {
        src,
        dst,
        ttl: 64,
        mark: 0,
        l4: L4::Tcp {
            sport,
            dport,
            flags,
        },
        payload: Payload::None,
    }
}

impl Dataplane<'_> {
    /// An ephemeral source port (Linux's `ip_local_port_range`, 32768–60999).
    fn ephemeral_port(&mut self) -> u16 {
        self.sim.rng.range(32768, 61000) as u16
    }

    /// One HTTP request from a client in `from` to `dst:port`, over a new TCP connection.
    /// `connect_timeout_ns` caps the SYN retransmissions (curl's `--connect-timeout`).
    pub fn http(
        &mut self,
        from: NsId,
        dst: Ipv4Addr,
        port: u16,
        req: &HttpRequest,
        connect_timeout_ns: Option<u64>,
    ) -> HttpResult {
        let start = self.t_ns;
        self.hops.clear();
        self.created.clear();
        self.packet_no = 0;
        let (outcome, client) = self.exchange(from, dst, port, req, connect_timeout_ns, 0);
        if client.1 == 0 {
            return HttpResult {
                outcome,
                client,
                elapsed_ns: 0,
                hops: Vec::new(),
            };
        }
        self.close_connections();
        HttpResult {
            outcome,
            client,
            elapsed_ns: self.t_ns - start,
            hops: std::mem::take(&mut self.hops),
        }
    }

    /// One connection and request from `from`, its packets numbered from `first_packet`: the
    /// outcome and the client's address and port (port 0: no route, nothing was sent).
    fn exchange(
        &mut self,
        from: NsId,
        dst: Ipv4Addr,
        port: u16,
        req: &HttpRequest,
        connect_timeout_ns: Option<u64>,
        first_packet: usize,
    ) -> (HttpOutcome, (Ipv4Addr, u16)) {
        let start = self.t_ns;
        let Some(src) = self.source_address(&from, dst) else {
            return (HttpOutcome::NetworkUnreachable, (Ipv4Addr::UNSPECIFIED, 0));
        };
        let sport = self.ephemeral_port();
        self.client = Some((from.clone(), src, sport));
        let syn = tcp(
            src,
            dst,
            sport,
            port,
            TcpFlags {
                syn: true,
                ..TcpFlags::default()
            },
        );
        let record = self.record;
        let mut outcome = HttpOutcome::TimedOut;
        for (attempt, backoff) in SYN_BACKOFF_S.iter().enumerate() {
            let sent_at = self.t_ns;
            self.packet_no = first_packet + attempt;
            let fate = self.send(from.clone(), syn.clone());
            match fate {
                Fate::Delivered { ns, packet } => {
                    outcome = self.accept(&from, ns, packet, req);
                    break;
                }
                Fate::Rejected => {
                    outcome = HttpOutcome::Refused;
                    break;
                }
                Fate::Dropped(DropReason::UnknownTarget) => {
                    self.t_ns = sent_at + ARP_TIMEOUT_NS;
                    outcome = HttpOutcome::HostUnreachable;
                    break;
                }
                Fate::Dropped(DropReason::NoRoute) => {
                    outcome = HttpOutcome::NetworkUnreachable;
                    break;
                }
                Fate::Dropped(_) => {
                    // Only the first attempt's hops are worth showing; retransmissions repeat
                    // them.
                    self.record = false;
                    let next = sent_at + backoff * 1_000_000_000;
                    if let Some(limit) = connect_timeout_ns
                        && next - start >= limit
                    {
                        self.t_ns = start + limit;
                        break;
                    }
                    self.t_ns = next;
                }
            }
        }
        self.record = record;
        (outcome, (src, sport))
    }

    /// The SYN reached `ns`: a listener completes the handshake and answers the request; no
    /// listener answers RST.
    fn accept(&mut self, client: &NsId, ns: NsId, syn: Packet, req: &HttpRequest) -> HttpOutcome {
        let (peer_port, port) = syn.ports();
        let Some(listener) = self.listener(&ns, syn.proto(), port) else {
            self.packet_no += 1;
            let rst = tcp(
                syn.dst,
                syn.src,
                port,
                peer_port,
                TcpFlags {
                    rst: true,
                    ack: true,
                    ..TcpFlags::default()
                },
            );
            return match self.send(ns, rst) {
                Fate::Delivered { ns: back, .. } if &back == client => HttpOutcome::Refused,
                _ => HttpOutcome::TimedOut,
            };
        };
        self.packet_no += 1;
        let synack = tcp(
            syn.dst,
            syn.src,
            port,
            peer_port,
            TcpFlags {
                syn: true,
                ack: true,
                ..TcpFlags::default()
            },
        );
        let Fate::Delivered {
            ns: back,
            packet: at_client,
        } = self.send(ns.clone(), synack)
        else {
            return HttpOutcome::TimedOut;
        };
        if &back != client {
            return HttpOutcome::TimedOut;
        }
        // The handshake's last ACK rides with the request.
        self.packet_no += 1;
        let mut request = tcp(
            at_client.dst,
            at_client.src,
            at_client.ports().1,
            at_client.ports().0,
            TcpFlags {
                psh: true,
                ack: true,
                ..TcpFlags::default()
            },
        );
        request.payload = Payload::HttpRequest(self.request_bytes(req));
        let Fate::Delivered {
            ns: server_ns,
            packet: at_server,
        } = self.send(client.clone(), request)
        else {
            return HttpOutcome::TimedOut;
        };
        self.t_ns += self.latency().application_micros * 1000;
        let server = match &server_ns {
            NsId::Pod(key) => key.rsplit('/').next().unwrap_or(key).to_string(),
            NsId::Node(n) => n.clone(),
            NsId::External => "client".into(),
            NsId::Internet => "upstream".into(),
        };
        let answer = if listener.app == App::IngressNginx && port == 80 {
            Some(self.ingress_nginx(&server_ns, &at_server, req))
        } else if listener.app == App::ServiceHealth {
            let date = self.http_date();
            self.service_health(&server_ns, port, date)
        } else {
            let date = self.http_date();
            servers::answer(
                listener.app,
                &server,
                (at_server.src, at_server.ports().0),
                req,
                date,
            )
        };
        let Some(response) = answer else {
            // Accepted and closed without an answer.
            return HttpOutcome::EmptyReply;
        };
        let (request, _) = self.last_request(req);
        if let Some(line) = servers::access_log(
            listener.app,
            at_server.src,
            request,
            &response,
            self.now_ms(),
        ) {
            self.app_log(&server_ns, line);
        }
        self.packet_no += 1;
        let mut reply = tcp(
            at_server.dst,
            at_server.src,
            at_server.ports().1,
            at_server.ports().0,
            TcpFlags {
                psh: true,
                ack: true,
                ..TcpFlags::default()
            },
        );
        reply.payload = Payload::HttpResponse(self.response_bytes(&response));
        match self.send(server_ns, reply) {
            Fate::Delivered { ns: back, .. } if &back == client => HttpOutcome::Response {
                response,
                server,
                server_addr: (at_server.dst, at_server.ports().1),
                app: listener.app,
            },
            _ => HttpOutcome::TimedOut,
        }
    }

    /// ingress-nginx in pod `ns` got `req` in `packet`: it picks the server and location
    /// ([`Sim::ingress_route`]), then a ready endpoint of the backend Service (round robin from a
    /// random start; here one random pick a request), connects to it from its own pod address
    /// (not through the ClusterIP) and relays the answer. Its access log gets the request, with
    /// the upstream it used; requests the catch-all server's default backend answers are not
    /// logged (`enable-access-log-for-default-backend` is off).
    fn ingress_nginx(&mut self, ns: &NsId, packet: &Packet, req: &HttpRequest) -> HttpResponse {
        use crate::ingress::Upstream;
        let started = self.t_ns;
        let head = req.method == "HEAD";
        let route = self.sim.ingress_route(&req.host, &req.path);
        self.hop(ns, packet, || HopKind::Proxy {
            process: "nginx (ingress-nginx controller)".into(),
            decision: route.describe(),
        });
        // The endpoint: a ready address of the Service's port, on the port the slices give it.
        let mut endpoint: Option<(Ipv4Addr, u16)> = None;
        let mut response = match &route.upstream {
            Upstream::DefaultServer => servers::ingress_nginx_error(404, self.http_date(), head),
            Upstream::Unsupported => servers::ingress_nginx_error(503, self.http_date(), head),
            up @ Upstream::Service { .. } => {
                let ready = self.sim.ingress_endpoints(up);
                if ready.is_empty() {
                    servers::ingress_nginx_error(503, self.http_date(), head)
                } else {
                    let pick = self.sim.rng.below(ready.len() as u64) as usize;
                    let (ip, port) = ready[pick];
                    endpoint = Some((ip, port));
                    let outer_client = self.client.clone();
                    let first = self.packet_no + 1;
                    let (outcome, _) =
                        self.exchange(ns.clone(), ip, port, req, Some(5_000_000_000), first);
                    self.client = outer_client;
                    match outcome {
                        HttpOutcome::Response { response, .. } => {
                            servers::ingress_nginx_relay(&response, self.http_date())
                        }
                        HttpOutcome::Refused | HttpOutcome::EmptyReply => {
                            servers::ingress_nginx_error(502, self.http_date(), head)
                        }
                        _ => servers::ingress_nginx_error(504, self.http_date(), head),
                    }
                }
            }
        };
        if head {
            response.body = std::borrow::Cow::Borrowed("");
        }
        let logged = !(route.server == "_" && route.upstream == Upstream::DefaultServer);
        if logged {
            let secs = |ns: u64| format!("{}.{:03}", ns / 1_000_000_000, ns / 1_000_000 % 1000);
            let took = secs(self.t_ns - started);
            let req_id: String = (0..4)
                .map(|_| format!("{:08x}", self.sim.rng.range(0, 1 << 32)))
                .collect();
            let (upstream_addr, upstream_len, upstream_time, upstream_status) = match endpoint {
                Some((ip, p)) => (
                    format!("{ip}:{p}"),
                    response.body.len().to_string(),
                    took.clone(),
                    response.status.to_string(),
                ),
                None if route.upstream == Upstream::DefaultServer => (
                    "127.0.0.1:8181".to_string(),
                    response.body.len().to_string(),
                    "0.000".to_string(),
                    "404".to_string(),
                ),
                None => ("-".into(), "-".into(), "-".into(), "-".into()),
            };
            let now_ms = self.now_ms();
            let line = format!(
                "{} - - [{}] \"{} {} HTTP/1.1\" {} {} \"-\" \"{}\" {} {} [{}] [] {} {} {} {} {}",
                packet.src,
                self.clock.at(now_ms).time_local(),
                req.method,
                req.path,
                response.status,
                response.body.len(),
                req.user_agent,
                req.wire_len(),
                took,
                route.upstream.name(),
                upstream_addr,
                upstream_len,
                upstream_time,
                upstream_status,
                req_id
            );
            self.app_log(ns, line);
        }
        response
    }

    /// kube-proxy's health check server on node `ns` for the Service whose
    /// `healthCheckNodePort` is `port`: how many of its ready endpoints run on this node.
    fn service_health(&self, ns: &NsId, port: u16, date: String) -> Option<HttpResponse> {
        let NsId::Node(node) = ns else { return None };
        let svc = self.sim.store.services_with_node_port(port).find(|s| {
            s.spec.as_ref().and_then(|s| s.health_check_node_port) == Some(i32::from(port))
        })?;
        let svc_ns = svc.metadata.namespace.clone().unwrap_or_default();
        let name = svc.metadata.name.clone().unwrap_or_default();
        let local = self
            .sim
            .ready_endpoints(&svc_ns, &name)
            .filter(|e| e.node_name.as_deref() == Some(node.as_str()))
            .count();
        Some(servers::service_health(&svc_ns, &name, local, date))
    }

    /// curl closes the connection: the close handshake is not walked, its conntrack entries
    /// go to TIME_WAIT (or CLOSE when it never got established).
    fn close_connections(&mut self) {
        let now = self.now_ms();
        for (node, proto, orig) in std::mem::take(&mut self.created) {
            let Some(ct) = self.sim.conntrack.get_mut(&*node) else {
                continue;
            };
            if let Some((i, _)) = ct.lookup(proto, orig) {
                ct.update(i, |e| {
                    let next = match e.tcp_state {
                        None => return,
                        Some(TcpState::SynSent) if !e.seen_reply => return,
                        Some(TcpState::Established) => TcpState::TimeWait,
                        Some(_) => TcpState::Close,
                    };
                    e.tcp_state = Some(next);
                    e.expires_ms = now + next.timeout_secs() * 1000;
                });
            }
        }
    }

    /// `count` ICMP echo requests from `from` to `dst`, one a second.
    pub fn ping(&mut self, from: NsId, dst: Ipv4Addr, count: u16) -> Vec<PingReply> {
        let mut out = Vec::new();
        let Some(src) = self.source_address(&from, dst) else {
            return out;
        };
        let id = self.sim.rng.range(1, 65536) as u16;
        self.client = Some((from.clone(), src, id));
        for seq in 1..=count {
            let sent = self.t_ns;
            self.hops.clear();
            self.packet_no = 0;
            let echo = Packet {
                src,
                dst,
                ttl: 64,
                mark: 0,
                l4: L4::Icmp(Icmp::EchoRequest { id, seq }),
                payload: Payload::None,
            };
            let mut reply = PingReply {
                seq,
                rtt_ns: None,
                ttl: 0,
                from: dst,
                unreachable: false,
            };
            match self.send(from.clone(), echo) {
                Fate::Delivered { ns, packet } => {
                    self.packet_no += 1;
                    let answer = Packet {
                        src: packet.dst,
                        dst: packet.src,
                        ttl: 64,
                        mark: 0,
                        l4: L4::Icmp(Icmp::EchoReply {
                            id: packet.ports().0,
                            seq,
                        }),
                        payload: Payload::None,
                    };
                    if let Fate::Delivered { ns: back, packet } = self.send(ns, answer)
                        && back == from
                    {
                        reply.rtt_ns = Some(self.t_ns - sent);
                        reply.ttl = packet.ttl;
                        reply.from = packet.src;
                    }
                }
                Fate::Dropped(DropReason::UnknownTarget) => {
                    reply.unreachable = true;
                    reply.from = src;
                }
                _ => {}
            }
            out.push(reply);
            self.t_ns = sent + 1_000_000_000;
        }
        out
    }

    /// The hops recorded by the last exchange.
    pub fn take_hops(&mut self) -> Vec<netsim_model::trace::Hop> {
        std::mem::take(&mut self.hops)
    }
}

impl HttpOutcome {
    /// Whether the server was an application netsim knows the answers of.
    pub fn app(&self) -> Option<App> {
        match self {
            HttpOutcome::Response { app, .. } => Some(*app),
            _ => None,
        }
    }
}

/// How a DNS exchange ended.
#[derive(Debug, Clone, PartialEq)]
pub enum DnsOutcome {
    /// A reply came back.
    Reply(netsim_model::dns::Message),
    /// ICMP port unreachable: nothing listens on port 53 there.
    Refused,
    /// No reply within the timeout.
    TimedOut,
}

impl Dataplane<'_> {
    /// One DNS query over UDP from a socket in `from` to `server:53`; waits `timeout_ns` for
    /// the reply. The server is whatever the packet reaches: a CoreDNS pod (through
    /// kube-proxy's DNAT when `server` is the kube-dns ClusterIP), or the resolvers beyond the
    /// gateway.
    pub fn dns(
        &mut self,
        from: NsId,
        server: Ipv4Addr,
        query: &netsim_model::dns::Message,
        timeout_ns: u64,
    ) -> DnsOutcome {
        let sent_at = self.t_ns;
        if !self.hops.is_empty() {
            self.packet_no += 1;
        }
        let Some(src) = self.source_address(&from, server) else {
            return DnsOutcome::Refused;
        };
        let sport = self.ephemeral_port();
        self.client = Some((from.clone(), src, sport));
        let packet = Packet {
            src,
            dst: server,
            ttl: 64,
            mark: 0,
            l4: L4::Udp { sport, dport: 53 },
            payload: Payload::Dns(Box::new(query.clone())),
        };
        let (server_ns, at_server) = match self.send(from.clone(), packet) {
            Fate::Delivered { ns, packet } => (ns, packet),
            Fate::Rejected => return DnsOutcome::Refused,
            Fate::Dropped(_) => {
                self.t_ns = sent_at + timeout_ns;
                return DnsOutcome::TimedOut;
            }
        };
        let (peer, peer_port) = (at_server.src, at_server.ports().0);
        let Payload::Dns(q) = &at_server.payload else {
            return DnsOutcome::TimedOut;
        };
        let q = (**q).clone();
        let answer = match &server_ns {
            NsId::Internet => Some(self.sim.upstream_answer(&q)),
            ns => match self.listener(ns, netsim_model::netfilter::Proto::Udp, 53) {
                Some(l) if l.app == App::CoreDns => {
                    let answer = self.coredns(ns.clone(), &q);
                    if self.sim.corefile().log {
                        // CoreDNS's `log` plugin, common format.
                        let line = format!(
                            "[INFO] {peer}:{peer_port} - {} \"{} IN {} udp {} false 512\" {} {} {} 0.0002s",
                            q.id,
                            q.question.1.name(),
                            q.question.0,
                            q.wire_len(),
                            answer.rcode.name(),
                            {
                                let mut f = vec!["qr"];
                                if answer.authoritative {
                                    f.push("aa");
                                }
                                if answer.recursion_desired {
                                    f.push("rd");
                                }
                                if answer.recursion_available {
                                    f.push("ra");
                                }
                                f.join(",")
                            },
                            answer.wire_len()
                        );
                        self.app_log(ns, line);
                    }
                    Some(answer)
                }
                Some(_) => None,
                None => {
                    // The kernel answers a datagram to a closed port with ICMP port
                    // unreachable.
                    self.packet_no += 1;
                    let icmp = Packet {
                        src: at_server.dst,
                        dst: peer,
                        ttl: 64,
                        mark: 0,
                        l4: L4::Icmp(Icmp::Unreachable {
                            code: 3,
                            original: (at_server.proto(), at_server.tuple()),
                        }),
                        payload: Payload::None,
                    };
                    let _ = self.send(server_ns.clone(), icmp);
                    return DnsOutcome::Refused;
                }
            },
        };
        let Some(mut reply) = answer else {
            self.t_ns = sent_at + timeout_ns;
            return DnsOutcome::TimedOut;
        };
        reply.id = q.id;
        self.packet_no += 1;
        let back = Packet {
            src: at_server.dst,
            dst: peer,
            ttl: 64,
            mark: 0,
            l4: L4::Udp {
                sport: 53,
                dport: peer_port,
            },
            payload: Payload::Dns(Box::new(reply)),
        };
        self.client = Some((from.clone(), src, sport));
        match self.send(server_ns, back) {
            Fate::Delivered { ns, packet } if ns == from => match packet.payload {
                Payload::Dns(m) => DnsOutcome::Reply(*m),
                _ => DnsOutcome::TimedOut,
            },
            _ => {
                self.t_ns = sent_at + timeout_ns;
                DnsOutcome::TimedOut
            }
        }
    }

    /// Appends `line` to the log of the pod `ns` names.
    fn app_log(&mut self, ns: &NsId, line: impl Into<LogLine>) {
        let NsId::Pod(key) = ns else { return };
        // The pod's context has its uid when the packet reached the pod (always, for a
        // server's line); the store is asked otherwise.
        if let Some(pod) = self.pods.get(key) {
            return self.sim.push_app_log(&pod.uid, line.into());
        }
        let Some((pns, name)) = key.split_once('/') else {
            return;
        };
        let Some(uid) = self
            .sim
            .store()
            .typed::<netsim_model::k8s_openapi::api::core::v1::Pod>(pns, name)
            .and_then(|p| p.metadata.uid.clone())
        else {
            return;
        };
        self.sim.push_app_log(&uid, line.into());
    }

    /// `req`, shared with the log lines of a burst of equal requests, and its bytes on the
    /// wire: made once for a run of equal requests.
    fn last_request(&mut self, req: &HttpRequest) -> (Arc<HttpRequest>, Arc<[u8]>) {
        match &self.last_request {
            Some((last, bytes)) if **last == *req => (last.clone(), bytes.clone()),
            _ => {
                let made = (Arc::new(req.clone()), Arc::from(req.wire_bytes()));
                self.last_request = Some(made.clone());
                made
            }
        }
    }

    /// `req` as sent.
    fn request_bytes(&mut self, req: &HttpRequest) -> Arc<[u8]> {
        self.last_request(req).1
    }

    /// The `Date` header servers send now.
    fn http_date(&mut self) -> String {
        let now_ms = self.now_ms();
        self.clock.at(now_ms).http_date().to_string()
    }

    /// `response` as sent, made once for a run of equal responses.
    fn response_bytes(&mut self, response: &HttpResponse) -> Arc<[u8]> {
        wire_once(&mut self.wire_response, response, HttpResponse::wire_bytes)
    }

    /// CoreDNS in pod `ns` answers `q`: the kubernetes plugin, else `forward` to the
    /// nameservers of its own `/etc/resolv.conf` (the node's: CoreDNS runs with `dnsPolicy:
    /// Default`) or the addresses the Corefile names.
    ///
    /// With the `cache` plugin, a pod answers from its own cache while the entry lives, and
    /// what it answers afresh goes out with every TTL set to how long it will be cached.
    fn coredns(&mut self, ns: NsId, q: &netsim_model::dns::Message) -> netsim_model::dns::Message {
        let caps = self.sim.corefile().cache;
        let uid = match (&ns, caps) {
            (NsId::Pod(key), Some(_)) => key.split_once('/').and_then(|(pns, name)| {
                self.sim
                    .store()
                    .typed::<netsim_model::k8s_openapi::api::core::v1::Pod>(pns, name)
                    .and_then(|p| p.metadata.uid.clone())
            }),
            _ => None,
        };
        let now = self.now_ms();
        if let Some(uid) = &uid
            && let Some(hit) = self.sim.dns_cache.get(uid).and_then(|c| c.get(q, now))
        {
            return hit;
        }
        let mut answer = self.coredns_resolve(ns, q);
        if let (Some(uid), Some(caps)) = (uid, caps)
            && let Some(ttl) = caps.duration(&answer)
        {
            for r in answer
                .answers
                .iter_mut()
                .chain(answer.authority.iter_mut())
                .chain(answer.additional.iter_mut())
            {
                r.ttl = ttl;
            }
            self.sim
                .dns_cache
                .entry(uid)
                .or_default()
                .put(q, &answer, ttl, now);
        }
        answer
    }

    /// CoreDNS's plugins after `cache`: the kubernetes plugin, then `forward`.
    fn coredns_resolve(
        &mut self,
        ns: NsId,
        q: &netsim_model::dns::Message,
    ) -> netsim_model::dns::Message {
        use netsim_model::dns::{Message, Rcode};
        let corefile = self.sim.corefile();
        if let Some(answer) = self.sim.coredns_answer(&corefile, q) {
            return answer;
        }
        let servfail = || Message {
            response: true,
            rcode: Rcode::ServFail,
            ..q.clone()
        };
        let Some(targets) = corefile.forward else {
            return Message {
                response: true,
                rcode: Rcode::Refused,
                ..q.clone()
            };
        };
        let mut upstreams: Vec<Ipv4Addr> = Vec::new();
        for t in targets {
            if t == "/etc/resolv.conf" {
                if let NsId::Pod(key) = &ns
                    && let Some((pns, name)) = key.split_once('/')
                    && let Some(pod) = self
                        .sim
                        .store()
                        .typed::<netsim_model::k8s_openapi::api::core::v1::Pod>(pns, name)
                {
                    let text = self.sim.pod_resolv_conf(pod);
                    upstreams.extend(crate::resolver::ResolvConf::parse(&text).nameservers);
                }
            } else if let Ok(ip) = t
                .trim_start_matches("dns://")
                .split(':')
                .next()
                .unwrap_or("")
                .parse()
            {
                upstreams.push(ip);
            }
        }
        // forward's default: 2 s per try, the first healthy upstream.
        for upstream in upstreams {
            self.packet_no += 1;
            let mut fwd = q.clone();
            fwd.id = self.sim.rng.range(0, 65536) as u16;
            if let DnsOutcome::Reply(mut r) = self.dns(ns.clone(), upstream, &fwd, 2_000_000_000) {
                r.id = q.id;
                return r;
            }
        }
        servfail()
    }
}

/// The bytes of `value`, made by `make` only when `last` holds another value (a burst of
/// equal responses encodes once).
fn wire_once<T: PartialEq + Clone>(
    last: &mut Option<(T, Arc<[u8]>)>,
    value: &T,
    make: impl FnOnce(&T) -> Vec<u8>,
) -> Arc<[u8]> {
    if let Some((seen, bytes)) = last.as_ref()
        && seen == value
    {
        return bytes.clone();
    }
    let bytes: Arc<[u8]> = make(value).into();
    *last = Some((value.clone(), bytes.clone()));
    bytes
}
