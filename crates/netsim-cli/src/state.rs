//! The cluster's state between commands: `./.netsim/` (or `--state DIR`, `NETSIM_STATE`).
//!
//! This module owns the state's on-disk format, locking against concurrent invocations (an
//! exclusive lock on `DIR/lock`, held for the whole command, so a second `netsim` waits) and
//! atomic replacement: the state on disk is always the old one or the new one, never
//! half-written.
//!
//! Format 3: `state.json` is a small header (clock, queue, RNG, the store's revision) naming
//! one segment file per kind, `state.KIND.GENERATION.json`, a JSON array of that kind's objects,
//! and one for the per-node records (the CNI's and the runtime's, `state.NodeRecords.GENERATION
//! .json`). A save writes only the kinds that changed, as new files, then commits by renaming a
//! new header over the old one; a command that reads only some kinds loads only their segments
//! and not the per-node records. So the cost of a command follows what it touches, not the
//! cluster's size. Formats 1 (everything inline in `state.json`) and 2 (per-node records in the
//! header) are still read, and rewritten as format 5.
//!
//! Format 4 is format 3 with `owed_ms`: think time a read-only command left unrun (see
//! [`StateDir::owe`]). Nothing was due in it when it was owed, nor in the owed time before it;
//! whatever falls due in it runs before the next command that loads everything does anything
//! ([`StateDir::settle`]), so every command sees the cluster as if the time had run at once.
//!
//! Format 5 splits the Events in two: the kind's segment is the *base*, written with
//! `state.EventDigests.GENERATION.json` (each Event's aggregation digest and when the oldest
//! was last seen), and `event_tail` names a second segment of Events, `state.EventTail.
//! GENERATION.json`, those written since. A command that only adds Events (`apply`, `wait`,
//! the owed time) reads the tail and leaves the base unread ([`ArchivedEvents`]) unless a
//! report may repeat one of its Events or the TTL reaches it; its save writes the tail again
//! and keeps the base. When the base is read, or the tail outgrows it, the save writes every
//! Event as the new base. A 5,000-node cluster's base is most of a gigabyte of text.
//!
//! `ranges` says where each namespace's objects lie in each kind's segment (the store lists
//! them in namespace order; for the Events, in the base), so that a read-only command that
//! reads one namespace (`get KIND -n NS`, `describe` of namespaced objects) parses just those
//! stretches (and the Events' tail).

use netsim_engine::controllers::events::{ArchivedEvents, EventDigests};
use netsim_engine::{Advanced, Sim};
use netsim_model::Kind;
use netsim_model::jiff::SignedDuration;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};

/// Where each namespace's objects lie in a segment: namespace → (offset of the first, offset
/// just after the last).
type Ranges = BTreeMap<String, (u64, u64)>;

/// The state format this netsim writes and reads.
pub const FORMAT: u32 = 5;

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

/// The header of format 2: everything but the objects, and which segment file holds each kind.
#[derive(Serialize)]
struct HeaderOut<'a> {
    format: u32,
    generation: u64,
    segments: &'a BTreeMap<Kind, String>,
    /// The segment of the per-node records (format 3).
    node_records: &'a str,
    /// Think time not yet run, in milliseconds (format 4).
    owed_ms: i64,
    /// The Events written since the kind's segment was (format 5).
    #[serde(skip_serializing_if = "Option::is_none")]
    event_tail: Option<&'a str>,
    /// The digests of the Events in the kind's segment (format 5).
    #[serde(skip_serializing_if = "Option::is_none")]
    event_digests: Option<&'a str>,
    /// Where each namespace's objects lie in each kind's segment (format 5).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    ranges: &'a BTreeMap<Kind, Ranges>,
    sim: &'a Sim,
}

/// A header as read: only `format` is required and typed, so that a state from a newer netsim,
/// whatever else it changed, is told apart from a corrupt one; the rest stays text until the
/// format is known to be one this netsim reads.
#[derive(Deserialize)]
struct HeaderIn {
    format: u32,
    generation: Option<Box<RawValue>>,
    segments: Option<Box<RawValue>>,
    node_records: Option<Box<RawValue>>,
    owed_ms: Option<Box<RawValue>>,
    event_tail: Option<Box<RawValue>>,
    event_digests: Option<Box<RawValue>>,
    ranges: Option<Box<RawValue>>,
    sim: Option<Box<RawValue>>,
}

/// What a read-only command reads (see `commands::kinds_needed`): the objects of some kinds
/// and, if it asks, the per-node records (the CNI's and the runtime's), which it only reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Needs {
    /// The kinds whose objects it reads.
    pub kinds: BTreeSet<Kind>,
    /// Whether it reads the per-node records.
    pub node_records: bool,
    /// The namespaces whose objects of namespaced kinds it reads, if not all (it prints only
    /// objects of those namespaces, and their Events, which kubectl looks up in the object's
    /// namespace).
    pub namespaces: Option<BTreeSet<String>>,
}

impl Needs {
    /// The objects of `kinds`, and no per-node records.
    pub fn kinds(kinds: impl IntoIterator<Item = Kind>) -> Needs {
        Needs {
            kinds: kinds.into_iter().collect(),
            node_records: false,
            namespaces: None,
        }
    }
}

