//! Reading request bodies and query parameters as the API does: a body that
//! is not a JSON object is a 400, each field that breaks the spec's rules is
//! named in one 422.
//!
//! Bodies are checked field by field on the JSON value first, so every
//! problem is reported with its field; only a body that passed is decoded
//! into the generated type.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::reply::Reply;
use crate::types::{DeployRequest, FieldError, RequestDomainRequest, ServiceUpdate};

type Object = Map<String, Value>;

const SOURCES: &[&str] = &["remote", "image"];
const RUNTIMES: &[&str] = &[
    "static", "golang", "php", "python", "nodejs", "ruby", "dotnet", "java", "docker", "k3s",
    "custom",
];

/// The spec's default and largest page size.
const DEFAULT_LIMIT: i64 = 20;
const MAX_LIMIT: i64 = 100;

/// The body as a JSON object, or the 400 a malformed body gets.
pub(crate) fn object(body: &[u8]) -> Result<Object, Reply> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(Reply::bad_json("the body is empty"));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(Reply::bad_json("expected a JSON object")),
        Err(e) => Err(Reply::bad_json(e)),
    }
}

/// `(offset, limit)` from the query, or the 422 naming the bad ones.
pub(crate) fn page(query: &[(String, String)]) -> Result<(usize, usize), Reply> {
    let mut problems = Vec::new();
    let mut number = |name: &str, default: i64, min: i64, max: i64, rule: &str| {
        let Some((_, raw)) = query.iter().find(|(k, _)| k == name) else {
            return default;
        };
        match raw.trim().parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => n,
            Ok(_) => {
                problems.push(problem(name, rule));
                default
            }
            Err(_) => {
                problems.push(problem(name, "must be an integer"));
                default
            }
        }
    };
    let limit = number(
        "limit",
        DEFAULT_LIMIT,
        1,
        MAX_LIMIT,
        "must be between 1 and 100",
    );
    let offset = number("offset", 0, 0, i64::MAX, "must be 0 or more");
    if !problems.is_empty() {
        return Err(Reply::validation(problems));
    }
    let offset = usize::try_from(offset).unwrap_or(usize::MAX);
    let limit = usize::try_from(limit).unwrap_or(MAX_LIMIT as usize);
    Ok((offset, limit))
}

/// A `createDeployment` body.
pub(crate) fn deploy_request(body: &Object) -> Result<DeployRequest, Reply> {
    let mut p = Vec::new();
    required_string(body, "", "name", &mut p);
    required_string(body, "", "user_id", &mut p);
    let source = required_choice(body, "", "source", SOURCES, &mut p);
    if let Some(runtime) = required_object(body, "", "runtime", &mut p) {
        required_choice(runtime, "runtime.", "type", RUNTIMES, &mut p);
        optional_string(runtime, "runtime.", "version", &mut p);
    }
    for name in [
        "description",
        "version",
        "run_cmd",
        "build_cmd",
        "working_dir",
        "static_dir",
        "domain",
        "dns_provider",
    ] {
        optional_string(body, "", name, &mut p);
    }
    optional_port(body, &mut p);
    optional_string_map(body, "env_vars", &mut p);
    optional_string_map(body, "secrets", &mut p);
    let remote = optional_object(body, "", "remote", &mut p);
    if let Some(remote) = remote {
        required_string(remote, "remote.", "url", &mut p);
        optional_string(remote, "remote.", "branch", &mut p);
        optional_string(remote, "remote.", "commit_hash", &mut p);
    }
    let image = optional_string(body, "", "image", &mut p);
    match source {
        Some("remote") if remote.is_none() => {
            p.push(problem("remote", "is required when source is remote"));
        }
        Some("image") if image.is_none_or(str::is_empty) => {
            p.push(problem("image", "is required when source is image"));
        }
        _ => {}
    }
    decode(body, p)
}

