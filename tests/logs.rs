//! `stream_logs` against real local servers: a well-behaved one (httpmock)
//! and scripted sockets that stall, drop and reconnect.

mod support;

use std::time::Duration;

use futures::StreamExt;
use httpmock::prelude::*;
use serde_json::json;

use dployr::{ErrorKind, LogEvent, Reconnect};
use support::scripted::{json as json_response, send, sse_head, ScriptedServer, Step};

const DEPLOYMENT: &str = "01HN2K3M4N5P6Q7R8S9T0U1V2W";
const TOKEN: &str = "stream-token-7f3e";

fn client_for(url: &str) -> dployr::Client {
    dployr::Client::builder(url)
        .access_token(TOKEN)
        .retry(dployr::RetryConfig::disabled())
        .build()
        .unwrap()
}

async fn collect(stream: dployr::LogStream) -> Vec<Result<LogEvent, dployr::Error>> {
    stream.collect().await
}

#[tokio::test]
async fn lines_arrive_in_order_and_done_ends_the_stream() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/logs/stream")
                .query_param("id", DEPLOYMENT)
                .query_param("token", TOKEN)
                .header("authorization", format!("Bearer {TOKEN}"))
                .header("accept", "text/event-stream");
            then.status(200)
                .header("content-type", "text/event-stream")
                .body(
                    "data: cloning repository\n\n\
                 data: installing nodejs@18.1.0\n\n\
                 : heartbeat\n\n\
                 data: first\ndata: second\n\n\
                 event: done\ndata: stream completed\n\n\
                 data: after done is never read\n\n",
                );
        })
        .await;
    let client = client_for(&server.base_url());
    let events: Vec<LogEvent> = collect(client.stream_logs(DEPLOYMENT).await.unwrap())
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        events,
        [
            LogEvent::Line("cloning repository".into()),
            LogEvent::Line("installing nodejs@18.1.0".into()),
            LogEvent::Line("first\nsecond".into()),
            LogEvent::Done("stream completed".into()),
        ]
    );
    assert_eq!(mock.calls_async().await, 1);
}

#[tokio::test]
async fn an_error_event_ends_the_stream_with_the_servers_message() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.path("/logs/stream");
            then.status(200)
                .body("data: building\n\nevent: error\ndata: build container exited with 137\n\n");
        })
        .await;
    let events = collect(
        client_for(&server.base_url())
            .stream_logs(DEPLOYMENT)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(events.len(), 2);
    assert_eq!(
        events[0].as_ref().unwrap(),
        &LogEvent::Line("building".into())
    );
    let err = events[1].as_ref().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Stream);
    assert!(err.to_string().contains("exited with 137"), "{err}");
}

#[tokio::test]
async fn unknown_event_types_are_passed_through() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.path("/logs/stream");
            then.status(200)
                .body("id: 7\nevent: progress\ndata: 40%\n\nevent: done\ndata: ok\n\n");
        })
        .await;
    let events = collect(
        client_for(&server.base_url())
            .stream_logs(DEPLOYMENT)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        events[0].as_ref().unwrap(),
        &LogEvent::Other {
            event: "progress".into(),
            data: "40%".into(),
            id: Some("7".into())
        }
    );
    assert_eq!(events[1].as_ref().unwrap(), &LogEvent::Done("ok".into()));
}

#[tokio::test]
async fn an_error_answer_before_the_stream_is_a_typed_error() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.path("/logs/stream");
            then.status(404)
                .json_body(json!({"error": "Deployment not found", "code": "resource.not_found"}));
        })
        .await;
    let err = client_for(&server.base_url())
        .stream_logs("nope")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.message(), "Deployment not found");
    assert_eq!(err.code(), Some("resource.not_found"));
}

#[tokio::test]
async fn without_a_token_nothing_is_sent() {
    let server = ScriptedServer::start(vec![vec![json_response(200, "{}")]]).await;
    let (client, _tokens) = dployr::create_dployr_client(&server.url).unwrap();
    let err = client.stream_logs(DEPLOYMENT).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    assert_eq!(server.hits(), 0);
}

#[tokio::test]
async fn a_silent_stream_fails_with_the_idle_timeout() {
    let server = ScriptedServer::start(vec![vec![
        sse_head(),
        send("data: started\n\n"),
        Step::Hang,
    ]])
    .await;
    let logs = client_for(&server.url)
        .log_stream(DEPLOYMENT)
        .idle_timeout(Duration::from_millis(300))
        .open()
        .await
        .unwrap();
    let events = collect(logs).await;
    assert_eq!(
        events[0].as_ref().unwrap(),
        &LogEvent::Line("started".into())
    );
    assert_eq!(events[1].as_ref().unwrap_err().kind(), ErrorKind::Timeout);
    assert_eq!(events.len(), 2);
}