/// An opened, locked state directory.
pub struct StateDir {
    dir: PathBuf,
    _lock: File,
    /// The generation and segments of the state as loaded (reused for kinds that did not change).
    generation: u64,
    segments: BTreeMap<Kind, String>,
    /// Kinds whose segments were not read (see [`StateDir::load`]).
    unloaded: BTreeSet<Kind>,
    /// The per-node records' segment as loaded, and whether it was left unread or read by a
    /// read-only command (either way the save keeps the segment as it is).
    node_records: Option<String>,
    node_records_unloaded: bool,
    node_records_read_only: bool,
    /// Think time not yet run (see [`StateDir::owe`]), in milliseconds.
    owed_ms: i64,
    /// The Events' tail segment and the base's digests, as loaded (format 5).
    event_tail: Option<String>,
    event_digests: Option<String>,
    /// Where each namespace's objects lie in each kind's segment, as loaded (format 5).
    ranges: BTreeMap<Kind, Ranges>,
    /// Whether the last load read only some kinds.
    partial: bool,
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
            generation: 0,
            segments: BTreeMap::new(),
            unloaded: BTreeSet::new(),
            node_records: None,
            node_records_unloaded: false,
            node_records_read_only: false,
            owed_ms: 0,
            event_tail: None,
            event_digests: None,
            ranges: BTreeMap::new(),
            partial: false,
        })
    }

    fn file(&self) -> PathBuf {
        self.dir.join("state.json")
    }

    /// The saved cluster, or `None` if there is none yet. With `only`, just the objects of
    /// those kinds are read, and the per-node records only if it says so (a read-only command
    /// that needs no others: see `commands::kinds_needed`); the other kinds' segments stay on
    /// disk untouched and are kept as they are by [`StateDir::save`], and so are the per-node
    /// records. With `archive_events`, a load of every kind leaves the base of the Events
    /// unread when it can (the command only adds Events: see the module's docs).
    pub fn load(
        &mut self,
        only: Option<&Needs>,
        archive_events: bool,
    ) -> Result<Option<Sim>, StateError> {
        let path = self.file();
        let text = match fs::read(&path) {
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
        let corrupt = |path: &Path, detail: String| StateError::Corrupt {
            path: path.display().to_string(),
            detail,
        };
        let header: HeaderIn =
            serde_json::from_slice(&text).map_err(|e| corrupt(&path, e.to_string()))?;
        if header.format == 0 {
            return Err(corrupt(&path, "state format 0".into()));
        }
        if header.format > FORMAT {
            return Err(StateError::Version {
                path: path.display().to_string(),
                found: header.format,
            });
        }
        let generation: u64 = match header.generation {
            Some(raw) => {
                serde_json::from_str(raw.get()).map_err(|e| corrupt(&path, e.to_string()))?
            }
            None => 0,
        };
        let segments: BTreeMap<Kind, String> = match header.segments {
            Some(raw) => {
                serde_json::from_str(raw.get()).map_err(|e| corrupt(&path, e.to_string()))?
            }
            None => BTreeMap::new(),
        };
        // Format 1 holds the objects inline; format 2 in one segment file per kind.
        let sim_text = header
            .sim
            .ok_or_else(|| corrupt(&path, "missing field `sim`".into()))?;
        let mut sim: Sim =
            serde_json::from_str(sim_text.get()).map_err(|e| corrupt(&path, e.to_string()))?;
        let owed_ms: i64 = match header.owed_ms {
            Some(raw) => {
                serde_json::from_str(raw.get()).map_err(|e| corrupt(&path, e.to_string()))?
            }
            None => 0,
        };
        if owed_ms < 0 {
            return Err(corrupt(&path, format!("owed_ms {owed_ms} is negative")));
        }
        let name_field = |raw: Option<Box<RawValue>>| -> Result<Option<String>, StateError> {
            match raw {
                Some(raw) => {
                    serde_json::from_str(raw.get()).map_err(|e| corrupt(&path, e.to_string()))
                }
                None => Ok(None),
            }
        };
        let event_tail = name_field(header.event_tail)?;
        let event_digests = name_field(header.event_digests)?;
        let ranges: BTreeMap<Kind, Ranges> = match header.ranges {
            Some(raw) => {
                serde_json::from_str(raw.get()).map_err(|e| corrupt(&path, e.to_string()))?
            }
            None => BTreeMap::new(),
        };
        // The owed time runs before the command, and whatever falls due in it may read any
        // kind: then everything is loaded. (The command's own think time is owed in turn.)
        let quiet = sim.next_event_at().is_none_or(|at| {
            at.as_millisecond() > sim.now().as_millisecond().saturating_add(owed_ms)
        });
        let only = only.filter(|_| quiet);
        // What an earlier load of this invocation left unread no longer holds.
        self.unloaded.clear();
        self.node_records_unloaded = false;
        self.node_records_read_only = false;
        let mut events_ranged = false;
        for (kind, name) in &segments {
            if only.is_some_and(|n| !n.kinds.contains(kind)) {
                self.unloaded.insert(*kind);
                continue;
            }
            if *kind == Kind::Event
                && archive_events
                && only.is_none()
                && let Some(digests) = &event_digests
            {
                // The base stays on disk until the simulation needs it.
                let (seg, bytes) = self.read_segment(digests)?;
                let digests: EventDigests =
                    serde_json::from_slice(&bytes).map_err(|e| corrupt(&seg, e.to_string()))?;
                let base = self.segment_path(name)?;
                sim.archive_events(ArchivedEvents::new(
                    digests,
                    std::sync::Arc::new(move |store| read_events(&base, store)),
                ));
                continue;
            }
            if let Some(namespaces) = only.and_then(|n| n.namespaces.as_ref())
                && kind.info().namespaced
                && let Some(stretches) = ranges.get(kind)
            {
                // Only some namespaces' objects: their stretches of the segment (and, for
                // the Events, the tail). The save keeps the kind as it is, as if unread.
                for (start, end) in namespaces.iter().filter_map(|ns| stretches.get(ns)) {
                    self.load_range(&mut sim, *kind, name, *start, *end)?;
                }
                self.unloaded.insert(*kind);
                events_ranged |= *kind == Kind::Event;
                continue;
            }
            self.load_segment(&mut sim, *kind, name)?;
        }
        if let Some(tail) = &event_tail
            && (events_ranged || !self.unloaded.contains(&Kind::Event))
        {
            self.load_segment(&mut sim, Kind::Event, tail)?;
        }
        // Format 3 keeps the per-node records in a segment of their own, which a command
        // that reads only some kinds does not need (earlier formats have them inline).
        let node_records: Option<String> = match header.node_records {
            Some(raw) => {
                Some(serde_json::from_str(raw.get()).map_err(|e| corrupt(&path, e.to_string()))?)
            }
            None => None,
        };
        if let Some(name) = &node_records {
            if only.is_some_and(|n| !n.node_records) {
                self.node_records_unloaded = true;
            } else {
                self.node_records_read_only = only.is_some();
                let (seg, bytes) = self.read_segment(name)?;
                sim.load_node_records(&bytes)
                    .map_err(|e| corrupt(&seg, e.to_string()))?;
            }
        }
        self.generation = generation;
        self.segments = segments;
        self.node_records = node_records;
        self.owed_ms = owed_ms;
        self.event_tail = event_tail;
        self.event_digests = event_digests;
        self.ranges = ranges;
        self.partial = only.is_some();
        sim.loaded();
        Ok(Some(sim))
    }

    /// Runs the think time a read-only command owed (see [`StateDir::owe`]) on `sim` as
    /// loaded, before a command uses it. After a load of only some kinds nothing is due in it
    /// ([`StateDir::load`] checks), and it only moves the clock.
    pub fn settle(&mut self, sim: &mut Sim, watch: &mut dyn FnMut(Advanced)) {
        let owed = std::mem::take(&mut self.owed_ms);
        if owed > 0 {
            sim.advance_watched(SignedDuration::from_millis(owed), watch);
        }
    }

    /// Whether the last load read only some kinds (a read-only command's).
    pub fn is_partial(&self) -> bool {
        self.partial
    }

    /// Leaves `think` of a read-only command's think time to run later: the save keeps it as
    /// owed, and the next command runs it first ([`StateDir::settle`]). Running it now would
    /// mean loading every kind when anything falls due in it, for a command that read only
    /// some; putting it off changes no output, since no command sees the cluster before it ran.
    pub fn owe(&mut self, think: SignedDuration) {
        self.owed_ms = self.owed_ms.saturating_add(think.as_millis().max(0) as i64);
    }

    /// Reads segment `name`, of objects of `kind`, into `sim`.
    fn load_segment(&self, sim: &mut Sim, kind: Kind, name: &str) -> Result<(), StateError> {
        let (seg, file) = self.open_segment(name)?;
        for_each_element(file, SEGMENT_CHUNK, |text| {
            sim.load_object(kind, text).map_err(|e| e.to_string())
        })
        .map(|_| ())
        .map_err(|e| segment_error(&seg, e))
    }

    /// Reads the objects at bytes `start..end` of segment `name`, of objects of `kind`, into
    /// `sim` (see [`Store::write_segment_ranges`](netsim_model::Store::write_segment_ranges)).
    fn load_range(
        &self,
        sim: &mut Sim,
        kind: Kind,
        name: &str,
        start: u64,
        end: u64,
    ) -> Result<(), StateError> {
        use std::io::{Read, Seek, SeekFrom};
        let (seg, mut file) = self.open_segment(name)?;
        file.seek(SeekFrom::Start(start))
            .map_err(|e| read_error(&seg, e))?;
        let elements = (&b"["[..])
            .chain(file.take(end.saturating_sub(start)))
            .chain(&b"]"[..]);
        for_each_element(elements, SEGMENT_CHUNK, |text| {
            sim.load_object(kind, text).map_err(|e| e.to_string())
        })
        .map(|_| ())
        .map_err(|e| segment_error(&seg, e))
    }

    /// Segment `name`'s path and the file, open for reading.
    fn open_segment(&self, name: &str) -> Result<(PathBuf, File), StateError> {
        let seg = self.segment_path(name)?;
        match File::open(&seg) {
            Ok(file) => Ok((seg, file)),
            Err(e) => Err(read_error(&seg, e)),
        }
    }

    /// Segment `name`'s path and bytes.
    fn read_segment(&self, name: &str) -> Result<(PathBuf, Vec<u8>), StateError> {
        let (seg, mut file) = self.open_segment(name)?;
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut file, &mut bytes).map_err(|e| read_error(&seg, e))?;
        Ok((seg, bytes))
    }

    /// The path of segment `name`, which must be a plain file name in the state directory.
    fn segment_path(&self, name: &str) -> Result<PathBuf, StateError> {
        let plain = name.starts_with("state.")
            && name.ends_with(".json")
            && !name.contains(['/', '\\'])
            && name != "state.json";
        if !plain {
            return Err(StateError::Corrupt {
                path: self.file().display().to_string(),
                detail: format!("segment {name:?} is not a state file name"),
            });
        }
        Ok(self.dir.join(name))
    }

    /// Replaces the saved cluster with `sim`, atomically: the kinds that changed are written
    /// to new segment files (fsynced), then a new header naming them replaces the old one by
    /// rename (the commit point), then segments no header names are removed. A crash at any
    /// point leaves the old state or the new one.
    pub fn save(&mut self, sim: &mut Sim) -> Result<(), StateError> {
        let path = self.file();
        let io = |what, path: &Path, source| StateError::Io {
            what,
            path: path.display().to_string(),
            source,
        };
        let corrupt = |detail: String| StateError::Corrupt {
            path: path.display().to_string(),
            detail,
        };
        let unread = |sim: &Sim| {
            sim.archive_error().map(|e| {
                corrupt(format!(
                    "the Events kept unread could not be read ({e}); nothing saved"
                ))
            })
        };
        if let Some(e) = unread(sim) {
            return Err(e);
        }
        // When the Events written since the base outnumber it, every Event becomes the new
        // base (so the tail a command reads stays smaller than what it leaves unread).
        if sim
            .archived_event_count()
            .is_some_and(|n| sim.store().count(Kind::Event) > n)
        {
            sim.read_archived_events();
            if let Some(e) = unread(sim) {
                return Err(e);
            }
        }
        let archived = sim.archived_event_count().is_some();
        let old_tail = self.event_tail.as_deref();
        let old_digests = self.event_digests.as_deref();
        let old_ranges = &self.ranges;
        let new_ranges: std::sync::Mutex<BTreeMap<Kind, Ranges>> =
            std::sync::Mutex::new(BTreeMap::new());
        let generation = self.generation + 1;
        let unloaded = &self.unloaded;
        let old_segments = &self.segments;
        let records_unloaded = self.node_records_unloaded;
        let records_kept = records_unloaded || self.node_records_read_only;
        let old_records = self.node_records.as_deref();
        let owed_ms = self.owed_ms;
        let tmp = self.dir.join("state.json.tmp");
        let header = sim.with_parts_apart(|sim, objects, records| {
            if let Some(kind) = objects.dirty_kinds().iter().find(|k| unloaded.contains(k)) {
                // Writing it would drop the objects that were never read: refuse instead.
                return Err(StateError::Corrupt {
                    path: path.display().to_string(),
                    detail: format!(
                        "internal error: {kind:?} changed but was not loaded; nothing saved"
                    ),
                });
            }
            let mut segments: BTreeMap<Kind, String> = unloaded
                .iter()
                .filter_map(|k| old_segments.get(k).map(|n| (*k, n.clone())))
                .collect();
            // The files to write: the kinds that changed, and the per-node records when they
            // were read. They are independent, so they are written side by side on the
            // machine's cores (a 5,000-node cluster's Events and Pods take seconds each).
            let mut jobs: Vec<Job> = Vec::new();
            for kind in objects.kinds() {
                if kind == Kind::Event {
                    continue;
                }
                let unchanged = !objects.dirty_kinds().contains(&kind);
                if let Some(old) = old_segments.get(&kind).filter(|_| unchanged) {
                    segments.insert(kind, old.clone());
                    continue;
                }
                let name = format!("state.{kind:?}.{generation}.json");
                jobs.push(Job::Segment(kind, name));
            }
            // The Events: the base kept unread, or left out of a partial load, stays as it is;
            // what is in memory is then the tail. Otherwise every Event is in memory, and
            // if any changed they are all the new base.
            let events_dirty = objects.dirty_kinds().contains(&Kind::Event);
            let events_held = objects.count(Kind::Event) > 0;
            let base = old_segments.get(&Kind::Event);
            let kept = || (old_tail.map(str::to_string), old_digests.map(str::to_string));
            let (mut event_tail, mut event_digests) = (None, None);
            if unloaded.contains(&Kind::Event) {
                (event_tail, event_digests) = kept();
            } else if archived {
                if let Some(base) = base {
                    segments.insert(Kind::Event, base.clone());
                }
                event_digests = kept().1;
                if events_dirty && events_held {
                    let name = format!("state.EventTail.{generation}.json");
                    jobs.push(Job::EventTail(name.clone()));
                    event_tail = Some(name);
                } else if events_held {
                    event_tail = kept().0;
                }
            } else if events_dirty && events_held {
                jobs.push(Job::Segment(Kind::Event, format!("state.Event.{generation}.json")));
                let name = format!("state.EventDigests.{generation}.json");
                jobs.push(Job::EventDigests(name.clone()));
                event_digests = Some(name);
            } else if events_held {
                if let Some(base) = base {
                    segments.insert(Kind::Event, base.clone());
                }
                (event_tail, event_digests) = kept();
            }
            // The per-node records are written on every save that read them (they change
            // with nearly every command that moves time on); kept as they are otherwise, and
            // after a read-only command's load (it moved no time: its think time is owed).
            let node_records = match old_records.filter(|_| records_kept) {
                Some(old) => {
                    if records_unloaded && !sim.node_records_empty() {
                        return Err(StateError::Corrupt {
                            path: path.display().to_string(),
                            detail: "internal error: the per-node records changed but were not loaded; nothing saved".into(),
                        });
                    }
                    old.to_string()
                }
                None => {
                    let name = format!("state.NodeRecords.{generation}.json");
                    jobs.push(Job::NodeRecords(name.clone()));
                    name
                }
            };
            // The biggest first, so that the last file to start is a small one.
            jobs.sort_by_key(|job| match job {
                Job::Segment(kind, _) => std::cmp::Reverse(objects.count(*kind)),
                Job::EventTail(_) | Job::EventDigests(_) => {
                    std::cmp::Reverse(objects.count(Kind::Event))
                }
                Job::NodeRecords(_) => std::cmp::Reverse(sim.config().nodes.len()),
            });
            let dir = &self.dir;
            let written = on_cores(&jobs, |job| match job {
                Job::Segment(kind, name) => write_json_synced(&dir.join(name), |w| {
                    let ranges = objects.write_segment_ranges(*kind, w)?;
                    if let Ok(mut all) = new_ranges.lock() {
                        let ranges = ranges.into_iter().map(|(ns, a, b)| (ns, (a, b)));
                        all.insert(*kind, ranges.collect());
                    }
                    Ok(())
                }),
                Job::EventTail(name) => {
                    write_json_synced(&dir.join(name), |w| objects.write_segment(Kind::Event, w))
                }
                Job::EventDigests(name) => write_json_synced(&dir.join(name), |w| {
                    serde_json::to_writer(w, &EventDigests::of(objects))
                }),
                Job::NodeRecords(name) => {
                    write_json_synced(&dir.join(name), |w| serde_json::to_writer(w, records))
                }
            });
            for result in written {
                result?;
            }
            for job in jobs {
                if let Job::Segment(kind, name) = job {
                    segments.insert(kind, name);
                }
            }
            // Each segment's ranges: new if it was written now, else as they were.
            let mut written = new_ranges.into_inner().unwrap_or_default();
            let ranges: BTreeMap<Kind, Ranges> = segments
                .keys()
                .filter_map(|kind| {
                    let stretches = written.remove(kind).or_else(|| old_ranges.get(kind).cloned());
                    stretches.map(|r| (*kind, r))
                })
                .collect();
            // Streamed like the segments (it holds every node's conntrack table); it becomes
            // the header only by the rename below.
            write_json_synced(&tmp, |w| {
                serde_json::to_writer(
                    w,
                    &HeaderOut {
                        format: FORMAT,
                        generation,
                        segments: &segments,
                        node_records: &node_records,
                        owed_ms,
                        event_tail: event_tail.as_deref(),
                        event_digests: event_digests.as_deref(),
                        ranges: &ranges,
                        sim,
                    },
                )
            })?;
            Ok((segments, node_records, event_tail, event_digests, ranges))
        });
        let (segments, node_records, event_tail, event_digests, ranges) = header?;
        // The new segments' directory entries must be durable before a header names them.
        sync_dir(&self.dir);
        fs::rename(&tmp, &path).map_err(|e| io("replace", &path, e))?;
        sync_dir(&self.dir);
        self.generation = generation;
        self.segments = segments;
        self.node_records = Some(node_records);
        self.event_tail = event_tail;
        self.event_digests = event_digests;
        self.ranges = ranges;
        self.remove_stray_segments();
        Ok(())
    }

    /// Removes segment files the header does not name (replaced ones, or ones a crash left
    /// before its commit). Best effort: a leftover file is harmless.
    fn remove_stray_segments(&self) {
        let named: BTreeSet<&str> = self
            .segments
            .values()
            .chain(&self.node_records)
            .chain(&self.event_tail)
            .chain(&self.event_digests)
            .map(String::as_str)
            .collect();
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if is_segment_name(name) && !named.contains(name) {
                let _ = fs::remove_file(entry.path());
            }
        }
    }

    /// Removes the saved cluster (`netsim reset`): the header first (so a crash leaves no
    /// state rather than a broken one), then every segment.
    pub fn clear(&mut self) -> Result<(), StateError> {
        match fs::remove_file(self.file()) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(StateError::Io {
                    what: "remove",
                    path: self.file().display().to_string(),
                    source: e,
                });
            }
        }
        self.segments.clear();
        self.unloaded.clear();
        self.node_records = None;
        self.node_records_unloaded = false;
        self.node_records_read_only = false;
        self.owed_ms = 0;
        self.event_tail = None;
        self.event_digests = None;
        self.ranges.clear();
        self.partial = false;
        self.remove_stray_segments();
        Ok(())
    }
}

