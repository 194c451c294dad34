//! Reading manifests from `-f`: files, directories (`-R` for subdirectories) and `-` (stdin),
//! with kubectl's messages for paths that do not exist.

use std::io::Read;
use std::path::Path;

/// One manifest read from disk: its name as kubectl prints it, and its text.
pub struct Loaded {
    /// `nodeport.yaml`, `dir/x.yaml` or `STDIN`.
    pub name: String,
    /// The text.
    pub text: String,
}

/// Reads every `-f` argument in order. Directories contribute their `.yaml`, `.yml` and `.json`
/// files in name order.
pub fn read_all(paths: &[String], recursive: bool) -> Result<Vec<Loaded>, String> {
    let mut out = Vec::new();
    for p in paths {
        if p == "-" {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| format!("error: reading STDIN: {e}"))?;
            out.push(Loaded {
                name: "STDIN".into(),
                text,
            });
            continue;
        }
        let path = Path::new(p);
        if !path.exists() {
            return Err(format!("error: the path \"{p}\" does not exist"));
        }
        if path.is_dir() {
            read_dir(path, recursive, &mut out)?;
        } else {
            out.push(read_file(path)?);
        }
    }
    Ok(out)
}

fn read_file(path: &Path) -> Result<Loaded, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("error: {}: {e}", path.display()))?;
    let text = String::from_utf8(bytes).map_err(|_| {
        format!(
            "error: error parsing {}: the file is not UTF-8 text",
            path.display()
        )
    })?;
    Ok(Loaded {
        name: path.display().to_string(),
        text,
    })
}

fn read_dir(dir: &Path, recursive: bool, out: &mut Vec<Loaded>) -> Result<(), String> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("error: {}: {e}", dir.display()))?
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
