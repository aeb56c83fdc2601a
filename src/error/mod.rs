//! The crate's one error type, [`Error`], and how every failure (an error
//! answer, a transport failure, a rejected input, a failed refresh) becomes
//! one, without ever carrying a token into a message.

use std::fmt;
use std::time::Duration;

use reqwest::StatusCode;

mod answer;
pub(crate) use answer::retry_after;
mod debug;
mod display;

use crate::role::Role;
use crate::types::{DeploymentStatus, FieldError};

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
    /// A 403: the role the operation needs and, when the token is a JWT
    /// that says, the role it has.
    roles: Option<(Role, Option<Role>)>,
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
                roles: None,
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

    /// The name of the failed deployment (its request's `name`)
    /// ([`ErrorKind::DeploymentFailed`]).
    ///
    /// ```
    /// # fn show(error: &dployr::Error) {
    /// if let (Some(name), Some(id)) = (error.deployment_name(), error.deployment_id()) {
    ///     eprintln!("{name} ({id}) did not complete");
    /// }
    /// # }
    /// ```
    pub fn deployment_name(&self) -> Option<&str> {
        self.details.deployment.as_deref().map(|d| d.name.as_str())
    }

    /// True when the call failed with 401 after going out without an access
    /// token, because none was set: a program can then say how it takes one
    /// (a flag, a variable) rather than that the token was refused.
    ///
    /// ```
    /// # fn show(error: &dployr::Error) {
    /// if error.sent_without_token() {
    ///     eprintln!("no access token was sent; set one first");
    /// }
    /// # }
    /// ```
    pub fn sent_without_token(&self) -> bool {
        self.details.sent_without_token
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

    /// For a 403 ([`ErrorKind::Forbidden`]) of an operation that needs a
    /// token: the least [`Role`] the operation needs, as the spec states it
    /// ([`Operation::role`](crate::Operation::role)). The message names it.
    ///
    /// ```
    /// # async fn run(client: dployr::Client) {
    /// if let Err(e) = client.get_system_info().send().await {
    ///     if let Some(role) = e.needed_role() {
    ///         eprintln!("ask for a token with the {role} role: {e}");
    ///     }
    /// }
    /// # }
    /// ```
    pub fn needed_role(&self) -> Option<Role> {
        self.details.roles.map(|(needed, _)| needed)
    }

    /// For a 403 with [`needed_role`](Self::needed_role): the role the
    /// access token carries, when it is a JWT with a `role` claim naming one
    /// (read without checking its signature, as the instance does that).
    pub fn token_role(&self) -> Option<Role> {
        self.details.roles.and_then(|(_, has)| has)
    }

    /// Records, for a 403, the role the operation needs and the one the
    /// token has.
    pub(crate) fn set_roles(&mut self, needed: Role, has: Option<Role>) {
        self.details.roles = Some((needed, has));
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

#[cfg(test)]
mod tests;
