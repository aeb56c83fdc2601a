//! What a user's `tracing` subscriber sees: one `dployr.request` span per
//! call, with the fields OpenTelemetry's HTTP client conventions name, and
//! retries, refreshes and a spent retry budget as events inside it.
//!
//! Every test here installs its own subscriber, so that no thread hits the
//! SDK's callsites without one (which would leave them disabled for all).

mod support;

use std::time::Duration;

use dployr::{Client, RetryConfig};
use support::switch::SwitchServer;
use support::traces::{SeenSpan, Traces};

const TOKEN: &str = "tok-SECRET-span-5f2c";

fn quick_retries() -> RetryConfig {
    RetryConfig::default()
        .backoff_base(Duration::from_millis(1))
        .backoff_max(Duration::from_millis(2))
}

fn client_for(server: &SwitchServer, retry: RetryConfig) -> Client {
    Client::builder(&server.url)
        .access_token(TOKEN)
        .retry(retry)
        .build()
        .unwrap()
}

fn field<'a>(span: &'a SeenSpan, name: &str) -> Option<&'a str> {
    span.fields.get(name).map(String::as_str)
}

#[tokio::test]
async fn a_success_a_retried_call_and_a_failure_each_have_one_span() {
    let server = SwitchServer::start().await;
    let client = client_for(&server, quick_retries());
    let (traces, _guard) = Traces::capture();
    let host = server
        .url
        .trim_start_matches("http://")
        .split(':')
        .next()
        .unwrap();

    client.list_services().limit(5).send().await.unwrap();
    let spans = traces.spans("dployr.request");
    assert_eq!(spans.len(), 1);
    let (_, ok) = &spans[0];
    assert_eq!(ok.level, "INFO");
    assert_eq!(field(ok, "dployr.operation"), Some("listServices"));
    assert_eq!(field(ok, "http.request.method"), Some("GET"));
    assert_eq!(field(ok, "url.path"), Some("/services"));
    assert_eq!(field(ok, "server.address"), Some(host));
    assert_eq!(field(ok, "http.response.status_code"), Some("200"));
    assert_eq!(field(ok, "http.request.resend_count"), Some("0"));
    assert_eq!(
        field(ok, "http.response.header.x-request-id"),
        Some("req-1")
    );
    assert_eq!(field(ok, "error.type"), None);

    traces.clear();
    server.fail_next(2);
    client.list_services().send().await.unwrap();
    let spans = traces.spans("dployr.request");
    assert_eq!(spans.len(), 1, "one span for the call and its retries");
    let (id, retried) = &spans[0];
    assert_eq!(field(retried, "http.request.resend_count"), Some("2"));
    assert_eq!(field(retried, "http.response.status_code"), Some("200"));
    let retries: Vec<_> = traces
        .events()
        .into_iter()
        .filter(|e| e.fields.get("message").is_some_and(|m| m == "retrying"))
        .collect();
    assert_eq!(retries.len(), 2);
    for event in &retries {
        assert_eq!(event.span, Some(("dployr.request".to_string(), *id)));
        assert_eq!(event.fields.get("status").map(String::as_str), Some("503"));
    }

    traces.clear();
    server.set_down(true);
    let once = client_for(&server, RetryConfig::disabled());
    let error = once
        .get_service()
        .service_id("s1")
        .send()
        .await
        .unwrap_err();
    let spans = traces.spans("dployr.request");
    let (_, failed) = &spans[0];
    assert_eq!(field(failed, "dployr.operation"), Some("getService"));
    assert_eq!(field(failed, "url.path"), Some("/services/s1"));
    assert_eq!(field(failed, "http.response.status_code"), Some("503"));
    assert_eq!(field(failed, "error.type"), Some("Server"));
    assert_eq!(error.kind(), dployr::ErrorKind::Server);

    // A call rejected before sending still has its span and error type.
    traces.clear();
    let _ = client.list_services().limit(0).send().await.unwrap_err();
    let (_, rejected) = &traces.spans("dployr.request")[0];
    assert_eq!(field(rejected, "error.type"), Some("InvalidInput"));
}

