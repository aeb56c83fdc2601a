//! How a run is followed: the log stream while there is one, then status
//! lookups until the status is final, all under the run's deadline.

use std::collections::VecDeque;
use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt};
use tokio::time::Instant;

use crate::error::{Error, ErrorKind};
use crate::logs::{LogEvent, LogStream};
use crate::retry::Reconnect;
use crate::sse::ByteString;
use crate::types::{Deployment, DeploymentStatus, KnownDeploymentStatus};
use crate::Client;

/// The log lines a failure keeps ([`Error::log_tail`]): enough to show a
/// build error in a CI log without the whole build.
const LOG_TAIL_LINES: usize = 20;

/// The page size of a status lookup. A deployment being followed is almost
/// always among the newest, so small pages keep each lookup (repeated while
/// polling) light; an older one costs a few more pages.
const STATUS_PAGE_SIZE: u32 = 20;

/// The shortest wait between two status lookups, whatever the retry policy
/// says, so that a zero backoff cannot turn polling into a busy loop.
const MIN_POLL_WAIT: Duration = Duration::from_millis(100);

/// When the deadline passes, the status is read once more, for at most this
/// long, so that the timeout names where the deployment stands.
const FINAL_LOOKUP_BUDGET: Duration = Duration::from_secs(5);

/// The longest deadline: a `wait_timeout` beyond it is taken as "no deadline"
/// rather than overflowing the clock.
const FAR_FUTURE: Duration = Duration::from_secs(30 * 365 * 24 * 60 * 60);

/// What the following produces: a log line or status to yield, or the
/// outcome.
pub(super) enum Step {
    Log(ByteString),
    Status(DeploymentStatus),
    // Boxed: a deployment is large and an outcome comes once per run.
    End(Box<Result<Deployment, Error>>),
}

/// Where the following stands.
enum Phase {
    /// The log stream is yet to be opened.
    Open,
    Streaming(Box<LogStream>),
    /// The log has ended; the status is read until it is final.
    AfterLog,
    /// There is no log to follow; the status is polled.
    Polling,
    Over,
}

/// How a status reads for a run.
enum Verdict {
    Running,
    Completed,
    Failed,
}

/// Only `completed` is success and only `pending` and `in_progress` are
/// known to be on the way. A status this version does not know may be a
/// new state on the way, so it is waited out, unless the log has ended: the
/// instance has then said the deployment is over, and it did not complete.
fn verdict(status: &DeploymentStatus, log_ended: bool) -> Verdict {
    match status.known() {
        Some(KnownDeploymentStatus::Completed) => Verdict::Completed,
        Some(KnownDeploymentStatus::Failed) => Verdict::Failed,
        Some(KnownDeploymentStatus::Pending | KnownDeploymentStatus::InProgress) => {
            Verdict::Running
        }
        None if log_ended => Verdict::Failed,
        None => Verdict::Running,
    }
}

/// Whether opening the log stream failed because the instance has no log
/// stream for the deployment (rather than because it is unreachable or the
/// token is refused), so that polling the status is the way on.
fn streams_no_log(error: &Error) -> bool {
    error.kind() == ErrorKind::NotFound
        || matches!(error.status().map(|s| s.as_u16()), Some(405 | 410 | 501))
}

/// The state of one run being followed.
pub(super) struct Follow {
    client: Client,
    id: String,
    name: String,
    wait_timeout: Duration,
    deadline: Instant,
    phase: Phase,
    /// The last log lines, oldest first, owned so that they do not keep
    /// whole received chunks alive.
    tail: VecDeque<String>,
    /// What the instance said when the log ended with an error.
    reason: Option<String>,
    last_status: Option<DeploymentStatus>,
    /// Status lookups made so far, for the backoff between them.
    lookups: u32,
    /// The outcome, held back while the status change that led to it is
    /// yielded.
    pending_end: Option<Result<Deployment, Error>>,
}

impl Follow {
    /// A run of deployment `id` to follow for `wait_timeout` from now.
    pub(super) fn new(client: Client, id: String, name: String, wait_timeout: Duration) -> Self {
        let now = Instant::now();
        let deadline = now
            .checked_add(wait_timeout.min(FAR_FUTURE))
            .unwrap_or(now + FAR_FUTURE);
        Follow {
            client,
            id,
            name,
            wait_timeout,
            deadline,
            phase: Phase::Open,
            tail: VecDeque::with_capacity(LOG_TAIL_LINES),
            reason: None,
            last_status: None,
            lookups: 0,
            pending_end: None,
        }
    }

    pub(super) async fn next_step(&mut self) -> Option<Step> {
        if matches!(self.phase, Phase::Over) {
            return None;
        }
        let step = match tokio::time::timeout_at(self.deadline, self.advance()).await {
            Ok(step) => step,
            Err(_elapsed) => Step::End(Box::new(self.final_status_lookup().await)),
        };
        if matches!(step, Step::End(_)) {
            // Drops the log stream, if one is open: its connection closes.
            self.phase = Phase::Over;
        }
        Some(step)
    }

