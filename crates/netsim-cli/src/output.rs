//! What a command prints: stdout and stderr chunks in the order they were written, teaching hints,
//! and the exit code. Commands write here; only `main` writes to the terminal.

/// Which stream a chunk goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Out,
    /// Standard error.
    Err,
}

/// Everything a command printed, and how it ended.
#[derive(Debug, Default)]
pub struct Output {
    /// Chunks in write order.
    pub chunks: Vec<(Stream, String)>,
    /// Exit code (0 unless something failed).
    pub code: i32,
    /// Whether `hint:` lines are printed.
    pub hints: bool,
    /// `trace --step`: the steps to show one at a time on a terminal (after the chunks).
    pub steps: Option<Vec<String>>,
}

impl Output {
    /// A new, empty output.
    pub fn new(hints: bool) -> Output {
        Output {
            chunks: Vec::new(),
            code: 0,
            hints,
            steps: None,
        }
    }

    /// Everything written to stdout so far, in order.
    pub fn stdout_text(&self) -> String {
        self.chunks
            .iter()
            .filter(|(s, _)| *s == Stream::Out)
            .map(|(_, t)| t.as_str())
            .collect()
    }

    /// Writes `text` to stdout as is.
    pub fn out(&mut self, text: impl Into<String>) {
        let text = text.into();
        if !text.is_empty() {
            self.chunks.push((Stream::Out, text));
        }
    }

    /// Writes `line` and a newline to stdout.
    pub fn outln(&mut self, line: impl AsRef<str>) {
        self.out(format!("{}\n", line.as_ref()));
    }

    /// Writes `line` and a newline to stderr.
    pub fn errln(&mut self, line: impl AsRef<str>) {
        self.chunks
            .push((Stream::Err, format!("{}\n", line.as_ref())));
    }

    /// Writes an error line to stderr and marks the command failed (exit code 1, as kubectl).
    pub fn fail(&mut self, line: impl AsRef<str>) {
        self.errln(line);
        self.code = 1;
    }

    /// A teaching hint: one line on stderr starting with `hint: `, unless hints are off. The
    /// same hint is given once per command, however many objects call for it.
    pub fn hint(&mut self, text: impl AsRef<str>) {
        let line = format!("hint: {}\n", text.as_ref());
        if self.hints
            && !self
                .chunks
                .iter()
                .any(|(s, t)| *s == Stream::Err && *t == line)
        {
            self.chunks.push((Stream::Err, line));
        }
    }
}
