//! Step 5: an answer read into what the caller gets: a success body decoded
//! into the operation's type, or an error answer into one [`Error`]. Bodies
//! are read bounded, so a broken or hostile server cannot make the client
//! buffer without end.

use std::future::Future;

use bytes::Bytes;
use futures_util::future::Either;
use futures_util::{FutureExt as _, TryFutureExt as _};
use http_body_util::{BodyExt as _, LengthLimitError, Limited};
use reqwest::header::HeaderMap;
use reqwest::{Response, StatusCode};
use serde::de::DeserializeOwned;

use crate::error::{Error, ErrorKind};

/// A success body decoded as `T`, with the answer's status and headers.
///
/// A body that is not a `T` is an [`ErrorKind::Decode`] error naming the
/// type and where in the document decoding stopped (a JSON path), so a
/// version mismatch (a list where a page was expected) reads as one.
pub(crate) fn json<T: DeserializeOwned>(
    answer: Response,
    max: usize,
) -> impl Future<Output = Result<(T, StatusCode, HeaderMap), Error>> {
    bytes(answer, max).map(|read| {
        let (status, headers, body) = read?;
        match serde_json::from_slice(&body) {
            Ok(value) => Ok((value, status, headers)),
            Err(_) => Err(mismatch::<T>(status, &body)),
        }
    })
}

/// Why `body` is not a `T`. Decoded a second time, with the path tracked,
/// only once the first decoding failed: tracking it costs on every field.
pub(crate) fn mismatch<T: DeserializeOwned>(status: StatusCode, body: &[u8]) -> Error {
    let mut reader = serde_json::Deserializer::from_slice(body);
    match serde_path_to_error::deserialize::<_, T>(&mut reader) {
        Err(e) => {
            let path = e.path().to_string();
            Error::decode(Some(status), body, e.into_inner()).at_path(
                std::any::type_name::<T>(),
                path,
                json_kind(body),
            )
        }
        Ok(_) => Error::decode(
            Some(status),
            body,
            "the answer decodes only when its path is tracked",
        ),
    }
}

/// What the document is at its top, to name beside the type expected.
fn json_kind(body: &[u8]) -> Option<&'static str> {
    match body.iter().find(|b| !b.is_ascii_whitespace())? {
        b'[' => Some("a JSON array"),
        b'{' => Some("a JSON object"),
        b'"' => Some("a JSON string"),
        _ => None,
    }
}

/// A whole body, read bounded, with the answer's status and headers.
// Not an `async fn`, which would keep the answer twice (as its parameter
// and as the local it moves into) beside the read of its body.
pub(crate) fn bytes(
    mut answer: Response,
    max: usize,
) -> impl Future<Output = Result<(StatusCode, HeaderMap, Bytes), Error>> {
    let status = answer.status();
    let headers = std::mem::take(answer.headers_mut());
    // A body whose length is declared (`Content-Length`) ends there: hyper
    // never delivers more. Within the limit it needs no bound of its own,
    // and reqwest reads it in one piece.
    let body = if answer.content_length().is_some_and(|n| n <= max as u64) {
        Either::Left(answer.bytes().map_err(Error::from_reqwest))
    } else {
        Either::Right(bounded(answer, max))
    };
    body.map_ok(move |body| (status, headers, body))
}

/// A body of undeclared length (or declared beyond `max`), read until it
/// ends or passes `max`.
fn bounded(answer: Response, max: usize) -> impl Future<Output = Result<Bytes, Error>> {
    let body = http::Response::from(answer).into_body();
    Limited::new(body, max)
        .collect()
        .map(move |collected| match collected {
            Ok(collected) => Ok(collected.to_bytes()),
            Err(e) if e.is::<LengthLimitError>() => Err(too_large(max).with_source(e)),
            Err(e) => match e.downcast::<reqwest::Error>() {
                Ok(e) => Err(Error::from_reqwest(*e)),
                Err(e) => Err(Error::new(
                    ErrorKind::Transport,
                    "the answer's body could not be read",
                )
                .with_source(e)),
            },
        })
}

/// The error an error answer stands for, read from its (bounded) body.
pub(crate) async fn error_answer(answer: Response, max: usize) -> Error {
    let status = answer.status();
    let headers = answer.headers().clone();
    match bytes(answer, max).await {
        Ok((_, _, body)) => Error::from_answer(status, &headers, &body),
        Err(e) => Error::from_status(status, &headers, None).with_source(e),
    }
}

fn too_large(max: usize) -> Error {
    Error::new(
        ErrorKind::Decode,
        format!(
            "the instance's answer is larger than the client accepts ({max} bytes; \
             raise it with ClientBuilder::max_response_bytes)"
        ),
    )
}
