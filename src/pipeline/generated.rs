//! Where the generated builders hand over their requests: the one module
//! that names `progenitor_client`'s types.
//!
//! `build.rs` replaces each builder's generated `send` (which would call
//! hooks, send, and decode with progenitor's own error type) with one that
//! calls [`send_json`], [`send_empty`] or [`send_stream`] here with the
//! request the builder built. The pipeline then sends it and decodes the
//! answer itself, so each step happens once, in code this crate owns, and
//! no failure has to be squeezed through progenitor's error and back.
//! Only the request building and the types stay progenitor's.

use progenitor_client::{ByteStream, Error as BuilderError, ResponseValue};
use reqwest::{Request, Response};
use serde::de::DeserializeOwned;

use super::{decode, exchange, planned, send, span, traced, Plan, Resend, StreamOptions};
use crate::error::{Error, ErrorKind};
use crate::facts::Operation;
use crate::Client;

/// What a builder's `build_request` gives: the client and the request, or
/// why its values did not make one.
pub(crate) type Built<'a> = Result<(&'a Client, Request), BuilderError>;

/// A builder's `build_request` on a clone of the builder: the request of
/// the first attempt and, made anew, of each restart.
pub(crate) type Build<'a> = dyn Fn() -> Built<'a> + Send + Sync + 'a;

/// An operation whose success answer is JSON.
pub(crate) async fn send_json<T: DeserializeOwned>(
    operation: &'static Operation,
    build: &Build<'_>,
) -> Result<ResponseValue<T>, Error> {
    let (client, request) = build().map_err(|e| refused(operation, e))?;
    let (plan, span, request) = planned(client, operation, request);
    let rebuild = || rebuilt(operation, build);
    let max = plan.settings.max_response_bytes;
    let resend = Resend::Rebuild(&rebuild);
    let call = exchange(&plan, request, resend, move |answer| {
        decode::json(answer, max)
    });
    let (value, status, headers) = traced(&plan, span, call).await?;
    Ok(ResponseValue::new(value, status, headers))
}

/// An operation whose success answer has no body.
pub(crate) async fn send_empty(
    operation: &'static Operation,
    build: &Build<'_>,
) -> Result<ResponseValue<()>, Error> {
    let (client, request) = build().map_err(|e| refused(operation, e))?;
    let (plan, span, request) = planned(client, operation, request);
    let rebuild = || rebuilt(operation, build);
    let sent = send(&plan, request, Resend::Rebuild(&rebuild));
    let (answer, _deadline) = traced(&plan, span, sent).await?;
    Ok(ResponseValue::empty(answer))
}

/// An operation whose success answer is a stream, opened with the client's
/// defaults.
pub(crate) async fn send_stream(
    operation: &'static Operation,
    build: &Build<'_>,
) -> Result<ResponseValue<ByteStream>, Error> {
    let answer = open_stream(operation, build(), &StreamOptions::default()).await?;
    Ok(ResponseValue::stream(answer))
}

/// Opens a stream with `options` (a log stream's open timeout, resume
/// point and reopen policy); returns the answer with its body unread.
pub(crate) async fn open_stream(
    operation: &'static Operation,
    built: Built<'_>,
    options: &StreamOptions,
) -> Result<Response, Error> {
    let (client, request) = built.map_err(|e| refused(operation, e))?;
    let plan = Plan::stream(client, operation, &request, options);
    let span = span(&plan, &request);
    // The deadline covers the answer's headers only: the body of a stream
    // has no end in time.
    let sent = send(&plan, request, Resend::Copy);
    let (answer, _headers_came) = traced(&plan, span, sent).await?;
    Ok(answer)
}

/// The request of a restart, built again as the first attempt's was.
fn rebuilt(operation: &'static Operation, build: &Build<'_>) -> Result<Request, Error> {
    build()
        .map(|(_, request)| request)
        .map_err(|e| refused(operation, e))
}

/// A builder value that did not convert (a missing parameter, a body field
/// of the wrong shape) or a request reqwest could not build: nothing sent.
fn refused(operation: &'static Operation, error: BuilderError) -> Error {
    let error = match error {
        BuilderError::InvalidRequest(why) => Error::new(ErrorKind::InvalidInput, why),
        BuilderError::CommunicationError(e) => {
            Error::new(ErrorKind::InvalidInput, "the request could not be built").with_source(e)
        }
        other => Error::new(ErrorKind::InvalidInput, other.to_string()),
    };
    error.in_call(operation.id, operation.method, operation.path)
}
