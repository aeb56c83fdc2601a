//! Every call's deadline, at no cost to a call that ends in time.
//!
//! A tokio timer per call costs on every call: registering it in the
//! runtime's timer wheel and removing it again each take a lock, and
//! reqwest's own per-request timeout boxes the timer and the answer's body
//! besides. Nearly every call ends long before its deadline, so a call
//! starts with no timer at all: it puts a [`Watch`] in its client's list
//! (one short lock, and no allocation once the client is warm), and a
//! per-client sweeper task, which runs only while calls are in flight,
//! looks at the list every [`PERIOD`]. A call still pending after a first
//! interval (between one and two periods) is armed: woken, it registers a
//! tokio timer for its exact deadline, so it fails no earlier than its
//! deadline and no later than the runtime's timer fires. A deadline shorter
//! than two periods gets its timer at once.
//!
//! The sweeper ends when its client is dropped (at its next look, within a
//! period), after [`IDLE_PERIODS`] periods without a call, or when its
//! runtime shuts down; whenever it ends, every call it was watching is armed,
//! so no call is left without a deadline. The next call starts it again, on
//! that call's runtime. While it runs, its own pending timer also keeps a
//! short deadline from being the runtime's earliest timer, which would wake
//! the thread that sleeps in the timer driver.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::task::AtomicWaker;
use tokio::time::{Instant, Sleep};

/// How often the sweeper looks at its calls. A call is armed between one
/// and two periods after it started; a period this short keeps the list
/// (and the watches kept for reuse) small under load, and four wake-ups a
/// second while calls are in flight cost nothing next to the calls.
pub(crate) const PERIOD: Duration = Duration::from_millis(250);

/// Periods without a new call after which the sweeper ends, so an idle
/// client wakes nothing; short enough that it ends soon after the last
/// call, long enough that calls made one after another do not restart it.
const IDLE_PERIODS: u32 = 8;

/// Watches kept for reuse, so that a busy client allocates none per call:
/// enough for 64,000 calls a second.
const SPARE_WATCHES: usize = 16 * 1024;

const PENDING: u8 = 0;
const ARMED: u8 = 1;
const DONE: u8 = 2;

/// One client's deadlines, shared by its clones.
#[derive(Debug, Default)]
pub(crate) struct Deadlines {
    lists: Mutex<Lists>,
    /// A sweeper task is running (on some runtime).
    running: AtomicBool,
}

#[derive(Debug, Default)]
struct Lists {
    /// Calls started since the sweeper last looked.
    new: Vec<Arc<Watch>>,
    /// Calls the sweeper saw at its last look; those still pending at the
    /// next one are armed.
    aging: Vec<Arc<Watch>>,
    /// Watches of ended calls, for the next calls.
    spare: Vec<Arc<Watch>>,
}

/// What the sweeper and a call share.
#[derive(Debug, Default)]
struct Watch {
    state: AtomicU8,
    waker: AtomicWaker,
}

impl Watch {
    fn arm(&self) {
        if self
            .state
            .compare_exchange(PENDING, ARMED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            self.waker.wake();
        }
    }
}

/// One call's deadline; see [`Deadlines::start`]. Dropping it ends the
/// watch.
#[derive(Debug)]
pub(crate) struct Deadline {
    at: Instant,
    timeout: Duration,
    /// `None` when the call has (or will have at once) a timer of its own.
    watch: Option<Arc<Watch>>,
    timer: Option<Pin<Box<Sleep>>>,
}

/// The deadline passed before the call ended.
#[derive(Debug)]
pub(crate) struct Elapsed;

impl Deadlines {
    /// A deadline `timeout` from now.
    pub(crate) fn start(self: &Arc<Self>, timeout: Duration) -> Deadline {
        let at = Instant::now() + timeout;
        if timeout <= 2 * PERIOD {
            return Deadline {
                at,
                timeout,
                watch: None,
                timer: None,
            };
        }
        let watch = {
            let mut lists = self.lock();
            let watch = lists.spare.pop().unwrap_or_default();
            lists.new.push(watch.clone());
            watch
        };
        let watched = self.running.load(Ordering::Acquire) || self.spawn_sweeper();
        if !watched {
            // No runtime to run a sweeper on: the call keeps its own timer.
            watch.arm();
        }
        Deadline {
            at,
            timeout,
            watch: Some(watch),
            timer: None,
        }
    }

    /// Starts the sweeper on the current runtime unless one runs already;
    /// false when there is no runtime.
    fn spawn_sweeper(self: &Arc<Self>) -> bool {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return false;
        };
        if !self.running.swap(true, Ordering::AcqRel) {
            let ended = Ended {
                deadlines: Arc::downgrade(self),
                idle: false,
            };
            runtime.spawn(sweep(ended));
        }
        true
    }

    fn lock(&self) -> MutexGuard<'_, Lists> {
        self.lists.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Arms every call watched, for when no sweeper will look at them.
    fn arm_all(&self) {
        let mut lists = self.lock();
        let Lists { new, aging, .. } = &mut *lists;
        for watch in new.drain(..).chain(aging.drain(..)) {
            watch.arm();
        }
    }
}

impl Drop for Deadlines {
    fn drop(&mut self) {
        self.arm_all();
    }
}

