//! What the hand-written layer needs to know of each operation, read from
//! the spec once (through [`Document`], the one `$ref` resolver) and written
//! out as one `static` per operation (`OUT_DIR/spec_facts.rs`): whether it
//! is public, its timeout, whether it streams, the bounds of its inputs,
//! and what the public table (`dployr::operations()`) shows of it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use heck::{ToShoutySnakeCase, ToSnakeCase, ToUpperCamelCase};
use serde_json::Value;

use crate::conventions::{ROLE_EXTENSION, SECRET_EXTENSION};
use crate::document::{self, Document};
use crate::role::Role;

/// The vendor extension that gives an operation its own default timeout.
const TIMEOUT_EXTENSION: &str = "x-dployr-timeout-secs";

/// The vendor extension that marks a query parameter as carrying the access
/// token (the log stream's `token`): the request path fills it in and
/// replaces it after a refresh, as it does the `Authorization` header.
const CREDENTIAL_EXTENSION: &str = "x-dployr-credential";

/// The page-size parameter whose `maximum` is the largest page the API
/// serves (`dployr::MAX_PAGE_SIZE`).
const PAGE_SIZE_PARAMETER: &str = "limit";

/// An integer that must stay within bounds: (name, minimum, maximum).
type Bound = (String, Option<i64>, Option<i64>);

/// Every operation's facts, by the name progenitor gives it.
pub(crate) type Facts = BTreeMap<String, OperationFacts>;

/// One parameter, as the table shows it.
pub(crate) struct ParameterFacts {
    name: String,
    location: &'static str,
    required: bool,
    description: String,
    integer: bool,
    credential: bool,
}

/// One top-level field of a JSON request body, as the table shows it.
pub(crate) struct BodyFieldFacts {
    name: String,
    required: bool,
    description: String,
    /// `String`, `Integer`, `Number`, `Boolean` or `Json`.
    kind: &'static str,
}

/// One operation, as the hand-written layer sees it.
pub(crate) struct OperationFacts {
    /// The spec's operationId, e.g. `listServices`.
    id: String,
    /// Upper case, e.g. `GET`.
    method: String,
    /// The path template, e.g. `/services/{serviceId}`.
    path: String,
    tag: String,
    summary: String,
    description: String,
    public: bool,
    /// The least role a token needs (`x-dployr-role`); `None` when public.
    pub(crate) role: Option<Role>,
    timeout_secs: Option<u64>,
    /// The success answer is `text/event-stream`: no body limit, no total
    /// timeout, only a deadline for the headers.
    pub(crate) streaming: bool,
    /// The query parameter that carries the access token, if any.
    credential_query: Option<String>,
    query_bounds: Vec<Bound>,
    /// Bounded integer properties of the JSON request body.
    body_bounds: Vec<Bound>,
    parameters: Vec<ParameterFacts>,
    /// The component schema of the JSON request body.
    body_type: Option<String>,
    /// `requestBody.required`: without it, no body at all is a request too.
    body_required: bool,
    /// The component schema of the JSON success body.
    answer_type: Option<String>,
    body_fields: Vec<BodyFieldFacts>,
}

