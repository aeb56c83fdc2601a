//! Streams over paginated lists, and `raw()` for endpoints the spec lacks.

use std::time::Duration;

use dployr::{Client, ErrorKind, RetryConfig};
use futures::StreamExt;
use httpmock::prelude::*;
use serde_json::{json, Value};

const TOKEN: &str = "access-token-for-tests";

fn client_for(server: &MockServer) -> Client {
    Client::builder(server.base_url())
        .access_token(TOKEN)
        .retry(
            RetryConfig::default()
                .backoff_base(Duration::from_millis(10))
                .jitter(false),
        )
        .build()
        .unwrap()
}

fn services(range: std::ops::Range<usize>) -> Vec<Value> {
    range
        .map(|n| json!({"id": format!("svc-{n:03}"), "name": format!("service {n}")}))
        .collect()
}

fn deployments(range: std::ops::Range<usize>) -> Vec<Value> {
    range
        .map(|n| {
            json!({
                "id": format!("dep-{n:03}"),
                "config": {"name": format!("app {n}")},
                "status": "completed",
                "user_id": "user-1",
                "created_at": "2024-05-01T12:00:00Z",
                "updated_at": "2024-05-01T12:05:00Z",
            })
        })
        .collect()
}

/// A mock answering the page at `offset` (with `limit=100`) with `body`.
async fn page<'a>(
    server: &'a MockServer,
    path: &str,
    offset: u32,
    body: Value,
) -> httpmock::Mock<'a> {
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path(path)
                .query_param("limit", "100")
                .query_param("offset", offset.to_string())
                .header("authorization", format!("Bearer {TOKEN}"));
            then.status(200)
                .header("content-type", "application/json")
                .json_body(body);
        })
        .await
}

#[tokio::test]
async fn three_pages_are_fetched_once_each_in_order() {
    let server = MockServer::start_async().await;
    let pages = [
        page(
            &server,
            "/services",
            0,
            json!({"services": services(0..100), "total": 250}),
        )
        .await,
        page(
            &server,
            "/services",
            100,
            json!({"services": services(100..200), "total": 250}),
        )
        .await,
        page(
            &server,
            "/services",
            200,
            json!({"services": services(200..250), "total": 250}),
        )
        .await,
    ];

    let ids: Vec<String> = client_for(&server)
        .services_stream(100)
        .map(|s| s.unwrap().id)
        .collect()
        .await;

    let expected: Vec<String> = (0..250).map(|n| format!("svc-{n:03}")).collect();
    assert_eq!(ids, expected);
    for (n, mock) in pages.iter().enumerate() {
        assert_eq!(mock.calls_async().await, 1, "page {n}");
    }
}

#[tokio::test]
async fn a_failing_page_ends_the_stream_with_its_error() {
    let server = MockServer::start_async().await;
    let first = page(
        &server,
        "/deployments",
        0,
        json!({"deployments": deployments(0..100), "total": 250}),
    )
    .await;
    let failing = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/deployments")
                .query_param("offset", "100");
            then.status(500)
                .header("content-type", "application/json")
                .json_body(json!({"error": "the database is unreachable", "code": "internal"}));
        })
        .await;
    let third = page(
        &server,
        "/deployments",
        200,
        json!({"deployments": deployments(200..250), "total": 250}),
    )
    .await;

    let items: Vec<_> = client_for(&server).deployments_stream(100).collect().await;

    assert_eq!(items.len(), 101);
    for (n, item) in items[..100].iter().enumerate() {
        assert_eq!(item.as_ref().unwrap().id, format!("dep-{n:03}"));
    }
    let e = items[100].as_ref().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Server, "{e}");
    assert_eq!(e.message(), "the database is unreachable");
    assert_eq!(first.calls_async().await, 1);
    // 500 is not retried by default.
    assert_eq!(failing.calls_async().await, 1);
    assert_eq!(third.calls_async().await, 0);
}

// An instance whose `total` counts more than it serves must not make the
// stream ask forever (or at all) past the short page.
#[tokio::test]
async fn a_short_page_is_the_last_whatever_total_says() {
    let server = MockServer::start_async().await;
    let first = page(
        &server,
        "/services",
        0,
        json!({"services": services(0..100), "total": 500}),
    )
    .await;
    let short = page(
        &server,
        "/services",
        100,
        json!({"services": services(100..130), "total": 500}),
    )
    .await;
    let beyond = server
        .mock_async(|when, then| {
            when.method(GET).path("/services").is_true(|req| {
                req.query_params()
                    .iter()
                    .any(|(k, v)| k == "offset" && v != "0" && v != "100")
            });
            then.status(200)
                .header("content-type", "application/json")
                .json_body(json!({"services": [], "total": 500}));
        })
        .await;

    let items: Vec<_> = client_for(&server).services_stream(100).collect().await;

    assert_eq!(items.len(), 130);
    assert!(items.iter().all(Result::is_ok));
    assert_eq!(first.calls_async().await, 1);
    assert_eq!(short.calls_async().await, 1);
    assert_eq!(beyond.calls_async().await, 0);
}

