//! What a running instance holds: its settings, its in-memory data and the
//! signals its tasks wait on.

use std::collections::HashSet;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Utc};
use tokio::sync::watch;

use super::auth::TokenKeys;
use super::faults::Faults;
use super::journal::Journal;
use crate::types::{Deployment, Service};

/// The builder's settings.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) phase_delay: Duration,
    pub(crate) heartbeat: Duration,
    pub(crate) reconnect_hint: Duration,
    /// Whether the last event of a log stream (`done` or `error`) is
    /// followed by a blank line.
    pub(crate) blank_line_after_last_event: bool,
}

/// Everything the server, the deployment tasks and the [`LocalInstance`]
/// handle share.
///
/// [`LocalInstance`]: super::LocalInstance
pub(crate) struct Shared {
    pub(crate) config: Config,
    pub(crate) started: Instant,
    pub(crate) started_at: DateTime<Utc>,
    pub(crate) keys: TokenKeys,
    pub(crate) store: Mutex<Store>,
    pub(crate) faults: Mutex<Faults>,
    pub(crate) journal: Mutex<Journal>,
    pub(crate) requests_seen: AtomicU64,
    /// Bumped whenever a log grows, so open log streams look again.
    pub(crate) log_changed: watch::Sender<u64>,
    /// Set once, when the instance stops.
    pub(crate) shutdown: watch::Sender<bool>,
    /// How many deployments are still playing their lifecycle, so a test can
    /// wait until none is (`LocalInstance::settled`).
    pub(crate) lifecycles: watch::Sender<usize>,
    /// While true, no deployment takes its next step
    /// (`LocalInstance::hold_deployments`).
    pub(crate) held: watch::Sender<bool>,
}

/// Locks, carrying on after a panic elsewhere: every change to the data is
/// made in one step, so a poisoned lock never guards half a change.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    pub(crate) fn new(config: Config) -> Self {
        Shared {
            config,
            started: Instant::now(),
            started_at: Utc::now(),
            keys: TokenKeys::new(),
            store: Mutex::new(Store::default()),
            faults: Mutex::new(Faults::default()),
            journal: Mutex::new(Journal::default()),
            requests_seen: AtomicU64::new(0),
            log_changed: watch::Sender::new(0),
            shutdown: watch::Sender::new(false),
            lifecycles: watch::Sender::new(0),
            held: watch::Sender::new(false),
        }
    }

    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        lock(&self.store)
    }

    pub(crate) fn logs_changed(&self) {
        self.log_changed.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Waits `duration`; false when the instance stopped meanwhile.
    pub(crate) async fn pause(&self, duration: Duration) -> bool {
        tokio::select! {
            _ = tokio::time::sleep(duration) => !*self.shutdown.borrow(),
            () = self.stopped() => false,
        }
    }

    /// Counts one lifecycle in flight until the returned guard is dropped.
    pub(crate) fn lifecycle_started(self: &Arc<Self>) -> LifecycleGuard {
        self.lifecycles.send_modify(|n| *n += 1);
        LifecycleGuard(self.clone())
    }

    /// Waits `duration`, then for as long as deployments are held; false when
    /// the instance stopped meanwhile.
    pub(crate) async fn next_step(&self, duration: Duration) -> bool {
        if !self.pause(duration).await {
            return false;
        }
        let mut held = self.held.subscribe();
        tokio::select! {
            // The sender lives as long as `self`, so this cannot fail.
            _ = held.wait_for(|held| !*held) => !*self.shutdown.borrow(),
            () = self.stopped() => false,
        }
    }

    /// Resolves once no lifecycle is in flight.
    pub(crate) async fn settled(&self) {
        let mut count = self.lifecycles.subscribe();
        // The sender lives as long as `self`, so this cannot fail.
        let _ = count.wait_for(|n| *n == 0).await;
    }

    /// Resolves once the instance stops.
    pub(crate) async fn stopped(&self) {
        let mut stopped = self.shutdown.subscribe();
        // An error means the sender is gone, which also means stopped.
        let _ = stopped.wait_for(|down| *down).await;
    }
}