/// Whether `name` is a segment file's name (`state.KIND.GENERATION.json`).
fn is_segment_name(name: &str) -> bool {
    let Some(middle) = name
        .strip_prefix("state.")
        .and_then(|n| n.strip_suffix(".json"))
    else {
        return false;
    };
    middle.split_once('.').is_some_and(|(kind, generation)| {
        !kind.is_empty()
            && kind.chars().all(|c| c.is_ascii_alphabetic())
            && !generation.is_empty()
            && generation.chars().all(|c| c.is_ascii_digit())
    })
}

/// One file a save writes.
enum Job {
    /// The segment of a kind, and its file name.
    Segment(Kind, String),
    /// The per-node records, and their file name.
    NodeRecords(String),
    /// The Events in memory as the tail (see the module's docs), and its file name.
    EventTail(String),
    /// The digests of the Events as a new base, and their file name.
    EventDigests(String),
}

/// How much of a segment is read at a time (see [`for_each_element`]).
const SEGMENT_CHUNK: usize = 1 << 20;

/// Where [`for_each_element`] is in the array.
#[derive(Clone, Copy, PartialEq)]
enum Scan {
    /// Before the `[`.
    Start,
    /// After the `[` or a `,`: an element or (only right after the `[`) the `]` comes next.
    BeforeElement { first: bool },
    /// Inside an element, `depth` brackets deep.
    Element { depth: usize },
    /// After an element: a `,` or the `]`.
    AfterElement,
    /// After the `]`.
    End,
}

