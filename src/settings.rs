//! What every clone of a [`Client`](crate::Client) shares ([`Settings`]:
//! tokens, retry policy and budget, timeouts, limits) and what a clone may
//! set for its own calls ([`Context`]), with the defaults of each.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::auth::TokenManager;
use crate::facts::Operation;
use crate::retry::{Budget, RetryConfig};

/// The timeout of a call, unless its operation or the caller says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long establishing a connection may take.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest answer body read for a JSON operation, so that a broken or
/// hostile server cannot make the client buffer without bound.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;
/// The `User-Agent` this crate sends.
pub const USER_AGENT: &str = concat!("dployr-rust/", env!("CARGO_PKG_VERSION"));
/// The instance sends a heartbeat every 15 s; three missed ones mean a log
/// stream is dead even if the connection looks open.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(45);

/// The state behind a [`Client`](crate::Client): what every clone shares,
/// and what this clone set for its own calls. Made by
/// [`ClientBuilder`](crate::ClientBuilder); `Debug` shows no token.
#[derive(Clone)]
pub struct Context {
    pub(crate) settings: Arc<Settings>,
    /// A per-call timeout set with [`Client::with_timeout`](crate::Client::with_timeout).
    pub(crate) timeout_override: Option<Duration>,
    /// Set on the clone that opens a log stream.
    pub(crate) stream: Option<Arc<StreamOpen>>,
}

/// What a log stream's open or reconnect asks of the request path.
#[derive(Debug, Default)]
pub(crate) struct StreamOpen {
    /// Sent as `Last-Event-ID`.
    pub(crate) last_event_id: Option<String>,
    /// The deadline for the answer's headers, in place of the per-attempt
    /// timeout.
    pub(crate) header_timeout: Option<Duration>,
    /// The retry policy of a reconnect, in place of the client's.
    pub(crate) retry: Option<RetryConfig>,
}

/// What every clone of a client shares.
pub(crate) struct Settings {
    pub(crate) tokens: TokenManager,
    pub(crate) retry: RetryConfig,
    /// Drawn by every retry of every clone (see [`crate::RetryBudget`]).
    pub(crate) budget: Budget,
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
    pub(crate) fn new(settings: Settings) -> Self {
        Context {
            settings: Arc::new(settings),
            timeout_override: None,
            stream: None,
        }
    }

    /// The timeout of one attempt of `operation`: the caller's override, else
    /// the operation's own default from the spec, else the client's.
    pub(crate) fn timeout_for(&self, operation: &Operation) -> Duration {
        self.timeout_override
            .or(operation.timeout)
            .unwrap_or(self.settings.timeout)
    }

    /// The retry policy for this clone's calls.
    pub(crate) fn retry(&self) -> &RetryConfig {
        self.stream
            .as_ref()
            .and_then(|s| s.retry.as_ref())
            .unwrap_or(&self.settings.retry)
    }
}
