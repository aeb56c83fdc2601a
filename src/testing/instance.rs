//! [`LocalInstance`], its builder and the knobs a test turns on it.

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinHandle;

use super::journal::RecordedResponse;
use super::router;
use super::state::{lock, Config, Shared};
use crate::role::Role;

/// How long a token of [`LocalInstance::viewer_token`] and its siblings is
/// valid.
const STANDING_TOKEN_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// The longest heartbeat interval; timers far beyond it would overflow.
const MAX_HEARTBEAT: Duration = Duration::from_secs(24 * 60 * 60);

/// How long [`LocalInstance::shutdown`] waits for open connections to finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A Dployr instance served from memory on `127.0.0.1`, for tests and
/// examples; see the [module documentation](super) for what it does.
///
/// It runs on the tokio runtime that started it. Dropping it stops it:
/// the server closes idle connections, open log streams end and deployments
/// in progress stop where they are.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use dployr::testing::LocalInstance;
///
/// let instance = LocalInstance::start().await?;
/// let (client, tokens) = dployr::create_dployr_client(&instance.url())?;
/// tokens.set_access_token(instance.viewer_token());
/// let status = client.get_system_status().send().await?;
/// assert_eq!(status.services.total, 0);
/// assert_eq!(instance.requests_seen(), 1);
/// # Ok(())
/// # }
/// ```
pub struct LocalInstance {
    shared: Arc<Shared>,
    addr: SocketAddr,
    server: Mutex<Option<JoinHandle<()>>>,
    /// The standing token of each role, in `Role::ALL` order.
    tokens: [String; 4],
}

impl fmt::Debug for LocalInstance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalInstance")
            .field("url", &self.url())
            .field("requests_seen", &self.requests_seen())
            .finish_non_exhaustive()
    }
}

/// Options for a [`LocalInstance`]; made by [`LocalInstance::builder`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// use std::time::Duration;
/// let instance = dployr::testing::LocalInstance::builder()
///     .phase_delay(Duration::from_millis(20))
///     .heartbeat_interval(Duration::from_secs(1))
///     .start()
///     .await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
#[must_use = "nothing starts until `start` is awaited"]
pub struct LocalInstanceBuilder {
    config: Config,
}

impl Default for LocalInstanceBuilder {
    fn default() -> Self {
        LocalInstanceBuilder {
            config: Config {
                phase_delay: Duration::from_millis(200),
                heartbeat: Duration::from_secs(15),
                reconnect_hint: Duration::from_millis(100),
                blank_line_after_last_event: false,
            },
        }
    }
}

impl LocalInstanceBuilder {
    /// How long each step of a deployment takes (default 200 ms): from
    /// `pending` to the first log line, and between log lines up to `done`.
    /// A deployment takes five steps.
    pub fn phase_delay(mut self, delay: Duration) -> Self {
        self.config.phase_delay = delay;
        self
    }

    /// How often an idle log stream sends `: heartbeat` (default 15 s, as
    /// real instances do), kept between a millisecond and a day.
    pub fn heartbeat_interval(mut self, interval: Duration) -> Self {
        self.config.heartbeat = interval.clamp(Duration::from_millis(1), MAX_HEARTBEAT);
        self
    }

    /// The `retry:` delay a log stream asks a reconnecting client to wait
    /// (default 100 ms, so resume tests stay fast).
    pub fn reconnect_hint(mut self, delay: Duration) -> Self {
        self.config.reconnect_hint = delay;
        self
    }

    /// Whether a log stream ends its last event (`event: done` or
    /// `event: error`) with a blank line before closing (default `false`).
    ///
    /// By default the stream ends as the API reference's example does: the
    /// last `data:` line, its newline, then the end of the body, with no
    /// blank line. The SSE standard alone would discard such an event, so
    /// this is the case a client has to get right; `true` ends the event
    /// with a blank line, as every other event is.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let instance = dployr::testing::LocalInstance::builder()
    ///     .blank_line_after_last_event(true)
    ///     .start()
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn blank_line_after_last_event(mut self, blank_line: bool) -> Self {
        self.config.blank_line_after_last_event = blank_line;
        self
    }

    /// Binds `127.0.0.1:0` and starts serving on the current tokio runtime.
    ///
    /// Fails when called outside a tokio runtime or when no port can be
    /// bound.
    pub async fn start(self) -> io::Result<LocalInstance> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(io::Error::other(
                "a LocalInstance must be started inside a tokio runtime",
            ));
        }
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(self.config));
        let tokens = Role::ALL.map(|role| shared.keys.issue(role, STANDING_TOKEN_TTL));
        let app = router::app(shared.clone());
        let stop = shared.clone();
        let server = tokio::spawn(async move {
            let serving = axum::serve(listener, app)
                .with_graceful_shutdown(async move { stop.stopped().await });
            if let Err(error) = serving.await {
                tracing::warn!(target: "dployr::testing", %error, "the local instance stopped serving");
            }
        });
        Ok(LocalInstance {
            shared,
            addr,
            server: Mutex::new(Some(server)),
            tokens,
        })
    }
}

