//! The live line of long work on a terminal: a spinner, the phase and the
//! time since the work began, kept under the lines printed above it and
//! cleared at the end. On a pipe there is none, and lines print as they are.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::output;

/// How often the spinner turns and the time updates.
const TICK: Duration = Duration::from_millis(120);
/// The latest log line on the live line is cut to this many columns, so
/// the line stays one line on a narrow terminal.
const STEP_COLUMNS: usize = 40;

/// Lines on stderr, with a live line under them when stderr is a terminal.
pub struct Live {
    bar: Option<ProgressBar>,
    /// The status, and the latest step of the log.
    phase: std::cell::RefCell<(String, String)>,
}

impl Live {
    /// A live line showing `phase`, its clock starting `since` ago; none
    /// when stderr is not a terminal.
    pub fn start(phase: &str, since: Duration) -> Live {
        let phase_state = std::cell::RefCell::new((phase.to_string(), String::new()));
        if !std::io::stderr().is_terminal() {
            return Live {
                bar: None,
                phase: phase_state,
            };
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
            .with_elapsed(since)
            .with_message(phase.to_string());
        let style = ProgressStyle::with_template("{spinner} {msg} · {elapsed} since created")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        bar.set_style(style);
        bar.enable_steady_tick(TICK);
        Live {
            bar: Some(bar),
            phase: phase_state,
        }
    }

    /// Prints `line` on stderr, above the live line.
    pub fn line(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }

    /// Shows the latest log line as the step the work is at.
    pub fn step(&self, step: &str) {
        self.phase.borrow_mut().1 = step.to_string();
        self.show();
    }

    /// Shows `status` as the phase.
    pub fn phase(&self, status: &str) {
        self.phase.borrow_mut().0 = status.to_string();
        self.show();
    }

    fn show(&self) {
        if let Some(bar) = &self.bar {
            let (status, step) = &*self.phase.borrow();
            let message = if step.is_empty() {
                status.clone()
            } else {
                format!("{status}: {}", output::cut(step, STEP_COLUMNS))
            };
            bar.set_message(message);
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
