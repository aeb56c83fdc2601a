//! Nothing of a dropped client keeps running: the thread that watches its
//! calls' deadlines ends at once, and no task of it is left on the runtime.
//! A test binary of its own, so that no other test's client has a thread of
//! the same name.

mod support;

use std::time::{Duration, Instant};

use dployr::{Client, RetryConfig};
use support::scripted::{json, ScriptedServer};

const STATUS: &str = r#"{"status":"healthy","uptime":"1s","services":{"total":1,"running":1,"stopped":0},"proxy":{"status":"running","routes":0}}"#;

/// The threads of this process named as the client's deadline sweeper.
fn sweepers() -> usize {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .filter(|name| name.trim_end() == "dployr-deadline")
        .count()
}

#[test]
fn nothing_of_a_dropped_client_keeps_running() {
    // The server has a runtime of its own, so that the client's runtime
    // counts only the client's tasks.
    let serving = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let server = serving.block_on(ScriptedServer::start(vec![vec![json(200, STATUS)]]));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let metrics = runtime.metrics();
    assert_eq!(sweepers(), 0);

    let client = Client::builder(&server.url)
        .access_token("token")
        .retry(RetryConfig::disabled())
        .build()
        .unwrap();
    let clone = client.clone();
    let status = runtime.block_on(clone.get_system_status().send()).unwrap();
    assert_eq!(status.services.running, 1);
    assert_eq!(sweepers(), 1, "a client in use has its sweeper");

    drop(client);
    assert_eq!(sweepers(), 1, "a clone still holds the client");
    drop(clone);
    let dropped = Instant::now();
    // Waits for the state, bounded so that a failure ends the test.
    // The runtime's one task while the client lived is its connection's,
    // which ends with the client's connection pool.
    let running = || sweepers() + metrics.num_alive_tasks();
    while running() > 0 && dropped.elapsed() < Duration::from_secs(10) {
        std::thread::yield_now();
    }
    let took = dropped.elapsed();
    assert_eq!(sweepers(), 0, "the sweeper outlived its client");
    assert!(took <= Duration::from_secs(1), "ended after {took:?}");
    assert_eq!(metrics.num_alive_tasks(), 0, "a task outlived its client");
}
