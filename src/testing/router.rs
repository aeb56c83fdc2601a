//! The one entry point of every request: counting, recording, injected
//! faults, routing and the authentication every handler shares.
//!
//! Routing is done by hand rather than with axum's router so that every
//! answer, including an unknown path or a wrong method, has the API's JSON
//! error shape instead of axum's empty or plain-text defaults.

use std::convert::identity;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use axum::Router;
use bytes::Bytes;
use serde_json::{Map, Value};

use super::auth::{Role, TokenCheck};
use super::reply::Reply;
use super::state::{lock, Shared};
use super::{deployments, faults, logstream, services, system, validate};

/// Bodies larger than this are refused; no API body comes close.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// What a handler answers: `Err` holds an error answer, so `?` works.
pub(crate) type Answer = Result<Reply, Reply>;

pub(crate) fn app(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

/// One request, as the handlers see it.
pub(crate) struct Call {
    pub(crate) shared: Arc<Shared>,
    pub(crate) headers: HeaderMap,
    query: Vec<(String, String)>,
    body: Bytes,
}

impl Call {
    /// The first value of query parameter `name`.
    pub(crate) fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn query_pairs(&self) -> &[(String, String)] {
        &self.query
    }

    /// The body as a JSON object, or the 400 a malformed one gets.
    pub(crate) fn object(&self) -> Result<Map<String, Value>, Reply> {
        validate::object(&self.body)
    }

    /// Checks the `Authorization` header's token allows `needed`.
    pub(crate) fn authorize(&self, needed: Role) -> Result<Role, Reply> {
        self.authorize_token(bearer(&self.headers), needed)
    }

    pub(crate) fn authorize_token(&self, token: Option<&str>, needed: Role) -> Result<Role, Reply> {
        let unauthorized = || {
            Reply::error(
                StatusCode::UNAUTHORIZED,
                "Authentication required",
                "auth.unauthorized",
            )
        };
        let token = token.filter(|t| !t.is_empty()).ok_or_else(unauthorized)?;
        match self.shared.keys.check(token) {
            TokenCheck::Unknown => Err(unauthorized()),
            TokenCheck::Expired => Err(Reply::error(
                StatusCode::UNAUTHORIZED,
                "Token expired",
                "auth.expired",
            )),
            TokenCheck::Valid(role) if role >= needed => Ok(role),
            TokenCheck::Valid(role) => Err(Reply::error(
                StatusCode::FORBIDDEN,
                format!(
                    "Insufficient permissions: this needs the {needed} role, the token has {role}"
                ),
                "auth.forbidden",
            )),
        }
    }
}

/// The token of an `Authorization: Bearer` header.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    shared.requests_seen.fetch_add(1, Ordering::Relaxed);
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_string();
    let reply = answer(
        &shared,
        &parts.method,
        &path,
        parts.uri.query(),
        parts.headers,
        body,
    )
    .await;
    lock(&shared.journal).push(reply.record(parts.method.as_str(), &path));
    reply.into_response()
}

async fn answer(
    shared: &Arc<Shared>,
    method: &Method,
    path: &str,
    query: Option<&str>,
    headers: HeaderMap,
    body: Body,
) -> Reply {
    let (delay, failure) = {
        let mut faults = lock(&shared.faults);
        (faults.delay, faults.take_failure())
    };
    if !delay.is_zero() && !shared.pause(delay).await {
        return Reply::error(
            StatusCode::SERVICE_UNAVAILABLE,
            "The instance is shutting down",
            "service.unavailable",
        );
    }
    if let Some(failure) = failure {
        let (message, code) = faults::describe(failure.status);
        return Reply::error(failure.status, message, code).with_retry_after(failure.retry_after);
    }
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return Reply::bad_json("the body could not be read or is larger than 1 MiB");
    };
    let query = query
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default();
    let call = Call {
        shared: shared.clone(),
        headers,
        query,
        body,
    };
    route(method, path, &call).unwrap_or_else(identity)
}

fn route(method: &Method, path: &str, call: &Call) -> Answer {
    let handler: fn(&Call) -> Answer = match (path, method.as_str()) {
        ("/deployments", "GET") => deployments::list,
        ("/deployments", "POST") => deployments::create,
        ("/services", "GET") => services::list,
        ("/logs/stream", "GET") => logstream::open,
        ("/proxy/status", "GET") => system::proxy_status,
        ("/proxy/restart", "POST") => system::restart_proxy,
        ("/proxy/add", "POST") => system::add_route,
        ("/proxy/remove", "DELETE") => system::remove_route,
        ("/system/status", "GET") => system::status,
        ("/system/info", "GET") => system::info,
        ("/system/doctor", "POST") => system::doctor,
        ("/system/install", "POST") => system::install,
        ("/system/register", "POST") => system::register,
        ("/system/domain", "POST") => system::request_domain,
        (
            "/deployments" | "/services" | "/logs/stream" | "/proxy/status" | "/proxy/restart"
            | "/proxy/add" | "/proxy/remove" | "/system/status" | "/system/info" | "/system/doctor"
            | "/system/install" | "/system/register" | "/system/domain",
            _,
        ) => return Err(not_allowed(method, path)),
        _ => return service_route(method, path, call),
    };
    handler(call)
}

fn service_route(method: &Method, path: &str, call: &Call) -> Answer {
    let id = path
        .strip_prefix("/services/")
        .filter(|rest| !rest.is_empty() && !rest.contains('/'))
        .map(percent_decode)
        .ok_or_else(|| {
            Reply::error(
                StatusCode::NOT_FOUND,
                format!("No route for {method} {path}"),
                "route.not_found",
            )
        })?;
    match method.as_str() {
        "GET" => services::get(call, &id),
        "PUT" => services::replace(call, &id),
        "PATCH" => services::patch(call, &id),
        "DELETE" => services::delete(call, &id),
        _ => Err(not_allowed(method, path)),
    }
}

fn not_allowed(method: &Method, path: &str) -> Reply {
    Reply::error(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{method} is not allowed on {path}"),
        "request.method_not_allowed",
    )
}

/// `%XX` escapes decoded; a broken escape is kept as written.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .filter(|hex| hex.iter().all(u8::is_ascii_hexdigit))
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_decoded_and_broken_ones_kept() {
        assert_eq!(percent_decode("a%20b"), "a b");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("%+1"), "%+1");
        assert_eq!(percent_decode("%E2%9C%93"), "\u{2713}");
    }

    #[test]
    fn bearer_tokens_are_read_case_insensitively() {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, "bearer  abc ".parse().unwrap());
        assert_eq!(bearer(&headers), Some("abc"));
        headers.insert(AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(bearer(&headers), None);
    }
}
