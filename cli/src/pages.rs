//! Lists as one array. The API pages its lists with `limit` and `offset`
//! and answers a page object (`{"services": [...], "total": 12}`); the
//! command prints the items alone, and walks every page when the caller
//! asked for none.

use clap::ArgMatches;
use dployr::{Operation, ParameterLocation};
use serde_json::Value;

/// The page-size query parameter of a paged list.
pub const LIMIT: &str = "limit";
/// The page-start query parameter of a paged list.
pub const OFFSET: &str = "offset";

/// The page size to walk `op`'s pages with, when it is a paged list and the
/// command line set neither `--limit` nor `--offset`.
pub fn walk(op: &Operation, matches: &ArgMatches) -> Option<i64> {
    let query = |name: &str| {
        op.parameters()
            .iter()
            .any(|p| p.name() == name && p.location() == ParameterLocation::Query)
    };
    let given = |name: &str| matches.get_one::<i64>(name).is_some();
    (query(LIMIT) && query(OFFSET) && !given(LIMIT) && !given(OFFSET))
        .then_some(i64::from(dployr::MAX_PAGE_SIZE))
}

/// A page object's items and `total`: an object with exactly one list and,
/// besides it, nothing but numbers. `None` for any other answer.
pub fn split(answer: Value) -> Option<(Vec<Value>, Option<i64>)> {
    let Value::Object(fields) = answer else {
        return None;
    };
    let lists = fields.values().filter(|v| v.is_array()).count();
    let others_are_counts = fields.values().all(|v| v.is_array() || v.is_number());
    if lists != 1 || !others_are_counts {
        return None;
    }
    let total = fields.get("total").and_then(Value::as_i64);
    let items = fields.into_iter().find_map(|(_, v)| match v {
        Value::Array(items) => Some(items),
        _ => None,
    })?;
    Some((items, total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_page_object_splits_into_its_items_and_total() {
        let (items, total) = split(json!({"services": [1, 2], "total": 7})).unwrap();
        assert_eq!((items.len(), total), (2, Some(7)));
        assert!(split(json!({"services": [1], "name": "x"})).is_none());
        assert!(split(json!({"a": [1], "b": [2]})).is_none());
        assert!(split(json!([1, 2])).is_none());
    }
}
