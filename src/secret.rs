//! Values the spec marks as secret (`x-dployr-secret: true`): deployment
//! secrets, the registration claim, the installation token. `build.rs` gives
//! every such field one of the two types here, so that printing a request
//! (`{:?}`, `tracing::debug!(?request)`) never shows the value, while the
//! value goes over the wire unchanged.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What `Debug` shows in place of a secret value, everywhere in the crate.
pub(crate) const REDACTED: &str = "<redacted>";

// `SECRET_EXTENSION`, the vendor extension marking a secret in
// `openapi.yaml` (the JSON Schema of these types carries it too, so the
// contract tests can check that every value the spec marks secret got one
// of these types), and `CREDENTIAL_QUERY_PARAMETERS`, the query parameters
// the spec marks as carrying the access token.
include!(concat!(env!("OUT_DIR"), "/spec_secrets.rs"));

/// Query parameters redacted from every URL an error or a log shows: the
/// spec's credential parameters, and these, which carry tokens in OAuth-style
/// URLs whatever the spec says.
const ALWAYS_SECRET_QUERY_PARAMETERS: &[&str] = &["access_token", "refresh_token"];

/// Shows whether a secret is set, never the secret: `<redacted>` or `None`.
pub(crate) struct Redacted(pub(crate) bool);

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0 { REDACTED } else { "None" })
    }
}

fn is_secret_query_parameter(name: &str) -> bool {
    CREDENTIAL_QUERY_PARAMETERS.contains(&name) || ALWAYS_SECRET_QUERY_PARAMETERS.contains(&name)
}

/// Replaces the password and the value of every credential query parameter
/// of `url` with `redacted`.
pub(crate) fn redact_url(url: &mut url::Url) {
    if url.password().is_some() {
        // Cannot fail: a URL with a password has a host.
        let _ = url.set_password(Some("redacted"));
    }
    if !url
        .query_pairs()
        .any(|(k, _)| is_secret_query_parameter(&k))
    {
        return;
    }
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let v = if is_secret_query_parameter(&k) {
                "redacted".into()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
}

/// A string whose `Debug` is `<redacted>`; it serializes as the plain string.
///
/// There is no `Display` and no `Deref`: reading the value takes a call to
/// [`expose`](Secret::expose), which is easy to spot in review.
///
/// ```
/// let secret = dployr::Secret::from("s3cr3t");
/// assert_eq!(format!("{secret:?}"), "<redacted>");
/// assert_eq!(secret.expose(), "s3cr3t");
/// assert_eq!(serde_json::to_string(&secret).unwrap(), "\"s3cr3t\"");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Secret(String);

impl Secret {
    /// The value itself.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The value itself, giving up the wrapper.
    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(value.to_string())
    }
}

impl From<&String> for Secret {
    fn from(value: &String) -> Self {
        Secret(value.clone())
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Secret)
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for Secret {
    fn schema_name() -> String {
        "Secret".to_string()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed(concat!(module_path!(), "::Secret"))
    }

    // Written in place, as the spec writes a secret property.
    fn is_referenceable() -> bool {
        false
    }

    fn json_schema(_: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
        secret_schema(None)
    }
}

/// A [`Secret`] that must not be empty: the spec gives it `minLength: 1`.
///
/// An empty value is refused where the value is made (`try_from`, `parse`,
/// decoding), so a request builder given `""` fails with
/// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) before
/// anything is sent.
///
/// ```
/// use dployr::NonEmptySecret;
///
/// let token = NonEmptySecret::try_from("install-token").unwrap();
/// assert_eq!(format!("{token:?}"), "<redacted>");
/// assert_eq!(token.expose(), "install-token");
/// assert!(NonEmptySecret::try_from("").is_err());
/// assert!(serde_json::from_str::<NonEmptySecret>("\"\"").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct NonEmptySecret(Secret);

impl NonEmptySecret {
    /// The value itself.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }

