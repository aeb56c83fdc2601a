//! What the contract tests read from `openapi.yaml`: its operations with
//! their inputs and examples, JSON Schema validation against its components,
//! and a structural comparison of its schemas with the ones the generated
//! types describe through `schemars`.
//!
//! Everything is read from the spec at test time, so a change to the spec
//! changes what the tests expect without anyone editing a list by hand.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Map, Value};

/// The spec, parsed once per test binary.
pub fn document() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml");
        let text =
            std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
        serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{path} is not YAML: {e}"))
    })
}

/// `components/schemas`, by name.
pub fn schemas() -> &'static Map<String, Value> {
    document()["components"]["schemas"]
        .as_object()
        .expect("the spec has components/schemas")
}

/// One component schema; panics naming it when the spec lacks it.
pub fn schema(name: &str) -> &'static Value {
    schemas()
        .get(name)
        .unwrap_or_else(|| panic!("the spec has no component schema {name}"))
}

/// The `example` of a component schema.
pub fn example(name: &str) -> &'static Value {
    schema(name)
        .get("example")
        .unwrap_or_else(|| panic!("component schema {name} has no example"))
}

/// The component a `$ref` names (its last path segment).
pub fn ref_name(schema: &Value) -> Option<&str> {
    schema.get("$ref")?.as_str()?.rsplit('/').next()
}

/// Follows a local `$ref` (`#/components/...`) inside the spec.
pub fn resolve(value: &'static Value) -> &'static Value {
    match value.get("$ref").and_then(Value::as_str) {
        None => value,
        Some(reference) => reference
            .strip_prefix('#')
            .and_then(|pointer| document().pointer(pointer))
            .unwrap_or_else(|| panic!("{reference} does not resolve in the spec")),
    }
}

/// `operationId` in camelCase to the snake_case name progenitor gives the
/// client method.
pub fn snake_case(id: &str) -> String {
    id.chars().fold(String::new(), |mut out, c| {
        if c.is_ascii_uppercase() && !out.is_empty() {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
        out
    })
}

/// What a successful answer carries, as the spec declares it.
#[derive(Clone, Debug)]
pub enum Success {
    /// A JSON body: the example of its media type, else of its schema.
    Json(Value),
    /// A non-JSON body (the log stream) with the media type's example.
    Text { media_type: String, example: String },
    /// No body at all.
    Empty,
}

impl Success {
    /// The value `invoke` must return for the spec's example answer.
    pub fn expected(&self) -> Value {
        match self {
            Success::Json(example) => example.clone(),
            Success::Text { example, .. } => Value::String(example.clone()),
            Success::Empty => Value::Null,
        }
    }
}

/// One parameter of an operation.
#[derive(Clone, Debug)]
pub struct Parameter {
    /// `path` or `query`.
    pub location: String,
    pub name: String,
    /// Its `example`, if the spec gives one.
    pub example: Option<Value>,
    /// Its schema's `minimum`, if any.
    pub minimum: Option<i64>,
    /// `type: integer` (else a string, as build.rs makes sure).
    pub is_integer: bool,
    /// `x-dployr-credential: true`: the client sends its access token here.
    pub is_credential: bool,
}

/// One operation of the spec.
#[derive(Clone, Debug)]
pub struct Operation {
    pub id: String,
    /// Upper case, e.g. `GET`.
    pub method: String,
    /// The path template, e.g. `/services/{serviceId}`.
    pub path: String,
    /// Each parameter, path item's first.
    pub parameters: Vec<Parameter>,
    /// The component schema of the JSON request body, if there is one.
    pub request_schema: Option<String>,
    pub success: Success,
    /// Every declared error status with the example body of its response.
    pub errors: Vec<(u16, Value)>,
    /// True when the operation is called without a token.
    pub public: bool,
}

impl Operation {
    fn read(path: &str, method: &str, op: &'static Value, shared: &'static Value) -> Self {
        let id = op["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{method} {path} has no operationId"))
            .to_string();
        let parameters = [shared, &op["parameters"]]
            .into_iter()
            .filter_map(Value::as_array)
            .flatten()
            .map(|p| {
                let p = resolve(p);
                let text = |key: &str| p[key].as_str().unwrap_or_default().to_string();
                Parameter {
                    location: text("in"),
                    name: text("name"),
                    example: p.get("example").cloned(),
                    minimum: p["schema"]["minimum"].as_i64(),
                    is_integer: p["schema"]["type"] == "integer",
                    is_credential: p["x-dployr-credential"] == true,
                }
            })
            .collect();
        let request_schema = op
            .get("requestBody")
            .map(|body| &resolve(body)["content"]["application/json"]["schema"])
            .map(|schema| match ref_name(schema) {
                Some(name) => name.to_string(),
                None => panic!("{id}: the request body is not a component $ref"),
            });

        let mut success = Vec::new();
        let mut errors = Vec::new();
        for (status, response) in op["responses"].as_object().expect("responses") {
            let response = resolve(response);
            if status.starts_with('2') {
                success.push(read_success(&id, response));
                continue;
            }
            let code: u16 = status
                .parse()
                .unwrap_or_else(|_| panic!("{id}: status {status} is not a number"));
            let example = response["content"]["application/json"]
                .get("example")
                .unwrap_or_else(|| panic!("{id}: the {status} response has no example"));
            errors.push((code, example.clone()));
        }
        assert_eq!(success.len(), 1, "{id}: expected exactly one 2XX response");

        let security = op.get("security").or_else(|| document().get("security"));
        let public = match security.and_then(Value::as_array) {
            None => true,
            Some(reqs) => {
                reqs.is_empty()
                    || reqs
                        .iter()
                        .any(|r| r.as_object().is_some_and(Map::is_empty))
            }
        };
        Operation {
            id,
            method: method.to_ascii_uppercase(),
            path: path.to_string(),
            parameters,
            request_schema,
            success: success.remove(0),
            errors,
            public,
        }
    }

    /// The parameters found in `location` (`path`, `query`).
    pub fn parameters_in<'a>(
        &'a self,
        location: &'a str,
    ) -> impl Iterator<Item = &'a Parameter> + 'a {
        self.parameters
            .iter()
            .filter(move |p| p.location == location)
    }

    /// The parameter called `name`.
    pub fn parameter(&self, name: &str) -> &Parameter {
        self.parameters
            .iter()
            .find(|p| p.name == name)
            .unwrap_or_else(|| panic!("{}: no parameter {name}", self.id))
    }
}

