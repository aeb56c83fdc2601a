//! Answers whose bodies are too large, mislabelled or not valid JSON.

use super::*;

fn rss_kib() -> u64 {
    status_kib("VmRSS")
}

fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"))
}

/// The peak RSS since the last reset, or the current RSS where the peak
/// cannot be reset (writing `5` to `clear_refs` resets `VmHWM` to the
/// current RSS).
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

#[tokio::test]
async fn a_100_mb_answer_is_refused_without_buffering_it() {
    const DECLARED: usize = 100 * 1024 * 1024;
    // Whitespace before a valid document is still valid JSON, so the only
    // reason to refuse this body is its size.
    const TAIL: &[u8] = br#"{"services":[],"total":0}"#;
    let (url, _server) = serve_with(|mut socket| async move {
        if read_head(&mut socket).await?.is_none() {
            return Ok(());
        }
        socket.write_all(json_head(DECLARED).as_bytes()).await?;
        let chunk = vec![b' '; 64 * 1024];
        let mut left = DECLARED - TAIL.len();
        while left > 0 {
            let n = left.min(chunk.len());
            // Fails with a broken pipe once the client gives up, which ends
            // this connection.
            socket.write_all(&chunk[..n]).await?;
            left -= n;
        }
        socket.write_all(TAIL).await?;
        socket.shutdown().await
    })
    .await;

    for (label, max) in [("default limit", None), ("1 MiB limit", Some(1usize << 20))] {
        let mut builder = Client::builder(&url)
            .access_token("access")
            .retry(RetryConfig::disabled())
            // Generous: reading up to 32 MiB in a debug build must not turn
            // into a timeout, which would hide the size check.
            .timeout(Duration::from_secs(15));
        if let Some(max) = max {
            builder = builder.max_response_bytes(max);
        }
        let client = builder.build().unwrap();

        let before = rss_kib();
        let peak_known = reset_peak();
        let e = list(&client).await.unwrap_err();
        let after = rss_kib();
        let peak = if peak_known {
            status_kib("VmHWM")
        } else {
            after
        };

        assert_eq!(e.kind(), ErrorKind::Decode, "{label}: {e}");
        assert!(
            chain(&e).contains("LengthLimitError"),
            "{label}: {}",
            chain(&e)
        );
        let growth_mib = peak.saturating_sub(before) as f64 / 1024.0;
        println!(
            "100 MB body, {label}: RSS {before} KiB before, {after} KiB after, peak growth {growth_mib:.1} MiB{}",
            if peak_known { "" } else { " (peak not resettable; after-call RSS used)" }
        );
        assert!(
            growth_mib <= 64.0,
            "{label}: RSS grew by {growth_mib:.1} MiB while refusing the body"
        );
    }
}

#[tokio::test]
async fn an_oversized_answer_says_it_is_too_large() {
    let body = format!("{}{SERVICES}", " ".repeat(4096));
    let server = ScriptedServer::start(vec![vec![json(200, &body)]]).await;
    let client = Client::builder(&server.url)
        .access_token("access")
        .retry(RetryConfig::disabled())
        .max_response_bytes(1024)
        .build()
        .unwrap();

    let e = list(&client).await.unwrap_err();

    assert_eq!(e.kind(), ErrorKind::Decode, "{e}");
    assert!(
        e.to_string().contains("larger than the client accepts"),
        "{}",
        chain(&e)
    );
}

/// A client whose answers may be at most `max` bytes.
fn limited(url: &str, max: usize) -> Client {
    Client::builder(url)
        .access_token("access")
        .retry(RetryConfig::disabled())
        .max_response_bytes(max)
        .build()
        .unwrap()
}

#[tokio::test]
async fn an_answer_of_exactly_the_limit_is_read_and_one_byte_more_is_not() {
    // A declared length within the limit is trusted (hyper never reads past
    // it), so the limit's edge is where the declared length meets it.
    let server = ScriptedServer::start(vec![vec![json(200, SERVICES)]]).await;

    let page = list(&limited(&server.url, SERVICES.len())).await.unwrap();
    assert_eq!(page.total, 1);

    let e = list(&limited(&server.url, SERVICES.len() - 1))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Decode, "{e}");
    assert!(
        e.to_string().contains("larger than the client accepts"),
        "{}",
        chain(&e)
    );
}

#[tokio::test]
async fn an_oversized_answer_without_a_length_is_refused_as_it_is_read() {
    // Chunked: nothing says how long the body is until it has been read.
    let padding = " ".repeat(2048);
    let chunked = format!(
        "{}{:x}\r\n{padding}\r\n{:x}\r\n{SERVICES}\r\n0\r\n\r\n",
        head(
            200,
            &[
                ("content-type", "application/json"),
                ("transfer-encoding", "chunked"),
                ("connection", "close"),
            ]
        ),
        padding.len(),
        SERVICES.len(),
    );
    let server = ScriptedServer::start(vec![vec![send(&chunked)]]).await;

    let e = list(&limited(&server.url, 1024)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Decode, "{e}");
    assert!(
        e.to_string().contains("larger than the client accepts"),
        "{}",
        chain(&e)
    );

    // The same answer within the limit decodes.
    let page = list(&limited(&server.url, 4096)).await.unwrap();
    assert_eq!(page.total, 1);
}

#[tokio::test]
async fn an_html_page_on_a_json_operation_is_a_decode_error_with_a_snippet() {
    let page =
        "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>";
    let server = ScriptedServer::start(vec![vec![response(
        200,
        &[("content-type", "text/html; charset=utf-8")],
        page,
    )]])
    .await;

    let e = list(&client(&server.url)).await.unwrap_err();

    assert_eq!(e.kind(), ErrorKind::Decode, "{e}");
    assert!(
        e.body_snippet()
            .is_some_and(|s| s.starts_with("<!DOCTYPE html><html>")),
        "{:?}",
        e.body_snippet()
    );
}

// The SDK decodes by the operation's schema and ignores `Content-Type`: a
// proxy that relabels JSON as text/plain must not break a working call.
#[tokio::test]
async fn valid_json_labelled_text_plain_decodes() {
    let server = ScriptedServer::start(vec![vec![response(
        200,
        &[("content-type", "text/plain")],
        SERVICES,
    )]])
    .await;

    let page = list(&client(&server.url)).await.unwrap();

    assert_eq!(page.total, 1);
    assert_eq!(page.services[0].name, "web");
}

#[tokio::test]
async fn invalid_utf8_inside_a_json_string_is_a_decode_error() {
    let mut body = br#"{"services":[{"id":"svc-"#.to_vec();
    body.extend_from_slice(b"\xff\xfe");
    body.extend_from_slice(br#"","name":"web"}],"total":1}"#);
    let mut raw = json_head(body.len()).into_bytes();
    raw.extend_from_slice(&body);
    let server = ScriptedServer::start(vec![vec![Step::Send(raw)]]).await;

    let e = list(&client(&server.url)).await.unwrap_err();

    assert_eq!(e.kind(), ErrorKind::Decode, "{e}");
    let snippet = e.body_snippet().unwrap();
    assert!(
        snippet.starts_with(r#"{"services":[{"id":"svc-"#),
        "{snippet}"
    );
}
