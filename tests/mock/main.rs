//! The typed mocks (`dployr::mock`, feature `mock`) against the client:
//! every operation is called through its generated mock at least once, and
//! the mocks script what a user's tests need (a retried failure, a typed
//! error, a log stream, the body sent). Which operations exist comes from
//! build.rs (`spec_inventory.rs`): a new operation is named by
//! `every_operation_is_called_through_its_mock` until a test here uses its
//! mock.

// The inventory's macros, defined before the modules that use them.
include!(concat!(env!("OUT_DIR"), "/spec_inventory.rs"));

#[path = "../support/mod.rs"]
mod support;

mod coverage;
mod deployments;
mod logs;
mod proxy_and_system;
mod services;

use dployr::mock::MockServer;
use dployr::{Client, RetryConfig};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use support::spec;

const TOKEN: &str = "mock-access-token";
/// A path parameter the client must percent-encode: the mock must match
/// what it sends, not read it as a pattern.
const SERVICE_ID: &str = "svc 1/a.b";

/// A client for `server` that sends `TOKEN` and does not retry.
fn client(server: &MockServer) -> Client {
    Client::builder(server.base_url())
        .access_token(TOKEN)
        .retry(RetryConfig::disabled())
        .build()
        .expect("a client for the mock server")
}

/// The spec's example of `schema`, as its generated type.
fn example<T: DeserializeOwned>(schema: &str) -> T {
    serde_json::from_value(spec::example(schema).clone())
        .unwrap_or_else(|e| panic!("the {schema} example does not decode: {e}"))
}

/// A value as JSON, to compare generated types (which have no `PartialEq`).
fn json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).expect("a generated type serializes")
}

/// The `Error` shape of an error body.
fn error_body(message: &str, code: &str) -> dployr::types::ErrorResponse {
    dployr::types::Error {
        error: message.to_string(),
        code: Some(code.to_string()),
        details: Default::default(),
    }
    .into()
}

/// Names every operation no test here calls through its mock.
#[test]
fn every_operation_is_called_through_its_mock() {
    macro_rules! mock_methods {
        ($($id:literal => $method:ident { $($rest:tt)* }),* $(,)?) => {
            &[$(($id, stringify!($method))),*]
        };
    }
    let operations: &[(&str, &str)] = with_operations!(mock_methods);
    let sources = [
        include_str!("deployments.rs"),
        include_str!("logs.rs"),
        include_str!("proxy_and_system.rs"),
        include_str!("services.rs"),
        include_str!("main.rs"),
    ];
    let report = coverage::mock_coverage(&sources, operations);
    println!(
        "{} of {} operations called through their mock",
        report.covered,
        operations.len()
    );
    assert!(
        report.problems.is_empty(),
        "the mock tests do not cover the spec:\n  {}",
        report.problems.join("\n  ")
    );
    assert_eq!(report.covered, operations.len());
}
