//! `dig`'s output (BIND 9.18): the header, the flags, the OPT pseudo-section, the sections in
//! BIND's master-file style, and the statistics lines.
//!
//! BIND lays records out on tab stops every 8 columns, aiming at column 24 for the TTL, 32 for
//! the class, 40 for the type and 48 for the data. Short of a target it emits tabs up to it;
//! at or past it, one blank: a tab when the next tab stop is one column away, else a space.
//! (Measured against real `dig` 9.18 on names of every length from 14 to 42 characters.)

use netsim_model::dns::{Message, RData, Record};

/// What `dig` prints besides the message.
pub struct DigRun<'a> {
    /// The command line after `dig` (`@10.96.0.10 kubernetes.default.svc.cluster.local`).
    pub args: &'a str,
    /// dig's version banner (`9.18.28-0ubuntu0.22.04.1-Ubuntu`).
    pub version: &'a str,
    /// Whether the server was given with `@`.
    pub server_given: bool,
    /// The server's address.
    pub server: String,
    /// Port.
    pub port: u16,
    /// Over TCP.
    pub tcp: bool,
    /// Query time, milliseconds.
    pub query_ms: u64,
    /// `Tue Jan 02 00:01:00 UTC 2024`.
    pub when: String,
    /// Size of the reply on the wire.
    pub size: usize,
}

/// Which sections `+noall +answer`-style options leave on.
#[derive(Debug, Clone, Copy)]
pub struct Sections {
    /// The comment lines (header, flags, section titles, statistics).
    pub comments: bool,
    /// QUESTION.
    pub question: bool,
    /// ANSWER.
    pub answer: bool,
    /// AUTHORITY.
    pub authority: bool,
    /// ADDITIONAL.
    pub additional: bool,
    /// The statistics lines.
    pub stats: bool,
    /// `+short`.
    pub short: bool,
}

impl Default for Sections {
    fn default() -> Sections {
        Sections {
            comments: true,
            question: true,
            answer: true,
            authority: true,
            additional: true,
            stats: true,
            short: false,
        }
    }
}

/// Appends `text` after padding `line` toward `column` BIND's way.
fn field(line: &mut String, column: usize, text: &str) {
    // The visual column: a tab moves to the next multiple of 8.
    let current = line
        .chars()
        .fold(0, |c, ch| if ch == '\t' { (c / 8 + 1) * 8 } else { c + 1 });
    if current < column {
        let mut c = current;
        while c < column {
            line.push('\t');
            c = (c / 8 + 1) * 8;
        }
    } else if current % 8 == 7 {
        line.push('\t');
    } else {
        line.push(' ');
    }
    line.push_str(text);
}

/// A record's type mnemonic and its data as BIND's `dns_rdata_totext` writes it.
pub fn rdata(d: &RData) -> (String, String) {
    match d {
        RData::A(ip) => ("A".into(), ip.to_string()),
        RData::Aaaa(ip) => ("AAAA".into(), ip.to_string()),
        RData::Cname(n) => ("CNAME".into(), n.clone()),
        RData::Ptr(n) => ("PTR".into(), n.clone()),
        RData::Ns(n) => ("NS".into(), n.clone()),
        RData::Srv {
            priority,
            weight,
            port,
            target,
        } => ("SRV".into(), format!("{priority} {weight} {port} {target}")),
        RData::Soa {
            mname,
            rname,
            serial,
            refresh,
            retry,
            expire,
            minimum,
        } => (
            "SOA".into(),
            format!("{mname} {rname} {serial} {refresh} {retry} {expire} {minimum}"),
        ),
        RData::Txt(t) => ("TXT".into(), format!("\"{t}\"")),
    }
}

/// One record as dig prints it.
pub fn record_line(r: &Record) -> String {
    let (ty, data) = rdata(&r.data);
    let mut line = r.name.clone();
    field(&mut line, 24, &r.ttl.to_string());
    field(&mut line, 32, "IN");
    field(&mut line, 40, &ty);
    field(&mut line, 48, &data);
    line
}

