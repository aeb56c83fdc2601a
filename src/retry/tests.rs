//! Unit tests of the retry policy and the budget.

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

#[test]
fn the_budget_pays_for_retries_until_it_is_spent() {
    let config = RetryConfig {
        budget: Some(RetryBudget {
            capacity: 12,
            retry_cost: 5,
            timeout_cost: 10,
            success_refill: 1,
        }),
        ..steady()
    };
    let budget = TokenBucket::new(config.budget);
    let busy = Failure::Status(StatusCode::SERVICE_UNAVAILABLE);
    let decide = |attempt| config.decide(&budget, &Method::GET, busy, attempt, None, false);
    assert!(matches!(decide(1), Decision::Restart { cost: 5, .. }));
    assert!(matches!(decide(1), Decision::Restart { cost: 5, .. }));
    assert_eq!(decide(1), Decision::BudgetSpent);
    assert_eq!(budget.left(), 2);
    // Not retryable at all: the budget is not consulted.
    let post = config.decide(&budget, &Method::POST, busy, 1, None, false);
    assert_eq!(post, Decision::GiveUp);
    // Successes refill it, up to the capacity.
    for _ in 0..3 {
        budget.on_success(0);
    }
    assert!(matches!(decide(1), Decision::Restart { cost: 5, .. }));
    budget.on_success(5);
    budget.on_success(50);
    assert_eq!(budget.left(), 12);
    let timeout = config.decide(&budget, &Method::GET, Failure::Timeout, 1, None, false);
    assert!(matches!(timeout, Decision::Restart { cost: 10, .. }));
}

#[test]
fn a_refused_token_restarts_once_with_a_refresh() {
    let config = steady();
    let budget = TokenBucket::new(config.budget);
    let refused = Failure::Status(StatusCode::UNAUTHORIZED);
    let first = config.decide(&budget, &Method::POST, refused, 1, None, true);
    assert_eq!(
        first,
        Decision::Restart {
            wait: Duration::ZERO,
            cost: 0,
            refresh: true
        }
    );
    let again = config.decide(&budget, &Method::POST, refused, 2, None, false);
    assert_eq!(again, Decision::GiveUp);
}

#[test]
fn without_a_budget_every_allowed_retry_is_made() {
    let config = RetryConfig {
        budget: None,
        ..steady()
    };
    let budget = TokenBucket::new(None);
    for _ in 0..1000 {
        let d = config.decide(&budget, &Method::GET, Failure::Connect, 1, None, false);
        assert!(matches!(d, Decision::Restart { cost: 0, .. }));
    }
    let last = config.decide(&budget, &Method::GET, Failure::Connect, 4, None, false);
    assert_eq!(last, Decision::GiveUp);
}