    /// The value itself, giving up the wrapper.
    pub fn into_inner(self) -> String {
        self.0.into_inner()
    }
}

impl fmt::Debug for NonEmptySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl From<NonEmptySecret> for Secret {
    fn from(value: NonEmptySecret) -> Self {
        value.0
    }
}

/// Why a value cannot be a [`NonEmptySecret`]. It never holds the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmptySecret;

impl fmt::Display for EmptySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("must not be empty")
    }
}

impl std::error::Error for EmptySecret {}

impl TryFrom<String> for NonEmptySecret {
    type Error = EmptySecret;

    fn try_from(value: String) -> Result<Self, EmptySecret> {
        if value.is_empty() {
            return Err(EmptySecret);
        }
        Ok(NonEmptySecret(Secret(value)))
    }
}

impl TryFrom<&str> for NonEmptySecret {
    type Error = EmptySecret;

    fn try_from(value: &str) -> Result<Self, EmptySecret> {
        value.parse()
    }
}

impl TryFrom<&String> for NonEmptySecret {
    type Error = EmptySecret;

    fn try_from(value: &String) -> Result<Self, EmptySecret> {
        value.parse()
    }
}

impl std::str::FromStr for NonEmptySecret {
    type Err = EmptySecret;

    fn from_str(value: &str) -> Result<Self, EmptySecret> {
        NonEmptySecret::try_from(value.to_string())
    }
}

impl Serialize for NonEmptySecret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for NonEmptySecret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = String::deserialize(deserializer)?;
        NonEmptySecret::try_from(value).map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for NonEmptySecret {
    fn schema_name() -> String {
        "NonEmptySecret".to_string()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed(concat!(module_path!(), "::NonEmptySecret"))
    }

    fn is_referenceable() -> bool {
        false
    }

    fn json_schema(_: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
        secret_schema(Some(1))
    }
}

#[cfg(feature = "schema")]
fn secret_schema(min_length: Option<u32>) -> schemars::schema::Schema {
    use schemars::schema::{InstanceType, SchemaObject, StringValidation};
    let mut schema = SchemaObject {
        instance_type: Some(InstanceType::String.into()),
        ..Default::default()
    };
    if min_length.is_some() {
        schema.string = Some(Box::new(StringValidation {
            min_length,
            ..Default::default()
        }));
    }
    schema
        .extensions
        .insert(SECRET_EXTENSION.to_string(), serde_json::Value::Bool(true));
    schema.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value_but_the_wire_does() {
        let secret = Secret::from("hunter2");
        let token = NonEmptySecret::try_from("tok-123").unwrap();
        for shown in [
            format!("{secret:?}"),
            format!("{secret:#?}"),
            format!("{token:?}"),
            format!("{:?}", Some(&token)),
        ] {
            assert!(!shown.contains("hunter2") && !shown.contains("tok-123"));
            assert!(shown.contains(REDACTED), "{shown}");
        }
        assert_eq!(serde_json::to_string(&secret).unwrap(), "\"hunter2\"");
        assert_eq!(serde_json::to_string(&token).unwrap(), "\"tok-123\"");
        let back: Secret = serde_json::from_str("\"hunter2\"").unwrap();
        assert_eq!(back, secret);
    }

    #[test]
    fn an_empty_non_empty_secret_is_refused_without_echoing_anything() {
        assert_eq!(NonEmptySecret::try_from(""), Err(EmptySecret));
        assert_eq!("".parse::<NonEmptySecret>(), Err(EmptySecret));
        let error = serde_json::from_str::<NonEmptySecret>("\"\"").unwrap_err();
        assert!(error.to_string().contains("must not be empty"), "{error}");
        assert_eq!(Secret::from(""), Secret::default());
    }

    #[cfg(feature = "schema")]
    #[test]
    fn the_schema_says_string_and_secret() {
        let schema = serde_json::to_value(schemars::schema_for!(NonEmptySecret)).unwrap();
        assert_eq!(schema["type"], "string");
        assert_eq!(schema["minLength"], 1);
        assert_eq!(schema[SECRET_EXTENSION], true);
        let schema = serde_json::to_value(schemars::schema_for!(Secret)).unwrap();
        assert_eq!(schema.get("minLength"), None);
        assert_eq!(schema[SECRET_EXTENSION], true);
    }
}
