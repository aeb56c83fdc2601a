//! Step 4: what the attempt loop does after an attempt, decided in one
//! function ([`Attempts::decide`]) for calls and log-stream reconnects
//! alike: give the answer back, restart (after a wait, or after refreshing
//! a refused token), or give up, and whether the client's retry budget paid
//! for a restart or is refunded by a success. The loop acts on the answer
//! and asks the policy nothing else.

use std::time::Duration;

use reqwest::{Method, StatusCode};

use crate::retry::{Failure, RetryConfig, TokenBucket};

/// How an attempt ended, as far as deciding is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// A success answer.
    Success,
    /// A failure that is no exchange's (a refused input, say): the caller's
    /// as it is.
    Unclassified,
    /// A failed exchange.
    Failed {
        failure: Failure,
        /// The wait the instance asked for (`Retry-After`).
        asked: Option<Duration>,
        /// A copy of the request is at hand (a streamed body cannot be sent
        /// twice).
        resendable: bool,
        /// The token sent may be refreshed if the instance refused it.
        refreshable: bool,
    },
}

/// What to do next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Next {
    /// The outcome is the caller's, as it is (a success refunded the budget).
    Done,
    /// Send again after `wait`, refreshing the token first when `refresh`;
    /// the budget paid for it.
    Restart { wait: Duration, refresh: bool },
    /// The failure is the caller's: `retryable` is whether the policy
    /// retries such a failure at all, `budget_spent` whether only the budget
    /// stood in the way.
    GiveUp { retryable: bool, budget_spent: bool },
}

/// One call's attempts: the policy it follows, the budget it draws from and
/// what it has done so far.
#[derive(Debug)]
pub(crate) struct Attempts<'a> {
    policy: &'a RetryConfig,
    budget: &'a TokenBucket,
    method: &'a Method,
    /// The attempt under way, 1 for the first.
    number: u32,
    /// Budget tokens this call's restarts took, put back when it succeeds.
    taken: u32,
    /// A refused token is refreshed once per call.
    refreshed: bool,
}

impl<'a> Attempts<'a> {
    pub(crate) fn new(
        policy: &'a RetryConfig,
        budget: &'a TokenBucket,
        method: &'a Method,
    ) -> Self {
        Attempts::from(policy, budget, method, 1)
    }

    /// Attempts counted from `number` on (a log stream counts its
    /// reconnects across connections).
    pub(crate) fn from(
        policy: &'a RetryConfig,
        budget: &'a TokenBucket,
        method: &'a Method,
        number: u32,
    ) -> Self {
        Attempts {
            policy,
            budget,
            method,
            number,
            taken: 0,
            refreshed: false,
        }
    }

    /// The attempt under way, 1 for the first.
    pub(crate) fn number(&self) -> u32 {
        self.number
    }

