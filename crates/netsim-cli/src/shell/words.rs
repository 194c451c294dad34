//! `netsim shell`'s word splitter: a line as a POSIX shell splits it (blanks, `'...'`, `"..."`,
//! `\`, `$NAME`, `${NAME}`, `$(...)`, `|`, a `#` comment).
//!
//! Pure on purpose: no IO, no state, no `crate::` paths. Variables and command substitution are
//! asked of the caller through [`Expand`], so the shell runs `$(...)` as a command while the fuzz
//! target (`fuzz/fuzz_targets/shell_words.rs`, which includes this file with `#[path]`) drives the
//! very same code with a stand-in.

/// One word of a line, or a pipe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// A word, quotes removed and expansions done.
    Word(String),
    /// `|` between two commands.
    Pipe,
}

/// What the splitter needs from the shell it splits for.
pub trait Expand {
    /// The value of `$NAME` or `${NAME}` (empty when unset, as in a shell).
    fn var(&self, name: &str) -> String;
    /// What `line` prints on stdout when run (`$(line)`); trailing newlines are trimmed here.
    fn command(&mut self, line: &str) -> String;
}

/// The deepest nesting of `$(...)` a substitution may hold. The shell runs the inner line, which
/// is split again, so each level is a level of recursion; without a bound a line of a few
/// thousand `$(` would overflow the stack. No lesson line comes close.
pub const MAX_NESTING: usize = 64;

/// Splits `line` into words and pipes, expanding variables and `$(...)` through `expand`. The
/// error is the text bash prints after `bash: `.
pub fn split(line: &str, expand: &mut dyn Expand) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = line.chars().collect();
    let mut out = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' => {
                if in_word {
                    out.push(Token::Word(std::mem::take(&mut word)));
                    in_word = false;
                }
            }
            '|' => {
                if in_word {
                    out.push(Token::Word(std::mem::take(&mut word)));
                    in_word = false;
                }
                out.push(Token::Pipe);
            }
            '#' if !in_word => break,
            '\'' => {
                in_word = true;
                let end = chars[i + 1..]
                    .iter()
                    .position(|&c| c == '\'')
                    .ok_or("unexpected EOF while looking for matching `''")?;
                word.extend(&chars[i + 1..i + 1 + end]);
                i += end + 1;
            }
            '"' => {
                in_word = true;
                i += 1;
                loop {
                    match chars.get(i) {
                        None => {
                            return Err("unexpected EOF while looking for matching `\"'".into());
                        }
                        Some('"') => break,
                        Some('\\') if matches!(chars.get(i + 1), Some('"' | '\\' | '$')) => {
                            word.push(chars[i + 1]);
                            i += 2;
                        }
                        Some('$') => {
                            let (text, used) = dollar(&chars[i..], expand)?;
                            word.push_str(&text);
                            i += used;
                        }
                        Some(&c) => {
                            word.push(c);
                            i += 1;
                        }
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(&n) = chars.get(i + 1) {
                    word.push(n);
                    i += 1;
                }
            }
            '$' => {
                in_word = true;
                let (text, used) = dollar(&chars[i..], expand)?;
                word.push_str(&text);
                i += used - 1;
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
        i += 1;
    }
    if in_word {
        out.push(Token::Word(word));
    }
    Ok(out)
}

/// How deep `$(` nest in `chars`, parentheses matched as [`dollar`] matches them (quotes
/// not considered: it is a bound, not an exact count). Expanding a `$(...)` recurses at most
/// this deep below it.
fn substitution_depth(chars: &[char]) -> usize {
    let mut open: Vec<bool> = Vec::new();
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '$' if chars.get(i + 1) == Some(&'(') => {
                open.push(true);
                depth += 1;
                deepest = deepest.max(depth);
                i += 1;
            }
            '(' => open.push(false),
            ')' => depth -= usize::from(open.pop() == Some(true)),
            _ => {}
        }
        i += 1;
    }
    deepest
}