#[tokio::test]
async fn the_idle_clock_starts_when_the_stream_waits_not_when_bytes_arrived() {
    // Both lines arrive at once; the reader then takes 250 ms over the first,
    // and `done` comes 400 ms after the lines. Measured from the arrival of
    // the lines, the 300 ms idle timeout would have fired before `done`;
    // measured from when the stream waits for bytes again, it must not.
    let server = ScriptedServer::start(vec![vec![
        sse_head(),
        send("data: one\n\ndata: two\n\n"),
        Step::Wait(Duration::from_millis(400)),
        send("event: done\ndata: ok\n\n"),
    ]])
    .await;
    let mut logs = client_for(&server.url)
        .log_stream(DEPLOYMENT)
        .idle_timeout(Duration::from_millis(300))
        .open()
        .await
        .unwrap();
    assert_eq!(
        logs.next().await.unwrap().unwrap(),
        LogEvent::Line("one".into())
    );
    tokio::time::sleep(Duration::from_millis(250)).await;
    let rest = collect(logs).await;
    let rest: Vec<LogEvent> = rest.into_iter().map(Result::unwrap).collect();
    assert_eq!(
        rest,
        [LogEvent::Line("two".into()), LogEvent::Done("ok".into())]
    );
}

#[tokio::test]
async fn a_stream_dropped_mid_event_fails_without_the_partial_event() {
    let server = ScriptedServer::start(vec![vec![
        sse_head(),
        send("data: whole\n\ndata: half of an ev"),
    ]])
    .await;
    let events = collect(
        client_for(&server.url)
            .stream_logs(DEPLOYMENT)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0].as_ref().unwrap(), &LogEvent::Line("whole".into()));
    assert_eq!(events[1].as_ref().unwrap_err().kind(), ErrorKind::Stream);
}

// The API reference's example ends this way: `done`, its lines, then the
// end of the body with no blank line.
#[tokio::test]
async fn done_without_a_blank_line_at_the_end_of_the_body_ends_the_stream() {
    for ending in [
        "event: done\ndata: stream completed\n",
        "event: done\r\ndata: stream completed\r\n",
        "event: done\rdata: stream\rdata: completed\r",
    ] {
        let server = MockServer::start_async().await;
        server
            .mock_async(|when, then| {
                when.path("/logs/stream");
                then.status(200)
                    .header("content-type", "text/event-stream")
                    .body(format!(
                        "data: cloning repository\n\n: heartbeat\n\n{ending}"
                    ));
            })
            .await;
        let mut logs = client_for(&server.base_url())
            .stream_logs(DEPLOYMENT)
            .await
            .unwrap();
        assert_eq!(
            logs.next().await.unwrap().unwrap(),
            LogEvent::Line("cloning repository".into())
        );
        let done = logs.next().await.unwrap().unwrap();
        let LogEvent::Done(message) = done else {
            panic!("{ending:?}: {done:?}")
        };
        assert_eq!(message.replace('\n', " "), "stream completed");
        assert!(logs.next().await.is_none(), "{ending:?}");
    }
}

