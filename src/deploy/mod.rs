//! [`Client::deploy`]: a deployment created, then followed to its end, as a
//! CI step needs: its build log as it is written, its status as it is
//! learned, and its outcome, the deployment when it completed or a typed
//! [`ErrorKind::DeploymentFailed`] when it did not.
//!
//! The API has no `GET /deployments/{id}`: a status is found by paging
//! through `GET /deployments`, newest first, until the deployment turns up.

use std::fmt;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_core::Stream;
use futures_util::StreamExt;

use crate::error::{Error, ErrorKind};
use crate::sse::ByteString;
use crate::types::{DeployRequest, Deployment, DeploymentStatus};
use crate::Client;

mod follow;

use follow::{Follow, Step};

/// How long [`DeploymentRun::wait`] and [`DeploymentRun::progress`] follow a
/// deployment before giving up, unless [`DeploymentRun::wait_timeout`] says
/// otherwise: long enough for a slow build, short enough for a CI job.
pub const DEFAULT_WAIT_TIMEOUT: Duration = Duration::from_secs(30 * 60);

impl Client {
    /// Creates a deployment (`POST /deployments`) and returns a handle on it,
    /// to follow with [`DeploymentRun::progress`] or [`DeploymentRun::wait`].
    /// Takes a [`DeployRequest`] or its builder.
    ///
    /// Nothing is followed until one of those is called; an error from the
    /// create call (a rejected request, say, with [`Error::details`]) is
    /// returned here.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use dployr::types::{DeployRequest, KnownRuntime, KnownSource, RemoteObj, RuntimeObj};
    /// # let instance = dployr::testing::LocalInstance::builder()
    /// #     .phase_delay(std::time::Duration::from_millis(5))
    /// #     .start()
    /// #     .await?;
    /// # let client = dployr::Client::builder(instance.url())
    /// #     .access_token(instance.developer_token())
    /// #     .build()?;
    ///
    /// let request = DeployRequest::builder()
    ///     .name("web")
    ///     .user_id("user-1")
    ///     .source(KnownSource::Remote)
    ///     .runtime(RuntimeObj { type_: KnownRuntime::Nodejs.into(), version: None })
    ///     .remote(Some(RemoteObj {
    ///         url: "https://github.com/example/web.git".into(),
    ///         branch: None,
    ///         commit_hash: None,
    ///     }));
    /// let deployment = client.deploy(request).await?.wait().await?;
    /// assert_eq!(deployment.status.to_string(), "completed");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn deploy<R>(&self, request: R) -> Result<DeploymentRun, Error>
    where
        R: TryInto<DeployRequest>,
        R::Error: fmt::Display,
    {
        let created = self
            .create_deployment()
            .body(request)
            .send()
            .await?
            .into_inner();
        Ok(DeploymentRun {
            client: self.clone(),
            id: created.id,
            name: created.name,
            created_at: created.created_at,
            wait_timeout: DEFAULT_WAIT_TIMEOUT,
        })
    }
}

/// A deployment just created by [`Client::deploy`], not yet followed.
///
/// [`progress`](Self::progress) follows it step by step,
/// [`wait`](Self::wait) only for the outcome. Either way the build log is
/// followed with resume on (no line lost or repeated when the connection
/// drops), and when the log ends the final status is read from the API.
/// When the instance does not stream the deployment's log (404), its status
/// is polled instead, with the client's retry backoff, and a `tracing` event
/// says so. Only `completed` is success; `failed` is an
/// [`ErrorKind::DeploymentFailed`] error, and so is a status this version
/// does not know, once the log has ended.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # use dployr::types::{DeployRequest, KnownRuntime, KnownSource, RuntimeObj};
/// # let instance = dployr::testing::LocalInstance::builder()
/// #     .phase_delay(std::time::Duration::from_millis(5))
/// #     .start()
/// #     .await?;
/// # let client = dployr::Client::builder(instance.url())
/// #     .access_token(instance.developer_token())
/// #     .build()?;
/// # let request = DeployRequest::builder()
/// #     .name("api")
/// #     .user_id("user-1")
/// #     .source(KnownSource::Image)
/// #     .runtime(RuntimeObj { type_: KnownRuntime::Docker.into(), version: None })
/// #     .image(Some("example/api:1".to_string()));
/// use std::time::Duration;
/// let run = client.deploy(request).await?;
/// println!("deploying {} as {} (created {})", run.name(), run.id(), run.created_at());
/// let deployment = run.wait_timeout(Duration::from_secs(600)).wait().await?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
#[must_use = "the deployment is not followed until `progress` or `wait` is called"]
pub struct DeploymentRun {
    client: Client,
    id: String,
    name: String,
    created_at: DateTime<Utc>,
    wait_timeout: Duration,
}

