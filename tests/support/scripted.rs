//! A deliberately misbehaving HTTP server on a plain TCP socket: each
//! connection follows a script (send bytes, wait, hang, close), so tests can
//! produce failures a well-behaved server never would.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One step of a connection's script.
#[derive(Clone, Debug)]
pub enum Step {
    /// Write these bytes.
    Send(Vec<u8>),
    /// Pause.
    Wait(Duration),
    /// Keep the connection open and silent until the client gives up.
    Hang,
}

/// What the server saw of one request.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub struct ScriptedServer {
    pub url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ScriptedServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ScriptedServer {
    /// Connection `n` (counting from 0) follows `scripts[n]`, or the last
    /// script once they run out. The connection closes after its script.
    pub async fn start(scripts: Vec<Vec<Step>>) -> Self {
        assert!(!scripts.is_empty());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::serve(listener, scripts)
    }

    pub fn serve(listener: TcpListener, scripts: Vec<Vec<Step>>) -> Self {
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let recorder = seen.clone();
        let task = tokio::spawn(async move {
            let mut n = 0;
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let script = scripts[n.min(scripts.len() - 1)].clone();
                n += 1;
                let recorder = recorder.clone();
                tokio::spawn(async move {
                    let _ = run(socket, script, recorder).await;
                });
            }
        });
        ScriptedServer { url, seen, task }
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub fn hits(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
}

async fn run(
    mut socket: TcpStream,
    script: Vec<Step>,
    recorder: Arc<Mutex<Vec<Seen>>>,
) -> std::io::Result<()> {
    if let Some(seen) = read_request(&mut socket).await? {
        recorder.lock().unwrap().push(seen);
    }
    for step in script {
        match step {
            Step::Send(bytes) => {
                socket.write_all(&bytes).await?;
                socket.flush().await?;
            }
            Step::Wait(d) => tokio::time::sleep(d).await,
            Step::Hang => {
                // Read until the client closes, never answering.
                let mut sink = [0u8; 1024];
                while socket.read(&mut sink).await? > 0 {}
                return Ok(());
            }
        }
    }
    socket.shutdown().await
}

async fn read_request(socket: &mut TcpStream) -> std::io::Result<Option<Seen>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let method = first.next().unwrap_or_default().to_string();
    let target = first.next().unwrap_or_default().to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok(Some(Seen {
        method,
        target,
        headers,
        body,
    }))
}

/// A complete response that closes the connection after it.
pub fn response(status: u16, headers: &[(&str, &str)], body: &str) -> Step {
    let mut text = format!(
        "HTTP/1.1 {status} X\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        text.push_str(&format!("{k}: {v}\r\n"));
    }
    text.push_str("\r\n");
    text.push_str(body);
    Step::Send(text.into_bytes())
}

/// A JSON response that closes the connection after it.
pub fn json(status: u16, body: &str) -> Step {
    response(status, &[("content-type", "application/json")], body)
}

/// The head of an event stream whose body lasts until the connection closes.
pub fn sse_head() -> Step {
    Step::Send(
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\nconnection: close\r\n\r\n"
            .to_vec(),
    )
}

pub fn send(text: &str) -> Step {
    Step::Send(text.as_bytes().to_vec())
}
