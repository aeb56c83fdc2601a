//! The generated client's hooks: every operation's request passes through
//! [`crate::send`] here, and any failure is recorded for the call (see
//! [`crate::call`]) rather than squeezed into progenitor's error.

use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::{Request, Response};

use crate::settings::Context;
use crate::{call, send, Client};

impl ClientHooks<Context> for Client {
    async fn pre<E>(
        &self,
        request: &mut Request,
        _info: &OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        send::prepare(self.inner(), call::operation(), request)
            .await
            .map_err(|error| {
                call::fail(error);
                // Never seen: `send()` returns the recorded error instead.
                progenitor_client::Error::Custom(String::new())
            })
    }

    async fn exec(&self, request: Request, _info: &OperationInfo) -> reqwest::Result<Response> {
        let ctx = self.inner();
        let operation = call::operation();
        match send::execute(self.client(), ctx, operation, request).await {
            Ok(response) => {
                call::succeeded(response.status());
                if operation.streaming {
                    Ok(response)
                } else {
                    Ok(send::limit_body(response, ctx.settings.max_response_bytes))
                }
            }
            Err(error) => {
                call::fail(error);
                stand_in()
            }
        }
    }
}

/// What `exec` hands the generated code for a failure already recorded: a
/// bodiless 500 turned into reqwest's status error, the cheapest failure
/// reqwest lets us make. The generated code passes it on untouched, and
/// `send()` returns the recorded error in its place.
fn stand_in() -> reqwest::Result<Response> {
    let mut answer = http::Response::new(reqwest::Body::from(bytes::Bytes::new()));
    *answer.status_mut() = reqwest::StatusCode::INTERNAL_SERVER_ERROR;
    Response::from(answer).error_for_status()
}
