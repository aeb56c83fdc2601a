//! Contract tests: `openapi.yaml` against the client generated from it.
//!
//! Every operation is called against a real HTTP server (httpmock) that
//! answers with the spec's own examples and with each error status it
//! declares, and against `LocalInstance`, which must serve it; every schema
//! is checked against the type generated for it. What is expected is read
//! from the spec at test time, and what is iterated over (operations,
//! schemas, open value sets) comes from build.rs (`spec_inventory.rs`), so
//! these tests follow the spec rather than a copy: a new operation asks for
//! its own `<operation>_contract` test and nothing else here.

// The inventory's macros, defined before the modules that use them.
include!(concat!(env!("OUT_DIR"), "/spec_inventory.rs"));

#[path = "../support/mod.rs"]
mod support;

mod errors;
mod schemas;

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dployr::testing::LocalInstance;
use dployr::{types, Client, ErrorKind, ResponseValue, RetryConfig};
use futures::TryStreamExt;
use httpmock::{HttpMockRequest, HttpMockResponse, MockServer};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use support::spec::{self, Operation, Success};

const TOKEN: &str = "contract-access-token";
/// The value of every string path parameter: the three characters that
/// break a path when sent raw.
const PATH_VALUE: &str = "a/b c%d";
/// `PATH_VALUE` as the request line must carry it. Written out by hand so
/// the SDK's encoder is checked against a fixed answer, not against itself.
const PATH_VALUE_ON_THE_WIRE: &str = "a%2Fb%20c%25d";

/// Awaits a generated call and keeps only its decoded value. Generic over
/// the error so it reads the same whichever error type `send()` returns.
async fn typed<T, E: Into<dployr::Error>>(
    request: impl Future<Output = Result<ResponseValue<T>, E>>,
) -> Result<T, dployr::Error> {
    request
        .await
        .map(ResponseValue::into_inner)
        .map_err(Into::into)
}

/// Awaits a generated call and serializes its decoded value (`()` is null).
async fn call<T: Serialize, E: Into<dployr::Error>>(
    request: impl Future<Output = Result<ResponseValue<T>, E>>,
) -> Result<Value, dployr::Error> {
    let value = typed(request).await?;
    Ok(serde_json::to_value(value).expect("a decoded value serializes"))
}

