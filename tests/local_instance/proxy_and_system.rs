//! Proxy routes, system operations, and every operation's answer shapes.

use super::*;

#[tokio::test]
async fn proxy_routes_are_added_removed_and_counted() {
    let instance = instance(Duration::from_millis(20)).await;
    let developer = client(&instance, Role::Developer);
    let admin = client(&instance, Role::Admin);
    let routes = || async {
        developer
            .get_system_status()
            .send()
            .await
            .unwrap()
            .proxy
            .routes
    };

    let route = || {
        ProxyRoute::builder()
            .domain("a.example.com")
            .upstream("http://127.0.0.1:3000")
    };
    let error = error_of(developer.add_proxy_route().body(route()).send()).await;
    assert_eq!(error.kind(), ErrorKind::Forbidden);
    for domain in ["a.example.com", "b.example.com", "a.example.com"] {
        let route = ProxyRoute::builder()
            .domain(domain)
            .upstream("http://127.0.0.1:3000");
        let added = admin.add_proxy_route().body(route).send().await.unwrap();
        assert_eq!(added.status().as_u16(), 201);
        assert_eq!(added.message, "Route added successfully");
    }
    assert_eq!(routes().await, 2, "a domain has one route");
    let error = error_of(developer.remove_proxy_route().send()).await;
    assert_eq!(error.kind(), ErrorKind::Forbidden);
    admin.remove_proxy_route().send().await.unwrap();
    assert_eq!(routes().await, 1);
    admin.remove_proxy_route().send().await.unwrap();
    assert_eq!(routes().await, 0);
    let error = error_of(admin.remove_proxy_route().send()).await;
    assert_eq!(error.kind(), ErrorKind::NotFound);

    assert_eq!(
        developer.get_proxy_status().send().await.unwrap().status,
        "running"
    );
    let error = error_of(developer.restart_proxy().send()).await;
    assert_eq!(error.kind(), ErrorKind::Forbidden);
    admin.restart_proxy().send().await.unwrap();
    assert_answers_match_spec(&instance, &[]);
}

#[tokio::test]
async fn system_operations_describe_this_host() {
    let instance = instance(Duration::from_millis(10)).await;
    let admin = client(&instance, Role::Admin);
    // Held until the status below has seen its service stopped.
    instance.hold_deployments();
    admin
        .create_deployment()
        .body(request("web"))
        .send()
        .await
        .unwrap();

    let info = admin.get_system_info().send().await.unwrap();
    let cpus = std::thread::available_parallelism().unwrap().get() as i64;
    assert_eq!(info.hardware.cpu_count, Some(cpus));
    assert_eq!(info.hardware.os.as_deref(), Some(std::env::consts::OS));
    assert!(info.build.version.starts_with('v'));

    let status = admin.get_system_status().send().await.unwrap();
    assert_eq!(status.status.to_string(), "healthy");
    assert!(status.uptime.ends_with('s'), "{}", status.uptime);
    assert_eq!(
        (status.services.total, status.services.stopped),
        (1, 1),
        "a new service is stopped until its deployment completes"
    );
    instance.release_deployments();
    let mut logs = admin
        .stream_logs(&admin.list_deployments().send().await.unwrap().deployments[0].id)
        .await
        .unwrap();
    while logs.next().await.is_some() {}
    let status = admin.get_system_status().send().await.unwrap();
    assert_eq!((status.services.running, status.services.stopped), (1, 0));

    let doctor = admin.run_system_doctor().send().await.unwrap();
    assert_eq!(doctor.status, KnownDoctorStatus::Ok);
    assert!(doctor.output.is_some());
    let installed = admin
        .install_system()
        .body(InstallRequest {
            version: Some("v0.2.0".into()),
        })
        .send()
        .await
        .unwrap();
    assert_eq!(installed.status, KnownDoctorStatus::Ok);
    assert!(installed.output.as_deref().unwrap().contains("v0.2.0"));
    assert_answers_match_spec(&instance, &[]);
}

