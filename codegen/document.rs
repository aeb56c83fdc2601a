//! `openapi.yaml` as plain JSON, with the few ways of walking it that the
//! convention checks and the inventory share.

use serde_json::Value;

/// The methods an OpenAPI path item may hold, in the order they are read.
const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "patch", "head", "options", "trace",
];

/// The spec as written.
pub(crate) struct Document {
    pub(crate) root: Value,
}

/// One operation: where it is and what the spec says of it.
pub(crate) struct Operation<'a> {
    /// The operationId, or empty when it has none.
    pub(crate) id: String,
    /// Lower case, e.g. `get`.
    pub(crate) method: &'static str,
    pub(crate) path: &'a str,
    pub(crate) value: &'a Value,
    /// Parameters declared on the path item, shared by its operations.
    shared_parameters: &'a Value,
}

impl Document {
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let root: Value = serde_norway::from_str(text).map_err(|e| {
            format!("cannot read it as a JSON-compatible document (quote status codes such as '200'): {e}")
        })?;
        Ok(Document { root })
    }

    /// Every operation, path by path.
    pub(crate) fn operations(&self) -> Vec<Operation<'_>> {
        let mut found = Vec::new();
        let Some(paths) = self.root["paths"].as_object() else {
            return found;
        };
        for (path, item) in paths {
            for method in METHODS {
                if let Some(op) = item.get(*method) {
                    found.push(Operation {
                        id: op["operationId"].as_str().unwrap_or_default().to_string(),
                        method,
                        path,
                        value: op,
                        shared_parameters: &item["parameters"],
                    });
                }
            }
        }
        found
    }

    /// `components/schemas`, by name.
    pub(crate) fn schemas(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.root["components"]["schemas"]
            .as_object()
            .into_iter()
            .flatten()
    }

    pub(crate) fn schema(&self, name: &str) -> Option<&Value> {
        self.root["components"]["schemas"].get(name)
    }

    /// `value`, or what its local `$ref` (`#/components/...`) points at;
    /// `None` when the reference does not resolve.
    pub(crate) fn resolve<'a>(&'a self, value: &'a Value) -> Option<&'a Value> {
        match value.get("$ref").and_then(Value::as_str) {
            None => Some(value),
            Some(reference) => self.root.pointer(reference.strip_prefix('#')?),
        }
    }
}

impl<'a> Operation<'a> {
    /// Whether it is called without a token: `security: []`, or a
    /// requirement list holding the empty requirement `{}`, on the
    /// operation or, when it has none, on the whole spec.
    pub(crate) fn is_public(&self, spec: &Document) -> bool {
        let security = self.value.get("security").unwrap_or(&spec.root["security"]);
        match security.as_array() {
            None => true,
            Some(reqs) => {
                reqs.is_empty()
                    || reqs
                        .iter()
                        .any(|r| r.as_object().is_some_and(|o| o.is_empty()))
            }
        }
    }

    /// The path item's parameters, then the operation's, each resolved;
    /// `None` for a reference that does not resolve.
    pub(crate) fn parameters(&self, spec: &'a Document) -> Vec<Option<&'a Value>> {
        [self.shared_parameters, &self.value["parameters"]]
            .into_iter()
            .filter_map(Value::as_array)
            .flatten()
            .map(|p| spec.resolve(p))
            .collect()
    }
}

/// Calls `visit(place, schema, is_component)` for every schema written in
/// the spec: each component and everything nested in it, and the schemas
/// written in place in parameters, bodies and responses. `$ref`s are not
/// followed (what they point at is visited where it is written).
pub(crate) fn each_schema(spec: &Document, visit: &mut dyn FnMut(&str, &Value, bool)) {
    for (name, schema) in spec.schemas() {
        visit(name, schema, true);
        nested(name, schema, visit);
    }
    let components = &spec.root["components"];
    for (name, parameter) in components["parameters"].as_object().into_iter().flatten() {
        walk(&format!("parameter {name}"), &parameter["schema"], visit);
    }
    for (name, response) in components["responses"].as_object().into_iter().flatten() {
        walk_content(&format!("response {name}"), response, visit);
    }
    for op in spec.operations() {
        let id = if op.id.is_empty() { op.path } else { &op.id };
        let parameters = [op.shared_parameters, &op.value["parameters"]];
        for parameter in parameters.into_iter().filter_map(Value::as_array).flatten() {
            let name = parameter["name"].as_str().unwrap_or("?");
            walk(
                &format!("{id} parameter {name}"),
                &parameter["schema"],
                visit,
            );
        }
        walk_content(
            &format!("{id} request body"),
            &op.value["requestBody"],
            visit,
        );
        for (status, response) in op.value["responses"].as_object().into_iter().flatten() {
            walk_content(&format!("{id} {status} response"), response, visit);
        }
    }
}

fn walk_content(place: &str, holder: &Value, visit: &mut dyn FnMut(&str, &Value, bool)) {
    for (media_type, media) in holder["content"].as_object().into_iter().flatten() {
        walk(&format!("{place} {media_type}"), &media["schema"], visit);
    }
}

fn walk(place: &str, schema: &Value, visit: &mut dyn FnMut(&str, &Value, bool)) {
    if !schema.is_object() || schema.get("$ref").is_some() {
        return;
    }
    visit(place, schema, false);
    nested(place, schema, visit);
}

fn nested(place: &str, schema: &Value, visit: &mut dyn FnMut(&str, &Value, bool)) {
    for (name, property) in schema["properties"].as_object().into_iter().flatten() {
        walk(&format!("{place}.{name}"), property, visit);
    }
    for key in ["additionalProperties", "items", "not"] {
        walk(&format!("{place}.{key}"), &schema[key], visit);
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        for (i, variant) in schema[key].as_array().into_iter().flatten().enumerate() {
            walk(&format!("{place}.{key}[{i}]"), variant, visit);
        }
    }
}
