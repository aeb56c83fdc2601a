//! How error answers, rejected inputs and transport failures reach the user
//! as `dployr::Error`, and that none of them ever carries the access token.

mod support;

use std::time::Duration;

use dployr::types::{DeployRequest, KnownRuntime, KnownSource, RuntimeObj};
use dployr::{Client, Error, ErrorKind, RetryConfig};
use httpmock::prelude::*;
use serde_json::json;
use support::scripted::{ScriptedServer, Step};

const TOKEN: &str = "tok-SECRET-7f3a9c2e51d8";

fn no_retries() -> RetryConfig {
    RetryConfig::default()
        .max_retries(0)
        .backoff_base(Duration::from_millis(10))
        .jitter(false)
}

fn client_for(url: &str) -> Client {
    Client::builder(url)
        .access_token(TOKEN)
        .retry(no_retries())
        .build()
        .unwrap()
}

fn deploy_request(port: Option<i64>) -> DeployRequest {
    DeployRequest::builder()
        .name("web")
        .user_id("user-1")
        .source(KnownSource::Remote)
        .runtime(RuntimeObj {
            type_: KnownRuntime::Nodejs.into(),
            version: None,
        })
        .port(port)
        .try_into()
        .unwrap()
}

/// The status, kind and body of one error answer.
struct Case {
    status: u16,
    kind: ErrorKind,
    message: &'static str,
    code: &'static str,
    validation: bool,
}

const CASES: &[Case] = &[
    Case {
        status: 400,
        kind: ErrorKind::Validation,
        message: "the request is malformed",
        code: "request.malformed",
        validation: true,
    },
    Case {
        status: 401,
        kind: ErrorKind::Unauthorized,
        message: "the token has expired",
        code: "auth.expired",
        validation: false,
    },
    Case {
        status: 403,
        kind: ErrorKind::Forbidden,
        message: "viewers cannot do that",
        code: "auth.forbidden",
        validation: false,
    },
    Case {
        status: 404,
        kind: ErrorKind::NotFound,
        message: "no such service",
        code: "resource.not_found",
        validation: false,
    },
    Case {
        status: 409,
        kind: ErrorKind::Conflict,
        message: "a deployment is already running",
        code: "resource.conflict",
        validation: false,
    },
    Case {
        status: 422,
        kind: ErrorKind::Validation,
        message: "some fields are invalid",
        code: "request.invalid",
        validation: true,
    },
    Case {
        status: 429,
        kind: ErrorKind::RateLimited,
        message: "slow down",
        code: "rate.limited",
        validation: false,
    },
    Case {
        status: 500,
        kind: ErrorKind::Server,
        message: "the database is unreachable",
        code: "internal",
        validation: false,
    },
    Case {
        status: 502,
        kind: ErrorKind::Server,
        message: "the upstream failed",
        code: "gateway.bad",
        validation: false,
    },
    Case {
        status: 503,
        kind: ErrorKind::Server,
        message: "the instance is starting",
        code: "unavailable",
        validation: false,
    },
];

fn error_body(case: &Case) -> serde_json::Value {
    if case.validation {
        json!({
            "error": case.message,
            "code": case.code,
            "details": [
                {"field": "name", "message": "must not be empty"},
                {"field": "port", "message": "must be between 1 and 65535"},
            ],
        })
    } else {
        json!({"error": case.message, "code": case.code})
    }
}

/// What differs between the error the user got and what the answer said.
fn mismatches(case: &Case, operation: &str, e: &Error) -> Vec<String> {
    let mut wrong = Vec::new();
    let mut expect = |what: &str, ok: bool, got: String| {
        if !ok {
            wrong.push(format!("{} on {operation}: {what}, got {got}", case.status));
        }
    };
    expect("kind", e.kind() == case.kind, format!("{:?}", e.kind()));
    expect(
        "status",
        e.status().map(|s| s.as_u16()) == Some(case.status),
        format!("{:?}", e.status()),
    );
    expect(
        &format!("message {:?}", case.message),
        e.message() == case.message,
        format!("{:?}", e.message()),
    );
    expect(
        &format!("code {:?}", case.code),
        e.code() == Some(case.code),
        format!("{:?}", e.code()),
    );
    let request_id = format!("req-{}", case.status);
    expect(
        "request id",
        e.request_id() == Some(request_id.as_str()),
        format!("{:?}", e.request_id()),
    );
    let fields: Vec<(&str, &str)> = e
        .details()
        .iter()
        .map(|d| (d.field.as_str(), d.message.as_str()))
        .collect();
    let wanted: &[(&str, &str)] = if case.validation {
        &[
            ("name", "must not be empty"),
            ("port", "must be between 1 and 65535"),
        ]
    } else {
        &[]
    };
    expect("field details", fields == wanted, format!("{fields:?}"));
    let shown = e.to_string();
    expect("Display on one line", !shown.contains('\n'), shown.clone());
    for part in [&case.status.to_string(), case.message, &request_id] {
        expect(
            &format!("Display containing {part:?}"),
            shown.contains(part),
            shown.clone(),
        );
    }
    wrong
}

