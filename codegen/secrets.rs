//! Maps each string the spec marks `x-dployr-secret: true` to the
//! hand-written secret types (`src/secret.rs`), whose `Debug` is redacted,
//! through typify's schema conversions: the spec alone says what is secret.

use std::collections::BTreeSet;

use schemars::schema::{InstanceType, SchemaObject, StringValidation};
use serde_json::Value;

use crate::conventions::SECRET_EXTENSION;
use crate::document::{self, Document};

/// The type of a secret that may be empty.
pub(crate) const SECRET: &str = "crate::secret::Secret";
/// The type of a secret with `minLength: 1`.
pub(crate) const NON_EMPTY_SECRET: &str = "crate::secret::NonEmptySecret";

/// Every distinct secret schema in the spec, as progenitor hands it to
/// typify (which compares it without its description and example), with
/// the type it becomes. The conventions allow no constraint but
/// `minLength` of 0 or 1, so these are the only shapes there are.
pub(crate) fn secret_conversions(spec: &Document) -> Vec<(SchemaObject, &'static str)> {
    let mut min_lengths = BTreeSet::new();
    document::each_schema(spec, &mut |_, schema, _| {
        if schema.get(SECRET_EXTENSION) == Some(&Value::Bool(true)) {
            min_lengths.insert(schema["minLength"].as_u64());
        }
    });
    min_lengths
        .into_iter()
        .map(|min_length| {
            let target = match min_length {
                Some(1) => NON_EMPTY_SECRET,
                _ => SECRET,
            };
            (secret_schema(min_length), target)
        })
        .collect()
}

fn secret_schema(min_length: Option<u64>) -> SchemaObject {
    let mut schema = SchemaObject {
        instance_type: Some(InstanceType::String.into()),
        string: min_length.map(|n| {
            Box::new(StringValidation {
                min_length: Some(n as u32),
                ..Default::default()
            })
        }),
        ..Default::default()
    };
    schema
        .extensions
        .insert(SECRET_EXTENSION.to_string(), Value::Bool(true));
    schema
}
