//! One call, from the public `send()` to its result: the `dployr.request`
//! span it runs in, and the state that belongs to it alone.
//!
//! The generated code lets the hooks fail only with progenitor's error, which
//! carries a string or a response. So the hooks record the call's structured
//! [`Error`] here, in state scoped to the call's own task, and `send()` returns
//! that error in place of whatever the generated code made of the failure.
//! Nothing outlives the call, and no two calls share anything.

use std::cell::RefCell;
use std::future::Future;

use reqwest::StatusCode;
use tracing::field::Empty;
use tracing::Instrument as _;

use crate::error::{Error, ErrorKind};
use crate::facts::Operation;
use crate::types::ErrorResponse;

tokio::task_local! {
    static CALL: RefCell<Call>;
}

/// What one call knows about itself while it runs.
struct Call {
    operation: &'static Operation,
    /// The error the hooks recorded; it wins over the generated code's.
    failure: Option<Error>,
    /// The status of the success answer, for a body that fails to decode.
    status: Option<StatusCode>,
}

/// Runs a generated `send` as one call of `operation`, and returns its
/// failure as an [`Error`].
pub(crate) async fn generated<T>(
    operation: &'static Operation,
    send: impl Future<Output = Result<T, progenitor_client::Error<ErrorResponse>>>,
) -> Result<T, Error> {
    run(operation, async move {
        match send.await {
            Ok(value) => Ok(value),
            Err(generated) => Err(take_failure().unwrap_or_else(|| from_generated(generated))),
        }
    })
    .await
}

/// Runs `call` as one call of `operation`: in its own `dployr.request` span,
/// with its own state.
pub(crate) async fn run<T>(
    operation: &'static Operation,
    call: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    let span = tracing::info_span!(
        "dployr.request",
        dployr.operation = operation.id,
        http.request.method = Empty,
        url.path = Empty,
        server.address = Empty,
        http.response.status_code = Empty,
        http.request.resend_count = Empty,
        "http.response.header.x-request-id" = Empty,
        "error.type" = Empty,
    );
    let state = RefCell::new(Call {
        operation,
        failure: None,
        status: None,
    });
    let result = CALL.scope(state, call).instrument(span.clone()).await;
    if let Err(error) = &result {
        span.record("error.type", error.kind().name());
        if let Some(status) = error.status() {
            span.record("http.response.status_code", status.as_u16());
        }
    }
    result
}

/// The operation of the call in progress. Outside a call (which the
/// generated code never is) it is the raw operation, which checks nothing.
pub(crate) fn operation() -> &'static Operation {
    CALL.try_with(|call| call.borrow().operation)
        .unwrap_or(&crate::facts::RAW)
}

/// Records `error` as the call's failure.
pub(crate) fn fail(error: Error) {
    let _ = CALL.try_with(|call| call.borrow_mut().failure = Some(error));
}

/// Records the status of the call's success answer.
pub(crate) fn succeeded(status: StatusCode) {
    let _ = CALL.try_with(|call| call.borrow_mut().status = Some(status));
}

fn take_failure() -> Option<Error> {
    CALL.try_with(|call| call.borrow_mut().failure.take())
        .ok()
        .flatten()
}

/// What the generated code's own failures mean, for those the hooks did not
/// record: a builder value that did not convert, and a success body that is
/// not what the spec describes.
fn from_generated(error: progenitor_client::Error<ErrorResponse>) -> Error {
    use progenitor_client::Error as Generated;
    let status = CALL.try_with(|call| call.borrow().status).ok().flatten();
    let error = match error {
        Generated::InvalidRequest(why) => Error::new(ErrorKind::InvalidInput, why),
        Generated::Custom(why) => Error::new(ErrorKind::InvalidInput, why),
        Generated::CommunicationError(e)
        | Generated::InvalidUpgrade(e)
        | Generated::ResponseBodyError(e) => Error::from_reqwest(e),
        Generated::InvalidResponsePayload(body, e) => Error::decode(None, &body, e),
        Generated::ErrorResponse(answer) => {
            Error::from_status(answer.status(), answer.headers(), Some(answer.as_ref()))
        }
        Generated::UnexpectedResponse(answer) => {
            Error::from_status(answer.status(), answer.headers(), None)
        }
    };
    match status {
        Some(status) if error.kind() == ErrorKind::Decode => error.with_status(status),
        _ => error,
    }
}
