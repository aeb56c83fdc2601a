//! Following a deployment's or service's logs: [`Client::stream_logs`] opens
//! `GET /logs/stream` through the generated operation and turns its bytes,
//! through [`crate::sse::Decoder`], into a [`LogStream`] of [`LogEvent`]s,
//! with an idle timeout and optional resume.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_core::Stream;
use tokio::time::{Instant, Sleep};

use crate::error::{Error, ErrorKind};
use crate::facts::OPEN_LOG_STREAM;
use crate::pipeline::decide::{Attempts, Next, Outcome};
use crate::pipeline::generated::open_stream;
use crate::pipeline::StreamOptions;
use crate::retry::{Failure, Reconnect, RetryConfig};
use crate::sse::{ByteString, Decoder, Event, Limits};
use crate::Client;

/// One event of a log stream.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogEvent {
    /// A log line (an SSE `data:` event). It dereferences to `&str` and
    /// displays as text; it shares the memory of the bytes it arrived in, so
    /// convert it with `String::from` to keep it for long.
    Line(ByteString),
    /// The stream is complete (`event: done`); nothing follows it.
    Done(String),
    /// An event type this version of the SDK does not know.
    Other {
        /// The SSE event type.
        event: String,
        /// Its data.
        data: String,
        /// The last event id when it arrived: `None` when the instance never
        /// sent one, `Some("")` when it cleared it with an empty `id`.
        id: Option<String>,
    },
}

/// A log stream that dropped is being reopened: what
/// [`LogStreamBuilder::on_reconnect`] is told, once per reopen, before its
/// wait.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Reconnecting {
    /// Which reopen in a row this is, from 1; back to 1 once a reopened
    /// stream has yielded an event.
    pub attempt: u32,
    /// How many reopens in a row the stream's [`Reconnect`] allows.
    pub max_attempts: u32,
    /// How long the stream waits before this reopen.
    pub wait: Duration,
    /// How the connection was lost (`Transport`, `Timeout`, `Stream`, ...).
    pub cause: ErrorKind,
}

/// The function told of each reconnect.
#[derive(Clone)]
struct ReconnectHook(Arc<dyn Fn(&Reconnecting) + Send + Sync>);

impl std::fmt::Debug for ReconnectHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReconnectHook")
    }
}

/// The former name of [`Reconnect`].
#[deprecated(since = "0.2.0", note = "renamed `dployr::Reconnect`")]
pub type Resume = Reconnect;

/// Options for a log stream; made by [`Client::log_stream`].
#[derive(Clone, Debug)]
#[must_use = "nothing is opened until `open` is awaited"]
pub struct LogStreamBuilder {
    client: Client,
    id: String,
    resume: Option<Reconnect>,
    idle_timeout: Duration,
    open_timeout: Option<Duration>,
    limits: Limits,
    on_reconnect: Option<ReconnectHook>,
}

impl LogStreamBuilder {
    /// Reconnects when the connection drops before `done`, sending
    /// `Last-Event-ID` so the instance continues where it stopped. The
    /// header carries the last id the instance set, empty if it cleared it
    /// with an empty `id`; it is left out when no id was ever set.
    pub fn resume(mut self, resume: Reconnect) -> Self {
        self.resume = Some(resume);
        self
    }

