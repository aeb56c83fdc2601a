//! Steps 3 and 4: each attempt resolves the token (so its expiry is checked
//! before every send, a retry after a long wait included), sends, and
//! classifies the outcome; the retry policy then decides, in one function,
//! whether to restart (after a wait, or after refreshing a refused token:
//! the same step) or to give up with the failure as an [`Error`].

use std::future::Future;

use reqwest::header::{HeaderValue, AUTHORIZATION};
use reqwest::{Request, Response, StatusCode};

use super::decode;
use super::plan::Plan;
use crate::auth::AccessToken;
use crate::error::{self, Error, ErrorKind};
use crate::facts::Operation;
use crate::retry::{Decision, Failure};

/// Sends `request` until it succeeds or the policy gives up. A success
/// answer is returned unread.
pub(super) async fn run(plan: &Plan<'_>, mut request: Request) -> Result<Response, Error> {
    let settings = plan.settings;
    let mut attempt: u32 = 1;
    let mut refreshed = false;
    // Budget tokens this call's retries took, given back when it succeeds.
    let mut taken = 0;
    loop {
        let sent_token = authorize(plan, &mut request).await?;
        let may_refresh = !refreshed && !plan.operation.public && settings.tokens.can_refresh();
        // A copy is kept only when something could send the request again.
        let spare = if attempt <= plan.retry.max_retries || may_refresh {
            copy(&request)
        } else {
            None
        };
        let watch = AttemptWatch::start(&request);
        let outcome = send_once(plan, request).await;
        if let Some(watch) = watch {
            watch.finish(plan, &outcome, attempt);
        }
        let (failure, asked) = match classify(&outcome) {
            Outcome::Success => {
                settings.budget.on_success(taken);
                record_answer(outcome.as_ref().ok(), attempt);
                return outcome;
            }
            Outcome::Failed(failure, asked) => (failure, asked),
            Outcome::NotAnExchange => return outcome,
        };
        let decision = match &spare {
            Some(_) => plan.retry.decide(
                &settings.budget,
                &plan.method,
                failure,
                attempt,
                asked,
                may_refresh,
            ),
            None => Decision::GiveUp,
        };
        let (
            Decision::Restart {
                wait,
                cost,
                refresh,
            },
            Some(copy),
        ) = (&decision, spare)
        else {
            return Err(give_up(plan, outcome, failure, &decision, attempt, sent_token).await);
        };
        taken += cost;
        let outcome_status = outcome.as_ref().ok().map(|r| r.status().as_u16());
        drop(outcome);
        if *refresh {
            refreshed = true;
            let stale = bearer_of(&copy);
            // Boxed, as is the wait below: the future of every call stays
            // small for the failures that are rare.
            if let Err(e) = Box::pin(settings.tokens.refresh_replacing(stale.as_deref())).await {
                tracing::warn!(target: "dployr::http", attempt, "401 and the token could not be refreshed");
                return Err(e);
            }
            tracing::info!(target: "dployr::http", attempt, "401, retrying with a refreshed token");
        } else {
            tracing::info!(
                target: "dployr::http",
                attempt,
                status = outcome_status,
                wait_ms = wait.as_millis() as u64,
                "retrying"
            );
            Box::pin(tokio::time::sleep(*wait)).await;
        }
        request = copy;
        attempt += 1;
    }
}

/// The target of the one event each attempt records, at DEBUG: what a
/// command line's `--verbose` shows, line by line.
const ATTEMPT_TARGET: &str = "dployr::http::attempt";

/// What the attempt event needs from before the send: taken only when a
/// subscriber wants the event, so an attempt nobody watches costs one
/// check of the callsite's interest.
struct AttemptWatch {
    started: std::time::Instant,
    /// Path and query, credentials redacted.
    target: String,
}

impl AttemptWatch {
    fn start(request: &Request) -> Option<AttemptWatch> {
        if !tracing::enabled!(target: ATTEMPT_TARGET, tracing::Level::DEBUG) {
            return None;
        }
        let mut url = request.url().clone();
        crate::secret::redact_url(&mut url);
        let target = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_string(),
        };
        Some(AttemptWatch {
            started: std::time::Instant::now(),
            target,
        })
    }

    /// One event: method, path and query, status or error kind, duration,
    /// attempt number.
    fn finish(self, plan: &Plan<'_>, outcome: &Result<Response, Error>, attempt: u32) {
        let (status, error) = match outcome {
            Ok(answer) => (Some(answer.status().as_u16()), None),
            Err(e) => (e.status().map(|s| s.as_u16()), Some(e.kind().name())),
        };
        tracing::debug!(
            target: ATTEMPT_TARGET,
            attempt,
            method = plan.method.as_str(),
            path = self.target.as_str(),
            status,
            error,
            duration_ms = self.started.elapsed().as_secs_f64() * 1000.0,
            "attempt"
        );
    }
}

