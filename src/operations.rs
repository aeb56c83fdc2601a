//! What `openapi.yaml` says about each operation beyond its types: whether
//! it needs a token, its default timeout, and the bounds of its inputs, with
//! the checks that enforce those bounds before a request is sent.
//!
//! The tables come from `build.rs`, so they change exactly when the spec does.

use std::time::Duration;

include!(concat!(env!("OUT_DIR"), "/spec_facts.rs"));

/// The operation that opens a log stream: no total timeout, never retried
/// by the generic loop (the log stream has its own resume logic).
pub(crate) const LOG_STREAM: &str = "open_log_stream";

/// True when the spec lets the operation be called without a token.
pub(crate) fn is_public(operation: &str) -> bool {
    PUBLIC_OPERATIONS.contains(&operation)
}

/// The operation's own default timeout, when the spec gives one.
pub(crate) fn default_timeout(operation: &str) -> Option<Duration> {
    OPERATION_TIMEOUTS
        .iter()
        .find(|(name, _)| *name == operation)
        .map(|(_, secs)| Duration::from_secs(*secs))
}

/// The spec's operationId of an operation named as in `OperationInfo`.
pub(crate) fn operation_id(operation: &str) -> &str {
    OPERATIONS
        .iter()
        .find(|(_, name, _)| *name == operation)
        .map_or(operation, |(id, ..)| id)
}

/// Checks that the request's path is the operation's template filled in.
///
/// The URL parser resolves `.` and `..` segments, so a path parameter of
/// `..` would otherwise send `DELETE /services/..` as `DELETE /`: a different
/// resource. Such a request no longer matches its template and is refused.
pub(crate) fn check_path(operation: &str, base_path: &str, path: &str) -> Result<(), Violation> {
    let Some((_, _, template)) = OPERATIONS.iter().find(|(_, name, _)| *name == operation) else {
        return Ok(());
    };
    let base = base_path.trim_end_matches('/');
    let parameter = || {
        template
            .split('/')
            .find_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .unwrap_or("path")
            .to_string()
    };
    let refused = || {
        (
            parameter(),
            "must be a non-empty id other than `.` and `..`".to_string(),
        )
    };
    let rest = path.strip_prefix(base).ok_or_else(refused)?;
    let mut sent = rest.split('/');
    let mut expected = template.split('/');
    loop {
        match (sent.next(), expected.next()) {
            (None, None) => return Ok(()),
            (Some(s), Some(t)) if t.starts_with('{') => {
                if s.is_empty() || s == "." || s == ".." {
                    return Err(refused());
                }
            }
            (Some(s), Some(t)) if s == t => {}
            _ => return Err(refused()),
        }
    }
}

/// A value outside the bounds the spec gives it: (field, explanation).
pub(crate) type Violation = (String, String);

/// Checks the request's bounded query parameters and JSON body properties.
pub(crate) fn check_request(operation: &str, request: &reqwest::Request) -> Result<(), Violation> {
    let query_bounds = bounds_of(QUERY_BOUNDS, operation);
    if query_bounds.clone().next().is_some() {
        for (name, value) in request.url().query_pairs() {
            if let Some((_, min, max)) = query_bounds.clone().find(|(field, ..)| *field == name) {
                let number = value.parse::<i64>().map_err(|_| {
                    (
                        name.to_string(),
                        format!("must be a whole number, got `{value}`"),
                    )
                })?;
                check_bound(&name, number, min, max)?;
            }
        }
    }

    let body_bounds = bounds_of(BODY_BOUNDS, operation);
    if body_bounds.clone().next().is_some() {
        let body = request.body().and_then(reqwest::Body::as_bytes);
        let Some(Ok(serde_json::Value::Object(object))) =
            body.map(serde_json::from_slice::<serde_json::Value>)
        else {
            return Ok(());
        };
        for (name, min, max) in body_bounds {
            if let Some(value) = object.get(name) {
                let number = value.as_i64().ok_or_else(|| {
                    (
                        name.to_string(),
                        format!("must be a whole number, got {value}"),
                    )
                })?;
                check_bound(name, number, min, max)?;
            }
        }
    }
    Ok(())
}

fn bounds_of<'a>(
    table: &'a [(&'a str, &'a str, Option<i64>, Option<i64>)],
    operation: &'a str,
) -> impl Iterator<Item = (&'a str, Option<i64>, Option<i64>)> + Clone + 'a {
    table
        .iter()
        .filter(move |(op, ..)| *op == operation)
        .map(|(_, field, min, max)| (*field, *min, *max))
}

fn check_bound(
    field: &str,
    value: i64,
    min: Option<i64>,
    max: Option<i64>,
) -> Result<(), Violation> {
    let fits = min.is_none_or(|m| value >= m) && max.is_none_or(|m| value <= m);
    if fits {
        return Ok(());
    }
    let range = match (min, max) {
        (Some(min), Some(max)) => format!("between {min} and {max}"),
        (Some(min), None) => format!("at least {min}"),
        (None, Some(max)) => format!("at most {max}"),
        (None, None) => unreachable!("a bound without limits is never recorded"),
    };
    Err((field.to_string(), format!("must be {range}, got {value}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(url: &str) -> reqwest::Request {
        reqwest::Request::new(reqwest::Method::GET, url.parse().unwrap())
    }

    #[test]
    fn paths_must_fill_their_templates() {
        assert!(check_path("get_service", "", "/services/a%2Fb").is_ok());
        assert!(check_path("get_service", "/prefix", "/prefix/services/x").is_ok());
        let (field, _) = check_path("delete_service", "", "/services/").unwrap_err();
        assert_eq!(field, "serviceId");
        assert!(check_path("delete_service", "", "/").is_err());
        assert!(check_path("delete_service", "/prefix", "/services/x").is_err());
        assert!(check_path("list_services", "", "/services").is_ok());
    }

    #[test]
    fn the_spec_marks_only_the_installation_calls_public() {
        assert_eq!(PUBLIC_OPERATIONS, &["register_instance", "request_domain"]);
        assert!(!is_public("list_services"));
    }

    #[test]
    fn long_running_operations_have_their_own_timeout() {
        assert_eq!(
            default_timeout("run_system_doctor"),
            Some(Duration::from_secs(600))
        );
        assert_eq!(
            default_timeout("install_system"),
            Some(Duration::from_secs(600))
        );
        assert_eq!(default_timeout("list_services"), None);
    }

    #[test]
    fn query_bounds_come_from_the_spec() {
        let ok = get("http://h/services?limit=100&offset=0");
        assert!(check_request("list_services", &ok).is_ok());
        let (field, why) =
            check_request("list_services", &get("http://h/services?limit=0")).unwrap_err();
        assert_eq!(field, "limit");
        assert!(why.contains("between 1 and 100"), "{why}");
        let (field, _) =
            check_request("list_deployments", &get("http://h/d?limit=5&offset=-1")).unwrap_err();
        assert_eq!(field, "offset");
    }

    #[test]
    fn body_bounds_come_from_the_spec() {
        let mut request = reqwest::Request::new(
            reqwest::Method::POST,
            "http://h/deployments".parse().unwrap(),
        );
        *request.body_mut() = Some(r#"{"name":"a","port":70000}"#.into());
        let (field, why) = check_request("create_deployment", &request).unwrap_err();
        assert_eq!(field, "port");
        assert!(why.contains("between 1 and 65535"), "{why}");
        *request.body_mut() = Some(r#"{"name":"a","port":8080}"#.into());
        assert!(check_request("create_deployment", &request).is_ok());
    }
}