pub(crate) fn spec_facts(spec: &Document) -> Result<Facts, String> {
    let mut facts = Facts::new();
    for op in spec.operations() {
        if op.id.is_empty() {
            return Err(format!(
                "{} {} has no operationId",
                op.method.to_uppercase(),
                op.path
            ));
        }
        let id = op.id.clone();
        let public = op.is_public(spec);
        // `conventions::check_role` has refused a missing or unknown role.
        let role = op.value[ROLE_EXTENSION]
            .as_str()
            .and_then(Role::from_name)
            .filter(|_| !public);
        let timeout_secs = match op.value.get(TIMEOUT_EXTENSION) {
            None => None,
            Some(value) => Some(value.as_u64().ok_or_else(|| {
                format!("{id}: {TIMEOUT_EXTENSION} must be a whole number of seconds")
            })?),
        };

        let mut query_bounds = Vec::new();
        let mut credential_query = None;
        let mut parameters = Vec::new();
        for parameter in op.parameters(spec) {
            let parameter =
                parameter.ok_or_else(|| format!("{id}: a parameter reference does not resolve"))?;
            let name = text(&parameter["name"]);
            let location = match parameter["in"].as_str() {
                Some("path") => "Path",
                Some("query") => "Query",
                Some(other) => {
                    return Err(format!(
                        "{id}: parameter `{name}` is in `{other}`, which the crate does not send"
                    ))
                }
                None => return Err(format!("{id}: parameter `{name}` has no `in`")),
            };
            let schema = &parameter["schema"];
            let integer = schema["type"] == "integer";
            if integer && location == "Query" {
                let (min, max) = (schema["minimum"].as_i64(), schema["maximum"].as_i64());
                if min.is_some() || max.is_some() {
                    query_bounds.push((name.clone(), min, max));
                }
            }
            let credential = match parameter.get(CREDENTIAL_EXTENSION) {
                None => false,
                Some(Value::Bool(true)) if location == "Query" && credential_query.is_none() => {
                    credential_query = Some(name.clone());
                    true
                }
                Some(Value::Bool(true)) => {
                    return Err(format!(
                        "{id}: only one query parameter may carry {CREDENTIAL_EXTENSION}"
                    ))
                }
                Some(_) => {
                    return Err(format!(
                        "{id}: {CREDENTIAL_EXTENSION} on `{name}` must be `true`"
                    ))
                }
            };
            parameters.push(ParameterFacts {
                name,
                location,
                required: parameter["required"] == true || location == "Path",
                description: text(&parameter["description"]),
                integer,
                credential,
            });
        }

        let body_type =
            component_name(&op.value["requestBody"]["content"]["application/json"]["schema"]);
        let mut body_bounds = Vec::new();
        let mut body_fields = Vec::new();
        if let Some(schema) = body_type.as_deref().and_then(|name| spec.schema(name)) {
            let required = &schema["required"];
            for (name, property) in schema["properties"].as_object().into_iter().flatten() {
                let resolved = spec.resolve(property).unwrap_or(property);
                let description = match text(&property["description"]) {
                    d if d.is_empty() => text(&resolved["description"]),
                    d => d,
                };
                body_fields.push(BodyFieldFacts {
                    name: name.clone(),
                    required: required
                        .as_array()
                        .is_some_and(|r| r.iter().any(|n| n == name.as_str())),
                    description,
                    kind: field_kind(spec, resolved),
                });
            }
            for (name, property) in schema["properties"].as_object().into_iter().flatten() {
                let property = spec.resolve(property).unwrap_or(property);
                if property["type"] == "integer" {
                    let (min, max) = (property["minimum"].as_i64(), property["maximum"].as_i64());
                    if min.is_some() || max.is_some() {
                        body_bounds.push((name.clone(), min, max));
                    }
                }
            }
        }

        let success = spec.resolve(&op.value["responses"]["2XX"]);
        let content = success.map(|r| &r["content"]);
        let streaming = content.is_some_and(|c| c.get("text/event-stream").is_some());
        let answer_type = content.and_then(|c| component_name(&c["application/json"]["schema"]));

        // progenitor names a method after the operationId in snake case;
        // `sends::wrap` checks this name against the one it generated.
        let previous = facts.insert(
            id.to_snake_case(),
            OperationFacts {
                id: id.clone(),
                method: op.method.to_uppercase(),
                path: op.path.to_string(),
                tag: op.value["tags"][0].as_str().unwrap_or_default().to_string(),
                summary: text(&op.value["summary"]),
                description: text(&op.value["description"]),
                public,
                role,
                timeout_secs,
                streaming,
                credential_query,
                query_bounds,
                body_bounds,
                parameters,
                body_type,
                body_required: op.value["requestBody"]["required"] == true,
                answer_type,
                body_fields,
            },
        );
        if previous.is_some() {
            return Err(format!(
                "operationId {id} is used twice (or two operationIds differ only in case)"
            ));
        }
    }
    Ok(facts)
}

