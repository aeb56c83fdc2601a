//! The [`Decoder`]: the WHATWG line and field rules over chunks of bytes.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::mem;
use std::time::Duration;

use bytes::Bytes;
use memchr::{memchr, memchr2, memrchr2};

use super::{ByteString, DecodeError, Event, Limits};

const BOM: &[u8] = b"\xEF\xBB\xBF";

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
/// Feed bytes with [`push_bytes`](Decoder::push_bytes) (or
/// [`push`](Decoder::push), which copies them) as they arrive, call
/// [`finish`](Decoder::finish) at end of input, and drain dispatched events
/// with [`next_event`](Decoder::next_event) until it returns `None`.
///
/// Memory use does not depend on the stream's length: only the current
/// incomplete line and event are kept, within [`Limits`], plus the events
/// dispatched and not yet drained. Drain after each push so that queue stays
/// proportional to one chunk. Values shared with a chunk (see [`Event`]) keep
/// that chunk alive; the decoder itself holds on only to the chunks of the
/// event being built and of the last event id.
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
    data: Data,
    event_type: String,
    /// An `id` field seen since the last dispatch. The standard's "last event
    /// ID buffer" is this when set, and `last_event_id` otherwise; keeping the
    /// two apart spares a copy and a comparison per event.
    pending_id: Option<ByteString>,
    /// `None` until an `id` field is dispatched, so a cleared ID (`Some("")`)
    /// stays distinct from one never set.
    last_event_id: Option<ByteString>,
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
            data: Data::Empty,
            event_type: String::new(),
            pending_id: None,
            last_event_id: None,
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
        if self.state == State::Open {
            self.push_bytes(Bytes::copy_from_slice(bytes));
        }
    }

    /// Like [`push`](Decoder::push), for bytes already in a [`Bytes`] (as an
    /// HTTP client hands them out): event data and ids that lie whole within
    /// `bytes` are then shared with it instead of copied.
    pub fn push_bytes(&mut self, bytes: Bytes) {
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

    /// The last event ID string as of the latest dispatch: `None` if no `id`
    /// field was dispatched yet, `Some("")` if the last one was empty. When
    /// reconnecting, send `Last-Event-ID` with it if it is `Some`, even empty
    /// (the server cleared the ID), and no such header if it is `None`.
    #[must_use]
    pub fn last_event_id(&self) -> Option<&str> {
        self.last_event_id.as_deref()
    }

    /// The event the input holds that no blank line has dispatched yet,
    /// provided every line of it arrived whole, each ended by a line
    /// terminator: the event a blank line would dispatch now, with its type,
    /// data and ID.
    ///
    /// `None` when there is no such event: no `data` field since the last
    /// dispatch (a blank line would dispatch nothing either), a last line
    /// still waiting for its terminator, or a decoder that was finished or
    /// failed. Nothing changes: the event stays pending and the ID
    /// uncommitted.
    ///
    /// At the end of the input [`finish`](Decoder::finish) discards this
    /// event, as the standard requires. Call this first when the protocol
    /// carried by the stream lets a caller accept such a last event; the
    /// decoder's own rules do not.
    ///
    /// ```
    /// use dployr::sse::Decoder;
    ///
    /// let mut decoder = Decoder::new();
    /// decoder.push(b"event: done\ndata: stream completed\n");
    /// assert!(decoder.next_event().is_none());
    /// let last = decoder.unterminated_event().expect("both lines are whole");
    /// assert_eq!((&*last.event, &*last.data), ("done", "stream completed"));
    ///
    /// // A last line without its terminator does not count.
    /// decoder.push(b"data: more");
    /// assert!(decoder.unterminated_event().is_none());
    /// decoder.finish();
    /// assert!(decoder.next_event().is_none());
    /// ```
    #[must_use]
    pub fn unterminated_event(&self) -> Option<Event> {
        // A BOM still held back means no line was processed, so `data` is
        // empty then too.
        if self.state != State::Open || !self.partial.is_empty() {
            return None;
        }
        let data = match &self.data {
            Data::Empty => return None,
            Data::One(data) => data.clone(),
            Data::Joined(data) => ByteString::from(data.as_str()),
        };
        let event = if self.event_type.is_empty() {
            Cow::Borrowed("message")
        } else {
            Cow::Owned(self.event_type.clone())
        };
        let id = self.pending_id.as_ref().or(self.last_event_id.as_ref());
        Some(Event {
            event,
            data,
            id: id.cloned(),
        })
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
        self.bom = Bom::Pending(0);
    }

    /// The limits this decoder enforces.
    #[must_use]
    pub fn limits(&self) -> Limits {
        self.limits
    }

    fn push_open(&mut self, mut bytes: Bytes) -> Result<(), DecodeError> {
        if let Bom::Pending(mut matched) = self.bom {
            loop {
                let Some(&byte) = bytes.first() else {
                    self.bom = Bom::Pending(matched);
                    return Ok(());
                };
                if byte != BOM[matched] {
                    self.bom = Bom::Done;
                    // What looked like the start of a BOM is ordinary content
                    // of the first line; it holds no terminator, so it is just
                    // buffered.
                    self.hold(&BOM[..matched])?;
                    break;
                }
                matched += 1;
                bytes = bytes.slice(1..);
                if matched == BOM.len() {
                    self.bom = Bom::Done;
                    break;
                }
            }
        }
        if self.skip_lf {
            if let Some(&first) = bytes.first() {
                self.skip_lf = false;
                if first == b'\n' {
                    bytes = bytes.slice(1..);
                }
            }
        }
        self.feed(&bytes)
    }

    fn feed(&mut self, input: &Bytes) -> Result<(), DecodeError> {
        let mut pos = 0;
        if !self.partial.is_empty() {
            let Some(end) = memchr2(b'\n', b'\r', input) else {
                return self.hold(input);
            };
            self.hold(&input[..end])?;
            // A line split across chunks is the one case that copies: its
            // pieces are joined in `partial`, whose allocation is kept for the
            // next one.
            let line = ByteString::from(decode(&self.partial).into_owned());
            self.partial.clear();
            self.process_line(&line, &line)?;
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
        let mut text = ByteString::new();
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
                text = valid_prefix(input.slice(pos..lines_end));
                text_start = pos;
            }
            match text.get(pos - text_start..end - text_start) {
                Some(line) => self.process_line(&text, line)?,
                None => {
                    let line =
                        ByteString::from(String::from_utf8_lossy(&input[pos..end]).into_owned());
                    self.process_line(&line, &line)?;
                }
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

    /// Handles one line; `line` lies within `source`, so values can be taken
    /// from it as shared slices.
    fn process_line(&mut self, source: &ByteString, line: &str) -> Result<(), DecodeError> {
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
            return self.append_data(source, strip_space(value));
        }
        let (field, value) = match memchr(b':', line.as_bytes()) {
            Some(colon) => (&line[..colon], strip_space(&line[colon + 1..])),
            None => (line, ""),
        };
        match field {
            "data" => return self.append_data(source, value),
            "event" => {
                self.event_type.clear();
                self.event_type.push_str(value);
            }
            // A NUL could not be sent back in the `Last-Event-ID` header.
            "id" if memchr(0, value.as_bytes()).is_none() => {
                self.pending_id = Some(source.slice_ref(value));
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

    fn append_data(&mut self, source: &ByteString, value: &str) -> Result<(), DecodeError> {
        // The size the event would be dispatched with, "\n" separators included.
        let size = match &self.data {
            Data::Empty => value.len(),
            Data::One(data) => data.len() + 1 + value.len(),
            Data::Joined(data) => data.len() + 1 + value.len(),
        };
        if size > self.limits.max_event {
            return Err(DecodeError::EventTooLarge {
                limit: self.limits.max_event,
            });
        }
        match &mut self.data {
            // Most events have a single data line, which is kept as a slice.
            Data::Empty => self.data = Data::One(source.slice_ref(value)),
            Data::One(first) => {
                let mut joined = String::with_capacity(size);
                joined.push_str(first);
                joined.push('\n');
                joined.push_str(value);
                self.data = Data::Joined(joined);
            }
            Data::Joined(joined) => {
                joined.push('\n');
                joined.push_str(value);
            }
        }
        Ok(())
    }

    fn dispatch(&mut self) {
        // The ID persists across events and is committed even when nothing is
        // dispatched, so an `id:`-only block still moves the resume point.
        if let Some(id) = self.pending_id.take() {
            self.last_event_id = Some(id);
        }
        let data = match mem::take(&mut self.data) {
            Data::Empty => {
                self.event_type.clear();
                return;
            }
            Data::One(data) => data,
            Data::Joined(data) => ByteString::from(data),
        };
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
        self.data = Data::Empty;
        self.event_type = String::new();
        self.pending_id = None;
        self.skip_lf = false;
    }
}

/// The `data` values of the event being built.
#[derive(Debug, Clone, Default)]
enum Data {
    /// No `data` field yet: a blank line dispatches nothing.
    #[default]
    Empty,
    /// One value, shared with its chunk.
    One(ByteString),
    /// Several values, joined with "\n".
    Joined(String),
}

impl Data {
    /// Bytes held, as the event would be dispatched.
    #[cfg(test)]
    fn len(&self) -> usize {
        match self {
            Data::Empty => 0,
            Data::One(data) => data.len(),
            Data::Joined(data) => data.len(),
        }
    }
}

/// A field value without the one space conventionally written after the colon.
fn strip_space(value: &str) -> &str {
    value.strip_prefix(' ').unwrap_or(value)
}

/// The longest prefix of `bytes` that is valid UTF-8.
fn valid_prefix(bytes: Bytes) -> ByteString {
    match ByteString::try_from(bytes.clone()) {
        Ok(text) => text,
        // Checked a second time only on invalid input, where speed matters less.
        Err(error) => ByteString::try_from(bytes.slice(..error.valid_up_to())).unwrap_or_default(),
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
#[path = "decoder_tests.rs"]
mod tests;
