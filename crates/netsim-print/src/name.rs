//! `-o name` and the one-line success messages of mutating commands (cli-runtime
//! `printers/name.go`): `service/x created`, `deployment.apps/x scaled (dry run)`,
//! `service "x" deleted`.
//!
//! This module owns the wording only; it must never decide which verb applies.

use netsim_model::Kind;

/// How a command was dry-run, if at all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DryRun {
    /// A real change.
    #[default]
    None,
    /// `--dry-run=client`.
    Client,
    /// `--dry-run=server`.
    Server,
}

impl DryRun {
    fn suffix(self) -> &'static str {
        match self {
            DryRun::None => "",
            DryRun::Client => " (dry run)",
            DryRun::Server => " (server dry run)",
        }
    }
}

/// `-o name`: `kind[.group]/name`, e.g. `service/kubeserve2`, `deployment.apps/x`.
pub fn object_name(kind: Kind, name: &str) -> String {
    format!("{}/{name}", kind.qualified_singular())
}

/// A success message without the newline: `service/x created`, `pod/x configured (dry run)`.
/// `verb` is kubectl's operation word (`created`, `configured`, `unchanged`, `scaled`,
/// `exposed`, `annotated`, `patched`, `patched (no change)`, `edited`, ...).
pub fn message(kind: Kind, name: &str, verb: &str, dry_run: DryRun) -> String {
    format!("{} {verb}{}", object_name(kind, name), dry_run.suffix())
}

/// `kubectl delete`'s message without the newline: `service "x" deleted`,
/// `deployment.apps "x" deleted (dry run)`; `force` gives `pod "x" force deleted`.
pub fn delete_message(kind: Kind, name: &str, force: bool, dry_run: DryRun) -> String {
    let verb = if force { "force deleted" } else { "deleted" };
    format!(
        "{} \"{name}\" {verb}{}",
        kind.qualified_singular(),
        dry_run.suffix()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_messages() {
        assert_eq!(
            object_name(Kind::Service, "kubeserve2"),
            "service/kubeserve2"
        );
        assert_eq!(
            message(Kind::Ingress, "service-ingress", "created", DryRun::None),
            "ingress.networking.k8s.io/service-ingress created"
        );
        assert_eq!(
            message(Kind::Deployment, "kubeserve2", "scaled", DryRun::None),
            "deployment.apps/kubeserve2 scaled"
        );
        assert_eq!(
            message(Kind::Service, "x", "created", DryRun::Client),
            "service/x created (dry run)"
        );
        assert_eq!(
            message(Kind::Service, "x", "created", DryRun::Server),
            "service/x created (server dry run)"
        );
        assert_eq!(
            message(
                Kind::Service,
                "kubeserve2",
                "patched (no change)",
                DryRun::None
            ),
            "service/kubeserve2 patched (no change)"
        );
        assert_eq!(
            delete_message(Kind::Service, "kubeserve2", false, DryRun::None),
            "service \"kubeserve2\" deleted"
        );
        assert_eq!(
            delete_message(Kind::Deployment, "x", false, DryRun::None),
            "deployment.apps \"x\" deleted"
        );
        assert_eq!(
            delete_message(Kind::Pod, "x", true, DryRun::None),
            "pod \"x\" force deleted"
        );
        assert_eq!(
            delete_message(Kind::Pod, "x", false, DryRun::Client),
            "pod \"x\" deleted (dry run)"
        );
    }
}
