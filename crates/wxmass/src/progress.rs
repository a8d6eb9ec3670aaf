//! Progress on stderr: a bar on a terminal, a line now and then otherwise,
//! so that logs from cron jobs stay readable.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

/// Progress of `total` steps (0 when unknown).
pub struct Progress {
    bar: Option<ProgressBar>,
    what: &'static str,
    done: u64,
    total: u64,
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
                "{bar:30} {pos}/{len} {msg} ({elapsed})"
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
        }
    }

    /// Adds `n` steps.
    pub fn inc(&mut self, n: u64) {
        self.done += n;
        match &self.bar {
            Some(bar) => bar.inc(n),
            None if self.total > 0 => eprintln!("{} {}/{}", self.what, self.done, self.total),
            None => eprintln!("{} {}", self.what, self.done),
        }
    }

    /// Ends the report.
    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}
