//! What the SDK's layer (token, request checks, timeout, retry bookkeeping,
//! body limit, generated decoding, tracing) costs per call.
//!
//! 1. End to end: `get_system_status` (a 128-byte answer) and `list_services`
//!    (a 26.6 kB one) against a plain reqwest GET that sends the same token
//!    and `Accept` header and decodes the same bytes into the same type,
//!    sequentially and with 32 calls in flight. Beside it run an identical
//!    plain client (the noise) and a plain client with the SDK's deadline.
//!    The clients take turns in interleaved rounds; each figure is the
//!    median of the rounds, with their smallest and largest.
//! 2. Where the difference goes: each piece of the layer timed on its own,
//!    in nanoseconds per call (see `dployr::layer_probe`).
//!
//! Run with `cargo bench --bench layer_cost`; `-- --rounds N` changes the
//! number of rounds (default 11); `-- --breakdown` prints only part 2;
//! `-- --profile sdk|plain [concurrent] [status]` runs one client alone
//! under a profiler.

mod common;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use dployr::types::{ServiceList, SystemStatus};
use reqwest::header::ACCEPT;
use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::runtime::Runtime;

use common::{load_note, measure, print_table, rounds_sliced, Sample, Spread};

const SERVICES: usize = 60;
/// The `services.total` of the status answer.
const STATUS_TOTAL: usize = 12;
const CONCURRENCY: usize = 32;
/// Rounds per measurement, unless `--rounds` says otherwise.
const ROUNDS: usize = 11;
/// A token of the length an instance issues (a JWT of about 250 bytes), so
/// that copying and validating it costs what it costs in use.
const TOKEN: &str = concat!(
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.",
    "eyJzdWIiOiJ1c2VyXzAxSE4ySzNNNE41UDZRN1I4UzlUMFUxVjJXIiwicm9sZSI6Im9wZXJhdG9yIiwiaW5zdGFuY2Ui",
    "OiJpbnN0XzAxSE4ySzNNNE41UDZRN1I4UzlUMFUxVjJXIiwiZXhwIjo0MTAyNDQ0ODAwfQ.",
    "c2lnbmF0dXJlLW9mLWV4YWN0bHktdGhpcnR5LXR3by1ieXRlcw"
);

/// One of the two answers the server gives.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Answer {
    /// `GET /services`: 60 services, 26.6 kB.
    Services,
    /// `GET /system/status`: 128 bytes.
    Status,
}

impl Answer {
    fn path(self) -> &'static str {
        match self {
            Answer::Services => "/services",
            Answer::Status => "/system/status",
        }
    }

    /// What a call returns when the answer decoded as it should.
    fn expected(self) -> usize {
        match self {
            Answer::Services => SERVICES,
            Answer::Status => STATUS_TOTAL,
        }
    }
}

/// How many requests one measurement makes: `slices` turns of `slice`
/// requests per client and round. Turns of tens of milliseconds spread the
/// load from elsewhere on the machine over all clients alike.
struct Plan {
    mode: &'static str,
    concurrent: bool,
    slice: usize,
    slices: usize,
}

fn plans(answer: Answer) -> [Plan; 2] {
    // A small answer takes several times less than a large one, so its
    // slices are larger to last about as long.
    let scale = match answer {
        Answer::Services => 1,
        Answer::Status => 4,
    };
    [
        Plan {
            mode: "sequential",
            concurrent: false,
            slice: 100 * scale,
            slices: 10,
        },
        Plan {
            mode: "32 in flight",
            concurrent: true,
            // Larger than the sequential slice because every slice ends with
            // fewer than `CONCURRENCY` calls in flight, a tail that costs
            // both clients alike.
            slice: 500 * scale,
            slices: 5,
        },
    ]
}

