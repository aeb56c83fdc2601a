//! The request path: every call of an operation, [`raw`](crate::Client::raw)
//! request, log-stream open and reopen, and deployment status lookup goes
//! through here, read top to bottom:
//!
//! 1. **plan** ([`Plan`]): the call resolved once: the operation's facts,
//!    the timeout, the retry policy and budget, the stream's options;
//! 2. **check**: the request against the operation's facts (path,
//!    bounds, required parameters), nothing sent when it does not fit;
//! 3. **attempt**: the token resolved (its expiry checked every attempt),
//!    the request sent, the outcome classified;
//! 4. **decide**: restart (after a wait, or after refreshing a refused
//!    token) or give up, in the retry policy's one function;
//! 5. **decode**: the answer into the operation's type, or one
//!    [`Error`](crate::Error).
//!
//! Each call's state is its own [`Plan`] and its own local variables:
//! nothing travels back up through shared or ambient state. The generated
//! builders enter through [`generated`], the one module that knows how
//! progenitor hands over a request.

mod attempt;
pub(crate) mod check;
pub(crate) mod decide;
pub(crate) mod decode;
pub(crate) mod generated;
mod plan;

use std::future::Future;

use futures_util::future::{self, Either};
use futures_util::{FutureExt as _, TryFutureExt as _};

use reqwest::{Request, Response};
use tracing::field::Empty;
use tracing::{Instrument as _, Span};

use crate::deadline::{Deadline, Elapsed};
use crate::error::Error;
use crate::facts::Operation;
use crate::Client;

pub(crate) use plan::{Plan, StreamOptions};

/// Where the request of a restart comes from.
#[derive(Clone, Copy)]
pub(crate) enum Resend<'a> {
    /// A copy of the request, kept before each attempt.
    Copy,
    /// The request made anew: a generated builder's, from a clone of the
    /// builder. A builder without a body clones for next to nothing, where
    /// a copy of its request (URL and headers) would cost every call.
    Rebuild(&'a (dyn Fn() -> Result<Request, Error> + Send + Sync + 'a)),
}

/// Steps 2 to 4: checks `request` against the plan's operation, then
/// attempts it until it succeeds or the policy gives up. A success answer is
/// returned unread, with the deadline its body is read within (see
/// [`read`]); dropping the deadline ends it.
// Not an `async fn`: the request goes straight into the attempts' future,
// rather than being kept beside it in a second one.
pub(crate) fn send<'a>(
    plan: &'a Plan<'a>,
    mut request: Request,
    resend: Resend<'a>,
) -> impl Future<Output = Result<(Response, Deadline), Error>> + Send + 'a {
    match check::check(plan, &mut request) {
        Ok(()) => Either::Left(attempt::run(plan, request, resend)),
        Err(refused) => Either::Right(future::ready(Err(refused))),
    }
}

/// Steps 2 to 5 for an answer read whole: [`send`], then `decode` of the
/// success answer within the deadline of the attempt that got it.
///
/// Made of combinators rather than an `async` block, which would keep each
/// step's future beside the one it awaits: the call's state holds the
/// largest step once.
pub(crate) fn exchange<'a, T: 'a, D>(
    plan: &'a Plan<'a>,
    request: Request,
    resend: Resend<'a>,
    decode: impl FnOnce(Response) -> D + Send + 'a,
) -> impl Future<Output = Result<T, Error>> + Send + 'a
where
    D: Future<Output = Result<T, Error>> + Send + 'a,
{
    send(plan, request, resend)
        .and_then(move |(answer, deadline)| read(plan.operation, deadline, decode(answer)))
}

/// Step 5 within the deadline of the attempt that got the answer: `decode`
/// reads its body.
fn read<T>(
    operation: &'static Operation,
    deadline: Deadline,
    decode: impl Future<Output = Result<T, Error>>,
) -> impl Future<Output = Result<T, Error>> {
    let timeout = deadline.timeout();
    deadline.bound(decode).map(move |read| match read {
        Ok(decoded) => decoded,
        Err(Elapsed) => Err(attempt::timed_out(operation, timeout)),
    })
}

/// Step 1 for `request`, with the span of its call: the request is handed
/// back, so that the future of the call moves it on without having
/// borrowed it (a local borrowed in a future keeps its room there after it
/// has been moved out).
pub(crate) fn planned<'a>(
    client: &'a Client,
    operation: &'static Operation,
    request: Request,
) -> (Plan<'a>, Span, Request) {
    let plan = Plan::call(client, operation, &request);
    let span = span(&plan, &request);
    (plan, span, request)
}

/// The `dployr.request` span of one call, made before its request is sent
/// (only then is the host at hand without a copy).
pub(crate) fn span(plan: &Plan<'_>, request: &Request) -> Span {
    tracing::info_span!(
        "dployr.request",
        dployr.operation = plan.operation.id,
        http.request.method = plan.method.as_str(),
        url.path = plan.path.as_str(),
        server.address = request.url().host_str(),
        http.response.status_code = Empty,
        http.request.resend_count = Empty,
        "http.response.header.x-request-id" = Empty,
        "error.type" = Empty,
    )
}

/// Runs `call` (the steps above and the decoding of its answer) as one call
/// of `plan`: in its `span`, its error naming the call.
// Not an `async fn`: `call` goes straight into the span's wrapper, rather
// than being kept beside it; a call's future is moved whole more than once.
pub(crate) fn traced<'a, T>(
    plan: &'a Plan<'a>,
    span: Span,
    call: impl Future<Output = Result<T, Error>> + 'a,
) -> impl Future<Output = Result<T, Error>> + 'a {
    call.instrument(span.clone()).map(move |result| {
        result.map_err(|error| {
            span.record("error.type", error.kind().name());
            if let Some(status) = error.status() {
                span.record("http.response.status_code", status.as_u16());
            }
            error.in_call(plan.operation.id, plan.method.as_str(), &plan.path)
        })
    })
}

#[cfg(test)]
mod tests {
    /// A call's future is the memory its task touches on every poll, for
    /// every call in flight. It stays within a kibibyte of a bare reqwest
    /// call that reads its answer whole (beside the builder, for a call
    /// with a body): a step that kept its future beside the one it awaits
    /// would double it.
    #[test]
    fn a_calls_future_stays_within_a_kibibyte_of_a_bare_reqwest_calls() {
        let (client, _tokens) = crate::create_dployr_client("http://127.0.0.1:9").unwrap();
        let http = reqwest::Client::new();
        let bare = async move {
            let answer = http.get("http://127.0.0.1:9/services").send().await?;
            answer.bytes().await
        };
        let bare = std::mem::size_of_val(&bare);
        let list = std::mem::size_of_val(&client.list_services().send());
        let builder = client
            .create_deployment()
            .body(crate::types::DeployRequest::builder().name("web"));
        let with_body = std::mem::size_of_val(&builder);
        let deploy = std::mem::size_of_val(&builder.send());
        assert!(
            list <= bare + 1024,
            "list_services: {list} B, bare {bare} B"
        );
        assert!(
            deploy <= bare + with_body + 1024,
            "create_deployment: {deploy} B, its builder {with_body} B, bare {bare} B"
        );
    }
}
