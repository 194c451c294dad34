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
    /// kubectl's client-side validation refused the document (`--validate` strict or warn):
    /// not a mapping, or its `apiVersion`/`kind` missing or not strings. It ends the file.
    #[error("{}", self.message())]
    Validation {
        /// The source name.
        source_name: String,
        /// `kind not set`, `[apiVersion not set, kind not set]`, `invalid object to validate`.
        detail: String,
        /// Absolute line of the document.
        line: usize,
        /// The document is not a mapping at all.
        not_a_mapping: bool,
        /// The document is a YAML list (of objects, usually).
        is_sequence: bool,
    },
    /// kubectl could not decode the object's type or metadata on the client
    /// (`metadataOnlyObject`): a wrongly typed name, namespace, label or annotation.
    #[error("{}", self.message())]
    ClientDecode {
        /// The source name.
        source_name: String,
        /// Go's `json: cannot unmarshal ...` message.
        detail: String,
        /// The field path.
        path: String,
        /// What the field wants, in plain words.
        wants: Option<String>,
        /// Absolute line and column of the field, when known.
        at: Option<(usize, usize)>,
    },
    /// The source goes past one of netsim's [`crate::limits`].
    #[error("{}", self.message())]
    TooLarge {
        /// The source name.
        source_name: String,
        /// What is too much, and the limit.
        detail: String,
        /// What to do instead.
        advice: String,
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
    /// The key is a real field written twice, not an unknown one.
    pub duplicate: bool,
    /// Where the field does exist, when it is written at the wrong level (`spec.replicas`).
    pub elsewhere: Option<String>,
}

/// "Did you mean": the kind as the cluster serves it, when the apiVersion is the mistake (a
/// Deployment in `v1` or in a removed version) or the kind is misspelled.
fn kind_suggestion(kind: &str, api_version: &str) -> Option<String> {
    use netsim_model::Kind;
    if let Some(k) = Kind::ALL.iter().find(|k| k.info().kind == kind) {
        let removed = match api_version {
            "extensions/v1beta1" | "apps/v1beta1" | "apps/v1beta2" => {
                format!(" ({api_version} was removed in Kubernetes 1.16)")
            }
            _ => String::new(),
        };
        return Some(format!(
            "write `apiVersion: {}` for a {kind}{removed}",
            k.api_version()
        ));
    }
    let names: Vec<&str> = Kind::ALL.iter().map(|k| k.info().kind).collect();
    let real = crate::decode::closest(kind, &names)?;
    let k = Kind::ALL.iter().find(|k| k.info().kind == real)?;
    Some(format!(
        "did you mean `kind: {real}` (in `apiVersion: {}`)? Kinds are case-sensitive",
        k.api_version()
    ))
}

/// The hint for an alias problem, from go-yaml's message naming it.
fn alias_hint(at: &str, message: &str) -> String {
    let named = |prefix: &str, suffix: &str| {
        message
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix(suffix))
            .map(str::to_string)
    };
    if let Some(name) = named("unknown anchor '", "' referenced") {
        format!(
            "{at}: `*{name}` refers to no anchor: define `&{name}` before it, in the same document (anchors do not reach across `---`)"
        )
    } else if let Some(name) = named("anchor '", "' value contains itself") {
        format!(
            "{at}: `*{name}` is inside the value anchored `&{name}`, so it would repeat itself forever"
        )
    } else {
        format!(
            "{at}: the aliases (`*name`) here expand the document many times over, like a \"billion laughs\" bomb, and go-yaml (so kubectl) refuses it: write the values out"
        )
    }
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
                if error.kind == SyntaxKind::Json
                    || (error.kind == SyntaxKind::Depth && error.message.starts_with("json:"))
                {
                    format!("error: error parsing {source_name}: {}", error.message)
                } else if error.message.starts_with("json:") {
                    // sigs.k8s.io/yaml's own `json.Marshal` of the converted value (NaN).
                    format!(
                        "error: error parsing {source_name}: error converting YAML to JSON: {}",
                        error.message
                    )
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
            ManifestError::Validation {
                source_name,
                detail,
                ..
            } => format!(
                "error: error validating \"{source_name}\": error validating data: {detail}; if you choose to ignore these errors, turn validation off with --validate=false"
            ),
            ManifestError::ClientDecode {
                source_name,
                detail,
                ..
            } => format!("error: unable to decode \"{source_name}\": {detail}"),
            ManifestError::TooLarge {
                source_name,
                detail,
                ..
            } => format!("error: error parsing {source_name}: {detail}"),
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
                    SyntaxKind::Control(code) => Some(format!(
                        "{at}: U+{code:04X} is a control character, which YAML does not allow; a manifest holds printable text, TABs and line breaks (is this the right file?)"
                    )),
                    SyntaxKind::Alias => Some(alias_hint(&at, &error.message)),
                    SyntaxKind::Depth => Some(format!(
                        "{at}: mappings and lists nest more than {} levels deep here, netsim's limit (a Kubernetes object needs about 15): look for a runaway bracket or indentation",
                        crate::limits::MAX_DEPTH
                    )),
                    SyntaxKind::Size => Some(format!(
                        "{at}: netsim reads at most {} nodes and {} of text per document, aliases expanded: split it into smaller documents",
                        crate::limits::MAX_NODES,
                        crate::limits::human_bytes(crate::limits::MAX_SCALAR_BYTES)
                    )),
                    SyntaxKind::Unclosed if error.message.contains("end of stream") => {
                        Some(format!(
                            "{at}: the quoted string that starts here never ends: add its closing quote"
                        ))
                    }
                    SyntaxKind::Unclosed => Some(format!(
                        "{at}: a `[...]` or `{{...}}` collection is open here: separate its items with commas and close it"
                    )),
                    SyntaxKind::Json => Some(format!(
                        "{at}: this is where the JSON stops being JSON (a missing comma or quote, a trailing comma, a comment?)"
                    )),
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
                if s.duplicate {
                    return Some(format!(
                        "`{}` is written twice in one mapping (the second time{at}): keep one; with `--validate=false` the last one silently wins",
                        s.written
                    ));
                }
                if let Some(path) = &s.elsewhere {
                    return Some(format!(
                        "move \"{}\"{at} to {path}: that is where the object has it (`--validate=false` would silently drop it)",
                        s.written
                    ));
                }
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
            }
            | ManifestError::ClientDecode {
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
                } else if let Some(hint) = kind_suggestion(kind, api_version) {
                    Some(hint)
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
            ManifestError::Validation {
                source_name,
                detail,
                line,
                not_a_mapping,
                is_sequence,
            } => Some(if *is_sequence {
                format!(
                    "{source_name}:{line}: this document is a YAML list; write each object as its own document, separated by `---` lines (or make it `apiVersion: v1`, `kind: List`, `items:`)"
                )
            } else if *not_a_mapping {
                format!(
                    "{source_name}:{line}: this document is not an object; a manifest's documents are mappings that start with `apiVersion:` and `kind:`"
                )
            } else if detail.contains("isn't string type") {
                format!(
                    "{source_name}:{line}: apiVersion and kind are plain strings, like `apiVersion: apps/v1` and `kind: Deployment`"
                )
            } else if detail.contains("GroupVersion") {
                format!(
                    "{source_name}:{line}: an apiVersion is GROUP/VERSION (`apps/v1`) or, for the core group, just VERSION (`v1`)"
                )
            } else {
                format!(
                    "start the document at {source_name}:{line} with `apiVersion:` and `kind:` lines, then `metadata:`"
                )
            }),
            ManifestError::TooLarge { advice, .. } => Some(advice.clone()),
        }
    }
}
