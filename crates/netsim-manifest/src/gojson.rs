//! Go's `encoding/json` view of JSON syntax: where a JSON manifest stops being JSON and how
//! kubectl words it.
//!
//! kubectl reads a manifest that starts with `{` as a stream of JSON values with Go's
//! `json.Decoder`, and apimachinery's `YAMLOrJSONDecoder` turns a syntax error into
//! `json: offset N: invalid character ...` (N counts the bytes read, the offending one
//! included); a value cut short is Go's bare `unexpected EOF`. This module owns a small
//! emulation of Go's scanner (`encoding/json/scanner.go`) that finds the first such problem.
//! It must never build values: serde_json does that.

/// Where Go's JSON scanner stops on `text` and what it says, once serde_json has found that
/// `text` is not a stream of JSON values. `None` when the scanner finds nothing wrong.
pub(crate) fn syntax_error(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut scanner = Scanner::default();
    let mut in_value = false;
    for (i, &c) in bytes.iter().enumerate() {
        if !in_value {
            if is_space(c) {
                continue;
            }
            in_value = true;
            scanner = Scanner::default();
        }
        match scanner.step(c) {
            Step::Continue => {}
            Step::End => in_value = false,
            Step::Error(context) => {
                return Some(format!(
                    "json: offset {}: invalid character {} {context}",
                    i + 1,
                    quote_char(c)
                ));
            }
        }
    }
    // A number at the very end is complete; anything else open is cut short.
    if in_value && !scanner.number_may_end() {
        return Some("unexpected EOF".to_string());
    }
    None
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

/// Go's `quoteChar`: the offending byte as a Go character literal.
fn quote_char(c: u8) -> String {
    match c {
        b'\'' => r"'\''".to_string(),
        b'"' => "'\"'".to_string(),
        0x07 => r"'\a'".to_string(),
        0x08 => r"'\b'".to_string(),
        0x0c => r"'\f'".to_string(),
        b'\n' => r"'\n'".to_string(),
        b'\r' => r"'\r'".to_string(),
        b'\t' => r"'\t'".to_string(),
        0x0b => r"'\v'".to_string(),
        b'\\' => r"'\\'".to_string(),
        0x20..=0x7e => format!("'{}'", c as char),
        0x00..=0x1f | 0x7f => format!(r"'\x{c:02x}'"),
        // Go quotes `string(rune(c))`: a byte of 0x80 and above stands for U+0080..U+00FF,
        // printed as itself when Unicode calls it printable.
        0xa1..=0xff if c != 0xad => format!("'{}'", char::from(c)),
        _ => format!(r"'\u{c:04x}'"),
    }
}

/// Where in a composite value the scanner is (`parseState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Parse {
    ObjectKey,
    ObjectValue,
    ArrayValue,
}

/// Go's scanner states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum State {
    #[default]
    BeginValue,
    BeginValueOrEmpty,
    BeginStringOrEmpty,
    BeginString,
    EndValue,
    InString,
    InStringEsc,
    InStringEscU(u8),
    Neg,
    One,
    Zero,
    Dot,
    Dot0,
    E,
    ESign,
    E0,
    Literal(&'static [u8], usize, &'static str),
}

#[derive(Debug, Default)]
struct Scanner {
    state: State,
    stack: Vec<Parse>,
}

enum Step {
    Continue,
    /// A top-level value is complete.
    End,
    /// Go's context after `invalid character 'x' `.
    Error(&'static str),
}

/// Go's maximum nesting of arrays and objects (`maxNestingDepth`).
const MAX_NESTING: usize = 10_000;

impl Scanner {
    fn number_may_end(&self) -> bool {
        self.stack.is_empty()
            && matches!(
                self.state,
                State::One | State::Zero | State::Dot0 | State::E0
            )
    }

    fn push(&mut self, p: Parse) -> Result<(), &'static str> {
        self.stack.push(p);
        if self.stack.len() > MAX_NESTING {
            return Err("exceeded max depth");
        }
        Ok(())
    }

