//! Every call's deadline, at no cost to a call that ends in time.
//!
//! A tokio timer per call costs on every call: registering it in the
//! runtime's timer wheel and removing it again each take a lock, and
//! reqwest's own per-request timeout boxes the timer and the answer's body
//! besides. Nearly every call ends long before its deadline, so a call
//! starts with no timer at all: it puts a [`Watch`] in its client's list
//! (one short lock, and no allocation once the client is warm), and a
//! per-client sweeper thread, which runs only while the client is in use,
//! looks at the list every [`PERIOD`]. A call still pending after a first
//! interval (between one and two periods) is armed: woken, it registers a
//! tokio timer for its exact deadline, on its own runtime, so it fails no
//! earlier than its deadline and no later than that runtime's timer fires.
//! A deadline shorter than two periods gets its timer at once.
//!
//! The sweeper is a plain thread rather than a task so that it is tied to
//! no runtime: a client used from several runtimes is watched the same in
//! each, even while the runtime that made its first call is not being
//! driven or has shut down. A waker can be woken from any thread. The
//! thread ends once its client and every clone are dropped (at once: the
//! drop unparks it) or after [`IDLE_PERIODS`] periods without a call; the
//! next call starts another.

use std::borrow::BorrowMut;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{Context, Poll};
use std::thread::Thread;
use std::time::Duration;

use futures_util::task::AtomicWaker;
use tokio::time::{Instant, Sleep};

/// How often the sweeper looks at its calls. A call is armed between one
/// and two periods after it started; a period this short keeps the list
/// (and the watches kept for reuse) small under load, and four wake-ups a
/// second while the client is in use cost nothing next to its calls.
pub(crate) const PERIOD: Duration = Duration::from_millis(250);

/// Periods without a new call after which the sweeper ends, so an idle
/// client wakes nothing; short enough that it ends soon after the last
/// call, long enough that calls made one after another do not restart it.
const IDLE_PERIODS: u32 = 8;

/// Watches kept for reuse, so that a busy client allocates none per call:
/// enough for 64,000 calls a second.
const SPARE_WATCHES: usize = 16 * 1024;

/// The sweeper thread's name, as `ps -T` and a debugger show it.
pub(crate) const SWEEPER_NAME: &str = "dployr-deadline";

const PENDING: u8 = 0;
const ARMED: u8 = 1;
const DONE: u8 = 2;

