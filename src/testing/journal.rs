//! The answers an instance sent, for tests that check them afterwards.

use std::collections::VecDeque;

use bytes::Bytes;

/// One answer a [`LocalInstance`](super::LocalInstance) sent; see
/// [`LocalInstance::responses`](super::LocalInstance::responses).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordedResponse {
    /// The request's method, e.g. `GET`.
    pub method: String,
    /// The request's path, without the query.
    pub path: String,
    /// The answer's status.
    pub status: u16,
    /// The answer's `Content-Type`, when it has a body.
    pub content_type: Option<String>,
    /// The body as sent; empty for a log stream, whose body is streamed.
    pub body: Bytes,
}

/// Only the latest answers are kept, so a long test cannot grow it
/// without bound.
pub(crate) const CAPACITY: usize = 1000;

#[derive(Debug, Default)]
pub(crate) struct Journal {
    entries: VecDeque<RecordedResponse>,
}

impl Journal {
    pub(crate) fn push(&mut self, entry: RecordedResponse) {
        if self.entries.len() == CAPACITY {
            self.entries.pop_front();
        }
        self.entries.push_back(entry);
    }

    pub(crate) fn entries(&self) -> Vec<RecordedResponse> {
        self.entries.iter().cloned().collect()
    }
}