fn read_success(id: &str, response: &'static Value) -> Success {
    let Some(content) = response.get("content").and_then(Value::as_object) else {
        return Success::Empty;
    };
    if let Some(media) = content.get("application/json") {
        let schema = ref_name(&media["schema"])
            .unwrap_or_else(|| panic!("{id}: the success body is not a component $ref"))
            .to_string();
        return Success::Json(
            media
                .get("example")
                .unwrap_or_else(|| example(&schema))
                .clone(),
        );
    }
    let (media_type, media) = content.iter().next().expect("a content map has an entry");
    let example = media["example"]
        .as_str()
        .unwrap_or_else(|| panic!("{id}: the {media_type} answer has no text example"));
    Success::Text {
        media_type: media_type.clone(),
        example: example.to_string(),
    }
}

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "patch", "head", "options", "trace",
];

/// `(path, method, operation, the path item's parameters)` of every
/// operation, unread.
fn raw_operations() -> Vec<(&'static str, &'static str, &'static Value, &'static Value)> {
    let paths = document()["paths"].as_object().expect("the spec has paths");
    let mut found = Vec::new();
    for (path, item) in paths {
        for method in METHODS {
            if let Some(op) = item.get(*method) {
                found.push((path.as_str(), *method, op, &item["parameters"]));
            }
        }
    }
    found
}

/// Every operation in the spec, in document order.
pub fn operations() -> Vec<Operation> {
    raw_operations()
        .into_iter()
        .map(|(path, method, op, shared)| Operation::read(path, method, op, shared))
        .collect()
}

/// The operation with this `operationId`. Only it is read, so what is
/// wrong with another operation cannot fail the tests of this one.
pub fn operation(id: &str) -> Operation {
    raw_operations()
        .into_iter()
        .find(|(_, _, op, _)| op["operationId"] == id)
        .map(|(path, method, op, shared)| Operation::read(path, method, op, shared))
        .unwrap_or_else(|| panic!("the spec has no operation {id}"))
}

