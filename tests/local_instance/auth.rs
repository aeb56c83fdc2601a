//! Roles, rejected tokens, refresh with issued tokens, registration and
//! domain requests.

use super::*;

#[tokio::test]
async fn roles_decide_who_may_deploy_and_delete() {
    let instance = instance(Duration::from_millis(20)).await;
    let viewer = client(&instance, Role::Viewer);
    let developer = client(&instance, Role::Developer);
    let admin = client(&instance, Role::Admin);
    let owner = client(&instance, Role::Owner);

    let error = error_of(viewer.create_deployment().body(request("web")).send()).await;
    assert_eq!(error.kind(), ErrorKind::Forbidden);
    assert_eq!(error.code(), Some("auth.forbidden"));
    let error = error_of(viewer.list_deployments().send()).await;
    assert_eq!(error.kind(), ErrorKind::Forbidden);
    developer.list_deployments().send().await.unwrap();

    developer
        .create_deployment()
        .body(request("web"))
        .send()
        .await
        .unwrap();
    let id = viewer.list_services().send().await.unwrap().services[0]
        .id
        .clone();
    let error = error_of(developer.delete_service().service_id(id.as_str()).send()).await;
    assert_eq!(error.kind(), ErrorKind::Forbidden);
    let error = error_of(viewer.run_system_doctor().send()).await;
    assert_eq!(error.kind(), ErrorKind::Forbidden);
    developer.run_system_doctor().send().await.unwrap();
    admin
        .delete_service()
        .service_id(id.as_str())
        .send()
        .await
        .unwrap();
    owner.run_system_doctor().send().await.unwrap();
    assert_answers_match_spec(&instance, &[]);
}

#[tokio::test]
async fn missing_unknown_and_expired_tokens_get_401() {
    let instance = instance(Duration::from_millis(20)).await;
    let other = LocalInstance::start().await.unwrap();
    let anonymous = Client::builder(instance.url()).build().unwrap();
    let error = error_of(anonymous.list_services().send()).await;
    assert_eq!(error.kind(), ErrorKind::Unauthorized);
    assert_eq!(error.code(), Some("auth.unauthorized"));
    assert_eq!(error.message(), "Authentication required");

    for token in ["not-a-token".to_string(), other.owner_token().to_string()] {
        anonymous.tokens().set_access_token(token);
        let error = error_of(anonymous.list_services().send()).await;
        assert_eq!(error.code(), Some("auth.unauthorized"));
    }
    anonymous
        .tokens()
        .set_access_token(instance.issue_token(Role::Owner, Duration::ZERO));
    let error = error_of(anonymous.list_services().send()).await;
    assert_eq!(error.kind(), ErrorKind::Unauthorized);
    assert_eq!(error.code(), Some("auth.expired"));
    assert_answers_match_spec(&instance, &[]);
}

#[tokio::test]
async fn the_sdk_refreshes_expiring_and_refused_tokens_with_issued_ones() {
    let instance = Arc::new(instance(Duration::from_millis(20)).await);
    let refreshes = Arc::new(AtomicUsize::new(0));
    let (issuer, count) = (instance.clone(), refreshes.clone());
    let tokens = dployr::TokenManager::new().with_refresher(move |_refresh: String| {
        count.fetch_add(1, Ordering::SeqCst);
        let access = issuer.issue_token(Role::Developer, Duration::from_secs(3600));
        async move {
            Ok::<_, std::io::Error>(dployr::Tokens {
                access,
                refresh: None,
            })
        }
    });
    // Expires within the SDK's 30 s margin: refreshed before it is sent.
    tokens.set_tokens(
        instance.issue_token(Role::Developer, Duration::from_secs(5)),
        "refresh",
    );
    let client = Client::builder(instance.url())
        .token_manager(tokens.clone())
        .build()
        .unwrap();
    client
        .create_deployment()
        .body(request("web"))
        .send()
        .await
        .unwrap();
    assert_eq!(refreshes.load(Ordering::SeqCst), 1);
    assert_eq!(instance.requests_seen(), 1);

    // Looks valid to the SDK, but this instance never issued it: 401, one
    // refresh, one retry.
    let other = LocalInstance::start().await.unwrap();
    tokens.set_access_token(other.developer_token());
    client.list_deployments().send().await.unwrap();
    assert_eq!(refreshes.load(Ordering::SeqCst), 2);
    assert_eq!(instance.requests_seen(), 3);
    assert_answers_match_spec(&instance, &[]);
}

#[tokio::test]
async fn registering_needs_a_claim_but_no_token() {
    let instance = instance(Duration::from_millis(20)).await;
    let anonymous = Client::builder(instance.url()).build().unwrap();
    let claim = RegisterInstanceRequest::builder()
        .claim("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJpbnN0In0.c2ln")
        .instance_id("inst_01HXYZ")
        .issuer(Some("https://base.dployr.dev".to_string()));
    anonymous
        .register_instance()
        .body(claim)
        .send()
        .await
        .unwrap();

    let error = error_of(
        anonymous
            .raw(Method::POST, "/system/register")
            .json(&json!({"claim": "c"}))
            .send(),
    )
    .await;
    assert_eq!(status_of(&error), Some(422));
    assert_eq!(fields_of(&error), ["instance_id"]);
    let error = error_of(
        anonymous
            .raw(Method::POST, "/system/register")
            .json(&json!({"instance_id": "i", "claim": ""}))
            .send(),
    )
    .await;
    assert_eq!(fields_of(&error), ["claim"]);
    assert_answers_match_spec(&instance, &[]);
}

#[tokio::test]
async fn requesting_a_domain_needs_an_installation_token_but_no_access_token() {
    let instance = instance(Duration::from_millis(20)).await;
    let anonymous = Client::builder(instance.url()).build().unwrap();
    let expected = format!("local-{}.dployr.dev", instance.addr().port());
    for _ in 0..2 {
        let request = RequestDomainRequest::builder().token("install-token-from-base");
        let answer = anonymous
            .request_domain()
            .body(request)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.domain, expected, "the same domain each time");
    }

    for body in [json!({}), json!({"token": ""}), json!({"token": 7})] {
        let error = error_of(
            anonymous
                .raw(Method::POST, "/system/domain")
                .json(&body)
                .send(),
        )
        .await;
        assert_eq!(status_of(&error), Some(422), "{body}");
        assert_eq!(fields_of(&error), ["token"], "{body}");
    }
    assert_answers_match_spec(&instance, &[]);
}
