//! `-o yaml` and `-o json` exactly as kubectl prints them.
//!
//! `-o yaml` goes through sigs.k8s.io/yaml, i.e. go-yaml v2 (v2.4 semantics): keys sorted,
//! 2-space indent, sequences "indentless" under a mapping key, `{}`/`[]` for empty
//! collections, strings double-quoted when they would otherwise read back as another type
//! (`"1002"`, `"true"`, `"2024-01-01T23:58:00Z"`, `""`), single-quoted when plain style is not
//! allowed (`'*'`, leading/trailing spaces, `: `), literal blocks (`|`, `|-`, `|+`) for
//! multi-line strings, and plain/quoted scalars folded at spaces past column 80.
//! `-o json` is Go's `json.MarshalIndent(obj, "", "    ")` plus a newline (HTML-escaped).
//!
//! This module owns the text encodings only; it must never reorder, add or drop fields (the
//! caller strips `managedFields`).

use serde_json::{Map, Value};

const BEST_WIDTH: usize = 80;
const INDENT: usize = 2;

/// One object (or any JSON value) as kubectl's `-o yaml` prints it, ending in a newline.
pub fn to_yaml(value: &Value) -> String {
    let mut e = Emitter::default();
    e.node(value, 0, Ctx::Document);
    if !e.out.ends_with('\n') {
        e.out.push('\n');
    }
    e.out
}

/// kubectl's `v1/List` wrapper around several objects (`get -o yaml` without a name).
pub fn list_value(items: Vec<Value>) -> Value {
    let mut metadata = Map::new();
    metadata.insert("resourceVersion".into(), Value::String(String::new()));
    let mut list = Map::new();
    list.insert("apiVersion".into(), Value::String("v1".into()));
    list.insert("items".into(), Value::Array(items));
    list.insert("kind".into(), Value::String("List".into()));
    list.insert("metadata".into(), Value::Object(metadata));
    Value::Object(list)
}

/// `-o yaml` of several objects: the `kind: List` wrapper.
pub fn list_to_yaml(items: Vec<Value>) -> String {
    to_yaml(&list_value(items))
}

/// One object as kubectl's `-o json` prints it: 4-space indent, keys sorted, `<`, `>`, `&`
/// escaped as Go does, trailing newline.
pub fn to_json(value: &Value) -> String {
    let mut out = String::new();
    json_value(&mut out, value, 0);
    out.push('\n');
    out
}

/// `-o json` of several objects: the `kind: List` wrapper.
pub fn list_to_json(items: Vec<Value>) -> String {
    to_json(&list_value(items))
}

// ---------------------------------------------------------------------------------------------
// YAML

#[derive(Clone, Copy, PartialEq, Eq)]
enum Ctx {
    /// The document root.
    Document,
    /// A mapping value: we are right after `key:`.
    MapValue,
    /// A sequence item: we are right after `- `.
    SeqItem,
}

#[derive(Default)]
struct Emitter {
    out: String,
    /// Chars on the current line.
    column: usize,
}

impl Emitter {
    fn push(&mut self, s: &str) {
        for c in s.chars() {
            self.out.push(c);
            if c == '\n' {
                self.column = 0;
            } else {
                self.column += 1;
            }
        }
    }

    fn newline_indent(&mut self, indent: usize) {
        self.push("\n");
        for _ in 0..indent {
            self.push(" ");
        }
    }

    /// Emits `value` whose container sits at `indent` (the indent of its key or dash).
    fn node(&mut self, value: &Value, indent: usize, ctx: Ctx) {
        match value {
            Value::Object(map) if !map.is_empty() => self.mapping(map, indent, ctx),
            Value::Array(items) if !items.is_empty() => self.sequence(items, indent, ctx),
            Value::Object(_) => self.inline("{}", ctx),
            Value::Array(_) => self.inline("[]", ctx),
            Value::Null => self.inline("null", ctx),
            Value::Bool(b) => self.inline(if *b { "true" } else { "false" }, ctx),
            Value::Number(n) => self.inline(&number_text(n), ctx),
            Value::String(s) => {
                if ctx != Ctx::Document {
                    self.push(" ");
                }
                self.string(s, indent + INDENT, true);
            }
        }
    }

    fn inline(&mut self, text: &str, ctx: Ctx) {
        if ctx != Ctx::Document {
            self.push(" ");
        }
        self.push(text);
    }

