//! The events a mocked log stream sends, framed as an instance frames them.

use std::fmt::Write as _;

/// One event of a mocked `text/event-stream` answer (the log stream's
/// `then.success(200, events)`).
///
/// ```
/// use dployr::mock::ServerEvent;
///
/// let events = [
///     ServerEvent::line("cloning repository").with_id("1"),
///     ServerEvent::heartbeat(),
///     ServerEvent::done("stream completed"),
/// ];
/// # let _ = events;
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerEvent {
    /// `None` for a plain `data:` line, or a comment.
    event: Option<&'static str>,
    /// `None` for a comment.
    data: Option<String>,
    id: Option<String>,
}

impl ServerEvent {
    /// A log line: `data: <line>`. A line with line breaks goes out as
    /// several `data:` fields of one event, and arrives whole.
    pub fn line(line: impl Into<String>) -> Self {
        Self::data(None, line.into())
    }

    /// The end of the stream: `event: done` with `message` as its data.
    pub fn done(message: impl Into<String>) -> Self {
        Self::data(Some("done"), message.into())
    }

    /// A failure the instance reports in the stream: `event: error` with
    /// `message` as its data.
    pub fn error(message: impl Into<String>) -> Self {
        Self::data(Some("error"), message.into())
    }

    /// The `: heartbeat` comment an instance sends while the log is quiet.
    pub fn heartbeat() -> Self {
        Self {
            event: None,
            data: None,
            id: None,
        }
    }

    /// The same event with `id: <id>`, the id a client resumes from.
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    fn data(event: Option<&'static str>, data: String) -> Self {
        Self {
            event,
            data: Some(data),
            id: None,
        }
    }

    /// The body of a stream of `events`.
    pub(crate) fn frame(events: impl IntoIterator<Item = ServerEvent>) -> String {
        let mut body = String::new();
        for event in events {
            event.write_to(&mut body);
        }
        body
    }

    fn write_to(&self, out: &mut String) {
        let Some(data) = &self.data else {
            out.push_str(": heartbeat\n\n");
            return;
        };
        if let Some(id) = &self.id {
            let _ = writeln!(out, "id: {id}");
        }
        if let Some(event) = self.event {
            let _ = writeln!(out, "event: {event}");
        }
        // `lines` would drop a trailing empty line, which is data too.
        for line in data.split('\n') {
            let _ = writeln!(out, "data: {}", line.strip_suffix('\r').unwrap_or(line));
        }
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::ServerEvent;

    #[test]
    fn frames_as_the_api_reference_does() {
        let body = ServerEvent::frame([
            ServerEvent::line("cloning repository"),
            ServerEvent::line("step 2").with_id("7"),
            ServerEvent::heartbeat(),
            ServerEvent::line("two\nlines"),
            ServerEvent::error("disk full"),
            ServerEvent::done("stream completed"),
        ]);
        assert_eq!(
            body,
            "data: cloning repository\n\n\
             id: 7\ndata: step 2\n\n\
             : heartbeat\n\n\
             data: two\ndata: lines\n\n\
             event: error\ndata: disk full\n\n\
             event: done\ndata: stream completed\n\n"
        );
    }
}