/// `$NAME`, `${NAME}` or `$(command)` at the start of `chars`: its text and the characters it
/// used (at least one: a `$` that starts nothing is itself).
fn dollar(chars: &[char], expand: &mut dyn Expand) -> Result<(String, usize), String> {
    match chars.get(1) {
        Some('(') => {
            let mut depth = 0;
            for (j, &c) in chars.iter().enumerate().skip(1) {
                match c {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            if substitution_depth(&chars[2..j]) >= MAX_NESTING {
                                return Err(format!(
                                    "$(...) nested more than {MAX_NESTING} deep: netsim shell does not run that"
                                ));
                            }
                            let inner: String = chars[2..j].iter().collect();
                            let text = expand.command(&inner);
                            return Ok((text.trim_end_matches('\n').to_string(), j + 1));
                        }
                    }
                    _ => {}
                }
            }
            Err("unexpected EOF while looking for matching `)'".into())
        }
        Some('{') => {
            let end = chars
                .iter()
                .position(|&c| c == '}')
                .ok_or("bad substitution")?;
            let name: String = chars[2..end].iter().collect();
            Ok((expand.var(&name), end + 1))
        }
        Some(c) if c.is_ascii_alphabetic() || *c == '_' => {
            let len = chars[1..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
                .count();
            let name: String = chars[1..1 + len].iter().collect();
            Ok((expand.var(&name), 1 + len))
        }
        _ => Ok(("$".into(), 1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Variables `A` and `B`; `$(...)` splits the inner line again and joins its words, as the
    /// shell's running of it would print them.
    struct Stub;

    impl Expand for Stub {
        fn var(&self, name: &str) -> String {
            match name {
                "A" => "1".into(),
                "B" => "two words".into(),
                _ => String::new(),
            }
        }

        fn command(&mut self, line: &str) -> String {
            let words: Vec<String> = split(line, self)
                .unwrap_or_default()
                .into_iter()
                .filter_map(|t| match t {
                    Token::Word(w) => Some(w),
                    Token::Pipe => None,
                })
                .collect();
            words.join(" ") + "\n"
        }
    }

    fn words(line: &str) -> Result<Vec<String>, String> {
        Ok(split(line, &mut Stub)?
            .into_iter()
            .map(|t| match t {
                Token::Word(w) => w,
                Token::Pipe => "|".into(),
            })
            .collect())
    }

    #[test]
    fn expansions() {
        // Unlike a POSIX shell, an unquoted expansion is not split into fields: `${B}` stays
        // one word (the lesson's lines quote or do not need it).
        assert_eq!(
            words("x$A ${B} \"$B\" '$A'"),
            Ok(vec![
                "x1".into(),
                "two words".into(),
                "two words".into(),
                "$A".into()
            ])
        );
        assert_eq!(words("a$(b $(c d))e"), Ok(vec!["ab c de".into()]));
        assert_eq!(
            words("$ $1 a|b"),
            Ok(vec![
                "$".into(),
                "$1".into(),
                "a".into(),
                "|".into(),
                "b".into()
            ])
        );
        assert_eq!(words("x ${A"), Err("bad substitution".into()));
        assert!(words("$(a").is_err());
        assert!(words("\"open").is_err());
    }

    #[test]
    fn substitutions_nest_up_to_the_limit() {
        let nested = |depth: usize| format!("{}x{}", "$(".repeat(depth), ")".repeat(depth));
        assert_eq!(words(&nested(MAX_NESTING)), Ok(vec!["x".into()]));
        let too_deep = words(&nested(MAX_NESTING + 1)).expect_err("too deep");
        assert!(too_deep.contains("nested more than 64 deep"), "{too_deep}");
        // Deep enough to overflow the stack without the limit; refused at once instead.
        assert!(words(&nested(100_000)).is_err());
        // Parentheses that are not substitutions, or are quoted, cost nothing.
        let plain = format!("echo {}{}", "(".repeat(1000), ")".repeat(1000));
        assert_eq!(words(&plain).map(|w| w.len()), Ok(2));
        let quoted = format!("'{}'", "$(".repeat(1000));
        assert_eq!(words(&quoted), Ok(vec!["$(".repeat(1000)]));
    }
}
