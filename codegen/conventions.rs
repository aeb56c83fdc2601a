//! The conventions of `openapi.yaml` that the generated client, the
//! hand-written layer and the contract tests rely on, checked before
//! anything is generated: a spec that breaks one fails `cargo build` with a
//! line naming the operation or schema and the rule, instead of a panic in
//! a test helper later. The README's "Changing the API" lists the same rules.
//!
//! The checks read the document as plain JSON (the shape the tests read),
//! not as `openapiv3` types, so that what is checked is what is written.

use std::collections::BTreeSet;

use heck::{ToLowerCamelCase, ToUpperCamelCase};
use serde_json::{Map, Value};

use crate::document::{self, Document};
use crate::role::Role;

/// The vendor extension that marks a string as secret.
pub(crate) const SECRET_EXTENSION: &str = "x-dployr-secret";

/// The vendor extension that names the least role a token needs to call an
/// operation.
pub(crate) const ROLE_EXTENSION: &str = "x-dployr-role";

/// The component every error status answers with.
const ERROR_BODY: &str = "ErrorResponse";

/// Every broken convention, one line each (`subject: rule`); empty when the
/// spec keeps them all.
pub(crate) fn check_conventions(spec: &Document) -> Vec<String> {
    let mut problems = Vec::new();
    check_operation_ids(spec, &mut problems);
    for op in spec.operations() {
        let mut found = Vec::new();
        check_parameters(spec, &op, &mut found);
        check_request_body(spec, &op, &mut found);
        check_success_response(spec, &op, &mut found);
        check_error_responses(spec, &op, &mut found);
        check_security(spec, &op, &mut found);
        check_role(spec, &op, &mut found);
        problems.extend(found.into_iter().map(|p| format!("{}: {p}", op.id)));
    }
    check_error_body(spec, &mut problems);
    check_component_schemas(spec, &mut problems);
    check_open_value_sets(spec, &mut problems);
    document::each_schema(spec, &mut |place, schema, is_component| {
        check_enum(place, schema, is_component, &mut problems);
        check_integer(place, schema, &mut problems);
        check_secret(place, schema, is_component, &mut problems);
    });
    problems
}

/// The method names of the client are the snake_case operationIds, so an
/// id must be unique and read as one identifier.
fn check_operation_ids(spec: &Document, problems: &mut Vec<String>) {
    let mut seen = BTreeSet::new();
    for op in spec.operations() {
        if op.id.is_empty() {
            problems.push(format!(
                "{} {}: has no operationId (every operation needs one; the client method is named after it)",
                op.method.to_uppercase(),
                op.path
            ));
            continue;
        }
        if !is_identifier(&op.id) || op.id.to_lower_camel_case() != op.id {
            problems.push(format!(
                "{}: an operationId is lowerCamelCase letters and digits (the client method is its snake_case)",
                op.id
            ));
        }
        if !seen.insert(op.id.clone()) {
            problems.push(format!("{}: operationId used twice", op.id));
        }
    }
}

fn is_identifier(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric())
}

/// Parameters are in the path or the query, and are strings or 64-bit
/// integers written in place: the request builders and the contract tests
/// know how to fill those.
fn check_parameters(spec: &Document, op: &document::Operation, problems: &mut Vec<String>) {
    for parameter in op.parameters(spec) {
        let Some(parameter) = parameter else {
            problems.push("a parameter $ref does not resolve to #/components/parameters".into());
            continue;
        };
        let name = parameter["name"].as_str().unwrap_or("?");
        let location = parameter["in"].as_str().unwrap_or("?");
        let schema = &parameter["schema"];
        let kind = schema["type"].as_str();
        match (location, kind) {
            ("path", Some("string")) | ("query", Some("string" | "integer")) => {}
            ("path" | "query", _) if schema.get("$ref").is_some() => problems.push(format!(
                "parameter {name}: write its schema in place, not as a $ref"
            )),
            ("path", _) => problems.push(format!("parameter {name}: a path parameter is a string")),
            ("query", _) => problems.push(format!(
                "parameter {name}: a query parameter is a string or an integer"
            )),
            _ => problems.push(format!(
                "parameter {name}: only path and query parameters are supported, not `{location}`"
            )),
        }
    }
}

