//! Bearer injection and token refresh, against a real local HTTP server.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use httpmock::prelude::*;
use serde_json::json;

use dployr::mock::MockServerExt;
use dployr::{ErrorKind, TokenManager, Tokens};

const SERVICES: &str = r#"{"services": [], "total": 0}"#;

/// `SERVICES` as the type the typed mocks answer with.
fn no_services() -> dployr::types::ServiceList {
    serde_json::from_str(SERVICES).unwrap()
}

/// A JWT-shaped token (unsigned: only `exp` matters to the client).
fn jwt(name: &str, expires_in_secs: i64) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let b64 = |s: String| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    format!(
        "{}.{}.signature",
        b64(r#"{"alg":"HS256","typ":"JWT"}"#.to_string()),
        b64(json!({"sub": name, "exp": now + expires_in_secs}).to_string())
    )
}

/// A refresher that counts its calls and hands out `fresh`.
fn counting_refresher(fresh: String) -> (TokenManager, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let tokens = TokenManager::new().with_refresher(move |refresh: String| {
        let fresh = fresh.clone();
        let counter = counter.clone();
        async move {
            assert_eq!(refresh, "refresh-1");
            counter.fetch_add(1, Ordering::SeqCst);
            // Long enough that concurrent requests pile up behind it.
            tokio::time::sleep(Duration::from_millis(50)).await;
            Ok::<_, std::io::Error>(Tokens {
                access: fresh,
                refresh: Some("refresh-2".into()),
            })
        }
    });
    (tokens, calls)
}

fn client_with(server: &MockServer, tokens: &TokenManager) -> dployr::Client {
    dployr::Client::builder(server.base_url())
        .token_manager(tokens.clone())
        .retry(dployr::RetryConfig::disabled())
        .build()
        .unwrap()
}

#[tokio::test]
async fn every_protected_call_carries_the_current_token() {
    let server = MockServer::start_async().await;
    let mock = server.list_services(|when, then| {
        when.bearer_token("access-1");
        then.success(200, &no_services());
    });
    let (client, tokens) = dployr::create_dployr_client(&server.base_url()).unwrap();
    tokens.set_tokens("access-1", "refresh-1");
    client.list_services().send().await.unwrap();
    assert_eq!(mock.calls_async().await, 1);
}

#[tokio::test]
async fn register_instance_never_carries_a_token() {
    let server = MockServer::start_async().await;
    let mock = server.register_instance(|when, then| {
        when.no_token();
        then.success(200);
    });
    let (client, tokens) = dployr::create_dployr_client(&server.base_url()).unwrap();
    tokens.set_tokens("access-1", "refresh-1");
    client
        .register_instance()
        .body(dployr::types::RegisterInstanceRequest {
            claim: "signed-claim".try_into().unwrap(),
            instance_id: "inst_01HXYZ".try_into().unwrap(),
            issuer: None,
            audience: None,
        })
        .send()
        .await
        .unwrap();
    assert_eq!(mock.calls_async().await, 1);
}

#[tokio::test]
async fn without_a_token_no_header_is_sent_and_401_is_unauthorized() {
    let server = MockServer::start_async().await;
    let mock = server.list_services(|when, then| {
        when.no_token();
        then.unauthorized(
            &dployr::types::Error {
                error: "Authentication required".into(),
                code: Some("auth.unauthorized".into()),
                details: Default::default(),
            }
            .into(),
        );
    });
    let (client, _tokens) = dployr::create_dployr_client(&server.base_url()).unwrap();
    let err = client.list_services().send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    assert_eq!(err.code(), Some("auth.unauthorized"));
    assert_eq!(mock.calls_async().await, 1);
}