    /// What to do after the attempt under way ended with `outcome`; a
    /// restart counts as the next attempt.
    pub(crate) fn decide(&mut self, outcome: Outcome) -> Next {
        let (failure, asked, resendable, refreshable) = match outcome {
            Outcome::Success => {
                self.budget.on_success(self.taken);
                return Next::Done;
            }
            Outcome::Unclassified => return Next::Done,
            Outcome::Failed {
                failure,
                asked,
                resendable,
                refreshable,
            } => (failure, asked, resendable, refreshable),
        };
        let retryable = self.policy.allows(self.method, failure);
        let give_up = |budget_spent| Next::GiveUp {
            retryable,
            budget_spent,
        };
        if !resendable {
            return give_up(false);
        }
        if failure == Failure::Status(StatusCode::UNAUTHORIZED) && refreshable && !self.refreshed {
            self.refreshed = true;
            self.number += 1;
            return Next::Restart {
                wait: Duration::ZERO,
                refresh: true,
            };
        }
        if self.number > self.policy.max_retries || !retryable {
            return give_up(false);
        }
        let cost = match (self.policy.budget, failure) {
            (None, _) => 0,
            (Some(b), Failure::Timeout) => b.timeout_cost,
            (Some(b), _) => b.retry_cost,
        };
        if !self.budget.withdraw(cost) {
            return give_up(true);
        }
        self.taken += cost;
        let wait = self.policy.backoff(self.number - 1, asked);
        self.number += 1;
        Next::Restart {
            wait,
            refresh: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::retry::RetryBudget;

    fn steady() -> RetryConfig {
        RetryConfig::default()
            .backoff_base(Duration::from_millis(100))
            .backoff_max(Duration::from_millis(700))
            .jitter(false)
    }

    fn failed(failure: Failure) -> Outcome {
        Outcome::Failed {
            failure,
            asked: None,
            resendable: true,
            refreshable: false,
        }
    }

    const BUSY: Failure = Failure::Status(StatusCode::SERVICE_UNAVAILABLE);

    #[test]
    fn the_budget_pays_for_restarts_until_it_is_spent_and_successes_refund_it() {
        let config = steady().budget(Some(
            RetryBudget::default()
                .capacity(12)
                .retry_cost(5)
                .timeout_cost(10)
                .success_refill(1),
        ));
        let budget = TokenBucket::new(config.budget);
        let get = Method::GET;
        let first = |outcome| Attempts::new(&config, &budget, &get).decide(outcome);
        assert!(matches!(
            first(failed(BUSY)),
            Next::Restart { refresh: false, .. }
        ));
        assert!(matches!(first(failed(BUSY)), Next::Restart { .. }));
        let spent = Next::GiveUp {
            retryable: true,
            budget_spent: true,
        };
        assert_eq!(first(failed(BUSY)), spent);
        assert_eq!(budget.left(), 2);
        // Not retryable at all: the budget is not consulted.
        let post = Method::POST;
        let refused = Attempts::new(&config, &budget, &post).decide(failed(BUSY));
        assert_eq!(
            refused,
            Next::GiveUp {
                retryable: false,
                budget_spent: false
            }
        );
        // First-try successes refill it; a call that restarted puts back
        // what it took, in the same place that took it.
        for _ in 0..3 {
            assert_eq!(first(Outcome::Success), Next::Done);
        }
        assert_eq!(budget.left(), 5);
        let mut call = Attempts::new(&config, &budget, &get);
        assert!(matches!(call.decide(failed(BUSY)), Next::Restart { .. }));
        assert_eq!(budget.left(), 0);
        assert_eq!(call.decide(Outcome::Success), Next::Done);
        assert_eq!(budget.left(), 5);
        // A timeout costs more.
        assert_eq!(first(failed(Failure::Timeout)), spent);
    }

    #[test]
    fn restarts_stop_after_max_retries_and_wait_longer_each_time() {
        let config = steady().max_retries(2).budget(None);
        let budget = TokenBucket::new(None);
        let get = Method::GET;
        let mut call = Attempts::new(&config, &budget, &get);
        let waits: Vec<Next> = (0..3)
            .map(|_| call.decide(failed(Failure::Connect)))
            .collect();
        assert_eq!(
            waits,
            [
                Next::Restart {
                    wait: Duration::from_millis(100),
                    refresh: false
                },
                Next::Restart {
                    wait: Duration::from_millis(200),
                    refresh: false
                },
                Next::GiveUp {
                    retryable: true,
                    budget_spent: false
                },
            ]
        );
        assert_eq!(call.number(), 3);
    }

    #[test]
    fn a_refused_token_restarts_once_with_a_refresh_whatever_the_method() {
        let config = steady();
        let budget = TokenBucket::new(config.budget);
        let post = Method::POST;
        let mut call = Attempts::new(&config, &budget, &post);
        let refused = Outcome::Failed {
            failure: Failure::Status(StatusCode::UNAUTHORIZED),
            asked: None,
            resendable: true,
            refreshable: true,
        };
        assert_eq!(
            call.decide(refused),
            Next::Restart {
                wait: Duration::ZERO,
                refresh: true
            }
        );
        assert_eq!(
            call.decide(refused),
            Next::GiveUp {
                retryable: false,
                budget_spent: false
            }
        );
        assert_eq!(budget.left(), RetryBudget::default().capacity);
    }

    #[test]
    fn a_request_that_cannot_be_sent_again_is_not_restarted() {
        let config = steady();
        let budget = TokenBucket::new(config.budget);
        let get = Method::GET;
        let once = Outcome::Failed {
            failure: Failure::Connect,
            asked: None,
            resendable: false,
            refreshable: true,
        };
        let next = Attempts::new(&config, &budget, &get).decide(once);
        assert_eq!(
            next,
            Next::GiveUp {
                retryable: true,
                budget_spent: false
            }
        );
    }

    #[test]
    fn the_wait_the_instance_asks_for_is_kept_up_to_the_cap() {
        let config = steady();
        let budget = TokenBucket::new(config.budget);
        let get = Method::GET;
        let asked = |secs| Outcome::Failed {
            failure: Failure::Status(StatusCode::TOO_MANY_REQUESTS),
            asked: Some(Duration::from_secs(secs)),
            resendable: true,
            refreshable: false,
        };
        let mut call = Attempts::new(&config, &budget, &get);
        assert!(matches!(call.decide(asked(0)), Next::Restart { wait, .. } if wait.is_zero()));
        assert!(
            matches!(call.decide(asked(60)), Next::Restart { wait, .. } if wait == config.backoff_max)
        );
    }
}