    fn mapping(&mut self, map: &Map<String, Value>, indent: usize, ctx: Ctx) {
        // Keys sorted as go-yaml sorts map keys; serde_json's map is already sorted, but sort
        // anyway so a preserve_order build elsewhere in the workspace cannot change output.
        let mut keys: Vec<&String> = map.keys().collect();
        keys.sort_by(|a, b| key_order(a, b));
        let inner = match ctx {
            Ctx::Document => 0,
            Ctx::MapValue => indent + INDENT,
            Ctx::SeqItem => indent + INDENT,
        };
        for (i, key) in keys.into_iter().enumerate() {
            match (ctx, i) {
                (Ctx::Document, 0) => {}
                (Ctx::SeqItem, 0) => self.push(" "),
                _ => self.newline_indent(inner),
            }
            self.string(key, inner, false);
            self.push(":");
            if let Some(v) = map.get(key) {
                self.node(v, inner, Ctx::MapValue);
            }
        }
    }

    fn sequence(&mut self, items: &[Value], indent: usize, ctx: Ctx) {
        // Sequences under a mapping key are indentless: `- ` at the key's indent.
        let dash_indent = match ctx {
            Ctx::Document => 0,
            Ctx::MapValue => indent,
            Ctx::SeqItem => indent + INDENT,
        };
        for (i, item) in items.iter().enumerate() {
            match (ctx, i) {
                (Ctx::Document, 0) => {}
                (Ctx::SeqItem, 0) => self.push(" "),
                _ => self.newline_indent(dash_indent),
            }
            self.push("-");
            self.node(item, dash_indent, Ctx::SeqItem);
        }
    }

    /// A string scalar; `indent` is where continuation lines go; `value_ctx` is false for keys
    /// (simple-key context: no folding, no block scalars).
    fn string(&mut self, s: &str, indent: usize, value_ctx: bool) {
        let a = analyze(s);
        let resolves_to_str = resolves_to_string(s);
        let mut style = if s.contains('\n') {
            Style::Literal
        } else if resolves_to_str {
            Style::Plain
        } else {
            Style::Double
        };
        if style == Style::Plain && (!a.block_plain_allowed || (s.is_empty() && !value_ctx)) {
            style = Style::Single;
        }
        if style == Style::Single && !a.single_quoted_allowed {
            style = Style::Double;
        }
        if style == Style::Literal && (!a.block_allowed || !value_ctx) {
            style = Style::Double;
        }
        match style {
            Style::Plain => self.plain(s, indent, value_ctx),
            Style::Single => self.single(s, indent, value_ctx),
            Style::Double => self.double(s, indent, value_ctx),
            Style::Literal => self.literal(s, indent),
        }
    }