/// What went wrong reading segment `seg`, as a [`StateError`].
fn segment_error(seg: &Path, e: ElementError) -> StateError {
    match e {
        ElementError::Read(source) => read_error(seg, source),
        ElementError::Bad(detail) => StateError::Corrupt {
            path: seg.display().to_string(),
            detail,
        },
    }
}

/// Reads the archived base of the Events, at `path`, into `store` (see [`ArchivedEvents`]).
fn read_events(path: &Path, store: &mut netsim_model::Store) -> Result<(), String> {
    let file = File::open(path).map_err(|e| read_error(path, e).to_string())?;
    for_each_element(file, SEGMENT_CHUNK, |text| {
        store
            .load_object(Kind::Event, text)
            .map_err(|e| e.to_string())
    })
    .map(|_| ())
    .map_err(|e| segment_error(path, e).to_string())
}

/// A segment file could not be read ([`StateError::Io`]).
fn read_error(path: &Path, source: std::io::Error) -> StateError {
    StateError::Io {
        what: "read",
        path: path.display().to_string(),
        source,
    }
}

/// Why [`for_each_element`] stopped.
#[derive(Debug, thiserror::Error)]
enum ElementError {
    /// The file could not be read: a file-system error, not a damaged file.
    #[error("{0}")]
    Read(std::io::Error),
    /// The text is not an array of objects, or `each` refused an element.
    #[error("{0}")]
    Bad(String),
}

