//! The live line of long work on a terminal: a spinner, the phase and the
//! time since the work began, kept under the lines printed above it and
//! cleared at the end. On a pipe there is none, and lines print as they are.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How often the spinner turns and the time updates.
const TICK: Duration = Duration::from_millis(120);

/// Lines on stderr, with a live line under them when stderr is a terminal.
pub struct Live {
    bar: Option<ProgressBar>,
}

impl Live {
    /// A live line showing `phase`, its clock starting `since` ago; none
    /// when stderr is not a terminal.
    pub fn start(phase: &str, since: Duration) -> Live {
        if !std::io::stderr().is_terminal() {
            return Live { bar: None };
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
            .with_elapsed(since)
            .with_message(phase.to_string());
        let style = ProgressStyle::with_template("{spinner} {msg} · {elapsed} since created")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        bar.set_style(style);
        bar.enable_steady_tick(TICK);
        Live { bar: Some(bar) }
    }

    /// Prints `line` on stderr, above the live line.
    pub fn line(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }

    /// Shows `phase` on the live line.
    pub fn phase(&self, phase: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(phase.to_string());
        }
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
