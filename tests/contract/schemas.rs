//! Component schemas against the generated types: examples, shapes, and
//! values newer than this crate.

use super::*;

/// A component schema and what the tests do with its generated type.
struct GeneratedType {
    name: &'static str,
    round_trip: fn(&Value) -> Result<Value, String>,
    schema: fn() -> Value,
}

/// Builds `GENERATED_TYPES` from the inventory build.rs writes, so every
/// component schema is checked without anyone listing it.
macro_rules! generated_types {
    ($($name:literal => $type:path),* $(,)?) => {
        const GENERATED_TYPES: &[GeneratedType] = &[$(GeneratedType {
            name: $name,
            round_trip: spec::round_trip::<$type>,
            schema: spec::generated_schema::<$type>,
        }),*];
    };
}

with_component_schemas!(generated_types);

fn generated_type(name: &str) -> Option<&'static GeneratedType> {
    GENERATED_TYPES.iter().find(|t| t.name == name)
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
        match generated_type(name).map(|t| (t.round_trip)(example)) {
            None => problems.push(format!(
                "{name}: not in build.rs's inventory (is the build stale?)"
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
        match generated_type(name) {
            None => problems.push(format!(
                "{name}: not in build.rs's inventory (is the build stale?)"
            )),
            Some(t) => problems.extend(spec::schema_drift(name, &(t.schema)())),
        }
    }
    assert!(
        problems.is_empty(),
        "schema drift:\n{}",
        problems.join("\n")
    );
}

/// Builds `OPEN_TYPES` and `decode_open` from the inventory of open value
/// sets (`oneOf [Known<X>, Other]`), so each can be decoded by name.
macro_rules! open_types {
    ($($name:literal => $open:path),* $(,)?) => {
        const OPEN_TYPES: &[&str] = &[$($name),*];

        /// Decodes `value` as the open type `name`: (its Display, whether it
        /// is a known value, its JSON encoding).
        fn decode_open(name: &str, value: &str) -> (String, bool, Value) {
            let json = Value::String(value.to_string());
            match name {
                $($name => {
                    let decoded: $open = serde_json::from_value(json)
                        .unwrap_or_else(|e| panic!("{name} rejects {value:?}: {e}"));
                    let encoded = serde_json::to_value(&decoded).expect("encodes");
                    (decoded.to_string(), decoded.known().is_some(), encoded)
                })*
                other => panic!("{other} is not an open value set in build.rs's inventory"),
            }
        }
    };
}

with_open_value_sets!(open_types);

#[test]
fn open_value_sets_cannot_drift_from_their_known_enums() {
    let sets = spec::open_value_sets();
    let mut names: Vec<&str> = sets.iter().map(|s| s.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names, OPEN_TYPES,
        "build.rs's inventory lists exactly the spec's open value sets"
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