    async fn advance(&mut self) -> Step {
        if let Some(end) = self.pending_end.take() {
            return Step::End(Box::new(end));
        }
        loop {
            match &mut self.phase {
                Phase::Open => {
                    let opened = self
                        .client
                        .log_stream(self.id.as_str())
                        .resume(Reconnect::default())
                        .open()
                        .await;
                    match opened {
                        Ok(stream) => self.phase = Phase::Streaming(Box::new(stream)),
                        Err(error) if streams_no_log(&error) => {
                            tracing::info!(
                                target: "dployr::deploy",
                                deployment = %self.id,
                                %error,
                                "the instance does not stream this deployment's log; polling its status instead"
                            );
                            self.phase = Phase::Polling;
                        }
                        Err(error) => return Step::End(Box::new(Err(error))),
                    }
                }
                Phase::Streaming(stream) => match stream.next().await {
                    Some(Ok(LogEvent::Line(line))) => {
                        if self.tail.len() == LOG_TAIL_LINES {
                            self.tail.pop_front();
                        }
                        self.tail.push_back(String::from(&*line));
                        return Step::Log(line);
                    }
                    Some(Ok(LogEvent::Done(_))) | None => self.phase = Phase::AfterLog,
                    Some(Ok(_)) => {}
                    Some(Err(error)) => match stream.reported_error() {
                        Some(reason) => {
                            self.reason = Some(reason.to_string());
                            self.phase = Phase::AfterLog;
                        }
                        None => {
                            // The stream has already tried to reconnect; the
                            // outcome does not depend on the log, so the
                            // run goes on without it.
                            tracing::warn!(
                                target: "dployr::deploy",
                                deployment = %self.id,
                                %error,
                                "lost this deployment's log stream; polling its status instead"
                            );
                            self.phase = Phase::Polling;
                        }
                    },
                },
                Phase::AfterLog | Phase::Polling => {
                    if let Some(step) = self.status_lookup().await {
                        return step;
                    }
                }
                Phase::Over => {
                    return Step::End(Box::new(Err(Error::new(
                        ErrorKind::Stream,
                        format!("following deployment {} has already ended", self.id),
                    ))))
                }
            }
        }
    }

    /// One status lookup, after the backoff the previous ones earned: the
    /// step it leads to, or `None` when there is nothing new.
    async fn status_lookup(&mut self) -> Option<Step> {
        if let Some(previous) = self.lookups.checked_sub(1) {
            let wait = self.client.inner.settings.retry.backoff(previous, None);
            tokio::time::sleep(wait.max(MIN_POLL_WAIT)).await;
        }
        self.lookups = self.lookups.saturating_add(1);
        let deployment = match find(&self.client, &self.id).await {
            Ok(deployment) => deployment,
            Err(error) => return Some(Step::End(Box::new(Err(error)))),
        };
        let status = deployment.status.clone();
        let changed =
            self.last_status.as_ref().map(ToString::to_string) != Some(status.to_string());
        self.last_status = Some(status.clone());
        let end = match verdict(&status, matches!(self.phase, Phase::AfterLog)) {
            Verdict::Running => None,
            Verdict::Completed => Some(Ok(deployment)),
            Verdict::Failed => Some(Err(self.failure(status.clone()))),
        };
        match (changed, end) {
            (true, end) => {
                self.pending_end = end;
                Some(Step::Status(status))
            }
            (false, Some(end)) => Some(Step::End(Box::new(end))),
            (false, None) => None,
        }
    }

    /// The outcome once the deadline has passed: the status read once more,
    /// briefly, and a timeout naming it unless it turned out final.
    async fn final_status_lookup(&mut self) -> Result<Deployment, Error> {
        let log_ended = matches!(self.phase, Phase::AfterLog);
        // The log stream closes now rather than after the last look.
        self.phase = Phase::Over;
        if let Ok(Ok(deployment)) =
            tokio::time::timeout(FINAL_LOOKUP_BUDGET, find(&self.client, &self.id)).await
        {
            match verdict(&deployment.status, log_ended) {
                Verdict::Completed => return Ok(deployment),
                Verdict::Failed => return Err(self.failure(deployment.status)),
                Verdict::Running => self.last_status = Some(deployment.status),
            }
        }
        let status = self
            .last_status
            .as_ref()
            .map_or_else(|| "unknown".to_string(), ToString::to_string);
        Err(Error::new(
            ErrorKind::Timeout,
            format!(
                "deployment {} ({}) did not end within {:?} (wait_timeout); its last known status is {status}",
                self.name, self.id, self.wait_timeout
            ),
        ))
    }

    fn failure(&self, status: DeploymentStatus) -> Error {
        Error::deployment_failed(
            self.id.as_str(),
            self.name.as_str(),
            status,
            self.reason.clone(),
            self.tail.iter().cloned().collect(),
        )
    }
}

/// The deployment `id`, paging through `GET /deployments` only as far as it.
async fn find(client: &Client, id: &str) -> Result<Deployment, Error> {
    let mut all = client.deployments_stream(STATUS_PAGE_SIZE);
    while let Some(deployment) = all.try_next().await? {
        if deployment.id == id {
            return Ok(deployment);
        }
    }
    Err(Error::new(
        ErrorKind::NotFound,
        format!("deployment {id} is not among the instance's deployments (GET /deployments)"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_completed_succeeds_and_unknown_states_end_with_the_log() {
        let verdict_of = |status: &str, log_ended| verdict(&status.into(), log_ended);
        assert!(matches!(verdict_of("completed", false), Verdict::Completed));
        assert!(matches!(verdict_of("failed", false), Verdict::Failed));
        assert!(matches!(verdict_of("in_progress", true), Verdict::Running));
        assert!(matches!(verdict_of("pending", true), Verdict::Running));
        assert!(matches!(verdict_of("cancelled", false), Verdict::Running));
        assert!(matches!(verdict_of("cancelled", true), Verdict::Failed));
    }
}
