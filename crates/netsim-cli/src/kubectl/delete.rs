//! `kubectl delete`: by type and names, `-f`, `--all` or `-l`; pods terminate gracefully and,
//! as kubectl waits for them by default, the virtual clock runs until they are gone.

use super::{Ctx, dry_run, parse, write_options};
use crate::flags::{Flag, b, v};
use crate::sources;
use netsim_model::ObjectKey;
use netsim_model::jiff::SignedDuration;
use netsim_model::labels::Selector;

const FLAGS: &[Flag] = &[
    v("filename", Some('f')),
    b("recursive", Some('R')),
    b("all", None),
    v("selector", Some('l')),
    b("all-namespaces", Some('A')),
    v("grace-period", None),
    b("force", None),
    b("now", None),
    v("wait", None),
    super::DRY_RUN,
    b("ignore-not-found", None),
    v("cascade", None),
    v("output", Some('o')),
    v("timeout", None),
];

/// `kubectl delete`.
pub fn run(ctx: &mut Ctx, args: &[String]) -> Result<(), String> {
    let a = parse("delete", args, FLAGS)?;
    let dry = dry_run(ctx, &a)?;
    let ns = super::namespace(&a);
    let force = a.flag("force");
    let mut grace: Option<i64> = match a.value("grace-period") {
        Some(g) => Some(g.parse().map_err(|_| format!("error: invalid argument \"{g}\" for \"--grace-period\" flag: strconv.ParseInt: parsing \"{g}\": invalid syntax"))?),
        None => None,
    };
    if a.flag("now") {
        grace = Some(1);
    }
    if force && grace.is_none_or(|g| g < 0) {
        grace = Some(0);
    }
    if grace == Some(0) && !force {
        // kubectl: --grace-period=0 without --force means 1 second.
        grace = Some(1);
    }
    // (key, file it came from)
    let mut targets: Vec<(ObjectKey, Option<String>)> = Vec::new();
    let mut errors = Vec::new();
    let files = a.values("filename");
    if !files.is_empty() {
        for l in sources::read_all(&files, a.flag("recursive"))? {
            let items = netsim_manifest::parse(
                &netsim_manifest::Source {
                    name: &l.name,
                    text: &l.text,
                },
                netsim_manifest::Validate::Ignore,
            )
            .map_err(|e| e.message())?;
            for item in items {
                if let netsim_manifest::Item::Object(doc) = item {
                    let o = doc.object;
                    let obj_ns = o.metadata().namespace.clone().unwrap_or_else(|| ns.clone());
                    targets.push((
                        ObjectKey::new(o.kind(), &obj_ns, o.name()),
                        Some(l.name.clone()),
                    ));
                }
            }
        }
    } else {
        let pairs = super::type_and_names(&a.positional)?;
        if pairs.is_empty() {
            return Err("error: You must provide one or more resources by argument or filename.\nExample resource specifications include:\n   '-f rsrc.yaml'\n   '--filename=rsrc.json'\n   '<resource> <name>'\n   '<resource>'".into());
        }
        let selector = match a.value("selector") {
            Some(s) => Some(Selector::parse(s).map_err(|e| format!("error: {e}"))?),
            None => None,
        };
        let (sim, out) = ctx.parts()?;
        for (kind, name) in pairs {
            match name {
                Some(n) => targets.push((ObjectKey::new(kind, &ns, &n), None)),
                None if a.flag("all") || selector.is_some() => {
                    let filter_ns = if a.flag("all-namespaces") || !kind.info().namespaced {
                        None
                    } else {
                        Some(ns.as_str())
                    };
                    let found: Vec<ObjectKey> = sim
                        .store()
                        .list(kind, filter_ns)
                        .filter(|o| {
                            selector
                                .as_ref()
                                .is_none_or(|s| s.matches(o.metadata().labels.as_ref()))
                        })
                        .map(|o| o.key())
                        .collect();
                    if found.is_empty() {
                        out.errln(format!("No resources found in {ns} namespace."));
                    }
                    targets.extend(found.into_iter().map(|k| (k, None)));
                }
                None => {
                    return Err(
                        "error: resource(s) were provided, but no name was specified".into(),
                    );
                }
            }
        }
    }
    if force && grace == Some(0) {
        ctx.out.errln("Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated. The resource may continue to run on the cluster indefinitely.");
    }
    let (sim, out) = ctx.parts()?;
    let mut deleted = Vec::new();
    for (key, file) in targets {
        // The uid names the object waited for: a controller may make a new one of the same
        // name at once (deleted Endpoints come back), and kubectl's wait ends on a new uid.
        let uid = sim.store().get(&key).and_then(|o| o.metadata().uid.clone());
        match sim.delete(&key, write_options(dry), grace) {
            Ok(_) => {
                out.outln(netsim_print::delete_message(
                    key.kind,
                    &key.name,
                    force && grace == Some(0),
                    dry,
                ));
                deleted.push((key, uid));
            }
            Err(_) if a.flag("ignore-not-found") => {}
            Err(e) => errors.push(match file {
                Some(f) => e.with_file(&f, "deleting"),
                None => e.to_string(),
            }),
        }
    }
    // kubectl waits until the objects are really gone (terminating pods included).
    if a.value("wait") != Some("false") && dry == netsim_print::DryRun::None {
        for _ in 0..600 {
            let gone = |(key, uid): &(ObjectKey, Option<String>)| {
                sim.store()
                    .get(key)
                    .is_none_or(|o| o.metadata().uid != *uid)
            };
            if deleted.iter().all(gone) {
                break;
            }
            sim.advance(SignedDuration::from_secs(1));
        }
    }
    for e in errors {
        out.fail(e);
    }
    Ok(())
}
