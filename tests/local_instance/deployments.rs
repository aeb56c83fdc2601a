//! Deployments, their build logs and the services they make.

use super::*;

#[tokio::test]
async fn a_deployment_completes_and_its_service_can_be_patched_replaced_and_deleted() {
    let instance = LocalInstance::start().await.unwrap();
    let (developer, tokens) = dployr::create_dployr_client(&instance.url()).unwrap();
    tokens.set_access_token(instance.developer_token());

    // Held at `pending` until the list below has seen it so.
    instance.hold_deployments();
    let created = developer
        .create_deployment()
        .body(request("web"))
        .send()
        .await
        .unwrap();
    assert!(created.success);
    assert_eq!(created.name, "web");

    let listed = developer.list_deployments().send().await.unwrap();
    assert_eq!(listed.total, 1);
    assert_eq!(listed.deployments[0].id, created.id);
    assert_eq!(listed.deployments[0].status, KnownDeploymentStatus::Pending);
    instance.release_deployments();

    let events: Vec<LogEvent> = developer
        .stream_logs(&created.id)
        .await
        .unwrap()
        .map(Result::unwrap)
        .collect()
        .await;
    let mut want: Vec<LogEvent> = expected_lines("web")
        .into_iter()
        .map(|line| LogEvent::Line(line.into()))
        .collect();
    want.push(LogEvent::Done("deployment web completed".into()));
    assert_eq!(events, want, "every line once, in order, then done");

    let listed = developer.list_deployments().send().await.unwrap();
    assert_eq!(
        listed.deployments[0].status,
        KnownDeploymentStatus::Completed
    );
    assert_eq!(listed.deployments[0].config.name.as_deref(), Some("web"));

    let services = developer.list_services().send().await.unwrap();
    assert_eq!(services.total, 1);
    let service = &services.services[0];
    assert_eq!(service.name, "web");
    assert_eq!(service.status.as_deref(), Some("running"));
    assert_eq!(service.port, Some(3000));
    assert_eq!(service.runtime_version.as_deref(), Some("20.11.0"));
    let id = service.id.clone();

    let patched = developer
        .patch_service()
        .service_id(id.as_str())
        .body(ServiceUpdate {
            description: Some("patched".into()),
            ..Default::default()
        })
        .send()
        .await
        .unwrap();
    assert_eq!(patched.description.as_deref(), Some("patched"));
    assert_eq!(
        patched.port,
        Some(3000),
        "PATCH keeps what it was not given"
    );
    assert_eq!(patched.run_cmd.as_deref(), Some("npm start"));

    let replaced = developer
        .update_service()
        .service_id(id.as_str())
        .body(ServiceUpdate {
            port: Some(4000),
            ..Default::default()
        })
        .send()
        .await
        .unwrap();
    assert_eq!(replaced.port, Some(4000));
    assert_eq!(replaced.name, "web", "the required name is kept");
    assert_eq!(
        replaced.description, None,
        "PUT clears what it was not given"
    );
    assert_eq!(replaced.run_cmd, None);
    assert_eq!(
        replaced
            .runtime
            .as_ref()
            .map(ToString::to_string)
            .as_deref(),
        Some("nodejs")
    );

    let admin = client(&instance, Role::Admin);
    admin
        .delete_service()
        .service_id(id.as_str())
        .send()
        .await
        .unwrap();
    let gone = error_of(developer.get_service().service_id(id.as_str()).send()).await;
    assert_eq!(gone.kind(), ErrorKind::NotFound);
    assert_eq!(gone.code(), Some("resource.not_found"));
    let again = error_of(admin.delete_service().service_id(id.as_str()).send()).await;
    assert_eq!(again.kind(), ErrorKind::NotFound);

    assert_answers_match_spec(&instance, &[]);
}

#[tokio::test]
async fn a_failed_deployment_ends_its_log_with_the_error_event() {
    let instance = instance(Duration::from_millis(20)).await;
    instance.fail_deployments_named("broken");
    let client = client(&instance, Role::Developer);
    let created = client
        .create_deployment()
        .body(request("broken"))
        .send()
        .await
        .unwrap();

    let events: Vec<_> = client
        .stream_logs(&created.id)
        .await
        .unwrap()
        .collect()
        .await;
    let (last, lines) = events.split_last().unwrap();
    let lines: Vec<LogEvent> = lines.iter().map(|e| e.as_ref().unwrap().clone()).collect();
    let want: Vec<LogEvent> = expected_lines("broken")[..3]
        .iter()
        .cloned()
        .map(|line| LogEvent::Line(line.into()))
        .collect();
    assert_eq!(lines, want);
    let error = last.as_ref().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Stream);
    assert!(error.to_string().contains("build failed"), "{error}");

    let listed = client.list_deployments().send().await.unwrap();
    assert_eq!(listed.deployments[0].status, KnownDeploymentStatus::Failed);
    let service = &client.list_services().send().await.unwrap().services[0];
    assert_eq!(service.status.as_deref(), Some("stopped"));

    let unknown = error_of(client.stream_logs("no-such-deployment")).await;
    assert_eq!(unknown.kind(), ErrorKind::NotFound);
    assert_answers_match_spec(&instance, &[]);
}

