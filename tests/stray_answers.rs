//! Answers that stray from the spec, as today's daemons send them: the
//! instance's own words are kept, the error names the call, and nothing
//! panics.

use dployr::{Client, ErrorKind, RetryConfig};
use httpmock::prelude::*;

fn client_for(server: &MockServer) -> Client {
    Client::builder(server.base_url())
        .access_token("access")
        .retry(RetryConfig::disabled())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_daemon_404_with_string_details_keeps_its_message_and_code() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/services/web");
            then.status(404).header("content-type", "application/json").body(
                r#"{"error":"service not found","code":"resource.not_found","details":"sql: no rows in result set"}"#,
            );
        })
        .await;

    let error = client_for(&server)
        .get_service()
        .service_id("web")
        .send()
        .await
        .unwrap_err();

    assert_eq!(error.kind(), ErrorKind::NotFound);
    assert_eq!(error.code(), Some("resource.not_found"));
    assert_eq!(error.message(), "service not found");
    assert_eq!(error.operation(), Some("getService"));
    let shown = error.to_string();
    assert!(
        shown.starts_with("getService (GET /services/web): "),
        "{shown}"
    );
    assert!(shown.contains("service not found"), "{shown}");
    assert!(shown.contains("resource.not_found"), "{shown}");
}

#[tokio::test]
async fn a_plain_text_404_keeps_its_kind_and_its_text() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/services/web");
            then.status(404)
                .header("content-type", "text/plain; charset=utf-8")
                .body("404 page not found\n");
        })
        .await;

    let error = client_for(&server)
        .get_service()
        .service_id("web")
        .send()
        .await
        .unwrap_err();

    assert_eq!(error.kind(), ErrorKind::NotFound);
    assert_eq!(error.message(), "404 page not found");
    assert_eq!(error.code(), None);
}

#[tokio::test]
async fn a_long_text_body_is_shortened_to_one_line() {
    let server = MockServer::start_async().await;
    let long = format!("{}\nsecond line", "x".repeat(5000));
    server
        .mock_async(|when, then| {
            when.method(GET).path("/services/web");
            then.status(502).body(long);
        })
        .await;

    let error = client_for(&server)
        .get_service()
        .service_id("web")
        .send()
        .await
        .unwrap_err();

    assert_eq!(error.kind(), ErrorKind::Server);
    assert!(
        error.message().chars().count() <= 201,
        "{}",
        error.message()
    );
    assert!(!error.to_string().contains('\n'));
}

#[tokio::test]
async fn a_bare_array_where_the_spec_has_a_page_is_a_decode_error_naming_where() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/services");
            then.status(200)
                .header("content-type", "application/json")
                .body(r#"[{"name":"web","status":"running"}]"#);
        })
        .await;

    let error = client_for(&server)
        .list_services()
        .send()
        .await
        .unwrap_err();

    assert_eq!(error.kind(), ErrorKind::Decode);
    assert_eq!(error.operation(), Some("listServices"));
    assert_eq!(error.status().map(|s| s.as_u16()), Some(200));
    let shown = error.to_string();
    assert!(shown.contains("listServices (GET /services)"), "{shown}");
    assert!(shown.contains("ServiceList"), "{shown}");
    // A struct also reads from an array of its fields in order, so the
    // first element is where it fails.
    assert!(shown.contains("at `[0]`"), "{shown}");
    assert!(shown.contains("the answer being a JSON array"), "{shown}");
}

#[tokio::test]
async fn a_field_of_the_wrong_type_is_named_by_its_json_path() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/services");
            then.status(200)
                .header("content-type", "application/json")
                .body(r#"{"services":[{"id":"a","name":7}],"total":1}"#);
        })
        .await;

    let error = client_for(&server)
        .list_services()
        .send()
        .await
        .unwrap_err();

    assert_eq!(error.kind(), ErrorKind::Decode);
    let shown = error.to_string();
    assert!(shown.contains("`services[0].name`"), "{shown}");
}

#[tokio::test]
async fn a_401_to_a_call_without_a_token_says_none_was_sent() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/services");
            then.status(401)
                .body(r#"{"error":"Authentication required"}"#);
        })
        .await;
    let client = Client::builder(server.base_url())
        .retry(RetryConfig::disabled())
        .build()
        .unwrap();

    let error = client.list_services().send().await.unwrap_err();

    assert_eq!(error.kind(), ErrorKind::Unauthorized);
    let shown = error.to_string();
    assert!(shown.contains("Authentication required"), "{shown}");
    assert!(shown.contains("without an access token"), "{shown}");
}

#[tokio::test]
async fn debug_shows_only_what_is_set() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/services/web");
            then.status(404).body(r#"{"error":"gone"}"#);
        })
        .await;

    let error = client_for(&server)
        .get_service()
        .service_id("web")
        .send()
        .await
        .unwrap_err();

    let shown = format!("{error:?}");
    assert!(!shown.contains("None"), "{shown}");
    assert!(shown.contains("NotFound"), "{shown}");
    assert!(shown.contains("getService"), "{shown}");
    assert!(!shown.contains("request_id"), "{shown}");
}
