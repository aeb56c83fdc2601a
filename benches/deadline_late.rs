//! How late a call's deadline fires, as users run the SDK: tokio's default
//! multi-thread runtime, the server in another process (`layer_cost`'s,
//! whose `GET /system/info` is never answered).
//!
//! A call that ends in time registers no timer; one still pending after a
//! first interval is armed by its client's sweeper and then gets a timer
//! for its exact deadline (see the crate's `deadline` module). So a deadline
//! should fire no earlier than it is due and, on a quiet machine, within a
//! millisecond or two after, whether or not 32 other calls are in flight.
//! Rows: a deadline short enough to get its timer at once (300 ms) and two
//! that go through the sweeper (1 s, 2 s), each alone and beside 32 calls in
//! flight that end in time.
//!
//! Run with `cargo bench --bench deadline_late`. Options (after `--`):
//! `--calls N` (default 10 per row); `--quick` (and whenever the binary is
//! run without cargo bench's `--bench`, as by `cargo test --benches`): one
//! call per row, to check that it runs.

#[path = "layer_cost/server.rs"]
mod server;

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{load_note, print_table};
use dployr::{Client, ErrorKind, RetryConfig};

/// Calls in flight beside the timed one, in the loaded rows.
const IN_FLIGHT: usize = 32;
const DEADLINES: [Duration; 3] = [
    Duration::from_millis(300),
    Duration::from_secs(1),
    Duration::from_secs(2),
];

fn main() {
    if server::is_child() {
        server::serve();
        return;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick") || !args.iter().any(|a| a == "--bench");
    let calls = args
        .iter()
        .position(|a| a == "--calls")
        .and_then(|at| args.get(at + 1)?.parse().ok())
        .filter(|&n: &usize| n > 0)
        .unwrap_or(if quick { 1 } else { 10 });
    let load_at_start = load_note();
    let server = server::Server::start();
    let url = format!("http://{}", server.addr());
    // What `#[tokio::main]` builds.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a multi-thread runtime");
    let client = Client::builder(&url)
        .access_token("bench")
        .retry(RetryConfig::disabled())
        .build()
        .expect("a client for the bench's server");

    println!(
        "deadline_late: how long after its deadline a call to a server that never answers \
         fails, multi-thread runtime, server in a child process; {calls} calls per row \
         ({load_at_start})\n"
    );
    let mut rows = Vec::new();
    for others in [0, IN_FLIGHT] {
        for deadline in DEADLINES {
            let lates = runtime.block_on(time_deadlines(&client, deadline, others, calls));
            rows.push(row(deadline, others, &lates));
        }
    }
    print_table(
        &[
            "deadline",
            "others in flight (calls they made)",
            "late: median",
            "late: max",
            "failed early",
        ],
        &rows,
    );
}

/// How long after `deadline` each of `calls` silent calls failed (negative
/// when one failed early), with `others` calls in flight beside them all the
/// while, and how many calls those made.
async fn time_deadlines(
    client: &Client,
    deadline: Duration,
    others: usize,
    calls: usize,
) -> (Vec<f64>, u64) {
    let over = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicU64::new(0));
    let load: Vec<_> = (0..others)
        .map(|_| {
            let (client, over, answered) = (client.clone(), over.clone(), answered.clone());
            tokio::spawn(async move {
                while !over.load(Ordering::Relaxed) {
                    client
                        .get_system_status()
                        .send()
                        .await
                        .expect("the loading calls end in time");
                    answered.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let mut lates = Vec::with_capacity(calls);
    for _ in 0..calls {
        let started = Instant::now();
        let error = client
            .with_timeout(deadline)
            .get_system_info()
            .send()
            .await
            .expect_err("the server never answers /system/info");
        let took = started.elapsed();
        assert_eq!(error.kind(), ErrorKind::Timeout, "{error}");
        lates.push((took.as_secs_f64() - deadline.as_secs_f64()) * 1e3);
    }
    over.store(true, Ordering::Relaxed);
    for task in load {
        task.await.expect("a loading task");
    }
    (lates, answered.load(Ordering::Relaxed))
}

fn row(deadline: Duration, others: usize, (lates, answered): &(Vec<f64>, u64)) -> Vec<String> {
    let mut sorted = lates.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    let max = sorted[sorted.len() - 1];
    let early = lates.iter().filter(|late| **late < 0.0).count();
    let load = if others == 0 {
        "0".to_string()
    } else {
        format!("{others} ({answered})")
    };
    vec![
        format!("{} ms", deadline.as_millis()),
        load,
        format!("{median:.2} ms"),
        format!("{max:.2} ms"),
        early.to_string(),
    ]
}
