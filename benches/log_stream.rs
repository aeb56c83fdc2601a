//! A log stream end to end over loopback: how fast `Client::stream_logs`
//! delivers typed events compared with reqwest merely counting the same
//! bytes, and whether its peak memory stays flat as the stream grows.
//!
//! Run with `cargo bench --bench log_stream`. The memory figures come from
//! child processes (this binary re-run with `--child <MB>`), so that each
//! stream length is measured in a process that has seen nothing else.

mod common;

use std::io::Write as _;
use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use futures::StreamExt as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use common::{best_of, load_note, measure, print_table, Sample, RUNS};

const MB: usize = 1_000_000;
const THROUGHPUT_MB: usize = 20;
const MEMORY_MB: [usize; 2] = [20, 200];
const DATA_CHARS: usize = 80;
/// How much the server formats before each write: a socket-buffer's worth,
/// so it keeps the loopback busy without holding the stream in memory.
const WRITE_BATCH: usize = 64 << 10;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|arg| arg == "--child") {
        let mb = args
            .get(at + 1)
            .and_then(|mb| mb.parse().ok())
            .expect("--child takes a size in MB");
        child(mb);
        return;
    }
    throughput();
    peak_memory();
}

fn throughput() {
    let load = load_note();
    let server = spawn_server(THROUGHPUT_MB * MB);
    let url = format!("http://{server}");
    let runtime = client_runtime();
    let sdk = dployr::Client::builder(url.as_str())
        .access_token("t")
        .build()
        .expect("a client for a loopback URL");
    // The plain client requests the URL the SDK requests; the server sends
    // both the same bytes.
    let plain = reqwest::Client::new();
    let plain_url = format!("{url}/logs/stream?id=x&token=t");

    let body_bytes = runtime.block_on(count_bytes(&plain, &plain_url));
    let expected_lines = runtime.block_on(sdk_stream(&sdk)).lines;

    let best = best_of(
        RUNS,
        &mut [
            &mut || {
                let (sample, seen) = measure(|| runtime.block_on(sdk_stream(&sdk)));
                assert_eq!(seen.lines, expected_lines);
                sample
            },
            &mut || {
                let (sample, bytes) = measure(|| runtime.block_on(count_bytes(&plain, &plain_url)));
                assert_eq!(bytes, body_bytes);
                sample
            },
            &mut || {
                let (sample, events) =
                    measure(|| runtime.block_on(decode_bytes(&plain, &plain_url)));
                assert_eq!(events, expected_lines + 1);
                sample
            },
        ],
    );
    let events = expected_lines + 1;
    let row = |name: &str, sample: Sample| {
        vec![
            name.to_string(),
            format!("{:.1} ms", sample.wall.as_secs_f64() * 1e3),
            format!("{:.0}", mb_per_s(body_bytes, sample.wall)),
            format!("{:.0}", mb_per_s(body_bytes, sample.cpu)),
            format!("{:.0}", sample.cpu.as_nanos() as f64 / events as f64),
        ]
    };

    println!(
        "log_stream throughput: {:.1} MB of `id: <n>` + `data: <{DATA_CHARS} chars>` events \
         ({expected_lines} lines, then `done`) over loopback, best of {RUNS} ({load})\n",
        body_bytes as f64 / MB as f64,
    );
    print_table(
        &[
            "client",
            "best time",
            "MB/s",
            "MB/s of client CPU time",
            "client CPU ns/event",
        ],
        &[
            row("dployr `stream_logs`, typed events to Done", best[0]),
            row("reqwest `bytes_stream`, counting bytes", best[1]),
            row(
                "(reference) reqwest `bytes_stream` + `sse::Decoder`",
                best[2],
            ),
        ],
    );
    println!(
        "SDK / counting bytes: {:.2}x ({:.2}x by client CPU time); target: >= 0.8x\n",
        best[1].wall.as_secs_f64() / best[0].wall.as_secs_f64(),
        best[1].cpu.as_secs_f64() / best[0].cpu.as_secs_f64(),
    );
}

fn peak_memory() {
    let exe = std::env::current_exe().expect("the path of this benchmark");
    let peaks: Vec<(usize, u64)> = MEMORY_MB
        .iter()
        .map(|&mb| {
            let output = Command::new(&exe)
                .args(["--child", &mb.to_string()])
                .output()
                .expect("the benchmark re-run as a child");
            let stdout = String::from_utf8_lossy(&output.stdout);
            assert!(
                output.status.success(),
                "child for {mb} MB failed: {stdout}{}",
                String::from_utf8_lossy(&output.stderr)
            );
            let kib = stdout
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM_kB="))
                .and_then(|kib| kib.trim().parse().ok())
                .unwrap_or_else(|| panic!("child for {mb} MB printed no VmHWM: {stdout}"));
            (mb, kib)
        })
        .collect();

    println!("log_stream peak memory (VmHWM of a process that streams once, server included)\n");
    let rows: Vec<Vec<String>> = peaks
        .iter()
        .map(|(mb, kib)| {
            vec![
                format!("{mb} MB"),
                format!("{kib} kB"),
                format!("{:.1} MB", *kib as f64 * 1024.0 / MB as f64),
            ]
        })
        .collect();
    print_table(&["stream", "VmHWM", "VmHWM (MB)"], &rows);
    let (small, large) = (peaks[0].1 as f64, peaks[1].1 as f64);
    println!(
        "difference {} MB -> {} MB: {:+.2} MB (target: within 2 MB)",
        peaks[0].0,
        peaks[1].0,
        (large - small) * 1024.0 / MB as f64
    );
}

