//! Reading manifests from `-f`: files, directories (`-R` for subdirectories) and `-` (stdin),
//! with kubectl's messages for paths that do not exist, and kubectl's way of turning bytes into
//! text.
//!
//! kubectl reads every manifest through a UTF-8 decoder with a byte-order-mark override
//! (`unicode.BOMOverride`): a UTF-16 file with a BOM is decoded, a UTF-8 BOM is dropped, and
//! bytes that are not UTF-8 become U+FFFD instead of failing. netsim does the same, and bounds
//! what it reads by [`netsim_manifest::limits::MAX_SOURCE_BYTES`] before reading it all.

use netsim_manifest::limits::{MAX_SOURCE_BYTES, human_bytes};
use std::io::Read;
use std::path::Path;

/// One manifest read from disk: its name as kubectl prints it, and its text.
pub struct Loaded {
    /// `nodeport.yaml`, `dir/x.yaml` or `STDIN`.
    pub name: String,
    /// The text.
    pub text: String,
    /// Where (1-based line and column) the first bytes that were not UTF-8 sat, now U+FFFD.
    pub replaced: Option<(usize, usize)>,
}

/// Why a manifest could not be read. `Display` is the line printed.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The path does not exist (kubectl's wording).
    #[error("error: the path \"{0}\" does not exist")]
    Missing(String),
    /// The file system refused.
    #[error("error: {path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// Standard input could not be read.
    #[error("error: reading STDIN: {0}")]
    Stdin(std::io::Error),
    /// More than netsim reads from one manifest.
    #[error(
        "error: error reading {name}: {size} is more than netsim reads from one manifest ({limit}, {limit_bytes} bytes)",
        limit = human_bytes(MAX_SOURCE_BYTES as u64),
        limit_bytes = MAX_SOURCE_BYTES
    )]
    TooLarge {
        /// The source name.
        name: String,
        /// How big it is, in words (`50 MiB (52428800 bytes)`, or `the input` for a stream).
        size: String,
    },
}

impl From<SourceError> for String {
    fn from(e: SourceError) -> String {
        e.to_string()
    }
}

/// Reads every `-f` argument in order. Directories contribute their `.yaml`, `.yml` and `.json`
/// files in name order.
pub fn read_all(paths: &[String], recursive: bool) -> Result<Vec<Loaded>, String> {
    let mut out = Vec::new();
    for p in paths {
        if p == "-" {
            let bytes =
                read_bounded(std::io::stdin().lock(), "STDIN", None).map_err(|e| match e {
                    SourceError::Io { source, .. } => SourceError::Stdin(source),
                    other => other,
                })?;
            out.push(loaded("STDIN".into(), &bytes));
            continue;
        }
        let path = Path::new(p);
        if !path.exists() {
            return Err(SourceError::Missing(p.clone()).into());
        }
        if path.is_dir() {
            read_dir(path, recursive, &mut out)?;
        } else {
            out.push(read_file(path)?);
        }
    }
    Ok(out)
}

/// Reads at most [`MAX_SOURCE_BYTES`] (plus one, to know there is more) from `reader`.
fn read_bounded(reader: impl Read, name: &str, known: Option<u64>) -> Result<Vec<u8>, SourceError> {
    let limit = MAX_SOURCE_BYTES as u64;
    if let Some(size) = known.filter(|s| *s > limit) {
        // A regular file says how big it is: refuse it without reading a byte.
        return Err(SourceError::TooLarge {
            name: name.to_string(),
            size: format!("{} ({size} bytes)", human_size(size)),
        });
    }
    let mut bytes = Vec::new();
    reader
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| SourceError::Io {
            path: name.to_string(),
            source,
        })?;
    if bytes.len() as u64 > limit {
        return Err(SourceError::TooLarge {
            name: name.to_string(),
            size: "the input".to_string(),
        });
    }
    Ok(bytes)
}

