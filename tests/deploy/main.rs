//! `Client::deploy`: a deployment followed to its end against
//! `LocalInstance` (completed, failed, a log stream that drops, one that is
//! refused, the deadline, paging for the status), the last-lines cap against
//! a scripted server, and `examples/deploy.rs` run as a process for its exit
//! codes. Each case runs under a guard that fails it rather than let it hang.
#![cfg(feature = "testing")]

#[path = "../support/mod.rs"]
mod support;

mod example;
mod runs;
mod scripted;

use std::future::Future;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;

use dployr::testing::{LocalInstance, RecordedResponse};
use dployr::types::{DeployRequest, KnownRuntime, KnownSource, RemoteObj, RuntimeObj};
use dployr::{Client, Error, ErrorKind, Progress, RetryConfig};

async fn guarded<F: Future>(what: &str, call: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(30), call)
        .await
        .unwrap_or_else(|_| panic!("{what}: no outcome after 30 s"))
}

/// An instance whose deployments take `phase` per step (five steps each).
async fn instance(phase: Duration) -> LocalInstance {
    LocalInstance::builder()
        .phase_delay(phase)
        .start()
        .await
        .unwrap()
}

/// A developer's client whose status polling waits 50 ms, doubling to
/// 200 ms, without jitter, so polling tests stay short and predictable.
fn client(instance: &LocalInstance) -> Client {
    Client::builder(instance.url())
        .access_token(instance.developer_token())
        .retry(
            RetryConfig::default()
                .backoff_base(Duration::from_millis(50))
                .backoff_max(Duration::from_millis(200))
                .jitter(false),
        )
        .build()
        .unwrap()
}

fn request(name: &str) -> DeployRequest {
    DeployRequest::builder()
        .name(name)
        .user_id("user-1")
        .source(KnownSource::Remote)
        .runtime(RuntimeObj {
            type_: KnownRuntime::Nodejs.into(),
            version: Some("20.11.0".into()),
        })
        .remote(Some(RemoteObj {
            url: format!("https://github.com/example/{name}.git"),
            branch: Some("main".into()),
            commit_hash: None,
        }))
        .port(Some(3000))
        .try_into()
        .unwrap()
}

/// The lines of `request(name)`'s build log; a failed one stops after
/// `building`.
fn expected_lines(name: &str, completes: bool) -> Vec<String> {
    let mut lines = vec![
        format!("cloning https://github.com/example/{name}.git (main)"),
        "installing nodejs@20.11.0".to_string(),
        "building".to_string(),
    ];
    if completes {
        lines.push(format!("starting {name} on port 3000"));
    }
    lines
}

/// What a progress stream yielded, as text: `| line` and `= status`.
fn describe(step: &Progress) -> String {
    match step {
        Progress::Log(line) => format!("| {line}"),
        Progress::Status(status) => format!("= {status}"),
        other => panic!("a step this test does not know: {other:?}"),
    }
}

/// Reads a progress stream to its end: the steps, and the error it ended
/// with, if any.
async fn drain(progress: &mut dployr::DeploymentProgress) -> (Vec<String>, Option<Error>) {
    let mut steps = Vec::new();
    while let Some(step) = progress.next().await {
        match step {
            Ok(step) => steps.push(describe(&step)),
            Err(error) => {
                assert!(progress.next().await.is_none(), "nothing after the error");
                return (steps, Some(error));
            }
        }
    }
    (steps, None)
}

fn answers_to(instance: &LocalInstance, method: &str, path: &str) -> Vec<RecordedResponse> {
    instance
        .responses()
        .into_iter()
        .filter(|r| r.method == method && r.path == path)
        .collect()
}

/// `tracing` output written while the returned guard lives, on this thread
/// (the tests run on a current-thread runtime).
fn capture_tracing() -> (Arc<Mutex<Vec<u8>>>, tracing::subscriber::DefaultGuard) {
    #[derive(Clone)]
    struct Capture(Arc<Mutex<Vec<u8>>>);
    impl io::Write for Capture {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let buffer = Arc::new(Mutex::new(Vec::new()));
    let writer = Capture(buffer.clone());
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    (buffer, tracing::subscriber::set_default(subscriber))
}

fn text(buffer: &Mutex<Vec<u8>>) -> String {
    String::from_utf8_lossy(&buffer.lock().unwrap()).into_owned()
}
