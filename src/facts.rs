//! What `openapi.yaml` says about each operation beyond its types: its
//! method and path, whether it needs a token, its default timeout, whether
//! it streams, its parameters and body, and the bounds of its inputs (which
//! the pipeline's check step enforces before a request is sent).
//!
//! One `static` [`Operation`] per operation comes from `build.rs`, so the
//! facts change exactly when the spec does; each generated `send` hands its
//! own to the pipeline, so nothing is looked up by name on the request path.
//! [`operations`] lists them all, for programs that work from the spec
//! rather than from the typed builders (a command line, a coverage check).

use std::fmt;
use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::error::Error;
use crate::role::Role;

include!(concat!(env!("OUT_DIR"), "/spec_facts.rs"));

/// Every operation of the spec, one entry each.
///
/// ```
/// let ids: Vec<&str> = dployr::operations().iter().map(|op| op.id()).collect();
/// assert!(ids.contains(&"listServices"));
/// let list = dployr::Operation::find("listServices").unwrap();
/// assert_eq!((list.method(), list.path(), list.tag()), ("GET", "/services", "services"));
/// ```
pub fn operations() -> &'static [&'static Operation] {
    OPERATIONS
}

/// One operation of the spec: what [`operations`] lists.
///
/// Its facts are read from `openapi.yaml` when the crate is built.
pub struct Operation {
    pub(crate) id: &'static str,
    pub(crate) name: &'static str,
    pub(crate) method: &'static str,
    /// The path template, e.g. `/services/{serviceId}`; empty for raw calls.
    pub(crate) path: &'static str,
    pub(crate) tag: &'static str,
    pub(crate) summary: &'static str,
    pub(crate) description: &'static str,
    /// Called without an access token (`security: []`).
    pub(crate) public: bool,
    /// The least role a token needs (`x-dployr-role`); `None` when public.
    pub(crate) role: Option<Role>,
    /// Its own default timeout (`x-dployr-timeout-secs`).
    pub(crate) timeout: Option<Duration>,
    /// The success answer is an event stream: it has no body limit and no
    /// total timeout, only a deadline for its headers.
    pub(crate) streaming: bool,
    /// The query parameter that carries the access token
    /// (`x-dployr-credential`).
    pub(crate) credential_query: Option<&'static str>,
    pub(crate) query_bounds: &'static [Bound],
    /// Bounded integer properties of the JSON request body.
    pub(crate) body_bounds: &'static [Bound],
    pub(crate) parameters: &'static [Parameter],
    pub(crate) body: Option<Body>,
    /// `requestBody.required`: when false, a request without a body is one
    /// too.
    pub(crate) body_required: bool,
    pub(crate) answer: Option<Answer>,
    pub(crate) body_fields: &'static [BodyField],
}

