//! The ways of making a call that `layer_cost` compares, and the loops that
//! make calls one at a time or many at once, as applications do.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use dployr::types::{ServiceList, SystemStatus};
use reqwest::header::ACCEPT;
use tokio::runtime::Runtime;

use super::server::{SERVICES, STATUS_TOTAL};

/// A token of the length an instance issues (a JWT of about 250 bytes), so
/// that sending it costs what it costs in use.
pub const TOKEN: &str = concat!(
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.",
    "eyJzdWIiOiJ1c2VyXzAxSE4ySzNNNE41UDZRN1I4UzlUMFUxVjJXIiwicm9sZSI6Im9wZXJhdG9yIiwiaW5zdGFuY2Ui",
    "OiJpbnN0XzAxSE4ySzNNNE41UDZRN1I4UzlUMFUxVjJXIiwiZXhwIjo0MTAyNDQ0ODAwfQ.",
    "c2lnbmF0dXJlLW9mLWV4YWN0bHktdGhpcnR5LXR3by1ieXRlcw"
);

/// The `limit` of the `list_services` call: one page of every service.
const LIMIT: i64 = SERVICES as i64;

/// One of the two answers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Answer {
    /// `GET /system/status`: a 128-byte `SystemStatus`.
    Status,
    /// `GET /services?limit=60`: a `ServiceList` of about 26 kB.
    Services,
}

impl Answer {
    /// What a call returns when the answer decoded as it should.
    fn expected(self) -> usize {
        match self {
            Answer::Status => STATUS_TOTAL,
            Answer::Services => SERVICES,
        }
    }
}

/// How one peer makes its calls.
#[derive(Clone)]
pub enum Call {
    /// Plain reqwest, as an application would write it without the SDK:
    /// the same token and `Accept` header, error statuses rejected, the
    /// answer decoded into the same generated type with `Response::json`.
    /// `deadline` is set on each request with `RequestBuilder::timeout`.
    Raw {
        http: reqwest::Client,
        base_url: Arc<str>,
        deadline: Option<Duration>,
    },
    /// The SDK's public API.
    Sdk(dployr::Client),
}

/// One column of the comparison.
#[derive(Clone)]
pub struct Peer {
    pub name: &'static str,
    pub call: Call,
    /// Keep a timer nearer than any call's deadline pending while the calls
    /// run, as a program with other timers would (an experiment).
    pub nearer_timer: bool,
}

impl Peer {
    /// Makes one call and returns what `Answer::expected` checks.
    async fn call(&self, answer: Answer) -> usize {
        match &self.call {
            Call::Sdk(client) => match answer {
                Answer::Status => {
                    let status = client.get_system_status().send().await;
                    let status = status.expect("the server answers").into_inner();
                    usize::try_from(status.services.total).expect("a count")
                }
                Answer::Services => {
                    let list = client.list_services().limit(LIMIT).send().await;
                    list.expect("the server answers")
                        .into_inner()
                        .services
                        .len()
                }
            },
            Call::Raw {
                http,
                base_url,
                deadline,
            } => {
                let mut request = match answer {
                    Answer::Status => http.get(format!("{base_url}/system/status")),
                    Answer::Services => http
                        .get(format!("{base_url}/services"))
                        .query(&[("limit", LIMIT)]),
                };
                request = request
                    .bearer_auth(TOKEN)
                    .header(ACCEPT, "application/json");
                if let Some(deadline) = deadline {
                    request = request.timeout(*deadline);
                }
                let response = request
                    .send()
                    .await
                    .expect("the server answers")
                    .error_for_status()
                    .expect("a 200");
                match answer {
                    Answer::Status => {
                        let status: SystemStatus = response.json().await.expect("a SystemStatus");
                        usize::try_from(status.services.total).expect("a count")
                    }
                    Answer::Services => {
                        let list: ServiceList = response.json().await.expect("a ServiceList");
                        list.services.len()
                    }
                }
            }
        }
    }
}

/// Makes `calls` calls with `peer` on `runtime`, `in_flight` at a time.
///
/// One at a time, the calls are awaited in the future given to `block_on`,
/// where a `#[tokio::main]` body runs. More at a time, `in_flight` tasks
/// are spawned (`tokio::spawn`, as applications do) and each takes the next
/// call from a shared count, so none idles while others still have calls
/// to make.
pub fn drive(runtime: &Runtime, peer: &Peer, answer: Answer, calls: usize, in_flight: usize) {
    runtime.block_on(async {
        // Longer than the round, nearer than any deadline; it only has to
        // be pending, never to fire.
        let timer = peer
            .nearer_timer
            .then(|| tokio::spawn(tokio::time::sleep(Duration::from_secs(10))));
        let expected = answer.expected();
        if in_flight <= 1 {
            for _ in 0..calls {
                assert_eq!(peer.call(answer).await, expected);
            }
        } else {
            let next = Arc::new(AtomicUsize::new(0));
            let tasks: Vec<_> = (0..in_flight)
                .map(|_| {
                    let (next, peer) = (Arc::clone(&next), peer.clone());
                    tokio::spawn(async move {
                        while next.fetch_add(1, Ordering::Relaxed) < calls {
                            assert_eq!(peer.call(answer).await, expected);
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.expect("a calling task failed");
            }
        }
        if let Some(timer) = timer {
            timer.abort();
        }
    });
}
