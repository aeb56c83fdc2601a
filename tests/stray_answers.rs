//! Answers that stray from the spec, as today's daemons send them: the
//! instance's own words are kept, the error names the call, and nothing
//! panics.

use dployr::{Client, ErrorKind, RetryConfig};
use httpmock::prelude::*;

fn client_for(base_url: &str) -> Client {
    Client::builder(base_url)
        .access_token("access")
        .retry(RetryConfig::disabled())
        .build()
        .unwrap()
}

/// The error of the call `send` makes (given the server's base URL) when
/// the instance answers `path` with `status`, `content_type` and `body`.
async fn failure<T: std::fmt::Debug>(
    method: httpmock::Method,
    path: &str,
    status: u16,
    content_type: &str,
    body: &str,
    send: impl AsyncFnOnce(String) -> Result<T, dployr::Error>,
) -> dployr::Error {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(method).path(path);
            then.status(status)
                .header("content-type", content_type)
                .body(body);
        })
        .await;
    send(server.base_url()).await.unwrap_err()
}

async fn get_web(base_url: String) -> Result<dployr::types::Service, dployr::Error> {
    client_for(&base_url)
        .get_service()
        .service_id("web")
        .send()
        .await
        .map(|s| s.into_inner())
}

async fn list(base_url: String) -> Result<dployr::types::ServiceList, dployr::Error> {
    let client = client_for(&base_url);
    client.list_services().send().await.map(|s| s.into_inner())
}

const JSON: &str = "application/json";

#[tokio::test]
async fn a_daemon_404_with_string_details_keeps_its_message_and_code() {
    let body = r#"{"error":"service not found","code":"resource.not_found","details":"sql: no rows in result set"}"#;
    let error = failure(GET, "/services/web", 404, JSON, body, get_web).await;

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
    let text = "text/plain; charset=utf-8";
    let error = failure(
        GET,
        "/services/web",
        404,
        text,
        "404 page not found\n",
        get_web,
    )
    .await;

    assert_eq!(error.kind(), ErrorKind::NotFound);
    assert_eq!(error.message(), "404 page not found");
    assert_eq!(error.code(), None);
}

#[tokio::test]
async fn a_long_text_body_is_shortened_to_one_line() {
    let long = format!("{}\nsecond line", "x".repeat(5000));
    let error = failure(GET, "/services/web", 502, "text/plain", &long, get_web).await;

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
    let body = r#"[{"name":"web","status":"running"}]"#;
    let error = failure(GET, "/services", 200, JSON, body, list).await;

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
    let body = r#"{"services":[{"id":"a","name":7}],"total":1}"#;
    let error = failure(GET, "/services", 200, JSON, body, list).await;

    assert_eq!(error.kind(), ErrorKind::Decode);
    let shown = error.to_string();
    assert!(shown.contains("`services[0].name`"), "{shown}");
}

#[tokio::test]
async fn a_401_to_a_call_without_a_token_says_none_was_sent() {
    let body = r#"{"error":"Authentication required"}"#;
    let without_token = async |base_url: String| {
        let client = Client::builder(base_url)
            .retry(RetryConfig::disabled())
            .build()?;
        client.list_services().send().await
    };
    let error = failure(GET, "/services", 401, JSON, body, without_token).await;

    assert_eq!(error.kind(), ErrorKind::Unauthorized);
    let shown = error.to_string();
    assert!(shown.contains("Authentication required"), "{shown}");
    assert!(shown.contains("without an access token"), "{shown}");
}

#[tokio::test]
async fn debug_shows_only_what_is_set() {
    let error = failure(
        GET,
        "/services/web",
        404,
        JSON,
        r#"{"error":"gone"}"#,
        get_web,
    )
    .await;

    let shown = format!("{error:?}");
    assert!(!shown.contains("None"), "{shown}");
    assert!(shown.contains("NotFound"), "{shown}");
    assert!(shown.contains("getService"), "{shown}");
    assert!(!shown.contains("request_id"), "{shown}");
}