/// The sweeper: every period, arms the calls it saw pending at its last
/// look and still pending now, and takes the newer ones in view.
async fn sweep(mut ended: Ended) {
    let mut idle = 0;
    loop {
        tokio::time::sleep(PERIOD).await;
        let Some(deadlines) = ended.deadlines.upgrade() else {
            // The client is gone, and with it every call of it.
            ended.idle = true;
            return;
        };
        let mut lists = deadlines.lock();
        let Lists { new, aging, spare } = &mut *lists;
        let busy = !new.is_empty() || !aging.is_empty();
        for watch in aging.drain(..) {
            watch.arm();
            reuse(watch, spare);
        }
        for watch in new.drain(..) {
            if watch.state.load(Ordering::Acquire) == PENDING {
                aging.push(watch);
            } else {
                reuse(watch, spare);
            }
        }
        idle = if busy { 0 } else { idle + 1 };
        if idle >= IDLE_PERIODS {
            // Under the lock, so that a call that adds its watch after
            // this sees the sweeper stopped and starts another.
            deadlines.running.store(false, Ordering::Release);
            ended.idle = true;
            return;
        }
    }
}

/// Keeps `watch` for a next call once its call has let go of it.
fn reuse(watch: Arc<Watch>, spare: &mut Vec<Arc<Watch>>) {
    if Arc::strong_count(&watch) == 1 && spare.len() < SPARE_WATCHES {
        watch.state.store(PENDING, Ordering::Relaxed);
        watch.waker.take();
        spare.push(watch);
    }
}

/// Marks the sweeper stopped however its task ends; when it did not end
/// idle (its runtime shut down), arms every call it was watching, so that
/// each registers a timer of its own.
struct Ended {
    deadlines: Weak<Deadlines>,
    idle: bool,
}

impl Drop for Ended {
    fn drop(&mut self) {
        if self.idle {
            return;
        }
        if let Some(deadlines) = self.deadlines.upgrade() {
            deadlines.running.store(false, Ordering::Release);
            deadlines.arm_all();
        }
    }
}

impl Deadline {
    /// The deadline, as the call was given it.
    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Ready once the deadline has passed.
    fn poll_passed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.timer.is_none() {
            if let Some(watch) = &self.watch {
                watch.waker.register(cx.waker());
                if watch.state.load(Ordering::Acquire) == PENDING {
                    return Poll::Pending;
                }
            }
            self.timer = Some(Box::pin(tokio::time::sleep_until(self.at)));
        }
        match &mut self.timer {
            Some(timer) => timer.as_mut().poll(cx),
            None => Poll::Pending,
        }
    }

    /// Runs `future` until it ends or the deadline passes.
    pub(crate) async fn run<F: Future>(&mut self, future: F) -> Result<F::Output, Elapsed> {
        let mut future = std::pin::pin!(future);
        std::future::poll_fn(|cx| {
            if let Poll::Ready(output) = future.as_mut().poll(cx) {
                return Poll::Ready(Ok(output));
            }
            self.poll_passed(cx).map(|()| Err(Elapsed))
        })
        .await
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        if let Some(watch) = &self.watch {
            watch.state.store(DONE, Ordering::Release);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn running(deadlines: &Deadlines) -> bool {
        deadlines.running.load(Ordering::Acquire)
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_in_time_registers_no_timer_and_the_sweeper_ends_when_idle() {
        let deadlines = Arc::new(Deadlines::default());
        let mut deadline = deadlines.start(Duration::from_secs(30));
        assert!(running(&deadlines));
        assert_eq!(deadline.run(async { 7 }).await.unwrap(), 7);
        assert!(deadline.timer.is_none(), "no timer for a call that ended");
        drop(deadline);
        // The sweeper takes the ended watch back for the next call.
        tokio::time::sleep(PERIOD * 2).await;
        assert_eq!(deadlines.lock().spare.len(), 1);
        tokio::time::sleep(PERIOD * (IDLE_PERIODS + 1)).await;
        assert!(!running(&deadlines));
        let reused = deadlines.start(Duration::from_secs(30));
        assert!(deadlines.lock().spare.is_empty());
        assert!(running(&deadlines), "the next call starts it again");
        drop(reused);
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_that_never_ends_fails_exactly_at_its_deadline() {
        let deadlines = Arc::new(Deadlines::default());
        for timeout in [Duration::from_millis(100), Duration::from_secs(30)] {
            let started = Instant::now();
            let mut deadline = deadlines.start(timeout);
            let never = std::future::pending::<()>();
            assert!(deadline.run(never).await.is_err());
            assert_eq!(started.elapsed(), timeout);
        }
    }

    #[test]
    fn calls_watched_by_a_sweeper_whose_runtime_shut_down_get_timers_of_their_own() {
        let deadlines = Arc::new(Deadlines::default());
        let first = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let watched = first.block_on(async { deadlines.start(Duration::from_secs(30)) });
        assert!(running(&deadlines));
        drop(first);
        assert!(!running(&deadlines));
        let state = watched
            .watch
            .as_ref()
            .unwrap()
            .state
            .load(Ordering::Acquire);
        assert_eq!(state, ARMED);
    }

    #[test]
    fn outside_a_runtime_a_call_keeps_its_own_timer() {
        let deadlines = Arc::new(Deadlines::default());
        let deadline = deadlines.start(Duration::from_secs(30));
        assert!(!running(&deadlines));
        let state = deadline
            .watch
            .as_ref()
            .unwrap()
            .state
            .load(Ordering::Acquire);
        assert_eq!(state, ARMED);
    }
}
