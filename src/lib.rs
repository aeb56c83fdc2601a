//! The Rust SDK for the [Dployr](https://dployr.dev) instance API.
//!
//! A [`Client`] is generated at build time from the crate's `openapi.yaml`:
//! every operation of the API is a method returning a request builder. The
//! hand-written layer around it adds what generation cannot: bearer tokens
//! from a [`TokenManager`] (refreshed before they expire and once on 401),
//! typed [`Error`]s, retries and timeouts, typed log streams
//! ([`Client::stream_logs`]), deployments followed to their end
//! ([`Client::deploy`]), pagination and an escape hatch ([`Client::raw`]).
//!
//! ```no_run
//! # async fn run() -> Result<(), dployr::Error> {
//! let (client, tokens) = dployr::create_dployr_client("https://instance.example.com")?;
//! tokens.set_tokens("ACCESS_TOKEN_FROM_BASE", "REFRESH_TOKEN_FROM_BASE");
//!
//! let page = client.list_deployments().limit(50).offset(0).send().await?;
//! println!("{} deployments", page.total);
//! let service = client.get_service().service_id("01HN2K3M4N5P6Q7R8S9T0U1V2W").send().await?;
//! println!("{} is {:?}", service.name, service.status);
//! # Ok(())
//! # }
//! ```
//!
//! Every name a program needs is at the crate root, and each type has one
//! path. The modules that stay public hold what has no place at the root:
//!
//! | module | what it owns |
//! |---|---|
//! | [`types`] | the API's request and response types, generated |
//! | [`builder`] | one request builder per operation, generated |
//! | [`sse`] | a sans-IO server-sent events decoder |
//! | [`Role`] | the roles a token carries, in order; [`Operation::role`] is the least an operation needs |
//! | `testing` | `LocalInstance`, an in-process instance for tests (feature `testing`) |
//! | `mock` | typed mocks of every operation, for tests (feature `mock`) |
//!
//! At the root: the [`Client`], made by [`create_dployr_client`] or a
//! [`ClientBuilder`]; tokens ([`TokenManager`], [`Tokens`], [`jwt_expiry`]);
//! retries ([`RetryConfig`], [`RetryBudget`], a log stream's [`Reconnect`]);
//! log streams ([`LogStream`], [`LogEvent`]); deployments followed to their
//! end ([`DeploymentRun`], [`Progress`]); every operation's facts
//! ([`operations()`]); [`Error`] and [`ErrorKind`]; [`Secret`], the type of
//! every value the spec marks secret; and the `DEFAULT_*` settings.
//!
//! Every call (a builder's `send`, [`Client::call`], [`Client::raw`], a log
//! stream's open) goes through one pipeline: the call resolved once, checked
//! against its operation, attempted (the token checked before each attempt),
//! retried or given up by the retry policy, and decoded into its type or one
//! [`Error`]. It runs in a `dployr.request` [`tracing`](https://docs.rs/tracing)
//! span at INFO, with the operation, method, path, status, retries and
//! request id as fields; retries and refreshes are events inside it. Each
//! attempt records one DEBUG event, target `dployr::http::attempt`, with its
//! `method`, `path` (with the query, credentials redacted), `status` or
//! `error`, `duration_ms` and `attempt` number.

#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// What users call.
mod client;
mod deploy;
mod logs;
mod pages;
mod raw;
mod raw_pages;

// The request path.
mod pipeline;

// Policies, the client's shared state and the spec's facts.
mod auth;
mod deadline;
mod facts;
mod retry;
mod settings;
#[cfg(any(feature = "rustls", feature = "native-tls", feature = "rustls-ring"))]
mod tls;

// Leaves: the error type, the SSE decoder, secrets, roles.
mod error;
mod role;
mod secret;
pub mod sse;

// The generated client and types, and conveniences on them.
mod generated;
mod open_value_sets;

#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;

#[cfg(feature = "mock")]
#[cfg_attr(docsrs, doc(cfg(feature = "mock")))]
pub mod mock;

pub use auth::{jwt_expiry, TokenManager, Tokens, DEFAULT_REFRESH_MARGIN};
pub use client::builder::ClientBuilder;
pub use client::create_dployr_client;
pub use deploy::{DeploymentProgress, DeploymentRun, Progress, DEFAULT_WAIT_TIMEOUT};
pub use error::{BoxError, Error, ErrorKind};
pub use facts::{operations, BodyField, FieldKind, Operation, Parameter, ParameterLocation};
pub use generated::{types, ByteStream, Client, ResponseValue};
#[allow(deprecated)]
pub use logs::Resume;
pub use logs::{LogEvent, LogStream, LogStreamBuilder, Reconnecting};
pub use pages::{Pages, MAX_PAGE_SIZE};
pub use raw::{RawRequest, RawResponse};
/// The HTTP method a [`Client::raw`] request takes (re-exported from `reqwest`).
pub use reqwest::Method;
pub use retry::{Reconnect, RetryBudget, RetryConfig};
pub use role::Role;
pub use secret::{EmptySecret, NonEmptySecret, Secret};
pub use settings::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT,
    USER_AGENT,
};

/// The generated builders, one per operation (what `client.list_services()`
/// and the other operation methods return).
pub mod builder {
    pub use crate::generated::builder::*;
}

// The README's examples compile and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
