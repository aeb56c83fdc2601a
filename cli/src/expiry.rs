//! A kept token that has expired is said before anything is sent, with how
//! to set a new one; the instance would only answer 401.

use crate::age;

/// `expired 3h ago` when `token` is a JWT whose `exp` has passed; `None`
/// for a token still valid or one that carries no expiry.
pub fn expired(token: &str) -> Option<String> {
    let exp = dployr::jwt_expiry(token)?;
    let now = age::now();
    (exp <= now).then(|| format!("expired {} ago", age::span(now - exp)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_expired_jwt_says_so_and_others_do_not() {
        // {"alg":"none"} . {"exp":1700000000}
        let old = "eyJhbGciOiJub25lIn0.eyJleHAiOjE3MDAwMDAwMDB9.";
        assert!(expired(old).unwrap().starts_with("expired "), "{old}");
        assert_eq!(expired("opaque-token"), None);
    }
}
