//! The loop of changing the API, step one: an operation added to
//! `openapi.yaml` goes through the same checks and facts build.rs runs (its
//! own modules, compiled here), so what the build says of it is tested
//! without a rebuild. An operation that needs a token and names no role is
//! refused with a line saying what to add; with one, its facts carry the
//! role, and from those LocalInstance, the method docs and the command line
//! follow (tests/local_instance/roles.rs, codegen/role_docs.rs and the
//! command line's help test read every operation from the facts).

#[allow(dead_code)]
#[path = "../codegen/conventions.rs"]
mod conventions;
#[allow(dead_code)]
#[path = "../codegen/document.rs"]
mod document;
#[allow(dead_code)]
#[path = "../codegen/facts.rs"]
mod facts;
#[allow(dead_code)]
#[path = "../src/role.rs"]
mod role;

use role::Role;
use serde_json::{json, Value};

fn spec() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml"))
        .expect("openapi.yaml");
    document::Document::parse(&text).unwrap().root
}

/// The spec with `GET /system/metrics` added: a new operation that needs a
/// token (the spec-wide `security`), with `extra` merged into it.
fn with_new_operation(extra: Value) -> document::Document {
    let mut root = spec();
    let mut operation = json!({
        "operationId": "getSystemMetrics",
        "tags": ["system"],
        "summary": "Get the instance's metrics",
        "responses": {
            "2XX": {
                "description": "The metrics",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Message"}}}
            },
            "401": {"$ref": "#/components/responses/Unauthorized"},
            "403": {"$ref": "#/components/responses/Forbidden"}
        }
    });
    for (key, value) in extra.as_object().unwrap() {
        operation[key] = value.clone();
    }
    root["paths"]["/system/metrics"] = json!({"get": operation});
    document::Document { root }
}

fn problems_of(spec: &document::Document) -> Vec<String> {
    conventions::check_conventions(spec)
}

#[test]
fn the_spec_as_it_is_keeps_every_convention() {
    let spec = document::Document { root: spec() };
    assert_eq!(problems_of(&spec), Vec::<String>::new());
}

#[test]
fn a_new_operation_without_a_role_is_refused_saying_what_to_add() {
    let problems = problems_of(&with_new_operation(json!({})));
    assert_eq!(problems.len(), 1, "{problems:#?}");
    let line = &problems[0];
    assert!(line.starts_with("getSystemMetrics: "), "{line}");
    assert!(line.contains("add `x-dployr-role: <role>`"), "{line}");
    assert!(line.contains("viewer, developer, admin, owner"), "{line}");
    assert!(!line.contains('\n'), "one line: {line}");
}

#[test]
fn an_unknown_role_a_role_on_a_public_operation_and_disagreeing_words_are_refused() {
    let unknown = problems_of(&with_new_operation(json!({"x-dployr-role": "root"})));
    assert_eq!(unknown.len(), 1, "{unknown:#?}");
    assert!(unknown[0].starts_with("getSystemMetrics: "), "{unknown:?}");
    assert!(
        unknown[0].contains(
            "`x-dployr-role: root` is not a role; write one of viewer, developer, admin, owner"
        ),
        "{unknown:?}"
    );

    let public = problems_of(&with_new_operation(
        json!({"x-dployr-role": "admin", "security": []}),
    ));
    assert_eq!(public.len(), 1, "{public:#?}");
    assert!(public[0].contains("takes no `x-dployr-role`"), "{public:?}");

    let disagreeing = problems_of(&with_new_operation(json!({
        "x-dployr-role": "admin",
        "description": "Reads metrics (Viewer+ required)"
    })));
    assert_eq!(disagreeing.len(), 1, "{disagreeing:#?}");
    assert!(
        disagreeing[0].contains("make them agree (`(Admin+ required)`)"),
        "{disagreeing:?}"
    );
}

#[test]
fn with_a_role_the_new_operation_is_accepted_and_its_facts_carry_the_role() {
    let spec = with_new_operation(json!({
        "x-dployr-role": "admin",
        "description": "Reads the instance's metrics (Admin+ required)"
    }));
    assert_eq!(problems_of(&spec), Vec::<String>::new());
    let facts = facts::spec_facts(&spec).unwrap();
    assert_eq!(facts["get_system_metrics"].role, Some(Role::Admin));
    // Public operations carry none.
    assert_eq!(facts["register_instance"].role, None);
    let rendered = facts::render_facts(&spec, &facts).unwrap();
    let metrics = rendered
        .split("pub(crate) static ")
        .find(|block| block.starts_with("GET_SYSTEM_METRICS"))
        .expect("the new operation's facts");
    assert!(metrics.contains("role: Some(Role::Admin),"), "{metrics}");
}