/// One deployment's lifecycle in flight; dropping it (at the end, on stop,
/// or if its task panics) counts it out.
pub(crate) struct LifecycleGuard(Arc<Shared>);

impl Drop for LifecycleGuard {
    fn drop(&mut self) {
        self.0.lifecycles.send_modify(|n| *n -= 1);
    }
}

/// One entry of a deployment's build log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum LogEntry {
    Line(String),
    /// The deployment completed; always the last entry.
    Done(String),
    /// The deployment failed, for this reason; always the last entry.
    Failed(String),
}

impl LogEntry {
    pub(crate) fn is_last(&self) -> bool {
        !matches!(self, LogEntry::Line(_))
    }
}

pub(crate) struct DeploymentRecord {
    pub(crate) deployment: Deployment,
    pub(crate) log: Vec<LogEntry>,
}

/// The instance's data. Lists are kept oldest first and served reversed.
#[derive(Default)]
pub(crate) struct Store {
    pub(crate) deployments: Vec<DeploymentRecord>,
    pub(crate) services: Vec<Service>,
    /// (domain, upstream), oldest first.
    pub(crate) routes: Vec<(String, String)>,
    pub(crate) failing_names: HashSet<String>,
}

impl Store {
    pub(crate) fn deployment(&self, id: &str) -> Option<&DeploymentRecord> {
        self.deployments.iter().find(|d| d.deployment.id == id)
    }

    pub(crate) fn deployment_mut(&mut self, id: &str) -> Option<&mut DeploymentRecord> {
        self.deployments.iter_mut().find(|d| d.deployment.id == id)
    }

    pub(crate) fn service_position(&self, id: &str) -> Option<usize> {
        self.services.iter().position(|s| s.id == id)
    }

    pub(crate) fn service_named(&mut self, name: &str) -> Option<&mut Service> {
        self.services.iter_mut().find(|s| s.name == name)
    }

    /// The log a stream for `id` follows: the deployment's, or for a
    /// service, its latest deployment's.
    pub(crate) fn log_owner(&self, id: &str) -> Option<String> {
        if self.deployment(id).is_some() {
            return Some(id.to_string());
        }
        let service = self.services.iter().find(|s| s.id == id)?;
        self.deployments
            .iter()
            .rev()
            .find(|d| d.deployment.config.name.as_deref() == Some(service.name.as_str()))
            .map(|d| d.deployment.id.clone())
    }

    /// (total, running, stopped).
    pub(crate) fn service_counts(&self) -> (i64, i64, i64) {
        let count = |status: &str| {
            self.services
                .iter()
                .filter(|s| s.status.as_deref() == Some(status))
                .count() as i64
        };
        (
            self.services.len() as i64,
            count("running"),
            count("stopped"),
        )
    }
}

/// A page of `items` (kept oldest first), newest first, each made into
/// what the answer shows of it.
pub(crate) fn newest_first<T, U>(
    items: &[T],
    offset: usize,
    limit: usize,
    show: impl Fn(&T) -> U,
) -> Vec<U> {
    items
        .iter()
        .rev()
        .skip(offset)
        .take(limit)
        .map(show)
        .collect()
}

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A ULID-shaped id (26 Crockford base32 characters: 48 bits of
/// milliseconds, 80 random bits), like the ids real instances hand out.
pub(crate) fn new_id() -> String {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
        & ((1 << 48) - 1);
    let value = (millis << 80) | (fastrand::u128(..) & ((1 << 80) - 1));
    (0..26)
        .rev()
        .map(|i| CROCKFORD[((value >> (i * 5)) & 31) as usize] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_look_like_ulids() {
        let id = new_id();
        assert_eq!(id.len(), 26);
        assert!(id.bytes().all(|b| CROCKFORD.contains(&b)), "{id}");
        assert_ne!(new_id(), new_id());
    }

    #[test]
    fn pages_are_newest_first() {
        let items = [1, 2, 3, 4, 5];
        assert_eq!(newest_first(&items, 0, 2, |i| *i), [5, 4]);
        assert_eq!(newest_first(&items, 3, 20, |i| i * 10), [20, 10]);
        assert!(newest_first(&items, usize::MAX, 20, |i| *i).is_empty());
    }
}
