//! An in-process Dployr instance for tests and examples: [`LocalInstance`].
//!
//! Enabled by the `testing` feature:
//!
//! ```toml
//! [dev-dependencies]
//! dployr = { version = "0.1", features = ["testing"] }
//! ```
//!
//! [`LocalInstance::start`] binds `127.0.0.1:0` and serves every operation
//! of the crate's `openapi.yaml` from memory, on the caller's tokio runtime.
//! Point a [`Client`](crate::Client) at [`LocalInstance::url`] and use it as
//! you would a real instance; dropping the instance (or awaiting
//! [`LocalInstance::shutdown`]) stops it.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use futures::StreamExt;
//! use dployr::types::{DeployRequest, KnownRuntime, KnownSource, RemoteObj, RuntimeObj};
//!
//! let instance = dployr::testing::LocalInstance::start().await?;
//! let (client, tokens) = dployr::create_dployr_client(&instance.url())?;
//! tokens.set_access_token(instance.developer_token());
//!
//! let request = DeployRequest::builder()
//!     .name("web")
//!     .user_id("user-1")
//!     .source(KnownSource::Remote)
//!     .runtime(RuntimeObj { type_: KnownRuntime::Nodejs.into(), version: Some("20".into()) })
//!     .remote(Some(RemoteObj {
//!         url: "https://github.com/example/web.git".into(),
//!         branch: None,
//!         commit_hash: None,
//!     }))
//!     .port(Some(3000));
//! let created = client.create_deployment().body(request).send().await?;
//!
//! let mut logs = client.stream_logs(&created.id).await?;
//! while let Some(event) = logs.next().await {
//!     if let dployr::LogEvent::Line(line) = event? {
//!         println!("{line}");
//!     }
//! }
//! let service = client.list_services().send().await?.into_inner().services.remove(0);
//! assert_eq!(service.status.as_deref(), Some("running"));
//! # Ok(())
//! # }
//! ```
//!
//! # What it does
//!
//! - **Deployments** start `pending`, turn `in_progress` and end `completed`,
//!   one step per [phase delay](LocalInstanceBuilder::phase_delay) (200 ms by
//!   default), or `failed` when their name was given to
//!   [`LocalInstance::fail_deployments_named`]. Creating one creates its
//!   service (by name, `stopped`); completing it applies the deployment's
//!   settings to the service and marks it `running`.
//! - **Build logs** (`GET /logs/stream`) are server-sent events: each log
//!   line is an event with `id: <n>`, its index in the deployment's log; the
//!   last event is `event: done` (or `event: error` with the reason, for a
//!   failed deployment). As in the API reference's example, no blank line
//!   follows that last event before the body ends, unless
//!   [asked for](LocalInstanceBuilder::blank_line_after_last_event).
//!   `: heartbeat` comments keep an idle stream alive, every 15 s unless
//!   [configured](LocalInstanceBuilder::heartbeat_interval). A reconnect
//!   with `Last-Event-ID: <n>` continues after event `n`. The id of a
//!   service streams its latest deployment's log.
//! - **Services** can be read, replaced (`PUT`: the settings a
//!   `ServiceUpdate` holds are cleared when absent, except the required
//!   name), merged (`PATCH`) and deleted (`DELETE`, then 404).
//! - **Proxy routes** are added by `POST /proxy/add` (a route for a domain
//!   that has one replaces it). `DELETE /proxy/remove` has no body in the
//!   spec, so it removes the most recently added route, or answers 404 when
//!   there is none. `GET /system/status` counts them.
//! - **Lists** are newest first and take `limit` (1 to 100, default 20) and
//!   `offset` (0 or more, default 0).
//! - **Validation** follows the spec: a body that is not a JSON object is a
//!   400 `Error` (`request.bad_json`); missing required fields, unknown enum
//!   values (this instance implements the current API version, so it rejects
//!   what a newer instance might accept), a port outside 1..=65535 or a
//!   limit out of range are a 422 `ValidationError` naming each field. A
//!   deployment whose source is `remote` needs `remote`, one whose source is
//!   `image` needs `image`, as a real instance cannot build without them.
//! - **System**: `status` is `healthy` with the uptime as a Go duration
//!   (`1h2m3s`); `info` describes this host (CPU count, OS, architecture in
//!   Go's names, memory on Linux); `doctor` and `install` answer `ok`
//!   (`install` with no body, or `{}`, installs the latest release);
//!   `register` takes a claim without a token; `domain` takes an
//!   installation token without an access token and answers
//!   `local-<port>.dployr.dev`, the port being the one the instance was
//!   reached on.
//!
//! # Authentication
//!
//! Requests need a bearer token the instance issued. Each token carries a
//! [`Role`], and each operation needs at least the role `openapi.yaml`
//! states for it (`x-dployr-role`, which [`Operation::role`] gives): the
//! instance finds a request's operation among [`operations`] and checks its
//! token against that role before anything else, the same way for every
//! operation. A token below it gets a 403 with the body the spec documents
//! (`{"error": "Insufficient permissions", "code": "auth.forbidden"}`). A
//! missing or unknown token is a 401 (`auth.unauthorized`), an expired one
//! a 401 with `auth.expired`. `registerInstance` and `requestDomain` need
//! no token.
//!
//! | role | the least role of (each role may also call everything above it) |
//! |---|---|
//! | [`Role::Viewer`] | `listServices`, `getService`, `getSystemStatus` |
//! | [`Role::Developer`] | `listDeployments`, `createDeployment`, `updateService`, `patchService`, `openLogStream`, `getProxyStatus`, `runSystemDoctor` |
//! | [`Role::Admin`] | `deleteService`, `restartProxy`, `addProxyRoute`, `removeProxyRoute`, `getSystemInfo`, `installSystem` |
//! | [`Role::Owner`] | no operation needs more than admin |
//!
//! The table is checked against the spec's facts by the crate's tests.
//!
//! [`Operation::role`]: crate::Operation::role
//! [`operations`]: crate::operations()
//!
//! The tokens of [`LocalInstance::viewer_token`] and its siblings are valid
//! for a day; [`LocalInstance::issue_token`] makes ones that expire sooner,
//! to exercise a refresher. Tokens are JWT-shaped and signed with a key made
//! for each instance; this is a test double, not a security boundary.
//!
//! # Fault injection
//!
//! [`LocalInstance::fail_next`] (and [`fail_next_with_retry_after`]),
//! [`LocalInstance::delay_responses`],
//! [`LocalInstance::drop_log_streams_after`] and
//! [`LocalInstance::refuse_log_streams`] make the instance misbehave in
//! the ways a client has to survive; [`LocalInstance::clear_faults`] undoes
//! them.
//!
//! [`fail_next_with_retry_after`]: LocalInstance::fail_next_with_retry_after

mod auth;
mod call;
mod deployments;
mod faults;
mod host;
mod instance;
mod journal;
mod lifecycle;
mod logstream;
mod reply;
mod router;
mod services;
mod state;
mod system;
mod validate;

pub use crate::role::Role;
pub use instance::{LocalInstance, LocalInstanceBuilder};
pub use journal::RecordedResponse;
