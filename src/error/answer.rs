//! How what came back from the instance becomes an [`Error`]: an error
//! answer (its status and, read leniently, its body), a success body that
//! does not decode, a transport failure.

use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::StatusCode;

use super::{BoxError, Error, ErrorKind, REQUEST_ID_HEADER, SNIPPET_BYTES};
use crate::types::{ErrorResponse, FieldError};

impl Error {
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

pub(super) fn kind_of_status(status: StatusCode) -> ErrorKind {
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
