//! Making a [`Client`] ([`create_dployr_client`], [`Client::builder`],
//! [`Client::from_env`]) and what a clone of it may change for its own
//! calls. The options live in [`builder`]; what every clone shares, in
//! [`crate::settings`].

pub(crate) mod builder;

use std::time::Duration;

use crate::auth::TokenManager;
use crate::error::Error;
use crate::Client;
use builder::ClientBuilder;

/// Creates a client for the instance at `base_url` and the token manager it
/// reads its tokens from.
///
/// The URL must be `http` or `https`; a path stem (for an instance behind a
/// proxy prefix) is kept.
///
/// ```
/// # async fn run() -> Result<(), dployr::Error> {
/// let (client, tokens) = dployr::create_dployr_client("https://instance.example.com")?;
/// tokens.set_tokens("ACCESS_TOKEN_FROM_BASE", "REFRESH_TOKEN_FROM_BASE");
/// let services = client.list_services().send().await?;
/// # Ok(())
/// # }
/// ```
pub fn create_dployr_client(base_url: &str) -> Result<(Client, TokenManager), Error> {
    let client = Client::builder(base_url).build()?;
    let tokens = client.tokens().clone();
    Ok((client, tokens))
}

impl Client {
    /// Starts building a client for the instance at `base_url`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let tokens = dployr::TokenManager::new();
    /// let client = dployr::Client::builder("https://instance.example.com")
    ///     .token_manager(tokens.clone())
    ///     .timeout(Duration::from_secs(60))
    ///     .user_agent("my-deployer/1.0")
    ///     .build()?;
    /// # Ok::<(), dployr::Error>(())
    /// ```
    pub fn builder(base_url: impl Into<String>) -> ClientBuilder {
        ClientBuilder::new(base_url.into())
    }

    /// Builds a client from the environment:
    ///
    /// | variable | meaning |
    /// |---|---|
    /// | `DPLOYR_URL` | the instance's base URL (required) |
    /// | `DPLOYR_TOKEN` | an access token |
    /// | `DPLOYR_REFRESH_TOKEN` | a refresh token |
    /// | `DPLOYR_TIMEOUT_SECS` | the client-wide timeout in seconds |
    ///
    /// A missing or malformed value is a [`ErrorKind::Config`](crate::ErrorKind::Config) error naming
    /// the variable.
    ///
    /// ```no_run
    /// let client = dployr::Client::from_env()?;
    /// # Ok::<(), dployr::Error>(())
    /// ```
    pub fn from_env() -> Result<Client, Error> {
        ClientBuilder::from_env()?.build()
    }

    /// The token manager this client (and every clone of it) reads from.
    ///
    /// ```
    /// let client = dployr::Client::builder("http://127.0.0.1:8080").build()?;
    /// client.tokens().set_access_token("ACCESS");
    /// # Ok::<(), dployr::Error>(())
    /// ```
    pub fn tokens(&self) -> &TokenManager {
        &self.inner.settings.tokens
    }

    /// A clone whose calls use `timeout` instead of their defaults: for one
    /// slow call, or a different budget for a part of a program.
    ///
    /// ```
    /// # async fn run(client: dployr::Client) -> Result<(), dployr::Error> {
    /// use std::time::Duration;
    /// let result = client
    ///     .with_timeout(Duration::from_secs(1800))
    ///     .install_system()
    ///     .body(dployr::types::InstallRequest { version: None })
    ///     .send()
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_timeout(&self, timeout: Duration) -> Client {
        let mut clone = self.clone();
        clone.inner.timeout_override = Some(timeout);
        clone
    }
}
