//! Which failures are tried again, how many times, and timeouts, against a
//! scripted server: connection n follows script n, and every scripted answer
//! closes its connection, so each attempt is a new connection.

mod support;

use std::time::Duration;

use dployr::types::{DeployRequest, KnownRuntime, KnownSource, RuntimeObj};
use dployr::{Client, ErrorKind, RetryConfig};
use support::scripted::{json, response, ScriptedServer, Step};

const SERVICES: &str = r#"{"services":[{"id":"svc-1","name":"web"}],"total":1}"#;
const SERVICE: &str = r#"{"id":"svc-1","name":"web"}"#;
const DEPLOYED: &str =
    r#"{"id":"dep-1","name":"web","success":true,"created_at":"2024-05-01T12:00:00Z"}"#;
const BUSY: &str = r#"{"error":"the instance is busy"}"#;

fn quick_retries(max_retries: u32) -> RetryConfig {
    RetryConfig::default()
        .max_retries(max_retries)
        .backoff_base(Duration::from_millis(10))
        .jitter(false)
}

fn client(url: &str, retry: RetryConfig) -> Client {
    Client::builder(url)
        .access_token("access")
        .retry(retry)
        .build()
        .unwrap()
}

fn deploy_request() -> DeployRequest {
    DeployRequest::builder()
        .name("web")
        .user_id("user-1")
        .source(KnownSource::Remote)
        .runtime(RuntimeObj {
            type_: KnownRuntime::Nodejs.into(),
            version: None,
        })
        .try_into()
        .unwrap()
}

fn targets(server: &ScriptedServer) -> Vec<String> {
    server
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.target))
        .collect()
}

#[tokio::test]
async fn a_503_on_get_is_retried_once_and_succeeds() {
    let server = ScriptedServer::start(vec![vec![json(503, BUSY)], vec![json(200, SERVICE)]]).await;

    let service = client(&server.url, quick_retries(3))
        .get_service()
        .service_id("svc-1")
        .send()
        .await
        .unwrap();

    assert_eq!(service.id, "svc-1");
    assert_eq!(
        targets(&server),
        ["GET /services/svc-1", "GET /services/svc-1"]
    );
}

#[tokio::test]
async fn a_429_with_retry_after_is_retried_after_it() {
    let limited = response(
        429,
        &[("content-type", "application/json"), ("retry-after", "1")],
        r#"{"error":"slow down"}"#,
    );
    let server = ScriptedServer::start(vec![vec![limited], vec![json(200, SERVICES)]]).await;

    let page = client(&server.url, quick_retries(3))
        .list_services()
        .limit(10)
        .send()
        .await
        .unwrap();

    // Only the second connection's script answers 200, so a success means
    // the 429 came first and the retry second.
    assert_eq!(page.total, 1);
    assert_eq!(page.services[0].id, "svc-1");
    assert_eq!(
        targets(&server),
        ["GET /services?limit=10", "GET /services?limit=10"]
    );
}

#[tokio::test]
async fn a_post_answered_503_is_not_retried() {
    let server =
        ScriptedServer::start(vec![vec![json(503, BUSY)], vec![json(201, DEPLOYED)]]).await;

    let e = client(&server.url, quick_retries(3))
        .create_deployment()
        .body(deploy_request())
        .send()
        .await
        .unwrap_err();

    assert_eq!(e.kind(), ErrorKind::Server, "{e}");
    assert_eq!(e.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(targets(&server), ["POST /deployments"]);
}

// The instance cannot have seen a request whose connection never opened, so
// even a POST is safe to send again.
#[tokio::test]
async fn a_post_whose_connection_failed_is_retried() {
    let port = {
        let reserved = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        reserved.local_addr().unwrap().port()
    };
    let late = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap();
        ScriptedServer::serve(listener, vec![vec![json(201, DEPLOYED)]])
    });
    let retry = RetryConfig::default()
        .max_retries(6)
        .backoff_base(Duration::from_millis(100))
        .backoff_max(Duration::from_millis(400))
        .jitter(false);

    let deployed = client(&format!("http://127.0.0.1:{port}"), retry)
        .create_deployment()
        .body(deploy_request())
        .send()
        .await
        .unwrap();

    let server = late.await.unwrap();
    assert_eq!(deployed.id, "dep-1");
    assert!(deployed.success);
    assert_eq!(targets(&server), ["POST /deployments"]);
    let body: serde_json::Value = serde_json::from_slice(&server.requests()[0].body).unwrap();
    assert_eq!(body["name"], "web");
}

#[tokio::test]
async fn max_retries_zero_makes_a_single_attempt() {
    let server = ScriptedServer::start(vec![vec![json(503, BUSY)]]).await;

    let e = client(&server.url, quick_retries(0))
        .list_services()
        .send()
        .await
        .unwrap_err();

    assert_eq!(e.kind(), ErrorKind::Server, "{e}");
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn a_503_storm_gives_up_after_max_retries() {
    // The last script repeats for every later connection.
    let server = ScriptedServer::start(vec![vec![json(503, BUSY)]]).await;

    let e = client(&server.url, quick_retries(2))
        .list_services()
        .send()
        .await
        .unwrap_err();

    assert_eq!(e.kind(), ErrorKind::Server, "{e}");
    assert_eq!(e.status().map(|s| s.as_u16()), Some(503));
    assert!(e.is_retryable());
    assert_eq!(server.hits(), 3);
}

#[tokio::test]
async fn a_slow_answer_times_out_unless_the_call_allows_more() {
    let slow = vec![Step::Wait(Duration::from_secs(2)), json(200, SERVICES)];
    let server = ScriptedServer::start(vec![slow]).await;
    let client = Client::builder(&server.url)
        .access_token("access")
        .retry(quick_retries(0))
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();

    let e = client.list_services().send().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(e.is_retryable());

    let page = client
        .with_timeout(Duration::from_secs(10))
        .list_services()
        .send()
        .await
        .unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn a_silent_server_times_out_and_get_is_retried() {
    let server = ScriptedServer::start(vec![vec![Step::Hang]]).await;
    let client = Client::builder(&server.url)
        .access_token("access")
        .retry(quick_retries(2))
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();

    let e = client.list_services().send().await.unwrap_err();

    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert_eq!(server.hits(), 3);
}

// A POST that timed out may have been carried out: sending it again could
// deploy twice.
#[tokio::test]
async fn a_post_that_timed_out_is_not_retried() {
    let server = ScriptedServer::start(vec![vec![Step::Hang]]).await;
    let client = Client::builder(&server.url)
        .access_token("access")
        .retry(quick_retries(2))
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();

    let e = client
        .create_deployment()
        .body(deploy_request())
        .send()
        .await
        .unwrap_err();

    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert_eq!(targets(&server), ["POST /deployments"]);
}