fn main() {
    let load = load_note();
    let args: Vec<String> = std::env::args().collect();
    let rounds = args
        .iter()
        .position(|arg| arg == "--rounds")
        .and_then(|at| args.get(at + 1)?.parse().ok())
        .unwrap_or(ROUNDS);

    let services = service_list();
    let status = system_status();
    let server = spawn_server(services.clone(), status.clone());
    let base_url = format!("http://{server}");
    // The client side runs on its own current-thread runtime, apart from
    // the server's, so the two sides never wait on one scheduler.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime");
    let client = dployr::Client::builder(base_url.as_str())
        .access_token(TOKEN)
        .build()
        .expect("a client for a loopback URL");
    // Two pools, each shared by the callers of both answers, as an
    // application would share one client.
    let http = reqwest::Client::new();
    let twin_http = reqwest::Client::new();
    // Plain reqwest with the deadline every SDK call has, which plain calls
    // lack: the part of the difference that is reqwest's own cost of a
    // timeout.
    let timed_http = reqwest::Client::builder()
        .timeout(dployr::DEFAULT_TIMEOUT)
        .build()
        .expect("a reqwest client");
    let callers = |answer: Answer| {
        let url: Arc<str> = format!("{base_url}{}", answer.path()).into();
        let sdk = Sdk {
            client: client.clone(),
            answer,
        };
        let plain = Plain {
            http: http.clone(),
            url: url.clone(),
            answer,
        };
        // A second, identical plain client with its own pool: how far apart
        // two equal clients come out is the resolution of the SDK / plain
        // ratio.
        let twin = Plain {
            http: twin_http.clone(),
            url: url.clone(),
            answer,
        };
        let timed = Plain {
            http: timed_http.clone(),
            url,
            answer,
        };
        (sdk, plain, twin, timed)
    };

    // Both decode the same answers to the same values, and every pool holds
    // `CONCURRENCY` open connections before anything is timed.
    serde_json::from_slice::<ServiceList>(&services).expect("a valid ServiceList");
    serde_json::from_slice::<SystemStatus>(&status).expect("a valid SystemStatus");
    for answer in [Answer::Services, Answer::Status] {
        let (sdk, plain, twin, timed) = callers(answer);
        runtime.block_on(async {
            assert_eq!(sdk.call().await, answer.expected());
            assert_eq!(plain.call().await, answer.expected());
            concurrently(CONCURRENCY * 4, &sdk).await;
            concurrently(CONCURRENCY * 4, &plain).await;
            concurrently(CONCURRENCY * 4, &twin).await;
            concurrently(CONCURRENCY * 4, &timed).await;
        });
    }

    if let Some(at) = args.iter().position(|arg| arg == "--profile") {
        profile(&runtime, &args[at + 1..], callers);
        return;
    }

    println!(
        "layer_cost: SDK against plain reqwest + serde_json over loopback, {rounds} \
         interleaved rounds, medians (min–max) ({load})\n"
    );
    for (answer, body) in [(Answer::Status, &status), (Answer::Services, &services)] {
        let (sdk, plain, twin, timed) = callers(answer);
        let rows: Vec<Vec<String>> = plans(answer)
            .iter()
            .map(|plan| {
                let slice = plan.slice;
                let samples = if plan.concurrent {
                    rounds_sliced(
                        rounds,
                        plan.slices,
                        &mut [
                            &mut || measure(|| runtime.block_on(concurrently(slice, &sdk))).0,
                            &mut || measure(|| runtime.block_on(concurrently(slice, &plain))).0,
                            &mut || measure(|| runtime.block_on(concurrently(slice, &twin))).0,
                            &mut || measure(|| runtime.block_on(concurrently(slice, &timed))).0,
                        ],
                    )
                } else {
                    rounds_sliced(
                        rounds,
                        plan.slices,
                        &mut [
                            &mut || measure(|| runtime.block_on(sequentially(slice, &sdk))).0,
                            &mut || measure(|| runtime.block_on(sequentially(slice, &plain))).0,
                            &mut || measure(|| runtime.block_on(sequentially(slice, &twin))).0,
                            &mut || measure(|| runtime.block_on(sequentially(slice, &timed))).0,
                        ],
                    )
                };
                row(plan, &samples)
            })
            .collect();
        println!("GET {} ({} bytes of JSON)\n", answer.path(), body.len());
        print_table(
            &[
                "calls",
                "requests per round",
                "SDK req/s",
                "plain req/s",
                "SDK / plain",
                "plain twin / plain",
                "SDK / plain with deadline",
                "SDK CPU µs/call",
                "plain CPU µs/call",
                "SDK / plain by CPU",
                "SDK overhead, CPU µs/call",
            ],
            &rows,
        );
    }
    println!(
        "target: SDK / plain >= 0.95x for the small answer, >= 0.97x for the large one; \
         `plain twin / plain` compares two identical plain clients, so its distance from 1 \
         is the noise in these ratios; `with deadline` is plain reqwest with the SDK's \
         default 30 s timeout, which the SDK always sets\n"
    );
}