/// A size rounded the way a person would say it (`50 MiB`, `1.5 GiB`).
fn human_size(n: u64) -> String {
    const MIB: f64 = 1024.0 * 1024.0;
    let mib = n as f64 / MIB;
    if mib >= 1024.0 {
        format!("{:.1} GiB", mib / 1024.0)
    } else if mib.fract() == 0.0 {
        format!("{mib:.0} MiB")
    } else {
        format!("{mib:.1} MiB")
    }
}

fn read_file(path: &Path) -> Result<Loaded, SourceError> {
    let name = path.display().to_string();
    let io = |source| SourceError::Io {
        path: name.clone(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    // Only a regular file's length is its size (`/dev/zero` says 0 and never ends).
    let known = file
        .metadata()
        .ok()
        .filter(|m| m.is_file())
        .map(|m| m.len());
    let bytes = read_bounded(file, &name, known)?;
    Ok(loaded(name, &bytes))
}

/// Text from bytes as kubectl decodes them: a BOM decides UTF-16 or UTF-8 (and is dropped),
/// and whatever is not valid becomes U+FFFD.
fn loaded(name: String, bytes: &[u8]) -> Loaded {
    let utf16 = |big: bool, rest: &[u8]| {
        let units: Vec<u16> = rest
            .chunks(2)
            .map(|c| {
                let pair = [c[0], c.get(1).copied().unwrap_or(0)];
                if big {
                    u16::from_be_bytes(pair)
                } else {
                    u16::from_le_bytes(pair)
                }
            })
            .collect();
        String::from_utf16_lossy(&units)
    };
    let (text, replaced) = match bytes {
        [0xfe, 0xff, rest @ ..] => (utf16(true, rest), None),
        [0xff, 0xfe, rest @ ..] => (utf16(false, rest), None),
        [0xef, 0xbb, 0xbf, rest @ ..] => utf8(rest),
        _ => utf8(bytes),
    };
    Loaded {
        name,
        text,
        replaced,
    }
}

/// UTF-8 text, bad bytes replaced, and where the first of them was.
fn utf8(bytes: &[u8]) -> (String, Option<(usize, usize)>) {
    match std::str::from_utf8(bytes) {
        Ok(text) => (text.to_string(), None),
        Err(e) => {
            let good = &bytes[..e.valid_up_to()];
            let before = String::from_utf8_lossy(good);
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
            (
                String::from_utf8_lossy(bytes).into_owned(),
                Some((line, column)),
            )
        }
    }
}

fn read_dir(dir: &Path, recursive: bool, out: &mut Vec<Loaded>) -> Result<(), SourceError> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|source| SourceError::Io {
            path: dir.display().to_string(),
            source,
        })?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            if recursive {
                read_dir(&p, recursive, out)?;
            }
        } else if p
            .extension()
            .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
        {
            out.push(read_file(&p)?);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_bytes_as_kubectl_does() {
        let l = loaded("x".into(), b"a: Z\xfcrich\n");
        assert_eq!(l.text, "a: Z\u{fffd}rich\n");
        assert_eq!(l.replaced, Some((1, 5)));
        let l = loaded("x".into(), b"\xef\xbb\xbfa: b\n");
        assert_eq!((l.text.as_str(), l.replaced), ("a: b\n", None));
        let l = loaded("x".into(), b"\xff\xfea\x00:\x00 \x00b\x00");
        assert_eq!(l.text, "a: b");
    }

    #[test]
    fn refuses_what_is_too_large() {
        let big = vec![b'a'; MAX_SOURCE_BYTES + 1];
        let e = read_bounded(&big[..], "STDIN", None).unwrap_err();
        assert!(e.to_string().contains("16 MiB"), "{e}");
        let e = read_bounded(&b""[..], "f.yaml", Some(50 * 1024 * 1024)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "error: error reading f.yaml: 50 MiB (52428800 bytes) is more than netsim reads from one manifest (16 MiB, 16777216 bytes)"
        );
    }
}
