//! The crate's one error type, [`Error`], and how every failure (an error
//! answer, a transport failure, a rejected input, a failed refresh) becomes
//! one, without ever carrying a token into a message.

use std::fmt;
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::StatusCode;

mod debug;
mod display;

use crate::types::{DeploymentStatus, ErrorResponse, FieldError};

/// The boxed error a refresher or other user code may return.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What kind of failure an [`Error`] is, to match on without reading strings.
///
/// ```
/// # async fn run(client: dployr::Client) {
/// match client.get_service().service_id("missing").send().await {
///     Err(e) if e.kind() == dployr::ErrorKind::NotFound => println!("no such service"),
///     Err(e) => eprintln!("{e}"),
///     Ok(service) => println!("{}", service.name),
/// }
/// # }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// 401: the access token is missing, expired or unknown.
    Unauthorized,
    /// 403: the token's role does not allow the operation.
    Forbidden,
    /// 404: the resource does not exist.
    NotFound,
    /// 409: the request conflicts with the resource's state.
    Conflict,
    /// 400 or 422: the instance rejected the request; see [`Error::details`].
    Validation,
    /// 429: too many requests; see [`Error::retry_after`].
    RateLimited,
    /// 5xx: the instance (or a gateway before it) failed.
    Server,
    /// Another non-success status the API does not describe.
    UnexpectedStatus,
    /// No answer (or no more bytes, on a log stream) within the timeout.
    Timeout,
    /// The connection to the instance could not be established.
    Connect,
    /// The connection failed after it was established.
    Transport,
    /// The answer could not be decoded; see [`Error::body_snippet`].
    Decode,
    /// A log stream failed or the server reported an error on it.
    Stream,
    /// A value was rejected before anything was sent; see [`Error::field`].
    InvalidInput,
    /// Refreshing the access token failed; the refresher's error is the source.
    Auth,
    /// The client's configuration (URL, environment variable) is unusable.
    Config,
    /// A deployment followed by `Client::deploy` ended without completing;
    /// see [`Error::deployment_id`], [`Error::deployment_status`] and
    /// [`Error::log_tail`].
    DeploymentFailed,
}

impl ErrorKind {
    /// The kind's name as `Debug` spells it, for the `error.type` of a span.
    pub(crate) fn name(self) -> &'static str {
        match self {
            ErrorKind::Unauthorized => "Unauthorized",
            ErrorKind::Forbidden => "Forbidden",
            ErrorKind::NotFound => "NotFound",
            ErrorKind::Conflict => "Conflict",
            ErrorKind::Validation => "Validation",
            ErrorKind::RateLimited => "RateLimited",
            ErrorKind::Server => "Server",
            ErrorKind::UnexpectedStatus => "UnexpectedStatus",
            ErrorKind::Timeout => "Timeout",
            ErrorKind::Connect => "Connect",
            ErrorKind::Transport => "Transport",
            ErrorKind::Decode => "Decode",
            ErrorKind::Stream => "Stream",
            ErrorKind::InvalidInput => "InvalidInput",
            ErrorKind::Auth => "Auth",
            ErrorKind::Config => "Config",
            ErrorKind::DeploymentFailed => "DeploymentFailed",
        }
    }
}

/// An error from the Dployr SDK.
///
/// Every operation's `send()`, [`raw`](crate::Client::raw) requests, log
/// streams, pages and the client builder return it. [`kind`](Error::kind) says what
/// happened; the accessors carry what the instance said. Its `Display` is one
/// sentence meant for people, and never contains a token.
///
/// ```
/// # async fn run(client: dployr::Client) -> Result<(), dployr::Error> {
/// let page = client.list_services().limit(20).send().await?;
/// println!("{} services", page.total);
/// # Ok(())
/// # }
/// ```
#[derive(thiserror::Error)]
#[error("{details}")]
pub struct Error {
    details: Box<Details>,
    #[source]
    source: Option<BoxError>,
}

struct Details {
    kind: ErrorKind,
    /// The call that failed: its operation, method and path (no query).
    call: Option<CallSite>,
    /// The call went out without an access token: none was set.
    sent_without_token: bool,
    message: String,
    status: Option<StatusCode>,
    code: Option<String>,
    request_id: Option<String>,
    fields: Vec<FieldError>,
    retry_after: Option<Duration>,
    field: Option<String>,
    body_snippet: Option<String>,
    /// The retry policy's answer for the request that failed so.
    retryable: bool,
    /// A retry was due, but the client's retry budget could not pay for it.
    budget_spent: bool,
    deployment: Option<Box<FailedDeployment>>,
}

