//! Progress on stderr: a bar on a terminal, a line now and then otherwise
//! (every tenth of the way, or every few seconds, and at the end), so that
//! logs from cron jobs stay readable.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// Without a terminal, at most one line per this long (besides each tenth).
const LINE_EVERY: Duration = Duration::from_secs(5);

use indicatif::{ProgressBar, ProgressStyle};

/// A spinner with a message while one long step runs (an upload), on a
/// terminal only; cleared when dropped. Without a terminal the step's own
/// log line says what happened.
pub struct Working(Option<ProgressBar>);

impl Working {
    /// Shows `message` with a spinner until dropped.
    pub fn new(message: impl Into<String>) -> Working {
        Working(std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new_spinner();
            if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
                bar.set_style(style);
            }
            bar.set_message(message.into());
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        }))
    }
}

impl Drop for Working {
    fn drop(&mut self) {
        if let Some(bar) = self.0.take() {
            bar.finish_and_clear();
        }
    }
}

/// Progress of `total` steps (0 when unknown).
pub struct Progress {
    bar: Option<ProgressBar>,
    what: &'static str,
    done: u64,
    total: u64,
    printed: (u64, Instant),
}

impl Progress {
    /// Starts a progress report of `what` (e.g. "batches").
    pub fn new(what: &'static str, total: u64) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = if total > 0 {
                ProgressBar::new(total)
            } else {
                ProgressBar::new_spinner()
            };
            let template = if total > 0 {
                "{bar:30} {pos}/{len} {msg} ({elapsed}, about {eta} left)"
            } else {
                "{spinner} {pos} {msg} ({elapsed})"
            };
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style);
            }
            bar.set_message(what);
            bar
        });
        Progress {
            bar,
            what,
            done: 0,
            total,
            printed: (0, Instant::now()),
        }
    }

    /// Adds `n` steps.
    pub fn inc(&mut self, n: u64) {
        self.done += n;
        if let Some(bar) = &self.bar {
            bar.inc(n);
            return;
        }
        let tenth = |done: u64| (done * 10).checked_div(self.total).unwrap_or(0);
        let (last, at) = self.printed;
        let due = (self.total > 0 && (tenth(self.done) > tenth(last) || self.done >= self.total))
            || at.elapsed() >= LINE_EVERY;
        if due {
            self.line();
        }
    }

    fn line(&mut self) {
        if self.total > 0 {
            eprintln!("{} {}/{}", self.what, self.done, self.total);
        } else {
            eprintln!("{} {}", self.what, self.done);
        }
        self.printed = (self.done, Instant::now());
    }

    /// Ends the report.
    pub fn finish(mut self) {
        match self.bar.take() {
            Some(bar) => bar.finish_and_clear(),
            None if self.printed.0 != self.done => self.line(),
            None => {}
        }
    }
}
