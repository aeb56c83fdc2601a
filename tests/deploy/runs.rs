//! Runs against `LocalInstance`.

use super::*;

#[tokio::test]
async fn a_deployment_is_followed_to_completed() {
    let instance = instance(Duration::from_millis(20)).await;
    let client = client(&instance);

    let run = client.deploy(request("web")).await.unwrap();
    assert_eq!(run.name(), "web");
    let id = run.id().to_string();
    let mut progress = run.progress();
    assert_eq!(progress.id(), id);
    let (steps, error) = guarded("follow", drain(&mut progress)).await;
    assert!(error.is_none(), "{error:?}");
    let deployment = progress.finish().await.unwrap();

    let mut want: Vec<String> = expected_lines("web", true)
        .into_iter()
        .map(|line| format!("| {line}"))
        .collect();
    want.push("= completed".to_string());
    assert_eq!(steps, want);
    assert_eq!(deployment.id, id);
    assert_eq!(deployment.status.to_string(), "completed");
    assert_eq!(deployment.config.name.as_deref(), Some("web"));
    // The log said when it ended: one lookup, one page.
    assert_eq!(answers_to(&instance, "GET", "/deployments").len(), 1);
    assert_eq!(answers_to(&instance, "GET", "/logs/stream").len(), 1);
}

#[tokio::test]
async fn wait_returns_the_completed_deployment() {
    let instance = instance(Duration::from_millis(10)).await;
    let client = client(&instance);
    let deployment = guarded("wait", async {
        client.deploy(request("api")).await?.wait().await
    })
    .await
    .unwrap();
    assert_eq!(deployment.status.to_string(), "completed");
}

#[tokio::test]
async fn a_failed_deployment_is_an_error_with_its_last_lines() {
    let instance = instance(Duration::from_millis(20)).await;
    instance.fail_deployments_named("broken");
    let client = client(&instance);

    let run = client.deploy(request("broken")).await.unwrap();
    let id = run.id().to_string();
    let mut progress = run.progress();
    let (steps, error) = guarded("follow", drain(&mut progress)).await;
    let error = error.expect("the stream ends with the failure");
    let mut want: Vec<String> = expected_lines("broken", false)
        .into_iter()
        .map(|line| format!("| {line}"))
        .collect();
    want.push("= failed".to_string());
    assert_eq!(steps, want);

    assert_eq!(error.kind(), ErrorKind::DeploymentFailed);
    assert_eq!(error.deployment_id(), Some(id.as_str()));
    assert_eq!(
        error
            .deployment_status()
            .map(ToString::to_string)
            .as_deref(),
        Some("failed")
    );
    assert_eq!(error.log_tail(), expected_lines("broken", false).as_slice());
    assert_eq!(
        error.message(),
        "build failed: the instance was told to fail deployments named `broken`",
        "the instance's own words"
    );
    let shown = error.to_string();
    assert!(shown.contains(&id) && shown.contains("failed"), "{shown}");
    assert!(shown.contains(&format!("/logs/stream?id={id}")), "{shown}");
    assert!(!shown.chars().any(char::is_control), "{shown}");

    // `finish` after the stream has yielded the error gives it again.
    let again = progress.finish().await.unwrap_err();
    assert_eq!(again.kind(), ErrorKind::DeploymentFailed);
    assert_eq!(again.to_string(), shown);
    assert_eq!(again.log_tail(), error.log_tail());

    // And `wait` gives the same without reading the steps.
    let waited = guarded("wait", async {
        client.deploy(request("broken")).await?.wait().await
    })
    .await
    .unwrap_err();
    assert_eq!(waited.kind(), ErrorKind::DeploymentFailed);
    assert_eq!(waited.log_tail().len(), 3);
}

// The instance drops each stream after one event; once the third drop is
// under way the fault is lifted (the reconnect waits for the 100 ms the
// instance asks, far longer than this test needs to react), so the stream
// is cut exactly three times.
#[tokio::test]
async fn a_log_stream_dropped_three_times_yields_every_line_once_in_order() {
    let instance = instance(Duration::from_millis(20)).await;
    instance.drop_log_streams_after(1);
    let client = client(&instance);

    let mut progress = client.deploy(request("web")).await.unwrap().progress();
    let mut steps = Vec::new();
    guarded("follow", async {
        while let Some(step) = progress.next().await {
            steps.push(describe(&step.unwrap()));
            if steps.len() == 3 {
                instance.clear_faults();
            }
        }
    })
    .await;
    let deployment = progress.finish().await.unwrap();

    let mut want: Vec<String> = expected_lines("web", true)
        .into_iter()
        .map(|line| format!("| {line}"))
        .collect();
    want.push("= completed".to_string());
    assert_eq!(steps, want, "every line once, in order");
    assert_eq!(deployment.status.to_string(), "completed");
    let opened = answers_to(&instance, "GET", "/logs/stream");
    assert_eq!(opened.len(), 4, "the first connection and three reconnects");
}

