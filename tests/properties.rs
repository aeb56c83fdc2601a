//! Properties of the decoding the SDK does on what an instance sends: the
//! generated response types and the JWT `exp` reader. Whatever the input,
//! decoding returns an error instead of panicking, and what decodes survives
//! a round trip. (The SSE decoder's chunking properties live in
//! `src/sse/decoder_tests.rs`.)
//!
//! Case counts follow `PROPTEST_CASES` when it is set (CI sets 256), else 256.
//!
//! The response types come from build.rs's inventory of the spec, so a body
//! added to `openapi.yaml` is checked here without an edit.

// The inventory's macros, written by build.rs.
include!(concat!(env!("OUT_DIR"), "/spec_inventory.rs"));

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use base64::Engine as _;
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestRunner};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Map, Number, Value};

use dployr::jwt_expiry;
use support::spec;

fn config() -> Config {
    let mut config = if std::env::var_os("PROPTEST_CASES").is_some() {
        Config::default()
    } else {
        Config::with_cases(256)
    };
    // proptest's default persistence looks for a lib.rs beside the test,
    // which an integration test has not; keep failing seeds next to it.
    config.failure_persistence = Some(Box::new(FileFailurePersistence::Direct(
        "tests/proptest-regressions/properties.txt",
    )));
    config
}

/// Every property name in the spec's schemas, so that generated objects
/// hit real fields and decoding gets past the first level.
fn fields() -> &'static [String] {
    static FIELDS: OnceLock<Vec<String>> = OnceLock::new();
    FIELDS.get_or_init(|| {
        let mut names: Vec<String> = spec::schemas()
            .values()
            .filter_map(|schema| schema["properties"].as_object())
            .flat_map(|properties| properties.keys().cloned())
            .collect();
        names.sort();
        names.dedup();
        names
    })
}

/// Strings the schemas give meaning to (enum values, timestamps), and some
/// that only look like them.
const MEANINGFUL: &[&str] = &[
    "pending",
    "in_progress",
    "failed",
    "completed",
    "ok",
    "error",
    "healthy",
    "degraded",
    "unhealthy",
    "remote",
    "image",
    "nodejs",
    "static",
    "golang",
    "docker",
    "k3s",
    "custom",
    "2024-05-01T12:00:00Z",
    "2024-05-01T12:00:00.123456789+02:00",
    "1970-01-01T00:00:00Z",
    "2024-02-30T12:00:00Z",
    "2024-05-01 12:00:00",
    "+275760-09-13T00:00:00Z",
    "",
    "\u{0}",
];

fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        9 => proptest::sample::select(fields()),
        1 => ".{0,8}",
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        prop_oneof![Just(0i64), Just(1), Just(-1), Just(65535), Just(65536)].prop_map(Value::from),
        any::<f64>().prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
        proptest::sample::select(MEANINGFUL).prop_map(Value::from),
        ".{0,24}".prop_map(Value::String),
    ]
}

