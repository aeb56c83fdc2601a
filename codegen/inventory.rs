//! What the spec declares, as lists the tests iterate over instead of lists
//! kept by hand (`OUT_DIR/spec_inventory.rs`), and the open value sets the
//! crate adds conveniences to (`OUT_DIR/open_value_sets.rs`).
//!
//! The inventory is a set of `macro_rules!` that hand their list to a macro
//! the including file names, so each test binary decides what to make of
//! it: `with_operations!(contract_calls)` expands `contract_calls! { ... }`.

use std::fmt::Write as _;

use crate::document::Document;
use heck::ToSnakeCase;

/// Rust keywords an identifier made from the spec might collide with;
/// progenitor and typify append `_` to them, and so do we.
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "box", "break", "const", "continue", "crate", "dyn", "else", "enum",
    "extern", "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move",
    "mut", "pub", "ref", "return", "self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "yield",
];

pub(crate) fn spec_inventory(spec: &Document) -> String {
    let mut out = String::from(
        "// What openapi.yaml declares, written by build.rs for the tests to iterate\n\
         // over. Each macro hands its list to the macro the caller names.\n\n",
    );
    let schemas: Vec<String> = spec
        .schemas()
        .map(|(name, _)| format!("{name:?} => dployr::types::{name}"))
        .collect();
    push_macro(
        &mut out,
        "with_component_schemas",
        "Every component schema: `\"Name\" => its generated type`.",
        &schemas,
    );
    let open: Vec<String> = open_value_sets(spec)
        .into_iter()
        .map(|set| format!("{:?} => dployr::types::{}", set.name, set.name))
        .collect();
    push_macro(
        &mut out,
        "with_open_value_sets",
        "The open value sets (`X: oneOf [Known<X>, Other]`): `\"X\" => its generated type`.",
        &open,
    );
    let responses: Vec<String> = response_schemas(spec)
        .into_iter()
        .map(|name| format!("{name:?} => dployr::types::{name} as {}", identifier(&name)))
        .collect();
    push_macro(
        &mut out,
        "with_response_schemas",
        "The JSON bodies instances send (each success body, and the error body): \
         `\"Name\" => its generated type as its snake_case name`.",
        &responses,
    );
    let operations: Vec<String> = spec
        .operations()
        .iter()
        .map(|op| operation_entry(spec, op))
        .collect();
    push_macro(
        &mut out,
        "with_operations",
        "Every operation: `\"operationId\" => client method { parameters: [builder method: \
         location kind \"name\"], body: [its type], answer: json | text }`.",
        &operations,
    );
    out
}

fn push_macro(out: &mut String, name: &str, doc: &str, entries: &[String]) {
    let _ = writeln!(
        out,
        "/// {doc}\n#[allow(unused_macros)]\nmacro_rules! {name} {{\n    ($then:ident) => {{\n        $then! {{"
    );
    for entry in entries {
        let _ = writeln!(out, "            {entry},");
    }
    out.push_str("        }\n    };\n}\n\n");
}

fn operation_entry(spec: &Document, op: &crate::document::Operation<'_>) -> String {
    let parameters: Vec<String> = op
        .parameters(spec)
        .into_iter()
        .flatten()
        .map(|p| {
            let name = p["name"].as_str().unwrap_or_default();
            let location = p["in"].as_str().unwrap_or_default();
            let kind = match p["schema"]["type"].as_str() {
                Some("integer") => "int",
                _ => "string",
            };
            format!("{}: {location} {kind} {name:?}", identifier(name))
        })
        .collect();
    let body = op.value["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        .as_str()
        .and_then(|r| r.rsplit('/').next())
        .map(|name| format!("dployr::types::{name}"))
        .unwrap_or_default();
    let success = spec.resolve(&op.value["responses"]["2XX"]);
    let answer = match success.and_then(|r| r["content"].as_object()) {
        Some(content) if !content.contains_key("application/json") => "text",
        _ => "json",
    };
    format!(
        "{:?} => {} {{ parameters: [{}], body: [{body}], answer: {answer} }}",
        op.id,
        identifier(&op.id),
        parameters.join(", ")
    )
}

/// The component of every JSON success body, and of the error body.
fn response_schemas(spec: &Document) -> Vec<String> {
    let mut names: Vec<String> = spec
        .operations()
        .iter()
        .filter_map(|op| spec.resolve(&op.value["responses"]["2XX"]))
        .filter_map(|r| r["content"]["application/json"]["schema"]["$ref"].as_str())
        .chain(["#/components/schemas/ErrorResponse"])
        .filter_map(|r| r.rsplit('/').next())
        .map(String::from)
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The snake_case identifier progenitor gives a method or parameter.
pub(crate) fn identifier(name: &str) -> String {
    let snake = name.to_snake_case();
    if KEYWORDS.contains(&snake.as_str()) {
        format!("{snake}_")
    } else {
        snake
    }
}

/// An open value set: its name, its known enum and the enum's values.
struct OpenValueSet {
    name: String,
    known: String,
    values: Vec<String>,
}

/// Every component that is `oneOf` a `Known*` enum and something else.
fn open_value_sets(spec: &Document) -> Vec<OpenValueSet> {
    spec.schemas()
        .filter_map(|(name, schema)| {
            let variants = schema["oneOf"].as_array()?;
            let known = variants.iter().find_map(|v| {
                let target = v["$ref"].as_str()?.strip_prefix("#/components/schemas/")?;
                target.starts_with("Known").then_some(target)
            })?;
            let values = spec.schema(known)?["enum"]
                .as_array()?
                .iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect();
            Some(OpenValueSet {
                name: name.clone(),
                known: known.to_string(),
                values,
            })
        })
        .collect()
}

/// One `open_value!` line per open value set, for `src/open_value_sets.rs`:
/// (type, known enum, its variant, the `Other` type, a value for the doc).
pub(crate) fn render_open_value_sets(spec: &Document) -> String {
    let mut out = String::from("// The open value sets of openapi.yaml, written by build.rs.\n");
    for OpenValueSet {
        name,
        known,
        values,
    } in open_value_sets(spec)
    {
        // typify names the variant after the enum it holds, and the
        // `Other` half `<X>Other`.
        let example = values.first().map(String::as_str).unwrap_or_default();
        let _ = writeln!(
            out,
            "open_value!({name}, {known}, {known}, {name}Other, {example:?});"
        );
    }
    out
}
