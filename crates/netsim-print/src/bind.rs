//! The output of BIND 9.18's `nslookup` and `host` (bind9-dnsutils and bind9-host on a
//! kubeadm Ubuntu node, and in DNS tool images): given the lookups already made and the
//! replies they got, what each tool prints and its exit code. The lookups themselves (search
//! list, the follow-up AAAA and MX queries) are the caller's; this module only formats, as
//! `bin/dig/nslookup.c` and `bin/dig/host.c` do in their `printmessage`.

use crate::dig::rdata;
use netsim_model::dns::{Message, QType, RData, Rcode};

/// One finished lookup: what was asked and the reply that ended it (the last candidate of the
/// search list), or `None` when no server answered.
#[derive(Debug, Clone)]
pub struct Answered {
    /// The query type.
    pub qtype: QType,
    /// The name as the tool was given it (or the CNAME target of a follow-up query).
    pub textname: String,
    /// The name of the query that ended the lookup, absolute.
    pub name: String,
    /// The reply.
    pub reply: Option<Message>,
    /// Lines `dighost.c` printed while the lookup ran (`;; Got recursion not available from
    /// 10.96.0.10`, for each reply without the RA flag when nslookup chose the server itself).
    pub notes: Vec<String>,
}

/// BIND's `dns_name_format`: no trailing dot, except for the root.
fn name_text(name: &str) -> &str {
    if name == "." {
        name
    } else {
        name.strip_suffix('.').unwrap_or(name)
    }
}

fn rcode_text(r: Rcode) -> &'static str {
    r.name()
}

/// nslookup's label for a record type (`rtypetext[]`).
fn nslookup_label(d: &RData) -> &'static str {
    match d {
        RData::A(_) => "internet address = ",
        RData::Ns(_) => "nameserver = ",
        RData::Cname(_) => "canonical name = ",
        RData::Soa { .. } => "soa = ",
        RData::Ptr(_) => "name = ",
        RData::Txt(_) => "text = ",
        RData::Aaaa(_) => "has AAAA address ",
        RData::Srv { .. } => "service = ",
    }
}

/// An SOA record as nslookup prints it (BIND's and busybox's alike): the owner, then one
/// tab-indented `field = value` line per field, names without the trailing dot.
pub fn soa_block(owner: &str, data: &RData) -> String {
    let RData::Soa {
        mname,
        rname,
        serial,
        refresh,
        retry,
        expire,
        minimum,
    } = data
    else {
        return String::new();
    };
    format!(
        "{owner}\n\torigin = {}\n\tmail addr = {}\n\tserial = {serial}\n\trefresh = {refresh}\n\tretry = {retry}\n\texpire = {expire}\n\tminimum = {minimum}\n",
        name_text(mname),
        name_text(rname)
    )
}

fn nslookup_section(out: &mut String, records: &[netsim_model::dns::Record], answer: bool) {
    for r in records {
        let owner = name_text(&r.name);
        match &r.data {
            RData::A(_) | RData::Aaaa(_) if answer => {
                out.push_str(&format!("Name:\t{owner}\nAddress: {}\n", rdata(&r.data).1));
            }
            RData::Soa { .. } => out.push_str(&soa_block(owner, &r.data)),
            d => {
                out.push_str(&format!("{owner}\t{}{}\n", nslookup_label(d), rdata(d).1));
            }
        }
    }
}

/// `nslookup NAME [SERVER]`: `server` is the server as the user wrote it (or as resolv.conf
/// has it) and `address` its socket address (`10.96.0.10#53`); `default_lookups` is false when
/// `-type=` was given. Returns the text (with nslookup's closing blank line) and exit code.
pub fn nslookup(
    server: &str,
    address: &str,
    answered: &[Answered],
    default_lookups: bool,
) -> (String, i32) {
    let mut out = String::new();
    let mut a_noanswer = false;
    let mut query_error = 1;
    let mut print_error = 0;
    for a in answered {
        for note in &a.notes {
            out.push_str(note);
            out.push('\n');
        }
        let Some(msg) = &a.reply else {
            out.push_str(";; connection timed out; no servers could be reached\n");
            continue;
        };
        query_error = 0;
        let is_a = a.qtype == QType::A;
        if !default_lookups || is_a {
            out.push_str(&format!("Server:\t\t{server}\nAddress:\t{address}\n\n"));
        }
        if msg.rcode != Rcode::NoError {
            out.push_str(&format!(
                "** server can't find {}: {}\n",
                name_text(&a.name),
                rcode_text(msg.rcode)
            ));
            print_error = 1;
            continue;
        }
        if !msg.authoritative && (!default_lookups || is_a) {
            out.push_str("Non-authoritative answer:\n");
        }
        if !msg.answers.is_empty() {
            nslookup_section(&mut out, &msg.answers, true);
        } else if default_lookups && is_a {
            a_noanswer = true;
        } else if !default_lookups || (a.qtype == QType::Aaaa && a_noanswer) {
            out.push_str(&format!("*** Can't find {}: No answer\n", a.textname));
        }
        if !msg.authoritative && a.qtype != QType::A && a.qtype != QType::Aaaa {
            out.push_str("\nAuthoritative answers can be found from:\n");
            nslookup_section(&mut out, &msg.authority, false);
            nslookup_section(&mut out, &msg.additional, false);
        }
    }
    out.push('\n');
    (out, query_error | print_error)
}

/// host's phrase for a record type (`rtypes[]`), or `has TYPE record`.
fn host_phrase(d: &RData) -> String {
    match d {
        RData::A(_) => "has address".into(),
        RData::Ns(_) => "name server".into(),
        RData::Cname(_) => "is an alias for".into(),
        RData::Ptr(_) => "domain name pointer".into(),
        RData::Txt(_) => "descriptive text".into(),
        RData::Aaaa(_) => "has IPv6 address".into(),
        other => format!("has {} record", other.qtype().name()),
    }
}

/// `host [-t TYPE] NAME [SERVER]`: `listed_server` is `(as written, socket address)` when a
/// server was named on the command line; `default_lookups` is false when `-t` was given.
pub fn host(
    listed_server: Option<(&str, &str)>,
    answered: &[Answered],
    default_lookups: bool,
) -> (String, i32) {
    let mut out = String::new();
    let mut printed_server = false;
    let mut seen_error = -1;
    for a in answered {
        let Some(msg) = &a.reply else {
            out.push_str(";; connection timed out; no servers could be reached\n");
            seen_error = 1;
            continue;
        };
        let force_error = seen_error == 1;
        seen_error = 1;
        if let Some((name, addr)) = listed_server
            && !printed_server
        {
            out.push_str(&format!(
                "Using domain server:\nName: {name}\nAddress: {addr}\nAliases: \n\n"
            ));
            printed_server = true;
        }
        if msg.rcode != Rcode::NoError {
            let shown = if msg.rcode == Rcode::NxDomain {
                a.textname.as_str()
            } else {
                name_text(&a.name)
            };
            out.push_str(&format!(
                "Host {shown} not found: {}({})\n",
                msg.rcode.code(),
                rcode_text(msg.rcode)
            ));
            continue;
        }
        for r in &msg.answers {
            out.push_str(&format!(
                "{} {} {}\n",
                name_text(&r.name),
                host_phrase(&r.data),
                rdata(&r.data).1
            ));
        }
        if !default_lookups && msg.answers.is_empty() {
            out.push_str(&format!(
                "{} has no {} record\n",
                name_text(&a.name),
                a.qtype.name()
            ));
        }
        seen_error = i32::from(force_error);
    }
    (out, i32::from(seen_error != 0))
}
