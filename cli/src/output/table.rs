//! Tables: a list as rows under a header, cut to fit the width it is given;
//! any other object as field and value.

use serde_json::{Map, Value};

use super::cells::{self, MAX_CELL};
use super::colour::Colours;
use super::columns::{self, Column, Kind};
use crate::age;

/// Columns never shrink below this, so a cut cell still shows its start.
const MIN_COLUMN: usize = 4;
/// Between two columns.
const GAP: &str = "  ";

/// The table for an answer: a list (or an object around one list, as the
/// paged answers are) as rows, any other object as field and value.
pub fn table(value: &Value, wide: bool, width: Option<usize>, colours: Colours) -> String {
    match value {
        Value::Array(items) => rows(items, wide, width, colours),
        Value::Object(fields) => match sole_list(fields) {
            Some((key, items)) => {
                let mut text = rows(items, wide, width, colours);
                for (name, other) in fields.iter().filter(|(name, _)| *name != key) {
                    text.push_str(&format!("\n{name}: {}", cells::text(other)));
                }
                text
            }
            None => pairs(fields, wide, width, colours),
        },
        Value::Null => String::new(),
        other => cells::text(other),
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

/// An object as one line per field. By default its plain fields alone;
/// wide, nested ones too, spelled out with dotted names (`hardware.arch`).
fn pairs(
    fields: &Map<String, Value>,
    wide: bool,
    width: Option<usize>,
    colours: Colours,
) -> String {
    let mut flat = Vec::new();
    flatten("", fields, wide, &mut flat);
    let key_width = flat.iter().map(|(k, _)| cells::width(k)).max().unwrap_or(0);
    let room = width.map_or(MAX_CELL, |w| {
        w.saturating_sub(key_width + GAP.len())
            .clamp(MIN_COLUMN, MAX_CELL.max(MIN_COLUMN))
    });
    let room = if wide { usize::MAX } else { room };
    flat.iter()
        .map(|(key, value)| {
            let shown = if !wide && key.ends_with("_at") {
                age::ago(value).unwrap_or_else(|| value.clone())
            } else {
                value.clone()
            };
            let shown = cells::cut(&shown, room);
            let shown = if key == "status" {
                colours.status(value, &shown)
            } else {
                shown
            };
            format!("{}{GAP}{shown}", cells::pad(key, key_width))
                .trim_end()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn flatten(
    prefix: &str,
    fields: &Map<String, Value>,
    nested: bool,
    out: &mut Vec<(String, String)>,
) {
    for (key, value) in fields {
        let name = if prefix.is_empty() {
            crate::exit::one_line(key)
        } else {
            format!("{prefix}.{}", crate::exit::one_line(key))
        };
        match value {
            Value::Object(inner) if nested && !inner.is_empty() => {
                flatten(&name, inner, nested, out)
            }
            Value::Object(_) | Value::Array(_) if !nested => {}
            other => out.push((name, cells::text(other))),
        }
    }
}

fn rows(items: &[Value], wide: bool, width: Option<usize>, colours: Colours) -> String {
    if items.is_empty() {
        return "(none)".to_string();
    }
    let columns = if wide {
        columns::every(items, true)
    } else {
        columns::default(items)
    };
    if columns.is_empty() {
        return items.iter().map(cells::text).collect::<Vec<_>>().join("\n");
    }
    let header: Vec<String> = columns.iter().map(|c| c.header.clone()).collect();
    let body: Vec<Vec<(String, String)>> = items
        .iter()
        .map(|item| columns.iter().map(|c| cell(c, item, wide)).collect())
        .collect();
    let mut widths: Vec<usize> = (0..columns.len())
        .map(|i| {
            body.iter()
                .map(|row| cells::width(&row[i].1))
                .chain([cells::width(&header[i])])
                .max()
                .unwrap_or(0)
        })
        .collect();
    if let Some(width) = width {
        fit(&mut widths, width);
    }
    let last = columns.len() - 1;
    let line = |row: Vec<String>| row.join(GAP).trim_end().to_string();
    let head = header
        .iter()
        .enumerate()
        .map(|(i, h)| lay(h, widths[i], i == last))
        .collect();
    std::iter::once(line(head))
        .chain(body.into_iter().map(|row| {
            let cells = row
                .into_iter()
                .enumerate()
                .map(|(i, (raw, shown))| match columns[i].kind {
                    // Coloured before padding, so the colour stops at the word.
                    Kind::Status => {
                        let cut = cells::cut(&shown, widths[i]);
                        let coloured = colours.status(&raw, &cut);
                        let padding = if i == last {
                            0
                        } else {
                            widths[i].saturating_sub(cells::width(&cut))
                        };
                        format!("{coloured}{}", " ".repeat(padding))
                    }
                    _ => lay(&shown, widths[i], i == last),
                })
                .collect();
            line(cells)
        }))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A cell cut to `width` and, unless it is the last, padded to it.
fn lay(text: &str, width: usize, last: bool) -> String {
    let cut = cells::cut(text, width);
    if last {
        cut
    } else {
        cells::pad(&cut, width)
    }
}

/// The value of `column` in `item`: as it is, and as shown.
fn cell(column: &Column, item: &Value, wide: bool) -> (String, String) {
    let raw = column.value(item).map(cells::text).unwrap_or_default();
    let shown = match column.kind {
        Kind::Age if !wide => age::ago(&raw).unwrap_or_else(|| raw.clone()),
        _ => raw.clone(),
    };
    let shown = cells::cut(&shown, MAX_CELL);
    (raw, shown)
}

/// Narrows the widest columns, one column at a time, until the row fits in
/// `total` (or every column is down to [`MIN_COLUMN`]).
fn fit(widths: &mut [usize], total: usize) {
    let gaps = GAP.len() * widths.len().saturating_sub(1);
    while widths.iter().sum::<usize>() + gaps > total {
        let Some((widest, _)) = widths
            .iter()
            .enumerate()
            .filter(|(_, w)| **w > MIN_COLUMN)
            .max_by_key(|(_, w)| **w)
        else {
            break;
        };
        widths[widest] -= 1;
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
        let text = table(&page, false, None, Colours(false));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "NAME        ID  PORT");
        assert_eq!(lines[1], "web         s1  3000");
        assert_eq!(lines[2], "api-server  s2");
        assert_eq!(lines[3], "total: 2");
    }

    #[test]
    fn rows_fit_the_width_by_display_columns() {
        let items: Vec<Value> = (0..3)
            .map(|i| {
                json!({
                    "id": format!("01HN2K3M4N5P6Q7R8S9T0U1V2W{i}"),
                    "name": "日本語のとても長いサービスの名前です".repeat(2),
                    "status": "running",
                    "port": 3000,
                    "created_at": "2026-01-01T00:00:00Z",
                })
            })
            .collect();
        let text = table(
            &Value::Array(items.clone()),
            false,
            Some(60),
            Colours(false),
        );
        for line in text.lines() {
            assert!(cells::width(line) <= 60, "{line}");
        }
        assert!(text.contains('…'), "{text}");
        assert!(text.lines().next().unwrap().starts_with("NAME"));
        assert!(text.contains(" ago"), "{text}");
        let wide = table(&Value::Array(items), true, None, Colours(false));
        assert!(wide.contains("2026-01-01T00:00:00Z"), "{wide}");
    }

    #[test]
    fn an_object_shows_its_plain_fields_and_wide_its_nested_ones() {
        let value = json!({"status": "healthy", "note": "x".repeat(100), "hw": {"cpus": 2}});
        let text = table(&value, false, Some(40), Colours(false));
        assert!(!text.contains("hw"), "{text}");
        assert!(text.lines().all(|l| cells::width(l) <= 40), "{text}");
        assert!(text.contains("status  healthy"), "{text}");
        let wide = table(&value, true, Some(40), Colours(false));
        assert!(wide.contains("hw.cpus  2"), "{wide}");
        assert!(wide.contains(&"x".repeat(100)), "{wide}");
        assert_eq!(table(&json!([]), false, None, Colours(false)), "(none)");
    }
}