/// Validates `instance` against component schema `name` with JSON Schema.
///
/// The document embeds the spec's components so `#/components/schemas/X`
/// references resolve as they are written. Draft 4 is the closest draft to
/// OpenAPI 3.0's schema dialect; `example` is an unknown keyword to it and
/// so is ignored.
pub fn validate(name: &str, instance: &Value) -> Result<(), String> {
    let document = json!({
        "components": { "schemas": schemas() },
        "allOf": [{ "$ref": format!("#/components/schemas/{name}") }],
    });
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .build(&document)
        .unwrap_or_else(|e| panic!("component schema {name} is not valid JSON Schema: {e}"));
    let problems: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{e} (at `{}`)", e.instance_path()))
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// Decodes `value` as `T` and encodes it back.
pub fn round_trip<T: Serialize + DeserializeOwned>(value: &Value) -> Result<Value, String> {
    let decoded: T = serde_json::from_value(value.clone()).map_err(|e| format!("decode: {e}"))?;
    serde_json::to_value(decoded).map_err(|e| format!("encode: {e}"))
}

/// The JSON Schema `schemars` derives for `T`, as JSON.
///
/// The spec says a property may be absent through `required`, never through
/// `null`; without these settings every `Option` field would read as
/// `["string", "null"]` and differ from the spec for no real reason.
pub fn generated_schema<T: schemars::JsonSchema>() -> Value {
    let settings = schemars::gen::SchemaSettings::draft07().with(|s| {
        s.option_add_null_type = false;
        s.option_nullable = false;
    });
    serde_json::to_value(settings.into_generator().into_root_schema_for::<T>())
        .expect("a schemars schema is JSON")
}

/// The part of a schema the drift check compares: what a value must be,
/// not its bounds, formats or documentation.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Shape {
    /// A reference to a component schema.
    Ref(String),
    /// `string`, `integer`, `boolean`, `number` or `object`.
    Type(String),
    Array(Box<Shape>),
    /// `oneOf` (spec) or `anyOf` (schemars, for untagged enums): the set of
    /// alternatives matters, not which keyword lists them.
    OneOf(BTreeSet<Shape>),
    /// A string marked `x-dployr-secret: true`: in the spec, the marker;
    /// in the generated code, `dployr::Secret` or `NonEmptySecret`, whose
    /// schemas carry the same marker. A secret that became a plain
    /// `String` (printable in `Debug`) reads as `Type("string")` and differs.
    Secret,
    /// No constraint (`true`, or a schema without a type).
    Any,
}

/// The vendor extension that marks a secret string.
pub const SECRET_EXTENSION: &str = "x-dployr-secret";

/// Whether the spec marks this schema as a secret string.
pub fn is_secret(schema: &Value) -> bool {
    schema.get(SECRET_EXTENSION) == Some(&Value::Bool(true))
}

fn alternatives(schema: &Value) -> Option<&Vec<Value>> {
    schema
        .get("oneOf")
        .or_else(|| schema.get("anyOf"))
        .and_then(Value::as_array)
}

/// The shape of a schema as the spec writes it.
pub fn spec_shape(schema: &Value) -> Shape {
    if let Some(name) = ref_name(schema) {
        return Shape::Ref(name.to_string());
    }
    if is_secret(schema) {
        return Shape::Secret;
    }
    if let Some(variants) = alternatives(schema) {
        return Shape::OneOf(variants.iter().map(spec_shape).collect());
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("array") => Shape::Array(Box::new(spec_shape(&schema["items"]))),
        Some(t) => Shape::Type(t.to_string()),
        None if schema.get("properties").is_some() => Shape::Type("object".into()),
        None => Shape::Any,
    }
}

/// The shape of a schema `schemars` produced. A `$ref` to a definition the
/// spec also has stays a reference; one to a helper the generator made on
/// its own (a constrained string newtype, an enum's `Other` half) is
/// inlined, because the spec writes those in place.
pub fn generated_shape(schema: &Value, definitions: &Map<String, Value>) -> Shape {
    if let Some(name) = ref_name(schema) {
        if schemas().contains_key(name) {
            return Shape::Ref(name.to_string());
        }
        let target = definitions
            .get(name)
            .unwrap_or_else(|| panic!("schemars definition {name} is missing"));
        return generated_shape(target, definitions);
    }
    if is_secret(schema) {
        return Shape::Secret;
    }
    // schemars wraps a `$ref` in a one-element `allOf` to attach metadata.
    if let Some([only]) = schema
        .get("allOf")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
    {
        return generated_shape(only, definitions);
    }
    if let Some(variants) = alternatives(schema) {
        return Shape::OneOf(
            variants
                .iter()
                .map(|v| generated_shape(v, definitions))
                .collect(),
        );
    }
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| *t != "null")
            .collect(),
        _ => Vec::new(),
    };
    match types.as_slice() {
        ["array"] => Shape::Array(Box::new(generated_shape(&schema["items"], definitions))),
        [t] => Shape::Type(t.to_string()),
        _ if schema.get("properties").is_some() => Shape::Type("object".into()),
        _ => Shape::Any,
    }
}

