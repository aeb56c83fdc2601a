//! Sending one call's request: [`prepare`] checks it and gives it its token
//! and deadline; [`execute`] sends it, retries as the retry policy decides,
//! refreshes the token once on 401, and turns every failure into an
//! [`Error`]. The generated operations (through `crate::hooks`), raw requests
//! and log streams all send through here.

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{HeaderName, HeaderValue, ACCEPT, AUTHORIZATION};
use reqwest::{Request, Response, StatusCode};

use crate::auth::AccessToken;
use crate::error::{self, Error, ErrorKind};
use crate::facts::{self, Operation};
use crate::retry::{Decision, Failure};
use crate::settings::Context;

const LAST_EVENT_ID: HeaderName = HeaderName::from_static("last-event-id");

/// Checks `request` against what the spec says of `operation`, then sets
/// its token (unless the operation is public) and its deadline.
pub(crate) async fn prepare(
    ctx: &Context,
    operation: &Operation,
    request: &mut Request,
) -> Result<(), Error> {
    let span = tracing::Span::current();
    if !span.is_disabled() {
        span.record("http.request.method", request.method().as_str());
        span.record("url.path", request.url().path());
        if let Some(host) = request.url().host_str() {
            span.record("server.address", host);
        }
    }
    facts::check_path(operation, &ctx.settings.base_path, request.url().path())
        .and_then(|()| facts::check_request(operation, request))
        .map_err(|(field, why)| Error::invalid_input(field, why))?;
    if operation.public {
        request.headers_mut().remove(AUTHORIZATION);
    } else if let Some(access) = ctx.settings.tokens.access_for_request().await? {
        set_token(request, operation, &access);
    }
    if operation.streaming {
        let headers = request.headers_mut();
        headers.insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
        let resume_from = ctx.stream.as_ref().and_then(|s| s.last_event_id.as_deref());
        if let Some(value) = resume_from.and_then(|id| HeaderValue::from_str(id).ok()) {
            headers.insert(LAST_EVENT_ID, value);
        }
    } else {
        *request.timeout_mut() = Some(ctx.timeout_for(operation));
    }
    Ok(())
}

/// Sends `request` until it succeeds or the retry policy gives up. A success
/// answer is returned unread; every failure is an [`Error`], with the error
/// answer's body read (bounded) into it.
// Not an `async fn`: the request goes to reqwest before the returned future
// exists, so that future (a part of every call's) holds what reqwest made of
// it, not a second copy of the request.
pub(crate) fn execute<'a>(
    http: &'a reqwest::Client,
    ctx: &'a Context,
    operation: &'a Operation,
    request: Request,
) -> impl Future<Output = Result<Response, Error>> + Send + 'a {
    let method = request.method().clone();
    let (mut sending, mut spare) = start_attempt(http, ctx, operation, request, 1, false);
    // The spare copy is only ever borrowed across an await, and taken out
    // of its place only where nothing is awaited before it is sent, so the
    // future keeps one copy, not one per place it passes through.
    async move {
        let settings = &ctx.settings;
        let retry = ctx.retry();
        let mut refreshed = false;
        let mut taken = 0;
        let mut attempt: u32 = 1;
        loop {
            let outcome = sending.await;
            tracing::Span::current().record("http.request.resend_count", attempt - 1);

            let (failure, asked) = match &outcome {
                Ok(response) if response.status().is_success() => {
                    settings.budget.on_success(taken);
                    break outcome;
                }
                Ok(response) => (
                    Failure::Status(response.status()),
                    error::retry_after(response.headers()),
                ),
                Err(error) => match Failure::of(error) {
                    Some(failure) => (failure, None),
                    None => break outcome,
                },
            };

            if failure == Failure::Status(StatusCode::UNAUTHORIZED)
                && !refreshed
                && !operation.public
                && settings.tokens.can_refresh()
                && spare.is_some()
            {
                refreshed = true;
                let stale = spare.as_ref().and_then(|copy| bearer_of(&copy.request));
                // Boxed, as are the other futures of failures below, so that
                // the future of every call stays small.
                let refresh = settings.tokens.refresh_replacing(stale.as_deref());
                match Box::pin(refresh).await {
                    Ok(access) => {
                        tracing::info!(
                            target: "dployr::http",
                            attempt,
                            "401, retrying with a refreshed token"
                        );
                        if let Some(copy) = spare.take() {
                            let mut again = copy.into_request();
                            set_token(&mut again, operation, &access);
                            attempt += 1;
                            (sending, spare) =
                                start_attempt(http, ctx, operation, again, attempt, refreshed);
                            continue;
                        }
                    }
                    Err(error) => {
                        tracing::warn!(
                            target: "dployr::http",
                            attempt,
                            "401 and the token could not be refreshed"
                        );
                        return Err(error);
                    }
                }
            }

            let decision = match &spare {
                Some(_) => retry.decide(&settings.budget, &method, failure, attempt, asked),
                None => Decision::GiveUp,
            };
            if let Decision::Retry { wait, cost } = decision {
                taken += cost;
                tracing::info!(
                    target: "dployr::http",
                    attempt,
                    status = outcome.as_ref().ok().map(|r| r.status().as_u16()),
                    wait_ms = wait.as_millis() as u64,
                    "retrying"
                );
                drop(outcome);
                Box::pin(tokio::time::sleep(wait)).await;
                if let Some(copy) = spare.take() {
                    attempt += 1;
                    let again = copy.into_request();
                    (sending, spare) =
                        start_attempt(http, ctx, operation, again, attempt, refreshed);
                    continue;
                }
                // Unreachable: a retry is decided only with a copy to send.
                return Err(Error::new(ErrorKind::Transport, "no request to retry"));
            }
            let mut error = match outcome {
                Ok(answer) => Box::pin(error_of(answer, settings.max_response_bytes)).await,
                Err(error) => error,
            };
            error.set_retryable(retry.allows(&method, failure));
            if decision == Decision::BudgetSpent {
                error.set_budget_spent();
                tracing::warn!(
                    target: "dployr::http",
                    attempt,
                    budget_left = settings.budget.left(),
                    "not retrying: the client's retry budget is spent"
                );
            }
            return Err(error);
        }
        .inspect(|response| {
            let span = tracing::Span::current();
            span.record("http.response.status_code", response.status().as_u16());
            let id = response.headers().get("x-request-id");
            if let Some(id) = id.and_then(|v| v.to_str().ok()) {
                span.record("http.response.header.x-request-id", id);
            }
        })
    }
}