#[tokio::test]
async fn raw_get_reaches_an_endpoint_the_spec_lacks() {
    let server = MockServer::start_async().await;
    let metrics = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/system/metrics")
                .query_param("window", "5m")
                .header("authorization", format!("Bearer {TOKEN}"));
            then.status(200)
                .header("content-type", "application/json")
                .json_body(json!({"cpu": 0.25, "window": "5m"}));
        })
        .await;

    let answer = client_for(&server)
        .raw(reqwest::Method::GET, "/system/metrics")
        .query("window", "5m")
        .send()
        .await
        .unwrap();

    assert_eq!(answer.status.as_u16(), 200);
    let body: Value = answer.json().unwrap();
    assert_eq!(body, json!({"cpu": 0.25, "window": "5m"}));
    assert_eq!(metrics.calls_async().await, 1);
}

#[tokio::test]
async fn raw_post_sends_json() {
    let server = MockServer::start_async().await;
    let sent = json!({"name": "nightly", "schedule": "0 3 * * *"});
    let created = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/new/thing")
                .header("content-type", "application/json")
                .header("authorization", format!("Bearer {TOKEN}"))
                .json_body(sent.clone());
            then.status(201)
                .header("content-type", "application/json")
                .json_body(json!({"id": "thing-1"}));
        })
        .await;

    let answer = client_for(&server)
        .raw(reqwest::Method::POST, "/new/thing")
        .json(&sent)
        .send()
        .await
        .unwrap();

    assert_eq!(answer.status.as_u16(), 201);
    assert_eq!(answer.json::<Value>().unwrap()["id"], "thing-1");
    assert_eq!(created.calls_async().await, 1);
}

#[tokio::test]
async fn raw_404_is_a_not_found_error_with_the_body_message() {
    let server = MockServer::start_async().await;
    let missing = server
        .mock_async(|when, then| {
            when.method(GET).path("/system/metrics");
            then.status(404)
                .header("content-type", "application/json")
                .header("x-request-id", "req-raw-404")
                .json_body(
                    json!({"error": "no metrics on this instance", "code": "resource.not_found"}),
                );
        })
        .await;

    let e = client_for(&server)
        .raw(reqwest::Method::GET, "/system/metrics")
        .send()
        .await
        .unwrap_err();

    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert_eq!(e.status().map(|s| s.as_u16()), Some(404));
    assert_eq!(e.message(), "no metrics on this instance");
    assert_eq!(e.code(), Some("resource.not_found"));
    assert_eq!(e.request_id(), Some("req-raw-404"));
    assert_eq!(missing.calls_async().await, 1);
}

#[tokio::test]
async fn a_list_read_by_its_facts_is_walked_page_by_page_as_json() {
    let server = MockServer::start_async().await;
    let pages = [
        page(
            &server,
            "/deployments",
            0,
            json!({"deployments": deployments(0..100), "total": 130}),
        )
        .await,
        page(
            &server,
            "/deployments",
            100,
            json!({"deployments": deployments(100..130), "total": 130}),
        )
        .await,
    ];
    let list = dployr::Operation::find("listDeployments").unwrap();
    let items: Vec<Value> = client_for(&server)
        .call(list)
        .pages(100)
        .map(Result::unwrap)
        .collect()
        .await;
    assert_eq!(items.len(), 130);
    assert_eq!(items[129]["id"], "dep-129");
    for (n, mock) in pages.iter().enumerate() {
        assert_eq!(mock.calls_async().await, 1, "page {n}");
    }

    // An answer that is no page ends the stream with a Decode error.
    let odd = server
        .mock_async(|when, then| {
            when.method(GET).path("/odd");
            then.status(200)
                .header("content-type", "application/json")
                .json_body(json!({"name": "not a page"}));
        })
        .await;
    let mut walked = client_for(&server)
        .raw(dployr::Method::GET, "/odd")
        .pages(10);
    let error = walked.next().await.unwrap().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Decode);
    assert!(walked.next().await.is_none());
    assert_eq!(odd.calls_async().await, 1);
}
