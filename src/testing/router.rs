//! The one entry point of every request: counting, recording, injected
//! faults, finding the request's operation among the spec's facts, checking
//! its token against the role the spec states, and the operation's handler.
//!
//! Routing is done by hand rather than with axum's router so that every
//! answer, including an unknown path or a wrong method, has the API's JSON
//! error shape instead of axum's empty or plain-text defaults.

use std::convert::identity;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use axum::Router;

use super::call::{Answer, Call};
use super::reply::Reply;
use super::state::{lock, Shared};
use super::{deployments, faults, logstream, services, system};
use crate::facts::Operation;

/// Bodies larger than this are refused; no API body comes close.
const MAX_BODY_BYTES: usize = 1024 * 1024;

pub(crate) fn app(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
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
    let (operation, path_parameters) = match find(method, path) {
        Ok(found) => found,
        Err(reply) => return reply,
    };
    let call = Call {
        shared: shared.clone(),
        operation,
        headers,
        query,
        body,
    };
    serve(&call, &path_parameters).unwrap_or_else(identity)
}

/// The operation of the spec whose method and path template the request
/// has, with its path parameters decoded; else the 404 or 405 it gets.
fn find(method: &Method, path: &str) -> Result<(&'static Operation, Vec<String>), Reply> {
    let mut path_known = false;
    for &operation in crate::operations() {
        let Some(parameters) = fill(operation.path(), path) else {
            continue;
        };
        if operation.method() == method.as_str() {
            return Ok((operation, parameters));
        }
        path_known = true;
    }
    if path_known {
        return Err(not_allowed(method, path));
    }
    Err(Reply::error(
        StatusCode::NOT_FOUND,
        format!("No route for {method} {path}"),
        "route.not_found",
    ))
}

/// The values of `template`'s parameters in `path`, when `path` is the
/// template filled in (each parameter a non-empty segment).
fn fill(template: &str, path: &str) -> Option<Vec<String>> {
    let mut values = Vec::new();
    let mut sent = path.split('/');
    let mut expected = template.split('/');
    loop {
        match (sent.next(), expected.next()) {
            (None, None) => return Some(values),
            (Some(s), Some(t)) if t.starts_with('{') && t.ends_with('}') => {
                if s.is_empty() {
                    return None;
                }
                values.push(percent_decode(s));
            }
            (Some(s), Some(t)) if s == t => {}
            _ => return None,
        }
    }
}

/// Checks the call's token against the role its operation needs (the same
/// check for every operation, from the facts), then runs its handler.
fn serve(call: &Call, path_parameters: &[String]) -> Answer {
    call.authorize()?;
    let id = path_parameters.first().map_or("", String::as_str);
    match call.operation.id() {
        "listDeployments" => deployments::list(call),
        "createDeployment" => deployments::create(call),
        "listServices" => services::list(call),
        "getService" => services::get(call, id),
        "updateService" => services::replace(call, id),
        "patchService" => services::patch(call, id),
        "deleteService" => services::delete(call, id),
        "openLogStream" => logstream::open(call),
        "getProxyStatus" => system::proxy_status(call),
        "restartProxy" => system::restart_proxy(call),
        "addProxyRoute" => system::add_route(call),
        "removeProxyRoute" => system::remove_route(call),
        "getSystemStatus" => system::status(call),
        "getSystemInfo" => system::info(call),
        "runSystemDoctor" => system::doctor(call),
        "installSystem" => system::install(call),
        "registerInstance" => system::register(call),
        "requestDomain" => system::request_domain(call),
        // An operation added to the spec: its token is checked above, and
        // the answer says what is missing rather than pretending.
        other => Err(Reply::error(
            StatusCode::NOT_IMPLEMENTED,
            format!("LocalInstance does not serve {other} yet"),
            "route.not_implemented",
        )),
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
}
