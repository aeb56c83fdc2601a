//! How an answer is shown: one JSON document for a program reading stdout,
//! a table that fits the terminal for a person.

mod cells;
mod colour;
mod columns;
mod table;

use std::io::{self, IsTerminal, Write};

use serde_json::Value;

pub use cells::cut;
pub use colour::Colours;

/// How answers are written to stdout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One pretty-printed JSON document, never coloured.
    Json,
    /// The columns a person reads first, fitted to the terminal.
    Table,
    /// Every column, nested ones too, whatever the width.
    Wide,
}

impl Format {
    /// `--output` when given, else a table on a terminal and JSON elsewhere.
    pub fn choose(flag: Option<&str>) -> Format {
        match flag {
            Some("json") => Format::Json,
            Some("table") => Format::Table,
            Some("wide") => Format::Wide,
            _ if io::stdout().is_terminal() => Format::Table,
            _ => Format::Json,
        }
    }
}

/// How wide a table may be: `COLUMNS` when set, else the terminal's width,
/// else (not a terminal) no bound.
fn width() -> Option<usize> {
    if let Some(columns) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|c| *c > 0)
    {
        return Some(columns);
    }
    console::Term::stdout()
        .size_checked()
        .map(|(_, columns)| usize::from(columns))
        .filter(|c| *c > 0)
}

/// Writes `value` to stdout. A reader that went away (`| head`) is not an
/// error worth reporting.
pub fn print(value: &Value, format: Format) {
    let text = render(value, format, width(), Colours::for_stdout());
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "{text}").and_then(|()| out.flush());
}

/// The text `print` writes.
fn render(value: &Value, format: Format, width: Option<usize>, colours: Colours) -> String {
    match format {
        Format::Json => serde_json::to_string_pretty(value).unwrap_or_default(),
        Format::Table => table::table(value, false, width, colours),
        Format::Wide => table::table(value, true, None, colours),
    }
}
