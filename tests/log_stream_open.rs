//! Opening a log stream against instances that misbehave at the start: one
//! that never sends headers, and one that checks the `token` query
//! parameter when it answers 401.

mod support;

use std::time::{Duration, Instant};

use futures::StreamExt;

use dployr::{ErrorKind, LogEvent, Reconnect, RetryConfig, Tokens};
use support::scripted::{json, send, sse_head, ScriptedServer, Step};

const DEPLOYMENT: &str = "dep-1";

fn client_for(url: &str, retry: RetryConfig) -> dployr::Client {
    dployr::Client::builder(url)
        .access_token("old-token")
        .retry(retry)
        .timeout(Duration::from_millis(500))
        .log_idle_timeout(Duration::from_millis(500))
        .build()
        .unwrap()
}

/// Fails the test rather than let a hang go unnoticed.
async fn bounded<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), future)
        .await
        .expect("the call hung")
}

#[tokio::test]
async fn headers_that_never_come_are_a_timeout_on_open() {
    let server = ScriptedServer::start(vec![vec![Step::Hang]]).await;
    let client = client_for(&server.url, RetryConfig::disabled());

    let started = Instant::now();
    let err = bounded(client.stream_logs(DEPLOYMENT)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(started.elapsed() < Duration::from_secs(3));

    // The stream builder's own deadline wins over the client's.
    let started = Instant::now();
    let err = bounded(
        client
            .log_stream(DEPLOYMENT)
            .open_timeout(Duration::from_millis(100))
            .open(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(started.elapsed() < Duration::from_millis(450));
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn with_resume_a_reopen_without_headers_is_one_failed_attempt() {
    // The first connection sends a line and drops; the next two never
    // answer; the fourth finishes the stream.
    let server = ScriptedServer::start(vec![
        vec![sse_head(), send("id: 1\ndata: one\n\n")],
        vec![Step::Hang],
        vec![Step::Hang],
        vec![
            sse_head(),
            send("id: 2\ndata: two\n\nevent: done\ndata: ok\n\n"),
        ],
    ])
    .await;
    let client = client_for(&server.url, RetryConfig::disabled());
    let logs = bounded(
        client
            .log_stream(DEPLOYMENT)
            .open_timeout(Duration::from_millis(100))
            .resume(
                Reconnect::default()
                    .max_attempts(5)
                    .delay(Duration::from_millis(5))
                    .max_delay(Duration::from_millis(10)),
            )
            .open(),
    )
    .await
    .unwrap();
    let events: Vec<LogEvent> = bounded(logs.collect::<Vec<_>>())
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        events,
        [
            LogEvent::Line("one".into()),
            LogEvent::Line("two".into()),
            LogEvent::Done("ok".into()),
        ]
    );
    assert_eq!(
        server.hits(),
        4,
        "one open, two silent reopens, one good one"
    );
    let seen = server.requests();
    assert!(seen[1..]
        .iter()
        .all(|r| r.header("last-event-id") == Some("1")));
}

/// An instance that checks the query's token: 401 unless it is `new-token`.
fn refreshing_client(url: &str) -> dployr::Client {
    let client = client_for(url, RetryConfig::disabled());
    client.tokens().set_refresh_token("refresh");
    client.tokens().set_refresher(|_| async {
        Ok::<_, std::io::Error>(Tokens {
            access: "new-token".into(),
            refresh: None,
        })
    });
    client
}

#[tokio::test]
async fn a_refreshed_token_replaces_the_header_and_the_query_on_open() {
    let server = ScriptedServer::start(vec![
        vec![json(401, r#"{"error":"token expired"}"#)],
        vec![sse_head(), send("data: hello\n\nevent: done\ndata: ok\n\n")],
    ])
    .await;
    let client = refreshing_client(&server.url);
    let logs = bounded(client.stream_logs(DEPLOYMENT)).await.unwrap();
    let events: Vec<_> = bounded(logs.collect::<Vec<_>>()).await;
    assert_eq!(events.len(), 2);

    let seen = server.requests();
    assert_eq!(seen.len(), 2);
    assert!(
        seen[0].target.contains("token=old-token"),
        "{}",
        seen[0].target
    );
    assert_eq!(seen[1].header("authorization"), Some("Bearer new-token"));
    assert!(
        seen[1].target.contains("token=new-token"),
        "{}",
        seen[1].target
    );
    assert!(!seen[1].target.contains("old-token"), "{}", seen[1].target);
    assert!(seen[1].target.contains(&format!("id={DEPLOYMENT}")));
}

#[tokio::test]
async fn a_reconnect_after_a_refresh_sends_the_new_token_in_the_query() {
    let server = ScriptedServer::start(vec![
        vec![sse_head(), send("id: 1\ndata: one\n\n")],
        vec![json(401, r#"{"error":"token expired"}"#)],
        vec![
            sse_head(),
            send("id: 2\ndata: two\n\nevent: done\ndata: ok\n\n"),
        ],
    ])
    .await;
    let client = refreshing_client(&server.url);
    let logs = bounded(
        client
            .log_stream(DEPLOYMENT)
            .resume(
                Reconnect::default()
                    .max_attempts(3)
                    .delay(Duration::from_millis(5))
                    .max_delay(Duration::from_millis(10)),
            )
            .open(),
    )
    .await
    .unwrap();
    let events: Vec<_> = bounded(logs.collect::<Vec<_>>()).await;
    assert!(events.iter().all(Result::is_ok), "{events:?}");
    assert_eq!(events.len(), 3);
    let seen = server.requests();
    assert_eq!(seen.len(), 3);
    assert!(
        seen[2].target.contains("token=new-token"),
        "{}",
        seen[2].target
    );
    assert_eq!(seen[2].header("authorization"), Some("Bearer new-token"));
    assert_eq!(seen[2].header("last-event-id"), Some("1"));
}