/// One client's deadlines, shared by its clones.
#[derive(Debug, Default)]
pub(crate) struct Deadlines {
    lists: Mutex<Lists>,
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
    /// The sweeper thread, while one runs.
    sweeper: Option<Thread>,
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
            if lists.sweeper.is_none() {
                // Under the lock, so that calls starting together start one
                // sweeper; this happens once per busy spell of the client.
                lists.sweeper = spawn_sweeper(Arc::downgrade(self));
                if lists.sweeper.is_none() {
                    // No thread to be had: the call keeps its own timer.
                    watch.arm();
                }
            }
            watch
        };
        Deadline {
            at,
            timeout,
            watch: Some(watch),
            timer: None,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Lists> {
        self.lists.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// One look of the sweeper: arms the calls it saw pending at its last
    /// look and still pending now, and takes the newer ones in view. False
    /// once it has been idle long enough to end, in which case it is marked
    /// ended under the same lock, so that a call that adds its watch after
    /// this starts another.
    fn sweep(&self, idle: &mut u32) -> bool {
        let mut lists = self.lock();
        let Lists {
            new, aging, spare, ..
        } = &mut *lists;
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
        *idle = if busy { 0 } else { *idle + 1 };
        if *idle >= IDLE_PERIODS {
            lists.sweeper = None;
            return false;
        }
        true
    }
}

impl Drop for Deadlines {
    fn drop(&mut self) {
        let lists = self.lists.get_mut().unwrap_or_else(|p| p.into_inner());
        for watch in lists.new.drain(..).chain(lists.aging.drain(..)) {
            watch.arm();
        }
        // The sweeper would see the client gone at its next look; it need
        // not wait for it.
        if let Some(sweeper) = lists.sweeper.take() {
            sweeper.unpark();
        }
    }
}

/// Starts a sweeper thread for `deadlines`; `None` when the system has no
/// thread to give.
fn spawn_sweeper(deadlines: Weak<Deadlines>) -> Option<Thread> {
    std::thread::Builder::new()
        .name(SWEEPER_NAME.into())
        .spawn(move || sweep(&deadlines))
        .ok()
        .map(|handle| handle.thread().clone())
}

/// The sweeper thread: a look every period until the client is gone or has
/// been idle long enough.
fn sweep(deadlines: &Weak<Deadlines>) {
    let mut idle = 0;
    loop {
        let next = std::time::Instant::now() + PERIOD;
        loop {
            if deadlines.strong_count() == 0 {
                return;
            }
            let now = std::time::Instant::now();
            if now >= next {
                break;
            }
            std::thread::park_timeout(next - now);
        }
        let Some(deadlines) = deadlines.upgrade() else {
            return;
        };
        if !deadlines.sweep(&mut idle) {
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

    /// Runs `future` until it ends or the deadline passes; the deadline
    /// stays the caller's.
    pub(crate) fn run<F: Future>(&mut self, future: F) -> Within<&mut Deadline, F> {
        Within {
            deadline: self,
            future,
        }
    }

    /// Runs `future` until it ends or the deadline passes, the deadline
    /// ending with it.
    pub(crate) fn bound<F: Future>(self, future: F) -> Within<Deadline, F> {
        Within {
            deadline: self,
            future,
        }
    }
}

pin_project_lite::pin_project! {
    /// A future run within a deadline ([`Deadline::run`], [`Deadline::bound`]).
    ///
    /// A type rather than an `async fn`: an `async fn` would keep the future
    /// it was given beside the one it awaits, twice the size, in every
    /// call's state (a call's future is the task's memory, touched on every
    /// poll).
    pub(crate) struct Within<D, F> {
        deadline: D,
        #[pin]
        future: F,
    }
}

impl<D: BorrowMut<Deadline>, F: Future> Future for Within<D, F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(output) = this.future.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        this.deadline
            .borrow_mut()
            .poll_passed(cx)
            .map(|()| Err(Elapsed))
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

    /// Deadlines whose looks the test takes itself: the test's own thread
    /// stands for the sweeper, so no thread looks in between.
    fn swept_by_hand() -> Arc<Deadlines> {
        let deadlines = Arc::new(Deadlines::default());
        deadlines.lock().sweeper = Some(std::thread::current());
        deadlines
    }

    fn running(deadlines: &Deadlines) -> bool {
        deadlines.lock().sweeper.is_some()
    }

    fn state(deadline: &Deadline) -> u8 {
        deadline
            .watch
            .as_ref()
            .unwrap()
            .state
            .load(Ordering::Acquire)
    }

    #[test]
    fn a_call_in_time_is_never_armed_and_its_watch_is_reused() {
        let deadlines = swept_by_hand();
        let deadline = deadlines.start(Duration::from_secs(30));
        drop(deadline);
        let mut idle = 0;
        assert!(deadlines.sweep(&mut idle));
        assert_eq!(deadlines.lock().spare.len(), 1, "taken back at once");
        let reused = deadlines.start(Duration::from_secs(30));
        assert!(deadlines.lock().spare.is_empty());
        assert_eq!(state(&reused), PENDING);
    }

    #[test]
    fn a_pending_call_is_armed_at_the_second_look_and_not_before() {
        let deadlines = swept_by_hand();
        let deadline = deadlines.start(Duration::from_secs(30));
        let mut idle = 0;
        assert!(deadlines.sweep(&mut idle));
        assert_eq!(state(&deadline), PENDING, "one look: a call may be new");
        assert!(deadlines.sweep(&mut idle));
        assert_eq!(state(&deadline), ARMED);
    }

    #[test]
    fn an_idle_sweeper_ends_and_the_next_call_starts_another() {
        let deadlines = swept_by_hand();
        drop(deadlines.start(Duration::from_secs(30)));
        let mut idle = 0;
        let mut looks = 0;
        while deadlines.sweep(&mut idle) {
            looks += 1;
        }
        // The first look saw the call; then IDLE_PERIODS looks saw none.
        assert_eq!(looks, IDLE_PERIODS);
        assert!(!running(&deadlines));
        let next = deadlines.start(Duration::from_secs(30));
        assert!(running(&deadlines), "the next call starts it again");
        drop(next);
    }

    #[test]
    fn the_sweeper_thread_arms_a_pending_call_and_wakes_it() {
        let deadlines = Arc::new(Deadlines::default());
        let mut deadline = deadlines.start(Duration::from_secs(30));
        assert!(running(&deadlines));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        // Nothing but the sweeper's wake can end this: the runtime has no
        // timer until the call is armed, and then auto-advances to it.
        let started = runtime.block_on(async { Instant::now() });
        let (outcome, at) = runtime.block_on(async {
            let outcome = deadline.run(std::future::pending::<()>()).await;
            (outcome, Instant::now())
        });
        assert!(outcome.is_err());
        assert!(at - started >= Duration::from_secs(30));
    }

    #[tokio::test(start_paused = true)]
    async fn a_short_deadline_has_its_timer_at_once_and_fails_exactly_on_time() {
        let deadlines = Arc::new(Deadlines::default());
        let started = Instant::now();
        let mut deadline = deadlines.start(Duration::from_millis(100));
        assert!(deadline.watch.is_none());
        assert!(!running(&deadlines), "no sweeper for a short deadline");
        assert!(deadline.run(std::future::pending::<()>()).await.is_err());
        assert_eq!(started.elapsed(), Duration::from_millis(100));
    }
}
