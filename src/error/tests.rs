//! Unit tests of the error type: kinds, redaction, one-line display.

use super::answer::kind_of_status;
use super::*;
use reqwest::header::HeaderMap;

#[test]
fn statuses_map_to_kinds() {
    for (status, kind) in [
        (400, ErrorKind::Validation),
        (401, ErrorKind::Unauthorized),
        (403, ErrorKind::Forbidden),
        (404, ErrorKind::NotFound),
        (409, ErrorKind::Conflict),
        (422, ErrorKind::Validation),
        (429, ErrorKind::RateLimited),
        (500, ErrorKind::Server),
        (503, ErrorKind::Server),
        (418, ErrorKind::UnexpectedStatus),
    ] {
        assert_eq!(kind_of_status(StatusCode::from_u16(status).unwrap()), kind);
    }
}

#[test]
fn redaction_replaces_only_credentials() {
    let mut url: reqwest::Url = "http://h/logs/stream?token=s3cret&id=42".parse().unwrap();
    crate::secret::redact_url(&mut url);
    assert_eq!(url.query(), Some("token=redacted&id=42"));
}

#[test]
fn display_is_one_line_whatever_the_instance_says() {
    let headers = HeaderMap::new();
    let body = br#"{"error":"bad\u0001thing\nhappened\ttoday"}"#;
    let e = Error::from_answer(StatusCode::BAD_GATEWAY, &headers, body);
    let shown = e.to_string();
    assert!(!shown.chars().any(char::is_control), "{shown:?}");
    assert!(shown.contains("bad thing happened today"), "{shown}");
    assert_eq!(e.message(), "bad\u{1}thing\nhappened\ttoday");
}

#[test]
fn retry_after_reads_seconds_and_dates() {
    use reqwest::header::{HeaderValue, RETRY_AFTER};
    use std::time::SystemTime;
    let mut headers = HeaderMap::new();
    headers.insert(RETRY_AFTER, HeaderValue::from_static("7"));
    assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
    let later = SystemTime::now() + Duration::from_secs(120);
    let date = httpdate::fmt_http_date(later);
    headers.insert(RETRY_AFTER, HeaderValue::from_str(&date).unwrap());
    let wait = retry_after(&headers).unwrap();
    assert!(wait > Duration::from_secs(100) && wait <= Duration::from_secs(120));
    headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
    assert_eq!(retry_after(&headers), None);
}

#[test]
fn a_failed_deployment_reads_as_one_sentence() {
    let status = DeploymentStatus::from("failed");
    let lines = vec![
        "building".to_string(),
        "npm ERR! missing script".to_string(),
    ];
    let e = Error::deployment_failed(
        "01HX",
        "web",
        status,
        Some("build failed:\n\x1b[31mexit 1\x1b[0m".into()),
        lines.clone(),
    );
    assert_eq!(e.kind(), ErrorKind::DeploymentFailed);
    assert_eq!(e.deployment_id(), Some("01HX"));
    assert_eq!(
        e.deployment_status().map(ToString::to_string).as_deref(),
        Some("failed")
    );
    assert_eq!(e.log_tail(), lines.as_slice());
    let text = e.to_string();
    assert_eq!(
        text,
        "deployment web (01HX) ended with status failed (build failed: [31mexit 1 [0m); its last 2 log \
         lines are in log_tail(), its full build log is at GET /logs/stream?id=01HX"
    );
    assert!(!text.chars().any(char::is_control));
    assert!(!e.is_retryable());

    let quiet = Error::deployment_failed("01HY", "api", "cancelled".into(), None, Vec::new());
    assert_eq!(
        quiet.to_string(),
        "deployment api (01HY) ended with status cancelled (the instance gave no reason); its full \
         build log is at GET /logs/stream?id=01HY"
    );
    assert!(Error::new(ErrorKind::Timeout, "x").log_tail().is_empty());
}
