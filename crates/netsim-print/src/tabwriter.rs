//! A port of Go's `text/tabwriter` (plus the `RememberWidths` flag of the
//! `github.com/liggitt/tabwriter` fork kubectl uses), sufficient for kubectl's two layouts.
//!
//! This module owns column alignment only: text goes in with `\t`-terminated cells and `\n`
//! line ends, aligned text comes out. It must never know what the cells mean.
//!
//! Semantics reproduced exactly:
//!
//! * A *cell* is text terminated by `\t`. The text after the last tab of a line is not a cell:
//!   it is written as-is and never padded (an empty last field writes nothing, but the cell
//!   before it is still padded — hence describe's trailing spaces in `Address:          `).
//! * Widths are computed per *column block*: a maximal run of consecutive lines that all have
//!   a cell in that column. A line with fewer cells ends the block for the columns it lacks.
//! * A cell's width is its length in chars (runes) plus `padding`, at least `minwidth`.
//! * With [`TabWriter::remember_widths`], the width chosen for each column index is kept across
//!   [`TabWriter::flush`]es and never shrinks (what `kubectl get -w` relies on).
//!
//! Why not the `tabwriter` crate: measured, it reproduces describe's blocks and trailing spaces,
//! but computes a column as `max(minwidth, text) + padding` instead of Go's
//! `max(minwidth, text + padding)`, so short `get` columns come out too wide (`AGE` + 6 spaces
//! instead of 3), and it has no `RememberWidths`.
//!
//! The pad character is always a space and there is no alignment to tab stops (kubectl never
//! uses tabs as padding), so `tabwidth` has no effect and is not modelled.

/// A tab writer: buffers lines, aligns them on [`flush`](TabWriter::flush).
#[derive(Debug, Clone)]
pub struct TabWriter {
    minwidth: usize,
    padding: usize,
    remember: bool,
    /// Remembered widths per column index (only with `remember`).
    max_widths: Vec<usize>,
    /// Complete lines, split into fields.
    lines: Vec<Vec<String>>,
    /// The current, not yet terminated line.
    partial: String,
    out: String,
}

impl TabWriter {
    /// A writer with Go's `Init(w, minwidth, tabwidth, padding, ' ', 0)` settings.
    pub fn new(minwidth: usize, padding: usize) -> TabWriter {
        TabWriter {
            minwidth,
            padding,
            remember: false,
            max_widths: Vec::new(),
            lines: Vec::new(),
            partial: String::new(),
            out: String::new(),
        }
    }

    /// kubectl `get`'s writer (cli-runtime `printers.GetNewTabWriter`): minwidth 6, tabwidth 4,
    /// padding 3, pad ' ', `RememberWidths`.
    pub fn for_get() -> TabWriter {
        TabWriter::new(6, 3).remember_widths()
    }

    /// kubectl `describe`'s writer (`tabbedString`): `Init(buf, 0, 8, 2, ' ', 0)`.
    pub fn for_describe() -> TabWriter {
        TabWriter::new(0, 2)
    }

    /// Turns on `RememberWidths`: column widths persist across flushes and never shrink.
    pub fn remember_widths(mut self) -> TabWriter {
        self.remember = true;
        self
    }

    /// Forgets remembered widths (what kubectl does between resource types).
    pub fn reset_widths(&mut self) {
        self.max_widths.clear();
    }

    /// Buffers `text`; cells end at `\t`, lines at `\n`.
    pub fn write_str(&mut self, text: &str) {
        let mut rest = text;
        while let Some(pos) = rest.find('\n') {
            self.partial.push_str(&rest[..pos]);
            let line = std::mem::take(&mut self.partial);
            self.lines.push(split_cells(&line));
            rest = &rest[pos + 1..];
        }
        self.partial.push_str(rest);
    }

    /// Aligns and emits everything buffered so far (a trailing unterminated line is emitted
    /// without a newline, as Go does).
    pub fn flush(&mut self) {
        let mut lines = std::mem::take(&mut self.lines);
        let partial = std::mem::take(&mut self.partial);
        lines.push(split_cells(&partial));
        let mut widths = Vec::new();
        let mut out = std::mem::take(&mut self.out);
        self.format(&lines, &mut out, 0, lines.len(), &mut widths);
        self.out = out;
    }

    /// Takes the output produced by flushes so far.
    pub fn take_output(&mut self) -> String {
        std::mem::take(&mut self.out)
    }

    /// Flushes and returns all output.
    pub fn finish(mut self) -> String {
        self.flush();
        self.out
    }