#[tokio::test]
async fn the_raw_stream_has_ids_heartbeats_and_a_final_done() {
    let instance = LocalInstance::builder()
        .phase_delay(Duration::from_millis(120))
        .heartbeat_interval(Duration::from_millis(40))
        .start()
        .await
        .unwrap();
    let client = client(&instance, Role::Developer);
    let created = client
        .create_deployment()
        .body(request("beat"))
        .send()
        .await
        .unwrap();
    let text = raw_log(&client, &instance, &created.id).await;
    assert!(text.contains(": heartbeat\n\n"), "{text}");
    for (n, line) in expected_lines("beat").iter().enumerate() {
        assert!(
            text.contains(&format!("id: {n}\ndata: {line}\n\n")),
            "{text}"
        );
    }
    // As in the API reference's example: no blank line after `done`.
    assert!(
        text.ends_with("\nid: 4\nevent: done\ndata: deployment beat completed\n"),
        "{text}"
    );
    assert!(!text.ends_with("\n\n"), "{text}");
    assert_answers_match_spec(&instance, &[]);
}

/// The body of a deployment's log stream, read to its end without decoding.
async fn raw_log(client: &Client, instance: &LocalInstance, id: &str) -> String {
    let mut body = client
        .open_log_stream()
        .id(id)
        .token(instance.viewer_token())
        .send()
        .await
        .unwrap()
        .into_inner_stream();
    let mut text = String::new();
    while let Some(chunk) = body.next().await {
        text.push_str(std::str::from_utf8(&chunk.unwrap()).unwrap());
    }
    text
}

#[tokio::test]
async fn asked_for_a_blank_line_after_the_last_event_the_stream_reads_the_same() {
    let instance = LocalInstance::builder()
        .phase_delay(Duration::from_millis(20))
        .blank_line_after_last_event(true)
        .start()
        .await
        .unwrap();
    instance.fail_deployments_named("broken");
    let client = client(&instance, Role::Developer);
    let web = client
        .create_deployment()
        .body(request("web"))
        .send()
        .await
        .unwrap();
    let broken = client
        .create_deployment()
        .body(request("broken"))
        .send()
        .await
        .unwrap();

    let text = raw_log(&client, &instance, &web.id).await;
    assert!(
        text.ends_with("\nid: 4\nevent: done\ndata: deployment web completed\n\n"),
        "{text}"
    );
    let events: Vec<LogEvent> = client
        .stream_logs(&web.id)
        .await
        .unwrap()
        .map(Result::unwrap)
        .collect()
        .await;
    assert_eq!(
        events.last(),
        Some(&LogEvent::Done("deployment web completed".into()))
    );
    assert_eq!(events.len(), 5, "{events:?}");

    let text = raw_log(&client, &instance, &broken.id).await;
    assert!(text.ends_with("\nid: 3\nevent: error\ndata: build failed: the instance was told to fail deployments named `broken`\n\n"), "{text}");
    let events: Vec<_> = client
        .stream_logs(&broken.id)
        .await
        .unwrap()
        .collect()
        .await;
    assert_eq!(events.len(), 4, "{events:?}");
    let error = events[3].as_ref().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Stream);
    assert!(error.to_string().contains("named `broken`"), "{error}");
    assert_answers_match_spec(&instance, &[]);
}

#[tokio::test]
async fn a_dropped_log_stream_resumes_without_losing_or_repeating_lines() {
    let instance = instance(Duration::from_millis(20)).await;
    instance.drop_log_streams_after(2);
    let client = client(&instance, Role::Developer);
    let created = client
        .create_deployment()
        .body(request("flaky"))
        .send()
        .await
        .unwrap();
    let events: Vec<LogEvent> = client
        .log_stream(created.id.as_str())
        .resume(Reconnect::default())
        .open()
        .await
        .unwrap()
        .map(Result::unwrap)
        .collect()
        .await;
    let mut want: Vec<LogEvent> = expected_lines("flaky")
        .into_iter()
        .map(|line| LogEvent::Line(line.into()))
        .collect();
    want.push(LogEvent::Done("deployment flaky completed".into()));
    assert_eq!(events, want);
    let connections = instance
        .responses()
        .iter()
        .filter(|r| r.path == "/logs/stream")
        .count();
    assert_eq!(connections, 3, "five events, two per connection");
    assert_answers_match_spec(&instance, &[]);
}
