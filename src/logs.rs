//! Following a deployment's or service's logs: [`Client::stream_logs`] opens
//! `GET /logs/stream` through the generated operation and turns its bytes,
//! through [`crate::sse::Decoder`], into a [`LogStream`] of [`LogEvent`]s,
//! with an idle timeout and optional resume.

use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_core::Stream;
use futures_util::StreamExt as _;

use crate::error::{Error, ErrorKind};
use crate::sse::{Decoder, Event, Limits};
use crate::Client;

/// The instance sends a heartbeat every 15 s; three missed ones mean the
/// stream is dead even if the connection looks open.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(45);

/// One event of a log stream.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogEvent {
    /// A log line (an SSE `data:` event).
    Line(String),
    /// The stream is complete (`event: done`); nothing follows it.
    Done(String),
    /// An event type this version of the SDK does not know.
    Other {
        /// The SSE event type.
        event: String,
        /// Its data.
        data: String,
        /// The last event id when it arrived (empty when none was sent).
        id: String,
    },
}

/// Reconnecting a log stream that drops before `done`.
///
/// ```
/// # async fn run(client: dployr::Client) -> Result<(), dployr::Error> {
/// let logs = client
///     .log_stream("01HN2K3M4N5P6Q7R8S9T0U1V2W")
///     .resume(dployr::Resume::default())
///     .open()
///     .await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resume {
    /// Reconnects in a row without receiving an event before giving up.
    pub max_attempts: u32,
    /// The first wait when the server sent no `retry:`; doubled per attempt.
    pub delay: Duration,
    /// The longest wait between attempts.
    pub max_delay: Duration,
}

impl Default for Resume {
    fn default() -> Self {
        Resume {
            max_attempts: 5,
            delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
        }
    }
}

/// Options for a log stream; made by [`Client::log_stream`].
#[derive(Debug)]
#[must_use = "nothing is opened until `open` is awaited"]
pub struct LogStreamBuilder {
    client: Client,
    id: String,
    resume: Option<Resume>,
    idle_timeout: Duration,
    limits: Limits,
}

impl LogStreamBuilder {
    /// Reconnects when the connection drops before `done`, sending
    /// `Last-Event-ID` so the instance continues where it stopped.
    pub fn resume(mut self, resume: Resume) -> Self {
        self.resume = Some(resume);
        self
    }

    /// Fails with [`ErrorKind::Timeout`] after this long without a byte
    /// (default: the client's, 45 s unless configured).
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Bounds on one line and one event (default 1 MiB each).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Opens the stream; returns once the instance's headers arrive. An
    /// error answer (401, 404, ...) is returned here, decoded as for any call.
    pub async fn open(self) -> Result<LogStream, Error> {
        let body = connect(&self.client, &self.id, None).await?;
        let state = State {
            decoder: Decoder::with_limits(self.limits),
            body,
            options: self,
            failed_attempts: 0,
            finished: false,
        };
        let events = futures_util::stream::unfold(state, |mut state| async move {
            let item = state.next_item().await?;
            Some((item, state))
        });
        Ok(LogStream {
            events: Box::pin(events),
        })
    }
}

impl Client {
    /// Follows the logs of a deployment or service until the instance sends
    /// `done`.
    ///
    /// ```
    /// # async fn run(client: dployr::Client) -> Result<(), dployr::Error> {
    /// use futures::StreamExt;
    /// let mut logs = client.stream_logs("01HN2K3M4N5P6Q7R8S9T0U1V2W").await?;
    /// while let Some(event) = logs.next().await {
    ///     match event? {
    ///         dployr::LogEvent::Line(line) => println!("{line}"),
    ///         dployr::LogEvent::Done(message) => eprintln!("done: {message}"),
    ///         other => eprintln!("{other:?}"),
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn stream_logs(&self, id: &str) -> Result<LogStream, Error> {
        self.log_stream(id).open().await
    }

    /// A log stream with options (resume, idle timeout, limits).
    pub fn log_stream(&self, id: impl Into<String>) -> LogStreamBuilder {
        LogStreamBuilder {
            client: self.clone(),
            id: id.into(),
            resume: None,
            idle_timeout: self.inner.settings.log_idle_timeout,
            limits: Limits::default(),
        }
    }
}

/// The events of a log stream; see [`Client::stream_logs`].
///
/// Ends after [`LogEvent::Done`] or after the first error. Dropping it closes
/// the connection.
pub struct LogStream {
    events: Pin<Box<dyn Stream<Item = Result<LogEvent, Error>> + Send>>,
}

