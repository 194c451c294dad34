//! How much netsim reads: the bounds that keep a hostile or mistaken manifest (a 50 MB file of
//! junk, a "billion laughs" alias bomb, ten thousand nested brackets) from taking the memory or
//! the time of the person running it.
//!
//! kubectl itself has few limits of its own: go-yaml refuses nesting deeper than 10000 and
//! documents whose decoding is mostly alias expansion ("document contains excessive aliasing",
//! which netsim reproduces exactly), and the API server refuses request bodies over 3 MiB. The
//! other bounds are netsim's, chosen far above what any Kubernetes manifest needs (the lesson's
//! largest file is a few kilobytes; `netsim generate` for the whole scalability envelope — 5,000
//! nodes, 150,000 pods, 10,000 Services — writes about 20,000 documents in 6 MB, in one file) and
//! far below what would hurt. Each one is named in the error that enforces it.
//!
//! This module owns the numbers. It must never read input: the CLI checks sizes while reading,
//! [`crate::parse`] checks the rest while parsing.

/// The most bytes netsim reads from one manifest source (a file or standard input).
pub const MAX_SOURCE_BYTES: usize = 16 * 1024 * 1024;

/// The most documents (`---`-separated) one source may hold: five times the envelope's
/// generated scenario (a Deployment and a Service per Service).
pub const MAX_DOCUMENTS: usize = 100_000;

/// The deepest nesting of mappings and sequences in one document. go-yaml's own limit is 10000;
/// netsim's is lower because its readers recurse, and no Kubernetes object comes near it (a
/// Deployment's deepest field is about 15 levels down).
pub const MAX_DEPTH: usize = 100;

/// The most nodes (scalars, mappings, sequences) one document may hold once its aliases are
/// expanded.
pub const MAX_NODES: u64 = 1_000_000;

/// The most bytes of scalar text one document may hold once its aliases are expanded: an
/// alias repeats its anchor's text, so a small file can otherwise ask for gigabytes.
pub const MAX_SCALAR_BYTES: u64 = MAX_SOURCE_BYTES as u64;

/// The most objects one `apply`, `create -f` or `delete -f` handles.
pub const MAX_OBJECTS: usize = 100_000;

/// A size in the words a person reads: `16 MiB`, `512 KiB`, `100 bytes`.
pub fn human_bytes(n: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if n >= MIB && n.is_multiple_of(MIB) {
        format!("{} MiB", n / MIB)
    } else if n >= 1024 && n.is_multiple_of(1024) {
        format!("{} KiB", n / 1024)
    } else {
        format!("{n} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_bytes(MAX_SOURCE_BYTES as u64), "16 MiB");
        assert_eq!(human_bytes(3 * 1024 * 1024), "3 MiB");
        assert_eq!(human_bytes(2048), "2 KiB");
        assert_eq!(human_bytes(1000), "1000 bytes");
    }
}
