//! Generates the typed client from `openapi.yaml` into `OUT_DIR`.
//!
//! Two files come out of one read of the spec:
//! - `codegen.rs`: the progenitor client (builder style, merged tags), its
//!   types deriving `schemars::JsonSchema`, formatted with prettyplease;
//! - `spec_facts.rs`: what the hand-written layer needs to know per operation
//!   (is it public, its default timeout, the bounds of its query parameters),
//!   so that no hand-kept list can drift from the spec;
//! - `spec_inventory.rs` and `open_values.rs`: the schemas, open value sets
//!   and operations, for the tests and `src/open_values.rs` to iterate over
//!   (`build/inventory.rs`).
//!
//! Before generating anything, the spec is checked against the conventions
//! the crate relies on (`build/conventions.rs`). A spec that cannot be read
//! or breaks a convention fails the build with one line per problem, naming
//! the operation or schema and the rule, not a panic backtrace.

#[path = "build/conventions.rs"]
mod conventions;
#[path = "build/document.rs"]
mod document;
#[path = "build/inventory.rs"]
mod inventory;
#[path = "build/secrets.rs"]
mod secrets;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use heck::ToSnakeCase;
use openapiv3::{
    IntegerType, OpenAPI, Parameter, ParameterSchemaOrContent, ReferenceOr, Schema, SchemaKind,
    Type,
};
use progenitor::{GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle, TypeImpl};

const SPEC: &str = "openapi.yaml";

/// The vendor extension that gives an operation its own default timeout.
const TIMEOUT_EXTENSION: &str = "x-dployr-timeout-secs";

fn main() -> ExitCode {
    println!("cargo:rerun-if-changed={SPEC}");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=build");

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

    let code = client_code(&spec, &document)?;
    write(&out_dir.join("codegen.rs"), &code)?;
    write(&out_dir.join("spec_facts.rs"), &spec_facts(&spec)?)?;
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

fn client_code(spec: &OpenAPI, document: &document::Document) -> Result<String, String> {
    let mut settings = GenerationSettings::new();
    settings
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged)
        // The hand-written layer implements the hooks (auth, retries,
        // timeouts); `Expected` makes forgetting that a compile error.
        .with_hooks(HooksMode::Expected)
        .with_inner_type(tokens("crate::client::Context")?)
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
    let file = syn::parse2::<syn::File>(tokens)
        .map_err(|e| format!("progenitor produced code that does not parse: {e}"))?;
    let code = prettyplease::unparse(&file);
    // A conversion that matched nothing would leave a secret as a plain,
    // printable `String`; that must fail here rather than go unnoticed.
    for (_, target) in &secret_conversions {
        if !code.contains(target) {
            return Err(format!(
                "a value marked x-dployr-secret did not become {target}: the secret mapping in build/secrets.rs no longer matches what progenitor produces"
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

/// One operation, as the hand-written layer sees it.
struct OperationFacts {
    /// The name progenitor gives the operation in `OperationInfo`.
    name: String,
    /// The path template, e.g. `/services/{serviceId}`.
    path: String,
    public: bool,
    timeout_secs: Option<u64>,
    query_bounds: Vec<Bound>,
    /// Bounded integer properties of the JSON request body.
    body_bounds: Vec<Bound>,
}

fn spec_facts(spec: &OpenAPI) -> Result<String, String> {
    let global_security_is_empty = spec.security.as_ref().is_none_or(|reqs| reqs.is_empty());
    let mut facts: BTreeMap<String, OperationFacts> = BTreeMap::new();

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
        for parameter in path_parameters.iter().chain(&op.parameters) {
            let parameter = resolve_parameter(spec, parameter)?;
            if let Parameter::Query { parameter_data, .. } = parameter {
                if let Some(int) = parameter_integer(parameter) {
                    if int.minimum.is_some() || int.maximum.is_some() {
                        query_bounds.push((parameter_data.name.clone(), int.minimum, int.maximum));
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

        let previous = facts.insert(
            id.clone(),
            OperationFacts {
                name: id.to_snake_case(),
                path: path.to_string(),
                public,
                timeout_secs,
                query_bounds,
                body_bounds,
            },
        );
        if previous.is_some() {
            return Err(format!("operationId {id} is used twice"));
        }
    }
    Ok(render_facts(&facts))
}

fn render_facts(facts: &BTreeMap<String, OperationFacts>) -> String {
    let mut out = String::from(
        "// Facts about each operation, generated from openapi.yaml by build.rs.\n\
         // Operations are named as progenitor names them in `OperationInfo`.\n\n",
    );
    out.push_str(
        "/// Every operation: (operationId in the spec, name in `OperationInfo`, path template).\n",
    );
    out.push_str("pub(crate) const OPERATIONS: &[(&str, &str, &str)] = &[\n");
    for (id, f) in facts {
        let _ = writeln!(out, "    ({id:?}, {:?}, {:?}),", f.name, f.path);
    }
    out.push_str("];\n\n");

    out.push_str("/// The operations that are called without an access token.\n");
    out.push_str("pub(crate) const PUBLIC_OPERATIONS: &[&str] = &[\n");
    for f in facts.values().filter(|f| f.public) {
        let _ = writeln!(out, "    {:?},", f.name);
    }
    out.push_str("];\n\n");

    out.push_str("/// Operations whose default timeout differs from the client-wide one.\n");
    out.push_str("pub(crate) const OPERATION_TIMEOUTS: &[(&str, u64)] = &[\n");
    for f in facts.values() {
        if let Some(secs) = f.timeout_secs {
            let _ = writeln!(out, "    ({:?}, {secs}),", f.name);
        }
    }
    out.push_str("];\n\n");

    for (constant, what, pick) in [
        (
            "QUERY_BOUNDS",
            "query parameter",
            (|f: &OperationFacts| &f.query_bounds) as fn(&OperationFacts) -> &Vec<Bound>,
        ),
        ("BODY_BOUNDS", "JSON body property", |f| &f.body_bounds),
    ] {
        let _ = writeln!(
            out,
            "/// (operation, {what}, minimum, maximum) of bounded integers.\n\
             pub(crate) const {constant}: &[(&str, &str, Option<i64>, Option<i64>)] = &["
        );
        for f in facts.values() {
            for (name, min, max) in pick(f) {
                let _ = writeln!(out, "    ({:?}, {name:?}, {min:?}, {max:?}),", f.name);
            }
        }
        out.push_str("];\n\n");
    }
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
