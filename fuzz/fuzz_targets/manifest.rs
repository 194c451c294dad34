//! The manifest reader `netsim apply -f FILE` uses, on arbitrary file contents: documents split
//! like kubectl, YAML 1.1 with go-yaml's TAB errors, strict decoding into k8s-openapi types, and
//! the last-applied annotation of every object read, then the API server's defaulting and
//! validation of it (what `apply` runs next, still without a cluster). Nothing may panic, and
//! every error must render (its text is what the user sees).
#![no_main]

use libfuzzer_sys::fuzz_target;
use netsim_manifest::{Item, Source, Validate};

fuzz_target!(|data: &[u8]| {
    // `apply` refuses a file that is not UTF-8 before parsing (netsim-cli's sources.rs).
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let source = Source {
        name: "fuzz.yaml",
        text,
    };
    // The three `--validate` modes differ in what they do with unknown fields: every mode
    // on every input, so seed files (plain manifests) need no mode byte.
    for validate in [Validate::Strict, Validate::Warn, Validate::Ignore] {
        for item in netsim_manifest::parse_each(&source, validate) {
            match item {
                Ok(Item::Object(doc)) => {
                    let _ = netsim_manifest::last_applied(&doc.applied, None);
                    let _ = netsim_manifest::last_applied(&doc.applied, Some("fuzz"));
                    let mut object = doc.object;
                    netsim_manifest::defaults::apply_defaults(&mut object);
                    if let Err(e) = netsim_manifest::validation::validate(&object) {
                        let _ = e.to_string();
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    let _ = e.message();
                }
            }
        }
    }
});