impl fmt::Debug for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Operation")
            .field("id", &self.id)
            .field("method", &self.method)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Operation {
    /// The operation whose `operationId` is `id`, or `None` when the spec
    /// has none of that name.
    ///
    /// ```
    /// let get = dployr::Operation::find("getService").unwrap();
    /// assert_eq!((get.method(), get.path()), ("GET", "/services/{serviceId}"));
    /// assert!(dployr::Operation::find("getServices").is_none());
    /// ```
    pub fn find(id: &str) -> Option<&'static Operation> {
        OPERATIONS.iter().copied().find(|op| op.id == id)
    }

    /// The spec's `operationId`, e.g. `listServices`.
    pub fn id(&self) -> &'static str {
        self.id
    }

    /// The name of its method on [`Client`](crate::Client), e.g. `list_services`.
    pub fn method_name(&self) -> &'static str {
        self.name
    }

    /// The HTTP method, upper case, e.g. `GET`.
    pub fn method(&self) -> &'static str {
        self.method
    }

    /// The path template, e.g. `/services/{serviceId}`.
    pub fn path(&self) -> &'static str {
        self.path
    }

    /// Its first tag, e.g. `services`: the group it belongs to.
    pub fn tag(&self) -> &'static str {
        self.tag
    }

    /// The spec's one-line summary.
    pub fn summary(&self) -> &'static str {
        self.summary
    }

    /// The spec's longer description (often empty).
    pub fn description(&self) -> &'static str {
        self.description
    }

    /// True when the operation is called without an access token.
    pub fn is_public(&self) -> bool {
        self.public
    }

    /// The least [`Role`] a token needs to call it, as the spec states it
    /// (`x-dployr-role`); `None` for an operation called without a token.
    /// An instance answers 403 to a token whose role is below it.
    ///
    /// ```
    /// use dployr::Role;
    /// let info = dployr::Operation::find("getSystemInfo").unwrap();
    /// assert_eq!(info.role(), Some(Role::Admin));
    /// let register = dployr::Operation::find("registerInstance").unwrap();
    /// assert_eq!(register.role(), None);
    /// ```
    pub fn role(&self) -> Option<Role> {
        self.role
    }

    /// True when its answer is a server-sent event stream (the log stream).
    pub fn is_streaming(&self) -> bool {
        self.streaming
    }

    /// Its path and query parameters, path ones first as the spec lists them.
    pub fn parameters(&self) -> &'static [Parameter] {
        self.parameters
    }

    /// The component schema of its JSON request body, e.g. `DeployRequest`.
    pub fn body_type(&self) -> Option<&'static str> {
        self.body.as_ref().map(|b| b.type_name)
    }

    /// Whether a request must carry its body (`requestBody.required`);
    /// false for an operation without a body, or whose body may be left
    /// out (`installSystem`: no body installs the latest release).
    pub fn is_body_required(&self) -> bool {
        self.body_required
    }

    /// The top-level fields of its JSON request body, as the spec lists
    /// them (empty without a body).
    ///
    /// ```
    /// let add = dployr::Operation::find("addProxyRoute").unwrap();
    /// let names: Vec<&str> = add.body_fields().iter().map(|f| f.name()).collect();
    /// assert_eq!(names, ["domain", "upstream"]);
    /// ```
    pub fn body_fields(&self) -> &'static [BodyField] {
        self.body_fields
    }

    /// The component schema of its JSON success answer, e.g. `ServiceList`.
    pub fn answer_type(&self) -> Option<&'static str> {
        self.answer.as_ref().map(|a| a.type_name)
    }

    /// Checks a JSON request body against the operation's body type and the
    /// spec's bounds, as the typed builders would, without sending anything.
    /// A body that does not fit is [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput)
    /// naming the field.
    ///
    /// ```
    /// let create = dployr::Operation::find("createDeployment").unwrap();
    /// let error = create.check_body(br#"{"name": 7}"#).unwrap_err();
    /// assert_eq!(error.field(), Some("name"));
    /// ```
    pub fn check_body(&self, json: &[u8]) -> Result<(), Error> {
        match &self.body {
            Some(body) => (body.check)(json),
            None => Ok(()),
        }
    }

    /// Decodes a success answer as the operation's answer type, giving it
    /// back as JSON; a body that does not fit is [`ErrorKind::Decode`](crate::ErrorKind::Decode)
    /// naming where. An operation without a JSON answer gives `Null`.
    pub fn decode_answer(&self, json: &[u8]) -> Result<serde_json::Value, Error> {
        match &self.answer {
            Some(answer) => (answer.check)(json),
            None => Ok(serde_json::Value::Null),
        }
    }
}

/// Where a [`Parameter`] goes in the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParameterLocation {
    /// In the path template, e.g. `{serviceId}`.
    Path,
    /// In the query string.
    Query,
}

/// One parameter of an [`Operation`].
#[derive(Debug)]
pub struct Parameter {
    pub(crate) name: &'static str,
    pub(crate) location: ParameterLocation,
    pub(crate) required: bool,
    pub(crate) description: &'static str,
    pub(crate) integer: bool,
    pub(crate) credential: bool,
}

impl Parameter {
    /// Its name in the spec, e.g. `serviceId`.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Path or query.
    pub fn location(&self) -> ParameterLocation {
        self.location
    }

    /// Whether a request must carry it.
    pub fn is_required(&self) -> bool {
        self.required
    }

    /// The spec's description.
    pub fn description(&self) -> &'static str {
        self.description
    }

    /// Whether its value is an integer (else a string).
    pub fn is_integer(&self) -> bool {
        self.integer
    }

    /// True for a parameter that carries the access token
    /// (`x-dployr-credential`): the client fills it in, never the caller.
    pub fn is_credential(&self) -> bool {
        self.credential
    }
}

/// How a [`BodyField`]'s value is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FieldKind {
    /// A string (an open value set, a known name or any other, included).
    String,
    /// A whole number.
    Integer,
    /// A number.
    Number,
    /// `true` or `false`.
    Boolean,
    /// An object or a list, written as JSON.
    Json,
}

