//! What the SDK's layer (token, request checks, timeout, retry bookkeeping,
//! body limit, generated decoding) costs per call: `list_services` against a
//! plain reqwest GET that sends the same token and `Accept` header and
//! decodes the same bytes into the same `ServiceList`, sequentially and with
//! 32 calls in flight.
//!
//! Run with `cargo bench --bench layer_cost`; add `-- --profile sdk` (or
//! `plain`) to run one client alone under a profiler.

mod common;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use dployr::types::ServiceList;
use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use common::{best_of_sliced, load_note, measure, print_table, Sample, RUNS};

const SERVICES: usize = 60;
const SEQUENTIAL_REQUESTS: usize = 2_000;
const CONCURRENT_REQUESTS: usize = 10_000;
/// Runs are made of slices of this many requests, the clients taking turns
/// (see `best_of_sliced`): tens of milliseconds each.
const SEQUENTIAL_SLICE: usize = 100;
/// Larger than the sequential slice because every slice ends with fewer
/// than `CONCURRENCY` calls in flight, a tail that costs both clients alike.
const CONCURRENT_SLICE: usize = 1_000;
const CONCURRENCY: usize = 32;
const TOKEN: &str = "t";

fn main() {
    let load = load_note();
    let body = service_list();
    let server = spawn_server(body.clone());
    let base_url = format!("http://{server}");
    // The client side runs on its own current-thread runtime, apart from
    // the server's, so the two sides never wait on one scheduler.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime");
    let sdk = Sdk(dployr::Client::builder(base_url.as_str())
        .access_token(TOKEN)
        .build()
        .expect("a client for a loopback URL"));
    let plain = Plain {
        http: reqwest::Client::new(),
        url: format!("{base_url}/services").into(),
    };
    // A second, identical plain client with its own pool: how far apart two
    // equal clients come out is the resolution of the SDK / plain ratio.
    let twin = Plain {
        http: reqwest::Client::new(),
        url: plain.url.clone(),
    };

    // Both decode the same answer to the same value, and both pools hold
    // `CONCURRENCY` open connections before anything is timed.
    let expected: ServiceList = serde_json::from_slice(&body).expect("a valid ServiceList");
    runtime.block_on(async {
        assert_eq!(sdk.call().await, expected.services.len());
        assert_eq!(plain.call().await, expected.services.len());
        concurrently(CONCURRENCY * 4, &sdk).await;
        concurrently(CONCURRENCY * 4, &plain).await;
        concurrently(CONCURRENCY * 4, &twin).await;
    });

    // `--profile sdk|plain [concurrent]`: one client alone, so that a
    // sampling profiler (`perf record`) attributes every sample to it.
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|arg| arg == "--profile") {
        let concurrent = args.get(at + 2).map(String::as_str) == Some("concurrent");
        let requests = RUNS
            * if concurrent {
                CONCURRENT_REQUESTS
            } else {
                SEQUENTIAL_REQUESTS
            };
        let (sample, ()) = match (args.get(at + 1).map(String::as_str), concurrent) {
            (Some("sdk"), false) => measure(|| runtime.block_on(sequentially(requests, &sdk))),
            (Some("sdk"), true) => measure(|| runtime.block_on(concurrently(requests, &sdk))),
            (Some("plain"), false) => measure(|| runtime.block_on(sequentially(requests, &plain))),
            (Some("plain"), true) => measure(|| runtime.block_on(concurrently(requests, &plain))),
            _ => panic!("--profile takes `sdk` or `plain`, then optionally `concurrent`"),
        };
        println!(
            "{requests} requests: {:.0} req/s, {:.1} µs of client CPU per request",
            requests as f64 / sample.wall.as_secs_f64(),
            sample.cpu.as_secs_f64() * 1e6 / requests as f64
        );
        return;
    }

    let sequential = best_of_sliced(
        RUNS,
        SEQUENTIAL_REQUESTS / SEQUENTIAL_SLICE,
        &mut [
            &mut || measure(|| runtime.block_on(sequentially(SEQUENTIAL_SLICE, &sdk))).0,
            &mut || measure(|| runtime.block_on(sequentially(SEQUENTIAL_SLICE, &plain))).0,
            &mut || measure(|| runtime.block_on(sequentially(SEQUENTIAL_SLICE, &twin))).0,
        ],
    );
    let concurrent = best_of_sliced(
        RUNS,
        CONCURRENT_REQUESTS / CONCURRENT_SLICE,
        &mut [
            &mut || measure(|| runtime.block_on(concurrently(CONCURRENT_SLICE, &sdk))).0,
            &mut || measure(|| runtime.block_on(concurrently(CONCURRENT_SLICE, &plain))).0,
            &mut || measure(|| runtime.block_on(concurrently(CONCURRENT_SLICE, &twin))).0,
        ],
    );

    println!(
        "layer_cost: GET /services answering {SERVICES} services ({:.1} kB of JSON) over \
         loopback, best of {RUNS} ({load})\n",
        body.len() as f64 / 1e3
    );
    let row = |mode: &str, requests: usize, best: &[Sample]| {
        let per_second = |sample: Sample| requests as f64 / sample.wall.as_secs_f64();
        let cpu_us = |sample: Sample| sample.cpu.as_secs_f64() * 1e6 / requests as f64;
        let (sdk, plain, twin) = (best[0], best[1], best[2]);
        vec![
            mode.to_string(),
            requests.to_string(),
            format!("{:.0}", per_second(sdk)),
            format!("{:.0}", per_second(plain)),
            format!("{:.3}x", per_second(sdk) / per_second(plain)),
            format!("{:.3}x", per_second(twin) / per_second(plain)),
            format!("{:.1}", cpu_us(sdk)),
            format!("{:.1}", cpu_us(plain)),
            format!("{:.3}x", cpu_us(plain) / cpu_us(sdk)),
        ]
    };
    print_table(
        &[
            "calls",
            "requests",
            "SDK req/s",
            "plain req/s",
            "SDK / plain",
            "plain twin / plain",
            "SDK client CPU µs/req",
            "plain client CPU µs/req",
            "SDK / plain by CPU",
        ],
        &[
            row("sequential", SEQUENTIAL_REQUESTS, &sequential),
            row(
                &format!("{CONCURRENCY} concurrent"),
                CONCURRENT_REQUESTS,
                &concurrent,
            ),
        ],
    );
    println!(
        "target: SDK / plain >= 0.95x in both; `plain twin / plain` compares two identical \
         plain clients, so its distance from 1 is the noise in these ratios"
    );
}

