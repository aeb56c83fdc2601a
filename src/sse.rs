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
use std::collections::VecDeque;
use std::fmt;
use std::mem;
use std::time::Duration;

use memchr::{memchr, memchr2, memrchr2};

/// Default for [`Limits::max_line`]: 1 MiB.
// Orders of magnitude above any log line or JSON payload dployr sends, yet a
// hostile or broken server that never sends a newline cannot make a client
// buffer more than this.
pub const DEFAULT_MAX_LINE_BYTES: usize = 1024 * 1024;

/// Default for [`Limits::max_event`]: 1 MiB.
// Same reasoning as the line limit: generous for real events, while a stream
// of `data:` lines with no blank line cannot grow one event without bound.
pub const DEFAULT_MAX_EVENT_BYTES: usize = 1024 * 1024;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Bounds on what a [`Decoder`] buffers, so memory stays bounded whatever the server sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

/// One dispatched server-sent event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Event type: the value of the last `event` field, or `"message"` when
    /// there was none (or it was empty). Compares directly with `&str`.
    // A `Cow` so the default type costs no allocation: most events are plain
    // messages, and a second allocation per event is measurable in throughput.
    pub event: Cow<'static, str>,
    /// The values of the event's `data` fields, joined with `"\n"`.
    pub data: String,
    /// The last event ID in force when the event was dispatched; empty if no
    /// `id` field was seen yet or the last one was empty.
    pub id: String,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bom {
    /// This many leading bytes of the stream matched the BOM so far; they are
    /// held back until we know whether to strip them.
    Pending(usize),
    Done,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Open,
    Finished,
    /// The error is taken when reported, so it is returned exactly once.
    Failed(Option<DecodeError>),
}

/// Incremental, sans-IO decoder for a `text/event-stream` body.
///
/// Feed bytes with [`push`](Decoder::push) as they arrive, call
/// [`finish`](Decoder::finish) at end of input, and drain dispatched events
/// with [`next_event`](Decoder::next_event) until it returns `None`.
///
/// Memory use does not depend on the stream's length: only the current
/// incomplete line and event are kept, within [`Limits`], plus the events
/// dispatched and not yet drained. Drain after each `push` so that queue stays
/// proportional to one chunk.
///
/// When a limit is exceeded the decoder fails for good: `next_event` first
/// returns the events dispatched before the offending line, then the
/// [`DecodeError`] once, then `None` forever; later `push` and `finish` calls
/// are ignored and the internal buffers are released.
#[derive(Debug, Clone)]
pub struct Decoder {
    limits: Limits,
    state: State,
    bom: Bom,
    /// The previous chunk ended in CR, so an LF starting the next chunk is the
    /// second half of a CRLF rather than an empty line.
    skip_lf: bool,
    /// Start of a line whose terminator has not arrived yet.
    partial: Vec<u8>,
    data: String,
    event_type: String,
    id_buffer: String,
    last_event_id: String,
    retry_ms: Option<u64>,
    comments: u64,
    ready: VecDeque<Event>,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

impl Decoder {
    /// A decoder with the default [`Limits`] (1 MiB per line and per event).
    #[must_use]
    pub fn new() -> Self {
        Decoder::with_limits(Limits::default())
    }

    /// A decoder with the given limits.
    #[must_use]
    pub fn with_limits(limits: Limits) -> Self {
        Decoder {
            limits,
            state: State::Open,
            bom: Bom::Pending(0),
            skip_lf: false,
            partial: Vec::new(),
            data: String::new(),
            event_type: String::new(),
            id_buffer: String::new(),
            last_event_id: String::new(),
            retry_ms: None,
            comments: 0,
            ready: VecDeque::new(),
        }
    }

