//! Typed mocks of every operation, for testing code that uses the client:
//! [`MockServerExt`] adds to httpmock's [`MockServer`] one method per
//! operation of the crate's `openapi.yaml`, generated with the client.
//!
//! Enabled by the `mock` feature:
//!
//! ```toml
//! [dev-dependencies]
//! dployr = { version = "0.1", features = ["mock"] }
//! ```
//!
//! Each method takes a closure given the operation's typed `When` (a
//! matcher per parameter, `body` for the request body, `bearer_token` and
//! `no_token` for the credential sent) and typed `Then` (a method per
//! answer the spec declares: `success(status, &body)` for its `2XX`,
//! `not_found(&error)` for a `404`, and so on, each taking the client's own
//! types). A mock answers only the requests that match all of its `When`;
//! [`Mock::assert`] fails the test unless one did.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use dployr::mock::{MockServer, MockServerExt};
//! use dployr::types::ServiceList;
//!
//! let server = MockServer::start_async().await;
//! let page: ServiceList = serde_json::from_value(serde_json::json!({
//!     "services": [], "total": 0
//! }))?;
//! let listed = server.list_services(|when, then| {
//!     when.limit(Some(20)).bearer_token("t");
//!     then.success(200, &page);
//! });
//!
//! let client = dployr::Client::builder(server.base_url()).access_token("t").build()?;
//! let answer = client.list_services().limit(20).send().await?;
//! assert_eq!(answer.total, 0);
//! listed.assert();
//! # Ok(())
//! # }
//! ```
//!
//! A sequence of answers is a sequence of mocks: one limited to its first
//! hits with `up_to_n_times`, then the next. The log stream answers
//! [`ServerEvent`]s, framed as an instance frames them.

mod events;
mod generated;

pub use events::ServerEvent;
pub use generated::{operations, MockServerExt};
/// The mock HTTP server the typed mocks extend (re-exported from `httpmock`).
pub use httpmock::{Mock, MockServer};