    fn format(
        &mut self,
        lines: &[Vec<String>],
        out: &mut String,
        line0: usize,
        line1: usize,
        widths: &mut Vec<usize>,
    ) {
        let column = widths.len();
        let mut line0 = line0;
        let mut this = line0;
        while this < line1 {
            if column + 1 >= lines[this].len() {
                this += 1;
                continue;
            }
            // A cell exists in this column: this line starts a column block.
            write_lines(lines, out, line0, this, widths);
            line0 = this;
            let mut width = self.minwidth;
            while this < line1 {
                let line = &lines[this];
                if column + 1 >= line.len() {
                    break;
                }
                width = width.max(line[column].chars().count() + self.padding);
                this += 1;
            }
            if self.remember {
                match self.max_widths.get_mut(column) {
                    Some(max) if *max > width => width = *max,
                    Some(max) => *max = width,
                    None => {
                        self.max_widths.resize(column, 0);
                        self.max_widths.push(width);
                    }
                }
            }
            widths.push(width);
            self.format(lines, out, line0, this, widths);
            widths.pop();
            line0 = this;
        }
        write_lines(lines, out, line0, line1, widths);
    }
}

fn split_cells(line: &str) -> Vec<String> {
    line.split('\t').map(str::to_string).collect()
}

fn write_lines(
    lines: &[Vec<String>],
    out: &mut String,
    line0: usize,
    line1: usize,
    widths: &[usize],
) {
    for (i, line) in lines.iter().enumerate().take(line1).skip(line0) {
        for (j, cell) in line.iter().enumerate() {
            out.push_str(cell);
            if j + 1 < line.len()
                && let Some(&width) = widths.get(j)
            {
                let used = cell.chars().count();
                for _ in used..width {
                    out.push(' ');
                }
            }
        }
        if i + 1 < lines.len() {
            out.push('\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(text: &str) -> String {
        let mut w = TabWriter::for_get();
        w.write_str(text);
        w.finish()
    }

    fn describe(text: &str) -> String {
        let mut w = TabWriter::for_describe();
        w.write_str(text);
        w.finish()
    }

    #[test]
    fn get_layout_has_no_trailing_spaces() {
        assert_eq!(
            get("NAME\tTYPE\tCLUSTER-IP\tEXTERNAL-IP\tPORT(S)\tAGE\n\
                 kube-dns\tClusterIP\t10.96.0.10\t<none>\t53/UDP,53/TCP,9153/TCP\t24h\n"),
            "NAME       TYPE        CLUSTER-IP   EXTERNAL-IP   PORT(S)                  AGE\n\
             kube-dns   ClusterIP   10.96.0.10   <none>        53/UDP,53/TCP,9153/TCP   24h\n"
        );
    }

    #[test]
    fn get_minwidth_and_empty_cells() {
        assert_eq!(
            get("NAME\tCLASS\tHOSTS\tADDRESS\tPORTS\tAGE\n\
                 service-ingress\tnginx\tkubeserve.example.com,app.example.com\t\t80\t0s\n"),
            "NAME              CLASS   HOSTS                                   ADDRESS   PORTS   AGE\n\
             service-ingress   nginx   kubeserve.example.com,app.example.com             80      0s\n"
        );
    }

    #[test]
    fn describe_pads_cell_before_empty_last_field() {
        assert_eq!(
            describe("Name:\tservice-ingress\nAddress:\t\nIngress Class:\tnginx\n"),
            "Name:           service-ingress\nAddress:        \nIngress Class:  nginx\n"
        );
    }

    #[test]
    fn describe_column_blocks_end_at_lines_without_tabs() {
        let text = "Default backend:\t<default>\nRules:\n  Host\tPath\tBackends\n  ----\t----\t--------\n  a.example.com\t\n    \t/ \tsvc:80 (<none>)\nAnnotations:\t<none>\n";
        assert_eq!(
            describe(text),
            "Default backend:  <default>\nRules:\n  Host           Path  Backends\n  ----           ----  --------\n  a.example.com  \n                 /   svc:80 (<none>)\nAnnotations:     <none>\n"
        );
    }

    #[test]
    fn remembered_widths_never_shrink() {
        let mut w = TabWriter::for_get();
        w.write_str("A\tB\nxxxxxxxxxx\t1\n");
        w.flush();
        w.write_str("y\t2\n");
        w.flush();
        assert_eq!(
            w.take_output(),
            "A            B\nxxxxxxxxxx   1\ny            2\n"
        );
    }

    #[test]
    fn widths_count_chars_not_bytes() {
        assert_eq!(get("é\tx\nab\ty\n"), "é     x\nab    y\n");
    }
}
