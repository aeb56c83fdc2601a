//! Making a [`Client`] ([`create_dployr_client`], [`Client::builder`],
//! [`Client::from_env`]) and the settings every clone of it shares. The
//! builder itself lives in [`crate::client_builder`].
//!
//! How each call runs through those settings (auth, checks, retries,
//! timeouts) lives in [`crate::hooks`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::auth::TokenManager;
use crate::client_builder::ClientBuilder;
use crate::error::Error;
use crate::retry::RetryConfig;
use crate::Client;

/// The timeout of a call, unless its operation or the caller says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long establishing a connection may take.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest answer body read for a JSON operation, so that a broken or
/// hostile server cannot make the client buffer without bound.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;
/// The `User-Agent` this crate sends.
pub const USER_AGENT: &str = concat!("dployr-rust/", env!("CARGO_PKG_VERSION"));

/// Creates a client for the instance at `base_url` and the token manager it
/// reads its tokens from.
///
/// The URL must be `http` or `https`; a path stem (for an instance behind a
/// proxy prefix) is kept.
///
/// ```
/// # async fn run() -> Result<(), dployr::Error> {
/// let (client, tokens) = dployr::create_dployr_client("https://instance.example.com")?;
/// tokens.set_tokens("ACCESS_TOKEN_FROM_BASE", "REFRESH_TOKEN_FROM_BASE");
/// let services = client.list_services().send().await?;
/// # Ok(())
/// # }
/// ```
pub fn create_dployr_client(base_url: &str) -> Result<(Client, TokenManager), Error> {
    let client = Client::builder(base_url).build()?;
    let tokens = client.tokens().clone();
    Ok((client, tokens))
}

/// State that every clone of a [`Client`] shares: its token manager, retry
/// policy and timeouts. Made by [`ClientBuilder`]; `Debug` shows no token.
#[derive(Clone)]
pub struct Context {
    pub(crate) settings: Arc<Settings>,
    /// A per-call timeout set with [`Client::with_timeout`].
    pub(crate) timeout_override: Option<Duration>,
    /// Sent as `Last-Event-ID` when a log stream reconnects.
    pub(crate) last_event_id: Option<String>,
}

pub(crate) struct Settings {
    pub(crate) tokens: TokenManager,
    pub(crate) retry: RetryConfig,
    pub(crate) timeout: Duration,
    pub(crate) max_response_bytes: usize,
    pub(crate) log_idle_timeout: Duration,
    /// The path of the base URL without its trailing `/` (often empty), which
    /// every request path starts with.
    pub(crate) base_path: String,
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.settings;
        f.debug_struct("Context")
            .field("tokens", &s.tokens)
            .field("retry", &s.retry)
            .field("timeout", &self.timeout_override.unwrap_or(s.timeout))
            .field("max_response_bytes", &s.max_response_bytes)
            .field("log_idle_timeout", &s.log_idle_timeout)
            .finish()
    }
}

impl Context {
    /// The timeout of one attempt of `operation`: the caller's override, else
    /// the operation's own default from the spec, else the client's.
    pub(crate) fn timeout_for(&self, operation: &str) -> Duration {
        self.timeout_override
            .or_else(|| crate::operations::default_timeout(operation))
            .unwrap_or(self.settings.timeout)
    }
}

impl Client {
    /// Starts building a client for the instance at `base_url`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let tokens = dployr::TokenManager::new();
    /// let client = dployr::Client::builder("https://instance.example.com")
    ///     .token_manager(tokens.clone())
    ///     .timeout(Duration::from_secs(60))
    ///     .user_agent("my-deployer/1.0")
    ///     .build()?;
    /// # Ok::<(), dployr::Error>(())
    /// ```
    pub fn builder(base_url: impl Into<String>) -> ClientBuilder {
        ClientBuilder::new(base_url.into())
    }

    /// Builds a client from the environment:
    ///
    /// | variable | meaning |
    /// |---|---|
    /// | `DPLOYR_URL` | the instance's base URL (required) |
    /// | `DPLOYR_TOKEN` | an access token |
    /// | `DPLOYR_REFRESH_TOKEN` | a refresh token |
    /// | `DPLOYR_TIMEOUT_SECS` | the client-wide timeout in seconds |
    ///
    /// A missing or malformed value is a [`ErrorKind::Config`](crate::ErrorKind::Config) error naming
    /// the variable.
    ///
    /// ```no_run
    /// let client = dployr::Client::from_env()?;
    /// # Ok::<(), dployr::Error>(())
    /// ```
    pub fn from_env() -> Result<Client, Error> {
        ClientBuilder::from_env()?.build()
    }

    /// The token manager this client (and every clone of it) reads from.
    ///
    /// ```
    /// let client = dployr::Client::builder("http://127.0.0.1:8080").build()?;
    /// client.tokens().set_access_token("ACCESS");
    /// # Ok::<(), dployr::Error>(())
    /// ```
    pub fn tokens(&self) -> &TokenManager {
        &self.inner.settings.tokens
    }

    /// A clone whose calls use `timeout` instead of their defaults: for one
    /// slow call, or a different budget for a part of a program.
    ///
    /// ```
    /// # async fn run(client: dployr::Client) -> Result<(), dployr::Error> {
    /// use std::time::Duration;
    /// let result = client
    ///     .with_timeout(Duration::from_secs(1800))
    ///     .install_system()
    ///     .body(dployr::types::InstallRequest { version: None })
    ///     .send()
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_timeout(&self, timeout: Duration) -> Client {
        let mut clone = self.clone();
        clone.inner.timeout_override = Some(timeout);
        clone
    }
}