/// The whole output of one `dig` query.
pub fn dig(reply: &Message, run: &DigRun<'_>, sections: Sections) -> String {
    let mut out = String::new();
    if sections.short {
        for r in &reply.answers {
            out.push_str(&rdata(&r.data).1);
            out.push('\n');
        }
        return out;
    }
    let local = reply
        .question
        .0
        .trim_end_matches('.')
        .to_ascii_lowercase()
        .ends_with(".local");
    if sections.comments {
        out.push_str(&format!("\n; <<>> DiG {} <<>> {}\n", run.version, run.args));
        if run.server_given {
            out.push_str("; (1 server found)\n");
        }
        out.push_str(";; global options: +cmd\n;; Got answer:\n");
        if local {
            out.push_str(";; WARNING: .local is reserved for Multicast DNS\n;; You are currently testing what happens when an mDNS query is leaked to DNS\n");
        }
        out.push_str(&format!(
            ";; ->>HEADER<<- opcode: QUERY, status: {}, id: {}\n",
            reply.rcode.name(),
            reply.id
        ));
        let mut flags = vec!["qr"];
        if reply.authoritative {
            flags.push("aa");
        }
        if reply.recursion_desired {
            flags.push("rd");
        }
        if reply.recursion_available {
            flags.push("ra");
        }
        out.push_str(&format!(
            ";; flags: {}; QUERY: 1, ANSWER: {}, AUTHORITY: {}, ADDITIONAL: {}\n",
            flags.join(" "),
            reply.answers.len(),
            reply.authority.len(),
            reply.additional.len() + 1
        ));
        if reply.recursion_desired && !reply.recursion_available {
            out.push_str(";; WARNING: recursion requested but not available\n");
        }
        out.push_str("\n;; OPT PSEUDOSECTION:\n; EDNS: version: 0, flags:; udp: 1232\n");
    }
    if sections.question {
        if sections.comments {
            out.push_str(";; QUESTION SECTION:\n");
        }
        // The leading `;` does not count toward the columns.
        let mut line = reply.question.0.clone();
        field(&mut line, 32, "IN");
        field(&mut line, 40, &reply.question.1.name());
        out.push(';');
        out.push_str(&line);
        out.push('\n');
        if sections.comments {
            out.push('\n');
        }
    }
    for (title, on, records) in [
        ("ANSWER", sections.answer, &reply.answers),
        ("AUTHORITY", sections.authority, &reply.authority),
        ("ADDITIONAL", sections.additional, &reply.additional),
    ] {
        if !on || records.is_empty() {
            continue;
        }
        if sections.comments {
            out.push_str(&format!(";; {title} SECTION:\n"));
        }
        for r in records.iter() {
            out.push_str(&record_line(r));
            out.push('\n');
        }
        if sections.comments {
            out.push('\n');
        }
    }
    if sections.stats {
        out.push_str(&format!(
            ";; Query time: {} msec\n;; SERVER: {}#{}({}) ({})\n;; WHEN: {}\n;; MSG SIZE  rcvd: {}\n\n",
            run.query_ms,
            run.server,
            run.port,
            run.server,
            if run.tcp { "TCP" } else { "UDP" },
            run.when,
            run.size
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use netsim_model::dns::RData;

    /// Real `dig` 9.18 lines for names of 34 to 42 characters and a short one.
    #[test]
    fn tab_stops_like_bind() {
        let cases = [
            (
                "1-1-1-1.default.pod.cluster.local.",
                "1-1-1-1.default.pod.cluster.local. 30 IN A\t1.1.1.1",
            ),
            (
                "11-11-1-1.default.pod.cluster.local.",
                "11-11-1-1.default.pod.cluster.local. 30\tIN A\t11.11.1.1",
            ),
            (
                "111-11-11-11.default.pod.cluster.local.",
                "111-11-11-11.default.pod.cluster.local.\t30 IN A\t111.11.11.11",
            ),
            (
                "111-111-11-11.default.pod.cluster.local.",
                "111-111-11-11.default.pod.cluster.local. 30 IN A 111.111.11.11",
            ),
            (
                "111-111-111-11.default.pod.cluster.local.",
                "111-111-111-11.default.pod.cluster.local. 30 IN\tA 111.111.111.11",
            ),
        ];
        for (name, want) in cases {
            let ip = name
                .split('.')
                .next()
                .unwrap_or("")
                .replace('-', ".")
                .parse()
                .unwrap_or(std::net::Ipv4Addr::UNSPECIFIED);
            let r = Record {
                name: name.into(),
                ttl: 30,
                data: RData::A(ip),
            };
            assert_eq!(record_line(&r), want);
        }
    }
}
