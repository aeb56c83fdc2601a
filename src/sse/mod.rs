//! Sans-IO decoder for `text/event-stream` bodies (server-sent events), such as
//! dployr's deployment log streams: it turns raw bytes into [`Event`]s following
//! the WHATWG HTML parsing rules, while transport and reconnection stay with the caller.
//!
//! ```
//! use dployr::sse::Decoder;
//!
//! let mut decoder = Decoder::new();
//! // Chunk boundaries may fall anywhere, even inside a line.
//! decoder.push(b"data: cloning repository\n\n: heartbeat\n\nevent: done\ndata: stream ");
//! decoder.push(b"completed\n\n");
//! decoder.finish();
//!
//! let mut events = Vec::new();
//! while let Some(event) = decoder.next_event() {
//!     events.push(event?);
//! }
//! assert_eq!(events.len(), 2);
//! assert!(events[0].is_message());
//! assert_eq!(events[0].data, "cloning repository");
//! assert_eq!(events[1].event, "done");
//! assert_eq!(events[1].data, "stream completed");
//! assert_eq!(decoder.comments_seen(), 1);
//! # Ok::<(), dployr::sse::DecodeError>(())
//! ```

use std::borrow::Cow;
use std::fmt;

pub use bytestring::ByteString;

mod decoder;

pub use decoder::Decoder;

/// Default for [`Limits::max_line`]: 1 MiB.
// Orders of magnitude above any log line or JSON payload dployr sends, yet a
// hostile or broken server that never sends a newline cannot make a client
// buffer more than this.
pub const DEFAULT_MAX_LINE_BYTES: usize = 1024 * 1024;

/// Default for [`Limits::max_event`]: 1 MiB.
// Same reasoning as the line limit: generous for real events, while a stream
// of `data:` lines with no blank line cannot grow one event without bound.
pub const DEFAULT_MAX_EVENT_BYTES: usize = 1024 * 1024;

/// Bounds on what a [`Decoder`] buffers, so memory stays bounded whatever the server sends.
///
/// ```
/// let limits = dployr::sse::Limits::default().max_line(64 * 1024);
/// assert_eq!(limits.max_line, 64 * 1024);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Longest accepted line in bytes, line terminator excluded.
    pub max_line: usize,
    /// Largest accepted event data in bytes, as it would be dispatched
    /// (all `data` values joined with `"\n"`, after UTF-8 repair).
    pub max_event: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line: DEFAULT_MAX_LINE_BYTES,
            max_event: DEFAULT_MAX_EVENT_BYTES,
        }
    }
}

impl Limits {
    /// Sets [`max_line`](Self::max_line).
    pub fn max_line(mut self, bytes: usize) -> Self {
        self.max_line = bytes;
        self
    }

    /// Sets [`max_event`](Self::max_event).
    pub fn max_event(mut self, bytes: usize) -> Self {
        self.max_event = bytes;
        self
    }
}

/// One dispatched server-sent event.
///
/// `data` and `id` are [`ByteString`]s: they dereference to `&str`, compare
/// with `&str` and `String`, and display as text. When a value arrived whole
/// within one [`push_bytes`](Decoder::push_bytes) chunk, it is a view into that
/// chunk rather than a copy, which keeps the chunk's memory alive while the
/// value lives; convert with `String::from` to keep one for long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Event type: the value of the last `event` field, or `"message"` when
    /// there was none (or it was empty). Compares directly with `&str`.
    // A `Cow` so the default type costs no allocation: most events are plain
    // messages.
    pub event: Cow<'static, str>,
    /// The values of the event's `data` fields, joined with `"\n"`.
    pub data: ByteString,
    /// The last event ID in force when the event was dispatched: `None` if
    /// no `id` field was seen yet, `Some("")` if the last one was empty (the
    /// server cleared the ID).
    pub id: Option<ByteString>,
}

impl Event {
    /// Whether this is a default `"message"` event (no explicit type was given).
    #[must_use]
    pub fn is_message(&self) -> bool {
        self.event == "message"
    }
}

/// Why a [`Decoder`] stopped: the stream exceeded one of its [`Limits`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// A line was longer than [`Limits::max_line`] bytes.
    LineTooLong {
        /// The limit in force, in bytes.
        limit: usize,
    },
    /// An event's data was larger than [`Limits::max_event`] bytes.
    EventTooLarge {
        /// The limit in force, in bytes.
        limit: usize,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::LineTooLong { limit } => write!(
                f,
                "server-sent event line exceeds the limit of {limit} bytes; \
                 raise `Limits::max_line` and pass it to `Decoder::with_limits` to accept longer lines"
            ),
            DecodeError::EventTooLarge { limit } => write!(
                f,
                "server-sent event data exceeds the limit of {limit} bytes; \
                 raise `Limits::max_event` and pass it to `Decoder::with_limits` to accept larger events"
            ),
        }
    }
}

impl std::error::Error for DecodeError {}