#[tokio::test]
async fn a_token_set_on_one_clone_reaches_the_next_request_of_another() {
    let server = MockServer::start_async().await;
    let old = server.list_services(|when, then| {
        when.bearer_token("old");
        then.success(200, &no_services());
    });
    let new = server.list_services(|when, then| {
        when.bearer_token("new");
        then.success(200, &no_services());
    });
    let (client, tokens) = dployr::create_dployr_client(&server.base_url()).unwrap();
    tokens.set_access_token("old");
    let other_client = client.clone();
    client.list_services().send().await.unwrap();
    // Swapped from a different task and a clone of the manager.
    let manager = tokens.clone();
    tokio::spawn(async move { manager.set_access_token("new") })
        .await
        .unwrap();
    other_client.list_services().send().await.unwrap();
    assert_eq!(old.calls_async().await, 1);
    assert_eq!(new.calls_async().await, 1);
}

#[tokio::test]
async fn an_expiring_jwt_is_refreshed_before_the_request() {
    let server = MockServer::start_async().await;
    let expiring = jwt("old", 5);
    let fresh = jwt("new", 3600);
    let stale = server
        .mock_async(|when, then| {
            when.path("/services")
                .header("authorization", format!("Bearer {expiring}"));
            then.status(200).body(SERVICES);
        })
        .await;
    let good = server
        .mock_async(|when, then| {
            when.path("/services")
                .header("authorization", format!("Bearer {fresh}"));
            then.status(200).body(SERVICES);
        })
        .await;
    let (tokens, calls) = counting_refresher(fresh.clone());
    tokens.set_tokens(expiring, "refresh-1");
    let client = client_with(&server, &tokens);
    client.list_services().send().await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(
        (stale.calls_async().await, good.calls_async().await),
        (0, 1)
    );
    assert_eq!(tokens.refresh_token().as_deref(), Some("refresh-2"));
}

#[tokio::test]
async fn a_401_refreshes_once_and_retries_with_the_new_token() {
    let server = MockServer::start_async().await;
    let refused = server
        .mock_async(|when, then| {
            when.path("/services")
                .header("authorization", "Bearer revoked");
            then.status(401)
                .json_body(json!({"error": "Token expired", "code": "auth.expired"}));
        })
        .await;
    let accepted = server
        .mock_async(|when, then| {
            when.path("/services")
                .header("authorization", "Bearer renewed");
            then.status(200).body(SERVICES);
        })
        .await;
    let (tokens, calls) = counting_refresher("renewed".into());
    tokens.set_tokens("revoked", "refresh-1");
    let client = client_with(&server, &tokens);
    client.list_services().send().await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(
        (refused.calls_async().await, accepted.calls_async().await),
        (1, 1)
    );
}

#[tokio::test]
async fn a_second_401_is_returned_without_looping() {
    let server = MockServer::start_async().await;
    let refused = server
        .mock_async(|when, then| {
            when.path("/services");
            then.status(401)
                .json_body(json!({"error": "Nope", "code": "auth.unauthorized"}));
        })
        .await;
    let (tokens, calls) = counting_refresher("also-refused".into());
    tokens.set_tokens("revoked", "refresh-1");
    let client = client_with(&server, &tokens);
    let err = client.list_services().send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(refused.calls_async().await, 2);
}

#[tokio::test]
async fn concurrent_requests_share_one_refresh() {
    let server = MockServer::start_async().await;
    let fresh = jwt("new", 3600);
    let good = server
        .mock_async(|when, then| {
            when.path("/services")
                .header("authorization", format!("Bearer {fresh}"));
            then.status(200).body(SERVICES);
        })
        .await;
    let (tokens, calls) = counting_refresher(fresh.clone());
    tokens.set_tokens(jwt("old", -10), "refresh-1");
    let client = client_with(&server, &tokens);
    let requests = (0..100).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { client.list_services().send().await.map(|_| ()) })
    });
    for outcome in futures::future::join_all(requests).await {
        outcome.unwrap().unwrap();
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(good.calls_async().await, 100);
}