// Both a list and a single-resource GET: the spec declares different error
// statuses for each, and the user must get the same error either way.
#[tokio::test]
async fn each_error_status_maps_to_its_kind_with_the_body_and_request_id() {
    let mut failures = Vec::new();
    for case in CASES {
        let server = MockServer::start_async().await;
        let list = server
            .mock_async(|when, then| {
                when.method(GET).path("/services");
                then.status(case.status)
                    .header("content-type", "application/json")
                    .header("x-request-id", format!("req-{}", case.status))
                    .json_body(error_body(case));
            })
            .await;
        let one = server
            .mock_async(|when, then| {
                when.method(GET).path("/services/svc-1");
                then.status(case.status)
                    .header("content-type", "application/json")
                    .header("x-request-id", format!("req-{}", case.status))
                    .json_body(error_body(case));
            })
            .await;
        let client = client_for(&server.base_url());

        let e = client.list_services().send().await.unwrap_err();
        failures.extend(mismatches(case, "list_services", &e));
        let e = client
            .get_service()
            .service_id("svc-1")
            .send()
            .await
            .unwrap_err();
        failures.extend(mismatches(case, "get_service", &e));
        // Retries are off, so even the retryable statuses were asked once.
        assert_eq!(list.calls_async().await, 1, "{}", case.status);
        assert_eq!(one.calls_async().await, 1, "{}", case.status);
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn retry_after_of_a_429_is_exposed() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET).path("/services");
            then.status(429)
                .header("content-type", "application/json")
                .header("retry-after", "7")
                .json_body(json!({"error": "slow down"}));
        })
        .await;
    let client = client_for(&server.base_url());

    let e = client.list_services().send().await.unwrap_err();

    assert_eq!(e.kind(), ErrorKind::RateLimited);
    assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
    assert!(e.is_retryable());
    assert_eq!(mock.calls_async().await, 1);
}

fn check_rejected(e: &Error, field: Option<&str>, mentions: &str) {
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    assert_eq!(e.field(), field, "{e}");
    assert_eq!(e.status(), None, "{e}");
    let shown = e.to_string();
    assert!(shown.contains("nothing was sent"), "{shown}");
    assert!(shown.contains(mentions), "{shown}");
}

#[tokio::test]
async fn invalid_inputs_are_rejected_before_sending() {
    let server = MockServer::start_async().await;
    let anything = server
        .mock_async(|when, then| {
            when.any_request();
            then.status(200)
                .header("content-type", "application/json")
                .json_body(json!({"services": [], "total": 0}));
        })
        .await;
    let client = client_for(&server.base_url());

    let e = client.list_services().limit(0).send().await.unwrap_err();
    check_rejected(&e, Some("limit"), "limit");

    let e = client.list_services().limit(101).send().await.unwrap_err();
    check_rejected(&e, Some("limit"), "101");

    let e = client
        .list_deployments()
        .limit(10)
        .offset(-1)
        .send()
        .await
        .unwrap_err();
    check_rejected(&e, Some("offset"), "-1");

    let e = client
        .create_deployment()
        .body(deploy_request(Some(70000)))
        .send()
        .await
        .unwrap_err();
    check_rejected(&e, Some("port"), "70000");

    // The empty name is refused by the generated type itself, before the
    // SDK's own checks, so there is no field to name; the message still does.
    let empty_name = DeployRequest::builder()
        .name("")
        .user_id("user-1")
        .source(KnownSource::Remote)
        .runtime(RuntimeObj {
            type_: KnownRuntime::Nodejs.into(),
            version: None,
        });
    let e = client
        .create_deployment()
        .body(empty_name)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    assert!(e.to_string().contains("nothing was sent"), "{e}");
    assert!(e.to_string().contains("name"), "{e}");

    assert_eq!(anything.calls_async().await, 0);
}

fn check_no_token(what: &str, e: &Error) {
    for shown in [
        e.to_string(),
        format!("{e:?}"),
        format!("{e:#?}"),
        std::error::Error::source(e)
            .map(ToString::to_string)
            .unwrap_or_default(),
    ] {
        assert!(!shown.contains(TOKEN), "{what} leaks the token: {shown}");
        assert!(!shown.contains("SECRET"), "{what} leaks the token: {shown}");
    }
}

#[tokio::test]
async fn no_error_shows_the_access_token() {
    let server = MockServer::start_async().await;
    for (path, status) in [
        ("/services/a", 401),
        ("/services/b", 404),
        ("/services/c", 500),
    ] {
        server
            .mock_async(|when, then| {
                when.method(GET)
                    .path(path)
                    .header("authorization", format!("Bearer {TOKEN}"));
                then.status(status)
                    .header("content-type", "application/json")
                    .json_body(json!({"error": format!("status {status}")}));
            })
            .await;
    }
    let client = client_for(&server.base_url());
    let mut seen = Vec::new();
    for (id, kind) in [
        ("a", ErrorKind::Unauthorized),
        ("b", ErrorKind::NotFound),
        ("c", ErrorKind::Server),
    ] {
        let e = client
            .get_service()
            .service_id(id)
            .send()
            .await
            .unwrap_err();
        assert_eq!(e.kind(), kind, "{e}");
        seen.push(e);
    }

    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let e = client_for(&format!("http://127.0.0.1:{closed}"))
        .list_services()
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connect, "{e}");
    seen.push(e);

    let silent = ScriptedServer::start(vec![vec![Step::Hang]]).await;
    let e = client_for(&silent.url)
        .with_timeout(Duration::from_millis(200))
        .list_services()
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    // The token did go out on that request; only the error must not show it.
    assert_eq!(
        silent.requests()[0].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    seen.push(e);

    let e = client.list_services().limit(0).send().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    seen.push(e);

    for e in &seen {
        check_no_token(&format!("{:?} error", e.kind()), e);
    }
}
