//! Every call keeps its deadline, though a call that ends in time registers
//! no timer: a call whose server never answers fails with
//! `ErrorKind::Timeout` exactly at its deadline on paused time, and soon
//! after it on a busy multi-thread runtime; per-call overrides, the
//! operations' own timeouts and a log stream's open and idle deadlines
//! included. Nothing of a dropped client keeps running, and a client works
//! from two runtimes.

mod support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use tokio::time::Instant;

use dployr::{Client, ErrorKind, RetryConfig};
use support::scripted::{json, sse_head, ScriptedServer, Step};

const STATUS: &str = r#"{"status":"healthy","uptime":"1s","services":{"total":1,"running":1,"stopped":0},"proxy":{"status":"running","routes":0}}"#;

fn client_for(url: &str, timeout: Duration) -> Client {
    Client::builder(url)
        .access_token("token")
        .retry(RetryConfig::disabled())
        .timeout(timeout)
        .log_idle_timeout(Duration::from_secs(45))
        .build()
        .unwrap()
}

/// `result` is a timeout that came no earlier than `timeout` and within a
/// second after it (generous, for a busy machine).
fn assert_timed_out(
    result: Result<(), dployr::Error>,
    took: Duration,
    timeout: Duration,
    case: &str,
) {
    let error = result.expect_err(case);
    assert_eq!(error.kind(), ErrorKind::Timeout, "{case}: {error}");
    assert!(took >= timeout, "{case}: failed early, after {took:?}");
    assert!(
        took < timeout + Duration::from_secs(1),
        "{case}: failed late, after {took:?}"
    );
}

/// A server that reads each request and never answers.
async fn silent() -> ScriptedServer {
    ScriptedServer::start(vec![vec![Step::Hang]]).await
}

#[tokio::test(start_paused = true)]
async fn on_paused_time_a_call_fails_exactly_at_its_deadline() {
    let server = silent().await;
    let client = client_for(&server.url, Duration::from_secs(30));
    // The client's timeout, one shorter than the sweeper's first interval
    // (a timer at once), a per-call override, and an operation's own
    // timeout from the spec (`runSystemDoctor`, 600 s).
    let cases: [(&str, Duration); 4] = [
        ("client", Duration::from_secs(30)),
        ("short", Duration::from_millis(300)),
        ("override", Duration::from_secs(7)),
        ("operation", Duration::from_secs(600)),
    ];
    for (case, timeout) in cases {
        let started = Instant::now();
        let error = match case {
            "client" => client.get_system_status().send().await.map(drop),
            "short" | "override" => {
                let call = client.with_timeout(timeout);
                call.get_system_status().send().await.map(drop)
            }
            _ => client.run_system_doctor().send().await.map(drop),
        }
        .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Timeout, "{case}: {error}");
        assert_eq!(started.elapsed(), timeout, "{case}");
    }
    assert_eq!(server.hits(), 4);
}

#[tokio::test(start_paused = true)]
async fn on_paused_time_a_log_stream_keeps_its_open_and_idle_deadlines() {
    let server = ScriptedServer::start(vec![vec![Step::Hang], vec![sse_head(), Step::Hang]]).await;
    let client = client_for(&server.url, Duration::from_secs(30));

    let started = Instant::now();
    let error = client
        .log_stream("dep-1")
        .open_timeout(Duration::from_secs(12))
        .open()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Timeout, "{error}");
    assert_eq!(started.elapsed(), Duration::from_secs(12));

    let mut logs = client
        .log_stream("dep-1")
        .idle_timeout(Duration::from_secs(20))
        .open()
        .await
        .unwrap();
    let started = Instant::now();
    let error = logs.next().await.unwrap().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Timeout, "{error}");
    assert_eq!(started.elapsed(), Duration::from_secs(20));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_multi_thread_runtime_a_call_fails_soon_after_its_deadline() {
    let server = silent().await;
    let timeout = Duration::from_secs(2);
    let client = client_for(&server.url, timeout);
    let started = std::time::Instant::now();
    let result = client.get_system_status().send().await.map(drop);
    assert_timed_out(result, started.elapsed(), timeout, "alone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadline_fires_while_32_other_calls_finish_in_time() {
    // The first connection (the slow call's) never answers; every other
    // connection answers at once.
    let server = ScriptedServer::start(vec![vec![Step::Hang], vec![json(200, STATUS)]]).await;
    let timeout = Duration::from_secs(2);
    let client = client_for(&server.url, timeout);
    let slow = {
        let client = client.clone();
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            let result = client.get_system_status().send().await.map(drop);
            (result, started.elapsed())
        })
    };
    // The slow call's request has arrived before the others start.
    while server.hits() == 0 {
        tokio::task::yield_now().await;
    }
    let over = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicUsize::new(0));
    let others: Vec<_> = (0..32)
        .map(|_| {
            let (client, over, answered) = (client.clone(), over.clone(), answered.clone());
            tokio::spawn(async move {
                while !over.load(Ordering::Acquire) {
                    let status = client.get_system_status().send().await.expect("in time");
                    assert_eq!(status.services.running, 1);
                    answered.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let (result, took) = slow.await.unwrap();
    over.store(true, Ordering::Release);
    for other in others {
        other.await.unwrap();
    }
    assert_timed_out(result, took, timeout, "beside 32 calls");
    assert!(answered.load(Ordering::Relaxed) >= 32);
}

#[test]
fn a_client_works_from_two_runtimes_and_keeps_its_deadlines_in_each() {
    // The server runs on a runtime of its own, which outlives both.
    let serving = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let scripts = vec![
        vec![json(200, STATUS)],
        vec![json(200, STATUS)],
        vec![Step::Hang],
    ];
    let server = serving.block_on(ScriptedServer::start(scripts));
    let timeout = Duration::from_secs(2);
    let client = client_for(&server.url, timeout);
    let runtime = || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    };
    let times_out = |runtime: &tokio::runtime::Runtime, case: &str| {
        runtime.block_on(async {
            let started = std::time::Instant::now();
            let result = client.get_system_status().send().await.map(drop);
            assert_timed_out(result, started.elapsed(), timeout, case);
        })
    };
    let first = runtime();
    let second = runtime();
    first.block_on(client.get_system_status().send()).unwrap();
    second.block_on(client.get_system_status().send()).unwrap();
    // The first runtime, which made the client's first call, stays alive
    // but is no longer driven; then it goes away. The second's calls keep
    // their deadlines both times.
    times_out(&second, "first runtime idle");
    drop(first);
    times_out(&second, "first runtime gone");
    assert_eq!(server.hits(), 4);
}