/// A `ServiceUpdate` body (for both `PUT` and `PATCH`).
pub(crate) fn service_update(body: &Object) -> Result<ServiceUpdate, Reply> {
    let mut p = Vec::new();
    if let Some(name) = optional_string(body, "", "name", &mut p) {
        if name.is_empty() {
            p.push(problem("name", "must not be empty"));
        }
    }
    for name in [
        "description",
        "runtime_version",
        "run_cmd",
        "build_cmd",
        "working_dir",
        "static_dir",
        "image",
        "branch",
    ] {
        optional_string(body, "", name, &mut p);
    }
    optional_port(body, &mut p);
    optional_string_map(body, "env_vars", &mut p);
    decode(body, p)
}

/// A `ProxyRoute` body: `(domain, upstream)`.
pub(crate) fn proxy_route(body: &Object) -> Result<(String, String), Reply> {
    let mut p = Vec::new();
    let domain = required_string(body, "", "domain", &mut p);
    let upstream = required_string(body, "", "upstream", &mut p);
    match (domain, upstream) {
        (Some(domain), Some(upstream)) if p.is_empty() => {
            Ok((domain.to_string(), upstream.to_string()))
        }
        _ => Err(Reply::validation(p)),
    }
}

/// An `InstallRequest` body: the version asked for, if any.
pub(crate) fn install_request(body: &Object) -> Result<Option<String>, Reply> {
    let mut p = Vec::new();
    let version = optional_string(body, "", "version", &mut p).map(str::to_string);
    if p.is_empty() {
        Ok(version.filter(|v| !v.is_empty()))
    } else {
        Err(Reply::validation(p))
    }
}

/// A `RegisterInstanceRequest` body: the instance id it registers.
pub(crate) fn register_request(body: &Object) -> Result<String, Reply> {
    let mut p = Vec::new();
    required_string(body, "", "claim", &mut p);
    let instance_id = required_string(body, "", "instance_id", &mut p).map(str::to_string);
    optional_string(body, "", "issuer", &mut p);
    optional_string(body, "", "audience", &mut p);
    match instance_id {
        Some(id) if p.is_empty() => Ok(id),
        _ => Err(Reply::validation(p)),
    }
}

/// A `RequestDomainRequest` body: its installation token must be there.
pub(crate) fn domain_request(body: &Object) -> Result<RequestDomainRequest, Reply> {
    let mut p = Vec::new();
    required_string(body, "", "token", &mut p);
    decode(body, p)
}

fn problem(field: &str, message: &str) -> FieldError {
    FieldError {
        field: field.to_string(),
        message: message.to_string(),
    }
}

/// The value of `name`; JSON `null` counts as absent, as in Go's decoder.
fn present<'a>(object: &'a Object, name: &str) -> Option<&'a Value> {
    object.get(name).filter(|v| !v.is_null())
}

fn required_string<'a>(
    object: &'a Object,
    prefix: &str,
    name: &str,
    problems: &mut Vec<FieldError>,
) -> Option<&'a str> {
    let field = format!("{prefix}{name}");
    match present(object, name) {
        None => problems.push(problem(&field, "Field is required")),
        Some(Value::String(s)) if s.is_empty() => {
            problems.push(problem(&field, "must not be empty"))
        }
        Some(Value::String(s)) => return Some(s),
        Some(_) => problems.push(problem(&field, "must be a string")),
    }
    None
}

fn optional_string<'a>(
    object: &'a Object,
    prefix: &str,
    name: &str,
    problems: &mut Vec<FieldError>,
) -> Option<&'a str> {
    match present(object, name)? {
        Value::String(s) => Some(s),
        _ => {
            problems.push(problem(&format!("{prefix}{name}"), "must be a string"));
            None
        }
    }
}

fn required_choice<'a>(
    object: &'a Object,
    prefix: &str,
    name: &str,
    allowed: &[&str],
    problems: &mut Vec<FieldError>,
) -> Option<&'a str> {
    let value = required_string(object, prefix, name, problems)?;
    if allowed.contains(&value) {
        return Some(value);
    }
    let message = format!("must be one of: {}", allowed.join(", "));
    problems.push(problem(&format!("{prefix}{name}"), &message));
    None
}

fn required_object<'a>(
    object: &'a Object,
    prefix: &str,
    name: &str,
    problems: &mut Vec<FieldError>,
) -> Option<&'a Object> {
    if present(object, name).is_none() {
        problems.push(problem(&format!("{prefix}{name}"), "Field is required"));
        return None;
    }
    optional_object(object, prefix, name, problems)
}

