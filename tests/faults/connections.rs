//! Connections that close early, lie about their length, or do not speak
//! HTTP at all.

use super::*;

#[tokio::test]
async fn a_body_cut_off_mid_json_is_a_transport_failure() {
    let body = &SERVICES[..SERVICES.len() / 2];
    let server =
        ScriptedServer::start(vec![vec![send(&json_head(SERVICES.len())), send(body)]]).await;

    let e = list(&client(&server.url)).await.unwrap_err();

    assert_eq!(e.kind(), ErrorKind::Transport, "{e}");
    assert!(chain(&e).contains("IncompleteBody"), "{}", chain(&e));
    // Nothing half-read is passed off as the body.
    assert_eq!(e.body_snippet(), None, "{e}");
}

#[tokio::test]
async fn a_close_right_after_the_headers_of_a_json_answer_is_a_typed_error() {
    let declared = ScriptedServer::start(vec![vec![send(&json_head(SERVICES.len()))]]).await;
    let e = list(&client(&declared.url)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Transport, "{e}");
    assert!(chain(&e).contains("IncompleteBody"), "{}", chain(&e));

    // Without a length the body runs to the close, so it is complete and
    // empty: not the JSON the operation promises.
    let until_close = ScriptedServer::start(vec![vec![send(&head(
        200,
        &[
            ("content-type", "application/json"),
            ("connection", "close"),
        ],
    ))]])
    .await;
    let e = list(&client(&until_close.url)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Decode, "{e}");
    assert_eq!(e.body_snippet(), Some(""), "{e}");
}

#[tokio::test]
async fn a_server_that_does_not_speak_http_is_a_transport_error() {
    let server = ScriptedServer::start(vec![vec![send("SSH-2.0-OpenSSH_9.6\r\n")]]).await;

    let e = list(&client(&server.url)).await.unwrap_err();

    assert_eq!(e.kind(), ErrorKind::Transport, "{e}");
    assert_eq!(e.status(), None, "{e}");
}

#[tokio::test]
async fn a_content_length_longer_than_the_body_is_a_typed_error() {
    // The body is complete JSON; only the declared length lies.
    let server = ScriptedServer::start(vec![vec![
        send(&json_head(SERVICES.len() + 10)),
        send(SERVICES),
    ]])
    .await;

    let e = list(&client(&server.url)).await.unwrap_err();

    // The connection ends before the declared length: an incomplete body,
    // a broken connection like any body cut short, even though every byte of
    // the document arrived.
    assert_eq!(e.kind(), ErrorKind::Transport, "{e}");
    assert!(chain(&e).contains("IncompleteBody"), "{}", chain(&e));
}

#[tokio::test]
async fn a_content_length_shorter_than_the_body_is_obeyed() {
    // The declared length ends exactly at the end of the document: the
    // trailing bytes are not part of the answer and are never read.
    let server = ScriptedServer::start(vec![vec![send(&format!(
        "{}{SERVICES}trailing bytes past the declared length",
        json_head(SERVICES.len())
    ))]])
    .await;
    let page = list(&client(&server.url)).await.unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(page.services[0].id, "svc-1");

    // The declared length ends inside the document: what was declared is
    // what gets decoded, and it is incomplete.
    let cut = SERVICES.len() - 5;
    let server =
        ScriptedServer::start(vec![vec![send(&format!("{}{SERVICES}", json_head(cut)))]]).await;
    let e = list(&client(&server.url)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Decode, "{e}");
    assert_eq!(e.body_snippet(), Some(&SERVICES[..cut]), "{e}");
}

// On a kept-alive connection the bytes past the declared length could be
// read as the answer to the next request (a desynchronised connection). The
// second call must get its own answer or a typed error, never the smuggled
// one.
#[tokio::test]
async fn bytes_past_the_declared_length_never_answer_the_next_request() {
    const SMUGGLED: &str = r#"{"services":[],"total":666}"#;
    const GENUINE: &str = r#"{"services":[],"total":2}"#;
    fn keep_alive(body: &str) -> String {
        format!(
            "{}{body}",
            head(
                200,
                &[
                    ("content-type", "application/json"),
                    ("content-length", &body.len().to_string()),
                ],
            )
        )
    }
    let answered = Arc::new(AtomicUsize::new(0));
    let connections = Arc::new(AtomicUsize::new(0));
    let (counted_answers, counted_connections) = (answered.clone(), connections.clone());
    let (url, _server) = serve_with(move |mut socket| {
        let answered = counted_answers.clone();
        counted_connections.fetch_add(1, Ordering::SeqCst);
        async move {
            while read_head(&mut socket).await?.is_some() {
                // Only the very first answer carries the extra bytes; every
                // later request, on any connection, gets the genuine one.
                let reply = if answered.fetch_add(1, Ordering::SeqCst) == 0 {
                    format!("{}{}", keep_alive(SERVICES), keep_alive(SMUGGLED))
                } else {
                    keep_alive(GENUINE)
                };
                socket.write_all(reply.as_bytes()).await?;
            }
            Ok(())
        }
    })
    .await;
    let client = client(&url);

    assert_eq!(list(&client).await.unwrap().total, 1);
    for attempt in 0..3 {
        match list(&client).await {
            Ok(page) => assert_eq!(
                page.total, 2,
                "attempt {attempt}: a smuggled answer was accepted"
            ),
            Err(e) => assert!(
                matches!(e.kind(), ErrorKind::Transport | ErrorKind::Decode),
                "attempt {attempt}: {e}"
            ),
        }
    }
    assert_eq!(answered.load(Ordering::SeqCst), 4);
    println!(
        "extra bytes after a response: 4 requests used {} connection(s)",
        connections.load(Ordering::SeqCst)
    );
}