/// Which call an error belongs to.
#[derive(Debug)]
struct CallSite {
    operation: &'static str,
    method: String,
    path: String,
}

/// What an [`ErrorKind::DeploymentFailed`] error carries.
#[derive(Debug)]
struct FailedDeployment {
    id: String,
    name: String,
    status: DeploymentStatus,
    log_tail: Vec<String>,
}

/// At most this many bytes of an undecodable body are kept, so an error never
/// holds a large body and stays readable.
const SNIPPET_BYTES: usize = 256;

/// The response header instances use to identify a request for support.
const REQUEST_ID_HEADER: &str = "x-request-id";

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            details: Box::new(Details {
                kind,
                call: None,
                sent_without_token: false,
                message: message.into(),
                status: None,
                code: None,
                request_id: None,
                fields: Vec::new(),
                retry_after: None,
                field: None,
                body_snippet: None,
                retryable: false,
                budget_spent: false,
                deployment: None,
            }),
            source: None,
        }
    }

    pub(crate) fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }

    pub(crate) fn invalid_input(field: impl Into<String>, why: impl fmt::Display) -> Self {
        let field = field.into();
        let mut e = Error::new(ErrorKind::InvalidInput, format!("{field} {why}"));
        e.details.field = Some(field);
        e
    }

    pub(crate) fn config(variable: impl Into<String>, why: impl fmt::Display) -> Self {
        let variable = variable.into();
        let mut e = Error::new(ErrorKind::Config, format!("{variable}: {why}"));
        e.details.field = Some(variable);
        e
    }

    /// A deployment that ended `status` rather than `completed`. `message` is
    /// what the instance said about it, when it said anything.
    pub(crate) fn deployment_failed(
        id: impl Into<String>,
        name: impl Into<String>,
        status: DeploymentStatus,
        message: Option<String>,
        log_tail: Vec<String>,
    ) -> Self {
        let message = message.unwrap_or_else(|| "the instance gave no reason".to_string());
        let mut e = Error::new(ErrorKind::DeploymentFailed, message);
        e.details.deployment = Some(Box::new(FailedDeployment {
            id: id.into(),
            name: name.into(),
            status,
            log_tail,
        }));
        e
    }

    /// An error answer: its kind follows the status, the rest the body.
    pub(crate) fn from_status(
        status: StatusCode,
        headers: &HeaderMap,
        body: Option<&ErrorResponse>,
    ) -> Self {
        let (message, code, fields) = match body {
            Some(ErrorResponse::ValidationError(v)) => {
                (Some(v.error.clone()), v.code.clone(), v.details.clone())
            }
            Some(ErrorResponse::Error(e)) => (Some(e.error.clone()), e.code.clone(), Vec::new()),
            None => (None, None, Vec::new()),
        };
        Error::of_answer(status, headers, message, code, fields)
    }

    fn of_answer(
        status: StatusCode,
        headers: &HeaderMap,
        message: Option<String>,
        code: Option<String>,
        fields: Vec<FieldError>,
    ) -> Self {
        let message = message.unwrap_or_else(|| {
            status
                .canonical_reason()
                .unwrap_or("unknown status")
                .to_string()
        });
        let mut e = Error::new(kind_of_status(status), message);
        e.details.status = Some(status);
        e.details.code = code;
        e.details.fields = fields;
        e.details.request_id = header_text(headers, REQUEST_ID_HEADER);
        if status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE {
            e.details.retry_after = retry_after(headers);
        }
        e
    }

    /// An error answer whose body is at hand. The envelope is read
    /// leniently, since instances stray from the spec's `ErrorResponse`:
    /// `error` and `code` are kept whenever they are strings, `details`
    /// only when it is the list of field errors the spec describes. A body
    /// that is not JSON (a proxy's HTML or text page) becomes the message,
    /// shortened to a line.
    pub(crate) fn from_answer(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Self {
        let envelope = serde_json::from_slice::<serde_json::Value>(body).ok();
        let text = |key: &str| {
            envelope
                .as_ref()
                .and_then(|v| v.get(key))
                .and_then(serde_json::Value::as_str)
                .map(str::to_string)
        };
        let (message, code) = (text("error"), text("code"));
        let fields = envelope
            .as_ref()
            .and_then(|v| v.get("details"))
            .and_then(|d| serde_json::from_value::<Vec<FieldError>>(d.clone()).ok())
            .unwrap_or_default();
        let understood = message.is_some();
        let message = message.or_else(|| plain_text_message(body, envelope.is_some()));
        let mut e = Error::of_answer(status, headers, message, code, fields);
        if !understood && !body.is_empty() {
            let cut = &body[..floor_char_boundary(body, SNIPPET_BYTES)];
            e.details.body_snippet = Some(String::from_utf8_lossy(cut).into_owned());
        }
        e
    }

    /// A body that is not what the operation promises.
    pub(crate) fn decode(
        status: Option<StatusCode>,
        body: &[u8],
        cause: impl Into<BoxError>,
    ) -> Self {
        let cut = &body[..body.len().min(SNIPPET_BYTES)];
        let mut e = Error::new(
            ErrorKind::Decode,
            "the instance's answer is not the JSON the API describes",
        )
        .with_source(cause);
        e.details.status = status;
        e.details.body_snippet = Some(String::from_utf8_lossy(cut).into_owned());
        e
    }

    /// Names what was expected and where in the document decoding stopped
    /// (a JSON path such as `items[3].status`).
    pub(crate) fn at_path(mut self, expected: &str, path: String, found: Option<&str>) -> Self {
        let expected = expected.rsplit("::").next().unwrap_or(expected);
        let found = found
            .map(|f| format!(", the answer being {f}"))
            .unwrap_or_default();
        let at = if path == "." {
            "the top level".to_string()
        } else {
            format!("`{path}`")
        };
        let cause = self
            .source
            .as_ref()
            .map(|s| format!(": {s}"))
            .unwrap_or_default();
        self.details.message = format!(
            "the instance's answer is not the {expected} the API describes (at {at}{cause}{found})"
        );
        self
    }

    /// Records which call failed: `Display` names it, [`operation`](Self::operation)
    /// gives it. A path carries no query, so no credential.
    pub(crate) fn in_call(mut self, operation: &'static str, method: &str, path: &str) -> Self {
        if self.details.call.is_none() {
            self.details.call = Some(CallSite {
                operation,
                method: method.to_string(),
                path: path.to_string(),
            });
        }
        self
    }

    /// Records that the failed call went out without an access token.
    pub(crate) fn set_sent_without_token(&mut self) {
        self.details.sent_without_token = true;
    }

    /// A transport failure, with any token in its URL redacted.
    pub(crate) fn from_reqwest(mut error: reqwest::Error) -> Self {
        let place = error
            .url_mut()
            .map(|url| {
                crate::secret::redact_url(url);
                let mut shown = url.clone();
                shown.set_query(None);
                format!(" ({shown})")
            })
            .unwrap_or_default();
        // Order matters: reqwest flags every failure while reading a body as
        // a decode error, so the causes hidden behind that flag go first.
        let (kind, what) = if error.is_timeout() {
            (ErrorKind::Timeout, "the instance did not answer in time")
        } else if error.is_connect() {
            (ErrorKind::Connect, "could not connect to the instance")
        } else if caused_by::<http_body_util::LengthLimitError>(&error) {
            (
                ErrorKind::Decode,
                "the instance's answer is larger than the client accepts \
                 (raise it with ClientBuilder::max_response_bytes)",
            )
        } else if caused_by::<std::io::Error>(&error) {
            (
                ErrorKind::Transport,
                "the connection to the instance broke off before the answer was complete",
            )
        } else if error.is_decode() {
            (
                ErrorKind::Decode,
                "the instance's answer could not be decoded",
            )
        } else {
            (
                ErrorKind::Transport,
                "the connection to the instance failed",
            )
        };
        let mut e = Error::new(kind, format!("{what}{place}")).with_source(error);
        if let Some(status) = e.source_status() {
            e.details.status = Some(status);
        }
        e
    }

    fn source_status(&self) -> Option<StatusCode> {
        self.source
            .as_deref()
            .and_then(|s| s.downcast_ref::<reqwest::Error>())
            .and_then(reqwest::Error::status)
    }

    /// The `operationId` of the call that failed, e.g. `getService`
    /// (`raw` for [`Client::raw`](crate::Client::raw)); `None` for errors of
    /// no call (configuration, a log stream's events, a deployment run).
    pub fn operation(&self) -> Option<&str> {
        self.details.call.as_ref().map(|c| c.operation)
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.details.kind
    }

    /// The HTTP status of the answer, when there was one.
    pub fn status(&self) -> Option<StatusCode> {
        self.details.status
    }

    /// The API's machine-readable code, e.g. `resource.not_found`.
    pub fn code(&self) -> Option<&str> {
        self.details.code.as_deref()
    }

    /// The API's message, or this crate's description of the failure.
    pub fn message(&self) -> &str {
        &self.details.message
    }

    /// The `X-Request-Id` of the answer, to quote when asking for support.
    pub fn request_id(&self) -> Option<&str> {
        self.details.request_id.as_deref()
    }

    /// The fields a validation failure names, with why each was rejected.
    pub fn details(&self) -> &[FieldError] {
        &self.details.fields
    }

    /// How long the instance asked to wait (429 and 503 with `Retry-After`).
    pub fn retry_after(&self) -> Option<Duration> {
        self.details.retry_after
    }

    /// The rejected input field or configuration variable.
    pub fn field(&self) -> Option<&str> {
        self.details.field.as_deref()
    }

    /// The start of a body that could not be decoded (at most 256 bytes).
    pub fn body_snippet(&self) -> Option<&str> {
        self.details.body_snippet.as_deref()
    }

    /// The id of the deployment that failed ([`ErrorKind::DeploymentFailed`]).
    pub fn deployment_id(&self) -> Option<&str> {
        self.details.deployment.as_deref().map(|d| d.id.as_str())
    }

    /// The status the failed deployment ended with, usually `failed`
    /// ([`ErrorKind::DeploymentFailed`]).
    pub fn deployment_status(&self) -> Option<&DeploymentStatus> {
        self.details.deployment.as_deref().map(|d| &d.status)
    }

    /// The last lines (at most 20) of the failed deployment's build log,
    /// oldest first; empty when its log could not be followed
    /// ([`ErrorKind::DeploymentFailed`]).
    pub fn log_tail(&self) -> &[String] {
        self.details
            .deployment
            .as_deref()
            .map_or(&[], |d| d.log_tail.as_slice())
    }

    /// True when the client's retry policy ([`RetryConfig`](crate::RetryConfig),
    /// which says which failures those are) would try the same request
    /// again. An error the client already retried as often as it may still
    /// says `true`: waiting and calling again may succeed.
    pub fn is_retryable(&self) -> bool {
        self.details.retryable
    }

    /// True when the client did not retry this failure because its
    /// [`RetryBudget`](crate::RetryBudget) was spent by other failures.
    pub fn retry_budget_spent(&self) -> bool {
        self.details.budget_spent
    }

    /// Records the retry policy's answer for this failure.
    pub(crate) fn set_retryable(&mut self, retryable: bool) {
        self.details.retryable = retryable;
    }

    /// Records that a retry was due but the retry budget was spent.
    pub(crate) fn set_budget_spent(&mut self) {
        self.details.budget_spent = true;
    }
}