/// Any JSON value, bounded in depth and size, with objects keyed mostly by
/// real field names.
fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(5, 96, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((field_name(), inner), 0..10)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn service() -> Value {
    json!({
        "id": "svc-1", "name": "web", "description": "the site", "runtime": "nodejs",
        "runtime_version": "18", "port": 3000, "status": "running", "source": "remote",
        "remote": "https://git.example.com/web.git", "branch": "main", "commit_hash": "abc123",
        "env_vars": {"A": "1", "B": "2"}, "blueprint": blueprint(),
        "created_at": "2024-05-01T12:00:00Z", "updated_at": "2024-05-02T12:00:00+02:00",
        "build_cmd": "npm ci", "run_cmd": "npm start", "static_dir": "dist",
        "working_dir": "/srv", "image": "node:18",
    })
}

fn blueprint() -> Value {
    json!({
        "name": "web", "description": "d", "source": "remote", "project_id": "p",
        "runtime": {"type": "nodejs", "version": "18"},
        "remote": {"url": "https://git.example.com/web.git", "branch": "main", "commit_hash": "abc"},
        "env_vars": {"K": "V"}, "port": 8080, "build_cmd": "make", "run_cmd": "./run",
        "static_dir": "public", "working_dir": "/app", "image": "alpine", "status": "ready",
    })
}

fn deployment() -> Value {
    json!({
        "id": "dep-1", "user_id": "user-1", "user_email": "a@example.com", "config": blueprint(),
        "status": "in_progress", "metadata": "{}", "created_at": "2024-05-01T12:00:00Z",
        "updated_at": "2024-05-01T12:05:00Z",
    })
}

/// A valid document of each type, for mutations to start from: most random
/// values fail on the first required field, while a mutated valid document
/// fails (or succeeds) deep inside.
fn valid(type_name: &str) -> Value {
    match type_name {
        "DeploymentList" => json!({"deployments": [deployment(), deployment()], "total": 2}),
        "DeployResponse" => {
            json!({"id": "dep-1", "name": "web", "success": true, "created_at": "2024-05-01T12:00:00Z"})
        }
        "ServiceList" => json!({"services": [service()], "total": 1}),
        "Service" => service(),
        "ProxyStatus" => json!({"status": "running"}),
        "Message" => json!({"message": "restarted"}),
        "SystemStatus" => json!({
            "status": "healthy", "uptime": "3h",
            "services": {"total": 3, "running": 2, "stopped": 1},
            "proxy": {"status": "running", "routes": 4},
        }),
        "SystemInfo" => json!({
            "build": {"version": "1.2.3", "commit": "abc", "build_date": "2024-05-01", "go_version": "1.22"},
            "hardware": {"os": "linux", "arch": "amd64", "cpu_count": 2, "hostname": "h", "kernel": "6.1",
                         "mem_total": "24G", "mem_used": "1G", "mem_free": "23G", "swap_total": "0", "swap_used": "0"},
            "storage": {"partitions": [{"filesystem": "/dev/sda1", "size": "100G", "used": "1G",
                                        "available": "99G", "use_percent": "1%", "mountpoint": "/"}],
                        "devices": [{"name": "sda", "size": "100G", "type": "disk", "mountpoints": ["/"]}]},
        }),
        "SystemDoctorResult" => json!({"status": "ok", "output": "all good", "error": ""}),
        "ErrorResponse" => json!({
            "error": "invalid", "code": "request.invalid",
            "details": [{"field": "name", "message": "must not be empty"}],
        }),
        "Deployment" => deployment(),
        "Blueprint" => blueprint(),
        // A type without a richer sample here starts from the spec's example.
        other => spec::example(other).clone(),
    }
}

#[derive(Clone, Debug)]
enum Mutation {
    Replace(Value),
    Remove,
    Insert(String, Value),
}

/// Applies `mutation` at the node reached by following `path` (each number
/// picks a child, wrapping around) from the root.
fn mutate(root: &mut Value, path: &[usize], mutation: Mutation) {
    let mut node = root;
    for (i, step) in path.iter().enumerate() {
        let last = i + 1 == path.len();
        let next_is_leaf = |v: &Value| !matches!(v, Value::Object(_) | Value::Array(_));
        match node {
            Value::Object(map) if !map.is_empty() => {
                let key = map.keys().nth(step % map.len()).unwrap().clone();
                if last || next_is_leaf(&map[&key]) {
                    match mutation {
                        Mutation::Replace(v) => {
                            map.insert(key, v);
                        }
                        Mutation::Remove => {
                            map.remove(&key);
                        }
                        Mutation::Insert(k, v) => {
                            map.insert(k, v);
                        }
                    }
                    return;
                }
                node = map.get_mut(&key).unwrap();
            }
            Value::Array(items) if !items.is_empty() => {
                let at = step % items.len();
                if last || next_is_leaf(&items[at]) {
                    match mutation {
                        Mutation::Replace(v) | Mutation::Insert(_, v) => items[at] = v,
                        Mutation::Remove => {
                            items.remove(at);
                        }
                    }
                    return;
                }
                node = &mut items[at];
            }
            // An empty container: the mutation has nothing to act on.
            _ => return,
        }
    }
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => value().prop_map(Mutation::Replace),
        2 => Just(Mutation::Remove),
        1 => (field_name(), value()).prop_map(|(k, v)| Mutation::Insert(k, v)),
    ]
}

/// A valid document of `type_name` with up to three random mutations.
fn near_valid(type_name: &'static str) -> impl Strategy<Value = Value> {
    proptest::collection::vec(
        (proptest::collection::vec(any::<usize>(), 1..6), mutation()),
        0..4,
    )
    .prop_map(move |mutations| {
        let mut doc = valid(type_name);
        for (path, m) in mutations {
            mutate(&mut doc, &path, m);
        }
        doc
    })
}

fn document(type_name: &'static str) -> impl Strategy<Value = Value> {
    prop_oneof![2 => value(), 3 => near_valid(type_name)]
}

/// Raw bodies: arbitrary bytes, and JSON texts truncated or with a byte
/// changed, which is what a broken connection or proxy produces.
fn body(type_name: &'static str) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..256),
        (
            document(type_name),
            any::<usize>(),
            any::<u8>(),
            any::<bool>()
        )
            .prop_map(|(doc, at, byte, truncate)| {
                let mut text = serde_json::to_vec(&doc).unwrap();
                let at = at % (text.len() + 1);
                if truncate {
                    text.truncate(at);
                } else if at < text.len() {
                    text[at] = byte;
                }
                text
            }),
    ]
}

