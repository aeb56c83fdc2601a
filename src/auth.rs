//! Tokens: the [`TokenManager`] every clone of a client shares, the
//! user-supplied refresher that exchanges a refresh token with base, and the
//! JWT expiry check that triggers a refresh before a token runs out.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use reqwest::header::HeaderValue;

use crate::error::{BoxError, Error, ErrorKind};
use crate::role::Role;
use crate::secret::Redacted;

/// A new pair of tokens, as a refresher returns it.
///
/// `Debug` shows whether each token is set, never the token.
///
/// ```
/// let tokens = dployr::Tokens { access: "new-access".into(), refresh: None };
/// assert!(!format!("{tokens:?}").contains("new-access"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Tokens {
    /// The access token sent as `Authorization: Bearer`.
    pub access: String,
    /// A new refresh token, when base rotated it; `None` keeps the old one.
    pub refresh: Option<String>,
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokens")
            .field("access", &Redacted(true))
            .field("refresh", &Redacted(self.refresh.is_some()))
            .finish()
    }
}

type RefreshFuture = Pin<Box<dyn Future<Output = Result<Tokens, BoxError>> + Send>>;
type Refresher = Arc<dyn Fn(String) -> RefreshFuture + Send + Sync>;

/// Refresh this long before a JWT's `exp`, so it does not expire in flight.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(30);

/// Holds the access and refresh tokens and refreshes them when asked to.
///
/// Cheap to clone; every clone (and every client built with it) sees the same
/// tokens, so a token set anywhere is used by the very next request.
///
/// ```
/// let tokens = dployr::TokenManager::new();
/// tokens.set_tokens("access", "refresh");
/// let clone = tokens.clone();
/// clone.set_access_token("newer");
/// assert_eq!(tokens.access_token().as_deref(), Some("newer"));
/// assert!(!format!("{tokens:?}").contains("newer"));
/// ```
#[derive(Clone)]
pub struct TokenManager {
    shared: Arc<Shared>,
}

// The refresher and margin are set in place, on the state every clone
// shares: a manager reached through `Client::tokens` or a clone of it is the
// same manager, and setting a refresher there must reach the client.
struct Shared {
    state: RwLock<State>,
    /// Held while a refresh runs, so concurrent requests share one refresh.
    refreshing: tokio::sync::Mutex<()>,
}

// Everything a request reads sits behind one lock, so that a call takes it
// once.
struct State {
    access: Option<Arc<AccessToken>>,
    refresh: Option<String>,
    refresher: Option<Refresher>,
    margin: Duration,
}

/// What an attempt sends: the access token, if one is set, and whether a
/// refresher could replace it.
pub(crate) struct ForRequest {
    pub(crate) access: Option<Arc<AccessToken>>,
    pub(crate) refreshable: bool,
}

/// An access token with what every request needs from it, worked out once
/// when the token is set rather than on every call.
pub(crate) struct AccessToken {
    pub(crate) token: String,
    /// `Bearer <token>`, marked sensitive so it is never logged; `None` when
    /// the token holds bytes a header cannot carry.
    pub(crate) header: Option<HeaderValue>,
    /// The `exp` of a JWT (see [`jwt_expiry`]).
    expiry: Option<f64>,
}

impl AccessToken {
    fn new(token: String) -> Arc<AccessToken> {
        let header = HeaderValue::try_from(format!("Bearer {token}"))
            .ok()
            .map(|mut value| {
                value.set_sensitive(true);
                value
            });
        let expiry = jwt_expiry(&token);
        Arc::new(AccessToken {
            token,
            header,
            expiry,
        })
    }

    /// Whether this token runs out within `margin` from now; never for a
    /// token without a readable `exp`.
    fn expires_within(&self, margin: Duration) -> bool {
        let Some(exp) = self.expiry else {
            return false;
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64();
        exp - now <= margin.as_secs_f64()
    }
}

impl Default for TokenManager {
    fn default() -> Self {
        TokenManager::new()
    }
}

impl fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.read();
        f.debug_struct("TokenManager")
            .field("access", &Redacted(state.access.is_some()))
            .field("refresh", &Redacted(state.refresh.is_some()))
            .field("refresher", &state.refresher.is_some())
            .field("margin", &state.margin)
            .finish()
    }
}

