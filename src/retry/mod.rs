//! The retry policy: which failures are tried again, how often and after
//! what wait, and the budget every retry draws from. The pipeline's decide
//! step applies it to typed calls, [`raw`](crate::Client::raw) requests and
//! log-stream reconnects alike, and [`Error::is_retryable`] reports its
//! answer.
//!
//! Retries are also bounded per client by a [`RetryBudget`], so that when an
//! instance fails, its clients go back to one attempt per call instead of
//! multiplying the load on it.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use reqwest::{Method, StatusCode};

use crate::error::{Error, ErrorKind};

/// How failed requests are retried.
///
/// Retried: 429, 502, 503 and 504 answers (and 500 with `retry_on_500`),
/// timeouts and lost connections, for GET, HEAD, PUT and DELETE; for every
/// method, a connection that could not be established, because only then is
/// it certain that the instance never saw the request. Waits grow
/// exponentially with full jitter, and follow `Retry-After` when the instance
/// sends one (capped at `backoff_max`). Every retry draws from the client's
/// [`RetryBudget`].
///
/// Fields are read as fields and set with the methods of the same name, so
/// that a field added later breaks no one's code:
///
/// ```
/// use std::time::Duration;
/// let retry = dployr::RetryConfig::default()
///     .max_retries(5)
///     .backoff_max(Duration::from_secs(10));
/// assert_eq!(retry.max_retries, 5);
/// let client = dployr::Client::builder("https://instance.example.com")
///     .retry(retry)
///     .build()?;
/// # Ok::<(), dployr::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct RetryConfig {
    /// Retries after the first attempt; 0 turns retries off.
    pub max_retries: u32,
    /// The wait before the first retry, doubled for each next one.
    pub backoff_base: Duration,
    /// The longest wait, also the cap on `Retry-After`.
    pub backoff_max: Duration,
    /// Wait a random time between zero and the backoff (full jitter), so
    /// many clients do not retry in lockstep.
    pub jitter: bool,
    /// Also retry 500 answers (off: a 500 is usually not transient).
    pub retry_on_500: bool,
    /// The client's retry budget; `None` lets every retryable failure retry.
    pub budget: Option<RetryBudget>,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            max_retries: 3,
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
            jitter: true,
            retry_on_500: false,
            budget: Some(RetryBudget::default()),
        }
    }
}

/// A token bucket that every retry of a client draws from, shared by all
/// its clones and tasks.
///
/// A first attempt never needs a token, so the budget cannot fail a call
/// that would have succeeded on its first try. A retry takes `retry_cost`
/// tokens (`timeout_cost` after a timeout, which ties up the instance
/// longer); when the bucket cannot pay, the call fails with the error it had.
/// Each call that succeeds puts back what its retries took, or
/// `success_refill` when it needed none, so a client that recovers retries
/// again.
///
/// The defaults allow a burst of 100 retries from a full bucket (500 / 5),
/// after which a client facing an instance that fails everything sends about
/// one request per call; 100 first-try successes buy back 20 retries.
///
/// ```
/// let config = dployr::RetryConfig::default()
///     .budget(Some(dployr::RetryBudget::default().capacity(100)));
/// let no_budget = dployr::RetryConfig::default().budget(None);
/// # let _ = (config, no_budget);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryBudget {
    /// Tokens in a full bucket (and at the start).
    pub capacity: u32,
    /// Tokens one retry takes.
    pub retry_cost: u32,
    /// Tokens one retry after a timeout takes.
    pub timeout_cost: u32,
    /// Tokens a call that succeeded on its first attempt puts back.
    pub success_refill: u32,
}

impl Default for RetryBudget {
    fn default() -> Self {
        RetryBudget {
            capacity: 500,
            retry_cost: 5,
            timeout_cost: 10,
            success_refill: 1,
        }
    }
}

impl RetryBudget {
    /// Sets [`capacity`](Self::capacity).
    pub fn capacity(mut self, tokens: u32) -> Self {
        self.capacity = tokens;
        self
    }

    /// Sets [`retry_cost`](Self::retry_cost).
    pub fn retry_cost(mut self, tokens: u32) -> Self {
        self.retry_cost = tokens;
        self
    }

    /// Sets [`timeout_cost`](Self::timeout_cost).
    pub fn timeout_cost(mut self, tokens: u32) -> Self {
        self.timeout_cost = tokens;
        self
    }

    /// Sets [`success_refill`](Self::success_refill).
    pub fn success_refill(mut self, tokens: u32) -> Self {
        self.success_refill = tokens;
        self
    }
}

