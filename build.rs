//! Generates the typed client from `openapi.yaml` into `OUT_DIR`.
//!
//! Two files come out of one read of the spec:
//! - `codegen.rs`: the progenitor client (builder style, merged tags), its
//!   types deriving `schemars::JsonSchema`, formatted with prettyplease. One
//!   pass over its syntax tree makes each generated `send` private and adds a
//!   public `send` beside it that runs the call through `crate::call`, so
//!   every operation returns `dployr::Error`;
//! - `spec_facts.rs`: what the hand-written layer needs to know per operation
//!   (is it public, its default timeout, the bounds of its inputs, whether it
//!   streams), one `static` per operation, so that no hand-kept list can
//!   drift from the spec;
//!
//! Operations are named once, by progenitor: the facts are keyed by the name
//! progenitor gives each operation, and a spec whose operations and facts do
//! not match one to one fails the build.
//! - `spec_inventory.rs` and `open_values.rs`: the schemas, open value sets
//!   and operations, for the tests and `src/open_values.rs` to iterate over
//!   (`src/build/inventory.rs`).
//!
//! Before generating anything, the spec is checked against the conventions
//! the crate relies on (`src/build/conventions.rs`). A spec that cannot be read
//! or breaks a convention fails the build with one line per problem, naming
//! the operation or schema and the rule, not a panic backtrace.

// The build script's own modules live in src/build/; they are compiled only
// here, never into the library.
#[path = "src/build/conventions.rs"]
mod conventions;
#[path = "src/build/document.rs"]
mod document;
#[path = "src/build/inventory.rs"]
mod inventory;
#[path = "src/build/secrets.rs"]
mod secrets;
#[path = "src/build/sends.rs"]
mod sends;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use heck::{ToShoutySnakeCase, ToSnakeCase};
use openapiv3::{
    IntegerType, OpenAPI, Parameter, ParameterSchemaOrContent, ReferenceOr, Schema, SchemaKind,
    Type,
};
use progenitor::{GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle, TypeImpl};

const SPEC: &str = "openapi.yaml";

/// The vendor extension that gives an operation its own default timeout.
const TIMEOUT_EXTENSION: &str = "x-dployr-timeout-secs";

/// The vendor extension that marks a query parameter as carrying the access
/// token (the log stream's `token`): the request path fills it in and
/// replaces it after a refresh, as it does the `Authorization` header.
const CREDENTIAL_EXTENSION: &str = "x-dployr-credential";

fn main() -> ExitCode {
    println!("cargo:rerun-if-changed={SPEC}");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/build");

    match generate() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {SPEC}: {message}");
            ExitCode::FAILURE
        }
    }
}

fn generate() -> Result<(), String> {
    let manifest_dir = PathBuf::from(env_var("CARGO_MANIFEST_DIR")?);
    let out_dir = PathBuf::from(env_var("OUT_DIR")?);

    let text = std::fs::read_to_string(manifest_dir.join(SPEC))
        .map_err(|e| format!("cannot read the spec: {e}"))?;
    let spec: OpenAPI = serde_norway::from_str(&text)
        .map_err(|e| format!("not a valid OpenAPI 3.0 document: {e}"))?;
    let document = document::Document::parse(&text)?;
    check_conventions(&document)?;

    let facts = spec_facts(&spec)?;
    write(
        &out_dir.join("codegen.rs"),
        &client_code(&spec, &facts, &document)?,
    )?;
    write(&out_dir.join("spec_facts.rs"), &render_facts(&facts))?;
    write(
        &out_dir.join("spec_inventory.rs"),
        &inventory::spec_inventory(&document),
    )?;
    write(
        &out_dir.join("open_values.rs"),
        &inventory::open_values(&document),
    )?;
    Ok(())
}

/// Fails with every broken convention, one per line.
fn check_conventions(document: &document::Document) -> Result<(), String> {
    let problems = conventions::check_conventions(document);
    if problems.is_empty() {
        return Ok(());
    }
    Err(format!(
        "breaks {} convention(s) the crate relies on (README.md, \"Changing the API\"):\n  {}",
        problems.len(),
        problems.join("\n  ")
    ))
}

fn env_var(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("cargo did not set {name}"))
}

