//! Part 2 of `layer_cost`: each piece of the layer timed on its own, in
//! nanoseconds per `get_system_status` call. A piece costs a few hundred
//! nanoseconds at most, below the noise of the end-to-end figures, so each
//! is timed in a loop; the crate's own pieces through `dployr::layer_probe`,
//! the others reproduced as reqwest, progenitor and the generated code do
//! them.

use std::future::Future;
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

use dployr::layer_probe::{self as probe, Op};
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, CONTENT_LENGTH, CONTENT_TYPE};
use reqwest::ResponseBuilderExt as _;
use tokio::runtime::Runtime;

use super::common::{print_table, Spread};
use super::{system_status, TOKEN};

/// Each piece of the layer on its own, in nanoseconds per call.
pub fn breakdown(runtime: &Runtime, client: &dployr::Client, base_url: &str) {
    let op = Op::GET_SYSTEM_STATUS;
    // The request as the generated `get_system_status` builds it.
    let request = reqwest::Client::new()
        .get(format!("{base_url}/system/status"))
        .header(ACCEPT, "application/json")
        .header("api-version", "0.1.1")
        .build()
        .expect("a valid request");
    let copy = || request.try_clone().expect("a request without a body");
    // The same client with a refresher: the token's expiry now matters on
    // every call.
    let refreshing = dployr::Client::builder(base_url)
        .token_manager(
            dployr::TokenManager::new().with_refresher(|refresh: String| async move {
                Ok::<_, std::io::Error>(dployr::Tokens {
                    access: refresh,
                    refresh: None,
                })
            }),
        )
        .access_token(TOKEN)
        .refresh_token("refresh")
        .build()
        .expect("a client for a loopback URL");

    let wrapper = time_async(runtime, async || {
        probe::call_wrapper(op).await.expect("nothing fails");
    });
    // Prepare and the token work on a fresh request each time, as in use
    // (where setting the header and the deadline grows the request's maps),
    // so each is timed against copying and dropping the request alone.
    let fresh = time_async_pair(
        runtime,
        async || drop(std::hint::black_box(copy())),
        async || {
            let mut request = copy();
            probe::prepare(client, op, &mut request)
                .await
                .expect("valid input");
            drop(std::hint::black_box(request));
        },
    );
    let prepare = (fresh.1 - fresh.0).max(0.0);
    let token = {
        let (alone, with) = time_async_pair(
            runtime,
            async || drop(std::hint::black_box(copy())),
            async || {
                let mut request = copy();
                probe::authorize(client, op, &mut request)
                    .await
                    .expect("a token");
                drop(std::hint::black_box(request));
            },
        );
        (with - alone).max(0.0)
    };
    let token_jwt = {
        let (alone, with) = time_async_pair(
            runtime,
            async || drop(std::hint::black_box(copy())),
            async || {
                let mut request = copy();
                probe::authorize(&refreshing, op, &mut request)
                    .await
                    .expect("a token");
                drop(std::hint::black_box(request));
            },
        );
        (with - alone).max(0.0)
    };
    let mut prepared = copy();
    runtime
        .block_on(probe::prepare(client, op, &mut prepared))
        .expect("valid input");
    let checks = time_sync(|| assert!(probe::check_inputs(client, op, &prepared)));
    let spare = time_sync(|| assert!(probe::spare(client, op, &prepared)));
    // In use, the runtime's timer already knows of an earlier deadline (the
    // call's own, from when it last waited, or another call's) and a new
    // one does not wake it. Without that, every new deadline would write to
    // the runtime's wake-up descriptor, a system call in-use calls don't
    // make; this earlier deadline, seen once the runtime has slept, stands
    // in for it.
    let mut earlier = {
        let _context = runtime.enter();
        Box::pin(tokio::time::sleep(Duration::from_secs(20)))
    };
    runtime.block_on(async {
        let _ = earlier
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()));
        tokio::time::sleep(Duration::from_millis(2)).await;
    });
    let timer = time_async(runtime, async || {
        // reqwest's deadline for a request: a boxed `Sleep`, registered
        // with the runtime's timer when first polled, removed when dropped.
        let mut sleep = Box::pin(tokio::time::sleep(Duration::from_secs(30)));
        let _ = sleep.as_mut().poll(&mut Context::from_waker(Waker::noop()));
    });
    drop(earlier);

    let status = system_status();
    let url = request.url().clone();
    // An answer as reqwest hands it over: with its URL and a body of known
    // length.
    let answer = || {
        let response = http::Response::builder()
            .url(url.clone())
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .header(CONTENT_LENGTH, HeaderValue::from(status.len()))
            .body(reqwest::Body::from(status.clone()))
            .expect("a valid answer");
        reqwest::Response::from(response)
    };
    // Reading an answer as it comes and through the limit, in alternate
    // batches: the limit is the difference, smaller than either.
    let (read_plain, read_limited) = time_async_pair(
        runtime,
        async || {
            std::hint::black_box(answer().bytes().await.expect("a body"));
        },
        async || {
            let limited = probe::limit_body(client, answer());
            std::hint::black_box(limited.bytes().await.expect("a body"));
        },
    );
    let kept = answer();
    let headers = time_sync(|| drop(std::hint::black_box(kept.headers().clone())));
    let span = time_sync(|| {
        let span = tracing::Span::current();
        span.record("http.request.resend_count", 0);
    });

    // The request as the generated code builds it (its URL formatted, the
    // `api-version` header in a map of its own, merged in) against the
    // plain client's way.
    let built = {
        let http = reqwest::Client::new();
        let url = format!("{base_url}/system/status");
        time_async_pair(
            runtime,
            async || {
                let request = http.get(url.as_str()).header(ACCEPT, "application/json");
                drop(std::hint::black_box(request.build()));
            },
            async || {
                let url = format!("{base_url}{}", "/system/status");
                let mut headers = HeaderMap::with_capacity(1);
                headers.append("api-version", HeaderValue::from_static("0.1.1"));
                let request = http
                    .get(url)
                    .header(ACCEPT, HeaderValue::from_static("application/json"))
                    .headers(headers);
                drop(std::hint::black_box(request.build()));
            },
        )
    };

    let counted = [
        (
            "call: `dployr.request` span, task-local state, boxed future",
            wrapper,
            "dployr",
        ),
        (
            "request: URL formatted, `api-version` header",
            (built.1 - built.0).max(0.0),
            "generated",
        ),
        (
            "prepare: span fields, checks, token, deadline",
            prepare,
            "dployr",
        ),
        ("retry loop: the spare copy of the request", spare, "dployr"),
        (
            "deadline: the timer of reqwest's timeout",
            timer,
            "reqwest, tokio",
        ),
        (
            "body limit: wrapping the body, reading through it",
            (read_limited - read_plain).max(0.0),
            "dployr",
        ),
        (
            "decoding: the headers `ResponseValue` keeps",
            headers,
            "progenitor",
        ),
        (
            "tracing: two more span fields, no subscriber",
            2.0 * span,
            "tracing",
        ),
    ];
    let sum: f64 = counted.iter().map(|(_, ns, _)| ns).sum();
    let mut table: Vec<Vec<String>> = counted
        .iter()
        .map(|(name, ns, code)| vec![name.to_string(), format!("{ns:.0}"), code.to_string()])
        .collect();
    table.push(vec!["sum".into(), format!("{sum:.0}"), String::new()]);
    for (name, ns) in [
        ("(in prepare) input checks", checks),
        ("(in prepare) token: look up, set `Authorization`", token),
        ("(in prepare) token, with a refresher and a JWT", token_jwt),
    ] {
        table.push(vec![name.into(), format!("{ns:.0}"), "dployr".into()]);
    }
    println!(
        "where the layer's time goes, per `get_system_status` call without a subscriber \
         (each piece timed alone, fastest of {BATCHES} batches of {BATCH})\n"
    );
    print_table(&["piece", "ns per call", "code"], &table);
}

