//! Cells measured and cut by display width: a wide character takes two
//! columns, a combining one none, so columns line up whatever the text.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::exit::one_line;
use serde_json::Value;

/// Widest a cell gets, even in a wide table, so one long field keeps the
/// table readable (`--output json` has it whole).
pub const MAX_CELL: usize = 60;

/// The columns `text` takes on a terminal.
pub fn width(text: &str) -> usize {
    UnicodeWidthStr::width(text)
}

/// `text` cut to at most `max` columns, ending in `…` when cut.
pub fn cut(text: &str, max: usize) -> String {
    if width(text) <= max {
        return text.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > max - 1 {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

/// `text` padded with spaces to `columns`.
pub fn pad(text: &str, columns: usize) -> String {
    let mut out = text.to_string();
    out.extend(std::iter::repeat_n(
        ' ',
        columns.saturating_sub(width(text)),
    ));
    out
}

/// One value as one line: strings as they are, anything nested as compact
/// JSON, control characters as spaces.
pub fn text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => one_line(s),
        other => one_line(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_characters_are_cut_by_the_columns_they_take() {
        assert_eq!(width("日本"), 4);
        assert_eq!(cut("日本語のサービス", 7), "日本語…");
        assert_eq!(width(&cut("日本語のサービス", 7)), 7);
        assert_eq!(cut("web", 3), "web");
        assert_eq!(cut("website", 4), "web…");
        assert_eq!(pad("日本", 6), "日本  ");
    }
}
