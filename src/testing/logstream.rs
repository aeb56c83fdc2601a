//! `GET /logs/stream`: a deployment's build log as server-sent events,
//! produced as the log grows rather than buffered.

use std::fmt::Write as _;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::StatusCode;
use bytes::Bytes;
use tokio::sync::watch;
use tokio::time::{Instant, Interval, MissedTickBehavior};

use super::call::{Answer, Call};
use super::faults::describe;
use super::reply::Reply;
use super::state::{lock, LogEntry, Shared};

const HEARTBEAT: &[u8] = b": heartbeat\n\n";

/// How long a stream that is about to be dropped waits first.
const FLUSH_PAUSE: Duration = Duration::from_millis(25);

pub(crate) fn open(call: &Call) -> Answer {
    if let Some(status) = lock(&call.shared.faults).refuse_streams_with {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let (message, code) = describe(status);
        return Err(Reply::error(status, message, code));
    }
    let id = call
        .query("id")
        .filter(|id| !id.is_empty())
        .ok_or_else(|| {
            Reply::error(
                StatusCode::BAD_REQUEST,
                "The query parameter `id` is required",
                "request.missing_parameter",
            )
        })?;
    let owner = call
        .shared
        .store()
        .log_owner(id)
        .ok_or_else(|| Reply::not_found("Deployment"))?;
    // Resume after the last event the client saw; an id that is not ours
    // (or no id) starts from the beginning.
    let next = call
        .headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok())
        .map_or(0, |seen| seen.saturating_add(1));
    let drop_after = lock(&call.shared.faults).drop_streams_after;
    let follow = Follow::new(call.shared.clone(), owner, next, drop_after);
    let events = futures_util::stream::unfold(follow, |mut follow| async move {
        let item = follow.next_chunk().await?;
        Some((item, follow))
    });
    Ok(Reply::Stream(Body::from_stream(events)))
}

/// One connection following one log.
struct Follow {
    shared: Arc<Shared>,
    deployment: String,
    /// The index of the next log entry to send.
    next: usize,
    /// Events sent on this connection, for `drop_log_streams_after`.
    sent: usize,
    drop_after: Option<usize>,
    heartbeat: Interval,
    changes: watch::Receiver<u64>,
    greeted: bool,
    ended: bool,
}

impl Follow {
    fn new(
        shared: Arc<Shared>,
        deployment: String,
        next: usize,
        drop_after: Option<usize>,
    ) -> Self {
        let period = shared.config.heartbeat;
        let mut heartbeat = tokio::time::interval_at(Instant::now() + period, period);
        heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let changes = shared.log_changed.subscribe();
        Follow {
            shared,
            deployment,
            next,
            sent: 0,
            drop_after,
            heartbeat,
            changes,
            greeted: false,
            ended: false,
        }
    }

    async fn next_chunk(&mut self) -> Option<Result<Bytes, io::Error>> {
        if self.ended {
            return None;
        }
        if !self.greeted {
            self.greeted = true;
            // Tells a reconnecting client how soon to come back.
            let retry = self.shared.config.reconnect_hint.as_millis();
            return Some(Ok(format!("retry: {retry}\n\n").into()));
        }
        loop {
            if self.drop_after == Some(self.sent) {
                self.ended = true;
                // Gives the server a moment with nothing to send, so it
                // flushes what it has: an error while the events are still
                // buffered would lose them, headers and all.
                tokio::time::sleep(FLUSH_PAUSE).await;
                // An error mid-body makes the server abort the connection
                // without ending the chunked body: the client sees it break.
                return Some(Err(io::Error::new(
                    io::ErrorKind::ConnectionAborted,
                    "log stream dropped by fault injection",
                )));
            }
            // Marked seen before reading the log, so a line written right
            // after the read still wakes the wait below.
            self.changes.borrow_and_update();
            let (entry, finished) = {
                let store = self.shared.store();
                match store.deployment(&self.deployment) {
                    Some(record) => (
                        record.log.get(self.next).cloned(),
                        record.log.last().is_some_and(LogEntry::is_last),
                    ),
                    None => (None, true),
                }
            };
            if let Some(entry) = entry {
                let blank_line = !entry.is_last() || self.shared.config.blank_line_after_last_event;
                let chunk = event(self.next, &entry, blank_line);
                self.next += 1;
                self.sent += 1;
                self.ended = entry.is_last();
                return Some(Ok(chunk));
            }
            if finished {
                // Resumed after the last event: nothing is left to send.
                self.ended = true;
                return None;
            }
            let shared = self.shared.clone();
            tokio::select! {
                changed = self.changes.changed() => {
                    if changed.is_err() {
                        self.ended = true;
                        return None;
                    }
                }
                _ = self.heartbeat.tick() => return Some(Ok(Bytes::from_static(HEARTBEAT))),
                () = shared.stopped() => {
                    self.ended = true;
                    return None;
                }
            }
        }
    }
}

/// The SSE event for log entry `index`, ended by a blank line if `blank_line`.
fn event(index: usize, entry: &LogEntry, blank_line: bool) -> Bytes {
    let (kind, text) = match entry {
        LogEntry::Line(text) => (None, text),
        LogEntry::Done(text) => (Some("done"), text),
        LogEntry::Failed(text) => (Some("error"), text),
    };
    let mut out = format!("id: {index}\n");
    if let Some(kind) = kind {
        let _ = writeln!(out, "event: {kind}");
    }
    for line in text.split('\n') {
        let _ = writeln!(out, "data: {}", line.trim_end_matches('\r'));
    }
    if blank_line {
        out.push('\n');
    }
    out.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_carry_their_index_and_type() {
        let line = event(0, &LogEntry::Line("cloning x".into()), true);
        assert_eq!(&line[..], b"id: 0\ndata: cloning x\n\n");
        let done = event(4, &LogEntry::Done("ok".into()), true);
        assert_eq!(&done[..], b"id: 4\nevent: done\ndata: ok\n\n");
        let failed = event(3, &LogEntry::Failed("a\nb".into()), true);
        assert_eq!(&failed[..], b"id: 3\nevent: error\ndata: a\ndata: b\n\n");
        // The API reference's shape for the last event: every line ends,
        // no blank line follows.
        let done = event(4, &LogEntry::Done("ok".into()), false);
        assert_eq!(&done[..], b"id: 4\nevent: done\ndata: ok\n");
    }
}