/// Each operation once through `raw`, success and error, its body checked
/// against the operation's schema right here as well as in the journal.
#[tokio::test]
async fn every_operation_answers_in_the_shapes_of_the_spec() {
    let instance = instance(Duration::from_millis(10)).await;
    let owner = client(&instance, Role::Owner);
    let viewer = client(&instance, Role::Viewer);
    let deploy = json!({
        "name": "raw", "user_id": "u", "source": "image", "image": "nginx:1.27",
        "runtime": {"type": "docker"}, "port": 8080
    });
    let created = owner
        .raw(Method::POST, "/deployments")
        .json(&deploy)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status.as_u16(), 201);
    let id: String = created.json::<Value>().unwrap()["id"]
        .as_str()
        .unwrap()
        .into();
    let logs = owner
        .raw(Method::GET, "/logs/stream")
        .query("id", &id)
        .query("token", instance.developer_token())
        .send()
        .await
        .unwrap();
    assert!(std::str::from_utf8(&logs.body)
        .unwrap()
        .contains("pulling nginx:1.27"));
    let service = owner.raw(Method::GET, "/services").send().await.unwrap();
    let service_id: String = service.json::<Value>().unwrap()["services"][0]["id"]
        .as_str()
        .unwrap()
        .into();
    let item = format!("/services/{service_id}");

    let calls: Vec<(Method, &str, Option<Value>, &str)> = vec![
        (Method::GET, "/deployments", None, "listDeployments"),
        (Method::GET, "/services", None, "listServices"),
        (Method::GET, &item, None, "getService"),
        (
            Method::PUT,
            &item,
            Some(json!({"name": "raw", "port": 81})),
            "updateService",
        ),
        (
            Method::PATCH,
            &item,
            Some(json!({"branch": "dev"})),
            "patchService",
        ),
        (Method::GET, "/proxy/status", None, "getProxyStatus"),
        (Method::POST, "/proxy/restart", None, "restartProxy"),
        (
            Method::POST,
            "/proxy/add",
            Some(json!({"domain": "d", "upstream": "u"})),
            "addProxyRoute",
        ),
        (Method::DELETE, "/proxy/remove", None, "removeProxyRoute"),
        (Method::GET, "/system/status", None, "getSystemStatus"),
        (Method::GET, "/system/info", None, "getSystemInfo"),
        (Method::POST, "/system/doctor", None, "runSystemDoctor"),
        (
            Method::POST,
            "/system/install",
            Some(json!({})),
            "installSystem",
        ),
        (
            Method::POST,
            "/system/register",
            Some(json!({"claim": "c", "instance_id": "i"})),
            "registerInstance",
        ),
        (
            Method::POST,
            "/system/domain",
            Some(json!({"token": "t"})),
            "requestDomain",
        ),
        (Method::DELETE, &item, None, "deleteService"),
    ];
    for (method, path, body, operation) in calls {
        let mut call = owner.raw(method.clone(), path);
        if let Some(body) = &body {
            call = call.json(body);
        }
        let answer = call
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let content_type = answer
            .headers
            .get("content-type")
            .map(|v| v.to_str().unwrap());
        match declared_operation(operation).success_schema {
            Some(schema) => check_json(operation, &schema, content_type, &answer.body),
            None => assert!(answer.body.is_empty(), "{operation}"),
        }
    }

    // Errors: unknown path, wrong method, unknown service, forbidden.
    for (method, path) in [
        (Method::GET, "/nowhere"),
        (Method::PUT, "/deployments"),
        (Method::GET, "/services/missing"),
        (Method::GET, "/logs/stream"),
    ] {
        let error = error_of(owner.raw(method.clone(), path).send()).await;
        assert!(
            matches!(status_of(&error), Some(400 | 404 | 405)),
            "{method} {path}: {error}"
        );
    }
    let error = error_of(viewer.raw(Method::POST, "/system/doctor").send()).await;
    assert_eq!(status_of(&error), Some(403));
    assert_answers_match_spec(&instance, &[]);
}
