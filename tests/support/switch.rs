//! A keep-alive HTTP server whose answer the test switches while it runs:
//! every request gets `503` while it is down, else the next `fail_next`
//! requests get `503` and the rest `200` with an empty service list. It
//! counts what it answered, and numbers each answer's `X-Request-Id`.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Default)]
struct State {
    down: AtomicBool,
    fail_next: AtomicUsize,
    requests: AtomicUsize,
}

pub struct SwitchServer {
    pub url: String,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SwitchServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SwitchServer {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(State::default());
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(serve(socket, shared.clone()));
            }
        });
        SwitchServer { url, state, task }
    }

    /// Every request fails with 503 while `down` is true.
    pub fn set_down(&self, down: bool) {
        self.state.down.store(down, Ordering::SeqCst);
    }

    /// The next `n` requests fail with 503.
    pub fn fail_next(&self, n: usize) {
        self.state.fail_next.store(n, Ordering::SeqCst);
    }

    /// Requests answered so far.
    pub fn requests(&self) -> usize {
        self.state.requests.load(Ordering::SeqCst)
    }
}

async fn serve(mut socket: TcpStream, state: Arc<State>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        // One request head at a time; the client sends GETs without bodies.
        let end = loop {
            if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            match socket.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        buf.drain(..end);
        let n = state.requests.fetch_add(1, Ordering::SeqCst) + 1;
        let fail = state.down.load(Ordering::SeqCst)
            || state
                .fail_next
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                    left.checked_sub(1)
                })
                .is_ok();
        let (status, body) = if fail {
            (
                "503 Service Unavailable",
                r#"{"error":"the instance is restarting"}"#,
            )
        } else {
            ("200 OK", r#"{"services":[],"total":0}"#)
        };
        let reply = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\nx-request-id: req-{n}\r\n\
             content-length: {}\r\n\r\n{body}",
            body.len()
        );
        if socket.write_all(reply.as_bytes()).await.is_err() {
            return;
        }
    }
}
