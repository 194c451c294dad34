//! `kubectl edit`: the objects as YAML in `$KUBE_EDITOR`/`$EDITOR` (default `vi`), with
//! kubectl's header; saved changes replace the objects, an unchanged file cancels.

use super::{Ctx, parse};
use crate::flags::{Flag, v};
use netsim_model::Object;

const FLAGS: &[Flag] = &[
    v("output", Some('o')),
    v("filename", Some('f')),
    v("validate", None),
];

const HEADER: &str = "# Please edit the object below. Lines beginning with a '#' will be ignored,\n# and an empty file will abort the edit. If an error occurs while saving this file will be\n# reopened with the relevant failures.\n#\n";

/// `kubectl edit`.
pub fn run(ctx: &mut Ctx, args: &[String]) -> Result<(), String> {
    let a = parse("edit", args, FLAGS)?;
    let ns = super::namespace(&a);
    let pairs = super::type_and_names(&a.positional)?;
    if pairs.is_empty() {
        return Err(
            "error: You must provide one or more resources by argument or filename.".into(),
        );
    }
    let editor = ctx
        .env_var("KUBE_EDITOR")
        .or_else(|| ctx.env_var("EDITOR"))
        .unwrap_or_else(|| "vi".into());
    let (sim, out) = ctx.parts()?;
    let mut objects: Vec<Object> = Vec::new();
    for (kind, name) in &pairs {
        match name {
            Some(n) => objects.push(super::get_object(sim, *kind, &ns, n)?),
            None => objects.extend(sim.store().list(*kind, Some(&ns)).cloned()),
        }
    }
    if objects.is_empty() {
        return Err("error: edit cancelled, no objects found".into());
    }
    let original = if objects.len() == 1 {
        netsim_print::to_yaml(&objects[0].to_json())
    } else {
        netsim_print::list_to_yaml(objects.iter().map(Object::to_json).collect())
    };
    let path = std::env::temp_dir().join(format!("kubectl-edit-{}.yaml", std::process::id()));
    std::fs::write(&path, format!("{HEADER}{original}")).map_err(|e| format!("error: {e}"))?;
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("sh")
        .arg(&path)
        .status()
        .map_err(|e| format!("error: there was a problem with the editor \"{editor}\": {e}"))?;
    let edited = std::fs::read_to_string(&path).unwrap_or_default();
    let _ = std::fs::remove_file(&path);
    if !status.success() {
        return Err(format!(
            "error: there was a problem with the editor \"{editor}\""
        ));
    }
    let body: String = edited
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    if body.trim().is_empty() {
        out.errln("Edit cancelled, saved file was empty.");
        return Ok(());
    }
    if body == original {
        out.errln("Edit cancelled, no changes made.");
        return Ok(());
    }
    let source = netsim_manifest::Source {
        name: "edited file",
        text: &body,
    };
    let items = netsim_manifest::parse(&source, netsim_manifest::Validate::Strict)
        .map_err(|e| e.message())?;
    for item in items {
        let netsim_manifest::Item::Object(doc) = item else {
            continue;
        };
        let kind = doc.object.kind();
        let name = doc.object.name().to_string();
        let edited = doc.object.clone();
        let (_, changed) = sim
            .replace(doc.object, netsim_engine::WriteOptions::default())
            .map_err(|e| e.to_string())?;
        if changed {
            out.outln(netsim_print::message(
                kind,
                &name,
                "edited",
                netsim_print::DryRun::None,
            ));
            super::corefile_hint(out, &edited);
        }
    }
    Ok(())
}