/// One way of making the call, cloned into each concurrent worker once.
trait Caller: Clone + Send + 'static {
    /// Makes the call and returns how many services came back.
    fn call(&self) -> impl Future<Output = usize> + Send;
}

#[derive(Clone)]
struct Sdk(dployr::Client);

impl Caller for Sdk {
    async fn call(&self) -> usize {
        let list = self
            .0
            .list_services()
            .send()
            .await
            .expect("the server answers")
            .into_inner();
        list.services.len()
    }
}

/// What an application would write without the SDK, given the same
/// obligations: authenticate, ask for JSON, reject error statuses, decode
/// into the typed list.
#[derive(Clone)]
struct Plain {
    http: reqwest::Client,
    url: Arc<str>,
}

impl Caller for Plain {
    async fn call(&self) -> usize {
        let response = self
            .http
            .get(&*self.url)
            .bearer_auth(TOKEN)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .expect("the server answers")
            .error_for_status()
            .expect("a 200");
        let bytes = response.bytes().await.expect("the body arrives");
        let list: ServiceList = serde_json::from_slice(&bytes).expect("a valid ServiceList");
        list.services.len()
    }
}

async fn sequentially(requests: usize, caller: &impl Caller) {
    for _ in 0..requests {
        assert_eq!(caller.call().await, SERVICES);
    }
}

/// `requests` calls made by `CONCURRENCY` tasks taking the next one from a
/// shared counter, so no task idles while others still have calls left.
async fn concurrently(requests: usize, caller: &impl Caller) {
    let next = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let next = Arc::clone(&next);
            let caller = caller.clone();
            tokio::spawn(async move {
                while next.fetch_add(1, Ordering::Relaxed) < requests {
                    assert_eq!(caller.call().await, SERVICES);
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.expect("a worker failed");
    }
}

/// A `ServiceList` as an instance would send it: the fields a typical
/// service has set, values varied from service to service, about 26 kB.
fn service_list() -> Vec<u8> {
    const RUNTIMES: [(&str, &str); 4] = [
        ("nodejs", "20.11.1"),
        ("python", "3.12.2"),
        ("golang", "1.22.1"),
        ("ruby", "3.3.0"),
    ];
    let services: Vec<_> = (0..SERVICES)
        .map(|n| {
            let (runtime, version) = RUNTIMES[n % RUNTIMES.len()];
            let name = format!("service-{n:02}");
            json!({
                "id": format!("01HN2K3M4N5P6Q7R8S9T0U{n:04}"),
                "name": name,
                "source": if n % 5 == 0 { "image" } else { "remote" },
                "runtime": runtime,
                "runtime_version": version,
                "run_cmd": "npm start",
                "build_cmd": "npm run build",
                "port": 3000 + n,
                "working_dir": format!("/srv/{name}"),
                "env_vars": { "NODE_ENV": "production" },
                "status": if n % 7 == 0 { "stopped" } else { "running" },
                "remote": format!("https://github.com/example-org/{name}.git"),
                "branch": "main",
                "commit_hash": format!("{:012x}", 0x9e37_79b9_7f4a_u64.wrapping_mul(n as u64 + 1) & 0xffff_ffff_ffff),
                "created_at": format!("2024-01-{:02}T12:00:00Z", n % 28 + 1),
                "updated_at": format!("2024-02-{:02}T08:30:15Z", n % 28 + 1),
            })
        })
        .collect();
    serde_json::to_vec(&json!({ "services": services, "total": SERVICES }))
        .expect("JSON values serialize")
}

/// Starts a keep-alive HTTP/1.1 server on an ephemeral loopback port, on its
/// own thread and current-thread runtime, answering every request with
/// `body` as JSON. It does only what the benchmark needs (no request bodies,
/// no chunked encoding), so that its cost per request stays small and equal
/// for both clients.
fn spawn_server(body: Vec<u8>) -> SocketAddr {
    let mut response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    response.extend_from_slice(&body);
    let response: &'static [u8] = Vec::leak(response);

    common::spawn_loopback_server(move |socket| serve(socket, response))
}

async fn serve(mut socket: TcpStream, response: &'static [u8]) -> std::io::Result<()> {
    socket.set_nodelay(true)?;
    let mut input = Vec::with_capacity(4096);
    loop {
        // A request without a body ends at its blank line; answer each one
        // as soon as it is complete.
        while let Some(end) = memchr::memmem::find(&input, b"\r\n\r\n") {
            input.drain(..end + 4);
            socket.write_all(response).await?;
        }
        if socket.read_buf(&mut input).await? == 0 {
            return Ok(());
        }
    }
}
