//! Everything that can go wrong reading a manifest, rendered exactly as kubectl prints it, plus
//! a one-line hint for the student.
//!
//! This module owns the wording of manifest errors and hints. It must never print: the CLI
//! decides where text goes.

use crate::yaml::{SyntaxError, SyntaxKind};

/// Why a manifest could not be read. [`ManifestError::message`] is kubectl's stderr text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// The YAML (or JSON) is not well-formed.
    #[error("{}", self.message())]
    Syntax {
        /// The source name as the user typed it.
        source_name: String,
        /// go-yaml's view of the problem.
        error: SyntaxError,
        /// Absolute line in the file (1-based).
        line: usize,
        /// Column (1-based).
        column: usize,
        /// The document is an old (v1beta1) Ingress: the hint mentions `netsim convert`.
        old_ingress: bool,
    },
    /// Strict decoding found fields the kind does not have (or keys written twice).
    #[error("{}", self.message())]
    StrictDecoding {
        /// The source name.
        source_name: String,
        /// `Service`.
        kind: String,
        /// `v1`.
        api_version: String,
        /// `unknown field "spec.ports[0].nodeport"` / `duplicate field "x"`, in order.
        problems: Vec<String>,
        /// The first unknown field's name, its closest real field and where it is.
        suggestion: Option<Suggestion>,
    },
    /// A value has the wrong type for its field.
    #[error("{}", self.message())]
    Type {
        /// The source name.
        source_name: String,
        /// `Service`.
        kind: String,
        /// `v1`.
        api_version: String,
        /// Go's `json: cannot unmarshal ...` message.
        detail: String,
        /// The field path.
        path: String,
        /// What the field wants, in plain words.
        wants: Option<String>,
        /// Absolute line and column of the field, when known.
        at: Option<(usize, usize)>,
    },
    /// No such kind in that apiVersion (including removed Ingress versions).
    #[error("{}", self.message())]
    NoMatch {
        /// The source name.
        source_name: String,
        /// `metadata.name` (may be empty).
        name: String,
        /// `metadata.namespace` (may be empty).
        namespace: String,
        /// The `kind` written.
        kind: String,
        /// The `apiVersion` written.
        api_version: String,
        /// Absolute line of the document.
        line: usize,
    },
    /// The document is not an object, or has no `kind`.
    #[error("{}", self.message())]
    Undecodable {
        /// The source name.
        source_name: String,
        /// kubectl's reason, e.g. `Object 'Kind' is missing in '{...}'`.
        detail: String,
        /// Absolute line of the document.
        line: usize,
    },
    /// A netsim or kind `Cluster`, or a `KubeProxyConfiguration`, is malformed.
    #[error("{}", self.message())]
    Config {
        /// The source name.
        source_name: String,
        /// The document's kind.
        kind: String,
        /// What is wrong.
        detail: String,
        /// Absolute line of the document.
        line: usize,
    },
}

/// A likely typo and its fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    /// The field as written (`nodeport`).
    pub written: String,
    /// The closest real field (`nodePort`).
    pub real: Option<String>,
    /// Absolute line and column of the unknown key.
    pub at: Option<(usize, usize)>,
}

/// The apiVersions an Ingress was served in before `networking.k8s.io/v1`.
pub(crate) fn is_old_ingress(api_version: &str, kind: &str) -> bool {
    kind == "Ingress"
        && matches!(
            api_version,
            "extensions/v1beta1" | "networking.k8s.io/v1beta1"
        )
}

