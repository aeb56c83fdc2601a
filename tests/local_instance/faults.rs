//! Injected failures and the end of an instance's life.

use super::*;

#[tokio::test]
async fn injected_failures_are_retried_by_the_sdk_where_it_may() {
    let instance = instance(Duration::from_millis(20)).await;
    let client = client(&instance, Role::Developer);

    instance.fail_next(1, 503);
    client.list_services().send().await.unwrap();
    assert_eq!(instance.requests_seen(), 2, "one 503, one retry");

    instance.fail_next_with_retry_after(1, 429, 1);
    let started = Instant::now();
    client.list_services().send().await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "Retry-After is honoured"
    );

    instance.fail_next_with_retry_after(1, 503, 2);
    let error = error_of(client.create_deployment().body(request("web")).send()).await;
    assert_eq!(status_of(&error), Some(503), "a POST is not retried");
    assert_eq!(error.retry_after(), Some(Duration::from_secs(2)));

    instance.delay_responses(Duration::from_millis(300));
    let impatient = Client::builder(instance.url())
        .access_token(instance.viewer_token())
        .retry(dployr::RetryConfig::disabled())
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let slow = error_of(impatient.list_services().send()).await;
    assert_eq!(slow.kind(), ErrorKind::Timeout);
    instance.clear_faults();
    client.list_services().send().await.unwrap();
    assert_answers_match_spec(&instance, &[429, 503]);
}

#[tokio::test]
async fn a_stopped_instance_refuses_connections_and_ends_its_streams() {
    let instance = instance(Duration::from_secs(3600)).await;
    let client = client(&instance, Role::Developer);
    let created = client
        .create_deployment()
        .body(request("web"))
        .send()
        .await
        .unwrap();
    let mut logs = client.stream_logs(&created.id).await.unwrap();
    instance.shutdown().await;
    let ended = tokio::time::timeout(Duration::from_secs(5), logs.next())
        .await
        .expect("the stream ends when the instance stops");
    assert!(matches!(ended, Some(Err(_)) | None), "{ended:?}");
    assert_eq!(
        one_list_call(instance.url()).await.kind(),
        ErrorKind::Connect
    );

    assert_answers_match_spec(&instance, &[]);

    let dropped = LocalInstance::start().await.unwrap();
    let url = dropped.url();
    drop(dropped);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(one_list_call(url).await.kind(), ErrorKind::Connect);
}

/// The error of a single `listServices` attempt, without token or retries.
async fn one_list_call(url: String) -> dployr::Error {
    let client = Client::builder(url)
        .retry(dployr::RetryConfig::disabled())
        .build()
        .unwrap();
    error_of(client.list_services().send()).await
}