/// Batches a piece is timed in; its figure is the fastest batch's, since
/// noise from elsewhere on the machine only ever slows a batch down.
const BATCHES: usize = 15;
/// Runs of the piece per batch: a few milliseconds.
const BATCH: u32 = 10_000;

/// Nanoseconds per run of `piece`, in the fastest of [`BATCHES`] batches.
fn time_sync(mut piece: impl FnMut()) -> f64 {
    Spread::of((0..BATCHES).map(|_| {
        let start = Instant::now();
        for _ in 0..BATCH {
            piece();
        }
        start.elapsed().as_nanos() as f64 / f64::from(BATCH)
    }))
    .min
}

/// Like [`time_sync`], for a piece that is a future, run inside the runtime.
fn time_async(runtime: &Runtime, mut piece: impl AsyncFnMut()) -> f64 {
    Spread::of((0..BATCHES).map(|_| {
        runtime.block_on(async {
            let start = Instant::now();
            for _ in 0..BATCH {
                piece().await;
            }
            start.elapsed().as_nanos() as f64 / f64::from(BATCH)
        })
    }))
    .min
}

/// Like [`time_async`] for two pieces, timed in alternate batches so that
/// load from elsewhere falls on both alike.
fn time_async_pair(
    runtime: &Runtime,
    mut first: impl AsyncFnMut(),
    mut second: impl AsyncFnMut(),
) -> (f64, f64) {
    let (mut best_first, mut best_second) = (f64::MAX, f64::MAX);
    for _ in 0..BATCHES {
        runtime.block_on(async {
            let start = Instant::now();
            for _ in 0..BATCH {
                first().await;
            }
            let middle = Instant::now();
            for _ in 0..BATCH {
                second().await;
            }
            let per_run = |d: Duration| d.as_nanos() as f64 / f64::from(BATCH);
            best_first = best_first.min(per_run(middle - start));
            best_second = best_second.min(per_run(middle.elapsed()));
        });
    }
    (best_first, best_second)
}
