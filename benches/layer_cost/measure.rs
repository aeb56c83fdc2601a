//! What a round costs the client process: CPU time and context switches
//! from `getrusage(RUSAGE_SELF)`, which counts every thread of the process
//! (the caller's and the runtime's workers) and none of the server child's.

use std::time::{Duration, Instant};

/// The process's CPU time (user + system) and context switches (voluntary +
/// involuntary) so far.
#[derive(Debug, Clone, Copy)]
struct Usage {
    cpu: Duration,
    switches: u64,
}

#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
fn usage() -> Usage {
    use std::os::raw::{c_int, c_long};

    /// `struct timeval` of 64-bit Linux: two `long`s.
    #[repr(C)]
    struct Timeval {
        sec: c_long,
        usec: c_long,
    }

    /// `struct rusage` of 64-bit Linux: two times, then fourteen `long`
    /// counters, of which the last two are `ru_nvcsw` and `ru_nivcsw`.
    #[repr(C)]
    struct Rusage {
        utime: Timeval,
        stime: Timeval,
        counters: [c_long; 14],
    }

    extern "C" {
        fn getrusage(who: c_int, usage: *mut Rusage) -> c_int;
    }
    const RUSAGE_SELF: c_int = 0;

    let mut raw = std::mem::MaybeUninit::<Rusage>::zeroed();
    // SAFETY: `raw` is a writable `struct rusage` with the kernel's layout
    // on this target; `getrusage` only writes into it.
    let status = unsafe { getrusage(RUSAGE_SELF, raw.as_mut_ptr()) };
    assert_eq!(status, 0, "getrusage(RUSAGE_SELF) cannot fail");
    // SAFETY: zeroed, then filled in by the kernel: every field is an integer.
    let raw = unsafe { raw.assume_init() };
    let time =
        |t: &Timeval| Duration::from_secs(t.sec as u64) + Duration::from_micros(t.usec as u64);
    Usage {
        cpu: time(&raw.utime) + time(&raw.stime),
        switches: (raw.counters[12] + raw.counters[13]) as u64,
    }
}

/// Elsewhere the figures read zero; the wall-clock ones remain.
#[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
fn usage() -> Usage {
    Usage {
        cpu: Duration::ZERO,
        switches: 0,
    }
}

/// One round of one peer.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub calls: usize,
    pub wall: Duration,
    pub cpu: Duration,
    pub switches: u64,
}

impl Sample {
    pub fn cpu_us_per_call(&self) -> f64 {
        self.cpu.as_secs_f64() * 1e6 / self.calls as f64
    }

    pub fn switches_per_call(&self) -> f64 {
        self.switches as f64 / self.calls as f64
    }

    pub fn calls_per_second(&self) -> f64 {
        self.calls as f64 / self.wall.as_secs_f64()
    }
}

/// Runs `run`, which makes `calls` calls, and returns what it cost.
pub fn sample(calls: usize, run: impl FnOnce()) -> Sample {
    let before = usage();
    let start = Instant::now();
    run();
    let wall = start.elapsed();
    let after = usage();
    Sample {
        calls,
        wall,
        cpu: after.cpu.saturating_sub(before.cpu),
        switches: after.switches - before.switches,
    }
}

/// `rounds` rounds in which each of `peers` peers runs once (`run(peer)`),
/// returned round by round. The order rotates every round and reverses
/// every other rotation, so each peer takes each place, and follows each
/// other peer, equally often: whoever runs first after another tends to
/// find caches and the scheduler in a different state.
pub fn rounds(
    rounds: usize,
    peers: usize,
    mut run: impl FnMut(usize) -> Sample,
) -> Vec<Vec<Sample>> {
    (0..rounds)
        .map(|round| {
            let mut order: Vec<usize> = (0..peers).map(|at| (at + round) % peers).collect();
            if (round / peers) % 2 == 1 {
                order.reverse();
            }
            let mut samples = vec![None; peers];
            for at in order {
                samples[at] = Some(run(at));
            }
            samples
                .into_iter()
                .map(|s| s.expect("every peer ran"))
                .collect()
        })
        .collect()
}
