//! `dployrctl deploy` and `dployrctl logs`: what a pipeline sees.

use std::time::Duration;

use serde_json::Value;

use crate::support::{path, run, sample, sample_named, scratch, Instance};

#[test]
fn deploy_wait_exits_0_after_the_live_log_with_the_deployment_on_stdout() {
    let instance = Instance::start();
    let ran = instance.run(&["deploy", "--file", path(&sample()), "--wait"]);
    ran.expect(0);
    assert!(
        ran.stderr.starts_with("deploying hello-web as "),
        "{}",
        ran.stderr
    );
    assert!(
        ran.stderr
            .contains("  | cloning https://github.com/example/hello-web.git (main)\n"),
        "{}",
        ran.stderr
    );
    assert!(ran.stderr.contains("  = completed\n"), "{}", ran.stderr);
    let deployment: dployr::types::Deployment = serde_json::from_str(&ran.stdout).unwrap();
    assert_eq!(deployment.status.to_string(), "completed");
}

#[test]
fn deploy_wait_exits_1_after_the_last_lines_and_the_reason() {
    let instance = Instance::start();
    instance.local.fail_deployments_named("hello-web");
    let ran = instance.run(&["deploy", "--file", path(&sample()), "--wait"]);
    ran.expect(1);
    assert!(ran.stderr.contains("  | building\n"), "{}", ran.stderr);
    let last = ran.stderr.lines().last().unwrap();
    assert!(
        last.starts_with("error: deployment hello-web (")
            && last.contains("ended with status failed"),
        "{}",
        ran.stderr
    );
    assert!(ran.stdout.is_empty(), "{}", ran.stdout);
    assert!(!ran.stderr.contains("log_tail"), "{}", ran.stderr);
    assert!(last.contains("dployrctl logs "), "{}", ran.stderr);
}

#[test]
fn verbose_shows_every_attempt_of_a_deploy_polls_and_stream_opens_included() {
    let instance = Instance::start();
    let token = instance.local.owner_token().to_string();
    let ran = instance.run(&["--verbose", "deploy", "--file", path(&sample()), "--wait"]);
    ran.expect(0);
    let attempts: Vec<&str> = ran.stderr.lines().filter(|l| l.starts_with("> ")).collect();
    assert!(
        attempts
            .iter()
            .any(|l| l.starts_with("> POST /deployments  201")
                || l.starts_with("> POST /deployments  200")),
        "{}",
        ran.stderr
    );
    let open = attempts
        .iter()
        .find(|l| l.starts_with("> GET /logs/stream?"))
        .unwrap_or_else(|| panic!("no stream open in\n{}", ran.stderr));
    assert!(open.contains("token=redacted"), "{open}");
    for line in &attempts {
        assert!(line.contains(" ms  (attempt "), "{line}");
    }
    assert!(!ran.stderr.contains(&token));
}

#[test]
fn deploy_without_wait_prints_the_created_deployment() {
    let instance = Instance::start();
    let ran = run(
        &["deploy", "--file", "-"],
        &[
            ("DPLOYR_URL", &instance.local.url()),
            ("DPLOYR_TOKEN", instance.local.developer_token()),
        ],
        Some(&sample_named("from-stdin")),
    );
    ran.expect(0);
    let created = ran.json();
    assert_eq!(created["name"], "from-stdin");
    assert!(created["id"].as_str().is_some_and(|id| !id.is_empty()));
}

#[test]
fn deploy_exits_2_naming_what_is_wrong_and_sends_nothing() {
    let instance = Instance::start();
    let mut no_runtime: Value = serde_json::from_str(&sample_named("x")).unwrap();
    no_runtime.as_object_mut().unwrap().remove("runtime");
    let mut bad_port: Value = serde_json::from_str(&sample_named("x")).unwrap();
    bad_port["port"] = Value::from("eighty");
    let cases = [
        (
            scratch("deploy-missing.json", "").with_file_name("dployrctl-no-such-file.json"),
            "cannot read",
        ),
        (
            scratch("deploy-truncated.json", r#"{"name": "web""#),
            "is not JSON",
        ),
        (
            scratch("deploy-no-runtime.json", &no_runtime.to_string()),
            "runtime",
        ),
        (
            scratch("deploy-bad-port.json", &bad_port.to_string()),
            "port",
        ),
    ];
    for (file, says) in &cases {
        let ran = instance.run(&["deploy", "--file", path(file), "--wait"]);
        ran.expect(2);
        assert!(ran.stderr.contains(says), "{says}: {}", ran.stderr);
        assert_eq!(ran.stderr.lines().count(), 1, "{}", ran.stderr);
    }
    assert_eq!(
        instance.run(&["deployments", "list"]).json(),
        serde_json::json!([])
    );
    // A port the spec bounds is refused by the SDK's check, naming it.
    let ran = instance.run(&[
        "deployments",
        "create",
        "--body",
        path(&sample()),
        "--set",
        "port=70000",
    ]);
    ran.expect(2);
    assert!(ran.stderr.contains("port"), "{}", ran.stderr);
}

#[test]
fn logs_follow_a_running_deployment_to_its_end_across_drops() {
    let instance = Instance::start();
    let created = instance.run(&["deploy", "--file", path(&sample())]);
    let id = created.json()["id"].as_str().unwrap().to_string();
    let whole = instance.run(&["logs", &id, "--follow"]);
    whole.expect(0);
    assert!(!whole.stderr.contains("reconnecting"), "{}", whole.stderr);
    instance.local.drop_log_streams_after(2);
    let ran = instance.run(&["logs", &id, "--follow"]);
    ran.expect(0);
    assert!(
        ran.stderr
            .contains("the log stream dropped; reconnecting (attempt 1 of "),
        "{}",
        ran.stderr
    );
    assert_eq!(
        ran.stdout.lines().collect::<Vec<_>>(),
        [
            "cloning https://github.com/example/hello-web.git (main)",
            "installing nodejs@20.11.0",
            "building",
            "starting hello-web on port 3000",
        ],
        "every line once, in order"
    );
    instance.run(&["logs", "no-such-deployment"]).expect(4);
}

#[test]
fn logs_without_follow_stop_once_the_log_goes_quiet() {
    // Each step takes 3 s, so the log is still being written.
    let instance = Instance::start_with(Duration::from_secs(3));
    let id = instance.run(&["deploy", "--file", path(&sample())]).json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let started = std::time::Instant::now();
    let ran = instance.run(&["logs", &id]);
    ran.expect(0);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(!ran.stdout.contains("starting hello-web"), "{}", ran.stdout);
}