impl DeploymentRun {
    /// The deployment's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The deployment's name, as the instance accepted it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// When the instance created the deployment.
    pub fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }

    /// How long to follow the deployment, counted from
    /// [`progress`](Self::progress) or [`wait`](Self::wait) (default
    /// [`DEFAULT_WAIT_TIMEOUT`], 30 minutes). When it passes, the run ends
    /// with [`ErrorKind::Timeout`] naming the deployment and its last known
    /// status, read once more for at most 5 s.
    pub fn wait_timeout(mut self, timeout: Duration) -> Self {
        self.wait_timeout = timeout;
        self
    }

    /// Follows the deployment: a stream of its log lines and status changes,
    /// then its outcome from [`DeploymentProgress::finish`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use dployr::types::{DeployRequest, KnownRuntime, KnownSource, RuntimeObj};
    /// # let instance = dployr::testing::LocalInstance::builder()
    /// #     .phase_delay(std::time::Duration::from_millis(5))
    /// #     .start()
    /// #     .await?;
    /// # let client = dployr::Client::builder(instance.url())
    /// #     .access_token(instance.developer_token())
    /// #     .build()?;
    /// # let request = DeployRequest::builder()
    /// #     .name("api")
    /// #     .user_id("user-1")
    /// #     .source(KnownSource::Image)
    /// #     .runtime(RuntimeObj { type_: KnownRuntime::Docker.into(), version: None })
    /// #     .image(Some("example/api:1".to_string()));
    /// use futures::StreamExt;
    ///
    /// let run = client.deploy(request).await?;
    /// let mut progress = run.progress();
    /// while let Some(step) = progress.next().await {
    ///     match step? {
    ///         dployr::Progress::Log(line) => println!("  | {line}"),
    ///         dployr::Progress::Status(status) => println!("  = {status}"),
    ///         _ => {}
    ///     }
    /// }
    /// let deployment = progress.finish().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn progress(self) -> DeploymentProgress {
        let follow = Follow::new(
            self.client,
            self.id.clone(),
            self.name.clone(),
            self.wait_timeout,
        );
        let steps = futures_util::stream::unfold(follow, |mut follow| async move {
            let step = follow.next_step().await?;
            Some((step, follow))
        });
        DeploymentProgress {
            id: self.id,
            name: self.name,
            steps: Box::pin(steps),
            ended: false,
            outcome: None,
        }
    }

    /// Follows the deployment to its end and returns it, with status
    /// `completed`; see [`Client::deploy`] for an example.
    pub async fn wait(self) -> Result<Deployment, Error> {
        self.progress().finish().await
    }
}

/// One step of a deployment being followed; see [`DeploymentRun::progress`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Progress {
    /// A line of the build log. It dereferences to `&str` and displays as
    /// text; convert it with `String::from` to keep it for long.
    Log(ByteString),
    /// The status the deployment was seen in, each time it changed. Only the
    /// API tells a status, so it is reported when the run reads one: when
    /// the log ends, and at each poll when it is polled.
    Status(DeploymentStatus),
}