fn write(path: &Path, contents: &str) -> Result<(), String> {
    std::fs::write(path, contents).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn client_code(
    spec: &OpenAPI,
    facts: &Facts,
    document: &document::Document,
) -> Result<String, String> {
    let mut settings = GenerationSettings::new();
    settings
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged)
        // The hand-written layer implements the hooks (auth, retries,
        // timeouts); `Expected` makes forgetting that a compile error.
        .with_hooks(HooksMode::Expected)
        .with_inner_type(tokens("crate::settings::Context")?)
        .with_derive("schemars::JsonSchema");
    // typify turns an integer with `minimum: 1` into `NonZeroU64`, which makes
    // `.limit(50)` fail to compile (an untyped literal is an i32). Bounded
    // integers stay plain `i64`; the hand-written layer checks their bounds
    // (from `spec_facts.rs`) before anything is sent.
    for (minimum, maximum) in bounded_integers(spec) {
        settings.with_conversion(
            integer_schema(minimum, maximum),
            "i64",
            [TypeImpl::Display, TypeImpl::FromStr, TypeImpl::Default].into_iter(),
        );
    }
    // Values the spec marks secret get types whose `Debug` is redacted.
    let secret_conversions = secrets::secret_conversions(document);
    for (schema, target) in &secret_conversions {
        settings.with_conversion(schema.clone(), *target, std::iter::empty());
    }

    let mut generator = Generator::new(&settings);
    // progenitor panics on some shapes it cannot express (for example two
    // distinct response body types on one operation); turn that into an error
    // that names the spec rather than a backtrace.
    let previous_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let generated = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        generator.generate_tokens(spec)
    }));
    std::panic::set_hook(previous_hook);
    let tokens = match generated {
        Ok(Ok(tokens)) => tokens,
        Ok(Err(e)) => return Err(format!("progenitor cannot generate a client: {e}")),
        Err(panic) => {
            let reason = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("unknown reason");
            return Err(format!("progenitor failed on this spec: {reason}"));
        }
    };
    let mut file = syn::parse2::<syn::File>(tokens)
        .map_err(|e| format!("progenitor produced code that does not parse: {e}"))?;
    sends::wrap(&mut file, facts)?;
    let code = prettyplease::unparse(&file);
    // A conversion that matched nothing would leave a secret as a plain,
    // printable `String`; that must fail here rather than go unnoticed.
    for (_, target) in &secret_conversions {
        if !code.contains(target) {
            return Err(format!(
                "a value marked x-dployr-secret did not become {target}: the secret mapping in src/build/secrets.rs no longer matches what progenitor produces"
            ));
        }
    }
    Ok(code)
}

fn tokens(code: &str) -> Result<proc_macro2::TokenStream, String> {
    code.parse()
        .map_err(|e| format!("bad generator setting `{code}`: {e}"))
}

/// The (minimum, maximum) of every integer in the spec whose minimum is 1:
/// the query parameters and the properties of component schemas.
fn bounded_integers(spec: &OpenAPI) -> Vec<(i64, Option<i64>)> {
    let mut found = Vec::new();
    let mut consider = |int: &IntegerType| {
        if int.minimum == Some(1) && !found.contains(&(1, int.maximum)) {
            found.push((1, int.maximum));
        }
    };
    if let Some(components) = &spec.components {
        for parameter in components.parameters.values() {
            if let ReferenceOr::Item(p) = parameter {
                if let Some(int) = parameter_integer(p) {
                    consider(int);
                }
            }
        }
        for schema in components.schemas.values() {
            if let ReferenceOr::Item(schema) = schema {
                for (_, int) in integer_properties(schema) {
                    consider(int);
                }
            }
        }
    }
    for (_, _, op) in spec.operations() {
        for parameter in &op.parameters {
            if let ReferenceOr::Item(p) = parameter {
                if let Some(int) = parameter_integer(p) {
                    consider(int);
                }
            }
        }
    }
    found
}