    /// Fails with [`ErrorKind::Timeout`] after this long without a byte
    /// (default: the client's, 45 s unless configured).
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Fails with [`ErrorKind::Timeout`] when opening (or, with resume,
    /// reopening) the stream gets no answer headers for this long (default:
    /// the client's per-attempt timeout, 30 s unless configured).
    pub fn open_timeout(mut self, timeout: Duration) -> Self {
        self.open_timeout = Some(timeout);
        self
    }

    /// Calls `hook` each time a dropped stream is about to be reopened (with
    /// [`resume`](Self::resume) on), so a program can tell its user, as data
    /// rather than through logs. Never called before a drop.
    ///
    /// ```
    /// # async fn run(client: dployr::Client) -> Result<(), dployr::Error> {
    /// let logs = client
    ///     .log_stream("01HN2K3M4N5P6Q7R8S9T0U1V2W")
    ///     .resume(dployr::Reconnect::default())
    ///     .on_reconnect(|r| eprintln!("connection lost; reconnecting (attempt {})", r.attempt))
    ///     .open()
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn on_reconnect(mut self, hook: impl Fn(&Reconnecting) + Send + Sync + 'static) -> Self {
        self.on_reconnect = Some(ReconnectHook(Arc::new(hook)));
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
        let body = connect(&self.client, &self.id, &self.options(None, None)).await?;
        Ok(LogStream {
            decoder: Decoder::with_limits(self.limits),
            body,
            idle: Box::pin(tokio::time::sleep(self.idle_timeout)),
            idle_armed: false,
            reconnecting: None,
            options: self,
            failed_attempts: 0,
            finished: false,
            reported: None,
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
            open_timeout: None,
            limits: Limits::default(),
            on_reconnect: None,
        }
    }
}

/// The events of a log stream; see [`Client::stream_logs`].
///
/// Ends after [`LogEvent::Done`] or after the first error. Dropping it closes
/// the connection.
///
/// When the body ends, a last `done` or `error` event that no blank line
/// ended still counts if all its lines arrived whole (each ended by a
/// newline), as the API reference's own example ends its stream: `done`
/// yields [`LogEvent::Done`], `error` the [`ErrorKind::Stream`] error with
/// the instance's message. Any other data left unended at that point is
/// dropped: the stream fails with [`ErrorKind::Stream`], or reconnects when
/// [resume](LogStreamBuilder::resume) is on.
// Polled by hand rather than built from an `async` block: a stream yields
// hundreds of thousands of events per second, and a future per event cost
// more than decoding the event.
pub struct LogStream {
    options: LogStreamBuilder,
    body: Body,
    decoder: Decoder,
    /// Fires when the body has been silent for the idle timeout.
    idle: Pin<Box<Sleep>>,
    /// Whether `idle` counts from the current wait; the clock starts when the
    /// stream first waits for bytes, as a timeout around each read would.
    idle_armed: bool,
    /// Set while the connection is being replaced after a loss.
    reconnecting: Option<Pin<Box<dyn Future<Output = Reconnected> + Send>>>,
    /// Reconnects in a row that did not yield an event.
    failed_attempts: u32,
    finished: bool,
    /// What the instance said in an `event: error`, once it has.
    reported: Option<String>,
}

impl std::fmt::Debug for LogStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogStream")
            .field("id", &self.options.id)
            .field("reconnecting", &self.reconnecting.is_some())
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl Stream for LogStream {
    type Item = Result<LogEvent, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if this.finished {
                return Poll::Ready(None);
            }
            if let Some(reconnecting) = &mut this.reconnecting {
                let Reconnected {
                    body,
                    failed_attempts,
                } = ready!(reconnecting.as_mut().poll(cx));
                this.reconnecting = None;
                this.failed_attempts = failed_attempts;
                match body {
                    Ok(body) => {
                        this.body = body;
                        this.decoder.restart();
                        this.idle_armed = false;
                    }
                    Err(e) => {
                        this.finished = true;
                        return Poll::Ready(Some(Err(e)));
                    }
                }
            }
            if let Some(event) = this.decoder.next_event() {
                return Poll::Ready(Some(this.on_event(event)));
            }
            let lost = match this.body.as_mut().poll_next(cx) {
                Poll::Ready(Some(Ok(bytes))) => {
                    this.decoder.push_bytes(bytes);
                    this.idle_armed = false;
                    continue;
                }
                Poll::Ready(Some(Err(e))) => Error::from_reqwest(e),
                Poll::Ready(None) => {
                    // The API reference's own example ends its stream with
                    // `done` and no blank line. The decoder, per the
                    // standard, drops such an event; for the two events that
                    // end a log stream, lines that all arrived whole are
                    // taken as the instance meant them.
                    let last = this
                        .decoder
                        .unterminated_event()
                        .filter(|event| matches!(&*event.event, "done" | "error"));
                    this.decoder.finish();
                    if let Some(event) = last {
                        return Poll::Ready(Some(this.on_event(Ok(event))));
                    }
                    if let Some(event) = this.decoder.next_event() {
                        return Poll::Ready(Some(this.on_event(event)));
                    }
                    Error::new(ErrorKind::Stream, "the log stream ended before `done`")
                }
                Poll::Pending => {
                    if !this.idle_armed {
                        let deadline = Instant::now() + this.options.idle_timeout;
                        this.idle.as_mut().reset(deadline);
                        this.idle_armed = true;
                    }
                    ready!(this.idle.as_mut().poll(cx));
                    Error::new(
                        ErrorKind::Timeout,
                        format!(
                            "no bytes on the log stream for {}s (the instance sends a heartbeat every 15s)",
                            this.options.idle_timeout.as_secs_f32()
                        ),
                    )
                }
            };
            // With resume on, the loop goes on to poll the reconnect.
            if let Err(e) = this.on_lost(lost) {
                return Poll::Ready(Some(Err(e)));
            }
        }
    }
}

type Body = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send + Sync>>;

impl LogStreamBuilder {
    /// What the pipeline needs to open this stream.
    fn options(&self, last_event_id: Option<String>, retry: Option<RetryConfig>) -> StreamOptions {
        StreamOptions {
            last_event_id,
            open_timeout: self.open_timeout,
            retry,
            fills_token: true,
        }
    }
}

