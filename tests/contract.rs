//! Contract tests: `openapi.yaml` against the client generated from it.
//!
//! Every operation is called against a real HTTP server (httpmock) that
//! answers with the spec's own examples, and every schema is checked
//! against the type generated for it. What is expected is read from the
//! spec at test time, so these tests follow the spec rather than a copy.

mod support;

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

type GeneratedResult<T> = Result<ResponseValue<T>, progenitor_client::Error<types::ErrorResponse>>;

/// Awaits a generated call and keeps only its decoded value.
async fn typed<T>(request: impl Future<Output = GeneratedResult<T>>) -> Result<T, dployr::Error> {
    request
        .await
        .map(ResponseValue::into_inner)
        .map_err(dployr::Error::from)
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
                .map_err(|e| dployr::Error::from(progenitor_client::Error::ResponseBodyError(e)))?;
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
    let problems = spec::contract_coverage(include_str!("contract.rs"));
    assert!(
        problems.is_empty(),
        "contract coverage:\n{}",
        problems.join("\n")
    );
}

fn status_of(error: &dployr::Error) -> Option<u16> {
    error.status().map(|s| s.as_u16())
}

fn kind_for_declared(status: u16) -> ErrorKind {
    match status {
        400 | 422 => ErrorKind::Validation,
        401 => ErrorKind::Unauthorized,
        403 => ErrorKind::Forbidden,
        404 => ErrorKind::NotFound,
        500 => ErrorKind::Server,
        other => panic!("the spec declares status {other}: add the ErrorKind it must map to"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_declared_error_status_becomes_a_typed_error() {
    let mut checked = 0;
    for op in spec::operations() {
        let server = MockServer::start_async().await;
        let client = quiet_client(&server);
        for (status, body) in &op.errors {
            let context = format!("{} answered {status}", op.id);
            if let Err(problems) = spec::validate("ErrorResponse", body) {
                panic!("{context}: the spec's example is not an ErrorResponse: {problems}");
            }
            let request_id = format!("req-{}-{status}", op.id);
            let mock = server
                .mock_async(|when, then| {
                    when.any_request();
                    then.status(*status)
                        .header("content-type", "application/json")
                        .header("x-request-id", request_id.as_str())
                        .json_body(body.clone());
                })
                .await;
            let error = match invoke(&client, &op.id).await {
                Ok(value) => panic!("{context}: the SDK returned success: {value}"),
                Err(error) => error,
            };
            mock.assert_async().await;
            mock.delete_async().await;

            let got = (
                status_of(&error),
                error.kind(),
                Some(error.message()),
                error.code(),
            );
            let code = body.get("code").and_then(Value::as_str);
            let want = (
                Some(*status),
                kind_for_declared(*status),
                body["error"].as_str(),
                code,
            );
            assert_eq!(got, want, "{context}: (status, kind, message, code)");
            let request_id = Some(request_id.as_str());
            assert_eq!(error.request_id(), request_id, "{context}: request id");
            let details = serde_json::to_value(error.details()).expect("details serialize");
            let expected = match body.get("details") {
                Some(list @ Value::Array(_)) => list.clone(),
                _ => json!([]),
            };
            assert_eq!(details, expected, "{context}: field details");
            let named = !error.details().is_empty();
            assert!(named || *status != 422, "{context}: a 422 names its fields");
            checked += 1;
        }
    }
    assert!(checked > 0, "the spec declares no error statuses");
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

/// Lists the generated type of every component schema, so tests can go
/// from a schema's name to its type. A schema missing here fails
/// `every_schema_example_validates_and_round_trips` and
/// `generated_types_match_the_spec`.
macro_rules! generated_types {
    ($($name:ident),+ $(,)?) => {
        const GENERATED_TYPES: &[&str] = &[$(stringify!($name)),+];

        fn round_trip(name: &str, value: &Value) -> Option<Result<Value, String>> {
            match name {
                $(stringify!($name) => Some(spec::round_trip::<types::$name>(value)),)+
                _ => None,
            }
        }

        fn generated_schema(name: &str) -> Option<Value> {
            match name {
                $(stringify!($name) => Some(spec::generated_schema::<types::$name>()),)+
                _ => None,
            }
        }
    };
}

generated_types! {
    BlockDevice, Blueprint, BuildInfo, DeployRequest, DeployResponse, Deployment, DeploymentList,
    DeploymentStatus, DoctorStatus, Error, ErrorResponse, FieldError, HardwareInfo, InstallRequest,
    KnownDeploymentStatus, KnownDoctorStatus, KnownRuntime, KnownSource, KnownSystemHealth, Message,
    Partition, ProxyRoute, ProxyStatus, ProxySummary, RegisterInstanceRequest, RemoteObj, Runtime,
    RuntimeObj, Service, ServiceCounts, ServiceList, ServiceUpdate, Source, StorageInfo, StringMap,
    SystemDoctorResult, SystemHealth, SystemInfo, SystemStatus, ValidationError,
}

#[test]
fn every_schema_example_validates_and_round_trips() {
    let mut problems = Vec::new();
    for (name, schema) in spec::schemas() {
        let Some(example) = schema.get("example") else {
            continue;
        };
        if let Err(why) = spec::validate(name, example) {
            problems.push(format!("{name}: its example does not validate: {why}"));
        }
        match round_trip(name, example) {
            None => problems.push(format!(
                "{name}: no generated type listed in generated_types!"
            )),
            Some(Err(why)) => problems.push(format!("{name}: {why}")),
            // No normalisation: every example is free of empty maps and
            // lists, which the generated types would drop on the way back.
            Some(Ok(back)) if &back != example => problems.push(format!(
                "{name}: round trip changed it:\n  spec {example}\n  back {back}"
            )),
            Some(Ok(_)) => {}
        }
        // A validator that accepts everything would make the checks above
        // and the request-body checks vacuous.
        if schema.get("required").is_some() && spec::validate(name, &json!({})).is_ok() {
            problems.push(format!(
                "{name}: an empty object validates despite `required`"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn generated_types_match_the_spec() {
    let mut problems = Vec::new();
    for name in spec::schemas().keys() {
        match generated_schema(name) {
            None => problems.push(format!(
                "{name}: no generated type listed in generated_types!"
            )),
            Some(generated) => problems.extend(spec::schema_drift(name, &generated)),
        }
    }
    for name in GENERATED_TYPES {
        if !spec::schemas().contains_key(*name) {
            problems.push(format!(
                "{name}: listed in generated_types! but not in the spec"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "schema drift:\n{}",
        problems.join("\n")
    );
}

/// The open value sets (`oneOf [Known<X>, Other]`) and their generated
/// types, so each can be decoded by name.
macro_rules! open_types {
    ($($open:ident),+ $(,)?) => {
        const OPEN_TYPES: &[&str] = &[$(stringify!($open)),+];

        /// Decodes `value` as the open type `name`: (its Display, whether it
        /// is a known value, its JSON encoding).
        fn decode_open(name: &str, value: &str) -> (String, bool, Value) {
            let json = Value::String(value.to_string());
            match name {
                $(stringify!($open) => {
                    let decoded: types::$open = serde_json::from_value(json)
                        .unwrap_or_else(|e| panic!("{name} rejects {value:?}: {e}"));
                    let encoded = serde_json::to_value(&decoded).expect("encodes");
                    (decoded.to_string(), decoded.known().is_some(), encoded)
                })+
                other => panic!("{other} is not listed in open_types!"),
            }
        }
    };
}

open_types! { DeploymentStatus, DoctorStatus, Runtime, Source, SystemHealth }

#[test]
fn open_value_sets_cannot_drift_from_their_known_enums() {
    let sets = spec::open_value_sets();
    let mut names: Vec<&str> = sets.iter().map(|s| s.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names, OPEN_TYPES,
        "open_types! must list exactly the spec's open value sets"
    );
    for set in &sets {
        let (name, known) = (&set.name, &set.known);
        assert!(
            !set.known_values.is_empty(),
            "{name}: {known} lists no values"
        );
        let (mut excluded, mut listed) = (set.other_excludes.clone(), set.known_values.clone());
        excluded.sort();
        listed.sort();
        assert_eq!(
            excluded, listed,
            "{name}: `Other`'s not.enum differs from {known}"
        );
        for value in &set.known_values {
            let (shown, is_known, encoded) = decode_open(name, value);
            assert!(is_known, "{name}: {value:?} decodes as an unknown value");
            assert_eq!(
                (shown.as_str(), encoded),
                (value.as_str(), json!(value)),
                "{name}: {value:?}"
            );
        }
        let newer = "added-by-a-newer-instance";
        let (shown, is_known, encoded) = decode_open(name, newer);
        assert!(!is_known, "{name}: {newer:?} decodes as a known value");
        assert_eq!(
            (shown.as_str(), encoded),
            (newer, json!(newer)),
            "{name}: {newer:?}"
        );
    }
}

/// Makes the server answer every request with 200 and this JSON body.
async fn answer_json(server: &MockServer, body: &Value) {
    server.reset_async().await;
    server
        .mock_async(|when, then| {
            when.any_request();
            then.status(200).json_body(body.clone());
        })
        .await;
}

/// Asserts an open value holds `expected` as a value this version does not know.
fn assert_newer(value: &dyn std::fmt::Display, known: bool, expected: &str) {
    assert_eq!((value.to_string(), known), (expected.to_string(), false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn newer_instances_values_and_fields_still_decode() {
    let server = MockServer::start_async().await;
    let client = quiet_client(&server);

    let mut service = spec::example("Service").clone();
    service["added_in_a_later_version"] = json!({ "nested": [1, 2, 3] });
    service["runtime"] = json!("elixir");
    answer_json(&server, &service).await;
    let decoded = typed(client.get_service().service_id("s1").send()).await;
    let decoded = decoded.expect("a Service with an unknown field");
    assert_eq!(json!(decoded.name), service["name"]);
    let runtime = decoded.runtime.expect("runtime");
    assert_newer(&runtime, runtime.known().is_some(), "elixir");

    let mut page = spec::example("DeploymentList").clone();
    page["deployments"][0]["status"] = json!("paused");
    page["deployments"][0]["config"]["source"] = json!("git-lfs");
    answer_json(&server, &page).await;
    let decoded = typed(client.list_deployments().send()).await;
    let deployment = &decoded.expect("a deployment with a new status").deployments[0];
    let status = &deployment.status;
    assert_newer(status, status.known().is_some(), "paused");
    let source = deployment.config.source.as_ref().expect("source");
    assert_newer(source, source.known().is_some(), "git-lfs");
    // The spec's example runtime is a known one and must stay typed.
    let runtime = &deployment.config.runtime.as_ref().expect("runtime").type_;
    let nodejs = types::KnownRuntime::Nodejs;
    assert!(matches!(runtime, types::Runtime::KnownRuntime(r) if *r == nodejs));
    assert_eq!(runtime.known(), Some(nodejs));

    let mut health = spec::example("SystemStatus").clone();
    health["status"] = json!("maintenance");
    answer_json(&server, &health).await;
    let decoded = typed(client.get_system_status().send()).await;
    let status = decoded.expect("a new health value").status;
    assert_newer(&status, status.known().is_some(), "maintenance");

    let mut doctor = spec::example("SystemDoctorResult").clone();
    doctor["status"] = json!("skipped");
    answer_json(&server, &doctor).await;
    let decoded = typed(client.run_system_doctor().send()).await;
    let status = decoded.expect("a new doctor status").status;
    assert_newer(&status, status.known().is_some(), "skipped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undeclared_statuses_keep_their_status_and_kind() {
    let body = spec::example("Error").clone();
    let statuses = [
        (409, ErrorKind::Conflict),
        (418, ErrorKind::UnexpectedStatus),
        (429, ErrorKind::RateLimited),
        (503, ErrorKind::Server),
    ];
    for id in ["getService", "createDeployment"] {
        for (status, kind) in statuses {
            let server = MockServer::start_async().await;
            server
                .mock_async(|when, then| {
                    when.any_request();
                    let then = then.status(status).header("retry-after", "7");
                    then.json_body(body.clone());
                })
                .await;
            let error = invoke(&quiet_client(&server), id).await;
            let error = error.expect_err("an error status");
            let context = format!("{id} answered {status}");
            assert_eq!(
                (status_of(&error), error.kind()),
                (Some(status), kind),
                "{context}"
            );
            // The spec gives every error status the one ErrorResponse body,
            // declared for the operation or not.
            let said = (Some(error.message()), error.code());
            let want = (body["error"].as_str(), body["code"].as_str());
            assert_eq!(said, want, "{context}: message and code");
            // The SDK reads Retry-After on 429 and 503 only, as it documents.
            let wait = matches!(status, 429 | 503).then(|| Duration::from_secs(7));
            assert_eq!(error.retry_after(), wait, "{context}: Retry-After");
        }
    }
}

/// Calls `operation_id` against a server answering `status`, `content_type`
/// and `body`, and returns the error the caller gets.
async fn error_for(
    operation_id: &str,
    status: u16,
    content_type: &str,
    body: &str,
) -> dployr::Error {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.any_request();
            let then = then.status(status).header("content-type", content_type);
            then.body(body);
        })
        .await;
    match invoke(&quiet_client(&server), operation_id).await {
        Ok(value) => panic!("{operation_id}: {status} {body:?} decoded as {value}"),
        Err(error) => error,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_success_bodies_are_decode_errors() {
    let html = "<html><body>502 Bad Gateway</body></html>";
    let truncated = r#"{"services": [{"id": "s1", "name": "web"#;
    let mistyped = r#"{"services": [], "total": "many"}"#;
    for (what, content_type, body) in [
        ("not JSON", "text/html", html),
        ("truncated JSON", "application/json", truncated),
        ("wrongly typed JSON", "application/json", mistyped),
        ("an empty body", "application/json", ""),
    ] {
        let error = error_for("listServices", 200, content_type, body).await;
        assert_eq!(error.kind(), ErrorKind::Decode, "{what}: {error}");
        let snippet = error.body_snippet();
        assert_eq!(snippet, Some(body), "{what}: the snippet is the body");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declared_error_statuses_without_a_json_body_keep_status_and_kind() {
    // Proxies in front of an instance answer errors with pages of their own,
    // and some servers answer a 404 with no body at all.
    let page = "<h1>Internal Server Error</h1>";
    let mut wrong = Vec::new();
    for (id, status, kind, content_type, body) in [
        ("listServices", 500, ErrorKind::Server, "text/html", page),
        ("getService", 404, ErrorKind::NotFound, "text/plain", ""),
        (
            "getProxyStatus",
            401,
            ErrorKind::Unauthorized,
            "text/plain",
            "Unauthorized",
        ),
    ] {
        let error = error_for(id, status, content_type, body).await;
        let got = (status_of(&error), error.kind());
        if got != (Some(status), kind) {
            wrong.push(format!(
                "{id} answered {status} {body:?}: got {got:?} ({error})"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dot_segment_ids_cannot_escape_the_service_path() {
    // URL parsers resolve `.` and `..` (and `%2e`) segments, so an id sent
    // as-is would address the collection, or the root, instead of a service.
    let mut wrong = Vec::new();
    for id in [".", ".."] {
        let server = MockServer::start_async().await;
        let seen: Arc<Mutex<Vec<HttpMockRequest>>> = Arc::default();
        let log = seen.clone();
        server
            .mock_async(|when, then| {
                when.any_request();
                then.respond_with(move |request| {
                    log.lock().unwrap().push(request.clone());
                    HttpMockResponse::builder().status(204).build()
                });
            })
            .await;
        let client = quiet_client(&server);
        let _ = typed(client.delete_service().service_id(id).send()).await;
        for request in seen.lock().unwrap().iter() {
            let path = request.uri().path().to_string();
            let segment = path.strip_prefix("/services/").unwrap_or("");
            if segment.is_empty() || segment.contains('/') {
                wrong.push(format!("service_id({id:?}) sent DELETE {path}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