/// A request body is JSON whose schema is a component: the tests send the
/// component's example, and users name the generated type.
fn check_request_body(spec: &Document, op: &document::Operation, problems: &mut Vec<String>) {
    let Some(body) = op.value.get("requestBody") else {
        return;
    };
    if body.get("$ref").is_some() {
        problems.push("write the requestBody in place (its schema may be a $ref)".into());
        return;
    }
    let content = body["content"].as_object();
    let only_json = content.is_some_and(|c| c.len() == 1 && c.contains_key("application/json"));
    if !only_json {
        problems.push("the request body is `application/json` and nothing else".into());
        return;
    }
    let schema = &body["content"]["application/json"]["schema"];
    if let Err(why) = component_ref(spec, schema) {
        problems.push(format!(
            "the request body's schema must be a $ref to a component schema ({why}); move it to components/schemas"
        ));
    }
}

/// One success, written `2XX`: instances answer a write with 200 or 201,
/// and either carries the same body. Its body is a JSON component, one
/// text media type (the log stream), or nothing.
fn check_success_response(spec: &Document, op: &document::Operation, problems: &mut Vec<String>) {
    let Some(responses) = op.value["responses"].as_object() else {
        problems.push("has no responses".into());
        return;
    };
    let successes: Vec<&String> = responses
        .keys()
        .filter(|status| !is_error_status(status))
        .collect();
    if successes != ["2XX"] {
        problems.push(format!(
            "declare exactly one success response, as `2XX` (found {successes:?})"
        ));
    }
    // Its body is checked even under another key, so that one build
    // reports every problem of the operation.
    let [status] = successes.as_slice() else {
        return;
    };
    let Some(response) = spec.resolve(&responses[status.as_str()]) else {
        problems.push(format!("the {status} response $ref does not resolve"));
        return;
    };
    let Some(content) = response.get("content").and_then(Value::as_object) else {
        return;
    };
    let media_types: Vec<(&str, &Value)> = content.iter().map(|(k, v)| (k.as_str(), v)).collect();
    match media_types.as_slice() {
        [("application/json", media)] => {
            if let Err(why) = component_ref(spec, &media["schema"]) {
                problems.push(format!(
                    "the {status} body's schema must be a $ref to a component schema ({why}); move it to components/schemas"
                ));
            }
        }
        [(media_type, media)] => {
            if media["schema"]["type"] != "string" || !media["example"].is_string() {
                problems.push(format!(
                    "a {media_type} answer has `schema: {{type: string}}` and a text `example`"
                ));
            }
        }
        _ => problems.push(format!("the {status} response has exactly one media type")),
    }
}

fn is_error_status(status: &str) -> bool {
    status.len() == 3
        && status.starts_with(['4', '5'])
        && status.chars().all(|c| c.is_ascii_digit())
}

/// Every error status shares one body, `ErrorResponse`, with an example:
/// `dployr::Error` reads its message, code and field details.
fn check_error_responses(spec: &Document, op: &document::Operation, problems: &mut Vec<String>) {
    let Some(responses) = op.value["responses"].as_object() else {
        return;
    };
    for (status, response) in responses {
        // Anything else is reported by `check_success_response`.
        if !is_error_status(status) {
            continue;
        }
        let Some(response) = spec.resolve(response) else {
            problems.push(format!("the {status} response $ref does not resolve"));
            continue;
        };
        let media = &response["content"]["application/json"];
        if component_ref(spec, &media["schema"]).ok() != Some(ERROR_BODY) {
            problems.push(format!(
                "the {status} response's body is `$ref: '#/components/schemas/{ERROR_BODY}'` (the shared error body)"
            ));
        }
        if media.get("example").is_none() {
            problems.push(format!(
                "the {status} response has an `example` (the tests answer with it)"
            ));
        }
    }
}