/// One top-level field of an [`Operation`]'s JSON request body.
#[derive(Debug)]
pub struct BodyField {
    pub(crate) name: &'static str,
    pub(crate) required: bool,
    pub(crate) description: &'static str,
    pub(crate) kind: FieldKind,
}

impl BodyField {
    /// Its name in the body, e.g. `domain`.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Whether the body must have it.
    pub fn is_required(&self) -> bool {
        self.required
    }

    /// The spec's description (often empty).
    pub fn description(&self) -> &'static str {
        self.description
    }

    /// How its value is written.
    pub fn kind(&self) -> FieldKind {
        self.kind
    }
}

/// The JSON request body of an operation.
pub(crate) struct Body {
    pub(crate) type_name: &'static str,
    pub(crate) check: fn(&[u8]) -> Result<(), Error>,
}

/// The JSON success answer of an operation.
pub(crate) struct Answer {
    pub(crate) type_name: &'static str,
    pub(crate) check: fn(&[u8]) -> Result<serde_json::Value, Error>,
}

/// Whether `json` reads as a `T`; the path of the first field that does not.
fn check_body<T: DeserializeOwned>(json: &[u8]) -> Result<(), Error> {
    let mut reader = serde_json::Deserializer::from_slice(json);
    match serde_path_to_error::deserialize::<_, T>(&mut reader) {
        Ok(_) => Ok(()),
        Err(e) => {
            let path = e.path().to_string();
            let field = if path == "." {
                "body".to_string()
            } else {
                path
            };
            Err(Error::invalid_input(
                field,
                format!("does not fit the request body ({})", e.inner()),
            ))
        }
    }
}

/// `json` decoded as a `T` and given back as JSON.
fn check_answer<T: DeserializeOwned + serde::Serialize>(
    json: &[u8],
) -> Result<serde_json::Value, Error> {
    let mut reader = serde_json::Deserializer::from_slice(json);
    let value: T = serde_path_to_error::deserialize(&mut reader).map_err(|e| {
        let path = e.path().to_string();
        Error::decode(None, json, e.into_inner()).at_path(std::any::type_name::<T>(), path, None)
    })?;
    serde_json::to_value(value).map_err(|e| Error::decode(None, json, e))
}

/// An integer input with limits.
#[derive(Debug)]
pub(crate) struct Bound {
    pub(crate) field: &'static str,
    pub(crate) min: Option<i64>,
    pub(crate) max: Option<i64>,
}

/// A request made with [`Client::raw`](crate::Client::raw): a path the spec
/// does not describe, so nothing about it is known beyond that it needs a
/// token.
pub(crate) static RAW: Operation = Operation {
    id: "raw",
    name: "raw",
    method: "",
    path: "",
    tag: "",
    summary: "",
    description: "",
    public: false,
    role: None,
    timeout: None,
    streaming: false,
    credential_query: None,
    query_bounds: &[],
    body_bounds: &[],
    parameters: &[],
    body: None,
    body_required: false,
    answer: None,
    body_fields: &[],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spec_marks_only_the_installation_calls_public() {
        let public: Vec<&str> = OPERATIONS
            .iter()
            .filter(|op| op.public)
            .map(|op| op.id)
            .collect();
        assert_eq!(public, ["registerInstance", "requestDomain"]);
    }

    #[test]
    fn only_the_log_stream_streams_and_carries_a_credential() {
        for op in OPERATIONS {
            assert_eq!(op.streaming, op.id == "openLogStream", "{}", op.id);
        }
        assert_eq!(OPEN_LOG_STREAM.credential_query, Some("token"));
    }

    #[test]
    fn the_api_version_is_the_specs() {
        let spec: serde_json::Value =
            serde_norway::from_str(include_str!("../openapi.yaml")).unwrap();
        assert_eq!(spec["info"]["version"].as_str(), Some(API_VERSION));
    }

    #[test]
    fn long_running_operations_have_their_own_timeout() {
        assert_eq!(RUN_SYSTEM_DOCTOR.timeout, Some(Duration::from_secs(600)));
        assert_eq!(INSTALL_SYSTEM.timeout, Some(Duration::from_secs(600)));
        assert_eq!(LIST_SERVICES.timeout, None);
    }
}
