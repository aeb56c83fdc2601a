//! Throughput of `dployr::sse::Decoder` against the `eventsource-stream`
//! crate, on 64 MiB of `data:` events fed in 16 KiB chunks (the size of a
//! typical socket read), so chunk boundaries fall inside lines and events.
//!
//! Run with `cargo bench --bench sse_decoder`.

mod common;

use std::convert::Infallible;
use std::hint::black_box;
use std::time::Duration;

use bytes::Bytes;
use eventsource_stream::EventStream;
use futures::StreamExt as _;

use common::{best_of, load_note, measure, print_table, Sample, RUNS};

const TOTAL_BYTES: usize = 64 << 20;
const CHUNK_BYTES: usize = 16 << 10;
const DATA_CHARS: usize = 80;

/// What a decoder saw: compared between the two, and consumed so that the
/// work producing the events cannot be optimised away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Tally {
    events: usize,
    data_bytes: usize,
}

fn main() {
    let load = load_note();
    let (stream, expected) = corpus();
    let chunks: Vec<Bytes> = (0..stream.len())
        .step_by(CHUNK_BYTES)
        .map(|start| stream.slice(start..stream.len().min(start + CHUNK_BYTES)))
        .collect();
    // The reference decoder is a `Stream`, so it is polled the way an
    // application would poll it: by an executor, here a current-thread tokio
    // runtime (no I/O or timers needed, so none are enabled).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime");

    let ours_tally = ours(&chunks);
    let theirs_tally = runtime.block_on(theirs(&chunks));
    assert_eq!(ours_tally, expected, "dployr::sse::Decoder miscounted");
    assert_eq!(
        theirs_tally, expected,
        "eventsource-stream miscounted; the comparison would be meaningless"
    );

    let mut time_ours = || measure(|| black_box(ours(&chunks))).0;
    let mut time_theirs = || measure(|| black_box(runtime.block_on(theirs(&chunks)))).0;
    let best = best_of(RUNS, &mut [&mut time_ours, &mut time_theirs]);
    let rate = |sample: Sample| Rates {
        wall: mb_per_s(stream.len(), sample.wall),
        cpu: mb_per_s(stream.len(), sample.cpu),
    };
    let (ours_rate, theirs_rate) = (rate(best[0]), rate(best[1]));

    println!(
        "sse_decoder: {:.1} MiB, {} events of `data: <{DATA_CHARS} chars>`, {} KiB chunks, \
         best of {RUNS} ({load})\n",
        stream.len() as f64 / f64::from(1 << 20),
        expected.events,
        CHUNK_BYTES >> 10,
    );
    let row = |name: &str, tally: Tally, sample: Sample, rates: Rates| {
        vec![
            name.to_string(),
            tally.events.to_string(),
            format!("{:.1} ms", sample.wall.as_secs_f64() * 1e3),
            format!("{:.0}", rates.wall),
            format!("{:.0}", rates.cpu),
        ]
    };
    print_table(
        &["decoder", "events", "best time", "MB/s", "MB/s of CPU time"],
        &[
            row("dployr::sse::Decoder", ours_tally, best[0], ours_rate),
            row(
                "eventsource-stream 0.2.3",
                theirs_tally,
                best[1],
                theirs_rate,
            ),
        ],
    );
    println!(
        "ours / eventsource-stream: {:.1}x ({:.1}x by CPU time); target: >= 1000 MB/s and >= 8x",
        ours_rate.wall / theirs_rate.wall,
        ours_rate.cpu / theirs_rate.cpu,
    );
}

#[derive(Clone, Copy)]
struct Rates {
    wall: f64,
    cpu: f64,
}

/// Back-to-back events whose 80 characters vary from event to event, the
/// way log lines do, trimmed to whole events just under `TOTAL_BYTES`.
fn corpus() -> (Bytes, Tally) {
    let event_len = "data: ".len() + DATA_CHARS + "\n\n".len();
    let events = TOTAL_BYTES / event_len;
    let mut stream = Vec::with_capacity(events * event_len);
    for n in 0..events {
        let line = format!(
            "{:02}:{:02}:{:02}.{:03} INFO build step {n:>7}: compiling module handlers::routes::v2",
            n / 3_600_000 % 24,
            n / 60_000 % 60,
            n / 1000 % 60,
            n % 1000,
        );
        let line = format!("{line:.<DATA_CHARS$}");
        assert_eq!(line.len(), DATA_CHARS);
        stream.extend_from_slice(b"data: ");
        stream.extend_from_slice(line.as_bytes());
        stream.extend_from_slice(b"\n\n");
    }
    let tally = Tally {
        events,
        data_bytes: events * DATA_CHARS,
    };
    (Bytes::from(stream), tally)
}

fn ours(chunks: &[Bytes]) -> Tally {
    let mut decoder = dployr::sse::Decoder::new();
    let mut tally = Tally {
        events: 0,
        data_bytes: 0,
    };
    let mut drain = |decoder: &mut dployr::sse::Decoder| {
        while let Some(event) = decoder.next_event() {
            let event = event.expect("the corpus is within the default limits");
            tally.events += 1;
            tally.data_bytes += black_box(event).data.len();
        }
    };
    // Draining after every push, as `Decoder`'s documentation asks, keeps
    // its queue of ready events as small as in real use.
    // Cloning a `Bytes` only bumps a reference count, as for `theirs` below.
    for chunk in chunks {
        decoder.push_bytes(chunk.clone());
        drain(&mut decoder);
    }
    decoder.finish();
    drain(&mut decoder);
    tally
}

async fn theirs(chunks: &[Bytes]) -> Tally {
    // Cloning a `Bytes` only bumps a reference count: both decoders read the
    // same memory.
    let body = futures::stream::iter(chunks.iter().cloned().map(Ok::<_, Infallible>));
    let mut events = EventStream::new(body);
    let mut tally = Tally {
        events: 0,
        data_bytes: 0,
    };
    while let Some(event) = events.next().await {
        let event = event.expect("the corpus is valid");
        tally.events += 1;
        tally.data_bytes += black_box(event).data.len();
    }
    tally
}

fn mb_per_s(bytes: usize, time: Duration) -> f64 {
    bytes as f64 / 1e6 / time.as_secs_f64()
}
