//! The progress line of a long command (an apply of thousands of objects, a `wait` through a
//! cluster's start, the save of a big state): one line on stderr, redrawn in place, wiped
//! before the command's own output is printed.
//!
//! It shows only when stderr is a terminal, and only once the command has taken longer than
//! [`QUIET_FOR`] of wall-clock time, so lesson-sized commands never flash it and nothing a
//! test, a pipe or a transcript captures ever contains it. The wall clock is read here for the
//! display alone; nothing it reads reaches the cluster. `NETSIM_PROGRESS=0` turns it off;
//! `NETSIM_PROGRESS=1` shows it whatever stderr is, from the start (for its test).
//!
//! Hand-written rather than a progress-bar crate: a single counter line needs no bar widths,
//! no threads and no terminal queries, and this way nothing draws from another thread while
//! the command writes its own output.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// How long a command runs before its progress line appears.
const QUIET_FOR: Duration = Duration::from_millis(500);

/// The least time between two redraws (a redraw per object of a 150,000-object apply would
/// cost more than the apply).
const REDRAW_EVERY: Duration = Duration::from_millis(100);

/// One command's progress line.
pub struct Progress {
    enabled: bool,
    /// Whether to draw from the start (`NETSIM_PROGRESS=1`), not after [`QUIET_FOR`].
    eager: bool,
    start: Instant,
    last_draw: Option<Instant>,
}

impl Progress {
    /// A progress line for a command starting now, shown if stderr is a terminal and
    /// `NETSIM_PROGRESS` is not `0` (or always, if it is `1`).
    pub fn new() -> Progress {
        let setting = std::env::var_os("NETSIM_PROGRESS");
        let eager = setting.as_ref().is_some_and(|v| v == "1");
        let wanted = setting.as_ref().is_none_or(|v| v != "0");
        Progress {
            enabled: eager || (wanted && std::io::stderr().is_terminal()),
            eager,
            start: Instant::now(),
            last_draw: None,
        }
    }

    /// Redraws the line with `text()` if it is time to; `text` is only called then.
    pub fn step(&mut self, text: impl FnOnce() -> String) {
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        if (!self.eager && now.duration_since(self.start) < QUIET_FOR)
            || self
                .last_draw
                .is_some_and(|t| now.duration_since(t) < REDRAW_EVERY)
        {
            return;
        }
        self.last_draw = Some(now);
        let mut err = std::io::stderr().lock();
        // A failed write to the terminal only loses the progress line.
        let _ = write!(err, "\r\x1b[K{}", text());
        let _ = err.flush();
    }

    /// Wipes the line if it was drawn.
    pub fn clear(&mut self) {
        if self.last_draw.take().is_some() {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[K");
            let _ = err.flush();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.clear();
    }
}

/// `12.5s/30s`: virtual time run of the time asked for.
pub fn virtual_time(done_ms: i64, total_ms: i64) -> String {
    let secs = |ms: i64| {
        let tenths = ms / 100;
        if tenths % 10 == 0 {
            format!("{}s", tenths / 10)
        } else {
            format!("{}.{}s", tenths / 10, tenths % 10)
        }
    };
    format!("{}/{}", secs(done_ms), secs(total_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_time_reads_like_a_duration() {
        assert_eq!(virtual_time(12_500, 30_000), "12.5s/30s");
        assert_eq!(virtual_time(0, 5_000), "0s/5s");
    }

    #[test]
    fn a_hidden_line_never_calls_its_text() {
        let mut p = Progress {
            enabled: false,
            eager: false,
            start: Instant::now(),
            last_draw: None,
        };
        p.step(|| unreachable!("not drawn"));
        p.clear();
    }
}