/// Calls `each` with the text of every element of the JSON array of objects that `reader`
/// holds (a state segment), in order, reading a chunk of `chunk` bytes at a time: only the
/// element being read is held, not the file (a 5,000-node cluster's Events segment is
/// 660 MB, which was held whole while its objects were made). The elements themselves are
/// parsed by `each`; this finds where each one ends (brackets outside strings). Returns how
/// many there were, or what is wrong with the file.
fn for_each_element(
    mut reader: impl std::io::Read,
    chunk: usize,
    mut each: impl FnMut(&[u8]) -> Result<(), String>,
) -> Result<usize, ElementError> {
    let mut buf: Vec<u8> = Vec::with_capacity(chunk);
    let mut scan = Scan::Start;
    let (mut in_string, mut escaped) = (false, false);
    let mut start = 0;
    let mut count = 0;
    let mut read_so_far = 0usize;
    loop {
        // Keep only the element being read, then read on.
        let keep = if matches!(scan, Scan::Element { .. }) {
            start
        } else {
            buf.len()
        };
        buf.drain(..keep);
        start = 0;
        let from = buf.len();
        buf.resize(from + chunk, 0);
        let n = loop {
            match reader.read(&mut buf[from..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(ElementError::Read(e)),
            }
        };
        buf.truncate(from + n);
        if n == 0 {
            return match scan {
                Scan::End => Ok(count),
                _ => Err(ElementError::Bad(format!(
                    "the file ends early, at byte {read_so_far}"
                ))),
            };
        }
        for i in from..buf.len() {
            let b = buf[i];
            let at = read_so_far + (i - from);
            let unexpected = || format!("unexpected {:?} at byte {at}", char::from(b));
            scan = match scan {
                Scan::Element { depth } => {
                    if in_string {
                        match (escaped, b) {
                            (true, _) => escaped = false,
                            (false, b'\\') => escaped = true,
                            (false, b'"') => in_string = false,
                            _ => {}
                        }
                        continue;
                    }
                    match b {
                        b'"' => {
                            in_string = true;
                            scan
                        }
                        b'{' | b'[' => Scan::Element { depth: depth + 1 },
                        b'}' | b']' if depth == 1 => {
                            each(&buf[start..=i]).map_err(ElementError::Bad)?;
                            count += 1;
                            Scan::AfterElement
                        }
                        b'}' | b']' => Scan::Element { depth: depth - 1 },
                        _ => scan,
                    }
                }
                _ if b.is_ascii_whitespace() => scan,
                Scan::Start if b == b'[' => Scan::BeforeElement { first: true },
                Scan::BeforeElement { first: true } if b == b']' => Scan::End,
                Scan::BeforeElement { .. } if b == b'{' => {
                    start = i;
                    Scan::Element { depth: 1 }
                }
                Scan::AfterElement if b == b',' => Scan::BeforeElement { first: false },
                Scan::AfterElement if b == b']' => Scan::End,
                _ => return Err(ElementError::Bad(unexpected())),
            };
        }
        read_so_far += n;
    }
}

/// Runs `work` on each of `jobs` on up to as many threads as the machine has cores, taking
/// jobs in order; the results come back in the jobs' order.
fn on_cores<J: Sync, R: Send>(jobs: &[J], work: impl Fn(&J) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(jobs.len());
    if threads <= 1 {
        return jobs.iter().map(work).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<(usize, R)> = std::thread::scope(|scope| {
        let worker = || {
            let mut done = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(job) = jobs.get(i) else { break };
                done.push((i, work(job)));
            }
            done
        };
        let helpers: Vec<_> = (1..threads).map(|_| scope.spawn(worker)).collect();
        let mut all = worker();
        for helper in helpers {
            // A panicking helper is a bug; carry its panic over rather than lose its files.
            match helper.join() {
                Ok(done) => all.extend(done),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        all
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// Streams JSON into a new file at `path` and fsyncs it: a segment is never held whole in
/// memory (the Events of a 5,000-node cluster are half a gigabyte of text).
fn write_json_synced(
    path: &Path,
    write: impl FnOnce(&mut std::io::BufWriter<File>) -> Result<(), serde_json::Error>,
) -> Result<(), StateError> {
    let io = |source| StateError::Io {
        what: "write",
        path: path.display().to_string(),
        source,
    };
    let file = File::create(path).map_err(io)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    write(&mut out).map_err(|e| {
        if e.is_io() {
            io(e.into())
        } else {
            StateError::Corrupt {
                path: path.display().to_string(),
                detail: e.to_string(),
            }
        }
    })?;
    let file = out.into_inner().map_err(|e| io(e.into_error()))?;
    file.sync_all().map_err(io)
}

/// Makes renames and new entries in `dir` durable; not all file systems support it.
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netsim_model::ClusterConfig;

    /// A fresh directory under the system temp dir (removed by the test).
    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("netsim-state-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    fn objects(sim: &Sim) -> String {
        serde_json::to_string(&sim.store().iter().collect::<Vec<_>>()).expect("objects serialize")
    }

    fn node_records(sim: &mut Sim) -> String {
        sim.with_parts_apart(|_, _, records| serde_json::to_string(records))
            .expect("records serialize")
    }

    fn files(dir: &Path) -> BTreeSet<String> {
        fs::read_dir(dir)
            .expect("dir")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn jobs_on_cores_each_run_once_and_come_back_in_order() {
        let jobs: Vec<u64> = (0..50).collect();
        let runs = std::sync::atomic::AtomicUsize::new(0);
        let squares = on_cores(&jobs, |n| {
            runs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            n * n
        });
        assert_eq!(squares, jobs.iter().map(|n| n * n).collect::<Vec<_>>());
        assert_eq!(runs.into_inner(), jobs.len());
        assert!(on_cores(&[] as &[u64], |n| *n).is_empty());
    }

    /// The elements [`for_each_element`] finds in `text`, read `chunk` bytes at a time.
    fn elements(text: &str, chunk: usize) -> Result<Vec<String>, String> {
        let mut out = Vec::new();
        for_each_element(text.as_bytes(), chunk, |e| {
            out.push(String::from_utf8(e.to_vec()).map_err(|e| e.to_string())?);
            Ok(())
        })
        .map_err(|e| e.to_string())?;
        Ok(out)
    }

    #[test]
    fn a_segment_is_read_element_by_element_across_chunks() {
        let text = " [ {\"a\":\"}]{[\\\"\",\"b\":[1,{\"c\":[]}]} ,\n{}\t,{\"d\":\"\\\\\"} ]\n";
        let want: Vec<String> = serde_json::from_str::<Vec<serde_json::Value>>(text)
            .expect("valid JSON")
            .iter()
            .map(|v| v.to_string())
            .collect();
        for chunk in [1, 2, 3, 7, 64, 1 << 20] {
            let got: Vec<String> = elements(text, chunk)
                .expect("reads")
                .iter()
                .map(|e| {
                    serde_json::from_str::<serde_json::Value>(e)
                        .expect("each element is whole")
                        .to_string()
                })
                .collect();
            assert_eq!(got, want, "chunk {chunk}");
        }
        assert_eq!(elements("[]", 1), Ok(Vec::new()));
        assert_eq!(elements(" [ ] ", 3), Ok(Vec::new()));
    }

    #[test]
    fn a_damaged_segment_says_where() {
        for (text, why) in [
            ("", "ends early"),
            ("[{\"a\":1}", "ends early"),
            ("[{\"a\":\"}]", "ends early"),
            ("[{},]", "unexpected ']'"),
            ("[{}] x", "unexpected 'x'"),
            ("{}", "unexpected '{'"),
            ("[1]", "unexpected '1'"),
            ("[{}{}]", "unexpected '{'"),
        ] {
            for chunk in [1, 4, 1 << 20] {
                let err = elements(text, chunk).expect_err(text);
                assert!(err.contains(why), "{text:?} (chunk {chunk}): {err}");
            }
        }
        // What `each` says stops the reading.
        let mut seen = 0;
        let err = for_each_element(&b"[{},{},{}]"[..], 2, |_| {
            seen += 1;
            if seen == 2 {
                Err("bad object".into())
            } else {
                Ok(())
            }
        });
        assert!(
            matches!(&err, Err(ElementError::Bad(detail)) if detail == "bad object"),
            "{err:?}"
        );
        assert_eq!(seen, 2);
        // A read error is the file system's, not a damaged file.
        struct Failing;
        impl std::io::Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk on fire"))
            }
        }
        let err = for_each_element(Failing, 4, |_| Ok(()));
        assert!(matches!(&err, Err(ElementError::Read(e)) if e.to_string() == "disk on fire"));
    }

    #[test]
    fn saves_only_changed_kinds_and_loads_what_it_saved() {
        let dir = temp_dir("segments");
        let mut sim = Sim::new(ClusterConfig::default()).expect("default cluster");
        let mut state = StateDir::open(&dir).expect("open");
        state.save(&mut sim).expect("save");
        let first = files(&dir);
        assert!(first.contains("state.Node.1.json"), "{first:?}");
        assert!(first.contains("state.NodeRecords.1.json"), "{first:?}");
        let records = node_records(&mut sim);
        assert!(records.len() > 1000, "{records}");
        // Nothing changed: the segments stay, only the header is rewritten.
        let mut again = state.load(None, false).expect("load").expect("saved");
        assert_eq!(objects(&again), objects(&sim));
        assert_eq!(node_records(&mut again), records);
        state.save(&mut again).expect("save again");
        // The per-node records are rewritten by every save that read them.
        let second: BTreeSet<String> = first
            .iter()
            .map(|f| f.replace("state.NodeRecords.1.json", "state.NodeRecords.2.json"))
            .collect();
        assert_eq!(files(&dir), second);
        // A partial load reads only the kinds asked for and keeps the others' segments. (The
        // lock is per open file: one StateDir at a time, or the second waits forever.)
        drop(state);
        let mut state = StateDir::open(&dir).expect("reopen");
        let only = Needs::kinds([Kind::Node]);
        let mut partial = state
            .load(Some(&only), false)
            .expect("load")
            .expect("saved");
        assert!(partial.store().iter().all(|o| o.kind() == Kind::Node));
        assert!(partial.node_records_empty());
        state.save(&mut partial).expect("save partial");
        assert!(files(&dir).contains("state.NodeRecords.2.json"));
        drop(state);
        // A read-only command that reads the per-node records too: they are loaded, and kept
        // on disk as they are by its save.
        let mut state = StateDir::open(&dir).expect("reopen");
        let only = Needs {
            kinds: BTreeSet::from([Kind::Node]),
            node_records: true,
            namespaces: None,
        };
        let mut reader = state
            .load(Some(&only), false)
            .expect("load")
            .expect("saved");
        assert!(state.is_partial());
        assert_eq!(node_records(&mut reader), records);
        state.save(&mut reader).expect("save read-only");
        assert!(files(&dir).contains("state.NodeRecords.2.json"));
        assert!(
            !files(&dir)
                .iter()
                .any(|f| f.starts_with("state.NodeRecords.4"))
        );
        drop(state);
        let mut full = StateDir::open(&dir)
            .expect("reopen")
            .load(None, false)
            .expect("load")
            .expect("saved");
        assert_eq!(objects(&full), objects(&sim));
        assert_eq!(node_records(&mut full), records);
        fs::remove_dir_all(&dir).expect("cleanup");
    }

    /// A Deployment `web` of `replicas` pods.
    fn deployment(replicas: i32) -> netsim_model::Object {
        let json = serde_json::json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "web", "image": "nginx"}]},
                },
            },
        });
        netsim_model::Object::from_json_slice(Kind::Deployment, json.to_string().as_bytes())
            .expect("a Deployment")
    }

    /// Every Event of `dir`'s cluster, read in full.
    fn events(dir: &Path) -> String {
        let sim = StateDir::open(dir)
            .expect("open")
            .load(None, false)
            .expect("load")
            .expect("saved");
        serde_json::to_string(&sim.store().list(Kind::Event, None).collect::<Vec<_>>())
            .expect("events serialize")
    }

    /// The same commands on the same cluster, once with the Events' base left unread where
    /// it can be (`archived`) and once with every Event read: at each step the Events are
    /// the same, and the base is read only when a report repeats one of its Events or the
    /// TTL reaches it.
    #[test]
    fn events_left_unread_end_as_events_read() {
        let archived = temp_dir("events-archived");
        let read = temp_dir("events-read");
        let mut sim = Sim::new(ClusterConfig::default()).expect("default cluster");
        let opts = netsim_engine::WriteOptions::default();
        sim.create(deployment(3), opts).expect("create");
        sim.advance(SignedDuration::from_secs(60));
        sim.replace(deployment(1), opts).expect("scale down");
        sim.advance(SignedDuration::from_secs(60));
        for dir in [&archived, &read] {
            StateDir::open(dir)
                .expect("open")
                .save(&mut sim)
                .expect("save");
        }
        let first = files(&archived);
        assert!(first.contains("state.EventDigests.1.json"), "{first:?}");
        let step = |replicas: i32, wait: SignedDuration| {
            for (dir, leave_unread) in [(&archived, true), (&read, false)] {
                let mut state = StateDir::open(dir).expect("open");
                let mut sim = state
                    .load(None, leave_unread)
                    .expect("load")
                    .expect("saved");
                assert_eq!(sim.archived_event_count().is_some(), leave_unread);
                sim.replace(deployment(replicas), opts).expect("replace");
                sim.advance(wait);
                state.save(&mut sim).expect("save");
            }
            assert_eq!(events(&archived), events(&read));
        };
        // Scaled up: new Events only; the base stays unread and unwritten, the new ones are
        // its tail.
        step(3, SignedDuration::from_secs(60));
        let second = files(&archived);
        assert!(second.contains("state.Event.1.json"), "{second:?}");
        assert!(second.contains("state.EventTail.2.json"), "{second:?}");
        // Scaled down again: "Scaled down replica set ... to 1 from 3" repeats a report in
        // the base, which is read to count it up; every Event is then the new base.
        assert!(!events(&archived).contains(r#""count":2"#));
        step(1, SignedDuration::from_secs(60));
        let third = files(&archived);
        assert!(third.contains("state.Event.3.json"), "{third:?}");
        assert!(
            !third.iter().any(|f| f.starts_with("state.EventTail")),
            "{third:?}"
        );
        assert!(events(&archived).contains(r#""count":2"#));
        // Two hours on, the TTL reaches the base: read, and its Events are gone, from
        // memory and from disk (a digest left behind could count up an Event that is gone).
        step(2, SignedDuration::from_secs(7200));
        assert_eq!(events(&archived), "[]");
        let last = files(&archived);
        assert!(
            !last.iter().any(|f| f.starts_with("state.Event")),
            "{last:?}"
        );
        fs::remove_dir_all(&archived).expect("cleanup");
        fs::remove_dir_all(&read).expect("cleanup");
    }

    #[test]
    fn reads_format_2_with_the_per_node_records_inline() {
        let dir = temp_dir("format2");
        let mut sim = Sim::new(ClusterConfig::default()).expect("default cluster");
        let records = node_records(&mut sim);
        let mut state = StateDir::open(&dir).expect("open");
        state.save(&mut sim).expect("save");
        drop(state);
        // Format 2 is format 3 with the records inside `sim` and no `node_records` segment.
        let header: serde_json::Value =
            serde_json::from_slice(&fs::read(dir.join("state.json")).expect("read")).expect("json");
        let seg = header["node_records"].as_str().expect("named").to_string();
        let inline: serde_json::Value =
            serde_json::from_slice(&fs::read(dir.join(&seg)).expect("read")).expect("json");
        let mut v2 = header.clone();
        v2["format"] = 2.into();
        v2.as_object_mut().expect("object").remove("node_records");
        v2["sim"]["node_net"] = inline["nodeNet"].clone();
        v2["sim"]["node_runtime"] = inline["nodeRuntime"].clone();
        fs::write(dir.join("state.json"), v2.to_string()).expect("write v2");
        fs::remove_file(dir.join(&seg)).expect("remove the segment");
        let mut state = StateDir::open(&dir).expect("open");
        let mut loaded = state.load(None, false).expect("v2 loads").expect("saved");
        assert_eq!(node_records(&mut loaded), records);
        state.save(&mut loaded).expect("rewritten as format 3");
        assert!(files(&dir).contains("state.NodeRecords.2.json"));
        fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[test]
    fn reads_format_1_and_refuses_a_future_format_untouched() {
        let dir = temp_dir("formats");
        fs::create_dir_all(&dir).expect("mkdir");
        let sim = Sim::new(ClusterConfig::default()).expect("default cluster");
        let v1 = serde_json::json!({"format": 1, "sim": &sim}).to_string();
        fs::write(dir.join("state.json"), &v1).expect("write v1");
        let mut state = StateDir::open(&dir).expect("open");
        let mut loaded = state.load(None, false).expect("v1 loads").expect("saved");
        assert_eq!(objects(&loaded), objects(&sim));
        state.save(&mut loaded).expect("rewritten");
        assert!(files(&dir).contains("state.Pod.1.json"));
        drop(state);

        let future = r#"{"format": 99, "sim": {}}"#;
        fs::write(dir.join("state.json"), future).expect("write future");
        let err = StateDir::open(&dir)
            .expect("open")
            .load(None, false)
            .expect_err("refused");
        assert!(
            err.to_string().contains("newer netsim (state format 99"),
            "{err}"
        );
        assert_eq!(
            fs::read_to_string(dir.join("state.json")).expect("read"),
            future
        );
        fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[test]
    fn owed_think_time_runs_before_the_next_command_that_needs_it() {
        let dir = temp_dir("owed");
        let mut sim = Sim::new(ClusterConfig::default()).expect("default cluster");
        // A pod: its scheduling and container start are due over the next seconds.
        let pod = serde_json::json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"containers": [{"name": "web", "image": "nginx"}]}});
        let pod = netsim_model::Object::from_json(Kind::Pod, pod).expect("a pod");
        sim.create(pod, netsim_engine::WriteOptions::default())
            .expect("created");
        sim.settle();
        let (now, next) = (sim.now(), sim.next_event_at().expect("something is due"));
        let gap = next.duration_since(now);
        assert!(gap.as_millis() > 1, "{gap:?}");
        let mut state = StateDir::open(&dir).expect("open");
        // Owed time with nothing due in it: a partial load stays partial, and settling it only
        // moves the clock.
        state.owe(gap - SignedDuration::from_millis(1));
        state.save(&mut sim).expect("save");
        drop(state);
        let mut state = StateDir::open(&dir).expect("reopen");
        let only = Needs::kinds([Kind::Node]);
        let mut partial = state
            .load(Some(&only), false)
            .expect("load")
            .expect("saved");
        assert!(state.is_partial());
        state.settle(&mut partial, &mut |_| {});
        assert_eq!(partial.now(), next - SignedDuration::from_millis(1));
        assert_eq!(partial.next_event_at(), Some(next));
        // Its own think time is owed in turn; with it, an event is due: the next partial load
        // reads everything, and settling runs the event as running the time at once would.
        state.owe(SignedDuration::from_secs(5));
        state.save(&mut partial).expect("save partial");
        drop(state);
        let mut state = StateDir::open(&dir).expect("reopen");
        let mut full = state
            .load(Some(&only), false)
            .expect("load")
            .expect("saved");
        assert!(!state.is_partial());
        state.settle(&mut full, &mut |_| {});
        assert!(full.next_event_at().is_none_or(|at| at > next));
        sim.advance(gap - SignedDuration::from_millis(1) + SignedDuration::from_secs(5));
        assert_eq!(full.now(), sim.now());
        assert_eq!(objects(&full), objects(&sim));
        assert_eq!(node_records(&mut full), node_records(&mut sim));
        // Settled: saved with nothing owed.
        state.save(&mut full).expect("save");
        let header: serde_json::Value =
            serde_json::from_slice(&fs::read(dir.join("state.json")).expect("read")).expect("json");
        assert_eq!(header["owed_ms"], 0);
        assert_eq!(header["format"], FORMAT);
        fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[test]
    fn segment_names_stay_inside_the_directory() {
        assert!(is_segment_name("state.Pod.12.json"));
        for bad in [
            "state.json",
            "state.json.tmp",
            "state..1.json",
            "state.Pod.x.json",
            "other.json",
        ] {
            assert!(!is_segment_name(bad), "{bad}");
        }
        let dir = temp_dir("names");
        let state = StateDir::open(&dir).expect("open");
        assert!(state.segment_path("../state.Pod.1.json").is_err());
        assert!(state.segment_path("state.Pod.1.json").is_ok());
        fs::remove_dir_all(&dir).expect("cleanup");
    }
}