impl RetryConfig {
    /// Sets [`max_retries`](Self::max_retries).
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries;
        self
    }

    /// Sets [`backoff_base`](Self::backoff_base).
    pub fn backoff_base(mut self, wait: Duration) -> Self {
        self.backoff_base = wait;
        self
    }

    /// Sets [`backoff_max`](Self::backoff_max).
    pub fn backoff_max(mut self, wait: Duration) -> Self {
        self.backoff_max = wait;
        self
    }

    /// Sets [`jitter`](Self::jitter).
    pub fn jitter(mut self, jitter: bool) -> Self {
        self.jitter = jitter;
        self
    }

    /// Sets [`retry_on_500`](Self::retry_on_500).
    pub fn retry_on_500(mut self, retry: bool) -> Self {
        self.retry_on_500 = retry;
        self
    }

    /// Sets [`budget`](Self::budget).
    pub fn budget(mut self, budget: Option<RetryBudget>) -> Self {
        self.budget = budget;
        self
    }

    /// The policy for reopening a log stream: this one, with the stream's
    /// own attempts and waits. It counts reconnects: each loss of the stream
    /// is a failed attempt, the first reconnect attempt number 1.
    pub(crate) fn for_reconnects(&self, reconnect: &Reconnect) -> RetryConfig {
        RetryConfig {
            max_retries: reconnect.max_attempts,
            backoff_base: reconnect.delay,
            backoff_max: reconnect.max_delay,
            ..self.clone()
        }
    }

    /// A configuration that never retries.
    ///
    /// ```
    /// assert_eq!(dployr::RetryConfig::disabled().max_retries, 0);
    /// ```
    pub fn disabled() -> Self {
        RetryConfig {
            max_retries: 0,
            ..Default::default()
        }
    }

    /// The wait before retry number `retry` (0 for the first retry); what
    /// the instance asked for, when it did.
    pub(crate) fn backoff(&self, retry: u32, asked: Option<Duration>) -> Duration {
        if let Some(asked) = asked {
            return asked.min(self.backoff_max);
        }
        let exponential = self
            .backoff_base
            .saturating_mul(2u32.saturating_pow(retry.min(30)))
            .min(self.backoff_max);
        if self.jitter {
            exponential.mul_f64(fastrand::f64())
        } else {
            exponential
        }
    }

    /// Whether an attempt of `method` that failed so may be tried again.
    pub(crate) fn allows(&self, method: &Method, failure: Failure) -> bool {
        let idempotent = matches!(
            *method,
            Method::GET | Method::HEAD | Method::PUT | Method::DELETE
        );
        match failure {
            Failure::Connect => true,
            Failure::Timeout | Failure::Transport => idempotent,
            Failure::Status(status) => idempotent && self.retries_status(status),
        }
    }

    fn retries_status(&self, status: StatusCode) -> bool {
        matches!(status.as_u16(), 429 | 502 | 503 | 504)
            || (self.retry_on_500 && status == StatusCode::INTERNAL_SERVER_ERROR)
    }
}

/// How an attempt failed, as far as retrying is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    /// An error answer.
    Status(StatusCode),
    /// The connection could not be established: nothing reached the server.
    Connect,
    /// No answer in time.
    Timeout,
    /// The connection was lost after it was established.
    Transport,
}

impl Failure {
    /// How `error` failed, when it is a failure of the exchange at all.
    pub(crate) fn of(error: &Error) -> Option<Failure> {
        match (error.kind(), error.status()) {
            (ErrorKind::Connect, _) => Some(Failure::Connect),
            (ErrorKind::Timeout, _) => Some(Failure::Timeout),
            (ErrorKind::Transport, _) => Some(Failure::Transport),
            (ErrorKind::Auth | ErrorKind::InvalidInput | ErrorKind::Config, _) => None,
            (_, Some(status)) if !status.is_success() => Some(Failure::Status(status)),
            _ => None,
        }
    }
}

/// The tokens left in a client's [`RetryBudget`], shared by its clones.
#[derive(Debug)]
pub(crate) struct TokenBucket {
    config: Option<RetryBudget>,
    tokens: AtomicU32,
}

impl TokenBucket {
    pub(crate) fn new(config: Option<RetryBudget>) -> Self {
        TokenBucket {
            tokens: AtomicU32::new(config.map_or(0, |c| c.capacity)),
            config,
        }
    }

    /// Takes `cost` tokens, if there are that many.
    pub(crate) fn withdraw(&self, cost: u32) -> bool {
        if self.config.is_none() || cost == 0 {
            return true;
        }
        self.tokens
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |left| {
                left.checked_sub(cost)
            })
            .is_ok()
    }

    /// A call succeeded after its retries took `taken` tokens.
    pub(crate) fn on_success(&self, taken: u32) {
        let Some(config) = self.config else { return };
        let back = if taken == 0 {
            config.success_refill
        } else {
            taken
        };
        let current = self.tokens.load(Ordering::Relaxed);
        // A full bucket is the common case; it is left untouched so calls
        // that all succeed do not contend on one cache line.
        if current >= config.capacity {
            return;
        }
        let _ = self
            .tokens
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |left| {
                Some(left.saturating_add(back).min(config.capacity))
            });
    }

    /// Tokens left, for tracing.
    pub(crate) fn left(&self) -> u32 {
        self.tokens.load(Ordering::Relaxed)
    }
}

/// Reopening a log stream that drops before `done`: how many times in a
/// row and how long to wait. The rest (which failures of a reopen are tried
/// again, jitter, the budget) is the client's [`RetryConfig`].
///
/// ```
/// # async fn run(client: dployr::Client) -> Result<(), dployr::Error> {
/// use std::time::Duration;
/// let logs = client
///     .log_stream("01HN2K3M4N5P6Q7R8S9T0U1V2W")
///     .resume(dployr::Reconnect::default().max_attempts(10).delay(Duration::from_secs(1)))
///     .open()
///     .await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Reconnect {
    /// Reconnects in a row without receiving an event before giving up.
    pub max_attempts: u32,
    /// The first wait when the server sent no `retry:`; doubled per attempt.
    pub delay: Duration,
    /// The longest wait between attempts.
    pub max_delay: Duration,
}

impl Default for Reconnect {
    fn default() -> Self {
        Reconnect {
            max_attempts: 5,
            delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
        }
    }
}

impl Reconnect {
    /// Sets [`max_attempts`](Self::max_attempts).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// Sets [`delay`](Self::delay).
    pub fn delay(mut self, wait: Duration) -> Self {
        self.delay = wait;
        self
    }

    /// Sets [`max_delay`](Self::max_delay).
    pub fn max_delay(mut self, wait: Duration) -> Self {
        self.max_delay = wait;
        self
    }
}

#[cfg(test)]
mod tests;