impl LocalInstance {
    /// Starts an instance with the default options (see
    /// [`LocalInstanceBuilder`]).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let instance = dployr::testing::LocalInstance::start().await?;
    /// assert!(instance.url().starts_with("http://127.0.0.1:"));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn start() -> io::Result<LocalInstance> {
        LocalInstanceBuilder::default().start().await
    }

    /// Options for an instance, to start with
    /// [`LocalInstanceBuilder::start`].
    pub fn builder() -> LocalInstanceBuilder {
        LocalInstanceBuilder::default()
    }

    /// The base URL to give a client, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address the instance listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A token with `role`, valid for a day.
    pub fn token(&self, role: Role) -> &str {
        let index = Role::ALL.iter().position(|r| *r == role).unwrap_or(0);
        &self.tokens[index]
    }

    /// A [`Role::Viewer`] token, valid for a day.
    pub fn viewer_token(&self) -> &str {
        self.token(Role::Viewer)
    }

    /// A [`Role::Developer`] token, valid for a day.
    pub fn developer_token(&self) -> &str {
        self.token(Role::Developer)
    }

    /// A [`Role::Admin`] token, valid for a day.
    pub fn admin_token(&self) -> &str {
        self.token(Role::Admin)
    }

    /// A [`Role::Owner`] token, valid for a day.
    pub fn owner_token(&self) -> &str {
        self.token(Role::Owner)
    }

    /// A new JWT-shaped token (`{"sub", "role", "exp"}` as its payload) that
    /// expires `ttl` from now, to the second, rounded down: after that the
    /// instance answers 401 with `auth.expired`. Typically called from a
    /// refresher to test token refresh.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use dployr::testing::{LocalInstance, Role};
    ///
    /// let instance = Arc::new(LocalInstance::start().await?);
    /// let issuer = instance.clone();
    /// let tokens = dployr::TokenManager::new().with_refresher(move |_refresh: String| {
    ///     let access = issuer.issue_token(Role::Viewer, Duration::from_secs(3600));
    ///     async move { Ok::<_, std::io::Error>(dployr::Tokens { access, refresh: None }) }
    /// });
    /// tokens.set_tokens(instance.issue_token(Role::Viewer, Duration::ZERO), "refresh");
    /// let client = dployr::Client::builder(instance.url()).token_manager(tokens).build()?;
    /// client.list_services().send().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn issue_token(&self, role: Role, ttl: Duration) -> String {
        self.shared.keys.issue(role, ttl)
    }

    /// Resolves once no deployment is still building: every deployment
    /// accepted so far has reached `completed` or `failed`, and every service
    /// it starts is `running`. Nothing changes the instance's data after that
    /// but requests, so two reads in a row see the same thing.
    ///
    /// A deployment's lifecycle moves its status and its service on its own,
    /// one step per [phase delay](LocalInstanceBuilder::phase_delay); a test
    /// that reads the same data twice, or asserts on a service right after
    /// deploying it, waits here first rather than sleeping. It returns at
    /// once when nothing is in flight, and also when the instance stops.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use dployr::testing::LocalInstance;
    ///
    /// let instance = LocalInstance::start().await?;
    /// let client = dployr::Client::builder(instance.url())
    ///     .access_token(instance.developer_token())
    ///     .build()?;
    /// let request: dployr::types::DeployRequest =
    ///     serde_json::from_str(include_str!("../../examples/deployment.json"))?;
    /// client.create_deployment().body(request).send().await?;
    /// instance.settled().await;
    /// let services = client.list_services().send().await?;
    /// assert_eq!(services.services[0].status.as_deref(), Some("running"));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn settled(&self) {
        tokio::select! {
            () = self.shared.settled() => {}
            () = self.shared.stopped() => {}
        }
    }

    /// Holds every deployment at the step it is at, new ones at `pending`,
    /// until [`release_deployments`](Self::release_deployments): for a test
    /// that asserts on a state the lifecycle would otherwise move past on
    /// its own time (a deployment still `pending`, its service still
    /// `stopped`). [`settled`](Self::settled) waits for the release too.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use dployr::testing::LocalInstance;
    ///
    /// let instance = LocalInstance::start().await?;
    /// let client = dployr::Client::builder(instance.url())
    ///     .access_token(instance.developer_token())
    ///     .build()?;
    /// let request: dployr::types::DeployRequest =
    ///     serde_json::from_str(include_str!("../../examples/deployment.json"))?;
    /// instance.hold_deployments();
    /// client.create_deployment().body(request).send().await?;
    /// let services = client.list_services().send().await?;
    /// assert_eq!(services.services[0].status.as_deref(), Some("stopped"));
    /// instance.release_deployments();
    /// instance.settled().await;
    /// let services = client.list_services().send().await?;
    /// assert_eq!(services.services[0].status.as_deref(), Some("running"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn hold_deployments(&self) {
        self.shared.held.send_replace(true);
    }

    /// Lets held deployments go on, each from the step it was held at.
    pub fn release_deployments(&self) {
        self.shared.held.send_replace(false);
    }

    /// Makes every deployment named `name` created from now on fail: its
    /// log ends with `event: error` and its status becomes `failed`.
    pub fn fail_deployments_named(&self, name: impl Into<String>) {
        self.shared.store().failing_names.insert(name.into());
    }

    /// Answers the next `count` requests, whatever they are, with `status`
    /// and the API's `Error` body (replacing any failures still due). A
    /// number that is no HTTP status fails them with 500.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let instance = dployr::testing::LocalInstance::start().await?;
    /// let client = dployr::Client::builder(instance.url())
    ///     .access_token(instance.viewer_token())
    ///     .build()?;
    /// instance.fail_next(1, 503);
    /// // The client retries the GET after the 503.
    /// client.list_services().send().await?;
    /// assert_eq!(instance.requests_seen(), 2);
    /// # Ok(())
    /// # }
    /// ```
    pub fn fail_next(&self, count: u32, status: u16) {
        lock(&self.shared.faults).fail_next(count, status, None);
    }

    /// As [`fail_next`](Self::fail_next), with a `Retry-After` header of
    /// `seconds`.
    pub fn fail_next_with_retry_after(&self, count: u32, status: u16, seconds: u64) {
        lock(&self.shared.faults).fail_next(count, status, Some(seconds));
    }

    /// Holds every answer back by `delay` before handling the request
    /// (`Duration::ZERO` turns it off).
    pub fn delay_responses(&self, delay: Duration) {
        lock(&self.shared.faults).delay = delay;
    }

    /// Makes every log stream opened from now on break off after `events`
    /// events (heartbeats not counted), without ending its body properly,
    /// as a lost connection would. Each reconnect gets `events` more, so a
    /// resuming client still reaches the end.
    pub fn drop_log_streams_after(&self, events: usize) {
        lock(&self.shared.faults).drop_streams_after = Some(events);
    }

    /// Answers every log stream opened from now on with `status` (404, say)
    /// and the API's `Error` body instead of its events, as an instance that
    /// does not stream a deployment's log would. Deployments still run and
    /// `GET /deployments` still shows their status. A number that is no
    /// HTTP status is answered with 500.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let instance = dployr::testing::LocalInstance::start().await?;
    /// let client = dployr::Client::builder(instance.url())
    ///     .access_token(instance.developer_token())
    ///     .build()?;
    /// instance.refuse_log_streams(404);
    /// let refused = client.stream_logs("any").await.unwrap_err();
    /// assert_eq!(refused.kind(), dployr::ErrorKind::NotFound);
    /// # Ok(())
    /// # }
    /// ```
    pub fn refuse_log_streams(&self, status: u16) {
        lock(&self.shared.faults).refuse_streams_with = Some(status);
    }

    /// Undoes [`fail_next`](Self::fail_next),
    /// [`delay_responses`](Self::delay_responses),
    /// [`drop_log_streams_after`](Self::drop_log_streams_after) and
    /// [`refuse_log_streams`](Self::refuse_log_streams).
    pub fn clear_faults(&self) {
        *lock(&self.shared.faults) = Default::default();
    }

    /// How many requests the instance received, including failed ones.
    pub fn requests_seen(&self) -> u64 {
        self.shared.requests_seen.load(Ordering::Relaxed)
    }

    /// The answers the instance sent, oldest first (the latest 1000), to
    /// check them after the fact, e.g. against the API's schemas.
    pub fn responses(&self) -> Vec<RecordedResponse> {
        lock(&self.shared.journal).entries()
    }

    /// Stops the instance and waits (up to 5 s) for its open connections to
    /// close. Requests after this fail to connect.
    pub async fn shutdown(&self) {
        self.shared.shutdown.send_replace(true);
        let server = lock(&self.server).take();
        if let Some(mut server) = server {
            if tokio::time::timeout(SHUTDOWN_GRACE, &mut server)
                .await
                .is_err()
            {
                server.abort();
            }
        }
    }
}

impl Drop for LocalInstance {
    fn drop(&mut self) {
        // The server and every task of the instance watch this signal; no
        // runtime is needed to send it.
        self.shared.shutdown.send_replace(true);
    }
}