/// The (minimum, maximum) of every integer in the spec whose minimum is 1.
pub(crate) fn bounded_integers(spec: &Document) -> Vec<(i64, Option<i64>)> {
    let mut found = Vec::new();
    let mut consider = |schema: &Value| {
        if schema["type"] == "integer" && schema["minimum"].as_i64() == Some(1) {
            let bound = (1, schema["maximum"].as_i64());
            if !found.contains(&bound) {
                found.push(bound);
            }
        }
    };
    document::each_schema(spec, &mut |_, schema, _| consider(schema));
    for (_, parameter) in spec.root["components"]["parameters"]
        .as_object()
        .into_iter()
        .flatten()
    {
        consider(&parameter["schema"]);
    }
    found
}

/// How a body field's value is written on a command line: a scalar type,
/// an open value set (a known enum or any string) as a string, anything
/// else as JSON.
fn field_kind(spec: &Document, schema: &Value) -> &'static str {
    match schema["type"].as_str() {
        Some("string") => return "String",
        Some("integer") => return "Integer",
        Some("number") => return "Number",
        Some("boolean") => return "Boolean",
        _ => {}
    }
    let variants = schema["oneOf"].as_array().or(schema["anyOf"].as_array());
    let all_strings = variants.is_some_and(|variants| {
        variants
            .iter()
            .all(|v| spec.resolve(v).is_some_and(|v| v["type"] == "string"))
    });
    if all_strings {
        "String"
    } else {
        "Json"
    }
}