fn optional_object<'a>(
    object: &'a Object,
    prefix: &str,
    name: &str,
    problems: &mut Vec<FieldError>,
) -> Option<&'a Object> {
    match present(object, name)? {
        Value::Object(inner) => Some(inner),
        _ => {
            problems.push(problem(&format!("{prefix}{name}"), "must be an object"));
            None
        }
    }
}

fn optional_port(object: &Object, problems: &mut Vec<FieldError>) {
    let Some(value) = present(object, "port") else {
        return;
    };
    match value.as_i64() {
        Some(port) if (1..=65535).contains(&port) => {}
        _ => problems.push(problem("port", "must be an integer between 1 and 65535")),
    }
}

fn optional_string_map(object: &Object, name: &str, problems: &mut Vec<FieldError>) {
    match present(object, name) {
        None => {}
        Some(Value::Object(map)) => {
            for (key, value) in map {
                if !value.is_string() {
                    problems.push(problem(&format!("{name}.{key}"), "must be a string"));
                }
            }
        }
        Some(_) => problems.push(problem(name, "must be an object of strings")),
    }
}

/// Decodes a body that passed the checks into the generated type; the
/// checks cover what it enforces, so a failure here is reported, not
/// trusted away.
fn decode<T: DeserializeOwned>(body: &Object, problems: Vec<FieldError>) -> Result<T, Reply> {
    if !problems.is_empty() {
        return Err(Reply::validation(problems));
    }
    serde_json::from_value(Value::Object(body.clone()))
        .map_err(|e| Reply::invalid("body", format!("does not match the schema: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;
    use serde_json::json;

    fn fields(reply: Reply) -> (StatusCode, Vec<String>) {
        let Reply::Json { status, body, .. } = reply else {
            panic!("not JSON");
        };
        let value: Value = serde_json::from_slice(&body).unwrap();
        let fields = value["details"]
            .as_array()
            .map(|d| {
                d.iter()
                    .map(|f| f["field"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default();
        (status, fields)
    }

    fn obj(value: Value) -> Object {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn every_bad_field_of_a_deployment_is_named() {
        let body = obj(json!({
            "name": "", "source": "ftp", "runtime": {"type": "cobol", "version": 3},
            "port": 70000, "env_vars": {"A": 1}, "remote": "x"
        }));
        let (status, fields) = fields(deploy_request(&body).unwrap_err());
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            fields,
            [
                "name",
                "user_id",
                "source",
                "runtime.type",
                "runtime.version",
                "port",
                "env_vars.A",
                "remote"
            ]
        );
    }

    #[test]
    fn a_valid_deployment_decodes() {
        let body = obj(json!({
            "name": "web", "user_id": "u", "source": "image", "image": "nginx",
            "runtime": {"type": "docker"}, "port": 8080, "unknown": true
        }));
        let request = deploy_request(&body).unwrap();
        assert_eq!(request.port, Some(8080));
        let missing_image = obj(json!({
            "name": "web", "user_id": "u", "source": "image", "runtime": {"type": "docker"}
        }));
        let (_, fields) = fields(deploy_request(&missing_image).unwrap_err());
        assert_eq!(fields, ["image"]);
    }

    #[test]
    fn malformed_bodies_are_400() {
        for body in [&b""[..], b"  ", b"{", b"[1]", b"\"text\"", b"\xff"] {
            let (status, _) = fields(object(body).unwrap_err());
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body:?}");
        }
    }

    #[test]
    fn pages_follow_the_spec() {
        let q = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>()
        };
        assert_eq!(page(&q(&[])).ok(), Some((0, 20)));
        assert_eq!(
            page(&q(&[("limit", "100"), ("offset", "7")])).ok(),
            Some((7, 100))
        );
        for bad in [
            ("limit", "0"),
            ("limit", "101"),
            ("limit", "x"),
            ("offset", "-1"),
        ] {
            let (status, fields) = fields(page(&q(&[bad])).unwrap_err());
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(fields, [bad.0]);
        }
    }
}
