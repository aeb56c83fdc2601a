//! The JWT-shaped tokens a [`LocalInstance`](super::LocalInstance)
//! issues and checks, each carrying a [`Role`].

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use crate::role::Role;

/// What checking a presented token found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TokenCheck {
    Valid(Role),
    Expired,
    /// Not a token this instance issued (or tampered with).
    Unknown,
}

/// The instance's signing key. The signature is two keyed SipHash values:
/// not a cryptographic MAC, but a token from another instance or with an
/// edited payload is still refused, which is all a test double needs.
pub(crate) struct TokenKeys {
    first: RandomState,
    second: RandomState,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Claims {
    sub: String,
    role: String,
    exp: u64,
}

const HEADER: &str = r#"{"alg":"dployr-local","typ":"JWT"}"#;

impl TokenKeys {
    pub(crate) fn new() -> Self {
        TokenKeys {
            first: RandomState::new(),
            second: RandomState::new(),
        }
    }

    fn sign(&self, message: &str) -> String {
        let mut mac = [0u8; 16];
        mac[..8].copy_from_slice(&self.first.hash_one(message).to_be_bytes());
        mac[8..].copy_from_slice(&self.second.hash_one(message).to_be_bytes());
        URL_SAFE_NO_PAD.encode(mac)
    }

    /// A token for `role` that expires `ttl` from now. `exp` is in whole
    /// seconds, rounded down, so a zero `ttl` gives a token that has already
    /// expired.
    pub(crate) fn issue(&self, role: Role, ttl: Duration) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let claims = Claims {
            sub: format!("local-{role}"),
            role: role.as_str().to_string(),
            exp: now.saturating_add(ttl).as_secs(),
        };
        // Serialising three plain fields cannot fail; an empty payload
        // would only make the token unknown, never panic.
        let payload = serde_json::to_vec(&claims).unwrap_or_default();
        let unsigned = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(HEADER),
            URL_SAFE_NO_PAD.encode(payload)
        );
        let signature = self.sign(&unsigned);
        format!("{unsigned}.{signature}")
    }

    pub(crate) fn check(&self, token: &str) -> TokenCheck {
        let Some((unsigned, signature)) = token.rsplit_once('.') else {
            return TokenCheck::Unknown;
        };
        if !same_bytes(self.sign(unsigned).as_bytes(), signature.as_bytes()) {
            return TokenCheck::Unknown;
        }
        let Some((_, payload)) = unsigned.split_once('.') else {
            return TokenCheck::Unknown;
        };
        let claims = URL_SAFE_NO_PAD
            .decode(payload)
            .ok()
            .and_then(|json| serde_json::from_slice::<Claims>(&json).ok());
        let Some(claims) = claims else {
            return TokenCheck::Unknown;
        };
        let Some(role) = Role::from_name(&claims.role) else {
            return TokenCheck::Unknown;
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        if now.as_secs_f64() >= claims.exp as f64 {
            TokenCheck::Expired
        } else {
            TokenCheck::Valid(role)
        }
    }
}

/// Compares without stopping at the first difference, as signature checks
/// should.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_carry_their_role_and_expiry() {
        let keys = TokenKeys::new();
        let token = keys.issue(Role::Admin, Duration::from_secs(60));
        assert_eq!(keys.check(&token), TokenCheck::Valid(Role::Admin));
        let exp = crate::auth::jwt_expiry(&token).unwrap();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        assert!(exp > now + 50.0 && exp <= now + 60.0);
        assert_eq!(
            keys.check(&keys.issue(Role::Viewer, Duration::ZERO)),
            TokenCheck::Expired
        );
    }

    #[test]
    fn foreign_and_edited_tokens_are_unknown() {
        let keys = TokenKeys::new();
        let other = TokenKeys::new();
        let token = other.issue(Role::Owner, Duration::from_secs(60));
        assert_eq!(keys.check(&token), TokenCheck::Unknown);
        let mine = keys.issue(Role::Viewer, Duration::from_secs(60));
        let (head, rest) = mine.split_once('.').unwrap();
        let (_, signature) = rest.split_once('.').unwrap();
        let forged = URL_SAFE_NO_PAD.encode(r#"{"sub":"x","role":"owner","exp":99999999999}"#);
        let edited = format!("{head}.{forged}.{signature}");
        assert_eq!(keys.check(&edited), TokenCheck::Unknown);
        for junk in ["", ".", "a.b", "a.b.c", "no-dots", "..."] {
            assert_eq!(keys.check(junk), TokenCheck::Unknown, "{junk:?}");
        }
    }
}