/// One SDK stream of `mb` megabytes, then this process's peak resident size.
fn child(mb: usize) {
    let server = spawn_server(mb * MB);
    let sdk = dployr::Client::builder(format!("http://{server}"))
        .access_token("t")
        .build()
        .expect("a client for a loopback URL");
    let seen = client_runtime().block_on(sdk_stream(&sdk));
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kib = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .expect("a VmHWM line in /proc/self/status");
    let mut out = std::io::stdout().lock();
    writeln!(out, "lines={} data_bytes={}", seen.lines, seen.data_bytes).ok();
    writeln!(out, "VmHWM_kB={kib}").ok();
}

/// The client side runs on its own current-thread runtime, apart from the
/// server's, as an application's would be.
fn client_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime")
}

struct Seen {
    lines: usize,
    data_bytes: usize,
}

async fn sdk_stream(client: &dployr::Client) -> Seen {
    let mut logs = client.stream_logs("x").await.expect("the stream opens");
    let mut seen = Seen {
        lines: 0,
        data_bytes: 0,
    };
    let mut done = false;
    while let Some(event) = logs.next().await {
        match event.expect("the stream is well formed") {
            dployr::LogEvent::Line(line) => {
                seen.lines += 1;
                seen.data_bytes += line.len();
            }
            dployr::LogEvent::Done(_) => done = true,
            other => panic!("unexpected event {other:?}"),
        }
    }
    assert!(done, "the stream ended without `done`");
    seen
}

/// Opens the event stream with plain reqwest and returns its body chunks.
async fn open_body(
    client: &reqwest::Client,
    url: &str,
) -> impl futures::Stream<Item = reqwest::Result<bytes::Bytes>> {
    let response = client
        .get(url)
        .header("accept", "text/event-stream")
        .send()
        .await
        .expect("the stream opens");
    assert!(response.status().is_success());
    response.bytes_stream()
}

async fn count_bytes(client: &reqwest::Client, url: &str) -> usize {
    let mut body = std::pin::pin!(open_body(client, url).await);
    let mut bytes = 0;
    while let Some(chunk) = body.next().await {
        bytes += chunk.expect("the body arrives").len();
    }
    bytes
}

/// The decoder fed straight from reqwest, without `LogStream` around it:
/// the gap between this and `stream_logs` is what the stream layer costs.
async fn decode_bytes(client: &reqwest::Client, url: &str) -> usize {
    let mut body = std::pin::pin!(open_body(client, url).await);
    let mut decoder = dployr::sse::Decoder::new();
    let mut events = 0;
    while let Some(chunk) = body.next().await {
        decoder.push_bytes(chunk.expect("the body arrives"));
        while let Some(event) = decoder.next_event() {
            std::hint::black_box(event.expect("the stream is well formed"));
            events += 1;
        }
    }
    events
}

fn mb_per_s(bytes: usize, time: Duration) -> f64 {
    bytes as f64 / MB as f64 / time.as_secs_f64()
}

/// Starts an SSE server on an ephemeral loopback port, on its own thread and
/// current-thread runtime so that it never competes with the client for a
/// runtime. Every request gets `body_bytes` (rounded up to a whole event) of
/// log events, then `done`, then the connection closes.
fn spawn_server(body_bytes: usize) -> SocketAddr {
    common::spawn_loopback_server(move |socket| serve_events(socket, body_bytes))
}

async fn serve_events(mut socket: TcpStream, body_bytes: usize) -> std::io::Result<()> {
    socket.set_nodelay(true)?;
    // The request is read in full first: closing a socket with unread input
    // makes the kernel reset the connection, which could cut off the body.
    let mut request = Vec::new();
    while memchr::memmem::find(&request, b"\r\n\r\n").is_none() {
        if socket.read_buf(&mut request).await? == 0 {
            return Ok(());
        }
    }
    socket
        .write_all(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\
              cache-control: no-cache\r\nconnection: close\r\n\r\n",
        )
        .await?;

    let data = format!(
        "{:.<DATA_CHARS$}",
        "12:00:00.000 INFO build: compiling module handlers::routes::v2 (release) "
    );
    // Events are formatted batch by batch so that a 200 MB stream costs the
    // server no more memory than a 20 MB one: the memory figures then show
    // the client alone growing, if anything does.
    let mut batch = Vec::with_capacity(WRITE_BATCH + 256);
    let mut written = 0;
    let mut id: u64 = 0;
    while written < body_bytes {
        while batch.len() < WRITE_BATCH && written + batch.len() < body_bytes {
            id += 1;
            push_event(&mut batch, id, data.as_bytes());
        }
        socket.write_all(&batch).await?;
        written += batch.len();
        batch.clear();
    }
    socket.write_all(b"event: done\ndata: ok\n\n").await?;
    socket.shutdown().await?;
    Ok(())
}

/// Appends `id: <id>\ndata: <data>\n\n`. Formatted by hand: with `write!`
/// the server could not keep up with a client that only counts bytes (about
/// 770 MB/s against 1,700 with this), so the comparison measured the server.
fn push_event(batch: &mut Vec<u8>, id: u64, data: &[u8]) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    let mut rest = id;
    loop {
        start -= 1;
        digits[start] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    batch.extend_from_slice(b"id: ");
    batch.extend_from_slice(&digits[start..]);
    batch.extend_from_slice(b"\ndata: ");
    batch.extend_from_slice(data);
    batch.extend_from_slice(b"\n\n");
}
