//! Errors the API server returns, worded exactly as kubectl prints them.
//!
//! This module owns the wording; it must never decide when an error happens.

use netsim_model::Kind;
use thiserror::Error;

/// An error from the simulated API server.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ApiError {
    /// 404: the object does not exist.
    #[error("Error from server (NotFound): {} \"{name}\" not found", kind.qualified_plural())]
    NotFound {
        /// The object's kind.
        kind: Kind,
        /// Its name.
        name: String,
    },
    /// 409: an object of that name exists.
    #[error("Error from server (AlreadyExists): {} \"{name}\" already exists", kind.qualified_plural())]
    AlreadyExists {
        /// The object's kind.
        kind: Kind,
        /// Its name.
        name: String,
    },
    /// 422: the object is invalid; each cause is `field: message`.
    #[error("{}", invalid_text(kind, name, causes))]
    Invalid {
        /// The object's kind.
        kind: Kind,
        /// Its name.
        name: String,
        /// `field: message` lines.
        causes: Vec<String>,
    },
    /// 400 and other server errors: `reason` and message.
    #[error("Error from server ({reason}): {message}")]
    Other {
        /// `NotFound`, `BadRequest`, `Forbidden`, ...
        reason: String,
        /// The server's message.
        message: String,
    },
}

fn invalid_text(kind: &Kind, name: &str, causes: &[String]) -> String {
    let kind = kind.info().kind;
    match causes {
        [one] => format!("The {kind} \"{name}\" is invalid: {one}"),
        many => {
            let mut s = format!("The {kind} \"{name}\" is invalid: ");
            for c in many {
                s.push_str("\n* ");
                s.push_str(c);
            }
            s
        }
    }
}

impl ApiError {
    /// The text kubectl prints when the object came from file `file` (`create`/`apply -f`):
    /// non-422 errors get `error when creating "<file>": ` before the server's message.
    pub fn with_file(&self, file: &str, verb: &str) -> String {
        match self {
            ApiError::Invalid { .. } => self.to_string(),
            ApiError::NotFound { kind, name } => format!(
                "Error from server (NotFound): error when {verb} \"{file}\": {} \"{name}\" not found",
                kind.qualified_plural()
            ),
            ApiError::AlreadyExists { kind, name } => format!(
                "Error from server (AlreadyExists): error when {verb} \"{file}\": {} \"{name}\" already exists",
                kind.qualified_plural()
            ),
            ApiError::Other { reason, message } => {
                format!("Error from server ({reason}): error when {verb} \"{file}\": {message}")
            }
        }
    }
}