impl TokenManager {
    /// A manager with no tokens and no refresher.
    pub fn new() -> Self {
        TokenManager {
            shared: Arc::new(Shared {
                state: RwLock::new(State {
                    access: None,
                    refresh: None,
                    refresher: None,
                    margin: DEFAULT_REFRESH_MARGIN,
                }),
                refreshing: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// Refreshes tokens with `refresher` from now on, and returns the same
    /// manager: every clone of it, and every client reading from it, uses
    /// the refresher (see [`set_refresher`](TokenManager::set_refresher)).
    ///
    /// The refresher receives the refresh token and returns the new pair,
    /// typically by calling base. It runs when an access token (a JWT) is
    /// within the refresh margin of its `exp`, and once when the instance
    /// answers 401; concurrent requests share a single call.
    ///
    /// ```
    /// let tokens = dployr::TokenManager::new().with_refresher(|refresh: String| async move {
    ///     // Exchange `refresh` with base here.
    ///     Ok::<_, std::io::Error>(dployr::Tokens { access: format!("new-{}", refresh.len()), refresh: None })
    /// });
    /// # let _ = tokens;
    /// ```
    pub fn with_refresher<F, Fut, E>(self, refresher: F) -> Self
    where
        F: Fn(String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Tokens, E>> + Send + 'static,
        E: Into<BoxError>,
    {
        self.set_refresher(refresher);
        self
    }

    /// Refreshes tokens with `refresher` from now on, for every clone of
    /// this manager and every client that reads from it, such as the one
    /// [`create_dployr_client`](crate::create_dployr_client) returned.
    ///
    /// ```
    /// let (client, tokens) = dployr::create_dployr_client("https://instance.example.com")?;
    /// tokens.set_refresher(|refresh: String| async move {
    ///     Ok::<_, std::io::Error>(dployr::Tokens { access: format!("new-{}", refresh.len()), refresh: None })
    /// });
    /// assert!(client.tokens().can_refresh());
    /// # Ok::<(), dployr::Error>(())
    /// ```
    pub fn set_refresher<F, Fut, E>(&self, refresher: F)
    where
        F: Fn(String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Tokens, E>> + Send + 'static,
        E: Into<BoxError>,
    {
        let refresher: Refresher = Arc::new(move |refresh_token| {
            let future = refresher(refresh_token);
            Box::pin(async move { future.await.map_err(Into::into) })
        });
        self.write().refresher = Some(refresher);
    }

    /// Refreshes this long before a JWT's `exp` (default 30 seconds), for
    /// every clone of this manager; returns the same manager.
    ///
    /// ```
    /// use std::time::Duration;
    /// let tokens = dployr::TokenManager::new().with_refresh_margin(Duration::from_secs(60));
    /// # let _ = tokens;
    /// ```
    pub fn with_refresh_margin(self, margin: Duration) -> Self {
        self.write().margin = margin;
        self
    }

    /// Sets both tokens.
    pub fn set_tokens(&self, access: impl Into<String>, refresh: impl Into<String>) {
        let access = AccessToken::new(access.into());
        let mut state = self.write();
        state.access = Some(access);
        state.refresh = Some(refresh.into());
    }

    /// Sets the access token, keeping the refresh token.
    pub fn set_access_token(&self, access: impl Into<String>) {
        let access = AccessToken::new(access.into());
        self.write().access = Some(access);
    }

    /// Sets the refresh token, keeping the access token.
    pub fn set_refresh_token(&self, refresh: impl Into<String>) {
        self.write().refresh = Some(refresh.into());
    }

    /// The current access token.
    pub fn access_token(&self) -> Option<String> {
        self.read().access.as_ref().map(|a| a.token.clone())
    }

    /// The current refresh token.
    pub fn refresh_token(&self) -> Option<String> {
        self.read().refresh.clone()
    }

    /// Forgets both tokens: requests go out without `Authorization`.
    pub fn clear(&self) {
        let mut state = self.write();
        state.access = None;
        state.refresh = None;
    }

    /// The `role` claim of the current access token, when it is a JWT
    /// carrying one of the known roles: what a 403 reports the token has.
    pub(crate) fn access_role(&self) -> Option<Role> {
        self.read()
            .access
            .as_ref()
            .and_then(|access| jwt_role(&access.token))
    }

    /// True when a refresher is configured.
    pub fn can_refresh(&self) -> bool {
        self.read().refresher.is_some()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.shared.state.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.shared.state.write().unwrap_or_else(|p| p.into_inner())
    }

    /// The access token to send now, refreshed first when it is a JWT about
    /// to expire and a refresher is configured, with the header ready to
    /// send, and whether a refusal of it may be refreshed: what every
    /// attempt reads, for the price of one read lock and a reference count
    /// while the token is fresh.
    pub(crate) async fn access_for_request(&self) -> Result<ForRequest, Error> {
        let stale = {
            let state = self.read();
            let refreshable = state.refresher.is_some();
            match &state.access {
                Some(access) if refreshable && access.expires_within(state.margin) => {
                    access.clone()
                }
                current => {
                    return Ok(ForRequest {
                        access: current.clone(),
                        refreshable,
                    })
                }
            }
        };
        // Boxed: a refresh is rare, and its future would otherwise be part of
        // every call's.
        let access = Box::pin(self.refresh_replacing(Some(&*stale))).await?;
        Ok(ForRequest {
            access: Some(access),
            refreshable: true,
        })
    }

    /// Refreshes because `stale` was refused, unless another request already
    /// replaced it. Returns the token to retry with.
    pub(crate) async fn refresh_replacing(
        &self,
        stale: Option<&AccessToken>,
    ) -> Result<Arc<AccessToken>, Error> {
        let Some(refresher) = self.read().refresher.clone() else {
            return Err(Error::new(ErrorKind::Auth, "no refresher is configured"));
        };
        let _turn = self.shared.refreshing.lock().await;
        // Whoever held the lock before us may have refreshed already.
        let (current, refresh_token) = {
            let state = self.read();
            let current = state.access.clone().filter(|current| {
                stale.is_none_or(|stale| current.token != stale.token)
                    && !current.expires_within(state.margin)
            });
            (current, state.refresh.clone())
        };
        if let Some(current) = current {
            return Ok(current);
        }
        let Some(refresh_token) = refresh_token else {
            return Err(Error::new(ErrorKind::Auth, "no refresh token is set"));
        };
        tracing::debug!(target: "dployr::auth", "refreshing the access token");
        let tokens = refresher(refresh_token)
            .await
            .map_err(|e| Error::new(ErrorKind::Auth, "the refresher failed").with_source(e))?;
        let access = AccessToken::new(tokens.access);
        let mut state = self.write();
        state.access = Some(access.clone());
        if let Some(refresh) = tokens.refresh {
            state.refresh = Some(refresh);
        }
        Ok(access)
    }
}

/// The `exp` claim of a JWT, in seconds since the epoch, read without
/// verifying the signature (the instance does that). `None` for anything
/// that is not a JWT with a numeric `exp`.
///
/// ```
/// // {"alg":"none"} . {"exp":1700000000} . (no signature)
/// let jwt = "eyJhbGciOiJub25lIn0.eyJleHAiOjE3MDAwMDAwMDB9.";
/// assert_eq!(dployr::jwt_expiry(jwt), Some(1_700_000_000.0));
/// assert_eq!(dployr::jwt_expiry("opaque-token"), None);
/// ```
pub fn jwt_expiry(token: &str) -> Option<f64> {
    #[derive(serde::Deserialize)]
    struct Claims {
        exp: Option<f64>,
    }
    let exp = jwt_claims::<Claims>(token)?.exp?;
    exp.is_finite().then_some(exp)
}

/// The `role` claim of a JWT, read without verifying the signature; `None`
/// for anything that is not a JWT carrying one of the known roles.
pub(crate) fn jwt_role(token: &str) -> Option<Role> {
    #[derive(serde::Deserialize)]
    struct Claims {
        role: Option<String>,
    }
    Role::from_name(&jwt_claims::<Claims>(token)?.role?)
}

/// The payload of a JWT (`header.payload.signature`), decoded as `T`.
fn jwt_claims<T: serde::de::DeserializeOwned>(token: &str) -> Option<T> {
    let mut parts = token.split('.');
    let (_header, payload, _signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let payload = payload.trim_end_matches('=');
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    serde_json::from_slice::<T>(&json).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(exp: f64) -> String {
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        format!(
            "{}.{}.sig",
            b64(r#"{"alg":"HS256"}"#),
            b64(&format!(r#"{{"exp":{exp}}}"#))
        )
    }

    fn now() -> f64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs_f64()
    }

    #[test]
    fn role_is_read_from_the_payload() {
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let with_role = |role: &str| format!("{}.{}.sig", b64("{}"), b64(role));
        assert_eq!(
            jwt_role(&with_role(r#"{"role":"admin"}"#)),
            Some(Role::Admin)
        );
        assert_eq!(
            jwt_role(&with_role(r#"{"role":"Viewer"}"#)),
            Some(Role::Viewer)
        );
        assert_eq!(jwt_role(&with_role(r#"{"role":"root"}"#)), None);
        assert_eq!(jwt_role(&with_role(r#"{"exp":1}"#)), None);
        assert_eq!(jwt_role("opaque"), None);
    }

    #[test]
    fn expiry_is_read_from_the_payload() {
        assert_eq!(jwt_expiry(&jwt(42.0)), Some(42.0));
        assert_eq!(jwt_expiry("a.b"), None);
        assert_eq!(jwt_expiry("a.b.c.d"), None);
        assert_eq!(jwt_expiry("a.!!!.c"), None);
        assert_eq!(jwt_expiry(""), None);
    }

    /// Whether `tokens` would refresh `token` before sending it.
    fn expires_soon(tokens: &TokenManager, token: &str) -> bool {
        let margin = tokens.read().margin;
        AccessToken::new(token.to_string()).expires_within(margin)
    }

    #[test]
    fn expiry_respects_the_margin() {
        let tokens = TokenManager::new();
        assert!(expires_soon(&tokens, &jwt(now() + 10.0)));
        assert!(!expires_soon(&tokens, &jwt(now() + 3600.0)));
        assert!(!expires_soon(&tokens, "not-a-jwt"));
        let clone = tokens.clone();
        let wide = tokens.with_refresh_margin(Duration::from_secs(7200));
        assert!(expires_soon(&wide, &jwt(now() + 3600.0)));
        assert!(
            expires_soon(&clone, &jwt(now() + 3600.0)),
            "clones share the margin"
        );
    }

    #[test]
    fn the_header_is_made_once_per_token_and_never_shown() {
        let tokens = TokenManager::new();
        tokens.set_access_token("first");
        let first = tokens.read().access.clone().unwrap();
        let header = first.header.as_ref().unwrap();
        assert_eq!(header.as_bytes(), b"Bearer first");
        assert!(header.is_sensitive());
        assert!(!format!("{header:?}").contains("first"));
        tokens.set_access_token("second");
        let second = tokens.read().access.clone().unwrap();
        assert_eq!(second.header.as_ref().unwrap().as_bytes(), b"Bearer second");
        // A token a header cannot carry is kept, but sent without a header.
        tokens.set_access_token("line\nbreak");
        let broken = tokens.read().access.clone().unwrap();
        assert!(broken.header.is_none());
        assert_eq!(tokens.access_token().as_deref(), Some("line\nbreak"));
    }

    #[test]
    fn debug_never_shows_tokens() {
        let tokens = TokenManager::new();
        tokens.set_tokens("acc-secret", "ref-secret");
        let shown = format!(
            "{tokens:?} {:?}",
            Tokens {
                access: "acc-secret".into(),
                refresh: Some("ref-secret".into())
            }
        );
        assert!(!shown.contains("secret"), "{shown}");
        assert!(shown.contains(crate::secret::REDACTED));
    }

    #[tokio::test]
    async fn a_refresher_error_becomes_an_auth_error_with_its_source() {
        let tokens = TokenManager::new()
            .with_refresher(|_| async { Err::<Tokens, _>(std::io::Error::other("base is down")) });
        tokens.set_tokens(jwt(now()), "r");
        let err = tokens.access_for_request().await.err().unwrap();
        assert_eq!(err.kind(), ErrorKind::Auth);
        let source = std::error::Error::source(&err).unwrap();
        assert_eq!(source.to_string(), "base is down");
    }
}
