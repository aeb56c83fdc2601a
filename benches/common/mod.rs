//! What the benchmarks share: best-of-N timing and the tables they print.
//!
//! A plain harness rather than criterion keeps the dev build lean; the price
//! is that noise has to be handled here, by taking each contender's fastest
//! of several runs.

// Each benchmark compiles its own copy of this module and uses only part of it.
#![allow(dead_code)]

use std::time::{Duration, Instant};

/// Runs per measurement. The machines these run on are shared and noisy, and
/// noise only ever makes a run slower, so the fastest of a few runs is the
/// figure that best reflects the code.
pub const RUNS: usize = 5;

/// One timed run.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// Elapsed time.
    pub wall: Duration,
    /// CPU time of the calling thread. Other processes on a shared machine
    /// stretch `wall` but not this, so it shows what the code itself costs
    /// even when the wall-clock figures are disturbed. Zero where the kernel
    /// does not report it.
    pub cpu: Duration,
}

/// Times `run` on the calling thread.
pub fn measure<T>(run: impl FnOnce() -> T) -> (Sample, T) {
    let cpu = thread_cpu_time();
    let start = Instant::now();
    let value = run();
    let wall = start.elapsed();
    let sample = Sample {
        wall,
        cpu: thread_cpu_time().saturating_sub(cpu),
    };
    (sample, value)
}

/// Times every contender `runs` times and returns, for each, its fastest
/// wall-clock time and its smallest CPU time (not necessarily of one run).
///
/// Contenders take turns run by run instead of one finishing all its runs
/// first, so a burst of load from elsewhere on the machine cannot fall on
/// only one of them, and which goes first flips from turn to turn.
pub fn best_of(runs: usize, contenders: &mut [&mut dyn FnMut() -> Sample]) -> Vec<Sample> {
    best_of_sliced(runs, 1, contenders)
}

/// Like [`best_of`], but each run is made of `slices` calls to each
/// contender, taking turns slice by slice, and a run's time is the sum of its
/// slices. Load from elsewhere comes and goes within a second; turns of a few
/// tens of milliseconds spread it over all contenders alike, where turns of
/// whole runs let it fall on one of them.
pub fn best_of_sliced(
    runs: usize,
    slices: usize,
    contenders: &mut [&mut dyn FnMut() -> Sample],
) -> Vec<Sample> {
    let mut best = vec![
        Sample {
            wall: Duration::MAX,
            cpu: Duration::MAX,
        };
        contenders.len()
    ];
    let mut turn = 0;
    for _ in 0..runs {
        let mut run = vec![
            Sample {
                wall: Duration::ZERO,
                cpu: Duration::ZERO,
            };
            contenders.len()
        ];
        for _ in 0..slices {
            // The order flips every turn: timing one client against a copy
            // of itself showed whichever goes first 1-3% faster.
            turn += 1;
            let mut order: Vec<usize> = (0..contenders.len()).collect();
            if turn % 2 == 0 {
                order.reverse();
            }
            for at in order {
                let sample = contenders[at]();
                run[at].wall += sample.wall;
                run[at].cpu += sample.cpu;
            }
        }
        for (best, run) in best.iter_mut().zip(run) {
            best.wall = best.wall.min(run.wall);
            best.cpu = best.cpu.min(run.cpu);
        }
    }
    best
}

/// CPU time the calling thread has used, from `/proc/thread-self/schedstat`
/// (nanoseconds, unlike the clock ticks of `/proc/.../stat`); zero if absent.
fn thread_cpu_time() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse().ok())
        .map_or(Duration::ZERO, Duration::from_nanos)
}

/// The machine's load when a benchmark starts, printed with its figures:
/// on a shared machine a low figure often means other work, not slow code.
pub fn load_note() -> String {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".to_string());
    format!("{cores} cores, 1-minute load average {load} at start")
}

/// Prints a Markdown table, padded (by characters, as a terminal shows them)
/// so it also reads well in a terminal and
/// can be pasted into `benches/RESULTS.md` as it is.
pub fn print_table(headers: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        println!("| {} |", padded.join(" | "));
    };
    line(headers.iter().map(|h| h.to_string()).collect());
    line(widths.iter().map(|width| "-".repeat(*width)).collect());
    for row in rows {
        line(row.clone());
    }
    println!();
}

/// Starts a TCP server on an ephemeral loopback port, on its own thread and
/// current-thread runtime so that it never competes with the client for a
/// runtime, and hands every accepted connection to `serve` on a task of its
/// own. Returns the bound address once the server listens.
pub fn spawn_loopback_server<F, Fut>(serve: F) -> std::net::SocketAddr
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = std::io::Result<()>> + 'static,
{
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a current-thread runtime");
        let local = tokio::task::LocalSet::new();
        local.block_on(&runtime, async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("a loopback port");
            addr_tx
                .send(listener.local_addr().expect("a bound address"))
                .expect("the benchmark waits for the address");
            loop {
                let (socket, _) = listener.accept().await.expect("a connection");
                tokio::task::spawn_local(serve(socket));
            }
        });
    });
    addr_rx.recv().expect("the server thread starts")
}

/// Times every contender in `rounds` rounds and returns each round's
/// samples, one per contender, for figures given as a median with their
/// spread. Within a round the contenders take turns slice by slice, as in
/// [`best_of_sliced`]. The order rotates every turn and reverses every other
/// rotation, so each contender takes each place in the order, and follows
/// each other contender, equally often: with three or more contenders, a
/// mere flip would leave the middle one always in the middle, which showed
/// as a 4–5% bias between two identical clients.
pub fn rounds_sliced(
    rounds: usize,
    slices: usize,
    contenders: &mut [&mut dyn FnMut() -> Sample],
) -> Vec<Vec<Sample>> {
    let mut turn = 0;
    (0..rounds)
        .map(|_| {
            let mut round = vec![
                Sample {
                    wall: Duration::ZERO,
                    cpu: Duration::ZERO,
                };
                contenders.len()
            ];
            for _ in 0..slices {
                let n = contenders.len();
                let mut order: Vec<usize> = (0..n).map(|at| (at + turn) % n).collect();
                if (turn / n) % 2 == 1 {
                    order.reverse();
                }
                turn += 1;
                for at in order {
                    let sample = contenders[at]();
                    round[at].wall += sample.wall;
                    round[at].cpu += sample.cpu;
                }
            }
            round
        })
        .collect()
}

/// The median of some figures, with their smallest and largest.
#[derive(Debug, Clone, Copy)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Spread {
    /// The spread of `values`; all zero when there are none.
    pub fn of(values: impl IntoIterator<Item = f64>) -> Spread {
        let mut values: Vec<f64> = values.into_iter().collect();
        if values.is_empty() {
            return Spread {
                median: 0.0,
                min: 0.0,
                max: 0.0,
            };
        }
        values.sort_by(f64::total_cmp);
        let mid = values.len() / 2;
        let median = if values.len() % 2 == 1 {
            values[mid]
        } else {
            (values[mid - 1] + values[mid]) / 2.0
        };
        Spread {
            median,
            min: values[0],
            max: values[values.len() - 1],
        }
    }

    /// `median (min–max)`, each with `decimals` decimals and `unit` after it.
    pub fn show(&self, decimals: usize, unit: &str) -> String {
        format!(
            "{:.decimals$}{unit} ({:.decimals$}–{:.decimals$})",
            self.median, self.min, self.max
        )
    }
}