/// One table row: the figures of every round, as medians with their spread.
fn row(plan: &Plan, samples: &[Vec<Sample>]) -> Vec<String> {
    let requests = plan.slice * plan.slices;
    let per_second = |s: Sample| requests as f64 / s.wall.as_secs_f64();
    let cpu_us = |s: Sample| s.cpu.as_secs_f64() * 1e6 / requests as f64;
    let spread = |f: &dyn Fn(&[Sample]) -> f64| Spread::of(samples.iter().map(|r| f(r)));
    vec![
        plan.mode.to_string(),
        requests.to_string(),
        format!("{:.0}", spread(&|r| per_second(r[0])).median),
        format!("{:.0}", spread(&|r| per_second(r[1])).median),
        spread(&|r| per_second(r[0]) / per_second(r[1])).show(3, "x"),
        spread(&|r| per_second(r[2]) / per_second(r[1])).show(3, "x"),
        spread(&|r| per_second(r[0]) / per_second(r[3])).show(3, "x"),
        format!("{:.1}", spread(&|r| cpu_us(r[0])).median),
        format!("{:.1}", spread(&|r| cpu_us(r[1])).median),
        spread(&|r| cpu_us(r[1]) / cpu_us(r[0])).show(3, "x"),
        spread(&|r| cpu_us(r[0]) - cpu_us(r[1])).show(2, ""),
    ]
}

/// `--profile sdk|plain [concurrent] [status]`: one client alone, so that a
/// sampling profiler (`perf record`) attributes every sample to it.
fn profile(
    runtime: &Runtime,
    args: &[String],
    callers: impl Fn(Answer) -> (Sdk, Plain, Plain, Plain),
) {
    let has = |word: &str| args.iter().any(|arg| arg == word);
    let answer = if has("status") {
        Answer::Status
    } else {
        Answer::Services
    };
    let (sdk, plain, _, _) = callers(answer);
    let requests = match answer {
        Answer::Status => 200_000,
        Answer::Services => 20_000,
    };
    let (sample, ()) = match (args.first().map(String::as_str), has("concurrent")) {
        (Some("sdk"), false) => measure(|| runtime.block_on(sequentially(requests, &sdk))),
        (Some("sdk"), true) => measure(|| runtime.block_on(concurrently(requests, &sdk))),
        (Some("plain"), false) => measure(|| runtime.block_on(sequentially(requests, &plain))),
        (Some("plain"), true) => measure(|| runtime.block_on(concurrently(requests, &plain))),
        _ => panic!("--profile takes `sdk` or `plain`, then optionally `concurrent`, `status`"),
    };
    println!(
        "{requests} requests: {:.0} req/s, {:.2} µs of client CPU per request",
        requests as f64 / sample.wall.as_secs_f64(),
        sample.cpu.as_secs_f64() * 1e6 / requests as f64
    );
}

/// One way of making the call, cloned into each concurrent worker once.
trait Caller: Clone + Send + 'static {
    /// Which answer the call asks for.
    fn answer(&self) -> Answer;
    /// Makes the call and returns what `Answer::expected` checks.
    fn call(&self) -> impl Future<Output = usize> + Send;
}

#[derive(Clone)]
struct Sdk {
    client: dployr::Client,
    answer: Answer,
}

impl Caller for Sdk {
    fn answer(&self) -> Answer {
        self.answer
    }