    fn step(&mut self, c: u8) -> Step {
        match self.state_step(c) {
            Ok(true) => Step::End,
            Ok(false) => Step::Continue,
            Err(context) => Step::Error(context),
        }
    }

    /// One byte; `Ok(true)` when it completes the top-level value.
    fn state_step(&mut self, c: u8) -> Result<bool, &'static str> {
        use State::*;
        match self.state {
            BeginValueOrEmpty => {
                if is_space(c) {
                    return Ok(false);
                }
                if c == b']' {
                    return self.end_value(c);
                }
                self.state = BeginValue;
                self.state_step(c)
            }
            BeginValue => {
                if is_space(c) {
                    return Ok(false);
                }
                self.state = match c {
                    b'{' => {
                        self.push(Parse::ObjectKey)?;
                        BeginStringOrEmpty
                    }
                    b'[' => {
                        self.push(Parse::ArrayValue)?;
                        BeginValueOrEmpty
                    }
                    b'"' => InString,
                    b'-' => Neg,
                    b'0' => Zero,
                    b'1'..=b'9' => One,
                    b't' => Literal(b"true", 1, "in literal true"),
                    b'f' => Literal(b"false", 1, "in literal false"),
                    b'n' => Literal(b"null", 1, "in literal null"),
                    _ => return Err("looking for beginning of value"),
                };
                Ok(false)
            }
            BeginStringOrEmpty => {
                if is_space(c) {
                    return Ok(false);
                }
                if c == b'}' {
                    if let Some(top) = self.stack.last_mut() {
                        *top = Parse::ObjectValue;
                    }
                    return self.end_value(c);
                }
                self.state = BeginString;
                self.state_step(c)
            }
            BeginString => {
                if is_space(c) {
                    return Ok(false);
                }
                if c == b'"' {
                    self.state = InString;
                    return Ok(false);
                }
                Err("looking for beginning of object key string")
            }
            EndValue => self.end_value(c),
            InString => {
                match c {
                    b'"' => self.state = EndValue,
                    b'\\' => self.state = InStringEsc,
                    0..=0x1f => return Err("in string literal"),
                    _ => {}
                }
                Ok(false)
            }
            InStringEsc => {
                self.state = match c {
                    b'b' | b'f' | b'n' | b'r' | b't' | b'\\' | b'/' | b'"' => InString,
                    b'u' => InStringEscU(0),
                    _ => return Err("in string escape code"),
                };
                Ok(false)
            }
            InStringEscU(n) => {
                if !c.is_ascii_hexdigit() {
                    return Err("in \\u hexadecimal character escape");
                }
                self.state = if n == 3 {
                    InString
                } else {
                    InStringEscU(n + 1)
                };
                Ok(false)
            }
            Neg => {
                self.state = match c {
                    b'0' => Zero,
                    b'1'..=b'9' => One,
                    _ => return Err("in numeric literal"),
                };
                Ok(false)
            }
            One if c.is_ascii_digit() => Ok(false),
            One | Zero => match c {
                b'.' => {
                    self.state = Dot;
                    Ok(false)
                }
                b'e' | b'E' => {
                    self.state = E;
                    Ok(false)
                }
                _ => self.end_value(c),
            },
            Dot => {
                if !c.is_ascii_digit() {
                    return Err("after decimal point in numeric literal");
                }
                self.state = Dot0;
                Ok(false)
            }
            Dot0 => match c {
                b'0'..=b'9' => Ok(false),
                b'e' | b'E' => {
                    self.state = E;
                    Ok(false)
                }
                _ => self.end_value(c),
            },
            E if c == b'+' || c == b'-' => {
                self.state = ESign;
                Ok(false)
            }
            E | ESign => {
                if !c.is_ascii_digit() {
                    return Err("in exponent of numeric literal");
                }
                self.state = E0;
                Ok(false)
            }
            E0 if c.is_ascii_digit() => Ok(false),
            E0 => self.end_value(c),
            Literal(word, i, context) => {
                if word.get(i) != Some(&c) {
                    return Err(literal_context(context, word, i));
                }
                self.state = if i + 1 == word.len() {
                    EndValue
                } else {
                    Literal(word, i + 1, context)
                };
                Ok(false)
            }
        }
    }

    /// Go's `stateEndValue`: what may follow a complete value.
    fn end_value(&mut self, c: u8) -> Result<bool, &'static str> {
        let Some(&top) = self.stack.last() else {
            // The top-level value ended with the byte before; Go's decoder stops there, and the
            // byte starts the next value of the stream.
            self.state = State::BeginValue;
            return match self.state_step(c) {
                Ok(_) if is_space(c) => Ok(true),
                Ok(_) => Ok(false),
                Err(e) => Err(e),
            };
        };
        if is_space(c) {
            self.state = State::EndValue;
            return Ok(false);
        }
        match (top, c) {
            (Parse::ObjectKey, b':') => {
                if let Some(t) = self.stack.last_mut() {
                    *t = Parse::ObjectValue;
                }
                self.state = State::BeginValue;
                Ok(false)
            }
            (Parse::ObjectKey, _) => Err("after object key"),
            (Parse::ObjectValue, b',') => {
                if let Some(t) = self.stack.last_mut() {
                    *t = Parse::ObjectKey;
                }
                self.state = State::BeginString;
                Ok(false)
            }
            (Parse::ObjectValue, b'}') | (Parse::ArrayValue, b']') => {
                self.stack.pop();
                self.state = State::EndValue;
                Ok(self.stack.is_empty())
            }
            (Parse::ObjectValue, _) => Err("after object key:value pair"),
            (Parse::ArrayValue, b',') => {
                self.state = State::BeginValue;
                Ok(false)
            }
            (Parse::ArrayValue, _) => Err("after array element"),
        }
    }
}