/// For the bytes of [`Client::open_log_stream`](crate::Client::open_log_stream)'s
/// raw body, whose chunks fail with reqwest's error: `?` turns it into a
/// [`ErrorKind::Timeout`], [`ErrorKind::Transport`] or other kind, with any
/// token in its URL redacted.
impl From<reqwest::Error> for Error {
    fn from(error: reqwest::Error) -> Self {
        Error::from_reqwest(error)
    }
}

/// The longest message made from a plain-text error body.
const PLAIN_TEXT_MESSAGE_CHARS: usize = 200;

/// The message of an error answer that is not the API's envelope: its first
/// non-blank line of text, shortened. `None` for JSON, an HTML page or
/// nothing at all, where the status's own words say more.
fn plain_text_message(body: &[u8], is_json: bool) -> Option<String> {
    if is_json {
        return None;
    }
    let text = String::from_utf8_lossy(body);
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    if line.starts_with('<') {
        return None;
    }
    let mut message: String = line.chars().take(PLAIN_TEXT_MESSAGE_CHARS).collect();
    if message.len() < line.len() {
        message.push('…');
    }
    Some(message)
}

/// The largest length not over `max` that ends on a character boundary
/// (or anywhere in bytes that are not UTF-8).
fn floor_char_boundary(body: &[u8], max: usize) -> usize {
    if body.len() <= max {
        return body.len();
    }
    match std::str::from_utf8(body) {
        Ok(text) => (0..=max)
            .rev()
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(0),
        Err(_) => max,
    }
}

/// `Retry-After` as a duration: delta seconds, or an HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

fn kind_of_status(status: StatusCode) -> ErrorKind {
    match status.as_u16() {
        400 | 422 => ErrorKind::Validation,
        401 => ErrorKind::Unauthorized,
        403 => ErrorKind::Forbidden,
        404 => ErrorKind::NotFound,
        409 => ErrorKind::Conflict,
        429 => ErrorKind::RateLimited,
        500..=599 => ErrorKind::Server,
        _ => ErrorKind::UnexpectedStatus,
    }
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Whether an `E` is anywhere in the chain of causes of `error`.
fn caused_by<E: std::error::Error + 'static>(error: &reqwest::Error) -> bool {
    let mut source = std::error::Error::source(error);
    while let Some(s) = source {
        if s.is::<E>() {
            return true;
        }
        source = s.source();
    }
    false
}

#[cfg(test)]
mod tests;
