//! Log streams that close, drip or drop mid-event.

use super::*;

#[tokio::test]
async fn a_log_stream_closed_right_after_its_headers_opens_then_fails() {
    let server = ScriptedServer::start(vec![vec![sse_head()]]).await;
    let client = client(&server.url);

    let logs = guarded("open", client.stream_logs(DEPLOYMENT))
        .await
        .expect("the headers arrived, so the stream opens");
    let events: Vec<_> = guarded("drain", logs.collect()).await;

    assert_eq!(events.len(), 1, "{events:?}");
    let e = events[0].as_ref().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Stream, "{e}");
}

#[tokio::test]
async fn a_log_stream_dripped_a_byte_at_a_time_parses_into_its_events() {
    // A CRLF pair in the middle, so the CR and LF arrive in separate reads.
    const BODY: &[u8] = b"data: first line\n\ndata: second\r\n\r\nevent: done\ndata: ok\n\n";
    let (url, _server) = serve_with(|mut socket| async move {
        if read_head(&mut socket).await?.is_none() {
            return Ok(());
        }
        socket
            .write_all(
                head(
                    200,
                    &[
                        ("content-type", "text/event-stream"),
                        ("connection", "close"),
                    ],
                )
                .as_bytes(),
            )
            .await?;
        for byte in BODY {
            socket.write_all(std::slice::from_ref(byte)).await?;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        socket.shutdown().await
    })
    .await;
    let client = client(&url);

    let logs = guarded("open", client.stream_logs(DEPLOYMENT))
        .await
        .unwrap();
    let events: Vec<LogEvent> = guarded("drain", logs.collect::<Vec<_>>())
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();

    assert_eq!(
        events,
        [
            LogEvent::Line("first line".into()),
            LogEvent::Line("second".into()),
            LogEvent::Done("ok".into()),
        ]
    );
}

fn event(n: u32) -> String {
    format!("id: {n}\ndata: line {n}\n\n")
}

fn events(range: std::ops::RangeInclusive<u32>) -> String {
    range.map(event).collect()
}

// Scripts cannot read the `Last-Event-ID` they are sent, so connection k+1
// is written to start right after the last event connection k completed;
// the requests the server recorded then prove the client asked for exactly
// that. Each drop falls in a different place inside an event.
#[tokio::test]
async fn a_stream_dropped_three_times_delivers_every_line_once_in_order() {
    let server = ScriptedServer::start(vec![
        vec![
            sse_head(),
            send(&format!("retry: 10\n\n{}id: 9\ndata: li", events(1..=8))),
        ],
        vec![
            sse_head(),
            // The data line is complete, the blank line that ends the event is not.
            send(&format!("{}id: 17\ndata: line 17\n", events(9..=16))),
        ],
        vec![
            sse_head(),
            // Cut inside the `id` line itself.
            send(&format!("{}id: 2", events(17..=23))),
        ],
        vec![
            sse_head(),
            send(&format!(
                "{}event: done\ndata: all 30 lines\n\n",
                events(24..=30)
            )),
        ],
    ])
    .await;
    let client = client(&server.url);

    let logs = guarded(
        "open",
        client
            .log_stream(DEPLOYMENT)
            .resume(
                Reconnect::default()
                    .max_attempts(3)
                    .delay(Duration::from_millis(10))
                    .max_delay(Duration::from_millis(50)),
            )
            .open(),
    )
    .await
    .unwrap();
    let got: Vec<LogEvent> = guarded("drain", logs.collect::<Vec<_>>())
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();

    let mut want: Vec<LogEvent> = (1..=30)
        .map(|n| LogEvent::Line(format!("line {n}").into()))
        .collect();
    want.push(LogEvent::Done("all 30 lines".into()));
    assert_eq!(got, want);
    let sent: Vec<Option<String>> = server
        .requests()
        .iter()
        .map(|r| r.header("last-event-id").map(str::to_string))
        .collect();
    assert_eq!(
        sent,
        [None, Some("8".into()), Some("16".into()), Some("23".into())]
    );
}

// The API reference's example, with nothing after `done`'s last newline,
// dripped so that the newline and the end of the body come in separate
// reads. Resume is on: were `done` not taken, the client would reconnect.
#[tokio::test]
async fn the_reference_stream_dripped_ends_with_done_and_no_reconnect() {
    const BODY: &[u8] = b"data: cloning repository\n\ndata: installing nodejs@18.1.0\n\n\
        : heartbeat\n\nevent: done\ndata: stream completed\n";
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = connections.clone();
    let (url, _server) = serve_with(move |mut socket| {
        let counter = counter.clone();
        async move {
            if read_head(&mut socket).await?.is_none() {
                return Ok(());
            }
            counter.fetch_add(1, Ordering::SeqCst);
            let head = head(
                200,
                &[
                    ("content-type", "text/event-stream"),
                    ("connection", "close"),
                ],
            );
            socket.write_all(head.as_bytes()).await?;
            for byte in BODY {
                socket.write_all(std::slice::from_ref(byte)).await?;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            socket.shutdown().await
        }
    })
    .await;

    let logs = guarded(
        "open",
        client(&url)
            .log_stream(DEPLOYMENT)
            .resume(Reconnect::default())
            .open(),
    )
    .await
    .unwrap();
    let events: Vec<LogEvent> = guarded("drain", logs.collect::<Vec<_>>())
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();

    assert_eq!(
        events,
        [
            LogEvent::Line("cloning repository".into()),
            LogEvent::Line("installing nodejs@18.1.0".into()),
            LogEvent::Done("stream completed".into()),
        ]
    );
    assert_eq!(connections.load(Ordering::SeqCst), 1);
}

/// A stream whose first connection drops inside the `done` event's data;
/// the second sends that event whole.
async fn done_cut_in_its_last_line() -> ScriptedServer {
    ScriptedServer::start(vec![
        vec![
            sse_head(),
            send("retry: 10\n\nid: 1\ndata: one\n\nid: 2\nevent: done\ndata: all do"),
        ],
        vec![sse_head(), send("id: 2\nevent: done\ndata: all done\n")],
    ])
    .await
}

#[tokio::test]
async fn a_done_cut_inside_its_last_line_is_asked_for_again() {
    let server = done_cut_in_its_last_line().await;

    let logs = guarded(
        "open",
        client(&server.url)
            .log_stream(DEPLOYMENT)
            .resume(Reconnect::default())
            .open(),
    )
    .await
    .unwrap();
    let events: Vec<LogEvent> = guarded("drain", logs.collect::<Vec<_>>())
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();

    assert_eq!(
        events,
        [
            LogEvent::Line("one".into()),
            LogEvent::Done("all done".into())
        ]
    );
    let sent: Vec<Option<String>> = server
        .requests()
        .iter()
        .map(|r| r.header("last-event-id").map(str::to_string))
        .collect();
    assert_eq!(sent, [None, Some("1".into())]);
}

#[tokio::test]
async fn a_reconnect_is_told_to_the_program_once_per_drop_and_never_before() {
    let server = done_cut_in_its_last_line().await;
    let told = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = told.clone();
    let logs = guarded(
        "open",
        client(&server.url)
            .log_stream(DEPLOYMENT)
            .resume(Reconnect::default())
            .on_reconnect(move |r| seen.lock().unwrap().push(r.clone()))
            .open(),
    )
    .await
    .unwrap();
    let mut logs = logs;
    // The first line arrives before the drop: nothing is told yet.
    let first = guarded("first", logs.next()).await.unwrap().unwrap();
    assert_eq!(first, LogEvent::Line("one".into()));
    assert!(told.lock().unwrap().is_empty());
    let rest: Vec<LogEvent> = guarded("drain", logs.collect::<Vec<_>>())
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rest, [LogEvent::Done("all done".into())]);
    let told = told.lock().unwrap();
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0].attempt, 1);
    assert_eq!(told[0].max_attempts, Reconnect::default().max_attempts);
    assert_eq!(told[0].cause, ErrorKind::Stream);
}
