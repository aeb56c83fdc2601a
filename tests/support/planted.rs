//! Secret values planted into the spec's examples: every value the spec
//! marks `x-dployr-secret` is replaced by a recognisable one, so a test can
//! look for it wherever it must not appear (and where it must).

use serde_json::Value;

use super::spec;

/// Every planted value starts with this, so that a leak of any of them is
/// found by looking for it alone.
pub const PLANTED_PREFIX: &str = "planted-secret-";

/// The component's example with every secret value in it replaced, and
/// `(where, value)` for each replacement (e.g. `DeployRequest.secrets.MY_SECRET`).
pub fn plant_secrets(component: &str) -> (Value, Vec<(String, String)>) {
    let mut example = spec::example(component).clone();
    let mut planted = Vec::new();
    plant(
        spec::schema(component),
        &mut example,
        component,
        &mut planted,
    );
    (example, planted)
}

fn plant(
    schema: &'static Value,
    value: &mut Value,
    place: &str,
    planted: &mut Vec<(String, String)>,
) {
    let schema = spec::resolve(schema);
    if spec::is_secret(schema) {
        if let Value::String(text) = value {
            *text = format!("{PLANTED_PREFIX}{}-Vk4Tn9", planted.len());
            planted.push((place.to_string(), text.clone()));
        }
        return;
    }
    let properties = schema["properties"].as_object();
    if let Value::Object(object) = value {
        for (name, inner) in object.iter_mut() {
            let place = format!("{place}.{name}");
            match properties.and_then(|p| p.get(name)) {
                Some(property) => plant(property, inner, &place, planted),
                None if schema["additionalProperties"].is_object() => {
                    plant(&schema["additionalProperties"], inner, &place, planted)
                }
                None => {}
            }
        }
    }
    if let (Value::Array(items), Some(item_schema)) = (&mut *value, schema.get("items")) {
        for (i, item) in items.iter_mut().enumerate() {
            plant(item_schema, item, &format!("{place}[{i}]"), planted);
        }
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        for variant in schema[key].as_array().into_iter().flatten() {
            plant(variant, value, place, planted);
        }
    }
}

/// Whether the schema holds a secret anywhere, following references
/// (`depth` stops at cycles, which this spec does not have).
pub fn holds_secret(schema: &'static Value, depth: usize) -> bool {
    if depth == 0 {
        return false;
    }
    let schema = spec::resolve(schema);
    if spec::is_secret(schema) {
        return true;
    }
    let nested = schema["properties"]
        .as_object()
        .into_iter()
        .flat_map(|p| p.values())
        .chain(["additionalProperties", "items"].map(|k| &schema[k]))
        .chain(
            ["allOf", "oneOf", "anyOf"]
                .iter()
                .filter_map(|k| schema[*k].as_array())
                .flatten(),
        );
    nested
        .filter(|s| s.is_object())
        .any(|s| holds_secret(s, depth - 1))
}
