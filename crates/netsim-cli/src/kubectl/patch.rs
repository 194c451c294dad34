//! `kubectl patch`: strategic merge (the default), JSON merge or JSON patch.

use super::{Ctx, dry_run, merge, parse, write_options};
use crate::flags::{Flag, v};
use netsim_model::Object;

const FLAGS: &[Flag] = &[
    v("patch", Some('p')),
    v("patch-file", None),
    v("type", None),
    super::DRY_RUN,
    v("output", Some('o')),
    v("filename", Some('f')),
];

/// `kubectl patch`.
pub fn run(ctx: &mut Ctx, args: &[String]) -> Result<(), String> {
    let a = parse("patch", args, FLAGS)?;
    let dry = dry_run(ctx, &a)?;
    let ns = super::namespace(&a);
    let text =
        match (a.value("patch"), a.value("patch-file")) {
            (Some(p), _) => p.to_string(),
            (None, Some(f)) => std::fs::read_to_string(f).map_err(|_| {
                format!("error: unable to read patch file: open {f}: no such file or directory")
            })?,
            (None, None) => return Err(
                "error: must specify --patch or --patch-file containing the contents of the patch"
                    .into(),
            ),
        };
    // kubectl reads the patch as YAML (of which JSON is a part): `-p 'spec: {type: NodePort}'`.
    let patch = netsim_manifest::yaml_to_json(&text)
        .map_err(|e| format!("error: unable to parse \"{text}\": {}", e.go_text()))?;
    let pairs = super::type_and_names(&a.positional)?;
    let Some((kind, Some(name))) = pairs.into_iter().next() else {
        return Err(
            "error: You must provide one or more resources by argument or filename.".into(),
        );
    };
    let sim = ctx.sim()?;
    let live = super::get_object(sim, kind, &ns, &name)?;
    let live_json = live.to_json();
    let patched = match a.value("type").unwrap_or("strategic") {
        "strategic" => merge::strategic(&live_json, &patch),
        "merge" => merge::json_merge(&live_json, &patch),
        "json" => merge::json_patch(&live_json, &patch).map_err(|e| format!("error: {e}"))?,
        other => {
            return Err(format!(
                "error: --type must be one of [json merge strategic], not \"{other}\""
            ));
        }
    };
    let object = Object::from_json(kind, patched).map_err(|e| {
        format!(
            "Error from server (BadRequest): {} in version \"{}\" cannot be handled as a {}: {e}",
            kind.info().kind,
            kind.info().version,
            kind.info().kind
        )
    })?;
    let (_, changed) = sim
        .replace(object, write_options(dry))
        .map_err(|e| e.to_string())?;
    let verb = if changed {
        "patched"
    } else {
        "patched (no change)"
    };
    ctx.out.outln(netsim_print::message(kind, &name, verb, dry));
    Ok(())
}