    async fn call(&self) -> usize {
        match self.answer {
            Answer::Services => {
                let list = self.client.list_services().send().await;
                list.expect("the server answers")
                    .into_inner()
                    .services
                    .len()
            }
            Answer::Status => {
                let status = self.client.get_system_status().send().await;
                let total = status
                    .expect("the server answers")
                    .into_inner()
                    .services
                    .total;
                usize::try_from(total).expect("a count")
            }
        }
    }
}

/// What an application would write without the SDK, given the same
/// obligations: authenticate, ask for JSON, reject error statuses, decode
/// into the typed answer.
#[derive(Clone)]
struct Plain {
    http: reqwest::Client,
    url: Arc<str>,
    answer: Answer,
}

impl Caller for Plain {
    fn answer(&self) -> Answer {
        self.answer
    }

    async fn call(&self) -> usize {
        let response = self
            .http
            .get(&*self.url)
            .bearer_auth(TOKEN)
            .header(ACCEPT, "application/json")
            .send()
            .await
            .expect("the server answers")
            .error_for_status()
            .expect("a 200");
        let bytes = response.bytes().await.expect("the body arrives");
        match self.answer {
            Answer::Services => {
                let list: ServiceList = serde_json::from_slice(&bytes).expect("a ServiceList");
                list.services.len()
            }
            Answer::Status => {
                let status: SystemStatus = serde_json::from_slice(&bytes).expect("a SystemStatus");
                usize::try_from(status.services.total).expect("a count")
            }
        }
    }
}

async fn sequentially(requests: usize, caller: &impl Caller) {
    let expected = caller.answer().expected();
    for _ in 0..requests {
        assert_eq!(caller.call().await, expected);
    }
}

/// `requests` calls made by `CONCURRENCY` tasks taking the next one from a
/// shared counter, so no task idles while others still have calls left.
async fn concurrently(requests: usize, caller: &impl Caller) {
    let next = Arc::new(AtomicUsize::new(0));
    let expected = caller.answer().expected();
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let next = Arc::clone(&next);
            let caller = caller.clone();
            tokio::spawn(async move {
                while next.fetch_add(1, Ordering::Relaxed) < requests {
                    assert_eq!(caller.call().await, expected);
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

/// A `SystemStatus` as an instance sends it: 128 bytes.
fn system_status() -> Vec<u8> {
    let body = serde_json::to_vec(&json!({
        "status": "healthy",
        "uptime": "3h2m1s",
        "services": { "total": STATUS_TOTAL, "running": STATUS_TOTAL - 1, "stopped": 1 },
        "proxy": { "status": "running", "routes": STATUS_TOTAL },
    }))
    .expect("JSON values serialize");
    assert_eq!(body.len(), 128, "the small answer is 128 bytes");
    body
}

/// Starts a keep-alive HTTP/1.1 server on an ephemeral loopback port, on its
/// own thread and current-thread runtime, answering `GET /system/status`
/// with `status` and any other request with `services`, as JSON. It does
/// only what the benchmark needs (no request bodies, no chunked encoding),
/// so that its cost per request stays small and equal for both clients.
fn spawn_server(services: Vec<u8>, status: Vec<u8>) -> SocketAddr {
    let answer = |body: Vec<u8>| -> &'static [u8] {
        let mut response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        response.extend_from_slice(&body);
        Vec::leak(response)
    };
    let (services, status) = (answer(services), answer(status));
    common::spawn_loopback_server(move |socket| serve(socket, services, status))
}

async fn serve(
    mut socket: TcpStream,
    services: &'static [u8],
    status: &'static [u8],
) -> std::io::Result<()> {
    socket.set_nodelay(true)?;
    let mut input = Vec::with_capacity(4096);
    loop {
        // A request without a body ends at its blank line; answer each one
        // as soon as it is complete.
        while let Some(end) = memchr::memmem::find(&input, b"\r\n\r\n") {
            let response = if input.starts_with(b"GET /system/status ") {
                status
            } else {
                services
            };
            input.drain(..end + 4);
            socket.write_all(response).await?;
        }
        if socket.read_buf(&mut input).await? == 0 {
            return Ok(());
        }
    }
}
