//! Servers that break HTTP in the ways real networks and broken proxies do:
//! bodies cut short, lying `Content-Length`, non-HTTP bytes, enormous or
//! mislabelled bodies, streams that drip or drop. Every case must end in a
//! typed `dployr::Error` or the right result, never a hang or a panic, so
//! each runs under a 20 s guard that fails the test if it fires.

#[path = "../support/mod.rs"]
mod support;

mod bodies;
mod connections;
mod log_streams;

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use dployr::types::ServiceList;
use dployr::{Client, Error, ErrorKind, LogEvent, Reconnect, RetryConfig};
use support::scripted::{json, response, send, sse_head, ScriptedServer, Step};

const DEPLOYMENT: &str = "01HN2K3M4N5P6Q7R8S9T0U1V2W";
const SERVICES: &str = r#"{"services":[{"id":"svc-1","name":"web"}],"total":1}"#;

async fn guarded<F: Future>(what: &str, call: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(20), call)
        .await
        .unwrap_or_else(|_| panic!("{what}: neither an answer nor an error after 20 s"))
}

// Retries off: each case is about what one answer turns into, and a retry
// would only replay the same script.
fn client(url: &str) -> Client {
    Client::builder(url)
        .access_token("access")
        .retry(RetryConfig::disabled())
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap()
}

async fn list(client: &Client) -> Result<ServiceList, Error> {
    guarded("list_services", client.list_services().send())
        .await
        .map(|page| page.into_inner())
}

/// Raw bytes for a response head; the caller decides what (if anything)
/// follows and whether the length it declares is true.
fn head(status: u16, headers: &[(&str, &str)]) -> String {
    let mut text = format!("HTTP/1.1 {status} X\r\n");
    for (k, v) in headers {
        text.push_str(&format!("{k}: {v}\r\n"));
    }
    text.push_str("\r\n");
    text
}

fn json_head(content_length: usize) -> String {
    head(
        200,
        &[
            ("content-type", "application/json"),
            ("connection", "close"),
            ("content-length", &content_length.to_string()),
        ],
    )
}

/// Reads one request head, or `None` when the client closed first.
async fn read_head(socket: &mut TcpStream) -> std::io::Result<Option<String>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(Some(String::from_utf8_lossy(&buf).into_owned()))
}

/// A server whose every connection runs `handler`, for the cases a fixed
/// script cannot express (a body generated on the fly, one byte per write).
async fn serve_with<F, Fut>(handler: F) -> (String, tokio::task::JoinHandle<()>)
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = std::io::Result<()>> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            // Without this, Nagle's algorithm would merge the one-byte writes
            // the drip test relies on.
            socket.set_nodelay(true).unwrap();
            // The handler's own I/O errors (a client that gave up) end only
            // its connection; the join handle is not needed.
            drop(tokio::spawn(handler(socket)));
        }
    });
    (url, task)
}

/// Every `Display` and `Debug` in the error's source chain, to check that the
/// real cause stays visible whatever kind the error was given.
fn chain(e: &Error) -> String {
    let mut text = format!("{e} {e:?}");
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&format!(" | {s} {s:?}"));
        source = s.source();
    }
    text
}

// The ordinary JSON helper, to show the scripted server is not the cause
// when one of the cases above fails.
#[tokio::test]
async fn a_well_formed_answer_still_decodes() {
    let server = ScriptedServer::start(vec![vec![json(200, SERVICES)]]).await;
    assert_eq!(list(&client(&server.url)).await.unwrap().total, 1);
}