/// Operations carry a bearer token or, with `security: []`, nothing.
fn check_security(spec: &Document, op: &document::Operation, problems: &mut Vec<String>) {
    let Some(requirements) = op.value.get("security").and_then(Value::as_array) else {
        return;
    };
    let schemes = &spec.root["components"]["securitySchemes"];
    for name in requirements
        .iter()
        .filter_map(Value::as_object)
        .flat_map(Map::keys)
    {
        let scheme = &schemes[name];
        if scheme["type"] != "http" || scheme["scheme"] != "bearer" {
            problems.push(format!(
                "security scheme {name}: the client sends only bearer tokens (`type: http, scheme: bearer`), or nothing with `security: []`"
            ));
        }
    }
}

/// An operation that needs a token names the least role it needs, one of
/// [`Role`]'s, and its description does not say another: `LocalInstance`
/// enforces it, the docs and the command line show it.
fn check_role(spec: &Document, op: &document::Operation, problems: &mut Vec<String>) {
    let names: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
    let names = names.join(", ");
    let public = op.is_public(spec);
    let role = match (op.value.get(ROLE_EXTENSION), public) {
        (None, true) => return,
        (Some(_), true) => {
            problems.push(format!(
                "is public (`security: []`), so it takes no `{ROLE_EXTENSION}`; remove it"
            ));
            return;
        }
        (None, false) => {
            problems.push(format!(
                "needs a token but names no role: add `{ROLE_EXTENSION}: <role>`, the least role a token needs to call it (one of {names}), and say it in its description, e.g. \"(Developer+ required)\""
            ));
            return;
        }
        (Some(value), false) => {
            let role = value
                .as_str()
                .and_then(|name| Role::ALL.into_iter().find(|r| r.as_str() == name));
            match role {
                Some(role) => role,
                None => {
                    let written = value
                        .as_str()
                        .map_or_else(|| value.to_string(), String::from);
                    problems.push(format!(
                        "`{ROLE_EXTENSION}: {written}` is not a role; write one of {names}"
                    ));
                    return;
                }
            }
        }
    };
    let description = op.value["description"].as_str().unwrap_or_default();
    let words = required_words(role);
    let stated: Vec<Role> = Role::ALL
        .into_iter()
        .filter(|r| description.contains(&required_words(*r)))
        .collect();
    if !stated.is_empty() && stated != [role] {
        problems.push(format!(
            "its description says {stated:?} but `{ROLE_EXTENSION}` is {role}; make them agree (`{words}`)"
        ));
    }
}

/// How the reference's descriptions state a role: `(Developer+ required)`.
fn required_words(role: Role) -> String {
    let name = role.as_str();
    format!("({}{}+ required)", name[..1].to_uppercase(), &name[1..])
}

fn check_error_body(spec: &Document, problems: &mut Vec<String>) {
    if spec.schema(ERROR_BODY).is_none() {
        problems.push(format!(
            "components/schemas/{ERROR_BODY}: missing; every error status answers with it"
        ));
    }
}

/// A component becomes a type of the same name, and its example is what
/// the tests send, answer and round-trip.
fn check_component_schemas(spec: &Document, problems: &mut Vec<String>) {
    for (name, schema) in spec.schemas() {
        if !is_identifier(name) || name.to_upper_camel_case() != *name {
            problems.push(format!(
                "{name}: a component schema is named in UpperCamelCase letters and digits (its generated type takes the name)"
            ));
        }
        if schema.get("example").is_none() {
            problems.push(format!(
                "{name}: every component schema has an `example` (the contract tests decode and send it)"
            ));
        }
    }
}

