//! `kubectl scale`: sets `spec.replicas` of a Deployment or ReplicaSet.

use super::{Ctx, dry_run, parse, write_options};
use crate::flags::{Flag, v};
use netsim_model::k8s_openapi::api::core::v1::Pod;
use netsim_model::{Kind, Object};

const FLAGS: &[Flag] = &[
    v("replicas", None),
    v("current-replicas", None),
    v("filename", Some('f')),
    super::DRY_RUN,
    v("output", Some('o')),
    v("timeout", None),
    v("selector", Some('l')),
];

/// `kubectl scale`.
pub fn run(ctx: &mut Ctx, args: &[String]) -> Result<(), String> {
    let a = parse("scale", args, FLAGS)?;
    let Some(replicas) = a.value("replicas") else {
        return Err("error: required flag(s) \"replicas\" not set".into());
    };
    let replicas: i32 = replicas
        .parse()
        .ok()
        .filter(|r: &i32| *r >= 0)
        .ok_or_else(|| "error: The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0".to_string())?;
    let dry = dry_run(ctx, &a)?;
    let ns = super::namespace(&a);
    let pairs = super::type_and_names(&a.positional)?;
    if pairs.is_empty() {
        return Err("error: You must provide one or more resources by argument or filename.\nExample resource specifications include:\n   '-f rsrc.yaml'\n   '--filename=rsrc.json'\n   '<resource> <name>'\n   '<resource>'".into());
    }
    for (kind, name) in pairs {
        let Some(name) = name else {
            return Err("error: resource(s) were provided, but no name was specified".into());
        };
        if !matches!(kind, Kind::Deployment | Kind::ReplicaSet) {
            return Err(format!(
                "error: no objects passed to scale {} \"{name}\" not found",
                kind.qualified_plural()
            ));
        }
        let sim = ctx.sim()?;
        let Some(object) = sim.store().get_named(kind, &ns, &name).cloned() else {
            // The lesson's `kubectl run` + `kubectl scale deployment/...` sequence lands here.
            let pod_image = sim
                .store()
                .typed::<Pod>(&ns, &name)
                .and_then(|p| p.spec.as_ref()?.containers.first()?.image.clone());
            ctx.out.fail(format!(
                "error: no objects passed to scale {} \"{name}\" not found",
                kind.qualified_plural()
            ));
            if let Some(image) = pod_image {
                ctx.out.hint(format!(
                    "since v1.18 `kubectl run` creates only a Pod, not a Deployment; `kubectl create deployment {name} --image={image}` makes one you can scale"
                ));
            }
            return Ok(());
        };
        let mut object = object;
        match &mut object {
            Object::Deployment(d) => {
                d.spec.get_or_insert_with(Default::default).replicas = Some(replicas)
            }
            Object::ReplicaSet(r) => {
                r.spec.get_or_insert_with(Default::default).replicas = Some(replicas)
            }
            _ => {}
        }
        sim.replace(object, write_options(dry))
            .map_err(|e| e.to_string())?;
        ctx.out
            .outln(netsim_print::message(kind, &name, "scaled", dry));
    }
    Ok(())
}
