//! Deployments through their mocks: the query sent, and the typed body.

use dployr::mock::{MockServer, MockServerExt};
use dployr::types::{DeployRequest, DeployResponse, DeploymentList};

use super::{client, example, json, TOKEN};

#[tokio::test]
async fn list_deployments_mock() {
    let server = MockServer::start_async().await;
    let page: DeploymentList = example("DeploymentList");
    let listed = server.list_deployments(|when, then| {
        when.limit(Some(20)).offset(Some(40)).bearer_token(TOKEN);
        then.success(200, &page);
    });
    let answer = client(&server)
        .list_deployments()
        .limit(20)
        .offset(40)
        .send()
        .await
        .expect("the mock answers");
    listed.assert();
    assert_eq!(json(&*answer), json(&page));
}

#[tokio::test]
async fn an_absent_query_parameter_is_matched_with_none() {
    let server = MockServer::start_async().await;
    let page: DeploymentList = example("DeploymentList");
    let unpaged = server.list_deployments(|when, then| {
        when.limit(None).offset(None);
        then.success(200, &page);
    });
    client(&server)
        .list_deployments()
        .send()
        .await
        .expect("a request without limit or offset matches");
    unpaged.assert();

    // The same mock does not answer a request that sends a limit.
    let error = client(&server)
        .list_deployments()
        .limit(5)
        .send()
        .await
        .expect_err("no mock matches a request with a limit");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(404));
    unpaged.assert_calls(1);
}

/// The body the client sent is the deployment the code under test built,
/// compared as the client's own type.
#[tokio::test]
async fn create_deployment_mock() {
    let server = MockServer::start_async().await;
    let request: DeployRequest = example("DeployRequest");
    let created: DeployResponse = example("DeployResponse");
    let create = server.create_deployment(|when, then| {
        when.body(&request).bearer_token(TOKEN);
        then.success(201, &created);
    });
    let answer = client(&server)
        .create_deployment()
        .body(request.clone())
        .send()
        .await
        .expect("the mock answers");
    create.assert();
    assert_eq!(answer.status().as_u16(), 201);
    assert_eq!(json(&*answer), json(&created));

    // A different deployment does not match the body matcher.
    let mut other = request;
    other.port = Some(other.port.unwrap_or(80) + 1);
    client(&server)
        .create_deployment()
        .body(other)
        .send()
        .await
        .expect_err("a different body matches no mock");
    create.assert_calls(1);
}