/// `X: oneOf [$ref Known<X>, {title: Other, type: string, not: {enum}}]`,
/// with `not.enum` listing exactly the values of `Known<X>`.
fn check_open_value_sets(spec: &Document, problems: &mut Vec<String>) {
    for (name, schema) in spec.schemas() {
        let Some(known) = name.strip_prefix("Known") else {
            continue;
        };
        let values = strings(&schema["enum"]);
        if schema["type"] != "string" || values.is_empty() {
            problems.push(format!(
                "{name}: a `Known*` schema is a string `enum` (the values this API version knows)"
            ));
            continue;
        }
        let rule = format!(
            "the open value set of {name} is `oneOf: [$ref: '#/components/schemas/{name}', {{title: Other, type: string, not: {{enum: <the same values>}}}}]`"
        );
        let Some(open) = spec.schema(known) else {
            problems.push(format!("{known}: missing; {rule}"));
            continue;
        };
        let variants = open["oneOf"].as_array().map(Vec::as_slice).unwrap_or(&[]);
        let [first, other] = variants else {
            problems.push(format!("{known}: {rule}"));
            continue;
        };
        let shaped = first["$ref"].as_str() == Some(&format!("#/components/schemas/{name}"))
            && other["title"] == "Other"
            && other["type"] == "string";
        if !shaped {
            problems.push(format!("{known}: {rule}"));
            continue;
        }
        let excluded = strings(&other["not"]["enum"]);
        let missing: Vec<_> = values.iter().filter(|v| !excluded.contains(v)).collect();
        let extra: Vec<_> = excluded.iter().filter(|v| !values.contains(v)).collect();
        if !missing.is_empty() || !extra.is_empty() {
            problems.push(format!(
                "{known}: the `Other` half's `not.enum` lists exactly the values of {name} (missing {missing:?}, not in {name} {extra:?})"
            ));
        }
    }
}

/// A closed `enum` would refuse a value a newer instance adds, so enums
/// live only in `Known*` components, inside an open value set.
fn check_enum(place: &str, schema: &Value, is_component: bool, problems: &mut Vec<String>) {
    if schema.get("enum").is_none() {
        return;
    }
    let inside_not = place.ends_with(".not");
    let known_component = is_component && place.starts_with("Known");
    if !inside_not && !known_component {
        problems.push(format!(
            "{place}: an `enum` breaks when an instance adds a value; make it a `Known*` component inside an open value set"
        ));
    }
}

/// typify turns other integer formats into `i32`, `u64` or `NonZero*`,
/// which the hand-written layer and `.limit(50)` do not expect.
fn check_integer(place: &str, schema: &Value, problems: &mut Vec<String>) {
    if schema["type"] == "integer" && schema["format"] != "int64" {
        problems.push(format!("{place}: an integer is `format: int64`"));
    }
}

/// A secret is a plain string written in place: it becomes
/// `dployr::Secret` (or `NonEmptySecret` with `minLength: 1`), which
/// cannot express other constraints.
fn check_secret(place: &str, schema: &Value, is_component: bool, problems: &mut Vec<String>) {
    let Some(marker) = schema.get(SECRET_EXTENSION) else {
        return;
    };
    let rule = format!(
        "`{SECRET_EXTENSION}: true` marks a string written in place (a property or a map's values), with at most `minLength: 1` and no format, pattern, maxLength or enum"
    );
    let plain = marker == &Value::Bool(true)
        && !is_component
        && schema["type"] == "string"
        && ["format", "pattern", "maxLength", "enum", "nullable"]
            .iter()
            .all(|key| schema.get(*key).is_none())
        && schema
            .get("minLength")
            .is_none_or(|n| n.as_u64().is_some_and(|n| n <= 1));
    if !plain {
        problems.push(format!("{place}: {rule}"));
    }
}

/// The component a `$ref` names, when it is one that exists.
fn component_ref<'a>(spec: &Document, schema: &'a Value) -> Result<&'a str, String> {
    let reference = schema["$ref"]
        .as_str()
        .ok_or_else(|| "it is written in place".to_string())?;
    let name = reference
        .strip_prefix("#/components/schemas/")
        .ok_or_else(|| format!("{reference} is not under #/components/schemas"))?;
    match spec.schema(name) {
        Some(_) => Ok(name),
        None => Err(format!("{reference} does not resolve")),
    }
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}