#[tokio::test]
async fn a_failing_refresher_is_an_auth_error_with_its_source() {
    let server = MockServer::start_async().await;
    let refused = server
        .mock_async(|when, then| {
            when.path("/services");
            then.status(401)
                .json_body(json!({"error": "Token expired"}));
        })
        .await;
    let tokens = TokenManager::new().with_refresher(|_refresh: String| async {
        Err::<Tokens, _>(std::io::Error::other("base is unreachable"))
    });
    let client = client_with(&server, &tokens);

    // Proactive: the JWT is expiring, the refresher fails before sending.
    tokens.set_tokens(jwt("old", 1), "refresh-1");
    let err = client.list_services().send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    let source = std::error::Error::source(&err).expect("the refresher's error");
    assert!(source.to_string().contains("base is unreachable"));
    assert_eq!(refused.calls_async().await, 0);

    // Reactive: an opaque token is refused, the refresher fails.
    tokens.set_tokens("opaque", "refresh-1");
    let err = client.list_services().send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert!(std::error::Error::source(&err).is_some());
    assert_eq!(refused.calls_async().await, 1);
}

#[tokio::test]
async fn without_a_refresher_the_401_surfaces() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.path("/services");
            then.status(401)
                .json_body(json!({"error": "Token expired"}));
        })
        .await;
    let (client, tokens) = dployr::create_dployr_client(&server.base_url()).unwrap();
    tokens.set_tokens(jwt("old", -100), "refresh-1");
    let err = client.list_services().send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
}

#[tokio::test]
async fn no_debug_or_error_output_contains_a_token() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.path("/services");
            then.status(401)
                .json_body(json!({"error": "Token expired"}));
        })
        .await;
    let access = "access-SECRET-4d9f";
    let refresh = "refresh-SECRET-8a1c";
    let tokens = TokenManager::new().with_refresher(|_refresh: String| async {
        Err::<Tokens, _>(std::io::Error::other("refresh refused"))
    });
    tokens.set_tokens(access, refresh);
    let client = client_with(&server, &tokens);
    let err = client.list_services().send().await.unwrap_err();
    let stream_err = client.stream_logs("missing").await.unwrap_err();
    let shown = format!(
        "{client:?} {tokens:?} {err} {err:?} {stream_err} {stream_err:?} {:?}",
        Tokens {
            access: access.into(),
            refresh: Some(refresh.into())
        }
    );
    assert!(!shown.contains("SECRET"), "{shown}");
}

/// A retry sent after a wait reads the token again: a JWT that came within
/// the refresh margin while the call waited out a 503 is refreshed before
/// the retry, which carries the new token. The instance sees two requests
/// (the first and the retry), not a third one refused with the old token.
#[tokio::test]
async fn a_jwt_that_nears_its_expiry_during_a_retry_wait_is_refreshed_before_the_retry() {
    let server = MockServer::start_async().await;
    // With a 115 s margin: outside it when first sent (`exp` is whole
    // seconds, so 119 to 120 s away when made, and the first request has
    // four seconds to go out however busy the machine), inside it once the
    // 5 s Retry-After has passed.
    let stale = jwt("stale", 120);
    let fresh = jwt("fresh", 3600);
    let busy = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/services")
                .header("authorization", format!("Bearer {stale}"));
            then.status(503).header("retry-after", "5");
        })
        .await;
    let served = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/services")
                .header("authorization", format!("Bearer {fresh}"));
            then.status(200).body(SERVICES);
        })
        .await;
    let (tokens, refreshes) = counting_refresher(fresh.clone());
    let tokens = tokens.with_refresh_margin(Duration::from_secs(115));
    tokens.set_tokens(stale.as_str(), "refresh-1");
    let client = dployr::Client::builder(server.base_url())
        .token_manager(tokens.clone())
        .retry(dployr::RetryConfig::default().max_retries(1).jitter(false))
        .build()
        .unwrap();

    client.list_services().send().await.unwrap();

    assert_eq!(busy.calls_async().await, 1);
    assert_eq!(served.calls_async().await, 1);
    assert_eq!(refreshes.load(Ordering::SeqCst), 1);
    assert_eq!(tokens.access_token(), Some(fresh));
}