/// Starts attempt number `number` of `request`, keeping a copy of it when
/// something could send it again. A body that is a stream cannot be sent
/// twice; such a request gets exactly one attempt.
fn start_attempt(
    http: &reqwest::Client,
    ctx: &Context,
    operation: &Operation,
    request: Request,
    number: u32,
    refreshed: bool,
) -> (
    impl Future<Output = Result<Response, Error>> + Send + 'static,
    Option<Spare>,
) {
    let spare = if may_resend(ctx, operation, number, refreshed) {
        Spare::of(&request)
    } else {
        None
    };
    (send_once(http, ctx, operation, request), spare)
}

/// A copy of a request, kept in case it has to be sent again.
pub(crate) struct Spare {
    request: Request,
    /// The deadline, set on the copy only when it is sent: reqwest keeps it
    /// among the request's extensions, which take two allocations to fill.
    timeout: Option<Duration>,
}

impl Spare {
    /// A copy of `request`, or `None` when its body is a stream, which
    /// cannot be sent twice.
    pub(crate) fn of(request: &Request) -> Option<Spare> {
        if request.body().is_some() {
            // Only reqwest's own copy can share the body's bytes.
            return request.try_clone().map(|request| Spare {
                request,
                timeout: None,
            });
        }
        // What a request made by reqwest's builder holds: `try_clone` would
        // also copy its extensions, where the builder keeps nothing but the
        // timeout, copied here as a plain value.
        let mut copy = Request::new(request.method().clone(), request.url().clone());
        *copy.headers_mut() = request.headers().clone();
        *copy.version_mut() = request.version();
        Some(Spare {
            request: copy,
            timeout: request.timeout().copied(),
        })
    }

    pub(crate) fn into_request(self) -> Request {
        let mut request = self.request;
        if self.timeout.is_some() {
            *request.timeout_mut() = self.timeout;
        }
        request
    }
}

/// Whether attempt number `attempt` (1 for the first) could be followed by
/// sending the request again: a retry, unless this is the last attempt the
/// policy allows, or a refresh after a 401. Only then is a copy of the
/// request kept, which costs a copy of its URL and headers.
pub(crate) fn may_resend(
    ctx: &Context,
    operation: &Operation,
    attempt: u32,
    refreshed: bool,
) -> bool {
    attempt <= ctx.retry().max_retries
        || (!refreshed && !operation.public && ctx.settings.tokens.can_refresh())
}

