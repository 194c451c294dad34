//! The cluster's state between commands: `./.netsim/state.json` (or `--state DIR`,
//! `NETSIM_STATE`).
//!
//! This module owns the state file's format version, locking against concurrent invocations
//! (an exclusive lock on `DIR/lock`, held for the whole command, so a second `netsim` waits)
//! and atomic replacement (write a temporary file, fsync it, rename over the old file, fsync the
//! directory): the state on disk is always the old one or the new one, never half-written.

use netsim_engine::Sim;
use serde::{Deserialize, Serialize};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The state format this netsim writes and reads.
pub const FORMAT: u32 = 1;

/// Why the state could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// File-system trouble.
    #[error("error: cannot {what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The path.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is not netsim state.
    #[error(
        "error: {path} is not a netsim state file ({detail}); run 'netsim reset' to start over"
    )]
    Corrupt {
        /// The path.
        path: String,
        /// What the parser said.
        detail: String,
    },
    /// Written by another netsim version.
    #[error(
        "error: {path} was written by a newer netsim (state format {found}; this netsim reads format {FORMAT}); upgrade netsim or run 'netsim reset' to start over"
    )]
    Version {
        /// The path.
        path: String,
        /// The format found.
        found: u32,
    },
}

#[derive(Serialize)]
struct StateOut<'a> {
    format: u32,
    sim: &'a Sim,
}

#[derive(Deserialize)]
struct StateIn {
    format: u32,
    sim: serde_json::Value,
}

/// An opened, locked state directory.
pub struct StateDir {
    dir: PathBuf,
    _lock: File,
}

impl StateDir {
    /// Creates `dir` if needed and takes its lock, waiting for other invocations to finish.
    pub fn open(dir: &Path) -> Result<StateDir, StateError> {
        let io = |what, source| StateError::Io {
            what,
            path: dir.display().to_string(),
            source,
        };
        fs::create_dir_all(dir).map_err(|e| io("create", e))?;
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join("lock"))
            .map_err(|e| io("open the lock in", e))?;
        lock.lock().map_err(|e| io("lock", e))?;
        Ok(StateDir {
            dir: dir.to_path_buf(),
            _lock: lock,
        })
    }

    fn file(&self) -> PathBuf {
        self.dir.join("state.json")
    }

    /// The saved cluster, or `None` if there is none yet.
    pub fn load(&self) -> Result<Option<Sim>, StateError> {
        let path = self.file();
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(StateError::Io {
                    what: "read",
                    path: path.display().to_string(),
                    source: e,
                });
            }
        };
        let corrupt = |detail: String| StateError::Corrupt {
            path: path.display().to_string(),
            detail,
        };
        let state: StateIn = serde_json::from_str(&text).map_err(|e| corrupt(e.to_string()))?;
        if state.format != FORMAT {
            return Err(StateError::Version {
                path: path.display().to_string(),
                found: state.format,
            });
        }
        let sim: Sim = serde_json::from_value(state.sim).map_err(|e| corrupt(e.to_string()))?;
        Ok(Some(sim))
    }

    /// Replaces the saved cluster with `sim`, atomically.
    pub fn save(&self, sim: &Sim) -> Result<(), StateError> {
        let path = self.file();
        let tmp = self.dir.join("state.json.tmp");
        let io = |what, source| StateError::Io {
            what,
            path: path.display().to_string(),
            source,
        };
        let text = serde_json::to_vec(&StateOut {
            format: FORMAT,
            sim,
        })
        .map_err(|e| StateError::Corrupt {
            path: path.display().to_string(),
            detail: e.to_string(),
        })?;
        let mut f = File::create(&tmp).map_err(|e| io("write", e))?;
        f.write_all(&text).map_err(|e| io("write", e))?;
        f.sync_all().map_err(|e| io("sync", e))?;
        drop(f);
        fs::rename(&tmp, &path).map_err(|e| io("replace", e))?;
        if let Ok(d) = File::open(&self.dir) {
            // Makes the rename itself durable; not all file systems support it.
            let _ = d.sync_all();
        }
        Ok(())
    }

    /// Removes the saved cluster (`netsim reset`).
    pub fn clear(&self) -> Result<(), StateError> {
        match fs::remove_file(self.file()) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(StateError::Io {
                what: "remove",
                path: self.file().display().to_string(),
                source: e,
            }),
        }
    }
}
