//! The path of every generated call: `pre` checks inputs, sets the bearer
//! token and the timeout; `exec` sends, retries, refreshes once on 401 and
//! bounds the answer's size. Implemented as progenitor's `ClientHooks`, so
//! every operation in the spec gets all of it.

use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::header::{HeaderName, HeaderValue, ACCEPT, AUTHORIZATION};
use reqwest::{Request, Response, StatusCode};

use crate::client::Context;
use crate::error::{handoff, Error, ErrorKind};
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
        let base_path = &self.inner().settings.base_path;
        operations::check_path(operation, base_path, request.url().path())
            .and_then(|()| operations::check_request(operation, request))
            .map_err(|(field, why)| {
                progenitor_client::Error::InvalidRequest(handoff::put(Error::invalid_input(
                    field, why,
                )))
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
        let max = ctx.settings.max_response_bytes;
        let response = send_with_retries(self.client(), ctx, request, info.operation_id).await?;
        if !response.status().is_success() {
            Ok(attach_error(response, max).await)
        } else if info.operation_id == operations::LOG_STREAM {
            Ok(response)
        } else {
            Ok(limit_body(response, max))
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
        let result = http.execute(request).await;

        if let (Ok(response), Some(spare)) = (&result, &spare) {
            let may_refresh = response.status() == StatusCode::UNAUTHORIZED
                && !refreshed
                && !operations::is_public(operation)
                && tokens.can_refresh();
            if may_refresh {
                refreshed = true;
                // The spare carries the token this attempt was sent with.
                match tokens.refresh_replacing(bearer_of(spare).as_deref()).await {
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

/// Reads the error answer's body (bounded) and attaches the complete
/// [`Error`] to the answer (see [`handoff`]), because the generated code
/// decodes only the statuses the spec declares, and the `From` conversion
/// that sees the others cannot read a body. The body is put back, so the
/// generated code decodes declared statuses as usual.
async fn attach_error(response: Response, max: usize) -> Response {
    if response.headers().contains_key(HANDOFF_HEADER) {
        return response;
    }
    let status = response.status();
    let headers = response.headers().clone();
    let template = Template::of(&response);
    let (error, body) = match read_bounded(response, max).await {
        Ok(body) => (Error::from_answer(status, &headers, &body), body),
        Err(e) => (
            Error::from_status(status, &headers, None).with_source(e),
            bytes::Bytes::new(),
        ),
    };
    // The generated code decodes declared statuses itself; a body that is not
    // the API's error shape (a proxy's HTML page, an empty body) would become
    // a decode error without its status. Such bodies are handed on in the
    // error shape, with the message of the error attached here.
    let body = if serde_json::from_slice::<crate::types::ErrorResponse>(&body).is_ok() {
        body
    } else {
        bytes::Bytes::from(serde_json::json!({ "error": error.message() }).to_string())
    };
    let mut response = template.with_body(reqwest::Body::from(body));
    let id = handoff::put_id(error);
    response
        .headers_mut()
        .insert(HANDOFF_HEADER, HeaderValue::from(id));
    response
}

/// Reads at most `max` bytes of body; more is a [`ErrorKind::Decode`] error.
pub(crate) async fn read_bounded(
    mut response: Response,
    max: usize,
) -> Result<bytes::Bytes, Error> {
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
fn limit_body(response: Response, max: usize) -> Response {
    use reqwest::ResponseBuilderExt as _;
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

/// Everything of a response but its body, to rebuild it with another body.
struct Template {
    url: reqwest::Url,
    status: StatusCode,
    version: reqwest::Version,
    headers: reqwest::header::HeaderMap,
}

impl Template {
    fn of(response: &Response) -> Self {
        Template {
            url: response.url().clone(),
            status: response.status(),
            version: response.version(),
            headers: response.headers().clone(),
        }
    }

    fn with_body(self, body: reqwest::Body) -> Response {
        use reqwest::ResponseBuilderExt as _;
        let mut rebuilt = http::Response::new(body);
        *rebuilt.status_mut() = self.status;
        *rebuilt.version_mut() = self.version;
        *rebuilt.headers_mut() = self.headers;
        let url_only = http::Response::builder().url(self.url);
        if let Some(extensions) = url_only.extensions_ref() {
            rebuilt.extensions_mut().extend(extensions.clone());
        }
        rebuilt.into()
    }
}