/// What a decoded value turns into when serialised, decoded and serialised
/// again must equal its first serialisation. Compared as `Value`s, not as
/// text: serde_json's default float parsing may differ from the printed
/// float in the last bit, which says nothing about the SDK's types.
fn check_round_trip<T: DeserializeOwned + Serialize>(decoded: &T) -> Result<(), TestCaseError> {
    let first = serde_json::to_value(decoded).unwrap();
    let again: T = serde_json::from_value(first.clone())
        .map_err(|e| TestCaseError::fail(format!("own output {first} does not decode: {e}")))?;
    prop_assert_eq!(&serde_json::to_value(&again).unwrap(), &first);
    // The text form must decode too: that is what a cache or a proxy of
    // these values would send back.
    let text = serde_json::to_vec(decoded).unwrap();
    prop_assert!(
        serde_json::from_slice::<T>(&text).is_ok(),
        "own text {} does not decode",
        String::from_utf8_lossy(&text)
    );
    Ok(())
}

/// Runs both properties for `T`; returns how many documents decoded, so the
/// caller can tell the round trip was exercised and not vacuous.
fn check_type<T: DeserializeOwned + Serialize>(type_name: &'static str) -> usize {
    let decoded = AtomicUsize::new(0);
    let mut runner = TestRunner::new(config());
    runner
        .run(&document(type_name), |doc| {
            // from_value and from_slice take different paths through serde.
            if let Ok(t) = serde_json::from_value::<T>(doc.clone()) {
                decoded.fetch_add(1, Ordering::Relaxed);
                check_round_trip(&t)?;
            }
            let text = serde_json::to_vec(&doc).unwrap();
            if let Ok(t) = serde_json::from_slice::<T>(&text) {
                check_round_trip(&t)?;
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{type_name} from JSON values: {e}"));
    let mut runner = TestRunner::new(config());
    runner
        .run(&body(type_name), |bytes| {
            if let Ok(t) = serde_json::from_slice::<T>(&bytes) {
                check_round_trip(&t)?;
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{type_name} from bytes: {e}"));
    decoded.into_inner()
}

/// One test per type: its sample decodes, and both properties hold.
macro_rules! decoding_properties {
    ($($name:literal => $type:path as $test:ident),* $(,)?) => {$(
        #[test]
        fn $test() {
            if let Err(e) = serde_json::from_value::<$type>(valid($name)) {
                panic!("the {} sample does not decode: {e}", $name);
            }
            // The mutated documents include the unmutated valid one, so a
            // type none of whose documents decoded means a broken sample.
            let decoded = check_type::<$type>($name);
            println!("{}: {decoded} of the generated documents decoded", $name);
            assert!(decoded > 0, "no generated {} decoded", $name);
        }
    )*};
}

/// Every body an instance sends, and two nested types with samples of
/// their own.
mod decodes_without_panic {
    use super::*;

    with_response_schemas!(decoding_properties);

    decoding_properties! {
        "Deployment" => dployr::types::Deployment as deployment,
        "Blueprint" => dployr::types::Blueprint as blueprint,
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn token_with_payload(payload: &[u8]) -> String {
    format!("{}.{}.signature", b64(br#"{"alg":"HS256"}"#), b64(payload))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn jwt_expiry_never_panics_on_any_string(token in any::<String>()) {
        let _ = jwt_expiry(&token);
    }

    #[test]
    fn jwt_expiry_never_panics_on_three_part_strings(
        header in "[A-Za-z0-9_=-]{0,16}",
        payload in "[A-Za-z0-9_=+/-]{0,64}",
        signature in ".{0,16}",
    ) {
        if let Some(exp) = jwt_expiry(&format!("{header}.{payload}.{signature}")) {
            prop_assert!(exp.is_finite());
        }
    }

    #[test]
    fn jwt_expiry_never_panics_on_encoded_payloads(
        payload in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..64),
            value().prop_map(|v| serde_json::to_vec(&v).unwrap()),
            value().prop_map(|v| serde_json::to_vec(&json!({"exp": v})).unwrap()),
        ],
        padded in any::<bool>(),
    ) {
        let mut token = token_with_payload(&payload);
        if padded {
            token = token.replace(".signature", "==.signature");
        }
        if let Some(exp) = jwt_expiry(&token) {
            prop_assert!(exp.is_finite());
        }
    }

    #[test]
    fn jwt_expiry_returns_an_integer_exp(exp in any::<i64>(), sub in ".{0,12}") {
        let token = token_with_payload(&serde_json::to_vec(&json!({"sub": sub, "exp": exp})).unwrap());
        prop_assert_eq!(jwt_expiry(&token), Some(exp as f64));
    }

    #[test]
    fn jwt_expiry_returns_a_float_exp(exp in any::<f64>().prop_filter("finite", |f| f.is_finite())) {
        let token = token_with_payload(&serde_json::to_vec(&json!({"exp": exp})).unwrap());
        prop_assert_eq!(jwt_expiry(&token), Some(exp));
    }
}