/// Go's `in literal true (expecting 'r')`.
fn literal_context(context: &'static str, word: &[u8], i: usize) -> &'static str {
    // The few literal contexts Go has, spelled out so they can be `'static`.
    match (context, word.get(i)) {
        ("in literal true", Some(b'r')) => "in literal true (expecting 'r')",
        ("in literal true", Some(b'u')) => "in literal true (expecting 'u')",
        ("in literal true", _) => "in literal true (expecting 'e')",
        ("in literal false", Some(b'a')) => "in literal false (expecting 'a')",
        ("in literal false", Some(b'l')) => "in literal false (expecting 'l')",
        ("in literal false", Some(b's')) => "in literal false (expecting 's')",
        ("in literal false", _) => "in literal false (expecting 'e')",
        ("in literal null", Some(b'u')) => "in literal null (expecting 'u')",
        (_, _) => "in literal null (expecting 'l')",
    }
}

#[cfg(test)]
mod tests {
    use super::syntax_error;

    #[test]
    fn words_errors_like_go() {
        // Observed with kubectl v1.32 (`json: offset N:` counts the bad byte).
        assert_eq!(
            syntax_error("{\n  // x\n}").as_deref(),
            Some(
                "json: offset 5: invalid character '/' looking for beginning of object key string"
            )
        );
        assert_eq!(
            syntax_error("{\"a\": 1,}").as_deref(),
            Some(
                "json: offset 9: invalid character '}' looking for beginning of object key string"
            )
        );
        assert_eq!(
            syntax_error("{\"a\": [1").as_deref(),
            Some("unexpected EOF")
        );
        assert_eq!(
            syntax_error("{\"a\" 1}").as_deref(),
            Some("json: offset 6: invalid character '1' after object key")
        );
        assert_eq!(
            syntax_error("{\"a\": 1 \"b\": 2}").as_deref(),
            Some("json: offset 9: invalid character '\"' after object key:value pair")
        );
        assert_eq!(
            syntax_error("{\"a\": tru}").as_deref(),
            Some("json: offset 10: invalid character '}' in literal true (expecting 'e')")
        );
        assert_eq!(
            syntax_error("{} x").as_deref(),
            Some("json: offset 4: invalid character 'x' looking for beginning of value")
        );
        assert_eq!(syntax_error("{\"a\": 1} {\"b\": 2}"), None);
    }
}