#[tokio::test]
async fn error_without_a_blank_line_at_the_end_fails_with_its_message() {
    let server = ScriptedServer::start(vec![
        vec![
            sse_head(),
            send("id: 1\ndata: building\n\nid: 2\nevent: error\ndata: container exited\ndata: with 137\n"),
        ],
        // Were the error not taken, a reconnect would end here.
        vec![json_response(503, r#"{"error": "restarting"}"#)],
    ])
    .await;
    // Resume on: the error is the instance's word, not a lost connection.
    let logs = client_for(&server.url)
        .log_stream(DEPLOYMENT)
        .resume(
            Reconnect::default()
                .max_attempts(1)
                .delay(Duration::from_millis(5))
                .max_delay(Duration::from_millis(5)),
        )
        .open()
        .await
        .unwrap();
    let events = collect(logs).await;
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(
        events[0].as_ref().unwrap(),
        &LogEvent::Line("building".into())
    );
    let err = events[1].as_ref().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Stream);
    assert!(
        err.message().contains("container exited\nwith 137"),
        "{err}"
    );
    // Display keeps to one line.
    assert!(
        err.to_string().contains("container exited with 137"),
        "{err}"
    );
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn other_unended_data_at_the_end_still_fails_the_stream() {
    for ending in [
        // Whole lines, but not of an event that ends the stream.
        "id: 2\ndata: two\n",
        "event: progress\ndata: 90%\n",
        // `done` whose last line lost its newline: its text may be cut short.
        "event: done\ndata: stream compl",
        // `done` without data: a blank line would not dispatch it either.
        "event: done\n",
    ] {
        let server = ScriptedServer::start(vec![vec![
            sse_head(),
            send(&format!("id: 1\ndata: one\n\n{ending}")),
        ]])
        .await;
        let events = collect(
            client_for(&server.url)
                .stream_logs(DEPLOYMENT)
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(events.len(), 2, "{ending:?}: {events:?}");
        assert_eq!(events[0].as_ref().unwrap(), &LogEvent::Line("one".into()));
        let err = events[1].as_ref().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Stream, "{ending:?}");
        assert!(err.to_string().contains("before `done`"), "{err}");
    }
}

#[tokio::test]
async fn a_reconnect_sends_last_event_id_only_once_one_was_set_even_empty() {
    // Connection 1 never sets an id, connection 2 sets one then clears it
    // (`id` alone), connection 3 sets `id:` empty after a real one.
    let server = ScriptedServer::start(vec![
        vec![sse_head(), send("retry: 5\n\ndata: one\n\ndata: tw")],
        vec![
            sse_head(),
            send("id: 7\ndata: two\n\nid\nevent: progress\ndata: 50%\n\ndata: thr"),
        ],
        vec![
            sse_head(),
            send("id: 8\ndata: three\n\nid:\ndata: four\n\ndata: fi"),
        ],
        vec![sse_head(), send("event: done\ndata: ok\n\n")],
    ])
    .await;
    let logs = client_for(&server.url)
        .log_stream(DEPLOYMENT)
        .resume(Reconnect::default())
        .open()
        .await
        .unwrap();
    let events: Vec<LogEvent> = collect(logs)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        events,
        [
            LogEvent::Line("one".into()),
            LogEvent::Line("two".into()),
            LogEvent::Other {
                event: "progress".into(),
                data: "50%".into(),
                id: Some(String::new()),
            },
            LogEvent::Line("three".into()),
            LogEvent::Line("four".into()),
            LogEvent::Done("ok".into()),
        ]
    );
    let sent: Vec<Option<String>> = server
        .requests()
        .iter()
        .map(|r| r.header("last-event-id").map(str::to_string))
        .collect();
    assert_eq!(sent, [None, None, Some(String::new()), Some(String::new())]);
}

#[tokio::test]
async fn with_resume_a_dropped_stream_continues_from_the_last_event_id() {
    let server = ScriptedServer::start(vec![
        vec![
            sse_head(),
            send("retry: 20\n\nid: 1\ndata: one\n\nid: 2\ndata: two\n\nid: 3\ndata: thr"),
        ],
        vec![
            sse_head(),
            send("id: 3\ndata: three\n\nid: 4\nevent: done\ndata: finished\n\n"),
        ],
    ])
    .await;
    let logs = client_for(&server.url)
        .log_stream(DEPLOYMENT)
        .resume(Reconnect::default())
        .open()
        .await
        .unwrap();
    let events: Vec<LogEvent> = collect(logs)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        events,
        [
            LogEvent::Line("one".into()),
            LogEvent::Line("two".into()),
            LogEvent::Line("three".into()),
            LogEvent::Done("finished".into()),
        ]
    );
    let seen = server.requests();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].header("last-event-id"), None);
    assert_eq!(seen[1].header("last-event-id"), Some("2"));
    assert!(seen[1].target.contains(&format!("token={TOKEN}")));
}

#[tokio::test]
async fn resume_gives_up_after_its_attempts() {
    let server = ScriptedServer::start(vec![
        vec![sse_head(), send("id: 1\ndata: one\n\n")],
        vec![json_response(503, r#"{"error": "restarting"}"#)],
    ])
    .await;
    let logs = client_for(&server.url)
        .log_stream(DEPLOYMENT)
        .resume(
            Reconnect::default()
                .max_attempts(2)
                .delay(Duration::from_millis(5))
                .max_delay(Duration::from_millis(10)),
        )
        .open()
        .await
        .unwrap();
    let events = collect(logs).await;
    assert_eq!(events[0].as_ref().unwrap(), &LogEvent::Line("one".into()));
    let err = events[1].as_ref().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Stream);
    assert!(err.to_string().contains("2 reconnects"), "{err}");
    assert_eq!(server.hits(), 3);
}

#[tokio::test]
async fn an_oversized_line_is_rejected() {
    let long = "x".repeat(4096);
    let server = ScriptedServer::start(vec![vec![
        sse_head(),
        send(&format!("data: short\n\ndata: {long}\n\n")),
    ]])
    .await;
    let logs = client_for(&server.url)
        .log_stream(DEPLOYMENT)
        .limits(
            dployr::sse::Limits::default()
                .max_line(1024)
                .max_event(1024),
        )
        .open()
        .await
        .unwrap();
    let events = collect(logs).await;
    assert_eq!(events[0].as_ref().unwrap(), &LogEvent::Line("short".into()));
    let err = events[1].as_ref().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Stream);
    assert!(err.to_string().contains("1024"), "{err}");
    assert_eq!(events.len(), 2);
}

#[tokio::test]
async fn errors_never_show_the_token_from_the_url() {
    // Nothing listens on this port: the connection error carries the URL.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let client = client_for(&format!("http://127.0.0.1:{port}"));
    let err = client.stream_logs(DEPLOYMENT).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connect);
    let mut shown = format!("{err} {err:?}");
    let mut source = std::error::Error::source(&err);
    while let Some(s) = source {
        shown.push_str(&format!(" {s} {s:?}"));
        source = s.source();
    }
    assert!(!shown.contains(TOKEN), "{shown}");
}

#[test]
fn a_log_stream_can_move_between_tasks_and_be_polled_in_place() {
    fn assert_send_unpin_stream<S>()
    where
        S: futures::Stream<Item = Result<LogEvent, dployr::Error>> + Send + Unpin,
    {
    }
    assert_send_unpin_stream::<dployr::LogStream>();
}
