//! The retry budget: a storm of failures stops retrying, successes bring
//! retries back, and one client's storm does not spend another's budget.

mod support;

use std::time::Duration;

use dployr::{Client, ErrorKind, RetryConfig};
use support::switch::SwitchServer;

/// The default policy and budget, with waits short enough for a test.
fn quick_retries() -> RetryConfig {
    RetryConfig::default()
        .backoff_base(Duration::from_millis(1))
        .backoff_max(Duration::from_millis(2))
}

fn client_for(server: &SwitchServer) -> Client {
    Client::builder(&server.url)
        .access_token("token")
        .retry(quick_retries())
        .build()
        .unwrap()
}

const TASKS: usize = 64;
const CALLS: usize = 50;

/// 64 tasks x 50 calls against an instance that answers 503 to everything.
async fn storm(client: &Client) -> Vec<dployr::Error> {
    let tasks: Vec<_> = (0..TASKS)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                let mut errors = Vec::new();
                for _ in 0..CALLS {
                    errors.push(client.list_services().send().await.unwrap_err());
                }
                errors
            })
        })
        .collect();
    let mut errors = Vec::new();
    for task in tasks {
        errors.extend(task.await.unwrap());
    }
    errors
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storm_of_failures_stops_retrying_and_recovery_brings_retries_back() {
    let server = SwitchServer::start().await;
    server.set_down(true);
    let client = client_for(&server);

    let errors = storm(&client).await;
    let calls = TASKS * CALLS;
    let requests = server.requests();
    println!(
        "{calls} calls against an instance that is down: {requests} requests ({:.3} per call)",
        requests as f64 / calls as f64
    );
    // Without a budget this is 4 requests per call (3 retries each).
    assert!(
        requests as f64 <= 1.1 * calls as f64,
        "{requests} requests for {calls} calls"
    );
    assert!(requests > calls, "the budget allows some retries");
    assert!(errors.iter().all(|e| e.kind() == ErrorKind::Server));
    let spent = errors.iter().filter(|e| e.retry_budget_spent()).count();
    assert!(
        spent > calls / 2,
        "{spent} of {calls} calls found the budget spent"
    );
    let shown = errors.iter().find(|e| e.retry_budget_spent()).unwrap();
    assert!(shown.to_string().contains("retry budget"), "{shown}");
    assert!(shown.is_retryable());

    // The instance recovers: first-try successes refill the budget ...
    server.set_down(false);
    for _ in 0..10 {
        client.list_services().send().await.unwrap();
    }
    // ... so a single 503 is retried again.
    server.fail_next(1);
    let before = server.requests();
    client
        .list_services()
        .send()
        .await
        .expect("retried after the 503");
    assert_eq!(server.requests() - before, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_clients_storm_leaves_another_clients_budget_alone() {
    let failing = SwitchServer::start().await;
    failing.set_down(true);
    let stormy = client_for(&failing);
    let _ = storm(&stormy).await;
    // The same client, and its clones, have nothing left.
    let again = stormy.clone().list_services().send().await.unwrap_err();
    assert!(again.retry_budget_spent(), "{again}");

    let healthy = SwitchServer::start().await;
    healthy.fail_next(1);
    let calm = client_for(&healthy);
    calm.list_services().send().await.expect("retried");
    assert_eq!(healthy.requests(), 2);
}

#[tokio::test]
async fn without_a_budget_every_retry_is_made() {
    let server = SwitchServer::start().await;
    server.set_down(true);
    let client = Client::builder(&server.url)
        .retry(quick_retries().budget(None))
        .build()
        .unwrap();
    for _ in 0..200 {
        let e = client.list_services().send().await.unwrap_err();
        assert!(!e.retry_budget_spent());
    }
    assert_eq!(server.requests(), 800);
}
