//! Which columns a list shows. By default the ones a person reads first:
//! name and id, status, a few telling fields, and age; nested objects stay
//! out (`--output wide` and `--output json` have them). A deployment's
//! name is the `config.name` it deploys.

use serde_json::Value;

/// How a column's cells are shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// As the value reads.
    Text,
    /// Coloured by its value on a terminal.
    Status,
    /// A timestamp, shown as `3m ago` in the default table.
    Age,
}

/// One column: its header and where its value is in an item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    /// The header, upper case.
    pub header: String,
    /// The keys leading to the value (`["config", "name"]`).
    pub path: Vec<String>,
    /// How its cells are shown.
    pub kind: Kind,
}

impl Column {
    fn new(header: &str, path: &[&str], kind: Kind) -> Column {
        Column {
            header: header.to_string(),
            path: path.iter().map(|k| k.to_string()).collect(),
            kind,
        }
    }

    /// The value of this column in `item`.
    pub fn value<'a>(&self, item: &'a Value) -> Option<&'a Value> {
        self.path.iter().try_fold(item, |value, key| value.get(key))
    }
}

/// Fields worth a column of their own after name, id and status, when an
/// item has them as plain values.
const TELLING: [&str; 5] = ["runtime", "port", "domain", "upstream", "version"];
/// The timestamp the AGE column reads.
const CREATED: &str = "created_at";

fn has(items: &[Value], path: &[&str]) -> bool {
    items.iter().any(|item| {
        path.iter()
            .try_fold(item, |value, key| value.get(key))
            .is_some_and(|v| !v.is_object() && !v.is_array() && !v.is_null())
    })
}

/// The default columns for `items`.
pub fn default(items: &[Value]) -> Vec<Column> {
    let mut columns = Vec::new();
    if has(items, &["name"]) {
        columns.push(Column::new("NAME", &["name"], Kind::Text));
    } else if has(items, &["config", "name"]) {
        columns.push(Column::new("NAME", &["config", "name"], Kind::Text));
    }
    if has(items, &["id"]) {
        columns.push(Column::new("ID", &["id"], Kind::Text));
    }
    if has(items, &["status"]) {
        columns.push(Column::new("STATUS", &["status"], Kind::Status));
    }
    if columns.is_empty() {
        // Not a resource with a name, id or status: every plain field.
        return every(items, false);
    }
    for key in TELLING {
        if has(items, &[key]) {
            columns.push(Column::new(&key.to_uppercase(), &[key], Kind::Text));
        }
    }
    if has(items, &[CREATED]) {
        columns.push(Column::new("AGE", &[CREATED], Kind::Age));
    }
    columns
}

/// Every column: the name first (a deployment's `config.name`), then each
/// field in the order the items have them, nested ones included when
/// `nested`.
pub fn every(items: &[Value], nested: bool) -> Vec<Column> {
    let mut columns: Vec<Column> = Vec::new();
    if !has(items, &["name"]) && has(items, &["config", "name"]) {
        columns.push(Column::new("NAME", &["config", "name"], Kind::Text));
    }
    for item in items {
        let Value::Object(fields) = item else {
            continue;
        };
        for (key, value) in fields {
            let plain = !value.is_object() && !value.is_array();
            if (plain || nested) && !columns.iter().any(|c| c.path == [key.as_str()]) {
                let kind = if key == "status" {
                    Kind::Status
                } else {
                    Kind::Text
                };
                columns.push(Column::new(&key.to_uppercase(), &[key], kind));
            }
        }
    }
    let rank = |c: &Column| match c.header.as_str() {
        "NAME" => 0,
        "ID" => 1,
        "STATUS" => 2,
        _ => 3,
    };
    columns.sort_by_key(rank);
    columns
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn headers(columns: &[Column]) -> Vec<&str> {
        columns.iter().map(|c| c.header.as_str()).collect()
    }

    #[test]
    fn a_deployment_is_named_by_what_it_deploys() {
        let items = [json!({
            "id": "d1", "status": "running", "user_id": "u",
            "config": {"name": "web", "port": 3000}, "created_at": "2026-01-01T00:00:00Z"
        })];
        let columns = default(&items);
        assert_eq!(headers(&columns), ["NAME", "ID", "STATUS", "AGE"]);
        assert_eq!(columns[0].value(&items[0]), Some(&json!("web")));
        let wide = every(&items, true);
        assert_eq!(&headers(&wide)[..3], ["NAME", "ID", "STATUS"]);
        assert!(headers(&wide).contains(&"CONFIG"));
        assert!(headers(&wide).contains(&"USER_ID"));
    }

    #[test]
    fn a_service_shows_its_telling_fields_and_leaves_nested_ones_out() {
        let items = [json!({
            "id": "s1", "name": "web", "status": "running", "runtime": "nodejs",
            "port": 3000, "env_vars": {"A": "1"}, "source": "remote",
            "created_at": "2026-01-01T00:00:00Z"
        })];
        assert_eq!(
            headers(&default(&items)),
            ["NAME", "ID", "STATUS", "RUNTIME", "PORT", "AGE"]
        );
        let routes = [json!({"domain": "a.example.com", "upstream": "http://x"})];
        assert_eq!(headers(&default(&routes)), ["DOMAIN", "UPSTREAM"]);
    }
}
