//! Step 3: each attempt resolves the token (so its expiry is checked
//! before every send, a retry after a long wait included), sends, and
//! classifies the outcome; the decide step then says whether to restart
//! (after a wait, or after refreshing a refused token: the same step) or to
//! give up with the failure as an [`Error`].

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::AUTHORIZATION;
use reqwest::{Request, Response, StatusCode};

use super::decide::{Attempts, Next, Outcome};
use super::decode;
use super::plan::Plan;
use super::{check, Resend};
use crate::auth::AccessToken;
use crate::deadline::{Deadline, Elapsed};
use crate::error::{self, Error, ErrorKind};
use crate::facts::Operation;
use crate::retry::Failure;

/// Sends `request` until it succeeds or the decide step gives up. A success
/// answer is returned unread, with the deadline of the attempt that got it,
/// which reading its body keeps to.
// Not an `async fn`: its parameters would each be kept twice in the call's
// state (an `async fn` moves them into locals beside themselves), and the
// request is the largest of them.
#[allow(clippy::manual_async_fn)]
pub(super) fn run<'a>(
    plan: &'a Plan<'a>,
    mut request: Request,
    resend: Resend<'a>,
) -> impl Future<Output = Result<(Response, Deadline), Error>> + Send + 'a {
    async move {
        let settings = plan.settings;
        let mut attempts = Attempts::new(&plan.retry, &settings.budget, &plan.method);
        loop {
            // Kept to send again; `None` for a streamed body, which cannot be.
            // Copied before the token is set: every attempt sets its own.
            // Boxed: only raw requests and log streams keep one, and every
            // call's state would otherwise hold room for it.
            let spare = match resend {
                Resend::Copy => copy(&request).map(Box::new),
                Resend::Rebuild(_) => None,
            };
            let resendable = spare.is_some() || matches!(resend, Resend::Rebuild(_));
            let sent = authorize(plan, &mut request).await?;
            let watch = AttemptWatch::start(&request);
            let mut deadline = settings.deadlines.start(plan.timeout);
            let outcome = match deadline.run(send_once(plan, request)).await {
                Ok(outcome) => outcome,
                Err(Elapsed) => Err(timed_out(plan.operation, deadline.timeout())),
            };
            if let Some(watch) = watch {
                watch.finish(plan, &outcome, attempts.number());
            }
            let next = attempts.decide(classify(&outcome, resendable, sent.refreshable));
            let (wait, refresh) = match next {
                Next::Done => {
                    record_answer(outcome.as_ref().ok(), attempts.number());
                    return outcome.map(|answer| (answer, deadline));
                }
                Next::GiveUp {
                    retryable,
                    budget_spent,
                } => {
                    let given_up = GivenUp {
                        attempt: attempts.number(),
                        retryable,
                        budget_spent,
                        sent_token: sent.token.as_ref().is_some_and(|t| t.header.is_some()),
                    };
                    // Boxed: the future of every call stays small for the
                    // failures, which are rare.
                    return Err(Box::pin(give_up(plan, outcome, given_up)).await);
                }
                Next::Restart { wait, refresh } => (wait, refresh),
            };
            let attempt = attempts.number() - 1;
            let outcome_status = outcome.as_ref().ok().map(|r| r.status().as_u16());
            drop(outcome);
            if refresh {
                // Boxed, as is the wait below.
                let stale = sent.token.as_deref();
                if let Err(e) = Box::pin(settings.tokens.refresh_replacing(stale)).await {
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
                Box::pin(tokio::time::sleep(wait)).await;
            }
            request = match (spare, resend) {
                (Some(copy), _) => *copy,
                (None, Resend::Rebuild(rebuild)) => {
                    let mut rebuilt = rebuild()?;
                    check::check(plan, &mut rebuilt)?;
                    rebuilt
                }
                (None, Resend::Copy) => {
                    unreachable!(
                        "the decide step restarts only a request it was told can be resent"
                    )
                }
            };
        }
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

/// How an attempt ended, for the decide step.
fn classify(outcome: &Result<Response, Error>, resendable: bool, refreshable: bool) -> Outcome {
    let (failure, asked) = match outcome {
        Ok(answer) if answer.status().is_success() => return Outcome::Success,
        Ok(answer) => (
            Failure::Status(answer.status()),
            error::retry_after(answer.headers()),
        ),
        Err(error) => match Failure::of(error) {
            Some(failure) => (failure, None),
            None => return Outcome::Unclassified,
        },
    };
    Outcome::Failed {
        failure,
        asked,
        resendable,
        refreshable,
    }
}

/// What the decide step said when it gave up, and what was sent.
struct GivenUp {
    attempt: u32,
    retryable: bool,
    budget_spent: bool,
    /// An `Authorization` header went out.
    sent_token: bool,
}

/// The failure as the caller gets it: an error answer read (bounded) into
/// an [`Error`], marked with the decide step's view of it.
async fn give_up(plan: &Plan<'_>, outcome: Result<Response, Error>, given_up: GivenUp) -> Error {
    let GivenUp {
        attempt,
        retryable,
        budget_spent,
        sent_token,
    } = given_up;
    record_answer(outcome.as_ref().ok(), attempt);
    let status = outcome.as_ref().ok().map(Response::status);
    let refused = status == Some(StatusCode::UNAUTHORIZED);
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
    error.set_retryable(retryable);
    if budget_spent {
        error.set_budget_spent();
        tracing::warn!(
            target: "dployr::http",
            attempt,
            budget_left = plan.settings.budget.left(),
            "not retrying: the client's retry budget is spent"
        );
    }
    if refused && !sent_token && !plan.operation.public {
        error.set_sent_without_token();
    }
    if let (Some(needed), Some(StatusCode::FORBIDDEN)) = (plan.operation.role, status) {
        error.set_roles(needed, plan.settings.tokens.access_role());
    }
    error
}

/// What an attempt sent: the token (the one a refusal refreshes), and
/// whether a refresher could replace it.
struct Sent {
    token: Option<Arc<AccessToken>>,
    refreshable: bool,
}

/// Sets the token on this attempt: read now, so a JWT that came within the
/// refresh margin while the call waited is refreshed before it is sent.
async fn authorize(plan: &Plan<'_>, request: &mut Request) -> Result<Sent, Error> {
    if plan.operation.public {
        return Ok(Sent {
            token: None,
            refreshable: false,
        });
    }
    let found = plan.settings.tokens.access_for_request().await?;
    match &found.access {
        Some(access) => set_token(request, plan.operation, access),
        None => check_credential(plan)?,
    }
    Ok(Sent {
        token: found.access,
        refreshable: found.refreshable,
    })
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

/// Without a token set, a request whose token parameter the pipeline was
/// to fill (a log stream's) is refused unsent; one whose caller filled it
/// goes out as it is.
fn check_credential(plan: &Plan<'_>) -> Result<(), Error> {
    let (true, Some(name)) = (plan.fills_token, plan.operation.credential_query) else {
        return Ok(());
    };
    Err(Error::new(
        ErrorKind::Unauthorized,
        format!("no access token is set; a log stream needs one for its `{name}` parameter"),
    ))
}

/// One attempt, handed to reqwest at once. Its deadline is the pipeline's
/// (see `crate::deadline`), not reqwest's, which would register a timer for
/// every call.
fn send_once(
    plan: &Plan<'_>,
    request: Request,
) -> impl Future<Output = Result<Response, Error>> + Send + 'static {
    let sent = plan.http.execute(request);
    async move { sent.await.map_err(Error::from_reqwest) }
}

/// The error of an attempt whose deadline (`timeout` after it started)
/// passed: a JSON call's covers its whole exchange, its answer's body
/// included; a stream's only the answer's headers, since its body has no
/// end in time.
pub(super) fn timed_out(operation: &Operation, timeout: Duration) -> Error {
    let secs = timeout.as_secs_f32();
    let message = if operation.streaming {
        format!("the instance sent no answer headers within {secs}s")
    } else {
        format!("the instance did not answer within {secs}s")
    };
    Error::new(ErrorKind::Timeout, message)
}

/// A copy of `request` to send again, or `None` when its body is a stream,
/// which cannot be sent twice.
fn copy(request: &Request) -> Option<Request> {
    if request.body().is_some() {
        return request.try_clone();
    }
    // What a request made by reqwest's builder holds, without its
    // extensions (where reqwest keeps a per-request timeout, which the
    // pipeline does not use).
    let mut copy = Request::new(request.method().clone(), request.url().clone());
    *copy.headers_mut() = request.headers().clone();
    *copy.version_mut() = request.version();
    Some(copy)
}
