//! Error answers, declared and not, and requests refused before sending.

use super::*;

fn status_of(error: &dployr::Error) -> Option<u16> {
    error.status().map(|s| s.as_u16())
}

/// The kind the SDK documents for an error status (README, "Errors").
fn kind_for_status(status: u16) -> ErrorKind {
    match status {
        400 | 422 => ErrorKind::Validation,
        401 => ErrorKind::Unauthorized,
        403 => ErrorKind::Forbidden,
        404 => ErrorKind::NotFound,
        409 => ErrorKind::Conflict,
        429 => ErrorKind::RateLimited,
        500..=599 => ErrorKind::Server,
        _ => ErrorKind::UnexpectedStatus,
    }
}

/// Every error status the operation declares, answered with the example
/// of its response, becomes a typed error carrying the body's message,
/// code and field details and the answer's request id.
pub(crate) async fn check_declared_errors(op: &Operation) {
    let server = MockServer::start_async().await;
    let client = quiet_client(&server);
    for (status, body) in &op.errors {
        let context = format!("{} answered {status}", op.id);
        if let Err(problems) = spec::validate("ErrorResponse", body) {
            panic!("{context}: the spec's example is not an ErrorResponse: {problems}");
        }
        let request_id = format!("req-{}-{status}", op.id);
        let mock = server
            .mock_async(|when, then| {
                when.any_request();
                then.status(*status)
                    .header("content-type", "application/json")
                    .header("x-request-id", request_id.as_str())
                    .json_body(body.clone());
            })
            .await;
        let error = match invoke(&client, &op.id).await {
            Ok(value) => panic!("{context}: the SDK returned success: {value}"),
            Err(error) => error,
        };
        mock.assert_async().await;
        mock.delete_async().await;

        let got = (
            status_of(&error),
            error.kind(),
            Some(error.message()),
            error.code(),
        );
        let code = body.get("code").and_then(Value::as_str);
        let want = (
            Some(*status),
            kind_for_status(*status),
            body["error"].as_str(),
            code,
        );
        assert_eq!(got, want, "{context}: (status, kind, message, code)");
        let request_id = Some(request_id.as_str());
        assert_eq!(error.request_id(), request_id, "{context}: request id");
        let details = serde_json::to_value(error.details()).expect("details serialize");
        let expected = match body.get("details") {
            Some(list @ Value::Array(_)) => list.clone(),
            _ => json!([]),
        };
        assert_eq!(details, expected, "{context}: field details");
        let named = !error.details().is_empty();
        assert!(named || *status != 422, "{context}: a 422 names its fields");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undeclared_statuses_keep_their_status_and_kind() {
    let body = spec::example("Error").clone();
    let statuses = [
        (409, ErrorKind::Conflict),
        (418, ErrorKind::UnexpectedStatus),
        (429, ErrorKind::RateLimited),
        (503, ErrorKind::Server),
    ];
    for id in ["getService", "createDeployment"] {
        for (status, kind) in statuses {
            let server = MockServer::start_async().await;
            server
                .mock_async(|when, then| {
                    when.any_request();
                    let then = then.status(status).header("retry-after", "7");
                    then.json_body(body.clone());
                })
                .await;
            let error = invoke(&quiet_client(&server), id).await;
            let error = error.expect_err("an error status");
            let context = format!("{id} answered {status}");
            assert_eq!(
                (status_of(&error), error.kind()),
                (Some(status), kind),
                "{context}"
            );
            // The spec gives every error status the one ErrorResponse body,
            // declared for the operation or not.
            let said = (Some(error.message()), error.code());
            let want = (body["error"].as_str(), body["code"].as_str());
            assert_eq!(said, want, "{context}: message and code");
            // The SDK reads Retry-After on 429 and 503 only, as it documents.
            let wait = matches!(status, 429 | 503).then(|| Duration::from_secs(7));
            assert_eq!(error.retry_after(), wait, "{context}: Retry-After");
        }
    }
}

/// Calls `operation_id` against a server answering `status`, `content_type`
/// and `body`, and returns the error the caller gets.
async fn error_for(
    operation_id: &str,
    status: u16,
    content_type: &str,
    body: &str,
) -> dployr::Error {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.any_request();
            let then = then.status(status).header("content-type", content_type);
            then.body(body);
        })
        .await;
    match invoke(&quiet_client(&server), operation_id).await {
        Ok(value) => panic!("{operation_id}: {status} {body:?} decoded as {value}"),
        Err(error) => error,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_success_bodies_are_decode_errors() {
    let html = "<html><body>502 Bad Gateway</body></html>";
    let truncated = r#"{"services": [{"id": "s1", "name": "web"#;
    let mistyped = r#"{"services": [], "total": "many"}"#;
    for (what, content_type, body) in [
        ("not JSON", "text/html", html),
        ("truncated JSON", "application/json", truncated),
        ("wrongly typed JSON", "application/json", mistyped),
        ("an empty body", "application/json", ""),
    ] {
        let error = error_for("listServices", 200, content_type, body).await;
        assert_eq!(error.kind(), ErrorKind::Decode, "{what}: {error}");
        let snippet = error.body_snippet();
        assert_eq!(snippet, Some(body), "{what}: the snippet is the body");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declared_error_statuses_without_a_json_body_keep_status_and_kind() {
    // Proxies in front of an instance answer errors with pages of their own,
    // and some servers answer a 404 with no body at all.
    let page = "<h1>Internal Server Error</h1>";
    let mut wrong = Vec::new();
    for (id, status, kind, content_type, body) in [
        ("listServices", 500, ErrorKind::Server, "text/html", page),
        ("getService", 404, ErrorKind::NotFound, "text/plain", ""),
        (
            "getProxyStatus",
            401,
            ErrorKind::Unauthorized,
            "text/plain",
            "Unauthorized",
        ),
    ] {
        let error = error_for(id, status, content_type, body).await;
        let got = (status_of(&error), error.kind());
        if got != (Some(status), kind) {
            wrong.push(format!(
                "{id} answered {status} {body:?}: got {got:?} ({error})"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dot_segment_ids_cannot_escape_the_service_path() {
    // URL parsers resolve `.` and `..` (and `%2e`) segments, so an id sent
    // as-is would address the collection, or the root, instead of a service.
    let mut wrong = Vec::new();
    for id in [".", ".."] {
        let server = MockServer::start_async().await;
        let seen: Arc<Mutex<Vec<HttpMockRequest>>> = Arc::default();
        let log = seen.clone();
        server
            .mock_async(|when, then| {
                when.any_request();
                then.respond_with(move |request| {
                    log.lock().unwrap().push(request.clone());
                    HttpMockResponse::builder().status(204).build()
                });
            })
            .await;
        let client = quiet_client(&server);
        let _ = typed(client.delete_service().service_id(id).send()).await;
        for request in seen.lock().unwrap().iter() {
            let path = request.uri().path().to_string();
            let segment = path.strip_prefix("/services/").unwrap_or("");
            if segment.is_empty() || segment.contains('/') {
                wrong.push(format!("service_id({id:?}) sent DELETE {path}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
