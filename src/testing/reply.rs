//! Answers in the API's shapes: JSON bodies, `Error` and `ValidationError`.

use axum::body::Body;
use axum::http::header::{CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use serde::Serialize;

use super::journal::RecordedResponse;
use crate::types::{Error, FieldError, ValidationError};

const JSON: &str = "application/json";
const EVENT_STREAM: &str = "text/event-stream";

/// What a handler answers; turned into a response after it is recorded.
#[derive(Debug)]
pub(crate) enum Reply {
    Json {
        status: StatusCode,
        body: Bytes,
        retry_after: Option<u64>,
    },
    Empty(StatusCode),
    /// A `200 text/event-stream` answer whose body is produced as it goes.
    Stream(Body),
}

impl Reply {
    pub(crate) fn json<T: Serialize>(status: StatusCode, value: &T) -> Reply {
        match serde_json::to_vec(value) {
            Ok(body) => Reply::Json {
                status,
                body: body.into(),
                retry_after: None,
            },
            // The instance's own types always serialise; should one not,
            // the client still gets the API's error shape.
            Err(_) => Reply::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal server error",
                "internal.error",
            ),
        }
    }

    pub(crate) fn error(status: StatusCode, message: impl Into<String>, code: &str) -> Reply {
        Reply::json(
            status,
            &Error {
                code: Some(code.to_string()),
                details: serde_json::Map::new(),
                error: message.into(),
            },
        )
    }

    pub(crate) fn validation(details: Vec<FieldError>) -> Reply {
        Reply::json(
            StatusCode::UNPROCESSABLE_ENTITY,
            &ValidationError {
                code: None,
                details,
                error: "Validation failed".to_string(),
            },
        )
    }

    pub(crate) fn invalid(field: &str, message: impl Into<String>) -> Reply {
        Reply::validation(vec![FieldError {
            field: field.to_string(),
            message: message.into(),
        }])
    }

    pub(crate) fn bad_json(why: impl std::fmt::Display) -> Reply {
        Reply::error(
            StatusCode::BAD_REQUEST,
            format!("Invalid request body: {why}"),
            "request.bad_json",
        )
    }

    pub(crate) fn not_found(what: &str) -> Reply {
        Reply::error(
            StatusCode::NOT_FOUND,
            format!("{what} not found"),
            "resource.not_found",
        )
    }

    pub(crate) fn with_retry_after(mut self, seconds: Option<u64>) -> Reply {
        if let Reply::Json { retry_after, .. } = &mut self {
            *retry_after = seconds;
        }
        self
    }

    /// What the journal keeps of this answer.
    pub(crate) fn record(&self, method: &str, path: &str) -> RecordedResponse {
        let (status, content_type, body) = match self {
            Reply::Json { status, body, .. } => (*status, Some(JSON), body.clone()),
            Reply::Empty(status) => (*status, None, Bytes::new()),
            Reply::Stream(_) => (StatusCode::OK, Some(EVENT_STREAM), Bytes::new()),
        };
        RecordedResponse {
            method: method.to_string(),
            path: path.to_string(),
            status: status.as_u16(),
            content_type: content_type.map(str::to_string),
            body,
        }
    }

    pub(crate) fn into_response(self) -> Response {
        let (status, content_type, body, retry_after) = match self {
            Reply::Json {
                status,
                body,
                retry_after,
            } => (status, Some(JSON), Body::from(body), retry_after),
            Reply::Empty(status) => (status, None, Body::empty(), None),
            Reply::Stream(body) => (StatusCode::OK, Some(EVENT_STREAM), body, None),
        };
        let mut response = Response::new(body);
        *response.status_mut() = status;
        let headers = response.headers_mut();
        if let Some(content_type) = content_type {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        }
        if let Some(seconds) = retry_after {
            headers.insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        if content_type == Some(EVENT_STREAM) {
            headers.insert(
                axum::http::header::CACHE_CONTROL,
                HeaderValue::from_static("no-cache"),
            );
        }
        response
    }
}
