//! The proxy and system operations through their mocks, the public
//! operations sent without a token, and secrets kept out of `Debug`.

use dployr::mock::{MockServer, MockServerExt};
use dployr::types::{
    InstallRequest, Message, ProxyRoute, ProxyStatus, RegisterInstanceRequest,
    RequestDomainRequest, RequestDomainResponse, SystemDoctorResult, SystemInfo, SystemStatus,
};

use super::{client, example, json, TOKEN};

#[tokio::test]
async fn add_proxy_route_mock() {
    let server = MockServer::start_async().await;
    let route: ProxyRoute = example("ProxyRoute");
    let added = server.add_proxy_route(|when, then| {
        when.body(&route).bearer_token(TOKEN);
        then.success(
            201,
            &Message {
                message: "added".into(),
            },
        );
    });
    let answer = client(&server)
        .add_proxy_route()
        .body(route)
        .send()
        .await
        .expect("the mock matches the route sent");
    added.assert();
    assert_eq!(answer.message, "added");
}

#[tokio::test]
async fn remove_proxy_route_mock() {
    let server = MockServer::start_async().await;
    let removed = server.remove_proxy_route(|when, then| {
        when.bearer_token(TOKEN);
        then.success(
            200,
            &Message {
                message: "removed".into(),
            },
        );
    });
    let answer = client(&server).remove_proxy_route().send().await.unwrap();
    removed.assert();
    assert_eq!(answer.message, "removed");
}

#[tokio::test]
async fn restart_proxy_mock() {
    let server = MockServer::start_async().await;
    let restarted = server.restart_proxy(|when, then| {
        when.bearer_token(TOKEN);
        then.internal_server_error(&super::error_body("caddy did not restart", "proxy.failed"));
    });
    let error = client(&server).restart_proxy().send().await.unwrap_err();
    restarted.assert();
    assert_eq!(error.kind(), dployr::ErrorKind::Server);
    assert_eq!(error.code(), Some("proxy.failed"));
}

#[tokio::test]
async fn get_proxy_status_mock() {
    let server = MockServer::start_async().await;
    let status: ProxyStatus = example("ProxyStatus");
    let got = server.get_proxy_status(|when, then| {
        when.bearer_token(TOKEN);
        then.success(200, &status);
    });
    let answer = client(&server).get_proxy_status().send().await.unwrap();
    got.assert();
    assert_eq!(json(&*answer), json(&status));
}

#[tokio::test]
async fn get_system_status_mock() {
    let server = MockServer::start_async().await;
    let status: SystemStatus = example("SystemStatus");
    let got = server.get_system_status(|when, then| {
        when.bearer_token(TOKEN);
        then.success(200, &status);
    });
    let answer = client(&server).get_system_status().send().await.unwrap();
    got.assert();
    assert_eq!(json(&*answer), json(&status));
}

#[tokio::test]
async fn get_system_info_mock() {
    let server = MockServer::start_async().await;
    let info: SystemInfo = example("SystemInfo");
    let got = server.get_system_info(|when, then| {
        when.bearer_token(TOKEN);
        then.success(200, &info);
    });
    let answer = client(&server).get_system_info().send().await.unwrap();
    got.assert();
    assert_eq!(json(&*answer), json(&info));
}

#[tokio::test]
async fn run_system_doctor_mock() {
    let server = MockServer::start_async().await;
    let result: SystemDoctorResult = example("SystemDoctorResult");
    let ran = server.run_system_doctor(|when, then| {
        when.bearer_token(TOKEN);
        then.success(200, &result);
    });
    let answer = client(&server).run_system_doctor().send().await.unwrap();
    ran.assert();
    assert_eq!(json(&*answer), json(&result));
}

#[tokio::test]
async fn install_system_mock() {
    let server = MockServer::start_async().await;
    let request: InstallRequest = example("InstallRequest");
    let result: SystemDoctorResult = example("SystemDoctorResult");
    let installed = server.install_system(|when, then| {
        when.body(&request).bearer_token(TOKEN);
        then.success(200, &result);
    });
    let answer = client(&server)
        .install_system()
        .body(request)
        .send()
        .await
        .expect("the mock matches the install request, its token included");
    installed.assert();
    assert_eq!(json(&*answer), json(&result));
}

/// A public operation goes out without the client's token.
#[tokio::test]
async fn register_instance_mock() {
    let server = MockServer::start_async().await;
    let request: RegisterInstanceRequest = example("RegisterInstanceRequest");
    let registered = server.register_instance(|when, then| {
        when.body(&request).no_token();
        then.success(204);
    });
    client(&server)
        .register_instance()
        .body(request)
        .send()
        .await
        .expect("the mock matches a request without a token");
    registered.assert();
}

#[tokio::test]
async fn request_domain_mock() {
    let server = MockServer::start_async().await;
    let request: RequestDomainRequest = example("RequestDomainRequest");
    let domain: RequestDomainResponse = example("RequestDomainResponse");
    let requested = server.request_domain(|when, then| {
        when.body(&request).no_token();
        then.success(200, &domain);
    });
    let answer = client(&server)
        .request_domain()
        .body(request)
        .send()
        .await
        .expect("the mock answers");
    requested.assert();
    assert_eq!(json(&*answer), json(&domain));
}

/// The values a mock matches and answers are the client's types, so a
/// secret the spec marks stays redacted in their `Debug`, and in the
/// mock's own.
#[tokio::test]
async fn secrets_stay_redacted_in_the_mocks_debug() {
    let claim = "eyJ.mock-claim-that-must-not-show.sig";
    let request: RegisterInstanceRequest = serde_json::from_value(serde_json::json!({
        "claim": claim,
        "instance_id": "inst_1",
    }))
    .unwrap();
    let server = MockServer::start_async().await;
    let mut shown = Vec::new();
    let registered = server.register_instance(|when, then| {
        let when = when.body(&request);
        let then = then.success(200);
        shown.push(format!("{when:?} {then:?} {:?}", &request));
    });
    client(&server)
        .register_instance()
        .body(request.clone())
        .send()
        .await
        .expect("the mock matches the claim sent, unredacted on the wire");
    registered.assert();
    let shown = shown.concat();
    assert!(shown.contains("RegisterInstanceWhen"), "{shown}");
    assert!(!shown.contains(claim), "a secret in Debug: {shown}");
}
