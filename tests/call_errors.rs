//! Every call's failure is that call's own: it comes back from `send()` as a
//! `dployr::Error` of the right kind, however many other calls failed before
//! or at the same moment, and however many errors were dropped unread.

use std::sync::Arc;
use std::time::Duration;

use dployr::{Client, Error, ErrorKind, RetryConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const TOKEN: &str = "tok-SECRET-c4ll-3rr0r5";

/// A server whose answer depends on the path: `/services/<kind>-<tag>`
/// answers the failure named by `<kind>`, with `<tag>` in its message, so a
/// test can tell whose error it got.
async fn start_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(answer(socket));
        }
    });
    url
}

async fn answer(mut socket: TcpStream) {
    let mut head = Vec::new();
    let mut chunk = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&chunk[..n]),
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let target = head.split(' ').nth(1).unwrap_or_default().to_string();
    // A log stream's id is a query parameter; a service's, the last segment.
    let name = match target
        .split_once("&id=")
        .or_else(|| target.split_once("?id="))
    {
        Some((_, query)) => query.split('&').next().unwrap_or_default(),
        None => target.rsplit('/').next().unwrap_or_default(),
    };
    let name = name.to_string();
    let (kind, tag) = name.split_once('-').unwrap_or((name.as_str(), ""));
    let message = format!("{kind} for {tag}");
    let error = |code: &str| format!(r#"{{"error":"{message}","code":"{code}"}}"#);
    let (status, content_type, body) = match kind {
        "notfound" => (404, "application/json", error("resource.not_found")),
        "conflict" => (409, "application/json", error("resource.conflict")),
        "forbidden" => (403, "application/json", error("auth.forbidden")),
        "unauthorized" => (401, "application/json", error("auth.unauthorized")),
        "busy" => (429, "application/json", error("rate.limited")),
        "boom" => (500, "application/json", error("server.error")),
        "teapot" => (418, "application/json", error("teapot")),
        "invalid" => (
            422,
            "application/json",
            format!(
                r#"{{"error":"{message}","code":"validation","details":[{{"field":"name","message":"{message}"}}]}}"#
            ),
        ),
        "html" => (200, "text/html", format!("<html>{message}</html>")),
        "slow" => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            return;
        }
        "stream" => (
            200,
            "text/event-stream",
            format!("event: error\ndata: {message}\n\n"),
        ),
        _ => (404, "application/json", error("resource.not_found")),
    };
    let reply = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\nx-request-id: req-{tag}\r\n\
         connection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let _ = socket.write_all(reply.as_bytes()).await;
    let _ = socket.shutdown().await;
}