/// The answer's status, request id and resends, on the call's span.
fn record_answer(answer: Option<&Response>, attempt: u32) {
    let span = tracing::Span::current();
    if span.is_disabled() {
        return;
    }
    span.record("http.request.resend_count", attempt - 1);
    if let Some(answer) = answer {
        span.record("http.response.status_code", answer.status().as_u16());
        let id = answer.headers().get("x-request-id");
        if let Some(id) = id.and_then(|v| v.to_str().ok()) {
            span.record("http.response.header.x-request-id", id);
        }
    }
}

/// How an attempt ended, as far as the policy is concerned.
enum Outcome {
    Success,
    /// A failed exchange, with the wait the instance asked for.
    Failed(Failure, Option<std::time::Duration>),
    /// A failure that is no exchange's (a refused input, say).
    NotAnExchange,
}

fn classify(outcome: &Result<Response, Error>) -> Outcome {
    match outcome {
        Ok(answer) if answer.status().is_success() => Outcome::Success,
        Ok(answer) => Outcome::Failed(
            Failure::Status(answer.status()),
            error::retry_after(answer.headers()),
        ),
        Err(error) => match Failure::of(error) {
            Some(failure) => Outcome::Failed(failure, None),
            None => Outcome::NotAnExchange,
        },
    }
}

/// The failure as the caller gets it: an error answer read (bounded) into
/// an [`Error`], marked with the policy's view of it.
async fn give_up(
    plan: &Plan<'_>,
    outcome: Result<Response, Error>,
    failure: Failure,
    decision: &Decision,
    attempt: u32,
    sent_token: bool,
) -> Error {
    record_answer(outcome.as_ref().ok(), attempt);
    let mut error = match outcome {
        Ok(answer) => {
            Box::pin(decode::error_answer(
                answer,
                plan.settings.max_response_bytes,
            ))
            .await
        }
        Err(error) => error,
    };
    error.set_retryable(plan.retry.allows(&plan.method, failure));
    if *decision == Decision::BudgetSpent {
        error.set_budget_spent();
        tracing::warn!(
            target: "dployr::http",
            attempt,
            budget_left = plan.settings.budget.left(),
            "not retrying: the client's retry budget is spent"
        );
    }
    if !sent_token && !plan.operation.public && failure == Failure::Status(StatusCode::UNAUTHORIZED)
    {
        error.set_sent_without_token();
    }
    if let (Some(needed), Failure::Status(StatusCode::FORBIDDEN)) = (plan.operation.role, failure) {
        error.set_roles(needed, plan.settings.tokens.access_role());
    }
    error
}

/// Sets the token on this attempt: read now, so a JWT that came within the
/// refresh margin while the call waited is refreshed before it is sent.
/// Returns whether a token went out.
async fn authorize(plan: &Plan<'_>, request: &mut Request) -> Result<bool, Error> {
    if plan.operation.public {
        return Ok(false);
    }
    match plan.settings.tokens.access_for_request().await? {
        Some(access) => {
            set_token(request, plan.operation, &access);
            Ok(access.header.is_some())
        }
        None => Ok(false),
    }
}

/// Sets the access token on `request`: the `Authorization` header and, when
/// the operation carries it in the query too, that parameter.
fn set_token(request: &mut Request, operation: &Operation, access: &AccessToken) {
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

/// One attempt, handed to reqwest at once. A JSON call's deadline covers
/// its whole exchange (reqwest's own timeout); a stream's covers only the
/// answer's headers, since its body has no end in time.
fn send_once(
    plan: &Plan<'_>,
    mut request: Request,
) -> impl Future<Output = Result<Response, Error>> + Send + 'static {
    plan.settings.anchor.hold();
    let header_deadline = if plan.operation.streaming {
        Some(plan.timeout)
    } else {
        *request.timeout_mut() = Some(plan.timeout);
        None
    };
    let sent = plan.http.execute(request);
    async move {
        let Some(deadline) = header_deadline else {
            return sent.await.map_err(Error::from_reqwest);
        };
        match Box::pin(tokio::time::timeout(deadline, sent)).await {
            Ok(sent) => sent.map_err(Error::from_reqwest),
            Err(_) => Err(Error::new(
                ErrorKind::Timeout,
                format!(
                    "the instance sent no answer headers within {}s",
                    deadline.as_secs_f32()
                ),
            )),
        }
    }
}

/// A copy of `request` to send again, or `None` when its body is a stream,
/// which cannot be sent twice.
fn copy(request: &Request) -> Option<Request> {
    if request.body().is_some() {
        return request.try_clone();
    }
    // What a request made by reqwest's builder holds, without its
    // extensions (where only the deadline lives, set again on each send).
    let mut copy = Request::new(request.method().clone(), request.url().clone());
    *copy.headers_mut() = request.headers().clone();
    *copy.version_mut() = request.version();
    Some(copy)
}

fn bearer_of(request: &Request) -> Option<String> {
    let value: &HeaderValue = request.headers().get(AUTHORIZATION)?;
    value
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::to_string)
}
