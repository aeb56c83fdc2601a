//! Paging of lists, and the 422/400 answers to bad input.

use super::*;

#[tokio::test]
async fn lists_page_newest_first_within_1_to_100() {
    // Deployments stay pending: only the lists matter here.
    let instance = instance(Duration::from_secs(3600)).await;
    let client = client(&instance, Role::Developer);
    for n in 0..105 {
        client
            .create_deployment()
            .body(request(&format!("app-{n}")))
            .send()
            .await
            .unwrap();
    }
    let first = client.list_deployments().send().await.unwrap();
    assert_eq!((first.deployments.len(), first.total), (20, 105));
    assert_eq!(first.deployments[0].config.name.as_deref(), Some("app-104"));
    let most = client.list_deployments().limit(100).send().await.unwrap();
    assert_eq!(most.deployments.len(), 100);
    let rest = client
        .list_deployments()
        .limit(100)
        .offset(100)
        .send()
        .await
        .unwrap();
    let names: Vec<_> = rest
        .deployments
        .iter()
        .map(|d| d.config.name.clone().unwrap())
        .collect();
    assert_eq!(names, ["app-4", "app-3", "app-2", "app-1", "app-0"]);
    let one = client
        .list_services()
        .limit(1)
        .offset(104)
        .send()
        .await
        .unwrap();
    assert_eq!((one.services.len(), one.total), (1, 105));
    assert_eq!(one.services[0].name, "app-0");

    let all: Vec<_> = client.deployments_stream(100).collect().await;
    assert_eq!(all.len(), 105);

    // The SDK refuses limit 0 before sending; the instance refuses it too.
    let seen = instance.requests_seen();
    let refused = error_of(client.list_deployments().limit(0).send()).await;
    assert_eq!(refused.kind(), ErrorKind::InvalidInput);
    assert_eq!(instance.requests_seen(), seen);
    for (path, name, value) in [
        ("/deployments", "limit", "0"),
        ("/deployments", "limit", "101"),
        ("/services", "offset", "-1"),
        ("/services", "limit", "ten"),
    ] {
        let error = error_of(client.raw(Method::GET, path).query(name, value).send()).await;
        assert_eq!(status_of(&error), Some(422), "{path}?{name}={value}");
        assert_eq!(fields_of(&error), [name]);
    }
    assert_answers_match_spec(&instance, &[]);
}

// Validation.

#[tokio::test]
async fn bad_bodies_get_422_naming_each_field_and_malformed_ones_400() {
    let instance = instance(Duration::from_millis(20)).await;
    let client = client(&instance, Role::Admin);

    let invalid = json!({
        "name": "", "source": "ftp", "runtime": {"type": "cobol"}, "port": 70000,
        "env_vars": {"PORT": 3000}
    });
    let error = error_of(
        client
            .raw(Method::POST, "/deployments")
            .json(&invalid)
            .send(),
    )
    .await;
    assert_eq!(status_of(&error), Some(422));
    assert_eq!(error.message(), "Validation failed");
    assert_eq!(
        fields_of(&error),
        [
            "name",
            "user_id",
            "source",
            "runtime.type",
            "port",
            "env_vars.PORT"
        ]
    );

    // The client's types accept runtimes a newer instance may know; this
    // instance implements the current API and refuses them.
    let newer = request("next").runtime(RuntimeObj {
        type_: Runtime::from("cobol"),
        version: None,
    });
    let error = error_of(client.create_deployment().body(newer).send()).await;
    assert_eq!(fields_of(&error), ["runtime.type"]);

    let image_less =
        json!({"name": "a", "user_id": "u", "source": "image", "runtime": {"type": "docker"}});
    let error = error_of(
        client
            .raw(Method::POST, "/deployments")
            .json(&image_less)
            .send(),
    )
    .await;
    assert_eq!(fields_of(&error), ["image"]);

    for not_an_object in [json!([1, 2]), json!("text"), json!(null)] {
        let error = error_of(
            client
                .raw(Method::POST, "/proxy/add")
                .json(&not_an_object)
                .send(),
        )
        .await;
        assert_eq!(status_of(&error), Some(400), "{not_an_object}");
        assert_eq!(error.code(), Some("request.bad_json"));
    }
    // The spec makes the install body optional: none installs the latest.
    let empty = client
        .raw(Method::POST, "/system/install")
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status.as_u16(), 200);
    // A body the spec requires is still refused when it is left out.
    let empty = error_of(client.raw(Method::POST, "/proxy/add").send()).await;
    assert_eq!(status_of(&empty), Some(400));

    // Bytes that are not JSON at all, which `raw` cannot send.
    let answer = reqwest::Client::new()
        .post(format!("{}/deployments", instance.url()))
        .bearer_auth(instance.developer_token())
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 400);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["code"], "request.bad_json");

    // Two services; PATCH the older one, "first".
    for name in ["first", "second"] {
        client
            .create_deployment()
            .body(request(name))
            .send()
            .await
            .unwrap();
    }
    let id = client.list_services().send().await.unwrap().services[1]
        .id
        .clone();
    for (body, field) in [
        (json!({"port": 0}), "port"),
        (json!({"name": ""}), "name"),
        (json!({"name": "second"}), "name"),
        (json!({"env_vars": ["A=1"]}), "env_vars"),
    ] {
        let error = error_of(
            client
                .raw(Method::PATCH, &format!("/services/{id}"))
                .json(&body)
                .send(),
        )
        .await;
        assert_eq!(status_of(&error), Some(422), "{body}");
        assert_eq!(fields_of(&error), [field], "{body}");
    }
    let error = error_of(
        client
            .raw(Method::POST, "/proxy/add")
            .json(&json!({}))
            .send(),
    )
    .await;
    assert_eq!(fields_of(&error), ["domain", "upstream"]);
    assert_answers_match_spec(&instance, &[]);
}
