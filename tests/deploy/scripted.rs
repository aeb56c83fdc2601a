//! Against a scripted server: what a real instance may do that
//! `LocalInstance` does not (long logs, a status that lags the log).

use super::support::scripted::{json, send, sse_head, ScriptedServer};
use super::*;

const ID: &str = "01HN2K3M4N5P6Q7R8S9T0U1V2W";

fn deployment_list(status: &str) -> String {
    format!(
        r#"{{"deployments":[{{"id":"{ID}","user_id":"u","config":{{"name":"web"}},"status":"{status}","created_at":"2024-01-01T12:00:00Z","updated_at":"2024-01-01T12:05:00Z"}}],"total":1}}"#
    )
}

// Each answer closes its connection, so connection n answers request n:
// the create, the log stream, then two status lookups, the first of which
// still says `in_progress` after the log has ended.
#[tokio::test]
async fn a_long_failed_log_keeps_its_last_twenty_lines_and_the_status_is_awaited() {
    let log: String = (1..=30)
        .map(|n| format!("id: {n}\ndata: line {n}\n\n"))
        .collect();
    let server = ScriptedServer::start(vec![
        vec![json(
            201,
            &format!(
                r#"{{"success":true,"id":"{ID}","name":"web","created_at":"2024-01-01T12:00:00Z"}}"#
            ),
        )],
        vec![
            sse_head(),
            send(&log),
            send("id: 31\nevent: error\ndata: exit status 1\ndata: npm ERR! missing script: build\n\n"),
        ],
        vec![json(200, &deployment_list("in_progress"))],
        vec![json(200, &deployment_list("failed"))],
    ])
    .await;
    let client = Client::builder(&server.url)
        .access_token("access")
        .retry(
            RetryConfig::default()
                .backoff_base(Duration::from_millis(10))
                .jitter(false),
        )
        .build()
        .unwrap();

    let mut progress = client.deploy(request("web")).await.unwrap().progress();
    let (steps, error) = guarded("follow", drain(&mut progress)).await;
    let error = error.expect("the deployment failed");

    let mut want: Vec<String> = (1..=30).map(|n| format!("| line {n}")).collect();
    want.push("= in_progress".to_string());
    want.push("= failed".to_string());
    assert_eq!(steps, want);
    assert_eq!(error.kind(), ErrorKind::DeploymentFailed);
    let tail: Vec<String> = (11..=30).map(|n| format!("line {n}")).collect();
    assert_eq!(
        error.log_tail(),
        tail.as_slice(),
        "the last 20, oldest first"
    );
    assert_eq!(
        error.message(),
        "exit status 1\nnpm ERR! missing script: build"
    );
    assert!(
        error
            .to_string()
            .contains("(exit status 1 npm ERR! missing script: build)"),
        "{error}"
    );
    let targets: Vec<String> = server.requests().iter().map(|r| r.target.clone()).collect();
    assert_eq!(targets.len(), 4, "{targets:?}");
    assert!(targets[1].starts_with("/logs/stream?"), "{targets:?}");
    assert!(targets[2].starts_with("/deployments?"), "{targets:?}");
}
