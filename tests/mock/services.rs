//! Services through their mocks: path parameters as the client encodes
//! them, typed error answers, and a sequence of answers the client retries
//! through.

use std::time::Duration;

use dployr::mock::{MockServer, MockServerExt};
use dployr::types::{Service, ServiceList, ServiceUpdate};
use dployr::{Client, ErrorKind, RetryConfig};

use super::{client, error_body, example, json, SERVICE_ID, TOKEN};

#[tokio::test]
async fn list_services_mock() {
    let server = MockServer::start_async().await;
    let page: ServiceList = example("ServiceList");
    let listed = server.list_services(|when, then| {
        when.limit(Some(20)).bearer_token(TOKEN);
        then.success(200, &page);
    });
    let answer = client(&server)
        .list_services()
        .limit(20)
        .send()
        .await
        .expect("the mock answers");
    listed.assert();
    assert_eq!(json(&*answer), json(&page));
}

#[tokio::test]
async fn get_service_mock() {
    let server = MockServer::start_async().await;
    let service: Service = example("Service");
    let got = server.get_service(|when, then| {
        when.service_id(SERVICE_ID).bearer_token(TOKEN);
        then.success(200, &service);
    });
    let answer = client(&server)
        .get_service()
        .service_id(SERVICE_ID)
        .send()
        .await
        .expect("the mock matches the encoded path");
    got.assert();
    assert_eq!(json(&*answer), json(&service));
}

#[tokio::test]
async fn a_declared_404_is_a_typed_not_found() {
    let server = MockServer::start_async().await;
    let missing = server.get_service(|when, then| {
        when.service_id("svc_gone");
        then.not_found(&error_body(
            "service svc_gone not found",
            "resource.not_found",
        ));
    });
    let error = client(&server)
        .get_service()
        .service_id("svc_gone")
        .send()
        .await
        .expect_err("the mock answers 404");
    missing.assert();
    assert_eq!(error.kind(), ErrorKind::NotFound);
    assert_eq!(error.message(), "service svc_gone not found");
    assert_eq!(error.code(), Some("resource.not_found"));
}

#[tokio::test]
async fn update_service_mock() {
    let server = MockServer::start_async().await;
    let update: ServiceUpdate = example("ServiceUpdate");
    let service: Service = example("Service");
    let updated = server.update_service(|when, then| {
        when.service_id(SERVICE_ID)
            .body(&update)
            .bearer_token(TOKEN);
        then.success(200, &service);
    });
    let answer = client(&server)
        .update_service()
        .service_id(SERVICE_ID)
        .body(update)
        .send()
        .await
        .expect("the mock answers");
    updated.assert();
    assert_eq!(json(&*answer), json(&service));
}

#[tokio::test]
async fn patch_service_mock() {
    let server = MockServer::start_async().await;
    let patch = ServiceUpdate {
        port: Some(8080),
        ..Default::default()
    };
    let service: Service = example("Service");
    let patched = server.patch_service(|when, then| {
        when.service_id(SERVICE_ID).body(&patch);
        then.success(200, &service);
    });
    client(&server)
        .patch_service()
        .service_id(SERVICE_ID)
        .body(patch)
        .send()
        .await
        .expect("the mock matches a body with only the port");
    patched.assert();
}

#[tokio::test]
async fn delete_service_mock() {
    let server = MockServer::start_async().await;
    let deleted = server.delete_service(|when, then| {
        when.service_id(SERVICE_ID).bearer_token(TOKEN);
        then.success(204);
    });
    let answer = client(&server)
        .delete_service()
        .service_id(SERVICE_ID)
        .send()
        .await
        .expect("the mock answers");
    deleted.assert();
    assert_eq!(answer.status().as_u16(), 204);
}

/// `503, 503, 200`: two mocks, the first limited to two hits.
#[tokio::test]
async fn the_client_retries_503s_to_the_scripted_success() {
    let server = MockServer::start_async().await;
    let service: Service = example("Service");
    let unavailable = server.get_service(|when, then| {
        when.service_id("svc_1");
        then.status(503).up_to_n_times(2);
    });
    let available = server.get_service(|when, then| {
        when.service_id("svc_1");
        then.success(200, &service);
    });
    let client = Client::builder(server.base_url())
        .access_token(TOKEN)
        .retry(
            RetryConfig::default()
                .backoff_base(Duration::from_millis(1))
                .backoff_max(Duration::from_millis(5)),
        )
        .build()
        .expect("a client");
    let answer = client
        .get_service()
        .service_id("svc_1")
        .send()
        .await
        .expect("the third attempt succeeds");
    unavailable.assert_calls(2);
    available.assert_calls(1);
    assert_eq!(json(&*answer), json(&service));
}
