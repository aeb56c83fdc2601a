//! [`ClientBuilder`]: every setting of a [`Client`], checked when it is
//! built, and [`Client::from_env`]'s reading of the environment.

use std::fmt;
use std::time::Duration;

use reqwest::Url;

use crate::auth::TokenManager;
use crate::error::{Error, ErrorKind};
use crate::retry::{RetryConfig, TokenBucket};
use crate::secret::Redacted;
use crate::settings::{
    ClientState, Settings, DEFAULT_CONNECT_TIMEOUT, DEFAULT_IDLE_TIMEOUT,
    DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT, USER_AGENT,
};
use crate::Client;

/// Configures and builds a [`Client`].
///
/// Everything [`Client::from_env`] reads can be set here too.
///
/// ```
/// use std::time::Duration;
/// let client = dployr::Client::builder("https://instance.example.com")
///     .access_token("ACCESS")
///     .retry(dployr::RetryConfig::disabled())
///     .connect_timeout(Duration::from_secs(3))
///     .build()?;
/// # Ok::<(), dployr::Error>(())
/// ```
#[must_use = "a builder does nothing until `build` is called"]
pub struct ClientBuilder {
    base_url: String,
    tokens: Option<TokenManager>,
    access_token: Option<String>,
    refresh_token: Option<String>,
    http: Option<reqwest::Client>,
    user_agent: String,
    timeout: Duration,
    connect_timeout: Duration,
    retry: RetryConfig,
    max_response_bytes: usize,
    log_idle_timeout: Duration,
    #[cfg(any(feature = "rustls", feature = "native-tls", feature = "rustls-ring"))]
    root_certificates: crate::tls::Roots,
    https_only_for_remote_hosts: bool,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("ClientBuilder");
        let base_url = match Url::parse(self.base_url.trim()) {
            Ok(mut url) => {
                crate::secret::redact_url(&mut url);
                url.to_string()
            }
            // Shown only once parsed, so that no password is ever printed.
            Err(_) => "<not a URL>".to_string(),
        };
        d.field("base_url", &base_url)
            .field("tokens", &self.tokens)
            .field("access_token", &Redacted(self.access_token.is_some()))
            .field("refresh_token", &Redacted(self.refresh_token.is_some()))
            .field("http", &self.http.is_some())
            .field("user_agent", &self.user_agent)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("retry", &self.retry)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("log_idle_timeout", &self.log_idle_timeout);
        #[cfg(any(feature = "rustls", feature = "native-tls", feature = "rustls-ring"))]
        d.field("root_certificates", &self.root_certificates.len());
        d.field(
            "https_only_for_remote_hosts",
            &self.https_only_for_remote_hosts,
        )
        .finish()
    }
}

impl ClientBuilder {
    pub(crate) fn new(base_url: String) -> Self {
        ClientBuilder {
            base_url,
            tokens: None,
            access_token: None,
            refresh_token: None,
            http: None,
            user_agent: USER_AGENT.to_string(),
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            retry: RetryConfig::default(),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            log_idle_timeout: DEFAULT_IDLE_TIMEOUT,
            #[cfg(any(feature = "rustls", feature = "native-tls", feature = "rustls-ring"))]
            root_certificates: crate::tls::Roots::default(),
            https_only_for_remote_hosts: false,
        }
    }