#[tokio::test]
async fn raw_calls_and_log_stream_opens_run_in_the_span_too() {
    let server = SwitchServer::start().await;
    let client = client_for(&server, quick_retries());
    let (traces, _guard) = Traces::capture();

    client
        .raw(dployr::Method::GET, "/services")
        .send()
        .await
        .unwrap();
    let (_, raw) = &traces.spans("dployr.request")[0];
    assert_eq!(field(raw, "dployr.operation"), Some("raw"));
    assert_eq!(field(raw, "url.path"), Some("/services"));
    assert_eq!(field(raw, "http.response.status_code"), Some("200"));

    traces.clear();
    let stream = client.stream_logs("dep-1").await;
    drop(stream);
    let (_, open) = &traces.spans("dployr.request")[0];
    assert_eq!(field(open, "dployr.operation"), Some("openLogStream"));
    // The query carries the token: the span has the path alone.
    assert_eq!(field(open, "url.path"), Some("/logs/stream"));
    let everything = format!("{:?} {:?}", traces.spans("dployr.request"), traces.events());
    assert!(!everything.contains(TOKEN), "a token reached tracing");
}

#[tokio::test]
async fn a_spent_budget_is_visible_in_tracing() {
    let server = SwitchServer::start().await;
    server.set_down(true);
    let client = Client::builder(&server.url)
        .access_token("token")
        .retry(quick_retries().budget(Some(dployr::RetryBudget::default().capacity(10))))
        .build()
        .unwrap();
    let (traces, _guard) = Traces::capture();
    // 10 tokens pay for two retries; the third call finds the budget spent.
    for _ in 0..3 {
        let _ = client.list_services().send().await;
    }
    let spent: Vec<_> = traces
        .events()
        .into_iter()
        .filter(|e| {
            e.fields
                .get("message")
                .is_some_and(|m| m.contains("retry budget"))
        })
        .collect();
    assert!(!spent.is_empty(), "{:#?}", traces.events());
    assert_eq!(spent[0].level, "WARN");
    assert_eq!(
        spent[0].fields.get("budget_left").map(String::as_str),
        Some("0")
    );
    assert_eq!(
        spent[0].span.as_ref().map(|s| s.0.as_str()),
        Some("dployr.request")
    );
}

#[tokio::test]
async fn each_attempt_is_one_debug_event_with_its_outcome_and_never_the_token() {
    let server = SwitchServer::start().await;
    let client = client_for(&server, quick_retries());
    let (traces, _guard) = Traces::capture();
    let attempts = |traces: &Traces| -> Vec<support::traces::SeenEvent> {
        traces
            .events()
            .into_iter()
            .filter(|e| e.target == "dployr::http::attempt")
            .collect()
    };

    server.fail_next(2);
    client.list_services().limit(5).send().await.unwrap();
    let seen = attempts(&traces);
    assert_eq!(seen.len(), 3, "one event per attempt: {seen:?}");
    for (i, event) in seen.iter().enumerate() {
        let f = |name: &str| event.fields.get(name).cloned().unwrap_or_default();
        assert_eq!(event.level, "DEBUG");
        assert_eq!(f("attempt"), (i + 1).to_string());
        assert_eq!(f("method"), "GET");
        assert_eq!(f("path"), "/services?limit=5");
        assert!(f("duration_ms").parse::<f64>().unwrap() >= 0.0, "{event:?}");
        assert_eq!(
            event.span.as_ref().map(|s| s.0.as_str()),
            Some("dployr.request")
        );
    }
    let statuses: Vec<String> = seen.iter().map(|e| e.fields["status"].clone()).collect();
    assert_eq!(statuses, ["503", "503", "200"]);

    traces.clear();
    // The log stream carries the token in its query: redacted in the event.
    drop(client.stream_logs("dep-1").await);
    let open = attempts(&traces);
    assert!(!open.is_empty());
    let path = &open[0].fields["path"];
    assert!(path.starts_with("/logs/stream?"), "{path}");
    assert!(path.contains("token=redacted"), "{path}");
    let everything = format!("{:?}", traces.events());
    assert!(!everything.contains(TOKEN), "a token reached tracing");
}

#[tokio::test]
async fn a_connection_refused_attempt_names_its_error_kind() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let client = Client::builder(&url)
        .retry(RetryConfig::disabled())
        .build()
        .unwrap();
    let (traces, _guard) = Traces::capture();
    let _ = client.get_system_status().send().await.unwrap_err();
    let seen: Vec<_> = traces
        .events()
        .into_iter()
        .filter(|e| e.target == "dployr::http::attempt")
        .collect();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].fields["error"], "Connect");
    assert!(!seen[0].fields.contains_key("status"));
}
