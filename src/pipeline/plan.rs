//! Step 1: the call resolved once. Everything the later steps ask (the
//! operation's facts, the timeout, the retry policy and budget, the stream's
//! options) is settled here, from the client's shared state, and carried
//! down as one value; no step reads it back from anywhere else.

use std::borrow::Cow;
use std::time::Duration;

use reqwest::{Method, Request};

use crate::facts::Operation;
use crate::retry::RetryConfig;
use crate::settings::Settings;
use crate::Client;

/// One call, resolved.
pub(crate) struct Plan<'a> {
    pub(crate) operation: &'static Operation,
    pub(crate) http: &'a reqwest::Client,
    pub(crate) settings: &'a Settings,
    /// The deadline of each attempt: its whole exchange for a JSON call,
    /// the answer's headers for a stream (whose body has no end in time).
    pub(crate) timeout: Duration,
    /// Which failures are tried again, how often and after what wait.
    pub(crate) retry: Cow<'a, RetryConfig>,
    /// Sent as `Last-Event-ID` when a stream is reopened.
    pub(crate) last_event_id: Option<&'a str>,
    /// The request's token parameter is a stand-in for the pipeline to fill:
    /// without a token to fill it with, nothing is sent.
    pub(crate) fills_token: bool,
    pub(crate) method: Method,
    /// The path the request goes to, without its query (which may carry a
    /// credential): what the span and an error show.
    pub(crate) path: String,
}

/// What opening a log stream asks beyond a plain call.
#[derive(Debug, Default)]
pub(crate) struct StreamOptions {
    /// Sent as `Last-Event-ID`.
    pub(crate) last_event_id: Option<String>,
    /// The deadline for the answer's headers, in place of the call timeout.
    pub(crate) open_timeout: Option<Duration>,
    /// The policy of a reopen, in place of the client's own.
    pub(crate) retry: Option<RetryConfig>,
    /// The request's token parameter is a stand-in (see [`Plan::fills_token`]).
    pub(crate) fills_token: bool,
}

impl<'a> Plan<'a> {
    /// A call of `operation` by `client`, for `request`.
    pub(crate) fn call(
        client: &'a Client,
        operation: &'static Operation,
        request: &Request,
    ) -> Self {
        let state = &client.inner;
        let settings = &*state.settings;
        // The caller's override (`Client::with_timeout`), else the
        // operation's own default from the spec, else the client's.
        let timeout = state
            .timeout_override
            .or(operation.timeout)
            .unwrap_or(settings.timeout);
        Plan {
            operation,
            http: &client.client,
            settings,
            timeout,
            retry: Cow::Borrowed(&settings.retry),
            last_event_id: None,
            fills_token: false,
            method: request.method().clone(),
            path: request.url().path().to_string(),
        }
    }

    /// Opening (or reopening) a log stream.
    pub(crate) fn stream(
        client: &'a Client,
        operation: &'static Operation,
        request: &Request,
        options: &'a StreamOptions,
    ) -> Self {
        let mut plan = Plan::call(client, operation, request);
        if let Some(open) = options.open_timeout {
            plan.timeout = open;
        }
        if let Some(retry) = &options.retry {
            plan.retry = Cow::Owned(retry.clone());
        }
        plan.last_event_id = options.last_event_id.as_deref();
        plan.fills_token = options.fills_token;
        plan
    }
}
