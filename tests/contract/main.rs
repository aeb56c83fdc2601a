//! Contract tests: `openapi.yaml` against the client generated from it.
//!
//! Every operation is called against a real HTTP server (httpmock) that
//! answers with the spec's own examples, and every schema is checked
//! against the type generated for it. What is expected is read from the
//! spec at test time, so these tests follow the spec rather than a copy.

#[path = "../support/mod.rs"]
mod support;

mod errors;
mod schemas;

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dployr::{types, Client, ErrorKind, ResponseValue, RetryConfig};
use futures::TryStreamExt;
use httpmock::{HttpMockRequest, HttpMockResponse, MockServer};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use support::spec::{self, Operation, Success};

const TOKEN: &str = "contract-access-token";
/// A service id with the three characters that break a path when sent raw.
const SERVICE_ID: &str = "a/b c%d";
/// `SERVICE_ID` as the request line must carry it. Written out by hand so
/// the SDK's encoder is checked against a fixed answer, not against itself.
const SERVICE_ID_ON_THE_WIRE: &str = "a%2Fb%20c%25d";
const LIMIT: i64 = 50;
const OFFSET: i64 = 10;
/// A log stream id that must be escaped in a query string.
const LOG_ID: &str = "dep 1&x=y";

type GeneratedResult<T> = Result<ResponseValue<T>, dployr::Error>;

/// Awaits a generated call and keeps only its decoded value.
async fn typed<T>(request: impl Future<Output = GeneratedResult<T>>) -> Result<T, dployr::Error> {
    request.await.map(ResponseValue::into_inner)
}

/// Awaits a generated call and serializes its decoded value (`()` is null).
async fn call<T: Serialize>(
    request: impl Future<Output = GeneratedResult<T>>,
) -> Result<Value, dployr::Error> {
    let value = typed(request).await?;
    Ok(serde_json::to_value(value).expect("a decoded value serializes"))
}

/// The spec's example of the operation's request body, as the generated type.
fn request_body<T: DeserializeOwned>(operation_id: &str) -> T {
    let op = spec::operation(operation_id);
    let schema = op
        .request_schema
        .unwrap_or_else(|| panic!("{operation_id} has no request body"));
    serde_json::from_value(spec::example(&schema).clone())
        .unwrap_or_else(|e| panic!("the {schema} example does not decode: {e}"))
}

/// Calls `operation_id` with valid inputs (the constants above, request
/// bodies from the spec's examples) and returns the decoded answer as JSON.
async fn invoke(client: &Client, operation_id: &str) -> Result<Value, dployr::Error> {
    match operation_id {
        "listDeployments" => {
            call(client.list_deployments().limit(LIMIT).offset(OFFSET).send()).await
        }
        "createDeployment" => {
            let body: types::DeployRequest = request_body(operation_id);
            call(client.create_deployment().body(body).send()).await
        }
        "listServices" => call(client.list_services().limit(LIMIT).offset(OFFSET).send()).await,
        "getService" => call(client.get_service().service_id(SERVICE_ID).send()).await,
        "updateService" => {
            let body: types::ServiceUpdate = request_body(operation_id);
            let request = client.update_service().service_id(SERVICE_ID);
            call(request.body(body).send()).await
        }
        "patchService" => {
            let body: types::ServiceUpdate = request_body(operation_id);
            let request = client.patch_service().service_id(SERVICE_ID);
            call(request.body(body).send()).await
        }
        "deleteService" => call(client.delete_service().service_id(SERVICE_ID).send()).await,
        "openLogStream" => {
            let stream = typed(client.open_log_stream().id(LOG_ID).token(TOKEN).send()).await?;
            let bytes: Vec<u8> = stream
                .into_inner()
                .map_ok(|chunk| chunk.to_vec())
                .try_concat()
                .await
                .map_err(dployr::Error::from)?;
            let text = String::from_utf8(bytes).expect("the log stream is UTF-8");
            Ok(Value::String(text))
        }
        "getProxyStatus" => call(client.get_proxy_status().send()).await,
        "restartProxy" => call(client.restart_proxy().send()).await,
        "addProxyRoute" => {
            let body: types::ProxyRoute = request_body(operation_id);
            call(client.add_proxy_route().body(body).send()).await
        }
        "removeProxyRoute" => call(client.remove_proxy_route().send()).await,
        "getSystemStatus" => call(client.get_system_status().send()).await,
        "getSystemInfo" => call(client.get_system_info().send()).await,
        "runSystemDoctor" => call(client.run_system_doctor().send()).await,
        "installSystem" => {
            let body: types::InstallRequest = request_body(operation_id);
            call(client.install_system().body(body).send()).await
        }
        "registerInstance" => {
            let body: types::RegisterInstanceRequest = request_body(operation_id);
            call(client.register_instance().body(body).send()).await
        }
        other => panic!("invoke cannot call {other}: add it when the spec gains an operation"),
    }
}

/// The raw path the server must see: path parameters substituted as the
/// SDK must encode them.
fn wire_path(op: &Operation) -> String {
    op.parameters_in("path")
        .fold(op.path.clone(), |path, name| {
            let value = match name {
                "serviceId" => SERVICE_ID_ON_THE_WIRE,
                other => panic!("{}: no test value for path parameter {other}", op.id),
            };
            path.replace(&format!("{{{name}}}"), value)
        })
}

/// The decoded query the server must see; `invoke` passes every parameter.
fn wire_query(op: &Operation) -> Vec<(String, String)> {
    op.parameters_in("query")
        .map(|name| {
            let value = match name {
                "limit" => LIMIT.to_string(),
                "offset" => OFFSET.to_string(),
                "id" => LOG_ID.to_string(),
                "token" => TOKEN.to_string(),
                other => panic!("{}: no test value for query parameter {other}", op.id),
            };
            (name.to_string(), value)
        })
        .collect()
}

