//! `Client::call`: any operation sent by its facts from `dployr::operations()`,
//! checked as its typed builder would be, with the same auth and errors.

use dployr::{Client, ErrorKind, Operation, RetryConfig};
use httpmock::prelude::*;
use serde_json::json;

const TOKEN: &str = "access-token-for-call-tests";

fn operation(id: &str) -> &'static Operation {
    Operation::find(id).unwrap_or_else(|| panic!("the spec has no {id}"))
}

fn client_for(server: &MockServer) -> Client {
    Client::builder(server.base_url())
        .access_token(TOKEN)
        .retry(RetryConfig::disabled())
        .build()
        .unwrap()
}

#[test]
fn the_table_lists_every_operation_of_the_spec_once() {
    let ids: Vec<&str> = dployr::operations().iter().map(|op| op.id()).collect();
    assert_eq!(ids.len(), 18, "{ids:?}");
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), ids.len());
    let get = operation("getService");
    assert_eq!(
        (get.method(), get.path(), get.tag()),
        ("GET", "/services/{serviceId}", "services")
    );
    assert_eq!(get.answer_type(), Some("Service"));
    let stream = operation("openLogStream");
    assert!(stream.is_streaming());
    assert!(stream
        .parameters()
        .iter()
        .any(|p| p.name() == "token" && p.is_credential()));
    assert!(operation("registerInstance").is_public());
    assert_eq!(dployr::MAX_PAGE_SIZE, 100);
}

#[tokio::test]
async fn a_call_fills_its_path_encoded_and_carries_the_token() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/services/a%2Fb")
                .header("authorization", format!("Bearer {TOKEN}"));
            then.status(200)
                .header("content-type", "application/json")
                .body(json!({"id": "a/b", "name": "web"}).to_string());
        })
        .await;

    let get = operation("getService");
    let answer = client_for(&server)
        .call(get)
        .path_param("serviceId", "a/b")
        .send()
        .await
        .unwrap();

    mock.assert_async().await;
    let decoded = get.decode_answer(&answer.body).unwrap();
    assert_eq!(decoded["name"], "web");
}

#[tokio::test]
async fn a_call_is_checked_before_anything_is_sent() {
    let server = MockServer::start_async().await;
    let anything = server
        .mock_async(|when, then| {
            when.any_request();
            then.status(200);
        })
        .await;
    let client = client_for(&server);

    let missing = client
        .call(operation("getService"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::InvalidInput);
    assert_eq!(missing.field(), Some("serviceId"));

    let out_of_bounds = client
        .call(operation("listServices"))
        .query("limit", 1000)
        .send()
        .await
        .unwrap_err();
    assert_eq!(out_of_bounds.field(), Some("limit"));

    let wrong_body = client
        .call(operation("createDeployment"))
        .json(&json!({"name": 7}))
        .send()
        .await
        .unwrap_err();
    assert_eq!(wrong_body.kind(), ErrorKind::InvalidInput);
    assert_eq!(wrong_body.field(), Some("name"));
    assert_eq!(wrong_body.operation(), Some("createDeployment"));

    let stream = client
        .call(operation("openLogStream"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(stream.kind(), ErrorKind::InvalidInput);

    assert_eq!(anything.calls_async().await, 0);
}

#[tokio::test]
async fn a_public_operation_goes_without_the_token() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/system/register")
                .header_missing("authorization");
            then.status(204);
        })
        .await;
    let register = operation("registerInstance");
    let example = register.body_type().unwrap();
    assert_eq!(example, "RegisterInstanceRequest");

    client_for(&server)
        .call(register)
        .json(&json!({"claim": "claim-for-tests", "instance_id": "i-1"}))
        .send()
        .await
        .unwrap();

    mock.assert_async().await;
}