fn client_for(url: &str) -> Client {
    Client::builder(url)
        .access_token(TOKEN)
        .retry(RetryConfig::disabled())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// One failure of each kind a call can end in, each tagged `tag`.
async fn fail_once(url: &str, kind: ErrorKind, tag: &str) -> Error {
    let client = client_for(url);
    let get = |name: &str| {
        let client = client.clone();
        let id = format!("{name}-{tag}");
        async move { client.get_service().service_id(id).send().await }
    };
    let result = match kind {
        ErrorKind::NotFound => get("notfound").await,
        ErrorKind::Conflict => get("conflict").await,
        ErrorKind::Forbidden => get("forbidden").await,
        ErrorKind::Unauthorized => get("unauthorized").await,
        ErrorKind::RateLimited => get("busy").await,
        ErrorKind::Server => get("boom").await,
        ErrorKind::UnexpectedStatus => get("teapot").await,
        ErrorKind::Validation => get("invalid").await,
        ErrorKind::Decode => get("html").await,
        ErrorKind::Timeout => {
            let quick = client.with_timeout(Duration::from_millis(300));
            let id = format!("slow-{tag}");
            quick.get_service().service_id(id).send().await
        }
        ErrorKind::InvalidInput => {
            let limit = 1000 + tag.len() as i64;
            return client
                .list_services()
                .limit(limit)
                .send()
                .await
                .unwrap_err();
        }
        ErrorKind::Connect => {
            // A port that was just free: nothing listens there.
            let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = closed.local_addr().unwrap();
            drop(closed);
            let client = client_for(&format!("http://{addr}"));
            return client.list_services().send().await.unwrap_err();
        }
        ErrorKind::Auth => {
            let (client, tokens) = dployr::create_dployr_client(url).unwrap();
            tokens.set_tokens(TOKEN, "refresh");
            let why = format!("base refused {tag}");
            tokens.set_refresher(move |_| {
                let why = why.clone();
                async move { Err::<dployr::Tokens, _>(std::io::Error::other(why)) }
            });
            let id = format!("unauthorized-{tag}");
            return client
                .get_service()
                .service_id(id)
                .send()
                .await
                .unwrap_err();
        }
        ErrorKind::Stream => {
            use futures::StreamExt;
            let client = client_for(url);
            // The log stream's path is fixed; its id says what to answer.
            let id = format!("stream-{tag}");
            let mut logs = client
                .log_stream(id)
                .open()
                .await
                .expect("the stream opens");
            return logs.next().await.expect("an item").unwrap_err();
        }
        other => panic!("no scenario for {other:?}"),
    };
    result.expect_err("the call fails")
}

const KINDS: &[ErrorKind] = &[
    ErrorKind::NotFound,
    ErrorKind::Conflict,
    ErrorKind::Forbidden,
    ErrorKind::Unauthorized,
    ErrorKind::RateLimited,
    ErrorKind::Server,
    ErrorKind::UnexpectedStatus,
    ErrorKind::Validation,
    ErrorKind::Decode,
    ErrorKind::Timeout,
    ErrorKind::InvalidInput,
    ErrorKind::Connect,
    ErrorKind::Auth,
];

/// Checks what every error must be, whatever its kind.
fn assert_presentable(error: &Error) {
    let shown = error.to_string();
    assert!(!shown.is_empty());
    assert!(
        !shown.chars().any(char::is_control),
        "control character in {shown:?}"
    );
    for internal in [
        "progenitor",
        "x-dployr",
        "dployr-error",
        "Error Response",
        "Invalid Request",
    ] {
        assert!(!shown.contains(internal), "{internal} in {shown:?}");
    }
    let debug = format!("{error:?}");
    assert!(!shown.contains(TOKEN) && !debug.contains(TOKEN), "{debug}");
    assert!(debug.contains(&format!("{:?}", error.kind())), "{debug}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_dropped_unread_never_reach_a_later_call() {
    let url = start_server().await;
    let client = client_for(&url);
    // One error held while the others happen.
    let held = client.list_services().limit(0).send().await.unwrap_err();
    // 10,000 failures nobody reads: rejected inputs and error answers.
    for n in 0..10_000 {
        let _ = client.list_services().limit(0).send().await;
        if n % 50 == 0 {
            let _ = client
                .get_service()
                .service_id(format!("notfound-dropped{n}"))
                .send()
                .await;
        }
    }
    assert_eq!(held.kind(), ErrorKind::InvalidInput, "{held}");
    assert_eq!(held.field(), Some("limit"));
    for kind in KINDS {
        let tag = format!("after{kind:?}");
        let error = fail_once(&url, *kind, &tag).await;
        assert_eq!(error.kind(), *kind, "{error}");
        assert_presentable(&error);
        if error.status().is_some() && *kind != ErrorKind::Decode {
            assert!(error.message().contains(&tag), "{kind:?}: {error}");
            assert_eq!(error.request_id(), Some(format!("req-{tag}").as_str()));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_failing_differently_each_get_their_own_error() {
    let url = start_server().await;
    let start = Arc::new(tokio::sync::Barrier::new(64));
    let tasks: Vec<_> = (0..64)
        .map(|n| {
            let url = url.clone();
            let start = start.clone();
            tokio::spawn(async move {
                let kind = KINDS[n % KINDS.len()];
                let tag = format!("task{n}");
                start.wait().await;
                (kind, tag.clone(), fail_once(&url, kind, &tag).await)
            })
        })
        .collect();
    for task in tasks {
        let (kind, tag, error) = task.await.unwrap();
        assert_eq!(error.kind(), kind, "{tag}: {error}");
        assert_presentable(&error);
        match kind {
            ErrorKind::Decode | ErrorKind::Timeout | ErrorKind::Connect => {}
            ErrorKind::InvalidInput => {
                let limit = 1000 + tag.len();
                assert!(error.to_string().contains(&limit.to_string()), "{error}");
            }
            ErrorKind::Auth => {
                let source = std::error::Error::source(&error).expect("the refresher's error");
                assert_eq!(source.to_string(), format!("base refused {tag}"));
            }
            _ => assert!(error.message().contains(&tag), "{tag} got {error}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_error_and_debug_carry_what_the_instance_said() {
    let url = start_server().await;
    let error = fail_once(&url, ErrorKind::Stream, "live").await;
    assert_eq!(error.kind(), ErrorKind::Stream);
    assert!(error.to_string().contains("stream for live"), "{error}");
    assert_presentable(&error);

    let error = fail_once(&url, ErrorKind::NotFound, "dbg").await;
    let debug = format!("{error:?}");
    for part in ["NotFound", "404", "resource.not_found", "req-dbg"] {
        assert!(debug.contains(part), "{part} missing from {debug}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresher_given_to_the_clients_own_manager_is_used() {
    let server = httpmock::MockServer::start_async().await;
    let fresh = server
        .mock_async(|when, then| {
            when.path("/services")
                .header("authorization", "Bearer fresh");
            then.status(200)
                .header("content-type", "application/json")
                .body(r#"{"services":[],"total":0}"#);
        })
        .await;
    let stale = server
        .mock_async(|when, then| {
            when.path("/services")
                .header("authorization", "Bearer stale");
            then.status(401)
                .header("content-type", "application/json")
                .body(r#"{"error":"token expired"}"#);
        })
        .await;

    // Both ways of reaching the manager: the returned handle, and a clone of
    // the client's own, through the consuming builder-style method.
    for via_clone in [false, true] {
        let (client, tokens) = dployr::create_dployr_client(&server.base_url()).unwrap();
        tokens.set_tokens("stale", "refresh");
        let refresher = |_refresh: String| async {
            Ok::<_, std::io::Error>(dployr::Tokens {
                access: "fresh".into(),
                refresh: None,
            })
        };
        if via_clone {
            let _ = client.tokens().clone().with_refresher(refresher);
        } else {
            tokens.set_refresher(refresher);
        }
        let page = client.list_services().send().await.expect("refreshed");
        assert_eq!(page.total, 0);
        assert_eq!(client.tokens().access_token().as_deref(), Some("fresh"));
    }
    assert_eq!(stale.calls_async().await, 2);
    assert_eq!(fresh.calls_async().await, 2);
}
