//! go-yaml v2's view of YAML syntax: which TABs it rejects and how it words syntax errors.
//!
//! kubectl converts YAML to JSON with go-yaml v2 (through sigs.k8s.io/yaml), whose scanner is
//! stricter about TABs than YAML 1.2 parsers and words its errors in libyaml's terms. This module
//! owns a small line-based emulation of the parts of `scannerc.go` that decide on TABs
//! (`yaml_parser_scan_to_next_token`, `yaml_parser_scan_plain_scalar`,
//! `yaml_parser_scan_block_scalar_breaks`) and the translation of serde-saphyr's messages into
//! go-yaml's wording and line numbering. It must never build values: the YAML library does that.

use crate::yaml::{Pos, SyntaxError, SyntaxKind};

/// go-yaml's message for a TAB where a token must start.
pub const CANNOT_START_TOKEN: &str = "found character that cannot start any token";
/// go-yaml's message for a TAB in the indentation of a plain scalar's continuation line.
pub const TAB_VIOLATES_INDENTATION: &str = "found a tab character that violates indentation";
/// go-yaml's message for a TAB in a block scalar's indentation.
pub const TAB_IN_BLOCK_SCALAR: &str =
    "found a tab character where an indentation space is expected";

/// Scanner state carried from one line to the next.
struct State {
    /// go-yaml's indentation stack; the top is `parser.indent`.
    indents: Vec<i64>,
    /// Depth of open `[`/`{` (TABs are allowed inside flow collections).
    flow: usize,
    /// An open quoted scalar continuing on the next line.
    quoted: Option<char>,
    /// An open block scalar (`|`/`>`): its content indentation once known.
    block: Option<Option<usize>>,
    /// The previous content ended with a plain scalar that may continue; the value is the
    /// scalar's `indent` (`parser.indent + 1`).
    plain: Option<i64>,
}

impl State {
    fn top(&self) -> i64 {
        self.indents.last().copied().unwrap_or(-1)
    }
    fn roll(&mut self, column: usize) {
        let c = column as i64;
        if self.top() < c {
            self.indents.push(c);
        }
    }
    fn unroll(&mut self, column: usize) {
        let c = column as i64;
        while self.top() > c && self.indents.len() > 1 {
            self.indents.pop();
        }
    }
}