impl std::fmt::Debug for LogStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogStream").finish_non_exhaustive()
    }
}

impl Stream for LogStream {
    type Item = Result<LogEvent, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        self.events.as_mut().poll_next(cx)
    }
}

type Body = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send + Sync>>;

async fn connect(client: &Client, id: &str, last_event_id: Option<&str>) -> Result<Body, Error> {
    let token = client.tokens().token_for_request().await?.ok_or_else(|| {
        Error::new(
            ErrorKind::Unauthorized,
            "no access token is set; a log stream needs one for its `token` parameter",
        )
    })?;
    let mut client = client.clone();
    client.inner.last_event_id = last_event_id
        .filter(|id| !id.is_empty())
        .map(str::to_string);
    let response = client.open_log_stream().id(id).token(token).send().await?;
    Ok(response.into_inner_stream())
}

struct State {
    options: LogStreamBuilder,
    body: Body,
    decoder: Decoder,
    failed_attempts: u32,
    finished: bool,
}

impl State {
    async fn next_item(&mut self) -> Option<Result<LogEvent, Error>> {
        while !self.finished {
            if let Some(event) = self.decoder.next_event() {
                return Some(self.on_event(event));
            }
            let chunk = tokio::time::timeout(self.options.idle_timeout, self.body.next()).await;
            let lost = match chunk {
                Ok(Some(Ok(bytes))) => {
                    self.decoder.push(&bytes);
                    continue;
                }
                Ok(Some(Err(e))) => Error::from_reqwest(e),
                Ok(None) => {
                    self.decoder.finish();
                    if let Some(event) = self.decoder.next_event() {
                        return Some(self.on_event(event));
                    }
                    Error::new(ErrorKind::Stream, "the log stream ended before `done`")
                }
                Err(_) => Error::new(
                    ErrorKind::Timeout,
                    format!(
                        "no bytes on the log stream for {}s (the instance sends a heartbeat every 15s)",
                        self.options.idle_timeout.as_secs_f32()
                    ),
                ),
            };
            if let Err(e) = self.reconnect(lost).await {
                self.finished = true;
                return Some(Err(e));
            }
        }
        None
    }

    fn on_event(
        &mut self,
        event: Result<Event, crate::sse::DecodeError>,
    ) -> Result<LogEvent, Error> {
        let event = match event {
            Ok(event) => event,
            Err(e) => {
                self.finished = true;
                return Err(Error::new(ErrorKind::Stream, e.to_string()).with_source(e));
            }
        };
        self.failed_attempts = 0;
        match &*event.event {
            "message" => Ok(LogEvent::Line(event.data)),
            "done" => {
                self.finished = true;
                Ok(LogEvent::Done(event.data))
            }
            "error" => {
                self.finished = true;
                Err(Error::new(
                    ErrorKind::Stream,
                    format!(
                        "the instance reported an error on the log stream: {}",
                        event.data
                    ),
                ))
            }
            _ => Ok(LogEvent::Other {
                event: event.event.into_owned(),
                data: event.data,
                id: event.id,
            }),
        }
    }

    /// Replaces the connection after `lost`, or returns why it cannot.
    async fn reconnect(&mut self, lost: Error) -> Result<(), Error> {
        let Some(resume) = self.options.resume.clone() else {
            return Err(lost);
        };
        loop {
            if self.failed_attempts >= resume.max_attempts {
                return Err(Error::new(
                    ErrorKind::Stream,
                    format!(
                        "the log stream was lost and {} reconnects failed: {lost}",
                        resume.max_attempts
                    ),
                ));
            }
            let wait = self.decoder.retry().unwrap_or_else(|| {
                resume
                    .delay
                    .saturating_mul(2u32.saturating_pow(self.failed_attempts.min(30)))
            });
            self.failed_attempts += 1;
            tracing::info!(
                target: "dployr::logs",
                attempt = self.failed_attempts,
                wait_ms = wait.min(resume.max_delay).as_millis() as u64,
                kind = ?lost.kind(), "log stream lost, reconnecting"
            );
            tokio::time::sleep(wait.min(resume.max_delay)).await;
            let last = self.decoder.last_event_id().to_string();
            match connect(&self.options.client, &self.options.id, Some(&last)).await {
                Ok(body) => {
                    self.body = body;
                    self.decoder.restart();
                    return Ok(());
                }
                Err(e) if e.is_retryable() || e.kind() == ErrorKind::Transport => continue,
                Err(e) => return Err(e),
            }
        }
    }
}