    /// A builder filled from `DPLOYR_URL`, `DPLOYR_TOKEN`,
    /// `DPLOYR_REFRESH_TOKEN` and `DPLOYR_TIMEOUT_SECS` (see
    /// [`Client::from_env`]), to adjust further before building.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(|name| std::env::var(name))
    }

    /// A builder for the instance at `base_url`, found some other way than
    /// `DPLOYR_URL` (a command-line flag, a configuration file), with the
    /// rest of the environment applied: `DPLOYR_TOKEN`,
    /// `DPLOYR_REFRESH_TOKEN` and `DPLOYR_TIMEOUT_SECS` as
    /// [`Client::from_env`] reads them. `DPLOYR_URL` is not read, so a URL
    /// given on purpose always wins over the environment's.
    ///
    /// ```
    /// let url = std::env::args().nth(1).unwrap_or_else(|| "http://127.0.0.1:8080".into());
    /// let client = dployr::ClientBuilder::from_env_with_url(url)?.build()?;
    /// # Ok::<(), dployr::Error>(())
    /// ```
    pub fn from_env_with_url(base_url: impl Into<String>) -> Result<Self, Error> {
        Self::from_lookup_with_url(Some(base_url.into()), |name| std::env::var(name))
    }

    fn from_lookup(
        lookup: impl Fn(&str) -> Result<String, std::env::VarError>,
    ) -> Result<Self, Error> {
        Self::from_lookup_with_url(None, lookup)
    }

    /// The environment through `lookup`; `DPLOYR_URL` only when no
    /// `base_url` is given.
    fn from_lookup_with_url(
        base_url: Option<String>,
        lookup: impl Fn(&str) -> Result<String, std::env::VarError>,
    ) -> Result<Self, Error> {
        let read = |name: &str| match lookup(name) {
            Ok(value) if value.trim().is_empty() => Err(Error::config(name, "is empty")),
            Ok(value) => Ok(Some(value)),
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => {
                Err(Error::config(name, "is not valid UTF-8"))
            }
        };
        let url = match base_url {
            Some(url) => url,
            None => read("DPLOYR_URL")?.ok_or_else(|| {
                Error::config("DPLOYR_URL", "is not set; set it to the instance's URL")
            })?,
        };
        let mut builder = ClientBuilder::new(url);
        builder.access_token = read("DPLOYR_TOKEN")?;
        builder.refresh_token = read("DPLOYR_REFRESH_TOKEN")?;
        if let Some(secs) = read("DPLOYR_TIMEOUT_SECS")? {
            let secs: u64 = secs.trim().parse().map_err(|_| {
                Error::config(
                    "DPLOYR_TIMEOUT_SECS",
                    format!("must be a whole number of seconds, got `{secs}`"),
                )
            })?;
            if secs == 0 {
                return Err(Error::config("DPLOYR_TIMEOUT_SECS", "must be at least 1"));
            }
            builder.timeout = Duration::from_secs(secs);
        }
        Ok(builder)
    }

    /// Reads tokens from (and refreshes them through) this manager, shared
    /// with the caller. By default the client makes its own.
    pub fn token_manager(mut self, tokens: TokenManager) -> Self {
        self.tokens = Some(tokens);
        self
    }

    /// Sets the access token on the client's token manager when it is built.
    pub fn access_token(mut self, token: impl Into<String>) -> Self {
        self.access_token = Some(token.into());
        self
    }

    /// Sets the refresh token on the client's token manager when it is built.
    pub fn refresh_token(mut self, token: impl Into<String>) -> Self {
        self.refresh_token = Some(token.into());
        self
    }

    /// Sends requests through this `reqwest::Client` (and its pool) instead
    /// of one the builder makes. Its own settings (TLS, proxies, user agent,
    /// redirects, connect timeout) then apply in place of the builder's.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// The `User-Agent` header (default `dployr-rust/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// The timeout of each attempt of a call (default 30 s). Operations the
    /// spec marks as long-running (`runSystemDoctor`, `installSystem`) default
    /// to their own, longer timeout; log streams have none, only an idle one.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long establishing a connection may take (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How failed calls are retried (see [`RetryConfig`]).
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }

    /// The largest answer body read for a JSON operation (default 32 MiB).
    pub fn max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    /// How long a log stream may go without a byte before it fails with a
    /// timeout (default 45 s: three missed 15 s heartbeats).
    pub fn log_idle_timeout(mut self, timeout: Duration) -> Self {
        self.log_idle_timeout = timeout;
        self
    }

    /// Trusts this certificate as a root, in addition to the platform's,
    /// e.g. for an instance with a private CA. Takes one DER certificate or
    /// PEM holding one or more; bytes that do not parse as certificates are
    /// a [`ErrorKind::Config`] error here rather than a failed handshake
    /// later.
    #[cfg(any(feature = "rustls", feature = "native-tls", feature = "rustls-ring"))]
    pub fn add_root_certificate(mut self, certificate: &[u8]) -> Result<Self, Error> {
        self.root_certificates.add(certificate)?;
        Ok(self)
    }

    /// Refuses plain `http` URLs unless the host is a loopback address, so
    /// tokens never cross a network unencrypted.
    pub fn https_only_for_remote_hosts(mut self, enabled: bool) -> Self {
        self.https_only_for_remote_hosts = enabled;
        self
    }

    /// Builds the client.
    ///
    /// Fails with [`ErrorKind::Config`] when the URL is not an absolute
    /// `http` or `https` URL, or plain `http` is refused for its host.
    pub fn build(self) -> Result<Client, Error> {
        let url = self.checked_base_url()?;
        // The generated code appends paths that start with `/`.
        let base_url = url.as_str().trim_end_matches('/');
        let http = match self.http {
            Some(http) => http,
            None => {
                let http = reqwest::Client::builder()
                    .user_agent(self.user_agent)
                    .connect_timeout(self.connect_timeout)
                    // A bearer token must never follow a redirect to another
                    // host; an API client has no reason to follow one at all.
                    .redirect(reqwest::redirect::Policy::none());
                // `rustls-ring` brings its own TLS configuration, roots
                // included, in place of any other TLS feature's.
                #[cfg(feature = "rustls-ring")]
                let http = http
                    .tls_backend_preconfigured(crate::tls::ring_config(&self.root_certificates)?);
                #[cfg(all(
                    any(feature = "rustls", feature = "native-tls"),
                    not(feature = "rustls-ring")
                ))]
                let http = self
                    .root_certificates
                    .certificates
                    .into_iter()
                    .fold(http, reqwest::ClientBuilder::add_root_certificate);
                http.build().map_err(|e| {
                    Error::new(ErrorKind::Config, "the HTTP client could not be set up")
                        .with_source(e)
                })?
            }
        };
        let tokens = self.tokens.unwrap_or_default();
        match (self.access_token, self.refresh_token) {
            (Some(access), Some(refresh)) => tokens.set_tokens(access, refresh),
            (Some(access), None) => tokens.set_access_token(access),
            (None, Some(refresh)) => tokens.set_refresh_token(refresh),
            (None, None) => {}
        }
        let state = ClientState::new(Settings {
            tokens,
            budget: TokenBucket::new(self.retry.budget),
            retry: self.retry,
            timeout: self.timeout,
            max_response_bytes: self.max_response_bytes,
            log_idle_timeout: self.log_idle_timeout,
            base_path: url.path().trim_end_matches('/').to_string(),
            deadlines: Default::default(),
        });
        Ok(Client::new_with_client(base_url, http, state))
    }

    fn checked_base_url(&self) -> Result<Url, Error> {
        let url = Url::parse(self.base_url.trim()).map_err(|e| {
            Error::config(
                "base URL",
                format!("`{}` is not a URL ({e})", self.base_url),
            )
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Error::config(
                "base URL",
                format!("the scheme must be http or https, not `{}`", url.scheme()),
            ));
        }
        let Some(host) = url.host() else {
            return Err(Error::config("base URL", "has no host"));
        };
        if self.https_only_for_remote_hosts && url.scheme() == "http" && !is_loopback(&host) {
            return Err(Error::config(
                "base URL",
                format!("plain http to the non-loopback host `{host}` is refused; use https"),
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(Error::config(
                "base URL",
                "must not have a query or fragment",
            ));
        }
        Ok(url)
    }
}

fn is_loopback(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{LIST_SERVICES, RUN_SYSTEM_DOCTOR};

    fn env(vars: &'static [(&'static str, &'static str)]) -> Result<ClientBuilder, Error> {
        ClientBuilder::from_lookup(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
                .ok_or(std::env::VarError::NotPresent)
        })
    }

    #[test]
    fn the_base_url_is_checked() {
        let err = Client::builder("ftp://example.com").build().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
        assert!(err.to_string().contains("http or https"), "{err}");
        assert!(Client::builder("not a url").build().is_err());
        let client = Client::builder("https://example.com/prefix/")
            .build()
            .unwrap();
        assert_eq!(client.baseurl, "https://example.com/prefix");
    }

    #[test]
    fn plain_http_can_be_refused_for_remote_hosts() {
        let strict = |url: &str| {
            Client::builder(url)
                .https_only_for_remote_hosts(true)
                .build()
        };
        assert!(strict("http://example.com").is_err());
        assert!(strict("http://127.0.0.1:8080").is_ok());
        assert!(strict("http://localhost:8080").is_ok());
        assert!(strict("https://example.com").is_ok());
    }

    #[test]
    fn environment_variables_are_named_in_errors() {
        let missing = env(&[]).unwrap_err();
        assert_eq!(missing.field(), Some("DPLOYR_URL"));
        let bad = env(&[("DPLOYR_URL", "http://h"), ("DPLOYR_TIMEOUT_SECS", "soon")]).unwrap_err();
        assert_eq!(bad.field(), Some("DPLOYR_TIMEOUT_SECS"));
        assert!(bad.to_string().contains("soon"));
        let built = env(&[
            ("DPLOYR_URL", "http://h"),
            ("DPLOYR_TOKEN", "a"),
            ("DPLOYR_REFRESH_TOKEN", "r"),
            ("DPLOYR_TIMEOUT_SECS", "5"),
        ])
        .unwrap()
        .build()
        .unwrap();
        assert_eq!(built.tokens().access_token().as_deref(), Some("a"));
        assert_eq!(built.tokens().refresh_token().as_deref(), Some("r"));
        assert_eq!(timeout_of(&built, &LIST_SERVICES), Duration::from_secs(5));
    }

    #[test]
    fn a_url_given_otherwise_takes_the_rest_of_the_environment() {
        let lookup = |name: &str| match name {
            "DPLOYR_URL" => Ok("http://from-env".to_string()),
            "DPLOYR_TOKEN" => Ok("a".to_string()),
            "DPLOYR_TIMEOUT_SECS" => Ok("7".to_string()),
            _ => Err(std::env::VarError::NotPresent),
        };
        let built = ClientBuilder::from_lookup_with_url(Some("http://given".into()), lookup)
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(built.baseurl, "http://given");
        assert_eq!(built.tokens().access_token().as_deref(), Some("a"));
        assert_eq!(timeout_of(&built, &LIST_SERVICES), Duration::from_secs(7));
        let bad = |name: &str| match name {
            "DPLOYR_TIMEOUT_SECS" => Ok("soon".to_string()),
            _ => Err(std::env::VarError::NotPresent),
        };
        let err =
            ClientBuilder::from_lookup_with_url(Some("http://given".into()), bad).unwrap_err();
        assert_eq!(err.field(), Some("DPLOYR_TIMEOUT_SECS"));
    }

    /// The deadline a call of `operation` by `client` gets.
    fn timeout_of(client: &Client, operation: &'static crate::facts::Operation) -> Duration {
        let request = reqwest::Request::new(reqwest::Method::GET, "http://h/".parse().unwrap());
        crate::pipeline::Plan::call(client, operation, &request).timeout
    }

    #[test]
    fn timeouts_follow_override_then_spec_then_client() {
        let client = Client::builder("http://h").build().unwrap();
        assert_eq!(timeout_of(&client, &LIST_SERVICES), DEFAULT_TIMEOUT);
        assert_eq!(
            timeout_of(&client, &RUN_SYSTEM_DOCTOR),
            Duration::from_secs(600)
        );
        let quick = client.with_timeout(Duration::from_secs(2));
        assert_eq!(
            timeout_of(&quick, &RUN_SYSTEM_DOCTOR),
            Duration::from_secs(2)
        );
    }
}
