//! Progress on stderr: one rewritten line on a terminal, a plain line every few seconds otherwise.

use sen12lite::progress::Progress;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// The command line's drawing of a job's [`Progress`].
pub struct ProgressLine {
    label: &'static str,
    total: usize,
    total_bytes: u64,
    done: usize,
    failed: usize,
    bytes: u64,
    started: Instant,
    last_print: Instant,
    terminal: bool,
}

impl ProgressLine {
    /// A line that will say `label: done/total files, …`.
    pub fn new(label: &'static str) -> Self {
        let now = Instant::now();
        ProgressLine {
            label,
            total: 0,
            total_bytes: 0,
            done: 0,
            failed: 0,
            bytes: 0,
            started: now,
            last_print: now,
            terminal: std::io::stderr().is_terminal(),
        }
    }

    fn print(&self) {
        let seconds = self.started.elapsed().as_secs_f64().max(1e-3);
        let megabytes = |bytes: u64| bytes as f64 / 1e6;
        let of_bytes = if self.total_bytes > 0 {
            format!(", {:.0}/{:.0} MB", megabytes(self.bytes), megabytes(self.total_bytes))
        } else {
            String::new()
        };
        let line = format!(
            "{}: {}/{} files{of_bytes}, {} failed, {:.0} MB/s",
            self.label,
            self.done,
            self.total,
            self.failed,
            megabytes(self.bytes) / seconds
        );
        let mut err = std::io::stderr().lock();
        let _ = if self.terminal { write!(err, "\r{line}\x1b[K") } else { writeln!(err, "{line}") };
        if self.terminal && self.done == self.total {
            let _ = writeln!(err);
        }
    }
}

impl Progress for ProgressLine {
    fn begin(&mut self, total: usize, total_bytes: u64) {
        self.total = total;
        self.total_bytes = total_bytes;
        self.started = Instant::now();
    }

    fn advance(&mut self, bytes: u64, failed: bool) {
        self.done += 1;
        self.bytes += bytes;
        self.failed += usize::from(failed);
        let every = if self.terminal { Duration::from_millis(100) } else { Duration::from_secs(5) };
        if self.last_print.elapsed() >= every || self.done == self.total {
            self.last_print = Instant::now();
            self.print();
        }
    }
}