fn keys(schema: &Value, field: &str) -> BTreeSet<String> {
    match schema.get(field) {
        Some(Value::Object(map)) => map.keys().cloned().collect(),
        Some(Value::Array(_)) => strings(&schema[field]).into_iter().collect(),
        _ => BTreeSet::new(),
    }
}

fn set_difference(
    what: &str,
    spec: &BTreeSet<String>,
    generated: &BTreeSet<String>,
) -> Option<String> {
    if spec == generated {
        return None;
    }
    let only_spec: Vec<_> = spec.difference(generated).collect();
    let only_generated: Vec<_> = generated.difference(spec).collect();
    Some(format!(
        "{what}: only in the spec {only_spec:?}, only in the generated type {only_generated:?}"
    ))
}

/// Where component schema `name` and the schemars schema of its generated
/// type (`generated`, from [`generated_schema`]) disagree, one line each.
pub fn schema_drift(name: &str, generated: &Value) -> Vec<String> {
    let spec = schema(name);
    let empty = Map::new();
    let definitions = generated
        .get("definitions")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let mut problems = Vec::new();

    let (want, got) = (spec_shape(spec), generated_shape(generated, definitions));
    if want != got {
        problems.push(format!(
            "the spec says {want:?}, the generated type {got:?}"
        ));
    }
    for field in ["properties", "required", "enum"] {
        let (want, got) = (keys(spec, field), keys(generated, field));
        problems.extend(set_difference(field, &want, &got));
    }
    if let (Some(want), Some(got)) = (spec.get("properties"), generated.get("properties")) {
        let got_props = got.as_object().expect("schemars properties are a map");
        for (property, want) in want.as_object().expect("spec properties are a map") {
            match got_props.get(property) {
                Some(got) if !same_shape(want, got, definitions) => problems.push(format!(
                    "property {property}: the spec says {:?}, the generated type {:?}",
                    spec_shape(want),
                    generated_shape(got, definitions)
                )),
                _ => {}
            }
        }
    }
    let (want, got) = (
        additional(spec),
        generated_additional(generated, definitions),
    );
    if want != got {
        problems.push(format!(
            "additionalProperties: the spec says {want:?}, the generated type {got:?}"
        ));
    }
    problems
        .into_iter()
        .map(|p| format!("{name}: {p}"))
        .collect()
}

fn additional(spec: &Value) -> Option<Shape> {
    spec.get("additionalProperties").map(spec_shape)
}

fn generated_additional(generated: &Value, definitions: &Map<String, Value>) -> Option<Shape> {
    let additional = generated.get("additionalProperties")?;
    Some(generated_shape(additional, definitions))
}

/// Whether a property's schema in the spec and in schemars agree.
fn same_shape(spec: &Value, generated: &Value, definitions: &Map<String, Value>) -> bool {
    let got = generated_shape(generated, definitions);
    if spec_shape(spec) == got {
        return true;
    }
    // A `#[serde(transparent)]` newtype (`StringMap`) derives the schema of
    // the type it wraps, which schemars writes in place instead of as a
    // `$ref`: compare it with what the spec's `$ref` points at.
    match ref_name(spec) {
        Some(target) if !matches!(got, Shape::Ref(_)) => {
            let target = schema(target);
            spec_shape(target) == got
                && additional(target) == generated_additional(generated, definitions)
        }
        _ => false,
    }
}

/// A closed value set written as `oneOf [Known<X>, Other]`: the name of the
/// open schema, its known enum, the known enum's values and the `not.enum`
/// values of the `Other` half.
pub struct OpenValueSet {
    pub name: String,
    pub known: String,
    pub known_values: Vec<String>,
    pub other_excludes: Vec<String>,
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

/// Every open value set in the spec.
pub fn open_value_sets() -> Vec<OpenValueSet> {
    let mut found = Vec::new();
    for (name, definition) in schemas() {
        let Some(variants) = definition.get("oneOf").and_then(Value::as_array) else {
            continue;
        };
        let known = variants
            .iter()
            .find_map(ref_name)
            .filter(|r| r.starts_with("Known"));
        let other = variants.iter().find(|v| v.get("not").is_some());
        if let (Some(known), Some(other)) = (known, other) {
            found.push(OpenValueSet {
                name: name.clone(),
                known: known.to_string(),
                known_values: strings(&schema(known)["enum"]),
                other_excludes: strings(&other["not"]["enum"]),
            });
        }
    }
    found
}
