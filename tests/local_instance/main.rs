//! `dployr::testing::LocalInstance`, driven through the SDK: deployments and
//! their logs, services, proxy, system, validation, roles, token refresh and
//! fault injection. Every test ends by checking each JSON body the instance
//! sent against `openapi.yaml`.
#![cfg(feature = "testing")]

#[path = "../support/mod.rs"]
mod support;

mod auth;
mod deployments;
mod faults;
mod lists_and_validation;
mod proxy_and_system;
mod roles;

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use reqwest::Method;
use serde_json::{json, Value};

use dployr::testing::{LocalInstance, Role};
use dployr::types::{
    DeployRequest, InstallRequest, KnownDeploymentStatus, KnownDoctorStatus, KnownRuntime,
    KnownSource, ProxyRoute, RegisterInstanceRequest, RemoteObj, RequestDomainRequest, Runtime,
    RuntimeObj, ServiceUpdate,
};
use dployr::{Client, ErrorKind, LogEvent, Reconnect};
use support::spec;

// Helpers shared by the test modules.

/// An instance whose deployments take `phase` per step.
async fn instance(phase: Duration) -> LocalInstance {
    LocalInstance::builder()
        .phase_delay(phase)
        .start()
        .await
        .unwrap()
}

fn client(instance: &LocalInstance, role: Role) -> Client {
    Client::builder(instance.url())
        .access_token(instance.token(role))
        .build()
        .unwrap()
}

fn request(name: &str) -> dployr::types::builder::DeployRequest {
    DeployRequest::builder()
        .name(name)
        .user_id("user-1")
        .source(KnownSource::Remote)
        .runtime(RuntimeObj {
            type_: KnownRuntime::Nodejs.into(),
            version: Some("20.11.0".into()),
        })
        .remote(Some(RemoteObj {
            url: format!("https://github.com/example/{name}.git"),
            branch: Some("main".into()),
            commit_hash: None,
        }))
        .port(Some(3000))
        .run_cmd(Some("npm start".to_string()))
        .description(Some("the web app".to_string()))
}

/// The lines of `request(name)`'s build log, in order.
fn expected_lines(name: &str) -> Vec<String> {
    vec![
        format!("cloning https://github.com/example/{name}.git (main)"),
        "installing nodejs@20.11.0".to_string(),
        "building".to_string(),
        format!("starting {name} on port 3000"),
    ]
}

/// The error a call fails with.
async fn error_of<T: std::fmt::Debug, E: Into<dployr::Error>>(
    call: impl Future<Output = Result<T, E>>,
) -> dployr::Error {
    match call.await {
        Ok(value) => panic!("expected an error, got {value:?}"),
        Err(error) => error.into(),
    }
}

fn status_of(error: &dployr::Error) -> Option<u16> {
    error.status().map(|s| s.as_u16())
}

fn fields_of(error: &dployr::Error) -> Vec<&str> {
    error.details().iter().map(|d| d.field.as_str()).collect()
}

/// `/services/01H...` matches `/services/{serviceId}`.
fn template_matches(template: &str, path: &str) -> bool {
    let (t, p): (Vec<_>, Vec<_>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(t, p)| t == p || (t.starts_with('{') && !p.is_empty()))
}

fn check_json(what: &str, schema: &str, content_type: Option<&str>, body: &[u8]) {
    assert_eq!(content_type, Some("application/json"), "{what}");
    let value: Value =
        serde_json::from_slice(body).unwrap_or_else(|e| panic!("{what}: not JSON ({e})"));
    if let Err(problems) = spec::validate(schema, &value) {
        panic!("{what}: does not match {schema}: {problems}\n{value:#}");
    }
}

/// What the spec says one operation answers.
struct Declared {
    id: String,
    method: String,
    path: String,
    /// The media type of the success body, if it has one.
    success_media: Option<String>,
    /// The component schema of a JSON success body.
    success_schema: Option<String>,
    errors: Vec<u16>,
}

fn declared() -> Vec<Declared> {
    let paths = spec::document()["paths"].as_object().unwrap();
    let mut found = Vec::new();
    for (path, item) in paths {
        for method in ["get", "put", "post", "delete", "patch"] {
            let Some(op) = item.get(method) else {
                continue;
            };
            let mut declared = Declared {
                id: op["operationId"].as_str().unwrap().to_string(),
                method: method.to_ascii_uppercase(),
                path: path.clone(),
                success_media: None,
                success_schema: None,
                errors: Vec::new(),
            };
            for (status, response) in op["responses"].as_object().unwrap() {
                if !status.starts_with('2') {
                    declared.errors.push(status.parse().unwrap());
                    continue;
                }
                let content = response.get("content").and_then(Value::as_object);
                if let Some((media, body)) = content.and_then(|c| c.iter().next()) {
                    declared.success_media = Some(media.clone());
                    declared.success_schema = body["schema"]["$ref"]
                        .as_str()
                        .and_then(|r| r.rsplit('/').next())
                        .map(String::from);
                }
            }
            found.push(declared);
        }
    }
    found
}

fn declared_operation(id: &str) -> Declared {
    declared().into_iter().find(|d| d.id == id).unwrap()
}

/// Every answer the instance recorded has the shape the spec gives it: the
/// operation's success schema, `ValidationError` for a 422, `Error` for any
/// other error, and only error statuses the operation declares, apart from
/// the `injected` ones.
fn assert_answers_match_spec(instance: &LocalInstance, injected: &[u16]) {
    let operations = declared();
    let answers = instance.responses();
    assert!(!answers.is_empty(), "the instance recorded no answers");
    for r in &answers {
        let what = format!("{} {} -> {}", r.method, r.path, r.status);
        let operation = operations
            .iter()
            .find(|op| op.method == r.method && template_matches(&op.path, &r.path));
        if (200..300).contains(&r.status) {
            let op = operation.unwrap_or_else(|| panic!("{what}: a success for no operation"));
            match (&op.success_schema, &op.success_media) {
                (Some(schema), _) => check_json(&what, schema, r.content_type.as_deref(), &r.body),
                (None, Some(media)) => {
                    assert_eq!(r.content_type.as_deref(), Some(media.as_str()), "{what}")
                }
                (None, None) => assert!(r.body.is_empty(), "{what}: expected no body"),
            }
            continue;
        }
        if let (Some(op), false) = (operation, injected.contains(&r.status)) {
            assert!(
                op.errors.contains(&r.status),
                "{what}: {} does not declare this status",
                op.id
            );
        }
        let schema = if r.status == 422 {
            "ValidationError"
        } else {
            "Error"
        };
        check_json(&what, schema, r.content_type.as_deref(), &r.body);
        check_json(&what, "ErrorResponse", r.content_type.as_deref(), &r.body);
    }
}

#[test]
fn the_spec_check_refuses_wrong_shapes() {
    let refuses = |schema: &str, body: &str| {
        let check = || check_json("probe", schema, Some("application/json"), body.as_bytes());
        std::panic::catch_unwind(check).is_err()
    };
    assert!(!refuses("Message", r#"{"message":"ok"}"#));
    assert!(refuses("Message", r#"{"text":"ok"}"#));
    assert!(refuses("ValidationError", r#"{"error":"x","details":{}}"#));
    assert!(refuses(
        "DeployResponse",
        r#"{"success":true,"id":"a","name":"b"}"#
    ));
    assert!(refuses("Error", "not json"));
}