/// The name of the component a `$ref` schema points at.
fn component_name(schema: &Value) -> Option<String> {
    schema["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
        .map(str::to_string)
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().trim().to_string()
}

/// The largest `limit` any operation accepts: the largest page the API serves.
fn max_page_size(spec: &Document) -> Option<i64> {
    spec.operations()
        .iter()
        .flat_map(|op| op.parameters(spec))
        .flatten()
        .filter(|p| p["name"] == PAGE_SIZE_PARAMETER)
        .filter_map(|p| p["schema"]["maximum"].as_i64())
        .max()
}

/// The names of every query parameter the spec marks as a credential.
fn credential_parameters(facts: &Facts) -> Vec<&str> {
    let mut names: Vec<&str> = facts
        .values()
        .filter_map(|f| f.credential_query.as_deref())
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// What the spec marks secret, for `src/secret.rs` (`OUT_DIR/spec_secrets.rs`).
pub(crate) fn render_secrets(facts: &Facts) -> String {
    format!(
        "// What openapi.yaml marks secret, generated by build.rs.\n\n\
         /// The query parameters the spec marks `{CREDENTIAL_EXTENSION}`.\n\
         const CREDENTIAL_QUERY_PARAMETERS: &[&str] = &{:?};\n\n\
         /// The vendor extension that marks a value secret in the spec (read\n\
         /// by the secret types' JSON Schema, feature `schema`).\n\
         #[cfg_attr(not(feature = \"schema\"), allow(dead_code))]\n\
         const SECRET_EXTENSION: &str = {SECRET_EXTENSION:?};\n",
        credential_parameters(facts)
    )
}

pub(crate) fn render_facts(spec: &Document, facts: &Facts) -> Result<String, String> {
    let mut out =
        String::from("// Facts about each operation, generated from openapi.yaml by build.rs.\n\n");
    let page =
        max_page_size(spec).ok_or("no operation has a `limit` query parameter with a `maximum`")?;
    let _ = writeln!(
        out,
        "/// The largest page the API serves (the spec's `maximum` of `{PAGE_SIZE_PARAMETER}`).\n\
         pub const MAX_PAGE_SIZE: u32 = {page};\n"
    );
    let version = spec.root["info"]["version"]
        .as_str()
        .ok_or("`info.version` is not a string")?;
    let _ = writeln!(
        out,
        "/// The version of the API the spec describes (its `info.version`);\n\
         /// `LocalInstance` reports it as its own.\n\
         #[cfg_attr(not(feature = \"testing\"), allow(dead_code))]\n\
         pub(crate) const API_VERSION: &str = {version:?};\n"
    );
    for (name, f) in facts {
        let timeout = match f.timeout_secs {
            Some(secs) => format!("Some(Duration::from_secs({secs}))"),
            None => "None".to_string(),
        };
        let bounds = |bounds: &[Bound]| {
            let items: Vec<String> = bounds
                .iter()
                .map(|(field, min, max)| {
                    format!("Bound {{ field: {field:?}, min: {min:?}, max: {max:?} }}")
                })
                .collect();
            format!("&[{}]", items.join(", "))
        };
        let parameters: Vec<String> = f
            .parameters
            .iter()
            .map(|p| {
                format!(
                    "Parameter {{ name: {:?}, location: ParameterLocation::{}, required: {}, description: {:?}, integer: {}, credential: {} }}",
                    p.name, p.location, p.required, p.description, p.integer, p.credential
                )
            })
            .collect();
        let body = match &f.body_type {
            Some(ty) => format!(
                "Some(Body {{ type_name: {ty:?}, check: check_body::<crate::types::{} > }})",
                ty.to_upper_camel_case()
            ),
            None => "None".to_string(),
        };
        let answer = match &f.answer_type {
            Some(ty) => format!(
                "Some(Answer {{ type_name: {ty:?}, check: check_answer::<crate::types::{} > }})",
                ty.to_upper_camel_case()
            ),
            None => "None".to_string(),
        };
        let fields: Vec<String> = f
            .body_fields
            .iter()
            .map(|b| {
                format!(
                    "BodyField {{ name: {:?}, required: {}, description: {:?}, kind: FieldKind::{} }}",
                    b.name, b.required, b.description, b.kind
                )
            })
            .collect();
        let _ = writeln!(
            out,
            "/// `{id}`: `{method} {path}`.\n\
             pub(crate) static {konst}: Operation = Operation {{\n    \
                 id: {id:?},\n    \
                 name: {name:?},\n    \
                 method: {method:?},\n    \
                 path: {path:?},\n    \
                 tag: {tag:?},\n    \
                 summary: {summary:?},\n    \
                 description: {description:?},\n    \
                 public: {public},\n    \
                 role: {role},\n    \
                 timeout: {timeout},\n    \
                 streaming: {streaming},\n    \
                 credential_query: {credential:?},\n    \
                 query_bounds: {query},\n    \
                 body_bounds: {body_bounds},\n    \
                 parameters: &[{parameters}],\n    \
                 body: {body},\n    \
                 body_required: {body_required},\n    \
                 answer: {answer},\n    \
                 body_fields: &[{fields}],\n\
             }};\n",
            id = f.id,
            method = f.method,
            path = f.path,
            tag = f.tag,
            summary = f.summary,
            description = f.description,
            konst = name.to_shouty_snake_case(),
            public = f.public,
            role = match f.role {
                Some(role) => format!("Some(Role::{role:?})"),
                None => "None".to_string(),
            },
            body_required = f.body_required,
            streaming = f.streaming,
            credential = f.credential_query,
            query = bounds(&f.query_bounds),
            body_bounds = bounds(&f.body_bounds),
            parameters = parameters.join(", "),
            fields = fields.join(", "),
        );
    }
    out.push_str("/// Every operation of the spec, by name.\n");
    out.push_str("pub(crate) static OPERATIONS: &[&Operation] = &[\n");
    for name in facts.keys() {
        let _ = writeln!(out, "    &{},", name.to_shouty_snake_case());
    }
    out.push_str("];\n");
    Ok(out)
}
