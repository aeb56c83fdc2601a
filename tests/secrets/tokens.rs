//! Access and refresh tokens never show in logs, errors or Debug, and never
//! follow a redirect.

use super::*;

#[tokio::test]
async fn no_token_reaches_the_logs_or_any_error() {
    capture_everything();
    let mut errors: Vec<(&str, Error)> = Vec::new();

    // Success.
    let ok = ScriptedServer::start(vec![vec![json(200, SERVICES)]]).await;
    let page = bounded(client(&ok.url, tokens(true)).list_services().send())
        .await
        .unwrap();
    assert_eq!(page.total, 1);
    // The token did go out: only logs and errors must not show it.
    let bearer = format!("Bearer {ACCESS}");
    assert_eq!(
        ok.requests()[0].header("authorization"),
        Some(bearer.as_str())
    );

    // 503, retried, then 200.
    let busy = ScriptedServer::start(vec![
        vec![json(503, r#"{"error":"busy"}"#)],
        vec![json(200, SERVICES)],
    ])
    .await;
    bounded(client(&busy.url, tokens(true)).list_services().send())
        .await
        .unwrap();
    assert_eq!(busy.hits(), 2);

    // 401, refreshed, then 200 with the new token.
    let expired = ScriptedServer::start(vec![
        vec![json(401, r#"{"error":"token expired"}"#)],
        vec![json(200, SERVICE)],
    ])
    .await;
    bounded(
        client(&expired.url, tokens(true))
            .get_service()
            .service_id("svc-1")
            .send(),
    )
    .await
    .unwrap();
    let bearer = format!("Bearer {NEW_ACCESS}");
    assert_eq!(
        expired.requests()[1].header("authorization"),
        Some(bearer.as_str())
    );

    // 401 and a refresher that fails.
    let refused =
        ScriptedServer::start(vec![vec![json(401, r#"{"error":"token expired"}"#)]]).await;
    let e = bounded(client(&refused.url, tokens(false)).list_services().send())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
    errors.push(("failing refresher", e));

    // 404.
    let missing = ScriptedServer::start(vec![vec![json(
        404,
        r#"{"error":"no such service","code":"resource.not_found"}"#,
    )]])
    .await;
    let e = bounded(
        client(&missing.url, tokens(true))
            .get_service()
            .service_id("nope")
            .send(),
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    errors.push(("404", e));

    // A log stream (its token also travels in the URL) dropped mid-event and
    // resumed.
    let stream = ScriptedServer::start(vec![
        vec![
            sse_head(),
            send("retry: 10\n\nid: 1\ndata: one\n\nid: 2\ndata: tw"),
        ],
        vec![
            sse_head(),
            send("id: 2\ndata: two\n\nevent: done\ndata: ok\n\n"),
        ],
    ])
    .await;
    let logs = bounded(
        client(&stream.url, tokens(true))
            .log_stream(DEPLOYMENT)
            .resume(
                Reconnect::default()
                    .max_attempts(2)
                    .delay(Duration::from_millis(10))
                    .max_delay(Duration::from_millis(50)),
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
    assert_eq!(events.len(), 3, "{events:?}");
    assert!(stream.requests()[1]
        .target
        .contains(&format!("token={ACCESS}")));

    // The same stream without resume: the drop is the caller's error.
    let dropped = ScriptedServer::start(vec![vec![sse_head(), send("id: 1\ndata: on")]]).await;
    let logs = bounded(client(&dropped.url, tokens(true)).stream_logs(DEPLOYMENT))
        .await
        .unwrap();
    let mut events: Vec<_> = bounded(logs.collect::<Vec<_>>()).await;
    let e = events.pop().unwrap().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Stream, "{e}");
    errors.push(("dropped log stream", e));

    // Connection failures, retried first; the log stream's URL holds the token.
    let nobody = closed_port_url();
    let e = bounded(client(&nobody, tokens(true)).list_services().send())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connect, "{e}");
    errors.push(("connect failure", e));
    let e = bounded(client(&nobody, tokens(true)).stream_logs(DEPLOYMENT))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connect, "{e}");
    errors.push(("log stream connect failure", e));

    // A deployment followed to its failure; its log stream is refused, so
    // its status is polled.
    let deploy = ScriptedServer::start(vec![
        vec![json(
            201,
            &format!(
                r#"{{"success":true,"id":"{DEPLOYMENT}","name":"web","created_at":"2024-01-01T12:00:00Z"}}"#
            ),
        )],
        vec![json(404, r#"{"error":"no log stream"}"#)],
        vec![json(
            200,
            &format!(
                r#"{{"deployments":[{{"id":"{DEPLOYMENT}","user_id":"u","config":{{}},"status":"failed","created_at":"2024-01-01T12:00:00Z","updated_at":"2024-01-01T12:05:00Z"}}],"total":1}}"#
            ),
        )],
    ])
    .await;
    let request: dployr::types::DeployRequest = serde_json::from_str(
        r#"{"name":"web","user_id":"u","source":"image","runtime":{"type":"docker"},"image":"web:1","secrets":{"API_KEY":"k"}}"#,
    )
    .unwrap();
    let run = bounded(client(&deploy.url, tokens(true)).deploy(request))
        .await
        .unwrap();
    assert_no_secret("a deployment run's Debug", &format!("{run:?}"));
    let e = bounded(run.wait()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::DeploymentFailed, "{e}");
    errors.push(("failed deployment", e));

    for (what, e) in &errors {
        assert_no_secret(what, &every_rendering(e));
    }
    let logged = captured();
    // A capture that saw nothing would pass the check below for nothing.
    assert!(
        logged.contains("retrying"),
        "the retry was not captured:\n{logged}"
    );
    assert!(
        logged.contains("log stream lost, reconnecting"),
        "the reconnect was not captured:\n{logged}"
    );
    assert!(
        logged.contains("polling its status instead"),
        "the deployment's fallback to polling was not captured:\n{logged}"
    );
    assert!(
        logged.contains("retrying with a refreshed token"),
        "the refresh was not captured:\n{logged}"
    );
    assert_no_secret("the captured logs", &logged);
    println!(
        "captured {} lines of logs; hyper-util events: {}, reqwest records: {}",
        logged.lines().count(),
        logged.contains("hyper_util"),
        logged.contains("reqwest"),
    );
}

// A bearer token must not follow a redirect anywhere, so the SDK follows
// none: the 3xx is the caller's error, and the other server sees nothing.
#[tokio::test]
async fn a_redirect_is_not_followed_and_is_an_unexpected_status() {
    capture_everything();
    let elsewhere = ScriptedServer::start(vec![vec![json(200, SERVICES)]]).await;
    let location = format!("{}/services", elsewhere.url);
    let redirecting =
        ScriptedServer::start(vec![vec![response(302, &[("location", &location)], "")]]).await;
    let client = client(&redirecting.url, tokens(true));

    let e = bounded(client.list_services().send()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UnexpectedStatus, "{e}");
    assert_eq!(e.status().map(|s| s.as_u16()), Some(302), "{e}");
    assert_no_secret("the redirect error", &every_rendering(&e));

    let e = bounded(client.stream_logs(DEPLOYMENT)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UnexpectedStatus, "{e}");
    assert_eq!(e.status().map(|s| s.as_u16()), Some(302), "{e}");
    assert_no_secret("the log stream's redirect error", &every_rendering(&e));

    assert_eq!(redirecting.hits(), 2, "a 302 is not retried");
    assert_eq!(elsewhere.hits(), 0, "the redirect was followed");
}

#[test]
fn a_client_shows_no_token_in_debug() {
    let client = Client::builder("https://instance.example.com")
        .access_token(ACCESS)
        .refresh_token(REFRESH)
        .build()
        .unwrap();
    assert_no_secret("Client's Debug", &format!("{client:?}\n{client:#?}"));
    let tokens = client.tokens();
    assert_no_secret("TokenManager's Debug", &format!("{tokens:?}\n{tokens:#?}"));
}

#[test]
fn a_client_builder_shows_no_token_in_debug() {
    let builder = Client::builder("https://deployer:pw-Ux4Ge7Lo2Sa9@instance.example.com")
        .access_token(ACCESS)
        .refresh_token(REFRESH);
    assert_no_secret(
        "ClientBuilder's Debug",
        &format!("{builder:?}\n{builder:#?}"),
    );
    assert!(!format!("{builder:?}").contains("Ux4Ge7Lo2Sa9"));
}

// Basic-auth credentials in the base URL (a proxy prefix that needs them) are
// as secret as a token.
#[tokio::test]
async fn credentials_in_the_base_url_never_appear_in_errors() {
    let nobody = closed_port_url().replace("http://", "http://deployer:pw-Ux4Ge7Lo2Sa9@");
    let client = Client::builder(&nobody)
        .retry(RetryConfig::disabled())
        .build()
        .unwrap();
    let e = bounded(client.list_services().send()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connect, "{e}");
    let shown = every_rendering(&e);
    assert!(!shown.contains("Ux4Ge7Lo2Sa9"), "{shown}");
}
