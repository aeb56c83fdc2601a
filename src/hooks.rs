//! The path of every generated call: `pre` checks inputs, sets the bearer
//! token and the timeout; `exec` sends, retries, refreshes once on 401 and
//! bounds the answer's size. Implemented as progenitor's `ClientHooks`, so
//! every operation in the spec gets all of it.

use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::header::{HeaderName, HeaderValue, ACCEPT, AUTHORIZATION};
use reqwest::{Request, Response, StatusCode};

use crate::client::Context;
use crate::error::{handoff, Error};
use crate::operations;
use crate::retry::{self, Outcome};
use crate::Client;

/// The header that carries a structured error out of `exec` on the answer it
/// failed to recover from (see [`handoff`]).
pub(crate) const HANDOFF_HEADER: &str = "x-dployr-sdk-error";

const LAST_EVENT_ID: HeaderName = HeaderName::from_static("last-event-id");

impl ClientHooks<Context> for Client {
    async fn pre<E>(
        &self,
        request: &mut Request,
        info: &OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        let operation = info.operation_id;
        operations::check_request(operation, request).map_err(|(field, why)| {
            progenitor_client::Error::InvalidRequest(handoff::put(Error::invalid_input(field, why)))
        })?;
        if operations::is_public(operation) {
            request.headers_mut().remove(AUTHORIZATION);
        } else {
            let ctx = self.inner();
            let token = ctx
                .settings
                .tokens
                .token_for_request()
                .await
                .map_err(|e| progenitor_client::Error::Custom(handoff::put(e)))?;
            if let Some(token) = token {
                set_bearer(request, &token);
            }
        }
        if operation == operations::LOG_STREAM {
            let headers = request.headers_mut();
            headers.insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
            if let Some(id) = &self.inner().last_event_id {
                if let Ok(value) = HeaderValue::from_str(id) {
                    headers.insert(LAST_EVENT_ID, value);
                }
            }
        } else {
            *request.timeout_mut() = Some(self.inner().timeout_for(operation));
        }
        Ok(())
    }

    async fn exec(&self, request: Request, info: &OperationInfo) -> reqwest::Result<Response> {
        let ctx = self.inner();
        let response = send_with_retries(self.client(), ctx, request, info.operation_id).await?;
        if info.operation_id == operations::LOG_STREAM {
            Ok(response)
        } else {
            Ok(limit_body(response, ctx.settings.max_response_bytes))
        }
    }
}

/// Sends `request`, retrying as [`retry::RetryConfig`] allows and refreshing
/// the token once on a 401. Shared with [`crate::raw`] and [`crate::logs`].
pub(crate) async fn send_with_retries(
    http: &reqwest::Client,
    ctx: &Context,
    mut request: Request,
    operation: &str,
) -> reqwest::Result<Response> {
    let config = &ctx.settings.retry;
    let tokens = &ctx.settings.tokens;
    let method = request.method().clone();
    let path = request.url().path().to_string();
    let operation_id = operations::operation_id(operation);
    let mut refreshed = false;
    let mut attempt: u32 = 0;
    loop {
        attempt += 1;
        // A body that is a stream cannot be sent twice; such a request gets
        // exactly one attempt.
        let spare = request.try_clone();
        let sent_token = bearer_of(&request);
        let result = http.execute(request).await;

        if let (Ok(response), Some(spare)) = (&result, &spare) {
            let may_refresh = response.status() == StatusCode::UNAUTHORIZED
                && !refreshed
                && !operations::is_public(operation)
                && tokens.can_refresh();
            if may_refresh {
                refreshed = true;
                match tokens.refresh_replacing(sent_token.as_deref()).await {
                    Ok(token) => {
                        tracing::info!(target: "dployr::http", operation_id, %method, %path, attempt, "401, retrying with a refreshed token");
                        if let Some(mut again) = spare.try_clone() {
                            set_bearer(&mut again, &token);
                            request = again;
                            continue;
                        }
                    }
                    Err(error) => {
                        tracing::warn!(target: "dployr::http", operation_id, %method, %path, attempt, "401 and the token could not be refreshed");
                        return result.map(|mut response| {
                            let id = handoff::put_id(error);
                            response
                                .headers_mut()
                                .insert(HANDOFF_HEADER, HeaderValue::from(id));
                            response
                        });
                    }
                }
            }
        }

        let (outcome, status, retry_after) = match &result {
            Ok(r) => (
                Outcome::Answer(r.status()),
                Some(r.status().as_u16()),
                retry::retry_after(r.headers()),
            ),
            Err(e) if e.is_connect() => (Outcome::ConnectFailed, None, None),
            Err(_) => (Outcome::TransportFailed, None, None),
        };
        let spare = match spare {
            Some(spare)
                if attempt <= config.max_retries
                    && retry::should_retry(config, &method, &outcome) =>
            {
                spare
            }
            _ => {
                tracing::debug!(target: "dployr::http", operation_id, %method, %path, ?status, attempt, "done");
                return result;
            }
        };
        let wait = config.backoff(attempt - 1, retry_after);
        tracing::info!(
            target: "dployr::http",
            operation_id, %method, %path, ?status, attempt, wait_ms = wait.as_millis() as u64,
            "retrying"
        );
        drop(result);
        tokio::time::sleep(wait).await;
        request = spare;
    }
}

pub(crate) fn set_bearer(request: &mut Request, token: &str) {
    match HeaderValue::from_str(&format!("Bearer {token}")) {
        Ok(mut value) => {
            value.set_sensitive(true);
            request.headers_mut().insert(AUTHORIZATION, value);
        }
        // A token with bytes a header cannot carry is not sent at all; the
        // instance answers 401, which says more than a garbled header would.
        Err(_) => {
            request.headers_mut().remove(AUTHORIZATION);
        }
    }
}

fn bearer_of(request: &Request) -> Option<String> {
    let value = request.headers().get(AUTHORIZATION)?.to_str().ok()?;
    value.strip_prefix("Bearer ").map(str::to_string)
}

/// Wraps the body so that reading more than `max` bytes fails instead of
/// buffering an unbounded answer.
fn limit_body(response: Response, max: usize) -> Response {
    use reqwest::ResponseBuilderExt as _;
    let url = response.url().clone();
    let http: http::Response<reqwest::Body> = response.into();
    let (parts, body) = http.into_parts();
    let limited = reqwest::Body::wrap(http_body_util::Limited::new(body, max));
    let mut rebuilt = http::Response::builder()
        .url(url)
        .body(limited)
        .expect("a response with only a URL extension is valid");
    *rebuilt.status_mut() = parts.status;
    *rebuilt.version_mut() = parts.version;
    *rebuilt.headers_mut() = parts.headers;
    rebuilt.extensions_mut().extend(parts.extensions);
    rebuilt.into()
}