/// The log lines and status changes of a deployment, from
/// [`DeploymentRun::progress`]; [`finish`](Self::finish) gives its outcome.
///
/// It ends after the last step; when the deployment did not complete, that
/// last item is the error. [`finish`](Self::finish) returns it too, or,
/// once the stream has handed it out, a copy: the same kind and message,
/// and for [`ErrorKind::DeploymentFailed`] the same accessors, but no
/// `source()` or HTTP details. Dropping it closes the log stream and stops
/// all work: nothing runs in the background.
#[must_use = "a deployment is followed only while its progress is polled"]
pub struct DeploymentProgress {
    id: String,
    name: String,
    steps: Pin<Box<dyn Stream<Item = Step> + Send>>,
    ended: bool,
    /// The outcome, once the stream has reached it.
    outcome: Option<Result<Deployment, Error>>,
}

impl fmt::Debug for DeploymentProgress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeploymentProgress")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

impl DeploymentProgress {
    /// The id of the deployment being followed.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Follows the deployment to its end, skipping the steps not read yet,
    /// and returns it when its status is `completed`. A deployment that
    /// ended otherwise is [`ErrorKind::DeploymentFailed`]; the deadline
    /// passing is [`ErrorKind::Timeout`]; a failed call is its own error.
    pub async fn finish(mut self) -> Result<Deployment, Error> {
        while !self.ended {
            match self.steps.next().await {
                Some(Step::Log(_) | Step::Status(_)) => {}
                Some(Step::End(outcome)) => return *outcome,
                None => self.ended = true,
            }
        }
        self.outcome.take().unwrap_or_else(|| {
            Err(Error::new(
                ErrorKind::Stream,
                format!("following deployment {} ended without an outcome", self.id),
            ))
        })
    }
}

impl Stream for DeploymentProgress {
    type Item = Result<Progress, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.ended {
            return Poll::Ready(None);
        }
        match ready!(this.steps.as_mut().poll_next(cx)) {
            Some(Step::Log(line)) => Poll::Ready(Some(Ok(Progress::Log(line)))),
            Some(Step::Status(status)) => Poll::Ready(Some(Ok(Progress::Status(status)))),
            Some(Step::End(outcome)) => {
                this.ended = true;
                match *outcome {
                    Ok(deployment) => {
                        this.outcome = Some(Ok(deployment));
                        Poll::Ready(None)
                    }
                    Err(error) => {
                        this.outcome = Some(Err(copy_of_error(&error, &this.name)));
                        Poll::Ready(Some(Err(error)))
                    }
                }
            }
            None => {
                this.ended = true;
                Poll::Ready(None)
            }
        }
    }
}

/// An error like `error`, for [`DeploymentProgress::finish`] once the stream
/// has handed `error` itself to the caller. `Error` is not `Clone`: its
/// source may not be.
fn copy_of_error(error: &Error, name: &str) -> Error {
    match (error.deployment_id(), error.deployment_status()) {
        (Some(id), Some(status)) => Error::deployment_failed(
            id,
            name,
            status.clone(),
            Some(error.message().to_string()),
            error.log_tail().to_vec(),
        ),
        _ => Error::new(error.kind(), error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_keeps_what_a_failure_carries() {
        let failed = Error::deployment_failed(
            "01HX",
            "web",
            "failed".into(),
            Some("exit 1".into()),
            vec!["building".into()],
        );
        let again = copy_of_error(&failed, "web");
        assert_eq!(again.kind(), ErrorKind::DeploymentFailed);
        assert_eq!(again.to_string(), failed.to_string());
        assert_eq!(again.log_tail(), failed.log_tail());
        let timeout = Error::new(ErrorKind::Timeout, "too slow");
        let again = copy_of_error(&timeout, "web");
        assert_eq!(again.kind(), ErrorKind::Timeout);
        assert_eq!(again.to_string(), "too slow");
    }
}
