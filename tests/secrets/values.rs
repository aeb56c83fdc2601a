//! Values the spec marks `x-dployr-secret`: hidden from every `Debug`, every
//! error and the logs, and sent to the server exactly.

use super::*;

/// Decodes a value as `T`: its `Debug` (plain and pretty) and its
/// re-encoding.
fn shown<T: DeserializeOwned + Serialize + Debug>(
    value: &Value,
) -> Result<(String, Value), String> {
    let decoded: T = serde_json::from_value(value.clone()).map_err(|e| format!("decode: {e}"))?;
    let encoded = serde_json::to_value(&decoded).map_err(|e| format!("encode: {e}"))?;
    Ok((format!("{decoded:?}\n{decoded:#?}"), encoded))
}

/// Every component schema with its generated type, from build.rs's
/// inventory, so a secret added to any schema is checked here unasked.
macro_rules! every_type {
    ($($name:literal => $type:path),* $(,)?) => {
        const TYPES: &[(&str, fn(&Value) -> Result<(String, Value), String>)] =
            &[$(($name, shown::<$type>)),*];
    };
}

with_component_schemas!(every_type);

#[test]
fn no_generated_type_shows_a_secret_value_in_debug() {
    let mut problems = Vec::new();
    let mut checked = Vec::new();
    for (name, shown) in TYPES {
        if !holds_secret(spec::schema(name), 16) {
            continue;
        }
        let (example, planted) = plant_secrets(name);
        if planted.is_empty() {
            problems.push(format!(
                "{name}: its example holds none of its secret values; add one so their redaction is checked"
            ));
            continue;
        }
        let (debug, encoded) = match shown(&example) {
            Ok(shown) => shown,
            Err(why) => {
                problems.push(format!("{name}: {why}"));
                continue;
            }
        };
        for (place, value) in &planted {
            if debug.contains(value.as_str()) {
                problems.push(format!("{place}: its value shows in the Debug of {name}"));
            }
        }
        if !debug.contains("<redacted>") {
            problems.push(format!("{name}: its Debug does not say what was redacted"));
        }
        // Redacted for people, exact for the server.
        if encoded != example {
            problems.push(format!(
                "{name}: the secret values do not encode as they were:\n  sent {encoded}\n  want {example}"
            ));
        }
        checked.extend(planted.into_iter().map(|(place, _)| place));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The three kinds of secret the spec has today, so this cannot pass by
    // finding none.
    for expected in [
        "DeployRequest.secrets.",
        "RegisterInstanceRequest.claim",
        "RequestDomainRequest.token",
        "SecretMap.",
    ] {
        assert!(
            checked.iter().any(|place| place.starts_with(expected)),
            "no secret checked at {expected}: {checked:?}"
        );
    }
}

fn deploy_request() -> DeployRequest {
    let secrets = HashMap::from([("DB_PASSWORD".to_string(), Secret::from(DEPLOY_SECRET))]);
    DeployRequest::builder()
        .name("web")
        .user_id("user-1")
        .source(KnownSource::Image)
        .image(Some("nginx".to_string()))
        .runtime(RuntimeObj {
            type_: KnownRuntime::Docker.into(),
            version: None,
        })
        .secrets(Some(SecretMap::from(secrets)))
        .try_into()
        .expect("a complete DeployRequest")
}

fn register_request() -> RegisterInstanceRequest {
    RegisterInstanceRequest::builder()
        .claim(CLAIM)
        .instance_id("inst_01HXYZ")
        .try_into()
        .expect("a complete RegisterInstanceRequest")
}

fn domain_request() -> RequestDomainRequest {
    RequestDomainRequest::builder()
        .token(INSTALL_TOKEN)
        .try_into()
        .expect("a complete RequestDomainRequest")
}

/// Sends each request that carries a secret to a server answering
/// `status`: what the server received, and the error each call ended with.
async fn send_secrets(status: u16, body: &str) -> (Vec<Value>, Vec<(&'static str, Error)>) {
    let mut received = Vec::new();
    let mut errors = Vec::new();
    for what in ["createDeployment", "registerInstance", "requestDomain"] {
        let server = ScriptedServer::start(vec![vec![json(status, body)]]).await;
        let client = client(&server.url, tokens(true));
        let result = match what {
            "createDeployment" => client
                .create_deployment()
                .body(deploy_request())
                .send()
                .await
                .map(|_| ()),
            "registerInstance" => client
                .register_instance()
                .body(register_request())
                .send()
                .await
                .map(|_| ()),
            _ => client
                .request_domain()
                .body(domain_request())
                .send()
                .await
                .map(|_| ()),
        };
        if let Err(e) = result {
            errors.push((what, e));
        }
        let seen = server.requests();
        let body = &seen.first().expect("the request reached the server").body;
        received.push(serde_json::from_slice(body).expect("a JSON body"));
    }
    (received, errors)
}

#[tokio::test]
async fn secret_values_reach_the_server_exactly_and_nothing_else() {
    capture_everything();

    let (received, errors) = bounded(send_secrets(200, r#"{"domain":"a.dployr.dev","success":true,"id":"d1","name":"web","created_at":"2024-01-01T12:00:00Z"}"#)).await;
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(received[0]["secrets"]["DB_PASSWORD"], DEPLOY_SECRET);
    assert_eq!(received[1]["claim"], CLAIM);
    assert_eq!(received[2]["token"], INSTALL_TOKEN);

    // Refused by the server, and by nobody at all.
    let (_, refused) = bounded(send_secrets(
        422,
        r#"{"error":"Validation failed","details":[{"field":"token","message":"is not valid"}]}"#,
    ))
    .await;
    assert_eq!(refused.len(), 3, "every call failed");
    let mut errors = refused;
    let nobody = closed_port_url();
    let client = client(&nobody, tokens(true));
    let e = bounded(client.request_domain().body(domain_request()).send())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connect, "{e}");
    errors.push(("requestDomain to nobody", e));

    // Refused before sending: the secret is there, another field is not.
    let incomplete = RegisterInstanceRequest::builder()
        .claim(CLAIM)
        .instance_id("");
    let e = client
        .register_instance()
        .body(incomplete)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    errors.push(("registerInstance without an instance id", e));
    let e = client
        .request_domain()
        .body(RequestDomainRequest::builder().token(""))
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    assert!(e.to_string().contains("token"), "{e}");
    errors.push(("requestDomain with an empty token", e));

    for (what, e) in &errors {
        assert_no_secret(what, &every_rendering(e));
    }
    // What a caller might log before sending: the bodies and the builders.
    let builders = format!(
        "{:?}\n{:#?}\n{:?}\n{:?}\n{:?}",
        deploy_request(),
        register_request(),
        client.create_deployment().body(deploy_request()),
        client.register_instance().body(register_request()),
        client
            .request_domain()
            .body(RequestDomainRequest::builder().token(INSTALL_TOKEN)),
    );
    assert_no_secret("the requests' and builders' Debug", &builders);
    assert!(builders.contains("<redacted>"), "{builders}");
    assert_no_secret("the captured logs", &captured());
}
