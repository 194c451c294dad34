//! The book only shows real netsim output: every `{{#include ...}}` in `book/src` names a file
//! that exists (the session snapshots the transcript tests check), and every chapter is listed
//! in `SUMMARY.md`. mdBook itself is not needed to run this.

use std::path::{Path, PathBuf};

fn book_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../book/src")
}

#[test]
fn every_include_exists() {
    let src = book_src();
    let mut checked = 0;
    for entry in std::fs::read_dir(&src).expect("book/src exists") {
        let path = entry.expect("readable entry").path();
        if path.extension().is_none_or(|e| e != "md") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("chapter is UTF-8");
        for part in text.split("{{#include ").skip(1) {
            let target = part.split("}}").next().unwrap_or("");
            // `file:5:` selects lines; the path is what comes before the first ':'.
            let file = target.split(':').next().unwrap_or("").trim();
            let resolved = src.join(file);
            assert!(
                resolved.exists(),
                "{} includes {file}, which does not exist",
                path.display()
            );
            checked += 1;
        }
    }
    assert!(
        checked >= 5,
        "expected the lesson chapters to include transcripts, found {checked}"
    );
}

#[test]
fn every_chapter_is_in_the_summary() {
    let src = book_src();
    let summary = std::fs::read_to_string(src.join("SUMMARY.md")).expect("SUMMARY.md exists");
    for entry in std::fs::read_dir(&src).expect("book/src exists") {
        let name = entry
            .expect("readable entry")
            .file_name()
            .to_string_lossy()
            .to_string();
        if name.ends_with(".md") && name != "SUMMARY.md" {
            assert!(
                summary.contains(&format!("({name})")),
                "{name} is not linked from SUMMARY.md"
            );
        }
    }
}
