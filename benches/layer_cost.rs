//! What a call costs the client as users run it: the SDK against plain
//! reqwest, on tokio's default multi-thread runtime, against a server in
//! another process.
//!
//! Peers: raw reqwest (no deadline) | the SDK | raw reqwest with a 30 s
//! deadline per request (the SDK's default timeout, which every SDK call
//! has). Rows: the 128-byte `SystemStatus` and the ~26 kB `ServiceList`,
//! each with 1 and with 32 calls in flight. For each row the peers take
//! turns in rounds of the same number of calls (about 0.4 s each); a figure
//! is the median over the rounds of the client process's CPU time per call
//! (`getrusage`, user + system, all threads), with its context switches per
//! call and its calls per second beside it.
//!
//! Run with `cargo bench --bench layer_cost`. Options (after `--`):
//! `--rounds N` (default 15); `--quick` (or `LAYER_COST_QUICK=1`, and
//! whenever the binary is run without cargo bench's `--bench`, as by
//! `cargo test --benches`): 3 short rounds, to check that it runs;
//! `--experiments`: more peers, to see where the deadline's cost comes from.

#[path = "layer_cost/measure.rs"]
mod measure;
#[path = "layer_cost/peers.rs"]
mod peers;
#[path = "layer_cost/server.rs"]
mod server;

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{load_note, print_table, Spread};
use measure::Sample;
use peers::{Answer, Call, Peer};

/// The deadline of the third peer: `dployr::DEFAULT_TIMEOUT`, 30 s.
const DEADLINE: Duration = dployr::DEFAULT_TIMEOUT;
/// Calls in flight in the concurrent rows.
const IN_FLIGHT: usize = 32;
const ROUNDS: usize = 15;
/// How long one peer's round should last.
const ROUND_TIME: Duration = Duration::from_millis(400);

struct Options {
    rounds: usize,
    round_time: Duration,
    experiments: bool,
}

impl Options {
    fn parse() -> Options {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let has = |flag: &str| args.iter().any(|arg| arg == flag);
        let quick = has("--quick")
            || std::env::var_os("LAYER_COST_QUICK").is_some_and(|v| v != "0")
            || !has("--bench");
        let rounds = args.iter().position(|arg| arg == "--rounds").map(|at| {
            args.get(at + 1)
                .and_then(|n| n.parse().ok())
                .filter(|&n| n > 0)
                .expect("--rounds takes a positive number")
        });
        Options {
            rounds: rounds.unwrap_or(if quick { 3 } else { ROUNDS }),
            round_time: if quick {
                Duration::from_millis(20)
            } else {
                ROUND_TIME
            },
            experiments: has("--experiments"),
        }
    }
}

fn main() {
    if server::is_child() {
        server::serve();
        return;
    }
    let options = Options::parse();
    let load_at_start = load_note();
    let server = server::Server::start();
    let base_url: Arc<str> = format!("http://{}", server.addr()).into();
    // What `#[tokio::main]` builds.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a multi-thread runtime");

    let peers = peers(&base_url, options.experiments);
    // Every peer gets the right answers, and every pool holds `IN_FLIGHT`
    // open connections, before anything is timed.
    for answer in [Answer::Status, Answer::Services] {
        for peer in &peers {
            peers::drive(&runtime, peer, answer, 1, 1);
            peers::drive(&runtime, peer, answer, IN_FLIGHT * 4, IN_FLIGHT);
        }
    }

    let workloads = [
        (Answer::Status, 1),
        (Answer::Status, IN_FLIGHT),
        (Answer::Services, 1),
        (Answer::Services, IN_FLIGHT),
    ];
    let (status_len, services_len) = (server::system_status().len(), server::service_list().len());
    println!(
        "layer_cost: client CPU per call (getrusage, user + sys, all threads), server in a child \
         process, multi-thread runtime; medians of {} rounds, peers alternating ({load_at_start})\n",
        options.rounds
    );
    let mut rows = Vec::new();
    for (answer, in_flight) in workloads {
        let label = match answer {
            Answer::Status => format!("{status_len} B, {in_flight} in flight"),
            Answer::Services => format!("{services_len} B, {in_flight} in flight"),
        };
        let calls = calls_per_round(&runtime, &peers[0], answer, in_flight, options.round_time);
        let samples = measure::rounds(options.rounds, peers.len(), |at| {
            measure::sample(calls, || {
                peers::drive(&runtime, &peers[at], answer, calls, in_flight)
            })
        });
        for (at, peer) in peers.iter().enumerate() {
            rows.push(row(&label, calls, peer.name, at, &samples));
        }
    }
    print_table(
        &[
            "answer, calls",
            "calls/round",
            "peer",
            "CPU µs/call",
            "/ raw (min–max)",
            "cs/call",
            "calls/s",
        ],
        &rows,
    );
    println!(
        "cs = context switches (voluntary + involuntary, all threads); `/ raw` is the median of \
         each round's ratio to raw reqwest in that round; {} at the end\n",
        load_note().replace(" at start", "")
    );
    drop(server);
}