/// The schemars form progenitor hands typify for `type: integer, format:
/// int64` with these bounds (metadata such as `default` is not compared).
fn integer_schema(minimum: i64, maximum: Option<i64>) -> schemars::schema::SchemaObject {
    schemars::schema::SchemaObject {
        instance_type: Some(schemars::schema::InstanceType::Integer.into()),
        format: Some("int64".to_string()),
        number: Some(Box::new(schemars::schema::NumberValidation {
            minimum: Some(minimum as f64),
            maximum: maximum.map(|m| m as f64),
            ..Default::default()
        })),
        ..Default::default()
    }
}

fn parameter_integer(parameter: &Parameter) -> Option<&IntegerType> {
    let data = parameter.parameter_data_ref();
    match &data.format {
        ParameterSchemaOrContent::Schema(ReferenceOr::Item(schema)) => match &schema.schema_kind {
            SchemaKind::Type(Type::Integer(int)) => Some(int),
            _ => None,
        },
        _ => None,
    }
}

/// The integer properties of an object schema, with their names.
fn integer_properties(schema: &Schema) -> Vec<(&str, &IntegerType)> {
    let SchemaKind::Type(Type::Object(object)) = &schema.schema_kind else {
        return Vec::new();
    };
    object
        .properties
        .iter()
        .filter_map(|(name, property)| match property {
            ReferenceOr::Item(property) => match &property.schema_kind {
                SchemaKind::Type(Type::Integer(int)) => Some((name.as_str(), int)),
                _ => None,
            },
            ReferenceOr::Reference { .. } => None,
        })
        .collect()
}

/// An integer that must stay within bounds: (name, minimum, maximum).
type Bound = (String, Option<i64>, Option<i64>);

/// Every operation's facts, by the name progenitor gives it.
type Facts = BTreeMap<String, OperationFacts>;

/// One operation, as the hand-written layer sees it.
struct OperationFacts {
    /// The spec's operationId, e.g. `listServices`.
    id: String,
    /// The path template, e.g. `/services/{serviceId}`.
    path: String,
    public: bool,
    timeout_secs: Option<u64>,
    /// The success answer is `text/event-stream`: no body limit, no total
    /// timeout, only a deadline for the headers.
    streaming: bool,
    /// The query parameter that carries the access token, if any.
    credential_query: Option<String>,
    query_bounds: Vec<Bound>,
    /// Bounded integer properties of the JSON request body.
    body_bounds: Vec<Bound>,
}