/// The spec's success answer with `status` (204 when it has no body).
fn success_answer(status: u16, success: &Success) -> HttpMockResponse {
    let answer = HttpMockResponse::builder();
    match success {
        Success::Json(example) => answer
            .status(status)
            .header("content-type", "application/json")
            .body(serde_json::to_vec(example).expect("an example serializes")),
        Success::Text {
            media_type,
            example,
        } => answer
            .status(status)
            .header("content-type", media_type.as_str())
            .body(example.as_str()),
        Success::Empty => answer.status(204),
    }
    .build()
}

fn quiet_client(server: &MockServer) -> Client {
    // No retries: error statuses must reach the caller once and at once.
    Client::builder(server.base_url())
        .retry(RetryConfig::disabled())
        .access_token(TOKEN)
        .build()
        .expect("a client for the mock server")
}

/// The contract of one operation: the request the SDK sends is the one the
/// spec describes, and the spec's example answer decodes to itself.
async fn check_operation(operation_id: &str) {
    let op = spec::operation(operation_id);
    let server = MockServer::start_async().await;
    let (client, tokens) = dployr::create_dployr_client(&server.base_url()).expect("a client");
    tokens.set_access_token(TOKEN);

    let path = wire_path(&op);
    let query = wire_query(&op);
    let body = op
        .request_schema
        .as_deref()
        .map(|schema| spec::example(schema).clone());
    // What the mock answered, for the checks httpmock cannot express: the
    // exact query set and JSON Schema validation of the body.
    let seen: Arc<Mutex<Vec<HttpMockRequest>>> = Arc::default();
    let (log, answer) = (seen.clone(), success_answer(200, &op.success));
    let mock = server
        .mock_async(|when, then| {
            let mut when = when.method(op.method.as_str()).path(path.as_str());
            for (name, value) in &query {
                when = when.query_param(name, value);
            }
            when = match op.public {
                true => when.header_missing("authorization"),
                false => when.header("authorization", format!("Bearer {TOKEN}")),
            };
            if let Some(body) = &body {
                when.header("content-type", "application/json")
                    .json_body(body.clone());
            }
            then.respond_with(move |request| {
                log.lock().unwrap().push(request.clone());
                answer.clone()
            });
        })
        .await;

    let result = invoke(&client, operation_id).await;
    // On a mismatch this panics with httpmock's diff against the request.
    mock.assert_async().await;
    let value = result.unwrap_or_else(|e| {
        panic!(
            "{operation_id}: the example answer failed: {e} ({:?})",
            e.kind()
        )
    });
    assert_eq!(
        value,
        op.success.expected(),
        "{operation_id}: the decoded answer is not the spec's example"
    );

    let request = seen
        .lock()
        .unwrap()
        .pop()
        .expect("the mock saw the request");
    assert_eq!(request.uri().path(), path, "{operation_id}: raw path");
    let (mut sent_query, mut query) = (request.query_params(), query);
    sent_query.sort();
    query.sort();
    assert_eq!(
        sent_query, query,
        "{operation_id}: exactly the spec's query parameters"
    );
    match &op.request_schema {
        Some(schema) => {
            let sent: Value = serde_json::from_slice(&request.body().to_vec())
                .unwrap_or_else(|e| panic!("{operation_id}: the body sent is not JSON: {e}"));
            if let Err(problems) = spec::validate(schema, &sent) {
                panic!(
                    "{operation_id}: the body sent does not match {schema}: {problems}\n{sent:#}"
                );
            }
        }
        None => assert!(
            request.body().is_empty(),
            "{operation_id}: sent a body it has none of"
        ),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_deployments_contract() {
    check_operation("listDeployments").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_deployment_contract() {
    check_operation("createDeployment").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_services_contract() {
    check_operation("listServices").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_service_contract() {
    check_operation("getService").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_service_contract() {
    check_operation("updateService").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patch_service_contract() {
    check_operation("patchService").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_service_contract() {
    check_operation("deleteService").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_log_stream_contract() {
    check_operation("openLogStream").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_proxy_status_contract() {
    check_operation("getProxyStatus").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_proxy_contract() {
    check_operation("restartProxy").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_proxy_route_contract() {
    check_operation("addProxyRoute").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remove_proxy_route_contract() {
    check_operation("removeProxyRoute").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_system_status_contract() {
    check_operation("getSystemStatus").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_system_info_contract() {
    check_operation("getSystemInfo").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_system_doctor_contract() {
    check_operation("runSystemDoctor").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn install_system_contract() {
    check_operation("installSystem").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_instance_contract() {
    check_operation("registerInstance").await;
}

#[test]
fn every_operation_has_exactly_one_contract_test() {
    let problems = spec::contract_coverage(include_str!("main.rs"));
    assert!(
        problems.is_empty(),
        "contract coverage:\n{}",
        problems.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_decode_whichever_2xx_the_instance_answers() {
    for id in ["createDeployment", "addProxyRoute"] {
        let op = spec::operation(id);
        for status in [200, 201, 202] {
            let server = MockServer::start_async().await;
            let answer = success_answer(status, &op.success);
            let mock = server
                .mock_async(|when, then| {
                    when.method(op.method.as_str());
                    then.respond_with(move |_| answer.clone());
                })
                .await;
            let value = invoke(&quiet_client(&server), id)
                .await
                .unwrap_or_else(|e| panic!("{id} answered {status}: {e}"));
            mock.assert_async().await;
            assert_eq!(value, op.success.expected(), "{id} answered {status}");
        }
    }
}
