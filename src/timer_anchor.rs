//! Keeps every call's deadline from waking the runtime.
//!
//! Each call carries a deadline (a tokio timer). When no other timer is
//! pending, a new one is the runtime's earliest, and registering it unparks
//! the thread that sleeps in the timer driver so that it can shorten its
//! sleep: a context switch and several microseconds of CPU on every call of
//! a program that makes one call at a time. The wake-up is skipped when an
//! earlier timer is already pending, so the anchor keeps one pending: a
//! small task, one per client and runtime, that sleeps [`PERIOD`] at a
//! time while the client is in use, and ends once it has been idle for
//! [`IDLE_PERIODS`] periods (or its runtime shuts down); the next call
//! starts it again.
//!
//! A deadline shorter than [`PERIOD`] still wakes the driver, as it must:
//! it is then the earliest timer.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// How far ahead the anchor's timer is set: shorter than any deadline a
/// call is likely to have (the default is 30 s), and long enough that its
/// own wake-up, once a second while the client is busy, costs nothing.
const PERIOD: Duration = Duration::from_secs(1);

/// Periods without a call after which the anchor ends, so an idle client
/// wakes nothing.
const IDLE_PERIODS: u32 = 30;

/// One client's anchor.
#[derive(Debug, Default)]
pub(crate) struct TimerAnchor {
    /// A task is running (on some runtime) and keeping a timer pending.
    running: AtomicBool,
    /// A call was made since the task last looked.
    used: AtomicBool,
}

impl TimerAnchor {
    /// Called before a deadline is set: starts the anchor on the current
    /// runtime unless it runs already. Two loads when it does.
    pub(crate) fn hold(self: &Arc<Self>) {
        if !self.used.load(Ordering::Relaxed) {
            self.used.store(true, Ordering::Relaxed);
        }
        if self.running.load(Ordering::Relaxed) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if self.running.swap(true, Ordering::AcqRel) {
            return;
        }
        let stopped = Stopped(Arc::downgrade(self));
        runtime.spawn(keep_pending(stopped));
    }
}

/// Marks the anchor stopped when its task ends, however it ends (the
/// runtime drops it when shutting down).
struct Stopped(Weak<TimerAnchor>);

impl Drop for Stopped {
    fn drop(&mut self) {
        if let Some(anchor) = self.0.upgrade() {
            anchor.running.store(false, Ordering::Release);
        }
    }
}

async fn keep_pending(stopped: Stopped) {
    let mut idle = 0;
    loop {
        tokio::time::sleep(PERIOD).await;
        let Some(anchor) = stopped.0.upgrade() else {
            return;
        };
        if anchor.used.swap(false, Ordering::Relaxed) {
            idle = 0;
        } else {
            idle += 1;
            if idle >= IDLE_PERIODS {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_anchor_runs_on_the_runtime_of_the_call_and_stops_with_it() {
        let anchor = Arc::new(TimerAnchor::default());
        let runtime = || {
            tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .unwrap()
        };
        let first = runtime();
        first.block_on(async { anchor.hold() });
        assert!(anchor.running.load(Ordering::Relaxed));
        // A runtime that shuts down drops the task: the next runtime starts
        // its own.
        drop(first);
        assert!(!anchor.running.load(Ordering::Relaxed));
        let second = runtime();
        second.block_on(async { anchor.hold() });
        assert!(anchor.running.load(Ordering::Relaxed));
    }

    #[test]
    fn outside_a_runtime_nothing_starts() {
        let anchor = Arc::new(TimerAnchor::default());
        anchor.hold();
        assert!(!anchor.running.load(Ordering::Relaxed));
    }
}