    fn plain(&mut self, s: &str, indent: usize, allow_breaks: bool) {
        let chars: Vec<char> = s.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && chars.get(i + 1) != Some(&' ')
                {
                    self.newline_indent(indent);
                } else {
                    self.push(" ");
                }
                spaces = true;
            } else {
                self.push_char(c);
                spaces = false;
            }
        }
    }

    fn single(&mut self, s: &str, indent: usize, allow_breaks: bool) {
        self.push("'");
        let chars: Vec<char> = s.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && i > 0
                    && i + 1 < chars.len()
                    && chars.get(i + 1) != Some(&' ')
                {
                    self.newline_indent(indent);
                } else {
                    self.push(" ");
                }
                spaces = true;
            } else {
                if c == '\'' {
                    self.push("'");
                }
                self.push_char(c);
                spaces = false;
            }
        }
        self.push("'");
    }

    fn double(&mut self, s: &str, indent: usize, allow_breaks: bool) {
        self.push("\"");
        let chars: Vec<char> = s.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if !is_printable(c) || c == '\u{feff}' || is_break(c) || c == '"' || c == '\\' {
                self.push("\\");
                let esc = match c {
                    '\0' => "0".to_string(),
                    '\u{7}' => "a".to_string(),
                    '\u{8}' => "b".to_string(),
                    '\t' => "t".to_string(),
                    '\n' => "n".to_string(),
                    '\u{b}' => "v".to_string(),
                    '\u{c}' => "f".to_string(),
                    '\r' => "r".to_string(),
                    '\u{1b}' => "e".to_string(),
                    '"' => "\"".to_string(),
                    '\\' => "\\".to_string(),
                    '\u{85}' => "N".to_string(),
                    '\u{a0}' => "_".to_string(),
                    '\u{2028}' => "L".to_string(),
                    '\u{2029}' => "P".to_string(),
                    c if (c as u32) <= 0xff => format!("x{:02X}", c as u32),
                    c if (c as u32) <= 0xffff => format!("u{:04X}", c as u32),
                    c => format!("U{:08X}", c as u32),
                };
                self.push(&esc);
                spaces = false;
            } else if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && i != 0
                    && i + 1 != chars.len()
                {
                    self.newline_indent(indent);
                    if chars.get(i + 1) == Some(&' ') {
                        self.push("\\");
                    }
                } else {
                    self.push(" ");
                }
                spaces = true;
            } else {
                self.push_char(c);
                spaces = false;
            }
        }
        self.push("\"");
    }

    fn literal(&mut self, s: &str, indent: usize) {
        self.push("|");
        let chars: Vec<char> = s.chars().collect();
        if chars.first().is_some_and(|&c| c == ' ' || is_break(c)) {
            self.push(&INDENT.to_string());
        }
        match chars.last() {
            None => self.push("-"),
            Some(&c) if !is_break(c) => self.push("-"),
            Some(_) if chars.len() == 1 => self.push("+"),
            Some(_) => {
                if is_break(chars[chars.len() - 2]) {
                    self.push("+");
                }
            }
        }
        self.push("\n");
        let mut at_line_start = true;
        for &c in &chars {
            if is_break(c) {
                self.push("\n");
                at_line_start = true;
            } else {
                if at_line_start {
                    for _ in 0..indent {
                        self.push(" ");
                    }
                    at_line_start = false;
                }
                self.push_char(c);
            }
        }
        // The emitter ends the block at the last break it wrote; drop it so the caller's
        // newline logic stays uniform.
        if self.out.ends_with('\n') {
            self.out.pop();
            self.column = self
                .out
                .rsplit('\n')
                .next()
                .map_or(0, |l| l.chars().count());
        }
    }

    fn push_char(&mut self, c: char) {
        let mut buf = [0u8; 4];
        self.push(c.encode_utf8(&mut buf));
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

/// go-yaml v2's `keyList.Less` for string keys: rune by rune; at the first difference a letter
/// sorts after a non-letter, two letters compare by code point, and otherwise the digit runs
/// starting there compare numerically (then by run length, then by code point).
fn key_order(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    let mut i = 0;
    while i < ar.len() && i < br.len() {
        if ar[i] == br[i] {
            i += 1;
            continue;
        }
        let al = ar[i].is_alphabetic();
        let bl = br[i].is_alphabetic();
        if al && bl {
            return ar[i].cmp(&br[i]);
        }
        if al || bl {
            return if bl {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        let (mut an, mut bn): (u128, u128) = (0, 0);
        if ar[i] == '0' || br[i] == '0' {
            let mut j = i;
            while j > 0 && ar[j - 1].is_ascii_digit() {
                if ar[j - 1] != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
                j -= 1;
            }
        }
        let mut ai = i;
        while ai < ar.len() && ar[ai].is_ascii_digit() {
            an = an
                .saturating_mul(10)
                .saturating_add(u128::from(ar[ai] as u8 - b'0'));
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && br[bi].is_ascii_digit() {
            bn = bn
                .saturating_mul(10)
                .saturating_add(u128::from(br[bi] as u8 - b'0'));
            bi += 1;
        }
        if an != bn {
            return an.cmp(&bn);
        }
        if ai != bi {
            return ai.cmp(&bi);
        }
        return ar[i].cmp(&br[i]);
    }
    ar.len().cmp(&br.len())
}

struct Analysis {
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

fn is_printable(c: char) -> bool {
    let v = c as u32;
    v == 0x0a
        || (0x20..=0x7e).contains(&v)
        || v == 0x85
        || (0xa0..=0xd7ff).contains(&v)
        || ((0xe000..=0xfffd).contains(&v) && v != 0xfeff)
        || (0x10000..=0x10ffff).contains(&v)
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_blank(c: Option<&char>) -> bool {
    matches!(c, None | Some(' ') | Some('\t')) || c.is_some_and(|&c| is_break(c))
}

/// go-yaml's `yaml_emitter_analyze_scalar`, reduced to the block-context flags we need.
fn analyze(s: &str) -> Analysis {
    if s.is_empty() {
        return Analysis {
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    let chars: Vec<char> = s.chars().collect();
    let mut block_indicators = false;
    let mut special = false;
    let mut line_breaks = false;
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) =
        (false, false, false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut previous_space, mut previous_break) = (false, false);
    if s.starts_with("---") || s.starts_with("...") {
        block_indicators = true;
    }
    let mut preceded_by_whitespace = true;
    for (i, &c) in chars.iter().enumerate() {
        let followed_by_whitespace = is_blank(chars.get(i + 1));
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => block_indicators = true,
                '?' | ':' | '-' if followed_by_whitespace => block_indicators = true,
                _ => {}
            }
        } else {
            match c {
                ':' if followed_by_whitespace => block_indicators = true,
                '#' if preceded_by_whitespace => block_indicators = true,
                _ => {}
            }
        }
        if !is_printable(c) {
            special = true;
        }
        if c == ' ' {
            if i == 0 {
                leading_space = true;
            }
            if i + 1 == chars.len() {
                trailing_space = true;
            }
            if previous_break {
                break_space = true;
            }
            previous_space = true;
            previous_break = false;
        } else if is_break(c) {
            line_breaks = true;
            if i == 0 {
                leading_break = true;
            }
            if i + 1 == chars.len() {
                trailing_break = true;
            }
            if previous_space {
                space_break = true;
            }
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_whitespace = is_blank(Some(&c));
    }
    let mut a = Analysis {
        block_plain_allowed: true,
        single_quoted_allowed: true,
        block_allowed: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.block_plain_allowed = false;
    }
    if trailing_space {
        a.block_allowed = false;
    }
    if break_space {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || special {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
        a.block_allowed = false;
    }
    if line_breaks || block_indicators {
        a.block_plain_allowed = false;
    }
    a
}

/// Whether go-yaml v2's `resolve` reads the plain scalar `s` back as a string (and it is not a
/// base-60 float); if not, the encoder double-quotes it.
fn resolves_to_string(s: &str) -> bool {
    const SPECIAL: [&str; 38] = [
        "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", "n", "N", "no",
        "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF", "", "~", "null", "Null",
        "NULL", ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf",
        "<<",
    ];
    if SPECIAL.contains(&s) || s == "-.Inf" || s == "-.INF" {
        return false;
    }
    if is_base60_float(s) {
        return false;
    }
    let Some(first) = s.chars().next() else {
        return false;
    };
    match first {
        '.' => !is_go_float(s),
        '0'..='9' | '+' | '-' => {
            if first.is_ascii_digit() && is_timestamp(s) {
                return false;
            }
            let plain: String = s.chars().filter(|&c| c != '_').collect();
            if is_go_int(&plain) {
                return false;
            }
            if is_yaml_style_float(&plain) {
                return false;
            }
            let bin = plain
                .strip_prefix("0b")
                .or_else(|| plain.strip_prefix("-0b"));
            if let Some(b) = bin
                && !b.is_empty()
                && b.chars().all(|c| c == '0' || c == '1')
            {
                return false;
            }
            true
        }
        _ => true,
    }
}

/// `strconv.ParseInt(s, 0, 64)` or `ParseUint` succeeds (sign, `0x`/`0o`/`0b`/leading-0 octal).
fn is_go_int(s: &str) -> bool {
    let body = s
        .strip_prefix('+')
        .or_else(|| s.strip_prefix('-'))
        .unwrap_or(s);
    if body.is_empty() {
        return false;
    }
    let (digits, radix) =
        if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
            (h, 16)
        } else if let Some(o) = body.strip_prefix("0o").or_else(|| body.strip_prefix("0O")) {
            (o, 8)
        } else if let Some(b) = body.strip_prefix("0b").or_else(|| body.strip_prefix("0B")) {
            (b, 2)
        } else if body.len() > 1 && body.starts_with('0') {
            (&body[1..], 8)
        } else {
            (body, 10)
        };
    !digits.is_empty()
        && u128::from_str_radix(digits, radix).is_ok_and(|v| v <= u128::from(u64::MAX))
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn is_yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            digits(&mut i);
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// `strconv.ParseFloat` on a string starting with `.` (only decimal forms can).
fn is_go_float(s: &str) -> bool {
    let plain: String = s.chars().filter(|&c| c != '_').collect();
    is_yaml_style_float(&plain) && !s.contains('_')
}

/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`
fn is_base60_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    if i >= b.len() || !b[i].is_ascii_digit() {
        return false;
    }
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while i < b.len() && b[i] == b':' {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() && i - start < 2 {
            i += 1;
        }
        let group = &s[start..i];
        let ok = match group.len() {
            1 => true,
            2 => group.as_bytes()[0] <= b'5',
            _ => false,
        };
        if !ok {
            return false;
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

/// go-yaml's `parseTimestamp`: `YYYY-M-D`, optionally followed by `T`/`t`/space and
/// `H:M:S[.frac]` and, for `T`/`t`, an optional `Z` or `±HH:MM` zone.
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let num = |i: &mut usize, min: usize, max: usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() && *i - start < max {
            *i += 1;
        }
        let n = *i - start;
        n >= min
    };
    let mut i = 0;
    if !num(&mut i, 4, 4) || i >= b.len() || b[i] != b'-' {
        return false;
    }
    i += 1;
    if !num(&mut i, 1, 2) || i >= b.len() || b[i] != b'-' {
        return false;
    }
    i += 1;
    if !num(&mut i, 1, 2) {
        return false;
    }
    if i == b.len() {
        return true;
    }
    let sep = b[i];
    if sep != b'T' && sep != b't' && sep != b' ' {
        return false;
    }
    i += 1;
    for k in 0..3 {
        if !num(&mut i, 1, 2) {
            return false;
        }
        if k < 2 {
            if i >= b.len() || b[i] != b':' {
                return false;
            }
            i += 1;
        }
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if !num(&mut i, 1, 9) {
            return false;
        }
    }
    if i == b.len() {
        return true;
    }
    if sep == b' ' {
        return false;
    }
    if b[i] == b'Z' {
        return i + 1 == b.len();
    }
    if b[i] == b'+' || b[i] == b'-' {
        i += 1;
        if !num(&mut i, 2, 2) || i >= b.len() || b[i] != b':' {
            return false;
        }
        i += 1;
        return num(&mut i, 2, 2) && i == b.len();
    }
    false
}

/// Go's formatting of a JSON number after a YAML round trip: integers verbatim, floats as
/// `strconv.FormatFloat(f, 'g', -1, 64)`.
fn number_text(n: &serde_json::Number) -> String {
    if n.is_i64() || n.is_u64() {
        return n.to_string();
    }
    match n.as_f64() {
        Some(f) => go_float_g(f),
        None => n.to_string(),
    }
}

/// `strconv.FormatFloat(f, 'g', -1, 64)` (also Go's `%v`), with YAML's spellings of the
/// non-finite values.
pub(crate) fn go_float_g(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            ".inf".into()
        } else {
            "-.inf".into()
        };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    // Shortest round-trip digits and decimal exponent.
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let sign = if negative { "-" } else { "" };
    if !(-4..6).contains(&exp) {
        let mut m = digits[..1].to_string();
        if digits.len() > 1 {
            m.push('.');
            m.push_str(&digits[1..]);
        }
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{m}e{esign}{:02}", exp.abs());
    }
    // %f-style with exactly the shortest digits.
    let point = exp + 1;
    let text = if point <= 0 {
        format!("0.{}{}", "0".repeat(point.unsigned_abs() as usize), digits)
    } else if point as usize >= digits.len() {
        format!("{}{}", digits, "0".repeat(point as usize - digits.len()))
    } else {
        format!(
            "{}.{}",
            &digits[..point as usize],
            &digits[point as usize..]
        )
    };
    format!("{sign}{text}")
}

// ---------------------------------------------------------------------------------------------
// JSON

fn json_value(out: &mut String, value: &Value, level: usize) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&json_number(n)),
        Value::String(s) => json_string(out, s),
        Value::Array(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_newline(out, level + 1);
                json_value(out, item, level + 1);
            }
            json_newline(out, level);
            out.push(']');
        }
        Value::Object(map) => {
            if map.is_empty() {
                out.push_str("{}");
                return;
            }
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_newline(out, level + 1);
                json_string(out, key);
                out.push_str(": ");
                if let Some(v) = map.get(key) {
                    json_value(out, v, level + 1);
                }
            }
            json_newline(out, level);
            out.push('}');
        }
    }
}

fn json_newline(out: &mut String, level: usize) {
    out.push('\n');
    for _ in 0..level {
        out.push_str("    ");
    }
}

fn json_number(n: &serde_json::Number) -> String {
    if n.is_i64() || n.is_u64() {
        return n.to_string();
    }
    let Some(f) = n.as_f64() else {
        return n.to_string();
    };
    // encoding/json: 'f' format unless the exponent is < -6 or >= 21, then 'e' with a
    // two-digit minimum exponent ("1e-07", "1e+21").
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        // 'e' format: shortest mantissa, exponent without zero padding below 10 for
        // negative exponents ("1e-7") but as Go prints positive ones ("1e+21").
        let sci = format!("{f:e}");
        let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
        let exp: i32 = exp.parse().unwrap_or(0);
        return if exp < 0 {
            format!("{mantissa}e-{}", exp.unsigned_abs())
        } else {
            format!("{mantissa}e+{exp:02}")
        };
    }
    format!("{f}")
}

/// Go's JSON string escaping with `SetEscapeHTML(true)` (the default for `json.Marshal`).
fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scalar_quoting() {
        let v = json!({
            "a": "1002", "b": "true", "c": "2024-01-01T23:58:00Z", "d": "", "e": "*",
            "f": "plain text", "g": " lead", "h": "a: b", "i": "a #b", "j": "yes", "k": "9153",
            "l": "10.96.0.1", "m": "1.5", "n": "0x1F", "o": "null", "p": "-", "q": "- x",
            "r": "it's", "s": "tab\there", "t": "80/TCP", "u": "1:20", "v": "2024-01-01",
            "w": "@x", "x": "`x", "y": "a:b", "z": "1e3"
        });
        assert_eq!(
            to_yaml(&v),
            "a: \"1002\"\nb: \"true\"\nc: \"2024-01-01T23:58:00Z\"\nd: \"\"\ne: '*'\nf: plain text\n\
             g: ' lead'\nh: 'a: b'\ni: 'a #b'\nj: \"yes\"\nk: \"9153\"\nl: 10.96.0.1\nm: \"1.5\"\n\
             \"n\": \"0x1F\"\no: \"null\"\np: '-'\nq: '- x'\nr: it's\ns: \"tab\\there\"\nt: 80/TCP\n\
             u: \"1:20\"\nv: \"2024-01-01\"\nw: '@x'\nx: '`x'\n\"y\": a:b\nz: \"1e3\"\n"
        );
    }

    #[test]
    fn collections_and_blocks() {
        let v = json!({
            "list": [{"a": 1, "b": [1, 2]}, [], {}, "x", ["y", "z"]],
            "empty": {},
            "none": [],
            "multi": "line1\nline2\n",
            "nonl": "a\nb",
            "n": null,
            "f": 1.5,
            "big": 1e21
        });
        assert_eq!(
            to_yaml(&v),
            "big: 1e+21\nempty: {}\nf: 1.5\nlist:\n- a: 1\n  b:\n  - 1\n  - 2\n- []\n- {}\n- x\n- - \"y\"\n  - z\n\
             multi: |\n  line1\n  line2\n\"n\": null\nnone: []\nnonl: |-\n  a\n  b\n"
        );
    }

    #[test]
    fn long_plain_and_quoted_strings_fold_past_column_80() {
        let v = json!({"metadata": {"annotations": {
            "kubernetes.io/limit-ranger": "LimitRanger plugin set: cpu request for container hostnames"
        }}});
        assert_eq!(
            to_yaml(&v),
            "metadata:\n  annotations:\n    kubernetes.io/limit-ranger: 'LimitRanger plugin set: cpu request for container\n      hostnames'\n"
        );
    }

    #[test]
    fn json_is_go_marshal_indent() {
        let v = json!({"b": [], "a": {"x": "<none>", "y": [1, {}]}});
        assert_eq!(
            to_json(&v),
            "{\n    \"a\": {\n        \"x\": \"\\u003cnone\\u003e\",\n        \"y\": [\n            1,\n            {}\n        ]\n    },\n    \"b\": []\n}\n"
        );
    }
}