#[tokio::test]
async fn an_instance_that_does_not_stream_the_log_is_polled_for_the_status() {
    let (events, _guard) = capture_tracing();
    // Slow enough that polls (100 ms apart, then 200 ms) see each status,
    // with room to spare on a busy machine.
    let instance = instance(Duration::from_millis(400)).await;
    instance.refuse_log_streams(404);
    let client = client(&instance);

    let mut progress = client.deploy(request("web")).await.unwrap().progress();
    let (steps, error) = guarded("follow", drain(&mut progress)).await;
    assert!(error.is_none(), "{error:?}");
    let deployment = progress.finish().await.unwrap();

    assert_eq!(steps, ["= pending", "= in_progress", "= completed"]);
    assert_eq!(deployment.status.to_string(), "completed");
    let refused = answers_to(&instance, "GET", "/logs/stream");
    assert_eq!(refused.len(), 1, "a 404 is not retried");
    assert_eq!(refused[0].status, 404);
    // About 2 s of deployment, polled at least 100 ms apart (200 ms after
    // the first few): never a busy loop.
    let polls = answers_to(&instance, "GET", "/deployments").len();
    assert!((5..=20).contains(&polls), "{polls} polls");
    let logged = text(&events);
    assert!(
        logged.contains("does not stream this deployment's log; polling its status instead"),
        "{logged}"
    );
}

#[tokio::test]
async fn a_failure_found_by_polling_has_no_log_lines() {
    let instance = instance(Duration::from_millis(20)).await;
    instance.refuse_log_streams(404);
    instance.fail_deployments_named("broken");
    let client = client(&instance);

    let run = client.deploy(request("broken")).await.unwrap();
    let id = run.id().to_string();
    let error = guarded("wait", run.wait()).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::DeploymentFailed);
    assert_eq!(error.deployment_id(), Some(id.as_str()));
    assert!(error.log_tail().is_empty());
    assert!(error.to_string().contains("the instance gave no reason"));
}

#[tokio::test]
async fn the_deadline_ends_the_run_with_a_timeout_naming_the_status() {
    let instance = instance(Duration::from_secs(60)).await;
    let client = client(&instance);

    let run = client.deploy(request("slow")).await.unwrap();
    let id = run.id().to_string();
    let started = std::time::Instant::now();
    let error = guarded("wait", run.wait_timeout(Duration::from_millis(300)).wait())
        .await
        .unwrap_err();
    let took = started.elapsed();

    assert_eq!(error.kind(), ErrorKind::Timeout);
    let shown = error.to_string();
    assert!(shown.contains(&id), "{shown}");
    assert!(shown.contains("slow"), "{shown}");
    assert!(shown.contains("last known status is pending"), "{shown}");
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(3),
        "{took:?}"
    );
}

// Lists are newest first, 20 to a page when the run looks: with 25 newer
// deployments, this one is on the second page of three.
#[tokio::test]
async fn the_status_is_found_past_the_first_page_and_no_further() {
    let instance = instance(Duration::from_millis(20)).await;
    let client = client(&instance);
    for n in 0..20 {
        client
            .create_deployment()
            .body(request(&format!("older-{n}")))
            .send()
            .await
            .unwrap();
    }
    let run = client.deploy(request("web")).await.unwrap();
    let id = run.id().to_string();
    for n in 0..25 {
        client
            .create_deployment()
            .body(request(&format!("newer-{n}")))
            .send()
            .await
            .unwrap();
    }

    let deployment = guarded("wait", run.wait()).await.unwrap();
    assert_eq!(deployment.id, id);
    assert_eq!(deployment.status.to_string(), "completed");
    let pages = answers_to(&instance, "GET", "/deployments");
    assert_eq!(
        pages.len(),
        2,
        "the page with the deployment is the last read"
    );
    let body = |page: &RecordedResponse| String::from_utf8_lossy(&page.body).into_owned();
    assert!(!body(&pages[0]).contains(&id));
    assert!(body(&pages[1]).contains(&id));
    assert!(
        body(&pages[1]).contains(r#""total":46"#),
        "{}",
        body(&pages[1])
    );
}

#[tokio::test]
async fn dropping_the_progress_stops_all_work() {
    let instance = instance(Duration::from_secs(60)).await;
    instance.refuse_log_streams(404);
    let client = client(&instance);

    let mut progress = client.deploy(request("web")).await.unwrap().progress();
    let first = guarded("first step", progress.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(describe(&first), "= pending");
    drop(progress);
    let seen = instance.requests_seen();
    // Polling would have asked again within 200 ms.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(instance.requests_seen(), seen, "no request after the drop");
}

#[tokio::test]
async fn a_rejected_request_is_returned_by_deploy() {
    let instance = instance(Duration::from_millis(20)).await;
    let client = client(&instance);
    let mut request = request("web");
    request.remote = None;
    let error = client.deploy(request).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Validation);
    let fields: Vec<&str> = error.details().iter().map(|d| d.field.as_str()).collect();
    assert_eq!(fields, ["remote"]);
}