/// Awaits a call whose answer is a byte stream and returns it as text.
async fn text<E: Into<dployr::Error>>(
    request: impl Future<Output = Result<ResponseValue<dployr::ByteStream>, E>>,
) -> Result<Value, dployr::Error> {
    let stream = typed(request).await?;
    let bytes: Vec<u8> = stream
        .into_inner()
        .map_ok(|chunk| chunk.to_vec())
        .try_concat()
        .await
        .expect("the local server sends the whole body");
    Ok(Value::String(
        String::from_utf8(bytes).expect("the answer is UTF-8"),
    ))
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

/// The value `invoke` passes for a string parameter.
fn string_argument(op: &Operation, name: &str) -> String {
    let parameter = op.parameter(name);
    match parameter.location.as_str() {
        "path" => PATH_VALUE.to_string(),
        // The request path puts the client's own token there, whatever the
        // builder was given.
        _ if parameter.is_credential => TOKEN.to_string(),
        // Named after the parameter, so that two swapped parameters show,
        // and in need of escaping in a query string.
        _ => format!("{name} 1&x=y"),
    }
}

/// The value `invoke` passes for an integer parameter: its example, else
/// its minimum, so that it passes the SDK's bounds check.
fn int_argument(op: &Operation, name: &str) -> i64 {
    let parameter = op.parameter(name);
    let example = parameter.example.as_ref().and_then(Value::as_i64);
    example.or(parameter.minimum).unwrap_or(0)
}

/// Generates `invoke` from the inventory: every operation called with every
/// parameter it has (values from the two functions above) and, when it
/// takes one, the spec's example body.
macro_rules! contract_calls {
    ($($id:literal => $method:ident {
        parameters: [$($parameter:ident: $location:ident $kind:ident $name:literal),*],
        body: [$($body:path)?],
        answer: $answer:ident $(,)?
    }),* $(,)?) => {
        /// Every operationId, as build.rs read them.
        const OPERATION_IDS: &[&str] = &[$($id),*];

        /// Calls `operation_id` with valid inputs and returns the decoded
        /// answer as JSON (a text answer as a JSON string).
        async fn invoke(client: &Client, operation_id: &str) -> Result<Value, dployr::Error> {
            match operation_id {
                $($id => {
                    #[allow(unused_variables)]
                    let op = spec::operation($id);
                    let request = client.$method()
                        $(.$parameter(contract_calls!(@argument $kind, &op, $name)))*
                        $(.body(request_body::<$body>($id)))?;
                    contract_calls!(@answer $answer, request.send())
                })*
                other => panic!("the spec has no operation {other}"),
            }
        }
    };
    (@argument int, $op:expr, $name:literal) => { int_argument($op, $name) };
    (@argument string, $op:expr, $name:literal) => { string_argument($op, $name) };
    (@answer json, $send:expr) => { call($send).await };
    (@answer text, $send:expr) => { text($send).await };
}

with_operations!(contract_calls);

/// The raw path the server must see: path parameters substituted as the
/// SDK must encode them.
fn wire_path(op: &Operation) -> String {
    op.parameters_in("path").fold(op.path.clone(), |path, p| {
        path.replace(&format!("{{{}}}", p.name), PATH_VALUE_ON_THE_WIRE)
    })
}

/// The decoded query the server must see; `invoke` passes every parameter.
fn wire_query(op: &Operation) -> Vec<(String, String)> {
    op.parameters_in("query")
        .map(|p| {
            let value = match p.is_integer {
                true => int_argument(op, &p.name).to_string(),
                false => string_argument(op, &p.name),
            };
            (p.name.clone(), value)
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
/// spec describes, the spec's example answer decodes to itself, every
/// error status it declares becomes a typed error, and `LocalInstance`
/// serves it.
async fn check_operation(operation_id: &str) {
    let op = spec::operation(operation_id);
    check_request_and_answer(&op).await;
    errors::check_declared_errors(&op).await;
    check_local_instance_serves(&op).await;
}

/// `LocalInstance` answers the operation with a success or with an error
/// status the operation declares, never with "no such route".
async fn check_local_instance_serves(op: &Operation) {
    let instance = LocalInstance::start().await.expect("a LocalInstance");
    let client = Client::builder(instance.url())
        .access_token(instance.owner_token())
        .retry(RetryConfig::disabled())
        .build()
        .expect("a client for the LocalInstance");
    let Err(error) = invoke(&client, &op.id).await else {
        return;
    };
    let id = &op.id;
    let what = format!("{} {}", op.method, op.path);
    assert!(
        !matches!(
            error.code(),
            Some("route.not_found" | "route.not_implemented" | "request.method_not_allowed")
        ),
        "{id}: LocalInstance does not serve {what} ({error}); add its handler to src/testing/router.rs"
    );
    let status = error.status().map(|s| s.as_u16());
    assert!(
        status.is_some_and(|s| op.errors.iter().any(|(declared, _)| *declared == s)),
        "{id}: LocalInstance answered {what} with {error}, a status {id} does not declare"
    );
}

/// The request the SDK sends for the operation, and the answer it decodes
/// from the spec's example.
async fn check_request_and_answer(op: &Operation) {
    let operation_id = op.id.as_str();
    let server = MockServer::start_async().await;
    let (client, tokens) = dployr::create_dployr_client(&server.base_url()).expect("a client");
    tokens.set_access_token(TOKEN);

    let path = wire_path(op);
    let query = wire_query(op);
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_domain_contract() {
    check_operation("requestDomain").await;
    // It runs during installation, before the instance has an access token:
    // a token the client happens to hold must not go out with it.
    assert!(
        spec::operation("requestDomain").public,
        "the spec marks it public"
    );
    let server = MockServer::start_async().await;
    let answer = json!({"domain": "my-awesome-app.dployr.dev"});
    let mock = server
        .mock_async(|when, then| {
            when.method("POST")
                .path("/system/domain")
                .header_missing("authorization")
                .json_body(json!({"token": "install-token-1"}));
            then.status(200).json_body(answer.clone());
        })
        .await;
    let client = quiet_client(&server);
    let request = types::RequestDomainRequest::builder().token("install-token-1");
    let answer = typed(client.request_domain().body(request).send()).await;
    mock.assert_async().await;
    assert_eq!(
        answer.expect("the domain").domain,
        "my-awesome-app.dployr.dev"
    );
}

#[test]
fn every_operation_has_exactly_one_contract_test() {
    let problems = support::coverage::contract_coverage(include_str!("main.rs"), OPERATION_IDS);
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