/// The peers, raw reqwest first: the others are compared with it.
fn peers(base_url: &Arc<str>, experiments: bool) -> Vec<Peer> {
    let raw = |deadline| Call::Raw {
        // A pool of its own for each peer.
        http: reqwest::Client::new(),
        base_url: Arc::clone(base_url),
        deadline,
    };
    let sdk = |timeout: Option<Duration>| {
        let mut builder = dployr::Client::builder(&**base_url).access_token(peers::TOKEN);
        if let Some(timeout) = timeout {
            builder = builder.timeout(timeout);
        }
        Call::Sdk(builder.build().expect("a client for a loopback URL"))
    };
    let peer = |name, call, nearer_timer| Peer {
        name,
        call,
        nearer_timer,
    };
    let mut peers = vec![
        peer("raw reqwest", raw(None), false),
        peer("SDK", sdk(None), false),
        peer("raw + 30 s deadline", raw(Some(DEADLINE)), false),
    ];
    if experiments {
        // A deadline so far off that it should never be the runtime's
        // nearest timer, and a nearer timer kept pending by another task:
        // does a call's deadline cost because it is the nearest one?
        const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);
        peers.extend([
            peer("SDK, timeout 1 year", sdk(Some(YEAR)), false),
            peer("raw + 1 year deadline", raw(Some(YEAR)), false),
            peer("SDK, nearer timer pending", sdk(None), true),
            peer(
                "raw + 30 s, nearer timer pending",
                raw(Some(DEADLINE)),
                true,
            ),
            peer("raw, nearer timer pending", raw(None), true),
        ]);
    }
    peers
}

/// How many calls make a round of about `round_time` for `peer`, rounded up
/// to a multiple of `IN_FLIGHT` so every task has as many calls.
fn calls_per_round(
    runtime: &tokio::runtime::Runtime,
    peer: &Peer,
    answer: Answer,
    in_flight: usize,
    round_time: Duration,
) -> usize {
    let probe = (round_time / 4).min(Duration::from_millis(100));
    let mut calls = IN_FLIGHT;
    loop {
        let start = Instant::now();
        peers::drive(runtime, peer, answer, calls, in_flight);
        let took = start.elapsed();
        if took >= probe {
            let wanted = calls as f64 * round_time.as_secs_f64() / took.as_secs_f64();
            return (wanted / IN_FLIGHT as f64).ceil() as usize * IN_FLIGHT;
        }
        calls *= 2;
    }
}

/// One table row: the median of `peer`'s rounds, and of its ratios to raw
/// reqwest (peer 0) round by round.
fn row(label: &str, calls: usize, name: &str, at: usize, samples: &[Vec<Sample>]) -> Vec<String> {
    let median = |f: &dyn Fn(&Sample) -> f64| Spread::of(samples.iter().map(|r| f(&r[at]))).median;
    let ratio = Spread::of(
        samples
            .iter()
            .map(|r| r[at].cpu_us_per_call() / r[0].cpu_us_per_call()),
    );
    vec![
        label.to_string(),
        calls.to_string(),
        name.to_string(),
        format!("{:.1}", median(&Sample::cpu_us_per_call)),
        if at == 0 {
            String::new()
        } else {
            ratio.show(2, "x")
        },
        format!("{:.2}", median(&Sample::switches_per_call)),
        format!("{:.0}", median(&Sample::calls_per_second)),
    ]
}