/// One attempt, handed to reqwest at once. A streaming answer has no total
/// timeout, so its headers get a deadline of their own.
fn send_once(
    http: &reqwest::Client,
    ctx: &Context,
    operation: &Operation,
    request: Request,
) -> impl Future<Output = Result<Response, Error>> + Send + 'static {
    let header_deadline = operation.streaming.then(|| {
        ctx.stream
            .as_ref()
            .and_then(|s| s.header_timeout)
            .unwrap_or_else(|| ctx.timeout_for(operation))
    });
    let sent = http.execute(request);
    async move {
        let Some(deadline) = header_deadline else {
            return sent.await.map_err(Error::from_reqwest);
        };
        match Box::pin(tokio::time::timeout(deadline, sent)).await {
            Ok(sent) => sent.map_err(Error::from_reqwest),
            Err(_) => Err(header_timeout(deadline)),
        }
    }
}

fn header_timeout(deadline: Duration) -> Error {
    Error::new(
        ErrorKind::Timeout,
        format!(
            "the instance sent no answer headers within {}s",
            deadline.as_secs_f32()
        ),
    )
}

/// Sets the access token on `request`: the `Authorization` header and, when
/// the operation carries it in the query too, that parameter.
pub(crate) fn set_token(request: &mut Request, operation: &Operation, access: &AccessToken) {
    match &access.header {
        // The header was made (and marked sensitive) when the token was set;
        // sending it costs a reference count.
        Some(value) => {
            request.headers_mut().insert(AUTHORIZATION, value.clone());
        }
        // A token with bytes a header cannot carry is not sent at all; the
        // instance answers 401, which says more than a garbled header would.
        None => {
            request.headers_mut().remove(AUTHORIZATION);
        }
    }
    if let Some(name) = operation.credential_query {
        let token = access.token.as_str();
        let url = request.url_mut();
        let others: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(key, _)| key != name)
            .map(|(key, value)| (key.into_owned(), value.into_owned()))
            .collect();
        url.query_pairs_mut()
            .clear()
            .extend_pairs(others)
            .append_pair(name, token);
    }
}

fn bearer_of(request: &Request) -> Option<String> {
    let value = request.headers().get(AUTHORIZATION)?.to_str().ok()?;
    value.strip_prefix("Bearer ").map(str::to_string)
}

/// The error an error answer stands for, read from its (bounded) body.
async fn error_of(answer: Response, max: usize) -> Error {
    let status = answer.status();
    let headers = answer.headers().clone();
    match read_bounded(answer, max).await {
        Ok(body) => Error::from_answer(status, &headers, &body),
        Err(e) => Error::from_status(status, &headers, None).with_source(e),
    }
}

/// Reads at most `max` bytes of body; more is a [`ErrorKind::Decode`] error.
pub(crate) async fn read_bounded(mut response: Response, max: usize) -> Result<Bytes, Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(Error::from_reqwest)? {
        if body.len() + chunk.len() > max {
            return Err(Error::new(
                ErrorKind::Decode,
                format!("the instance's answer is larger than the client accepts ({max} bytes)"),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.into())
}

/// Wraps the body so that reading more than `max` bytes fails instead of
/// buffering an unbounded answer.
// Runs on every successful call, so the parts are moved, not cloned.
pub(crate) fn limit_body(response: Response, max: usize) -> Response {
    use reqwest::ResponseBuilderExt as _;
    // A body whose length is known exactly (a `Content-Length` answer) ends
    // there: hyper never delivers more than the declared length. Such a body
    // within the limit needs no wrapper; one over it keeps the wrapper, so
    // it fails as it is read, like any other.
    if response.content_length().is_some_and(|n| n <= max as u64) {
        return response;
    }
    // reqwest keeps the URL outside the `http` parts; it travels back in
    // the extension its response builder sets.
    let mut url_only = http::Response::builder().url(response.url().clone());
    let (mut parts, body) = http::Response::from(response).into_parts();
    if let Some(url) = url_only.extensions_mut() {
        parts.extensions.extend(std::mem::take(url));
    }
    let limited = http_body_util::Limited::new(body, max);
    http::Response::from_parts(parts, reqwest::Body::wrap(limited)).into()
}