/// Opens the stream: the generated `openLogStream` request, through the
/// pipeline with the stream's options, which fills in the token (header and
/// query) on every attempt, within the call's span, `Last-Event-ID` and the
/// headers' deadline.
async fn connect(client: &Client, id: &str, options: &StreamOptions) -> Result<Body, Error> {
    // The builder requires its `token` parameter: a stand-in, never sent,
    // that the pipeline replaces with the token it resolves.
    let built = client
        .open_log_stream()
        .id(id)
        .token(TOKEN_STAND_IN)
        .build_request();
    let answer = open_stream(&OPEN_LOG_STREAM, built, options).await?;
    Ok(Box::pin(answer.bytes_stream()))
}

/// What the generated builder is given for the token it requires.
const TOKEN_STAND_IN: &str = "filled-by-the-pipeline";

/// What a reconnect attempt ends with.
struct Reconnected {
    body: Result<Body, Error>,
    failed_attempts: u32,
}

impl LogStream {
    /// The data of the `event: error` the stream ended with, if it ended so:
    /// the instance's own account of the failure, without this crate's words
    /// around it.
    pub(crate) fn reported_error(&self) -> Option<&str> {
        self.reported.as_deref()
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
                Ok(LogEvent::Done(event.data.into()))
            }
            "error" => {
                self.finished = true;
                self.reported = Some(event.data.to_string());
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
                data: event.data.into(),
                id: event.id.map(String::from),
            }),
        }
    }

    /// Starts replacing the connection after `lost`, or ends the stream with
    /// it when resume is off.
    fn on_lost(&mut self, lost: Error) -> Result<(), Error> {
        let Some(resume) = self.options.resume.clone() else {
            self.finished = true;
            return Err(lost);
        };
        self.reconnecting = Some(Box::pin(reconnect(
            ReconnectWith {
                builder: self.options.clone(),
                resume,
            },
            lost,
            Resumption {
                last_event_id: self.decoder.last_event_id().map(str::to_string),
                retry: self.decoder.retry(),
                failed_attempts: self.failed_attempts,
            },
        )));
        Ok(())
    }
}

/// Where a lost stream stood, for its reconnect.
struct Resumption {
    /// `None` when no id was ever set: no `Last-Event-ID` is sent then.
    last_event_id: Option<String>,
    retry: Option<Duration>,
    failed_attempts: u32,
}

/// The stream's options, for its reconnect.
struct ReconnectWith {
    builder: LogStreamBuilder,
    resume: Reconnect,
}

/// Waits, then reopens the stream. The pipeline's decide step, with the
/// client's retry policy and the stream's [`Reconnect`] as its attempts and
/// waits, says whether to reopen and how long to wait first, and which
/// failures of the reopen itself are tried again.
async fn reconnect(options: ReconnectWith, lost: Error, from: Resumption) -> Reconnected {
    let ReconnectWith { builder, resume } = options;
    let settings = &builder.client.inner.settings;
    let policy = settings.retry.for_reconnects(&resume);
    let get = reqwest::Method::GET;
    let mut attempts = Attempts::from(&policy, &settings.budget, &get, from.failed_attempts + 1);
    let attempt = attempts.number();
    // A lost stream counts as a lost connection.
    let lost_connection = Outcome::Failed {
        failure: Failure::Transport,
        asked: from.retry,
        resendable: true,
        refreshable: false,
    };
    let Next::Restart { wait, .. } = attempts.decide(lost_connection) else {
        return Reconnected {
            body: Err(gave_up(&lost, &resume, None)),
            failed_attempts: from.failed_attempts,
        };
    };
    let left = resume.max_attempts - from.failed_attempts;
    if let Some(hook) = &builder.on_reconnect {
        (hook.0)(&Reconnecting {
            attempt,
            max_attempts: resume.max_attempts,
            wait,
            cause: lost.kind(),
        });
    }
    tracing::info!(
        target: "dployr::logs",
        attempts_left = left,
        wait_ms = wait.as_millis() as u64,
        kind = ?lost.kind(), "log stream lost, reconnecting"
    );
    tokio::time::sleep(wait).await;
    // The reopen's own retries spend what is left of the stream's attempts.
    let reopen = policy.max_retries(left - 1);
    let open = builder.options(from.last_event_id, Some(reopen));
    let body = match connect(&builder.client, &builder.id, &open).await {
        Ok(body) => Ok(body),
        Err(e) if e.is_retryable() => Err(gave_up(&lost, &resume, Some(e))),
        Err(e) => Err(e),
    };
    Reconnected {
        body,
        // Counts until the new connection yields an event.
        failed_attempts: attempt,
    }
}

/// The stream was lost and reopening it kept failing.
fn gave_up(lost: &Error, resume: &Reconnect, last: Option<Error>) -> Error {
    let error = Error::new(
        ErrorKind::Stream,
        format!(
            "the log stream was lost and reopening it failed ({} reconnects allowed): {lost}",
            resume.max_attempts
        ),
    );
    match last {
        Some(last) => error.with_source(last),
        None => error,
    }
}
