//! Generates the typed client from `openapi.yaml` into `OUT_DIR`.
//!
//! The spec is read once, checked against the conventions the crate relies
//! on (`codegen/conventions.rs`), and then written out as:
//! - `codegen.rs`: the progenitor client (builder style, merged tags), its
//!   types deriving `schemars::JsonSchema`, formatted with prettyplease. One
//!   pass over its syntax tree (`codegen/sends.rs`) keeps what each builder
//!   does to build its request and hands the request to `crate::pipeline`,
//!   so every operation returns `dployr::Error`, and says on each method the
//!   role its operation needs; another (`codegen/constructors.rs`) keeps the
//!   client's internal state out of its public constructors;
//! - `spec_facts.rs`: one `static` per operation with what the hand-written
//!   layer needs to know of it (method, path, whether it is public, the
//!   least role it needs, its timeout, its parameters and their bounds, its
//!   body and answer types),
//!   keyed by the name progenitor gives it, so no hand-kept list can drift
//!   from the spec (`codegen/facts.rs`); and `spec_secrets.rs`, what the spec
//!   marks secret;
//! - `spec_inventory.rs` and `open_value_sets.rs`: the schemas, open value sets
//!   and operations, for the tests and `src/open_value_sets.rs` to iterate over
//!   (`codegen/inventory.rs`);
//! - with feature `mock`, `mock.rs`: typed httpmock mocks of every operation
//!   (`codegen/mocks.rs`).
//!
//! A spec that cannot be read or breaks a convention fails the build with
//! one line per problem, naming the operation or schema and the rule, not a
//! panic backtrace.

// The build script's own modules live in codegen/; they are compiled only
// here, never into the library.
#[path = "codegen/constructors.rs"]
mod constructors;
#[path = "codegen/conventions.rs"]
mod conventions;
#[path = "codegen/document.rs"]
mod document;
#[path = "codegen/facts.rs"]
mod facts;
#[path = "codegen/inventory.rs"]
mod inventory;
#[path = "codegen/mocks.rs"]
mod mocks;
// The one definition of the roles and their order, shared with the library.
#[allow(dead_code)]
#[path = "src/role.rs"]
mod role;
#[path = "codegen/role_docs.rs"]
mod role_docs;
#[path = "codegen/secrets.rs"]
mod secrets;
#[path = "codegen/sends.rs"]
mod sends;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use openapiv3::OpenAPI;
use progenitor::{GenerationSettings, Generator, InterfaceStyle, TagStyle, TypeImpl};

const SPEC: &str = "openapi.yaml";

fn main() -> ExitCode {
    // The spec is the one file this script reads. Its own sources (build.rs
    // and the codegen/ modules it includes) are tracked by cargo already, and
    // a watched path that does not exist would rerun it on every build.
    println!("cargo:rerun-if-changed={SPEC}");

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
    // Read once: the conventions, the facts and the inventory walk this
    // document; progenitor gets the same document as its own types.
    let document = document::Document::parse(&text)?;
    let spec: OpenAPI = serde_json::from_value(document.root.clone())
        .map_err(|e| format!("not a valid OpenAPI 3.0 document: {e}"))?;
    check_conventions(&document)?;

    let facts = facts::spec_facts(&document)?;
    write(
        &out_dir.join("codegen.rs"),
        &client_code(&spec, &facts, &document)?,
    )?;
    write(
        &out_dir.join("spec_facts.rs"),
        &facts::render_facts(&document, &facts)?,
    )?;
    write(
        &out_dir.join("spec_secrets.rs"),
        &facts::render_secrets(&facts),
    )?;
    write(
        &out_dir.join("spec_inventory.rs"),
        &inventory::spec_inventory(&document),
    )?;
    write(
        &out_dir.join("open_value_sets.rs"),
        &inventory::render_open_value_sets(&document),
    )?;
    // `dployr::mock`, only for builds that ask for it (feature `mock`).
    if std::env::var_os("CARGO_FEATURE_MOCK").is_some() {
        let settings = generation_settings(&document)?;
        let mocks = mocks::mock_code(&spec, &document, &settings)?;
        write(&out_dir.join("mock.rs"), &mocks)?;
    }
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

/// The settings every generator run shares (the client, and anything else
/// generated from the same spec), so that all of them name the same types.
fn generation_settings(document: &document::Document) -> Result<GenerationSettings, String> {
    let mut settings = GenerationSettings::new();
    settings
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged)
        // The shared state every clone of a client carries: tokens, retry
        // policy and budget, timeouts. No hooks: `codegen/sends.rs` hands
        // each built request to the pipeline instead.
        .with_inner_type(tokens("crate::settings::ClientState")?);
    // Cargo sets this for a build with feature `schema`; a build script's own
    // run is the one place that can tell.
    if std::env::var_os("CARGO_FEATURE_SCHEMA").is_some() {
        settings.with_derive("schemars::JsonSchema");
    }
    // typify turns an integer with `minimum: 1` into `NonZeroU64`, which makes
    // `.limit(50)` fail to compile (an untyped literal is an i32). Bounded
    // integers stay plain `i64`; the hand-written layer checks their bounds
    // (from `spec_facts.rs`) before anything is sent.
    for (minimum, maximum) in facts::bounded_integers(document) {
        settings.with_conversion(
            integer_schema(minimum, maximum),
            "i64",
            [TypeImpl::Display, TypeImpl::FromStr, TypeImpl::Default].into_iter(),
        );
    }
    // Values the spec marks secret get types whose `Debug` is redacted.
    for (schema, target) in secrets::secret_conversions(document) {
        settings.with_conversion(schema, target, std::iter::empty());
    }
    Ok(settings)
}

fn client_code(
    spec: &OpenAPI,
    facts: &facts::Facts,
    document: &document::Document,
) -> Result<String, String> {
    let settings = generation_settings(document)?;
    let secret_conversions = secrets::secret_conversions(document);
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
    role_docs::document_roles(&mut file, facts)?;
    constructors::hide(&mut file)?;
    let code = prettyplease::unparse(&file);
    // A conversion that matched nothing would leave a secret as a plain,
    // printable `String`; that must fail here rather than go unnoticed.
    for (_, target) in &secret_conversions {
        if !code.contains(target) {
            return Err(format!(
                "a value marked x-dployr-secret did not become {target}: the secret mapping in codegen/secrets.rs no longer matches what progenitor produces"
            ));
        }
    }
    Ok(code)
}

fn tokens(code: &str) -> Result<proc_macro2::TokenStream, String> {
    code.parse()
        .map_err(|e| format!("bad generator setting `{code}`: {e}"))
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
