//! The log stream through its mock: `text/event-stream` answers built from
//! typed events.

use dployr::mock::{MockServer, MockServerExt, ServerEvent};
use dployr::{ErrorKind, LogEvent};
use futures::StreamExt;

use super::{client, TOKEN};

#[tokio::test]
async fn open_log_stream_mock() {
    let server = MockServer::start_async().await;
    let stream = server.open_log_stream(|when, then| {
        when.id("dep_1").token(TOKEN).bearer_token(TOKEN);
        then.success(
            200,
            [
                ServerEvent::line("cloning repository").with_id("1"),
                ServerEvent::heartbeat(),
                ServerEvent::line("installing nodejs@18.1.0").with_id("2"),
                ServerEvent::done("stream completed"),
            ],
        );
    });
    let logs = client(&server)
        .stream_logs("dep_1")
        .await
        .expect("the mock answers");
    let events: Vec<LogEvent> = logs
        .map(|event| event.expect("no error before done"))
        .collect()
        .await;
    stream.assert();
    assert_eq!(events.len(), 3, "{events:?}");
    assert!(matches!(&events[0], LogEvent::Line(l) if &**l == "cloning repository"));
    assert!(matches!(&events[1], LogEvent::Line(l) if &**l == "installing nodejs@18.1.0"));
    assert!(matches!(&events[2], LogEvent::Done(m) if m == "stream completed"));
}

#[tokio::test]
async fn an_error_event_fails_the_stream_with_its_message() {
    let server = MockServer::start_async().await;
    let stream = server.open_log_stream(|when, then| {
        when.id("dep_2");
        then.success(
            200,
            [
                ServerEvent::line("building"),
                ServerEvent::error("build failed: exit status 1"),
            ],
        );
    });
    let mut logs = client(&server)
        .stream_logs("dep_2")
        .await
        .expect("the mock answers");
    let first = logs.next().await.expect("an event").expect("a line");
    assert!(matches!(&first, LogEvent::Line(l) if &**l == "building"));
    let error = logs
        .next()
        .await
        .expect("the error event")
        .expect_err("an error event fails the stream");
    stream.assert();
    assert_eq!(error.kind(), ErrorKind::Stream);
    assert!(
        error.to_string().contains("build failed: exit status 1"),
        "{error}"
    );
    assert!(logs.next().await.is_none(), "nothing follows an error");
}

#[tokio::test]
async fn a_declared_404_fails_the_open() {
    let server = MockServer::start_async().await;
    let missing = server.open_log_stream(|when, then| {
        when.id("dep_gone");
        then.not_found(&super::error_body(
            "no such deployment",
            "resource.not_found",
        ));
    });
    let Err(error) = client(&server).stream_logs("dep_gone").await else {
        panic!("the open succeeded against a 404");
    };
    missing.assert();
    assert_eq!(error.kind(), ErrorKind::NotFound);
    assert_eq!(error.code(), Some("resource.not_found"));
}
