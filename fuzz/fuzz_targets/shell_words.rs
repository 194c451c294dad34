//! `netsim shell`'s word splitter on arbitrary lines. It is the very module the shell uses
//! (included by path: the CLI is a binary crate), with a stand-in for the shell that expands
//! `$(...)` by splitting the inner line again, as the real shell does when it runs it, so deep
//! nesting is exercised. Two properties besides "no panic":
//!
//! - any line splits without panicking, however its quotes, `$` and parentheses are arranged;
//! - words quoted the way a script would quote them (`'...'`, with `'\''` for a quote) split
//!   back into exactly those words.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../crates/netsim-cli/src/shell/words.rs"]
#[allow(dead_code)]
mod words;

use words::{Expand, Token, split};

/// A shell with two variables whose `$(...)` is the inner line's words joined by blanks.
struct Stub;

impl Expand for Stub {
    fn var(&self, name: &str) -> String {
        match name {
            "IP" => "10.96.0.1".into(),
            "SPACED" => "a b\tc".into(),
            _ => String::new(),
        }
    }

    fn command(&mut self, line: &str) -> String {
        match split(line, self) {
            Ok(tokens) => tokens
                .into_iter()
                .map(|t| match t {
                    Token::Word(w) => w,
                    Token::Pipe => "|".into(),
                })
                .collect::<Vec<_>>()
                .join(" "),
            // The real shell prints the inner line's error on stderr, which `$(...)` drops.
            Err(_) => String::new(),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(line) = std::str::from_utf8(data) else {
        return;
    };
    let _ = split(line, &mut Stub);

    // The input as a list of words (split at NUL), quoted, must come back word for word.
    let words: Vec<&str> = line.split('\0').collect();
    let quoted: Vec<String> = words
        .iter()
        .map(|w| format!("'{}'", w.replace('\'', r"'\''")))
        .collect();
    let back = split(&quoted.join(" "), &mut Stub).expect("quoted words always split");
    let expected: Vec<Token> = words.iter().map(|w| Token::Word(w.to_string())).collect();
    assert_eq!(back, expected, "quoted: {quoted:?}");
});
