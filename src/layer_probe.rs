//! The pieces of work the request path adds to a call, each callable on its
//! own, so that `benches/layer_cost.rs` can time them one by one: a piece of
//! a few hundred nanoseconds cannot be seen in the end-to-end figures, whose
//! noise is larger than that.
//!
//! Each function runs the crate's own code for its piece, not a copy of it,
//! so the figures follow the code as it changes. Hidden, and compiled only
//! with the `testing` feature (which the crate's own benches enable), so no
//! application's build carries it.

use reqwest::{Request, Response};

use crate::error::{Error, ErrorKind};
use crate::facts::{self, Operation};
use crate::types::ErrorResponse;
use crate::{call, send, Client};

/// One operation of the spec.
#[derive(Clone, Copy, Debug)]
pub struct Op(&'static Operation);

impl Op {
    /// `getSystemStatus`: a GET without inputs and a small answer.
    pub const GET_SYSTEM_STATUS: Op = Op(&facts::GET_SYSTEM_STATUS);
    /// `listServices`: a GET with bounded query parameters.
    pub const LIST_SERVICES: Op = Op(&facts::LIST_SERVICES);
}

/// What `send()` wraps every call in: its `dployr.request` span, its
/// task-local state and the generated future, boxed.
pub async fn call_wrapper(op: Op) -> Result<u64, Error> {
    let answer = std::hint::black_box(1u64);
    call::generated(
        op.0,
        Box::pin(async move { Ok::<_, progenitor_client::Error<ErrorResponse>>(answer) }),
    )
    .await
}

/// The input checks: the path against its template, bounded query
/// parameters and body properties.
pub fn check_inputs(client: &Client, op: Op, request: &Request) -> bool {
    facts::check_path(op.0, &client.inner.settings.base_path, request.url().path())
        .and_then(|()| facts::check_request(op.0, request))
        .is_ok()
}

/// Looking up the token and setting it on the request.
pub async fn authorize(client: &Client, op: Op, request: &mut Request) -> Result<(), Error> {
    let tokens = &client.inner.settings.tokens;
    match tokens.access_for_request().await? {
        Some(access) => {
            send::set_token(request, op.0, &access);
            Ok(())
        }
        None => Err(Error::new(
            ErrorKind::Auth,
            "the probe's client has no token",
        )),
    }
}

/// All of `prepare`: span fields, input checks, token, timeout.
pub async fn prepare(client: &Client, op: Op, request: &mut Request) -> Result<(), Error> {
    send::prepare(&client.inner, op.0, request).await
}

/// The copy of the request the retry loop keeps before each attempt, in
/// case a retry or a refresh needs to send it again; whether it made one.
pub fn spare(client: &Client, op: Op, request: &Request) -> bool {
    send::may_resend(&client.inner, op.0, 1, false) && send::Spare::of(request).is_some()
}

/// The body limit put on a success answer.
pub fn limit_body(client: &Client, response: Response) -> Response {
    send::limit_body(response, client.inner.settings.max_response_bytes)
}
