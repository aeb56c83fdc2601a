//! Unit tests of the retry policy (the budget is tested with the decide
//! step that draws from it and refunds it).

use super::*;

fn steady() -> RetryConfig {
    RetryConfig {
        backoff_base: Duration::from_millis(100),
        backoff_max: Duration::from_millis(700),
        jitter: false,
        ..Default::default()
    }
}

#[test]
fn backoff_doubles_and_is_capped() {
    let config = steady();
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
fn only_idempotent_methods_retry_answers_and_lost_connections() {
    let config = RetryConfig::default();
    let busy = Failure::Status(StatusCode::SERVICE_UNAVAILABLE);
    assert!(config.allows(&Method::GET, busy));
    assert!(config.allows(&Method::PUT, busy));
    assert!(!config.allows(&Method::POST, busy));
    assert!(!config.allows(&Method::PATCH, busy));
    assert!(config.allows(&Method::POST, Failure::Connect));
    assert!(!config.allows(&Method::POST, Failure::Transport));
    assert!(config.allows(&Method::GET, Failure::Transport));
    let failed = Failure::Status(StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!config.allows(&Method::GET, failed));
    let config = RetryConfig {
        retry_on_500: true,
        ..config
    };
    assert!(config.allows(&Method::GET, failed));
}
