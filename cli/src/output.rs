//! How an answer is shown: one JSON document for a program reading stdout,
//! a table for a person at a terminal.

use std::io::{self, IsTerminal, Write};

use serde_json::{Map, Value};

use crate::exit::one_line;

/// How answers are written to stdout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One pretty-printed JSON document.
    Json,
    /// Rows and columns for reading.
    Table,
}

impl Format {
    /// `--output` when given, else a table on a terminal and JSON elsewhere.
    pub fn choose(flag: Option<&str>) -> Format {
        match flag {
            Some("json") => Format::Json,
            Some("table") => Format::Table,
            _ if io::stdout().is_terminal() => Format::Table,
            _ => Format::Json,
        }
    }
}

/// Writes `value` to stdout. A reader that went away (`| head`) is not an
/// error worth reporting.
pub fn print(value: &Value, format: Format) {
    let text = match format {
        Format::Json => serde_json::to_string_pretty(value).unwrap_or_default(),
        Format::Table => table(value),
    };
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "{text}").and_then(|()| out.flush());
}

/// Columns shown first when a list has them.
const FIRST: [&str; 3] = ["id", "name", "status"];

/// Widest a cell gets before it is cut, so one long field keeps a table
/// readable.
const MAX_CELL: usize = 48;

/// The table for an answer: a list (or an object around one list, as the
/// paged answers are) as rows, any other object as field and value.
fn table(value: &Value) -> String {
    match value {
        Value::Array(items) => rows(items),
        Value::Object(fields) => match sole_list(fields) {
            Some((key, items)) => {
                let mut text = rows(items);
                for (name, other) in fields.iter().filter(|(name, _)| *name != key) {
                    text.push_str(&format!("\n{name}: {}", cell(other)));
                }
                text
            }
            None => pairs(fields),
        },
        Value::Null => String::new(),
        other => cell(other),
    }
}

/// The one field holding an array, when there is exactly one.
fn sole_list(fields: &Map<String, Value>) -> Option<(&String, &Vec<Value>)> {
    let mut lists = fields
        .iter()
        .filter_map(|(k, v)| v.as_array().map(|a| (k, a)));
    let first = lists.next()?;
    lists.next().is_none().then_some(first)
}

/// An object as one line per field, nested objects spelled out with
/// dotted names (`hardware.arch`) so no value hides in a cut cell.
fn pairs(fields: &Map<String, Value>) -> String {
    let mut flat = Vec::new();
    flatten("", fields, &mut flat);
    let width = flat
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    flat.iter()
        .map(|(k, v)| format!("{k:width$}  {v}").trim_end().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

fn flatten(prefix: &str, fields: &Map<String, Value>, out: &mut Vec<(String, String)>) {
    for (key, value) in fields {
        let name = if prefix.is_empty() {
            one_line(key)
        } else {
            format!("{prefix}.{}", one_line(key))
        };
        match value {
            Value::Object(inner) if !inner.is_empty() => flatten(&name, inner, out),
            other => out.push((name, cell(other))),
        }
    }
}

fn rows(items: &[Value]) -> String {
    if items.is_empty() {
        return "(none)".to_string();
    }
    // Only plain values make columns: nested ones would push the row past
    // any screen (`--output json` has them). Identity first.
    let mut columns: Vec<&str> = Vec::new();
    for item in items {
        if let Value::Object(fields) = item {
            for (key, value) in fields {
                if !value.is_object() && !value.is_array() && !columns.contains(&key.as_str()) {
                    columns.push(key);
                }
            }
        }
    }
    let rank = |c: &&str| FIRST.iter().position(|f| f == c).unwrap_or(FIRST.len());
    columns.sort_by_key(rank);
    if columns.is_empty() {
        return items.iter().map(cell).collect::<Vec<_>>().join("\n");
    }
    let header: Vec<String> = columns
        .iter()
        .map(|c| one_line(&c.to_uppercase()))
        .collect();
    let body: Vec<Vec<String>> = items
        .iter()
        .map(|item| {
            columns
                .iter()
                .map(|c| item.get(*c).map(cell).unwrap_or_default())
                .collect()
        })
        .collect();
    let widths: Vec<usize> = (0..columns.len())
        .map(|i| {
            body.iter()
                .map(|row| row[i].chars().count())
                .chain([header[i].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    std::iter::once(&header)
        .chain(&body)
        .map(|row| {
            let line: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(text, width)| format!("{text:width$}"))
                .collect();
            line.join("  ").trim_end().to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// One value as a cell: strings as they are, anything nested as compact
/// JSON, cut to [`MAX_CELL`] characters.
fn cell(value: &Value) -> String {
    let text = match value {
        Value::Null => String::new(),
        Value::String(s) => one_line(s),
        other => one_line(&other.to_string()),
    };
    if text.chars().count() > MAX_CELL {
        let cut: String = text.chars().take(MAX_CELL - 1).collect();
        format!("{cut}…")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_paged_answer_is_rows_then_its_other_fields() {
        let page = json!({
            "services": [
                {"id": "s1", "name": "web", "port": 3000},
                {"id": "s2", "name": "api-server", "env": {"A": "1"}}
            ],
            "total": 2
        });
        let text = table(&page);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "ID  NAME        PORT");
        assert_eq!(lines[1], "s1  web         3000");
        assert_eq!(lines[2], "s2  api-server");
        assert_eq!(lines[3], "total: 2");
    }

    #[test]
    fn an_object_is_fields_and_values_and_long_cells_are_cut() {
        let text = table(&json!({"status": "healthy", "note": "x".repeat(100), "hw": {"cpus": 2}}));
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines.contains(&"hw.cpus  2"), "{text}");
        assert!(lines.contains(&"status   healthy"), "{text}");
        assert!(text.contains(&format!("{}…", "x".repeat(MAX_CELL - 1))));
        assert_eq!(table(&json!([])), "(none)");
    }
}
