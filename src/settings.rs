//! The state behind a [`Client`](crate::Client): what every clone shares
//! ([`Settings`]: tokens, retry policy and budget, timeouts, limits) and
//! what a clone may set for its own calls, with the defaults of each.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::auth::TokenManager;
use crate::deadline::Deadlines;
use crate::retry::{RetryConfig, TokenBucket};

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

/// The state behind a [`Client`](crate::Client) (what
/// the generated `inner()` of a client returns): what every clone
/// shares, and the timeout this clone set for its own calls. Made by
/// [`ClientBuilder`](crate::ClientBuilder); `Debug` shows no token.
#[derive(Clone)]
pub struct ClientState {
    pub(crate) settings: Arc<Settings>,
    /// A per-call timeout set with [`Client::with_timeout`](crate::Client::with_timeout).
    pub(crate) timeout_override: Option<Duration>,
}

/// What every clone of a client shares.
pub(crate) struct Settings {
    pub(crate) tokens: TokenManager,
    pub(crate) retry: RetryConfig,
    /// Drawn by every retry of every clone (see [`crate::RetryBudget`]).
    pub(crate) budget: TokenBucket,
    pub(crate) timeout: Duration,
    pub(crate) max_response_bytes: usize,
    pub(crate) log_idle_timeout: Duration,
    /// The path of the base URL without its trailing `/` (often empty), which
    /// every request path starts with.
    pub(crate) base_path: String,
    /// Every call's deadline, watched without a timer per call (see
    /// `deadline`).
    pub(crate) deadlines: Arc<Deadlines>,
}

impl fmt::Debug for ClientState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.settings;
        f.debug_struct("ClientState")
            .field("tokens", &s.tokens)
            .field("retry", &s.retry)
            .field("timeout", &self.timeout_override.unwrap_or(s.timeout))
            .field("max_response_bytes", &s.max_response_bytes)
            .field("log_idle_timeout", &s.log_idle_timeout)
            .finish()
    }
}

impl ClientState {
    pub(crate) fn new(settings: Settings) -> Self {
        ClientState {
            settings: Arc::new(settings),
            timeout_override: None,
        }
    }
}
