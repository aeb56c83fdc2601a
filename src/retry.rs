//! When a failed attempt is tried again, and how long to wait before it.

use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{Method, StatusCode};

/// How failed requests are retried.
///
/// Retried: 429, 502, 503 and 504 answers (and 500 with `retry_on_500`),
/// timeouts and connection failures. GET, PUT and DELETE are retried on all
/// of them; POST and PATCH only when the connection could not be established,
/// because only then is it certain that the instance never saw the request.
/// Waits grow exponentially with full jitter, and follow `Retry-After` when the
/// instance sends one (capped at `backoff_max`).
///
/// ```
/// use std::time::Duration;
/// let retry = dployr::RetryConfig {
///     max_retries: 5,
///     backoff_max: Duration::from_secs(10),
///     ..Default::default()
/// };
/// let client = dployr::Client::builder("https://instance.example.com")
///     .retry(retry)
///     .build()?;
/// # Ok::<(), dployr::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
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
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            max_retries: 3,
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
            jitter: true,
            retry_on_500: false,
        }
    }
}

impl RetryConfig {
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

    /// The wait before retry number `retry` (0 for the first retry).
    pub(crate) fn backoff(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(asked) = retry_after {
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
}

/// What an attempt ended with, as far as retrying is concerned.
pub(crate) enum Outcome {
    Answer(StatusCode),
    /// The connection could not be established: nothing reached the server.
    ConnectFailed,
    /// A timeout, or a connection lost after it was established.
    TransportFailed,
}

/// Whether an attempt that ended so may be tried again.
pub(crate) fn should_retry(config: &RetryConfig, method: &Method, outcome: &Outcome) -> bool {
    let idempotent = matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE
    );
    match outcome {
        Outcome::ConnectFailed => true,
        Outcome::TransportFailed => idempotent,
        Outcome::Answer(status) => idempotent && is_retryable_status(*status, config.retry_on_500),
    }
}

/// 429, 502, 503 and 504 (and 500 when asked).
pub(crate) fn is_retryable_status(status: StatusCode, retry_on_500: bool) -> bool {
    matches!(status.as_u16(), 429 | 502 | 503 | 504) || (retry_on_500 && status.as_u16() == 500)
}

/// `Retry-After` as a duration: delta seconds, or an HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let config = RetryConfig {
            backoff_base: Duration::from_millis(100),
            backoff_max: Duration::from_millis(700),
            jitter: false,
            ..Default::default()
        };
        let waits: Vec<_> = (0..5)
            .map(|n| config.backoff(n, None).as_millis())
            .collect();
        assert_eq!(waits, [100, 200, 400, 700, 700]);
        assert_eq!(
            config.backoff(0, Some(Duration::from_secs(60))),
            config.backoff_max
        );
    }

    #[test]
    fn jitter_stays_below_the_backoff() {
        let config = RetryConfig::default();
        for n in 0..20 {
            assert!(config.backoff(2, None) <= Duration::from_secs(2), "try {n}");
        }
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        let later = SystemTime::now() + Duration::from_secs(120);
        let date = httpdate::fmt_http_date(later);
        headers.insert(RETRY_AFTER, HeaderValue::from_str(&date).unwrap());
        let wait = retry_after(&headers).unwrap();
        assert!(wait > Duration::from_secs(100) && wait <= Duration::from_secs(120));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn only_idempotent_methods_retry_answers() {
        let config = RetryConfig::default();
        let busy = Outcome::Answer(StatusCode::SERVICE_UNAVAILABLE);
        assert!(should_retry(&config, &Method::GET, &busy));
        assert!(should_retry(&config, &Method::PUT, &busy));
        assert!(!should_retry(&config, &Method::POST, &busy));
        assert!(!should_retry(&config, &Method::PATCH, &busy));
        assert!(should_retry(
            &config,
            &Method::POST,
            &Outcome::ConnectFailed
        ));
        assert!(!should_retry(
            &config,
            &Method::POST,
            &Outcome::TransportFailed
        ));
        let failed = Outcome::Answer(StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!should_retry(&config, &Method::GET, &failed));
        let config = RetryConfig {
            retry_on_500: true,
            ..config
        };
        assert!(should_retry(&config, &Method::GET, &failed));
    }
}
