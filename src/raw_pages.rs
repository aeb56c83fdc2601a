//! Every item of a list read through [`Client::raw`] or [`Client::call`]:
//! for programs that work from the spec rather than the typed builders
//! (a command line), the same page-by-page walk as
//! [`Client::services_stream`], over JSON values.

use serde_json::Value;

use crate::error::{Error, ErrorKind};
use crate::pages::{paginate, Pages};
use crate::raw::RawRequest;
#[cfg(doc)]
use crate::Client;

/// The page-size query parameter of the API's lists.
const LIMIT: &str = "limit";
/// The page-start query parameter of the API's lists.
const OFFSET: &str = "offset";

impl RawRequest {
    /// Every item of the list this request reads, fetched `page_size` (1 to
    /// [`MAX_PAGE_SIZE`](crate::MAX_PAGE_SIZE)) at a time with `limit` and
    /// `offset`, which the stream sets on each page (so the request should
    /// set neither).
    ///
    /// A page is the API's page object: exactly one list, and numbers beside
    /// it (`{"services": [...], "total": 12}`). A short page, or `total`
    /// items read, ends the stream. An answer of another shape is an
    /// [`ErrorKind::Decode`] error, yielded as the stream's last item, as a
    /// failed page is.
    ///
    /// ```
    /// # async fn run(client: dployr::Client) -> Result<(), dployr::Error> {
    /// use futures::TryStreamExt;
    /// let list = dployr::Operation::find("listServices").unwrap();
    /// let services: Vec<serde_json::Value> = client.call(list).pages(100).try_collect().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn pages(self, page_size: u32) -> Pages<Value> {
        paginate(page_size, move |offset, limit| {
            let page = self.clone().query(LIMIT, limit).query(OFFSET, offset);
            async move {
                let answer = page.send().await?;
                let value: Value = answer.json()?;
                split(value).ok_or_else(|| {
                    Error::new(
                        ErrorKind::Decode,
                        "the answer is not a page of a list (one list, and numbers beside it)",
                    )
                })
            }
        })
    }
}

/// A page object's items and `total`; `None` for any other answer.
fn split(answer: Value) -> Option<(Vec<Value>, Option<i64>)> {
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
