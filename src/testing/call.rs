//! One request as the handlers see it ([`Call`]), what they answer
//! ([`Answer`]), and the check every call of an operation that needs a
//! token goes through first: the token, and its role against the one the
//! spec states for the operation. The router and the handlers share these;
//! the handlers import nothing of the router.

use std::sync::Arc;

use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use bytes::Bytes;
use serde_json::{Map, Value};

use super::auth::TokenCheck;
use super::reply::Reply;
use super::state::Shared;
use super::validate;
use crate::facts::Operation;

/// What a handler answers: `Err` holds an error answer, so `?` works.
pub(crate) type Answer = Result<Reply, Reply>;

/// One request of a known operation, as the handlers see it.
pub(crate) struct Call {
    pub(crate) shared: Arc<Shared>,
    /// The operation the request's method and path are, from the facts.
    pub(crate) operation: &'static Operation,
    pub(crate) headers: HeaderMap,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) body: Bytes,
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

    /// The body as a JSON object, or the 400 a malformed one gets. A body
    /// the spec lets a request leave out reads as `{}` when it is left out.
    pub(crate) fn object(&self) -> Result<Map<String, Value>, Reply> {
        let absent = self.body.iter().all(u8::is_ascii_whitespace);
        if absent && !self.operation.is_body_required() {
            return Ok(Map::new());
        }
        validate::object(&self.body)
    }

    /// Lets the call through when its operation needs no token, or when it
    /// carries a token this instance issued whose role is at least the one
    /// the spec states (`x-dployr-role`); else the 401 or 403 an instance
    /// answers. The token is read where the operation carries it: its
    /// credential query parameter (the log stream's `token`, as browsers
    /// cannot set headers on an EventSource) or the `Authorization` header.
    pub(crate) fn authorize(&self) -> Result<(), Reply> {
        if self.operation.is_public() {
            return Ok(());
        }
        let token = self
            .operation
            .credential_query
            .and_then(|name| self.query(name))
            .filter(|t| !t.is_empty())
            .or_else(|| bearer(&self.headers));
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
            TokenCheck::Valid(role)
                if self.operation.role().is_none_or(|needed| role >= needed) =>
            {
                Ok(())
            }
            // The body the spec documents for 403: the client names the
            // role from the operation and from its own token.
            TokenCheck::Valid(_) => Err(Reply::error(
                StatusCode::FORBIDDEN,
                "Insufficient permissions",
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_are_read_case_insensitively() {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, "bearer  abc ".parse().unwrap());
        assert_eq!(bearer(&headers), Some("abc"));
        headers.insert(AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(bearer(&headers), None);
    }
}