impl ManifestError {
    /// The exact text kubectl prints on stderr (without a trailing newline; several lines are
    /// joined with `\n`).
    pub fn message(&self) -> String {
        match self {
            ManifestError::Syntax {
                source_name, error, ..
            } => {
                let place = match error.go_line {
                    Some(l) => format!("line {l}: "),
                    None => String::new(),
                };
                if error.kind == SyntaxKind::Other && error.message.starts_with("json:") {
                    format!("error: error parsing {source_name}: {}", error.message)
                } else {
                    format!(
                        "error: error parsing {source_name}: error converting YAML to JSON: yaml: {place}{}",
                        error.message
                    )
                }
            }
            ManifestError::StrictDecoding {
                source_name,
                kind,
                api_version,
                problems,
                ..
            } => format!(
                "Error from server (BadRequest): error when creating \"{source_name}\": {kind} in version \"{api_version}\" cannot be handled as a {kind}: strict decoding error: {}",
                problems.join(", ")
            ),
            ManifestError::Type {
                source_name,
                kind,
                api_version,
                detail,
                ..
            } => format!(
                "Error from server (BadRequest): error when creating \"{source_name}\": {kind} in version \"{api_version}\" cannot be handled as a {kind}: {detail}"
            ),
            ManifestError::NoMatch {
                source_name,
                name,
                namespace,
                kind,
                api_version,
                ..
            } => format!(
                "error: resource mapping not found for name: \"{name}\" namespace: \"{namespace}\" from \"{source_name}\": no matches for kind \"{kind}\" in version \"{api_version}\"\nensure CRDs are installed first"
            ),
            ManifestError::Undecodable {
                source_name,
                detail,
                ..
            } => format!("error: unable to decode \"{source_name}\": {detail}"),
            ManifestError::Config {
                source_name,
                kind,
                detail,
                ..
            } => format!("error: error parsing {source_name}: {kind}: {detail}"),
        }
    }

    /// One short line for the student, beginning with what to do (the CLI adds `hint: `).
    pub fn hint(&self) -> Option<String> {
        match self {
            ManifestError::Syntax {
                source_name,
                error,
                line,
                column,
                old_ingress,
            } => {
                let at = format!("{source_name}:{line}:{column}");
                let convert = if *old_ingress {
                    format!(
                        "; once the TABs are gone, `netsim convert -f {source_name}` rewrites this old Ingress for networking.k8s.io/v1"
                    )
                } else {
                    String::new()
                };
                match error.kind {
                    SyntaxKind::Tab => Some(format!(
                        "{at}: a TAB indents this line; YAML indentation must be spaces{convert}"
                    )),
                    SyntaxKind::Indentation => Some(format!(
                        "{at}: line this up with the keys it belongs with; in YAML, indentation decides what is inside what{convert}"
                    )),
                    SyntaxKind::DuplicateKey => {
                        Some(format!("{at}: keep only one of the keys written twice"))
                    }
                    SyntaxKind::Other => None,
                }
            }
            ManifestError::StrictDecoding {
                source_name,
                suggestion,
                ..
            } => {
                let s = suggestion.as_ref()?;
                let at = match s.at {
                    Some((l, c)) => format!(" at {source_name}:{l}:{c}"),
                    None => String::new(),
                };
                Some(match &s.real {
                    Some(real) => format!(
                        "write \"{real}\" instead of \"{}\"{at}; field names are case-sensitive (`--validate=false` would silently drop it)",
                        s.written
                    ),
                    None => format!(
                        "remove or move \"{}\"{at}: the object has no such field there",
                        s.written
                    ),
                })
            }
            ManifestError::Type {
                source_name,
                path,
                wants,
                at,
                ..
            } => {
                let wants = wants.as_ref()?;
                let at = match at {
                    Some((l, c)) => format!(" ({source_name}:{l}:{c})"),
                    None => String::new(),
                };
                Some(format!("give {path} {wants}{at}"))
            }
            ManifestError::NoMatch {
                source_name,
                kind,
                api_version,
                ..
            } => {
                if is_old_ingress(api_version, kind) {
                    Some(format!(
                        "run `netsim convert -f {source_name}` to print the networking.k8s.io/v1 equivalent; Ingress {api_version} was removed in Kubernetes 1.22"
                    ))
                } else {
                    Some(format!(
                        "check apiVersion and kind: `kubectl api-resources` lists what this cluster serves ({kind} in {api_version} is not among them)"
                    ))
                }
            }
            ManifestError::Undecodable {
                source_name, line, ..
            } => Some(format!(
                "start the document at {source_name}:{line} with `apiVersion:` and `kind:` lines, then `metadata:`"
            )),
            ManifestError::Config {
                source_name, line, ..
            } => Some(format!(
                "fix the document starting at {source_name}:{line}; netsim reads it before creating the cluster"
            )),
        }
    }
}