fn spec_facts(spec: &OpenAPI) -> Result<Facts, String> {
    let global_security_is_empty = spec.security.as_ref().is_none_or(|reqs| reqs.is_empty());
    let mut facts = Facts::new();

    for (path, method, op) in spec.operations() {
        let id = op
            .operation_id
            .clone()
            .ok_or_else(|| format!("{} {path} has no operationId", method.to_uppercase()))?;
        // `security: []`, or a requirement list containing the empty
        // requirement `{}`, means the operation can be called without a token.
        let public = match &op.security {
            Some(reqs) => reqs.is_empty() || reqs.iter().any(|r| r.is_empty()),
            None => global_security_is_empty,
        };
        let timeout_secs = match op.extensions.get(TIMEOUT_EXTENSION) {
            None => None,
            Some(value) => Some(value.as_u64().ok_or_else(|| {
                format!("{id}: {TIMEOUT_EXTENSION} must be a whole number of seconds")
            })?),
        };

        let path_parameters = match spec.paths.paths.get(path) {
            Some(ReferenceOr::Item(item)) => item.parameters.as_slice(),
            _ => &[],
        };
        let mut query_bounds = Vec::new();
        let mut credential_query = None;
        for parameter in path_parameters.iter().chain(&op.parameters) {
            let parameter = resolve_parameter(spec, parameter)?;
            if let Parameter::Query { parameter_data, .. } = parameter {
                if let Some(int) = parameter_integer(parameter) {
                    if int.minimum.is_some() || int.maximum.is_some() {
                        query_bounds.push((parameter_data.name.clone(), int.minimum, int.maximum));
                    }
                }
                match parameter_data.extensions.get(CREDENTIAL_EXTENSION) {
                    None => {}
                    Some(serde_json::Value::Bool(true)) if credential_query.is_none() => {
                        credential_query = Some(parameter_data.name.clone());
                    }
                    Some(serde_json::Value::Bool(true)) => {
                        return Err(format!(
                            "{id}: only one query parameter may carry {CREDENTIAL_EXTENSION}"
                        ))
                    }
                    Some(_) => {
                        return Err(format!(
                            "{id}: {CREDENTIAL_EXTENSION} on `{}` must be `true`",
                            parameter_data.name
                        ))
                    }
                }
            }
        }

        let mut body_bounds = Vec::new();
        if let Some(schema) = request_body_schema(spec, op)? {
            for (name, int) in integer_properties(schema) {
                if int.minimum.is_some() || int.maximum.is_some() {
                    body_bounds.push((name.to_string(), int.minimum, int.maximum));
                }
            }
        }

        let streaming = op
            .responses
            .responses
            .values()
            .any(|response| match response {
                ReferenceOr::Item(response) => response.content.contains_key("text/event-stream"),
                ReferenceOr::Reference { .. } => false,
            });

        // progenitor names a method after the operationId in snake case;
        // `sends::wrap` checks this name against the one it generated.
        let previous = facts.insert(
            id.to_snake_case(),
            OperationFacts {
                id: id.clone(),
                path: path.to_string(),
                public,
                timeout_secs,
                streaming,
                credential_query,
                query_bounds,
                body_bounds,
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

fn render_facts(facts: &Facts) -> String {
    let mut out =
        String::from("// Facts about each operation, generated from openapi.yaml by build.rs.\n\n");
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
        let _ = writeln!(
            out,
            "/// `{id}`: `{path}`.\n\
             pub(crate) static {konst}: Operation = Operation {{\n    \
                 id: {id:?},\n    \
                 path: {path:?},\n    \
                 public: {public},\n    \
                 timeout: {timeout},\n    \
                 streaming: {streaming},\n    \
                 credential_query: {credential:?},\n    \
                 query_bounds: {query},\n    \
                 body_bounds: {body},\n\
             }};\n",
            id = f.id,
            path = f.path,
            konst = name.to_shouty_snake_case(),
            public = f.public,
            streaming = f.streaming,
            credential = f.credential_query,
            query = bounds(&f.query_bounds),
            body = bounds(&f.body_bounds),
        );
    }
    out.push_str("/// Every operation of the spec.\n#[cfg(test)]\n");
    out.push_str("pub(crate) static OPERATIONS: &[&Operation] = &[\n");
    for name in facts.keys() {
        let _ = writeln!(out, "    &{},", name.to_shouty_snake_case());
    }
    out.push_str("];\n");
    out
}

/// The schema of an operation's JSON request body, if it has one.
fn request_body_schema<'a>(
    spec: &'a OpenAPI,
    op: &'a openapiv3::Operation,
) -> Result<Option<&'a Schema>, String> {
    let Some(ReferenceOr::Item(body)) = &op.request_body else {
        return Ok(None);
    };
    let Some(media) = body.content.get("application/json") else {
        return Ok(None);
    };
    match &media.schema {
        None => Ok(None),
        Some(ReferenceOr::Item(schema)) => Ok(Some(schema)),
        Some(ReferenceOr::Reference { reference }) => {
            let name = reference
                .strip_prefix("#/components/schemas/")
                .ok_or_else(|| format!("unsupported schema reference {reference}"))?;
            match spec.components.as_ref().and_then(|c| c.schemas.get(name)) {
                Some(ReferenceOr::Item(schema)) => Ok(Some(schema)),
                _ => Err(format!("schema reference {reference} does not resolve")),
            }
        }
    }
}

fn resolve_parameter<'a>(
    spec: &'a OpenAPI,
    parameter: &'a ReferenceOr<Parameter>,
) -> Result<&'a Parameter, String> {
    match parameter {
        ReferenceOr::Item(p) => Ok(p),
        ReferenceOr::Reference { reference } => {
            let name = reference
                .strip_prefix("#/components/parameters/")
                .ok_or_else(|| format!("unsupported parameter reference {reference}"))?;
            match spec
                .components
                .as_ref()
                .and_then(|c| c.parameters.get(name))
            {
                Some(ReferenceOr::Item(p)) => Ok(p),
                _ => Err(format!("parameter reference {reference} does not resolve")),
            }
        }
    }
}