fn scanner_error(message: &str, line0: usize, col0: usize) -> SyntaxError {
    // go-yaml prints `problem_mark.line + 1` for scanner errors, or no line at all when the
    // problem is on the first line (its `fail()` tests `line != 0` before adding one).
    let go_line = if line0 == 0 { None } else { Some(line0 + 1) };
    SyntaxError {
        message: message.to_string(),
        go_line,
        pos: Pos {
            line: line0 + 1,
            column: col0 + 1,
        },
        kind: SyntaxKind::Tab,
    }
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// Finds the first TAB go-yaml would reject in `text` (one document), if any.
pub(crate) fn check_tabs(text: &str) -> Option<SyntaxError> {
    if !text.contains('\t') {
        return None;
    }
    let mut st = State {
        indents: vec![-1],
        flow: 0,
        quoted: None,
        block: None,
        plain: None,
    };
    for (ln, line) in text.lines().enumerate() {
        let chars: Vec<char> = line.chars().collect();
        let spaces = chars.iter().take_while(|c| **c == ' ').count();
        let next = chars.get(spaces).copied();

        if let Some(indent) = st.block {
            match (indent, next) {
                (None, Some('\t')) => return Some(scanner_error(TAB_IN_BLOCK_SCALAR, ln, spaces)),
                (Some(i), Some('\t')) if spaces < i => {
                    return Some(scanner_error(TAB_IN_BLOCK_SCALAR, ln, spaces));
                }
                (_, None) => continue,
                (None, Some(_)) => {
                    let min = (st.top() + 1).max(1);
                    if spaces as i64 >= min {
                        st.block = Some(Some(spaces));
                        continue;
                    }
                    st.block = None;
                }
                (Some(i), Some(_)) => {
                    if spaces >= i {
                        continue;
                    }
                    st.block = None;
                }
            }
        }

        if let Some(q) = st.quoted {
            let Some(start) = find_quote_end(&chars, 0, q) else {
                continue;
            };
            st.quoted = None;
            if let Err(e) = scan_block(&chars, start, false, ln, &mut st) {
                return Some(e);
            }
            continue;
        }
        if st.flow > 0 {
            let end = scan_flow(&chars, 0, &mut st);
            if st.flow == 0
                && let Err(e) = scan_block(&chars, end, false, ln, &mut st)
            {
                return Some(e);
            }
            continue;
        }

        match next {
            Some('\t') => {
                return match st.plain {
                    Some(indent) if (spaces as i64) < indent => {
                        Some(scanner_error(TAB_VIOLATES_INDENTATION, ln, spaces))
                    }
                    // The TAB is a blank inside a plain scalar that goes on: go-yaml joins the
                    // lines; whatever follows is the YAML library's business.
                    Some(_) => continue,
                    None => Some(scanner_error(CANNOT_START_TOKEN, ln, spaces)),
                };
            }
            None => continue,
            Some('#') => {
                st.plain = None;
                continue;
            }
            Some(_) => {}
        }
        if let Some(indent) = st.plain
            && spaces as i64 >= indent
        {
            // A continuation line of a multi-line plain scalar.
            continue;
        }
        st.plain = None;
        st.unroll(spaces);
        if let Err(e) = scan_block(&chars, spaces, true, ln, &mut st) {
            return Some(e);
        }
    }
    None
}

/// Index just past the closing quote `q` searching from `from`, if it is on this line.
fn find_quote_end(chars: &[char], from: usize, q: char) -> Option<usize> {
    let mut i = from;
    while i < chars.len() {
        let c = chars[i];
        if q == '\'' && c == '\'' {
            if chars.get(i + 1) == Some(&'\'') {
                i += 2;
                continue;
            }
            return Some(i + 1);
        }
        if q == '"' {
            if c == '\\' {
                i += 2;
                continue;
            }
            if c == '"' {
                return Some(i + 1);
            }
        }
        i += 1;
    }
    None
}

/// Scans a flow collection from `from` (inside or at its opening bracket); returns the index
/// after the point where the flow depth returns to zero (or the line's end).
fn scan_flow(chars: &[char], from: usize, st: &mut State) -> usize {
    let mut i = from;
    while i < chars.len() {
        match chars[i] {
            '[' | '{' => st.flow += 1,
            ']' | '}' => {
                st.flow = st.flow.saturating_sub(1);
                if st.flow == 0 {
                    return i + 1;
                }
            }
            '"' | '\'' => match find_quote_end(chars, i + 1, chars[i]) {
                Some(end) => {
                    i = end;
                    continue;
                }
                None => {
                    // A quoted scalar inside a flow collection spanning lines: treat the rest
                    // of the line as consumed; TABs are allowed in flow context anyway.
                    return chars.len();
                }
            },
            '#' if i > 0 && is_blank(chars[i - 1]) => return chars.len(),
            _ => {}
        }
        i += 1;
    }
    chars.len()
}

/// Scans the rest of a line in block context starting at `from`. `simple_key_allowed` says
/// whether the scanner is at a point where a key may start (line start, after `-`, `?`, or a
/// `:` that follows no simple key), which is exactly where go-yaml refuses to skip a TAB. After
/// a simple key's `:` no key may follow (`yaml_parser_fetch_value`), so `name:<TAB>web` is
/// fine.
fn scan_block(
    chars: &[char],
    from: usize,
    simple_key_allowed: bool,
    ln: usize,
    st: &mut State,
) -> Result<(), SyntaxError> {
    let mut i = from;
    let mut allow = simple_key_allowed;
    let blank_or_end = |j: usize| chars.get(j).is_none_or(|c| is_blank(*c));
    loop {
        while i < chars.len() && (chars[i] == ' ' || (chars[i] == '\t' && !allow)) {
            i += 1;
        }
        if i >= chars.len() {
            return Ok(());
        }
        let c = chars[i];
        if c == '\t' {
            return Err(scanner_error(CANNOT_START_TOKEN, ln, i));
        }
        if c == '#' {
            return Ok(());
        }
        if i == 0 && chars.len() >= 3 && blank_or_end(3) {
            let head: String = chars[..3].iter().collect();
            if head == "---" || head == "..." {
                st.indents.truncate(1);
                i = 3;
                allow = false;
                continue;
            }
        }
        match c {
            '-' | '?' if blank_or_end(i + 1) => {
                st.roll(i);
                i += 1;
                allow = true;
            }
            ':' if blank_or_end(i + 1) => {
                i += 1;
                allow = true;
            }
            '|' | '>' => {
                st.block = Some(None);
                return Ok(());
            }
            '%' if i == 0 => return Ok(()),
            '"' | '\'' => {
                let key_col = i;
                match find_quote_end(chars, i + 1, c) {
                    None => {
                        st.quoted = Some(c);
                        return Ok(());
                    }
                    Some(end) => {
                        let mut k = end;
                        while k < chars.len() && is_blank(chars[k]) {
                            k += 1;
                        }
                        if chars.get(k) == Some(&':') && blank_or_end(k + 1) {
                            st.roll(key_col);
                            i = k + 1;
                            allow = false;
                        } else {
                            i = end;
                            allow = false;
                        }
                    }
                }
            }
            '[' | '{' => {
                let key_col = i;
                let end = scan_flow(chars, i, st);
                if st.flow > 0 {
                    return Ok(());
                }
                let mut k = end;
                while k < chars.len() && is_blank(chars[k]) {
                    k += 1;
                }
                if chars.get(k) == Some(&':') && blank_or_end(k + 1) {
                    st.roll(key_col);
                    i = k + 1;
                    allow = false;
                } else {
                    i = end;
                    allow = false;
                }
            }
            '&' | '!' | '*' => {
                while i < chars.len() && !is_blank(chars[i]) {
                    i += 1;
                }
                allow = false;
            }
            _ => {
                // A plain scalar: it ends at `: ` (then it was a key), at ` #`, or at the end
                // of the line (then it may continue on the next line).
                let key_col = i;
                let mut j = i;
                loop {
                    while j < chars.len() && !is_blank(chars[j]) {
                        if chars[j] == ':' && blank_or_end(j + 1) {
                            break;
                        }
                        j += 1;
                    }
                    if j < chars.len() && chars[j] == ':' {
                        st.roll(key_col);
                        i = j + 1;
                        allow = false;
                        break;
                    }
                    let mut k = j;
                    while k < chars.len() && is_blank(chars[k]) {
                        k += 1;
                    }
                    if k >= chars.len() {
                        st.plain = Some(st.top() + 1);
                        return Ok(());
                    }
                    if chars[k] == '#' {
                        return Ok(());
                    }
                    j = k;
                }
            }
        }
    }
}

/// Turns a serde-saphyr error on `text` into go-yaml's wording and line numbering, as well as
/// the YAML library allows.
pub(crate) fn translate(err: &serde_saphyr::Error, text: &str) -> SyntaxError {
    let loc = err.location();
    let (line, column) = match loc {
        Some(l) => (
            usize::try_from(l.line()).unwrap_or(0),
            usize::try_from(l.column()).unwrap_or(0),
        ),
        None => (0, 0),
    };
    let raw = err.without_snippet().to_string();
    let detail = strip_location(&raw);
    let pos = Pos {
        line: line.max(1),
        column: column.max(1),
    };
    let line0 = pos.line - 1;
    // Scanner errors: go-yaml prints the 1-based line; parser errors: the 0-based line of the
    // offending token (libyaml marks are 0-based and go-yaml only adds one for scanner errors).
    let scanner = |msg: &str, kind: SyntaxKind| SyntaxError {
        message: msg.to_string(),
        go_line: if line0 == 0 { None } else { Some(line0 + 1) },
        pos,
        kind,
    };
    let parser = |msg: &str, kind: SyntaxKind| SyntaxError {
        message: msg.to_string(),
        go_line: if line0 == 0 { None } else { Some(line0) },
        pos,
        kind,
    };
    let lower = detail.to_ascii_lowercase();
    let _ = text;
    if lower.contains("tab") {
        return scanner(CANNOT_START_TOKEN, SyntaxKind::Tab);
    }
    if lower.contains("mapping values are not allowed")
        || lower.contains("simple key expected")
        || lower.contains("invalid indentation")
    {
        return scanner(
            "mapping values are not allowed in this context",
            SyntaxKind::Indentation,
        );
    }
    if lower.contains("did not find expected key") {
        return parser("did not find expected key", SyntaxKind::Indentation);
    }
    if lower.contains("did not find expected '-' indicator") {
        return parser(
            "did not find expected '-' indicator",
            SyntaxKind::Indentation,
        );
    }
    // Things left open at the end of the document: go-yaml reports them where the stream ends
    // (its last line break counts), a scanner error for a quote (printed 1-based) and a parser
    // error for a bracket (printed 0-based); serde-saphyr points at the opening instead, which
    // is kept for the hint.
    let end_line0 = text.matches('\n').count();
    if lower.contains("unclosed quote") {
        return SyntaxError {
            message: "found unexpected end of stream".to_string(),
            go_line: (end_line0 != 0).then_some(end_line0 + 1),
            pos,
            kind: SyntaxKind::Unclosed,
        };
    }
    if let Some(rest) = lower.strip_prefix("unclosed bracket '") {
        let close = if rest.starts_with('{') { '}' } else { ']' };
        return SyntaxError {
            message: format!("did not find expected ',' or '{close}'"),
            go_line: (end_line0 != 0).then_some(end_line0),
            pos,
            kind: SyntaxKind::Unclosed,
        };
    }
    // libyaml's parser messages carry a context go-yaml never prints.
    if let Some(idx) = detail.find("did not find expected ',' or ") {
        return parser(&detail[idx..], SyntaxKind::Unclosed);
    }
    if lower.contains("budget breached")
        || lower.contains("recursion limit")
        || lower.contains("nesting limit")
    {
        // `scan` refuses these first; this only backs it up, in netsim's words.
        let message = if lower.contains("depth") || !lower.contains("budget") {
            format!("exceeded max depth of {}", crate::limits::MAX_DEPTH)
        } else {
            "document is too large once its aliases are expanded (netsim's limit)".to_string()
        };
        return SyntaxError {
            message,
            go_line: Some(pos.line),
            pos,
            kind: SyntaxKind::Size,
        };
    }
    if lower.contains("duplicate") {
        return SyntaxError {
            message: detail,
            go_line: Some(pos.line),
            pos,
            kind: SyntaxKind::DuplicateKey,
        };
    }
    SyntaxError {
        message: detail,
        go_line: Some(pos.line),
        pos,
        kind: SyntaxKind::Other,
    }
}

/// Drops serde-saphyr's `line N column M: ` / `error: ` decorations from a message.
fn strip_location(msg: &str) -> String {
    let first = msg.lines().next().unwrap_or("").trim();
    let mut s = first.strip_prefix("error: ").unwrap_or(first);
    if let Some(rest) = s.strip_prefix("line ")
        && let Some(idx) = rest.find(": ")
    {
        s = &rest[idx + 2..];
    }
    if let Some(idx) = s.find(" at line ") {
        s = &s[..idx];
    }
    s.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(text: &str) -> Option<(String, usize)> {
        check_tabs(text).map(|e| (e.message, e.pos.line))
    }

    #[test]
    fn accepts_tabs_go_yaml_accepts() {
        assert_eq!(
            msg("data:\n  script: |\n    echo\ta\n    \tindented\n"),
            None
        );
        assert_eq!(msg("a: \"x\ty\"\nb: web\t\n"), None);
        assert_eq!(msg("args: [\"a\",\t\"b\"]\n"), None);
        assert_eq!(msg("a: b # note\twith tab\n"), None);
        assert_eq!(msg("a: \"x\"\t\n"), None);
        // After a simple key's colon go-yaml skips TABs (kubectl v1.32 applies these).
        assert_eq!(msg("a:\tb\n"), None);
        assert_eq!(msg("a:\n  b:\tc\n"), None);
        assert_eq!(msg("\"a\":\tb\n"), None);
    }

    #[test]
    fn rejects_tabs_like_go_yaml() {
        let tok = CANNOT_START_TOKEN.to_string();
        let ind = TAB_VIOLATES_INDENTATION.to_string();
        assert_eq!(msg("metadata:\n\tname: web\n"), Some((tok.clone(), 2)));
        assert_eq!(msg("kind: Service\n\tname: web\n"), Some((ind.clone(), 2)));
        assert_eq!(msg("a:\n  - name: x\n\t  value: y\n"), Some((ind, 3)));
        assert_eq!(msg("a: \"q\"\n\tb: c\n"), Some((tok.clone(), 2)));
        assert_eq!(msg("-\tx\n"), Some((tok, 1)));
        assert_eq!(
            msg("a: |\n\tx\n"),
            Some((TAB_IN_BLOCK_SCALAR.to_string(), 2))
        );
    }
}