    /// Feeds the next bytes of the stream; they may split lines, CRLF pairs and
    /// UTF-8 sequences anywhere. Events completed by these bytes become
    /// available from [`next_event`](Decoder::next_event).
    ///
    /// Ignored after [`finish`](Decoder::finish) or after an error.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.state != State::Open {
            return;
        }
        if let Err(error) = self.push_open(bytes) {
            self.fail(error);
        }
    }

    /// Signals the end of the stream.
    ///
    /// As the standard requires, an unterminated last line and an event not
    /// yet closed by a blank line are discarded, not dispatched. Events
    /// already dispatched stay available from [`next_event`](Decoder::next_event).
    pub fn finish(&mut self) {
        if self.state != State::Open {
            return;
        }
        self.state = State::Finished;
        self.release_buffers();
    }

    /// Takes the next dispatched event, `Some(Err(_))` once if a limit was
    /// exceeded, or `None` when nothing is ready (call again after the next
    /// [`push`](Decoder::push)).
    pub fn next_event(&mut self) -> Option<Result<Event, DecodeError>> {
        if let Some(event) = self.ready.pop_front() {
            return Some(Ok(event));
        }
        match &mut self.state {
            State::Failed(error) => error.take().map(Err),
            State::Open | State::Finished => None,
        }
    }

    /// The last event ID string as of the latest dispatch (empty if none);
    /// send it as `Last-Event-ID` when reconnecting.
    #[must_use]
    pub fn last_event_id(&self) -> &str {
        &self.last_event_id
    }

    /// The reconnection delay most recently requested by a valid `retry`
    /// field, if any.
    #[must_use]
    pub fn retry(&self) -> Option<Duration> {
        self.retry_ms.map(Duration::from_millis)
    }

    /// How many comment lines (starting with `:`) were seen; servers send them
    /// as heartbeats, so a change shows the connection is alive.
    #[must_use]
    pub fn comments_seen(&self) -> u64 {
        self.comments
    }

    /// Prepares for the next connection of the same stream (after a
    /// reconnect): a partial line and an unfinished event of the lost
    /// connection are dropped, as is the state of a leading BOM, while the
    /// last event id and the `retry` delay carry over, as the standard asks.
    /// Events already dispatched stay available. A failed decoder stays failed.
    pub fn restart(&mut self) {
        if self.state == State::Finished {
            self.state = State::Open;
        }
        if self.state != State::Open {
            return;
        }
        self.release_buffers();
        self.id_buffer.clone_from(&self.last_event_id);
        self.bom = Bom::Pending(0);
    }

    /// The limits this decoder enforces.
    #[must_use]
    pub fn limits(&self) -> Limits {
        self.limits
    }

    fn push_open(&mut self, mut bytes: &[u8]) -> Result<(), DecodeError> {
        if let Bom::Pending(mut matched) = self.bom {
            loop {
                let Some((&byte, rest)) = bytes.split_first() else {
                    self.bom = Bom::Pending(matched);
                    return Ok(());
                };
                if byte != BOM[matched] {
                    self.bom = Bom::Done;
                    // What looked like the start of a BOM is ordinary content
                    // of the first line; it holds no terminator, so it is just
                    // buffered.
                    self.feed(&BOM[..matched])?;
                    break;
                }
                matched += 1;
                bytes = rest;
                if matched == BOM.len() {
                    self.bom = Bom::Done;
                    break;
                }
            }
        }
        if self.skip_lf {
            if let Some((&first, rest)) = bytes.split_first() {
                self.skip_lf = false;
                if first == b'\n' {
                    bytes = rest;
                }
            }
        }
        self.feed(bytes)
    }

    fn feed(&mut self, input: &[u8]) -> Result<(), DecodeError> {
        let mut pos = 0;
        if !self.partial.is_empty() {
            let Some(end) = memchr2(b'\n', b'\r', input) else {
                return self.hold(input);
            };
            self.hold(&input[..end])?;
            // Taken out so the line can be borrowed while `self` is mutated;
            // put back afterwards to keep its allocation for the next tail.
            let mut line = mem::take(&mut self.partial);
            let result = self.process_line(&decode(&line));
            line.clear();
            self.partial = line;
            result?;
            pos = self.after_terminator(input, end);
        }
        let Some(last) = memrchr2(b'\n', b'\r', &input[pos..]) else {
            return self.hold(&input[pos..]);
        };
        // Complete lines are parsed straight from the caller's slice, and
        // their UTF-8 is checked in one pass up to the last terminator (which
        // leaves out a character split by the chunk boundary): checking line
        // by line costs about a fifth of the throughput.
        let lines_end = pos + last + 1;
        let mut text = "";
        let mut text_start = pos;
        while pos < lines_end {
            // Blank lines end every event; spare them the search call.
            let end = pos
                + match input[pos] {
                    b'\n' => 0,
                    _ => match memchr2(b'\n', b'\r', &input[pos..lines_end]) {
                        Some(len) => len,
                        None => break,
                    },
                };
            if end - pos > self.limits.max_line {
                return Err(self.line_too_long());
            }
            if end > text_start + text.len() {
                // Only reached past invalid bytes: validation resumes at
                // this line, so each byte is still checked about once.
                text = valid_prefix(&input[pos..lines_end]);
                text_start = pos;
            }
            match text.get(pos - text_start..end - text_start) {
                Some(line) => self.process_line(line)?,
                None => self.process_line(&String::from_utf8_lossy(&input[pos..end]))?,
            }
            pos = self.after_terminator(input, end);
        }
        self.hold(&input[pos..])
    }

    /// Where the line ending at `input[end]` (a CR or LF) is followed by the
    /// next line.
    fn after_terminator(&mut self, input: &[u8], end: usize) -> usize {
        if input[end] == b'\r' {
            match input.get(end + 1) {
                Some(b'\n') => return end + 2,
                Some(_) => {}
                None => self.skip_lf = true,
            }
        }
        end + 1
    }

    fn hold(&mut self, bytes: &[u8]) -> Result<(), DecodeError> {
        // Checked before copying so the buffer never exceeds the limit, even
        // when the newline never comes.
        if self.partial.len() + bytes.len() > self.limits.max_line {
            return Err(self.line_too_long());
        }
        self.partial.extend_from_slice(bytes);
        Ok(())
    }

    fn process_line(&mut self, line: &str) -> Result<(), DecodeError> {
        let Some(&first) = line.as_bytes().first() else {
            self.dispatch();
            return Ok(());
        };
        if first == b':' {
            self.comments += 1;
            return Ok(());
        }
        // `data` lines dominate real streams; recognise them without a search.
        if let Some(value) = line.strip_prefix("data:") {
            return self.append_data(strip_space(value));
        }
        let (field, value) = match memchr(b':', line.as_bytes()) {
            Some(colon) => (&line[..colon], strip_space(&line[colon + 1..])),
            None => (line, ""),
        };
        match field {
            "data" => return self.append_data(value),
            "event" => {
                self.event_type.clear();
                self.event_type.push_str(value);
            }
            // A NUL could not be sent back in the `Last-Event-ID` header.
            "id" if !value.contains('\0') => {
                self.id_buffer.clear();
                self.id_buffer.push_str(value);
            }
            // Anything but plain digits (sign, unit, fraction) is ignored.
            "retry" if !value.is_empty() && value.bytes().all(|byte| byte.is_ascii_digit()) => {
                // Saturates rather than wrapping: an absurd delay stays absurd.
                let ms = value.bytes().fold(0u64, |ms, digit| {
                    ms.saturating_mul(10)
                        .saturating_add(u64::from(digit - b'0'))
                });
                self.retry_ms = Some(ms);
            }
            _ => {}
        }
        Ok(())
    }

    fn append_data(&mut self, value: &str) -> Result<(), DecodeError> {
        // A non-empty buffer already ends with the "\n" that will separate it
        // from `value`, so this is the size the event would be dispatched with.
        if self.data.len() + value.len() > self.limits.max_event {
            return Err(DecodeError::EventTooLarge {
                limit: self.limits.max_event,
            });
        }
        if self.data.is_empty() {
            // Most events have a single data line: size it exactly once.
            self.data = String::with_capacity(value.len() + 1);
        }
        self.data.push_str(value);
        self.data.push('\n');
        Ok(())
    }

    fn dispatch(&mut self) {
        // The ID persists across events and is committed even when nothing is
        // dispatched, so an `id:`-only block still moves the resume point.
        if self.last_event_id != self.id_buffer {
            self.last_event_id.clone_from(&self.id_buffer);
        }
        if self.data.is_empty() {
            self.event_type.clear();
            return;
        }
        let mut data = mem::take(&mut self.data);
        // Drops the "\n" appended after the last value; unlike `pop`, this
        // does not decode the character.
        data.truncate(data.len() - 1);
        let id = self.last_event_id.clone();
        let event = if self.event_type.is_empty() {
            Cow::Borrowed("message")
        } else {
            Cow::Owned(mem::take(&mut self.event_type))
        };
        self.ready.push_back(Event { event, data, id });
    }

    fn line_too_long(&self) -> DecodeError {
        DecodeError::LineTooLong {
            limit: self.limits.max_line,
        }
    }

    fn fail(&mut self, error: DecodeError) {
        self.state = State::Failed(Some(error));
        self.release_buffers();
    }

    fn release_buffers(&mut self) {
        self.partial = Vec::new();
        self.data = String::new();
        self.event_type = String::new();
        self.id_buffer = String::new();
        self.skip_lf = false;
    }
}

/// A field value without the one space conventionally written after the colon.
fn strip_space(value: &str) -> &str {
    value.strip_prefix(' ').unwrap_or(value)
}

/// The longest prefix of `bytes` that is valid UTF-8.
fn valid_prefix(bytes: &[u8]) -> &str {
    match std::str::from_utf8(bytes) {
        Ok(text) => text,
        // Checked a second time only on invalid input, where speed matters less.
        Err(error) => std::str::from_utf8(&bytes[..error.valid_up_to()]).unwrap_or_default(),
    }
}

/// UTF-8 with invalid sequences replaced by U+FFFD; the strict check is
/// about five times faster than the lossy one on the (usual) valid input.
///
/// Decoding each line on its own yields the same text as decoding the whole
/// stream first, as the standard describes: CR, LF and ':' are ASCII, which
/// never occurs inside a multi-byte sequence and ends any invalid one.
fn decode(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

#[cfg(test)]
#[path = "sse_tests.rs"]
mod tests;
